#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/engine.h"
#include "report/report.h"
#include "store/db.h"

static const char raw_invite[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
                                 "Call-ID: abc@1\r\n\r\n";

static void fill_msg(struct sl_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->is_request = true;
    m->method = (char *)(uintptr_t) "INVITE";
    m->ruri = (char *)(uintptr_t) "sip:bob@example.com";
    m->status = -1;
    m->call_id = (char *)(uintptr_t) "abc@1";
    m->from_tag = (char *)(uintptr_t) "f1";
    m->cseq_num = 1;
    m->cseq_method = (char *)(uintptr_t) "INVITE";
    m->via_count = 1;
    m->max_forwards = 70;
    m->expires = -1;
    m->via_rport = -1;
    m->session_expires = 1800;
    m->min_se = -1;
    m->retry_after = -1;
    m->rseq = m->rack_rseq = m->rack_cseq = -1;
    m->content_length = 0;
    m->proxy_require = (char *)(uintptr_t) "foo";
}

/* A database with one message, transaction, dialog and leg; keep: ask for
 * the whole record (sl_db_keep_detail) after creating it. */
static struct sl_db *make_db_raw(const char *path, bool keep)
{
    struct sl_db *db = NULL;
    struct sl_err err;
    struct sl_db_capture cap;
    struct sl_db_origin o;
    struct sl_endpoint src = { 4, { 10, 0, 0, 1 }, 5060 }, dst = { 6, { 0 }, 5070 };
    struct sl_msg m;
    struct sl_msg_links links;
    struct sl_txn t;
    struct sl_txn_response resp;
    struct sl_dialog d;
    struct sl_leg l;
    int64_t cid = 0, mid = 0;

    dst.ip[15] = 1;
    assert_int_equal(sl_db_create(&db, path, &err), SL_OK);
    if (keep)
        sl_db_keep_detail(db, true);
    memset(&cap, 0, sizeof(cap));
    cap.path = "in.pcap";
    cap.format = "pcap";
    assert_int_equal(sl_db_add_capture(db, &cap, &cid, &err), SL_OK);
    assert_int_equal(cid, 1);
    memset(&o, 0, sizeof(o));
    o.capture_id = cid;
    o.frame = 3;
    o.ts_us = 1700000000123456;
    o.src = &src;
    o.dst = &dst;
    o.transport = SL_TP_UDP;
    fill_msg(&m);
    memset(&links, 0, sizeof(links));
    links.txn_id = 1;
    links.leg_id = 1;
    links.side = SL_SIDE_CALLER;
    links.cseq_prev = -1;
    mid = 1;
    assert_int_equal(sl_db_add_message(db, mid, &o, &m, &links, (const uint8_t *)raw_invite,
                                       sizeof(raw_invite) - 1, 0, &err),
                     SL_OK);
    /* a transaction with one response, its dialog and its leg */
    memset(&t, 0, sizeof(t));
    t.id = 1;
    t.kind = SL_TXN_INVITE;
    t.method = (char *)(uintptr_t) "INVITE";
    t.branch = (char *)(uintptr_t) "z9hg4bk1";
    t.uac = src;
    t.uas = dst;
    t.transport = SL_TP_UDP;
    t.call_id = (char *)(uintptr_t) "abc@1";
    t.cseq_num = 1;
    t.req_msg_id = 1;
    t.req_copies = 2;
    t.first_1xx_us = -1;
    t.first_final_us = 5;
    t.final_status = 200;
    t.timeout_us = -1;
    t.end_reason = "final";
    resp.status = 200;
    resp.to_tag = (char *)(uintptr_t) "t1";
    resp.rseq = -1;
    resp.first_msg_id = 2;
    resp.first_us = resp.last_us = 5;
    resp.copies = 3;
    t.responses = &resp;
    t.n_responses = 1;
    assert_int_equal(sl_db_add_txn(db, &t, &err), SL_OK);
    memset(&d, 0, sizeof(d));
    d.id = 1;
    d.call_id = (char *)(uintptr_t) "abc@1";
    d.caller_tag = (char *)(uintptr_t) "f1";
    d.callee_tag = (char *)(uintptr_t) "t1";
    d.state = SL_DLG_TERMINATED;
    d.early_us = d.se_interval = d.se_last_refresh_us = d.se_expiry_us = -1;
    d.confirmed_us = 5;
    d.terminated_us = 9;
    d.term_cause = "bye";
    d.bye_side = SL_SIDE_CALLEE;
    d.last_cseq[SL_SIDE_CALLER] = 1;
    d.last_cseq[SL_SIDE_CALLEE] = 7;
    assert_int_equal(sl_db_add_dialog(db, &d, &err), SL_OK);
    memset(&l, 0, sizeof(l));
    l.id = 1;
    l.call_id = (char *)(uintptr_t) "abc@1";
    l.method = (char *)(uintptr_t) "INVITE";
    l.answer_us = 5;
    l.end_us = 9;
    l.outcome = "answered";
    l.final_status = 200;
    l.ended_by = SL_SIDE_CALLEE;
    l.q850_cause = 16;
    assert_int_equal(sl_db_add_leg(db, &l, &err), SL_OK);
    o.frame = 4;
    /* problem text with invalid UTF-8 and a control character */
    assert_int_equal(sl_db_add_problem(db, &o, "SIP-HDR-011", SL_SEV_ERROR,
                                       "frame 4: bad \xff byte \x1b[31m", NULL, 0, 0, &err),
                     SL_OK);
    cap.frames = 4;
    cap.sip_messages = 1;
    cap.problems = 1;
    cap.first_ts_us = o.ts_us;
    cap.last_ts_us = o.ts_us;
    cap.complete = 1;
    assert_int_equal(sl_db_update_capture(db, cid, &cap, &err), SL_OK);
    assert_int_equal(
            sl_db_add_frame_stat(db, cid, "not_decoded", "TCP", 2, 1, 1700000000000001, &err),
            SL_OK);
    assert_int_equal(sl_db_finish(db, &err), SL_OK);
    return db;
}

static struct sl_db *make_db(const char *path)
{
    return make_db_raw(path, false);
}

static void test_db_round_trip_message_fields(void **state)
{
    struct sl_db *db = make_db(NULL);
    sqlite3_stmt *st;
    sqlite3 *h = sl_db_handle(db);

    (void)state;
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT method, call_id, from_tag, to_tag, cseq_num, "
                                        "src_ip, src_port, dst_ip, dst_port, first_line, size, "
                                        "session_expires, min_se, transport, proxy_require "
                                        "FROM message",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "INVITE");
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "abc@1");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "f1");
    assert_string_equal((const char *)sqlite3_column_text(st, 3), "");
    assert_int_equal(sqlite3_column_int(st, 4), 1);
    assert_string_equal((const char *)sqlite3_column_text(st, 5), "10.0.0.1");
    assert_int_equal(sqlite3_column_int(st, 6), 5060);
    assert_string_equal((const char *)sqlite3_column_text(st, 7), "::1");
    assert_int_equal(sqlite3_column_int(st, 8), 5070);
    assert_string_equal((const char *)sqlite3_column_text(st, 9),
                        "INVITE sip:bob@example.com SIP/2.0");
    assert_int_equal(sqlite3_column_int(st, 10), sizeof(raw_invite) - 1);
    assert_int_equal(sqlite3_column_int(st, 11), 1800);
    assert_int_equal(sqlite3_column_type(st, 12), SQLITE_NULL);
    assert_string_equal((const char *)sqlite3_column_text(st, 13), "udp");
    assert_string_equal((const char *)sqlite3_column_text(st, 14), "foo");
    sqlite3_finalize(st);
    sl_db_close(db);
}

/* Rows of message_raw, and whether the one of message 1 holds the bytes as captured. */
static int raw_rows(struct sl_db *db, int *same)
{
    sqlite3_stmt *st;
    int n = 0;

    *same = 0;
    assert_int_equal(sqlite3_prepare_v2(sl_db_handle(db),
                                        "SELECT msg_id, raw FROM message_raw ORDER BY msg_id", -1,
                                        &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n++ == 0 && sqlite3_column_int(st, 0) == 1 &&
            sqlite3_column_bytes(st, 1) == (int)sizeof(raw_invite) - 1 &&
            memcmp(sqlite3_column_blob(st, 1), raw_invite, sizeof(raw_invite) - 1) == 0)
            *same = 1;
    }
    sqlite3_finalize(st);
    return n;
}

/* Max-Forwards of message 1, a detail column: -1 for NULL. */
static int max_forwards(struct sl_db *db)
{
    sqlite3_stmt *st;
    int v = -2;

    assert_int_equal(
            sqlite3_prepare_v2(sl_db_handle(db), "SELECT max_forwards FROM message", -1, &st, NULL),
            SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_db_raw_kept_where_readable(void **state)
{
    char path[] = "/tmp/sl_test_raw_XXXXXX";
    int fd = mkstemp(path), same;
    struct sl_db *db;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    /* a temporary database: nobody reads the bytes or the detail columns */
    db = make_db(NULL);
    assert_int_equal(raw_rows(db, &same), 0);
    assert_int_equal(max_forwards(db), -1);
    sl_db_close(db);
    /* unless asked (rules of --rules-dir may read them) */
    db = make_db_raw(NULL, true);
    assert_int_equal(raw_rows(db, &same), 1);
    assert_true(same);
    assert_int_equal(max_forwards(db), 70);
    sl_db_close(db);
    /* a file database keeps them */
    db = make_db(path);
    assert_int_equal(raw_rows(db, &same), 1);
    assert_true(same);
    assert_int_equal(max_forwards(db), 70);
    sl_db_close(db);
    unlink(path);
}

static void test_db_round_trip_txn_dialog_leg(void **state)
{
    struct sl_db *db = make_db(NULL);
    sqlite3_stmt *st;
    sqlite3 *h = sl_db_handle(db);

    (void)state;
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT t.kind, t.req_copies, t.final_status, r.copies, "
                                        "r.to_tag, d.term_cause, d.bye_side, d.last_cseq_callee, "
                                        "l.outcome, l.ended_by, l.q850_text, m.side, m.txn_id, "
                                        "m.cseq_prev FROM txn t JOIN txn_response r USING "
                                        "(txn_id) JOIN dialog d JOIN leg l JOIN message m",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "INVITE");
    assert_int_equal(sqlite3_column_int(st, 1), 2);
    assert_int_equal(sqlite3_column_int(st, 2), 200);
    assert_int_equal(sqlite3_column_int(st, 3), 3);
    assert_string_equal((const char *)sqlite3_column_text(st, 4), "t1");
    assert_string_equal((const char *)sqlite3_column_text(st, 5), "bye");
    assert_string_equal((const char *)sqlite3_column_text(st, 6), "callee");
    assert_int_equal(sqlite3_column_int(st, 7), 7);
    assert_string_equal((const char *)sqlite3_column_text(st, 8), "answered");
    assert_string_equal((const char *)sqlite3_column_text(st, 9), "callee");
    assert_string_equal((const char *)sqlite3_column_text(st, 10), "Normal call clearing");
    assert_string_equal((const char *)sqlite3_column_text(st, 11), "caller");
    assert_int_equal(sqlite3_column_int(st, 12), 1);
    assert_int_equal(sqlite3_column_type(st, 13), SQLITE_NULL);
    sqlite3_finalize(st);
    sl_db_close(db);
}

static void test_db_file_appears_only_when_finished(void **state)
{
    char path[] = "/tmp/sl_test_store_XXXXXX";
    int fd = mkstemp(path);
    char tmp[64];
    struct sl_db *db = NULL;
    struct sl_err err;
    sqlite3_stmt *st;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    /* unfinished: nothing left behind */
    assert_int_equal(sl_db_create(&db, path, &err), SL_OK);
    assert_int_equal(access(tmp, F_OK), 0);
    sl_db_close(db);
    assert_int_not_equal(access(tmp, F_OK), 0);
    assert_int_not_equal(access(path, F_OK), 0);
    /* finished: the file is there with its schema version */
    db = make_db(path);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_not_equal(access(tmp, F_OK), 0);
    assert_int_equal(sqlite3_prepare_v2(sl_db_handle(db), "PRAGMA user_version", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), SL_SCHEMA_VERSION);
    sqlite3_finalize(st);
    sl_db_close(db);
    unlink(path);
}

static void test_engine_and_report_are_deterministic_and_safe(void **state)
{
    struct sl_db *db = make_db(NULL);
    struct sl_findings fs;
    struct sl_err err;
    struct sl_report_opts ro = { SL_FORMAT_JSON, 0 };
    struct sl_ruleset *rs = NULL;
    char *a = NULL, *b = NULL, *t = NULL;
    size_t alen, blen, tlen;

    (void)state;
    assert_int_equal(sl_ruleset_load(&rs, NULL, &err), SL_OK);
    assert_int_equal(sl_engine_run(db, rs, NULL, &fs, &err), SL_OK);
    assert_int_equal(fs.n, 2); /* the problem and the not-decoded count */
    assert_string_equal(fs.v[0].rule->id, "SIP-CAP-004"); /* frame 1 sorts first */
    assert_string_equal(fs.v[1].rule->id, "SIP-HDR-011");
    assert_int_equal(sl_report_render(db, &fs, &ro, &a, &alen, &err), SL_OK);
    assert_int_equal(sl_report_render(db, &fs, &ro, &b, &blen, &err), SL_OK);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    assert_non_null(strstr(a, "\"schema\": 1"));
    assert_non_null(strstr(a, "bad \xef\xbf\xbd byte \\u001b[31m")); /* valid UTF-8, escaped */
    assert_non_null(strstr(a, "\"src\": \"10.0.0.1:5060\""));
    assert_non_null(strstr(a, "\"dst\": \"[::1]:5070\""));
    ro.format = SL_FORMAT_TEXT;
    assert_int_equal(sl_report_render(db, &fs, &ro, &t, &tlen, &err), SL_OK);
    assert_null(strchr(t, '\x1b')); /* no raw escape reaches a terminal */
    assert_non_null(strstr(t, "bad \xef\xbf\xbd byte \\x1b[31m"));
    free(a);
    free(b);
    free(t);
    sl_findings_fini(&fs);
    sl_ruleset_free(rs);
    sl_db_close(db);
}

static void test_format_time(void **state)
{
    char buf[40];

    (void)state;
    sl_format_time(1710234000123456LL, buf, sizeof(buf));
    assert_string_equal(buf, "2024-03-12T09:00:00.123456Z");
    sl_format_time(-1, buf, sizeof(buf));
    assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_round_trip_message_fields),
        cmocka_unit_test(test_db_round_trip_txn_dialog_leg),
        cmocka_unit_test(test_db_raw_kept_where_readable),
        cmocka_unit_test(test_db_file_appears_only_when_finished),
        cmocka_unit_test(test_engine_and_report_are_deterministic_and_safe),
        cmocka_unit_test(test_format_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
