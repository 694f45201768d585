/*
 * test_map.c: lib/base/map: put/get/del against a reference array under
 * random operations (growth, backward-shift deletion), the cap, iteration.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/map.h"
#include "siplint.h"

#define N_KEYS 2000

static void test_map_put_get_replace(void **state)
{
    struct sl_map *m = sl_map_new(0);
    int a = 1, b = 2;
    void *old = &a;

    (void)state;
    assert_non_null(m);
    assert_null(sl_map_get(m, "x", 1));
    assert_int_equal(sl_map_put(m, "x", 1, &a, &old), SL_OK);
    assert_null(old);
    assert_ptr_equal(sl_map_get(m, "x", 1), &a);
    assert_int_equal(sl_map_put(m, "x", 1, &b, &old), SL_OK);
    assert_ptr_equal(old, &a);
    assert_ptr_equal(sl_map_get(m, "x", 1), &b);
    assert_int_equal(sl_map_count(m), 1);
    /* keys are bytes: embedded NULs and the empty key work */
    assert_int_equal(sl_map_put(m, "a\0b", 3, &a, NULL), SL_OK);
    assert_int_equal(sl_map_put(m, "a\0c", 3, &b, NULL), SL_OK);
    assert_int_equal(sl_map_put(m, "", 0, &a, NULL), SL_OK);
    assert_ptr_equal(sl_map_get(m, "a\0b", 3), &a);
    assert_ptr_equal(sl_map_get(m, "a\0c", 3), &b);
    assert_ptr_equal(sl_map_get(m, "", 0), &a);
    /* delete only with the expected value */
    assert_false(sl_map_del(m, "x", 1, &a));
    assert_true(sl_map_del(m, "x", 1, &b));
    assert_false(sl_map_del(m, "x", 1, NULL));
    assert_int_equal(sl_map_count(m), 3);
    sl_map_free(m);
    sl_map_free(NULL);
}

static void test_map_random_ops_match_reference(void **state)
{
    static char keys[N_KEYS][16];
    static int present[N_KEYS];
    static int values[N_KEYS];
    struct sl_map *m = sl_map_new(0);
    size_t count = 0, pos = 0, seen = 0, klen;
    unsigned seed = 12345;
    const void *key;
    void *val;
    int i, op;

    (void)state;
    assert_non_null(m);
    for (i = 0; i < N_KEYS; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        values[i] = i;
    }
    for (op = 0; op < 200000; op++) {
        seed = seed * 1103515245u + 12345u;
        i = (int)((seed >> 8) % N_KEYS);
        if ((seed >> 4) % 3 != 0) {
            assert_int_equal(sl_map_put(m, keys[i], strlen(keys[i]), &values[i], NULL), SL_OK);
            if (!present[i])
                count++;
            present[i] = 1;
        } else {
            assert_int_equal(sl_map_del(m, keys[i], strlen(keys[i]), NULL), present[i] != 0);
            if (present[i])
                count--;
            present[i] = 0;
        }
        if (op % 1000 == 0) {
            int j;

            for (j = 0; j < N_KEYS; j++)
                assert_ptr_equal(sl_map_get(m, keys[j], strlen(keys[j])),
                                 present[j] ? &values[j] : NULL);
        }
    }
    assert_int_equal(sl_map_count(m), count);
    while (sl_map_next(m, &pos, &key, &klen, &val)) {
        int j = *(int *)val;

        assert_true(present[j]);
        assert_int_equal(klen, strlen(keys[j]));
        assert_memory_equal(key, keys[j], klen);
        seen++;
    }
    assert_int_equal(seen, count);
    sl_map_free(m);
}

static void test_map_cap_is_enforced(void **state)
{
    struct sl_map *m = sl_map_new(3);
    int v = 0;

    (void)state;
    assert_int_equal(sl_map_put(m, "a", 1, &v, NULL), SL_OK);
    assert_int_equal(sl_map_put(m, "b", 1, &v, NULL), SL_OK);
    assert_int_equal(sl_map_put(m, "c", 1, &v, NULL), SL_OK);
    assert_int_equal(sl_map_put(m, "d", 1, &v, NULL), SL_ELIMIT);
    assert_null(sl_map_get(m, "d", 1));
    assert_int_equal(sl_map_put(m, "a", 1, &v, NULL), SL_OK); // replacing is fine
    assert_true(sl_map_del(m, "b", 1, NULL));
    assert_int_equal(sl_map_put(m, "d", 1, &v, NULL), SL_OK);
    sl_map_free(m);
}

static void test_map_siphash_reference_vector(void **state)
{
    /* SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e */
    unsigned char msg[15];
    uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
    unsigned i;

    (void)state;
    for (i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)i;
    assert_true(sl_siphash(msg, sizeof(msg), k0, k1) == 0xa129ca6149be45e5ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_put_get_replace),
        cmocka_unit_test(test_map_random_ops_match_reference),
        cmocka_unit_test(test_map_cap_is_enforced),
        cmocka_unit_test(test_map_siphash_reference_vector),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
