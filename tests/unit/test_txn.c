/*
 * test_txn.c: lib/txn: SIP message sequences (literal SIP text parsed by
 * lib/sip) fed through the engine; a recording sink checks what comes out,
 * and that every object comes out exactly once.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/status.h"
#include "sip/msg.h"
#include "txn/txn.h"

#define MAX_MSGS 512
#define MAX_OBJS 4096
#define BASE_US  1700000000000000LL
#define MS       1000LL
#define SEC      1000000LL

/* Endpoints: A caller, B callee, P a proxy between them. */
#define A "10.0.0.1:5060"
#define B "10.0.0.2:5060"
#define P "10.0.0.9:5060"

#define VIA_A(br) "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK" br
#define VIA_B(br) "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK" br
#define VIA_P(br) "SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK" br

struct rtxn {
    struct sl_txn t; // strings not kept
    char method[16];
    char final_to_tag[32];
    int seen;
};

struct rdlg {
    struct sl_dialog d;
    char caller_tag[32], callee_tag[32];
    int seen;
};

struct rleg {
    struct sl_leg l;
    char from_tag[32], method[16], reason_hdr[128], final_reason[32];
    int seen;
};

struct rec {
    struct rtxn *txns;
    struct rdlg *dlgs;
    struct rleg *legs;
    struct sl_st_event *st;
    size_t n_txns, n_dlgs, n_legs, n_st;
    int fail_after; /* sink error after this many objects (0 = never) */
    int n_calls;
};

struct fx {
    struct sl_txn_engine *e;
    struct rec r;
    int64_t next_id;
    struct sl_msg_links links[MAX_MSGS];
    int last_rc;
    struct sl_err err;
    int64_t capture_id;
};

static void cp(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s != NULL ? s : "");
}

static int sink_txn(void *ctx, const struct sl_txn *t, struct sl_err *err)
{
    struct rec *r = ctx;
    size_t i;

    (void)err;
    for (i = 0; i < r->n_txns; i++)
        if (r->txns[i].t.id == t->id)
            fail_msg("transaction %lld reported twice", (long long)t->id);
    assert_true(r->n_txns < MAX_OBJS);
    r->txns[r->n_txns].t = *t;
    cp(r->txns[r->n_txns].method, 16, t->method);
    cp(r->txns[r->n_txns].final_to_tag, 32, t->final_to_tag);
    r->n_txns++;
    return SL_OK;
}

static int sink_dlg(void *ctx, const struct sl_dialog *d, struct sl_err *err)
{
    struct rec *r = ctx;
    size_t i;

    (void)err;
    for (i = 0; i < r->n_dlgs; i++)
        if (r->dlgs[i].d.id == d->id)
            fail_msg("dialog %lld reported twice", (long long)d->id);
    assert_true(r->n_dlgs < MAX_OBJS);
    r->dlgs[r->n_dlgs].d = *d;
    cp(r->dlgs[r->n_dlgs].caller_tag, 32, d->caller_tag);
    cp(r->dlgs[r->n_dlgs].callee_tag, 32, d->callee_tag);
    r->n_dlgs++;
    return SL_OK;
}

static int sink_leg(void *ctx, const struct sl_leg *l, struct sl_err *err)
{
    struct rec *r = ctx;
    struct rleg *o;
    size_t i;

    for (i = 0; i < r->n_legs; i++)
        if (r->legs[i].l.id == l->id)
            fail_msg("leg %lld reported twice", (long long)l->id);
    assert_true(r->n_legs < MAX_OBJS);
    o = &r->legs[r->n_legs++];
    o->l = *l;
    cp(o->from_tag, sizeof(o->from_tag), l->from_tag);
    cp(o->method, sizeof(o->method), l->method);
    cp(o->reason_hdr, sizeof(o->reason_hdr), l->reason_hdr);
    cp(o->final_reason, sizeof(o->final_reason), l->final_reason);
    if (r->fail_after > 0 && ++r->n_calls >= r->fail_after)
        return sl_fail(err, SL_ESQL, "test sink refuses");
    return SL_OK;
}

static int sink_st(void *ctx, const struct sl_st_event *e, struct sl_err *err)
{
    struct rec *r = ctx;

    (void)err;
    assert_true(r->n_st < MAX_OBJS);
    r->st[r->n_st++] = *e;
    return SL_OK;
}

static void fx_init_opts(struct fx *x, const struct sl_txn_opts *o)
{
    struct sl_txn_sink sink;
    struct sl_err err = { 0 };

    memset(x, 0, sizeof(*x));
    x->r.txns = calloc(MAX_OBJS, sizeof(*x->r.txns));
    x->r.dlgs = calloc(MAX_OBJS, sizeof(*x->r.dlgs));
    x->r.legs = calloc(MAX_OBJS, sizeof(*x->r.legs));
    x->r.st = calloc(MAX_OBJS, sizeof(*x->r.st));
    assert_non_null(x->r.txns);
    assert_non_null(x->r.dlgs);
    assert_non_null(x->r.legs);
    assert_non_null(x->r.st);
    memset(&sink, 0, sizeof(sink));
    sink.ctx = &x->r;
    sink.txn_done = sink_txn;
    sink.dialog_done = sink_dlg;
    sink.leg_done = sink_leg;
    sink.st_event = sink_st;
    assert_int_equal(sl_txn_engine_new(&x->e, o, &sink, &err), SL_OK);
    x->capture_id = 1;
}

static void fx_init(struct fx *x)
{
    fx_init_opts(x, NULL);
}

static void fx_finish(struct fx *x)
{
    struct sl_err err = { 0 };

    assert_int_equal(sl_txn_finish(x->e, &err), SL_OK);
}

static void fx_fini(struct fx *x)
{
    sl_txn_engine_free(x->e);
    free(x->r.txns);
    free(x->r.dlgs);
    free(x->r.legs);
    free(x->r.st);
}

static void parse_ep(struct sl_endpoint *ep, const char *s)
{
    unsigned a, b, c, d, port;

    assert_int_equal(sscanf(s, "%u.%u.%u.%u:%u", &a, &b, &c, &d, &port), 5);
    memset(ep, 0, sizeof(*ep));
    ep->family = 4;
    ep->ip[0] = (uint8_t)a;
    ep->ip[1] = (uint8_t)b;
    ep->ip[2] = (uint8_t)c;
    ep->ip[3] = (uint8_t)d;
    ep->port = (uint16_t)port;
}

/* Feeds the SIP text at t_ms from src to dst; returns its msg_id. */
static int64_t feed_text(struct fx *x, int64_t t_ms, const char *src, const char *dst,
                         const char *text)
{
    struct sl_msg m;
    struct sl_err err = { 0 };
    struct sl_txn_input in;
    int64_t id = ++x->next_id;

    assert_true(id < MAX_MSGS);
    if (sl_msg_parse(&m, (const uint8_t *)text, strlen(text), SL_MSG_MAX_LEN_DEFAULT, &err) !=
        SL_OK)
        fail_msg("test message does not parse: %s\n%s", err.msg, text);
    memset(&in, 0, sizeof(in));
    in.msg_id = id;
    in.capture_id = x->capture_id;
    in.frame = (uint64_t)id;
    in.ts_us = BASE_US + t_ms * MS;
    parse_ep(&in.src, src);
    parse_ep(&in.dst, dst);
    in.transport = SL_TP_UDP;
    in.msg = &m;
    in.raw = (const uint8_t *)text;
    in.raw_len = strlen(text);
    sl_err_clear(&x->err);
    x->last_rc = sl_txn_feed(x->e, &in, &x->links[id], &x->err);
    sl_msg_fini(&m);
    return id;
}

/* Builds one message: start line, Via value(s), tags, Call-ID, CSeq, extra
 * header rows ("Name: value\r\n"...). */
static int64_t feed(struct fx *x, int64_t t_ms, const char *src, const char *dst, const char *start,
                    const char *via, const char *ftag, const char *ttag, const char *cid,
                    const char *cseq, const char *extra)
{
    char buf[2048];
    char to[96];

    if (ttag != NULL)
        snprintf(to, sizeof(to), "<sip:to@example.com>;tag=%s", ttag);
    else
        snprintf(to, sizeof(to), "<sip:to@example.com>");
    snprintf(buf, sizeof(buf),
             "%s\r\nVia: %s\r\nFrom: <sip:from@example.com>;tag=%s\r\nTo: %s\r\n"
             "Call-ID: %s\r\nCSeq: %s\r\nMax-Forwards: 70\r\n%sContent-Length: 0\r\n\r\n",
             start, via, ftag, to, cid, cseq, extra != NULL ? extra : "");
    return feed_text(x, t_ms, src, dst, buf);
}

static const struct rtxn *txn_by_id(const struct fx *x, int64_t id)
{
    size_t i;

    for (i = 0; i < x->r.n_txns; i++)
        if (x->r.txns[i].t.id == id)
            return &x->r.txns[i];
    fail_msg("transaction %lld not reported", (long long)id);
    return NULL;
}

static const struct rdlg *dlg_by_id(const struct fx *x, int64_t id)
{
    size_t i;

    for (i = 0; i < x->r.n_dlgs; i++)
        if (x->r.dlgs[i].d.id == id)
            return &x->r.dlgs[i];
    fail_msg("dialog %lld not reported", (long long)id);
    return NULL;
}

static const struct rdlg *dlg_by_callee_tag(const struct fx *x, const char *tag)
{
    size_t i;

    for (i = 0; i < x->r.n_dlgs; i++)
        if (strcmp(x->r.dlgs[i].callee_tag, tag) == 0)
            return &x->r.dlgs[i];
    fail_msg("no dialog with callee tag %s", tag);
    return NULL;
}

static const struct rleg *leg_by_id(const struct fx *x, int64_t id)
{
    size_t i;

    for (i = 0; i < x->r.n_legs; i++)
        if (x->r.legs[i].l.id == id)
            return &x->r.legs[i];
    fail_msg("leg %lld not reported", (long long)id);
    return NULL;
}

static size_t count_kind(const struct fx *x, enum sl_txn_kind kind)
{
    size_t i, n = 0;

    for (i = 0; i < x->r.n_txns; i++)
        n += x->r.txns[i].t.kind == kind;
    return n;
}

/* Every message links to nothing retransmitted. */
static void assert_no_retrans(const struct fx *x)
{
    int64_t i;

    for (i = 1; i <= x->next_id; i++)
        if (x->links[i].is_retrans)
            fail_msg("message %lld flagged as retransmission", (long long)i);
}

/* ----------------------------------------------------- transactions -- */

static void test_txn_udp_retransmissions_are_flagged(void **state)
{
    struct fx x;
    int64_t inv, inv2, ok, ok2, ack, bye, bye2, bye_ok, t100, t180;
    const struct rtxn *ti, *tb;

    (void)state;
    fx_init(&x);
    inv = feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
               NULL);
    inv2 = feed(&x, 500, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
                NULL);
    t100 = feed(&x, 600, B, A, "SIP/2.0 100 Trying", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
                NULL);
    t180 = feed(&x, 700, B, A, "SIP/2.0 180 Ringing", VIA_A("i1"), "a", "b", "c1", "1 INVITE",
                NULL);
    ok = feed(&x, 1000, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "b", "c1", "1 INVITE", NULL);
    ok2 = feed(&x, 1500, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "b", "c1", "1 INVITE", NULL);
    ack = feed(&x, 1600, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("k1"), "a", "b", "c1", "1 ACK", NULL);
    bye = feed(&x, 5000, A, B, "BYE sip:bob@b SIP/2.0", VIA_A("y1"), "a", "b", "c1", "2 BYE", NULL);
    bye2 = feed(&x, 5500, A, B, "BYE sip:bob@b SIP/2.0", VIA_A("y1"), "a", "b", "c1", "2 BYE",
                NULL);
    bye_ok = feed(&x, 5600, B, A, "SIP/2.0 200 OK", VIA_A("y1"), "a", "b", "c1", "2 BYE", NULL);

    assert_false(x.links[inv].is_retrans);
    assert_true(x.links[inv2].is_retrans);
    assert_int_equal(x.links[inv2].retrans_of, inv);
    assert_int_equal(x.links[inv2].txn_id, x.links[inv].txn_id);
    assert_int_equal(x.links[inv2].side, SL_SIDE_CALLER);
    assert_false(x.links[ok].is_retrans);
    assert_true(x.links[ok2].is_retrans);
    assert_int_equal(x.links[ok2].retrans_of, ok);
    assert_int_equal(x.links[ok].side, SL_SIDE_CALLEE);
    assert_int_equal(x.links[ok].dialog_id, x.links[t180].dialog_id);
    assert_int_equal(x.links[t100].dialog_id, 0); // 100 without tag: no dialog
    assert_true(x.links[bye2].is_retrans);
    assert_int_equal(x.links[bye2].retrans_of, bye);
    assert_int_equal(x.links[bye].cseq_prev, 1); // after INVITE CSeq 1 of the caller
    assert_int_equal(x.links[bye2].cseq_prev, 1);
    assert_int_equal(x.links[bye_ok].txn_id, x.links[bye].txn_id);

    fx_finish(&x);
    assert_int_equal(x.r.n_txns, 3); // INVITE, ACK, BYE
    ti = txn_by_id(&x, x.links[inv].txn_id);
    assert_int_equal(ti->t.kind, SL_TXN_INVITE);
    assert_int_equal(ti->t.req_copies, 2);
    assert_int_equal(ti->t.final_status, 200);
    assert_string_equal(ti->final_to_tag, "b");
    assert_int_equal(ti->t.first_1xx_us, BASE_US + 600 * MS);
    assert_int_equal(ti->t.first_final_us, BASE_US + 1000 * MS);
    assert_string_equal(ti->t.end_reason, "final");
    assert_int_equal(ti->t.n_responses, 3); // 100, 180, 200 (its copy is not a new one)
    tb = txn_by_id(&x, x.links[bye].txn_id);
    assert_int_equal(tb->t.req_copies, 2);
    assert_true(tb->t.in_dialog);
    assert_int_equal(tb->t.uac_side, SL_SIDE_CALLER);
    assert_int_equal(txn_by_id(&x, x.links[ack].txn_id)->t.kind, SL_TXN_ACK2XX);
    assert_int_equal(x.r.n_dlgs, 1);
    assert_int_equal(x.r.dlgs[0].d.state, SL_DLG_TERMINATED);
    assert_string_equal(x.r.dlgs[0].d.term_cause, "bye");
    assert_int_equal(x.r.dlgs[0].d.bye_side, SL_SIDE_CALLER);
    assert_int_equal(x.r.dlgs[0].d.bye_msg_id, bye);
    assert_int_equal(x.r.n_legs, 1);
    assert_string_equal(x.r.legs[0].l.outcome, "answered");
    assert_string_equal(x.r.legs[0].l.end_how, "bye");
    assert_int_equal(x.r.legs[0].l.ended_by, SL_SIDE_CALLER);
    assert_int_equal(x.r.legs[0].l.answer_us, BASE_US + 1000 * MS);
    assert_int_equal(x.r.legs[0].l.end_us, BASE_US + 5600 * MS);
    assert_int_equal(x.r.legs[0].l.n_messages, 10);
    assert_int_equal(x.r.legs[0].l.n_dialogs, 1);
    fx_fini(&x);
}

static void test_txn_ack_for_2xx_is_its_own_request(void **state)
{
    struct fx x;
    int64_t inv, ack, ack2;
    const struct rtxn *ti, *ta;

    (void)state;
    fx_init(&x);
    inv = feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
               NULL);
    feed(&x, 100, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "b", "c1", "1 INVITE", NULL);
    ack = feed(&x, 200, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("k1"), "a", "b", "c1", "1 ACK", NULL);
    feed(&x, 600, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "b", "c1", "1 INVITE", NULL);
    ack2 = feed(&x, 700, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("k1"), "a", "b", "c1", "1 ACK", NULL);
    assert_int_not_equal(x.links[ack].txn_id, x.links[inv].txn_id);
    assert_true(x.links[ack2].is_retrans);
    assert_int_equal(x.links[ack2].retrans_of, ack);
    assert_int_equal(x.links[ack].dialog_id, x.links[inv + 1].dialog_id);
    assert_int_equal(x.links[ack].cseq_prev, -1); // ACK is not counted
    fx_finish(&x);
    ti = txn_by_id(&x, x.links[inv].txn_id);
    ta = txn_by_id(&x, x.links[ack].txn_id);
    assert_int_equal(ti->t.ack_msg_id, 0);
    assert_int_equal(ta->t.kind, SL_TXN_ACK2XX);
    assert_string_equal(ta->method, "ACK");
    assert_int_equal(ta->t.req_copies, 2);
    assert_null(ta->t.end_reason);
    fx_fini(&x);
}

static void test_txn_auth_resubmission_is_one_leg_one_dialog(void **state)
{
    struct fx x;
    int64_t inv1, r407, ack1, inv2, ok;
    const struct rtxn *t1;
    const struct rleg *l;

    (void)state;
    fx_init(&x);
    inv1 = feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
                NULL);
    r407 = feed(&x, 50, B, A, "SIP/2.0 407 Proxy Authentication Required", VIA_A("i1"), "a", "p7",
                "c1", "1 INVITE", "Proxy-Authenticate: Digest realm=\"x\", nonce=\"n\"\r\n");
    ack1 = feed(&x, 60, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("i1"), "a", "p7", "c1", "1 ACK", NULL);
    inv2 = feed(&x, 70, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i2"), "a", NULL, "c1", "2 INVITE",
                "Proxy-Authorization: Digest username=\"a\", realm=\"x\", nonce=\"n\", "
                "uri=\"sip:bob@b\", response=\"0123\"\r\n");
    feed(&x, 100, B, A, "SIP/2.0 180 Ringing", VIA_A("i2"), "a", "b", "c1", "2 INVITE", NULL);
    ok = feed(&x, 2000, B, A, "SIP/2.0 200 OK", VIA_A("i2"), "a", "b", "c1", "2 INVITE", NULL);
    feed(&x, 2100, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("k2"), "a", "b", "c1", "2 ACK", NULL);
    feed(&x, 9000, B, A, "BYE sip:alice@a SIP/2.0", VIA_B("y1"), "b", "a", "c1", "1 BYE",
         "Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n");
    feed(&x, 9100, A, B, "SIP/2.0 200 OK", VIA_B("y1"), "b", "a", "c1", "1 BYE", NULL);

    assert_int_equal(x.links[ack1].txn_id, x.links[inv1].txn_id); // folded (non-2xx)
    assert_int_equal(x.links[r407].dialog_id, 0);                 // G9
    assert_int_equal(x.links[inv2].leg_id, x.links[inv1].leg_id);
    assert_int_not_equal(x.links[inv2].txn_id, x.links[inv1].txn_id);
    fx_finish(&x);
    assert_int_equal(x.r.n_legs, 1);
    assert_int_equal(x.r.n_dlgs, 1);
    assert_int_equal(count_kind(&x, SL_TXN_INVITE), 2);
    t1 = txn_by_id(&x, x.links[inv1].txn_id);
    assert_int_equal(t1->t.final_status, 407);
    assert_int_equal(t1->t.ack_msg_id, ack1);
    assert_int_equal(t1->t.ack_us, BASE_US + 60 * MS);
    l = leg_by_id(&x, x.links[inv1].leg_id);
    assert_string_equal(l->l.outcome, "answered");
    assert_int_equal(l->l.final_status, 200);
    assert_int_equal(l->l.answer_us, BASE_US + 2000 * MS);
    assert_int_equal(l->l.ended_by, SL_SIDE_CALLEE);
    assert_string_equal(l->l.end_how, "bye");
    assert_int_equal(l->l.q850_cause, 16);
    assert_string_equal(l->reason_hdr, "Q.850;cause=16;text=\"Normal call clearing\"");
    assert_int_equal(x.r.dlgs[0].d.id, x.links[ok].dialog_id);
    assert_int_equal(x.r.dlgs[0].d.last_cseq[SL_SIDE_CALLER], 2);
    assert_int_equal(x.r.dlgs[0].d.last_cseq[SL_SIDE_CALLEE], 1);
    assert_int_equal(x.r.dlgs[0].d.bye_side, SL_SIDE_CALLEE);
    fx_fini(&x);
}

static void test_txn_failed_after_auth_reports_last_final(void **state)
{
    struct fx x;
    const struct rleg *l;

    (void)state;
    fx_init(&x);
    feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE", NULL);
    feed(&x, 50, B, A, "SIP/2.0 401 Unauthorized", VIA_A("i1"), "a", "u1", "c1", "1 INVITE", NULL);
    feed(&x, 60, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("i1"), "a", "u1", "c1", "1 ACK", NULL);
    feed(&x, 70, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i2"), "a", NULL, "c1", "2 INVITE", NULL);
    feed(&x, 900, B, A, "SIP/2.0 486 Busy Here", VIA_A("i2"), "a", "b", "c1", "2 INVITE",
         "Reason: Q.850;cause=17\r\n");
    feed(&x, 910, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("i2"), "a", "b", "c1", "2 ACK", NULL);
    fx_finish(&x);
    assert_int_equal(x.r.n_legs, 1);
    assert_int_equal(x.r.n_dlgs, 0);
    l = &x.r.legs[0];
    assert_string_equal(l->l.outcome, "failed");
    assert_int_equal(l->l.final_status, 486);
    assert_string_equal(l->final_reason, "Busy Here");
    assert_int_equal(l->l.q850_cause, 17);
    assert_int_equal(l->l.end_us, BASE_US + 900 * MS);
    assert_null(l->l.end_how);
    assert_int_equal(l->l.answer_us, -1);
    fx_fini(&x);
}

static void test_txn_cancel_linked_and_ack_folded(void **state)
{
    struct fx x;
    int64_t inv, cancel, c200, r487, ack, r180;
    const struct rtxn *ti, *tc;
    const struct rleg *l;

    (void)state;
    fx_init(&x);
    inv = feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
               NULL);
    feed(&x, 10, B, A, "SIP/2.0 100 Trying", VIA_A("i1"), "a", NULL, "c1", "1 INVITE", NULL);
    r180 = feed(&x, 20, B, A, "SIP/2.0 180 Ringing", VIA_A("i1"), "a", "b", "c1", "1 INVITE", NULL);
    cancel = feed(&x, 3000, A, B, "CANCEL sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1",
                  "1 CANCEL", "Reason: Q.850;cause=31;text=\"user gave up\"\r\n");
    c200 = feed(&x, 3010, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "b", "c1", "1 CANCEL", NULL);
    r487 = feed(&x, 3020, B, A, "SIP/2.0 487 Request Terminated", VIA_A("i1"), "a", "b", "c1",
                "1 INVITE", NULL);
    ack = feed(&x, 3030, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("i1"), "a", "b", "c1", "1 ACK", NULL);

    assert_int_not_equal(x.links[cancel].txn_id, x.links[inv].txn_id);
    assert_int_equal(x.links[c200].txn_id, x.links[cancel].txn_id);
    assert_int_equal(x.links[r487].txn_id, x.links[inv].txn_id);
    assert_int_equal(x.links[ack].txn_id, x.links[inv].txn_id);
    assert_int_equal(x.links[cancel].leg_id, x.links[inv].leg_id);
    assert_int_equal(x.links[r487].dialog_id, x.links[r180].dialog_id);
    assert_no_retrans(&x);
    fx_finish(&x);
    ti = txn_by_id(&x, x.links[inv].txn_id);
    tc = txn_by_id(&x, x.links[cancel].txn_id);
    assert_int_equal(tc->t.kind, SL_TXN_CANCEL);
    assert_int_equal(tc->t.cancels_txn_id, ti->t.id);
    assert_int_equal(ti->t.cancel_txn_id, tc->t.id);
    assert_int_equal(ti->t.ack_msg_id, ack);
    assert_int_equal(ti->t.final_status, 487);
    assert_int_equal(tc->t.final_status, 200);
    assert_int_equal(x.r.n_txns, 2);
    l = &x.r.legs[0];
    assert_string_equal(l->l.outcome, "cancelled");
    assert_int_equal(l->l.final_status, 487);
    assert_int_equal(l->l.q850_cause, 31);
    assert_int_equal(x.r.n_dlgs, 1); // the early dialog of the 180
    assert_int_equal(x.r.dlgs[0].d.state, SL_DLG_TERMINATED);
    assert_string_equal(x.r.dlgs[0].d.term_cause, "non2xx");
    assert_int_equal(x.r.dlgs[0].d.early_us, BASE_US + 20 * MS);
    fx_fini(&x);
}

static void test_txn_duplicate_datagram_is_one_observation(void **state)
{
    struct fx x;
    int64_t inv, dup, xdup, again;
    const struct rtxn *t;

    (void)state;
    fx_init(&x);
    inv = feed(&x, 0, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o1"), "a", NULL, "c1", "1 OPTIONS",
               NULL);
    dup = feed(&x, 1, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o1"), "a", NULL, "c1", "1 OPTIONS",
               NULL);
    x.capture_id = 2; // another capture point, a little later (clock skew)
    xdup = feed(&x, 120, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o1"), "a", NULL, "c1",
                "1 OPTIONS", NULL);
    x.capture_id = 1;
    again = feed(&x, 500, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o1"), "a", NULL, "c1",
                 "1 OPTIONS", NULL);
    assert_int_equal(x.links[dup].dup_of, inv);
    assert_false(x.links[dup].is_retrans);
    assert_int_equal(x.links[dup].txn_id, x.links[inv].txn_id);
    assert_int_equal(x.links[xdup].dup_of, inv);
    assert_int_equal(x.links[again].dup_of, 0); // T1 later: a retransmission
    assert_true(x.links[again].is_retrans);
    assert_int_equal(x.links[again].retrans_of, inv);
    fx_finish(&x);
    t = txn_by_id(&x, x.links[inv].txn_id);
    assert_int_equal(t->t.req_copies, 2);
    assert_string_equal(t->t.end_reason, "capture_end"); // ended 0.5 s after the start
    assert_int_equal(x.r.legs[0].l.n_messages, 2);       // duplicates are not counted
    assert_string_equal(x.r.legs[0].l.outcome, "unanswered");
    fx_fini(&x);
}

static void test_txn_stray_response(void **state)
{
    struct fx x;
    int64_t stray, inv, other;

    (void)state;
    fx_init(&x);
    stray = feed(&x, 0, B, A, "SIP/2.0 200 OK", VIA_A("zz"), "a", "b", "c9", "1 INVITE", NULL);
    assert_int_equal(x.last_rc, SL_OK);
    assert_int_equal(x.links[stray].txn_id, 0);
    assert_int_equal(x.links[stray].dialog_id, 0);
    assert_int_equal(x.links[stray].leg_id, 0);
    inv = feed(&x, 10, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
               NULL);
    /* same call, but a branch no request had: stray, still in the leg */
    other = feed(&x, 20, B, A, "SIP/2.0 180 Ringing", VIA_A("i9"), "a", "b", "c1", "1 INVITE",
                 NULL);
    assert_int_equal(x.links[other].txn_id, 0);
    assert_int_equal(x.links[other].leg_id, x.links[inv].leg_id);
    assert_int_equal(x.links[other].side, SL_SIDE_CALLEE);
    fx_finish(&x);
    assert_int_equal(x.r.n_txns, 1);
    assert_int_equal(x.r.n_dlgs, 0);
    assert_int_equal(x.r.legs[0].l.n_messages, 2);
    fx_finish(&x); // a second finish has nothing left
    fx_fini(&x);
}

static void test_txn_rfc2543_without_cookie(void **state)
{
    struct fx x;
    int64_t inv, inv2, r486, ack, other;
    const struct rtxn *t;

    (void)state;
    fx_init(&x);
    inv = feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", "SIP/2.0/UDP 10.0.0.1:5060;branch=old1",
               "a", NULL, "c1", "1 INVITE", NULL);
    inv2 = feed(&x, 500, A, B, "INVITE sip:bob@b SIP/2.0", "SIP/2.0/UDP 10.0.0.1:5060;branch=old1",
                "a", NULL, "c1", "1 INVITE", NULL);
    /* another Request-URI with the same Via: not the same transaction (A.3.5) */
    other = feed(&x, 600, A, B, "INVITE sip:carol@b SIP/2.0",
                 "SIP/2.0/UDP 10.0.0.1:5060;branch=old1", "a", NULL, "c1", "1 INVITE", NULL);
    r486 = feed(&x, 700, B, A, "SIP/2.0 486 Busy Here", "SIP/2.0/UDP 10.0.0.1:5060;branch=old1",
                "a", "b", "c1", "1 INVITE", NULL);
    ack = feed(&x, 710, A, B, "ACK sip:bob@b SIP/2.0", "SIP/2.0/UDP 10.0.0.1:5060;branch=old1", "a",
               "b", "c1", "1 ACK", NULL);
    assert_true(x.links[inv2].is_retrans);
    assert_int_equal(x.links[inv2].retrans_of, inv);
    assert_false(x.links[other].is_retrans);
    assert_int_not_equal(x.links[other].txn_id, x.links[inv].txn_id);
    assert_int_not_equal(x.links[r486].txn_id, 0);
    assert_int_equal(x.links[ack].txn_id, x.links[r486].txn_id);
    fx_finish(&x);
    t = txn_by_id(&x, x.links[inv].txn_id);
    assert_true(t->t.rfc2543);
    assert_int_equal(t->t.req_copies, 2);
    fx_fini(&x);
}

static void test_txn_rfc2543_without_branch_or_tags(void **state)
{
    struct fx x;
    int64_t inv, ok, ack, bye, bye_ok;
    char buf[512];

    (void)state;
    fx_init(&x);
    inv = feed_text(&x, 0, A, B,
                    "INVITE sip:bob@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060\r\n"
                    "From: <sip:a@x>\r\nTo: <sip:b@x>\r\nCall-ID: old@x\r\nCSeq: 1 INVITE\r\n"
                    "Content-Length: 0\r\n\r\n");
    ok = feed_text(&x, 100, B, A,
                   "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060\r\n"
                   "From: <sip:a@x>\r\nTo: <sip:b@x>\r\nCall-ID: old@x\r\nCSeq: 1 INVITE\r\n"
                   "Content-Length: 0\r\n\r\n");
    ack = feed_text(&x, 200, A, B,
                    "ACK sip:bob@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060\r\n"
                    "From: <sip:a@x>\r\nTo: <sip:b@x>\r\nCall-ID: old@x\r\nCSeq: 1 ACK\r\n"
                    "Content-Length: 0\r\n\r\n");
    snprintf(buf, sizeof(buf),
             "BYE sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060\r\n"
             "From: <sip:b@x>\r\nTo: <sip:a@x>\r\nCall-ID: old@x\r\nCSeq: 1 BYE\r\n"
             "Content-Length: 0\r\n\r\n");
    bye = feed_text(&x, 3000, B, A, buf);
    bye_ok = feed_text(&x, 3010, A, B,
                       "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.2:5060\r\n"
                       "From: <sip:b@x>\r\nTo: <sip:a@x>\r\nCall-ID: old@x\r\nCSeq: 1 BYE\r\n"
                       "Content-Length: 0\r\n\r\n");
    assert_int_equal(x.links[ok].txn_id, x.links[inv].txn_id);
    assert_int_not_equal(x.links[ok].dialog_id, 0); // RFC 3261 12.1.2: null tag
    assert_int_not_equal(x.links[ack].txn_id, x.links[inv].txn_id);
    assert_int_equal(x.links[ack].dialog_id, x.links[ok].dialog_id);
    assert_int_equal(x.links[bye].dialog_id, x.links[ok].dialog_id);
    assert_int_equal(x.links[bye].side, SL_SIDE_CALLEE); // told apart by address
    assert_int_equal(x.links[bye_ok].txn_id, x.links[bye].txn_id);
    fx_finish(&x);
    assert_int_equal(x.r.n_dlgs, 1);
    assert_string_equal(x.r.dlgs[0].d.term_cause, "bye");
    assert_string_equal(x.r.legs[0].l.outcome, "answered");
    assert_int_equal(x.r.legs[0].l.ended_by, SL_SIDE_CALLEE);
    fx_fini(&x);
}

/* ----------------------------------------------------------- dialogs -- */

static void test_txn_notify_counts_cseq_per_direction(void **state)
{
    struct fx x;
    int64_t sub, n1, n2, sub2, n3;
    const struct rdlg *d;

    (void)state;
    fx_init(&x);
    sub = feed(&x, 0, A, B, "SUBSCRIBE sip:bob@b SIP/2.0", VIA_A("s1"), "a", NULL, "c1",
               "1 SUBSCRIBE", "Event: presence\r\nExpires: 600\r\n");
    feed(&x, 10, B, A, "SIP/2.0 200 OK", VIA_A("s1"), "a", "b", "c1", "1 SUBSCRIBE",
         "Expires: 600\r\n");
    n1 = feed(&x, 20, B, A, "NOTIFY sip:alice@a SIP/2.0", VIA_B("n1"), "b", "a", "c1", "1 NOTIFY",
              "Event: presence\r\nSubscription-State: active\r\n");
    feed(&x, 30, A, B, "SIP/2.0 200 OK", VIA_B("n1"), "b", "a", "c1", "1 NOTIFY", NULL);
    n2 = feed(&x, 5000, B, A, "NOTIFY sip:alice@a SIP/2.0", VIA_B("n2"), "b", "a", "c1", "2 NOTIFY",
              "Event: presence\r\nSubscription-State: active\r\n");
    feed(&x, 5010, A, B, "SIP/2.0 200 OK", VIA_B("n2"), "b", "a", "c1", "2 NOTIFY", NULL);
    sub2 = feed(&x, 6000, A, B, "SUBSCRIBE sip:bob@b SIP/2.0", VIA_A("s2"), "a", "b", "c1",
                "2 SUBSCRIBE", "Event: presence\r\nExpires: 600\r\n");
    feed(&x, 6010, B, A, "SIP/2.0 200 OK", VIA_A("s2"), "a", "b", "c1", "2 SUBSCRIBE", NULL);
    n3 = feed(&x, 6020, B, A, "NOTIFY sip:alice@a SIP/2.0", VIA_B("n3"), "b", "a", "c1", "3 NOTIFY",
              "Event: presence\r\nSubscription-State: active\r\n");

    assert_int_equal(x.links[n1].side, SL_SIDE_CALLEE);
    assert_int_equal(x.links[n1].cseq_prev, -1); // the notifier's first request
    assert_int_equal(x.links[n2].cseq_prev, 1);
    assert_int_equal(x.links[sub2].side, SL_SIDE_CALLER);
    assert_int_equal(x.links[sub2].cseq_prev, 1); // the SUBSCRIBE's own space
    assert_int_equal(x.links[n3].cseq_prev, 2);
    assert_int_equal(x.links[n1].dialog_id, x.links[sub + 1].dialog_id);
    assert_int_equal(x.links[n1].leg_id, x.links[sub].leg_id);
    fx_finish(&x);
    assert_int_equal(x.r.n_dlgs, 1);
    assert_int_equal(x.r.n_legs, 1);
    d = &x.r.dlgs[0];
    assert_int_equal(d->d.last_cseq[SL_SIDE_CALLER], 2);
    assert_int_equal(d->d.last_cseq[SL_SIDE_CALLEE], 3);
    assert_false(d->d.partial);
    assert_string_equal(x.r.legs[0].method, "SUBSCRIBE");
    assert_string_equal(x.r.legs[0].l.outcome, "answered");
    assert_null(x.r.legs[0].l.end_how);
    fx_fini(&x);
}

static void test_txn_notify_before_2xx_creates_the_dialog(void **state)
{
    struct fx x;
    int64_t sub, n1, ok;

    (void)state;
    fx_init(&x);
    sub = feed(&x, 0, A, B, "SUBSCRIBE sip:bob@b SIP/2.0", VIA_A("s1"), "a", NULL, "c1",
               "7 SUBSCRIBE", "Event: presence\r\n");
    n1 = feed(&x, 10, B, A, "NOTIFY sip:alice@a SIP/2.0", VIA_B("n1"), "b", "a", "c1", "1 NOTIFY",
              "Event: presence\r\n");
    ok = feed(&x, 20, B, A, "SIP/2.0 200 OK", VIA_A("s1"), "a", "b", "c1", "7 SUBSCRIBE", NULL);
    assert_int_equal(x.links[n1].side, SL_SIDE_CALLEE);
    assert_int_equal(x.links[n1].leg_id, x.links[sub].leg_id);
    assert_int_equal(x.links[ok].dialog_id, x.links[n1].dialog_id);
    fx_finish(&x);
    assert_int_equal(x.r.n_dlgs, 1);
    assert_false(x.r.dlgs[0].d.partial);
    assert_string_equal(x.r.dlgs[0].caller_tag, "a");
    assert_int_equal(x.r.dlgs[0].d.last_cseq[SL_SIDE_CALLER], 7);
    fx_fini(&x);
}

static void test_txn_fork_two_early_one_confirmed(void **state)
{
    struct fx x;
    struct sl_err err = { 0 };
    int64_t inv, ra, rb, ok;
    const struct rdlg *da, *db;
    size_t before;

    (void)state;
    fx_init(&x);
    inv = feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
               NULL);
    ra = feed(&x, 100, B, A, "SIP/2.0 180 Ringing", VIA_A("i1"), "a", "fa", "c1", "1 INVITE", NULL);
    rb = feed(&x, 150, B, A, "SIP/2.0 180 Ringing", VIA_A("i1"), "a", "fb", "c1", "1 INVITE", NULL);
    ok = feed(&x, 2000, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "fa", "c1", "1 INVITE", NULL);
    feed(&x, 2100, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("k1"), "a", "fa", "c1", "1 ACK", NULL);
    assert_int_not_equal(x.links[ra].dialog_id, x.links[rb].dialog_id);
    assert_int_equal(x.links[ok].dialog_id, x.links[ra].dialog_id);
    assert_false(x.links[ok].is_retrans);
    /* 40 s later: the other fork is over (64*T1 after the 2xx) */
    before = x.r.n_txns;
    assert_int_equal(sl_txn_expire(x.e, BASE_US + 40000 * MS, &err), SL_OK);
    assert_int_equal(x.r.n_txns, before); // nothing fed yet at 40 s: the clock is at 2.1 s
    feed(&x, 40000, A, B, "BYE sip:bob@b SIP/2.0", VIA_A("y1"), "a", "fa", "c1", "2 BYE", NULL);
    assert_true(x.r.n_txns > before); // INVITE and ACK are done, before the BYE is matched
    feed(&x, 40010, B, A, "SIP/2.0 200 OK", VIA_A("y1"), "a", "fa", "c1", "2 BYE", NULL);
    assert_int_equal(sl_txn_expire(x.e, BASE_US + 40010 * MS, &err), SL_OK);
    fx_finish(&x);
    assert_int_equal(x.r.n_dlgs, 2);
    da = dlg_by_callee_tag(&x, "fa");
    db = dlg_by_callee_tag(&x, "fb");
    assert_int_equal(da->d.state, SL_DLG_TERMINATED);
    assert_string_equal(da->d.term_cause, "bye");
    assert_int_equal(da->d.confirmed_us, BASE_US + 2000 * MS);
    assert_int_equal(db->d.state, SL_DLG_TERMINATED);
    assert_string_equal(db->d.term_cause, "timeout");
    assert_int_equal(db->d.terminated_us, BASE_US + 2000 * MS + 32 * SEC);
    assert_int_equal(db->d.confirmed_us, -1);
    assert_int_equal(x.r.legs[0].l.n_dialogs, 2);
    assert_string_equal(x.r.legs[0].l.outcome, "answered");
    assert_int_equal(x.links[inv].leg_id, x.r.legs[0].l.id);
    fx_fini(&x);
}

static void test_txn_second_2xx_other_tag_is_a_fork(void **state)
{
    struct fx x;
    int64_t ok1, ok2;

    (void)state;
    fx_init(&x);
    feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE", NULL);
    ok1 = feed(&x, 100, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "f1", "c1", "1 INVITE", NULL);
    ok2 = feed(&x, 120, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "f2", "c1", "1 INVITE", NULL);
    assert_false(x.links[ok2].is_retrans);
    assert_int_not_equal(x.links[ok1].dialog_id, x.links[ok2].dialog_id);
    fx_finish(&x);
    assert_int_equal(x.r.n_dlgs, 2);
    assert_int_equal(dlg_by_callee_tag(&x, "f2")->d.state, SL_DLG_CONFIRMED);
    assert_string_equal(dlg_by_callee_tag(&x, "f2")->d.term_cause, "capture_end");
    assert_string_equal(x.r.legs[0].l.end_how, "capture-end");
    fx_fini(&x);
}

static void test_txn_in_dialog_request_without_invite_is_partial(void **state)
{
    struct fx x;
    int64_t info, ok, bye;
    const struct rdlg *d;
    const struct rleg *l;

    (void)state;
    fx_init(&x);
    info = feed(&x, 0, A, B, "INFO sip:bob@b SIP/2.0", VIA_A("f1"), "a", "b", "c1", "5 INFO", NULL);
    ok = feed(&x, 10, B, A, "SIP/2.0 200 OK", VIA_A("f1"), "a", "b", "c1", "5 INFO", NULL);
    bye = feed(&x, 2000, B, A, "BYE sip:alice@a SIP/2.0", VIA_B("y1"), "b", "a", "c1", "3 BYE",
               NULL);
    feed(&x, 2010, A, B, "SIP/2.0 200 OK", VIA_B("y1"), "b", "a", "c1", "3 BYE", NULL);
    assert_int_equal(x.links[info].side, SL_SIDE_CALLER);
    assert_int_equal(x.links[info].cseq_prev, -1);
    assert_int_equal(x.links[ok].side, SL_SIDE_CALLEE);
    assert_int_equal(x.links[bye].side, SL_SIDE_CALLEE);
    assert_int_equal(x.links[bye].dialog_id, x.links[info].dialog_id);
    assert_int_equal(x.links[bye].cseq_prev, -1);
    fx_finish(&x);
    assert_int_equal(x.r.n_dlgs, 1);
    d = &x.r.dlgs[0];
    assert_true(d->d.partial);
    assert_string_equal(d->caller_tag, "a");
    assert_int_equal(d->d.last_cseq[SL_SIDE_CALLER], 5);
    assert_int_equal(d->d.last_cseq[SL_SIDE_CALLEE], 3);
    assert_string_equal(d->d.term_cause, "bye");
    l = &x.r.legs[0];
    assert_string_equal(l->l.outcome, "partial");
    assert_string_equal(l->method, "INVITE");
    assert_int_equal(l->l.ended_by, SL_SIDE_CALLEE);
    fx_fini(&x);
}

static void test_txn_call_id_reused_with_new_from_tag_is_two_legs(void **state)
{
    struct fx x;
    int64_t i1, i2;

    (void)state;
    fx_init(&x);
    i1 = feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "t1", NULL, "c1", "1 INVITE",
              NULL);
    feed(&x, 100, B, A, "SIP/2.0 486 Busy Here", VIA_A("i1"), "t1", "b1", "c1", "1 INVITE", NULL);
    feed(&x, 110, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("i1"), "t1", "b1", "c1", "1 ACK", NULL);
    i2 = feed(&x, 60000, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i2"), "t2", NULL, "c1",
              "1 INVITE", NULL);
    feed(&x, 60100, B, A, "SIP/2.0 200 OK", VIA_A("i2"), "t2", "b2", "c1", "1 INVITE", NULL);
    assert_int_not_equal(x.links[i1].leg_id, x.links[i2].leg_id);
    fx_finish(&x);
    assert_int_equal(x.r.n_legs, 2);
    assert_string_equal(leg_by_id(&x, x.links[i1].leg_id)->l.outcome, "failed");
    assert_string_equal(leg_by_id(&x, x.links[i2].leg_id)->l.outcome, "answered");
    assert_string_equal(leg_by_id(&x, x.links[i2].leg_id)->from_tag, "t2");
    fx_fini(&x);
}

static void test_txn_proxy_hops_are_linked_not_retransmissions(void **state)
{
    struct fx x;
    int64_t inv1, inv2, ok2, ok1, ack1, ack2, bye2, bye1, tr;
    const char *v1 = VIA_A("i1");
    const char *v2 = VIA_P("p1") ", " VIA_A("i1");
    const struct rtxn *t1, *t2;
    const struct rdlg *d;

    (void)state;
    fx_init(&x);
    inv1 = feed(&x, 0, A, P, "INVITE sip:bob@b SIP/2.0", v1, "a", NULL, "c1", "1 INVITE", NULL);
    tr = feed(&x, 5, P, A, "SIP/2.0 100 Trying", v1, "a", NULL, "c1", "1 INVITE", NULL);
    inv2 = feed(&x, 10, P, B, "INVITE sip:bob@b SIP/2.0", v2, "a", NULL, "c1", "1 INVITE", NULL);
    feed(&x, 100, B, P, "SIP/2.0 180 Ringing", v2, "a", "b", "c1", "1 INVITE", NULL);
    feed(&x, 105, P, A, "SIP/2.0 180 Ringing", v1, "a", "b", "c1", "1 INVITE", NULL);
    ok2 = feed(&x, 1000, B, P, "SIP/2.0 200 OK", v2, "a", "b", "c1", "1 INVITE",
               "Session-Expires: 1800;refresher=uac\r\nRequire: timer\r\n");
    ok1 = feed(&x, 1005, P, A, "SIP/2.0 200 OK", v1, "a", "b", "c1", "1 INVITE",
               "Session-Expires: 1800;refresher=uac\r\nRequire: timer\r\n");
    ack1 = feed(&x, 1100, A, P, "ACK sip:bob@b SIP/2.0", VIA_A("k1"), "a", "b", "c1", "1 ACK",
                NULL);
    ack2 = feed(&x, 1105, P, B, "ACK sip:bob@b SIP/2.0", VIA_P("k2") ", " VIA_A("k1"), "a", "b",
                "c1", "1 ACK", NULL);
    bye2 = feed(&x, 8000, B, P, "BYE sip:alice@a SIP/2.0", VIA_B("y1"), "b", "a", "c1", "9 BYE",
                NULL);
    bye1 = feed(&x, 8005, P, A, "BYE sip:alice@a SIP/2.0", VIA_P("y2") ", " VIA_B("y1"), "b", "a",
                "c1", "9 BYE", NULL);
    feed(&x, 8100, A, P, "SIP/2.0 200 OK", VIA_P("y2") ", " VIA_B("y1"), "b", "a", "c1", "9 BYE",
         NULL);
    feed(&x, 8105, P, B, "SIP/2.0 200 OK", VIA_B("y1"), "b", "a", "c1", "9 BYE", NULL);

    assert_no_retrans(&x);
    assert_int_not_equal(x.links[inv1].txn_id, x.links[inv2].txn_id);
    assert_int_equal(x.links[tr].txn_id, x.links[inv1].txn_id);
    assert_int_equal(x.links[ok1].txn_id, x.links[inv1].txn_id);
    assert_int_equal(x.links[ok2].txn_id, x.links[inv2].txn_id);
    assert_int_equal(x.links[ok1].dialog_id, x.links[ok2].dialog_id);
    assert_int_equal(x.links[bye1].cseq_prev, -1);
    assert_int_equal(x.links[bye2].cseq_prev, -1);
    assert_int_equal(x.links[bye1].side, SL_SIDE_CALLEE);
    fx_finish(&x);
    t1 = txn_by_id(&x, x.links[inv1].txn_id);
    t2 = txn_by_id(&x, x.links[inv2].txn_id);
    assert_int_equal(t1->t.parent_txn_id, 0);
    assert_int_equal(t2->t.parent_txn_id, t1->t.id);
    assert_int_equal(t1->t.req_copies, 1);
    assert_int_equal(t2->t.req_copies, 1);
    assert_int_equal(txn_by_id(&x, x.links[ack2].txn_id)->t.parent_txn_id, x.links[ack1].txn_id);
    assert_int_equal(txn_by_id(&x, x.links[bye1].txn_id)->t.parent_txn_id, x.links[bye2].txn_id);
    assert_int_equal(x.r.n_dlgs, 1);
    assert_int_equal(x.r.n_legs, 1);
    d = dlg_by_id(&x, x.links[ok1].dialog_id);
    assert_int_equal(d->d.last_cseq[SL_SIDE_CALLEE], 9);
    assert_int_equal(x.r.n_st, 1); // one logical 2xx, one event
    assert_string_equal(x.r.legs[0].l.outcome, "answered");
    assert_int_equal(x.r.legs[0].l.caller_ep.ip[3], 1);
    fx_fini(&x);
}

static void test_txn_response_to_via_port_still_matches(void **state)
{
    struct fx x;
    int64_t inv, ok;

    (void)state;
    fx_init(&x);
    /* sent from an ephemeral port, Via says 5060 without rport (RFC 3261
     * 18.2.2): the response goes to 5060 */
    inv = feed(&x, 0, "10.0.0.1:40000", B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1",
               "1 INVITE", NULL);
    ok = feed(&x, 100, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "b", "c1", "1 INVITE", NULL);
    assert_int_equal(x.links[ok].txn_id, x.links[inv].txn_id);
    fx_finish(&x);
    fx_fini(&x);
}

/* ---------------------------------------------------- session timers -- */

static void test_txn_session_timer_refresher_resolved_per_transaction(void **state)
{
    struct fx x;
    const struct sl_st_event *ev;
    int64_t ok1, reinv, ok2, ok3;
    int64_t t_ok1 = BASE_US + 1000 * MS, t_ok2 = BASE_US + 900000 * MS;

    (void)state;
    fx_init(&x);
    feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
         "Supported: timer\r\nSession-Expires: 1800\r\n");
    ok1 = feed(&x, 1000, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "b", "c1", "1 INVITE",
               "Require: timer\r\nSession-Expires: 1800;refresher=uac\r\n");
    feed(&x, 1100, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("k1"), "a", "b", "c1", "1 ACK", NULL);
    /* the callee refreshes: it is the UAC of this re-INVITE */
    reinv = feed(&x, 899900, B, A, "INVITE sip:alice@a SIP/2.0", VIA_B("r1"), "b", "a", "c1",
                 "1 INVITE", "Session-Expires: 1800;refresher=uas\r\n");
    ok2 = feed(&x, 900000, A, B, "SIP/2.0 200 OK", VIA_B("r1"), "b", "a", "c1", "1 INVITE",
               "Session-Expires: 1800;refresher=uas\r\n");
    feed(&x, 900100, B, A, "ACK sip:alice@a SIP/2.0", VIA_B("k2"), "b", "a", "c1", "1 ACK", NULL);
    /* a 2xx without Session-Expires switches the timer off */
    feed(&x, 1000000, A, B, "UPDATE sip:bob@b SIP/2.0", VIA_A("u1"), "a", "b", "c1", "2 UPDATE",
         NULL);
    ok3 = feed(&x, 1000100, B, A, "SIP/2.0 200 OK", VIA_A("u1"), "a", "b", "c1", "2 UPDATE", NULL);
    assert_int_equal(x.links[reinv].side, SL_SIDE_CALLEE);
    assert_int_equal(x.links[reinv].cseq_prev, -1);

    assert_int_equal(x.r.n_st, 3);
    ev = &x.r.st[0];
    assert_string_equal(ev->kind, "armed");
    assert_int_equal(ev->msg_id, ok1);
    assert_int_equal(ev->dialog_id, x.links[ok1].dialog_id);
    assert_int_equal(ev->txn_id, x.links[ok1].txn_id);
    assert_int_equal(ev->interval_s, 1800);
    assert_int_equal(ev->refresher, SL_SIDE_CALLER); // uac of the initial INVITE
    assert_int_equal(ev->refresh_due_us, t_ok1 + 900 * SEC);
    assert_int_equal(ev->expiry_us, t_ok1 + 1800 * SEC);
    assert_int_equal(ev->bye_due_us, t_ok1 + 1768 * SEC);
    ev = &x.r.st[1];
    assert_string_equal(ev->kind, "armed");
    assert_int_equal(ev->msg_id, ok2);
    assert_int_equal(ev->refresher, SL_SIDE_CALLER); // uas of the callee's re-INVITE
    assert_int_equal(ev->expiry_us, t_ok2 + 1800 * SEC);
    ev = &x.r.st[2];
    assert_string_equal(ev->kind, "disarmed");
    assert_int_equal(ev->msg_id, ok3);
    assert_int_equal(ev->interval_s, -1);
    fx_finish(&x);
    assert_int_equal(x.r.dlgs[0].d.se_interval, -1);
    fx_fini(&x);
}

static void test_txn_422_event_and_retry(void **state)
{
    struct fx x;
    const struct sl_st_event *ev;
    int64_t r422, ok;

    (void)state;
    fx_init(&x);
    feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
         "Supported: timer\r\nSession-Expires: 60\r\n");
    r422 = feed(&x, 50, B, A, "SIP/2.0 422 Session Interval Too Small", VIA_A("i1"), "a", "x", "c1",
                "1 INVITE", "Min-SE: 90\r\n");
    feed(&x, 60, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("i1"), "a", "x", "c1", "1 ACK", NULL);
    feed(&x, 70, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i2"), "a", NULL, "c1", "2 INVITE",
         "Supported: timer\r\nSession-Expires: 90\r\nMin-SE: 90\r\n");
    ok = feed(&x, 1000, B, A, "SIP/2.0 200 OK", VIA_A("i2"), "a", "b", "c1", "2 INVITE",
              "Session-Expires: 90;refresher=uas\r\n");
    assert_int_equal(x.r.n_st, 2);
    ev = &x.r.st[0];
    assert_string_equal(ev->kind, "422");
    assert_int_equal(ev->msg_id, r422);
    assert_int_equal(ev->min_se, 90);
    assert_int_equal(ev->dialog_id, 0); // no dialog yet
    ev = &x.r.st[1];
    assert_string_equal(ev->kind, "armed");
    assert_int_equal(ev->msg_id, ok);
    assert_int_equal(ev->refresher, SL_SIDE_CALLEE);
    assert_int_equal(ev->bye_due_us, BASE_US + 1000 * MS + 60 * SEC); // 90 - 90/3
    fx_finish(&x);
    assert_int_equal(x.r.n_legs, 1);
    assert_string_equal(x.r.legs[0].l.outcome, "answered");
    fx_fini(&x);
}

static void test_txn_end_how_session_expiry_and_missing_ack(void **state)
{
    struct fx x;
    struct sl_txn_opts o;
    int64_t b1, b2;

    (void)state;
    fx_init(&x);
    /* SE 90, the caller should refresh and does not: the callee sends BYE at
     * expiry - 30 s */
    feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE", NULL);
    feed(&x, 1000, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "b", "c1", "1 INVITE",
         "Require: timer\r\nSession-Expires: 90;refresher=uac\r\n");
    feed(&x, 1100, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("k1"), "a", "b", "c1", "1 ACK", NULL);
    b1 = feed(&x, 61000, B, A, "BYE sip:alice@a SIP/2.0", VIA_B("y1"), "b", "a", "c1", "1 BYE",
              NULL);
    feed(&x, 61010, A, B, "SIP/2.0 200 OK", VIA_B("y1"), "b", "a", "c1", "1 BYE", NULL);
    /* another call: the 2xx is never ACKed, the callee gives up after 64*T1 */
    feed(&x, 70000, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i2"), "a2", NULL, "c2", "1 INVITE",
         NULL);
    feed(&x, 70100, B, A, "SIP/2.0 200 OK", VIA_A("i2"), "a2", "b2", "c2", "1 INVITE", NULL);
    b2 = feed(&x, 101600, B, A, "BYE sip:alice@a SIP/2.0", VIA_B("y2"), "b2", "a2", "c2", "1 BYE",
              NULL);
    fx_finish(&x);
    assert_string_equal(leg_by_id(&x, x.links[b1].leg_id)->l.end_how, "session-expiry");
    assert_int_equal(leg_by_id(&x, x.links[b1].leg_id)->l.ended_by, SL_SIDE_CALLEE);
    assert_string_equal(leg_by_id(&x, x.links[b2].leg_id)->l.end_how, "missing-ack");
    fx_fini(&x);

    /* T1 from the options scales 64*T1 */
    memset(&o, 0, sizeof(o));
    o.t1_us = 250000;
    fx_init_opts(&x, &o);
    feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i2"), "a2", NULL, "c2", "1 INVITE", NULL);
    feed(&x, 100, B, A, "SIP/2.0 200 OK", VIA_A("i2"), "a2", "b2", "c2", "1 INVITE", NULL);
    b2 = feed(&x, 16000, B, A, "BYE sip:alice@a SIP/2.0", VIA_B("y2"), "b2", "a2", "c2", "1 BYE",
              NULL);
    fx_finish(&x);
    assert_string_equal(leg_by_id(&x, x.links[b2].leg_id)->l.end_how, "missing-ack");
    fx_fini(&x);
}

static void test_txn_q850_decoding(void **state)
{
    (void)state;
    assert_int_equal(sl_q850_cause("Q.850;cause=16;text=\"Normal call clearing\""), 16);
    assert_int_equal(sl_q850_cause("SIP;cause=200;text=\"Call completed elsewhere\", "
                                   "Q.850 ; cause = 17"),
                     17);
    assert_int_equal(sl_q850_cause("q.850;text=\"a;cause=3\";cause=41"), 41);
    assert_int_equal(sl_q850_cause("SIP;cause=487"), -1);
    assert_int_equal(sl_q850_cause("Q.850;cause=999"), -1);
    assert_int_equal(sl_q850_cause("Q.8500;cause=16"), -1);
    assert_int_equal(sl_q850_cause("Q.850"), -1);
    assert_int_equal(sl_q850_cause(""), -1);
    assert_int_equal(sl_q850_cause(NULL), -1);
    assert_string_equal(sl_q850_text(1), "Unallocated (unassigned) number");
    assert_string_equal(sl_q850_text(16), "Normal call clearing");
    assert_string_equal(sl_q850_text(17), "User busy");
    assert_string_equal(sl_q850_text(18), "No user responding");
    assert_string_equal(sl_q850_text(19), "No answer from user (user alerted)");
    assert_string_equal(sl_q850_text(21), "Call rejected");
    assert_string_equal(sl_q850_text(27), "Destination out of order");
    assert_string_equal(sl_q850_text(31), "Normal, unspecified");
    assert_string_equal(sl_q850_text(34), "No circuit/channel available");
    assert_string_equal(sl_q850_text(38), "Network out of order");
    assert_string_equal(sl_q850_text(41), "Temporary failure");
    assert_string_equal(sl_q850_text(42), "Switching equipment congestion");
    assert_string_equal(sl_q850_text(47), "Resource unavailable, unspecified");
    assert_string_equal(sl_q850_text(102), "Recovery on timer expiry");
    assert_string_equal(sl_q850_text(127), "Interworking, unspecified");
    assert_null(sl_q850_text(0));
    assert_null(sl_q850_text(15));
    assert_null(sl_q850_text(128));
    assert_string_equal(sl_side_name(SL_SIDE_CALLER), "caller");
    assert_string_equal(sl_side_name(SL_SIDE_CALLEE), "callee");
    assert_null(sl_side_name(SL_SIDE_UNKNOWN));
    assert_string_equal(sl_txn_kind_name(SL_TXN_ACK2XX), "ACK2XX");
}

/* ------------------------------------------------- expiry and limits -- */

static void test_txn_expire_hands_over_once_and_frees(void **state)
{
    struct fx x;
    struct sl_err err = { 0 };
    int i;
    size_t txns_mid, legs_mid;
    char cid[32];

    (void)state;
    fx_init(&x);
    /* 20 short calls, 30 s apart, plus a timed-out OPTIONS and a ringing
     * INVITE that is never answered */
    feed(&x, 0, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o1"), "o", NULL, "opt", "1 OPTIONS",
         NULL);
    feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("r1"), "r", NULL, "ring", "1 INVITE", NULL);
    feed(&x, 10, B, A, "SIP/2.0 180 Ringing", VIA_A("r1"), "r", "rb", "ring", "1 INVITE", NULL);
    for (i = 0; i < 20; i++) {
        int64_t t0 = 1000 + (int64_t)i * 30000;

        /* the same branches in every call: Call-ID keeps them apart */
        snprintf(cid, sizeof(cid), "call-%d", i);
        feed(&x, t0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("inv"), "a", NULL, cid, "1 INVITE",
             NULL);
        feed(&x, t0 + 100, B, A, "SIP/2.0 200 OK", VIA_A("inv"), "a", "b", cid, "1 INVITE", NULL);
        feed(&x, t0 + 200, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("ack"), "a", "b", cid, "1 ACK",
             NULL);
        feed(&x, t0 + 3000, A, B, "BYE sip:bob@b SIP/2.0", VIA_A("bye"), "a", "b", cid, "2 BYE",
             NULL);
        feed(&x, t0 + 3100, B, A, "SIP/2.0 200 OK", VIA_A("bye"), "a", "b", cid, "2 BYE", NULL);
        assert_int_equal(sl_txn_expire(x.e, BASE_US + (t0 + 3100) * MS, &err), SL_OK);
    }
    txns_mid = x.r.n_txns;
    legs_mid = x.r.n_legs;
    /* the early calls (a leg lingers 300 s after its last transaction) and
     * the OPTIONS are gone already; the ringing INVITE is not (Proceeding
     * has no timeout) */
    assert_true(legs_mid >= 8);
    assert_true(txns_mid >= 30);
    assert_string_equal(txn_by_id(&x, 1)->t.end_reason, "timeout");
    assert_int_equal(txn_by_id(&x, 1)->t.timeout_us, BASE_US + 32 * SEC);
    /* a late expire with a time far ahead does not run past the input */
    assert_int_equal(sl_txn_expire(x.e, BASE_US + 100000 * SEC, &err), SL_OK);
    assert_int_equal(x.r.n_txns, txns_mid);
    fx_finish(&x);
    assert_int_equal(x.r.n_legs, 22);
    assert_int_equal(x.r.n_txns, 2 + 20 * 3);
    assert_int_equal(x.r.n_dlgs, 21);
    assert_string_equal(txn_by_id(&x, 2)->t.end_reason, "capture_end");
    assert_string_equal(dlg_by_callee_tag(&x, "rb")->d.term_cause, "capture_end");
    assert_string_equal(leg_by_id(&x, 2)->l.outcome, "unanswered");
    fx_fini(&x); // ASan: nothing may be left behind
}

static void test_txn_cap_returns_elimit(void **state)
{
    struct fx x;
    struct sl_txn_opts o;
    int64_t m1, m3, r3;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.max_txns = 2;
    fx_init_opts(&x, &o);
    m1 = feed(&x, 0, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o1"), "a", NULL, "c1", "1 OPTIONS",
              NULL);
    assert_int_equal(x.last_rc, SL_OK);
    feed(&x, 10, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o2"), "a", NULL, "c1", "2 OPTIONS",
         NULL);
    assert_int_equal(x.last_rc, SL_OK);
    m3 = feed(&x, 20, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o3"), "a", NULL, "c1", "3 OPTIONS",
              NULL);
    assert_int_equal(x.last_rc, SL_ELIMIT);
    assert_int_equal(x.err.code, SL_ELIMIT);
    assert_non_null(strstr(x.err.msg, "open transactions cap (2)"));
    assert_int_equal(x.links[m3].txn_id, 0);
    assert_int_equal(x.links[m3].leg_id, x.links[m1].leg_id); // still linked to its leg
    r3 = feed(&x, 30, B, A, "SIP/2.0 200 OK", VIA_A("o3"), "a", "b", "c1", "3 OPTIONS", NULL);
    assert_int_equal(x.last_rc, SL_OK);
    assert_int_equal(x.links[r3].txn_id, 0);
    /* once the first ones are done (64*T1 later), there is room again */
    feed(&x, 40000, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o4"), "a", NULL, "c1", "4 OPTIONS",
         NULL);
    assert_int_equal(x.last_rc, SL_OK);
    fx_finish(&x);
    fx_fini(&x);

    memset(&o, 0, sizeof(o));
    o.max_dialogs = 1;
    fx_init_opts(&x, &o);
    feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE", NULL);
    feed(&x, 10, B, A, "SIP/2.0 180 Ringing", VIA_A("i1"), "a", "b1", "c1", "1 INVITE", NULL);
    assert_int_equal(x.last_rc, SL_OK);
    m3 = feed(&x, 20, B, A, "SIP/2.0 180 Ringing", VIA_A("i1"), "a", "b2", "c1", "1 INVITE", NULL);
    assert_int_equal(x.last_rc, SL_ELIMIT);
    assert_non_null(strstr(x.err.msg, "open dialogs cap (1)"));
    assert_int_not_equal(x.links[m3].txn_id, 0);
    assert_int_equal(x.links[m3].dialog_id, 0);
    fx_finish(&x);
    assert_int_equal(x.r.n_dlgs, 1);
    fx_fini(&x);
}

/* The calls (legs) cap: a leg whose call has ended and that lingers for
 * late requests leaves early to make room; when every leg is held by an open
 * transaction, a new request gets no leg and SL_ELIMIT says which cap. */
static void test_txn_legs_cap(void **state)
{
    struct fx x;
    struct sl_txn_opts o;
    int64_t m2;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.max_legs = 1;
    fx_init_opts(&x, &o);
    feed(&x, 0, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o1"), "a1", NULL, "c1", "1 OPTIONS",
         NULL);
    assert_int_equal(x.last_rc, SL_OK);
    feed(&x, 10, B, A, "SIP/2.0 200 OK", VIA_A("o1"), "a1", "b1", "c1", "1 OPTIONS", NULL);
    /* 40 s later the first transaction is over; its leg lingers, and leaves
     * now, before its 300 s, for the second call */
    feed(&x, 40000, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o2"), "a2", NULL, "c2", "1 OPTIONS",
         NULL);
    assert_int_equal(x.last_rc, SL_OK);
    assert_int_equal(x.r.n_legs, 1); /* the first one, handed to the sink early */
    assert_string_equal(leg_by_id(&x, 1)->l.outcome, "answered");
    /* a third call while the second's transaction is still open: no room */
    m2 = feed(&x, 40010, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o3"), "a3", NULL, "c3",
              "1 OPTIONS", NULL);
    assert_int_equal(x.last_rc, SL_ELIMIT);
    assert_non_null(strstr(x.err.msg, "open calls cap (1) reached (--limit calls)"));
    assert_int_not_equal(x.links[m2].txn_id, 0); /* its transaction is still there */
    assert_int_equal(x.links[m2].leg_id, 0);
    fx_finish(&x);
    assert_int_equal(x.r.n_legs, 2);
    assert_int_equal(x.r.n_txns, 3);
    fx_fini(&x); // ASan: the transaction without a leg is freed too
}

static void test_txn_sink_error_aborts_but_frees(void **state)
{
    struct fx x;
    struct sl_err err = { 0 };

    (void)state;
    fx_init(&x);
    x.r.fail_after = 1;
    feed(&x, 0, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o1"), "a", NULL, "c1", "1 OPTIONS", NULL);
    feed(&x, 0, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o2"), "b", NULL, "c2", "1 OPTIONS", NULL);
    assert_int_equal(sl_txn_finish(x.e, &err), SL_ESQL);
    fx_fini(&x); // the rest is freed without the sink
}

static void test_txn_time_jump_back_between_inputs(void **state)
{
    struct fx x;
    struct sl_err err = { 0 };
    int64_t inv, ok;

    (void)state;
    fx_init(&x);
    feed(&x, 100000, A, B, "OPTIONS sip:bob@b SIP/2.0", VIA_A("o1"), "a", NULL, "c1", "1 OPTIONS",
         NULL);
    /* a second input starts earlier; the caller's "now" stays at the max */
    x.capture_id = 2;
    inv = feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "b", NULL, "c2", "1 INVITE",
               NULL);
    assert_int_equal(sl_txn_expire(x.e, BASE_US + 100000 * MS, &err), SL_OK);
    ok = feed(&x, 1000, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "b", "x", "c2", "1 INVITE", NULL);
    assert_int_equal(x.links[ok].txn_id, x.links[inv].txn_id);
    fx_finish(&x);
    fx_fini(&x);
}

static unsigned rnd(unsigned *seed, unsigned n)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) % n;
}

/* Random messages from a small vocabulary (so that they collide), random
 * time steps (also backwards), random expiry and small caps: every object
 * named in a link must come out exactly once, and nothing may leak. */
static void test_txn_random_sequences_report_everything_once(void **state)
{
    static const char *const methods[] = { "INVITE", "ACK",    "BYE",      "CANCEL",    "OPTIONS",
                                           "UPDATE", "NOTIFY", "REGISTER", "SUBSCRIBE", "PRACK" };
    static const int statuses[] = {
        100, 180, 183, 200, 202, 401, 407, 408, 422, 481, 486, 487, 503
    };
    static const char *const eps[] = { A, B, P };
    static const char *const tags[] = { "t1", "t2", "t3", "t4" };
    struct sl_txn_opts o;
    unsigned seed = 4242, round;
    int64_t max_t = 0, max_d = 0, max_l = 0;

    (void)state;
    for (round = 0; round < 4; round++) {
        struct fx x;
        int64_t now_ms = 0, i, n = MAX_MSGS - 2;
        size_t k;
        struct sl_err err = { 0 };

        memset(&o, 0, sizeof(o));
        o.max_txns = round == 1 ? 5 : 0;
        o.max_dialogs = round == 2 ? 3 : 0;
        o.t1_us = round == 3 ? 100000 : 0;
        fx_init_opts(&x, &o);
        max_t = max_d = max_l = 0;
        for (i = 0; i < n; i++) {
            char start[96], via[160], cseq[48], cid[16], extra[96];
            const char *src = eps[rnd(&seed, 3)], *dst = eps[rnd(&seed, 3)];
            const char *method = methods[rnd(&seed, 10)];
            const char *ttag = rnd(&seed, 3) == 0 ? NULL : tags[rnd(&seed, 4)];
            unsigned r = rnd(&seed, 100);
            int64_t id;

            if (strcmp(src, dst) == 0)
                dst = eps[(rnd(&seed, 2) + 1 + (src == eps[0] ? 0 : src == eps[1] ? 1 : 2)) % 3];
            now_ms +=
                    r < 2 ? -(int64_t)rnd(&seed, 60000) : (int64_t)rnd(&seed, r < 10 ? 40000 : 800);
            if (r == 3)
                x.capture_id = 1 + rnd(&seed, 2);
            snprintf(cid, sizeof(cid), "c%u", rnd(&seed, 6));
            snprintf(cseq, sizeof(cseq), "%u %s", 1 + rnd(&seed, 4), method);
            if (rnd(&seed, 4) == 0)
                snprintf(via, sizeof(via), "%s, %s", VIA_P("x") "1", VIA_A("b") "1");
            else
                snprintf(via, sizeof(via), "SIP/2.0/UDP 10.0.0.1:5060;branch=%s%u",
                         rnd(&seed, 5) == 0 ? "old" : "z9hG4bKb", rnd(&seed, 4));
            snprintf(extra, sizeof(extra), "%s%s",
                     rnd(&seed, 3) == 0 ? "Session-Expires: 90;refresher=uac\r\n" : "",
                     rnd(&seed, 5) == 0 ? "Min-SE: 90\r\nReason: Q.850;cause=16\r\n" : "");
            if (rnd(&seed, 2) == 0) {
                snprintf(start, sizeof(start), "%s sip:x@y SIP/2.0", method);
            } else {
                int st = statuses[rnd(&seed, 13)];

                snprintf(start, sizeof(start), "SIP/2.0 %d Whatever", st);
            }
            id = feed(&x, now_ms, src, dst, start, via, tags[rnd(&seed, 4)], ttag, cid, cseq,
                      extra);
            assert_true(x.last_rc == SL_OK || x.last_rc == SL_ELIMIT);
            if (x.links[id].txn_id > max_t)
                max_t = x.links[id].txn_id;
            if (x.links[id].dialog_id > max_d)
                max_d = x.links[id].dialog_id;
            if (x.links[id].leg_id > max_l)
                max_l = x.links[id].leg_id;
            if (rnd(&seed, 20) == 0)
                assert_int_equal(sl_txn_expire(x.e, BASE_US + now_ms * MS, &err), SL_OK);
        }
        fx_finish(&x);
        /* ids are given in order of creation: all up to the highest linked one
         * were reported (the sink rejects a second report) */
        assert_true((int64_t)x.r.n_txns >= max_t);
        assert_true((int64_t)x.r.n_dlgs >= max_d);
        assert_true((int64_t)x.r.n_legs >= max_l);
        for (k = 0; k < x.r.n_txns; k++)
            assert_true(x.r.txns[k].t.id >= 1 && x.r.txns[k].t.id <= (int64_t)x.r.n_txns);
        for (k = 0; k < x.r.n_dlgs; k++)
            assert_true(x.r.dlgs[k].d.id >= 1 && x.r.dlgs[k].d.id <= (int64_t)x.r.n_dlgs);
        for (k = 0; k < x.r.n_legs; k++)
            assert_true(x.r.legs[k].l.id >= 1 && x.r.legs[k].l.id <= (int64_t)x.r.n_legs);
        fx_fini(&x);
    }
}

/* ------------------------------------- matching without CSeq number -- */

/* RFC 3261 17.1.3, 17.2.3: a cookie branch matches by branch, sent-by and
 * method; the CSeq number is not part of it (testdata/cseq-ack, -cancel,
 * -response). */
static void test_txn_cookie_branch_matches_without_cseq_number(void **state)
{
    struct fx x;
    int64_t inv, cancel, c481, ok, reinv, r488, ack, bye, bye_ok, again, again_ok;
    const struct rtxn *ti, *tc, *tr, *tb, *tg;

    (void)state;
    fx_init(&x);
    inv = feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
               NULL);
    feed(&x, 10, B, A, "SIP/2.0 180 Ringing", VIA_A("i1"), "a", "b", "c1", "1 INVITE", NULL);
    /* CANCEL with the INVITE's branch but CSeq 2 */
    cancel = feed(&x, 1000, A, B, "CANCEL sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1",
                  "2 CANCEL", NULL);
    c481 = feed(&x, 1010, B, A, "SIP/2.0 481 Call/Transaction Does Not Exist", VIA_A("i1"), "a",
                "b", "c1", "2 CANCEL", NULL);
    ok = feed(&x, 2000, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "b", "c1", "1 INVITE", NULL);
    feed(&x, 2010, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("k1"), "a", "b", "c1", "1 ACK", NULL);
    /* re-INVITE 3 rejected, its ACK says CSeq 4 */
    reinv = feed(&x, 3000, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("r3"), "a", "b", "c1",
                 "3 INVITE", NULL);
    r488 = feed(&x, 3010, B, A, "SIP/2.0 488 Not Acceptable Here", VIA_A("r3"), "a", "b", "c1",
                "3 INVITE", NULL);
    ack = feed(&x, 3020, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("r3"), "a", "b", "c1", "4 ACK", NULL);
    /* a request of the same method on a used branch with a new CSeq: new */
    again = feed(&x, 3500, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("r3"), "a", "b", "c1",
                 "5 INVITE", NULL);
    again_ok =
            feed(&x, 3510, B, A, "SIP/2.0 200 OK", VIA_A("r3"), "a", "b", "c1", "5 INVITE", NULL);
    feed(&x, 3520, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("k5"), "a", "b", "c1", "5 ACK", NULL);
    /* BYE 6 answered with CSeq 7 */
    bye = feed(&x, 4000, A, B, "BYE sip:bob@b SIP/2.0", VIA_A("y6"), "a", "b", "c1", "6 BYE", NULL);
    bye_ok = feed(&x, 4010, B, A, "SIP/2.0 200 OK", VIA_A("y6"), "a", "b", "c1", "7 BYE", NULL);

    assert_int_equal(x.links[c481].txn_id, x.links[cancel].txn_id);
    assert_int_equal(x.links[ok].txn_id, x.links[inv].txn_id);
    assert_int_equal(x.links[r488].txn_id, x.links[reinv].txn_id);
    assert_int_equal(x.links[ack].txn_id, x.links[reinv].txn_id); // folded, not an ACK2XX
    assert_false(x.links[again].is_retrans);
    assert_int_not_equal(x.links[again].txn_id, x.links[reinv].txn_id);
    assert_int_equal(x.links[again_ok].txn_id, x.links[again].txn_id);
    assert_int_equal(x.links[bye_ok].txn_id, x.links[bye].txn_id);
    assert_int_equal(x.links[bye_ok].dialog_id, x.links[bye].dialog_id);
    assert_no_retrans(&x);
    fx_finish(&x);
    ti = txn_by_id(&x, x.links[inv].txn_id);
    tc = txn_by_id(&x, x.links[cancel].txn_id);
    assert_int_equal(tc->t.kind, SL_TXN_CANCEL);
    assert_int_equal(tc->t.cancels_txn_id, ti->t.id);
    assert_int_equal(ti->t.cancel_txn_id, tc->t.id);
    assert_int_equal(tc->t.final_status, 481);
    tr = txn_by_id(&x, x.links[reinv].txn_id);
    assert_int_equal(tr->t.final_status, 488);
    assert_int_equal(tr->t.ack_msg_id, ack);
    tg = txn_by_id(&x, x.links[again].txn_id);
    assert_int_equal(tg->t.cseq_num, 5);
    assert_int_equal(tg->t.final_status, 200);
    tb = txn_by_id(&x, x.links[bye].txn_id);
    assert_int_equal(tb->t.final_status, 200);
    assert_int_equal(tb->t.final_msg_id, bye_ok);
    assert_int_equal(count_kind(&x, SL_TXN_ACK2XX), 2); // the ACKs of the two 2xx only
    assert_int_equal(x.r.n_dlgs, 1);
    assert_string_equal(x.r.dlgs[0].d.term_cause, "bye");
    assert_int_equal(x.r.legs[0].l.end_us, BASE_US + 4010 * MS);
    fx_fini(&x);
}

/* RFC 3261 18.2.1, 19.1.2: a sent-by without port is the default port
 * (5060, 5061 for TLS); hosts compare case-insensitively (zeek
 * wireshark.pcap frame 23: a CANCEL not linked to its INVITE). */
static void test_txn_sent_by_default_port(void **state)
{
    struct fx x;
    int64_t inv, cancel, c200, r487, ack, tinv, tcancel, t6, t6c;

    (void)state;
    fx_init(&x);
    inv = feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0",
               "SIP/2.0/UDP Host.Example.com:5060;branch=z9hG4bKs1", "a", NULL, "c1", "1 INVITE",
               NULL);
    feed(&x, 10, B, A, "SIP/2.0 180 Ringing", "SIP/2.0/UDP host.example.com;branch=z9hG4bKs1", "a",
         "b", "c1", "1 INVITE", NULL);
    cancel = feed(&x, 1000, A, B, "CANCEL sip:bob@b SIP/2.0",
                  "SIP/2.0/UDP host.example.com;branch=z9hG4bKs1", "a", NULL, "c1", "1 CANCEL",
                  NULL);
    c200 = feed(&x, 1010, B, A, "SIP/2.0 200 OK", "SIP/2.0/UDP HOST.example.com;branch=z9hG4bKs1",
                "a", "b", "c1", "1 CANCEL", NULL);
    r487 = feed(&x, 1020, B, A, "SIP/2.0 487 Request Terminated",
                "SIP/2.0/UDP host.example.com;branch=z9hG4bKs1", "a", "b", "c1", "1 INVITE", NULL);
    ack = feed(&x, 1030, A, B, "ACK sip:bob@b SIP/2.0",
               "SIP/2.0/UDP host.example.com;branch=z9hG4bKs1", "a", "b", "c1", "1 ACK", NULL);
    /* TLS: no port is 5061, not 5060 */
    tinv = feed(&x, 2000, A, B, "INVITE sip:bob@b SIP/2.0",
                "SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bKt1", "a2", NULL, "c2", "1 INVITE", NULL);
    tcancel = feed(&x, 2500, A, B, "CANCEL sip:bob@b SIP/2.0",
                   "SIP/2.0/TLS 10.0.0.1;branch=z9hG4bKt1", "a2", NULL, "c2", "1 CANCEL", NULL);
    t6 = feed(&x, 3000, A, B, "INVITE sip:bob@b SIP/2.0",
              "SIP/2.0/TLS 10.0.0.1:5060;branch=z9hG4bKt2", "a3", NULL, "c3", "1 INVITE", NULL);
    t6c = feed(&x, 3500, A, B, "CANCEL sip:bob@b SIP/2.0", "SIP/2.0/TLS 10.0.0.1;branch=z9hG4bKt2",
               "a3", NULL, "c3", "1 CANCEL", NULL);

    assert_int_equal(x.links[c200].txn_id, x.links[cancel].txn_id);
    assert_int_equal(x.links[r487].txn_id, x.links[inv].txn_id);
    assert_int_equal(x.links[ack].txn_id, x.links[inv].txn_id);
    assert_int_equal(x.links[cancel].leg_id, x.links[inv].leg_id);
    fx_finish(&x);
    assert_int_equal(txn_by_id(&x, x.links[cancel].txn_id)->t.cancels_txn_id, x.links[inv].txn_id);
    assert_int_equal(txn_by_id(&x, x.links[inv].txn_id)->t.cancel_txn_id, x.links[cancel].txn_id);
    assert_int_equal(txn_by_id(&x, x.links[inv].txn_id)->t.ack_msg_id, ack);
    assert_string_equal(leg_by_id(&x, x.links[inv].leg_id)->l.outcome, "cancelled");
    assert_int_equal(txn_by_id(&x, x.links[tcancel].txn_id)->t.cancels_txn_id,
                     x.links[tinv].txn_id);
    assert_int_equal(txn_by_id(&x, x.links[t6c].txn_id)->t.cancels_txn_id, 0);
    (void)t6;
    fx_fini(&x);
}

/* docs/schema.md: txn.dialog_id of a forked INVITE is the dialog of its
 * first 2xx, else of its latest provisional. */
static void test_txn_forked_invite_dialog_id(void **state)
{
    struct fx x;
    int64_t inv, inv2, ra, okb, oka, rc2, rd2;

    (void)state;
    fx_init(&x);
    inv = feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
               NULL);
    ra = feed(&x, 100, B, A, "SIP/2.0 180 Ringing", VIA_A("i1"), "a", "fa", "c1", "1 INVITE", NULL);
    feed(&x, 150, B, A, "SIP/2.0 180 Ringing", VIA_A("i1"), "a", "fb", "c1", "1 INVITE", NULL);
    okb = feed(&x, 200, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "fb", "c1", "1 INVITE", NULL);
    oka = feed(&x, 300, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "fa", "c1", "1 INVITE", NULL);
    /* no 2xx: the latest provisional */
    inv2 = feed(&x, 1000, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i2"), "a2", NULL, "c2",
                "1 INVITE", NULL);
    rc2 = feed(&x, 1100, B, A, "SIP/2.0 183 Session Progress", VIA_A("i2"), "a2", "fc", "c2",
               "1 INVITE", NULL);
    rd2 = feed(&x, 1200, B, A, "SIP/2.0 180 Ringing", VIA_A("i2"), "a2", "fd", "c2", "1 INVITE",
               NULL);
    assert_int_not_equal(x.links[okb].dialog_id, x.links[oka].dialog_id);
    assert_int_equal(x.links[oka].dialog_id, x.links[ra].dialog_id);
    assert_int_not_equal(x.links[rc2].dialog_id, x.links[rd2].dialog_id);
    fx_finish(&x);
    assert_int_equal(txn_by_id(&x, x.links[inv].txn_id)->t.dialog_id, x.links[okb].dialog_id);
    assert_int_equal(txn_by_id(&x, x.links[inv2].txn_id)->t.dialog_id, x.links[rd2].dialog_id);
    fx_fini(&x);
}

/* The call ends with its dialog that ends last (testdata/fork-2x200-noack,
 * fork-ghost-dialog): each fork's BYE counts, and a fork still up at the
 * end of the capture keeps the call up. */
static void test_txn_forked_call_ends_with_last_dialog(void **state)
{
    struct fx x;
    const struct rleg *l;

    (void)state;
    fx_init(&x);
    feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE", NULL);
    feed(&x, 100, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "fa", "c1", "1 INVITE", NULL);
    feed(&x, 110, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("ka"), "a", "fa", "c1", "1 ACK", NULL);
    feed(&x, 300, B, A, "SIP/2.0 200 OK", VIA_A("i1"), "a", "fb", "c1", "1 INVITE", NULL);
    feed(&x, 310, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("kb"), "a", "fb", "c1", "1 ACK", NULL);
    /* the callee ends fork B first, the caller ends fork A 60 s later */
    feed(&x, 2000, B, A, "BYE sip:alice@a SIP/2.0", VIA_B("yb"), "fb", "a", "c1", "1 BYE",
         "Reason: Q.850;cause=17\r\n");
    feed(&x, 2010, A, B, "SIP/2.0 200 OK", VIA_B("yb"), "fb", "a", "c1", "1 BYE", NULL);
    feed(&x, 62000, A, B, "BYE sip:bob@b SIP/2.0", VIA_A("ya"), "a", "fa", "c1", "2 BYE",
         "Reason: Q.850;cause=16\r\n");
    feed(&x, 62010, B, A, "SIP/2.0 200 OK", VIA_A("ya"), "a", "fa", "c1", "2 BYE", NULL);
    /* another call: fork A ended by BYE, fork B still up at the end */
    feed(&x, 63000, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("j1"), "a2", NULL, "c2", "1 INVITE",
         NULL);
    feed(&x, 63100, B, A, "SIP/2.0 200 OK", VIA_A("j1"), "a2", "ga", "c2", "1 INVITE", NULL);
    feed(&x, 63110, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("la"), "a2", "ga", "c2", "1 ACK", NULL);
    feed(&x, 63200, B, A, "SIP/2.0 200 OK", VIA_A("j1"), "a2", "gb", "c2", "1 INVITE", NULL);
    feed(&x, 63210, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("lb"), "a2", "gb", "c2", "1 ACK", NULL);
    feed(&x, 64000, A, B, "BYE sip:bob@b SIP/2.0", VIA_A("za"), "a2", "ga", "c2", "2 BYE", NULL);
    feed(&x, 64010, B, A, "SIP/2.0 200 OK", VIA_A("za"), "a2", "ga", "c2", "2 BYE", NULL);
    feed(&x, 65000, A, B, "INFO sip:bob@b SIP/2.0", VIA_A("nb"), "a2", "gb", "c2", "3 INFO", NULL);
    fx_finish(&x);
    assert_int_equal(x.r.n_legs, 2);
    l = leg_by_id(&x, 1);
    assert_int_equal(l->l.n_dialogs, 2);
    assert_int_equal(l->l.end_us, BASE_US + 62010 * MS);
    assert_int_equal(l->l.ended_by, SL_SIDE_CALLER);
    assert_string_equal(l->l.end_how, "bye");
    assert_int_equal(l->l.q850_cause, 16);
    l = leg_by_id(&x, 2);
    assert_int_equal(l->l.n_dialogs, 2);
    assert_string_equal(l->l.end_how, "capture-end");
    assert_int_equal(l->l.ended_by, SL_SIDE_UNKNOWN);
    assert_int_equal(l->l.end_us, BASE_US + 65000 * MS);
    fx_fini(&x);
}

/* One basic call, all branches suffixed with sfx, starting at t0 ms. */
static void feed_basic_call(struct fx *x, int64_t t0, const char *sfx, int64_t ids[7])
{
    char vi[64], vk[64], vy[64];

    snprintf(vi, sizeof(vi), VIA_A("i%s"), sfx);
    snprintf(vk, sizeof(vk), VIA_A("k%s"), sfx);
    snprintf(vy, sizeof(vy), VIA_A("y%s"), sfx);
    ids[0] = feed(x, t0, A, B, "INVITE sip:bob@b SIP/2.0", vi, "a", NULL, "c1", "1 INVITE", NULL);
    ids[1] = feed(x, t0 + 10, B, A, "SIP/2.0 180 Ringing", vi, "a", "b", "c1", "1 INVITE", NULL);
    ids[2] = feed(x, t0 + 1000, B, A, "SIP/2.0 200 OK", vi, "a", "b", "c1", "1 INVITE", NULL);
    ids[3] = feed(x, t0 + 1010, A, B, "ACK sip:bob@b SIP/2.0", vk, "a", "b", "c1", "1 ACK", NULL);
    ids[4] = feed(x, t0 + 3000, A, B, "BYE sip:bob@b SIP/2.0", vy, "a", "b", "c1", "2 BYE", NULL);
    ids[5] = feed(x, t0 + 3010, B, A, "SIP/2.0 200 OK", vy, "a", "b", "c1", "2 BYE", NULL);
    ids[6] = 0;
}

/* A Call-ID (with its From tag and To tag) used again for a new call after
 * the first one ended with BYE: a new leg and a new dialog, never the old
 * terminated one -- whether the new INVITE has a new branch (10 s later,
 * while the old dialog is still remembered) or is the very same call
 * replayed 60 s later (all its transactions are over by then, even when the
 * caller never calls sl_txn_expire). */
static void test_txn_call_id_replayed_after_bye_is_a_new_call(void **state)
{
    struct fx x;
    int64_t c1[7], c2[7], c3[7];
    int k;

    (void)state;
    fx_init(&x);
    feed_basic_call(&x, 0, "1", c1);
    feed_basic_call(&x, 10000, "2", c2); // new branches, 7 s after the BYE
    feed_basic_call(&x, 70000, "2", c3); // the second call replayed: same bytes
    for (k = 0; k < 6; k++) {
        assert_false(x.links[c2[k]].is_retrans);
        assert_false(x.links[c3[k]].is_retrans);
        assert_int_equal(x.links[c2[k]].dup_of, 0);
        assert_int_not_equal(x.links[c2[k]].txn_id, x.links[c1[k]].txn_id);
        assert_int_not_equal(x.links[c3[k]].txn_id, x.links[c2[k]].txn_id);
        assert_int_not_equal(x.links[c2[k]].leg_id, x.links[c1[k]].leg_id);
        assert_int_not_equal(x.links[c3[k]].leg_id, x.links[c2[k]].leg_id);
    }
    for (k = 1; k < 6; k++) {
        assert_int_not_equal(x.links[c2[k]].dialog_id, 0);
        assert_int_not_equal(x.links[c2[k]].dialog_id, x.links[c1[k]].dialog_id);
        assert_int_not_equal(x.links[c3[k]].dialog_id, x.links[c2[k]].dialog_id);
    }
    fx_finish(&x);
    assert_int_equal(x.r.n_legs, 3);
    assert_int_equal(x.r.n_dlgs, 3);
    for (k = 0; k < 3; k++) {
        const struct rleg *l = leg_by_id(&x, k + 1);
        const struct rdlg *d = dlg_by_id(&x, k + 1);

        assert_string_equal(l->l.outcome, "answered");
        assert_string_equal(l->l.end_how, "bye");
        assert_int_equal(l->l.n_dialogs, 1);
        assert_int_equal(l->l.n_messages, 6);
        assert_int_equal(d->d.state, SL_DLG_TERMINATED);
        assert_string_equal(d->d.term_cause, "bye");
        assert_false(d->d.partial);
    }
    assert_int_equal(dlg_by_id(&x, 2)->d.confirmed_us, BASE_US + 11000 * MS);
    assert_int_equal(dlg_by_id(&x, 2)->d.terminated_us, BASE_US + 13010 * MS);
    assert_int_equal(leg_by_id(&x, 2)->l.start_us, BASE_US + 10000 * MS);
    assert_int_equal(leg_by_id(&x, 2)->l.end_us, BASE_US + 13010 * MS);
    assert_int_equal(leg_by_id(&x, 3)->l.end_us, BASE_US + 73010 * MS);
    fx_fini(&x);
}

/* G9: an INVITE resubmitted with credentials a minute after the 407 (all
 * transactions of the first attempt are over by then) is the same call
 * attempt (zeek wireshark.pcap, Call-ID 24487391-449bf2a0). */
static void test_txn_late_auth_resubmission_is_the_same_leg(void **state)
{
    struct fx x;
    int64_t i1, i2;

    (void)state;
    fx_init(&x);
    i1 = feed(&x, 0, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i1"), "a", NULL, "c1", "1 INVITE",
              NULL);
    feed(&x, 50, B, A, "SIP/2.0 407 Proxy Authentication Required", VIA_A("i1"), "a", "p7", "c1",
         "1 INVITE", NULL);
    feed(&x, 60, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("i1"), "a", "p7", "c1", "1 ACK", NULL);
    i2 = feed(&x, 51000, A, B, "INVITE sip:bob@b SIP/2.0", VIA_A("i2"), "a", NULL, "c1", "2 INVITE",
              NULL);
    feed(&x, 51100, B, A, "SIP/2.0 403 Forbidden", VIA_A("i2"), "a", "p8", "c1", "2 INVITE", NULL);
    feed(&x, 51110, A, B, "ACK sip:bob@b SIP/2.0", VIA_A("i2"), "a", "p8", "c1", "2 ACK", NULL);
    assert_int_equal(x.links[i2].leg_id, x.links[i1].leg_id);
    fx_finish(&x);
    assert_int_equal(x.r.n_legs, 1);
    assert_int_equal(x.r.legs[0].l.final_status, 403);
    assert_string_equal(x.r.legs[0].l.outcome, "failed");
    fx_fini(&x);
}

/* ipv6frag.pcap: the INVITE is not seen; two To tags (two 183s) make two
 * partial dialogs; the BYE of one ends the call, the other (perhaps only
 * an early dialog) does not keep it up until the capture ends. */
static void test_txn_partial_fork_does_not_outlive_the_bye(void **state)
{
    struct fx x;
    int64_t p1, p2, r2;

    (void)state;
    fx_init(&x);
    feed(&x, 0, B, A, "SIP/2.0 183 Session Progress", VIA_A("i1"), "a", "t1", "c1", "1 INVITE",
         NULL);
    p1 = feed(&x, 10, A, B, "PRACK sip:bob@b SIP/2.0", VIA_A("p1"), "a", "t1", "c1", "2 PRACK",
              NULL);
    feed(&x, 20, B, A, "SIP/2.0 200 OK", VIA_A("p1"), "a", "t1", "c1", "2 PRACK", NULL);
    r2 = feed(&x, 100, B, A, "SIP/2.0 183 Session Progress", VIA_A("i1"), "a", "t2", "c1",
              "1 INVITE", NULL);
    p2 = feed(&x, 110, A, B, "PRACK sip:bob@b SIP/2.0", VIA_A("p2"), "a", "t2", "c1", "2 PRACK",
              NULL);
    feed(&x, 120, B, A, "SIP/2.0 200 OK", VIA_A("p2"), "a", "t2", "c1", "2 PRACK", NULL);
    feed(&x, 5000, A, B, "BYE sip:bob@b SIP/2.0", VIA_A("y1"), "a", "t1", "c1", "3 BYE", NULL);
    feed(&x, 5010, B, A, "SIP/2.0 200 OK", VIA_A("y1"), "a", "t1", "c1", "3 BYE", NULL);
    assert_int_not_equal(x.links[p1].dialog_id, x.links[p2].dialog_id);
    assert_int_equal(x.links[r2].txn_id, 0); // its INVITE was not captured
    fx_finish(&x);
    assert_int_equal(x.r.n_dlgs, 2);
    assert_true(dlg_by_callee_tag(&x, "t1")->d.partial);
    assert_true(dlg_by_callee_tag(&x, "t2")->d.partial);
    assert_int_equal(x.r.n_legs, 1);
    assert_string_equal(x.r.legs[0].l.outcome, "partial");
    assert_string_equal(x.r.legs[0].l.end_how, "bye");
    assert_int_equal(x.r.legs[0].l.ended_by, SL_SIDE_CALLER);
    assert_int_equal(x.r.legs[0].l.end_us, BASE_US + 5010 * MS);
    fx_fini(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_txn_udp_retransmissions_are_flagged),
        cmocka_unit_test(test_txn_ack_for_2xx_is_its_own_request),
        cmocka_unit_test(test_txn_auth_resubmission_is_one_leg_one_dialog),
        cmocka_unit_test(test_txn_failed_after_auth_reports_last_final),
        cmocka_unit_test(test_txn_cancel_linked_and_ack_folded),
        cmocka_unit_test(test_txn_duplicate_datagram_is_one_observation),
        cmocka_unit_test(test_txn_stray_response),
        cmocka_unit_test(test_txn_rfc2543_without_cookie),
        cmocka_unit_test(test_txn_rfc2543_without_branch_or_tags),
        cmocka_unit_test(test_txn_notify_counts_cseq_per_direction),
        cmocka_unit_test(test_txn_notify_before_2xx_creates_the_dialog),
        cmocka_unit_test(test_txn_fork_two_early_one_confirmed),
        cmocka_unit_test(test_txn_second_2xx_other_tag_is_a_fork),
        cmocka_unit_test(test_txn_in_dialog_request_without_invite_is_partial),
        cmocka_unit_test(test_txn_call_id_reused_with_new_from_tag_is_two_legs),
        cmocka_unit_test(test_txn_proxy_hops_are_linked_not_retransmissions),
        cmocka_unit_test(test_txn_response_to_via_port_still_matches),
        cmocka_unit_test(test_txn_session_timer_refresher_resolved_per_transaction),
        cmocka_unit_test(test_txn_422_event_and_retry),
        cmocka_unit_test(test_txn_end_how_session_expiry_and_missing_ack),
        cmocka_unit_test(test_txn_q850_decoding),
        cmocka_unit_test(test_txn_expire_hands_over_once_and_frees),
        cmocka_unit_test(test_txn_cap_returns_elimit),
        cmocka_unit_test(test_txn_legs_cap),
        cmocka_unit_test(test_txn_sink_error_aborts_but_frees),
        cmocka_unit_test(test_txn_time_jump_back_between_inputs),
        cmocka_unit_test(test_txn_random_sequences_report_everything_once),
        cmocka_unit_test(test_txn_cookie_branch_matches_without_cseq_number),
        cmocka_unit_test(test_txn_sent_by_default_port),
        cmocka_unit_test(test_txn_forked_invite_dialog_id),
        cmocka_unit_test(test_txn_forked_call_ends_with_last_dialog),
        cmocka_unit_test(test_txn_call_id_replayed_after_bye_is_a_new_call),
        cmocka_unit_test(test_txn_late_auth_resubmission_is_the_same_leg),
        cmocka_unit_test(test_txn_partial_fork_does_not_outlive_the_bye),
    };

    sl_sip_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
