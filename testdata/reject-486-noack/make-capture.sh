#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark. Takes about 35 s.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5290, callee (bob) on 5291; the media ports go into SDP (no RTP is sent).
UAC_PORT=5290 UAS_PORT=5291 UAC_MEDIA_PORT=16290 UAS_MEDIA_PORT=16291
EXPECTED_SIP=15                         # SIP messages the capture must hold
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])
SIPP_COMMON=(-i 127.0.0.1 -m 1 -nd -nostdin -timeout 60s -trace_err)

check_capture() {   # 11 copies of the 486, no ACK, the CANCEL >= 32.05 s after the first 486
    python3 - <<'PY' || fail "the capture does not show an un-ACKed 486 and a CANCEL 32 s later"
import subprocess
out = subprocess.run(["tshark", "-r", "capture.pcap", "-Y", "sip", "-T", "fields", "-e", "frame.time_relative",
                      "-e", "sip.Method", "-e", "sip.Status-Code"],
                     capture_output=True, text=True, check=True).stdout
rows = [l.split("\t") for l in out.splitlines()]
r486 = [float(r[0]) for r in rows if r[2] == "486"]
acks = [r for r in rows if r[1] == "ACK"]
cancel = [float(r[0]) for r in rows if r[1] == "CANCEL"]
raise SystemExit(0 if len(r486) == 11 and not acks and len(cancel) == 1 and cancel[0] - r486[0] >= 32.05 else 1)
PY
}

sipp_capture "$@"
