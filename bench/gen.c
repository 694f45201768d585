/*
 * gen.c: writes a realistic, deterministic SIP capture (pcap, Ethernet/IPv4/UDP,
 * port 5060) of exactly N messages, for benchmarks (docs/bench.md).
 *
 *   gen -n N -o FILE [-s SEED] [-r CALLS_PER_SEC] [-u UAS] [-p RETRANS_PCT]
 *       [-t START_EPOCH] [-q]
 *
 * Traffic: UAs in 10.0.0.0/8 (and two PSTN gateways) talking through two
 * record-routing stateful proxies and one SBC (a B2BUA), seen by a capture
 * point next to those three: every call is captured on its two hops (UA to
 * proxy, proxy to UA; or the SBC's two legs, each its own dialog).  Scenarios
 * start as a Poisson process; each is scripted whole when it starts (its own
 * PRNG, seeded from SEED and its number) and its messages are merged into the
 * file in time order through a heap, so memory follows the number of
 * concurrent scenarios, never N.  The same SEED and options give the same
 * bytes, and a smaller N gives a prefix of a larger one.
 *
 * Everything follows RFC 3261 (branches z9hG4bK per hop, a new branch for
 * every new transaction and for the ACK to a 2xx, the INVITE's branch for the
 * ACK to a non-2xx and for CANCEL, single Via on both, tags, CSeq rising per
 * direction and per leg, ACK CSeq = INVITE CSeq, Record-Route / Route through
 * the proxies) and RFC 4028 (Supported/Require: timer, Session-Expires with
 * refresher=uac, refreshes at SE/2 by re-INVITE or UPDATE).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define US     1000000LL
#define MS     1000LL
#define T1     (500 * MS)
#define DOMAIN "voip.example.net"

/* ---------------------------------------------------------------- PRNG */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct rng {
    uint64_t s;
};

static uint64_t rnd64(struct rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return mix64(r->s);
}

/* uniform in [0, 1) */
static double rnd01(struct rng *r)
{
    return (double)(rnd64(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* uniform integer in [lo, hi] */
static int64_t rndi(struct rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd64(r) % (uint64_t)(hi - lo + 1));
}

static int chance(struct rng *r, double p)
{
    return rnd01(r) < p;
}

static double rnd_exp(struct rng *r, double mean)
{
    return -mean * log(1.0 - rnd01(r));
}

static double rnd_lognormal(struct rng *r, double median, double sigma)
{
    double u1 = 1.0 - rnd01(r), u2 = rnd01(r);
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);

    return median * exp(sigma * z);
}

/* ------------------------------------------------------------ topology */

/* elements of the core: the capture point sees every packet to or from them */
enum {
    CORE_P1,
    CORE_P2,
    CORE_SBC,
    CORE_N
};
static const uint32_t core_ip[CORE_N] = {
    0xc0a8640bu, /* 192.168.100.11 proxy 1 */
    0xc0a8640cu, /* 192.168.100.12 proxy 2 */
    0xc0a86415u, /* 192.168.100.21 SBC (B2BUA) */
};
static const char *const core_agent[CORE_N] = {
    "kamailio (5.7.4 (x86_64/linux))",
    "kamailio (5.7.4 (x86_64/linux))",
    "SBC-7000 8.4.1",
};
#define N_GW 2
static const uint32_t gw_ip[N_GW] = { 0xc6336410u, 0xc6336411u }; /* 198.51.100.16, .17 */
static const char *const gw_agent = "PSTN-GW 3.2";

static const char *const ua_agents[] = {
    "Yealink SIP-T46S 66.86.0.15",   "PolycomVVX-VVX_450-UA/6.4.3.5018",
    "Grandstream GXP2170 1.0.11.23", "Linphone/5.2.0 (belle-sip/5.2.0)",
    "Cisco-CP8865/14.1.1",           "MicroSIP/3.21.3",
    "Z 5.6.1 rv2.10.19.6",           "snom D785/10.1.159.12",
};
#define N_AGENTS (sizeof ua_agents / sizeof ua_agents[0])

static uint32_t n_uas = 20000;

static uint32_t ua_ip(uint32_t i)
{
    uint32_t subnet = i / 250, host = i % 250 + 1;

    return (10u << 24) | ((1 + subnet / 256) << 16) | ((subnet % 256) << 8) | host;
}

static const char *ua_agent(uint32_t i)
{
    return ua_agents[mix64(i * 7 + 3) % N_AGENTS];
}

/* time from a core element sending to a UA until the UA's answer is on the
 * wire back at the capture point (round trip + a little processing), us */
static int64_t ua_rtt(uint32_t i)
{
    return (int64_t)(4 * MS + (int64_t)(mix64(i * 13 + 5) % (60 * MS)));
}

static void fmt_ip(char *b, uint32_t ip)
{
    snprintf(b, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* ------------------------------------------------------------- scripts */

enum meth {
    M_INVITE,
    M_ACK,
    M_BYE,
    M_CANCEL,
    M_UPDATE,
    M_REGISTER,
    M_OPTIONS,
    M_N
};
static const char *const meth_name[M_N] = { "INVITE", "ACK",      "BYE",    "CANCEL",
                                            "UPDATE", "REGISTER", "OPTIONS" };

enum {
    SC_CALL,
    SC_REGISTER,
    SC_OPTIONS
};
enum {
    OUT_ANSWERED,
    OUT_CANCEL,
    OUT_BUSY
};
enum {
    MODE_PROXY,
    MODE_B2BUA,
    MODE_SINGLE
};

/* txn flags */
#define TF_INITIAL 0x01u /* the initial INVITE of the call */
#define TF_HBH     0x02u /* CANCEL / ACK to a non-2xx: the INVITE's branch, one Via */
#define TF_SDP     0x04u /* the request (and its 2xx) carry SDP */
#define TF_TIMER   0x08u /* session-timer headers */
#define TF_AUTH    0x10u /* REGISTER with credentials */
#define TF_REASON  0x20u /* BYE with a Reason header */

/* One transaction (per leg CSeq; branches are derived from the call id, the
 * txn index and the hop).  dir 0: from the A side to the B side. */
struct txn {
    uint8_t method, dir, hops, flags;
    uint16_t ref; /* ACK, CANCEL: the INVITE */
    uint32_t cseq[2];
};

/* One message on the wire. code 0: the request of txn, else a response. */
struct step {
    int64_t t;
    uint32_t ord;
    uint16_t txn;
    uint16_t code;
    uint8_t hop;
    uint8_t retrans;
};

struct call {
    uint64_t id, seq;
    int64_t t0;
    uint8_t kind, mode, outcome, core;
    uint8_t timer, sup_timer;
    uint8_t legs_seen; /* Call-IDs already in the file (bit per leg) */
    uint32_t a, b;     /* UA numbers; b = UINT32_MAX: gateway */
    uint32_t a_ip, m_ip, b_ip;
    const char *a_agent, *m_agent, *b_agent;
    char a_user[24], b_user[24];
    uint16_t se[2]; /* session interval per leg */
    uint32_t cnt[2][2];
    struct txn *tx;
    uint32_t ntx, captx;
    struct step *st;
    uint32_t nst, capst, next;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);

    if (q == NULL) {
        fprintf(stderr, "gen: out of memory\n");
        exit(1);
    }
    return q;
}

static int nlegs(const struct call *c)
{
    return c->mode == MODE_B2BUA ? 2 : 1;
}

/* A new transaction; its CSeq comes from the counter of its sender on each leg. */
static uint16_t add_txn(struct call *c, enum meth m, int dir, int hops, unsigned flags, int ref)
{
    struct txn *x;

    if (c->ntx == c->captx) {
        c->captx = c->captx ? 2 * c->captx : 16;
        c->tx = xrealloc(c->tx, c->captx * sizeof *c->tx);
    }
    x = &c->tx[c->ntx];
    memset(x, 0, sizeof *x);
    x->method = (uint8_t)m;
    x->dir = (uint8_t)dir;
    x->hops = (uint8_t)hops;
    x->flags = (uint8_t)flags;
    x->ref = ref < 0 ? (uint16_t)c->ntx : (uint16_t)ref;
    for (int l = 0; l < nlegs(c); l++) {
        if (!(hops & (c->mode == MODE_B2BUA ? 1 << l : 3)))
            continue;
        if (m == M_ACK || m == M_CANCEL)
            x->cseq[l] = c->tx[x->ref].cseq[l];
        else
            x->cseq[l] = ++c->cnt[l][dir];
    }
    if (c->mode != MODE_B2BUA)
        x->cseq[1] = x->cseq[0];
    return (uint16_t)c->ntx++;
}

static uint32_t step_ord;

static void emit(struct call *c, int64_t t, int hop, uint16_t txn, int code, int retrans)
{
    struct step *s;

    if (c->nst == c->capst) {
        c->capst = c->capst ? 2 * c->capst : 32;
        c->st = xrealloc(c->st, c->capst * sizeof *c->st);
    }
    s = &c->st[c->nst++];
    s->t = t;
    s->ord = step_ord++;
    s->txn = txn;
    s->code = (uint16_t)code;
    s->hop = (uint8_t)hop;
    s->retrans = (uint8_t)retrans;
}

static int step_cmp(const void *a, const void *b)
{
    const struct step *x = a, *y = b;

    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* options */
static double retrans_p = 0.03;

/* proxy / SBC processing delay */
static int64_t P(struct rng *r)
{
    return rndi(r, 80, 700);
}

/* the capture sees a sender's timer retransmission T1 after the original,
 * give or take scheduling jitter */
static int64_t at_t1(struct rng *r, int64_t t)
{
    return t + T1 + rndi(r, 40, 2500);
}

/* a slow answer: after the first retransmission, before the second */
static int64_t slow_delay(struct rng *r)
{
    return rndi(r, 560 * MS, 1400 * MS);
}

static int64_t rtt_b(const struct call *c)
{
    return c->b == UINT32_MAX ? (int64_t)(2 * MS + (int64_t)(c->id % (3 * MS))) : ua_rtt(c->b);
}

static int64_t rtt_a(const struct call *c)
{
    return ua_rtt(c->a);
}

/*
 * A request through both hops (proxy: relayed end to end; B2BUA: the SBC
 * answers the first leg itself and sends its own request on the second),
 * answered by the far end with code (2xx: the request's ACK is not done
 * here).  Returns the time of the final response on the first hop.  INVITEs
 * get a 100 from the first hop's receiver at once.
 */
static int64_t relay_request(struct call *c, struct rng *r, uint16_t x, int64_t t, int code,
                             int64_t far_delay)
{
    const struct txn *tx = &c->tx[x];
    int h1 = tx->dir == 0 ? 0 : 1, h2 = 1 - h1;
    int inv = tx->method == M_INVITE;
    int64_t tf, tr, t2;
    int slow = chance(r, retrans_p);

    emit(c, t, h1, x, 0, 0);
    if (c->mode == MODE_B2BUA) {
        /* the SBC answers the first leg itself, then sends its own request */
        int64_t ta = t + P(r);

        emit(c, ta, h1, x, code, 0);
        tf = ta + P(r);
        emit(c, tf, h2, x, 0, 0);
        if (slow && !inv) {
            emit(c, at_t1(r, tf), h2, x, 0, 1);
            t2 = tf + slow_delay(r);
        } else {
            t2 = tf + far_delay;
        }
        emit(c, t2, h2, x, code, 0);
        return ta;
    }
    if (inv)
        emit(c, t + P(r), h1, x, 100, 0);
    tf = t + 2 * P(r) + 100;
    emit(c, tf, h2, x, 0, 0);
    if (slow && !inv) {
        /* the far end is slow: both senders retransmit at T1, the proxy
         * absorbs the upstream copy */
        tr = at_t1(r, t);
        emit(c, tr, h1, x, 0, 1);
        emit(c, at_t1(r, tf), h2, x, 0, 1);
        t2 = tf + slow_delay(r);
        if (t2 < tr + 2000)
            t2 = tr + 2000;
    } else {
        t2 = tf + far_delay;
    }
    emit(c, t2, h2, x, code, 0);
    t2 += P(r);
    emit(c, t2, h1, x, code, 0);
    return t2;
}

/* the ACK to a 2xx of INVITE x received on the A side at t200 (and on the B
 * side at t200b), sent by the UAC after ack_delay; 2xx retransmitted before it
 * when late */
static int64_t ack_2xx(struct call *c, struct rng *r, uint16_t x, int64_t t200b, int64_t t200a,
                       int late)
{
    int64_t tack;

    if (c->mode == MODE_B2BUA) {
        uint16_t kb = add_txn(c, M_ACK, 0, 2, 0, x);
        uint16_t ka;

        if (c->tx[x].hops & 2)
            emit(c, t200b + P(r), 1, kb, 0, 0);
        ka = add_txn(c, M_ACK, 0, 1, 0, x);
        if (late) {
            emit(c, at_t1(r, t200a), 0, x, 200, 1);
            tack = t200a + slow_delay(r);
        } else {
            tack = t200a + rtt_a(c) + rndi(r, 300, 5000);
        }
        emit(c, tack, 0, ka, 0, 0);
        return tack;
    }
    uint16_t k = add_txn(c, M_ACK, 0, 3, 0, x);

    if (late) {
        int64_t tr = at_t1(r, t200b);

        emit(c, tr, 1, x, 200, 1);
        emit(c, tr + P(r), 0, x, 200, 1);
        tack = tr + rndi(r, 30 * MS, 400 * MS);
    } else {
        tack = t200a + rtt_a(c) + rndi(r, 300, 5000);
    }
    emit(c, tack, 0, k, 0, 0);
    emit(c, tack + P(r), 1, k, 0, 0);
    return tack + 1000;
}

/*
 * Session refreshes on one leg (proxy: the only leg, both hops; B2BUA: hop =
 * leg), by the UAC of that leg (refresher=uac), from the 2xx arming at arm
 * until the call ends.  Returns the end of the last refresh.
 */
static int64_t refreshes(struct call *c, struct rng *r, int leg, int64_t arm, enum meth how,
                         int64_t *t_end)
{
    int hops = c->mode == MODE_B2BUA ? 1 << leg : 3;
    int64_t se = (int64_t)c->se[leg] * US, last = arm;

    for (;;) {
        int64_t next = arm + se / 2 - rndi(r, 0, 1500 * MS), t2;
        uint16_t x;

        if (next > *t_end - 2 * US)
            break;
        x = add_txn(c, how, 0, hops, TF_TIMER | (how == M_INVITE ? TF_SDP : 0u), -1);
        if (c->mode != MODE_B2BUA) {
            int64_t far = rtt_b(c) + rndi(r, 2 * MS, 40 * MS);

            t2 = relay_request(c, r, x, next, 200, far);
            if (how == M_INVITE)
                last = ack_2xx(c, r, x, t2, t2, 0);
            else
                last = t2;
            arm = t2;
        } else if (leg == 0) {
            /* A refreshes the SBC's leg; the SBC answers at once */
            int64_t ta = next + P(r);

            emit(c, next, 0, x, 0, 0);
            emit(c, ta, 0, x, 200, 0);
            if (how == M_INVITE) {
                uint16_t k = add_txn(c, M_ACK, 0, 1, 0, x);

                last = ta + rtt_a(c) + rndi(r, 300, 5000);
                emit(c, last, 0, k, 0, 0);
            } else {
                last = ta;
            }
            arm = ta;
        } else {
            /* the SBC refreshes the far leg */
            int slow = how == M_UPDATE && chance(r, retrans_p);

            emit(c, next, 1, x, 0, 0);
            if (slow) {
                emit(c, at_t1(r, next), 1, x, 0, 1);
                t2 = next + slow_delay(r);
            } else {
                t2 = next + rtt_b(c) + rndi(r, 2 * MS, 40 * MS);
            }
            emit(c, t2, 1, x, 200, 0);
            last = t2;
            if (how == M_INVITE) {
                uint16_t k = add_txn(c, M_ACK, 0, 2, 0, x);

                last = t2 + P(r);
                emit(c, last, 1, k, 0, 0);
            }
            arm = t2;
        }
        if (*t_end < last + US)
            *t_end = last + US + rndi(r, 0, US);
    }
    return last;
}

/* session intervals offered, weighted */
static uint16_t pick_se(struct rng *r)
{
    static const uint16_t v[] = { 90, 90, 120, 120, 180, 180, 300, 300, 600, 1800 };

    return v[rndi(r, 0, (int64_t)(sizeof v / sizeof v[0]) - 1)];
}

static void build_call(struct call *c, struct rng *r)
{
    unsigned f0 = TF_INITIAL | TF_SDP;
    uint16_t x0, xa;
    int64_t t = 0, tB, t180, t200, t200a, tack, t_end, tc;

    if (c->timer)
        f0 |= TF_TIMER;
    x0 = add_txn(c, M_INVITE, 0, 3, f0, -1);
    /* hop 0: A -> core, 100 at once */
    emit(c, t, 0, x0, 0, 0);
    {
        int64_t t100 = t + P(r);

        emit(c, t100, 0, x0, 100, 0);
        if (chance(r, retrans_p)) {
            /* the 100 got lost on the way to A: A retransmits, the core
             * answers the retransmission with its 100 again */
            int64_t tr = at_t1(r, t);

            emit(c, tr, 0, x0, 0, 1);
            emit(c, tr + P(r), 0, x0, 100, 1);
        }
        t = t100 + P(r);
    }
    /* hop 1: core -> B */
    emit(c, t, 1, x0, 0, 0);
    if (chance(r, retrans_p)) {
        /* B is slow: the core retransmits at T1 */
        emit(c, at_t1(r, t), 1, x0, 0, 1);
        tB = t + slow_delay(r);
    } else {
        tB = t + rtt_b(c) + rndi(r, 200, 3 * MS);
    }
    emit(c, tB, 1, x0, 100, 0);

    if (c->outcome == OUT_BUSY) {
        int64_t t486 = tB + rndi(r, 10 * MS, 3 * US);

        xa = add_txn(c, M_ACK, 0, 3, TF_HBH, x0);
        emit(c, t486, 1, x0, 486, 0);
        emit(c, t486 + P(r), 1, xa, 0, 0);
        t486 += P(r) + P(r);
        emit(c, t486, 0, x0, 486, 0);
        emit(c, t486 + rtt_a(c) + rndi(r, 200, 3 * MS), 0, xa, 0, 0);
        return;
    }
    t180 = tB + rndi(r, 20 * MS, 400 * MS);
    emit(c, t180, 1, x0, 180, 0);
    emit(c, t180 + P(r), 0, x0, 180, 0);

    if (c->outcome == OUT_CANCEL) {
        uint16_t xc = add_txn(c, M_CANCEL, 0, 3, TF_HBH, x0);
        int64_t t487;

        tc = t180 + rndi(r, 800 * MS, 25 * US);
        emit(c, tc, 0, xc, 0, 0);
        emit(c, tc + P(r), 0, xc, 200, 0);
        tc += 2 * P(r) + 100;
        emit(c, tc, 1, xc, 0, 0);
        tc += rtt_b(c) + rndi(r, 200, 2 * MS);
        emit(c, tc, 1, xc, 200, 0);
        t487 = tc + rndi(r, 100, 3 * MS);
        emit(c, t487, 1, x0, 487, 0);
        xa = add_txn(c, M_ACK, 0, 3, TF_HBH, x0);
        emit(c, t487 + P(r), 1, xa, 0, 0);
        t487 += 2 * P(r) + 100;
        emit(c, t487, 0, x0, 487, 0);
        emit(c, t487 + rtt_a(c) + rndi(r, 200, 3 * MS), 0, xa, 0, 0);
        return;
    }

    /* answered */
    t200 = t180 + rndi(r, 1 * US, 20 * US);
    emit(c, t200, 1, x0, 200, 0);
    t200a = t200 + P(r) + (c->mode == MODE_B2BUA ? P(r) : 0);
    emit(c, t200a, 0, x0, 200, 0);
    tack = ack_2xx(c, r, x0, t200, t200a, chance(r, 2 * retrans_p));

    t_end = tack + (int64_t)(fmin(1800.0, fmax(2.0, rnd_lognormal(r, 45.0, 1.0))) * US);
    if (c->timer) {
        enum meth how = chance(r, 0.5) ? M_UPDATE : M_INVITE;

        refreshes(c, r, 0, t200a, how, &t_end);
        if (c->mode == MODE_B2BUA)
            refreshes(c, r, 1, t200, chance(r, 0.5) ? M_UPDATE : M_INVITE, &t_end);
    }
    /* BYE from either side */
    {
        int dir = chance(r, 0.55) ? 0 : 1;
        uint16_t xb = add_txn(c, M_BYE, dir, 3, chance(r, 0.4) ? TF_REASON : 0u, -1);
        int64_t far = (dir == 0 ? rtt_b(c) : rtt_a(c)) + rndi(r, 300, 20 * MS);

        relay_request(c, r, xb, t_end, 200, far);
    }
}

static void build_register(struct call *c, struct rng *r)
{
    uint16_t x1 = add_txn(c, M_REGISTER, 0, 1, 0, -1), x2;
    int64_t t = rndi(r, 300, 3 * MS);

    emit(c, 0, 0, x1, 0, 0);
    emit(c, t, 0, x1, 401, 0);
    t += rtt_a(c) + rndi(r, 1 * MS, 20 * MS);
    x2 = add_txn(c, M_REGISTER, 0, 1, TF_AUTH, -1);
    emit(c, t, 0, x2, 0, 0);
    if (chance(r, retrans_p)) {
        /* the registrar's database is slow */
        emit(c, at_t1(r, t), 0, x2, 0, 1);
        t += slow_delay(r);
    } else {
        t += rndi(r, 400, 10 * MS);
    }
    emit(c, t, 0, x2, 200, 0);
}

static void build_options(struct call *c, struct rng *r)
{
    /* dir 1: the core element pings the UA (or another core element) */
    uint16_t x = add_txn(c, M_OPTIONS, 1, 1, 0, -1);
    int64_t t;

    emit(c, 0, 0, x, 0, 0);
    if (chance(r, retrans_p)) {
        emit(c, at_t1(r, 0), 0, x, 0, 1);
        t = slow_delay(r);
    } else {
        t = (c->a == UINT32_MAX ? rndi(r, 200, 2 * MS) : rtt_a(c)) + rndi(r, 100, 2 * MS);
    }
    emit(c, t, 0, x, 200, 0);
}

/* -------------------------------------------------------------- stats */

static struct {
    uint64_t messages, requests[M_N], responses[700], retrans_req, retrans_rsp;
    uint64_t payload_bytes, file_bytes;
    uint64_t calls, answered, cancelled, busy, timer_calls, proxied, b2bua, registers, options;
    uint64_t active_calls, max_active_calls, call_ids;
    int64_t last_t;
} S;

/* ---------------------------------------------------------- rendering */

struct buf {
    char *p;
    size_t n, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= b->cap - b->n) {
        fprintf(stderr, "gen: message too large\n");
        exit(1);
    }
    b->n += (size_t)k;
}

enum {
    E_A,
    E_M,
    E_B
};

static uint32_t elem_ip(const struct call *c, int e)
{
    return e == E_A ? c->a_ip : e == E_M ? c->m_ip : c->b_ip;
}

static const char *elem_agent(const struct call *c, int e)
{
    return e == E_A ? c->a_agent : e == E_M ? c->m_agent : c->b_agent;
}

/* sender of a message on hop going in direction md (0: towards B) */
static int hop_src(int hop, int md)
{
    return hop == 0 ? (md == 0 ? E_A : E_M) : (md == 0 ? E_M : E_B);
}

static int hop_dst(int hop, int md)
{
    return hop == 0 ? (md == 0 ? E_M : E_A) : (md == 0 ? E_B : E_M);
}

static uint64_t hid(const struct call *c, uint64_t what)
{
    return mix64(c->id ^ mix64(what + 0x51ed2701u));
}

static uint64_t branch(const struct call *c, unsigned txn, int hop)
{
    return hid(c, 0x100000u + txn * 4u + (unsigned)hop);
}

/* tags: leg l caller (A or the SBC), callee (B or the SBC) */
static uint32_t tag_caller(const struct call *c, int l)
{
    return (uint32_t)hid(c, 10u + (unsigned)l);
}

static uint32_t tag_callee(const struct call *c, int l)
{
    return (uint32_t)hid(c, 20u + (unsigned)l);
}

static void via(struct buf *b, const struct call *c, int e, uint64_t br)
{
    char ip[16];

    fmt_ip(ip, elem_ip(c, e));
    bprintf(b, "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%016" PRIx64 "\r\n", ip, br);
}

static void callid(struct buf *b, const struct call *c, int l)
{
    char ip[16];

    fmt_ip(ip, l == 0 ? (c->kind == SC_OPTIONS ? c->m_ip : c->a_ip) : c->m_ip);
    bprintf(b, "Call-ID: %016" PRIx64 "%08" PRIx32 "@%s\r\n", hid(c, 30u + (unsigned)l),
            (uint32_t)hid(c, 40u + (unsigned)l), ip);
}

static void sdp(struct buf *b, const struct call *c, int e)
{
    char ip[16];
    uint64_t h = hid(c, 50u + (unsigned)e);

    fmt_ip(ip, elem_ip(c, e));
    bprintf(b,
            "v=0\r\no=- %" PRIu64 " %" PRIu64 " IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %u RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
            h % 1000000000u, h % 1000000000u, ip, ip, (unsigned)(10000 + 2 * (h >> 40) % 20000));
}

static const char allow[] =
        "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY\r\n";

static const char *reason_phrase(int code)
{
    switch (code) {
    case 100:
        return "Trying";
    case 180:
        return "Ringing";
    case 200:
        return "OK";
    case 401:
        return "Unauthorized";
    case 486:
        return "Busy Here";
    case 487:
        return "Request Terminated";
    default:
        return "Unknown";
    }
}

/* contact (URI) of leg l's caller / callee side */
static void contact_uri(char *out, size_t n, const struct call *c, int l, int callee)
{
    char ip[16];

    if (!callee) {
        fmt_ip(ip, c->mode == MODE_B2BUA && l == 1 ? c->m_ip : c->a_ip);
        snprintf(out, n, "sip:%s@%s:5060", c->a_user, ip);
    } else {
        fmt_ip(ip, c->mode == MODE_B2BUA && l == 0 ? c->m_ip : c->b_ip);
        snprintf(out, n, "sip:%s@%s:5060", c->b_user, ip);
    }
}

static void content(struct buf *b, const struct call *c, int sdp_from)
{
    if (sdp_from < 0) {
        bprintf(b, "Content-Length: 0\r\n\r\n");
        return;
    }
    char body[1024];
    struct buf bb = { body, 0, sizeof body };

    sdp(&bb, c, sdp_from);
    bprintf(b, "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n", bb.n);
    bprintf(b, "%s", body);
}

static void render_call(struct buf *b, const struct call *c, const struct step *s, int *src,
                        int *dst)
{
    const struct txn *x = &c->tx[s->txn];
    const struct txn *inv = &c->tx[x->ref];
    int h = s->hop, l = c->mode == MODE_B2BUA ? h : 0;
    int req = s->code == 0, md = req ? x->dir : !x->dir;
    int proxy = c->mode == MODE_PROXY;
    int hbh = (x->flags & TF_HBH) != 0;
    /* the initial INVITE, and the CANCEL / ACK to a non-2xx that copy its
     * Request-URI (the ACK to a 2xx is an in-dialog request) */
    int initial = (x->flags & TF_INITIAL) != 0 || (hbh && (inv->flags & TF_INITIAL) != 0);
    int rsnd = hop_src(h, md), rrcv = hop_dst(h, md);
    /* the request's sender and receiver on this hop */
    int qs = hop_src(h, x->dir), qr = hop_dst(h, x->dir);
    /* the UA that originated the request (a proxy relays) */
    int orig = proxy && qs == E_M ? (x->dir == 0 ? E_A : E_B) : qs;
    /* who generated this response */
    int resp = (!proxy || hbh || s->code == 100 || x->method == M_CANCEL)
                       ? qr
                       : (x->dir == 0 ? E_B : E_A);
    int to_tag = !(x->method == M_CANCEL || (x->method == M_INVITE && initial));
    char ip[16], uri[96];
    int sdp_from = -1;

    *src = rsnd;
    *dst = rrcv;
    if (req) {
        const char *m = meth_name[x->method];

        if (initial) {
            if (h == 0) {
                bprintf(b, "%s sip:%s@%s SIP/2.0\r\n", m, c->b_user, DOMAIN);
            } else {
                fmt_ip(ip, c->b_ip);
                bprintf(b, "%s sip:%s@%s:5060 SIP/2.0\r\n", m, c->b_user, ip);
            }
        } else {
            contact_uri(uri, sizeof uri, c, l, x->dir == 0);
            bprintf(b, "%s %s SIP/2.0\r\n", m, uri);
        }
    } else {
        bprintf(b, "SIP/2.0 %d %s\r\n", s->code, reason_phrase(s->code));
    }
    /* Via: the request's on this hop */
    if (hbh) {
        via(b, c, qs, branch(c, x->ref, h));
    } else {
        via(b, c, qs, branch(c, s->txn, h));
        if (proxy && qs == E_M)
            via(b, c, orig, branch(c, s->txn, 1 - h));
    }
    if (req)
        bprintf(b, "Max-Forwards: %d\r\n", proxy && qs == E_M && !hbh ? 69 : 70);
    /* Route: a UA's in-dialog request through the record-routing proxy */
    if (req && proxy && !hbh && !initial && qs != E_M) {
        fmt_ip(ip, c->m_ip);
        bprintf(b, "Route: <sip:%s;lr>\r\n", ip);
    }
    if (proxy && initial && x->method == M_INVITE && !hbh &&
        ((req && h == 1) || (!req && s->code > 100 && s->code < 300))) {
        fmt_ip(ip, c->m_ip);
        bprintf(b, "Record-Route: <sip:%s;lr>\r\n", ip);
    }
    /* From / To */
    {
        uint32_t ct = tag_caller(c, l), ce = tag_callee(c, l);
        int has_to_tag = to_tag || (!req && s->code != 100);

        if (x->dir == 0) {
            bprintf(b, "From: \"%s\" <sip:%s@%s>;tag=%08" PRIx32 "\r\n", c->a_user, c->a_user,
                    DOMAIN, ct);
            bprintf(b, "To: <sip:%s@%s>", c->b_user, DOMAIN);
            if (has_to_tag)
                bprintf(b, ";tag=%08" PRIx32, ce);
            bprintf(b, "\r\n");
        } else {
            bprintf(b, "From: <sip:%s@%s>;tag=%08" PRIx32 "\r\n", c->b_user, DOMAIN, ce);
            bprintf(b, "To: \"%s\" <sip:%s@%s>;tag=%08" PRIx32 "\r\n", c->a_user, c->a_user, DOMAIN,
                    ct);
        }
    }
    callid(b, c, l);
    bprintf(b, "CSeq: %" PRIu32 " %s\r\n", x->cseq[l], meth_name[x->method]);
    if (req) {
        int cside = orig == E_A ? 0 : orig == E_B ? 1 : (h == 0 ? 1 : 0);

        if (x->method == M_INVITE || x->method == M_UPDATE) {
            contact_uri(uri, sizeof uri, c, l, cside);
            bprintf(b, "Contact: <%s>\r\n", uri);
        }
        if (x->method == M_INVITE && initial) {
            bprintf(b, "%s", allow);
            bprintf(b, "Supported: %s\r\n",
                    c->sup_timer || c->timer ? "replaces, timer" : "replaces");
        } else if (x->flags & TF_TIMER) {
            bprintf(b, "Supported: replaces, timer\r\n");
        }
        if (x->flags & TF_TIMER)
            bprintf(b, "Session-Expires: %u;refresher=uac\r\nMin-SE: 90\r\n", c->se[l]);
        if (x->flags & TF_REASON)
            bprintf(b, "Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n");
        bprintf(b, "User-Agent: %s\r\n", elem_agent(c, orig));
        if (x->flags & TF_SDP)
            sdp_from = orig;
    } else {
        int code = s->code;
        int rside = resp == E_A ? 0 : resp == E_B ? 1 : (h == 0 ? 1 : 0);

        if ((code == 180 || code == 200) && (x->method == M_INVITE || x->method == M_UPDATE)) {
            contact_uri(uri, sizeof uri, c, l, rside);
            bprintf(b, "Contact: <%s>\r\n", uri);
        }
        if (code == 200 && x->method == M_INVITE && initial) {
            bprintf(b, "%s", allow);
            bprintf(b, "Supported: replaces, timer\r\n");
        }
        if (code == 200 && (x->flags & TF_TIMER))
            bprintf(b, "Require: timer\r\nSession-Expires: %u;refresher=uac\r\n", c->se[l]);
        bprintf(b, "Server: %s\r\n", elem_agent(c, resp));
        if (code == 200 && (x->flags & TF_SDP))
            sdp_from = resp;
    }
    content(b, c, sdp_from);
}

static void render_register(struct buf *b, const struct call *c, const struct step *s)
{
    const struct txn *x = &c->tx[s->txn];
    char aip[16], mip[16];
    uint64_t nonce = hid(c, 60);

    fmt_ip(aip, c->a_ip);
    fmt_ip(mip, c->m_ip);
    if (s->code == 0)
        bprintf(b, "REGISTER sip:%s SIP/2.0\r\n", DOMAIN);
    else
        bprintf(b, "SIP/2.0 %d %s\r\n", s->code, reason_phrase(s->code));
    via(b, c, E_A, branch(c, s->txn, 0));
    if (s->code == 0)
        bprintf(b, "Max-Forwards: 70\r\n");
    bprintf(b, "From: <sip:%s@%s>;tag=%08" PRIx32 "\r\n", c->a_user, DOMAIN, tag_caller(c, 0));
    bprintf(b, "To: <sip:%s@%s>", c->a_user, DOMAIN);
    if (s->code != 0)
        bprintf(b, ";tag=%08" PRIx32, (uint32_t)hid(c, 70u + s->txn));
    bprintf(b, "\r\n");
    callid(b, c, 0);
    bprintf(b, "CSeq: %" PRIu32 " REGISTER\r\n", x->cseq[0]);
    if (s->code == 0) {
        bprintf(b, "Contact: <sip:%s@%s:5060>;expires=3600\r\n", c->a_user, aip);
        if (x->flags & TF_AUTH)
            bprintf(b,
                    "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%016" PRIx64
                    "%08" PRIx32 "\", uri=\"sip:%s\", response=\"%016" PRIx64 "%016" PRIx64
                    "\", algorithm=MD5, cnonce=\"%08" PRIx32 "\", qop=auth, nc=00000001\r\n",
                    c->a_user, DOMAIN, nonce, (uint32_t)hid(c, 61), DOMAIN, hid(c, 62), hid(c, 63),
                    (uint32_t)hid(c, 64));
        bprintf(b, "%s", allow);
        bprintf(b, "User-Agent: %s\r\n", c->a_agent);
    } else if (s->code == 401) {
        bprintf(b,
                "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%016" PRIx64 "%08" PRIx32
                "\", qop=\"auth\", algorithm=MD5\r\n",
                DOMAIN, nonce, (uint32_t)hid(c, 61));
        bprintf(b, "Server: %s\r\n", c->m_agent);
    } else {
        bprintf(b, "Contact: <sip:%s@%s:5060>;expires=3600\r\n", c->a_user, aip);
        bprintf(b, "Server: %s\r\n", c->m_agent);
    }
    (void)mip;
    bprintf(b, "Content-Length: 0\r\n\r\n");
}

static void render_options(struct buf *b, const struct call *c, const struct step *s)
{
    const struct txn *x = &c->tx[s->txn];
    char aip[16], mip[16];
    int core_peer = c->a == UINT32_MAX;

    fmt_ip(aip, c->a_ip);
    fmt_ip(mip, c->m_ip);
    if (s->code == 0) {
        if (core_peer)
            bprintf(b, "OPTIONS sip:%s:5060 SIP/2.0\r\n", aip);
        else
            bprintf(b, "OPTIONS sip:%s@%s:5060 SIP/2.0\r\n", c->a_user, aip);
    } else {
        bprintf(b, "SIP/2.0 %d %s\r\n", s->code, reason_phrase(s->code));
    }
    via(b, c, E_M, branch(c, s->txn, 0));
    if (s->code == 0)
        bprintf(b, "Max-Forwards: 70\r\n");
    bprintf(b, "From: <sip:ping@%s>;tag=%08" PRIx32 "\r\n", mip, tag_caller(c, 0));
    if (core_peer)
        bprintf(b, "To: <sip:%s:5060>", aip);
    else
        bprintf(b, "To: <sip:%s@%s:5060>", c->a_user, aip);
    if (s->code != 0)
        bprintf(b, ";tag=%08" PRIx32, tag_callee(c, 0));
    bprintf(b, "\r\n");
    callid(b, c, 0);
    bprintf(b, "CSeq: %" PRIu32 " OPTIONS\r\n", x->cseq[0]);
    if (s->code == 0) {
        bprintf(b, "Accept: application/sdp\r\n");
        bprintf(b, "User-Agent: %s\r\n", c->m_agent);
    } else {
        bprintf(b, "%s", allow);
        bprintf(b, "Accept: application/sdp\r\nSupported: replaces, timer\r\n");
        bprintf(b, "Server: %s\r\n", c->a_agent);
    }
    bprintf(b, "Content-Length: 0\r\n\r\n");
}

/* ---------------------------------------------------------- pcap out */

static FILE *out;
static int64_t start_epoch = 1773651600; /* 2026-03-16T09:00:00Z */
static uint16_t ip_id;

static void put16be(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put32be(unsigned char *p, uint32_t v)
{
    put16be(p, v >> 16);
    put16be(p + 2, v & 0xffff);
}

static void put32le(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t csum_add(uint32_t s, const unsigned char *p, size_t n)
{
    for (; n > 1; p += 2, n -= 2)
        s += (uint32_t)(p[0] << 8 | p[1]);
    if (n)
        s += (uint32_t)p[0] << 8;
    return s;
}

static unsigned csum_fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return ~s & 0xffff;
}

static void wr(const void *p, size_t n)
{
    if (fwrite(p, 1, n, out) != n) {
        fprintf(stderr, "gen: write: %s\n", strerror(errno));
        exit(1);
    }
    S.file_bytes += n;
}

static void pcap_header(void)
{
    unsigned char h[24];

    put32le(h, 0xa1b2c3d4u);
    h[4] = 2, h[5] = 0, h[6] = 4, h[7] = 0;
    put32le(h + 8, 0);
    put32le(h + 12, 0);
    put32le(h + 16, 65535);
    put32le(h + 20, 1); /* Ethernet */
    wr(h, sizeof h);
}

static void pcap_packet(int64_t t, uint32_t src, uint32_t dst, const char *payload, size_t n)
{
    unsigned char h[16 + 14 + 20 + 8], pseudo[12];
    size_t len = 14 + 20 + 8 + n;
    int64_t abs_us = start_epoch * US + t;
    unsigned char *e = h + 16, *ip = e + 14, *udp = ip + 20;
    uint32_t s;

    put32le(h, (uint32_t)(abs_us / US));
    put32le(h + 4, (uint32_t)(abs_us % US));
    put32le(h + 8, (uint32_t)len);
    put32le(h + 12, (uint32_t)len);
    /* Ethernet: locally administered MACs from the addresses */
    e[0] = 0x02, e[1] = 0x00;
    put32be(e + 2, dst);
    e[6] = 0x02, e[7] = 0x00;
    put32be(e + 8, src);
    e[12] = 0x08, e[13] = 0x00;
    /* IPv4 */
    ip[0] = 0x45, ip[1] = 0x60; /* DSCP CS3 */
    put16be(ip + 2, (unsigned)(20 + 8 + n));
    put16be(ip + 4, ip_id++);
    put16be(ip + 6, 0x4000); /* DF */
    ip[8] = 64, ip[9] = 17;
    put16be(ip + 10, 0);
    put32be(ip + 12, src);
    put32be(ip + 16, dst);
    put16be(ip + 10, csum_fold(csum_add(0, ip, 20)));
    /* UDP 5060 -> 5060 with checksum */
    put16be(udp, 5060);
    put16be(udp + 2, 5060);
    put16be(udp + 4, (unsigned)(8 + n));
    put16be(udp + 6, 0);
    put32be(pseudo, src);
    put32be(pseudo + 4, dst);
    pseudo[8] = 0, pseudo[9] = 17;
    put16be(pseudo + 10, (unsigned)(8 + n));
    s = csum_add(csum_add(csum_add(0, pseudo, 12), udp, 8), (const unsigned char *)payload, n);
    s = csum_fold(s);
    put16be(udp + 6, s == 0 ? 0xffff : s);
    wr(h, sizeof h);
    wr(payload, n);
}

/* ---------------------------------------------------------- heap */

static struct call **heap;
static size_t nheap, capheap;

static int call_before(const struct call *a, const struct call *b)
{
    int64_t ta = a->st[a->next].t, tb = b->st[b->next].t;

    return ta != tb ? ta < tb : a->seq < b->seq;
}

static void heap_push(struct call *c)
{
    size_t i;

    if (nheap == capheap) {
        capheap = capheap ? 2 * capheap : 1024;
        heap = xrealloc(heap, capheap * sizeof *heap);
    }
    i = nheap++;
    while (i > 0 && call_before(c, heap[(i - 1) / 2])) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = c;
}

static void heap_sift_down(void)
{
    size_t i = 0;
    struct call *c = heap[0];

    for (;;) {
        size_t l = 2 * i + 1, m = i;

        if (l < nheap && call_before(heap[l], c))
            m = l;
        if (l + 1 < nheap && call_before(heap[l + 1], m == i ? c : heap[m]))
            m = l + 1;
        if (m == i)
            break;
        heap[i] = heap[m];
        i = m;
    }
    heap[i] = c;
}

static void call_free(struct call *c)
{
    free(c->tx);
    free(c->st);
    free(c);
}

/* ---------------------------------------------------------- scenarios */

static uint64_t seed = 1;

static struct call *spawn(uint64_t seq, int64_t t0)
{
    struct call *c = calloc(1, sizeof *c);
    struct rng r;
    double u;

    if (c == NULL) {
        fprintf(stderr, "gen: out of memory\n");
        exit(1);
    }
    c->seq = seq;
    c->id = mix64(seed * 0x9e3779b97f4a7c15ULL ^ mix64(seq + 1));
    c->t0 = t0;
    r.s = c->id;
    /* CSeq starting points: some UAs start at 1, most at a random number */
    for (int l = 0; l < 2; l++)
        for (int d = 0; d < 2; d++)
            c->cnt[l][d] = chance(&r, 0.3) ? 0 : (uint32_t)rndi(&r, 1, 30000);
    c->a = (uint32_t)rndi(&r, 0, n_uas - 1);
    c->a_ip = ua_ip(c->a);
    c->a_agent = ua_agent(c->a);
    snprintf(c->a_user, sizeof c->a_user, "%u", 2000000u + c->a);

    /* mix (percent of scenarios): calls 60 (answered 46, of which 14 with
     * session timers; cancelled 7; busy 7), REGISTER 22, OPTIONS 18 */
    u = rnd01(&r) * 100.0;
    if (u < 60.0) {
        c->kind = SC_CALL;
        c->outcome = u < 46.0 ? OUT_ANSWERED : u < 53.0 ? OUT_CANCEL : OUT_BUSY;
        c->timer = u < 14.0;
        c->sup_timer = chance(&r, 0.5);
        u = rnd01(&r);
        c->core = u < 0.45 ? CORE_P1 : u < 0.7 ? CORE_P2 : CORE_SBC;
        c->mode = c->core == CORE_SBC ? MODE_B2BUA : MODE_PROXY;
        if (c->mode == MODE_B2BUA && chance(&r, 0.7)) {
            /* to the PSTN */
            c->b = UINT32_MAX;
            c->b_ip = gw_ip[rndi(&r, 0, N_GW - 1)];
            c->b_agent = gw_agent;
            snprintf(c->b_user, sizeof c->b_user, "+4930%07u", (unsigned)rndi(&r, 0, 9999999));
        } else {
            do
                c->b = (uint32_t)rndi(&r, 0, n_uas - 1);
            while (c->b == c->a);
            c->b_ip = ua_ip(c->b);
            c->b_agent = ua_agent(c->b);
            snprintf(c->b_user, sizeof c->b_user, "%u", 2000000u + c->b);
        }
        c->m_ip = core_ip[c->core];
        c->m_agent = core_agent[c->core];
        c->se[0] = pick_se(&r);
        /* the SBC's own policy on its outgoing leg */
        c->se[1] = c->mode == MODE_B2BUA ? (chance(&r, 0.5) ? 1800 : 600) : c->se[0];
        build_call(c, &r);
        S.calls++;
        S.answered += c->outcome == OUT_ANSWERED;
        S.cancelled += c->outcome == OUT_CANCEL;
        S.busy += c->outcome == OUT_BUSY;
        S.timer_calls += c->timer;
        S.proxied += c->mode == MODE_PROXY;
        S.b2bua += c->mode == MODE_B2BUA;
        S.active_calls++;
        if (S.active_calls > S.max_active_calls)
            S.max_active_calls = S.active_calls;
    } else if (u < 82.0) {
        c->kind = SC_REGISTER;
        c->mode = MODE_SINGLE;
        c->core = (uint8_t)rndi(&r, CORE_P1, CORE_P2);
        c->m_ip = core_ip[c->core];
        c->m_agent = core_agent[c->core];
        build_register(c, &r);
        S.registers++;
    } else {
        c->kind = SC_OPTIONS;
        c->mode = MODE_SINGLE;
        c->core = (uint8_t)rndi(&r, 0, CORE_N - 1);
        c->m_ip = core_ip[c->core];
        c->m_agent = core_agent[c->core];
        if (chance(&r, 0.25)) {
            /* between core elements */
            int peer = (c->core + (int)rndi(&r, 1, CORE_N - 1)) % CORE_N;

            c->a = UINT32_MAX;
            c->a_ip = core_ip[peer];
            c->a_agent = core_agent[peer];
        }
        build_options(c, &r);
        S.options++;
    }
    qsort(c->st, c->nst, sizeof *c->st, step_cmp);
    for (uint32_t i = 0; i < c->nst; i++)
        c->st[i].t += t0;
    return c;
}

static void write_step(struct call *c, const struct step *s)
{
    static char pbuf[4096];
    struct buf b = { pbuf, 0, sizeof pbuf };
    int src = E_M, dst = E_A;
    const struct txn *x = &c->tx[s->txn];

    if (c->kind == SC_CALL) {
        render_call(&b, c, s, &src, &dst);
    } else if (c->kind == SC_REGISTER) {
        render_register(&b, c, s);
        src = s->code == 0 ? E_A : E_M;
        dst = s->code == 0 ? E_M : E_A;
    } else {
        render_options(&b, c, s);
        src = s->code == 0 ? E_M : E_A;
        dst = s->code == 0 ? E_A : E_M;
    }
    if (b.n > 1472) {
        fprintf(stderr, "gen: message of %zu bytes would be fragmented\n", b.n);
        exit(1);
    }
    pcap_packet(s->t, elem_ip(c, src), elem_ip(c, dst), pbuf, b.n);
    {
        unsigned leg = c->kind == SC_CALL && c->mode == MODE_B2BUA ? s->hop : 0u;

        if (!(c->legs_seen & (1u << leg))) {
            c->legs_seen |= (uint8_t)(1u << leg);
            S.call_ids++;
        }
    }
    S.messages++;
    S.payload_bytes += b.n;
    S.last_t = s->t;
    if (s->code == 0)
        S.requests[x->method]++;
    else
        S.responses[s->code]++;
    if (s->retrans) {
        if (s->code == 0)
            S.retrans_req++;
        else
            S.retrans_rsp++;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gen -n MESSAGES -o FILE [-s SEED] [-r CALLS_PER_SEC] [-u UAS]\n"
               "           [-p RETRANS_PERCENT] [-t START_EPOCH] [-q]\n"
               "Writes a deterministic pcap of exactly MESSAGES SIP messages (UDP 5060).\n"
               "  -n  messages to write (e.g. 100000, 1000000, 10000000)\n"
               "  -o  output pcap file ('-' for standard output)\n"
               "  -s  PRNG seed (default 1)\n"
               "  -r  new INVITE calls per second (default 50; REGISTER and OPTIONS\n"
               "      come on top: calls are 60%% of the scenarios)\n"
               "  -u  number of user agents in 10.0.0.0/8 (default 20000)\n"
               "  -p  percent of transactions with a retransmission (default 3)\n"
               "  -t  time of the first packet, Unix seconds (default 1773651600)\n"
               "  -q  no summary on standard error\n");
}

static int parse_num(const char *s, double *v)
{
    char *e;

    errno = 0;
    *v = strtod(s, &e);
    return errno == 0 && e != s && *e == '\0';
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    double n_d = -1, rate = 50, v;
    int quiet = 0, o;
    uint64_t n, seq = 0;
    int64_t next_spawn;
    struct rng arrivals;

    while ((o = getopt(argc, argv, "n:o:s:r:u:p:t:qh")) != -1) {
        switch (o) {
        case 'n':
            if (!parse_num(optarg, &n_d) || n_d < 1 || n_d > 1e12)
                goto bad;
            break;
        case 'o':
            path = optarg;
            break;
        case 's':
            if (!parse_num(optarg, &v) || v < 0)
                goto bad;
            seed = (uint64_t)v;
            break;
        case 'r':
            if (!parse_num(optarg, &rate) || rate <= 0 || rate > 1e6)
                goto bad;
            break;
        case 'u':
            if (!parse_num(optarg, &v) || v < 2 || v > 16000000)
                goto bad;
            n_uas = (uint32_t)v;
            break;
        case 'p':
            if (!parse_num(optarg, &v) || v < 0 || v > 100)
                goto bad;
            retrans_p = v / 100.0;
            break;
        case 't':
            if (!parse_num(optarg, &v) || v < 0 || v > 4e9)
                goto bad;
            start_epoch = (int64_t)v;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            goto bad;
        }
    }
    if (optind != argc || n_d < 1 || path == NULL)
        goto bad;
    n = (uint64_t)n_d;
    if (strcmp(path, "-") == 0) {
        out = stdout;
    } else if ((out = fopen(path, "wb")) == NULL) {
        fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    setvbuf(out, NULL, _IOFBF, 1 << 22);
    pcap_header();

    /* scenarios arrive as a Poisson process; calls are 60% of them */
    arrivals.s = mix64(seed ^ 0xa5a5a5a5a5a5a5a5ULL);
    next_spawn = 0;
    while (S.messages < n) {
        struct call *c;

        if (nheap == 0 || next_spawn <= heap[0]->st[heap[0]->next].t) {
            heap_push(spawn(seq++, next_spawn));
            next_spawn += (int64_t)(rnd_exp(&arrivals, 0.6 / rate) * US) + 1;
            continue;
        }
        c = heap[0];
        write_step(c, &c->st[c->next]);
        if (++c->next < c->nst) {
            heap_sift_down();
        } else {
            if (c->kind == SC_CALL)
                S.active_calls--;
            heap[0] = heap[--nheap];
            if (nheap > 0)
                heap_sift_down();
            call_free(c);
        }
    }
    if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
        fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < nheap; i++)
        call_free(heap[i]);
    free(heap);

    if (!quiet) {
        fprintf(stderr,
                "gen: %" PRIu64 " messages, %" PRIu64 " bytes (%.1f MB; SIP payload %.1f MB), "
                "%.1f s of traffic from seed %" PRIu64 "\n",
                S.messages, S.file_bytes, (double)S.file_bytes / 1e6, (double)S.payload_bytes / 1e6,
                (double)S.last_t / 1e6, seed);
        fprintf(stderr,
                "gen: %" PRIu64 " calls (%" PRIu64 " answered, %" PRIu64
                " with session timers; %" PRIu64 " cancelled; %" PRIu64 " busy; %" PRIu64
                " via proxies, %" PRIu64 " via the SBC), %" PRIu64 " registrations, %" PRIu64
                " OPTIONS pings; "
                "at most %" PRIu64 " calls at once, %" PRIu64 " open at the end\n",
                S.calls, S.answered, S.timer_calls, S.cancelled, S.busy, S.proxied, S.b2bua,
                S.registers, S.options, S.max_active_calls, S.active_calls);
        fprintf(stderr, "gen: requests:");
        for (int m = 0; m < M_N; m++)
            if (S.requests[m])
                fprintf(stderr, " %s %" PRIu64, meth_name[m], S.requests[m]);
        fprintf(stderr, "\ngen: responses:");
        for (int k = 100; k < 700; k++)
            if (S.responses[k])
                fprintf(stderr, " %d %" PRIu64, k, S.responses[k]);
        fprintf(stderr, "\ngen: retransmissions: %" PRIu64 " requests, %" PRIu64 " responses\n",
                S.retrans_req, S.retrans_rsp);
        fprintf(stderr, "gen: %" PRIu64 " distinct Call-IDs\n", S.call_ids);
    }
    return 0;
bad:
    usage(stderr);
    return 2;
}
