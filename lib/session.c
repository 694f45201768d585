/*
 * session.c: the public API (siplint.h).  Wires the stages in their one
 * direction: capture -> sip -> store -> engine -> report.
 */
#include "siplint.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/pool.h"
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
    size_t max_rows; /* header-rows cap */
    int n_inputs;
    bool finished;
    bool have_findings;
    struct sl_findings findings;
    struct sl_ruleset *rules;
    struct sl_rule_cache *cache; /* the rules prepared on a temporary database (reset) */
    bool was_reset;              /* sl_session_reset ran: the cache is used */
    int64_t ingest_ns;           /* wall time in sl_session_ingest (--timing) */
    unsigned threads;            /* parse threads, the caller's included (>= 1) */
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

static int txn_new(struct sl_session *s, struct sl_err *err);

int sl_session_open(struct sl_session **out, const struct sl_session_opts *opts, struct sl_err *err)
{
    struct sl_session *s;
    int rc;

    *out = NULL;
    sl_err_clear(err);
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return sl_fail(err, SL_ENOMEM, "out of memory");
    if (opts != NULL)
        s->opts = *opts;
    /* every cap resolved here (limits.c has the defaults) */
    if (s->opts.limits.message_size == 0)
        s->opts.limits.message_size = s->opts.max_msg_len;
    s->opts.max_msg_len = sl_limit_get(&s->opts.limits, "message-size");
    s->max_rows = sl_limit_get(&s->opts.limits, "header-rows");
    s->threads = s->opts.threads > 0 ? (unsigned)s->opts.threads : sl_pool_cores();
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
    if (s->opts.rules_dir != NULL)
        sl_db_keep_detail(s->db, true); /* rules of the user's may read any column */
    if (s->opts.db_path == NULL && (s->cache = sl_rule_cache_new()) == NULL) {
        rc = sl_fail(err, SL_ENOMEM, "out of memory");
        goto fail;
    }
    rc = txn_new(s, err);
    if (rc != SL_OK)
        goto fail;
    *out = s;
    return SL_OK;
fail:
    sl_rule_cache_free(s->cache);
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

/*
 * The ingest pipeline.  The capture is read on the caller's thread, and
 * everything the loop below would do is written down as a job, in order: a
 * payload to look at and parse, frames to count, a problem to store.  Worker
 * threads parse the payloads of whole batches of jobs (base/pool.h); the
 * caller's thread then runs every job in the order it was made -- the
 * transaction stage and the database see exactly what a single thread would
 * have given them, whatever --threads says.
 */
enum job_type {
    JOB_PAYLOAD, /* a datagram's payload or a message cut out of a stream */
    JOB_COUNT,   /* frames counted under a kind and a reason */
    JOB_PROBLEM  /* a problem row (after counting its frames when kind is set) */
};

/* Which counter of the capture row a COUNT or PROBLEM job adds its frames to. */
enum job_counter {
    CNT_NONE,
    CNT_OTHER,
    CNT_NOT_DECODED,
    CNT_SIP
};

/* Payloads longer than this give their buffer back after use, so that a few
 * huge messages do not keep memory in every slot of the pool. */
#define JOB_KEEP_BYTES 16384

/* Payload jobs per batch handed to a worker.  With the pool's 16 batches
 * for one worker, at most 2048 jobs are in flight: up to 128 MiB of payload
 * at the largest message size (64 KiB), 1-2 MiB on usual traffic. */
#define JOB_BATCH 128

struct job {
    enum job_type type;
    struct sl_db_origin o; /* src/dst point at src/dst below */
    struct sl_endpoint src, dst;
    /* PAYLOAD: the frame as ingest_payload reads it (payload and the HEP
     * correlation id point into buf); count: it counts its frame */
    struct sl_frame f;
    bool count;
    /* COUNT and PROBLEM */
    const char *kind, *reason; /* frames counted when kind is not NULL */
    uint64_t n_frames, frame;
    int64_t ts_us;
    enum job_counter counter;
    const char *rule; /* PROBLEM */
    enum sl_severity sev;
    size_t raw_len; /* PROBLEM: raw bytes at buf, then the text */
    const char *text;
    /* made by the worker */
    enum sl_sip_look look;
    int parse_rc;
    bool bad_start; /* NOT_SIP, but a SIP start line with another version or a bad code */
    bool has_dup_hash;
    uint64_t dup_hash; /* sl_txn_dup_hash, of a parsed message */
    struct sl_msg m;
    struct sl_err perr;
    /* what libosip2 let through although RFC 3261 does not (sl_msg_lint) */
    size_t n_issues;
    struct sl_msg_issue issues[8];
    /* owned bytes, kept between uses of the slot */
    uint8_t *buf;
    size_t buf_cap;
};

/* One capture's ingest: what the jobs are run against. */
struct ingest {
    struct sl_session *s;
    size_t max_msg_len; /* read by the workers */
    size_t max_rows;    /* the header-rows cap, read by the workers */
    int64_t capture_id;
    struct sl_db_capture *cap;
    struct frame_count *fc;
    size_t *n_fc;
    struct sl_err *err; /* the first failure of a job */
    int failed;
    struct sl_pool *pool;
};

/* Parses the whole header lines of a message cut by the capture: the bytes
 * up to the last line end (at most the header section), then an empty line. */
static int parse_whole_lines(size_t max_msg_len, size_t max_rows, const uint8_t *p, size_t n,
                             struct sl_msg *m, struct sl_err *err)
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
    rc = sl_msg_parse_rows(m, copy, end + 2, max_msg_len, max_rows, err);
    free(copy);
    return rc;
}

/* Runs one parsed message through the transaction stage and stores it with
 * what that stage concluded.  *msg_id receives its id. */
static int store_message(struct sl_session *s, const struct sl_db_origin *o,
                         const struct sl_frame *f, const struct job *j, int64_t *msg_id,
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
    in.msg = &j->m;
    in.raw = f->payload;
    in.raw_len = f->payload_len;
    in.has_dup_hash = j->has_dup_hash;
    in.dup_hash = j->dup_hash;
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
    rc = sl_db_add_message(s->db, *msg_id, o, &j->m, &links, f->payload, f->payload_len,
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

/* The worker's part of a payload job: how it looks, and its parse (a message
 * cut by the capture: the whole header lines, as Wireshark dissects what is
 * there; the stored raw bytes stay the captured ones). */
static void job_work(void *item, void *ctx)
{
    struct job *j = item;
    const struct ingest *in = ctx;

    if (j->type != JOB_PAYLOAD)
        return;
    j->look = sl_sip_look(j->f.payload, j->f.payload_len);
    if (j->look == SL_LOOK_NOT_SIP) {
        /* SIP with another version or a bad status code (RFC 4475 badvers,
         * bigcode): a SIP message no receiver takes */
        sl_err_clear(&j->perr);
        j->bad_start =
                sl_sip_bad_start(j->f.payload, j->f.payload_len, j->perr.msg, sizeof(j->perr.msg));
        return;
    }
    if (j->look == SL_LOOK_KEEPALIVE)
        return;
    sl_err_clear(&j->perr);
    j->parse_rc = sl_msg_parse_look(&j->m, j->f.payload, j->f.payload_len, in->max_msg_len,
                                    in->max_rows, j->look, &j->perr);
    if (j->parse_rc == SL_EFORMAT && j->f.payload_truncated) {
        sl_msg_fini(&j->m);
        j->parse_rc = parse_whole_lines(in->max_msg_len, in->max_rows, j->f.payload,
                                        j->f.payload_len, &j->m, &j->perr);
    }
    if (j->parse_rc == SL_OK) {
        /* the transaction stage's duplicate key: hashing the bytes is the
         * cost, done here rather than on the caller's thread */
        struct sl_txn_input ti;

        memset(&ti, 0, sizeof(ti));
        ti.src = j->f.src;
        ti.dst = j->f.dst;
        ti.transport = j->f.transport;
        ti.raw = j->f.payload;
        ti.raw_len = j->f.payload_len;
        j->dup_hash = sl_txn_dup_hash(in->s->txn, &ti);
        j->has_dup_hash = true;
        if (!j->f.payload_truncated)
            j->n_issues = sl_msg_lint(&j->m, j->f.payload, j->f.payload_len, j->issues, 8);
    }
}

/* What libosip2 let through although RFC 3261 does not (SIP-HDR-012), as the
 * worker found it: one warning per issue, with the message as evidence. */
static int lint_message(struct sl_session *s, const struct sl_db_origin *o,
                        const struct sl_frame *f, const struct job *j, int64_t msg_id,
                        struct sl_db_capture *cap, struct sl_err *err)
{
    char text[sizeof(j->issues[0].text) + 32];
    size_t i;
    int rc;

    for (i = 0; i < j->n_issues; i++) {
        snprintf(text, sizeof(text), "frame %" PRIu64 ": %s", f->number, j->issues[i].text);
        cap->problems++;
        rc = sl_db_add_problem(s->db, o, j->issues[i].rule, SL_SEV_WARNING, text, NULL, 0, msg_id,
                               err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

/* The rest of a payload job, in order: a SIP message, a keep-alive, or
 * something else.  The frame is counted when `count` is set (a stream segment
 * completing several messages counts once). */
static int payload_done(struct ingest *in, struct job *j)
{
    struct sl_session *s = in->s;
    const struct sl_frame *f = &j->f;
    const struct sl_db_origin *o = &j->o;
    struct sl_db_capture *cap = in->cap;
    struct frame_count *fc = in->fc;
    size_t *n_fc = in->n_fc;
    struct sl_err *err = in->err;
    int64_t msg_id = 0;
    int rc = j->parse_rc;
    char text[sizeof(j->perr.msg) + 96];
    struct frame_count dummy[2];
    size_t n_dummy = 0;

    if (!j->count) {
        fc = dummy;
        n_fc = &n_dummy;
    }
    if (j->look == SL_LOOK_NOT_SIP && j->bad_start) {
        snprintf(text, sizeof(text), "frame %" PRIu64 ": %s", f->number, j->perr.msg);
        cap->sip_messages++;
        cap->problems++;
        count_frame(fc, n_fc, "sip", "SIP, not parsed", f->number, f->ts_us);
        return sl_db_add_problem(s->db, o, "SIP-HDR-008", SL_SEV_ERROR, text, f->payload,
                                 f->payload_len, 0, err);
    }
    if (j->look == SL_LOOK_NOT_SIP) {
        count_frame(fc, n_fc, "other", "UDP, not SIP", f->number, f->ts_us);
        if (j->count)
            cap->other_frames++;
        return SL_OK;
    }
    if (j->look == SL_LOOK_KEEPALIVE) {
        count_frame(fc, n_fc, "other", "SIP keep-alive (CRLF)", f->number, f->ts_us);
        if (j->count)
            cap->other_frames++;
        return SL_OK;
    }
    if (rc == SL_ENOMEM)
        return sl_fail(err, SL_ENOMEM, "out of memory");
    /* A SIP message is what starts with a SIP start line, parsed or not
     * (tshark counts the same way); one that cannot be parsed is also a
     * problem with its own finding. */
    cap->sip_messages++;
    if (rc == SL_OK) {
        rc = store_message(s, o, f, j, &msg_id, err);
        if (rc == SL_OK)
            rc = lint_message(s, o, f, j, msg_id, cap, err);
        if (rc != SL_OK)
            return rc;
        count_frame(fc, n_fc, "sip", f->payload_truncated ? "SIP, cut by the capture" : "SIP",
                    f->number, f->ts_us);
    } else {
        count_frame(fc, n_fc, "sip",
                    f->payload_truncated ? "SIP, cut by the capture, not parsed"
                    : rc == SL_ELIMIT    ? "SIP, over a limit"
                                         : "SIP, not parsed",
                    f->number, f->ts_us);
    }
    if (f->payload_truncated) {
        snprintf(text, sizeof(text), "frame %" PRIu64 ": SIP message cut by the capture (%s)%s",
                 f->number, f->detail[0] ? f->detail : "incomplete",
                 msg_id ? "; the whole header lines were parsed and stored"
                        : "; too little is left to parse");
        cap->problems++;
        return sl_db_add_problem(s->db, o, "SIP-CAP-002", SL_SEV_WARNING, text,
                                 msg_id ? NULL : f->payload, msg_id ? 0 : f->payload_len, msg_id,
                                 err);
        /* a cut message that did not parse is explained by the cut */
    }
    if (msg_id == 0) {
        const char *id = j->perr.code == SL_ELIMIT ? "SIP-CAP-006" : "SIP-HDR-011";
        enum sl_severity sev = j->perr.code == SL_ELIMIT ? SL_SEV_WARNING : SL_SEV_ERROR;

        snprintf(text, sizeof(text), "frame %" PRIu64 ": %s", f->number,
                 j->perr.msg[0] ? j->perr.msg : "SIP message could not be parsed");
        cap->problems++;
        return sl_db_add_problem(s->db, o, id, sev, text, f->payload, f->payload_len, 0, err);
    }
    return SL_OK;
}

static void count_into(struct sl_db_capture *cap, enum job_counter c, uint64_t n)
{
    switch (c) {
    case CNT_OTHER:
        cap->other_frames += n;
        break;
    case CNT_NOT_DECODED:
        cap->not_decoded_frames += n;
        break;
    case CNT_SIP:
        cap->sip_messages += n;
        break;
    case CNT_NONE:
        break;
    }
}

/* The caller's part of every job, in order.  After a failure the jobs left
 * only release what their parse made. */
static int job_done(void *item, void *ctx)
{
    struct job *j = item;
    struct ingest *in = ctx;
    int rc = SL_OK;

    if (!in->failed) {
        switch (j->type) {
        case JOB_PAYLOAD:
            rc = payload_done(in, j);
            break;
        case JOB_COUNT:
            count_frames(in->fc, in->n_fc, j->kind, j->reason, j->n_frames, j->frame, j->ts_us);
            count_into(in->cap, j->counter, j->n_frames);
            break;
        case JOB_PROBLEM:
            if (j->kind != NULL)
                count_frames(in->fc, in->n_fc, j->kind, j->reason, j->n_frames, j->frame, j->ts_us);
            count_into(in->cap, j->counter, j->n_frames);
            in->cap->problems++;
            rc = sl_db_add_problem(in->s->db, &j->o, j->rule, j->sev, j->text,
                                   j->raw_len > 0 ? j->buf : NULL, j->raw_len, 0, in->err);
            break;
        }
        if (rc != SL_OK)
            in->failed = rc;
    }
    sl_msg_fini(&j->m);
    return rc;
}

static void job_fini(void *item)
{
    struct job *j = item;

    sl_msg_fini(&j->m);
    free(j->buf);
    j->buf = NULL;
    j->buf_cap = 0;
}

/* The next job slot, reset, of type t at origin (capture, frame, ts). */
static struct job *job_new(struct ingest *in, enum job_type t, uint64_t frame, int64_t ts_us)
{
    struct job *j = sl_pool_slot(in->pool);
    uint8_t *buf = j->buf;
    size_t cap = j->buf_cap;

    if (cap > JOB_KEEP_BYTES) {
        free(buf);
        buf = NULL;
        cap = 0;
    }
    memset(j, 0, offsetof(struct job, m));
    j->buf = buf;
    j->buf_cap = cap;
    j->type = t;
    j->o.capture_id = in->capture_id;
    j->o.frame = frame;
    j->o.ts_us = ts_us;
    j->frame = frame;
    j->ts_us = ts_us;
    j->parse_rc = SL_OK;
    j->n_issues = 0;
    return j;
}

/* Room for n bytes in the job's buffer. */
static int job_room(struct job *j, size_t n)
{
    uint8_t *b;

    if (n <= j->buf_cap)
        return SL_OK;
    b = realloc(j->buf, n);
    if (b == NULL)
        return SL_ENOMEM;
    j->buf = b;
    j->buf_cap = n;
    return SL_OK;
}

static void job_endpoints(struct job *j, const struct sl_endpoint *src,
                          const struct sl_endpoint *dst)
{
    if (src != NULL) {
        j->src = *src;
        j->o.src = &j->src;
    }
    if (dst != NULL) {
        j->dst = *dst;
        j->o.dst = &j->dst;
    }
}

/* A payload job for frame f (its payload and HEP correlation id are copied),
 * stored with origin o. */
static int emit_payload(struct ingest *in, const struct sl_db_origin *o, const struct sl_frame *f,
                        bool count, struct sl_err *err)
{
    struct job *j = job_new(in, JOB_PAYLOAD, o->frame, o->ts_us);
    size_t corr = o->hep_correlation != NULL ? o->hep_correlation_len : 0;

    if (f->payload_len > SIZE_MAX - corr - 1 || job_room(j, f->payload_len + corr + 1) != SL_OK)
        return sl_fail(err, SL_ENOMEM, "out of memory holding a message");
    j->o = *o;
    j->f = *f;
    j->count = count;
    job_endpoints(j, o->src, o->dst);
    if (f->payload_len > 0)
        memcpy(j->buf, f->payload, f->payload_len);
    j->f.payload = j->buf;
    if (o->hep_correlation != NULL) {
        if (corr > 0)
            memcpy(j->buf + f->payload_len, o->hep_correlation, corr);
        j->o.hep_correlation = j->buf + f->payload_len;
    }
    j->f.hep_correlation = j->o.hep_correlation;
    j->f.hep_correlation_len = corr;
    sl_pool_push(in->pool);
    return SL_OK;
}

static void emit_count(struct ingest *in, const char *kind, const char *reason, uint64_t n,
                       uint64_t frame, int64_t ts_us, enum job_counter counter)
{
    struct job *j = job_new(in, JOB_COUNT, frame, ts_us);

    j->kind = kind;
    j->reason = reason;
    j->n_frames = n;
    j->counter = counter;
    sl_pool_push(in->pool);
}

/* A problem job: text (copied) about frame, raw bytes optional.  The caller
 * sets kind/reason/n_frames/counter on the returned job before pushing. */
static struct job *problem_job(struct ingest *in, uint64_t frame, int64_t ts_us,
                               const struct sl_endpoint *src, const struct sl_endpoint *dst,
                               enum sl_transport tp, const char *rule, enum sl_severity sev,
                               const char *text, const uint8_t *raw, size_t raw_len,
                               struct sl_err *err)
{
    struct job *j = job_new(in, JOB_PROBLEM, frame, ts_us);
    size_t tl = strlen(text);

    if (raw_len > SIZE_MAX - tl - 1 || job_room(j, raw_len + tl + 1) != SL_OK) {
        (void)sl_fail(err, SL_ENOMEM, "out of memory holding a problem");
        return NULL;
    }
    job_endpoints(j, src, dst);
    j->o.transport = tp;
    j->rule = rule;
    j->sev = sev;
    if (raw_len > 0)
        memcpy(j->buf, raw, raw_len);
    j->raw_len = raw_len;
    memcpy(j->buf + raw_len, text, tl + 1);
    j->text = (const char *)j->buf + raw_len;
    return j;
}

/* A problem a reassembler reported about frame (0: none) of the capture,
 * addresses optional; its text is prefixed with the frame. */
static int emit_stage_problem(struct ingest *in, uint64_t frame, int64_t ts_us,
                              const struct sl_endpoint *src, const struct sl_endpoint *dst,
                              enum sl_transport tp, const char *rule, const char *what,
                              struct sl_err *err)
{
    const struct sl_rule_info *ri = sl_ruleset_find(in->s->rules, rule);
    char text[512];
    struct job *j;

    if (frame > 0)
        snprintf(text, sizeof(text), "frame %" PRIu64 ": %s", frame, what);
    else
        snprintf(text, sizeof(text), "%s", what);
    /* the catalog's severity: warning, info for SIP-CAP-004 (a TLS or DTLS stream) */
    j = problem_job(in, frame, ts_us, src, dst, tp, rule,
                    ri != NULL ? ri->severity : SL_SEV_WARNING, text, NULL, 0, err);
    if (j == NULL)
        return SL_ENOMEM;
    sl_pool_push(in->pool);
    return SL_OK;
}

/*
 * The reassembler's events since the last frame: the held IP fragments they
 * settle are counted (reassembled: kind other; lost: kind problem; dropped at
 * a cap: not decoded), and what went wrong is a problem (SIP-CAP-005 for an
 * incomplete or overlapping datagram, SIP-CAP-006 for a cap).
 */
static int emit_frag_events(struct ingest *in, struct sl_capture *c, struct sl_err *err)
{
    struct sl_ipfrag_event ev;
    int rc;

    while (sl_capture_event(c, &ev) == 1) {
        if (ev.frames > 0) {
            switch (ev.stat_kind) {
            case SL_FRAME_OTHER:
                emit_count(in, "other", ev.reason, ev.frames, ev.frame, ev.ts_us, CNT_OTHER);
                break;
            case SL_FRAME_NOT_DECODED:
                emit_count(in, "not_decoded", ev.reason, ev.frames, ev.frame, ev.ts_us,
                           CNT_NOT_DECODED);
                break;
            default:
                emit_count(in, "problem", ev.reason, ev.frames, ev.frame, ev.ts_us, CNT_NONE);
                break;
            }
        }
        if (ev.kind != SL_IPFRAG_REASSEMBLED) {
            /* no ports: the addresses are named in the text */
            rc = emit_stage_problem(in, ev.frame, ev.ts_us, NULL, NULL, SL_TP_NONE,
                                    ev.kind == SL_IPFRAG_LIMIT ? "SIP-CAP-006" : "SIP-CAP-005",
                                    ev.text, err);
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
static int emit_stream(struct ingest *in, struct sl_capture *c, struct sl_err *err)
{
    struct sl_stream_msg m;
    struct sl_tcp_event ev;
    int rc;

    while (sl_capture_message(c, &m) == 1) {
        struct sl_db_origin o;
        struct sl_frame mf;
        enum sl_transport tp =
                m.transport != SL_TP_NONE || m.hep_version != 0 ? m.transport : SL_TP_TCP;
        /* HEP over TCP, a HEP file, a compressed HEP payload (RULES.md C.7) */
        int64_t ts_us = m.hep_version != 0 && m.hep_ts_us != 0 ? m.hep_ts_us : m.ts_us;

        if (m.problem != NULL) {
            char text[sizeof(m.text) + 32];
            struct job *j;

            snprintf(text, sizeof(text), "frame %" PRIu64 ": %s", m.frame, m.text);
            j = problem_job(in, m.frame, ts_us, &m.src, &m.dst, tp, m.problem, SL_SEV_ERROR, text,
                            m.data, m.len, err);
            if (j == NULL)
                return SL_ENOMEM;
            j->counter = CNT_SIP;
            j->n_frames = 1;
            if (m.counts_frame) {
                j->kind = "sip";
                j->reason = "SIP, not framed";
            }
            sl_pool_push(in->pool);
            continue;
        }
        memset(&o, 0, sizeof(o));
        memset(&mf, 0, sizeof(mf));
        mf.number = m.frame;
        mf.ts_us = m.ts_us;
        mf.kind = SL_FRAME_DATAGRAM;
        mf.reason = "TCP";
        mf.src = m.src;
        mf.dst = m.dst;
        mf.transport = tp;
        mf.payload = m.data;
        mf.payload_len = m.len;
        o.capture_id = in->capture_id;
        o.frame = m.frame;
        o.ts_us = ts_us;
        o.src = &mf.src;
        o.dst = &mf.dst;
        o.transport = tp;
        if (m.hep_version != 0) {
            o.has_hep_agent_id = m.hep_has_agent_id;
            o.hep_agent_id = m.hep_agent_id;
            o.hep_correlation = m.hep_correlation;
            o.hep_correlation_len = m.hep_correlation_len;
        }
        rc = emit_payload(in, &o, &mf, m.counts_frame, err);
        if (rc != SL_OK)
            return rc;
    }
    while (sl_capture_tcp_event(c, &ev) == 1) {
        rc = emit_stage_problem(in, ev.frame, ev.ts_us, &ev.src, &ev.dst,
                                ev.transport != SL_TP_NONE ? ev.transport : SL_TP_TCP, ev.rule,
                                ev.text, err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

/* The capture's notes about the file itself (damaged or skipped pcapng
 * blocks, time going backwards); SIP-CAP-009 is information only. */
static int emit_notes(struct ingest *in, struct sl_capture *c, struct sl_err *err)
{
    struct sl_capture_note n;

    while (sl_capture_note(c, &n) == 1) {
        bool info = strcmp(n.rule, "SIP-CAP-009") == 0;
        char text[sizeof(n.text) + 32];
        struct job *j;

        if (n.frame > 0)
            snprintf(text, sizeof(text), "frame %" PRIu64 ": %s", n.frame, n.text);
        else
            snprintf(text, sizeof(text), "%s", n.text);
        j = problem_job(in, n.frame, n.ts_us, NULL, NULL, SL_TP_NONE, n.rule,
                        info ? SL_SEV_INFO : SL_SEV_WARNING, text, NULL, 0, err);
        if (j == NULL)
            return SL_ENOMEM;
        sl_pool_push(in->pool);
    }
    return SL_OK;
}

/* One frame of the capture, as jobs. */
static int emit_frame(struct ingest *in, const struct sl_frame *f, struct sl_err *err)
{
    struct sl_db_origin o;

    memset(&o, 0, sizeof(o));
    o.capture_id = in->capture_id;
    o.frame = f->number;
    o.ts_us = f->ts_us;
    switch (f->kind) {
    case SL_FRAME_DATAGRAM:
        o.src = &f->src;
        o.dst = &f->dst;
        o.transport = f->transport;
        if (f->hep_version != 0) {
            /* HEP names the original packet's time (RULES.md C.7) */
            if (f->hep_ts_us != 0)
                o.ts_us = f->hep_ts_us;
            o.has_hep_agent_id = f->hep_has_agent_id;
            o.hep_agent_id = f->hep_agent_id;
            o.hep_correlation = f->hep_correlation;
            o.hep_correlation_len = f->hep_correlation_len;
        }
        return emit_payload(in, &o, f, true, err);
    case SL_FRAME_OTHER:
        emit_count(in, "other", f->reason ? f->reason : "?", 1, f->number, f->ts_us, CNT_OTHER);
        return SL_OK;
    case SL_FRAME_NOT_DECODED:
        emit_count(in, "not_decoded", f->reason ? f->reason : "?", 1, f->number, f->ts_us,
                   CNT_NOT_DECODED);
        return SL_OK;
    case SL_FRAME_TRUNCATED:
    case SL_FRAME_MALFORMED: {
        char text[sizeof(f->detail) + 64];
        bool trunc = f->kind == SL_FRAME_TRUNCATED;
        struct job *j;

        if (trunc)
            snprintf(text, sizeof(text),
                     "frame %" PRIu64 ": %s (the capture kept %u of the frame's %u bytes)",
                     f->number, f->detail[0] ? f->detail : "header cut", f->caplen, f->wirelen);
        else
            snprintf(text, sizeof(text), "frame %" PRIu64 ": %s", f->number,
                     f->detail[0] ? f->detail : "malformed header");
        j = problem_job(in, f->number, f->ts_us, NULL, NULL, SL_TP_NONE,
                        trunc ? "SIP-CAP-002" : "SIP-CAP-003", SL_SEV_WARNING, text, NULL, 0, err);
        if (j == NULL)
            return SL_ENOMEM;
        j->kind = "problem";
        j->reason = f->reason ? f->reason : "?";
        j->n_frames = 1;
        sl_pool_push(in->pool);
        return SL_OK;
    }
    case SL_FRAME_HELD:   /* counted by the event that settles its datagram */
    case SL_FRAME_STREAM: /* counted by the first message it completed */
        break;
    }
    return SL_OK;
}

static int ingest_capture(struct sl_session *s, struct sl_capture *c, const char *path,
                          struct sl_err *err);

/* Monotonic nanoseconds (--timing's stage times, the progress line). */
static int64_t stage_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int sl_session_ingest(struct sl_session *s, const char *path, struct sl_err *err)
{
    struct sl_capture *c = NULL;
    int64_t t0 = stage_ns();
    int rc;

    sl_err_clear(err);
    if (s->finished)
        return sl_fail(err, SL_EUSAGE, "session already finished");
    rc = sl_capture_open(&c, path, err);
    if (rc != SL_OK)
        return rc;
    rc = ingest_capture(s, c, path, err);
    s->ingest_ns += stage_ns() - t0;
    return rc;
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

/* Seconds on the monotonic clock. */
static double now_s(void)
{
    return (double)stage_ns() / 1e9;
}

/* Frames between two looks at the clock for the progress callback. */
#define PROGRESS_EVERY 4096

static void report_progress(struct sl_session *s, struct sl_capture *c, const char *path,
                            uint64_t frames, double start)
{
    struct sl_progress p;
    uint64_t done, size;

    sl_capture_position(c, &done, &size);
    p.path = path;
    p.frames = frames;
    p.messages = (unsigned long long)s->next_msg_id;
    p.bytes_done = done;
    p.bytes_total = size;
    p.seconds = now_s() - start;
    s->opts.progress(s->opts.progress_ctx, &p);
}

/* Reads every frame of an open capture into the database; closes c. */
static int ingest_capture(struct sl_session *s, struct sl_capture *c, const char *path,
                          struct sl_err *err)
{
    struct sl_db_capture cap;
    struct frame_count fc[MAX_FRAME_COUNTS];
    size_t n_fc = 0, i;
    struct sl_frame f;
    struct sl_err cerr, jerr;
    struct ingest in;
    struct sl_pool_fns fns = { job_work, job_done, job_fini, NULL };
    int rc, prc;
    double start = s->opts.progress != NULL ? now_s() : 0, last = start;

    {
        /* the reassemblers' caps */
        struct sl_ipfrag_opts fo;
        struct sl_tcp_opts tco;

        memset(&fo, 0, sizeof(fo));
        memset(&tco, 0, sizeof(tco));
        fo.max_datagrams = (unsigned)sl_limit_get(&s->opts.limits, "ip-datagrams");
        fo.max_fragments = (unsigned)sl_limit_get(&s->opts.limits, "ip-fragments");
        tco.max_streams = (unsigned)sl_limit_get(&s->opts.limits, "tcp-streams");
        tco.max_bytes = sl_limit_get(&s->opts.limits, "tcp-stream-bytes");
        tco.max_total = sl_limit_get(&s->opts.limits, "tcp-total-bytes");
        if (sl_capture_set_opts(c, &fo, &tco) != SL_OK) {
            sl_capture_close(c);
            return sl_fail(err, SL_ENOMEM, "out of memory opening the capture");
        }
    }
    memset(&cap, 0, sizeof(cap));
    cap.path = path;
    cap.format = sl_capture_format(c);
    cap.linktype = sl_capture_linktype(c);
    cap.complete = 1;
    memset(&in, 0, sizeof(in));
    in.s = s;
    in.max_msg_len = s->opts.max_msg_len;
    in.max_rows = s->max_rows;
    in.cap = &cap;
    in.fc = fc;
    in.n_fc = &n_fc;
    sl_err_clear(&jerr);
    in.err = &jerr;
    fns.ctx = &in;
    if ((rc = sl_db_add_capture(s->db, &cap, &in.capture_id, err)) != SL_OK) {
        sl_capture_close(c);
        return rc;
    }
    if (sl_pool_new(&in.pool, sizeof(struct job), JOB_BATCH, s->threads - 1, &fns) != 0) {
        sl_capture_close(c);
        return sl_fail(err, SL_ENOMEM, "cannot start the parse threads");
    }
    s->n_inputs++;
    for (;;) {
        sl_err_clear(&cerr);
        rc = sl_capture_next(c, &f, &cerr);
        if (rc <= 0) {
            /* end of the file (or of what can be read): the fragments still
             * held are given up before anything else is reported */
            int erc = emit_frag_events(&in, c, err);

            if (erc == SL_OK)
                erc = emit_stream(&in, c, err);
            if (erc == SL_OK)
                erc = emit_notes(&in, c, err);
            if (erc != SL_OK) {
                rc = erc;
                goto out;
            }
        }
        if (rc == 0)
            break;
        if (rc < 0) {
            /* The file ends in the middle of a record (SL_ETRUNC), or libpcap
             * cannot read one (SL_EFORMAT): keep what was read. */
            struct job *j = problem_job(
                    &in, cap.frames + 1, cap.frames > 0 ? cap.last_ts_us : 0, NULL, NULL,
                    SL_TP_NONE, rc == SL_ETRUNC ? "SIP-CAP-001" : "SIP-CAP-008", SL_SEV_WARNING,
                    cerr.msg[0] ? cerr.msg : "capture ends in the middle of a packet", NULL, 0,
                    err);

            if (j == NULL) {
                rc = SL_ENOMEM;
                goto out;
            }
            sl_pool_push(in.pool);
            cap.complete = 0;
            break;
        }
        /* the time span of the capture, also when time goes backwards */
        if (cap.frames == 0 || f.ts_us < cap.first_ts_us)
            cap.first_ts_us = f.ts_us;
        if (cap.frames == 0 || f.ts_us > cap.last_ts_us)
            cap.last_ts_us = f.ts_us;
        cap.frames++;
        if ((rc = emit_frame(&in, &f, err)) != SL_OK)
            goto out;
        if ((rc = emit_frag_events(&in, c, err)) != SL_OK)
            goto out;
        if ((rc = emit_stream(&in, c, err)) != SL_OK)
            goto out;
        if ((rc = emit_notes(&in, c, err)) != SL_OK)
            goto out;
        if (sl_pool_status(in.pool) != 0)
            break;
        if (s->opts.progress != NULL && cap.frames % PROGRESS_EVERY == 0) {
            double t = now_s();

            if (t - last >= 0.25) {
                last = t;
                report_progress(s, c, path, cap.frames, start);
            }
        }
    }
    prc = sl_pool_flush(in.pool);
    if (prc != 0) {
        rc = sl_fail(err, prc, "%s", jerr.msg);
        goto out;
    }
    for (i = 0; i < n_fc; i++) {
        rc = sl_db_add_frame_stat(s->db, in.capture_id, fc[i].kind, fc[i].reason, fc[i].frames,
                                  fc[i].first_frame, fc[i].first_ts_us, err);
        if (rc != SL_OK)
            goto out;
    }
    rc = sl_db_update_capture(s->db, in.capture_id, &cap, err);
    if (rc == SL_OK && !cap.complete && err != NULL) {
        /* read, but not to its end: a note for the caller (siplint.h) */
        sl_err_clear(err);
        snprintf(err->msg, sizeof(err->msg), "%s", cerr.msg);
    }
out:
    sl_pool_free(in.pool);
    sl_capture_close(c);
    return rc;
}

int sl_session_finish(struct sl_session *s, struct sl_err *err)
{
    int rc;

    int64_t t_ix = stage_ns(), t0, t1;

    sl_err_clear(err);
    if (s->finished)
        return SL_OK;
    /* every message is stored: their indexes are built beside the closing
     * (with one thread, before it) */
    if ((rc = sl_db_messages_done(s->db, s->threads > 1, err)) != SL_OK)
        return rc;
    t0 = stage_ns();
    if ((rc = sl_txn_finish(s->txn, err)) != SL_OK)
        return rc;
    t1 = stage_ns();
    if ((rc = sl_db_finish(s->db, err)) != SL_OK)
        return rc;
    s->finished = true;
    if (s->opts.timing) {
        double in_s = (double)s->ingest_ns / 1e9;

        fprintf(stderr,
                "siplint: stage timing (wall time):\n"
                "  %10.1f ms           reading the inputs: %lld SIP messages, %.0f a second "
                "(%u thread%s)\n"
                "  %10.1f ms           closing the open transactions, dialogs and calls\n"
                "  %10.1f ms           building the database indexes\n",
                in_s * 1e3, (long long)s->next_msg_id,
                in_s > 0 ? (double)s->next_msg_id / in_s : 0.0, s->threads,
                s->threads == 1 ? "" : "s", (double)(t1 - t0) / 1e6,
                (double)(stage_ns() - t1 + t0 - t_ix) / 1e6);
    }
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
        struct sl_engine_opts eo = { .t1_us = s->opts.t1_us,
                                     .tol_us = 0,
                                     /* the cache pays from the second run on:
                                      * a run with none may use two threads */
                                     .cache = s->was_reset ? s->cache : NULL,
                                     .timing = s->opts.timing != 0,
                                     .rule_timeout_ms = s->opts.rule_limit_ms,
                                     .threads = s->threads };

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

/* The transaction stage of a session, new. */
static int txn_new(struct sl_session *s, struct sl_err *err)
{
    struct sl_txn_sink sink;
    struct sl_txn_opts to;

    memset(&sink, 0, sizeof(sink));
    sink.ctx = s->db;
    sink.txn_done = sink_txn;
    sink.dialog_done = sink_dialog;
    sink.leg_done = sink_leg;
    sink.st_event = sink_st;
    memset(&to, 0, sizeof(to));
    to.t1_us = s->opts.t1_us;
    to.max_txns = sl_limit_get(&s->opts.limits, "transactions");
    to.max_dialogs = sl_limit_get(&s->opts.limits, "dialogs");
    to.max_legs = sl_limit_get(&s->opts.limits, "calls");
    return sl_txn_engine_new(&s->txn, &to, &sink, err);
}

int sl_session_reset(struct sl_session *s, struct sl_err *err)
{
    int rc;

    sl_err_clear(err);
    if (s == NULL || s->opts.db_path != NULL || s->opts.keep_existing)
        return sl_fail(err, SL_EUSAGE, "only a session on a temporary database can be reset");
    sl_findings_fini(&s->findings);
    s->have_findings = false;
    sl_txn_engine_free(s->txn);
    s->txn = NULL;
    if ((rc = sl_db_reset(s->db, err)) != SL_OK || (rc = txn_new(s, err)) != SL_OK)
        return rc;
    s->next_msg_id = 0;
    s->max_ts_us = 0;
    s->since_expire = 0;
    s->txn_limit_reported = false;
    s->n_inputs = 0;
    s->finished = false;
    s->was_reset = true;
    return SL_OK;
}

void sl_session_close(struct sl_session *s)
{
    if (s == NULL)
        return;
    sl_rule_cache_free(s->cache); /* before the connection closes */
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
