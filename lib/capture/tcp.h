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

/*
 * WebSocket frames (RFC 6455 5.2; ws.c).  sl_ws_frame_parse reads the frame
 * header at p[0, n): SL_WS_OK when the header and its whole payload are
 * there (payload at p + hlen, len bytes, still masked), SL_WS_MORE when more
 * bytes are needed, SL_WS_BAD with a sentence in why (reserved bits or
 * opcode, a control frame over 125 bytes or fragmented, a 64-bit length with
 * its top bit set, a payload over max_len).
 */
#define SL_WS_CONT   0
#define SL_WS_TEXT   1
#define SL_WS_BINARY 2
#define SL_WS_CLOSE  8
#define SL_WS_PING   9
#define SL_WS_PONG   10

#define SL_WS_MORE 0
#define SL_WS_OK   1
#define SL_WS_BAD  (-1)

/* A SIP message over WebSocket: at most this many bytes (the frames of a
 * fragmented message together). */
#define SL_WS_MAX_MSG ((uint64_t)65535)

struct sl_ws_frame {
    bool fin, masked;
    uint8_t opcode;
    uint8_t key[4];
    uint64_t len; /* payload bytes */
    size_t hlen;  /* header bytes (with the masking key) */
};

int sl_ws_frame_parse(const uint8_t *p, size_t n, uint64_t max_len, struct sl_ws_frame *fr,
                      char *why, size_t why_len);

/* XORs p[0, n) with the masking key, p[0] being payload byte `at`. */
void sl_ws_unmask(uint8_t *p, size_t n, const uint8_t key[4], size_t at);

/* Queues a message that was not cut out of a TCP stream (SCTP DATA chunks):
 * copied; counts `frame` when it is the first message queued for it. */
void sl_tcp_push(struct sl_tcp *t, const struct sl_endpoint *src, const struct sl_endpoint *dst,
                 enum sl_transport tp, const uint8_t *p, size_t n, uint64_t frame, int64_t ts_us);

/* Counts a UDP datagram holding a DTLS record (RFC 9147 4) in its flow
 * (either direction): each flow is reported once (SIP-CAP-004), when it has
 * been idle for the idle time-out, at the end of the capture, or when more
 * than SL_DTLS_MAX_FLOWS are followed (the one idle longest first). */
#define SL_DTLS_MAX_FLOWS 1024
void sl_tcp_dtls(struct sl_tcp *t, const struct sl_frame *f);

/* The SCTP reassembler of this stream state (sctp.h); NULL when out of memory. */
struct sl_sctp *sl_tcp_sctp(struct sl_tcp *t);

/* Queues a problem that is not a TCP stream's (SCTP reassembly): rule, the
 * addresses, the transport, the frame and the sentence. */
void sl_tcp_report(struct sl_tcp *t, const char *rule, const struct sl_endpoint *src,
                   const struct sl_endpoint *dst, enum sl_transport tp, uint64_t frame,
                   int64_t ts_us, const char *fmt, ...) __attribute__((format(printf, 8, 9)));

/* Queues the SIP message of a HEP packet that hep.c decoded into hf (its
 * addresses, transport, hep_* fields, frame and time; while a segment is
 * being added, that segment's frame and time): the n bytes at p (its payload,
 * or its compressed payload inflated) and the correlation id are copied. */
void sl_tcp_push_hep(struct sl_tcp *t, const struct sl_frame *hf, const uint8_t *p, size_t n);

#endif /* SL_CAPTURE_TCP_H */
