/*
 * msg.h: the SIP stage.  One SIP message (the bytes of one UDP datagram, or
 * one message framed out of a stream) is recognised, parsed by libosip2 and
 * reduced to the fields that the later stages and the rules need.  The raw
 * bytes are kept by the caller; this struct holds only extracted fields.
 *
 * Text fields are NUL-terminated copies owned by the message (freed by
 * sl_msg_fini); NULL means the header or parameter was absent.  Integer fields
 * use -1 for "absent".  Tags and branches are lower-cased (tokens compare
 * case-insensitively, RFC 3261 7.3.1); Call-ID is kept byte for byte.
 */
#ifndef SL_SIP_MSG_H
#define SL_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siplint.h"

/* Largest message accepted by default, bytes. */
#define SL_MSG_MAX_LEN_DEFAULT 65535u

/* How a payload looks: decided from its first line only. */
enum sl_sip_look {
    SL_LOOK_NOT_SIP = 0,  /* not a SIP start line: some other protocol */
    SL_LOOK_REQUEST = 1,  /* "METHOD SP Request-URI SP SIP/2.0" */
    SL_LOOK_RESPONSE = 2, /* "SIP/2.0 SP 3DIGIT ..." */
    SL_LOOK_KEEPALIVE = 3 /* only CR/LF bytes (RFC 5626 keep-alive) */
};

/* Classifies a payload by its first line (no allocation, no parse). */
enum sl_sip_look sl_sip_look(const uint8_t *p, size_t n);

struct sl_msg {
    bool is_request;
    char *method; /* request method as sent (case kept); responses: NULL */
    char *ruri;   /* Request-URI */
    int status;   /* responses: 100..699; requests: -1 */
    char *reason; /* reason phrase */

    char *call_id; /* verbatim */
    char *from_uri;
    char *from_tag; /* lower-cased */
    char *from_display;
    char *to_uri;
    char *to_tag; /* lower-cased */
    char *to_display;

    int64_t cseq_num;  /* -1 when absent or not a number 0..2^32-1 */
    char *cseq_method; /* case kept (CSeq method is case-sensitive) */

    int via_count;       /* comma-separated Via values over all Via rows */
    char *via_branch;    /* top Via branch, lower-cased */
    char *via_sent_by;   /* top Via "host[:port]", host lower-cased */
    char *via_transport; /* top Via transport, upper-cased ("UDP", "TCP", ...) */
    char *via_received;  /* top Via received= */
    int via_rport;       /* top Via rport=N; 0 = rport without value; -1 absent */

    /* RULES.md A.9.2: fingerprint of the whole Via stack (transport, sent-by and
     * branch of each value), 0 without Via; and of the stack without its top
     * value (0 when via_count < 2), which equals via_hash of the same request
     * one proxy upstream. */
    uint64_t via_hash;
    uint64_t via_tail_hash;

    int max_forwards; /* -1 absent */
    char *contact;    /* first Contact URI ("*" for a wildcard) */
    int contact_count;
    int expires; /* Expires header, -1 absent */

    int64_t session_expires; /* Session-Expires (also compact x) delta-seconds, -1 */
    char *se_refresher;      /* "uac" / "uas" (lower-cased) or another value as sent */
    int64_t min_se;          /* Min-SE, -1 */
    char *supported;         /* Supported (also k), all rows, lower-cased, ", "-joined */
    char *require;           /* Require, same form */
    char *proxy_require;     /* Proxy-Require, same form */
    int64_t retry_after;     /* Retry-After seconds, -1 */
    int64_t rseq;            /* RSeq, -1 */
    int64_t rack_rseq;       /* RAck: response-num, cseq-num, method; -1 / NULL */
    int64_t rack_cseq;
    char *rack_method;
    char *reason_hdr; /* Reason header value(s), verbatim, ", "-joined */
    char *user_agent; /* User-Agent, or Server in responses */
    bool has_auth;    /* Authorization or Proxy-Authorization present */

    char *content_type;     /* lower-cased "type/subtype" */
    int64_t content_length; /* Content-Length (also l), -1 absent */
    size_t body_len;        /* bytes of body actually present */

    char *sdp_o_user; /* SDP o= fields when the body is application/sdp */
    char *sdp_o_sess_id;
    char *sdp_o_version; /* text: may exceed 64 bits */
    char *sdp_o_addr;

    size_t n_headers; /* header rows seen */

    /* The blocks every string above lives in (sl_msg_fini frees them): one
     * malloc a message instead of one a field. */
    struct sl_msg_block *strs;
};

/* Most header rows accepted by default (sl_msg_parse_rows). */
#define SL_MSG_MAX_ROWS_DEFAULT 256u

/* Parses the n bytes at p (one complete message: start line, headers, body)
 * into *m, which is zeroed first.  Returns SL_OK, SL_EFORMAT with the reason
 * in err when libosip2 refuses the message or a mandatory piece is unusable,
 * SL_ELIMIT when n exceeds max_len, or SL_ENOMEM.  On failure *m holds nothing
 * to free, but sl_msg_fini is still safe. */
int sl_msg_parse(struct sl_msg *m, const uint8_t *p, size_t n, size_t max_len, struct sl_err *err);

/* The same, also SL_ELIMIT when the message has more than max_rows header
 * rows: counted before libosip2 sees it (its parse is quadratic in them). */
int sl_msg_parse_rows(struct sl_msg *m, const uint8_t *p, size_t n, size_t max_len, size_t max_rows,
                      struct sl_err *err);

/* The same for a payload already classified: look must be sl_sip_look(p, n)
 * (the parse workers have it; it is not worked out twice). */
int sl_msg_parse_look(struct sl_msg *m, const uint8_t *p, size_t n, size_t max_len, size_t max_rows,
                      enum sl_sip_look look, struct sl_err *err);

/* Frees what *m owns and zeroes it.  Accepts a zeroed or failed message. */
void sl_msg_fini(struct sl_msg *m);

/* Must be called once before any parse (calls parser_init of libosip2);
 * safe to call again. */
void sl_sip_init(void);

/* lint.c: what libosip2 lets through although RFC 3261 does not. */

/* Whether the first line of a payload that sl_sip_look() did not take as SIP
 * is a SIP start line with another version than SIP/2.0, or a status code
 * that is not three digits: then *why says which (RFC 3261 7.1, 7.2). */
bool sl_sip_bad_start(const uint8_t *p, size_t n, char *why, size_t why_len);

/* A header value of a parsed message outside what RFC 3261 allows. */
struct sl_msg_issue {
    const char *rule; /* "SIP-HDR-012" */
    char text[320];   /* one sentence with the value and the RFC section */
};

/* Checks the message m parsed from the n bytes at p: CSeq number, Max-Forwards,
 * Expires and Contact expires in range, Date in GMT, Warning codes of three
 * digits, no headers in a SIP Request-URI, a bare Contact/From/To URI without
 * '?'.  Writes at most max issues to out; returns how many. */
size_t sl_msg_lint(const struct sl_msg *m, const uint8_t *p, size_t n, struct sl_msg_issue *out,
                   size_t max);

#endif /* SL_SIP_MSG_H */
