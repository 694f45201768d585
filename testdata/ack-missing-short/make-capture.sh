#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark. Takes about 10 s.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5292, callee (bob) on 5293; the media ports go into SDP (no RTP is sent).
UAC_PORT=5292 UAS_PORT=5293 UAC_MEDIA_PORT=16292 UAS_MEDIA_PORT=16293
EXPECTED_SIP=8                          # SIP messages the capture must hold
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])

check_capture() {   # 5 copies of the 200, no ACK, and the capture ends well before 64*T1 after the 200
    python3 - <<'PY' || fail "the capture does not show an un-ACKed 200 and an early end"
import subprocess
out = subprocess.run(["tshark", "-r", "capture.pcap", "-T", "fields", "-e", "frame.time_relative",
                      "-e", "sip.Method", "-e", "sip.Status-Code"],
                     capture_output=True, text=True, check=True).stdout
rows = [l.split("\t") for l in out.splitlines()]
ok200 = [float(r[0]) for r in rows if r[2] == "200"]
acks = [r for r in rows if r[1] == "ACK"]
raise SystemExit(0 if len(ok200) == 5 and not acks and float(rows[-1][0]) - ok200[0] < 20 else 1)
PY
}

sipp_capture "$@"
