/*
 * session.c: the public API (siplint.h).  Wires the stages in their one
 * direction: capture -> sip -> store -> engine -> report.
 */
#include "siplint.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "capture/capture.h"
#include "engine/engine.h"
#include "report/report.h"
#include "sip/msg.h"
#include "store/db.h"
#include "txn/txn.h"

/* Frames counted per kind and reason (reasons are static strings, so the
 * pointer identifies them; a handful per capture). */
struct frame_count {
    const char *kind;
    const char *reason;
    uint64_t frames;
    uint64_t first_frame;
    int64_t first_ts_us;
};

#define MAX_FRAME_COUNTS 64

/* Expire finished transaction-stage state every this many messages. */
#define EXPIRE_EVERY 1024

struct sl_session {
    struct sl_db *db;
    struct sl_txn_engine *txn;
    int64_t next_msg_id;
    int64_t max_ts_us;
    unsigned since_expire;
    bool txn_limit_reported;
    struct sl_session_opts opts;
    int n_inputs;
    bool finished;
    bool have_findings;
    struct sl_findings findings;
    struct sl_ruleset *rules;
};

/* The transaction stage hands finished objects to the store. */
static int sink_txn(void *ctx, const struct sl_txn *t, struct sl_err *err)
{
    return sl_db_add_txn(ctx, t, err);
}

static int sink_dialog(void *ctx, const struct sl_dialog *d, struct sl_err *err)
{
    return sl_db_add_dialog(ctx, d, err);
}

static int sink_leg(void *ctx, const struct sl_leg *l, struct sl_err *err)
{
    return sl_db_add_leg(ctx, l, err);
}

static int sink_st(void *ctx, const struct sl_st_event *e, struct sl_err *err)
{
    return sl_db_add_st_event(ctx, e, err);
}

int sl_session_open(struct sl_session **out, const struct sl_session_opts *opts, struct sl_err *err)
{
    struct sl_session *s;
    struct sl_txn_sink sink;
    struct sl_txn_opts to;
    int rc;

    *out = NULL;
    sl_err_clear(err);
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return sl_fail(err, SL_ENOMEM, "out of memory");
    if (opts != NULL)
        s->opts = *opts;
    if (s->opts.max_msg_len == 0)
        s->opts.max_msg_len = SL_MSG_MAX_LEN_DEFAULT;
    sl_sip_init();
    if ((rc = sl_ruleset_load(&s->rules, s->opts.rules_dir, err)) != SL_OK ||
        (rc = sl_ruleset_select(s->rules, s->opts.enable, s->opts.disable, err)) != SL_OK)
        goto fail;
    if (s->opts.keep_existing) {
        rc = sl_db_open_existing(&s->db, s->opts.db_path, err);
        if (rc != SL_OK)
            goto fail;
        s->finished = true;
        *out = s;
        return SL_OK;
    }
    rc = sl_db_create(&s->db, s->opts.db_path, err);
    if (rc != SL_OK)
        goto fail;
    memset(&sink, 0, sizeof(sink));
    sink.ctx = s->db;
    sink.txn_done = sink_txn;
    sink.dialog_done = sink_dialog;
    sink.leg_done = sink_leg;
    sink.st_event = sink_st;
    memset(&to, 0, sizeof(to));
    to.t1_us = s->opts.t1_us;
    rc = sl_txn_engine_new(&s->txn, &to, &sink, err);
    if (rc != SL_OK)
        goto fail;
    *out = s;
    return SL_OK;
fail:
    sl_ruleset_free(s->rules);
    sl_db_close(s->db);
    free(s);
    return rc;
}

/* Counts `count` frames of a kind and reason, the first of them `frame`
 * (IP fragments are counted when their datagram is settled, so a count may
 * come after one of later frames). */
static void count_frames(struct frame_count *fc, size_t *n, const char *kind, const char *reason,
                         uint64_t count, uint64_t frame, int64_t ts_us)
{
    size_t i;

    for (i = 0; i < *n; i++) {
        if (fc[i].kind == kind && (fc[i].reason == reason || strcmp(fc[i].reason, reason) == 0)) {
            fc[i].frames += count;
            if (frame < fc[i].first_frame) {
                fc[i].first_frame = frame;
                fc[i].first_ts_us = ts_us;
            }
            return;
        }
    }
    if (*n == MAX_FRAME_COUNTS) {
        /* Reasons are a fixed set of static strings; this is only a backstop. */
        i = *n - 1;
        fc[i].reason = "other reasons";
        fc[i].frames += count;
        return;
    }
    fc[*n].kind = kind;
    fc[*n].reason = reason;
    fc[*n].frames = count;
    fc[*n].first_frame = frame;
    fc[*n].first_ts_us = ts_us;
    (*n)++;
}

static void count_frame(struct frame_count *fc, size_t *n, const char *kind, const char *reason,
                        uint64_t frame, int64_t ts_us)
{
    count_frames(fc, n, kind, reason, 1, frame, ts_us);
}

/* Parses the whole header lines of a message cut by the capture: the bytes
 * up to the last line end (at most the header section), then an empty line. */
static int parse_whole_lines(struct sl_session *s, const uint8_t *p, size_t n, struct sl_msg *m,
                             struct sl_err *err)
{
    size_t end = 0, i;
    uint8_t *copy;
    int rc;

    for (i = 0; i + 1 < n; i++) {
        if (p[i] == '\r' && p[i + 1] == '\n') {
            if (i + 3 < n && p[i + 2] == '\r' && p[i + 3] == '\n')
                return sl_fail(err, SL_EFORMAT, "header section complete, still refused");
            end = i + 2;
        }
    }
    if (end == 0)
        return sl_fail(err, SL_EFORMAT, "no whole line captured");
    copy = malloc(end + 2);
    if (copy == NULL)
        return sl_fail(err, SL_ENOMEM, "out of memory");
    memcpy(copy, p, end);
    copy[end] = '\r';
    copy[end + 1] = '\n';
    rc = sl_msg_parse(m, copy, end + 2, s->opts.max_msg_len, err);
    free(copy);
    return rc;
}

/* Runs one parsed message through the transaction stage and stores it with
 * what that stage concluded.  *msg_id receives its id. */
static int store_message(struct sl_session *s, const struct sl_db_origin *o,
                         const struct sl_frame *f, const struct sl_msg *m, int64_t *msg_id,
                         struct sl_err *err)
{
    struct sl_txn_input in;
    struct sl_msg_links links;
    struct sl_err terr;
    int rc;

    *msg_id = ++s->next_msg_id;
    memset(&in, 0, sizeof(in));
    in.msg_id = *msg_id;
    in.capture_id = o->capture_id;
    in.frame = f->number;
    in.ts_us = o->ts_us;
    in.src = f->src;
    in.dst = f->dst;
    in.transport = f->transport;
    in.msg = m;
    in.raw = f->payload;
    in.raw_len = f->payload_len;
    memset(&links, 0, sizeof(links));
    links.cseq_prev = -1;
    sl_err_clear(&terr);
    rc = sl_txn_feed(s->txn, &in, &links, &terr);
    if (rc == SL_ELIMIT) {
        /* A cap on open transactions or dialogs: reported once, the
         * message is still stored with whatever links were possible. */
        if (!s->txn_limit_reported) {
            char text[sizeof(terr.msg) + 64];

            s->txn_limit_reported = true;
            snprintf(text, sizeof(text), "frame %" PRIu64 ": %s", f->number, terr.msg);
            rc = sl_db_add_problem(s->db, o, "SIP-CAP-006", SL_SEV_WARNING, text, NULL, 0, 0, err);
            if (rc != SL_OK)
                return rc;
        }
    } else if (rc != SL_OK) {
        return sl_fail(err, rc, "%s", terr.msg);
    }
    rc = sl_db_add_message(s->db, *msg_id, o, m, &links, f->payload, f->payload_len,
                           f->payload_truncated ? 1 : 0, err);
    if (rc != SL_OK)
        return rc;
    if (o->ts_us > s->max_ts_us)
        s->max_ts_us = o->ts_us;
    if (++s->since_expire >= EXPIRE_EVERY) {
        s->since_expire = 0;
        sl_err_clear(&terr);
        rc = sl_txn_expire(s->txn, s->max_ts_us, &terr);
        if (rc != SL_OK)
            return sl_fail(err, rc, "%s", terr.msg);
    }
    return SL_OK;
}

/* The payload of one datagram (or a message cut out of a TCP stream): a SIP
 * message, a keep-alive, or something else.  The frame is counted when
 * `count` is set (a stream segment completing several messages counts once). */
static int ingest_payload(struct sl_session *s, const struct sl_db_origin *o,
                          const struct sl_frame *f, bool count, struct sl_db_capture *cap,
                          struct frame_count *fc, size_t *n_fc, struct sl_err *err)
{
    enum sl_sip_look look = sl_sip_look(f->payload, f->payload_len);
    struct sl_msg m;
    struct sl_err perr;
    int64_t msg_id = 0;
    int rc;
    char text[sizeof(perr.msg) + 96];
    struct frame_count dummy[2];
    size_t n_dummy = 0;

    if (!count) {
        fc = dummy;
        n_fc = &n_dummy;
    }
    if (look == SL_LOOK_NOT_SIP) {
        count_frame(fc, n_fc, "other", "UDP, not SIP", f->number, f->ts_us);
        if (count)
            cap->other_frames++;
        return SL_OK;
    }
    if (look == SL_LOOK_KEEPALIVE) {
        count_frame(fc, n_fc, "other", "SIP keep-alive (CRLF)", f->number, f->ts_us);
        if (count)
            cap->other_frames++;
        return SL_OK;
    }
    sl_err_clear(&perr);
    rc = sl_msg_parse(&m, f->payload, f->payload_len, s->opts.max_msg_len, &perr);
    if (rc == SL_EFORMAT && f->payload_truncated) {
        /* Cut by the capture: parse the header lines that are whole, as
         * Wireshark dissects what is there.  The stored raw bytes stay the
         * captured ones; truncated = 1 says they are incomplete. */
        sl_msg_fini(&m);
        rc = parse_whole_lines(s, f->payload, f->payload_len, &m, &perr);
    }
    if (rc == SL_ENOMEM) {
        sl_msg_fini(&m);
        return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    /* A SIP message is what starts with a SIP start line, parsed or not
     * (tshark counts the same way); one that cannot be parsed is also a
     * problem with its own finding. */
    cap->sip_messages++;
    if (rc == SL_OK) {
        rc = store_message(s, o, f, &m, &msg_id, err);
        sl_msg_fini(&m);
        if (rc != SL_OK)
            return rc;
        count_frame(fc, n_fc, "sip", f->payload_truncated ? "SIP, cut by the capture" : "SIP",
                    f->number, f->ts_us);
    } else {
        sl_msg_fini(&m);
        count_frame(fc, n_fc, "sip",
                    f->payload_truncated ? "SIP, cut by the capture, not parsed"
                    : rc == SL_ELIMIT    ? "SIP, too large"
                                         : "SIP, not parsed",
                    f->number, f->ts_us);
    }
    if (f->payload_truncated) {
        snprintf(text, sizeof(text), "frame %" PRIu64 ": SIP message cut by the capture (%s)%s",
                 f->number, f->detail[0] ? f->detail : "incomplete",
                 msg_id ? "; the whole header lines were parsed and stored"
                        : "; too little is left to parse");
        cap->problems++;
        rc = sl_db_add_problem(s->db, o, "SIP-CAP-002", SL_SEV_WARNING, text,
                               msg_id ? NULL : f->payload, msg_id ? 0 : f->payload_len, msg_id,
                               err);
        if (rc != SL_OK)
            return rc;
        return SL_OK; /* a cut message that did not parse is explained by the cut */
    }
    if (msg_id == 0) {
        const char *id = perr.code == SL_ELIMIT ? "SIP-CAP-006" : "SIP-HDR-011";
        enum sl_severity sev = perr.code == SL_ELIMIT ? SL_SEV_WARNING : SL_SEV_ERROR;

        snprintf(text, sizeof(text), "frame %" PRIu64 ": %s", f->number,
                 perr.msg[0] ? perr.msg : "SIP message could not be parsed");
        cap->problems++;
        rc = sl_db_add_problem(s->db, o, id, sev, text, f->payload, f->payload_len, 0, err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

/* The payload of one datagram: a SIP message, a keep-alive, or something else. */
static int ingest_datagram(struct sl_session *s, const struct sl_db_origin *o,
                           const struct sl_frame *f, struct sl_db_capture *cap,
                           struct frame_count *fc, size_t *n_fc, struct sl_err *err)
{
    return ingest_payload(s, o, f, true, cap, fc, n_fc, err);
}

static int ingest_capture(struct sl_session *s, struct sl_capture *c, const char *path,
                          struct sl_err *err);

int sl_session_ingest(struct sl_session *s, const char *path, struct sl_err *err)
{
    struct sl_capture *c = NULL;
    int rc;

    sl_err_clear(err);
    if (s->finished)
        return sl_fail(err, SL_EUSAGE, "session already finished");
    rc = sl_capture_open(&c, path, err);
    if (rc != SL_OK)
        return rc;
    return ingest_capture(s, c, path, err);
}

int sl_session_ingest_mem(struct sl_session *s, const char *name, const void *buf, size_t len,
                          struct sl_err *err)
{
    struct sl_capture *c = NULL;
    int rc;

    sl_err_clear(err);
    if (s->finished)
        return sl_fail(err, SL_EUSAGE, "session already finished");
    rc = sl_capture_open_mem(&c, buf, len, err);
    if (rc != SL_OK)
        return rc;
    return ingest_capture(s, c, name, err);
}

/* A warning problem a reassembler reported about frame (0: none) of the
 * capture, addresses optional; its text is prefixed with the frame. */
static int add_stage_problem(struct sl_session *s, int64_t capture_id, uint64_t frame,
                             int64_t ts_us, const struct sl_endpoint *src,
                             const struct sl_endpoint *dst, enum sl_transport tp, const char *rule,
                             const char *what, struct sl_db_capture *cap, struct sl_err *err)
{
    struct sl_db_origin o;
    char text[512];

    memset(&o, 0, sizeof(o));
    o.capture_id = capture_id;
    o.frame = frame;
    o.ts_us = ts_us;
    o.src = src;
    o.dst = dst;
    o.transport = tp;
    if (frame > 0)
        snprintf(text, sizeof(text), "frame %" PRIu64 ": %s", frame, what);
    else
        snprintf(text, sizeof(text), "%s", what);
    cap->problems++;
    return sl_db_add_problem(s->db, &o, rule, SL_SEV_WARNING, text, NULL, 0, 0, err);
}

/*
 * The reassembler's events since the last frame: the held IP fragments they
 * settle are counted (reassembled: kind other; lost: kind problem; dropped at
 * a cap: not decoded), and what went wrong is a problem (SIP-CAP-005 for an
 * incomplete or overlapping datagram, SIP-CAP-006 for a cap).
 */
static int ingest_frag_events(struct sl_session *s, struct sl_capture *c, int64_t capture_id,
                              struct sl_db_capture *cap, struct frame_count *fc, size_t *n_fc,
                              struct sl_err *err)
{
    struct sl_ipfrag_event ev;
    int rc;

    while (sl_capture_event(c, &ev) == 1) {
        if (ev.frames > 0) {
            switch (ev.stat_kind) {
            case SL_FRAME_OTHER:
                cap->other_frames += ev.frames;
                count_frames(fc, n_fc, "other", ev.reason, ev.frames, ev.frame, ev.ts_us);
                break;
            case SL_FRAME_NOT_DECODED:
                cap->not_decoded_frames += ev.frames;
                count_frames(fc, n_fc, "not_decoded", ev.reason, ev.frames, ev.frame, ev.ts_us);
                break;
            default:
                count_frames(fc, n_fc, "problem", ev.reason, ev.frames, ev.frame, ev.ts_us);
                break;
            }
        }
        if (ev.kind != SL_IPFRAG_REASSEMBLED) {
            /* no ports: the addresses are named in the text */
            rc = add_stage_problem(s, capture_id, ev.frame, ev.ts_us, NULL, NULL, SL_TP_NONE,
                                   ev.kind == SL_IPFRAG_LIMIT ? "SIP-CAP-006" : "SIP-CAP-005",
                                   ev.text, cap, err);
            if (rc != SL_OK)
                return rc;
        }
    }
    return SL_OK;
}

/*
 * The TCP streams' output since the last frame: SIP messages cut out of the
 * streams (ingested like datagrams; the first one a frame completed counts
 * that frame), framing errors (SIP-HDR-011: no Content-Length) and stream
 * problems (SIP-CAP-007 gaps, SIP-CAP-006 limits).
 */
static int ingest_stream(struct sl_session *s, struct sl_capture *c, int64_t capture_id,
                         struct sl_db_capture *cap, struct frame_count *fc, size_t *n_fc,
                         struct sl_err *err)
{
    struct sl_stream_msg m;
    struct sl_tcp_event ev;
    int rc;

    while (sl_capture_message(c, &m) == 1) {
        struct sl_db_origin o;
        struct sl_frame mf;

        memset(&o, 0, sizeof(o));
        memset(&mf, 0, sizeof(mf));
        mf.number = m.frame;
        mf.ts_us = m.ts_us;
        mf.kind = SL_FRAME_DATAGRAM;
        mf.reason = "TCP";
        mf.src = m.src;
        mf.dst = m.dst;
        mf.transport = m.transport != SL_TP_NONE ? m.transport : SL_TP_TCP;
        mf.payload = m.data;
        mf.payload_len = m.len;
        o.capture_id = capture_id;
        o.frame = m.frame;
        o.ts_us = m.ts_us;
        o.src = &mf.src;
        o.dst = &mf.dst;
        o.transport = mf.transport;
        if (m.problem != NULL) {
            char text[sizeof(m.text) + 32];

            cap->sip_messages++;
            if (m.counts_frame)
                count_frame(fc, n_fc, "sip", "SIP, not framed", m.frame, m.ts_us);
            snprintf(text, sizeof(text), "frame %" PRIu64 ": %s", m.frame, m.text);
            cap->problems++;
            rc = sl_db_add_problem(s->db, &o, m.problem, SL_SEV_ERROR, text, m.data, m.len, 0, err);
        } else {
            rc = ingest_payload(s, &o, &mf, m.counts_frame, cap, fc, n_fc, err);
        }
        if (rc != SL_OK)
            return rc;
    }
    while (sl_capture_tcp_event(c, &ev) == 1) {
        rc = add_stage_problem(s, capture_id, ev.frame, ev.ts_us, &ev.src, &ev.dst, SL_TP_TCP,
                               ev.rule, ev.text, cap, err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

/* Reads every frame of an open capture into the database; closes c. */
static int ingest_capture(struct sl_session *s, struct sl_capture *c, const char *path,
                          struct sl_err *err)
{
    struct sl_db_capture cap;
    struct frame_count fc[MAX_FRAME_COUNTS];
    size_t n_fc = 0, i;
    int64_t capture_id = 0;
    struct sl_frame f;
    struct sl_err cerr;
    int rc;

    memset(&cap, 0, sizeof(cap));
    cap.path = path;
    cap.format = sl_capture_format(c);
    cap.linktype = sl_capture_linktype(c);
    cap.complete = 1;
    if ((rc = sl_db_add_capture(s->db, &cap, &capture_id, err)) != SL_OK)
        goto out;
    s->n_inputs++;
    for (;;) {
        struct sl_db_origin o;

        sl_err_clear(&cerr);
        rc = sl_capture_next(c, &f, &cerr);
        if (rc <= 0) {
            /* end of the file (or of what can be read): the fragments still
             * held are given up before anything else is reported */
            int erc = ingest_frag_events(s, c, capture_id, &cap, fc, &n_fc, err);

            if (erc == SL_OK)
                erc = ingest_stream(s, c, capture_id, &cap, fc, &n_fc, err);

            if (erc != SL_OK) {
                rc = erc;
                goto out;
            }
        }
        if (rc == 0)
            break;
        if (rc < 0) {
            /* The file ends in the middle of a record: keep what was read. */
            memset(&o, 0, sizeof(o));
            o.capture_id = capture_id;
            o.frame = cap.frames + 1;
            o.ts_us = cap.frames > 0 ? cap.last_ts_us : 0;
            cap.complete = 0;
            cap.problems++;
            rc = sl_db_add_problem(s->db, &o, "SIP-CAP-001", SL_SEV_WARNING,
                                   cerr.msg[0] ? cerr.msg
                                               : "capture ends in the middle of a packet",
                                   NULL, 0, 0, err);
            if (rc != SL_OK)
                goto out;
            break;
        }
        if (cap.frames == 0)
            cap.first_ts_us = f.ts_us;
        cap.frames++;
        cap.last_ts_us = f.ts_us;
        memset(&o, 0, sizeof(o));
        o.capture_id = capture_id;
        o.frame = f.number;
        o.ts_us = f.ts_us;
        switch (f.kind) {
        case SL_FRAME_DATAGRAM:
            o.src = &f.src;
            o.dst = &f.dst;
            o.transport = f.transport;
            if (f.hep_version != 0) {
                /* HEP names the original packet's time (RULES.md C.7) */
                if (f.hep_ts_us != 0)
                    o.ts_us = f.hep_ts_us;
                o.has_hep_agent_id = f.hep_has_agent_id;
                o.hep_agent_id = f.hep_agent_id;
                o.hep_correlation = f.hep_correlation;
                o.hep_correlation_len = f.hep_correlation_len;
            }
            rc = ingest_datagram(s, &o, &f, &cap, fc, &n_fc, err);
            if (rc != SL_OK)
                goto out;
            break;
        case SL_FRAME_OTHER:
            cap.other_frames++;
            count_frame(fc, &n_fc, "other", f.reason ? f.reason : "?", f.number, f.ts_us);
            break;
        case SL_FRAME_NOT_DECODED:
            cap.not_decoded_frames++;
            count_frame(fc, &n_fc, "not_decoded", f.reason ? f.reason : "?", f.number, f.ts_us);
            break;
        case SL_FRAME_TRUNCATED:
        case SL_FRAME_MALFORMED: {
            char text[sizeof(f.detail) + 64];
            bool trunc = f.kind == SL_FRAME_TRUNCATED;

            count_frame(fc, &n_fc, "problem", f.reason ? f.reason : "?", f.number, f.ts_us);
            if (trunc)
                snprintf(text, sizeof(text),
                         "frame %" PRIu64 ": %s (the capture kept %u of the frame's %u bytes)",
                         f.number, f.detail[0] ? f.detail : "header cut", f.caplen, f.wirelen);
            else
                snprintf(text, sizeof(text), "frame %" PRIu64 ": %s", f.number,
                         f.detail[0] ? f.detail : "malformed header");
            cap.problems++;
            rc = sl_db_add_problem(s->db, &o, trunc ? "SIP-CAP-002" : "SIP-CAP-003", SL_SEV_WARNING,
                                   text, NULL, 0, 0, err);
            if (rc != SL_OK)
                goto out;
            break;
        }
        case SL_FRAME_HELD: /* counted by the event that settles its datagram */
            break;
        case SL_FRAME_STREAM: /* counted by the first message it completed */
            break;
        }
        rc = ingest_frag_events(s, c, capture_id, &cap, fc, &n_fc, err);
        if (rc != SL_OK)
            goto out;
        rc = ingest_stream(s, c, capture_id, &cap, fc, &n_fc, err);
        if (rc != SL_OK)
            goto out;
    }
    for (i = 0; i < n_fc; i++) {
        rc = sl_db_add_frame_stat(s->db, capture_id, fc[i].kind, fc[i].reason, fc[i].frames,
                                  fc[i].first_frame, fc[i].first_ts_us, err);
        if (rc != SL_OK)
            goto out;
    }
    rc = sl_db_update_capture(s->db, capture_id, &cap, err);
out:
    sl_capture_close(c);
    return rc;
}

int sl_session_finish(struct sl_session *s, struct sl_err *err)
{
    int rc;

    sl_err_clear(err);
    if (s->finished)
        return SL_OK;
    if ((rc = sl_txn_finish(s->txn, err)) != SL_OK)
        return rc;
    if ((rc = sl_db_finish(s->db, err)) != SL_OK)
        return rc;
    s->finished = true;
    return SL_OK;
}

static int ensure_findings(struct sl_session *s, struct sl_err *err)
{
    int rc;

    if (!s->finished && (rc = sl_session_finish(s, err)) != SL_OK)
        return rc;
    if (s->have_findings)
        return SL_OK;
    {
        struct sl_engine_opts eo = { s->opts.t1_us, 0, s->opts.timing != 0, s->opts.rule_limit_ms };

        if ((rc = sl_engine_run(s->db, s->rules, &eo, &s->findings, err)) != SL_OK)
            return rc;
    }
    s->have_findings = true;
    return SL_OK;
}

int sl_session_report(struct sl_session *s, const struct sl_report_opts *opts, char **out,
                      size_t *out_len, struct sl_err *err)
{
    int rc;

    sl_err_clear(err);
    *out = NULL;
    *out_len = 0;
    if ((rc = ensure_findings(s, err)) != SL_OK)
        return rc;
    return sl_report_render(s->db, &s->findings, opts, out, out_len, err);
}

int sl_session_calls(struct sl_session *s, const struct sl_report_opts *opts, int all, char **out,
                     size_t *out_len, struct sl_err *err)
{
    int rc;

    sl_err_clear(err);
    *out = NULL;
    *out_len = 0;
    if ((rc = ensure_findings(s, err)) != SL_OK)
        return rc;
    return sl_report_calls(s->db, &s->findings, opts, all, out, out_len, err);
}

int sl_session_flow(struct sl_session *s, const char *call_id, const struct sl_report_opts *opts,
                    char **out, size_t *out_len, struct sl_err *err)
{
    int rc;

    sl_err_clear(err);
    *out = NULL;
    *out_len = 0;
    if ((rc = ensure_findings(s, err)) != SL_OK)
        return rc;
    return sl_report_flow(s->db, &s->findings, call_id, opts, out, out_len, err);
}

long sl_session_count_findings(struct sl_session *s, enum sl_severity min, struct sl_err *err)
{
    long n = 0;
    size_t i;
    int rc;

    sl_err_clear(err);
    if ((rc = ensure_findings(s, err)) != SL_OK)
        return rc;
    for (i = 0; i < s->findings.n; i++) {
        if (s->findings.v[i].severity >= min)
            n++;
    }
    return n;
}

void sl_session_close(struct sl_session *s)
{
    if (s == NULL)
        return;
    sl_findings_fini(&s->findings);
    sl_ruleset_free(s->rules);
    sl_txn_engine_free(s->txn);
    sl_db_close(s->db);
    free(s);
}

int sl_rules_list(const struct sl_session_opts *sopts, const struct sl_report_opts *opts,
                  char **out, size_t *out_len, struct sl_err *err)
{
    struct sl_ruleset *rs = NULL;
    int rc;

    sl_err_clear(err);
    *out = NULL;
    *out_len = 0;
    if ((rc = sl_ruleset_load(&rs, sopts ? sopts->rules_dir : NULL, err)) != SL_OK)
        return rc;
    rc = sl_ruleset_select(rs, sopts ? sopts->enable : NULL, sopts ? sopts->disable : NULL, err);
    if (rc == SL_OK)
        rc = sl_report_rules(rs, opts, out, out_len, err);
    sl_ruleset_free(rs);
    return rc;
}
