#include "store/db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/status.h"

/* The schema, version 1.  docs/schema.md documents every column; change both
 * together, and bump SL_SCHEMA_VERSION when a change is not purely additive. */
static const char schema_sql[] =
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
        "  complete INTEGER NOT NULL DEFAULT 1);\n"
        "CREATE TABLE frame_stat (\n"
        "  capture_id INTEGER NOT NULL REFERENCES capture,\n"
        "  kind TEXT NOT NULL,\n"
        "  reason TEXT NOT NULL,\n"
        "  frames INTEGER NOT NULL,\n"
        "  first_frame INTEGER NOT NULL,\n"
        "  first_ts_us INTEGER,\n"
        "  PRIMARY KEY (capture_id, kind, reason));\n"
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
        "  supported TEXT, require TEXT,\n"
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
        "  raw BLOB NOT NULL);\n"
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
        "  raw BLOB);\n";

/* Built after the bulk load: cheaper than maintaining them row by row. */
static const char index_sql[] = "CREATE INDEX message_call ON message(call_id, from_tag, to_tag);\n"
                                "CREATE INDEX message_time ON message(capture_id, ts_us);\n"
                                "CREATE INDEX problem_capture ON problem(capture_id, frame);\n";

enum stmt_id {
    ST_CAPTURE,
    ST_CAPTURE_UPDATE,
    ST_FRAME_STAT,
    ST_MESSAGE,
    ST_PROBLEM,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_CAPTURE] = "INSERT INTO capture (path, format, linktype) VALUES (?, ?, ?)",
    [ST_CAPTURE_UPDATE] = "UPDATE capture SET frames = ?, sip_messages = ?, problems = ?, "
                          "other_frames = ?, not_decoded_frames = ?, first_ts_us = ?, "
                          "last_ts_us = ?, complete = ? WHERE capture_id = ?",
    [ST_FRAME_STAT] = "INSERT INTO frame_stat VALUES (?, ?, ?, ?, ?, ?)",
    [ST_MESSAGE] = "INSERT INTO message VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_PROBLEM] = "INSERT INTO problem VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
};

struct sl_db {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    char *path;     /* final path, or NULL for a temporary database */
    char *tmp_path; /* path + ".tmp" while loading */
    int in_txn;
    int finished;
};

static int sql_fail(struct sl_db *db, struct sl_err *err, const char *what)
{
    return sl_fail(err, SL_ESQL, "%s: %s", what, db->db ? sqlite3_errmsg(db->db) : "no handle");
}

static int exec(struct sl_db *db, const char *sql, struct sl_err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(db->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sl_fail(err, SL_ESQL, "%s", msg ? msg : sqlite3_errmsg(db->db));
        sqlite3_free(msg);
        return SL_ESQL;
    }
    return SL_OK;
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

    for (i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(db->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i],
                               NULL) != SQLITE_OK)
            return sql_fail(db, err, "prepare");
    }
    return SL_OK;
}

int sl_db_create(struct sl_db **out, const char *path, struct sl_err *err)
{
    struct sl_db *db;
    const char *open_path = "";
    int rc;
    char pragma[160];

    *out = NULL;
    db = calloc(1, sizeof(*db));
    if (db == NULL)
        return sl_fail(err, SL_ENOMEM, "out of memory");
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
    }
    /* "" is a private temporary database that SQLite deletes on close. */
    if (sqlite3_open_v2(open_path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = sl_fail(err, SL_ESQL, "%s: cannot create database: %s",
                     path != NULL ? path : "(temporary)",
                     db->db ? sqlite3_errmsg(db->db) : "out of memory");
        goto fail;
    }
    /* Nothing to protect until the load is complete: the file is renamed into
     * place only then, so no journal and no fsync while loading. */
    if (snprintf(pragma, sizeof(pragma),
                 "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                 "PRAGMA cache_size = -65536; PRAGMA user_version = %d;",
                 SL_SCHEMA_VERSION) < 0) {
        rc = sl_fail(err, SL_EINTERNAL, "snprintf");
        goto fail;
    }
    if ((rc = exec(db, pragma, err)) != SL_OK)
        goto fail;
    if ((rc = exec(db, "BEGIN", err)) != SL_OK)
        goto fail;
    db->in_txn = 1;
    if ((rc = exec(db, schema_sql, err)) != SL_OK)
        goto fail;
    if ((rc = prepare_all(db, err)) != SL_OK)
        goto fail;
    *out = db;
    return SL_OK;
fail:
    sl_db_close(db);
    return rc;
}

sqlite3 *sl_db_handle(struct sl_db *db)
{
    return db->db;
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

/* Bind helpers: NULL / negative "absent" values become SQL NULL. */
static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
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

static int step_done(struct sl_db *db, sqlite3_stmt *st, struct sl_err *err, const char *what)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return sql_fail(db, err, what);
    return SL_OK;
}

int sl_db_add_capture(struct sl_db *db, const struct sl_db_capture *c, int64_t *capture_id,
                      struct sl_err *err)
{
    sqlite3_stmt *st = db->st[ST_CAPTURE];
    int rc;

    bind_text(st, 1, c->path);
    bind_text(st, 2, c->format);
    sqlite3_bind_int(st, 3, c->linktype);
    if ((rc = step_done(db, st, err, "insert capture")) != SL_OK)
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
    return step_done(db, st, err, "update capture");
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
    return step_done(db, st, err, "insert frame_stat");
}

/* Binds src/dst as text address + port at columns i..i+3. */
static void bind_endpoints(sqlite3_stmt *st, int i, const struct sl_db_origin *o)
{
    char buf[64];
    const struct sl_endpoint *eps[2] = { o->src, o->dst };
    int k;

    for (k = 0; k < 2; k++) {
        const struct sl_endpoint *ep = eps[k];

        if (ep == NULL || ep->family == 0) {
            sqlite3_bind_null(st, i + 2 * k);
            sqlite3_bind_null(st, i + 2 * k + 1);
            continue;
        }
        sl_endpoint_format(ep, buf, sizeof(buf));
        /* The address alone: strip the ":port" (and IPv6 brackets). */
        {
            char *colon = strrchr(buf, ':');
            char *start = buf;

            if (colon != NULL)
                *colon = '\0';
            if (buf[0] == '[') {
                start = buf + 1;
                if (colon != NULL && colon > buf && colon[-1] == ']')
                    colon[-1] = '\0';
            }
            sqlite3_bind_text(st, i + 2 * k, start, -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_int(st, i + 2 * k + 1, ep->port);
    }
}

/* The start line of raw, without CR/LF, cut at 1024 bytes. */
static void bind_first_line(sqlite3_stmt *st, int i, const uint8_t *raw, size_t len)
{
    size_t n = 0;

    while (n < len && n < 1024 && raw[n] != '\r' && raw[n] != '\n')
        n++;
    sqlite3_bind_text(st, i, (const char *)raw, (int)n, SQLITE_TRANSIENT);
}

int sl_db_add_message(struct sl_db *db, const struct sl_db_origin *o, const struct sl_msg *m,
                      const uint8_t *raw, size_t raw_len, int truncated, int64_t *msg_id,
                      struct sl_err *err)
{
    sqlite3_stmt *st = db->st[ST_MESSAGE];
    int i = 1;
    int rc;
    size_t skip = 0;

    /* CRLF keep-alive bytes before the start line are not part of the message. */
    while (skip < raw_len && (raw[skip] == '\r' || raw[skip] == '\n'))
        skip++;
    sqlite3_bind_int64(st, i++, o->capture_id);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)o->frame);
    sqlite3_bind_int64(st, i++, o->ts_us);
    bind_endpoints(st, i, o);
    i += 4;
    bind_text(st, i++, sl_transport_name(o->transport));
    sqlite3_bind_int(st, i++, m->is_request ? 1 : 0);
    bind_text(st, i++, m->method);
    bind_text(st, i++, m->ruri);
    bind_opt_int(st, i++, m->status);
    bind_text(st, i++, m->reason);
    bind_text(st, i++, m->call_id);
    bind_text(st, i++, m->from_uri);
    bind_text(st, i++, m->from_tag ? m->from_tag : "");
    bind_text(st, i++, m->from_display);
    bind_text(st, i++, m->to_uri);
    bind_text(st, i++, m->to_tag ? m->to_tag : "");
    bind_text(st, i++, m->to_display);
    bind_opt_int(st, i++, m->cseq_num);
    bind_text(st, i++, m->cseq_method);
    sqlite3_bind_int(st, i++, m->via_count);
    bind_text(st, i++, m->via_branch);
    bind_text(st, i++, m->via_sent_by);
    bind_text(st, i++, m->via_transport);
    bind_text(st, i++, m->via_received);
    bind_opt_int(st, i++, m->via_rport);
    bind_opt_int(st, i++, m->max_forwards);
    bind_text(st, i++, m->contact);
    sqlite3_bind_int(st, i++, m->contact_count);
    bind_opt_int(st, i++, m->expires);
    bind_opt_int(st, i++, m->session_expires);
    bind_text(st, i++, m->se_refresher);
    bind_opt_int(st, i++, m->min_se);
    bind_text(st, i++, m->supported);
    bind_text(st, i++, m->require);
    bind_opt_int(st, i++, m->retry_after);
    bind_opt_int(st, i++, m->rseq);
    bind_opt_int(st, i++, m->rack_rseq);
    bind_opt_int(st, i++, m->rack_cseq);
    bind_text(st, i++, m->rack_method);
    bind_text(st, i++, m->reason_hdr);
    bind_text(st, i++, m->user_agent);
    sqlite3_bind_int(st, i++, m->has_auth ? 1 : 0);
    bind_text(st, i++, m->content_type);
    bind_opt_int(st, i++, m->content_length);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)m->body_len);
    bind_text(st, i++, m->sdp_o_user);
    bind_text(st, i++, m->sdp_o_sess_id);
    bind_text(st, i++, m->sdp_o_version);
    bind_text(st, i++, m->sdp_o_addr);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)m->n_headers);
    bind_first_line(st, i++, raw + skip, raw_len - skip);
    sqlite3_bind_int64(st, i++, (sqlite3_int64)(raw_len - skip));
    sqlite3_bind_int(st, i++, truncated ? 1 : 0);
    sqlite3_bind_blob(st, i++, raw + skip, (int)(raw_len - skip), SQLITE_TRANSIENT);
    if ((rc = step_done(db, st, err, "insert message")) != SL_OK)
        return rc;
    *msg_id = sqlite3_last_insert_rowid(db->db);
    return SL_OK;
}

int sl_db_add_problem(struct sl_db *db, const struct sl_db_origin *o, const char *rule_id,
                      enum sl_severity sev, const char *text, const uint8_t *raw, size_t raw_len,
                      int64_t msg_id, struct sl_err *err)
{
    sqlite3_stmt *st = db->st[ST_PROBLEM];

    sqlite3_bind_int64(st, 1, o->capture_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)o->frame);
    sqlite3_bind_int64(st, 3, o->ts_us);
    bind_endpoints(st, 4, o);
    if (o->transport != SL_TP_NONE)
        bind_text(st, 8, sl_transport_name(o->transport));
    bind_text(st, 9, rule_id);
    bind_text(st, 10, sl_severity_name(sev));
    bind_text(st, 11, text);
    if (msg_id > 0)
        sqlite3_bind_int64(st, 12, msg_id);
    if (raw != NULL)
        sqlite3_bind_blob(st, 13, raw, (int)raw_len, SQLITE_TRANSIENT);
    return step_done(db, st, err, "insert problem");
}

static void finalize_all(struct sl_db *db)
{
    int i;

    for (i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(db->st[i]);
        db->st[i] = NULL;
    }
}

int sl_db_finish(struct sl_db *db, struct sl_err *err)
{
    int rc;

    if (db->finished)
        return SL_OK;
    if ((rc = exec(db, index_sql, err)) != SL_OK)
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
        if (sqlite3_open_v2(db->path, &db->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
            return sql_fail(db, err, db->path);
    }
    db->finished = 1;
    return SL_OK;
}

void sl_db_close(struct sl_db *db)
{
    if (db == NULL)
        return;
    finalize_all(db);
    if (db->db != NULL)
        sqlite3_close(db->db);
    if (!db->finished && db->tmp_path != NULL)
        (void)unlink(db->tmp_path);
    free(db->path);
    free(db->tmp_path);
    free(db);
}
