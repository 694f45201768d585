#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh).
# Two complete calls with the same (fixed) Call-ID, GAP seconds apart: each call is
# played by a fresh UAS and a fresh UAC SIPp process, so tags and branches differ.
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5150, callee (bob) on 5151; the media ports go into SDP (no RTP is sent).
# (ports 5100-5199: Wireshark decodes udp/5072 as AYIYA and udp/5094 as HART-IP)
UAC_PORT=5150 UAS_PORT=5151 UAC_MEDIA_PORT=16150 UAS_MEDIA_PORT=16151
EXPECTED_SIP=14         # SIP messages the capture must hold (7 per call)
GAP=3                   # seconds between the end of call 1 and the start of call 2
CALL_ID_FORMAT='callid-reuse-5f3c2a9e@%s'   # SIPp -cid_str (%s = local IP): no %u / %p, so both calls get one Call-ID
UAC_EXTRA=(-s bob -cid_str "$CALL_ID_FORMAT")   # Request-URI user of the INVITE ([service]); fixed Call-ID

capture_setup "${1:-$HERE}"
check_ports_free "$UAC_PORT" "$UAS_PORT"
start_tcpdump "$UAC_PORT" "$UAS_PORT"

# call 1, a pause, call 2: each a fresh UAS and a fresh UAC, both must exit 0 without errors.
run_sipp 1
check_sipp 1
wait_released "$UAC_PORT" "$UAS_PORT"   # both sockets free before the next call binds them again
sleep "$GAP"
run_sipp 2
check_sipp 2

stop_capture
check_sip_count "$EXPECTED_SIP"
# one Call-ID, two From tags
c=$(tshark -r capture.pcap -Y sip -T fields -e sip.Call-ID 2>/dev/null | sort -u | wc -l)
t=$(tshark -r capture.pcap -Y sip -T fields -e sip.from.tag 2>/dev/null | sort -u | wc -l)
if [ "$c" -ne 1 ] || [ "$t" -ne 2 ]; then fail "capture holds $c Call-IDs and $t From tags, expected 1 and 2"; fi
save_capture
