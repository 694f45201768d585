/*
 * hepfile.h: a HEP stream file (HEP3 packets one after the other) as a
 * capture; pcap.c hands such a file here (hepfile.c).
 */
#ifndef SL_CAPTURE_HEPFILE_H
#define SL_CAPTURE_HEPFILE_H

#include <stdbool.h>
#include <stdio.h>

#include "capture/capture.h"

struct sl_hepfile;

/* Reads HEP3 packets from fp (at its first byte); closes fp in
 * sl_hepfile_close when own_fp is set.  SL_OK, SL_ENOMEM, or SL_EINPUT when
 * the file does not start with "HEP3" (fp is then left open). */
int sl_hepfile_open(struct sl_hepfile **out, FILE *fp, bool own_fp, struct sl_err *err);

/* The next packet as a frame (number: its index from 1; time: its HEP
 * timestamp), decoded by sl_hep_decode with stream messages queued in tcp (a
 * compressed payload).  1, 0 at the end of the file, or SL_ETRUNC when the
 * file ends inside a packet (err names it). */
int sl_hepfile_next(struct sl_hepfile *h, struct sl_tcp *tcp, struct sl_frame *f,
                    struct sl_err *err);

/* Accepts NULL. */
void sl_hepfile_close(struct sl_hepfile *h);

#endif /* SL_CAPTURE_HEPFILE_H */
