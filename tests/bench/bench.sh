#!/usr/bin/env bash
# make bench: what sockguard costs, measured side by side in one run.
#
# Every figure is a comparison made on the spot: the same program without the
# shim (baseline) and with LD_PRELOAD=$BUILD/libsockguard.so, runs interleaved
# A/B/C with the order rotated each round, the median of the rounds kept, and
# the ratio of medians printed.  Instruction counts come from callgrind, which
# is stable on a noisy machine.  The table is printed and written to
# tests/bench/results.md (or $BENCH_OUT) with the date, machine and commit.
#
# It reports and never fails: a missing tool turns its row into a note.
# BENCH_QUICK=1 makes a short run (under a minute); the full run takes about
# five minutes on two cores.  BENCH_ONLY="SECTION..." runs only the named
# sections (pingpong instructions musl redis nginx startup errors report).
set -u
export LC_ALL=C
cd "$(dirname "$0")/../.." || exit 0
unset LD_PRELOAD SOCKGUARD_OPTIONS SOCKGUARD_CONFIG

BUILD=${BUILD:-build}
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
OUT=${BENCH_OUT:-tests/bench/results.md}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
LIB=$BUILD/libsockguard.so
TOOL=$BUILD/sockguard
P=$BUILD/tests/progs
# The musl build and the musl builds of the test programs (make with musl-gcc).
MUSL_LIB=$BUILD/musl/libsockguard.so
MP=$BUILD/musl/tests/progs
POLICY50=$PWD/tests/bench/policy50.conf
# Without a shim that loads, every "with sockguard" figure would silently be
# a second baseline.
if [ ! -f "$LIB" ] || LD_PRELOAD=$LIB /bin/true 2>&1 | grep -q "ld.so"; then
	echo "bench: $LIB is missing or cannot be preloaded; nothing to compare" >&2
	exit 0
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockguard-bench.XXXXXX") || exit 0
T_START=$SECONDS
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

# Sizes: the full run, or BENCH_QUICK.
if [ -n "$QUICK" ]; then
	PP_N=20000 PP_R=3 CG_N1=300 CG_N2=900 SRV_R=1 REDIS_N=20000 WRK_D=2
	STRACE_REDIS_N=5000
	SP_N=60 SP_R=5 ERR_N=20000 ERR_R=3 REP_N=500000
else
	PP_N=200000 PP_R=5 CG_N1=1000 CG_N2=3000 SRV_R=3 REDIS_N=200000 WRK_D=10
	STRACE_REDIS_N=20000
	SP_N=200 SP_R=10 ERR_N=100000 ERR_R=5 REP_N=5000000
fi

BG_PIDS=()
cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() { printf '[bench %3ds] %s\n' $((SECONDS - T_START)) "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- plumbing

: >"$TMP/empty.conf"
SINK="$TMP/sink.sock"

# The environment of one configuration, as a command prefix in ENV.  The shim
# always gets an empty policy file unless the configuration names one, so that
# a host's /etc/sockguard.conf does not change the figures.
cfg_env() {
	ENV=(env LD_PRELOAD="$LIB" SOCKGUARD_CONFIG="$TMP/empty.conf")
	case $1 in
	base) ENV=(env) ;;
	harden) ;;
	observe) ENV+=(SOCKGUARD_OPTIONS=mode=observe) ;;
	logoff) ENV+=(SOCKGUARD_OPTIONS=log=off) ;;
	logunix) ENV+=(SOCKGUARD_OPTIONS="log=unix:$SINK") ;;
	mbase) ENV=(env) ;;
	mharden) ENV=(env LD_PRELOAD="$MUSL_LIB" SOCKGUARD_CONFIG="$TMP/empty.conf") ;;
	esac
}
# Runs "$@" under configuration $1.  Servers are started with cfg_env and a
# plain command instead, so that $! is the server itself.
under() {
	cfg_env "$1"
	shift
	"${ENV[@]}" "$@"
}

# Samples are kept one per line in $TMP/s.KEY.CFG.
rec() { echo "$3" >>"$TMP/s.$1.$2"; }
med() {
	[ -s "$TMP/s.$1.$2" ] || return 0
	sort -g "$TMP/s.$1.$2" | awk '{ a[NR] = $1 }
		END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# The i-th configuration of round r, rotated so that none always runs first.
rot() {	# rot ROUND INDEX CFG...
	local r=$1 i=$2
	shift 2
	local a=("$@")
	echo "${a[(r + i) % ${#a[@]}]}"
}

ROWS=()
NOTES=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); }
# A row comparing medians of times (lower is better), for CPU time and wall
# time side by side: ratio with/base of each.  The CPU time counts only what
# the measured processes themselves ran, so another load on the machine moves
# it far less than the wall clock; the wall clock is what the target names.
row_dual() {	# WHAT KEY BASECFG CFG SCALE UNIT TARGET [added]
	local b w bw ww cell_b cell_w ratio
	b=$(med "$2.cpu" "$3") w=$(med "$2.cpu" "$4")
	bw=$(med "$2.wall" "$3") ww=$(med "$2.wall" "$4")
	if [ -z "$b" ] || [ -z "$w" ] || [ -z "$bw" ] || [ -z "$ww" ]; then
		row "$1" "${bw:-failed}" "${ww:-failed (see log)}" "" "$7"
		return
	fi
	cell_b=$(calc "CPU %.3f · wall %.3f $6" "$b * $5, $bw * $5")
	cell_w=$(calc "CPU %.3f · wall %.3f $6" "$w * $5, $ww * $5")
	if [ "${8:-}" = added ]; then
		ratio=$(calc "CPU %.2f (%+.3f $6) · wall %.2f (%+.3f $6)" \
			"$w / $b, ($w - $b) * $5, $ww / $bw, ($ww - $bw) * $5")
	else
		ratio=$(calc "CPU %.3f · wall %.3f" "$w / $b, $ww / $bw")
	fi
	row "$1" "$cell_b" "$cell_w" "$ratio" "$7"
	NOTES+=("$1: rounds spread (max-min)/median, CPU: baseline $(noise "$2.cpu" "$3"), with $(noise "$2.cpu" "$4"); wall: baseline $(noise "$2.wall" "$3"), with $(noise "$2.wall" "$4"). Ratio of the fastest rounds (other load only ever adds time): CPU $(calc %.3f "$(minv "$2.cpu" "$4") / $(minv "$2.cpu" "$3")"), wall $(calc %.3f "$(minv "$2.wall" "$4") / $(minv "$2.wall" "$3")").")
}
minv() { sort -g "$TMP/s.$1.$2" | head -1; }
# Records the "WALL CPU" line a bench program printed.
rec2() {	# KEY CFG "WALL CPU"
	local w c
	read -r w c <<<"$3"
	[ -n "$c" ] || return 1
	rec "$1.wall" "$2" "$w"
	rec "$1.cpu" "$2" "$c"
}
# How far apart the rounds of one configuration were, as a percentage.
noise() {	# KEY CFG
	sort -g "$TMP/s.$1.$2" | awk '{ a[NR] = $1 } END {
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "%.1f%% (%d rounds)", (m > 0 ? 100 * (a[NR] - a[1]) / m : 0), NR }'
}

free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 12000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
	echo 0
}
wait_port() {	# PORT PID: up to 10 s for a listener, while PID lives
	local i
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# CPU ticks (user + system) used so far by the given processes.
proc_ticks() {
	local p t=0 x
	for p in "$@"; do
		x=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null)
		t=$((t + ${x:-0}))
	done
	echo "$t"
}
TICK=$(getconf CLK_TCK 2>/dev/null || echo 100)
stop_pid() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# Both ends of the ping-pong share one CPU: the round trip is then bound by
# the CPU and not by cross-CPU wake-up latency, which is far noisier.  The
# servers run on that CPU too, and their load generators on the others, so
# that neither side steals the other's core from one round to the next.
PIN=() PIN_CLIENT=()
if have taskset; then
	PIN=(taskset -c $(($(nproc) - 1)))
	[ "$(nproc)" -gt 1 ] && PIN_CLIENT=(taskset -c 0-$(($(nproc) - 2)))
fi

# ------------------------------------------------------ 1. success path

bench_pingpong() {
	local v t r k cfg variants=(unix:sr unix:rw tcp:sr tcp:rw)
	note "1. ping-pong: ${#variants[@]} variants x 3 configurations x $PP_R rounds of $PP_N round trips"
	for ((r = 0; r < PP_R; r++)); do
		for v in "${variants[@]}"; do
			for k in 0 1 2; do
				cfg=$(rot $r $k base harden observe)
				t=$(under "$cfg" "${PIN[@]}" "$P/bench_pingpong" "${v%:*}" "${v#*:}" "$PP_N") &&
					rec2 "pp.$v" "$cfg" "$t"
			done
		done
	done
	local name
	for v in "${variants[@]}"; do
		case $v in
		unix:sr) name="socketpair send/recv" ;;
		unix:rw) name="socketpair write/read" ;;
		tcp:sr) name="loopback TCP send/recv" ;;
		tcp:rw) name="loopback TCP write/read" ;;
		esac
		row_dual "ping-pong $name, harden (µs/round trip)" "pp.$v" base harden \
			"1e-3 / $PP_N" "µs" "≤ 1.02"
		row_dual "ping-pong $name, observe (µs/round trip)" "pp.$v" base observe \
			"1e-3 / $PP_N" "µs" "≤ 1.02"
	done
}

# ----------------------------------------------- 2. instructions per call

# Total instructions of one bench_calls loop under callgrind, collected only
# inside bench_fam_FAMILY (the constructor and the setup are not counted).
# The m* configurations run the musl build of bench_calls.
cg_ir() {	# CFG FAMILY N
	local f="$TMP/cg.$1.$2.$3" prog=$P/bench_calls
	case $1 in m*) prog=$MP/bench_calls ;; esac
	rm -f "$f"
	under "$1" valgrind --tool=callgrind --callgrind-out-file="$f" \
		--toggle-collect="bench_fam_$2" "$prog" "$2" "$3" \
		>/dev/null 2>"$TMP/cg.err" || { cat "$TMP/cg.err" >&2; return 1; }
	awk '/^totals:/ { print $2; t = 1; exit } /^summary:/ { s = $2 }
		END { if (!t && s != "") print s }' "$f"
}
# Instructions per call: the difference of two loop lengths removes the
# fixed costs (lazy binding, first-use classification of a descriptor).
cg_per_call() {	# CFG FAMILY CALLS_PER_ITERATION
	local a b
	a=$(cg_ir "$1" "$2" "$CG_N1") && b=$(cg_ir "$1" "$2" "$CG_N2") || return 1
	[ -n "$a" ] && [ -n "$b" ] || return 1
	calc %.2f "($b - $a) / ($CG_N2 - $CG_N1) / $3"
}

# What the shim's own functions cost per iteration of a family's loop: the
# self cost of each function of libsockguard.so, the difference between the
# two loop lengths, largest first ("name Ir" per line).
cg_shim_self() {	# CFG FAMILY
	local f
	have callgrind_annotate || return 0
	for f in "$TMP/cg.$1.$2.$CG_N1" "$TMP/cg.$1.$2.$CG_N2"; do
		[ -s "$f" ] || return 0
		callgrind_annotate --threshold=100 "$f" 2>/dev/null |
			awk '/libsockguard\.so\]$/ { ir = $1; gsub(",", "", ir); sub(/^[^)]*\) */, ""); sub(/ \[.*/, ""); sub(/.*:/, ""); print $0, ir }' \
				>"$f.self"
	done
	awk -v d=$((CG_N2 - CG_N1)) 'FNR == NR { a[$1] = $2; next }
		{ x = ($2 - a[$1]) / d; if (x >= 0.5) printf "%s %.1f\n", $1, x }' \
		"$TMP/cg.$1.$2.$CG_N1.self" "$TMP/cg.$1.$2.$CG_N2.self" | sort -k2,2gr
}
# One note per family: where the extra instructions go.
cg_note() {	# WHAT CFG FAMILY
	local top
	top=$(cg_shim_self "$2" "$3" | head -6 | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
	[ -n "$top" ] && NOTES+=("$1: Ir per loop iteration in the shim's own functions (self cost): $top.")
}

CONNECT_CYCLE_EXTRA=	# extra Ir of a successful connect+close, for the error path
# One row per family: baseline configuration BASE against WITH, the rows
# named with PREFIX.
cg_rows() {	# BASE WITH PREFIX
	local spec fam calls what b w
	for spec in "sendrecv 2 send/recv" "readwrite 2 write/read" "poll 1 poll" \
		"epoll 1 epoll_wait" "accept 2 accept (+close)" \
		"connect 2 connect (+close)"; do
		read -r fam calls what <<<"$spec"
		what="$3$what"
		b=$(cg_per_call "$1" "$fam" "$calls") || b=
		w=$(cg_per_call "$2" "$fam" "$calls") || w=
		if [ -n "$b" ] && [ -n "$w" ]; then
			row "instructions per call: $what (Ir)" "$b" "$w" \
				"$(calc %+.1f "$w - $b")" "≤ +25"
			cg_note "$what" "$2" "$fam"
			[ "$fam$2" = connectharden ] &&
				CONNECT_CYCLE_EXTRA=$(calc %.1f "($w - $b) * $calls")
		else
			row "instructions per call: $what (Ir)" "${b:-failed}" "${w:-failed}" "" "≤ +25"
		fi
	done
}

bench_instructions() {
	if ! have valgrind; then
		row "instructions per call (callgrind)" "valgrind not installed" "" "" "≤ +25"
		return
	fi
	note "2. callgrind: extra instructions per call, loops of $CG_N1 and $CG_N2"
	cg_rows base harden ""
}

# The same success paths in a musl program (bench_calls built by musl-gcc)
# with the musl build: its baseline is musl's own libc.
bench_musl() {
	if ! have valgrind; then
		row "instructions per call, musl (callgrind)" "valgrind not installed" "" "" "≤ +25"
		return
	fi
	if [ ! -f "$MUSL_LIB" ] || [ ! -x "$MP/bench_calls" ]; then
		row "instructions per call, musl (callgrind)" \
			"no musl build (install musl-tools, then make)" "" "" "≤ +25"
		return
	fi
	note "2b. callgrind: the same in a musl program with the musl build"
	cg_rows mbase mharden "musl, "
}

# ----------------------------------------------------------- 3. servers

# Starts a server under configuration CFG on a free port, pinned, and waits
# for it to listen: SRV_PID and SRV_PORT, or status 1.
start_redis() {	# CFG
	SRV_PORT=$(free_port)
	mkdir -p "$TMP/redis"
	cfg_env "$1"
	"${ENV[@]}" "${PIN[@]}" redis-server --port "$SRV_PORT" --bind 127.0.0.1 \
		--save "" --appendonly no --dir "$TMP/redis" --daemonize no \
		--logfile "$TMP/redis/redis.log" >/dev/null 2>&1 &
	SRV_PID=$!
	BG_PIDS+=("$SRV_PID")
	wait_port "$SRV_PORT" "$SRV_PID" && return 0
	note "redis-server ($1) did not start"
	stop_pid "$SRV_PID"
	return 1
}
load_redis() {	# N: SET and GET, N requests each, output in $TMP/load.out
	"${PIN_CLIENT[@]}" redis-benchmark -p "$SRV_PORT" -q -t set,get -n "$1" -P 1 -c 50 \
		2>/dev/null | tr '\r' '\n' >"$TMP/load.out"
	echo $((2 * $1))
}
start_nginx() {	# CFG
	local dir="$TMP/nginx"
	SRV_PORT=$(free_port)
	nginx_conf "$dir" "$SRV_PORT"
	cfg_env "$1"
	"${ENV[@]}" "${PIN[@]}" "$NGINX" -p "$dir" -c "$dir/nginx.conf" \
		-e "$dir/logs/error.log" >/dev/null 2>&1 &
	SRV_PID=$!
	BG_PIDS+=("$SRV_PID")
	if wait_port "$SRV_PORT" "$SRV_PID"; then
		sleep 0.2	# the worker starts after the master listens
		return 0
	fi
	note "nginx ($1) did not start: $(tail -1 "$dir/logs/error.log" 2>/dev/null)"
	stop_pid "$SRV_PID"
	return 1
}
load_nginx() {	# SECONDS: wrk output in $TMP/load.out; prints the request count
	"${PIN_CLIENT[@]}" wrk -t2 -c50 -d"$1s" "http://127.0.0.1:$SRV_PORT/index.html" \
		>"$TMP/load.out" 2>/dev/null
	awk '/ requests in / { print $1 }' "$TMP/load.out"
}

# System calls per request made by the server (all its processes and
# threads), counted by strace -c over a short load: a count the machine's
# load cannot blur, showing whether the shim adds calls on the hot path.
server_syscalls() {	# NAME CFG LOAD_ARG
	local n pids
	"start_$1" "$2" || return 1
	pids=$(for p in "$SRV_PID" $(pgrep -P "$SRV_PID"); do printf -- '-p %s ' "$p"; done)
	# shellcheck disable=SC2086
	strace -f -c -o "$TMP/strace.out" $pids 2>/dev/null &
	local spid=$!
	sleep 0.5
	n=$("load_$1" "$3")
	sleep 0.2
	kill -INT "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	stop_pid "$SRV_PID"
	[ -n "$n" ] && [ "$n" -gt 0 ] || return 1
	# "syscall calls-per-request" lines, kept for the difference note.
	# strace -c columns: % time, seconds, usecs/call, calls, [errors,] syscall.
	awk -v n="$n" '(NF == 5 || NF == 6) && $1 ~ /^[0-9.]+$/ && $4 ~ /^[0-9]+$/ {
		printf "%s %.4f\n", $NF, $4 / n }' "$TMP/strace.out" >"$TMP/sys.$1.$2"
	awk '$1 == "total" { print $2 }' "$TMP/sys.$1.$2"
}
row_syscalls() {	# WHAT NAME LOAD_ARG
	have strace || return 0
	local b w
	b=$(server_syscalls "$2" base "$3") || b=
	w=$(server_syscalls "$2" harden "$3") || w=
	if [ -n "$b" ] && [ -n "$w" ]; then
		row "$1" "$(calc %.3f "$b")" "$(calc %.3f "$w")" "$(calc %.3f "$w / $b")" "(report)"
		local d
		d=$(awk 'FNR == NR { a[$1] = $2; next } $1 != "total" {
				x = $2 - a[$1]; if (x > 0.001 || x < -0.001) printf "%s %+.3f\n", $1, x }' \
			"$TMP/sys.$2.base" "$TMP/sys.$2.harden" | sort -k2,2gr | head -5 |
			awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
		NOTES+=("$1: per request, with sockguard minus baseline: ${d:-no difference above 0.001}.")
	else
		row "$1" "${b:-failed}" "${w:-failed}" "" "(report)"
	fi
}

bench_redis() {
	if ! have redis-server || ! have redis-benchmark; then
		row "redis SET/GET (requests/s)" "redis-server or redis-benchmark not installed" "" "" "≥ 0.98"
		return
	fi
	note "3. redis: -n $REDIS_N -c 50 -P 1, $SRV_R rounds each"
	local r k cfg t0 t1 n
	for ((r = 0; r < SRV_R; r++)); do
		for k in 0 1; do
			cfg=$(rot $r $k base harden)
			start_redis "$cfg" || continue
			t0=$(proc_ticks "$SRV_PID")
			n=$(load_redis "$REDIS_N")
			t1=$(proc_ticks "$SRV_PID")
			stop_pid "$SRV_PID"
			awk '/^SET: .* requests per second/ { print $2 }' "$TMP/load.out" |
				while read -r x; do rec redis.set "$cfg" "$x"; done
			awk '/^GET: .* requests per second/ { print $2 }' "$TMP/load.out" |
				while read -r x; do rec redis.get "$cfg" "$x"; done
			rec redis.cpu "$cfg" "$(calc %.4f "($t1 - $t0) * 1e6 / $TICK / $n")"
		done
	done
	row_tput "redis-benchmark SET (requests/s)" redis.set
	row_tput "redis-benchmark GET (requests/s)" redis.get
	row_cpu "redis-server CPU per request (µs)" redis.cpu
	note "3. redis: system calls per request under strace"
	row_syscalls "redis-server system calls per request (strace)" redis "$STRACE_REDIS_N"
}

# A throughput row: higher is better, ratio with/base.
row_tput() {	# WHAT KEY
	local b w
	b=$(med "$2" base) w=$(med "$2" harden)
	if [ -z "$b" ] || [ -z "$w" ]; then
		row "$1" "${b:-failed}" "${w:-failed}" "" "≥ 0.98"
		return
	fi
	row "$1" "$(calc %.0f "$b")" "$(calc %.0f "$w")" "$(calc %.3f "$w / $b")" "≥ 0.98"
	NOTES+=("$1: rounds spread (max-min)/median: baseline $(noise "$2" base), with sockguard $(noise "$2" harden).")
}

# The server's own CPU time per request: less blurred by other load than
# its throughput.  Target: the inverse of the throughput target.
row_cpu() {	# WHAT KEY
	local b w
	b=$(med "$2" base) w=$(med "$2" harden)
	if [ -z "$b" ] || [ -z "$w" ] || [ "$b" = 0 ]; then
		row "$1" "${b:-failed}" "${w:-failed}" "" "≤ 1.02"
		return
	fi
	row "$1" "$(calc %.2f "$b")" "$(calc %.2f "$w")" "$(calc %.3f "$w / $b")" "≤ 1.02"
	NOTES+=("$1: rounds spread (max-min)/median: baseline $(noise "$2" base), with sockguard $(noise "$2" harden); from /proc/PID/stat ticks of 1/$TICK s.")
}

nginx_conf() {	# DIR PORT
	mkdir -p "$1/html" "$1/logs"
	head -c 450 /dev/zero | tr '\0' 'x' | fold -w 75 >"$1/html/index.html"
	cat >"$1/nginx.conf" <<-EOF
		daemon off;
		master_process on;
		worker_processes 1;
		pid $1/nginx.pid;
		error_log $1/logs/error.log warn;
		events { worker_connections 1024; }
		http {
		    access_log off;
		    client_body_temp_path $1/body;
		    proxy_temp_path $1/proxy;
		    fastcgi_temp_path $1/fastcgi;
		    uwsgi_temp_path $1/uwsgi;
		    scgi_temp_path $1/scgi;
		    server {
		        listen 127.0.0.1:$2;
		        root $1/html;
		    }
		}
	EOF
}

bench_nginx() {
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
	if [ ! -x "$NGINX" ] || ! have wrk; then
		row "nginx static file, wrk (requests/s)" "nginx or wrk not installed" "" "" "≥ 0.98"
		return
	fi
	note "3. nginx: wrk -t2 -c50 -d${WRK_D}s, $SRV_R rounds each"
	local r k cfg x n t0 t1
	for ((r = 0; r < SRV_R; r++)); do
		for k in 0 1; do
			cfg=$(rot $r $k base harden)
			start_nginx "$cfg" || continue
			t0=$(proc_ticks "$SRV_PID" $(pgrep -P "$SRV_PID"))
			n=$(load_nginx "$WRK_D")
			t1=$(proc_ticks "$SRV_PID" $(pgrep -P "$SRV_PID"))
			stop_pid "$SRV_PID"
			x=$(awk '/^Requests\/sec:/ { print $2 }' "$TMP/load.out")
			[ -n "$x" ] && rec nginx "$cfg" "$x"
			[ -n "$n" ] && [ "$n" -gt 0 ] &&
				rec nginx.cpu "$cfg" "$(calc %.4f "($t1 - $t0) * 1e6 / $TICK / $n")"
		done
	done
	row_tput "nginx static file, wrk -c50 (requests/s)" nginx
	row_cpu "nginx CPU per request, master + worker (µs)" nginx.cpu
	note "3. nginx: system calls per request under strace"
	row_syscalls "nginx system calls per request (strace)" nginx 2
}

# ----------------------------------------------------------- 4. start-up

bench_startup() {
	local cfgs=(base harden policy off) r k cfg t env
	# The floor: what preloading any library costs, measured with an empty one.
	if "${CC:-cc}" -shared -fPIC -o "$TMP/empty.so" -x c - <<<"int sg_bench_empty;" \
		2>/dev/null; then
		cfgs+=(empty)
	fi
	note "4. start-up: /bin/true, ${#cfgs[@]} configurations x $SP_R rounds of $SP_N starts"
	for ((r = 0; r < SP_R; r++)); do
		for ((k = 0; k < ${#cfgs[@]}; k++)); do
			cfg=$(rot $r $k "${cfgs[@]}")
			case $cfg in
			base) env=() ;;
			harden) env=(-e "LD_PRELOAD=$LIB" -e "SOCKGUARD_CONFIG=$TMP/empty.conf") ;;
			policy) env=(-e "LD_PRELOAD=$LIB" -e "SOCKGUARD_CONFIG=$POLICY50") ;;
			off) env=(-e "LD_PRELOAD=$LIB" -e "SOCKGUARD_CONFIG=$TMP/empty.conf"
				-e "SOCKGUARD_OPTIONS=mode=off") ;;
			empty) env=(-e "LD_PRELOAD=$TMP/empty.so") ;;
			esac
			t=$("$P/bench_spawn" "$SP_N" "${env[@]}" -- /bin/true) && rec2 spawn "$cfg" "$t"
		done
	done
	row_dual "start-up of /bin/true (ms per start)" spawn base harden 1e-6 ms \
		"≤ +0.2 ms" added
	row_dual "start-up of /bin/true, 50-line policy (ms per start)" spawn base policy \
		1e-6 ms "≤ +0.2 ms" added
	row_dual "start-up of /bin/true, mode=off (ms per start)" spawn base off \
		1e-6 ms "(report)" added
	[ -f "$TMP/empty.so" ] &&
		row_dual "start-up of /bin/true, an empty preloaded library: the floor (ms per start)" \
			spawn base empty 1e-6 ms "(reference)" added
	have valgrind && startup_instructions
}

# The same start-up in instructions, which the machine's load cannot blur,
# and the functions outside the dynamic loader that cost the most in it.
startup_instructions() {
	local cfg b w p f top
	for cfg in base harden policy; do
		f="$TMP/cg.start.$cfg"
		case $cfg in
		policy) env LD_PRELOAD="$LIB" SOCKGUARD_CONFIG="$POLICY50" valgrind \
			--tool=callgrind --callgrind-out-file="$f" /bin/true >/dev/null 2>&1 ;;
		*) under "$cfg" valgrind --tool=callgrind --callgrind-out-file="$f" \
			/bin/true >/dev/null 2>&1 ;;
		esac
	done
	b=$(awk '/^totals:/ { print $2 }' "$TMP/cg.start.base")
	w=$(awk '/^totals:/ { print $2 }' "$TMP/cg.start.harden")
	p=$(awk '/^totals:/ { print $2 }' "$TMP/cg.start.policy")
	[ -n "$b" ] && [ -n "$w" ] || return 0
	row "start-up of /bin/true, instructions (Ir per process)" "$b" "$w" \
		"$(calc "%.2f (%+d)" "$w / $b, $w - $b")" "(report)"
	[ -n "$p" ] && row "start-up of /bin/true, 50-line policy, instructions (Ir per process)" \
		"$b" "$p" "$(calc "%.2f (%+d)" "$p / $b, $p - $b")" "(report)"
	have callgrind_annotate || return 0
	top=$(callgrind_annotate --inclusive=yes --threshold=100 "$TMP/cg.start.harden" 2>/dev/null |
		awk '/ \[[^]]*\]$/ && !/ld-linux/ && !/libc-start|below main/ {
			ir = $1; sub(/^[^)]*\) */, ""); sub(/ \[.*/, ""); sub(/.*:/, "")
			printf "%s%s %s", (n++ ? ", " : ""), $0, ir; if (n == 6) exit }')
	[ -n "$top" ] && NOTES+=("Start-up with sockguard, inclusive Ir of the costliest functions outside the dynamic loader: $top.")
}


# --------------------------------------------------------- 5. error path

sink_start() {
	rm -f "$SINK"
	"$P/bench_sink" dgram "$SINK" 900 >"$TMP/sink.out" 2>&1 &
	SINK_PID=$!
	BG_PIDS+=("$SINK_PID")
	local i
	for ((i = 0; i < 50; i++)); do
		[ -S "$SINK" ] && return 0
		sleep 0.05
	done
	return 1
}

# The extra instructions of a refused connect, and of the event alone: what
# is left after the wrappers' cost on a successful connect+close.
event_extra() {	# BASE WITH
	if [ -n "$CONNECT_CYCLE_EXTRA" ]; then
		calc "%+.0f (event alone ≈ %+.0f beyond a successful connect+close)" \
			"$2 - $1, $2 - $1 - $CONNECT_CYCLE_EXTRA"
	else
		calc %+.0f "$2 - $1"
	fi
}

bench_errors() {
	note "5. error path: $ERR_N refused connects x 3 configurations x $ERR_R rounds"
	sink_start || note "log sink did not start"
	local r k cfg t
	for ((r = 0; r < ERR_R; r++)); do
		for k in 0 1 2; do
			cfg=$(rot $r $k base logoff logunix)
			t=$(under "$cfg" "$P/bench_calls" refused "$ERR_N") && rec2 err "$cfg" "$t"
		done
	done
	row_dual "$ERR_N refused connects, log=unix: rate-limited (ms)" err base logunix \
		1e-6 ms "≤ 1.10"
	row_dual "$ERR_N refused connects, log=off (ms)" err base logoff 1e-6 ms "≤ 1.10"
	if have valgrind; then
		note "5. callgrind: instructions per refused connect (socket+connect+close)"
		local b off un
		b=$(cg_per_call base refused 1) || b=
		off=$(cg_per_call logoff refused 1) || off=
		un=$(cg_per_call logunix refused 1) || un=
		if [ -n "$b" ] && [ -n "$off" ]; then
			row "one classified event (refused), log=off (Ir per connect)" "$b" "$off" \
				"$(event_extra "$b" "$off")" "(report)"
		fi
		if [ -n "$b" ] && [ -n "$un" ]; then
			row "one classified event (refused), log=unix: rate-limited (Ir per connect)" \
				"$b" "$un" "$(event_extra "$b" "$un")" "(report)"
		fi
		cg_note "refused connect, log=off" logoff refused
		cg_note "refused connect, log=unix:" logunix refused
	fi
	stop_pid "$SINK_PID"
	NOTES+=("Log sink (log=unix:) received $(awk '{ print $1 " lines, " $2 " bytes" }' \
		"$TMP/sink.out" 2>/dev/null) over all error-path runs (rate limit: 20 lines per class and peer per 10 s, then one suppressed line).")
}

# ------------------------------------------------------------- 6. report

bench_report() {
	local in="$TMP/report-input.log" gen="$P/gen_report_lines" lines rc t rss what
	if [ ! -x "$gen" ]; then
		row "sockguard report" "—" "no generator ($gen)" "" "(report)"
		return
	fi
	note "6. sockguard report: $REP_N lines from gen_report_lines"
	if ! "$gen" "$REP_N" >"$in" 2>"$TMP/gen.err"; then
		row "sockguard report" "—" "generator failed: $(head -c 80 "$TMP/gen.err")" "" "(report)"
		return
	fi
	lines=$(wc -l <"$in")
	what="sockguard report ($lines lines, $(du -m "$in" | cut -f1) MB)"
	cat "$in" >/dev/null	# from the page cache: parsing, not the disk
	if [ -x /usr/bin/time ]; then
		"${PIN[@]}" /usr/bin/time -f '%e %M' -o "$TMP/time.out" \
			"$TOOL" report "$in" >/dev/null 2>"$TMP/report.err"
		rc=$?
		read -r t rss <"$TMP/time.out"
	else
		local t0
		t0=$(date +%s.%N)
		"${PIN[@]}" "$TOOL" report "$in" >/dev/null 2>"$TMP/report.err"
		rc=$?
		t=$(calc %.3f "$(date +%s.%N) - $t0") rss=
	fi
	rm -f "$in"
	if [ "$rc" != 0 ]; then
		row "$what" "—" "failed, exit $rc: $(head -c 80 "$TMP/report.err" | tr '\n|' '  ')" \
			"" "(report)"
		return
	fi
	row "$what" "—" "$(calc "%.0f lines/s (%.2f s)" "$lines / ($t > 0 ? $t : 0.01), $t")${rss:+, peak RSS $(calc %.1f "$rss / 1024") MiB}" \
		"" "(report)"
}

# -------------------------------------------------------------- output

machine_info() {
	local commit dirty
	commit=$(git log -1 --format='%h %s' 2>/dev/null)
	dirty=$(git status --porcelain -- shim policy 2>/dev/null | head -1)
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- commit: \`$commit\`${dirty:+ (with uncommitted changes in shim/ or policy/)}"
	echo "- machine: \`$(uname -a)\`"
	echo "- CPUs: $(nproc) × $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "- load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
	echo "- shim: $(nm -D --defined-only "$LIB" 2>/dev/null |
		grep -cwE 'send|recv|read|write|connect|accept|poll|epoll_wait|close') of the wrappers send, recv, read, write, connect, accept, poll, epoll_wait, close exported by the shim"
	echo "- run: ${QUICK:+BENCH_QUICK=1, }$((SECONDS - T_START)) s; ping-pong $PP_N round trips × $PP_R rounds, server and ping-pong pinned with \`${PIN[*]:-(no taskset)}\`, load generators with \`${PIN_CLIENT[*]:-(none)}\`; callgrind loops $CG_N1/$CG_N2; servers $SRV_R rounds; start-up $SP_N × $SP_R; error path $ERR_N × $ERR_R"
}

report() {
	local r n
	{
		echo "# sockguard benchmark results"
		echo
		echo "Written by \`make bench\` (tests/bench/bench.sh). Baseline: the program"
		echo "without the shim; with sockguard: \`LD_PRELOAD=libsockguard.so\`, default"
		echo "policy (harden) unless the row says otherwise. Ratios are with/baseline of"
		echo "the medians of interleaved rounds; Ir rows give instructions per call"
		echo "(callgrind) and the extra per call; the \"musl,\" rows compare a program"
		echo "built by musl-gcc without and with build/musl/libsockguard.so. Nothing"
		echo "here is asserted by tests."
		echo "Times are only as good as the machine is quiet: the notes give how far"
		echo "apart the rounds were; instruction and system-call counts do not vary."
		echo
		machine_info
		echo
		echo "| what | baseline | with sockguard | ratio | target |"
		echo "| --- | --- | --- | --- | --- |"
		for r in "${ROWS[@]}"; do echo "$r"; done
		if [ ${#NOTES[@]} -gt 0 ]; then
			echo
			echo "Notes:"
			for n in "${NOTES[@]}"; do echo "- $n"; done
		fi
	} >"$TMP/results.md"
	cat "$TMP/results.md"
	cp "$TMP/results.md" "$OUT" && note "written to $OUT"
}

# BENCH_ONLY="redis nginx" runs some sections only (for working on them).
for f in pingpong instructions musl redis nginx startup errors report; do
	case " ${BENCH_ONLY:-$f} " in
	*" $f "*) "bench_$f" ;;
	esac
done
report
exit 0
