/*
 * capture.h: the capture stage.  A capture file (pcap or pcapng, read through
 * libpcap) becomes a sequence of frames; each frame is classified and, when it
 * carries a UDP datagram, its payload is handed on.
 *
 * Every frame is accounted for: a datagram (maybe SIP), something that is not
 * SIP, something that is not decoded yet (the reason says what), or a problem
 * (truncated or malformed headers).  All packet bytes are read through the
 * bounds-checked reader in base/rd.h.
 */
#ifndef SL_CAPTURE_CAPTURE_H
#define SL_CAPTURE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siplint.h"

/* Deepest nesting of tunnels decoded; one more is a malformed frame. */
#define SL_MAX_TUNNELS 8

/* Transport of a payload. */
enum sl_transport {
    SL_TP_NONE = 0,
    SL_TP_UDP = 1,
    SL_TP_TCP = 2,
    SL_TP_SCTP = 3,
    SL_TP_TLS = 4,
    SL_TP_WS = 5
};

/* "udp", "tcp", ...; never NULL. */
const char *sl_transport_name(enum sl_transport tp);

/* An IP address and port. */
struct sl_endpoint {
    uint8_t family; /* 4 or 6; 0 = unknown */
    uint8_t ip[16]; /* network order; IPv4 uses the first 4 bytes */
    uint16_t port;
};

/* Formats "1.2.3.4:5060" or "[::1]:5060" into buf (NUL-terminated, cut to
 * len); returns buf.  64 bytes always suffice. */
char *sl_endpoint_format(const struct sl_endpoint *ep, char *buf, size_t len);

/* The address alone ("1.2.3.4", "::1"), or "?" when unknown; returns buf.
 * INET6_ADDRSTRLEN (46) bytes always suffice. */
char *sl_endpoint_addr(const struct sl_endpoint *ep, char *buf, size_t len);

/* What a frame turned out to be. */
enum sl_frame_kind {
    SL_FRAME_DATAGRAM = 0,    /* a UDP datagram: payload is set (maybe SIP) */
    SL_FRAME_OTHER = 1,       /* decoded, and cannot carry SIP (ARP, ICMP, ...): reason */
    SL_FRAME_NOT_DECODED = 2, /* may carry SIP but is not decoded yet (TCP, IP fragment,
                                 NSH, unsupported link type, ...): reason */
    SL_FRAME_TRUNCATED = 3,   /* headers cut short by the capture (snaplen): reason, detail */
    SL_FRAME_MALFORMED = 4,   /* headers contradict themselves: reason, detail */
    SL_FRAME_HELD = 5,        /* an IP fragment kept for reassembly: counted later, by the
                                 sl_ipfrag_event that settles its datagram */
    SL_FRAME_STREAM = 6       /* a frame whose SIP messages are queued: a TCP segment that
                                 completed messages (or HEP packets) of its stream, an SCTP
                                 packet completing a fragmented message or bundling several,
                                 a compressed HEP payload: read them with sl_capture_message() */
};

/* The largest frame time magnitude, in microseconds (about 73,000 years): a
 * pcapng timestamp can say anything, and the later stages add durations to
 * frame times (a timer of 2^32 s at most: RFC 3261 caps Expires and
 * Session-Expires there) that must not overflow int64_t. */
#define SL_TS_US_MAX (INT64_MAX / 4)

/* One frame of a capture.  The payload is borrowed: valid until the next
 * sl_capture_next() or sl_capture_close(). */
struct sl_frame {
    uint64_t number;  /* 1-based, as Wireshark counts */
    int64_t ts_us;    /* microseconds since the epoch, within +-SL_TS_US_MAX */
    uint32_t caplen;  /* bytes captured */
    uint32_t wirelen; /* bytes on the wire */
    enum sl_frame_kind kind;
    const char *reason; /* static category text for kinds other than DATAGRAM, e.g.
                           "TCP", "IPv4 fragment", "ARP", "link type 105"; used to
                           count frames per reason */
    char detail[160];   /* for TRUNCATED / MALFORMED: a sentence naming the field,
                           e.g. "IPv4 total length 1500 > 1480 bytes captured" */
    struct sl_endpoint src, dst;
    enum sl_transport transport;
    const uint8_t *payload; /* DATAGRAM: the UDP payload */
    size_t payload_len;
    bool payload_truncated; /* DATAGRAM: payload shorter than the UDP length says
                               (snaplen); payload holds what was captured */
    /* A DATAGRAM decapsulated from HEP (RULES.md part C): src, dst, transport
     * and payload are those the HEP packet names, not the outer packet's. */
    uint8_t hep_version;            /* 2 or 3; 0 = not from HEP */
    int64_t hep_ts_us;              /* the HEP timestamp (µs since the epoch); 0 = none,
                                       then the frame time stands */
    bool hep_has_agent_id;          /* chunk 12 (v3) or the capture id (v2) was there */
    uint32_t hep_agent_id;          /* capture agent id */
    const uint8_t *hep_correlation; /* chunk 17, borrowed like payload; NULL = none */
    size_t hep_correlation_len;
    uint8_t tunnels;         /* tunnel headers decapsulated to reach the innermost packet (GRE,
                        ERSPAN, IP-in-IP, VXLAN, GTP-U, MPLS); src, dst and payload are
                        the innermost packet's.  At most SL_MAX_TUNNELS. */
    struct sl_ipfrag *reasm; /* the reassembler the frame was decoded with (NULL:
                                stateless, fragments are NOT_DECODED) */
    struct sl_tcp *tcp;      /* the stream reassembler (NULL: stateless, TCP segments are
                                NOT_DECODED) */
};

/* Sets a frame's kind and reason, and its detail sentence (printf format):
 * what every decoder of the capture stage says about a frame it refuses. */
void sl_frame_set_detail(struct sl_frame *f, enum sl_frame_kind kind, const char *reason,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

struct sl_capture;
struct sl_ipfrag;
struct sl_tcp;

/* Opens a capture file; path "-" reads standard input.  Returns SL_OK with
 * *out set (free with sl_capture_close), or SL_EINPUT with a reason in err
 * ("No such file or directory", "is a directory", "not a pcap or pcapng file
 * (...)"), or SL_ENOMEM.  A link type that is not decoded does not fail here:
 * its frames come back as SL_FRAME_NOT_DECODED. */
int sl_capture_open(struct sl_capture **out, const char *path, struct sl_err *err);

/* Same over a memory buffer (fuzzing, tests); the buffer must outlive the capture. */
int sl_capture_open_mem(struct sl_capture **out, const void *buf, size_t len, struct sl_err *err);

/* How far the file has been read, in bytes, and its size (both 0 when the
 * size is unknown: standard input, a pipe, a memory buffer).  For progress. */
void sl_capture_position(const struct sl_capture *c, uint64_t *done, uint64_t *size);

/* "pcap" or "pcapng". */
const char *sl_capture_format(const struct sl_capture *c);

/* The libpcap link type (DLT_*) of the capture. */
int sl_capture_linktype(const struct sl_capture *c);

/* Reads and classifies the next frame into *f.  Returns 1 (a frame), 0 (end of
 * file), SL_ETRUNC when the file ends in the middle of a record: err says
 * where ("capture ends in the middle of frame 1234 (...)"), or SL_EFORMAT when
 * libpcap cannot read a record ("capture damaged at frame 1234 (...)"); then
 * reading stops and the frames before stay valid.  In a pcapng file, damaged
 * blocks are skipped and reading goes on (a note says so), and each custom
 * block is a frame of kind OTHER, reason "pcapng custom block", as Wireshark
 * numbers it. */
int sl_capture_next(struct sl_capture *c, struct sl_frame *f, struct sl_err *err);

/* Something about the file itself, for the report: SIP-CAP-008 (pcapng bytes
 * skipped as damaged), SIP-CAP-009 (pcapng blocks or options skipped, told at
 * the end of the file), SIP-CAP-010 (time goes backwards, told once at the end
 * of the file). */
struct sl_capture_note {
    const char *rule; /* static */
    uint64_t frame;   /* the frame it is about (the one after skipped bytes, or the last
                         one when none follows); 0: none */
    int64_t ts_us;
    char text[320]; /* one sentence (the frame is not in it) */
};

/* The next note: 1 (in *n) or 0.  Call it after every sl_capture_next(). */
int sl_capture_note(struct sl_capture *c, struct sl_capture_note *n);

/* Closes the capture.  Accepts NULL. */
void sl_capture_close(struct sl_capture *c);

/*
 * The frame decoder itself, without a file: classifies the bytes of one
 * frame of link type dlt.  Fills everything in *f except number, ts_us,
 * caplen and wirelen, which the caller sets.  The payload points into data.
 */
void sl_frame_decode(int dlt, const uint8_t *data, size_t caplen, size_t wirelen,
                     struct sl_frame *f);

/*
 * HEP (Homer Encapsulation Protocol, RULES.md part C) inside a UDP payload.
 *
 * sl_hep_detect: whether the payload starts like a HEP packet: "HEP3", or
 * version 1/2 with a sane family, protocol and room for its header.
 *
 * sl_hep_decode: decodes the HEP packet in p (n bytes captured; `cut` when
 * the capture dropped the end of the datagram) into *f.  On success f is a
 * DATAGRAM whose src, dst, transport, payload and hep_* fields come from the
 * HEP packet; or, for a compressed payload (chunk 16, at most
 * SL_HEP_MAX_INFLATED bytes inflated), STREAM: the message is queued through
 * f->tcp (read it with sl_capture_message(); without f->tcp the frame is
 * NOT_DECODED).  Otherwise f is OTHER (a payload type that is not SIP: RTCP,
 * logs), NOT_DECODED (over the inflate limit), TRUNCATED or MALFORMED (also a
 * compressed payload that does not inflate), with a reason starting with
 * "HEP" and a detail sentence.
 */
#define SL_HEP_MAX_INFLATED 65535 /* the default --max-message-size */
bool sl_hep_detect(const uint8_t *p, size_t n);
/* For a HEPv1/v2 packet (sl_hep_detect accepted it): the bytes before its
 * payload (fixed header, addresses, time header); at most n.  A stream frames
 * the SIP message after them by its Content-Length. */
size_t sl_hep_v2_header_len(const uint8_t *p, size_t n);
/* Resets the hep_* fields of f (not from HEP). */
void sl_hep_clear(struct sl_frame *f);
void sl_hep_decode(const uint8_t *p, size_t n, bool cut, struct sl_frame *f);

/*
 * IP fragment reassembly (RFC 791 3.2, RFC 8200 4.5, RFC 815).  A capture owns
 * one reassembler; frames are decoded with it by sl_frame_decode_reasm().
 * Fragments are keyed by (family, source, destination, identification,
 * protocol / next header) and may come in any order.  A fragment is copied in
 * and its frame comes back as SL_FRAME_HELD, except the one that completes the
 * datagram: that frame is decoded as if the whole datagram had arrived in it
 * (its payload points into the reassembler, valid until the next decode).
 * Duplicates are kept once; where fragments overlap the first copy of each
 * byte wins.  Memory is bounded: at most max_datagrams in flight, each of at
 * most max_fragments frames and 65535 bytes; a datagram not complete
 * timeout_us (capture time) after its first fragment is given up.
 *
 * What happens to the held frames is told by events (sl_ipfrag_poll): every
 * held frame is counted by exactly one event, so every frame is accounted for.
 */
#define SL_IPFRAG_MAX_DATAGRAMS 256
#define SL_IPFRAG_MAX_FRAGMENTS 128
#define SL_IPFRAG_TIMEOUT_US    (30 * (int64_t)1000000)
#define SL_IPFRAG_MAX_BYTES     65535

struct sl_ipfrag_opts {
    unsigned max_datagrams; /* 0: SL_IPFRAG_MAX_DATAGRAMS */
    unsigned max_fragments; /* fragments (frames) per datagram, duplicates included;
                               0: SL_IPFRAG_MAX_FRAGMENTS */
    int64_t timeout_us;     /* 0: SL_IPFRAG_TIMEOUT_US */
};

enum sl_ipfrag_event_kind {
    SL_IPFRAG_REASSEMBLED = 0, /* the datagram completed: `frames` are its held fragments
                                  (the completing one is the datagram's own frame) */
    SL_IPFRAG_INCOMPLETE = 1,  /* given up (time-out, end of capture): `frames` held
                                  fragments are lost; text says what was missing */
    SL_IPFRAG_LIMIT = 2,       /* a cap was hit: `frames` held fragments were dropped */
    SL_IPFRAG_OVERLAP = 3      /* a fragment overlaps bytes already held (frames = 0);
                                  the first copy was kept; `frame` is the overlapping one */
};

struct sl_ipfrag_event {
    enum sl_ipfrag_event_kind kind;
    enum sl_frame_kind stat_kind; /* how the `frames` count: OTHER (reassembled) or
                                     MALFORMED (lost: a problem) */
    const char *reason;           /* static, e.g. "IPv4 fragment (reassembled)" */
    uint64_t frames;              /* frames this event accounts for (may be 0) */
    uint64_t frame;               /* the datagram's first fragment (OVERLAP: the culprit) */
    int64_t ts_us;                /* that frame's time */
    struct sl_endpoint src, dst;  /* addresses, ports 0 */
    char text[384];               /* a sentence for the problem; "" for REASSEMBLED */
};

/* A new reassembler (opts may be NULL: the defaults).  SL_OK or SL_ENOMEM. */
int sl_ipfrag_new(struct sl_ipfrag **out, const struct sl_ipfrag_opts *opts);

/* Frees it and everything it holds (no events for what was held).  Accepts NULL. */
void sl_ipfrag_free(struct sl_ipfrag *rf);

/* The next event, if any: 1 (in *ev) or 0.  Events from the last decode come
 * first; then datagrams whose time-out has passed at capture time now_us, or,
 * when flush is set (end of capture), every datagram still held. */
int sl_ipfrag_poll(struct sl_ipfrag *rf, int64_t now_us, bool flush, struct sl_ipfrag_event *ev);

/* Datagrams held (complete or not) now; for tests. */
size_t sl_ipfrag_in_flight(const struct sl_ipfrag *rf);

/* sl_frame_decode() with fragment reassembly through rf (f->number and
 * f->ts_us must be set: they name the fragment). */
void sl_frame_decode_reasm(int dlt, const uint8_t *data, size_t caplen, size_t wirelen,
                           struct sl_ipfrag *rf, struct sl_frame *f);

/* The capture's reassembler events (sl_ipfrag_poll at the time of the last
 * frame read; every one is flushed once sl_capture_next() has returned 0 or
 * an error).  1 (in *ev) or 0.  Call it after every sl_capture_next(). */
int sl_capture_event(struct sl_capture *c, struct sl_ipfrag_event *ev);

/*
 * TCP streams (RFC 9293; SIP framing RFC 3261 18.3; lib/capture/tcp.c).  A
 * capture owns one stream reassembler.  Each direction of a connection (key:
 * both endpoints) is its own byte stream, reassembled in sequence order
 * (wrap-around, out-of-order segments held within a window, retransmitted or
 * overlapping bytes: the first copy wins), then cut into SIP messages by the
 * end of the header section and Content-Length (or `l`).  CRLF keep-alives
 * are skipped.  A stream whose SYN was not captured starts at its first
 * segment, at the first SIP start line.  Missing bytes (a gap) are reported and
 * the stream resyncs at the next SIP start line.  A stream starting with a TLS
 * record is not decoded.  A stream starting with an HTTP upgrade to WebSocket
 * is SIP over WebSocket (RFC 7118): its messages have transport SL_TP_WS.  A
 * stream starting with a HEP header is HEP over TCP: cut into HEP packets,
 * each decoded by sl_hep_decode.  A TLS stream is reported once, when it
 * ends (SIP-CAP-004); so is a flow of DTLS datagrams (sl_tcp_dtls).  SCTP
 * message reassembly (sctp.h) lives in the same state and queue.  FIN and
 * RST close a stream; so does an idle time-out.
 * Memory is bounded: bytes held per direction, in total, and streams in flight.
 */
#define SL_TCP_MAX_STREAMS 4096               /* connections in flight */
#define SL_TCP_MAX_BYTES   ((size_t)1 << 20)  /* held per direction */
#define SL_TCP_MAX_TOTAL   ((size_t)64 << 20) /* held in all */
#define SL_TCP_MAX_OOO     64                 /* out-of-order segments per direction */
#define SL_TCP_IDLE_US     (300 * (int64_t)1000000)
#define SL_TCP_HOLD_US     (10 * (int64_t)1000000) /* out-of-order bytes wait this long */

struct sl_tcp_opts {
    unsigned max_streams; /* 0: the defaults above */
    size_t max_bytes;
    size_t max_total;
    int64_t idle_us;
    int64_t hold_us;
};

/* A SIP message cut out of a stream (or a framing error in its place). */
struct sl_stream_msg {
    const uint8_t *data; /* its bytes; valid until the next sl_capture_next() */
    size_t len;
    struct sl_endpoint src, dst;
    enum sl_transport transport; /* SL_TP_TCP, SL_TP_WS (a WebSocket message), SL_TP_SCTP */
    uint64_t frame;              /* the segment that completed it */
    int64_t ts_us;
    bool counts_frame;   /* the first message completed by that frame while it is the
                            frame just read: it counts the frame (kind STREAM) */
    const char *problem; /* NULL, or the rule of a framing error (the bytes are the
                            header section of a message that cannot be framed) */
    char text[200];      /* the problem's sentence */
    /* A message decapsulated from HEP (HEP over TCP, a HEP file, a compressed
     * HEP payload): src, dst and transport are those the HEP packet names;
     * the hep_* fields mean what they mean in struct sl_frame (the correlation
     * id is borrowed like data). */
    uint8_t hep_version; /* 0 = not from HEP */
    int64_t hep_ts_us;
    bool hep_has_agent_id;
    uint32_t hep_agent_id;
    const uint8_t *hep_correlation;
    size_t hep_correlation_len;
};

/* A problem of a stream: a gap, a limit, a stream ending inside a message. */
struct sl_tcp_event {
    const char *rule; /* "SIP-CAP-007" (gap, unfinished message), "SIP-CAP-006" (limit) */
    enum sl_transport transport; /* SL_TP_TCP, or SL_TP_SCTP (an SCTP message) */
    uint64_t frame;
    int64_t ts_us;
    struct sl_endpoint src, dst;
    char text[384];
};

/* A new reassembler (opts may be NULL).  SL_OK or SL_ENOMEM. */
int sl_tcp_new(struct sl_tcp **out, const struct sl_tcp_opts *opts);

/* Frees it and everything it holds.  Accepts NULL. */
void sl_tcp_free(struct sl_tcp *t);

/* Streams in flight; for tests. */
size_t sl_tcp_in_flight(const struct sl_tcp *t);

/* sl_frame_decode_reasm() with TCP streams through tcp (may be NULL). */
void sl_frame_decode_stream(int dlt, const uint8_t *data, size_t caplen, size_t wirelen,
                            struct sl_ipfrag *rf, struct sl_tcp *tcp, struct sl_frame *f);

/* Sets the caps of the capture's IP fragment and TCP stream reassemblers
 * (NULL: the defaults).  Only before the first sl_capture_next(): SL_OK,
 * SL_EUSAGE (too late) or SL_ENOMEM. */
int sl_capture_set_opts(struct sl_capture *c, const struct sl_ipfrag_opts *fo,
                        const struct sl_tcp_opts *to);

/* The capture's stream messages and problems since the last call; every stream
 * is settled once sl_capture_next() has returned 0 or an error.  Call both
 * after every sl_capture_next().  1 or 0. */
int sl_capture_message(struct sl_capture *c, struct sl_stream_msg *m);
int sl_capture_tcp_event(struct sl_capture *c, struct sl_tcp_event *ev);

#endif /* SL_CAPTURE_CAPTURE_H */
