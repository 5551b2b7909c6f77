#!/bin/sh
# The `sockguard report` benchmark: parses a 5-million-line mixed syslog
# file (generated once, kept in $BUILD) on one core and prints lines per
# second and peak memory.  Goals: >= 1000000 lines/s, peak RSS < 64 MiB.
# Usage: BUILD=build tests/bench/bench_report.sh [N]   (BENCH_QUICK=1: 500000 lines)
set -eu
BUILD=${BUILD:-build}
n=${1:-5000000}
[ "${BENCH_QUICK:-0}" = 1 ] && n=500000
input=$BUILD/report-bench-$n.log
[ -s "$input" ] || tests/bench/gen_report_input.sh "$n" "$input" > /dev/null
cat "$input" > /dev/null	# warm the page cache: measure parsing, not the disk
stats=$(mktemp)
trap 'rm -f "$stats"' EXIT
pin=
command -v taskset > /dev/null && pin="taskset -c 0"
$pin /usr/bin/time -f '%e %M' -o "$stats" \
	"$BUILD/sockguard" report "$input" > /dev/null 2>&1 || true
read -r secs rss_kb < "$stats"
awk -v n="$n" -v s="$secs" -v kb="$rss_kb" 'BEGIN {
	rate = s > 0 ? n / s : 0
	printf "report: %d lines in %.2f s: %.0f lines/s, peak RSS %.1f MiB (%s)\n",
		n, s, rate, kb / 1024,
		((rate >= 1000000 && kb < 65536) ? "ok" : "BELOW GOAL")
}'
