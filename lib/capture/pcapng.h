/*
 * pcapng.h: a guard between a pcapng file and libpcap's pcapng reader
 * (pcapng.c).  Private to the capture stage.
 */
#ifndef SL_CAPTURE_PCAPNG_H
#define SL_CAPTURE_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Largest block handed on (libpcap 1.10 refuses larger ones too), bytes. */
#define SL_PCAPNG_MAX_BLOCK ((size_t)16 << 20)

struct sl_pcapng;

enum sl_pcapng_note_kind {
    SL_PCAPNG_DAMAGE = 0, /* bytes skipped: a block with impossible lengths or fields */
    SL_PCAPNG_CUSTOM = 1, /* a custom block skipped (Wireshark shows it as a frame) */
    SL_PCAPNG_SKIPPED = 2 /* end of file: blocks of a type not read, or unknown options */
};

struct sl_pcapng_note {
    enum sl_pcapng_note_kind kind;
    uint64_t packets; /* packet blocks handed to libpcap before it (DAMAGE, CUSTOM) */
    uint64_t frames;  /* SKIPPED: frames (packet and custom blocks) before the first
                         block or option told */
    uint64_t offset;  /* file offset of the (first) block */
    uint64_t len;     /* DAMAGE: bytes skipped; CUSTOM: block length */
    char text[288];   /* what happened, one sentence without the frame */
};

/*
 * Wraps in (owned from here on, except stdin, which is never closed): returns a
 * stdio stream (fopencookie) that reads the same pcapng file, block by block,
 * with every damaged block and every block libpcap does not read left out.
 * *out is the guard, owned by the stream: valid until fclose() of the stream.
 * NULL when out of memory; in is then still the caller's.
 */
FILE *sl_pcapng_guard(FILE *in, struct sl_pcapng **out);

/* Why the file's first block is not a valid Section Header Block (the guard
 * then hands on the file as it is, for libpcap to refuse), or NULL. */
const char *sl_pcapng_refused(const struct sl_pcapng *g);

/* Packet blocks before the next DAMAGE or CUSTOM note, or UINT64_MAX when none
 * is queued. */
uint64_t sl_pcapng_next_at(const struct sl_pcapng *g);

/* The next note into *n: 1 or 0.  DAMAGE and CUSTOM notes come in file order
 * as the stream is read; SKIPPED ones only once at_end is set (the stream has
 * been read to its end). */
int sl_pcapng_note(struct sl_pcapng *g, bool at_end, struct sl_pcapng_note *n);

#endif /* SL_CAPTURE_PCAPNG_H */
