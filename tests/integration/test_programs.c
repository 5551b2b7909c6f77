/*
 * Real programs, run side by side without and with the shim: python3
 * (socket echo, http.server with urllib, asyncio streams, the standard
 * library's test_selectors), curl against a served, a refused and a
 * black-holed port, socat, redis-server with redis-cli and
 * redis-benchmark, nginx with curl and wrk.  Each pair must give the same
 * output and exit status.  Under the shim the log goes to a socket of ours
 * (log=unix:PATH), and the events logged are checked: the ones a fault
 * must produce, and none that a clean run must not.
 *
 * Every run has a timeout and every server is killed when its test ends.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"

static char python[512] = "python3";
static struct fx_result res[2];

/* The interpreter itself, not a version manager's wrapper script. */
static void find_python(void)
{
	static struct fx_result r;
	char *argv[] = { "python3", "-c", "import sys; print(sys.executable)",
			 NULL };

	if (fx_run(argv, fx_env_plain(&env), 10000, &r) == 0 &&
	    fx_exit_code(&r) == 0 && r.out[0] == '/') {
		r.out[strcspn(r.out, "\n")] = '\0';
		snprintf(python, sizeof python, "%.500s", r.out);
	}
}

/* Proxies from the environment must not capture loopback requests. */
static void setup(void)
{
	static char *const proxies[] = { "http_proxy", "HTTP_PROXY",
					 "https_proxy", "all_proxy",
					 "ALL_PROXY", "no_proxy" };

	fx_suite_open_log();
	for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
		cr_assert_eq(fx_env_put(&env, proxies[i]), 0, "%s",
			     fx_skip_reason());
	if (fx_have_program("python3"))
		find_python();
}

TestSuite(programs, .init = setup, .fini = fx_suite_close, .timeout = 120);

static void run_side(enum fx_side s, char *const argv[], int timeout_ms)
{
	cr_assert_eq(fx_run(argv, fx_env_side(&env, s, NULL), timeout_ms,
			    &res[s]), 0, "%s %s: %s\nstdout: %s\nstderr: %s",
		     argv[0], fx_side_name(s), fx_skip_reason(), res[s].out,
		     res[s].err);
}

/* Runs argv both ways; the exit codes and stdout must match. */
static void run_both(char *const argv[], int timeout_ms)
{
	run_side(FX_PLAIN, argv, timeout_ms);
	run_side(FX_SHIM, argv, timeout_ms);
	cr_expect_eq(fx_exit_code(&res[FX_PLAIN]), fx_exit_code(&res[FX_SHIM]),
		     "%s exits %d without the shim, %d with it; stderr with: %s",
		     argv[0], fx_exit_code(&res[FX_PLAIN]),
		     fx_exit_code(&res[FX_SHIM]), res[FX_SHIM].err);
	cr_expect_str_eq(res[FX_PLAIN].out, res[FX_SHIM].out,
			 "%s prints differently with the shim", argv[0]);
}

/*
 * Every event line must be of a class in allowed (space-separated, with
 * spaces around each name); the exit summary is always allowed.
 */
static void expect_only_classes(const char *what, const char *allowed)
{
	const char *events = fx_env_log(&env, 300);
	char cls[64], token[80];

	for (const char *line = events; *line; line += strcspn(line, "\n") + 1) {
		if (fx_log_field(line, "class", cls, sizeof cls) != 0)
			continue;
		snprintf(token, sizeof token, " %s ", cls);
		cr_expect(!strcmp(cls, "summary") || strstr(allowed, token),
			  "%s: unexpected event: %.*s", what,
			  (int)strcspn(line, "\n"), line);
		if (!line[strcspn(line, "\n")])
			break;
	}
}

/* ---- python3 ---- */

static const char py_echo[] =
	"import socket, threading\n"
	"srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()\n"
	"def serve():\n"
	"    c, _ = srv.accept()\n"
	"    while (d := c.recv(65536)): c.sendall(d)\n"
	"    c.close()\n"
	"threading.Thread(target=serve, daemon=True).start()\n"
	"cli = socket.create_connection(srv.getsockname())\n"
	"payload = bytes(range(256)) * 4096\n"
	"def send():\n"
	"    cli.sendall(payload); cli.shutdown(socket.SHUT_WR)\n"
	"threading.Thread(target=send).start()\n"
	"got = bytearray()\n"
	"while (d := cli.recv(65536)): got += d\n"
	"print('echoed', len(got), bytes(got) == payload)\n";

Test(programs, python_socket_echo)
{
	char *argv[] = { python, "-c", (char *)py_echo, NULL };

	FX_REQUIRE_PROGRAM("python3");
	run_both(argv, 30000);
	cr_expect_str_eq(res[FX_SHIM].out, "echoed 1048576 True\n");
	expect_only_classes("python echo", " ");
}

/* The same echo through `sockguard run`, the launcher users are given. */
Test(programs, python_socket_echo_under_sockguard_run)
{
	char opt[400];
	char *args[] = { "run", "-o", opt, "--", python, "-c", (char *)py_echo,
			 NULL };

	FX_REQUIRE_PROGRAM("python3");
	snprintf(opt, sizeof opt, "log=unix:%s", env.sock);
	cr_assert_eq(fx_tool(NULL, args, fx_env_plain(&env), 30000,
			     &res[FX_SHIM]), 0, "%s", fx_skip_reason());
	cr_expect_eq(fx_exit_code(&res[FX_SHIM]), 0, "stderr: %s",
		     res[FX_SHIM].err);
	cr_expect_str_eq(res[FX_SHIM].out, "echoed 1048576 True\n",
			 "stderr: %s", res[FX_SHIM].err);
}

static const char py_http[] =
	"import functools, hashlib, http.server, os, tempfile, threading\n"
	"import urllib.error, urllib.request\n"
	"d = tempfile.mkdtemp()\n"
	"open(os.path.join(d, 'small.txt'), 'w').write('hello sockguard\\n')\n"
	"open(os.path.join(d, 'big.bin'), 'wb').write(bytes(range(256)) * 8192)\n"
	"class H(http.server.SimpleHTTPRequestHandler):\n"
	"    def log_message(self, *a): pass\n"
	"srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0),\n"
	"    functools.partial(H, directory=d))\n"
	"threading.Thread(target=srv.serve_forever, daemon=True).start()\n"
	"base = 'http://127.0.0.1:%d/' % srv.server_address[1]\n"
	"get = urllib.request.build_opener(urllib.request.ProxyHandler({})).open\n"
	"for name in ['small.txt', 'big.bin', 'small.txt']:\n"
	"    with get(base + name) as r:\n"
	"        body = r.read()\n"
	"        print(name, r.status, len(body), hashlib.sha256(body).hexdigest()[:16])\n"
	"try: get(base + 'missing')\n"
	"except urllib.error.HTTPError as e: print('missing', e.code)\n"
	"srv.shutdown()\n"
	"import shutil; shutil.rmtree(d)\n";

Test(programs, python_http_server_and_urllib)
{
	char *argv[] = { python, "-c", (char *)py_http, NULL };

	FX_REQUIRE_PROGRAM("python3");
	run_both(argv, 30000);
	cr_expect(strstr(res[FX_SHIM].out, "big.bin 200 2097152"), "%s",
		  res[FX_SHIM].out);
	cr_expect(strstr(res[FX_SHIM].out, "missing 404"), "%s",
		  res[FX_SHIM].out);
	expect_only_classes("http.server", " ");
}

static const char py_asyncio[] =
	"import asyncio, hashlib\n"
	"async def handle(r, w):\n"
	"    while (line := await r.readline()):\n"
	"        w.write(line.upper()); await w.drain()\n"
	"    w.close(); await w.wait_closed()\n"
	"async def client(port, i):\n"
	"    r, w = await asyncio.open_connection('127.0.0.1', port)\n"
	"    out = []\n"
	"    for j in range(100):\n"
	"        w.write(b'message %d of client %d\\n' % (j, i)); await w.drain()\n"
	"        out.append(await r.readline())\n"
	"    w.close(); await w.wait_closed()\n"
	"    return b''.join(out)\n"
	"async def main():\n"
	"    srv = await asyncio.start_server(handle, '127.0.0.1', 0)\n"
	"    port = srv.sockets[0].getsockname()[1]\n"
	"    res = await asyncio.gather(*(client(port, i) for i in range(10)))\n"
	"    srv.close(); await srv.wait_closed()\n"
	"    all = b''.join(res)\n"
	"    print(len(res), len(all), hashlib.sha256(all).hexdigest()[:16])\n"
	"asyncio.run(main())\n";

/*
 * asyncio reads and writes optimistically and registers a socket only after
 * EAGAIN: a shim that waited out that EAGAIN would stall the loop, so the
 * run under the shim must not take seconds longer.
 */
Test(programs, python_asyncio_streams)
{
	char *argv[] = { python, "-c", (char *)py_asyncio, NULL };

	FX_REQUIRE_PROGRAM("python3");
	run_both(argv, 30000);
	cr_expect(strstr(res[FX_SHIM].out, "10 "), "%s", res[FX_SHIM].out);
	cr_expect_lt(res[FX_SHIM].elapsed_ms, res[FX_PLAIN].elapsed_ms + 2000,
		     "the event loop stalled under the shim: %ld ms against %ld",
		     res[FX_SHIM].elapsed_ms, res[FX_PLAIN].elapsed_ms);
	expect_only_classes("asyncio", " ");
}

/* unittest's closing line ("OK (skipped=N)"), on stderr. */
static const char *closing_line(char *err)
{
	char *ok = strstr(err, "\nOK"), *failed = strstr(err, "\nFAILED");
	char *p = ok ? ok + 1 : failed ? failed + 1 : err;

	p[strcspn(p, "\n")] = '\0';
	return p;
}

Test(programs, python_test_selectors, .timeout = 180)
{
	char *probe[] = { python, "-c", "import test.test_selectors", NULL };
	char *argv[] = { python, "-m", "test.test_selectors", NULL };

	FX_REQUIRE_PROGRAM("python3");
	if (fx_run(probe, fx_env_plain(&env), 20000, &res[FX_PLAIN]) != 0 ||
	    fx_exit_code(&res[FX_PLAIN]) != 0)
		cr_skip_test("python3's test package is not installed "
			     "(Debian: libpython3-testsuite)");
	run_both(argv, 80000);
	cr_expect_eq(fx_exit_code(&res[FX_SHIM]), 0, "%s", res[FX_SHIM].err);
	cr_expect_str_eq(closing_line(res[FX_PLAIN].err),
			 closing_line(res[FX_SHIM].err));
}

/* ---- curl ---- */

static pid_t start_http_server(int *port)
{
	char www[300], portstr[16], log[300];
	char *argv[] = { python, "-m", "http.server", "--bind", "127.0.0.1",
			 portstr, "--directory", www, NULL };
	pid_t pid;

	snprintf(www, sizeof www, "%s/www", env.dir);
	snprintf(log, sizeof log, "%s/http.log", env.dir);
	mkdir(www, 0755);
	cr_assert_eq(fx_sh("printf 'hello from loopback\\n' > %s/hello.txt", www), 0);
	*port = fx_closed_port();
	snprintf(portstr, sizeof portstr, "%d", *port);
	pid = fx_spawn(argv, fx_env_plain(&env), log);
	cr_assert_gt(pid, 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_wait_port(*port, 10000), 0, "http.server: %s", fx_skip_reason());
	return pid;
}

static void curl_both(int port, const char *path, const char *timeout)
{
	char url[256];
	char *argv[] = { "curl", "-sS", "--noproxy", "*", "--connect-timeout",
			 (char *)timeout, "-w", " %{http_code}\n", url, NULL };

	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	run_both(argv, 30000);
}

Test(programs, curl_against_a_local_server)
{
	int port;
	pid_t srv;

	FX_REQUIRE_PROGRAM("curl");
	FX_REQUIRE_PROGRAM("python3");
	srv = start_http_server(&port);
	curl_both(port, "/hello.txt", "5");
	cr_expect_str_eq(res[FX_SHIM].out, "hello from loopback\n 200\n");
	curl_both(port, "/absent", "5");
	cr_expect(strstr(res[FX_SHIM].out, " 404"), "%s", res[FX_SHIM].out);
	fx_stop(srv);
	expect_only_classes("curl against a server", " ");
}

Test(programs, curl_against_a_refused_port)
{
	FX_REQUIRE_PROGRAM("curl");
	curl_both(fx_closed_port(), "/", "1");
	cr_expect_eq(fx_exit_code(&res[FX_SHIM]), 7, "curl: couldn't connect");
}

Test(programs, curl_against_a_blackholed_port)
{
	int lfd, port;

	FX_REQUIRE_PROGRAM("curl");
	FX_REQUIRE_NETNS();
	lfd = fx_listen_tcp(&port);
	cr_assert_eq(fx_fault_add(FX_DROP, port), 0, "%s", fx_skip_reason());
	curl_both(port, "/", "1");
	cr_expect_eq(fx_exit_code(&res[FX_SHIM]), 28, "curl: timed out");
	close(lfd);
}

/*
 * The events of the two faults.  curl learns of them through a
 * non-blocking connect and getsockopt(SO_ERROR), which the shim
 * classifies like connect() itself.  For the black hole the kernel must be
 * the one to give up (ETIMEDOUT after tcp_syn_retries=1, ~3 s) before
 * curl's own --connect-timeout, which the shim cannot see.
 */
Test(programs, curl_faults_are_logged_with_their_class)
{
	char *refused_argv[] = { "curl", "-sS", "--noproxy", "*", NULL, NULL };
	char url[128], val[64];
	const char *events, *line;
	int lfd, port;

	FX_REQUIRE_PROGRAM("curl");
	FX_REQUIRE_NETNS();
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", fx_closed_port());
	refused_argv[4] = url;
	run_side(FX_SHIM, refused_argv, 20000);
	events = fx_env_log(&env, 300);
	line = fx_log_find_class(events, "refused");
	cr_expect_not_null(line, "no class=refused event for curl's refused "
			   "connect (is the event writer wired up?); got:\n%s", events);
	if (line) {
		cr_expect_eq(fx_log_field(line, "op", val, sizeof val), 0);
		cr_expect_str_eq(val, "connect", "%s", line);
	}
	lfd = fx_listen_tcp(&port);
	cr_assert_eq(fx_set_syn_retries(1), 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_fault_add(FX_DROP, port), 0, "%s", fx_skip_reason());
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
	run_side(FX_SHIM, refused_argv, 20000);
	events = fx_env_log(&env, 300);
	cr_expect_not_null(fx_log_find_class(events, "timeout"),
			   "no class=timeout event for the black-holed port "
			   "(curl exit %d); got:\n%s", fx_exit_code(&res[FX_SHIM]),
			   events);
	close(lfd);
}

/* ---- socat ---- */

static pid_t start_socat_echo(enum fx_side s, int *port)
{
	char listen[128], log[300];
	char *argv[] = { "socat", listen, "PIPE", NULL };
	pid_t pid;

	*port = fx_closed_port();
	snprintf(listen, sizeof listen,
		 "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork", *port);
	snprintf(log, sizeof log, "%s/socat.log", env.dir);
	pid = fx_spawn(argv, fx_env_side(&env, s, NULL), log);
	cr_assert_gt(pid, 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_wait_port(*port, 10000), 0, "socat: %s", fx_skip_reason());
	return pid;
}

Test(programs, socat_echo)
{
	char cmd[512];
	char *argv[] = { "sh", "-c", cmd, NULL };
	int port;

	FX_REQUIRE_PROGRAM("socat");
	for (int s = FX_PLAIN; s <= FX_SHIM; s++) {
		pid_t srv = start_socat_echo(s, &port);

		snprintf(cmd, sizeof cmd,
			 "printf 'hello socat\\n' | socat -t 2 - TCP:127.0.0.1:%d; "
			 "seq 1 200000 | socat -t 2 - TCP:127.0.0.1:%d | cksum",
			 port, port);
		run_side(s, argv, 30000);
		fx_stop(srv);
	}
	cr_expect_eq(fx_exit_code(&res[FX_PLAIN]), fx_exit_code(&res[FX_SHIM]));
	cr_expect_str_eq(res[FX_PLAIN].out, res[FX_SHIM].out);
	cr_expect(!strncmp(res[FX_SHIM].out, "hello socat\n", 12), "%s",
		  res[FX_SHIM].out);
	expect_only_classes("socat", " eof ");
}

/* ---- redis ---- */

static pid_t start_redis(enum fx_side s, int *port)
{
	char portstr[16], log[300];
	char *argv[] = { "redis-server", "--port", portstr, "--bind", "127.0.0.1",
			 "--save", "", "--appendonly", "no", "--dir", env.dir,
			 "--daemonize", "no", NULL };
	pid_t pid;

	*port = fx_closed_port();
	snprintf(portstr, sizeof portstr, "%d", *port);
	snprintf(log, sizeof log, "%s/redis.log", env.dir);
	pid = fx_spawn(argv, fx_env_side(&env, s, NULL), log);
	cr_assert_gt(pid, 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_wait_port(*port, 10000), 0, "redis-server: %s",
		     fx_skip_reason());
	return pid;
}

/* Replies to a fixed script of commands, and the benchmark's verdicts. */
static void redis_session(enum fx_side s, int port, char *bench, size_t len)
{
	static struct fx_result b;
	char cmd[768];
	char *argv[] = { "sh", "-c", cmd, NULL };

	snprintf(cmd, sizeof cmd,
		 "printf 'PING\\nSET k v1\\nGET k\\nINCR n\\nINCR n\\nRPUSH l a b c\\n"
		 "LRANGE l 0 -1\\nDEL k\\nGET k\\nNOSUCHCOMMAND\\n' | "
		 "redis-cli -p %d", port);
	run_side(s, argv, 20000);
	snprintf(cmd, sizeof cmd, "redis-benchmark -q -p %d -n 2000 "
		 "| tr '\\r' '\\n' | grep -c 'requests per second'; "
		 "redis-cli -p %d DBSIZE >/dev/null", port, port);
	cr_assert_eq(fx_run(argv, fx_env_side(&env, s, NULL), 120000, &b), 0,
		     "%s", fx_skip_reason());
	snprintf(bench, len, "%.200s (exit %d)", b.out, fx_exit_code(&b));
}

Test(programs, redis_server_cli_and_benchmark, .timeout = 240)
{
	char bench[2][256];
	int port;

	FX_REQUIRE_PROGRAM("redis-server");
	FX_REQUIRE_PROGRAM("redis-cli");
	FX_REQUIRE_PROGRAM("redis-benchmark");
	for (int s = FX_PLAIN; s <= FX_SHIM; s++) {
		pid_t srv = start_redis(s, &port);

		redis_session(s, port, bench[s], sizeof bench[s]);
		fx_stop(srv);
	}
	cr_expect_str_eq(res[FX_PLAIN].out, res[FX_SHIM].out,
			 "redis-cli replies differ");
	cr_expect(strstr(res[FX_SHIM].out, "PONG") &&
		  strstr(res[FX_SHIM].out, "v1"), "%s", res[FX_SHIM].out);
	cr_expect_str_eq(bench[FX_PLAIN], bench[FX_SHIM],
			 "redis-benchmark differs");
	cr_expect(atoi(bench[FX_SHIM]) > 5, "benchmark: %s", bench[FX_SHIM]);
	expect_only_classes("redis", " eof reset pipe ");
}

/* ---- nginx ---- */

static void nginx_tree(int port)
{
	const char *d = env.dir;

	cr_assert_eq(fx_sh("mkdir -p %s/www %s/tmp && "
			   "printf 'hello from nginx\\n' > %s/www/index.html && "
			   "seq 1 100000 > %s/www/big.txt && chmod -R a+rX %s",
			   d, d, d, d, d), 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_sh("cat > %s/nginx.conf <<EOF\n"
			   "worker_processes 2;\n"
			   "events { worker_connections 256; }\n"
			   "http {\n"
			   "  access_log off; log_not_found off;\n"
			   "  types { text/html html; text/plain txt; }\n"
			   "  sendfile on; tcp_nopush on; keepalive_timeout 30;\n"
			   "  client_body_temp_path %s/tmp/body;\n"
			   "  proxy_temp_path %s/tmp/proxy;\n"
			   "  fastcgi_temp_path %s/tmp/fastcgi;\n"
			   "  uwsgi_temp_path %s/tmp/uwsgi;\n"
			   "  scgi_temp_path %s/tmp/scgi;\n"
			   "  server { listen 127.0.0.1:%d; root %s/www; }\n"
			   "}\nEOF", d, d, d, d, d, d, port, d),
		     0, "%s", fx_skip_reason());
}

static pid_t start_nginx(enum fx_side s, int *port)
{
	char conf_path[300], global[700], errlog[300];
	char *argv[] = { "nginx", "-p", env.dir, "-c", conf_path, "-e", errlog,
			 "-g", global, NULL };
	pid_t pid;

	*port = fx_closed_port();
	nginx_tree(*port);
	snprintf(conf_path, sizeof conf_path, "%s/nginx.conf", env.dir);
	snprintf(errlog, sizeof errlog, "%s/error.log", env.dir);
	snprintf(global, sizeof global, "daemon off; pid %s/nginx.pid; "
		 "error_log %s/error.log;", env.dir, env.dir);
	pid = fx_spawn(argv, fx_env_side(&env, s, NULL), errlog);
	cr_assert_gt(pid, 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_wait_port(*port, 10000), 0, "nginx: %s; see %s",
		     fx_skip_reason(), errlog);
	return pid;
}

static void nginx_clients(enum fx_side s, int port, char *load, size_t len)
{
	char cmd[1024];
	char *argv[] = { "sh", "-c", cmd, NULL };
	static struct fx_result w;

	snprintf(cmd, sizeof cmd,
		 "u=http://127.0.0.1:%d; c='curl -sS --noproxy 127.0.0.1'; "
		 "$c $u/; $c $u/big.txt | cksum; $c -o /dev/null -w '%%{http_code}\\n' "
		 "$u/absent; $c -sI $u/ | head -n 1", port);
	run_side(s, argv, 20000);
	snprintf(cmd, sizeof cmd, "wrk -d2s -c10 -t2 http://127.0.0.1:%d/", port);
	cr_assert_eq(fx_run(argv, fx_env_side(&env, s, NULL), 30000, &w), 0,
		     "%s", fx_skip_reason());
	cr_expect_eq(fx_exit_code(&w), 0, "wrk %s: %s", fx_side_name(s), w.err);
	cr_expect(strstr(w.out, "Requests/sec"), "wrk %s: %s", fx_side_name(s),
		  w.out);
	cr_expect_null(strstr(w.out, "Socket errors"), "wrk %s: %s",
		       fx_side_name(s), w.out);
	cr_expect_null(strstr(w.out, "Non-2xx"), "wrk %s: %s", fx_side_name(s),
		       w.out);
	snprintf(load, len, "%.4000s", w.out);
}

/* No [error], [crit], [alert] or [emerg] line: the first one is shown. */
static void expect_clean_error_log(enum fx_side s)
{
	static const char *const levels[] = { "[error]", "[crit]", "[alert]",
					      "[emerg]" };
	static char text[65536];
	char path[300], moved[320];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "%s/error.log", env.dir);
	f = fopen(path, "r");
	cr_assert_not_null(f, "nginx wrote no %s", path);
	n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		const char *hit = strstr(text, levels[i]);
		cr_expect_null(hit, "nginx %s logged: %.*s", fx_side_name(s),
			       hit ? (int)strcspn(hit, "\n") : 0, hit ? hit : "");
	}
	/* The next run starts with an empty log of its own. */
	snprintf(moved, sizeof moved, "%s.%d", path, s);
	rename(path, moved);
}

Test(programs, nginx_serves_curl_and_wrk, .timeout = 180)
{
	char load[2][4096];
	int port;

	FX_REQUIRE_PROGRAM("nginx");
	FX_REQUIRE_PROGRAM("curl");
	FX_REQUIRE_PROGRAM("wrk");
	for (int s = FX_PLAIN; s <= FX_SHIM; s++) {
		pid_t srv = start_nginx(s, &port);

		nginx_clients(s, port, load[s], sizeof load[s]);
		fx_stop(srv);
		expect_clean_error_log(s);
	}
	cr_expect_eq(fx_exit_code(&res[FX_PLAIN]), fx_exit_code(&res[FX_SHIM]));
	cr_expect_str_eq(res[FX_PLAIN].out, res[FX_SHIM].out,
			 "curl through nginx differs");
	cr_expect(strstr(res[FX_SHIM].out, "hello from nginx\n"), "%s",
		  res[FX_SHIM].out);
	cr_expect(strstr(res[FX_SHIM].out, "404\n"), "%s", res[FX_SHIM].out);
	expect_only_classes("nginx", " eof reset pipe ");
}
