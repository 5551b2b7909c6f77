#!/bin/bash
# `make soak`: SOAK_SECONDS (default 120) of wrk against nginx under the shim,
# with a client resetting connections every SOAK_RESET_MS (default 1000) ms.
# Checks that nginx's processes survive, that their descriptor counts do not
# grow, and that their RSS stays flat (within SOAK_RSS_SLACK_KB, default 2048).
set -u
BUILD=${BUILD:-build}
B=$(cd "$BUILD" && pwd)
SECS=${SOAK_SECONDS:-120}
RESET_MS=${SOAK_RESET_MS:-1000}
SLACK=${SOAK_RSS_SLACK_KB:-2048}
for p in nginx wrk python3; do
	command -v "$p" >/dev/null || { echo "soak: needs $p (apt-get install nginx-light wrk python3)"; exit 2; }
done
D=$(mktemp -d /tmp/sockguard-soak.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; [ -f "$D/nginx.pid" ] && kill "$(cat "$D/nginx.pid" 2>/dev/null)" 2>/dev/null; sleep 0.5; rm -rf "$D"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$D/www" "$D/tmp"
chmod 755 "$D" "$D/www"
head -c 4096 /dev/urandom > "$D/www/index.html"
cat > "$D/nginx.conf" <<CONF
worker_processes 2;
error_log $D/error.log warn;
pid $D/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $D/tmp; proxy_temp_path $D/tmp; fastcgi_temp_path $D/tmp;
	uwsgi_temp_path $D/tmp; scgi_temp_path $D/tmp;
	server { listen 127.0.0.1:$PORT; root $D/www; }
}
CONF
"$B/tests/progs/soak_logsink" "$D/log.sock" > "$D/events.count" 2>/dev/null &
sleep 0.2
env LD_PRELOAD="$B/libsockguard.so" SOCKGUARD_OPTIONS="log=unix:$D/log.sock" \
	nginx -p "$D" -c "$D/nginx.conf" -g 'daemon off;' &
for _ in $(seq 100); do [ -s "$D/nginx.pid" ] && break; sleep 0.1; done
sleep 0.5
# The master (its command line names our config) and its workers.
pids() { local m; m=$(pgrep -f "nginx.*$D/nginx.conf" | head -1); { echo "$m"; pgrep -P "$m"; } | sort -n; }
fds() { local t=0; for p in $(pids); do t=$((t + $(ls /proc/$p/fd | wc -l))); done; echo $t; }
rss() { local t=0; for p in $(pids); do t=$((t + $(awk '/VmRSS/{print $2}' /proc/$p/status))); done; echo $t; }
# Warm up, then measure.
wrk -t2 -c50 -d3s "http://127.0.0.1:$PORT/" >/dev/null 2>&1
FD0=$(fds); RSS0=$(rss); PIDS0=$(pids | tr '\n' ' ')
python3 - "$PORT" "$RESET_MS" "$SECS" <<'PY' &
import socket, struct, sys, time
port, every, secs = int(sys.argv[1]), int(sys.argv[2]) / 1000, int(sys.argv[3])
end = time.time() + secs
n = 0
while time.time() < end:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # half a request, then RST
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    n += 1
    time.sleep(every)
print(n)
PY
RESETTER=$!
wrk -t2 -c50 -d"${SECS}s" "http://127.0.0.1:$PORT/" > "$D/wrk.out" 2>&1
wait $RESETTER
sleep 1
FD1=$(fds); RSS1=$(rss); PIDS1=$(pids | tr '\n' ' ')
grep -E 'Requests/sec|Non-2xx|Socket errors' "$D/wrk.out"
echo "nginx pids before: $PIDS0 after: $PIDS1"
echo "descriptors before: $FD0 after: $FD1"
echo "RSS (KiB) before: $RSS0 after: $RSS1 (slack $SLACK)"
echo "nginx error log lines at [crit]/[alert]/[emerg]: $(grep -cE '\[(crit|alert|emerg)\]' "$D/error.log")"
ok=1
[ "$PIDS0" = "$PIDS1" ] || { echo "FAIL: nginx processes changed (a crash?)"; ok=0; }
[ "$FD1" -le "$FD0" ] || { echo "FAIL: descriptors leaked"; ok=0; }
[ $((RSS1 - RSS0)) -le "$SLACK" ] || { echo "FAIL: RSS grew"; ok=0; }
grep -qE '\[(crit|alert|emerg)\]' "$D/error.log" && { echo "FAIL: nginx logged critical errors"; ok=0; }
kill %1 2>/dev/null
[ $ok = 1 ] && echo "soak: passed" || { echo "soak: FAILED"; exit 1; }
