#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5288, callee (bob) on 5289; the media ports go into SDP (no RTP is sent).
UAC_PORT=5288 UAS_PORT=5289 UAC_MEDIA_PORT=16288 UAS_MEDIA_PORT=16289
EXPECTED_SIP=7                          # SIP messages the capture must hold
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])

check_capture() {   # the ACK (of the 200) carries the INVITE's branch; the BYE a branch of its own
    local b
    b=$(tshark -r capture.pcap -Y 'sip.Method' -T fields -e sip.Method -e sip.Via.branch 2>/dev/null | tr '\t\n' ' |')
    python3 -c '
import sys
rows = dict(r.split(" ")[:2] for r in sys.argv[1].split("|") if r)
sys.exit(0 if rows["ACK"] == rows["INVITE"] != rows["BYE"] else 1)' "$b" || fail "the ACK does not reuse the INVITE branch: $b"
}

sipp_capture "$@"
