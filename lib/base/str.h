/*
 * str.h: small string helpers for text that came off the wire.
 */
#ifndef SL_BASE_STR_H
#define SL_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>

/* Returns a malloc'd, NUL-terminated copy of the n bytes at s that is valid
 * UTF-8: every invalid or overlong sequence becomes U+FFFD.  With
 * no_controls, C0 controls (except none), DEL and C1 controls become "\xNN"
 * text, so the result is safe to write to a terminal.  *changed (may be NULL)
 * is set when the copy differs from the input.  NULL on out of memory. */
char *sl_str_clean(const char *s, size_t n, bool no_controls, bool *changed);

/* A malloc'd NUL-terminated copy of the n bytes at s (which may hold NULs),
 * or NULL on out of memory. */
char *sl_strndup(const char *s, size_t n);

/* True when the n bytes at s are valid UTF-8 with no NUL. */
bool sl_str_is_utf8(const char *s, size_t n);

#endif /* SL_BASE_STR_H */
