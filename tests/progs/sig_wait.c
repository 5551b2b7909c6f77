/*
 * Blocking and timed waits interrupted by a stream of signals from a timer
 * (timer_create, SIGEV_SIGNAL), whose handler is installed without
 * SA_RESTART.
 *
 *   sig_wait CALL SIG PERIOD_MS TIMEOUT_MS
 *
 * CALL waits on a socket that never becomes ready, for TIMEOUT_MS:
 *   poll ppoll select pselect epoll_wait epoll_pwait   readiness calls
 *   recv_timeo accept_timeo   recv / accept with SO_RCVTIMEO = TIMEOUT_MS
 *   recv_timeo_exec           as recv_timeo, but SO_RCVTIMEO is set before
 *                             an execv() of this program, which then
 *                             receives on the inherited socket (inetd-,
 *                             systemd-style): the timeout was not set in
 *                             the process that waits
 *   read                      a blocking read that a thread satisfies
 *                             after TIMEOUT_MS (one byte)
 *   recv                      the same with recv
 *   ppoll_masked pselect_masked epoll_pwait_masked
 *                             SIG blocked outside the call and unblocked
 *                             by the call's own sigmask: the program asks
 *                             to be woken by SIG (pselect(2))
 *   send                      one blocking send of 8 MiB on TCP loopback,
 *                             which a thread starts reading after
 *                             TIMEOUT_MS (rc is what send returned)
 * SIG is CHLD, WINCH, USR1, TERM, ALRM or RTMIN+N (this program's own
 * SIGRTMIN, as its C library counts it); the timer sends it every
 * PERIOD_MS.  SIG STOPCONT instead forks a process that stops and
 * continues this one (SIGSTOP, SIGCONT) every PERIOD_MS: no handler runs,
 * yet some calls fail with EINTR (signal(7)).  Prints one line:
 *   CALL rc=R errno=E elapsed=MS signals=N
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

#define SEND_BYTES (8 << 20)

static volatile sig_atomic_t signals;
static int pair[2];
static int timeout_ms;
static long received;

static void on_signal(int sig)
{
	(void)sig;
	signals++;
}

/*
 * A child that stops and continues its parent every period_ms, five times.
 * Its exit sends SIGCHLD, whose default action (ignore) interrupts nothing.
 */
static void stop_continue_every(int period_ms)
{
	struct timespec ts = { period_ms / 1000, (period_ms % 1000) * 1000000L };
	struct timespec brief = { 0, 20 * 1000000L };
	pid_t parent = getpid();

	if (fork() != 0)
		return;
	for (int i = 0; i < 5; i++) {
		nanosleep(&ts, NULL);
		kill(parent, SIGSTOP);
		nanosleep(&brief, NULL);
		kill(parent, SIGCONT);
		signals++;
	}
	printf("stopped and continued 5 times\n");
	_exit(0);
}

static int signal_number(const char *name)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = { { "CHLD", SIGCHLD }, { "WINCH", SIGWINCH },
		      { "USR1", SIGUSR1 }, { "TERM", SIGTERM },
		      { "ALRM", SIGALRM } };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i].name) == 0)
			return names[i].sig;
	}
	if (strncmp(name, "RTMIN+", 6) == 0)
		return SIGRTMIN + atoi(name + 6);
	fprintf(stderr, "sig_wait: unknown signal %s\n", name);
	exit(2);
}

/* The handler without SA_RESTART, and a timer sending sig every period. */
static void start_signals(int sig, int period_ms)
{
	struct sigaction a;
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = sig };
	struct itimerspec its = {
		.it_interval = { period_ms / 1000, (period_ms % 1000) * 1000000L },
		.it_value = { period_ms / 1000, (period_ms % 1000) * 1000000L },
	};
	timer_t t;

	memset(&a, 0, sizeof(a));
	a.sa_handler = on_signal;
	sigemptyset(&a.sa_mask);
	sigaction(sig, &a, NULL);
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) < 0 ||
	    timer_settime(t, 0, &its, NULL) < 0) {
		printf("timer: %s\n", strerror(errno));
		exit(2);
	}
}

static int listener(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 1) < 0) {
		printf("listen: %s\n", strerror(errno));
		exit(2);
	}
	return fd;
}

static void set_rcvtimeo(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Sends one byte on the other end after timeout_ms, all signals blocked. */
static void *late_writer(void *arg)
{
	sigset_t all;
	struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	nanosleep(&ts, NULL);
	if (write(pair[1], "x", 1) != 1)
		perror("late writer");
	return NULL;
}

/* Reads everything after timeout_ms, slowly enough to fill the buffers. */
static void *late_reader(void *arg)
{
	sigset_t all;
	struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };
	static char buf[65536];
	int fd = *(int *)arg;
	ssize_t n;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	nanosleep(&ts, NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		received += n;
	return NULL;
}

/*
 * A TCP connection over loopback: *out to write, *in to read.  Made with
 * the signals blocked: the timer already runs, and the call under test is
 * the send that follows, not this connect (which a signal every
 * millisecond interrupts now and then on a loaded machine).
 */
static void tcp_pair(int *out, int *in)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	sigset_t all, old;
	int l = listener();

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	getsockname(l, (struct sockaddr *)&sin, &len);
	*out = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*out, (struct sockaddr *)&sin, len) < 0) {
		printf("connect: %s\n", strerror(errno));
		exit(2);
	}
	*in = accept(l, NULL, NULL);
	close(l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static long send_big(void)
{
	static int in;
	int out;
	pthread_t t;
	char *buf = calloc(1, SEND_BYTES);

	tcp_pair(&out, &in);
	pthread_create(&t, NULL, late_reader, &in);
	long r = send(out, buf, SEND_BYTES, 0);
	int saved = errno;
	shutdown(out, SHUT_WR);
	pthread_join(t, NULL);
	printf("sent %ld of %d, peer received %ld\n", r, SEND_BYTES, received);
	free(buf);
	errno = saved;
	return r;
}

/* The mask the p-calls wait with: none, or the one from before SIG was blocked. */
static sigset_t call_mask;

static int wait_select(int fd, int with_mask)
{
	fd_set r;
	FD_ZERO(&r);
	FD_SET(fd, &r);
	if (with_mask) {
		struct timespec ts = { timeout_ms / 1000,
				       (timeout_ms % 1000) * 1000000L };
		return pselect(fd + 1, &r, NULL, NULL, &ts, &call_mask);
	}
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	return select(fd + 1, &r, NULL, NULL, &tv);
}

static int wait_epoll(int fd, int with_mask)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd }, out;
	int ep = epoll_create1(0);

	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	int r = with_mask ? epoll_pwait(ep, &out, 1, timeout_ms, &call_mask) :
			    epoll_wait(ep, &out, 1, timeout_ms);
	int saved = errno;
	close(ep);
	errno = saved;
	return r;
}

/* Sets SO_RCVTIMEO, then runs this program again on the same socket. */
static void exec_with_timeout(char **argv)
{
	char fds[32];

	set_rcvtimeo(pair[0], timeout_ms);
	snprintf(fds, sizeof(fds), "%d,%d", pair[0], pair[1]);
	setenv("SIG_WAIT_FDS", fds, 1);
	argv[1] = "recv_inherited";
	execv("/proc/self/exe", argv);
	printf("execv: %s\n", strerror(errno));
	exit(2);
}

static long run_call(const char *call)
{
	struct pollfd p = { pair[0], POLLIN, 0 };
	struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };
	char byte;
	pthread_t t;

	if (strcmp(call, "poll") == 0)
		return poll(&p, 1, timeout_ms);
	if (strcmp(call, "ppoll") == 0)
		return ppoll(&p, 1, &ts, NULL);
	if (strcmp(call, "ppoll_masked") == 0)
		return ppoll(&p, 1, &ts, &call_mask);
	if (strcmp(call, "pselect_masked") == 0)
		return wait_select(pair[0], 1);
	if (strcmp(call, "epoll_pwait_masked") == 0)
		return wait_epoll(pair[0], 1);
	if (strcmp(call, "select") == 0)
		return wait_select(pair[0], 0);
	if (strcmp(call, "pselect") == 0)
		return wait_select(pair[0], 1);
	if (strcmp(call, "epoll_wait") == 0)
		return wait_epoll(pair[0], 0);
	if (strcmp(call, "epoll_pwait") == 0)
		return wait_epoll(pair[0], 1);
	if (strcmp(call, "recv_timeo") == 0) {
		set_rcvtimeo(pair[0], timeout_ms);
		return recv(pair[0], &byte, 1, 0);
	}
	if (strcmp(call, "recv_inherited") == 0)
		return recv(pair[0], &byte, 1, 0);
	if (strcmp(call, "accept_timeo") == 0) {
		int l = listener();
		set_rcvtimeo(l, timeout_ms);
		return accept(l, NULL, NULL);
	}
	if (strcmp(call, "send") == 0)
		return send_big();
	if (strcmp(call, "read") == 0) {
		pthread_create(&t, NULL, late_writer, NULL);
		return read(pair[0], &byte, 1);
	}
	if (strcmp(call, "recv") == 0) {
		pthread_create(&t, NULL, late_writer, NULL);
		return recv(pair[0], &byte, 1, 0);
	}
	printf("unknown call %s\n", call);
	exit(2);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 5) {
		fprintf(stderr, "usage: sig_wait CALL SIG PERIOD_MS TIMEOUT_MS\n");
		return 2;
	}
	timeout_ms = atoi(argv[4]);
	const char *fds = getenv("SIG_WAIT_FDS");
	if (strcmp(argv[1], "recv_inherited") == 0 && fds)
		sscanf(fds, "%d,%d", &pair[0], &pair[1]);
	else if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
		return 2;
	if (strcmp(argv[1], "recv_timeo_exec") == 0)
		exec_with_timeout(argv);
	sigemptyset(&call_mask);
	if (strcmp(argv[2], "STOPCONT") == 0) {
		stop_continue_every(atoi(argv[3]));
	} else {
		int sig = signal_number(argv[2]);
		if (strstr(argv[1], "_masked")) {
			sigset_t one;
			sigemptyset(&one);
			sigaddset(&one, sig);
			sigprocmask(SIG_BLOCK, &one, &call_mask);
		}
		start_signals(sig, atoi(argv[3]));
	}
	long start = now_ms();
	errno = 0;
	long r = run_call(argv[1]);
	int err = r < 0 ? errno : 0;
	long elapsed = now_ms() - start;
	printf("%s rc=%ld errno=%s elapsed=%ld signals=%d\n", argv[1], r,
	       err ? strerrorname_np(err) : "0", elapsed, (int)signals);
	return 0;
}
