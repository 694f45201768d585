/*
 * engine.h: the rules stage.  Reads the facts in the database and produces
 * findings: the decode problems the earlier stages recorded (table problem),
 * the per-reason counts of frames that were not decoded (table frame_stat),
 * and the SQL rules of rules/ (one file per rule, embedded at build time, plus
 * the files of --rules-dir), run read-only.
 */
#ifndef SL_ENGINE_ENGINE_H
#define SL_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siplint.h"
#include "store/db.h"

/* One rule of the catalog: a C finding (rules/catalog.def) or a SQL rule. */
struct sl_rule_info {
    const char *id;
    enum sl_severity severity;
    const char *title;
    const char *rfc; /* "" or "RFC 3261 §7, RFC 5057 §5.1": comma-separated */
    const char *impact;
    const char *confidence;   /* "high", "medium" or "low" */
    const char *message;      /* SQL rules: the sentence template; NULL for C findings */
    const char *inconclusive; /* SQL rules: the sentence of inconclusive rows, or NULL */
    const char *sql;          /* SQL rules: the whole file; NULL for C findings */
    const char *origin;       /* "built-in" or the path of a --rules-dir file */
};

/* The rules of one run: the C findings, the built-in SQL rules, and those of
 * a rules directory; each enabled or not. */
struct sl_ruleset;

/* Loads the catalog, the embedded rules and the .sql files of rules_dir (NULL:
 * none; a file whose ID is a built-in rule replaces it).  SL_EUSAGE names the
 * file and line of a malformed header; SL_EIO an unreadable directory. */
int sl_ruleset_load(struct sl_ruleset **out, const char *rules_dir, struct sl_err *err);

/* Enables only the rules matched by enable (NULL: all), then disables those
 * matched by disable.  Both are comma-separated lists of IDs or ID prefixes
 * ("SIP-ST", "SIP-ST-*").  SL_EUSAGE when an item matches no rule. */
int sl_ruleset_select(struct sl_ruleset *rs, const char *enable, const char *disable,
                      struct sl_err *err);

size_t sl_ruleset_count(const struct sl_ruleset *rs);
const struct sl_rule_info *sl_ruleset_at(const struct sl_ruleset *rs, size_t i);
bool sl_ruleset_enabled(const struct sl_ruleset *rs, size_t i);

/* The rule with this ID, or NULL. */
const struct sl_rule_info *sl_ruleset_find(const struct sl_ruleset *rs, const char *id);

/* The TEMP views every rule may use (rules/prelude.sql). */
const char *sl_ruleset_prelude(const struct sl_ruleset *rs);

void sl_ruleset_free(struct sl_ruleset *rs);

/* One message cited as evidence. */
struct sl_evidence {
    int64_t msg_id; /* 0 when the evidence is not a stored message */
    int input;      /* 0-based index of the capture */
    uint64_t frame;
    int64_t ts_us;
    char *src; /* "ip:port" or NULL */
    char *dst;
    char *transport;
    char *first_line; /* may be NULL */
    char *cseq;       /* "2 INVITE" or NULL */
};

struct sl_finding {
    const struct sl_rule_info *rule;
    enum sl_severity severity;
    const char *confidence;
    bool inconclusive; /* an absence rule whose deadline lies after the capture's end */
    char *call_id;     /* NULL when the finding is not about a call */
    char *caller_tag;
    char *callee_tag;
    int64_t dialog_id; /* 0: none */
    int64_t leg_id;    /* 0: none; the call it belongs to */
    int64_t msg_id;    /* the anchor message (0: none): where flow marks the finding */
    int64_t ts_us;
    char *message; /* one sentence */
    struct sl_evidence *evidence;
    size_t n_evidence;
    int input;      /* for sorting: input of the first evidence, or -1 */
    uint64_t frame; /* for sorting: frame of the first evidence */
};

struct sl_findings {
    struct sl_finding *v;
    size_t n;
    size_t cap;
};

/*
 * Prepared rule statements kept across runs on one database connection (a
 * session reset for new input, sl_session_reset): compiling the SQL rules is
 * most of what a run costs on a small capture.  The first run with a cache
 * fills it (and leaves the TEMP views of the prelude in place); later runs on
 * the same connection reuse the statements.  The owner frees it with
 * sl_rule_cache_free() before that connection is closed, and may not change
 * the connection's schema in between (new rows are fine).
 */
struct sl_rule_cache;

struct sl_rule_cache *sl_rule_cache_new(void);
void sl_rule_cache_free(struct sl_rule_cache *c); /* accepts NULL */

/* Engine settings of a run. */
struct sl_engine_opts {
    long long t1_us;             /* SIP timer T1 (default 500 ms) */
    long long tol_us;            /* timing tolerance of RULES.md G5 (default 50 ms) */
    struct sl_rule_cache *cache; /* NULL: prepare every rule, drop the views after */
    bool timing;                 /* print each SQL rule's wall time and row count on stderr */
    /* A rule of --rules-dir that runs longer than this (milliseconds; 0: the
     * default, SL_RULE_TIMEOUT_MS_DEFAULT) is stopped: stderr says so, an info
     * finding of that rule says its findings are incomplete, the other rules
     * still run.  Built-in rules are not limited. */
    long long rule_timeout_ms;
    /* More than 1 (and no cache): the SQL rules run on two threads, over a
     * second connection to the database (sl_db_aux), when it has one. */
    unsigned threads;
};

#define SL_RULE_TIMEOUT_MS_DEFAULT 60000

/* Runs every enabled rule of rs over db into *out (initialised here; free
 * with sl_findings_fini).  Findings are sorted by input, frame, rule ID,
 * message.  Returns SL_OK, SL_ESQL, SL_ENOMEM, or SL_EUSAGE when a rule of
 * --rules-dir cannot be run (err names the file). */
int sl_engine_run(struct sl_db *db, const struct sl_ruleset *rs, const struct sl_engine_opts *o,
                  struct sl_findings *out, struct sl_err *err);

/* Frees the findings.  Accepts a zeroed struct. */
void sl_findings_fini(struct sl_findings *f);

/* Most findings of one rule listed per input; the rest are summarised in one
 * finding that says how many more there are (the database holds them all). */
#define SL_MAX_FINDINGS_PER_RULE 50

#endif /* SL_ENGINE_ENGINE_H */
