#!/bin/sh
# generated.sh SIPLINT GEN: realistic traffic gives no finding at warning or error.
# bench/gen writes 20,000 messages of calls through proxies and an SBC (session
# timers refreshed, REGISTER with 401, OPTIONS, CANCEL, busy, retransmissions,
# all correct by RFC 3261/4028); a finding at warning or error on it is a false
# positive of a rule (two were found this way: SIP-CSEQ-004 on a stateful proxy's
# CANCEL, the severity of the "N more findings" summary).  The same file with
# --threads 1 and 2 gives the same report.  bench/floor (make bench's parse
# floor), when given, parses (and stores) every message of it in its three modes.
bin=${1:-build/siplint}
gen=${2:-build/bench/gen}
floor=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
"$gen" -q -n 20000 -o "$tmp/g.pcap" || { echo "FAIL: generated: bench/gen failed" >&2; exit 1; }
"$bin" check --fail-on warning --threads 2 -f json -o "$tmp/t2.json" "$tmp/g.pcap"
rc=$?
if [ "$rc" -ne 0 ]; then
    fail=1
    echo "FAIL: generated: siplint exited $rc on correct traffic; findings at warning or error:" >&2
    grep -o '"rule": "[^"]*", "severity": "\(warning\|error\)"' "$tmp/t2.json" | sort | uniq -c >&2
fi
"$bin" check --fail-on never --threads 1 -f json -o "$tmp/t1.json" "$tmp/g.pcap"
if ! cmp -s "$tmp/t1.json" "$tmp/t2.json"; then
    fail=1
    echo "FAIL: generated: --threads 1 and 2 give different reports" >&2
fi
if [ -n "$floor" ]; then
    for mode in osip parse store; do
        out=$("$floor" -m "$mode" -t 2 "$tmp/g.pcap" 2>&1)
        case $out in
        "$mode "[12]" 20000 "*" not parsed"*) ok=0 ;;
        "$mode "[12]" 20000 "*) ok=1 ;;
        *) ok=0 ;;
        esac
        if [ $ok = 0 ]; then
            fail=1
            echo "FAIL: generated: bench/floor -m $mode did not take the 20000 messages: $out" >&2
        fi
    done
fi
msgs=$(grep -o '"sip_messages": *[0-9]*' "$tmp/t2.json" | head -n 1 | tr -dc 0-9)
[ "$fail" -eq 0 ] && echo "generated: 20000 messages written, ${msgs:-?} read, nothing at warning or error; --threads 1 = 2"
exit $fail
