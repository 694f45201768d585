/*
 * test_engine.c: the rule engine through the public API, on a real capture
 * (testdata/hold-resume) with rules written into a temporary --rules-dir:
 * header parsing, read-only execution, templates, inconclusive rows, the
 * per-rule cap, --enable/--disable.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "siplint.h"

#define CAPTURE "testdata/hold-resume/capture.pcap"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/siplint-rules.XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Replaces the rules directory's content with one file. */
static void put_rule(const char *name, const char *text)
{
    char path[160], cmd[128];
    FILE *fp;

    snprintf(cmd, sizeof(cmd), "rm -f '%s'/*.sql", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

#define HEADER(id)                            \
    "-- id: " id "\n"                         \
    "-- severity: warning\n"                  \
    "-- title: test rule\n"                   \
    "-- rfc: RFC 3261 §12, RFC 5057 §5.1\n" \
    "-- impact: none\n"

/* Runs check on CAPTURE with the rules dir and enable/disable lists; returns
 * the status, and the NDJSON report in *out (caller frees) when SL_OK. */
static int run(const char *enable, const char *disable, char **out, struct sl_err *err)
{
    struct sl_session_opts so;
    struct sl_report_opts ro = { SL_FORMAT_NDJSON, 0 };
    struct sl_session *s = NULL;
    size_t len;
    int rc;

    memset(&so, 0, sizeof(so));
    so.rules_dir = dir;
    so.enable = enable;
    so.disable = disable;
    *out = NULL;
    if ((rc = sl_session_open(&s, &so, err)) != SL_OK)
        return rc;
    rc = sl_session_ingest(s, CAPTURE, err);
    if (rc == SL_OK)
        rc = sl_session_report(s, &ro, out, &len, err);
    sl_session_close(s);
    return rc;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    while (hay != NULL && (hay = strstr(hay, needle)) != NULL) {
        n++;
        hay += strlen(needle);
    }
    return n;
}

static void test_rule_fires_with_template_and_evidence(void **state)
{
    struct sl_err err;
    char *out = NULL;

    (void)state;
    put_rule(
            "SIP-TEST-001.sql",
            HEADER("SIP-TEST-001") "-- message: {src} re-INVITEd {dst} (CSeq {cseq_num}),\n"
                                   "--   T1 {t1_ms} ms\n"
                                   "--\n"
                                   "-- a comment\n"
                                   "SELECT r.msg_id, r.src, r.dst, r.cseq_num,\n"
                                   "       t.final_msg_id AS evidence\n"
                                   "FROM lm r JOIN t USING (txn_id)\n"
                                   "WHERE r.is_request AND r.method = 'INVITE' AND r.to_tag <> ''\n"
                                   "  AND r.cseq_num = 1;\n");
    assert_int_equal(run("SIP-TEST", NULL, &out, &err), SL_OK);
    assert_int_equal(count(out, "\"rule\":\"SIP-TEST-001\""), 1); /* bob's re-INVITE, CSeq 1 */
    assert_non_null(
            strstr(out, "\"127.0.0.1:5084 re-INVITEd 127.0.0.1:5083 (CSeq 1), T1 500 ms\""));
    assert_non_null(strstr(out, "\"rfc\":[\"RFC 3261 §12\",\"RFC 5057 §5.1\"]"));
    assert_non_null(strstr(out, "\"caller_tag\":")); /* the dialog of the anchor */
    assert_int_equal(count(out, "\"frame\":"), 2);   /* the re-INVITE and its 200 */
    free(out);
}

static void test_writes_are_refused(void **state)
{
    static const char *bodies[] = {
        "DELETE FROM message;\n",
        "SELECT msg_id FROM message; DELETE FROM message;\n",
        "SELECT load_extension('x') AS msg_id;\n",
        "ATTACH DATABASE '/tmp/x.db' AS x;\n",
        "SELECT msg_id FROM message WHERE 0; PRAGMA query_only = 0;\n",
    };
    struct sl_err err;
    char text[512], *out = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        snprintf(text, sizeof(text), "%s%s", HEADER("SIP-TEST-002") "-- message: x\n--\n",
                 bodies[i]);
        put_rule("SIP-TEST-002.sql", text);
        assert_int_equal(run(NULL, NULL, &out, &err), SL_EUSAGE);
        assert_non_null(strstr(err.msg, "SIP-TEST-002.sql"));
        assert_null(out);
    }
}

static void test_bad_headers_are_usage_errors(void **state)
{
    static const struct {
        const char *name, *text, *want;
    } cases[] = {
        { "SIP-TEST-003.sql", "-- id: SIP-TEST-003\n-- severity: warning\nSELECT 1;\n",
          "the header needs" },
        { "SIP-TEST-003.sql", HEADER("SIP-TEST-003") "-- message: x\n-- colour: red\nSELECT 1;\n",
          "unknown header key 'colour'" },
        { "SIP-TEST-003.sql", HEADER("SIP-TEST-999") "-- message: x\nSELECT 1;\n",
          "does not match the file name" },
        { "SIP-TEST-003.sql",
          "-- id: SIP-TEST-003\n-- severity: fatal\n-- title: t\n-- rfc: r\n-- impact: i\n"
          "-- message: x\nSELECT 1;\n",
          "severity 'fatal'" },
        { "SIP-TEST-003.sql", HEADER("SIP-TEST-003") "-- message: {nope}\nSELECT msg_id FROM m;\n",
          "{nope}" },
        { "SIP-TEST-003.sql", HEADER("SIP-TEST-003") "-- message: x\nSELECT 1 AS id;\n",
          "no msg_id column" },
        { "SIP-TEST-003.sql", HEADER("SIP-TEST-003") "-- message: x\nSELECT :x AS msg_id;\n",
          "unknown parameter :x" },
    };
    struct sl_err err;
    char *out = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        put_rule(cases[i].name, cases[i].text);
        assert_int_equal(run(NULL, NULL, &out, &err), SL_EUSAGE);
        if (strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i].want);
    }
}

static void test_inconclusive_severity_and_cap(void **state)
{
    struct sl_err err;
    char *out = NULL;

    (void)state;
    /* 19 messages x 3 rows = 57 rows: 50 listed, 1 summary; every 19th is inconclusive */
    put_rule(
            "SIP-TEST-004.sql",
            HEADER("SIP-TEST-004") "-- message: row {k}\n"
                                   "-- inconclusive: capture ended for row {k}\n"
                                   "--\n"
                                   "SELECT msg_id, k, (msg_id = 19 AND k = 1) AS inconclusive,\n"
                                   "       CASE WHEN msg_id = 1 THEN 'error' END AS severity\n"
                                   "FROM m, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3)\n"
                                   "ORDER BY k, msg_id;\n");
    assert_int_equal(run("SIP-TEST-004", NULL, &out, &err), SL_OK);
    assert_int_equal(count(out, "\"rule\":\"SIP-TEST-004\""), 51);
    assert_int_equal(count(out, "\"inconclusive\":true"), 1);
    assert_non_null(strstr(out, "\"severity\":\"info\",\"title\":\"test rule\",\"call_id\""));
    assert_non_null(strstr(out, "capture ended for row 1"));
    assert_int_equal(count(out, "\"severity\":\"error\""), 3); /* msg 1, k = 1, 2, 3 */
    assert_non_null(strstr(out, "7 more SIP-TEST-004 findings in this input are not listed"));
    free(out);
}

/* The "N more findings are not listed" summary has the highest severity of
 * the findings it hides: info when they are all inconclusive (a long capture
 * of calls still up must not fail --fail-on error), error when one is. */
static void test_cap_summary_severity(void **state)
{
    struct sl_err err;
    char *out = NULL;

    (void)state;
    /* 57 rows: the 50 listed are warnings, the 7 hidden (k = 3, msg 13..19)
     * inconclusive, so info */
    put_rule(
            "SIP-TEST-007.sql",
            HEADER("SIP-TEST-007") "-- message: row {k}\n"
                                   "-- inconclusive: not yet for row {k}\n"
                                   "--\n"
                                   "SELECT msg_id, k, (k = 3 AND msg_id >= 13) AS inconclusive\n"
                                   "FROM m, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3)\n"
                                   "ORDER BY k, msg_id;\n");
    assert_int_equal(run("SIP-TEST-007", NULL, &out, &err), SL_OK);
    assert_non_null(strstr(out, "7 more SIP-TEST-007 findings in this input are not listed"));
    assert_non_null(strstr(out, "\"severity\":\"info\",\"title\":\"test rule\",\"call_id\":null"));
    assert_int_equal(count(out, "\"severity\":\"warning\""), 50);
    free(out);
    /* one hidden row an error (its severity column): the summary is an error */
    put_rule(
            "SIP-TEST-007.sql",
            HEADER("SIP-TEST-007") "-- message: row {k}\n"
                                   "-- inconclusive: not yet for row {k}\n"
                                   "--\n"
                                   "SELECT msg_id, k, (k = 3 AND msg_id >= 13) AS inconclusive,\n"
                                   "       CASE WHEN k = 3 AND msg_id = 12 THEN 'error' END AS "
                                   "severity\n"
                                   "FROM m, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3)\n"
                                   "ORDER BY k, msg_id;\n");
    assert_int_equal(run("SIP-TEST-007", NULL, &out, &err), SL_OK);
    assert_int_equal(count(out, "\"severity\":\"error\""), 1);
    free(out);
}

static void test_enable_disable(void **state)
{
    struct sl_err err;
    char *out = NULL;

    (void)state;
    put_rule("SIP-TEST-005.sql",
             HEADER("SIP-TEST-005") "-- message: m\n--\nSELECT min(msg_id) AS msg_id FROM m;\n");
    assert_int_equal(run(NULL, "SIP-TEST-005", &out, &err), SL_OK);
    assert_int_equal(count(out, "SIP-TEST-005"), 0);
    free(out);
    assert_int_equal(run("SIP-TEST-*", NULL, &out, &err), SL_OK);
    assert_int_equal(count(out, "\"rule\":\"SIP-TEST-005\""), 1);
    free(out);
    assert_int_equal(run("SIP-TES", NULL, &out, &err), SL_EUSAGE); /* a prefix ends at '-' */
    assert_non_null(strstr(err.msg, "--enable: no rule matches 'SIP-TES'"));
    assert_int_equal(run(NULL, "SIP-NOPE-001", &out, &err), SL_EUSAGE);
}

/* Writes one more rule file without removing the others. */
static void add_rule(const char *name, const char *text)
{
    char path[160];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_runaway_rule_is_stopped(void **state)
{
    struct sl_session_opts so;
    struct sl_report_opts ro = { SL_FORMAT_NDJSON, 0 };
    struct sl_session *s = NULL;
    struct sl_err err;
    char *out = NULL;
    size_t len;

    (void)state;
    /* a recursive CTE without an end: it never returns a row */
    put_rule("SIP-TEST-006.sql",
             HEADER("SIP-TEST-006") "-- message: never {n}\n--\n"
                                    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM "
                                    "c)\n"
                                    "SELECT n AS msg_id, n FROM c WHERE n < 0;\n");
    add_rule("SIP-TEST-007.sql", HEADER("SIP-TEST-007") "-- message: first message\n--\n"
                                                        "SELECT min(msg_id) AS msg_id FROM m;\n");
    memset(&so, 0, sizeof(so));
    so.rules_dir = dir;
    so.enable = "SIP-TEST,SIP-DLG-001";
    so.rule_limit_ms = 300;
    assert_int_equal(sl_session_open(&s, &so, &err), SL_OK);
    assert_int_equal(sl_session_ingest(s, CAPTURE, &err), SL_OK);
    assert_int_equal(sl_session_report(s, &ro, &out, &len, &err), SL_OK);
    sl_session_close(s);
    /* stopped, named, reported as info; the rule after it still ran */
    assert_int_equal(count(out, "\"rule\":\"SIP-TEST-006\""), 1);
    assert_non_null(strstr(out, "SIP-TEST-006 was stopped after 0.3 s (--rule-timeout)"));
    assert_non_null(strstr(out, "\"rule\":\"SIP-TEST-006\",\"severity\":\"info\""));
    assert_int_equal(count(out, "\"rule\":\"SIP-TEST-007\""), 1);
    free(out);
}

/* A shared table of the prelude is built for a --rules-dir rule that names it,
 * even when no built-in rule that uses it is enabled. */
static void test_shared_table_for_user_rule(void **state)
{
    struct sl_err err;
    char *out = NULL;

    (void)state;
    put_rule("SIP-TEST-008.sql",
             HEADER("SIP-TEST-008") "-- message: {n} forked, {k} marked\n--\n"
                                    "SELECT (SELECT min(msg_id) FROM m) AS msg_id,\n"
                                    "       (SELECT count(*) FROM fork_txn) AS n,\n"
                                    "       (SELECT count(*) FROM msg_mark) AS k;\n");
    assert_int_equal(run("SIP-TEST-008", NULL, &out, &err), SL_OK);
    assert_int_equal(count(out, "\"rule\":\"SIP-TEST-008\""), 1);
    assert_non_null(strstr(out, "0 forked, 0 marked"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_fires_with_template_and_evidence),
        cmocka_unit_test(test_writes_are_refused),
        cmocka_unit_test(test_bad_headers_are_usage_errors),
        cmocka_unit_test(test_inconclusive_severity_and_cap),
        cmocka_unit_test(test_cap_summary_severity),
        cmocka_unit_test(test_enable_disable),
        cmocka_unit_test(test_runaway_rule_is_stopped),
        cmocka_unit_test(test_shared_table_for_user_rule),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
