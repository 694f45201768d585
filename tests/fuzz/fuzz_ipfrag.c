/*
 * fuzz_ipfrag.c: IPv4/IPv6 fragment reassembly (lib/capture/ipfrag.c) through
 * sl_frame_decode_reasm() on raw IP frames (DLT_RAW), with the reassembler's
 * events polled at advancing capture times and flushed at the end.
 *
 * Input: byte 0 picks the reassembler's caps (defaults, or small ones so that
 * the limits are reached); then records, each a 6-byte header and payload:
 *   h[0] bits 0-1: 0 raw IP packet (len from h[4..5]), 1 IPv4 fragment,
 *                  2 IPv6 fragment, 3 IPv4 fragment from another source;
 *        bit 2: More Fragments; bits 3-7: time advance (n*n*100 ms);
 *   h[1]: identification (a small space, so that fragments meet);
 *   h[2..3]: fragment offset in 8-byte units (13 bits);
 *   h[4..5]: payload length (cut to what is left).
 * Synthetic fragments carry a valid header (protocol UDP) around the payload.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture/capture.h"

#define DLT_RAW_IP 12 /* DLT_RAW */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink_sum;

/* Reads every byte of what the decoder handed back. */
static void touch_frame(const struct sl_frame *f)
{
    unsigned s = 0;
    size_t i;

    if (f->kind == SL_FRAME_DATAGRAM && f->payload != NULL)
        for (i = 0; i < f->payload_len; i++)
            s += f->payload[i];
    if (f->reason != NULL)
        s += (unsigned)strlen(f->reason);
    s += (unsigned)strnlen(f->detail, sizeof(f->detail));
    sink_sum += s;
}

static void drain(struct sl_ipfrag *rf, int64_t now, bool flush)
{
    struct sl_ipfrag_event ev;
    int n = 0;

    while (sl_ipfrag_poll(rf, now, flush, &ev) == 1) {
        sink_sum += (unsigned)strnlen(ev.text, sizeof(ev.text)) + (unsigned)ev.frames;
        if (ev.reason != NULL)
            sink_sum += (unsigned)strlen(ev.reason);
        if (++n > 1000000)
            __builtin_trap(); /* events must run out */
    }
}

static size_t build_v4(uint8_t *pkt, int src, unsigned id, unsigned off, bool mf, const uint8_t *p,
                       size_t n)
{
    size_t tot = 20 + n;

    memset(pkt, 0, 20);
    pkt[0] = 0x45;
    pkt[2] = (uint8_t)(tot >> 8);
    pkt[3] = (uint8_t)tot;
    pkt[4] = 0x12;
    pkt[5] = (uint8_t)id;
    pkt[6] = (uint8_t)(((off >> 8) & 0x1f) | (mf ? 0x20 : 0));
    pkt[7] = (uint8_t)off;
    pkt[8] = 64;
    pkt[9] = 17; /* UDP */
    pkt[12] = 10;
    pkt[15] = (uint8_t)(1 + src);
    pkt[16] = 10;
    pkt[19] = 9;
    memcpy(pkt + 20, p, n);
    return tot;
}

static size_t build_v6(uint8_t *pkt, unsigned id, unsigned off, bool mf, const uint8_t *p, size_t n)
{
    size_t plen = 8 + n;

    memset(pkt, 0, 48);
    pkt[0] = 0x60;
    pkt[4] = (uint8_t)(plen >> 8);
    pkt[5] = (uint8_t)plen;
    pkt[6] = 44; /* Fragment header */
    pkt[7] = 64;
    pkt[8] = 0x20;
    pkt[9] = 0x01;
    pkt[23] = 1;
    pkt[24] = 0x20;
    pkt[25] = 0x01;
    pkt[39] = 2;
    pkt[40] = 17; /* UDP */
    pkt[42] = (uint8_t)(off >> 5);
    pkt[43] = (uint8_t)(((off & 0x1f) << 3) | (mf ? 1 : 0));
    pkt[47] = (uint8_t)id;
    memcpy(pkt + 48, p, n);
    return 48 + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pkt[48 + 65536];
    struct sl_ipfrag *rf = NULL;
    struct sl_ipfrag_opts o = { 0 };
    struct sl_frame f;
    size_t pos = 1;
    uint64_t number = 0;
    int64_t now = 1000000;

    if (size < 1)
        return 0;
    if (data[0] & 1) {
        o.max_datagrams = 1u + (data[0] >> 5);        /* 1..8 */
        o.max_fragments = 1u + ((data[0] >> 1) & 15); /* 1..16 */
        o.timeout_us = 2 * (int64_t)1000000;
    }
    if (sl_ipfrag_new(&rf, &o) != SL_OK)
        return 0;
    while (size - pos >= 6) {
        const uint8_t *h = data + pos;
        unsigned mode = h[0] & 3, id = h[1];
        unsigned off = ((unsigned)(h[2] & 0x1f) << 8) | h[3];
        bool mf = (h[0] & 4) != 0;
        size_t n = ((size_t)h[4] << 8) | h[5], len;
        int64_t adv = (int64_t)(h[0] >> 3);

        pos += 6;
        if (n > size - pos)
            n = size - pos;
        if (mode == 0) {
            memcpy(pkt, data + pos, n);
            len = n;
        } else if (mode == 2) {
            len = build_v6(pkt, id, off, mf, data + pos, n);
        } else {
            len = build_v4(pkt, mode == 3, id, off, mf, data + pos, n);
        }
        pos += n;
        now += adv * adv * 100000;
        memset(&f, 0, sizeof(f));
        f.number = ++number;
        f.ts_us = now;
        f.caplen = (uint32_t)len;
        f.wirelen = (uint32_t)len;
        sl_frame_decode_reasm(DLT_RAW_IP, pkt, len, len, rf, &f);
        touch_frame(&f);
        drain(rf, now, false);
        if (sl_ipfrag_in_flight(rf) > (o.max_datagrams ? o.max_datagrams : SL_IPFRAG_MAX_DATAGRAMS))
            __builtin_trap(); /* memory must stay bounded */
    }
    drain(rf, now, true);
    if (sl_ipfrag_in_flight(rf) != 0)
        __builtin_trap(); /* a flush settles everything */
    sl_ipfrag_free(rf);
    return 0;
}
