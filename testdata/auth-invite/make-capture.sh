#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5110, callee (bob) on 5111; the media ports go into SDP (no RTP is sent).
# (ports 5100-5199: Wireshark decodes udp/5072 as AYIYA and udp/5094 as HART-IP)
UAC_PORT=5110 UAS_PORT=5111 UAC_MEDIA_PORT=16110 UAS_MEDIA_PORT=16111
EXPECTED_SIP=10                         # SIP messages the capture must hold
UAC_EXTRA=(-s bob -auth_uri "bob@127.0.0.1:5111")   # Request-URI user ([service]); digest uri = Request-URI (SIPp default: sip:remote_ip:port)

# the second INVITE's Proxy-Authorization must be a correct digest (user alice, password
# secret) for the 407's challenge, with uri = the Request-URI.
check_capture() {
    tshark -r capture.pcap -Y 'sip.Method == "INVITE" && sip.CSeq.seq == 2' -T fields \
           -e sip.r-uri -e sip.Proxy-Authorization 2>/dev/null | python3 -c '
import sys, re, hashlib
ruri, hdr = sys.stdin.readline().rstrip("\n").split("\t")
p = {k: v.strip("\"") for k, v in re.findall(r"(\w+)=(\"[^\"]*\"|[^,\s]+)", hdr)}
md5 = lambda s: hashlib.md5(s.encode()).hexdigest()
ha1 = md5("alice:%s:secret" % p["realm"]); ha2 = md5("INVITE:%s" % p["uri"])
ok = p["uri"] == ruri and p["response"] == md5(":".join([ha1, p["nonce"], p["nc"], p["cnonce"], p["qop"], ha2]))
sys.exit(0 if ok else 1)' || fail "the second INVITE carries no valid Proxy-Authorization digest"
}

sipp_capture "$@"
