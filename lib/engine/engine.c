#include "engine/engine.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"

/* clang-format off */
static const struct sl_rule_info catalog[] = {
#define SL_RULE(id, sev, title, rfc, impact) { id, sev, title, rfc, impact },
#include "rules/catalog.def"
#undef SL_RULE
};
/* clang-format on */

const struct sl_rule_info *sl_rule_catalog(size_t *n)
{
    *n = sizeof(catalog) / sizeof(catalog[0]);
    return catalog;
}

const struct sl_rule_info *sl_rule_lookup(const char *id)
{
    size_t i;

    for (i = 0; i < sizeof(catalog) / sizeof(catalog[0]); i++) {
        if (strcmp(catalog[i].id, id) == 0)
            return &catalog[i];
    }
    return NULL;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    if (t == NULL)
        return NULL;
    return dup_n((const char *)t, (size_t)sqlite3_column_bytes(st, col));
}

/* "ip:port" from two columns, or NULL. */
static char *endpoint_col(sqlite3_stmt *st, int ip_col, int port_col)
{
    const char *ip = (const char *)sqlite3_column_text(st, ip_col);
    char buf[80];

    if (ip == NULL)
        return NULL;
    sl_db_ep_text(ip, sqlite3_column_int(st, port_col), buf, sizeof(buf));
    return dup_n(buf, strlen(buf));
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
    return dup_n(p, n);
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
    return dup_n(buf, strlen(buf));
}

/* Decode problems recorded by the capture and SIP stages. */
static int problems(struct sl_db *db, struct sl_findings *fs, struct sl_err *err)
{
    static const char sql[] =
            "SELECT p.capture_id, p.frame, p.ts_us, p.src_ip, p.src_port, p.dst_ip, "
            "       p.dst_port, p.transport, p.rule_id, p.severity, p.text, p.raw, "
            "       m.call_id, m.cseq_num, m.cseq_method, m.first_line "
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
            const struct sl_rule_info *ri = sl_rule_lookup(cur_rule);

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
        f->rule = sl_rule_lookup(rule_id);
        f->severity = severity_from((const char *)sqlite3_column_text(st, 9));
        f->input = (int)(capture_id - 1);
        f->frame = (uint64_t)sqlite3_column_int64(st, 1);
        f->ts_us =
                sqlite3_column_type(st, 2) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(st, 2);
        f->message = dup_col(st, 10);
        f->call_id = dup_col(st, 12);
        f->evidence = calloc(1, sizeof(*f->evidence));
        if (f->evidence == NULL)
            goto nomem;
        f->n_evidence = 1;
        ev = &f->evidence[0];
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

/* One SIP-CAP-004 finding per capture and reason of frames not decoded. */
static int not_decoded(struct sl_db *db, struct sl_findings *fs, struct sl_err *err)
{
    static const char sql[] =
            "SELECT capture_id, reason, frames, first_frame, first_ts_us FROM frame_stat "
            "WHERE kind = 'not_decoded' ORDER BY capture_id, first_frame";
    sqlite3 *h = sl_db_handle(db);
    sqlite3_stmt *st = NULL;
    const struct sl_rule_info *ri = sl_rule_lookup("SIP-CAP-004");
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

int sl_engine_run(struct sl_db *db, struct sl_findings *out, struct sl_err *err)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = problems(db, out, err)) != SL_OK)
        goto fail;
    if ((rc = not_decoded(db, out, err)) != SL_OK)
        goto fail;
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(out->v[0]), cmp_finding);
    return SL_OK;
fail:
    sl_findings_fini(out);
    return rc;
}

void sl_findings_fini(struct sl_findings *fs)
{
    size_t i, j;

    for (i = 0; i < fs->n; i++) {
        struct sl_finding *f = &fs->v[i];

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
    free(fs->v);
    memset(fs, 0, sizeof(*fs));
}
