/*
 * CPython under the shim.
 *
 * CPython's own regression tests of signals, subprocesses and EINTR
 * (test_signal, test_subprocess, test_eintr, from Debian's
 * libpython3.11-testsuite), run by Debian's /usr/bin/python3 -m test, once
 * without the shim and once with it preloaded (every child interpreter and
 * program they start inherits LD_PRELOAD), logging to a socket of ours.
 * Each test must end the same way in both runs (ok, or skipped for the same
 * reason), and the run without the shim must pass.  CPython starts its
 * children with vfork and resets their signals and closes their
 * descriptors (close_range) before exec: these suites are where a shim that
 * lets a vfork child touch its parent's state, or that holds a descriptor
 * a child can see, shows.  No test is left out: on this Debian every one of
 * them passes without the shim as root, with stdin on /dev/null, without a
 * terminal, also with the two runs side by side.  No -u resources are
 * needed by these three.  The two runs go side by side, two workers each:
 * test_signal's 30 s siginterrupt test is the longest, so the pair takes
 * about 50 s.
 *
 * Then a small daemon in the style of a Python service: it meets refused
 * connections (events the shim logs) and runs `true` through subprocess 150
 * times; its descriptors must stay where they were and its own signal
 * handlers must still run afterwards, as without the shim.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"

#define PYTHON "/usr/bin/python3"
#define SUITES "test_signal", "test_subprocess", "test_eintr"

TestSuite(cpython, .init = fx_suite_open_log, .fini = fx_suite_close,
	  .timeout = 240);

static void need_python_tests(void)
{
	static struct fx_result r;
	char *probe[] = { PYTHON, "-c", "import test.libregrtest, "
			  "test.test_signal, test.test_subprocess, test.test_eintr",
			  NULL };

	FX_REQUIRE_PROGRAM(PYTHON);
	if (fx_run(probe, fx_env_plain(&env), 20000, &r) != 0 ||
	    fx_exit_code(&r) != 0)
		cr_skip_test("needs program " PYTHON " with its test package "
			     "(Debian: libpython3.11-testsuite): %s", r.err);
}

/* ---- the regression tests ---- */

/* Waits for a spawned run until the deadline; its exit code, -1 if killed. */
static int wait_until(pid_t pid, long deadline)
{
	int rc = fx_wait_exit(pid, (int)(deadline - fx_now_ms()));

	if (rc < 0)
		fx_stop(pid);
	return rc;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert_not_null(f, "no %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	n = (long)fread(buf, 1, (size_t)n, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* What unittest -v writes after " ... ": how a test ended. */
static int is_outcome(const char *s)
{
	return !strcmp(s, "ok") || !strncmp(s, "skipped", 7) ||
	       !strcmp(s, "FAIL") || !strcmp(s, "ERROR") ||
	       !strcmp(s, "expected failure") ||
	       !strcmp(s, "unexpected success");
}

/* The test id of "test_x (module.Class.test_x)", or NULL. */
static char *test_id(char *head)
{
	char *open = strstr(head, " (");
	size_t n = strlen(head);

	if (!open || n < 2 || head[n - 1] != ')' || strchr(head, ' ') != open)
		return NULL;
	head[n - 1] = '\0';
	return open + 2;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every test's outcome in a -v log, as sorted "ID: OUTCOME" lines.  A test
 * with a docstring shows its id on one line and the docstring with the
 * outcome on the next; a test that prints while it runs has its outcome
 * alone on a later line.
 */
static char *outcomes(char *log, int *count)
{
	static char *lines[4096];
	char *id = NULL, *pending = NULL, *out, *save = NULL;
	size_t len = 0, cap = 0;
	int n = 0;

	for (char *l = strtok_r(log, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *dots = strstr(l, " ... "), *end = NULL;

		if (dots) {
			*dots = '\0';
			char *own = test_id(l);
			id = own ? own : id;
			end = dots + 5;
			if (!is_outcome(end)) {
				pending = id;
				continue;
			}
		} else if (pending && is_outcome(l)) {
			id = pending;
			end = l;
		} else {
			char *own = test_id(l);
			id = own ? own : id;
			continue;
		}
		pending = NULL;
		if (id && n < 4096) {
			lines[n] = malloc(strlen(id) + strlen(end) + 3);
			sprintf(lines[n++], "%s: %s", id, end);
		}
	}
	qsort(lines, (size_t)n, sizeof(lines[0]), by_string);
	for (int i = 0; i < n; i++)
		cap += strlen(lines[i]) + 1;
	out = malloc(cap + 1);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		len += (size_t)sprintf(out + len, "%s\n", lines[i]);
		free(lines[i]);
	}
	*count = n;
	return out;
}

/* The first line where a and b differ, for the failure message. */
static void first_difference(const char *a, const char *b, char *buf,
			     size_t len)
{
	while (*a && *b) {
		size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n");
		if (na != nb || strncmp(a, b, na) != 0)
			break;
		a += na + (a[na] != 0);
		b += nb + (b[nb] != 0);
	}
	snprintf(buf, len, "without the shim: %.*s\nwith the shim:    %.*s",
		 (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
}

/*
 * Where a failed run's log tells why: its first few failures, errors and
 * crashes (a test script's own failures come inside the run's), or its end.
 */
static const char *failures(const char *log)
{
	static const char *const marks[] = { "\nFAIL: ", "\nERROR: ",
					     "Fatal Python error" };
	static char buf[4096];
	size_t used = 0, n = strlen(log);
	int shown = 0;

	buf[0] = '\0';
	for (const char *p = log; shown < 4 && *p; p++) {
		for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
			if (strncmp(p, marks[i], strlen(marks[i])) != 0)
				continue;
			used += (size_t)snprintf(buf + used, sizeof(buf) - used,
						 "%.900s\n...\n", p + (*p == '\n'));
			used = used < sizeof(buf) ? used : sizeof(buf) - 1;
			shown++;
			p += strlen(marks[i]) - 1;
			break;
		}
	}
	return shown ? buf : n > 3000 ? log + n - 3000 : log;
}

/* TMPDIR keeps each run's files in our directory. */
static pid_t start_regrtest(enum fx_side s)
{
	char log[320], tmpenv[320];
	char *argv[] = { PYTHON, "-m", "test", "-j2", "-v", SUITES, NULL };
	pid_t pid;

	snprintf(tmpenv, sizeof(tmpenv), "TMPDIR=%s/tmp%d", env.dir, s);
	mkdir(tmpenv + strlen("TMPDIR="), 0700);
	cr_assert_eq(fx_env_put(&env, tmpenv), 0, "%s", fx_skip_reason());
	snprintf(log, sizeof(log), "%s/regrtest.%d.log", env.dir, s);
	pid = fx_spawn(argv, fx_env_side(&env, s, NULL), log);
	cr_assert_gt(pid, 0, "%s", fx_skip_reason());
	return pid;
}

Test(cpython, signal_subprocess_and_eintr_tests_pass_as_without_the_shim)
{
	char path[320], diff[1024], *log[2], *ends[2];
	long deadline = fx_now_ms() + 200000;
	pid_t pid[2];
	int rc[2], n[2];

	need_python_tests();
	for (int s = FX_PLAIN; s <= FX_SHIM; s++)
		pid[s] = start_regrtest(s);
	for (int s = FX_PLAIN; s <= FX_SHIM; s++) {
		rc[s] = wait_until(pid[s], deadline);
		snprintf(path, sizeof(path), "%s/regrtest.%d.log", env.dir, s);
		log[s] = slurp(path);
		cr_expect(strstr(log[s], "== Tests result: SUCCESS =="),
			  "python3 -m test %s: exit %d; its report:\n%s",
			  fx_side_name(s), rc[s], failures(log[s]));
		ends[s] = outcomes(log[s], &n[s]);
	}
	cr_assert_eq(rc[FX_PLAIN], 0, "the tests fail here even without the shim");
	cr_expect_gt(n[FX_PLAIN], 300, "only %d test results found",
		     n[FX_PLAIN]);
	first_difference(ends[FX_PLAIN], ends[FX_SHIM], diff, sizeof(diff));
	cr_expect_eq(n[FX_SHIM], n[FX_PLAIN], "%d tests ran with the shim, %d "
		     "without; first difference:\n%s", n[FX_SHIM], n[FX_PLAIN],
		     diff);
	cr_expect_str_eq(ends[FX_SHIM], ends[FX_PLAIN], "a test ends differently "
			 "with the shim:\n%s", diff);
	cr_expect_eq(rc[FX_SHIM], 0);
	for (int s = FX_PLAIN; s <= FX_SHIM; s++) {
		free(log[s]);
		free(ends[s]);
	}
}

/* ---- a subprocess-heavy daemon meeting refused connections ---- */

static const char py_daemon[] =
	"import os, signal, socket, subprocess, sys\n"
	"handled = []\n"
	"for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):\n"
	"    signal.signal(sig, lambda s, f: handled.append(s))\n"
	"port = int(sys.argv[1])\n"
	"def refused():\n"
	"    s = socket.socket()\n"
	"    try: s.connect(('127.0.0.1', port))\n"
	"    except ConnectionRefusedError: pass\n"
	"    finally: s.close()\n"
	"def fds(): return len(os.listdir('/proc/self/fd'))\n"
	"# The first event opens the shim's log socket: count after it.\n"
	"refused(); subprocess.run(['true'], check=True)\n"
	"before = fds()\n"
	"for i in range(150):\n"
	"    refused()\n"
	"    subprocess.run(['true'], check=True)\n"
	"print('descriptors grew by', fds() - before)\n"
	"for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):\n"
	"    os.kill(os.getpid(), sig)\n"
	"print('handled', sorted(handled))\n";

Test(cpython, subprocess_daemon_keeps_descriptors_and_handlers)
{
	static struct fx_result r[2];
	char portstr[16];
	const char *lines;
	char *argv[] = { PYTHON, "-c", (char *)py_daemon, portstr, NULL };

	FX_REQUIRE_PROGRAM(PYTHON);
	snprintf(portstr, sizeof(portstr), "%d", fx_closed_port());
	for (int s = FX_PLAIN; s <= FX_SHIM; s++) {
		cr_assert_eq(fx_run(argv, fx_env_side(&env, s, NULL), 60000,
				    &r[s]), 0, "%s", fx_skip_reason());
		cr_expect_eq(fx_exit_code(&r[s]), 0, "%s: %s", fx_side_name(s),
			     r[s].err);
	}
	cr_expect_str_eq(r[FX_PLAIN].out,
			 "descriptors grew by 0\nhandled [2, 10, 15]\n");
	cr_expect_str_eq(r[FX_SHIM].out, r[FX_PLAIN].out, "stderr: %s",
			 r[FX_SHIM].err);
	lines = fx_env_log(&env, 300);
	cr_expect_not_null(fx_log_find_class(lines, "refused"),
			   "the refused connections were not logged: %s", lines);
}
