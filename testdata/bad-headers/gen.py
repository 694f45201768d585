#!/usr/bin/env python3
"""Capture files whose file header is garbage: siplint must refuse each one
with a clear message and exit 3 (tests/cli.sh).  See README.md."""
import os, struct, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
import pcapkit

gh, recs, endian = pcapkit.read_pcap(os.path.join(here, '..', 'basic-call', 'capture.pcap'))
body = b''.join(struct.pack('<IIII', s, us, len(d), o) + d for s, us, o, d in recs)


def pcap_header(vmaj=2, vmin=4, snaplen=65535, linktype=1, magic=0xa1b2c3d4):
    return struct.pack('<IHHiIII', magic, vmaj, vmin, 0, 0, snaplen, linktype)


def write(name, data):
    with open(os.path.join(here, name), 'wb') as f:
        f.write(data)


write('version-99.pcap', pcap_header(99, 99) + body)
write('version-1.pcap', pcap_header(1, 0) + body)
write('short-header.pcap', pcap_header()[:10])
write('magic-only.pcap', struct.pack('<I', 0xa1b2c3d4))
# pcapng: a Section Header Block whose byte-order magic is garbage
shb = pcapkit.ng_shb()
write('pcapng-bad-magic.pcapng', shb[:8] + b'\x01\x02\x03\x04' + shb[12:] + pcapkit.ng_idb() +
      b''.join(pcapkit.ng_epb(*r) for r in recs))
# pcapng: a packet before any Interface Description Block
write('pcapng-no-idb.pcapng', shb + b''.join(pcapkit.ng_epb(*r) for r in recs))
# pcapng: the Section Header Block's length is not a multiple of 4
write('pcapng-bad-shb-length.pcapng', shb[:4] + struct.pack('<I', 30) + shb[8:] +
      pcapkit.ng_idb() + b''.join(pcapkit.ng_epb(*r) for r in recs))
