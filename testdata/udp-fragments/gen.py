"""Builds capture.pcap: the SIP messages of ../basic-call/capture.pcap sent
over a path with a 200-byte MTU, so every one of them is cut into IPv4
fragments; some come out of order, some twice.  Stdlib only (../tools/pcapkit.py).
Rebuild: python3 gen.py"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tools'))
import pcapkit  # noqa: E402

MTU = 200
CHUNK = (MTU - 20) // 8 * 8  # fragment payload: a multiple of 8 bytes (RFC 791)

# per message (in capture order): the order its fragments are sent in, and
# the fragments sent twice ('late': a copy after the datagram is complete)
PLAN = [
    dict(order='reverse', dup=[2]),   # INVITE: last fragment first, fragment 3 twice
    dict(order='inorder'),            # 100 Trying
    dict(order='inorder'),            # 180 Ringing
    dict(order='shuffle'),            # 200 OK: fragments 1, 3, 2
    dict(order='inorder', late=[0]),  # ACK: fragment 1 again after the datagram
    dict(order='inorder'),            # BYE
    dict(order='inorder'),            # 200 OK to BYE
]


def fragments(ip, ident):
    """Cuts an IPv4 packet (no options) into fragments of at most MTU bytes."""
    ihl = (ip[0] & 0x0f) * 4
    hdr, payload = bytearray(ip[:ihl]), ip[ihl:]
    out = []
    for off in range(0, len(payload), CHUNK):
        part = payload[off:off + CHUNK]
        more = off + CHUNK < len(payload)
        h = bytearray(hdr)
        struct.pack_into('!HHH', h, 2, ihl + len(part), ident, (0x2000 if more else 0) | off // 8)
        struct.pack_into('!H', h, 10, 0)
        struct.pack_into('!H', h, 10, pcapkit.checksum(bytes(h)))
        out.append(bytes(h) + part)
    return out


def main():
    _, recs, _ = pcapkit.read_pcap(os.path.join(HERE, '..', 'basic-call', 'capture.pcap'))
    assert len(recs) == len(PLAN)
    out = []
    for n, ((s, us, _orig, data), plan) in enumerate(zip(recs, PLAN)):
        eth, ip = data[:14], data[14:]
        frags = fragments(ip, 0x4000 + n)
        idx = list(range(len(frags)))
        if plan['order'] == 'reverse':
            idx.reverse()
        elif plan['order'] == 'shuffle':
            idx = [0, 2, 1] + idx[3:]
        seq = []
        for i in idx:
            seq.append(i)
            if i in plan.get('dup', []):
                seq.append(i)
        seq += plan.get('late', [])
        for k, i in enumerate(seq):
            frame = eth + frags[i]
            out.append((s, us + k * 10, len(frame), frame))  # 10 us apart, within the same ms
    pcapkit.write_pcap(os.path.join(HERE, 'capture.pcap'), out)


if __name__ == '__main__':
    main()
