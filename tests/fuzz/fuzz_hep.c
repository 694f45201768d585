/*
 * fuzz_hep.c: HEP v1/v2/v3 decapsulation (lib/capture/hep.c): sl_hep_detect
 * and sl_hep_decode on the input as a UDP payload, whole and marked cut, with
 * a stream queue (a compressed payload is inflated and queued there: every
 * byte of the message read back).
 * The version check holds only for what sl_hep_detect accepts (the caller's
 * contract, decode.c); the rest is decoded too, for memory safety.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture/capture.h"
#include "capture/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink_sum;

static void decode(const uint8_t *data, size_t size, bool cut, bool detected, struct sl_tcp *t)
{
    struct sl_stream_msg m;
    struct sl_frame f;
    unsigned s = 0;
    size_t i;

    memset(&f, 0, sizeof(f));
    sl_hep_clear(&f);
    f.tcp = t;
    sl_hep_decode(data, size, cut, &f);
    while (t != NULL && sl_tcp_message(t, &m) == 1) {
        if (f.kind != SL_FRAME_STREAM || m.len > SL_HEP_MAX_INFLATED)
            __builtin_trap(); /* only an inflated payload is queued, within the cap */
        for (i = 0; i < m.len; i++)
            s += m.data[i];
        for (i = 0; i < m.hep_correlation_len; i++)
            s += m.hep_correlation[i];
    }
    if (f.kind == SL_FRAME_DATAGRAM) {
        if (f.payload_len > 0 && (f.payload < data || f.payload + f.payload_len > data + size))
            __builtin_trap(); /* the payload is borrowed from the input */
        for (i = 0; i < f.payload_len; i++)
            s += f.payload[i];
        if (detected && f.hep_version != 2 && f.hep_version != 3 && f.hep_version != 1)
            __builtin_trap();
    }
    if (f.hep_correlation != NULL)
        for (i = 0; i < f.hep_correlation_len; i++)
            s += f.hep_correlation[i];
    if (f.reason != NULL)
        s += (unsigned)strlen(f.reason);
    s += (unsigned)strnlen(f.detail, sizeof(f.detail));
    sink_sum += s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool detected = sl_hep_detect(data, size);
    struct sl_tcp *t = NULL;

    if (sl_tcp_new(&t, NULL) != SL_OK)
        return 0;
    /* decode.c decodes only what sl_hep_detect accepts; anything else must
     * still be read within bounds */
    decode(data, size, false, detected, t);
    decode(data, size, true, detected, NULL);
    sl_tcp_free(t);
    return 0;
}
