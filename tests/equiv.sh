#!/bin/sh
# Equivalence across transports (issue 5): the same call carried over UDP (IPv4 and IPv6), IP fragments,
# HEP (in UDP, over TCP, as a HEP stream file), tunnels and TCP must give the same messages (ladder arrows:
# method, status, CSeq, direction), the same call (outcome, who hung up, how, dialogs, messages) and the same
# findings (rule IDs and severities). Frame numbers, times and the addresses in column titles may differ
# (fragments take several frames, HEP over TCP puts several messages in one segment, tcp-basic-call and
# ipv6-basic-call are SIPp recordings of their own on other ports and addresses).
set -u
bin=${1:-build/siplint}
ref=testdata/basic-call/capture.pcap
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# arrows of the ladder: everything right of the frame column
arrows() { "$bin" flow "$1" | sed -n 's/^ *[0-9][0-9]*\.[0-9]* [0-9][0-9]* *//p'; }
call() {
    "$bin" calls --format json "$1" |
        grep -E '"(method|outcome|final_status|ended_by|end_how|dialogs|messages|findings)"'
}
rules() { "$bin" check --format ndjson --fail-on never "$1" | sed -n 's/^{"rule":"\([^"]*\)","severity":"\([^"]*\)".*/\1 \2/p' | sort; }
arrows "$ref" >"$tmp/a0"
call "$ref" >"$tmp/c0"
rules "$ref" >"$tmp/r0"
for case in ipv6-basic-call udp-fragments hep3-basic-call hep3-tcp-basic-call hep3-file-basic-call tunnels \
    tcp-basic-call; do
    f=testdata/$case/capture.pcap
    [ -f "$f" ] || f=testdata/$case/capture.hep # a HEP stream file
    [ -f "$f" ] || { echo "FAIL: equiv $case: no capture" >&2; fail=$((fail + 1)); continue; }
    ok=1
    arrows "$f" >"$tmp/a1"
    call "$f" >"$tmp/c1"
    rules "$f" >"$tmp/r1"
    for k in a c r; do
        if ! cmp -s "$tmp/${k}0" "$tmp/${k}1"; then
            ok=""
            echo "FAIL: equiv $case differs from basic-call ($k):" >&2
            diff "$tmp/${k}0" "$tmp/${k}1" | head -10 >&2
        fi
    done
    if [ -n "$ok" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "equiv: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
