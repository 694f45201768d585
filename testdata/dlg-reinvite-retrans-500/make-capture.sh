#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5208, callee (bob) on 5209; the media ports go into SDP (no RTP is sent).
UAC_PORT=5208 UAS_PORT=5209 UAC_MEDIA_PORT=16208 UAS_MEDIA_PORT=16209
EXPECTED_SIP=12                         # SIP messages the capture must hold
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])
# -nr: no SIPp retransmission handling (no timer retransmits, no automatic answer to a
# repeated request): the retransmitted re-INVITE and both answers are written in the XML.
SIPP_COMMON+=(-nr)

# The steps of sipp_capture, except that bob's SIPp must log exactly one event: the
# "500 Invalid CSeq" that alice sends to the retransmission is not in bob's scenario (its
# INVITE transaction already has its 200), so SIPp reports it as unexpected and goes on.
capture_setup "${1:-$HERE}"
check_ports_free "$UAC_PORT" "$UAS_PORT"
start_tcpdump "$UAC_PORT" "$UAS_PORT"
run_sipp
stop_capture
[ "$UAC_RC" -eq 0 ] || fail "UAC sipp exited with $UAC_RC"
[ "$UAS_RC" -eq 0 ] || fail "UAS sipp exited with $UAS_RC"
if ls uac_*_errors.log >/dev/null 2>&1; then fail "UAC sipp reported errors"; fi
ls uas_*_errors.log >/dev/null 2>&1 || fail "UAS sipp did not log the unexpected 500"
if [ "$(grep -c 'unexpected message' uas_*_errors.log)" -ne 1 ] ||
    ! grep -q "received 'SIP/2.0 500 Invalid CSeq" uas_*_errors.log; then
    fail "UAS sipp logged something else than the one unexpected 500: $(cat uas_*_errors.log)"
fi
check_sip_count "$EXPECTED_SIP"
save_capture
