#!/bin/sh
# Rule tests: every testdata/CASE/expected.rules lists, one per line, a rule ID and how many
# findings of that rule `siplint check` must report on CASE/capture.pcap (or CASE/capture.hep, a HEP
# stream file) (0 = must stay quiet):
#     SIP-DLG-003 1
#     SIP-DLG-001 0        # comments after '#'
# A line "options: --t1 1000" adds options to the command line.  A line "quiet" means: no
# finding at warning or error other than those listed with a count above 0.
# Then every rule of rules/*.sql must fire (count >= 1) in some case and be listed with 0 in
# another (RULES: each rule has a capture where it fires and one where it stays quiet).
set -u
bin=${1:-build/siplint}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/fired"
: >"$tmp/quiet"
for exp in testdata/*/expected.rules; do
    [ -f "$exp" ] || continue
    dir=$(dirname "$exp")
    case=$(basename "$dir")
    opts=$(sed -n 's/^options:[[:space:]]*//p' "$exp")
    cap=$dir/capture.pcap
    [ -f "$cap" ] || cap=$dir/capture.hep # a HEP stream file
    # shellcheck disable=SC2086  # options are words
    "$bin" check --format ndjson --fail-on never $opts "$cap" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: rules $case: siplint exited $rc" >&2
        sed 's/^/  stderr: /' "$tmp/err" | head -5 >&2
        fail=$((fail + 1))
        continue
    fi
    sed -n 's/^{"rule":"\([^"]*\)","severity":"\([^"]*\)".*/\1 \2/p' "$tmp/out" >"$tmp/got"
    bad=0
    listed=" "
    while read -r id want rest; do
        case "$id" in '' | '#'* | options:*) continue ;; quiet) continue ;; esac
        got=$(grep -c "^$id " "$tmp/got")
        listed="$listed$id "
        if [ "$got" -ne "$want" ]; then
            echo "FAIL: rules $case: $id reported $got time(s), want $want" >&2
            bad=1
        fi
        if [ "$want" -gt 0 ]; then echo "$id" >>"$tmp/fired"; else echo "$id" >>"$tmp/quiet"; fi
    done <"$exp"
    if grep -q '^quiet' "$exp"; then
        while read -r id sev; do
            case "$sev" in warning | error) ;; *) continue ;; esac
            case "$listed" in *" $id "*) continue ;; esac
            echo "FAIL: rules $case: unexpected $sev $id" >&2
            grep "\"rule\":\"$id\"" "$tmp/out" | sed -n 's/.*"message":"\([^"]*\)".*/  \1/p' | head -3 >&2
            bad=1
        done <"$tmp/got"
    fi
    if [ "$bad" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
for f in rules/SIP-*.sql; do
    [ -f "$f" ] || continue
    id=$(basename "$f" .sql)
    if ! grep -qx "$id" "$tmp/fired"; then
        echo "FAIL: rules: $id fires in no testdata case (add one to an expected.rules)" >&2
        fail=$((fail + 1))
    fi
    if ! grep -q "^| $id |" docs/rules.md; then
        echo "FAIL: rules: $id is missing from the catalog in docs/rules.md" >&2
        fail=$((fail + 1))
    fi
    if ! grep -qx "$id" "$tmp/quiet"; then
        echo "FAIL: rules: $id is listed quiet (0) in no testdata case" >&2
        fail=$((fail + 1))
    fi
done
echo "rules: $pass cases passed, $fail failed"
[ "$fail" -eq 0 ]
