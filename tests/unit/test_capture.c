/*
 * test_capture.c: the capture stage.  Frames are built byte by byte (link
 * header, IP header, UDP header, payload) and run through sl_frame_decode();
 * small pcap and pcapng files are built in memory and read back through
 * sl_capture_open_mem() / sl_capture_open().
 */
#include "test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include "capture/capture.h"
#include "capture/tcp.h"
#include "inflate_vectors.h"

/* ---- building frames ---------------------------------------------------- */

struct pkt {
    uint8_t b[600];
    size_t n;
};

static void put8(struct pkt *p, unsigned v)
{
    assert_true(p->n < sizeof(p->b));
    p->b[p->n++] = (uint8_t)v;
}

static void put16(struct pkt *p, unsigned v)
{
    put8(p, v >> 8);
    put8(p, v & 0xff);
}

static void put32(struct pkt *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p, v & 0xffff);
}

static void put_le16(struct pkt *p, unsigned v)
{
    put8(p, v & 0xff);
    put8(p, v >> 8);
}

static void put_le32(struct pkt *p, uint32_t v)
{
    put_le16(p, v & 0xffff);
    put_le16(p, v >> 16);
}

static void put_bytes(struct pkt *p, const void *src, size_t len)
{
    assert_true(len <= sizeof(p->b) - p->n);
    memcpy(p->b + p->n, src, len);
    p->n += len;
}

static void put_zero(struct pkt *p, size_t len)
{
    while (len-- > 0)
        put8(p, 0);
}

/* Overwrites a big-endian 16-bit field at offset off. */
static void set16(struct pkt *p, size_t off, unsigned v)
{
    p->b[off] = (uint8_t)(v >> 8);
    p->b[off + 1] = (uint8_t)(v & 0xff);
}

static const uint8_t src4[4] = { 192, 0, 2, 1 };
static const uint8_t dst4[4] = { 198, 51, 100, 7 };
static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
static const char sip[] = "OPTIONS sip:a@b SIP/2.0\r\n\r\n";
#define SIP_LEN (sizeof(sip) - 1)

static void put_eth(struct pkt *p, unsigned type)
{
    static const uint8_t macs[12] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                      0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb };
    put_bytes(p, macs, sizeof(macs));
    put16(p, type);
}

/* IPv4 header without options; total = 20 + payload_len. */
static void put_ipv4(struct pkt *p, unsigned proto, size_t payload_len, unsigned frag)
{
    put8(p, 0x45);
    put8(p, 0);
    put16(p, (unsigned)(20 + payload_len));
    put16(p, 0x1234); /* id */
    put16(p, frag);
    put8(p, 64);
    put8(p, proto);
    put16(p, 0); /* checksum: not checked */
    put_bytes(p, src4, 4);
    put_bytes(p, dst4, 4);
}

static void put_ipv6(struct pkt *p, unsigned nh, size_t payload_len)
{
    put32(p, 0x60000000);
    put16(p, (unsigned)payload_len);
    put8(p, nh);
    put8(p, 64);
    put_bytes(p, src6, 16);
    put_bytes(p, dst6, 16);
}

/* UDP header + the SIP payload. */
static void put_udp_sip(struct pkt *p)
{
    put16(p, 5060);
    put16(p, 5080);
    put16(p, (unsigned)(8 + SIP_LEN));
    put16(p, 0);
    put_bytes(p, sip, SIP_LEN);
}

#define UDP_SIP_LEN (8 + SIP_LEN)

static void decode(int dlt, const struct pkt *p, struct sl_frame *f)
{
    memset(f, 0xa5, sizeof(*f)); /* the decoder must set every field it owns */
    sl_frame_decode(dlt, p->b, p->n, p->n, f);
}

/* The frame is the UDP datagram 192.0.2.1:5060 -> 198.51.100.7:5080 (or the
 * IPv6 pair) carrying `sip`. */
static void assert_sip_datagram(const struct sl_frame *f, int family)
{
    char a[64], b[64];

    assert_int_equal(f->kind, SL_FRAME_DATAGRAM);
    assert_int_equal(f->transport, SL_TP_UDP);
    assert_false(f->payload_truncated);
    assert_int_equal(f->payload_len, SIP_LEN);
    assert_memory_equal(f->payload, sip, SIP_LEN);
    sl_endpoint_format(&f->src, a, sizeof(a));
    sl_endpoint_format(&f->dst, b, sizeof(b));
    if (family == 4) {
        assert_string_equal(a, "192.0.2.1:5060");
        assert_string_equal(b, "198.51.100.7:5080");
    } else {
        assert_string_equal(a, "[2001:db8::1]:5060");
        assert_string_equal(b, "[2001:db8::2]:5080");
    }
}

static void build_eth_ipv4_udp(struct pkt *p)
{
    p->n = 0;
    put_eth(p, 0x0800);
    put_ipv4(p, 17, UDP_SIP_LEN, 0);
    put_udp_sip(p);
}

static void build_eth_ipv6_exthdrs_udp(struct pkt *p)
{
    p->n = 0;
    put_eth(p, 0x86dd);
    put_ipv6(p, 0, 8 + 16 + UDP_SIP_LEN);
    /* hop-by-hop: next = destination options, length 0 (8 bytes), PadN */
    put8(p, 60);
    put8(p, 0);
    put8(p, 1);
    put8(p, 4);
    put_zero(p, 4);
    /* destination options: next = UDP, length 1 (16 bytes), PadN */
    put8(p, 17);
    put8(p, 1);
    put8(p, 1);
    put8(p, 12);
    put_zero(p, 12);
    put_udp_sip(p);
}

/* ---- link layers ---------------------------------------------------------- */

static void test_decode_ethernet_ipv4_udp_with_padding(void **state)
{
    /* 60-byte minimum Ethernet frame: a 5-byte UDP payload, then padding
     * that must not end up in the payload. */
    static const uint8_t frame[60] = {
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
        /* IPv4: total length 33, UDP, 10.0.0.1 -> 10.0.0.2 */
        0x45, 0x00, 0x00, 0x21, 0xbe, 0xef, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 10, 0, 0, 1, 10, 0,
        0, 2,
        /* UDP 5060 -> 5060, length 13 */
        0x13, 0xc4, 0x13, 0xc4, 0x00, 0x0d, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'
        /* 13 bytes of zero padding */
    };
    struct sl_frame f;
    char buf[64];

    (void)state;
    memset(&f, 0xa5, sizeof(f));
    sl_frame_decode(DLT_EN10MB, frame, sizeof(frame), sizeof(frame), &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_int_equal(f.transport, SL_TP_UDP);
    assert_int_equal(f.payload_len, 5);
    assert_memory_equal(f.payload, "hello", 5);
    assert_false(f.payload_truncated);
    assert_int_equal(f.src.family, 4);
    assert_string_equal(sl_endpoint_format(&f.src, buf, sizeof(buf)), "10.0.0.1:5060");
    assert_string_equal(sl_endpoint_format(&f.dst, buf, sizeof(buf)), "10.0.0.2:5060");
}

static void test_decode_vlan_tags(void **state)
{
    static const unsigned outer[] = { 0x8100, 0x88a8, 0x9100 };
    struct pkt p;
    struct sl_frame f;
    size_t i;

    (void)state;
    /* one 802.1Q tag */
    p.n = 0;
    put_eth(&p, 0x8100);
    put16(&p, 0x0064);
    put16(&p, 0x0800);
    put_ipv4(&p, 17, UDP_SIP_LEN, 0);
    put_udp_sip(&p);
    decode(DLT_EN10MB, &p, &f);
    assert_sip_datagram(&f, 4);

    /* QinQ: S-tag (three flavours) + C-tag */
    for (i = 0; i < sizeof(outer) / sizeof(outer[0]); i++) {
        p.n = 0;
        put_eth(&p, outer[i]);
        put16(&p, 0x0010);
        put16(&p, 0x8100);
        put16(&p, 0x0064);
        put16(&p, 0x86dd);
        put_ipv6(&p, 17, UDP_SIP_LEN);
        put_udp_sip(&p);
        decode(DLT_EN10MB, &p, &f);
        assert_sip_datagram(&f, 6);
    }

    /* a stack deeper than any real network: malformed, not a loop */
    p.n = 0;
    put_eth(&p, 0x8100);
    for (i = 0; i < 40; i++) {
        put16(&p, 1);
        put16(&p, 0x8100);
    }
    put16(&p, 1);
    put16(&p, 0x0800);
    put_ipv4(&p, 17, UDP_SIP_LEN, 0);
    put_udp_sip(&p);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "Ethernet");
}

static void test_decode_linux_sll(void **state)
{
    struct pkt p = { .n = 0 };
    struct sl_frame f;

    (void)state;
    put16(&p, 0);      /* packet type: to us */
    put16(&p, 1);      /* ARPHRD_ETHER */
    put16(&p, 6);      /* address length */
    put_zero(&p, 8);   /* address */
    put16(&p, 0x0800); /* protocol */
    put_ipv4(&p, 17, UDP_SIP_LEN, 0);
    put_udp_sip(&p);
    decode(DLT_LINUX_SLL, &p, &f);
    assert_sip_datagram(&f, 4);

    p.n = 10; /* cut inside the SLL header, and on the wire too */
    decode(DLT_LINUX_SLL, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "Linux SLL");
}

static void test_decode_linux_sll2(void **state)
{
    struct pkt p = { .n = 0 };
    struct sl_frame f;

    (void)state;
    put16(&p, 0x86dd); /* protocol */
    put16(&p, 0);      /* reserved */
    put32(&p, 3);      /* interface index */
    put16(&p, 1);      /* ARPHRD_ETHER */
    put8(&p, 4);       /* packet type: outgoing */
    put8(&p, 6);       /* address length */
    put_zero(&p, 8);
    put_ipv6(&p, 17, UDP_SIP_LEN);
    put_udp_sip(&p);
    decode(DLT_LINUX_SLL2, &p, &f);
    assert_sip_datagram(&f, 6);

    p.n = 0;
    put16(&p, 0x0806);
    put_zero(&p, 18);
    put_zero(&p, 28);
    decode(DLT_LINUX_SLL2, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_OTHER);
    assert_string_equal(f.reason, "ARP");
}

static void test_decode_raw_ip(void **state)
{
    static const int dlts[] = { DLT_RAW, DLT_IPV4, DLT_IPV6 };
    struct pkt p4 = { .n = 0 }, p6 = { .n = 0 };
    struct sl_frame f;
    size_t i;

    (void)state;
    put_ipv4(&p4, 17, UDP_SIP_LEN, 0);
    put_udp_sip(&p4);
    put_ipv6(&p6, 17, UDP_SIP_LEN);
    put_udp_sip(&p6);
    /* the version nibble decides, whatever the link type says */
    for (i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
        decode(dlts[i], &p4, &f);
        assert_sip_datagram(&f, 4);
        decode(dlts[i], &p6, &f);
        assert_sip_datagram(&f, 6);
    }
    p4.b[0] = 0x55;
    decode(DLT_RAW, &p4, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.detail, "IP version 5");
}

static void test_decode_null_and_loop(void **state)
{
    static const uint32_t af6[] = { 10, 24, 28, 30 };
    struct pkt p;
    struct sl_frame f;
    size_t i;

    (void)state;
    /* DLT_NULL written by a little-endian host */
    p.n = 0;
    put_le32(&p, 2);
    put_ipv4(&p, 17, UDP_SIP_LEN, 0);
    put_udp_sip(&p);
    decode(DLT_NULL, &p, &f);
    assert_sip_datagram(&f, 4);

    /* DLT_NULL written by a big-endian host, every AF_INET6 value */
    for (i = 0; i < sizeof(af6) / sizeof(af6[0]); i++) {
        p.n = 0;
        put32(&p, af6[i]);
        put_ipv6(&p, 17, UDP_SIP_LEN);
        put_udp_sip(&p);
        decode(DLT_NULL, &p, &f);
        assert_sip_datagram(&f, 6);
        /* and little-endian */
        p.n = 0;
        put_le32(&p, af6[i]);
        put_ipv6(&p, 17, UDP_SIP_LEN);
        put_udp_sip(&p);
        decode(DLT_NULL, &p, &f);
        assert_sip_datagram(&f, 6);
    }

    /* DLT_LOOP: network order */
    p.n = 0;
    put32(&p, 2);
    put_ipv4(&p, 17, UDP_SIP_LEN, 0);
    put_udp_sip(&p);
    decode(DLT_LOOP, &p, &f);
    assert_sip_datagram(&f, 4);

    /* another family (AF_APPLETALK 16 on BSD) */
    p.n = 0;
    put32(&p, 16);
    put_zero(&p, 20);
    decode(DLT_LOOP, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_OTHER);
    assert_string_equal(f.reason, "non-IP address family");
    assert_string_equal(f.detail, "address family 16");
}

static void test_decode_unsupported_link_type(void **state)
{
    struct pkt p = { .n = 0 };
    struct sl_frame f;

    (void)state;
    put_zero(&p, 40);
    decode(DLT_IEEE802_11, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "unsupported link type");
    assert_non_null(strstr(f.detail, "link type 105"));
    decode(4242, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "unsupported link type");
    assert_string_equal(f.detail, "link type 4242");
}

static void test_decode_pppoe_session_ipv4_and_ipv6(void **state)
{
    struct pkt p;
    struct sl_frame f;

    (void)state;
    /* RFC 2516: ver/type 0x11, code 0, session 0x0001, length = PPP frame */
    p.n = 0;
    put_eth(&p, 0x8864);
    put8(&p, 0x11);
    put8(&p, 0);
    put16(&p, 1);
    put16(&p, (unsigned)(2 + 20 + UDP_SIP_LEN));
    put16(&p, 0x0021);
    put_ipv4(&p, 17, UDP_SIP_LEN, 0);
    put_udp_sip(&p);
    decode(DLT_EN10MB, &p, &f);
    assert_sip_datagram(&f, 4);
    p.n = 0;
    put_eth(&p, 0x8864);
    put8(&p, 0x11);
    put8(&p, 0);
    put16(&p, 1);
    put16(&p, (unsigned)(2 + 40 + UDP_SIP_LEN));
    put16(&p, 0x0057);
    put_ipv6(&p, 17, UDP_SIP_LEN);
    put_udp_sip(&p);
    decode(DLT_EN10MB, &p, &f);
    assert_sip_datagram(&f, 6);
    /* LCP (0xc021) is PPP control: not SIP */
    p.n = 0;
    put_eth(&p, 0x8864);
    put8(&p, 0x11);
    put8(&p, 0);
    put16(&p, 1);
    put16(&p, 6);
    put16(&p, 0xc021);
    put_zero(&p, 4);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_OTHER);
    assert_string_equal(f.reason, "PPP control");
    /* a PPPoE length that lies about a complete frame */
    p.n = 0;
    put_eth(&p, 0x8864);
    put8(&p, 0x11);
    put8(&p, 0);
    put16(&p, 1);
    put16(&p, 500);
    put16(&p, 0x0021);
    put_ipv4(&p, 17, UDP_SIP_LEN, 0);
    put_udp_sip(&p);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "PPPoE");
}

static void put_udp_payload(struct pkt *p, unsigned sport, unsigned dport, const void *b, size_t n)
{
    p->n = 0;
    put_eth(p, 0x0800);
    put_ipv4(p, 17, 8 + n, 0);
    put16(p, sport);
    put16(p, dport);
    put16(p, (unsigned)(8 + n));
    put16(p, 0);
    put_bytes(p, b, n);
}

static void test_decode_udp_encapsulations(void **state)
{
    /* a G-PDU whose payload is not IP; a VXLAN header whose frame is cut */
    static const uint8_t gtp[16] = { 0x30, 0xff, 0, 8, 0, 0, 0, 1 };
    static const uint8_t vxlan[16] = { 0x08 };
    struct pkt p;
    struct sl_frame f;

    (void)state;
    put_udp_payload(&p, 2152, 2152, gtp, sizeof(gtp));
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "GTP-U");
    assert_int_equal(f.tunnels, 1);
    put_udp_payload(&p, 51000, 4789, vxlan, sizeof(vxlan));
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "Ethernet");
    /* the same bytes on other ports are plain datagrams */
    put_udp_payload(&p, 5060, 5060, gtp, sizeof(gtp));
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_int_equal(f.tunnels, 0);
    put_udp_payload(&p, 5060, 5060, vxlan, sizeof(vxlan));
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
}

/* ---- HEP (RULES.md part C) ----------------------------------------------- */

static void put_chunk(struct pkt *p, unsigned vendor, unsigned type, const void *v, size_t n)
{
    put16(p, vendor);
    put16(p, type);
    put16(p, (unsigned)(6 + n));
    put_bytes(p, v, n);
}

static void put_chunk8(struct pkt *p, unsigned type, unsigned v)
{
    uint8_t b = (uint8_t)v;

    put_chunk(p, 0, type, &b, 1);
}

static void put_chunk16(struct pkt *p, unsigned type, unsigned v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

    put_chunk(p, 0, type, b, 2);
}

static void put_chunk32(struct pkt *p, unsigned type, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

    put_chunk(p, 0, type, b, 4);
}

/* "HEP3" and a length to fill in with hep3_end(). */
static void hep3_begin(struct pkt *h)
{
    h->n = 0;
    put_bytes(h, "HEP3", 4);
    put16(h, 0);
}

static void hep3_end(struct pkt *h)
{
    set16(h, 4, (unsigned)h->n);
}

/* The worked example of RULES.md C.5 (HEP3 spec rev 37), with `sip` as the
 * payload and a correlation id; `pt` is the payload type chunk. */
static void build_hep3_v4(struct pkt *h, unsigned pt)
{
    static const uint8_t s[4] = { 212, 202, 0, 1 }, d[4] = { 82, 116, 0, 211 };

    hep3_begin(h);
    put_chunk8(h, 1, 2);
    put_chunk8(h, 2, 17);
    put_chunk(h, 0, 3, s, 4);
    put_chunk(h, 0, 4, d, 4);
    put_chunk16(h, 7, 12010);
    put_chunk16(h, 8, 5060);
    put_chunk32(h, 9, 1313440459);
    put_chunk32(h, 10, 120000);
    put_chunk8(h, 11, pt);
    put_chunk32(h, 12, 228);
    put_chunk(h, 0, 17, "corr-1", 6);
    put_chunk(h, 0, 15, sip, SIP_LEN);
    hep3_end(h);
}

static void test_decode_hep3_ipv4(void **state)
{
    struct pkt h, p;
    struct sl_frame f;
    char a[64], b[64];

    (void)state;
    build_hep3_v4(&h, 1);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_int_equal(f.hep_version, 3);
    assert_int_equal(f.transport, SL_TP_UDP);
    assert_string_equal(sl_endpoint_format(&f.src, a, sizeof(a)), "212.202.0.1:12010");
    assert_string_equal(sl_endpoint_format(&f.dst, b, sizeof(b)), "82.116.0.211:5060");
    assert_true(f.hep_ts_us == (int64_t)1313440459 * 1000000 + 120000);
    assert_true(f.hep_has_agent_id);
    assert_int_equal(f.hep_agent_id, 228);
    assert_int_equal(f.hep_correlation_len, 6);
    assert_memory_equal(f.hep_correlation, "corr-1", 6);
    assert_int_equal(f.payload_len, SIP_LEN);
    assert_memory_equal(f.payload, sip, SIP_LEN);
    assert_false(f.payload_truncated);
    /* any port: recognised by "HEP3" */
    put_udp_payload(&p, 5060, 5060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_int_equal(f.hep_version, 3);
}

static void test_decode_hep3_ipv6_tcp(void **state)
{
    struct pkt h, p;
    struct sl_frame f;
    char a[64], b[64];

    (void)state;
    hep3_begin(&h);
    put_chunk(&h, 0, 15, sip, SIP_LEN); /* order does not matter */
    put_chunk8(&h, 1, 10);
    put_chunk8(&h, 2, 6);
    put_chunk(&h, 0, 5, src6, 16);
    put_chunk(&h, 0, 6, dst6, 16);
    put_chunk16(&h, 7, 5060);
    put_chunk16(&h, 8, 5080);
    put_chunk8(&h, 11, 1);
    hep3_end(&h);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_int_equal(f.transport, SL_TP_TCP);
    assert_string_equal(sl_endpoint_format(&f.src, a, sizeof(a)), "[2001:db8::1]:5060");
    assert_string_equal(sl_endpoint_format(&f.dst, b, sizeof(b)), "[2001:db8::2]:5080");
    assert_true(f.hep_ts_us == 0); /* no time chunk: the frame time stands */
    assert_false(f.hep_has_agent_id);
    assert_null(f.hep_correlation);
    assert_int_equal(f.payload_len, SIP_LEN);
}

static void test_decode_hep2(void **state)
{
    struct pkt h, p;
    struct sl_frame f;

    (void)state;
    h.n = 0;
    put8(&h, 2);
    put8(&h, 28);
    put8(&h, 2);
    put8(&h, 17);
    put16(&h, 5060);
    put16(&h, 5080);
    put_bytes(&h, src4, 4);
    put_bytes(&h, dst4, 4);
    put_le32(&h, 1313440459); /* the time header in the sender's (little-endian) order */
    put_le32(&h, 120000);
    put_le16(&h, 2001);
    put_zero(&h, 2); /* struct padding */
    put_bytes(&h, sip, SIP_LEN);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_sip_datagram(&f, 4);
    assert_int_equal(f.hep_version, 2);
    assert_true(f.hep_ts_us == (int64_t)1313440459 * 1000000 + 120000);
    assert_int_equal(f.hep_agent_id, 2001);
    /* a sender that writes something else in hp_l: found by the payload */
    h.b[1] = 0x01;
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_sip_datagram(&f, 4);
    /* ... and without a SIP payload such bytes are a plain datagram */
    put_udp_payload(&p, 40000, 9060, h.b, 30);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_int_equal(f.hep_version, 0);
}

static void test_decode_hep3_chunk_lies(void **state)
{
    struct pkt h, p;
    struct sl_frame f;

    (void)state;
    /* a chunk length < 6 */
    build_hep3_v4(&h, 1);
    set16(&h, 6 + 4, 3);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "HEP");
    assert_non_null(strstr(f.detail, "< 6"));
    /* the payload chunk's length goes past the end of the packet */
    build_hep3_v4(&h, 1);
    set16(&h, h.n - SIP_LEN - 2, 6 + SIP_LEN + 1);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_non_null(strstr(f.detail, "bytes left in the packet"));
    /* a fixed-size chunk of the wrong size */
    hep3_begin(&h);
    put_chunk(&h, 0, 7, "abc", 3);
    hep3_end(&h);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    /* total length past the datagram */
    build_hep3_v4(&h, 1);
    set16(&h, 4, (unsigned)h.n + 1);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    /* total length < 6 */
    set16(&h, 4, 5);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
}

static void test_decode_hep3_truncated_chunk(void **state)
{
    struct pkt h, p;
    struct sl_frame f;
    size_t cut;

    (void)state;
    /* the packet ends 3 bytes into a chunk header (the datagram is whole) */
    build_hep3_v4(&h, 1);
    put_bytes(&h, "\0\0\0", 3);
    hep3_end(&h);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_non_null(strstr(f.detail, "chunk header"));
    /* the capture (snaplen) cut the datagram inside the payload chunk: the
     * message is kept, marked truncated */
    build_hep3_v4(&h, 1);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    memset(&f, 0xa5, sizeof(f));
    sl_frame_decode(DLT_EN10MB, p.b, p.n - 5, p.n, &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_true(f.payload_truncated);
    assert_int_equal(f.payload_len, SIP_LEN - 5);
    /* ... or inside an earlier chunk: truncated, not malformed */
    cut = 14 + 20 + 8 + 6 + 7 + 7 + 3;
    memset(&f, 0xa5, sizeof(f));
    sl_frame_decode(DLT_EN10MB, p.b, cut, p.n, &f);
    assert_int_equal(f.kind, SL_FRAME_TRUNCATED);
    assert_string_equal(f.reason, "HEP");
    /* every caplen: never a crash, never a DATAGRAM with bytes past the cut */
    for (cut = 0; cut <= p.n; cut++) {
        memset(&f, 0xa5, sizeof(f));
        sl_frame_decode(DLT_EN10MB, p.b, cut, p.n, &f);
        if (f.kind == SL_FRAME_DATAGRAM)
            assert_true(f.payload_len <= cut);
    }
}

static void test_decode_hep3_unknown_chunks(void **state)
{
    struct pkt h, p;
    struct sl_frame f;

    (void)state;
    hep3_begin(&h);
    put_chunk(&h, 0, 0x13, "node1", 5);  /* capture agent name: not needed */
    put_chunk(&h, 0, 0x1234, "??", 2);   /* a type nobody defined */
    put_chunk(&h, 2, 3, "vendor!", 7);   /* Kamailio vendor chunk: type 3 is not an address */
    put_chunk(&h, 0, 0x0e, "secret", 6); /* auth key */
    put_chunk(&h, 0, 0x0d, "\0\x1e", 2); /* keep-alive */
    put_chunk(&h, 0, 15, sip, SIP_LEN);
    hep3_end(&h);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_int_equal(f.src.family, 0); /* no address chunk */
    assert_int_equal(f.payload_len, SIP_LEN);
}

static void test_decode_hep3_not_sip(void **state)
{
    struct pkt h, p;
    struct sl_frame f;

    (void)state;
    build_hep3_v4(&h, 100); /* a log line */
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_OTHER);
    assert_string_equal(f.reason, "HEP, not SIP");
    assert_non_null(strstr(f.detail, "100 (log)"));
    build_hep3_v4(&h, 5); /* RTCP as JSON */
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_OTHER);
    assert_non_null(strstr(f.detail, "RTCP"));
}

static void test_decode_hep3_compressed(void **state)
{
    static const uint8_t deflated[] = { 0x78, 0x9c, 0x4b, 0x4c, 0x4a, 0x06,
                                        0x00, 0x02, 0x4d, 0x01, 0x27 };
    struct pkt h, p;
    struct sl_frame f;

    (void)state;
    hep3_begin(&h);
    put_chunk8(&h, 1, 2);
    put_chunk8(&h, 11, 1);
    put_chunk(&h, 0, 16, deflated, sizeof(deflated));
    hep3_end(&h);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED); /* decoded on its own: no queue */
    assert_string_equal(f.reason, "HEP compressed payload");
}

/* A compressed HEP3 payload (chunk 16, zlib) with `z` as its value, from
 * 192.0.2.1:5060 to 192.0.2.2:5062, agent 7, correlation id "k", in a UDP
 * datagram: decoded with a stream queue, as a capture does. */
static void decode_compressed(const uint8_t *z, size_t zn, struct sl_tcp *t, struct sl_frame *f)
{
    static const uint8_t a[4] = { 192, 0, 2, 1 }, b[4] = { 192, 0, 2, 2 };
    struct pkt h, p;

    hep3_begin(&h);
    put_chunk8(&h, 1, 2);
    put_chunk8(&h, 2, 17);
    put_chunk(&h, 0, 3, a, 4);
    put_chunk(&h, 0, 4, b, 4);
    put_chunk16(&h, 7, 5060);
    put_chunk16(&h, 8, 5062);
    put_chunk32(&h, 9, 1700000000);
    put_chunk32(&h, 10, 5);
    put_chunk8(&h, 11, 1);
    put_chunk32(&h, 12, 7);
    put_chunk(&h, 0, 17, "k", 1);
    put_chunk(&h, 0, 16, z, zn);
    hep3_end(&h);
    put_udp_payload(&p, 40000, 9060, h.b, h.n);
    memset(f, 0, sizeof(*f));
    f->number = 9;
    f->ts_us = 1234;
    sl_frame_decode_stream(DLT_EN10MB, p.b, p.n, p.n, NULL, t, f);
}

static void test_decode_hep3_inflated(void **state)
{
    static uint8_t bad[64];
    struct sl_tcp *t = NULL;
    struct sl_stream_msg m;
    struct sl_frame f;
    char a[64];

    (void)state;
    assert_int_equal(sl_tcp_new(&t, NULL), SL_OK);
    /* fixed Huffman codes (inflate_vectors.h): the SIP message is queued */
    decode_compressed(v_fixed, sizeof(v_fixed), t, &f);
    assert_int_equal(f.kind, SL_FRAME_STREAM);
    assert_int_equal(sl_tcp_message(t, &m), 1);
    assert_int_equal(m.len, strlen(short_text));
    assert_memory_equal(m.data, short_text, m.len);
    assert_int_equal(m.frame, 9);
    assert_true(m.counts_frame);
    assert_int_equal(m.hep_version, 3);
    assert_true(m.hep_ts_us == (int64_t)1700000000 * 1000000 + 5);
    assert_true(m.hep_has_agent_id);
    assert_int_equal(m.hep_agent_id, 7);
    assert_int_equal(m.hep_correlation_len, 1);
    assert_memory_equal(m.hep_correlation, "k", 1);
    assert_int_equal(m.transport, SL_TP_UDP);
    assert_string_equal(sl_endpoint_format(&m.src, a, sizeof(a)), "192.0.2.1:5060");
    assert_string_equal(sl_endpoint_format(&m.dst, a, sizeof(a)), "192.0.2.2:5062");
    assert_int_equal(sl_tcp_message(t, &m), 0);
    /* a wrong Adler-32: malformed, the reason in the detail */
    memcpy(bad, v_fixed, sizeof(v_fixed));
    bad[sizeof(v_fixed) - 1] ^= 0xff;
    decode_compressed(bad, sizeof(v_fixed), t, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "HEP");
    assert_non_null(strstr(f.detail, "does not inflate: bad check value"));
    assert_int_equal(sl_tcp_message(t, &m), 0);
    /* cut short */
    decode_compressed(v_fixed, sizeof(v_fixed) - 6, t, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_non_null(strstr(f.detail, "truncated"));
    /* no zlib header */
    decode_compressed((const uint8_t *)"SIP/2.0 200 OK", 14, t, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_non_null(strstr(f.detail, "bad header"));
    /* 70000 bytes: over the limit */
    decode_compressed(v_zeros, sizeof(v_zeros), t, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "HEP compressed payload (over the limit)");
    assert_non_null(strstr(f.detail, "more than 65535 bytes"));
    assert_int_equal(sl_tcp_message(t, &m), 0);
    sl_tcp_free(t);
}

/* DTLS records in UDP: not decoded, and each flow reported once (tcp.c). */
static void test_decode_dtls(void **state)
{
    static const uint8_t hello[25] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12 };
    static const uint8_t appdata[20] = { 23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 5, 0, 7 };
    struct sl_tcp *t = NULL;
    struct sl_tcp_event ev;
    struct pkt p;
    struct sl_frame f;
    unsigned i, n = 0;

    (void)state;
    put_udp_payload(&p, 40000, 5061, hello, sizeof(hello));
    decode(DLT_EN10MB, &p, &f); /* on its own */
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "DTLS");
    assert_int_equal(sl_tcp_new(&t, NULL), SL_OK);
    for (i = 1; i <= 4; i++) {
        if (i == 2) { /* the answer: the other direction of the same flow */
            uint8_t a[4];

            put_udp_payload(&p, 5061, 40000, appdata, sizeof(appdata));
            memcpy(a, p.b + 14 + 12, 4); /* swap the IPv4 addresses */
            memcpy(p.b + 14 + 12, p.b + 14 + 16, 4);
            memcpy(p.b + 14 + 16, a, 4);
        } else
            put_udp_payload(&p, 40000, 5061, i == 1 ? hello : appdata,
                            i == 1 ? sizeof(hello) : sizeof(appdata));
        memset(&f, 0, sizeof(f));
        f.number = i;
        f.ts_us = (int64_t)i * 1000;
        sl_frame_decode_stream(DLT_EN10MB, p.b, p.n, p.n, NULL, t, &f);
        assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
        assert_string_equal(f.reason, "DTLS");
        assert_int_equal(sl_tcp_event(t, &ev), 0); /* nothing per frame */
    }
    /* not DTLS: version 0x0303 (TLS), a SIP message starting with 0x16 is impossible */
    put_udp_payload(&p, 40000, 5061, "\x16\x03\x03\0\0\0\0\0\0\0\0\0\0", 13);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    /* idle for the time-out: reported once */
    sl_tcp_expire(t, 4000 + SL_TCP_IDLE_US - 1, false);
    assert_int_equal(sl_tcp_event(t, &ev), 0);
    sl_tcp_expire(t, 4000 + SL_TCP_IDLE_US + 1, false);
    assert_int_equal(sl_tcp_event(t, &ev), 1);
    assert_string_equal(ev.rule, "SIP-CAP-004");
    assert_int_equal(ev.transport, SL_TP_UDP);
    assert_int_equal(ev.frame, 1);
    assert_non_null(strstr(ev.text, ":40000 <-> "));
    assert_non_null(strstr(ev.text, ":5061: 4 datagrams (frames 1 to 4) encrypted (RFC 9147)"));
    assert_int_equal(sl_tcp_event(t, &ev), 0);
    sl_tcp_expire(t, 0, true);
    assert_int_equal(sl_tcp_event(t, &ev), 0);
    /* more flows than followed: the one idle longest is reported at once */
    for (i = 0; i <= SL_DTLS_MAX_FLOWS; i++) {
        put_udp_payload(&p, 10000 + i, 5061, hello, sizeof(hello));
        memset(&f, 0, sizeof(f));
        f.number = 100 + i;
        f.ts_us = (int64_t)i;
        sl_frame_decode_stream(DLT_EN10MB, p.b, p.n, p.n, NULL, t, &f);
    }
    while (sl_tcp_event(t, &ev) == 1)
        n++;
    assert_int_equal(n, 1);
    sl_tcp_expire(t, 0, true);
    while (sl_tcp_event(t, &ev) == 1)
        n++;
    assert_int_equal(n, SL_DTLS_MAX_FLOWS + 1);
    sl_tcp_free(t);
}

static void test_decode_ethertypes(void **state)
{
    static const struct {
        unsigned type;
        enum sl_frame_kind kind;
        const char *reason;
    } cases[] = {
        { 0x0806, SL_FRAME_OTHER, "ARP" },
        { 0x0026, SL_FRAME_OTHER, "802.3 LLC" },
        { 0x894f, SL_FRAME_NOT_DECODED, "NSH" },
        { 0x88e5, SL_FRAME_NOT_DECODED, "MACsec" },
        { 0x88cc, SL_FRAME_OTHER, "non-IP ethertype" },
    };
    struct pkt p;
    struct sl_frame f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        p.n = 0;
        put_eth(&p, cases[i].type);
        put_zero(&p, 46);
        decode(DLT_EN10MB, &p, &f);
        assert_int_equal(f.kind, cases[i].kind);
        assert_string_equal(f.reason, cases[i].reason);
    }
    assert_string_equal(f.detail, "ethertype 0x88cc");
}

/* ---- IP ----------------------------------------------------------------- */

static void test_decode_ipv6_extension_headers(void **state)
{
    struct pkt p;
    struct sl_frame f;
    size_t i;

    (void)state;
    build_eth_ipv6_exthdrs_udp(&p);
    decode(DLT_EN10MB, &p, &f);
    assert_sip_datagram(&f, 6);

    /* routing + AH ((len + 2) * 4 = 12 bytes) before UDP */
    p.n = 0;
    put_eth(&p, 0x86dd);
    put_ipv6(&p, 43, 8 + 12 + UDP_SIP_LEN);
    put8(&p, 51);
    put8(&p, 0);
    put_zero(&p, 6);
    put8(&p, 17);
    put8(&p, 1);
    put_zero(&p, 10);
    put_udp_sip(&p);
    decode(DLT_EN10MB, &p, &f);
    assert_sip_datagram(&f, 6);

    /* 17 destination-options headers: over the cap */
    p.n = 0;
    put_eth(&p, 0x86dd);
    put_ipv6(&p, 60, 17 * 8 + UDP_SIP_LEN);
    for (i = 0; i < 17; i++) {
        put8(&p, i == 16 ? 17 : 60);
        put8(&p, 0);
        put8(&p, 1);
        put8(&p, 4);
        put_zero(&p, 4);
    }
    put_udp_sip(&p);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "IPv6");

    /* ESP and no-next-header */
    p.n = 0;
    put_ipv6(&p, 50, 16);
    put_zero(&p, 16);
    decode(DLT_RAW, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_OTHER);
    assert_string_equal(f.reason, "ESP");
    p.n = 0;
    put_ipv6(&p, 59, 0);
    decode(DLT_RAW, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_OTHER);

    /* extension header longer than the IPv6 payload: malformed */
    p.n = 0;
    put_ipv6(&p, 0, 8);
    put8(&p, 17);
    put8(&p, 3); /* 32 bytes */
    put_zero(&p, 6);
    decode(DLT_RAW, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "IPv6");
}

static void test_decode_ipv6_jumbo_payload_length_zero(void **state)
{
    struct pkt p = { .n = 0 };
    struct sl_frame f;

    (void)state;
    put_ipv6(&p, 0, 0);
    /* hop-by-hop with a Jumbo Payload option (RFC 2675) */
    put8(&p, 17);
    put8(&p, 0);
    put8(&p, 0xc2);
    put8(&p, 4);
    put32(&p, (uint32_t)(8 + UDP_SIP_LEN));
    put_udp_sip(&p);
    decode(DLT_RAW, &p, &f);
    assert_sip_datagram(&f, 6);
}

static void test_decode_fragments_not_decoded(void **state)
{
    static const unsigned frags[] = { 0x2000, 0x0010, 0x2010, 0x4010 };
    struct pkt p;
    struct sl_frame f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
        p.n = 0;
        put_eth(&p, 0x0800);
        put_ipv4(&p, 17, UDP_SIP_LEN, frags[i]);
        put_udp_sip(&p);
        decode(DLT_EN10MB, &p, &f);
        assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
        assert_string_equal(f.reason, "IPv4 fragment");
        assert_int_equal(f.src.family, 4);
    }
    /* DF alone is not a fragment */
    p.n = 0;
    put_eth(&p, 0x0800);
    put_ipv4(&p, 17, UDP_SIP_LEN, 0x4000);
    put_udp_sip(&p);
    decode(DLT_EN10MB, &p, &f);
    assert_sip_datagram(&f, 4);

    /* IPv6 fragment header, M set */
    p.n = 0;
    put_ipv6(&p, 44, 8 + UDP_SIP_LEN);
    put8(&p, 17);
    put8(&p, 0);
    put16(&p, 0x0001);
    put32(&p, 0xabcd);
    put_udp_sip(&p);
    decode(DLT_RAW, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "IPv6 fragment");
    /* offset != 0, M clear */
    set16(&p, 42, 0x0100);
    decode(DLT_RAW, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "IPv6 fragment");
    /* offset 0, M clear: an atomic fragment (RFC 6946) is a whole datagram */
    set16(&p, 42, 0x0000);
    decode(DLT_RAW, &p, &f);
    assert_sip_datagram(&f, 6);
}

/* ---- SCTP (RFC 9260, RFC 4168) ------------------------------------------ */

static const char sip2[] = "SIP/2.0 200 OK\r\nl: 0\r\n\r\n";

/* A DATA chunk with flags and payload (padded to 4). */
static void put_sctp_data(struct pkt *p, unsigned flags, uint32_t ppid, const void *pl, size_t n)
{
    put8(p, 0);
    put8(p, flags);
    put16(p, (unsigned)(16 + n));
    put32(p, 7); /* TSN */
    put16(p, 0); /* stream */
    put16(p, 1); /* SSN */
    put32(p, ppid);
    put_bytes(p, pl, n);
    put_zero(p, (4 - n % 4) % 4);
}

/* The SCTP packet: common header, a SACK, DATA chunks, a HEARTBEAT. */
static size_t build_sctp(struct pkt *p, int which)
{
    struct pkt body;
    size_t ip_at;

    body.n = 0;
    put16(&body, 5060);
    put16(&body, 5080);
    put32(&body, 0xdeadbeef);
    put32(&body, 0);
    put8(&body, 3); /* SACK, 16 bytes */
    put8(&body, 0);
    put16(&body, 16);
    put_zero(&body, 12);
    if (which == 0) {
        put_sctp_data(&body, 3, 0, sip, SIP_LEN);
    } else if (which == 1) {
        put_sctp_data(&body, 3, 0, sip, SIP_LEN);
        put_sctp_data(&body, 3, 5, sip2, sizeof(sip2) - 1);
    } else if (which == 2) {
        put_sctp_data(&body, 2, 0, sip, 10); /* the first fragment of a message */
    } else if (which == 3) {
        put_sctp_data(&body, 3, 46, "\x01\x00\x00\x14", 4); /* Diameter */
    }
    put8(&body, 4); /* HEARTBEAT with 5 bytes of info: padded */
    put8(&body, 0);
    put16(&body, 9);
    put_bytes(&body, "hello", 5);
    put_zero(&body, 3);
    p->n = 0;
    put_eth(p, 0x0800);
    ip_at = p->n;
    put_ipv4(p, 132, body.n, 0);
    put_bytes(p, body.b, body.n);
    return ip_at;
}

static void test_decode_sctp(void **state)
{
    struct pkt p;
    struct sl_frame f;
    struct sl_tcp *tcp;
    struct sl_stream_msg m;
    size_t ip_at, cut;

    (void)state;
    build_sctp(&p, 0);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_int_equal(f.transport, SL_TP_SCTP);
    assert_int_equal(f.src.port, 5060);
    assert_int_equal(f.dst.port, 5080);
    assert_int_equal(f.payload_len, SIP_LEN);
    assert_memory_equal(f.payload, sip, SIP_LEN);
    /* two SIP messages bundled: without a reassembler not decoded, with one
     * queued as messages of the frame */
    build_sctp(&p, 1);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "SCTP (several SIP messages)");
    assert_int_equal(sl_tcp_new(&tcp, NULL), SL_OK);
    memset(&f, 0, sizeof(f));
    f.number = 9;
    sl_frame_decode_stream(DLT_EN10MB, p.b, p.n, p.n, NULL, tcp, &f);
    assert_int_equal(f.kind, SL_FRAME_STREAM);
    assert_int_equal(sl_tcp_message(tcp, &m), 1);
    assert_int_equal(m.transport, SL_TP_SCTP);
    assert_true(m.counts_frame);
    assert_int_equal(m.frame, 9);
    assert_memory_equal(m.data, sip, SIP_LEN);
    assert_int_equal(sl_tcp_message(tcp, &m), 1);
    assert_false(m.counts_frame);
    assert_int_equal(m.len, sizeof(sip2) - 1);
    assert_int_equal(sl_tcp_message(tcp, &m), 0);
    sl_tcp_free(tcp);
    /* a fragment, not SIP, no DATA */
    build_sctp(&p, 2);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "SCTP (fragmented message)");
    build_sctp(&p, 3);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_OTHER);
    assert_string_equal(f.reason, "SCTP, not SIP");
    build_sctp(&p, 4);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_OTHER);
    assert_string_equal(f.reason, "SCTP, no DATA chunk");
    /* cut by the capture at every length: truncated (never a datagram,
     * never a read past the end), except when whole SIP chunks came before
     * the cut */
    ip_at = build_sctp(&p, 1);
    for (cut = ip_at + 20; cut < p.n; cut++) {
        memset(&f, 0xa5, sizeof(f));
        sl_frame_decode(DLT_EN10MB, p.b, cut, p.n, &f);
        if (f.kind == SL_FRAME_NOT_DECODED) { /* both SIP chunks were whole */
            assert_string_equal(f.reason, "SCTP (several SIP messages)");
            continue;
        }
        if (f.kind == SL_FRAME_DATAGRAM) { /* the first SIP chunk was whole */
            assert_true(cut >= ip_at + 20 + 12 + 16 + 16 + SIP_LEN);
            assert_int_equal(f.payload_len, SIP_LEN);
            continue;
        }
        assert_int_equal(f.kind, SL_FRAME_TRUNCATED);
        assert_string_equal(f.reason, "SCTP");
    }
    /* the same bytes as the whole IP payload (the IP length says so): malformed */
    for (cut = ip_at + 20; cut < p.n - 3; cut++) {
        struct pkt q = p;

        q.n = cut;
        set16(&q, ip_at + 2, (unsigned)(cut - ip_at));
        decode(DLT_EN10MB, &q, &f);
        if (f.kind == SL_FRAME_MALFORMED)
            continue;
        /* a cut between chunks leaves a shorter, valid packet */
        assert_true(f.kind == SL_FRAME_DATAGRAM || f.kind == SL_FRAME_OTHER ||
                    f.kind == SL_FRAME_NOT_DECODED);
    }
    /* a chunk length below its header */
    build_sctp(&p, 0);
    set16(&p, 14 + 20 + 12 + 2, 2);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_non_null(strstr(f.detail, "length 2 < 4"));
}

static void test_decode_ip_protocols(void **state)
{
    static const struct {
        unsigned proto;
        enum sl_frame_kind kind;
        const char *reason;
    } cases[] = {
        { 6, SL_FRAME_NOT_DECODED, "TCP" },
        { 132, SL_FRAME_MALFORMED, "SCTP" }, /* a DATA chunk of length 0 */
        { 1, SL_FRAME_OTHER, "ICMP" },
        { 58, SL_FRAME_OTHER, "ICMPv6" },
        { 89, SL_FRAME_OTHER, "other IP protocol" },
    };
    struct pkt p;
    struct sl_frame f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        p.n = 0;
        put_eth(&p, 0x0800);
        put_ipv4(&p, cases[i].proto, 20, 0);
        put_zero(&p, 20);
        decode(DLT_EN10MB, &p, &f);
        assert_int_equal(f.kind, cases[i].kind);
        assert_string_equal(f.reason, cases[i].reason);

        p.n = 0;
        put_ipv6(&p, cases[i].proto, 20);
        put_zero(&p, 20);
        decode(DLT_RAW, &p, &f);
        assert_int_equal(f.kind, cases[i].kind);
        assert_string_equal(f.reason, cases[i].reason);
    }
    assert_string_equal(f.detail, "IP protocol 89");
    /* TCP says which transport it was */
    p.n = 0;
    put_ipv4(&p, 6, 20, 0);
    put_zero(&p, 20);
    decode(DLT_RAW, &p, &f);
    assert_int_equal(f.transport, SL_TP_TCP);
}

static void test_decode_ipv4_header_lies(void **state)
{
    struct pkt p;
    struct sl_frame f;

    (void)state;
    /* IHL 4 */
    build_eth_ipv4_udp(&p);
    p.b[14] = 0x44;
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "IPv4");

    /* total length below the header length */
    build_eth_ipv4_udp(&p);
    set16(&p, 16, 19);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.detail, "IPv4 total length 19 < header length 20");

    /* total length beyond the frame, and nothing was cut: malformed */
    build_eth_ipv4_udp(&p);
    set16(&p, 16, 1500);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "IPv4");
    assert_non_null(strstr(f.detail, "IPv4 total length 1500 >"));

    /* version 6 under ethertype IPv4 */
    build_eth_ipv4_udp(&p);
    p.b[14] = 0x65;
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);

    /* IPv4 options are skipped (IHL 6) */
    p.n = 0;
    put_eth(&p, 0x0800);
    put_ipv4(&p, 17, 4 + UDP_SIP_LEN, 0);
    p.b[14] = 0x46;
    put32(&p, 0x01010100); /* NOP NOP NOP EOL */
    put_udp_sip(&p);
    decode(DLT_EN10MB, &p, &f);
    assert_sip_datagram(&f, 4);
}

/* ---- UDP ---------------------------------------------------------------- */

static void test_decode_udp_length_lies(void **state)
{
    struct pkt p;
    struct sl_frame f;

    (void)state;
    /* UDP length larger than the IP payload, nothing cut: malformed */
    build_eth_ipv4_udp(&p);
    set16(&p, 14 + 20 + 4, (unsigned)(UDP_SIP_LEN + 10));
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "UDP");
    assert_string_equal(f.detail, "UDP length 45 > 35 bytes of IP payload");

    /* same over IPv6 */
    p.n = 0;
    put_ipv6(&p, 17, UDP_SIP_LEN);
    put_udp_sip(&p);
    set16(&p, 40 + 4, 200);
    decode(DLT_RAW, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.detail, "UDP length 200 > 35 bytes of IP payload");

    /* UDP length smaller than the IP payload: the UDP length wins */
    build_eth_ipv4_udp(&p);
    set16(&p, 14 + 20 + 4, 8 + 7);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_int_equal(f.payload_len, 7);
    assert_memory_equal(f.payload, "OPTIONS", 7);
    assert_false(f.payload_truncated);

    /* UDP length below 8 */
    build_eth_ipv4_udp(&p);
    set16(&p, 14 + 20 + 4, 7);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "UDP");

    /* IP payload too short for the UDP header, nothing cut: malformed */
    p.n = 0;
    put_ipv4(&p, 17, 4, 0);
    put32(&p, 0x13c413c4);
    decode(DLT_RAW, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "UDP");
}

static void test_decode_udp_cut_by_snaplen(void **state)
{
    struct pkt p;
    struct sl_frame f;
    size_t cut = 14 + 20 + 8 + 10;

    (void)state;
    build_eth_ipv4_udp(&p);
    memset(&f, 0, sizeof(f));
    sl_frame_decode(DLT_EN10MB, p.b, cut, p.n, &f);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_true(f.payload_truncated);
    assert_int_equal(f.payload_len, 10);
    assert_memory_equal(f.payload, sip, 10);
    assert_int_equal(f.src.port, 5060);
}

/*
 * Every prefix of a good frame, in a buffer of exactly that size (so that
 * ASan sees any read past caplen): truncated, or a datagram whose payload is
 * marked truncated, until the frame is whole.
 */
static void sweep(int dlt, const struct pkt *p, int family)
{
    struct sl_frame f;
    size_t caplen;

    for (caplen = 0; caplen <= p->n; caplen++) {
        uint8_t *copy = malloc(caplen > 0 ? caplen : 1);

        assert_non_null(copy);
        memcpy(copy, p->b, caplen);
        memset(&f, 0xa5, sizeof(f));
        sl_frame_decode(dlt, caplen > 0 ? copy : NULL, caplen, p->n, &f);
        if (caplen < p->n) {
            if (f.kind == SL_FRAME_DATAGRAM) {
                assert_true(f.payload_truncated);
                assert_true(f.payload_len < SIP_LEN);
                assert_memory_equal(f.payload, sip, f.payload_len);
            } else {
                if (f.kind != SL_FRAME_TRUNCATED)
                    fprintf(stderr, "caplen %zu of %zu: %s: %s\n", caplen, p->n, f.reason,
                            f.detail);
                assert_int_equal(f.kind, SL_FRAME_TRUNCATED);
                assert_non_null(f.reason);
                assert_true(f.detail[0] != '\0');
            }
        } else {
            assert_sip_datagram(&f, family);
        }
        free(copy);
    }
}

static void test_decode_every_caplen(void **state)
{
    struct pkt p;

    (void)state;
    build_eth_ipv4_udp(&p);
    sweep(DLT_EN10MB, &p, 4);
    build_eth_ipv6_exthdrs_udp(&p);
    sweep(DLT_EN10MB, &p, 6);

    p.n = 0;
    put_eth(&p, 0x88a8);
    put16(&p, 1);
    put16(&p, 0x8100);
    put16(&p, 2);
    put16(&p, 0x0800);
    put_ipv4(&p, 17, UDP_SIP_LEN, 0);
    put_udp_sip(&p);
    sweep(DLT_EN10MB, &p, 4);

    p.n = 0;
    put16(&p, 0x86dd);
    put_zero(&p, 18);
    put_ipv6(&p, 17, UDP_SIP_LEN);
    put_udp_sip(&p);
    sweep(DLT_LINUX_SLL2, &p, 6);

    p.n = 0;
    put_le32(&p, 2);
    put_ipv4(&p, 17, UDP_SIP_LEN, 0);
    put_udp_sip(&p);
    sweep(DLT_NULL, &p, 4);
}

/* ---- tunnels ------------------------------------------------------------ */

static const uint8_t outer4_src[4] = { 203, 0, 113, 1 };
static const uint8_t outer4_dst[4] = { 203, 0, 113, 2 };

/* An outer IPv4 header (addresses other than the inner packet's). */
static void put_ipv4_outer(struct pkt *p, unsigned proto, size_t payload_len)
{
    put8(p, 0x45);
    put8(p, 0);
    put16(p, (unsigned)(20 + payload_len));
    put16(p, 0x4321);
    put16(p, 0);
    put8(p, 64);
    put8(p, proto);
    put16(p, 0);
    put_bytes(p, outer4_src, 4);
    put_bytes(p, outer4_dst, 4);
}

/* The inner packet: IPv4 (or IPv6) + UDP + sip. */
static void build_inner(struct pkt *in, int family)
{
    in->n = 0;
    if (family == 4)
        put_ipv4(in, 17, UDP_SIP_LEN, 0);
    else
        put_ipv6(in, 17, UDP_SIP_LEN);
    put_udp_sip(in);
}

/* The inner packet in an Ethernet frame. */
static void build_inner_eth(struct pkt *in, int family)
{
    struct pkt ip;

    build_inner(&ip, family);
    in->n = 0;
    put_eth(in, family == 4 ? 0x0800 : 0x86dd);
    put_bytes(in, ip.b, ip.n);
}

/* Ethernet + outer IPv4 (proto) + hdr + body. */
static void wrap_ipv4(struct pkt *p, unsigned proto, const struct pkt *hdr, const struct pkt *body)
{
    p->n = 0;
    put_eth(p, 0x0800);
    put_ipv4_outer(p, proto, hdr->n + body->n);
    put_bytes(p, hdr->b, hdr->n);
    put_bytes(p, body->b, body->n);
}

/* Ethernet + outer IPv4 + UDP sport -> dport + hdr + body. */
static void wrap_udp(struct pkt *p, unsigned sport, unsigned dport, const struct pkt *hdr,
                     const struct pkt *body)
{
    size_t n = 8 + hdr->n + body->n;

    p->n = 0;
    put_eth(p, 0x0800);
    put_ipv4_outer(p, 17, n);
    put16(p, sport);
    put16(p, dport);
    put16(p, (unsigned)n);
    put16(p, 0);
    put_bytes(p, hdr->b, hdr->n);
    put_bytes(p, body->b, body->n);
}

enum tunnel_case {
    T_GRE_CKS,     /* GRE with checksum, key and sequence number, IPv4 inside */
    T_GRE_V6,      /* GRE over IPv6 with a key, IPv6 inside */
    T_GRE_TEB,     /* GRE, transparent Ethernet bridging */
    T_ERSPAN1,     /* GRE 0x88be without sequence number: bare Ethernet */
    T_ERSPAN2,     /* GRE + ERSPAN type II */
    T_ERSPAN3,     /* GRE + ERSPAN type III with the platform subheader */
    T_ERSPAN3_IP,  /* ERSPAN type III, frame type 2 (IP) */
    T_PPTP,        /* enhanced GRE (version 1) + PPP */
    T_IPIP,        /* IPv4 in IPv4 */
    T_6IN4,        /* IPv6 in IPv4 */
    T_4IN6,        /* IPv4 in IPv6 (raw IP link) */
    T_VXLAN,       /* VXLAN on port 4789 */
    T_VXLAN_ANY,   /* VXLAN on another port, recognised by its header */
    T_GTP_EXT,     /* GTP-U with sequence number and an extension header */
    T_GTP_V6,      /* GTP-U, IPv6 inside */
    T_MPLS,        /* two MPLS labels, IPv4 */
    T_MPLS_GRE_V6, /* MPLS in GRE, IPv6 */
    T_N
};

/* Builds tunnel case `c` into p; returns the link type, sets the inner
 * family and how many tunnels the decoder must count. */
static int build_tunnel(struct pkt *p, enum tunnel_case c, int *family, unsigned *tunnels)
{
    struct pkt h, in;

    h.n = 0;
    *family = 4;
    *tunnels = 1;
    switch (c) {
    case T_GRE_CKS:
        build_inner(&in, 4);
        put16(&h, 0xb000); /* C, K, S */
        put16(&h, 0x0800);
        put32(&h, 0);          /* checksum, reserved */
        put32(&h, 0xdeadbeef); /* key */
        put32(&h, 7);          /* sequence */
        wrap_ipv4(p, 47, &h, &in);
        return DLT_EN10MB;
    case T_GRE_V6:
        *family = 6;
        build_inner(&in, 6);
        put16(&h, 0x2000);
        put16(&h, 0x86dd);
        put32(&h, 1);
        p->n = 0;
        put_eth(p, 0x86dd);
        put_ipv6(p, 47, h.n + in.n);
        put_bytes(p, h.b, h.n);
        put_bytes(p, in.b, in.n);
        return DLT_EN10MB;
    case T_GRE_TEB:
        *tunnels = 2;
        build_inner_eth(&in, 4);
        put16(&h, 0);
        put16(&h, 0x6558);
        wrap_ipv4(p, 47, &h, &in);
        return DLT_EN10MB;
    case T_ERSPAN1:
        build_inner_eth(&in, 4);
        put16(&h, 0);
        put16(&h, 0x88be);
        wrap_ipv4(p, 47, &h, &in);
        return DLT_EN10MB;
    case T_ERSPAN2:
        *tunnels = 2;
        build_inner_eth(&in, 4);
        put16(&h, 0x1000);
        put16(&h, 0x88be);
        put32(&h, 42);     /* sequence */
        put16(&h, 0x1064); /* version 1, VLAN 100 */
        put16(&h, 0x0005); /* COS, En, T, session 5 */
        put32(&h, 0x00000009);
        wrap_ipv4(p, 47, &h, &in);
        return DLT_EN10MB;
    case T_ERSPAN3:
    case T_ERSPAN3_IP:
        *tunnels = 2;
        if (c == T_ERSPAN3)
            build_inner_eth(&in, 4);
        else
            build_inner(&in, 4);
        put16(&h, 0x1000);
        put16(&h, 0x22eb);
        put32(&h, 43);
        put16(&h, 0x2064); /* version 2, VLAN 100 */
        put16(&h, 0x0005);
        put32(&h, 0x12345678);                       /* timestamp */
        put16(&h, 0);                                /* SGT */
        put16(&h, c == T_ERSPAN3 ? 0x0001 : 0x0801); /* FT 0 or 2; O set */
        put32(&h, 0xaaaaaaaa);                       /* platform subheader */
        put32(&h, 0xbbbbbbbb);
        wrap_ipv4(p, 47, &h, &in);
        return DLT_EN10MB;
    case T_PPTP:
        build_inner(&in, 4);
        put16(&h, 0x3081); /* K, S, A, version 1 */
        put16(&h, 0x880b);
        put16(&h, (unsigned)(in.n + 4)); /* payload length */
        put16(&h, 0x1234);               /* call id */
        put32(&h, 1);                    /* sequence */
        put32(&h, 0);                    /* acknowledgment */
        put8(&h, 0xff);
        put8(&h, 0x03);
        put16(&h, 0x0021);
        wrap_ipv4(p, 47, &h, &in);
        return DLT_EN10MB;
    case T_IPIP:
        build_inner(&in, 4);
        wrap_ipv4(p, 4, &h, &in);
        return DLT_EN10MB;
    case T_6IN4:
        *family = 6;
        build_inner(&in, 6);
        wrap_ipv4(p, 41, &h, &in);
        return DLT_EN10MB;
    case T_4IN6:
        build_inner(&in, 4);
        p->n = 0;
        put_ipv6(p, 4, in.n);
        put_bytes(p, in.b, in.n);
        return DLT_RAW;
    case T_VXLAN:
    case T_VXLAN_ANY:
        build_inner_eth(&in, 4);
        put32(&h, 0x08000000);
        put32(&h, 0x00123400); /* VNI 0x1234 */
        wrap_udp(p, 51000, c == T_VXLAN ? 4789 : 9999, &h, &in);
        return DLT_EN10MB;
    case T_GTP_EXT:
        build_inner(&in, 4);
        put8(&h, 0x36); /* version 1, PT, E, S */
        put8(&h, 0xff);
        put16(&h, (unsigned)(4 + 4 + in.n));
        put32(&h, 0x01020304); /* TEID */
        put16(&h, 99);         /* sequence */
        put8(&h, 0);           /* N-PDU */
        put8(&h, 0x85);        /* next: PDU session container */
        put8(&h, 1);           /* 4 bytes */
        put8(&h, 0x10);
        put8(&h, 0x09);
        put8(&h, 0); /* no more */
        wrap_udp(p, 2152, 2152, &h, &in);
        return DLT_EN10MB;
    case T_GTP_V6:
        *family = 6;
        build_inner(&in, 6);
        put8(&h, 0x30);
        put8(&h, 0xff);
        put16(&h, (unsigned)in.n);
        put32(&h, 7);
        wrap_udp(p, 40000, 2152, &h, &in);
        return DLT_EN10MB;
    case T_MPLS:
        build_inner(&in, 4);
        p->n = 0;
        put_eth(p, 0x8847);
        put32(p, 100u << 12 | 0x40);         /* label 100, TTL 64 */
        put32(p, 200u << 12 | 0x100 | 0x40); /* label 200, bottom of stack */
        put_bytes(p, in.b, in.n);
        return DLT_EN10MB;
    case T_MPLS_GRE_V6:
        *family = 6;
        *tunnels = 2;
        build_inner(&in, 6);
        put16(&h, 0);
        put16(&h, 0x8847);
        put32(&h, 2u << 12 | 0x100 | 0x40); /* IPv6 explicit null */
        wrap_ipv4(p, 47, &h, &in);
        return DLT_EN10MB;
    case T_N:
        break;
    }
    fail();
    return 0;
}

static void test_decode_tunnels(void **state)
{
    struct pkt p;
    struct sl_frame f;
    unsigned c, tunnels;
    int family, dlt;

    (void)state;
    for (c = 0; c < T_N; c++) {
        dlt = build_tunnel(&p, (enum tunnel_case)c, &family, &tunnels);
        decode(dlt, &p, &f);
        if (f.kind != SL_FRAME_DATAGRAM)
            fprintf(stderr, "tunnel case %u: %s: %s\n", c, f.reason, f.detail);
        assert_sip_datagram(&f, family);
        assert_int_equal(f.tunnels, tunnels);
        assert_string_equal(f.reason, "UDP");
        /* every prefix: truncated, never malformed, never a read past caplen
         * (VXLAN off its port is recognised by 22 bytes of header: cut
         * shorter, it is a plain datagram, cut) */
        if (c != T_VXLAN_ANY)
            sweep(dlt, &p, family);
    }
}

/* Frames that really are shorter than their headers say (caplen = wirelen):
 * malformed or not decoded, never a crash. */
static void test_decode_tunnels_short_frames(void **state)
{
    struct pkt p;
    struct sl_frame f;
    unsigned c, tunnels;
    size_t len;
    int family, dlt;

    (void)state;
    for (c = 0; c < T_N; c++) {
        dlt = build_tunnel(&p, (enum tunnel_case)c, &family, &tunnels);
        for (len = 0; len < p.n; len++) {
            uint8_t *copy = malloc(len > 0 ? len : 1);

            assert_non_null(copy);
            memcpy(copy, p.b, len);
            memset(&f, 0xa5, sizeof(f));
            sl_frame_decode(dlt, len > 0 ? copy : NULL, len, len, &f);
            assert_true(f.kind != SL_FRAME_TRUNCATED);
            assert_true(f.kind != SL_FRAME_DATAGRAM || f.payload_len < SIP_LEN);
            assert_non_null(f.reason);
            free(copy);
        }
    }
}

static void test_decode_tunnel_nesting_cap(void **state)
{
    struct pkt p, in;
    struct sl_frame f;
    unsigned depth, i;

    (void)state;
    for (depth = SL_MAX_TUNNELS; depth <= SL_MAX_TUNNELS + 1; depth++) {
        build_inner(&in, 4);
        for (i = 0; i < depth; i++) { /* wrap in one more IPv4-in-IPv4 */
            p.n = 0;
            put_ipv4_outer(&p, 4, in.n);
            put_bytes(&p, in.b, in.n);
            in = p;
        }
        decode(DLT_RAW, &p, &f);
        if (depth == SL_MAX_TUNNELS) {
            assert_sip_datagram(&f, 4);
            assert_int_equal(f.tunnels, SL_MAX_TUNNELS);
        } else {
            assert_int_equal(f.kind, SL_FRAME_MALFORMED);
            assert_string_equal(f.reason, "IPv4-in-IP");
            assert_string_equal(f.detail, "more than 8 nested tunnels");
        }
    }
    /* Ethernet bridging inside Ethernet bridging...: capped the same way */
    p.n = 0;
    for (i = 0; i < 20; i++) {
        put_eth(&p, 0x6558);
    }
    put_zero(&p, 40);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.detail, "more than 8 nested tunnels");
}

static void test_decode_tunnel_lies(void **state)
{
    struct pkt p, h, in;
    struct sl_frame f;
    unsigned i;

    (void)state;
    build_inner(&in, 4);
    /* GTP-U echo request: signalling */
    h.n = 0;
    put32(&h, 0x32010004);
    put32(&h, 0);
    put32(&h, 0x00010000);
    in.n = 0;
    wrap_udp(&p, 2152, 2152, &h, &in);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_OTHER);
    assert_string_equal(f.reason, "GTP-U signalling");
    /* GTP-U length beyond the datagram */
    build_inner(&in, 4);
    h.n = 0;
    put8(&h, 0x30);
    put8(&h, 0xff);
    put16(&h, (unsigned)in.n + 10);
    put32(&h, 1);
    wrap_udp(&p, 2152, 2152, &h, &in);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "GTP-U");
    /* GTP-U extension header of length 0 */
    h.n = 0;
    put8(&h, 0x34);
    put8(&h, 0xff);
    put16(&h, (unsigned)(8 + in.n));
    put32(&h, 1);
    put32(&h, 0x00000085);
    put32(&h, 0);
    wrap_udp(&p, 2152, 2152, &h, &in);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.detail, "GTP-U extension header 0x85 of length 0");
    /* GTP-U carrying something that is not IP */
    h.n = 0;
    put8(&h, 0x30);
    put8(&h, 0xff);
    put16(&h, 4);
    put32(&h, 1);
    put32(&h, 0xc0210000);
    in.n = 0;
    wrap_udp(&p, 2152, 2152, &h, &in);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "GTP-U");
    /* an MPLS stack without bottom */
    p.n = 0;
    put_eth(&p, 0x8847);
    for (i = 0; i < 20; i++)
        put32(&p, 16u << 12 | 0x40);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.detail, "more than 16 MPLS labels");
    /* MPLS with a pseudowire control word: not decoded */
    p.n = 0;
    put_eth(&p, 0x8848);
    put32(&p, 16u << 12 | 0x140);
    put32(&p, 0);
    put_zero(&p, 40);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "MPLS");
    /* ERSPAN II header with version 2 */
    build_inner_eth(&in, 4);
    h.n = 0;
    put32(&h, 0x100088be);
    put32(&h, 1);
    put32(&h, 0x20640005);
    put32(&h, 0);
    wrap_ipv4(&p, 47, &h, &in);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "ERSPAN");
    /* GRE version 2, GRE with routing: not decoded */
    build_inner(&in, 4);
    h.n = 0;
    put32(&h, 0x00020800);
    wrap_ipv4(&p, 47, &h, &in);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.detail, "GRE version 2");
    h.n = 0;
    put32(&h, 0x40000800);
    wrap_ipv4(&p, 47, &h, &in);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "GRE");
    /* the inner IP header lies: malformed, in the inner layer */
    in.b[3] = (uint8_t)(in.b[3] + 50); /* total length */
    h.n = 0;
    put32(&h, 0x00000800);
    wrap_ipv4(&p, 47, &h, &in);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_string_equal(f.reason, "IPv4");
}

/* IPv4 fragments inside GRE go through the reassembler, keyed by the inner
 * addresses. */
static void test_decode_tunnel_inner_fragments(void **state)
{
    struct sl_ipfrag *rf;
    struct sl_ipfrag_event ev;
    struct pkt p, h, in, frag;
    struct sl_frame f;
    const size_t first = 16; /* UDP header + 8 bytes of sip */

    (void)state;
    assert_int_equal(sl_ipfrag_new(&rf, NULL), SL_OK);
    h.n = 0;
    put32(&h, 0x00000800);
    /* fragment 1: offset 0, MF */
    build_inner(&in, 4);
    frag.n = 0;
    put_ipv4(&frag, 17, first, 0x2000);
    put_bytes(&frag, in.b + 20, first);
    wrap_ipv4(&p, 47, &h, &frag);
    memset(&f, 0, sizeof(f));
    f.number = 1;
    f.ts_us = 1000;
    sl_frame_decode_reasm(DLT_EN10MB, p.b, p.n, p.n, rf, &f);
    assert_int_equal(f.kind, SL_FRAME_HELD);
    /* fragment 2: offset 16, last */
    frag.n = 0;
    put_ipv4(&frag, 17, in.n - 20 - first, first / 8);
    put_bytes(&frag, in.b + 20 + first, in.n - 20 - first);
    wrap_ipv4(&p, 47, &h, &frag);
    memset(&f, 0, sizeof(f));
    f.number = 2;
    f.ts_us = 2000;
    sl_frame_decode_reasm(DLT_EN10MB, p.b, p.n, p.n, rf, &f);
    assert_sip_datagram(&f, 4);
    assert_int_equal(f.tunnels, 1);
    assert_int_equal(sl_ipfrag_poll(rf, 2000, true, &ev), 1);
    assert_int_equal(ev.kind, SL_IPFRAG_REASSEMBLED);
    assert_int_equal(ev.frames, 1);
    sl_ipfrag_free(rf);
}

static void test_decode_truncated_names_layer(void **state)
{
    struct pkt p;
    struct sl_frame f;

    (void)state;
    build_eth_ipv4_udp(&p);
    sl_frame_decode(DLT_EN10MB, p.b, 10, p.n, &f);
    assert_int_equal(f.kind, SL_FRAME_TRUNCATED);
    assert_string_equal(f.reason, "Ethernet");
    assert_string_equal(f.detail, "Ethernet header: 10 of 14 bytes captured");
    sl_frame_decode(DLT_EN10MB, p.b, 20, p.n, &f);
    assert_string_equal(f.reason, "IPv4");
    sl_frame_decode(DLT_EN10MB, p.b, 14 + 20 + 3, p.n, &f);
    assert_string_equal(f.reason, "UDP");
    build_eth_ipv6_exthdrs_udp(&p);
    sl_frame_decode(DLT_EN10MB, p.b, 14 + 39, p.n, &f);
    assert_int_equal(f.kind, SL_FRAME_TRUNCATED);
    assert_string_equal(f.reason, "IPv6");
}

/* ---- endpoints and names ------------------------------------------------ */

static void test_endpoint_format(void **state)
{
    struct sl_endpoint ep;
    char buf[64];

    (void)state;
    memset(&ep, 0, sizeof(ep));
    assert_string_equal(sl_endpoint_format(&ep, buf, sizeof(buf)), "?");
    ep.family = 4;
    memcpy(ep.ip, src4, 4);
    ep.port = 65535;
    assert_string_equal(sl_endpoint_format(&ep, buf, sizeof(buf)), "192.0.2.1:65535");
    assert_string_equal(sl_endpoint_format(&ep, buf, 6), "192.0");
    ep.family = 6;
    memset(ep.ip, 0xff, 16);
    assert_string_equal(sl_endpoint_format(&ep, buf, sizeof(buf)),
                        "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    memset(ep.ip, 0, 16);
    ep.ip[15] = 1;
    ep.port = 5060;
    assert_string_equal(sl_endpoint_format(&ep, buf, sizeof(buf)), "[::1]:5060");
    ep.family = 5;
    assert_string_equal(sl_endpoint_format(&ep, buf, sizeof(buf)), "?");
}

static void test_transport_name(void **state)
{
    (void)state;
    assert_string_equal(sl_transport_name(SL_TP_UDP), "udp");
    assert_string_equal(sl_transport_name(SL_TP_TCP), "tcp");
    assert_string_equal(sl_transport_name(SL_TP_SCTP), "sctp");
    assert_string_equal(sl_transport_name(SL_TP_TLS), "tls");
    assert_string_equal(sl_transport_name(SL_TP_WS), "ws");
    assert_non_null(sl_transport_name((enum sl_transport)99));
}

/* ---- capture files -------------------------------------------------------- */

/* A little-endian pcap file, link type Ethernet, two records: the IPv4 SIP
 * frame at 1700000000.123456 and an ARP frame at 1700000001.000999.
 * `magic` selects microsecond (0xa1b2c3d4) or nanosecond (0xa1b23c4d) stamps. */
static void build_pcap(struct pkt *file, uint32_t magic, uint32_t frac1, uint32_t frac2)
{
    struct pkt frame;

    file->n = 0;
    put_le32(file, magic);
    put_le16(file, 2);
    put_le16(file, 4);
    put_le32(file, 0);     /* thiszone */
    put_le32(file, 0);     /* sigfigs */
    put_le32(file, 65535); /* snaplen */
    put_le32(file, 1);     /* LINKTYPE_ETHERNET */

    build_eth_ipv4_udp(&frame);
    put_le32(file, 1700000000);
    put_le32(file, frac1);
    put_le32(file, (uint32_t)frame.n);
    put_le32(file, (uint32_t)frame.n);
    put_bytes(file, frame.b, frame.n);

    frame.n = 0;
    put_eth(&frame, 0x0806);
    put_zero(&frame, 28);
    put_le32(file, 1700000001);
    put_le32(file, frac2);
    put_le32(file, (uint32_t)frame.n);
    put_le32(file, 100); /* on the wire: longer than captured */
    put_bytes(file, frame.b, frame.n);
}

/* Reads the two frames of build_pcap() (or build_pcapng()) and the end. */
static void read_two_frames(struct sl_capture *c)
{
    struct sl_frame f;
    struct sl_err err;

    assert_int_equal(sl_capture_linktype(c), DLT_EN10MB);
    assert_int_equal(sl_capture_next(c, &f, &err), 1);
    assert_int_equal(f.number, 1);
    assert_int_equal(f.ts_us, INT64_C(1700000000123456));
    assert_int_equal(f.caplen, 14 + 20 + UDP_SIP_LEN);
    assert_int_equal(f.wirelen, 14 + 20 + UDP_SIP_LEN);
    assert_sip_datagram(&f, 4);

    assert_int_equal(sl_capture_next(c, &f, &err), 1);
    assert_int_equal(f.number, 2);
    assert_int_equal(f.ts_us, INT64_C(1700000001000999));
    assert_int_equal(f.caplen, 42);
    assert_int_equal(f.wirelen, 100);
    assert_int_equal(f.kind, SL_FRAME_OTHER);
    assert_string_equal(f.reason, "ARP");

    assert_int_equal(sl_capture_next(c, &f, &err), 0);
    assert_int_equal(sl_capture_next(c, &f, &err), 0);
}

static void test_capture_pcap_in_memory(void **state)
{
    struct pkt file;
    struct sl_capture *c = NULL;
    struct sl_err err;

    (void)state;
    build_pcap(&file, 0xa1b2c3d4, 123456, 999);
    assert_int_equal(sl_capture_open_mem(&c, file.b, file.n, &err), SL_OK);
    assert_non_null(c);
    assert_string_equal(sl_capture_format(c), "pcap");
    read_two_frames(c);
    sl_capture_close(c);

    /* nanosecond pcap: libpcap scales it down to microseconds */
    build_pcap(&file, 0xa1b23c4d, 123456789, 999999);
    assert_int_equal(sl_capture_open_mem(&c, file.b, file.n, &err), SL_OK);
    assert_string_equal(sl_capture_format(c), "pcap");
    read_two_frames(c);
    sl_capture_close(c);
    sl_capture_close(NULL);
}

static void test_capture_cut_in_second_record(void **state)
{
    struct pkt file;
    struct sl_capture *c = NULL;
    struct sl_frame f;
    struct sl_err err;

    (void)state;
    build_pcap(&file, 0xa1b2c3d4, 123456, 999);
    assert_int_equal(sl_capture_open_mem(&c, file.b, file.n - 20, &err), SL_OK);
    assert_int_equal(sl_capture_next(c, &f, &err), 1);
    assert_sip_datagram(&f, 4);
    assert_int_equal(sl_capture_next(c, &f, &err), SL_ETRUNC);
    assert_int_equal(err.code, SL_ETRUNC);
    assert_non_null(strstr(err.msg, "capture ends in the middle of frame 2 ("));
    assert_non_null(strstr(err.msg, "truncated"));
    assert_int_equal(sl_capture_next(c, &f, &err), 0);
    sl_capture_close(c);

    /* cut inside the second record header */
    assert_int_equal(sl_capture_open_mem(&c, file.b, file.n - 42 - 10, &err), SL_OK);
    assert_int_equal(sl_capture_next(c, &f, &err), 1);
    assert_int_equal(sl_capture_next(c, &f, &err), SL_ETRUNC);
    assert_non_null(strstr(err.msg, "frame 2"));
    sl_capture_close(c);
}

static void test_capture_not_a_capture(void **state)
{
    uint8_t junk[200];
    struct pkt file;
    struct sl_capture *c = (struct sl_capture *)&c;
    struct sl_err err;
    uint32_t x = 12345;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(junk); i++) { /* deterministic "random" bytes */
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t)(x >> 16);
    }
    junk[0] = 0x42; /* not the first byte of any magic */
    assert_int_equal(sl_capture_open_mem(&c, junk, sizeof(junk), &err), SL_EINPUT);
    assert_null(c);
    assert_int_equal(err.code, SL_EINPUT);
    assert_string_equal(err.msg, "not a pcap or pcapng file (unknown file format)");

    assert_int_equal(sl_capture_open_mem(&c, junk, 0, &err), SL_EINPUT);
    assert_string_equal(err.msg, "not a pcap or pcapng file (the file is empty)");
    assert_int_equal(sl_capture_open_mem(&c, NULL, 0, &err), SL_EINPUT);

    /* a pcap file header cut short */
    build_pcap(&file, 0xa1b2c3d4, 0, 0);
    assert_int_equal(sl_capture_open_mem(&c, file.b, 10, &err), SL_EINPUT);
    assert_non_null(strstr(err.msg, "not a pcap or pcapng file ("));
}

/* A HEP stream file (hepfile.c): HEP3 packets one after the other. */
static void test_capture_hep_file(void **state)
{
    static uint8_t file[4096];
    struct pkt h;
    struct sl_capture *c = NULL;
    struct sl_frame f;
    struct sl_err err;
    size_t n = 0, k;
    int rc;

    (void)state;
    build_hep3_v4(&h, 1);
    memcpy(file + n, h.b, h.n); /* packet 1 */
    n += h.n;
    build_hep3_v4(&h, 100);
    memcpy(file + n, h.b, h.n); /* packet 2: a log line */
    n += h.n;
    memcpy(file + n, "junk!HE", 7); /* frame 3: bytes that are no packet */
    n += 7;
    build_hep3_v4(&h, 1);
    memcpy(file + n, h.b, h.n); /* packet 4 */
    n += h.n;
    memcpy(file + n, "HEP3\0\4", 6); /* frame 5: total length 4 */
    n += 6;
    memcpy(file + n, h.b, h.n - 5); /* packet 6, cut */
    n += h.n - 5;
    assert_int_equal(sl_capture_open_mem(&c, file, n, &err), SL_OK);
    assert_string_equal(sl_capture_format(c), "hep");
    assert_int_equal(sl_capture_next(c, &f, &err), 1);
    assert_int_equal(f.number, 1);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_int_equal(f.hep_version, 3);
    assert_true(f.ts_us == (int64_t)1313440459 * 1000000 + 120000);
    assert_int_equal(f.payload_len, SIP_LEN);
    assert_memory_equal(f.payload, sip, SIP_LEN);
    assert_int_equal(f.src.port, 12010);
    assert_int_equal(f.hep_agent_id, 228);
    assert_int_equal(sl_capture_next(c, &f, &err), 1);
    assert_int_equal(f.number, 2);
    assert_int_equal(f.kind, SL_FRAME_OTHER);
    assert_string_equal(f.reason, "HEP, not SIP");
    assert_true(f.ts_us == (int64_t)1313440459 * 1000000 + 120000); /* the last time */
    assert_int_equal(sl_capture_next(c, &f, &err), 1);
    assert_int_equal(f.number, 3);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    k = 2 * h.n;
    {
        char want[160];

        snprintf(
                want, sizeof(want),
                "bytes %zu to %zu of the file are not a HEP3 packet; resynced at the next \"HEP3\"",
                k, k + 6);
        assert_string_equal(f.detail, want);
    }
    assert_int_equal(sl_capture_next(c, &f, &err), 1);
    assert_int_equal(f.number, 4);
    assert_int_equal(f.kind, SL_FRAME_DATAGRAM);
    assert_int_equal(sl_capture_next(c, &f, &err), 1);
    assert_int_equal(f.number, 5);
    assert_int_equal(f.kind, SL_FRAME_MALFORMED);
    assert_non_null(strstr(f.detail, "total length 4 < 6"));
    rc = sl_capture_next(c, &f, &err);
    assert_int_equal(rc, SL_ETRUNC);
    assert_non_null(strstr(err.msg, "capture ends in the middle of HEP packet 6 ("));
    assert_int_equal(sl_capture_next(c, &f, &err), 0);
    sl_capture_close(c);

    /* 'H' but not "HEP3": not a capture */
    assert_int_equal(sl_capture_open_mem(&c, "Hello, world", 12, &err), SL_EINPUT);
    assert_null(c);
    assert_non_null(strstr(err.msg, "not a pcap, pcapng or HEP3 file"));
    /* a file of one packet cut in its header */
    assert_int_equal(sl_capture_open_mem(&c, "HEP3\0", 5, &err), SL_OK);
    assert_int_equal(sl_capture_next(c, &f, &err), SL_ETRUNC);
    assert_non_null(strstr(err.msg, "HEP packet 1 (byte 0: 5 of its 6 header bytes)"));
    sl_capture_close(c);
}

/* Writes len bytes to a new temporary file; returns its path (static). */
static const char *write_temp(const void *data, size_t len)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/test_capture.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    return path;
}

static void test_capture_open_paths(void **state)
{
    struct pkt file;
    struct sl_capture *c = NULL;
    struct sl_err err;
    const char *path;
    char dir[] = "/tmp/test_capture.d.XXXXXX";

    (void)state;
    assert_int_equal(sl_capture_open(&c, "/nonexistent/siplint/x.pcap", &err), SL_EINPUT);
    assert_null(c);
    assert_string_equal(err.msg, "No such file or directory");

    assert_non_null(mkdtemp(dir));
    assert_int_equal(sl_capture_open(&c, dir, &err), SL_EINPUT);
    assert_string_equal(err.msg, "is a directory");
    assert_int_equal(rmdir(dir), 0);

    path = write_temp("", 0);
    assert_int_equal(sl_capture_open(&c, path, &err), SL_EINPUT);
    assert_string_equal(err.msg, "not a pcap or pcapng file (the file is empty)");
    assert_int_equal(unlink(path), 0);

    build_pcap(&file, 0xa1b2c3d4, 123456, 999);
    path = write_temp(file.b, file.n);
    assert_int_equal(sl_capture_open(&c, path, &err), SL_OK);
    assert_string_equal(sl_capture_format(c), "pcap");
    read_two_frames(c);
    sl_capture_close(c);
    assert_int_equal(unlink(path), 0);
}

static void put_block(struct pkt *file, uint32_t type, const struct pkt *body)
{
    uint32_t len = (uint32_t)(12 + (body->n + 3) / 4 * 4);

    put_le32(file, type);
    put_le32(file, len);
    put_bytes(file, body->b, body->n);
    put_zero(file, (4 - body->n % 4) % 4);
    put_le32(file, len);
}

static void put_epb(struct pkt *file, uint64_t ts_ns, const struct pkt *frame, uint32_t wirelen)
{
    struct pkt epb = { .n = 0 };

    put_le32(&epb, 0); /* interface 0 */
    put_le32(&epb, (uint32_t)(ts_ns >> 32));
    put_le32(&epb, (uint32_t)ts_ns);
    put_le32(&epb, (uint32_t)frame->n);
    put_le32(&epb, wirelen);
    put_bytes(&epb, frame->b, frame->n);
    while (epb.n % 4 != 0)
        put8(&epb, 0);
    put_block(file, 6, &epb);
}

/* pcapng: SHB, IDB (Ethernet, if_tsresol = 9: nanoseconds), two EPBs with
 * the same frames and times as build_pcap(). */
static void build_pcapng(struct pkt *file)
{
    struct pkt body = { .n = 0 }, frame;

    file->n = 0;
    put_le32(&body, 0x1a2b3c4d); /* byte-order magic */
    put_le16(&body, 1);
    put_le16(&body, 0);
    put_le32(&body, 0xffffffff); /* section length: unknown */
    put_le32(&body, 0xffffffff);
    put_block(file, 0x0a0d0d0a, &body);

    body.n = 0;
    put_le16(&body, 1); /* LINKTYPE_ETHERNET */
    put_le16(&body, 0);
    put_le32(&body, 0); /* snaplen: none */
    put_le16(&body, 9); /* if_tsresol */
    put_le16(&body, 1);
    put8(&body, 9); /* 10^-9 */
    put_zero(&body, 3);
    put_le32(&body, 0); /* opt_endofopt */
    put_block(file, 1, &body);

    build_eth_ipv4_udp(&frame);
    put_epb(file, UINT64_C(1700000000123456789), &frame, (uint32_t)frame.n);
    frame.n = 0;
    put_eth(&frame, 0x0806);
    put_zero(&frame, 28);
    put_epb(file, UINT64_C(1700000001000999999), &frame, 100);
}

static void test_capture_pcapng(void **state)
{
    struct pkt file;
    struct sl_capture *c = NULL;
    struct sl_frame f;
    struct sl_err err;

    (void)state;
    build_pcapng(&file);
    assert_int_equal(sl_capture_open_mem(&c, file.b, file.n, &err), SL_OK);
    assert_string_equal(sl_capture_format(c), "pcapng");
    read_two_frames(c);
    sl_capture_close(c);

    /* cut in the middle of the second EPB */
    assert_int_equal(sl_capture_open_mem(&c, file.b, file.n - 30, &err), SL_OK);
    assert_int_equal(sl_capture_next(c, &f, &err), 1);
    assert_int_equal(sl_capture_next(c, &f, &err), SL_ETRUNC);
    assert_non_null(strstr(err.msg, "capture ends in the middle of frame 2 ("));
    assert_int_equal(sl_capture_next(c, &f, &err), 0);
    sl_capture_close(c);
}

/* A 64-bit pcapng timestamp in microseconds (no if_tsresol) at its maximum:
 * tv_sec * 10^6 would overflow int64_t; the time is clamped instead. */
static void test_capture_pcapng_huge_timestamp(void **state)
{
    struct pkt file, body = { .n = 0 }, frame;
    struct sl_capture *c = NULL;
    struct sl_frame f;
    struct sl_err err;

    (void)state;
    file.n = 0;
    put_le32(&body, 0x1a2b3c4d);
    put_le16(&body, 1);
    put_le16(&body, 0);
    put_le32(&body, 0xffffffff);
    put_le32(&body, 0xffffffff);
    put_block(&file, 0x0a0d0d0a, &body);
    body.n = 0;
    put_le16(&body, 1);
    put_le16(&body, 0);
    put_le32(&body, 0);
    put_block(&file, 1, &body);
    build_eth_ipv4_udp(&frame);
    put_epb(&file, UINT64_MAX, &frame, (uint32_t)frame.n);

    assert_int_equal(sl_capture_open_mem(&c, file.b, file.n, &err), SL_OK);
    assert_int_equal(sl_capture_next(c, &f, &err), 1);
    assert_int_equal(f.ts_us, SL_TS_US_MAX); /* clamped: later stages add timers to it */
    assert_sip_datagram(&f, 4);
    assert_int_equal(sl_capture_next(c, &f, &err), 0);
    sl_capture_close(c);
}

static void test_capture_stdin(void **state)
{
    struct pkt file;
    struct sl_capture *c = NULL;
    struct sl_err err;
    const char *path;

    (void)state;
    build_pcapng(&file);
    path = write_temp(file.b, file.n);
    assert_non_null(freopen(path, "rb", stdin));
    assert_int_equal(sl_capture_open(&c, "-", &err), SL_OK);
    assert_string_equal(sl_capture_format(c), "pcapng");
    read_two_frames(c);
    sl_capture_close(c);
    assert_int_equal(unlink(path), 0);
}

/* ---- IP fragment reassembly ---------------------------------------------- */

/* The datagram that the reassembly tests cut up: UDP 5060 -> 5080 with `sip`
 * (35 bytes: fragments of 16, 16 and 3 bytes). */
static void frag_dgram(uint8_t *u, size_t *n)
{
    struct pkt p = { .n = 0 };

    put_udp_sip(&p);
    memcpy(u, p.b, p.n);
    *n = p.n;
}

/* An Ethernet/IPv4 frame with bytes [off, off+len) of the datagram. */
static void frag4(struct pkt *p, unsigned id, size_t off, size_t len, bool more)
{
    uint8_t u[64];
    size_t n;

    frag_dgram(u, &n);
    assert_true(off + len <= n);
    p->n = 0;
    put_eth(p, 0x0800);
    put_ipv4(p, 17, len, (unsigned)(off / 8) | (more ? 0x2000u : 0));
    set16(p, 14 + 4, id);
    put_bytes(p, u + off, len);
}

/* A raw IPv6 frame with a Fragment header and bytes [off, off+len). */
static void frag6(struct pkt *p, uint32_t id, size_t off, size_t len, bool more)
{
    uint8_t u[64];
    size_t n;

    frag_dgram(u, &n);
    p->n = 0;
    put_ipv6(p, 44, 8 + len);
    put8(p, 17);
    put8(p, 0);
    put16(p, (unsigned)off | (more ? 1u : 0));
    put32(p, id);
    put_bytes(p, u + off, len);
}

static void decode_rf(struct sl_ipfrag *rf, int dlt, const struct pkt *p, uint64_t number,
                      int64_t ts_us, struct sl_frame *f)
{
    memset(f, 0xa5, sizeof(*f));
    f->number = number;
    f->ts_us = ts_us;
    sl_frame_decode_reasm(dlt, p->b, p->n, p->n, rf, f);
}

/* Polls every pending event into ev (at most max); returns how many. */
static size_t poll_all(struct sl_ipfrag *rf, int64_t now, bool flush, struct sl_ipfrag_event *ev,
                       size_t max)
{
    size_t n = 0;
    struct sl_ipfrag_event spare;

    while (sl_ipfrag_poll(rf, now, flush, n < max ? &ev[n] : &spare) == 1)
        n++;
    return n;
}

static void test_ipfrag_in_order_and_out_of_order(void **state)
{
    static const size_t order[2][3] = { { 0, 1, 2 }, { 2, 0, 1 } };
    static const size_t off[3] = { 0, 16, 32 }, len[3] = { 16, 16, UDP_SIP_LEN - 32 };
    struct sl_ipfrag *rf;
    struct sl_ipfrag_event ev[4];
    struct sl_frame f;
    struct pkt p;
    size_t k, i;

    (void)state;
    assert_int_equal(sl_ipfrag_new(&rf, NULL), SL_OK);
    for (k = 0; k < 2; k++) {
        for (i = 0; i < 3; i++) {
            size_t j = order[k][i];

            frag4(&p, (unsigned)(0x100 + k), off[j], len[j], j < 2);
            decode_rf(rf, DLT_EN10MB, &p, 10 * k + i + 1, 1000 + (int64_t)i, &f);
            if (i < 2) {
                assert_int_equal(f.kind, SL_FRAME_HELD);
                assert_string_equal(f.reason, "IPv4 fragment");
                assert_int_equal(poll_all(rf, f.ts_us, false, ev, 4), 0);
            }
        }
        /* the last to come carries the datagram */
        assert_sip_datagram(&f, 4);
        assert_int_equal(poll_all(rf, f.ts_us, false, ev, 4), 1);
        assert_int_equal(ev[0].kind, SL_IPFRAG_REASSEMBLED);
        assert_int_equal(ev[0].stat_kind, SL_FRAME_OTHER);
        assert_string_equal(ev[0].reason, "IPv4 fragment (reassembled)");
        assert_int_equal(ev[0].frames, 2);
        assert_int_equal(ev[0].frame, 10 * k + 1);
    }
    /* tombstones only: nothing to report at the end */
    assert_int_equal(poll_all(rf, 1000, true, ev, 4), 0);
    assert_int_equal(sl_ipfrag_in_flight(rf), 0);
    sl_ipfrag_free(rf);
}

static void test_ipfrag_duplicates(void **state)
{
    struct sl_ipfrag *rf;
    struct sl_ipfrag_event ev[4];
    struct sl_frame f;
    struct pkt p;

    (void)state;
    assert_int_equal(sl_ipfrag_new(&rf, NULL), SL_OK);
    frag4(&p, 7, 0, 16, true);
    decode_rf(rf, DLT_EN10MB, &p, 1, 0, &f);
    decode_rf(rf, DLT_EN10MB, &p, 2, 0, &f); /* the same fragment again */
    assert_int_equal(f.kind, SL_FRAME_HELD);
    frag4(&p, 7, 16, 16, true);
    decode_rf(rf, DLT_EN10MB, &p, 3, 0, &f);
    frag4(&p, 7, 32, UDP_SIP_LEN - 32, false);
    decode_rf(rf, DLT_EN10MB, &p, 4, 0, &f);
    assert_sip_datagram(&f, 4);
    assert_int_equal(poll_all(rf, 0, false, ev, 4), 1);
    assert_int_equal(ev[0].frames, 3);
    assert_int_equal(ev[0].frame, 1);
    /* a late copy of a fragment of the reassembled datagram */
    frag4(&p, 7, 16, 16, true);
    decode_rf(rf, DLT_EN10MB, &p, 5, 0, &f);
    assert_int_equal(f.kind, SL_FRAME_OTHER);
    assert_string_equal(f.reason, "IPv4 fragment (duplicate)");
    assert_int_equal(poll_all(rf, 0, true, ev, 4), 0);
    sl_ipfrag_free(rf);
}

static void test_ipfrag_overlap_first_copy_wins(void **state)
{
    struct sl_ipfrag *rf;
    struct sl_ipfrag_event ev[4];
    struct sl_frame f;
    struct pkt p;

    (void)state;
    assert_int_equal(sl_ipfrag_new(&rf, NULL), SL_OK);
    frag4(&p, 9, 0, 24, true);
    decode_rf(rf, DLT_EN10MB, &p, 1, 0, &f);
    /* bytes 16..31, with 16..23 changed: the first copy must stay */
    frag4(&p, 9, 16, 16, true);
    memset(p.b + 14 + 20, 'X', 8);
    decode_rf(rf, DLT_EN10MB, &p, 2, 0, &f);
    assert_int_equal(f.kind, SL_FRAME_HELD);
    frag4(&p, 9, 32, UDP_SIP_LEN - 32, false);
    decode_rf(rf, DLT_EN10MB, &p, 3, 0, &f);
    assert_sip_datagram(&f, 4);
    assert_int_equal(poll_all(rf, 0, false, ev, 4), 2);
    assert_int_equal(ev[0].kind, SL_IPFRAG_OVERLAP);
    assert_int_equal(ev[0].frames, 0);
    assert_int_equal(ev[0].frame, 2);
    assert_non_null(strstr(ev[0].text, "bytes 16-32"));
    assert_non_null(strstr(ev[0].text, "192.0.2.1 -> 198.51.100.7 (id 0x9, UDP)"));
    assert_int_equal(ev[1].kind, SL_IPFRAG_REASSEMBLED);
    assert_int_equal(ev[1].frames, 2);
    sl_ipfrag_free(rf);
}

static void test_ipfrag_missing_fragment_times_out(void **state)
{
    struct sl_ipfrag *rf;
    struct sl_ipfrag_event ev[4];
    struct sl_frame f;
    struct pkt p;
    const int64_t t0 = 1000000;

    (void)state;
    assert_int_equal(sl_ipfrag_new(&rf, NULL), SL_OK);
    frag4(&p, 3, 0, 16, true);
    decode_rf(rf, DLT_EN10MB, &p, 4, t0, &f);
    frag4(&p, 3, 32, UDP_SIP_LEN - 32, false);
    decode_rf(rf, DLT_EN10MB, &p, 6, t0 + 1000, &f);
    assert_int_equal(f.kind, SL_FRAME_HELD);
    assert_int_equal(poll_all(rf, t0 + 29000000, false, ev, 4), 0);
    assert_int_equal(sl_ipfrag_in_flight(rf), 1);
    assert_int_equal(poll_all(rf, t0 + SL_IPFRAG_TIMEOUT_US, false, ev, 4), 1);
    assert_int_equal(ev[0].kind, SL_IPFRAG_INCOMPLETE);
    assert_int_equal(ev[0].stat_kind, SL_FRAME_MALFORMED);
    assert_int_equal(ev[0].frames, 2);
    assert_int_equal(ev[0].frame, 4);
    assert_int_equal(ev[0].ts_us, t0);
    assert_non_null(strstr(ev[0].text, "after 30 s"));
    assert_non_null(strstr(ev[0].text, "byte 16 missing"));
    assert_int_equal(sl_ipfrag_in_flight(rf), 0);
    /* reported once */
    assert_int_equal(poll_all(rf, t0 + 2 * SL_IPFRAG_TIMEOUT_US, true, ev, 4), 0);

    /* the end of the capture gives up what is left */
    frag4(&p, 3, 16, 16, true);
    decode_rf(rf, DLT_EN10MB, &p, 9, t0 + 40000000, &f);
    assert_int_equal(f.kind, SL_FRAME_HELD);
    assert_int_equal(poll_all(rf, t0 + 40000000, true, ev, 4), 1);
    assert_int_equal(ev[0].kind, SL_IPFRAG_INCOMPLETE);
    assert_int_equal(ev[0].frames, 1);
    assert_non_null(strstr(ev[0].text, "at the end of the capture"));
    assert_non_null(strstr(ev[0].text, "the last fragment never came"));

    /* without a reassembler a fragment stays not decoded */
    frag4(&p, 3, 16, 16, true);
    decode(DLT_EN10MB, &p, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "IPv4 fragment");
    /* a fragment cut by the capture cannot be reassembled */
    decode_rf(rf, DLT_EN10MB, &p, 10, t0, &f);
    memset(&f, 0, sizeof(f));
    f.number = 10;
    sl_frame_decode_reasm(DLT_EN10MB, p.b, p.n - 4, p.n, rf, &f);
    assert_int_equal(f.kind, SL_FRAME_TRUNCATED);
    sl_ipfrag_free(rf);
}

static void test_ipfrag_caps(void **state)
{
    struct sl_ipfrag_opts o = { 2, 2, 0 };
    struct sl_ipfrag *rf;
    struct sl_ipfrag_event ev[4];
    struct sl_frame f;
    struct pkt p;

    (void)state;
    assert_int_equal(sl_ipfrag_new(&rf, &o), SL_OK);
    /* datagrams in flight: the third drops the oldest */
    frag4(&p, 1, 0, 16, true);
    decode_rf(rf, DLT_EN10MB, &p, 1, 100, &f);
    frag4(&p, 2, 0, 16, true);
    decode_rf(rf, DLT_EN10MB, &p, 2, 200, &f);
    frag4(&p, 3, 0, 16, true);
    decode_rf(rf, DLT_EN10MB, &p, 3, 300, &f);
    assert_int_equal(f.kind, SL_FRAME_HELD);
    assert_int_equal(poll_all(rf, 300, false, ev, 4), 1);
    assert_int_equal(ev[0].kind, SL_IPFRAG_LIMIT);
    assert_int_equal(ev[0].stat_kind, SL_FRAME_NOT_DECODED);
    assert_int_equal(ev[0].frames, 1);
    assert_int_equal(ev[0].frame, 1);
    assert_non_null(strstr(ev[0].text, "more than 2 datagrams"));
    assert_int_equal(sl_ipfrag_in_flight(rf), 2);
    /* fragments per datagram */
    frag4(&p, 3, 0, 16, true);
    decode_rf(rf, DLT_EN10MB, &p, 4, 400, &f);
    frag4(&p, 3, 16, 16, true);
    decode_rf(rf, DLT_EN10MB, &p, 5, 500, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_string_equal(f.reason, "IPv4 fragment (over a limit)");
    assert_int_equal(poll_all(rf, 500, false, ev, 4), 1);
    assert_int_equal(ev[0].kind, SL_IPFRAG_LIMIT);
    assert_int_equal(ev[0].frames, 2);
    assert_int_equal(ev[0].frame, 3);
    /* later fragments of a dropped datagram are dropped too, silently */
    frag4(&p, 3, 32, UDP_SIP_LEN - 32, false);
    decode_rf(rf, DLT_EN10MB, &p, 6, 600, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    assert_int_equal(poll_all(rf, 600, false, ev, 4), 0);
    /* bytes per datagram: offset 65528 + 16 > 65535 */
    frag4(&p, 4, 0, 16, true);
    set16(&p, 14 + 6, 0x2000 | 8191);
    decode_rf(rf, DLT_EN10MB, &p, 7, 700, &f);
    assert_int_equal(f.kind, SL_FRAME_NOT_DECODED);
    /* (room was made by freeing the tombstone of datagram 3, silently) */
    assert_int_equal(poll_all(rf, 700, false, ev, 4), 1);
    assert_int_equal(ev[0].kind, SL_IPFRAG_LIMIT);
    assert_int_equal(ev[0].frames, 0);
    assert_int_equal(ev[0].frame, 7);
    assert_non_null(strstr(ev[0].text, "exceeds 65535 bytes"));
    /* time-outs free the dropped ones without a word */
    assert_int_equal(poll_all(rf, 700, true, ev, 4), 1); /* datagram 2 is incomplete */
    assert_int_equal(ev[0].kind, SL_IPFRAG_INCOMPLETE);
    assert_int_equal(sl_ipfrag_in_flight(rf), 0);
    sl_ipfrag_free(rf);
}

static void test_ipfrag_ipv6(void **state)
{
    struct sl_ipfrag *rf;
    struct sl_ipfrag_event ev[4];
    struct sl_frame f;
    struct pkt p;

    (void)state;
    assert_int_equal(sl_ipfrag_new(&rf, NULL), SL_OK);
    frag6(&p, 0xabcd, 24, UDP_SIP_LEN - 24, false);
    decode_rf(rf, DLT_RAW, &p, 1, 0, &f);
    assert_int_equal(f.kind, SL_FRAME_HELD);
    assert_string_equal(f.reason, "IPv6 fragment");
    /* another identification: another datagram */
    frag6(&p, 0xabce, 0, 24, true);
    decode_rf(rf, DLT_RAW, &p, 2, 0, &f);
    assert_int_equal(f.kind, SL_FRAME_HELD);
    frag6(&p, 0xabcd, 0, 24, true);
    decode_rf(rf, DLT_RAW, &p, 3, 0, &f);
    assert_sip_datagram(&f, 6);
    assert_int_equal(poll_all(rf, 0, false, ev, 4), 1);
    assert_string_equal(ev[0].reason, "IPv6 fragment (reassembled)");
    assert_int_equal(ev[0].frames, 1);
    assert_int_equal(poll_all(rf, 0, true, ev, 4), 1);
    assert_int_equal(ev[0].kind, SL_IPFRAG_INCOMPLETE);
    assert_string_equal(ev[0].reason, "IPv6 fragment (datagram incomplete)");
    assert_non_null(
            strstr(ev[0].text, "IPv6 datagram 2001:db8::1 -> 2001:db8::2 (id 0xabce, UDP)"));
    sl_ipfrag_free(rf);
}

/* Through the capture: a pcap of fragments read with sl_capture_next() and
 * its events. */
static void test_ipfrag_through_capture(void **state)
{
    struct pkt frames[3];
    uint8_t file[1024];
    size_t n = 0, i;
    struct sl_capture *c;
    struct sl_frame f;
    struct sl_ipfrag_event ev;
    struct sl_err err;
    unsigned held = 0, dgrams = 0, events = 0;

    (void)state;
    frag4(&frames[0], 5, 16, 16, true);
    frag4(&frames[1], 5, 32, UDP_SIP_LEN - 32, false);
    frag4(&frames[2], 5, 0, 16, true);
    {
        struct pkt h = { .n = 0 };

        put_le32(&h, 0xa1b2c3d4);
        put_le16(&h, 2);
        put_le16(&h, 4);
        put_le32(&h, 0);
        put_le32(&h, 0);
        put_le32(&h, 65535);
        put_le32(&h, 1);
        memcpy(file, h.b, h.n);
        n = h.n;
    }
    for (i = 0; i < 3; i++) {
        struct pkt h = { .n = 0 };

        put_le32(&h, 1700000000);
        put_le32(&h, (uint32_t)i);
        put_le32(&h, (uint32_t)frames[i].n);
        put_le32(&h, (uint32_t)frames[i].n);
        memcpy(file + n, h.b, h.n);
        n += h.n;
        memcpy(file + n, frames[i].b, frames[i].n);
        n += frames[i].n;
    }
    assert_int_equal(sl_capture_open_mem(&c, file, n, &err), SL_OK);
    while (sl_capture_next(c, &f, &err) == 1) {
        if (f.kind == SL_FRAME_HELD)
            held++;
        if (f.kind == SL_FRAME_DATAGRAM) {
            dgrams++;
            assert_int_equal(f.number, 3);
            assert_sip_datagram(&f, 4);
        }
        while (sl_capture_event(c, &ev) == 1) {
            events++;
            assert_int_equal(ev.kind, SL_IPFRAG_REASSEMBLED);
            assert_int_equal(ev.frames, 2);
            assert_int_equal(ev.frame, 1);
        }
    }
    assert_int_equal(sl_capture_event(c, &ev), 0);
    assert_int_equal(held, 2);
    assert_int_equal(dgrams, 1);
    assert_int_equal(events, 1);
    sl_capture_close(c);
}

/* The hand-written IPv4 text equals inet_ntop's, digit boundaries included;
 * IPv6 still goes through inet_ntop. */
static void test_endpoint_addr_matches_inet_ntop(void **state)
{
    static const uint8_t v4[][4] = { { 0, 0, 0, 0 },      { 255, 255, 255, 255 },
                                     { 10, 0, 100, 9 },   { 1, 20, 199, 5 },
                                     { 127, 0, 0, 1 },    { 9, 99, 100, 10 },
                                     { 192, 168, 1, 254 } };
    struct sl_endpoint ep;
    char got[64], want[64];
    size_t i;

    (void)state;
    memset(&ep, 0, sizeof(ep));
    ep.family = 4;
    for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
        memcpy(ep.ip, v4[i], 4);
        assert_non_null(inet_ntop(AF_INET, v4[i], want, sizeof(want)));
        assert_string_equal(sl_endpoint_addr(&ep, got, sizeof(got)), want);
    }
    ep.family = 6;
    memset(ep.ip, 0, 16);
    ep.ip[15] = 1;
    assert_string_equal(sl_endpoint_addr(&ep, got, sizeof(got)), "::1");
    ep.family = 4;
    memset(ep.ip, 255, 4);
    assert_string_equal(sl_endpoint_addr(&ep, got, 8), "?"); /* too small a buffer */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_ethernet_ipv4_udp_with_padding),
        cmocka_unit_test(test_decode_vlan_tags),
        cmocka_unit_test(test_decode_linux_sll),
        cmocka_unit_test(test_decode_linux_sll2),
        cmocka_unit_test(test_decode_raw_ip),
        cmocka_unit_test(test_decode_null_and_loop),
        cmocka_unit_test(test_decode_unsupported_link_type),
        cmocka_unit_test(test_decode_ethertypes),
        cmocka_unit_test(test_decode_udp_encapsulations),
        cmocka_unit_test(test_decode_hep3_ipv4),
        cmocka_unit_test(test_decode_hep3_ipv6_tcp),
        cmocka_unit_test(test_decode_hep2),
        cmocka_unit_test(test_decode_hep3_chunk_lies),
        cmocka_unit_test(test_decode_hep3_truncated_chunk),
        cmocka_unit_test(test_decode_hep3_unknown_chunks),
        cmocka_unit_test(test_decode_hep3_not_sip),
        cmocka_unit_test(test_decode_hep3_compressed),
        cmocka_unit_test(test_decode_hep3_inflated),
        cmocka_unit_test(test_decode_dtls),
        cmocka_unit_test(test_decode_pppoe_session_ipv4_and_ipv6),
        cmocka_unit_test(test_decode_ipv6_extension_headers),
        cmocka_unit_test(test_decode_ipv6_jumbo_payload_length_zero),
        cmocka_unit_test(test_decode_fragments_not_decoded),
        cmocka_unit_test(test_ipfrag_in_order_and_out_of_order),
        cmocka_unit_test(test_ipfrag_duplicates),
        cmocka_unit_test(test_ipfrag_overlap_first_copy_wins),
        cmocka_unit_test(test_ipfrag_missing_fragment_times_out),
        cmocka_unit_test(test_ipfrag_caps),
        cmocka_unit_test(test_ipfrag_ipv6),
        cmocka_unit_test(test_ipfrag_through_capture),
        cmocka_unit_test(test_decode_ip_protocols),
        cmocka_unit_test(test_decode_sctp),
        cmocka_unit_test(test_decode_ipv4_header_lies),
        cmocka_unit_test(test_decode_udp_length_lies),
        cmocka_unit_test(test_decode_udp_cut_by_snaplen),
        cmocka_unit_test(test_decode_every_caplen),
        cmocka_unit_test(test_decode_tunnels),
        cmocka_unit_test(test_decode_tunnels_short_frames),
        cmocka_unit_test(test_decode_tunnel_nesting_cap),
        cmocka_unit_test(test_decode_tunnel_lies),
        cmocka_unit_test(test_decode_tunnel_inner_fragments),
        cmocka_unit_test(test_decode_truncated_names_layer),
        cmocka_unit_test(test_endpoint_format),
        cmocka_unit_test(test_transport_name),
        cmocka_unit_test(test_capture_pcap_in_memory),
        cmocka_unit_test(test_capture_cut_in_second_record),
        cmocka_unit_test(test_capture_not_a_capture),
        cmocka_unit_test(test_capture_open_paths),
        cmocka_unit_test(test_capture_hep_file),
        cmocka_unit_test(test_capture_pcapng),
        cmocka_unit_test(test_capture_pcapng_huge_timestamp),
        cmocka_unit_test(test_capture_stdin),
        cmocka_unit_test(test_endpoint_addr_matches_inet_ntop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
