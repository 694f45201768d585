#!/bin/bash
# Rebuild capture.pcap for this case: two TLS connections and one DTLS flow on 127.0.0.1, made by
# openssl s_server / s_client (OpenSSL 3.0), each carrying a SIP OPTIONS request and recorded by
# tcpdump on lo: 'tcp port 25062 or udp port 25063'.  The key and certificate are made on the fly
# (a throw-away self-signed P-256 pair in the temp dir, never kept).
# Needs root (tcpdump), openssl, tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
tls=25062 dtls=25063
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
cd "$tmp"
fail() { echo "make-capture: $*" >&2; for f in *.out; do [ -s "$f" ] && { echo "-- $f" >&2; tail -5 "$f" >&2; }; done; exit 1; }
options() {     # $1 = transport, $2 = port, $3 = CSeq
    printf 'OPTIONS sip:bob@127.0.0.1:%s;transport=%s SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:25069;branch=z9hG4bK-tls-%s\r\nFrom: <sip:alice@127.0.0.1>;tag=a%s\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: tls-%s@127.0.0.1\r\nCSeq: %s OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
        "$2" "$(echo "$1" | tr 'A-Z' 'a-z')" "$1" "$3" "$3" "$3" "$3"
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem \
    -out cert.pem -days 1 -subj /CN=siplint-test >req.out 2>&1 || fail "openssl req"
[ -z "$(ss -Hltn "sport = :$tls")" ] || fail "tcp port $tls in use"
[ -z "$(ss -Hlun "sport = :$dtls")" ] || fail "udp port $dtls in use"
tcpdump -i lo -U --immediate-mode -w capture.pcap "tcp port $tls or udp port $dtls" >td.out 2>&1 &
tpid=$!; pids="$pids $tpid"
for _ in $(seq 50); do grep -q listening td.out && break; sleep 0.1; done
grep -q listening td.out || fail "tcpdump did not start"
# A server per connection (-naccept 1); its stdin stays open for a while (on EOF of its stdin
# s_server closes the connection it serves); it prints what it receives in clear.
serve() {       # $1 = name, then s_server options
    local name=$1
    shift
    sleep 5 | timeout 10 openssl s_server "$@" -cert cert.pem -key key.pem -naccept 1 -quiet \
        >"$name-server.out" 2>&1 &
    spid=$!; pids="$pids $spid"
}
# TLS: two connections, one after the other
for i in 1 2; do
    serve "tls$i" -accept "127.0.0.1:$tls"
    for _ in $(seq 50); do [ -n "$(ss -Hltn "sport = :$tls")" ] && break; sleep 0.1; done
    { options TLS "$tls" "$i"; sleep 0.3; } |
        timeout 10 openssl s_client -connect "127.0.0.1:$tls" -no_ign_eof -quiet >"tls$i-client.out" 2>&1 ||
        fail "TLS client $i"
    wait "$spid" || true
done
# DTLS: one flow
serve dtls -dtls -accept "127.0.0.1:$dtls"
for _ in $(seq 50); do [ -n "$(ss -Hlun "sport = :$dtls")" ] && break; sleep 0.1; done
{ options DTLS "$dtls" 3; sleep 0.5; } |
    timeout 10 openssl s_client -dtls -connect "127.0.0.1:$dtls" -no_ign_eof -quiet >dtls-client.out 2>&1 ||
    fail "DTLS client"
wait "$spid" || true
sleep 0.5
kill "$tpid"; wait "$tpid" || true
# the servers received the requests, in clear, through TLS and DTLS
for f in tls1 tls2 dtls; do
    grep -q '^OPTIONS sip:bob' "$f-server.out" || fail "the $f server did not get the request"
done
# tshark: 2 TLS streams, 1 DTLS flow, no SIP in clear
n=$(tshark -r capture.pcap -Y tls -T fields -e tcp.stream 2>/dev/null | sort -u | wc -l)
[ "$n" -eq 2 ] || fail "$n TLS streams, expected 2"
n=$(tshark -r capture.pcap -Y dtls 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || fail "no DTLS"
n=$(tshark -r capture.pcap -Y sip 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || fail "$n SIP messages in clear"
chown "$(stat -c %u:%g "$out")" capture.pcap
chmod 644 capture.pcap
mv capture.pcap "$out/capture.pcap"
echo "make-capture: wrote $out/capture.pcap" >&2
