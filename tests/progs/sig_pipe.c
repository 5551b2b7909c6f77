/*
 * SIGPIPE as a program meets it: writes to a socket whose peer reset the
 * connection, writes to a pipe whose reader is gone, its own SIGPIPE
 * settings, and the disposition its children start with.
 *
 *   sig_pipe sock CALL PORT    connect to a resetting peer, wait for the RST,
 *                              then write with CALL (write, send, writev,
 *                              sendmsg, sendfile) until EPIPE
 *   sig_pipe pipe              write to a pipe whose read end is closed
 *   sig_pipe dfl PORT          set SIGPIPE to SIG_DFL (sigaction and signal),
 *                              print what reads back, then `sock write`
 *   sig_pipe handler PORT      own SIGPIPE handler; socket then pipe
 *   sig_pipe pending PORT      SIGPIPE blocked and already pending; sendfile
 *                              to the reset socket must leave it pending
 *   sig_pipe spawn HOW         start `sig_pipe show` without LD_PRELOAD via
 *                              HOW (execve, execv, execl, execvp, execle,
 *                              posix_spawn, posix_spawnp, system, popen;
 *                              popen_threaded: popen with a second thread)
 *   sig_pipe badexec PORT      an execve that fails, then `sock write`:
 *                              SIGPIPE is ignored again after the failure
 *   sig_pipe show              print this process's SIGPIPE disposition
 *   sig_pipe stdio PORT        connect to a resetting peer, wait for the RST,
 *                              then fputs + fflush on an fdopen(3) stream of
 *                              the socket until EPIPE; with that stream still
 *                              open, `pipe`
 *   sig_pipe stdio_closed PORT the same stdio writes, fclose, then fputs +
 *                              fflush on an fdopen(3) stream of a pipe whose
 *                              read end is closed
 *   sig_pipe stdout_sock PORT  the socket becomes standard output of this
 *                              program run again (inetd style): printf +
 *                              fflush until EPIPE, reported on stderr
 *   sig_pipe stdout_away PORT  the same, then /dev/null is put on standard
 *                              output with dup2, then fputs + fflush on an
 *                              fdopen(3) stream of a pipe whose read end is
 *                              closed
 *
 * A run that is not killed prints "survived" and exits 0 (1 when a check
 * failed).  Killed by SIGPIPE, it prints nothing more.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t handled;
static int failures;

static void on_sigpipe(int sig)
{
	(void)sig;
	handled++;
}

static int connect_port(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((unsigned short)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/*
	 * The peer resets each connection as soon as it accepts it: on a busy
	 * machine its RST can arrive before this process returns from
	 * connect(), which then reports it (ECONNRESET).  The socket is then
	 * where await_reset() would have left it.
	 */
	if (fd < 0 || (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
		       errno != ECONNRESET)) {
		printf("connect: %s\n", strerror(errno));
		exit(3);
	}
	return fd;
}

/* Waits (at most 2 s) until the peer's RST has arrived. */
static void await_reset(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int n = poll(&p, 1, 2000);

	printf("reset seen: n=%d revents=%#x\n", n, (unsigned)p.revents);
}

/* One write with CALL; returns its errno, 0 when it wrote. */
static int write_once(const char *call, int fd)
{
	char byte = 'x';
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (strcmp(call, "write") == 0) {
		r = write(fd, &byte, 1);
	} else if (strcmp(call, "send") == 0) {
		r = send(fd, &byte, 1, 0);
	} else if (strcmp(call, "writev") == 0) {
		r = writev(fd, &iov, 1);
	} else if (strcmp(call, "sendmsg") == 0) {
		r = sendmsg(fd, &m, 0);
	} else if (strcmp(call, "sendfile") == 0) {
		int in = open("/proc/self/exe", O_RDONLY);
		r = sendfile(fd, in, NULL, 1);
		int saved = errno;
		close(in);
		errno = saved;
	} else {
		printf("unknown call %s\n", call);
		exit(2);
	}
	return r < 0 ? errno : 0;
}

/* Writes until EPIPE (at most 10 times); returns the last errno. */
static int write_until_epipe(const char *call, int fd)
{
	int err = 0;

	for (int i = 0; i < 10 && err != EPIPE; i++) {
		err = write_once(call, fd);
		printf("%s %d: %s\n", call, i, err ? strerror(err) : "ok");
	}
	return err;
}

static int sock_mode(const char *call, int port)
{
	int fd = connect_port(port);

	await_reset(fd);
	int err = write_until_epipe(call, fd);
	if (err != EPIPE) {
		printf("FAIL: last error %s, want EPIPE\n", strerror(err));
		failures++;
	}
	close(fd);
	return err;
}

static void pipe_mode(void)
{
	int p[2];

	if (pipe(p) < 0)
		exit(3);
	close(p[0]);
	ssize_t r = write(p[1], "x", 1);
	printf("pipe write: %zd %s\n", r, r < 0 ? strerror(errno) : "ok");
}

/* fputs + fflush until EPIPE (at most 10 times); returns the last errno. */
static int stdio_until_epipe(FILE *f, FILE *report_to)
{
	int err = 0;

	for (int i = 0; i < 10 && err != EPIPE; i++) {
		int failed = fputs("x\n", f) == EOF;	/* line-buffered: written */
		failed |= fflush(f) != 0;
		err = failed ? errno : 0;
		clearerr(f);
		fprintf(report_to, "fflush %d: %s\n", i, err ? strerror(err) : "ok");
	}
	return err;
}

static FILE *reset_stream(int port)
{
	int fd = connect_port(port);

	await_reset(fd);
	FILE *f = fdopen(fd, "w");
	if (!f) {
		printf("fdopen: %s\n", strerror(errno));
		exit(3);
	}
	return f;
}

/* fputs + fflush on a stream of a pipe nobody reads, reported on f. */
static void stdio_to_dead_pipe(FILE *f)
{
	int p[2];

	if (pipe(p) < 0)
		exit(3);
	close(p[0]);
	FILE *pf = fdopen(p[1], "w");
	fprintf(f, "stdio to a pipe:\n");
	fflush(f);
	stdio_until_epipe(pf, f);
}

static void stdio_mode(int port, int close_first)
{
	FILE *f = reset_stream(port);

	if (stdio_until_epipe(f, stdout) != EPIPE)
		failures++;
	if (!close_first) {
		pipe_mode();
		return;
	}
	fclose(f);
	stdio_to_dead_pipe(stdout);
}

/* Runs this program again with the reset socket as its standard output. */
static void stdout_sock_mode(int port, const char *self, const char *then)
{
	int fd = connect_port(port);

	await_reset(fd);
	fflush(stdout);
	if (dup2(fd, 1) != 1)
		exit(3);
	close(fd);
	execl(self, self, then, (char *)NULL);
	printf("execl: %s\n", strerror(errno));
	exit(3);
}

static void stdout_write_mode(int away)
{
	if (stdio_until_epipe(stdout, stderr) != EPIPE)
		failures++;
	if (away) {
		int null = open("/dev/null", O_WRONLY);
		if (null < 0 || dup2(null, 1) != 1)
			exit(3);
		close(null);
		stdio_to_dead_pipe(stderr);
	}
	fprintf(stderr, "survived\n");
	exit(failures ? 1 : 0);
}

static const char *name_of(void (*h)(int))
{
	if (h == SIG_DFL)
		return "DFL";
	if (h == SIG_IGN)
		return "IGN";
	if (h == on_sigpipe)
		return "handler";
	return "OTHER";
}

static void expect_view(const char *what, void (*want)(int))
{
	struct sigaction cur;

	sigaction(SIGPIPE, NULL, &cur);
	printf("%s: reads back %s\n", what, name_of(cur.sa_handler));
	if (cur.sa_handler != want) {
		printf("FAIL: %s reads back %s, want %s\n", what,
		       name_of(cur.sa_handler), name_of(want));
		failures++;
	}
}

static void dfl_mode(int port)
{
	struct sigaction a;

	expect_view("at start", SIG_DFL);
	memset(&a, 0, sizeof(a));
	a.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &a, NULL);
	expect_view("after sigaction(SIG_DFL)", SIG_DFL);
	void (*old)(int) = signal(SIGPIPE, SIG_DFL);
	printf("signal(SIG_DFL) returned %s\n", name_of(old));
	if (old != SIG_DFL)
		failures++;
	expect_view("after signal(SIG_DFL)", SIG_DFL);
	sock_mode("write", port);
}

static void handler_mode(int port)
{
	struct sigaction a;

	memset(&a, 0, sizeof(a));
	a.sa_handler = on_sigpipe;
	sigaction(SIGPIPE, &a, NULL);
	expect_view("after sigaction(handler)", on_sigpipe);
	sock_mode("write", port);
	printf("handler ran %d after socket\n", (int)handled);
	if (handled < 1) {
		printf("FAIL: the program's SIGPIPE handler did not run\n");
		failures++;
	}
	int before = handled;
	pipe_mode();
	printf("handler ran %d after pipe\n", (int)handled - before);
	if (handled - before != 1) {
		printf("FAIL: the handler did not run for the pipe\n");
		failures++;
	}
}

/* A SIGPIPE pending before the call is still pending after it. */
static void pending_mode(int port)
{
	sigset_t one, pend;

	sigemptyset(&one);
	sigaddset(&one, SIGPIPE);
	sigprocmask(SIG_BLOCK, &one, NULL);
	raise(SIGPIPE);
	sock_mode("sendfile", port);
	sigpending(&pend);
	int still = sigismember(&pend, SIGPIPE);
	printf("pending after sendfile: %d\n", still);
	if (!still) {
		printf("FAIL: the program's pending SIGPIPE was consumed\n");
		failures++;
	}
	/* Take it, so that unblocking does not decide how we exit. */
	struct timespec zero = { 0, 0 };
	sigtimedwait(&one, NULL, &zero);
}

/* What the kernel will do with SIGPIPE here, and what sigaction says. */
static void show_mode(void)
{
	char line[256];
	unsigned long long ign = 0, blk = 0;
	FILE *f = fopen("/proc/self/status", "r");
	struct sigaction cur;

	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "SigIgn: %llx", &ign);
		sscanf(line, "SigBlk: %llx", &blk);
	}
	if (f)
		fclose(f);
	sigaction(SIGPIPE, NULL, &cur);
	printf("show: kernel=%s blocked=%d view=%s preload=%s\n",
	       (ign >> (SIGPIPE - 1)) & 1 ? "IGN" : "DFL",
	       (int)((blk >> (SIGPIPE - 1)) & 1), name_of(cur.sa_handler),
	       getenv("LD_PRELOAD") ? "yes" : "no");
}

static int wait_child(pid_t pid)
{
	int st = 0;

	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static pid_t fork_exec(const char *how, const char *self)
{
	char *argv[] = { (char *)self, "show", NULL };

	fflush(stdout);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (strcmp(how, "execve") == 0)
		execve(self, argv, environ);
	else if (strcmp(how, "execv") == 0)
		execv(self, argv);
	else if (strcmp(how, "execl") == 0)
		execl(self, self, "show", (char *)NULL);
	else if (strcmp(how, "execle") == 0)
		execle(self, self, "show", (char *)NULL, environ);
	else if (strcmp(how, "execvp") == 0)
		execvp(self, argv);
	printf("exec %s: %s\n", how, strerror(errno));
	_exit(127);
}

static void *idle_thread(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static void spawn_mode(const char *how, const char *self)
{
	char *argv[] = { (char *)self, "show", NULL };
	char cmd[4096];
	pid_t pid = -1;
	int rc;

	/* The child is a program that is not preloaded. */
	unsetenv("LD_PRELOAD");
	snprintf(cmd, sizeof(cmd), "exec %s show", self);
	fflush(stdout);
	if (strcmp(how, "posix_spawn") == 0) {
		posix_spawn(&pid, self, NULL, NULL, argv, environ);
		rc = wait_child(pid);
	} else if (strcmp(how, "posix_spawnp") == 0) {
		posix_spawnp(&pid, self, NULL, NULL, argv, environ);
		rc = wait_child(pid);
	} else if (strcmp(how, "system") == 0) {
		rc = system(cmd);
	} else if (strncmp(how, "popen", 5) == 0) {
		pthread_t t;
		if (strcmp(how, "popen_threaded") == 0)
			pthread_create(&t, NULL, idle_thread, NULL);
		char line[256];
		FILE *f = popen(cmd, "r");
		while (f && fgets(line, sizeof(line), f))
			fputs(line, stdout);
		rc = f ? pclose(f) : -1;
	} else {
		rc = wait_child(fork_exec(how, self));
	}
	printf("spawn %s: child status %d\n", how, rc);
	expect_view("parent after spawn", SIG_DFL);
}

static void badexec_mode(int port)
{
	char *argv[] = { "/nonexistent/sockguard-test", NULL };

	int r = execve(argv[0], argv, environ);
	printf("execve: %d %s\n", r, strerror(errno));
	expect_view("after a failed execve", SIG_DFL);
	sock_mode("write", port);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && strcmp(argv[1], "sock") == 0)
		sock_mode(argv[2], atoi(argv[3]));
	else if (argc >= 2 && strcmp(argv[1], "pipe") == 0)
		pipe_mode();
	else if (argc >= 3 && strcmp(argv[1], "dfl") == 0)
		dfl_mode(atoi(argv[2]));
	else if (argc >= 3 && strcmp(argv[1], "handler") == 0)
		handler_mode(atoi(argv[2]));
	else if (argc >= 3 && strcmp(argv[1], "pending") == 0)
		pending_mode(atoi(argv[2]));
	else if (argc >= 3 && strcmp(argv[1], "badexec") == 0)
		badexec_mode(atoi(argv[2]));
	else if (argc >= 3 && strcmp(argv[1], "spawn") == 0)
		spawn_mode(argv[2], argv[0]);
	else if (argc >= 2 && strcmp(argv[1], "show") == 0)
		show_mode();
	else if (argc >= 3 && strcmp(argv[1], "stdio") == 0)
		stdio_mode(atoi(argv[2]), 0);
	else if (argc >= 3 && strcmp(argv[1], "stdio_closed") == 0)
		stdio_mode(atoi(argv[2]), 1);
	else if (argc >= 3 && strcmp(argv[1], "stdout_sock") == 0)
		stdout_sock_mode(atoi(argv[2]), argv[0], "stdout_write");
	else if (argc >= 3 && strcmp(argv[1], "stdout_away") == 0)
		stdout_sock_mode(atoi(argv[2]), argv[0], "stdout_write_away");
	else if (argc >= 2 && strcmp(argv[1], "stdout_write") == 0)
		stdout_write_mode(0);
	else if (argc >= 2 && strcmp(argv[1], "stdout_write_away") == 0)
		stdout_write_mode(1);
	else {
		fprintf(stderr, "usage: see the comment at the top of sig_pipe.c\n");
		return 2;
	}
	printf("survived\n");
	return failures ? 1 : 0;
}
