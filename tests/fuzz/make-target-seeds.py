"""Writes the seeds of the fuzz targets fuzz_ipfrag, fuzz_tcp, fuzz_hep,
fuzz_txn and fuzz_inflate into tests/fuzz/corpus/<target>/ (the input formats are described at
the top of each target).  Crash reproducers in those directories are kept by
hand; this script only rewrites the seed-*.bin files.
Usage: python3 tests/fuzz/make-target-seeds.py"""
import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def sip(first, callid='fz1@h', cseq='1 INVITE', ftag='a1', ttag=None, branch='z9hG4bKb1', body=b''):
    to = '<sip:bob@10.0.0.2>' + (';tag=' + ttag if ttag else '')
    return (first + '\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=' + branch +
            '\r\nFrom: <sip:alice@10.0.0.1>;tag=' + ftag + '\r\nTo: ' + to +
            '\r\nCall-ID: ' + callid + '\r\nCSeq: ' + cseq +
            '\r\nContact: <sip:alice@10.0.0.1>\r\nContent-Length: ' + str(len(body)) +
            '\r\n\r\n').encode() + body


INV = sip('INVITE sip:bob@10.0.0.2 SIP/2.0', body=b'v=0\r\n')
OPT = sip('OPTIONS sip:bob@10.0.0.2 SIP/2.0', cseq='1 OPTIONS')


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# fuzz_ipfrag: records h[0] mode|MF<<2|adv<<3, h[1] id, h[2..3] offset/8, h[4..5] len
def frag(mode, mf, adv, ident, off8, payload):
    return bytes([mode | (4 if mf else 0) | (adv << 3), ident]) + struct.pack('!HH', off8, len(payload)) + payload


udp = struct.pack('!HHHH', 5060, 5060, 8 + len(OPT), 0) + OPT
cut = 64  # multiple of 8
v4_order = frag(1, 1, 0, 7, 0, udp[:cut]) + frag(1, 0, 1, 7, cut // 8, udp[cut:])
v4_rev = frag(1, 0, 0, 8, cut // 8, udp[cut:]) + frag(1, 1, 1, 8, 0, udp[:cut])
v6 = frag(2, 1, 0, 9, 0, udp[:cut]) + frag(2, 0, 1, 9, cut // 8, udp[cut:])
overlap = (frag(1, 1, 0, 5, 0, udp[:cut + 16]) + frag(1, 0, 0, 5, cut // 8, udp[cut:]) +
           frag(1, 1, 0, 5, 0, udp[:cut]))
timeout = frag(3, 1, 0, 4, 0, udp[:cut]) + frag(1, 1, 20, 4, 0, udp[:cut]) + frag(1, 0, 1, 4, cut // 8, udp[cut:])
raw = bytes([0x45, 0, 0, 20 + len(udp), 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]) + udp
rawrec = bytes([0, 0]) + struct.pack('!HH', 0, len(raw)) + raw
write('ipfrag', 'seed-v4-in-order.bin', b'\x00' + v4_order)
write('ipfrag', 'seed-v4-reversed.bin', b'\x00' + v4_rev)
write('ipfrag', 'seed-v6.bin', b'\x00' + v6)
write('ipfrag', 'seed-overlap-dup.bin', b'\x00' + overlap)
write('ipfrag', 'seed-timeout-limits.bin', b'\x03' + timeout + v4_order + v6)
write('ipfrag', 'seed-raw.bin', b'\x00' + rawrec + v4_order)


# fuzz_tcp: records h[0] flags, h[1] conn|dir<<2|mode<<3|adv<<5, h[2] arg, h[3] 0, h[4..5] len
def seg(flags, conn, d, mode, adv, arg, payload=b''):
    return bytes([flags, conn | (d << 2) | (mode << 3) | (adv << 5), arg, 0]) + struct.pack('!H', len(payload)) + payload


OK = sip('SIP/2.0 200 OK', cseq='1 OPTIONS', ttag='b1')
hs = seg(0x02, 0, 0, 3, 0, 1) + seg(0x12, 0, 1, 3, 0, 2)
write('tcp', 'seed-handshake-request-response.bin',
      b'\x00' + hs + seg(0x18, 0, 0, 0, 0, 0, OPT) + seg(0x18, 0, 1, 0, 0, 0, OK) +
      seg(0x11, 0, 0, 0, 1, 0) + seg(0x11, 0, 1, 0, 0, 0))
write('tcp', 'seed-split-two-in-one.bin',
      b'\x00' + seg(0x18, 1, 0, 3, 0, 5, OPT[:40]) + seg(0x18, 1, 0, 0, 0, 0, OPT[40:] + INV) +
      seg(0x18, 1, 0, 0, 0, 0, b'\r\n\r\n'))
write('tcp', 'seed-out-of-order-gap.bin',
      b'\x00' + seg(0x18, 2, 0, 3, 0, 9, OPT[:50]) + seg(0x18, 2, 0, 1, 0, 2, OPT) +
      seg(0x18, 2, 0, 2, 0, 32, OPT[50:]) + seg(0x18, 2, 0, 0, 7, 0, OPT) + seg(0x04, 2, 0, 0, 0, 0))
write('tcp', 'seed-limits.bin',
      b'\x03' + b''.join(seg(0x18, c, 0, 3, 1, c, INV) for c in range(4)) +
      seg(0x18, 3, 1, 0, 0, 0, b'GARBAGE' * 80) + seg(0x18, 0, 0, 0, 0, 0, INV[:100]))
write('tcp', 'seed-tls-ws.bin',
      b'\x00' + seg(0x18, 0, 0, 3, 0, 1, b'\x16\x03\x01\x00\x05hello') +
      seg(0x18, 1, 0, 3, 0, 1, b'GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'))


# fuzz_hep: one HEP packet (as in make-hep-seed.py)
def chunk(t, v, vendor=0):
    return struct.pack('!HHH', vendor, t, 6 + len(v)) + v


def hep3(chunks):
    body = b''.join(chunks)
    return b'HEP3' + struct.pack('!H', 6 + len(body)) + body


def v4chunks(pt=1, payload=OPT, pchunk=15):
    return [chunk(1, b'\x02'), chunk(2, b'\x11'), chunk(3, bytes([192, 0, 2, 1])),
            chunk(4, bytes([192, 0, 2, 2])), chunk(7, struct.pack('!H', 5060)),
            chunk(8, struct.pack('!H', 5060)), chunk(9, struct.pack('!I', 1700000000)),
            chunk(10, struct.pack('!I', 5)), chunk(11, bytes([pt])),
            chunk(12, struct.pack('!I', 2001)), chunk(17, b'corr@x'), chunk(pchunk, payload)]


v6c = [chunk(1, b'\x0a'), chunk(2, b'\x06'), chunk(5, b'\x20\x01\x0d\xb8' + b'\0' * 11 + b'\x01'),
       chunk(6, b'\x20\x01\x0d\xb8' + b'\0' * 11 + b'\x02'), chunk(7, struct.pack('!H', 5060)),
       chunk(8, struct.pack('!H', 5062)), chunk(0x13, b'node1'), chunk(0x99, b'x', vendor=2),
       chunk(15, OPT)]
write('hep', 'seed-hep3-v4.bin', hep3(v4chunks()))
write('hep', 'seed-hep3-v6-vendor.bin', hep3(v6c))
write('hep', 'seed-hep2.bin', struct.pack('!BBBBHH', 2, 28, 2, 17, 5060, 5060) +
      bytes([192, 0, 2, 1, 192, 0, 2, 2]) + struct.pack('<IIH', 1700000001, 7, 2001) + b'\0\0' + OPT)
write('hep', 'seed-hep1.bin', struct.pack('!BBBBHH', 1, 16, 2, 17, 5060, 5060) +
      bytes([192, 0, 2, 1, 192, 0, 2, 2]) + OPT)
write('hep', 'seed-hep3-log.bin', hep3(v4chunks(pt=100, payload=b'log line')))
write('hep', 'seed-hep3-compressed.bin', hep3(v4chunks(pchunk=16, payload=b'\x78\x9c\x03\x00\x00\x00\x00\x01')))
write('hep', 'seed-hep3-zlib-sip.bin', hep3(v4chunks(pchunk=16, payload=zlib.compress(INV, 9))))
write('hep', 'seed-hep3-gzip-sip.bin', hep3(v4chunks(pchunk=16, payload=gzip.compress(OPT, mtime=0))))

# fuzz_tcp, HEP over TCP: HEP3 packets cut across segments, a compressed one, a log line
hp = [hep3(v4chunks()), hep3(v4chunks(pchunk=16, payload=zlib.compress(INV))),
      hep3(v4chunks(pt=100, payload=b'log line')), hep3(v4chunks())]
stream = b''.join(hp)
write('tcp', 'seed-hep3-stream.bin',
      b'\x00' + seg(0x02, 0, 0, 3, 0, 1) + seg(0x18, 0, 0, 0, 0, 0, stream[:50]) +
      seg(0x18, 0, 0, 0, 0, 0, stream[50:400]) + seg(0x18, 0, 0, 0, 1, 0, stream[400:]) +
      seg(0x18, 1, 0, 3, 0, 7, stream[30:]) + seg(0x11, 0, 0, 0, 0, 0, hp[0][:20]))
write('tcp', 'seed-hep2-stream.bin',
      b'\x00' + seg(0x02, 2, 0, 3, 0, 1) +
      seg(0x18, 2, 0, 0, 0, 0, (struct.pack('!BBBBHH', 2, 16, 2, 17, 5060, 5060) + bytes([192, 0, 2, 1, 192, 0, 2, 2]) +
                                 struct.pack('<IIH', 1700000001, 7, 2001) + b'\0\0' + OPT) * 2))

# fuzz_inflate: byte 0 = wrap (0 raw, 1 zlib, 2 gzip, 3 auto) | cap KiB << 2
text = INV + OPT + INV
for name, wrap, comp in [('seed-zlib-dynamic.bin', 1, zlib.compress(text, 9)),
                         ('seed-zlib-stored.bin', 1, zlib.compress(text, 0)),
                         ('seed-raw-fixed.bin', 0, (lambda c: c.compress(OPT) + c.flush())(
                             zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_FIXED))),
                         ('seed-gzip.bin', 2, gzip.compress(text, mtime=0)),
                         ('seed-auto-long.bin', 3, zlib.compress(b'ab' * 20000 + text, 9))]:
    write('inflate', name, bytes([wrap | (63 << 2)]) + comp)
write('inflate', 'seed-small-cap.bin', bytes([1 | (0 << 2)]) + zlib.compress(text, 9))


# fuzz_txn: control byte (src | dst<<2 | tcp<<4 | adv<<5) + message, joined by "\n---\n"
def txn(msgs):
    return b'\n---\n'.join(bytes([c]) + m for c, m in msgs)


A_B, B_A = 0 | (1 << 2), 1 | (0 << 2)
ringing = sip('SIP/2.0 180 Ringing', ttag='t1')
ok = sip('SIP/2.0 200 OK', ttag='t1', body=b'v=0\r\n')
ack = sip('ACK sip:bob@10.0.0.2 SIP/2.0', cseq='1 ACK', ttag='t1', branch='z9hG4bKack')
bye = sip('BYE sip:alice@10.0.0.1 SIP/2.0', cseq='1 BYE', ftag='t1', ttag='a1', branch='z9hG4bKbye')
bye200 = sip('SIP/2.0 200 OK', cseq='1 BYE', ftag='t1', ttag='a1', branch='z9hG4bKbye')
write('txn', 'seed-basic-call.txt', txn([(A_B, INV), (B_A, ringing), (B_A | 32, ok), (A_B, ack),
                                         (B_A | 96, bye), (A_B, bye200)]))
cancel = sip('CANCEL sip:bob@10.0.0.2 SIP/2.0', cseq='1 CANCEL')
c200 = sip('SIP/2.0 200 OK', cseq='1 CANCEL', ttag='t1')
r487 = sip('SIP/2.0 487 Request Terminated', ttag='t1')
ack487 = sip('ACK sip:bob@10.0.0.2 SIP/2.0', cseq='1 ACK', ttag='t1')
write('txn', 'seed-cancel.txt', txn([(A_B, INV), (B_A, ringing), (A_B | 32, cancel), (B_A, c200),
                                     (B_A, r487), (A_B, ack487)]))
ok2 = sip('SIP/2.0 200 OK', ttag='t2', body=b'v=0\r\n')
write('txn', 'seed-fork-retrans.txt', txn([(A_B, INV), (A_B | 32, INV), (B_A, ringing), (B_A, ok),
                                           (2 | (0 << 2), ok2), (A_B, ack), (B_A | 224, ok)]))
reinv = sip('INVITE sip:bob@10.0.0.2 SIP/2.0', cseq='2 INVITE', ttag='t1', branch='z9hG4bKre',
            body=b'v=0\r\n')
reinv200 = (sip('SIP/2.0 200 OK', cseq='2 INVITE', ttag='t1', branch='z9hG4bKre', body=b'v=0\r\n')
            .replace(b'Content-Length', b'Session-Expires: 90;refresher=uac\r\nContent-Length'))
write('txn', 'seed-reinvite-timer.txt', txn([(A_B, INV), (B_A, ok), (A_B, ack), (A_B | 64, reinv),
                                             (B_A, reinv200), (A_B | 224, bye)]))
reg = sip('REGISTER sip:10.0.0.2 SIP/2.0', cseq='1 REGISTER', callid='reg@h', branch='z9hG4bKr1')
r401 = sip('SIP/2.0 401 Unauthorized', cseq='1 REGISTER', callid='reg@h', ttag='x', branch='z9hG4bKr1')
write('txn', 'seed-register-options.txt', txn([(A_B | 16, reg), (B_A | 16, r401), (A_B, OPT),
                                               (B_A, OK)]))
