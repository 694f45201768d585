#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5266, callee (bob) on 5267; the media ports go into SDP (no RTP is sent).
UAC_PORT=5266 UAS_PORT=5267 UAC_MEDIA_PORT=16266 UAS_MEDIA_PORT=16267
EXPECTED_SIP=9                          # INVITE, 100, 200, ACK, re-INVITE, 200, ACK, BYE, 200
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])
sipp_capture "$@"
