/*
 * EINTR against the real kernel (man page keys eintr, eintr_pass,
 * retry_max, mode): real signals from real children and timers, real
 * sockets, programs from tests/progs run with and without the shim.  Every
 * behaviour is shown to fail without the shim (or with the feature off),
 * and to hold under it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"

/*
 * Under the shim, programs log nowhere (log=off) unless a test says where,
 * and read an empty policy file.
 */
TestSuite(eintr, .init = fx_suite_open, .fini = fx_suite_close);

/* Runs a program; the result must be a completed run. */
static void run(char *const argv[], char *const *vars, int timeout_ms,
		struct fx_result *r)
{
	int rc = fx_run(argv, vars, timeout_ms, r);
	cr_assert_eq(rc, 0, "%s: %s (stdout: %s, stderr: %s)", argv[0],
		     fx_skip_reason(), r->out, r->err);
}

/* The integer after "key=" in text, or fails the test. */
static long field(const char *text, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), " %s=", key);
	const char *p = strstr(text, pat);
	cr_assert_not_null(p, "no %s= in: %s", key, text);
	return strtol(p + strlen(pat), NULL, 10);
}

/* The word after "key=" in text, into buf. */
static const char *word(const char *text, const char *key, char *buf, size_t len)
{
	char pat[64];
	snprintf(pat, sizeof(pat), " %s=", key);
	const char *p = strstr(text, pat);
	cr_assert_not_null(p, "no %s= in: %s", key, text);
	p += strlen(pat);
	size_t n = strcspn(p, " \n");
	snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), p);
	return buf;
}

/*
 * The SIGCHLD server (tests/progs/sig_server.c)
 */

struct server {
	pid_t pid;
	int port;
	char log[320];
};

/* 1 when the server exited (status in *st) within ms. */
static int server_exited(struct server *s, int ms, int *st)
{
	long deadline = fx_now_ms() + ms;

	do {
		pid_t r = waitpid(s->pid, st, WNOHANG);
		if (r == s->pid) {
			s->pid = -1;
			return 1;
		}
		usleep(1000);
	} while (fx_now_ms() < deadline);
	return 0;
}

static void start_server(struct server *s, char *const *vars, int count,
			 int term)
{
	char port[16], cnt[16], out[4096];

	snprintf(s->log, sizeof(s->log), "%s/server.log", env.dir);
	unlink(s->log);
	s->port = fx_closed_port();
	cr_assert_gt(s->port, 0);
	snprintf(port, sizeof(port), "%d", s->port);
	snprintf(cnt, sizeof(cnt), "%d", count);
	char *argv[] = { (char *)fx_prog("sig_server"), port, cnt,
			 term ? "term" : NULL, NULL };
	s->pid = fx_spawn(argv, vars, s->log);
	cr_assert_gt(s->pid, 0, "%s", fx_skip_reason());
	cr_assert(fx_wait_file(s->log, "listening", 3000),
		  "server did not start: %s",
		  fx_read_file(s->log, out, sizeof(out)));
}

static void stop_server(struct server *s)
{
	if (s->pid > 0)
		fx_stop(s->pid);
	s->pid = -1;
}

/* One connection, one line there and back; 0 on success, else errno. */
static int exchange(int port, int i)
{
	char line[64], back[64];
	struct timeval tv = { 2, 0 };
	int fd = fx_connect_tcp(port);
	size_t used = 0;
	int err = 0;

	if (fd < 0)
		return errno ? errno : EIO;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* Now and then the server waits in read() while SIGCHLD arrives. */
	if (i % 4 == 0)
		usleep(1000);
	int n = snprintf(line, sizeof(line), "line %d\n", i);
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		err = errno ? errno : EIO;
	while (!err && used < (size_t)n) {
		ssize_t got = recv(fd, back + used, sizeof(back) - used, 0);
		if (got <= 0)
			err = got < 0 ? errno : ECONNRESET;
		else
			used += (size_t)got;
	}
	if (!err && memcmp(line, back, (size_t)n) != 0)
		err = EPROTO;
	close(fd);
	return err;
}

/* Exchanges up to count lines; returns how many succeeded before a failure. */
static int client_loop(int port, int count, int *err)
{
	*err = 0;
	for (int i = 0; i < count; i++) {
		*err = exchange(port, i);
		if (*err)
			return i;
	}
	return count;
}

/* The server must die of its own EINTR handling, before serving 1000. */
static void expect_server_dies(char *const *vars, const char *why)
{
	struct server s;
	char out[4096];
	int st = 0, err;

	start_server(&s, vars, 1000, 0);
	int done = client_loop(s.port, 1000, &err);
	int exited = server_exited(&s, 3000, &st);
	fx_read_file(s.log, out, sizeof(out));
	stop_server(&s);
	cr_assert(exited, "%s: the server is still running after %d lines", why,
		  done);
	cr_expect_lt(done, 1000, "%s: all 1000 lines were served", why);
	cr_expect(WIFEXITED(st) && (WEXITSTATUS(st) == 3 || WEXITSTATUS(st) == 4),
		  "%s: status %#x, want exit 3/4 (EINTR fatal); log: %s", why, st,
		  out);
	cr_expect(strstr(out, "Interrupted system call"), "%s: log: %s", why, out);
}

Test(eintr, sigchld_server_dies_of_eintr_without_shim, .timeout = 20)
{
	expect_server_dies(fx_env_plain(&env), "without the shim");
}

Test(eintr, sigchld_server_dies_with_eintr_pass, .timeout = 20)
{
	expect_server_dies(fx_env_shim(&env, "eintr=pass"), "eintr=pass");
}

Test(eintr, sigchld_server_dies_in_observe_mode, .timeout = 20)
{
	expect_server_dies(fx_env_shim(&env, "mode=observe"), "mode=observe");
}

Test(eintr, sigchld_server_dies_in_off_mode, .timeout = 20)
{
	expect_server_dies(fx_env_shim(&env, "mode=off"), "mode=off");
}

Test(eintr, sigchld_server_serves_1000_connections_under_shim, .timeout = 30)
{
	struct server s;
	char out[4096];
	int st = 0, err;

	start_server(&s, fx_env_shim(&env, ""), 1000, 0);
	int done = client_loop(s.port, 1000, &err);
	int exited = server_exited(&s, 5000, &st);
	fx_read_file(s.log, out, sizeof(out));
	stop_server(&s);
	cr_expect_eq(done, 1000, "only %d lines served (%s); log: %s", done,
		     strerror(err), out);
	cr_assert(exited, "server still running; log: %s", out);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x; log: %s",
		  st, out);
	cr_expect(strstr(out, "served 1000"), "log: %s", out);
	/* Signals really arrived while it served: the test proves something. */
	long n = 0;
	const char *p = strstr(out, "served 1000 (");
	if (p)
		n = strtol(p + strlen("served 1000 ("), NULL, 10);
	cr_expect_gt(n, 20, "only %ld SIGCHLD during the run: %s", n, out);
}

/* SIGTERM while the server is blocked in accept: ms until it exited. */
static long sigterm_stop_ms(char *const *vars, int *st, char *out, size_t len)
{
	struct server s;
	int err;

	start_server(&s, vars, 100000, 1);
	int done = client_loop(s.port, 50, &err);
	cr_expect_eq(done, 50, "served %d of 50 before SIGTERM: %s", done,
		     strerror(err));
	usleep(50000);	/* blocked in accept, with SIGCHLD arriving */
	long t0 = fx_now_ms();
	kill(s.pid, SIGTERM);
	int exited = server_exited(&s, 1000, st);
	long ms = fx_now_ms() - t0;
	if (!exited)
		kill(s.pid, SIGKILL);
	fx_read_file(s.log, out, len);
	stop_server(&s);
	return exited ? ms : -1;
}

Test(eintr, sigterm_flag_handler_stops_server_within_100ms_under_shim,
     .timeout = 20)
{
	char out[4096];
	int st = 0;
	long ms = sigterm_stop_ms(fx_env_shim(&env, ""), &st, out, sizeof(out));

	cr_assert_geq(ms, 0, "the server did not stop within 1 s of SIGTERM: %s",
		      out);
	cr_expect_leq(ms, 100, "stopped %ld ms after SIGTERM", ms);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x: %s", st, out);
	cr_expect(strstr(out, "stopped after 50"), "log: %s", out);
}

/* The control: with TERM taken out of eintr_pass, the EINTR is retried. */
Test(eintr, sigterm_not_in_eintr_pass_is_retried_and_server_keeps_running,
     .timeout = 20)
{
	char out[4096];
	int st = 0;
	long ms = sigterm_stop_ms(fx_env_shim(&env, "eintr_pass=HUP"), &st, out,
				  sizeof(out));

	cr_expect_eq(ms, -1, "stopped %ld ms after SIGTERM although TERM is not "
		     "in eintr_pass: %s", ms, out);
}

/*
 * connect() and signals, in a private network namespace
 */

/*
 * sig_connect MODE PORT [ARG] (tests/progs/sig_connect.c) against a port
 * that drops every SYN, for at most timeout_ms.
 */
static void blackhole_run(const char *mode, const char *arg,
			  char *const *vars, int timeout_ms,
			  struct fx_result *r)
{
	int lfd, port;

	FX_REQUIRE_NETNS();
	lfd = fx_listen_tcp(&port);
	cr_assert_geq(lfd, 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_fault_add(FX_DROP, port), 0, "%s", fx_skip_reason());
	char *argv[] = { (char *)fx_prog("sig_connect"), (char *)mode,
			 fx_num(port), (char *)arg, NULL };
	fx_run(argv, vars, timeout_ms, r);
	close(lfd);
}

/* alarm(1) around a connect to a black hole: EINTR after ~1 s. */
static void alarm_connect(char *const *vars, struct fx_result *r)
{
	blackhole_run("alarm", NULL, vars, 2500, r);
}

Test(eintr, alarm_connect_timeout_fires_without_shim, .timeout = 20)
{
	struct fx_result r;
	char e[32];

	alarm_connect(fx_env_plain(&env), &r);
	cr_assert(!r.timed_out, "connect was not interrupted: %s", r.out);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "%s", r.out);
}

Test(eintr, alarm_connect_timeout_still_fires_under_shim, .timeout = 20)
{
	struct fx_result r;
	char e[32];

	alarm_connect(fx_env_shim(&env, ""), &r);
	cr_assert(!r.timed_out, "alarm(1) did not interrupt connect: %s", r.out);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "%s", r.out);
	long ms = field(r.out, "elapsed");
	cr_expect(ms >= 900 && ms <= 1300, "connect returned after %ld ms", ms);
	cr_expect_eq(field(r.out, "alarms"), 1, "%s", r.out);
	cr_expect_gt(field(r.out, "signals"), 20, "SIGCHLD not arriving: %s", r.out);
}

/* The control: ALRM taken out of eintr_pass, the alarm no longer ends it. */
Test(eintr, alarm_connect_hangs_when_alrm_not_in_eintr_pass, .timeout = 20)
{
	struct fx_result r;

	alarm_connect(fx_env_shim(&env, "eintr_pass=HUP"), &r);
	cr_expect(r.timed_out, "connect returned: %s", r.out);
}

/* A SYN-dropping rule lifted after 200 ms; SIGCHLD every 10 ms meanwhile. */
static void delayed_connect(char *const *vars, struct fx_result *r)
{
	int port;
	char p[16];

	FX_REQUIRE_NETNS();
	pid_t peer = fx_peer_echo(&port);
	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_fault_add(FX_DROP, port), 0, "%s", fx_skip_reason());
	pid_t lifter = fx_fault_del_after(FX_DROP, port, 200);
	cr_assert_gt(lifter, 0, "%s", fx_skip_reason());
	snprintf(p, sizeof(p), "%d", port);
	char *argv[] = { (char *)fx_prog("sig_connect"), "timer", p, "10", NULL };
	fx_run(argv, vars, 5000, r);
	waitpid(lifter, NULL, 0);
	fx_stop(peer);
}

Test(eintr, interrupted_connect_returns_eintr_without_shim,
     .timeout = 20)
{
	struct fx_result r;
	char e[32];

	delayed_connect(fx_env_plain(&env), &r);
	cr_assert(!r.timed_out, "%s", r.out);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "%s", r.out);
	cr_expect_lt(field(r.out, "elapsed"), 200, "%s", r.out);
	/*
	 * connect(2): the connection is still under way; a second blocking
	 * connect waits for it (Linux) or says EALREADY.
	 */
	cr_expect(strstr(r.out, "again rc=0") || strstr(r.out, "errno=EALREADY"),
		  "%s", r.out);
}

Test(eintr, interrupted_connect_completes_and_socket_works_under_shim,
     .timeout = 20)
{
	struct fx_result r;
	char e[32];

	delayed_connect(fx_env_shim(&env, ""), &r);
	cr_assert(!r.timed_out, "%s", r.out);
	cr_expect_eq(field(r.out, "rc"), 0, "%s", r.out);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "0", "%s", r.out);
	/* The SYN retransmitted after 1 s got in: ~1000 ms, many signals. */
	long ms = field(r.out, "elapsed");
	cr_expect(ms >= 800 && ms <= 3500, "connected after %ld ms", ms);
	cr_expect_gt(field(r.out, "signals"), 20, "%s", r.out);
	cr_expect(strstr(r.out, "echo ok"), "socket not usable: %s", r.out);
}

/*
 * Readiness calls and socket timeouts: SIGCHLD every 10 ms, 500 ms timeout
 */

static void sig_wait(const char *call, const char *sig, const char *period,
		     const char *timeout, char *const *vars, struct fx_result *r)
{
	char *argv[] = { (char *)fx_prog("sig_wait"), (char *)call, (char *)sig,
			 (char *)period, (char *)timeout, NULL };
	run(argv, vars, 5000, r);
}

/* Without the shim the first SIGCHLD ends the wait with EINTR. */
static void expect_early_eintr(const char *call, char *const *vars)
{
	struct fx_result r;
	char e[32];

	sig_wait(call, "CHLD", "10", "500", vars, &r);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "%s", r.out);
	cr_expect_lt(field(r.out, "elapsed"), 100, "%s", r.out);
}

/* Under the shim: the whole 500 ms, then the call's own timeout result. */
static void expect_full_timeout(const char *call, const char *want_errno,
				long want_rc)
{
	struct fx_result r;
	char e[32];

	sig_wait(call, "CHLD", "10", "500", fx_env_shim(&env, ""), &r);
	cr_expect_eq(field(r.out, "rc"), want_rc, "%s", r.out);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), want_errno, "%s",
			 r.out);
	long ms = field(r.out, "elapsed");
	cr_expect(ms >= 450 && ms <= 650, "%s returned after %ld ms: %s", call, ms,
		  r.out);
	cr_expect_gt(field(r.out, "signals"), 20, "%s", r.out);
}

static void readiness_case(const char *call)
{
	expect_early_eintr(call, fx_env_plain(&env));
	expect_early_eintr(call, fx_env_shim(&env, "eintr=pass"));
	expect_full_timeout(call, "0", 0);
}

Test(eintr, poll_waits_its_500ms_through_sigchld, .timeout = 20)
{
	readiness_case("poll");
}

Test(eintr, ppoll_waits_its_500ms_through_sigchld, .timeout = 20)
{
	readiness_case("ppoll");
}

Test(eintr, select_waits_its_500ms_through_sigchld, .timeout = 20)
{
	readiness_case("select");
}

Test(eintr, pselect_waits_its_500ms_through_sigchld, .timeout = 20)
{
	readiness_case("pselect");
}

Test(eintr, epoll_wait_waits_its_500ms_through_sigchld, .timeout = 20)
{
	readiness_case("epoll_wait");
}

Test(eintr, epoll_pwait_waits_its_500ms_through_sigchld, .timeout = 20)
{
	readiness_case("epoll_pwait");
}

Test(eintr, recv_with_so_rcvtimeo_times_out_after_500ms_through_sigchld,
     .timeout = 20)
{
	expect_early_eintr("recv_timeo", fx_env_plain(&env));
	expect_full_timeout("recv_timeo", "EAGAIN", -1);
}

Test(eintr, accept_with_so_rcvtimeo_times_out_after_500ms_through_sigchld,
     .timeout = 20)
{
	expect_early_eintr("accept_timeo", fx_env_plain(&env));
	expect_full_timeout("accept_timeo", "EAGAIN", -1);
}

/* A signal in eintr_pass still ends a readiness wait at once. */
Test(eintr, poll_returns_eintr_for_a_pass_signal_under_shim, .timeout = 20)
{
	struct fx_result r;
	char e[32];

	sig_wait("poll", "USR1", "10", "500", fx_env_shim(&env, ""), &r);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "%s", r.out);
	cr_expect_lt(field(r.out, "elapsed"), 100, "%s", r.out);
}

/* Hundreds of EINTRs in one read, with retry_max=2: still blocked, then data. */
Test(eintr, eintr_retries_are_not_counted_against_retry_max, .timeout = 20)
{
	struct fx_result r;
	char e[32];

	sig_wait("read", "CHLD", "1", "300", fx_env_plain(&env), &r);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "%s", r.out);
	sig_wait("read", "CHLD", "1", "300", fx_env_shim(&env, "retry_max=2"), &r);
	cr_expect_eq(field(r.out, "rc"), 1, "%s", r.out);
	cr_expect_gt(field(r.out, "signals"), 100, "%s", r.out);
	long ms = field(r.out, "elapsed");
	cr_expect(ms >= 280 && ms <= 600, "read returned after %ld ms", ms);
}

/*
 * A real-time signal named in eintr_pass: a program that bounds a blocking
 * recv with a timer_create(2) timer signalling SIGRTMIN+1 gets its EINTR;
 * by default that signal is not passed and the recv is retried until data
 * comes (500 ms).
 */
Test(eintr, eintr_pass_rtmin_plus_1_returns_the_eintr_of_a_timer_signal,
     .timeout = 20)
{
	struct fx_result r;
	char e[32];

	sig_wait("recv", "RTMIN+1", "100", "500", fx_env_plain(&env), &r);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "%s", r.out);
	sig_wait("recv", "RTMIN+1", "100", "500",
		 fx_env_shim(&env, "eintr_pass=RTMIN+1"), &r);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "%s%s",
			 r.out, r.err);
	long ms = field(r.out, "elapsed");
	cr_expect(ms >= 80 && ms < 400, "recv returned after %ld ms", ms);
	sig_wait("recv", "RTMIN+1", "100", "500", fx_env_shim(&env, ""), &r);
	cr_expect_eq(field(r.out, "rc"), 1, "%s", r.out);
	cr_expect_gt(field(r.out, "signals"), 2, "%s", r.out);
	ms = field(r.out, "elapsed");
	cr_expect(ms >= 450 && ms <= 900, "recv returned after %ld ms", ms);
}

/*
 * Threads: which signals ran is accounted per thread
 */

static void sig_threads(const char *how, char *const *vars, struct fx_result *r)
{
	char *argv[] = { (char *)fx_prog("sig_threads"), (char *)how, NULL };
	run(argv, vars, 5000, r);
}

Test(eintr, pass_signal_on_another_thread_does_not_return_eintr_here,
     .timeout = 20)
{
	struct fx_result r;
	char e[32];

	sig_threads("other", fx_env_plain(&env), &r);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "%s", r.out);
	sig_threads("other", fx_env_shim(&env, ""), &r);
	cr_expect_eq(field(r.out, "rc"), 1, "%s", r.out);
	cr_expect_geq(field(r.out, "elapsed"), 380, "%s", r.out);
	cr_expect_geq(field(r.out, "term_on_b"), 2, "%s", r.out);
	cr_expect_eq(field(r.out, "term_on_a"), 0, "%s", r.out);
	cr_expect_geq(field(r.out, "chld_on_a"), 2, "%s", r.out);
}

Test(eintr, pass_signal_on_the_same_thread_returns_eintr, .timeout = 20)
{
	struct fx_result r;
	char e[32];

	sig_threads("same", fx_env_shim(&env, ""), &r);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "%s", r.out);
	cr_expect_lt(field(r.out, "elapsed"), 200, "%s", r.out);
	cr_expect_geq(field(r.out, "term_on_a"), 1, "%s", r.out);
}

/*
 * EINTR with no handler at all: a stop and continue (signal(7): socket
 * calls with SO_RCVTIMEO, epoll_wait) is retried
 */

static void stopcont_case(const char *call, const char *want_errno)
{
	struct fx_result r;
	char e[32];

	sig_wait(call, "STOPCONT", "80", "500", fx_env_plain(&env), &r);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "%s", r.out);
	cr_expect_lt(field(r.out, "elapsed"), 300, "%s", r.out);
	sig_wait(call, "STOPCONT", "80", "500", fx_env_shim(&env, ""), &r);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), want_errno, "%s",
			 r.out);
	long ms = field(r.out, "elapsed");
	cr_expect(ms >= 450 && ms <= 700, "%s returned after %ld ms: %s", call, ms,
		  r.out);
}

Test(eintr, recv_with_so_rcvtimeo_survives_stop_and_continue, .timeout = 20)
{
	stopcont_case("recv_timeo", "EAGAIN");
}

Test(eintr, epoll_wait_survives_stop_and_continue, .timeout = 20)
{
	stopcont_case("epoll_wait", "0");
}

/*
 * Short writes: a blocking send cut short by a signal not in eintr_pass is
 * completed; one cut short by a pass signal returns the count sent
 */

Test(eintr, blocking_send_cut_short_by_sigchld_is_completed, .timeout = 20)
{
	struct fx_result r;

	sig_wait("send", "CHLD", "1", "200", fx_env_plain(&env), &r);
	long rc = field(r.out, "rc");
	cr_expect(rc > 0 && rc < (8 << 20), "without the shim: %s", r.out);
	sig_wait("send", "CHLD", "1", "200", fx_env_shim(&env, ""), &r);
	cr_expect_eq(field(r.out, "rc"), 8 << 20, "%s", r.out);
	cr_expect(strstr(r.out, "peer received 8388608"), "%s", r.out);
	cr_expect_gt(field(r.out, "signals"), 50, "%s", r.out);
}

Test(eintr, blocking_send_cut_short_by_a_pass_signal_returns_the_count,
     .timeout = 20)
{
	struct fx_result r;

	sig_wait("send", "USR1", "1", "200", fx_env_shim(&env, ""), &r);
	long rc = field(r.out, "rc");
	cr_expect(rc > 0 && rc < (8 << 20), "%s", r.out);
	char want[64];
	snprintf(want, sizeof(want), "peer received %ld", rc);
	cr_expect(strstr(r.out, want), "bytes lost or added: %s", r.out);
}

/*
 * ppoll, pselect and epoll_pwait with a sigmask that unblocks a signal the
 * program keeps blocked elsewhere: the program asks to be woken by that
 * signal (pselect(2): "safely wait until either a file descriptor becomes
 * ready or until a signal is caught"), so its EINTR must reach it.
 */
static void masked_case(const char *call)
{
	struct fx_result r;
	char e[32];

	sig_wait(call, "CHLD", "100", "2000", fx_env_plain(&env), &r);
	cr_assert_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "baseline: %s",
			 r.out);
	sig_wait(call, "CHLD", "100", "2000", fx_env_shim(&env, ""), &r);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR",
			 "the signal the call's mask let in was swallowed: %s",
			 r.out);
	cr_expect_lt(field(r.out, "elapsed"), 400, "%s", r.out);
}

Test(eintr, ppoll_with_a_sigmask_letting_sigchld_in_returns_eintr,
     .timeout = 20)
{
	masked_case("ppoll_masked");
}

Test(eintr, pselect_with_a_sigmask_letting_sigchld_in_returns_eintr,
     .timeout = 20)
{
	masked_case("pselect_masked");
}

Test(eintr, epoll_pwait_with_a_sigmask_letting_sigchld_in_returns_eintr,
     .timeout = 20)
{
	masked_case("epoll_pwait_masked");
}

/*
 * A socket whose SO_RCVTIMEO was set before exec (a supervisor, inetd):
 * the timeout the socket carries still bounds the wait under signals.
 */
Test(eintr, recv_on_a_socket_inherited_with_so_rcvtimeo_times_out_through_sigchld,
     .timeout = 20)
{
	struct fx_result r;
	char e[32];
	char *argv[] = { (char *)fx_prog("sig_wait"), "recv_timeo_exec", "CHLD", "10",
			 "500", NULL };

	run(argv, fx_env_plain(&env), 5000, &r);
	cr_assert_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "baseline: %s",
			 r.out);
	fx_run(argv, fx_env_shim(&env, ""), 3000, &r);
	cr_assert(!r.timed_out, "recv did not return within 3 s (500 ms "
		  "SO_RCVTIMEO, SIGCHLD every 10 ms): %s", r.out);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EAGAIN", "%s", r.out);
	long ms = field(r.out, "elapsed");
	cr_expect(ms >= 450 && ms <= 650, "recv returned after %ld ms", ms);
}

/* The same without signals: the EAGAIN is the program's timeout, returned. */
Test(eintr, recv_on_a_socket_inherited_with_so_rcvtimeo_returns_eagain_in_time,
     .timeout = 20)
{
	struct fx_result r;
	char e[32];
	char *argv[] = { (char *)fx_prog("sig_wait"), "recv_timeo_exec", "CHLD",
			 "10000", "500", NULL };

	fx_run(argv, fx_env_shim(&env, ""), 2000, &r);
	cr_assert(!r.timed_out, "recv did not return within 2 s, SO_RCVTIMEO is "
		  "500 ms: %s", r.out);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EAGAIN", "%s", r.out);
	long ms = field(r.out, "elapsed");
	cr_expect(ms >= 450 && ms <= 650, "recv returned after %ld ms, SO_RCVTIMEO "
		  "is 500: %s", ms, r.out);
}

/*
 * connect to a black hole under SIGCHLD every 10 ms: the deadlines the
 * program (SO_SNDTIMEO) or the policy (connect_timeout) set still end it
 */
static void blackhole_connect(const char *mode, char *const *vars,
			      struct fx_result *r)
{
	blackhole_run(mode, "10", vars, 3000, r);
	cr_assert(!r->timed_out, "connect did not return within 3 s: %s", r->out);
}

Test(eintr, connect_with_so_sndtimeo_times_out_through_sigchld, .timeout = 20)
{
	struct fx_result r;
	char e[32];

	blackhole_connect("sndtimeo", fx_env_plain(&env), &r);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINTR", "%s", r.out);
	cr_expect_lt(field(r.out, "elapsed"), 100, "%s", r.out);
	blackhole_connect("sndtimeo", fx_env_shim(&env, ""), &r);
	/* connect(2): EINPROGRESS when SO_SNDTIMEO expires. */
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "EINPROGRESS", "%s",
			 r.out);
	long ms = field(r.out, "elapsed");
	cr_expect(ms >= 450 && ms <= 650, "connect returned after %ld ms", ms);
}

Test(eintr, connect_timeout_fires_through_sigchld, .timeout = 20)
{
	struct fx_result r;
	char e[32];

	blackhole_connect("timer", fx_env_shim(&env, "connect_timeout=300"), &r);
	cr_expect_str_eq(word(r.out, "errno", e, sizeof(e)), "ETIMEDOUT", "%s",
			 r.out);
	long ms = field(r.out, "elapsed");
	cr_expect(ms >= 280 && ms <= 450, "connect returned after %ld ms", ms);
	cr_expect_gt(field(r.out, "signals"), 10, "%s", r.out);
}
