/*
 * Small helpers the test programs share.  Header-only, because some of the
 * programs are also built alone: by musl-gcc for the musl reruns and
 * statically, without the fixture library.
 */
#ifndef SG_PROGS_H
#define SG_PROGS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

/* Monotonic time, for measuring how long a call took. */
static inline long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static inline long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* User plus system time of RUSAGE_SELF or RUSAGE_CHILDREN, in nanoseconds. */
static inline long long cpu_ns(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

/* A handler with these sa_flags and an empty mask. */
static inline void install_flags(int sig, void (*handler)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/*
 * A handler with no SA_RESTART: the way legacy code installs one, and what
 * makes its blocking calls fail with EINTR.
 */
static inline void install(int sig, void (*handler)(int))
{
	install_flags(sig, handler, 0);
}

/* A setup step failed: say which, the way the suites look for it. */
static inline void die(const char *what)
{
	printf("setup-failed: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* A TCP socket listening on 127.0.0.1:port (SO_REUSEADDR, backlog 8). */
static inline int loopback_listener(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(l, 8) < 0)
		die("listen");
	return l;
}

#endif
