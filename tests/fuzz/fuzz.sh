#!/bin/sh
# Builds every tests/fuzz/fuzz_*.c with libFuzzer, ASan and UBSan into
# build-fuzz/ and runs each for FUZZ_SECONDS (default 300) on its corpus,
# tests/fuzz/corpus/<name without fuzz_>/.  New inputs go to
# build-fuzz/corpus/<name>/, so the checked-in seed corpus stays small.
# Usage: tests/fuzz/fuzz.sh [NAME]...   (NAME as in fuzz_NAME.c; default all)
set -eu

cd "$(dirname "$0")/../.."
OUT=${FUZZ_BUILD:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-300}
CC=${FUZZ_CC:-clang}
CFLAGS="-std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-DSG_VERSION=\"fuzz\""

# By default a target links the policy and the tool's code, as `sockguard`
# does, except tools/main.c (libFuzzer supplies main()).  A target that needs
# less says so in a comment line " * fuzz-sources: GLOB...", so that it does
# not depend on unrelated code.
default_sources() {
	ls policy/*.c tools/*.c tools/report/*.c | grep -v '^tools/main\.c$'
}

sources_of() {
	globs=$(sed -n 's/^ \* fuzz-sources: *//p' "$1" | head -n 1)
	if [ -n "$globs" ]; then
		# shellcheck disable=SC2086
		ls $globs
	else
		default_sources
	fi
}

if [ $# -gt 0 ]; then
	TARGETS=$(for n in "$@"; do echo "tests/fuzz/fuzz_$n.c"; done)
else
	TARGETS=$(ls tests/fuzz/fuzz_*.c)
fi

mkdir -p "$OUT"
status=0
for src in $TARGETS; do
	bin=$(basename "$src" .c)
	name=${bin#fuzz_}
	echo "== $bin: building"
	# shellcheck disable=SC2046,SC2086
	$CC $CFLAGS -o "$OUT/$bin" "$src" $(sources_of "$src") -lm
	seed=tests/fuzz/corpus/$name
	work=$OUT/corpus/$name
	mkdir -p "$seed" "$work"
	echo "== $bin: fuzzing for ${SECONDS_EACH}s (seed corpus $seed)"
	if ! "$OUT/$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
		-artifact_prefix="$OUT/$bin-" "$work" "$seed"; then
		echo "== $bin: FAILED, see $OUT/$bin-*" >&2
		status=1
	fi
done
exit $status
