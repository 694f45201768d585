/*
 * test_pcapng.c: broken capture files read through the capture stage
 * (lib/capture/pcapng.c, the pcapng guard, and lib/capture/pcap.c): pcapng
 * blocks and options siplint does not read, damaged blocks skipped to the
 * next valid one (of every kind, and one byte damaged at every offset of a
 * file), byte order and sections, time going backwards, pcap timestamps
 * after 2038 and a pcap record header libpcap cannot read.
 */
#include "test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "capture/capture.h"

/* ---- building files ------------------------------------------------------ */

struct buf {
    uint8_t b[8192];
    size_t n;
    bool big; /* pcapng byte order */
};

static void put8(struct buf *p, unsigned v)
{
    assert_true(p->n < sizeof(p->b));
    p->b[p->n++] = (uint8_t)v;
}

static void put16(struct buf *p, unsigned v)
{
    if (p->big) {
        put8(p, (v >> 8) & 0xff);
        put8(p, v & 0xff);
    } else {
        put8(p, v & 0xff);
        put8(p, (v >> 8) & 0xff);
    }
}

static void put32(struct buf *p, uint32_t v)
{
    if (p->big) {
        put16(p, v >> 16);
        put16(p, v & 0xffff);
    } else {
        put16(p, v & 0xffff);
        put16(p, v >> 16);
    }
}

static void put_bytes(struct buf *p, const void *src, size_t len)
{
    assert_true(len <= sizeof(p->b) - p->n);
    memcpy(p->b + p->n, src, len);
    p->n += len;
}

static void pad4(struct buf *p)
{
    while (p->n % 4 != 0)
        put8(p, 0);
}

static void set32(struct buf *p, size_t off, uint32_t v)
{
    struct buf t = { .n = 0, .big = p->big };

    put32(&t, v);
    memcpy(p->b + off, t.b, 4);
}

static const char sip[] = "OPTIONS sip:a@b SIP/2.0\r\n\r\n";
#define SIP_LEN   (sizeof(sip) - 1)
#define FRAME_LEN (14 + 20 + 8 + SIP_LEN)

/* An Ethernet/IPv4/UDP frame with `sip`; its UDP source port is 5000 + k. */
static void frame(uint8_t *f, unsigned k)
{
    static const uint8_t head[] = { 0, 1,  2,  3,    4,    5,    6, 7, 8,
                                    9, 10, 11, 0x08, 0x00, 0x45, 0, 0, 20 + 8 + SIP_LEN,
                                    0, 0,  0,  0,    64,   17,   0, 0, 192,
                                    0, 2,  1,  198,  51,   100,  7 };

    memcpy(f, head, sizeof(head));
    f[34] = (uint8_t)((5000 + k) >> 8);
    f[35] = (uint8_t)((5000 + k) & 0xff);
    f[36] = 5060 >> 8;
    f[37] = 5060 & 0xff;
    f[38] = 0;
    f[39] = 8 + SIP_LEN;
    f[40] = f[41] = 0;
    memcpy(f + 42, sip, SIP_LEN);
}

/* A block: type, total length, body (padded), total length; returns its offset. */
static size_t block(struct buf *p, uint32_t type, const struct buf *body)
{
    size_t at = p->n;
    uint32_t len = (uint32_t)(12 + (body->n + 3) / 4 * 4);

    put32(p, type);
    put32(p, len);
    put_bytes(p, body->b, body->n);
    pad4(p);
    put32(p, len);
    return at;
}

static void option(struct buf *body, unsigned code, const char *value)
{
    put16(body, code);
    put16(body, (unsigned)strlen(value));
    put_bytes(body, value, strlen(value));
    pad4(body);
}

static size_t shb(struct buf *p, const char *unknown_opt)
{
    struct buf body = { .n = 0, .big = p->big };

    put32(&body, 0x1A2B3C4D);
    put16(&body, 1);
    put16(&body, 0);
    put32(&body, 0xffffffff);
    put32(&body, 0xffffffff);
    if (unknown_opt != NULL) {
        option(&body, 4, "test_pcapng");
        option(&body, 0x7777, unknown_opt);
        put32(&body, 0);
    }
    return block(p, 0x0A0D0D0A, &body);
}

static size_t idb(struct buf *p)
{
    struct buf body = { .n = 0, .big = p->big };

    put16(&body, 1); /* Ethernet */
    put16(&body, 0);
    put32(&body, 0);
    return block(p, 1, &body);
}

/* An EPB on interface ifc at time sec (microseconds: the default
 * resolution) with frame k; options: an unknown one when asked. */
static size_t epb(struct buf *p, uint32_t ifc, uint64_t sec, unsigned k, bool unknown_opt)
{
    struct buf body = { .n = 0, .big = p->big };
    uint8_t f[FRAME_LEN];
    uint64_t ts = sec * 1000000;

    frame(f, k);
    put32(&body, ifc);
    put32(&body, (uint32_t)(ts >> 32));
    put32(&body, (uint32_t)ts);
    put32(&body, FRAME_LEN);
    put32(&body, FRAME_LEN);
    put_bytes(&body, f, FRAME_LEN);
    pad4(&body);
    if (unknown_opt) {
        option(&body, 2, "\x01\x00\x00\x00"); /* epb_flags: known */
        option(&body, 0x6666, "?");
        put32(&body, 0);
    }
    return block(p, 6, &body);
}

static size_t other_block(struct buf *p, uint32_t type, const char *text)
{
    struct buf body = { .n = 0, .big = p->big };

    put_bytes(&body, text, strlen(text));
    return block(p, type, &body);
}

/* A Name Resolution Block with its end record only. */
static size_t nrb(struct buf *p)
{
    struct buf body = { .n = 0, .big = p->big };

    put32(&body, 0);
    return block(p, 4, &body);
}

/* An Interface Statistics Block of interface 0, no options. */
static size_t isb(struct buf *p)
{
    struct buf body = { .n = 0, .big = p->big };

    put32(&body, 0);
    put32(&body, 0);
    put32(&body, 0);
    return block(p, 5, &body);
}

static size_t custom(struct buf *p, uint32_t type)
{
    struct buf body = { .n = 0, .big = p->big };

    put32(&body, 32473);
    put_bytes(&body, "custom", 6);
    return block(p, type, &body);
}

/* ---- reading them back -------------------------------------------------- */

struct got {
    size_t n_frames;
    uint64_t number[64];
    enum sl_frame_kind kind[64];
    uint16_t port[64]; /* UDP source port of a datagram, 0 otherwise */
    int64_t ts_us[64];
    size_t n_notes;
    struct sl_capture_note notes[32];
    int end; /* 0, or what sl_capture_next returned last */
    char end_msg[512];
};

/* Reads the whole file; open must succeed. */
static void read_all(const struct buf *file, struct got *g)
{
    struct sl_capture *c = NULL;
    struct sl_frame f;
    struct sl_err err;
    int rc;

    memset(g, 0, sizeof(*g));
    if (sl_capture_open_mem(&c, file->b, file->n, &err) != SL_OK)
        fail_msg("open: %s", err.msg);
    for (;;) {
        struct sl_capture_note n;

        rc = sl_capture_next(c, &f, &err);
        if (rc == 1) {
            assert_true(g->n_frames < 64);
            g->number[g->n_frames] = f.number;
            g->kind[g->n_frames] = f.kind;
            g->port[g->n_frames] = f.kind == SL_FRAME_DATAGRAM ? f.src.port : 0;
            g->ts_us[g->n_frames] = f.ts_us;
            g->n_frames++;
        }
        while (sl_capture_note(c, &n) == 1) {
            assert_true(g->n_notes < 32);
            g->notes[g->n_notes++] = n;
        }
        if (rc != 1) {
            g->end = rc;
            snprintf(g->end_msg, sizeof(g->end_msg), "%s", rc < 0 ? err.msg : "");
            break;
        }
    }
    assert_int_equal(sl_capture_next(c, &f, &err), 0);
    sl_capture_close(c);
}

/* The note with this rule whose text contains `part`; fails without one. */
static const struct sl_capture_note *note(const struct got *g, const char *rule, const char *part)
{
    size_t i;

    for (i = 0; i < g->n_notes; i++)
        if (strcmp(g->notes[i].rule, rule) == 0 && strstr(g->notes[i].text, part) != NULL)
            return &g->notes[i];
    for (i = 0; i < g->n_notes; i++)
        print_message("note %s frame %llu: %s\n", g->notes[i].rule,
                      (unsigned long long)g->notes[i].frame, g->notes[i].text);
    fail_msg("no %s note with '%s'", rule, part);
    return NULL;
}

static size_t count_notes(const struct got *g, const char *rule)
{
    size_t i, n = 0;

    for (i = 0; i < g->n_notes; i++)
        n += strcmp(g->notes[i].rule, rule) == 0;
    return n;
}

/* ---- pcapng: what is not read ------------------------------------------- */

static void test_odd_blocks_skipped_with_notes(void **state)
{
    struct buf file = { .n = 0 };
    size_t at_dsb, at_unknown;
    struct got g;

    (void)state;
    shb(&file, "x");
    idb(&file);
    epb(&file, 0, 100, 1, true);
    epb(&file, 0, 101, 2, false);
    custom(&file, 0x00000BAD);
    custom(&file, 0x40000BAD);
    at_dsb = other_block(&file, 0x0000000A, "TLSK....");
    at_unknown = other_block(&file, 0x7F001234, "?");
    nrb(&file);
    epb(&file, 0, 102, 3, false);
    other_block(&file, 0x7F001234, "again");
    isb(&file);
    read_all(&file, &g);

    /* the packets and, as Wireshark numbers them, the custom blocks */
    assert_int_equal(g.end, 0);
    assert_int_equal(g.n_frames, 5);
    assert_int_equal(g.number[0], 1);
    assert_int_equal(g.port[0], 5001);
    assert_int_equal(g.port[1], 5002);
    assert_int_equal(g.kind[2], SL_FRAME_OTHER);
    assert_int_equal(g.kind[3], SL_FRAME_OTHER);
    assert_int_equal(g.number[3], 4);
    assert_int_equal(g.ts_us[3], INT64_C(101000000)); /* the time of the frame before */
    assert_int_equal(g.number[4], 5);
    assert_int_equal(g.port[4], 5003);

    /* told once each, at the end, anchored at a frame */
    assert_int_equal(count_notes(&g, "SIP-CAP-009"), 4);
    assert_int_equal(count_notes(&g, "SIP-CAP-008"), 0);
    assert_int_equal(note(&g, "SIP-CAP-009", "2 pcapng custom blocks skipped")->frame, 3);
    {
        char want[256];

        snprintf(want, sizeof(want),
                 "type 0x0000000a (Decryption Secrets Block: TLS keys, not "
                 "used) skipped: not a type this version reads (the first at "
                 "byte %zu, after this frame)",
                 at_dsb);
        assert_int_equal(note(&g, "SIP-CAP-009", want)->frame, 4);
        snprintf(want, sizeof(want),
                 "2 pcapng blocks of type 0x7f001234 skipped: not a type this "
                 "version reads (the first at byte %zu",
                 at_unknown);
        assert_int_equal(note(&g, "SIP-CAP-009", want)->frame, 4);
    }
    assert_int_equal(note(&g, "SIP-CAP-009",
                          "2 pcapng options of a code not defined for its block ignored (the "
                          "first: code 30583 in the block of type 0x0a0d0d0a at byte 0, before "
                          "the first frame)")
                             ->frame,
                     0);
}

/* A big-endian file with two sections: interface numbers restart in each. */
static void test_big_endian_and_sections(void **state)
{
    struct buf file = { .n = 0, .big = true };
    struct got g;

    (void)state;
    shb(&file, NULL);
    idb(&file);
    idb(&file);
    epb(&file, 1, 100, 1, true);
    /* (libpcap 1.10 refuses a section in another byte order than the first) */
    shb(&file, NULL);
    idb(&file);
    epb(&file, 0, 101, 2, false);
    epb(&file, 1, 102, 3, false); /* interface 1 of this section is not described */
    epb(&file, 0, 103, 4, false);
    read_all(&file, &g);
    assert_int_equal(g.end, 0);
    assert_int_equal(g.n_frames, 3);
    assert_int_equal(g.port[0], 5001);
    assert_int_equal(g.port[1], 5002);
    assert_int_equal(g.port[2], 5004);
    assert_int_equal(note(&g, "SIP-CAP-008", "(it names interface 1 of 1 described)")->frame, 3);
    /* the unknown option of the big-endian EPB is read in its byte order */
    assert_int_equal(note(&g, "SIP-CAP-009", "code 26214 in the block of type 0x00000006")->frame,
                     1);
}

/* ---- pcapng: damage ----------------------------------------------------- */

/* The frames 1..5 at times 100..104; *at gets the offset of each EPB. */
static void five_frames(struct buf *file, size_t at[5])
{
    unsigned k;

    file->n = 0;
    shb(file, NULL);
    idb(file);
    for (k = 0; k < 5; k++)
        at[k] = epb(file, 0, 100 + k, k + 1, false);
}

/* Damage to the third EPB (frame 3) is skipped with a note; frames 1, 2, 4
 * and 5 are read, 4 and 5 numbered 3 and 4. */
static void expect_third_lost(const struct buf *file, const char *why)
{
    struct got g;
    const struct sl_capture_note *n;

    read_all(file, &g);
    if (g.n_frames != 4 || g.port[2] != 5004 || g.number[2] != 3 || g.port[3] != 5005)
        fail_msg("%s: %zu frames, third from port %u", why, g.n_frames, g.port[2]);
    assert_int_equal(g.end, 0);
    assert_int_equal(count_notes(&g, "SIP-CAP-008"), 1);
    n = note(&g, "SIP-CAP-008", why);
    assert_int_equal(n->frame, 3);
    assert_non_null(strstr(n->text, "bytes skipped to the next valid block, at byte"));
    assert_int_equal(n->ts_us, INT64_C(101000000)); /* the frame before */
}

static void test_damaged_blocks_skipped(void **state)
{
    struct buf file, junk;
    size_t at[5], len;

    (void)state;
    five_frames(&file, at);
    len = at[3] - at[2];

    set32(&file, at[2] + 4, 7);
    expect_third_lost(&file, "(its total length 7 is under the 32 bytes of its type)");
    five_frames(&file, at);
    set32(&file, at[2] + 4, (uint32_t)len + 2);
    expect_third_lost(&file, "is not a multiple of 4)");
    five_frames(&file, at);
    set32(&file, at[2] + 4, 0x7ffffff0);
    expect_third_lost(&file, "(its total length 2147483632 is over the 16777216-byte maximum)");
    five_frames(&file, at);
    set32(&file, at[2] + 4, (uint32_t)len + 8); /* plausible, but the trailer is elsewhere */
    expect_third_lost(&file, "differs from the");
    five_frames(&file, at);
    set32(&file, at[3] - 4, 12);
    expect_third_lost(&file, "differs from the 12 at its end)");
    five_frames(&file, at);
    set32(&file, at[2] + 8, 9);
    expect_third_lost(&file, "(it names interface 9 of 1 described)");
    five_frames(&file, at);
    set32(&file, at[2] + 20, 5000);
    expect_third_lost(&file, "(its 5000 captured bytes do not fit in its");

    /* junk between blocks (any length): skipped to the next block, nothing lost */
    for (len = 1; len <= 9; len++) {
        struct got g;

        five_frames(&file, at);
        junk.n = 0;
        put_bytes(&junk, file.b + at[2], file.n - at[2]);
        file.n = at[2];
        memset(file.b + file.n, 0xA5, len);
        file.n += len;
        put_bytes(&file, junk.b, junk.n);
        read_all(&file, &g);
        assert_int_equal(g.n_frames, 5);
        assert_int_equal(count_notes(&g, "SIP-CAP-008"), 1);
        assert_int_equal(note(&g, "SIP-CAP-008", "bytes skipped to the next valid block")->frame,
                         3);
    }

    /* the last block damaged: nothing valid follows */
    {
        struct got g;

        five_frames(&file, at);
        set32(&file, at[4] + 4, 8);
        read_all(&file, &g);
        assert_int_equal(g.n_frames, 4);
        assert_int_equal(g.end, 0);
        assert_int_equal(note(&g, "SIP-CAP-008", "and no valid block follows: the last")->frame, 4);
    }
}

/* A length that runs past the end of the file is a cut (SIP-CAP-001), unless a
 * whole valid block starts inside: then it was damage. */
static void test_cut_or_damage_at_the_end(void **state)
{
    struct buf file;
    size_t at[5];
    struct got g;

    (void)state;
    five_frames(&file, at);
    file.n -= 10; /* cut inside frame 5 */
    read_all(&file, &g);
    assert_int_equal(g.n_frames, 4);
    assert_int_equal(g.end, SL_ETRUNC);
    assert_non_null(strstr(g.end_msg, "capture ends in the middle of frame 5 ("));
    assert_int_equal(count_notes(&g, "SIP-CAP-008"), 0);

    five_frames(&file, at);
    set32(&file, at[3] + 4, 4000); /* frame 4 claims the rest of the file and more */
    read_all(&file, &g);
    assert_int_equal(g.n_frames, 4);
    assert_int_equal(g.end, 0);
    assert_int_equal(g.port[3], 5005);
    assert_int_equal(
            note(&g, "SIP-CAP-008", "its total length 4000 runs past the end of the file")->frame,
            4);
}

/* One byte damaged at every offset after the IDB: never a crash (the
 * sanitizer build runs this too), at most the frame whose block it hit is
 * lost, and a lost frame is always told: a note, or, when the last block's
 * length grows past the end of the file, the cut (SIP-CAP-001). */
static void test_one_byte_damaged_everywhere(void **state)
{
    struct buf file;
    size_t at[5], off;

    (void)state;
    five_frames(&file, at);
    for (off = at[0]; off < file.n; off++) {
        struct buf bad = file;
        struct got g;
        size_t i, told;

        bad.b[off] ^= 0xff;
        read_all(&bad, &g);
        told = count_notes(&g, "SIP-CAP-008") + count_notes(&g, "SIP-CAP-009");
        if (g.n_frames < 4 || (g.n_frames < 5 && told == 0 && g.end != SL_ETRUNC) ||
            (g.end != 0 && (g.end != SL_ETRUNC || off < at[4] + 4 || off >= at[4] + 8)))
            fail_msg("byte %zu damaged: %zu frames, %zu notes, end %d (%s)", off, g.n_frames,
                     g.n_notes, g.end, g.end_msg);
        for (i = 0; i < g.n_frames; i++)
            assert_int_equal(g.number[i], i + 1);
    }
}

/* Why a file that does not start with a valid SHB is refused. */
static void test_first_block_refused(void **state)
{
    struct buf file = { .n = 0 };
    struct sl_capture *c = NULL;
    struct sl_err err;
    size_t at[5];

    (void)state;
    five_frames(&file, at);
    set32(&file, 8, 0x01020304);
    assert_int_equal(sl_capture_open_mem(&c, file.b, file.n, &err), SL_EINPUT);
    assert_string_equal(err.msg, "not a pcap or pcapng file (the Section Header Block's byte-order "
                                 "magic 0x01020304 is not 0x1A2B3C4D in either byte order)");
    five_frames(&file, at);
    set32(&file, 4, 30);
    assert_int_equal(sl_capture_open_mem(&c, file.b, file.n, &err), SL_EINPUT);
    assert_string_equal(err.msg, "not a pcap or pcapng file (the Section Header Block is invalid: "
                                 "its total length 30 is not a multiple of 4)");
    assert_int_equal(sl_capture_open_mem(&c, file.b, 5, &err), SL_EINPUT);
    assert_string_equal(err.msg, "not a pcap or pcapng file (the file is shorter than a pcapng "
                                 "block header (5 of 12 bytes))");
    assert_null(c);
}

/* ---- time, and pcap records -------------------------------------------- */

/* A little-endian pcap file of frames at the given seconds (and µs). */
static void pcap_build_us(struct buf *file, const uint32_t *sec, const uint32_t *usec, size_t n);

static void pcap_build(struct buf *file, const uint32_t *sec, size_t n)
{
    pcap_build_us(file, sec, NULL, n);
}

/* The same with each record's microseconds (NULL: 250000 for all). */
static void pcap_build_us(struct buf *file, const uint32_t *sec, const uint32_t *usec, size_t n)
{
    uint8_t f[FRAME_LEN];
    size_t i;

    file->n = 0;
    file->big = false;
    put32(file, 0xa1b2c3d4);
    put16(file, 2);
    put16(file, 4);
    put32(file, 0);
    put32(file, 0);
    put32(file, 65535);
    put32(file, 1);
    for (i = 0; i < n; i++) {
        frame(f, (unsigned)i + 1);
        put32(file, sec[i]);
        put32(file, usec != NULL ? usec[i] : 250000);
        put32(file, FRAME_LEN);
        put32(file, FRAME_LEN);
        put_bytes(file, f, FRAME_LEN);
    }
}

static void test_time_backwards_told_once(void **state)
{
    static const uint32_t sec[] = { 10, 5, 20, 1, 30, 30 };
    struct buf file;
    struct got g;
    size_t i;

    (void)state;
    pcap_build(&file, sec, 6);
    read_all(&file, &g);
    assert_int_equal(g.n_frames, 6);
    for (i = 0; i < 6; i++) { /* file order, each frame its own time */
        assert_int_equal(g.port[i], 5001 + i);
        assert_int_equal(g.ts_us[i], (int64_t)sec[i] * 1000000 + 250000);
    }
    assert_int_equal(g.n_notes, 1);
    assert_string_equal(g.notes[0].rule, "SIP-CAP-010");
    assert_int_equal(g.notes[0].frame, 2);
    assert_int_equal(g.notes[0].ts_us, INT64_C(5250000));
    assert_string_equal(g.notes[0].text,
                        "time goes back 5.000000 s from the frame before; 2 frames in all go back "
                        "in time, the most by 19.000000 s (frame 4); messages are analysed in file "
                        "order");

    pcap_build(&file, sec, 2);
    read_all(&file, &g);
    assert_string_equal(g.notes[0].text, "time goes back 5.000000 s from the frame before; "
                                         "messages are analysed in file order");
    pcap_build(&file, sec + 4, 2); /* equal times do not go back */
    read_all(&file, &g);
    assert_int_equal(g.n_notes, 0);
    {
        /* a capture on several CPUs stamps packets microseconds out of order
         * (8 us, seen in a tcpdump on lo): not told; 1.5 ms is */
        static const uint32_t s3[] = { 7, 7, 7 }, us[] = { 500008, 500000, 498500 };

        pcap_build_us(&file, s3, us, 2);
        read_all(&file, &g);
        assert_int_equal(g.n_notes, 0);
        pcap_build_us(&file, s3, us, 3);
        read_all(&file, &g);
        assert_int_equal(g.n_notes, 1);
        assert_int_equal(g.notes[0].frame, 3);
    }
}

/* A pcap record's seconds are unsigned: 2072 is not 1936. */
static void test_pcap_time_after_2038(void **state)
{
    static const uint32_t sec[] = { 0x7fffffffu, 0xC0000000u };
    struct buf file;
    struct got g;

    (void)state;
    pcap_build(&file, sec, 2);
    read_all(&file, &g);
    assert_int_equal(g.ts_us[0], INT64_C(0x7fffffff) * 1000000 + 250000);
    assert_int_equal(g.ts_us[1], INT64_C(0xC0000000) * 1000000 + 250000);
    assert_int_equal(g.n_notes, 0);
}

/* A record libpcap cannot read is damage, not a cut; reading stops. */
static void test_pcap_damaged_record(void **state)
{
    static const uint32_t sec[] = { 1, 2, 3 };
    struct buf file;
    struct got g;

    (void)state;
    pcap_build(&file, sec, 3);
    set32(&file, 24 + 16 + FRAME_LEN + 8, 0xFFFFFF00);
    read_all(&file, &g);
    assert_int_equal(g.n_frames, 1);
    assert_int_equal(g.end, SL_EFORMAT);
    assert_string_equal(g.end_msg, "capture damaged at frame 2 (invalid packet capture length "
                                   "4294967040, bigger than snaplen of 65535): the rest of the "
                                   "file is not read");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_odd_blocks_skipped_with_notes),
        cmocka_unit_test(test_big_endian_and_sections),
        cmocka_unit_test(test_damaged_blocks_skipped),
        cmocka_unit_test(test_cut_or_damage_at_the_end),
        cmocka_unit_test(test_one_byte_damaged_everywhere),
        cmocka_unit_test(test_first_block_refused),
        cmocka_unit_test(test_time_backwards_told_once),
        cmocka_unit_test(test_pcap_time_after_2038),
        cmocka_unit_test(test_pcap_damaged_record),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
