"""pcapkit: tiny stdlib-only helpers to write and rewrite classic pcap files
for siplint's generated test cases (no scapy needed)."""
import struct

LINKTYPE_ETHERNET = 1


def read_pcap(path):
    """Returns (global_header_bytes, [(ts_sec, ts_usec, orig_len, data), ...])."""
    with open(path, 'rb') as f:
        blob = f.read()
    gh = blob[:24]
    magic = struct.unpack('<I', gh[:4])[0]
    endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    off, recs = 24, []
    while off + 16 <= len(blob):
        s, us, incl, orig = struct.unpack(endian + 'IIII', blob[off:off + 16])
        recs.append((s, us, orig, blob[off + 16:off + 16 + incl]))
        off += 16 + incl
    return gh, recs, endian


def write_pcap(path, recs, linktype=LINKTYPE_ETHERNET, snaplen=65535):
    """recs: [(ts_sec, ts_usec, orig_len, data)]; data may be shorter than orig_len."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, snaplen, linktype))
        for s, us, orig, data in recs:
            f.write(struct.pack('<IIII', s, us, len(data), orig))
            f.write(data)


def checksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ipv4(src, dst, proto, payload, total_len=None, flags_frag=0, ihl=5):
    tl = total_len if total_len is not None else 20 + len(payload)
    hdr = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, tl, 1, flags_frag, 64, proto, 0,
                      bytes(map(int, src.split('.'))), bytes(map(int, dst.split('.'))))
    hdr = hdr[:10] + struct.pack('!H', checksum(hdr)) + hdr[12:]
    return hdr + payload


def udp(sport, dport, payload, length=None):
    ln = length if length is not None else 8 + len(payload)
    return struct.pack('!HHHH', sport, dport, ln, 0) + payload


def ether(payload, ethertype=0x0800):
    return b'\0' * 6 + b'\x02' + b'\0' * 5 + struct.pack('!H', ethertype) + payload


def udp_frame(src, sport, dst, dport, payload):
    return ether(ipv4(src, dst, 17, udp(sport, dport, payload)))
