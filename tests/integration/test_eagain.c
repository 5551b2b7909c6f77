/*
 * EAGAIN against the real kernel (the man page, POLICY, keys eagain and
 * eagain_wait).  Each test runs a helper program from tests/progs
 * as a child, without the shim or with the feature off to show the failure
 * the test detects, and under the shim to show it fixed.
 *
 * Two duties pull in opposite directions and both are measured here: a
 * blocking-style program that forgot O_NONBLOCK must see its EAGAIN waited
 * out, and an event loop must never be stalled by such a wait.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
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

static __attribute__((unused)) void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long out_val(const char *out, const char *key);

/* ------------------------------------------------------------------ */
/* The legacy writer against a slow reader.                            */

#define BIG (16u << 20)

static unsigned char ea_pat(size_t i)
{
	return (unsigned char)(i + (i >> 8) * 7 + (i >> 16) * 13 + (i >> 24) * 5);
}

struct reader {
	size_t got;		/* bytes received */
	size_t bad_at;		/* first byte that differs from the pattern */
	int bad;
	int err;		/* errno that ended the reading, 0: EOF */
};

static int accept_within(int lfd, int ms)
{
	struct pollfd p = { lfd, POLLIN, 0 };
	if (poll(&p, 1, ms) <= 0)
		return -1;
	return accept(lfd, NULL, NULL);
}

/*
 * Reads from the first connection on lfd slowly (32 KiB, then a pause of
 * pause_us), checking each byte against the pattern, until EOF, an error,
 * stop_after bytes (then an RST when reset is set) or 30 s.
 */
static void slow_read(int lfd, int pause_us, size_t stop_after, int reset,
		      struct reader *rd)
{
	static unsigned char buf[32768];
	struct timeval tv = { 5, 0 };
	long end = fx_now_ms() + 30000;

	memset(rd, 0, sizeof *rd);
	int fd = accept_within(lfd, 5000);
	cr_assert_geq(fd, 0, "the writer never connected");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	while (rd->got < stop_after && fx_now_ms() < end) {
		size_t want = stop_after - rd->got < sizeof buf ?
			stop_after - rd->got : sizeof buf;
		ssize_t n = recv(fd, buf, want, 0);
		if (n <= 0) {
			rd->err = n < 0 ? errno : 0;
			break;
		}
		for (ssize_t i = 0; i < n && !rd->bad; i++) {
			if (buf[i] != ea_pat(rd->got + (size_t)i)) {
				rd->bad = 1;
				rd->bad_at = rd->got + (size_t)i;
			}
		}
		rd->got += (size_t)n;
		if (pause_us)
			usleep((useconds_t)pause_us);
	}
	if (reset) {
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	close(fd);
}

/* Runs the legacy writer in mode against a slow reader; returns its exit code. */
static int legacy_run(const char *mode, int with_shim, const char *options,
		      struct reader *rd)
{
	char prog[4096], port_s[16];
	int port = 0;
	int lfd = fx_listen_tcp(&port);
	cr_assert_geq(lfd, 0, "%s", fx_skip_reason());
	int small = 65536;	/* a small window, so the writer meets EAGAIN */
	setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	snprintf(port_s, sizeof port_s, "%d", port);
	char *argv[] = { (char *)fx_prog_path("ea_legacy_writer", prog, sizeof prog),
			 port_s, (char *)mode, NULL };
	pid_t pid = spawn(argv, fx_env_side(&env, with_shim, options));
	slow_read(lfd, 300, BIG + 1, 0, rd);
	close(lfd);
	return reap(pid, 10000);
}

static void expect_whole_stream(const char *mode, const char *options)
{
	struct reader rd;
	int rc = legacy_run(mode, 1, options, &rd);

	cr_assert_eq(rc, 0, "legacy %s writer failed under the shim (exit %d): %s",
		     mode, rc, child_output());
	cr_assert_eq(rd.bad, 0, "%s: byte %zu differs from what was sent "
		     "(lost, duplicated or reordered)", mode, rd.bad_at);
	cr_assert_eq(rd.got, BIG, "%s: the reader received %zu of %u bytes",
		     mode, rd.got, BIG);
}

TestSuite(legacy_writer, .init = setup, .fini = fx_suite_close, .timeout = 60);

Test(legacy_writer, dies_on_eagain_without_the_shim)
{
	struct reader rd;
	int rc = legacy_run("write", 0, NULL, &rd);

	cr_assert_eq(rc, 1, "the writer should meet EAGAIN and exit 1, got %d: %s",
		     rc, child_output());
	cr_assert(strstr(child_output(), "Resource temporarily unavailable") ||
		  strstr(child_output(), "short"), "%s", child_output());
	cr_assert_lt(rd.got, BIG);
}

Test(legacy_writer, dies_on_eagain_with_eagain_off)
{
	struct reader rd;
	int rc = legacy_run("write", 1, "eagain=off", &rd);

	cr_assert_eq(rc, 1, "eagain=off must pass EAGAIN through, got exit %d: %s",
		     rc, child_output());
	cr_assert_lt(rd.got, BIG);
}

Test(legacy_writer, dies_on_eagain_with_mode_off)
{
	struct reader rd;
	int rc = legacy_run("send", 1, "mode=off", &rd);

	cr_assert_eq(rc, 1, "mode=off must be inert, got exit %d: %s", rc,
		     child_output());
}

Test(legacy_writer, write_delivers_16MiB_in_order_under_the_shim)
{
	expect_whole_stream("write", NULL);
}

Test(legacy_writer, send_delivers_16MiB_in_order_under_the_shim)
{
	expect_whole_stream("send", NULL);
}

Test(legacy_writer, writev_delivers_16MiB_in_order_under_the_shim)
{
	expect_whole_stream("writev", NULL);
}

Test(legacy_writer, sendmsg_delivers_16MiB_in_order_under_the_shim)
{
	expect_whole_stream("sendmsg", NULL);
}

Test(legacy_writer, writev_delivers_16MiB_with_eagain_always)
{
	expect_whole_stream("writev", "eagain=always");
}

/* One write() of 16 MiB: partial writes are completed, the count is whole. */
Test(legacy_writer, single_write_of_16MiB_returns_the_full_count)
{
	expect_whole_stream("single", NULL);
	cr_assert(strstr(child_output(), "sent=16777216"), "%s", child_output());
}

/*
 * A blocking write cut short by a signal that is not in eintr_pass (here
 * SIGWINCH, handler without SA_RESTART) is completed, as SA_RESTART would.
 */
Test(legacy_writer, blocking_write_cut_short_by_signals_is_completed)
{
	expect_whole_stream("signal", NULL);
	cr_assert(strstr(child_output(), "sent=16777216"), "%s", child_output());
	cr_assert_gt(out_val(child_output(), "signals="), 0,
		     "no signal arrived during the write: %s", child_output());
}

Test(legacy_writer, blocking_write_cut_short_by_signals_without_the_shim)
{
	struct reader rd;
	int rc = legacy_run("signal", 0, NULL, &rd);

	cr_assert_eq(rc, 1, "a blocking write interrupted by signals should be "
		     "short without the shim: %s", child_output());
}

Test(legacy_writer, single_write_is_short_without_the_shim)
{
	struct reader rd;
	int rc = legacy_run("single", 0, NULL, &rd);

	cr_assert_eq(rc, 1, "a non-blocking write of 16 MiB should be short: %s",
		     child_output());
}

/* ------------------------------------------------------------------ */
/* Probes: one EAGAIN-meeting call each, timed.                        */

static struct fx_result res;

/* Runs tests/progs/NAME [ARG] to completion into res; it must exit 0. */
static void run_prog(const char *name, const char *arg, int with_shim,
		     const char *options)
{
	char prog[4096];
	char *argv[] = { (char *)fx_prog_path(name, prog, sizeof prog),
			 (char *)arg, NULL };

	cr_assert_eq(fx_run(argv, fx_env_side(&env, with_shim, options), 20000,
			    &res), 0, "%s %s: %s", name, arg ? arg : "",
		     fx_skip_reason());
	cr_assert_eq(fx_exit_code(&res), 0, "%s %s exited %d: %s %s", name,
		     arg ? arg : "", fx_exit_code(&res), res.out, res.err);
}

static void probe(const char *mode, int with_shim, const char *options)
{
	run_prog("ea_probe", mode, with_shim, options);
}

/* The value of key on the line that begins with name, or -999. */
static long probe_val(const char *name, const char *key)
{
	size_t nl = strlen(name);
	char tok[64];

	snprintf(tok, sizeof tok, " %s=", key);
	for (const char *p = res.out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, name, nl) != 0 || p[nl] != ' ')
			continue;
		const char *end = strchr(p, '\n');
		const char *k = strstr(p, tok);
		if (k && (!end || k < end))
			return strtol(k + strlen(tok), NULL, 10);
	}
	return -999;
}

TestSuite(timeouts, .init = setup, .fini = fx_suite_close, .timeout = 30);

Test(timeouts, so_rcvtimeo_returns_eagain_after_200ms_and_logs_timeout)
{
	probe("rcvtimeo", 1, NULL);
	cr_assert_eq(probe_val("rcvtimeo", "errno"), EAGAIN, "%s", res.out);
	long ms = probe_val("rcvtimeo", "ms");
	cr_assert(ms >= 180 && ms < 600, "SO_RCVTIMEO 200 ms took %ld ms", ms);
	const char *lines = fx_env_log(&env, 300);
	const char *l = fx_log_find_class(lines, "timeout");
	cr_assert_not_null(l, "no class=timeout line; log: %s", lines);
	cr_assert(strstr(l, "op=recv") && strstr(l, "errno=EAGAIN") &&
		  strstr(l, "action=returned") && strstr(l, "deadline=so_rcvtimeo"),
		  "%s", l);
}

/* The same call without the shim: the same EAGAIN, and nobody told. */
Test(timeouts, so_rcvtimeo_is_not_logged_without_the_shim)
{
	probe("rcvtimeo", 0, NULL);
	cr_assert_eq(probe_val("rcvtimeo", "errno"), EAGAIN, "%s", res.out);
	cr_assert_null(fx_log_find_class(fx_env_log(&env, 200), "timeout"));
}

Test(timeouts, so_sndtimeo_returns_eagain_after_200ms_and_logs_timeout)
{
	probe("sndtimeo", 1, NULL);
	cr_assert_eq(probe_val("sndtimeo", "errno"), EAGAIN, "%s", res.out);
	long ms = probe_val("sndtimeo", "ms");
	cr_assert(ms >= 180 && ms < 600, "SO_SNDTIMEO 200 ms took %ld ms", ms);
	const char *lines = fx_env_log(&env, 300);
	const char *l = fx_log_find_class(lines, "timeout");
	cr_assert_not_null(l, "no class=timeout line; log: %s", lines);
	cr_assert(strstr(l, "op=send") && strstr(l, "deadline=so_sndtimeo"), "%s", l);
}

Test(timeouts, eagain_wait_expiry_returns_eagain_after_300ms_and_logs_it)
{
	probe("forgot", 1, "eagain_wait=300");
	cr_assert_eq(probe_val("forgot", "errno"), EAGAIN, "%s", res.out);
	long ms = probe_val("forgot", "ms");
	cr_assert(ms >= 280 && ms < 800, "eagain_wait=300 took %ld ms", ms);
	const char *lines = fx_env_log(&env, 300);
	const char *l = fx_log_find_class(lines, "timeout");
	cr_assert_not_null(l, "no class=timeout line; log: %s", lines);
	cr_assert(strstr(l, "errno=EAGAIN") && strstr(l, "action=returned") &&
		  strstr(l, "deadline=eagain_wait"), "%s", l);
}

Test(timeouts, forgotten_nonblock_returns_at_once_without_the_shim)
{
	probe("forgot", 0, NULL);
	cr_assert_eq(probe_val("forgot", "errno"), EAGAIN, "%s", res.out);
	cr_assert_lt(probe_val("forgot", "ms"), 50);
}

Test(timeouts, forgotten_nonblock_receives_data_that_comes_later)
{
	probe("forgot_data", 1, NULL);
	cr_assert_eq(probe_val("forgot_data", "r"), 5, "%s", res.out);
	long ms = probe_val("forgot_data", "ms");
	cr_assert(ms >= 120 && ms < 1000, "%ld ms", ms);
}

Test(timeouts, forgotten_nonblock_fails_with_eagain_off)
{
	probe("forgot_data", 1, "eagain=off");
	cr_assert_eq(probe_val("forgot_data", "r"), -1, "%s", res.out);
	cr_assert_eq(probe_val("forgot_data", "errno"), EAGAIN, "%s", res.out);
}

/* ------------------------------------------------------------------ */
/* Event loops are never stalled.                                      */

#define STALL_MS 50	/* "at once", against eagain_wait=5000 */

TestSuite(event_loops, .init = setup, .fini = fx_suite_close, .timeout = 60);

Test(event_loops, poll_driven_writer_gets_each_eagain_at_once)
{
	probe("pollwriter", 1, "eagain_wait=5000");
	cr_assert_geq(probe_val("pollwriter", "eagains"), 10, "%s", res.out);
	cr_assert_lt(probe_val("pollwriter", "ms"), STALL_MS, "%s", res.out);
}

/* The measurement sees a stall: eagain=always waits in the loop. */
Test(event_loops, poll_driven_writer_is_stalled_by_eagain_always)
{
	probe("pollwriter", 1, "eagain=always:eagain_wait=300");
	cr_assert_geq(probe_val("pollwriter", "ms"), 250, "%s", res.out);
}

Test(event_loops, epoll_optimistic_recv_before_registering_returns_at_once)
{
	probe("epoll_optimistic", 1, "eagain_wait=5000");
	cr_assert_eq(probe_val("optimistic", "errno"), EAGAIN, "%s", res.out);
	cr_assert_lt(probe_val("optimistic", "ms"), STALL_MS, "%s", res.out);
	cr_assert_eq(probe_val("epoll_wait", "n"), 1, "%s", res.out);
	cr_assert_eq(probe_val("after_epoll", "r"), 2, "%s", res.out);
}

Test(event_loops, epoll_optimistic_recv_is_stalled_by_eagain_always)
{
	probe("epoll_optimistic", 1, "eagain=always:eagain_wait=300");
	cr_assert_geq(probe_val("optimistic", "ms"), 250, "%s", res.out);
}

Test(event_loops, msg_dontwait_returns_at_once_in_a_process_that_never_polled)
{
	/* The probe ends with a plain recv that waits eagain_wait: keep it short. */
	probe("dontwait", 1, "eagain_wait=1000");
	cr_assert_eq(probe_val("dontwait_blocking", "errno"), EAGAIN, "%s", res.out);
	cr_assert_lt(probe_val("dontwait_blocking", "ms"), STALL_MS, "%s", res.out);
	cr_assert_eq(probe_val("dontwait_send", "errno"), EAGAIN, "%s", res.out);
	cr_assert_lt(probe_val("dontwait_send", "ms"), STALL_MS, "%s", res.out);
	cr_assert_eq(probe_val("dontwait_nonblocking", "errno"), EAGAIN, "%s", res.out);
	cr_assert_lt(probe_val("dontwait_nonblocking", "ms"), STALL_MS, "%s", res.out);
}

/*
 * The contrast in the same process: the same socket read without
 * MSG_DONTWAIT is a forgotten O_NONBLOCK and is waited out.
 */
Test(event_loops, same_recv_without_msg_dontwait_is_waited_out)
{
	probe("dontwait", 1, "eagain_wait=300");
	cr_assert_geq(probe_val("plain_nonblocking", "ms"), 280, "%s", res.out);
	cr_assert_lt(probe_val("dontwait_nonblocking", "ms"), STALL_MS, "%s", res.out);
}

/* ------------------------------------------------------------------ */
/* eagain=unwatched: a select() daemon that forgot one socket.        */

#define UNWATCHED "eagain=unwatched:eagain_wait=300"

static void expect_at_once(const char *name)
{
	cr_expect_eq(probe_val(name, "errno"), EAGAIN, "%s: %s", name, res.out);
	cr_expect_lt(probe_val(name, "ms"), STALL_MS,
		     "%s is watched: its EAGAIN must come at once\n%s", name, res.out);
}

static void expect_waited(const char *name)
{
	cr_expect_eq(probe_val(name, "errno"), EAGAIN, "%s: %s", name, res.out);
	cr_expect_geq(probe_val(name, "ms"), 280,
		      "%s is not watched: its EAGAIN must be waited out\n%s",
		      name, res.out);
}

TestSuite(unwatched, .init = setup, .fini = fx_suite_close, .timeout = 30);

Test(unwatched, forgotten_socket_is_waited_out_selected_one_is_not)
{
	run_prog("ea_select_daemon", NULL, 1, UNWATCHED);
	expect_at_once("selected");
	expect_waited("forgotten");
	cr_expect_eq(probe_val("forgotten_data", "r"), 5, "%s", res.out);
	expect_at_once("epolled");
}

/* With the default (auto) the process is watched: nothing is waited. */
Test(unwatched, forgotten_socket_gets_eagain_at_once_under_auto)
{
	run_prog("ea_select_daemon", NULL, 1, "eagain=auto:eagain_wait=300");
	expect_at_once("selected");
	cr_expect_lt(probe_val("forgotten", "ms"), STALL_MS, "%s", res.out);
	cr_expect_eq(probe_val("forgotten_data", "r"), -1, "%s", res.out);
}

Test(unwatched, watched_bit_follows_dup_dup2_dup3_and_f_dupfd)
{
	run_prog("ea_select_daemon", NULL, 1, UNWATCHED);
	expect_at_once("dup");
	expect_at_once("dup2");
	expect_at_once("dup3");
	expect_at_once("f_dupfd");
	expect_at_once("f_dupfd_cloexec");
	expect_waited("dup2_over_watched");
}

Test(unwatched, watched_bit_is_cleared_on_close_and_close_range)
{
	run_prog("ea_select_daemon", NULL, 1, UNWATCHED);
	cr_assert_null(strstr(res.out, "note:"), "a number was not reused: %s",
		       res.out);
	expect_waited("reuse_after_close");
	expect_waited("reuse_after_close_range");
	expect_waited("reuse_socket_after_close");
}

/* ------------------------------------------------------------------ */
/* A partial write that an error stops part-way.                       */

struct reset_run {
	struct reader rd;
	long first, first_errno, second, second_errno;
};

static long out_val(const char *out, const char *key)
{
	const char *p = strstr(out, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -999;
}

/* The writer sends 16 MiB in one call; the reader takes 1 MiB, then resets. */
static void reset_run(int with_shim, const char *options, struct reset_run *rr)
{
	char prog[4096], port_s[16];
	int port = 0;
	int lfd = fx_listen_tcp(&port);
	cr_assert_geq(lfd, 0, "%s", fx_skip_reason());
	int small = 65536;
	setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	snprintf(port_s, sizeof port_s, "%d", port);
	char *argv[] = { (char *)fx_prog_path("ea_legacy_writer", prog, sizeof prog),
			 port_s, "reset", NULL };
	pid_t pid = spawn(argv, fx_env_side(&env, with_shim, options));
	slow_read(lfd, 300, 1u << 20, 1, &rr->rd);
	close(lfd);
	int rc = reap(pid, 10000);
	const char *out = child_output();
	cr_assert_eq(rc, 0, "writer exit %d: %s", rc, out);
	rr->first = out_val(out, "first=");
	rr->first_errno = out_val(strstr(out, "first=") ? strstr(out, "first=") : out,
				  "errno=");
	rr->second = out_val(out, "second=");
	rr->second_errno = out_val(strstr(out, "second=") ? strstr(out, "second=") : out,
				   "errno=");
}

TestSuite(partial_write, .init = setup, .fini = fx_suite_close, .timeout = 30);

Test(partial_write, reset_midway_returns_the_count_sent_then_the_error)
{
	struct reset_run rr;
	reset_run(1, NULL, &rr);
	const char *out = child_output();

	cr_assert_eq(rr.rd.bad, 0, "the reader's byte %zu is not what was sent",
		     rr.rd.bad_at);
	cr_assert_eq(rr.rd.got, 1u << 20, "reader got %zu", rr.rd.got);
	cr_assert_gt(rr.first, 0, "the first call must return the count: %s", out);
	cr_assert_lt(rr.first, (long)BIG, "%s", out);
	cr_assert_geq(rr.first, (long)rr.rd.got,
		      "the count returned (%ld) is less than the peer received "
		      "(%zu): bytes were sent twice", rr.first, rr.rd.got);
	cr_assert_eq(rr.second, -1, "the error must come on the next call: %s", out);
	cr_assert(rr.second_errno == ECONNRESET || rr.second_errno == EPIPE,
		  "next call errno %ld, want ECONNRESET or EPIPE: %s",
		  rr.second_errno, out);
}

/*
 * Without the wait the first call stops at the first full buffer, long
 * before the reset: the next call meets EAGAIN or sends, not the error.
 */
Test(partial_write, eagain_off_returns_short_count_before_the_reset)
{
	struct reset_run rr;
	reset_run(1, "eagain=off", &rr);

	cr_assert_gt(rr.first, 0, "%s", child_output());
	cr_assert(rr.second >= 0 || rr.second_errno == EAGAIN, "%s",
		  child_output());
}

/* ------------------------------------------------------------------ */
/* asyncio: optimistic I/O in a real event loop.                       */

static const char *python(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static const char *asyncio_script(void)
{
	static char path[4096];
	snprintf(path, sizeof path, "%s/../tests/progs/ea_asyncio.py", fx_build_dir());
	if (access(path, R_OK) != 0)
		snprintf(path, sizeof path, "tests/progs/ea_asyncio.py");
	return path;
}

/* The exchange's own time in ms (interpreter start-up excluded), or -1. */
static long asyncio_ms(const char *mode, const char *conns, const char *msgs,
		       int with_shim, const char *options, long *echoed)
{
	char *argv[] = { (char *)python(), (char *)asyncio_script(), (char *)mode,
			 (char *)conns, (char *)msgs, NULL };

	cr_assert_eq(fx_run(argv, fx_env_side(&env, with_shim, options), 20000,
			    &res), 0, "%s", fx_skip_reason());
	if (res.timed_out)
		return -1;
	cr_assert_eq(fx_exit_code(&res), 0, "python exited %d: %s %s",
		     fx_exit_code(&res), res.out, res.err);
	*echoed = out_val(res.out, "echoed=");
	return out_val(res.out, "elapsed_ms=");
}

/* The fastest of three runs, each of which must echo every message. */
static long asyncio_best(const char *mode, int with_shim, const char *options)
{
	long best = -1, echoed = 0;
	for (int i = 0; i < 3; i++) {
		long ms = asyncio_ms(mode, "20", "100", with_shim, options, &echoed);
		cr_assert_geq(ms, 0, "%s timed out%s", mode,
			      with_shim ? " under the shim" : "");
		cr_assert_eq(echoed, 2000, "%s: %s", mode, res.out);
		best = best < 0 || ms < best ? ms : best;
	}
	return best;
}

/* Debian's python3 is a glibc program: the musl build cannot load into it. */
#define ASYNCIO_NOT_ON_MUSL() \
	FX_SKIP_ON_MUSL("python3 is a glibc program here, which the musl " \
			"build cannot load into")

static void expect_as_fast(const char *mode)
{
	ASYNCIO_NOT_ON_MUSL();
	FX_REQUIRE_PROGRAM(python());
	long plain = asyncio_best(mode, 0, NULL);
	long shim = asyncio_best(mode, 1, "eagain_wait=5000");
	/*
	 * A sanitizer build of the shim brings its runtime (and libstdc++)
	 * into every process it is preloaded into: slower to start, not a stall.
	 */
	long slack = getenv("SG_SANITIZE") ? plain * 2 + 500 : plain / 2 + 60;
	cr_assert_leq(shim, plain + slack,
		      "asyncio %s: %ld ms under the shim, %ld ms without", mode,
		      shim, plain);
}

TestSuite(asyncio, .init = setup, .fini = fx_suite_close, .timeout = 120);

Test(asyncio, streams_echo_runs_as_fast_under_the_shim)
{
	expect_as_fast("streams");
}

Test(asyncio, sock_recv_and_sock_accept_echo_runs_as_fast_under_the_shim)
{
	expect_as_fast("sock");
}

/* The timing sees a stall: eagain=always waits inside the loop. */
Test(asyncio, eagain_always_stalls_the_loop)
{
	long echoed = 0;
	ASYNCIO_NOT_ON_MUSL();
	FX_REQUIRE_PROGRAM(python());
	long plain = asyncio_ms("sock", "2", "5", 1, "eagain=off", &echoed);
	long stalled = asyncio_ms("sock", "2", "5", 1,
				  "eagain=always:eagain_wait=200", &echoed);
	cr_assert(stalled < 0 || stalled > plain + 1000,
		  "eagain=always took %ld ms, eagain=off %ld ms", stalled, plain);
}
