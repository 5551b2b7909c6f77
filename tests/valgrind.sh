#!/bin/bash
# Memcheck over test programs and real programs with the shim preloaded.
# Errors in the programs themselves (CPython's, say) are counted but not
# ours to fix; any error or definite leak whose stack mentions
# libsockguard.so fails the run.
#
# Uses the plain build ($BUILD, default build): an ASan-built shim cannot
# run under valgrind.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[[ $BUILD == build-san ]] && BUILD=build
SHIM=$(realpath "$BUILD/libsockguard.so" 2>/dev/null)
LOGDIR=$BUILD/valgrind-logs
TMP=$(mktemp -d /tmp/sgtest.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT
runs=0 failed=0 shim_errors=0

command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)"; exit 1; }
if [[ ! -f $SHIM || ! -x $BUILD/tests/progs/transparency ]]; then
	make -s BUILD="$BUILD" tests-build || exit 1
	SHIM=$(realpath "$BUILD/libsockguard.so")
fi
mkdir -p "$LOGDIR"
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)

# Prints the number of error blocks, the number whose stack holds a
# frame of the shim: its object name, or (full paths, with debug info) a
# source file under shim/ or policy/, and the deliberate ones.  Blocks end at a bare "==PID== " line.
# tests/progs/transparency hands bad pointers to system calls on purpose,
# to see EFAULT come back unchanged; memcheck rightly reports each one,
# with the shim's forwarding wrapper in the stack.  Those are not counted.
SRC=$(pwd)
count_errors() {
	awk -v src="$SRC" '
		/^==[0-9]+== *$/ { flush(); next }
		{ block = block "\n" $0 }
		function flush() {
			if (block ~ /Syscall param/ && index(block, "/tests/progs/transparency.c"))
				deliberate++
			else if (block ~ /(Invalid|uninitialised|Uninitialised|Mismatched|definitely lost|Syscall param|Source and destination overlap|Invalid free)/) {
				total++
				if (index(block, "libsockguard") || index(block, src "/shim/") ||
				    index(block, src "/policy/"))
					ours++
			}
			block = ""
		}
		END { flush(); print total + 0, ours + 0, deliberate + 0 }' "$1"
}

# run_vg NAME STATUS CMD...: runs CMD under memcheck with the shim
# preloaded; STATUS is the exit status CMD gives without valgrind.
run_vg() {
	local name=$1 want=$2 log=$LOGDIR/$1.log rc total ours probes
	shift 2
	LD_PRELOAD=$SHIM SOCKGUARD_OPTIONS=log=off PYTHONMALLOC=malloc \
		timeout 300 valgrind -q --error-exitcode=99 --trace-children=no \
		--leak-check=full --show-leak-kinds=definite \
		--errors-for-leak-kinds=definite --fullpath-after= \
		--log-file="$log" "$@" \
		>"$log.out" 2>&1 </dev/null
	rc=$?
	read -r total ours probes < <(count_errors "$log")
	runs=$((runs + 1))
	shim_errors=$((shim_errors + ours))
	printf '  %-22s exit %-3d %3d errors, %d attributed to libsockguard.so%s\n' \
		"$name" "$rc" "$total" "$ours" \
		"$( ((probes)) && echo " ($probes deliberate EFAULT probes not counted)")"
	if ((ours > 0)); then
		grep -m 40 -B2 -A12 -e libsockguard -e "$SRC/shim/" "$log" |
			sed 's/^/      /'
	fi
	if ((rc != want && rc != 99)); then
		failed=$((failed + 1))
		echo "      expected exit $want; output in $log.out"
	fi
}

# A closed port: the error paths of connect and the log writer run too.
closed_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

echo "valgrind memcheck with $SHIM preloaded (logs in $LOGDIR)"
run_vg transparency 0 "$BUILD/tests/progs/transparency"
run_vg python3-echo 0 "$PY" -c '
import socket, threading
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
def serve():
    c, _ = srv.accept()
    while (d := c.recv(65536)): c.sendall(d)
    c.close()
threading.Thread(target=serve, daemon=True).start()
cli = socket.create_connection(srv.getsockname())
cli.sendall(b"x" * 100000); cli.shutdown(socket.SHUT_WR)
n = 0
while (d := cli.recv(65536)): n += len(d)
print(n)'

mkdir -p "$TMP/www" && echo hello >"$TMP/www/hello.txt"
port=$(closed_port)
"$PY" -m http.server --bind 127.0.0.1 "$port" --directory "$TMP/www" >/dev/null 2>&1 &
for _ in $(seq 50); do curl -s --noproxy '*' "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
run_vg curl-served 0 curl -sS --noproxy '*' "http://127.0.0.1:$port/hello.txt"
run_vg curl-refused 7 curl -sS --noproxy '*' "http://127.0.0.1:$(closed_port)/"

sport=$(closed_port)
socat "TCP-LISTEN:$sport,bind=127.0.0.1,reuseaddr,fork" PIPE &
sleep 0.3
echo "hello socat" >"$TMP/in.txt"
run_vg socat-client 0 socat -t 2 "OPEN:$TMP/in.txt" "TCP:127.0.0.1:$sport"

# A writer that forgot O_NONBLOCK, to a reader that starts late: the
# shim waits out EAGAIN and completes each short write (the slow path's
# vector copies for writev and sendmsg).
rport=$(closed_port)
"$PY" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
for _ in range(3):
    c, _ = s.accept(); time.sleep(0.3)
    while c.recv(65536): pass
    c.close()' "$rport" &
sleep 0.3
for mode in write writev sendmsg; do
	run_vg "legacy-$mode" 0 "$BUILD/tests/progs/ea_legacy_writer" "$rport" "$mode" 4194304
done

echo "valgrind: $runs runs, $shim_errors errors attributed to libsockguard.so, $failed programs failed"
((shim_errors == 0 && failed == 0))
