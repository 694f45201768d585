#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5276, callee (bob) on 5277; the media ports go into SDP (no RTP is sent).
UAC_PORT=5302 UAS_PORT=5303 UAC_MEDIA_PORT=16302 UAS_MEDIA_PORT=16303
EXPECTED_SIP=6                          # INVITE, 100, 200, ACK, then OPTIONS and its 200 at 60 s
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])
sipp_capture "$@"
