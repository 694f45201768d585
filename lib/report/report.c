#include "report/report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json.h>

#include "base/sbuf.h"
#include "base/status.h"
#include "base/str.h"

/* One input as the report shows it. */
struct input_row {
    char *path;
    char *format;
    long long frames, sip_messages, problems, other, not_decoded;
    int complete;
};

struct inputs {
    struct input_row *v;
    size_t n;
    long long messages;
    long long transactions, dialogs, calls;
};

void sl_format_time(long long ts_us, char *buf, size_t len)
{
    time_t secs;
    long long us;
    struct tm tm;

    secs = (time_t)(ts_us / 1000000);
    us = ts_us % 1000000;
    if (us < 0) {
        us += 1000000;
        secs -= 1;
    }
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, len, "?");
        return;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

static void free_inputs(struct inputs *in)
{
    size_t i;

    for (i = 0; i < in->n; i++) {
        free(in->v[i].path);
        free(in->v[i].format);
    }
    free(in->v);
    memset(in, 0, sizeof(*in));
}

static char *col_clean(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);

    return sl_str_clean(t ? t : "", t ? (size_t)sqlite3_column_bytes(st, col) : 0, false, NULL);
}

/* The single integer a query returns, or -1 on error. */
static long long count_rows(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long n = -1;

    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int load_inputs(struct sl_db *db, struct inputs *in, struct sl_err *err)
{
    static const char sql[] = "SELECT path, format, frames, sip_messages, problems, other_frames, "
                              "not_decoded_frames, complete FROM capture ORDER BY capture_id";
    sqlite3 *h = sl_db_handle(db);
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int step;

    memset(in, 0, sizeof(*in));
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        return sl_fail(err, SL_ESQL, "capture: %s", sqlite3_errmsg(h));
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct input_row *r;

        if (in->n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            struct input_row *v = realloc(in->v, ncap * sizeof(*v));

            if (v == NULL)
                goto nomem;
            in->v = v;
            cap = ncap;
        }
        r = &in->v[in->n++];
        memset(r, 0, sizeof(*r));
        r->path = col_clean(st, 0);
        r->format = col_clean(st, 1);
        if (r->path == NULL || r->format == NULL)
            goto nomem;
        r->frames = sqlite3_column_int64(st, 2);
        r->sip_messages = sqlite3_column_int64(st, 3);
        r->problems = sqlite3_column_int64(st, 4);
        r->other = sqlite3_column_int64(st, 5);
        r->not_decoded = sqlite3_column_int64(st, 6);
        r->complete = sqlite3_column_int(st, 7);
        in->messages += r->sip_messages;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        free_inputs(in);
        return sl_fail(err, SL_ESQL, "capture: %s", sqlite3_errmsg(h));
    }
    in->transactions = count_rows(h, "SELECT count(*) FROM txn");
    in->dialogs = count_rows(h, "SELECT count(*) FROM dialog");
    in->calls = count_rows(h, "SELECT count(*) FROM leg WHERE method = 'INVITE'");
    if (in->transactions < 0 || in->dialogs < 0 || in->calls < 0) {
        free_inputs(in);
        return sl_fail(err, SL_ESQL, "counts: %s", sqlite3_errmsg(h));
    }
    return SL_OK;
nomem:
    sqlite3_finalize(st);
    free_inputs(in);
    return sl_fail(err, SL_ENOMEM, "out of memory");
}

/* ---- JSON ---- */

json_object *sl_json_text(const char *s)
{
    char *c;
    json_object *o;

    if (s == NULL)
        return NULL;
    if (sl_str_is_utf8(s, strlen(s)))
        return json_object_new_string(s);
    c = sl_str_clean(s, strlen(s), false, NULL);
    if (c == NULL)
        return NULL;
    o = json_object_new_string(c);
    free(c);
    return o;
}

static void add(json_object *obj, const char *key, json_object *val)
{
    json_object_object_add(obj, key, val);
}

static json_object *jtime_or_null(long long ts_us)
{
    char buf[40];

    if (ts_us == INT64_MIN)
        return NULL;
    sl_format_time(ts_us, buf, sizeof(buf));
    return json_object_new_string(buf);
}

/* Appends the items of a comma-separated RFC list to arr. */
static void rfc_array(json_object *arr, const char *r)
{
    while (r != NULL && *r != '\0') {
        const char *e = strchr(r, ',');
        size_t n = e ? (size_t)(e - r) : strlen(r);

        while (n > 0 && r[n - 1] == ' ')
            n--;
        if (n > 0)
            json_object_array_add(arr, json_object_new_string_len(r, (int)n));
        if (e == NULL)
            break;
        r = e + 1;
        while (*r == ' ')
            r++;
    }
}

static json_object *finding_json(const struct sl_finding *f, const struct inputs *in)
{
    json_object *o = json_object_new_object();
    json_object *rfc = json_object_new_array();
    json_object *evs = json_object_new_array();

    size_t i;

    (void)in;
    add(o, "rule", json_object_new_string(f->rule ? f->rule->id : "?"));
    add(o, "severity", json_object_new_string(sl_severity_name(f->severity)));
    add(o, "title", json_object_new_string(f->rule ? f->rule->title : ""));
    add(o, "call_id", sl_json_text(f->call_id));
    if (f->caller_tag != NULL || f->callee_tag != NULL) {
        json_object *d = json_object_new_object();

        add(d, "call_id", sl_json_text(f->call_id));
        add(d, "caller_tag", sl_json_text(f->caller_tag));
        add(d, "callee_tag", sl_json_text(f->callee_tag));
        add(o, "dialog", d);
    } else {
        add(o, "dialog", NULL);
    }
    add(o, "ts_us", f->ts_us == INT64_MIN ? NULL : json_object_new_int64(f->ts_us));
    add(o, "time", jtime_or_null(f->ts_us));
    add(o, "message", sl_json_text(f->message ? f->message : ""));
    add(o, "confidence", json_object_new_string(f->confidence ? f->confidence : "high"));
    add(o, "inconclusive", json_object_new_boolean(f->inconclusive));
    add(o, "impact", json_object_new_string(f->rule ? f->rule->impact : ""));
    rfc_array(rfc, f->rule ? f->rule->rfc : "");
    add(o, "rfc", rfc);
    for (i = 0; i < f->n_evidence; i++) {
        const struct sl_evidence *ev = &f->evidence[i];
        json_object *e = json_object_new_object();

        add(e, "input", json_object_new_int(ev->input));
        add(e, "frame", json_object_new_int64((int64_t)ev->frame));
        add(e, "ts_us", ev->ts_us == INT64_MIN ? NULL : json_object_new_int64(ev->ts_us));
        add(e, "src", sl_json_text(ev->src));
        add(e, "dst", sl_json_text(ev->dst));
        add(e, "transport", sl_json_text(ev->transport));
        add(e, "first_line", sl_json_text(ev->first_line));
        add(e, "cseq", sl_json_text(ev->cseq));
        json_object_array_add(evs, e);
    }
    add(o, "evidence", evs);
    return o;
}

static void count_severities(const struct sl_findings *fs, long long counts[3])
{
    size_t i;

    counts[0] = counts[1] = counts[2] = 0;
    for (i = 0; i < fs->n; i++) {
        if (fs->v[i].severity <= SL_SEV_ERROR)
            counts[fs->v[i].severity]++;
    }
}

static int render_json(const struct inputs *in, const struct sl_findings *fs, bool nd, char **out,
                       size_t *out_len, struct sl_err *err)
{
    json_object *root, *inputs, *summary, *counts, *findings;
    long long c[3];
    const char *s;
    size_t i, len;
    int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE;

    if (nd) {
        /* NDJSON: one compact finding object per line. */
        size_t cap = 4096, used = 0;
        char *buf = malloc(cap);

        if (buf == NULL)
            return sl_fail(err, SL_ENOMEM, "out of memory");
        buf[0] = '\0';
        for (i = 0; i < fs->n; i++) {
            json_object *o = finding_json(&fs->v[i], in);

            s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);
            len = strlen(s);
            if (used + len + 2 > cap) {
                char *nb;

                while (used + len + 2 > cap)
                    cap *= 2;
                nb = realloc(buf, cap);
                if (nb == NULL) {
                    json_object_put(o);
                    free(buf);
                    return sl_fail(err, SL_ENOMEM, "out of memory");
                }
                buf = nb;
            }
            memcpy(buf + used, s, len);
            used += len;
            buf[used++] = '\n';
            buf[used] = '\0';
            json_object_put(o);
        }
        *out = buf;
        *out_len = used;
        return SL_OK;
    }
    root = json_object_new_object();
    add(root, "siplint", json_object_new_string(SL_VERSION));
    add(root, "schema", json_object_new_int(SL_REPORT_SCHEMA));
    inputs = json_object_new_array();
    for (i = 0; i < in->n; i++) {
        const struct input_row *r = &in->v[i];
        json_object *o = json_object_new_object();

        add(o, "path", json_object_new_string(r->path));
        add(o, "format", json_object_new_string(r->format));
        add(o, "frames", json_object_new_int64(r->frames));
        add(o, "sip_messages", json_object_new_int64(r->sip_messages));
        add(o, "not_sip", json_object_new_int64(r->other));
        add(o, "not_decoded", json_object_new_int64(r->not_decoded));
        add(o, "problems", json_object_new_int64(r->problems));
        add(o, "complete", json_object_new_boolean(r->complete != 0));
        json_object_array_add(inputs, o);
    }
    add(root, "inputs", inputs);
    summary = json_object_new_object();
    add(summary, "messages", json_object_new_int64(in->messages));
    add(summary, "transactions", json_object_new_int64(in->transactions));
    add(summary, "dialogs", json_object_new_int64(in->dialogs));
    add(summary, "calls", json_object_new_int64(in->calls));
    count_severities(fs, c);
    counts = json_object_new_object();
    add(counts, "error", json_object_new_int64(c[SL_SEV_ERROR]));
    add(counts, "warning", json_object_new_int64(c[SL_SEV_WARNING]));
    add(counts, "info", json_object_new_int64(c[SL_SEV_INFO]));
    add(summary, "findings", counts);
    add(root, "summary", summary);
    findings = json_object_new_array();
    for (i = 0; i < fs->n; i++)
        json_object_array_add(findings, finding_json(&fs->v[i], in));
    add(root, "findings", findings);
    s = json_object_to_json_string_ext(root, flags);
    len = strlen(s);
    *out = malloc(len + 2);
    if (*out == NULL) {
        json_object_put(root);
        return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    memcpy(*out, s, len);
    (*out)[len] = '\n';
    (*out)[len + 1] = '\0';
    *out_len = len + 1;
    json_object_put(root);
    return SL_OK;
}

/* ---- text ---- */

/* Input text made safe for a terminal, written with tput. */
static void tput_safe(struct sl_sbuf *b, const char *s)
{
    char *c;

    if (s == NULL)
        return;
    c = sl_str_clean(s, strlen(s), true, NULL);
    if (c == NULL) {
        b->oom = true;
        return;
    }
    sl_sbuf_printf(b, "%s", c);
    free(c);
}

static const char *sev_color(enum sl_severity sev, bool color)
{
    if (!color)
        return "";
    switch (sev) {
    case SL_SEV_ERROR:
        return "\033[1;31m";
    case SL_SEV_WARNING:
        return "\033[1;33m";
    case SL_SEV_INFO:
    case SL_SEV_NEVER:
        break;
    }
    return "\033[1;36m";
}

/* One finding: severity, ID, title, the sentence, the impact, and its
 * evidence as a ladder excerpt (or as a list when it names no message). */
static int text_finding(struct sl_db *db, const struct sl_finding *f, bool color, struct sl_sbuf *b,
                        struct sl_err *err)
{
    const char *reset = color ? "\033[0m" : "";
    int64_t ids[64];
    size_t j, n_ids = 0;
    char when[40];

    sl_sbuf_printf(b, "\n  %s%-7s%s %s  %s", sev_color(f->severity, color),
                   sl_severity_name(f->severity), reset, f->rule ? f->rule->id : "?",
                   f->rule ? f->rule->title : "");
    if (f->inconclusive)
        sl_sbuf_printf(b, " (inconclusive)");
    else if (f->confidence != NULL && strcmp(f->confidence, "high") != 0)
        sl_sbuf_printf(b, " (%s confidence)", f->confidence);
    sl_sbuf_printf(b, "\n    ");
    tput_safe(b, f->message);
    sl_sbuf_printf(b, "\n");
    if (f->rule != NULL && f->rule->impact != NULL && f->rule->impact[0] != '\0' &&
        !f->inconclusive) {
        sl_sbuf_printf(b, "    impact: ");
        tput_safe(b, f->rule->impact);
        sl_sbuf_printf(b, "\n");
    }
    for (j = 0; j < f->n_evidence && n_ids < sizeof(ids) / sizeof(ids[0]); j++) {
        if (f->evidence[j].msg_id > 0)
            ids[n_ids++] = f->evidence[j].msg_id;
    }
    if (n_ids > 0 && n_ids == f->n_evidence) {
        const struct sl_evidence *ev = &f->evidence[0];

        sl_format_time(ev->ts_us, when, sizeof(when));
        sl_sbuf_printf(b, "    evidence from input %d, time 0 = %s:\n", ev->input, when);
        return sl_report_ladder(db, ids, n_ids, "      ", b, err);
    }
    for (j = 0; j < f->n_evidence; j++) {
        const struct sl_evidence *ev = &f->evidence[j];

        if (ev->ts_us != INT64_MIN)
            sl_format_time(ev->ts_us, when, sizeof(when));
        else
            snprintf(when, sizeof(when), "-");
        if (ev->frame == 0) /* about the file, before any frame */
            sl_sbuf_printf(b, "    input %d %s", ev->input, when);
        else
            sl_sbuf_printf(b, "    input %d frame %" PRIu64 " %s", ev->input, ev->frame, when);
        if (ev->src != NULL || ev->dst != NULL) {
            sl_sbuf_printf(b, "  ");
            tput_safe(b, ev->src ? ev->src : "?");
            sl_sbuf_printf(b, " -> ");
            tput_safe(b, ev->dst ? ev->dst : "?");
            if (ev->transport)
                sl_sbuf_printf(b, " %s", ev->transport);
        }
        sl_sbuf_printf(b, "\n");
        if (ev->first_line != NULL) {
            sl_sbuf_printf(b, "      ");
            tput_safe(b, ev->first_line);
            sl_sbuf_printf(b, "\n");
        }
    }
    return SL_OK;
}

/* Text for people: the summary, then the findings grouped by call (in the
 * order of each call's first finding), then those tied to no call. */
static int render_text(struct sl_db *db, const struct inputs *in, const struct sl_findings *fs,
                       bool color, char **out, size_t *out_len, struct sl_err *err)
{
    struct sl_sbuf b = { NULL, 0, 0, false };
    long long c[3];
    size_t i, j, n_legs = 0;
    int64_t *legs = NULL;
    int rc = SL_OK;

    count_severities(fs, c);
    sl_sbuf_printf(&b,
                   "siplint %s: %zu input%s, %lld SIP message%s, %lld call%s, %lld dialog%s, %zu "
                   "finding%s (%lld error, %lld warning, %lld info)\n",
                   SL_VERSION, in->n, in->n == 1 ? "" : "s", in->messages,
                   in->messages == 1 ? "" : "s", in->calls, in->calls == 1 ? "" : "s", in->dialogs,
                   in->dialogs == 1 ? "" : "s", fs->n, fs->n == 1 ? "" : "s", c[SL_SEV_ERROR],
                   c[SL_SEV_WARNING], c[SL_SEV_INFO]);
    for (i = 0; i < in->n; i++) {
        const struct input_row *r = &in->v[i];

        sl_sbuf_printf(&b, "  input %zu: ", i);
        tput_safe(&b, r->path);
        sl_sbuf_printf(
                &b,
                " (%s): %lld frames: %lld SIP messages, %lld not SIP, %lld not decoded, %lld "
                "problems%s\n",
                r->format, r->frames, r->sip_messages, r->other, r->not_decoded, r->problems,
                r->complete ? "" : "; file cut short");
    }
    if (fs->n > 0 && (legs = malloc(fs->n * sizeof(*legs))) == NULL)
        return sl_fail(err, SL_ENOMEM, "out of memory");
    for (i = 0; i < fs->n; i++) {
        int64_t l = fs->v[i].leg_id;

        for (j = 0; j < n_legs && legs[j] != l; j++)
            ;
        if (l != 0 && j == n_legs)
            legs[n_legs++] = l;
    }
    for (j = 0; j < n_legs && rc == SL_OK; j++) {
        sl_sbuf_printf(&b, "\n== ");
        rc = sl_report_call_line(db, legs[j], &b, err);
        if (rc == SL_EUSAGE) {
            sl_sbuf_printf(&b, "call %lld\n", (long long)legs[j]);
            rc = SL_OK;
        }
        for (i = 0; i < fs->n && rc == SL_OK; i++) {
            if (fs->v[i].leg_id == legs[j])
                rc = text_finding(db, &fs->v[i], color, &b, err);
        }
    }
    for (i = 0, j = 0; i < fs->n && rc == SL_OK; i++) {
        if (fs->v[i].leg_id != 0)
            continue;
        if (j++ == 0)
            sl_sbuf_printf(&b, "\n== Not tied to a call\n");
        rc = text_finding(db, &fs->v[i], color, &b, err);
    }
    free(legs);
    if (rc != SL_OK) {
        sl_sbuf_fini(&b);
        return rc;
    }
    if (b.oom || b.p == NULL) {
        sl_sbuf_fini(&b);
        return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    *out = b.p;
    *out_len = b.len;
    return SL_OK;
}

/* ---- the rule catalog ---- */

int sl_report_rules(const struct sl_ruleset *rs, const struct sl_report_opts *opts, char **out,
                    size_t *out_len, struct sl_err *err)
{
    struct sl_sbuf b = { NULL, 0, 0, false };
    size_t i, n = sl_ruleset_count(rs);

    *out = NULL;
    *out_len = 0;
    if (opts->format == SL_FORMAT_TEXT) {
        sl_sbuf_printf(&b, "%-12s  %-7s  %-3s  %-70s  %s\n", "rule", "sev", "on", "title", "RFC");
        for (i = 0; i < n; i++) {
            const struct sl_rule_info *r = sl_ruleset_at(rs, i);

            sl_sbuf_printf(&b, "%-12s  %-7s  %-3s  ", r->id, sl_severity_name(r->severity),
                           sl_ruleset_enabled(rs, i) ? "yes" : "no");
            tput_safe(&b, r->title);
            sl_sbuf_printf(&b, "%*s  ", (int)(70 - (strlen(r->title) > 70 ? 70 : strlen(r->title))),
                           "");
            tput_safe(&b, r->rfc);
            if (strcmp(r->origin, "built-in") != 0) {
                sl_sbuf_printf(&b, "  (");
                tput_safe(&b, r->origin);
                sl_sbuf_printf(&b, ")");
            }
            sl_sbuf_printf(&b, "\n");
        }
        sl_sbuf_printf(&b, "%zu rules\n", n);
    } else {
        json_object *root = json_object_new_object(), *arr = json_object_new_array();

        add(root, "siplint", json_object_new_string(SL_VERSION));
        for (i = 0; i < n; i++) {
            const struct sl_rule_info *r = sl_ruleset_at(rs, i);
            json_object *o = json_object_new_object();

            add(o, "rule", json_object_new_string(r->id));
            add(o, "severity", json_object_new_string(sl_severity_name(r->severity)));
            add(o, "title", sl_json_text(r->title));
            {
                json_object *ra = json_object_new_array();

                rfc_array(ra, r->rfc);
                add(o, "rfc", ra);
            }
            add(o, "impact", sl_json_text(r->impact));
            add(o, "confidence", sl_json_text(r->confidence));
            add(o, "kind", json_object_new_string(r->sql ? "sql" : "decode"));
            add(o, "origin", sl_json_text(r->origin));
            add(o, "enabled", json_object_new_boolean(sl_ruleset_enabled(rs, i)));
            json_object_array_add(arr, o);
        }
        add(root, "rules", arr);
        sl_sbuf_printf(&b, "%s\n",
                       json_object_to_json_string_ext(
                               root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                             JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(root);
    }
    if (b.oom || b.p == NULL) {
        sl_sbuf_fini(&b);
        return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    *out = b.p;
    *out_len = b.len;
    return SL_OK;
}

int sl_report_render(struct sl_db *db, const struct sl_findings *fs,
                     const struct sl_report_opts *opts, char **out, size_t *out_len,
                     struct sl_err *err)
{
    struct inputs in;
    int rc;

    *out = NULL;
    *out_len = 0;
    if ((rc = load_inputs(db, &in, err)) != SL_OK)
        return rc;
    switch (opts->format) {
    case SL_FORMAT_TEXT:
        rc = render_text(db, &in, fs, opts->color != 0, out, out_len, err);
        break;
    case SL_FORMAT_NDJSON:
        rc = render_json(&in, fs, true, out, out_len, err);
        break;
    case SL_FORMAT_JSON:
    default:
        rc = render_json(&in, fs, false, out, out_len, err);
        break;
    }
    free_inputs(&in);
    return rc;
}
