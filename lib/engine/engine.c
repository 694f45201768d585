#include "engine/engine.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/sbuf.h"
#include "base/status.h"
#include "base/str.h"

static char *dup_col(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    if (t == NULL)
        return NULL;
    return sl_strndup((const char *)t, (size_t)sqlite3_column_bytes(st, col));
}

/* "ip:port" from two columns, or NULL. */
static char *endpoint_col(sqlite3_stmt *st, int ip_col, int port_col)
{
    const char *ip = (const char *)sqlite3_column_text(st, ip_col);
    char buf[80];

    if (ip == NULL)
        return NULL;
    sl_db_ep_text(ip, sqlite3_column_int(st, port_col), buf, sizeof(buf));
    return sl_strndup(buf, strlen(buf));
}

/* The first line of a raw blob column (at most 200 bytes). */
static char *first_line_col(sqlite3_stmt *st, int col)
{
    const uint8_t *raw = sqlite3_column_blob(st, col);
    size_t n;
    const char *p;

    if (raw == NULL)
        return NULL;
    p = sl_db_first_line(raw, (size_t)sqlite3_column_bytes(st, col), 200, &n);
    return sl_strndup(p, n);
}

static struct sl_finding *push(struct sl_findings *fs)
{
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 16;
        struct sl_finding *v = realloc(fs->v, cap * sizeof(*v));

        if (v == NULL)
            return NULL;
        fs->v = v;
        fs->cap = cap;
    }
    memset(&fs->v[fs->n], 0, sizeof(fs->v[0]));
    return &fs->v[fs->n++];
}

static enum sl_severity severity_from(const char *s)
{
    if (s != NULL && strcmp(s, "error") == 0)
        return SL_SEV_ERROR;
    if (s != NULL && strcmp(s, "warning") == 0)
        return SL_SEV_WARNING;
    return SL_SEV_INFO;
}

static char *fmt_dup(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *fmt_dup(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    return sl_strndup(buf, strlen(buf));
}

/* Decode problems recorded by the capture and SIP stages. */
static int problems(struct sl_db *db, const struct sl_ruleset *rs, struct sl_findings *fs,
                    struct sl_err *err)
{
    static const char sql[] =
            "SELECT p.capture_id, p.frame, p.ts_us, p.src_ip, p.src_port, p.dst_ip, "
            "       p.dst_port, p.transport, p.rule_id, p.severity, p.text, p.raw, "
            "       m.call_id, m.cseq_num, m.cseq_method, m.first_line, m.leg_id, p.msg_id "
            "FROM problem p LEFT JOIN message m ON m.msg_id = p.msg_id "
            "ORDER BY p.capture_id, p.rule_id, p.frame, p.problem_id";
    sqlite3 *h = sl_db_handle(db);
    sqlite3_stmt *st = NULL;
    int64_t cur_capture = -1;
    const char *cur_rule = NULL;
    char cur_rule_buf[32] = "";
    uint64_t listed = 0, more = 0, more_first_frame = 0;
    int rc = SL_OK;
    int step;

    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        return sl_fail(err, SL_ESQL, "problems: %s", sqlite3_errmsg(h));
    for (;;) {
        struct sl_finding *f;
        struct sl_evidence *ev;
        const char *rule_id;
        int64_t capture_id;
        int flush;

        step = sqlite3_step(st);
        if (step != SQLITE_ROW && step != SQLITE_DONE) {
            rc = sl_fail(err, SL_ESQL, "problems: %s", sqlite3_errmsg(h));
            break;
        }
        capture_id = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
        rule_id = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 8) : "";
        if (rule_id == NULL)
            rule_id = "";
        flush = step == SQLITE_DONE || capture_id != cur_capture || cur_rule == NULL ||
                strcmp(rule_id, cur_rule) != 0;
        if (flush && more > 0) {
            const struct sl_rule_info *ri = sl_ruleset_find(rs, cur_rule);

            if ((f = push(fs)) == NULL)
                goto nomem;
            f->rule = ri;
            f->severity = ri ? ri->severity : SL_SEV_INFO;
            f->input = (int)(cur_capture - 1);
            f->frame = more_first_frame;
            f->ts_us = INT64_MIN;
            f->message = fmt_dup("%" PRIu64 " more %s findings in this input are not listed; the "
                                 "first is in frame %" PRIu64 " (table problem holds them all)",
                                 more, cur_rule, more_first_frame);
            if (f->message == NULL)
                goto nomem;
        }
        if (step == SQLITE_DONE)
            break;
        if (flush) {
            cur_capture = capture_id;
            snprintf(cur_rule_buf, sizeof(cur_rule_buf), "%s", rule_id);
            cur_rule = cur_rule_buf;
            listed = 0;
            more = 0;
        }
        if (listed >= SL_MAX_FINDINGS_PER_RULE) {
            if (more++ == 0)
                more_first_frame = (uint64_t)sqlite3_column_int64(st, 1);
            continue;
        }
        listed++;
        if ((f = push(fs)) == NULL)
            goto nomem;
        f->rule = sl_ruleset_find(rs, rule_id);
        f->severity = severity_from((const char *)sqlite3_column_text(st, 9));
        f->input = (int)(capture_id - 1);
        f->frame = (uint64_t)sqlite3_column_int64(st, 1);
        f->ts_us =
                sqlite3_column_type(st, 2) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(st, 2);
        f->message = dup_col(st, 10);
        f->call_id = dup_col(st, 12);
        f->leg_id = sqlite3_column_int64(st, 16);
        f->msg_id = sqlite3_column_int64(st, 17);
        f->evidence = calloc(1, sizeof(*f->evidence));
        if (f->evidence == NULL)
            goto nomem;
        f->n_evidence = 1;
        ev = &f->evidence[0];
        ev->msg_id = sqlite3_column_int64(st, 17);
        ev->input = f->input;
        ev->frame = f->frame;
        ev->ts_us = f->ts_us;
        ev->src = endpoint_col(st, 3, 4);
        ev->dst = endpoint_col(st, 5, 6);
        ev->transport = dup_col(st, 7);
        ev->first_line = sqlite3_column_type(st, 15) != SQLITE_NULL ? dup_col(st, 15)
                                                                    : first_line_col(st, 11);
        if (sqlite3_column_type(st, 13) != SQLITE_NULL)
            ev->cseq = fmt_dup(
                    "%lld %s", (long long)sqlite3_column_int64(st, 13),
                    sqlite3_column_text(st, 14) ? (const char *)sqlite3_column_text(st, 14) : "");
    }
    sqlite3_finalize(st);
    return rc;
nomem:
    sqlite3_finalize(st);
    return sl_fail(err, SL_ENOMEM, "out of memory");
}

/* One SIP-CAP-004 finding per capture and reason of frames not decoded;
 * TLS and DTLS frames are reported per stream by the capture stage instead
 * (table problem). */
static int not_decoded(struct sl_db *db, const struct sl_ruleset *rs, struct sl_findings *fs,
                       struct sl_err *err)
{
    static const char sql[] =
            "SELECT capture_id, reason, frames, first_frame, first_ts_us FROM frame_stat "
            "WHERE kind = 'not_decoded' AND reason NOT IN ('TLS', 'DTLS') "
            "ORDER BY capture_id, first_frame";
    sqlite3 *h = sl_db_handle(db);
    sqlite3_stmt *st = NULL;
    const struct sl_rule_info *ri = sl_ruleset_find(rs, "SIP-CAP-004");
    int step;

    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        return sl_fail(err, SL_ESQL, "frame_stat: %s", sqlite3_errmsg(h));
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct sl_finding *f = push(fs);
        long long n = sqlite3_column_int64(st, 2);
        const char *reason = (const char *)sqlite3_column_text(st, 1);

        if (f == NULL) {
            sqlite3_finalize(st);
            return sl_fail(err, SL_ENOMEM, "out of memory");
        }
        f->rule = ri;
        f->severity = ri->severity;
        f->input = (int)(sqlite3_column_int64(st, 0) - 1);
        f->frame = (uint64_t)sqlite3_column_int64(st, 3);
        f->ts_us =
                sqlite3_column_type(st, 4) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(st, 4);
        f->message = fmt_dup("%lld frame%s not decoded: %s (first: frame %" PRIu64 ")", n,
                             n == 1 ? "" : "s", reason ? reason : "?", f->frame);
        f->evidence = calloc(1, sizeof(*f->evidence));
        if (f->message == NULL || f->evidence == NULL) {
            sqlite3_finalize(st);
            return sl_fail(err, SL_ENOMEM, "out of memory");
        }
        f->n_evidence = 1;
        f->evidence[0].input = f->input;
        f->evidence[0].frame = f->frame;
        f->evidence[0].ts_us = f->ts_us;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return sl_fail(err, SL_ESQL, "frame_stat: %s", sqlite3_errmsg(h));
    return SL_OK;
}

static int cmp_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int cmp_finding(const void *pa, const void *pb)
{
    const struct sl_finding *a = pa, *b = pb;
    int c;

    if (a->input != b->input)
        return a->input < b->input ? -1 : 1;
    if (a->frame != b->frame)
        return a->frame < b->frame ? -1 : 1;
    if ((c = cmp_str(a->rule ? a->rule->id : NULL, b->rule ? b->rule->id : NULL)) != 0)
        return c;
    return cmp_str(a->message, b->message);
}

/* ---- SQL rules ---------------------------------------------------------- */

/* The authorizer of rule queries: reading only (with PRAGMA query_only).
 * ctx NULL: always; otherwise only while the int it points to is set (a
 * statement cache installs it once: installing an authorizer expires every
 * statement prepared on the connection). */
static int auth_read_only(void *ctx, int action, const char *a, const char *b, const char *c,
                          const char *d)
{
    if (ctx != NULL && *(const int *)ctx == 0)
        return SQLITE_OK;
    (void)a;
    (void)c;
    (void)d;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        return b != NULL && strcmp(b, "load_extension") == 0 ? SQLITE_DENY : SQLITE_OK;
    default:
        return SQLITE_DENY;
    }
}

/* Result columns with a fixed meaning (rules/README.md); -1 when absent. */
struct rule_cols {
    int msg, evidence, dialog, severity, inconclusive, confidence;
};

static int find_col(sqlite3_stmt *st, const char *name, size_t n)
{
    int i, nc = sqlite3_column_count(st);

    for (i = 0; i < nc; i++) {
        const char *c = sqlite3_column_name(st, i);

        if (c != NULL && strlen(c) == n && memcmp(c, name, n) == 0)
            return i;
    }
    return -1;
}

/* Checks that every {name} of tpl is a result column (or t1_ms). */
static int check_template(sqlite3_stmt *st, const struct sl_rule_info *r, const char *tpl, int bad,
                          struct sl_err *err)
{
    const char *p = tpl;

    while (p != NULL && (p = strchr(p, '{')) != NULL) {
        const char *e = strchr(p, '}');
        size_t n;

        if (e == NULL)
            break;
        n = (size_t)(e - p - 1);
        if (!(n == 5 && memcmp(p + 1, "t1_ms", 5) == 0) && find_col(st, p + 1, n) < 0)
            return sl_fail(err, bad,
                           "%s: the sentence uses {%.*s}, which the query does not return",
                           r->origin, (int)n, p + 1);
        p = e + 1;
    }
    return SL_OK;
}

static void render_template(struct sl_sbuf *b, sqlite3_stmt *st, const char *tpl, long long t1_us)
{
    const char *p = tpl;

    while (*p != '\0') {
        const char *o = strchr(p, '{'), *e;
        int col;

        if (o == NULL || (e = strchr(o, '}')) == NULL) {
            sl_sbuf_printf(b, "%s", p);
            return;
        }
        sl_sbuf_printf(b, "%.*s", (int)(o - p), p);
        if ((size_t)(e - o - 1) == 5 && memcmp(o + 1, "t1_ms", 5) == 0) {
            sl_sbuf_printf(b, "%lld", t1_us / 1000);
        } else if ((col = find_col(st, o + 1, (size_t)(e - o - 1))) >= 0) {
            const unsigned char *v = sqlite3_column_text(st, col);

            sl_sbuf_printf(b, "%s", v ? (const char *)v : "?");
        } else {
            sl_sbuf_printf(b, "%.*s", (int)(e - o + 1), o);
        }
        p = e + 1;
    }
}

/* Skips blanks and SQL comments; returns where the next statement starts. */
static const char *skip_sql_space(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ';')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            const char *e = strchr(p, '\n');

            if (e == NULL)
                return p + strlen(p);
            p = e + 1;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");

            if (e == NULL)
                return p + strlen(p);
            p = e + 2;
        } else {
            return p;
        }
    }
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

    return a < b ? -1 : a > b;
}

#define SL_MAX_EVIDENCE 32

/* Message ids from text ("12 15,17"), plus anchor; sorted, unique. */
static size_t parse_ids(const char *s, int64_t anchor, int64_t *ids)
{
    size_t n = 0, i, k;

    ids[n++] = anchor;
    while (s != NULL && *s != '\0' && n < SL_MAX_EVIDENCE) {
        int64_t v = 0;
        bool digits = false;

        while (*s != '\0' && (*s < '0' || *s > '9'))
            s++;
        while (*s >= '0' && *s <= '9') {
            if (v < INT64_MAX / 10)
                v = v * 10 + (*s - '0');
            digits = true;
            s++;
        }
        if (digits && v > 0)
            ids[n++] = v;
    }
    qsort(ids, n, sizeof(ids[0]), cmp_i64);
    for (i = 0, k = 0; i < n; i++) {
        if (k == 0 || ids[k - 1] != ids[i])
            ids[k++] = ids[i];
    }
    return k;
}

static const char msg_sql[] =
        "SELECT capture_id, frame, ts_us, src_ip, src_port, dst_ip, dst_port, transport, "
        "first_line, cseq_num, cseq_method, call_id, dialog_id, leg_id FROM message "
        "WHERE msg_id = ?1";

/* What the anchor message says about its call (read with its evidence). */
struct anchor_link {
    int64_t dialog_id, leg_id;
    char *call_id; /* malloc'd, or NULL */
};

/* Fills ev from message id, and *link (may be NULL) from the same row; false
 * when there is no such message. */
static bool fill_evidence(sqlite3_stmt *ms, int64_t id, struct sl_evidence *ev,
                          struct anchor_link *link, bool *nomem)
{
    bool found;

    sqlite3_reset(ms);
    sqlite3_bind_int64(ms, 1, id);
    found = sqlite3_step(ms) == SQLITE_ROW;
    memset(ev, 0, sizeof(*ev));
    if (!found)
        return false;
    ev->msg_id = id;
    ev->input = (int)(sqlite3_column_int64(ms, 0) - 1);
    ev->frame = (uint64_t)sqlite3_column_int64(ms, 1);
    ev->ts_us = sqlite3_column_int64(ms, 2);
    ev->src = endpoint_col(ms, 3, 4);
    ev->dst = endpoint_col(ms, 5, 6);
    ev->transport = dup_col(ms, 7);
    ev->first_line = dup_col(ms, 8);
    if (sqlite3_column_type(ms, 9) != SQLITE_NULL)
        ev->cseq = fmt_dup("%lld %s", (long long)sqlite3_column_int64(ms, 9),
                           sqlite3_column_text(ms, 10) ? (const char *)sqlite3_column_text(ms, 10)
                                                       : "");
    if (ev->src == NULL || ev->dst == NULL || ev->transport == NULL)
        *nomem = true;
    if (link != NULL) {
        link->dialog_id = sqlite3_column_int64(ms, 12);
        link->leg_id = sqlite3_column_int64(ms, 13);
        link->call_id = dup_col(ms, 11);
        if (link->call_id == NULL && sqlite3_column_type(ms, 11) != SQLITE_NULL)
            *nomem = true;
    }
    return true;
}

/* One cached statement: the rule it was prepared for (its SQL, by address)
 * and the parameter values bound to it. */
struct cached {
    const struct sl_rule_info *rule;
    const char *sql;
    sqlite3_stmt *st;
    long long t1_us, tol_us;
};

struct sl_rule_cache {
    sqlite3 *h;  /* the connection the statements belong to; NULL: none yet */
    int enforce; /* the authorizer installed on h denies writes while set */
    sqlite3_stmt *msg_st, *dlg_st;
    struct cached *v;
    size_t n, cap;
};

struct sl_rule_cache *sl_rule_cache_new(void)
{
    return calloc(1, sizeof(struct sl_rule_cache));
}

void sl_rule_cache_free(struct sl_rule_cache *c)
{
    size_t i;

    if (c == NULL)
        return;
    if (c->h != NULL)
        sqlite3_set_authorizer(c->h, NULL, NULL); /* its ctx is c->enforce */
    for (i = 0; i < c->n; i++)
        sqlite3_finalize(c->v[i].st);
    sqlite3_finalize(c->msg_st);
    sqlite3_finalize(c->dlg_st);
    free(c->v);
    free(c);
}

/* The cached statement of rule r, or NULL. */
static struct cached *cache_get(const struct sl_rule_cache *c, const struct sl_rule_info *r)
{
    size_t i;

    for (i = 0; c != NULL && i < c->n; i++)
        if (c->v[i].rule == r && c->v[i].sql == r->sql)
            return &c->v[i];
    return NULL;
}

/* Keeps st for rule r, bound with o's values; false (st is then the
 * caller's) when out of memory. */
static bool cache_put(struct sl_rule_cache *c, const struct sl_rule_info *r, sqlite3_stmt *st,
                      const struct sl_engine_opts *o)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct cached *v = realloc(c->v, cap * sizeof(*v));

        if (v == NULL)
            return false;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n].rule = r;
    c->v[c->n].sql = r->sql;
    c->v[c->n].st = st;
    c->v[c->n].t1_us = o->t1_us;
    c->v[c->n].tol_us = o->tol_us;
    c->n++;
    return true;
}

/* Wall time and rows of one rule (--timing). */
struct rule_time {
    const struct sl_rule_info *rule;
    int64_t ns;
    uint64_t rows;
    bool stopped;
};

struct rule_run {
    sqlite3 *h;
    struct sl_rule_cache *cache; /* NULL, or bound to h */
    sqlite3_stmt *msg_st, *dlg_st;
    const struct sl_engine_opts *o;
    struct sl_findings *fs;
    uint64_t *per_input; /* findings listed per input (index = input) */
    uint64_t *more;      /* findings not listed per input */
    uint64_t *more_frame;
    enum sl_severity *more_sev; /* the highest severity of those not listed */
    size_t n_inputs;
    uint64_t rows;       /* rows the current rule returned */
    int64_t deadline_ns; /* the current rule is stopped after this (0: never) */
    bool stopped;        /* ... and it was */
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Progress handler of rule queries: interrupts a rule past its deadline. */
static int rule_progress(void *ctx)
{
    struct rule_run *rr = ctx;

    if (rr->deadline_ns != 0 && now_ns() > rr->deadline_ns) {
        rr->stopped = true;
        return 1;
    }
    return 0;
}

static bool grow_inputs(struct rule_run *rr, size_t input)
{
    size_t n = input + 1, i;
    uint64_t *a, *b, *c;
    enum sl_severity *d;

    if (n <= rr->n_inputs)
        return true;
    a = realloc(rr->per_input, n * sizeof(*a));
    if (a != NULL)
        rr->per_input = a;
    b = realloc(rr->more, n * sizeof(*b));
    if (b != NULL)
        rr->more = b;
    c = realloc(rr->more_frame, n * sizeof(*c));
    if (c != NULL)
        rr->more_frame = c;
    d = realloc(rr->more_sev, n * sizeof(*d));
    if (d != NULL)
        rr->more_sev = d;
    if (a == NULL || b == NULL || c == NULL || d == NULL)
        return false;
    for (i = rr->n_inputs; i < n; i++) {
        a[i] = b[i] = c[i] = 0;
        d[i] = SL_SEV_INFO;
    }
    rr->n_inputs = n;
    return true;
}

/* The severity of the current row of st: the rule's, or its severity column,
 * info when the row is inconclusive (as rule_row gives it). */
static enum sl_severity row_severity(sqlite3_stmt *st, const struct rule_cols *c,
                                     const struct sl_rule_info *r)
{
    enum sl_severity sev = r->severity;

    if (c->inconclusive >= 0 && sqlite3_column_int(st, c->inconclusive) != 0)
        return SL_SEV_INFO;
    if (c->severity >= 0 && sqlite3_column_type(st, c->severity) != SQLITE_NULL) {
        const char *v = (const char *)sqlite3_column_text(st, c->severity);

        if (v != NULL &&
            (strcmp(v, "error") == 0 || strcmp(v, "warning") == 0 || strcmp(v, "info") == 0))
            sev = severity_from(v);
    }
    return sev;
}

/* Turns the current row of st into a finding. */
static int rule_row(struct rule_run *rr, const struct sl_rule_info *r, sqlite3_stmt *st,
                    const struct rule_cols *c, struct sl_err *err)
{
    int64_t ids[SL_MAX_EVIDENCE];
    struct sl_evidence anchor;
    struct anchor_link link = { 0, 0, NULL };
    struct sl_finding *f;
    struct sl_sbuf b = { NULL, 0, 0, false };
    int64_t anchor_id = sqlite3_column_int64(st, c->msg), dialog_id = 0;
    bool nomem = false, inconclusive;
    size_t n, i, k;
    const char *sev;

    if (!fill_evidence(rr->msg_st, anchor_id, &anchor, &link, &nomem))
        return sl_fail(err, r->origin[0] == 'b' ? SL_EINTERNAL : SL_EUSAGE,
                       "%s: msg_id %lld is not a stored message", r->origin, (long long)anchor_id);
    if (!grow_inputs(rr, (size_t)(anchor.input < 0 ? 0 : anchor.input)))
        nomem = true;
    if (nomem)
        goto nomem_anchor;
    if (rr->per_input[anchor.input] >= SL_MAX_FINDINGS_PER_RULE) {
        /* not listed: only counted, with the highest severity among them
         * (the summary must not be an error when all it hides is info) */
        enum sl_severity hs = row_severity(st, c, r);

        if (rr->more[anchor.input]++ == 0 || hs > rr->more_sev[anchor.input])
            rr->more_sev[anchor.input] = hs;
        if (rr->more[anchor.input] == 1)
            rr->more_frame[anchor.input] = anchor.frame;
        free(anchor.src);
        free(anchor.dst);
        free(anchor.transport);
        free(anchor.first_line);
        free(anchor.cseq);
        free(link.call_id);
        return SL_OK;
    }
    rr->per_input[anchor.input]++;
    if ((f = push(rr->fs)) == NULL)
        goto nomem_anchor;
    f->rule = r;
    f->severity = r->severity;
    f->confidence = r->confidence;
    f->msg_id = anchor_id;
    f->input = anchor.input;
    f->frame = anchor.frame;
    f->ts_us = anchor.ts_us;
    if (c->severity >= 0 && sqlite3_column_type(st, c->severity) != SQLITE_NULL) {
        sev = (const char *)sqlite3_column_text(st, c->severity);
        if (sev != NULL &&
            (strcmp(sev, "error") == 0 || strcmp(sev, "warning") == 0 || strcmp(sev, "info") == 0))
            f->severity = severity_from(sev);
    }
    if (c->confidence >= 0 && sqlite3_column_type(st, c->confidence) != SQLITE_NULL) {
        const char *cf = (const char *)sqlite3_column_text(st, c->confidence);

        if (cf != NULL && strcmp(cf, "medium") == 0)
            f->confidence = "medium";
        else if (cf != NULL && strcmp(cf, "low") == 0)
            f->confidence = "low";
    }
    inconclusive = c->inconclusive >= 0 && sqlite3_column_int(st, c->inconclusive) != 0;
    if (inconclusive) {
        f->inconclusive = true;
        f->severity = SL_SEV_INFO;
        if (r->inconclusive != NULL) {
            render_template(&b, st, r->inconclusive, rr->o->t1_us);
        } else {
            render_template(&b, st, r->message, rr->o->t1_us);
            sl_sbuf_printf(&b, " (inconclusive: the capture ends before the deadline)");
        }
    } else {
        render_template(&b, st, r->message, rr->o->t1_us);
    }
    if (b.oom || b.p == NULL) {
        sl_sbuf_fini(&b);
        goto nomem_anchor_pushed;
    }
    f->message = b.p;
    /* the dialog: the rule's, else the anchor message's */
    if (c->dialog >= 0 && sqlite3_column_type(st, c->dialog) != SQLITE_NULL)
        dialog_id = sqlite3_column_int64(st, c->dialog);
    if (dialog_id == 0)
        dialog_id = link.dialog_id;
    f->leg_id = link.leg_id;
    f->call_id = link.call_id; /* the finding owns it now */
    link.call_id = NULL;
    if (dialog_id > 0) {
        sqlite3_reset(rr->dlg_st);
        sqlite3_bind_int64(rr->dlg_st, 1, dialog_id);
        if (sqlite3_step(rr->dlg_st) == SQLITE_ROW) {
            f->dialog_id = dialog_id;
            free(f->call_id);
            f->call_id = dup_col(rr->dlg_st, 0);
            f->caller_tag = dup_col(rr->dlg_st, 1);
            f->callee_tag = dup_col(rr->dlg_st, 2);
            if (sqlite3_column_type(rr->dlg_st, 3) != SQLITE_NULL)
                f->leg_id = sqlite3_column_int64(rr->dlg_st, 3);
            if (f->call_id == NULL || f->caller_tag == NULL || f->callee_tag == NULL)
                goto nomem_anchor_pushed;
        }
    }
    /* the evidence */
    n = parse_ids(c->evidence >= 0 ? (const char *)sqlite3_column_text(st, c->evidence) : NULL,
                  anchor_id, ids);
    f->evidence = calloc(n, sizeof(*f->evidence));
    if (f->evidence == NULL)
        goto nomem_anchor_pushed;
    for (i = 0, k = 0; i < n; i++) {
        if (ids[i] == anchor_id) {
            f->evidence[k++] = anchor;
            memset(&anchor, 0, sizeof(anchor));
        } else if (fill_evidence(rr->msg_st, ids[i], &f->evidence[k], NULL, &nomem)) {
            k++;
        }
        f->n_evidence = k;
        if (nomem)
            return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    return SL_OK;
nomem_anchor_pushed:
nomem_anchor:
    free(link.call_id);
    free(anchor.src);
    free(anchor.dst);
    free(anchor.transport);
    free(anchor.first_line);
    free(anchor.cseq);
    return sl_fail(err, SL_ENOMEM, "out of memory");
}

static int run_rule(struct rule_run *rr, const struct sl_rule_info *r, struct sl_err *err)
{
    int bad = strcmp(r->origin, "built-in") == 0 ? SL_EINTERNAL : SL_EUSAGE;
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    struct rule_cols c;
    int i, np, step, rc = SL_OK;
    size_t in;
    long long timeout_ms =
            rr->o->rule_timeout_ms > 0 ? rr->o->rule_timeout_ms : SL_RULE_TIMEOUT_MS_DEFAULT;

    struct cached *ce = cache_get(rr->cache, r);
    bool cached = ce != NULL;

    if (cached) {
        /* checked when it was prepared, and bound; a statement whose plan
         * depends on a parameter (SQLite's STAT4) is compiled again when that
         * parameter is bound again, so the same values are not bound again */
        st = ce->st;
        (void)sqlite3_reset(st);
        if (ce->t1_us != rr->o->t1_us || ce->tol_us != rr->o->tol_us) {
            (void)sqlite3_clear_bindings(st);
            ce->t1_us = rr->o->t1_us;
            ce->tol_us = rr->o->tol_us;
            ce = NULL; /* bind below */
        }
    } else {
        if (sqlite3_prepare_v2(rr->h, r->sql, -1, &st, &tail) != SQLITE_OK)
            return sl_fail(err, bad, "%s: %s%s", r->origin,
                           sqlite3_errcode(rr->h) == SQLITE_AUTH ? "a rule may only read: " : "",
                           sqlite3_errmsg(rr->h));
        if (st == NULL)
            return sl_fail(err, bad, "%s: no query", r->origin);
        if (tail != NULL && *skip_sql_space(tail) != '\0') {
            sqlite3_finalize(st);
            return sl_fail(err, bad, "%s: one SELECT per rule file", r->origin);
        }
        if (!sqlite3_stmt_readonly(st)) {
            sqlite3_finalize(st);
            return sl_fail(err, bad, "%s: a rule may only read", r->origin);
        }
    }
    np = ce != NULL ? 0 : sqlite3_bind_parameter_count(st);
    for (i = 1; i <= np; i++) {
        const char *name = sqlite3_bind_parameter_name(st, i);

        if (name != NULL && strcmp(name + 1, "t1_us") == 0)
            sqlite3_bind_int64(st, i, rr->o->t1_us);
        else if (name != NULL && strcmp(name + 1, "t2_us") == 0)
            sqlite3_bind_int64(st, i, 4000000);
        else if (name != NULL && strcmp(name + 1, "tol_us") == 0)
            sqlite3_bind_int64(st, i, rr->o->tol_us);
        else {
            rc = sl_fail(err, bad, "%s: unknown parameter %s (:t1_us, :t2_us, :tol_us)", r->origin,
                         name ? name : "?");
            if (!cached)              /* a cached statement passed this check */
                sqlite3_finalize(st); /* after: it owns name */
            return rc;
        }
    }
    c.msg = find_col(st, "msg_id", 6);
    c.evidence = find_col(st, "evidence", 8);
    c.dialog = find_col(st, "dialog_id", 9);
    c.severity = find_col(st, "severity", 8);
    c.inconclusive = find_col(st, "inconclusive", 12);
    c.confidence = find_col(st, "confidence", 10);
    if (c.msg < 0) {
        if (!cached)
            sqlite3_finalize(st);
        return sl_fail(err, bad, "%s: the query returns no msg_id column", r->origin);
    }
    if ((rc = check_template(st, r, r->message, bad, err)) != SL_OK ||
        (rc = check_template(st, r, r->inconclusive, bad, err)) != SL_OK) {
        if (!cached)
            sqlite3_finalize(st);
        return rc;
    }
    for (in = 0; in < rr->n_inputs; in++) {
        rr->per_input[in] = rr->more[in] = rr->more_frame[in] = 0;
        rr->more_sev[in] = SL_SEV_INFO;
    }
    rr->rows = 0;
    rr->stopped = false;
    /* the runaway guard: only rules of --rules-dir */
    rr->deadline_ns = bad == SL_EUSAGE ? now_ns() + timeout_ms * 1000000 : 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        rr->rows++;
        if (sqlite3_column_type(st, c.msg) == SQLITE_NULL)
            continue;
        if ((rc = rule_row(rr, r, st, &c, err)) != SL_OK)
            break;
    }
    rr->deadline_ns = 0;
    if (rr->stopped && rc != SL_ENOMEM) {
        /* interrupted in the query or in a lookup of rule_row: keep what was found */
        sl_err_clear(err);
        rc = SL_OK;
        step = SQLITE_DONE;
    }
    if (rc == SL_OK && step != SQLITE_DONE)
        rc = sl_fail(err, bad == SL_EUSAGE ? SL_EUSAGE : SL_ESQL, "%s: %s", r->origin,
                     sqlite3_errmsg(rr->h));
    if (cached || (rc == SL_OK && rr->cache != NULL && cache_put(rr->cache, r, st, rr->o)))
        (void)sqlite3_reset(st); /* kept for the next run; its rows are done */
    else
        sqlite3_finalize(st);
    if (rc == SL_OK && rr->stopped) {
        struct sl_finding *f;

        fprintf(stderr,
                "siplint: %s: stopped after %.1f s (--rule-timeout): a runaway query? Its "
                "findings are incomplete; the other rules ran\n",
                r->origin, (double)timeout_ms / 1000.0);
        if ((f = push(rr->fs)) == NULL)
            return sl_fail(err, SL_ENOMEM, "out of memory");
        f->rule = r;
        f->severity = SL_SEV_INFO;
        f->confidence = r->confidence;
        f->input = 0;
        f->frame = 0;
        f->ts_us = INT64_MIN;
        f->message = fmt_dup("%s was stopped after %.1f s (--rule-timeout): its query ran too "
                             "long, its findings (%" PRIu64 " rows so far) are incomplete",
                             r->id, (double)timeout_ms / 1000.0, rr->rows);
        if (f->message == NULL)
            return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    for (in = 0; rc == SL_OK && in < rr->n_inputs; in++) {
        struct sl_finding *f;

        if (rr->more[in] == 0)
            continue;
        if ((f = push(rr->fs)) == NULL)
            return sl_fail(err, SL_ENOMEM, "out of memory");
        f->rule = r;
        f->severity = rr->more_sev[in];
        f->confidence = r->confidence;
        f->input = (int)in;
        f->frame = rr->more_frame[in];
        f->ts_us = INT64_MIN;
        f->message = fmt_dup("%" PRIu64 " more %s findings in this input are not listed (at "
                             "most %d are, per rule and input); the first is in frame %" PRIu64,
                             rr->more[in], r->id, SL_MAX_FINDINGS_PER_RULE, rr->more_frame[in]);
        if (f->message == NULL)
            return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    return rc;
}

static bool rule_enabled(const struct sl_ruleset *rs, const struct sl_rule_info *r)
{
    size_t i, n = sl_ruleset_count(rs);

    for (i = 0; i < n; i++) {
        if (sl_ruleset_at(rs, i) == r)
            return sl_ruleset_enabled(rs, i);
    }
    return r == NULL; /* a finding of an unknown ID is kept */
}

static void finding_free(struct sl_finding *f)
{
    size_t j;

    for (j = 0; j < f->n_evidence; j++) {
        struct sl_evidence *ev = &f->evidence[j];

        free(ev->src);
        free(ev->dst);
        free(ev->transport);
        free(ev->first_line);
        free(ev->cseq);
    }
    free(f->evidence);
    free(f->call_id);
    free(f->caller_tag);
    free(f->callee_tag);
    free(f->message);
}

/* A shared table of the prelude ("CREATE TEMP TABLE name AS ..."): built
 * once per run, and only when an enabled rule names it. */
#define SL_MAX_SHARED 8
struct shared {
    char name[64];
    int64_t ns;
};

static bool is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* True when sql contains name as a whole word. */
static bool names(const char *sql, const char *name)
{
    size_t n = strlen(name);
    const char *p = sql;

    while ((p = strstr(p, name)) != NULL) {
        if ((p == sql || !is_ident(p[-1])) && !is_ident(p[n]))
            return true;
        p += n;
    }
    return false;
}

/* The name of a "CREATE TEMP TABLE name" statement, or false. */
static bool temp_table_name(const char *stmt, char *out, size_t len)
{
    static const char kw[] = "CREATE TEMP TABLE ";
    size_t i = 0;

    if (strncmp(stmt, kw, sizeof(kw) - 1) != 0)
        return false;
    stmt += sizeof(kw) - 1;
    while (is_ident(stmt[i]) && i + 1 < len) {
        out[i] = stmt[i];
        i++;
    }
    out[i] = '\0';
    return i > 0 && !is_ident(stmt[i]);
}

/* Runs rules/prelude.sql statement by statement: the views (unless
 * tables_only: they were made by an earlier run on this connection), and the
 * shared tables that an enabled rule uses (recorded in sh, to be dropped
 * after). */
static int run_prelude(sqlite3 *h, const struct sl_ruleset *rs, struct shared *sh, size_t *n_sh,
                       bool tables_only, const signed char *conn_of, int me, struct sl_err *err)
{
    const char *p = sl_ruleset_prelude(rs);
    size_t n = sl_ruleset_count(rs), i;

    while (*(p = skip_sql_space(p)) != '\0') {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        char name[64];
        bool lazy = temp_table_name(p, name, sizeof(name)), used = !lazy && !tables_only;
        int64_t t0 = now_ns();
        int step;

        for (i = 0; !used && i < n; i++) {
            const struct sl_rule_info *r = sl_ruleset_at(rs, i);

            used = sl_ruleset_enabled(rs, i) && r->sql != NULL &&
                   (conn_of == NULL || conn_of[i] == me) && names(r->sql, name);
        }
        if (sqlite3_prepare_v2(h, p, -1, &st, &tail) != SQLITE_OK)
            return sl_fail(err, SL_ESQL, "rules/prelude.sql: %s", sqlite3_errmsg(h));
        if (tail == NULL || tail == p) {
            sqlite3_finalize(st);
            break;
        }
        p = tail;
        if (st == NULL || !used) {
            sqlite3_finalize(st);
            continue;
        }
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            ;
        sqlite3_finalize(st);
        if (step != SQLITE_DONE)
            return sl_fail(err, SL_ESQL, "rules/prelude.sql: %s", sqlite3_errmsg(h));
        if (lazy && *n_sh < SL_MAX_SHARED) {
            snprintf(sh[*n_sh].name, sizeof(sh[*n_sh].name), "%s", name);
            sh[*n_sh].ns = now_ns() - t0;
            (*n_sh)++;
        }
    }
    return SL_OK;
}

static int cmp_time(const void *pa, const void *pb)
{
    const struct rule_time *a = pa, *b = pb;

    if (a->ns != b->ns)
        return a->ns > b->ns ? -1 : 1;
    return strcmp(a->rule->id, b->rule->id);
}

/* --timing: each SQL rule's wall time (its query and the reading of its
 * evidence), slowest first, then the total of the SQL rules stage. */
static void print_times(struct rule_time *t, size_t n, const struct shared *sh, size_t n_sh,
                        int64_t total_ns)
{
    size_t i;
    uint64_t rows = 0;
    int64_t sum = 0;

    qsort(t, n, sizeof(*t), cmp_time);
    fprintf(stderr, "siplint: rule timing (wall time, rows returned):\n");
    for (i = 0; i < n_sh; i++)
        fprintf(stderr, "  %10.1f ms           shared table %s (rules/prelude.sql)\n",
                (double)sh[i].ns / 1e6, sh[i].name);
    for (i = 0; i < n; i++) {
        fprintf(stderr, "  %10.1f ms %8" PRIu64 "  %s%s%s\n", (double)t[i].ns / 1e6, t[i].rows,
                t[i].rule->id, t[i].stopped ? " (stopped: --rule-timeout)" : "",
                strcmp(t[i].rule->origin, "built-in") == 0 ? "" : " [--rules-dir]");
        rows += t[i].rows;
        sum += t[i].ns;
    }
    fprintf(stderr, "  %10.1f ms %8" PRIu64 "  total of %zu SQL rules\n", (double)sum / 1e6, rows,
            n);
    fprintf(stderr, "  %10.1f ms           SQL rules stage (with the prelude)\n",
            (double)total_ns / 1e6);
}

/* Drops the prelude's views from connection h. */
static void drop_views(sqlite3 *h)
{
    (void)sqlite3_exec(h,
                       "DROP VIEW IF EXISTS temp.m; DROP VIEW IF EXISTS temp.lm; "
                       "DROP VIEW IF EXISTS temp.t; DROP VIEW IF EXISTS temp.coverage",
                       NULL, NULL, NULL);
}

/* Drops the shared tables of a run (they hold its data: never kept) and
 * frees the run's per-input counters. */
static void run_end(struct rule_run *rr, const struct shared *sh, size_t n_sh)
{
    size_t i;

    for (i = 0; i < n_sh; i++) {
        char drop[96];

        snprintf(drop, sizeof(drop), "DROP TABLE IF EXISTS temp.%s", sh[i].name);
        (void)sqlite3_exec(rr->h, drop, NULL, NULL, NULL);
    }
    free(rr->per_input);
    free(rr->more);
    free(rr->more_frame);
    free(rr->more_sev);
}

/* ---- the rules on two connections --------------------------------------- */

/*
 * With a second connection to the database (sl_db_aux) and more than one
 * thread, the SQL rules run on two threads.  A rule that names a shared table
 * of the prelude runs on the connection that builds it (each connection has
 * its own TEMP tables): the first shared table's rules on the caller's
 * connection, the others' on the second; every other rule is taken by
 * whichever thread is free.  Each thread lists its findings apart, and they
 * are put together in the rules' order before the sort, as one thread would
 * have listed them: the report never depends on the threads.
 */
struct par_rule {
    size_t rule;  /* index in the ruleset */
    int conn;     /* -1: the first free thread; else the thread that must run it */
    int ran_on;   /* the thread that ran it, -1: not run */
    size_t begin; /* its findings in that thread's list */
    size_t end;
    struct rule_time time;
};

struct par {
    const struct sl_ruleset *rs;
    const struct sl_engine_opts *o;
    struct par_rule *v;
    size_t n;
    signed char *conn_of; /* per ruleset index: the thread its shared tables are built on */
    pthread_mutex_t mu;
    size_t next; /* the next rule to look at for a free thread */
    bool failed; /* a thread failed: no thread takes another rule */
};

struct par_thread {
    struct par *p;
    int me;
    sqlite3 *h;
    struct sl_findings fs;
    struct shared sh[SL_MAX_SHARED];
    size_t n_sh;
    struct sl_err err;
    int rc;
};

/* The next rule for thread me: its own first, then a free one; NULL at the end. */
static struct par_rule *par_take(struct par *p, int me, size_t *own)
{
    struct par_rule *r = NULL;

    for (; *own < p->n; (*own)++) {
        if (p->v[*own].conn == me) {
            r = &p->v[(*own)++];
            break;
        }
    }
    pthread_mutex_lock(&p->mu);
    if (p->failed)
        r = NULL;
    else if (r == NULL) {
        while (p->next < p->n && p->v[p->next].conn != -1)
            p->next++;
        if (p->next < p->n)
            r = &p->v[p->next++];
    }
    pthread_mutex_unlock(&p->mu);
    return r;
}

static void *par_main(void *arg)
{
    struct par_thread *t = arg;
    struct par *p = t->p;
    struct rule_run rr;
    struct par_rule *pr;
    size_t own = 0;

    memset(&rr, 0, sizeof(rr));
    rr.h = t->h;
    rr.o = p->o;
    rr.fs = &t->fs;
    t->rc = run_prelude(rr.h, p->rs, t->sh, &t->n_sh, false, p->conn_of, t->me, &t->err);
    if (t->rc == SL_OK &&
        (sqlite3_prepare_v2(rr.h, msg_sql, -1, &rr.msg_st, NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(rr.h,
                            "SELECT call_id, caller_tag, callee_tag, leg_id FROM dialog "
                            "WHERE dialog_id = ?1",
                            -1, &rr.dlg_st, NULL) != SQLITE_OK ||
         sqlite3_exec(rr.h, "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK))
        t->rc = sl_fail(&t->err, SL_ESQL, "rules: %s", sqlite3_errmsg(rr.h));
    if (t->rc == SL_OK) {
        sqlite3_set_authorizer(rr.h, auth_read_only, NULL);
        sqlite3_progress_handler(rr.h, 10000, rule_progress, &rr);
        while ((pr = par_take(p, t->me, &own)) != NULL) {
            int64_t t0 = now_ns();

            pr->begin = t->fs.n;
            t->rc = run_rule(&rr, sl_ruleset_at(p->rs, pr->rule), &t->err);
            pr->end = t->fs.n;
            pr->ran_on = t->me;
            pr->time.rule = sl_ruleset_at(p->rs, pr->rule);
            pr->time.ns = now_ns() - t0;
            pr->time.rows = rr.rows;
            pr->time.stopped = rr.stopped;
            if (t->rc != SL_OK) {
                pthread_mutex_lock(&p->mu);
                p->failed = true;
                pthread_mutex_unlock(&p->mu);
                break;
            }
        }
        sqlite3_progress_handler(rr.h, 0, NULL, NULL);
        sqlite3_set_authorizer(rr.h, NULL, NULL);
        (void)sqlite3_exec(rr.h, "PRAGMA query_only = 0", NULL, NULL, NULL);
    } else {
        pthread_mutex_lock(&p->mu);
        p->failed = true;
        pthread_mutex_unlock(&p->mu);
    }
    sqlite3_finalize(rr.msg_st);
    sqlite3_finalize(rr.dlg_st);
    drop_views(rr.h);
    run_end(&rr, t->sh, t->n_sh);
    return NULL;
}

/* Which thread builds each shared table's rules (par.conn_of, per ruleset
 * index; -1: a rule that names none). */
static void par_pin(struct par *p)
{
    static const char kw[] = "CREATE TEMP TABLE ";
    const char *pre = sl_ruleset_prelude(p->rs), *q = pre;
    size_t n = sl_ruleset_count(p->rs), i, k = 0;
    char name[64];

    for (i = 0; i < n; i++)
        p->conn_of[i] = -1;
    while ((q = strstr(q, kw)) != NULL) {
        /* statements start lines; a comment may quote the words */
        if ((q == pre || q[-1] == '\n') && temp_table_name(q, name, sizeof(name))) {
            for (i = 0; i < n; i++) {
                const struct sl_rule_info *r = sl_ruleset_at(p->rs, i);

                if (p->conn_of[i] == -1 && r->sql != NULL && names(r->sql, name))
                    p->conn_of[i] = k == 0 ? 0 : 1;
            }
            k++;
        }
        q += sizeof(kw) - 1;
    }
}

static int run_sql_rules_par(sqlite3 *aux, const struct sl_ruleset *rs,
                             const struct sl_engine_opts *o, struct sl_findings *fs,
                             sqlite3 *main_h, struct sl_err *err)
{
    struct par p;
    struct par_thread t[2];
    pthread_t tid;
    size_t n = sl_ruleset_count(rs), i, j;
    int64_t t_start = now_ns();
    int rc = SL_OK;
    bool started;

    memset(&p, 0, sizeof(p));
    memset(t, 0, sizeof(t));
    p.rs = rs;
    p.o = o;
    p.v = calloc(n, sizeof(*p.v));
    p.conn_of = calloc(n, sizeof(*p.conn_of));
    if (p.v == NULL || p.conn_of == NULL) {
        free(p.v);
        free(p.conn_of);
        return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    par_pin(&p);
    for (i = 0; i < n; i++) {
        if (!sl_ruleset_enabled(rs, i) || sl_ruleset_at(rs, i)->sql == NULL)
            continue;
        p.v[p.n].rule = i;
        p.v[p.n].conn = p.conn_of[i];
        p.v[p.n].ran_on = -1;
        p.n++;
    }
    if (pthread_mutex_init(&p.mu, NULL) != 0) {
        free(p.v);
        free(p.conn_of);
        return sl_fail(err, SL_ENOMEM, "cannot start the rules threads");
    }
    for (i = 0; i < 2; i++) {
        t[i].p = &p;
        t[i].me = (int)i;
        t[i].h = i == 0 ? main_h : aux;
    }
    started = pthread_create(&tid, NULL, par_main, &t[1]) == 0;
    if (!started) /* the caller's thread runs them all, the second one's included */
        for (i = 0; i < p.n; i++)
            if (p.v[i].conn == 1)
                p.v[i].conn = 0;
    if (!started)
        for (i = 0; i < n; i++)
            if (p.conn_of[i] == 1)
                p.conn_of[i] = 0;
    par_main(&t[0]);
    if (started)
        pthread_join(tid, NULL);
    for (i = 0; i < 2 && rc == SL_OK; i++) {
        if (t[i].rc != SL_OK) {
            rc = t[i].rc;
            *err = t[i].err;
        }
    }
    /* the findings in the rules' order, as one thread lists them */
    for (i = 0; i < p.n && rc == SL_OK; i++) {
        const struct par_rule *pr = &p.v[i];

        for (j = pr->begin; pr->ran_on >= 0 && j < pr->end; j++) {
            struct sl_finding *f = push(fs);

            if (f == NULL) {
                rc = sl_fail(err, SL_ENOMEM, "out of memory");
                break;
            }
            *f = t[pr->ran_on].fs.v[j];
            memset(&t[pr->ran_on].fs.v[j], 0, sizeof(*f)); /* moved */
        }
    }
    if (rc == SL_OK && o->timing) {
        struct rule_time *times = calloc(p.n + 1, sizeof(*times));
        struct shared sh[2 * SL_MAX_SHARED];
        size_t n_sh = 0, k = 0;

        for (i = 0; i < 2; i++)
            for (j = 0; j < t[i].n_sh; j++)
                sh[n_sh++] = t[i].sh[j];
        for (i = 0; times != NULL && i < p.n; i++)
            if (p.v[i].ran_on >= 0)
                times[k++] = p.v[i].time;
        if (times != NULL)
            print_times(times, k, sh, n_sh, now_ns() - t_start);
        free(times);
    }
    for (i = 0; i < 2; i++)
        sl_findings_fini(&t[i].fs);
    pthread_mutex_destroy(&p.mu);
    free(p.v);
    free(p.conn_of);
    return rc;
}

static int run_sql_rules(struct sl_db *db, const struct sl_ruleset *rs,
                         const struct sl_engine_opts *o, struct sl_findings *fs, struct sl_err *err)
{
    struct rule_run rr;
    size_t i, n = sl_ruleset_count(rs), n_times = 0;
    int rc = SL_OK;
    bool any = false;
    struct rule_time *times = NULL;
    int64_t t_start = now_ns();
    struct shared sh[SL_MAX_SHARED];
    size_t n_sh = 0;

    for (i = 0; i < n; i++)
        any = any || (sl_ruleset_enabled(rs, i) && sl_ruleset_at(rs, i)->sql != NULL);
    if (!any)
        return SL_OK;
    if (o->cache == NULL && o->threads > 1 && sl_db_aux(db) != NULL)
        return run_sql_rules_par(sl_db_aux(db), rs, o, fs, sl_db_handle(db), err);
    memset(&rr, 0, sizeof(rr));
    rr.h = sl_db_handle(db);
    rr.o = o;
    rr.fs = fs;
    rr.cache = o->cache;
    if (rr.cache != NULL && rr.cache->h != NULL && rr.cache->h != rr.h)
        return sl_fail(err, SL_EINTERNAL, "rules: a statement cache used on another connection");
    if (rr.cache != NULL && rr.cache->h == rr.h) {
        /* the views and statements of an earlier run on this connection; the
         * shared tables are made again, from this run's data */
        rr.msg_st = rr.cache->msg_st;
        rr.dlg_st = rr.cache->dlg_st;
        (void)sqlite3_reset(rr.msg_st);
        (void)sqlite3_reset(rr.dlg_st);
        if ((rc = run_prelude(rr.h, rs, sh, &n_sh, true, NULL, 0, err)) != SL_OK)
            goto out;
    } else {
        if ((rc = run_prelude(rr.h, rs, sh, &n_sh, false, NULL, 0, err)) != SL_OK)
            goto out;
        if (sqlite3_prepare_v2(rr.h, msg_sql, -1, &rr.msg_st, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(rr.h,
                               "SELECT call_id, caller_tag, callee_tag, leg_id FROM dialog "
                               "WHERE dialog_id = ?1",
                               -1, &rr.dlg_st, NULL) != SQLITE_OK) {
            rc = sl_fail(err, SL_ESQL, "rules: %s", sqlite3_errmsg(rr.h));
            goto out;
        }
        if (rr.cache != NULL) {
            rr.cache->h = rr.h;
            rr.cache->msg_st = rr.msg_st;
            rr.cache->dlg_st = rr.dlg_st;
            rr.cache->enforce = 0;
            sqlite3_set_authorizer(rr.h, auth_read_only, &rr.cache->enforce);
        }
    }
    /* PRAGMA query_only expires every prepared statement of the connection:
     * with a cache, the authorizer (and sqlite3_stmt_readonly) keep the rules
     * read-only alone */
    if (rr.cache == NULL &&
        sqlite3_exec(rr.h, "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sl_fail(err, SL_ESQL, "rules: %s", sqlite3_errmsg(rr.h));
        goto out;
    }
    if (rr.cache != NULL && rr.cache->h == rr.h)
        rr.cache->enforce = 1;
    else
        sqlite3_set_authorizer(rr.h, auth_read_only, NULL);
    sqlite3_progress_handler(rr.h, 10000, rule_progress, &rr);
    if (o->timing && (times = calloc(n, sizeof(*times))) == NULL) {
        rc = sl_fail(err, SL_ENOMEM, "out of memory");
        goto out_auth;
    }
    for (i = 0; i < n && rc == SL_OK; i++) {
        const struct sl_rule_info *r = sl_ruleset_at(rs, i);
        int64_t t0;

        if (!sl_ruleset_enabled(rs, i) || r->sql == NULL)
            continue;
        t0 = now_ns();
        rc = run_rule(&rr, r, err);
        if (times != NULL) {
            times[n_times].rule = r;
            times[n_times].ns = now_ns() - t0;
            times[n_times].rows = rr.rows;
            times[n_times].stopped = rr.stopped;
            n_times++;
        }
    }
    if (times != NULL && rc == SL_OK)
        print_times(times, n_times, sh, n_sh, now_ns() - t_start);
    free(times);
out_auth:
    sqlite3_progress_handler(rr.h, 0, NULL, NULL);
    if (rr.cache != NULL && rr.cache->h == rr.h)
        rr.cache->enforce = 0;
    else
        sqlite3_set_authorizer(rr.h, NULL, NULL);
    if (rr.cache == NULL)
        (void)sqlite3_exec(rr.h, "PRAGMA query_only = 0", NULL, NULL, NULL);
out:
    if (rr.cache != NULL && rr.cache->h == rr.h) {
        /* kept, with the views, for the next run on this connection */
        (void)sqlite3_reset(rr.msg_st);
        (void)sqlite3_reset(rr.dlg_st);
    } else {
        sqlite3_finalize(rr.msg_st);
        sqlite3_finalize(rr.dlg_st);
        drop_views(rr.h);
    }
    run_end(&rr, sh, n_sh);
    return rc;
}

int sl_engine_run(struct sl_db *db, const struct sl_ruleset *rs, const struct sl_engine_opts *o,
                  struct sl_findings *out, struct sl_err *err)
{
    struct sl_engine_opts eo = { .t1_us = 500000,
                                 .tol_us = 50000,
                                 .cache = NULL,
                                 .timing = false,
                                 .rule_timeout_ms = SL_RULE_TIMEOUT_MS_DEFAULT };
    size_t i, k;
    int rc;

    if (o != NULL) {
        if (o->t1_us > 0)
            eo.t1_us = o->t1_us;
        if (o->tol_us > 0)
            eo.tol_us = o->tol_us;
        eo.cache = o->cache;
        eo.timing = o->timing;
        eo.threads = o->threads;
        if (o->rule_timeout_ms > 0)
            eo.rule_timeout_ms = o->rule_timeout_ms;
    }
    memset(out, 0, sizeof(*out));
    if ((rc = problems(db, rs, out, err)) != SL_OK)
        goto fail;
    if ((rc = not_decoded(db, rs, out, err)) != SL_OK)
        goto fail;
    /* decode findings of disabled IDs are dropped */
    for (i = 0, k = 0; i < out->n; i++) {
        if (rule_enabled(rs, out->v[i].rule))
            out->v[k++] = out->v[i];
        else
            finding_free(&out->v[i]);
    }
    out->n = k;
    if ((rc = run_sql_rules(db, rs, &eo, out, err)) != SL_OK)
        goto fail;
    for (i = 0; i < out->n; i++) {
        if (out->v[i].confidence == NULL)
            out->v[i].confidence = out->v[i].rule ? out->v[i].rule->confidence : "high";
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(out->v[0]), cmp_finding);
    return SL_OK;
fail:
    sl_findings_fini(out);
    return rc;
}

void sl_findings_fini(struct sl_findings *fs)
{
    size_t i;

    for (i = 0; i < fs->n; i++)
        finding_free(&fs->v[i]);
    free(fs->v);
    memset(fs, 0, sizeof(*fs));
}
