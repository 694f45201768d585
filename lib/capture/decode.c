/*
 * decode.c: classifies one frame.  Link layer (Ethernet with VLAN tags, Linux
 * cooked SLL/SLL2, raw IP, BSD loopback), then IPv4 or IPv6 (with the IPv6
 * extension-header walk), then UDP.  Tunnels are decapsulated on the way
 * (GRE, ERSPAN I/II/III, transparent Ethernet bridging, IPv4/IPv6-in-IP,
 * MPLS, VXLAN, GTP-U), at most SL_MAX_TUNNELS deep; the innermost packet's
 * addresses are the frame's.  The result is one of the kinds of enum
 * sl_frame_kind; a UDP datagram gets its endpoints and payload.
 *
 * Every byte is read through base/rd.h.  Each length from the wire (IP total
 * length, IPv6 payload length, extension header lengths, UDP length) becomes a
 * sub-reader.  A frame cut by the capture (caplen < wirelen) is *truncated*; a
 * header contradicting the bytes really there is *malformed* (STYLE.md 5.3
 * rule 5).  To tell the two apart, each decoder gets `missing`: how many bytes
 * of the unit it reads were on the wire but are not in the capture.
 */
#include "capture/capture.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

#include "base/rd.h"
#include "capture/ipfrag.h"
#include "capture/sctp.h"
#include "capture/tcp.h"

/* Deepest stack of VLAN tags accepted (QinQ uses 2; more means a bogus frame). */
#define SL_MAX_VLAN_TAGS 8
/* Most IPv6 extension headers walked before the packet is called malformed. */
#define SL_MAX_IPV6_EXT_HDRS 16

/* Ethertypes (IEEE Registration Authority). */
#define SL_ETH_IPV4          0x0800
#define SL_ETH_ARP           0x0806
#define SL_ETH_RARP          0x8035
#define SL_ETH_VLAN          0x8100 /* IEEE 802.1Q C-tag */
#define SL_ETH_QINQ          0x88a8 /* IEEE 802.1ad S-tag */
#define SL_ETH_QINQ_OLD      0x9100 /* pre-802.1ad QinQ */
#define SL_ETH_IPV6          0x86dd
#define SL_ETH_MPLS_UC       0x8847
#define SL_ETH_MPLS_MC       0x8848
#define SL_ETH_PPPOE_DISC    0x8863
#define SL_ETH_PPPOE_SESS    0x8864
#define SL_ETH_ERSPAN_2      0x88be
#define SL_ETH_ERSPAN_3      0x22eb
#define SL_ETH_TEB           0x6558 /* transparent Ethernet bridging (NVGRE, ...) */
#define SL_ETH_MACSEC        0x88e5
#define SL_ETH_NSH           0x894f
#define SL_ETH_MIN_ETHERTYPE 0x0600 /* IEEE 802.3 3.2.6: below it the field is a length */

/* IP protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
#define SL_IPP_HOPOPTS  0
#define SL_IPP_ICMP     1
#define SL_IPP_IGMP     2
#define SL_IPP_IPIP     4
#define SL_IPP_TCP      6
#define SL_IPP_UDP      17
#define SL_IPP_IPV6     41
#define SL_IPP_ROUTING  43
#define SL_IPP_FRAGMENT 44
#define SL_IPP_GRE      47
#define SL_IPP_ESP      50
#define SL_IPP_AH       51
#define SL_IPP_ICMPV6   58
#define SL_IPP_NONE     59
#define SL_IPP_DSTOPTS  60
#define SL_IPP_MOBILITY 135
#define SL_IPP_HIP      139
#define SL_IPP_SHIM6    140
#define SL_IPP_SCTP     132
#define SL_IPP_MPLS     137

static void set_kind(struct sl_frame *f, enum sl_frame_kind kind, const char *reason)
{
    f->kind = kind;
    f->reason = reason;
}

/*
 * A header (`what`, of `need` bytes, in layer `reason`) does not fit in the
 * `have` bytes left of its container.  Truncated when the capture dropped
 * enough bytes (`missing`) for it to have been complete on the wire;
 * malformed when even the bytes on the wire could not hold it.
 */
static void short_header(struct sl_frame *f, const char *reason, const char *what, size_t have,
                         size_t need, size_t missing, const char *container)
{
    if (need - have <= missing) /* need > have here */
        sl_frame_set_detail(f, SL_FRAME_TRUNCATED, reason, "%s: %zu of %zu bytes captured", what,
                            have, need);
    else
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, reason, "%s needs %zu bytes, the %s has %zu",
                            what, need, container, have);
}

/* ---- tunnels ------------------------------------------------------------ */

static void decode_ipv4(struct sl_rd *r, size_t missing, struct sl_frame *f);
static void decode_ipv6(struct sl_rd *r, size_t missing, struct sl_frame *f);
static void decode_ip_any(struct sl_rd *r, size_t missing, struct sl_frame *f);
static void decode_ethernet(struct sl_rd *r, size_t missing, struct sl_frame *f);
static void decode_ethertype(uint16_t type, struct sl_rd *r, size_t missing, const char *layer,
                             struct sl_frame *f);
static bool carve_payload(struct sl_rd *r, size_t len, size_t missing, struct sl_rd *payload,
                          size_t *payload_missing);

/* Most MPLS label stack entries, and GTP-U extension headers, walked before
 * the packet is called malformed. */
#define SL_MAX_MPLS_LABELS  16
#define SL_MAX_GTP_EXT_HDRS 16

/*
 * Steps into one more tunnel (`layer` names it in reasons).  Every tunnel
 * decoder calls it first, so nesting is bounded: past SL_MAX_TUNNELS the frame
 * is malformed and false comes back.  The outer transport, ports and payload
 * are forgotten; the outer addresses stay until an inner IP header replaces
 * them (the SIP message's addresses are the innermost packet's).
 */
static bool enter_tunnel(struct sl_frame *f, const char *layer)
{
    if (f->tunnels >= SL_MAX_TUNNELS) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, layer, "more than %d nested tunnels",
                            SL_MAX_TUNNELS);
        return false;
    }
    f->tunnels = (uint8_t)(f->tunnels + 1);
    f->src.port = 0;
    f->dst.port = 0;
    f->transport = SL_TP_NONE;
    f->payload = NULL;
    f->payload_len = 0;
    f->payload_truncated = false;
    f->detail[0] = '\0';
    return true;
}

/*
 * A packet that a tunnel does not name the type of (MPLS, GTP-U, ERSPAN III
 * with frame type IP): like Wireshark, the first nibble decides, 4 for IPv4
 * and 6 for IPv6.  Anything else is not decoded (a pseudowire, PPP, ...).
 */
static void tunnel_ip(struct sl_rd *r, size_t missing, const char *layer, struct sl_frame *f)
{
    struct sl_rd peek = *r;
    uint8_t b = sl_rd_u8(&peek);

    if (peek.bad || b >> 4 == 4 || b >> 4 == 6) {
        decode_ip_any(r, missing, f);
        return;
    }
    sl_frame_set_detail(f, SL_FRAME_NOT_DECODED, layer, "%s payload starting with 0x%02x, not IP",
                        layer, (unsigned)b);
}

/*
 * PPTP's enhanced GRE (RFC 2637 4.1), version 1, after flags and protocol
 * type: payload length (2) and call id (2) (the K flag is always set), then
 * sequence number (4) when S is set, acknowledgment number (4) when A
 * (0x0080) is set.  The payload is a PPP frame (protocol type 0x880b): an
 * optional address and control field (ff 03, RFC 1662 3.1), then the protocol
 * field, one byte when compressed (odd, RFC 1661 6.5) or two.
 */
static void decode_gre_pptp(uint16_t flags, uint16_t proto, struct sl_rd *r, size_t missing,
                            struct sl_frame *f)
{
    size_t have = r->n, need = 4;
    struct sl_rd peek;
    uint16_t ppp;
    uint8_t b;

    if ((flags & 0x1000) != 0)
        need += 4;
    if ((flags & 0x0080) != 0)
        need += 4;
    if (!sl_rd_skip(r, need)) {
        short_header(f, "GRE", "enhanced GRE header", have + 4, need + 4, missing, "IP payload");
        return;
    }
    if (proto != 0x880b) {
        sl_frame_set_detail(f, SL_FRAME_OTHER, "non-IP ethertype", "ethertype 0x%04x",
                            (unsigned)proto);
        return;
    }
    have = r->n;
    peek = *r;
    b = sl_rd_u8(&peek);
    if (b == 0xff) { /* address and control */
        b = sl_rd_u8(&peek);
        b = sl_rd_u8(&peek);
    }
    ppp = (b & 1) != 0 ? b : (uint16_t)((unsigned)b << 8 | sl_rd_u8(&peek));
    if (peek.bad) {
        short_header(f, "GRE", "PPP header", have, have - peek.n + 1, missing, "GRE payload");
        return;
    }
    *r = peek;
    switch (ppp) {
    case 0x0021:
        decode_ipv4(r, missing, f);
        return;
    case 0x0057:
        decode_ipv6(r, missing, f);
        return;
    default:
        sl_frame_set_detail(f, SL_FRAME_OTHER, "PPP control", "PPP protocol 0x%04x", (unsigned)ppp);
        return;
    }
}

/*
 * GRE (RFC 2784, with the key and sequence number of RFC 2890): flags and
 * version (2), protocol type (2), then checksum and reserved (4) when C is
 * set, key (4) when K is set, sequence number (4) when S is set.  The protocol
 * type is an ethertype: IPv4, IPv6, transparent Ethernet bridging, ERSPAN,
 * MPLS.  ERSPAN type I is ethertype 0x88be without a sequence number: a bare
 * Ethernet frame.  Version 1 (PPTP's enhanced GRE, RFC 2637) and the source
 * routing of RFC 1701 (R, deprecated) are not decoded.
 */
static void decode_gre(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    size_t have = r->n, need = 4;
    uint16_t flags, proto;

    if (!enter_tunnel(f, "GRE"))
        return;
    flags = sl_rd_be16(r);
    proto = sl_rd_be16(r);
    if (r->bad) {
        short_header(f, "GRE", "GRE header", have, need, missing, "IP payload");
        return;
    }
    if ((flags & 0x0007) == 1) {
        decode_gre_pptp(flags, proto, r, missing, f);
        return;
    }
    if ((flags & 0x0007) != 0) {
        sl_frame_set_detail(f, SL_FRAME_NOT_DECODED, "GRE", "GRE version %u",
                            (unsigned)(flags & 0x0007));
        return;
    }
    if ((flags & 0x4000) != 0) {
        sl_frame_set_detail(f, SL_FRAME_NOT_DECODED, "GRE", "GRE with source routing (RFC 1701)");
        return;
    }
    if ((flags & 0x8000) != 0)
        need += 4; /* checksum, reserved */
    if ((flags & 0x2000) != 0)
        need += 4; /* key */
    if ((flags & 0x1000) != 0)
        need += 4; /* sequence number */
    if (!sl_rd_skip(r, need - 4)) {
        short_header(f, "GRE", "GRE header", have, need, missing, "IP payload");
        return;
    }
    if (proto == SL_ETH_ERSPAN_2 && (flags & 0x1000) == 0) {
        decode_ethernet(r, missing, f); /* ERSPAN type I */
        return;
    }
    decode_ethertype(proto, r, missing, "GRE", f);
}

/*
 * ERSPAN (draft-foschiano-erspan-03), the mirrored frame behind a header.
 * Type II (ethertype 0x88be), 8 bytes: version 1 (4 bits), VLAN (12), COS (3),
 * encapsulation (2), truncated (1), session id (10), reserved (12), index (20).
 * Type III (0x22eb), 12 bytes: version 2, VLAN, COS, BSO (2), T (1), session
 * id (10), timestamp (32), SGT (16), P (1), frame type (5), hardware id (6),
 * D (1), granularity (2), O (1); then an 8-byte platform-specific subheader
 * when O is set.  The frame is Ethernet (frame type 0) or IP (type 2).
 */
static void decode_erspan(bool type3, struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    size_t have = r->n, need = type3 ? 12 : 8;
    unsigned version, want = type3 ? 2 : 1, ft = 0;
    uint16_t w0, last = 0;

    if (!enter_tunnel(f, "ERSPAN"))
        return;
    w0 = sl_rd_be16(r);
    (void)sl_rd_skip(r, type3 ? 8 : 6);
    if (type3)
        last = sl_rd_be16(r);
    if (r->bad) {
        short_header(f, "ERSPAN", "ERSPAN header", have, need, missing, "GRE payload");
        return;
    }
    version = (unsigned)w0 >> 12;
    if (version != want) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "ERSPAN", "ERSPAN version %u, type %s wants %u",
                            version, type3 ? "III" : "II", want);
        return;
    }
    if (type3) {
        ft = ((unsigned)last >> 10) & 0x1f;
        if ((last & 0x0001) != 0) {
            need += 8;
            if (!sl_rd_skip(r, 8)) {
                short_header(f, "ERSPAN", "ERSPAN platform subheader", have, need, missing,
                             "GRE payload");
                return;
            }
        }
    }
    switch (ft) {
    case 0:
        decode_ethernet(r, missing, f);
        return;
    case 2:
        tunnel_ip(r, missing, "ERSPAN", f);
        return;
    default:
        sl_frame_set_detail(f, SL_FRAME_NOT_DECODED, "ERSPAN", "ERSPAN frame type %u", ft);
        return;
    }
}

/*
 * MPLS (RFC 3032 2.1): label stack entries of 4 bytes, label (20 bits),
 * traffic class (3), bottom of stack (1), TTL (8), down to the one with the
 * bottom-of-stack bit.  The stack does not say what follows: tunnel_ip().
 */
static void decode_mpls(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    unsigned n;

    if (!enter_tunnel(f, "MPLS"))
        return;
    for (n = 0;; n++) {
        size_t have = r->n;
        uint32_t entry;

        if (n == SL_MAX_MPLS_LABELS) {
            sl_frame_set_detail(f, SL_FRAME_MALFORMED, "MPLS", "more than %d MPLS labels",
                                SL_MAX_MPLS_LABELS);
            return;
        }
        entry = sl_rd_be32(r);
        if (r->bad) {
            short_header(f, "MPLS", "MPLS label stack entry", have, 4, missing, "frame");
            return;
        }
        if ((entry & 0x100) != 0)
            break;
    }
    tunnel_ip(r, missing, "MPLS", f);
}

/* VXLAN (RFC 7348 5): flags (I = 0x08: the VNI is valid), reserved (3), VNI
 * (3), reserved (1); then an Ethernet frame. */
static void decode_vxlan(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    size_t have = r->n;

    if (!enter_tunnel(f, "VXLAN"))
        return;
    if (!sl_rd_skip(r, 8)) {
        short_header(f, "VXLAN", "VXLAN header", have, 8, missing, "UDP payload");
        return;
    }
    decode_ethernet(r, missing, f);
}

/*
 * GTP-U (3GPP TS 29.281 5.1): flags (version 1, PT 1, E, S, PN), message type,
 * length (of what follows the first 8 bytes), TEID (4); when any of E, S, PN
 * is set, sequence number (2), N-PDU number (1) and next extension header type
 * (1); then extension headers (5.2.1: length in 4-byte units, content, next
 * type) until a next type of 0.  A G-PDU (type 255) carries the user's
 * packet; the other messages (echo, error indication, end marker) are
 * signalling.
 */
static void decode_gtpu(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    size_t have = r->n, body_missing;
    struct sl_rd body;
    uint8_t flags, type, next = 0;
    uint16_t len;
    unsigned n;

    if (!enter_tunnel(f, "GTP-U"))
        return;
    flags = sl_rd_u8(r);
    type = sl_rd_u8(r);
    len = sl_rd_be16(r);
    (void)sl_rd_be32(r); /* TEID */
    if (r->bad) {
        short_header(f, "GTP-U", "GTP-U header", have, 8, missing, "UDP payload");
        return;
    }
    if (type != 255) {
        sl_frame_set_detail(f, SL_FRAME_OTHER, "GTP-U signalling", "GTP-U message type %u",
                            (unsigned)type);
        return;
    }
    if (!carve_payload(r, len, missing, &body, &body_missing)) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "GTP-U",
                            "GTP-U length %u > %zu bytes after its header", (unsigned)len,
                            have - 8);
        return;
    }
    if ((flags & 0x07) != 0) {
        size_t body_have = body.n;

        (void)sl_rd_skip(&body, 3); /* sequence number, N-PDU number */
        next = sl_rd_u8(&body);
        if (body.bad) {
            short_header(f, "GTP-U", "GTP-U optional fields", body_have, 4, body_missing,
                         "GTP-U payload");
            return;
        }
    }
    for (n = 0; next != 0; n++) {
        struct sl_rd peek = body;
        size_t body_have = body.n, need;
        uint8_t units;

        if (n == SL_MAX_GTP_EXT_HDRS) {
            sl_frame_set_detail(f, SL_FRAME_MALFORMED, "GTP-U",
                                "more than %d GTP-U extension headers", SL_MAX_GTP_EXT_HDRS);
            return;
        }
        units = sl_rd_u8(&peek);
        if (peek.bad) {
            short_header(f, "GTP-U", "GTP-U extension header", body_have, 4, body_missing,
                         "GTP-U payload");
            return;
        }
        if (units == 0) {
            sl_frame_set_detail(f, SL_FRAME_MALFORMED, "GTP-U",
                                "GTP-U extension header 0x%02x of length 0", (unsigned)next);
            return;
        }
        need = (size_t)units * 4;
        (void)sl_rd_skip(&body, need - 1);
        next = sl_rd_u8(&body);
        if (body.bad) {
            short_header(f, "GTP-U", "GTP-U extension header", body_have, need, body_missing,
                         "GTP-U payload");
            return;
        }
    }
    tunnel_ip(&body, body_missing, "GTP-U", f);
}

/* ---- UDP ---------------------------------------------------------------- */

/*
 * UDP payloads that carry another packet (HEP is decoded before this is
 * asked: hep.c).  Returns false for a plain datagram; otherwise decodes the
 * inner packet into f (body: the UDP payload, `missing` bytes of it not
 * captured) and returns true.
 *   GTP-U (3GPP TS 29.281 5.1): port 2152, version 1, PT 1.
 *   VXLAN (RFC 7348 5): destination port 4789 (8472 on Linux) with the I flag
 *   set; on any port, the exact header 08 00 00 00 / VNI / 00 followed by an
 *   Ethernet header of type IPv4, IPv6 or VLAN.
 */
static bool udp_encapsulation(uint16_t sport, uint16_t dport, struct sl_rd *body, size_t missing,
                              struct sl_frame *f)
{
    struct sl_rd peek = *body;
    uint8_t b0 = sl_rd_u8(&peek), b1 = sl_rd_u8(&peek), b2 = sl_rd_u8(&peek), b3 = sl_rd_u8(&peek),
            b7;
    uint16_t inner_type;

    (void)b1;
    if (peek.bad) {
        /* both checks want at least 4 bytes: on a tunnel port, a payload cut
         * shorter by the capture is a truncated tunnel header */
        if (missing == 0)
            return false;
        if (sport == 2152 || dport == 2152)
            decode_gtpu(body, missing, f);
        else if (dport == 4789 || dport == 8472)
            decode_vxlan(body, missing, f);
        else
            return false;
        return true;
    }
    if ((sport == 2152 || dport == 2152) && (b0 >> 5) == 1 && (b0 & 0x10) != 0) {
        decode_gtpu(body, missing, f);
        return true;
    }
    if ((dport == 4789 || dport == 8472) && (b0 & 0x08) != 0) {
        decode_vxlan(body, missing, f);
        return true;
    }
    (void)sl_rd_skip(&peek, 3); /* VNI */
    b7 = sl_rd_u8(&peek);
    (void)sl_rd_skip(&peek, 12); /* inner MAC addresses */
    inner_type = sl_rd_be16(&peek);
    if (!peek.bad && b0 == 0x08 && b1 == 0 && b2 == 0 && b3 == 0 && b7 == 0 &&
        (inner_type == SL_ETH_IPV4 || inner_type == SL_ETH_IPV6 || inner_type == SL_ETH_VLAN)) {
        decode_vxlan(body, missing, f);
        return true;
    }
    return false;
}

/*
 * A DTLS record header (RFC 9147 4, RFC 6347 4.1): content type 20-25 (change
 * cipher spec, alert, handshake, application data, heartbeat, tls12_cid),
 * version 0xfeff (DTLS 1.0) or 0xfefd (1.2, and 1.3's plaintext records),
 * epoch (2), sequence number (6), length (2).  The length is not checked
 * (a record cut short is still DTLS, as tshark dissects it); no SIP message
 * starts so.
 */
static bool looks_dtls(const uint8_t *p, size_t n)
{
    struct sl_rd r = sl_rd_init(p, n);
    uint8_t type = sl_rd_u8(&r), v0 = sl_rd_u8(&r), v1 = sl_rd_u8(&r);

    (void)sl_rd_skip(&r, 10);
    return !r.bad && type >= 20 && type <= 25 && v0 == 0xfe && (v1 == 0xff || v1 == 0xfd);
}

/*
 * RFC 768: source port, destination port, length (header included, >= 8),
 * checksum.  r holds the IP payload as captured; `missing` bytes of it were
 * not captured.  The checksum is not verified (offloading makes it wrong in
 * most captures taken on the sending host).
 */
static void decode_udp(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    size_t have = r->n;
    size_t ip_payload_len = have + missing; /* as the IP header declares it */
    uint16_t sport, dport, ulen;
    struct sl_rd body;
    bool complete;

    sport = sl_rd_be16(r);
    dport = sl_rd_be16(r);
    ulen = sl_rd_be16(r);
    (void)sl_rd_be16(r); /* checksum */
    if (r->bad) {
        short_header(f, "UDP", "UDP header", have, 8, missing, "IP payload");
        return;
    }
    f->src.port = sport;
    f->dst.port = dport;
    f->transport = SL_TP_UDP;
    if (ulen < 8) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "UDP", "UDP length %u < 8 (the UDP header)",
                            (unsigned)ulen);
        return;
    }
    if ((size_t)ulen > ip_payload_len) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "UDP", "UDP length %u > %zu bytes of IP payload",
                            (unsigned)ulen, ip_payload_len);
        return;
    }
    /* A UDP length below the IP payload: the rest is not UDP's; ignore it. */
    complete = sl_rd_sub_upto(r, (size_t)ulen - 8, &body);
    set_kind(f, SL_FRAME_DATAGRAM, "UDP");
    f->payload_len = body.n;
    f->payload = sl_rd_take(&body, body.n);
    f->payload_truncated = !complete;
    if (!complete)
        snprintf(f->detail, sizeof(f->detail), "UDP payload: %zu of %u bytes captured",
                 f->payload_len, (unsigned)ulen - 8);
    if (sl_hep_detect(f->payload, f->payload_len)) {
        /* HEP on any port, recognised by its header (RULES.md C.7) */
        sl_hep_decode(f->payload, f->payload_len, f->payload_truncated, f);
        return;
    }
    {
        struct sl_rd inner = sl_rd_init(f->payload, f->payload_len);

        if (udp_encapsulation(sport, dport, &inner, (size_t)ulen - 8 - f->payload_len, f))
            return;
    }
    if (looks_dtls(f->payload, f->payload_len)) {
        /* encrypted: counted in its flow, reported once per flow (tcp.c) */
        set_kind(f, SL_FRAME_NOT_DECODED, "DTLS");
        if (f->tcp != NULL)
            sl_tcp_dtls(f->tcp, f);
    }
}

/* SCTP (RFC 9260, SIP over SCTP RFC 4168): sctp.c, with its message
 * reassembly when the frame has stream state. */

/* ---- IP ----------------------------------------------------------------- */

/*
 * The protocol above IP (IPv4 protocol field, or the last IPv6 next header).
 * r is the IP payload as captured, `missing` bytes short of its declared
 * length.
 */
static void decode_upper(uint8_t proto, struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    switch (proto) {
    case SL_IPP_UDP:
        decode_udp(r, missing, f);
        return;
    case SL_IPP_TCP: /* tcp.c: streams, when the frame has a reassembler */
        sl_tcp_decode(r, missing, f);
        return;
    case SL_IPP_SCTP:
        sl_sctp_decode(r, missing, f);
        return;
    case SL_IPP_GRE:
        decode_gre(r, missing, f);
        return;
    case SL_IPP_IPIP: /* RFC 2003, and IPv4 in IPv6 (RFC 2473) */
        if (enter_tunnel(f, "IPv4-in-IP"))
            decode_ipv4(r, missing, f);
        return;
    case SL_IPP_IPV6: /* RFC 4213 3.5, and IPv6 in IPv6 (RFC 2473) */
        if (enter_tunnel(f, "IPv6-in-IP"))
            decode_ipv6(r, missing, f);
        return;
    case SL_IPP_MPLS: /* RFC 4023 */
        decode_mpls(r, missing, f);
        return;
    case SL_IPP_AH: /* IPv4 only: IPv6 walks AH as an extension header */
        set_kind(f, SL_FRAME_NOT_DECODED, "AH");
        return;
    case SL_IPP_ESP: /* RFC 4303: encrypted, nothing to read */
        set_kind(f, SL_FRAME_OTHER, "ESP");
        return;
    case SL_IPP_ICMP:
        set_kind(f, SL_FRAME_OTHER, "ICMP");
        return;
    case SL_IPP_ICMPV6:
        set_kind(f, SL_FRAME_OTHER, "ICMPv6");
        return;
    case SL_IPP_IGMP:
        set_kind(f, SL_FRAME_OTHER, "IGMP");
        return;
    default:
        sl_frame_set_detail(f, SL_FRAME_OTHER, "other IP protocol", "IP protocol %u",
                            (unsigned)proto);
        return;
    }
}

/*
 * Carves the `len` bytes an IP header declares out of r into *payload; bytes
 * after them (Ethernet padding) are left behind.  Returns false when the frame
 * on the wire could not have held them (malformed); otherwise sets
 * *payload_missing to how many of them the capture dropped.
 */
static bool carve_payload(struct sl_rd *r, size_t len, size_t missing, struct sl_rd *payload,
                          size_t *payload_missing)
{
    size_t have = r->n;

    if (sl_rd_sub_upto(r, len, payload)) {
        *payload_missing = 0;
        return true;
    }
    if (len - have > missing) /* len > have here */
        return false;
    *payload_missing = len - have;
    return true;
}

/*
 * One fragment (RFC 791 3.2, RFC 8200 4.5): `data` holds its bytes, `missing`
 * of them not captured.  Without a reassembler the frame is NOT_DECODED
 * (`reason`).  Returns true with *whole reading the reassembled payload when
 * this fragment completes its datagram; otherwise sets the frame's kind (held,
 * duplicate, dropped at a cap, cut by the capture) and returns false.
 */
static bool reassemble(struct sl_frame *f, const char *reason, const struct sl_ipfrag_key *key,
                       uint32_t offset, bool more, struct sl_rd *data, size_t missing,
                       struct sl_rd *whole)
{
    bool v4 = key->family == 4;

    if (f->reasm == NULL) {
        set_kind(f, SL_FRAME_NOT_DECODED, reason);
        return false;
    }
    if (missing > 0) {
        /* a fragment cut by the capture cannot be reassembled; its datagram
         * will be reported incomplete */
        sl_frame_set_detail(f, SL_FRAME_TRUNCATED, reason, "%s: %zu of %zu bytes captured", reason,
                            data->n, data->n + missing);
        return false;
    }
    switch (sl_ipfrag_add(f->reasm, key, offset, more, data, f->number, f->ts_us, whole)) {
    case SL_IPFRAG_HELD:
        set_kind(f, SL_FRAME_HELD, reason);
        return false;
    case SL_IPFRAG_DUPLICATE:
        set_kind(f, SL_FRAME_OTHER, v4 ? "IPv4 fragment (duplicate)" : "IPv6 fragment (duplicate)");
        return false;
    case SL_IPFRAG_DROPPED:
        set_kind(f, SL_FRAME_NOT_DECODED,
                 v4 ? "IPv4 fragment (over a limit)" : "IPv6 fragment (over a limit)");
        return false;
    case SL_IPFRAG_DONE:
        return true;
    }
    return false;
}

/*
 * Decodes a reassembled datagram: the protocol `proto` (IPv4) or the
 * fragmentable part starting with header `proto` (IPv6; ipv6_walk decodes
 * upper protocols the same way).  Its bytes live in the reassembler: a
 * fragment nested inside is not reassembled (that would free them).
 */
static void ipv6_walk(uint8_t nh, struct sl_rd *r, size_t missing, struct sl_frame *f);

static void decode_whole(bool v6, uint8_t proto, struct sl_rd *whole, struct sl_frame *f)
{
    struct sl_ipfrag *rf = f->reasm;

    f->reasm = NULL;
    if (v6)
        ipv6_walk(proto, whole, 0, f);
    else
        decode_upper(proto, whole, 0, f);
    f->reasm = rf;
}

/* RFC 791 3.1: the IPv4 header, at least 20 bytes (IHL >= 5). */
static void decode_ipv4(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    struct sl_rd peek = *r, hdr, payload;
    size_t have = r->n, hlen, payload_missing;
    uint8_t vihl, proto;
    uint16_t total, frag, id;

    vihl = sl_rd_u8(&peek);
    if (peek.bad) {
        short_header(f, "IPv4", "IPv4 header", have, 20, missing, "frame");
        return;
    }
    if (vihl >> 4 != 4) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "IPv4", "IP version %u in an IPv4 header",
                            (unsigned)(vihl >> 4));
        return;
    }
    hlen = (size_t)(vihl & 0x0f) * 4;
    if (hlen < 20) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "IPv4", "IPv4 header length %zu < 20", hlen);
        return;
    }
    peek = *r;
    if (!sl_rd_sub(&peek, hlen, &hdr)) {
        short_header(f, "IPv4", "IPv4 header", have, hlen, missing, "frame");
        return;
    }
    (void)sl_rd_u8(&hdr); /* version, IHL */
    (void)sl_rd_u8(&hdr); /* DSCP, ECN */
    total = sl_rd_be16(&hdr);
    id = sl_rd_be16(&hdr);
    frag = sl_rd_be16(&hdr);
    (void)sl_rd_u8(&hdr); /* TTL */
    proto = sl_rd_u8(&hdr);
    (void)sl_rd_be16(&hdr); /* header checksum */
    f->src.family = 4;
    f->dst.family = 4;
    (void)sl_rd_copy(&hdr, f->src.ip, 4);
    (void)sl_rd_copy(&hdr, f->dst.ip, 4);
    /* options: the rest of hdr, not needed */
    if (hdr.bad) { /* cannot happen: hdr holds hlen >= 20 bytes */
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "IPv4", "IPv4 header unreadable");
        return;
    }
    if ((size_t)total < hlen) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "IPv4",
                            "IPv4 total length %u < header length %zu", (unsigned)total, hlen);
        return;
    }
    (void)sl_rd_skip(r, hlen); /* present: checked through peek */
    if (!carve_payload(r, (size_t)total - hlen, missing, &payload, &payload_missing)) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "IPv4",
                            "IPv4 total length %u > %zu bytes in the frame", (unsigned)total, have);
        return;
    }
    /* RFC 791 3.1: MF flag (0x2000) or a non-zero fragment offset (13 bits) */
    if ((frag & 0x2000) != 0 || (frag & 0x1fff) != 0) {
        struct sl_ipfrag_key key;
        struct sl_rd whole;

        memset(&key, 0, sizeof(key));
        key.family = 4;
        key.proto = proto;
        key.id = id;
        memcpy(key.src, f->src.ip, 4);
        memcpy(key.dst, f->dst.ip, 4);
        if (!reassemble(f, "IPv4 fragment", &key, (uint32_t)(frag & 0x1fff) * 8,
                        (frag & 0x2000) != 0, &payload, payload_missing, &whole))
            return;
        decode_whole(false, proto, &whole, f);
        return;
    }
    decode_upper(proto, &payload, payload_missing, f);
}

/*
 * RFC 8200 4: walks the IPv6 extension headers, then decodes the upper
 * protocol.  r is the IPv6 payload, `missing` bytes short of its declared
 * length.
 */
static void ipv6_walk(uint8_t nh, struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    unsigned n_ext;

    for (n_ext = 0;; n_ext++) {
        struct sl_rd peek = *r;
        size_t have = r->n, need;
        uint8_t next, hlen;
        uint16_t off_flags;

        switch (nh) {
        case SL_IPP_HOPOPTS:
        case SL_IPP_ROUTING:
        case SL_IPP_DSTOPTS:
        case SL_IPP_MOBILITY:
        case SL_IPP_HIP:
        case SL_IPP_SHIM6:
        case SL_IPP_AH:
        case SL_IPP_FRAGMENT:
            break;
        case SL_IPP_ESP: /* RFC 4303: the rest is encrypted */
            set_kind(f, SL_FRAME_OTHER, "ESP");
            return;
        case SL_IPP_NONE: /* RFC 8200 4.7 */
            set_kind(f, SL_FRAME_OTHER, "no next header");
            return;
        default:
            decode_upper(nh, r, missing, f);
            return;
        }
        if (n_ext == SL_MAX_IPV6_EXT_HDRS) {
            sl_frame_set_detail(f, SL_FRAME_MALFORMED, "IPv6",
                                "more than %d IPv6 extension headers", SL_MAX_IPV6_EXT_HDRS);
            return;
        }
        next = sl_rd_u8(&peek);
        hlen = sl_rd_u8(&peek);
        if (nh == SL_IPP_FRAGMENT)
            need = 8; /* RFC 8200 4.5: fixed size */
        else if (nh == SL_IPP_AH)
            need = ((size_t)hlen + 2) * 4; /* RFC 4302 2.2: in 4-byte units, minus 2 */
        else
            need = ((size_t)hlen + 1) * 8; /* RFC 8200 4.3: in 8-byte units, minus the first */
        if (peek.bad)
            need = 8; /* not even the two first bytes: every header has at least 8 */
        if (nh == SL_IPP_FRAGMENT) {
            uint32_t id;

            off_flags = sl_rd_be16(&peek);
            id = sl_rd_be32(&peek);
            if (!peek.bad && ((off_flags & 0xfff8) != 0 || (off_flags & 0x0001) != 0)) {
                struct sl_ipfrag_key key;
                struct sl_rd whole;

                memset(&key, 0, sizeof(key));
                key.family = 6;
                key.proto = next;
                key.id = id;
                memcpy(key.src, f->src.ip, 16);
                memcpy(key.dst, f->dst.ip, 16);
                (void)sl_rd_skip(r, 8); /* present: read through peek */
                if (!reassemble(f, "IPv6 fragment", &key, (uint32_t)(off_flags & 0xfff8),
                                (off_flags & 0x0001) != 0, r, missing, &whole))
                    return;
                /* the fragmentable part starts with the header `next` names */
                decode_whole(true, next, &whole, f);
                return;
            }
            /* offset 0, M clear: an atomic fragment (RFC 6946), a whole
             * datagram; go on with the next header */
        }
        if (!sl_rd_skip(r, need)) {
            short_header(f, "IPv6", "IPv6 extension header", have, need, missing, "IPv6 payload");
            return;
        }
        nh = next;
    }
}

/* RFC 8200 3: the fixed 40-byte IPv6 header. */
static void decode_ipv6(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    struct sl_rd hdr, payload;
    size_t have = r->n, payload_missing;
    uint32_t vtf;
    uint16_t plen;
    uint8_t nh;

    if (!sl_rd_sub(r, 40, &hdr)) {
        short_header(f, "IPv6", "IPv6 header", have, 40, missing, "frame");
        return;
    }
    vtf = sl_rd_be32(&hdr); /* version, traffic class, flow label */
    plen = sl_rd_be16(&hdr);
    nh = sl_rd_u8(&hdr);
    (void)sl_rd_u8(&hdr); /* hop limit */
    if (vtf >> 28 != 6) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "IPv6", "IP version %u in an IPv6 header",
                            (unsigned)(vtf >> 28));
        return;
    }
    f->src.family = 6;
    f->dst.family = 6;
    (void)sl_rd_copy(&hdr, f->src.ip, 16);
    (void)sl_rd_copy(&hdr, f->dst.ip, 16);
    if (plen == 0 && nh == SL_IPP_HOPOPTS) {
        /* RFC 2675 3: a jumbogram; its length is in the hop-by-hop Jumbo
         * Payload option.  Take the rest of the frame. */
        payload = sl_rd_rest(r);
        payload_missing = missing;
    } else if (!carve_payload(r, plen, missing, &payload, &payload_missing)) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "IPv6",
                            "IPv6 payload length %u > %zu bytes in the frame after the header",
                            (unsigned)plen, have - 40);
        return;
    }
    ipv6_walk(nh, &payload, payload_missing, f);
}

/* Raw IP: the version nibble of the first byte decides (RFC 791, RFC 8200). */
static void decode_ip_any(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    struct sl_rd peek = *r;
    size_t have = r->n;
    uint8_t b = sl_rd_u8(&peek);

    if (peek.bad) {
        short_header(f, "IP", "IP header", have, 20, missing, "frame");
        return;
    }
    switch (b >> 4) {
    case 4:
        decode_ipv4(r, missing, f);
        return;
    case 6:
        decode_ipv6(r, missing, f);
        return;
    default:
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "IP", "IP version %u", (unsigned)(b >> 4));
        return;
    }
}

/* ---- link layers --------------------------------------------------------- */

/*
 * PPPoE session stage (RFC 2516 4): version/type (1), code (1), session id
 * (2), length (2), then a PPP frame whose protocol field (RFC 1661 2) is
 * 0x0021 for IPv4 and 0x0057 for IPv6 (RFC 5072).  The PPPoE length bounds
 * the PPP frame.
 */
static void decode_pppoe_session(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    size_t have = r->n;
    struct sl_rd ppp;
    uint16_t len, proto;

    (void)sl_rd_skip(r, 4);
    len = sl_rd_be16(r);
    if (r->bad) {
        short_header(f, "PPPoE", "PPPoE header", have, 6, missing, "frame");
        return;
    }
    if (!sl_rd_sub_upto(r, len, &ppp) && missing == 0) {
        sl_frame_set_detail(f, SL_FRAME_MALFORMED, "PPPoE",
                            "PPPoE length %u > %zu bytes in the frame", (unsigned)len, ppp.n);
        return;
    }
    have = ppp.n;
    proto = sl_rd_be16(&ppp);
    if (ppp.bad) {
        short_header(f, "PPPoE", "PPP protocol field", have, 2, missing, "PPPoE payload");
        return;
    }
    switch (proto) {
    case 0x0021:
        decode_ipv4(&ppp, missing, f);
        return;
    case 0x0057:
        decode_ipv6(&ppp, missing, f);
        return;
    default:
        sl_frame_set_detail(f, SL_FRAME_OTHER, "PPP control", "PPP protocol 0x%04x",
                            (unsigned)proto);
        return;
    }
}

/*
 * Dispatches on an ethertype, after stepping over VLAN tags: IEEE 802.1Q
 * 9.6, a tag is TCI (2 bytes) then the next ethertype; 802.1ad S-tags and the
 * older 0x9100 stack the same way (QinQ).  `layer` names the link layer in
 * reasons.
 */
static void decode_ethertype(uint16_t type, struct sl_rd *r, size_t missing, const char *layer,
                             struct sl_frame *f)
{
    unsigned n_tags = 0;

    while (type == SL_ETH_VLAN || type == SL_ETH_QINQ || type == SL_ETH_QINQ_OLD) {
        size_t have = r->n;

        if (n_tags == SL_MAX_VLAN_TAGS) {
            sl_frame_set_detail(f, SL_FRAME_MALFORMED, layer, "more than %d VLAN tags",
                                SL_MAX_VLAN_TAGS);
            return;
        }
        (void)sl_rd_be16(r); /* TCI: priority, DEI, VLAN id */
        type = sl_rd_be16(r);
        if (r->bad) {
            short_header(f, layer, "VLAN tag", have, 4, missing, "frame");
            return;
        }
        n_tags++;
    }
    if (type < SL_ETH_MIN_ETHERTYPE) {
        set_kind(f, SL_FRAME_OTHER, "802.3 LLC");
        return;
    }
    switch (type) {
    case SL_ETH_IPV4:
        decode_ipv4(r, missing, f);
        return;
    case SL_ETH_IPV6:
        decode_ipv6(r, missing, f);
        return;
    case SL_ETH_ARP:
        set_kind(f, SL_FRAME_OTHER, "ARP");
        return;
    case SL_ETH_RARP:
        set_kind(f, SL_FRAME_OTHER, "RARP");
        return;
    case SL_ETH_PPPOE_DISC:
        set_kind(f, SL_FRAME_OTHER, "PPPoE discovery");
        return;
    case SL_ETH_MPLS_UC:
    case SL_ETH_MPLS_MC:
        decode_mpls(r, missing, f);
        return;
    case SL_ETH_PPPOE_SESS:
        decode_pppoe_session(r, missing, f);
        return;
    case SL_ETH_ERSPAN_2:
    case SL_ETH_ERSPAN_3:
        decode_erspan(type == SL_ETH_ERSPAN_3, r, missing, f);
        return;
    case SL_ETH_TEB:
        if (enter_tunnel(f, "Ethernet bridging"))
            decode_ethernet(r, missing, f);
        return;
    case SL_ETH_MACSEC:
        set_kind(f, SL_FRAME_NOT_DECODED, "MACsec");
        return;
    case SL_ETH_NSH:
        set_kind(f, SL_FRAME_NOT_DECODED, "NSH");
        return;
    default:
        sl_frame_set_detail(f, SL_FRAME_OTHER, "non-IP ethertype", "ethertype 0x%04x",
                            (unsigned)type);
        return;
    }
}

/* IEEE 802.3 3.1.1: destination (6), source (6), type/length (2). */
static void decode_ethernet(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    size_t have = r->n;
    uint16_t type;

    (void)sl_rd_skip(r, 12);
    type = sl_rd_be16(r);
    if (r->bad) {
        short_header(f, "Ethernet", "Ethernet header", have, 14, missing, "frame");
        return;
    }
    decode_ethertype(type, r, missing, "Ethernet", f);
}

/*
 * Linux cooked capture v1 (tcpdump.org LINKTYPE_LINUX_SLL): packet type (2),
 * ARPHRD type (2), address length (2), address (8), protocol (2) = 16 bytes.
 * The protocol is an ethertype (or a small value below 0x600 for 802.2/802.3
 * frames, which then count as LLC).
 */
static void decode_sll(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    size_t have = r->n;
    uint16_t proto;

    (void)sl_rd_skip(r, 14);
    proto = sl_rd_be16(r);
    if (r->bad) {
        short_header(f, "Linux SLL", "Linux SLL header", have, 16, missing, "frame");
        return;
    }
    decode_ethertype(proto, r, missing, "Linux SLL", f);
}

/*
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): protocol (2), reserved (2),
 * interface index (4), ARPHRD type (2), packet type (1), address length (1),
 * address (8) = 20 bytes.
 */
static void decode_sll2(struct sl_rd *r, size_t missing, struct sl_frame *f)
{
    size_t have = r->n;
    uint16_t proto;

    proto = sl_rd_be16(r);
    (void)sl_rd_skip(r, 18);
    if (r->bad) {
        short_header(f, "Linux SLL2", "Linux SLL2 header", have, 20, missing, "frame");
        return;
    }
    decode_ethertype(proto, r, missing, "Linux SLL2", f);
}

/*
 * BSD loopback (LINKTYPE_NULL, LINKTYPE_LOOP): a 4-byte address family, in
 * the capturing host's byte order for DLT_NULL and in network order for
 * DLT_LOOP.  AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD,
 * OpenBSD), 28 (FreeBSD, DragonFly) or 30 (Darwin).
 */
static void decode_loopback(struct sl_rd *r, bool host_order, size_t missing, struct sl_frame *f)
{
    struct sl_rd le_view = *r;
    size_t have = r->n;
    uint32_t af, af_le;

    af_le = sl_rd_le32(&le_view);
    af = sl_rd_be32(r);
    if (r->bad) {
        short_header(f, "loopback", "loopback header", have, 4, missing, "frame");
        return;
    }
    /* Host order of a machine we do not know: a family is a small number,
     * so whichever reading is small is the right one. */
    if (host_order && af > 0xffff)
        af = af_le;
    switch (af) {
    case 2:
        decode_ipv4(r, missing, f);
        return;
    case 10:
    case 24:
    case 28:
    case 30:
        decode_ipv6(r, missing, f);
        return;
    default:
        sl_frame_set_detail(f, SL_FRAME_OTHER, "non-IP address family", "address family %lu",
                            (unsigned long)af);
        return;
    }
}

void sl_frame_decode(int dlt, const uint8_t *data, size_t caplen, size_t wirelen,
                     struct sl_frame *f)
{
    sl_frame_decode_reasm(dlt, data, caplen, wirelen, NULL, f);
}

void sl_frame_decode_reasm(int dlt, const uint8_t *data, size_t caplen, size_t wirelen,
                           struct sl_ipfrag *rf, struct sl_frame *f)
{
    sl_frame_decode_stream(dlt, data, caplen, wirelen, rf, NULL, f);
}

void sl_frame_decode_stream(int dlt, const uint8_t *data, size_t caplen, size_t wirelen,
                            struct sl_ipfrag *rf, struct sl_tcp *tcp, struct sl_frame *f)
{
    struct sl_rd r = sl_rd_init(data, caplen);
    size_t missing = wirelen > caplen ? wirelen - caplen : 0;
    const char *name;

    f->kind = SL_FRAME_NOT_DECODED;
    f->reason = "not decoded";
    f->detail[0] = '\0';
    memset(&f->src, 0, sizeof(f->src));
    memset(&f->dst, 0, sizeof(f->dst));
    f->transport = SL_TP_NONE;
    f->payload = NULL;
    f->payload_len = 0;
    f->payload_truncated = false;
    sl_hep_clear(f);
    f->tunnels = 0;
    f->reasm = rf;
    f->tcp = tcp;

    switch (dlt) {
    case DLT_EN10MB:
        decode_ethernet(&r, missing, f);
        return;
    case DLT_LINUX_SLL:
        decode_sll(&r, missing, f);
        return;
    case DLT_LINUX_SLL2:
        decode_sll2(&r, missing, f);
        return;
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
        decode_ip_any(&r, missing, f);
        return;
    case DLT_NULL:
        decode_loopback(&r, true, missing, f);
        return;
    case DLT_LOOP:
        decode_loopback(&r, false, missing, f);
        return;
    default:
        name = pcap_datalink_val_to_name(dlt);
        if (name != NULL)
            sl_frame_set_detail(f, SL_FRAME_NOT_DECODED, "unsupported link type",
                                "link type %d (%s)", dlt, name);
        else
            sl_frame_set_detail(f, SL_FRAME_NOT_DECODED, "unsupported link type", "link type %d",
                                dlt);
        return;
    }
}
