#!/bin/sh
# Load test: 2000 SIPp calls with -lost 5 (testdata/load-lost/make-capture.sh,
# real loss, real retransmissions), recorded once into build/load-lost/ and
# reused.  Checks: 2000 answered calls; one transaction per INVITE and per
# BYE (a retransmission is never a new transaction); every byte-identical
# repeat of a message is flagged as a retransmission (or a duplicate).
# Needs root, sipp, tcpdump, tshark and sqlite3; skipped with a message without them.
set -u
bin=${1:-build/siplint}
dir=build/load-lost
if [ ! -f "$dir/capture.pcap" ]; then
    for tool in sipp tcpdump tshark sqlite3; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "load: skipped ($tool not installed)"
            exit 0
        fi
    done
    if [ "$(id -u)" != 0 ]; then
        echo "load: skipped (recording needs root for tcpdump)"
        exit 0
    fi
    echo "load: recording 2000 calls with SIPp -lost 5 (about a minute)"
    mkdir -p "$dir"
    if ! bash testdata/load-lost/make-capture.sh "$(cd "$dir" && pwd)" >"$dir.log" 2>&1; then
        echo "FAIL: load: recording failed (see $dir.log)" >&2
        tail -5 "$dir.log" >&2
        exit 1
    fi
fi
command -v sqlite3 >/dev/null 2>&1 || { echo "load: skipped (sqlite3 not installed)"; exit 0; }
db=$(mktemp)
trap 'rm -f "$db"' EXIT
rm -f "$db"
if ! "$bin" ingest --quiet --db "$db" "$dir/capture.pcap"; then
    echo "FAIL: load: siplint ingest failed" >&2
    exit 1
fi
pass=0
fail=0
check() { # NAME SQL EXPECTED
    got=$(sqlite3 "$db" "$2")
    if [ "$got" = "$3" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: load $1: got '$got', want '$3'" >&2
    fi
}
check calls "SELECT count(*) FROM leg WHERE method = 'INVITE'" 2000
check answered "SELECT count(*) FROM leg WHERE method = 'INVITE' AND outcome = 'answered'" 2000
check invite-txns "SELECT count(*) FROM txn WHERE kind = 'INVITE'" 2000
check bye-txns "SELECT count(*) FROM txn WHERE method = 'BYE' AND kind = 'NONINVITE' AND cseq_num IS NOT NULL" \
    "$(sqlite3 "$db" "SELECT count(DISTINCT call_id) FROM message WHERE method = 'BYE'")"
check retrans-flagged "SELECT count(*) FROM message a JOIN message_raw ar USING (msg_id) WHERE a.is_retrans = 0 AND a.dup_of IS NULL AND EXISTS (SELECT 1 FROM message b JOIN message_raw br USING (msg_id) WHERE b.call_id = a.call_id AND br.raw = ar.raw AND b.msg_id < a.msg_id)" 0
check retrans-real "SELECT count(*) FROM message a JOIN message_raw ar USING (msg_id) WHERE a.is_retrans = 1 AND NOT EXISTS (SELECT 1 FROM message b JOIN message_raw br USING (msg_id) WHERE b.call_id = a.call_id AND br.raw = ar.raw AND b.msg_id < a.msg_id)" 0
check some-retrans "SELECT count(*) > 100 FROM message WHERE is_retrans = 1" 1
# the rules: a clean load (lost packets recovered by retransmission) has nothing at warning or error
"$bin" report --db "$db" --format ndjson --fail-on warning >"$db.findings" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
    pass=$((pass + 1))
else
    fail=$((fail + 1))
    echo "FAIL: load rules: siplint report exited $rc; findings at warning or error:" >&2
    grep -v '"severity":"info"' "$db.findings" | cut -c1-300 | head -10 >&2
fi
rm -f "$db.findings"
# the database never depends on the number of parse threads; and with stderr
# a file, no progress line is written to it (the capture is long enough for one)
rm -f "$db.t1"
"$bin" ingest --threads 1 --db "$db.t1" "$dir/capture.pcap" 2>"$db.err"
dump() {
    {
        for t in message message_raw txn dialog leg session_timer problem frame_stat capture; do
            sqlite3 "$1" "SELECT * FROM $t ORDER BY rowid"
        done
        # WITHOUT ROWID: in the order of its primary key
        sqlite3 "$1" "SELECT * FROM txn_response ORDER BY txn_id, status, to_tag, rseq"
    } 2>>"$db.dumperr" | sed "s|$1|DB|g" | md5sum
}
rm -f "$db.dumperr"
if [ "$(dump "$db")" = "$(dump "$db.t1")" ] && [ ! -s "$db.dumperr" ]; then
    pass=$((pass + 1))
elif [ -s "$db.dumperr" ]; then
    fail=$((fail + 1))
    echo "FAIL: load threads: cannot dump the database:" >&2
    head -3 "$db.dumperr" >&2
else
    fail=$((fail + 1))
    echo "FAIL: load threads: the database with --threads 1 differs from the default" >&2
fi
if grep -q "$(printf '\r')" "$db.err"; then
    fail=$((fail + 1))
    echo "FAIL: load: a progress line was written to a file" >&2
else
    pass=$((pass + 1))
fi
rm -f "$db.t1" "$db.err" "$db.dumperr"
echo "load: $pass passed, $fail failed ($(sqlite3 "$db" "SELECT count(*) FROM message") messages, $(sqlite3 "$db" "SELECT count(*) FROM message WHERE is_retrans = 1") retransmissions)"
[ "$fail" -eq 0 ]
