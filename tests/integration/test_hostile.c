/*
 * Unusual but correct programs (tests/progs/hostile.c): each scenario is run
 * without the shim and with it, logging on, and what the program observed
 * must be the same, or, where the shim is meant to change the outcome (a
 * retried EINTR), an outcome that is just as true.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"

static struct fx_result plain, shimmed;

TestSuite(hostile, .init = fx_suite_open_log, .fini = fx_suite_close,
	  .timeout = 60);

/* Runs the scenario without the shim, or with it (options opts). */
static void run(enum fx_side side, const char *scenario, const char *opts)
{
	char path[4096];
	char *argv[] = { (char *)fx_prog_path("hostile", path, sizeof path),
			 (char *)scenario, NULL };

	fx_run(argv, fx_env_side(&env, side, opts), 20000,
	       side == FX_SHIM ? &shimmed : &plain);
}

/* Both runs: same exit status and the same output. */
static void same_outcome(const char *scenario, const char *opts)
{
	run(FX_PLAIN, scenario, NULL);
	run(FX_SHIM, scenario, opts);
	cr_assert_eq(fx_exit_code(&shimmed), fx_exit_code(&plain),
		     "%s: exit %d with the shim, %d without (stderr: %s)",
		     scenario, fx_exit_code(&shimmed), fx_exit_code(&plain),
		     shimmed.err);
	cr_assert_str_eq(shimmed.out, plain.out, "%s: output differs", scenario);
}

Test(hostile, vfork_child_resetting_signals_keeps_parents_handlers)
{
	same_outcome("vfork-sigaction", "");
	cr_assert_str_eq(plain.out, "handled 2\n");
}

Test(hostile, vfork_child_closefrom_leaks_no_descriptor)
{
	same_outcome("vfork-closefrom", "");
	cr_assert_str_eq(plain.out, "descriptors grew by 0\n");
	cr_assert_neq(fx_env_log(&env, 300)[0], '\0',
		      "the refused connects were not logged");
}

Test(hostile, vfork_child_close_range_leaks_no_descriptor)
{
	same_outcome("vfork-close-range", "");
	cr_assert_str_eq(plain.out, "descriptors grew by 0\n");
}

Test(hostile, vfork_child_close_range_keeps_epoll_watched_sockets_watched)
{
	same_outcome("vfork-watched", "eagain=unwatched");
	cr_assert(strstr(plain.out, "at once"), "%s", plain.out);
}

Test(hostile, execl_from_signal_handler_on_small_alternate_stack)
{
	same_outcome("execl-altstack", "");
	cr_assert_eq(fx_exit_code(&plain), 0);
}

Test(hostile, execl_on_24k_thread_stack)
{
	same_outcome("execl-small-stack", "");
	cr_assert_str_eq(plain.out, "execl: No such file or directory\n");
}

Test(hostile, execl_with_five_thousand_arguments)
{
	same_outcome("execl-many", "");
	cr_assert_str_eq(plain.out, "5000\n");
}

/*
 * Two copies of the library (two files, as when /etc/ld.so.preload names
 * the installed one and LD_PRELOAD a build tree's) make one shim: the
 * first in the lookup order runs, the other passes its calls through.
 * With both running, a vfork child's sigaction went through the first copy
 * (which knew it was in a vfork child) to the second (which did not) and
 * reset the parent's handler there (the parent then died of SIGUSR1), and
 * every event was logged and summed up twice.
 */
Test(hostile, two_copies_of_the_library_make_one_shim)
{
	char preload[9000], path[4096], port[16];

	snprintf(port, sizeof port, "%d", fx_closed_port());
	for (int copy_first = 0; copy_first < 2; copy_first++) {
		cr_assert_not_null(fx_preload_env_with_copy(env.dir, copy_first,
							    preload, sizeof preload));
		char **e = fx_env_shim(&env, "");
		e[0] = preload;
		char *argv[] = { (char *)fx_prog_path("hostile", path, sizeof path),
				 "vfork-sigaction", NULL };
		cr_assert_eq(fx_run(argv, e, 20000, &shimmed), 0);
		cr_expect_str_eq(shimmed.out, "handled 2\n", "%s: %s", preload,
				 shimmed.err);
		char *faults[] = { (char *)fx_prog_path("log_faults", path, sizeof path),
				   "refused", port, NULL };
		fx_env_log(&env, 0);
		cr_assert_eq(fx_run(faults, e, 20000, &shimmed), 0);
		const char *lines = fx_env_log(&env, 300);
		cr_expect_eq(fx_log_count(lines, "class=refused"), 1, "%s:\n%s",
			     preload, lines);
		cr_expect_eq(fx_log_count(lines, "class=summary"), 1, "%s:\n%s",
			     preload, lines);
	}
}

/* Without the shim, the interrupted connect of scenario fails with EINTR. */
static void expect_eintr_without_shim(const char *scenario)
{
	run(FX_PLAIN, scenario, NULL);
	cr_assert_str_eq(plain.out, "connect: Interrupted system call\n");
}

/* With the shim (opts), connect reports success, and the socket is connected. */
static void expect_connected(const char *scenario, const char *opts)
{
	run(FX_SHIM, scenario, opts);
	cr_assert_str_eq(shimmed.out, "connected: getpeername 0 write 1 read 1 !\n",
			 "%s: %s", opts, shimmed.out);
}

/*
 * Without the shim the interrupted connect fails with EINTR; with it the
 * EINTR (SIGCHLD is not in eintr_pass) is retried and the connection made
 * when the server accepts.  Either way, what connect reports is true.
 */
Test(hostile, unix_connect_interrupted_reports_only_the_truth)
{
	expect_eintr_without_shim("unix-connect");
	expect_connected("unix-connect", "");
}

Test(hostile, unix_connect_is_not_bounded_by_connect_timeout)
{
	expect_connected("unix-connect", "connect_timeout=5000");
}

Test(hostile, emfile_with_nothing_pending_sheds_no_connection)
{
	same_outcome("emfile-nothing-pending", "");
	cr_assert_str_eq(plain.out, "client read 5 hello\nserved\n");
}

Test(hostile, accept_into_a_one_byte_buffer_ending_a_mapping)
{
	same_outcome("accept-tiny-buffer", "");
	cr_expect_str_eq(plain.out, "accept ok, length 16\n", "%s", plain.out);
}

Test(hostile, seccomp_sandbox_survives_poll_and_read)
{
	same_outcome("seccomp-poll", "");
	cr_assert_str_eq(plain.out, "poll 1 read 1\n");
}

Test(hostile, seccomp_sandbox_survives_in_observe_mode)
{
	same_outcome("seccomp-poll", "mode=observe");
}

/* With log=stderr, no line of the shim may raise SIGXFSZ. */
Test(hostile, stderr_file_at_its_size_limit_gets_no_line)
{
	same_outcome("stderr-file-size-limit", "log=stderr");
	cr_assert_str_eq(plain.out, "child status 0\n"
			 "alive after a refused connect and a seccomp filter\n");
}

/*
 * Failing dup2 onto the shim's log socket: the dup2 closed nothing, so the
 * socket stays the shim's and nothing is opened anew.
 */
Test(hostile, failing_dup2_onto_the_log_socket_leaks_no_descriptor)
{
	same_outcome("dup2-failing-onto-log", "log_burst=1000");
	cr_assert_str_eq(plain.out, "descriptors grew by 0\n");
	cr_assert(strstr(shimmed.err, "the log socket found 50 times, dup2 onto "
			 "it failed with EBADF 50 times"), "%s", shimmed.err);
}

/*
 * Signal-driven I/O: a socket with O_ASYNC is one whose EAGAIN the program
 * expects, in a program that never polls as in any other.
 */
Test(hostile, signal_driven_socket_gets_eagain_at_once_with_fcntl)
{
	same_outcome("async-fcntl", "");
	cr_assert_str_eq(plain.out, "signal came, read 4, then Resource "
			 "temporarily unavailable at once\n");
}

Test(hostile, signal_driven_socket_gets_eagain_at_once_with_ioctl)
{
	same_outcome("async-ioctl", "");
	cr_assert_str_eq(plain.out, "signal came, read 4, then Resource "
			 "temporarily unavailable at once\n");
}

/*
 * A TCP connect to a full backlog interrupted by SIGCHLD: EINTR without
 * the shim; with it the connection under way is awaited, and connect
 * reports success only when the socket is connected.
 */
Test(hostile, tcp_connect_interrupted_reports_only_the_truth)
{
	expect_eintr_without_shim("tcp-connect");
	expect_connected("tcp-connect", "");
	expect_connected("tcp-connect", "connect_timeout=5000");
}

/* A UDP connect never blocks: what it reports is the kernel's, timeout or not. */
Test(hostile, udp_connect_reports_only_the_truth)
{
	same_outcome("udp-connect", "");
	cr_assert(strstr(plain.out, "connect 0 getpeername 0 the server send 1 "
			 "recv 1 !\n"), "%s", plain.out);
	same_outcome("udp-connect", "connect_timeout=5000");
}

/*
 * Secure execution: a set-user-ID root copy of hostile, run by nobody,
 * becomes root entirely and runs `hostile print-env`, which is not in
 * secure execution and would honour whatever SOCKGUARD_* it inherits.
 * ld.so ignores an LD_PRELOAD with a slash in a secure-execution process,
 * so the shim comes from /etc/ld.so.preload: in a private mount namespace,
 * /etc is an overlay of the real one with that file added.
 */
static void preload_through_a_private_etc(void)
{
	int rc = fx_private_overlay("/etc", env.dir, "etc");

	if (rc == -2)
		cr_skip_test("%s", fx_skip_reason());
	cr_assert_eq(rc, 0, "%s", fx_skip_reason());
	FILE *f = fopen("/etc/ld.so.preload", "w");
	cr_assert_not_null(f);
	fprintf(f, "%s\n", fx_shim_path());
	cr_assert_eq(fclose(f), 0);
}

/* Runs [prefix...] WRAPPER setuid-exec HOSTILE print-env into shimmed. */
static void run_wrapper(char *const prefix[], const char *wrapper)
{
	char path[4096], opts[400], conf[400], *argv[16];
	int n = 0;

	fx_prog_path("hostile", path, sizeof path);
	snprintf(opts, sizeof opts, "SOCKGUARD_OPTIONS=log=unix:%s/user.sock",
		 env.dir);
	snprintf(conf, sizeof conf, "SOCKGUARD_CONFIG=%s/user.conf", env.dir);
	for (int i = 0; prefix && prefix[i]; i++)
		argv[n++] = prefix[i];
	argv[n++] = (char *)wrapper;
	argv[n++] = "setuid-exec";
	argv[n++] = path;
	argv[n++] = "print-env";
	argv[n] = NULL;
	char *vars[] = { "LD_PRELOAD", opts, conf, NULL };
	fx_run(argv, vars, 20000, &shimmed);
}

Test(hostile, setuid_wrapper_hands_no_sockguard_variables_to_a_root_child)
{
	char wrapper[320], path[4096];
	char *as_nobody[] = { "setpriv", "--reuid=65534", "--regid=65534",
			      "--clear-groups", "--", NULL };

	FX_SKIP_ON_MUSL("musl's loader has no /etc/ld.so.preload, and ignores "
			"LD_PRELOAD in secure execution");
	FX_REQUIRE_PROGRAM("setpriv");
	if (fx_need_root() != 0)
		cr_skip_test("needs root: %s", fx_skip_reason());
	if (getenv("SG_SANITIZE"))
		cr_skip_test("the ASan-built shim cannot be preloaded alone "
			     "into a secure-exec process");
	snprintf(wrapper, sizeof wrapper, "%s/hostile-suid", env.dir);
	cr_assert_eq(fx_sh("cp '%s' '%s' && chmod 4755 '%s' && "
			   "echo 'mode = observe' > '%s/user.conf'",
			   fx_prog_path("hostile", path, sizeof path), wrapper,
			   wrapper, env.dir), 0);
	preload_through_a_private_etc();

	/* The control: run by root, nothing is secure and the variables pass. */
	run_wrapper(NULL, wrapper);
	cr_assert_eq(fx_exit_code(&shimmed), 0, "%s%s", shimmed.out, shimmed.err);
	cr_assert(strstr(shimmed.out, "wrapper: secure=0\nuid=0 euid=0 secure=0\n"
			 "SOCKGUARD_OPTIONS=log=unix:"), "%s", shimmed.out);
	cr_assert(strstr(shimmed.out, "/user.sock\nSOCKGUARD_CONFIG=/"), "%s",
		  shimmed.out);

	run_wrapper(as_nobody, wrapper);
	umount("/etc");
	cr_assert_eq(fx_exit_code(&shimmed), 0, "%s%s", shimmed.out, shimmed.err);
	cr_assert_str_eq(shimmed.out, "wrapper: secure=1\n"
			 "uid=0 euid=0 secure=0\n"
			 "SOCKGUARD_OPTIONS=(unset)\n"
			 "SOCKGUARD_CONFIG=(unset)\n", "%s", shimmed.err);
}
