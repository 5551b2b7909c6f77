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

static struct fx_result res;
static char dir[256];

static void make_dir(void)
{
	cr_assert_eq(fx_tempdir(dir, sizeof(dir)), 0);
}

static void remove_dir(void)
{
	if (dir[0])
		fx_rmtree(dir);
}

/* A target process and the test's end of its connection. */
struct target {
	pid_t pid;
	int conn;
	char out[512];
};

/* $BUILD/tests/progs/NAME; four calls may be in use at once. */
static const char *prog(const char *name)
{
	static char buf[4][4096];
	static int next;

	return fx_prog_path(name, buf[next++ % 4], sizeof(buf[0]));
}

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

/* Waits until the target's output holds text; 1 when it does. */
static int target_wait_output(const struct target *t, const char *text, int ms)
{
	char buf[4096];

	for (long end = fx_now_ms() + ms;; usleep(20000)) {
		FILE *f = fopen(t->out, "r");
		size_t got = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		buf[got] = '\0';
		if (f)
			fclose(f);
		if (strstr(buf, text))
			return 1;
		if (fx_now_ms() >= end)
			return 0;
	}
}

/* Starts argv, accepts its connection on lfd, and waits for its "ready". */
static void target_start_argv(struct target *t, const char *name,
			      char *const argv[], int lfd, char *const env[])
{
	snprintf(t->out, sizeof(t->out), "%s/%s.out", dir, name);
	t->pid = fx_spawn(argv, env, t->out);
	cr_assert_gt(t->pid, 0, "%s", fx_skip_reason());
	struct pollfd pfd = { lfd, POLLIN, 0 };
	cr_assert_eq(poll(&pfd, 1, 10000), 1, "%s did not connect", name);
	t->conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(t->conn, 0);
	cr_assert(target_wait_output(t, "ready\n", 10000), "%s not ready", name);
}

/* Starts path PORT [extra] with env (may be NULL); see target_start_argv. */
static void target_start(struct target *t, const char *name, const char *path,
			 int lfd, int port, char *const env[], const char *extra)
{
	char p[16];

	snprintf(p, sizeof(p), "%d", port);
	target_start_argv(t, name, (char *const[]){ (char *)path, p,
						    (char *)extra, NULL },
			  lfd, env);
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

/* Runs build/sockguard with args (NULL-terminated); its exit code. */
static int tool_as(const char *prefix[], char *const args[])
{
	static char path[4096];
	char *argv[40];
	int n = 0;

	snprintf(path, sizeof(path), "%s/sockguard", fx_build_dir());
	for (int i = 0; prefix && prefix[i]; i++)
		argv[n++] = (char *)prefix[i];
	argv[n++] = path;
	for (int i = 0; args[i] && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	cr_assert_eq(fx_run(argv, NULL, 30000, &res), 0);
	return fx_exit_code(&res);
}

static int tool(char *const args[])
{
	return tool_as(NULL, args);
}

/* How many lines text holds. */
static int line_count(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static const char *pid_str(pid_t pid)
{
	static char buf[4][16];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, 16, "%d", (int)pid);
	return b;
}

/* A child that has exited and is not reaped yet; the caller reaps it. */
static pid_t make_zombie(void)
{
	char path[64], stat[256] = "";
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	cr_assert_gt(pid, 0);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 250 && !strstr(stat, ") Z "); i++) {
		FILE *f = fopen(path, "r");
		if (f && !fgets(stat, sizeof(stat), f))
			stat[0] = '\0';
		if (f)
			fclose(f);
		usleep(20000);
	}
	cr_assert(strstr(stat, ") Z "), "no zombie: %s", stat);
	return pid;
}

/* A pid that belonged to a child which has been reaped. */
static pid_t vanished_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	cr_assert_gt(pid, 0);
	waitpid(pid, NULL, 0);
	return pid;
}

/* The pid of kthreadd, the parent of every kernel thread, or 0. */
static pid_t kernel_thread(void)
{
	char comm[32] = "";
	FILE *f = fopen("/proc/2/comm", "r");

	if (f && !fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	if (f)
		fclose(f);
	return strcmp(comm, "kthreadd\n") == 0 ? 2 : 0;
}

/*
 * Runs argv as PID 1 of a new PID namespace: a child unshares CLONE_NEWPID
 * and forks the program; *outer gets the program's pid as we see it.
 * Returns the child (its process group holds both), to fx_stop().
 */
static pid_t spawn_in_pidns(char *const argv[], const char *outpath,
			    pid_t *outer)
{
	int pfd[2];

	cr_assert_eq(pipe(pfd), 0);
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		setpgid(0, 0);
		if (unshare(CLONE_NEWPID) < 0)
			_exit(2);
		pid_t pid = fork();
		if (pid == 0) {
			FILE *f = freopen(outpath, "a", stdout);
			if (!f)
				_exit(2);
			execv(argv[0], argv);
			_exit(127);
		}
		if (write(pfd[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(2);
		waitpid(pid, NULL, 0);
		_exit(0);
	}
	setpgid(child, child);
	close(pfd[1]);
	cr_assert_eq(read(pfd[0], outer, sizeof(*outer)), (ssize_t)sizeof(*outer),
		     "no new PID namespace (unshare CLONE_NEWPID failed)");
	close(pfd[0]);
	return child;
}

#endif
