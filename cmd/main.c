/*
 * main.c: the siplint program.  Parses the command line, drives the library
 * through the public API only, writes the report and maps the outcome to the
 * exit code:
 *   0 ran, nothing at or above --fail-on     1 ran, findings at or above it
 *   2 usage error                            3 an input is unusable
 *   4 internal or I/O error
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "siplint.h"

enum {
    EXIT_CLEAN = 0,
    EXIT_FINDINGS = 1,
    EXIT_USAGE = 2,
    EXIT_INPUT = 3,
    EXIT_INTERNAL = 4
};

static const char usage_text[] =
        "usage: siplint COMMAND [OPTIONS] CAPTURE...\n"
        "\n"
        "Reads SIP captures (pcap, pcapng; \"-\" for standard input), rebuilds the SIP\n"
        "messages, stores them in SQLite and reports the problems it finds.\n"
        "\n"
        "commands:\n"
        "  check  [options] CAPTURE...      read the captures and print the report\n"
        "  ingest --db FILE CAPTURE...      only build the database FILE\n"
        "  report --db FILE                 run the rules on a database built before\n"
        "  calls  CAPTURE... | --db FILE    one line per call: start, from -> to, outcome,\n"
        "                                   duration, who hung up, Reason, findings\n"
        "  flow   [--call-id ID] CAPTURE... | --db FILE\n"
        "                                   the ladder diagram of one call (default: all)\n"
        "  rules                            the rule catalog: ID, severity, title, RFC\n"
        "\n"
        "options:\n"
        "  -f, --format text|json|ndjson    report format (default: text on a terminal,\n"
        "                                   json otherwise)\n"
        "  -o, --output FILE                write the report to FILE (whole or not at all)\n"
        "      --db FILE                    keep the SQLite database in FILE; with no\n"
        "                                   CAPTURE, read that database (calls, flow)\n"
        "      --call-id ID                 flow: the call to draw\n"
        "      --all                        calls: also non-INVITE transactions (REGISTER,\n"
        "                                   OPTIONS, SUBSCRIBE, ...)\n"
        "      --t1 MS                      SIP timer T1 (default 500); timing rules say\n"
        "                                   which T1 they assumed\n"
        "      --enable ID,...              run only these rules (IDs or prefixes such as\n"
        "                                   SIP-ST)\n"
        "      --disable ID,...             do not run these rules\n"
        "      --rules-dir DIR              also run DIR/SIP-*.sql (rules/README.md); a\n"
        "                                   file with a built-in ID replaces that rule\n"
        "      --rule-timeout SECONDS       stop a --rules-dir rule that runs longer\n"
        "                                   (default 60); the other rules still run\n"
        "      --timing                     print on standard error the wall time of each\n"
        "                                   stage (reading, indexes) and of each SQL rule\n"
        "                                   with its row count, slowest first\n"
        "      --fail-on never|info|warning|error\n"
        "                                   exit 1 when a finding reaches this severity\n"
        "                                   (default: error)\n"
        "      --limit NAME=VALUE           a cap on what the input may make siplint hold or\n"
        "                                   spend (repeatable; the caps are listed below);\n"
        "                                   reaching one is a SIP-CAP-006 finding\n"
        "      --max-message-size BYTES     the same as --limit message-size=BYTES\n"
        "      --threads N                  threads that parse SIP (default: one per\n"
        "                                   core); the report never depends on it\n"
        "  -q, --quiet                      no diagnostics except errors\n"
        "  -h, --help                       this text\n"
        "  -V, --version                    the version\n"
        "\n"
        "exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error,\n"
        "            3 unusable input, 4 internal or I/O error\n";

/* The caps, from the library's table. */
static void print_limits(void)
{
    const struct sl_limit_info *li;
    size_t i;

    fputs("\nlimits (--limit NAME=VALUE; byte values may end in k, M or G):\n"
          "  NAME              DEFAULT\n",
          stdout);
    for (i = 0; (li = sl_limit_info(i)) != NULL; i++) {
        char def[32];

        if (strcmp(li->unit, "bytes") == 0 && li->def % (1024 * 1024) == 0)
            snprintf(def, sizeof(def), "%zuM", li->def / (1024 * 1024));
        else
            snprintf(def, sizeof(def), "%zu", li->def);
        printf("  %-17s %-8s %s\n", li->name, def, li->what);
    }
}

struct opts {
    const char *command;
    int format; /* -1: default */
    const char *output;
    const char *db;
    enum sl_severity fail_on;
    struct sl_limits limits;
    long long t1_us;
    int threads;
    const char *call_id;
    const char *enable, *disable, *rules_dir;
    long long rule_timeout_ms;
    int timing;
    int all;
    int quiet;
    char **inputs;
    int n_inputs;
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "siplint: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'siplint --help'.\n");
    return EXIT_USAGE;
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v == 0 || v > (1ull << 30))
        return -1;
    *out = (size_t)v;
    return 0;
}

/* A number shortened for the progress line: 950, 12.3k, 4.56M. */
static void short_num(char *buf, size_t len, double v)
{
    if (v >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, len, "%.1fk", v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
}

/* The progress line on stderr (a terminal): rewritten in place, cleared by
 * progress_clear when the input is read. */
static void progress_line(void *ctx, const struct sl_progress *p)
{
    char fr[32], msg[32], rate[32], pct[32] = "";
    const char *name = strrchr(p->path, '/');

    (void)ctx;
    short_num(fr, sizeof(fr), (double)p->frames);
    short_num(msg, sizeof(msg), (double)p->messages);
    short_num(rate, sizeof(rate), p->seconds > 0 ? (double)p->messages / p->seconds : 0);
    if (p->bytes_total > 0)
        snprintf(pct, sizeof(pct), ", %.0f%%",
                 100.0 * (double)p->bytes_done / (double)p->bytes_total);
    fprintf(stderr, "\rsiplint: %.40s: %s frames, %s messages, %s msg/s%s\033[K",
            name != NULL ? name + 1 : p->path, fr, msg, rate, pct);
    fflush(stderr);
}

static void progress_clear(const struct sl_session_opts *so)
{
    if (so->progress != NULL) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    enum {
        OPT_DB = 256,
        OPT_FAIL_ON,
        OPT_MAX_MSG,
        OPT_T1,
        OPT_CALL_ID,
        OPT_ALL,
        OPT_ENABLE,
        OPT_DISABLE,
        OPT_RULES_DIR,
        OPT_THREADS,
        OPT_LIMIT,
        OPT_RULE_TIMEOUT,
        OPT_TIMING
    };
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "db", required_argument, NULL, OPT_DB },
        { "fail-on", required_argument, NULL, OPT_FAIL_ON },
        { "max-message-size", required_argument, NULL, OPT_MAX_MSG },
        { "t1", required_argument, NULL, OPT_T1 },
        { "call-id", required_argument, NULL, OPT_CALL_ID },
        { "all", no_argument, NULL, OPT_ALL },
        { "enable", required_argument, NULL, OPT_ENABLE },
        { "disable", required_argument, NULL, OPT_DISABLE },
        { "rules-dir", required_argument, NULL, OPT_RULES_DIR },
        { "threads", required_argument, NULL, OPT_THREADS },
        { "limit", required_argument, NULL, OPT_LIMIT },
        { "rule-timeout", required_argument, NULL, OPT_RULE_TIMEOUT },
        { "timing", no_argument, NULL, OPT_TIMING },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->format = -1;
    o->fail_on = SL_SEV_ERROR;
    if (argc >= 2 && argv[1][0] != '-') {
        o->command = argv[1];
        argv++;
        argc--;
    }
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":f:o:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") == 0)
                o->format = SL_FORMAT_JSON;
            else if (strcmp(optarg, "ndjson") == 0)
                o->format = SL_FORMAT_NDJSON;
            else if (strcmp(optarg, "text") == 0)
                o->format = SL_FORMAT_TEXT;
            else
                return usage_error("unknown format '%s' (text, json or ndjson)", optarg);
            break;
        case 'o':
            o->output = optarg;
            break;
        case OPT_DB:
            o->db = optarg;
            break;
        case OPT_FAIL_ON:
            if (strcmp(optarg, "never") == 0)
                o->fail_on = SL_SEV_NEVER;
            else if (strcmp(optarg, "info") == 0)
                o->fail_on = SL_SEV_INFO;
            else if (strcmp(optarg, "warning") == 0)
                o->fail_on = SL_SEV_WARNING;
            else if (strcmp(optarg, "error") == 0)
                o->fail_on = SL_SEV_ERROR;
            else
                return usage_error("unknown --fail-on value '%s' (never, info, warning, error)",
                                   optarg);
            break;
        case OPT_MAX_MSG: {
            size_t v;

            if (parse_size(optarg, &v) != 0)
                return usage_error("bad --max-message-size '%s' (1 to 1073741824 bytes)", optarg);
            o->limits.message_size = v;
            break;
        }
        case OPT_LIMIT: {
            struct sl_err err;

            if (sl_limit_set(&o->limits, optarg, &err) != SL_OK)
                return usage_error("%s", err.msg);
            break;
        }
        case OPT_T1: {
            size_t ms;

            if (parse_size(optarg, &ms) != 0 || ms > 60000)
                return usage_error("bad --t1 '%s' (1 to 60000 milliseconds)", optarg);
            o->t1_us = (long long)ms * 1000;
            break;
        }
        case OPT_THREADS: {
            size_t n;

            if (parse_size(optarg, &n) != 0 || n > 64)
                return usage_error("bad --threads '%s' (1 to 64)", optarg);
            o->threads = (int)n;
            break;
        }
        case OPT_CALL_ID:
            o->call_id = optarg;
            break;
        case OPT_ALL:
            o->all = 1;
            break;
        case OPT_ENABLE:
            o->enable = optarg;
            break;
        case OPT_DISABLE:
            o->disable = optarg;
            break;
        case OPT_RULES_DIR:
            o->rules_dir = optarg;
            break;
        case OPT_RULE_TIMEOUT: {
            size_t sec;

            if (parse_size(optarg, &sec) != 0 || sec > 86400)
                return usage_error("bad --rule-timeout '%s' (1 to 86400 seconds)", optarg);
            o->rule_timeout_ms = (long long)sec * 1000;
            break;
        }
        case OPT_TIMING:
            o->timing = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            print_limits();
            return EXIT_CLEAN;
        case 'V':
            printf("siplint %s\n", SL_VERSION);
            return EXIT_CLEAN;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    o->inputs = argv + optind;
    o->n_inputs = argc - optind;
    if (o->command == NULL)
        return usage_error("%s", "no command given (check, ingest, report, calls, flow or rules)");
    if (strcmp(o->command, "check") != 0 && strcmp(o->command, "ingest") != 0 &&
        strcmp(o->command, "calls") != 0 && strcmp(o->command, "flow") != 0 &&
        strcmp(o->command, "report") != 0 && strcmp(o->command, "rules") != 0)
        return usage_error("unknown command '%s' (check, ingest, report, calls, flow or rules)",
                           o->command);
    if (strcmp(o->command, "ingest") == 0 && o->db == NULL)
        return usage_error("%s", "ingest needs --db FILE");
    if (strcmp(o->command, "rules") == 0) {
        if (o->n_inputs > 0)
            return usage_error("%s", "rules takes no capture");
        return -1;
    }
    if (strcmp(o->command, "report") == 0) {
        if (o->db == NULL || o->n_inputs > 0)
            return usage_error("%s", "report reads a database: siplint report --db FILE");
        return -1;
    }
    if (o->n_inputs == 0 &&
        (o->db == NULL || strcmp(o->command, "check") == 0 || strcmp(o->command, "ingest") == 0))
        return usage_error("%s", "no capture given");
    return -1;
}

/* Writes buf to path through a temporary file and rename(): whole or not at all. */
/* Writes buf to something that is not a regular file (/dev/null, a FIFO, a
 * terminal): straight to it.  Renaming a file over it would replace the
 * device itself (as root, /dev/null becomes a regular file). */
static int write_direct(const char *path, const char *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    int ok;

    if (fp == NULL) {
        fprintf(stderr, "siplint: %s: %s\n", path, strerror(errno));
        return -1;
    }
    ok = fwrite(buf, 1, len, fp) == len;
    ok = (fclose(fp) == 0) && ok;
    if (!ok) {
        fprintf(stderr, "siplint: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Writes the report whole or not at all: a temporary file beside the target,
 * renamed over it.  A symbolic link is followed (the file it names is
 * replaced, not the link); a target that is not a regular file is written
 * directly. */
static int write_atomic(const char *path, const char *buf, size_t len)
{
    struct stat st;
    char *real = NULL, *tmp;
    size_t n;
    FILE *fp;
    int ok;

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return write_direct(path, buf, len);
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && (real = realpath(path, NULL)) != NULL)
        path = real;
    n = strlen(path);
    tmp = malloc(n + 32);
    if (tmp == NULL) {
        free(real);
        return -1;
    }
    snprintf(tmp, n + 32, "%s.tmp.%ld", path, (long)getpid());
    fp = fopen(tmp, "wb");
    if (fp == NULL) {
        fprintf(stderr, "siplint: %s: %s\n", path, strerror(errno));
        free(tmp);
        free(real);
        return -1;
    }
    ok = fwrite(buf, 1, len, fp) == len;
    ok = (fflush(fp) == 0) && ok;
    ok = (fsync(fileno(fp)) == 0) && ok;
    ok = (fclose(fp) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "siplint: %s: %s\n", path, strerror(errno));
        (void)unlink(tmp);
        free(tmp);
        free(real);
        return -1;
    }
    free(tmp);
    free(real);
    return 0;
}

/* Writes the report (or rule list) to -o FILE or stdout; 0 or an exit code. */
static int emit(const struct opts *o, const char *buf, size_t len)
{
    if (o->output != NULL)
        return write_atomic(o->output, buf, len) == 0 ? 0 : EXIT_INTERNAL;
    if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
        fprintf(stderr, "siplint: writing the report: %s\n", strerror(errno));
        return EXIT_INTERNAL;
    }
    return 0;
}

static enum sl_format default_format(const struct opts *o)
{
    if (o->format >= 0)
        return (enum sl_format)o->format;
    return (o->output == NULL && isatty(STDOUT_FILENO)) ? SL_FORMAT_TEXT : SL_FORMAT_JSON;
}

/* siplint rules: the catalog. */
static int list_rules(const struct opts *o, const struct sl_session_opts *so)
{
    struct sl_report_opts ro;
    struct sl_err err;
    char *buf = NULL;
    size_t len = 0;
    int rc;

    memset(&ro, 0, sizeof(ro));
    ro.format = default_format(o);
    if ((rc = sl_rules_list(so, &ro, &buf, &len, &err)) != SL_OK) {
        fprintf(stderr, "siplint: %s\n", err.msg);
        return rc == SL_EUSAGE ? EXIT_USAGE : EXIT_INTERNAL;
    }
    rc = emit(o, buf, len);
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sl_session_opts so;
    struct sl_session *s = NULL;
    struct sl_report_opts ro;
    struct sl_err err;
    char *report = NULL;
    size_t report_len = 0;
    int rc, i, bad_input = 0, code = EXIT_CLEAN;
    long n;

    rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    memset(&so, 0, sizeof(so));
    so.rules_dir = o.rules_dir;
    so.enable = o.enable;
    so.disable = o.disable;
    so.timing = o.timing;
    so.rule_limit_ms = (long)o.rule_timeout_ms;
    so.db_path = o.db;
    so.keep_existing = o.n_inputs == 0; /* calls/flow --db FILE: read it */
    so.limits = o.limits;
    so.t1_us = o.t1_us;
    so.threads = o.threads;
    /* a progress line only for a person watching: stderr a terminal */
    if (!o.quiet && isatty(STDERR_FILENO))
        so.progress = progress_line;
    if (strcmp(o.command, "rules") == 0)
        return list_rules(&o, &so);
    if ((rc = sl_session_open(&s, &so, &err)) != SL_OK) {
        fprintf(stderr, "siplint: %s\n", err.msg);
        return rc == SL_EINPUT ? EXIT_INPUT : rc == SL_EUSAGE ? EXIT_USAGE : EXIT_INTERNAL;
    }
    for (i = 0; i < o.n_inputs; i++) {
        rc = sl_session_ingest(s, o.inputs[i], &err);
        progress_clear(&so);
        if (rc == SL_EINPUT) {
            fprintf(stderr, "siplint: %s: %s\n", o.inputs[i], err.msg);
            bad_input = 1;
            continue;
        }
        if (rc != SL_OK) {
            fprintf(stderr, "siplint: %s: %s\n", o.inputs[i], err.msg);
            code = EXIT_INTERNAL;
            goto out;
        }
        if (err.msg[0] != '\0' && !o.quiet) /* read in part: the report says the same */
            fprintf(stderr, "siplint: %s: warning: %s\n", o.inputs[i], err.msg);
    }
    if (bad_input) {
        code = EXIT_INPUT;
        goto out;
    }
    if (sl_session_finish(s, &err) != SL_OK) {
        fprintf(stderr, "siplint: %s\n", err.msg);
        code = EXIT_INTERNAL;
        goto out;
    }
    if (strcmp(o.command, "ingest") == 0) {
        if (!o.quiet)
            fprintf(stderr, "siplint: wrote %s\n", o.db);
        goto out;
    }
    memset(&ro, 0, sizeof(ro));
    if (o.format >= 0)
        ro.format = (enum sl_format)o.format;
    else if (strcmp(o.command, "flow") == 0)
        ro.format = SL_FORMAT_TEXT;
    else
        ro.format = default_format(&o);
    ro.color = ro.format == SL_FORMAT_TEXT && o.output == NULL && isatty(STDOUT_FILENO) &&
               getenv("NO_COLOR") == NULL;
    if (strcmp(o.command, "calls") == 0)
        rc = sl_session_calls(s, &ro, o.all, &report, &report_len, &err);
    else if (strcmp(o.command, "flow") == 0)
        rc = sl_session_flow(s, o.call_id, &ro, &report, &report_len, &err);
    else
        rc = sl_session_report(s, &ro, &report, &report_len, &err);
    if (rc != SL_OK) {
        fprintf(stderr, "siplint: %s\n", err.msg);
        code = rc == SL_EUSAGE ? EXIT_USAGE : EXIT_INTERNAL;
        goto out;
    }
    if ((code = emit(&o, report, report_len)) != 0)
        goto out;
    if ((strcmp(o.command, "check") == 0 || strcmp(o.command, "report") == 0) &&
        o.fail_on != SL_SEV_NEVER) {
        n = sl_session_count_findings(s, o.fail_on, &err);
        if (n < 0) {
            fprintf(stderr, "siplint: %s\n", err.msg);
            code = EXIT_INTERNAL;
            goto out;
        }
        if (n > 0)
            code = EXIT_FINDINGS;
    }
out:
    free(report);
    sl_session_close(s);
    return code;
}
