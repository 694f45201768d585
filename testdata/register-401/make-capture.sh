#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# client (alice) on 5085, registrar on 5086; no SDP here, but SIPp always binds a media port.
# (not 5072: Wireshark decodes udp/5072 as AYIYA, so tshark would not show SIP there)
UAC_PORT=5085 UAS_PORT=5086 UAC_MEDIA_PORT=16085 UAS_MEDIA_PORT=16086
EXPECTED_SIP=4                          # SIP messages the capture must hold
sipp_capture "$@"
