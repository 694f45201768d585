/*
 * fuzz_inflate.c: the DEFLATE decoder (lib/base/inflate.c).  Byte 0 picks
 * the wrapper (bits 0-1: raw, zlib, gzip, auto) and the output cap (bits
 * 2-7: 0..63 KiB, plus 1); the rest is the compressed stream.  Traps when a
 * result is not one of the documented codes or the counts run past the
 * buffers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/inflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink_sum;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_inflate_res res;
    uint8_t *out;
    size_t cap, i;
    unsigned s = 0;
    int rc;

    if (size < 1)
        return 0;
    cap = ((size_t)(data[0] >> 2) << 10) + 1;
    out = malloc(cap);
    if (out == NULL)
        return 0;
    rc = sl_inflate(data + 1, size - 1, (enum sl_inflate_wrap)(data[0] & 3), out, cap, &res);
    if (rc > SL_INFLATE_OK || rc < SL_INFLATE_BAD_CHECK || res.out_len > cap ||
        res.in_used > size - 1)
        __builtin_trap();
    for (i = 0; i < res.out_len; i++)
        s += out[i];
    sink_sum += s + (unsigned)sl_inflate_strerror(rc)[0];
    free(out);
    return 0;
}
