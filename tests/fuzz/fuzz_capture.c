/*
 * fuzz_capture.c: the whole pipeline from capture bytes held in memory:
 * capture -> sip -> txn -> store (a temporary SQLite database) -> findings
 * -> the JSON and text reports and the call list.  Built with libFuzzer by
 * `make fuzz`, and as a plain program (replay.c) that `make check` runs
 * over tests/fuzz/corpus/capture/ and the testdata captures.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "siplint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_session *s = NULL;
    struct sl_session_opts so = { 0 };
    struct sl_report_opts ro = { SL_FORMAT_JSON, 0 };
    struct sl_err err;
    char *out = NULL;
    size_t len = 0;

    if (sl_session_open(&s, &so, &err) != SL_OK)
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
    sl_session_close(s);
    return 0;
}
