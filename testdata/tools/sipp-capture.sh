# shellcheck shell=bash
# Shared code of testdata/*/make-capture.sh: record a SIPp call on 127.0.0.1 with tcpdump on lo.
# Sourced (not run) by a case's make-capture.sh, which sets its parameters after sourcing:
#
#   UAC_PORT, UAS_PORT            SIP ports of the caller and the callee (required)
#   UAC_MEDIA_PORT, UAS_MEDIA_PORT  -mp: written into SDP (no RTP is sent); SIPp always binds one,
#                                 so keep it off the default 6000 (required)
#   EXPECTED_SIP                  SIP messages the capture must hold (required by sipp_capture)
#   UAC_EXTRA=()                  extra options of the UAC SIPp (e.g. -s bob)
#   UAC_TARGET                    where the UAC sends (default 127.0.0.1:$UAS_PORT)
#   UAS_SCENARIO, UAC_SCENARIO    default (-sf uas.xml), (-sf uac.xml)
#   SIPP_COMMON                   options of both SIPp (default below)
#   CASE_FILES                    files copied from the case folder into the temp dir (default uac.xml uas.xml)
#   TCPDUMP_EXTRA=()              extra tcpdump options (e.g. -B 16384)
#   TRANSPORT                     udp (default) or tcp: the tcpdump filter and the bound-port checks
#                                 (a TCP case also passes -t t1 through SIPP_COMMON)
#   check_capture()               optional: a case-specific check of ./capture.pcap, run by sipp_capture
#
# and then calls `sipp_capture "$@"`, which does, in a fresh temp dir (SIPp writes its logs in the cwd):
#
#   tcpdump -i lo -U --immediate-mode -w capture.pcap '$TRANSPORT port $UAC_PORT or $TRANSPORT port $UAS_PORT'  # waits for "listening"
#   sipp -sf uas.xml -p $UAS_PORT -mp $UAS_MEDIA_PORT $SIPP_COMMON     # in the background; waits until bound
#   sipp -sf uac.xml -p $UAC_PORT -mp $UAC_MEDIA_PORT $UAC_EXTRA $SIPP_COMMON 127.0.0.1:$UAS_PORT
#
# then waits for both SIPp, stops tcpdump by its PID, fails unless both SIPp exited 0, no *_errors.log
# was written, the capture holds exactly $EXPECTED_SIP SIP messages (tshark) and check_capture (if any)
# passes, and only then moves capture.pcap to OUTDIR ($1 of the case script, default: the case folder).
# Cases that do more (a proxy, two calls, load) call the steps themselves, in this order:
#   capture_setup OUTDIR; check_ports_free PORT...; start_tcpdump PORT...; run_sipp [N];
#   stop_capture; check_sipp [N]; check_sip_count COUNT; save_capture
# (plus wait_bound PORT PID NAME, wait_released PORT..., sip_count and fail MESSAGE).

HERE=$(cd "$(dirname "$0")" && pwd)     # the case folder (of the script that sourced this file)
SIPP_COMMON=(-i 127.0.0.1 -m 1 -nd -nostdin -timeout 30s -trace_err)
UAS_SCENARIO=(-sf uas.xml)
UAC_SCENARIO=(-sf uac.xml)
UAC_EXTRA=()
TCPDUMP_EXTRA=()
CASE_FILES=(uac.xml uas.xml)
TRANSPORT=udp
OUTDIR="" WORK="" TCPDUMP_PID="" PROXY_PID="" UAS_PID="" UAC_PID="" UAC_RC=0 UAS_RC=0 SIP_COUNT=""

# the whole standard recording: one UAS, one UAC, no proxy.  $1 = OUTDIR (default: the case folder)
sipp_capture() {
    capture_setup "${1:-$HERE}"
    check_ports_free "$UAC_PORT" "$UAS_PORT"
    start_tcpdump "$UAC_PORT" "$UAS_PORT"
    # shellcheck disable=SC2119  # one call: no call number
    run_sipp
    stop_capture
    # shellcheck disable=SC2119
    check_sipp
    check_sip_count "$EXPECTED_SIP"
    if declare -F check_capture >/dev/null; then check_capture; fi
    save_capture
}

cleanup() {
    for pid in $UAC_PID $UAS_PID $PROXY_PID $TCPDUMP_PID; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $UAC_PID $UAS_PID $PROXY_PID $TCPDUMP_PID; do
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
}

fail() {
    echo "make-capture: $*" >&2
    [ -n "$WORK" ] || exit 1
    for f in "$WORK"/*.log "$WORK"/*.out; do
        [ -s "$f" ] && { echo "---- $(basename "$f")" >&2; tail -n 40 "$f" >&2; }
    done
    exit 1
}

# $1 = OUTDIR (created if missing, made absolute); makes the temp dir, sets the cleanup trap,
# copies CASE_FILES into the temp dir and changes into it.
capture_setup() {
    mkdir -p "$1"
    OUTDIR=$(cd "$1" && pwd)
    WORK=$(mktemp -d /tmp/siplint-capture.XXXXXX)
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    if [ "${#CASE_FILES[@]}" -gt 0 ]; then cp "${CASE_FILES[@]/#/$HERE/}" "$WORK/"; fi
    cd "$WORK" || exit
}

port_bound() {  # $1 = UDP (TCP: listening) port
    if [ "$TRANSPORT" = tcp ]; then
        [ -n "$(ss -Hltn "sport = :$1")" ]
    else
        [ -n "$(ss -Hluan "sport = :$1")" ]
    fi
}

check_ports_free() {    # UDP ports...
    local p
    for p in "$@"; do
        if port_bound "$p"; then fail "$TRANSPORT port $p already in use"; fi
    done
}

wait_bound() {  # $1 = UDP port, $2 = PID of the process that binds it, $3 = its name
    for _ in $(seq 100); do
        port_bound "$1" && return 0
        kill -0 "$2" 2>/dev/null || fail "$3 died"
        sleep 0.05
    done
    fail "$3 did not bind $TRANSPORT port $1"
}

wait_released() {   # UDP ports...: wait (up to 5 s) until none of them is bound any more
    local p busy
    for _ in $(seq 100); do
        busy=""
        for p in "$@"; do
            if port_bound "$p"; then busy=1; fi
        done
        [ -z "$busy" ] && return 0
        sleep 0.05
    done
}

# tcpdump on lo for the given $TRANSPORT ports, into ./capture.pcap, and wait until it is really listening.
# --immediate-mode: without it libpcap (TPACKET_V3) hands packets over in blocks
# up to 1 s late, and the last messages are lost when tcpdump is stopped.
start_tcpdump() {   # ports...
    local filter="$TRANSPORT port $1" p
    shift
    for p in "$@"; do filter="$filter or $TRANSPORT port $p"; done
    tcpdump -i lo -U --immediate-mode ${TCPDUMP_EXTRA[@]+"${TCPDUMP_EXTRA[@]}"} -w capture.pcap "$filter" 2>tcpdump.log &
    TCPDUMP_PID=$!
    for _ in $(seq 100); do
        grep -q listening tcpdump.log 2>/dev/null && break
        kill -0 "$TCPDUMP_PID" 2>/dev/null || fail "tcpdump died"
        sleep 0.05
    done
    grep -q listening tcpdump.log || fail "tcpdump did not start listening"
}

# one call: the UAS (wait until its socket is bound), then the UAC; wait for both, exit codes in
# UAS_RC and UAC_RC.  [$1 = call number: output files uas<N>.out / uac<N>.out, "(call N)" in messages]
# shellcheck disable=SC2120  # the call number is optional
run_sipp() {
    local n=${1:-} what=${1:+ (call $1)}
    sipp "${UAS_SCENARIO[@]}" -p "$UAS_PORT" -mp "$UAS_MEDIA_PORT" "${SIPP_COMMON[@]}" >"uas$n.out" 2>&1 &
    UAS_PID=$!
    wait_bound "$UAS_PORT" "$UAS_PID" "UAS sipp$what"
    sipp "${UAC_SCENARIO[@]}" -p "$UAC_PORT" -mp "$UAC_MEDIA_PORT" ${UAC_EXTRA[@]+"${UAC_EXTRA[@]}"} "${SIPP_COMMON[@]}" \
         "${UAC_TARGET:-127.0.0.1:$UAS_PORT}" >"uac$n.out" 2>&1 &
    UAC_PID=$!
    UAC_RC=0; wait "$UAC_PID" || UAC_RC=$?; UAC_PID=""
    UAS_RC=0; wait "$UAS_PID" || UAS_RC=$?; UAS_PID=""
}

# fail unless both SIPp of the last run_sipp exited 0 and none wrote an *_errors.log.  [$1 = call number]
# shellcheck disable=SC2120  # the call number is optional
check_sipp() {
    local what=${1:+ (call $1)}
    [ "$UAC_RC" -eq 0 ] || fail "UAC sipp$what exited with $UAC_RC"
    [ "$UAS_RC" -eq 0 ] || fail "UAS sipp$what exited with $UAS_RC"
    if ls "$WORK"/*_errors.log >/dev/null 2>&1; then fail "sipp reported errors$what"; fi
}

# give the last packets 0.5 s, then stop the proxy (if PROXY_PID is set) and tcpdump by their PIDs
# (TERM: background jobs of a script ignore SIGINT).
stop_capture() {
    sleep 0.5
    if [ -n "$PROXY_PID" ]; then kill -TERM "$PROXY_PID"; wait "$PROXY_PID" || true; PROXY_PID=""; fi
    kill -TERM "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=""
}

sip_count() {   # SIP messages in ./capture.pcap, as tshark decodes them
    tshark -r capture.pcap -Y sip 2>/dev/null | wc -l
}

check_sip_count() {     # $1 = expected number of SIP messages; sets SIP_COUNT
    SIP_COUNT=$(sip_count)
    [ "$SIP_COUNT" -eq "$1" ] || fail "capture holds $SIP_COUNT SIP messages, expected $1"
}

# move ./capture.pcap to OUTDIR.  tcpdump drops root and leaves the file owned by user tcpdump:
# hand it to OUTDIR's owner.
save_capture() {
    chown "$(stat -c %u:%g "$OUTDIR")" capture.pcap
    chmod 644 capture.pcap
    mv capture.pcap "$OUTDIR/capture.pcap"
    echo "make-capture: wrote $OUTDIR/capture.pcap${SIP_COUNT:+ ($SIP_COUNT SIP messages)}"
}
