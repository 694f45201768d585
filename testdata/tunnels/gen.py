"""Builds capture.pcap: the 7 SIP messages of ../basic-call/capture.pcap, each
carried by a different tunnel, as mirrored traffic and mobile cores show them.
The inner packets are the original IPv4/UDP packets (and, where the tunnel
carries Ethernet, the original Ethernet frames), unchanged; the outer packets
go between tunnel end points 10.0.0.1 and 10.0.0.2.  Stdlib only
(../tools/pcapkit.py).  Rebuild: python3 gen.py"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tools'))
import pcapkit  # noqa: E402

OUT_A, OUT_B = '10.0.0.1', '10.0.0.2'


def gre(flags, proto, opts=b''):
    """GRE header (RFC 2784/2890): flags and version, protocol type, options."""
    return struct.pack('!HH', flags, proto) + opts


def gre_ipv4(eth, ip):
    # INVITE: GRE with key and sequence number (K, S), IPv4 inside
    hdr = gre(0x3000, 0x0800, struct.pack('!II', 0x0000cafe, 1))
    return pcapkit.ether(pcapkit.ipv4(OUT_A, OUT_B, 47, hdr + ip))


def erspan2(eth, ip):
    # 100 Trying: ERSPAN type II (GRE S flag, 0x88be), session 7, VLAN 0
    hdr = gre(0x1000, 0x88be, struct.pack('!I', 2))
    hdr += struct.pack('!HHI', 0x1000, 0x0007, 0)  # version 1, session 7, index 0
    return pcapkit.ether(pcapkit.ipv4(OUT_A, OUT_B, 47, hdr + eth))


def erspan3(eth, ip):
    # 180 Ringing: ERSPAN type III (0x22eb), frame type 0 (Ethernet), no subheader
    hdr = gre(0x1000, 0x22eb, struct.pack('!I', 3))
    hdr += struct.pack('!HHIHH', 0x2000, 0x0007, 0x01020304, 0, 0x0000)
    return pcapkit.ether(pcapkit.ipv4(OUT_A, OUT_B, 47, hdr + eth))


def ipip(eth, ip):
    # 200 OK: IPv4 in IPv4 (protocol 4, RFC 2003)
    return pcapkit.ether(pcapkit.ipv4(OUT_A, OUT_B, 4, ip))


def vxlan(eth, ip):
    # ACK: VXLAN (RFC 7348) on UDP 4789, VNI 4242
    hdr = struct.pack('!II', 0x08000000, 4242 << 8)
    return pcapkit.ether(pcapkit.ipv4(OUT_A, OUT_B, 17, pcapkit.udp(49152, 4789, hdr + eth)))


def gtpu(eth, ip):
    # BYE: GTP-U G-PDU (3GPP TS 29.281) with a sequence number and a PDU session
    # container extension header (type 0x85, 4 bytes), IPv4 inside
    ext = struct.pack('!BBBB', 1, 0x10, 0x09, 0)
    opt = struct.pack('!HBB', 5, 0, 0x85)
    body = opt + ext + ip
    hdr = struct.pack('!BBHI', 0x36, 0xff, len(body), 0x00abcdef)
    return pcapkit.ether(pcapkit.ipv4(OUT_A, OUT_B, 17, pcapkit.udp(2152, 2152, hdr + body)))


def mpls(eth, ip):
    # 200 OK (BYE): two MPLS labels (RFC 3032), the second with bottom of stack
    labels = struct.pack('!II', 1000 << 12 | 64, 2000 << 12 | 0x100 | 64)
    return pcapkit.ether(labels + ip, ethertype=0x8847)


PLAN = [gre_ipv4, erspan2, erspan3, ipip, vxlan, gtpu, mpls]


def main():
    _, recs, _ = pcapkit.read_pcap(os.path.join(HERE, '..', 'basic-call', 'capture.pcap'))
    assert len(recs) == len(PLAN)
    out = []
    for (s, us, _orig, data), wrap in zip(recs, PLAN):
        frame = wrap(data, data[14:])
        out.append((s, us, len(frame), frame))
    pcapkit.write_pcap(os.path.join(HERE, 'capture.pcap'), out)


if __name__ == '__main__':
    main()
