"""Writes tests/unit/inflate_vectors.h: test vectors for lib/base/inflate.c made with python3's zlib
module (zlib 1.2.13 here) and a small hand-written deflate encoder, each checked by zlib.decompress
before it is written.  Run from the repository root:  python3 tests/unit/make-inflate-vectors.py

  v_stored   zlib, level 0: stored blocks (RFC 1951 3.2.4)
  v_fixed    zlib, strategy Z_FIXED: fixed Huffman codes (3.2.6)
  v_dynamic  zlib, level 9: dynamic Huffman codes (3.2.7)
  v_empty    zlib of no bytes
  v_near     zlib, level 9, of WIN_X + filler + WIN_X with the second copy 32400 bytes after the first
             (zlib matches at most 32506 bytes back)
  v_window   hand-written: a stored block holding WIN_X, then a fixed-code block: 'a', 'b', copies of
             distance 2 up to output byte 32768, and WIN_X again as one copy of distance 32768 (the
             largest distance deflate has: the whole window)
  v_gzip     gzip member with FEXTRA, FNAME, FCOMMENT and FHCRC around a level-6 deflate stream
  v_zeros    zlib, level 9, of 70000 zero bytes (more than a HEP payload may inflate to)
  v_bad_*    raw deflate streams RFC 1951 forbids (reserved block type, NLEN not ~LEN, a copy from
             before the output, literal/length 286, distance code 30, over-subscribed code lengths,
             HLIT 287, a first code length that repeats the previous one), each refused by zlib too
The SIP texts are stored beside them; the window vectors' output is rebuilt by the test
(win_expected() there: WIN_X, then 'a', 'b' repeated, then WIN_X)."""
import os
import struct
import subprocess
import zlib

SIP = (b'INVITE sip:bob@127.0.0.1:5082 SIP/2.0\r\n'
       b'Via: SIP/2.0/UDP 127.0.0.1:5081;branch=z9hG4bK-5336-1-0\r\n'
       b'From: sipp <sip:sipp@127.0.0.1:5081>;tag=5336SIPpTag001\r\n'
       b'To: bob <sip:bob@127.0.0.1:5082>\r\n'
       b'Call-ID: 1-5336@127.0.0.1\r\n'
       b'CSeq: 1 INVITE\r\n'
       b'Contact: sip:sipp@127.0.0.1:5081\r\n'
       b'Max-Forwards: 70\r\n'
       b'Subject: Performance Test\r\n'
       b'Content-Type: application/sdp\r\n'
       b'Content-Length:   130\r\n'
       b'\r\n'
       b'v=0\r\n'
       b'o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n'
       b's=-\r\n'
       b'c=IN IP4 127.0.0.1\r\n'
       b't=0 0\r\n'
       b'm=audio 16081 RTP/AVP 0\r\n'
       b'a=rtpmap:0 PCMU/8000\r\n')
SHORT = b'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'
WIN_X = b'siplint-window-start!'


def zlib_with(data, level=9, strategy=zlib.Z_DEFAULT_STRATEGY):
    c = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
    return c.compress(data) + c.flush()


class Bits:
    """Deflate bit writer: numbers least significant bit first, Huffman codes most significant first."""

    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def put(self, v, k):
        self.acc |= v << self.n
        self.n += k
        while self.n >= 8:
            self.out.append(self.acc & 255)
            self.acc >>= 8
            self.n -= 8

    def code(self, c, length):
        for i in range(length - 1, -1, -1):
            self.put((c >> i) & 1, 1)

    def align(self):
        if self.n:
            self.put(0, 8 - self.n)

    def fixed_lit(self, v):
        if v < 144:
            self.code(0x30 + v, 8)
        elif v < 256:
            self.code(0x190 + v - 144, 9)
        elif v < 280:
            self.code(v - 256, 7)
        else:
            self.code(0xc0 + v - 280, 8)

    def fixed_copy(self, length, dist):
        lb = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
              131, 163, 195, 227, 258]
        le = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
        db = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
              2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
        de = [0, 0, 0, 0] + [i // 2 for i in range(2, 28)]
        s = 28 if length == 258 else max(i for i in range(28) if lb[i] <= length)
        self.fixed_lit(257 + s)
        self.put(length - lb[s], le[s])
        d = max(i for i in range(30) if db[i] <= dist)
        self.code(d, 5)
        self.put(dist - db[d], de[d])


def win_expected(gap):
    """WIN_X, then 'ab' repeated to byte `gap`, then WIN_X (its second copy starts at `gap`)."""
    filler = (b'ab' * gap)[:gap - len(WIN_X)]
    return WIN_X + filler + WIN_X


def window_vector():
    w = Bits()
    w.put(0, 1)  # not the last block
    w.put(0, 2)  # stored
    w.align()
    w.out += struct.pack('<HH', len(WIN_X), 0xffff ^ len(WIN_X)) + WIN_X
    w.put(1, 1)  # last block
    w.put(1, 2)  # fixed codes
    w.fixed_lit(ord('a'))
    w.fixed_lit(ord('b'))
    have = len(WIN_X) + 2
    while have < 32768:
        n = min(258, 32768 - have)
        if 32768 - have - n in (1, 2):  # a copy is at least 3 bytes
            n -= 3
        w.fixed_copy(n, 2)
        have += n
    w.fixed_copy(len(WIN_X), 32768)
    w.fixed_lit(256)
    w.align()
    data = win_expected(32768)
    return bytes(b'\x78\x01' + bytes(w.out) + struct.pack('>I', zlib.adler32(data))), data


def gzip_vector(data):
    hdr = bytearray(b'\x1f\x8b\x08' + bytes([0x04 | 0x08 | 0x10 | 0x02]) + struct.pack('<I', 0) + b'\x00\x03')
    hdr += struct.pack('<H', 6) + b'SL\x02\x00hi'  # FEXTRA: one subfield
    hdr += b'sip.txt\x00' + b'a comment\x00'
    hdr += struct.pack('<H', zlib.crc32(bytes(hdr)) & 0xffff)
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush()
    return bytes(hdr) + body + struct.pack('<II', zlib.crc32(data), len(data))


def bad_vectors():
    """Raw deflate streams (no wrapper) that RFC 1951 forbids, each refused by zlib too."""
    bad = {}
    w = Bits()
    w.put(1, 1)
    w.put(3, 2)  # block type 3 is reserved
    w.align()
    bad['v_bad_btype'] = bytes(w.out)
    bad['v_bad_nlen'] = b'\x01' + struct.pack('<HH', 5, 5) + b'hello'  # NLEN is not ~LEN
    w = Bits()
    w.put(1, 1)
    w.put(1, 2)
    w.fixed_lit(ord('x'))
    w.fixed_copy(3, 2)  # 2 bytes back, only 1 written
    w.fixed_lit(256)
    w.align()
    bad['v_bad_far'] = bytes(w.out)
    w = Bits()
    w.put(1, 1)
    w.put(1, 2)
    w.fixed_lit(286)  # not a length code
    w.align()
    bad['v_bad_lit286'] = bytes(w.out)
    w = Bits()
    w.put(1, 1)
    w.put(1, 2)
    w.fixed_lit(ord('x'))
    w.fixed_lit(257)
    w.code(30, 5)  # distance code 30 is not used
    w.fixed_lit(256)
    w.align()
    bad['v_bad_dist30'] = bytes(w.out)
    w = Bits()  # dynamic: every code length code 1 bit long: over-subscribed
    w.put(1, 1)
    w.put(2, 2)
    w.put(0, 5)
    w.put(0, 5)
    w.put(15, 4)
    for _ in range(19):
        w.put(1, 3)
    w.align()
    bad['v_bad_oversub'] = bytes(w.out + b'\0\0\0\0')
    w = Bits()  # dynamic: 287 literal/length codes (HLIT 30)
    w.put(1, 1)
    w.put(2, 2)
    w.put(30, 5)
    w.put(0, 5)
    w.put(0, 4)
    w.align()
    bad['v_bad_hlit'] = bytes(w.out + b'\0\0\0\0')
    w = Bits()  # dynamic: the first code length is "repeat the previous one" (16)
    w.put(1, 1)
    w.put(2, 2)
    w.put(0, 5)
    w.put(0, 5)
    w.put(0, 4)  # 4 code length codes: 16, 17, 18, 0
    for v in (1, 0, 0, 1):  # 16 and 0 have 1-bit codes: 0 -> 0, 16 -> 1... (canonical: 0 first)
        w.put(v, 3)
    w.code(1, 1)  # symbol 16 first
    w.put(0, 2)
    w.align()
    bad['v_bad_rep16'] = bytes(w.out + b'\0\0\0\0')
    for name, b in bad.items():
        try:
            zlib.decompressobj(-15).decompress(b)
        except zlib.error:
            continue
        raise AssertionError(name + ' is accepted by zlib')
    return bad


def c_array(name, b):
    rows = [', '.join('0x%02x' % x for x in b[i:i + 12]) for i in range(0, len(b), 12)]
    return 'static const uint8_t %s[%d] = {\n    %s\n};\n' % (name, len(b), ',\n    '.join(rows))


def c_string(name, b):
    lines = b.split(b'\r\n')
    parts = ['"%s\\r\\n"' % ln.decode() for ln in lines[:-1]] + (['"%s"' % lines[-1].decode()] if lines[-1] else [])
    return 'static const char %s[] = %s;\n' % (name, '\n    '.join(parts))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    vec = {
        'v_stored': (zlib_with(SIP, level=0), SIP),
        'v_fixed': (zlib_with(SHORT, strategy=zlib.Z_FIXED), SHORT),
        'v_dynamic': (zlib_with(SIP * 3), SIP * 3),
        'v_empty': (zlib.compress(b''), b''),
        'v_near': (zlib_with(win_expected(32400)), win_expected(32400)),
        'v_window': window_vector(),
        'v_gzip': (gzip_vector(SIP), SIP),
        'v_zeros': (zlib_with(bytes(70000)), bytes(70000)),
    }
    # every vector decodes to what it should, and has the block types it claims
    for name, (comp, data) in vec.items():
        wbits = 31 if name == 'v_gzip' else 15
        assert zlib.decompress(comp, wbits) == data, name
    assert (vec['v_stored'][0][2] >> 1) & 3 == 0
    assert (vec['v_fixed'][0][2] >> 1) & 3 == 1
    assert (vec['v_dynamic'][0][2] >> 1) & 3 == 2
    out = ['/*', ' * inflate_vectors.h: written by tests/unit/make-inflate-vectors.py (zlib %s); do not edit.'
           % zlib.ZLIB_VERSION, ' */', '#ifndef SL_TESTS_INFLATE_VECTORS_H', '#define SL_TESTS_INFLATE_VECTORS_H',
           '', '#include <stdint.h>', '',
           '/* clang-format off */']
    out.append(c_string('sip_text', SIP))
    out.append(c_string('short_text', SHORT))
    out.append('static const char win_x[] = "%s";\n' % WIN_X.decode())
    for name, (comp, _) in vec.items():
        out.append(c_array(name, comp))
    out.append('/* raw deflate streams that must be refused */')
    for name, b in bad_vectors().items():
        out.append(c_array(name, b))
    out.append('/* clang-format on */')
    out.append('')
    out.append('#endif /* SL_TESTS_INFLATE_VECTORS_H */')
    path = os.path.join(here, 'inflate_vectors.h')
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')
    print('wrote', path, ', '.join('%s %d' % (k, len(v[0])) for k, v in vec.items()))


main()
