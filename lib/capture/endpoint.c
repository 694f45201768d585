/*
 * endpoint.c: names of transports and text forms of endpoints.
 */
#include "capture/capture.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

const char *sl_transport_name(enum sl_transport tp)
{
    switch (tp) {
    case SL_TP_NONE:
        return "none";
    case SL_TP_UDP:
        return "udp";
    case SL_TP_TCP:
        return "tcp";
    case SL_TP_SCTP:
        return "sctp";
    case SL_TP_TLS:
        return "tls";
    case SL_TP_WS:
        return "ws";
    }
    return "?";
}

/* Dotted quad of an IPv4 address into buf (at least 16 bytes): the common
 * case, written by hand because inet_ntop costs ~thousands of instructions
 * per call and every stored message names two endpoints. */
static void ipv4_text(const uint8_t ip[4], char *buf)
{
    size_t k = 0;
    unsigned i;

    for (i = 0; i < 4; i++) {
        unsigned v = ip[i];

        if (i > 0)
            buf[k++] = '.';
        if (v >= 100)
            buf[k++] = (char)('0' + v / 100);
        if (v >= 10)
            buf[k++] = (char)('0' + v / 10 % 10);
        buf[k++] = (char)('0' + v % 10);
    }
    buf[k] = '\0';
}

char *sl_endpoint_addr(const struct sl_endpoint *ep, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return buf;
    if (ep != NULL && ep->family == 4 && len >= 16) {
        ipv4_text(ep->ip, buf);
        return buf;
    }
    if (ep == NULL || (ep->family != 4 && ep->family != 6) ||
        inet_ntop(ep->family == 4 ? AF_INET : AF_INET6, ep->ip, buf, (socklen_t)len) == NULL)
        (void)snprintf(buf, len, "?");
    return buf;
}

char *sl_endpoint_format(const struct sl_endpoint *ep, char *buf, size_t len)
{
    char addr[INET6_ADDRSTRLEN];

    if (buf == NULL || len == 0)
        return buf;
    sl_endpoint_addr(ep, addr, sizeof(addr));
    if (addr[0] == '?') {
        (void)snprintf(buf, len, "?");
        return buf;
    }
    /* RFC 3986 3.2.2: an IPv6 address next to a port goes in brackets */
    if (ep->family == 4)
        (void)snprintf(buf, len, "%s:%u", addr, (unsigned)ep->port);
    else
        (void)snprintf(buf, len, "[%s]:%u", addr, (unsigned)ep->port);
    return buf;
}

void sl_frame_set_detail(struct sl_frame *f, enum sl_frame_kind kind, const char *reason,
                         const char *fmt, ...)
{
    va_list ap;

    f->kind = kind;
    f->reason = reason;
    va_start(ap, fmt);
    if (vsnprintf(f->detail, sizeof(f->detail), fmt, ap) < 0)
        f->detail[0] = '\0';
    va_end(ap);
}
