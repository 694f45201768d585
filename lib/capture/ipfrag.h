/*
 * ipfrag.h: the reassembler's side used by the decoder (decode.c).  The public
 * side (create, free, events) is in capture.h.
 */
#ifndef SL_CAPTURE_IPFRAG_H
#define SL_CAPTURE_IPFRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/rd.h"
#include "capture/capture.h"

/* What identifies the fragments of one datagram (RFC 791 3.2; RFC 8200 4.5
 * keys by addresses and identification, the next header is added as for IPv4). */
struct sl_ipfrag_key {
    uint8_t family; /* 4 or 6 */
    uint8_t proto;  /* IPv4 protocol, or the Fragment header's next header */
    uint32_t id;    /* 16 bits for IPv4, 32 for IPv6 */
    uint8_t src[16], dst[16];
};

enum sl_ipfrag_result {
    SL_IPFRAG_HELD = 0,      /* kept; the frame is counted by a later event */
    SL_IPFRAG_DUPLICATE = 1, /* a copy of a fragment of a datagram already reassembled */
    SL_IPFRAG_DROPPED = 2,   /* part of a datagram dropped at a cap: not decoded */
    SL_IPFRAG_DONE = 3       /* the datagram is complete: *out holds its payload */
};

/*
 * Adds one fragment: `offset` bytes into the datagram's payload, `more` the
 * MF / M flag, data its bytes (read whole).  On SL_IPFRAG_DONE *out reads the
 * reassembled payload (the IPv4 payload, or for IPv6 the fragmentable part,
 * which starts with the header named by key->proto); it stays valid until the
 * next call.
 */
enum sl_ipfrag_result sl_ipfrag_add(struct sl_ipfrag *rf, const struct sl_ipfrag_key *k,
                                    uint32_t offset, bool more, struct sl_rd *data, uint64_t frame,
                                    int64_t ts_us, struct sl_rd *out);

#endif /* SL_CAPTURE_IPFRAG_H */
