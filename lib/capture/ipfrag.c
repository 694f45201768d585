/*
 * ipfrag.c: IP fragment reassembly (RFC 791 3.2, RFC 8200 4.5), in the spirit
 * of RFC 815: each datagram in flight keeps its bytes in one buffer and the
 * byte ranges it has received; it is complete when the ranges cover it from 0
 * to the end that the last fragment (MF / M clear) gives.
 *
 * Policies:
 *  - first copy wins: bytes already held are never overwritten; a fragment
 *    that covers them only in part is an overlap, reported once per datagram
 *    (an exact copy of a fragment is a duplicate, which is normal in captures
 *    taken at two points);
 *  - a datagram reassembled stays as a tombstone (its ranges, no bytes) until
 *    its time-out, so that a late copy of one of its fragments counts as a
 *    duplicate instead of starting a datagram that never completes; any other
 *    fragment with the same key is a new datagram (identification reused);
 *  - caps: datagrams in flight (the oldest is dropped; tombstones go first),
 *    fragments per datagram and 65535 bytes per datagram (the datagram is
 *    dropped, and later fragments of it too, until its time-out);
 *  - time-out in capture time, from the first fragment.
 * Every held frame is counted by exactly one event: REASSEMBLED, INCOMPLETE or
 * LIMIT.
 */
#include "capture/ipfrag.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rd.h"
#include "base/status.h"
#include "capture/capture.h"

#define EVENT_QUEUE 8

enum dgram_state {
    D_OPEN = 0,   /* collecting fragments */
    D_DONE = 1,   /* reassembled: a tombstone that recognises duplicates */
    D_DROPPED = 2 /* dropped at a cap: swallows its later fragments */
};

struct range {
    uint32_t off, end; /* bytes [off, end) of the datagram's payload */
};

struct dgram {
    struct sl_ipfrag_key key;
    enum dgram_state state;
    uint64_t first_frame;
    int64_t first_ts_us;
    unsigned frames;   /* frames held (duplicates included) */
    unsigned n_ranges; /* distinct ranges, sorted by off */
    bool have_last;
    bool overlap_reported;
    uint32_t total; /* payload length, once the last fragment is seen */
    uint32_t bytes; /* bytes held */
    uint8_t *buf;
    uint32_t buf_cap;
    struct range ranges[]; /* max_fragments */
};

struct sl_ipfrag {
    struct sl_ipfrag_opts o;
    struct dgram **slots; /* max_datagrams */
    size_t n_used;
    int64_t oldest_ts_us; /* <= the first_ts_us of every datagram held */
    uint8_t *out;         /* the last datagram reassembled */
    struct sl_ipfrag_event q[EVENT_QUEUE];
    unsigned q_head, q_n;
};

int sl_ipfrag_new(struct sl_ipfrag **out, const struct sl_ipfrag_opts *opts)
{
    struct sl_ipfrag *rf;

    *out = NULL;
    rf = calloc(1, sizeof(*rf));
    if (rf == NULL)
        return SL_ENOMEM;
    if (opts != NULL)
        rf->o = *opts;
    if (rf->o.max_datagrams == 0)
        rf->o.max_datagrams = SL_IPFRAG_MAX_DATAGRAMS;
    if (rf->o.max_fragments == 0)
        rf->o.max_fragments = SL_IPFRAG_MAX_FRAGMENTS;
    if (rf->o.timeout_us <= 0)
        rf->o.timeout_us = SL_IPFRAG_TIMEOUT_US;
    rf->slots = calloc(rf->o.max_datagrams, sizeof(*rf->slots));
    if (rf->slots == NULL) {
        free(rf);
        return SL_ENOMEM;
    }
    *out = rf;
    return SL_OK;
}

static void free_slot(struct sl_ipfrag *rf, size_t i)
{
    if (rf->slots[i] == NULL)
        return;
    free(rf->slots[i]->buf);
    free(rf->slots[i]);
    rf->slots[i] = NULL;
    rf->n_used--;
}

void sl_ipfrag_free(struct sl_ipfrag *rf)
{
    size_t i;

    if (rf == NULL)
        return;
    for (i = 0; i < rf->o.max_datagrams; i++)
        free_slot(rf, i);
    free(rf->slots);
    free(rf->out);
    free(rf);
}

size_t sl_ipfrag_in_flight(const struct sl_ipfrag *rf)
{
    return rf != NULL ? rf->n_used : 0;
}

/* ---- events --------------------------------------------------------------- */

static const char *frag_reason(const struct sl_ipfrag_key *k, enum sl_ipfrag_event_kind kind)
{
    bool v4 = k->family == 4;

    switch (kind) {
    case SL_IPFRAG_REASSEMBLED:
        return v4 ? "IPv4 fragment (reassembled)" : "IPv6 fragment (reassembled)";
    case SL_IPFRAG_INCOMPLETE:
    case SL_IPFRAG_OVERLAP:
        return v4 ? "IPv4 fragment (datagram incomplete)" : "IPv6 fragment (datagram incomplete)";
    case SL_IPFRAG_LIMIT:
        return v4 ? "IPv4 fragment (over a limit)" : "IPv6 fragment (over a limit)";
    }
    return "IP fragment";
}

/* "IPv4 datagram 192.0.2.1 -> 198.51.100.7 (id 0x1234, UDP)" */
static void describe(const struct sl_ipfrag_event *ev, const struct sl_ipfrag_key *k, char *buf,
                     size_t len)
{
    char a[48], b[48], proto[24];

    sl_endpoint_addr(&ev->src, a, sizeof(a));
    sl_endpoint_addr(&ev->dst, b, sizeof(b));
    if (k->proto == 17)
        snprintf(proto, sizeof(proto), "UDP");
    else if (k->proto == 6)
        snprintf(proto, sizeof(proto), "TCP");
    else
        snprintf(proto, sizeof(proto), "protocol %u", (unsigned)k->proto);
    snprintf(buf, len, "IPv%u datagram %s -> %s (id 0x%" PRIx32 ", %s)", (unsigned)k->family, a, b,
             k->id, proto);
}

/* Queues an event about d (frames it accounts for, frame and time it names). */
static struct sl_ipfrag_event *push(struct sl_ipfrag *rf, const struct dgram *d,
                                    enum sl_ipfrag_event_kind kind, uint64_t frames, uint64_t frame,
                                    int64_t ts_us)
{
    struct sl_ipfrag_event *ev;
    size_t ipl = d->key.family == 4 ? 4 : 16;

    if (rf->q_n == EVENT_QUEUE) /* cannot happen: one decode queues at most 3 */
        return NULL;
    ev = &rf->q[(rf->q_head + rf->q_n) % EVENT_QUEUE];
    rf->q_n++;
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->stat_kind = kind == SL_IPFRAG_REASSEMBLED ? SL_FRAME_OTHER
                    : kind == SL_IPFRAG_LIMIT     ? SL_FRAME_NOT_DECODED
                                                  : SL_FRAME_MALFORMED;
    ev->reason = frag_reason(&d->key, kind);
    ev->frames = frames;
    ev->frame = frame;
    ev->ts_us = ts_us;
    ev->src.family = d->key.family;
    ev->dst.family = d->key.family;
    memcpy(ev->src.ip, d->key.src, ipl);
    memcpy(ev->dst.ip, d->key.dst, ipl);
    return ev;
}

/* The first byte missing from d (its ranges are sorted). */
static uint32_t first_gap(const struct dgram *d)
{
    uint32_t cur = 0;
    unsigned i;

    for (i = 0; i < d->n_ranges; i++) {
        if (d->ranges[i].off > cur)
            break;
        if (d->ranges[i].end > cur)
            cur = d->ranges[i].end;
    }
    return cur;
}

/* An INCOMPLETE event for the open datagram d (why: "after 30 s", ...). */
static void push_incomplete(struct sl_ipfrag *rf, const struct dgram *d, const char *why)
{
    struct sl_ipfrag_event *ev;
    char what[192];

    ev = push(rf, d, SL_IPFRAG_INCOMPLETE, d->frames, d->first_frame, d->first_ts_us);
    if (ev == NULL)
        return;
    describe(ev, &d->key, what, sizeof(what));
    if (d->have_last)
        snprintf(ev->text, sizeof(ev->text),
                 "%s incomplete %s: %u fragment%s held, %" PRIu32 " of %" PRIu32
                 " bytes, byte %" PRIu32 " missing; dropped",
                 what, why, d->frames, d->frames == 1 ? "" : "s", d->bytes, d->total, first_gap(d));
    else
        snprintf(ev->text, sizeof(ev->text),
                 "%s incomplete %s: %u fragment%s held, %" PRIu32
                 " bytes, the last fragment never came; dropped",
                 what, why, d->frames, d->frames == 1 ? "" : "s", d->bytes);
}

int sl_ipfrag_poll(struct sl_ipfrag *rf, int64_t now_us, bool flush, struct sl_ipfrag_event *ev)
{
    int64_t oldest = INT64_MAX;
    size_t i;

    if (rf == NULL)
        return 0;
    for (;;) {
        if (rf->q_n > 0) {
            *ev = rf->q[rf->q_head];
            rf->q_head = (rf->q_head + 1) % EVENT_QUEUE;
            rf->q_n--;
            return 1;
        }
        if (rf->n_used == 0)
            return 0;
        if (!flush && (now_us < rf->oldest_ts_us || now_us - rf->oldest_ts_us < rf->o.timeout_us))
            return 0;
        for (i = 0; i < rf->o.max_datagrams && rf->q_n == 0; i++) {
            struct dgram *d = rf->slots[i];

            if (d == NULL)
                continue;
            if (!flush && (now_us < d->first_ts_us || now_us - d->first_ts_us < rf->o.timeout_us)) {
                if (d->first_ts_us < oldest)
                    oldest = d->first_ts_us;
                continue;
            }
            if (d->state == D_OPEN) {
                char why[48];

                if (flush)
                    snprintf(why, sizeof(why), "at the end of the capture");
                else
                    snprintf(why, sizeof(why), "after %" PRId64 " s", rf->o.timeout_us / 1000000);
                push_incomplete(rf, d, why);
            }
            free_slot(rf, i);
        }
        if (rf->q_n == 0) {
            /* a whole scan: oldest is exact now */
            rf->oldest_ts_us = oldest;
            return 0;
        }
    }
}

/* ---- adding fragments ----------------------------------------------------- */

static bool key_eq(const struct sl_ipfrag_key *a, const struct sl_ipfrag_key *b)
{
    size_t ipl = a->family == 4 ? 4 : 16;

    return a->family == b->family && a->proto == b->proto && a->id == b->id &&
           memcmp(a->src, b->src, ipl) == 0 && memcmp(a->dst, b->dst, ipl) == 0;
}

/* Drops d at a cap: a LIMIT event for the frames it held (text: why). */
static void drop(struct sl_ipfrag *rf, struct dgram *d, uint64_t frame, int64_t ts_us,
                 const char *why)
{
    struct sl_ipfrag_event *ev;
    char what[192];

    ev = push(rf, d, SL_IPFRAG_LIMIT, d->frames, d->frames > 0 ? d->first_frame : frame,
              d->frames > 0 ? d->first_ts_us : ts_us);
    if (ev != NULL) {
        describe(ev, &d->key, what, sizeof(what));
        snprintf(ev->text, sizeof(ev->text), "%s %s; its fragments were dropped", what, why);
    }
    free(d->buf);
    d->buf = NULL;
    d->buf_cap = 0;
    d->state = D_DROPPED;
}

/* A free slot for a new datagram; when all are taken, a tombstone is freed,
 * else the oldest open datagram is dropped (a LIMIT event). */
static size_t take_slot(struct sl_ipfrag *rf, uint64_t frame, int64_t ts_us)
{
    size_t i, victim = SIZE_MAX;
    char why[96];

    for (i = 0; i < rf->o.max_datagrams; i++) {
        if (rf->slots[i] == NULL)
            return i;
    }
    for (i = 0; i < rf->o.max_datagrams; i++) {
        if (rf->slots[i]->state != D_OPEN) {
            free_slot(rf, i);
            return i;
        }
        if (victim == SIZE_MAX || rf->slots[i]->first_ts_us < rf->slots[victim]->first_ts_us)
            victim = i;
    }
    snprintf(why, sizeof(why),
             "was dropped to make room: more than %u datagrams in reassembly (--limit "
             "ip-datagrams)",
             rf->o.max_datagrams);
    drop(rf, rf->slots[victim], frame, ts_us, why);
    free_slot(rf, victim);
    return victim;
}

/* Makes room for bytes up to end (<= SL_IPFRAG_MAX_BYTES). */
static bool grow(struct dgram *d, uint32_t end)
{
    uint32_t cap = d->buf_cap > 0 ? d->buf_cap : 2048;
    uint8_t *nb;

    if (end <= d->buf_cap)
        return true;
    while (cap < end)
        cap *= 2;
    if (cap > SL_IPFRAG_MAX_BYTES)
        cap = SL_IPFRAG_MAX_BYTES;
    nb = realloc(d->buf, cap);
    if (nb == NULL)
        return false;
    d->buf = nb;
    d->buf_cap = cap;
    return true;
}

/* Copies [from, to) of the fragment (which starts at `off` and is read by
 * data, positioned at *pos) into the buffer. */
static void copy_part(struct dgram *d, struct sl_rd *data, uint32_t *pos, uint32_t from,
                      uint32_t to)
{
    (void)sl_rd_skip(data, from - *pos);
    (void)sl_rd_copy(data, d->buf + from, to - from);
    *pos = to;
    d->bytes += to - from;
}

enum sl_ipfrag_result sl_ipfrag_add(struct sl_ipfrag *rf, const struct sl_ipfrag_key *k,
                                    uint32_t offset, bool more, struct sl_rd *data, uint64_t frame,
                                    int64_t ts_us, struct sl_rd *out)
{
    struct dgram *d = NULL;
    size_t i, slot = SIZE_MAX;
    uint64_t end64 = (uint64_t)offset + data->n;
    uint32_t end, cur, pos;
    unsigned j, at;
    bool overlap = false, dup = false, past_end = false;

    free(rf->out);
    rf->out = NULL;
    *out = sl_rd_init(NULL, 0);
    for (i = 0; i < rf->o.max_datagrams; i++) {
        if (rf->slots[i] != NULL && key_eq(&rf->slots[i]->key, k)) {
            d = rf->slots[i];
            slot = i;
            break;
        }
    }
    if (d != NULL && d->state == D_DROPPED)
        return SL_IPFRAG_DROPPED;
    if (d != NULL && d->state == D_DONE) {
        for (j = 0; j < d->n_ranges; j++) {
            if (d->ranges[j].off == offset && d->ranges[j].end == end64)
                return SL_IPFRAG_DUPLICATE;
        }
        free_slot(rf, slot); /* the identification is reused: a new datagram */
        d = NULL;
    }
    if (d == NULL) {
        slot = take_slot(rf, frame, ts_us);
        d = calloc(1, sizeof(*d) + rf->o.max_fragments * sizeof(d->ranges[0]));
        if (d == NULL) {
            /* out of memory: treated as a cap, never a crash */
            struct dgram tmp;

            memset(&tmp, 0, sizeof(tmp));
            tmp.key = *k;
            drop(rf, &tmp, frame, ts_us, "could not be held (out of memory)");
            return SL_IPFRAG_DROPPED;
        }
        d->key = *k;
        d->first_frame = frame;
        d->first_ts_us = ts_us;
        rf->slots[slot] = d;
        if (rf->n_used == 0 || ts_us < rf->oldest_ts_us)
            rf->oldest_ts_us = ts_us;
        rf->n_used++;
    }
    if (end64 > SL_IPFRAG_MAX_BYTES) {
        char why[96];

        snprintf(why, sizeof(why), "exceeds %u bytes (frame %" PRIu64 " ends at byte %" PRIu64 ")",
                 (unsigned)SL_IPFRAG_MAX_BYTES, frame, end64);
        drop(rf, d, frame, ts_us, why);
        return SL_IPFRAG_DROPPED;
    }
    end = (uint32_t)end64;
    if (d->frames >= rf->o.max_fragments) {
        char why[96];

        snprintf(why, sizeof(why),
                 "has more than %u fragments (frame %" PRIu64 "; --limit ip-fragments)",
                 rf->o.max_fragments, frame);
        drop(rf, d, frame, ts_us, why);
        return SL_IPFRAG_DROPPED;
    }
    if (!grow(d, end)) {
        drop(rf, d, frame, ts_us, "could not be held (out of memory)");
        return SL_IPFRAG_DROPPED;
    }
    d->frames++;
    /* the end of the datagram: the first last fragment decides */
    if (!more) {
        if (!d->have_last) {
            d->have_last = true;
            d->total = end;
            for (j = 0; j < d->n_ranges; j++)
                past_end = past_end || d->ranges[j].end > end;
        } else if (d->total != end) {
            past_end = true;
        }
    } else if (d->have_last && end > d->total) {
        past_end = true;
    }
    /* first copy wins: copy only the bytes no earlier fragment brought */
    cur = offset;
    pos = offset;
    at = d->n_ranges;
    for (j = 0; j < d->n_ranges; j++) {
        const struct range *r = &d->ranges[j];

        if (r->off == offset && r->end == end)
            dup = true;
        if (at == d->n_ranges && (r->off > offset || (r->off == offset && r->end > end)))
            at = j;
        if (r->end <= cur || r->off >= end)
            continue;
        overlap = true;
        if (r->off > cur)
            copy_part(d, data, &pos, cur, r->off);
        if (r->end > cur)
            cur = r->end;
    }
    if (cur < end)
        copy_part(d, data, &pos, cur, end);
    if (!dup) {
        /* d->n_ranges < max_fragments: frames (>= ranges) was below it */
        memmove(&d->ranges[at + 1], &d->ranges[at], (d->n_ranges - at) * sizeof(d->ranges[0]));
        d->ranges[at].off = offset;
        d->ranges[at].end = end;
        d->n_ranges++;
    }
    if (((overlap && !dup) || past_end) && !d->overlap_reported) {
        struct sl_ipfrag_event *ev = push(rf, d, SL_IPFRAG_OVERLAP, 0, frame, ts_us);

        d->overlap_reported = true;
        if (ev != NULL) {
            char what[192];

            describe(ev, &d->key, what, sizeof(what));
            snprintf(ev->text, sizeof(ev->text),
                     past_end ? "fragment (bytes %" PRIu32 "-%" PRIu32
                                ") disagrees with the end of %s; the first copy of each byte was "
                                "kept"
                              : "fragment (bytes %" PRIu32 "-%" PRIu32
                                ") overlaps bytes already held of %s; the first copy was kept",
                     offset, end, what);
        }
    }
    if (!d->have_last || first_gap(d) < d->total)
        return SL_IPFRAG_HELD;
    /* complete */
    (void)push(rf, d, SL_IPFRAG_REASSEMBLED, d->frames - 1, d->first_frame, d->first_ts_us);
    rf->out = d->buf;
    *out = sl_rd_init(rf->out, d->total);
    d->buf = NULL;
    d->buf_cap = 0;
    d->state = D_DONE;
    return SL_IPFRAG_DONE;
}
