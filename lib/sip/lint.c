/*
 * lint.c: syntax checks that libosip2 does not make (RFC 4475 3.1.2; docs/
 * torture.md).  Two kinds:
 *   - sl_sip_bad_start(): a first line shaped like a SIP start line whose
 *     version is not SIP/2.0 or whose status code is not three digits.
 *     sl_sip_look() does not count it as SIP (as tshark does not); the session
 *     reports it as a SIP message it cannot use (SIP-HDR-008).
 *   - sl_msg_lint(): a message libosip2 accepted, with a header value outside
 *     what RFC 3261 allows (SIP-HDR-012): numbers out of range, a Date not in
 *     GMT, headers in a Request-URI, a bare URI with '?' where the name-addr
 *     form is required, control bytes or invalid UTF-8 in the start line or a
 *     header row.  The message is kept: a lenient receiver may take it.
 * Every byte is read through the bounds-checked reader; values quoted in the
 * texts are cut and escaped.
 */
#include "sip/msg.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/rd.h"
#include "base/str.h"
#include "sip/scan.h"

/* Bytes of a value quoted in a text. */
#define QUOTE_MAX 32u
/* Only the first bytes of a payload are looked at for the start line. */
#define LINE_MAX_LOOK 8192u

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static bool is_crlf(uint8_t c)
{
    return c == '\r' || c == '\n';
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_token(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
        return true;
    return c != '\0' && strchr("-.!%*_+`'~", c) != NULL;
}

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/* Whether the n bytes at p equal the string s, any ASCII case. */
static bool ieq(const uint8_t *p, size_t n, const char *s)
{
    size_t i;

    if (strlen(s) != n)
        return false;
    for (i = 0; i < n; i++)
        if (lower(p[i]) != lower((uint8_t)s[i]))
            return false;
    return true;
}

/* r's bytes, printable ASCII kept and others as \xNN, at most QUOTE_MAX of
 * them ("..." marks a cut); out has room for 4 * QUOTE_MAX + 4. */
static void quote(char *out, struct sl_rd r)
{
    size_t i, o = 0;

    for (i = 0; i < r.n && i < QUOTE_MAX; i++) {
        uint8_t c = r.p[i];

        if (c >= 0x20 && c <= 0x7e && c != '\\') {
            out[o++] = (char)c;
        } else {
            (void)snprintf(out + o, 5, "\\x%02x", c);
            o += 4;
        }
    }
    if (r.n > QUOTE_MAX) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* Takes linear whitespace (SP, HT, and the line ends of a folded row) off
 * both ends. */
static void trim(struct sl_rd *r)
{
    while (r->n > 0 && (is_ws(r->p[0]) || is_crlf(r->p[0])))
        (void)sl_rd_skip(r, 1);
    while (r->n > 0 && (is_ws(r->p[r->n - 1]) || is_crlf(r->p[r->n - 1])))
        r->n--;
}

/* The next line of r without its terminator (CRLF, CR or LF); *plain as
 * sl_line_scan leaves it. */
static bool line_take(struct sl_rd *r, struct sl_rd *line, bool *plain)
{
    size_t i, term = 0;

    if (r->n == 0)
        return false;
    i = sl_line_scan(r->p, r->n, plain);
    if (i < r->n)
        term = r->p[i] == '\r' && i + 1 < r->n && r->p[i + 1] == '\n' ? 2 : 1;
    (void)sl_rd_sub(r, i, line);
    (void)sl_rd_skip(r, term);
    return true;
}

/* ---------------------------------------------------------- start line -- */

/* "SIP/" 1*DIGIT "." 1*DIGIT at the start of r (any case): its length, or 0. */
static size_t version_len(struct sl_rd r)
{
    size_t k = 4, d;

    if (r.n < 7 || !ieq(r.p, 4, "sip/"))
        return 0;
    for (d = k; k < r.n && is_digit(r.p[k]); k++)
        continue;
    if (k == d || k >= r.n || r.p[k] != '.')
        return 0;
    for (d = ++k; k < r.n && is_digit(r.p[k]); k++)
        continue;
    return k > d ? k : 0;
}

bool sl_sip_bad_start(const uint8_t *p, size_t n, char *why, size_t why_len)
{
    struct sl_rd r = sl_rd_init(p, n < LINE_MAX_LOOK ? n : LINE_MAX_LOOK), line, v, rest;
    char q[4 * QUOTE_MAX + 8];
    size_t k = 0, vl;
    bool plain = true;

    while (k < r.n && is_crlf(r.p[k]))
        k++;
    (void)sl_rd_skip(&r, k);
    if (!line_take(&r, &line, &plain) || (!plain && memchr(line.p, '\0', line.n) != NULL))
        return false;
    trim(&line);
    if ((vl = version_len(line)) > 0) {
        /* a status line: SIP-Version SP Status-Code SP Reason-Phrase */
        v = line;
        v.n = vl;
        rest = line;
        (void)sl_rd_skip(&rest, vl);
        if (rest.n == 0 || !is_ws(rest.p[0]))
            return false;
        trim(&rest);
        for (k = 0; k < rest.n && is_digit(rest.p[k]); k++)
            continue;
        if (k == 0 || (k < rest.n && !is_ws(rest.p[k])))
            return false;
        if (!ieq(v.p, v.n, "SIP/2.0")) {
            quote(q, v);
            (void)snprintf(why, why_len,
                           "status line with version %s, not SIP/2.0 (RFC 3261 7.2): the response "
                           "is dropped",
                           q);
            return true;
        }
        if (k != 3) {
            rest.n = k;
            quote(q, rest);
            (void)snprintf(why, why_len,
                           "status code %s is not three digits (RFC 3261 7.2, 21): the response "
                           "is dropped",
                           q);
            return true;
        }
        return false;
    }
    /* a request line: Method SP Request-URI SP SIP-Version, the version last */
    for (k = 0; k < line.n && is_token(line.p[k]); k++)
        continue;
    if (k == 0 || k == line.n || !is_ws(line.p[k]))
        return false;
    rest = line;
    (void)sl_rd_skip(&rest, k);
    trim(&rest);
    for (k = rest.n; k > 0 && !is_ws(rest.p[k - 1]); k--)
        continue;
    if (k == 0)
        return false;
    v = rest;
    (void)sl_rd_skip(&v, k);
    if (version_len(v) != v.n || ieq(v.p, v.n, "SIP/2.0") || memchr(rest.p, ':', k) == NULL)
        return false;
    quote(q, v);
    (void)snprintf(why, why_len,
                   "request line with version %s, not SIP/2.0 (RFC 3261 7.1): a UAS answers 505 "
                   "Version Not Supported",
                   q);
    return true;
}

/* ----------------------------------------------------------- headers -- */

/* Whether the digits of r (the whole of it) exceed max; false when r is not
 * all digits (another check's business). */
static bool digits_over(struct sl_rd r, uint64_t max)
{
    uint64_t v = 0;
    size_t i;

    if (r.n == 0)
        return false;
    for (i = 0; i < r.n; i++) {
        if (!is_digit(r.p[i]))
            return false;
        if (v > (UINT64_MAX - 9) / 10)
            return true;
        v = v * 10 + (uint64_t)(r.p[i] - '0');
    }
    return v > max;
}

/* The leading digits of r. */
static struct sl_rd lead_digits(struct sl_rd r)
{
    size_t k = 0;

    while (k < r.n && is_digit(r.p[k]))
        k++;
    r.n = k;
    return r;
}

struct lint {
    struct sl_msg_issue *out;
    size_t max, n;
};

static void issue(struct lint *l, const char *text)
{
    if (l->n < l->max) {
        (void)snprintf(l->out[l->n].text, sizeof(l->out[l->n].text), "%s", text);
        l->out[l->n].rule = "SIP-HDR-012";
    }
    l->n++;
}

/* The value of an `expires` parameter in the ;-parameters of r, or empty. */
static struct sl_rd param_expires(struct sl_rd r)
{
    size_t i;

    for (i = 0; i + 8 < r.n; i++) {
        if (r.p[i] == ';') {
            struct sl_rd p = r;

            (void)sl_rd_skip(&p, i + 1);
            trim(&p);
            if (p.n >= 8 && ieq(p.p, 7, "expires")) {
                (void)sl_rd_skip(&p, 7);
                trim(&p);
                if (p.n > 0 && p.p[0] == '=') {
                    (void)sl_rd_skip(&p, 1);
                    trim(&p);
                    return lead_digits(p);
                }
            }
        }
    }
    return sl_rd_init(NULL, 0);
}

/* Where a message holds control bytes or invalid UTF-8 (RFC 3261 25.1:
 * header text is UTF-8, TEXT-UTF8char / UTF8-NONASCII, and no control byte
 * but HT stands in it: CR LF only to fold a row, other controls only behind a
 * backslash, as a quoted-pair).  Told once per kind per message, naming the
 * places. */
struct bytes {
    char ctl[200], utf8[200]; /* "the start line, row 3 (From), ..." */
    unsigned first_ctl;       /* the first control byte, + 1 */
    size_t n_ctl, n_utf8;
};

static void place_add(char *list, size_t len, size_t *n, const char *what)
{
    size_t used = strlen(list);

    if ((*n)++ == 4) {
        (void)snprintf(list + used, len - used, ", ...");
        return;
    }
    if (*n > 4)
        return;
    (void)snprintf(list + used, len - used, "%s%s", used > 0 ? ", " : "", what);
}

/* Checks the bytes of the start line (n_row 0) or of header row n_row, whose
 * name is name: called only for a row sl_line_scan did not find plain. */
static void check_bytes(struct bytes *b, struct sl_rd r, size_t n_row, struct sl_rd name)
{
    char what[4 * QUOTE_MAX + 48], q[4 * QUOTE_MAX + 8];
    bool ctl = false, utf8;
    size_t i;
    for (i = 0; i < r.n && !ctl; i++) {
        uint8_t c = r.p[i];

        if (((c < 0x20 && c != '\t' && !is_crlf(c)) || c == 0x7f) &&
            !(i > 0 && r.p[i - 1] == '\\')) {
            if (b->first_ctl == 0)
                b->first_ctl = (unsigned)c + 1;
            ctl = true;
        }
    }
    utf8 = sl_str_is_utf8((const char *)r.p, r.n);
    if (!ctl && utf8)
        return;
    if (n_row == 0) {
        (void)snprintf(what, sizeof(what), "the start line");
    } else {
        if (name.n > 16)
            name.n = 16;
        quote(q, name);
        (void)snprintf(what, sizeof(what), "row %zu (%s)", n_row, q);
    }
    if (ctl)
        place_add(b->ctl, sizeof(b->ctl), &b->n_ctl, what);
    if (!utf8)
        place_add(b->utf8, sizeof(b->utf8), &b->n_utf8, what);
}

static void bytes_issues(struct lint *l, const struct bytes *b)
{
    char text[sizeof(l->out[0].text)];

    if (b->n_ctl > 0) {
        (void)snprintf(text, sizeof(text),
                       "control bytes (the first 0x%02x) in %s (RFC 3261 25.1): a strict receiver "
                       "answers 400",
                       b->first_ctl - 1, b->ctl);
        issue(l, text);
    }
    if (b->n_utf8 > 0) {
        (void)snprintf(text, sizeof(text),
                       "invalid UTF-8 in %s (RFC 3261 25.1, RFC 3629); the report shows U+FFFD "
                       "for the bad bytes",
                       b->utf8);
        issue(l, text);
    }
}

/* The headers check_row looks at. */
enum row_kind {
    ROW_OTHER,
    ROW_CSEQ,
    ROW_MAX_FORWARDS,
    ROW_EXPIRES,
    ROW_ADDR, /* Contact, From, To (and m, f, t) */
    ROW_DATE,
    ROW_WARNING
};

/* Which of them a row's name is: told apart by length and first letter, then
 * compared whole once. */
static enum row_kind row_kind_of(struct sl_rd name)
{
    uint8_t c = name.n > 0 ? lower(name.p[0]) : 0;
    enum row_kind k;
    const char *full;

    switch (name.n) {
    case 1:
        return c == 'm' || c == 'f' || c == 't' ? ROW_ADDR : ROW_OTHER;
    case 2:
        k = ROW_ADDR, full = "To";
        break;
    case 4:
        if (c == 'c')
            k = ROW_CSEQ, full = "CSeq";
        else if (c == 'f')
            k = ROW_ADDR, full = "From";
        else if (c == 'd')
            k = ROW_DATE, full = "Date";
        else
            return ROW_OTHER;
        break;
    case 7:
        if (c == 'e')
            k = ROW_EXPIRES, full = "Expires";
        else if (c == 'c')
            k = ROW_ADDR, full = "Contact";
        else if (c == 'w')
            k = ROW_WARNING, full = "Warning";
        else
            return ROW_OTHER;
        break;
    case 12:
        k = ROW_MAX_FORWARDS, full = "Max-Forwards";
        break;
    default:
        return ROW_OTHER;
    }
    return ieq(name.p, name.n, full) ? k : ROW_OTHER;
}

static void check_row(struct lint *l, struct sl_rd name, struct sl_rd value)
{
    char q[4 * QUOTE_MAX + 8], text[sizeof(l->out[0].text)];
    enum row_kind kind = row_kind_of(name);

    if (kind == ROW_OTHER)
        return;
    if (kind == ROW_CSEQ) {
        struct sl_rd num = lead_digits(value);

        if (digits_over(num, UINT32_MAX)) {
            quote(q, num);
            (void)snprintf(text, sizeof(text),
                           "CSeq number %s is over 2**32-1 (RFC 3261 8.1.1.5): a receiver answers "
                           "400",
                           q);
            issue(l, text);
        }
    } else if (kind == ROW_MAX_FORWARDS) {
        if (digits_over(value, 255)) {
            quote(q, value);
            (void)snprintf(text, sizeof(text), "Max-Forwards %s is over 255 (RFC 3261 20.22)", q);
            issue(l, text);
        }
    } else if (kind == ROW_EXPIRES) {
        if (digits_over(lead_digits(value), UINT32_MAX)) {
            quote(q, lead_digits(value));
            (void)snprintf(text, sizeof(text), "Expires %s is over 2**32-1 (RFC 3261 20.19)", q);
            issue(l, text);
        }
    } else if (kind == ROW_ADDR) {
        struct sl_rd uri = value, exp = param_expires(value);
        size_t k;

        if (exp.n > 0 && digits_over(exp, UINT32_MAX)) {
            quote(q, exp);
            (void)snprintf(text, sizeof(text),
                           "Contact expires parameter %s is over 2**32-1 (RFC 3261 20.10, 20.19)",
                           q);
            issue(l, text);
        }
        /* addr-spec form: the URI runs to the first ';' (header parameters) */
        if (memchr(value.p, '<', value.n) != NULL || memchr(value.p, '"', value.n) != NULL)
            return;
        for (k = 0; k < uri.n && uri.p[k] != ';'; k++)
            continue;
        uri.n = k;
        if (memchr(uri.p, '?', uri.n) != NULL) {
            quote(q, uri);
            (void)snprintf(text, sizeof(text),
                           "%.*s URI '%s' has a '?' but is not enclosed in <> (RFC 3261 20.10)",
                           (int)(name.n < 8 ? name.n : 8), (const char *)name.p, q);
            issue(l, text);
        }
    } else if (kind == ROW_DATE) {
        if (value.n < 3 || !ieq(value.p + value.n - 3, 3, "GMT")) {
            quote(q, value);
            (void)snprintf(text, sizeof(text), "Date '%s' is not in GMT (RFC 3261 20.17, 25.1)", q);
            issue(l, text);
        }
    } else if (kind == ROW_WARNING) {
        struct sl_rd code = lead_digits(value);

        if (code.n != 3 || (code.n < value.n && !is_ws(value.p[code.n]))) {
            quote(q, value);
            (void)snprintf(text, sizeof(text),
                           "Warning '%s': the warn-code is not three digits (RFC 3261 20.43)", q);
            issue(l, text);
        }
    }
}

size_t sl_msg_lint(const struct sl_msg *m, const uint8_t *p, size_t n, struct sl_msg_issue *out,
                   size_t max)
{
    struct lint l = { out, max, 0 };
    struct sl_rd r = sl_rd_init(p, n), line, row;
    char q[4 * QUOTE_MAX + 8], text[sizeof(out[0].text)];
    size_t k = 0, n_row = 0;
    struct bytes bytes;
    bool plain = true;

    if (m == NULL || p == NULL)
        return 0;
    memset(&bytes, 0, sizeof(bytes));
    while (k < r.n && is_crlf(r.p[k]))
        k++;
    (void)sl_rd_skip(&r, k);
    (void)line_take(&r, &line, &plain);
    if (!plain)
        check_bytes(&bytes, line, 0, line);

    /* RFC 3261 19.1.1 Table 1: headers are not allowed in a Request-URI */
    if (m->is_request && m->ruri != NULL &&
        (strncmp(m->ruri, "sip:", 4) == 0 || strncmp(m->ruri, "sips:", 5) == 0 ||
         strncmp(m->ruri, "SIP:", 4) == 0 || strncmp(m->ruri, "SIPS:", 5) == 0)) {
        const char *qm = strchr(m->ruri, '?');

        if (qm != NULL) {
            quote(q, sl_rd_init(qm, strlen(qm)));
            (void)snprintf(text, sizeof(text),
                           "the Request-URI carries headers ('%s'), which a Request-URI may not "
                           "(RFC 3261 19.1.1 Table 1)",
                           q);
            issue(&l, text);
        }
    }

    /* header rows (folded lines joined), up to the empty line; the bytes of
     * a row are checked in full only when line_take saw something other
     * than printable ASCII in it */
    for (;;) {
        struct sl_rd begin = r, name, value, next;
        const uint8_t *colon;
        size_t len, c;

        plain = true;
        if (!line_take(&r, &row, &plain) || row.n == 0)
            break;
        len = row.n;
        while (r.n > 0 && is_ws(r.p[0])) {
            size_t before = begin.n - r.n; /* the row's bytes up to this line */

            (void)line_take(&r, &next, &plain);
            len = before + next.n;
        }
        (void)sl_rd_sub(&begin, len, &row);
        n_row++;
        colon = memchr(row.p, ':', row.n);
        if (colon == NULL || colon == row.p)
            continue;
        c = (size_t)(colon - row.p);
        name = row;
        name.n = c;
        trim(&name);
        value = row;
        (void)sl_rd_skip(&value, c + 1);
        trim(&value);
        if (!plain)
            check_bytes(&bytes, row, n_row, name);
        check_row(&l, name, value);
    }
    bytes_issues(&l, &bytes);
    return l.n < max ? l.n : max;
}
