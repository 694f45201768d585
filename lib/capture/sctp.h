/*
 * sctp.h: SIP over SCTP (RFC 9260, RFC 4168; sctp.c): the chunks of a packet
 * and the reassembly of user messages fragmented over several DATA chunks.
 * A capture's reassembler lives in its stream state (sl_tcp_sctp()); the
 * messages it completes and the problems it meets go out through the same
 * queue as the TCP streams' (sl_capture_message, sl_capture_tcp_event).
 */
#ifndef SL_CAPTURE_SCTP_H
#define SL_CAPTURE_SCTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rd.h"
#include "capture/capture.h"

#define SL_SCTP_MAX_CHUNKS  4096              /* fragments held in all */
#define SL_SCTP_MAX_BYTES   ((size_t)4 << 20) /* bytes of fragments held in all */
#define SL_SCTP_MAX_STREAMS 1024              /* (source, destination, stream id) followed */
#define SL_SCTP_HOLD_US     (30 * (int64_t)1000000)

struct sl_sctp_opts {
    size_t max_chunks; /* 0: the defaults above */
    size_t max_bytes;
    size_t max_streams;
    int64_t hold_us;
};

struct sl_sctp;

/* A new reassembler (opts may be NULL).  SL_OK or SL_ENOMEM. */
int sl_sctp_new(struct sl_sctp **out, const struct sl_sctp_opts *opts);

/* Frees it and every fragment it holds.  Accepts NULL. */
void sl_sctp_free(struct sl_sctp *s);

/* Gives up fragments waiting since before now_us - hold (every one with
 * flush); problems go to t. */
void sl_sctp_expire(struct sl_sctp *s, struct sl_tcp *t, int64_t now_us, bool flush);

/* Fragments held now; for tests. */
size_t sl_sctp_held(const struct sl_sctp *s);

/* Decodes the SCTP packet in r (the IP payload, `missing` bytes of it not
 * captured) into f, through the reassembler of f->tcp (may be NULL). */
void sl_sctp_decode(struct sl_rd *r, size_t missing, struct sl_frame *f);

#endif /* SL_CAPTURE_SCTP_H */
