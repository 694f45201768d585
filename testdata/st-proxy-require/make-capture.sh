#!/bin/bash
# Rebuild capture.pcap for this case from scratch with SIPp on 127.0.0.1, recorded by
# tcpdump on lo (steps and commands: ../tools/sipp-capture.sh, sipp_capture).
# Four calls in one SIPp run per side: the UAC reads one line of calls.csv per call (the
# Proxy-Require value and the extra header rows of that call's INVITE), one call every 2 s.
# Needs root (tcpdump), sip-tester (sipp 3.6) and tshark.
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

# caller (alice) on 5870, callee (bob) on 5871; the media ports go into SDP (no RTP is sent).
UAC_PORT=5870 UAS_PORT=5871 UAC_MEDIA_PORT=16870 UAS_MEDIA_PORT=16871
EXPECTED_SIP=20                         # 4 calls x (INVITE, 200, ACK, BYE, 200)
SIPP_COMMON=(-i 127.0.0.1 -m 4 -nd -nostdin -timeout 30s -trace_err)
CASE_FILES=(uac.xml uas.xml calls.csv)
UAC_SCENARIO=(-sf uac.xml -inf calls.csv)   # SEQUENTIAL: call N reads line N
# Request-URI user bob ([service]); one new call every 2 s (-r 1 -rp 2000), never two at once (-l 1)
UAC_EXTRA=(-s bob -r 1 -rp 2000 -l 1)

# the INVITEs' Proxy-Require and Supported as tshark reads them (rows of one header joined by ","),
# in call order: the four cases of calls.csv must be on the wire exactly so.
check_capture() {
    local got want
    got=$(tshark -r capture.pcap -Y 'sip.Method == "INVITE"' -T fields -E separator='|' \
                 -e sip.Proxy-Require -e sip.Supported 2>/dev/null)
    want=$(printf '%s\n' 'timer|' 'foo,Bar, TIMER|' 'timers|' 'timer|timer')
    [ "$got" = "$want" ] || fail "INVITE Proxy-Require|Supported:
$got
expected:
$want"
}

sipp_capture "$@"
