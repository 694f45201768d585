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

#endif /* SL_TESTS_UNIT_TEST_H */
