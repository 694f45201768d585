"""Sends ../basic-call's 7 SIP messages as HEP3 packets (RULES.md C.1, C.2) over one real TCP
connection on 127.0.0.1 to a small collector that writes what it receives to a HEP stream file;
make-capture.sh records the connection with tcpdump.

Usage: python3 send-hep.py PORT OUT.hep

Each message becomes one HEP3 packet with the chunks sngrep sends (family 2, protocol 17, source and
destination port, seconds and microseconds of basic-call's own frame time, payload type 1, capture
agent id 2002, the IPv4 addresses, the payload), so the inner view is basic-call's.  A HEP3 log line
(payload type 100, not SIP) goes between the ACK and the BYE.  The packets are written so that TCP
carries every framing case (TCP_NODELAY, 50 ms between writes: one write is one segment on lo):
  write 1: packets 1 and 2 whole, and the first 40 bytes of packet 3
  write 2: the rest of packet 3
  write 3: the first 100 bytes of packet 4
  write 4: the rest of packet 4, packet 5 and the log packet
  write 5: packets 6 and 7
then the client closes the connection."""
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools'))
import pcapkit  # noqa: E402


def chunk(t, v):
    return struct.pack('!HHH', 0, t, 6 + len(v)) + v


def hep3(src, sport, dst, dport, sec, usec, payload, pt=1):
    body = b''.join([chunk(1, b'\x02'), chunk(2, b'\x11'), chunk(7, struct.pack('!H', sport)),
                     chunk(8, struct.pack('!H', dport)), chunk(9, struct.pack('!I', sec)),
                     chunk(10, struct.pack('!I', usec)), chunk(11, bytes([pt])),
                     chunk(12, struct.pack('!I', 2002)), chunk(3, src), chunk(4, dst),
                     chunk(15, payload)])
    return b'HEP3' + struct.pack('!H', 6 + len(body)) + body


def messages():
    """(src, sport, dst, dport, sec, usec, SIP bytes) of basic-call's UDP datagrams."""
    here = os.path.dirname(os.path.abspath(__file__))
    _, recs, _ = pcapkit.read_pcap(os.path.join(here, '..', 'basic-call', 'capture.pcap'))
    out = []
    for sec, usec, _, data in recs:
        ip = data[14:]
        ihl = (ip[0] & 15) * 4
        sport, dport, ulen = struct.unpack('!HHH', ip[ihl:ihl + 6])
        out.append((ip[12:16], sport, ip[16:20], dport, sec, usec, ip[ihl + 8:ihl + ulen]))
    return out


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    msgs = messages()
    pk = [hep3(*m) for m in msgs]
    assert len(pk) == 7
    # the log line: 1 us after the ACK (message 5)
    log = hep3(msgs[4][0], msgs[4][1], msgs[4][2], msgs[4][3], msgs[4][4], msgs[4][5] + 1,
               b'siplint test: a HEP3 log line', pt=100)
    writes = [pk[0] + pk[1] + pk[2][:40], pk[2][40:], pk[3][:100], pk[3][100:] + pk[4] + log,
              pk[5] + pk[6]]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', port))
    srv.listen(1)
    got = []

    def collect():
        conn, _ = srv.accept()
        while True:
            b = conn.recv(65536)
            if not b:
                break
            got.append(b)
        conn.close()

    th = threading.Thread(target=collect)
    th.start()
    cli = socket.create_connection(('127.0.0.1', port))
    cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    time.sleep(0.05)
    for w in writes:
        cli.sendall(w)
        time.sleep(0.05)
    cli.close()
    th.join(5)
    srv.close()
    data = b''.join(got)
    assert data == b''.join(writes), 'the collector did not receive every byte'
    with open(out, 'wb') as f:
        f.write(data)


main()
