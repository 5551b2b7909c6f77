#!/bin/sh
# Writes the `sockguard report` benchmark input: N (default 5000000) mixed
# syslog lines, every header format the report reads, to FILE (default
# $BUILD/report-bench.log).  Usage: tests/bench/gen_report_input.sh [N] [FILE]
set -eu
BUILD=${BUILD:-build}
n=${1:-5000000}
out=${2:-$BUILD/report-bench.log}
gen=$BUILD/tests/progs/gen_report_lines
[ -x "$gen" ] || make -s BUILD="$BUILD" "$gen"
"$gen" "$n" > "$out"
echo "$out"
