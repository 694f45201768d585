#!/usr/bin/env python3
"""basic-call with time going backwards twice, as in captures merged by
concatenation or taken while the clock was stepped: the 200 OK (frame 4) is
stamped 2 s early, the 200 OK to the BYE (frame 7) 3 s early.  See README.md."""
import os, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
import pcapkit

gh, recs, endian = pcapkit.read_pcap(os.path.join(here, '..', 'basic-call', 'capture.pcap'))
out = list(recs)
s, us, orig, data = out[3]
out[3] = (s - 2, us, orig, data)
s, us, orig, data = out[6]
out[6] = (s - 3, us, orig, data)
pcapkit.write_pcap(os.path.join(here, 'capture.pcap'), out)
