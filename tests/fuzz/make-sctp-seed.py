"""Writes tests/fuzz/corpus/capture/sctp-fragments.pcap: SIP over SCTP (RFC 9260, RFC 4168) for the capture
fuzzer: a whole message, one fragmented over three DATA chunks that arrive out of order (and one twice),
a fragment bundled after a whole message, fragments of two stream ids interleaved (their TSNs are not
consecutive on either stream, so neither completes), a hole that is never filled, a fragmented message that is
not SIP, and TSN wrap-around.
Usage: python3 tests/fuzz/make-sctp-seed.py"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'testdata', 'tools'))
import pcapkit  # noqa: E402

INV = (b'INVITE sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/SCTP 192.0.2.1;branch=z9hG4bK1\r\n'
       b'From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:bob@192.0.2.2>\r\nCall-ID: sctp1\r\n'
       b'CSeq: 1 INVITE\r\nContent-Length: 5\r\n\r\nv=0\r\n')
OK = (b'SIP/2.0 200 OK\r\nVia: SIP/2.0/SCTP 192.0.2.1;branch=z9hG4bK1\r\n'
      b'From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:bob@192.0.2.2>;tag=2\r\nCall-ID: sctp1\r\n'
      b'CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n')


def data(flags, tsn, sid, ssn, payload):
    c = struct.pack('!BBHIHHI', 0, flags, 16 + len(payload), tsn, sid, ssn, 0) + payload
    return c + b'\0' * ((4 - len(c) % 4) % 4)


def packet(src, dst, chunks):
    sctp = struct.pack('!HHII', 5060, 5060, 0x1234, 0) + b''.join(chunks)
    return pcapkit.ether(pcapkit.ipv4(src, dst, 132, sctp))


A, B = '192.0.2.1', '192.0.2.2'
pkts = [
    packet(A, B, [data(3, 1, 0, 0, INV)]),
    packet(A, B, [data(1, 12, 0, 1, INV[80:])]),
    packet(A, B, [data(0, 11, 0, 1, INV[40:80])]),
    packet(A, B, [data(0, 11, 0, 1, INV[40:80])]),
    packet(B, A, [data(3, 7, 0, 0, OK), data(2, 8, 1, 1, INV[:30])]),
    packet(A, B, [data(2, 10, 0, 1, INV[:40])]),
    packet(B, A, [data(2, 20, 2, 2, OK[:10]), data(2, 21, 3, 2, INV[:10])]),
    packet(B, A, [data(1, 22, 2, 2, OK[10:]), data(1, 9, 1, 1, INV[30:])]),
    packet(A, B, [data(2, 30, 4, 3, INV[:20])]),
    packet(A, B, [data(1, 32, 4, 3, INV[50:])]),
    packet(A, B, [data(6, 40, 5, 0, b'\x01\x02\x03'), data(5, 41, 5, 0, b'\x04')]),
    packet(A, B, [data(2, 0xffffffff, 6, 4, OK[:25])]),
    packet(A, B, [data(1, 0, 6, 4, OK[25:])]),
]
recs = [(1700000000 + i, 0, len(p), p) for i, p in enumerate(pkts)]
pcapkit.write_pcap(os.path.join(os.path.dirname(__file__), 'corpus', 'capture', 'sctp-fragments.pcap'), recs)
