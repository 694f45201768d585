/*
 * tcp.c: TCP stream reassembly (RFC 9293) and SIP framing on streams
 * (RFC 3261 18.3).
 *
 * A connection is keyed by its two endpoints; each direction is its own byte
 * stream.  Sequence numbers become 64-bit stream offsets through the signed
 * 32-bit difference to the next byte expected, so wrap-around needs nothing
 * special.  Policies:
 *  - a stream starts at its SYN, or at its first segment with data when the
 *    SYN was not captured; framing starts at the first SIP start line;
 *  - bytes already received are never overwritten (first copy wins): a
 *    retransmission adds nothing, an overlapping segment adds what is new;
 *  - a segment beyond the next byte expected is held (out of order, at most
 *    SL_TCP_MAX_OOO segments and max_bytes per direction, for hold_us); when
 *    the missing bytes do not come, the gap is reported (SIP-CAP-007, in a
 *    stream that carried SIP), the
 *    message it cut is dropped and framing resyncs at the next start line;
 *  - messages end at the header end plus Content-Length (or `l`); CRLF
 *    keep-alives (RFC 5626 4.4.1) between messages are skipped; a message
 *    without Content-Length cannot be framed: it is reported (SIP-HDR-011)
 *    and framing resyncs;
 *  - a stream whose first bytes are a TLS record (RFC 8446 5.1: content type
 *    20-23, version 3.x) is skipped, its frames not decoded ("TLS");
 *  - a stream whose first bytes are an HTTP upgrade to WebSocket (RFC 6455 4:
 *    "GET " or "HTTP/1.1 101" naming websocket) is SIP over WebSocket
 *    (RFC 7118): each direction skips its HTTP header section, then reads
 *    WebSocket frames (ws.c): text and binary messages, fragmented ones
 *    reassembled (at most SL_WS_MAX_MSG bytes), become one SIP message each
 *    (transport ws), unmasked; control frames are skipped.  A malformed
 *    frame is a SIP-CAP-003 problem and the rest of that direction is not
 *    decoded ("WebSocket (after a malformed frame)");
 *  - FIN (once every byte before it is in), RST and an idle time-out close a
 *    direction: held bytes are settled (gaps, an unfinished message);
 *  - caps: bytes held per direction and in total, connections in flight (the
 *    least recently used is given up); hitting one is a SIP-CAP-006 problem.
 * All packet bytes are read through base/rd.h (sl_tcp_decode); the stream
 * buffers are our own copies, scanned with explicit lengths.
 */
#include "capture/tcp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rd.h"
#include "base/status.h"
#include "capture/capture.h"
#include "capture/sctp.h"

#define N_BUCKETS     8192
#define MAX_LINE      1024 /* a start line longer than this is not looked for */
#define FIRST_LINE_OK 4096 /* a first line longer than this is not a start line */
#define WS_MAX_HTTP   8192 /* the HTTP header section of a WebSocket handshake */

enum {
    WS_HANDSHAKE = 0,
    WS_FRAMES = 1,
    WS_DEAD = 2
};

struct ooo {
    uint64_t off;
    size_t len;
    uint8_t *data;
    uint64_t frame;
    int64_t ts_us;
};

struct dir {
    bool started, closed, syn_seen, fin_seen, tls, ws, classified, framing;
    bool hep;          /* a HEP stream: framed by the HEP packets' lengths */
    bool hep_v3;       /* HEP3 packets (else HEPv1/v2 headers before SIP messages) */
    bool hep_sync;     /* the buffer starts at a HEP packet (else: resync) */
    bool sip_seen;     /* a SIP start line was found: gaps are worth reporting */
    uint32_t base_seq; /* sequence number of stream offset 0 */
    uint64_t next_off; /* next stream offset expected */
    uint64_t fin_off;
    uint8_t *buf; /* unframed bytes: buf[start, start + len), ending at next_off */
    size_t start, len, cap;
    uint64_t skip;       /* bytes of a message over the limit still to skip */
    uint64_t last_frame; /* the last segment with data */
    int64_t last_ts_us;
    struct ooo ooo[SL_TCP_MAX_OOO];
    unsigned n_ooo;
    size_t ooo_bytes;
    /* WebSocket (ws set) */
    int ws_state;
    bool ws_in_msg; /* a fragmented message is being collected in wmsg */
    uint8_t *wmsg;
    size_t wlen, wcap;
};

struct conn {
    struct sl_endpoint a, b; /* d[0] goes a -> b */
    struct dir d[2];
    /* frames not decoded because the stream is TLS: reported once, when the
     * connection ends (tls_src: the sender of the first of them) */
    uint64_t tls_frames, tls_first, tls_last;
    int64_t tls_first_ts;
    struct sl_endpoint tls_src, tls_dst;
    struct conn *hnext;
    struct conn *prev, *next; /* least recently used first */
    size_t bucket;
    int64_t last_ts_us;
};

struct outmsg {
    struct sl_stream_msg m;
    uint8_t *data;
};

/* A UDP flow (either direction) of DTLS records: reported once. */
struct dtls_flow {
    struct sl_endpoint a, b; /* a: the sender of the first datagram */
    uint64_t frames, first, last;
    int64_t first_ts_us, last_ts_us;
};

struct sl_tcp {
    struct sl_tcp_opts o;
    struct sl_sctp *sctp; /* SCTP message reassembly (sctp.c), made when first needed */
    struct dtls_flow *dtls;
    size_t n_dtls, cap_dtls;
    int64_t dtls_next_due; /* no DTLS flow is idle long enough before this time */
    struct conn *buckets[N_BUCKETS];
    struct conn *lru_head, *lru_tail;
    size_t n_conns;
    size_t held; /* bytes held in every buffer */
    bool total_reported, streams_reported;
    /* the segment being added */
    uint64_t cur_frame;
    int64_t cur_ts_us;
    bool in_add, cur_counted, cur_keepalive;
    bool cur_ws_handshake, cur_ws_control, cur_ws_part;
    bool cur_hep_other; /* a HEP packet that is not SIP (RTCP, logs) ended in this segment */
    /* output */
    struct outmsg *msgs;
    size_t n_msgs, cap_msgs, rd_msgs;
    struct sl_tcp_event *evs;
    size_t n_evs, cap_evs, rd_evs;
};

int sl_tcp_new(struct sl_tcp **out, const struct sl_tcp_opts *opts)
{
    struct sl_tcp *t;

    *out = NULL;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return SL_ENOMEM;
    if (opts != NULL)
        t->o = *opts;
    if (t->o.max_streams == 0)
        t->o.max_streams = SL_TCP_MAX_STREAMS;
    if (t->o.max_bytes == 0)
        t->o.max_bytes = SL_TCP_MAX_BYTES;
    if (t->o.max_total == 0)
        t->o.max_total = SL_TCP_MAX_TOTAL;
    if (t->o.idle_us <= 0)
        t->o.idle_us = SL_TCP_IDLE_US;
    if (t->o.hold_us <= 0)
        t->o.hold_us = SL_TCP_HOLD_US;
    *out = t;
    return SL_OK;
}

static void clear_msgs(struct sl_tcp *t)
{
    size_t i;

    for (i = 0; i < t->n_msgs; i++)
        free(t->msgs[i].data);
    t->n_msgs = 0;
    t->rd_msgs = 0;
}

static void free_dir(struct sl_tcp *t, struct dir *d)
{
    unsigned i;

    for (i = 0; i < d->n_ooo; i++)
        free(d->ooo[i].data);
    t->held -= d->ooo_bytes + d->len;
    free(d->buf);
    free(d->wmsg);
    memset(d, 0, sizeof(*d));
}

static void unlink_conn(struct sl_tcp *t, struct conn *c)
{
    struct conn **pp = &t->buckets[c->bucket];

    while (*pp != NULL && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp == c)
        *pp = c->hnext;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        t->lru_head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        t->lru_tail = c->prev;
    t->n_conns--;
}

static void report_tls(struct sl_tcp *t, const struct conn *c);

static void free_conn(struct sl_tcp *t, struct conn *c)
{
    report_tls(t, c);
    unlink_conn(t, c);
    free_dir(t, &c->d[0]);
    free_dir(t, &c->d[1]);
    free(c);
}

void sl_tcp_free(struct sl_tcp *t)
{
    if (t == NULL)
        return;
    while (t->lru_head != NULL)
        free_conn(t, t->lru_head);
    clear_msgs(t);
    sl_sctp_free(t->sctp);
    free(t->dtls);
    free(t->msgs);
    free(t->evs);
    free(t);
}

struct sl_sctp *sl_tcp_sctp(struct sl_tcp *t)
{
    if (t->sctp == NULL && sl_sctp_new(&t->sctp, NULL) != SL_OK)
        t->sctp = NULL;
    return t->sctp;
}

size_t sl_tcp_in_flight(const struct sl_tcp *t)
{
    return t != NULL ? t->n_conns : 0;
}

/* ---- output ------------------------------------------------------------- */

static void add_event(struct sl_tcp *t, const char *rule, const struct conn *c, int di,
                      uint64_t frame, int64_t ts_us, const char *fmt, ...)
        __attribute__((format(printf, 7, 8)));

/* A new event (NULL when out of memory: the problem is not reported,
 * nothing breaks). */
static struct sl_tcp_event *new_event(struct sl_tcp *t, const char *rule,
                                      const struct sl_endpoint *src, const struct sl_endpoint *dst,
                                      enum sl_transport tp, uint64_t frame, int64_t ts_us)
{
    struct sl_tcp_event *ev;

    if (t->n_evs == t->cap_evs) {
        size_t ncap = t->cap_evs ? t->cap_evs * 2 : 8;
        struct sl_tcp_event *n = realloc(t->evs, ncap * sizeof(*n));

        if (n == NULL)
            return NULL;
        t->evs = n;
        t->cap_evs = ncap;
    }
    ev = &t->evs[t->n_evs++];
    memset(ev, 0, sizeof(*ev));
    ev->rule = rule;
    ev->transport = tp;
    ev->frame = frame;
    ev->ts_us = ts_us;
    ev->src = *src;
    ev->dst = *dst;
    return ev;
}

void sl_tcp_report(struct sl_tcp *t, const char *rule, const struct sl_endpoint *src,
                   const struct sl_endpoint *dst, enum sl_transport tp, uint64_t frame,
                   int64_t ts_us, const char *fmt, ...)
{
    struct sl_tcp_event *ev = new_event(t, rule, src, dst, tp, frame, ts_us);
    va_list ap;

    if (ev == NULL)
        return;
    va_start(ap, fmt);
    if (vsnprintf(ev->text, sizeof(ev->text), fmt, ap) < 0)
        ev->text[0] = '\0';
    va_end(ap);
}

/* ---- TLS and DTLS: one report per stream -------------------------------- */

static const char TLS_REASON[] = "TLS";

static int ep_cmp(const struct sl_endpoint *x, const struct sl_endpoint *y);

/* "frame 7" or "frames 7 to 9" into buf. */
static const char *frames_text(char *buf, size_t len, uint64_t first, uint64_t last)
{
    if (first == last)
        snprintf(buf, len, "frame %" PRIu64, first);
    else
        snprintf(buf, len, "frames %" PRIu64 " to %" PRIu64, first, last);
    return buf;
}

/* A connection that carried TLS ends: its frames not decoded, in one problem
 * (SIP-CAP-004).  Nothing for one that carried none. */
static void report_tls(struct sl_tcp *t, const struct conn *c)
{
    char a[64], b[64], r[64];

    if (c->tls_frames == 0)
        return;
    sl_tcp_report(
            t, "SIP-CAP-004", &c->tls_src, &c->tls_dst, SL_TP_TCP, c->tls_first, c->tls_first_ts,
            "TLS stream %s <-> %s: %" PRIu64 " segment%s (%s) encrypted (RFC 8446), not "
            "decoded: any SIP it carries cannot be read without its keys",
            sl_endpoint_format(&c->tls_src, a, sizeof(a)),
            sl_endpoint_format(&c->tls_dst, b, sizeof(b)), c->tls_frames,
            c->tls_frames == 1 ? "" : "s", frames_text(r, sizeof(r), c->tls_first, c->tls_last));
}

static void report_dtls(struct sl_tcp *t, const struct dtls_flow *fl)
{
    char a[64], b[64], r[64];

    sl_tcp_report(t, "SIP-CAP-004", &fl->a, &fl->b, SL_TP_UDP, fl->first, fl->first_ts_us,
                  "DTLS flow %s <-> %s: %" PRIu64 " datagram%s (%s) encrypted (RFC 9147), not "
                  "decoded: any SIP it carries cannot be read without its keys",
                  sl_endpoint_format(&fl->a, a, sizeof(a)),
                  sl_endpoint_format(&fl->b, b, sizeof(b)), fl->frames, fl->frames == 1 ? "" : "s",
                  frames_text(r, sizeof(r), fl->first, fl->last));
}

/* Reports and forgets flow i. */
static void end_dtls(struct sl_tcp *t, size_t i)
{
    report_dtls(t, &t->dtls[i]);
    t->dtls[i] = t->dtls[--t->n_dtls];
}

void sl_tcp_dtls(struct sl_tcp *t, const struct sl_frame *f)
{
    struct dtls_flow *fl = NULL;
    size_t i;

    for (i = 0; i < t->n_dtls && fl == NULL; i++) {
        struct dtls_flow *x = &t->dtls[i];

        if ((ep_cmp(&x->a, &f->src) == 0 && ep_cmp(&x->b, &f->dst) == 0) ||
            (ep_cmp(&x->a, &f->dst) == 0 && ep_cmp(&x->b, &f->src) == 0))
            fl = x;
    }
    if (fl == NULL) {
        if (t->n_dtls == SL_DTLS_MAX_FLOWS) {
            size_t old = 0; /* full: the flow idle longest is reported now */

            for (i = 1; i < t->n_dtls; i++) {
                if (t->dtls[i].last_ts_us < t->dtls[old].last_ts_us)
                    old = i;
            }
            end_dtls(t, old);
        }
        if (t->n_dtls == t->cap_dtls) {
            size_t ncap = t->cap_dtls ? t->cap_dtls * 2 : 8;
            struct dtls_flow *n = realloc(t->dtls, ncap * sizeof(*n));

            if (n == NULL)
                return; /* out of memory: not reported, nothing breaks */
            t->dtls = n;
            t->cap_dtls = ncap;
        }
        fl = &t->dtls[t->n_dtls++];
        memset(fl, 0, sizeof(*fl));
        fl->a = f->src;
        fl->b = f->dst;
        fl->first = f->number;
        fl->first_ts_us = f->ts_us;
    }
    fl->frames++;
    fl->last = f->number;
    if (f->ts_us > fl->last_ts_us || fl->frames == 1)
        fl->last_ts_us = f->ts_us;
    if (fl->last_ts_us < INT64_MAX - t->o.idle_us &&
        (t->dtls_next_due == 0 || fl->last_ts_us + t->o.idle_us < t->dtls_next_due))
        t->dtls_next_due = fl->last_ts_us + t->o.idle_us;
}

/* DTLS flows idle for the idle time-out (every one with flush) are reported. */
static void expire_dtls(struct sl_tcp *t, int64_t now_us, bool flush)
{
    size_t i;

    if (t->n_dtls == 0 || (!flush && now_us < t->dtls_next_due))
        return;
    t->dtls_next_due = 0;
    for (i = 0; i < t->n_dtls;) {
        const struct dtls_flow *fl = &t->dtls[i];

        if (flush ||
            (now_us > INT64_MIN + t->o.idle_us && fl->last_ts_us < now_us - t->o.idle_us)) {
            end_dtls(t, i);
            continue;
        }
        if (t->dtls_next_due == 0 || fl->last_ts_us + t->o.idle_us < t->dtls_next_due)
            t->dtls_next_due = fl->last_ts_us + t->o.idle_us;
        i++;
    }
}

static void add_event(struct sl_tcp *t, const char *rule, const struct conn *c, int di,
                      uint64_t frame, int64_t ts_us, const char *fmt, ...)
{
    struct sl_tcp_event *ev;
    char a[64], b[64];
    char body[300];
    va_list ap;

    ev = new_event(t, rule, di == 0 ? &c->a : &c->b, di == 0 ? &c->b : &c->a, SL_TP_TCP, frame,
                   ts_us);
    if (ev == NULL)
        return;
    va_start(ap, fmt);
    if (vsnprintf(body, sizeof(body), fmt, ap) < 0)
        body[0] = '\0';
    va_end(ap);
    snprintf(ev->text, sizeof(ev->text), "TCP stream %s -> %s: %s",
             sl_endpoint_format(&ev->src, a, sizeof(a)), sl_endpoint_format(&ev->dst, b, sizeof(b)),
             body);
}

/* Queues a message of n bytes at p (copied), followed in the same buffer by
 * extra_n bytes at extra (a HEP correlation id; m.data stays the n bytes). */
static struct outmsg *queue_msg(struct sl_tcp *t, const uint8_t *p, size_t n, const uint8_t *extra,
                                size_t extra_n)
{
    struct outmsg *om;

    if (t->n_msgs == t->cap_msgs) {
        size_t ncap = t->cap_msgs ? t->cap_msgs * 2 : 8;
        struct outmsg *nm = realloc(t->msgs, ncap * sizeof(*nm));

        if (nm == NULL)
            return NULL;
        t->msgs = nm;
        t->cap_msgs = ncap;
    }
    om = &t->msgs[t->n_msgs];
    memset(om, 0, sizeof(*om));
    if (extra_n > SIZE_MAX - n - 1)
        return NULL;
    om->data = malloc(n + extra_n + 1);
    if (om->data == NULL)
        return NULL;
    if (n > 0)
        memcpy(om->data, p, n);
    if (extra_n > 0)
        memcpy(om->data + n, extra, extra_n);
    t->n_msgs++;
    om->m.data = om->data;
    om->m.len = n;
    return om;
}

/* Sets the frame, time and counts_frame of a message just queued: while a
 * segment is being added, that segment's (the first message it completes
 * counts it); otherwise `frame` and `ts_us`, counting the frame when no
 * message queued before counts it. */
static void set_frame(struct sl_tcp *t, struct outmsg *om, uint64_t frame, int64_t ts_us)
{
    size_t i;

    if (t->in_add) {
        om->m.frame = t->cur_frame;
        om->m.ts_us = t->cur_ts_us;
        if (!t->cur_counted) {
            t->cur_counted = true;
            om->m.counts_frame = true;
        }
        return;
    }
    om->m.frame = frame;
    om->m.ts_us = ts_us;
    om->m.counts_frame = true;
    for (i = 0; i + 1 < t->n_msgs; i++) {
        if (t->msgs[i].m.frame == frame && t->msgs[i].m.counts_frame)
            om->m.counts_frame = false;
    }
}

void sl_tcp_push(struct sl_tcp *t, const struct sl_endpoint *src, const struct sl_endpoint *dst,
                 enum sl_transport tp, const uint8_t *p, size_t n, uint64_t frame, int64_t ts_us)
{
    struct outmsg *om;

    om = queue_msg(t, p, n, NULL, 0);
    if (om == NULL)
        return;
    om->m.src = *src;
    om->m.dst = *dst;
    om->m.transport = tp;
    set_frame(t, om, frame, ts_us);
}

void sl_tcp_push_hep(struct sl_tcp *t, const struct sl_frame *hf, const uint8_t *p, size_t n)
{
    struct outmsg *om;

    om = queue_msg(t, p, n, hf->hep_correlation, hf->hep_correlation_len);
    if (om == NULL)
        return;
    om->m.src = hf->src;
    om->m.dst = hf->dst;
    om->m.transport = hf->transport;
    om->m.hep_version = hf->hep_version;
    om->m.hep_ts_us = hf->hep_ts_us;
    om->m.hep_has_agent_id = hf->hep_has_agent_id;
    om->m.hep_agent_id = hf->hep_agent_id;
    if (hf->hep_correlation_len > 0) {
        om->m.hep_correlation = om->data + n;
        om->m.hep_correlation_len = hf->hep_correlation_len;
    }
    set_frame(t, om, hf->number, hf->ts_us);
}

static void add_msg(struct sl_tcp *t, const struct conn *c, int di, const uint8_t *p, size_t n,
                    uint64_t frame, int64_t ts_us, const char *problem, const char *text)
{
    struct outmsg *om;

    om = queue_msg(t, p, n, NULL, 0);
    if (om == NULL)
        return;
    om->m.transport = c->d[di].ws ? SL_TP_WS : SL_TP_TCP;
    om->m.src = di == 0 ? c->a : c->b;
    om->m.dst = di == 0 ? c->b : c->a;
    set_frame(t, om, frame, ts_us);
    om->m.problem = problem;
    if (text != NULL)
        snprintf(om->m.text, sizeof(om->m.text), "%s", text);
}

int sl_tcp_message(struct sl_tcp *t, struct sl_stream_msg *m)
{
    if (t == NULL)
        return 0;
    if (t->rd_msgs >= t->n_msgs) {
        clear_msgs(t);
        return 0;
    }
    *m = t->msgs[t->rd_msgs++].m;
    return 1;
}

int sl_tcp_event(struct sl_tcp *t, struct sl_tcp_event *ev)
{
    if (t == NULL)
        return 0;
    if (t->rd_evs >= t->n_evs) {
        t->n_evs = 0;
        t->rd_evs = 0;
        return 0;
    }
    *ev = t->evs[t->rd_evs++];
    return 1;
}

/* ---- SIP framing -------------------------------------------------------- */

static int lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static bool is_token_char(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != 0 && strchr("-.!%*_+`'~", ch) != NULL);
}

static bool ieq(const uint8_t *p, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (lower(p[i]) != lower((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* A SIP start line (RFC 3261 7.1, 7.2), n bytes without its line end:
 * "SIP/2.0 NNN ..." or "METHOD SP Request-URI SP SIP/2.0". */
static bool is_start_line(const uint8_t *p, size_t n)
{
    size_t i;

    if (n >= 12 && ieq(p, "SIP/2.0 ", 8))
        return p[8] >= '0' && p[8] <= '9' && p[9] >= '0' && p[9] <= '9' && p[10] >= '0' &&
               p[10] <= '9';
    for (i = 0; i < n && is_token_char(p[i]); i++)
        ;
    if (i == 0 || i >= n || p[i] != ' ')
        return false;
    return n >= i + 1 + 1 + 8 && p[n - 8] == ' ' && ieq(p + n - 7, "SIP/2.0", 7);
}

/* Whether unfinished bytes p[0, n) could begin a start line (printable,
 * starting with a token character). */
static bool could_start(const uint8_t *p, size_t n)
{
    size_t i;

    if (n == 0 || !is_token_char(p[0]))
        return false;
    for (i = 0; i < n; i++) {
        if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\t' && p[i] != '\r')
            return false;
    }
    return true;
}

/* Length of the line at p (up to '\n', without the line end), or n when there is none. */
static size_t line_len(const uint8_t *p, size_t n, size_t *next)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] == '\n') {
            *next = i + 1;
            return i > 0 && p[i - 1] == '\r' ? i - 1 : i;
        }
    }
    *next = n;
    return n;
}

/* Bytes of the header section (through the empty line), or 0 when it is not complete. */
static size_t header_end(const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i++) {
        if (p[i] != '\n')
            continue;
        if (p[i + 1] == '\n')
            return i + 2;
        if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Content-Length (RFC 3261 20.14, compact form `l`) of the header section
 * p[0, n): the value, -1 when absent, -2 when not a number. */
static int64_t content_length(const uint8_t *p, size_t n)
{
    size_t pos = 0, next, len;

    (void)line_len(p, n, &next); /* the start line */
    pos = next;
    while (pos < n) {
        size_t i = 0, name_end;
        const uint8_t *l = p + pos;

        len = line_len(l, n - pos, &next);
        pos += next;
        if (len == 0)
            break;
        if (l[0] == ' ' || l[0] == '\t')
            continue; /* a continuation line */
        while (i < len && l[i] != ':')
            i++;
        if (i == len)
            continue;
        name_end = i;
        while (name_end > 0 && (l[name_end - 1] == ' ' || l[name_end - 1] == '\t'))
            name_end--;
        if (!((name_end == 14 && ieq(l, "content-length", 14)) ||
              (name_end == 1 && lower(l[0]) == 'l')))
            continue;
        {
            int64_t v = 0;
            size_t digits = 0;

            for (i++; i < len && (l[i] == ' ' || l[i] == '\t'); i++)
                ;
            for (; i < len && l[i] >= '0' && l[i] <= '9'; i++, digits++) {
                if (v < INT64_MAX / 100)
                    v = v * 10 + (l[i] - '0');
            }
            for (; i < len && (l[i] == ' ' || l[i] == '\t'); i++)
                ;
            if (digits == 0 || i != len)
                return -2;
            return v;
        }
    }
    return -1;
}

static void drop(struct sl_tcp *t, struct dir *d, size_t n)
{
    if (n > d->len)
        n = d->len;
    d->start += n;
    d->len -= n;
    t->held -= n;
    if (d->len == 0)
        d->start = 0;
}

/* An HTTP upgrade to WebSocket (RFC 6455 4): "GET " or "HTTP/1.1 101" with
 * "websocket" in the first bytes. */
static bool is_websocket(const uint8_t *p, size_t n)
{
    size_t i;

    if (!(n >= 4 && memcmp(p, "GET ", 4) == 0) && !(n >= 12 && memcmp(p, "HTTP/1.1 101", 12) == 0))
        return false;
    for (i = 0; i + 9 <= n && i < 4096; i++) {
        if (ieq(p + i, "websocket", 9))
            return true;
    }
    return false;
}

/* A malformed WebSocket frame: reported; the rest of the direction is not decoded. */
static void ws_bad(struct sl_tcp *t, struct conn *c, int di, uint64_t frame, int64_t ts_us,
                   const char *why)
{
    struct dir *d = &c->d[di];

    add_event(t, "SIP-CAP-003", c, di, t->in_add ? t->cur_frame : frame,
              t->in_add ? t->cur_ts_us : ts_us,
              "WebSocket frame at stream byte %" PRIu64 ": %s (RFC 6455 5.2); the rest of the "
              "stream is not decoded",
              d->next_off - d->len, why);
    d->ws_state = WS_DEAD;
    d->ws_in_msg = false;
    d->wlen = 0;
    drop(t, d, d->len);
}

/* Reads the WebSocket frames (RFC 6455 5.2) of direction di after its HTTP
 * handshake; each complete text or binary message becomes one SIP message. */
static void ws_frames(struct sl_tcp *t, struct conn *c, int di, uint64_t frame, int64_t ts_us)
{
    struct dir *d = &c->d[di];

    for (;;) {
        const uint8_t *p = d->buf + d->start;
        size_t n = d->len, total;
        struct sl_ws_frame fr;
        char why[160];
        int rc;

        if (n == 0)
            return;
        if (d->ws_state == WS_DEAD) {
            drop(t, d, n);
            return;
        }
        if (d->ws_state == WS_HANDSHAKE) {
            size_t h = header_end(p, n);

            t->cur_ws_handshake = t->in_add;
            if (h == 0) {
                if (n > WS_MAX_HTTP)
                    ws_bad(t, c, di, frame, ts_us,
                           "no end of the HTTP handshake in its first 8192 bytes");
                return;
            }
            drop(t, d, h);
            d->ws_state = WS_FRAMES;
            continue;
        }
        rc = sl_ws_frame_parse(p, n, SL_WS_MAX_MSG, &fr, why, sizeof(why));
        if (rc == SL_WS_MORE) {
            if (t->in_add)
                t->cur_ws_part = true;
            return;
        }
        if (rc == SL_WS_BAD) {
            ws_bad(t, c, di, frame, ts_us, why);
            return;
        }
        total = fr.hlen + (size_t)fr.len;
        if (fr.opcode >= SL_WS_CLOSE) {
            drop(t, d, total);
            if (t->in_add)
                t->cur_ws_control = true;
            continue;
        }
        if (fr.opcode != SL_WS_CONT && d->ws_in_msg) {
            ws_bad(t, c, di, frame, ts_us, "a new message inside a fragmented one");
            return;
        }
        if (fr.opcode == SL_WS_CONT && !d->ws_in_msg) {
            ws_bad(t, c, di, frame, ts_us, "a continuation frame outside a fragmented message");
            return;
        }
        if (fr.opcode != SL_WS_CONT)
            d->wlen = 0;
        if ((uint64_t)d->wlen + fr.len > SL_WS_MAX_MSG) {
            snprintf(why, sizeof(why), "a fragmented message over the limit of %u bytes",
                     (unsigned)SL_WS_MAX_MSG);
            ws_bad(t, c, di, frame, ts_us, why);
            return;
        }
        if (d->wlen + (size_t)fr.len > d->wcap) {
            size_t ncap = d->wcap ? d->wcap : 2048;
            uint8_t *nb;

            while (ncap < d->wlen + (size_t)fr.len)
                ncap *= 2;
            nb = realloc(d->wmsg, ncap);
            if (nb == NULL) {
                ws_bad(t, c, di, frame, ts_us, "out of memory");
                return;
            }
            d->wmsg = nb;
            d->wcap = ncap;
        }
        if (fr.len > 0) {
            memcpy(d->wmsg + d->wlen, p + fr.hlen, (size_t)fr.len);
            if (fr.masked)
                sl_ws_unmask(d->wmsg + d->wlen, (size_t)fr.len, fr.key, 0);
        }
        d->wlen += (size_t)fr.len;
        drop(t, d, total);
        if (fr.fin) {
            d->ws_in_msg = false;
            d->sip_seen = true;
            add_msg(t, c, di, d->wmsg, d->wlen, frame, ts_us, NULL, NULL);
            d->wlen = 0;
        } else {
            d->ws_in_msg = true;
            if (t->in_add)
                t->cur_ws_part = true;
        }
    }
}

/* ---- HEP over TCP (RULES.md C.7) ----------------------------------------- */

/* Bytes a HEPv1/v2 header needs before sl_hep_detect can decide (an IPv6
 * header, the time header and the first bytes of the SIP message). */
#define HEP_V2_PEEK 80

/* Whether p[0, n) starts a HEP3 header whose first chunk is plausible (vendor
 * 0, a known type, a length of at least 6): a stream caught in the middle of
 * a packet resyncs there.  Short input is not plausible. */
static bool hep3_plausible(const uint8_t *p, size_t n)
{
    unsigned total, type, clen;

    if (n < 12 || memcmp(p, "HEP3", 4) != 0)
        return false;
    total = (unsigned)p[4] << 8 | p[5];
    type = (unsigned)p[8] << 8 | p[9];
    clen = (unsigned)p[10] << 8 | p[11];
    return total >= 12 && p[6] == 0 && p[7] == 0 && type >= 1 && type <= 0x29 && clen >= 6;
}

/*
 * Where the next HEP packet may start in p[0, n): "HEP3" for a HEP3 stream,
 * a header sl_hep_detect accepts for a HEPv1/v2 one.  Returns its offset and
 * sets *sure when it is confirmed; otherwise the offset of bytes that may
 * still become one (a prefix cut by the end of the buffer), or n.
 */
static size_t hep_resync(const uint8_t *p, size_t n, bool v3, bool *sure)
{
    size_t i;

    *sure = false;
    for (i = 0; i < n; i++) {
        if (v3) {
            size_t k = n - i < 4 ? n - i : 4;

            if (memcmp(p + i, "HEP3", k) != 0)
                continue;
            if (n - i < 12)
                return i; /* maybe: wait for the rest of the header */
            if (!hep3_plausible(p + i, n - i))
                continue;
            *sure = true;
            return i;
        }
        if (p[i] != 1 && p[i] != 2)
            continue;
        if (n - i < HEP_V2_PEEK)
            return i;
        if (sl_hep_detect(p + i, n - i)) {
            *sure = true;
            return i;
        }
    }
    return n;
}

/* A HEP stream lost its framing (a bad header): reported; it resyncs at the
 * next HEP packet. */
static void hep_bad(struct sl_tcp *t, struct conn *c, int di, uint64_t frame, int64_t ts_us,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void hep_bad(struct sl_tcp *t, struct conn *c, int di, uint64_t frame, int64_t ts_us,
                    const char *fmt, ...)
{
    struct dir *d = &c->d[di];
    char why[200];
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(why, sizeof(why), fmt, ap) < 0)
        why[0] = '\0';
    va_end(ap);
    add_event(t, "SIP-CAP-003", c, di, t->in_add ? t->cur_frame : frame,
              t->in_add ? t->cur_ts_us : ts_us,
              "HEP packet at stream byte %" PRIu64 ": %s; resynced at the next HEP header",
              d->next_off - d->len, why);
    d->hep_sync = false;
    drop(t, d, 1); /* at least the byte that looked like a header */
}

/*
 * The length of the HEP packet at the start of direction di's bytes: HEP3's
 * total length, or for HEPv1/v2 (which has none) the header, then the SIP
 * message framed by Content-Length.  0: more bytes are needed; (size_t)-1:
 * the framing is lost (reported).
 */
static size_t hep_packet_len(struct sl_tcp *t, struct conn *c, int di, uint64_t frame,
                             int64_t ts_us)
{
    struct dir *d = &c->d[di];
    const uint8_t *p = d->buf + d->start;
    size_t n = d->len, off, hlen;
    int64_t cl;

    if (d->hep_v3) {
        unsigned total;

        if (n < 6)
            return 0;
        if (memcmp(p, "HEP3", 4) != 0) {
            hep_bad(t, c, di, frame, ts_us, "no HEP3 header (0x%02x%02x%02x%02x)", (unsigned)p[0],
                    (unsigned)p[1], (unsigned)p[2], (unsigned)p[3]);
            return (size_t)-1;
        }
        total = (unsigned)p[4] << 8 | p[5];
        if (total < 6) {
            hep_bad(t, c, di, frame, ts_us, "HEP3 total length %u < 6", total);
            return (size_t)-1;
        }
        return total <= n ? total : 0;
    }
    if (n < HEP_V2_PEEK && !d->fin_seen)
        return 0;
    if (!sl_hep_detect(p, n)) {
        hep_bad(t, c, di, frame, ts_us, "no HEPv1/v2 header (version %u)", (unsigned)p[0]);
        return (size_t)-1;
    }
    off = sl_hep_v2_header_len(p, n);
    hlen = header_end(p + off, n - off);
    if (hlen == 0) {
        if (n - off > t->o.max_bytes) {
            hep_bad(t, c, di, frame, ts_us, "no end of the SIP header section in %zu bytes",
                    t->o.max_bytes);
            return (size_t)-1;
        }
        return 0;
    }
    cl = content_length(p + off, hlen);
    if (cl < 0) {
        hep_bad(t, c, di, frame, ts_us,
                "a HEPv%u message %s Content-Length: its end cannot be found (RFC 3261 18.3)",
                (unsigned)p[0], cl == -1 ? "without" : "with an invalid");
        return (size_t)-1;
    }
    if ((uint64_t)cl > t->o.max_bytes - hlen) {
        hep_bad(t, c, di, frame, ts_us,
                "a SIP message of Content-Length %" PRId64 " over the limit of %zu bytes", cl,
                t->o.max_bytes);
        return (size_t)-1;
    }
    return off + hlen + (size_t)cl <= n ? off + hlen + (size_t)cl : 0;
}

/*
 * Reads the HEP packets of direction di (RULES.md C.7: over a stream, HEP3
 * packets are concatenated and framed by their total length).  Each is
 * decoded by hep.c: its SIP message is queued with the addresses, time and
 * agent the packet names; a packet that is not SIP (logs, RTCP) is skipped;
 * a malformed one is reported (SIP-CAP-003).
 */
static void hep_frames(struct sl_tcp *t, struct conn *c, int di, uint64_t frame, int64_t ts_us)
{
    struct dir *d = &c->d[di];

    for (;;) {
        const uint8_t *p = d->buf + d->start;
        size_t n = d->len, len;
        struct sl_frame hf;

        if (n == 0)
            return;
        if (!d->hep_sync) {
            bool sure;
            size_t k = hep_resync(p, n, d->hep_v3, &sure);

            drop(t, d, k);
            if (!sure)
                return;
            d->hep_sync = true;
            continue;
        }
        len = hep_packet_len(t, c, di, frame, ts_us);
        if (len == (size_t)-1)
            continue;
        if (len == 0)
            return;
        memset(&hf, 0, sizeof(hf));
        hf.number = t->in_add ? t->cur_frame : frame;
        hf.ts_us = t->in_add ? t->cur_ts_us : ts_us;
        hf.caplen = (uint32_t)len;
        hf.wirelen = (uint32_t)len;
        hf.tcp = t;
        sl_hep_decode(p, len, false, &hf);
        switch (hf.kind) {
        case SL_FRAME_DATAGRAM:
            d->sip_seen = true;
            sl_tcp_push_hep(t, &hf, hf.payload, hf.payload_len);
            break;
        case SL_FRAME_STREAM: /* a compressed payload, queued by hep.c */
            d->sip_seen = true;
            break;
        case SL_FRAME_OTHER:
            if (t->in_add)
                t->cur_hep_other = true;
            break;
        default:
            add_event(t, hf.kind == SL_FRAME_NOT_DECODED ? "SIP-CAP-006" : "SIP-CAP-003", c, di,
                      hf.number, hf.ts_us, "HEP packet at stream byte %" PRIu64 ": %s (%s)",
                      d->next_off - d->len, hf.detail[0] ? hf.detail : "not decoded",
                      hf.reason ? hf.reason : "HEP");
            break;
        }
        drop(t, d, len);
    }
}

/* A TLS record header (RFC 8446 5.1): content type 20-23, version 3.0-3.4,
 * a length of at most 2^14 + 2048; 0 when p[0, n) does not start with one,
 * else the record's size. */
static size_t tls_record(const uint8_t *p, size_t n)
{
    size_t len;

    if (n < 5 || p[0] < 0x14 || p[0] > 0x17 || p[1] != 0x03 || p[2] > 0x04)
        return 0;
    len = (size_t)p[3] << 8 | p[4];
    return len > 0 && len <= 16384 + 2048 ? 5 + len : 0;
}

/* Bytes of a stream not classified at its start that are TLS after all: a
 * record starting in the first 4 bytes (after keep-alive bytes) that ends
 * exactly at the end of the bytes held, or is followed by another record.
 * Plain text never starts a record (its first byte is a control character). */
static bool tls_midstream(const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < 4 && i < n; i++) {
        size_t k = tls_record(p + i, n - i);

        if (k > 0 && (i + k == n || (i + k < n && tls_record(p + i + k, n - i - k) > 0)))
            return true;
    }
    return false;
}

/* Cuts what it can out of the unframed bytes of direction di. */
static void frame_dir(struct sl_tcp *t, struct conn *c, int di, uint64_t frame, int64_t ts_us)
{
    struct dir *d = &c->d[di];

    for (;;) {
        const uint8_t *p = d->buf + d->start;
        size_t n = d->len, hlen, next, ll;
        int64_t cl;

        if (n == 0)
            return;
        if (!d->classified) {
            /* RFC 8446 5.1: a TLS record starts with content type 22
             * (handshake) and a 3.x version */
            if (p[0] == 0x16 && n < 2)
                return;
            /* HEP (RULES.md C.7): "HEP3", or a HEPv1/v2 header */
            if (p[0] == 'H' && n < 4 && memcmp(p, "HEP3", n) == 0)
                return;
            if ((p[0] == 1 || p[0] == 2) && n < HEP_V2_PEEK && !d->fin_seen)
                return;
            d->classified = true;
            /* content types 20-23: a stream caught after its handshake */
            d->tls = p[0] >= 0x14 && p[0] <= 0x17 && p[1] == 0x03;
            d->hep = !d->tls && sl_hep_detect(p, n);
            d->hep_v3 = d->hep && p[0] == 'H';
            d->hep_sync = d->hep;
            if (!d->tls && !d->hep && !d->syn_seen) {
                /* caught in the middle of a HEP3 packet (maybe in its SIP
                 * payload; SIP text never holds a HEP3 header with its zero
                 * bytes): resync at the next one */
                size_t i;

                for (i = 1; i + 12 <= n && !d->hep; i++)
                    d->hep = hep3_plausible(p + i, n - i);
                d->hep_v3 = d->hep;
            }
            d->ws = !d->tls && !d->hep && is_websocket(p, n);
        }
        if (d->tls) {
            drop(t, d, n);
            return;
        }
        if (d->hep) {
            hep_frames(t, c, di, frame, ts_us);
            return;
        }
        if (d->ws) {
            ws_frames(t, c, di, frame, ts_us);
            return;
        }
        if (d->skip > 0) {
            size_t k = d->skip < n ? (size_t)d->skip : n;

            drop(t, d, k);
            d->skip -= k;
            continue;
        }
        if (!d->framing && !d->sip_seen && tls_midstream(p, n)) {
            /* a TLS stream caught after its start (a keep-alive byte first) */
            d->tls = true;
            drop(t, d, n);
            return;
        }
        if (!d->framing) {
            /* resync: the first line that is a SIP start line */
            size_t pos = 0;

            while (pos < n) {
                ll = line_len(p + pos, n - pos, &next);
                if (pos + next == n && p[n - 1] != '\n')
                    break; /* an unfinished line: wait for the rest */
                if (is_start_line(p + pos, ll)) {
                    d->framing = true;
                    d->sip_seen = true;
                    break;
                }
                pos += next;
            }
            if (!d->framing && n - pos > MAX_LINE)
                pos = n;
            drop(t, d, pos);
            if (!d->framing)
                return;
            continue;
        }
        /* between messages: CRLF keep-alives */
        if (p[0] == '\r' || p[0] == '\n') {
            if (p[0] == '\r' && n < 2)
                return;
            drop(t, d, p[0] == '\r' && p[1] == '\n' ? 2 : 1);
            if (t->in_add)
                t->cur_keepalive = true;
            continue;
        }
        ll = line_len(p, n, &next);
        if (next == n && p[n - 1] != '\n') {
            if (n > FIRST_LINE_OK)
                d->framing = false;
            return; /* wait for the whole first line */
        }
        if (!is_start_line(p, ll)) {
            d->framing = false; /* not SIP: resync */
            continue;
        }
        hlen = header_end(p, n);
        if (hlen == 0) {
            if (n > t->o.max_bytes) {
                add_event(t, "SIP-CAP-006", c, di, t->in_add ? t->cur_frame : frame,
                          t->in_add ? t->cur_ts_us : ts_us,
                          "a SIP header section longer than %zu bytes (--limit tcp-stream-bytes); "
                          "skipped to the next start line",
                          t->o.max_bytes);
                drop(t, d, n);
                d->framing = false;
            }
            return;
        }
        cl = content_length(p, hlen);
        if (cl < 0) {
            add_msg(t, c, di, p, hlen, frame, ts_us, "SIP-HDR-011",
                    cl == -1 ? "SIP message on a stream without Content-Length (RFC 3261 "
                               "18.3): its end cannot be found; skipped to the next start line"
                             : "SIP message on a stream with an invalid Content-Length (RFC 3261 "
                               "18.3): its end cannot be found; skipped to the next start line");
            drop(t, d, hlen);
            d->framing = false;
            continue;
        }
        if (hlen > t->o.max_bytes || (uint64_t)cl > t->o.max_bytes - hlen) {
            add_event(t, "SIP-CAP-006", c, di, t->in_add ? t->cur_frame : frame,
                      t->in_add ? t->cur_ts_us : ts_us,
                      "a SIP message of %" PRIu64 " bytes (Content-Length %" PRId64
                      ") is over the limit of %zu bytes per stream (--limit tcp-stream-bytes); "
                      "skipped",
                      (uint64_t)cl + hlen, cl, t->o.max_bytes);
            d->skip = (uint64_t)cl + hlen;
            continue;
        }
        if (n < hlen + (size_t)cl)
            return;
        add_msg(t, c, di, p, hlen + (size_t)cl, frame, ts_us, NULL, NULL);
        drop(t, d, hlen + (size_t)cl);
    }
}

/* ---- reassembly --------------------------------------------------------- */

/* Appends bytes that follow the stream's next_off, then frames them. */
static bool append(struct sl_tcp *t, struct conn *c, int di, const uint8_t *p, size_t n,
                   uint64_t frame, int64_t ts_us)
{
    struct dir *d = &c->d[di];

    if (n == 0)
        return true;
    if (d->start + d->len + n > d->cap) {
        if (d->start > 0) {
            memmove(d->buf, d->buf + d->start, d->len);
            d->start = 0;
        }
        if (d->len + n > d->cap) {
            size_t ncap = d->cap ? d->cap : 2048;
            uint8_t *nb;

            while (ncap < d->len + n)
                ncap *= 2;
            nb = realloc(d->buf, ncap);
            if (nb == NULL)
                return false;
            d->buf = nb;
            d->cap = ncap;
        }
    }
    memcpy(d->buf + d->start + d->len, p, n);
    d->len += n;
    d->next_off += n;
    t->held += n;
    frame_dir(t, c, di, frame, ts_us);
    return true;
}

/* Moves the held segments that now follow next_off into the stream. */
static void pull(struct sl_tcp *t, struct conn *c, int di)
{
    struct dir *d = &c->d[di];

    while (d->n_ooo > 0 && d->ooo[0].off <= d->next_off) {
        struct ooo s = d->ooo[0];

        memmove(&d->ooo[0], &d->ooo[1], (d->n_ooo - 1) * sizeof(d->ooo[0]));
        d->n_ooo--;
        d->ooo_bytes -= s.len;
        t->held -= s.len;
        if (s.off + s.len > d->next_off) {
            size_t k = (size_t)(d->next_off - s.off);

            (void)append(t, c, di, s.data + k, s.len - k, s.frame, s.ts_us);
        }
        free(s.data);
    }
}

/* The bytes before the first held segment are not coming: reports the gap,
 * drops the message it cut and resyncs after it. */
static void give_up_gap(struct sl_tcp *t, struct conn *c, int di, const char *rule, const char *why)
{
    struct dir *d = &c->d[di];
    uint64_t from = d->next_off, to = d->ooo[0].off;
    bool cut = d->len > 0 && (d->framing || could_start(d->buf + d->start, d->len));

    if (d->hep) /* a HEP stream: every missing byte belongs to some packet */
        add_event(t, rule, c, di, d->ooo[0].frame, d->ooo[0].ts_us,
                  "%" PRIu64 " bytes missing from the capture (stream bytes %" PRIu64 " to %" PRIu64
                  ", before frame %" PRIu64 ")%s; the HEP packets they belong to are lost; "
                  "resynced at the next HEP header",
                  to - from, from, to - 1, d->ooo[0].frame, why);
    /* a gap in a stream that never carried SIP (SMB, HTTP, ...) is not ours to report */
    else if (d->sip_seen || cut || strcmp(rule, "SIP-CAP-007") != 0)
        add_event(t, rule, c, di, d->ooo[0].frame, d->ooo[0].ts_us,
                  "%" PRIu64 " bytes missing from the capture (stream bytes %" PRIu64 " to %" PRIu64
                  ", before frame %" PRIu64 ")%s; %sresynced at the next SIP start line",
                  to - from, from, to - 1, d->ooo[0].frame, why,
                  cut ? "the SIP message they belong to is lost; " : "");
    drop(t, d, d->len);
    d->framing = false;
    d->hep_sync = false;
    d->skip = 0;
    d->next_off = to;
    pull(t, c, di);
}

/* Closes one direction: settles what it holds. */
static void close_dir(struct sl_tcp *t, struct conn *c, int di, const char *how)
{
    struct dir *d = &c->d[di];
    bool keep_in_add = t->in_add;

    if (!d->started || d->closed)
        return;
    while (d->n_ooo > 0)
        give_up_gap(t, c, di, "SIP-CAP-007", "");
    t->in_add = false;
    if (d->ws && d->ws_state == WS_FRAMES && (d->len > 0 || d->ws_in_msg))
        add_event(t, "SIP-CAP-007", c, di, d->last_frame, d->last_ts_us,
                  "the stream %s in the middle of a WebSocket message (%zu bytes of it "
                  "captured); the message is lost",
                  how, d->len + d->wlen);
    if (d->hep && d->hep_sync && d->len > 0)
        add_event(t, "SIP-CAP-007", c, di, d->last_frame, d->last_ts_us,
                  "the stream %s in the middle of a HEP packet (%zu bytes of it captured); the "
                  "packet is lost",
                  how, d->len);
    if (d->framing && d->len > 0 && !d->tls)
        add_event(t, "SIP-CAP-007", c, di, d->last_frame, d->last_ts_us,
                  "the stream %s in the middle of a SIP message (%zu bytes of it captured); the "
                  "message is lost",
                  how, d->len);
    t->in_add = keep_in_add;
    drop(t, d, d->len);
    d->closed = true;
}

static void settle_conn(struct sl_tcp *t, struct conn *c, const char *how)
{
    close_dir(t, c, 0, how);
    close_dir(t, c, 1, how);
    free_conn(t, c);
}

static int ep_cmp(const struct sl_endpoint *x, const struct sl_endpoint *y)
{
    int r;

    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    r = memcmp(x->ip, y->ip, sizeof(x->ip));
    if (r != 0)
        return r;
    return x->port == y->port ? 0 : x->port < y->port ? -1 : 1;
}

static size_t hash_key(const struct sl_endpoint *a, const struct sl_endpoint *b)
{
    uint32_t h = 2166136261u;
    size_t i;

    h = (h ^ a->family) * 16777619u;
    for (i = 0; i < 16; i++) {
        h = (h ^ a->ip[i]) * 16777619u;
        h = (h ^ b->ip[i]) * 16777619u;
    }
    h = (h ^ a->port) * 16777619u;
    h = (h ^ b->port) * 16777619u;
    return h % N_BUCKETS;
}

static void touch(struct sl_tcp *t, struct conn *c, int64_t ts_us)
{
    if (ts_us > c->last_ts_us)
        c->last_ts_us = ts_us;
    if (t->lru_tail == c)
        return;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        t->lru_head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = t->lru_tail;
    c->next = NULL;
    if (t->lru_tail != NULL)
        t->lru_tail->next = c;
    t->lru_tail = c;
    if (t->lru_head == NULL)
        t->lru_head = c;
}

/* The connection of a segment (created when new; NULL when out of memory);
 * *di is the segment's direction. */
static struct conn *find_conn(struct sl_tcp *t, const struct sl_tcp_seg *s, int *di)
{
    const struct sl_endpoint *a = &s->src, *b = &s->dst;
    struct conn *c;
    size_t h;

    *di = 0;
    if (ep_cmp(a, b) > 0) {
        a = &s->dst;
        b = &s->src;
        *di = 1;
    }
    h = hash_key(a, b);
    for (c = t->buckets[h]; c != NULL; c = c->hnext) {
        if (ep_cmp(&c->a, a) == 0 && ep_cmp(&c->b, b) == 0)
            return c;
    }
    if (t->n_conns >= t->o.max_streams && t->lru_head != NULL) {
        if (!t->streams_reported) {
            t->streams_reported = true;
            add_event(t, "SIP-CAP-006", t->lru_head, 0, s->frame, s->ts_us,
                      "more than %u TCP connections in flight (--limit tcp-streams); the least "
                      "recently used are given up from here on",
                      t->o.max_streams);
        }
        settle_conn(t, t->lru_head, "is given up (a limit)");
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->a = *a;
    c->b = *b;
    c->bucket = h;
    c->hnext = t->buckets[h];
    t->buckets[h] = c;
    c->prev = t->lru_tail;
    if (t->lru_tail != NULL)
        t->lru_tail->next = c;
    t->lru_tail = c;
    if (t->lru_head == NULL)
        t->lru_head = c;
    t->n_conns++;
    c->last_ts_us = s->ts_us;
    return c;
}

/* Holds a segment beyond next_off, keeping only the bytes not held yet
 * (first copy wins).  False when a limit refused some of it. */
static bool hold(struct sl_tcp *t, struct dir *d, uint64_t off, const uint8_t *p, size_t n,
                 uint64_t frame, int64_t ts_us)
{
    uint64_t s = off, e = off + n;
    unsigned i = 0;

    while (s < e) {
        uint64_t pe = e;
        struct ooo *o;

        /* skip held segments that end before s; step over one that covers s */
        while (i < d->n_ooo && d->ooo[i].off + d->ooo[i].len <= s)
            i++;
        if (i < d->n_ooo && d->ooo[i].off <= s) {
            s = d->ooo[i].off + d->ooo[i].len;
            i++;
            continue;
        }
        if (i < d->n_ooo && d->ooo[i].off < pe)
            pe = d->ooo[i].off;
        if (d->n_ooo == SL_TCP_MAX_OOO || d->ooo_bytes + (pe - s) > t->o.max_bytes)
            return false;
        if (t->held + (pe - s) > t->o.max_total)
            return false;
        memmove(&d->ooo[i + 1], &d->ooo[i], (d->n_ooo - i) * sizeof(d->ooo[0]));
        o = &d->ooo[i];
        o->data = malloc((size_t)(pe - s));
        if (o->data == NULL) {
            memmove(&d->ooo[i], &d->ooo[i + 1], (d->n_ooo - i) * sizeof(d->ooo[0]));
            return false;
        }
        memcpy(o->data, p + (s - off), (size_t)(pe - s));
        o->off = s;
        o->len = (size_t)(pe - s);
        o->frame = frame;
        o->ts_us = ts_us;
        d->n_ooo++;
        d->ooo_bytes += o->len;
        t->held += o->len;
        s = pe;
        i++;
    }
    return true;
}

void sl_tcp_add(struct sl_tcp *t, const struct sl_tcp_seg *s, struct sl_frame *f)
{
    struct conn *c;
    struct dir *d;
    int di;
    uint32_t data_seq;
    bool syn = (s->flags & SL_TCP_SYN) != 0;
    const char *reason = NULL;
    enum sl_frame_kind kind = SL_FRAME_OTHER;

    f->kind = SL_FRAME_OTHER;
    f->reason = "TCP, no payload";
    c = find_conn(t, s, &di);
    if (c == NULL) {
        f->kind = SL_FRAME_NOT_DECODED;
        f->reason = "TCP (over a limit)";
        return;
    }
    touch(t, c, s->ts_us);
    t->in_add = true;
    t->cur_frame = s->frame;
    t->cur_ts_us = s->ts_us;
    t->cur_counted = false;
    t->cur_keepalive = false;
    t->cur_ws_handshake = false;
    t->cur_ws_control = false;
    t->cur_ws_part = false;
    t->cur_hep_other = false;
    d = &c->d[di];
    if (syn && d->started && (!d->syn_seen || d->base_seq != s->seq + 1)) {
        /* a new connection on the same endpoints: settle the old one */
        settle_conn(t, c, "is replaced by a new connection");
        c = find_conn(t, s, &di);
        if (c == NULL) {
            t->in_add = false;
            f->kind = SL_FRAME_NOT_DECODED;
            f->reason = "TCP (over a limit)";
            return;
        }
        d = &c->d[di];
    }
    if (d->closed && s->len > 0 && !syn) {
        /* data after FIN (or after an idle time-out / a RST): start over */
        free_dir(t, d);
    }
    data_seq = syn ? s->seq + 1 : s->seq;
    if (!d->started && (syn || s->len > 0)) {
        d->started = true;
        d->syn_seen = syn;
        d->base_seq = data_seq;
        d->next_off = 0;
    }
    if (d->started && !d->closed && s->len > 0) {
        d->last_frame = s->frame;
        d->last_ts_us = s->ts_us;
    }
    if (d->started && !d->closed) {
        int64_t rel = (int64_t)(int32_t)(data_seq - (d->base_seq + (uint32_t)d->next_off));
        uint64_t off, end;

        if (rel < 0 && (uint64_t)(-rel) > d->next_off)
            rel = -(int64_t)d->next_off; /* before the stream start: old bytes */
        off = (uint64_t)((int64_t)d->next_off + rel);
        end = off + s->len;
        if (s->len > 0 && d->n_ooo > 0 && s->ts_us - d->ooo[0].ts_us > t->o.hold_us)
            give_up_gap(t, c, di, "SIP-CAP-007", "");
        if (s->len == 0) {
            reason = "TCP, no payload";
        } else if (end <= d->next_off) {
            reason = "TCP retransmission";
        } else if (off <= d->next_off) {
            size_t k = (size_t)(d->next_off - off);

            if (t->held + (s->len - k) > t->o.max_total) {
                if (!t->total_reported) {
                    t->total_reported = true;
                    add_event(t, "SIP-CAP-006", c, di, s->frame, s->ts_us,
                              "TCP reassembly holds %zu bytes in all (the limit, --limit "
                              "tcp-total-bytes); segments over it are dropped",
                              t->held);
                }
                kind = SL_FRAME_NOT_DECODED;
                reason = "TCP (over a limit)";
            } else {
                size_t now = s->len - k;

                /* bytes already held out of order keep their first copy */
                if (d->n_ooo > 0 && end > d->ooo[0].off) {
                    uint64_t first = d->ooo[0].off;

                    now = (size_t)(first - d->next_off);
                    (void)hold(t, d, first, s->data + k + now, (size_t)(end - first), s->frame,
                               s->ts_us);
                }
                (void)append(t, c, di, s->data + k, now, s->frame, s->ts_us);
                pull(t, c, di);
            }
        } else {
            /* beyond the next byte expected: held until the bytes before come */
            bool far = off - d->next_off > t->o.max_bytes;

            reason = "TCP segment (out of order)";
            if (!hold(t, d, off, s->data, s->len, s->frame, s->ts_us)) {
                add_event(t, "SIP-CAP-006", c, di, s->frame, s->ts_us,
                          "out-of-order bytes held reached the limit (%u segments, %zu bytes "
                          "per direction: --limit tcp-stream-bytes); the first gap is given up",
                          SL_TCP_MAX_OOO, t->o.max_bytes);
                if (d->n_ooo > 0)
                    give_up_gap(t, c, di, "SIP-CAP-007", " (a limit)");
                if (!hold(t, d, off, s->data, s->len, s->frame, s->ts_us)) {
                    kind = SL_FRAME_NOT_DECODED;
                    reason = "TCP (over a limit)";
                }
            }
            /* far ahead: the bytes between will not fit; a gap now */
            if (far && d->n_ooo > 0 && d->ooo[0].off > d->next_off)
                give_up_gap(t, c, di, "SIP-CAP-007", "");
            pull(t, c, di);
            if (t->cur_counted)
                reason = NULL;
        }
        if ((s->flags & SL_TCP_FIN) != 0) {
            d->fin_seen = true;
            d->fin_off = end;
        }
        if (d->fin_seen && d->next_off >= d->fin_off && d->n_ooo == 0)
            close_dir(t, c, di, "ends (FIN)");
    }
    if (reason == NULL) {
        if (s->len == 0)
            reason = "TCP, no payload";
        else if (d->tls)
            kind = SL_FRAME_NOT_DECODED, reason = TLS_REASON;
        else if (d->ws && d->ws_state == WS_DEAD)
            kind = SL_FRAME_NOT_DECODED, reason = "WebSocket (after a malformed frame)";
        else if (d->hep && t->cur_hep_other)
            reason = "HEP, not SIP";
        else if (d->hep)
            reason = "TCP segment of a HEP packet";
        else if (d->ws && t->cur_ws_handshake)
            reason = "WebSocket handshake (HTTP)";
        else if (d->ws && t->cur_ws_control && !t->cur_ws_part)
            reason = "WebSocket control frame";
        else if (d->ws)
            reason = "WebSocket frame (part of a message)";
        else if (d->len > 0 && (d->framing || could_start(d->buf + d->start, d->len)))
            reason = "TCP segment of a SIP message";
        else if (t->cur_keepalive)
            reason = "SIP keep-alive (CRLF)";
        else if (d->framing || t->cur_counted)
            reason = "TCP segment of a SIP message";
        else
            reason = "TCP, not SIP";
    }
    if (reason == TLS_REASON && !t->cur_counted) {
        if (c->tls_frames++ == 0) {
            c->tls_first = s->frame;
            c->tls_first_ts = s->ts_us;
            c->tls_src = s->src;
            c->tls_dst = s->dst;
        }
        c->tls_last = s->frame;
    }
    if ((s->flags & SL_TCP_RST) != 0) {
        settle_conn(t, c, "is reset (RST)");
        c = NULL;
    } else if (c->d[0].closed && c->d[1].closed) {
        free_conn(t, c);
        c = NULL;
    }
    t->in_add = false;
    f->kind = t->cur_counted ? SL_FRAME_STREAM : kind;
    f->reason = t->cur_counted ? "SIP" : reason;
}

void sl_tcp_expire(struct sl_tcp *t, int64_t now_us, bool flush)
{
    if (t == NULL)
        return;
    sl_sctp_expire(t->sctp, t, now_us, flush);
    expire_dtls(t, now_us, flush);
    while (t->lru_head != NULL && (flush || t->lru_head->last_ts_us < now_us - t->o.idle_us)) {
        struct conn *c = t->lru_head;

        t->cur_frame = 0;
        settle_conn(t, c, flush ? "ends with the capture" : "is idle (time-out)");
    }
}

/* ---- the TCP header ------------------------------------------------------ */

void sl_tcp_decode(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    size_t have = r->n, hlen;
    struct sl_rd peek = *r;
    struct sl_tcp_seg s;
    uint8_t off_byte, flags;

    f->transport = SL_TP_TCP;
    memset(&s, 0, sizeof(s));
    f->src.port = sl_rd_be16(&peek);
    f->dst.port = sl_rd_be16(&peek);
    s.seq = sl_rd_be32(&peek);
    (void)sl_rd_be32(&peek); /* acknowledgment number */
    off_byte = sl_rd_u8(&peek);
    flags = sl_rd_u8(&peek);
    if (peek.bad) {
        f->kind = (size_t)20 - have <= missing ? SL_FRAME_TRUNCATED : SL_FRAME_MALFORMED;
        f->reason = "TCP";
        snprintf(f->detail, sizeof(f->detail), "TCP header: %zu of 20 bytes %s", have,
                 f->kind == SL_FRAME_TRUNCATED ? "captured" : "in the IP payload");
        return;
    }
    if (f->tcp == NULL) {
        f->kind = SL_FRAME_NOT_DECODED;
        f->reason = "TCP";
        return;
    }
    hlen = (size_t)(off_byte >> 4) * 4;
    if (hlen < 20) {
        f->kind = SL_FRAME_MALFORMED;
        f->reason = "TCP";
        snprintf(f->detail, sizeof(f->detail), "TCP data offset %zu < 20", hlen);
        return;
    }
    if (!sl_rd_skip(r, hlen)) {
        f->kind = hlen - have <= missing ? SL_FRAME_TRUNCATED : SL_FRAME_MALFORMED;
        f->reason = "TCP";
        snprintf(f->detail, sizeof(f->detail), "TCP header: %zu of %zu bytes %s", have, hlen,
                 f->kind == SL_FRAME_TRUNCATED ? "captured" : "in the IP payload");
        return;
    }
    if (missing > 0) {
        /* the capture dropped payload bytes: they become a gap of the stream */
        f->kind = SL_FRAME_TRUNCATED;
        f->reason = "TCP";
        snprintf(f->detail, sizeof(f->detail), "TCP payload: %zu of %zu bytes captured", r->n,
                 r->n + missing);
        return;
    }
    s.src = f->src;
    s.dst = f->dst;
    s.flags = flags;
    s.len = r->n;
    s.data = sl_rd_take(r, r->n);
    s.frame = f->number;
    s.ts_us = f->ts_us;
    sl_tcp_add(f->tcp, &s, f);
}
