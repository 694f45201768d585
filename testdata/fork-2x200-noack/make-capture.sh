#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark. Takes about 36 s.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5280, callee side (forking proxy + phones A and B) on 5281;
# the media ports go into SDP (no RTP is sent).
UAC_PORT=5280 UAS_PORT=5281 UAC_MEDIA_PORT=16280 UAS_MEDIA_PORT=16281
EXPECTED_SIP=21                         # SIP messages the capture must hold
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])
SIPP_COMMON=(-i 127.0.0.1 -m 1 -nd -nostdin -timeout 60s -trace_err)

check_capture() {   # 11 copies of the 200 with tag B, the only ACK to tag A, BYE from B >= 32.05 s after its first 200
    python3 - <<'PY' || fail "the capture does not show an un-ACKed 200 (tag B) and phone B's BYE 32 s later"
import subprocess
out = subprocess.run(["tshark", "-r", "capture.pcap", "-Y", "sip", "-T", "fields", "-e", "frame.time_relative",
                      "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.from.tag", "-e", "sip.to.tag"],
                     capture_output=True, text=True, check=True).stdout
rows = [l.split("\t") for l in out.splitlines()]
b200 = [float(r[0]) for r in rows if r[2] == "200" and "SIPpTag0B" in r[4] and r[1] == ""]
acks = [r for r in rows if r[1] == "ACK"]
bye_b = [float(r[0]) for r in rows if r[1] == "BYE" and "SIPpTag0B" in r[3]]
ok = (len(b200) == 11 and len(acks) == 1 and "SIPpTag0A" in acks[0][4]
      and len(bye_b) == 1 and bye_b[0] - b200[0] >= 32.05)
raise SystemExit(0 if ok else 1)
PY
}

sipp_capture "$@"
