/*
 * bench/floor: how fast the parse alone can go on this machine.
 *
 * It loads every UDP payload of a capture into memory, then parses them all
 * on T threads (each thread takes an equal share, in order) and prints the
 * time of that parse, and nothing else: no pcap reading, no store, no rules.
 *
 *   osip   libosip2 alone: osip_message_init, osip_message_parse,
 *          osip_message_free, with the C library's allocator;
 *   parse  siplint's parse stage, sl_msg_parse: libosip2 through siplint's
 *          per-thread arena, and the extraction of the fields siplint stores.
 *
 * The second is the least CPU any `siplint check` can spend per message,
 * since issue 7 keeps libosip2 the parser of every message: whatever the
 * rest of the pipeline costs comes on top.  bench/run.sh prints it under
 * its table.
 *
 * build/bench/floor [-t THREADS] [-m osip|parse] [-r RUNS] capture.pcap
 * Output, one line per run: mode threads messages seconds messages/s.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <osipparser2/osip_parser.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sip/msg.h"

#define MAX_THREADS 64
#define MAX_MSGS    20000000u /* more than bench-10m's 10M */

struct payloads {
    uint8_t *bytes; /* all payloads, one after another */
    size_t *off;    /* payload i is bytes[off[i] .. off[i + 1]) */
    size_t n, cap, len, bytes_cap;
};

struct share {
    const struct payloads *pl;
    size_t from, to;
    int parse; /* 1: sl_msg_parse; 0: libosip2 alone */
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

/* Ethernet, IPv4 (not fragmented), UDP: what bench/gen writes. */
static void add_frame(struct payloads *pl, const uint8_t *f, size_t n)
{
    size_t ihl, ulen;

    if (n < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4 || f[23] != 17)
        return;
    ihl = (size_t)(f[14] & 15u) * 4;
    if (ihl < 20 || n < 14 + ihl + 8)
        return;
    ulen = (size_t)f[14 + ihl + 4] << 8 | f[14 + ihl + 5];
    if (ulen < 8 || 14 + ihl + ulen > n)
        return;
    f += 14 + ihl + 8;
    ulen -= 8;
    if (pl->n + 2 > MAX_MSGS)
        die("too many messages");
    pl->off = grow(pl->off, &pl->cap, sizeof(*pl->off), pl->n + 2);
    pl->bytes = grow(pl->bytes, &pl->bytes_cap, 1, pl->len + ulen);
    memcpy(pl->bytes + pl->len, f, ulen);
    pl->off[pl->n++] = pl->len;
    pl->len += ulen;
    pl->off[pl->n] = pl->len;
}

static void load(struct payloads *pl, const char *path)
{
    char eb[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *d;
    pcap_t *pc = pcap_open_offline(path, eb);
    int rc;

    if (pc == NULL)
        die(eb);
    while ((rc = pcap_next_ex(pc, &h, &d)) == 1)
        add_frame(pl, d, h->caplen);
    if (rc == -1)
        die(pcap_geterr(pc));
    pcap_close(pc);
}

static void *run_share(void *arg)
{
    struct share *s = arg;
    const struct payloads *pl = s->pl;
    size_t i;

    for (i = s->from; i < s->to; i++) {
        const uint8_t *p = pl->bytes + pl->off[i];
        size_t n = pl->off[i + 1] - pl->off[i];

        if (s->parse) {
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

int main(int argc, char **argv)
{
    struct payloads pl = { 0 };
    struct share sh[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int threads = 2, runs = 1, parse = 1, c, r, t;

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
                parse = 0;
            else if (strcmp(optarg, "parse") == 0)
                parse = 1;
            else
                die("-m takes osip or parse");
            break;
        default:
            die("usage: floor [-t THREADS] [-m osip|parse] [-r RUNS] capture.pcap");
        }
    }
    if (optind != argc - 1 || threads < 1 || threads > MAX_THREADS || runs < 1)
        die("usage: floor [-t THREADS] [-m osip|parse] [-r RUNS] capture.pcap");
    load(&pl, argv[optind]);
    if (pl.n == 0)
        die("no UDP payload in the capture");
    if (parse)
        sl_sip_init();
    else
        parser_init();

    for (r = 0; r < runs; r++) {
        double t0 = now(), dt;
        size_t failed = 0;

        for (t = 0; t < threads; t++) {
            sh[t] = (struct share){ .pl = &pl,
                                    .from = pl.n * (size_t)t / (size_t)threads,
                                    .to = pl.n * (size_t)(t + 1) / (size_t)threads,
                                    .parse = parse };
            if (pthread_create(&tid[t], NULL, run_share, &sh[t]) != 0)
                die("pthread_create");
        }
        for (t = 0; t < threads; t++) {
            pthread_join(tid[t], NULL);
            failed += sh[t].failed;
        }
        dt = now() - t0;
        printf("%s %d %zu %.3f %.0f", parse ? "parse" : "osip", threads, pl.n, dt,
               (double)pl.n / dt);
        if (failed)
            printf(" (%zu not parsed)", failed);
        putchar('\n');
        fflush(stdout);
    }
    free(pl.bytes);
    free(pl.off);
    return 0;
}
