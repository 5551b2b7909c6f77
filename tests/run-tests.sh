#!/bin/bash
# Runs every Criterion binary under $BUILD/tests/unit and $BUILD/tests/integration,
# one binary after another, and ends with one line:
#     tests: N passed, N failed, N skipped
# Exit status is non-zero when a test failed or crashed, or a binary died.
#
# Environment:
#   BUILD=build              the build directory (the Makefile sets it)
#   SG_TEST_FILTER=GLOB      run only binaries whose name (unit/NAME, NAME)
#                            matches GLOB; GLOB:TESTGLOB also passes TESTGLOB
#                            ("suite/test" glob) to Criterion's --filter
#   SG_TEST_JOBS_UNIT=2      Criterion jobs for unit binaries (pure, quick)
#   SG_TEST_JOBS_INTEG=1     Criterion jobs for integration binaries: they
#                            time kernel retransmissions and run servers under
#                            load, which two cores cannot do side by side
#   SG_TEST_BIN_TIMEOUT=300  seconds before a whole binary is killed
#   SG_TEST_LOGDIR=DIR       where each binary's full output goes
#                            (default $BUILD/test-logs)
#   SG_SANITIZE=1            set by make test-sanitize: ASan options for the
#                            programs the sanitized shim is preloaded into
#   SG_TEST_MUSL=0           leave out the musl reruns (see MUSL_SUITES)
#   CI=true                  a skip for want of a namespace, root or a program
#                            is a failure: CI installs and has all of them
set -u

BUILD=${BUILD:-build}
LOGDIR=${SG_TEST_LOGDIR:-$BUILD/test-logs}
FILTER=${SG_TEST_FILTER:-}
BIN_GLOB=${FILTER%%:*}
TEST_GLOB=
[[ $FILTER == *:* ]] && TEST_GLOB=${FILTER#*:}
CI_STRICT=0
[[ ${CI:-} == true ]] && CI_STRICT=1

total_pass=0 total_fail=0 total_skip=0 binaries=0
failed_names=()
skip_report=()

mkdir -p "$LOGDIR"

# Under make test-sanitize the shim carries ASan: the real programs it is
# preloaded into (python, curl) leak by design and are not ours to judge.
if [[ -n ${SG_SANITIZE:-} ]]; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
fi

# Criterion prints "[SKIP] suite::test: reason" for cr_skip_test and for
# tests left out by --filter ("Test is disabled"); only the former count.
skip_lines() {
	grep -a '^\[SKIP\] ' "$1" | grep -av ': Test is disabled$'
}

# A skip CI must not accept: the fixtures word these reasons this way.
is_strict_skip() {
	[[ $1 == *": needs a network namespace"* || $1 == *": needs root"* ||
		$1 == *": needs program "* ]]
}

selected() {
	local name=$1
	[[ -z $BIN_GLOB ]] && return 0
	# shellcheck disable=SC2053  # the right side is a glob on purpose
	[[ $name == $BIN_GLOB || ${name#*/} == $BIN_GLOB ]]
}

# Prints the lines that explain a failure: assertions, crashes, timeouts.
show_failures() {
	grep -a -e '^\[----\] ' -e '^\[FAIL\] ' "$1" | grep -av 'Criterion v' |
		head -n 80 | sed 's/^/      /'
}

run_binary() {
	local bin=$1 name=$2 jobs=$3 log=$LOGDIR/${2//\//_}.log
	local start end secs rc synth passing=0 failing=0 crashing=0
	local skips=0 strict=0 args=(--verbose "--jobs=$jobs" --color=never)

	[[ -n $TEST_GLOB ]] && args+=("--filter=$TEST_GLOB")
	start=$(date +%s%N)
	timeout --kill-after=10 "${SG_TEST_BIN_TIMEOUT:-300}" "$bin" "${args[@]}" \
		</dev/null >"$log" 2>&1
	rc=$?
	end=$(date +%s%N)
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')

	synth=$(grep -a 'Synthesis: Tested:' "$log" | tail -n 1)
	if [[ $synth =~ Tested:\ [0-9]+\ \|\ Passing:\ ([0-9]+)\ \|\ Failing:\ ([0-9]+)\ \|\ Crashing:\ ([0-9]+) ]]; then
		passing=${BASH_REMATCH[1]}
		failing=${BASH_REMATCH[2]} crashing=${BASH_REMATCH[3]}
	fi
	while IFS= read -r line; do
		[[ -z $line ]] && continue
		if ((CI_STRICT)) && is_strict_skip "$line"; then
			strict=$((strict + 1))
			skip_report+=("$name: ${line#\[SKIP\] } (a failure under CI=true)")
		else
			skips=$((skips + 1))
			skip_report+=("$name: ${line#\[SKIP\] }")
		fi
	done < <(skip_lines "$log")

	# Criterion's Failing already includes the crashes.
	local fails=$((failing + strict))
	if [[ -z $synth ]]; then
		fails=$((fails + 1))
		echo "  $name: died without a synthesis (exit $rc, 124 = timed out)"
	elif ((rc != 0 && failing == 0)); then
		fails=$((fails + 1))
		echo "  $name: exited $rc although no test failed"
	fi
	printf '  %-40s %4d passed, %d failed (%d crashed), %d skipped  %6ss\n' \
		"$name" "$passing" "$fails" "$crashing" "$((skips))" "$secs"
	if ((fails > 0)); then
		show_failures "$log"
		echo "      full log: $log"
		failed_names+=("$name")
	fi
	total_pass=$((total_pass + passing))
	total_fail=$((total_fail + fails))
	total_skip=$((total_skip + skips))
	binaries=$((binaries + 1))
}

# The suites that drive legacy-style programs run a second time with those
# programs built by musl-gcc and the musl build of the shim preloaded
# (SG_TEST_LIBC=musl: tests/lib/fixture.c), named musl/NAME.
MUSL_SUITES=(test_eintr test_signals test_accept test_log_writer test_eagain
	test_hostile test_set)

run_musl_group() {
	local jobs=$1 name chosen=()
	[[ ${SG_TEST_MUSL:-1} == 0 || -n ${SG_SANITIZE:-} ]] && return
	for name in "${MUSL_SUITES[@]}"; do
		[[ -x $BUILD/tests/integration/$name ]] && selected "musl/$name" &&
			chosen+=("$name")
	done
	((${#chosen[@]})) || return
	if [[ ! -f $BUILD/musl/libsockguard.so ]]; then
		if ((CI_STRICT)); then
			echo "  musl: $BUILD/musl/libsockguard.so was not built (musl-gcc missing)"
			total_fail=$((total_fail + 1))
			failed_names+=("musl")
		else
			skip_report+=("musl: $BUILD/musl/libsockguard.so not built (install musl-tools): the musl reruns did not run")
		fi
		return
	fi
	for name in "${chosen[@]}"; do
		SG_TEST_LIBC=musl run_binary "$BUILD/tests/integration/$name" \
			"musl/$name" "$jobs"
	done
}

run_group() {
	local kind=$1 jobs=$2 bin
	for bin in "$BUILD/tests/$kind"/*; do
		[[ -f $bin && -x $bin ]] || continue
		selected "$kind/${bin##*/}" || continue
		run_binary "$bin" "$kind/${bin##*/}" "$jobs"
	done
}

echo "Running tests from $BUILD/tests (logs in $LOGDIR)${FILTER:+, filter $FILTER}"
suite_start=$SECONDS
run_group unit "${SG_TEST_JOBS_UNIT:-2}"
run_group integration "${SG_TEST_JOBS_INTEG:-1}"
run_musl_group "${SG_TEST_JOBS_INTEG:-1}"

if ((${#skip_report[@]})); then
	echo "Skipped:"
	printf '  %s\n' "${skip_report[@]}"
fi
if ((${#failed_names[@]})); then
	echo "Failed binaries: ${failed_names[*]}"
fi
if ((binaries == 0)); then
	echo "no test binary matched under $BUILD/tests${FILTER:+ (filter $FILTER)}"
	total_fail=$((total_fail + 1))
fi
echo "Ran $binaries binaries in $((SECONDS - suite_start)) s"
echo "tests: $total_pass passed, $total_fail failed, $total_skip skipped"
((total_fail == 0))
