/*
 * limits.c: the caps of a session (siplint.h struct sl_limits), by name.
 * One table: the names, defaults and ranges that `--limit NAME=VALUE`,
 * `siplint --help` and the session use.  The session hands every stage its
 * value explicitly (sl_limit_get), so the stages' own defaults are not
 * consulted.
 */
#include "siplint.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"

#define KIB ((size_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

struct limit {
    struct sl_limit_info info;
    size_t off; /* offsetof the field in struct sl_limits */
    bool bytes; /* takes a k, M or G suffix */
};

#define FIELD(f) offsetof(struct sl_limits, f)

/* clang-format off */
static const struct limit limits[] = {
    { { "message-size", 65535, 1, GIB, "bytes",
        "largest SIP message parsed (= --max-message-size)" }, FIELD(message_size), true },
    { { "header-rows", 256, 1, 100000, "rows",
        "header rows of one SIP message (parse is quadratic)" }, FIELD(header_rows), false },
    { { "tcp-stream-bytes", MIB, 256, 16 * GIB, "bytes",
        "held per TCP stream direction; a message must fit" }, FIELD(tcp_stream_bytes), true },
    { { "tcp-total-bytes", 64 * MIB, 256, 64 * GIB, "bytes",
        "held by TCP reassembly in all" }, FIELD(tcp_total_bytes), true },
    { { "tcp-streams", 4096, 1, 1000000, "connections",
        "TCP connections in flight (the idlest given up)" }, FIELD(tcp_streams), false },
    { { "ip-datagrams", 256, 1, 65536, "datagrams",
        "IP datagrams in reassembly (the oldest dropped)" }, FIELD(ip_datagrams), false },
    { { "ip-fragments", 128, 1, 8192, "fragments",
        "fragments of one IP datagram" }, FIELD(ip_fragments), false },
    { { "transactions", 1000000, 1, 100000000, "transactions",
        "open SIP transactions" }, FIELD(transactions), false },
    { { "dialogs", 1000000, 1, 100000000, "dialogs",
        "open dialogs" }, FIELD(dialogs), false },
    { { "calls", 1000000, 1, 100000000, "calls",
        "open calls (an ended call lingers 300 s)" },
      FIELD(calls), false },
};
/* clang-format on */

#define N_LIMITS (sizeof(limits) / sizeof(limits[0]))

const struct sl_limit_info *sl_limit_info(size_t i)
{
    return i < N_LIMITS ? &limits[i].info : NULL;
}

static const struct limit *find(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < N_LIMITS; i++)
        if (strlen(limits[i].info.name) == len && strncmp(limits[i].info.name, name, len) == 0)
            return &limits[i];
    return NULL;
}

static size_t *field(struct sl_limits *l, const struct limit *lim)
{
    return (size_t *)(void *)((char *)l + lim->off);
}

size_t sl_limit_get(const struct sl_limits *l, const char *name)
{
    const struct limit *lim = find(name, strlen(name));
    size_t v;

    if (lim == NULL)
        return 0;
    v = l != NULL ? *(const size_t *)(const void *)((const char *)l + lim->off) : 0;
    return v != 0 ? v : lim->info.def;
}

int sl_limit_set(struct sl_limits *l, const char *name_value, struct sl_err *err)
{
    const char *eq = name_value != NULL ? strchr(name_value, '=') : NULL;
    const struct limit *lim;
    unsigned long long v, mult = 1;
    char *end;

    if (l == NULL || name_value == NULL)
        return sl_fail(err, SL_EUSAGE, "sl_limit_set: NULL argument");
    lim = eq != NULL ? find(name_value, (size_t)(eq - name_value)) : NULL;
    if (lim == NULL) {
        char names[400] = "";
        size_t i, n = 0;

        for (i = 0; i < N_LIMITS && n < sizeof(names); i++) {
            int k = snprintf(names + n, sizeof(names) - n, "%s%s", i > 0 ? ", " : "",
                             limits[i].info.name);

            if (k < 0)
                break;
            n += (size_t)k;
        }
        if (eq == NULL)
            return sl_fail(err, SL_EUSAGE, "bad --limit '%s' (NAME=VALUE; names: %s)", name_value,
                           names);
        return sl_fail(err, SL_EUSAGE, "unknown limit '%.*s' (names: %s)", (int)(eq - name_value),
                       name_value, names);
    }
    errno = 0;
    v = strtoull(eq + 1, &end, 10);
    if (lim->bytes && end != eq + 1 && end[0] != '\0' && end[1] == '\0') {
        if (end[0] == 'k' || end[0] == 'K')
            mult = KIB;
        else if (end[0] == 'M')
            mult = MIB;
        else if (end[0] == 'G')
            mult = GIB;
        if (mult != 1)
            end++;
    }
    if (errno != 0 || end == eq + 1 || *end != '\0' || eq[1] == '-' || eq[1] == '+' ||
        v > lim->info.max / mult || v * mult < lim->info.min)
        return sl_fail(err, SL_EUSAGE, "bad --limit %s value '%s' (%zu to %zu %s%s)",
                       lim->info.name, eq + 1, lim->info.min, lim->info.max, lim->info.unit,
                       lim->bytes ? "; k, M, G: powers of 1024" : "");
    *field(l, lim) = (size_t)(v * mult);
    return SL_OK;
}
