/*
 * ws.c: WebSocket frame headers (RFC 6455 5.2) for SIP over WebSocket
 * (RFC 7118).  The stream side (handshake, messages) is in tcp.c; this reads
 * one frame header from the reassembled bytes through base/rd.h.
 */
#include "capture/tcp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/rd.h"

int sl_ws_frame_parse(const uint8_t *p, size_t n, uint64_t max_len, struct sl_ws_frame *fr,
                      char *why, size_t why_len)
{
    struct sl_rd r = sl_rd_init(p, n);
    uint8_t b0, b1, len7;
    uint64_t len;

    memset(fr, 0, sizeof(*fr));
    if (why_len > 0)
        why[0] = '\0';
    b0 = sl_rd_u8(&r);
    b1 = sl_rd_u8(&r);
    if (r.bad)
        return SL_WS_MORE;
    fr->fin = (b0 & 0x80) != 0;
    fr->opcode = (uint8_t)(b0 & 0x0f);
    fr->masked = (b1 & 0x80) != 0;
    len7 = (uint8_t)(b1 & 0x7f);
    if ((b0 & 0x70) != 0) {
        /* RSV1 is permessage-deflate (RFC 7692): not negotiated by SIP clients */
        snprintf(why, why_len, "reserved bits 0x%x set (an extension is not decoded)",
                 (unsigned)(b0 & 0x70) >> 4);
        return SL_WS_BAD;
    }
    if ((fr->opcode > SL_WS_BINARY && fr->opcode < SL_WS_CLOSE) || fr->opcode > SL_WS_PONG) {
        snprintf(why, why_len, "reserved opcode %u", (unsigned)fr->opcode);
        return SL_WS_BAD;
    }
    if (len7 == 126) {
        len = sl_rd_be16(&r);
    } else if (len7 == 127) {
        len = sl_rd_be64(&r);
        if (!r.bad && (len >> 63) != 0) {
            snprintf(why, why_len, "64-bit payload length with its top bit set");
            return SL_WS_BAD;
        }
    } else {
        len = len7;
    }
    if (r.bad)
        return SL_WS_MORE;
    if (fr->opcode >= SL_WS_CLOSE && (len > 125 || !fr->fin)) {
        snprintf(why, why_len, "control frame (opcode %u) %s", (unsigned)fr->opcode,
                 len > 125 ? "longer than 125 bytes" : "fragmented");
        return SL_WS_BAD;
    }
    if (len > max_len) {
        snprintf(why, why_len, "payload length %llu over the limit of %llu bytes",
                 (unsigned long long)len, (unsigned long long)max_len);
        return SL_WS_BAD;
    }
    if (fr->masked && !sl_rd_copy(&r, fr->key, 4))
        return SL_WS_MORE;
    fr->len = len;
    fr->hlen = n - r.n;
    if (r.n < len)
        return SL_WS_MORE;
    return SL_WS_OK;
}

void sl_ws_unmask(uint8_t *p, size_t n, const uint8_t key[4], size_t at)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] ^= key[(at + i) & 3];
}
