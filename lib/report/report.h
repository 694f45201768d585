/*
 * report.h: the report stage.  Findings and the capture summary become JSON
 * (schema 1, DESIGN.md), NDJSON (one finding per line) or text for people.
 *
 * The output is deterministic: fixed key order, findings in the order the
 * engine sorted them, times as integer microseconds taken from the capture,
 * no wall-clock time.  Every string that came from the input is made valid
 * UTF-8 (JSON) and free of control characters (text).
 */
#ifndef SL_REPORT_REPORT_H
#define SL_REPORT_REPORT_H

#include <stddef.h>

#include <json.h>

#include "siplint.h"
#include "base/sbuf.h"
#include "engine/engine.h"
#include "store/db.h"

#define SL_REPORT_SCHEMA 1

/* Renders the report into a malloc'd NUL-terminated buffer (*out, *out_len;
 * the caller frees).  Returns SL_OK, SL_ESQL or SL_ENOMEM. */
int sl_report_render(struct sl_db *db, const struct sl_findings *fs,
                     const struct sl_report_opts *opts, char **out, size_t *out_len,
                     struct sl_err *err);

/* The call list: one line (text) or object (JSON) per leg, INVITE legs only
 * unless all.  fs gives the number of findings per call.  Same contract as
 * sl_report_render. */
int sl_report_calls(struct sl_db *db, const struct sl_findings *fs,
                    const struct sl_report_opts *opts, int all, char **out, size_t *out_len,
                    struct sl_err *err);

/* The ladder diagram of every message with this Call-ID (NULL: every call),
 * each message that anchors a finding of fs marked "<< error SIP-...".
 * SL_EUSAGE when there is no such message. */
int sl_report_flow(struct sl_db *db, const struct sl_findings *fs, const char *call_id,
                   const struct sl_report_opts *opts, char **out, size_t *out_len,
                   struct sl_err *err);

/* The rule catalog of rs: text (ID, severity, title, RFC, on/off) or JSON. */
int sl_report_rules(const struct sl_ruleset *rs, const struct sl_report_opts *opts, char **out,
                    size_t *out_len, struct sl_err *err);

/* Appends a ladder excerpt of these messages (any order) to out, every line
 * prefixed with indent. */
int sl_report_ladder(struct sl_db *db, const int64_t *ids, size_t n_ids, const char *indent,
                     struct sl_sbuf *out, struct sl_err *err);

/* Appends a two-line description of the call attempt leg_id (Call-ID; start,
 * from -> to, outcome, duration, who hung up).  SL_EUSAGE when there is no
 * such leg. */
int sl_report_call_line(struct sl_db *db, int64_t leg_id, struct sl_sbuf *b, struct sl_err *err);

/* A JSON string from text that may hold anything (invalid UTF-8 becomes
 * U+FFFD), or NULL (JSON null) when s is NULL or memory runs out.  The
 * caller owns the object (json-c: adding it to a container hands it over). */
json_object *sl_json_text(const char *s);

/* Formats ts_us as "2024-03-12T09:00:00.123456Z" into buf (>= 32 bytes). */
void sl_format_time(long long ts_us, char *buf, size_t len);

#endif /* SL_REPORT_REPORT_H */
