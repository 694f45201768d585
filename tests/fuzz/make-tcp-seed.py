#!/usr/bin/env python3
"""Writes corpus/capture/tcp-streams.pcap: SIP over TCP the hard way, for the stream
reassembler (lib/capture/tcp.c).  One connection 10.0.0.1:5060 -> 10.0.0.2:5060 whose
sequence numbers wrap past 2^32: an INVITE over three segments sent out of order, a
retransmission, an overlapping segment, two messages in one segment, CRLF keep-alives, a
message without Content-Length, a gap (bytes never sent), then FIN.  A second connection
without its SYN starts in the middle of a message, and a third starts with a TLS record
and ends with RST.  Rebuild: python3 tests/fuzz/make-tcp-seed.py"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "testdata", "tools"))
import pcapkit  # noqa: E402

A, B = "10.0.0.1", "10.0.0.2"


def tcp(sport, dport, seq, flags, payload=b""):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, 0, 5 << 4, flags, 65535, 0, 0)
    return hdr + payload


def frame(src, dst, sport, dport, seq, flags, payload=b""):
    return pcapkit.ether(pcapkit.ipv4(src, dst, 6, tcp(sport, dport, seq, flags, payload)))


SYN, FIN, RST, ACK, PSH = 0x02, 0x01, 0x04, 0x10, 0x08
inv = (b"INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK1\r\n"
       b"From: <sip:a@10.0.0.1>;tag=1\r\nTo: <sip:b@10.0.0.2>\r\nCall-ID: tcp-seed\r\n"
       b"CSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nv=0\n")
ok = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@10.0.0.1>;tag=1\r\n"
      b"To: <sip:b@10.0.0.2>;tag=2\r\nCall-ID: tcp-seed\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n")
nolen = b"OPTIONS sip:b@10.0.0.2 SIP/2.0\r\nCall-ID: x\r\n\r\n"
isn = 0xFFFFFF00
s = isn + 1
recs = []


def add(src, dst, sp, dp, seq, flags, payload=b""):
    data = frame(src, dst, sp, dp, seq, flags, payload)
    recs.append((1700000000, len(recs) * 10000, len(data), data))


add(A, B, 5060, 5060, isn, SYN)
add(B, A, 5060, 5060, 1000, SYN | ACK)
add(A, B, 5060, 5060, s + 100, ACK, inv[100:])          # out of order
add(A, B, 5060, 5060, s, ACK, inv[:60])
add(A, B, 5060, 5060, s, ACK, inv[:60])                 # retransmission
add(A, B, 5060, 5060, s + 40, ACK, inv[40:120])         # overlap, completes it
s += len(inv)
add(A, B, 5060, 5060, s, ACK, b"\r\n\r\n" + ok + ok)    # keep-alive, two messages
s += 4 + 2 * len(ok)
add(A, B, 5060, 5060, s, ACK, nolen + ok)               # no Content-Length, resync
s += len(nolen) + len(ok)
add(A, B, 5060, 5060, s + 50, ACK, ok)                  # 50 bytes never captured: a gap
s += 50 + len(ok)
add(A, B, 5060, 5060, s, FIN | ACK)
add(B, A, 5060, 5060, 1001, FIN | ACK)
add(A, B, 40000, 5060, 777, ACK, b"70\r\n\r\n" + ok)    # no SYN
add(A, B, 40001, 5061, 5, SYN)
add(A, B, 40001, 5061, 6, ACK, b"\x16\x03\x01\x00\x04abcd")
add(B, A, 5061, 40001, 9, RST)
pcapkit.write_pcap(os.path.join(os.path.dirname(__file__), "corpus", "capture", "tcp-streams.pcap"), recs)
