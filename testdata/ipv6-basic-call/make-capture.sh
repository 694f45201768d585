#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp over IPv6 on ::1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# the basic call of ../basic-call over IPv6: caller (alice) on [::1]:25060, callee (bob) on
# [::1]:25061; the media ports go into SDP (no RTP is sent).  SIPp takes the local address as
# -i ::1 and the remote one with brackets ([::1]:port), and writes [local_ip] with brackets
# in SIP headers and without them in SDP ([media_ip]).
UAC_PORT=25060 UAS_PORT=25061 UAC_MEDIA_PORT=26000 UAS_MEDIA_PORT=26001
SIPP_COMMON=(-i ::1 -m 1 -nd -nostdin -timeout 30s -trace_err)
UAC_TARGET="[::1]:$UAS_PORT"
EXPECTED_SIP=7                          # SIP messages the capture must hold
UAC_EXTRA=(-s bob)                      # Request-URI user of the INVITE ([service])
check_capture() {                       # every message over IPv6 ::1
    local v4
    v4=$(tshark -r capture.pcap -Y 'sip && !ipv6' 2>/dev/null | wc -l)
    [ "$v4" -eq 0 ] || fail "$v4 SIP messages not over IPv6"
}
sipp_capture "$@"
