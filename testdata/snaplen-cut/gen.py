#!/usr/bin/env python3
"""A capture taken with a small snaplen: basic-call/capture.pcap with every
frame cut to 300 bytes (tcpdump -s 300).  The INVITE (with SDP), the 200 OK
(with SDP), and the ACK... lose their tails; short messages stay whole."""
import os, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
import pcapkit

gh, recs, endian = pcapkit.read_pcap(os.path.join(here, '..', 'basic-call', 'capture.pcap'))
out = [(s, us, orig, data[:300]) for s, us, orig, data in recs]
# one frame cut inside its IP header: the headers themselves are truncated
s, us, orig, data = recs[1]
out.append((s, us + 1, orig, data[:20]))
pcapkit.write_pcap(os.path.join(here, 'capture.pcap'), out, snaplen=300)
