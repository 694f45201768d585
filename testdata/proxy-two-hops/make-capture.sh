#!/bin/bash
# Rebuild capture.pcap for this case from scratch: SIPp caller -> Kamailio (stateful
# proxy) -> SIPp callee, all on 127.0.0.1, recorded by tcpdump on lo (both hops).
# Needs root (tcpdump), sip-tester (sipp 3.6) and kamailio (5.6, Debian 12 package).
# Usage: ./make-capture.sh        (writes ./capture.pcap only on success)
set -eu

UAC_PORT=5160           # caller  (alice)
PROXY_PORT=5162         # Kamailio (must match listen= and the alias in kamailio.cfg)
UAS_PORT=5164           # callee  (bob)  (must match CALLEE in kamailio.cfg)
# (ports 5100-5199: Wireshark decodes udp/5072 as AYIYA and udp/5094 as HART-IP)
UAC_MEDIA_PORT=16160    # written into SDP (no RTP is sent); SIPp binds it, keep it off the default 6000
UAS_MEDIA_PORT=16164
EXPECTED_SIP=14         # SIP messages the capture must hold
EXPECTED_ONE_VIA=7      # caller <-> proxy: INVITE, 100 (proxy's), 180, 200, ACK, BYE, 200
EXPECTED_TWO_VIAS=7     # proxy <-> callee: INVITE, 100 (callee's), 180, 200, ACK, BYE, 200
UAC_EXTRA=(-s bob)          # Request-URI user of the INVITE ([service])
SIPP_COMMON=(-i 127.0.0.1 -m 1 -nd -nostdin -timeout 30s -trace_err)

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/siplint-capture.XXXXXX)
TCPDUMP_PID="" PROXY_PID="" UAS_PID="" UAC_PID=""

cleanup() {
    for pid in $UAC_PID $UAS_PID $PROXY_PID $TCPDUMP_PID; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $UAC_PID $UAS_PID $PROXY_PID $TCPDUMP_PID; do
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

wait_bound() {  # $1 = UDP port, $2 = PID of the process that binds it, $3 = its name
    for _ in $(seq 100); do
        [ -n "$(ss -Hluan "sport = :$1")" ] && return 0
        kill -0 "$2" 2>/dev/null || fail "$3 died"
        sleep 0.05
    done
    fail "$3 did not bind UDP port $1"
}

command -v kamailio >/dev/null || fail "kamailio is not installed (apt-get install kamailio)"
for p in $UAC_PORT $PROXY_PORT $UAS_PORT; do
    if [ -n "$(ss -Hluan "sport = :$p")" ]; then fail "UDP port $p already in use"; fi
done

# SIPp writes its logs next to the scenario / in the cwd: run it all in a temp dir.
cp "$HERE/uac.xml" "$HERE/uas.xml" "$HERE/kamailio.cfg" "$WORK/"
cd "$WORK"
kamailio -c -f kamailio.cfg >kamailio-check.out 2>&1 || fail "kamailio.cfg does not parse"

# 1. tcpdump first (all three ports: both hops), and wait until it is really listening.
# --immediate-mode: without it libpcap (TPACKET_V3) hands packets over in blocks
# up to 1 s late, and the last messages are lost when tcpdump is stopped.
tcpdump -i lo -U --immediate-mode -w capture.pcap \
        "udp port $UAC_PORT or udp port $PROXY_PORT or udp port $UAS_PORT" 2>tcpdump.log &
TCPDUMP_PID=$!
for _ in $(seq 100); do
    grep -q listening tcpdump.log 2>/dev/null && break
    kill -0 "$TCPDUMP_PID" 2>/dev/null || fail "tcpdump died"
    sleep 0.05
done
grep -q listening tcpdump.log || fail "tcpdump did not start listening"

# 2. the proxy, in the foreground (-DD, logs on stderr: -E), runtime files in the temp dir.
kamailio -f kamailio.cfg -DD -E -Y "$WORK" -m 32 -M 4 >kamailio.out 2>&1 &
PROXY_PID=$!
wait_bound "$PROXY_PORT" "$PROXY_PID" kamailio

# 3. the UAS, and wait until its socket is bound.
sipp -sf uas.xml -p "$UAS_PORT" -mp "$UAS_MEDIA_PORT" "${SIPP_COMMON[@]}" >uas.out 2>&1 &
UAS_PID=$!
wait_bound "$UAS_PORT" "$UAS_PID" "UAS sipp"

# 4. the UAC, talking to the proxy.
sipp -sf uac.xml -p "$UAC_PORT" -mp "$UAC_MEDIA_PORT" ${UAC_EXTRA[@]+"${UAC_EXTRA[@]}"} "${SIPP_COMMON[@]}" \
     "127.0.0.1:$PROXY_PORT" >uac.out 2>&1 &
UAC_PID=$!

# 5. wait for both SIPp, keep their exit codes.
uac_rc=0; wait "$UAC_PID" || uac_rc=$?; UAC_PID=""
uas_rc=0; wait "$UAS_PID" || uas_rc=$?; UAS_PID=""

# 6. stop the proxy, then tcpdump, by their PIDs.
sleep 0.5
kill -TERM "$PROXY_PID"; wait "$PROXY_PID" || true; PROXY_PID=""
kill -TERM "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=""

[ "$uac_rc" -eq 0 ] || fail "UAC sipp exited with $uac_rc"
[ "$uas_rc" -eq 0 ] || fail "UAS sipp exited with $uas_rc"
ls "$WORK"/*_errors.log >/dev/null 2>&1 && fail "sipp reported errors"
grep -E ' (ERROR|CRITICAL|ALERT|BUG):' kamailio.out >&2 && fail "kamailio logged errors"

n=$(tshark -r capture.pcap -Y sip 2>/dev/null | wc -l)
[ "$n" -eq "$EXPECTED_SIP" ] || fail "capture holds $n SIP messages, expected $EXPECTED_SIP"

# both hops: messages with one Via (caller <-> proxy) and with two (proxy <-> callee).
# Count Via branches, not Via header lines: the callee's responses carry both Vias
# in one comma-separated header line (that is how SIPp's [last_Via:] copies them).
v1=$(tshark -r capture.pcap -Y 'sip && count(sip.Via.branch) == 1' 2>/dev/null | wc -l)
v2=$(tshark -r capture.pcap -Y 'sip && count(sip.Via.branch) == 2' 2>/dev/null | wc -l)
[ "$v1" -eq "$EXPECTED_ONE_VIA" ] && [ "$v2" -eq "$EXPECTED_TWO_VIAS" ] ||
    fail "capture holds $v1 messages with 1 Via and $v2 with 2, expected $EXPECTED_ONE_VIA and $EXPECTED_TWO_VIAS"

# tcpdump drops root and leaves the file owned by user tcpdump: hand it to the folder's owner.
chown "$(stat -c %u:%g "$HERE")" capture.pcap
chmod 644 capture.pcap
mv capture.pcap "$HERE/capture.pcap"
echo "make-capture: wrote $HERE/capture.pcap ($n SIP messages)"
