#!/bin/sh
# Command-line contract: exit codes, messages on stderr, -o written whole.
set -u
bin=${1:-build/siplint}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
good=testdata/basic-call/capture.pcap

# expect NAME WANT_RC STDERR_SUBSTRING -- ARGS...
expect() {
    name=$1 want=$2 msg=$3
    shift 4
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail=$((fail + 1))
        echo "FAIL: cli $name: exit $rc, want $want" >&2
        sed 's/^/  stderr: /' "$tmp/err" | head -5 >&2
        return
    fi
    if [ -n "$msg" ] && ! grep -qF -- "$msg" "$tmp/err"; then
        fail=$((fail + 1))
        echo "FAIL: cli $name: stderr lacks '$msg'" >&2
        sed 's/^/  stderr: /' "$tmp/err" | head -5 >&2
        return
    fi
    pass=$((pass + 1))
}

expect version 0 "" -- --version
grep -q '^siplint [0-9]' "$tmp/out" || { fail=$((fail + 1)); echo "FAIL: cli version text" >&2; }
expect help 0 "" -- --help
grep -q '^usage: siplint' "$tmp/out" || { fail=$((fail + 1)); echo "FAIL: cli help text" >&2; }
expect no-command 2 "no command" --
expect bad-command 2 "unknown command 'frobnicate'" -- frobnicate x
expect bad-option 2 "unknown option '--bogus'" -- check --bogus "$good"
expect missing-value 2 "needs a value" -- check "$good" --format
expect bad-format 2 "unknown format 'xml'" -- check --format xml "$good"
expect bad-fail-on 2 "unknown --fail-on value" -- check --fail-on sometimes "$good"
expect no-input 2 "no capture given" -- check
expect ingest-no-db 2 "ingest needs --db" -- ingest "$good"
expect missing-file 3 "$tmp/nope.pcap: No such file or directory" -- check "$tmp/nope.pcap"
expect directory 3 "testdata: is a directory" -- check testdata
printf '' >"$tmp/empty.pcap"
expect empty-file 3 "$tmp/empty.pcap: " -- check "$tmp/empty.pcap"
expect random-bytes 3 "not a pcap or pcapng file" -- check testdata/bad-random/capture.bin
[ -s "$tmp/out" ] && { fail=$((fail + 1)); echo "FAIL: cli random-bytes wrote a report" >&2; }
expect one-bad-of-two 3 "nope.pcap" -- check "$good" "$tmp/nope.pcap"
# garbage file headers (testdata/bad-headers/README.md): exit 3, the reason, no report
while IFS='|' read -r file reason; do
    expect "bad-header $file" 3 "testdata/bad-headers/$file: not a pcap or pcapng file ($reason" -- check --format json "testdata/bad-headers/$file"
    [ -s "$tmp/out" ] && { fail=$((fail + 1)); echo "FAIL: cli bad-header $file wrote a report" >&2; }
done <<'LIST'
version-99.pcap|unsupported pcap savefile version 99.99)
version-1.pcap|archaic pcap savefile format)
short-header.pcap|truncated dump file; tried to read 24 file header bytes, only got 6)
magic-only.pcap|truncated dump file; tried to read 24 file header bytes, only got 0)
pcapng-bad-magic.pcapng|the Section Header Block's byte-order magic 0x04030201 is not 0x1A2B3C4D in either byte order)
pcapng-bad-shb-length.pcapng|the Section Header Block is invalid: its total length 30 is not a multiple of 4)
pcapng-no-idb.pcapng|the capture file has no Interface Description Blocks)
LIST

# -o: the file is written whole; nothing on stdout.
expect output-file 0 "" -- check --format json -o "$tmp/report.json" "$good"
if [ -s "$tmp/out" ] || ! grep -q '"schema": 1' "$tmp/report.json"; then
    fail=$((fail + 1)); echo "FAIL: cli -o FILE" >&2
fi
ls "$tmp"/report.json.tmp.* >/dev/null 2>&1 && { fail=$((fail + 1)); echo "FAIL: cli -o left a temp file" >&2; }
# -o into a directory that does not exist: exit 4, no partial file.
expect output-unwritable 4 "$tmp/no/such/dir/r.json" -- check -o "$tmp/no/such/dir/r.json" "$good"
# stdin
"$bin" check --format json - <"$good" >"$tmp/stdin.json" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 0 ] || ! grep -q '"path": "-"' "$tmp/stdin.json"; then
    fail=$((fail + 1)); echo "FAIL: cli stdin (exit $rc)" >&2
else
    pass=$((pass + 1))
fi
# ingest keeps a real SQLite database with the messages in it.
expect ingest 0 "" -- ingest --db "$tmp/x.db" "$good"
if command -v sqlite3 >/dev/null 2>&1; then
    n=$(sqlite3 "$tmp/x.db" 'PRAGMA user_version; SELECT count(*) FROM message;
        SELECT count(*) FROM message JOIN message_raw USING (msg_id);' | tr '\n' ' ')
    k=$(grep -o '"sip_messages": [0-9]*' testdata/basic-call/expected.json | head -1 | grep -o '[0-9]*$')
    want="3 $k $k "
    if [ "$n" != "$want" ]; then
        fail=$((fail + 1)); echo "FAIL: cli ingest db: got '$n', want '$want'" >&2
    else
        pass=$((pass + 1))
    fi
fi
[ -f "$tmp/x.db.tmp" ] && { fail=$((fail + 1)); echo "FAIL: cli ingest left x.db.tmp" >&2; }
# ndjson: one finding per line, each a JSON object.
expect ndjson 0 "" -- check --format ndjson testdata/truncated-mid-packet/capture.pcap
if [ "$(wc -l <"$tmp/out")" -lt 1 ] || grep -qv '^{.*}$' "$tmp/out"; then
    fail=$((fail + 1)); echo "FAIL: cli ndjson shape" >&2
fi
# a cut file: read, with a warning on stderr naming the file and the frame (not with -q)
expect cut-file-warning 0 "truncated-mid-packet/capture.pcap: warning: capture ends in the middle of frame 12 (" -- check --format json testdata/truncated-mid-packet/capture.pcap
expect cut-file-quiet 0 "" -- check -q --format json testdata/truncated-mid-packet/capture.pcap
[ -s "$tmp/err" ] && { fail=$((fail + 1)); echo "FAIL: cli -q printed a warning" >&2; }
expect whole-file-no-warning 0 "" -- check --format json "$good"
[ -s "$tmp/err" ] && { fail=$((fail + 1)); echo "FAIL: cli warned about a whole file" >&2; }
# --fail-on
expect fail-on-warning 1 "" -- check --fail-on warning testdata/truncated-mid-packet/capture.pcap
expect fail-on-never 0 "" -- check --fail-on never testdata/truncated-mid-packet/capture.pcap

# calls and flow, from captures and from a kept database
expect calls-db 0 "" -- calls --format json --db "$tmp/x.db"
grep -q '"outcome": "answered"' "$tmp/out" || { fail=$((fail + 1)); echo "FAIL: cli calls --db" >&2; }
expect flow-call-id 0 "" -- flow --call-id "$(grep -o '"call_id": "[^"]*"' "$tmp/out" | head -1 | cut -d'"' -f4)" "$good"
grep -q -- '--INVITE 1--' "$tmp/out" || { fail=$((fail + 1)); echo "FAIL: cli flow ladder" >&2; }
expect flow-unknown-call 2 "no SIP message with Call-ID 'nope'" -- flow --call-id nope "$good"
expect db-missing 3 "$tmp/none.db" -- calls --db "$tmp/none.db"
expect db-not-siplint 3 "not a siplint database" -- calls --db testdata/basic-call/README.md
expect bad-t1 2 "bad --t1" -- check --t1 0 "$good"

# --limit NAME=VALUE: a tiny cap is reached, and the SIP-CAP-006 finding names the cap and the
# option to raise it; the run goes on (exit 0 with --fail-on never)
# limit_hit NAME=VALUE CAPTURE TEXT: some SIP-CAP-006 message contains TEXT
limit_hit() {
    expect "limit $1" 0 "" -- check --fail-on never --format ndjson --limit "$1" "$2"
    if ! grep '"rule":"SIP-CAP-006"' "$tmp/out" | grep -qF -- "$3"; then
        fail=$((fail + 1)); echo "FAIL: cli limit $1: no SIP-CAP-006 with '$3'" >&2
    fi
}
limit_hit message-size=300 "$good" "over the message-size limit (300; --limit message-size)"
limit_hit header-rows=5 "$good" "header rows, over the header-rows limit (5; --limit header-rows)"
limit_hit tcp-stream-bytes=256 testdata/tcp-basic-call/capture.pcap "over the limit of 256 bytes per stream (--limit tcp-stream-bytes)"
limit_hit tcp-total-bytes=256 testdata/tcp-basic-call/capture.pcap "(the limit, --limit tcp-total-bytes)"
limit_hit tcp-streams=1 testdata/limits/two-streams.pcap "more than 1 TCP connections in flight (--limit tcp-streams)"
limit_hit ip-datagrams=1 testdata/limits/two-fragmented.pcap "more than 1 datagrams in reassembly (--limit ip-datagrams)"
limit_hit ip-fragments=1 testdata/udp-fragments/capture.pcap "has more than 1 fragments"
limit_hit transactions=1 "$good" "open transactions cap (1) reached (--limit transactions)"
limit_hit dialogs=1 testdata/fork-2x180/capture.pcap "open dialogs cap (1) reached (--limit dialogs)"
limit_hit calls=1 testdata/limits/two-calls.pcap "open calls cap (1) reached (--limit calls)"
# the same limits at their defaults: nothing reached
for c in "$good" testdata/tcp-basic-call/capture.pcap testdata/udp-fragments/capture.pcap testdata/limits/*.pcap; do
    "$bin" check --fail-on never --format ndjson "$c" >"$tmp/out" 2>&1
    grep -q '"rule":"SIP-CAP-006"' "$tmp/out" && { fail=$((fail + 1)); echo "FAIL: cli a default limit reached on $c" >&2; }
done
# the old option still works; the last of it and --limit message-size wins
expect max-message-size 0 "" -- check --fail-on never --format ndjson --max-message-size 300 "$good"
grep -q 'over the message-size limit (300;' "$tmp/out" || { fail=$((fail + 1)); echo "FAIL: cli --max-message-size" >&2; }
expect max-message-size-then-limit 0 "" -- check --fail-on never --format ndjson --max-message-size 300 --limit message-size=350 "$good"
grep -q 'over the message-size limit (350;' "$tmp/out" || { fail=$((fail + 1)); echo "FAIL: cli --limit after --max-message-size" >&2; }
# bad --limit: usage errors
expect limit-unknown 2 "unknown limit 'frames' (names: message-size, header-rows," -- check --limit frames=1 "$good"
expect limit-no-value 2 "bad --limit 'calls' (NAME=VALUE" -- check --limit calls "$good"
expect limit-zero 2 "bad --limit calls value '0' (1 to 100000000 calls)" -- check --limit calls=0 "$good"
expect limit-text 2 "bad --limit header-rows value 'many'" -- check --limit header-rows=many "$good"
expect limit-negative 2 "bad --limit ip-datagrams value '-1'" -- check --limit ip-datagrams=-1 "$good"
expect limit-too-big 2 "bad --limit ip-fragments value '9000' (1 to 8192 fragments)" -- check --limit ip-fragments=9000 "$good"
expect limit-suffix 2 "bad --limit header-rows value '5k'" -- check --limit header-rows=5k "$good"
expect limit-bytes-suffix 0 "" -- check --limit tcp-total-bytes=2M --limit message-size=64k "$good"
expect limit-empty-name 2 "unknown limit ''" -- check --limit =5 "$good"
# every limit in --help, with its default, and in the manual
"$bin" --help >"$tmp/help"
for name in message-size header-rows tcp-stream-bytes tcp-total-bytes tcp-streams ip-datagrams ip-fragments transactions dialogs calls; do
    grep -q "^  $name  *[0-9][0-9]*M\{0,1\} " "$tmp/help" || { fail=$((fail + 1)); echo "FAIL: cli --help lacks limit $name" >&2; }
    sed 's/\\-/-/g' docs/siplint.1 | grep -q "^\\\\fB$name\\\\fR (" || { fail=$((fail + 1)); echo "FAIL: docs/siplint.1 lacks limit $name" >&2; }
done
[ "$(grep -c '^  [a-z-]*  *[0-9][0-9]*M\{0,1\}  ' "$tmp/help")" -eq 10 ] || { fail=$((fail + 1)); echo "FAIL: cli --help: not 10 limits" >&2; }

# Output safety (testdata/hostile-text): any byte of the input becomes valid JSON, and text output never
# carries a raw control byte (C0 but LF, DEL, C1) or invalid UTF-8 to a terminal.
hostile=testdata/hostile-text/capture.pcap
# is_utf8 FILE: the whole file is valid UTF-8
is_utf8() { iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1; }
# unsafe FILE: FILE has a C0 control but HT and LF, DEL, a C1
# control (UTF-8 0xC2 0x80-0x9F) or invalid UTF-8
unsafe() {
    grep -qP '[\x00-\x08\x0b-\x1f\x7f]' "$1" || LC_ALL=C grep -q "$(printf '\302')[$(printf '\200-\237')]" "$1" || ! is_utf8 "$1"
}
# no_controls NAME FILE
no_controls() {
    if unsafe "$2"; then
        fail=$((fail + 1)); echo "FAIL: cli $1: a raw control byte or invalid UTF-8 in the output" >&2
    fi
}
for fmt in text json ndjson; do
    expect "hostile check $fmt" 1 "" -- check --format "$fmt" "$hostile"
    cp "$tmp/out" "$tmp/hostile.$fmt"
done
if command -v jq >/dev/null 2>&1; then
    jq -e '.findings | length > 0' "$tmp/hostile.json" >/dev/null || { fail=$((fail + 1)); echo "FAIL: cli hostile json: not valid JSON" >&2; }
    while IFS= read -r line; do
        printf '%s\n' "$line" | jq -e . >/dev/null 2>&1 || { fail=$((fail + 1)); echo "FAIL: cli hostile ndjson: a line is not JSON" >&2; break; }
    done <"$tmp/hostile.ndjson"
    # the escape sequences survive as JSON escapes, the invalid bytes as U+FFFD, and both are flagged
    jq -r '.findings[].call_id // empty' "$tmp/hostile.json" | grep -q "evil$(printf '\033')\[2J$(printf '\357\277\275\357\277\275')" ||
        { fail=$((fail + 1)); echo "FAIL: cli hostile json: the Call-ID is not ESC + U+FFFD U+FFFD" >&2; }
    [ "$(jq '[.findings[] | select(.rule == "SIP-HDR-012" and (.message | test("invalid UTF-8 in .*row 3 \\(From\\)")))] | length' "$tmp/hostile.json")" -ge 4 ] ||
        { fail=$((fail + 1)); echo "FAIL: cli hostile json: invalid UTF-8 in From not flagged" >&2; }
    [ "$(jq '[.findings[] | select(.rule == "SIP-HDR-012" and (.message | test("control bytes \\(the first 0x1b\\) in .*row 8 \\(User-Agent\\)")))] | length' "$tmp/hostile.json")" -ge 4 ] ||
        { fail=$((fail + 1)); echo "FAIL: cli hostile json: ESC in User-Agent not flagged" >&2; }
    expect "hostile calls json" 0 "" -- calls --all --format json "$hostile"
    jq -e '.calls | length == 3' "$tmp/out" >/dev/null || { fail=$((fail + 1)); echo "FAIL: cli hostile calls json" >&2; }
else
    echo "cli: jq not installed: JSON validity of the hostile outputs not checked" >&2
fi
is_utf8 "$tmp/hostile.json" || { fail=$((fail + 1)); echo "FAIL: cli hostile json: invalid UTF-8" >&2; }
no_controls "hostile check text" "$tmp/hostile.text"
grep -qF 'libosip2 refused header row 1: "Via: SIP/2.0/UDP \x1b[2J\x1b]0;pwned\x07' "$tmp/hostile.text" ||
    { fail=$((fail + 1)); echo "FAIL: cli hostile text: the refused row is not quoted as \\xNN" >&2; }
expect "hostile calls text" 0 "" -- calls --all --format text "$hostile"
no_controls "hostile calls text" "$tmp/out"
grep -qF 'evil\x1b[2J' "$tmp/out" || { fail=$((fail + 1)); echo "FAIL: cli hostile calls text: Call-ID not escaped" >&2; }
expect "hostile flow" 0 "" -- flow "$hostile"
no_controls "hostile flow" "$tmp/out"
grep -qF '486 Busy \x1b[2J' "$tmp/out" || { fail=$((fail + 1)); echo "FAIL: cli hostile flow: reason not escaped" >&2; }
# and the checker itself sees each kind
for bad in 'a\033[2Jb' 'bell\007' 'del\177' 'c1 \302\233' 'bad \377 utf8'; do
    printf "$bad\\n" >"$tmp/raw"
    unsafe "$tmp/raw" || { fail=$((fail + 1)); echo "FAIL: cli unsafe() misses '$bad'" >&2; }
done
printf 'ok \303\251 \\x1b \357\277\275\n' >"$tmp/raw"
unsafe "$tmp/raw" && { fail=$((fail + 1)); echo "FAIL: cli unsafe() flags safe text" >&2; }

# rules: the catalog, selection, a database read again, a user's rules directory
expect rules 0 "" -- rules --format text
grep -q '^SIP-HDR-011 ' "$tmp/out" || { fail=$((fail + 1)); echo "FAIL: cli rules list" >&2; }
expect rules-json 0 "" -- rules --format json --disable SIP-CAP
grep -q '"enabled": false' "$tmp/out" || { fail=$((fail + 1)); echo "FAIL: cli rules --disable" >&2; }
expect enable-unknown 2 "no rule matches 'SIP-NOPE'" -- check --enable SIP-NOPE "$good"
expect rules-dir-missing 2 "--rules-dir $tmp/none" -- check --rules-dir "$tmp/none" "$good"
expect report-needs-db 2 "report reads a database" -- report "$good"
expect ingest-db 0 "" -- ingest --db "$tmp/r.db" testdata/snaplen-cut/capture.pcap
expect report-db 0 "" -- report --format json --db "$tmp/r.db"
"$bin" check --format json testdata/snaplen-cut/capture.pcap >"$tmp/check.json" 2>/dev/null
# the same findings as check (only the input path may differ: it is stored as given)
if ! cmp -s "$tmp/out" "$tmp/check.json"; then
    fail=$((fail + 1)); echo "FAIL: cli report --db differs from check" >&2
fi
expect report-fail-on 1 "" -- report --fail-on warning --db "$tmp/r.db"
mkdir -p "$tmp/rules"
printf -- '-- id: SIP-USER-001\n-- severity: error\n-- title: t\n-- rfc: RFC 3261 §8\n-- impact: i\n-- message: m\nDELETE FROM message;\n' >"$tmp/rules/SIP-USER-001.sql"
expect user-rule-writes 2 "SIP-USER-001.sql: a rule may only read" -- check --rules-dir "$tmp/rules" "$good"

# --threads: checked, and the report never depends on it
expect bad-threads 2 "bad --threads" -- check --threads 0 "$good"
expect threads-1 1 "" -- check --threads 1 --format json testdata/ack-missing-bye/capture.pcap
cp "$tmp/out" "$tmp/t1.json"
expect threads-3 1 "" -- check --threads 3 --format json testdata/ack-missing-bye/capture.pcap
cmp -s "$tmp/out" "$tmp/t1.json" || { fail=$((fail + 1)); echo "FAIL: cli --threads 3 differs from 1" >&2; }
# every testdata capture at once: every rule fires, and with two threads the
# SQL rules run on two connections; the findings and their order are the same
set -- testdata/*/capture.pcap
expect threads-all-1 1 "" -- check --threads 1 --fail-on error --format json "$@"
cp "$tmp/out" "$tmp/t1.json"
expect threads-all-2 1 "" -- check --threads 2 --fail-on error --format json "$@"
cmp -s "$tmp/out" "$tmp/t1.json" || { fail=$((fail + 1)); echo "FAIL: cli --threads 2 differs from 1 on all of testdata" >&2; }
[ "$(grep -c '"rule": "SIP-' "$tmp/t1.json")" -gt 80 ] || { fail=$((fail + 1)); echo "FAIL: cli: all of testdata gave few findings" >&2; }
# a database kept with --db holds the detail columns that the private one of
# `check` leaves out (docs/schema.md): no rule may read them, so the findings
# of every testdata capture are the same
expect ingest-all 0 "" -- ingest --db "$tmp/all.db" "$@"
expect report-all 1 "" -- report --fail-on error --format json --db "$tmp/all.db"
cmp -s "$tmp/out" "$tmp/t1.json" || { fail=$((fail + 1)); echo "FAIL: cli report --db differs from check on all of testdata" >&2; }
# (no progress line when stderr is a file: tests/load.sh, whose capture is
# long enough for one; a capture of a few frames here could not show it)

# -o onto something that is not a regular file is written, never replaced:
# a FIFO (and, as root, a character device like /dev/null); a symbolic link
# keeps pointing at the file it names, which gets the report
mkfifo "$tmp/fifo"
timeout 20 cat "$tmp/fifo" >"$tmp/fifo.out" &
reader=$!
"$bin" check --fail-on never -f json -o "$tmp/fifo" "$good" 2>/dev/null
[ -p "$tmp/fifo" ] || : >"$tmp/fifo" # replaced: let the reader see an end
wait $reader
if [ ! -p "$tmp/fifo" ] || ! grep -q '"findings"' "$tmp/fifo.out"; then
    fail=$((fail + 1)); echo "FAIL: cli -o FIFO replaced or not written" >&2
else
    pass=$((pass + 1))
fi
if mknod "$tmp/null" c 1 3 2>/dev/null; then
    "$bin" check --fail-on never -o "$tmp/null" "$good" 2>/dev/null
    if [ -c "$tmp/null" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: cli -o onto a character device replaced it" >&2; fi
fi
: >"$tmp/real.json"
ln -s real.json "$tmp/link.json"
"$bin" check --fail-on never -f json -o "$tmp/link.json" "$good" 2>/dev/null
if [ -L "$tmp/link.json" ] && grep -q '"findings"' "$tmp/real.json"; then
    pass=$((pass + 1))
else
    fail=$((fail + 1)); echo "FAIL: cli -o through a symbolic link" >&2
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
