"""Writes tests/fuzz/corpus/capture/hep.pcap: HEP packets inside UDP for the
capture fuzzer (RULES.md part C): HEP3 over IPv4 and IPv6, HEPv2, a log line
(payload type 100), a compressed payload, a vendor chunk, a chunk whose length
runs past the packet and one shorter than 6 bytes.
Usage: python3 tests/fuzz/make-hep-seed.py"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'testdata', 'tools'))
import pcapkit  # noqa: E402

SIP = (b'OPTIONS sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n'
       b'From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:bob@192.0.2.2>\r\nCall-ID: fz1\r\n'
       b'CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n')


def chunk(t, v, vendor=0):
    return struct.pack('!HHH', vendor, t, 6 + len(v)) + v


def hep3(chunks):
    body = b''.join(chunks)
    return b'HEP3' + struct.pack('!H', 6 + len(body)) + body


def v4chunks(pt=1, payload=SIP, pchunk=15):
    return [chunk(1, b'\x02'), chunk(2, b'\x11'), chunk(3, bytes([192, 0, 2, 1])),
            chunk(4, bytes([192, 0, 2, 2])), chunk(7, struct.pack('!H', 5060)),
            chunk(8, struct.pack('!H', 5060)), chunk(9, struct.pack('!I', 1700000000)),
            chunk(10, struct.pack('!I', 5)), chunk(11, bytes([pt])),
            chunk(12, struct.pack('!I', 2001)), chunk(17, b'corr@x'), chunk(pchunk, payload)]


v6 = [chunk(1, b'\x0a'), chunk(2, b'\x06'), chunk(5, b'\x20\x01\x0d\xb8' + b'\0' * 11 + b'\x01'),
      chunk(6, b'\x20\x01\x0d\xb8' + b'\0' * 11 + b'\x02'), chunk(7, struct.pack('!H', 5060)),
      chunk(8, struct.pack('!H', 5062)), chunk(0x13, b'node1'), chunk(0x99, b'x', vendor=2),
      chunk(15, SIP)]
hep2 = (struct.pack('!BBBBHH', 2, 28, 2, 17, 5060, 5060) + bytes([192, 0, 2, 1, 192, 0, 2, 2]) +
        struct.pack('<IIH', 1700000001, 7, 2001) + b'\0\0' + SIP)
past = bytearray(hep3(v4chunks()))
struct.pack_into('!H', past, len(past) - len(SIP) - 2, 6 + len(SIP) + 40)
short = bytearray(hep3(v4chunks()))
struct.pack_into('!H', short, 6 + 4, 3)
payloads = [hep3(v4chunks()), hep3(v6), hep2, hep3(v4chunks(pt=100, payload=b'log line')),
            hep3(v4chunks(pchunk=16, payload=b'\x78\x9c\x03\x00\x00\x00\x00\x01')),
            bytes(past), bytes(short)]
recs = []
for i, p in enumerate(payloads):
    frame = pcapkit.udp_frame('10.0.0.1', 40000 + i, '10.0.0.9', 9060, p)
    recs.append((1700000100 + i, 0, len(frame), frame))
out = os.path.join(os.path.dirname(__file__), 'corpus', 'capture', 'hep.pcap')
pcapkit.write_pcap(out, recs)
