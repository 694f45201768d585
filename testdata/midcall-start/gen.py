#!/usr/bin/env python3
"""A capture that starts in the middle of a call: ../hold-resume/capture.pcap with
only frames 6..19 kept (the first re-INVITE, CSeq 2, onwards).  The INVITE / 100 /
180 / 200 / ACK that set the dialog up (frames 1-5) are not in it.  Packets are copied
byte for byte, timestamps unchanged.  Rebuild with `python3 gen.py` (stdlib only)."""
import os, struct, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
import pcapkit

FIRST, LAST = 6, 19          # 1-based frame numbers of the source capture, inclusive

gh, recs, endian = pcapkit.read_pcap(os.path.join(here, '..', 'hold-resume', 'capture.pcap'))
if len(recs) != 19:
    sys.exit('gen.py: hold-resume/capture.pcap has %d frames, expected 19' % len(recs))
kept = recs[FIRST - 1:LAST]
# the first kept frame must be the caller's first re-INVITE (hold), CSeq 2
first = kept[0][3]
if b'INVITE sip:' not in first[:80] or b'\r\nCSeq: 2 INVITE\r\n' not in first:
    sys.exit('gen.py: frame %d of hold-resume/capture.pcap is not the CSeq 2 re-INVITE' % FIRST)
_, _, _, _, _, snaplen, linktype = struct.unpack(endian + 'IHHiIII', gh)
pcapkit.write_pcap(os.path.join(here, 'capture.pcap'), kept, linktype=linktype, snaplen=snaplen)
print('gen.py: wrote capture.pcap (%d frames: source frames %d-%d)' % (len(kept), FIRST, LAST))
