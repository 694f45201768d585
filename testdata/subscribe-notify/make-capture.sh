#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# subscriber (alice) on 5120, notifier (bob) on 5121; no SDP here, but SIPp always binds a media port.
# (ports 5100-5199: Wireshark decodes udp/5072 as AYIYA and udp/5094 as HART-IP)
UAC_PORT=5120 UAS_PORT=5121 UAC_MEDIA_PORT=16120 UAS_MEDIA_PORT=16121
EXPECTED_SIP=12                         # SIP messages the capture must hold
UAC_EXTRA=(-s bob)                      # Request-URI user of the SUBSCRIBE ([service])
sipp_capture "$@"
