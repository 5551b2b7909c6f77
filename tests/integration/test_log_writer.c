/*
 * The writer never gets in the program's way: its descriptor is never
 * confused with the program's, a missing or full log socket costs nothing
 * and is counted, a signal handler logging inside the logger cannot hang,
 * a forked child reports for itself, and the rate limit adds up exactly.
 */
#include <criterion/criterion.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "test_log_util.h"

static void closeall(const char *how)
{
	struct logrx *rx = rx_open();
	int port = fx_closed_port();
	char *argv[] = { "log_closeall", (char *)how, fx_num(port), NULL };
	struct fx_result *r = run_logged(rx, NULL, argv, 20000);

	cr_assert_eq(fx_exit_code(r), 0,
		     "%s: exit %d (1: a log line reached the program's "
		     "descriptors)", how, fx_exit_code(r));
	rx_collect(rx, 300);
	cr_expect_eq(fx_log_count(rx->lines, "class=refused"), 6,
		     "logging goes on after the descriptor was taken:\n%s",
		     rx->lines);
	cr_expect(strstr(rx->lines, "refused=6"), "%s", rx->lines);
	rx_close(rx);
}

Test(log_writer, closing_every_descriptor_with_close_leaks_nothing,
     .timeout = 30)
{
	closeall("close");
}

Test(log_writer, raw_close_range_the_shim_cannot_see_leaks_nothing,
     .timeout = 30)
{
	closeall("close_range");
}

Test(log_writer, glibc_closefrom_leaks_nothing, .timeout = 30)
{
	closeall("closefrom");
}

Test(log_writer, a_handler_logging_inside_the_logger_never_hangs,
     .timeout = 120)
{
	int port;

	deep_queues();
	port = fx_closed_port();
	for (int i = 0; i < 20; i++) {
		struct logrx *rx = rx_open();
		char *argv[] = { "log_sighandler", fx_num(port), "300", NULL };
		struct fx_result *r;

		rx_start(rx);
		r = run_logged(rx, "log_burst=1000000:log_max=1000000", argv,
			       10000);
		rx_stop(rx);
		cr_assert_not(r->timed_out, "run %d hung", i);
		cr_assert_eq(fx_exit_code(r), 0, "run %d: %s", i, r->err);
		cr_assert(strstr(rx->lines, "class=pipe "),
			  "the handler's own events are logged");
		free(r);
		rx_close(rx);
	}
}

Test(log_writer, a_forked_child_logs_with_its_own_pid_and_summary,
     .timeout = 20)
{
	struct logrx *rx = rx_open();
	int port = fx_closed_port();
	char *argv[] = { "log_faults", "fork", fx_num(port), NULL };
	const char *first, *second;
	char pid1[32], pid2[32];

	run_logged(rx, NULL, argv, 10000);
	rx_collect(rx, 300);
	cr_assert_eq(fx_log_count(rx->lines, "class=summary"), 2, "%s",
		     rx->lines);
	first = line_of(rx, "summary");
	second = fx_log_find_class(strchr(first, '\n') + 1, "summary");
	snprintf(pid1, sizeof(pid1), "%s", field(first, "pid"));
	snprintf(pid2, sizeof(pid2), "%s", field(second, "pid"));
	cr_expect_str_neq(pid1, pid2);
	/* The child exits first; its totals are its own, not the parent's. */
	EXPECT_FIELD(first, "refused", "2");
	EXPECT_FIELD(second, "refused", "1");
	rx_close(rx);
}

/*
 * log_burst lines per interval, and every line held back is reported in a
 * class=suppressed count: the counts add up to the resets the program met.
 */
Test(log_writer, a_storm_of_100000_resets_is_limited_and_counted_exactly,
     .timeout = 120)
{
	struct logrx *rx;
	int port, resets, lines;
	long start, secs;
	pid_t peer;
	char *argv[] = { "log_faults", "storm", NULL, "100000", NULL };
	struct fx_result *r;
	const char *sum;

	deep_queues();
	rx = rx_open();
	peer = fx_peer_reset(&port);
	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	argv[2] = fx_num(port);
	rx_start(rx);
	start = fx_now_ms();
	r = run_logged(rx, "log_burst=20:log_interval=1", argv, 100000);
	secs = (fx_now_ms() - start + 999) / 1000;
	rx_stop(rx);
	fx_stop(peer);
	cr_assert_eq(sscanf(r->out, "resets=%d", &resets), 1, "%s", r->out);
	cr_assert_eq(resets, 100000);
	lines = fx_log_count(rx->lines, "class=reset");
	cr_expect_leq(lines, 20 * (secs + 1), "%d lines in %ld s", lines, secs);
	cr_expect_geq(lines, 20);
	cr_expect_eq(lines + suppressed_total(rx->lines, "reset"), resets);
	sum = line_of(rx, "summary");
	EXPECT_FIELD(sum, "reset", "100000");
	cr_expect_eq(atol(field(sum, "suppressed")), resets - lines);
	cr_expect_not(has_field(sum, "dropped"), "%s", sum);
	cr_expect(strstr(rx->lines, " of=reset peer=127.0.0.1 prog=log_faults"),
		  "the key is the peer host");
	rx_close(rx);
}

/* A policy whose [peer 127.0.0.1] sends events to `where`, the rest to rx. */
static char *policy_env(struct logrx *rx, const char *where)
{
	static char env[512];
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/policy.conf", rx->env.dir);
	f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, "log = unix:%s\nlog_burst = 1000000\nlog_max = 1000000\n"
		   "[peer 127.0.0.1/32]\nlog = %s\n", rx->env.sock, where);
	fclose(f);
	snprintf(env, sizeof(env), "SOCKGUARD_CONFIG=%s", path);
	return env;
}

/* Runs refused_loop N under the policy; returns the elapsed ms it printed. */
static long refused_loop(struct logrx *rx, const char *where, int n)
{
	int port = fx_closed_port(), refused = 0;
	char prog[512];
	char *argv[] = { (char *)fx_prog_path("log_faults", prog, sizeof(prog)),
			 "refused_loop", fx_num(port), fx_num(n), NULL };
	char *env[] = { (char *)fx_preload_env(), policy_env(rx, where),
			"SOCKGUARD_OPTIONS", NULL };
	struct fx_result *r = calloc(1, sizeof(*r));
	long ms = -1;

	cr_assert_eq(fx_run(argv, env, 60000, r), 0);
	cr_assert_eq(sscanf(r->out, "refused=%d elapsed_ms=%ld", &refused, &ms),
		     2, "%s", r->out);
	cr_assert_eq(refused, n);
	free(r);
	return ms;
}

Test(log_writer, a_missing_log_socket_costs_nothing_and_is_counted,
     .timeout = 60)
{
	struct logrx *rx = rx_open();
	long off, missing;
	const char *sum;

	off = refused_loop(rx, "off", 5000);
	rx_collect(rx, 300);
	rx->lines[0] = '\0';
	missing = refused_loop(rx, "unix:/nonexistent/log.sock", 5000);
	rx_collect(rx, 300);
	cr_expect_leq(missing, 2 * off + 300, "%ld ms against %ld ms with "
		      "log=off", missing, off);
	sum = line_of(rx, "summary");
	EXPECT_FIELD(sum, "refused", "5000");
	EXPECT_FIELD(sum, "dropped", "5000");
	rx_close(rx);
}

Test(log_writer, a_receiver_that_never_reads_costs_nothing_and_is_counted,
     .timeout = 60)
{
	struct logrx *rx = rx_open();
	char full[400], line[8192], where[420];
	int fullfd, queued = 0;
	long off, stuck;
	const char *sum;

	snprintf(full, sizeof(full), "%s/full.sock", rx->env.dir);
	fullfd = fx_log_receiver_open(full);
	cr_assert_geq(fullfd, 0);
	snprintf(where, sizeof(where), "unix:%s", full);
	off = refused_loop(rx, "off", 5000);
	rx_collect(rx, 300);
	rx->lines[0] = '\0';
	stuck = refused_loop(rx, where, 5000);
	rx_collect(rx, 300);
	cr_expect_leq(stuck, 2 * off + 300, "%ld ms against %ld ms with "
		      "log=off", stuck, off);
	while (fx_log_receiver_read(fullfd, line, sizeof(line), 100) > 0)
		queued++;
	cr_assert_gt(queued, 0);
	sum = line_of(rx, "summary");
	cr_expect_eq(atol(field(sum, "dropped")), 5000 - queued,
		     "%d lines were queued", queued);
	close(fullfd);
	rx_close(rx);
}

Test(log_writer, the_next_line_through_says_how_many_were_dropped,
     .timeout = 20)
{
	struct logrx *rx = rx_open();
	int port = fx_closed_port();
	char prog[512];
	char *argv[] = { (char *)fx_prog_path("log_faults", prog, sizeof(prog)),
			 "refused2", fx_num(port), NULL };
	char *env[] = { (char *)fx_preload_env(),
			policy_env(rx, "unix:/nonexistent/log.sock"),
			"SOCKGUARD_OPTIONS", NULL };
	struct fx_result *r = calloc(1, sizeof(*r));
	const char *line;

	cr_assert_eq(fx_run(argv, env, 10000, r), 0);
	rx_collect(rx, 300);
	line = line_of(rx, "refused");
	char want[64];
	snprintf(want, sizeof(want), "127.0.0.2:%d", port);
	EXPECT_FIELD(line, "peer", want);
	EXPECT_FIELD(line, "dropped", "3");
	EXPECT_FIELD(line_of(rx, "summary"), "dropped", "3");
	rx_close(rx);
}

/* Sum of count=N over every class=suppressed line of=cls, with or without peer. */
static long lines_of_class(const char *lines, const char *cls)
{
	char token[64];

	snprintf(token, sizeof(token), "class=%s", cls);
	return fx_log_count(lines, token);
}

/*
 * 2,000 resets from 400 peer addresses: each address stays under log_burst,
 * so only the process-wide ceiling can hold the lines back.  At most log_max
 * lines per log_interval (plus one suppressed line per class when a window
 * reopens), and the lines plus the suppressed counts are the resets met.
 */
Test(log_writer, four_hundred_peers_resetting_stay_under_log_max,
     .timeout = 120)
{
	struct logrx *rx;
	int resets, lines, suppressed_lines;
	long start, secs;
	char *argv[] = { "log_faults", "flood", "2000", NULL };
	struct fx_result *r;
	const char *sum;

	deep_queues();
	rx = rx_open();
	rx_start(rx);
	start = fx_now_ms();
	r = run_logged(rx, "log_max=100:log_interval=5", argv, 100000);
	secs = (fx_now_ms() - start) / 1000;
	rx_stop(rx);
	cr_assert_eq(sscanf(r->out, "resets=%d", &resets), 1, "%s%s", r->out,
		     r->err);
	cr_assert_eq(resets, 2000);
	lines = fx_log_count(rx->lines, "class=reset");
	suppressed_lines = lines_of_class(rx->lines, "suppressed");
	cr_expect_leq(lines + suppressed_lines,
		      (100 + 10) * (secs / 5 + 1) + 100,
		      "%d event and %d suppressed lines in %ld s", lines,
		      suppressed_lines, secs);
	cr_expect_leq(lines, 100 * (secs / 5 + 1), "%d lines in %ld s", lines,
		      secs);
	cr_expect_eq(lines + suppressed_total(rx->lines, "reset"), resets,
		     "%d lines", lines);
	sum = line_of(rx, "summary");
	EXPECT_FIELD(sum, "reset", "2000");
	cr_expect_eq(atol(field(sum, "suppressed")), resets - lines);
	cr_expect(strstr(rx->lines, "class=suppressed count="), "%s",
		  rx->lines);
	rx_close(rx);
}

/*
 * With log_summary_interval, a process killed by SIGKILL still leaves its
 * counts: a summary comes with an event once the interval has passed, each
 * with the same pid and started=, the later ones with the larger totals.
 */
Test(log_writer, a_process_killed_by_sigkill_leaves_its_counts,
     .timeout = 30)
{
	struct logrx *rx = rx_open();
	int port = fx_closed_port();
	char *argv[] = { "log_faults", "killed", fx_num(port), "12", NULL };
	struct fx_result *r;
	const char *first, *last, *p;
	char started[32], pid[32];
	long now = time(NULL);
	int n = 0;

	r = run_logged(rx, "log_summary_interval=1", argv, 20000);
	cr_assert_eq(fx_exit_code(r), 128 + 9, "%s", r->err);
	rx_collect(rx, 300);
	first = line_of(rx, "summary");
	snprintf(started, sizeof(started), "%s", field(first, "started"));
	snprintf(pid, sizeof(pid), "%s", field(first, "pid"));
	cr_expect(atol(started) <= now && atol(started) >= now - 5,
		  "started=%s at %ld", started, now);
	cr_expect(strstr(first, " pid="), "%s", first);
	cr_expect(strstr(strstr(first, " pid="), " started=") ==
		  strchr(strstr(first, " pid=") + 1, ' '),
		  "started= right after pid=: %s", first);
	for (last = first, p = first; (p = fx_log_find_class(p, "summary"));
	     p++, n++) {
		EXPECT_FIELD(p, "started", started);
		EXPECT_FIELD(p, "pid", pid);
		last = p;
	}
	cr_expect_geq(n, 2, "a summary every second:\n%s", rx->lines);
	cr_expect_geq(atol(field(last, "refused")), 8, "%s", rx->lines);
	cr_expect_leq(atol(field(last, "refused")), 12);
	rx_close(rx);
}

Test(log_writer, log_summary_interval_0_writes_only_the_exit_summary,
     .timeout = 20)
{
	struct logrx *rx = rx_open();
	int port = fx_closed_port();
	char *argv[] = { "log_faults", "killed", fx_num(port), "5", NULL };

	run_logged(rx, "log_summary_interval=0", argv, 20000);
	rx_collect(rx, 300);
	cr_expect_eq(fx_log_count(rx->lines, "class=refused"), 5);
	cr_expect_eq(fx_log_count(rx->lines, "class=summary"), 0, "%s",
		     rx->lines);
	rx_close(rx);
}

/*
 * No descriptor of the shim's before the first line: a program that meets
 * no fault sees only its own (and its children inherit nothing).
 */
Test(log_writer, nothing_is_opened_before_the_first_line, .timeout = 20)
{
	struct logrx *rx = rx_open();
	char prog[512];
	char *argv[] = { "log_faults", "quiet", NULL };
	char *plain[] = { (char *)fx_prog_path("log_faults", prog, sizeof(prog)),
			  "quiet", NULL };
	struct fx_result *r = run_logged(rx, NULL, argv, 10000);
	struct fx_result *without = calloc(1, sizeof(*without));

	cr_assert_eq(fx_run(plain, NULL, 10000, without), 0);
	cr_assert(strncmp(without->out, "fds=", 4) == 0, "%s", without->out);
	cr_expect_str_eq(r->out, without->out, "the same descriptors");
	free(without);
	rx_close(rx);
}

/* log=unix:@NAME: an abstract socket (unix(7)), no file on disk. */
Test(log_writer, lines_reach_an_abstract_socket, .timeout = 20)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char name[64], opts[128], prog[512], lines[8192] = "", portarg[16];
	char *argv[] = { (char *)fx_prog_path("log_faults", prog, sizeof(prog)),
			 "refused", portarg, NULL };
	char *env[] = { (char *)fx_preload_env(), opts, "SOCKGUARD_CONFIG",
			NULL };
	struct fx_result *r = calloc(1, sizeof(*r));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len;

	snprintf(name, sizeof(name), "sockguard-test-%d", (int)getpid());
	memcpy(sun.sun_path + 1, name, strlen(name));
	len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	snprintf(opts, sizeof(opts), "SOCKGUARD_OPTIONS=log=unix:@%s", name);
	snprintf(portarg, sizeof(portarg), "%d", fx_closed_port());
	cr_assert_eq(fx_run(argv, env, 10000, r), 0);
	cr_expect_not(strstr(r->err, "sockguard:"), "%s", r->err);
	fx_log_collect(fd, lines, sizeof(lines), 300);
	cr_expect(strstr(lines, "]: class=refused op=connect"), "%s", lines);
	cr_expect(strstr(lines, "]: class=summary"), "%s", lines);
	close(fd);
	free(r);
}

/*
 * The shed path logs without keeping a descriptor: here the log socket was
 * already taken away by close_range, so the line goes through a private
 * socket and the reserve is retaken, ready for the second connection.
 */
Test(log_writer, logging_a_shed_connection_keeps_no_descriptor,
     .timeout = 20)
{
	struct logrx *rx = rx_open();
	int port = fx_closed_port();
	char *argv[] = { "log_faults", "emfile_closed", fx_num(port), NULL };
	struct fx_result *r = run_logged(rx, NULL, argv, 10000);

	rx_collect(rx, 300);
	cr_expect_eq(fx_log_count(rx->lines, "action=shed"), 2, "%s\n%s",
		     r->out, rx->lines);
	cr_expect_not(strstr(r->out, "accept=EMFILE"), "%s", r->out);
	rx_close(rx);
}

/*
 * RFC 5424 header: the host name as the kernel has it (uname(2)), escaped
 * like a field; one that would not fit leaves NILVALUE, never a header cut
 * short.  A UTS namespace of the test's own sets the names.
 */
static const char *rfc5424_line_with_host(struct logrx *rx, const char *host)
{
	int port = fx_closed_port();
	char *argv[] = { "log_faults", "refused", fx_num(port), NULL };

	if (fx_need_root() != 0 || unshare(CLONE_NEWUTS) != 0)
		cr_skip_test("needs root: a UTS namespace: %s",
			     fx_skip_reason());
	cr_assert_eq(sethostname(host, strlen(host)), 0);
	rx->lines[0] = '\0';
	run_logged(rx, "log_format=rfc5424", argv, 10000);
	rx_collect(rx, 300);
	cr_assert(rx->lines[0], "no line");
	return rx->lines;
}

Test(log_writer, rfc5424_host_names_are_escaped_or_nil, .timeout = 20)
{
	struct logrx *rx = rx_open();
	char odd[65];
	const char *lines;

	lines = rfc5424_line_with_host(rx, "web-1.example");
	cr_expect(strstr(lines, "+00:00 web-1.example sockguard "), "%s",
		  lines);
	cr_expect(strstr(lines, " refused - class=refused op=connect"), "%s",
		  lines);
	lines = rfc5424_line_with_host(rx, "a b=c");
	cr_expect(strstr(lines, "+00:00 a\\x20b\\x3dc sockguard "), "%s",
		  lines);
	memset(odd, 0xff, 64);
	odd[64] = '\0';
	lines = rfc5424_line_with_host(rx, odd);
	cr_expect(strstr(lines, "+00:00 - sockguard "), "%s", lines);
	cr_expect(strstr(lines, " refused - class=refused op=connect"), "%s",
		  lines);
	rx_close(rx);
}
