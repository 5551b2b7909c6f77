/*
 * The TCP option keys against the real kernel:
 * keepalive, user_timeout, sndbuf and rcvbuf, read back with getsockopt and
 * TCP_INFO by tests/progs/so_probe on connected and accepted sockets, and
 * seen from outside with `ss -tio`.  A value the program set itself must win.
 *
 * Each case runs so_probe without the shim (or with the key off) as well,
 * so that a test that proves nothing fails.  Every run has a timeout.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"

#define KA_OPTS "keepalive=5,6,7:user_timeout=1234"
#define BUF_OPTS "sndbuf=65536:rcvbuf=8192"

static char probe[512];
static struct fx_result res;

static void setup(void)
{
	fx_suite_open();
	fx_prog_path("so_probe", probe, sizeof probe);
}

TestSuite(sockopts, .init = setup, .fini = fx_suite_close, .timeout = 60);

/* The environment for a run: NULL options means without the shim. */
static char **env_with(const char *options)
{
	return options ? fx_env_shim(&env, options) : fx_env_plain(&env);
}

/* Runs so_probe ARGS... with options (NULL: no shim); asserts it ran. */
static void probe_run(const char *options, const char *a1, const char *a2,
		      const char *a3, const char *a4, const char *a5)
{
	char *argv[] = { probe, (char *)a1, (char *)a2, (char *)a3,
			 (char *)a4, (char *)a5, NULL };

	cr_assert_eq(fx_run(argv, env_with(options), 10000, &res), 0,
		     "so_probe %s: %s\nstdout: %s\nstderr: %s", a1,
		     fx_skip_reason(), res.out, res.err);
	cr_assert_eq(fx_exit_code(&res), 0, "so_probe %s exited %d\n%s%s", a1,
		     fx_exit_code(&res), res.out, res.err);
}

/* The value of key on the line of out that begins with "tag ". */
static long value(const char *out, const char *tag, const char *key)
{
	char want[64], tok[64];
	const char *line = out;
	size_t tlen = (size_t)snprintf(want, sizeof want, "%s ", tag);

	while (line && strncmp(line, want, tlen) != 0) {
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	cr_assert_not_null(line, "no \"%s\" line in:\n%s", tag, out);
	snprintf(tok, sizeof tok, " %s=", key);
	const char *p = strstr(line, tok);
	const char *end = strchr(line, '\n');
	cr_assert(p && (!end || p < end), "no %s on the %s line:\n%s", key, tag,
		  out);
	return strtol(p + strlen(tok), NULL, 10);
}

static long opt(const char *key)
{
	return value(res.out, "opts", key);
}

static void connect_probe(const char *options, int port, const char *flag)
{
	char p[16];

	snprintf(p, sizeof p, "%d", port);
	probe_run(options, "connect", "127.0.0.1", p, flag, NULL);
}

static int listener(void)
{
	int port = 0;
	int fd = fx_listen_tcp(&port);

	cr_assert_geq(fd, 0, "%s", fx_skip_reason());
	return port;
}

Test(sockopts, keepalive_on_is_set_on_a_connected_socket)
{
	int port = listener();

	connect_probe(NULL, port, NULL);
	cr_assert_eq(opt("ka"), 0, "keepalive already on without the shim");
	connect_probe("keepalive=off", port, NULL);
	cr_assert_eq(opt("ka"), 0, "keepalive=off turned keepalive on");
	connect_probe("keepalive=on", port, NULL);
	cr_expect_eq(opt("ka"), 1, "keepalive=on: SO_KEEPALIVE is %ld", opt("ka"));
	cr_expect_eq(opt("idle"), 7200, "keepalive=on changed the kernel's idle");
}

Test(sockopts, keepalive_idle_intvl_cnt_are_set_on_a_connected_socket)
{
	int port = listener();

	connect_probe(NULL, port, NULL);
	cr_assert_eq(opt("idle"), 7200);
	connect_probe("keepalive=5,6,7", port, NULL);
	cr_expect_eq(opt("ka"), 1);
	cr_expect_eq(opt("idle"), 5, "TCP_KEEPIDLE %ld", opt("idle"));
	cr_expect_eq(opt("intvl"), 6, "TCP_KEEPINTVL %ld", opt("intvl"));
	cr_expect_eq(opt("cnt"), 7, "TCP_KEEPCNT %ld", opt("cnt"));
}

Test(sockopts, user_timeout_is_set_on_a_connected_socket)
{
	int port = listener();

	connect_probe(NULL, port, NULL);
	cr_assert_eq(opt("uto"), 0);
	connect_probe("user_timeout=1234", port, NULL);
	cr_expect_eq(opt("uto"), 1234, "TCP_USER_TIMEOUT %ld", opt("uto"));
	cr_expect_eq(opt("ka"), 0, "user_timeout alone turned keepalive on");
}

/*
 * The server side: so_probe accepts one connection that a thread of ours
 * makes (retrying until the probe listens), and prints the accepted
 * socket's options.
 */
struct dialer {
	pthread_t thread;
	int port, fd, stop;
};

static void *dial(void *arg)
{
	struct dialer *d = arg;

	for (int i = 0; i < 300 && d->fd < 0; i++) {
		d->fd = fx_connect_tcp(d->port);
		if (d->fd < 0)
			usleep(10000);
	}
	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE))
		usleep(10000);
	if (d->fd >= 0)
		close(d->fd);
	return NULL;
}

static void dialer_start(struct dialer *d, int port)
{
	d->port = port;
	d->fd = -1;
	d->stop = 0;
	cr_assert_eq(pthread_create(&d->thread, NULL, dial, d), 0);
}

static void dialer_stop(struct dialer *d)
{
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	pthread_join(d->thread, NULL);
}

static void serve_probe(const char *options, const char *f1, const char *f2)
{
	struct dialer d;
	char p[16];
	int port = fx_closed_port();

	cr_assert_gt(port, 0, "%s", fx_skip_reason());
	snprintf(p, sizeof p, "%d", port);
	dialer_start(&d, port);
	probe_run(options, "serve", p, f1, f2, NULL);
	dialer_stop(&d);
}

Test(sockopts, keepalive_and_user_timeout_are_set_on_an_accepted_socket)
{
	serve_probe(NULL, NULL, NULL);
	cr_assert_eq(opt("ka"), 0);
	cr_assert_eq(opt("uto"), 0);
	serve_probe(KA_OPTS, NULL, NULL);
	cr_expect_eq(opt("ka"), 1, "accepted socket: SO_KEEPALIVE %ld", opt("ka"));
	cr_expect_eq(opt("idle"), 5);
	cr_expect_eq(opt("intvl"), 6);
	cr_expect_eq(opt("cnt"), 7);
	cr_expect_eq(opt("uto"), 1234, "accepted socket: TCP_USER_TIMEOUT %ld",
		     opt("uto"));
}

/* `ss -tioHn state established` for one port filter, into buf. */
static void ss_output(const char *filter, char *buf, size_t len)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "ss -tioHn state established '( %s )' 2>&1",
		 filter);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(buf, 1, len - 1, p);
	buf[n] = '\0';
	pclose(p);
}

/*
 * Starts so_probe (argv after the program) in the background with options,
 * waits for its "opts" line, and returns what ss shows for filter.
 */
static void ss_while_probe_holds(const char *options, char **args,
				 const char *filter, char *out, size_t len)
{
	char log[400], *argv[8] = { probe };
	struct dialer d = { .fd = -1 };

	for (int i = 0; args[i] && i < 6; i++)
		argv[i + 1] = args[i];
	snprintf(log, sizeof log, "%s/probe.%d.log", env.dir, rand());
	if (strcmp(args[0], "serve") == 0)
		dialer_start(&d, atoi(args[1]));
	pid_t pid = fx_spawn(argv, env_with(options), log);
	cr_assert_gt(pid, 0, "%s", fx_skip_reason());
	int seen = fx_wait_file(log, "opts ", 5000);
	if (seen)
		ss_output(filter, out, len);
	fx_stop(pid);
	if (strcmp(args[0], "serve") == 0)
		dialer_stop(&d);
	cr_assert(seen, "so_probe printed no options");
}

Test(sockopts, ss_shows_the_keepalive_timer_of_an_idle_connected_socket)
{
	char out[4096], p[16], filter[64];

	FX_REQUIRE_NETNS();
	FX_REQUIRE_PROGRAM("ss");
	int port = listener();
	snprintf(p, sizeof p, "%d", port);
	snprintf(filter, sizeof filter, "dport = :%d", port);
	char *args[] = { "connect", "127.0.0.1", p, "hold=4000", NULL };

	ss_while_probe_holds(NULL, args, filter, out, sizeof out);
	cr_assert_not_null(strstr(out, "127.0.0.1"), "ss shows no connection:\n%s", out);
	cr_assert_null(strstr(out, "timer:(keepalive"), "without the shim:\n%s", out);
	ss_while_probe_holds("keepalive=on", args, filter, out, sizeof out);
	cr_expect_not_null(strstr(out, "timer:(keepalive,1"), "keepalive=on "
			   "(2 h idle, shown in minutes):\n%s", out);
	ss_while_probe_holds("keepalive=5,6,7", args, filter, out, sizeof out);
	cr_expect(strstr(out, "timer:(keepalive,4.") ||
		  strstr(out, "timer:(keepalive,5sec"),
		  "keepalive=5,6,7 (5 s idle):\n%s", out);
}

Test(sockopts, ss_shows_the_keepalive_timer_of_an_idle_accepted_socket)
{
	char out[4096], p[16], filter[64];

	FX_REQUIRE_NETNS();
	FX_REQUIRE_PROGRAM("ss");
	int port = fx_closed_port();
	snprintf(p, sizeof p, "%d", port);
	snprintf(filter, sizeof filter, "sport = :%d", port);
	char *args[] = { "serve", p, "hold=4000", NULL };

	ss_while_probe_holds(NULL, args, filter, out, sizeof out);
	cr_assert_null(strstr(out, "timer:(keepalive"), "without the shim:\n%s", out);
	ss_while_probe_holds("keepalive=5,6,7", args, filter, out, sizeof out);
	cr_expect(strstr(out, "timer:(keepalive,4.") ||
		  strstr(out, "timer:(keepalive,5sec"),
		  "accepted socket, keepalive=5,6,7:\n%s", out);
}

/* so_probe's "own" values: keepalive 100,20,3, user_timeout 777, 24576. */
static void expect_own_values(const char *where)
{
	cr_expect_eq(opt("ka"), 1, "%s: SO_KEEPALIVE", where);
	cr_expect_eq(opt("idle"), 100, "%s: the policy replaced the program's "
		     "TCP_KEEPIDLE 100 by %ld", where, opt("idle"));
	cr_expect_eq(opt("intvl"), 20, "%s: TCP_KEEPINTVL %ld", where, opt("intvl"));
	cr_expect_eq(opt("cnt"), 3, "%s: TCP_KEEPCNT %ld", where, opt("cnt"));
	cr_expect_eq(opt("uto"), 777, "%s: the policy replaced the program's "
		     "TCP_USER_TIMEOUT 777 by %ld", where, opt("uto"));
	cr_expect_eq(opt("snd"), 2 * 24576, "%s: SO_SNDBUF %ld", where, opt("snd"));
	cr_expect_eq(opt("rcv"), 2 * 24576, "%s: SO_RCVBUF %ld", where, opt("rcv"));
}

Test(sockopts, a_program_that_set_its_own_options_keeps_them_after_connect)
{
	int port = listener();

	connect_probe(KA_OPTS ":" BUF_OPTS, port, NULL);
	cr_assert_eq(opt("idle"), 5, "the policy is not applied at all");
	connect_probe(KA_OPTS ":" BUF_OPTS, port, "own");
	expect_own_values("connected socket");
}

Test(sockopts, a_program_that_turned_keepalive_off_keeps_it_off)
{
	int port = listener();

	connect_probe("keepalive=on", port, NULL);
	cr_assert_eq(opt("ka"), 1);
	connect_probe("keepalive=on", port, "ka0");
	cr_expect_eq(opt("ka"), 0, "the program's SO_KEEPALIVE 0 was overridden");
}

Test(sockopts, accepted_sockets_keep_what_the_program_set_on_its_listener)
{
	serve_probe(KA_OPTS ":" BUF_OPTS, NULL, NULL);
	cr_assert_eq(opt("uto"), 1234, "the policy is not applied at all");
	serve_probe(KA_OPTS ":" BUF_OPTS, "own", NULL);
	expect_own_values("accepted socket");
}

/*
 * Socket activation (systemd, inetd): the listener comes from the parent
 * through exec, and the program configures it itself before accepting.  The
 * shim learns of the descriptor only at that setsockopt.
 */
Test(sockopts, accepted_sockets_keep_what_the_program_set_on_an_inherited_listener)
{
	serve_probe(KA_OPTS ":" BUF_OPTS, "own", NULL);
	cr_assert_eq(opt("uto"), 777);
	serve_probe(KA_OPTS ":" BUF_OPTS, "inherit", NULL);
	expect_own_values("accepted from an inherited listener");
}

Test(sockopts, sndbuf_and_rcvbuf_show_the_kernels_doubled_value)
{
	int port = listener();

	connect_probe(NULL, port, NULL);
	cr_assert_neq(opt("snd"), 131072);
	cr_assert_neq(opt("rcv"), 16384);
	connect_probe(BUF_OPTS, port, NULL);
	cr_expect_eq(opt("snd"), 131072, "connected: SO_SNDBUF %ld", opt("snd"));
	cr_expect_eq(opt("rcv"), 16384, "connected: SO_RCVBUF %ld", opt("rcv"));
	serve_probe(BUF_OPTS, NULL, NULL);
	cr_expect_eq(opt("snd"), 131072, "accepted: SO_SNDBUF %ld", opt("snd"));
	cr_expect_eq(opt("rcv"), 16384, "accepted: SO_RCVBUF %ld", opt("rcv"));
	connect_probe(BUF_OPTS, port, "own");
	cr_expect_eq(opt("snd"), 2 * 24576, "the program's SO_SNDBUF overridden");
	cr_expect_eq(opt("rcv"), 2 * 24576, "the program's SO_RCVBUF overridden");
}

/*
 * The window scale is chosen from the receive buffer when the SYN goes out
 * (for a listener: when the SYN-ACK does), so a small rcvbuf that is in
 * place before the handshake announces a smaller scale than the default.
 */
Test(sockopts, rcvbuf_is_in_place_before_the_handshake)
{
	int port = listener();

	connect_probe(NULL, port, NULL);
	long plain = opt("wscale");
	cr_assert_gt(plain, 0, "the kernel announces no window scale");
	connect_probe("rcvbuf=8192", port, NULL);
	cr_expect_lt(opt("wscale"), plain, "connected: wscale %ld as without "
		     "rcvbuf: set after the SYN", opt("wscale"));
	serve_probe(NULL, NULL, NULL);
	plain = opt("wscale");
	cr_assert_gt(plain, 0);
	serve_probe("rcvbuf=8192", NULL, NULL);
	cr_expect_lt(opt("wscale"), plain, "accepted: wscale %ld as without "
		     "rcvbuf: not set on the listener", opt("wscale"));
}

Test(sockopts, a_nonblocking_connect_gets_the_options_once_so_error_reports_success)
{
	int port = listener();

	connect_probe(KA_OPTS, port, "nb");
	cr_assert_not_null(strstr(res.out, "so_error=0"), "%s", res.out);
	cr_expect_eq(value(res.out, "pending", "ka"), 0,
		     "keepalive set before the connection was made");
	cr_expect_eq(opt("ka"), 1, "after SO_ERROR: SO_KEEPALIVE %ld", opt("ka"));
	cr_expect_eq(opt("idle"), 5);
	cr_expect_eq(opt("uto"), 1234);
	connect_probe(NULL, port, "nb");
	cr_assert_eq(opt("ka"), 0);
}

/* connect_timeout concerns blocking connects only: it must not stop the rest. */
Test(sockopts, a_nonblocking_connect_gets_the_options_when_connect_timeout_is_set)
{
	int port = listener();

	connect_probe(KA_OPTS ":connect_timeout=3000", port, "nb");
	cr_assert_not_null(strstr(res.out, "so_error=0"), "%s", res.out);
	cr_expect_eq(opt("ka"), 1, "keepalive not applied after SO_ERROR when "
		     "connect_timeout is set:\n%s", res.out);
	cr_expect_eq(opt("uto"), 1234, "user_timeout not applied");
}

Test(sockopts, observe_mode_sets_no_option)
{
	int port = listener();

	connect_probe(KA_OPTS ":" BUF_OPTS, port, NULL);
	cr_assert_eq(opt("ka"), 1);
	connect_probe("mode=observe:" KA_OPTS ":" BUF_OPTS, port, NULL);
	cr_expect_eq(opt("ka"), 0);
	cr_expect_eq(opt("uto"), 0);
	cr_expect_neq(opt("rcv"), 16384);
	serve_probe("mode=observe:" KA_OPTS ":" BUF_OPTS, NULL, NULL);
	cr_expect_eq(opt("ka"), 0);
	cr_expect_neq(opt("rcv"), 16384);
}
