/*
 * db.h: the store stage.  Facts go into a SQLite database whose schema is a
 * public, versioned contract (docs/schema.md, PRAGMA user_version).
 *
 * Loading happens inside one transaction with prepared statements; indexes are
 * built after the bulk load (sl_db_finish).  A database kept with --db is
 * written as FILE.tmp and renamed to FILE by sl_db_finish, so a failed run
 * never leaves a half-written database under the user's name.
 */
#ifndef SL_STORE_DB_H
#define SL_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "siplint.h"
#include "capture/capture.h"
#include "sip/msg.h"
#include "txn/txn.h"

#define SL_SCHEMA_VERSION 3

struct sl_db;

/* Creates a database.  path NULL: a private temporary database (a file of
 * $TMPDIR or /tmp, unlinked at once, gone on close).  Otherwise path is replaced by the new database when
 * sl_db_finish succeeds.  Returns SL_OK or SL_ESQL / SL_ENOMEM. */
int sl_db_create(struct sl_db **out, const char *path, struct sl_err *err);

/* Opens an existing database read-only (for calls, flow, report --db).
 * Fails with SL_EINPUT when path is missing or not a siplint database of
 * schema SL_SCHEMA_VERSION (err says which version it has). */
int sl_db_open_existing(struct sl_db **out, const char *path, struct sl_err *err);

/* Whether the whole record of each message is written: its raw bytes (table
 * message_raw) and the detail columns of table message that no rule, report
 * or command of siplint reads (docs/schema.md lists them: display names,
 * User-Agent, Max-Forwards, the RSeq/RAck numbers, Content-Type/Length, ...;
 * otherwise NULL, or 0 where NOT NULL).  A database created with a path
 * keeps it all; a temporary one only after sl_db_keep_detail(db, true): in
 * `check` without --db nothing reads them unless rules of --rules-dir do.
 * The raw bytes cost a fifth of storing a message, the detail columns
 * about 7% (callgrind: 19.5k -> 18.2k instructions a message). */
void sl_db_keep_detail(struct sl_db *db, bool keep);

/* Every message is stored: a temporary database builds the messages'
 * indexes now, on a thread of its own when thread is true (they are in a
 * file apart, written through a connection of their own), while the caller
 * stores the rest and calls sl_db_finish, which waits for them.  Optional:
 * sl_db_finish does it otherwise; a message stored after it fails. */
int sl_db_messages_done(struct sl_db *db, bool thread, struct sl_err *err);

/* The SQLite handle, for queries by later stages.  Owned by db. */
sqlite3 *sl_db_handle(struct sl_db *db);

/* A second connection to the same database, for a thread of the rules stage
 * (read it only: the caller's TEMP objects aside), once sl_db_finish has
 * succeeded; NULL when there is none (closed by sl_db_close). */
sqlite3 *sl_db_aux(struct sl_db *db);

/* A capture as stored in table capture. */
struct sl_db_capture {
    const char *path;
    const char *format; /* "pcap", "pcapng" */
    int linktype;
    uint64_t frames;
    uint64_t sip_messages;
    uint64_t problems;
    uint64_t other_frames;       /* decoded, not SIP */
    uint64_t not_decoded_frames; /* might hold SIP, not decoded */
    int64_t first_ts_us;         /* INT64_MIN when there were no frames */
    int64_t last_ts_us;
    int complete; /* 0 when the file ended mid-record */
};

/* Inserts a capture row; *capture_id receives its id (1, 2, ... in order). */
int sl_db_add_capture(struct sl_db *db, const struct sl_db_capture *c, int64_t *capture_id,
                      struct sl_err *err);

/* Rewrites the counters of a capture row after its frames were read. */
int sl_db_update_capture(struct sl_db *db, int64_t capture_id, const struct sl_db_capture *c,
                         struct sl_err *err);

/* One row of frame_stat: how many frames of one kind and reason. */
int sl_db_add_frame_stat(struct sl_db *db, int64_t capture_id, const char *kind, const char *reason,
                         uint64_t frames, uint64_t first_frame, int64_t first_ts_us,
                         struct sl_err *err);

/* Where a message or problem was seen. */
struct sl_db_origin {
    int64_t capture_id;
    uint64_t frame;
    int64_t ts_us;
    const struct sl_endpoint *src; /* may be NULL */
    const struct sl_endpoint *dst;
    enum sl_transport transport;
    /* messages from HEP (RULES.md part C): capture agent id and correlation id */
    bool has_hep_agent_id;
    uint32_t hep_agent_id;
    const uint8_t *hep_correlation; /* NULL = none */
    size_t hep_correlation_len;
};

/* Inserts a parsed SIP message with its raw bytes under id msg_id (the
 * caller numbers messages 1, 2, ...); links (may be NULL) are what the
 * transaction stage concluded about it. */
int sl_db_add_message(struct sl_db *db, int64_t msg_id, const struct sl_db_origin *o,
                      const struct sl_msg *m, const struct sl_msg_links *links, const uint8_t *raw,
                      size_t raw_len, int truncated, struct sl_err *err);

/* Inserts a finished transaction and its distinct responses. */
int sl_db_add_txn(struct sl_db *db, const struct sl_txn *t, struct sl_err *err);

/* Inserts a finished dialog. */
int sl_db_add_dialog(struct sl_db *db, const struct sl_dialog *d, struct sl_err *err);

/* Inserts a finished leg (a call attempt: Call-ID + initial From tag). */
int sl_db_add_leg(struct sl_db *db, const struct sl_leg *l, struct sl_err *err);

/* Inserts a session-timer event. */
int sl_db_add_st_event(struct sl_db *db, const struct sl_st_event *e, struct sl_err *err);

/* Inserts a problem (a decode finding).  raw may be NULL; msg_id 0 = none. */
int sl_db_add_problem(struct sl_db *db, const struct sl_db_origin *o, const char *rule_id,
                      enum sl_severity sev, const char *text, const uint8_t *raw, size_t raw_len,
                      int64_t msg_id, struct sl_err *err);

/* Ends the bulk load: builds indexes, commits, and (with a path) moves the
 * file into place.  The handle stays open for queries. */
int sl_db_finish(struct sl_db *db, struct sl_err *err);

/* Closes; a database never finished is removed.  Accepts NULL. */
/* Empties every table of a temporary database (created with a NULL path),
 * finished or not, keeping the connection, the schema and the indexes, so
 * that statements prepared on it stay valid: loading then starts as in a new
 * database.  SL_OK, SL_EUSAGE (a file database) or SL_ESQL. */
int sl_db_reset(struct sl_db *db, struct sl_err *err);

void sl_db_close(struct sl_db *db);

/* The start line of a raw message: skips leading CR/LF (keep-alive bytes),
 * stops at CR/LF or after max bytes.  Returns where it starts; *n its length. */
const char *sl_db_first_line(const uint8_t *raw, size_t len, size_t max, size_t *n);

/* "ip:port" (an IPv6 address in brackets) from the ip/port columns of the
 * database into buf; "?" when ip is NULL.  Returns buf. */
const char *sl_db_ep_text(const char *ip, int port, char *buf, size_t len);

/* "info", "warning", "error". */
const char *sl_severity_name(enum sl_severity sev);

#endif /* SL_STORE_DB_H */
