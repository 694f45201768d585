/*
 * look.c: is this payload SIP?  Decided from the first line alone, the way
 * tshark's SIP heuristic does it (a request line or a status line carrying
 * SIP/2.0), so that our message counts can be compared with tshark's.
 *
 * Deliberate differences from tshark 4.0 (epan/dissectors/packet-sip.c,
 * sip_parse_line(), strict_sip_version on):
 *   - "SIP/2.0" is matched case-insensitively (RFC 3261 7.1, 7.2: the version
 *     is case-insensitive on receipt); tshark compares it case-sensitively.
 *   - a little tolerance for whitespace: runs of SP/HT between the elements
 *     and SP/HT at the end of the line are accepted, and the Request-URI part
 *     may contain whitespace (RFC 4475 3.1.2 lwsstart, trws and lwsruri are
 *     SIP, only malformed).  Such messages count as SIP and are then refused
 *     by the parser, which is what a linter should report; tshark does not
 *     count them at all.
 *   - a status line may end right after the three digits ("SIP/2.0 180").
 *   - only the first 8 KiB are read: a request line longer than that is not
 *     recognised.
 * Like tshark, the method must be a token, the Request-URI must contain a ':'
 * after its first character (every SIP, SIPS or absolute URI does) and a NUL
 * in the first line means "not SIP".
 */
#include "sip/msg.h"

#include <stdbool.h>

#include "base/rd.h"

/* At most this many bytes of a payload are looked at. */
#define LOOK_WINDOW 8192u

static bool is_crlf(uint8_t c)
{
    return c == '\r' || c == '\n';
}

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* RFC 3261 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" /
 * "+" / "`" / "'" / "~") */
static bool is_token_char(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
        return true;
    switch (c) {
    case '-':
    case '.':
    case '!':
    case '%':
    case '*':
    case '_':
    case '+':
    case '`':
    case '\'':
    case '~':
        return true;
    default:
        return false;
    }
}

static uint8_t ascii_upper(uint8_t c)
{
    return c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c;
}

/* True when the next 7 bytes of r are "SIP/2.0", any case (RFC 3261 7.1);
 * they are consumed then. */
static bool take_sip20(struct sl_rd *r)
{
    static const char v[] = "SIP/2.0";
    size_t i;

    if (r->n < sizeof(v) - 1)
        return false;
    for (i = 0; i < sizeof(v) - 1; i++)
        if (ascii_upper(r->p[i]) != (uint8_t)v[i])
            return false;
    return sl_rd_skip(r, sizeof(v) - 1);
}

/* Skips SP/HT; returns how many were skipped. */
static size_t skip_ws(struct sl_rd *r)
{
    size_t k = 0;

    while (k < r->n && is_ws(r->p[k]))
        k++;
    (void)sl_rd_skip(r, k);
    return k;
}

/* RFC 3261 7.2: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
static bool is_status_line(struct sl_rd line)
{
    if (!take_sip20(&line) || skip_ws(&line) == 0)
        return false;
    if (line.n < 3 || !is_digit(line.p[0]) || !is_digit(line.p[1]) || !is_digit(line.p[2]))
        return false;
    (void)sl_rd_skip(&line, 3);
    return line.n == 0 || is_ws(line.p[0]);
}

/* RFC 3261 7.1: Request-Line = Method SP Request-URI SP SIP-Version.  The line
 * must be complete: its end is where SIP-Version is. */
static bool is_request_line(struct sl_rd line)
{
    struct sl_rd uri, ver;
    size_t k = 0, end;

    while (k < line.n && is_token_char(line.p[k]))
        k++;
    if (k == 0 || !sl_rd_skip(&line, k) || skip_ws(&line) == 0)
        return false;
    end = line.n; // drop trailing whitespace
    while (end > 0 && is_ws(line.p[end - 1]))
        end--;
    if (end <= 7)
        return false;
    // the URI is what lies between the method and the final "SIP/2.0"
    if (!sl_rd_sub(&line, end - 7, &uri) || !sl_rd_sub(&line, 7, &ver) || !take_sip20(&ver))
        return false;
    if (uri.n == 0 || !is_ws(uri.p[uri.n - 1]))
        return false;
    end = uri.n; // the URI without the whitespace before SIP-Version
    while (end > 0 && is_ws(uri.p[end - 1]))
        end--;
    for (k = 1; k < end; k++)
        if (uri.p[k] == ':')
            return true;
    return false;
}

enum sl_sip_look sl_sip_look(const uint8_t *p, size_t n)
{
    struct sl_rd r, line;
    size_t k = 0;
    bool complete;

    if (p == NULL || n == 0)
        return SL_LOOK_NOT_SIP;
    r = sl_rd_init(p, n < LOOK_WINDOW ? n : LOOK_WINDOW);

    /* RFC 3261 7.5, RFC 5626 3.5.1: CRLFs before a start line are ignored. */
    while (k < r.n && is_crlf(r.p[k]))
        k++;
    (void)sl_rd_skip(&r, k);
    if (r.n == 0) // a long run of CRLF is no keep-alive we can vouch for
        return n <= LOOK_WINDOW ? SL_LOOK_KEEPALIVE : SL_LOOK_NOT_SIP;

    for (k = 0; k < r.n && !is_crlf(r.p[k]); k++)
        if (r.p[k] == '\0') // binary (tshark: "SIP within another protocol")
            return SL_LOOK_NOT_SIP;
    complete = k < r.n || n <= LOOK_WINDOW; // the line ends in what we saw
    if (!sl_rd_sub(&r, k, &line))
        return SL_LOOK_NOT_SIP;

    if (is_status_line(line))
        return SL_LOOK_RESPONSE;
    if (complete && is_request_line(line))
        return SL_LOOK_REQUEST;
    return SL_LOOK_NOT_SIP;
}
