#include "store/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/status.h"

/* The schema, version SL_SCHEMA_VERSION.  docs/schema.md documents every column; change both
 * together, and bump SL_SCHEMA_VERSION when a change is not purely additive. */
static const char *const schema_sql[] = {
    "CREATE TABLE capture (\n"
    "  capture_id INTEGER PRIMARY KEY,\n"
    "  path TEXT NOT NULL,\n"
    "  format TEXT NOT NULL,\n"
    "  linktype INTEGER,\n"
    "  frames INTEGER NOT NULL DEFAULT 0,\n"
    "  sip_messages INTEGER NOT NULL DEFAULT 0,\n"
    "  problems INTEGER NOT NULL DEFAULT 0,\n"
    "  other_frames INTEGER NOT NULL DEFAULT 0,\n"
    "  not_decoded_frames INTEGER NOT NULL DEFAULT 0,\n"
    "  first_ts_us INTEGER,\n"
    "  last_ts_us INTEGER,\n"
    "  complete INTEGER NOT NULL DEFAULT 1);\n",
    "CREATE TABLE frame_stat (\n"
    "  capture_id INTEGER NOT NULL REFERENCES capture,\n"
    "  kind TEXT NOT NULL,\n"
    "  reason TEXT NOT NULL,\n"
    "  frames INTEGER NOT NULL,\n"
    "  first_frame INTEGER NOT NULL,\n"
    "  first_ts_us INTEGER,\n"
    "  PRIMARY KEY (capture_id, kind, reason));\n",
    "CREATE TABLE message (\n"
    "  msg_id INTEGER PRIMARY KEY,\n"
    "  capture_id INTEGER NOT NULL REFERENCES capture,\n"
    "  frame INTEGER NOT NULL,\n"
    "  ts_us INTEGER NOT NULL,\n"
    "  src_ip TEXT, src_port INTEGER, dst_ip TEXT, dst_port INTEGER,\n"
    "  transport TEXT NOT NULL,\n"
    "  is_request INTEGER NOT NULL,\n"
    "  method TEXT, ruri TEXT, status INTEGER, reason TEXT,\n"
    "  call_id TEXT,\n"
    "  from_uri TEXT, from_tag TEXT NOT NULL DEFAULT '', from_display TEXT,\n"
    "  to_uri TEXT, to_tag TEXT NOT NULL DEFAULT '', to_display TEXT,\n"
    "  cseq_num INTEGER, cseq_method TEXT,\n"
    "  via_count INTEGER NOT NULL DEFAULT 0,\n"
    "  top_branch TEXT, top_sent_by TEXT, top_transport TEXT, top_received TEXT,\n"
    "  top_rport INTEGER,\n"
    "  max_forwards INTEGER,\n"
    "  contact_uri TEXT, contact_count INTEGER NOT NULL DEFAULT 0,\n"
    "  expires INTEGER,\n"
    "  session_expires INTEGER, se_refresher TEXT, min_se INTEGER,\n"
    "  supported TEXT, require TEXT, proxy_require TEXT,\n"
    "  retry_after INTEGER,\n"
    "  rseq INTEGER, rack_rseq INTEGER, rack_cseq INTEGER, rack_method TEXT,\n"
    "  reason_hdr TEXT, user_agent TEXT,\n"
    "  has_auth INTEGER NOT NULL DEFAULT 0,\n"
    "  content_type TEXT, content_length INTEGER, body_len INTEGER NOT NULL DEFAULT 0,\n"
    "  sdp_o_user TEXT, sdp_o_sess_id TEXT, sdp_o_version TEXT, sdp_o_addr TEXT,\n"
    "  n_headers INTEGER NOT NULL DEFAULT 0,\n"
    "  first_line TEXT NOT NULL,\n"
    "  size INTEGER NOT NULL,\n"
    "  truncated INTEGER NOT NULL DEFAULT 0,\n"
    "  txn_id INTEGER, dialog_id INTEGER, leg_id INTEGER,\n"
    "  is_retrans INTEGER NOT NULL DEFAULT 0, retrans_of INTEGER, dup_of INTEGER,\n"
    "  side TEXT CHECK (side IN ('caller', 'callee')), cseq_prev INTEGER,\n"
    "  hep_agent_id INTEGER, hep_correlation TEXT);\n",
    /* The bytes apart, written only where someone can read them
     * (sl_db_keep_detail); the rows that rules and indexes read are less than
     * half as long without them. */
    "CREATE TABLE message_raw (\n"
    "  msg_id INTEGER PRIMARY KEY,\n"
    "  raw BLOB NOT NULL);\n",
    "CREATE TABLE problem (\n"
    "  problem_id INTEGER PRIMARY KEY,\n"
    "  capture_id INTEGER NOT NULL REFERENCES capture,\n"
    "  frame INTEGER NOT NULL,\n"
    "  ts_us INTEGER,\n"
    "  src_ip TEXT, src_port INTEGER, dst_ip TEXT, dst_port INTEGER, transport TEXT,\n"
    "  rule_id TEXT NOT NULL,\n"
    "  severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error')),\n"
    "  text TEXT NOT NULL,\n"
    "  msg_id INTEGER REFERENCES message,\n"
    "  raw BLOB);\n",
    "CREATE TABLE txn (\n"
    "  txn_id INTEGER PRIMARY KEY,\n"
    "  capture_id INTEGER, kind TEXT NOT NULL, method TEXT, branch TEXT, sent_by TEXT,\n"
    "  rfc2543 INTEGER NOT NULL DEFAULT 0,\n"
    "  uac_ip TEXT, uac_port INTEGER, uas_ip TEXT, uas_port INTEGER, transport TEXT,\n"
    "  call_id TEXT, from_tag TEXT, req_to_tag TEXT, cseq_num INTEGER,\n"
    "  in_dialog INTEGER NOT NULL DEFAULT 0, dialog_id INTEGER, leg_id INTEGER, uac_side TEXT,\n"
    "  req_msg_id INTEGER, req_first_us INTEGER, req_last_us INTEGER,\n"
    "  req_copies INTEGER NOT NULL DEFAULT 1,\n"
    "  first_1xx_us INTEGER, first_final_us INTEGER, final_status INTEGER,\n"
    "  final_to_tag TEXT, final_msg_id INTEGER, ack_msg_id INTEGER, ack_us INTEGER,\n"
    "  cancel_txn_id INTEGER, cancels_txn_id INTEGER, parent_txn_id INTEGER,\n"
    "  timeout_us INTEGER, end_reason TEXT);\n",
    "CREATE TABLE txn_response (\n"
    "  txn_id INTEGER NOT NULL, status INTEGER NOT NULL, to_tag TEXT NOT NULL DEFAULT '',\n"
    "  rseq INTEGER NOT NULL DEFAULT -1, first_msg_id INTEGER, first_us INTEGER,\n"
    "  last_us INTEGER, copies INTEGER NOT NULL DEFAULT 1,\n"
    "  PRIMARY KEY (txn_id, status, to_tag, rseq)) WITHOUT ROWID;\n",
    "CREATE TABLE dialog (\n"
    "  dialog_id INTEGER PRIMARY KEY,\n"
    "  call_id TEXT, caller_tag TEXT, callee_tag TEXT, leg_id INTEGER,\n"
    "  created_txn_id INTEGER, method TEXT, partial INTEGER NOT NULL DEFAULT 0,\n"
    "  state TEXT, early_us INTEGER, confirmed_us INTEGER, terminated_us INTEGER,\n"
    "  term_cause TEXT, bye_side TEXT, bye_msg_id INTEGER,\n"
    "  caller_uri TEXT, callee_uri TEXT,\n"
    "  caller_ip TEXT, caller_port INTEGER, callee_ip TEXT, callee_port INTEGER,\n"
    "  last_cseq_caller INTEGER, last_cseq_callee INTEGER,\n"
    "  se_interval INTEGER, se_refresher TEXT, se_last_refresh_us INTEGER,\n"
    "  se_expiry_us INTEGER);\n",
    "CREATE TABLE leg (\n"
    "  leg_id INTEGER PRIMARY KEY,\n"
    "  call_id TEXT, from_tag TEXT, method TEXT, from_uri TEXT, to_uri TEXT, ruri TEXT,\n"
    "  caller_ip TEXT, caller_port INTEGER, callee_ip TEXT, callee_port INTEGER,\n"
    "  start_us INTEGER, answer_us INTEGER, end_us INTEGER, outcome TEXT,\n"
    "  final_status INTEGER, final_reason TEXT, ended_by TEXT, end_how TEXT,\n"
    "  reason_hdr TEXT, q850_cause INTEGER, q850_text TEXT,\n"
    "  n_dialogs INTEGER NOT NULL DEFAULT 0, n_messages INTEGER NOT NULL DEFAULT 0);\n",
    "CREATE TABLE session_timer (\n"
    "  dialog_id INTEGER NOT NULL, txn_id INTEGER, msg_id INTEGER, ts_us INTEGER,\n"
    "  kind TEXT NOT NULL, interval_s INTEGER, refresher TEXT, min_se INTEGER,\n"
    "  refresh_due_us INTEGER, bye_due_us INTEGER, expiry_us INTEGER);\n",
};

/* Built after the bulk load: cheaper than maintaining them row by row.  Each
 * index on message reads the whole table (raw bytes included) once, which is
 * most of the cost of sl_db_finish: only two.  Who uses what (docs/schema.md):
 *   message_call  flow and the text report (a call's messages in time order),
 *                 rules that look at the few messages of one call
 *   message_txn   rules: the messages of a transaction, their dialogs and copies
 *   txn_dialog    rules: the transactions of a dialog, per side in time order
 *   txn_call      rules: the transactions of a Call-ID
 * txn_response needs none: its primary key starts with txn_id. */
static const char msg_index_sql[] =
        "CREATE INDEX IF NOT EXISTS message_call ON message(call_id, ts_us);\n"
        "CREATE INDEX IF NOT EXISTS message_txn ON message(txn_id, dialog_id, is_retrans, dup_of, "
        "is_request, "
        "status, cseq_num, ts_us, side, method, cseq_method, session_expires, min_se);\n";
static const char index_sql[] =
        "CREATE INDEX IF NOT EXISTS problem_capture ON problem(capture_id, frame);\n"
        "CREATE INDEX IF NOT EXISTS txn_dialog ON txn(dialog_id, uac_side, req_first_us, "
        "req_msg_id, cseq_num, "
        "kind, method, in_dialog);\n"
        "CREATE INDEX IF NOT EXISTS txn_call ON txn(call_id, branch, kind);\n"
        "CREATE INDEX IF NOT EXISTS txn_final ON txn(final_status);\n"
        "CREATE INDEX IF NOT EXISTS dialog_call ON dialog(call_id, caller_tag, callee_tag);\n"
        "CREATE INDEX IF NOT EXISTS session_timer_dialog ON session_timer(dialog_id, ts_us);\n";

enum stmt_id {
    ST_CAPTURE,
    ST_CAPTURE_UPDATE,
    ST_FRAME_STAT,
    ST_MESSAGE,
    ST_MESSAGE_NEXT, /* ST_MESSAGE without msg_id: the next rowid (sl_db_add_message) */
    ST_MESSAGE_RAW,
    ST_PROBLEM,
    ST_TXN,
    ST_TXN_RESPONSE, /* one row, then two and three rows: keep these three in order */
    ST_TXN_RESPONSE2,
    ST_TXN_RESPONSE3,
    ST_DIALOG,
    ST_LEG,
    ST_SESSION_TIMER,
    ST_COUNT
};

/* The columns of message after msg_id, and their parameters ?2..?68. */
#define MESSAGE_COLUMNS                                                            \
    "capture_id, frame, ts_us, src_ip, src_port, "                                 \
    "dst_ip, dst_port, transport, is_request, method, ruri, status, reason, "      \
    "call_id, from_uri, from_tag, from_display, to_uri, to_tag, to_display, "      \
    "cseq_num, cseq_method, via_count, top_branch, top_sent_by, top_transport, "   \
    "top_received, top_rport, max_forwards, contact_uri, contact_count, expires, " \
    "session_expires, se_refresher, min_se, supported, require, proxy_require, "   \
    "retry_after, "                                                                \
    "rseq, rack_rseq, rack_cseq, rack_method, reason_hdr, user_agent, has_auth, "  \
    "content_type, content_length, body_len, sdp_o_user, sdp_o_sess_id, "          \
    "sdp_o_version, sdp_o_addr, n_headers, first_line, size, truncated, txn_id, "  \
    "dialog_id, leg_id, is_retrans, retrans_of, dup_of, side, cseq_prev, "         \
    "hep_agent_id, hep_correlation"
#define MESSAGE_VALUES                                                            \
    "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "              \
    "?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, " \
    "?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43, ?44, ?45, " \
    "?46, ?47, ?48, ?49, ?50, ?51, ?52, ?53, ?54, ?55, ?56, ?57, ?58, ?59, ?60, " \
    "?61, ?62, ?63, ?64, ?65, ?66, ?67, ?68"

static const char *const stmt_sql[ST_COUNT] = {
    [ST_CAPTURE] = "INSERT INTO capture (path, format, linktype) VALUES (?, ?, ?)",
    [ST_CAPTURE_UPDATE] = "UPDATE capture SET frames = ?, sip_messages = ?, problems = ?, "
                          "other_frames = ?, not_decoded_frames = ?, first_ts_us = ?, "
                          "last_ts_us = ?, complete = ? WHERE capture_id = ?",
    [ST_FRAME_STAT] = "INSERT INTO frame_stat VALUES (?, ?, ?, ?, ?, ?)",
    [ST_MESSAGE] =
            "INSERT INTO message (msg_id, " MESSAGE_COLUMNS ") VALUES (?1, " MESSAGE_VALUES ")",
    /* ?1 unused: the same parameter numbers as ST_MESSAGE */
    [ST_MESSAGE_NEXT] = "INSERT INTO message (" MESSAGE_COLUMNS ") VALUES (" MESSAGE_VALUES ")",
    [ST_MESSAGE_RAW] = "INSERT INTO message_raw VALUES (?, ?)",
    [ST_PROBLEM] = "INSERT INTO problem VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_TXN] = "INSERT INTO txn VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
               "?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, "
               "?30, ?31, ?32, ?33, ?34, ?35, ?36)",
    [ST_TXN_RESPONSE] = "INSERT OR IGNORE INTO txn_response VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_TXN_RESPONSE2] = "INSERT OR IGNORE INTO txn_response VALUES (?, ?, ?, ?, ?, ?, ?, ?), "
                         "(?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_TXN_RESPONSE3] = "INSERT OR IGNORE INTO txn_response VALUES (?, ?, ?, ?, ?, ?, ?, ?), "
                         "(?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_DIALOG] = "INSERT INTO dialog VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                  "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)",
    [ST_LEG] = "INSERT INTO leg VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
               "?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
    [ST_SESSION_TIMER] = "INSERT INTO session_timer VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
};

struct sl_db {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    char *path;     /* final path, or NULL for a temporary database */
    char *tmp_path; /* path + ".tmp" while loading */
    int in_txn;
    int finished;
    /* A second connection for the rules stage (sl_db_aux): opened when the
     * database is created for a temporary one (a file that is unlinked at
     * once, so that nothing is left behind), else when first asked for. */
    sqlite3 *aux;
    int aux_tried;
    bool keep_detail; /* fill message_raw and the detail columns */
    /* A temporary database keeps tables message and message_raw in a file
     * of their own ("msgs", attached to db and aux), written through mdb:
     * their indexes, most of the work of sl_db_finish, are then built on
     * another thread while this one closes what is open and indexes the
     * rest (sl_db_messages_done). */
    sqlite3 *mdb;
    int m_in_txn;
    pthread_t ix_thread;
    bool ix_running; /* ix_thread runs msg_index(): join it before using mdb */
    int ix_rc;
    struct sl_err ix_err;
    char ep_buf[2][64];         /* endpoint texts bound SQLITE_STATIC until the step */
    uint64_t null[ST_COUNT][2]; /* parameters bound NULL, per statement (struct mbind) */
    int64_t max_msg_id;         /* the highest msg_id in table message */
};

static int sql_fail(struct sl_db *db, struct sl_err *err, const char *what)
{
    return sl_fail(err, SL_ESQL, "%s: %s", what, db->db ? sqlite3_errmsg(db->db) : "no handle");
}

static int exec_on(sqlite3 *h, const char *sql, struct sl_err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sl_fail(err, SL_ESQL, "%s", msg ? msg : sqlite3_errmsg(h));
        sqlite3_free(msg);
        return SL_ESQL;
    }
    return SL_OK;
}

static int exec(struct sl_db *db, const char *sql, struct sl_err *err)
{
    return exec_on(db->db, sql, err);
}

/* The tables of the messages' own file in a split database. */
static bool message_table(const char *create_sql)
{
    return strncmp(create_sql, "CREATE TABLE message ", 21) == 0 ||
           strncmp(create_sql, "CREATE TABLE message_raw ", 25) == 0;
}

static bool message_stmt(int i)
{
    return i == ST_MESSAGE || i == ST_MESSAGE_NEXT || i == ST_MESSAGE_RAW;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static int prepare_all(struct sl_db *db, struct sl_err *err)
{
    int i;

    /* fresh statements: no parameter is known to be NULL */
    memset(db->null, 0, sizeof(db->null));
    for (i = 0; i < ST_COUNT; i++) {
        sqlite3 *h = db->mdb != NULL && message_stmt(i) ? db->mdb : db->db;

        if (sqlite3_prepare_v3(h, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i], NULL) !=
            SQLITE_OK)
            return sl_fail(err, SL_ESQL, "prepare: %s", sqlite3_errmsg(h));
    }
    return SL_OK;
}

/*
 * Each connection is used by one thread only, so it is opened without its
 * mutex (SQLITE_OPEN_NOMUTEX: a bind or column call would otherwise lock and
 * unlock it, ~180 times per stored message), and SQLite's memory statistics,
 * which take a global mutex on every allocation, are turned off before the
 * library initializes (a no-op, SQLITE_MISUSE, when it already has).
 */
#define OPEN_FLAGS SQLITE_OPEN_NOMUTEX

static void sqlite_setup(void)
{
    static int done;

    if (!done) {
        done = 1;
        (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    }
}

/* A new file of the temporary directory, for a temporary database: name. */
static int tmp_file(char *name, size_t size, struct sl_err *err)
{
    const char *dir = getenv("TMPDIR");
    int fd;

    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    if (snprintf(name, size, "%s/siplint-XXXXXX", dir) >= (int)size)
        return sl_fail(err, SL_EIO, "TMPDIR is too long");
    if ((fd = mkstemp(name)) < 0)
        return sl_fail(err, SL_EIO, "%s: cannot create a temporary database: %s", name,
                       strerror(errno));
    (void)close(fd);
    return SL_OK;
}

/* ATTACH the messages' file to h as "msgs", with its own cache. */
static int attach_msgs(sqlite3 *h, const char *name, int cache_kib, struct sl_err *err)
{
    char *sql = sqlite3_mprintf("ATTACH %Q AS msgs; PRAGMA msgs.cache_size = -%d", name, cache_kib);
    int rc;

    if (sql == NULL)
        return sl_fail(err, SL_ENOMEM, "out of memory");
    rc = exec_on(h, sql, err);
    sqlite3_free(sql);
    return rc;
}

/* Nothing to protect until the load is complete: the file is renamed into
 * place only then, so no journal and no fsync while loading.  16 KiB pages:
 * 4% fewer instructions per stored message and per index entry than 4 KiB
 * (callgrind), the rules no slower. */
static int load_pragmas(sqlite3 *h, int cache_kib, struct sl_err *err)
{
    char pragma[192];

    if (snprintf(pragma, sizeof(pragma),
                 "PRAGMA page_size = 16384; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                 "PRAGMA cache_size = -%d; PRAGMA user_version = %d;",
                 cache_kib, SL_SCHEMA_VERSION) < 0)
        return sl_fail(err, SL_EINTERNAL, "snprintf");
    return exec_on(h, pragma, err);
}

/* Page cache sizes, KiB: one file of 64 MiB, or two of 32 while loading
 * (mdb's is freed once its indexes are built) and for the rules. */
#define CACHE_KIB       65536
#define CACHE_SPLIT_KIB 32768

int sl_db_create(struct sl_db **out, const char *path, struct sl_err *err)
{
    struct sl_db *db;
    const char *open_path = "";
    size_t i;
    int rc;
    char tmp_name[4096], msg_name[4096];

    *out = NULL;
    db = calloc(1, sizeof(*db));
    if (db == NULL)
        return sl_fail(err, SL_ENOMEM, "out of memory");
    tmp_name[0] = msg_name[0] = '\0';
    if (path != NULL) {
        size_t n = strlen(path);

        db->path = dup_str(path);
        db->tmp_path = malloc(n + 5);
        if (db->path == NULL || db->tmp_path == NULL) {
            rc = sl_fail(err, SL_ENOMEM, "out of memory");
            goto fail;
        }
        memcpy(db->tmp_path, path, n);
        memcpy(db->tmp_path + n, ".tmp", 5);
        if (unlink(db->tmp_path) != 0 && errno != ENOENT) {
            rc = sl_fail(err, SL_EIO, "%s: %s", db->tmp_path, strerror(errno));
            goto fail;
        }
        open_path = db->tmp_path;
        db->keep_detail = true;
    }
    sqlite_setup();
    if (path == NULL) {
        /* A temporary database is two files of the temporary directory
         * (the messages apart), unlinked as soon as every connection has
         * them open (SQLite's own temporary database, "", could have only
         * one connection). */
        if ((rc = tmp_file(tmp_name, sizeof(tmp_name), err)) != SL_OK ||
            (rc = tmp_file(msg_name, sizeof(msg_name), err)) != SL_OK)
            goto fail;
        open_path = tmp_name;
    }
    if (sqlite3_open_v2(open_path, &db->db, OPEN_FLAGS | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK ||
        (path == NULL && (sqlite3_open_v2(open_path, &db->aux, OPEN_FLAGS | SQLITE_OPEN_READWRITE,
                                          NULL) != SQLITE_OK ||
                          sqlite3_open_v2(msg_name, &db->mdb, OPEN_FLAGS | SQLITE_OPEN_READWRITE,
                                          NULL) != SQLITE_OK))) {
        rc = sl_fail(err, SL_ESQL, "%s: cannot create database: %s",
                     path != NULL ? path : "(temporary)",
                     db->db ? sqlite3_errmsg(db->db) : "out of memory");
        goto fail;
    }
    if (path == NULL) {
        /* the messages' tables exist before db and aux read that file's
         * schema (ATTACH does); its indexes come later, and a statement of
         * theirs that reads the file sees the new schema (SQLITE_SCHEMA,
         * prepared again) */
        if ((rc = load_pragmas(db->mdb, CACHE_SPLIT_KIB, err)) != SL_OK)
            goto fail;
        for (i = 0; i < sizeof(schema_sql) / sizeof(schema_sql[0]); i++) {
            if (message_table(schema_sql[i]) &&
                (rc = exec_on(db->mdb, schema_sql[i], err)) != SL_OK)
                goto fail;
        }
        if ((rc = attach_msgs(db->db, msg_name, CACHE_SPLIT_KIB, err)) != SL_OK ||
            (rc = attach_msgs(db->aux, msg_name, CACHE_SPLIT_KIB / 2, err)) != SL_OK)
            goto fail;
        (void)unlink(tmp_name);
        (void)unlink(msg_name);
        tmp_name[0] = msg_name[0] = '\0';
    }
    if ((rc = load_pragmas(db->db, db->mdb != NULL ? CACHE_SPLIT_KIB : CACHE_KIB, err)) != SL_OK)
        goto fail;
    if ((rc = exec(db, "BEGIN", err)) != SL_OK)
        goto fail;
    db->in_txn = 1;
    if (db->mdb != NULL) {
        if ((rc = exec_on(db->mdb, "BEGIN", err)) != SL_OK)
            goto fail;
        db->m_in_txn = 1;
    }
    for (i = 0; i < sizeof(schema_sql) / sizeof(schema_sql[0]); i++) {
        if (db->mdb != NULL && message_table(schema_sql[i]))
            continue; /* made above */
        if ((rc = exec(db, schema_sql[i], err)) != SL_OK)
            goto fail;
    }
    if ((rc = prepare_all(db, err)) != SL_OK)
        goto fail;
    *out = db;
    return SL_OK;
fail:
    if (tmp_name[0] != '\0')
        (void)unlink(tmp_name);
    if (msg_name[0] != '\0')
        (void)unlink(msg_name);
    sl_db_close(db);
    return rc;
}

int sl_db_open_existing(struct sl_db **out, const char *path, struct sl_err *err)
{
    struct sl_db *db;
    sqlite3_stmt *st = NULL;
    int version = -1;
    int rc;

    *out = NULL;
    if (path == NULL)
        return sl_fail(err, SL_EUSAGE, "no database path");
    if (access(path, R_OK) != 0)
        return sl_fail(err, SL_EINPUT, "%s: %s", path, strerror(errno));
    db = calloc(1, sizeof(*db));
    if (db == NULL)
        return sl_fail(err, SL_ENOMEM, "out of memory");
    db->finished = 1;
    if ((db->path = dup_str(path)) == NULL) {
        rc = sl_fail(err, SL_ENOMEM, "out of memory");
        goto fail;
    }
    sqlite_setup();
    if (sqlite3_open_v2(path, &db->db, OPEN_FLAGS | SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = sl_fail(err, SL_EINPUT, "%s: cannot open database: %s", path,
                     db->db ? sqlite3_errmsg(db->db) : "out of memory");
        goto fail;
    }
    /* the pages the rules and reports read (SQLite's default is 2 MB), as
     * when the database is made by this run */
    (void)sqlite3_exec(db->db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(db->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version != SL_SCHEMA_VERSION) {
        rc = sl_fail(err, SL_EINPUT,
                     "%s: not a siplint database of schema %d (PRAGMA user_version = %d)", path,
                     SL_SCHEMA_VERSION, version);
        goto fail;
    }
    *out = db;
    return SL_OK;
fail:
    sl_db_close(db);
    return rc;
}

void sl_db_keep_detail(struct sl_db *db, bool keep)
{
    db->keep_detail = keep;
}

sqlite3 *sl_db_handle(struct sl_db *db)
{
    return db->db;
}

sqlite3 *sl_db_aux(struct sl_db *db)
{
    const char *path = db->path;

    if (!db->finished)
        return NULL;
    if (!db->aux_tried) {
        db->aux_tried = 1;
        if (db->aux == NULL && path != NULL &&
            sqlite3_open_v2(path, &db->aux, OPEN_FLAGS | SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
            sqlite3_close(db->aux);
            db->aux = NULL;
        }
        /* its TEMP tables and the pages its rules read (the default is 2 MB);
         * in a split database, as much again for the messages' file */
        if (db->aux != NULL)
            (void)sqlite3_exec(db->aux,
                               db->mdb != NULL ? "PRAGMA cache_size = -16384"
                                               : "PRAGMA cache_size = -32768",
                               NULL, NULL, NULL);
    }
    return db->aux;
}

const char *sl_severity_name(enum sl_severity sev)
{
    switch (sev) {
    case SL_SEV_INFO:
        return "info";
    case SL_SEV_WARNING:
        return "warning";
    case SL_SEV_ERROR:
        return "error";
    case SL_SEV_NEVER:
        break;
    }
    return "never";
}

/* Bind helpers: NULL / negative "absent" values become SQL NULL.  Text and
 * blobs are bound SQLITE_STATIC: every statement is stepped and reset before
 * the caller's strings go away, so SQLite need not copy them. */
static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_opt_int(sqlite3_stmt *st, int i, int64_t v)
{
    if (v >= 0)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* A failed step, named by the statement's own connection (db's, or mdb's
 * for the messages). */
static int step_fail(sqlite3_stmt *st, struct sl_err *err, const char *what)
{
    return sl_fail(err, SL_ESQL, "%s: %s", what, sqlite3_errmsg(sqlite3_db_handle(st)));
}

static int step_done(sqlite3_stmt *st, struct sl_err *err, const char *what)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SL_OK : step_fail(st, err, what);
}

/* The same for a statement whose every parameter is bound on each use (the
 * per-message inserts): the bindings are not cleared, they are all replaced. */
static int step_all_bound(sqlite3_stmt *st, struct sl_err *err, const char *what)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SL_OK : step_fail(st, err, what);
}

int sl_db_add_capture(struct sl_db *db, const struct sl_db_capture *c, int64_t *capture_id,
                      struct sl_err *err)
{
    sqlite3_stmt *st = db->st[ST_CAPTURE];
    int rc;

    bind_text(st, 1, c->path);
    bind_text(st, 2, c->format);
    sqlite3_bind_int(st, 3, c->linktype);
    if ((rc = step_done(st, err, "insert capture")) != SL_OK)
        return rc;
    *capture_id = sqlite3_last_insert_rowid(db->db);
    return SL_OK;
}

int sl_db_update_capture(struct sl_db *db, int64_t capture_id, const struct sl_db_capture *c,
                         struct sl_err *err)
{
    sqlite3_stmt *st = db->st[ST_CAPTURE_UPDATE];

    sqlite3_bind_int64(st, 1, (sqlite3_int64)c->frames);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)c->sip_messages);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)c->problems);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->other_frames);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)c->not_decoded_frames);
    if (c->frames > 0) {
        sqlite3_bind_int64(st, 6, c->first_ts_us);
        sqlite3_bind_int64(st, 7, c->last_ts_us);
    }
    sqlite3_bind_int(st, 8, c->complete);
    sqlite3_bind_int64(st, 9, capture_id);
    return step_done(st, err, "update capture");
}

int sl_db_add_frame_stat(struct sl_db *db, int64_t capture_id, const char *kind, const char *reason,
                         uint64_t frames, uint64_t first_frame, int64_t first_ts_us,
                         struct sl_err *err)
{
    sqlite3_stmt *st = db->st[ST_FRAME_STAT];

    sqlite3_bind_int64(st, 1, capture_id);
    bind_text(st, 2, kind);
    bind_text(st, 3, reason);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)frames);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)first_frame);
    sqlite3_bind_int64(st, 6, first_ts_us);
    return step_done(st, err, "insert frame_stat");
}

/* Binds an endpoint as text address (no port, no brackets) at column i and
 * its port at i + 1; NULL for both when ep is NULL or unknown.  The text is
 * formatted into buf, which must live until the statement is stepped. */
static void bind_ep(sqlite3_stmt *st, int i, const struct sl_endpoint *ep, char buf[64])
{
    if (ep == NULL || ep->family == 0) {
        sqlite3_bind_null(st, i);
        sqlite3_bind_null(st, i + 1);
        return;
    }
    sqlite3_bind_text(st, i, sl_endpoint_addr(ep, buf, 64), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, i + 1, ep->port);
}

/* Binds src/dst as text address + port at columns i..i+3. */
static void bind_endpoints(struct sl_db *db, sqlite3_stmt *st, int i, const struct sl_db_origin *o)
{
    bind_ep(st, i, o->src, db->ep_buf[0]);
    bind_ep(st, i + 2, o->dst, db->ep_buf[1]);
}

static void bind_id(sqlite3_stmt *st, int i, int64_t id)
{
    if (id > 0)
        sqlite3_bind_int64(st, i, id);
    else
        sqlite3_bind_null(st, i);
}

static void bind_side(sqlite3_stmt *st, int i, enum sl_side side)
{
    bind_text(st, i, sl_side_name(side));
}

const char *sl_db_first_line(const uint8_t *raw, size_t len, size_t max, size_t *n)
{
    size_t skip = 0, k = 0;

    while (skip < len && (raw[skip] == '\r' || raw[skip] == '\n'))
        skip++;
    while (skip + k < len && k < max && raw[skip + k] != '\r' && raw[skip + k] != '\n')
        k++;
    *n = k;
    return (const char *)raw + skip;
}

const char *sl_db_ep_text(const char *ip, int port, char *buf, size_t len)
{
    if (ip == NULL)
        (void)snprintf(buf, len, "?");
    else
        (void)snprintf(buf, len, strchr(ip, ':') != NULL ? "[%s]:%d" : "%s:%d", ip, port);
    return buf;
}

/* The start line of raw, without CR/LF, cut at 1024 bytes. */
static void bind_first_line(sqlite3_stmt *st, int i, const uint8_t *raw, size_t len)
{
    size_t n;
    const char *p = sl_db_first_line(raw, len, 1024, &n);

    sqlite3_bind_text(st, i, p, (int)n, SQLITE_STATIC);
}

/*
 * The message INSERT binds 68 parameters per message, a third of them NULL,
 * most of those NULL in the message before too.  A binding survives
 * sqlite3_reset, so a parameter already bound NULL is left alone
 * (sqlite3_bind_null costs ~70 instructions): db->null[statement] has bit i
 * set while parameter i is NULL.  A parameter that can be NULL is bound only
 * through these, and such a statement is never cleared (step_all_bound): the
 * rows of message, txn, dialog and leg.
 */
struct mbind {
    sqlite3_stmt *st;
    uint64_t *null;
};

static void m_null(struct mbind *b, int i)
{
    uint64_t bit = UINT64_C(1) << (i & 63);

    if ((b->null[i >> 6] & bit) == 0) {
        sqlite3_bind_null(b->st, i);
        b->null[i >> 6] |= bit;
    }
}

static void m_set(struct mbind *b, int i)
{
    b->null[i >> 6] &= ~(UINT64_C(1) << (i & 63));
}

static void m_text(struct mbind *b, int i, const char *s)
{
    if (s == NULL) {
        m_null(b, i);
        return;
    }
    m_set(b, i);
    sqlite3_bind_text(b->st, i, s, -1, SQLITE_STATIC);
}

/* v below min is NULL (absent numbers are -1, absent ids 0). */
static void m_int(struct mbind *b, int i, int64_t v, int64_t min)
{
    if (v < min) {
        m_null(b, i);
        return;
    }
    m_set(b, i);
    sqlite3_bind_int64(b->st, i, v);
}

/* bind_ep through the mask. */
static void m_ep(struct mbind *b, int i, const struct sl_endpoint *ep, char buf[64])
{
    if (ep == NULL || ep->family == 0) {
        m_null(b, i);
        m_null(b, i + 1);
        return;
    }
    m_set(b, i);
    m_set(b, i + 1);
    sqlite3_bind_text(b->st, i, sl_endpoint_addr(ep, buf, 64), -1, SQLITE_STATIC);
    sqlite3_bind_int(b->st, i + 1, ep->port);
}

int sl_db_add_message(struct sl_db *db, int64_t msg_id, const struct sl_db_origin *o,
                      const struct sl_msg *m, const struct sl_msg_links *links, const uint8_t *raw,
                      size_t raw_len, int truncated, struct sl_err *err)
{
    /* The next msg_id is left to SQLite (NULL rowid: it appends after the
     * last row), which saves checking that the id is new: a search from the
     * root of the table, ~900 instructions. */
    bool next = msg_id == db->max_msg_id + 1;
    sqlite3_stmt *st = db->st[next ? ST_MESSAGE_NEXT : ST_MESSAGE];
    struct mbind b = { st, db->null[next ? ST_MESSAGE_NEXT : ST_MESSAGE] };
    int i = 1, rc;
    size_t skip = 0;
    /* the detail columns (docs/schema.md): only where someone can read them */
    bool all = db->keep_detail;

    if (db->mdb != NULL && !db->m_in_txn)
        return sl_fail(err, SL_EINTERNAL, "message %lld after sl_db_messages_done",
                       (long long)msg_id);

    /* CRLF keep-alive bytes before the start line are not part of the message. */
    while (skip < raw_len && (raw[skip] == '\r' || raw[skip] == '\n'))
        skip++;
    if (!next)
        sqlite3_bind_int64(st, i, msg_id);
    i++;
    sqlite3_bind_int64(st, i++, o->capture_id);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)o->frame);
    sqlite3_bind_int64(st, i++, o->ts_us);
    m_ep(&b, i, o->src, db->ep_buf[0]);
    m_ep(&b, i + 2, o->dst, db->ep_buf[1]);
    i += 4;
    m_text(&b, i++, sl_transport_name(o->transport));
    sqlite3_bind_int(st, i++, m->is_request ? 1 : 0);
    m_text(&b, i++, m->method);
    m_text(&b, i++, m->ruri);
    m_int(&b, i++, m->status, 0);
    m_text(&b, i++, m->reason);
    m_text(&b, i++, m->call_id);
    m_text(&b, i++, m->from_uri);
    m_text(&b, i++, m->from_tag ? m->from_tag : "");
    m_text(&b, i++, all ? m->from_display : NULL);
    m_text(&b, i++, m->to_uri);
    m_text(&b, i++, m->to_tag ? m->to_tag : "");
    m_text(&b, i++, all ? m->to_display : NULL);
    m_int(&b, i++, m->cseq_num, 0);
    m_text(&b, i++, m->cseq_method);
    sqlite3_bind_int(st, i++, m->via_count);
    m_text(&b, i++, m->via_branch);
    m_text(&b, i++, m->via_sent_by);
    m_text(&b, i++, all ? m->via_transport : NULL);
    m_text(&b, i++, all ? m->via_received : NULL);
    m_int(&b, i++, all ? m->via_rport : -1, 0);
    m_int(&b, i++, all ? m->max_forwards : -1, 0);
    m_text(&b, i++, m->contact);
    sqlite3_bind_int(st, i++, all ? m->contact_count : 0);
    m_int(&b, i++, m->expires, 0);
    m_int(&b, i++, m->session_expires, 0);
    m_text(&b, i++, m->se_refresher);
    m_int(&b, i++, m->min_se, 0);
    m_text(&b, i++, m->supported);
    m_text(&b, i++, m->require);
    m_text(&b, i++, m->proxy_require);
    m_int(&b, i++, m->retry_after, 0);
    m_int(&b, i++, all ? m->rseq : -1, 0);
    m_int(&b, i++, all ? m->rack_rseq : -1, 0);
    m_int(&b, i++, all ? m->rack_cseq : -1, 0);
    m_text(&b, i++, all ? m->rack_method : NULL);
    m_text(&b, i++, m->reason_hdr);
    m_text(&b, i++, all ? m->user_agent : NULL);
    sqlite3_bind_int(st, i++, m->has_auth ? 1 : 0);
    m_text(&b, i++, all ? m->content_type : NULL);
    m_int(&b, i++, all ? m->content_length : -1, 0);
    sqlite3_bind_int64(st, i++, all ? (sqlite3_int64)m->body_len : 0);
    m_text(&b, i++, all ? m->sdp_o_user : NULL);
    m_text(&b, i++, m->sdp_o_sess_id);
    m_text(&b, i++, m->sdp_o_version);
    m_text(&b, i++, all ? m->sdp_o_addr : NULL);
    sqlite3_bind_int64(st, i++, all ? (sqlite3_int64)m->n_headers : 0);
    bind_first_line(st, i++, raw + skip, raw_len - skip);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)(raw_len - skip));
    sqlite3_bind_int(st, i++, truncated ? 1 : 0);
    if (links != NULL) {
        m_int(&b, i++, links->txn_id, 1);
        m_int(&b, i++, links->dialog_id, 1);
        m_int(&b, i++, links->leg_id, 1);
        sqlite3_bind_int(st, i++, links->is_retrans ? 1 : 0);
        m_int(&b, i++, links->retrans_of, 1);
        m_int(&b, i++, links->dup_of, 1);
        m_text(&b, i++, sl_side_name(links->side));
        m_int(&b, i++, links->cseq_prev, 0);
    } else {
        m_null(&b, i++);
        m_null(&b, i++);
        m_null(&b, i++);
        sqlite3_bind_int(st, i++, 0);
        m_null(&b, i++);
        m_null(&b, i++);
        m_null(&b, i++);
        m_null(&b, i++);
    }
    m_int(&b, i++, all && o->has_hep_agent_id ? (int64_t)o->hep_agent_id : -1, 0);
    if (all && o->hep_correlation != NULL) {
        m_set(&b, i);
        sqlite3_bind_text(st, i++, (const char *)o->hep_correlation, (int)o->hep_correlation_len,
                          SQLITE_STATIC);
    } else {
        m_null(&b, i++);
    }
    if ((rc = step_all_bound(st, err, "insert message")) != SL_OK)
        return rc;
    if (next && sqlite3_last_insert_rowid(sqlite3_db_handle(st)) != msg_id)
        return sl_fail(err, SL_EINTERNAL, "message %lld stored as %lld", (long long)msg_id,
                       (long long)sqlite3_last_insert_rowid(sqlite3_db_handle(st)));
    if (msg_id > db->max_msg_id)
        db->max_msg_id = msg_id;
    if (!all)
        return SL_OK;
    st = db->st[ST_MESSAGE_RAW];
    sqlite3_bind_int64(st, 1, msg_id);
    sqlite3_bind_blob(st, 2, raw + skip, (int)(raw_len - skip), SQLITE_STATIC);
    return step_all_bound(st, err, "insert message_raw");
}

int sl_db_add_txn(struct sl_db *db, const struct sl_txn *t, struct sl_err *err)
{
    sqlite3_stmt *st = db->st[ST_TXN];
    struct mbind b = { st, db->null[ST_TXN] };
    int i = 1, rc;
    size_t k, n, j;

    sqlite3_bind_int64(st, i++, t->id);
    m_int(&b, i++, t->capture_id, 1);
    m_text(&b, i++, sl_txn_kind_name(t->kind));
    m_text(&b, i++, t->method);
    m_text(&b, i++, t->branch);
    m_text(&b, i++, t->sent_by);
    sqlite3_bind_int(st, i++, t->rfc2543 ? 1 : 0);
    m_ep(&b, i, &t->uac, db->ep_buf[0]);
    m_ep(&b, i + 2, &t->uas, db->ep_buf[1]);
    i += 4;
    m_text(&b, i++, sl_transport_name(t->transport));
    m_text(&b, i++, t->call_id);
    m_text(&b, i++, t->from_tag);
    m_text(&b, i++, t->req_to_tag);
    m_int(&b, i++, t->cseq_num, 0);
    sqlite3_bind_int(st, i++, t->in_dialog ? 1 : 0);
    m_int(&b, i++, t->dialog_id, 1);
    m_int(&b, i++, t->leg_id, 1);
    m_text(&b, i++, sl_side_name(t->uac_side));
    m_int(&b, i++, t->req_msg_id, 1);
    sqlite3_bind_int64(st, i++, t->req_first_us);
    sqlite3_bind_int64(st, i++, t->req_last_us);
    sqlite3_bind_int(st, i++, t->req_copies);
    m_int(&b, i++, t->first_1xx_us, 0);
    m_int(&b, i++, t->first_final_us, 0);
    m_int(&b, i++, t->final_status, 0);
    m_text(&b, i++, t->final_to_tag);
    m_int(&b, i++, t->final_msg_id, 1);
    m_int(&b, i++, t->ack_msg_id, 1);
    if (t->ack_msg_id > 0) {
        m_set(&b, i);
        sqlite3_bind_int64(st, i, t->ack_us);
    } else {
        m_null(&b, i);
    }
    i++;
    m_int(&b, i++, t->cancel_txn_id, 1);
    m_int(&b, i++, t->cancels_txn_id, 1);
    m_int(&b, i++, t->parent_txn_id, 1);
    m_int(&b, i++, t->timeout_us, 0);
    m_text(&b, i++, t->end_reason);
    if ((rc = step_all_bound(st, err, "insert txn")) != SL_OK)
        return rc;
    /* Up to three responses per statement: a statement run costs ~3k
     * instructions before its first row (most transactions have two or three). */
    for (k = 0; k < t->n_responses; k += n) {
        n = t->n_responses - k < 3 ? t->n_responses - k : 3;
        st = db->st[ST_TXN_RESPONSE + n - 1];
        for (j = 0; j < n; j++) {
            const struct sl_txn_response *r = &t->responses[k + j];
            int c = (int)j * 8;

            sqlite3_bind_int64(st, c + 1, t->id);
            sqlite3_bind_int(st, c + 2, r->status);
            bind_text(st, c + 3, r->to_tag ? r->to_tag : "");
            sqlite3_bind_int64(st, c + 4, r->rseq);
            bind_id(st, c + 5, r->first_msg_id);
            sqlite3_bind_int64(st, c + 6, r->first_us);
            sqlite3_bind_int64(st, c + 7, r->last_us);
            sqlite3_bind_int(st, c + 8, r->copies);
        }
        if ((rc = step_all_bound(st, err, "insert txn_response")) != SL_OK)
            return rc;
    }
    return SL_OK;
}

static const char *dialog_state_name(enum sl_dialog_state st)
{
    switch (st) {
    case SL_DLG_EARLY:
        return "early";
    case SL_DLG_CONFIRMED:
        return "confirmed";
    case SL_DLG_TERMINATED:
        return "terminated";
    }
    return NULL;
}

int sl_db_add_dialog(struct sl_db *db, const struct sl_dialog *d, struct sl_err *err)
{
    sqlite3_stmt *st = db->st[ST_DIALOG];
    struct mbind b = { st, db->null[ST_DIALOG] };
    int i = 1;

    sqlite3_bind_int64(st, i++, d->id);
    m_text(&b, i++, d->call_id);
    m_text(&b, i++, d->caller_tag);
    m_text(&b, i++, d->callee_tag);
    m_int(&b, i++, d->leg_id, 1);
    m_int(&b, i++, d->created_txn_id, 1);
    m_text(&b, i++, d->method);
    sqlite3_bind_int(st, i++, d->partial ? 1 : 0);
    m_text(&b, i++, dialog_state_name(d->state));
    m_int(&b, i++, d->early_us, 0);
    m_int(&b, i++, d->confirmed_us, 0);
    m_int(&b, i++, d->terminated_us, 0);
    m_text(&b, i++, d->term_cause);
    m_text(&b, i++, sl_side_name(d->bye_side));
    m_int(&b, i++, d->bye_msg_id, 1);
    m_text(&b, i++, d->caller_uri);
    m_text(&b, i++, d->callee_uri);
    m_ep(&b, i, &d->caller_ep, db->ep_buf[0]);
    m_ep(&b, i + 2, &d->callee_ep, db->ep_buf[1]);
    i += 4;
    m_int(&b, i++, d->last_cseq[SL_SIDE_CALLER], 0);
    m_int(&b, i++, d->last_cseq[SL_SIDE_CALLEE], 0);
    m_int(&b, i++, d->se_interval, 0);
    m_text(&b, i++, sl_side_name(d->se_refresher));
    m_int(&b, i++, d->se_last_refresh_us, 0);
    m_int(&b, i++, d->se_expiry_us, 0);
    return step_all_bound(st, err, "insert dialog");
}

int sl_db_add_leg(struct sl_db *db, const struct sl_leg *l, struct sl_err *err)
{
    sqlite3_stmt *st = db->st[ST_LEG];
    struct mbind b = { st, db->null[ST_LEG] };
    int i = 1;

    sqlite3_bind_int64(st, i++, l->id);
    m_text(&b, i++, l->call_id);
    m_text(&b, i++, l->from_tag);
    m_text(&b, i++, l->method);
    m_text(&b, i++, l->from_uri);
    m_text(&b, i++, l->to_uri);
    m_text(&b, i++, l->ruri);
    m_ep(&b, i, &l->caller_ep, db->ep_buf[0]);
    m_ep(&b, i + 2, &l->callee_ep, db->ep_buf[1]);
    i += 4;
    sqlite3_bind_int64(st, i++, l->start_us);
    m_int(&b, i++, l->answer_us, 0);
    m_int(&b, i++, l->end_us, 0);
    m_text(&b, i++, l->outcome);
    m_int(&b, i++, l->final_status, 0);
    m_text(&b, i++, l->final_reason);
    m_text(&b, i++, sl_side_name(l->ended_by));
    m_text(&b, i++, l->end_how);
    m_text(&b, i++, l->reason_hdr);
    m_int(&b, i++, l->q850_cause, 0);
    m_text(&b, i++, l->q850_cause >= 0 ? sl_q850_text(l->q850_cause) : NULL);
    sqlite3_bind_int(st, i++, l->n_dialogs);
    sqlite3_bind_int(st, i++, l->n_messages);
    return step_all_bound(st, err, "insert leg");
}

int sl_db_add_st_event(struct sl_db *db, const struct sl_st_event *e, struct sl_err *err)
{
    sqlite3_stmt *st = db->st[ST_SESSION_TIMER];

    sqlite3_bind_int64(st, 1, e->dialog_id);
    bind_id(st, 2, e->txn_id);
    bind_id(st, 3, e->msg_id);
    sqlite3_bind_int64(st, 4, e->ts_us);
    bind_text(st, 5, e->kind);
    bind_opt_int(st, 6, e->interval_s);
    bind_side(st, 7, e->refresher);
    bind_opt_int(st, 8, e->min_se);
    bind_opt_int(st, 9, e->refresh_due_us);
    bind_opt_int(st, 10, e->bye_due_us);
    bind_opt_int(st, 11, e->expiry_us);
    return step_done(st, err, "insert session_timer");
}

int sl_db_add_problem(struct sl_db *db, const struct sl_db_origin *o, const char *rule_id,
                      enum sl_severity sev, const char *text, const uint8_t *raw, size_t raw_len,
                      int64_t msg_id, struct sl_err *err)
{
    sqlite3_stmt *st = db->st[ST_PROBLEM];

    sqlite3_bind_int64(st, 1, o->capture_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)o->frame);
    sqlite3_bind_int64(st, 3, o->ts_us);
    bind_endpoints(db, st, 4, o);
    if (o->transport != SL_TP_NONE)
        bind_text(st, 8, sl_transport_name(o->transport));
    bind_text(st, 9, rule_id);
    bind_text(st, 10, sl_severity_name(sev));
    bind_text(st, 11, text);
    if (msg_id > 0)
        sqlite3_bind_int64(st, 12, msg_id);
    if (raw != NULL)
        sqlite3_bind_blob(st, 13, raw, (int)raw_len, SQLITE_STATIC);
    return step_done(st, err, "insert problem");
}

static void finalize_all(struct sl_db *db)
{
    int i;

    for (i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(db->st[i]);
        db->st[i] = NULL;
    }
}

/* The messages' indexes, and their file committed (a split database). */
static int msg_index(struct sl_db *db, struct sl_err *err)
{
    int rc;

    if ((rc = exec_on(db->mdb, msg_index_sql, err)) != SL_OK ||
        (rc = exec_on(db->mdb, "COMMIT", err)) != SL_OK)
        return rc;
    db->m_in_txn = 0;
    /* its pages are read through db and aux from now on */
    (void)sqlite3_exec(db->mdb, "PRAGMA shrink_memory", NULL, NULL, NULL);
    return SL_OK;
}

static void *msg_index_main(void *arg)
{
    struct sl_db *db = arg;

    db->ix_rc = msg_index(db, &db->ix_err);
    return NULL;
}

/* Waits for msg_index_main; its result. */
static int msg_index_join(struct sl_db *db, struct sl_err *err)
{
    if (!db->ix_running)
        return SL_OK;
    (void)pthread_join(db->ix_thread, NULL);
    db->ix_running = false;
    if (db->ix_rc != SL_OK)
        *err = db->ix_err;
    return db->ix_rc;
}

int sl_db_messages_done(struct sl_db *db, bool thread, struct sl_err *err)
{
    /* ix_running first: m_in_txn is the index thread's while it runs */
    if (db->mdb == NULL || db->ix_running || !db->m_in_txn)
        return SL_OK;
    /* mdb is this thread's no more until msg_index_join */
    if (thread && pthread_create(&db->ix_thread, NULL, msg_index_main, db) == 0) {
        db->ix_running = true;
        return SL_OK;
    }
    return msg_index(db, err);
}

int sl_db_finish(struct sl_db *db, struct sl_err *err)
{
    int rc, ix;

    if (db->finished)
        return SL_OK;
    if ((rc = sl_db_messages_done(db, false, err)) != SL_OK)
        return rc;
    rc = db->mdb == NULL ? exec(db, msg_index_sql, err) : SL_OK;
    if (rc == SL_OK)
        rc = exec(db, index_sql, err);
    if ((ix = msg_index_join(db, err)) != SL_OK)
        return ix;
    if (rc != SL_OK)
        return rc;
    if ((rc = exec(db, "COMMIT", err)) != SL_OK)
        return rc;
    db->in_txn = 0;
    finalize_all(db);
    if (db->path != NULL) {
        /* Close, move into place, reopen: the user's file appears whole or not at all. */
        if (sqlite3_close(db->db) != SQLITE_OK)
            return sql_fail(db, err, "close");
        db->db = NULL;
        if (rename(db->tmp_path, db->path) != 0)
            return sl_fail(err, SL_EIO, "%s: %s", db->path, strerror(errno));
        if (sqlite3_open_v2(db->path, &db->db, OPEN_FLAGS | SQLITE_OPEN_READWRITE, NULL) !=
            SQLITE_OK)
            return sql_fail(db, err, db->path);
    }
    db->finished = 1;
    return SL_OK;
}

int sl_db_reset(struct sl_db *db, struct sl_err *err)
{
    static const char empty[] = "DELETE FROM capture; DELETE FROM frame_stat; "
                                "DELETE FROM problem; DELETE FROM txn; DELETE FROM txn_response; "
                                "DELETE FROM dialog; DELETE FROM leg; DELETE FROM session_timer;";
    static const char empty_msgs[] = "DELETE FROM message; DELETE FROM message_raw;";
    int rc;

    if (db->path != NULL)
        return sl_fail(err, SL_EUSAGE, "only a temporary database can be reset");
    if ((rc = msg_index_join(db, err)) != SL_OK)
        return rc;
    if (db->in_txn) {
        /* reset before finish: what was loaded goes */
        if ((rc = exec(db, "ROLLBACK", err)) != SL_OK)
            return rc;
        db->in_txn = 0;
    }
    if (db->m_in_txn) {
        if ((rc = exec_on(db->mdb, "ROLLBACK", err)) != SL_OK)
            return rc;
        db->m_in_txn = 0;
    }
    finalize_all(db);
    /* no schema change (the indexes stay): statements prepared on these
     * connections stay valid */
    if ((rc = exec(db, "BEGIN", err)) != SL_OK)
        return rc;
    db->in_txn = 1;
    if (db->mdb != NULL) {
        if ((rc = exec_on(db->mdb, "BEGIN", err)) != SL_OK)
            return rc;
        db->m_in_txn = 1;
    }
    if ((rc = exec(db, empty, err)) != SL_OK ||
        (rc = exec_on(db->mdb != NULL ? db->mdb : db->db, empty_msgs, err)) != SL_OK ||
        (rc = prepare_all(db, err)) != SL_OK)
        return rc;
    db->finished = 0;
    db->max_msg_id = 0;
    return SL_OK;
}

void sl_db_close(struct sl_db *db)
{
    if (db == NULL)
        return;
    if (db->ix_running) {
        (void)pthread_join(db->ix_thread, NULL);
        db->ix_running = false;
    }
    finalize_all(db);
    if (db->db != NULL)
        sqlite3_close(db->db);
    if (db->aux != NULL)
        sqlite3_close(db->aux);
    if (db->mdb != NULL)
        sqlite3_close(db->mdb);
    if (!db->finished && db->tmp_path != NULL)
        (void)unlink(db->tmp_path);
    free(db->path);
    free(db->tmp_path);
    free(db);
}
