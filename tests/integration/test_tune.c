/*
 * `sockguard tune` against real processes that the preload cannot reach: a
 * statically linked C program and a Go program, each blocked in a read on
 * an idle connection.  After tune sets user_timeout and keepalive on their
 * sockets from outside, black-holing the peer makes their own read fail
 * with ETIMEDOUT within seconds, while an untouched twin stays blocked.
 */
#include "target_harness.h"

TestSuite(tune, .init = fx_suite_open, .fini = fx_suite_close, .timeout = 90);

static void require_root_netns(void)
{
	if (fx_need_root() != 0)
		cr_skip_test("needs root");
	FX_REQUIRE_NETNS();
}

/*
 * Two copies of path hold a connection each; tune changes only the first.
 * The peer's port is then black-holed: the tuned one's read must time out,
 * the other must still be blocked at that moment and a second later.
 */
static void tuned_read_times_out(const char *path)
{
	struct target tuned, twin;
	char view[256];
	int port, lfd = fx_listen_tcp(&port);

	cr_assert_geq(lfd, 0, "%s", fx_skip_reason());
	target_start(&tuned, "tuned", path, lfd, port, NULL, NULL);
	target_start(&twin, "twin", path, lfd, port, NULL, NULL);
	target_query(&tuned, view, sizeof(view));
	cr_assert(strstr(view, "keepalive=0 ") && strstr(view, "user_timeout=0"),
		  "before: %s", view);

	cr_assert_eq(tool((char *const[]){ "tune", "-o", "user_timeout=1000", "-o",
					   "keepalive=1,1,2", fx_num(tuned.pid),
					   NULL }), 0, "%s%s", res.out, res.err);
	cr_expect(strstr(res.out, "off -> 1,1,2"), "%s", res.out);
	cr_expect(strstr(res.out, "0 -> 1000"), "%s", res.out);
	cr_expect(strstr(res.out, "changed 1 socket in 1 process"), "%s", res.out);
	target_query(&tuned, view, sizeof(view));
	cr_expect(strstr(view, "keepalive=1 idle=1 intvl=1 cnt=2 user_timeout=1000"),
		  "the target's own getsockopt: %s", view);
	target_query(&twin, view, sizeof(view));
	cr_expect(strstr(view, "keepalive=0 "), "the twin was changed: %s", view);

	cr_assert_eq(fx_fault_add(FX_DROP, port), 0, "%s", fx_skip_reason());
	long start = fx_now_ms();
	int timed_out = fx_wait_file(tuned.out, "read: ETIMEDOUT", 10000);
	long took = fx_now_ms() - start;
	cr_expect(timed_out, "the tuned target's read did not time out");
	cr_expect_lt(took, 8000, "took %ld ms", took);
	usleep(1000 * 1000);
	cr_expect(still_running(twin.pid), "the untuned twin stopped blocking");
	cr_expect_not(fx_wait_file(twin.out, "read:", 0), "the twin's read returned");
	fx_fault_del(FX_DROP, port);
	target_stop(&tuned);
	target_stop(&twin);
	close(lfd);
}

Test(tune, static_program_read_times_out_after_tune)
{
	require_root_netns();
	tuned_read_times_out(fx_prog("tune_target_static"));
}

Test(tune, go_program_read_times_out_after_tune)
{
	require_root_netns();
	const char *go = go_target();
	if (!go)
		cr_skip_test("needs program go: not found in PATH");
	tuned_read_times_out(go);
}

Test(tune, dry_run_changes_nothing)
{
	struct target t;
	char view[256];
	int port, lfd;

	require_root_netns();
	lfd = fx_listen_tcp(&port);
	target_start(&t, "dry", fx_prog("tune_target"), lfd, port, NULL, NULL);
	cr_assert_eq(tool((char *const[]){ "tune", "--dry-run", "-o", "keepalive=1,1,2",
					   "-o", "user_timeout=1000", fx_num(t.pid),
					   NULL }), 0, "%s", res.err);
	cr_expect(strstr(res.out, "off -> 1,1,2"), "%s", res.out);
	cr_expect(strstr(res.out, "would change 1 socket"), "%s", res.out);
	target_query(&t, view, sizeof(view));
	cr_expect(strstr(view, "keepalive=0 ") && strstr(view, "user_timeout=0"),
		  "--dry-run changed the socket: %s", view);
	target_stop(&t);
	close(lfd);
}

Test(tune, peer_and_state_choose_the_sockets)
{
	struct target a, b;
	char view[256], peer[64];
	int pa, pb, la, lb;

	require_root_netns();
	/* The echo peer has only a listening socket. */
	int port;
	pid_t echo = fx_peer_echo(&port);
	cr_assert_eq(tool((char *const[]){ "tune", "-o", "user_timeout=5",
					   fx_num(echo), NULL }), 0);
	cr_expect(strstr(res.out, "no established TCP socket matched"), "%s", res.out);
	cr_assert_eq(tool((char *const[]){ "tune", "--state", "all", "-o",
					   "user_timeout=5", fx_num(echo), NULL }), 0);
	cr_expect(strstr(res.out, "LISTEN"), "%s", res.out);
	fx_stop(echo);

	la = fx_listen_tcp(&pa);
	lb = fx_listen_tcp(&pb);
	target_start(&a, "a", fx_prog("tune_target"), la, pa, NULL, NULL);
	target_start(&b, "b", fx_prog("tune_target"), lb, pb, NULL, NULL);
	snprintf(peer, sizeof(peer), "127.0.0.0/8:%d", pa);
	cr_assert_eq(tool((char *const[]){ "tune", "--peer", peer, "-o",
					   "user_timeout=1234", fx_num(a.pid),
					   fx_num(b.pid), NULL }), 0, "%s", res.err);
	cr_expect_eq(fx_line_count(res.out), 3, "header, one row, total: %s", res.out);
	target_query(&a, view, sizeof(view));
	cr_expect(strstr(view, "user_timeout=1234"), "%s", view);
	target_query(&b, view, sizeof(view));
	cr_expect(strstr(view, "user_timeout=0"), "--peer let b through: %s", view);

	target_stop(&a);
	target_stop(&b);
}

/* A cgroup v2 directory standing in for a systemd unit's. */
static int make_unit_cgroup(char *path, size_t len, const char *name)
{
	const char *mnt = fx_cgroup2_mount();

	if (!mnt)
		return -1;
	snprintf(path, len, "%s/%s", mnt, name);
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static void move_to_cgroup(const char *cg, pid_t pid)
{
	cr_assert_eq(fx_sh("echo %d > %s/cgroup.procs", (int)pid, cg), 0);
}

Test(tune, unit_takes_every_process_of_its_cgroup)
{
	struct target t;
	char cg[4096 + 264], unit[64], view[256];
	int port, lfd;

	require_root_netns();
	lfd = fx_listen_tcp(&port);
	snprintf(unit, sizeof(unit), "sgtest-tune-%d", (int)getpid());
	snprintf(view, sizeof(view), "%s.service", unit);
	if (make_unit_cgroup(cg, sizeof(cg), view) < 0)
		cr_skip_test("needs cgroup v2: %s", strerror(errno));
	target_start(&t, "unit", fx_prog("tune_target"), lfd, port, NULL, NULL);
	move_to_cgroup(cg, t.pid);
	int rc = tool((char *const[]){ "tune", "-o", "user_timeout=4321", "--unit",
				       unit, NULL });
	target_query(&t, view, sizeof(view));
	target_stop(&t);
	rmdir(cg);
	cr_expect_eq(rc, 0, "%s", res.err);
	cr_expect(strstr(res.out, fx_num(t.pid)), "%s", res.out);
	cr_expect(strstr(view, "user_timeout=4321"), "%s", view);
	cr_expect_eq(tool((char *const[]){ "tune", "-o", "user_timeout=1", "--unit",
					   "sgtest-no-such-unit", NULL }), 1);
	cr_expect(strstr(res.err, "no cgroup"), "%s", res.err);
}

/* The odd targets: each gives exactly one line naming the pid and why. */
static void one_line_about(pid_t pid, const char *why, int code)
{
	char name[32];

	cr_expect_eq(tool((char *const[]){ "tune", "-o", "user_timeout=1000",
					   fx_num(pid), NULL }), code,
		     "%s%s", res.out, res.err);
	snprintf(name, sizeof(name), "tune: %d: ", (int)pid);
	cr_expect_eq(fx_line_count(res.out) + fx_line_count(res.err), 1, "%s%s",
		     res.out, res.err);
	cr_expect(strstr(res.err, name) && strstr(res.err, why), "%s", res.err);
}

Test(tune, vanished_zombie_kernel_thread_and_pid1_get_one_line)
{
	if (fx_need_root() != 0)
		cr_skip_test("needs root");
	one_line_about(fx_vanished_pid(), "no such process", 1);
	pid_t z = fx_zombie();
	cr_assert_gt(z, 0, "%s", fx_skip_reason());
	one_line_about(z, "is a zombie", 1);
	waitpid(z, NULL, 0);
	pid_t k = fx_kernel_thread();
	if (k)
		one_line_about(k, "is a kernel thread", 1);
	cr_expect_eq(tool((char *const[]){ "tune", "-o", "user_timeout=1000", "1",
					   NULL }) != 2, 1);
	cr_expect_eq(fx_line_count(res.out) + fx_line_count(res.err), 1, "PID 1: %s%s",
		     res.out, res.err);
}

Test(tune, unprivileged_user_is_refused_naming_the_pid)
{
	struct target t;
	int port, lfd;

	require_root_netns();
	lfd = fx_listen_tcp(&port);
	FX_REQUIRE_PROGRAM("setpriv");
	target_start(&t, "priv", fx_prog("tune_target"), lfd, port, NULL, NULL);
	const char *nobody[] = { "setpriv", "--reuid=65534", "--regid=65534",
				 "--clear-groups", NULL };
	cr_expect_eq(tool_as(nobody, (char *const[]){ "tune", "-o", "user_timeout=1000",
						      fx_num(t.pid), NULL }),
		     1, "%s%s", res.out, res.err);
	cr_expect_eq(fx_line_count(res.out) + fx_line_count(res.err), 1, "%s%s",
		     res.out, res.err);
	cr_expect(strstr(res.err, fx_num(t.pid)) &&
		  strstr(res.err, "permission denied"), "%s", res.err);
	target_stop(&t);
}

Test(tune, process_in_another_pid_namespace_is_tuned)
{
	char view[256];
	struct target t;
	int port, lfd;

	require_root_netns();
	lfd = fx_listen_tcp(&port);
	pid_t child = target_start_pidns(&t, lfd, port);
	cr_expect_eq(tool((char *const[]){ "tune", "-o", "user_timeout=777",
					   fx_num(t.pid), NULL }), 0, "%s", res.err);
	cr_expect(strstr(res.out, "changed 1 socket"), "%s", res.out);
	target_query(&t, view, sizeof(view));
	cr_expect(strstr(view, "user_timeout=777"), "%s", view);
	close(t.conn);
	fx_stop(child);
}
