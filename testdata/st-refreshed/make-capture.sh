#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.  Takes about 96 s (real time).
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5274, callee (bob) on 5275; the media ports go into SDP (no RTP is sent).
UAC_PORT=5274 UAS_PORT=5275 UAC_MEDIA_PORT=16274 UAS_MEDIA_PORT=16275
EXPECTED_SIP=11                         # INVITE, 100, 200, ACK, re-INVITE, 200, ACK, UPDATE, 200, BYE, 200
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])
SIPP_COMMON=(-i 127.0.0.1 -m 1 -nd -nostdin -timeout 200s -trace_err)   # the call lasts 95 s
sipp_capture "$@"
