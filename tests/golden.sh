#!/bin/sh
# Golden tests: every folder in testdata/ with an expected.json is one case.
#   args          optional: the command line, one argument per line (paths
#                 relative to the repository root); default:
#                 check --format json testdata/CASE/capture.pcap
#   expected.json the report, byte for byte
#   expected.rc   optional: the exit code (default 0)
# UPDATE=1 rewrites expected.json / expected.rc (read the diff before committing).
set -u
bin=${1:-build/siplint}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for dir in testdata/*/; do
    dir=${dir%/}
    case=$(basename "$dir")
    # a case: a folder with args, or with capture.pcap (bad-random has neither)
    [ -f "$dir/args" ] || [ -f "$dir/capture.pcap" ] || continue
    if [ -f "$dir/args" ]; then
        set --
        while IFS= read -r a || [ -n "$a" ]; do
            [ -n "$a" ] && set -- "$@" "$a"
        done <"$dir/args"
    else
        set -- check --format json "$dir/capture.pcap"
    fi
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    want_rc=0
    [ -f "$dir/expected.rc" ] && want_rc=$(cat "$dir/expected.rc")
    if [ -n "${UPDATE:-}" ]; then
        cp "$tmp/out" "$dir/expected.json"
        if [ "$rc" -ne 0 ]; then echo "$rc" >"$dir/expected.rc"; else rm -f "$dir/expected.rc"; fi
        echo "updated: $case (exit $rc)"
        pass=$((pass + 1))
        continue
    fi
    if [ ! -f "$dir/expected.json" ]; then
        fail=$((fail + 1))
        echo "FAIL: golden $case has no expected.json (make golden-update, then review it)" >&2
    elif cmp -s "$tmp/out" "$dir/expected.json" && [ "$rc" -eq "$want_rc" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: golden $case (exit $rc, want $want_rc)" >&2
        diff -u "$dir/expected.json" "$tmp/out" | head -40 >&2
        sed 's/^/  stderr: /' "$tmp/err" | head -5 >&2
        echo "  to accept: make golden-update  (then read the diff)" >&2
    fi
done
echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && sh tests/cli.sh "$bin"
