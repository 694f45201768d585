#!/bin/sh
# bench/run.sh: times siplint against tshark, sngrep and sipgrep on one generated
# capture (docs/bench.md).  `make bench` and `make bench-10m` run it.
#
#   sh bench/run.sh [SIPLINT [GEN [FLOOR]]]
#
# Environment:
#   BENCH_N      messages in the capture (default 1000000); the file is
#                build/bench/bench-<100k|1m|10m|N>.pcap, generated when missing
#   BENCH_RUNS   timed runs per tool, alternating between tools; the median is kept (default 3)
#   BENCH_TOOLS  which tools to time (default "siplint tshark sngrep sipgrep"; peers that are
#                not installed are reported as such)
#   BENCH_SEED, BENCH_RATE   generator seed and calls per second (defaults 1 and 50)
#   BENCH_DIR    where captures and results go (default build/bench)
#   BENCH_VERIFY 0 skips the untimed first run of each tool that checks it read the whole file
#   BENCH_FLOOR  0 skips the floor: the parse alone on every CPU, and the store alone, their
#                input already in memory (bench/floor.c; default 1 when siplint is timed and
#                the capture has at most 1M messages: the store mode holds every parsed message)
#
# Writes the table to standard output and the same as JSON to BENCH_DIR/bench.json (and
# BENCH_DIR/bench-<size>.json).  Exits 0 when a target is missed (it reports; timings are not
# tests); 1 when the capture cannot be made or siplint itself fails.
set -u

siplint=${1:-build/siplint}
gen=${2:-build/bench/gen}
floor=${3:-build/bench/floor}
n=${BENCH_N:-1000000}
runs=${BENCH_RUNS:-3}
tools=${BENCH_TOOLS:-siplint tshark sngrep sipgrep}
seed=${BENCH_SEED:-1}
rate=${BENCH_RATE:-50}
dir=${BENCH_DIR:-build/bench}
verify=${BENCH_VERIFY:-1}
floor_on=${BENCH_FLOOR:-1}
# the sngrep dialog limit: far above any Call-ID count here (its default is 20000)
sngrep_limit=10000000

die() {
    echo "bench: $*" >&2
    exit 1
}

case $n in
'' | *[!0-9]*) die "BENCH_N must be a number of messages, not '$n'" ;;
esac
case $runs in
'' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive number, not '$runs'" ;;
esac
case $n in
100000) label=100k ;;
1000000) label=1m ;;
10000000) label=10m ;;
*) label=$n ;;
esac
[ "$seed" = 1 ] && [ "$rate" = 50 ] || label="$label-s$seed-r$rate"
file=$dir/bench-$label.pcap
mkdir -p "$dir" || die "cannot create $dir"
[ -x "$siplint" ] || die "$siplint: not built (make)"
[ -x /usr/bin/time ] || die "needs GNU time as /usr/bin/time (apt-get install time)"

# Writing to a regular file called /dev/null would time the disk, not the tool.
if [ ! -c /dev/null ]; then
    die "/dev/null is not a character device (a program run as root replaced it with a file); restore it first: rm /dev/null && mknod -m 666 /dev/null c 1 3"
fi

# ---------------------------------------------------------------- the capture
if [ ! -s "$file" ]; then
    [ -x "$gen" ] || die "$gen: not built (make bench-gen)"
    # about 545 bytes per message (docs/bench.md)
    need_mb=$(awk -v n="$n" 'BEGIN { printf "%d", n * 560 / 1e6 + 1 }')
    free_mb=$(df -Pm "$dir" | awk 'NR == 2 { print $4 }')
    echo "bench: generating $file: $n messages, about $need_mb MB; $free_mb MB free in $dir"
    if [ "${free_mb:-0}" -lt $((need_mb + need_mb / 10 + 100)) ]; then
        die "not enough space in $dir for $file (needs about $need_mb MB)"
    fi
    if ! "$gen" -n "$n" -s "$seed" -r "$rate" -o "$file.tmp" 2>"$file.txt"; then
        cat "$file.txt" >&2
        rm -f "$file.tmp"
        die "generator failed"
    fi
    mv "$file.tmp" "$file" || die "cannot rename $file.tmp"
    sed 's/^/  /' "$file.txt"
fi
bytes=$(wc -c <"$file" | tr -d ' ')
# the number of Call-IDs (sngrep's dialogs), from the generator's summary
callids=
[ -f "$file.txt" ] && callids=$(sed -n 's/^gen: \([0-9]*\) distinct Call-IDs$/\1/p' "$file.txt")

# ---------------------------------------------------------------- the tools
have_threads=0
if "$siplint" --help 2>&1 | grep -q -- '--threads'; then
    have_threads=1
fi
rows=
for t in $tools; do
    case $t in
    siplint)
        rows="$rows siplint"
        [ $have_threads = 1 ] && rows="$rows siplint-t1 siplint-t2"
        ;;
    tshark | sngrep | sipgrep) rows="$rows $t" ;;
    *) die "unknown tool '$t' in BENCH_TOOLS" ;;
    esac
done

report=$dir/report-siplint.json
# the command line of a row, for the table and the JSON
cmdline() {
    case $1 in
    siplint) echo "$siplint check --fail-on never -o $report $file" ;;
    siplint-t1) echo "$siplint check --threads 1 --fail-on never -o $report $file" ;;
    siplint-t2) echo "$siplint check --threads 2 --fail-on never -o $report $file" ;;
    tshark) echo "tshark -q -z sip,stat -r $file" ;;
    sngrep) echo "sngrep -N -q -l $sngrep_limit -I $file" ;;
    sipgrep) echo "sipgrep -C -I $file >/dev/null" ;;
    esac
}

tool_name() {
    case $1 in
    siplint-t1) echo "siplint --threads 1" ;;
    siplint-t2) echo "siplint --threads 2" ;;
    *) echo "$1" ;;
    esac
}

installed() {
    case $1 in
    siplint*) return 0 ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
    esac
}

tmp=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT INT TERM

# One timed run of a row: appends "row wall user sys rss_kb status" to $tmp/runs.
# status: ok, or what went wrong.
timed() {
    row=$1
    tf=$tmp/time
    out=$tmp/out-$row
    rm -f "$tf"
    case $row in
    siplint*) rm -f "$report" ;;
    esac
    case $row in
    siplint)
        /usr/bin/time -f '%e %U %S %M' -o "$tf" \
            "$siplint" check --fail-on never -o "$report" "$file" >"$out" 2>&1
        ;;
    siplint-t1 | siplint-t2)
        /usr/bin/time -f '%e %U %S %M' -o "$tf" \
            "$siplint" check --threads "${row#siplint-t}" --fail-on never -o "$report" "$file" \
            >"$out" 2>&1
        ;;
    tshark)
        /usr/bin/time -f '%e %U %S %M' -o "$tf" tshark -q -z sip,stat -r "$file" >"$out" 2>/dev/null
        ;;
    sngrep)
        /usr/bin/time -f '%e %U %S %M' -o "$tf" sngrep -N -q -l $sngrep_limit -I "$file" \
            >"$out" 2>&1 </dev/null
        ;;
    sipgrep)
        /usr/bin/time -f '%e %U %S %M' -o "$tf" sipgrep -C -I "$file" >/dev/null 2>"$out"
        ;;
    esac
    rc=$?
    status=ok
    if [ $rc -ne 0 ]; then
        status="exit $rc"
    else
        case $row in
        siplint*)
            got=$(grep -o '"messages": *[0-9]*' "$report" 2>/dev/null | head -n 1 | tr -dc 0-9)
            [ "$got" = "$n" ] || status="read ${got:-no} messages"
            ;;
        tshark)
            got=$(sed -n 's/^Number of SIP messages: *\([0-9]*\).*/\1/p' "$out")
            [ "$got" = "$n" ] || status="counted ${got:-no} messages"
            ;;
        esac
    fi
    # wall user sys rss (split on purpose; "-" when time wrote nothing)
    # shellcheck disable=SC2046
    set -- $(tail -n 1 "$tf" 2>/dev/null) - - - -
    echo "$row $1 $2 $3 $4 $status" >>"$tmp/runs"
    [ "$status" = ok ]
}

# The untimed first run (warms the page cache): the peers that print no count in the timed
# form are run once in a form that does, to check they read the whole file.
verify_row() {
    row=$1
    case $row in
    sngrep)
        sngrep -N -l $sngrep_limit -I "$file" </dev/null 2>&1 | tr '\r' '\n' >"$tmp/sngrep-count"
        got=$(sed -n 's/^Dialog count: *\([0-9]*\).*/\1/p' "$tmp/sngrep-count" | tail -n 1)
        if [ -n "$callids" ]; then
            [ "$got" = "$callids" ] && echo "  sngrep: $got dialogs = the $callids Call-IDs in the file" ||
                echo "  sngrep: WARNING: $got dialogs, the file has $callids Call-IDs"
        else
            echo "  sngrep: $got dialogs (no generator summary to compare with)"
        fi
        ;;
    sipgrep)
        got=$(sipgrep -C -I "$file" 2>/dev/null | grep -c '^U ')
        [ "$got" = "$n" ] && echo "  sipgrep: printed all $got messages" ||
            echo "  sipgrep: WARNING: printed $got of $n messages"
        ;;
    *)
        if timed "$row"; then
            echo "  $(tool_name "$row"): read all $n messages"
        else
            echo "  $(tool_name "$row"): WARNING: $(tail -n 1 "$tmp/runs" | cut -d' ' -f6-)"
        fi
        : >"$tmp/runs"
        ;;
    esac
}

# the 10M RSS comparison needs siplint's 1M figure
if [ "$n" = 10000000 ] && [ ! -f "$dir/bench-1m.json" ]; then
    echo "bench: no $dir/bench-1m.json yet: measuring siplint on 1M messages first"
    BENCH_N=1000000 BENCH_RUNS=1 BENCH_TOOLS=siplint sh "$0" "$siplint" "$gen" || exit 1
fi

ncpu=$(nproc 2>/dev/null || echo '?')
load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
echo "bench: $file: $n messages, $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB;" \
    "$runs timed runs per tool, alternating; $ncpu CPUs, load average $load0"
: >"$tmp/runs"
active=
for row in $rows; do
    if installed "$row"; then
        active="$active $row"
    else
        echo "  $row: not installed, skipped"
    fi
done
if [ "$verify" != 0 ]; then
    echo "bench: first, untimed runs (page cache, and a check that each tool reads the whole file)"
    for row in $active; do
        verify_row "$row"
    done
fi
i=1
while [ $i -le "$runs" ]; do
    for row in $active; do
        timed "$row" || echo "  $(tool_name "$row") run $i: $(tail -n 1 "$tmp/runs" | cut -d' ' -f6-)" >&2
    done
    i=$((i + 1))
done
load1=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

# medians ROW FILE: of the lines "row wall user sys rss_kb status" of ROW in FILE, one line
# "row median-wall median-CPU(user+sys) peak-RSS-MB wall,wall,... failures ok|failed" (or no-runs)
medians() {
    awk -v row="$1" '$1 == row {
            w[++k] = $2; c[k] = $3 + $4; if ($5 > rss) rss = $5
            if ($6 != "ok") bad++
        }
        function median(a, k,   i, j, t) {
            for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
            return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
        }
        END {
            runs = ""
            for (i = 1; i <= k; i++) runs = runs (i > 1 ? "," : "") w[i]
            if (k == 0) { print row, "-", "-", "-", "-", 0, "no-runs"; exit }
            printf "%s %.2f %.2f %.1f %s %d %s\n", row, median(w, k), median(c, k), rss / 1024, runs, bad, bad ? "failed" : "ok"
        }' "$2"
}

# ---------------------------------------------------------------- the floor
# Two stages every siplint check runs on every message, each alone with its input already in
# memory: the parse split over every CPU (libosip2 alone, and siplint's parse stage), and the
# store (one writer).  "mode threads median-seconds median-cpu" in $tmp/floor.
: >"$tmp/floor"
case " $tools " in *" siplint "*) ;; *) floor_on=0 ;; esac
[ "$n" -le 1000000 ] || floor_on=0
if [ "$floor_on" != 0 ] && [ -x "$floor" ]; then
    fthreads=$ncpu
    case $fthreads in '' | *[!0-9]*) fthreads=2 ;; esac
    echo "bench: the floor: $floor, $runs runs per mode, parse on $fthreads threads"
    for mode in osip parse store; do
        "$floor" -m "$mode" -t "$fthreads" -r "$runs" "$file" >"$tmp/floor-$mode" 2>&1 ||
            echo "  floor -m $mode: $(tail -n 1 "$tmp/floor-$mode")" >&2
        # floor prints "mode threads messages seconds messages/s cpu" per run
        awk '$1 != "" && NF >= 6 { print $1, $4, $6, 0, 0, "ok" }' "$tmp/floor-$mode" >"$tmp/floor-runs"
        # shellcheck disable=SC2046
        set -- $(medians "$mode" "$tmp/floor-runs") $(awk 'NF >= 6 { t = $2 } END { print t + 0 }' "$tmp/floor-$mode")
        [ "$2" != - ] && echo "$mode $8 $2 $3" >>"$tmp/floor"
    done
elif [ "$floor_on" != 0 ]; then
    echo "  floor: $floor not built (make bench builds it), skipped"
fi

# ---------------------------------------------------------------- results
for row in $rows; do
    if installed "$row"; then
        medians "$row" "$tmp/runs"
    else
        echo "$row - - - - 0 not-installed"
    fi
done >"$tmp/summary"

# siplint (default options) is the reference of the ratios and the targets
awk -v n="$n" -v bytes="$bytes" -v file="$file" -v runs="$runs" -v ncpu="$ncpu" \
    -v load0="$load0" -v load1="$load1" -v json="$tmp/json" -v label="$label" \
    -v rss1m_file="$dir/bench-1m.json" -v siplint_cmd="$(cmdline siplint)" \
    -v c_t1="$(cmdline siplint-t1)" -v c_t2="$(cmdline siplint-t2)" -v c_tshark="$(cmdline tshark)" \
    -v c_sngrep="$(cmdline sngrep)" -v c_sipgrep="$(cmdline sipgrep)" -v floor_file="$tmp/floor" '
function name(r) { return r == "siplint-t1" ? "siplint --threads 1" : r == "siplint-t2" ? "siplint --threads 2" : r }
function cmd(r) { return r == "siplint" ? siplint_cmd : r == "siplint-t1" ? c_t1 : r == "siplint-t2" ? c_t2 : r == "tshark" ? c_tshark : r == "sngrep" ? c_sngrep : c_sipgrep }
function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
function target(what, value, ok, known) {
    res = !known ? "n/a" : ok ? "PASS" : "FAIL"
    printf "  %-4s  %s: %s\n", res, what, value
    tj = tj (nt++ ? ",\n" : "") sprintf("    {\"target\": %s, \"value\": %s, \"result\": %s}", jstr(what), jstr(value), jstr(res))
}
{ row[++k] = $1; wall[$1] = $2; cpu[$1] = $3; rss[$1] = $4; rl[$1] = $5; nbad[$1] = $6; st[$1] = $7 }
END {
    s = ("siplint" in st) && st["siplint"] == "ok" ? wall["siplint"] : 0
    sc = s > 0 ? cpu["siplint"] : 0
    printf "\n%-20s %8s %11s %7s %7s %12s %13s %12s\n", "tool", "wall s", "messages/s", "MB/s", "CPU s", "peak RSS MB", "peer/siplint", "(CPU time)"
    for (i = 1; i <= k; i++) {
        r = row[i]
        if (st[r] == "not-installed" || st[r] == "no-runs") {
            printf "%-20s %8s\n", name(r), st[r] == "not-installed" ? "not installed" : "no runs"
            tools = tools (i > 1 ? ",\n" : "") sprintf("    {\"tool\": %s, \"status\": %s}", jstr(name(r)), jstr(st[r]))
            continue
        }
        mps = wall[r] > 0 ? n / wall[r] : 0
        mbs = wall[r] > 0 ? bytes / 1e6 / wall[r] : 0
        ratio = "-"; cratio = "-"
        if (r !~ /^siplint/ && s > 0) ratio = sprintf("%.2fx", wall[r] / s)
        if (r !~ /^siplint/ && sc > 0) cratio = sprintf("%.2fx", cpu[r] / sc)
        printf "%-20s %8.2f %11.0f %7.1f %7.2f %12.1f %13s %12s%s\n", name(r), wall[r], mps, mbs, cpu[r], rss[r], ratio, cratio, st[r] == "ok" ? "" : "  (" nbad[r] " failed runs)"
        tools = tools (i > 1 ? ",\n" : "") sprintf("    {\"tool\": %s, \"command\": %s, \"status\": %s, \"wall_s\": [%s], \"median_wall_s\": %.2f, \"messages_per_s\": %.0f, \"mb_per_s\": %.2f, \"median_cpu_s\": %.2f, \"peak_rss_mb\": %.1f, \"peer_over_siplint\": %s, \"peer_over_siplint_cpu\": %s}", jstr(name(r)), jstr(cmd(r)), jstr(st[r]), rl[r], wall[r], mps, mbs, cpu[r], rss[r], ratio == "-" ? "null" : substr(ratio, 1, length(ratio) - 1), cratio == "-" ? "null" : substr(cratio, 1, length(cratio) - 1))
    }
    print "\ntargets (issue 7; siplint with its default options):"
    sm = s > 0 ? n / s : 0
    target("siplint >= 300000 messages/s", s > 0 ? sprintf("%.0f messages/s", sm) : "siplint did not run", sm >= 300000, s > 0)
    if (("tshark" in st) && st["tshark"] == "ok" && s > 0)
        target("siplint >= 4x faster than tshark", sprintf("%.2fx", wall["tshark"] / s), wall["tshark"] / s >= 4, 1)
    else
        target("siplint >= 4x faster than tshark", "tshark not measured", 0, 0)
    if (("sngrep" in st) && st["sngrep"] == "ok" && s > 0)
        target("siplint >= 6x faster than sngrep", sprintf("%.2fx", wall["sngrep"] / s), wall["sngrep"] / s >= 6, 1)
    else
        target("siplint >= 6x faster than sngrep", "sngrep not measured", 0, 0)
    if (n == 1000000 && s > 0)
        target("siplint peak RSS <= 256 MB on 1M messages", sprintf("%.1f MB", rss["siplint"]), rss["siplint"] <= 256, 1)
    else
        target("siplint peak RSS <= 256 MB on 1M messages", s > 0 ? sprintf("%.1f MB on %d messages: needs BENCH_N=1000000", rss["siplint"], n) : "siplint did not run", 0, 0)
    r1 = 0
    while ((getline line < rss1m_file) > 0)
        if (line ~ /"tool": "siplint",/ && match(line, /"peak_rss_mb": [0-9.]+/))
            r1 = substr(line, RSTART + 15, RLENGTH - 15) + 0
    if (n == 10000000 && s > 0 && r1 > 0)
        target("siplint peak RSS on 10M within 1.5x of 1M", sprintf("%.1f MB / %.1f MB = %.2fx", rss["siplint"], r1, rss["siplint"] / r1), rss["siplint"] <= 1.5 * r1, 1)
    else
        target("siplint peak RSS on 10M within 1.5x of 1M", n == 10000000 ? "no 1M result (make bench)" : "run make bench-10m", 0, 0)
    nf = 0
    while ((getline line < floor_file) > 0) {
        split(line, f, " ")
        if (f[3] + 0 <= 0) continue
        if (!nf++) print "\nthe floor (bench/floor: one stage alone, its input already in memory; median):"
        what = f[1] == "osip" ? "libosip2 alone (osip_message_parse)" : f[1] == "parse" ? "siplint parse stage (sl_msg_parse)" : "SQLite store (sl_db_add_message)"
        printf "  %-36s %2d thread%s %7.2f s %9.0f messages/s  CPU %6.2f s\n", what, f[2], (f[2] > 1 ? "s" : " "), f[3], n / f[3], f[4]
        if (f[1] == "parse") { pw = f[3]; pc = f[4] }
        if (f[1] == "store") { sw = f[3]; sc2 = f[4] }
        fj = fj (nf > 1 ? ",\n" : "") sprintf("    {\"mode\": %s, \"threads\": %d, \"median_wall_s\": %.3f, \"messages_per_s\": %.0f, \"median_cpu_s\": %.3f}", jstr(f[1]), f[2], f[3], n / f[3], f[4])
    }
    if (pw > 0 && sw > 0) {
        # the store has one writer; together they need their CPU time on ncpu CPUs
        cpus = (ncpu ~ /^[0-9]+$/) ? ncpu + 0 : 2
        lo = (pc + sc2) / cpus
        if (sw > lo) lo = sw
        printf "  parse + store, and no other stage, on %d CPUs: at least max(%.2f, (%.2f + %.2f) / %d) = %.2f s = %.0f messages/s\n", cpus, sw, pc, sc2, cpus, lo, n / lo
        printf "  what the targets leave for all of check: 300000 messages/s: %.2f s", n / 300000
        if (("tshark" in st) && st["tshark"] == "ok") printf "; 4x tshark: %.2f s", wall["tshark"] / 4
        if (("sngrep" in st) && st["sngrep"] == "ok") printf "; 6x sngrep: %.2f s", wall["sngrep"] / 6
        print ""
        fj = fj sprintf(",\n    {\"mode\": \"parse+store\", \"threads\": %d, \"least_wall_s\": %.3f, \"messages_per_s\": %.0f}", cpus, lo, n / lo)
    }
    printf "{\n  \"capture\": %s,\n  \"messages\": %d,\n  \"bytes\": %d,\n  \"runs\": %d,\n  \"cpus\": %s,\n  \"load_average_before\": %s,\n  \"load_average_after\": %s,\n  \"tools\": [\n%s\n  ],\n  \"floor\": [\n%s\n  ],\n  \"targets\": [\n%s\n  ]\n}\n", jstr(file), n, bytes, runs, jstr(ncpu), jstr(load0), jstr(load1), tools, fj, tj > json
}' "$tmp/summary"
echo
echo "load average before: $load0, after: $load1 (the CPUs may be shared: compare runs made under the same load)"
cp "$tmp/json" "$dir/bench-$label.json" && cp "$tmp/json" "$dir/bench.json" &&
    echo "bench: results in $dir/bench.json and $dir/bench-$label.json"
# siplint failing is a broken benchmark, not a missed target
awk '$1 ~ /^siplint/ && $7 != "ok" && $7 != "not-installed" { bad = 1 } END { exit bad }' "$tmp/summary"
