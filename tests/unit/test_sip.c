/*
 * test_sip.c: lib/sip: sl_sip_look() and sl_msg_parse() on hand-made
 * messages, every truncation of a good one, and the RFC 4475 torture tests.
 */
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <osipparser2/osip_parser.h>

#include "sip/msg.h"

#define RFC4475_DIR "../shared/corpus/rfc4475"

/* Parses the NUL-terminated text s (its length without the NUL). */
static int parse_str(struct sl_msg *m, const char *s, struct sl_err *err)
{
    return sl_msg_parse(m, (const uint8_t *)s, strlen(s), SL_MSG_MAX_LEN_DEFAULT, err);
}

static enum sl_sip_look look_str(const char *s)
{
    return sl_sip_look((const uint8_t *)s, strlen(s));
}

/* Parses s, which must be refused with code and a reason containing want. */
static void expect_refused(const char *s, int code, const char *want)
{
    struct sl_msg m;
    struct sl_err err = { 0 };

    int rc = parse_str(&m, s, &err);

    sl_msg_fini(&m);
    if (rc != code)
        fail_msg("%s: status %d, not %d", s, rc, code);
    assert_int_equal(err.code, code);
    if (strstr(err.msg, want) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", err.msg, want);
}

/* ------------------------------------------------------------ sl_sip_look -- */

static void test_look_requests(void **state)
{
    (void)state;
    assert_int_equal(look_str("INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n\r\n"),
                     SL_LOOK_REQUEST);
    assert_int_equal(look_str("OPTIONS sip:x@y SIP/2.0"), SL_LOOK_REQUEST); // end of data
    assert_int_equal(look_str("\r\n\r\nBYE sips:a@b;transport=tcp SIP/2.0\n"), SL_LOOK_REQUEST);
    assert_int_equal(look_str("REGISTER sip:example.com sip/2.0\r\n"), SL_LOOK_REQUEST);
    assert_int_equal(look_str("MESSAGE tel:+1-201-555-0123 SIP/2.0\r\n"), SL_LOOK_REQUEST);
    /* RFC 4475 intmeth: every token character in the method */
    assert_int_equal(look_str("!interesting-Method0123456789_*+`.%indeed'~ "
                              "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,"
                              "weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\r\n"),
                     SL_LOOK_REQUEST);
    /* tolerated: runs of whitespace, trailing whitespace, LWS in the URI */
    assert_int_equal(look_str("INVITE  sip:a@b \t SIP/2.0\r\n"), SL_LOOK_REQUEST);
    assert_int_equal(look_str("OPTIONS sip:a@b SIP/2.0  \r\n"), SL_LOOK_REQUEST);
    assert_int_equal(look_str("INVITE sip:user@example.com; lr SIP/2.0\r\n"), SL_LOOK_REQUEST);

    assert_int_equal(look_str("OPTIONS sip:a@b SIP/7.0\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("OPTIONS sip:a@b SIP/2.0 x\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("OPTIONS nocolon SIP/2.0\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("OPTIONS :abc SIP/2.0\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("OPTIONS SIP/2.0\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("INV(ITE sip:a@b SIP/2.0\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str(" INVITE sip:a@b SIP/2.0\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("GET http://x/ HTTP/1.1\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(sl_sip_look((const uint8_t *)"INVITE sip:a@b\0SIP/2.0\r\n", 24),
                     SL_LOOK_NOT_SIP);
}

static void test_look_responses(void **state)
{
    (void)state;
    assert_int_equal(look_str("SIP/2.0 200 OK\r\n"), SL_LOOK_RESPONSE);
    assert_int_equal(look_str("\r\nSIP/2.0 180 Ringing\r\n"), SL_LOOK_RESPONSE);
    assert_int_equal(look_str("sip/2.0 486 Busy Here\r\n"), SL_LOOK_RESPONSE);
    assert_int_equal(look_str("SIP/2.0 100 \r\n"), SL_LOOK_RESPONSE);
    assert_int_equal(look_str("SIP/2.0 100\r\n"), SL_LOOK_RESPONSE);   // tolerated
    assert_int_equal(look_str("SIP/2.0 699 x"), SL_LOOK_RESPONSE);     // end of data
    assert_int_equal(look_str("SIP/2.0 999 x\r\n"), SL_LOOK_RESPONSE); // 3 digits is all

    assert_int_equal(look_str("SIP/2.0 2000 OK\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("SIP/2.0 20 OK\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("SIP/2.0200 OK\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("SIP/2.1 200 OK\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("SIP/2.0 OK 200\r\n"), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("HTTP/1.1 200 OK\r\n"), SL_LOOK_NOT_SIP);
}

static void test_look_keepalives(void **state)
{
    static uint8_t many[9000];

    (void)state;
    assert_int_equal(look_str("\r\n"), SL_LOOK_KEEPALIVE);
    assert_int_equal(look_str("\r\n\r\n"), SL_LOOK_KEEPALIVE);
    assert_int_equal(look_str("\n"), SL_LOOK_KEEPALIVE);
    /* more CR/LF than the look window: no keep-alive we vouch for */
    memset(many, '\n', sizeof(many));
    assert_int_equal(sl_sip_look(many, sizeof(many)), SL_LOOK_NOT_SIP);
    assert_int_equal(sl_sip_look(many, 8192), SL_LOOK_KEEPALIVE);
}

static void test_look_binary_and_empty(void **state)
{
    /* an RTP packet: V=2, PT 0, seq 1, ts, SSRC, then PCMU samples */
    static const uint8_t rtp[] = { 0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa0, 0xde, 0xad,
                                   0xbe, 0xef, 0xff, 0xfe, 0x7f, 0x0d, 0x0a, 0x53, 0x49, 0x50 };
    static const uint8_t stun[] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };

    (void)state;
    assert_int_equal(sl_sip_look(rtp, sizeof(rtp)), SL_LOOK_NOT_SIP);
    assert_int_equal(sl_sip_look(stun, sizeof(stun)), SL_LOOK_NOT_SIP);
    assert_int_equal(sl_sip_look((const uint8_t *)"", 0), SL_LOOK_NOT_SIP);
    assert_int_equal(sl_sip_look(NULL, 0), SL_LOOK_NOT_SIP);
    assert_int_equal(sl_sip_look(NULL, 10), SL_LOOK_NOT_SIP);
    assert_int_equal(look_str("x"), SL_LOOK_NOT_SIP);
}

/* ---------------------------------------------------------- sl_msg_parse -- */

static const char invite_sdp[] =
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/udp Client.Atlanta.Example.com:5060"
        ";branch=z9hG4bK74BF9;rport;received=192.0.2.101\r\n"
        "Max-Forwards: 70\r\n"
        "From: \"Alice A.\" <sip:alice@atlanta.example.com>;tag=9FXQ\r\n"
        "To: Bob <sip:bob@biloxi.example.com>\r\n"
        "Call-ID: 3848276298220188511@Atlanta.Example.com\r\n"
        "CSeq: 2 INVITE\r\n"
        "Contact: <sip:alice@client.atlanta.example.com;transport=udp>\r\n"
        "Supported: 100rel, Timer\r\n"
        "Require: precondition\r\n"
        "Session-Expires: 1800;refresher=uac\r\n"
        "Min-SE: 90\r\n"
        "Expires: 120\r\n"
        "User-Agent: SoftPhone/1.0 (x, y)\r\n"
        "Proxy-Authorization: Digest username=\"alice\", realm=\"x\"\r\n"
        "Content-Type: Application/SDP\r\n"
        "Content-Length: 151\r\n"
        "\r\n"
        "v=0\r\n"
        "o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\n"
        "s=-\r\n"
        "c=IN IP4 192.0.2.101\r\n"
        "t=0 0\r\n"
        "m=audio 49172 RTP/AVP 0\r\n"
        "a=rtpmap:0 PCMU/8000\r\n";

static void test_msg_invite_with_sdp(void **state)
{
    struct sl_msg m;
    struct sl_err err = { 0 };

    (void)state;
    assert_int_equal(strlen(invite_sdp) - (size_t)(strstr(invite_sdp, "\r\n\r\n") + 4 - invite_sdp),
                     151);
    assert_int_equal(parse_str(&m, invite_sdp, &err), SL_OK);
    assert_true(m.is_request);
    assert_string_equal(m.method, "INVITE");
    assert_string_equal(m.ruri, "sip:bob@biloxi.example.com");
    assert_int_equal(m.status, -1);
    assert_null(m.reason);
    assert_string_equal(m.call_id, "3848276298220188511@Atlanta.Example.com");
    assert_string_equal(m.from_uri, "sip:alice@atlanta.example.com");
    assert_string_equal(m.from_tag, "9fxq");
    assert_string_equal(m.from_display, "Alice A.");
    assert_string_equal(m.to_uri, "sip:bob@biloxi.example.com");
    assert_null(m.to_tag);
    assert_string_equal(m.to_display, "Bob");
    assert_int_equal(m.cseq_num, 2);
    assert_string_equal(m.cseq_method, "INVITE");
    assert_int_equal(m.via_count, 1);
    assert_string_equal(m.via_branch, "z9hg4bk74bf9");
    assert_string_equal(m.via_sent_by, "client.atlanta.example.com:5060");
    assert_string_equal(m.via_transport, "UDP");
    assert_string_equal(m.via_received, "192.0.2.101");
    assert_int_equal(m.via_rport, 0);
    assert_int_equal(m.max_forwards, 70);
    assert_string_equal(m.contact, "sip:alice@client.atlanta.example.com;transport=udp");
    assert_int_equal(m.contact_count, 1);
    assert_int_equal(m.expires, 120);
    assert_int_equal(m.session_expires, 1800);
    assert_string_equal(m.se_refresher, "uac");
    assert_int_equal(m.min_se, 90);
    assert_string_equal(m.supported, "100rel, timer");
    assert_string_equal(m.require, "precondition");
    assert_int_equal(m.retry_after, -1);
    assert_int_equal(m.rseq, -1);
    assert_int_equal(m.rack_rseq, -1);
    assert_int_equal(m.rack_cseq, -1);
    assert_null(m.rack_method);
    assert_null(m.reason_hdr);
    assert_string_equal(m.user_agent, "SoftPhone/1.0 (x, y)");
    assert_true(m.has_auth);
    assert_string_equal(m.content_type, "application/sdp");
    assert_int_equal(m.content_length, 151);
    assert_int_equal(m.body_len, 151);
    assert_string_equal(m.sdp_o_user, "alice");
    assert_string_equal(m.sdp_o_sess_id, "2890844526");
    assert_string_equal(m.sdp_o_version, "2890844526");
    assert_string_equal(m.sdp_o_addr, "client.atlanta.example.com");
    assert_int_equal(m.n_headers, 16);
    sl_msg_fini(&m);
    assert_null(m.method);
    assert_int_equal(m.n_headers, 0);
}

static void test_msg_response_200(void **state)
{
    static const char ok[] = "SIP/2.0 200 OK, fine\r\n"
                             "Via: SIP/2.0/TCP [2001:DB8::1]:5061;branch=z9hG4bKnashds8"
                             ";rport=5070;received=2001:db8::9\r\n"
                             "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK77ef4c2312983.1\r\n"
                             "From: <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
                             "To: \"B\" <sip:bob@biloxi.example.com>;tag=8321234356\r\n"
                             "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
                             "CSeq: 1 INVITE\r\n"
                             "Contact: <sip:bob@192.0.2.4>, <sip:bob@192.0.2.5>;q=0.5\r\n"
                             "Server: Biloxi/2.0\r\n"
                             "User-Agent: not-this-one\r\n"
                             "Require: 100rel\r\n"
                             "RSeq: 988789\r\n"
                             "Content-Length: 0\r\n"
                             "\r\n";
    struct sl_msg m;
    struct sl_err err = { 0 };

    (void)state;
    assert_int_equal(parse_str(&m, ok, &err), SL_OK);
    assert_false(m.is_request);
    assert_null(m.method);
    assert_null(m.ruri);
    assert_int_equal(m.status, 200);
    assert_string_equal(m.reason, "OK, fine");
    assert_string_equal(m.to_tag, "8321234356");
    assert_string_equal(m.to_display, "B");
    assert_null(m.from_display);
    assert_int_equal(m.via_count, 2);
    assert_string_equal(m.via_sent_by, "[2001:db8::1]:5061");
    assert_string_equal(m.via_transport, "TCP");
    assert_string_equal(m.via_branch, "z9hg4bknashds8");
    assert_int_equal(m.via_rport, 5070);
    assert_string_equal(m.via_received, "2001:db8::9");
    assert_string_equal(m.contact, "sip:bob@192.0.2.4");
    assert_int_equal(m.contact_count, 2);
    assert_string_equal(m.user_agent, "Biloxi/2.0");
    assert_int_equal(m.rseq, 988789);
    assert_int_equal(m.max_forwards, -1);
    assert_int_equal(m.expires, -1);
    assert_false(m.has_auth);
    assert_null(m.content_type);
    assert_int_equal(m.content_length, 0);
    assert_int_equal(m.body_len, 0);
    assert_null(m.sdp_o_user);
    assert_int_equal(m.n_headers, 12);
    sl_msg_fini(&m);

    /* RFC 3261 7.1: the version is case-insensitive (libosip2 wants "SIP/"). */
    assert_int_equal(parse_str(&m,
                               "\r\nsip/2.0 180  Ringing \r\nVia: SIP/2.0/UDP h\r\n"
                               "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\n"
                               "Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
                               &err),
                     SL_OK);
    assert_int_equal(m.status, 180);
    assert_string_equal(m.reason, " Ringing "); // Reason-Phrase may hold SP
    sl_msg_fini(&m);
}

/* msg.c writes URIs and the Call-ID itself, as libosip2's own _to_str
 * functions would: compared with them on escapes, IPv6, passwords, the
 * parameters they drop, headers and absolute URIs. */
static void expect_same_text(const char *ruri, const char *from, const char *contact,
                             const char *call_id)
{
    char msg[2048];
    struct sl_msg m;
    struct sl_err err = { 0 };
    osip_message_t *sip = NULL;
    osip_contact_t *c;
    char *s = NULL;

    (void)snprintf(msg, sizeof(msg),
                   "INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <%s>;tag=1\r\n"
                   "To: %s\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <%s>\r\n"
                   "Content-Length: 0\r\n\r\n",
                   ruri, from, from, call_id, contact);
    if (parse_str(&m, msg, &err) != SL_OK)
        fail_msg("%s: %s", msg, err.msg);
    assert_int_equal(osip_message_init(&sip), 0);
    assert_int_equal(osip_message_parse(sip, msg, strlen(msg)), 0);
    assert_int_equal(osip_uri_to_str(sip->req_uri, &s), 0);
    assert_string_equal(m.ruri, s);
    osip_free(s);
    assert_int_equal(osip_uri_to_str(sip->from->url, &s), 0);
    assert_string_equal(m.from_uri, s);
    osip_free(s);
    assert_int_equal(osip_uri_to_str(sip->to->url, &s), 0);
    assert_string_equal(m.to_uri, s);
    osip_free(s);
    c = osip_list_get(&sip->contacts, 0);
    assert_non_null(c);
    assert_int_equal(osip_uri_to_str(c->url, &s), 0);
    assert_string_equal(m.contact, s);
    osip_free(s);
    assert_int_equal(osip_call_id_to_str(sip->call_id, &s), 0);
    assert_string_equal(m.call_id, s);
    osip_free(s);
    osip_message_free(sip);
    sl_msg_fini(&m);
}

static void test_msg_uri_text_as_libosip2(void **state)
{
    (void)state;
    expect_same_text("sip:bob@example.com", "sip:alice@example.com", "sip:a@192.0.2.1:5060",
                     "abc@def");
    expect_same_text("sips:%61l%20ice:pa%3Ass%40w@[2001:db8::1]:5061;transport=tls;lr;maddr=[::1]",
                     "sip:a%C3%A9b@h;user=phone;x-obr=1;X-OBP;y=%e9%7e;tag2",
                     "sip:u;par=u%40v?@h;p=a/b:c&d+$e;q=%22%3B", "only-a-number");
    expect_same_text("sip:host", "sip:a&b=c+d$e,f;g?h/i~*'()@host.example:1", "sip:h;a=b;c",
                     "x@y@z");
    expect_same_text("tel:+1-201-555-0123;phone-context=example.com", "sip:h?subject=x&h=y",
                     "mailto:someone@example.com", "%41@%42");
    expect_same_text("sip:user:p%20w@h", "SIP:UPPER@HOST;Transport=UDP", "sip:[::1]", "n@");
}

static void test_msg_compact_forms(void **state)
{
    static const char c[] = "MESSAGE sip:bob@example.com SIP/2.0\r\n"
                            "v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n"
                            "f: <sip:alice@example.com>;tag=aa\r\n"
                            "t: <sip:bob@example.com>\r\n"
                            "i: compact@example.com\r\n"
                            "CSeq: 7 MESSAGE\r\n"
                            "m: <sip:alice@192.0.2.1>\r\n"
                            "k: 100rel\r\n"
                            "K: Path\r\n"
                            "x: 600;refresher=UAS\r\n"
                            "s: a subject, with comma\r\n"
                            "e: gzip\r\n"
                            "c: text/plain\r\n"
                            "l:\r\n 5\r\n" // folded (RFC 3261 7.3.1)
                            "\r\n"
                            "hello";
    struct sl_msg m;
    struct sl_err err = { 0 };

    (void)state;
    assert_int_equal(parse_str(&m, c, &err), SL_OK);
    assert_int_equal(m.via_count, 1);
    assert_string_equal(m.via_branch, "z9hg4bk1");
    assert_string_equal(m.from_tag, "aa");
    assert_string_equal(m.to_uri, "sip:bob@example.com");
    assert_string_equal(m.call_id, "compact@example.com");
    assert_string_equal(m.contact, "sip:alice@192.0.2.1");
    assert_string_equal(m.supported, "100rel, path");
    assert_int_equal(m.session_expires, 600);
    assert_string_equal(m.se_refresher, "uas");
    assert_string_equal(m.content_type, "text/plain");
    assert_int_equal(m.content_length, 5);
    assert_int_equal(m.body_len, 5);
    assert_int_equal(m.n_headers, 13);
    sl_msg_fini(&m);
}

static void test_msg_via_count_over_rows(void **state)
{
    static const char v[] = "OPTIONS sip:x@example.com SIP/2.0\r\n"
                            "Via: SIP/2.0/TLS Proxy2.example.com:5061;Branch=z9hG4bK-A2\r\n"
                            "Via: SIP/2.0/UDP proxy1.example.com;branch=z9hG4bK-b1\r\n"
                            "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-c, SIP/2.0/TCP "
                            "192.0.2.2;branch=z9hG4bK-d,SIP/2.0/UDP h;branch=e\r\n"
                            "From: <sip:a@example.com>;tag=1\r\n"
                            "To: <sip:x@example.com>\r\n"
                            "Call-ID: v\r\n"
                            "CSeq: 1 OPTIONS\r\n"
                            "\r\n";
    struct sl_msg m;
    struct sl_err err = { 0 };

    (void)state;
    assert_int_equal(parse_str(&m, v, &err), SL_OK);
    assert_int_equal(m.via_count, 5);
    assert_string_equal(m.via_branch, "z9hg4bk-a2");
    assert_string_equal(m.via_sent_by, "proxy2.example.com:5061");
    assert_string_equal(m.via_transport, "TLS");
    assert_null(m.via_received);
    assert_int_equal(m.via_rport, -1);
    assert_int_equal(m.content_length, -1); // absent, although libosip2 invents one
    assert_int_equal(m.n_headers, 7);
    sl_msg_fini(&m);
}

static void test_msg_tags_lowered_call_id_kept(void **state)
{
    static const char t[] = "BYE sip:b@example.com SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP h;BRANCH=Z9HG4BK-XyZ\r\n"
                            "From: <sip:a@example.com>;TAG=AbCdEf\r\n"
                            "To: <sip:b@example.com>;tag=QWERTY\r\n"
                            "Call-ID: MiXeD-Case@Host.Example\r\n"
                            "CSeq: 3 bye\r\n"
                            "\r\n";
    struct sl_msg m;
    struct sl_err err = { 0 };

    (void)state;
    assert_int_equal(parse_str(&m, t, &err), SL_OK);
    assert_string_equal(m.from_tag, "abcdef");
    assert_string_equal(m.to_tag, "qwerty");
    assert_string_equal(m.via_branch, "z9hg4bk-xyz");
    assert_string_equal(m.call_id, "MiXeD-Case@Host.Example");
    assert_string_equal(m.cseq_method, "bye"); // RFC 3261 20.16: case-sensitive
    assert_int_equal(m.body_len, 0);
    assert_int_equal(m.content_length, -1);
    sl_msg_fini(&m);
}

static int64_t cseq_of(const char *value)
{
    char buf[512];
    struct sl_msg m;
    struct sl_err err = { 0 };
    int64_t v;

    (void)snprintf(buf, sizeof(buf),
                   "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                   "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
                   "Call-ID: c\r\nCSeq: %s OPTIONS\r\n\r\n",
                   value);
    assert_int_equal(parse_str(&m, buf, &err), SL_OK);
    assert_string_equal(m.cseq_method, "OPTIONS");
    v = m.cseq_num;
    sl_msg_fini(&m);
    return v;
}

static void test_msg_cseq_range(void **state)
{
    (void)state;
    assert_int_equal(cseq_of("0"), 0);
    assert_int_equal(cseq_of("0009"), 9);
    assert_int_equal(cseq_of("2147483648"), 2147483648);
    assert_int_equal(cseq_of("4294967295"), 4294967295);
    assert_int_equal(cseq_of("4294967296"), -1);
    assert_int_equal(cseq_of("99999999999999999999999999"), -1);
    assert_int_equal(cseq_of("-1"), -1);
    assert_int_equal(cseq_of("+5"), -1);
    assert_int_equal(cseq_of("abc"), -1);
    assert_int_equal(cseq_of("12a"), -1);
}

static void test_msg_session_timer_retry_rack_reason(void **state)
{
    static const char s[] = "PRACK sip:bob@192.0.2.4 SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                            "From: <sip:a@example.com>;tag=1\r\n"
                            "To: <sip:b@example.com>;tag=2\r\n"
                            "Call-ID: p\r\n"
                            "CSeq: 2 PRACK\r\n"
                            "Session-Expires: 4294967295 ; Refresher = Proxy\r\n"
                            "Min-SE: 120;x=y\r\n"
                            "Retry-After: 120 (I'm in a meeting, back soon);duration=60\r\n"
                            "RSeq: 4294967296\r\n"
                            "RAck: 988789  1 INVITE\r\n"
                            "Reason: SIP;cause=200;text=\"Call completed, elsewhere\"\r\n"
                            "Reason: Q.850;cause=16, SIP;cause=480\r\n"
                            "Require: 100rel\r\n"
                            "require: Timer , , Path\r\n"
                            "Proxy-Require: foo\r\n"
                            "proxy-require: Bar, TIMER\r\n"
                            "Authorization: Digest username=\"a\", realm=\"b\", nonce=\"c\"\r\n"
                            "Max-Forwards: 0068\r\n"
                            "\r\n";
    struct sl_msg m;
    struct sl_err err = { 0 };

    (void)state;
    assert_int_equal(parse_str(&m, s, &err), SL_OK);
    assert_int_equal(m.session_expires, 4294967295);
    assert_string_equal(m.se_refresher, "Proxy"); // not uac/uas: as sent
    assert_int_equal(m.min_se, 120);
    assert_int_equal(m.retry_after, 120);
    assert_int_equal(m.rseq, -1); // > 2^32 - 1
    assert_int_equal(m.rack_rseq, 988789);
    assert_int_equal(m.rack_cseq, 1);
    assert_string_equal(m.rack_method, "INVITE");
    assert_string_equal(m.reason_hdr, "SIP;cause=200;text=\"Call completed, elsewhere\", "
                                      "Q.850;cause=16, SIP;cause=480");
    assert_string_equal(m.require, "100rel, timer, path");
    assert_string_equal(m.proxy_require, "foo, bar, timer"); // every row, not only the first
    assert_null(m.supported);
    assert_true(m.has_auth);
    assert_int_equal(m.max_forwards, 68);
    assert_null(m.user_agent);
    sl_msg_fini(&m);

    /* Odd values: no number, an empty Supported, a RAck with two parts. */
    assert_int_equal(parse_str(&m,
                               "UPDATE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
                               "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: u\r\n"
                               "CSeq: 3 UPDATE\r\nSession-Expires: soon\r\nMin-SE: 90s\r\n"
                               "Retry-After: -5\r\nRAck: 5 x\r\nSupported:\r\n"
                               "Expires: 1.5\r\nUser-Agent:\r\n\r\n",
                               &err),
                     SL_OK);
    assert_int_equal(m.session_expires, -1);
    assert_null(m.se_refresher);
    assert_int_equal(m.min_se, -1);
    assert_int_equal(m.retry_after, -1);
    assert_int_equal(m.rack_rseq, 5);
    assert_int_equal(m.rack_cseq, -1);
    assert_null(m.rack_method);
    assert_string_equal(m.supported, "");
    assert_int_equal(m.expires, -1);
    assert_string_equal(m.user_agent, "");
    assert_null(m.via_branch);
    sl_msg_fini(&m);
}

#define SDP6   "v=0\r\no=- 1 2 IN IP6 ::1\r\n"
#define SDP_LF "v=0\no=- 1 2 IN IP6 ::1\ns=-\n"

static void test_msg_body_handling(void **state)
{
    static const char nul_body[] = "MESSAGE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
                                   "l: 4\r\n\r\nab\0d";
    struct sl_msg m;
    struct sl_err err = { 0 };

    (void)state;
    /* body longer than Content-Length: libosip2 cuts; body_len is what is there */
    assert_int_equal(parse_str(&m,
                               "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@x>;tag=1\r\n"
                               "To: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
                               "Content-Type: application/sdp\r\nContent-Length: 12\r\n\r\n" SDP6,
                               &err),
                     SL_OK);
    assert_int_equal(m.content_length, 12);
    assert_int_equal(m.body_len, sizeof(SDP6) - 1);
    assert_null(m.sdp_o_user); // the o= line lies past Content-Length
    sl_msg_fini(&m);

    /* no Content-Length; SDP o= with LF line ends and an IPv6 address */
    assert_int_equal(parse_str(&m,
                               "SIP/2.0 183 Session Progress\nVia: SIP/2.0/UDP h\nFrom: "
                               "<sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: c\nCSeq: 1 INVITE\n"
                               "c: application/sdp\n\n" SDP_LF,
                               &err),
                     SL_OK);
    assert_int_equal(m.content_length, -1);
    assert_int_equal(m.body_len, sizeof(SDP_LF) - 1);
    assert_string_equal(m.sdp_o_user, "-");
    assert_string_equal(m.sdp_o_sess_id, "1");
    assert_string_equal(m.sdp_o_version, "2");
    assert_string_equal(m.sdp_o_addr, "::1");
    sl_msg_fini(&m);

    /* an o= line with five fields, and a body without Content-Type */
    assert_int_equal(parse_str(&m,
                               "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nContent-Type: "
                               "application/sdp\r\nContent-Length: 23\r\n\r\n"
                               "v=0\r\no=- 1 2 IN IP4\r\n\r\n",
                               &err),
                     SL_OK);
    assert_null(m.sdp_o_user);
    assert_null(m.call_id); // missing headers are not refused
    assert_null(m.from_uri);
    assert_int_equal(m.cseq_num, -1);
    sl_msg_fini(&m);
    /* a NUL in the body is fine: the length is explicit */
    assert_int_equal(sl_msg_parse(&m, (const uint8_t *)nul_body, sizeof(nul_body) - 1, 100, &err),
                     SL_OK);
    assert_null(m.content_type);
    assert_int_equal(m.content_length, 4);
    assert_int_equal(m.body_len, 4);
    sl_msg_fini(&m);

    /* Contact: *, Expires: 0 (RFC 3261 10.2.2) */
    assert_int_equal(parse_str(&m,
                               "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
                               "From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n"
                               "Call-ID: r\r\nCSeq: 9 REGISTER\r\nContact: *\r\nExpires: 0\r\n\r\n",
                               &err),
                     SL_OK);
    assert_string_equal(m.contact, "*");
    assert_int_equal(m.contact_count, 1);
    assert_int_equal(m.expires, 0);
    sl_msg_fini(&m);
}

static void test_msg_refusals_are_explained(void **state)
{
    (void)state;
    expect_refused("OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@x>\r\n"
                   "From: <sip:c@x>\r\nTo: <sip:b@x>\r\nCall-ID: d\r\nCSeq: 1 OPTIONS\r\n\r\n",
                   SL_EFORMAT, "more than one From header");
    expect_refused("OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\ni: a\r\nCall-ID: b\r\n\r\n",
                   SL_EFORMAT, "more than one Call-ID header");
    expect_refused("OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCSeq: 5\r\n\r\n", SL_EFORMAT,
                   "libosip2 refused header row 2: \"CSeq: 5\"");
    expect_refused("OPTIONS sip:b@x SIP/2.0\r\nVia: garbage\r\n\r\n", SL_EFORMAT,
                   "row 1: \"Via: garbage\"");
    expect_refused(
            "OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nNo colon \x01\xff here\r\n\r\n",
            SL_EFORMAT, "row 2: \"No colon \\x01\\xff here\"");
    expect_refused("OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nContent-Type: text/plain\r\n"
                   "Content-Length: 10\r\n\r\nshort",
                   SL_EFORMAT, "Content-Length 10 > 5 body bytes present");
    expect_refused("OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nContent-Length: ten\r\n\r\n",
                   SL_EFORMAT, "Content-Length \"ten\" is not a number");
    expect_refused("SIP/2.0 180\r\nVia: SIP/2.0/UDP h\r\n\r\n", SL_EFORMAT,
                   "no SP after status code 180");
    expect_refused("SIP/2.0 999 Odd\r\nVia: SIP/2.0/UDP h\r\n\r\n", SL_EFORMAT,
                   "status code 999 outside 100..699");
    expect_refused("SIP/2.0 2000 Odd\r\nVia: SIP/2.0/UDP h\r\n\r\n", SL_EFORMAT,
                   "not a SIP/2.0 request or status line: \"SIP/2.0 2000 Odd\"");
    expect_refused("OPTIONS sip:b@x SIP/7.0\r\n\r\n", SL_EFORMAT, "not a SIP/2.0 request");
    expect_refused("\x80\x00\x12\x34 binary\r\n", SL_EFORMAT,
                   "not a SIP/2.0 request or status line: \"\\x80\"");
    expect_refused("\r\n\r\n", SL_EFORMAT, "not a SIP/2.0 request or status line: \"\"");
    expect_refused("", SL_EFORMAT, "empty message");
    expect_refused("INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
                   "Content-Type: multipart/mixed;boundary=xyz\r\nContent-Length: 5\r\n\r\nhello",
                   SL_EFORMAT,
                   "refused the 5-byte body (Content-Type \"multipart/mixed;boundary=xyz\")");
    expect_refused("INVITE  sip:b@x  SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n", SL_EFORMAT,
                   "libosip2 refused the start line \"INVITE  sip:b@x  SIP/2.0\"");

    /* a NUL in the header section: refused before libosip2 sees it */
    {
        static const char nul[] =
                "OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nX-A: a\0b\r\n\r\n";
        struct sl_msg m;
        struct sl_err err = { 0 };

        assert_int_equal(sl_msg_parse(&m, (const uint8_t *)nul, sizeof(nul) - 1, 1000, &err),
                         SL_EFORMAT);
        assert_string_equal(err.msg, "NUL byte in the header section (offset 51)");
        sl_msg_fini(&m);
    }
}

/* An OPTIONS with `rows` header rows in all (Via, From, To, Call-ID, CSeq and
 * X- rows), into buf; returns its length. */
static size_t many_rows(char *buf, size_t cap, size_t rows)
{
    size_t n, i;

    n = (size_t)snprintf(buf, cap,
                         "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                         "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: rows\r\n"
                         "CSeq: 1 OPTIONS\r\n");
    for (i = 5; i < rows && n + 32 < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "X-%zu: v\r\n", i);
    n += (size_t)snprintf(buf + n, cap - n, "\r\n");
    return n;
}

/* The header-rows cap is checked before libosip2 (quadratic in rows) sees
 * the message: a message at the cap parses, one row more is refused. */
static void test_msg_header_rows_cap(void **state)
{
    static char buf[200000];
    struct sl_msg m;
    struct sl_err err = { 0 };
    size_t n;

    (void)state;
    n = many_rows(buf, sizeof(buf), 50);
    assert_int_equal(sl_msg_parse_rows(&m, (const uint8_t *)buf, n, n, 50, &err), SL_OK);
    assert_int_equal(m.n_headers, 50);
    sl_msg_fini(&m);
    assert_int_equal(sl_msg_parse_rows(&m, (const uint8_t *)buf, n, n, 49, &err), SL_ELIMIT);
    assert_string_equal(err.msg, "message of 50 header rows, over the header-rows limit (49; "
                                 "--limit header-rows)");
    assert_null(m.call_id);
    sl_msg_fini(&m);
    /* the default, through sl_msg_parse */
    n = many_rows(buf, sizeof(buf), SL_MSG_MAX_ROWS_DEFAULT);
    assert_int_equal(sl_msg_parse(&m, (const uint8_t *)buf, n, sizeof(buf), &err), SL_OK);
    sl_msg_fini(&m);
    n = many_rows(buf, sizeof(buf), 10000);
    assert_int_equal(sl_msg_parse(&m, (const uint8_t *)buf, n, sizeof(buf), &err), SL_ELIMIT);
    assert_non_null(strstr(err.msg, "message of 10000 header rows"));
    sl_msg_fini(&m);
}

/* ---------------------------------------------------------------- lint -- */

static bool bad_start(const char *s, char *why, size_t len)
{
    why[0] = '\0';
    return sl_sip_bad_start((const uint8_t *)s, strlen(s), why, len);
}

/* SIP start lines with another version, or a status code that is not three
 * digits (RFC 4475 badvers, bigcode); nothing else. */
static void test_lint_bad_start_line(void **state)
{
    char why[256];

    (void)state;
    assert_true(bad_start("OPTIONS sip:t.watson@example.org SIP/7.0\r\nVia: x\r\n\r\n", why,
                          sizeof(why)));
    assert_string_equal(why, "request line with version SIP/7.0, not SIP/2.0 (RFC 3261 7.1): a "
                             "UAS answers 505 Version Not Supported");
    assert_true(bad_start("\r\nSIP/2.0 4294967301 better not break the receiver\r\n\r\n", why,
                          sizeof(why)));
    assert_string_equal(why, "status code 4294967301 is not three digits (RFC 3261 7.2, 21): the "
                             "response is dropped");
    assert_true(bad_start("SIP/2.0 40  Request Timeout\r\n", why, sizeof(why)));
    assert_non_null(strstr(why, "status code 40 is not"));
    assert_true(bad_start("SIP/3.0 200 OK\r\n", why, sizeof(why)));
    assert_non_null(strstr(why, "status line with version SIP/3.0"));
    assert_true(bad_start("INVITE sip:a@b sip/1.1\r\n", why, sizeof(why)));
    /* good SIP, other protocols, half lines: no */
    assert_false(bad_start("OPTIONS sip:a@b SIP/2.0\r\n", why, sizeof(why)));
    assert_false(bad_start("OPTIONS sip:a@b sip/2.0\r\n", why, sizeof(why)));
    assert_false(bad_start("SIP/2.0 200 OK\r\n", why, sizeof(why)));
    assert_false(bad_start("GET / HTTP/1.1\r\n", why, sizeof(why)));
    assert_false(bad_start("HTTP/1.1 200 OK\r\n", why, sizeof(why)));
    assert_false(bad_start("RTSP/1.0 200 OK\r\n", why, sizeof(why)));
    assert_false(bad_start("OPTIONS nouri SIP/7.0\r\n", why, sizeof(why)));
    assert_false(bad_start("OPTIONS sip:a@b SIP/7\r\n", why, sizeof(why)));
    assert_false(bad_start("SIP/2.0 abc\r\n", why, sizeof(why)));
    assert_false(bad_start("SIP/2.0 12a x\r\n", why, sizeof(why)));
    assert_false(bad_start("SIP/7.0\r\n", why, sizeof(why)));
    assert_false(bad_start("\r\n\r\n", why, sizeof(why)));
    assert_false(sl_sip_bad_start((const uint8_t *)"SIP/7.0 200 O\0K\r\n", 17, why, sizeof(why)));
    assert_false(sl_sip_bad_start(NULL, 0, why, sizeof(why)));
}

/* Parses s (it must parse) and lints it; returns the issues, joined by '|'. */
static const char *lint_str(const char *s)
{
    static char out[2048];
    struct sl_msg_issue is[8];
    struct sl_msg m;
    struct sl_err err = { 0 };
    size_t n, i, o = 0;

    assert_int_equal(parse_str(&m, s, &err), SL_OK);
    n = sl_msg_lint(&m, (const uint8_t *)s, strlen(s), is, 8);
    out[0] = '\0';
    for (i = 0; i < n; i++) {
        assert_string_equal(is[i].rule, "SIP-HDR-012");
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? "|" : "", is[i].text);
    }
    sl_msg_fini(&m);
    return out;
}

#define LINT_HEAD                                                                      \
    "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n" \
    "Call-ID: lint\r\n"

/* Header values RFC 3261 does not allow, which libosip2 lets through
 * (RFC 4475 scalar02, scalarlg, escruri, baddate, regbadct). */
static void test_lint_header_values(void **state)
{
    (void)state;
    assert_string_equal(lint_str("OPTIONS sip:a@b SIP/2.0\r\n" LINT_HEAD "CSeq: 1 OPTIONS\r\n"
                                 "Max-Forwards: 70\r\nExpires: 4294967295\r\n"
                                 "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
                                 "Contact: <sip:a@b?Route=x>;expires=4294967295\r\n"
                                 "Warning: 370 devnull \"x\"\r\n\r\n"),
                        "");
    assert_string_equal(
            lint_str("OPTIONS sip:a@b SIP/2.0\r\n" LINT_HEAD "CSeq: 4294967296 OPTIONS\r\n\r\n"),
            "CSeq number 4294967296 is over 2**32-1 (RFC 3261 8.1.1.5): a receiver "
            "answers 400");
    assert_string_equal(lint_str("OPTIONS sip:a@b SIP/2.0\r\n" LINT_HEAD
                                 "CSeq: 1 OPTIONS\r\nMax-Forwards: 256\r\n\r\n"),
                        "Max-Forwards 256 is over 255 (RFC 3261 20.22)");
    assert_string_equal(lint_str("REGISTER sip:a@b SIP/2.0\r\n" LINT_HEAD
                                 "CSeq: 1 REGISTER\r\nExpires: 99999999999999999999999\r\n"
                                 "m: sip:a@b;expires=4294967296\r\n\r\n"),
                        "Expires 99999999999999999999999 is over 2**32-1 (RFC 3261 20.19)|"
                        "Contact expires parameter 4294967296 is over 2**32-1 (RFC 3261 20.10, "
                        "20.19)");
    assert_string_equal(lint_str("INVITE sip:a@b?Route=%3Csip:c%3E SIP/2.0\r\n" LINT_HEAD
                                 "CSeq: 1 INVITE\r\nDate: Fri, 01 Jan 2010 16:00:00 EST\r\n\r\n"),
                        "the Request-URI carries headers ('?Route=%3Csip:c%3E'), which a "
                        "Request-URI may not (RFC 3261 19.1.1 Table 1)|Date 'Fri, 01 Jan 2010 "
                        "16:00:00 EST' is not in GMT (RFC 3261 20.17, 25.1)");
    assert_string_equal(lint_str("REGISTER sip:a@b SIP/2.0\r\n" LINT_HEAD "CSeq: 1 REGISTER\r\n"
                                 "Contact: sip:u@h?Route=%3Csip:r%3E\r\n\r\n"),
                        "Contact URI 'sip:u@h?Route=%3Csip:r%3E' has a '?' but is not enclosed in "
                        "<> (RFC 3261 20.10)");
    assert_string_equal(lint_str("SIP/2.0 503 Service Unavailable\r\n" LINT_HEAD
                                 "CSeq: 1 OPTIONS\r\nWarning: 1812 overture \"In Progress\"\r\n"
                                 "\r\n"),
                        "Warning '1812 overture \"In Progress\"': the warn-code is not three "
                        "digits (RFC 3261 20.43)");
    /* control bytes and invalid UTF-8: one issue per kind, naming the places;
     * HT, folding and quoted-pairs are fine, so is valid UTF-8 */
    assert_string_equal(lint_str("OPTIONS sip:a@b SIP/2.0\r\n" LINT_HEAD "CSeq: 1 OPTIONS\r\n"
                                 "Subject: caf\xc3\xa9\tok \"a\\\x07b\"\r\n"
                                 "X-Folded: a\r\n\tb\r\n\r\n"),
                        "");
    assert_string_equal(lint_str("SIP/2.0 486 Busy \x1b[2J\xff\r\n" LINT_HEAD
                                 "CSeq: 1 OPTIONS\r\nUser-Agent: x\x7f\r\n"
                                 "Subject: \xc3\x28\r\n\r\n"),
                        "control bytes (the first 0x1b) in the start line, row 6 (User-Agent) "
                        "(RFC 3261 25.1): a strict receiver answers 400|invalid UTF-8 in the start "
                        "line, row 7 (Subject) (RFC 3261 25.1, RFC 3629); the report shows U+FFFD "
                        "for the bad bytes");
    /* a folded row is one value; a huge value is quoted cut */
    assert_string_equal(lint_str("OPTIONS sip:a@b SIP/2.0\r\n" LINT_HEAD "CSeq: 1 OPTIONS\r\n"
                                 "Max-Forwards:\r\n 9999\r\n\r\n"),
                        "Max-Forwards 9999 is over 255 (RFC 3261 20.22)");
    assert_string_equal(lint_str("OPTIONS sip:a@b SIP/2.0\r\n" LINT_HEAD "CSeq: 1 OPTIONS\r\n"
                                 "Date: 0123456789012345678901234567890123456789 EST\r\n\r\n"),
                        "Date '01234567890123456789012345678901...' is not in GMT (RFC 3261 "
                        "20.17, 25.1)");
}

static void test_msg_over_limit(void **state)
{
    struct sl_msg m;
    struct sl_err err = { 0 };
    size_t n = strlen(invite_sdp);
    char want[128];

    (void)state;
    assert_int_equal(sl_msg_parse(&m, (const uint8_t *)invite_sdp, n, n - 1, &err), SL_ELIMIT);
    assert_int_equal(err.code, SL_ELIMIT);
    (void)snprintf(want, sizeof(want),
                   "message of %zu bytes, over the message-size limit (%zu; --limit "
                   "message-size)",
                   n, n - 1);
    assert_string_equal(err.msg, want);
    assert_null(m.method);
    sl_msg_fini(&m);
    assert_int_equal(sl_msg_parse(&m, (const uint8_t *)invite_sdp, n, n, &err), SL_OK);
    sl_msg_fini(&m);
}

/* Every prefix of a good message: parses or is refused, never crashes or
 * leaks (ASan's leak checker runs at exit). */
static void test_msg_every_truncation(void **state)
{
    static const char *const msgs[] = {
        invite_sdp,
        "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP [::1]:5060;branch=z9hG4bK1;rport=1\r\n"
        "f: \"A\" <sip:a@x>;tag=1\r\nt: <sip:b@x>;tag=2\r\ni: c@h\r\nCSeq: 1 INVITE\r\n"
        "x: 90;refresher=uas\r\nRAck: 1 1 INVITE\r\nc: application/sdp\r\nl: 20\r\n\r\n"
        "v=0\no=a 1 2 IN IP4 h\n",
    };
    size_t i, len, ok, n;
    struct sl_msg m;
    struct sl_err err;

    (void)state;
    for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        n = strlen(msgs[i]);
        ok = 0;
        for (len = 0; len <= n; len++) {
            uint8_t *copy = malloc(len + 1); // exact size: ASan sees over-reads
            int rc;

            assert_non_null(copy);
            memcpy(copy, msgs[i], len);
            rc = sl_msg_parse(&m, copy, len, SL_MSG_MAX_LEN_DEFAULT, &err);
            assert_true(rc == SL_OK || rc == SL_EFORMAT);
            if (rc == SL_OK) {
                ok++;
                assert_true(m.body_len <= len);
            } else {
                assert_true(err.msg[0] != '\0');
            }
            sl_msg_fini(&m);
            free(copy);
        }
        assert_true(ok > 0);
    }
}

/* libosip2 prints its traces to stdout unless told otherwise; we must not. */
static void test_msg_prints_nothing(void **state)
{
    struct sl_msg m;
    struct sl_err err;
    FILE *tmp = tmpfile();
    int saved;
    long size;

    (void)state;
    assert_non_null(tmp);
    fflush(stdout);
    fflush(stderr);
    saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
    (void)parse_str(&m, "OPTIONS sip:b@x SIP/2.0\r\nVia: garbage\r\nCSeq: 1\r\n\r\n", &err);
    sl_msg_fini(&m);
    (void)parse_str(&m, "SIP/2.0 200 OK\r\nContent-Length: 99\r\n\r\nx", &err);
    sl_msg_fini(&m);
    fflush(stdout);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    assert_int_equal(fseek(tmp, 0, SEEK_END), 0);
    size = ftell(tmp);
    fclose(tmp);
    assert_int_equal(size, 0);
}

static void test_msg_fini_is_safe(void **state)
{
    struct sl_msg m;

    (void)state;
    memset(&m, 0, sizeof(m));
    sl_msg_fini(&m);
    sl_msg_fini(&m);
    sl_msg_fini(NULL);
    sl_sip_init();
    sl_sip_init();
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* RFC 4475 torture tests: no crash, no leak; print what parsed and why the
 * others were refused. */
static void test_msg_rfc4475_corpus(void **state)
{
    DIR *d = opendir(RFC4475_DIR);
    struct dirent *e;
    char *names[256];
    size_t n_names = 0, i, parsed = 0, refused = 0;

    (void)state;
    if (d == NULL) {
        print_message("skipped: %s is absent\n", RFC4475_DIR);
        skip();
    }
    while ((e = readdir(d)) != NULL && n_names < 256) {
        size_t len = strlen(e->d_name);

        if (len > 4 && strcmp(e->d_name + len - 4, ".sip") == 0) {
            names[n_names] = strdup(e->d_name);
            assert_non_null(names[n_names]);
            n_names++;
        }
    }
    closedir(d);
    qsort(names, n_names, sizeof(names[0]), name_cmp);
    for (i = 0; i < n_names; i++) {
        char path[512];
        struct sl_msg m;
        struct sl_err err = { 0 };
        uint8_t *buf;
        size_t n = 0;
        int rc;

        (void)snprintf(path, sizeof(path), "%s/%s", RFC4475_DIR, names[i]);
        buf = test_slurp(path, &n);
        assert_non_null(buf);
        rc = sl_msg_parse(&m, buf, n, SL_MSG_MAX_LEN_DEFAULT, &err);
        assert_true(rc == SL_OK || rc == SL_EFORMAT);
        if (rc == SL_OK) {
            parsed++;
            print_message("  parsed  %-16s %s %s, %d Via, CSeq %lld\n", names[i],
                          m.is_request ? m.method : "status", m.is_request ? "" : m.reason,
                          m.via_count, (long long)m.cseq_num);
        } else {
            refused++;
            print_message("  refused %-16s %s\n", names[i], err.msg);
        }
        sl_msg_fini(&m);
        free(buf);
        free(names[i]);
    }
    print_message("rfc4475: %zu files, %zu parsed, %zu refused\n", n_names, parsed, refused);
    assert_int_equal(parsed + refused, n_names);
    assert_true(n_names > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_look_requests),
        cmocka_unit_test(test_look_responses),
        cmocka_unit_test(test_look_keepalives),
        cmocka_unit_test(test_look_binary_and_empty),
        cmocka_unit_test(test_msg_invite_with_sdp),
        cmocka_unit_test(test_msg_response_200),
        cmocka_unit_test(test_msg_compact_forms),
        cmocka_unit_test(test_msg_uri_text_as_libosip2),
        cmocka_unit_test(test_msg_via_count_over_rows),
        cmocka_unit_test(test_msg_tags_lowered_call_id_kept),
        cmocka_unit_test(test_msg_cseq_range),
        cmocka_unit_test(test_msg_session_timer_retry_rack_reason),
        cmocka_unit_test(test_msg_body_handling),
        cmocka_unit_test(test_msg_refusals_are_explained),
        cmocka_unit_test(test_lint_bad_start_line),
        cmocka_unit_test(test_lint_header_values),
        cmocka_unit_test(test_msg_over_limit),
        cmocka_unit_test(test_msg_header_rows_cap),
        cmocka_unit_test(test_msg_every_truncation),
        cmocka_unit_test(test_msg_prints_nothing),
        cmocka_unit_test(test_msg_fini_is_safe),
        cmocka_unit_test(test_msg_rfc4475_corpus),
    };

    sl_sip_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
