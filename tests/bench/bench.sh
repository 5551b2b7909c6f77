#!/usr/bin/env bash
# make bench: what sockguard costs, measured side by side in one run.
#
# Every figure is a comparison made on the spot: the same program without the
# shim (baseline) and with LD_PRELOAD=$BUILD/libsockguard.so, runs interleaved
# A/B/C with the order rotated each round, the median of the rounds kept, and
# the ratio of medians printed.  Instruction counts come from callgrind, which
# is stable on a noisy machine: they make the first table, each row against
# its target (the cost bars) and the next goal; times make the second.  The
# tables are printed and written to tests/bench/results.md (or $BENCH_OUT)
# with the date, machine, load and commit.
#
# It reports and never fails: a missing tool turns its row into a note.
# BENCH_QUICK=1 makes a short run (under two minutes); the full run takes
# about seven minutes on two cores.  BENCH_ONLY="SECTION..." runs only the
# named sections (pingpong instructions musl redis nginx perrequest startup
# errors report).
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
# The shim's exported functions (the calls it stands in for), for shim_cost.
SHIM_EXPORTS=$(nm -D --defined-only "$LIB" 2>/dev/null | awk '$2 ~ /^[TtWi]$/ { sub(/@.*/, "", $3); print $3 }' | tr '\n' ' ')
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockguard-bench.XXXXXX") || exit 0
T_START=$SECONDS
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

# Sizes: the full run, or BENCH_QUICK.
if [ -n "$QUICK" ]; then
	PP_N=20000 PP_R=3 CG_N1=300 CG_N2=900 SRV_R=1 REDIS_N=20000 WRK_D=2
	STRACE_REDIS_N=5000 CGS_REDIS_N=10000 CGS_REDIS1_N=4000
	CGS_HTTP_N=5000 CGS_CONN_N=2000 CGS_R=1
	SP_N=60 SP_R=5 ERR_N=20000 ERR_R=3 REP_N=500000
else
	PP_N=200000 PP_R=5 CG_N1=1000 CG_N2=3000 SRV_R=3 REDIS_N=200000 WRK_D=10
	STRACE_REDIS_N=20000 CGS_REDIS_N=40000 CGS_REDIS1_N=10000
	CGS_HTTP_N=20000 CGS_CONN_N=10000 CGS_R=2
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
# The start-up rows measure a process with no policy file; the shim reads
# /etc/sockguard.conf when there is one, so on such a host they use an empty
# file instead, and say so.
NOPOLICY=() NOPOLICY_E=() NOPOLICY_WHAT="no policy file"
if [ -e /etc/sockguard.conf ]; then
	NOPOLICY=(SOCKGUARD_CONFIG="$TMP/empty.conf")
	NOPOLICY_E=(-e "SOCKGUARD_CONFIG=$TMP/empty.conf")
	NOPOLICY_WHAT="an empty policy file (this host has /etc/sockguard.conf)"
fi
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
	logall) ENV+=(SOCKGUARD_OPTIONS="log=unix:$SINK:log_burst=1000000:log_max=1000000") ;;
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
# A row of the instruction table: the extra instructions, the target they
# are held to (met or not, when it is a number) and the next goal.  Rows are
# kept by group (IR_GROUP: calls, startup, events, servers, musl) and
# printed in that order, whatever order the sections ran in.
declare -A IRG=()
IR_GROUP=calls
irow() {	# WHAT BASE WITH EXTRA_TEXT EXTRA_NUM TARGET_NUM TARGET_TEXT GOAL_TEXT
	local met=
	[ -n "$5" ] && [ -n "$6" ] &&
		met=$(awk -v x="$5" -v t="$6" 'BEGIN { print (x <= t) ? "yes" : "**no**" }')
	IRG[$IR_GROUP]+="| $1 | $2 | $3 | $4 | $7 | $met | $8 |"$'\n'
}
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
wait_port() {	# PORT PID [SECONDS]: up to 10 s for a listener, while PID lives
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
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
	for f in "$TMP/cg.$1.$2.$CG_N1" "$TMP/cg.$1.$2.$CG_N2"; do
		[ -s "$f" ] || return 0
		shim_self "$f" >"$f.self"
	done
	awk -v d=$((CG_N2 - CG_N1)) 'FNR == NR { a[$1] = $2; next }
		{ x = ($2 - a[$1]) / d; if (x >= 0.5) printf "%s %.1f\n", $1, x }' \
		"$TMP/cg.$1.$2.$CG_N1.self" "$TMP/cg.$1.$2.$CG_N2.self" | sort -k2,2gr
}
# The self cost of each function of the shim (either build) in a callgrind
# file, "name Ir" per line, read from the file itself: callgrind_annotate
# names the object only on some of a function's lines.  Name compression
# ("(id) name" defines, "(id)" refers) is undone; the line after a calls=
# line is the call's inclusive cost, not the caller's own.
shim_self() {	# FILE
	awk 'function resolve(tab, s,   id) {
			if (s !~ /^\([0-9]+\)/) return s
			id = s; sub(/\).*/, "", id)
			sub(/^\([0-9]+\) ?/, "", s)
			if (s != "") tab[id] = s
			return tab[id]
		}
		/^ob=/ { ob = resolve(obs, substr($0, 4)); next }
		/^fn=/ { fn = resolve(fns, substr($0, 4)); next }
		/^cob=/ { resolve(obs, substr($0, 5)); next }
		/^cfn=/ { resolve(fns, substr($0, 5)); next }
		/^calls=/ { skip = 1; next }
		/^[0-9+*-]/ { if (skip) { skip = 0; next }
			if (ob ~ /libsockguard\.so$/) self[fn] += $2; next }
		END { for (f in self) if (self[f] > 0) print f, self[f] }' "$1"
}
# One note per family: where the extra instructions go.
cg_note() {	# WHAT CFG FAMILY
	local top
	top=$(cg_shim_self "$2" "$3" | head -6 | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
	[ -n "$top" ] && NOTES+=("$1: Ir per loop iteration in the shim's own functions (self cost): $top.")
}

CONNECT_CYCLE_EXTRA=	# extra Ir of a successful connect+close, for the error path
# The call loops of bench_calls and what one row of each measures: FAMILY,
# calls through the shim per iteration, the target and the next goal for the
# extra Ir of one call, and what the row is.  The rows of two calls are per
# call, the mean of the two calls of an iteration: send and recv, write and
# read, and accept or connect with the close of its socket (what a socket
# costs in its whole life; the pair is printed beside it).  The other end's
# calls are raw system calls that the shim never sees.
CG_FAMILIES=(
	"sendrecv 2 20 10 send + recv of 1 byte on a socketpair: Ir per call (mean of the two)"
	"readwrite 2 20 10 write + read of 1 byte on a socketpair: Ir per call (mean of the two)"
	"epoll 1 20 10 epoll_wait, one ready socket, timeout 0: Ir per call"
	"poll 1 20 10 poll, one ready socket, timeout 0: Ir per call"
	"epollt 1 20 10 epoll_wait, one ready socket, timeout 1000 ms (event loops pass the time to their next timer): Ir per call"
	"pollt 1 20 10 poll, one ready socket, timeout 1000 ms: Ir per call"
	"accept 2 60 40 accept of a loopback TCP connection + close of the accepted socket: Ir per call (mean of the two)"
	"connect 2 60 40 connect to a loopback listener + close of the socket: Ir per call (mean of the two)"
)
# One row per family: baseline configuration BASE against WITH, the rows
# named with PREFIX.
cg_rows() {	# BASE WITH PREFIX
	local spec fam calls bar goal what b w x
	for spec in "${CG_FAMILIES[@]}"; do
		read -r fam calls bar goal what <<<"$spec"
		what="$3$what"
		b=$(cg_per_call "$1" "$fam" "$calls") || b=
		w=$(cg_per_call "$2" "$fam" "$calls") || w=
		if [ -z "$b" ] || [ -z "$w" ]; then
			irow "$what" "${b:-failed}" "${w:-failed}" "" "" "" "≤ +$bar" "≤ +$goal"
			continue
		fi
		x=$(calc %.1f "$w - $b")
		case $fam in
		accept | connect) irow "$what" "$b" "$w" \
			"$(calc "%+.1f (%+.1f the pair)" "$x, $x * 2")" "$x" "$bar" "≤ +$bar" "≤ +$goal" ;;
		*) irow "$what" "$b" "$w" "$(calc %+.1f "$x")" "$x" "$bar" "≤ +$bar" "≤ +$goal" ;;
		esac
		cg_note "$what" "$2" "$fam"
		[ "$fam$2" = connectharden ] && CONNECT_CYCLE_EXTRA=$(calc %.1f "$x * 2")
	done
}

bench_instructions() {
	if ! have valgrind; then
		irow "instructions per call (callgrind)" "valgrind not installed" "" "" "" "" "" ""
		return
	fi
	note "2. callgrind: extra instructions per call, loops of $CG_N1 and $CG_N2"
	IR_GROUP=calls
	cg_rows base harden ""
}

# The same success paths in a musl program (bench_calls built by musl-gcc)
# with the musl build: its baseline is musl's own libc.
bench_musl() {
	IR_GROUP=musl
	if ! have valgrind; then
		irow "musl: instructions per call (callgrind)" "valgrind not installed" "" "" "" "" "" ""
		return
	fi
	if [ ! -f "$MUSL_LIB" ] || [ ! -x "$MP/bench_calls" ]; then
		irow "musl: instructions per call (callgrind)" \
			"no musl build (install musl-tools, then make)" "" "" "" "" "" ""
		return
	fi
	note "2b. callgrind: the same in a musl program with the musl build"
	cg_rows mbase mharden "musl: "
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

# The configuration of the nginx benchmarks: one worker, no access log, a
# 450-byte file.  With "single", one process does everything (master_process
# off), so that callgrind counts the process that serves, and a keep-alive
# connection is never closed for its request count.
nginx_conf() {	# DIR PORT [single]
	local master=on keepalive=
	[ "${3:-}" = single ] && master=off keepalive="keepalive_requests 1000000;"
	mkdir -p "$1/html" "$1/logs"
	head -c 450 /dev/zero | tr '\0' 'x' | fold -w 75 >"$1/html/index.html"
	cat >"$1/nginx.conf" <<-EOF
		daemon off;
		master_process $master;
		worker_processes 1;
		pid $1/nginx.pid;
		error_log $1/logs/error.log warn;
		events { worker_connections 1024; }
		http {
		    access_log off;
		    $keepalive
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

# ------------------------------------- 3b. servers: instructions per request

# The servers' own instructions for a fixed amount of work, under callgrind:
# only the server runs under it (the load generator does not), pinned like
# the other servers.  A loaded run minus an idle run of the same server
# (started, asked the one request that shows its event loop running,
# stopped) leaves what the requests cost: start-up and exit cancel out.
# The server's command is in SRV_ARGV, its port in SRV_PORT, and SRV_READY
# names a function that makes one request and returns once it is answered:
# the server's event loop is then running.  (nginx listens before it installs
# its signal handlers, and a SIGTERM that arrives before its event loop
# waits is only seen at the next event, so the stop is repeated.)  When
# SRV_EXCLUDE names a function, its inclusive cost is left out of the count:
# redis's serverCron, the periodic housekeeping whose amount follows the
# wall-clock length of a run (jemalloc's statistics, once a second here) and
# not the requests; it makes no socket calls of its own.

# Runs the server under callgrind in configuration CFG, runs "$@" (the load;
# nothing for the idle run), stops it with SIGTERM and prints its total Ir.
# The callgrind file is kept as OUT.
cg_server() {	# CFG OUT [LOAD...]
	local cfg=$1 out=$2 pid ok=1
	shift 2
	rm -f "$out"
	cfg_env "$cfg"
	"${ENV[@]}" "${PIN[@]}" valgrind --tool=callgrind --callgrind-out-file="$out" \
		"${SRV_ARGV[@]}" >/dev/null 2>"$TMP/cgs.err" &
	pid=$!
	BG_PIDS+=("$pid")
	if ! wait_port "$SRV_PORT" "$pid" 120; then
		note "${SRV_ARGV[0]} ($cfg) did not start under callgrind: $(tail -1 "$TMP/cgs.err")"
		stop_pid "$pid"
		return 1
	fi
	if ! "$SRV_READY" || { [ $# -gt 0 ] && ! "$@"; }; then
		note "${SRV_ARGV[0]} ($cfg): the load failed"
		ok=
	fi
	stop_patiently "$pid"
	[ -n "$ok" ] || return 1
	local total skip=0
	total=$(awk '/^totals:/ { print $2; t = 1; exit } /^summary:/ { s = $2 }
		END { if (!t && s != "") print s }' "$out")
	if [ -z "$total" ]; then
		note "${SRV_ARGV[0]} ($cfg): callgrind wrote no count"
		return 1
	fi
	if [ -n "$SRV_EXCLUDE" ]; then
		have callgrind_annotate || return 1
		skip=$(callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null |
			awk -v f=":$SRV_EXCLUDE " 'index($0, f) { ir = $1; gsub(",", "", ir); print ir; exit }')
		if [ -z "$skip" ]; then
			note "${SRV_ARGV[0]} ($cfg): no $SRV_EXCLUDE in the profile"
			return 1
		fi
	fi
	echo $((total - skip))
}

# SIGTERM, once a second until the process is gone (at most 30 s, then
# SIGKILL: no count from that run).
stop_patiently() {	# PID
	local i
	for ((i = 0; i < 300; i++)); do
		((i % 10 == 0)) && kill -TERM "$1" 2>/dev/null
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# What the shim itself made a process execute, from one callgrind file: the
# self cost of its functions, plus the inclusive cost of the calls it made
# into other objects (clock_gettime for a deadline, dlsym when it binds,
# ...), less the calls that carry out the program's own request (a call to
# a function of the name of one the shim exports: its read calling libc's
# read), which the program makes without the shim too.  Unlike a difference
# of two runs, it does not move with what differs between runs (redis
# seeds its hash tables at random, so its command lookups differ by tens of
# instructions per request from one run to the next).
shim_cost() {	# FILE
	awk -v names="$SHIM_EXPORTS" 'BEGIN { n = split(names, a, " ")
			for (i = 1; i <= n; i++) wrapped[a[i]] = 1 }
		function resolve(tab, s,   id) {
			if (s !~ /^\([0-9]+\)/) return s
			id = s; sub(/\).*/, "", id)
			sub(/^\([0-9]+\) ?/, "", s)
			if (s != "") tab[id] = s
			return tab[id]
		}
		function bare(f) { sub(/@.*/, "", f); sub(/\x27.*/, "", f); return f }
		/^ob=/ { ob = resolve(obs, substr($0, 4)); next }
		/^fn=/ { fn = resolve(fns, substr($0, 4)); next }
		/^cob=/ { cob = resolve(obs, substr($0, 5)); next }
		/^cfn=/ { cfn = resolve(fns, substr($0, 5)); next }
		/^calls=/ { call = 1; next }
		/^[0-9+*-]/ { mine = ob ~ /libsockguard\.so$/
			if (call && mine && cob != "" && cob !~ /libsockguard\.so$/ &&
			    !(bare(cfn) in wrapped))
				t += $2
			else if (!call && mine)
				t += $2
			if (call) { call = 0; cob = "" }
			next }
		END { print t + 0 }' "$1"
}

# One row: per-request Ir of a server without and with the shim, over
# CGS_R loaded runs each (their median; rounds interleaved), and what the
# shim itself executed per request (shim_cost, loaded minus idle run), which
# the target is held to: the difference of the two medians carries the
# server's own variation from run to run as well.  SETUP is a function that
# sets SRV_ARGV and SRV_PORT for a fresh server; LOAD the function that puts
# REQUESTS requests on it.
cg_server_row() {	# KEY WHAT REQUESTS TARGET_PCT TARGET_TEXT GOAL_TEXT SETUP LOAD
	local key=$1 what=$2 n=$3 r k cfg idle ir b w x pct own ownpct f
	for cfg in base harden; do
		"$7" || return 0
		f="$TMP/cgs.$key.$cfg.idle"
		idle=$(cg_server "$cfg" "$f") || idle=
		[ -n "$idle" ] && echo "$idle $(shim_cost "$f")" >"$f.ir"
	done
	for ((r = 0; r < CGS_R; r++)); do
		for k in 0 1; do
			cfg=$(rot $r $k base harden)
			f="$TMP/cgs.$key.$cfg"
			[ -s "$f.idle.ir" ] || continue
			"$7" || continue
			ir=$(cg_server "$cfg" "$f.$r" "$8" "$n") || continue
			read -r idle own <"$f.idle.ir"
			rec "cgs.$key" "$cfg" "$(calc %.2f "($ir - $idle) / $n")"
			rec "cgs.$key.total" "$cfg" "$ir"
			[ "$cfg" = harden ] &&
				rec "cgs.$key.own" "$cfg" "$(calc %.2f "($(shim_cost "$f.$r") - $own) / $n")"
		done
	done
	b=$(med "cgs.$key" base) w=$(med "cgs.$key" harden) own=$(med "cgs.$key.own" harden)
	if [ -z "$b" ] || [ -z "$w" ] || [ -z "$own" ]; then
		irow "$what" "${b:-failed}" "${w:-failed (see log)}" "" "" "" "$5" "$6"
		return
	fi
	x=$(calc %.1f "$w - $b") pct=$(calc %.2f "100 * ($w - $b) / $b")
	ownpct=$(calc %.4f "100 * $own / $b")
	irow "$what" "$(calc %.1f "$b")" "$(calc %.1f "$w")" \
		"$(calc "the shim's own %+.1f (%+.2f %%); difference of the medians %+.1f (%+.2f %%)" \
			"$own, $ownpct, $x, $pct")" "$ownpct" "$4" "$5" "$6"
	NOTES+=("$what: rounds spread (max-min)/median: $(noise "cgs.$key" base) without, $(noise "cgs.$key" harden) with, the shim's own $(noise "cgs.$key.own" harden); the whole run of the server, start-up and exit included${SRV_EXCLUDE:+ ($SRV_EXCLUDE left out)}: $(calc "%.0f and %.0f Ir, %+.2f %%" \
		"$(med "cgs.$key.total" base), $(med "cgs.$key.total" harden), 100 * ($(med "cgs.$key.total" harden) / $(med "cgs.$key.total" base) - 1)").")
	[ -s "$f.0" ] && [ -s "$TMP/cgs.$key.harden.0" ] && cgs_note "$what" "$TMP/cgs.$key.harden" "$n"
}
# Where the shim's instructions go in a server: its functions' self cost
# per request, loaded minus idle run, largest first.
cgs_note() {	# WHAT FILE_PREFIX REQUESTS
	local top
	shim_self "$2.idle" >"$2.idle.self"
	shim_self "$2.0" >"$2.0.self"
	top=$(awk -v n="$3" 'FNR == NR { a[$1] = $2; next }
		{ x = ($2 - a[$1]) / n; if (x >= 0.5) printf "%s %.1f\n", $1, x }' \
		"$2.idle.self" "$2.0.self" | sort -k2,2gr | head -6 |
		awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
	[ -n "$top" ] && NOTES+=("$1: where the shim's own instructions go, self cost per request: $top.")
}

cgs_redis_setup() {
	SRV_PORT=$(free_port)
	rm -rf "$TMP/cgredis"
	mkdir -p "$TMP/cgredis"
	# hz 1: the periodic work runs once a second; it is left out of the
	# count anyway (SRV_EXCLUDE).
	SRV_ARGV=(redis-server --port "$SRV_PORT" --bind 127.0.0.1 --save "" \
		--appendonly no --dir "$TMP/cgredis" --daemonize no --hz 1 \
		--dynamic-hz no --logfile "$TMP/cgredis/redis.log")
	SRV_READY=cgs_redis_ready SRV_EXCLUDE=serverCron
}
cgs_redis_ready() {
	have redis-cli || return 0	# redis handles SIGTERM in its timer, no race
	redis-cli -p "$SRV_PORT" ping >/dev/null 2>&1
}
# REQUESTS: SET and GET, half each, each client one request at a time, from
# 10 clients or 1.
cgs_redis_load() { cgs_redis_clients 10 "$1"; }
cgs_redis_load1() { cgs_redis_clients 1 "$1"; }
cgs_redis_clients() {	# CLIENTS REQUESTS
	"${PIN_CLIENT[@]}" redis-benchmark -p "$SRV_PORT" -q -t set,get -n $(($2 / 2)) \
		-P 1 -c "$1" 2>/dev/null | tr '\r' '\n' >"$TMP/cgs.load.out"
	grep -q '^SET: .* requests per second' "$TMP/cgs.load.out" &&
		grep -q '^GET: .* requests per second' "$TMP/cgs.load.out"
}
cgs_nginx_setup() {
	local dir="$TMP/cgnginx"
	SRV_PORT=$(free_port)
	nginx_conf "$dir" "$SRV_PORT" single
	SRV_ARGV=("$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log")
	SRV_READY=cgs_http_ready SRV_EXCLUDE=
}
cgs_http_ready() {
	"${PIN_CLIENT[@]}" "$P/bench_http" "$SRV_PORT" /index.html 1 1 keepalive \
		>/dev/null 2>>"$TMP/cgs.err"
}
cgs_http_load() {	# REQUESTS
	"${PIN_CLIENT[@]}" "$P/bench_http" "$SRV_PORT" /index.html "$1" 10 keepalive \
		>/dev/null 2>>"$TMP/cgs.err"
}
cgs_http_close_load() {	# REQUESTS
	"${PIN_CLIENT[@]}" "$P/bench_http" "$SRV_PORT" /index.html "$1" 10 close \
		>/dev/null 2>>"$TMP/cgs.err"
}

bench_perrequest() {
	local what
	IR_GROUP=servers
	if ! have valgrind; then
		irow "servers: instructions per request (callgrind)" "valgrind not installed" \
			"" "" "" "" "" ""
		return
	fi
	what="redis-server: redis-benchmark -t set,get -n $((CGS_REDIS_N / 2)) -c 10 -P 1 ($CGS_REDIS_N requests): Ir per request"
	if have redis-server && have redis-benchmark; then
		note "3b. callgrind: redis-server, $CGS_REDIS_N requests x $CGS_R rounds"
		cg_server_row redis "$what" "$CGS_REDIS_N" 0.7 "≤ +0.7 %" "—" \
			cgs_redis_setup cgs_redis_load
		note "3b. callgrind: redis-server, one client, $CGS_REDIS1_N requests x $CGS_R rounds"
		# The worst case for a per-call cost, each request a turn of the
		# event loop of its own (an epoll_wait, a read, a write): reported
		# beside the run the bar is held to.
		cg_server_row redis1 "redis-server: the same from one client, -n $((CGS_REDIS1_N / 2)) -c 1 ($CGS_REDIS1_N requests, each its own event loop turn): Ir per request" \
			"$CGS_REDIS1_N" "" "(report)" "—" cgs_redis_setup cgs_redis_load1
	else
		irow "$what" "redis-server or redis-benchmark not installed" "" "" "" "" "≤ +0.7 %" "—"
	fi
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
	what="nginx (one process): GET of a 450-byte file, $CGS_HTTP_N requests on 10 keep-alive connections: Ir per request"
	if [ -x "$NGINX" ] && [ -x "$P/bench_http" ]; then
		note "3b. callgrind: nginx, $CGS_HTTP_N keep-alive and $CGS_CONN_N one-connection requests x $CGS_R rounds"
		cg_server_row nginx "$what" "$CGS_HTTP_N" "" "(report)" "—" \
			cgs_nginx_setup cgs_http_load
		cg_server_row nginxc "nginx (one process): the same, one connection per request (Connection: close), $CGS_CONN_N requests: Ir per request" \
			"$CGS_CONN_N" "" "(report)" "—" cgs_nginx_setup cgs_http_close_load
	else
		irow "$what" "nginx or bench_http missing" "" "" "" "" "(report)" "—"
	fi
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
			harden) env=(-e "LD_PRELOAD=$LIB" "${NOPOLICY_E[@]}") ;;
			policy) env=(-e "LD_PRELOAD=$LIB" -e "SOCKGUARD_CONFIG=$POLICY50") ;;
			off) env=(-e "LD_PRELOAD=$LIB" "${NOPOLICY_E[@]}"
				-e "SOCKGUARD_OPTIONS=mode=off") ;;
			empty) env=(-e "LD_PRELOAD=$TMP/empty.so") ;;
			esac
			t=$("$P/bench_spawn" "$SP_N" "${env[@]}" -- /bin/true) && rec2 spawn "$cfg" "$t"
		done
	done
	row_dual "start-up of /bin/true, $NOPOLICY_WHAT (ms per start)" spawn base harden 1e-6 ms \
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
	local cfg b w p e f top
	IR_GROUP=startup
	for cfg in base harden policy empty; do
		f="$TMP/cg.start.$cfg"
		case $cfg in
		base) env valgrind --tool=callgrind --callgrind-out-file="$f" \
			/bin/true >/dev/null 2>&1 ;;
		harden) env LD_PRELOAD="$LIB" "${NOPOLICY[@]}" valgrind --tool=callgrind \
			--callgrind-out-file="$f" /bin/true >/dev/null 2>&1 ;;
		policy) env LD_PRELOAD="$LIB" SOCKGUARD_CONFIG="$POLICY50" valgrind \
			--tool=callgrind --callgrind-out-file="$f" /bin/true >/dev/null 2>&1 ;;
		empty) [ -f "$TMP/empty.so" ] && env LD_PRELOAD="$TMP/empty.so" valgrind \
			--tool=callgrind --callgrind-out-file="$f" /bin/true >/dev/null 2>&1 ;;
		esac
	done
	b=$(awk '/^totals:/ { print $2 }' "$TMP/cg.start.base")
	w=$(awk '/^totals:/ { print $2 }' "$TMP/cg.start.harden")
	p=$(awk '/^totals:/ { print $2 }' "$TMP/cg.start.policy" 2>/dev/null)
	e=$(awk '/^totals:/ { print $2 }' "$TMP/cg.start.empty" 2>/dev/null)
	if [ -z "$b" ] || [ -z "$w" ]; then
		irow "start-up of /bin/true, $NOPOLICY_WHAT: Ir per process" "${b:-failed}" \
			"${w:-failed}" "" "" "" "≤ +25,000" "≤ +15,000"
		return 0
	fi
	irow "start-up of /bin/true, $NOPOLICY_WHAT: Ir per process (loader, constructor, exit)" \
		"$(thou "$b")" "$(thou "$w")" "$(plus_thou $((w - b))) (×$(calc %.2f "$w / $b"))" \
		$((w - b)) 25000 "≤ +25,000" "≤ +15,000"
	[ -n "$p" ] && irow "start-up of /bin/true, the 50-line policy tests/bench/policy50.conf: Ir per process" \
		"$(thou "$b")" "$(thou "$p")" "$(plus_thou $((p - b))) (×$(calc %.2f "$p / $b"))" \
		$((p - b)) 45000 "≤ +45,000" "≤ +30,000"
	[ -n "$e" ] && irow "start-up of /bin/true, an empty preloaded library (what any preload costs): Ir per process" \
		"$(thou "$b")" "$(thou "$e")" "$(plus_thou $((e - b)))" "" "" "(reference)" "—"
	have callgrind_annotate || return 0
	top=$(callgrind_annotate --inclusive=yes --threshold=100 "$TMP/cg.start.harden" 2>/dev/null |
		awk '/ \[[^]]*\]$/ && !/ld-linux/ && !/libc-start|below main/ {
			ir = $1; sub(/^[^)]*\) */, ""); sub(/ \[.*/, ""); sub(/.*:/, "")
			printf "%s%s %s", (n++ ? ", " : ""), $0, ir; if (n == 6) exit }')
	[ -n "$top" ] && NOTES+=("Start-up with sockguard, inclusive Ir of the costliest functions outside the dynamic loader: $top.")
}
# 1234567 as 1,234,567; plus_thou adds the sign.
thou() { echo "$1" | awk '{ s = ($1 < 0) ? "-" : ""; n = ($1 < 0) ? -$1 : $1; o = ""
	while (n >= 1000) { o = sprintf(",%03d", n % 1000) o; n = int(n / 1000) }
	print s n o }'; }
plus_thou() { if [ "$1" -ge 0 ]; then echo "+$(thou "$1")"; else thou "$1"; fi; }


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

# One row of the event cost: a refused connect's loop (socket, connect,
# close: one ECONNREFUSED event per iteration) without and with the shim
# configured as CFG; the event alone is what is left after the wrappers'
# cost on a successful connect + close (the socket() wrapper stays in it).
event_row() {	# BASE_IR CFG WHAT GOAL
	local w x alone
	w=$(cg_per_call "$2" refused 1) || w=
	if [ -z "$1" ] || [ -z "$w" ]; then
		irow "$3" "${1:-failed}" "${w:-failed}" "" "" "" "(report)" "$4"
		return
	fi
	x=$(calc %.0f "$w - $1")
	if [ -n "$CONNECT_CYCLE_EXTRA" ]; then
		alone=$(calc %.0f "$x - $CONNECT_CYCLE_EXTRA")
		irow "$3" "$1" "$w" "$(calc "%+.0f per iteration; the event ≈ %+.0f" "$x, $alone")" \
			"" "" "(report)" "$4"
	else
		irow "$3" "$1" "$w" "$(calc %+.0f "$x") per iteration" "" "" "(report)" "$4"
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
		IR_GROUP=events
		local b cb cw what="one classified event (ECONNREFUSED from connect) beyond a successful connect + close"
		if [ -z "$CONNECT_CYCLE_EXTRA" ]; then
			cb=$(cg_per_call base connect 1) && cw=$(cg_per_call harden connect 1) &&
				CONNECT_CYCLE_EXTRA=$(calc %.1f "$cw - $cb")
		fi
		b=$(cg_per_call base refused 1) || b=
		event_row "$b" logall "$what, log=unix, every line written: Ir" "—"
		event_row "$b" logunix "$what, log=unix, past the rate limit (counted as suppressed): Ir" "≤ +300"
		event_row "$b" logoff "$what, log=off (classified and counted): Ir" "—"
		cg_note "refused connect, log=unix, every line written" logall refused
		cg_note "refused connect, log=unix, past the rate limit" logunix refused
		cg_note "refused connect, log=off" logoff refused
	fi
	stop_pid "$SINK_PID"
	NOTES+=("Log sink (log=unix:) received $(awk '{ print $1 " lines, " $2 " bytes" }' \
		"$TMP/sink.out" 2>/dev/null) over all error-path runs (default rate limit: 20 lines per class and peer, 200 in all, per 10 s, then one suppressed line; the \"every line written\" runs raise log_burst and log_max to 1000000, and a line that finds the receiver's queue full is dropped after it was formatted, so that row counts the formatting and the send of every line either way).")
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
	echo "- run: ${QUICK:+BENCH_QUICK=1, }$((SECONDS - T_START)) s; ping-pong $PP_N round trips × $PP_R rounds, server and ping-pong pinned with \`${PIN[*]:-(no taskset)}\`, load generators with \`${PIN_CLIENT[*]:-(none)}\`; callgrind loops $CG_N1/$CG_N2; servers $SRV_R rounds; servers under callgrind $CGS_R rounds of $CGS_REDIS_N and $CGS_REDIS1_N redis, $CGS_HTTP_N and $CGS_CONN_N nginx requests; start-up $SP_N × $SP_R; error path $ERR_N × $ERR_R"
}

report() {
	local r n g
	{
		echo "# sockguard benchmark results"
		echo
		echo "Written by \`make bench\` (tests/bench/bench.sh). Baseline: the program"
		echo "without the shim; with sockguard: \`LD_PRELOAD=libsockguard.so\`, default"
		echo "policy (harden) unless the row says otherwise. Nothing here is asserted"
		echo "by tests."
		echo
		machine_info
		echo
		echo "## Instructions (callgrind)"
		echo
		echo "Counted by callgrind, so the machine's load does not change them: the"
		echo "call loops and start-up give the same count in every run, the servers'"
		echo "per-request figures move by the spread given in the notes.  \"extra\" is"
		echo "with minus baseline; \"target\" is the bar the row is held to, \"met\""
		echo "whether this run meets it, \"next goal\" the bar after that.  Call loops"
		echo "(tests/progs/bench_calls.c) are counted inside the loop only, as the"
		echo "difference of a $CG_N1- and a $CG_N2-iteration run; the other end of each"
		echo "connection and all setup use raw system calls the shim never sees.  The"
		echo "servers run under callgrind alone (the load generator outside it) and"
		echo "a loaded run minus an idle one, over the requests, is the per-request"
		echo "figure.  The \"musl:\" rows compare a program built by musl-gcc without and"
		echo "with build/musl/libsockguard.so."
		echo
		echo "| what | baseline | with sockguard | extra | target | met | next goal |"
		echo "| --- | --- | --- | --- | --- | --- | --- |"
		for g in calls startup events servers musl; do printf '%s' "${IRG[$g]:-}"; done
		echo
		echo "## Times and counts"
		echo
		echo "Ratios are with/baseline of the medians of interleaved rounds.  Times are"
		echo "only as good as the machine is quiet: the notes give how far apart the"
		echo "rounds were."
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
for f in pingpong instructions musl redis nginx perrequest startup errors report; do
	case " ${BENCH_ONLY:-$f} " in
	*" $f "*) "bench_$f" ;;
	esac
done
report
exit 0
