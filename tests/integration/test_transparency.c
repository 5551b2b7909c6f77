/*
 * Transparency: a call that succeeds, or fails with an error the shim does
 * not handle, returns exactly what libc returned, errno included.
 * tests/progs/transparency makes the calls, family by family,
 * and prints one line per call; each test here runs one family with and
 * without the shim preloaded and names the first line that differs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"

static struct fx_result plain, shimmed;

/* The last complete line of out: the last call that returned. */
static const char *last_line(char *out)
{
	size_t n = strlen(out);
	char *p;

	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	p = strrchr(out, '\n');
	return p ? p + 1 : out;
}

static void run_family(const char *family, int with_shim, struct fx_result *r)
{
	char prog[4096];
	char *argv[] = { (char *)fx_prog_path("transparency", prog, sizeof prog),
			 (char *)family, NULL };

	cr_assert_eq(fx_run(argv, fx_env_side(&env, with_shim, NULL), 20000, r), 0,
		     "%s %s: %s", family, with_shim ? "with the shim" : "plain",
		     fx_skip_reason());
	cr_assert_eq(fx_exit_code(r), 0,
		     "transparency %s%s exited %d (128+N: signal N) in the call "
		     "after `%s`; stderr: %s", family,
		     with_shim ? " under the shim" : "", fx_exit_code(r),
		     last_line(r->out), r->err);
	cr_assert(strstr(r->err, with_shim ? "shim loaded" : "shim absent"),
		  "the shim was %s expected (%s): %s",
		  with_shim ? "not loaded where" : "loaded where not", family,
		  r->err);
}

/*
 * The first line that differs, as "line N: `a` became `b`", or NULL when
 * both outputs are the same.  Lines are compared whole: the label names
 * the function, the rest is its result and errno.
 */
static const char *first_difference(const char *a, const char *b, char *msg,
				    size_t len)
{
	for (int line = 1; *a || *b; line++) {
		size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n");

		if (na != nb || strncmp(a, b, na) != 0) {
			snprintf(msg, len, "line %d: without the shim `%.*s`, with "
				 "the shim `%.*s`", line, (int)na, a, (int)nb, b);
			return msg;
		}
		a += na + (a[na] == '\n');
		b += nb + (b[nb] == '\n');
	}
	return NULL;
}

static void compare_family(const char *family)
{
	char msg[1024];
	const char *diff;

	run_family(family, 0, &plain);
	run_family(family, 1, &shimmed);
	cr_assert(strstr(plain.out, "== "), "%s printed nothing", family);
	diff = first_difference(plain.out, shimmed.out, msg, sizeof msg);
	cr_expect_null(diff, "%s family differs under the shim: %s", family, diff);
}

/*
 * The shim runs with its defaults, an empty policy file (so that a host's
 * /etc/sockguard.conf cannot change the outcome) and its log sent to a
 * socket of ours rather than the host's syslog.
 */
TestSuite(transparency, .init = fx_suite_open_log, .fini = fx_suite_close,
	  .timeout = 60);

Test(transparency, socket_socketpair_listen_setsockopt_getsockopt)
{
	compare_family("socket");
}

Test(transparency, connect)
{
	compare_family("connect");
}

Test(transparency, accept_accept4)
{
	compare_family("accept");
}

Test(transparency, send_sendto_sendmsg_sendmmsg_recv_recvfrom_recvmsg_recvmmsg)
{
	compare_family("sendrecv");
}

Test(transparency, read_write_readv_writev)
{
	compare_family("readwrite");
}

Test(transparency, sendfile)
{
	compare_family("sendfile");
}

Test(transparency, poll_ppoll)
{
	compare_family("poll");
}

Test(transparency, select_pselect)
{
	compare_family("select");
}

Test(transparency, epoll_create1_epoll_ctl_epoll_wait_epoll_pwait)
{
	compare_family("epoll");
}

Test(transparency, close_dup_dup2_dup3_fcntl_close_range)
{
	compare_family("fd");
}

Test(transparency, signal_sigaction)
{
	compare_family("signal");
}

/* The program itself is deterministic: two plain runs agree. */
Test(transparency, program_output_is_deterministic)
{
	static struct fx_result again;
	char msg[1024];
	const char *diff;
	char prog[4096];
	char *argv[] = { (char *)fx_prog_path("transparency", prog, sizeof prog),
			 NULL };
	char *without[] = { "LD_PRELOAD", NULL };

	cr_assert_eq(fx_run(argv, without, 30000, &plain), 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_run(argv, without, 30000, &again), 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_exit_code(&plain), 0, "%s", plain.err);
	diff = first_difference(plain.out, again.out, msg, sizeof msg);
	cr_expect_null(diff, "two runs without the shim differ: %s", diff);
}

/* The comparison catches a changed errno: proof that these tests can fail. */
Test(transparency, comparison_detects_a_changed_errno)
{
	const char *a = "== x\nrecv.ok 5\nrecv.oob.einval -1 EINVAL\n";
	const char *b = "== x\nrecv.ok 5\nrecv.oob.einval -1 EIO\n";
	char msg[512];

	cr_assert_not_null(first_difference(a, b, msg, sizeof msg));
	cr_expect(strstr(msg, "line 3") && strstr(msg, "EIO"), "%s", msg);
	cr_expect_not_null(first_difference(a, "== x\nrecv.ok 5\n", msg, sizeof msg),
			   "a missing last line must count as a difference");
	cr_expect_null(first_difference(a, a, msg, sizeof msg));
}

/* The fortified variants the shim wraps, and nm -D OPTION PATH into plain. */
static const char *const fortified[] = { "__read_chk", "__recv_chk",
					 "__recvfrom_chk", "__poll_chk",
					 "__ppoll_chk" };

static void nm_dynamic(const char *option, const char *path)
{
	char *argv[] = { "nm", "-D", (char *)option, (char *)path, NULL };

	FX_REQUIRE_PROGRAM("nm");
	cr_assert_eq(fx_run(argv, NULL, 10000, &plain), 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_exit_code(&plain), 0, "nm: %s", plain.err);
}

/* Built with -O2 -D_FORTIFY_SOURCE=2, the program calls the _chk variants. */
Test(transparency, program_imports_the_fortified_variants)
{
	char prog[4096];

	nm_dynamic("--undefined-only",
		   fx_prog_path("transparency", prog, sizeof prog));
	for (size_t i = 0; i < sizeof fortified / sizeof fortified[0]; i++) {
		char sym[64];

		snprintf(sym, sizeof sym, " %s@", fortified[i]);
		cr_expect(strstr(plain.out, sym), "%s is not imported",
			  fortified[i]);
	}
}

/* nm prints " NAME" then a newline, or "@VERSION" when versioned. */
static int exports(const char *nm_out, const char *sym)
{
	size_t n = strlen(sym);

	for (const char *p = nm_out; (p = strstr(p, sym)); p += n)
		if (p[n] == '\n' || p[n] == '@')
			return 1;
	return 0;
}

/* The shim exports its wrappers for the fortified variants. */
Test(transparency, shim_exports_the_fortified_variants)
{
	nm_dynamic("--defined-only", fx_shim_path());
	for (size_t i = 0; i < sizeof fortified / sizeof fortified[0]; i++) {
		char sym[64];

		snprintf(sym, sizeof sym, " %s", fortified[i]);
		cr_expect(exports(plain.out, sym), "the shim does not export %s",
			  fortified[i]);
	}
}
