#!/usr/bin/env python3
"""Small captures that reach the caps the bundled calls do not reach with a
tiny --limit (tests/cli.sh): two TCP connections in flight, two fragmented
IP datagrams in reassembly at once, two calls open at once.  See README.md."""
import os, struct, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
import pcapkit as k

T0 = 1795000000


def options(call_id, port, transport='UDP'):
    return ('OPTIONS sip:bob@192.0.2.2 SIP/2.0\r\n'
            'Via: SIP/2.0/%s 192.0.2.1:%d;branch=z9hG4bK-%s\r\n'
            'Max-Forwards: 70\r\n'
            'From: <sip:alice@192.0.2.1>;tag=%s\r\n'
            'To: <sip:bob@192.0.2.2>\r\n'
            'Call-ID: %s\r\n'
            'CSeq: 1 OPTIONS\r\n'
            'Content-Length: 0\r\n\r\n' % (transport, port, call_id, call_id, call_id)).encode()


def tcp(sport, dport, seq, payload):
    hdr = struct.pack('!HHIIBBHHH', sport, dport, seq, 1, 5 << 4, 0x18, 65535, 0, 0)
    return hdr + payload


# two TCP connections, each carrying one OPTIONS (no handshake captured)
recs = []
for i, port in enumerate((40001, 40002)):
    data = k.ether(k.ipv4('192.0.2.1', '192.0.2.2', 6, tcp(port, 5060, 1000, options('tcp%d' % i, port, 'TCP'))))
    recs.append((T0, i * 1000, len(data), data))
k.write_pcap(os.path.join(here, 'two-streams.pcap'), recs)

# two UDP datagrams, each in two IPv4 fragments, interleaved: both in reassembly at once
recs = []
frags = []
for i, port in enumerate((5071, 5072)):
    u = k.udp(port, 5060, options('frag%d' % i, port) + b'x' * 200)
    first, rest = u[:200], u[200:]
    ip_first = k.ipv4('192.0.2.1', '192.0.2.2', 17, first, flags_frag=0x2000)
    ip_rest = k.ipv4('192.0.2.1', '192.0.2.2', 17, rest, flags_frag=200 // 8)
    # a distinct IP identification per datagram
    ip_first = ip_first[:4] + struct.pack('!H', 100 + i) + ip_first[6:]
    ip_rest = ip_rest[:4] + struct.pack('!H', 100 + i) + ip_rest[6:]
    frags.append((k.ether(ip_first), k.ether(ip_rest)))
order = [frags[0][0], frags[1][0], frags[0][1], frags[1][1]]
for j, data in enumerate(order):
    recs.append((T0, j * 1000, len(data), data))
k.write_pcap(os.path.join(here, 'two-fragmented.pcap'), recs)

# two calls open at once: two OPTIONS with their own Call-IDs, unanswered
recs = []
for i, port in enumerate((5081, 5082)):
    data = k.udp_frame('192.0.2.1', port, '192.0.2.2', 5060, options('call%d' % i, port))
    recs.append((T0, i * 1000, len(data), data))
k.write_pcap(os.path.join(here, 'two-calls.pcap'), recs)
