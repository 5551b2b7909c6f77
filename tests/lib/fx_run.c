/*
 * Running programs under test: fork, apply the extra environment, exec, and
 * read stdout and stderr through pipes until the child ends or its time is
 * up.  The child leads its own process group so that a timeout also kills
 * whatever it started (the pyenv python3 shim, a shell pipeline).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_int.h"

static void fx_apply_env(char *const env_extra[])
{
	for (int i = 0; env_extra && env_extra[i]; i++) {
		if (strchr(env_extra[i], '='))
			putenv(env_extra[i]);
		else
			unsetenv(env_extra[i]);
	}
}

/* In the child: never returns. */
static void fx_exec_child(char *const argv[], char *const env_extra[],
			  int out, int err)
{
	int null = open("/dev/null", O_RDWR);

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_DFL);
	dup2(null, 0);
	dup2(out >= 0 ? out : null, 1);
	dup2(err >= 0 ? err : null, 2);
	fx_apply_env(env_extra);
	execvp(argv[0], argv);
	dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Appends what is readable on fd to buf; returns 0 at end of file. */
static int fx_drain(int fd, char *buf, size_t cap, size_t *used)
{
	char scratch[4096];
	size_t room = cap - 1 - *used;
	ssize_t n = read(fd, room ? buf + *used : scratch,
			 room ? room : sizeof scratch);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (room)
		*used += n;
	buf[*used] = '\0';
	return n > 0;
}

static void fx_collect(pid_t pid, int out, int err, int timeout_ms,
		       struct fx_result *r)
{
	long start = fx_now_ms(), deadline = start + timeout_ms;
	struct pollfd pfd[2] = { { out, POLLIN, 0 }, { err, POLLIN, 0 } };
	size_t used[2] = { 0, 0 };
	char *buf[2] = { r->out, r->err };
	size_t cap[2] = { sizeof r->out, sizeof r->err };

	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		long left = deadline - fx_now_ms();
		if (left <= 0) {
			r->timed_out = 1;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		if (poll(pfd, 2, (int)left) <= 0)
			continue;
		for (int i = 0; i < 2; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents &&
			    !fx_drain(pfd[i].fd, buf[i], cap[i], &used[i]))
				pfd[i].fd = -1;
	}
	waitpid(pid, &r->status, 0);
	r->elapsed_ms = fx_now_ms() - start;
}

int fx_run(char *const argv[], char *const env_extra[], int timeout_ms,
	   struct fx_result *r)
{
	int out[2], err[2];
	pid_t pid;

	memset(r, 0, sizeof *r);
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		return fx__fail("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return fx__fail("fork: %s", strerror(errno));
	if (pid == 0)
		fx_exec_child(argv, env_extra, out[1], err[1]);
	close(out[1]);
	close(err[1]);
	fx_collect(pid, out[0], err[0], timeout_ms, r);
	close(out[0]);
	close(err[0]);
	if (r->timed_out)
		return fx__fail("%s timed out after %d ms", argv[0], timeout_ms);
	return 0;
}

int fx_exit_code(const struct fx_result *r)
{
	if (r->timed_out)
		return -1;
	if (WIFSIGNALED(r->status))
		return 128 + WTERMSIG(r->status);
	return WEXITSTATUS(r->status);
}

/* How many words a NULL-terminated list holds (NULL: none). */
static size_t fx_words(const char *const words[])
{
	size_t n = 0;

	while (words && words[n])
		n++;
	return n;
}

int fx_tool(const char *const launcher[], char *const args[],
	    char *const env_extra[], int timeout_ms, struct fx_result *r)
{
	size_t nl = fx_words(launcher), na = fx_words((const char *const *)args);
	char *argv[64];

	if (nl + 1 + na >= sizeof argv / sizeof argv[0])
		return fx__fail("sockguard: more than 63 words");
	for (size_t i = 0; i < nl; i++)
		argv[i] = (char *)launcher[i];
	argv[nl] = (char *)fx_tool_path();
	for (size_t i = 0; i <= na; i++)
		argv[nl + 1 + i] = args ? args[i] : NULL;
	return fx_run(argv, env_extra, timeout_ms, r);
}

/* In the child of fx_spawn_pidns(): never returns. */
static void fx_pidns_child(char *const argv[], char *const env_extra[],
			   const char *outpath, int report)
{
	pid_t pid;

	setpgid(0, 0);
	if (unshare(CLONE_NEWPID) < 0)
		_exit(2);
	pid = fork();
	if (pid == 0) {
		if (!freopen(outpath, "a", stdout))
			_exit(2);
		fx_apply_env(env_extra);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || write(report, &pid, sizeof pid) != sizeof pid)
		_exit(2);
	waitpid(pid, NULL, 0);
	_exit(0);
}

pid_t fx_spawn_pidns(char *const argv[], char *const env_extra[],
		     const char *outpath, pid_t *outer)
{
	int pfd[2];
	pid_t child;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return fx__fail("pipe: %s", strerror(errno));
	fflush(NULL);
	child = fork();
	if (child == 0)
		fx_pidns_child(argv, env_extra, outpath, pfd[1]);
	close(pfd[1]);
	if (child < 0) {
		close(pfd[0]);
		return fx__fail("fork: %s", strerror(errno));
	}
	setpgid(child, child);
	n = read(pfd[0], outer, sizeof *outer);
	close(pfd[0]);
	if (n != (ssize_t)sizeof *outer) {
		fx_stop(child);
		return fx__fail("no new PID namespace (unshare CLONE_NEWPID "
				"failed)");
	}
	return child;
}

pid_t fx_zombie(void)
{
	char path[64];
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return fx__fail("fork: %s", strerror(errno));
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!fx_wait_file(path, ") Z ", 5000)) {
		waitpid(pid, NULL, 0);
		return fx__fail("pid %d did not become a zombie", (int)pid);
	}
	return pid;
}

pid_t fx_vanished_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return fx__fail("fork: %s", strerror(errno));
	waitpid(pid, NULL, 0);
	return pid;
}

pid_t fx_kernel_thread(void)
{
	char comm[32];

	fx_read_file("/proc/2/comm", comm, sizeof comm);
	return strcmp(comm, "kthreadd\n") == 0 ? 2 : 0;
}

int fx_wait_exit(pid_t pid, int ms)
{
	int st;

	for (long end = fx_now_ms() + ms;; usleep(5000)) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) :
					       128 + WTERMSIG(st);
		if (fx_now_ms() >= end)
			return -1;
	}
}

pid_t fx_spawn(char *const argv[], char *const env_extra[],
	       const char *logpath)
{
	int log = open(logpath ? logpath : "/dev/null",
		       O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	pid_t pid;

	if (log < 0)
		return fx__fail("open %s: %s", logpath, strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(log);
		return fx__fail("fork: %s", strerror(errno));
	}
	if (pid == 0)
		fx_exec_child(argv, env_extra, log, log);
	setpgid(pid, pid);
	close(log);
	return pid;
}

char *fx_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n = 1;

	while (fd >= 0 && n > 0 && got + 1 < len) {
		n = read(fd, buf + got, len - 1 - got);
		got += n > 0 ? (size_t)n : 0;
	}
	if (fd >= 0)
		close(fd);
	buf[got] = '\0';
	return buf;
}

int fx_wait_file(const char *path, const char *text, int ms)
{
	static char buf[65536];

	for (long end = fx_now_ms() + ms;; usleep(10000)) {
		if (strstr(fx_read_file(path, buf, sizeof buf), text))
			return 1;
		if (fx_now_ms() >= end)
			return 0;
	}
}
