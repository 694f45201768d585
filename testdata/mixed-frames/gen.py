#!/usr/bin/env python3
"""Every way a frame can be accounted for, one or two frames each, so the
report's counts can be checked by hand:
 1 ARP                                   -> not SIP (other)
 2 UDP 5060 OPTIONS (valid)              -> SIP
 3 UDP 200 OK to the OPTIONS             -> SIP
 4 UDP RTP-like binary                   -> not SIP (other)
 5 UDP CRLF CRLF keep-alive              -> not SIP (other, keep-alive)
 6 TCP segment with SIP                  -> not decoded (TCP)
 7 IPv4 fragment (MF set)                -> not decoded (IPv4 fragment)
 8 IPv4 total length larger than frame   -> problem SIP-CAP-003 (malformed)
 9 UDP length larger than IP payload     -> problem SIP-CAP-003 (malformed)
10 "INVITE ... SIP/2.0" with a broken header block -> problem SIP-HDR-011
11 ICMP                                  -> not SIP (other)
12 GRE                                   -> SIP (decapsulated)
13 SIP on a non-standard port (40000)    -> SIP
"""
import os, sys, struct
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
from pcapkit import ether, ipv4, udp, udp_frame, write_pcap

A, B = '192.0.2.10', '192.0.2.20'
options = (b'OPTIONS sip:b@192.0.2.20 SIP/2.0\r\n'
           b'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-opt1\r\n'
           b'Max-Forwards: 70\r\n'
           b'From: <sip:a@192.0.2.10>;tag=a1\r\n'
           b'To: <sip:b@192.0.2.20>\r\n'
           b'Call-ID: opt-1@192.0.2.10\r\n'
           b'CSeq: 1 OPTIONS\r\n'
           b'Content-Length: 0\r\n\r\n')
ok = (b'SIP/2.0 200 OK\r\n'
      b'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-opt1\r\n'
      b'From: <sip:a@192.0.2.10>;tag=a1\r\n'
      b'To: <sip:b@192.0.2.20>;tag=b1\r\n'
      b'Call-ID: opt-1@192.0.2.10\r\n'
      b'CSeq: 1 OPTIONS\r\n'
      b'Content-Length: 0\r\n\r\n')
broken = (b'INVITE sip:b@192.0.2.20 SIP/2.0\r\n'
          b'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-bad\r\n'
          b'From: <sip:a@192.0.2.10;tag=a2\r\n'
          b'To: sip:b@192.0.2.20>\r\n'
          b'Call-ID: bad-1@192.0.2.10\r\n'
          b'CSeq: 1 INVITE\r\n'
          b'Content-Length: 0\r\n\r\n')
other_port = options.replace(b'opt1', b'opt2').replace(b'opt-1', b'opt-2')
arp = ether(b'\x00\x01\x08\x00\x06\x04\x00\x01' + b'\0' * 20, 0x0806)
rtp = udp_frame(A, 16000, B, 16002, b'\x80\x00\x00\x01' + b'\0' * 8 + b'\xd5' * 160)
keepalive = udp_frame(A, 5060, B, 5060, b'\r\n\r\n')
tcp = ether(ipv4(A, B, 6, struct.pack('!HHIIBBHHH', 5060, 5060, 1, 0, 0x50, 0x18, 65535, 0, 0)
                 + options))
frag = ether(ipv4(A, B, 17, udp(5060, 5060, options)[:64], flags_frag=0x2000))
iplong = ether(ipv4(A, B, 17, udp(5060, 5060, options), total_len=20 + 8 + len(options) + 100))
udplong = ether(ipv4(A, B, 17, udp(5060, 5060, options, length=8 + len(options) + 50)))
icmp = ether(ipv4(A, B, 1, b'\x08\x00\x00\x00\x00\x01\x00\x01' + b'ping'))
gre = ether(ipv4(A, B, 47, b'\x00\x00\x08\x00' + ipv4(A, B, 17, udp(5060, 5060, options))))
frames = [arp, udp_frame(A, 5060, B, 5060, options), udp_frame(B, 5060, A, 5060, ok), rtp,
          keepalive, tcp, frag, iplong, udplong, udp_frame(A, 5060, B, 5060, broken), icmp, gre,
          udp_frame(A, 40000, B, 40002, other_port)]
t0 = 1763740800  # 2025-11-21T16:00:00Z
write_pcap(os.path.join(here, 'capture.pcap'),
           [(t0, i * 1000, len(f), f) for i, f in enumerate(frames)])
