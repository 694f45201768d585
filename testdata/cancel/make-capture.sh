#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1,
# recorded by tcpdump on lo.  Needs root (tcpdump) and sip-tester (sipp 3.6).
# Usage: ./make-capture.sh        (writes ./capture.pcap only on success)
set -eu

UAC_PORT=5140           # caller  (alice)
UAS_PORT=5141           # callee  (bob)
# (ports 5100-5199: Wireshark decodes udp/5072 as AYIYA and udp/5094 as HART-IP)
UAC_MEDIA_PORT=16140    # written into SDP (no RTP is sent); SIPp binds it, keep it off the default 6000
UAS_MEDIA_PORT=16141
EXPECTED_SIP=7          # SIP messages the capture must hold
UAC_EXTRA=(-s bob)          # Request-URI user of the INVITE ([service])
SIPP_COMMON=(-i 127.0.0.1 -m 1 -nd -nostdin -timeout 30s -trace_err)

HERE=$(cd "$(dirname "$0")" && pwd)
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

for p in $UAC_PORT $UAS_PORT; do
    if [ -n "$(ss -Hluan "sport = :$p")" ]; then fail "UDP port $p already in use"; fi
done

# SIPp writes its logs next to the scenario / in the cwd: run it all in a temp dir.
cp "$HERE/uac.xml" "$HERE/uas.xml" "$WORK/"
cd "$WORK"

# 1. tcpdump first, and wait until it is really listening.
# --immediate-mode: without it libpcap (TPACKET_V3) hands packets over in blocks
# up to 1 s late, and the last messages are lost when tcpdump is stopped.
tcpdump -i lo -U --immediate-mode -w capture.pcap "udp port $UAC_PORT or udp port $UAS_PORT" 2>tcpdump.log &
TCPDUMP_PID=$!
for _ in $(seq 100); do
    grep -q listening tcpdump.log 2>/dev/null && break
    kill -0 "$TCPDUMP_PID" 2>/dev/null || fail "tcpdump died"
    sleep 0.05
done
grep -q listening tcpdump.log || fail "tcpdump did not start listening"

# 2. the UAS, and wait until its socket is bound.
sipp -sf uas.xml -p "$UAS_PORT" -mp "$UAS_MEDIA_PORT" "${SIPP_COMMON[@]}" >uas.out 2>&1 &
UAS_PID=$!
for _ in $(seq 100); do
    [ -n "$(ss -Hluan "sport = :$UAS_PORT")" ] && break
    kill -0 "$UAS_PID" 2>/dev/null || fail "UAS sipp died"
    sleep 0.05
done

# 3. the UAC.
sipp -sf uac.xml -p "$UAC_PORT" -mp "$UAC_MEDIA_PORT" ${UAC_EXTRA[@]+"${UAC_EXTRA[@]}"} "${SIPP_COMMON[@]}" \
     "127.0.0.1:$UAS_PORT" >uac.out 2>&1 &
UAC_PID=$!

# 4. wait for both, keep their exit codes.
uac_rc=0; wait "$UAC_PID" || uac_rc=$?; UAC_PID=""
uas_rc=0; wait "$UAS_PID" || uas_rc=$?; UAS_PID=""

# 5. stop tcpdump by its PID (TERM: background jobs of a script ignore SIGINT).
sleep 0.5
kill -TERM "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=""

[ "$uac_rc" -eq 0 ] || fail "UAC sipp exited with $uac_rc"
[ "$uas_rc" -eq 0 ] || fail "UAS sipp exited with $uas_rc"
ls "$WORK"/*_errors.log >/dev/null 2>&1 && fail "sipp reported errors"

n=$(tshark -r capture.pcap -Y sip 2>/dev/null | wc -l)
[ "$n" -eq "$EXPECTED_SIP" ] || fail "capture holds $n SIP messages, expected $EXPECTED_SIP"

# tcpdump drops root and leaves the file owned by user tcpdump: hand it to the folder's owner.
chown "$(stat -c %u:%g "$HERE")" capture.pcap
chmod 644 capture.pcap
mv capture.pcap "$HERE/capture.pcap"
echo "make-capture: wrote $HERE/capture.pcap ($n SIP messages)"
