/*
 * txn.c: the transaction stage (see txn.h; ../shared/docs/RULES.md part A).
 *
 * Matching, in short:
 *   - transaction key per hop (A.3.3, A.3.4): hop (unordered endpoint pair +
 *     transport), method (the CSeq method for responses), Call-ID, top-Via
 *     sent-by (default port explicit) and branch; without the z9hG4bK cookie
 *     also the CSeq number and the From tag, and the RFC 2543 checks of A.3.5
 *     on top.  An ACK first
 *     looks for the INVITE under the same key (ACK for a non-2xx, folded in);
 *     a CANCEL looks for it to link both ways.
 *   - responses: same key from the response; failing that, the same key
 *     without the hop when the addresses agree (a response sent to the Via
 *     port rather than the source port, RFC 3261 18.2.2).
 *   - multi-hop (A.9.2): a request whose Via stack minus its top value hashes
 *     to the stack of a known request of the same method is that request one
 *     proxy further: parent_txn_id.
 *   - dialogs by (Call-ID, caller tag, callee tag), looked up in both
 *     orientations; legs by (Call-ID, From tag of the initial request).
 *   - duplicates (G2): same bytes, same src/dst/transport, close in time.
 *
 * Every open object sits in one min-heap ordered by the time at which it can
 * no longer change (its deadline); sl_txn_expire pops what is due.  Legs are
 * reference-counted by their open transactions and dialogs and leave when the
 * count drops to zero.
 */
#include "txn/txn.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/map.h"
#include "base/status.h"

#define US_PER_S 1000000LL
/* RFC 3261 17.1.2.2, App. A: T4, the longest a message stays in the network. */
#define T4_US (5 * US_PER_S)
/* An INVITE client transaction in Proceeding has no timeout of its own
 * (RFC 3261 17.1.1.2: Timer B only runs in Calling; proxies use Timer C,
 * > 3 min, 16.6 step 11): keep it this long after its last message. */
#define INVITE_PROCEEDING_HOLD_US (1800 * US_PER_S)
/* Subscription duration assumed when no Expires was seen (RFC 6665 4.2.1.1
 * leaves the default to the event package; 3600 s is the common one). */
#define SUB_DEFAULT_EXPIRES_S 3600
/* Distinct responses kept per transaction (input-driven allocation cap). */
#define MAX_RESPONSES 256
/* Records kept for duplicate detection (they live for T1/2 anyway). */
#define MAX_DUPS    1000000u
#define DEFAULT_CAP 1000000u
/* G5: timing tolerance is at least 50 ms. */
#define MIN_TOL_US 50000
/* End-of-call classification window (BYE vs. session expiry / missing ACK). */
#define END_WINDOW_MIN_US (2 * US_PER_S)
/* How long a leg nothing holds any more stays findable: an INVITE
 * resubmitted with credentials (G9) minutes after the 401/407 (a user
 * typing a password) is still the same call attempt. */
#define LEG_LINGER_US (300 * US_PER_S)
/* RFC 4028 10: BYE at expiry - min(32 s, interval / 3). */
#define ST_BYE_LEAD_MAX_US (32 * US_PER_S)

#define EP_KEY_LEN  19
#define HOP_KEY_LEN (2 * EP_KEY_LEN + 1)
/* via_key(): Via hash, CSeq, Call-ID hash, method */
#define VKEY_MAX 56

enum node_type {
    NODE_TXN = 1,
    NODE_DIALOG = 2
};

/* An entry of the expiry heap, embedded first in every transaction and
 * dialog. */
struct node {
    int64_t deadline; /* INT64_MAX: nothing scheduled */
    uint64_t seq;     /* creation order: ties, so the order is deterministic */
    size_t idx;       /* position in the heap */
    enum node_type type;
};

struct dlg_state;

struct leg_state {
    struct sl_leg pub;
    char *key; /* call_id \0 from_tag \0 */
    size_t key_len;
    int refs;     /* open transactions + dialogs */
    bool pending; /* on the zero-reference list */
    struct leg_state *pending_next;
    int64_t pending_since;         /* engine clock when it went on the list */
    struct leg_state *prev, *next; /* all legs */
    struct dlg_state *dialogs;     /* open dialogs of the leg */
    bool partial;
    bool answered;
    bool cancelled;
    int64_t cancel_us;
    int64_t final_us;
    int64_t first_2xx_us;
    int64_t last_us;
    int64_t attempt_cseq; /* CSeq of the latest initial request */
    int64_t st422_cseq;   /* CSeq of the last out-of-dialog 422 event */
    char *final_reason_hdr;
    char *cancel_reason_hdr;
    /* the first BYE of the leg outside any known dialog (dialog cap) */
    bool bye_seen;
    enum sl_side bye_side;
    char *bye_reason_hdr;
    const char *bye_how;
    /* the end of the call = the end of its dialog that ended last (forks):
     * candidates come from dialogs as they end; the latest (end_order) wins */
    bool end_set;
    int64_t end_order; /* when that dialog ended; INT64_MAX: still up */
    int64_t end_at_us; /* its end time, unless end_last */
    bool end_last;     /* the end is the leg's last message */
    enum sl_side end_side;
    const char *end_how;
    char *end_reason_hdr;
};

struct dlg_state {
    struct node n;
    struct sl_dialog pub;
    char *key; /* call_id \0 caller_tag \0 callee_tag \0 */
    size_t key_len;
    struct leg_state *leg;
    struct dlg_state *leg_prev, *leg_next;
    bool invite_usage;    /* INVITE dialog (else SUBSCRIBE / REFER usage) */
    bool acked;           /* the 2xx that confirmed it was ACKed */
    bool session_expired; /* terminated by its session timer, no BYE */
    /* the first BYE sent in the dialog: its sender, end_how, Reason */
    bool bye_seen;
    enum sl_side bye_req_side;
    const char *bye_how;
    char *bye_reason_hdr;
    int64_t confirm_cseq;
    int64_t last_us;
    int64_t sub_expires_s;
    int64_t rtt_us;
    int64_t se_bye_due_us;
    /* per sender side: the CSeq before the last counted request, and which
     * request set last_cseq (to recognise its copy on another hop) */
    int64_t prev_cseq[3];
    uint64_t last_method_h[3];
    uint64_t last_hop_h[3];
    /* the last 2xx / 422 that produced a session-timer event */
    enum sl_side st_side;
    int64_t st_cseq;
    uint64_t st_method_h;
    int st_status_class;
};

struct txn_state {
    struct node n;
    struct sl_txn pub;
    char *key; /* exact key (with hop) */
    size_t key_len;
    char *lkey; /* loose key (no hop), cookie branches only */
    size_t lkey_len;
    unsigned char vkey[VKEY_MAX]; /* via_key() (A.9.2) */
    size_t vkey_len;
    uint64_t via_tail_hash;
    uint64_t hop_h;
    char *ruri;     /* RFC 2543 matching (A.3.5) */
    char *from_uri; /* for the dialog it creates */
    char *to_uri;
    struct leg_state *leg;
    size_t cap_responses;
    int64_t req_dialog_id; /* dialog given to the request copies */
    int64_t cseq_prev;     /* links.cseq_prev of the request copies */
    int64_t last_us;
    bool attempt;       /* initial (out-of-dialog) request of its leg's method */
    bool dialog_by_2xx; /* pub.dialog_id is the dialog of the first 2xx */
};

/* One observation kept for duplicate detection (G2). */
struct dup_rec {
    struct dup_rec *next; /* FIFO, oldest first */
    int64_t ts_us;
    int64_t capture_id;
    int64_t msg_id;
    struct sl_msg_links links;
    uint64_t hash; /* sl_map_hash of the key in the dups map */
    size_t key_len;
    unsigned char key[]; /* src, dst, transport, raw bytes */
};

struct sl_txn_engine {
    struct sl_txn_sink sink;
    int64_t t1_us, t64_us;
    int64_t dup_same_us, dup_cross_us;
    size_t max_txns, max_dialogs, max_legs;
    size_t n_legs;
    bool legs_capped; /* this feed met the legs cap with every leg held */
    int64_t next_txn_id, next_dialog_id, next_leg_id;
    uint64_t next_seq;
    int64_t clock_us; /* timestamp of the latest message fed */
    bool have_clock;
    struct sl_map *txns, *txns_loose, *txns_via, *dialogs, *legs, *dups;
    struct node **heap;
    size_t heap_n, heap_cap;
    size_t n_txns, n_dialogs;
    struct leg_state *legs_all;
    struct leg_state *legs_pending, *legs_pending_tail;
    struct dup_rec *dup_head, *dup_tail;
    size_t n_dups;
};

/* What one message looks like to the matcher. */
struct view {
    const struct sl_txn_input *in;
    const struct sl_msg *m;
    const char *method; /* request method; responses: CSeq method */
    const char *call_id, *from_tag, *to_tag, *branch, *sent_by;
    int64_t cseq;
    bool rfc2543;
    unsigned char hop[HOP_KEY_LEN];
    uint64_t hop_h;
};

/* ------------------------------------------------------------ helpers -- */

static const char *nz(const char *s)
{
    return s != NULL ? s : "";
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(nz(a), nz(b)) == 0;
}

/* Copies s (NULL stays NULL); sets *oom on failure. */
static char *dup_str(const char *s, bool *oom)
{
    size_t n;
    char *c;

    if (s == NULL)
        return NULL;
    n = strlen(s);
    c = malloc(n + 1);
    if (c == NULL) {
        *oom = true;
        return NULL;
    }
    memcpy(c, s, n + 1);
    return c;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t abs_diff(int64_t a, int64_t b)
{
    return a > b ? a - b : b - a;
}

static enum sl_side other_side(enum sl_side s)
{
    if (s == SL_SIDE_CALLER)
        return SL_SIDE_CALLEE;
    if (s == SL_SIDE_CALLEE)
        return SL_SIDE_CALLER;
    return SL_SIDE_UNKNOWN;
}

static uint64_t str_hash(const char *s)
{
    return sl_siphash(nz(s), strlen(nz(s)), 0x736970u, 0x6c696e74u);
}

static bool ep_eq(const struct sl_endpoint *a, const struct sl_endpoint *b)
{
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

static bool ip_eq(const struct sl_endpoint *a, const struct sl_endpoint *b)
{
    return a->family == b->family && memcmp(a->ip, b->ip, 16) == 0;
}

static void ep_bytes(const struct sl_endpoint *ep, unsigned char out[EP_KEY_LEN])
{
    out[0] = ep->family;
    memcpy(out + 1, ep->ip, 16);
    out[17] = (unsigned char)(ep->port >> 8);
    out[18] = (unsigned char)(ep->port & 0xff);
}

/* RULES.md A.9.1: a hop is the unordered pair of endpoints + transport. */
static void hop_key(unsigned char out[HOP_KEY_LEN], const struct sl_txn_input *in)
{
    unsigned char a[EP_KEY_LEN], b[EP_KEY_LEN];

    ep_bytes(&in->src, a);
    ep_bytes(&in->dst, b);
    if (memcmp(a, b, EP_KEY_LEN) <= 0) {
        memcpy(out, a, EP_KEY_LEN);
        memcpy(out + EP_KEY_LEN, b, EP_KEY_LEN);
    } else {
        memcpy(out, b, EP_KEY_LEN);
        memcpy(out + EP_KEY_LEN, a, EP_KEY_LEN);
    }
    out[2 * EP_KEY_LEN] = (unsigned char)in->transport;
}

static bool is_method(const char *method, const char *name)
{
    return method != NULL && strcmp(method, name) == 0;
}

/* RFC 3261 8.1.1.7: RFC 3261 branches begin with the magic cookie. */
static bool has_cookie(const char *branch)
{
    return branch != NULL && strncmp(branch, "z9hg4bk", 7) == 0;
}

/* ------------------------------------------------------ key building -- */

struct kbuf {
    unsigned char *p;
    size_t n, cap;
    bool oom;
    unsigned char local[256];
};

static void kb_init(struct kbuf *k)
{
    k->p = k->local;
    k->n = 0;
    k->cap = sizeof(k->local);
    k->oom = false;
}

static void kb_put(struct kbuf *k, const void *s, size_t n)
{
    if (k->oom)
        return;
    if (n > k->cap - k->n) {
        size_t cap = k->cap;
        unsigned char *q;

        while (n > cap - k->n) {
            if (cap > SIZE_MAX / 2) {
                k->oom = true;
                return;
            }
            cap *= 2;
        }
        q = k->p == k->local ? malloc(cap) : realloc(k->p, cap);
        if (q == NULL) {
            k->oom = true;
            return;
        }
        if (k->p == k->local)
            memcpy(q, k->local, k->n);
        k->p = q;
        k->cap = cap;
    }
    if (n > 0)
        memcpy(k->p + k->n, s, n);
    k->n += n;
}

/* A string and its terminating NUL: keys of several strings stay unambiguous. */
static void kb_str(struct kbuf *k, const char *s)
{
    s = nz(s);
    kb_put(k, s, strlen(s) + 1);
}

static void kb_i64(struct kbuf *k, int64_t v)
{
    unsigned char b[8];
    unsigned i;

    for (i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)v >> (8 * i));
    kb_put(k, b, 8);
}

static void kb_fini(struct kbuf *k)
{
    if (k->p != k->local)
        free(k->p);
    k->p = k->local;
}

/* A malloc'd copy of the key, or NULL. */
static char *kb_copy(const struct kbuf *k)
{
    char *c = malloc(k->n > 0 ? k->n : 1);

    if (c != NULL && k->n > 0)
        memcpy(c, k->p, k->n);
    return c;
}

/* The sent-by of a top Via as a key: host lower-cased (the parser does
 * that) and the port made explicit, RFC 3261 18.2.1 / 19.1.2: no port means
 * 5060 for UDP, TCP and SCTP, 5061 for TLS (and SCTP-TLS); so
 * "192.168.1.2" and "192.168.1.2:5060" are one sent-by. */
static void kb_sent_by(struct kbuf *k, const char *sent_by, const char *via_transport)
{
    const char *s = nz(sent_by);
    const char *end = s + strlen(s);
    const char *host_end = end;
    bool has_port = false;
    char port[8];

    if (s[0] == '[') {
        const char *rb = strchr(s, ']');

        if (rb != NULL) {
            host_end = rb + 1;
            has_port = rb[1] == ':';
        }
    } else {
        const char *colon = strchr(s, ':');

        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            host_end = colon;
            has_port = true;
        }
    }
    kb_put(k, s, (size_t)(host_end - s));
    if (has_port) {
        kb_put(k, host_end, (size_t)(end - host_end));
    } else if (host_end == end && s[0] != '\0') {
        bool tls = via_transport != NULL &&
                   (strcmp(via_transport, "TLS") == 0 || strcmp(via_transport, "TLS-SCTP") == 0);

        snprintf(port, sizeof(port), ":%d", tls ? 5061 : 5060);
        kb_put(k, port, strlen(port));
    } else {
        kb_put(k, host_end, (size_t)(end - host_end));
    }
    kb_put(k, "", 1);
}

/* RULES.md A.3.3 / A.3.4, RFC 3261 17.1.3 / 17.2.3: (hop, branch, sent-by,
 * method) -- the CSeq number is NOT part of it: an ACK for a non-2xx or a
 * CANCEL with a wrong CSeq number still matches by branch, and so does a
 * response with a wrong CSeq number.  The Call-ID, which every copy and
 * response of a transaction repeats (RFC 3261 8.2.6.2, 17.1.1.3), keeps a
 * branch that broken UAs reuse across calls apart.  A.3.5: without the
 * cookie the CSeq number and the From tag join the key (the RFC 2543 checks
 * of A.3.5 on top).  loose: without the hop. */
static void txn_key(struct kbuf *k, const struct view *v, const char *method, bool loose)
{
    kb_put(k, loose ? "L" : "T", 1);
    if (!loose)
        kb_put(k, v->hop, HOP_KEY_LEN);
    kb_str(k, method);
    kb_str(k, v->call_id);
    kb_sent_by(k, v->sent_by, v->m->via_transport);
    kb_str(k, v->branch);
    if (v->rfc2543) {
        kb_i64(k, v->cseq);
        kb_str(k, v->from_tag);
    }
}

/* A.9.2: the Via stack fingerprint of a request, with what a proxy keeps
 * (Call-ID, CSeq, method: RFC 3261 16.6) so reused branches stay apart. */
static size_t via_key(unsigned char out[VKEY_MAX], uint64_t hash, const struct view *v)
{
    uint64_t w[3];
    size_t n = strlen(v->method);
    unsigned i, j;

    w[0] = hash;
    w[1] = (uint64_t)v->cseq;
    w[2] = sl_siphash(v->call_id, strlen(v->call_id), 0x766961u, 0x6b6579u);
    for (j = 0; j < 3; j++)
        for (i = 0; i < 8; i++)
            out[8 * j + i] = (unsigned char)(w[j] >> (8 * i));
    if (n > VKEY_MAX - 24)
        n = VKEY_MAX - 24;
    memcpy(out + 24, v->method, n);
    return 24 + n;
}

/* --------------------------------------------------------------- heap -- */

static bool node_before(const struct node *a, const struct node *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_set(struct sl_txn_engine *e, size_t i, struct node *n)
{
    e->heap[i] = n;
    n->idx = i;
}

static void heap_up(struct sl_txn_engine *e, size_t i)
{
    struct node *n = e->heap[i];

    while (i > 0) {
        size_t p = (i - 1) / 2;

        if (!node_before(n, e->heap[p]))
            break;
        heap_set(e, i, e->heap[p]);
        i = p;
    }
    heap_set(e, i, n);
}

static void heap_down(struct sl_txn_engine *e, size_t i)
{
    struct node *n = e->heap[i];

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= e->heap_n)
            break;
        if (c + 1 < e->heap_n && node_before(e->heap[c + 1], e->heap[c]))
            c++;
        if (!node_before(e->heap[c], n))
            break;
        heap_set(e, i, e->heap[c]);
        i = c;
    }
    heap_set(e, i, n);
}

static int heap_push(struct sl_txn_engine *e, struct node *n)
{
    if (e->heap_n == e->heap_cap) {
        size_t cap = e->heap_cap ? e->heap_cap * 2 : 64;
        struct node **h;

        if (cap > SIZE_MAX / sizeof(*h))
            return SL_ENOMEM;
        h = realloc(e->heap, cap * sizeof(*h));
        if (h == NULL)
            return SL_ENOMEM;
        e->heap = h;
        e->heap_cap = cap;
    }
    n->seq = ++e->next_seq;
    heap_set(e, e->heap_n++, n);
    heap_up(e, n->idx);
    return SL_OK;
}

static void heap_remove(struct sl_txn_engine *e, struct node *n)
{
    size_t i = n->idx;
    struct node *last;

    if (i >= e->heap_n || e->heap[i] != n)
        return;
    last = e->heap[--e->heap_n];
    if (last != n) {
        heap_set(e, i, last);
        heap_up(e, i);
        heap_down(e, last->idx);
    }
    n->idx = SIZE_MAX;
}

static void heap_update(struct sl_txn_engine *e, struct node *n, int64_t deadline)
{
    if (n->deadline == deadline)
        return;
    n->deadline = deadline;
    if (n->idx < e->heap_n && e->heap[n->idx] == n) {
        heap_up(e, n->idx);
        heap_down(e, n->idx);
    }
}

/* --------------------------------------------------------------- legs -- */

static void leg_free(struct leg_state *l)
{
    if (l == NULL)
        return;
    free(l->key);
    free(l->pub.call_id);
    free(l->pub.from_tag);
    free(l->pub.method);
    free(l->pub.from_uri);
    free(l->pub.to_uri);
    free(l->pub.ruri);
    free(l->pub.final_reason);
    free(l->pub.reason_hdr);
    free(l->final_reason_hdr);
    free(l->cancel_reason_hdr);
    free(l->bye_reason_hdr);
    free(l->end_reason_hdr);
    free(l);
}

static void leg_key(struct kbuf *k, const char *call_id, const char *from_tag)
{
    kb_str(k, call_id);
    kb_str(k, from_tag);
}

static struct leg_state *leg_get(struct sl_txn_engine *e, const char *call_id, const char *from_tag)
{
    struct kbuf k;
    struct leg_state *l;

    kb_init(&k);
    leg_key(&k, call_id, from_tag);
    l = k.oom ? NULL : sl_map_get(e->legs, k.p, k.n);
    kb_fini(&k);
    return l;
}

/* A leg nothing holds any more waits LEG_LINGER_US (FIFO) before it
 * leaves: a request resubmitted late with credentials still joins it. */
static void leg_pending(struct sl_txn_engine *e, struct leg_state *l)
{
    if (l->refs == 0 && !l->pending) {
        l->pending = true;
        l->pending_since = e->clock_us;
        l->pending_next = NULL;
        if (e->legs_pending_tail != NULL)
            e->legs_pending_tail->pending_next = l;
        else
            e->legs_pending = l;
        e->legs_pending_tail = l;
    }
}

static void leg_unref(struct sl_txn_engine *e, struct leg_state *l)
{
    if (l == NULL)
        return;
    l->refs--;
    leg_pending(e, l);
}

/* The usage a request implies when its dialog was not seen being created
 * (G4): INVITE for the methods that only live in INVITE dialogs. */
static const char *guess_usage(const char *method)
{
    static const char *const invite_methods[] = { "INVITE", "ACK",    "BYE",  "CANCEL",
                                                  "PRACK",  "UPDATE", "INFO", "REFER" };
    size_t i;

    if (is_method(method, "SUBSCRIBE") || is_method(method, "NOTIFY"))
        return "SUBSCRIBE";
    for (i = 0; i < sizeof(invite_methods) / sizeof(invite_methods[0]); i++)
        if (is_method(method, invite_methods[i]))
            return "INVITE";
    return method;
}

static int leg_flush(struct sl_txn_engine *e, struct leg_state *l, struct sl_err *err);

/* At the legs cap: the leg that has waited longest with nothing holding it
 * leaves now, its linger cut short.  SL_OK, SL_ELIMIT (every leg is held),
 * or the sink's error.  Safe while a request is being matched: the legs a
 * feed keeps pointers to are held (refs) by a transaction or dialog, except
 * the one leg_for_request() replaces, which it no longer uses. */
static int leg_make_room(struct sl_txn_engine *e, struct sl_err *err)
{
    while (e->legs_pending != NULL) {
        struct leg_state *l = e->legs_pending;

        e->legs_pending = l->pending_next;
        if (e->legs_pending == NULL)
            e->legs_pending_tail = NULL;
        l->pending = false;
        if (l->refs > 0)
            continue;
        return leg_flush(e, l, err);
    }
    return SL_ELIMIT;
}

/* A new leg (Call-ID + From tag of v), first seen through request v (A.9.1).
 * partial: seen mid-call (the initial request was not captured).  SL_ELIMIT
 * at the legs cap when no leg can leave. */
static int leg_create(struct sl_txn_engine *e, const struct view *v, const char *method,
                      bool partial, struct leg_state **out, struct sl_err *err)
{
    struct leg_state *l;
    struct kbuf k;
    bool oom = false;
    int rc;

    *out = NULL;
    if (e->n_legs >= e->max_legs && (rc = leg_make_room(e, err)) != SL_OK)
        return rc;
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return SL_ENOMEM;
    kb_init(&k);
    leg_key(&k, v->call_id, v->from_tag);
    l->key = k.oom ? NULL : kb_copy(&k);
    l->key_len = k.n;
    kb_fini(&k);
    l->pub.id = e->next_leg_id + 1;
    l->pub.call_id = dup_str(nz(v->call_id), &oom);
    l->pub.from_tag = dup_str(nz(v->from_tag), &oom);
    l->pub.method = dup_str(method, &oom);
    l->pub.from_uri = dup_str(v->m->from_uri, &oom);
    l->pub.to_uri = dup_str(v->m->to_uri, &oom);
    l->pub.ruri = dup_str(v->m->ruri, &oom);
    l->pub.caller_ep = v->in->src;
    l->pub.callee_ep = v->in->dst;
    l->pub.start_us = v->in->ts_us;
    l->pub.answer_us = -1;
    l->pub.end_us = -1;
    l->pub.final_status = -1;
    l->pub.q850_cause = -1;
    l->partial = partial;
    l->cancel_us = -1;
    l->final_us = -1;
    l->first_2xx_us = -1;
    l->last_us = v->in->ts_us;
    l->attempt_cseq = -1;
    l->st422_cseq = -1;
    if (oom || l->key == NULL) {
        leg_free(l);
        return SL_ENOMEM;
    }
    rc = sl_map_put(e->legs, l->key, l->key_len, l, NULL);
    if (rc != SL_OK) {
        leg_free(l);
        return rc == SL_ELIMIT ? SL_ENOMEM : rc;
    }
    e->next_leg_id++;
    e->n_legs++;
    l->next = e->legs_all;
    if (e->legs_all != NULL)
        e->legs_all->prev = l;
    e->legs_all = l;
    leg_pending(e, l); // until something holds it
    *out = l;
    return SL_OK;
}

/* The call of leg l is over: it was answered and every dialog it still has
 * terminated (BYE, ...).  A new initial INVITE with the same Call-ID and
 * From tag is then a new call (a UA that reuses its Call-ID, or the same
 * call replayed), not a resubmission of this one (G9). */
static bool leg_over(const struct leg_state *l)
{
    const struct dlg_state *d;

    if (!l->answered)
        return false;
    for (d = l->dialogs; d != NULL; d = d->leg_next)
        if (d->pub.state != SL_DLG_TERMINATED)
            return false;
    return true;
}

/* The leg of out-of-dialog request v, created when new; NULL (SL_OK) at
 * the legs cap, which the feed then reports. */
static int leg_for_request(struct sl_txn_engine *e, const struct view *v, bool partial,
                           struct leg_state **out, struct sl_err *err)
{
    struct leg_state *l = leg_get(e, v->call_id, v->from_tag);
    int rc;

    if (l != NULL && !(!partial && is_method(v->method, "INVITE") &&
                       is_method(l->pub.method, "INVITE") && leg_over(l))) {
        *out = l;
        return SL_OK;
    }
    /* new, or a new call replacing an ended one under the same key (the
     * old leg leaves when nothing holds it any more) */
    rc = leg_create(e, v, partial ? guess_usage(v->method) : v->method, partial, out, err);
    if (rc == SL_ELIMIT) {
        e->legs_capped = true;
        *out = NULL;
        return SL_OK;
    }
    return rc;
}

/* ------------------------------------------------------------ dialogs -- */

static void dlg_key(struct kbuf *k, const char *call_id, const char *caller, const char *callee)
{
    kb_str(k, call_id);
    kb_str(k, caller);
    kb_str(k, callee);
}

static struct dlg_state *dlg_get(struct sl_txn_engine *e, const char *call_id, const char *caller,
                                 const char *callee)
{
    struct kbuf k;
    struct dlg_state *d;

    kb_init(&k);
    dlg_key(&k, call_id, caller, callee);
    d = k.oom ? NULL : sl_map_get(e->dialogs, k.p, k.n);
    kb_fini(&k);
    return d;
}

/* RULES.md A.6.1: the dialog of an in-dialog message in either orientation;
 * *side is the side of the party whose tag is in From.  A request without a
 * To tag only matches a dialog whose callee tag is null (RFC 3261 12.1.2:
 * an RFC 2543 response without tag). */
static struct dlg_state *dlg_find(struct sl_txn_engine *e, const struct view *v, enum sl_side *side)
{
    struct dlg_state *d = dlg_get(e, v->call_id, v->from_tag, v->to_tag);

    *side = SL_SIDE_CALLER;
    if (d != NULL) {
        /* tags alike in both orientations (RFC 2543 peers): by address */
        if (str_eq(v->from_tag, v->to_tag) && ep_eq(&v->in->src, &d->pub.callee_ep))
            *side = SL_SIDE_CALLEE;
        return d;
    }
    if (v->to_tag[0] == '\0')
        return NULL;
    d = dlg_get(e, v->call_id, v->to_tag, v->from_tag);
    if (d != NULL)
        *side = SL_SIDE_CALLEE;
    return d;
}

static void dlg_free(struct dlg_state *d)
{
    if (d == NULL)
        return;
    free(d->key);
    free(d->pub.call_id);
    free(d->pub.caller_tag);
    free(d->pub.callee_tag);
    free(d->pub.method);
    free(d->pub.caller_uri);
    free(d->pub.callee_uri);
    free(d->bye_reason_hdr);
    free(d);
}

/* When the dialog will terminate by itself if nothing else happens
 * (*when, *cause), INT64_MAX when never. */
static int64_t dlg_term_plan(const struct sl_txn_engine *e, const struct dlg_state *d,
                             const char **cause)
{
    *cause = "timeout";
    if (d->pub.state == SL_DLG_EARLY && d->invite_usage && d->leg != NULL &&
        d->leg->first_2xx_us >= 0) {
        /* RFC 3261 13.2.2.4: early dialogs never confirmed end 64*T1 after
         * the first 2xx */
        return d->leg->first_2xx_us + e->t64_us;
    }
    if (!d->invite_usage) {
        /* RFC 6665 4.1.2.1, 4.2.1.1: a subscription not refreshed within
         * its duration is over */
        int64_t exp = d->sub_expires_s >= 0 ? d->sub_expires_s : SUB_DEFAULT_EXPIRES_S;

        return d->last_us + exp * US_PER_S;
    }
    if (d->pub.state == SL_DLG_CONFIRMED && d->pub.se_interval >= 0 && d->pub.se_expiry_us >= 0) {
        /* RFC 4028 10: without a refresh before expiry the session is over */
        return d->pub.se_expiry_us;
    }
    return INT64_MAX;
}

static int64_t dlg_deadline(const struct sl_txn_engine *e, const struct dlg_state *d)
{
    const char *cause;
    int64_t when;

    if (d->pub.state == SL_DLG_TERMINATED) {
        /* RFC 4028 10: the session expired, but nothing on the wire said so;
         * the UAs often keep the call and BYE it much later: that BYE still
         * belongs to this dialog (kept until the end, like any call) */
        if (d->session_expired)
            return INT64_MAX;
        return d->pub.terminated_us + e->t64_us + T4_US;
    }
    when = dlg_term_plan(e, d, &cause);
    if (when == INT64_MAX)
        return INT64_MAX;
    /* a fork timeout is exact; expiry-based ones allow a late refresh */
    if (d->pub.state == SL_DLG_EARLY && d->invite_usage)
        return when;
    return when > INT64_MAX - e->t64_us ? INT64_MAX : when + e->t64_us;
}

static void dlg_reschedule(struct sl_txn_engine *e, struct dlg_state *d)
{
    heap_update(e, &d->n, dlg_deadline(e, d));
}

/* RULES.md A.6.4: the dialog ends (cause, at ts). */
static void dlg_terminate(struct sl_txn_engine *e, struct dlg_state *d, const char *cause,
                          int64_t ts, enum sl_side bye_side, int64_t bye_msg_id)
{
    if (d->pub.state == SL_DLG_TERMINATED)
        return;
    d->pub.state = SL_DLG_TERMINATED;
    d->pub.terminated_us = ts;
    d->pub.term_cause = cause;
    if (bye_msg_id > 0) {
        d->pub.bye_side = bye_side;
        d->pub.bye_msg_id = bye_msg_id;
    }
    dlg_reschedule(e, d);
}

static void dlg_touch(struct sl_txn_engine *e, struct dlg_state *d, int64_t ts)
{
    if (ts > d->last_us) {
        d->last_us = ts;
        if (!d->invite_usage)
            dlg_reschedule(e, d);
    }
}

/* Everything a new dialog is made of. */
struct dlg_seed {
    const char *call_id, *caller_tag, *callee_tag, *method;
    const char *caller_uri, *callee_uri;
    struct sl_endpoint caller_ep, callee_ep;
    struct leg_state *leg;
    int64_t txn_id;
    bool partial, invite_usage;
    enum sl_dialog_state state;
    int64_t ts_us;
    int64_t caller_cseq; /* CSeq the caller used in the creating request, -1 */
    int64_t rtt_us;
};

static int dlg_create(struct sl_txn_engine *e, const struct dlg_seed *s, struct dlg_state **out)
{
    struct dlg_state *d;
    struct kbuf k;
    bool oom = false;
    int rc;

    *out = NULL;
    if (e->n_dialogs >= e->max_dialogs)
        return SL_ELIMIT;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return SL_ENOMEM;
    kb_init(&k);
    dlg_key(&k, s->call_id, s->caller_tag, s->callee_tag);
    d->key = k.oom ? NULL : kb_copy(&k);
    d->key_len = k.n;
    kb_fini(&k);
    d->n.type = NODE_DIALOG;
    d->n.idx = SIZE_MAX;
    d->pub.id = e->next_dialog_id + 1;
    d->pub.call_id = dup_str(nz(s->call_id), &oom);
    d->pub.caller_tag = dup_str(nz(s->caller_tag), &oom);
    d->pub.callee_tag = dup_str(nz(s->callee_tag), &oom);
    d->pub.leg_id = s->leg != NULL ? s->leg->pub.id : 0;
    d->pub.created_txn_id = s->txn_id;
    d->pub.method = dup_str(s->method, &oom);
    d->pub.partial = s->partial;
    d->pub.state = s->state;
    d->pub.early_us = s->state == SL_DLG_EARLY ? s->ts_us : -1;
    d->pub.confirmed_us = s->state == SL_DLG_CONFIRMED && !s->partial ? s->ts_us : -1;
    d->pub.terminated_us = -1;
    d->pub.caller_uri = dup_str(s->caller_uri, &oom);
    d->pub.callee_uri = dup_str(s->callee_uri, &oom);
    d->pub.caller_ep = s->caller_ep;
    d->pub.callee_ep = s->callee_ep;
    d->pub.last_cseq[0] = d->pub.last_cseq[1] = d->pub.last_cseq[2] = -1;
    /* RFC 3261 12.1.2: the UAC's local sequence number starts from the CSeq
     * of the creating request */
    d->pub.last_cseq[SL_SIDE_CALLER] = s->caller_cseq;
    d->pub.se_interval = -1;
    d->pub.se_last_refresh_us = -1;
    d->pub.se_expiry_us = -1;
    d->leg = s->leg;
    d->invite_usage = s->invite_usage;
    d->confirm_cseq = s->state == SL_DLG_CONFIRMED ? s->caller_cseq : -1;
    d->last_us = s->ts_us;
    d->sub_expires_s = -1;
    d->rtt_us = s->rtt_us;
    d->se_bye_due_us = -1;
    d->prev_cseq[0] = d->prev_cseq[1] = d->prev_cseq[2] = -1;
    d->st_cseq = -1;
    d->st_status_class = -1;
    if (oom || d->key == NULL) {
        dlg_free(d);
        return SL_ENOMEM;
    }
    rc = sl_map_put(e->dialogs, d->key, d->key_len, d, NULL);
    if (rc == SL_OK) {
        d->n.deadline = dlg_deadline(e, d);
        rc = heap_push(e, &d->n);
        if (rc != SL_OK)
            (void)sl_map_del(e->dialogs, d->key, d->key_len, d);
    }
    if (rc != SL_OK) {
        dlg_free(d);
        return rc == SL_ELIMIT ? SL_ENOMEM : rc;
    }
    e->next_dialog_id++;
    e->n_dialogs++;
    if (s->leg != NULL) {
        d->leg_next = s->leg->dialogs;
        if (s->leg->dialogs != NULL)
            s->leg->dialogs->leg_prev = d;
        s->leg->dialogs = d;
        s->leg->refs++;
        s->leg->pub.n_dialogs++;
    }
    *out = d;
    return SL_OK;
}

/* ------------------------------------------------------- transactions -- */

static void txn_free(struct txn_state *t)
{
    size_t i;

    if (t == NULL)
        return;
    free(t->key);
    free(t->lkey);
    free(t->ruri);
    free(t->from_uri);
    free(t->to_uri);
    free(t->pub.method);
    free(t->pub.branch);
    free(t->pub.sent_by);
    free(t->pub.call_id);
    free(t->pub.from_tag);
    free(t->pub.req_to_tag);
    free(t->pub.final_to_tag);
    for (i = 0; i < t->pub.n_responses; i++)
        free(t->pub.responses[i].to_tag);
    free(t->pub.responses);
    free(t);
}

/* RULES.md A.4: the time after which the transaction can no longer change. */
static int64_t txn_deadline(const struct sl_txn_engine *e, const struct txn_state *t)
{
    if (t->pub.first_final_us >= 0) {
        /* Timers H / J (RFC 3261 17.2.1, 17.2.2) and L / M (RFC 6026 8.11):
         * 64*T1 of absorbing retransmissions after the final response */
        return t->pub.first_final_us + e->t64_us + T4_US;
    }
    if (t->pub.kind == SL_TXN_INVITE && t->pub.first_1xx_us >= 0)
        return t->last_us + INVITE_PROCEEDING_HOLD_US;
    /* Timers B / F (RFC 3261 17.1.1.2, 17.1.2.2); an ACK for a 2xx is
     * retransmitted with the 2xx for 64*T1 (13.2.2.4, 13.3.1.4) */
    return t->pub.req_first_us + e->t64_us + T4_US;
}

static struct txn_state *txn_lookup(struct sl_txn_engine *e, const struct view *v,
                                    const char *method, bool loose)
{
    struct kbuf k;
    struct txn_state *t;

    kb_init(&k);
    txn_key(&k, v, method, loose);
    t = k.oom ? NULL : sl_map_get(loose ? e->txns_loose : e->txns, k.p, k.n);
    kb_fini(&k);
    return t;
}

static struct sl_txn_response *resp_find(struct txn_state *t, int status, const char *to_tag,
                                         int64_t rseq)
{
    size_t i;

    for (i = 0; i < t->pub.n_responses; i++) {
        struct sl_txn_response *r = &t->pub.responses[i];

        if (r->status == status && r->rseq == rseq && str_eq(r->to_tag, to_tag))
            return r;
    }
    return NULL;
}

static int resp_add(struct txn_state *t, const struct view *v)
{
    struct sl_txn_response *r;
    bool oom = false;

    if (t->pub.n_responses >= MAX_RESPONSES)
        return SL_OK; // still linked, only not listed
    if (t->pub.n_responses == t->cap_responses) {
        size_t cap = t->cap_responses ? t->cap_responses * 2 : 4;

        r = realloc(t->pub.responses, cap * sizeof(*r));
        if (r == NULL)
            return SL_ENOMEM;
        t->pub.responses = r;
        t->cap_responses = cap;
    }
    r = &t->pub.responses[t->pub.n_responses];
    memset(r, 0, sizeof(*r));
    r->status = v->m->status;
    r->to_tag = dup_str(v->to_tag, &oom);
    if (oom)
        return SL_ENOMEM;
    r->rseq = v->m->rseq >= 0 ? v->m->rseq : -1;
    r->first_msg_id = v->in->msg_id;
    r->first_us = r->last_us = v->in->ts_us;
    r->copies = 1;
    t->pub.n_responses++;
    return SL_OK;
}

/* ---------------------------------------------------------- the view -- */

static void view_init(struct view *v, const struct sl_txn_input *in)
{
    const struct sl_msg *m = in->msg;

    memset(v, 0, sizeof(*v));
    v->in = in;
    v->m = m;
    v->method = nz(m->is_request ? m->method : m->cseq_method);
    v->call_id = nz(m->call_id);
    v->from_tag = nz(m->from_tag);
    v->to_tag = nz(m->to_tag);
    v->branch = nz(m->via_branch);
    v->sent_by = nz(m->via_sent_by);
    v->cseq = m->cseq_num;
    /* RFC 3261 17.2.3 / RULES.md A.3.5: no cookie = RFC 2543 peer */
    v->rfc2543 = !has_cookie(m->via_branch);
    hop_key(v->hop, in);
    v->hop_h = sl_siphash(v->hop, HOP_KEY_LEN, 0x686f70u, 0x6b6579u);
}

/* ------------------------------------------------- session timer (A.8) -- */

static int st_emit(struct sl_txn_engine *e, const struct sl_st_event *ev, struct sl_err *err)
{
    if (e->sink.st_event == NULL)
        return SL_OK;
    return e->sink.st_event(e->sink.ctx, ev, err);
}

/* One event per logical 2xx / 422: its copies on other hops (A.9.2) carry
 * the same side, CSeq and method. */
static bool st_seen(struct dlg_state *d, const struct txn_state *t, int status_class)
{
    uint64_t h = str_hash(t->pub.method);

    if (d->st_side == t->pub.uac_side && d->st_cseq == t->pub.cseq_num && d->st_method_h == h &&
        d->st_status_class == status_class)
        return true;
    d->st_side = t->pub.uac_side;
    d->st_cseq = t->pub.cseq_num;
    d->st_method_h = h;
    d->st_status_class = status_class;
    return false;
}

/* RFC 4028 7.2, 9, 10: a 2xx to a session refresh (INVITE or UPDATE) sets
 * the session interval (or switches the timer off when it has no
 * Session-Expires); refresher=uac/uas names a role in THAT transaction
 * (4028 3, 7.4). */
static int st_on_2xx(struct sl_txn_engine *e, struct dlg_state *d, const struct txn_state *t,
                     const struct view *v, struct sl_err *err)
{
    const struct sl_msg *m = v->m;
    struct sl_st_event ev;
    int64_t ts = v->in->ts_us;

    if (d->pub.state == SL_DLG_TERMINATED || st_seen(d, t, 2))
        return SL_OK;
    memset(&ev, 0, sizeof(ev));
    ev.dialog_id = d->pub.id;
    ev.txn_id = t->pub.id;
    ev.msg_id = v->in->msg_id;
    ev.ts_us = ts;
    ev.min_se = m->min_se;
    ev.refresher = SL_SIDE_UNKNOWN;
    ev.interval_s = -1;
    ev.refresh_due_us = ev.bye_due_us = ev.expiry_us = -1;
    if (m->session_expires >= 0) {
        int64_t se = m->session_expires > UINT32_MAX ? UINT32_MAX : m->session_expires;
        int64_t se_us = se * US_PER_S;

        if (is_method(m->se_refresher, "uac"))
            ev.refresher = t->pub.uac_side;
        else if (is_method(m->se_refresher, "uas"))
            ev.refresher = other_side(t->pub.uac_side);
        ev.kind = "armed";
        ev.interval_s = se;
        ev.refresh_due_us = ts + se_us / 2;
        ev.expiry_us = ts + se_us;
        ev.bye_due_us = ev.expiry_us - min64(ST_BYE_LEAD_MAX_US, se_us / 3);
        d->pub.se_interval = se;
        d->pub.se_refresher = ev.refresher;
        d->pub.se_last_refresh_us = ts;
        d->pub.se_expiry_us = ev.expiry_us;
        d->se_bye_due_us = ev.bye_due_us;
    } else if (d->pub.se_interval >= 0) {
        ev.kind = "disarmed";
        d->pub.se_interval = -1;
        d->pub.se_refresher = SL_SIDE_UNKNOWN;
        d->pub.se_last_refresh_us = ts;
        d->pub.se_expiry_us = -1;
        d->se_bye_due_us = -1;
    } else {
        return SL_OK;
    }
    dlg_reschedule(e, d);
    return st_emit(e, &ev, err);
}

/* RFC 4028 6: 422 Session Interval Too Small carries Min-SE. */
static int st_on_422(struct sl_txn_engine *e, struct dlg_state *d, struct leg_state *leg,
                     const struct txn_state *t, const struct view *v, struct sl_err *err)
{
    struct sl_st_event ev;

    if (d != NULL && st_seen(d, t, 4))
        return SL_OK;
    if (d == NULL && leg != NULL) {
        /* before the dialog exists: one event per CSeq of the leg */
        if (leg->st422_cseq == t->pub.cseq_num)
            return SL_OK;
        leg->st422_cseq = t->pub.cseq_num;
    }
    memset(&ev, 0, sizeof(ev));
    ev.dialog_id = d != NULL ? d->pub.id : 0;
    ev.txn_id = t->pub.id;
    ev.msg_id = v->in->msg_id;
    ev.ts_us = v->in->ts_us;
    ev.kind = "422";
    ev.interval_s = -1;
    ev.refresher = SL_SIDE_UNKNOWN;
    ev.min_se = v->m->min_se;
    ev.refresh_due_us = ev.bye_due_us = ev.expiry_us = -1;
    return st_emit(e, &ev, err);
}

/* --------------------------------------------------------- the engine -- */

const char *sl_side_name(enum sl_side side)
{
    switch (side) {
    case SL_SIDE_CALLER:
        return "caller";
    case SL_SIDE_CALLEE:
        return "callee";
    case SL_SIDE_UNKNOWN:
    default:
        return NULL;
    }
}

const char *sl_txn_kind_name(enum sl_txn_kind kind)
{
    switch (kind) {
    case SL_TXN_INVITE:
        return "INVITE";
    case SL_TXN_NONINVITE:
        return "NONINVITE";
    case SL_TXN_ACK2XX:
        return "ACK2XX";
    case SL_TXN_CANCEL:
        return "CANCEL";
    default:
        return "?";
    }
}

int sl_txn_engine_new(struct sl_txn_engine **out, const struct sl_txn_opts *opts,
                      const struct sl_txn_sink *sink, struct sl_err *err)
{
    struct sl_txn_engine *e;
    size_t cap_t, cap_d;

    *out = NULL;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return sl_fail(err, SL_ENOMEM, "out of memory creating the transaction engine");
    if (sink != NULL)
        e->sink = *sink;
    e->t1_us = opts != NULL && opts->t1_us > 0 ? opts->t1_us : 500000;
    if (e->t1_us > 3600 * US_PER_S)
        e->t1_us = 3600 * US_PER_S;
    e->t64_us = 64 * e->t1_us;
    /* G2: same capture point: far below T1 (a retransmission comes T1 or
     * later); two capture points: half of T1 for the clock difference */
    e->dup_same_us = max64(e->t1_us / 10, 1000);
    e->dup_cross_us = max64(e->t1_us / 2, e->dup_same_us);
    cap_t = opts != NULL && opts->max_txns > 0 ? opts->max_txns : DEFAULT_CAP;
    cap_d = opts != NULL && opts->max_dialogs > 0 ? opts->max_dialogs : DEFAULT_CAP;
    e->max_txns = cap_t;
    e->max_dialogs = cap_d;
    e->max_legs = opts != NULL && opts->max_legs > 0 ? opts->max_legs : DEFAULT_CAP;
    e->clock_us = INT64_MIN;
    e->txns = sl_map_new(0);
    e->txns_loose = sl_map_new(0);
    e->txns_via = sl_map_new(0);
    e->dialogs = sl_map_new(0);
    e->legs = sl_map_new(0);
    e->dups = sl_map_new(0);
    if (e->txns == NULL || e->txns_loose == NULL || e->txns_via == NULL || e->dialogs == NULL ||
        e->legs == NULL || e->dups == NULL) {
        sl_txn_engine_free(e);
        return sl_fail(err, SL_ENOMEM, "out of memory creating the transaction engine");
    }
    *out = e;
    return SL_OK;
}

/* ---------------------------------------------------------- flushing -- */

/* A dialog of leg l ended (order: when; INT64_MAX when it was still up at
 * the end of the capture): the call ends with the dialog that ended last
 * (RULES.md A.6.4; forks: every dialog counts).  end_us is the end time, or
 * -1 for the leg's last message.  false when out of memory. */
static bool leg_end_candidate(struct leg_state *l, int64_t order, int64_t end_us, enum sl_side side,
                              const char *how, const char *reason_hdr)
{
    bool oom = false;
    char *reason;

    if (l == NULL || (l->end_set && order < l->end_order))
        return true;
    reason = dup_str(reason_hdr, &oom);
    if (oom)
        return false;
    free(l->end_reason_hdr);
    l->end_reason_hdr = reason;
    l->end_set = true;
    l->end_order = order;
    l->end_at_us = end_us;
    l->end_last = end_us < 0;
    l->end_side = side;
    l->end_how = how;
    return true;
}

/* The BYE end of dialog d (answered at end_us, or -1: its last message). */
static bool dlg_end_by_bye(struct dlg_state *d, int64_t order, int64_t end_us, enum sl_side side)
{
    return leg_end_candidate(d->leg, order, end_us, side, d->bye_seen ? d->bye_how : "bye",
                             d->bye_reason_hdr);
}

static int leg_flush(struct sl_txn_engine *e, struct leg_state *l, struct sl_err *err)
{
    struct sl_leg *p = &l->pub;
    const char *reason;
    bool oom = false;
    int rc = SL_OK;

    /* outcome (RULES.md A.9.1: one call attempt, all its forks) */
    if (l->partial)
        p->outcome = "partial";
    else if (l->answered)
        p->outcome = "answered";
    else if (l->cancelled && is_method(p->method, "INVITE") && l->final_us >= 0 &&
             l->cancel_us <= l->final_us)
        p->outcome = "cancelled";
    else if (p->final_status >= 300)
        p->outcome = "failed";
    else
        p->outcome = "unanswered";
    if (l->end_set) {
        /* the dialog that ended last */
        p->end_us = l->end_last ? l->last_us : l->end_at_us;
        p->ended_by = l->end_side;
        p->end_how = l->end_how;
    } else {
        p->end_us = !l->answered && l->final_us >= 0 ? l->final_us : l->last_us;
        if (l->bye_seen) {
            p->ended_by = l->bye_side;
            p->end_how = l->bye_how;
        }
    }
    reason = l->end_set && l->end_reason_hdr != NULL    ? l->end_reason_hdr
             : !l->end_set && l->bye_reason_hdr != NULL ? l->bye_reason_hdr
             : l->cancel_reason_hdr != NULL             ? l->cancel_reason_hdr
                                                        : l->final_reason_hdr;
    free(p->reason_hdr);
    p->reason_hdr = dup_str(reason, &oom);
    p->q850_cause = sl_q850_cause(reason);
    if (!oom && e->sink.leg_done != NULL)
        rc = e->sink.leg_done(e->sink.ctx, p, err);
    else if (oom)
        rc = sl_fail(err, SL_ENOMEM, "out of memory finishing a call leg");
    (void)sl_map_del(e->legs, l->key, l->key_len, l);
    e->n_legs--;
    if (l->prev != NULL)
        l->prev->next = l->next;
    else
        e->legs_all = l->next;
    if (l->next != NULL)
        l->next->prev = l->prev;
    leg_free(l);
    return rc;
}

/* Legs nothing held for LEG_LINGER_US up to now_us (all of them: at_end). */
static int legs_flush_pending(struct sl_txn_engine *e, int64_t now_us, bool at_end,
                              struct sl_err *err)
{
    int rc = SL_OK;

    while (e->legs_pending != NULL) {
        struct leg_state *l = e->legs_pending;
        int r;

        if (!at_end && l->refs == 0 && l->pending_since > INT64_MIN &&
            now_us - LEG_LINGER_US < l->pending_since)
            break;
        e->legs_pending = l->pending_next;
        if (e->legs_pending == NULL)
            e->legs_pending_tail = NULL;
        l->pending = false;
        if (l->refs > 0)
            continue;
        r = leg_flush(e, l, err);
        if (rc == SL_OK)
            rc = r;
    }
    return rc;
}

static int dlg_flush(struct sl_txn_engine *e, struct dlg_state *d, struct sl_err *err)
{
    struct leg_state *l = d->leg;
    int rc = SL_OK;

    if (d->pub.state != SL_DLG_TERMINATED) {
        d->pub.term_cause = "capture_end";
        /* still up: the call had not ended (or its BYE got no answer) */
        if (d->bye_seen) {
            if (!dlg_end_by_bye(d, INT64_MAX, -1, d->bye_req_side))
                rc = sl_fail(err, SL_ENOMEM, "out of memory finishing a dialog");
        } else if (l != NULL && d->invite_usage && d->pub.state == SL_DLG_CONFIRMED) {
            /* a partial dialog may well have been an early one (its INVITE
             * was not seen): it keeps the call up only when nothing else
             * ended after its last message */
            (void)leg_end_candidate(l, d->pub.partial ? d->last_us : INT64_MAX, -1, SL_SIDE_UNKNOWN,
                                    "capture-end", NULL);
        }
    }
    if (rc == SL_OK && e->sink.dialog_done != NULL)
        rc = e->sink.dialog_done(e->sink.ctx, &d->pub, err);
    (void)sl_map_del(e->dialogs, d->key, d->key_len, d);
    heap_remove(e, &d->n);
    if (l != NULL) {
        if (d->leg_prev != NULL)
            d->leg_prev->leg_next = d->leg_next;
        else
            l->dialogs = d->leg_next;
        if (d->leg_next != NULL)
            d->leg_next->leg_prev = d->leg_prev;
        leg_unref(e, l);
    }
    e->n_dialogs--;
    dlg_free(d);
    return rc;
}

/* The dialog's deadline passed: it terminates by itself, or leaves. */
static int dlg_due(struct sl_txn_engine *e, struct dlg_state *d, struct sl_err *err)
{
    const char *cause;
    int64_t when;

    if (d->pub.state == SL_DLG_TERMINATED)
        return dlg_flush(e, d, err);
    when = dlg_term_plan(e, d, &cause);
    if (when == INT64_MAX) { // cannot happen: nothing was scheduled
        heap_update(e, &d->n, INT64_MAX);
        return SL_OK;
    }
    if (d->invite_usage && d->pub.state == SL_DLG_CONFIRMED && !d->bye_seen) {
        if (!leg_end_candidate(d->leg, when, -1, SL_SIDE_UNKNOWN, "session-expiry", NULL))
            return sl_fail(err, SL_ENOMEM, "out of memory ending a dialog");
        d->session_expired = true;
    }
    dlg_terminate(e, d, cause, when, SL_SIDE_UNKNOWN, 0);
    return SL_OK;
}

/* The early dialogs an INVITE transaction created (from its 1xx tags, plus
 * the tag of its final) end: RFC 3261 12.3, 13.2.2.3 (non-2xx final), or
 * with the transaction itself (timeout). */
static void early_dialogs_end(struct sl_txn_engine *e, const struct txn_state *t,
                              const char *final_tag, const char *cause, int64_t ts)
{
    size_t i;

    for (i = 0; i <= t->pub.n_responses; i++) {
        const char *tag;
        struct dlg_state *d;

        if (i < t->pub.n_responses) {
            const struct sl_txn_response *r = &t->pub.responses[i];

            if (r->status < 101 || r->status > 199 || r->to_tag == NULL || r->to_tag[0] == '\0')
                continue;
            tag = r->to_tag;
        } else {
            if (final_tag == NULL || final_tag[0] == '\0')
                continue;
            tag = final_tag;
        }
        d = dlg_get(e, t->pub.call_id, t->pub.from_tag, tag);
        if (d != NULL && d->pub.state == SL_DLG_EARLY)
            dlg_terminate(e, d, cause, ts, SL_SIDE_UNKNOWN, 0);
    }
}

/* The dialog an in-dialog transaction belongs to, if it still exists. */
static struct dlg_state *txn_dialog(struct sl_txn_engine *e, const struct txn_state *t)
{
    struct dlg_state *d;

    if (t->pub.dialog_id == 0)
        return NULL;
    if (t->pub.uac_side == SL_SIDE_CALLEE)
        d = dlg_get(e, t->pub.call_id, t->pub.req_to_tag, t->pub.from_tag);
    else
        d = dlg_get(e, t->pub.call_id, t->pub.from_tag, t->pub.req_to_tag);
    return d != NULL && d->pub.id == t->pub.dialog_id ? d : NULL;
}

static int txn_flush(struct sl_txn_engine *e, struct txn_state *t, bool at_end, struct sl_err *err)
{
    struct sl_txn *p = &t->pub;
    int rc = SL_OK;

    if (p->final_status >= 0) {
        p->end_reason = "final";
        p->timeout_us = -1;
    } else if (p->kind == SL_TXN_ACK2XX) {
        p->end_reason = NULL; // an ACK gets no response (RFC 3261 17)
        p->timeout_us = -1;
    } else {
        bool proceeding = p->kind == SL_TXN_INVITE && p->first_1xx_us >= 0;

        p->timeout_us = p->req_first_us + e->t64_us;
        p->end_reason =
                at_end && (proceeding || e->clock_us < p->timeout_us) ? "capture_end" : "timeout";
        if (!at_end && p->kind == SL_TXN_INVITE && !p->in_dialog)
            early_dialogs_end(e, t, NULL, "timeout", t->n.deadline);
        if (!at_end && is_method(p->method, "BYE")) {
            /* RFC 3261 15.1.1: a BYE that times out ends the dialog */
            struct dlg_state *d = txn_dialog(e, t);

            if (d != NULL && d->pub.state != SL_DLG_TERMINATED) {
                dlg_terminate(e, d, "timeout", p->timeout_us, p->uac_side, p->req_msg_id);
                if (!dlg_end_by_bye(d, p->timeout_us, -1, p->uac_side))
                    rc = sl_fail(err, SL_ENOMEM, "out of memory ending a dialog");
            }
        }
    }
    if (rc == SL_OK && e->sink.txn_done != NULL)
        rc = e->sink.txn_done(e->sink.ctx, p, err);
    (void)sl_map_del(e->txns, t->key, t->key_len, t);
    if (t->lkey != NULL)
        (void)sl_map_del(e->txns_loose, t->lkey, t->lkey_len, t);
    if (t->vkey_len > 0)
        (void)sl_map_del(e->txns_via, t->vkey, t->vkey_len, t);
    heap_remove(e, &t->n);
    leg_unref(e, t->leg);
    e->n_txns--;
    txn_free(t);
    return rc;
}

/* Everything due at now_us. */
static int expire_at(struct sl_txn_engine *e, int64_t now_us, struct sl_err *err)
{
    int rc = SL_OK;

    while (rc == SL_OK && e->heap_n > 0 && e->heap[0]->deadline <= now_us) {
        struct node *n = e->heap[0];

        if (n->type == NODE_TXN)
            rc = txn_flush(e, (struct txn_state *)(void *)n, false, err);
        else
            rc = dlg_due(e, (struct dlg_state *)(void *)n, err);
    }
    if (rc == SL_OK)
        rc = legs_flush_pending(e, now_us, false, err);
    return rc;
}

int sl_txn_expire(struct sl_txn_engine *e, int64_t now_us, struct sl_err *err)
{
    if (e == NULL || !e->have_clock)
        return SL_OK;
    /* Never beyond the latest message: after a jump back in time (a second
     * input file) the caller's "now" is ahead of this input's clock. */
    return expire_at(e, min64(now_us, e->clock_us), err);
}

int sl_txn_finish(struct sl_txn_engine *e, struct sl_err *err)
{
    int rc = SL_OK;

    if (e == NULL)
        return SL_OK;
    if (e->have_clock)
        rc = expire_at(e, e->clock_us, err);
    while (rc == SL_OK && e->heap_n > 0) {
        struct node *n = e->heap[0];

        if (n->type == NODE_TXN)
            rc = txn_flush(e, (struct txn_state *)(void *)n, true, err);
        else
            rc = dlg_flush(e, (struct dlg_state *)(void *)n, err);
    }
    if (rc == SL_OK)
        rc = legs_flush_pending(e, 0, true, err);
    while (rc == SL_OK && e->legs_all != NULL)
        rc = leg_flush(e, e->legs_all, err); // only if a reference was lost
    return rc;
}

void sl_txn_engine_free(struct sl_txn_engine *e)
{
    size_t i;

    if (e == NULL)
        return;
    for (i = 0; i < e->heap_n; i++) {
        if (e->heap[i]->type == NODE_TXN)
            txn_free((struct txn_state *)(void *)e->heap[i]);
        else
            dlg_free((struct dlg_state *)(void *)e->heap[i]);
    }
    free(e->heap);
    while (e->legs_all != NULL) {
        struct leg_state *l = e->legs_all;

        e->legs_all = l->next;
        leg_free(l);
    }
    while (e->dup_head != NULL) {
        struct dup_rec *r = e->dup_head;

        e->dup_head = r->next;
        free(r);
    }
    sl_map_free(e->txns);
    sl_map_free(e->txns_loose);
    sl_map_free(e->txns_via);
    sl_map_free(e->dialogs);
    sl_map_free(e->legs);
    sl_map_free(e->dups);
    free(e);
}

/* --------------------------------------------------------- duplicates -- */

static void dup_drop_head(struct sl_txn_engine *e)
{
    struct dup_rec *r = e->dup_head;

    e->dup_head = r->next;
    if (e->dup_head == NULL)
        e->dup_tail = NULL;
    (void)sl_map_del_h(e->dups, r->key, r->key_len, r->hash, r);
    e->n_dups--;
    free(r);
}

/* Records older (or, after a jump back in time, newer) than any duplicate
 * window around ts can go. */
static void dup_purge(struct sl_txn_engine *e, int64_t ts)
{
    while (e->dup_head != NULL &&
           (abs_diff(e->dup_head->ts_us, ts) > e->dup_cross_us || e->n_dups >= MAX_DUPS))
        dup_drop_head(e);
}

uint64_t sl_txn_dup_hash(const struct sl_txn_engine *e, const struct sl_txn_input *in)
{
    unsigned char k[2 * EP_KEY_LEN + 1];
    uint64_t h;

    ep_bytes(&in->src, k);
    ep_bytes(&in->dst, k + EP_KEY_LEN);
    k[2 * EP_KEY_LEN] = (unsigned char)in->transport;
    h = sl_map_hash(e->dups, k, sizeof(k));
    /* equal keys give equal hashes: the map compares the whole key */
    return (h << 1 | h >> 63) ^ sl_map_hash(e->dups, in->raw, in->raw_len);
}

/* A record for this observation (not yet stored), or NULL without bytes. */
static struct dup_rec *dup_make(const struct sl_txn_engine *e, const struct sl_txn_input *in,
                                int *rc)
{
    struct dup_rec *r;
    size_t n;

    *rc = SL_OK;
    if (in->raw == NULL || in->raw_len == 0)
        return NULL;
    if (in->raw_len > SIZE_MAX - sizeof(*r) - 2 * EP_KEY_LEN - 1) {
        *rc = SL_ENOMEM;
        return NULL;
    }
    n = 2 * EP_KEY_LEN + 1 + in->raw_len;
    r = malloc(sizeof(*r) + n);
    if (r == NULL) {
        *rc = SL_ENOMEM;
        return NULL;
    }
    memset(r, 0, sizeof(*r));
    ep_bytes(&in->src, r->key);
    ep_bytes(&in->dst, r->key + EP_KEY_LEN);
    r->key[2 * EP_KEY_LEN] = (unsigned char)in->transport;
    memcpy(r->key + 2 * EP_KEY_LEN + 1, in->raw, in->raw_len);
    r->key_len = n;
    r->hash = in->has_dup_hash ? in->dup_hash : sl_txn_dup_hash(e, in);
    r->ts_us = in->ts_us;
    r->capture_id = in->capture_id;
    r->msg_id = in->msg_id;
    return r;
}

/* G2: the same bytes with the same src/dst/transport seen again far below T1
 * (or from another capture point, close in time) is one observation. */
static const struct dup_rec *dup_find(const struct sl_txn_engine *e, const struct dup_rec *r)
{
    const struct dup_rec *o = sl_map_get_h(e->dups, r->key, r->key_len, r->hash);
    int64_t dt;

    if (o == NULL)
        return NULL;
    dt = abs_diff(o->ts_us, r->ts_us);
    if (o->capture_id == r->capture_id ? dt <= e->dup_same_us : dt <= e->dup_cross_us)
        return o;
    return NULL;
}

static int dup_store(struct sl_txn_engine *e, struct dup_rec *r, const struct sl_msg_links *links)
{
    int rc;

    r->links = *links;
    rc = sl_map_put_h(e->dups, r->key, r->key_len, r->hash, r, NULL);
    if (rc != SL_OK) {
        free(r);
        return rc == SL_ELIMIT ? SL_OK : rc;
    }
    if (e->dup_tail != NULL)
        e->dup_tail->next = r;
    else
        e->dup_head = r;
    e->dup_tail = r;
    e->n_dups++;
    return SL_OK;
}

/* ------------------------------------------------------------ feeding -- */

/* The state of one feed call. */
struct feed {
    struct sl_txn_engine *e;
    const struct view *v;
    struct sl_msg_links *links;
    struct leg_state *leg; /* the leg the message ends up in */
    struct sl_err *err;
    int limit_rc; /* SL_ELIMIT when a cap refused something */
};

static void feed_limit(struct feed *f, const char *what, const char *option, size_t cap)
{
    if (f->limit_rc == SL_OK)
        f->limit_rc = sl_fail(f->err, SL_ELIMIT,
                              "%s cap (%zu) reached (--limit %s): message %lld not fully linked",
                              what, cap, option, (long long)f->v->in->msg_id);
}

static void link_txn(struct feed *f, const struct txn_state *t, int64_t dialog_id,
                     enum sl_side side)
{
    f->links->txn_id = t->pub.id;
    f->links->dialog_id = dialog_id;
    f->links->leg_id = t->leg != NULL ? t->leg->pub.id : 0;
    f->links->side = side;
    f->leg = t->leg;
}

/* A BYE: who ended the call and how (RULES.md A.6.4, A.8).  Kept on its
 * dialog (the first BYE of each dialog); the leg takes the one of the
 * dialog that ends last (leg_end_candidate).  Without a dialog (cap), on
 * the leg itself. */
static int leg_on_bye(struct feed *f, struct leg_state *l, struct dlg_state *d, enum sl_side side)
{
    int64_t ts = f->v->in->ts_us;
    int64_t w;
    const char *how = "bye";
    bool oom = false;

    if (d == NULL) {
        if (l == NULL || l->bye_seen)
            return SL_OK;
        l->bye_seen = true;
        l->bye_side = side;
        l->bye_how = how;
        l->bye_reason_hdr = dup_str(f->v->m->reason_hdr, &oom);
        return oom ? SL_ENOMEM : SL_OK;
    }
    if (d->bye_seen)
        return SL_OK;
    /* G5 tolerance, at least 2 s for the end-of-call classification */
    w = max64(END_WINDOW_MIN_US, max64(MIN_TOL_US, d->rtt_us));
    if (d->invite_usage && d->pub.confirmed_us >= 0 && !d->acked &&
        abs_diff(ts, d->pub.confirmed_us + f->e->t64_us) <= w) {
        /* RFC 3261 13.3.1.4, 14.2: a 2xx never ACKed, BYE after 64*T1 */
        how = "missing-ack";
    } else if (d->pub.se_interval >= 0 && d->pub.se_expiry_us >= 0 &&
               (abs_diff(ts, d->se_bye_due_us) <= w || ts >= d->pub.se_expiry_us - w)) {
        /* RFC 4028 10: no refresh, BYE at expiry - min(32, SE/3) or later */
        how = "session-expiry";
    }
    d->bye_seen = true;
    d->bye_req_side = side;
    d->bye_how = how;
    d->bye_reason_hdr = dup_str(f->v->m->reason_hdr, &oom);
    return oom ? SL_ENOMEM : SL_OK;
}

/* A.6.3: per-direction CSeq of an in-dialog request (not ACK, not CANCEL);
 * its copy on another hop (A.9.2) is not counted again. */
static int64_t dlg_count_cseq(struct dlg_state *d, const struct txn_state *t, enum sl_side side,
                              uint64_t hop_h)
{
    int64_t cseq = t->pub.cseq_num, prev;
    uint64_t mh = str_hash(t->pub.method);

    if (side != SL_SIDE_CALLER && side != SL_SIDE_CALLEE)
        return -1;
    if (t->pub.parent_txn_id != 0 ||
        (cseq == d->pub.last_cseq[side] && d->last_method_h[side] == mh &&
         d->last_hop_h[side] != 0 && d->last_hop_h[side] != hop_h))
        return d->prev_cseq[side];
    prev = d->pub.last_cseq[side];
    d->prev_cseq[side] = prev;
    if (cseq > prev) {
        d->pub.last_cseq[side] = cseq;
        d->last_method_h[side] = mh;
        d->last_hop_h[side] = hop_h;
    }
    return prev;
}

/* Creates the transaction of request v (not yet in any map). */
static int txn_new(struct feed *f, enum sl_txn_kind kind, struct txn_state **out)
{
    struct sl_txn_engine *e = f->e;
    const struct view *v = f->v;
    const struct sl_msg *m = v->m;
    struct txn_state *t;
    struct kbuf k;
    bool oom = false;

    *out = NULL;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return SL_ENOMEM;
    t->n.type = NODE_TXN;
    t->n.idx = SIZE_MAX;
    kb_init(&k);
    txn_key(&k, v, v->method, false);
    t->key = k.oom ? NULL : kb_copy(&k);
    t->key_len = k.n;
    kb_fini(&k);
    if (!v->rfc2543) {
        kb_init(&k);
        txn_key(&k, v, v->method, true);
        t->lkey = k.oom ? NULL : kb_copy(&k);
        t->lkey_len = k.n;
        oom = t->lkey == NULL;
        kb_fini(&k);
    }
    if (m->via_hash != 0)
        t->vkey_len = via_key(t->vkey, m->via_hash, v);
    t->via_tail_hash = m->via_count >= 2 ? m->via_tail_hash : 0;
    t->hop_h = v->hop_h;
    t->ruri = dup_str(m->ruri, &oom);
    t->from_uri = dup_str(m->from_uri, &oom);
    t->to_uri = dup_str(m->to_uri, &oom);
    t->cseq_prev = -1;
    t->last_us = v->in->ts_us;
    t->pub.id = e->next_txn_id + 1;
    t->pub.kind = kind;
    t->pub.method = dup_str(v->method, &oom);
    t->pub.branch = dup_str(v->branch, &oom);
    t->pub.sent_by = dup_str(v->sent_by, &oom);
    t->pub.rfc2543 = v->rfc2543;
    t->pub.uac = v->in->src;
    t->pub.uas = v->in->dst;
    t->pub.transport = v->in->transport;
    t->pub.capture_id = v->in->capture_id;
    t->pub.call_id = dup_str(v->call_id, &oom);
    t->pub.from_tag = dup_str(v->from_tag, &oom);
    t->pub.req_to_tag = dup_str(v->to_tag, &oom);
    t->pub.cseq_num = v->cseq;
    t->pub.uac_side = SL_SIDE_CALLER;
    t->pub.req_msg_id = v->in->msg_id;
    t->pub.req_first_us = t->pub.req_last_us = v->in->ts_us;
    t->pub.req_copies = 1;
    t->pub.first_1xx_us = -1;
    t->pub.first_final_us = -1;
    t->pub.final_status = -1;
    t->pub.timeout_us = -1;
    if (oom || t->key == NULL) {
        txn_free(t);
        return SL_ENOMEM;
    }
    *out = t;
    return SL_OK;
}

/* Puts t into the maps and the heap; takes a reference on its leg. */
static int txn_insert(struct feed *f, struct txn_state *t)
{
    struct sl_txn_engine *e = f->e;
    int rc;

    rc = sl_map_put(e->txns, t->key, t->key_len, t, NULL);
    if (rc == SL_OK && t->lkey != NULL) {
        rc = sl_map_put(e->txns_loose, t->lkey, t->lkey_len, t, NULL);
        if (rc != SL_OK)
            (void)sl_map_del(e->txns, t->key, t->key_len, t);
    }
    if (rc == SL_OK && t->vkey_len > 0) {
        rc = sl_map_put(e->txns_via, t->vkey, t->vkey_len, t, NULL);
        if (rc != SL_OK) {
            (void)sl_map_del(e->txns, t->key, t->key_len, t);
            if (t->lkey != NULL)
                (void)sl_map_del(e->txns_loose, t->lkey, t->lkey_len, t);
        }
    }
    if (rc == SL_OK) {
        t->n.deadline = txn_deadline(e, t);
        rc = heap_push(e, &t->n);
        if (rc != SL_OK) {
            (void)sl_map_del(e->txns, t->key, t->key_len, t);
            if (t->lkey != NULL)
                (void)sl_map_del(e->txns_loose, t->lkey, t->lkey_len, t);
            if (t->vkey_len > 0)
                (void)sl_map_del(e->txns_via, t->vkey, t->vkey_len, t);
        }
    }
    if (rc != SL_OK)
        return rc == SL_ELIMIT ? SL_ENOMEM : rc;
    e->next_txn_id++;
    e->n_txns++;
    if (t->leg != NULL)
        t->leg->refs++;
    return SL_OK;
}

/* A.9.2: the same request one proxy upstream, by the Via-suffix relation
 * (request v taken as one of the given method). */
static struct txn_state *txn_parent(struct sl_txn_engine *e, uint64_t tail_hash,
                                    const struct view *v, const char *method)
{
    unsigned char vk[VKEY_MAX];
    struct view u = *v;

    if (tail_hash == 0)
        return NULL;
    u.method = method;
    return sl_map_get(e->txns_via, vk, via_key(vk, tail_hash, &u));
}

/* The leg and, for a request with a To tag, the dialog of a new request
 * (not CANCEL, not a folded ACK).  Creates a partial dialog (G4) or, for a
 * NOTIFY racing the 2xx to its SUBSCRIBE (RFC 6665 4.1.2.4), the real one. */
static int request_dialog(struct feed *f, struct txn_state *t, struct dlg_state **out,
                          enum sl_side *side)
{
    struct sl_txn_engine *e = f->e;
    const struct view *v = f->v;
    struct dlg_state *d;
    struct leg_state *l;
    struct dlg_seed s;
    int rc;

    *out = NULL;
    d = dlg_find(e, v, side);
    if (d != NULL) {
        *out = d;
        t->leg = d->leg;
        return SL_OK;
    }
    if (v->to_tag[0] == '\0') {
        /* out of dialog (RFC 3261 8.1.1.2); ACK and CANCEL never start a
         * leg of their own */
        *side = SL_SIDE_CALLER;
        rc = leg_for_request(e, v, t->pub.kind == SL_TXN_ACK2XX, &l, f->err);
        if (rc != SL_OK)
            return rc;
        t->leg = l;
        return SL_OK;
    }
    memset(&s, 0, sizeof(s));
    s.call_id = v->call_id;
    s.ts_us = v->in->ts_us;
    s.txn_id = t->pub.id;
    s.state = SL_DLG_CONFIRMED;
    s.caller_cseq = -1;
    l = leg_get(e, v->call_id, v->to_tag);
    if (l != NULL && is_method(v->method, "NOTIFY") &&
        (is_method(l->pub.method, "SUBSCRIBE") || is_method(l->pub.method, "REFER"))) {
        /* RFC 6665 4.1.2.4: the NOTIFY creates the subscription dialog */
        *side = SL_SIDE_CALLEE;
        s.caller_tag = v->to_tag;
        s.callee_tag = v->from_tag;
        s.method = l->pub.method;
        s.caller_uri = v->m->to_uri;
        s.callee_uri = v->m->from_uri;
        s.caller_ep = v->in->dst;
        s.callee_ep = v->in->src;
        s.caller_cseq = l->attempt_cseq;
    } else {
        /* G4: first seen through an in-dialog request.  When the leg of one
         * of the tags is known, its From tag is the caller's. */
        s.partial = true;
        s.method = guess_usage(v->method);
        if (l != NULL && leg_get(e, v->call_id, v->from_tag) == NULL) {
            *side = SL_SIDE_CALLEE;
            s.caller_tag = v->to_tag;
            s.callee_tag = v->from_tag;
            s.caller_uri = v->m->to_uri;
            s.callee_uri = v->m->from_uri;
            s.caller_ep = v->in->dst;
            s.callee_ep = v->in->src;
        } else {
            *side = SL_SIDE_CALLER;
            s.caller_tag = v->from_tag;
            s.callee_tag = v->to_tag;
            s.caller_uri = v->m->from_uri;
            s.callee_uri = v->m->to_uri;
            s.caller_ep = v->in->src;
            s.callee_ep = v->in->dst;
            rc = leg_for_request(e, v, true, &l, f->err);
            if (rc != SL_OK)
                return rc;
        }
    }
    s.invite_usage = is_method(s.method, "INVITE");
    s.leg = l;
    t->leg = l;
    rc = dlg_create(e, &s, &d);
    if (rc == SL_ELIMIT) {
        feed_limit(f, "open dialogs", "dialogs", e->max_dialogs);
        return SL_OK;
    }
    if (rc != SL_OK)
        return rc;
    *out = d;
    return SL_OK;
}

/* Links a message that has no transaction to its dialog or leg when they
 * are known.  The sender of a response is the other side of its request. */
static void link_loose(struct feed *f, bool response)
{
    const struct view *v = f->v;
    enum sl_side side;
    struct dlg_state *d = dlg_find(f->e, v, &side);
    struct leg_state *l = d != NULL ? d->leg : leg_get(f->e, v->call_id, v->from_tag);

    if (d != NULL)
        f->links->dialog_id = d->pub.id;
    if (l != NULL) {
        f->links->leg_id = l->pub.id;
        if (response)
            f->links->side = d != NULL ? other_side(side) : SL_SIDE_CALLEE;
        else
            f->links->side = d != NULL ? side : SL_SIDE_CALLER;
        f->leg = l;
    }
}

/* A request that could not get a transaction (cap): linked where possible. */
static int request_unmatched(struct feed *f)
{
    link_loose(f, false);
    feed_limit(f, "open transactions", "transactions", f->e->max_txns);
    return SL_OK;
}

/* RFC 3261 17.1.1.3, 17.2.3: an ACK with the INVITE's key acknowledges a
 * non-2xx final and belongs to the INVITE transaction.  A.3.5 (no cookie):
 * its To tag must also be the one of the final response. */
static bool ack_folds(const struct txn_state *inv, const struct view *v)
{
    if (inv->pub.kind != SL_TXN_INVITE)
        return false;
    if (inv->pub.final_status >= 200 && inv->pub.final_status < 300)
        return false; // RFC 6026 7.1: ACK for a 2xx, passed to the core
    if (v->rfc2543 && inv->pub.final_to_tag != NULL && !str_eq(inv->pub.final_to_tag, v->to_tag))
        return false;
    return true;
}

static int on_ack_folded(struct feed *f, struct txn_state *inv)
{
    const struct view *v = f->v;

    link_txn(f, inv, inv->req_dialog_id, inv->pub.uac_side);
    inv->last_us = max64(inv->last_us, v->in->ts_us);
    if (inv->pub.ack_msg_id == 0) {
        inv->pub.ack_msg_id = v->in->msg_id;
        inv->pub.ack_us = v->in->ts_us;
    } else {
        /* A.3.5: an ACK matching an already ACKed transaction is a
         * retransmission of that ACK */
        f->links->is_retrans = true;
        f->links->retrans_of = inv->pub.ack_msg_id;
    }
    return SL_OK;
}

static int on_request(struct feed *f)
{
    struct sl_txn_engine *e = f->e;
    const struct view *v = f->v;
    enum sl_txn_kind kind;
    struct txn_state *t, *inv = NULL, *parent;
    struct dlg_state *d = NULL;
    enum sl_side side = SL_SIDE_CALLER;
    int rc;

    if (is_method(v->method, "ACK")) {
        inv = txn_lookup(e, v, "INVITE", false);
        if (inv != NULL && ack_folds(inv, v))
            return on_ack_folded(f, inv);
        kind = SL_TXN_ACK2XX; // RFC 3261 13.2.2.4, 17 intro
    } else if (is_method(v->method, "CANCEL")) {
        kind = SL_TXN_CANCEL;
    } else if (is_method(v->method, "INVITE")) {
        kind = SL_TXN_INVITE;
    } else {
        kind = SL_TXN_NONINVITE;
    }

    /* A.3.4: the same key again is a retransmission of the request.  With
     * a cookie the key has no CSeq number: a request of the same method on
     * the same branch with another CSeq number is not a copy but a new
     * request that reuses the branch (RFC 3261 8.1.1.7 forbids it); it gets
     * a transaction of its own, which takes over the key. */
    t = txn_lookup(e, v, v->method, false);
    if (t != NULL && t->pub.cseq_num == v->cseq &&
        (!v->rfc2543 || (str_eq(t->ruri, v->m->ruri) && str_eq(t->pub.req_to_tag, v->to_tag)))) {
        t->pub.req_copies++;
        t->pub.req_last_us = max64(t->pub.req_last_us, v->in->ts_us);
        t->last_us = max64(t->last_us, v->in->ts_us);
        link_txn(f, t, t->req_dialog_id, t->pub.uac_side);
        f->links->is_retrans = true;
        f->links->retrans_of = t->pub.req_msg_id;
        f->links->cseq_prev = t->cseq_prev;
        if (t->pub.kind == SL_TXN_INVITE && t->pub.first_final_us < 0 && t->pub.first_1xx_us >= 0)
            heap_update(e, &t->n, txn_deadline(e, t));
        return SL_OK;
    }

    if (e->n_txns >= e->max_txns)
        return request_unmatched(f);
    rc = txn_new(f, kind, &t);
    if (rc != SL_OK)
        return rc;

    parent = txn_parent(e, t->via_tail_hash, v, v->method);
    if (parent != NULL && parent != t)
        t->pub.parent_txn_id = parent->pub.id;

    if (kind == SL_TXN_CANCEL) {
        /* RFC 3261 9.2: the INVITE it cancels matches as if the method were
         * INVITE (A.3.5 without cookie: Request-URI and To tag too) */
        inv = txn_lookup(e, v, "INVITE", false);
        if (inv != NULL && v->rfc2543 &&
            (!str_eq(inv->ruri, v->m->ruri) || !str_eq(inv->pub.req_to_tag, v->to_tag)))
            inv = NULL;
        if (inv != NULL && inv->pub.kind == SL_TXN_INVITE) {
            t->pub.cancels_txn_id = inv->pub.id;
            if (inv->pub.cancel_txn_id == 0)
                inv->pub.cancel_txn_id = t->pub.id;
            t->leg = inv->leg;
            t->pub.in_dialog = inv->pub.in_dialog;
            t->pub.dialog_id = inv->req_dialog_id;
            t->pub.uac_side = inv->pub.uac_side;
            if (t->pub.parent_txn_id == 0 && inv->pub.parent_txn_id != 0) {
                /* a proxy's own CANCEL has a single Via (RFC 3261 9.1): its
                 * upstream copy is the CANCEL of the upstream INVITE */
                struct txn_state *pi = txn_parent(e, inv->via_tail_hash, v, "INVITE");

                if (pi != NULL && pi->pub.id == inv->pub.parent_txn_id)
                    t->pub.parent_txn_id = pi->pub.cancel_txn_id;
            }
            if (inv->attempt && inv->leg != NULL && !inv->leg->cancelled) {
                bool oom = false;

                inv->leg->cancelled = true;
                inv->leg->cancel_us = v->in->ts_us;
                inv->leg->cancel_reason_hdr = dup_str(v->m->reason_hdr, &oom);
                if (oom) {
                    txn_free(t);
                    return SL_ENOMEM;
                }
            }
        } else {
            d = dlg_find(e, v, &side);
            if (d != NULL) {
                t->leg = d->leg;
                t->pub.in_dialog = true;
                t->pub.dialog_id = d->pub.id;
                t->pub.uac_side = side;
            } else {
                rc = leg_for_request(e, v, true, &t->leg, f->err);
                if (rc != SL_OK) {
                    txn_free(t);
                    return rc;
                }
            }
        }
    } else {
        rc = request_dialog(f, t, &d, &side);
        if (rc != SL_OK) {
            txn_free(t);
            return rc;
        }
        t->pub.uac_side = side;
        if (d != NULL) {
            t->pub.in_dialog = true;
            t->pub.dialog_id = d->pub.id;
        } else if (v->to_tag[0] == '\0' && t->leg != NULL && !t->leg->partial &&
                   is_method(t->leg->pub.method, v->method) && kind != SL_TXN_ACK2XX) {
            /* an initial request of the leg (first, or resubmitted after
             * 401/407/422 or a 3xx: RFC 3261 8.1.3.4, 8.1.3.5, 22.2) */
            t->attempt = true;
            t->leg->attempt_cseq = v->cseq;
        }
    }
    t->req_dialog_id = t->pub.dialog_id;
    if (t->pub.dialog_id == 0 && d != NULL)
        t->req_dialog_id = t->pub.dialog_id = d->pub.id;
    t->pub.leg_id = t->leg != NULL ? t->leg->pub.id : 0;

    rc = txn_insert(f, t);
    if (rc != SL_OK) {
        txn_free(t);
        return rc;
    }
    link_txn(f, t, t->pub.dialog_id, t->pub.uac_side);

    if (d != NULL) {
        dlg_touch(e, d, v->in->ts_us);
        if (kind != SL_TXN_ACK2XX && kind != SL_TXN_CANCEL) {
            t->cseq_prev = dlg_count_cseq(d, t, side, v->hop_h);
            f->links->cseq_prev = t->cseq_prev;
        }
        if (kind == SL_TXN_ACK2XX && v->cseq == d->confirm_cseq)
            d->acked = true;
    }
    if (is_method(v->method, "BYE"))
        return leg_on_bye(f, t->leg, d, side);
    return SL_OK;
}

/* A 1xx/2xx to an initial INVITE (or 2xx to SUBSCRIBE / REFER) creates or
 * advances the dialog of its To tag (RFC 3261 12.1, 13.2.2.4; RFC 6665
 * 4.1.2.1; RFC 3515 2.4.4). */
static int response_dialog(struct feed *f, struct txn_state *t, bool confirm,
                           struct dlg_state **out)
{
    struct sl_txn_engine *e = f->e;
    const struct view *v = f->v;
    struct dlg_state *d = dlg_get(e, t->pub.call_id, t->pub.from_tag, v->to_tag);
    int rc;

    *out = NULL;
    /* the same tags as a dialog that ended before this request was sent:
     * a new dialog (Call-ID and tags reused, or the call replayed) */
    if (d != NULL && d->pub.state == SL_DLG_TERMINATED &&
        d->pub.terminated_us <= t->pub.req_first_us && d->pub.created_txn_id != t->pub.id)
        d = NULL;
    if (d == NULL) {
        struct dlg_seed s;

        memset(&s, 0, sizeof(s));
        s.call_id = t->pub.call_id;
        s.caller_tag = t->pub.from_tag;
        s.callee_tag = v->to_tag;
        s.method = t->pub.method;
        s.caller_uri = t->from_uri;
        s.callee_uri = t->to_uri;
        s.caller_ep = t->pub.uac;
        s.callee_ep = t->pub.uas;
        s.leg = t->leg;
        s.txn_id = t->pub.id;
        s.invite_usage = t->pub.kind == SL_TXN_INVITE;
        s.state = confirm ? SL_DLG_CONFIRMED : SL_DLG_EARLY;
        s.ts_us = v->in->ts_us;
        s.caller_cseq = t->pub.cseq_num;
        s.rtt_us = v->in->ts_us - t->pub.req_first_us;
        rc = dlg_create(e, &s, &d);
        if (rc == SL_ELIMIT) {
            feed_limit(f, "open dialogs", "dialogs", e->max_dialogs);
            return SL_OK;
        }
        if (rc != SL_OK)
            return rc;
    } else if (confirm && d->pub.state == SL_DLG_EARLY) {
        d->pub.state = SL_DLG_CONFIRMED;
        d->pub.confirmed_us = v->in->ts_us;
        d->confirm_cseq = t->pub.cseq_num;
        if (d->pub.last_cseq[SL_SIDE_CALLER] < t->pub.cseq_num)
            d->pub.last_cseq[SL_SIDE_CALLER] = t->pub.cseq_num;
        dlg_reschedule(e, d);
    } else if (confirm && d->pub.state == SL_DLG_CONFIRMED && d->confirm_cseq < 0) {
        d->confirm_cseq = t->pub.cseq_num;
    }
    dlg_touch(e, d, v->in->ts_us);
    /* txn.dialog_id of a forked request (docs/schema.md): the dialog of
     * its first 2xx, else of its latest provisional with a tag */
    if (confirm && !t->dialog_by_2xx) {
        t->pub.dialog_id = d->pub.id;
        t->dialog_by_2xx = true;
    } else if (!confirm && !t->dialog_by_2xx) {
        t->pub.dialog_id = d->pub.id;
    }
    *out = d;
    return SL_OK;
}

/* The leg's view of a new final response to one of its initial requests. */
static int leg_on_final(struct feed *f, struct txn_state *t)
{
    struct leg_state *l = t->leg;
    const struct sl_msg *m = f->v->m;
    int64_t ts = f->v->in->ts_us;
    bool oom = false;

    if (l == NULL || !t->attempt)
        return SL_OK;
    if (m->status >= 200 && m->status < 300) {
        if (!l->answered) {
            l->answered = true;
            l->pub.answer_us = ts;
            l->pub.final_status = m->status;
            free(l->pub.final_reason);
            l->pub.final_reason = dup_str(m->reason, &oom);
            free(l->final_reason_hdr);
            l->final_reason_hdr = dup_str(m->reason_hdr, &oom);
            l->final_us = ts;
        }
        if (l->first_2xx_us < 0 && t->pub.kind == SL_TXN_INVITE) {
            struct dlg_state *d;

            /* RFC 3261 13.2.2.4: the other forks have 64*T1 from now */
            l->first_2xx_us = ts;
            for (d = l->dialogs; d != NULL; d = d->leg_next)
                dlg_reschedule(f->e, d);
        }
    } else if (!l->answered) {
        /* the last attempt's final counts (G9: 401/407/422 are followed by
         * a resubmission that replaces it) */
        l->pub.final_status = m->status;
        free(l->pub.final_reason);
        l->pub.final_reason = dup_str(m->reason, &oom);
        free(l->final_reason_hdr);
        l->final_reason_hdr = dup_str(m->reason_hdr, &oom);
        l->final_us = ts;
    }
    return oom ? SL_ENOMEM : SL_OK;
}

/* A response matching no transaction (stray): linked to its dialog or leg
 * when they are known. */
static int response_stray(struct feed *f)
{
    link_loose(f, true);
    return SL_OK;
}

static int on_response(struct feed *f)
{
    struct sl_txn_engine *e = f->e;
    const struct view *v = f->v;
    const struct sl_msg *m = v->m;
    struct txn_state *t;
    struct sl_txn_response *r;
    struct dlg_state *d = NULL;
    int status = m->status;
    int64_t ts = v->in->ts_us;
    bool is2xx = status >= 200 && status < 300;
    int rc;

    if (v->method[0] == '\0')
        return response_stray(f);
    /* RFC 3261 17.1.3: branch and CSeq method (per hop, with sent-by) */
    t = txn_lookup(e, v, v->method, false);
    if (t == NULL && !v->rfc2543) {
        /* sent to the Via port rather than the source port (RFC 3261
         * 18.2.2): the same addresses, other ports */
        t = txn_lookup(e, v, v->method, true);
        if (t != NULL && !(ip_eq(&t->pub.uas, &v->in->src) && ip_eq(&t->pub.uac, &v->in->dst)))
            t = NULL;
    }
    if (t == NULL || t->pub.kind == SL_TXN_ACK2XX)
        return response_stray(f);

    t->last_us = max64(t->last_us, ts);
    r = resp_find(t, status, v->to_tag, m->rseq >= 0 ? m->rseq : -1);
    if (r != NULL) {
        /* A.3.7: the same status, To tag and RSeq again */
        r->copies++;
        r->last_us = max64(r->last_us, ts);
        d = t->pub.in_dialog ? txn_dialog(e, t)
                             : dlg_get(e, t->pub.call_id, t->pub.from_tag, v->to_tag);
        link_txn(f, t, d != NULL ? d->pub.id : t->pub.dialog_id, other_side(t->pub.uac_side));
        f->links->is_retrans = true;
        f->links->retrans_of = r->first_msg_id;
        if (t->pub.kind == SL_TXN_INVITE && t->pub.first_final_us < 0)
            heap_update(e, &t->n, txn_deadline(e, t));
        return SL_OK;
    }
    rc = resp_add(t, v);
    if (rc != SL_OK)
        return rc;
    if (status < 200) {
        if (t->pub.first_1xx_us < 0)
            t->pub.first_1xx_us = ts;
    } else if (t->pub.first_final_us < 0) {
        bool oom = false;

        t->pub.first_final_us = ts;
        t->pub.final_status = status;
        t->pub.final_to_tag = dup_str(v->to_tag, &oom);
        t->pub.final_msg_id = v->in->msg_id;
        if (oom)
            return SL_ENOMEM;
    }

    if (!t->pub.in_dialog) {
        if (t->pub.kind == SL_TXN_INVITE) {
            if (status > 100 && status < 200 && v->to_tag[0] != '\0') {
                rc = response_dialog(f, t, false, &d);
            } else if (is2xx) {
                /* RFC 3261 12.1.2: a 2xx without To tag has a null tag */
                rc = response_dialog(f, t, true, &d);
            } else if (status >= 300) {
                early_dialogs_end(e, t, v->to_tag, "non2xx", ts);
                d = dlg_get(e, t->pub.call_id, t->pub.from_tag, v->to_tag);
            }
        } else if (is2xx &&
                   (is_method(t->pub.method, "SUBSCRIBE") || is_method(t->pub.method, "REFER"))) {
            rc = response_dialog(f, t, true, &d);
            if (rc == SL_OK && d != NULL && is_method(t->pub.method, "SUBSCRIBE") &&
                m->expires >= 0)
                d->sub_expires_s = m->expires;
        }
        if (rc != SL_OK)
            return rc;
    } else {
        d = txn_dialog(e, t);
        if (d != NULL) {
            dlg_touch(e, d, ts);
            bool ended_by_bye = d->pub.state == SL_DLG_TERMINATED && d->pub.bye_msg_id > 0;

            if (is2xx && is_method(t->pub.method, "BYE")) {
                /* RFC 3261 15.1.1: BYE answered, the dialog is over.  A
                 * session that expired without anyone acting on it ends
                 * with this BYE (the session-timer rules judge the expiry) */
                if (d->session_expired && d->pub.bye_msg_id == 0) {
                    d->session_expired = false;
                    d->pub.state = SL_DLG_CONFIRMED;
                }
                dlg_terminate(e, d, "bye", ts, t->pub.uac_side, t->pub.req_msg_id);
                if (!ended_by_bye && !dlg_end_by_bye(d, ts, ts, t->pub.uac_side))
                    return SL_ENOMEM;
            } else if (status == 481 || status == 408) {
                /* RFC 3261 12.2.1.2, 15.1.1: the UAC ends the dialog */
                bool bye = is_method(t->pub.method, "BYE");

                dlg_terminate(e, d, status == 481 ? "481" : "408", ts,
                              bye ? t->pub.uac_side : SL_SIDE_UNKNOWN, bye ? t->pub.req_msg_id : 0);
                if (bye && !ended_by_bye && !dlg_end_by_bye(d, ts, -1, t->pub.uac_side))
                    return SL_ENOMEM;
            } else if (is2xx && is_method(t->pub.method, "SUBSCRIBE") && m->expires >= 0) {
                d->sub_expires_s = m->expires;
            }
        }
    }

    link_txn(f, t, d != NULL ? d->pub.id : (t->pub.in_dialog ? t->pub.dialog_id : 0),
             other_side(t->pub.uac_side));
    if (status >= 200) {
        rc = leg_on_final(f, t);
        if (rc != SL_OK)
            return rc;
    }
    if (is_method(t->pub.method, "INVITE") || is_method(t->pub.method, "UPDATE")) {
        if (is2xx && d != NULL)
            rc = st_on_2xx(e, d, t, v, f->err);
        else if (status == 422)
            rc = st_on_422(e, d, t->leg, t, v, f->err);
        if (rc != SL_OK)
            return rc;
    }
    heap_update(e, &t->n, txn_deadline(e, t));
    return SL_OK;
}

int sl_txn_feed(struct sl_txn_engine *e, const struct sl_txn_input *in, struct sl_msg_links *links,
                struct sl_err *err)
{
    struct view v;
    struct feed f;
    struct dup_rec *rec;
    const struct dup_rec *first;
    int rc;

    memset(links, 0, sizeof(*links));
    links->cseq_prev = -1;
    if (e == NULL || in == NULL || in->msg == NULL)
        return sl_fail(err, SL_EUSAGE, "sl_txn_feed: no engine or message");
    e->clock_us = in->ts_us;
    e->have_clock = true;

    /* G2: one observation seen twice */
    dup_purge(e, in->ts_us);
    rec = dup_make(e, in, &rc);
    if (rc != SL_OK)
        return sl_fail(err, rc, "out of memory recording a message");
    if (rec != NULL && (first = dup_find(e, rec)) != NULL) {
        *links = first->links;
        links->is_retrans = false;
        links->retrans_of = 0;
        links->cseq_prev = -1;
        links->dup_of = first->msg_id;
        free(rec);
        return SL_OK;
    }

    /* first let go of what is due at this message's time (no state is held
     * yet): what matches must not depend on how often the caller calls
     * sl_txn_expire -- a transaction or a terminated dialog past its
     * deadline matches nothing any more (a Call-ID replayed later is a new
     * call, not retransmissions of the old one) */
    rc = expire_at(e, in->ts_us, err);
    if (rc != SL_OK) {
        free(rec);
        return rc;
    }

    view_init(&v, in);
    e->legs_capped = false;
    memset(&f, 0, sizeof(f));
    f.e = e;
    f.v = &v;
    f.links = links;
    f.err = err;
    rc = in->msg->is_request ? on_request(&f) : on_response(&f);
    if (f.leg != NULL) {
        f.leg->pub.n_messages++;
        f.leg->last_us = max64(f.leg->last_us, in->ts_us);
    }
    if (rc != SL_OK) {
        free(rec);
        if (rc == SL_ENOMEM && (err == NULL || err->code != SL_ENOMEM))
            return sl_fail(err, SL_ENOMEM, "out of memory linking message %lld",
                           (long long)in->msg_id);
        return rc;
    }
    if (rec != NULL) {
        rc = dup_store(e, rec, links);
        if (rc != SL_OK)
            return sl_fail(err, rc, "out of memory recording a message");
    }
    if (e->legs_capped)
        feed_limit(&f, "open calls", "calls", e->max_legs);
    return f.limit_rc;
}
