/*
 * fuzz_sip_msg.c: one SIP message: recognition (sl_sip_look, and
 * sl_sip_bad_start for what it does not take), the libosip2 parse with field
 * extraction (sl_msg_parse) and, when it parses, the checks libosip2 does not
 * make (sl_msg_lint).
 */
#include <stddef.h>
#include <stdint.h>

#include "sip/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_msg m;
    struct sl_err err;
    struct sl_msg_issue is[4];
    char why[256];

    if (sl_sip_look(data, size) == SL_LOOK_NOT_SIP)
        (void)sl_sip_bad_start(data, size, why, sizeof(why));
    if (sl_msg_parse(&m, data, size, SL_MSG_MAX_LEN_DEFAULT, &err) == SL_OK)
        (void)sl_msg_lint(&m, data, size, is, 4);
    sl_msg_fini(&m);
    return 0;
}
