/*
 * fuzz_txn.c: the transaction / dialog / call engine (lib/txn) fed a
 * sequence of SIP messages, each parsed with sl_msg_parse, with a sink that
 * reads and discards what the engine hands over.
 *
 * Input: messages separated by "\n---\n".  The first byte of each chunk is
 * a control byte: bits 0-1 the source, bits 2-3 the destination (one of four
 * endpoints), bit 4 the transport (UDP/TCP), bits 5-7 the time advance
 * (n*n*n*100 ms); the rest is the message.  Every 8 messages the engine
 * expires at the current time; at the end it finishes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sip/msg.h"
#include "txn/txn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink_sum;

static unsigned slen(const char *s)
{
    return s != NULL ? (unsigned)strlen(s) : 0;
}

static int on_txn(void *ctx, const struct sl_txn *t, struct sl_err *err)
{
    size_t i;

    (void)ctx;
    (void)err;
    sink_sum += slen(t->method) + slen(t->branch) + slen(t->call_id) + slen(t->from_tag) +
                slen(t->final_to_tag) + slen(t->end_reason);
    for (i = 0; i < t->n_responses; i++)
        sink_sum += slen(t->responses[i].to_tag) + (unsigned)t->responses[i].status;
    return SL_OK;
}

static int on_dialog(void *ctx, const struct sl_dialog *d, struct sl_err *err)
{
    (void)ctx;
    (void)err;
    sink_sum += slen(d->call_id) + slen(d->caller_tag) + slen(d->callee_tag) + slen(d->method) +
                slen(d->caller_uri) + slen(d->callee_uri) + slen(d->term_cause);
    return SL_OK;
}

static int on_leg(void *ctx, const struct sl_leg *l, struct sl_err *err)
{
    (void)ctx;
    (void)err;
    sink_sum += slen(l->call_id) + slen(l->from_tag) + slen(l->method) + slen(l->from_uri) +
                slen(l->to_uri) + slen(l->ruri) + slen(l->outcome) + slen(l->final_reason) +
                slen(l->end_how) + slen(l->reason_hdr);
    return SL_OK;
}

static int on_st(void *ctx, const struct sl_st_event *e, struct sl_err *err)
{
    (void)ctx;
    (void)err;
    sink_sum += slen(e->kind);
    return SL_OK;
}

static void endpoint(struct sl_endpoint *ep, unsigned which)
{
    memset(ep, 0, sizeof(*ep));
    ep->family = 4;
    ep->ip[0] = 10;
    ep->ip[3] = (uint8_t)(1 + which);
    ep->port = (uint16_t)(5060 + (which & 1));
}

static const uint8_t *find_sep(const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i + 5 <= n; i++)
        if (p[i] == '\n' && memcmp(p + i, "\n---\n", 5) == 0)
            return p + i;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    struct sl_txn_sink sink = { NULL, on_txn, on_dialog, on_leg, on_st };
    struct sl_txn_opts o = { 0 };
    struct sl_txn_engine *e = NULL;
    struct sl_err err;
    const uint8_t *p = data, *end = data + size;
    int64_t now = 1000000, id = 0;

    if (!init) {
        sl_sip_init();
        init = true;
    }
    o.max_txns = 64; /* reach the caps too */
    o.max_dialogs = 16;
    o.max_legs = 8; /* and the legs cap: lingering legs leave early */
    if (sl_txn_engine_new(&e, &o, &sink, &err) != SL_OK)
        return 0;
    while (p < end) {
        const uint8_t *sep = find_sep(p, (size_t)(end - p));
        const uint8_t *stop = sep != NULL ? sep + 1 : end; /* keep the '\n' */
        struct sl_msg m;
        struct sl_txn_input in;
        struct sl_msg_links links;
        uint8_t ctl = *p;
        int64_t adv = ctl >> 5;
        int rc;

        memset(&m, 0, sizeof(m));
        now += adv * adv * adv * 100000;
        if (stop - p > 1 && sl_msg_parse(&m, p + 1, (size_t)(stop - p - 1), SL_MSG_MAX_LEN_DEFAULT,
                                         &err) == SL_OK) {
            memset(&in, 0, sizeof(in));
            in.msg_id = ++id;
            in.capture_id = 1;
            in.frame = (uint64_t)id;
            in.ts_us = now;
            endpoint(&in.src, ctl & 3);
            endpoint(&in.dst, (ctl >> 2) & 3);
            in.transport = (ctl & 16) ? SL_TP_TCP : SL_TP_UDP;
            in.msg = &m;
            in.raw = p + 1;
            in.raw_len = (size_t)(stop - p - 1);
            memset(&links, 0, sizeof(links));
            links.cseq_prev = -1;
            rc = sl_txn_feed(e, &in, &links, &err);
            if (rc != SL_OK && rc != SL_ELIMIT && rc != SL_ENOMEM)
                __builtin_trap(); /* the sink never fails */
            if (id % 8 == 0 && sl_txn_expire(e, now, &err) != SL_OK)
                __builtin_trap();
        }
        sl_msg_fini(&m);
        p = sep != NULL ? sep + 5 : end;
    }
    if (sl_txn_finish(e, &err) != SL_OK)
        __builtin_trap();
    sl_txn_engine_free(e);
    return 0;
}
