/*
 * test_cut.c: real captures cut at every byte offset (issue 6), through the
 * public API on in-memory buffers, as `siplint check` would read them.
 *
 * For every length k from 0 to the whole file:
 *   - ingest gives SL_OK, or SL_EINPUT (exit 3) only while the file header
 *     (pcap: 24 bytes; pcapng: up to the end of the first Interface
 *     Description Block) is incomplete; never an internal error (exit 4);
 *   - the frames read are exactly the records that end at or before k;
 *   - a cut inside a record gives one SIP-CAP-001 finding naming the input
 *     (path "cut.pcap") and the record's frame number, and `complete` false;
 *     a cut on a record boundary is a shorter, whole file: no SIP-CAP-001;
 *   - everything else (frames, SIP messages, messages, transactions,
 *     dialogs, calls, other findings) is what the file cut at the last record
 *     boundary before k gives: every whole frame before the cut is kept and
 *     nothing of the cut one; so the SIP message count never decreases with k
 *     and is the full count at full length.
 * All rules run at the boundaries; in between only the SIP-CAP ones (the
 * ingested data is the same, and all rules at every byte would take minutes).
 */
#include "test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "siplint.h"

/* One input of a report. */
struct input {
    long long frames, sip, problems;
    bool complete;
    char path[64];
    int cap001;          /* SIP-CAP-001 findings of the input */
    long long cut_frame; /* the frame their evidence names */
    char cap001_msg[512];
};

/* What a session over one or more inputs gives. */
struct res {
    size_t n_inputs;
    struct input *in;
    long long messages, txns, dialogs, calls;
    int others; /* findings other than SIP-CAP-001 */
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t *load(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf;
    long len;

    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    len = ftell(fp);
    assert_true(len > 0);
    assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
    buf = malloc((size_t)len);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    *n = (size_t)len;
    return buf;
}

static long long jint(json_object *o, const char *key)
{
    json_object *v;

    assert_true(json_object_object_get_ex(o, key, &v));
    return json_object_get_int64(v);
}

/* The report of a finished session, read back into *r (free r->in). */
static void read_report(struct sl_session *s, struct res *r)
{
    struct sl_report_opts ro = { SL_FORMAT_JSON, 0 };
    struct sl_err err;
    json_object *root, *ins, *sum, *fs, *v;
    char *out = NULL;
    size_t len = 0, i;

    memset(r, 0, sizeof(*r));
    assert_int_equal(sl_session_finish(s, &err), SL_OK);
    assert_int_equal(sl_session_report(s, &ro, &out, &len, &err), SL_OK);
    root = json_tokener_parse(out);
    assert_non_null(root);
    assert_true(json_object_object_get_ex(root, "inputs", &ins));
    r->n_inputs = json_object_array_length(ins);
    r->in = calloc(r->n_inputs + 1, sizeof(*r->in));
    assert_non_null(r->in);
    for (i = 0; i < r->n_inputs; i++) {
        json_object *in = json_object_array_get_idx(ins, i);
        struct input *p = &r->in[i];

        p->frames = jint(in, "frames");
        p->sip = jint(in, "sip_messages");
        p->problems = jint(in, "problems");
        assert_true(json_object_object_get_ex(in, "complete", &v));
        p->complete = json_object_get_boolean(v);
        assert_true(json_object_object_get_ex(in, "path", &v));
        snprintf(p->path, sizeof(p->path), "%s", json_object_get_string(v));
    }
    assert_true(json_object_object_get_ex(root, "summary", &sum));
    r->messages = jint(sum, "messages");
    r->txns = jint(sum, "transactions");
    r->dialogs = jint(sum, "dialogs");
    r->calls = jint(sum, "calls");
    assert_true(json_object_object_get_ex(root, "findings", &fs));
    for (i = 0; i < json_object_array_length(fs); i++) {
        json_object *f = json_object_array_get_idx(fs, i), *ev;
        struct input *p;
        long long idx;

        assert_true(json_object_object_get_ex(f, "rule", &v));
        if (strcmp(json_object_get_string(v), "SIP-CAP-001") != 0) {
            r->others++;
            continue;
        }
        assert_true(json_object_object_get_ex(f, "evidence", &ev));
        assert_int_equal(json_object_array_length(ev), 1);
        ev = json_object_array_get_idx(ev, 0);
        idx = jint(ev, "input");
        assert_true(idx >= 0 && (size_t)idx < r->n_inputs);
        p = &r->in[idx];
        p->cap001++;
        p->cut_frame = jint(ev, "frame");
        assert_true(json_object_object_get_ex(f, "message", &v));
        snprintf(p->cap001_msg, sizeof(p->cap001_msg), "%s", json_object_get_string(v));
    }
    json_object_put(root);
    free(out);
}

/* The session of run_one(), reset between runs (test_session shows that a
 * reset session reports what a new one does; the rules are compiled once). */
static struct sl_session *one;

/* A session of its own over the first k bytes of buf, all rules. */
static void run_one(const uint8_t *buf, size_t k, struct res *r)
{
    struct sl_session_opts so;
    struct sl_err err;

    memset(&so, 0, sizeof(so));
    if (one == NULL)
        assert_int_equal(sl_session_open(&one, &so, &err), SL_OK);
    else
        assert_int_equal(sl_session_reset(one, &err), SL_OK);
    assert_int_equal(sl_session_ingest_mem(one, "cut.pcap", buf, k, &err), SL_OK);
    read_report(one, r);
    assert_int_equal(r->n_inputs, 1);
}

/*
 * The ends of the frame records of a pcap or pcapng file (ends[0] = end of
 * what libpcap needs to open it), written to ends; returns how many.
 */
static size_t record_ends(const uint8_t *b, size_t n, size_t *ends, size_t max)
{
    size_t k = 0, off;

    if (le32(b) == 0x0a0d0d0a) {
        /* pcapng: blocks; libpcap reads the SHB and the first IDB to open */
        off = 0;
        while (off + 12 <= n && k < max) {
            uint32_t type = le32(b + off), len = le32(b + off + 4);

            assert_true(len >= 12 && off + len <= n);
            off += len;
            if (type == 1 && k == 0)
                ends[k++] = off;
            else if (k > 0 && (type == 6 || type == 3 || type == 2))
                ends[k++] = off;
        }
    } else {
        assert_int_equal(le32(b), 0xa1b2c3d4);
        ends[k++] = off = 24;
        while (off + 16 <= n && k < max) {
            off += 16 + le32(b + off + 8);
            assert_true(off <= n);
            ends[k++] = off;
        }
    }
    assert_int_equal(off, n);
    return k;
}

/* The same frames, SIP messages, transactions, dialogs, calls and other
 * findings as the file cut at the record boundary before. */
static void assert_same_content(const char *path, size_t k, const struct res *a,
                                const struct res *b)
{
    if (a->in[0].frames != b->in[0].frames || a->in[0].sip != b->in[0].sip ||
        a->messages != b->messages || a->txns != b->txns || a->dialogs != b->dialogs ||
        a->calls != b->calls || a->others != b->others)
        fail_msg("%s cut at %zu: frames %lld sip %lld messages %lld txns %lld dialogs %lld calls "
                 "%lld findings %d; at the record boundary before: %lld %lld %lld %lld %lld %lld "
                 "%d",
                 path, k, a->in[0].frames, a->in[0].sip, a->messages, a->txns, a->dialogs, a->calls,
                 a->others, b->in[0].frames, b->in[0].sip, b->messages, b->txns, b->dialogs,
                 b->calls, b->others);
}

/* Cuts path at every offset; full_sip: its SIP message count. */
static void cut_everywhere(const char *path, long long full_sip)
{
    size_t n, k, ends[256] = { 0 }, n_ends, rec, i, used = 0;
    uint8_t *buf = load(path, &n);
    struct sl_session_opts so;
    struct sl_session *s = NULL;
    struct sl_err err;
    struct res all, whole, cut;
    long long last_sip = 0;
    size_t *input_of = calloc(n + 1, sizeof(*input_of));
    char name[64], want[64];

    assert_non_null(input_of);
    n_ends = record_ends(buf, n, ends, 256);
    assert_true(n_ends >= 2);

    /* Every cut is one input of one session (one database for all: a
     * session per cut would spend its time creating databases); only the
     * SIP-CAP rules run.  Each input is read by its own capture reader. */
    memset(&so, 0, sizeof(so));
    so.enable = "SIP-CAP";
    assert_int_equal(sl_session_open(&s, &so, &err), SL_OK);
    for (k = 0; k <= n; k++) {
        int rc;

        snprintf(name, sizeof(name), "cut@%zu", k);
        rc = sl_session_ingest_mem(s, name, buf, k, &err);
        if (k < ends[0]) {
            /* the file header is incomplete: unusable input, exit 3 */
            if (rc != SL_EINPUT || strncmp(err.msg, "not a pcap or pcapng file (", 27) != 0)
                fail_msg("%s cut at %zu (header incomplete): ingest %d '%s', want SL_EINPUT", path,
                         k, rc, err.msg);
            input_of[k] = SIZE_MAX;
            continue;
        }
        if (rc != SL_OK)
            fail_msg("%s cut at %zu: ingest %d (%s), want SL_OK", path, k, rc, err.msg);
        /* the note for the user (siplint prints it on stderr): the frame
         * cut, or nothing when the file ends on a record boundary */
        for (rec = 0; rec < n_ends && ends[rec] < k; rec++)
            continue;
        snprintf(want, sizeof(want), "capture ends in the middle of frame %zu (", rec);
        if (rec < n_ends && ends[rec] == k ? err.msg[0] != '\0'
                                           : strncmp(err.msg, want, strlen(want)) != 0)
            fail_msg("%s cut at %zu: note '%s'", path, k, err.msg);
        input_of[k] = used++;
    }
    read_report(s, &all);
    sl_session_close(s);
    assert_int_equal(all.n_inputs, used);

    rec = 0;
    for (k = ends[0]; k <= n; k++) {
        const struct input *in = &all.in[input_of[k]], *before;
        bool boundary;

        while (rec < n_ends && ends[rec] < k)
            rec++;
        boundary = rec < n_ends && ends[rec] == k;
        snprintf(name, sizeof(name), "cut@%zu", k);
        assert_string_equal(in->path, name);
        if (in->sip < last_sip)
            fail_msg("%s cut at %zu: %lld SIP messages < %lld before", path, k, in->sip, last_sip);
        last_sip = in->sip;
        if (boundary) {
            /* a whole file of `rec` frames */
            if (in->frames != (long long)rec || in->cap001 != 0 || !in->complete)
                fail_msg("%s cut at record boundary %zu: %lld frames (want %zu), %d SIP-CAP-001, "
                         "complete %d",
                         path, k, in->frames, rec, in->cap001, in->complete);
            if (k == n && in->sip != full_sip)
                fail_msg("%s: %lld SIP messages, want %lld", path, in->sip, full_sip);
            continue;
        }
        /* inside frame rec: the rec - 1 whole frames before it (what the file
         * cut at the boundary before gives), and one more problem: the cut */
        before = &all.in[input_of[ends[rec - 1]]];
        if (in->frames != (long long)rec - 1 || in->cap001 != 1 || in->complete ||
            in->cut_frame != (long long)rec || in->problems != before->problems + 1 ||
            in->sip != before->sip)
            fail_msg("%s cut at %zu: %lld frames (want %zu), %lld SIP messages (want %lld), %d "
                     "SIP-CAP-001 naming frame %lld (want %zu), complete %d, %lld problems (want "
                     "%lld)",
                     path, k, in->frames, rec - 1, in->sip, before->sip, in->cap001, in->cut_frame,
                     rec, in->complete, in->problems, before->problems + 1);
        snprintf(want, sizeof(want), "capture ends in the middle of frame %zu (", rec);
        if (strncmp(in->cap001_msg, want, strlen(want)) != 0)
            fail_msg("%s cut at %zu: SIP-CAP-001 says '%s'", path, k, in->cap001_msg);
    }
    assert_int_equal(last_sip, full_sip);
    free(all.in);

    /* All the rules, one session each, on every whole prefix and the file
     * cut one byte short of the next record's end: the same content. */
    for (i = 0; i + 1 < n_ends; i++) {
        run_one(buf, ends[i], &whole);
        run_one(buf, ends[i + 1] - 1, &cut);
        assert_same_content(path, ends[i + 1] - 1, &cut, &whole);
        free(whole.in);
        free(cut.in);
    }
    free(input_of);
    free(buf);
}

static void test_cut_pcap(void **state)
{
    (void)state;
    cut_everywhere("testdata/basic-call/capture.pcap", 7);
}

static void test_cut_pcapng(void **state)
{
    (void)state;
    cut_everywhere("testdata/basic-call/capture.pcapng", 7);
}

/* TCP: a cut leaves the stream as the end of the file would (flushed). */
static void test_cut_tcp(void **state)
{
    (void)state;
    cut_everywhere("testdata/tcp-basic-call/capture.pcap", 7);
}

/* IP fragments held at the cut are given up as at the end of the file. */
static void test_cut_fragments(void **state)
{
    (void)state;
    cut_everywhere("testdata/udp-fragments/capture.pcap", 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_pcap),
        cmocka_unit_test(test_cut_pcapng),
        cmocka_unit_test(test_cut_tcp),
        cmocka_unit_test(test_cut_fragments),
    };

    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    sl_session_close(one);
    return rc;
}
