/*
 * fuzz_sip_msg.c: one SIP message: recognition (sl_sip_look) and the
 * libosip2 parse with field extraction (sl_msg_parse).
 */
#include <stddef.h>
#include <stdint.h>

#include "sip/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_msg m;
    struct sl_err err;

    (void)sl_sip_look(data, size);
    (void)sl_msg_parse(&m, data, size, SL_MSG_MAX_LEN_DEFAULT, &err);
    sl_msg_fini(&m);
    return 0;
}
