#!/bin/bash
# A load capture with real loss: 2000 calls between SIPp's built-in "uac" and "uas"
# scenarios on 127.0.0.1, both run with -lost 5 (each SIPp drops 5 % of the messages
# it sends or receives, at random), recorded by tcpdump on lo.  The capture is large
# and different on every run, so it is NOT committed: this script writes it.
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark (for the counts).
# Usage: ./make-capture.sh [OUTDIR]     (default OUTDIR: <repo>/build/load-lost)
#        writes OUTDIR/capture.pcap and OUTDIR/summary.txt, only on success
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

UAC_PORT=5170           # caller side, SIPp built-in "uac"
UAS_PORT=5171           # callee side, SIPp built-in "uas"
# (ports 5100-5199: Wireshark decodes udp/5072 as AYIYA and udp/5094 as HART-IP)
UAC_MEDIA_PORT=16170 UAS_MEDIA_PORT=16171   # written into SDP (no RTP is sent)
CALLS=2000              # calls to place (-m on both sides)
RATE=200                # calls per second (-r)
HOLD_MS=4000            # -d: the built-in uac pauses this long between ACK and BYE.  SIPp answers a
                        # retransmitted 200 with the ACK it sent after it, but only while it is in
                        # this pause; 4 s covers the callee's 200 retransmissions at 0.5, 1.5 and
                        # 3.5 s (T1 = 500 ms), so a lost ACK is re-sent up to three times and every
                        # call is clean on the wire (with 1 s, two lost ACKs in a row left the
                        # callee retransmitting its 200 for 32 s: a real missing ACK, SIP-ACK-001).
                        # The built-in uas stays 4 s after its last 200 (<timewait>) to answer a
                        # retransmitted BYE whose 200 was lost
LOST=5                  # -lost: % of messages each SIPp drops
SIPP_COMMON=(-i 127.0.0.1 -m "$CALLS" -nd -nostdin -timeout 180s -trace_err -lost "$LOST")
UAS_SCENARIO=(-sn uas) UAC_SCENARIO=(-sn uac)   # SIPp's built-in scenarios: no files to copy
CASE_FILES=()
UAC_EXTRA=(-s bob -r "$RATE" -d "$HOLD_MS")     # Request-URI user, call rate, hold time
# -B: a larger kernel buffer (KiB), at 200 calls/s the default one could overflow.
TCPDUMP_EXTRA=(-B 16384)

# last value of a counter on SIPp's final statistics screen, e.g. "Successful call"
sipp_stat() {    # $1 = file, $2 = counter name
    grep -E "^  $2 +\|" "$1" | tail -n 1 | awk -F'|' '{gsub(/ /, "", $3); print $3}'
}

# the per-message table (Messages / Retrans / Timeout / Unexp. / Lost) of SIPp's final screen
sipp_table() {  # $1 = file
    awk '/Messages +Retrans/ {t = ""; on = 1} on {t = t $0 "\n"} /Test Terminated/ {on = 0} END {printf "%s", t}' "$1" |
        grep -v -e 'Test Terminated' -e '^ *$'
}

capture_setup "${1:-$(cd "$HERE/../.." && pwd)/build/load-lost}"
check_ports_free "$UAC_PORT" "$UAS_PORT"

START=$(date +%s.%N)
start_tcpdump "$UAC_PORT" "$UAS_PORT"
run_sipp
stop_capture
END=$(date +%s.%N)

# SIPp exits 0 when every call succeeded and 1 when some failed: with -lost both are
# results worth recording. Anything else (a fatal error, a signal) is a failure.
# The *_errors.log files are expected here (dead-call and unexpected-message notes).
[ "$UAC_RC" -le 1 ] || fail "UAC sipp exited with $UAC_RC"
[ "$UAS_RC" -le 1 ] || fail "UAS sipp exited with $UAS_RC"
grep -qE '^0 packets dropped by kernel' tcpdump.log || fail "tcpdump dropped packets: $(grep dropped tcpdump.log)"

uac_ok=$(sipp_stat uac.out "Successful call"); uac_failed=$(sipp_stat uac.out "Failed call")
uas_ok=$(sipp_stat uas.out "Successful call"); uas_failed=$(sipp_stat uas.out "Failed call")
[ "$uac_ok" -ge 1 ] || fail "no successful call"
SIP_COUNT=$(sip_count)
# retransmissions: payloads seen more than once (extra copies)
copies=$(tshark -r capture.pcap -Y sip -T fields -e udp.payload 2>/dev/null | sort | uniq -c | awk '$1 > 1 {s += $1 - 1} END {print s + 0}')
calls=$(tshark -r capture.pcap -Y sip -T fields -e sip.Call-ID 2>/dev/null | sort -u | wc -l)
answered=$(tshark -r capture.pcap -Y 'sip.Status-Code == 200 && sip.CSeq.method == "INVITE"' -T fields -e sip.Call-ID 2>/dev/null | sort -u | wc -l)

summary=$(cat <<SUMMARY
load-lost: $CALLS calls, $RATE calls/s, hold ${HOLD_MS} ms, -lost $LOST on both SIPp
SIP messages in the capture (tshark): $SIP_COUNT ($(capinfos -c -M capture.pcap 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}') packets)
repeated payloads (retransmission copies): $copies
Call-IDs: $calls, answered (a 200 to the INVITE seen): $answered
UAC sipp: exit $UAC_RC, successful $uac_ok, failed $uac_failed
UAS sipp: exit $UAS_RC, successful $uas_ok, failed $uas_failed
time (tcpdump start to stop): $(awk -v a="$START" -v b="$END" 'BEGIN {printf "%.1f s", b - a}')

UAC sipp, final scenario screen:
$(sipp_table uac.out)

UAS sipp, final scenario screen:
$(sipp_table uas.out)
SUMMARY
)

save_capture
echo "$summary" > "$OUTDIR/summary.txt"
echo "$summary"
echo "make-capture: wrote $OUTDIR/summary.txt"
