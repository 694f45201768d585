#!/usr/bin/env python3
"""basic-call with two zero-length records after the INVITE: one that was
empty on the wire too (impossible for Ethernet) and one whose 342 bytes the
capture kept none of (snaplen 0 for that packet).  See README.md."""
import os, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
import pcapkit

gh, recs, endian = pcapkit.read_pcap(os.path.join(here, '..', 'basic-call', 'capture.pcap'))
s, us, orig, data = recs[0]
out = [recs[0], (s, us + 1, 0, b''), (s, us + 2, 342, b'')] + recs[1:]
pcapkit.write_pcap(os.path.join(here, 'capture.pcap'), out)
