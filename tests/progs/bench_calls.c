/*
 * bench_calls: loops of one intercepted call family, for `make bench`,
 * counted under callgrind or timed on the wall clock.
 *
 *   bench_calls FAMILY N
 *
 * FAMILY is one of
 *   sendrecv   send(1 byte) + recv(1 byte) on a socketpair     (2 calls)
 *   readwrite  write(1 byte) + read(1 byte) on a socketpair    (2 calls)
 *   poll       poll() on a readable socket, timeout 0          (1 call)
 *   epoll      epoll_wait() on a readable socket, timeout 0    (1 call)
 *   pollt      poll() on a readable socket, timeout 1000 ms    (1 call)
 *   epollt     epoll_wait() on a readable socket, timeout 1000 ms (1 call)
 *   accept     accept() + close() of a loopback TCP connection (2 calls)
 *   connect    connect() + close() to a loopback listener      (2 calls)
 *   refused    socket() + connect() + close() to a loopback port that
 *              refuses: one ECONNREFUSED event per iteration
 *
 * Each family's loop is the function bench_fam_FAMILY, kept out of line so
 * that `valgrind --tool=callgrind --toggle-collect=bench_fam_FAMILY` counts
 * the loop and nothing else (not the shim's constructor, not the setup).
 * The work around the calls under test (the other end's socket, connect and
 * accept) is made with raw system calls (raw() below, not even syscall(2),
 * which the shim also interposes), so that the shim sees only the calls
 * being measured.  Prints the loop's wall
 * time and CPU time (user + system) in nanoseconds.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

#define NOINLINE __attribute__((noinline, used))

/* A system call that no library sees: the kernel's calling convention. */
static long raw(long n, long a, long b, long c, long d, long e)
{
#if defined(__x86_64__)
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	__asm__ volatile("syscall" : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return r;
#else
	return syscall(n, a, b, c, d, e);
#endif
}
#define syscall(n, ...) raw_call(n, __VA_ARGS__, 0, 0, 0, 0, 0)
#define raw_call(n, a, b, c, d, e, ...) \
	raw((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e))

static int sv[2];		/* socketpair for the I/O families */
static int lfd = -1;		/* listener (accept, connect) or refuser */
static struct sockaddr_in addr;	/* where lfd is bound */
static int epfd = -1;
static long failures;

/* The other end of a TCP connection, made without the shim's knowledge. */
static int raw_tcp_socket(void)
{
	return (int)syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

/* Closes fd with an RST (SO_LINGER 0): no TIME_WAIT piles up. */
static void raw_abort(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	syscall(SYS_setsockopt, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	syscall(SYS_close, fd);
}

NOINLINE void bench_fam_sendrecv(long n)
{
	char c = 'x';

	for (long i = 0; i < n; i++) {
		if (send(sv[0], &c, 1, 0) != 1 || recv(sv[1], &c, 1, 0) != 1)
			failures++;
	}
}

NOINLINE void bench_fam_readwrite(long n)
{
	char c = 'x';

	for (long i = 0; i < n; i++) {
		if (write(sv[0], &c, 1) != 1 || read(sv[1], &c, 1) != 1)
			failures++;
	}
}

NOINLINE void bench_fam_poll(long n)
{
	struct pollfd p = { .fd = sv[1], .events = POLLIN };

	for (long i = 0; i < n; i++) {
		if (poll(&p, 1, 0) != 1)
			failures++;
	}
}

NOINLINE void bench_fam_epoll(long n)
{
	struct epoll_event ev[4];

	for (long i = 0; i < n; i++) {
		if (epoll_wait(epfd, ev, 4, 0) != 1)
			failures++;
	}
}

/* With a timeout, as event loops call them: the socket is ready, so the
 * call returns at once, but the shim must keep track of the time left. */
NOINLINE void bench_fam_pollt(long n)
{
	struct pollfd p = { .fd = sv[1], .events = POLLIN };

	for (long i = 0; i < n; i++) {
		if (poll(&p, 1, 1000) != 1)
			failures++;
	}
}

NOINLINE void bench_fam_epollt(long n)
{
	struct epoll_event ev[4];

	for (long i = 0; i < n; i++) {
		if (epoll_wait(epfd, ev, 4, 1000) != 1)
			failures++;
	}
}

NOINLINE void bench_fam_accept(long n)
{
	struct sockaddr_storage ss;
	socklen_t len;

	for (long i = 0; i < n; i++) {
		int c = raw_tcp_socket(), s;

		syscall(SYS_connect, c, &addr, sizeof(addr));
		len = sizeof(ss);
		s = accept(lfd, (struct sockaddr *)&ss, &len);
		if (s < 0)
			failures++;
		raw_abort(c);
		if (s >= 0)
			close(s);
	}
}

NOINLINE void bench_fam_connect(long n)
{
	for (long i = 0; i < n; i++) {
		int c = raw_tcp_socket(), s;

		if (connect(c, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			failures++;
		s = (int)syscall(SYS_accept4, lfd, NULL, NULL, SOCK_CLOEXEC);
		if (s >= 0)
			syscall(SYS_close, s);
		close(c);
	}
}

NOINLINE void bench_fam_refused(long n)
{
	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (connect(c, (struct sockaddr *)&addr, sizeof(addr)) == 0 ||
		    errno != ECONNREFUSED)
			failures++;
		close(c);
	}
}

/* A loopback TCP socket bound to a free port; listening if asked. */
static int setup_loopback(int do_listen)
{
	socklen_t len = sizeof(addr);

	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	lfd = raw_tcp_socket();
	if (lfd < 0 || syscall(SYS_bind, lfd, &addr, sizeof(addr)) < 0 ||
	    syscall(SYS_getsockname, lfd, &addr, &len) < 0)
		return -1;
	/* A bound socket that does not listen answers SYN with RST. */
	if (do_listen && listen(lfd, 64) < 0)
		return -1;
	return 0;
}

/* The socketpair, with one byte waiting in sv[1] for the readiness loops. */
static int setup_pair(int readable)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    sv) < 0)
		return -1;
	if (readable && syscall(SYS_write, sv[0], "x", 1) != 1)
		return -1;
	if (readable) {
		epfd = epoll_create1(EPOLL_CLOEXEC);
		ev.data.fd = sv[1];
		if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, sv[1], &ev) < 0)
			return -1;
	}
	return 0;
}

static const struct family {
	const char *name;
	void (*loop)(long);
	int setup;	/* 0: pair, 1: readable pair, 2: listener, 3: refuser */
} families[] = {
	{ "sendrecv", bench_fam_sendrecv, 0 },
	{ "readwrite", bench_fam_readwrite, 0 },
	{ "poll", bench_fam_poll, 1 },
	{ "epoll", bench_fam_epoll, 1 },
	{ "pollt", bench_fam_pollt, 1 },
	{ "epollt", bench_fam_epollt, 1 },
	{ "accept", bench_fam_accept, 2 },
	{ "connect", bench_fam_connect, 2 },
	{ "refused", bench_fam_refused, 3 },
};

int main(int argc, char **argv)
{
	const struct family *f = NULL;
	long long t0, t1, c0, c1;
	long n;
	int rc;

	for (size_t i = 0; argc == 3 && i < sizeof(families) / sizeof(*f); i++)
		if (!strcmp(argv[1], families[i].name))
			f = &families[i];
	n = argc == 3 ? strtol(argv[2], NULL, 10) : 0;
	if (!f || n <= 0 || n > 100000000L) {
		fprintf(stderr, "usage: bench_calls sendrecv|readwrite|poll|epoll|"
			"pollt|epollt|accept|connect|refused N\n");
		return 2;
	}
	rc = f->setup >= 2 ? setup_loopback(f->setup == 2) : setup_pair(f->setup);
	if (rc < 0) {
		perror("bench_calls: setup");
		return 1;
	}
	c0 = cpu_ns(RUSAGE_SELF);
	t0 = now_ns();
	f->loop(n);
	t1 = now_ns();
	c1 = cpu_ns(RUSAGE_SELF);
	printf("%lld %lld\n", t1 - t0, c1 - c0);
	if (failures) {
		fprintf(stderr, "bench_calls: %s: %ld of %ld iterations failed\n",
			f->name, failures, n);
		return 1;
	}
	return 0;
}
