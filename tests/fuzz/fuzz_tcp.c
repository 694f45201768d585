/*
 * fuzz_tcp.c: TCP stream reassembly and SIP framing (lib/capture/tcp.c)
 * through sl_frame_decode_stream() on synthetic IPv4/TCP frames (DLT_RAW),
 * draining the messages and stream events after every segment as a capture
 * does, expiring at advancing capture times, and flushing at the end.
 *
 * Input: byte 0 picks the reassembler's limits (defaults, or small ones so
 * that they are reached); then records, each a 6-byte header and payload:
 *   h[0]: TCP flags (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10 ...);
 *   h[1] bits 0-1: connection (4), bit 2: direction, bits 3-4: sequence mode
 *        (0 next in order, 1 next + h[2]*16 ahead, 2 next - h[2] back,
 *        3 absolute h[2] << 24), bits 5-7: time advance (n*n*n s);
 *   h[2]: sequence argument;  h[3]: unused (kept for the format);
 *   h[4..5]: payload length (cut to what is left).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture/capture.h"
#include "capture/tcp.h"

#define DLT_RAW_IP 12 /* DLT_RAW */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink_sum;

static void drain(struct sl_tcp *t, struct sl_ipfrag *rf, int64_t now)
{
    struct sl_stream_msg m;
    struct sl_tcp_event ev;
    struct sl_ipfrag_event fe;
    unsigned s = 0;
    size_t i;

    while (sl_tcp_message(t, &m) == 1) {
        for (i = 0; i < m.len; i++)
            s += m.data[i];
        s += (unsigned)strnlen(m.text, sizeof(m.text));
    }
    while (sl_tcp_event(t, &ev) == 1)
        s += (unsigned)strnlen(ev.text, sizeof(ev.text));
    while (sl_ipfrag_poll(rf, now, false, &fe) == 1)
        s += (unsigned)fe.frames;
    sink_sum += s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pkt[40 + 65536];
    struct sl_tcp *t = NULL;
    struct sl_ipfrag *rf = NULL;
    struct sl_tcp_opts o = { 0 };
    struct sl_frame f;
    uint32_t next[8] = { 0 };
    size_t pos = 1;
    uint64_t number = 0;
    int64_t now = 1000000;

    if (size < 1)
        return 0;
    if (data[0] & 1) {
        o.max_streams = 1u + ((data[0] >> 1) & 3); /* 1..4 */
        o.max_bytes = (size_t)256 << ((data[0] >> 3) & 3);
        o.max_total = o.max_bytes * 2;
        o.idle_us = 5 * (int64_t)1000000;
        o.hold_us = 1 * (int64_t)1000000;
    }
    if (sl_tcp_new(&t, &o) != SL_OK)
        return 0;
    if (sl_ipfrag_new(&rf, NULL) != SL_OK) {
        sl_tcp_free(t);
        return 0;
    }
    while (size - pos >= 6) {
        const uint8_t *h = data + pos;
        unsigned conn = h[1] & 3, dir = (h[1] >> 2) & 1, mode = (h[1] >> 3) & 3;
        unsigned k = conn * 2 + dir;
        size_t n = ((size_t)h[4] << 8) | h[5], tot;
        int64_t adv = (int64_t)(h[1] >> 5);
        uint32_t seq;

        pos += 6;
        if (n > size - pos)
            n = size - pos;
        switch (mode) {
        case 0:
            seq = next[k];
            break;
        case 1:
            seq = next[k] + (uint32_t)h[2] * 16u;
            break;
        case 2:
            seq = next[k] - (uint32_t)h[2];
            break;
        default:
            seq = (uint32_t)h[2] << 24;
            break;
        }
        next[k] = seq + (uint32_t)n + ((h[0] & 0x03) ? 1u : 0u);

        tot = 40 + n;
        memset(pkt, 0, 40);
        pkt[0] = 0x45;
        pkt[2] = (uint8_t)(tot >> 8);
        pkt[3] = (uint8_t)tot;
        pkt[8] = 64;
        pkt[9] = 6; /* TCP */
        pkt[12] = 10;
        pkt[15] = (uint8_t)(dir ? 2 : 1);
        pkt[16] = 10;
        pkt[19] = (uint8_t)(dir ? 1 : 2);
        /* ports: 5060 on the "server" side, 40000 + conn on the client's */
        pkt[20] = (uint8_t)((dir ? 5060 : 40000 + conn) >> 8);
        pkt[21] = (uint8_t)(dir ? 5060 : 40000 + conn);
        pkt[22] = (uint8_t)((dir ? 40000 + conn : 5060) >> 8);
        pkt[23] = (uint8_t)(dir ? 40000 + conn : 5060);
        pkt[24] = (uint8_t)(seq >> 24);
        pkt[25] = (uint8_t)(seq >> 16);
        pkt[26] = (uint8_t)(seq >> 8);
        pkt[27] = (uint8_t)seq;
        pkt[32] = 0x50; /* data offset 5 */
        pkt[33] = h[0];
        pkt[34] = 0xff;
        pkt[35] = 0xff;
        memcpy(pkt + 40, data + pos, n);
        pos += n;

        now += adv * adv * adv * 1000000;
        memset(&f, 0, sizeof(f));
        f.number = ++number;
        f.ts_us = now;
        f.caplen = (uint32_t)tot;
        f.wirelen = (uint32_t)tot;
        sl_frame_decode_stream(DLT_RAW_IP, pkt, tot, tot, rf, t, &f);
        if (f.reason != NULL)
            sink_sum += (unsigned)strlen(f.reason);
        sl_tcp_expire(t, now, false);
        drain(t, rf, now);
        if (sl_tcp_in_flight(t) > (o.max_streams ? o.max_streams : SL_TCP_MAX_STREAMS))
            __builtin_trap(); /* memory must stay bounded */
    }
    sl_tcp_expire(t, now, true);
    drain(t, rf, now);
    if (sl_tcp_in_flight(t) != 0)
        __builtin_trap(); /* a flush settles every stream */
    sl_tcp_free(t);
    sl_ipfrag_free(rf);
    return 0;
}
