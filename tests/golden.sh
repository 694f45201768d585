#!/bin/sh
# Golden tests: every folder in testdata/ with an expected.json is one case.
#   args          optional: the command line, one argument per line (paths
#                 relative to the repository root); default:
#                 check --format json testdata/CASE/capture.pcap (or capture.hep)
#   expected.json the report, byte for byte
#   expected.rc   optional: the exit code (default 0)
# UPDATE=1 rewrites expected.json / expected.rc (read the diff before committing).
# CASES="a b" limits the run to those case folders.
set -u
bin=${1:-build/siplint}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# run_case NAME EXPECTED_FILE RC_FILE ARGS...: compares stdout and exit code.
run_case() {
    name=$1 expected=$2 rcfile=$3
    shift 3
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    want_rc=0
    [ -n "$rcfile" ] && [ -f "$rcfile" ] && want_rc=$(cat "$rcfile")
    if [ -n "${UPDATE:-}" ]; then
        cp "$tmp/out" "$expected"
        if [ -n "$rcfile" ]; then
            if [ "$rc" -ne 0 ]; then echo "$rc" >"$rcfile"; else rm -f "$rcfile"; fi
        fi
        echo "updated: $name (exit $rc)"
        pass=$((pass + 1))
        return
    fi
    if [ ! -f "$expected" ]; then
        fail=$((fail + 1))
        echo "FAIL: golden $name has no $(basename "$expected") (make golden-update, then review it)" >&2
    elif cmp -s "$tmp/out" "$expected" && [ "$rc" -eq "$want_rc" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: golden $name (exit $rc, want $want_rc)" >&2
        diff -u "$expected" "$tmp/out" | head -40 >&2
        sed 's/^/  stderr: /' "$tmp/err" | head -5 >&2
        echo "  to accept: make golden-update  (then read the diff)" >&2
    fi
}

for dir in testdata/*/; do
    dir=${dir%/}
    case=$(basename "$dir")
    # a case: a folder with args, or with capture.pcap or capture.hep (a HEP stream file;
    # bad-random has neither)
    cap=$dir/capture.pcap
    [ -f "$cap" ] || cap=$dir/capture.hep
    [ -f "$dir/args" ] || [ -f "$cap" ] || continue
    if [ -n "${CASES:-}" ]; then
        case " $CASES " in *" $case "*) ;; *) continue ;; esac
    fi
    if [ -f "$dir/args" ]; then
        set --
        while IFS= read -r a || [ -n "$a" ]; do
            [ -n "$a" ] && set -- "$@" "$a"
        done <"$dir/args"
    else
        set -- check --format json "$cap"
    fi
    run_case "$case" "$dir/expected.json" "$dir/expected.rc" "$@"
    if [ ! -f "$dir/args" ]; then
        # the call list and the ladders of the same capture, as text
        run_case "$case (calls)" "$dir/expected.calls.txt" "" calls --all --format text "$cap"
        run_case "$case (flow)" "$dir/expected.flow.txt" "" flow "$cap"
    fi
done
echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && sh tests/cli.sh "$bin"
