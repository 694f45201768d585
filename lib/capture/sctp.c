/*
 * sctp.c: SIP over SCTP (RFC 9260, formerly RFC 4960; SIP over SCTP RFC
 * 4168): the common header and chunks of a packet, and the user messages of
 * its DATA chunks, put together when they are fragmented.
 *
 * A DATA chunk with both B and E flags holds a whole user message.  A
 * fragmented message (RFC 9260 6.9) is carried by DATA chunks of consecutive
 * TSNs on one stream (same stream id, and the same stream sequence number
 * unless unordered), the first with B, the last with E.  Fragments are kept
 * per (source, destination, stream id), ordered by TSN (serial arithmetic
 * around the first TSN held), until a run from a B
 * to an E without a hole is there: that is the message, in the frame of the
 * chunk that completed it.  Duplicates (the same TSN, or a TSN of a message
 * already put together) are dropped, the first copy wins.
 *
 * A user message that starts with a SIP start line (PPID 0 is what RFC 4168
 * uses, but the payload decides) is a SIP message, transport sctp.  Limits:
 * fragments and bytes held in all, streams followed; a new fragment over a
 * limit gives up the stream held longest (SIP-CAP-006).  Fragments waiting
 * longer than SL_SCTP_HOLD_US, or at the end of the capture, are given up:
 * a SIP-CAP-007 problem when the message was SIP (or its stream carried SIP).
 * All packet bytes are read through base/rd.h; held fragments are copies.
 */
#include "capture/sctp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rd.h"
#include "capture/tcp.h"

#define SCTP_DATA    0
#define SCTP_FLAG_E  0x01
#define SCTP_FLAG_B  0x02
#define SCTP_FLAG_U  0x04
#define SCTP_MAX_OUT 64 /* SIP messages handed on per packet */

struct frag {
    uint32_t tsn;
    uint16_t ssn;
    uint8_t flags;
    uint8_t *data;
    size_t len;
    uint64_t frame;
    int64_t ts_us;
};

/* The fragments held for one stream of one direction, in TSN order (serial
 * arithmetic from the first TSN seen on it). */
struct stream {
    struct sl_endpoint src, dst;
    uint16_t sid;
    uint32_t base;   /* TSN order: tsn - base */
    bool sip_seen;   /* a SIP message came on it: incomplete ones are worth reporting */
    bool done_valid; /* done: the last TSN of the last message put together */
    uint32_t done;
    struct frag *f;
    size_t n, cap;
    int64_t first_ts_us; /* when the oldest fragment held arrived */
    struct stream *next;
};

struct sl_sctp {
    struct sl_sctp_opts o;
    struct stream *streams;
    size_t n_streams;
    size_t chunks, bytes; /* held in all */
    int64_t next_due;     /* no fragment is due to be given up before this time */
};

int sl_sctp_new(struct sl_sctp **out, const struct sl_sctp_opts *opts)
{
    struct sl_sctp *s = calloc(1, sizeof(*s));

    *out = NULL;
    if (s == NULL)
        return SL_ENOMEM;
    if (opts != NULL)
        s->o = *opts;
    s->next_due = INT64_MAX;
    if (s->o.max_chunks == 0)
        s->o.max_chunks = SL_SCTP_MAX_CHUNKS;
    if (s->o.max_bytes == 0)
        s->o.max_bytes = SL_SCTP_MAX_BYTES;
    if (s->o.max_streams == 0)
        s->o.max_streams = SL_SCTP_MAX_STREAMS;
    if (s->o.hold_us <= 0)
        s->o.hold_us = SL_SCTP_HOLD_US;
    *out = s;
    return SL_OK;
}

/* Drops fragments [i, i + k) of st. */
static void drop_frags(struct sl_sctp *s, struct stream *st, size_t i, size_t k)
{
    size_t j;

    for (j = i; j < i + k; j++) {
        s->bytes -= st->f[j].len;
        free(st->f[j].data);
    }
    s->chunks -= k;
    memmove(&st->f[i], &st->f[i + k], (st->n - i - k) * sizeof(st->f[0]));
    st->n -= k;
    st->first_ts_us = INT64_MAX;
    for (j = 0; j < st->n; j++) {
        if (st->f[j].ts_us < st->first_ts_us)
            st->first_ts_us = st->f[j].ts_us;
    }
}

static void free_stream(struct sl_sctp *s, struct stream *st)
{
    drop_frags(s, st, 0, st->n);
    free(st->f);
    free(st);
}

void sl_sctp_free(struct sl_sctp *s)
{
    if (s == NULL)
        return;
    while (s->streams != NULL) {
        struct stream *st = s->streams;

        s->streams = st->next;
        free_stream(s, st);
    }
    free(s);
}

size_t sl_sctp_held(const struct sl_sctp *s)
{
    return s != NULL ? s->chunks : 0;
}

/* Whether a payload starts with a SIP start line: "SIP/2.0 " or a first line
 * ending in " SIP/2.0". */
static bool looks_sip(const uint8_t *p, size_t n)
{
    size_t i;

    if (n >= 8 && memcmp(p, "SIP/2.0 ", 8) == 0)
        return true;
    for (i = 0; i < n && i < 1024 && p[i] != '\n'; i++)
        ;
    if (i >= n || i >= 1024)
        return false;
    if (i > 0 && p[i - 1] == '\r')
        i--;
    return i >= 9 && memcmp(p + i - 8, " SIP/2.0", 8) == 0;
}

/* Whether the first fragment of a message may start a SIP message, although
 * it may end before the first line does: a SIP start line, or the start of
 * "SIP/2.0 " or of an upper-case method and a space. */
static bool starts_like_sip(const uint8_t *p, size_t n)
{
    size_t i;

    if (looks_sip(p, n))
        return true;
    if (n >= 4 && memcmp(p, "SIP/2.0 ", n < 8 ? n : 8) == 0)
        return true;
    for (i = 0; i < n && p[i] >= 'A' && p[i] <= 'Z'; i++)
        ;
    return i >= 3 && i < n && p[i] == ' ';
}

static void event(struct sl_tcp *t, const char *rule, const struct stream *st, uint64_t frame,
                  int64_t ts_us, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void event(struct sl_tcp *t, const char *rule, const struct stream *st, uint64_t frame,
                  int64_t ts_us, const char *fmt, ...)
{
    char a[64], b[64], body[300];
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(body, sizeof(body), fmt, ap) < 0)
        body[0] = '\0';
    va_end(ap);
    sl_tcp_report(t, rule, &st->src, &st->dst, SL_TP_SCTP, frame, ts_us,
                  "SCTP stream %s -> %s (stream id %u): %s",
                  sl_endpoint_format(&st->src, a, sizeof(a)),
                  sl_endpoint_format(&st->dst, b, sizeof(b)), (unsigned)st->sid, body);
}

/* Gives up every fragment held on st (`why`: time-out, end of the capture,
 * a limit): reported when the message was SIP or the stream carried SIP. */
static void give_up(struct sl_sctp *s, struct sl_tcp *t, struct stream *st, const char *why)
{
    size_t i, bytes = 0;
    bool sip = st->sip_seen;

    if (st->n == 0)
        return;
    for (i = 0; i < st->n; i++) {
        bytes += st->f[i].len;
        if ((st->f[i].flags & SCTP_FLAG_B) != 0 && starts_like_sip(st->f[i].data, st->f[i].len))
            sip = true;
    }
    if (sip && t != NULL)
        event(t, "SIP-CAP-007", st, st->f[0].frame, st->f[0].ts_us,
              "%zu fragment%s of a user message (TSN %" PRIu32 " to %" PRIu32
              ", %zu bytes, frames %" PRIu64 " to %" PRIu64 ") %s without the %s; the message "
              "is lost",
              st->n, st->n == 1 ? "" : "s", st->f[0].tsn, st->f[st->n - 1].tsn, bytes,
              st->f[0].frame, st->f[st->n - 1].frame, why,
              (st->f[0].flags & SCTP_FLAG_B) == 0           ? "first fragment (B)"
              : (st->f[st->n - 1].flags & SCTP_FLAG_E) == 0 ? "last fragment (E)"
                                                            : "fragments between");
    drop_frags(s, st, 0, st->n);
}

void sl_sctp_expire(struct sl_sctp *s, struct sl_tcp *t, int64_t now_us, bool flush)
{
    struct stream **pp;
    char why[64];

    if (s == NULL || (!flush && (s->chunks == 0 || now_us < s->next_due)))
        return;
    snprintf(why, sizeof(why), "waited more than %lld s", (long long)(s->o.hold_us / 1000000));
    s->next_due = INT64_MAX;
    for (pp = &s->streams; *pp != NULL;) {
        struct stream *st = *pp;

        if (st->n > 0 && (flush || (now_us > INT64_MIN + s->o.hold_us &&
                                    st->first_ts_us < now_us - s->o.hold_us)))
            give_up(s, t, st, flush ? "are left at the end of the capture" : why);
        if (st->n > 0 && st->first_ts_us < INT64_MAX - s->o.hold_us &&
            st->first_ts_us + s->o.hold_us < s->next_due)
            s->next_due = st->first_ts_us + s->o.hold_us;
        if (st->n == 0 && flush) {
            *pp = st->next;
            s->n_streams--;
            free_stream(s, st);
            continue;
        }
        pp = &st->next;
    }
}

static bool ep_eq(const struct sl_endpoint *x, const struct sl_endpoint *y)
{
    return x->family == y->family && x->port == y->port && memcmp(x->ip, y->ip, 16) == 0;
}

/* The stream of a fragment (NULL: out of memory or the streams limit). */
static struct stream *find_stream(struct sl_sctp *s, struct sl_tcp *t, const struct sl_frame *f,
                                  uint16_t sid, uint32_t tsn)
{
    struct stream *st;

    for (st = s->streams; st != NULL; st = st->next) {
        if (st->sid == sid && ep_eq(&st->src, &f->src) && ep_eq(&st->dst, &f->dst))
            return st;
    }
    if (s->n_streams >= s->o.max_streams) {
        /* reuse an idle one, else give up the one held longest */
        struct stream *old = NULL;

        for (st = s->streams; st != NULL; st = st->next) {
            if (st->n == 0 || old == NULL || (old->n > 0 && st->first_ts_us < old->first_ts_us))
                old = st;
            if (st->n == 0)
                break;
        }
        if (old == NULL)
            return NULL;
        if (old->n > 0) {
            event(t, "SIP-CAP-006", old, f->number, f->ts_us,
                  "more than %zu SCTP streams with fragments held; this one is given up",
                  s->o.max_streams);
            give_up(s, t, old, "are given up (a limit)");
        }
        st = old;
        free(st->f);
        st->f = NULL;
        st->cap = 0;
        st->sip_seen = false;
        st->done_valid = false;
    } else {
        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return NULL;
        st->next = s->streams;
        s->streams = st;
        s->n_streams++;
    }
    st->src = f->src;
    st->dst = f->dst;
    st->sid = sid;
    st->base = tsn - 0x80000000u;
    st->first_ts_us = INT64_MAX;
    return st;
}

/* Gives up the stream held longest (not `keep`): room for a new fragment. */
static bool make_room(struct sl_sctp *s, struct sl_tcp *t, struct stream *keep, size_t len,
                      const struct sl_frame *f)
{
    while (s->chunks + 1 > s->o.max_chunks || s->bytes + len > s->o.max_bytes) {
        struct stream *st, *old = NULL;

        for (st = s->streams; st != NULL; st = st->next) {
            if (st != keep && st->n > 0 && (old == NULL || st->first_ts_us < old->first_ts_us))
                old = st;
        }
        if (old == NULL)
            old = keep->n > 0 ? keep : NULL;
        if (old == NULL)
            return false; /* one fragment over the byte limit */
        event(t, "SIP-CAP-006", old, f->number, f->ts_us,
              "SCTP reassembly holds %zu fragments, %zu bytes in all (limits %zu, %zu); the "
              "fragments held longest are given up",
              s->chunks, s->bytes, s->o.max_chunks, s->o.max_bytes);
        give_up(s, t, old, "are given up (a limit)");
    }
    return true;
}

/* The outcome of one fragment. */
enum {
    FRAG_HELD = 0,  /* kept, its message not complete yet */
    FRAG_DUP = 1,   /* a copy of a fragment held or already used */
    FRAG_LIMIT = 2, /* refused at a limit */
    FRAG_DONE = 3,  /* it completed a message: *msg, *msg_len (malloc'd) */
    FRAG_NOMEM = 4
};

/* Adds a DATA chunk that is one fragment of a user message; puts the message
 * together when it completes one. */
static int add_frag(struct sl_sctp *s, struct sl_tcp *t, const struct sl_frame *f, uint32_t tsn,
                    uint16_t sid, uint16_t ssn, uint8_t flags, const uint8_t *p, size_t n,
                    uint8_t **msg, size_t *msg_len)
{
    struct stream *st = find_stream(s, t, f, sid, tsn);
    size_t i, lo, hi, total = 0;
    struct frag *fr;
    uint32_t off;

    if (st == NULL)
        return FRAG_NOMEM;
    if (st->n == 0) /* TSNs within 2^31 either side of this one keep their order */
        st->base = tsn - 0x80000000u;
    off = tsn - st->base;
    if (st->done_valid && (uint32_t)(st->done - st->base) >= off)
        return FRAG_DUP; /* a fragment of a message already put together */
    for (i = 0; i < st->n && st->f[i].tsn - st->base < off; i++)
        ;
    if (i < st->n && st->f[i].tsn == tsn)
        return FRAG_DUP;
    if (!make_room(s, t, st, n, f))
        return FRAG_LIMIT;
    for (i = 0; i < st->n && st->f[i].tsn - st->base < off; i++)
        ; /* again: make_room may have emptied this stream */
    if (st->n == st->cap) {
        size_t ncap = st->cap ? st->cap * 2 : 4;
        struct frag *nf = realloc(st->f, ncap * sizeof(*nf));

        if (nf == NULL)
            return FRAG_NOMEM;
        st->f = nf;
        st->cap = ncap;
    }
    memmove(&st->f[i + 1], &st->f[i], (st->n - i) * sizeof(st->f[0]));
    fr = &st->f[i];
    fr->data = malloc(n > 0 ? n : 1);
    if (fr->data == NULL) {
        memmove(&st->f[i], &st->f[i + 1], (st->n - i) * sizeof(st->f[0]));
        return FRAG_NOMEM;
    }
    if (n > 0)
        memcpy(fr->data, p, n);
    fr->tsn = tsn;
    fr->ssn = ssn;
    fr->flags = flags;
    fr->len = n;
    fr->frame = f->number;
    fr->ts_us = f->ts_us;
    st->n++;
    s->chunks++;
    s->bytes += n;
    if (f->ts_us < st->first_ts_us)
        st->first_ts_us = f->ts_us;
    if (f->ts_us < INT64_MAX - s->o.hold_us && f->ts_us + s->o.hold_us < s->next_due)
        s->next_due = f->ts_us + s->o.hold_us;
    /* the run of consecutive TSNs around it, of the same message */
    for (lo = i; lo > 0 && (st->f[lo].flags & SCTP_FLAG_B) == 0; lo--) {
        const struct frag *a = &st->f[lo - 1], *b = &st->f[lo];

        if (a->tsn + 1 != b->tsn || (a->flags & SCTP_FLAG_E) != 0 ||
            ((b->flags & SCTP_FLAG_U) == 0 && a->ssn != b->ssn))
            break;
    }
    for (hi = i; hi + 1 < st->n && (st->f[hi].flags & SCTP_FLAG_E) == 0; hi++) {
        const struct frag *a = &st->f[hi], *b = &st->f[hi + 1];

        if (a->tsn + 1 != b->tsn || (b->flags & SCTP_FLAG_B) != 0 ||
            ((a->flags & SCTP_FLAG_U) == 0 && a->ssn != b->ssn))
            break;
    }
    if ((st->f[lo].flags & SCTP_FLAG_B) == 0 || (st->f[hi].flags & SCTP_FLAG_E) == 0)
        return FRAG_HELD;
    for (i = lo; i <= hi; i++)
        total += st->f[i].len;
    *msg = malloc(total > 0 ? total : 1);
    if (*msg == NULL)
        return FRAG_NOMEM;
    *msg_len = total;
    total = 0;
    for (i = lo; i <= hi; i++) {
        if (st->f[i].len > 0)
            memcpy(*msg + total, st->f[i].data, st->f[i].len);
        total += st->f[i].len;
    }
    st->done = st->f[hi].tsn;
    st->done_valid = true;
    if (looks_sip(*msg, *msg_len))
        st->sip_seen = true;
    drop_frags(s, st, lo, hi - lo + 1);
    return FRAG_DONE;
}

/* ---- the packet ---------------------------------------------------------- */

/* A SIP message of the packet: borrowed from it, or put together (owned). */
struct out {
    const uint8_t *p;
    size_t n;
    uint8_t *owned;
};

/*
 * Walks the chunks of the packet in r (after the common header) to check
 * them: type, flags, length >= 4 (16 for DATA), padded to 4.  True when they
 * are all whole; otherwise f says why (truncated when the capture cut them).
 */
static bool chunks_ok(struct sl_rd r, size_t have, size_t missing, struct sl_frame *f)
{
    size_t k = 0;

    while (r.n > 0) {
        size_t at = have - r.n, clen, pad;
        uint8_t type;

        k++;
        type = sl_rd_u8(&r);
        (void)sl_rd_u8(&r); /* flags */
        clen = sl_rd_be16(&r);
        if (r.bad) {
            sl_frame_set_detail(f, missing > 0 ? SL_FRAME_TRUNCATED : SL_FRAME_MALFORMED, "SCTP",
                                "SCTP chunk %zu (at byte %zu): header cut after %zu of 4 bytes", k,
                                at, have - at);
            return false;
        }
        if (clen < 4 || (type == SCTP_DATA && clen < 16)) {
            sl_frame_set_detail(f, SL_FRAME_MALFORMED, "SCTP",
                                "SCTP chunk %zu (type %u): length %zu < %u", k, (unsigned)type,
                                clen, type == SCTP_DATA ? 16u : 4u);
            return false;
        }
        if (!sl_rd_skip(&r, clen - 4)) {
            sl_frame_set_detail(f, missing > 0 ? SL_FRAME_TRUNCATED : SL_FRAME_MALFORMED, "SCTP",
                                "SCTP chunk %zu (type %u): length %zu > %zu bytes %s", k,
                                (unsigned)type, clen, have - at,
                                missing > 0 ? "captured" : "in the IP payload");
            return false;
        }
        pad = (4 - clen % 4) % 4;
        (void)sl_rd_skip(&r, pad <= r.n ? pad : r.n); /* the last chunk may omit it */
    }
    return true;
}

/*
 * The SCTP common header (12 bytes) and its chunks.  The SIP messages of the
 * packet (whole DATA chunks, and fragmented messages its chunks complete) are
 * handed on: one whole chunk alone makes the frame a DATAGRAM; otherwise
 * they are queued through f->tcp as messages of this frame (STREAM).
 * Without f->tcp (a frame decoded on its own) fragments and several messages
 * are not decoded.  A packet cut by the capture at a chunk boundary keeps the
 * SIP chunks before the cut (truncated when there are none); one cut inside
 * a chunk, or malformed, hands nothing on.
 */
void sl_sctp_decode(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    size_t have = r->n;
    struct out out[SCTP_MAX_OUT];
    size_t n_out = 0, n_data = 0, n_frag = 0, n_held = 0, n_dup = 0, n_limit = 0, n_other = 0, i;
    bool owned = false;
    struct sl_sctp *s = f->tcp != NULL ? sl_tcp_sctp(f->tcp) : NULL;
    uint16_t sport, dport;

    f->transport = SL_TP_SCTP;
    sport = sl_rd_be16(r);
    dport = sl_rd_be16(r);
    (void)sl_rd_be32(r); /* verification tag */
    (void)sl_rd_be32(r); /* checksum */
    if (r->bad) {
        if ((size_t)12 - have <= missing)
            sl_frame_set_detail(f, SL_FRAME_TRUNCATED, "SCTP",
                                "SCTP common header: %zu of 12 bytes captured", have);
        else
            sl_frame_set_detail(f, SL_FRAME_MALFORMED, "SCTP",
                                "SCTP common header needs 12 bytes, the IP payload has %zu", have);
        return;
    }
    f->src.port = sport;
    f->dst.port = dport;
    if (!chunks_ok(*r, have, missing, f))
        return;
    while (r->n > 0) {
        struct sl_rd chunk;
        size_t clen, pad, pn;
        uint8_t type, flags;
        uint32_t tsn;
        uint16_t sid, ssn;
        const uint8_t *pl;
        uint8_t *msg = NULL;
        size_t msg_len = 0;

        type = sl_rd_u8(r);
        flags = sl_rd_u8(r);
        clen = sl_rd_be16(r);
        (void)sl_rd_sub(r, clen - 4, &chunk); /* checked by chunks_ok */
        pad = (4 - clen % 4) % 4;
        (void)sl_rd_skip(r, pad <= r->n ? pad : r->n);
        if (type != SCTP_DATA)
            continue;
        n_data++;
        tsn = sl_rd_be32(&chunk);
        sid = sl_rd_be16(&chunk);
        ssn = sl_rd_be16(&chunk);
        (void)sl_rd_be32(&chunk); /* payload protocol identifier */
        pn = chunk.n;
        pl = sl_rd_take(&chunk, pn);
        if (pl == NULL || n_out == SCTP_MAX_OUT)
            continue;
        if ((flags & (SCTP_FLAG_B | SCTP_FLAG_E)) == (SCTP_FLAG_B | SCTP_FLAG_E)) {
            if (looks_sip(pl, pn)) {
                out[n_out].p = pl;
                out[n_out].n = pn;
                out[n_out].owned = NULL;
                n_out++;
            }
            continue;
        }
        n_frag++;
        if (s == NULL)
            continue;
        switch (add_frag(s, f->tcp, f, tsn, sid, ssn, flags, pl, pn, &msg, &msg_len)) {
        case FRAG_DONE:
            if (looks_sip(msg, msg_len)) {
                out[n_out].p = msg;
                out[n_out].n = msg_len;
                out[n_out].owned = msg;
                n_out++;
                owned = true;
            } else {
                free(msg); /* a fragmented user message that is not SIP */
                n_other++;
            }
            break;
        case FRAG_HELD:
            n_held++;
            break;
        case FRAG_DUP:
            n_dup++;
            break;
        default:
            n_limit++;
            break;
        }
    }
    if (n_out == 1 && !owned) {
        f->kind = SL_FRAME_DATAGRAM;
        f->reason = "SCTP";
        f->payload = out[0].p;
        f->payload_len = out[0].n;
        return;
    }
    if (n_out > 0 && f->tcp != NULL) {
        for (i = 0; i < n_out; i++) {
            sl_tcp_push(f->tcp, &f->src, &f->dst, SL_TP_SCTP, out[i].p, out[i].n, f->number,
                        f->ts_us);
            free(out[i].owned);
        }
        f->kind = SL_FRAME_STREAM;
        f->reason = "SIP";
        return;
    }
    if (n_out == 0 && missing > 0) {
        sl_frame_set_detail(f, SL_FRAME_TRUNCATED, "SCTP", "SCTP packet: %zu of %zu bytes captured",
                            have, have + missing);
        return;
    }
    f->kind = SL_FRAME_OTHER;
    if (n_out > 1) {
        f->kind = SL_FRAME_NOT_DECODED;
        f->reason = "SCTP (several SIP messages)";
    } else if (n_limit > 0) {
        f->kind = SL_FRAME_NOT_DECODED;
        f->reason = "SCTP (over a limit)";
    } else if (n_frag > 0 && s == NULL) {
        f->kind = SL_FRAME_NOT_DECODED;
        f->reason = "SCTP (fragmented message)";
    } else if (n_other > 0) {
        f->reason = "SCTP, not SIP";
    } else if (n_held > 0) {
        f->reason = "SCTP fragment of a message";
    } else if (n_dup > 0) {
        f->reason = "SCTP retransmission";
    } else if (n_data > 0) {
        f->reason = "SCTP, not SIP";
    } else {
        f->reason = "SCTP, no DATA chunk";
    }
}
