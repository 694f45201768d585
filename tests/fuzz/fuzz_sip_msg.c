/*
 * fuzz_sip_msg.c: one SIP message: recognition (sl_sip_look, and
 * sl_sip_bad_start for what it does not take), the libosip2 parse with field
 * extraction (sl_msg_parse) and, when it parses, the checks libosip2 does not
 * make (sl_msg_lint).
 *
 * Differential too: msg.c writes the URIs and the Call-ID itself, as
 * libosip2's osip_uri_to_str and osip_call_id_to_str would (it saves their
 * allocations).  The same bytes are parsed by libosip2 alone, and any text
 * that differs from libosip2's own is a crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "sip/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ours must be what libosip2 writes for the same URI (when both exist). */
static void same_uri(const char *ours, osip_uri_t *uri)
{
    char *s = NULL;

    if (ours == NULL || uri == NULL || osip_uri_to_str(uri, &s) != OSIP_SUCCESS)
        return;
    if (strcmp(ours, s) != 0)
        abort();
    osip_free(s);
}

static void same_as_libosip2(const struct sl_msg *m, const uint8_t *data, size_t size)
{
    osip_message_t *sip = NULL;
    osip_contact_t *c;
    char *s = NULL;

    if (osip_message_init(&sip) != OSIP_SUCCESS)
        return;
    if (osip_message_parse(sip, (const char *)data, size) == OSIP_SUCCESS) {
        if (sip->req_uri != NULL)
            same_uri(m->ruri, sip->req_uri);
        if (sip->from != NULL)
            same_uri(m->from_uri, sip->from->url);
        if (sip->to != NULL)
            same_uri(m->to_uri, sip->to->url);
        c = osip_list_get(&sip->contacts, 0);
        if (c != NULL && m->contact != NULL && strcmp(m->contact, "*") != 0)
            same_uri(m->contact, c->url);
        if (sip->call_id != NULL && m->call_id != NULL &&
            osip_call_id_to_str(sip->call_id, &s) == OSIP_SUCCESS) {
            if (strcmp(m->call_id, s) != 0)
                abort();
            osip_free(s);
        }
    }
    osip_message_free(sip);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_msg m;
    struct sl_err err;
    struct sl_msg_issue is[4];
    char why[256];

    if (sl_sip_look(data, size) == SL_LOOK_NOT_SIP)
        (void)sl_sip_bad_start(data, size, why, sizeof(why));
    if (sl_msg_parse(&m, data, size, SL_MSG_MAX_LEN_DEFAULT, &err) == SL_OK) {
        (void)sl_msg_lint(&m, data, size, is, 4);
        same_as_libosip2(&m, data, size);
    }
    sl_msg_fini(&m);
    return 0;
}
