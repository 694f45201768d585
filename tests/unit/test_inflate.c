/*
 * test_inflate.c: the DEFLATE decoder (lib/base/inflate.c) on vectors made by
 * python3's zlib (tests/unit/make-inflate-vectors.py writes
 * inflate_vectors.h): all three block types, a copy spanning the whole 32 KiB
 * window, gzip with every optional header field; then truncation at every
 * length, corrupt check values and headers, forbidden streams, the output
 * cap, and every single-bit flip of two vectors.
 */
#include "test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/inflate.h"
#include "inflate_vectors.h"

#define BIG 80000

/* WIN_X, then 'a', 'b' repeated up to byte gap, then WIN_X again (the
 * generator's win_expected()); returns its length. */
static size_t win_expected(uint8_t *out, size_t gap)
{
    size_t x = strlen(win_x), i;

    memcpy(out, win_x, x);
    for (i = x; i < gap; i++)
        out[i] = (uint8_t)((i - x) % 2 == 0 ? 'a' : 'b');
    memcpy(out + gap, win_x, x);
    return gap + x;
}

/* Decodes v (wrap) and checks the output against want; then with a cap one
 * byte short (over the cap) and exactly (fits). */
static void check_vector(const uint8_t *v, size_t n, enum sl_inflate_wrap wrap, const void *want,
                         size_t want_len)
{
    static uint8_t out[BIG];
    struct sl_inflate_res res;

    assert_int_equal(sl_inflate(v, n, wrap, out, sizeof(out), &res), SL_INFLATE_OK);
    assert_int_equal(res.out_len, want_len);
    assert_int_equal(res.in_used, n);
    if (want_len > 0)
        assert_memory_equal(out, want, want_len);
    assert_int_equal(sl_inflate(v, n, SL_INFLATE_AUTO, out, want_len, &res), SL_INFLATE_OK);
    assert_int_equal(res.out_len, want_len);
    if (want_len > 0) {
        assert_int_equal(sl_inflate(v, n, wrap, out, want_len - 1, &res), SL_INFLATE_OVER_CAP);
        assert_true(res.out_len <= want_len - 1);
    }
}

static void test_inflate_vectors(void **state)
{
    static uint8_t want[BIG];
    size_t n;

    (void)state;
    check_vector(v_stored, sizeof(v_stored), SL_INFLATE_ZLIB, sip_text, strlen(sip_text));
    check_vector(v_fixed, sizeof(v_fixed), SL_INFLATE_ZLIB, short_text, strlen(short_text));
    n = strlen(sip_text);
    memcpy(want, sip_text, n);
    memcpy(want + n, sip_text, n);
    memcpy(want + 2 * n, sip_text, n);
    check_vector(v_dynamic, sizeof(v_dynamic), SL_INFLATE_ZLIB, want, 3 * n);
    check_vector(v_empty, sizeof(v_empty), SL_INFLATE_ZLIB, "", 0);
    n = win_expected(want, 32400);
    check_vector(v_near, sizeof(v_near), SL_INFLATE_ZLIB, want, n);
    n = win_expected(want, 32768);
    check_vector(v_window, sizeof(v_window), SL_INFLATE_ZLIB, want, n);
    check_vector(v_gzip, sizeof(v_gzip), SL_INFLATE_GZIP, sip_text, strlen(sip_text));
    memset(want, 0, 70000);
    check_vector(v_zeros, sizeof(v_zeros), SL_INFLATE_ZLIB, want, 70000);
    /* the raw deflate data inside the zlib wrapper */
    {
        static uint8_t out[BIG];
        struct sl_inflate_res res;

        assert_int_equal(sl_inflate(v_stored + 2, sizeof(v_stored) - 6, SL_INFLATE_RAW, out,
                                    sizeof(out), &res),
                         SL_INFLATE_OK);
        assert_int_equal(res.out_len, strlen(sip_text));
    }
}

/* Every prefix of a vector is truncated (nothing else, never OK). */
static void check_prefixes(const uint8_t *v, size_t n, enum sl_inflate_wrap wrap)
{
    static uint8_t out[BIG];
    size_t k;

    for (k = 0; k < n; k++) {
        struct sl_inflate_res res;
        int rc = sl_inflate(v, k, wrap, out, sizeof(out), &res);

        if (rc != SL_INFLATE_TRUNCATED)
            fprintf(stderr, "prefix %zu of %zu: %s\n", k, n, sl_inflate_strerror(rc));
        assert_int_equal(rc, SL_INFLATE_TRUNCATED);
        assert_true(res.in_used <= k);
    }
}

static void test_inflate_truncated(void **state)
{
    (void)state;
    check_prefixes(v_stored, sizeof(v_stored), SL_INFLATE_ZLIB);
    check_prefixes(v_fixed, sizeof(v_fixed), SL_INFLATE_ZLIB);
    check_prefixes(v_dynamic, sizeof(v_dynamic), SL_INFLATE_ZLIB);
    check_prefixes(v_window, sizeof(v_window), SL_INFLATE_ZLIB);
    check_prefixes(v_gzip, sizeof(v_gzip), SL_INFLATE_GZIP);
    assert_int_equal(sl_inflate(NULL, 0, SL_INFLATE_RAW, NULL, 0, NULL), SL_INFLATE_TRUNCATED);
}

static void test_inflate_bad_check_and_header(void **state)
{
    static uint8_t v[1024], out[BIG];
    struct sl_inflate_res res;

    (void)state;
    /* Adler-32 */
    memcpy(v, v_dynamic, sizeof(v_dynamic));
    v[sizeof(v_dynamic) - 1] ^= 1;
    assert_int_equal(sl_inflate(v, sizeof(v_dynamic), SL_INFLATE_ZLIB, out, sizeof(out), &res),
                     SL_INFLATE_BAD_CHECK);
    assert_int_equal(res.out_len, 3 * strlen(sip_text)); /* decoded, then refused */
    /* gzip CRC-32 and ISIZE */
    memcpy(v, v_gzip, sizeof(v_gzip));
    v[sizeof(v_gzip) - 8] ^= 0x80;
    assert_int_equal(sl_inflate(v, sizeof(v_gzip), SL_INFLATE_GZIP, out, sizeof(out), NULL),
                     SL_INFLATE_BAD_CHECK);
    memcpy(v, v_gzip, sizeof(v_gzip));
    v[sizeof(v_gzip) - 4] ^= 1;
    assert_int_equal(sl_inflate(v, sizeof(v_gzip), SL_INFLATE_GZIP, out, sizeof(out), NULL),
                     SL_INFLATE_BAD_CHECK);
    /* zlib headers: FCHECK wrong, method 7, a 64 KiB window, a preset dictionary */
    memcpy(v, v_dynamic, sizeof(v_dynamic));
    v[1] ^= 1;
    assert_int_equal(sl_inflate(v, sizeof(v_dynamic), SL_INFLATE_ZLIB, out, sizeof(out), NULL),
                     SL_INFLATE_BAD_HEADER);
    v[0] = 0x77; /* method 7, with an FCHECK that passes */
    v[1] = (uint8_t)(31 - (0x7700 % 31));
    assert_int_equal(sl_inflate(v, sizeof(v_dynamic), SL_INFLATE_ZLIB, out, sizeof(out), NULL),
                     SL_INFLATE_BAD_HEADER);
    v[0] = 0x88; /* window 2^16 */
    v[1] = (uint8_t)(31 - (0x8800 % 31));
    assert_int_equal(sl_inflate(v, sizeof(v_dynamic), SL_INFLATE_ZLIB, out, sizeof(out), NULL),
                     SL_INFLATE_BAD_HEADER);
    v[0] = 0x78;
    v[1] = 0x20; /* FDICT, FCHECK right: 0x7820 = 31 * 993 */
    assert_int_equal(0x7820 % 31, 0);
    assert_int_equal(sl_inflate(v, sizeof(v_dynamic), SL_INFLATE_ZLIB, out, sizeof(out), NULL),
                     SL_INFLATE_BAD_HEADER);
    /* neither wrapper */
    assert_int_equal(
            sl_inflate((const uint8_t *)"\0\0\0\0", 4, SL_INFLATE_AUTO, out, sizeof(out), NULL),
            SL_INFLATE_BAD_HEADER);
    /* gzip: a reserved flag, a header CRC that does not match */
    memcpy(v, v_gzip, sizeof(v_gzip));
    v[3] |= 0x20;
    assert_int_equal(sl_inflate(v, sizeof(v_gzip), SL_INFLATE_GZIP, out, sizeof(out), NULL),
                     SL_INFLATE_BAD_HEADER);
    memcpy(v, v_gzip, sizeof(v_gzip));
    v[12] ^= 1; /* in FEXTRA */
    assert_int_equal(sl_inflate(v, sizeof(v_gzip), SL_INFLATE_GZIP, out, sizeof(out), NULL),
                     SL_INFLATE_BAD_HEADER);
}

static void test_inflate_bad_blocks(void **state)
{
    static uint8_t out[BIG];
    static const struct {
        const uint8_t *v;
        size_t n;
    } bad[] = {
        { v_bad_btype, sizeof(v_bad_btype) },   { v_bad_nlen, sizeof(v_bad_nlen) },
        { v_bad_far, sizeof(v_bad_far) },       { v_bad_lit286, sizeof(v_bad_lit286) },
        { v_bad_dist30, sizeof(v_bad_dist30) }, { v_bad_oversub, sizeof(v_bad_oversub) },
        { v_bad_hlit, sizeof(v_bad_hlit) },     { v_bad_rep16, sizeof(v_bad_rep16) },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = sl_inflate(bad[i].v, bad[i].n, SL_INFLATE_RAW, out, sizeof(out), NULL);

        if (rc != SL_INFLATE_BAD_BLOCK)
            fprintf(stderr, "bad vector %zu: %s\n", i, sl_inflate_strerror(rc));
        assert_int_equal(rc, SL_INFLATE_BAD_BLOCK);
    }
    assert_string_equal(sl_inflate_strerror(SL_INFLATE_BAD_BLOCK), "bad block");
    assert_string_equal(sl_inflate_strerror(SL_INFLATE_OVER_CAP), "over the output limit");
    assert_string_equal(sl_inflate_strerror(42), "unknown error");
}

/* Every single-bit flip: some result, within bounds (the sanitizers watch). */
static void flip_every_bit(const uint8_t *v0, size_t n)
{
    static uint8_t v[1024], out[BIG];
    size_t bit;

    assert_true(n <= sizeof(v));
    for (bit = 0; bit < n * 8; bit++) {
        struct sl_inflate_res res;
        int rc;

        memcpy(v, v0, n);
        v[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        rc = sl_inflate(v, n, SL_INFLATE_ZLIB, out, sizeof(out), &res);
        assert_true(rc <= SL_INFLATE_OK && rc >= SL_INFLATE_BAD_CHECK);
        assert_true(res.out_len <= sizeof(out));
        assert_true(res.in_used <= n);
        rc = sl_inflate(v, n, SL_INFLATE_RAW, out, 300, &res);
        assert_true(res.out_len <= 300);
    }
}

static void test_inflate_bit_flips(void **state)
{
    (void)state;
    flip_every_bit(v_dynamic, sizeof(v_dynamic));
    flip_every_bit(v_window, sizeof(v_window));
    flip_every_bit(v_fixed, sizeof(v_fixed));
}

static void test_checksums(void **state)
{
    (void)state;
    assert_int_equal(sl_adler32(1, (const uint8_t *)"Wikipedia", 9), 0x11e60398);
    assert_int_equal(sl_crc32(0, (const uint8_t *)"123456789", 9), 0xcbf43926);
    assert_int_equal(sl_adler32(1, NULL, 0), 1);
    assert_int_equal(sl_crc32(0, NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inflate_vectors),
        cmocka_unit_test(test_inflate_truncated),
        cmocka_unit_test(test_inflate_bad_check_and_header),
        cmocka_unit_test(test_inflate_bad_blocks),
        cmocka_unit_test(test_inflate_bit_flips),
        cmocka_unit_test(test_checksums),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
