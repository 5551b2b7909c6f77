/*
 * SIGPIPE and signal handler semantics against the real kernel (man page
 * keys sigpipe, eintr_pass, mode): tests/progs/sig_pipe and
 * sig_handlers run with and without the shim.  Each behaviour is shown to
 * differ without the shim (or with the feature off) where the shim changes
 * it, and to be identical where the shim must be invisible.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"

#define KILLED_BY_SIGPIPE (128 + SIGPIPE)

/*
 * Under the shim, programs log nowhere (log=off) unless a test says where,
 * and read an empty policy file.
 */
TestSuite(sigpipe, .init = fx_suite_open, .fini = fx_suite_close);
TestSuite(handlers, .init = fx_suite_open, .fini = fx_suite_close);

static void run(char *const argv[], char *const *vars, struct fx_result *r)
{
	int rc = fx_run(argv, vars, 8000, r);
	cr_assert_eq(rc, 0, "%s: %s (stdout: %s, stderr: %s)", argv[0],
		     fx_skip_reason(), r->out, r->err);
}

/*
 * Writes to a peer that reset the connection
 */

/*
 * sig_pipe MODE [CALL] PORT against a peer that closes with SO_LINGER 0;
 * its exit code.
 */
static int run_sig_pipe(const char *mode, const char *call, char *const *vars,
			struct fx_result *r)
{
	int port, n = 0;
	char p[16], *argv[5];
	pid_t peer = fx_peer_reset(&port);

	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	snprintf(p, sizeof(p), "%d", port);
	argv[n++] = (char *)fx_prog("sig_pipe");
	argv[n++] = (char *)mode;
	if (call)
		argv[n++] = (char *)call;
	argv[n++] = p;
	argv[n] = NULL;
	run(argv, vars, r);
	fx_stop(peer);
	return fx_exit_code(r);
}

/* sig_pipe sock CALL. */
static int sock_write(const char *call, char *const *vars, struct fx_result *r)
{
	return run_sig_pipe("sock", call, vars, r);
}

static void expect_killed(const char *call, char *const *vars, const char *why)
{
	struct fx_result r;
	int code = sock_write(call, vars, &r);

	cr_expect_eq(code, KILLED_BY_SIGPIPE, "%s %s: exit %d, want death by "
		     "SIGPIPE: %s", why, call, code, r.out);
	cr_expect_null(strstr(r.out, "survived"), "%s", r.out);
}

Test(sigpipe, write_and_send_to_reset_peer_die_of_sigpipe_without_shim,
     .timeout = 30)
{
	expect_killed("write", fx_env_plain(&env), "without the shim");
	expect_killed("send", fx_env_plain(&env), "without the shim");
	expect_killed("writev", fx_env_plain(&env), "without the shim");
	expect_killed("sendfile", fx_env_plain(&env), "without the shim");
}

Test(sigpipe, write_to_reset_peer_dies_of_sigpipe_in_observe_and_off_modes,
     .timeout = 30)
{
	expect_killed("write", fx_env_shim(&env, "mode=observe"), "mode=observe");
	expect_killed("send", fx_env_shim(&env, "mode=observe"), "mode=observe");
	expect_killed("write", fx_env_shim(&env, "mode=off"), "mode=off");
	expect_killed("write", fx_env_shim(&env, "sigpipe=off"), "sigpipe=off");
}

/*
 * Under the shim: EPIPE instead of death, and one class=pipe line with
 * action=sigpipe_suppressed read from a log=unix: receiver.
 */
static void expect_suppressed(const char *call, const char *mode)
{
	char path[320], opts[400], lines[65536] = "", action[64], op[64];
	struct fx_result r;

	snprintf(path, sizeof(path), "%s/log.sock", env.dir);
	int log = fx_log_receiver_open(path);
	cr_assert_geq(log, 0, "%s", fx_skip_reason());
	snprintf(opts, sizeof(opts), "log=unix:%s:sigpipe=%s", path, mode);
	int code = sock_write(call, fx_env_shim(&env, opts), &r);
	fx_log_collect(log, lines, sizeof(lines), 300);
	close(log);

	cr_expect_eq(code, 0, "sigpipe=%s %s: exit %d: %s", mode, call, code, r.out);
	cr_expect(strstr(r.out, "Broken pipe\nsurvived"),
		  "sigpipe=%s %s: no EPIPE: %s", mode, call, r.out);
	const char *line = fx_log_find_class(lines, "pipe");
	cr_assert_not_null(line, "sigpipe=%s %s: no class=pipe line in:\n%s", mode,
			   call, lines);
	cr_expect_eq(fx_log_field(line, "action", action, sizeof(action)), 0);
	cr_expect_str_eq(action, "sigpipe_suppressed", "%s", line);
	cr_expect_eq(fx_log_field(line, "op", op, sizeof(op)), 0);
	cr_expect_str_eq(op, call, "%s", line);
	cr_expect(strstr(line, "errno=EPIPE"), "%s", line);
}

Test(sigpipe, write_to_reset_peer_gets_epipe_and_is_logged_under_shim,
     .timeout = 30)
{
	expect_suppressed("write", "ignore");
	expect_suppressed("send", "ignore");
}

Test(sigpipe, every_send_call_gets_epipe_under_sigpipe_ignore, .timeout = 30)
{
	expect_suppressed("writev", "ignore");
	expect_suppressed("sendmsg", "ignore");
	expect_suppressed("sendfile", "ignore");
}

Test(sigpipe, socket_mode_keeps_sockets_from_sigpipe, .timeout = 30)
{
	expect_suppressed("write", "socket");
	expect_suppressed("send", "socket");
	expect_suppressed("writev", "socket");
	expect_suppressed("sendmsg", "socket");
	expect_suppressed("sendfile", "socket");
}

/*
 * Pipes: sigpipe=socket leaves them alone
 */

static int pipe_write(char *const *vars, struct fx_result *r)
{
	char *argv[] = { (char *)fx_prog("sig_pipe"), "pipe", NULL };
	run(argv, vars, r);
	return fx_exit_code(r);
}

Test(sigpipe, pipe_write_dies_of_sigpipe_under_socket_mode_as_without_shim,
     .timeout = 30)
{
	struct fx_result r;

	cr_expect_eq(pipe_write(fx_env_plain(&env), &r), KILLED_BY_SIGPIPE,
		     "%s", r.out);
	cr_expect_eq(pipe_write(fx_env_shim(&env, "sigpipe=socket"), &r),
		     KILLED_BY_SIGPIPE,
		     "sigpipe=socket changed a pipe's SIGPIPE: %s", r.out);
	/* The control: sigpipe=ignore is process-wide, pipes included. */
	cr_expect_eq(pipe_write(fx_env_shim(&env, "sigpipe=ignore"), &r), 0,
		     "%s", r.out);
}

/*
 * stdio on a socket: glibc's stdio writes through its internal write, which
 * the shim cannot see, so under sigpipe=socket a stream fdopen(3)ed on a
 * socket counts as one while it is open.
 */
Test(sigpipe, stdio_socket_stream_gets_epipe_under_socket_mode_pipes_still_die,
     .timeout = 30)
{
	struct fx_result r;

	cr_expect_eq(run_sig_pipe("stdio", NULL, fx_env_plain(&env), &r),
		     KILLED_BY_SIGPIPE, "%s", r.out);
	cr_expect_null(strstr(r.out, "Broken pipe"), "%s", r.out);
	/* The socket stream gets EPIPE; a write(2) to a pipe still kills. */
	cr_expect_eq(run_sig_pipe("stdio", NULL, fx_env_shim(&env, "sigpipe=socket"),
				 &r),
		     KILLED_BY_SIGPIPE, "%s", r.out);
	cr_expect(strstr(r.out, ": Broken pipe\n"), "the stdio write to the "
		  "socket was not kept from SIGPIPE: %s", r.out);
	cr_expect_null(strstr(r.out, "pipe write"), "%s", r.out);
}

Test(sigpipe, stdio_pipe_dies_under_socket_mode_once_the_socket_stream_closed,
     .timeout = 30)
{
	struct fx_result r;

	cr_expect_eq(run_sig_pipe("stdio_closed", NULL,
				 fx_env_shim(&env, "sigpipe=socket"), &r),
		     KILLED_BY_SIGPIPE, "%s", r.out);
	cr_expect(strstr(r.out, ": Broken pipe\nstdio to a pipe:\n"), "%s",
		  r.out);
	cr_expect_null(strstr(r.out, "Broken pipe\nfflush"), "the stdio write "
		       "to the pipe was kept from SIGPIPE: %s", r.out);
}

/* inetd style: standard output is the socket from the start. */
Test(sigpipe, stdout_on_a_socket_gets_epipe_under_socket_mode, .timeout = 30)
{
	struct fx_result r;

	cr_expect_eq(run_sig_pipe("stdout_sock", NULL, fx_env_plain(&env), &r),
		     KILLED_BY_SIGPIPE, "%s%s", r.out, r.err);
	cr_expect_eq(run_sig_pipe("stdout_sock", NULL,
				 fx_env_shim(&env, "sigpipe=socket"), &r),
		     0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, ": Broken pipe\nsurvived\n"), "%s", r.err);
}

/*
 * The same, until the program puts /dev/null on standard output: then no
 * stdio stream is on a socket, and a stdio write to a pipe dies of SIGPIPE
 * as without the shim.
 */
Test(sigpipe, stdio_pipe_dies_once_stdout_is_no_longer_the_socket, .timeout = 30)
{
	struct fx_result r;

	cr_expect_eq(run_sig_pipe("stdout_away", NULL, fx_env_shim(&env, "sigpipe=socket"),
				 &r),
		     KILLED_BY_SIGPIPE, "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, ": Broken pipe\nstdio to a pipe:\n"), "%s", r.err);
	cr_expect_null(strstr(r.err, "survived"), "%s", r.err);
}

/* `yes | head -1`: yes dies of SIGPIPE (status 141) as without the shim. */
static int yes_status(char *const *vars)
{
	struct fx_result r;
	char *argv[] = { "bash", "-c",
			 "yes | head -1 >/dev/null; echo \"yes=${PIPESTATUS[0]}\"",
			 NULL };

	run(argv, vars, &r);
	const char *p = strstr(r.out, "yes=");
	cr_assert_not_null(p, "%s %s", r.out, r.err);
	return atoi(p + 4);
}

Test(sigpipe, yes_pipe_head_behaves_as_without_shim_under_socket_mode,
     .timeout = 30)
{
	FX_SKIP_ON_MUSL("yes(1) is a glibc program here, which the musl build "
			"cannot load into");
	FX_REQUIRE_PROGRAM("bash");
	FX_REQUIRE_PROGRAM("yes");
	cr_expect_eq(yes_status(fx_env_plain(&env)), KILLED_BY_SIGPIPE);
	cr_expect_eq(yes_status(fx_env_shim(&env, "sigpipe=socket")),
		     KILLED_BY_SIGPIPE);
	/* The control: under sigpipe=ignore yes sees EPIPE and exits 1. */
	cr_expect_neq(yes_status(fx_env_shim(&env, "sigpipe=ignore")),
		      KILLED_BY_SIGPIPE);
}

/*
 * The program's own SIGPIPE settings
 */

Test(sigpipe, sig_dfl_set_by_program_stays_ignored_and_reads_back_sig_dfl,
     .timeout = 30)
{
	struct fx_result r;

	cr_expect_eq(run_sig_pipe("dfl", NULL, fx_env_plain(&env), &r), KILLED_BY_SIGPIPE,
		     "%s", r.out);
	cr_expect_eq(run_sig_pipe("dfl", NULL, fx_env_shim(&env, ""), &r), 0, "%s", r.out);
	cr_expect(strstr(r.out, "after sigaction(SIG_DFL): reads back DFL"), "%s",
		  r.out);
	cr_expect(strstr(r.out, "after signal(SIG_DFL): reads back DFL"), "%s",
		  r.out);
	cr_expect(strstr(r.out, "signal(SIG_DFL) returned DFL"), "%s", r.out);
	cr_expect(strstr(r.out, "write 1: Broken pipe") ||
		  strstr(r.out, "write 0: Broken pipe"), "%s", r.out);
}

/* The program's own handler runs for sockets and pipes alike. */
static void expect_handler_runs(char *const *vars, const char *why)
{
	struct fx_result r;

	cr_expect_eq(run_sig_pipe("handler", NULL, vars, &r), 0, "%s: %s", why, r.out);
	cr_expect(strstr(r.out, "handler ran 1 after pipe"), "%s: %s", why, r.out);
	cr_expect_null(strstr(r.out, "FAIL"), "%s: %s", why, r.out);
}

Test(sigpipe, program_sigpipe_handler_is_honoured_under_sigpipe_ignore,
     .timeout = 30)
{
	expect_handler_runs(fx_env_plain(&env), "without the shim");
	expect_handler_runs(fx_env_shim(&env, ""), "sigpipe=ignore");
}

/*
 * sigpipe=socket exists so that nothing dies of a socket's SIGPIPE; a
 * program that catches SIGPIPE itself was never going to die of it, and
 * its handler (which may close the connection) must still run.
 */
Test(sigpipe, program_sigpipe_handler_is_honoured_under_sigpipe_socket,
     .timeout = 30)
{
	expect_handler_runs(fx_env_shim(&env, "sigpipe=socket"), "sigpipe=socket");
}

Test(sigpipe, socket_mode_leaves_an_already_pending_sigpipe_pending,
     .timeout = 30)
{
	struct fx_result r;

	cr_expect_eq(run_sig_pipe("pending", NULL, fx_env_plain(&env), &r), 0, "%s", r.out);
	cr_expect_eq(run_sig_pipe("pending", NULL, fx_env_shim(&env, "sigpipe=socket"), &r), 0,
		     "%s", r.out);
	cr_expect(strstr(r.out, "pending after sendfile: 1"), "%s", r.out);
}

/*
 * Children start with the SIGPIPE disposition the process started with
 */

static void expect_child_default(const char *how)
{
	struct fx_result r;
	char *argv[] = { (char *)fx_prog("sig_pipe"), "spawn", (char *)how, NULL };

	run(argv, fx_env_plain(&env), &r);
	cr_assert(strstr(r.out, "show: kernel=DFL"), "baseline %s: %s", how, r.out);
	run(argv, fx_env_shim(&env, ""), &r);
	cr_expect(strstr(r.out, "show: kernel=DFL blocked=0 view=DFL preload=no"),
		  "a child started by %s under sigpipe=ignore: %s", how, r.out);
	cr_expect(strstr(r.out, "parent after spawn: reads back DFL"), "%s", r.out);
	cr_expect_eq(fx_exit_code(&r), 0, "%s", r.out);
}

Test(sigpipe, execve_child_starts_with_sigpipe_default, .timeout = 30)
{
	expect_child_default("execve");
}

Test(sigpipe, execv_child_starts_with_sigpipe_default, .timeout = 30)
{
	expect_child_default("execv");
}

Test(sigpipe, execl_child_starts_with_sigpipe_default, .timeout = 30)
{
	expect_child_default("execl");
}

Test(sigpipe, execle_child_starts_with_sigpipe_default, .timeout = 30)
{
	expect_child_default("execle");
}

Test(sigpipe, execvp_child_starts_with_sigpipe_default, .timeout = 30)
{
	expect_child_default("execvp");
}

Test(sigpipe, posix_spawn_child_starts_with_sigpipe_default, .timeout = 30)
{
	expect_child_default("posix_spawn");
}

Test(sigpipe, posix_spawnp_child_starts_with_sigpipe_default, .timeout = 30)
{
	expect_child_default("posix_spawnp");
}

Test(sigpipe, system_child_starts_with_sigpipe_default, .timeout = 30)
{
	expect_child_default("system");
}

Test(sigpipe, popen_child_starts_with_sigpipe_default, .timeout = 30)
{
	expect_child_default("popen");
}

Test(sigpipe, failed_execve_leaves_sigpipe_ignored, .timeout = 30)
{
	struct fx_result r;

	cr_expect_eq(run_sig_pipe("badexec", NULL, fx_env_plain(&env), &r),
		     KILLED_BY_SIGPIPE, "%s", r.out);
	cr_expect_eq(run_sig_pipe("badexec", NULL, fx_env_shim(&env, ""), &r), 0, "%s", r.out);
	cr_expect(strstr(r.out, "Broken pipe\nsurvived"), "%s", r.out);
}

Test(sigpipe, popen_child_of_a_threaded_program_starts_with_sigpipe_default,
     .timeout = 30)
{
	expect_child_default("popen_threaded");
}

/* A process that started with SIGPIPE ignored passes SIG_IGN on. */
Test(sigpipe, sigpipe_ignored_at_start_stays_ignored_for_children,
     .timeout = 30)
{
	struct fx_result r;
	char cmd[4200];

	FX_REQUIRE_PROGRAM("bash");
	snprintf(cmd, sizeof(cmd), "trap '' PIPE; exec %s spawn execve",
		 fx_prog("sig_pipe"));
	char *argv[] = { "bash", "-c", cmd, NULL };
	run(argv, fx_env_shim(&env, ""), &r);
	cr_expect(strstr(r.out, "show: kernel=IGN"), "%s", r.out);
}

/*
 * Handler semantics: the same under the shim as without it
 */

/* Drops SA_RESTORER from flags= and SIGKILL/SIGSTOP from mask= lists. */
static void loosen(char *text)
{
	char out[65536];
	size_t o = 0;

	for (const char *p = text; *p && o < sizeof(out) - 32;) {
		if (strncmp(p, "flags=", 6) == 0) {
			char *end;
			unsigned long f = strtoul(p + 6, &end, 16);
			o += (size_t)snprintf(out + o, sizeof(out) - o, "flags=%#lx",
					      f & ~0x04000000ul);
			p = end;
		} else if (p > text && (p[-1] == '=' || p[-1] == ',') &&
			   (strncmp(p, "9,", 2) == 0 || strncmp(p, "19,", 3) == 0)) {
			p += p[0] == '9' ? 2 : 3;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	strcpy(text, out);
}

/* The first line where a and b differ, each copied into its buffer. */
static int first_difference(const char *a, const char *b, char *la, char *lb,
			    size_t len)
{
	for (int line = 1;; line++) {
		size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n");
		if (na != nb || memcmp(a, b, na) != 0) {
			snprintf(la, len, "%.*s", (int)na, a);
			snprintf(lb, len, "%.*s", (int)nb, b);
			return line;
		}
		if (!a[na] || !b[nb])
			return a[na] || b[nb] ? line + 1 : 0;
		a += na + 1;
		b += nb + 1;
	}
}

static void handler_case(const char *check, const char *opts, int strict)
{
	struct fx_result base, shim;
	char *argv[] = { (char *)fx_prog("sig_handlers"), (char *)check, NULL };

	run(argv, fx_env_plain(&env), &base);
	cr_assert_eq(fx_exit_code(&base), 0, "baseline %s: %s", check, base.out);
	run(argv, fx_env_shim(&env, opts), &shim);
	cr_expect_eq(fx_exit_code(&shim), 0, "%s under the shim (%s): %s", check,
		     opts, shim.out);
	if (!strict) {
		loosen(base.out);
		loosen(shim.out);
	}
	char ls[512], lb[512];
	int line = first_difference(shim.out, base.out, ls, lb, sizeof(ls));
	cr_expect_eq(line, 0, "%s (%s), line %d:\n  under the shim: %s\n  "
		     "without it:     %s", check, opts, line, ls, lb);
}

/* Every signal the programs use wrapped by the shim's trampoline. */
#define ALL_PASS "eintr_pass=HUP,TERM,USR1,USR2,ALRM,WINCH,CHLD"

Test(handlers, sa_siginfo_handlers_get_the_senders_siginfo, .timeout = 30)
{
	handler_case("siginfo", "", 0);
	handler_case("siginfo", ALL_PASS, 0);
}

Test(handlers, sa_resethand_runs_once_then_default_action, .timeout = 30)
{
	handler_case("resethand", "", 0);
	handler_case("resethand", ALL_PASS, 0);
}

Test(handlers, sigaction_old_action_reads_back_handler_flags_and_mask,
     .timeout = 30)
{
	handler_case("readback", "", 0);
	handler_case("readback", ALL_PASS, 0);
}

Test(handlers, signal_returns_the_previous_handler, .timeout = 30)
{
	handler_case("signal", "", 0);
	handler_case("signal", ALL_PASS, 0);
}

Test(handlers, sigset_and_sig_hold_behave_as_in_libc, .timeout = 30)
{
	handler_case("sigset", "", 0);
	handler_case("sigset", ALL_PASS, 0);
}

Test(handlers, sysv_signal_is_one_shot, .timeout = 30)
{
	handler_case("sysv", "", 0);
	handler_case("sysv", ALL_PASS, 0);
}

Test(handlers, sa_onstack_and_sa_mask_hold_in_the_handler, .timeout = 30)
{
	handler_case("onstack", "", 0);
	handler_case("onstack", ALL_PASS, 0);
}

Test(handlers, signal_with_sig_err_is_refused_with_einval, .timeout = 30)
{
	handler_case("sigerr", "", 0);
}

Test(handlers, siginterrupt_changes_what_sigaction_reads_back, .timeout = 30)
{
	handler_case("siginterrupt", "", 0);
	handler_case("siginterrupt", ALL_PASS, 0);
}

Test(handlers, system_and_popen_statuses_are_as_in_libc, .timeout = 30)
{
	FX_REQUIRE_PROGRAM("sh");
	handler_case("system", "", 1);
}

/* Bit for bit what libc reports: SA_RESTORER set, SIGKILL/SIGSTOP never masked. */
Test(handlers, sigaction_readback_is_bit_for_bit_what_libc_reports,
     .timeout = 30)
{
	handler_case("readback", "", 1);
	handler_case("resethand", "", 1);
}

Test(handlers, sysv_signal_is_one_shot_as_in_libc, .timeout = 30)
{
	FX_SKIP_ON_MUSL("musl has no sysv_signal(3)");
	handler_case("sysv", "", 1);
}
