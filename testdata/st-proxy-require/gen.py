#!/usr/bin/env python3
"""Four INVITEs without Supported: timer that differ in Proxy-Require (SIP-ST-008 (c),
RFC 4028 §7.1).  See README.md."""
import os, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
import pcapkit as k

A, B = ('192.0.2.10', 5060), ('192.0.2.20', 5060)
T0 = 1795000000


def msg(start, n, cseq, extra=b'', to_tag=b''):
    to = b'<sip:bob@192.0.2.20>' + (b';tag=' + to_tag if to_tag else b'')
    return (start + b'\r\n'
            b'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKpr' + str(n).encode() +
            (b'b' if cseq.endswith(b'BYE') else b'') + b'\r\n'
            b'Max-Forwards: 70\r\n'
            b'From: <sip:alice@192.0.2.10>;tag=a' + str(n).encode() + b'\r\n'
            b'To: ' + to + b'\r\n'
            b'Call-ID: proxy-require-' + str(n).encode() + b'@192.0.2.10\r\n'
            b'CSeq: ' + cseq + b'\r\n'
            b'Contact: <sip:alice@192.0.2.10:5060>\r\n'
            + extra +
            b'Content-Length: 0\r\n\r\n')


def resp(status, n, cseq, to_tag=b''):
    return msg(b'SIP/2.0 ' + status, n, cseq, to_tag=to_tag).replace(
        b'Contact: <sip:alice@192.0.2.10:5060>', b'Contact: <sip:bob@192.0.2.20:5060>')


recs = []


def add(ms, src, dst, data):
    frame = k.udp_frame(src[0], src[1], dst[0], dst[1], data)
    recs.append((T0 + ms // 1000, (ms % 1000) * 1000, len(frame), frame))


CALLS = [
    b'Proxy-Require: timer\r\nSession-Expires: 1800\r\n',                 # (c) fires
    b'Proxy-Require: foo\r\nproxy-require: Bar, TIMER\r\n',               # (c) fires: a later row
    b'Proxy-Require: timers\r\n',                                          # quiet: not the tag timer
    b'Proxy-Require: timer\r\nSupported: timer\r\nSession-Expires: 1800\r\n',  # quiet: Supported
]
t = 0
for n, extra in enumerate(CALLS, 1):
    inv = b'INVITE sip:bob@192.0.2.20 SIP/2.0'
    add(t, A, B, msg(inv, n, b'1 INVITE', extra))
    add(t + 10, B, A, resp(b'200 OK', n, b'1 INVITE', to_tag=b'b' + str(n).encode()))
    ack = msg(b'ACK sip:bob@192.0.2.20:5060 SIP/2.0', n, b'1 ACK', to_tag=b'b' + str(n).encode())
    add(t + 20, A, B, ack.replace(b'branch=z9hG4bKpr' + str(n).encode(),
                                  b'branch=z9hG4bKpr' + str(n).encode() + b'a'))
    add(t + 1000, A, B, msg(b'BYE sip:bob@192.0.2.20:5060 SIP/2.0', n, b'2 BYE',
                            to_tag=b'b' + str(n).encode()))
    add(t + 1010, B, A, resp(b'200 OK', n, b'2 BYE', to_tag=b'b' + str(n).encode()))
    t += 2000

k.write_pcap(os.path.join(here, 'capture.pcap'), recs)
