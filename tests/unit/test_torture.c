/*
 * test_torture.c: the RFC 4475 torture messages through the whole pipeline
 * (docs/torture.md).  Each message of $CORPUS/rfc4475 (default
 * ../shared/corpus; skipped when absent: the corpus is never committed) is
 * wrapped in one UDP datagram of an in-memory pcap and ingested by a session
 * of its own; what siplint made of it (parsed or refused; Call-ID, CSeq and
 * tags as stored in table message; every finding) is written as a few lines
 * and compared with tests/torture.expected, which was written by
 * UPDATE=1 build/tests/test_torture and checked by hand against the RFC.
 * On top of the table, the RFC's verdicts are checked: every message of
 * section 3.1.1 (valid) is parsed, except the documented libosip2 gaps, and
 * every message of section 3.1.2 (invalid) has a SIP-HDR finding.
 *
 * The messages of $CORPUS/parser-messages (other stacks' test suites) run
 * through the same path (without the SQL rules: only whether a message is
 * stored counts there): no crash (the sanitizer build runs this too), and
 * the counts of parsed and refused messages are in the table too.
 */
#include "test.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "siplint.h"

#define EXPECTED  "tests/torture.expected"
#define MAX_FILES 512

/* RFC 4475 section 3: file, section, what the RFC says of it. */
struct torture {
    const char *name;
    const char *section;
    const char *kind; /* "valid" (3.1.1), "invalid" (3.1.2), "semantic" (3.2-3.4: valid syntax) */
};

/* clang-format off */
static const struct torture tortures[] = {
    { "wsinv", "3.1.1.1", "valid" },        { "intmeth", "3.1.1.2", "valid" },
    { "esc01", "3.1.1.3", "valid" },        { "escnull", "3.1.1.4", "valid" },
    { "esc02", "3.1.1.5", "valid" },        { "lwsdisp", "3.1.1.6", "valid" },
    { "longreq", "3.1.1.7", "valid" },      { "dblreq", "3.1.1.8", "valid" },
    { "semiuri", "3.1.1.9", "valid" },      { "transports", "3.1.1.10", "valid" },
    { "mpart01", "3.1.1.11", "valid" },     { "unreason", "3.1.1.12", "valid" },
    { "noreason", "3.1.1.13", "valid" },
    { "badinv01", "3.1.2.1", "invalid" },   { "clerr", "3.1.2.2", "invalid" },
    { "ncl", "3.1.2.3", "invalid" },        { "scalar02", "3.1.2.4", "invalid" },
    { "scalarlg", "3.1.2.5", "invalid" },   { "quotbal", "3.1.2.6", "invalid" },
    { "ltgtruri", "3.1.2.7", "invalid" },   { "lwsruri", "3.1.2.8", "invalid" },
    { "lwsstart", "3.1.2.9", "invalid" },   { "trws", "3.1.2.10", "invalid" },
    { "escruri", "3.1.2.11", "invalid" },   { "baddate", "3.1.2.12", "invalid" },
    { "regbadct", "3.1.2.13", "invalid" },  { "badaspec", "3.1.2.14", "invalid" },
    { "baddn", "3.1.2.15", "invalid" },     { "badvers", "3.1.2.16", "invalid" },
    { "mismatch01", "3.1.2.17", "invalid" }, { "mismatch02", "3.1.2.18", "invalid" },
    { "bigcode", "3.1.2.19", "invalid" },
    { "badbranch", "3.2.1", "semantic" },
    { "insuf", "3.3.1", "semantic" },       { "unkscm", "3.3.2", "semantic" },
    { "novelsc", "3.3.3", "semantic" },     { "unksm2", "3.3.4", "semantic" },
    { "bext01", "3.3.5", "semantic" },      { "invut", "3.3.6", "semantic" },
    { "regaut01", "3.3.7", "semantic" },    { "multi01", "3.3.8", "semantic" },
    { "mcl01", "3.3.9", "semantic" },       { "bcast", "3.3.10", "semantic" },
    { "zeromf", "3.3.11", "semantic" },     { "cparam01", "3.3.12", "semantic" },
    { "cparam02", "3.3.13", "semantic" },   { "regescrt", "3.3.14", "semantic" },
    { "sdp01", "3.3.15", "semantic" },
    { "inv2543", "3.4.1", "semantic" },
};
/* clang-format on */

/* Valid messages libosip2 5.3 refuses (docs/torture.md says why). */
static const char *const valid_refused[] = { "intmeth", "novelsc" };

/* Invalid messages whose problem has a finding of another family than
 * SIP-HDR: the RULES.md ID for it (docs/torture.md). */
static const struct {
    const char *name, *rule;
} invalid_other[] = { { "mismatch01", "SIP-CSEQ-008" }, { "mismatch02", "SIP-CSEQ-008" } };

/* Whether invalid message name has its other-family finding in text. */
static bool flagged_otherwise(const char *name, const char *text)
{
    size_t i;

    for (i = 0; i < sizeof(invalid_other) / sizeof(invalid_other[0]); i++)
        if (strcmp(invalid_other[i].name, name) == 0 && strstr(text, invalid_other[i].rule))
            return true;
    return false;
}

#define N_TORTURES (sizeof(tortures) / sizeof(tortures[0]))

static bool listed(const char *name, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

static const char *corpus_dir(void)
{
    const char *c = getenv("CORPUS");

    return c != NULL && c[0] != '\0' ? c : "../shared/corpus";
}

/* ---- text ------------------------------------------------------------- */

struct text {
    char *p;
    size_t n, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;

        while (cap < t->n + n + 1)
            cap *= 2;
        t->p = realloc(t->p, cap);
        assert_non_null(t->p);
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

static void puts_(struct text *t, const char *s)
{
    put(t, s, strlen(s));
}

/* s with bytes outside printable ASCII (and backslash) as \xNN; "(null)" for NULL. */
static void put_escaped(struct text *t, const char *s)
{
    char hex[8];

    if (s == NULL) {
        puts_(t, "(null)");
        return;
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x20 || c > 0x7e || c == '\\') {
            snprintf(hex, sizeof(hex), "\\x%02x", c);
            puts_(t, hex);
        } else {
            put(t, s, 1);
        }
    }
}

/* ---- one message through the pipeline --------------------------------- */

static void le16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    le16(p, v & 0xffff);
    le16(p + 2, v >> 16);
}

static void be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)(v & 0xff);
}

/* A pcap of one Ethernet/IPv4/UDP frame 192.0.2.1:5060 -> 192.0.2.2:5060
 * with msg as payload; *len gets its size.  NULL when msg does not fit. */
static uint8_t *wrap(const uint8_t *msg, size_t n, size_t *len)
{
    static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
    size_t frame = 14 + 20 + 8 + n;
    uint8_t *b, *ip, *udp;

    if (20 + 8 + n > 65535)
        return NULL;
    b = calloc(1, 24 + 16 + frame);
    assert_non_null(b);
    le32(b, 0xa1b2c3d4);
    le16(b + 4, 2);
    le16(b + 6, 4);
    le32(b + 16, 65535);
    le32(b + 20, 1);
    le32(b + 24, 1795000000); /* 2026-11-17 */
    le32(b + 28, 0);
    le32(b + 32, (uint32_t)frame);
    le32(b + 36, (uint32_t)frame);
    memcpy(b + 40, eth, sizeof(eth));
    ip = b + 40 + 14;
    ip[0] = 0x45;
    be16(ip + 2, (unsigned)(20 + 8 + n));
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = 192;
    ip[14] = 2;
    ip[15] = 1;
    ip[16] = 192;
    ip[18] = 2;
    ip[19] = 2;
    udp = ip + 20;
    be16(udp, 5060);
    be16(udp + 2, 5060);
    be16(udp + 4, (unsigned)(8 + n));
    memcpy(udp + 8, msg, n);
    *len = 24 + 16 + frame;
    return b;
}

enum outcome {
    STORED,  /* parsed and stored */
    REFUSED, /* a SIP message, not parsed (a finding says why) */
    NOT_SIP, /* not recognised as SIP at all */
    TOO_BIG  /* does not fit in one UDP datagram */
};

/* Ingests the message in a session of its own; appends what siplint made of
 * it to t (the stored fields, then one line per finding).  *hdr: a SIP-HDR
 * finding was reported. */
static enum outcome run_message(const uint8_t *msg, size_t n, struct text *t, bool *hdr,
                                bool all_rules)
{
    static int seq;
    struct sl_session_opts so;
    struct sl_report_opts ro = { SL_FORMAT_JSON, 0 };
    struct sl_session *s = NULL;
    struct sl_err err;
    char db_path[64], *out = NULL;
    size_t len = 0, pcap_len = 0, i;
    uint8_t *pcap = wrap(msg, n, &pcap_len);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    json_object *root, *fs, *v;
    bool stored = false;
    long long sip;

    *hdr = false;
    if (pcap == NULL) {
        puts_(t, "  (too large for a UDP datagram)\n");
        return TOO_BIG;
    }
    snprintf(db_path, sizeof(db_path), "/tmp/test_torture.%ld.%d.db", (long)getpid(), seq++);
    memset(&so, 0, sizeof(so));
    so.db_path = db_path;
    so.enable = all_rules ? NULL : "SIP-CAP,SIP-HDR"; /* the findings of the C stages only */
    assert_int_equal(sl_session_open(&s, &so, &err), SL_OK);
    assert_int_equal(sl_session_ingest_mem(s, "torture.pcap", pcap, pcap_len, &err), SL_OK);
    assert_int_equal(sl_session_finish(s, &err), SL_OK);
    assert_int_equal(sl_session_report(s, &ro, &out, &len, &err), SL_OK);
    sl_session_close(s);
    free(pcap);

    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT first_line, call_id, cseq_num, cseq_method, "
                                        "from_tag, to_tag FROM message ORDER BY msg_id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        stored = true;
        puts_(t, "  parsed: ");
        put_escaped(t, (const char *)sqlite3_column_text(st, 0));
        puts_(t, "\n    call-id ");
        put_escaped(t, (const char *)sqlite3_column_text(st, 1));
        puts_(t, " | cseq ");
        put_escaped(t, (const char *)sqlite3_column_text(st, 2));
        puts_(t, " ");
        put_escaped(t, (const char *)sqlite3_column_text(st, 3));
        puts_(t, " | from-tag ");
        put_escaped(t, (const char *)sqlite3_column_text(st, 4));
        puts_(t, " | to-tag ");
        put_escaped(t, (const char *)sqlite3_column_text(st, 5));
        puts_(t, "\n");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(unlink(db_path), 0);
    root = json_tokener_parse(out);
    assert_non_null(root);
    assert_true(json_object_object_get_ex(root, "inputs", &v));
    assert_true(json_object_object_get_ex(json_object_array_get_idx(v, 0), "sip_messages", &v));
    sip = json_object_get_int64(v);
    if (!stored)
        puts_(t, sip > 0 ? "  refused\n" : "  not SIP\n");
    assert_true(json_object_object_get_ex(root, "findings", &fs));
    for (i = 0; i < json_object_array_length(fs); i++) {
        json_object *f = json_object_array_get_idx(fs, i), *rule, *sev, *message;

        assert_true(json_object_object_get_ex(f, "rule", &rule));
        assert_true(json_object_object_get_ex(f, "severity", &sev));
        assert_true(json_object_object_get_ex(f, "message", &message));
        if (strncmp(json_object_get_string(rule), "SIP-HDR-", 8) == 0)
            *hdr = true;
        puts_(t, "  ");
        puts_(t, json_object_get_string(rule));
        puts_(t, " ");
        puts_(t, json_object_get_string(sev));
        puts_(t, ": ");
        put_escaped(t, json_object_get_string(message));
        puts_(t, "\n");
    }
    json_object_put(root);
    free(out);
    return stored ? STORED : sip > 0 ? REFUSED : NOT_SIP;
}

/* ---- the table ---------------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The files of dir (not starting with '.'), sorted; recursing one level. */
static size_t list_files(const char *dir, char **out, size_t max, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL && n < max) {
        char path[1024];
        DIR *sub;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (depth < 4 && (sub = opendir(path)) != NULL) {
            closedir(sub);
            n += list_files(path, out + n, max - n, depth + 1);
            continue;
        }
        out[n] = strdup(path);
        assert_non_null(out[n]);
        n++;
    }
    closedir(d);
    if (depth == 0)
        qsort(out, n, sizeof(out[0]), name_cmp);
    return n;
}

static void test_rfc4475(void **state)
{
    char dir[512], path[1024];
    struct text all = { 0 };
    size_t i, parsed = 0, refused = 0;
    uint8_t *want;
    size_t want_len = 0;
    int bad = 0;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/rfc4475", corpus_dir());
    snprintf(path, sizeof(path), "%s/wsinv.sip", dir);
    if (access(path, R_OK) != 0) {
        print_message("skipped: %s is absent (set CORPUS)\n", dir);
        skip();
    }
    puts_(&all, "# RFC 4475 torture messages through siplint (tests/unit/test_torture.c,\n"
                "# docs/torture.md).  Written by UPDATE=1 build/tests/test_torture; checked by\n"
                "# hand against the RFC.  Per message: file, section, what the RFC says\n"
                "# (valid 3.1.1, invalid 3.1.2, semantic 3.2-3.4: valid syntax), then what was\n"
                "# stored (or refused) and every finding.\n");
    for (i = 0; i < N_TORTURES; i++) {
        const struct torture *tt = &tortures[i];
        struct text t = { 0 };
        uint8_t *msg;
        size_t n = 0;
        bool hdr, stored;
        char line[128];
        enum outcome oc;

        snprintf(path, sizeof(path), "%s/%s.sip", dir, tt->name);
        msg = test_slurp(path, &n);
        if (msg == NULL)
            fail_msg("%s: cannot read", path);
        snprintf(line, sizeof(line), "\n%s %s %s\n", tt->name, tt->section, tt->kind);
        puts_(&t, line);
        oc = run_message(msg, n, &t, &hdr, true);
        stored = oc == STORED;
        free(msg);
        stored ? parsed++ : refused++;
        if (strcmp(tt->kind, "valid") == 0 && !stored &&
            !listed(tt->name, valid_refused, sizeof(valid_refused) / sizeof(valid_refused[0]))) {
            print_message("%s (%s, valid) was refused\n", tt->name, tt->section);
            bad++;
        }
        if (strcmp(tt->kind, "invalid") == 0 && !hdr && !flagged_otherwise(tt->name, t.p)) {
            print_message("%s (%s, invalid) has no SIP-HDR finding\n", tt->name, tt->section);
            bad++;
        }
        puts_(&all, t.p);
        free(t.p);
    }
    {
        char line[128];

        snprintf(line, sizeof(line), "\nrfc4475: %zu messages, %zu parsed, %zu refused\n",
                 N_TORTURES, parsed, refused);
        puts_(&all, line);
    }

    /* parser-messages: no crash; what became of them, per source */
    {
        static char *files[MAX_FILES];
        char src[16][96];
        size_t n_files, n_src = 0, count[17][4], j;
        char line[384];

        memset(count, 0, sizeof(count));
        snprintf(dir, sizeof(dir), "%s/parser-messages", corpus_dir());
        n_files = list_files(dir, files, MAX_FILES, 0);
        for (i = 0; i < n_files; i++) {
            const char *rel = files[i] + strlen(dir) + 1, *slash = strchr(rel, '/');
            size_t len = slash != NULL ? (size_t)(slash - rel) : strlen(rel);
            struct text t = { 0 };
            uint8_t *msg;
            size_t n = 0;
            bool hdr;
            enum outcome oc;

            for (j = 0; j < n_src; j++)
                if (strlen(src[j]) == len && strncmp(src[j], rel, len) == 0)
                    break;
            if (j == n_src && n_src < 16)
                snprintf(src[n_src++], sizeof(src[0]), "%.*s", (int)len, rel);
            msg = test_slurp(files[i], &n);
            assert_non_null(msg);
            oc = n == 0 ? NOT_SIP : run_message(msg, n, &t, &hdr, false);
            count[j][oc]++;
            count[16][oc]++;
            free(t.p);
            free(msg);
            free(files[i]);
        }
        for (j = 0; j <= 16; j++) {
            if (j < 16 && j >= n_src)
                continue;
            snprintf(line, sizeof(line),
                     "%s%.90s: %zu files: %zu parsed, %zu refused, %zu not SIP, %zu over 65507 "
                     "bytes\n",
                     j == 16 ? "parser-messages" : "parser-messages/", j == 16 ? "" : src[j % 16],
                     count[j][STORED] + count[j][REFUSED] + count[j][NOT_SIP] + count[j][TOO_BIG],
                     count[j][STORED], count[j][REFUSED], count[j][NOT_SIP], count[j][TOO_BIG]);
            puts_(&all, line);
        }
    }

    if (getenv("UPDATE") != NULL) {
        FILE *f = fopen(EXPECTED, "wb");

        assert_non_null(f);
        assert_int_equal(fwrite(all.p, 1, all.n, f), all.n);
        assert_int_equal(fclose(f), 0);
        print_message("wrote %s: read it against the RFC before committing\n", EXPECTED);
    } else {
        want = test_slurp(EXPECTED, &want_len);
        assert_non_null(want);
        if (want_len != all.n || memcmp(want, all.p, all.n) != 0) {
            FILE *f = fopen("build/torture.actual", "wb");

            if (f != NULL) {
                (void)fwrite(all.p, 1, all.n, f);
                fclose(f);
            }
            print_message("%s differs from what siplint does now: diff -u %s "
                          "build/torture.actual\n",
                          EXPECTED, EXPECTED);
            bad++;
        }
        free(want);
    }
    free(all.p);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4475),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
