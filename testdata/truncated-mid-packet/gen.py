#!/usr/bin/env python3
"""A capture cut in the middle of a packet: hold-resume/capture.pcap (19 frames),
with the file ending halfway through the data of frame 12 (as when a capture
is copied while tcpdump is still writing it)."""
import os, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
import pcapkit

src = os.path.join(here, '..', 'hold-resume', 'capture.pcap')
blob = open(src, 'rb').read()
gh, recs, endian = pcapkit.read_pcap(src)
off = 24
for s, us, orig, data in recs[:11]:
    off += 16 + len(data)
cut = off + 16 + len(recs[11][3]) // 2
open(os.path.join(here, 'capture.pcap'), 'wb').write(blob[:cut])
