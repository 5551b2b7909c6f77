/*
 * Each class of the log line, produced by the real kernel, and the
 * datagram the shim sent for it checked field by field.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "test_log_util.h"

/* Runs log_faults WHAT PORT under the shim; returns its stdout. */
static const char *faults(struct logrx *rx, const char *extra,
			  const char *what, int port, int timeout_ms)
{
	char *argv[] = { "log_faults", (char *)what, fx_num(port), NULL };
	struct fx_result *r = run_logged(rx, extra, argv, timeout_ms);

	cr_assert_eq(fx_exit_code(r), 0, "log_faults %s: %s", what, r->err);
	rx_collect(rx, 300);
	return r->out;
}

static void expect_peer_is(const char *line, int port)
{
	char want[64];

	snprintf(want, sizeof(want), "127.0.0.1:%d", port);
	EXPECT_FIELD(line, "peer", want);
}

Test(log_classes, reset_when_the_peer_closes_with_so_linger_0, .timeout = 20)
{
	struct logrx *rx = rx_open();
	int port;
	pid_t peer = fx_peer_reset(&port);
	const char *out, *line;

	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	out = faults(rx, NULL, "reset", port, 10000);
	cr_assert(strstr(out, "recv=ECONNRESET"), "%s", out);
	line = line_of(rx, "reset");
	EXPECT_FIELD(line, "op", "recv");
	EXPECT_FIELD(line, "errno", "ECONNRESET");
	EXPECT_FIELD(line, "action", "returned");
	EXPECT_FIELD(line, "prog", "log_faults");
	EXPECT_FIELD(line, "proto", "tcp");
	cr_expect(strncmp(field(line, "local"), "127.0.0.1:", 10) == 0);
	expect_peer_is(line, port);
	EXPECT_FIELD(line, "state", "CLOSE");
	cr_expect(has_field(line, "rtt_us") && has_field(line, "retrans"));
	cr_expect_not(has_field(line, "tries"));
	cr_expect(strncmp(line, "<28>", 4) == 0, "daemon.warning: %s", line);
	fx_stop(peer);
	rx_close(rx);
}

Test(log_classes, refused_on_a_blocking_connect, .timeout = 20)
{
	struct logrx *rx = rx_open();
	int port = fx_closed_port();
	const char *line;

	faults(rx, NULL, "refused", port, 10000);
	line = line_of(rx, "refused");
	EXPECT_FIELD(line, "op", "connect");
	EXPECT_FIELD(line, "errno", "ECONNREFUSED");
	EXPECT_FIELD(line, "action", "returned");
	expect_peer_is(line, port);
	EXPECT_FIELD(line, "proto", "tcp");
	rx_close(rx);
}

Test(log_classes, refused_found_through_so_error_after_nonblocking_connect,
     .timeout = 20)
{
	struct logrx *rx = rx_open();
	int port = fx_closed_port();
	const char *out, *line;

	out = faults(rx, NULL, "refused_nb", port, 10000);
	cr_assert(strstr(out, "so_error=ECONNREFUSED"), "%s", out);
	line = line_of(rx, "refused");
	EXPECT_FIELD(line, "op", "connect");
	EXPECT_FIELD(line, "errno", "ECONNREFUSED");
	expect_peer_is(line, port);
	cr_expect_eq(fx_log_count(rx->lines, "class=refused"), 1);
	rx_close(rx);
}

Test(log_classes, refused_met_by_curl, .timeout = 30)
{
	struct logrx *rx;
	int port = fx_closed_port();
	char url[64];
	char *argv[] = { "/usr/bin/curl", "-s", "-o", "/dev/null", url, NULL };
	const char *line;

	FX_REQUIRE_PROGRAM("curl");
	rx = rx_open();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	run_logged(rx, NULL, argv, 20000);
	rx_collect(rx, 300);
	line = line_of(rx, "refused");
	EXPECT_FIELD(line, "op", "connect");
	EXPECT_FIELD(line, "prog", "curl");
	expect_peer_is(line, port);
	rx_close(rx);
}

Test(log_classes, timeout_from_so_rcvtimeo_names_its_deadline, .timeout = 20)
{
	struct logrx *rx = rx_open();
	int port;
	pid_t peer = fx_peer_echo(&port);
	const char *out, *line;

	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	out = faults(rx, NULL, "rcvtimeo", port, 10000);
	cr_assert(strstr(out, "recv=EAGAIN"), "%s", out);
	line = line_of(rx, "timeout");
	EXPECT_FIELD(line, "op", "recv");
	EXPECT_FIELD(line, "errno", "EAGAIN");
	EXPECT_FIELD(line, "deadline", "so_rcvtimeo");
	EXPECT_FIELD(line, "state", "ESTABLISHED");
	expect_peer_is(line, port);
	fx_stop(peer);
	rx_close(rx);
}

Test(log_classes, timeout_when_syns_are_dropped, .timeout = 30)
{
	struct logrx *rx;
	int lfd, port = 0;
	const char *line;

	FX_REQUIRE_NETNS();
	rx = rx_open();
	lfd = fx_listen_tcp(&port);
	cr_assert_geq(lfd, 0);
	cr_assert_eq(fx_set_syn_retries(1), 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_fault_add(FX_DROP, port), 0, "%s", fx_skip_reason());
	faults(rx, NULL, "connect", port, 20000);
	line = line_of(rx, "timeout");
	EXPECT_FIELD(line, "op", "connect");
	EXPECT_FIELD(line, "errno", "ETIMEDOUT");
	EXPECT_FIELD(line, "deadline", "retrans");
	expect_peer_is(line, port);
	rx_close(rx);
}

Test(log_classes, unreachable_from_icmp_host_unreachable, .timeout = 30)
{
	struct logrx *rx;
	int lfd, port = 0;
	const char *line;

	FX_REQUIRE_NETNS();
	rx = rx_open();
	lfd = fx_listen_tcp(&port);
	cr_assert_geq(lfd, 0);
	cr_assert_eq(fx_fault_add(FX_HOST_UNREACH, port), 0, "%s",
		     fx_skip_reason());
	faults(rx, NULL, "connect", port, 20000);
	line = line_of(rx, "unreachable");
	EXPECT_FIELD(line, "op", "connect");
	EXPECT_FIELD(line, "errno", "EHOSTUNREACH");
	expect_peer_is(line, port);
	rx_close(rx);
}

Test(log_classes, pipe_on_a_send_after_shutdown, .timeout = 20)
{
	struct logrx *rx = rx_open();
	int port;
	pid_t peer = fx_peer_echo(&port);
	const char *out, *line;

	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	out = faults(rx, NULL, "pipe", port, 10000);
	cr_assert(strstr(out, "send=EPIPE"), "%s", out);
	line = line_of(rx, "pipe");
	EXPECT_FIELD(line, "op", "send");
	EXPECT_FIELD(line, "errno", "EPIPE");
	cr_expect_str_eq(field(line, "action"), "sigpipe_suppressed");
	expect_peer_is(line, port);
	fx_stop(peer);
	rx_close(rx);
}

/*
 * eof (log_events=all): a request sent, then the end of the stream instead
 * of a reply.  Whichever call sent the request, the line is the same.
 */
static void expect_eof_after(const char *call)
{
	struct logrx *rx = rx_open();
	int port;
	pid_t peer = fx_peer_halfclose(&port);
	char *argv[] = { "log_faults", "eof", fx_num(port), (char *)call,
			 NULL };
	char want[64];

	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	struct fx_result *r = run_logged(rx, "log_events=all", argv, 10000);
	snprintf(want, sizeof(want), "%s=4 recv=ok\n", call);
	cr_assert_str_eq(r->out, want, "%s", r->err);
	rx_collect(rx, 300);
	const char *line = fx_log_find_class(rx->lines, "eof");
	cr_expect_not_null(line, "%s, then an end of file: no class=eof line; "
			   "got:\n%s", call, rx->lines);
	if (line) {
		EXPECT_FIELD(line, "op", "recv");
		EXPECT_FIELD(line, "action", "returned");
		EXPECT_FIELD(line, "proto", "tcp");
		expect_peer_is(line, port);
		cr_expect_not(has_field(line, "errno"), "%s", line);
	}
	free(r);
	fx_stop(peer);
	rx_close(rx);
}

Test(log_classes, eof_when_the_peer_closes_instead_of_replying_to_send,
     .timeout = 20)
{
	expect_eof_after("send");
	expect_eof_after("write");
}

Test(log_classes, eof_follows_writev_sendmsg_sendmmsg_sendfile_as_it_follows_send,
     .timeout = 30)
{
	expect_eof_after("writev");
	expect_eof_after("sendmsg");
	expect_eof_after("sendmmsg");
	expect_eof_after("sendfile");
}

Test(log_classes, fd_exhausted_on_accept, .timeout = 20)
{
	struct logrx *rx = rx_open();
	const char *line;

	faults(rx, NULL, "emfile", 0, 10000);
	line = line_of(rx, "fd_exhausted");
	EXPECT_FIELD(line, "op", "accept");
	EXPECT_FIELD(line, "errno", "EMFILE");
	EXPECT_FIELD(line, "action", "shed");
	EXPECT_FIELD(line, "state", "LISTEN");
	cr_expect_not(has_field(line, "peer"), "a listener has no peer");
	cr_expect(strncmp(line, "<27>", 4) == 0, "daemon.err: %s", line);
	rx_close(rx);
}

Test(log_classes, aborted_when_strace_injects_econnaborted, .timeout = 30)
{
	struct logrx *rx;
	char prog[512];
	char *argv[] = {
		"/usr/bin/strace", "-qq", "-f", "-o", "/dev/null", "-e",
		"trace=accept,accept4", "-e",
		"inject=accept,accept4:error=ECONNABORTED:when=1",
		(char *)fx_prog_path("log_faults", prog, sizeof(prog)),
		"accept", NULL
	};
	const char *line;

	FX_REQUIRE_PROGRAM("strace");
	rx = rx_open();
	run_logged(rx, NULL, argv, 20000);
	rx_collect(rx, 300);
	line = line_of(rx, "aborted");
	EXPECT_FIELD(line, "op", "accept");
	EXPECT_FIELD(line, "errno", "ECONNABORTED");
	EXPECT_FIELD(line, "action", "retried");
	EXPECT_FIELD(line, "tries", "1");
	rx_close(rx);
}

Test(log_classes, summary_at_exit_counts_classes_and_actions, .timeout = 20)
{
	struct logrx *rx = rx_open();
	int port = fx_closed_port();
	char *argv[] = { "log_faults", "refused_loop", fx_num(port), "3",
			 NULL };
	const char *line;
	char pid[32];

	run_logged(rx, NULL, argv, 10000);
	rx_collect(rx, 300);
	line = line_of(rx, "summary");
	EXPECT_FIELD(line, "prog", "log_faults");
	EXPECT_FIELD(line, "refused", "3");
	EXPECT_FIELD(line, "returned", "3");
	cr_expect_not(has_field(line, "dropped"));
	cr_expect_not(has_field(line, "suppressed"));
	snprintf(pid, sizeof(pid), "%s", field(line, "pid"));
	cr_expect(strstr(line, pid), "the pid is the tag's");
	cr_expect(strncmp(line, "<30>", 4) == 0, "daemon.info: %s", line);
	cr_expect(strstr(rx->lines, "class=summary prog=log_faults pid="));
	rx_close(rx);
}

Test(log_classes, log_events_filters_classes_but_counts_them, .timeout = 20)
{
	struct logrx *rx = rx_open();
	int port = fx_closed_port();
	const char *line;

	faults(rx, "log_events=reset,summary", "refused", port, 10000);
	cr_expect_null(fx_log_find_class(rx->lines, "refused"));
	line = line_of(rx, "summary");
	EXPECT_FIELD(line, "refused", "1");
	rx_close(rx);
}

Test(log_classes, stderr_gets_one_plain_line_per_event, .timeout = 20)
{
	int port = fx_closed_port();
	char prog[512];
	char *argv[] = { (char *)fx_prog_path("log_faults", prog, sizeof(prog)),
			 "refused", fx_num(port), NULL };
	char *env[] = { (char *)fx_preload_env(),
			"SOCKGUARD_OPTIONS=log=stderr", NULL };
	struct fx_result *r = calloc(1, sizeof(*r));

	cr_assert_eq(fx_run(argv, env, 10000, r), 0);
	cr_assert(strncmp(r->err, "sockguard[", 10) == 0, "%s", r->err);
	cr_expect(strstr(r->err, "]: class=refused op=connect "), "%s", r->err);
	cr_expect_eq(fx_log_count(r->err, "class=refused"), 1);
	cr_expect(strstr(r->err, "]: class=summary prog=log_faults "));
	cr_expect_eq(r->err[strlen(r->err) - 1], '\n');
}

/* A name with a newline and '=' must not start a second, forged line. */
Test(log_classes, a_hostile_program_name_is_escaped, .timeout = 20)
{
	struct logrx *rx = rx_open();
	int port = fx_closed_port();
	char prog[512], link[600];
	char *argv[] = { link, "refused", fx_num(port), NULL };
	const char *line;

	snprintf(link, sizeof(link), "%s/a b\nclass=forged x=1", rx->env.dir);
	cr_assert_eq(symlink(fx_prog_path("log_faults", prog, sizeof(prog)),
			     link), 0);
	run_logged(rx, NULL, argv, 10000);
	rx_collect(rx, 300);
	line = line_of(rx, "refused");
	EXPECT_FIELD(line, "prog", "a\\x20b\\x0aclass\\x3dforged\\x20x\\x3d1");
	cr_expect_null(fx_log_find_class(rx->lines, "forged"));
	rx_close(rx);
}
