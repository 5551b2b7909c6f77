/*
 * The harness shared by the `sockguard tune` and `sockguard audit` suites:
 * target programs (tests/progs/tune_target.c, dynamic and static, and its Go
 * twin built at test time) each holding one TCP connection to a listener of
 * the test, the tool run as a child, and processes of the odd kinds (zombie,
 * another PID namespace).  Included by exactly one test file each.
 */
#ifndef SG_TARGET_HARNESS_H
#define SG_TARGET_HARNESS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"

static struct fx_result res;

/* The suite's directory; with the shim, log=off and an empty policy. */
/* A target process and the test's end of its connection. */
struct target {
	pid_t pid;
	int conn;
	char out[512];
};

/*
 * The Go target, built into $BUILD/tests/progs/tune_target_go when missing
 * or older than its source: offline, standard library only, with the Go
 * caches in the build directory.  NULL when Go is not installed.
 */
static const char *go_target(void)
{
	static char out[4096], src[4096];
	const char *build = fx_build_dir();

	if (!fx_have_program("go"))
		return NULL;
	snprintf(src, sizeof(src), "%s/../tests/progs/tune_target.go", build);
	if (access(src, R_OK) != 0)
		snprintf(src, sizeof(src), "tests/progs/tune_target.go");
	snprintf(out, sizeof(out), "%s/tests/progs/tune_target_go", build);
	int rc = fx_sh("[ %s -nt %s ] || env HOME=%s/go GOCACHE=%s/go/cache "
		       "GOPATH=%s/go/path GO111MODULE=off GOFLAGS= GOPROXY=off "
		       "go build -o %s %s >%s/go-build.log 2>&1", out, src, build,
		       build, build, out, src, build);
	cr_assert_eq(rc, 0, "go build failed: see %s/go-build.log", build);
	return out;
}

/* Accepts the target's connection on lfd and waits for its "ready". */
static void target_accept(struct target *t, const char *name, int lfd)
{
	struct pollfd pfd = { lfd, POLLIN, 0 };
	cr_assert_eq(poll(&pfd, 1, 10000), 1, "%s did not connect", name);
	t->conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(t->conn, 0);
	cr_assert(fx_wait_file(t->out, "ready\n", 10000), "%s not ready", name);
}

/* Starts argv, accepts its connection on lfd, and waits for its "ready". */
static void target_start_argv(struct target *t, const char *name,
			      char *const argv[], int lfd, char *const vars[])
{
	snprintf(t->out, sizeof(t->out), "%s/%s.out", env.dir, name);
	t->pid = fx_spawn(argv, vars, t->out);
	cr_assert_gt(t->pid, 0, "%s", fx_skip_reason());
	target_accept(t, name, lfd);
}

/* Starts path PORT [extra] with vars (may be NULL); see target_start_argv. */
static void target_start(struct target *t, const char *name, const char *path,
			 int lfd, int port, char *const vars[], const char *extra)
{
	char p[16];

	snprintf(p, sizeof(p), "%d", port);
	target_start_argv(t, name, (char *const[]){ (char *)path, p,
						    (char *)extra, NULL },
			  lfd, vars);
}

/*
 * Starts tune_target PORT as PID 1 of a new PID namespace, connected to
 * lfd; t->pid is its pid as we see it.  Returns the process to fx_stop()
 * (target_stop() is not for this one).
 */
static pid_t target_start_pidns(struct target *t, int lfd, int port)
{
	snprintf(t->out, sizeof(t->out), "%s/pidns.out", env.dir);
	pid_t child = fx_spawn_pidns((char *const[]){ (char *)fx_prog("tune_target"),
						      fx_num(port), NULL },
				     NULL, t->out, &t->pid);
	cr_assert_gt(child, 0, "%s", fx_skip_reason());
	target_accept(t, "pidns", lfd);
	return child;
}

/* The target's own getsockopt view: "keepalive=0 idle=7200 ...". */
static __attribute__((unused)) void
target_query(const struct target *t, char *buf, size_t len)
{
	size_t got = 0;

	cr_assert_eq(write(t->conn, "q", 1), 1);
	while (got + 1 < len) {
		struct pollfd pfd = { t->conn, POLLIN, 0 };
		cr_assert_eq(poll(&pfd, 1, 5000), 1, "no answer from the target");
		ssize_t n = read(t->conn, buf + got, 1);
		cr_assert_eq(n, 1);
		if (buf[got++] == '\n')
			break;
	}
	buf[got] = '\0';
}

static void target_stop(struct target *t)
{
	if (t->pid > 0)
		fx_stop(t->pid);
	if (t->conn >= 0)
		close(t->conn);
	t->pid = 0;
}

/* Whether the child pid is still running (not exited, not a zombie). */
static __attribute__((unused)) int still_running(pid_t pid)
{
	int status;

	return waitpid(pid, &status, WNOHANG) == 0;
}

/* Runs build/sockguard ARGS... after the launcher's words; its exit code. */
static int tool_as(const char *const launcher[], char *const args[])
{
	cr_assert_eq(fx_tool(launcher, args, NULL, 30000, &res), 0, "%s",
		     fx_skip_reason());
	return fx_exit_code(&res);
}

static int tool(char *const args[])
{
	return tool_as(NULL, args);
}

#endif
