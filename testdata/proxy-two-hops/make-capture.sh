#!/bin/bash
# Rebuild capture.pcap for this case from scratch: SIPp caller -> Kamailio (stateful
# proxy) -> SIPp callee, all on 127.0.0.1, recorded by tcpdump on lo (both hops);
# the tcpdump and SIPp steps are those of ../tools/sipp-capture.sh.
# Needs root (tcpdump), sip-tester (sipp 3.6), tshark and kamailio (5.6, Debian 12 package).
# Usage: ./make-capture.sh [OUTDIR]   (writes OUTDIR/capture.pcap only on success; default: this folder)
set -eu
# shellcheck source-path=SCRIPTDIR source=../tools/sipp-capture.sh
. "$(dirname "$0")/../tools/sipp-capture.sh"

UAC_PORT=5160           # caller  (alice)
PROXY_PORT=5162         # Kamailio (must match listen= and the alias in kamailio.cfg)
UAS_PORT=5164           # callee  (bob)  (must match CALLEE in kamailio.cfg)
# (ports 5100-5199: Wireshark decodes udp/5072 as AYIYA and udp/5094 as HART-IP)
UAC_MEDIA_PORT=16160 UAS_MEDIA_PORT=16164   # written into SDP (no RTP is sent)
EXPECTED_SIP=14         # SIP messages the capture must hold
EXPECTED_ONE_VIA=7      # caller <-> proxy: INVITE, 100 (proxy's), 180, 200, ACK, BYE, 200
EXPECTED_TWO_VIAS=7     # proxy <-> callee: INVITE, 100 (callee's), 180, 200, ACK, BYE, 200
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

# both hops: messages with one Via (caller <-> proxy) and with two (proxy <-> callee).
# Count Via branches, not Via header lines: the callee's responses carry both Vias
# in one comma-separated header line (that is how SIPp's [last_Via:] copies them).
v1=$(tshark -r capture.pcap -Y 'sip && count(sip.Via.branch) == 1' 2>/dev/null | wc -l)
v2=$(tshark -r capture.pcap -Y 'sip && count(sip.Via.branch) == 2' 2>/dev/null | wc -l)
if [ "$v1" -ne "$EXPECTED_ONE_VIA" ] || [ "$v2" -ne "$EXPECTED_TWO_VIAS" ]; then
    fail "capture holds $v1 messages with 1 Via and $v2 with 2, expected $EXPECTED_ONE_VIA and $EXPECTED_TWO_VIAS"
fi
save_capture
