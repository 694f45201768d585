/*
 * test.h: include this (not <cmocka.h>) in every unit test.  cmocka 1.1.5's
 * header needs stdarg/stddef/stdint/setjmp before it.
 */
#ifndef SL_TESTS_UNIT_TEST_H
#define SL_TESTS_UNIT_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Asserts that the NUL-terminated s equals expected (both may be NULL). */
#define assert_str_or_null(s, expected)           \
    do {                                          \
        if ((expected) == NULL)                   \
            assert_null(s);                       \
        else {                                    \
            assert_non_null(s);                   \
            assert_string_equal((s), (expected)); \
        }                                         \
    } while (0)

/* Reads a whole file into a malloc'd buffer (one spare byte at its end) and
 * its size into *n; NULL if it cannot. */
static inline uint8_t *test_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long size;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        }
        *n = (size_t)size;
    }
    fclose(f);
    return buf;
}

#endif /* SL_TESTS_UNIT_TEST_H */
