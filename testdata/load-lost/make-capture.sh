#!/bin/bash
# A load capture with real loss: 2000 calls between SIPp's built-in "uac" and "uas"
# scenarios on 127.0.0.1, both run with -lost 5 (each SIPp drops 5 % of the messages
# it sends or receives, at random), recorded by tcpdump on lo.  The capture is large
# and different on every run, so it is NOT committed: this script writes it.
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark (for the counts).
# Usage: ./make-capture.sh [OUTDIR]     (default OUTDIR: <repo>/build/load-lost)
#        writes OUTDIR/capture.pcap and OUTDIR/summary.txt, only on success
set -eu

UAC_PORT=5170           # caller side, SIPp built-in "uac"
UAS_PORT=5171           # callee side, SIPp built-in "uas"
# (ports 5100-5199: Wireshark decodes udp/5072 as AYIYA and udp/5094 as HART-IP)
UAC_MEDIA_PORT=16170    # written into SDP (no RTP is sent); SIPp binds it, keep it off the default 6000
UAS_MEDIA_PORT=16171
CALLS=2000              # calls to place (-m on both sides)
RATE=200                # calls per second (-r)
HOLD_MS=1000            # -d: the built-in uac pauses this long between ACK and BYE, long enough
                        # for the callee's 200 retransmission (T1 = 500 ms) to come back while the
                        # call is up, so a lost ACK is re-sent (SIPp answers a retransmitted 200
                        # with the ACK it sent after it); the built-in uas stays 4 s after its
                        # last 200 (<timewait>) to answer a retransmitted BYE whose 200 was lost
LOST=5                  # -lost: % of messages each SIPp drops
SIPP_COMMON=(-i 127.0.0.1 -m "$CALLS" -nd -nostdin -timeout 180s -trace_err -lost "$LOST")

HERE=$(cd "$(dirname "$0")" && pwd)
OUTDIR=${1:-$(cd "$HERE/../.." && pwd)/build/load-lost}
WORK=$(mktemp -d /tmp/siplint-capture.XXXXXX)
TCPDUMP_PID="" UAS_PID="" UAC_PID=""

cleanup() {
    for pid in $UAC_PID $UAS_PID $TCPDUMP_PID; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $UAC_PID $UAS_PID $TCPDUMP_PID; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "make-capture: $*" >&2
    for f in "$WORK"/*.log "$WORK"/*.out; do
        [ -s "$f" ] && { echo "---- $(basename "$f")" >&2; tail -n 40 "$f" >&2; }
    done
    exit 1
}

# last value of a counter on SIPp's final statistics screen, e.g. "Successful call"
sipp_stat() {    # $1 = file, $2 = counter name
    grep -E "^  $2 +\|" "$1" | tail -n 1 | awk -F'|' '{gsub(/ /, "", $3); print $3}'
}

# the per-message table (Messages / Retrans / Timeout / Unexp. / Lost) of SIPp's final screen
sipp_table() {  # $1 = file
    awk '/Messages +Retrans/ {t = ""; on = 1} on {t = t $0 "\n"} /Test Terminated/ {on = 0} END {printf "%s", t}' "$1" |
        grep -v -e 'Test Terminated' -e '^ *$'
}

for p in $UAC_PORT $UAS_PORT; do
    if [ -n "$(ss -Hluan "sport = :$p")" ]; then fail "UDP port $p already in use"; fi
done
mkdir -p "$OUTDIR"
START=$(date +%s.%N)

# SIPp writes its logs in the cwd: run it all in a temp dir.
cd "$WORK"

# 1. tcpdump first, and wait until it is really listening.
# --immediate-mode: without it libpcap (TPACKET_V3) hands packets over in blocks
# up to 1 s late, and the last messages are lost when tcpdump is stopped.
# -B: a larger kernel buffer (KiB), at 200 calls/s the default one could overflow.
tcpdump -i lo -U --immediate-mode -B 16384 -w capture.pcap \
        "udp port $UAC_PORT or udp port $UAS_PORT" 2>tcpdump.log &
TCPDUMP_PID=$!
for _ in $(seq 100); do
    grep -q listening tcpdump.log 2>/dev/null && break
    kill -0 "$TCPDUMP_PID" 2>/dev/null || fail "tcpdump died"
    sleep 0.05
done
grep -q listening tcpdump.log || fail "tcpdump did not start listening"

# 2. the UAS, and wait until its socket is bound.
sipp -sn uas -p "$UAS_PORT" -mp "$UAS_MEDIA_PORT" "${SIPP_COMMON[@]}" >uas.out 2>&1 &
UAS_PID=$!
for _ in $(seq 100); do
    [ -n "$(ss -Hluan "sport = :$UAS_PORT")" ] && break
    kill -0 "$UAS_PID" 2>/dev/null || fail "UAS sipp died"
    sleep 0.05
done

# 3. the UAC.
sipp -sn uac -s bob -p "$UAC_PORT" -mp "$UAC_MEDIA_PORT" -r "$RATE" -d "$HOLD_MS" "${SIPP_COMMON[@]}" \
     "127.0.0.1:$UAS_PORT" >uac.out 2>&1 &
UAC_PID=$!

# 4. wait for both, keep their exit codes.
uac_rc=0; wait "$UAC_PID" || uac_rc=$?; UAC_PID=""
uas_rc=0; wait "$UAS_PID" || uas_rc=$?; UAS_PID=""

# 5. stop tcpdump by its PID (TERM: background jobs of a script ignore SIGINT).
sleep 0.5
kill -TERM "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=""
END=$(date +%s.%N)

# SIPp exits 0 when every call succeeded and 1 when some failed: with -lost both are
# results worth recording. Anything else (a fatal error, a signal) is a failure.
[ "$uac_rc" -le 1 ] || fail "UAC sipp exited with $uac_rc"
[ "$uas_rc" -le 1 ] || fail "UAS sipp exited with $uas_rc"
grep -qE '^0 packets dropped by kernel' tcpdump.log || fail "tcpdump dropped packets: $(grep dropped tcpdump.log)"

uac_ok=$(sipp_stat uac.out "Successful call"); uac_failed=$(sipp_stat uac.out "Failed call")
uas_ok=$(sipp_stat uas.out "Successful call"); uas_failed=$(sipp_stat uas.out "Failed call")
[ "$uac_ok" -ge 1 ] || fail "no successful call"
n=$(tshark -r capture.pcap -Y sip 2>/dev/null | wc -l)
# retransmissions: payloads seen more than once (extra copies)
copies=$(tshark -r capture.pcap -Y sip -T fields -e udp.payload 2>/dev/null | sort | uniq -c | awk '$1 > 1 {s += $1 - 1} END {print s + 0}')
calls=$(tshark -r capture.pcap -Y sip -T fields -e sip.Call-ID 2>/dev/null | sort -u | wc -l)
answered=$(tshark -r capture.pcap -Y 'sip.Status-Code == 200 && sip.CSeq.method == "INVITE"' -T fields -e sip.Call-ID 2>/dev/null | sort -u | wc -l)

summary=$(cat <<SUMMARY
load-lost: $CALLS calls, $RATE calls/s, hold ${HOLD_MS} ms, -lost $LOST on both SIPp
SIP messages in the capture (tshark): $n ($(capinfos -c -M capture.pcap 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}') packets)
repeated payloads (retransmission copies): $copies
Call-IDs: $calls, answered (a 200 to the INVITE seen): $answered
UAC sipp: exit $uac_rc, successful $uac_ok, failed $uac_failed
UAS sipp: exit $uas_rc, successful $uas_ok, failed $uas_failed
time (tcpdump start to stop): $(awk -v a="$START" -v b="$END" 'BEGIN {printf "%.1f s", b - a}')

UAC sipp, final scenario screen:
$(sipp_table uac.out)

UAS sipp, final scenario screen:
$(sipp_table uas.out)
SUMMARY
)

chown "$(stat -c %u:%g "$OUTDIR")" capture.pcap
chmod 644 capture.pcap
mv capture.pcap "$OUTDIR/capture.pcap"
echo "$summary" > "$OUTDIR/summary.txt"
echo "$summary"
echo "make-capture: wrote $OUTDIR/capture.pcap and $OUTDIR/summary.txt"
