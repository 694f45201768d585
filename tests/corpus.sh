#!/bin/sh
# Runs siplint over every capture of ../shared/corpus (public captures from
# other projects; never committed here).  For each: a report and no crash,
# no hang.  For the captures whose transports are UDP, HEP/UDP, HEP/TCP, TCP, UDP,WS or SCTP (TCP streams are
# reassembled) and whose tunnels are all decoded, the SIP
# message count must equal the reference count in the corpus README (tshark's; for HEP, the SIP payloads),
# also through the tunnels decoded (GRE, ERSPAN, IP-in-IP, GTP, VLAN, IPv6, SLL),
# except for the captures listed in tests/corpus-exceptions.txt, whose
# difference is explained in docs/corpus.md.
set -u
bin=${1:-build/siplint}
corpus=${CORPUS:-../shared/corpus}
if [ ! -f "$corpus/README.md" ]; then
    echo "corpus: skipped ($corpus not found)"
    exit 0
fi
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# file|sip msgs|transports|tunnels from the README table
awk -F'|' '/^\| captures\// {
    for (i = 2; i <= NF; i++) gsub(/^ +| +$/, "", $i);
    print $2 "|" $7 "|" $8 "|" $9 }' "$corpus/README.md" >"$tmp/ref"
while IFS='|' read -r file ref transports tunnels; do
    path="$corpus/$file"
    [ -f "$path" ] || continue
    timeout 120 "$bin" check --format json --fail-on never "$path" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        fail=$((fail + 1))
        echo "FAIL: corpus $file: exit $rc" >&2
        head -3 "$tmp/err" >&2
        continue
    fi
    got=$(grep -o '"messages": [0-9]*' "$tmp/out" | head -1 | grep -o '[0-9]*$')
    # tunnels decoded today (every one of the capture's must be)
    undecoded=$(printf '%s\n' "$tunnels" | tr ',' '\n' |
        grep -v -x -e - -e GRE -e ERSPAN -e IP-in-IP/tunnel -e GTP -e VLAN -e IPv6 -e SLL)
    case "$transports" in
    UDP | HEP/UDP | HEP/TCP | TCP | TCP,UDP | UDP,WS | SCTP) plain=1 ;;
    *) plain="" ;;
    esac
    if [ -n "$plain" ] && [ -z "$undecoded" ]; then
        if [ "$got" = "$ref" ]; then
            pass=$((pass + 1))
        elif grep -q "^$file " tests/corpus-exceptions.txt 2>/dev/null; then
            pass=$((pass + 1))
            echo "corpus: $file: $got SIP messages, reference $ref (known exception, docs/corpus.md)"
        else
            fail=$((fail + 1))
            echo "FAIL: corpus $file: $got SIP messages, reference $ref" >&2
        fi
    else
        pass=$((pass + 1))
        [ -n "${VERBOSE:-}" ] && echo "corpus: $file ($transports, $tunnels): $got of $ref SIP messages (not decoded yet)"
    fi
done <"$tmp/ref"
# `siplint calls --all` on five corpus captures, checked by hand against
# tshark (docs/corpus.md) and kept in tests/corpus-calls/.  UPDATE=1 rewrites.
for want in tests/corpus-calls/*.txt; do
    name=$(basename "$want" .txt)
    path="$corpus/captures/$(sed -n 1p "$want" | sed 's/^# capture: //')"
    [ -f "$path" ] || continue
    { sed -n 1p "$want"; "$bin" calls --all --format text "$path"; } >"$tmp/calls" 2>&1
    if [ -n "${UPDATE:-}" ]; then
        cp "$tmp/calls" "$want"
        pass=$((pass + 1))
    elif cmp -s "$tmp/calls" "$want"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: corpus calls $name" >&2
        diff -u "$want" "$tmp/calls" | head -20 >&2
    fi
done
echo "corpus: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
