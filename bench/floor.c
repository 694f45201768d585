/*
 * bench/floor: how fast one stage alone can go on this machine.
 *
 * It loads every UDP payload of a capture into memory (through siplint's
 * capture stage, untimed), then times one stage over all of them, and
 * nothing else: no file reading, no transactions, no rules.  The parse modes
 * split the payloads over T threads (an equal share each, in order).
 *
 *   osip   libosip2 alone: osip_message_init, osip_message_parse,
 *          osip_message_free, with the C library's allocator;
 *   parse  siplint's parse stage, sl_msg_parse: libosip2 through siplint's
 *          per-thread arena, and the extraction of the fields siplint stores;
 *   store  the messages parsed first (untimed, kept in memory), then stored
 *          alone through siplint's store into a private database, as `check`
 *          stores them (sl_db_add_message: one row each, no transactions), and
 *          the database finished (its indexes built): one writer, -t ignored.
 *
 * `parse` and `store` are two stages every `siplint check` runs on every
 * message, since issue 7 keeps libosip2 the parser of every message and
 * SQLite the store: what they cost together is the least any check can
 * cost, before its transactions, dialogs, rules and report.  bench/run.sh
 * prints them under its table.
 *
 * build/bench/floor [-t THREADS] [-m osip|parse|store] [-r RUNS] capture.pcap
 * Output, one line per run: mode threads messages seconds messages/s CPU-seconds.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <osipparser2/osip_parser.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "sip/msg.h"
#include "store/db.h"

#define MAX_THREADS 64
#define MAX_MSGS    20000000u /* more than bench-10m's 10M */

struct payloads {
    uint8_t *bytes; /* all payloads, one after another */
    size_t *off;    /* payload i is bytes[off[i] .. off[i + 1]) */
    size_t n, cap, len, bytes_cap;
    struct sl_endpoint *src, *dst; /* of payload i */
    int64_t *ts_us;
    size_t src_cap, dst_cap, ts_cap;
};

enum mode {
    M_OSIP,
    M_PARSE,
    M_STORE
};
static const char *const mode_name[] = { "osip", "parse", "store" };

struct share {
    const struct payloads *pl;
    size_t from, to;
    enum mode mode; /* M_OSIP or M_PARSE */
    size_t failed;
};

static void die(const char *what)
{
    fprintf(stderr, "floor: %s\n", what);
    exit(1);
}

static void *grow(void *p, size_t *cap, size_t elem, size_t need)
{
    size_t c = *cap ? *cap : 1024;

    while (c < need)
        c *= 2;
    if (c == *cap)
        return p;
    p = realloc(p, c * elem);
    if (p == NULL)
        die("out of memory");
    *cap = c;
    return p;
}

/* Adds a UDP payload with where it was seen. */
static void add_payload(struct payloads *pl, const struct sl_frame *f)
{
    if (pl->n + 2 > MAX_MSGS)
        die("too many messages");
    pl->src = grow(pl->src, &pl->src_cap, sizeof(*pl->src), pl->n + 1);
    pl->dst = grow(pl->dst, &pl->dst_cap, sizeof(*pl->dst), pl->n + 1);
    pl->ts_us = grow(pl->ts_us, &pl->ts_cap, sizeof(*pl->ts_us), pl->n + 1);
    pl->off = grow(pl->off, &pl->cap, sizeof(*pl->off), pl->n + 2);
    pl->bytes = grow(pl->bytes, &pl->bytes_cap, 1, pl->len + f->payload_len);
    pl->src[pl->n] = f->src;
    pl->dst[pl->n] = f->dst;
    pl->ts_us[pl->n] = f->ts_us;
    memcpy(pl->bytes + pl->len, f->payload, f->payload_len);
    pl->off[pl->n++] = pl->len;
    pl->len += f->payload_len;
    pl->off[pl->n] = pl->len;
}

/* Every whole UDP payload of the capture, read by siplint's own capture
 * stage (what bench/gen writes: one SIP message per datagram). */
static void load(struct payloads *pl, const char *path)
{
    struct sl_capture *c;
    struct sl_frame f;
    struct sl_err err;
    int rc;

    if (sl_capture_open(&c, path, &err) != SL_OK)
        die(err.msg);
    while ((rc = sl_capture_next(c, &f, &err)) == 1)
        if (f.kind == SL_FRAME_DATAGRAM && !f.payload_truncated && f.payload_len > 0)
            add_payload(pl, &f);
    if (rc != 0)
        die(err.msg);
    sl_capture_close(c);
}

static void *run_share(void *arg)
{
    struct share *s = arg;
    const struct payloads *pl = s->pl;
    size_t i;

    for (i = s->from; i < s->to; i++) {
        const uint8_t *p = pl->bytes + pl->off[i];
        size_t n = pl->off[i + 1] - pl->off[i];

        if (s->mode == M_PARSE) {
            struct sl_msg m;
            struct sl_err err;

            memset(&m, 0, sizeof(m));
            if (sl_msg_parse(&m, p, n, 65535, &err) != 0)
                s->failed++;
            sl_msg_fini(&m);
        } else {
            osip_message_t *sip;

            if (osip_message_init(&sip) != 0)
                die("osip_message_init");
            if (osip_message_parse(sip, (const char *)p, n) != 0)
                s->failed++;
            osip_message_free(sip);
        }
    }
    return NULL;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User and system CPU seconds of the process, every thread. */
static double cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Every payload parsed into msgs[] (those libosip2 refuses stay zeroed and
 * are not stored); the number refused. */
static size_t parse_all(const struct payloads *pl, struct sl_msg *msgs)
{
    size_t i, failed = 0;

    for (i = 0; i < pl->n; i++) {
        struct sl_err err;

        if (sl_msg_parse(&msgs[i], pl->bytes + pl->off[i], pl->off[i + 1] - pl->off[i], 65535,
                         &err) != 0)
            failed++;
    }
    return failed;
}

/* The timed part of mode store: a private database, every parsed message
 * stored as one row, the database finished.  Exits on an error. */
static void store_all(const struct payloads *pl, const struct sl_msg *msgs)
{
    struct sl_db *db;
    struct sl_err err;
    struct sl_db_capture cap = { .path = "floor", .format = "pcap", .linktype = 1, .complete = 1 };
    int64_t capture_id, id = 0;
    size_t i;

    if (sl_db_create(&db, NULL, &err) != SL_OK ||
        sl_db_add_capture(db, &cap, &capture_id, &err) != SL_OK)
        die(err.msg);
    for (i = 0; i < pl->n; i++) {
        struct sl_db_origin o = { .capture_id = capture_id,
                                  .frame = i + 1,
                                  .ts_us = pl->ts_us[i],
                                  .src = &pl->src[i],
                                  .dst = &pl->dst[i],
                                  .transport = SL_TP_UDP };

        if (msgs[i].call_id == NULL)
            continue;
        if (sl_db_add_message(db, ++id, &o, &msgs[i], NULL, pl->bytes + pl->off[i],
                              pl->off[i + 1] - pl->off[i], 0, &err) != SL_OK)
            die(err.msg);
    }
    if (sl_db_messages_done(db, true, &err) != SL_OK || sl_db_finish(db, &err) != SL_OK)
        die(err.msg);
    sl_db_close(db);
}

int main(int argc, char **argv)
{
    struct payloads pl = { 0 };
    struct share sh[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    struct sl_msg *msgs = NULL;
    size_t refused = 0, i;
    int threads = 2, runs = 1, c, r, t;
    enum mode mode = M_PARSE;

    while ((c = getopt(argc, argv, "t:m:r:")) != -1) {
        switch (c) {
        case 't':
            threads = atoi(optarg);
            break;
        case 'r':
            runs = atoi(optarg);
            break;
        case 'm':
            if (strcmp(optarg, "osip") == 0)
                mode = M_OSIP;
            else if (strcmp(optarg, "parse") == 0)
                mode = M_PARSE;
            else if (strcmp(optarg, "store") == 0)
                mode = M_STORE;
            else
                die("-m takes osip, parse or store");
            break;
        default:
            die("usage: floor [-t THREADS] [-m osip|parse|store] [-r RUNS] capture.pcap");
        }
    }
    if (optind != argc - 1 || threads < 1 || threads > MAX_THREADS || runs < 1)
        die("usage: floor [-t THREADS] [-m osip|parse|store] [-r RUNS] capture.pcap");
    load(&pl, argv[optind]);
    if (pl.n == 0)
        die("no UDP payload in the capture");
    if (mode == M_OSIP)
        parser_init();
    else
        sl_sip_init();
    if (mode == M_STORE) {
        threads = 0; /* no parse threads: store_all runs on this one */
        msgs = calloc(pl.n, sizeof(*msgs));
        if (msgs == NULL)
            die("out of memory");
        refused = parse_all(&pl, msgs);
    }

    for (r = 0; r < runs; r++) {
        double t0 = now(), c0 = cpu(), dt;
        size_t failed = refused;

        for (t = 0; t < threads; t++) {
            sh[t] = (struct share){ .pl = &pl,
                                    .from = pl.n * (size_t)t / (size_t)threads,
                                    .to = pl.n * (size_t)(t + 1) / (size_t)threads,
                                    .mode = mode };
            if (pthread_create(&tid[t], NULL, run_share, &sh[t]) != 0)
                die("pthread_create");
        }
        for (t = 0; t < threads; t++) {
            pthread_join(tid[t], NULL);
            failed += sh[t].failed;
        }
        if (mode == M_STORE)
            store_all(&pl, msgs);
        dt = now() - t0;
        printf("%s %d %zu %.3f %.0f %.3f", mode_name[mode], threads > 0 ? threads : 1, pl.n, dt,
               (double)pl.n / dt, cpu() - c0);
        if (failed)
            printf(" (%zu not parsed)", failed);
        putchar('\n');
        fflush(stdout);
    }
    if (msgs != NULL)
        for (i = 0; i < pl.n; i++)
            sl_msg_fini(&msgs[i]);
    free(msgs);
    free(pl.bytes);
    free(pl.off);
    free(pl.src);
    free(pl.dst);
    free(pl.ts_us);
    return 0;
}
