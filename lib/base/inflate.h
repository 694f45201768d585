/*
 * inflate.h: a small, strict DEFLATE decoder (RFC 1951) with the zlib
 * (RFC 1950) and gzip (RFC 1952) wrappers, for compressed HEP payloads
 * (RULES.md C.2, chunk 0x0010).  One call decodes a whole stream held in
 * memory into a caller's buffer; the output never grows past that buffer's
 * size (the cap), every input byte is read within bounds, and nothing is
 * allocated.  No preset dictionary (zlib FDICT) is supported.
 */
#ifndef SL_BASE_INFLATE_H
#define SL_BASE_INFLATE_H

#include <stddef.h>
#include <stdint.h>

/* Results (0 or negative). */
#define SL_INFLATE_OK 0
#define SL_INFLATE_BAD_HEADER \
    (-1) /* the zlib or gzip header is wrong (method, window, check,
                                       FDICT, reserved flags), or neither wrapper is there */
#define SL_INFLATE_BAD_BLOCK \
    (-2)                          /* block type 3, stored LEN/NLEN mismatch, bad code lengths,
                                       a code not in the table, a distance before the output */
#define SL_INFLATE_OVER_CAP  (-3) /* the output would exceed the caller's buffer */
#define SL_INFLATE_TRUNCATED (-4) /* the input ends before the last block or the trailer */
#define SL_INFLATE_BAD_CHECK (-5) /* Adler-32 (zlib), CRC-32 or ISIZE (gzip) does not match */

/* The wrapper around the deflate data. */
enum sl_inflate_wrap {
    SL_INFLATE_RAW = 0,  /* bare RFC 1951 blocks */
    SL_INFLATE_ZLIB = 1, /* RFC 1950 */
    SL_INFLATE_GZIP = 2, /* RFC 1952 (one member) */
    SL_INFLATE_AUTO = 3  /* zlib or gzip, told apart by the first bytes */
};

struct sl_inflate_res {
    size_t out_len; /* bytes written to out (on error: those decoded before it) */
    size_t in_used; /* input bytes consumed; on error, where it was found */
};

/* Decodes in[0, n) into out[0, cap).  Returns SL_INFLATE_OK or an error
 * above; res (may be NULL) says how far it got.  Bytes after the end of the
 * stream (after the trailer) are ignored. */
int sl_inflate(const uint8_t *in, size_t n, enum sl_inflate_wrap wrap, uint8_t *out, size_t cap,
               struct sl_inflate_res *res);

/* A short text for a result: "bad header", ... ; never NULL. */
const char *sl_inflate_strerror(int rc);

/* Adler-32 (RFC 1950 8.2) and CRC-32 (RFC 1952 8) of p[0, n), continuing
 * from `start` (1 and 0 to begin). */
uint32_t sl_adler32(uint32_t start, const uint8_t *p, size_t n);
uint32_t sl_crc32(uint32_t start, const uint8_t *p, size_t n);

#endif /* SL_BASE_INFLATE_H */
