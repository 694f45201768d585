#!/bin/bash
# Rebuild capture.pcap for this case: sngrep 1.6 (Debian 12) replays ../basic-call/capture.pcap
# as HEP3 to 127.0.0.1:9060 while tcpdump records udp port 9060 on lo.  A small UDP
# listener on 9060 keeps the kernel from answering with ICMP port-unreachable.
# Needs root (tcpdump), sngrep, python3.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
#
# sngrep -N -q sometimes exits before it has sent every message (seen: 4 of 7), so the
# replay is repeated (up to 10 times) until the capture holds exactly the 7 HEP packets.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
src=$here/../basic-call/capture.pcap
want=7
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    rm -f hep.pcap td.out
    python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 9060)); s.settimeout(3)
try:
    while True: s.recv(65535)
except OSError: pass
' &
    lpid=$!
    tcpdump -i lo -U --immediate-mode -w hep.pcap 'udp port 9060' >td.out 2>&1 &
    tpid=$!
    for _ in $(seq 50); do grep -q listening td.out && break; sleep 0.1; done
    sngrep -N -q -I "$src" -H udp:127.0.0.1:9060
    sleep 1
    kill "$tpid"; wait "$tpid" || true
    kill "$lpid" 2>/dev/null || true; wait "$lpid" 2>/dev/null || true
    got=$(tcpdump -r hep.pcap 2>/dev/null | wc -l)
    echo "attempt $attempt: $got HEP packets" >&2
    if [ "$got" -eq "$want" ]; then
        cp hep.pcap "$out/capture.pcap"
        exit 0
    fi
done
echo "make-capture: sngrep never sent all $want messages" >&2
exit 1
