#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp over TCP on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# the basic call of ../basic-call over one TCP connection (-t t1): caller (alice) on 5300,
# callee (bob) on 5301; the media ports go into SDP (no RTP is sent).
TRANSPORT=tcp
UAC_PORT=5300 UAS_PORT=5301 UAC_MEDIA_PORT=16300 UAS_MEDIA_PORT=16301
SIPP_COMMON+=(-t t1)
EXPECTED_SIP=7                          # SIP messages the capture must hold
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])
sipp_capture "$@"
