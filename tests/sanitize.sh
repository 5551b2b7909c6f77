#!/bin/bash
# `make test-sanitize`: the whole test suite again, with sanitizers.
#   - the tool, the Criterion tests and the test programs: ASan + UBSan;
#   - the preloaded shim: UBSan only.  It is loaded into programs that are
#     not instrumented (python3, curl, nginx...), where ASan's runtime cannot
#     be first in the process; its memory errors are covered by valgrind
#     memcheck over real programs (tests/valgrind.sh) instead;
#   - the shim's lock-free parts (the rate limit, live settings) under TSan.
# Every finding fails the run (no recovery, halt on error).
set -u
cd "$(dirname "$0")/.."
B=${SAN_BUILD:-build-san}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
SHIM_SAN="-fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

make -s BUILD="$B" SAN="$SAN" SHIM_SAN="$SHIM_SAN" OPT="-O1 -g" tests-build || exit 1

# The shim is preloaded ahead of ASan's runtime in instrumented test
# programs; it interposes no allocator, so the order check is not needed.
export ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
BUILD="$B" SG_SANITIZE=1 tests/run-tests.sh
rc_asan=$?

echo "== TSan: the shim's lock-free parts under threads (tests/tsan/)"
rc_tsan=0
mkdir -p "$B/tsan"
for src in tests/tsan/*.c; do
	t=$(basename "$src" .c)
	# The policy code is linked in for the programs that include shim
	# files calling it (tsan_live); the others do not use it.
	cc -std=gnu11 -D_GNU_SOURCE -O1 -g -fsanitize=thread -o "$B/tsan/$t" "$src" \
		policy/*.c -lpthread || { rc_tsan=1; continue; }
	TSAN_OPTIONS=halt_on_error=1 "$B/tsan/$t" || rc_tsan=1
done

echo "== valgrind memcheck over real programs under the shim"
BUILD="$B" tests/valgrind.sh
rc_vg=$?

echo "test-sanitize: asan+ubsan suite rc=$rc_asan, tsan rc=$rc_tsan, valgrind rc=$rc_vg"
[ $rc_asan = 0 ] && [ $rc_tsan = 0 ] && [ $rc_vg = 0 ]
