/*
 * fuzz_capture.c: the whole pipeline from capture bytes held in memory:
 * capture -> sip -> txn -> store (a temporary SQLite database) -> findings
 * -> the JSON and text reports and the call list.  Built with libFuzzer by
 * `make fuzz`, and as a plain program (replay.c) that `make check` runs
 * over tests/fuzz/corpus/capture/ and the testdata captures.
 *
 * One session serves every input: sl_session_reset() empties it in between
 * and keeps its database connection and the SQL rules compiled on it, which
 * were most of the cost of an input (tests/unit/test_session.c checks that a
 * reset session gives what a new one gives).  Set SIPLINT_FUZZ_FRESH=1 to
 * open a new session per input instead.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "siplint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sl_session *s;
    static int fresh = -1;
    struct sl_session_opts so = { 0 };
    struct sl_report_opts ro = { SL_FORMAT_JSON, 0 };
    struct sl_err err;
    char *out = NULL;
    size_t len = 0;

    if (fresh < 0)
        fresh = getenv("SIPLINT_FUZZ_FRESH") != NULL;
    if (s != NULL && (fresh || sl_session_reset(s, &err) != SL_OK)) {
        sl_session_close(s);
        s = NULL;
    }
    if (s == NULL && sl_session_open(&s, &so, &err) != SL_OK)
        abort(); /* a temporary database must always open */
    if (sl_session_ingest_mem(s, "fuzz", data, size, &err) == SL_OK &&
        sl_session_finish(s, &err) == SL_OK) {
        if (sl_session_report(s, &ro, &out, &len, &err) != SL_OK)
            abort();
        free(out);
        ro.format = SL_FORMAT_TEXT;
        if (sl_session_calls(s, &ro, 1, &out, &len, &err) != SL_OK)
            abort();
        free(out);
        if (sl_session_flow(s, NULL, &ro, &out, &len, &err) != SL_OK)
            abort();
        free(out);
    }
    return 0;
}
