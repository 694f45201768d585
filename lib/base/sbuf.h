/*
 * sbuf.h: a growing text buffer for building output.  Appends never fail
 * loudly: on an allocation failure `oom` is set, later appends do nothing,
 * and the owner checks `oom` once at the end (like the reader's `bad`).
 */
#ifndef SL_BASE_SBUF_H
#define SL_BASE_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sl_sbuf {
    char *p;    /* NUL-terminated once anything was appended; owned */
    size_t len; /* bytes in p, without the NUL */
    size_t cap;
    bool oom; /* sticky: an allocation failed */
};

/* Appends printf-style text. */
void sl_sbuf_printf(struct sl_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends n bytes. */
void sl_sbuf_put(struct sl_sbuf *b, const char *s, size_t n);

/* Frees the buffer and zeroes it.  Accepts a zeroed buffer. */
void sl_sbuf_fini(struct sl_sbuf *b);

#endif /* SL_BASE_SBUF_H */
