/*
 * The fixtures produce the kernel faults they claim, without the shim: if
 * one of these fails, every test built on that fixture proves nothing.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"

/* connect() to 127.0.0.1:port; returns its errno (0 on success). */
static int connect_errno(int port, long *elapsed_ms)
{
	long start = fx_now_ms();
	int fd, err;

	fd = fx_connect_tcp(port);
	err = fd < 0 ? errno : 0;
	if (elapsed_ms)
		*elapsed_ms = fx_now_ms() - start;
	if (fd >= 0)
		close(fd);
	return err;
}

/* A listener that the fault rules then stand in front of. */
static int listening_port(int *lfd)
{
	int port = 0;

	*lfd = fx_listen_tcp(&port);
	cr_assert_geq(*lfd, 0, "listen: %s", fx_skip_reason());
	return port;
}

Test(fixtures, closed_port_refuses, .timeout = 10)
{
	int port = fx_closed_port();

	cr_assert_gt(port, 0);
	cr_expect_eq(connect_errno(port, NULL), ECONNREFUSED);
}

Test(fixtures, netns_has_loopback_up, .timeout = 10)
{
	int lfd, port;

	FX_REQUIRE_NETNS();
	port = listening_port(&lfd);
	cr_expect_eq(connect_errno(port, NULL), 0, "loopback is not usable");
	close(lfd);
}

Test(fixtures, reject_with_tcp_reset_gives_econnrefused, .timeout = 10)
{
	int lfd, port;

	FX_REQUIRE_NETNS();
	port = listening_port(&lfd);
	cr_assert_eq(fx_fault_add(FX_RST, port), 0, "%s", fx_skip_reason());
	cr_expect_eq(connect_errno(port, NULL), ECONNREFUSED,
		     "a listening port behind REJECT tcp-reset must refuse");
	cr_assert_eq(fx_fault_del(FX_RST, port), 0, "%s", fx_skip_reason());
	cr_expect_eq(connect_errno(port, NULL), 0, "rule removal failed");
}

Test(fixtures, drop_with_one_syn_retry_times_out_in_3s, .timeout = 20)
{
	int lfd, port;
	long ms;

	FX_REQUIRE_NETNS();
	port = listening_port(&lfd);
	cr_assert_eq(fx_set_syn_retries(1), 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_fault_add(FX_DROP, port), 0, "%s", fx_skip_reason());
	cr_expect_eq(connect_errno(port, &ms), ETIMEDOUT);
	/* One SYN, one retry after 1 s, then 2 s more before giving up. */
	cr_expect(ms >= 2500 && ms <= 6000, "took %ld ms, expected ~3000", ms);
}

Test(fixtures, drop_lifted_after_200ms_connects_on_retransmit, .timeout = 20)
{
	int lfd, port;
	long ms;
	pid_t lifter;

	FX_REQUIRE_NETNS();
	port = listening_port(&lfd);
	cr_assert_eq(fx_fault_add(FX_DROP, port), 0, "%s", fx_skip_reason());
	lifter = fx_fault_del_after(FX_DROP, port, 200);
	cr_assert_gt(lifter, 0);
	cr_expect_eq(connect_errno(port, &ms), 0);
	/* The first SYN was dropped; the retransmission 1 s later got in. */
	cr_expect(ms >= 800 && ms <= 4000, "took %ld ms, expected ~1000", ms);
	waitpid(lifter, NULL, 0);
}

Test(fixtures, icmp_host_unreachable_gives_ehostunreach, .timeout = 20)
{
	int lfd, port;

	FX_REQUIRE_NETNS();
	port = listening_port(&lfd);
	cr_assert_eq(fx_fault_add(FX_HOST_UNREACH, port), 0, "%s",
		     fx_skip_reason());
	cr_expect_eq(connect_errno(port, NULL), EHOSTUNREACH);
}

Test(fixtures, icmp_net_unreachable_gives_enetunreach, .timeout = 20)
{
	int lfd, port;

	FX_REQUIRE_NETNS();
	port = listening_port(&lfd);
	cr_assert_eq(fx_fault_add(FX_NET_UNREACH, port), 0, "%s",
		     fx_skip_reason());
	cr_expect_eq(connect_errno(port, NULL), ENETUNREACH);
}

Test(fixtures, resetting_peer_gives_econnreset, .timeout = 10)
{
	char buf[16];
	int port = 0, fd;
	pid_t peer = fx_peer_reset(&port);

	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	fd = fx_connect_tcp(port);
	cr_assert_geq(fd, 0, "%s", fx_skip_reason());
	cr_expect_eq(recv(fd, buf, sizeof buf, 0), -1);
	cr_expect_eq(errno, ECONNRESET, "got %s", strerror(errno));
	close(fd);
	fx_stop(peer);
}

Test(fixtures, halfclosing_peer_gives_eof_and_still_reads, .timeout = 10)
{
	char buf[16];
	int port = 0, fd;
	pid_t peer = fx_peer_halfclose(&port);

	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	fd = fx_connect_tcp(port);
	cr_assert_geq(fd, 0, "%s", fx_skip_reason());
	cr_expect_eq(recv(fd, buf, sizeof buf, 0), 0, "expected EOF");
	cr_expect_eq(send(fd, "more", 4, MSG_NOSIGNAL), 4,
		     "the peer still reads after its half-close");
	close(fd);
	fx_stop(peer);
}

Test(fixtures, late_accepting_peer_answers_after_its_delay, .timeout = 10)
{
	char buf[8] = "";
	int port = 0, fd;
	pid_t peer = fx_peer_late_accept(&port, 300);
	long start = fx_now_ms(), ms;

	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	fd = fx_connect_tcp(port);
	cr_assert_geq(fd, 0, "the backlog must take the connection at once");
	cr_assert_eq(send(fd, "ping", 4, 0), 4);
	cr_expect_eq(recv(fd, buf, 4, MSG_WAITALL), 4);
	ms = fx_now_ms() - start;
	cr_expect_str_eq(buf, "ping");
	cr_expect(ms >= 250, "answered after %ld ms, before the delay", ms);
	close(fd);
	fx_stop(peer);
}

Test(fixtures, run_captures_output_status_and_environment, .timeout = 10)
{
	static struct fx_result r;
	char *argv[] = { "sh", "-c",
			 "echo out:$FX_A:${FX_B-unset}; echo err >&2; exit 3",
			 NULL };
	char *env[] = { "FX_A=set", "FX_B", NULL };

	setenv("FX_B", "inherited", 1);
	cr_assert_eq(fx_run(argv, env, 5000, &r), 0, "%s", fx_skip_reason());
	cr_expect_str_eq(r.out, "out:set:unset\n");
	cr_expect_str_eq(r.err, "err\n");
	cr_expect_eq(fx_exit_code(&r), 3);
}

Test(fixtures, run_kills_a_program_that_overstays, .timeout = 10)
{
	static struct fx_result r;
	char *argv[] = { "sh", "-c", "sleep 30; echo late", NULL };

	cr_expect_eq(fx_run(argv, NULL, 300, &r), -1);
	cr_expect(r.timed_out);
	cr_expect_eq(fx_exit_code(&r), -1);
	cr_expect_lt(r.elapsed_ms, 3000, "the timeout did not kill it");
	cr_expect_str_empty(r.out);
}

Test(fixtures, log_receiver_finds_classes_and_fields, .timeout = 10)
{
	char dir[256], path[300], lines[4096] = "", val[64];
	const char *line;
	int fd;

	cr_assert_eq(fx_tempdir(dir, sizeof dir), 0);
	snprintf(path, sizeof path, "%s/log.sock", dir);
	fd = fx_log_receiver_open(path);
	cr_assert_geq(fd, 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_sh("printf '<28>sockguard[1]: class=reset op=recv "
			   "errno=ECONNRESET\\n' | socat -u - UNIX-SENDTO:%s "
			   "&& printf 'class=refusedX op=connect' | socat -u - "
			   "UNIX-SENDTO:%s", path, path), 0, "%s",
		     fx_skip_reason());
	cr_expect_eq(fx_log_collect(fd, lines, sizeof lines, 300), 2);
	line = fx_log_find_class(lines, "reset");
	cr_assert_not_null(line, "no class=reset in:\n%s", lines);
	cr_expect_eq(fx_log_field(line, "errno", val, sizeof val), 0);
	cr_expect_str_eq(val, "ECONNRESET");
	cr_expect_null(fx_log_find_class(lines, "refused"),
		       "class=refusedX is not class=refused");
	cr_expect_eq(fx_log_count(lines, "op=connect"), 1);
	close(fd);
	fx_rmtree(dir);
}

Test(fixtures, shim_path_points_at_the_built_library, .timeout = 10)
{
	struct stat st;

	cr_expect_eq(fx_shim_path()[0], '/', "not absolute: %s", fx_shim_path());
	cr_expect_eq(stat(fx_shim_path(), &st), 0, "missing: %s",
		     fx_shim_path());
}
