#!/usr/bin/env python3
"""basic-call as pcapng with blocks and options that siplint does not read:
custom blocks, a Decryption Secrets Block, a block of an unknown type,
options of unknown codes, plus a Name Resolution and an Interface Statistics
Block (read by libpcap).  See README.md."""
import os, struct, sys
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tools'))
import pcapkit as k

gh, recs, endian = k.read_pcap(os.path.join(here, '..', 'basic-call', 'capture.pcap'))
epb = [k.ng_epb(*r) for r in recs]
blocks = [
    k.ng_shb(k.ng_option(4, b'pcapng-odd-blocks/gen.py') + k.ng_option(0x7777, b'?') + k.NG_END_OPT),
    k.ng_idb(options=k.ng_option(2, b'lo') + k.ng_option(99, b'\x01\x02') + k.NG_END_OPT),
    # frame 1: an EPB with a known option (epb_flags: inbound) and one of an unknown code
    k.ng_epb(*recs[0], options=k.ng_option(2, struct.pack('<I', 1)) +
             k.ng_option(0x6666, b'unknown') + k.NG_END_OPT),
    epb[1],
    # Wireshark shows custom blocks as frames: 3 and 4
    k.ng_custom(32473, b'example custom block, copyable'),
    k.ng_custom(32473, b'do not copy', copy=False),
    # a Decryption Secrets Block (TLS key log) and a block of a type nobody defined
    k.ng_block(0x0000000A, struct.pack('<II', 0x544c534b, 10) + b'CLIENT_RAN'),
    k.ng_block(0x7F001234, b'unknown block type'),
    # a Name Resolution Block (IPv4 record, end record) and an Interface Statistics Block
    k.ng_block(4, struct.pack('<HH', 1, 14) + bytes([127, 0, 0, 1]) + b'localhost\0' +
               b'\0\0' + struct.pack('<HH', 0, 0)),
] + epb[2:] + [
    k.ng_block(5, struct.pack('<III', 0, recs[-1][0] >> 0, 0)),
]
with open(os.path.join(here, 'capture.pcapng'), 'wb') as f:
    f.write(b''.join(blocks))
