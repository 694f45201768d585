/*
 * scan.h: the end of a line of a SIP message, for msg.c and lint.c.  Every
 * header row of every message is scanned twice (extraction, lint), so this
 * is eight bytes at a time.
 */
#ifndef SL_SIP_SCAN_H
#define SL_SIP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The length of the line at p: up to its first CR or LF, or all n bytes.
 * *plain is cleared when the line holds a byte outside printable ASCII and
 * HT (a control byte, NUL included, or a byte over 0x7e).  Eight bytes at a
 * time: a word's bytes under 0x20 (hasless(w, 0x20)) or over 0x7e
 * (hasmore(w, 0x7e), from Sean Anderson's "Bit Twiddling Hacks") are
 * flagged in their top bits.  A borrow or carry can only flag a byte after a
 * flagged one, so the lowest flag is exact: the scan jumps to that byte.
 * Linear whatever the bytes. */
static inline size_t sl_line_scan(const uint8_t *p, size_t n, bool *plain)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
    uint8_t c;

    while (n - i >= 8) {
        uint64_t w, flags;

        memcpy(&w, p + i, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w); /* the first byte in memory lowest */
#endif
        flags = (((w - ones * 0x20) & ~w) | ((w + ones) | w)) & highs;
        if (flags == 0) {
            i += 8;
            continue;
        }
        i += (size_t)__builtin_ctzll(flags) / 8;
        c = p[i];
        if (c == '\r' || c == '\n')
            return i;
        if (c != '\t')
            *plain = false;
        i++;
    }
    for (; i < n; i++) {
        c = p[i];
        if (c >= 0x20 && c < 0x7f)
            continue;
        if (c == '\r' || c == '\n')
            return i;
        if (c != '\t')
            *plain = false;
    }
    return n;
}

#endif /* SL_SIP_SCAN_H */
