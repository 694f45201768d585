#!/bin/bash
# Rebuild capture.pcap for this case from scratch: SIPp caller -> Kamailio (stateful
# proxy) -> SIPp callee, all on 127.0.0.1, recorded by tcpdump on lo (both hops); the
# caller CANCELs while the callee rings. The tcpdump and SIPp steps are those of
# ../tools/sipp-capture.sh.
# Needs root (tcpdump), sip-tester (sipp 3.6), tshark and kamailio (5.6, Debian 12 package).
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

UAC_PORT=27060          # caller  (alice)
PROXY_PORT=27062        # Kamailio (must match listen= and the alias in kamailio.cfg)
UAS_PORT=27064          # callee  (bob)  (must match CALLEE in kamailio.cfg)
UAC_MEDIA_PORT=28060 UAS_MEDIA_PORT=28064   # written into SDP (no RTP is sent)
EXPECTED_SIP=14         # SIP messages the capture must hold
EXPECTED_ONE_VIA=10     # caller <-> proxy: INVITE, 100 (proxy's), 180, CANCEL, 200 (CANCEL), 487, ACK;
                        # proxy <-> callee: the proxy's own CANCEL, its 200, the proxy's ACK of the 487
EXPECTED_TWO_VIAS=4     # proxy <-> callee: INVITE, 100 (callee's), 180, 487
UAC_EXTRA=(-s bob)      # Request-URI user of the INVITE ([service])
UAC_TARGET=127.0.0.1:$PROXY_PORT    # the UAC talks to the proxy
CASE_FILES+=(kamailio.cfg)

capture_setup "${1:-$HERE}"
command -v kamailio >/dev/null || fail "kamailio is not installed (apt-get install kamailio)"
check_ports_free "$UAC_PORT" "$PROXY_PORT" "$UAS_PORT"
kamailio -c -f kamailio.cfg >kamailio-check.out 2>&1 || fail "kamailio.cfg does not parse"

# 1. tcpdump first (all three ports: both hops).
start_tcpdump "$UAC_PORT" "$PROXY_PORT" "$UAS_PORT"

# 2. the proxy, in the foreground (-DD, logs on stderr: -E), runtime files in the temp dir.
kamailio -f kamailio.cfg -DD -E -Y "$WORK" -m 32 -M 4 >kamailio.out 2>&1 &
PROXY_PID=$!
wait_bound "$PROXY_PORT" "$PROXY_PID" kamailio

# 3. the UAS, then the UAC (talking to the proxy); then stop the proxy and tcpdump.
run_sipp
stop_capture
check_sipp
grep -E ' (ERROR|CRITICAL|ALERT|BUG):' kamailio.out >&2 && fail "kamailio logged errors"
check_sip_count "$EXPECTED_SIP"

# both hops: messages with one Via and with two. Count Via branches, not Via header lines:
# the callee's responses to the INVITE carry both Vias in one comma-separated header line.
v1=$(tshark -r capture.pcap -Y 'sip && count(sip.Via.branch) == 1' 2>/dev/null | wc -l)
v2=$(tshark -r capture.pcap -Y 'sip && count(sip.Via.branch) == 2' 2>/dev/null | wc -l)
if [ "$v1" -ne "$EXPECTED_ONE_VIA" ] || [ "$v2" -ne "$EXPECTED_TWO_VIAS" ]; then
    fail "capture holds $v1 messages with 1 Via and $v2 with 2, expected $EXPECTED_ONE_VIA and $EXPECTED_TWO_VIAS"
fi
# the point of the case: one CANCEL per hop, each with one Via, the proxy's on hop 2
c1=$(tshark -r capture.pcap -Y "sip.Method == \"CANCEL\" && udp.srcport == $UAC_PORT && count(sip.Via.branch) == 1" 2>/dev/null | wc -l)
c2=$(tshark -r capture.pcap -Y "sip.Method == \"CANCEL\" && udp.srcport == $PROXY_PORT && udp.dstport == $UAS_PORT && count(sip.Via.branch) == 1" 2>/dev/null | wc -l)
if [ "$c1" -ne 1 ] || [ "$c2" -ne 1 ]; then
    fail "expected one CANCEL with one Via on each hop, found $c1 (caller) and $c2 (proxy)"
fi
save_capture
