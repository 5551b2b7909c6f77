/*
 * `sockguard audit` against real processes, each holding a TCP connection:
 * a static program, a Go program, a dynamic one with and without the shim,
 * one whose LD_PRELOAD named the library before it was installed and one
 * started after, an io_uring user, and a set-user-ID copy started by an
 * ordinary user (secure execution).
 */
#include "target_harness.h"

TestSuite(audit, .init = fx_suite_open, .fini = fx_suite_close, .timeout = 60);

static int lfd = -1, port;

static void setup(void)
{
	if (fx_need_root() != 0)
		cr_skip_test("needs root");
	FX_REQUIRE_NETNS();
	lfd = fx_listen_tcp(&port);
	cr_assert_geq(lfd, 0, "%s", fx_skip_reason());
}

/* The JSON object of pid in the last --json output (up to its line's end). */
static const char *object_of(pid_t pid, char *buf, size_t len)
{
	char key[32];

	snprintf(key, sizeof(key), "{\"pid\":%d,", (int)pid);
	const char *at = strstr(res.out, key);
	if (!at)
		return NULL;
	size_t n = strcspn(at, "\n");
	snprintf(buf, len, "%.*s", (int)n, at);
	return buf;
}

static void expect_label(pid_t pid, const char *label, const char *reason)
{
	char obj[2048], want[64];

	cr_assert(object_of(pid, obj, sizeof(obj)), "pid %d missing: %s%s",
		  (int)pid, res.out, res.err);
	snprintf(want, sizeof(want), "\"label\":\"%s\"", label);
	cr_expect(strstr(obj, want), "want %s: %s", label, obj);
	cr_expect(!reason || strstr(obj, reason), "want '%s': %s", reason, obj);
}

Test(audit, static_go_and_dynamic_programs_with_and_without_the_shim)
{
	struct target st, go, plain, shim;

	setup();
	const char *gopath = go_target();
	if (!gopath)
		cr_skip_test("needs program go: not found in PATH");
	target_start(&st, "static", fx_prog("tune_target_static"), lfd, port,
		     fx_env_shim(&env, NULL), NULL);
	target_start(&go, "go", gopath, lfd, port, fx_env_shim(&env, NULL), NULL);
	target_start(&plain, "plain", fx_prog("tune_target"), lfd, port,
		     fx_env_plain(&env), NULL);
	target_start(&shim, "shim", fx_prog("tune_target"), lfd, port,
		     fx_env_shim(&env, NULL), NULL);

	cr_expect_eq(tool((char *const[]){ "audit", "--json", fx_num(st.pid),
					   fx_num(go.pid), fx_num(plain.pid),
					   fx_num(shim.pid), NULL }), 1, "%s", res.err);
	expect_label(st.pid, "blind", "statically linked");
	expect_label(go.pid, "blind", "Go runtime");
	expect_label(plain.pid, "blind", "not preloaded: neither its environment");
	expect_label(shim.pid, "covered", "\"mode\":\"harden\",\"generation\":0");
	expect_label(shim.pid, "covered", "\"inet_sockets\":1,");
	expect_label(plain.pid, "blind", "\"tune\":true");

	cr_expect_eq(tool((char *const[]){ "audit", fx_num(shim.pid), NULL }),
		     0, "only covered processes: %s%s", res.out, res.err);
	cr_expect(strstr(res.out, "covered  mode=harden generation=0"), "%s", res.out);
	cr_expect(strstr(res.out, "1 process: 1 covered, 0 partial, 0 blind"), "%s",
		  res.out);
	target_stop(&st), target_stop(&go), target_stop(&plain), target_stop(&shim);
}

Test(audit, preload_named_before_the_library_existed_is_not_covered)
{
	struct target before, after;
	char lib[512], preload[600];

	setup();
	snprintf(lib, sizeof(lib), "%s/lib/libsockguard.so", env.dir);
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", lib);
	char *const e[] = { preload, "SOCKGUARD_OPTIONS=log=off", NULL };
	target_start(&before, "before", fx_prog("tune_target"), lfd, port, e, NULL);
	cr_assert_eq(fx_sh("mkdir -p %s/lib && cp %s %s", env.dir,
			   fx_shim_path(), lib), 0);
	target_start(&after, "after", fx_prog("tune_target"), lfd, port, e, NULL);

	cr_expect_eq(tool((char *const[]){ "audit", "--json", fx_num(before.pid),
					   fx_num(after.pid), NULL }), 1);
	expect_label(before.pid, "blind", "its LD_PRELOAD names libsockguard.so but "
		     "it is not mapped");
	expect_label(after.pid, "covered", NULL);
	target_stop(&before), target_stop(&after);
}

Test(audit, io_uring_user_with_the_shim_is_partial)
{
	struct target t;

	setup();
	target_start(&t, "uring", fx_prog("tune_target"), lfd, port,
		     fx_env_shim(&env, NULL), "uring");
	cr_expect_eq(tool((char *const[]){ "audit", "--json", fx_num(t.pid),
					   NULL }), 1, "%s%s", res.out, res.err);
	expect_label(t.pid, "partial", "io_uring");
	expect_label(t.pid, "partial", "\"io_uring\":1,");
	target_stop(&t);
}

Test(audit, setuid_copy_run_by_a_user_is_secure_execution)
{
	struct target t;
	char copy[512], p[16];

	setup();
	FX_REQUIRE_PROGRAM("setpriv");
	snprintf(copy, sizeof(copy), "%s/suid_target", env.dir);
	cr_assert_eq(fx_sh("cp %s %s && chown root:root %s && chmod 4755 %s",
			   fx_prog("tune_target"), copy, copy, copy), 0);
	snprintf(p, sizeof(p), "%d", port);
	target_start_argv(&t, "suid", (char *const[]){ "setpriv", "--reuid=65534",
						       "--regid=65534", "--clear-groups",
						       copy, p, NULL },
			  lfd, fx_env_shim(&env, NULL));
	cr_expect_eq(tool((char *const[]){ "audit", "--json", fx_num(t.pid),
					   NULL }), 1, "%s%s", res.out, res.err);
	expect_label(t.pid, "blind", "secure execution");
	target_stop(&t);
}

Test(audit, all_processes_lists_those_with_inet_sockets)
{
	struct target t;

	setup();
	target_start(&t, "all", fx_prog("tune_target"), lfd, port,
		     fx_env_plain(&env), NULL);
	pid_t quiet = fx_spawn((char *const[]){ "sleep", "30", NULL }, NULL, NULL);
	int rc = tool((char *const[]){ "audit", "--json", NULL });
	cr_expect(rc == 1 || rc == 2, "%d: %s", rc, res.err);
	expect_label(t.pid, "blind", NULL);
	char obj[256];
	cr_expect_null(object_of(quiet, obj, sizeof(obj)), "no socket, not listed");
	fx_stop(quiet);
	target_stop(&t);
}

Test(audit, unit_lists_the_processes_of_its_cgroup)
{
	struct target t;
	char cg[4096 + 80], unit[64];

	setup();
	const char *mnt = fx_cgroup2_mount();
	if (!mnt)
		cr_skip_test("needs cgroup v2");
	snprintf(unit, sizeof(unit), "sgtest-audit-%d.service", (int)getpid());
	snprintf(cg, sizeof(cg), "%s/%s", mnt, unit);
	cr_assert_eq(mkdir(cg, 0755), 0, "%s", strerror(errno));
	target_start(&t, "unit", fx_prog("tune_target"), lfd, port,
		     fx_env_shim(&env, NULL), NULL);
	cr_assert_eq(fx_sh("echo %d > %s/cgroup.procs", (int)t.pid, cg), 0);
	int rc = tool((char *const[]){ "audit", "--json", "--unit", unit, NULL });
	pid_t pid = t.pid;
	target_stop(&t);
	rmdir(cg);
	cr_expect_eq(rc, 0, "%s%s", res.out, res.err);
	expect_label(pid, "covered", NULL);
}

/* Each odd target gives exactly one line naming the pid and why. */
static void one_line_about(pid_t pid, const char *why)
{
	char name[32];

	cr_expect_eq(tool((char *const[]){ "audit", fx_num(pid), NULL }), 2,
		     "%s%s", res.out, res.err);
	snprintf(name, sizeof(name), "audit: %d", (int)pid);
	cr_expect_eq(fx_line_count(res.err), 1, "%s", res.err);
	cr_expect(strstr(res.err, name) && strstr(res.err, why), "%s", res.err);
}

Test(audit, vanished_zombie_kernel_thread_and_pid1_get_one_line)
{
	if (fx_need_root() != 0)
		cr_skip_test("needs root");
	one_line_about(fx_vanished_pid(), "no such process");
	pid_t z = fx_zombie();
	cr_assert_gt(z, 0, "%s", fx_skip_reason());
	one_line_about(z, "is a zombie");
	waitpid(z, NULL, 0);
	pid_t k = fx_kernel_thread();
	if (k)
		one_line_about(k, "is a kernel thread");
	int rc = tool((char *const[]){ "audit", "1", NULL });
	cr_expect(rc == 0 || rc == 1 || rc == 2, "%d", rc);
	cr_expect(rc == 2 ? fx_line_count(res.err) == 1 :
		  strstr(res.out, "      1  ") != NULL, "PID 1: %s%s", res.out, res.err);
}

Test(audit, unprivileged_user_is_told_permission_denied)
{
	struct target t;

	setup();
	FX_REQUIRE_PROGRAM("setpriv");
	target_start(&t, "priv", fx_prog("tune_target"), lfd, port,
		     fx_env_plain(&env), NULL);
	const char *nobody[] = { "setpriv", "--reuid=65534", "--regid=65534",
				 "--clear-groups", NULL };
	cr_expect_eq(tool_as(nobody, (char *const[]){ "audit", fx_num(t.pid),
						      NULL }), 2, "%s%s", res.out, res.err);
	cr_expect_eq(fx_line_count(res.err), 1, "%s", res.err);
	cr_expect(strstr(res.err, fx_num(t.pid)) &&
		  strstr(res.err, "permission denied"), "%s", res.err);
	target_stop(&t);
}

Test(audit, process_in_another_pid_namespace_shows_its_own_pid)
{
	struct target t;

	setup();
	pid_t child = target_start_pidns(&t, lfd, port);
	cr_expect_eq(tool((char *const[]){ "audit", fx_num(t.pid), NULL }), 1,
		     "%s%s", res.out, res.err);
	cr_expect(strstr(res.out, "[pid 1 in its PID namespace]"), "%s", res.out);
	cr_expect_eq(fx_line_count(res.out), 3, "header, row, total: %s", res.out);
	close(t.conn);
	fx_stop(child);
}
