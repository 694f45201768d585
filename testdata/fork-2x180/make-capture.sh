#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5130, callee side (forking proxy + phones A and B) on 5131;
# the media ports go into SDP (no RTP is sent).
# (ports 5100-5199: Wireshark decodes udp/5072 as AYIYA and udp/5094 as HART-IP)
UAC_PORT=5130 UAS_PORT=5131 UAC_MEDIA_PORT=16130 UAS_MEDIA_PORT=16131
EXPECTED_SIP=8                          # SIP messages the capture must hold
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])

check_capture() {   # two 180s with two different To tags, the 200 with the second one, ACK and BYE to it
    local tags
    tags=$(tshark -r capture.pcap -Y sip -T fields -e sip.Method -e sip.Status-Code -e sip.to.tag 2>/dev/null | tr '\t' ' ' | tr '\n' '|')
    python3 -c '
import sys
rows = [r.split(" ") for r in sys.argv[1].split("|") if r]
t180 = [r[2] for r in rows if r[1] == "180"]
t200 = [r[2] for r in rows if r[1] == "200" and r[0] == ""]
tin = [r[2] for r in rows if r[0] in ("ACK", "BYE")]
ok = len(t180) == 2 and t180[0] != t180[1] and t200 and set(t200 + tin) == {t180[1]}
sys.exit(0 if ok else 1)' "$tags" || fail "To tags are not 180 A, 180 B, 200/ACK/BYE B: $tags"
}

sipp_capture "$@"
