#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5282, callee side (forking proxy + phones A and B) on 5283;
# the media ports go into SDP (no RTP is sent).
UAC_PORT=5282 UAS_PORT=5283 UAC_MEDIA_PORT=16282 UAS_MEDIA_PORT=16283
EXPECTED_SIP=12                         # SIP messages the capture must hold
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])

check_capture() {   # 200 A, 200 B (different tags), one ACK to each, BYE to B then BYE to A
    python3 - <<'PY' || fail "the capture does not show two 200s, both ACKed, BYE B then BYE A"
import subprocess
out = subprocess.run(["tshark", "-r", "capture.pcap", "-Y", "sip", "-T", "fields",
                      "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.CSeq.method", "-e", "sip.to.tag"],
                     capture_output=True, text=True, check=True).stdout
rows = [l.split("\t") for l in out.splitlines()]
tag = lambda r: "A" if "SIPpTag0A" in r[3] else "B" if "SIPpTag0B" in r[3] else "-"
seq = [(r[0] or r[1]) + tag(r) for r in rows if r[0] in ("ACK", "BYE") or (r[1] == "200" and r[2] == "INVITE")]
raise SystemExit(0 if seq == ["200A", "ACKA", "200B", "ACKB", "BYEB", "BYEA"] else 1)
PY
}

sipp_capture "$@"
