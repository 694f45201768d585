/*
 * test_tcp.c: TCP stream reassembly and SIP framing (lib/capture/tcp.c).
 * Segments are fed to sl_tcp_add() directly; the last test goes through a
 * pcap built in memory and sl_capture_message().
 */
#include "test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "capture/tcp.h"
#include "inflate_vectors.h"

#define A_PORT 5060
#define B_PORT 5070

static const char INVITE[] = "INVITE sip:b@h SIP/2.0\r\n"
                             "Via: SIP/2.0/TCP a;branch=z9hG4bK1\r\n"
                             "Content-Length: 4\r\n"
                             "\r\n"
                             "v=0\n";
static const char OK200[] = "SIP/2.0 200 OK\r\n"
                            "Via: SIP/2.0/TCP a;branch=z9hG4bK1\r\n"
                            "l: 0\r\n"
                            "\r\n";

struct env {
    struct sl_tcp *t;
    uint64_t frame;
    struct sl_frame f;
};

static void env_init(struct env *e, const struct sl_tcp_opts *o)
{
    memset(e, 0, sizeof(*e));
    assert_int_equal(sl_tcp_new(&e->t, o), SL_OK);
}

static void ep(struct sl_endpoint *x, uint8_t last, uint16_t port)
{
    memset(x, 0, sizeof(*x));
    x->family = 4;
    x->ip[0] = 10;
    x->ip[3] = last;
    x->port = port;
}

/* Feeds a segment a -> b (dir 0) or b -> a (dir 1) at time frame * 1000 us. */
static enum sl_frame_kind seg_ts(struct env *e, int dir, uint32_t seq, uint8_t flags,
                                 const void *data, size_t len, int64_t ts_us)
{
    struct sl_tcp_seg s;

    memset(&s, 0, sizeof(s));
    ep(dir == 0 ? &s.src : &s.dst, 1, A_PORT);
    ep(dir == 0 ? &s.dst : &s.src, 2, B_PORT);
    s.seq = seq;
    s.flags = flags;
    s.data = data;
    s.len = len;
    s.frame = ++e->frame;
    s.ts_us = ts_us;
    memset(&e->f, 0, sizeof(e->f));
    sl_tcp_add(e->t, &s, &e->f);
    return e->f.kind;
}

static enum sl_frame_kind seg(struct env *e, int dir, uint32_t seq, uint8_t flags, const void *data,
                              size_t len)
{
    return seg_ts(e, dir, seq, flags, data, len, (int64_t)(e->frame + 1) * 1000);
}

/* Reads every queued message; returns how many, the last in *last (copied). */
static size_t msgs(struct env *e, char *last, size_t cap, uint64_t *frame)
{
    struct sl_stream_msg m;
    size_t n = 0;

    while (sl_tcp_message(e->t, &m) == 1) {
        n++;
        if (last != NULL) {
            size_t k = m.len < cap - 1 ? m.len : cap - 1;

            memcpy(last, m.data, k);
            last[k] = '\0';
        }
        if (frame != NULL)
            *frame = m.frame;
    }
    return n;
}

static size_t events(struct env *e, const char *rule, char *text, size_t cap)
{
    struct sl_tcp_event ev;
    size_t n = 0;

    while (sl_tcp_event(e->t, &ev) == 1) {
        if (rule == NULL || strcmp(ev.rule, rule) == 0) {
            n++;
            if (text != NULL)
                snprintf(text, cap, "%s", ev.text);
        }
    }
    return n;
}

static void test_tcp_in_order(void **state)
{
    struct env e;
    char out[512];
    uint64_t fr = 0;

    (void)state;
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 1000, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "TCP, no payload");
    assert_int_equal(seg(&e, 1, 5000, SL_TCP_SYN | SL_TCP_ACK, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 1001, SL_TCP_ACK, INVITE, strlen(INVITE)), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, out, sizeof(out), &fr), 1);
    assert_string_equal(out, INVITE);
    assert_int_equal(fr, 3);
    assert_int_equal(seg(&e, 1, 5001, SL_TCP_ACK, OK200, strlen(OK200)), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, out, sizeof(out), NULL), 1);
    assert_string_equal(out, OK200);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    assert_int_equal(sl_tcp_in_flight(e.t), 1);
    sl_tcp_free(e.t);
}

static void test_tcp_one_message_over_three_segments(void **state)
{
    struct env e;
    char out[512];
    size_t n = strlen(INVITE);
    uint64_t fr = 0;

    (void)state;
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 1000, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 1001, 0, INVITE, 10), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "TCP segment of a SIP message");
    assert_int_equal(seg(&e, 0, 1011, 0, INVITE + 10, 40), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "TCP segment of a SIP message");
    assert_int_equal(msgs(&e, NULL, 0, NULL), 0);
    assert_int_equal(seg(&e, 0, 1051, 0, INVITE + 50, n - 50), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, out, sizeof(out), &fr), 1);
    assert_string_equal(out, INVITE);
    assert_int_equal(fr, 4);
    sl_tcp_free(e.t);
}

static void test_tcp_two_messages_in_one_segment_and_keepalives(void **state)
{
    struct env e;
    char buf[1024], out[512];

    (void)state;
    env_init(&e, NULL);
    snprintf(buf, sizeof(buf), "\r\n\r\n%s\r\n\r\n%s", INVITE, OK200);
    assert_int_equal(seg(&e, 0, 7, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 8, 0, buf, strlen(buf)), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, out, sizeof(out), NULL), 2);
    assert_string_equal(out, OK200);
    /* a ping alone */
    assert_int_equal(seg(&e, 0, (uint32_t)(8 + strlen(buf)), 0, "\r\n\r\n", 4), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "SIP keep-alive (CRLF)");
    assert_int_equal(msgs(&e, NULL, 0, NULL), 0);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    sl_tcp_free(e.t);
}

static void test_tcp_out_of_order(void **state)
{
    struct env e;
    char out[512];
    size_t n = strlen(INVITE);
    uint64_t fr = 0;

    (void)state;
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 1000, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 1031, 0, INVITE + 30, n - 30), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "TCP segment (out of order)");
    assert_int_equal(seg(&e, 0, 1011, 0, INVITE + 10, 20), SL_FRAME_OTHER);
    assert_int_equal(msgs(&e, NULL, 0, NULL), 0);
    assert_int_equal(seg(&e, 0, 1001, 0, INVITE, 10), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, out, sizeof(out), &fr), 1);
    assert_string_equal(out, INVITE);
    assert_int_equal(fr, 4); /* the segment that completed it */
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    sl_tcp_free(e.t);
}

static void test_tcp_retransmission_and_overlap(void **state)
{
    struct env e;
    char out[512], bad[64];
    size_t n = strlen(INVITE);

    (void)state;
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 1000, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 1001, 0, INVITE, 20), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 1001, 0, INVITE, 20), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "TCP retransmission");
    /* held out of order, then an overlapping copy with other bytes: the
     * first copy wins */
    assert_int_equal(seg(&e, 0, 1041, 0, INVITE + 40, 20), SL_FRAME_OTHER);
    memset(bad, 'X', sizeof(bad));
    memcpy(bad, INVITE + 10, 30); /* bytes 10..39 right, 40..49 wrong */
    assert_int_equal(seg(&e, 0, 1011, 0, bad, 40), SL_FRAME_OTHER);
    assert_int_equal(msgs(&e, NULL, 0, NULL), 0);
    assert_int_equal(seg(&e, 0, 1061, 0, INVITE + 60, n - 60), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, out, sizeof(out), NULL), 1);
    assert_string_equal(out, INVITE);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    sl_tcp_free(e.t);
}

static void test_tcp_gap_resyncs(void **state)
{
    struct env e;
    char out[512], text[400];
    size_t n = strlen(INVITE);

    (void)state;
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 1000, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 1001, 0, INVITE, 20), SL_FRAME_OTHER);
    /* bytes 20..39 never come; the rest of the INVITE, then a 200 */
    assert_int_equal(seg(&e, 0, 1041, 0, INVITE + 40, n - 40), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, (uint32_t)(1001 + n), 0, OK200, strlen(OK200)), SL_FRAME_OTHER);
    assert_int_equal(msgs(&e, NULL, 0, NULL), 0);
    /* past the hold time, the next segment gives the gap up */
    assert_int_equal(seg_ts(&e, 0, (uint32_t)(1001 + n + strlen(OK200)), 0, OK200, strlen(OK200),
                            60 * (int64_t)1000000),
                     SL_FRAME_STREAM);
    assert_int_equal(events(&e, "SIP-CAP-007", text, sizeof(text)), 1);
    assert_non_null(strstr(text, "20 bytes missing"));
    assert_non_null(strstr(text, "stream bytes 20 to 39"));
    assert_non_null(strstr(text, "lost"));
    assert_int_equal(msgs(&e, out, sizeof(out), NULL), 2); /* both 200s: resynced */
    assert_string_equal(out, OK200);
    sl_tcp_free(e.t);
}

static void test_tcp_gap_at_fin(void **state)
{
    struct env e;
    char text[400];

    (void)state;
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 1000, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 1001, 0, INVITE, 20), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 1101, SL_TCP_FIN, OK200, strlen(OK200)), SL_FRAME_OTHER);
    /* the FIN is not in order yet: still open */
    assert_int_equal(sl_tcp_in_flight(e.t), 1);
    sl_tcp_expire(e.t, 0, true);
    assert_int_equal(events(&e, "SIP-CAP-007", text, sizeof(text)), 1);
    assert_non_null(strstr(text, "80 bytes missing"));
    assert_int_equal(msgs(&e, NULL, 0, NULL), 1); /* the 200 after the gap */
    assert_int_equal(sl_tcp_in_flight(e.t), 0);
    sl_tcp_free(e.t);
}

static void test_tcp_sequence_wraps(void **state)
{
    struct env e;
    char out[512];
    size_t n = strlen(INVITE);
    uint32_t isn = 0xffffffe0u;

    (void)state;
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, isn, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, isn + 1, 0, INVITE, 40), SL_FRAME_OTHER); /* crosses 2^32 */
    assert_int_equal(seg(&e, 0, isn + 1 + 40, 0, INVITE + 40, n - 40), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, out, sizeof(out), NULL), 1);
    assert_string_equal(out, INVITE);
    assert_int_equal(seg(&e, 0, (uint32_t)(isn + 1 + n), 0, OK200, strlen(OK200)), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, out, sizeof(out), NULL), 1);
    assert_string_equal(out, OK200);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    sl_tcp_free(e.t);
}

static void test_tcp_no_syn_resyncs_at_start_line(void **state)
{
    struct env e;
    char out[512];

    (void)state;
    env_init(&e, NULL);
    /* the tail of a message whose start was not captured, then a whole one */
    assert_int_equal(seg(&e, 0, 777, SL_TCP_ACK, "70\r\nTo: <sip:b@h>\r\n\r\n", 21),
                     SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "TCP, not SIP");
    assert_int_equal(seg(&e, 0, 798, SL_TCP_ACK, OK200, strlen(OK200)), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, out, sizeof(out), NULL), 1);
    assert_string_equal(out, OK200);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    sl_tcp_free(e.t);
}

static void test_tcp_missing_content_length(void **state)
{
    static const char NOLEN[] = "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP a\r\n\r\nbody?\r\n";
    struct env e;
    struct sl_stream_msg m;
    char buf[512];

    (void)state;
    env_init(&e, NULL);
    snprintf(buf, sizeof(buf), "%s%s", NOLEN, OK200);
    assert_int_equal(seg(&e, 0, 1, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 2, 0, buf, strlen(buf)), SL_FRAME_STREAM);
    assert_int_equal(sl_tcp_message(e.t, &m), 1);
    assert_non_null(m.problem);
    assert_string_equal(m.problem, "SIP-HDR-011");
    assert_non_null(strstr(m.text, "without Content-Length"));
    assert_true(m.counts_frame);
    assert_int_equal(sl_tcp_message(e.t, &m), 1); /* resynced: the 200 */
    assert_null(m.problem);
    assert_false(m.counts_frame);
    assert_int_equal(m.len, strlen(OK200));
    assert_int_equal(sl_tcp_message(e.t, &m), 0);
    sl_tcp_free(e.t);
}

static void test_tcp_fin_and_rst_close(void **state)
{
    struct env e;
    char text[400];

    (void)state;
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 1000, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 1, 5000, SL_TCP_SYN | SL_TCP_ACK, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 1001, SL_TCP_FIN, OK200, strlen(OK200)), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, NULL, 0, NULL), 1);
    assert_int_equal(seg(&e, 1, 5001, SL_TCP_FIN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(sl_tcp_in_flight(e.t), 0); /* both directions closed */
    /* RST in the middle of a message: reported, closed */
    assert_int_equal(seg(&e, 0, 9000, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 9001, 0, INVITE, 30), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 1, 1, SL_TCP_RST, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(sl_tcp_in_flight(e.t), 0);
    assert_int_equal(events(&e, "SIP-CAP-007", text, sizeof(text)), 1);
    assert_non_null(strstr(text, "reset (RST) in the middle of a SIP message"));
    sl_tcp_free(e.t);
}

static void test_tcp_tls_not_decoded(void **state)
{
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5 };
    struct env e;

    (void)state;
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 1, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 2, 0, hello, sizeof(hello)), SL_FRAME_NOT_DECODED);
    assert_string_equal(e.f.reason, "TLS");
    assert_int_equal(seg(&e, 0, 12, 0, INVITE, strlen(INVITE)), SL_FRAME_NOT_DECODED);
    assert_string_equal(e.f.reason, "TLS");
    assert_int_equal(msgs(&e, NULL, 0, NULL), 0);
    sl_tcp_free(e.t);
}

/* Every TLS stream is reported once, when it ends, not per frame. */
static void test_tcp_tls_reported_once(void **state)
{
    static const uint8_t rec[] = { 0x17, 0x03, 0x03, 0x00, 0x03, 1, 2, 3 };
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5 };
    struct sl_tcp_event ev;
    struct sl_tcp_seg sg;
    struct env e;
    char text[400];
    int i;

    (void)state;
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 1, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 1, 100, SL_TCP_SYN | SL_TCP_ACK, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 2, SL_TCP_ACK, hello, sizeof(hello)), SL_FRAME_NOT_DECODED);
    for (i = 0; i < 3; i++) {
        assert_int_equal(seg(&e, 1, 101 + 8 * (uint32_t)i, SL_TCP_ACK, rec, sizeof(rec)),
                         SL_FRAME_NOT_DECODED);
        assert_string_equal(e.f.reason, "TLS");
        assert_int_equal(events(&e, NULL, NULL, 0), 0); /* nothing per frame */
    }
    assert_int_equal(seg(&e, 1, 101, SL_TCP_ACK, rec, sizeof(rec)), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "TCP retransmission");
    assert_int_equal(seg(&e, 0, 12, SL_TCP_ACK | SL_TCP_FIN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    assert_int_equal(seg(&e, 1, 125, SL_TCP_ACK | SL_TCP_FIN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(sl_tcp_event(e.t, &ev), 1);
    assert_string_equal(ev.rule, "SIP-CAP-004");
    assert_int_equal(ev.transport, SL_TP_TCP);
    assert_int_equal(ev.frame, 3);
    assert_int_equal(ev.src.port, A_PORT);
    assert_string_equal(ev.text, "TLS stream 10.0.0.1:5060 <-> 10.0.0.2:5070: 4 segments (frames "
                                 "3 to 6) encrypted (RFC 8446), not decoded: any SIP it carries "
                                 "cannot be read without its keys");
    assert_int_equal(sl_tcp_event(e.t, &ev), 0);
    /* a second TLS connection, still open at the end of the capture, and a
     * plain SIP one: one report, for the TLS one */
    memset(&sg, 0, sizeof(sg));
    ep(&sg.src, 3, 40000);
    ep(&sg.dst, 2, 5061);
    sg.seq = 9;
    sg.data = rec;
    sg.len = sizeof(rec);
    sg.frame = ++e.frame;
    sl_tcp_add(e.t, &sg, &e.f);
    assert_int_equal(e.f.kind, SL_FRAME_NOT_DECODED);
    assert_int_equal(seg(&e, 0, 1000, 0, INVITE, strlen(INVITE)), SL_FRAME_STREAM);
    sl_tcp_expire(e.t, 0, true);
    assert_int_equal(events(&e, "SIP-CAP-004", text, sizeof(text)), 1);
    assert_non_null(strstr(text, "TLS stream 10.0.0.3:40000 <-> 10.0.0.2:5061: 1 segment (frame"));
    sl_tcp_free(e.t);
    /* caught after its start: a keep-alive byte, then records */
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 500, SL_TCP_ACK, "\0", 1), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "TCP, not SIP");
    assert_int_equal(seg(&e, 0, 501, SL_TCP_ACK, rec, sizeof(rec)), SL_FRAME_NOT_DECODED);
    assert_string_equal(e.f.reason, "TLS");
    sl_tcp_expire(e.t, 0, true);
    assert_int_equal(events(&e, "SIP-CAP-004", text, sizeof(text)), 1);
    assert_non_null(strstr(text, "1 segment (frame 2)"));
    sl_tcp_free(e.t);
}

static void test_tcp_caps(void **state)
{
    struct sl_tcp_opts o;
    struct env e;
    char big[600], text[400];
    int i;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.max_bytes = 256;
    o.max_streams = 2;
    env_init(&e, &o);
    /* a message over the per-stream limit: SIP-CAP-006, skipped, the next one is read */
    snprintf(big, sizeof(big), "MESSAGE sip:b@h SIP/2.0\r\nContent-Length: 400\r\n\r\n");
    assert_int_equal(seg(&e, 0, 1, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 2, 0, big, strlen(big)), SL_FRAME_OTHER);
    assert_int_equal(events(&e, "SIP-CAP-006", text, sizeof(text)), 1);
    assert_non_null(strstr(text, "over the limit"));
    memset(big, 'x', 400);
    assert_int_equal(seg(&e, 0,
                         (uint32_t)(2 + strlen("MESSAGE sip:b@h SIP/2.0\r\nContent-Length: "
                                               "400\r\n\r\n")),
                         0, big, 400),
                     SL_FRAME_OTHER);
    /* out-of-order bytes over the limit: SIP-CAP-006 and a gap */
    assert_int_equal(seg(&e, 1, 100, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    for (i = 0; i < 3; i++)
        (void)seg(&e, 1, (uint32_t)(201 + i * 100), 0, big, 100);
    assert_true(events(&e, "SIP-CAP-006", NULL, 0) >= 1);
    /* streams in flight: the third connection gives the oldest up */
    {
        struct sl_tcp_seg s;
        struct sl_frame f;
        int k;

        for (k = 0; k < 3; k++) {
            memset(&s, 0, sizeof(s));
            ep(&s.src, (uint8_t)(50 + k), 1000);
            ep(&s.dst, 2, 5060);
            s.seq = 1;
            s.flags = SL_TCP_SYN;
            s.frame = ++e.frame;
            sl_tcp_add(e.t, &s, &f);
        }
        assert_int_equal(sl_tcp_in_flight(e.t), 2);
        assert_int_equal(events(&e, "SIP-CAP-006", text, sizeof(text)), 1);
        assert_non_null(strstr(text, "connections in flight"));
    }
    sl_tcp_free(e.t);
}

static void test_tcp_idle_timeout(void **state)
{
    struct env e;

    (void)state;
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 1000, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    sl_tcp_expire(e.t, SL_TCP_IDLE_US / 2, false);
    assert_int_equal(sl_tcp_in_flight(e.t), 1);
    sl_tcp_expire(e.t, 2 * SL_TCP_IDLE_US, false);
    assert_int_equal(sl_tcp_in_flight(e.t), 0);
    sl_tcp_free(e.t);
}

/* ---- through a pcap ------------------------------------------------------ */

static size_t put_frame(uint8_t *b, size_t at, uint32_t seq, uint8_t flags, const char *data)
{
    size_t dl = data != NULL ? strlen(data) : 0;
    size_t n = 14 + 20 + 20 + dl;
    uint8_t *p = b + at;
    size_t i = 0;

    /* pcap record header */
    memset(p, 0, 16);
    p[0] = 1;
    p[8] = (uint8_t)(n & 0xff);
    p[9] = (uint8_t)(n >> 8);
    p[12] = (uint8_t)(n & 0xff);
    p[13] = (uint8_t)(n >> 8);
    p += 16;
    memset(p, 0, n);
    p[12] = 0x08; /* IPv4 */
    i = 14;
    p[i] = 0x45;
    p[i + 2] = (uint8_t)((n - 14) >> 8);
    p[i + 3] = (uint8_t)((n - 14) & 0xff);
    p[i + 8] = 64;
    p[i + 9] = 6;
    p[i + 12] = 10, p[i + 15] = 1;
    p[i + 16] = 10, p[i + 19] = 2;
    i += 20;
    p[i] = 0x13, p[i + 1] = 0xc4; /* 5060 */
    p[i + 2] = 0x13, p[i + 3] = 0xce;
    p[i + 4] = (uint8_t)(seq >> 24), p[i + 5] = (uint8_t)(seq >> 16);
    p[i + 6] = (uint8_t)(seq >> 8), p[i + 7] = (uint8_t)seq;
    p[i + 12] = 0x50;
    p[i + 13] = flags;
    i += 20;
    if (dl > 0)
        memcpy(p + i, data, dl);
    return at + 16 + n;
}

static void test_tcp_through_capture(void **state)
{
    static uint8_t file[4096];
    static const uint8_t ghdr[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2,    0,    4, 0, 0, 0, 0, 0,
                                      0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0 };
    struct sl_capture *c;
    struct sl_frame f;
    struct sl_stream_msg m;
    struct sl_err err;
    size_t n = 24;
    int kinds[8], k = 0, n_msgs = 0;

    (void)state;
    memcpy(file, ghdr, 24);
    n = put_frame(file, n, 100, SL_TCP_SYN, NULL);
    n = put_frame(file, n, 101, SL_TCP_ACK, "SIP/2.0 200 OK\r\nl: 0\r\n");
    n = put_frame(file, n, 123, SL_TCP_ACK | SL_TCP_FIN, "\r\n");
    assert_int_equal(sl_capture_open_mem(&c, file, n, &err), SL_OK);
    while (sl_capture_next(c, &f, &err) == 1) {
        kinds[k++] = (int)f.kind;
        assert_int_equal(f.transport, SL_TP_TCP);
        while (sl_capture_message(c, &m) == 1) {
            n_msgs++;
            assert_int_equal(m.frame, 3);
            assert_int_equal(m.src.port, 5060);
            assert_int_equal(m.dst.port, 5070);
        }
    }
    assert_int_equal(k, 3);
    assert_int_equal(kinds[0], SL_FRAME_OTHER);
    assert_int_equal(kinds[1], SL_FRAME_OTHER);
    assert_int_equal(kinds[2], SL_FRAME_STREAM);
    assert_int_equal(n_msgs, 1);
    sl_capture_close(c);
}

/* ---- SIP over WebSocket (RFC 6455, RFC 7118) ---------------------------- */

static const char WS_GET[] = "GET / HTTP/1.1\r\n"
                             "Host: h\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Protocol: sip\r\n"
                             "\r\n";
static const char WS_101[] = "HTTP/1.1 101 Switching Protocols\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Protocol: sip\r\n"
                             "\r\n";

/* Writes one frame into out (header, key when mask != NULL, masked payload);
 * returns its length.  len_form: 7, 16 or 64 (the length encoding). */
static size_t ws_frame(uint8_t *out, unsigned b0, const uint8_t *mask, int len_form, const void *pl,
                       size_t n)
{
    size_t k = 0, i;

    out[k++] = (uint8_t)b0;
    if (len_form == 7) {
        out[k++] = (uint8_t)((mask ? 0x80 : 0) | n);
    } else if (len_form == 16) {
        out[k++] = (uint8_t)((mask ? 0x80 : 0) | 126);
        out[k++] = (uint8_t)(n >> 8);
        out[k++] = (uint8_t)n;
    } else {
        out[k++] = (uint8_t)((mask ? 0x80 : 0) | 127);
        for (i = 0; i < 8; i++)
            out[k++] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    }
    if (mask != NULL) {
        memcpy(out + k, mask, 4);
        k += 4;
    }
    for (i = 0; i < n; i++)
        out[k + i] = (uint8_t)(((const uint8_t *)pl)[i] ^ (mask ? mask[i & 3] : 0));
    return k + n;
}

static void test_ws_frame_parse(void **state)
{
    static const uint8_t key[4] = { 0x11, 0x22, 0x33, 0x44 };
    uint8_t buf[600], pl[300];
    struct sl_ws_frame fr;
    char why[160];
    size_t n, i;
    static const int forms[3] = { 7, 16, 64 };
    int f;

    (void)state;
    for (i = 0; i < sizeof(pl); i++)
        pl[i] = (uint8_t)('a' + i % 26);
    for (f = 0; f < 3; f++) {
        int form = forms[f];
        size_t len = form == 7 ? 100 : sizeof(pl);
        int m;

        for (m = 0; m < 2; m++) {
            n = ws_frame(buf, 0x81, m ? key : NULL, form, pl, len);
            assert_int_equal(sl_ws_frame_parse(buf, n, SL_WS_MAX_MSG, &fr, why, sizeof(why)),
                             SL_WS_OK);
            assert_true(fr.fin);
            assert_int_equal(fr.opcode, SL_WS_TEXT);
            assert_int_equal(fr.masked, m == 1);
            assert_int_equal(fr.len, len);
            assert_int_equal(fr.hlen + len, n);
            sl_ws_unmask(buf + fr.hlen, len, fr.key, 0);
            if (m)
                assert_memory_equal(buf + fr.hlen, pl, len);
            /* every shorter prefix needs more bytes */
            n = ws_frame(buf, 0x81, m ? key : NULL, form, pl, len);
            for (i = 0; i < n; i++)
                assert_int_equal(sl_ws_frame_parse(buf, i, SL_WS_MAX_MSG, &fr, why, sizeof(why)),
                                 SL_WS_MORE);
        }
    }
    /* malformed: reserved bits, reserved opcodes, control frames, lengths */
    n = ws_frame(buf, 0xc1, NULL, 7, "x", 1);
    assert_int_equal(sl_ws_frame_parse(buf, n, 100, &fr, why, sizeof(why)), SL_WS_BAD);
    assert_non_null(strstr(why, "reserved bits"));
    n = ws_frame(buf, 0x83, NULL, 7, "x", 1);
    assert_int_equal(sl_ws_frame_parse(buf, n, 100, &fr, why, sizeof(why)), SL_WS_BAD);
    assert_non_null(strstr(why, "opcode 3"));
    n = ws_frame(buf, 0x8b, NULL, 7, "x", 1);
    assert_int_equal(sl_ws_frame_parse(buf, n, 100, &fr, why, sizeof(why)), SL_WS_BAD);
    n = ws_frame(buf, 0x09, NULL, 7, "x", 1); /* a fragmented ping */
    assert_int_equal(sl_ws_frame_parse(buf, n, 100, &fr, why, sizeof(why)), SL_WS_BAD);
    assert_non_null(strstr(why, "fragmented"));
    n = ws_frame(buf, 0x89, NULL, 16, pl, 126); /* a ping over 125 bytes */
    assert_int_equal(sl_ws_frame_parse(buf, n, 1000, &fr, why, sizeof(why)), SL_WS_BAD);
    n = ws_frame(buf, 0x81, NULL, 16, pl, 200);
    assert_int_equal(sl_ws_frame_parse(buf, 4, 100, &fr, why, sizeof(why)), SL_WS_BAD);
    assert_non_null(strstr(why, "over the limit"));
    buf[0] = 0x82;
    buf[1] = 127;
    buf[2] = 0x80;
    memset(buf + 3, 0, 7);
    assert_int_equal(sl_ws_frame_parse(buf, 10, SL_WS_MAX_MSG, &fr, why, sizeof(why)), SL_WS_BAD);
    assert_non_null(strstr(why, "top bit"));
    buf[2] = 0x01; /* 2^56 bytes: over the cap */
    assert_int_equal(sl_ws_frame_parse(buf, 10, SL_WS_MAX_MSG, &fr, why, sizeof(why)), SL_WS_BAD);
}

/* Reads every queued message; checks they are WebSocket ones. */
static size_t ws_msgs(struct env *e, char *last, size_t cap)
{
    struct sl_stream_msg m;
    size_t n = 0;

    while (sl_tcp_message(e->t, &m) == 1) {
        size_t k = m.len < cap - 1 ? m.len : cap - 1;

        assert_int_equal(m.transport, SL_TP_WS);
        assert_null(m.problem);
        memcpy(last, m.data, k);
        last[k] = '\0';
        n++;
    }
    return n;
}

static void test_ws_stream(void **state)
{
    static const uint8_t key[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };
    static uint8_t big[300];
    uint8_t buf[2048];
    char out[1024];
    struct env e;
    size_t n, k, half, i;
    uint32_t cseq = 1, sseq = 1;

    (void)state;
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, cseq, 0, WS_GET, strlen(WS_GET)), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "WebSocket handshake (HTTP)");
    cseq += (uint32_t)strlen(WS_GET);
    assert_int_equal(seg(&e, 1, sseq, 0, WS_101, strlen(WS_101)), SL_FRAME_OTHER);
    sseq += (uint32_t)strlen(WS_101);
    /* a masked client message over two segments, the cut inside the header */
    n = ws_frame(buf, 0x81, key, 16, INVITE, strlen(INVITE));
    assert_int_equal(seg(&e, 0, cseq, 0, buf, 3), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "WebSocket frame (part of a message)");
    assert_int_equal(seg(&e, 0, cseq + 3, 0, buf + 3, n - 3), SL_FRAME_STREAM);
    cseq += (uint32_t)n;
    assert_int_equal(ws_msgs(&e, out, sizeof(out)), 1);
    assert_string_equal(out, INVITE);
    /* an unmasked server message with a 64-bit length, then a ping and a pong
     * in one segment: one message */
    k = ws_frame(buf, 0x81, NULL, 64, OK200, strlen(OK200));
    k += ws_frame(buf + k, 0x89, NULL, 7, "hi", 2);
    k += ws_frame(buf + k, 0x8a, NULL, 7, "", 0);
    assert_int_equal(seg(&e, 1, sseq, 0, buf, k), SL_FRAME_STREAM);
    sseq += (uint32_t)k;
    assert_int_equal(ws_msgs(&e, out, sizeof(out)), 1);
    assert_string_equal(out, OK200);
    /* a ping alone */
    k = ws_frame(buf, 0x89, key, 7, "p", 1);
    assert_int_equal(seg(&e, 0, cseq, 0, buf, k), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "WebSocket control frame");
    cseq += (uint32_t)k;
    /* a fragmented binary message: three frames, each masked with its own
     * key, a ping between them; two messages in one segment after it */
    half = strlen(INVITE) / 2;
    k = ws_frame(buf, 0x02, key, 7, INVITE, 10);
    k += ws_frame(buf + k, 0x89, key, 7, "", 0);
    k += ws_frame(buf + k, 0x00, key, 16, INVITE + 10, half - 10);
    assert_int_equal(seg(&e, 0, cseq, 0, buf, k), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "WebSocket frame (part of a message)");
    cseq += (uint32_t)k;
    assert_int_equal(ws_msgs(&e, out, sizeof(out)), 0);
    k = ws_frame(buf, 0x80, (const uint8_t *)"\x01\x02\x03\x04", 7, INVITE + half,
                 strlen(INVITE) - half);
    k += ws_frame(buf + k, 0x81, key, 7, OK200, strlen(OK200));
    assert_int_equal(seg(&e, 0, cseq, 0, buf, k), SL_FRAME_STREAM);
    cseq += (uint32_t)k;
    {
        struct sl_stream_msg m;

        assert_int_equal(sl_tcp_message(e.t, &m), 1);
        assert_int_equal(m.len, strlen(INVITE));
        assert_memory_equal(m.data, INVITE, m.len);
        assert_true(m.counts_frame);
        assert_int_equal(m.transport, SL_TP_WS);
        assert_int_equal(sl_tcp_message(e.t, &m), 1);
        assert_int_equal(m.len, strlen(OK200));
        assert_false(m.counts_frame);
        assert_int_equal(sl_tcp_message(e.t, &m), 0);
    }
    /* a message of 300 bytes (16-bit length) byte by byte */
    for (i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)('A' + i % 26);
    k = ws_frame(buf, 0x82, key, 16, big, sizeof(big));
    for (i = 0; i < k; i++)
        assert_int_equal(seg(&e, 0, cseq + (uint32_t)i, 0, buf + i, 1),
                         i + 1 == k ? SL_FRAME_STREAM : SL_FRAME_OTHER);
    cseq += (uint32_t)k;
    assert_int_equal(ws_msgs(&e, out, sizeof(out)), 1);
    assert_memory_equal(out, big, sizeof(big));
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    sl_tcp_free(e.t);
}

static void test_ws_bad_frames(void **state)
{
    static const uint8_t key[4] = { 1, 2, 3, 4 };
    uint8_t buf[1024];
    char text[400], out[512];
    struct env e;
    size_t k;
    uint32_t cseq;
    int c;

    (void)state;
    for (c = 0; c < 4; c++) {
        env_init(&e, NULL);
        cseq = 1;
        assert_int_equal(seg(&e, 0, cseq, 0, WS_GET, strlen(WS_GET)), SL_FRAME_OTHER);
        cseq += (uint32_t)strlen(WS_GET);
        k = ws_frame(buf, 0x81, key, 7, OK200, strlen(OK200));
        assert_int_equal(seg(&e, 0, cseq, 0, buf, k), SL_FRAME_STREAM);
        cseq += (uint32_t)k;
        assert_int_equal(ws_msgs(&e, out, sizeof(out)), 1);
        if (c == 0) /* a reserved opcode */
            k = ws_frame(buf, 0x85, key, 7, "x", 1);
        else if (c == 1) /* a continuation without a first frame */
            k = ws_frame(buf, 0x80, key, 7, "x", 1);
        else if (c == 2) { /* a new message inside a fragmented one */
            k = ws_frame(buf, 0x01, key, 7, "x", 1);
            k += ws_frame(buf + k, 0x81, key, 7, "y", 1);
        } else /* a length over the cap */
            k = ws_frame(buf, 0x81, key, 64, "", 0), buf[3] = 1;
        assert_int_equal(seg(&e, 0, cseq, 0, buf, k), SL_FRAME_NOT_DECODED);
        assert_string_equal(e.f.reason, "WebSocket (after a malformed frame)");
        cseq += (uint32_t)k;
        assert_int_equal(events(&e, "SIP-CAP-003", text, sizeof(text)), 1);
        assert_non_null(strstr(text, "WebSocket frame at stream byte"));
        /* later frames are not decoded, even good ones */
        k = ws_frame(buf, 0x81, key, 7, OK200, strlen(OK200));
        assert_int_equal(seg(&e, 0, cseq, 0, buf, k), SL_FRAME_NOT_DECODED);
        assert_int_equal(msgs(&e, NULL, 0, NULL), 0);
        sl_tcp_free(e.t);
    }
    /* the event names the frame of the bad segment */
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 1, 0, WS_GET, strlen(WS_GET)), SL_FRAME_OTHER);
    k = ws_frame(buf, 0x83, NULL, 7, "x", 1);
    assert_int_equal(seg(&e, 0, 1 + (uint32_t)strlen(WS_GET), 0, buf, k), SL_FRAME_NOT_DECODED);
    {
        struct sl_tcp_event ev;

        assert_int_equal(sl_tcp_event(e.t, &ev), 1);
        assert_int_equal(ev.frame, 2);
        assert_string_equal(ev.rule, "SIP-CAP-003");
    }
    sl_tcp_free(e.t);
    /* the stream ends inside a fragmented message */
    env_init(&e, NULL);
    assert_int_equal(seg(&e, 0, 1, 0, WS_GET, strlen(WS_GET)), SL_FRAME_OTHER);
    k = ws_frame(buf, 0x01, key, 7, "abc", 3);
    assert_int_equal(seg(&e, 0, 1 + (uint32_t)strlen(WS_GET), SL_TCP_FIN, buf, k), SL_FRAME_OTHER);
    assert_int_equal(events(&e, "SIP-CAP-007", text, sizeof(text)), 1);
    assert_non_null(strstr(text, "WebSocket message"));
    sl_tcp_free(e.t);
}

/* ---- HEP over TCP (RULES.md C.7) ------------------------------------------ */

static size_t put_chunk(uint8_t *out, unsigned type, const void *v, size_t n)
{
    out[0] = 0;
    out[1] = 0;
    out[2] = (uint8_t)(type >> 8);
    out[3] = (uint8_t)type;
    out[4] = (uint8_t)((n + 6) >> 8);
    out[5] = (uint8_t)(n + 6);
    memcpy(out + 6, v, n);
    return n + 6;
}

static size_t put_u32_chunk(uint8_t *out, unsigned type, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

    return put_chunk(out, type, b, 4);
}

/* A HEP3 packet: 192.0.2.<src>:5060 -> 192.0.2.<src + 1>:5062 over UDP at
 * `sec` seconds, agent id 2002, payload type pt, correlation id "c1". */
static size_t hep3_pkt(uint8_t *out, uint8_t src, uint32_t sec, uint8_t pt, const char *payload)
{
    uint8_t fam = 2, proto = 17, a[4] = { 192, 0, 2, src }, b[4] = { 192, 0, 2, 0 };
    uint8_t sport[2] = { 0x13, 0xc4 }, dport[2] = { 0x13, 0xc6 };
    size_t k = 6;

    b[3] = (uint8_t)(src + 1);
    memcpy(out, "HEP3", 4);
    k += put_chunk(out + k, 1, &fam, 1);
    k += put_chunk(out + k, 2, &proto, 1);
    k += put_chunk(out + k, 3, a, 4);
    k += put_chunk(out + k, 4, b, 4);
    k += put_chunk(out + k, 7, sport, 2);
    k += put_chunk(out + k, 8, dport, 2);
    k += put_u32_chunk(out + k, 9, sec);
    k += put_u32_chunk(out + k, 10, 250000);
    k += put_chunk(out + k, 11, &pt, 1);
    k += put_u32_chunk(out + k, 12, 2002);
    k += put_chunk(out + k, 17, "c1", 2);
    k += put_chunk(out + k, 15, payload, strlen(payload));
    out[4] = (uint8_t)(k >> 8);
    out[5] = (uint8_t)k;
    return k;
}

static void test_tcp_hep3_stream(void **state)
{
    static uint8_t buf[4096];
    struct sl_stream_msg m;
    struct env e;
    size_t k = 0, p1, p2, p3, p4;
    uint32_t seq = 101;
    int n = 0;

    (void)state;
    env_init(&e, NULL);
    p1 = hep3_pkt(buf, 1, 1700000000, 1, INVITE);
    p2 = hep3_pkt(buf + p1, 2, 1700000001, 1, OK200);
    p3 = hep3_pkt(buf + p1 + p2, 1, 1700000002, 1, INVITE);
    p4 = hep3_pkt(buf + p1 + p2 + p3, 1, 1700000003, 100, "a log line");
    assert_int_equal(seg(&e, 0, 100, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    /* two packets and the first 10 bytes of the third in one segment */
    k = p1 + p2 + 10;
    assert_int_equal(seg(&e, 0, seq, SL_TCP_ACK, buf, k), SL_FRAME_STREAM);
    assert_string_equal(e.f.reason, "SIP");
    while (sl_tcp_message(e.t, &m) == 1) {
        n++;
        assert_int_equal(m.hep_version, 3);
        assert_int_equal(m.transport, SL_TP_UDP);
        assert_int_equal(m.src.family, 4);
        assert_int_equal(m.src.ip[3], n == 1 ? 1 : 2);
        assert_int_equal(m.dst.ip[3], n == 1 ? 2 : 3);
        assert_int_equal(m.src.port, 5060);
        assert_int_equal(m.dst.port, 5062);
        assert_true(m.hep_ts_us == (int64_t)(1700000000 + n - 1) * 1000000 + 250000);
        assert_true(m.hep_has_agent_id);
        assert_int_equal(m.hep_agent_id, 2002);
        assert_int_equal(m.hep_correlation_len, 2);
        assert_memory_equal(m.hep_correlation, "c1", 2);
        assert_int_equal(m.frame, 2);
        assert_int_equal(m.counts_frame, n == 1);
        assert_int_equal(m.len, strlen(n == 1 ? INVITE : OK200));
        assert_memory_equal(m.data, n == 1 ? INVITE : OK200, m.len);
    }
    assert_int_equal(n, 2);
    seq += (uint32_t)k;
    /* the third packet over two more segments */
    assert_int_equal(seg(&e, 0, seq, SL_TCP_ACK, buf + k, 20), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "TCP segment of a HEP packet");
    seq += 20;
    k += 20;
    assert_int_equal(seg(&e, 0, seq, SL_TCP_ACK, buf + k, p1 + p2 + p3 - k), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, NULL, 0, NULL), 1);
    seq += (uint32_t)(p1 + p2 + p3 - k);
    /* a packet that is not SIP (payload type 100, a log line) */
    assert_int_equal(seg(&e, 0, seq, SL_TCP_ACK, buf + p1 + p2 + p3, p4), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "HEP, not SIP");
    assert_int_equal(msgs(&e, NULL, 0, NULL), 0);
    seq += (uint32_t)p4;
    /* the stream ends in the middle of a packet */
    assert_int_equal(seg(&e, 0, seq, SL_TCP_ACK | SL_TCP_FIN, buf, 30), SL_FRAME_OTHER);
    assert_int_equal(events(&e, "SIP-CAP-007", NULL, 0), 1);
    sl_tcp_free(e.t);
}

static void test_tcp_hep3_resync(void **state)
{
    static uint8_t buf[4096];
    char text[400];
    struct env e;
    size_t p1, p2, p3;

    (void)state;
    env_init(&e, NULL);
    p1 = hep3_pkt(buf, 1, 1700000000, 1, INVITE);
    p2 = hep3_pkt(buf + p1, 2, 1700000001, 1, OK200);
    /* no SYN: the capture starts in the middle of the first packet (inside
     * its SIP payload, at the start line); the second one is read */
    assert_int_equal(seg(&e, 0, 7000, SL_TCP_ACK, buf + p1 - strlen(INVITE), strlen(INVITE) + p2),
                     SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, text, sizeof(text), NULL), 1);
    assert_string_equal(text, OK200);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    /* a packet whose header is broken: reported, resynced at the next one */
    memcpy(buf + p1 + p2, "HEP3\0\3", 6);
    p3 = hep3_pkt(buf + p1 + p2 + 6, 1, 1700000002, 1, INVITE);
    assert_int_equal(
            seg(&e, 0, 7000 + (uint32_t)(strlen(INVITE) + p2), SL_TCP_ACK, buf + p1 + p2, 6 + p3),
            SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, NULL, 0, NULL), 1);
    assert_int_equal(events(&e, "SIP-CAP-003", text, sizeof(text)), 1);
    assert_non_null(strstr(text, "HEP3 total length 3 < 6"));
    sl_tcp_free(e.t);
}

static void test_tcp_hep3_compressed(void **state)
{
    static uint8_t buf[2048];
    struct sl_stream_msg m;
    struct env e;
    size_t k;

    (void)state;
    env_init(&e, NULL);
    /* a packet whose payload is chunk 16 (zlib): the payload chunk 15 of
     * hep3_pkt() becomes 16 with v_fixed as its value */
    k = hep3_pkt(buf, 1, 1700000000, 1, "");
    k -= 6;
    k += put_chunk(buf + k, 16, v_fixed, sizeof(v_fixed));
    buf[4] = (uint8_t)(k >> 8);
    buf[5] = (uint8_t)k;
    assert_int_equal(seg(&e, 0, 1, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 2, SL_TCP_ACK, buf, 10), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 12, SL_TCP_ACK, buf + 10, k - 10), SL_FRAME_STREAM);
    assert_int_equal(sl_tcp_message(e.t, &m), 1);
    assert_int_equal(m.len, strlen(short_text));
    assert_memory_equal(m.data, short_text, m.len);
    assert_int_equal(m.frame, 3);
    assert_true(m.counts_frame);
    assert_int_equal(m.hep_version, 3);
    assert_int_equal(m.hep_agent_id, 2002);
    assert_int_equal(sl_tcp_message(e.t, &m), 0);
    /* one that does not inflate: SIP-CAP-003 */
    buf[k - 1] ^= 0xff;
    assert_int_equal(seg(&e, 0, (uint32_t)(2 + k), SL_TCP_ACK, buf, k), SL_FRAME_OTHER);
    assert_int_equal(events(&e, "SIP-CAP-003", NULL, 0), 1);
    sl_tcp_free(e.t);
}

static void test_tcp_hep2_stream(void **state)
{
    static uint8_t buf[2048];
    struct sl_stream_msg m;
    struct env e;
    size_t k = 0, i;
    int n = 0;

    (void)state;
    env_init(&e, NULL);
    /* two HEPv2 packets (IPv4, 12-byte time header) back to back: each header
     * is followed by a SIP message framed by its Content-Length */
    for (i = 0; i < 2; i++) {
        const char *sip = i == 0 ? INVITE : OK200;
        static const uint8_t hdr[8] = { 2, 16, 2, 17, 0x13, 0xc4, 0x13, 0xc6 };
        static const uint8_t addrs[8] = { 192, 0, 2, 1, 192, 0, 2, 2 };
        uint8_t th[12] = { 0x00, 0xf1, 0x53, 0x65, 7, 0, 0, 0, 0xd2, 0x07, 0, 0 };

        memcpy(buf + k, hdr, 8);
        memcpy(buf + k + 8, addrs, 8);
        memcpy(buf + k + 16, th, 12);
        memcpy(buf + k + 28, sip, strlen(sip));
        k += 28 + strlen(sip);
    }
    assert_int_equal(seg(&e, 0, 1, SL_TCP_SYN, NULL, 0), SL_FRAME_OTHER);
    assert_int_equal(seg(&e, 0, 2, SL_TCP_ACK, buf, k), SL_FRAME_STREAM);
    while (sl_tcp_message(e.t, &m) == 1) {
        n++;
        assert_int_equal(m.hep_version, 2);
        assert_int_equal(m.hep_agent_id, 2002);
        assert_int_equal(m.src.ip[3], 1);
        assert_int_equal(m.len, strlen(n == 1 ? INVITE : OK200));
        assert_memory_equal(m.data, n == 1 ? INVITE : OK200, m.len);
    }
    assert_int_equal(n, 2);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    sl_tcp_free(e.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_in_order),
        cmocka_unit_test(test_tcp_one_message_over_three_segments),
        cmocka_unit_test(test_tcp_two_messages_in_one_segment_and_keepalives),
        cmocka_unit_test(test_tcp_out_of_order),
        cmocka_unit_test(test_tcp_retransmission_and_overlap),
        cmocka_unit_test(test_tcp_gap_resyncs),
        cmocka_unit_test(test_tcp_gap_at_fin),
        cmocka_unit_test(test_tcp_sequence_wraps),
        cmocka_unit_test(test_tcp_no_syn_resyncs_at_start_line),
        cmocka_unit_test(test_tcp_missing_content_length),
        cmocka_unit_test(test_tcp_fin_and_rst_close),
        cmocka_unit_test(test_tcp_tls_not_decoded),
        cmocka_unit_test(test_tcp_tls_reported_once),
        cmocka_unit_test(test_tcp_caps),
        cmocka_unit_test(test_tcp_idle_timeout),
        cmocka_unit_test(test_tcp_through_capture),
        cmocka_unit_test(test_ws_frame_parse),
        cmocka_unit_test(test_ws_stream),
        cmocka_unit_test(test_ws_bad_frames),
        cmocka_unit_test(test_tcp_hep3_stream),
        cmocka_unit_test(test_tcp_hep3_resync),
        cmocka_unit_test(test_tcp_hep3_compressed),
        cmocka_unit_test(test_tcp_hep2_stream),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
