/*
 * txn.h: the transaction stage.  Rebuilds, from the SIP messages in capture
 * order, what RFC 3261 defines: transactions per hop (17.1.3, 17.2.3, with the
 * RFC 2543 fallback), retransmissions, ACK and CANCEL, dialogs (12: Call-ID +
 * both tags, early / confirmed / terminated, one per fork), per-direction CSeq,
 * session timers (RFC 4028) and calls (legs: Call-ID + initial From tag).
 * ../shared/docs/RULES.md part A is the specification; its guards G1-G14 are
 * the traps.
 *
 * The engine knows the stages before it (capture, sip) and nothing after it:
 * finished objects leave through the sink callbacks, which the session wires
 * to the store.  Memory follows the number of concurrent calls: state that
 * can no longer change is handed to the sink and freed (sl_txn_expire).
 *
 * Identifiers (transaction, dialog, leg ids) are assigned by the engine,
 * 1, 2, ... in order of creation; message ids are assigned by the caller.
 */
#ifndef SL_TXN_TXN_H
#define SL_TXN_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siplint.h"
#include "capture/capture.h"
#include "sip/msg.h"

/* Side of a dialog: the caller sent the dialog-creating request. */
enum sl_side {
    SL_SIDE_UNKNOWN = 0,
    SL_SIDE_CALLER = 1,
    SL_SIDE_CALLEE = 2
};

/* "caller", "callee", NULL for unknown. */
const char *sl_side_name(enum sl_side side);

enum sl_txn_kind {
    SL_TXN_INVITE = 0,    /* INVITE (with its non-2xx ACK) */
    SL_TXN_NONINVITE = 1, /* any other method except ACK and CANCEL */
    SL_TXN_ACK2XX = 2,    /* ACK for a 2xx: a request of its own (17 intro, 13.2.2.4) */
    SL_TXN_CANCEL = 3     /* CANCEL: own transaction, linked to the INVITE it cancels */
};

/* "INVITE", "NONINVITE", "ACK2XX", "CANCEL". */
const char *sl_txn_kind_name(enum sl_txn_kind kind);

/* One message as fed to the engine.  Everything is borrowed for the call. */
struct sl_txn_input {
    int64_t msg_id;     /* the caller's id for this message (> 0) */
    int64_t capture_id; /* which input (observation point) */
    uint64_t frame;
    int64_t ts_us;
    struct sl_endpoint src, dst;
    enum sl_transport transport;
    const struct sl_msg *msg;
    const uint8_t *raw; /* the message bytes (for duplicate detection) */
    size_t raw_len;
    /* sl_txn_dup_hash of this input when has_dup_hash (computed ahead, e.g. on
     * the thread that parsed the message); otherwise the engine computes it */
    bool has_dup_hash;
    uint64_t dup_hash;
};

struct sl_txn_engine;

/* The hash the engine files an observation under for duplicate detection
 * (RULES.md G2): of its addresses, transport and bytes, under the engine's
 * secret key.  Reads only what the engine fixed when it was made, so it may
 * run on any thread while the engine is fed on another. */
uint64_t sl_txn_dup_hash(const struct sl_txn_engine *e, const struct sl_txn_input *in);

/* What the engine concluded about one message; returned by sl_txn_feed. */
struct sl_msg_links {
    int64_t txn_id;     /* 0 = none (e.g. a response matching no transaction: stray) */
    int64_t dialog_id;  /* 0 = not in a dialog */
    int64_t leg_id;     /* 0 = none */
    bool is_retrans;    /* a retransmission (G1): same transaction, same message again */
    int64_t retrans_of; /* msg_id of the first copy */
    int64_t dup_of;     /* the same datagram seen twice at capture level (G2) */
    enum sl_side side;  /* side of the SENDER within the dialog (or leg) */
    int64_t cseq_prev;  /* in-dialog request: previous CSeq of this direction (-1 none) */
};

/* A distinct response of a transaction: per status and To tag (and RSeq). */
struct sl_txn_response {
    int status;
    char *to_tag; /* "" when none */
    int64_t rseq; /* -1 none */
    int64_t first_msg_id;
    int64_t first_us, last_us;
    int copies;
};

struct sl_txn {
    int64_t id;
    enum sl_txn_kind kind;
    char *method;                /* request method (CANCEL/ACK for those kinds) */
    char *branch;                /* top Via branch, lower-cased; "" when none */
    char *sent_by;               /* top Via sent-by */
    bool rfc2543;                /* branch without the z9hG4bK cookie: fallback matching */
    struct sl_endpoint uac, uas; /* packet addresses: the hop */
    enum sl_transport transport;
    int64_t capture_id;
    char *call_id;
    char *from_tag;
    char *req_to_tag; /* To tag of the request ("" = out of dialog) */
    int64_t cseq_num;
    bool in_dialog;
    int64_t dialog_id;
    int64_t leg_id;
    enum sl_side uac_side;
    int64_t req_msg_id;
    int64_t req_first_us, req_last_us;
    int req_copies;
    int64_t first_1xx_us;   /* -1 none */
    int64_t first_final_us; /* -1 none */
    int final_status;       /* -1 none */
    char *final_to_tag;
    int64_t final_msg_id;
    int64_t ack_msg_id; /* INVITE with a non-2xx final: its ACK (0 none) */
    int64_t ack_us;
    int64_t cancel_txn_id;  /* INVITE: the CANCEL that targets it */
    int64_t cancels_txn_id; /* CANCEL: the INVITE it cancels */
    int64_t parent_txn_id;  /* the same logical request on the previous hop (A.9.2) */
    int64_t timeout_us;     /* req_first + 64*T1 when no final came, else -1 */
    const char *end_reason; /* "final", "timeout", "capture_end"; NULL for ACK2XX
                               (an ACK gets no response) */
    struct sl_txn_response *responses;
    size_t n_responses;
};

enum sl_dialog_state {
    SL_DLG_EARLY = 0,
    SL_DLG_CONFIRMED = 1,
    SL_DLG_TERMINATED = 2
};

struct sl_dialog {
    int64_t id;
    char *call_id;
    char *caller_tag; /* From tag of the creating request */
    char *callee_tag; /* To tag of the creating response */
    int64_t leg_id;
    int64_t created_txn_id;
    char *method; /* of the creating request: INVITE, SUBSCRIBE, ... */
    bool partial; /* first seen through an in-dialog request (G4) */
    enum sl_dialog_state state;
    int64_t early_us, confirmed_us, terminated_us; /* -1 when not reached */
    const char *term_cause; /* "bye", "non2xx", "481", "408", "timeout", "capture_end", NULL */
    enum sl_side bye_side;  /* who sent the BYE that ended it */
    int64_t bye_msg_id;
    char *caller_uri, *callee_uri;
    struct sl_endpoint caller_ep, callee_ep; /* as first seen */
    int64_t last_cseq[3]; /* per sender side (index enum sl_side): highest CSeq seen, -1 */
    /* session timer (RFC 4028, RULES.md A.8): the most recent 2xx to a refresh */
    int64_t se_interval; /* seconds, -1 = no timer */
    enum sl_side se_refresher;
    int64_t se_last_refresh_us;
    int64_t se_expiry_us; /* last refresh + interval, -1 none */
};

/* Session-timer events per dialog (table session_timer). */
struct sl_st_event {
    int64_t dialog_id;
    int64_t txn_id; /* the INVITE/UPDATE transaction */
    int64_t msg_id; /* the 2xx (or 422) */
    int64_t ts_us;
    const char *kind;       /* "armed" (2xx with SE), "disarmed" (2xx without), "422" */
    int64_t interval_s;     /* -1 */
    enum sl_side refresher; /* resolved to a side */
    int64_t min_se;         /* -1 */
    int64_t refresh_due_us; /* armed: ts + interval/2 */
    int64_t bye_due_us;     /* armed: expiry - min(32 s, interval/3) */
    int64_t expiry_us;      /* armed: ts + interval */
};

/* A leg: Call-ID + initial From tag, all its forks. */
struct sl_leg {
    int64_t id;
    char *call_id;
    char *from_tag;
    char *method; /* of the initial request: INVITE, REGISTER, OPTIONS, ... */
    char *from_uri, *to_uri, *ruri;
    struct sl_endpoint caller_ep, callee_ep;
    int64_t start_us;    /* first message */
    int64_t answer_us;   /* first 2xx to the initial INVITE, -1 */
    int64_t end_us;      /* BYE 2xx / final / last message */
    const char *outcome; /* "answered", "failed", "cancelled", "unanswered", "partial" */
    int final_status;    /* final status of the initial transaction, -1 */
    char *final_reason;
    enum sl_side ended_by;
    const char *end_how; /* "bye", "session-expiry", "missing-ack", "capture-end", NULL */
    char *reason_hdr;    /* Reason header of the BYE/CANCEL (or final) */
    int q850_cause;      /* -1 */
    int n_dialogs;
    int n_messages;
};

/* Q.850 cause text, or NULL for an unknown cause. */
const char *sl_q850_text(int cause);

/* The Q.850 cause (0..127) of a Reason header value (RFC 3326:
 * `Q.850;cause=16;text="..."`, possibly one of several comma-separated
 * values), or -1 when reason_hdr is NULL or carries no Q.850 cause. */
int sl_q850_cause(const char *reason_hdr);

/* Where finished objects go.  Each callback returns SL_OK or an error that
 * aborts the feed.  Objects are borrowed for the duration of the call. */
struct sl_txn_sink {
    void *ctx;
    int (*txn_done)(void *ctx, const struct sl_txn *t, struct sl_err *err);
    int (*dialog_done)(void *ctx, const struct sl_dialog *d, struct sl_err *err);
    int (*leg_done)(void *ctx, const struct sl_leg *l, struct sl_err *err);
    int (*st_event)(void *ctx, const struct sl_st_event *e, struct sl_err *err);
};

struct sl_txn_opts {
    int64_t t1_us;      /* timer base; 0 = 500000 */
    size_t max_txns;    /* open transactions cap; 0 = default (1,000,000) */
    size_t max_dialogs; /* open dialogs cap; 0 = default (1,000,000) */
    size_t max_legs;    /* open legs (calls) cap; 0 = default (1,000,000).  At the cap the
                           leg that has lingered longest with nothing open leaves early;
                           when every leg is held, a new request gets no leg */
};

struct sl_txn_engine;

/* Creates an engine.  The sink is copied.  SL_OK or SL_ENOMEM. */
int sl_txn_engine_new(struct sl_txn_engine **out, const struct sl_txn_opts *opts,
                      const struct sl_txn_sink *sink, struct sl_err *err);

/* Feeds one message, in capture order; fills *links.  Returns SL_OK, an error
 * from the sink, SL_ELIMIT (a cap was reached: the message is still linked
 * where possible; err says which cap) or SL_ENOMEM. */
int sl_txn_feed(struct sl_txn_engine *e, const struct sl_txn_input *in, struct sl_msg_links *links,
                struct sl_err *err);

/* Hands to the sink, and frees, everything that can no longer change at time
 * now_us (transactions past their timers, terminated dialogs past 64*T1,
 * legs with nothing open).  Called by the caller as time advances.  now_us is
 * capped at the timestamp of the latest message fed: after a jump back in
 * time (a second input file) the caller's maximum is ahead of that input. */
int sl_txn_expire(struct sl_txn_engine *e, int64_t now_us, struct sl_err *err);

/* End of all input: hands everything still open to the sink ("capture_end"). */
int sl_txn_finish(struct sl_txn_engine *e, struct sl_err *err);

/* Frees the engine (without calling the sink).  Accepts NULL. */
void sl_txn_engine_free(struct sl_txn_engine *e);

#endif /* SL_TXN_TXN_H */
