#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark. Takes about 35 s.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5284, callee (bob) on 5285; the media ports go into SDP (no RTP is sent).
UAC_PORT=5284 UAS_PORT=5285 UAC_MEDIA_PORT=16284 UAS_MEDIA_PORT=16285
EXPECTED_SIP=16                         # SIP messages the capture must hold
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])
SIPP_COMMON=(-i 127.0.0.1 -m 1 -nd -nostdin -timeout 60s -trace_err)

check_capture() {   # 11 copies of the 200, no ACK, bob's BYE >= 32.05 s after the first 200
    python3 - <<'PY' || fail "the capture does not show an un-ACKed 200 and bob's BYE 32 s later"
import subprocess
out = subprocess.run(["tshark", "-r", "capture.pcap", "-Y", "sip", "-T", "fields", "-e", "frame.time_relative",
                      "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.CSeq.method"],
                     capture_output=True, text=True, check=True).stdout
rows = [l.split("\t") for l in out.splitlines()]
ok200 = [float(r[0]) for r in rows if r[2] == "200" and r[3] == "INVITE"]
acks = [r for r in rows if r[1] == "ACK"]
bye = [float(r[0]) for r in rows if r[1] == "BYE"]
raise SystemExit(0 if len(ok200) == 11 and not acks and len(bye) == 1 and bye[0] - ok200[0] >= 32.05 else 1)
PY
}

sipp_capture "$@"
