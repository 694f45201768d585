/*
 * rules.c: the rule catalog of a run.  The C findings of rules/catalog.def,
 * the SQL rules embedded at build time (rules/embed.sh), and the .sql files
 * of a --rules-dir.  A SQL rule's metadata is the header of its file
 * (rules/README.md):
 *
 *     -- id: SIP-DLG-003
 *     -- severity: error
 *     -- message: {responder} answered ... with
 *     --   {status} {reason}                  (continuation: "--" + 2 spaces)
 *     --                                      (a bare "--" ends the header)
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "base/str.h"
#include "engine/engine.h"

struct sl_embedded {
    const char *name;
    const unsigned char *text;
    size_t len;
};

#include "rules_embedded.h"

/* A rule file larger than this is refused (a rule is one query). */
#define SL_RULE_FILE_MAX (256 * 1024)

struct sl_ruleset {
    struct sl_rule_info *v;
    bool *enabled;
    bool *owned; /* strings of v[i] are malloc'd (SQL rules) */
    size_t n, cap;
    char *prelude;
};

/* clang-format off */
static const struct sl_rule_info catalog[] = {
#define SL_RULE(id, sev, title, rfc, impact) \
    { id, sev, title, rfc, impact, "high", NULL, NULL, NULL, "built-in" },
#include "rules/catalog.def"
#undef SL_RULE
};
/* clang-format on */

/* free() of a string the catalog holds as const. */
static char *unconst(const char *p)
{
    union {
        const char *c;
        char *m;
    } u;

    u.c = p;
    return u.m;
}

static void free_info(struct sl_rule_info *r)
{
    free(unconst(r->id));
    free(unconst(r->title));
    free(unconst(r->rfc));
    free(unconst(r->impact));
    free(unconst(r->confidence));
    free(unconst(r->message));
    free(unconst(r->inconclusive));
    free(unconst(r->sql));
    free(unconst(r->origin));
}

/* Appends (or replaces the rule with the same ID). */
static int add_rule(struct sl_ruleset *rs, const struct sl_rule_info *r, bool owned)
{
    size_t i;

    for (i = 0; i < rs->n; i++) {
        if (strcmp(rs->v[i].id, r->id) == 0) {
            if (rs->owned[i])
                free_info(&rs->v[i]);
            rs->v[i] = *r;
            rs->owned[i] = owned;
            return SL_OK;
        }
    }
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 64;
        struct sl_rule_info *v = realloc(rs->v, cap * sizeof(*v));
        bool *e, *o;

        if (v == NULL)
            return SL_ENOMEM;
        rs->v = v;
        if ((e = realloc(rs->enabled, cap * sizeof(*e))) == NULL)
            return SL_ENOMEM;
        rs->enabled = e;
        if ((o = realloc(rs->owned, cap * sizeof(*o))) == NULL)
            return SL_ENOMEM;
        rs->owned = o;
        rs->cap = cap;
    }
    rs->v[rs->n] = *r;
    rs->enabled[rs->n] = true;
    rs->owned[rs->n] = owned;
    rs->n++;
    return SL_OK;
}

static bool is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || c == '_';
}

/* Sets *slot to value (appending with a space when append). */
static int set_value(const char **slot, const char *v, size_t n, bool append)
{
    char *s;

    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
        n--;
    if (append && *slot != NULL) {
        size_t old = strlen(*slot);

        s = realloc(unconst(*slot), old + 1 + n + 1);
        if (s == NULL)
            return SL_ENOMEM;
        s[old] = ' ';
        memcpy(s + old + 1, v, n);
        s[old + 1 + n] = '\0';
    } else {
        free(unconst(*slot));
        if ((s = sl_strndup(v, n)) == NULL)
            return SL_ENOMEM;
    }
    *slot = s;
    return SL_OK;
}

static const char **key_slot(struct sl_rule_info *r, const char **sev, const char *k, size_t n)
{
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
        { "id", offsetof(struct sl_rule_info, id) },
        { "title", offsetof(struct sl_rule_info, title) },
        { "rfc", offsetof(struct sl_rule_info, rfc) },
        { "impact", offsetof(struct sl_rule_info, impact) },
        { "confidence", offsetof(struct sl_rule_info, confidence) },
        { "message", offsetof(struct sl_rule_info, message) },
        { "inconclusive", offsetof(struct sl_rule_info, inconclusive) },
    };
    size_t i;

    if (n == 8 && memcmp(k, "severity", 8) == 0)
        return sev;
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strlen(keys[i].name) == n && memcmp(keys[i].name, k, n) == 0)
            return (const char **)(void *)((char *)r + keys[i].off);
    }
    return NULL;
}

/* Parses the header of a rule file named name (for messages), origin
 * "built-in" or its path.  On success *r owns its strings. */
static int parse_rule(const char *name, const char *origin, const char *text, size_t len,
                      struct sl_rule_info *r, struct sl_err *err)
{
    const char *p = text, *end = text + len;
    const char **last = NULL, *sev = NULL;
    char stem[64];
    int line = 0, rc;
    size_t nl;

    memset(r, 0, sizeof(*r));
    if (memchr(text, '\0', len) != NULL) {
        rc = sl_fail(err, SL_EUSAGE, "%s: not a text file", origin);
        goto fail;
    }
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *q, *k;
        size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);

        line++;
        if (n < 2 || p[0] != '-' || p[1] != '-')
            break;
        q = p + 2;
        if ((size_t)(q - p) == n || (n == 3 && p[2] == '\r'))
            break; /* a bare "--" ends the header */
        if (q[0] == ' ' && q + 1 < p + n && q[1] == ' ' && last != NULL) {
            while (q < p + n && *q == ' ')
                q++;
            if ((rc = set_value(last, q, (size_t)(p + n - q), true)) != SL_OK)
                goto nomem;
        } else {
            const char **slot;

            while (q < p + n && *q == ' ')
                q++;
            k = q;
            while (q < p + n && is_key_char(*q))
                q++;
            if (q == k || q >= p + n || *q != ':') {
                rc = sl_fail(err, SL_EUSAGE,
                             "%s:%d: header line is not '-- key: value' (rules/README.md)", origin,
                             line);
                goto fail;
            }
            slot = key_slot(r, &sev, k, (size_t)(q - k));
            if (slot == NULL) {
                rc = sl_fail(err, SL_EUSAGE, "%s:%d: unknown header key '%.*s'", origin, line,
                             (int)(q - k), k);
                goto fail;
            }
            q++;
            while (q < p + n && *q == ' ')
                q++;
            if ((rc = set_value(slot, q, (size_t)(p + n - q), false)) != SL_OK)
                goto nomem;
            last = slot;
        }
        p = eol ? eol + 1 : end;
    }
    if (r->id == NULL || sev == NULL || r->title == NULL || r->rfc == NULL || r->impact == NULL ||
        r->message == NULL) {
        rc = sl_fail(err, SL_EUSAGE,
                     "%s: the header needs id, severity, title, rfc, impact and message "
                     "(rules/README.md)",
                     origin);
        goto fail;
    }
    nl = strlen(name);
    snprintf(stem, sizeof(stem), "%.*s", (int)(nl > 4 ? nl - 4 : nl), name);
    if (strcmp(stem, r->id) != 0) {
        rc = sl_fail(err, SL_EUSAGE, "%s: id '%s' does not match the file name", origin, r->id);
        goto fail;
    }
    if (strcmp(sev, "error") == 0)
        r->severity = SL_SEV_ERROR;
    else if (strcmp(sev, "warning") == 0)
        r->severity = SL_SEV_WARNING;
    else if (strcmp(sev, "info") == 0)
        r->severity = SL_SEV_INFO;
    else {
        rc = sl_fail(err, SL_EUSAGE, "%s: severity '%s' (error, warning or info)", origin, sev);
        goto fail;
    }
    free(unconst(sev));
    sev = NULL;
    if (r->confidence == NULL) {
        if ((r->confidence = sl_strndup("high", 4)) == NULL)
            goto nomem;
    } else if (strcmp(r->confidence, "high") != 0 && strcmp(r->confidence, "medium") != 0 &&
               strcmp(r->confidence, "low") != 0) {
        rc = sl_fail(err, SL_EUSAGE, "%s: confidence '%s' (high, medium or low)", origin,
                     r->confidence);
        goto fail;
    }
    if ((r->sql = sl_strndup(text, len)) == NULL ||
        (r->origin = sl_strndup(origin, strlen(origin))) == NULL)
        goto nomem;
    return SL_OK;
nomem:
    rc = sl_fail(err, SL_ENOMEM, "out of memory");
fail:
    free(unconst(sev));
    free_info(r);
    memset(r, 0, sizeof(*r));
    return rc;
}

static bool is_rule_file(const char *name)
{
    size_t n = strlen(name);

    return n > 8 && strncmp(name, "SIP-", 4) == 0 && strcmp(name + n - 4, ".sql") == 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads path whole (at most SL_RULE_FILE_MAX bytes) into *buf. */
static int read_file(const char *path, char **buf, size_t *len, struct sl_err *err)
{
    FILE *fp = fopen(path, "rb");
    size_t n;
    char *b;

    if (fp == NULL)
        return sl_fail(err, SL_EIO, "%s: %s", path, strerror(errno));
    b = malloc(SL_RULE_FILE_MAX + 1);
    if (b == NULL) {
        fclose(fp);
        return sl_fail(err, SL_ENOMEM, "out of memory");
    }
    n = fread(b, 1, SL_RULE_FILE_MAX + 1, fp);
    if (ferror(fp)) {
        fclose(fp);
        free(b);
        return sl_fail(err, SL_EIO, "%s: read error", path);
    }
    fclose(fp);
    if (n > SL_RULE_FILE_MAX) {
        free(b);
        return sl_fail(err, SL_EUSAGE, "%s: larger than %d bytes", path, SL_RULE_FILE_MAX);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return SL_OK;
}

static int load_dir(struct sl_ruleset *rs, const char *dir, struct sl_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int rc = SL_OK;

    if (d == NULL)
        return sl_fail(err, SL_EUSAGE, "--rules-dir %s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        if (!is_rule_file(e->d_name))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **v = realloc(names, ncap * sizeof(*v));

            if (v == NULL) {
                rc = sl_fail(err, SL_ENOMEM, "out of memory");
                goto out;
            }
            names = v;
            cap = ncap;
        }
        if ((names[n] = sl_strndup(e->d_name, strlen(e->d_name))) == NULL) {
            rc = sl_fail(err, SL_ENOMEM, "out of memory");
            goto out;
        }
        n++;
    }
    if (n > 1)
        qsort(names, n, sizeof(names[0]), cmp_name);
    for (i = 0; i < n && rc == SL_OK; i++) {
        size_t plen = strlen(dir) + strlen(names[i]) + 2, len = 0;
        char *path = malloc(plen), *text = NULL;
        struct sl_rule_info r;

        if (path == NULL) {
            rc = sl_fail(err, SL_ENOMEM, "out of memory");
            break;
        }
        snprintf(path, plen, "%s/%s", dir, names[i]);
        rc = read_file(path, &text, &len, err);
        if (rc == SL_OK)
            rc = parse_rule(names[i], path, text, len, &r, err);
        if (rc == SL_OK && add_rule(rs, &r, true) != SL_OK) {
            free_info(&r);
            rc = sl_fail(err, SL_ENOMEM, "out of memory");
        }
        free(text);
        free(path);
    }
out:
    closedir(d);
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int sl_ruleset_load(struct sl_ruleset **out, const char *rules_dir, struct sl_err *err)
{
    struct sl_ruleset *rs = calloc(1, sizeof(*rs));
    size_t i;
    int rc;

    *out = NULL;
    if (rs == NULL)
        return sl_fail(err, SL_ENOMEM, "out of memory");
    for (i = 0; i < sizeof(catalog) / sizeof(catalog[0]); i++) {
        if (add_rule(rs, &catalog[i], false) != SL_OK) {
            rc = sl_fail(err, SL_ENOMEM, "out of memory");
            goto fail;
        }
    }
    for (i = 0; i < sizeof(sl_embedded_files) / sizeof(sl_embedded_files[0]); i++) {
        const struct sl_embedded *e = &sl_embedded_files[i];
        struct sl_rule_info r;
        char origin[96];

        if (strcmp(e->name, "prelude.sql") == 0) {
            if ((rs->prelude = sl_strndup((const char *)e->text, e->len)) == NULL) {
                rc = sl_fail(err, SL_ENOMEM, "out of memory");
                goto fail;
            }
            continue;
        }
        snprintf(origin, sizeof(origin), "rules/%s", e->name);
        if ((rc = parse_rule(e->name, origin, (const char *)e->text, e->len, &r, err)) != SL_OK) {
            if (rc == SL_EUSAGE)
                rc = SL_EINTERNAL; /* a built-in rule is broken: our bug */
            goto fail;
        }
        free(unconst(r.origin));
        if ((r.origin = sl_strndup("built-in", 8)) == NULL || add_rule(rs, &r, true) != SL_OK) {
            free_info(&r);
            rc = sl_fail(err, SL_ENOMEM, "out of memory");
            goto fail;
        }
    }
    if (rules_dir != NULL && (rc = load_dir(rs, rules_dir, err)) != SL_OK)
        goto fail;
    *out = rs;
    return SL_OK;
fail:
    sl_ruleset_free(rs);
    return rc;
}

/* Whether item (an ID, a prefix such as "SIP-ST" or "SIP-ST-*") names id. */
static bool item_matches(const char *item, size_t n, const char *id)
{
    if (n > 0 && item[n - 1] == '*')
        n--;
    if (n > 0 && item[n - 1] == '-')
        n--;
    if (n == 0 || strncmp(item, id, n) != 0)
        return false;
    return id[n] == '\0' || id[n] == '-';
}

/* Applies one list: sets enabled[i] = value for every rule an item matches. */
static int apply_list(struct sl_ruleset *rs, const char *list, bool value, const char *opt,
                      struct sl_err *err)
{
    const char *p = list;

    while (*p != '\0') {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p), i;
        bool any = false;

        while (n > 0 && *p == ' ') {
            p++;
            n--;
        }
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n > 0) {
            for (i = 0; i < rs->n; i++) {
                if (item_matches(p, n, rs->v[i].id)) {
                    rs->enabled[i] = value;
                    any = true;
                }
            }
            if (!any)
                return sl_fail(err, SL_EUSAGE,
                               "%s: no rule matches '%.*s' (siplint rules lists them)", opt, (int)n,
                               p);
        }
        if (e == NULL)
            break;
        p = e + 1;
    }
    return SL_OK;
}

int sl_ruleset_select(struct sl_ruleset *rs, const char *enable, const char *disable,
                      struct sl_err *err)
{
    size_t i;
    int rc;

    for (i = 0; i < rs->n; i++)
        rs->enabled[i] = enable == NULL;
    if (enable != NULL && (rc = apply_list(rs, enable, true, "--enable", err)) != SL_OK)
        return rc;
    if (disable != NULL && (rc = apply_list(rs, disable, false, "--disable", err)) != SL_OK)
        return rc;
    return SL_OK;
}

size_t sl_ruleset_count(const struct sl_ruleset *rs)
{
    return rs->n;
}

const struct sl_rule_info *sl_ruleset_at(const struct sl_ruleset *rs, size_t i)
{
    return i < rs->n ? &rs->v[i] : NULL;
}

bool sl_ruleset_enabled(const struct sl_ruleset *rs, size_t i)
{
    return i < rs->n && rs->enabled[i];
}

const struct sl_rule_info *sl_ruleset_find(const struct sl_ruleset *rs, const char *id)
{
    size_t i;

    for (i = 0; i < rs->n; i++) {
        if (strcmp(rs->v[i].id, id) == 0)
            return &rs->v[i];
    }
    return NULL;
}

const char *sl_ruleset_prelude(const struct sl_ruleset *rs)
{
    return rs->prelude ? rs->prelude : "";
}

void sl_ruleset_free(struct sl_ruleset *rs)
{
    size_t i;

    if (rs == NULL)
        return;
    for (i = 0; i < rs->n; i++) {
        if (rs->owned[i])
            free_info(&rs->v[i]);
    }
    free(rs->v);
    free(rs->enabled);
    free(rs->owned);
    free(rs->prelude);
    free(rs);
}
