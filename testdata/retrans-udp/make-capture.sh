#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5100, callee (bob) on 5101; the media ports go into SDP (no RTP is sent).
# (ports 5100-5199: Wireshark decodes udp/5072 as AYIYA and udp/5094 as HART-IP)
UAC_PORT=5100 UAS_PORT=5101 UAC_MEDIA_PORT=16100 UAS_MEDIA_PORT=16101
EXPECTED_SIP=10                         # SIP messages the capture must hold
EXPECTED_DUPS=3                         # payloads seen twice: INVITE, 200 (INVITE), BYE retransmissions
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])

check_capture() {   # every retransmission must be a byte-identical copy of an earlier message
    local d
    d=$(tshark -r capture.pcap -Y sip -T fields -e udp.payload 2>/dev/null | sort | uniq -d | wc -l)
    [ "$d" -eq "$EXPECTED_DUPS" ] || fail "capture holds $d repeated SIP messages, expected $EXPECTED_DUPS"
}

sipp_capture "$@"
