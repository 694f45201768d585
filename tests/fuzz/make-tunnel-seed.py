"""Writes tests/fuzz/corpus/capture/tunnels.pcap: SIP inside tunnels for the
capture fuzzer: GRE with checksum, key and sequence number; PPTP's enhanced GRE
with PPP; GRE over IPv6 carrying IPv6; transparent Ethernet bridging; ERSPAN I,
II and III (with the platform subheader, and frame type IP); IPv6-in-IPv4;
VXLAN off its port; GTP-U with two extension headers; MPLS in GRE; IPv4
fragments inside GRE; tunnels nested 8 and 9 deep; and a few cut short.
Usage: python3 tests/fuzz/make-tunnel-seed.py"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'testdata', 'tools'))
import pcapkit  # noqa: E402

SIP = (b'OPTIONS sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n'
       b'From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:bob@192.0.2.2>\r\nCall-ID: tun1\r\n'
       b'CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n')
A6 = bytes.fromhex('20010db8000000000000000000000001')
B6 = bytes.fromhex('20010db8000000000000000000000002')


def ipv6(nh, payload):
    return struct.pack('!IHBB', 0x60000000, len(payload), nh, 64) + A6 + B6 + payload


def outer(proto, payload):
    return pcapkit.ipv4('10.0.0.1', '10.0.0.2', proto, payload)


def main():
    inner4 = pcapkit.ipv4('192.0.2.1', '192.0.2.2', 17, pcapkit.udp(5060, 5060, SIP))
    inner6 = ipv6(17, pcapkit.udp(5060, 5060, SIP))
    eth4 = pcapkit.ether(inner4)
    frames = [
        pcapkit.ether(outer(47, struct.pack('!HHIII', 0xb000, 0x0800, 0, 1, 2) + inner4)),
        pcapkit.ether(outer(47, struct.pack('!HHHHIIBBH', 0x3081, 0x880b, len(inner4) + 4, 9, 1, 0,
                                            0xff, 3, 0x21) + inner4)),
        pcapkit.ether(ipv6(47, struct.pack('!HHI', 0x2000, 0x86dd, 5) + inner6), 0x86dd),
        pcapkit.ether(outer(47, struct.pack('!HH', 0, 0x6558) + eth4)),
        pcapkit.ether(outer(47, struct.pack('!HH', 0, 0x88be) + eth4)),
        pcapkit.ether(outer(47, struct.pack('!HHIHHI', 0x1000, 0x88be, 1, 0x1000, 7, 0) + eth4)),
        pcapkit.ether(outer(47, struct.pack('!HHIHHIHHII', 0x1000, 0x22eb, 2, 0x2000, 7, 0, 0, 1,
                                            0, 0) + eth4)),
        pcapkit.ether(outer(47, struct.pack('!HHIHHIHH', 0x1000, 0x22eb, 3, 0x2000, 7, 0, 0, 0x0800)
                            + inner4)),
        pcapkit.ether(outer(41, inner6)),
        pcapkit.ether(outer(17, pcapkit.udp(40000, 9999, struct.pack('!II', 0x08000000, 0x100) + eth4))),
        pcapkit.ether(outer(17, pcapkit.udp(2152, 2152, struct.pack(
            '!BBHIHBB', 0x34, 0xff, 4 + 4 + 8 + len(inner4), 1, 0, 0, 0x85)
            + bytes([1, 0, 0, 0x40, 2, 0, 0, 0, 0, 0, 0, 0]) + inner4))),
        pcapkit.ether(outer(47, struct.pack('!HHI', 0, 0x8847, 3 << 12 | 0x140) + inner4)),
    ]
    # IPv4 fragments inside GRE
    udp = pcapkit.udp(5060, 5060, SIP)
    for off, more in ((0, True), (64, False)):
        part = udp[off:off + 64] if more else udp[off:]
        frag = pcapkit.ipv4('192.0.2.1', '192.0.2.2', 17, part,
                            flags_frag=(0x2000 if more else 0) | off // 8)
        frames.append(pcapkit.ether(outer(47, struct.pack('!HH', 0, 0x0800) + frag)))
    # IPv4-in-IPv4 nested 8 and 9 deep
    for depth in (8, 9):
        pkt = inner4
        for _ in range(depth):
            pkt = outer(4, pkt)
        frames.append(pcapkit.ether(pkt))
    recs = [(1700000000, i * 1000, len(f), f) for i, f in enumerate(frames)]
    # cut short by the capture: GRE header, ERSPAN header, GTP-U extension header
    for i, cut in ((0, 40), (5, 46), (10, 60)):
        recs.append((1700000001, i, len(frames[i]), frames[i][:cut]))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'capture', 'tunnels.pcap')
    pcapkit.write_pcap(path, recs)


if __name__ == '__main__':
    main()
