/*
 * test_sctp.c: SIP over SCTP with user messages fragmented over several DATA
 * chunks (lib/capture/sctp.c): B/E flags, TSN order, per stream id,
 * duplicates, holes, the time-out, the limits.  Packets are IPv4/SCTP
 * (DLT_RAW) decoded through sl_frame_decode_stream() with a stream state, as
 * a capture does.
 */
#include "test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "capture/capture.h"
#include "capture/sctp.h"
#include "capture/tcp.h"

#define B 0x02
#define E 0x01
#define U 0x04

static const char INVITE[] = "INVITE sip:b@h SIP/2.0\r\n"
                             "Via: SIP/2.0/SCTP a;branch=z9hG4bK1\r\n"
                             "Content-Length: 4\r\n"
                             "\r\n"
                             "v=0\n";
static const char OK200[] = "SIP/2.0 200 OK\r\nl: 0\r\n\r\n";

struct chunk {
    uint8_t flags;
    uint32_t tsn;
    uint16_t sid, ssn;
    const void *p;
    size_t n;
};

struct env {
    struct sl_tcp *t;
    uint64_t frame;
    int64_t ts_us;
    struct sl_frame f;
    uint8_t pkt[70000];
};

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* One packet 10.0.0.1:5060 -> 10.0.0.2:5060 (dir 1: the other way) holding
 * the chunks; decoded at e->ts_us, which then moves on by 1 ms. */
static enum sl_frame_kind pkt(struct env *e, int dir, const struct chunk *c, size_t n)
{
    uint8_t *p = e->pkt;
    size_t k = 20 + 12, i;

    memset(p, 0, 32);
    for (i = 0; i < n; i++) {
        size_t clen = 16 + c[i].n;

        assert_true(k + clen + 3 < sizeof(e->pkt));
        p[k] = 0; /* DATA */
        p[k + 1] = c[i].flags;
        put16(p + k + 2, (unsigned)clen);
        put32(p + k + 4, c[i].tsn);
        put16(p + k + 8, c[i].sid);
        put16(p + k + 10, c[i].ssn);
        put32(p + k + 12, 0);
        memcpy(p + k + 16, c[i].p, c[i].n);
        k += clen;
        while (k % 4 != 0)
            p[k++] = 0;
    }
    p[0] = 0x45;
    put16(p + 2, (unsigned)k);
    p[8] = 64;
    p[9] = 132;
    p[12] = 10, p[15] = (uint8_t)(dir == 0 ? 1 : 2);
    p[16] = 10, p[19] = (uint8_t)(dir == 0 ? 2 : 1);
    put16(p + 20, 5060);
    put16(p + 22, 5060);
    memset(&e->f, 0, sizeof(e->f));
    e->f.number = ++e->frame;
    e->f.ts_us = e->ts_us;
    sl_frame_decode_stream(DLT_RAW, p, k, k, NULL, e->t, &e->f);
    sl_tcp_expire(e->t, e->ts_us, false);
    e->ts_us += 1000;
    return e->f.kind;
}

static enum sl_frame_kind one(struct env *e, uint8_t flags, uint32_t tsn, uint16_t sid,
                              const void *p, size_t n)
{
    struct chunk c = { flags, tsn, sid, 1, p, n };

    return pkt(e, 0, &c, 1);
}

static void env_init(struct env *e)
{
    memset(e, 0, sizeof(*e));
    e->ts_us = 1000000;
    assert_int_equal(sl_tcp_new(&e->t, NULL), SL_OK);
}

/* Reads every message; returns how many; copies the i-th (0-based) into out. */
static size_t msgs(struct env *e, size_t want_i, char *out, size_t cap, uint64_t *frame)
{
    struct sl_stream_msg m;
    size_t n = 0;

    while (sl_tcp_message(e->t, &m) == 1) {
        assert_int_equal(m.transport, SL_TP_SCTP);
        if (n == want_i && out != NULL) {
            size_t k = m.len < cap - 1 ? m.len : cap - 1;

            memcpy(out, m.data, k);
            out[k] = '\0';
            if (frame != NULL)
                *frame = m.frame;
        }
        n++;
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
            assert_int_equal(ev.transport, SL_TP_SCTP);
            if (text != NULL)
                snprintf(text, cap, "%s", ev.text);
        }
    }
    return n;
}

static void test_sctp_two_fragments(void **state)
{
    struct env e;
    char out[512];
    uint64_t fr = 0;
    size_t half = 20;

    (void)state;
    env_init(&e);
    assert_int_equal(one(&e, B, 100, 0, INVITE, half), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "SCTP fragment of a message");
    assert_int_equal(msgs(&e, 0, NULL, 0, NULL), 0);
    assert_int_equal(sl_sctp_held(sl_tcp_sctp(e.t)), 1);
    assert_int_equal(one(&e, E, 101, 0, INVITE + half, strlen(INVITE) - half), SL_FRAME_STREAM);
    assert_string_equal(e.f.reason, "SIP");
    assert_int_equal(msgs(&e, 0, out, sizeof(out), &fr), 1);
    assert_string_equal(out, INVITE);
    assert_int_equal(fr, 2);
    assert_int_equal(sl_sctp_held(sl_tcp_sctp(e.t)), 0);
    /* the last fragment again (a retransmission): dropped */
    assert_int_equal(one(&e, E, 101, 0, INVITE + half, strlen(INVITE) - half), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "SCTP retransmission");
    assert_int_equal(sl_sctp_held(sl_tcp_sctp(e.t)), 0);
    sl_tcp_expire(e.t, e.ts_us, true);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    sl_tcp_free(e.t);
}

static void test_sctp_out_of_order_and_bundled(void **state)
{
    struct env e;
    char out[512];
    struct chunk c[2];

    (void)state;
    env_init(&e);
    /* three fragments, last first, then the middle one twice */
    assert_int_equal(one(&e, E, 7, 3, INVITE + 30, strlen(INVITE) - 30), SL_FRAME_OTHER);
    assert_int_equal(one(&e, 0, 6, 3, INVITE + 10, 20), SL_FRAME_OTHER);
    assert_int_equal(one(&e, 0, 6, 3, INVITE + 10, 20), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "SCTP retransmission");
    /* the first fragment comes bundled after a whole message: both, in order */
    c[0] = (struct chunk){ B | E, 5, 1, 9, OK200, strlen(OK200) };
    c[1] = (struct chunk){ B, 5, 3, 1, INVITE, 10 };
    assert_int_equal(pkt(&e, 0, c, 2), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, 1, out, sizeof(out), NULL), 2);
    assert_string_equal(out, INVITE);
    sl_tcp_free(e.t);
}

static void test_sctp_per_stream_id(void **state)
{
    struct env e;
    char out[512];

    (void)state;
    env_init(&e);
    /* two messages on stream ids 0 and 1, their fragments interleaved */
    assert_int_equal(one(&e, B, 10, 0, INVITE, 15), SL_FRAME_OTHER);
    assert_int_equal(one(&e, B, 12, 1, OK200, 5), SL_FRAME_OTHER);
    assert_int_equal(one(&e, E, 13, 1, OK200 + 5, strlen(OK200) - 5), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, 0, out, sizeof(out), NULL), 1);
    assert_string_equal(out, OK200);
    /* the same TSN on another stream id is not a duplicate */
    assert_int_equal(one(&e, E, 11, 0, INVITE + 15, strlen(INVITE) - 15), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, 0, out, sizeof(out), NULL), 1);
    assert_string_equal(out, INVITE);
    /* TSN wrap-around */
    assert_int_equal(one(&e, B, 0xffffffffu, 2, OK200, 5), SL_FRAME_OTHER);
    assert_int_equal(one(&e, E, 0, 2, OK200 + 5, strlen(OK200) - 5), SL_FRAME_STREAM);
    assert_int_equal(msgs(&e, 0, out, sizeof(out), NULL), 1);
    assert_string_equal(out, OK200);
    /* a fragmented message that is not SIP */
    assert_int_equal(one(&e, B | U, 40, 4, "\x01\x02\x03", 3), SL_FRAME_OTHER);
    assert_int_equal(one(&e, E | U, 41, 4, "\x04", 1), SL_FRAME_OTHER);
    assert_string_equal(e.f.reason, "SCTP, not SIP");
    assert_int_equal(msgs(&e, 0, NULL, 0, NULL), 0);
    sl_tcp_free(e.t);
}

static void test_sctp_incomplete(void **state)
{
    struct env e;
    char text[400];

    (void)state;
    env_init(&e);
    /* a hole: TSN 21 never comes; given up at the end of the capture */
    assert_int_equal(one(&e, B, 20, 0, INVITE, 10), SL_FRAME_OTHER);
    assert_int_equal(one(&e, E, 22, 0, INVITE + 20, strlen(INVITE) - 20), SL_FRAME_OTHER);
    /* fragments of a message that is not SIP, on a stream without SIP: not reported */
    assert_int_equal(one(&e, B, 50, 7, "\x01\x02", 2), SL_FRAME_OTHER);
    sl_tcp_expire(e.t, e.ts_us, true);
    assert_int_equal(events(&e, "SIP-CAP-007", text, sizeof(text)), 1);
    assert_non_null(strstr(text, "SCTP stream 10.0.0.1:5060 -> 10.0.0.2:5060 (stream id 0): 2 "
                                 "fragments of a user message (TSN 20 to 22"));
    assert_non_null(strstr(text, "without the fragments between"));
    assert_int_equal(sl_sctp_held(sl_tcp_sctp(e.t)), 0);
    sl_tcp_free(e.t);
    /* the time-out: 30 s of capture time after the first fragment */
    env_init(&e);
    assert_int_equal(one(&e, B, 1, 0, INVITE, 10), SL_FRAME_OTHER);
    e.ts_us += 29 * (int64_t)1000000;
    assert_int_equal(one(&e, B | E, 9, 1, OK200, strlen(OK200)), SL_FRAME_DATAGRAM);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    e.ts_us += 2 * (int64_t)1000000;
    assert_int_equal(one(&e, B | E, 10, 1, OK200, strlen(OK200)), SL_FRAME_DATAGRAM);
    assert_int_equal(events(&e, "SIP-CAP-007", text, sizeof(text)), 1);
    assert_non_null(strstr(text, "waited more than 30 s without the last fragment (E)"));
    sl_tcp_free(e.t);
}

static void test_sctp_limits(void **state)
{
    static uint8_t big[65000];
    struct env e;
    char text[400];
    uint32_t i;

    (void)state;
    /* fragments in flight: the 4097th gives up those held longest */
    env_init(&e);
    for (i = 0; i < SL_SCTP_MAX_CHUNKS; i++)
        assert_int_equal(one(&e, i == 0 ? B : 0, 1000 + i, 0, INVITE, 8), SL_FRAME_OTHER);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    assert_int_equal(sl_sctp_held(sl_tcp_sctp(e.t)), SL_SCTP_MAX_CHUNKS);
    assert_int_equal(one(&e, 0, 900, 1, INVITE, 8), SL_FRAME_OTHER);
    assert_int_equal(sl_sctp_held(sl_tcp_sctp(e.t)), 1);
    assert_int_equal(events(&e, "SIP-CAP-006", text, sizeof(text)), 1);
    assert_non_null(strstr(text, "SCTP reassembly holds 4096 fragments"));
    sl_tcp_free(e.t);
    /* bytes in flight: 4 MiB */
    env_init(&e);
    memset(big, 'x', sizeof(big));
    for (i = 0; i < 64; i++)
        assert_int_equal(one(&e, 0, 10 + i, 0, big, sizeof(big)), SL_FRAME_OTHER);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    assert_int_equal(one(&e, 0, 100, 1, big, sizeof(big)), SL_FRAME_OTHER);
    assert_int_equal(events(&e, "SIP-CAP-006", NULL, 0), 1);
    assert_int_equal(sl_sctp_held(sl_tcp_sctp(e.t)), 1);
    sl_tcp_free(e.t);
    /* streams followed: 1024; one more gives up the one held longest */
    env_init(&e);
    for (i = 0; i < SL_SCTP_MAX_STREAMS; i++)
        assert_int_equal(one(&e, B, 5, (uint16_t)i, INVITE, 8), SL_FRAME_OTHER);
    assert_int_equal(events(&e, NULL, NULL, 0), 0);
    assert_int_equal(one(&e, B, 5, 5000, INVITE, 8), SL_FRAME_OTHER);
    assert_int_equal(events(&e, "SIP-CAP-006", text, sizeof(text)), 1);
    assert_non_null(strstr(text, "(stream id 0): more than 1024 SCTP streams"));
    assert_int_equal(sl_sctp_held(sl_tcp_sctp(e.t)), SL_SCTP_MAX_STREAMS);
    sl_tcp_free(e.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sctp_two_fragments),
        cmocka_unit_test(test_sctp_out_of_order_and_bundled),
        cmocka_unit_test(test_sctp_per_stream_id),
        cmocka_unit_test(test_sctp_incomplete),
        cmocka_unit_test(test_sctp_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
