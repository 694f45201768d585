/*
 * hepfile.c: a HEP stream file as input: HEP3 packets one after the other
 * (RULES.md C.1, C.7), what a HEP collector dumps of the stream it receives.
 * pcap.c recognises it by its first byte ('H' is no pcap or pcapng magic) and
 * hands the file over.
 *
 * Each packet is one frame, numbered from 1 in file order; its time is the
 * HEP timestamp (the previous packet's when it has none), and hep.c decodes
 * it as it decodes a HEP packet inside UDP.  Bytes that are not a HEP3
 * packet are one malformed frame, and reading resyncs at the next "HEP3".  A
 * file that ends inside a packet ends with SL_ETRUNC naming the packet; the
 * packets before it stay valid.  The buffer is the largest packet HEP3 can
 * describe (its total length is 16 bits): no allocation depends on the input.
 */
#include "capture/hepfile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"

#define HEP3_MAX 65535
#define HEP3_HDR 6

struct sl_hepfile {
    FILE *fp;
    bool own_fp;      /* fclose() it (not stdin) */
    uint64_t packets; /* frames returned so far */
    uint64_t off;     /* file offset of the next byte read */
    int64_t last_ts_us;
    uint8_t hdr[HEP3_HDR]; /* a header read ahead by a resync */
    size_t n_hdr;
    uint8_t buf[HEP3_MAX];
};

/* Reads up to n bytes into p; returns how many (fewer: end of file). */
static size_t get(struct sl_hepfile *h, uint8_t *p, size_t n)
{
    size_t k = fread(p, 1, n, h->fp);

    h->off += k;
    return k;
}

int sl_hepfile_open(struct sl_hepfile **out, FILE *fp, bool own_fp, struct sl_err *err)
{
    struct sl_hepfile *h;

    *out = NULL;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return sl_fail(err, SL_ENOMEM, "out of memory opening the capture");
    h->fp = fp;
    h->own_fp = own_fp;
    h->n_hdr = get(h, h->hdr, HEP3_HDR);
    if (h->n_hdr < 4 || memcmp(h->hdr, "HEP3", 4) != 0) {
        free(h); /* fp stays the caller's */
        return sl_fail(err, SL_EINPUT,
                       "not a pcap, pcapng or HEP3 file (it starts with 'H' but not \"HEP3\")");
    }
    *out = h;
    return SL_OK;
}

void sl_hepfile_close(struct sl_hepfile *h)
{
    if (h == NULL)
        return;
    if (h->own_fp && h->fp != NULL)
        (void)fclose(h->fp);
    free(h);
}

/* Skips to the next "HEP3" (left in h->hdr); returns the bytes skipped. */
static uint64_t resync(struct sl_hepfile *h)
{
    uint64_t skipped = 0;

    for (;;) {
        uint8_t b;

        while (h->n_hdr > 0 && memcmp(h->hdr, "HEP3", h->n_hdr < 4 ? h->n_hdr : 4) != 0) {
            memmove(h->hdr, h->hdr + 1, h->n_hdr - 1);
            h->n_hdr--;
            skipped++;
        }
        if (h->n_hdr >= 4)
            return skipped;
        if (get(h, &b, 1) == 0) {
            skipped += h->n_hdr; /* a prefix of "HEP3" at the end of the file */
            h->n_hdr = 0;
            return skipped;
        }
        h->hdr[h->n_hdr++] = b;
    }
}

static void frame_reset(struct sl_frame *f, uint64_t number, int64_t ts_us, size_t len)
{
    memset(f, 0, sizeof(*f));
    f->number = number;
    f->ts_us = ts_us;
    f->caplen = (uint32_t)len;
    f->wirelen = (uint32_t)len;
    f->kind = SL_FRAME_NOT_DECODED;
    f->reason = "not decoded";
}

int sl_hepfile_next(struct sl_hepfile *h, struct sl_tcp *tcp, struct sl_frame *f,
                    struct sl_err *err)
{
    uint64_t at;
    size_t total, got;

    if (h->n_hdr < HEP3_HDR)
        h->n_hdr += get(h, h->hdr + h->n_hdr, HEP3_HDR - h->n_hdr);
    at = h->off - h->n_hdr;
    if (h->n_hdr == 0)
        return 0;
    if (memcmp(h->hdr, "HEP3", h->n_hdr < 4 ? h->n_hdr : 4) != 0) {
        uint64_t skipped = resync(h);

        h->packets++;
        frame_reset(f, h->packets, h->last_ts_us, 0);
        f->kind = SL_FRAME_MALFORMED;
        f->reason = "HEP";
        snprintf(f->detail, sizeof(f->detail),
                 "bytes %" PRIu64 " to %" PRIu64 " of the file are not a HEP3 packet%s", at,
                 at + skipped - 1, h->n_hdr > 0 ? "; resynced at the next \"HEP3\"" : "");
        return 1;
    }
    if (h->n_hdr < HEP3_HDR) {
        h->n_hdr = 0;
        return sl_fail(err, SL_ETRUNC,
                       "capture ends in the middle of HEP packet %" PRIu64 " (byte %" PRIu64
                       ": %zu of its 6 header bytes)",
                       h->packets + 1, at, (size_t)(h->off - at));
    }
    total = (size_t)h->hdr[4] << 8 | h->hdr[5];
    if (total < HEP3_HDR) {
        h->packets++;
        h->n_hdr = 0;
        frame_reset(f, h->packets, h->last_ts_us, HEP3_HDR);
        f->kind = SL_FRAME_MALFORMED;
        f->reason = "HEP";
        snprintf(f->detail, sizeof(f->detail),
                 "HEP3 packet at byte %" PRIu64 " of the file: total length %zu < 6", at, total);
        return 1;
    }
    memcpy(h->buf, h->hdr, HEP3_HDR);
    h->n_hdr = 0;
    got = get(h, h->buf + HEP3_HDR, total - HEP3_HDR);
    if (got < total - HEP3_HDR) {
        if (ferror(h->fp))
            return sl_fail(err, SL_ETRUNC,
                           "cannot read the capture after HEP packet %" PRIu64 ": %s", h->packets,
                           strerror(errno));
        return sl_fail(err, SL_ETRUNC,
                       "capture ends in the middle of HEP packet %" PRIu64 " (byte %" PRIu64
                       ": total length %zu, %zu bytes in the file)",
                       h->packets + 1, at, total, got + HEP3_HDR);
    }
    h->packets++;
    frame_reset(f, h->packets, h->last_ts_us, total);
    f->tcp = tcp;
    sl_hep_decode(h->buf, total, false, f);
    if (f->hep_ts_us != 0) {
        f->ts_us = f->hep_ts_us;
        h->last_ts_us = f->hep_ts_us;
    }
    return 1;
}
