#!/bin/bash
# Rebuild capture.pcap for this case, and ../hep3-file-basic-call/capture.hep: send-hep.py sends
# ../basic-call's 7 SIP messages as HEP3 packets over one TCP connection on 127.0.0.1 to a small
# collector (in the same script) that writes the bytes it receives to a HEP stream file, while
# tcpdump records the connection on lo.
# Needs root (tcpdump), python3, tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap and OUTDIR/capture.hep only on
# success; default: capture.pcap here and capture.hep in ../hep3-file-basic-call)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-}
port=25068
tmp=$(mktemp -d)
tpid=""
cleanup() { if [ -n "$tpid" ]; then kill "$tpid" 2>/dev/null || true; fi; rm -rf "$tmp"; }
trap cleanup EXIT
cd "$tmp"
if [ -n "$(ss -Hltn "sport = :$port")" ]; then echo "make-capture: tcp port $port in use" >&2; exit 1; fi
tcpdump -i lo -U --immediate-mode -w capture.pcap "tcp port $port" >td.out 2>&1 &
tpid=$!
for _ in $(seq 50); do grep -q listening td.out && break; sleep 0.1; done
grep -q listening td.out || { echo "make-capture: tcpdump did not start" >&2; exit 1; }
python3 "$here/send-hep.py" "$port" capture.hep
sleep 0.5
kill "$tpid"; wait "$tpid" || true; tpid=""
# the 5 data segments, each as written (tshark: the TCP payload lengths, in order)
lens=$(tshark -r capture.pcap -Y 'tcp.len > 0' -T fields -e tcp.len 2>/dev/null | tr '\n' ' ')
echo "make-capture: TCP segments with data: $lens" >&2
[ "$(echo "$lens" | wc -w)" -eq 5 ] || { echo "make-capture: expected 5 data segments" >&2; exit 1; }
if [ -n "$out" ]; then
    cp capture.pcap capture.hep "$out/"
else
    cp capture.pcap "$here/capture.pcap"
    cp capture.hep "$here/../hep3-file-basic-call/capture.hep"
fi
echo "make-capture: done" >&2
