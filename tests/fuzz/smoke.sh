#!/bin/sh
# smoke.sh TARGET SECONDS CORPUS: runs build/fuzz/fuzz_TARGET (libFuzzer) for
# SECONDS over a copy of CORPUS in build/fuzz/work-TARGET; prints the
# executions done and the CPU time used; exits non-zero on a crash (the
# reproducer is left in build/fuzz/work-TARGET/crash-*).  Used by
# `make fuzz-smoke`.
set -u
t=$1 secs=$2 corpus=$3
work=build/fuzz/work-$t
rm -rf "$work" && mkdir -p "$work/corpus" || exit 1
cp -R "$corpus"/. "$work/corpus/"
build/fuzz/fuzz_"$t" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 \
    -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1
rc=$?
times >"$work/times"
cpu=$(sed -n '2s/^\([^ ]*\) \([^ ]*\)$/user \1, sys \2/p' "$work/times")
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
if [ $rc -ne 0 ]; then
    echo "fuzz-smoke $t: CRASH after ${execs:-?} executions (exit $rc); see $work/log and $work/crash-*" >&2
    grep -m 5 'ERROR\|SUMMARY' "$work/log" >&2
    exit 1
fi
echo "fuzz-smoke $t: ${secs}s, ${execs:-?} executions, CPU $cpu, no crash"
