#include "base/status.h"

#include <stdarg.h>
#include <stdio.h>

const char *sl_strerror(int code)
{
    switch (code) {
#define SL_X_(name, val, text) \
    case (val):                \
        return text;
        SL_STATUS_MAP(SL_X_)
#undef SL_X_
    default:
        return "unknown error";
    }
}

int sl_fail(struct sl_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    err->code = code;
    va_start(ap, fmt);
    if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) < 0)
        err->msg[0] = '\0';
    va_end(ap);
    return code;
}

void sl_err_clear(struct sl_err *err)
{
    if (err == NULL)
        return;
    err->code = SL_OK;
    err->msg[0] = '\0';
}
