/*
 * The policy at run time: connect_timeout
 * against a black-holed port, [peer] sections resolved per socket (their
 * order, IPv6, their own log destination), [program] sections in a
 * system-wide style deployment, a bad policy, SOCKGUARD_OPTIONS over the
 * file, and secure execution.  The programs are tests/progs/so_probe under
 * several names; the events come to unix sockets of ours (log=unix:PATH).
 *
 * The black-hole cases run in a private network namespace (iptables DROP on
 * the port).  Every run has a timeout.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"

static char dir[256], sock_a[320], sock_b[320], conf[320], probe[512];
static char confenv[400], optenv[1024];
static int log_a = -1, log_b = -1;
static char events_a[65536], events_b[65536];
static struct fx_result res;

static char *plain_env[] = { "LD_PRELOAD", "SOCKGUARD_OPTIONS",
			     "SOCKGUARD_CONFIG", NULL };
static char *shim_env[] = { NULL, confenv, optenv, NULL };

static void setup(void)
{
	FILE *f;

	cr_assert_eq(fx_tempdir(dir, sizeof dir), 0, "%s", fx_skip_reason());
	snprintf(sock_a, sizeof sock_a, "%s/a.sock", dir);
	snprintf(sock_b, sizeof sock_b, "%s/b.sock", dir);
	snprintf(conf, sizeof conf, "%s/policy.conf", dir);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fclose(f);
	log_a = fx_log_receiver_open(sock_a);
	log_b = fx_log_receiver_open(sock_b);
	cr_assert(log_a >= 0 && log_b >= 0, "%s", fx_skip_reason());
	snprintf(confenv, sizeof confenv, "SOCKGUARD_CONFIG=%s", conf);
	fx_prog_path("so_probe", probe, sizeof probe);
	shim_env[0] = (char *)fx_preload_env();
	events_a[0] = events_b[0] = '\0';
}

static void teardown(void)
{
	if (log_a >= 0)
		close(log_a);
	if (log_b >= 0)
		close(log_b);
	fx_rmtree(dir);
}

TestSuite(policy_runtime, .init = setup, .fini = teardown, .timeout = 60);

/* Writes the policy file (mode 0644) from a format. */
__attribute__((format(printf, 1, 2)))
static void policy(const char *fmt, ...)
{
	va_list ap;
	FILE *f = fopen(conf, "w");

	cr_assert_not_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	chmod(conf, 0644);
}

/* The shim's environment: the policy file, and options (NULL: unset). */
static char **shim(const char *options)
{
	if (options)
		snprintf(optenv, sizeof optenv, "SOCKGUARD_OPTIONS=%s", options);
	else
		snprintf(optenv, sizeof optenv, "SOCKGUARD_OPTIONS");
	return shim_env;
}

static void run(char **env, char *const argv[])
{
	cr_assert_eq(fx_run(argv, env, 15000, &res), 0, "%s %s: %s\n%s%s",
		     argv[0], argv[1], fx_skip_reason(), res.out, res.err);
}

/* so_probe connect HOST PORT [FLAG]; asserts it exited 0. */
static void probe_connect(char **env, const char *host, int port,
			  const char *flag)
{
	char p[16];

	snprintf(p, sizeof p, "%d", port);
	char *argv[] = { probe, "connect", (char *)host, p, (char *)flag, NULL };
	run(env, argv);
	cr_assert_eq(fx_exit_code(&res), 0, "so_probe exited %d\n%s%s",
		     fx_exit_code(&res), res.out, res.err);
}

/* The value of key on the line of res.out that begins with "tag ". */
static long value(const char *tag, const char *key)
{
	char want[64], tok[64];
	const char *line = res.out;
	size_t tlen = (size_t)snprintf(want, sizeof want, "%s ", tag);

	while (line && strncmp(line, want, tlen) != 0) {
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	cr_assert_not_null(line, "no \"%s\" line in:\n%s%s", tag, res.out, res.err);
	snprintf(tok, sizeof tok, " %s=", key);
	const char *p = strstr(line, tok), *end = strchr(line, '\n');
	cr_assert(p && (!end || p < end), "no %s in:\n%s", key, res.out);
	return strtol(p + strlen(tok), NULL, 10);
}

static int connect_errno_is(const char *name)
{
	char tok[64];

	snprintf(tok, sizeof tok, " errno=%s ", name);
	return strstr(res.out, tok) != NULL;
}

static void collect(void)
{
	fx_log_collect(log_a, events_a, sizeof events_a, 300);
	fx_log_collect(log_b, events_b, sizeof events_b, 100);
}

static int blackholed_port(void)
{
	int port = fx_closed_port();

	cr_assert_gt(port, 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_fault_add(FX_DROP, port), 0, "%s", fx_skip_reason());
	return port;
}

Test(policy_runtime, connect_timeout_300_fails_with_etimedout_in_300_ms_and_logs)
{
	FX_REQUIRE_NETNS();
	int port = blackholed_port();
	char opts[512];

	snprintf(opts, sizeof opts, "connect_timeout=300:log=unix:%s", sock_a);
	probe_connect(shim(opts), "127.0.0.1", port, NULL);
	cr_assert(connect_errno_is("ETIMEDOUT"), "%s", res.out);
	long ms = value("connect", "elapsed");
	cr_expect(ms >= 250 && ms <= 600, "ETIMEDOUT after %ld ms", ms);
	cr_expect_eq(value("connect", "nonblock"), 0,
		     "the socket was left non-blocking");
	collect();
	const char *line = fx_log_find_class(events_a, "timeout");
	cr_assert_not_null(line, "no class=timeout line:\n%s", events_a);
	char v[64];
	cr_expect(fx_log_field(line, "action", v, sizeof v) == 0 &&
		  strcmp(v, "timed_out") == 0, "%s", line);
	cr_expect(fx_log_field(line, "deadline", v, sizeof v) == 0 &&
		  strcmp(v, "connect_timeout") == 0, "%s", line);
	cr_expect(fx_log_field(line, "op", v, sizeof v) == 0 &&
		  strcmp(v, "connect") == 0, "%s", line);
	cr_expect(fx_log_field(line, "errno", v, sizeof v) == 0 &&
		  strcmp(v, "ETIMEDOUT") == 0, "%s", line);
}

/* alarm(1) interrupts the connect: it was still pending after a second. */
static void expect_pending_after_1s(const char *what)
{
	cr_expect(connect_errno_is("EINTR"), "%s: %s", what, res.out);
	cr_expect_geq(value("connect", "elapsed"), 950, "%s: %s", what, res.out);
}

Test(policy_runtime, without_connect_timeout_a_blackholed_connect_is_pending_after_1s)
{
	FX_REQUIRE_NETNS();
	int port = blackholed_port();
	char opts[512];

	probe_connect(plain_env, "127.0.0.1", port, "alarm");
	expect_pending_after_1s("without the shim");
	snprintf(opts, sizeof opts, "log=unix:%s", sock_a);
	probe_connect(shim(opts), "127.0.0.1", port, "alarm");
	expect_pending_after_1s("with the shim, no connect_timeout");
	collect();
	cr_expect_null(fx_log_find_class(events_a, "timeout"), "%s", events_a);
}

/*
 * After connect_timeout fired the program holds a failed socket, as after
 * the kernel's own ETIMEDOUT: the handshake must not go on behind its back
 * (the SYN retransmitted, the connection made once the path is back).
 */
Test(policy_runtime, connect_timeout_abandons_the_connection_attempt)
{
	FX_REQUIRE_NETNS();
	int port = 0;
	cr_assert_geq(fx_listen_tcp(&port), 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_fault_add(FX_DROP, port), 0, "%s", fx_skip_reason());
	cr_assert_gt(fx_fault_del_after(FX_DROP, port, 500), 0);

	probe_connect(shim("connect_timeout=300:log=off"), "127.0.0.1", port,
		      "after=1700");
	cr_assert(connect_errno_is("ETIMEDOUT"), "%s", res.out);
	cr_expect_neq(value("opts", "state"), 2, "the socket is still in SYN_SENT "
		      "after connect() returned ETIMEDOUT:\n%s", res.out);
	cr_expect_neq(value("later", "state"), 1, "the connection the program "
		      "was told had timed out got established later:\n%s",
		      res.out);
}

Test(policy_runtime, a_peer_section_connect_timeout_applies_only_to_that_peer)
{
	FX_REQUIRE_NETNS();
	int port = blackholed_port();

	policy("log = unix:%s\n[peer 127.0.0.2]\nconnect_timeout = 300\n", sock_a);
	probe_connect(shim(NULL), "127.0.0.2", port, "alarm");
	cr_expect(connect_errno_is("ETIMEDOUT"), "127.0.0.2: %s", res.out);
	long ms = value("connect", "elapsed");
	cr_expect(ms >= 250 && ms <= 600, "127.0.0.2: ETIMEDOUT after %ld ms", ms);
	probe_connect(shim(NULL), "127.0.0.1", port, "alarm");
	expect_pending_after_1s("127.0.0.1, outside the [peer] section");
	collect();
	cr_expect_eq(fx_log_count(events_a, "deadline=connect_timeout"), 1,
		     "%s", events_a);
}

Test(policy_runtime, observe_mode_does_not_apply_connect_timeout)
{
	FX_REQUIRE_NETNS();
	int port = blackholed_port();

	probe_connect(shim("connect_timeout=300:log=off"), "127.0.0.1", port,
		      "alarm");
	cr_assert(connect_errno_is("ETIMEDOUT"), "%s", res.out);
	probe_connect(shim("mode=observe:connect_timeout=300:log=off"),
		      "127.0.0.1", port, "alarm");
	expect_pending_after_1s("mode=observe");
}

static int listen_any(void);

/* The program's own bounds on a blocking connect stay in force. */
Test(policy_runtime, an_alarm_still_interrupts_a_connect_bounded_by_connect_timeout)
{
	FX_REQUIRE_NETNS();
	int port = blackholed_port();

	probe_connect(shim("connect_timeout=3000:log=off"), "127.0.0.1", port,
		      "alarm");
	expect_pending_after_1s("alarm(1) under connect_timeout=3000");
	cr_expect_lt(value("connect", "elapsed"), 1500);
	cr_expect_eq(value("connect", "nonblock"), 0);
}

/*
 * SO_SNDTIMEO bounds a blocking connect (socket(7): EINPROGRESS when it
 * expires).  A longer connect_timeout must not make the program wait longer
 * than it asked, nor change the error it gets.
 */
Test(policy_runtime, a_program_so_sndtimeo_shorter_than_connect_timeout_still_bounds_connect)
{
	FX_REQUIRE_NETNS();
	int port = blackholed_port();

	probe_connect(plain_env, "127.0.0.1", port, "sndtimeo=200");
	cr_assert(connect_errno_is("EINPROGRESS"), "without the shim: %s", res.out);
	probe_connect(shim("connect_timeout=3000:log=off"), "127.0.0.1", port,
		      "sndtimeo=200");
	long ms = value("connect", "elapsed");
	cr_expect(ms < 600, "the program's SO_SNDTIMEO of 200 ms was ignored: "
		  "connect took %ld ms:\n%s", ms, res.out);
	cr_expect(connect_errno_is("EINPROGRESS"), "a different error than "
		  "without the shim:\n%s", res.out);
}

/* so_probe serve PORT under env, with a connection from us; its output. */
static void serve_once(char **env)
{
	char log[400], p[16];
	int port = fx_closed_port(), fd = -1;

	snprintf(p, sizeof p, "%d", port);
	snprintf(log, sizeof log, "%s/serve.%d.log", dir, rand());
	char *argv[] = { probe, "serve", p, NULL };
	pid_t pid = fx_spawn(argv, env, log);
	cr_assert_gt(pid, 0, "%s", fx_skip_reason());
	for (int i = 0; i < 300 && fd < 0; i++) {
		fd = fx_connect_tcp(port);
		if (fd < 0)
			usleep(10000);
	}
	for (int i = 0; i < 300 && waitpid(pid, NULL, WNOHANG) == 0; i++)
		usleep(10000);
	fx_stop(pid);
	if (fd >= 0)
		close(fd);
	FILE *f = fopen(log, "r");
	cr_assert_not_null(f);
	size_t n = fread(res.out, 1, sizeof res.out - 1, f);
	res.out[n] = '\0';
	fclose(f);
}

Test(policy_runtime, peer_sections_apply_to_accepted_sockets_by_their_peer)
{
	FX_REQUIRE_NETNS();

	policy("log = off\n[peer 127.0.0.1]\nkeepalive = 5,6,7\n"
	       "[peer 10.0.0.0/8]\nuser_timeout = 999\n");
	serve_once(plain_env);
	cr_assert_eq(value("opts", "ka"), 0, "%s", res.out);
	serve_once(shim(NULL));
	cr_expect_eq(value("opts", "idle"), 5, "accepted from 127.0.0.1: %s",
		     res.out);
	cr_expect_eq(value("opts", "uto"), 0, "a [peer] section of another "
		     "network applied: %s", res.out);
}

Test(policy_runtime, a_peer_section_rcvbuf_is_in_place_before_the_handshake)
{
	FX_REQUIRE_NETNS();
	int port = listen_any();

	policy("log = off\n[peer 127.0.0.2]\nrcvbuf = 8192\n");
	probe_connect(shim(NULL), "127.0.0.1", port, NULL);
	long plain = value("opts", "wscale");
	cr_assert_gt(plain, 0, "%s", res.out);
	probe_connect(shim(NULL), "127.0.0.2", port, NULL);
	cr_expect_eq(value("opts", "rcv"), 16384, "%s", res.out);
	cr_expect_lt(value("opts", "wscale"), plain, "rcvbuf set after the SYN: "
		     "%s", res.out);
}

/* A dual-stack listener on every address of the namespace. */
static int listen_any(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_ANY_INIT };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET6, SOCK_STREAM, 0), off = 0;

	cr_assert_geq(fd, 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 64), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	return ntohs(a.sin6_port);
}

Test(policy_runtime, the_later_matching_peer_section_wins)
{
	FX_REQUIRE_NETNS();
	int port = listen_any(), other = listen_any();

	policy("log = off\n[peer 127.0.0.0/8]\nkeepalive = on\nuser_timeout = 1000\n"
	       "[peer 127.0.0.1:%d]\nuser_timeout = 2000\n", port);
	probe_connect(shim(NULL), "127.0.0.1", port, NULL);
	cr_expect_eq(value("opts", "uto"), 2000, "127.0.0.1:PORT, the later section");
	cr_expect_eq(value("opts", "ka"), 1, "127.0.0.1:PORT, from the /8 section");
	probe_connect(shim(NULL), "127.0.0.2", port, NULL);
	cr_expect_eq(value("opts", "uto"), 1000, "127.0.0.2:PORT, only the /8");
	probe_connect(shim(NULL), "127.0.0.1", other, NULL);
	cr_expect_eq(value("opts", "uto"), 1000, "127.0.0.1, another port");

	policy("log = off\n[peer 127.0.0.1:%d]\nuser_timeout = 2000\n"
	       "[peer 127.0.0.0/8]\nuser_timeout = 1000\n", port);
	probe_connect(shim(NULL), "127.0.0.1", port, NULL);
	cr_expect_eq(value("opts", "uto"), 1000, "the /8 section now comes later");
	probe_connect(plain_env, "127.0.0.1", port, NULL);
	cr_assert_eq(value("opts", "uto"), 0);
}

Test(policy_runtime, an_ipv6_peer_section_matches_only_ipv6_peers)
{
	FX_REQUIRE_NETNS();
	int port = listen_any();

	policy("log = off\n[peer [::1]]\nkeepalive = 5,6,7\n"
	       "[peer [::1]/128:%d]\nuser_timeout = 4321\n", port);
	probe_connect(shim(NULL), "::1", port, NULL);
	cr_expect_eq(value("opts", "idle"), 5, "[::1]: %s", res.out);
	cr_expect_eq(value("opts", "uto"), 4321, "[::1]:PORT: %s", res.out);
	probe_connect(shim(NULL), "127.0.0.1", port, NULL);
	cr_expect_eq(value("opts", "ka"), 0, "127.0.0.1 matched [peer [::1]]");
	cr_expect_eq(value("opts", "uto"), 0);
	probe_connect(plain_env, "::1", port, NULL);
	cr_assert_eq(value("opts", "ka"), 0);
}

Test(policy_runtime, a_peer_section_log_sends_that_peers_events_elsewhere)
{
	FX_REQUIRE_NETNS();
	int port = fx_closed_port();

	policy("log = unix:%s\n[peer 127.0.0.2]\nlog = unix:%s\n", sock_a, sock_b);
	probe_connect(shim(NULL), "127.0.0.1", port, NULL);
	probe_connect(shim(NULL), "127.0.0.2", port, NULL);
	cr_assert(connect_errno_is("ECONNREFUSED"), "%s", res.out);
	collect();
	const char *a = fx_log_find_class(events_a, "refused");
	const char *b = fx_log_find_class(events_b, "refused");
	char peer[64], want[64];
	cr_assert_not_null(a, "nothing at the global log:\n%s", events_a);
	cr_assert_not_null(b, "nothing at the [peer] log:\n%s\nglobal:\n%s",
			   events_b, events_a);
	snprintf(want, sizeof want, "127.0.0.1:%d", port);
	cr_expect(fx_log_field(a, "peer", peer, sizeof peer) == 0 &&
		  strcmp(peer, want) == 0, "global log: %s", a);
	snprintf(want, sizeof want, "127.0.0.2:%d", port);
	cr_expect(fx_log_field(b, "peer", peer, sizeof peer) == 0 &&
		  strcmp(peer, want) == 0, "[peer] log: %s", b);
	cr_expect_eq(fx_log_count(events_a, "class=refused"), 1, "%s", events_a);
	cr_expect_eq(fx_log_count(events_b, "class=refused"), 1, "%s", events_b);
}

/* A shell script (bash, for exec -a) running victims under three names. */
static void run_victims(char **env, int refused, int reset)
{
	char script[2048];

	snprintf(script, sizeof script,
		 "for n in a b c; do (exec -a sg_victim_$n '%s' victim %d %d); "
		 "echo \"exit_$n=$?\"; done", probe, refused, reset);
	char *argv[] = { "bash", "-c", script, NULL };
	run(env, argv);
}

static int victim_exit(const char *name)
{
	char tok[32];

	snprintf(tok, sizeof tok, "exit_%s=", name);
	const char *p = strstr(res.out, tok);
	cr_assert_not_null(p, "%s", res.out);
	return atoi(p + strlen(tok));
}

static int events_of(const char *prog, const char *cls)
{
	char tok[64];
	int n = 0;

	snprintf(tok, sizeof tok, "prog=%s", prog);
	for (const char *l = events_a; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		char line[2048];
		snprintf(line, sizeof line, "%.*s", (int)len, l);
		if (fx_log_count(line, tok) && (!cls || fx_log_find_class(line, cls)))
			n++;
	}
	return n;
}

Test(policy_runtime, program_sections_harden_one_observe_another_and_leave_the_rest)
{
	FX_REQUIRE_NETNS();
	FX_REQUIRE_PROGRAM("bash");
	int refused = fx_closed_port(), reset = 0;
	pid_t peer = fx_peer_reset(&reset);
	cr_assert_gt(peer, 0, "%s", fx_skip_reason());

	run_victims(plain_env, refused, reset);
	cr_assert_eq(victim_exit("a"), 141, "without the shim: %s", res.out);

	policy("mode = off\nlog = unix:%s\n[program sg_victim_a]\nmode = harden\n"
	       "[program sg_victim_b]\nmode = observe\n", sock_a);
	run_victims(shim(NULL), refused, reset);
	fx_stop(peer);
	collect();
	cr_expect_eq(victim_exit("a"), 0, "harden: %s", res.out);
	cr_expect_eq(victim_exit("b"), 141, "observe must not hide SIGPIPE: %s",
		     res.out);
	cr_expect_eq(victim_exit("c"), 141, "off: %s", res.out);
	cr_expect_eq(events_of("sg_victim_a", "refused"), 1, "%s", events_a);
	cr_expect_eq(events_of("sg_victim_a", "pipe"), 1, "%s", events_a);
	cr_expect_eq(events_of("sg_victim_b", "refused"), 1, "%s", events_a);
	cr_expect_eq(events_of("sg_victim_c", NULL), 0, "mode=off logged: %s",
		     events_a);
	cr_expect_eq(events_of("bash", NULL), 0, "the shell logged: %s", events_a);
}

/* Runs the copy of so_probe at path as a victim; returns its exit code. */
static int victim_at(const char *path, int refused, int reset)
{
	char r1[16], r2[16];

	snprintf(r1, sizeof r1, "%d", refused);
	snprintf(r2, sizeof r2, "%d", reset);
	char *argv[] = { (char *)path, "victim", r1, r2, NULL };
	run(shim(NULL), argv);
	return fx_exit_code(&res);
}

Test(policy_runtime, a_program_path_glob_matches_the_executable_path)
{
	FX_REQUIRE_NETNS();
	char sel[400], other[400];
	int refused = fx_closed_port(), reset = 0;
	pid_t peer = fx_peer_reset(&reset);
	cr_assert_gt(peer, 0, "%s", fx_skip_reason());

	snprintf(sel, sizeof sel, "%s/sel/so_probe", dir);
	snprintf(other, sizeof other, "%s/other/so_probe", dir);
	cr_assert_eq(fx_sh("mkdir -p %s/sel %s/other && cp '%s' '%s' && cp '%s' '%s'",
			   dir, dir, probe, sel, probe, other), 0);
	policy("mode = off\nlog = unix:%s\n[program %s/sel/*]\nmode = harden\n",
	       sock_a, dir);
	int rc_sel = victim_at(sel, refused, reset);
	collect();
	int logged_sel = events_of("so_probe", "refused");
	events_a[0] = '\0';
	int rc_other = victim_at(other, refused, reset);
	collect();
	fx_stop(peer);
	cr_expect_eq(rc_sel, 0, "the matching path was not hardened");
	cr_expect_eq(logged_sel, 1, "the matching path logged no refused line");
	cr_expect_eq(rc_other, 141, "the path outside the glob was hardened");
	cr_expect_eq(events_of("so_probe", NULL), 0, "%s", events_a);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

Test(policy_runtime, a_bad_policy_runs_with_the_defaults_and_is_reported_once)
{
	FX_REQUIRE_NETNS();
	char where[400];
	int refused = fx_closed_port(), reset = 0;
	pid_t peer = fx_peer_reset(&reset);
	cr_assert_gt(peer, 0, "%s", fx_skip_reason());

	policy("keepalive = on\nno_such_key = 1\nmode = off\n");
	int rc = victim_at(probe, refused, reset);
	fx_stop(peer);
	snprintf(where, sizeof where, "%s:2: ", conf);
	cr_expect_eq(count(res.err, where), 1, "the problem should be reported "
		     "once as FILE:2: message; stderr:\n%s", res.err);
	cr_expect_eq(count(res.err, "no_such_key"), 1, "the key is not named "
		     "once: %s", res.err);
	cr_expect_eq(rc, 0, "not the defaults (harden): died of %d", rc);
	cr_expect_eq(value("conn", "ka"), 0, "half the policy (keepalive) applied");
}

Test(policy_runtime, sockguard_options_override_the_file_and_its_program_section)
{
	int port = 0;
	cr_assert_geq(fx_listen_tcp(&port), 0, "%s", fx_skip_reason());

	policy("log = off\nuser_timeout = 1000\n[program so_probe]\n"
	       "user_timeout = 3000\nkeepalive = 5,6,7\n[program other]\n"
	       "user_timeout = 9\n");
	probe_connect(shim(NULL), "127.0.0.1", port, NULL);
	cr_assert_eq(value("opts", "uto"), 3000, "the [program] section: %s",
		     res.out);
	probe_connect(shim("user_timeout=2000"), "127.0.0.1", port, NULL);
	cr_expect_eq(value("opts", "uto"), 2000, "SOCKGUARD_OPTIONS lost to the file");
	cr_expect_eq(value("opts", "idle"), 5, "the rest of the file is kept");
}

/*
 * Secure execution: a setuid-root copy of so_probe run by nobody.  ld.so
 * preloads into it only a library named without a slash, from a trusted
 * directory, with the set-user-ID bit (ld.so(8)), so the shim is copied
 * there for the test: into an overlay of that directory in a private mount
 * namespace, so that the copy is seen by this test's processes alone and
 * goes with them, whatever becomes of the test.  The same file run by root
 * is not secure-exec: the control.
 */
static const char *trusted_dir(void)
{
	static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu",
					    "/usr/lib/aarch64-linux-gnu",
					    "/lib64", "/usr/lib" };
	struct stat sb;

	for (unsigned i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (stat(dirs[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			return dirs[i];
	}
	return NULL;
}

Test(policy_runtime, secure_execution_ignores_sockguard_options_and_config)
{
	struct stat sb;
	char suid[400], libname[64], preload[96], cfg[400], *uid_argv[16];
	char trusted_lib[256];
	int refused, reset = 0;

	FX_REQUIRE_NETNS();
	FX_REQUIRE_PROGRAM("setpriv");
	if (geteuid() != 0)
		cr_skip_test("needs root to make a setuid-root copy");
	if (getenv("SG_SANITIZE"))
		cr_skip_test("the ASan-built shim cannot be preloaded alone "
			     "into a secure-exec process");
	if (stat("/etc/sockguard.conf", &sb) == 0)
		cr_skip_test("/etc/sockguard.conf exists: it would apply");
	const char *tdir = trusted_dir();
	cr_assert_not_null(tdir);
	int rc = fx_private_overlay(tdir, dir, "lib");
	if (rc == -2)
		cr_skip_test("%s", fx_skip_reason());
	cr_assert_eq(rc, 0, "%s", fx_skip_reason());
	snprintf(libname, sizeof libname, "libsgtest-%d.so", (int)getpid());
	snprintf(trusted_lib, sizeof trusted_lib, "%s/%s", tdir, libname);
	snprintf(suid, sizeof suid, "%s/so_probe_suid", dir);
	cr_assert_eq(fx_sh("cp '%s' '%s' && chmod 4755 '%s' && cp '%s' '%s' && "
			   "chmod 4755 '%s'", fx_shim_path(), trusted_lib,
			   trusted_lib, probe, suid, suid), 0);
	policy("keepalive = on\nsigpipe = off\n");
	snprintf(cfg, sizeof cfg, "SOCKGUARD_CONFIG=%s", conf);
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", libname);
	refused = fx_closed_port();
	pid_t peer = fx_peer_reset(&reset);
	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	char r1[16], r2[16];
	snprintf(r1, sizeof r1, "%d", refused);
	snprintf(r2, sizeof r2, "%d", reset);

	int i = 0;
	char *as_nobody[] = { "setpriv", "--reuid=65534", "--regid=65534",
			      "--clear-groups", NULL };
	for (int k = 0; as_nobody[k]; k++)
		uid_argv[i++] = as_nobody[k];
	char *rest[] = { "env", preload, cfg,
			 "SOCKGUARD_OPTIONS=keepalive=5,6,7:sigpipe=off:log=off",
			 suid, "victim", r1, r2, NULL };
	for (int k = 0; rest[k]; k++)
		uid_argv[i++] = rest[k];
	uid_argv[i] = NULL;

	/* Control: the same file and environment, run by root. */
	run(plain_env, uid_argv + 4);
	cr_assert_not_null(strstr(res.out, "secure=0"), "%s%s", res.out, res.err);
	cr_assert_eq(value("conn", "idle"), 5, "the shim was not preloaded: %s%s",
		     res.out, res.err);
	cr_assert_eq(fx_exit_code(&res), 141, "sigpipe=off not honoured");

	run(plain_env, uid_argv);
	fx_stop(peer);
	cr_assert_not_null(strstr(res.out, "secure=1"), "not secure-exec: %s%s",
			   res.out, res.err);
	cr_expect_eq(fx_exit_code(&res), 0, "died of SIGPIPE: the shim was not "
		     "preloaded, or SOCKGUARD_OPTIONS/CONFIG sigpipe=off applied:"
		     "\n%s%s", res.out, res.err);
	cr_expect_eq(value("conn", "ka"), 0, "SOCKGUARD_OPTIONS or CONFIG "
		     "keepalive applied in a secure-exec process");
}
