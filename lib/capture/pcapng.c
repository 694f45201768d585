/*
 * pcapng.c: a guard between a pcapng file and libpcap's pcapng reader.
 *
 * libpcap stops at the first block whose length is impossible (an error that
 * ends the file), and skips the blocks it does not know without a word.  The
 * guard reads the file block by block (draft-ietf-opsawg-pcapng 3.1: type,
 * total length, body, total length again) and hands libpcap, through a stdio
 * stream of its own (fopencookie), only whole, valid blocks of the types
 * libpcap reads (SHB, IDB, EPB, SPB, PB, NRB, ISB):
 *   - a block whose lengths are impossible (under the type's minimum, not a
 *     multiple of 4, over SL_PCAPNG_MAX_BLOCK, another value in the trailer)
 *     or whose fields contradict it (captured data longer than the body, an
 *     interface no IDB described) is damage: the bytes up to the next offset
 *     where a whole valid block starts are skipped, with a note;
 *   - a custom block (0x00000BAD, 0x40000BAD) is skipped with a note that
 *     says where it was, so that the capture stage can keep it as a frame:
 *     Wireshark shows each custom block as a frame, and frame numbers must
 *     match Wireshark's;
 *   - blocks of any other type, and options of codes the draft does not define
 *     in SHB, IDB and EPB, are counted and noted once at the end of the file;
 *   - a block that the end of the file cuts is handed on as it is, so that
 *     libpcap reports the cut (SIP-CAP-001), unless a whole valid block starts
 *     inside it: then its length was the damage.
 * The first block goes to libpcap as it is when it is not a valid Section
 * Header Block, and so does everything after it: libpcap refuses the file
 * with its own reason.
 *
 * Every field is read through the bounds-checked reader.  Memory: one window
 * of at most SL_PCAPNG_MAX_BLOCK + 64 KiB bytes and a bounded note queue.  The
 * queue cannot fill in practice: libpcap reads through a stdio buffer, so the
 * guard is never more than one buffer (BUFSIZ) and one block ahead of it, and
 * every note stands for at least 12 bytes; a note that finds it full is
 * counted and told at the end.
 */
#define _GNU_SOURCE /* fopencookie: glibc and musl */

#include "capture/pcapng.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "base/rd.h"

#define BT_SHB       0x0A0D0D0Au
#define BT_IDB       0x00000001u
#define BT_PB        0x00000002u
#define BT_SPB       0x00000003u
#define BT_NRB       0x00000004u
#define BT_ISB       0x00000005u
#define BT_EPB       0x00000006u
#define BT_CB        0x00000BADu
#define BT_CB_NOCOPY 0x40000BADu

#define BOM 0x1A2B3C4Du /* the SHB byte-order magic */

#define MAX_NOTES 1024u
#define MAX_TYPES 8u /* skipped block types told apart; more are "other types" */
#define READ_MIN  ((size_t)64 << 10)

struct skipped_type {
    uint32_t type;
    uint64_t n;
    uint64_t first_off;
    uint64_t frames; /* frames before the first */
};

struct sl_pcapng {
    FILE *in;
    bool close_in;
    uint8_t *buf; /* window: buf[start, end) are the file's bytes from `off` on */
    size_t cap, start, end;
    uint64_t off; /* file offset of buf[start] */
    bool in_done; /* in gave EOF or an error */
    bool in_err;  /* ... an error */
    int in_errno;
    bool raw;              /* hand on every byte as it is (the file does not start as pcapng) */
    char refused[200];     /* why (raw) */
    bool big;              /* the current section is big-endian */
    bool first;            /* no block handed on yet */
    size_t pass;           /* bytes at the window's start to hand on */
    uint32_t n_idb;        /* IDBs of the current section */
    uint64_t packets;      /* packet blocks handed on */
    uint64_t customs;      /* custom blocks skipped */
    uint64_t custom_frame; /* the first one's frame */
    uint32_t custom_pen;   /* its enterprise number */

    struct sl_pcapng_note q[MAX_NOTES];
    size_t q_head, q_n;
    uint64_t q_lost; /* notes that found the queue full */

    struct skipped_type types[MAX_TYPES];
    size_t n_types;
    uint64_t other_types, other_types_first, other_types_frames;
    uint64_t unknown_opts, unknown_opt_off, unknown_opt_frames;
    uint16_t unknown_opt_code;
    uint32_t unknown_opt_block;
    unsigned end_step; /* at_end notes given so far */
};

/* ------------------------------------------------------------ window -- */

/* Makes at least need bytes available at the window's start (fewer only at
 * the end of the file); returns how many are. */
static size_t fill(struct sl_pcapng *g, size_t need)
{
    size_t avail = g->end - g->start;

    while (avail < need && !g->in_done) {
        size_t want, got;

        if (g->cap - g->end < need - avail) {
            if (g->start > 0) {
                memmove(g->buf, g->buf + g->start, avail);
                g->start = 0;
                g->end = avail;
            }
            if (g->cap < need) {
                size_t cap = g->cap > 0 ? g->cap : READ_MIN;
                uint8_t *p;

                while (cap < need)
                    cap *= 2;
                p = realloc(g->buf, cap);
                if (p == NULL) {
                    /* treated as a read error: libpcap reports it, reading stops */
                    g->in_done = g->in_err = true;
                    g->in_errno = ENOMEM;
                    break;
                }
                g->buf = p;
                g->cap = cap;
            }
        }
        want = g->cap - g->end;
        if (want > READ_MIN && want > need - avail)
            want = need - avail > READ_MIN ? need - avail : READ_MIN;
        got = fread(g->buf + g->end, 1, want, g->in);
        g->end += got;
        avail += got;
        if (got < want) {
            if (ferror(g->in)) {
                g->in_err = true;
                g->in_errno = errno != 0 ? errno : EIO;
            }
            g->in_done = true;
        }
    }
    return avail;
}

static void consume(struct sl_pcapng *g, size_t n)
{
    g->start += n;
    g->off += n;
}

/* A reader over the window's bytes [pos, pos + n), all of them available. */
static struct sl_rd win(const struct sl_pcapng *g, size_t pos, size_t n)
{
    return sl_rd_init(g->buf + g->start + pos, n);
}

static uint32_t get32(const struct sl_pcapng *g, size_t pos, bool big)
{
    struct sl_rd r = win(g, pos, 4);

    return big ? sl_rd_be32(&r) : sl_rd_le32(&r);
}

/* ------------------------------------------------------------- notes -- */

static struct sl_pcapng_note *note_add(struct sl_pcapng *g, enum sl_pcapng_note_kind kind)
{
    struct sl_pcapng_note *n;

    if (g->q_n == MAX_NOTES) {
        g->q_lost++;
        return NULL;
    }
    n = &g->q[(g->q_head + g->q_n) % MAX_NOTES];
    g->q_n++;
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->packets = g->packets;
    n->offset = g->off;
    return n;
}

static void skip_type(struct sl_pcapng *g, uint32_t type)
{
    size_t i;

    for (i = 0; i < g->n_types; i++) {
        if (g->types[i].type == type) {
            g->types[i].n++;
            return;
        }
    }
    if (g->n_types == MAX_TYPES) {
        if (g->other_types++ == 0) {
            g->other_types_first = g->off;
            g->other_types_frames = g->packets + g->customs;
        }
        return;
    }
    g->types[g->n_types].type = type;
    g->types[g->n_types].n = 1;
    g->types[g->n_types].first_off = g->off;
    g->types[g->n_types].frames = g->packets + g->customs;
    g->n_types++;
}

static const char *type_name(uint32_t type)
{
    switch (type) {
    case 0x00000009u:
        return " (systemd Journal Export Block)";
    case 0x0000000Au:
        return " (Decryption Secrets Block: TLS keys, not used)";
    case 0x00000007u:
        return " (IRIG Timestamp Block)";
    case 0x00000008u:
        return " (ARINC 429 Block)";
    default:
        return "";
    }
}

/* ------------------------------------------------------------ blocks -- */

/* Whether the option code is defined for the block type (draft 3.5, 4.1,
 * 4.2, 4.3; custom options 2988, 2989, 19372, 19373 everywhere). */
static bool known_option(uint32_t type, uint16_t code)
{
    if (code <= 1 || code == 2988 || code == 2989 || code == 19372 || code == 19373)
        return true;
    switch (type) {
    case BT_SHB:
        return code <= 4;
    case BT_IDB:
        return code <= 18;
    case BT_EPB:
        return code <= 7;
    default:
        return true;
    }
}

/* Counts the options of unknown codes in the option list of a block (the
 * window's bytes [pos, len - 4)).  A list that overruns is libpcap's to judge. */
static void count_options(struct sl_pcapng *g, uint32_t type, size_t pos, size_t len)
{
    struct sl_rd r;

    if (pos + 4 > len)
        return;
    r = win(g, pos, len - 4 - pos);
    while (r.n >= 4) {
        uint16_t code = g->big ? sl_rd_be16(&r) : sl_rd_le16(&r);
        uint16_t olen = g->big ? sl_rd_be16(&r) : sl_rd_le16(&r);

        if (code == 0)
            break;
        if (!known_option(type, code) && g->unknown_opts++ == 0) {
            g->unknown_opt_code = code;
            g->unknown_opt_block = type;
            g->unknown_opt_off = g->off;
            /* an EPB's options are its own frame's */
            g->unknown_opt_frames = g->packets + g->customs + (type == BT_EPB ? 1 : 0);
        }
        if (!sl_rd_skip(&r, ((size_t)olen + 3) / 4 * 4))
            break;
    }
}

/* Whether the SHB at window position pos (12 bytes available) has a valid
 * byte-order magic; *big gets its byte order. */
static bool shb_order(const struct sl_pcapng *g, size_t pos, bool *big)
{
    uint32_t m = get32(g, pos + 8, false);

    if (m == BOM)
        *big = false;
    else if (m == 0x4D3C2B1Au)
        *big = true;
    else
        return false;
    return true;
}

/* NULL when a block of this type and length can be valid, or what is wrong. */
static const char *check_length(uint32_t type, uint32_t len, char *why, size_t why_len)
{
    uint32_t min = 12;

    switch (type) {
    case BT_SHB:
        min = 28;
        break;
    case BT_IDB:
        min = 20;
        break;
    case BT_EPB:
    case BT_PB:
        min = 32;
        break;
    case BT_SPB:
        min = 16;
        break;
    case BT_ISB:
        min = 24;
        break;
    case BT_CB:
    case BT_CB_NOCOPY:
        min = 16;
        break;
    default:
        break;
    }
    if (len < min)
        (void)snprintf(why, why_len,
                       "its total length %" PRIu32 " is under the %" PRIu32 " bytes "
                       "of its type",
                       len, min);
    else if (len % 4 != 0)
        (void)snprintf(why, why_len, "its total length %" PRIu32 " is not a multiple of 4", len);
    else if (len > SL_PCAPNG_MAX_BLOCK)
        (void)snprintf(why, why_len, "its total length %" PRIu32 " is over the %zu-byte maximum",
                       len, SL_PCAPNG_MAX_BLOCK);
    else
        return NULL;
    return why;
}

/* NULL when the whole block at window position pos (len bytes available,
 * the lengths checked) is consistent, or what is wrong. */
static const char *check_body(const struct sl_pcapng *g, size_t pos, uint32_t type, uint32_t len,
                              bool big, uint32_t n_idb, char *why, size_t why_len)
{
    uint32_t trailer = get32(g, pos + len - 4, big), ifc, caplen;

    if (trailer != len) {
        (void)snprintf(why, why_len,
                       "its total length %" PRIu32 " differs from the %" PRIu32 " at its end", len,
                       trailer);
        return why;
    }
    switch (type) {
    case BT_EPB:
    case BT_PB:
        ifc = get32(g, pos + 8, big);
        if (type == BT_PB) /* 16 bits, then 16 bits of drop count */
            ifc = (big ? ifc >> 16 : ifc) & 0xffffu;
        caplen = get32(g, pos + 20, big);
        if (ifc >= n_idb) {
            (void)snprintf(why, why_len, "it names interface %" PRIu32 " of %" PRIu32 " described",
                           ifc, n_idb);
            return why;
        }
        if (caplen > len - 32) {
            (void)snprintf(why, why_len,
                           "its %" PRIu32 " captured bytes do not fit in its %" PRIu32 "-byte body",
                           caplen, len - 32);
            return why;
        }
        break;
    case BT_SPB:
        if (n_idb == 0) {
            (void)snprintf(why, why_len, "no interface was described before it");
            return why;
        }
        break;
    default:
        break;
    }
    return NULL;
}

static bool readable_type(uint32_t type)
{
    switch (type) {
    case BT_SHB:
    case BT_IDB:
    case BT_PB:
    case BT_SPB:
    case BT_NRB:
    case BT_ISB:
    case BT_EPB:
    case BT_CB:
    case BT_CB_NOCOPY:
        return true;
    default:
        return false;
    }
}

/* Whether a whole valid block of a type worth resyncing on starts at window
 * position pos.  Reads ahead as far as its length says. */
static bool valid_at(struct sl_pcapng *g, size_t pos)
{
    char why[160];
    uint32_t type, len, n_idb = g->n_idb;
    bool big = g->big;

    if (fill(g, pos + 12) < pos + 12)
        return false;
    type = get32(g, pos, false); /* an SHB reads the same in both byte orders */
    if (type == BT_SHB) {
        if (!shb_order(g, pos, &big))
            return false;
        n_idb = 0;
    } else {
        type = get32(g, pos, big);
    }
    if (!readable_type(type))
        return false;
    len = get32(g, pos + 4, big);
    if (check_length(type, len, why, sizeof(why)) != NULL || fill(g, pos + len) < pos + len)
        return false;
    return check_body(g, pos, type, len, big, n_idb, why, sizeof(why)) == NULL;
}

/* The block at the window's start is damaged (why): skips to the next valid
 * block, or to the end of the file, with a note. */
static void damage(struct sl_pcapng *g, const char *why)
{
    struct sl_pcapng_note *n = note_add(g, SL_PCAPNG_DAMAGE);
    uint64_t from = g->off;

    consume(g, 1);
    while (fill(g, 1) > 0 && !valid_at(g, 0))
        consume(g, 1);
    if (n == NULL)
        return;
    n->len = g->off - from;
    if (fill(g, 1) > 0)
        (void)snprintf(n->text, sizeof(n->text),
                       "pcapng block at byte %" PRIu64 " is damaged (%s): %" PRIu64
                       " bytes skipped to the next valid block, at byte %" PRIu64,
                       from, why, n->len, g->off);
    else
        (void)snprintf(n->text, sizeof(n->text),
                       "pcapng block at byte %" PRIu64 " is damaged (%s), and no valid block "
                       "follows: the last %" PRIu64 " bytes of the file are skipped",
                       from, why, n->len);
}

/* Decides what to hand on next: sets g->pass, or leaves it 0 at the end. */
static void next_block(struct sl_pcapng *g)
{
    char why_buf[160];

    for (;;) {
        size_t avail = fill(g, 12);
        const char *why;
        uint32_t type, len;
        bool big = g->big;

        if (g->first && avail < 12 && !g->raw) {
            g->raw = true;
            (void)snprintf(g->refused, sizeof(g->refused),
                           "the file is shorter than a pcapng block header (%zu of 12 bytes)",
                           avail);
        }
        if (g->raw || avail < 12) {
            /* raw: libpcap judges; fewer than 12 bytes: the file is cut in
             * a block (libpcap says so) or ends */
            g->pass = avail;
            return;
        }
        type = get32(g, 0, false);
        if (type == BT_SHB) {
            if (!shb_order(g, 0, &big)) {
                if (g->first) {
                    g->raw = true;
                    (void)snprintf(g->refused, sizeof(g->refused),
                                   "the Section Header Block's byte-order magic 0x%08" PRIx32
                                   " is not 0x1A2B3C4D in either byte order",
                                   get32(g, 8, false));
                    continue;
                }
                damage(g, "a Section Header Block without a valid byte-order magic");
                continue;
            }
        } else {
            type = get32(g, 0, big);
        }
        if (g->first && type != BT_SHB) {
            g->raw = true;
            (void)snprintf(g->refused, sizeof(g->refused),
                           "it starts with a block of type 0x%08" PRIx32
                           ", not a Section Header Block",
                           type);
            continue;
        }
        len = get32(g, 4, big);
        why = check_length(type, len, why_buf, sizeof(why_buf));
        if (why == NULL) {
            avail = fill(g, len);
            if (avail < len) {
                /* the file ends inside the block: a cut, unless a whole valid
                 * block starts in it */
                size_t k;
                bool inside = false;

                if (g->in_err || g->first) {
                    g->pass = avail;
                    return;
                }
                for (k = 4; k + 12 <= avail && !inside; k++)
                    inside = valid_at(g, k);
                if (!inside) {
                    g->pass = avail;
                    return;
                }
                (void)snprintf(why_buf, sizeof(why_buf),
                               "its total length %" PRIu32 " runs past the end of the file", len);
                why = why_buf;
            } else {
                why = check_body(g, 0, type, len, big, type == BT_SHB ? 0 : g->n_idb, why_buf,
                                 sizeof(why_buf));
            }
        }
        if (why != NULL) {
            if (g->first) {
                g->raw = true;
                (void)snprintf(g->refused, sizeof(g->refused),
                               "the Section Header Block is invalid: %s", why);
                continue;
            }
            damage(g, why);
            continue;
        }

        /* a whole, valid block */
        g->first = false;
        switch (type) {
        case BT_SHB:
            g->big = big;
            g->n_idb = 0;
            count_options(g, type, 24, len);
            break;
        case BT_IDB:
            g->n_idb++;
            count_options(g, type, 16, len);
            break;
        case BT_EPB:
            count_options(g, type, 28 + ((size_t)get32(g, 20, big) + 3) / 4 * 4, len);
            g->packets++;
            break;
        case BT_PB:
        case BT_SPB:
            g->packets++;
            break;
        case BT_NRB:
        case BT_ISB:
            break;
        case BT_CB:
        case BT_CB_NOCOPY: {
            struct sl_pcapng_note *n = note_add(g, SL_PCAPNG_CUSTOM);

            if (g->customs++ == 0) {
                g->custom_frame = g->packets + g->customs;
                g->custom_pen = get32(g, 8, big);
            }
            if (n != NULL) {
                n->len = len;
                (void)snprintf(n->text, sizeof(n->text),
                               "pcapng custom block (type 0x%08" PRIx32
                               ", enterprise number %" PRIu32 ", %" PRIu32
                               " bytes) at byte %" PRIu64 " skipped",
                               type, get32(g, 8, big), len, g->off);
            }
            consume(g, len);
            continue;
        }
        default:
            skip_type(g, type);
            consume(g, len);
            continue;
        }
        g->pass = len;
        return;
    }
}

/* ------------------------------------------------------------ stream -- */

static ssize_t guard_read(void *cookie, char *buf, size_t size)
{
    struct sl_pcapng *g = cookie;
    size_t n;

    if (g->pass == 0)
        next_block(g);
    if (g->pass == 0) {
        if (g->in_err) {
            errno = g->in_errno;
            return -1;
        }
        return 0;
    }
    n = size < g->pass ? size : g->pass;
    memcpy(buf, g->buf + g->start, n);
    consume(g, n);
    g->pass -= n;
    return (ssize_t)n;
}

static int guard_close(void *cookie)
{
    struct sl_pcapng *g = cookie;
    int rc = 0;

    if (g->close_in)
        rc = fclose(g->in);
    free(g->buf);
    free(g);
    return rc;
}

FILE *sl_pcapng_guard(FILE *in, struct sl_pcapng **out)
{
    cookie_io_functions_t io = { guard_read, NULL, NULL, guard_close };
    struct sl_pcapng *g = calloc(1, sizeof(*g));
    FILE *fp;

    *out = NULL;
    if (g == NULL)
        return NULL;
    g->in = in;
    g->close_in = in != stdin;
    g->first = true;
    fp = fopencookie(g, "rb", io);
    if (fp == NULL) {
        free(g);
        return NULL;
    }
    *out = g;
    return fp;
}

const char *sl_pcapng_refused(const struct sl_pcapng *g)
{
    return g != NULL && g->raw && g->refused[0] != '\0' ? g->refused : NULL;
}

uint64_t sl_pcapng_next_at(const struct sl_pcapng *g)
{
    return g != NULL && g->q_n > 0 ? g->q[g->q_head].packets : UINT64_MAX;
}

/* Where a block is, for a note anchored at frame `frames` (0: none). */
static const char *where(uint64_t frames, bool own)
{
    if (own)
        return "this frame's block";
    return frames == 0 ? "before the first frame" : "after this frame";
}

int sl_pcapng_note(struct sl_pcapng *g, bool at_end, struct sl_pcapng_note *n)
{
    if (g == NULL)
        return 0;
    if (g->q_n > 0) {
        *n = g->q[g->q_head];
        g->q_head = (g->q_head + 1) % MAX_NOTES;
        g->q_n--;
        return 1;
    }
    if (!at_end)
        return 0;
    memset(n, 0, sizeof(*n));
    n->kind = SL_PCAPNG_SKIPPED;
    n->packets = g->packets;
    while (g->end_step < g->n_types + 4) {
        unsigned step = g->end_step++;

        if (step < g->n_types) {
            const struct skipped_type *t = &g->types[step];

            n->offset = t->first_off;
            n->frames = t->frames;
            (void)snprintf(n->text, sizeof(n->text),
                           "%" PRIu64 " pcapng block%s of type 0x%08" PRIx32 "%s skipped: not a "
                           "type this version reads (the first at byte %" PRIu64 ", %s)",
                           t->n, t->n == 1 ? "" : "s", t->type, type_name(t->type), t->first_off,
                           where(t->frames, false));
            return 1;
        }
        if (step == g->n_types && g->other_types > 0) {
            n->offset = g->other_types_first;
            n->frames = g->other_types_frames;
            (void)snprintf(n->text, sizeof(n->text),
                           "%" PRIu64 " more pcapng blocks of other types skipped (the first at "
                           "byte %" PRIu64 ", %s)",
                           g->other_types, g->other_types_first,
                           where(g->other_types_frames, false));
            return 1;
        }
        if (step == g->n_types + 1 && g->unknown_opts > 0) {
            n->offset = g->unknown_opt_off;
            n->frames = g->unknown_opt_frames;
            (void)snprintf(n->text, sizeof(n->text),
                           "%" PRIu64 " pcapng option%s of a code not defined for its block "
                           "ignored (the first: code %u in the block of type 0x%08" PRIx32
                           " at byte %" PRIu64 ", %s)",
                           g->unknown_opts, g->unknown_opts == 1 ? "" : "s",
                           (unsigned)g->unknown_opt_code, g->unknown_opt_block, g->unknown_opt_off,
                           where(g->unknown_opt_frames, g->unknown_opt_block == BT_EPB));
            return 1;
        }
        if (step == g->n_types + 2 && g->customs > 0) {
            n->frames = g->custom_frame;
            (void)snprintf(n->text, sizeof(n->text),
                           "%" PRIu64 " pcapng custom block%s skipped, each counted as a frame as "
                           "Wireshark does (the first is this frame, enterprise number %" PRIu32
                           ")",
                           g->customs, g->customs == 1 ? "" : "s", g->custom_pen);
            return 1;
        }
        if (step == g->n_types + 3 && g->q_lost > 0) {
            (void)snprintf(n->text, sizeof(n->text),
                           "%" PRIu64 " more damaged or custom pcapng blocks were skipped "
                           "without a note of their own (note queue full)",
                           g->q_lost);
            return 1;
        }
    }
    return 0;
}
