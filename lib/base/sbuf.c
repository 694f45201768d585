#include "base/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for n more bytes and the NUL. */
static bool reserve(struct sl_sbuf *b, size_t n)
{
    size_t cap;
    char *p;

    if (b->oom)
        return false;
    if (b->cap - b->len > n)
        return true;
    cap = b->cap != 0 ? b->cap : 256;
    while (cap - b->len <= n) {
        if (cap > (size_t)-1 / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void sl_sbuf_put(struct sl_sbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sl_sbuf_printf(struct sl_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    (void)vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sl_sbuf_fini(struct sl_sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}
