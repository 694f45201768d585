/*
 * msg.c: one SIP message -> struct sl_msg.  libosip2 decides whether the
 * message parses; the fields come from its result, except what libosip2 hides
 * or invents (status line, Content-Length presence, body size, header row
 * count, SDP), which is read from the raw bytes with bounds checks.
 *
 * libosip2 5.3 behaviour this file relies on (checked against the installed
 * library; tests/unit/test_sip.c pins it down):
 *   - osip_message_parse(sip, buf, len) copies the len bytes and terminates
 *     the copy itself: buf needs no NUL and may contain NULs in the body.  A
 *     NUL in the header section cuts its string functions short, so such
 *     messages are refused here before libosip2 sees them.
 *   - It maps the compact forms v f t i m c l e to their headers.  All other
 *     compact forms (k x s o u r ...) stay unknown headers named by the letter.
 *   - Unknown header names are stored lower-cased; lookups here compare
 *     case-insensitively anyway.
 *   - Comma-separated values of the list headers it knows are split into
 *     separate entries, quotes respected: "Via: a, b" gives two Via entries;
 *     Supported/k, Require, Proxy-Require, Reason, Allow-Events/u, Warning,
 *     Unsupported... two rows.  Other unknown headers (Retry-After, Subject,
 *     Session-Expires, User-Agent, Server, X-...) keep one row as sent.
 *   - A duplicated From, To, Call-ID, CSeq, Content-Length or Content-Type,
 *     and a Content-Length larger than the body present, make it refuse the
 *     whole message.  A body longer than Content-Length is cut to it.  Without
 *     Content-Length it takes the rest as body and invents the header, so its
 *     presence is read from the raw bytes here.
 *     Content-Length text that is not a number passes when there is no body:
 *     refused here.
 *   - Missing To/From/Call-ID/CSeq/Via are accepted (fields stay NULL here).
 *   - Of the RFC 4475 torture messages it refuses two that are valid:
 *     intmeth (an escaped NUL in a quoted display name) and novelsc (the
 *     Request-URI "soap.beep://192.0.2.103:3002").
 *   - Responses must start with "SIP/" in upper case (a strncmp), although
 *     RFC 3261 7.1 makes the version case-insensitive: a lower-case one is
 *     upper-cased in a copy first.  A status line without SP after the code
 *     ("SIP/2.0 180") makes it take the next line as reason phrase and lose
 *     that header: refused here.
 *   - It prints its error traces to stdout unless a trace function is
 *     installed: sl_sip_init() installs one that drops them.
 */
#include "sip/msg.h"

#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>

#include "base/rd.h"
#include "base/status.h"
#include "sip/scan.h"

/* Bytes of a start line or header row quoted in an error message. */
#define QUOTE_MAX 60u
/* Header rows tried one by one to find the one libosip2 refuses. */
#define BLAME_MAX_ROWS 512u

/* --------------------------------------------------------------- arena -- */

/*
 * libosip2 allocates every header, URI and parameter separately and frees
 * them one by one in osip_message_free: a third of a parse went to malloc
 * and free.  During sl_msg_parse its allocations come from a per-thread
 * arena instead (osip_set_allocators), and the whole arena is let go at once
 * when the parse ends.  Nothing libosip2 allocates outlives sl_msg_parse (the
 * fields are copied out with malloc), and nothing crosses threads.  A pointer
 * that is not in the calling thread's arena is the C library's (libosip2
 * used outside a parse): it is freed or reallocated as such.
 */
/* Under AddressSanitizer libosip2's blocks keep their own redzones: the
 * C library's allocator is used, so its interceptors still see overflows. */
#if defined(__SANITIZE_ADDRESS__)
#define SL_NO_ARENA 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SL_NO_ARENA 1
#endif
#endif

#define ARENA_BLOCK 65536u
#define ARENA_ALIGN alignof(max_align_t)

struct arena_blk {
    struct arena_blk *next;
    size_t cap, used;
    alignas(max_align_t) unsigned char data[];
};

struct arena {
    struct arena_blk *head;
    bool on;
};

static _Thread_local struct arena arena;
static bool arena_installed;    /* libosip2 allocates through the arena functions */
static pthread_key_t arena_key; /* its destructor frees a worker's arena at exit */

/* Each allocation is preceded by its size, on an aligned header. */
#define ARENA_HDR ((sizeof(size_t) + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN)

static bool arena_owns(const void *p)
{
    const struct arena_blk *b;

    for (b = arena.head; b != NULL; b = b->next)
        if ((const unsigned char *)p >= b->data && (const unsigned char *)p < b->data + b->cap)
            return true;
    return false;
}

/* arena_malloc when the newest block has no room for need bytes: a new
 * block.  Apart, so that the common path below saves no registers. */
__attribute__((noinline)) static void *arena_malloc_new(size_t n, size_t need)
{
    struct arena_blk *b;
    size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK;
    unsigned char *p;

    if (n > SIZE_MAX / 2)
        return NULL;
    b = malloc(sizeof(*b) + cap);
    if (b == NULL)
        return NULL;
    if (arena.head == NULL) /* the thread's first block: free it when the thread ends */
        (void)pthread_setspecific(arena_key, &arena);
    b->cap = cap;
    b->used = need;
    b->next = arena.head;
    arena.head = b;
    p = b->data;
    memcpy(p, &n, sizeof(n));
    return p + ARENA_HDR;
}

static void *arena_malloc(size_t n)
{
    struct arena_blk *b = arena.head;
    size_t need;
    unsigned char *p;

    if (!arena.on)
        return malloc(n);
    /* wraps for a huge n: arena_malloc_new refuses it */
    need = ARENA_HDR + ((n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1));
    if (b == NULL || n > SIZE_MAX / 2 || b->cap - b->used < need)
        return arena_malloc_new(n, need);
    p = b->data + b->used;
    b->used += need;
    memcpy(p, &n, sizeof(n));
    return p + ARENA_HDR;
}

static void arena_free(void *p)
{
    if (p != NULL && !arena_owns(p))
        free(p);
}

static void *arena_realloc(void *p, size_t n)
{
    size_t old;
    void *q;

    if (p == NULL)
        return arena_malloc(n);
    if (!arena_owns(p))
        return realloc(p, n);
    memcpy(&old, (unsigned char *)p - ARENA_HDR, sizeof(old));
    q = arena_malloc(n);
    if (q != NULL)
        memcpy(q, p, old < n ? old : n);
    return q;
}

/* Ends a parse: every block but the newest (the largest use so far is what
 * made it) is freed, and that one is emptied. */
static void arena_reset(void)
{
    struct arena_blk *b = arena.head, *next;

    arena.on = false;
    if (b == NULL)
        return;
    next = b->next;
    b->next = NULL;
    b->used = 0;
    while (next != NULL) {
        struct arena_blk *n = next->next;

        free(next);
        next = n;
    }
}

static void arena_thread_end(void *unused)
{
    struct arena_blk *b = arena.head;

    (void)unused;
    while (b != NULL) {
        struct arena_blk *n = b->next;

        free(b);
        b = n;
    }
    arena.head = NULL;
}

/* ---------------------------------------------------------------- init -- */

static bool sip_ready;

static void esc_init(void);

static void trace_drop(const char *fi, int li, osip_trace_level_t level, const char *chfr,
                       va_list ap)
{
    (void)fi;
    (void)li;
    (void)level;
    (void)chfr;
    (void)ap;
}

void sl_sip_init(void)
{
    int level;

    if (sip_ready)
        return;
    (void)parser_init();
    esc_init();
#if !defined(SL_NO_ARENA)
    if (pthread_key_create(&arena_key, arena_thread_end) == 0) {
        osip_set_allocators(arena_malloc, arena_realloc, arena_free);
        arena_installed = true;
    }
#else
    /* compiled all the same (the arena is the default build's), not installed */
    (void)arena_thread_end;
    (void)arena_realloc;
    (void)arena_free;
#endif
    /* The library never prints (STYLE.md 5.4): libosip2 writes its traces to
     * stdout by default, even with every level disabled. */
    osip_trace_initialize_func(TRACE_LEVEL0, trace_drop);
    for (level = TRACE_LEVEL0; level < END_TRACE_LEVEL; level++)
        osip_trace_disable_level((osip_trace_level_t)level);
    sip_ready = true;
}

/* ------------------------------------------------------ small helpers -- */

enum fold {
    FOLD_NONE,
    FOLD_LOWER,
    FOLD_UPPER
};

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static bool is_crlf(unsigned char c)
{
    return c == '\r' || c == '\n';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 3261 25.1 token characters. */
static bool is_token_char(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
        return true;
    return c != '\0' && strchr("-.!%*_+`'~", c) != NULL;
}

static char fold_char(char c, enum fold f)
{
    if (f == FOLD_LOWER && c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    if (f == FOLD_UPPER && c >= 'a' && c <= 'z')
        return (char)(c - 'a' + 'A');
    return c;
}

/* c lower-cased (ASCII), without a branch. */
static unsigned char lower_c(unsigned char c)
{
    return (unsigned char)(c + ((unsigned)(c - 'A') < 26u ? 32 : 0));
}

/* ASCII case-insensitive equality of the n bytes at s and the string b. */
static bool ieq_n(const char *s, size_t n, const char *b)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char x = (unsigned char)s[i], y = (unsigned char)b[i];

        if (y == '\0' || (x != y && lower_c(x) != lower_c(y)))
            return false;
    }
    return b[n] == '\0';
}

/* The same for two strings. */
static bool ieq(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

        if (x != y && lower_c(x) != lower_c(y))
            return false;
        if (x == '\0')
            return true;
    }
}

/* Narrows s[*off .. *off + *n) to drop SP/HT at both ends. */
static void trim(const char *s, size_t *off, size_t *n)
{
    while (*n > 0 && is_ws((unsigned char)s[*off])) {
        (*off)++;
        (*n)--;
    }
    while (*n > 0 && is_ws((unsigned char)s[*off + *n - 1]))
        (*n)--;
}

/*
 * The strings of a message come from its own blocks (sl_msg.strs), taken in
 * turn: a message's fields usually fit the first block.  The message being
 * filled is the calling thread's `filling` (set by sl_msg_parse_rows for the
 * length of a parse), so the helpers below need not carry it.
 */
#define STR_BLOCK 1024u

struct sl_msg_block {
    struct sl_msg_block *next;
    size_t cap, used;
    char data[];
};

static _Thread_local struct sl_msg *filling;

/* n bytes in the blocks of the message being filled, or NULL. */
static char *str_alloc(size_t n)
{
    struct sl_msg_block *b = filling->strs;
    char *p;

    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > STR_BLOCK ? n : STR_BLOCK;

        if (cap > SIZE_MAX - sizeof(*b))
            return NULL;
        b = malloc(sizeof(*b) + cap);
        if (b == NULL)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = filling->strs;
        filling->strs = b;
    }
    p = b->data + b->used;
    b->used += n;
    return p;
}

/* *dst = a NUL-terminated, case-folded copy of the n bytes at s. */
static int set_str(char **dst, const char *s, size_t n, enum fold f)
{
    char *c = n < SIZE_MAX ? str_alloc(n + 1) : NULL;
    size_t i;

    if (c == NULL)
        return SL_ENOMEM;
    if (f == FOLD_NONE)
        memcpy(c, s, n);
    else
        for (i = 0; i < n; i++)
            c[i] = fold_char(s[i], f);
    c[n] = '\0';
    *dst = c;
    return SL_OK;
}

/* Like set_str for a C string; NULL s leaves *dst NULL (absent). */
static int set_cstr(char **dst, const char *s, enum fold f)
{
    return s != NULL ? set_str(dst, s, strlen(s), f) : SL_OK;
}

/* A growing string; oom is sticky, so a builder checks it once at the end.
 * It starts in its own bytes: most values built here are short, and the
 * result is copied into the message's blocks anyway. */
struct sbuf {
    char *p; /* local, or malloc'd once it outgrew it */
    size_t len;
    size_t cap;
    bool oom;
    char local[256];
};

static void sb_init(struct sbuf *b)
{
    b->p = b->local;
    b->len = 0;
    b->cap = sizeof(b->local);
    b->oom = false;
    b->local[0] = '\0';
}

static void sb_put(struct sbuf *b, const char *s, size_t n, enum fold f)
{
    size_t i;

    if (b->oom)
        return;
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap;
        char *q;

        while (cap - b->len < n + 1) {
            if (cap > SIZE_MAX / 2) {
                b->oom = true;
                return;
            }
            cap *= 2;
        }
        q = b->p == b->local ? malloc(cap) : realloc(b->p, cap);
        if (q == NULL) {
            b->oom = true;
            return;
        }
        if (b->p == b->local)
            memcpy(q, b->local, b->len + 1);
        b->p = q;
        b->cap = cap;
    }
    if (f == FOLD_NONE)
        memcpy(b->p + b->len, s, n);
    else
        for (i = 0; i < n; i++)
            b->p[b->len + i] = fold_char(s[i], f);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s, enum fold f)
{
    sb_put(b, s, strlen(s), f);
}

/* Hands the string to *dst: NULL when !present, "" when present but empty. */
static int sb_finish(struct sbuf *b, char **dst, bool present)
{
    int rc = b->oom ? SL_ENOMEM : SL_OK;

    if (rc == SL_OK && present)
        rc = set_str(dst, b->p, b->len, FOLD_NONE);
    if (b->p != b->local)
        free(b->p);
    sb_init(b);
    return rc;
}

/* Takes over a string libosip2 made (osip_uri_to_str): *dst = a copy of s
 * when osip_rc is success; a refusal other than out-of-memory leaves *dst
 * NULL.  Frees s. */
static int osip_text(char **dst, int osip_rc, char *s)
{
    int rc = SL_OK;

    if (osip_rc == OSIP_SUCCESS && s != NULL)
        rc = set_cstr(dst, s, FOLD_NONE);
    else if (osip_rc == OSIP_NOMEM)
        rc = SL_ENOMEM;
    osip_free(s);
    return rc;
}

/*
 * The text of a URI as osip_uri_to_str (libosip2 5.3 osip_uri.c) makes it,
 * written straight into the message's blocks: that function allocates the
 * string, each escaped piece and a realloc per parameter (~1k instructions a
 * URI, four URIs a message).  Its escaping keeps letters, digits and a set of
 * marks per part (_MARK__USER_UNRESERVED_, _MARK__PWORD_UNRESERVED_,
 * _MARK__URI_PARAM_UNRESERVED_) and writes every other byte as %XX.  A URI
 * with headers (?h=v) is left to libosip2 itself; tests/unit/test_sip.c
 * compares the two on escapes, IPv6, passwords and absolute URIs.
 */
enum esc {
    ESC_USER = 1,
    ESC_PASSWORD = 2,
    ESC_PARAM = 4
};

static unsigned char esc_keep[256]; /* enum esc bits: the byte stays as it is */

static void esc_init(void)
{
    static const struct {
        enum esc set;
        const char *marks;
    } sets[] = {
        { ESC_USER, "-_.!~*'()&=+$,;?/" },
        { ESC_PASSWORD, "-_.!~*'()&=+$," },
        { ESC_PARAM, "-_.!~*'()[]/:&+$" },
    };
    size_t i;
    const char *m;
    int c;

    for (c = 0; c < 256; c++)
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            esc_keep[c] = ESC_USER | ESC_PASSWORD | ESC_PARAM;
    for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
        for (m = sets[i].marks; *m != '\0'; m++)
            esc_keep[(unsigned char)*m] |= (unsigned char)sets[i].set;
}

/* Bytes of s escaped for set. */
static size_t esc_len(const char *s, enum esc set)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += (esc_keep[(unsigned char)*s] & set) ? 1 : 3;
    return n;
}

static char *esc_put(char *o, const char *s, enum esc set)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (esc_keep[c] & set) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    return o;
}

static char *str_put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

/* The parameters osip_uri_to_str leaves out (eXosip's internal ones). */
static bool param_hidden(const char *name)
{
    return (name[0] == 'x' || name[0] == 'X') && (ieq(name, "x-obr") || ieq(name, "x-obp"));
}

/* The ";name=value" parameters of uri as osip_uri_to_str writes them, at o;
 * with o NULL, only their length.  Returns the bytes. */
static size_t params_text(const osip_uri_t *uri, char *o)
{
    const __node_t *node;
    size_t n = 0;
    int k;

    for (node = uri->url_params.node, k = 0; node != NULL && k < uri->url_params.nb_elt;
         node = node->next, k++) {
        const osip_uri_param_t *up = node->element;

        if (up == NULL) /* where libosip2's iteration stops */
            break;
        if (up->gname == NULL || param_hidden(up->gname))
            continue;
        n += 1 + esc_len(up->gname, ESC_PARAM);
        if (up->gvalue != NULL)
            n += 1 + esc_len(up->gvalue, ESC_PARAM);
        if (o == NULL)
            continue;
        *o++ = ';';
        o = esc_put(o, up->gname, ESC_PARAM);
        if (up->gvalue != NULL) {
            *o++ = '=';
            o = esc_put(o, up->gvalue, ESC_PARAM);
        }
    }
    return n;
}

/* *dst = the text of a URI (NULL where osip_uri_to_str refuses it). */
static int uri_str(char **dst, const osip_uri_t *uri)
{
    const char *scheme;
    size_t len, slen, hlen, plen = 0;
    bool v6;
    char *o;

    if (uri->url_headers.nb_elt > 0) {
        char *s = NULL;
        int osip_rc = osip_uri_to_str(uri, &s);

        return osip_text(dst, osip_rc, s);
    }
    if (uri->host == NULL && uri->string == NULL)
        return SL_OK;
    if (uri->scheme == NULL && uri->string != NULL)
        return SL_OK;
    scheme = uri->scheme != NULL ? uri->scheme : "sip";
    slen = strlen(scheme);
    if (uri->string != NULL) {
        size_t n = strlen(uri->string);

        if ((o = str_alloc(slen + n + 2)) == NULL)
            return SL_ENOMEM;
        *dst = o;
        o = str_put(o, scheme, slen);
        *o++ = ':';
        o = str_put(o, uri->string, n);
        *o = '\0';
        return SL_OK;
    }
    hlen = strlen(uri->host);
    v6 = memchr(uri->host, ':', hlen) != NULL;
    len = slen + 1 + hlen + (v6 ? 2 : 0);
    if (uri->username != NULL) {
        len += esc_len(uri->username, ESC_USER) + 1;
        if (uri->password != NULL)
            len += 1 + esc_len(uri->password, ESC_PASSWORD);
    }
    if (uri->port != NULL) {
        plen = strlen(uri->port);
        len += 1 + plen;
    }
    len += params_text(uri, NULL);
    if ((o = str_alloc(len + 1)) == NULL)
        return SL_ENOMEM;
    *dst = o;
    o = str_put(o, scheme, slen);
    *o++ = ':';
    if (uri->username != NULL) {
        o = esc_put(o, uri->username, ESC_USER);
        if (uri->password != NULL) {
            *o++ = ':';
            o = esc_put(o, uri->password, ESC_PASSWORD);
        }
        *o++ = '@';
    }
    if (v6)
        *o++ = '[';
    o = str_put(o, uri->host, hlen);
    if (v6)
        *o++ = ']';
    if (uri->port != NULL) {
        *o++ = ':';
        o = str_put(o, uri->port, plen);
    }
    o += params_text(uri, o);
    *o = '\0';
    return SL_OK;
}

/* The Call-ID as osip_call_id_to_str makes it (libosip2 splits it at the
 * first '@'): number, or number@host; NULL without a number. */
static int call_id_str(char **dst, const osip_call_id_t *call_id)
{
    size_t n, h;
    char *o;

    if (call_id->number == NULL)
        return SL_OK;
    n = strlen(call_id->number);
    h = call_id->host != NULL ? strlen(call_id->host) + 1 : 0;
    if ((o = str_alloc(n + h + 1)) == NULL)
        return SL_ENOMEM;
    *dst = o;
    o = str_put(o, call_id->number, n);
    if (h > 0) {
        *o++ = '@';
        o = str_put(o, call_id->host, h - 1);
    }
    *o = '\0';
    return SL_OK;
}

/* -------------------------------------------------------------- numbers -- */

/* The decimal number made of all n bytes at s (at least one digit and nothing
 * else) when it is at most max (<= INT64_MAX); else -1.  No sign, no
 * whitespace, no overflow. */
static int64_t num_exact(const char *s, size_t n, uint64_t max)
{
    uint64_t v = 0;
    size_t i;

    if (n == 0)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned d;

        if (!is_digit((unsigned char)s[i]))
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    return (int64_t)v;
}

/* A whole header value (NULL: absent) as a number <= max, SP/HT trimmed. */
static int64_t num_value(const char *s, uint64_t max)
{
    size_t off = 0, n;

    if (s == NULL)
        return -1;
    n = strlen(s);
    trim(s, &off, &n);
    return num_exact(s + off, n, max);
}

/* The number that starts a header value (delta-seconds followed by a comment
 * or ;parameters: Session-Expires, Min-SE, Retry-After), or -1. */
static int64_t num_lead(const char *s, uint64_t max)
{
    size_t off = 0, k = 0;

    if (s == NULL)
        return -1;
    while (is_ws((unsigned char)s[off]))
        off++;
    while (is_digit((unsigned char)s[off + k]))
        k++;
    if (s[off + k] != '\0' && !is_ws((unsigned char)s[off + k]) && s[off + k] != ';' &&
        s[off + k] != '(')
        return -1;
    return num_exact(s + off, k, max);
}

/* ----------------------------------------------------------- raw bytes -- */

/* What the raw bytes say, independently of libosip2.  The readers are views
 * into the caller's bytes. */
struct head {
    size_t line_off;   /* CR/LF bytes before the start line (RFC 3261 7.5) */
    struct sl_rd line; /* the start line, without its terminator */
    struct sl_rd rows; /* from the first header row to the end */
    size_t n_rows;     /* header rows; folded continuation lines belong to their row */
    bool has_blank;    /* the empty line ending the headers was seen */
    struct sl_rd body; /* the bytes after it; empty without it */
    bool has_nul;      /* a NUL byte before the body */
    size_t nul_off;
    bool clen_seen; /* a Content-Length (or l) row */
    int64_t clen;   /* its value (first row), -1 when not a number */
    struct sl_rd clen_val;
    struct sl_rd ctype; /* first Content-Type (or c) value, for messages */
    const char *dup;    /* a single-valued header libosip2 refuses twice, or NULL */
};

/* Headers that libosip2 refuses to see twice (RFC 3261 7.3.1: not lists). */
static const struct {
    const char *full;
    const char *compact;
} single_hdrs[] = {
    { "From", "f" },           { "To", "t" },           { "Call-ID", "i" }, { "CSeq", NULL },
    { "Content-Length", "l" }, { "Content-Type", "c" },
};
#define N_SINGLE     (sizeof(single_hdrs) / sizeof(single_hdrs[0]))
#define SINGLE_CLEN  4 /* Content-Length in single_hdrs */
#define SINGLE_CTYPE 5 /* Content-Type */

/* Skips SP/HT; returns how many. */
static size_t rd_skip_ws(struct sl_rd *r)
{
    size_t k = 0;

    while (k < r->n && is_ws(r->p[k]))
        k++;
    (void)sl_rd_skip(r, k);
    return k;
}

/* Drops LWS (SP, HT and the CR/LF of folded lines) at both ends of r. */
static void rd_trim(struct sl_rd *r)
{
    const uint8_t *p = r->p;
    size_t n = r->n;

    while (n > 0 && (is_ws(p[0]) || is_crlf(p[0]))) {
        p++;
        n--;
    }
    while (n > 0 && (is_ws(p[n - 1]) || is_crlf(p[n - 1])))
        n--;
    *r = sl_rd_init(p, n);
}

/* Takes the next line off r: *line gets its bytes without the terminator
 * (CRLF, or a lone CR or LF: libosip2 accepts all three).  False (and *line
 * empty) when r is empty.  *plain as sl_line_scan leaves it. */
static bool line_take(struct sl_rd *r, struct sl_rd *line, bool *plain)
{
    size_t i, term = 0;

    if (r->n == 0) {
        *line = sl_rd_init(NULL, 0);
        return false;
    }
    i = sl_line_scan(r->p, r->n, plain);
    if (i < r->n)
        term = r->p[i] == '\r' && i + 1 < r->n && r->p[i + 1] == '\n' ? 2 : 1;
    *line = sl_rd_init(r->p, i);
    (void)sl_rd_skip(r, i + term);
    return true;
}

/* Takes the next header row off r: a line and its folded continuation lines
 * (RFC 3261 7.3.1), without the final terminator.  False at the empty line
 * that ends the headers (*blank, consumed) or at the end of r. */
static bool row_next(struct sl_rd *r, struct sl_rd *row, bool *blank, bool *plain)
{
    struct sl_rd begin = *r, line;
    size_t len;

    *blank = false;
    *row = sl_rd_init(NULL, 0);
    if (!line_take(r, &line, plain))
        return false;
    if (line.n == 0) {
        *blank = true;
        return false;
    }
    len = line.n;
    while (r->n > 0 && is_ws(r->p[0])) {
        size_t before = begin.n - r->n; // the row's bytes up to this line

        (void)line_take(r, &line, plain);
        len = before + line.n;
    }
    return sl_rd_sub(&begin, len, row);
}

/* A row's name (before ':') and value (after it, folded lines included),
 * both trimmed.  False when the first line has no ':' or the row starts with
 * whitespace. */
static bool row_split(struct sl_rd row, struct sl_rd *name, struct sl_rd *value)
{
    size_t k = 0;

    while (k < row.n && row.p[k] != ':' && !is_crlf(row.p[k]))
        k++;
    if (k == row.n || row.p[k] != ':' || k == 0 || is_ws(row.p[0]))
        return false;
    *name = sl_rd_init(row.p, k);
    *value = sl_rd_init(row.p + k + 1, row.n - k - 1);
    rd_trim(name);
    rd_trim(value);
    return true;
}

/* Which of single_hdrs a row's name is (N_SINGLE: none).  Every row of
 * every message comes here: names are told apart by their length (and a
 * letter), and only the one candidate is compared whole. */
static size_t single_of(struct sl_rd name)
{
    size_t i;

    switch (name.n) {
    case 1:
        switch (fold_char((char)name.p[0], FOLD_LOWER)) {
        case 'f':
            return 0;
        case 't':
            return 1;
        case 'i':
            return 2;
        case 'l':
            return SINGLE_CLEN;
        case 'c':
            return SINGLE_CTYPE;
        default:
            return N_SINGLE;
        }
    case 2: /* To */
        i = 1;
        break;
    case 4: /* From, CSeq */
        i = fold_char((char)name.p[0], FOLD_LOWER) == 'f' ? 0 : 3;
        break;
    case 7: /* Call-ID */
        i = 2;
        break;
    case 12:
        i = SINGLE_CTYPE;
        break;
    case 14:
        i = SINGLE_CLEN;
        break;
    default:
        return N_SINGLE;
    }
    return ieq_n((const char *)name.p, name.n, single_hdrs[i].full) ? i : N_SINGLE;
}

static void head_scan(struct head *h, const uint8_t *p, size_t n)
{
    struct sl_rd r = sl_rd_init(p, n), row, name, value;
    unsigned seen[N_SINGLE] = { 0 };
    size_t i, k = 0, head_len;
    const uint8_t *nul;
    bool blank, plain = true;

    *h = (struct head){ 0 };
    h->clen = -1;
    while (k < r.n && is_crlf(r.p[k]))
        k++;
    (void)sl_rd_skip(&r, k);
    h->line_off = k;
    (void)line_take(&r, &h->line, &plain);
    h->rows = r;

    while (row_next(&r, &row, &blank, &plain)) {
        h->n_rows++;
        if (!row_split(row, &name, &value))
            continue;
        i = single_of(name);
        if (i == N_SINGLE)
            continue;
        if (++seen[i] == 2 && h->dup == NULL)
            h->dup = single_hdrs[i].full;
        if (i == SINGLE_CLEN && !h->clen_seen) {
            h->clen_seen = true;
            h->clen_val = value;
            h->clen = num_exact((const char *)value.p, value.n, INT64_MAX);
        }
        if (i == SINGLE_CTYPE && h->ctype.n == 0)
            h->ctype = value;
    }
    h->has_blank = blank;
    if (blank)
        h->body = sl_rd_rest(&r);
    head_len = n - h->body.n;
    /* every byte before the body is in a line sl_line_scan saw, or a CR/LF */
    nul = !plain && head_len > 0 ? memchr(p, '\0', head_len) : NULL;
    if (nul != NULL) {
        h->has_nul = true;
        h->nul_off = (size_t)(nul - p);
    }
}

/* ------------------------------------------------------------- refusal -- */

/* Writes at most max bytes of r into out as printable ASCII, in double
 * quotes: \\, \" and bytes outside 0x20..0x7e as \xNN; "..." marks a cut. */
static void quote(char *out, size_t out_len, struct sl_rd r, size_t max)
{
    size_t i, o = 0;

    if (out_len < 4 * max + 8) { // cannot happen with the callers' buffers
        if (out_len > 0)
            out[0] = '\0';
        return;
    }
    out[o++] = '"';
    for (i = 0; i < r.n && i < max; i++) {
        uint8_t c = r.p[i];

        if (c == '\\' || c == '"') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c >= 0x20 && c <= 0x7e) {
            out[o++] = (char)c;
        } else {
            (void)snprintf(out + o, out_len - o, "\\x%02x", c);
            o += 4;
        }
    }
    out[o++] = '"';
    if (r.n > max) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* Returns libosip2's verdict on the n bytes at s. */
static int osip_try(const char *s, size_t n)
{
    osip_message_t *sip = NULL;
    int rc;

    if (osip_message_init(&sip) != OSIP_SUCCESS)
        return OSIP_NOMEM;
    rc = osip_message_parse(sip, s, n);
    osip_message_free(sip);
    return rc;
}

/* libosip2 says only "no": find which piece it refuses by parsing the start
 * line (as libosip2 was given it) alone, then each header row alone behind a
 * short stand-in start line (so that a long start line is parsed once). */
static int blame(const struct head *h, struct sl_rd line, bool request, size_t n,
                 struct sl_err *err)
{
    const char *stand_in = request ? "OPTIONS sip:x SIP/2.0\r\n" : "SIP/2.0 200 OK\r\n";
    size_t stand_len = strlen(stand_in), k = 0;
    char q[4 * QUOTE_MAX + 8];
    struct sl_rd rows = h->rows, row;
    bool blank, plain = true; // plain: not needed here
    char *buf;
    int rc;

    buf = malloc(line.n + stand_len + n + 8);
    if (buf == NULL)
        return SL_ENOMEM;
    if (line.n > 0)
        memcpy(buf, line.p, line.n);
    memcpy(buf + line.n, "\r\n\r\n", 4);
    rc = osip_try(buf, line.n + 4);
    if (rc == OSIP_NOMEM)
        goto oom;
    if (rc != OSIP_SUCCESS) {
        free(buf);
        quote(q, sizeof(q), line, QUOTE_MAX);
        return sl_fail(err, SL_EFORMAT, "libosip2 refused the start line %s", q);
    }
    memcpy(buf, stand_in, stand_len);
    while (k < BLAME_MAX_ROWS && row_next(&rows, &row, &blank, &plain)) {
        k++;
        memcpy(buf + stand_len, row.p, row.n);
        memcpy(buf + stand_len + row.n, "\r\n\r\n", 4);
        rc = osip_try(buf, stand_len + row.n + 4);
        if (rc == OSIP_NOMEM)
            goto oom;
        if (rc != OSIP_SUCCESS) {
            free(buf);
            quote(q, sizeof(q), row, QUOTE_MAX);
            return sl_fail(err, SL_EFORMAT, "libosip2 refused header row %zu: %s", k, q);
        }
    }
    free(buf);
    if (h->body.n > 0 && h->ctype.n > 0) {
        quote(q, sizeof(q), h->ctype, QUOTE_MAX);
        return sl_fail(err, SL_EFORMAT, "libosip2 refused the %zu-byte body (Content-Type %s)",
                       h->body.n, q);
    }
    quote(q, sizeof(q), line, QUOTE_MAX);
    return sl_fail(err, SL_EFORMAT, "libosip2 refused the message (start line: %s)", q);
oom:
    free(buf);
    return SL_ENOMEM;
}

/* The reason libosip2 refused the message; line is its start line as
 * libosip2 saw it. */
static int refused(const struct head *h, struct sl_rd line, bool request, size_t n,
                   struct sl_err *err)
{
    if (h->dup != NULL)
        return sl_fail(err, SL_EFORMAT, "more than one %s header (RFC 3261 7.3.1)", h->dup);
    /* RFC 3261 18.3: a datagram with fewer body bytes than Content-Length. */
    if (h->clen > 0 && (uint64_t)h->clen > h->body.n)
        return sl_fail(err, SL_EFORMAT,
                       "Content-Length %lld > %zu body bytes present (RFC 3261 18.3)",
                       (long long)h->clen, h->body.n);
    return blame(h, line, request, n, err);
}

/* ---------------------------------------------------------- extraction -- */

/* The value of parameter name in an osip parameter list (libosip2 keeps the
 * names as sent: compared case-insensitively, RFC 3261 7.3.1).  *found tells
 * a parameter without value (NULL) from an absent one. */
static const char *param_get(const osip_list_t *params, const char *name, bool *found)
{
    int i, k = osip_list_size(params);

    for (i = 0; i < k; i++) {
        const osip_generic_param_t *gp = osip_list_get(params, i);

        if (gp != NULL && gp->gname != NULL && ieq(gp->gname, name)) {
            *found = true;
            return gp->gvalue;
        }
    }
    *found = false;
    return NULL;
}

/* Like param_get, for the ;name=value parameters of a raw header value (an
 * unknown header for libosip2).  The value is trimmed; "" without '='. */
static bool param_in(const char *v, const char *name, size_t *val_off, size_t *val_len)
{
    size_t i = 0;

    while (v[i] != '\0' && v[i] != ';')
        i++;
    while (v[i] == ';') {
        size_t seg = ++i, end, eq, nlen, noff = seg;

        while (v[i] != '\0' && v[i] != ';')
            i++;
        end = i;
        for (eq = seg; eq < end && v[eq] != '='; eq++)
            continue;
        nlen = eq - seg;
        trim(v, &noff, &nlen);
        if (ieq_n(v + noff, nlen, name)) {
            *val_off = eq < end ? eq + 1 : end;
            *val_len = end - *val_off;
            trim(v, val_off, val_len);
            return true;
        }
    }
    return false;
}

/* The headers libosip2 leaves in its generic list that the fields below
 * read, found in one pass (hidx_build) instead of one scan per lookup. */
enum hid {
    H_MAX_FORWARDS,
    H_EXPIRES,
    H_RETRY_AFTER,
    H_RSEQ,
    H_SESSION_EXPIRES,
    H_MIN_SE,
    H_RACK,
    H_SUPPORTED,
    H_REQUIRE,
    H_PROXY_REQUIRE,
    H_REASON,
    H_SERVER,
    H_USER_AGENT,
    H_COUNT
};

static const struct {
    const char *full, *compact; /* lower case; compact NULL: none */
} hnames[H_COUNT] = {
    [H_MAX_FORWARDS] = { "max-forwards", NULL },
    [H_EXPIRES] = { "expires", NULL },
    [H_RETRY_AFTER] = { "retry-after", NULL },
    [H_RSEQ] = { "rseq", NULL },
    [H_SESSION_EXPIRES] = { "session-expires", "x" }, /* RFC 4028 4 */
    [H_MIN_SE] = { "min-se", NULL },
    [H_RACK] = { "rack", NULL },
    [H_SUPPORTED] = { "supported", "k" },
    [H_REQUIRE] = { "require", NULL },
    [H_PROXY_REQUIRE] = { "proxy-require", NULL },
    [H_REASON] = { "reason", NULL },
    [H_SERVER] = { "server", NULL },
    [H_USER_AGENT] = { "user-agent", NULL },
};

/* Where each of those headers is in sip->headers: the list node of its
 * first row (NULL: absent), and the positions of its first and last rows. */
struct hidx {
    const __node_t *node[H_COUNT];
    int first[H_COUNT], last[H_COUNT];
};

/* Which of hnames a header name is (H_COUNT: none): told apart by length and
 * a letter, then compared whole once. */
static enum hid hid_of(const char *name, size_t n)
{
    enum hid id;
    char c = n > 0 ? fold_char(name[0], FOLD_LOWER) : '\0';

    switch (n) {
    case 1:
        return c == 'x' ? H_SESSION_EXPIRES : c == 'k' ? H_SUPPORTED : H_COUNT;
    case 4:
        id = fold_char(name[1], FOLD_LOWER) == 's' ? H_RSEQ : H_RACK;
        break;
    case 6:
        id = c == 'm' ? H_MIN_SE : c == 'r' ? H_REASON : H_SERVER;
        break;
    case 7:
        id = c == 'e' ? H_EXPIRES : H_REQUIRE;
        break;
    case 9:
        id = H_SUPPORTED;
        break;
    case 10:
        id = H_USER_AGENT;
        break;
    case 11:
        id = H_RETRY_AFTER;
        break;
    case 12:
        id = H_MAX_FORWARDS;
        break;
    case 13:
        id = H_PROXY_REQUIRE;
        break;
    case 15:
        id = H_SESSION_EXPIRES;
        break;
    default:
        return H_COUNT;
    }
    return ieq_n(name, n, hnames[id].full) ? id : H_COUNT;
}

static void hidx_build(struct hidx *x, const osip_message_t *sip)
{
    const __node_t *node;
    int pos, id;

    for (id = 0; id < H_COUNT; id++) {
        x->node[id] = NULL;
        x->first[id] = x->last[id] = -1;
    }
    for (node = sip->headers.node, pos = 0; node != NULL && pos < sip->headers.nb_elt;
         node = node->next, pos++) {
        const osip_header_t *hd = node->element;

        if (hd == NULL)
            break;
        if (hd->hname == NULL)
            continue;
        id = (int)hid_of(hd->hname, strlen(hd->hname));
        if (id == H_COUNT)
            continue;
        if (x->first[id] < 0) {
            x->first[id] = pos;
            x->node[id] = node;
        }
        x->last[id] = pos;
    }
}

/* A walk over the rows of one header: hdr_next from a zeroed cursor. */
struct hcur {
    const __node_t *node;
    int pos;
};

/* Next row of header id after the cursor's; NULL when there is none. */
static const osip_header_t *hdr_next(const struct hidx *x, enum hid id, struct hcur *c)
{
    const __node_t *node;
    int pos;

    if (c->node == NULL) {
        if (x->node[id] == NULL)
            return NULL;
        c->node = x->node[id];
        c->pos = x->first[id];
        return c->node->element;
    }
    for (node = c->node->next, pos = c->pos + 1; node != NULL && pos <= x->last[id];
         node = node->next, pos++) {
        const osip_header_t *hd = node->element;

        if (hd != NULL && hd->hname != NULL && hid_of(hd->hname, strlen(hd->hname)) == id) {
            c->node = node;
            c->pos = pos;
            return hd;
        }
    }
    c->pos = x->last[id];
    return NULL;
}

/* The first row's value; *found false when the header is absent. */
static const char *hdr_value(const struct hidx *x, enum hid id, bool *found)
{
    struct hcur c = { NULL, 0 };
    const osip_header_t *hd = hdr_next(x, id, &c);

    *found = hd != NULL;
    return hd != NULL ? hd->hvalue : NULL;
}

/* All rows of a list header of option-tags (Supported, Require,
 * Proxy-Require: RFC 3261 20.37, 20.32, 20.29), split on commas, trimmed, lower-cased, ", "-joined.  Present
 * but empty ("Supported:") gives "". */
static int join_tokens(char **dst, const struct hidx *x, enum hid id)
{
    struct sbuf b;
    const osip_header_t *hd;
    struct hcur c = { NULL, 0 };
    bool present = false;

    sb_init(&b);
    while ((hd = hdr_next(x, id, &c)) != NULL) {
        const char *v = hd->hvalue;
        size_t i = 0;

        present = true;
        while (v != NULL && v[i] != '\0') {
            size_t off = i, len;

            while (v[i] != '\0' && v[i] != ',')
                i++;
            len = i - off;
            trim(v, &off, &len);
            if (len > 0) {
                if (b.len > 0)
                    sb_puts(&b, ", ", FOLD_NONE);
                sb_put(&b, v + off, len, FOLD_LOWER);
            }
            if (v[i] == ',')
                i++;
        }
    }
    return sb_finish(&b, dst, present);
}

/* All rows of a header, values as libosip2 has them, ", "-joined. */
static int join_values(char **dst, const struct hidx *x, enum hid id)
{
    struct sbuf b;
    const osip_header_t *hd;
    struct hcur c = { NULL, 0 };
    bool present = false;

    sb_init(&b);
    while ((hd = hdr_next(x, id, &c)) != NULL) {
        if (present)
            sb_puts(&b, ", ", FOLD_NONE);
        if (hd->hvalue != NULL)
            sb_puts(&b, hd->hvalue, FOLD_NONE);
        present = true;
    }
    return sb_finish(&b, dst, present);
}

/* RFC 3261 7.2: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase.
 * sl_sip_look() has already checked "SIP/2.0" SP+ 3DIGIT (SP / end). */
static int start_response(struct sl_msg *m, struct sl_rd line, int osip_status, struct sl_err *err)
{
    const uint8_t *d;

    (void)sl_rd_skip(&line, 7);
    (void)rd_skip_ws(&line);
    d = sl_rd_take(&line, 3);
    if (d == NULL)
        return sl_fail(err, SL_EFORMAT, "status line too short");
    m->status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    if (m->status < 100 || m->status > 699)
        return sl_fail(err, SL_EFORMAT, "status code %d outside 100..699 (RFC 3261 7.2)",
                       m->status);
    if (line.n == 0)
        return sl_fail(err, SL_EFORMAT, "no SP after status code %d (RFC 3261 7.2)", m->status);
    if (osip_status != m->status)
        return sl_fail(err, SL_EFORMAT, "status line misread by libosip2 (%d, not %d)", osip_status,
                       m->status);
    (void)sl_rd_skip(&line, 1); // the SP; the Reason-Phrase may itself start with SP
    return set_str(&m->reason, (const char *)line.p, line.n, FOLD_NONE);
}

static int start_request(struct sl_msg *m, const osip_message_t *sip, struct sl_err *err)
{
    size_t i;

    if (sip->sip_method == NULL || sip->sip_method[0] == '\0' || sip->req_uri == NULL)
        return sl_fail(err, SL_EFORMAT, "request line without method or Request-URI");
    for (i = 0; sip->sip_method[i] != '\0'; i++)
        if (!is_token_char((unsigned char)sip->sip_method[i]))
            return sl_fail(err, SL_EFORMAT, "request method is not a token (RFC 3261 25.1)");
    m->is_request = true;
    if (set_cstr(&m->method, sip->sip_method, FOLD_NONE) != SL_OK)
        return SL_ENOMEM;
    return uri_str(&m->ruri, sip->req_uri);
}

/* From / To: URI, tag (lower-cased, RFC 3261 19.3), display name without the
 * quotes of a quoted-string (escapes kept). */
static int name_addr(const osip_from_t *f, char **uri, char **tag, char **display)
{
    const char *v;
    bool found;
    int rc;

    if (f == NULL)
        return SL_OK;
    if (f->url != NULL) {
        rc = uri_str(uri, f->url);
        if (rc != SL_OK)
            return rc;
    }
    v = param_get(&f->gen_params, "tag", &found);
    if (found && set_cstr(tag, v != NULL ? v : "", FOLD_LOWER) != SL_OK)
        return SL_ENOMEM;
    v = f->displayname;
    if (v != NULL) {
        size_t len = strlen(v);

        if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
            return set_str(display, v + 1, len - 2, FOLD_NONE);
        return set_cstr(display, v, FOLD_NONE);
    }
    return SL_OK;
}

/* RFC 3261 20.16: CSeq number must fit 32 bits unsigned; method as sent. */
static int dialog_fields(struct sl_msg *m, const osip_message_t *sip)
{
    int rc;

    if (sip->call_id != NULL) {
        rc = call_id_str(&m->call_id, sip->call_id);
        if (rc != SL_OK)
            return rc;
    }
    rc = name_addr(sip->from, &m->from_uri, &m->from_tag, &m->from_display);
    if (rc == SL_OK)
        rc = name_addr(sip->to, &m->to_uri, &m->to_tag, &m->to_display);
    if (rc == SL_OK && sip->cseq != NULL) {
        m->cseq_num = num_value(sip->cseq->number, UINT32_MAX);
        rc = set_cstr(&m->cseq_method, sip->cseq->method, FOLD_NONE);
    }
    return rc;
}

/* RFC 3261 20.42 / 18.2.1: the top Via. */
static int via_fields(struct sl_msg *m, const osip_message_t *sip)
{
    const osip_via_t *via;
    const char *v;
    struct sbuf b;
    bool found;
    int rc;

    sb_init(&b);
    /* libosip2 has split comma-joined values: one entry per Via value. */
    m->via_count = osip_list_size(&sip->vias);
    via = osip_list_get(&sip->vias, 0);
    if (via == NULL)
        return SL_OK;
    if (via->host != NULL) { // libosip2 drops the brackets of an IPv6 reference
        bool v6 = strchr(via->host, ':') != NULL;

        if (v6)
            sb_puts(&b, "[", FOLD_NONE);
        sb_puts(&b, via->host, FOLD_LOWER);
        if (v6)
            sb_puts(&b, "]", FOLD_NONE);
        if (via->port != NULL) {
            sb_puts(&b, ":", FOLD_NONE);
            sb_puts(&b, via->port, FOLD_NONE);
        }
    }
    rc = sb_finish(&b, &m->via_sent_by, via->host != NULL);
    if (rc == SL_OK)
        rc = set_cstr(&m->via_transport, via->protocol, FOLD_UPPER);
    v = param_get(&via->via_params, "branch", &found);
    if (rc == SL_OK && found)
        rc = set_cstr(&m->via_branch, v != NULL ? v : "", FOLD_LOWER);
    v = param_get(&via->via_params, "received", &found);
    if (rc == SL_OK && found)
        rc = set_cstr(&m->via_received, v != NULL ? v : "", FOLD_NONE);
    /* RFC 3581 3: rport without value in requests, rport=port in responses. */
    v = param_get(&via->via_params, "rport", &found);
    if (found)
        m->via_rport = v == NULL ? 0 : (int)num_value(v, 65535);
    return rc;
}

/* FNV-1a 64 over s folded as f, then one separator byte. */
static uint64_t fnv_str(uint64_t h, const char *s, enum fold f, unsigned char sep)
{
    for (; s != NULL && *s != '\0'; s++) {
        h ^= (uint64_t)(unsigned char)fold_char(*s, f);
        h *= 0x100000001b3ULL;
    }
    h ^= (uint64_t)sep;
    return h * 0x100000001b3ULL;
}

/* RFC 3261 16.6 step 8 and 16.7 step 3 (RULES.md A.9.2): a proxy pushes one
 * Via on a forwarded request and pops it from responses, so the Via stack of
 * the copy on the next hop without its top value equals the whole stack of
 * the copy on the previous hop.  Each value is reduced to what later hops
 * leave alone: transport, sent-by and branch (received and rport are added by
 * the next hop, RFC 3261 18.2.1, RFC 3581 4).  Hashed bottom-up, so the tail
 * hash is the state just before the top value. */
static void via_hashes(struct sl_msg *m, const osip_message_t *sip)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    int i, n = osip_list_size(&sip->vias);

    for (i = n - 1; i >= 0; i--) {
        const osip_via_t *via = osip_list_get(&sip->vias, i);
        const char *branch;
        bool found;

        if (i == 0 && n >= 2)
            m->via_tail_hash = h;
        if (via == NULL)
            continue;
        branch = param_get(&via->via_params, "branch", &found);
        h = fnv_str(h, via->protocol, FOLD_UPPER, '/');
        h = fnv_str(h, via->host, FOLD_LOWER, ':');
        h = fnv_str(h, via->port, FOLD_NONE, ';');
        h = fnv_str(h, found ? branch : NULL, FOLD_LOWER, '\n');
    }
    if (n > 0)
        m->via_hash = h;
}

static int contact_fields(struct sl_msg *m, const osip_message_t *sip)
{
    const osip_contact_t *c = osip_list_get(&sip->contacts, 0);

    m->contact_count = osip_list_size(&sip->contacts);
    if (c == NULL)
        return SL_OK;
    if (c->url != NULL)
        return uri_str(&m->contact, c->url);
    /* RFC 3261 20.10: "Contact: *" (libosip2: display name "*", no URI). */
    if (c->displayname != NULL && strcmp(c->displayname, "*") == 0)
        return set_cstr(&m->contact, "*", FOLD_NONE);
    return SL_OK;
}

/* RFC 4028 4: Session-Expires = ("Session-Expires" / "x") HCOLON
 * delta-seconds *(SEMI se-params); refresher = "uac" / "uas". */
static int session_timer_fields(struct sl_msg *m, const struct hidx *x)
{
    const char *v;
    size_t off, len;
    bool found;

    v = hdr_value(x, H_SESSION_EXPIRES, &found);
    m->min_se = num_lead(hdr_value(x, H_MIN_SE, &found), UINT32_MAX);
    if (v == NULL)
        return SL_OK;
    m->session_expires = num_lead(v, UINT32_MAX);
    if (!param_in(v, "refresher", &off, &len))
        return SL_OK;
    if (ieq_n(v + off, len, "uac") || ieq_n(v + off, len, "uas"))
        return set_str(&m->se_refresher, v + off, len, FOLD_LOWER);
    return set_str(&m->se_refresher, v + off, len, FOLD_NONE);
}

/* RFC 3262 7.2: RAck = "RAck" HCOLON response-num LWS CSeq-num LWS Method. */
static int rack_fields(struct sl_msg *m, const struct hidx *x)
{
    size_t word[3][2], i = 0, w;
    const char *v;
    bool found;

    v = hdr_value(x, H_RACK, &found);
    if (v == NULL)
        return SL_OK;
    for (w = 0; w < 3; w++) {
        while (is_ws((unsigned char)v[i]))
            i++;
        word[w][0] = i;
        while (v[i] != '\0' && !is_ws((unsigned char)v[i]))
            i++;
        word[w][1] = i - word[w][0];
    }
    m->rack_rseq = num_exact(v + word[0][0], word[0][1], UINT32_MAX);
    m->rack_cseq = num_exact(v + word[1][0], word[1][1], UINT32_MAX);
    if (word[2][1] == 0)
        return SL_OK;
    for (i = 0; i < word[2][1]; i++)
        if (!is_token_char((unsigned char)v[word[2][0] + i]))
            return SL_OK;
    return set_str(&m->rack_method, v + word[2][0], word[2][1], FOLD_NONE);
}

static int other_headers(struct sl_msg *m, const osip_message_t *sip)
{
    const char *v;
    bool found;
    int rc;
    struct hidx x;

    hidx_build(&x, sip);
    m->max_forwards = (int)num_value(hdr_value(&x, H_MAX_FORWARDS, &found), INT_MAX);
    m->expires = (int)num_value(hdr_value(&x, H_EXPIRES, &found), INT_MAX);
    /* RFC 3261 20.33: Retry-After = delta-seconds [ comment ] *( SEMI retry-param ) */
    m->retry_after = num_lead(hdr_value(&x, H_RETRY_AFTER, &found), UINT32_MAX);
    /* RFC 3262 7.1: RSeq = 1*DIGIT, up to 2**32 - 1 */
    m->rseq = num_value(hdr_value(&x, H_RSEQ, &found), UINT32_MAX);

    rc = session_timer_fields(m, &x);
    if (rc == SL_OK)
        rc = rack_fields(m, &x);
    if (rc == SL_OK)
        rc = join_tokens(&m->supported, &x, H_SUPPORTED);
    if (rc == SL_OK)
        rc = join_tokens(&m->require, &x, H_REQUIRE);
    if (rc == SL_OK)
        rc = join_tokens(&m->proxy_require, &x, H_PROXY_REQUIRE);
    if (rc == SL_OK) // RFC 3326
        rc = join_values(&m->reason_hdr, &x, H_REASON);
    if (rc != SL_OK)
        return rc;

    v = NULL;
    found = false;
    if (!m->is_request)
        v = hdr_value(&x, H_SERVER, &found);
    if (!found)
        v = hdr_value(&x, H_USER_AGENT, &found);
    if (found && set_cstr(&m->user_agent, v != NULL ? v : "", FOLD_NONE) != SL_OK)
        return SL_ENOMEM;
    m->has_auth = osip_list_size(&sip->authorizations) > 0 ||
                  osip_list_size(&sip->proxy_authorizations) > 0;
    return SL_OK;
}

/* RFC 4566 5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype>
 * <unicast-address>, from the first o= line of the body. */
static int sdp_origin(struct sl_msg *m, struct sl_rd body)
{
    struct sl_rd line, f[6];
    size_t k, i;
    bool plain = true; // not needed here

    while (line_take(&body, &line, &plain)) {
        if (line.n < 2 || line.p[0] != 'o' || line.p[1] != '=')
            continue;
        (void)sl_rd_skip(&line, 2);
        for (k = 0; k < 6; k++) {
            (void)rd_skip_ws(&line);
            i = 0;
            while (i < line.n && line.p[i] > 0x20 && line.p[i] != 0x7f)
                i++;
            if (i == 0) // a missing field or a control byte
                return SL_OK;
            (void)sl_rd_sub(&line, i, &f[k]);
        }
        (void)rd_skip_ws(&line);
        if (line.n != 0) // a seventh field or a control byte
            return SL_OK;
        if (set_str(&m->sdp_o_user, (const char *)f[0].p, f[0].n, FOLD_NONE) != SL_OK ||
            set_str(&m->sdp_o_sess_id, (const char *)f[1].p, f[1].n, FOLD_NONE) != SL_OK ||
            set_str(&m->sdp_o_version, (const char *)f[2].p, f[2].n, FOLD_NONE) != SL_OK ||
            set_str(&m->sdp_o_addr, (const char *)f[5].p, f[5].n, FOLD_NONE) != SL_OK)
            return SL_ENOMEM;
        return SL_OK;
    }
    return SL_OK;
}

static int body_fields(struct sl_msg *m, const osip_message_t *sip, const struct head *h)
{
    const osip_content_type_t *ct = sip->content_type;
    struct sl_rd body = h->body, sdp;
    struct sbuf b;
    int rc;

    sb_init(&b);
    m->content_length = h->clen;
    m->body_len = h->body.n;
    if (ct != NULL && ct->type != NULL) {
        sb_puts(&b, ct->type, FOLD_LOWER);
        if (ct->subtype != NULL) {
            sb_puts(&b, "/", FOLD_NONE);
            sb_puts(&b, ct->subtype, FOLD_LOWER);
        }
    }
    rc = sb_finish(&b, &m->content_type, ct != NULL && ct->type != NULL);
    if (rc != SL_OK || m->content_type == NULL || strcmp(m->content_type, "application/sdp") != 0)
        return rc;
    /* The body is Content-Length bytes when that is fewer than what is there
     * (RFC 3261 18.3). */
    if (m->content_length >= 0 && (uint64_t)m->content_length < body.n)
        (void)sl_rd_sub(&body, (size_t)m->content_length, &sdp);
    else
        sdp = body;
    return sdp_origin(m, sdp);
}

/* ----------------------------------------------------------------- API -- */

static void msg_reset(struct sl_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->status = -1;
    m->cseq_num = -1;
    m->via_rport = -1;
    m->max_forwards = -1;
    m->expires = -1;
    m->session_expires = -1;
    m->min_se = -1;
    m->retry_after = -1;
    m->rseq = -1;
    m->rack_rseq = -1;
    m->rack_cseq = -1;
    m->content_length = -1;
}

int sl_msg_parse(struct sl_msg *m, const uint8_t *p, size_t n, size_t max_len, struct sl_err *err)
{
    return sl_msg_parse_rows(m, p, n, max_len, SL_MSG_MAX_ROWS_DEFAULT, err);
}

int sl_msg_parse_rows(struct sl_msg *m, const uint8_t *p, size_t n, size_t max_len, size_t max_rows,
                      struct sl_err *err)
{
    return sl_msg_parse_look(m, p, n, max_len, max_rows, sl_sip_look(p, n), err);
}

int sl_msg_parse_look(struct sl_msg *m, const uint8_t *p, size_t n, size_t max_len, size_t max_rows,
                      enum sl_sip_look look, struct sl_err *err)
{
    osip_message_t *sip = NULL;
    struct head h;
    struct sl_rd line; // the start line as libosip2 is given it
    uint8_t *copy = NULL;
    const uint8_t *src = p;
    char q[4 * QUOTE_MAX + 8];
    size_t i;
    int rc;

    msg_reset(m);
    if (n > max_len)
        return sl_fail(err, SL_ELIMIT,
                       "message of %zu bytes, over the message-size limit (%zu; --limit "
                       "message-size)",
                       n, max_len);
    if (p == NULL || n == 0)
        return sl_fail(err, SL_EFORMAT, "empty message");
    sl_sip_init();
    head_scan(&h, p, n);
    line = h.line;
    if (h.n_rows > max_rows)
        return sl_fail(err, SL_ELIMIT,
                       "message of %zu header rows, over the header-rows limit (%zu; --limit "
                       "header-rows)",
                       h.n_rows, max_rows);

    if (look != SL_LOOK_REQUEST && look != SL_LOOK_RESPONSE) {
        quote(q, sizeof(q), h.line, QUOTE_MAX);
        return sl_fail(err, SL_EFORMAT, "not a SIP/2.0 request or status line: %s", q);
    }
    if (h.has_nul)
        return sl_fail(err, SL_EFORMAT, "NUL byte in the header section (offset %zu)", h.nul_off);
    /* libosip2 takes any text as Content-Length when there is no body; a
     * length we cannot read frames nothing, and content_length -1 must mean
     * absent. */
    if (h.clen_seen && h.clen < 0) {
        quote(q, sizeof(q), h.clen_val, QUOTE_MAX);
        return sl_fail(err, SL_EFORMAT, "Content-Length %s is not a number (RFC 3261 20.14)", q);
    }
    if (look == SL_LOOK_RESPONSE && memcmp(h.line.p, "SIP/", 4) != 0) {
        /* RFC 3261 7.1: the version is case-insensitive; libosip2 wants "SIP/". */
        struct sl_rd r;

        copy = malloc(n);
        if (copy == NULL)
            return sl_fail(err, SL_ENOMEM, "out of memory copying a SIP message");
        memcpy(copy, p, n);
        for (i = 0; i < 3; i++)
            copy[h.line_off + i] = (uint8_t)fold_char((char)copy[h.line_off + i], FOLD_UPPER);
        src = copy;
        r = sl_rd_init(copy, n);
        (void)sl_rd_skip(&r, h.line_off);
        (void)sl_rd_sub(&r, h.line.n, &line);
    }

    arena.on = true; /* until arena_reset below */
    filling = m;     /* until the end too */
    if (osip_message_init(&sip) != OSIP_SUCCESS) {
        rc = SL_ENOMEM;
        goto out;
    }
    rc = osip_message_parse(sip, (const char *)src, n);
    if (rc == OSIP_NOMEM) {
        rc = SL_ENOMEM;
        goto out;
    }
    if (rc != OSIP_SUCCESS) {
        rc = refused(&h, line, look == SL_LOOK_REQUEST, n, err);
        goto out;
    }

    if (look == SL_LOOK_RESPONSE)
        rc = sip->sip_method == NULL
                     ? start_response(m, h.line, sip->status_code, err)
                     : sl_fail(err, SL_EFORMAT, "status line read as a request by libosip2");
    else
        rc = sip->sip_method != NULL
                     ? start_request(m, sip, err)
                     : sl_fail(err, SL_EFORMAT, "request line read as a response by libosip2");
    if (rc == SL_OK)
        rc = dialog_fields(m, sip);
    if (rc == SL_OK)
        rc = via_fields(m, sip);
    if (rc == SL_OK)
        via_hashes(m, sip);
    if (rc == SL_OK)
        rc = contact_fields(m, sip);
    if (rc == SL_OK)
        rc = other_headers(m, sip);
    if (rc == SL_OK)
        rc = body_fields(m, sip, &h);
    if (rc == SL_OK)
        m->n_headers = h.n_rows;
out:
    if (rc == SL_ENOMEM)
        (void)sl_fail(err, SL_ENOMEM, "out of memory parsing a SIP message");
    if (rc != SL_OK)
        sl_msg_fini(m);
    filling = NULL;
    /* With the arena, every block of sip is in it: arena_reset lets them go
     * at once, without osip_message_free's walk over every list (~3k
     * instructions a message). */
    if (!arena_installed)
        osip_message_free(sip);
    arena_reset();
    free(copy);
    return rc;
}

void sl_msg_fini(struct sl_msg *m)
{
    struct sl_msg_block *b, *next;

    if (m == NULL)
        return;
    for (b = m->strs; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    memset(m, 0, sizeof(*m));
}
