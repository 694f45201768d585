#include "test.h"

#include <stdlib.h>

#include "base/rd.h"
#include "base/sbuf.h"
#include "base/status.h"
#include "base/str.h"

static void test_rd_empty_reader_fails_every_read(void **state)
{
    struct sl_rd r = sl_rd_init(NULL, 0);
    struct sl_rd sub;

    (void)state;
    assert_int_equal(sl_rd_u8(&r), 0);
    assert_true(r.bad);
    /* sticky: a zero-length read after a failure still fails */
    assert_false(sl_rd_skip(&r, 0));
    assert_false(sl_rd_sub(&r, 0, &sub));
    assert_true(sub.bad);
}

static void test_rd_zero_length_reads_succeed_on_empty(void **state)
{
    struct sl_rd r = sl_rd_init(NULL, 0);
    struct sl_rd sub;

    (void)state;
    assert_true(sl_rd_skip(&r, 0));
    assert_true(sl_rd_sub(&r, 0, &sub));
    assert_false(sub.bad);
    assert_int_equal(sub.n, 0);
    assert_false(r.bad);
}

static void test_rd_reads_big_and_little_endian(void **state)
{
    static const uint8_t b[] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01,
                                 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09 };
    struct sl_rd r = sl_rd_init(b, sizeof(b));

    (void)state;
    assert_int_equal(sl_rd_be16(&r), 0x1234);
    assert_int_equal(sl_rd_le16(&r), 0x7856);
    assert_int_equal(sl_rd_be32(&r), 0x9abcdef0u);
    assert_int_equal(sl_rd_le32(&r), 0x04030201u);
    assert_true(sl_rd_be64(&r) == 0); /* only 5 bytes left: fails */
    assert_true(r.bad);
}

static void test_rd_short_input_is_sticky_bad(void **state)
{
    static const uint8_t b[] = { 0xff, 0xee, 0xdd };
    struct sl_rd r = sl_rd_init(b, sizeof(b));

    (void)state;
    assert_int_equal(sl_rd_be32(&r), 0);
    assert_true(r.bad);
    /* the failed read consumed nothing, but the reader stays bad */
    assert_int_equal(r.n, 3);
    assert_int_equal(sl_rd_u8(&r), 0);
}

static void test_rd_sub_cannot_see_past_its_length(void **state)
{
    static const uint8_t b[] = { 0, 4, 'a', 'b', 'c', 'd', 'e', 'f' };
    struct sl_rd r = sl_rd_init(b, sizeof(b));
    struct sl_rd sub;
    uint16_t len = sl_rd_be16(&r);

    (void)state;
    assert_true(sl_rd_sub(&r, len, &sub));
    assert_int_equal(sub.n, 4);
    assert_non_null(sl_rd_take(&sub, 4));
    assert_null(sl_rd_take(&sub, 1));
    assert_true(sub.bad);
    assert_false(r.bad);
    assert_int_equal(sl_rd_u8(&r), 'e');
}

static void test_rd_sub_with_lying_length_fails(void **state)
{
    static const uint8_t b[] = { 0xff, 0xff, 'a', 'b' };
    struct sl_rd r = sl_rd_init(b, sizeof(b));
    struct sl_rd sub;
    uint16_t len = sl_rd_be16(&r);

    (void)state;
    assert_false(sl_rd_sub(&r, len, &sub));
    assert_true(r.bad);
    assert_true(sub.bad);
    assert_int_equal(sub.n, 0);
}

static void test_rd_sub_upto_clamps_and_reports(void **state)
{
    static const uint8_t b[] = { 1, 2, 3 };
    struct sl_rd r = sl_rd_init(b, sizeof(b));
    struct sl_rd sub;

    (void)state;
    assert_false(sl_rd_sub_upto(&r, 10, &sub));
    assert_false(r.bad);
    assert_false(sub.bad);
    assert_int_equal(sub.n, 3);
    assert_int_equal(r.n, 0);
}

static void test_rd_garbled_input_every_length(void **state)
{
    uint8_t b[64];
    size_t len, i;

    (void)state;
    for (i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(i * 37u + 11u);
    /* A TLV walk over garbage of every length never reads out of bounds. */
    for (len = 0; len <= sizeof(b); len++) {
        struct sl_rd r = sl_rd_init(b, len);
        int chunks = 0;

        while (r.n > 0 && !r.bad && chunks < 100) {
            struct sl_rd chunk;
            uint8_t clen = sl_rd_u8(&r);

            if (!sl_rd_sub(&r, clen % 9u, &chunk))
                break;
            (void)sl_rd_be16(&chunk);
            chunks++;
        }
        assert_true(chunks < 100);
    }
}

static void test_status_fail_fills_err(void **state)
{
    struct sl_err err;

    (void)state;
    assert_int_equal(sl_fail(&err, SL_EFORMAT, "bad %s %d", "chunk", 7), SL_EFORMAT);
    assert_int_equal(err.code, SL_EFORMAT);
    assert_string_equal(err.msg, "bad chunk 7");
    assert_int_equal(sl_fail(NULL, SL_EIO, "x"), SL_EIO);
    assert_string_equal(sl_strerror(SL_EINPUT), "input unusable");
    assert_string_equal(sl_strerror(12345), "unknown error");
    sl_err_clear(&err);
    assert_int_equal(err.code, SL_OK);
    assert_string_equal(err.msg, "");
}

static void test_str_clean_replaces_invalid_utf8(void **state)
{
    static const char in[] = "ok \xc3\xa9 bad \xff \xc0\xaf \xed\xa0\x80 end";
    bool changed = false;
    char *out = sl_str_clean(in, sizeof(in) - 1, false, &changed);

    (void)state;
    assert_non_null(out);
    assert_true(changed);
    assert_string_equal(out, "ok \xc3\xa9 bad \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd "
                             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end");
    assert_true(sl_str_is_utf8(out, strlen(out)));
    free(out);
}

static void test_str_clean_escapes_controls_for_terminals(void **state)
{
    static const char in[] = "a\x1b[2Jb\x07\xc2\x9b"
                             "c\td";
    char *out = sl_str_clean(in, sizeof(in) - 1, true, NULL);

    (void)state;
    assert_non_null(out);
    assert_string_equal(out, "a\\x1b[2Jb\\x07\\x9bc\\x09d");
    free(out);
}

static void test_str_clean_keeps_nul_out(void **state)
{
    static const char in[] = { 'a', 0, 'b' };
    char *out = sl_str_clean(in, sizeof(in), false, NULL);

    (void)state;
    assert_string_equal(out, "a\xef\xbf\xbd"
                             "b");
    assert_false(sl_str_is_utf8(in, sizeof(in)));
    free(out);
}

static void test_sbuf_appends_and_grows(void **state)
{
    struct sl_sbuf b = { NULL, 0, 0, false };
    int i;

    (void)state;
    for (i = 0; i < 1000; i++)
        sl_sbuf_printf(&b, "%d,", i % 10);
    sl_sbuf_put(&b, "end", 3);
    assert_false(b.oom);
    assert_int_equal(b.len, 2003);
    assert_int_equal(strlen(b.p), 2003);
    assert_memory_equal(b.p, "0,1,2,", 6);
    assert_string_equal(b.p + 2000, "end");
    sl_sbuf_fini(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    sl_sbuf_fini(&b); /* twice is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rd_empty_reader_fails_every_read),
        cmocka_unit_test(test_rd_zero_length_reads_succeed_on_empty),
        cmocka_unit_test(test_rd_reads_big_and_little_endian),
        cmocka_unit_test(test_rd_short_input_is_sticky_bad),
        cmocka_unit_test(test_rd_sub_cannot_see_past_its_length),
        cmocka_unit_test(test_rd_sub_with_lying_length_fails),
        cmocka_unit_test(test_rd_sub_upto_clamps_and_reports),
        cmocka_unit_test(test_rd_garbled_input_every_length),
        cmocka_unit_test(test_status_fail_fills_err),
        cmocka_unit_test(test_str_clean_replaces_invalid_utf8),
        cmocka_unit_test(test_str_clean_escapes_controls_for_terminals),
        cmocka_unit_test(test_str_clean_keeps_nul_out),
        cmocka_unit_test(test_sbuf_appends_and_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
