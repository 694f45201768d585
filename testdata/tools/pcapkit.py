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


# ---- pcapng (draft-ietf-opsawg-pcapng), little-endian -------------------

def ng_block(btype, body, total=None, trailer=None):
    """A block: type, total length, body padded to 4, total length again.
    total / trailer override the two length fields (to write damaged blocks)."""
    body = body + b'\0' * ((4 - len(body) % 4) % 4)
    ln = 12 + len(body)
    return (struct.pack('<II', btype, ln if total is None else total) + body +
            struct.pack('<I', ln if trailer is None else trailer))


def ng_option(code, value):
    return struct.pack('<HH', code, len(value)) + value + b'\0' * ((4 - len(value) % 4) % 4)


NG_END_OPT = struct.pack('<HH', 0, 0)


def ng_shb(options=b''):
    return ng_block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1) + options)


def ng_idb(linktype=LINKTYPE_ETHERNET, snaplen=0, options=b''):
    return ng_block(1, struct.pack('<HHI', linktype, 0, snaplen) + options)


def ng_epb(ts_sec, ts_usec, orig_len, data, interface=0, options=b''):
    """An Enhanced Packet Block, microsecond timestamps (the IDB default)."""
    ts = ts_sec * 1000000 + ts_usec
    pad = b'\0' * ((4 - len(data) % 4) % 4)
    return ng_block(6, struct.pack('<IIIII', interface, ts >> 32, ts & 0xffffffff, len(data),
                                   orig_len) + data + pad + options)


def ng_custom(pen, data, copy=True):
    return ng_block(0x00000BAD if copy else 0x40000BAD, struct.pack('<I', pen) + data)
