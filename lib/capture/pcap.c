/*
 * pcap.c: the libpcap wrapper.  Opens a pcap or pcapng file (a path, standard
 * input or a memory buffer), reads it record by record and hands each frame to
 * sl_frame_decode().
 *
 * libpcap reads both formats through the same pcap_next_ex() loop.  We open the
 * FILE ourselves (instead of pcap_open_offline) so that we can look at the
 * first byte before libpcap does: it tells the format apart and an empty file
 * gets a clear message.  One byte is all C11 7.21.7.10 guarantees ungetc() can
 * push back, and one byte is enough (see format_of()).
 */
#include "capture/capture.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include "base/status.h"
#include "capture/hepfile.h"
#include "capture/pcapng.h"
#include "capture/tcp.h"

/* Capture notes waiting for sl_capture_note(): at most the guard's queue
 * between two frames, plus the end-of-file ones. */
#define MAX_NOTES 1040u

struct sl_capture {
    pcap_t *pcap;
    const char *format;      /* "pcap" or "pcapng" */
    int dlt;                 /* pcap_datalink() */
    uint64_t n_frames;       /* frames numbered so far (records, and pcapng custom blocks) */
    bool done;               /* end of file or an error seen: next() returns 0 */
    struct sl_ipfrag *reasm; /* IP fragments of this file */
    int64_t last_ts_us;      /* latest frame time so far: the reassemblers' clock */
    struct sl_tcp *tcp;      /* TCP streams of this file */
    struct sl_hepfile *hep;  /* a HEP stream file (format "hep"): read by hepfile.c */
    FILE *fp;                /* what libpcap or hepfile.c reads (for the progress position) */
    uint64_t size;           /* bytes in the file; 0 when unknown (a pipe) */
    struct sl_pcapng *ng;    /* the pcapng guard (pcapng.h); NULL for pcap */

    /* the record libpcap returned last, not handed out yet (a custom block
     * before it comes first) */
    bool held;
    bool done_reading; /* libpcap returned its last record (or an error) */
    struct pcap_pkthdr *hdr;
    const u_char *data;
    uint64_t records; /* records libpcap returned */

    /* time going backwards (SIP-CAP-010): told once, at the end */
    int64_t prev_ts_us; /* time of the frame before */
    uint64_t back_frames, back_first, back_max_frame;
    int64_t back_first_us, back_max_us, back_first_ts_us;

    struct sl_capture_note notes[MAX_NOTES];
    size_t notes_head, notes_n;
};

/* stdio's buffer for a capture file: libpcap reads record by record through
 * it, and the default (4 KiB) costs a read(2) every few packets. */
#define READ_BUFFER (256u * 1024u)

/*
 * The format from the first byte of the file.  A pcapng file starts with a
 * Section Header Block, block type 0x0A0D0D0A, whose first byte is 0x0A in
 * either byte order (draft-ietf-opsawg-pcapng 4.1).  A pcap file starts with
 * the magic 0xA1B2C3D4 (microseconds) or 0xA1B23C4D (nanoseconds) in the
 * writer's byte order (draft-ietf-opsawg-pcap 4), so its first byte is 0xA1,
 * 0xD4 or 0x4D (0xA1 or 0x34 for the old Kuznetzov 0xA1B2CD34 variant).
 * Whatever else libpcap accepts is its pcap reader's.
 */
static const char *format_of(int first_byte)
{
    if (first_byte == 'H')
        return "hep"; /* "HEP3...": a HEP stream file (hepfile.c) */
    return first_byte == 0x0A ? "pcapng" : "pcap";
}

/*
 * Opens a capture over fp, which it owns from here on: libpcap closes it with
 * pcap_close() (except stdin, which libpcap never closes), and it is closed
 * here on failure.
 */
static int open_stream(struct sl_capture **out, FILE *fp, struct sl_err *err)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    struct sl_capture *c;
    int first, rc;

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        rc = sl_fail(err, SL_ENOMEM, "out of memory opening the capture");
        goto fail;
    }
    first = getc(fp);
    if (first == EOF) {
        if (ferror(fp))
            rc = sl_fail(err, SL_EINPUT, "cannot read the capture: %s", strerror(errno));
        else
            rc = sl_fail(err, SL_EINPUT, "not a pcap or pcapng file (the file is empty)");
        goto fail;
    }
    if (ungetc(first, fp) == EOF) {
        rc = sl_fail(err, SL_EIO, "cannot read the capture: ungetc failed");
        goto fail;
    }
    c->format = format_of(first);
    c->fp = fp;
    {
        struct stat st;

        if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
            c->size = (uint64_t)st.st_size;
    }
    if (sl_ipfrag_new(&c->reasm, NULL) != SL_OK || sl_tcp_new(&c->tcp, NULL) != SL_OK) {
        rc = sl_fail(err, SL_ENOMEM, "out of memory opening the capture");
        goto fail;
    }
    if (first == 0x0A) {
        /* libpcap reads the pcapng blocks that the guard lets through */
        FILE *guarded = sl_pcapng_guard(fp, &c->ng);

        if (guarded == NULL) {
            rc = sl_fail(err, SL_ENOMEM, "out of memory opening the capture");
            goto fail;
        }
        fp = guarded;
    }

    if (first == 'H') {
        rc = sl_hepfile_open(&c->hep, fp, fp != stdin, err);
        if (rc != SL_OK)
            goto fail;
        c->dlt = -1;
        *out = c;
        return SL_OK;
    }
    errbuf[0] = '\0';
    /* Microsecond precision: libpcap scales nanosecond pcap and pcapng
     * timestamps down to what struct sl_frame keeps. */
    c->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (c->pcap == NULL) {
        if (sl_pcapng_refused(c->ng) != NULL) /* clearer than libpcap's reason */
            rc = sl_fail(err, SL_EINPUT, "not a pcap or pcapng file (%s)",
                         sl_pcapng_refused(c->ng));
        else
            rc = sl_fail(err, SL_EINPUT, "not a pcap or pcapng file (%s)",
                         errbuf[0] != '\0' ? errbuf : "libpcap gave no reason");
        goto fail;
    }
    c->dlt = pcap_datalink(c->pcap);
    *out = c;
    return SL_OK;

fail:
    if (fp != stdin)
        (void)fclose(fp);
    if (c != NULL) {
        sl_ipfrag_free(c->reasm);
        sl_tcp_free(c->tcp);
    }
    free(c);
    return rc;
}

int sl_capture_open(struct sl_capture **out, const char *path, struct sl_err *err)
{
    struct stat st;
    FILE *fp;

    if (out == NULL || path == NULL)
        return sl_fail(err, SL_EUSAGE, "sl_capture_open: NULL argument");
    *out = NULL;
    if (strcmp(path, "-") == 0) {
        (void)setvbuf(stdin, NULL, _IOFBF, READ_BUFFER);
        return open_stream(out, stdin, err);
    }

    /* Checked before libpcap, whose messages for these are less clear
     * ("error reading dump file: Is a directory"). */
    if (stat(path, &st) != 0)
        return sl_fail(err, errno == ENOMEM ? SL_ENOMEM : SL_EINPUT, "%s", strerror(errno));
    if (S_ISDIR(st.st_mode))
        return sl_fail(err, SL_EINPUT, "is a directory");
    fp = fopen(path, "rb");
    if (fp == NULL)
        return sl_fail(err, errno == ENOMEM ? SL_ENOMEM : SL_EINPUT, "%s", strerror(errno));
    (void)setvbuf(fp, NULL, _IOFBF, READ_BUFFER);
    return open_stream(out, fp, err);
}

int sl_capture_open_mem(struct sl_capture **out, const void *buf, size_t len, struct sl_err *err)
{
    FILE *fp;

    if (out == NULL || (buf == NULL && len > 0))
        return sl_fail(err, SL_EUSAGE, "sl_capture_open_mem: NULL argument");
    *out = NULL;
    /* fmemopen() may refuse a zero size (POSIX: EINVAL). */
    if (len == 0)
        return sl_fail(err, SL_EINPUT, "not a pcap or pcapng file (the file is empty)");
    /* Mode "rb" never writes through the pointer, so dropping const is safe;
     * the uintptr_t step says so to -Wcast-qual. */
    fp = fmemopen((void *)(uintptr_t)buf, len, "rb");
    if (fp == NULL)
        return sl_fail(err, errno == ENOMEM ? SL_ENOMEM : SL_EINPUT, "fmemopen: %s",
                       strerror(errno));
    return open_stream(out, fp, err);
}

const char *sl_capture_format(const struct sl_capture *c)
{
    return c != NULL ? c->format : "pcap";
}

int sl_capture_linktype(const struct sl_capture *c)
{
    return c != NULL ? c->dlt : -1;
}

/*
 * tv_sec * 10^6 + tv_usec, clamped to +-SL_TS_US_MAX: a pcapng timestamp is
 * a 64-bit count of if_tsresol units, which can put tv_sec far beyond what
 * microseconds since 1970 can hold.  A pcap record's seconds are an unsigned
 * 32-bit field (draft-ietf-opsawg-pcap 5), which libpcap 1.10 hands on
 * sign-extended: a time after 2038-01-19 would come back as before 1970
 * (tshark reads it unsigned).
 */
static int64_t ts_to_us(const struct timeval *tv, bool pcap32)
{
    const int64_t max_sec = SL_TS_US_MAX / 1000000 - 1;
    int64_t sec = pcap32 ? (int64_t)(uint32_t)tv->tv_sec : (int64_t)tv->tv_sec;
    int64_t usec = (int64_t)tv->tv_usec;

    if (sec > max_sec)
        return SL_TS_US_MAX;
    if (sec < -max_sec)
        return -SL_TS_US_MAX;
    if (usec < 0 || usec > 999999) /* libpcap normalises it; do not trust that */
        usec = usec < 0 ? 0 : 999999;
    return sec * 1000000 + usec;
}

/* sl_capture_next() of a HEP stream file. */
static int next_hep(struct sl_capture *c, struct sl_frame *f, struct sl_err *err)
{
    int rc = sl_hepfile_next(c->hep, c->tcp, f, err);

    if (rc <= 0) {
        c->done = true;
        sl_tcp_expire(c->tcp, c->last_ts_us, true);
        return rc;
    }
    c->n_frames++;
    if (f->ts_us > c->last_ts_us || c->n_frames == 1)
        c->last_ts_us = f->ts_us;
    sl_tcp_expire(c->tcp, c->last_ts_us, false);
    return 1;
}

/* Queues a note for sl_capture_note(); the queue is sized so that it
 * cannot overflow (a note that would is dropped). */
static struct sl_capture_note *note_add(struct sl_capture *c, const char *rule, uint64_t frame)
{
    struct sl_capture_note *n;

    if (c->notes_n == MAX_NOTES)
        return NULL;
    n = &c->notes[(c->notes_head + c->notes_n) % MAX_NOTES];
    c->notes_n++;
    memset(n, 0, sizeof(*n));
    n->rule = rule;
    n->frame = frame;
    n->ts_us = c->n_frames > 0 ? c->prev_ts_us : 0;
    return n;
}

/* A note of the pcapng guard becomes a capture note, about the frame after
 * damaged bytes (the last frame when none follows), or the frame before
 * skipped blocks (0: none before), or the frame whose options were skipped. */
static void guard_note(struct sl_capture *c, const struct sl_pcapng_note *gn)
{
    struct sl_capture_note *n;

    uint64_t frame = gn->frames;

    if (gn->kind == SL_PCAPNG_DAMAGE) /* no frame after it at the end: the last one */
        frame = c->held || !c->done_reading ? c->n_frames + 1 : c->n_frames;
    n = note_add(c, gn->kind == SL_PCAPNG_DAMAGE ? "SIP-CAP-008" : "SIP-CAP-009", frame);
    if (n != NULL)
        snprintf(n->text, sizeof(n->text), "%s", gn->text);
}

/* Time in seconds with microseconds, for the notes. */
static void fmt_secs(char *buf, size_t len, int64_t us)
{
    snprintf(buf, len, "%" PRId64 ".%06" PRId64, us / 1000000, us % 1000000);
}

/* End of the file: the guard's totals and the time note. */
static void end_notes(struct sl_capture *c)
{
    struct sl_pcapng_note gn;

    while (sl_pcapng_note(c->ng, true, &gn) == 1)
        guard_note(c, &gn);
    if (c->back_frames > 0) {
        struct sl_capture_note *n = note_add(c, "SIP-CAP-010", c->back_first);
        char a[32], b[32];

        if (n == NULL)
            return;
        n->ts_us = c->back_first_ts_us;
        fmt_secs(a, sizeof(a), c->back_first_us);
        fmt_secs(b, sizeof(b), c->back_max_us);
        if (c->back_frames == 1)
            snprintf(n->text, sizeof(n->text),
                     "time goes back %s s from the frame before; messages are analysed in file "
                     "order",
                     a);
        else
            snprintf(n->text, sizeof(n->text),
                     "time goes back %s s from the frame before; %" PRIu64
                     " frames in all go back in time, the most by %s s (frame %" PRIu64
                     "); messages are analysed in file order",
                     a, c->back_frames, b, c->back_max_frame);
    }
}

/* A step back in time of at most this many microseconds is not told: a
 * capture on several CPUs (tcpdump on a multi-core host, lo included) stamps
 * packets microseconds out of order, which changes no timing conclusion (the
 * rules' tolerance, RULES.md G5, is 50 ms). */
#define BACK_NOISE_US 1000

/* Numbers the next frame, at time ts_us. */
static void number_frame(struct sl_capture *c, struct sl_frame *f, int64_t ts_us)
{
    c->n_frames++;
    f->number = c->n_frames;
    f->ts_us = ts_us;
    if (c->n_frames > 1 && ts_us < c->prev_ts_us - BACK_NOISE_US) {
        int64_t back = c->prev_ts_us - ts_us;

        if (c->back_frames++ == 0) {
            c->back_first = f->number;
            c->back_first_us = back;
            c->back_first_ts_us = ts_us;
        }
        if (back > c->back_max_us) {
            c->back_max_us = back;
            c->back_max_frame = f->number;
        }
    }
    c->prev_ts_us = ts_us;
    if (ts_us > c->last_ts_us || c->n_frames == 1)
        c->last_ts_us = ts_us;
}

/* A frame for a pcapng custom block: Wireshark shows one there. */
static void custom_frame(struct sl_capture *c, struct sl_frame *f, const struct sl_pcapng_note *gn)
{
    memset(f, 0, sizeof(*f));
    number_frame(c, f, c->n_frames > 0 ? c->prev_ts_us : 0);
    f->caplen = f->wirelen = gn->len > UINT32_MAX ? UINT32_MAX : (uint32_t)gn->len;
    f->kind = SL_FRAME_OTHER;
    f->reason = "pcapng custom block";
}

int sl_capture_next(struct sl_capture *c, struct sl_frame *f, struct sl_err *err)
{
    struct sl_pcapng_note gn;
    int rc = 1;

    if (c == NULL || f == NULL)
        return sl_fail(err, SL_EUSAGE, "sl_capture_next: NULL argument");
    if (c->done)
        return 0;
    {
        /* what the caller did not read of the last frame is dropped */
        struct sl_stream_msg m;
        struct sl_tcp_event ev;

        while (sl_tcp_message(c->tcp, &m) == 1)
            ;
        while (sl_tcp_event(c->tcp, &ev) == 1)
            ;
    }
    if (c->hep != NULL)
        return next_hep(c, f, err);
    if (!c->held) {
        rc = pcap_next_ex(c->pcap, &c->hdr, &c->data);
        if (rc == 1) {
            c->held = true;
            c->records++;
        } else {
            c->done_reading = true;
        }
    }
    /* the guard's notes before the record held (all of them at the end):
     * damage is told, a custom block is a frame of its own */
    while (sl_pcapng_next_at(c->ng) < (c->held ? c->records : UINT64_MAX) &&
           sl_pcapng_note(c->ng, false, &gn) == 1) {
        if (gn.kind == SL_PCAPNG_CUSTOM) {
            custom_frame(c, f, &gn);
            return 1;
        }
        guard_note(c, &gn);
    }
    if (c->held) {
        c->held = false;
        number_frame(c, f, ts_to_us(&c->hdr->ts, c->ng == NULL));
        f->caplen = c->hdr->caplen;
        f->wirelen = c->hdr->len;
        sl_frame_decode_stream(c->dlt, c->data, c->hdr->caplen, c->hdr->len, c->reasm, c->tcp, f);
        sl_tcp_expire(c->tcp, c->last_ts_us, false);
        return 1;
    }
    c->done = true;
    sl_tcp_expire(c->tcp, c->last_ts_us, true);
    end_notes(c);
    if (rc == PCAP_ERROR_BREAK) /* savefile: no more records */
        return 0;
    {
        /* PCAP_ERROR: a short record header or body, or a record libpcap
         * cannot read.  Frames before it stay valid; reading stops here. */
        const char *why =
                rc == PCAP_ERROR ? pcap_geterr(c->pcap) : "no record where one was expected";

        if (strstr(why, "truncated") != NULL)
            return sl_fail(err, SL_ETRUNC, "capture ends in the middle of frame %" PRIu64 " (%s)",
                           c->n_frames + 1, why);
        return sl_fail(err, SL_EFORMAT,
                       "capture damaged at frame %" PRIu64 " (%s): the rest of the file is not "
                       "read",
                       c->n_frames + 1, why);
    }
}

int sl_capture_note(struct sl_capture *c, struct sl_capture_note *n)
{
    if (c == NULL || c->notes_n == 0)
        return 0;
    *n = c->notes[c->notes_head];
    c->notes_head = (c->notes_head + 1) % MAX_NOTES;
    c->notes_n--;
    return 1;
}

int sl_capture_set_opts(struct sl_capture *c, const struct sl_ipfrag_opts *fo,
                        const struct sl_tcp_opts *to)
{
    struct sl_ipfrag *rf = NULL;
    struct sl_tcp *tcp = NULL;

    if (c == NULL || c->n_frames > 0 || c->records > 0 || c->done)
        return SL_EUSAGE;
    if (sl_ipfrag_new(&rf, fo) != SL_OK || sl_tcp_new(&tcp, to) != SL_OK) {
        sl_ipfrag_free(rf);
        return SL_ENOMEM;
    }
    sl_ipfrag_free(c->reasm);
    sl_tcp_free(c->tcp);
    c->reasm = rf;
    c->tcp = tcp;
    return SL_OK;
}

int sl_capture_message(struct sl_capture *c, struct sl_stream_msg *m)
{
    return c != NULL ? sl_tcp_message(c->tcp, m) : 0;
}

int sl_capture_tcp_event(struct sl_capture *c, struct sl_tcp_event *ev)
{
    return c != NULL ? sl_tcp_event(c->tcp, ev) : 0;
}

int sl_capture_event(struct sl_capture *c, struct sl_ipfrag_event *ev)
{
    if (c == NULL)
        return 0;
    return sl_ipfrag_poll(c->reasm, c->last_ts_us, c->done, ev);
}

void sl_capture_close(struct sl_capture *c)
{
    if (c == NULL)
        return;
    if (c->pcap != NULL)
        pcap_close(c->pcap);
    sl_hepfile_close(c->hep);
    sl_ipfrag_free(c->reasm);
    sl_tcp_free(c->tcp);
    free(c);
}

void sl_capture_position(const struct sl_capture *c, uint64_t *done, uint64_t *size)
{
    long pos = c != NULL && c->fp != NULL && c->size > 0 ? ftell(c->fp) : -1;

    *done = pos > 0 ? (uint64_t)pos : 0;
    *size = c != NULL ? c->size : 0;
}
