/*
 * siplint.h: the public API of libsiplint.
 *
 * siplint reads SIP captures (pcap, pcapng), rebuilds the SIP messages in
 * them, stores them in a SQLite database and reports what it found.  The
 * program in cmd/ sees only this header.
 *
 * Conventions: functions that can fail return an int that is SL_OK (0) or a
 * negative enum sl_status; detail goes into a caller-supplied struct sl_err.
 * The library never prints to stdout and never exits.
 */
#ifndef SL_SIPLINT_H
#define SL_SIPLINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SL_VERSION "0.1.0"

/* clang-format off */
/* One list, so the enum and sl_strerror() cannot drift (libuv UV_ERRNO_MAP). */
#define SL_STATUS_MAP(X)                                           \
    X(OK,       0,  "success")                                     \
    X(ENOMEM,  -1,  "out of memory")                               \
    X(EIO,     -2,  "I/O error")                                   \
    X(EINPUT,  -3,  "input unusable")                              \
    X(ETRUNC,  -4,  "truncated input")                             \
    X(EFORMAT, -5,  "malformed input")                             \
    X(ESQL,    -6,  "database error")                              \
    X(EUSAGE,  -7,  "invalid argument")                            \
    X(ELIMIT,  -8,  "limit reached")                               \
    X(EINTERNAL, -9, "internal error")
/* clang-format on */

enum sl_status {
#define SL_X_(name, val, text) SL_##name = (val),
    SL_STATUS_MAP(SL_X_)
#undef SL_X_
};

/* Error detail filled by a failing call: a status and one sentence. */
struct sl_err {
    int code;      /* enum sl_status */
    char msg[512]; /* NUL-terminated; "" when there is no detail */
};

/* The text of a status code; never NULL. */
const char *sl_strerror(int code);

/* Output formats of sl_session_report(). */
enum sl_format {
    SL_FORMAT_JSON = 0,
    SL_FORMAT_NDJSON = 1,
    SL_FORMAT_TEXT = 2
};

/* Finding severities, lowest first.  SL_SEV_NEVER is only a --fail-on value. */
enum sl_severity {
    SL_SEV_INFO = 0,
    SL_SEV_WARNING = 1,
    SL_SEV_ERROR = 2,
    SL_SEV_NEVER = 3
};

/*
 * Caps on what the input can make a session hold or spend: every
 * input-driven allocation is bounded by one of these.  0 means the default
 * (sl_limit_info()).  Reaching a cap is a SIP-CAP-006 finding that names it
 * and `--limit NAME`; what is over it is skipped, never a crash.
 */
struct sl_limits {
    size_t message_size;     /* message-size: bytes of one SIP message */
    size_t header_rows;      /* header-rows: header rows of one SIP message (libosip2 is
                                quadratic in them: a message over it is refused first) */
    size_t tcp_stream_bytes; /* tcp-stream-bytes: bytes held per TCP stream direction */
    size_t tcp_total_bytes;  /* tcp-total-bytes: bytes held by TCP reassembly in all */
    size_t tcp_streams;      /* tcp-streams: TCP connections in flight */
    size_t ip_datagrams;     /* ip-datagrams: IP datagrams in reassembly */
    size_t ip_fragments;     /* ip-fragments: fragments of one IP datagram */
    size_t transactions;     /* transactions: open SIP transactions */
    size_t dialogs;          /* dialogs: open dialogs */
    size_t calls;            /* calls: open calls (legs: Call-ID + From tag) */
};

/* One cap, for --help and the manual. */
struct sl_limit_info {
    const char *name; /* "message-size", ... */
    size_t def;       /* the default */
    size_t min, max;  /* the values accepted */
    const char *unit; /* "bytes", "rows", ... */
    const char *what; /* a short description */
};

/* The i-th cap (0, 1, ...), or NULL past the last. */
const struct sl_limit_info *sl_limit_info(size_t i);

/* Sets one cap from "NAME=VALUE" (VALUE: a decimal number; byte caps also take
 * a k, M or G suffix, powers of 1024).  SL_OK, or SL_EUSAGE with err saying
 * what is wrong (an unknown NAME lists the known ones). */
int sl_limit_set(struct sl_limits *l, const char *name_value, struct sl_err *err);

/* The value of cap `name` in l, its default when unset; 0 for an unknown name. */
size_t sl_limit_get(const struct sl_limits *l, const char *name);

/* Options of a session.  Zero-initialise, then set what you need. */
/* Where a long ingest has got to, for a progress display. */
struct sl_progress {
    const char *path;               /* the input being read */
    unsigned long long frames;      /* frames read from it so far */
    unsigned long long messages;    /* SIP messages stored so far (all inputs) */
    unsigned long long bytes_done;  /* bytes of the file read */
    unsigned long long bytes_total; /* its size; 0 when unknown (standard input) */
    double seconds;                 /* since this input was opened */
};

struct sl_session_opts {
    const char *db_path;     /* keep the database in this file (replaced); NULL: temporary */
    int keep_existing;       /* with db_path: open that existing database (read-only) instead
                            of creating one; no ingest is possible then */
    size_t max_msg_len;      /* largest SIP message accepted, bytes; 0 = default (65535) */
    long long t1_us;         /* SIP timer T1 in microseconds; 0 = default (500 ms) */
    const char *rules_dir;   /* also run the rules in this directory's SIP-*.sql files */
    const char *enable;      /* run only these rules: "SIP-DLG-001,SIP-ST" (IDs or prefixes) */
    const char *disable;     /* do not run these rules (same syntax) */
    struct sl_limits limits; /* caps; limits.message_size, when set, wins over max_msg_len */
    int threads;             /* threads that parse SIP, the caller's included; 0 = one per
                                core.  The results never depend on it. */
    /* Called on the ingesting thread, at most about four times a second,
     * while an input is read (NULL: never). */
    void (*progress)(void *ctx, const struct sl_progress *p);
    void *progress_ctx;
    int timing;         /* print each SQL rule's wall time and row count on stderr */
    long rule_limit_ms; /* stop a rule of rules_dir that runs longer (it is reported on
                                stderr and as an info finding); 0 = default (60 s) */
};

struct sl_session;

/* Creates a session and its database.  On success *out owns it: release with
 * sl_session_close().  Fails with SL_ESQL (cannot create the database),
 * SL_EUSAGE (a rule file or an --enable/--disable item is wrong: err says
 * which) or SL_ENOMEM. */
int sl_session_open(struct sl_session **out, const struct sl_session_opts *opts,
                    struct sl_err *err);

/* Reads one capture ("-" = standard input) into the session's database.
 * Returns SL_OK when the file was read (problems inside it become findings;
 * a file cut mid-packet is still SL_OK), SL_EINPUT when the file cannot be used
 * at all (missing, a directory, not a capture), SL_ESQL / SL_ENOMEM / SL_EIO on
 * internal failure.  On SL_OK, err->msg is "" or a note for the user about a
 * file read only in part: "capture ends in the middle of frame 12 (...)". */
int sl_session_ingest(struct sl_session *s, const char *path, struct sl_err *err);

/* Like sl_session_ingest for a capture held in memory (fuzzing, embedding);
 * name is what the report shows as its path.  buf must stay valid during
 * the call. */
int sl_session_ingest_mem(struct sl_session *s, const char *name, const void *buf, size_t len,
                          struct sl_err *err);

/* Finishes loading: builds indexes, commits.  Call once after the last ingest. */
int sl_session_finish(struct sl_session *s, struct sl_err *err);

/* Report options. */
struct sl_report_opts {
    enum sl_format format;
    int color; /* text format: ANSI colours (only when writing to a terminal) */
};

/* Renders the report into a malloc'd buffer: *out (NUL-terminated, caller
 * frees) of *out_len bytes.  Returns SL_OK, SL_ESQL or SL_ENOMEM. */
int sl_session_report(struct sl_session *s, const struct sl_report_opts *opts, char **out,
                      size_t *out_len, struct sl_err *err);

/* The call list (one entry per call attempt: Call-ID + initial From tag):
 * text or JSON per opts->format (NDJSON is treated as JSON).  INVITE calls
 * only, unless all is set (then also REGISTER, OPTIONS, SUBSCRIBE, ...).
 * Same buffer contract as sl_session_report. */
int sl_session_calls(struct sl_session *s, const struct sl_report_opts *opts, int all, char **out,
                     size_t *out_len, struct sl_err *err);

/* The text ladder diagram of every message with this Call-ID (NULL: of
 * every Call-ID, in order of appearance).  Returns SL_EUSAGE (err says so)
 * when the captures hold no message with that Call-ID. */
int sl_session_flow(struct sl_session *s, const char *call_id, const struct sl_report_opts *opts,
                    char **out, size_t *out_len, struct sl_err *err);

/* The rule catalog (ID, severity, title, RFC; which rules are enabled) as
 * text or JSON per opts->format, with the rules, enable and disable of
 * sopts (may be NULL).  Same buffer contract as sl_session_report; SL_EUSAGE
 * as sl_session_open. */
int sl_rules_list(const struct sl_session_opts *sopts, const struct sl_report_opts *opts,
                  char **out, size_t *out_len, struct sl_err *err);

/* Number of findings at or above severity min (SL_SEV_INFO..SL_SEV_ERROR), or a
 * negative status. */
long sl_session_count_findings(struct sl_session *s, enum sl_severity min, struct sl_err *err);

/* Empties a session on a temporary database (db_path NULL) for new input, as
 * if it had been closed and opened again with the same options, only faster:
 * the database connection and the rules compiled on it are kept (fuzzing,
 * services that check many small captures).  Reports and findings handed out
 * before stay valid.  SL_OK, SL_EUSAGE (a session with a database file) or
 * SL_ESQL / SL_ENOMEM (then close the session). */
int sl_session_reset(struct sl_session *s, struct sl_err *err);

/* Closes the session; a temporary database is deleted.  Accepts NULL. */
void sl_session_close(struct sl_session *s);

#endif /* SL_SIPLINT_H */
