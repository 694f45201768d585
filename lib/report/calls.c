/*
 * calls.c: the call list (siplint calls) and the ladder diagram of one call
 * (siplint flow), both read from the database.
 */
#include "report/report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "base/sbuf.h"
#include "base/status.h"
#include "base/str.h"

/* Text from the input, safe for a terminal (controls escaped), cut to max
 * bytes (at a UTF-8 boundary) with "..." when longer; max 0 = no cut. */
static void oput_safe(struct sl_sbuf *b, const char *s, size_t max)
{
    char *c;
    size_t n;

    if (s == NULL)
        s = "";
    c = sl_str_clean(s, strlen(s), true, NULL);
    if (c == NULL) {
        b->oom = true;
        return;
    }
    n = strlen(c);
    if (max > 3 && n > max) {
        n = max - 3;
        while (n > 0 && ((unsigned char)c[n] & 0xc0) == 0x80)
            n--;
        sl_sbuf_printf(b, "%.*s...", (int)n, c);
    } else {
        sl_sbuf_printf(b, "%s", c);
    }
    free(c);
}

static int finish(struct sl_sbuf *b, char **out, size_t *out_len, struct sl_err *err)
{
    if (b->oom || b->p == NULL) {
        free(b->p);
        return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    *out = b->p;
    *out_len = b->len;
    return SL_OK;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    return t != NULL ? (const char *)t : NULL;
}

static bool col_null(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL;
}

/* "ip:port" from two columns into buf. */
static const char *col_ep(sqlite3_stmt *st, int ip, int port, char *buf, size_t len)
{
    return sl_db_ep_text(col_text(st, ip), sqlite3_column_int(st, port), buf, len);
}

static json_object *jint_col(sqlite3_stmt *st, int i)
{
    return col_null(st, i) ? NULL : json_object_new_int64(sqlite3_column_int64(st, i));
}

/* Findings of this call attempt (leg), or, for findings tied to no leg, that
 * name its Call-ID. */
static long findings_for(const struct sl_findings *fs, int64_t leg_id, const char *call_id)
{
    long n = 0;
    size_t i;

    for (i = 0; i < fs->n; i++) {
        const struct sl_finding *f = &fs->v[i];

        if (f->leg_id != 0
                    ? f->leg_id == leg_id
                    : (call_id != NULL && f->call_id != NULL && strcmp(f->call_id, call_id) == 0))
            n++;
    }
    return n;
}

/* The columns of the call list query, in order. */
enum {
    C_LEG,
    C_CALL_ID,
    C_METHOD,
    C_FROM,
    C_TO,
    C_CALLER_IP,
    C_CALLER_PORT,
    C_CALLEE_IP,
    C_CALLEE_PORT,
    C_START,
    C_ANSWER,
    C_END,
    C_OUTCOME,
    C_FINAL,
    C_FINAL_REASON,
    C_ENDED_BY,
    C_END_HOW,
    C_REASON,
    C_Q850,
    C_Q850_TEXT,
    C_DIALOGS,
    C_MESSAGES,
    C_FROM_TAG
};

static const char calls_sql[] =
        "SELECT leg_id, call_id, method, from_uri, to_uri, caller_ip, caller_port, callee_ip, "
        "callee_port, start_us, answer_us, end_us, outcome, final_status, final_reason, "
        "ended_by, end_how, reason_hdr, q850_cause, q850_text, n_dialogs, n_messages, from_tag "
        "FROM leg WHERE (?1 OR method = 'INVITE') AND (?2 IS NULL OR leg_id = ?2) "
        "ORDER BY start_us, leg_id";

static void duration_text(sqlite3_stmt *st, char *buf, size_t len)
{
    const char *m = col_text(st, C_METHOD);

    if (col_null(st, C_ANSWER) || col_null(st, C_END) || m == NULL || strcmp(m, "INVITE") != 0) {
        snprintf(buf, len, "-");
        return;
    }
    {
        long long d = sqlite3_column_int64(st, C_END) - sqlite3_column_int64(st, C_ANSWER);

        if (d < 0)
            d = 0;
        snprintf(buf, len, "%lld.%03llds", d / 1000000, (d % 1000000) / 1000);
    }
}

static void outcome_text(sqlite3_stmt *st, char *buf, size_t len)
{
    const char *o = col_text(st, C_OUTCOME);

    if (!col_null(st, C_FINAL) && o != NULL && strcmp(o, "answered") != 0)
        snprintf(buf, len, "%s %d", o, sqlite3_column_int(st, C_FINAL));
    else
        snprintf(buf, len, "%s", o ? o : "?");
}

/* A URI as people read it in a list: "sip:alice@example.com;transport=udp"
 * becomes "alice@example.com". */
static void short_uri(const char *uri, char *buf, size_t len)
{
    const char *p = uri ? uri : "?";
    size_t n;

    if (strncmp(p, "sip:", 4) == 0)
        p += 4;
    else if (strncmp(p, "sips:", 5) == 0)
        p += 5;
    n = strcspn(p, ";>?");
    snprintf(buf, len, "%.*s", (int)n, p);
}

/* The texts of a call-list row that both the call list and the report's
 * call headers show. */
struct call_text {
    char when[40], dur[32], outc[48], fu[72], tu[72];
};

static void call_text(sqlite3_stmt *st, struct call_text *ct)
{
    sl_format_time(sqlite3_column_int64(st, C_START), ct->when, sizeof(ct->when));
    duration_text(st, ct->dur, sizeof(ct->dur));
    outcome_text(st, ct->outc, sizeof(ct->outc));
    short_uri(col_text(st, C_FROM), ct->fu, sizeof(ct->fu));
    short_uri(col_text(st, C_TO), ct->tu, sizeof(ct->tu));
}

static int render_calls_text(sqlite3_stmt *st, const struct sl_findings *fs, struct sl_sbuf *b)
{
    int step, n = 0;

    sl_sbuf_printf(b, "%-27s  %-9s  %-44s  %-14s  %-10s  %-7s  %-28s  %-4s  %s\n", "start (UTC)",
                   "method", "from -> to", "outcome", "duration", "hangup", "reason", "find",
                   "call-id");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct call_text ct;
        char ft[160], rbuf[96], hbuf[32];
        const char *reason = col_text(st, C_Q850_TEXT);
        const char *how = col_text(st, C_END_HOW);
        const char *by = col_text(st, C_ENDED_BY);
        const char *method = col_text(st, C_METHOD);
        const char *outc = ct.outc;

        call_text(st, &ct);
        snprintf(ft, sizeof(ft), "%s -> %s", ct.fu, ct.tu);
        if (reason != NULL)
            snprintf(rbuf, sizeof(rbuf), "Q.850 %d %s", sqlite3_column_int(st, C_Q850), reason);
        else if (col_text(st, C_REASON) != NULL)
            snprintf(rbuf, sizeof(rbuf), "%s", col_text(st, C_REASON));
        else if (col_text(st, C_FINAL_REASON) != NULL && strcmp(outc, "answered") != 0)
            snprintf(rbuf, sizeof(rbuf), "%s", col_text(st, C_FINAL_REASON));
        else
            snprintf(rbuf, sizeof(rbuf), "-");
        if (by != NULL)
            snprintf(hbuf, sizeof(hbuf), "%s", by);
        else if (how != NULL && strcmp(how, "capture-end") == 0)
            snprintf(hbuf, sizeof(hbuf), "(open)");
        else
            snprintf(hbuf, sizeof(hbuf), "-");
        sl_sbuf_printf(b, "%-27s  ", ct.when);
        oput_safe(b, method ? method : "?", 9);
        sl_sbuf_printf(
                b, "%*s  ",
                (int)(9 - (strlen(method ? method : "?") > 9 ? 9 : strlen(method ? method : "?"))),
                "");
        oput_safe(b, ft, 44);
        sl_sbuf_printf(b, "%*s  %-14s  %-10s  %-7s  ",
                       (int)(44 - (strlen(ft) > 44 ? 44 : strlen(ft))), "", outc, ct.dur, hbuf);
        oput_safe(b, rbuf, 28);
        sl_sbuf_printf(b, "%*s  %-4ld  ", (int)(28 - (strlen(rbuf) > 28 ? 28 : strlen(rbuf))), "",
                       findings_for(fs, sqlite3_column_int64(st, C_LEG), col_text(st, C_CALL_ID)));
        oput_safe(b, col_text(st, C_CALL_ID), 0);
        if (how != NULL && strcmp(how, "bye") != 0 && strcmp(how, "capture-end") != 0)
            sl_sbuf_printf(b, "  (%s)", how);
        sl_sbuf_printf(b, "\n");
        n++;
    }
    sl_sbuf_printf(b, "%d call%s\n", n, n == 1 ? "" : "s");
    return step == SQLITE_DONE ? SL_OK : SL_ESQL;
}

static int render_calls_json(sqlite3_stmt *st, const struct sl_findings *fs, struct sl_sbuf *b)
{
    json_object *root = json_object_new_object(), *arr = json_object_new_array();
    int step;

    json_object_object_add(root, "siplint", json_object_new_string(SL_VERSION));
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_object *o = json_object_new_object();
        char when[40], ep[80];
        long long start = sqlite3_column_int64(st, C_START);

        sl_format_time(start, when, sizeof(when));
        json_object_object_add(o, "call_id", sl_json_text(col_text(st, C_CALL_ID)));
        json_object_object_add(o, "from_tag", sl_json_text(col_text(st, C_FROM_TAG)));
        json_object_object_add(o, "method", sl_json_text(col_text(st, C_METHOD)));
        json_object_object_add(o, "from", sl_json_text(col_text(st, C_FROM)));
        json_object_object_add(o, "to", sl_json_text(col_text(st, C_TO)));
        json_object_object_add(
                o, "caller", sl_json_text(col_ep(st, C_CALLER_IP, C_CALLER_PORT, ep, sizeof(ep))));
        json_object_object_add(
                o, "callee", sl_json_text(col_ep(st, C_CALLEE_IP, C_CALLEE_PORT, ep, sizeof(ep))));
        json_object_object_add(o, "start_us", json_object_new_int64(start));
        json_object_object_add(o, "start", json_object_new_string(when));
        json_object_object_add(o, "answer_us", jint_col(st, C_ANSWER));
        json_object_object_add(o, "end_us", jint_col(st, C_END));
        json_object_object_add(o, "duration_us",
                               col_null(st, C_ANSWER) || col_null(st, C_END)
                                       ? NULL
                                       : json_object_new_int64(sqlite3_column_int64(st, C_END) -
                                                               sqlite3_column_int64(st, C_ANSWER)));
        json_object_object_add(o, "outcome", sl_json_text(col_text(st, C_OUTCOME)));
        json_object_object_add(o, "final_status", jint_col(st, C_FINAL));
        json_object_object_add(o, "final_reason", sl_json_text(col_text(st, C_FINAL_REASON)));
        json_object_object_add(o, "ended_by", sl_json_text(col_text(st, C_ENDED_BY)));
        json_object_object_add(o, "end_how", sl_json_text(col_text(st, C_END_HOW)));
        json_object_object_add(o, "reason", sl_json_text(col_text(st, C_REASON)));
        json_object_object_add(o, "q850_cause", jint_col(st, C_Q850));
        json_object_object_add(o, "q850_text", sl_json_text(col_text(st, C_Q850_TEXT)));
        json_object_object_add(o, "dialogs",
                               json_object_new_int(sqlite3_column_int(st, C_DIALOGS)));
        json_object_object_add(o, "messages",
                               json_object_new_int(sqlite3_column_int(st, C_MESSAGES)));
        json_object_object_add(
                o, "findings",
                json_object_new_int64(findings_for(fs, sqlite3_column_int64(st, C_LEG),
                                                   col_text(st, C_CALL_ID))));
        json_object_array_add(arr, o);
    }
    json_object_object_add(root, "calls", arr);
    if (step == SQLITE_DONE)
        sl_sbuf_printf(b, "%s\n",
                       json_object_to_json_string_ext(
                               root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                             JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    return step == SQLITE_DONE ? SL_OK : SL_ESQL;
}

int sl_report_calls(struct sl_db *db, const struct sl_findings *fs,
                    const struct sl_report_opts *opts, int all, char **out, size_t *out_len,
                    struct sl_err *err)
{
    sqlite3 *h = sl_db_handle(db);
    sqlite3_stmt *st = NULL;
    struct sl_sbuf b = { NULL, 0, 0, false };
    int rc;

    *out = NULL;
    *out_len = 0;
    if (sqlite3_prepare_v2(h, calls_sql, -1, &st, NULL) != SQLITE_OK)
        return sl_fail(err, SL_ESQL, "calls: %s", sqlite3_errmsg(h));
    sqlite3_bind_int(st, 1, all ? 1 : 0);
    sqlite3_bind_null(st, 2);
    if (opts->format == SL_FORMAT_TEXT)
        rc = render_calls_text(st, fs, &b);
    else
        rc = render_calls_json(st, fs, &b);
    sqlite3_finalize(st);
    if (rc != SL_OK) {
        free(b.p);
        return sl_fail(err, SL_ESQL, "calls: %s", sqlite3_errmsg(h));
    }
    return finish(&b, out, out_len, err);
}

/* ---- flow: the ladder diagram ------------------------------------------ */

#define FLOW_MAX_COLUMNS 12
#define FLOW_COL_MIN     24
#define FLOW_COL_MAX     48

struct flow_col {
    char name[64];
};

static int col_index(struct flow_col *cols, int *n, const char *name)
{
    int i;

    for (i = 0; i < *n; i++) {
        if (strcmp(cols[i].name, name) == 0)
            return i;
    }
    if (*n == FLOW_MAX_COLUMNS)
        return FLOW_MAX_COLUMNS - 1; /* the last column collects the rest */
    snprintf(cols[*n].name, sizeof(cols[*n].name), "%s", name);
    return (*n)++;
}

static const char flow_cols[] =
        "SELECT m.msg_id, m.capture_id, m.frame, m.ts_us, m.src_ip, m.src_port, m.dst_ip, "
        "m.dst_port, m.is_request, m.method, m.status, m.reason, m.cseq_num, m.cseq_method, "
        "m.is_retrans, m.dup_of, m.dialog_id, m.leg_id, m.to_tag, m.truncated, m.transport, "
        "m.session_expires FROM message m ";

enum {
    F_MSG,
    F_CAPTURE,
    F_FRAME,
    F_TS,
    F_SRC_IP,
    F_SRC_PORT,
    F_DST_IP,
    F_DST_PORT,
    F_IS_REQ,
    F_METHOD,
    F_STATUS,
    F_REASON,
    F_CSEQ,
    F_CSEQ_METHOD,
    F_RETRANS,
    F_DUP,
    F_DIALOG,
    F_LEG,
    F_TO_TAG,
    F_TRUNC,
    F_TRANSPORT,
    F_SE
};

/* Draws one arrow row: columns a -> b with label; cw is the column width. */
static void draw_arrow(struct sl_sbuf *b, int ncols, int cw, int from, int to, const char *label)
{
    char line[FLOW_MAX_COLUMNS * FLOW_COL_MAX + 8];
    int width = (ncols - 1) * cw + 1;
    int lo = from < to ? from : to, hi = from < to ? to : from;
    int x0 = lo * cw, x1 = hi * cw;
    int i, span, llen, start;

    for (i = 0; i < width; i++)
        line[i] = (i % cw == 0) ? '|' : ' ';
    if (from == to) {
        /* same endpoint on both ends (looped back): mark it */
        line[width] = '\0';
        sl_sbuf_printf(b, "%s  (to itself) %s", line, label);
        return;
    }
    for (i = x0 + 1; i < x1; i++)
        line[i] = '-';
    if (from < to)
        line[x1 - 1] = '>';
    else
        line[x0 + 1] = '<';
    span = x1 - x0 - 4;
    llen = (int)strlen(label);
    if (llen > span)
        llen = span;
    start = x0 + 3;
    for (i = 0; i < llen; i++)
        line[start + i] = label[i];
    line[width] = '\0';
    sl_sbuf_printf(b, "%s", line);
}

/* The findings' anchors, sorted by message: flow marks a row by binary search,
 * not by scanning every finding for every message. */
struct mark {
    int64_t msg_id;
    const struct sl_finding *f;
};

struct marks {
    struct mark *v;
    size_t n;
};

static int flow_one(struct sl_db *db, const char *call_id, const int64_t *ids, size_t n_ids,
                    const char *indent, const struct marks *mk, struct sl_sbuf *out,
                    struct sl_err *err);

/* The arrow label of the current row: "INVITE 1", "200 OK (1 INVITE)", with
 * the dialog mark and retransmission / duplicate notes. */
static void flow_label(sqlite3_stmt *st, const char *tag, char *label, size_t len);

static int cmp_mark(const void *pa, const void *pb)
{
    const struct mark *a = pa, *b = pb;

    if (a->msg_id != b->msg_id)
        return a->msg_id < b->msg_id ? -1 : 1;
    return a->f < b->f ? -1 : a->f > b->f; /* the findings' own order */
}

static int flow_all(struct sl_db *db, const struct marks *mkp, const char *call_id, char **out,
                    size_t *out_len, struct sl_err *err);

int sl_report_flow(struct sl_db *db, const struct sl_findings *fs, const char *call_id,
                   const struct sl_report_opts *opts, char **out, size_t *out_len,
                   struct sl_err *err)
{
    struct marks mk = { NULL, 0 };
    size_t i;
    int rc;

    (void)opts;
    if (fs != NULL && fs->n > 0) {
        if ((mk.v = malloc(fs->n * sizeof(*mk.v))) == NULL)
            return sl_fail(err, SL_ENOMEM, "out of memory");
        for (i = 0; i < fs->n; i++) {
            if (fs->v[i].msg_id > 0 && fs->v[i].rule != NULL) {
                mk.v[mk.n].msg_id = fs->v[i].msg_id;
                mk.v[mk.n++].f = &fs->v[i];
            }
        }
        qsort(mk.v, mk.n, sizeof(*mk.v), cmp_mark);
    }
    rc = flow_all(db, &mk, call_id, out, out_len, err);
    free(mk.v);
    return rc;
}

static int flow_all(struct sl_db *db, const struct marks *mkp, const char *call_id, char **out,
                    size_t *out_len, struct sl_err *err)
{
    sqlite3 *h = sl_db_handle(db);
    sqlite3_stmt *st = NULL;
    struct sl_sbuf b = { NULL, 0, 0, false };
    int rc = SL_OK, step, n = 0;

    *out = NULL;
    *out_len = 0;
    if (call_id != NULL) {
        rc = flow_one(db, call_id, NULL, 0, "", mkp, &b, err);
        if (rc != SL_OK) {
            free(b.p);
            return rc;
        }
        return finish(&b, out, out_len, err);
    }
    /* every Call-ID, in order of its first message */
    if (sqlite3_prepare_v2(h,
                           "SELECT call_id FROM message WHERE call_id IS NOT NULL "
                           "GROUP BY call_id ORDER BY min(ts_us), min(msg_id)",
                           -1, &st, NULL) != SQLITE_OK)
        return sl_fail(err, SL_ESQL, "flow: %s", sqlite3_errmsg(h));
    while (rc == SL_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ > 0)
            sl_sbuf_printf(&b, "\n");
        rc = flow_one(db, (const char *)sqlite3_column_text(st, 0), NULL, 0, "", mkp, &b, err);
    }
    sqlite3_finalize(st);
    if (rc != SL_OK) {
        free(b.p);
        return rc;
    }
    if (n == 0)
        sl_sbuf_printf(&b, "no SIP messages\n");
    return finish(&b, out, out_len, err);
}

/* Appends the ladder of one Call-ID to *out. */
static void flow_label(sqlite3_stmt *st, const char *tag, char *label, size_t len)
{
    const char *method = col_text(st, F_METHOD);
    const char *cm = col_text(st, F_CSEQ_METHOD);
    const char *note = sqlite3_column_int(st, F_RETRANS) ? " retrans" : "";
    const char *dup = col_null(st, F_DUP) ? "" : " dup";

    if (sqlite3_column_int(st, F_IS_REQ))
        snprintf(label, len, "%s %lld%s%s%s", method ? method : "?",
                 (long long)sqlite3_column_int64(st, F_CSEQ), tag, note, dup);
    else
        snprintf(label, len, "%d %s (%lld %s)%s%s%s", sqlite3_column_int(st, F_STATUS),
                 col_text(st, F_REASON) ? col_text(st, F_REASON) : "",
                 (long long)sqlite3_column_int64(st, F_CSEQ), cm ? cm : "?", tag, note, dup);
}

/* An excerpt keeps the columns of its call's whole ladder: the sender and
 * receiver of the call's first message (the caller on the left) come first. */
static void seed_columns(sqlite3 *h, int64_t msg_id, struct flow_col *cols, int *ncols)
{
    sqlite3_stmt *q = NULL;

    if (sqlite3_prepare_v2(h,
                           "SELECT f.src_ip, f.src_port, f.dst_ip, f.dst_port FROM message f "
                           "WHERE f.call_id = (SELECT call_id FROM message WHERE msg_id = ?1) "
                           "ORDER BY f.ts_us, f.msg_id LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(q, 1, msg_id);
    if (sqlite3_step(q) == SQLITE_ROW) {
        char ep[80];

        col_index(cols, ncols, col_ep(q, 0, 1, ep, sizeof(ep)));
        col_index(cols, ncols, col_ep(q, 2, 3, ep, sizeof(ep)));
    }
    sqlite3_finalize(q);
}

/* The ladder of every message of call_id, or (ids != NULL) of those messages
 * only, each line prefixed with indent; only the full ladder has a title. */
static int flow_one(struct sl_db *db, const char *call_id, const int64_t *ids, size_t n_ids,
                    const char *indent, const struct marks *mk, struct sl_sbuf *out,
                    struct sl_err *err)
{
    sqlite3 *h = sl_db_handle(db);
    sqlite3_stmt *st = NULL;
    struct sl_sbuf b = { NULL, 0, 0, false }, q = { NULL, 0, 0, false };
    struct flow_col cols[FLOW_MAX_COLUMNS];
    int rc;
    int ncols = 0, step, rows = 0, i;
    long long t0 = 0;
    int64_t dialogs[26];
    int ndialogs = 0;
    int cw = FLOW_COL_MIN;

    sl_sbuf_printf(&q, "%s", flow_cols);
    if (ids != NULL) {
        size_t k;

        sl_sbuf_printf(&q, "WHERE m.msg_id IN (");
        for (k = 0; k < n_ids; k++)
            sl_sbuf_printf(&q, "%s%lld", k ? "," : "", (long long)ids[k]);
        sl_sbuf_printf(&q, ") ");
    } else {
        sl_sbuf_printf(&q, "WHERE m.call_id = ?1 ");
    }
    sl_sbuf_printf(&q, "ORDER BY m.ts_us, m.msg_id");
    if (q.oom || q.p == NULL) {
        sl_sbuf_fini(&q);
        return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    rc = sqlite3_prepare_v2(h, q.p, -1, &st, NULL);
    sl_sbuf_fini(&q);
    if (rc != SQLITE_OK)
        return sl_fail(err, SL_ESQL, "flow: %s", sqlite3_errmsg(h));
    if (ids == NULL)
        sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
    else
        seed_columns(h, ids[0], cols, &ncols);
    /* first pass: the columns (endpoints in order of appearance) and dialogs */
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char ep[80];

        if (rows++ == 0)
            t0 = sqlite3_column_int64(st, F_TS);
        col_index(cols, &ncols, col_ep(st, F_SRC_IP, F_SRC_PORT, ep, sizeof(ep)));
        col_index(cols, &ncols, col_ep(st, F_DST_IP, F_DST_PORT, ep, sizeof(ep)));
        if (!col_null(st, F_DIALOG)) {
            int64_t d = sqlite3_column_int64(st, F_DIALOG);

            for (i = 0; i < ndialogs && dialogs[i] != d; i++)
                ;
            if (i == ndialogs && ndialogs < 26)
                dialogs[ndialogs++] = d;
        }
        {
            char label[160];
            int need;

            flow_label(st, " {A}", label, sizeof(label));
            need = (int)strlen(label) + 6;
            if (need > cw)
                cw = need > FLOW_COL_MAX ? FLOW_COL_MAX : need;
        }
        if ((int)strlen(ep) + 2 > cw)
            cw = (int)strlen(ep) + 2 > FLOW_COL_MAX ? FLOW_COL_MAX : (int)strlen(ep) + 2;
    }
    if (step != SQLITE_DONE) {
        sqlite3_finalize(st);
        return sl_fail(err, SL_ESQL, "flow: %s", sqlite3_errmsg(h));
    }
    if (rows == 0 && ids != NULL) {
        sqlite3_finalize(st);
        return SL_OK;
    }
    if (rows == 0) {
        sqlite3_finalize(st);
        return sl_fail(err, SL_EUSAGE,
                       "no SIP message with Call-ID '%s' (siplint calls lists them)", call_id);
    }
    if (ids == NULL) {
        char when[40];

        sl_format_time(t0, when, sizeof(when));
        sl_sbuf_printf(&b, "Call-ID ");
        oput_safe(&b, call_id, 0);
        sl_sbuf_printf(&b, ": %d message%s, %d dialog%s, from %s\n", rows, rows == 1 ? "" : "s",
                       ndialogs, ndialogs == 1 ? "" : "s", when);
        if (ndialogs > 1)
            sl_sbuf_printf(
                    &b,
                    "dialogs are marked {A}, {B}, ... in order of appearance (forks, or Call-ID "
                    "reuse)\n");
        sl_sbuf_printf(&b, "\n");
    }
    {
        sl_sbuf_printf(&b, "%s%-11s %-7s ", indent, "time (s)", "frame");
        for (i = 0; i < ncols; i++) {
            char name[FLOW_COL_MAX + 1];
            int len = (int)strlen(cols[i].name);

            if (i == ncols - 1) {
                sl_sbuf_printf(&b, "%s", cols[i].name);
                break;
            }
            snprintf(name, sizeof(name), "%-*.*s", cw, cw - 1, cols[i].name);
            (void)len;
            sl_sbuf_printf(&b, "%s", name);
        }
        sl_sbuf_printf(&b, "\n");
    }
    sqlite3_reset(st);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char ep[80], label[160], tag[16] = "";
        int from, to;
        long long dt = sqlite3_column_int64(st, F_TS) - t0;

        from = col_index(cols, &ncols, col_ep(st, F_SRC_IP, F_SRC_PORT, ep, sizeof(ep)));
        to = col_index(cols, &ncols, col_ep(st, F_DST_IP, F_DST_PORT, ep, sizeof(ep)));
        if (ndialogs > 1 && !col_null(st, F_DIALOG)) {
            int64_t d = sqlite3_column_int64(st, F_DIALOG);

            for (i = 0; i < ndialogs && dialogs[i] != d; i++)
                ;
            if (i < ndialogs)
                snprintf(tag, sizeof(tag), " {%c}", 'A' + i);
        }
        flow_label(st, tag, label, sizeof(label));
        {
            char *clean = sl_str_clean(label, strlen(label), true, NULL);

            if (clean == NULL) {
                b.oom = true;
                break;
            }
            sl_sbuf_printf(&b, "%s%4lld.%06lld %-7lld ", indent, dt / 1000000, dt % 1000000,
                           (long long)sqlite3_column_int64(st, F_FRAME));
            draw_arrow(&b, ncols, cw, from, to, clean);
            free(clean);
        }
        if (sqlite3_column_int(st, F_TRUNC))
            sl_sbuf_printf(&b, "  (cut by the capture)");
        if (!col_null(st, F_SE))
            sl_sbuf_printf(&b, "  SE=%lld", (long long)sqlite3_column_int64(st, F_SE));
        if (mk != NULL) {
            int64_t id = sqlite3_column_int64(st, F_MSG);
            size_t lo = 0, hi = mk->n;

            while (lo < hi) { /* the first mark with msg_id >= id */
                size_t mid = lo + (hi - lo) / 2;

                if (mk->v[mid].msg_id < id)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (; lo < mk->n && mk->v[lo].msg_id == id; lo++)
                sl_sbuf_printf(&b, "  << %s %s", sl_severity_name(mk->v[lo].f->severity),
                               mk->v[lo].f->rule->id);
        }
        sl_sbuf_printf(&b, "\n");
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE && !b.oom) {
        free(b.p);
        return sl_fail(err, SL_ESQL, "flow: %s", sqlite3_errmsg(h));
    }
    if (b.oom) {
        free(b.p);
        return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    rc = SL_OK;
    if (b.p != NULL)
        sl_sbuf_printf(out, "%s", b.p);
    free(b.p);
    if (out->oom)
        rc = sl_fail(err, SL_ENOMEM, "out of memory");
    return rc;
}

int sl_report_ladder(struct sl_db *db, const int64_t *ids, size_t n_ids, const char *indent,
                     struct sl_sbuf *out, struct sl_err *err)
{
    if (n_ids == 0)
        return SL_OK;
    return flow_one(db, NULL, ids, n_ids, indent, NULL, out, err);
}

int sl_report_call_line(struct sl_db *db, int64_t leg_id, struct sl_sbuf *b, struct sl_err *err)
{
    sqlite3 *h = sl_db_handle(db);
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(h, calls_sql, -1, &st, NULL) != SQLITE_OK)
        return sl_fail(err, SL_ESQL, "calls: %s", sqlite3_errmsg(h));
    sqlite3_bind_int(st, 1, 1);
    sqlite3_bind_int64(st, 2, leg_id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        struct call_text ct;
        const char *by = col_text(st, C_ENDED_BY), *how = col_text(st, C_END_HOW);
        const char *method = col_text(st, C_METHOD);
        const char *when = ct.when, *dur = ct.dur, *outc = ct.outc, *fu = ct.fu, *tu = ct.tu;

        call_text(st, &ct);
        sl_sbuf_printf(b, "Call-ID ");
        oput_safe(b, col_text(st, C_CALL_ID), 0);
        sl_sbuf_printf(b, "\n  %s ", when);
        oput_safe(b, method ? method : "?", 16);
        sl_sbuf_printf(b, " ");
        oput_safe(b, fu, 0);
        sl_sbuf_printf(b, " -> ");
        oput_safe(b, tu, 0);
        sl_sbuf_printf(b, ": %s", outc);
        if (strcmp(dur, "-") != 0)
            sl_sbuf_printf(b, ", %s", dur);
        if (by != NULL)
            sl_sbuf_printf(b, ", hung up by the %s", by);
        if (how != NULL && strcmp(how, "bye") != 0)
            sl_sbuf_printf(b, " (%s)", how);
        if (!col_null(st, C_Q850))
            sl_sbuf_printf(b, ", Q.850 %d %s", sqlite3_column_int(st, C_Q850),
                           col_text(st, C_Q850_TEXT) ? col_text(st, C_Q850_TEXT) : "");
        sl_sbuf_printf(b, "\n");
    }
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return sl_fail(err, SL_ESQL, "calls: %s", sqlite3_errmsg(h));
    return step == SQLITE_ROW ? SL_OK : SL_EUSAGE;
}
