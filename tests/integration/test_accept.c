/*
 * accept against the real kernel (the man page, POLICY "accept", keys accept
 * and accept_emfile).  Errors are injected at the system-call
 * level with strace, so the shim meets exactly what the kernel would hand
 * it; descriptor exhaustion is real, under RLIMIT_NOFILE 32.  Each behaviour
 * is shown failing without the shim (or with the feature off) and fixed
 * under it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

#include "ea_harness.h"

static long out_val(const char *out, const char *key)
{
	const char *p = strstr(out, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -999;
}

/* 1 once the child pid has exited (it is left for reap() to collect). */
static int has_exited(pid_t pid)
{
	siginfo_t si = { .si_pid = 0 };
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == pid;
}

/* Connects to port, retrying while server pid starts (up to 3 s). */
static int connect_when_up(int port, pid_t pid)
{
	for (int i = 0; i < 300 && !has_exited(pid); i++) {
		int fd = fx_connect_tcp(port);
		if (fd >= 0)
			return fd;
		usleep(10000);
	}
	return -1;
}

/*
 * 1 when the server closed fd (EOF or RST) within ms; *took is how long
 * that took.
 */
static int closed_within(int fd, int ms, long *took)
{
	struct pollfd p = { fd, POLLIN, 0 };
	long t0 = fx_now_ms();
	char b;

	*took = -1;
	if (poll(&p, 1, ms) != 1)
		return 0;
	ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);
	*took = fx_now_ms() - t0;
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* ------------------------------------------------------------------ */
/* accept errors injected with strace.                                 */

struct strict {
	int exit_code;		/* the server's (strace passes it on) */
	int answered;		/* the client got "pong" */
};

/*
 * Runs ea_strict_server under strace, which makes the first `times`
 * accept/accept4 calls fail with err; the test is its client.
 */
static void strict_run(const char *call, const char *err, int times,
		       int with_shim, const char *options, struct strict *s)
{
	char prog[4096], port_s[16], inject[160], preload[4200];
	int port = fx_closed_port();

	cr_assert_gt(port, 0, "%s", fx_skip_reason());
	snprintf(port_s, sizeof port_s, "%d", port);
	snprintf(inject, sizeof inject,
		 "inject=accept,accept4:error=%s:when=1..%d", err, times);
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", fx_shim_path());
	char *argv[] = { "strace", "-f", "-o", "/dev/null", "-e", inject, "env",
			 with_shim ? preload : "-uLD_PRELOAD",
			 (char *)fx_prog_path("ea_strict_server", prog, sizeof prog),
			 port_s, (char *)call, NULL };
	/* strace itself runs without the shim; env puts it on the server. */
	pid_t pid = spawn(argv, fx_env_unloaded(&env, options));
	int fd = connect_when_up(port, pid);
	char buf[16] = "";
	s->answered = 0;
	if (fd >= 0) {
		struct timeval tv = { 3, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		if (send(fd, "ping\n", 5, 0) == 5 && recv(fd, buf, sizeof buf - 1, 0) == 5)
			s->answered = strncmp(buf, "pong\n", 5) == 0;
		close(fd);
	}
	s->exit_code = reap(pid, 5000);
}

static void expect_served(const char *call, const char *err, const char *cls)
{
	struct strict s;
	FX_REQUIRE_PROGRAM("strace");
	strict_run(call, err, 3, 1, NULL, &s);

	cr_assert_eq(s.exit_code, 0, "%s with 3 x %s: server exit %d under the "
		     "shim: %s", call, err, s.exit_code, child_output());
	cr_assert(s.answered, "the client was not served: %s", child_output());
	const char *lines = fx_env_log(&env, 300);
	char tok[64];
	snprintf(tok, sizeof tok, "errno=%s", err);
	cr_assert_eq(fx_log_count(lines, "action=retried"), 3, "log: %s", lines);
	cr_assert_eq(fx_log_count(lines, tok), 3, "log: %s", lines);
	if (cls) {
		char c[64];
		snprintf(c, sizeof c, "class=%s", cls);
		cr_assert_eq(fx_log_count(lines, c), 3, "log: %s", lines);
	}
	cr_assert_eq(fx_log_count(lines, "tries=3"), 1, "log: %s", lines);
}

static void expect_dies(const char *call, const char *err, int with_shim,
			const char *options)
{
	struct strict s;
	FX_REQUIRE_PROGRAM("strace");
	strict_run(call, err, 3, with_shim, options, &s);

	cr_assert_eq(s.exit_code, 3, "%s with %s (%s): exit %d, want 3: %s", call,
		     err, with_shim ? options : "no shim", s.exit_code,
		     child_output());
	cr_assert_not(s.answered);
}

TestSuite(accept_errors, .init = setup, .fini = fx_suite_close, .timeout = 30);

Test(accept_errors, econnaborted_kills_the_server_without_the_shim)
{
	expect_dies("accept", "ECONNABORTED", 0, NULL);
}

Test(accept_errors, eproto_kills_the_server_without_the_shim)
{
	expect_dies("accept4", "EPROTO", 0, NULL);
}

Test(accept_errors, econnaborted_kills_the_server_with_accept_pass)
{
	expect_dies("accept", "ECONNABORTED", 1, "accept=pass");
}

Test(accept_errors, econnaborted_kills_the_server_with_mode_off)
{
	expect_dies("accept", "ECONNABORTED", 1, "mode=off");
}

Test(accept_errors, accept_retries_econnaborted_and_serves_the_client)
{
	expect_served("accept", "ECONNABORTED", "aborted");
}

Test(accept_errors, accept4_retries_econnaborted_and_serves_the_client)
{
	expect_served("accept4", "ECONNABORTED", "aborted");
}

Test(accept_errors, accept_retries_eproto_and_serves_the_client)
{
	expect_served("accept", "EPROTO", "aborted");
}

Test(accept_errors, accept4_retries_eproto_and_serves_the_client)
{
	expect_served("accept4", "EPROTO", "aborted");
}

/* accept(2), "Error handling": the pending network errors, one run each. */
Test(accept_errors, every_pending_network_error_is_retried)
{
	static const char *errs[] = { "ENETDOWN", "ENOPROTOOPT", "EHOSTDOWN",
				      "ENONET", "EHOSTUNREACH", "EOPNOTSUPP",
				      "ENETUNREACH" };
	for (size_t i = 0; i < sizeof errs / sizeof *errs; i++) {
		struct strict s;
		FX_REQUIRE_PROGRAM("strace");
		strict_run("accept", errs[i], 2, 1, NULL, &s);
		cr_expect_eq(s.exit_code, 0, "%s: server exit %d: %s", errs[i],
			     s.exit_code, child_output());
		cr_expect(s.answered, "%s: client not served", errs[i]);
		const char *lines = fx_env_log(&env, 200);
		cr_expect_eq(fx_log_count(lines, "action=retried"), 2, "%s: log: %s",
			     errs[i], lines);
	}
}

/* Past retry_max the error is the program's again. */
Test(accept_errors, retry_max_bounds_the_retries)
{
	struct strict s;
	FX_REQUIRE_PROGRAM("strace");
	strict_run("accept", "ECONNABORTED", 5, 1, "retry_max=2", &s);
	cr_assert_eq(s.exit_code, 3, "retry_max=2 with 5 errors: exit %d: %s",
		     s.exit_code, child_output());
}

/* ------------------------------------------------------------------ */
/* Out of descriptors: accept_emfile=shed.                             */

#define CLIENTS 40

struct leak {
	double cpu_pct;		/* the server's CPU time over 2 s of wall time */
	int closed;		/* clients the server closed */
	int late_closed;	/* a client that came after saturation */
	long late_ms;
	long accepted;		/* what the server reported */
	long emfile;		/* accept calls that failed with EMFILE */
};

/*
 * A spinning loop: most of a CPU, or (when other tests share the CPUs)
 * a flood of accept calls failing with EMFILE in 5 s.
 */
#define SPINNING(lk) ((lk).cpu_pct > 50.0 || (lk).emfile > 20000)

/* utime + stime of pid, in clock ticks, from /proc/PID/stat. */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long ut = 0, st = 0;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

static void leaky_run_how(int with_shim, const char *options, const char *how,
			  struct leak *lk)
{
	char prog[4096], port_s[16];
	int fds[CLIENTS];
	int port = fx_closed_port();

	cr_assert_gt(port, 0, "%s", fx_skip_reason());
	snprintf(port_s, sizeof port_s, "%d", port);
	char *argv[] = { (char *)fx_prog_path("ea_leaky_server", prog, sizeof prog),
			 port_s, "5", (char *)how, NULL };
	pid_t pid = spawn(argv, fx_env_side(&env, with_shim, options));
	fds[0] = connect_when_up(port, pid);
	cr_assert_geq(fds[0], 0, "the server never listened: %s", child_output());
	for (int i = 1; i < CLIENTS; i++)
		fds[i] = fx_connect_tcp(port);
	usleep(300000);

	long t0 = cpu_ticks(pid);
	usleep(2000000);
	long t1 = cpu_ticks(pid);
	cr_assert(t0 >= 0 && t1 >= 0, "cannot read /proc/%d/stat", (int)pid);
	lk->cpu_pct = 100.0 * (double)(t1 - t0) / (double)sysconf(_SC_CLK_TCK) / 2.0;

	int late = fx_connect_tcp(port);
	lk->late_closed = late >= 0 && closed_within(late, 1000, &lk->late_ms);
	lk->closed = 0;
	for (int i = 0; i < CLIENTS; i++) {
		long took;
		if (fds[i] >= 0 && closed_within(fds[i], 0, &took))
			lk->closed++;
	}
	int rc = reap(pid, 8000);
	cr_assert_eq(rc, 0, "server exit %d: %s", rc, child_output());
	lk->accepted = out_val(child_output(), "accepted=");
	lk->emfile = out_val(child_output(), "emfile=");
	for (int i = 0; i < CLIENTS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (late >= 0)
		close(late);
}

static void leaky_run(int with_shim, const char *options, struct leak *lk)
{
	leaky_run_how(with_shim, options, NULL, lk);
}

static void expect_shed_and_idle(const struct leak *lk)
{
	cr_assert_lt(lk->cpu_pct, 20.0, "the server used %.0f%% CPU under shed: %s",
		     lk->cpu_pct, child_output());
	cr_assert(lk->late_closed, "a client beyond the limit was not closed within "
		  "1 s: %s", child_output());
	cr_assert_lt(lk->late_ms, 500, "closing it took %ld ms", lk->late_ms);
	cr_assert_geq(lk->closed, CLIENTS - lk->accepted,
		      "%d of the %ld clients beyond the limit were closed: %s",
		      lk->closed, CLIENTS - lk->accepted, child_output());
	const char *lines = fx_env_log(&env, 300);
	const char *l = fx_log_find_class(lines, "fd_exhausted");
	cr_assert_not_null(l, "no fd_exhausted line: %s", lines);
	cr_assert(strstr(l, "action=shed") && strstr(l, "errno=EMFILE"), "%s", l);
}

TestSuite(emfile, .init = setup, .fini = fx_suite_close, .timeout = 40);

Test(emfile, leaky_server_spins_and_clients_hang_without_the_shim)
{
	struct leak lk;
	leaky_run(0, NULL, &lk);

	cr_assert(SPINNING(lk), "the spin was not seen: %.0f%% CPU, %ld EMFILE",
		  lk.cpu_pct, lk.emfile);
	cr_assert_eq(lk.closed, 0);
	cr_assert_not(lk.late_closed, "a client beyond the limit was closed");
}

Test(emfile, leaky_server_still_spins_with_accept_emfile_pass)
{
	struct leak lk;
	leaky_run(1, "accept_emfile=pass", &lk);

	cr_assert(SPINNING(lk), "%.0f%% CPU, %ld EMFILE", lk.cpu_pct, lk.emfile);
	cr_assert_not(lk.late_closed);
}

Test(emfile, shed_closes_clients_promptly_and_the_server_idles)
{
	struct leak lk;
	leaky_run(1, NULL, &lk);
	expect_shed_and_idle(&lk);
}

/*
 * A listener inherited across exec (systemd socket activation, inetd): the
 * process never calls listen(), only accept, so the reserve must be taken
 * at the first accept.
 */
Test(emfile, shed_works_for_a_listener_inherited_across_exec)
{
	struct leak lk;
	leaky_run_how(1, NULL, "inherit", &lk);
	expect_shed_and_idle(&lk);
}

/* ------------------------------------------------------------------ */
/* The reserved descriptor itself.                                     */

static struct fx_result res;

static void reserve_run(const char *mode, int with_shim, const char *options)
{
	char prog[4096];
	char *argv[] = { (char *)fx_prog_path("ea_reserve", prog, sizeof prog),
			 (char *)mode, NULL };
	cr_assert_eq(fx_run(argv, fx_env_side(&env, with_shim, options), 10000,
			    &res), 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_exit_code(&res), 0, "ea_reserve %s exit %d: %s %s", mode,
		     fx_exit_code(&res), res.out, res.err);
}

TestSuite(reserve, .init = setup, .fini = fx_suite_close, .timeout = 30);

Test(reserve, is_taken_at_listen_and_is_close_on_exec)
{
	reserve_run("cloexec", 1, NULL);
	cr_assert_geq(out_val(res.out, "reserve="), 3, "no reserve: %s", res.out);
	cr_assert_eq(out_val(res.out, "count="), 1, "%s", res.out);
	cr_assert_eq(out_val(res.out, "cloexec="), 1, "%s", res.out);
	cr_assert_eq(out_val(res.out, "reserve_inherited="), 0,
		     "the reserve leaked into an exec'd program: %s", res.out);
}

Test(reserve, is_not_taken_with_accept_emfile_pass)
{
	reserve_run("cloexec", 1, "accept_emfile=pass");
	cr_assert_eq(out_val(res.out, "reserve="), -1, "%s", res.out);
}

static void expect_shed(void)
{
	cr_assert_eq(out_val(res.out, "accept r="), -1, "%s", res.out);
	cr_assert_eq(out_val(res.out, "errno="), EAGAIN,
		     "accept must shed and report EAGAIN, not EMFILE: %s", res.out);
	cr_assert_eq(out_val(res.out, "client_closed="), 1, "%s", res.out);
	cr_assert_eq(out_val(res.out, "mine_intact="), 1,
		     "the program's own descriptor was touched: %s", res.out);
}

Test(reserve, sheds_when_left_alone)
{
	reserve_run("keep", 1, NULL);
	expect_shed();
}

Test(reserve, without_the_shim_accept_meets_emfile)
{
	reserve_run("keep", 0, NULL);
	cr_assert_eq(out_val(res.out, "errno="), EMFILE, "%s", res.out);
	cr_assert_eq(out_val(res.out, "client_closed="), 0, "%s", res.out);
}

Test(reserve, program_dup2_onto_it_is_harmless_and_a_new_one_is_taken)
{
	reserve_run("dup2", 1, NULL);
	cr_assert_eq(out_val(res.out, "mine="), out_val(res.out, "reserve="),
		     "%s", res.out);
	expect_shed();
}

Test(reserve, program_closing_it_is_harmless_and_a_new_one_is_taken)
{
	reserve_run("close", 1, NULL);
	expect_shed();
}
