#!/usr/bin/env python3
"""A call whose SIP text carries terminal escape sequences, C0/C1 control
bytes and invalid UTF-8 (in the From display name, in headers, in a reason
phrase, in a message libosip2 refuses).  See README.md."""
import os, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
import pcapkit as k

ESC = b'\x1b'
# clear screen, set the window title, bell, cursor home, red, an OSC 8 link, a C1 CSI
NASTY = ESC + b'[2J' + ESC + b']0;pwned' + b'\x07' + ESC + b'[H' + ESC + b'[31m' + \
    ESC + b']8;;http://x/' + ESC + b'\\' + b'\xc2\x9b' + b'1m'
BAD_UTF8 = b'\xff\xfe\xc3\x28\xe2\x82\xf0\x9f\x98'   # invalid bytes, truncated sequences
A, B = ('192.0.2.10', 5060), ('192.0.2.20', 5060)
T0 = 1795000000


def msg(start, via_branch, cseq, extra=b'', to_tag=b'', body=b'', call_id=b'hostile-1@192.0.2.10'):
    to = b'<sip:bob@192.0.2.20>' + (b';tag=' + to_tag if to_tag else b'')
    return (start + b'\r\n'
            b'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK' + via_branch + b'\r\n'
            b'Max-Forwards: 70\r\n'
            b'From: "Mallory ' + NASTY + b' ' + BAD_UTF8 + b'" <sip:mallory@192.0.2.10>;tag=m1\r\n'
            b'To: ' + to + b'\r\n'
            b'Call-ID: ' + call_id + b'\r\n'
            b'CSeq: ' + cseq + b'\r\n'
            b'Contact: <sip:mallory@192.0.2.10:5060>\r\n'
            b'User-Agent: evil ' + NASTY + BAD_UTF8 + b'\r\n'
            b'Subject: ' + BAD_UTF8 + b' \x01\x02\x7f\r\n'
            + extra +
            b'Content-Length: ' + str(len(body)).encode() + b'\r\n\r\n' + body)


recs = []
def add(ms, src, dst, data):
    frame = k.udp_frame(src[0], src[1], dst[0], dst[1], data)
    recs.append((T0 + ms // 1000, (ms % 1000) * 1000, len(frame), frame))


add(0, A, B, msg(b'INVITE sip:bob@192.0.2.20 SIP/2.0', b'inv1', b'1 INVITE'))
# a final answer whose reason phrase is hostile too
add(50, B, A, msg(b'SIP/2.0 486 Busy ' + NASTY + BAD_UTF8, b'inv1', b'1 INVITE', to_tag=b'b1'))
add(60, A, B, msg(b'ACK sip:bob@192.0.2.20 SIP/2.0', b'inv1', b'1 ACK', to_tag=b'b1'))
# a second call whose Call-ID itself is hostile (it shows in every report)
EVIL_ID = b'evil' + ESC + b'[2J' + b'\xff\xfe' + b'\x07@192.0.2.10'
add(200, A, B, msg(b'OPTIONS sip:bob@192.0.2.20 SIP/2.0', b'opt1', b'1 OPTIONS', call_id=EVIL_ID))
add(210, B, A, msg(b'SIP/2.0 404 Not ' + NASTY, b'opt1', b'1 OPTIONS', to_tag=b'b2',
                   call_id=EVIL_ID))
# a request line libosip2 refuses, hostile in its Request-URI
add(300, A, B, b'OPTIONS sip:bob' + NASTY + BAD_UTF8 + b'@192.0.2.20 SIP/2.0\r\nCall-ID: hostile-3\r\n\r\n')
# a message libosip2 refuses, with the same bytes in its Request-URI and in the row it refuses
add(400, A, B, b'OPTIONS sip:carol' + NASTY + BAD_UTF8 + b'@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP ' + NASTY + BAD_UTF8 +
    b';;,;\r\nCall-ID: hostile-2\r\n\r\n')
k.write_pcap(os.path.join(here, 'capture.pcap'), recs)
