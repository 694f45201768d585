#include "base/str.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is invalid
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t len, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

char *sl_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

bool sl_str_is_utf8(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k;

    while (i < n) {
        if (u[i] == 0 || (k = utf8_seq(u + i, n - i)) == 0)
            return false;
        i += k;
    }
    return true;
}

char *sl_str_clean(const char *s, size_t n, bool no_controls, bool *changed)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    char *out, *o;
    size_t i = 0, k;
    bool diff = false;

    /* Worst case: every byte becomes "\xNN" (4 bytes) or U+FFFD (3 bytes). */
    if (n > (SIZE_MAX - 1) / 4)
        return NULL;
    out = malloc(n * 4 + 1);
    if (out == NULL)
        return NULL;
    o = out;
    while (i < n) {
        k = u[i] == 0 ? 0 : utf8_seq(u + i, n - i);
        if (k == 0) {
            *o++ = (char)0xef;
            *o++ = (char)0xbf;
            *o++ = (char)0xbd;
            i++;
            diff = true;
            continue;
        }
        if (no_controls && k == 1 && (u[i] < 0x20 || u[i] == 0x7f)) {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[u[i] >> 4];
            *o++ = hex[u[i] & 15];
            i++;
            diff = true;
            continue;
        }
        if (no_controls && k == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0) {
            /* C1 controls U+0080..U+009F also drive terminals. */
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[u[i + 1] >> 4];
            *o++ = hex[u[i + 1] & 15];
            i += 2;
            diff = true;
            continue;
        }
        memcpy(o, u + i, k);
        o += k;
        i += k;
    }
    *o = '\0';
    if (changed != NULL)
        *changed = diff;
    return out;
}
