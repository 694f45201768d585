/*
 * inflate.c: DEFLATE decoding (RFC 1951) inside the zlib (RFC 1950) or gzip
 * (RFC 1952) wrapper, written from the RFCs.
 *
 * The input is read through a bit reader that checks every byte against the
 * input length (RFC 1951 3.1.1: data elements are packed starting with the
 * least significant bit of a byte; Huffman codes starting with their most
 * significant bit).  Huffman codes are canonical (3.2.2): a table holds how
 * many codes each length has and the symbols in code order, and a code is
 * decoded one bit at a time by comparing it with the first code of its
 * length.  Every length, distance and symbol from the input is checked before
 * use; the output stops at the caller's cap; nothing is allocated.
 */
#include "base/inflate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MAX_BITS    15  /* longest Huffman code (RFC 1951 3.2.2) */
#define MAX_LITLEN  288 /* literal/length symbols, 286 and 287 never valid */
#define MAX_DIST    32  /* distance symbols, 30 and 31 never valid */
#define MAX_CODELEN 19  /* code length alphabet (3.2.7) */

/* ---- bits --------------------------------------------------------------- */

struct bits {
    const uint8_t *p;
    size_t n;      /* input bytes */
    size_t pos;    /* next byte to load into acc */
    uint32_t acc;  /* loaded bits not used yet, the next one lowest */
    unsigned nacc; /* how many */
};

/* The next k (0..16) bits as a number, the first one lowest (3.1.1). */
static int get_bits(struct bits *b, unsigned k, unsigned *v)
{
    while (b->nacc < k) {
        if (b->pos >= b->n)
            return SL_INFLATE_TRUNCATED;
        b->acc |= (uint32_t)b->p[b->pos++] << b->nacc;
        b->nacc += 8;
    }
    *v = (unsigned)(b->acc & ((1u << k) - 1u));
    b->acc = k < 32 ? b->acc >> k : 0;
    b->nacc -= k;
    return SL_INFLATE_OK;
}

/* Drops the bits left in the current byte; whole bytes loaded ahead go back
 * to the input (3.2.4: a stored block starts on a byte boundary). */
static void align(struct bits *b)
{
    b->pos -= b->nacc / 8;
    b->acc = 0;
    b->nacc = 0;
}

/* ---- Huffman codes ------------------------------------------------------- */

struct huff {
    uint16_t count[MAX_BITS + 1]; /* codes of each length (count[0] unused) */
    uint16_t sym[MAX_LITLEN];     /* symbols in code order: by length, then by value */
};

/*
 * Builds the canonical code of n symbols from their code lengths (0: not
 * used).  An over-subscribed set of lengths (more codes than the lengths can
 * give) is a bad block; an incomplete one is kept, and a code outside it is
 * reported when it is met.
 */
static int build(struct huff *h, const uint8_t *len, unsigned n)
{
    uint16_t next[MAX_BITS + 2];
    unsigned s, l;
    long left = 1;

    memset(h->count, 0, sizeof(h->count));
    for (s = 0; s < n; s++) {
        if (len[s] > MAX_BITS)
            return SL_INFLATE_BAD_BLOCK;
        h->count[len[s]]++;
    }
    for (l = 1; l <= MAX_BITS; l++) {
        left = left * 2 - h->count[l];
        if (left < 0)
            return SL_INFLATE_BAD_BLOCK;
    }
    next[1] = 0;
    for (l = 1; l <= MAX_BITS; l++)
        next[l + 1] = (uint16_t)(next[l] + h->count[l]);
    for (s = 0; s < n; s++) {
        if (len[s] != 0)
            h->sym[next[len[s]]++] = (uint16_t)s;
    }
    return SL_INFLATE_OK;
}

/*
 * Reads one code: its bits come most significant first, so after l bits the
 * code read is compared with the first code of length l (the first code of
 * each length follows the last of the shorter ones, doubled: 3.2.2).
 */
static int decode(struct bits *b, const struct huff *h, unsigned *sym)
{
    uint32_t code = 0, first = 0;
    unsigned l, index = 0;

    for (l = 1; l <= MAX_BITS; l++) {
        unsigned bit;
        int rc = get_bits(b, 1, &bit);

        if (rc != SL_INFLATE_OK)
            return rc;
        code = code << 1 | bit;
        if (code - first < h->count[l]) {
            *sym = h->sym[index + (code - first)];
            return SL_INFLATE_OK;
        }
        index += h->count[l];
        first = (first + h->count[l]) << 1;
    }
    return SL_INFLATE_BAD_BLOCK; /* a code the table does not have */
}

/* ---- blocks -------------------------------------------------------------- */

/* Lengths 3..258 (codes 257..285) and distances 1..32768 (codes 0..29):
 * base values and extra bits (3.2.5). */
static const uint16_t len_base[29] = { 3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                       15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                       67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                       2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = { 1,    2,    3,    4,     5,     7,    9,    13,
                                        17,   25,   33,   49,    65,    97,   129,  193,
                                        257,  385,  513,  769,   1025,  1537, 2049, 3073,
                                        4097, 6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                        6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

struct out {
    uint8_t *p;
    size_t n, cap;
};

/* A block compressed with the codes lit and dist, up to its end-of-block
 * symbol (3.2.5). */
static int codes(struct bits *b, struct out *o, const struct huff *lit, const struct huff *dist)
{
    for (;;) {
        unsigned sym, extra, len, d;
        size_t i;
        int rc = decode(b, lit, &sym);

        if (rc != SL_INFLATE_OK)
            return rc;
        if (sym < 256) {
            if (o->n >= o->cap)
                return SL_INFLATE_OVER_CAP;
            o->p[o->n++] = (uint8_t)sym;
            continue;
        }
        if (sym == 256)
            return SL_INFLATE_OK;
        sym -= 257;
        if (sym >= 29)
            return SL_INFLATE_BAD_BLOCK; /* 286, 287 */
        if ((rc = get_bits(b, len_extra[sym], &extra)) != SL_INFLATE_OK)
            return rc;
        len = len_base[sym] + extra;
        if ((rc = decode(b, dist, &sym)) != SL_INFLATE_OK)
            return rc;
        if (sym >= 30)
            return SL_INFLATE_BAD_BLOCK; /* 30, 31 */
        if ((rc = get_bits(b, dist_extra[sym], &extra)) != SL_INFLATE_OK)
            return rc;
        d = dist_base[sym] + extra;
        if (d > o->n)
            return SL_INFLATE_BAD_BLOCK; /* before the start of the output */
        if (len > o->cap - o->n)
            return SL_INFLATE_OVER_CAP;
        for (i = 0; i < len; i++) { /* byte by byte: the copy may overlap itself */
            o->p[o->n] = o->p[o->n - d];
            o->n++;
        }
    }
}

/* A stored block (3.2.4): LEN, its one's complement NLEN, LEN bytes. */
static int stored(struct bits *b, struct out *o)
{
    unsigned len, nlen;

    align(b);
    if (b->n - b->pos < 4)
        return SL_INFLATE_TRUNCATED;
    len = (unsigned)b->p[b->pos] | (unsigned)b->p[b->pos + 1] << 8;
    nlen = (unsigned)b->p[b->pos + 2] | (unsigned)b->p[b->pos + 3] << 8;
    if (len != (~nlen & 0xffffu))
        return SL_INFLATE_BAD_BLOCK;
    b->pos += 4;
    if (b->n - b->pos < len)
        return SL_INFLATE_TRUNCATED;
    if (len > o->cap - o->n)
        return SL_INFLATE_OVER_CAP;
    if (len > 0)
        memcpy(o->p + o->n, b->p + b->pos, len);
    b->pos += len;
    o->n += len;
    return SL_INFLATE_OK;
}

/* A block with the fixed codes (3.2.6). */
static int fixed(struct bits *b, struct out *o)
{
    uint8_t len[MAX_LITLEN];
    struct huff lit, dist;
    unsigned s;

    for (s = 0; s < MAX_LITLEN; s++)
        len[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    (void)build(&lit, len, MAX_LITLEN);
    for (s = 0; s < MAX_DIST; s++)
        len[s] = 5;
    (void)build(&dist, len, MAX_DIST);
    return codes(b, o, &lit, &dist);
}

/* A block with dynamic codes (3.2.7): the code lengths of both codes, packed
 * with the code length code, itself given by 3-bit lengths. */
static int dynamic(struct bits *b, struct out *o)
{
    static const uint8_t order[MAX_CODELEN] = { 16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                11, 4,  12, 3, 13, 2, 14, 1, 15 };
    uint8_t len[MAX_LITLEN + MAX_DIST];
    struct huff lit, dist, cl;
    unsigned hlit, hdist, hclen, i, v;
    int rc;

    if ((rc = get_bits(b, 5, &hlit)) != SL_INFLATE_OK ||
        (rc = get_bits(b, 5, &hdist)) != SL_INFLATE_OK ||
        (rc = get_bits(b, 4, &hclen)) != SL_INFLATE_OK)
        return rc;
    hlit += 257;
    hdist += 1;
    hclen += 4;
    if (hlit > 286 || hdist > 30)
        return SL_INFLATE_BAD_BLOCK;
    memset(len, 0, sizeof(len));
    for (i = 0; i < hclen; i++) {
        if ((rc = get_bits(b, 3, &v)) != SL_INFLATE_OK)
            return rc;
        len[order[i]] = (uint8_t)v;
    }
    if ((rc = build(&cl, len, MAX_CODELEN)) != SL_INFLATE_OK)
        return rc;
    memset(len, 0, sizeof(len));
    for (i = 0; i < hlit + hdist;) {
        unsigned sym, repeat, extra;
        uint8_t value = 0;

        if ((rc = decode(b, &cl, &sym)) != SL_INFLATE_OK)
            return rc;
        if (sym < 16) {
            len[i++] = (uint8_t)sym;
            continue;
        }
        if (sym == 16) { /* the previous length, 3-6 times */
            if (i == 0)
                return SL_INFLATE_BAD_BLOCK;
            value = len[i - 1];
            rc = get_bits(b, 2, &extra);
            repeat = 3 + extra;
        } else if (sym == 17) { /* zero, 3-10 times */
            rc = get_bits(b, 3, &extra);
            repeat = 3 + extra;
        } else { /* 18: zero, 11-138 times */
            rc = get_bits(b, 7, &extra);
            repeat = 11 + extra;
        }
        if (rc != SL_INFLATE_OK)
            return rc;
        if (repeat > hlit + hdist - i)
            return SL_INFLATE_BAD_BLOCK;
        while (repeat-- > 0)
            len[i++] = value;
    }
    if (len[256] == 0)
        return SL_INFLATE_BAD_BLOCK; /* no end-of-block code */
    if ((rc = build(&lit, len, hlit)) != SL_INFLATE_OK ||
        (rc = build(&dist, len + hlit, hdist)) != SL_INFLATE_OK)
        return rc;
    return codes(b, o, &lit, &dist);
}

/* Every block up to the one marked final (3.2.3). */
static int blocks(struct bits *b, struct out *o)
{
    unsigned last, type;
    int rc;

    do {
        if ((rc = get_bits(b, 1, &last)) != SL_INFLATE_OK ||
            (rc = get_bits(b, 2, &type)) != SL_INFLATE_OK)
            return rc;
        switch (type) {
        case 0:
            rc = stored(b, o);
            break;
        case 1:
            rc = fixed(b, o);
            break;
        case 2:
            rc = dynamic(b, o);
            break;
        default:
            rc = SL_INFLATE_BAD_BLOCK; /* reserved */
            break;
        }
        if (rc != SL_INFLATE_OK)
            return rc;
    } while (!last);
    align(b);
    return SL_INFLATE_OK;
}

/* ---- checks and wrappers ------------------------------------------------- */

uint32_t sl_adler32(uint32_t start, const uint8_t *p, size_t n)
{
    uint32_t a = start & 0xffffu, b = start >> 16;
    size_t i;

    for (i = 0; i < n; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return b << 16 | a;
}

uint32_t sl_crc32(uint32_t start, const uint8_t *p, size_t n)
{
    uint32_t c = ~start;
    size_t i;
    int k;

    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ ((c & 1u) != 0 ? 0xedb88320u : 0u);
    }
    return ~c;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* RFC 1950 2.2: CMF (method 8, window 2^(CINFO+8) <= 32 KiB) and FLG (FCHECK
 * makes CMF*256 + FLG a multiple of 31; no preset dictionary). */
static bool zlib_header_ok(const uint8_t *p, size_t n)
{
    return n >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 &&
           ((unsigned)p[0] << 8 | p[1]) % 31 == 0 && (p[1] & 0x20) == 0;
}

/* RFC 1952 2.3.1: the member header; *pos becomes the start of the deflate
 * data. */
static int gzip_header(const uint8_t *p, size_t n, size_t *pos)
{
    size_t i = 10;
    uint8_t flg;

    if (n < 10)
        return SL_INFLATE_TRUNCATED;
    flg = p[3];
    if (p[0] != 0x1f || p[1] != 0x8b || p[2] != 8 || (flg & 0xe0) != 0)
        return SL_INFLATE_BAD_HEADER;
    if ((flg & 0x04) != 0) { /* FEXTRA: XLEN, then XLEN bytes */
        size_t xlen;

        if (n - i < 2)
            return SL_INFLATE_TRUNCATED;
        xlen = (size_t)p[i] | (size_t)p[i + 1] << 8;
        i += 2;
        if (n - i < xlen)
            return SL_INFLATE_TRUNCATED;
        i += xlen;
    }
    if ((flg & 0x08) != 0) { /* FNAME, zero-terminated */
        while (i < n && p[i] != 0)
            i++;
        if (i++ >= n)
            return SL_INFLATE_TRUNCATED;
    }
    if ((flg & 0x10) != 0) { /* FCOMMENT, zero-terminated */
        while (i < n && p[i] != 0)
            i++;
        if (i++ >= n)
            return SL_INFLATE_TRUNCATED;
    }
    if ((flg & 0x02) != 0) { /* FHCRC: the low 16 bits of the header's CRC-32 */
        if (n - i < 2)
            return SL_INFLATE_TRUNCATED;
        if ((sl_crc32(0, p, i) & 0xffffu) != ((unsigned)p[i] | (unsigned)p[i + 1] << 8))
            return SL_INFLATE_BAD_HEADER;
        i += 2;
    }
    *pos = i;
    return SL_INFLATE_OK;
}

int sl_inflate(const uint8_t *in, size_t n, enum sl_inflate_wrap wrap, uint8_t *out, size_t cap,
               struct sl_inflate_res *res)
{
    struct bits b;
    struct out o;
    size_t start = 0;
    int rc = SL_INFLATE_OK;

    memset(&b, 0, sizeof(b));
    b.p = in;
    b.n = in != NULL ? n : 0;
    o.p = out;
    o.n = 0;
    o.cap = out != NULL ? cap : 0;
    if (wrap == SL_INFLATE_AUTO)
        wrap = b.n >= 2 && in[0] == 0x1f && in[1] == 0x8b ? SL_INFLATE_GZIP : SL_INFLATE_ZLIB;
    if (wrap == SL_INFLATE_ZLIB) {
        if (b.n < 2)
            rc = SL_INFLATE_TRUNCATED;
        else if (!zlib_header_ok(in, b.n))
            rc = SL_INFLATE_BAD_HEADER;
        start = 2;
    } else if (wrap == SL_INFLATE_GZIP) {
        rc = gzip_header(in, b.n, &start);
    }
    if (rc == SL_INFLATE_OK) {
        b.pos = start;
        rc = blocks(&b, &o);
    }
    if (rc == SL_INFLATE_OK && wrap == SL_INFLATE_ZLIB) { /* Adler-32, big-endian (2.2) */
        if (b.n - b.pos < 4)
            rc = SL_INFLATE_TRUNCATED;
        else if (be32(in + b.pos) != sl_adler32(1, o.p, o.n))
            rc = SL_INFLATE_BAD_CHECK;
        else
            b.pos += 4;
    } else if (rc == SL_INFLATE_OK && wrap == SL_INFLATE_GZIP) { /* CRC-32, ISIZE (2.3.1) */
        if (b.n - b.pos < 8)
            rc = SL_INFLATE_TRUNCATED;
        else if (le32(in + b.pos) != sl_crc32(0, o.p, o.n) || le32(in + b.pos + 4) != (uint32_t)o.n)
            rc = SL_INFLATE_BAD_CHECK;
        else
            b.pos += 8;
    }
    if (res != NULL) {
        res->out_len = o.n;
        res->in_used = b.pos;
    }
    return rc;
}

const char *sl_inflate_strerror(int rc)
{
    switch (rc) {
    case SL_INFLATE_OK:
        return "ok";
    case SL_INFLATE_BAD_HEADER:
        return "bad header";
    case SL_INFLATE_BAD_BLOCK:
        return "bad block";
    case SL_INFLATE_OVER_CAP:
        return "over the output limit";
    case SL_INFLATE_TRUNCATED:
        return "truncated";
    case SL_INFLATE_BAD_CHECK:
        return "bad check value";
    default:
        return "unknown error";
    }
}
