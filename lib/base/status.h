/*
 * status.h: error reporting inside the library.
 *
 * sl_fail() fills a struct sl_err and returns the code, so an error path is one
 * line:  return sl_fail(err, SL_EFORMAT, "HEP chunk %u: bad length", type);
 */
#ifndef SL_BASE_STATUS_H
#define SL_BASE_STATUS_H

#include "siplint.h"

/* Fills err (may be NULL) with code and a printf-style sentence; returns code. */
int sl_fail(struct sl_err *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Clears err (may be NULL) to SL_OK with an empty message. */
void sl_err_clear(struct sl_err *err);

#endif /* SL_BASE_STATUS_H */
