#!/bin/sh
# Prints the Markdown table of docs/corpus.md: for every corpus capture, the
# reference count, siplint's count, frames not decoded and problems.
set -u
bin=${1:-build/siplint}
corpus=${CORPUS:-../shared/corpus}
db=$(mktemp)
trap 'rm -f "$db"' EXIT
awk -F'|' '/^\| captures\// { for (i = 2; i <= NF; i++) gsub(/^ +| +$/, "", $i);
    print $2 "|" $5 "|" $7 "|" $8 "|" $9 }' "$corpus/README.md" |
while IFS='|' read -r file fmt ref tp tun; do
    rm -f "$db"
    "$bin" ingest --quiet --db "$db" "$corpus/$file" 2>/dev/null || continue
    got=$(sqlite3 "$db" "SELECT sip_messages FROM capture")
    nd=$(sqlite3 "$db" "SELECT group_concat(reason || ' ' || frames, ', ') FROM frame_stat WHERE kind = 'not_decoded'")
    pr=$(sqlite3 "$db" "SELECT group_concat(rule_id || ' ' || n, ', ') FROM (SELECT rule_id, count(*) n FROM problem GROUP BY rule_id)")
    echo "| $(basename "$(dirname "$file")")/$(basename "$file") | $fmt | $tp | $tun | $ref | $got | ${nd:--} | ${pr:--} |"
done
