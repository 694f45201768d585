/*
 * rd.h: the bounds-checked reader.  Every byte of a packet is read through it
 * (STYLE.md 5.3, after tcpdump's GET_* macros and BoringSSL's CBS).
 *
 * A reader is a window over bytes it does not own.  sl_rd_take() is the only
 * function that advances it; every other read calls it.  A read past the end
 * returns 0 / NULL and sets the sticky `bad` flag, so a decoder reads a whole
 * header and checks `bad` once.  Lengths from the wire become sub-readers that
 * can never see past their declared length.  Lengths are compared, pointers
 * never are.
 */
#ifndef SL_BASE_RD_H
#define SL_BASE_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_rd {
    const uint8_t *p; /* next unread byte */
    size_t n;         /* bytes left */
    bool bad;         /* sticky: some read ran past the end */
};

static inline struct sl_rd sl_rd_init(const void *p, size_t n)
{
    struct sl_rd r;

    r.p = (const uint8_t *)p;
    r.n = p != NULL ? n : 0;
    r.bad = false;
    return r;
}

/* The only function that moves r->p.  NULL (and r->bad) if fewer than len
 * bytes remain; len 0 always succeeds on a good reader. */
static inline const uint8_t *sl_rd_take(struct sl_rd *r, size_t len)
{
    const uint8_t *q;

    if (r->bad || len > r->n) {
        r->bad = true;
        return NULL;
    }
    q = r->p;
    if (len > 0) {
        r->p += len;
        r->n -= len;
    }
    return q;
}

static inline bool sl_rd_skip(struct sl_rd *r, size_t len)
{
    (void)sl_rd_take(r, len);
    return !r->bad;
}

static inline uint8_t sl_rd_u8(struct sl_rd *r)
{
    const uint8_t *q = sl_rd_take(r, 1);
    return q != NULL ? q[0] : 0;
}

static inline uint16_t sl_rd_be16(struct sl_rd *r)
{
    const uint8_t *q = sl_rd_take(r, 2);
    return q != NULL ? (uint16_t)((unsigned)q[0] << 8 | q[1]) : 0;
}

static inline uint16_t sl_rd_le16(struct sl_rd *r)
{
    const uint8_t *q = sl_rd_take(r, 2);
    return q != NULL ? (uint16_t)((unsigned)q[1] << 8 | q[0]) : 0;
}

static inline uint32_t sl_rd_be32(struct sl_rd *r)
{
    const uint8_t *q = sl_rd_take(r, 4);
    return q != NULL ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3] : 0;
}

static inline uint32_t sl_rd_le32(struct sl_rd *r)
{
    const uint8_t *q = sl_rd_take(r, 4);
    return q != NULL ? (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0] : 0;
}

static inline uint64_t sl_rd_be64(struct sl_rd *r)
{
    const uint8_t *q = sl_rd_take(r, 8);
    uint64_t v = 0;
    int i;

    if (q == NULL)
        return 0;
    for (i = 0; i < 8; i++)
        v = v << 8 | q[i];
    return v;
}

/* Copies len bytes into dst; false (dst untouched) if they are not there. */
static inline bool sl_rd_copy(struct sl_rd *r, void *dst, size_t len)
{
    const uint8_t *q = sl_rd_take(r, len);
    size_t i;

    if (r->bad)
        return false;
    for (i = 0; i < len; i++)
        ((uint8_t *)dst)[i] = q[i];
    return true;
}

/* Carves the next len bytes off as their own reader (an IP payload of ip_len
 * bytes, a HEP chunk).  Fails (sub empty, r bad) if they are not all there. */
static inline bool sl_rd_sub(struct sl_rd *r, size_t len, struct sl_rd *sub)
{
    const uint8_t *q = sl_rd_take(r, len);
    bool ok = !r->bad;

    *sub = sl_rd_init(q, ok ? len : 0);
    sub->bad = !ok;
    return ok;
}

/* Like sl_rd_sub, for lengths where a short capture is normal (snaplen): takes
 * min(len, what is left).  Returns true when all len bytes were there, false
 * when the result was clamped (truncated); r stays good either way. */
static inline bool sl_rd_sub_upto(struct sl_rd *r, size_t len, struct sl_rd *sub)
{
    size_t have = len <= r->n ? len : r->n;
    const uint8_t *q;

    if (r->bad) {
        *sub = sl_rd_init(NULL, 0);
        sub->bad = true;
        return false;
    }
    q = sl_rd_take(r, have);
    *sub = sl_rd_init(q, have);
    return have == len;
}

/* The rest of the reader as a sub-reader (r becomes empty). */
static inline struct sl_rd sl_rd_rest(struct sl_rd *r)
{
    struct sl_rd sub;

    if (!sl_rd_sub(r, r->n, &sub))
        sub.bad = true;
    return sub;
}

#endif /* SL_BASE_RD_H */
