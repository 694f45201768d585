/*
 * hep.c: HEP (Homer Encapsulation Protocol) inside a UDP payload, versions 1,
 * 2 and 3 (RULES.md part C).  A HEP packet carries one captured message with
 * the addresses, ports, protocol and time of the original packet; the frame
 * takes those instead of the outer UDP datagram's.
 *
 * HEPv3 (C.1): "HEP3", a 16-bit total length, then chunks of vendor (2), type
 * (2), length (2, header included) and value.  Every chunk becomes a
 * sub-reader of its declared length; unknown types and vendor chunks are
 * skipped.  HEPv1/v2 (C.6): a fixed header, the two addresses, for v2 a time
 * header, then the payload.  All bytes are read through base/rd.h.
 */
#include "capture/capture.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/inflate.h"
#include "base/rd.h"
#include "capture/tcp.h"

/* HEPv3 generic chunk types (vendor 0; RULES.md C.2). */
#define HEP_CH_FAMILY      1
#define HEP_CH_PROTO       2
#define HEP_CH_SRC4        3
#define HEP_CH_DST4        4
#define HEP_CH_SRC6        5
#define HEP_CH_DST6        6
#define HEP_CH_SPORT       7
#define HEP_CH_DPORT       8
#define HEP_CH_TS_SEC      9
#define HEP_CH_TS_USEC     10
#define HEP_CH_PAYLOAD_TP  11
#define HEP_CH_AGENT_ID    12
#define HEP_CH_PAYLOAD     15
#define HEP_CH_COMPRESSED  16
#define HEP_CH_CORRELATION 17

/* Payload type (chunk 11) of SIP (RULES.md C.3). */
#define HEP_PT_SIP 1

/* Chunk header: vendor, type, length. */
#define HEP_CHUNK_HDR 6

/* Socket address families a HEP sender writes for IPv6: Linux, the BSDs,
 * Darwin (the sender's own AF_INET6). */
static bool family_is_v6(unsigned af)
{
    return af == 10 || af == 24 || af == 28 || af == 30;
}

/* IP protocol number (HEP family/protocol fields) to transport.  Kamailio
 * sends IPPROTO_IDP (22) for TLS, WS and WSS (RULES.md C.6). */
static enum sl_transport transport_of(unsigned proto)
{
    switch (proto) {
    case 17:
        return SL_TP_UDP;
    case 6:
        return SL_TP_TCP;
    case 132:
        return SL_TP_SCTP;
    case 22:
        return SL_TP_TLS;
    default:
        return SL_TP_NONE;
    }
}

/* A name for the payload types seen in practice (RULES.md C.3). */
static const char *payload_type_name(unsigned pt)
{
    switch (pt) {
    case 2:
        return "XMPP";
    case 3:
        return "SDP";
    case 4:
        return "RTP";
    case 5:
        return "RTCP JSON";
    case 6:
        return "MGCP";
    case 7:
        return "MEGACO";
    case 8:
        return "M2UA";
    case 9:
        return "M3UA";
    case 10:
        return "IAX";
    case 0x22:
    case 0x23:
        return "MOS report";
    case 0x32:
        return "SIP JSON";
    case 0x35:
        return "DNS JSON";
    case 0x38:
        return "DIAMETER JSON";
    case 100:
        return "log";
    default:
        return "unknown";
    }
}

/* Whether r starts like a SIP start line: "SIP/2.0 " or an upper-case token
 * and a space (a request method).  Looks without moving r. */
static bool looks_sip(struct sl_rd r)
{
    const uint8_t *q;
    size_t i, max = r.n < 24 ? r.n : 24;

    q = sl_rd_take(&r, max);
    if (q == NULL || max < 4)
        return false;
    if (max >= 8 && memcmp(q, "SIP/2.0 ", 8) == 0)
        return true;
    for (i = 0; i < max; i++) {
        if (q[i] == ' ')
            return i >= 3;
        if (q[i] < 'A' || q[i] > 'Z')
            return false;
    }
    return false;
}

/* HEPv1/v2 fixed header sizes: 8 bytes, then the two addresses. */
static size_t v2_addr_len(uint8_t family)
{
    return family == 2 ? 8 : 32;
}

void sl_hep_clear(struct sl_frame *f)
{
    f->hep_version = 0;
    f->hep_ts_us = 0;
    f->hep_has_agent_id = false;
    f->hep_agent_id = 0;
    f->hep_correlation = NULL;
    f->hep_correlation_len = 0;
}

bool sl_hep_detect(const uint8_t *p, size_t n)
{
    struct sl_rd r = sl_rd_init(p, n), after;
    uint8_t b0 = sl_rd_u8(&r), b1 = sl_rd_u8(&r), b2 = sl_rd_u8(&r), b3 = sl_rd_u8(&r);
    size_t hdr;

    if (r.bad)
        return false;
    if (b0 == 'H' && b1 == 'E' && b2 == 'P' && b3 == '3')
        return true;
    if (b0 != 1 && b0 != 2)
        return false;
    if (b2 != 2 && b2 != 10)
        return false;
    if (transport_of(b3) == SL_TP_NONE)
        return false;
    hdr = 8 + v2_addr_len(b2);
    if (n < hdr + (b0 == 2 ? 10 : 0))
        return false;
    /* hp_l is the header length as Kamailio writes it (RULES.md C.6) ... */
    if (b1 == hdr || b1 == hdr + 12)
        return true;
    /* ... but other senders write something else there: then the payload
     * after the header must start like SIP. */
    r = sl_rd_init(p, n);
    (void)sl_rd_skip(&r, hdr);
    if (b0 == 1)
        return looks_sip(r);
    after = r;
    (void)sl_rd_skip(&after, 12);
    if (looks_sip(after))
        return true;
    (void)sl_rd_skip(&r, 10);
    return looks_sip(r);
}

/* Where the payload of the HEPv1/v2 packet at p[0, n) starts: after the fixed
 * header and the addresses, and for v2 the time header, 12 bytes unless only
 * 10 make the payload start like SIP (RULES.md C.6). */
static size_t v2_payload_offset(const uint8_t *p, size_t n)
{
    struct sl_rd r = sl_rd_init(p, n), pad12;
    uint8_t version = sl_rd_u8(&r);
    size_t off;

    (void)sl_rd_u8(&r);
    off = 8 + v2_addr_len(sl_rd_u8(&r));
    if (version != 2)
        return off;
    r = sl_rd_init(p, n);
    (void)sl_rd_skip(&r, off);
    pad12 = r;
    (void)sl_rd_skip(&r, 10);
    (void)sl_rd_skip(&pad12, 12);
    if (!pad12.bad && (looks_sip(pad12) || !looks_sip(r)))
        return off + 12;
    return off + 10;
}

size_t sl_hep_v2_header_len(const uint8_t *p, size_t n)
{
    size_t off = v2_payload_offset(p, n);

    return off <= n ? off : n;
}

/* Clears what a successful decode fills in. */
static void reset_inner(struct sl_frame *f)
{
    memset(&f->src, 0, sizeof(f->src));
    memset(&f->dst, 0, sizeof(f->dst));
    f->transport = SL_TP_NONE;
    f->payload = NULL;
    f->payload_len = 0;
    f->payload_truncated = false;
}

/*
 * HEPv1/v2 (RULES.md C.6).  hp_l is ignored (senders disagree on it); the
 * payload is the rest of the datagram.  The v2 time header is tv_sec, tv_usec
 * and a 16-bit capture id in the sender's byte order (little-endian in every
 * known sender), padded to 12 bytes by the C struct: 12 unless only 10 make
 * the payload start like SIP; big-endian only when little-endian gives a
 * microsecond count of a second or more and big-endian does not.
 */
static void decode_v2(const uint8_t *p, size_t n, bool cut, struct sl_frame *f)
{
    struct sl_rd r = sl_rd_init(p, n), t_le, t_be;
    uint8_t version, family, proto;
    uint16_t sport, dport;
    size_t alen, need;

    version = sl_rd_u8(&r);
    (void)sl_rd_u8(&r); /* hp_l */
    family = sl_rd_u8(&r);
    proto = sl_rd_u8(&r);
    sport = sl_rd_be16(&r);
    dport = sl_rd_be16(&r);
    alen = v2_addr_len(family);
    need = 8 + alen + (version == 2 ? 10 : 0);
    if (r.bad || n < need) {
        sl_frame_set_detail(f, cut ? SL_FRAME_TRUNCATED : SL_FRAME_MALFORMED, "HEP",
                            "HEPv%u header needs %zu bytes, the UDP payload has %zu",
                            (unsigned)version, need, n);
        return;
    }
    reset_inner(f);
    f->hep_version = version;
    f->src.family = family == 2 ? 4 : 6;
    f->dst.family = f->src.family;
    (void)sl_rd_copy(&r, f->src.ip, alen / 2);
    (void)sl_rd_copy(&r, f->dst.ip, alen / 2);
    f->src.port = sport;
    f->dst.port = dport;
    f->transport = transport_of(proto);
    if (version == 2) {
        uint32_t sec, usec, sec_be, usec_be;
        uint16_t captid;

        t_le = r;
        sec = sl_rd_le32(&t_le);
        usec = sl_rd_le32(&t_le);
        captid = sl_rd_le16(&t_le);
        t_be = r;
        sec_be = sl_rd_be32(&t_be);
        usec_be = sl_rd_be32(&t_be);
        if (usec >= 1000000 && usec_be < 1000000) {
            sec = sec_be;
            usec = usec_be;
        }
        r = sl_rd_init(p, n);
        (void)sl_rd_skip(&r, v2_payload_offset(p, n));
        f->hep_ts_us = (int64_t)sec * 1000000 + (int64_t)usec;
        f->hep_has_agent_id = true;
        f->hep_agent_id = captid;
    }
    f->kind = SL_FRAME_DATAGRAM;
    f->reason = "HEP";
    f->payload_len = r.n;
    f->payload = sl_rd_take(&r, r.n);
    f->payload_truncated = cut;
}

/* A chunk of fixed size: false (and f malformed) when it has another. */
static bool chunk_size(const struct sl_rd *c, size_t want, unsigned type, struct sl_frame *f)
{
    if (c->n == want)
        return true;
    sl_frame_set_detail(f, SL_FRAME_MALFORMED, "HEP",
                        "HEP3 chunk type %u has %zu bytes of value, not %zu", type, c->n, want);
    return false;
}

/* What the chunk walk of one HEPv3 packet found. */
struct hep3 {
    bool has_family, has_proto, has_pt, has_sec;
    uint8_t family, proto, pt;
    bool has_src4, has_dst4, has_src6, has_dst6;
    uint8_t src4[4], dst4[4], src6[16], dst6[16];
    uint16_t sport, dport;
    uint32_t sec, usec;
    bool has_agent;
    uint32_t agent;
    struct sl_rd payload;
    bool has_payload, payload_cut, compressed;
    struct sl_rd zpayload; /* chunk 16 */
    struct sl_rd corr;
    bool has_corr;
};

/* Reads one vendor-0 chunk's value c of type `type` into h.  False when the
 * packet is malformed (f says why). */
static bool read_chunk(struct hep3 *h, unsigned type, struct sl_rd c, struct sl_frame *f)
{
    switch (type) {
    case HEP_CH_FAMILY:
        if (!chunk_size(&c, 1, type, f))
            return false;
        h->family = sl_rd_u8(&c);
        h->has_family = true;
        return true;
    case HEP_CH_PROTO:
        if (!chunk_size(&c, 1, type, f))
            return false;
        h->proto = sl_rd_u8(&c);
        h->has_proto = true;
        return true;
    case HEP_CH_SRC4:
        if (!chunk_size(&c, 4, type, f))
            return false;
        h->has_src4 = sl_rd_copy(&c, h->src4, 4);
        return true;
    case HEP_CH_DST4:
        if (!chunk_size(&c, 4, type, f))
            return false;
        h->has_dst4 = sl_rd_copy(&c, h->dst4, 4);
        return true;
    case HEP_CH_SRC6:
        if (!chunk_size(&c, 16, type, f))
            return false;
        h->has_src6 = sl_rd_copy(&c, h->src6, 16);
        return true;
    case HEP_CH_DST6:
        if (!chunk_size(&c, 16, type, f))
            return false;
        h->has_dst6 = sl_rd_copy(&c, h->dst6, 16);
        return true;
    case HEP_CH_SPORT:
    case HEP_CH_DPORT:
        if (!chunk_size(&c, 2, type, f))
            return false;
        if (type == HEP_CH_SPORT)
            h->sport = sl_rd_be16(&c);
        else
            h->dport = sl_rd_be16(&c);
        return true;
    case HEP_CH_TS_SEC:
    case HEP_CH_TS_USEC:
        if (!chunk_size(&c, 4, type, f))
            return false;
        if (type == HEP_CH_TS_SEC) {
            h->sec = sl_rd_be32(&c);
            h->has_sec = true;
        } else {
            h->usec = sl_rd_be32(&c);
        }
        return true;
    case HEP_CH_PAYLOAD_TP:
        if (!chunk_size(&c, 1, type, f))
            return false;
        h->pt = sl_rd_u8(&c);
        h->has_pt = true;
        return true;
    case HEP_CH_AGENT_ID:
        if (!chunk_size(&c, 4, type, f))
            return false;
        h->agent = sl_rd_be32(&c);
        h->has_agent = true;
        return true;
    case HEP_CH_PAYLOAD:
        h->payload = c;
        h->has_payload = true;
        return true;
    case HEP_CH_COMPRESSED:
        h->zpayload = c;
        h->compressed = true;
        return true;
    case HEP_CH_CORRELATION:
        h->corr = c;
        h->has_corr = true;
        return true;
    default: /* keep-alive, auth key, node name, VLAN, MACs, ...: not needed */
        return true;
    }
}

/* Fills one endpoint from the HEP addresses: IPv6 when the family says so
 * (or only IPv6 is there), else IPv4; family 0 when neither is there. */
static void set_endpoint(struct sl_endpoint *ep, bool v6, bool has4, const uint8_t *a4, bool has6,
                         const uint8_t *a6, uint16_t port)
{
    if (has6 && (v6 || !has4)) {
        ep->family = 6;
        memcpy(ep->ip, a6, 16);
    } else if (has4) {
        ep->family = 4;
        memcpy(ep->ip, a4, 4);
    }
    ep->port = port;
}

/*
 * The compressed payload (chunk 16, "gzip/inflate": zlib in every known
 * sender, gzip accepted too) of a packet whose other fields are in f:
 * inflated (base/inflate.c, at most SL_HEP_MAX_INFLATED bytes) and queued as
 * a message of the frame through f->tcp, the capture's stream queue (the
 * frame becomes STREAM).  Without a queue (a frame decoded on its own) it is
 * not decoded; a stream that does not inflate is malformed; one over the cap
 * is not decoded (a limit).
 */
static void inflate_payload(const struct sl_rd *z, struct sl_frame *f)
{
    struct sl_rd zr = *z;
    struct sl_inflate_res res;
    size_t zn = zr.n;
    const uint8_t *zp = sl_rd_take(&zr, zn);
    uint8_t *out;
    int rc;

    if (f->tcp == NULL) {
        sl_frame_set_detail(f, SL_FRAME_NOT_DECODED, "HEP compressed payload",
                            "HEP3 compressed payload (chunk 16) in a frame decoded on its own");
        return;
    }
    out = malloc(SL_HEP_MAX_INFLATED);
    if (out == NULL) {
        sl_frame_set_detail(f, SL_FRAME_NOT_DECODED, "HEP compressed payload",
                            "HEP3 compressed payload (chunk 16): out of memory");
        return;
    }
    rc = sl_inflate(zp, zn, SL_INFLATE_AUTO, out, SL_HEP_MAX_INFLATED, &res);
    if (rc == SL_INFLATE_OK) {
        sl_tcp_push_hep(f->tcp, f, out, res.out_len);
        f->kind = SL_FRAME_STREAM;
        f->reason = "SIP";
    } else if (rc == SL_INFLATE_OVER_CAP) {
        sl_frame_set_detail(
                f, SL_FRAME_NOT_DECODED, "HEP compressed payload (over the limit)",
                "HEP3 compressed payload (chunk 16) of %zu bytes inflates to more than %u "
                "bytes",
                zn, (unsigned)SL_HEP_MAX_INFLATED);
    } else {
        sl_frame_set_detail(
                f, SL_FRAME_MALFORMED, "HEP",
                "HEP3 compressed payload (chunk 16) does not inflate: %s at byte %zu of %zu",
                sl_inflate_strerror(rc), res.in_used, zn);
    }
    free(out);
}

/* HEPv3 (RULES.md C.1, C.2). */
static void decode_v3(const uint8_t *p, size_t n, bool cut, struct sl_frame *f)
{
    struct sl_rd r = sl_rd_init(p, n), pkt;
    struct hep3 h;
    uint16_t total;
    bool pkt_cut = false;

    memset(&h, 0, sizeof(h));
    (void)sl_rd_skip(&r, 4); /* "HEP3", checked by sl_hep_detect */
    total = sl_rd_be16(&r);
    if (r.bad) {
        sl_frame_set_detail(f, cut ? SL_FRAME_TRUNCATED : SL_FRAME_MALFORMED, "HEP",
                            "HEP3 header needs 6 bytes, the UDP payload has %zu", n);
        return;
    }
    if (total < HEP_CHUNK_HDR) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "HEP", "HEP3 total length %u < 6",
                            (unsigned)total);
        return;
    }
    if (!sl_rd_sub_upto(&r, (size_t)total - 6, &pkt)) {
        if (!cut) {
            sl_frame_set_detail(f, SL_FRAME_MALFORMED, "HEP",
                                "HEP3 total length %u > %zu bytes of UDP payload", (unsigned)total,
                                n);
            return;
        }
        pkt_cut = true; /* the capture dropped the end: walk what is there */
    }
    /* Bytes after `total` (r's rest) are not this packet's; ignored. */
    while (pkt.n > 0) {
        size_t have = pkt.n;
        uint16_t vendor, type, len;
        struct sl_rd c;

        vendor = sl_rd_be16(&pkt);
        type = sl_rd_be16(&pkt);
        len = sl_rd_be16(&pkt);
        if (pkt.bad) {
            if (pkt_cut)
                sl_frame_set_detail(f, SL_FRAME_TRUNCATED, "HEP",
                                    "HEP3 chunk header: %zu of 6 bytes captured", have);
            else
                sl_frame_set_detail(f, SL_FRAME_MALFORMED, "HEP",
                                    "HEP3 chunk header needs 6 bytes, the packet has %zu left",
                                    have);
            return;
        }
        if (len < HEP_CHUNK_HDR) {
            sl_frame_set_detail(f, SL_FRAME_MALFORMED, "HEP", "HEP3 chunk type %u: length %u < 6",
                                (unsigned)type, (unsigned)len);
            return;
        }
        if (!sl_rd_sub_upto(&pkt, (size_t)len - HEP_CHUNK_HDR, &c)) {
            if (!pkt_cut) {
                sl_frame_set_detail(f, SL_FRAME_MALFORMED, "HEP",
                                    "HEP3 chunk type %u: length %u > %zu bytes left in the packet",
                                    (unsigned)type, (unsigned)len, have);
                return;
            }
            if (vendor != 0 || type != HEP_CH_PAYLOAD) {
                sl_frame_set_detail(f, SL_FRAME_TRUNCATED, "HEP",
                                    "HEP3 chunk type %u: %zu of %u bytes captured", (unsigned)type,
                                    have, (unsigned)len);
                return;
            }
            h.payload_cut = true; /* the message itself is cut: keep what is there */
        }
        if (vendor != 0)
            continue; /* vendor-defined (RULES.md C.1) */
        if (!read_chunk(&h, type, c, f))
            return;
    }
    if (h.has_pt && h.pt != HEP_PT_SIP) {
        sl_frame_set_detail(f, SL_FRAME_OTHER, "HEP, not SIP", "HEP3 payload type %u (%s)",
                            (unsigned)h.pt, payload_type_name(h.pt));
        return;
    }
    if (!h.has_payload && !h.compressed) {
        sl_frame_set_detail(f, SL_FRAME_OTHER, "HEP, no payload",
                            "HEP3 packet without a payload chunk");
        return;
    }
    reset_inner(f);
    f->hep_version = 3;
    {
        bool v6 = h.has_family && family_is_v6(h.family);

        set_endpoint(&f->src, v6, h.has_src4, h.src4, h.has_src6, h.src6, h.sport);
        set_endpoint(&f->dst, v6, h.has_dst4, h.dst4, h.has_dst6, h.dst6, h.dport);
    }
    f->transport = h.has_proto ? transport_of(h.proto) : SL_TP_UDP;
    if (h.has_sec)
        f->hep_ts_us = (int64_t)h.sec * 1000000 + (int64_t)h.usec;
    f->hep_has_agent_id = h.has_agent;
    f->hep_agent_id = h.agent;
    if (h.has_corr && h.corr.n > 0) {
        f->hep_correlation_len = h.corr.n;
        f->hep_correlation = sl_rd_take(&h.corr, h.corr.n);
    }
    if (!h.has_payload) {
        inflate_payload(&h.zpayload, f);
        return;
    }
    f->kind = SL_FRAME_DATAGRAM;
    f->reason = "HEP";
    f->payload_len = h.payload.n;
    f->payload = sl_rd_take(&h.payload, h.payload.n);
    f->payload_truncated = h.payload_cut;
    if (h.payload_cut)
        snprintf(f->detail, sizeof(f->detail), "HEP3 payload: %zu bytes captured", f->payload_len);
}

void sl_hep_decode(const uint8_t *p, size_t n, bool cut, struct sl_frame *f)
{
    struct sl_rd r = sl_rd_init(p, n);
    uint8_t b0 = sl_rd_u8(&r);

    sl_hep_clear(f);
    if (b0 == 'H')
        decode_v3(p, n, cut, f);
    else
        decode_v2(p, n, cut, f);
}
