#!/usr/bin/env python3
"""basic-call whose fourth record header says it holds 4294967040 captured
bytes (more than the snaplen, more than the file): libpcap cannot read past
it.  See README.md."""
import os, struct, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
import pcapkit

gh, recs, endian = pcapkit.read_pcap(os.path.join(here, '..', 'basic-call', 'capture.pcap'))
pcapkit.write_pcap(os.path.join(here, 'capture.pcap'), recs)
with open(os.path.join(here, 'capture.pcap'), 'r+b') as f:
    off = 24
    for s, us, orig, data in recs[:3]:
        off += 16 + len(data)
    f.seek(off + 8)
    f.write(struct.pack('<I', 0xFFFFFF00))
