#!/bin/bash
# `make demo`: sockguard's main job in under a minute, no root, loopback only.
# A legacy server dies of three classic socket faults; then the same server,
# unchanged, runs under `sockguard run` and survives them, while the
# classified events are printed as they arrive; `sockguard report` sums up.
set -u
BUILD=${BUILD:-build}
B=$(cd "$BUILD" && pwd)
DIR=$(mktemp -d /tmp/sockguard-demo.XXXXXX)
# strace may leave its tracee running when it is killed: every server is
# found by the temporary directory in its command line.
stop_servers() { pkill -f "legacy_server $DIR/port" 2>/dev/null; }
trap 'stop_servers; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT

say() { printf '%s\n' "$*"; }
pause() { sleep "${DEMO_PAUSE:-0.3}"; }
have_strace() { command -v strace >/dev/null 2>&1 && strace -qq -o /dev/null true 2>/dev/null; }

# Starts the server (under the given launcher words) and waits for its port.
start_server() {
	rm -f "$DIR/port"
	"$@" "$B/demo/legacy_server" "$DIR/port" >"$DIR/server.out" 2>"$DIR/server.err" &
	SERVER=$!
	for _ in $(seq 100); do [ -s "$DIR/port" ] && break; sleep 0.05; done
	PORT=$(cat "$DIR/port" 2>/dev/null)
}

# How the server ended, in words.
server_fate() {
	local st
	if kill -0 "$SERVER" 2>/dev/null; then echo "still running"; return; fi
	wait "$SERVER"; st=$?
	if [ "$st" -gt 128 ]; then
		echo "KILLED by signal $(kill -l $((st - 128)))"
	else
		echo "DIED: $(grep -v 'closing that connection' "$DIR/server.err" | tail -1)"
	fi
}

request() { "$B/demo/fault_client" "$PORT" "$1" 2>&1 | sed 's/^/    client: /'; }

fault_eintr() {
	say "  fault 1 - a signal interrupts accept() (EINTR):"
	say "    the server forks a helper after each request; its SIGCHLD arrives"
	say "    while the server waits in accept(), installed without SA_RESTART."
	request normal; sleep 0.4; request normal
}

fault_sigpipe() {
	say "  fault 2 - the client hangs up before the reply (EPIPE, SIGPIPE):"
	say "    the peer's RST makes the server's second write() fail; SIGPIPE's"
	say "    default action kills the process."
	request hangup; sleep 0.4; request normal
}

fault_aborted() {
	say "  fault 3 - a connection is aborted in the accept queue (ECONNABORTED):"
	say "    injected into the server's accept() with strace, as the kernel does"
	say "    it only rarely."
	request normal; request normal
}

# The third fault needs strace to inject ECONNABORTED into accept.
inject() {
	strace -f -qq -o /dev/null -e trace=accept,accept4 \
		-e inject=accept,accept4:error=ECONNABORTED:when=2 "$@"
}

round() {	# round LAUNCHER... : run each fault against a server
	local fault
	for fault in eintr sigpipe aborted; do
		if [ "$fault" = aborted ] && ! have_strace; then
			say "  fault 3 - skipped: install strace (apt-get install strace) to inject ECONNABORTED"
			continue
		fi
		if [ "$fault" = aborted ]; then start_server inject "$@"; else start_server "$@"; fi
		[ -n "$PORT" ] || { say "  (server did not start)"; cat "$DIR/server.err"; continue; }
		"fault_$fault"; sleep 0.3
		say "    => server: $(server_fate)"; pause
		kill "$SERVER" 2>/dev/null; stop_servers; wait "$SERVER" 2>/dev/null
		say ""
	done
}

say "sockguard demo"
say "=============="
say "A small legacy server (tools/demo/legacy_server.c) checks its errors but"
say "treats any accept() or read() error as fatal and never thought about SIGPIPE."
say ""
say "Round 1: the server on its own"
say "------------------------------"
round env
say "Round 2: the same binary under 'sockguard run' (nothing rebuilt)"
say "-----------------------------------------------------------------"
say "sockguard's events arrive on a local socket (log=unix:...) and are shown as"
say "'| ...' lines the moment the shim sends them."
"$B/demo/logrecv" "$DIR/log.sock" "$DIR/events.log" &
for _ in $(seq 50); do [ -S "$DIR/log.sock" ] && break; sleep 0.05; done
round "$B/sockguard" run -o "log=unix:$DIR/log.sock" --
sleep 0.3
say "Under sockguard the server survived all three faults: accept() was retried"
say "after EINTR and ECONNABORTED, and SIGPIPE became a plain EPIPE error that"
say "the server handled by closing that one connection."
say ""
say "Round 3: what an operator sees - 'sockguard report' over those events"
say "---------------------------------------------------------------------"
"$B/sockguard" report --top 3 "$DIR/events.log" | sed -n '1,40p'
