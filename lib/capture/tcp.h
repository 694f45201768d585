/*
 * tcp.h: TCP stream reassembly and SIP framing on streams (RFC 9293, RFC 3261
 * 18.3).  The public side (frames, messages, events of a capture) is in
 * capture.h; this is the reassembler's own interface, used by the decoder and
 * by the unit tests.
 */
#ifndef SL_CAPTURE_TCP_H
#define SL_CAPTURE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rd.h"
#include "capture/capture.h"

/* TCP header flags (RFC 9293 3.1). */
#define SL_TCP_FIN 0x01
#define SL_TCP_SYN 0x02
#define SL_TCP_RST 0x04
#define SL_TCP_ACK 0x10

/* One segment, as the decoder read it. */
struct sl_tcp_seg {
    struct sl_endpoint src, dst;
    uint32_t seq;
    uint8_t flags;
    const uint8_t *data; /* the payload (borrowed; copied when kept) */
    size_t len;
    uint64_t frame;
    int64_t ts_us;
};

/*
 * Feeds one segment.  Sets f->kind and f->reason: SL_FRAME_STREAM when the
 * segment completed at least one SIP message (read them with
 * sl_tcp_message()), otherwise OTHER ("TCP, no payload", "TCP retransmission",
 * "TCP segment of a SIP message", ...), NOT_DECODED ("TLS", "TCP (over a
 * limit)").  Problems (gaps, caps, framing errors) are queued for
 * sl_tcp_event().  Messages and events of the previous call that were not read
 * are discarded first.
 */
void sl_tcp_add(struct sl_tcp *t, const struct sl_tcp_seg *s, struct sl_frame *f);

/* Gives up streams idle since before now_us - timeout (and, with flush, every
 * stream): what they held is settled (gaps and unfinished messages reported). */
void sl_tcp_expire(struct sl_tcp *t, int64_t now_us, bool flush);

/* The next message completed (1) or none (0); valid until the next call of
 * sl_tcp_add() or sl_tcp_expire(). */
int sl_tcp_message(struct sl_tcp *t, struct sl_stream_msg *m);

/* The next problem (1) or none (0). */
int sl_tcp_event(struct sl_tcp *t, struct sl_tcp_event *ev);

/* Decodes a TCP header and segment (RFC 9293 3.1) from r (the IP payload,
 * `missing` bytes of it not captured) and feeds it to f->tcp; without a
 * reassembler the frame is NOT_DECODED ("TCP"). */
void sl_tcp_decode(struct sl_rd *r, size_t missing, struct sl_frame *f);

#endif /* SL_CAPTURE_TCP_H */
