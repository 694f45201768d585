/*
 * test_session.c: sl_session_reset().  A session reset for new input must
 * give byte for byte what a new session gives (the JSON report, the call
 * list, the ladders) on every testdata capture, in any order, whatever the
 * inputs before it left behind; only a session on a temporary database can
 * be reset.  fuzz_capture relies on this to reuse one session per process.
 */
#include "test.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siplint.h"

#define MAX_CAPTURES 256

struct outputs {
    char *report, *calls, *flow;
};

static void outputs_fini(struct outputs *o)
{
    free(o->report);
    free(o->calls);
    free(o->flow);
    memset(o, 0, sizeof(*o));
}

/* Ingests path into s (new or reset) and renders the three outputs. */
static void render(struct sl_session *s, const char *path, struct outputs *o)
{
    struct sl_report_opts json = { SL_FORMAT_JSON, 0 }, text = { SL_FORMAT_TEXT, 0 };
    struct sl_err err;
    size_t len;

    memset(o, 0, sizeof(*o));
    if (sl_session_ingest(s, path, &err) != SL_OK)
        fail_msg("%s: %s", path, err.msg);
    assert_int_equal(sl_session_finish(s, &err), SL_OK);
    assert_int_equal(sl_session_report(s, &json, &o->report, &len, &err), SL_OK);
    assert_int_equal(sl_session_calls(s, &text, 1, &o->calls, &len, &err), SL_OK);
    assert_int_equal(sl_session_flow(s, NULL, &text, &o->flow, &len, &err), SL_OK);
}

static void fresh(const char *path, struct outputs *o)
{
    struct sl_session_opts so;
    struct sl_session *s = NULL;
    struct sl_err err;

    memset(&so, 0, sizeof(so));
    assert_int_equal(sl_session_open(&s, &so, &err), SL_OK);
    render(s, path, o);
    sl_session_close(s);
}

static void assert_same(const char *path, const struct outputs *a, const struct outputs *b)
{
    if (strcmp(a->report, b->report) != 0)
        fail_msg("%s: the report of a reset session differs", path);
    if (strcmp(a->calls, b->calls) != 0)
        fail_msg("%s: the call list of a reset session differs", path);
    if (strcmp(a->flow, b->flow) != 0)
        fail_msg("%s: the ladders of a reset session differ", path);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* testdata/<case>/capture.pcap(ng), sorted. */
static size_t captures(char **out, size_t max)
{
    DIR *d = opendir("testdata");
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL && n + 2 <= max) {
        static const char *const names[] = { "capture.pcap", "capture.pcapng" };
        size_t k;

        if (e->d_name[0] == '.')
            continue;
        for (k = 0; k < 2; k++) {
            char path[512];
            FILE *fp;

            snprintf(path, sizeof(path), "testdata/%s/%s", e->d_name, names[k]);
            if ((fp = fopen(path, "rb")) == NULL)
                continue;
            fclose(fp);
            out[n] = strdup(path);
            assert_non_null(out[n]);
            n++;
        }
    }
    closedir(d);
    qsort(out, n, sizeof(out[0]), name_cmp);
    return n;
}

/* One session, reset between the captures, forwards then backwards: every
 * output equals a new session's. */
static void test_reset_equals_new_session(void **state)
{
    static char *paths[MAX_CAPTURES];
    static struct outputs want[MAX_CAPTURES];
    size_t n = captures(paths, MAX_CAPTURES), i, pass;
    struct sl_session_opts so;
    struct sl_session *s = NULL;
    struct sl_err err;

    (void)state;
    assert_true(n > 40);
    for (i = 0; i < n; i++)
        fresh(paths[i], &want[i]);
    memset(&so, 0, sizeof(so));
    assert_int_equal(sl_session_open(&s, &so, &err), SL_OK);
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < n; i++) {
            size_t k = pass == 0 ? i : n - 1 - i;
            struct outputs got;

            if (pass > 0 || i > 0)
                assert_int_equal(sl_session_reset(s, &err), SL_OK);
            render(s, paths[k], &got);
            assert_same(paths[k], &want[k], &got);
            outputs_fini(&got);
        }
    }
    /* a reset in the middle of a load drops what was loaded */
    assert_int_equal(sl_session_reset(s, &err), SL_OK);
    assert_int_equal(sl_session_ingest(s, paths[0], &err), SL_OK);
    assert_int_equal(sl_session_reset(s, &err), SL_OK);
    {
        struct outputs got;

        render(s, paths[1], &got);
        assert_same(paths[1], &want[1], &got);
        outputs_fini(&got);
    }
    sl_session_close(s);
    for (i = 0; i < n; i++) {
        outputs_fini(&want[i]);
        free(paths[i]);
    }
}

/* Only a temporary database can be emptied; --db FILE is the user's. */
static void test_reset_refused_with_a_file(void **state)
{
    struct sl_session_opts so;
    struct sl_session *s = NULL;
    struct sl_err err;
    char path[] = "/tmp/test_session.XXXXXX";
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    memset(&so, 0, sizeof(so));
    so.db_path = path;
    assert_int_equal(sl_session_open(&s, &so, &err), SL_OK);
    assert_int_equal(sl_session_reset(s, &err), SL_EUSAGE);
    assert_string_equal(err.msg, "only a session on a temporary database can be reset");
    sl_session_close(s);
    (void)unlink(path);
    assert_int_equal(sl_session_reset(NULL, &err), SL_EUSAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_equals_new_session),
        cmocka_unit_test(test_reset_refused_with_a_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
