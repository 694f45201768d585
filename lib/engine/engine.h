/*
 * engine.h: the rules stage.  Reads the facts in the database and produces
 * findings.  In this version the findings are the decode problems the
 * earlier stages recorded (table problem) and the per-reason counts of frames
 * that were not decoded (table frame_stat); dialog-state rules join here.
 */
#ifndef SL_ENGINE_ENGINE_H
#define SL_ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "siplint.h"
#include "store/db.h"

/* Catalog entry of a finding ID. */
struct sl_rule_info {
    const char *id;
    enum sl_severity severity;
    const char *title;
    const char *rfc; /* "" or "RFC 3261 §7, §25": comma-separated */
    const char *impact;
};

/* The catalog entry of id, or NULL. */
const struct sl_rule_info *sl_rule_lookup(const char *id);

/* All catalog entries; *n receives the count. */
const struct sl_rule_info *sl_rule_catalog(size_t *n);

/* One message cited as evidence. */
struct sl_evidence {
    int input; /* 0-based index of the capture */
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
    char *call_id; /* NULL when the finding is not about a call */
    char *caller_tag;
    char *callee_tag;
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

/* Runs every rule over db into *out (initialised here; free with
 * sl_findings_fini).  Findings are sorted by input, frame, rule ID, message.
 * Returns SL_OK, SL_ESQL or SL_ENOMEM. */
int sl_engine_run(struct sl_db *db, struct sl_findings *out, struct sl_err *err);

/* Frees the findings.  Accepts a zeroed struct. */
void sl_findings_fini(struct sl_findings *f);

/* Most findings of one rule listed per input; the rest are summarised in one
 * finding that says how many more there are (the database holds them all). */
#define SL_MAX_FINDINGS_PER_RULE 50

#endif /* SL_ENGINE_ENGINE_H */
