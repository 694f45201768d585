#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark. Takes about 66 s.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5286, callee side (forking proxy + phones A and B) on 5287;
# the media ports go into SDP (no RTP is sent).
UAC_PORT=5286 UAS_PORT=5287 UAC_MEDIA_PORT=16286 UAS_MEDIA_PORT=16287
EXPECTED_SIP=15                         # SIP messages the capture must hold
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])
SIPP_COMMON=(-i 127.0.0.1 -m 1 -nd -nostdin -timeout 90s -trace_err)

check_capture() {   # both 200s ACKed, no BYE from alice to B, phone B's BYE >= 62.05 s after its 200
    python3 - <<'PY' || fail "the capture does not show dialog B ACKed and left up for 62 s"
import subprocess
out = subprocess.run(["tshark", "-r", "capture.pcap", "-Y", "sip", "-T", "fields", "-e", "frame.time_relative",
                      "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.from.tag", "-e", "sip.to.tag"],
                     capture_output=True, text=True, check=True).stdout
rows = [l.split("\t") for l in out.splitlines()]
b200 = [float(r[0]) for r in rows if r[2] == "200" and r[1] == "" and "SIPpTag0B" in r[4]]
ack_b = [r for r in rows if r[1] == "ACK" and "SIPpTag0B" in r[4]]
bye_to_b = [r for r in rows if r[1] == "BYE" and "SIPpTag0B" in r[4]]
bye_from_b = [float(r[0]) for r in rows if r[1] == "BYE" and "SIPpTag0B" in r[3]]
ok = (len(b200) >= 1 and len(ack_b) == 1 and not bye_to_b and len(bye_from_b) == 1
      and bye_from_b[0] - b200[0] >= 62.05)
raise SystemExit(0 if ok else 1)
PY
}

sipp_capture "$@"
