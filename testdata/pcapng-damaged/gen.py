#!/usr/bin/env python3
"""basic-call as pcapng with damaged blocks: the 100 Trying's block with an
impossible length, junk bytes between two blocks, and copies of later frames
inserted with a wrong trailer, an interface that was never described and more
captured bytes than the block holds; the file ends in a block longer than the
16 MiB a block may have.  See README.md."""
import os, struct, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
import pcapkit as k

gh, recs, endian = k.read_pcap(os.path.join(here, '..', 'basic-call', 'capture.pcap'))
epb = [k.ng_epb(*r) for r in recs]


def with_total(block, total):
    return block[:4] + struct.pack('<I', total) + block[8:]


def with_trailer(block, trailer):
    return block[:-4] + struct.pack('<I', trailer)


def with_u32(block, off, value):
    return block[:off] + struct.pack('<I', value) + block[off + 4:]


blocks = [
    k.ng_shb(), k.ng_idb(),
    epb[0],                                   # 1 INVITE
    with_total(epb[1], 7),                    # damaged: 100 Trying, total length 7
    epb[2],                                   # 2 180 Ringing
    b'\xde\xad\xbe\xef\x00\x01',              # damaged: 6 junk bytes
    epb[3],                                   # 3 200 OK
    with_trailer(epb[3], 12),                 # damaged: a copy of the 200 OK, trailer 12
    epb[4],                                   # 4 ACK
    with_u32(epb[4], 8, 5),                   # damaged: a copy of the ACK on interface 5
    epb[5],                                   # 5 BYE
    with_u32(epb[5], 20, 4000),               # damaged: a copy of the BYE, 4000 bytes captured
    epb[6],                                   # 6 200 OK (BYE)
    struct.pack('<II', 5, 0x7ffffff0) + b'\0' * 24,  # damaged: an ISB of 2 GiB at the end
]
with open(os.path.join(here, 'capture.pcapng'), 'wb') as f:
    f.write(b''.join(blocks))
