/*
 * Timing probes for the EAGAIN rules (the man page, POLICY).  Each mode builds
 * a loopback TCP connection inside this process, makes one kind of call that
 * meets EAGAIN, and prints what it returned and how long it took:
 *
 *   rcvtimeo      blocking socket with SO_RCVTIMEO 200 ms, no data
 *   forgot        O_NONBLOCK socket in a process that never polled, no data
 *   forgot_data   the same, the peer sends 5 bytes after 150 ms
 *   dontwait      MSG_DONTWAIT recv and send in a process that never polled,
 *                 then, for contrast, a plain recv on the forgotten socket
 *   sndtimeo      blocking socket with SO_SNDTIMEO 200 ms, peer never reads
 *   pollwriter    a poll()-driven non-blocking writer filling a slow peer
 *   epoll_optimistic  an epoll process that reads a fresh socket before
 *                 registering it, as asyncio, libuv and glib do
 *
 * Output lines are "key=value ..." for the test to parse; exit 0 unless the
 * setup itself failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

/* A connected loopback pair: *c the connecting end, *s the accepted one. */
static void tcp_pair(int *c, int *s)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof sin;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    listen(l, 4) < 0 || getsockname(l, (struct sockaddr *)&sin, &len) < 0)
		die("listen");
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (*c < 0 || connect(*c, (struct sockaddr *)&sin, sizeof sin) < 0)
		die("connect");
	*s = accept(l, NULL, NULL);
	if (*s < 0)
		die("accept");
	close(l);
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* One recv, printed as "NAME r=R errno=E ms=T". */
static void timed_recv(const char *name, int fd, int flags)
{
	char buf[64];
	long t0 = now_ms();
	ssize_t r = recv(fd, buf, sizeof buf, flags);
	int e = r < 0 ? errno : 0;
	printf("%s r=%zd errno=%d ms=%ld\n", name, r, e, now_ms() - t0);
}

struct late { int fd; int ms; };

static void *send_late(void *arg)
{
	struct late *l = arg;
	usleep((useconds_t)l->ms * 1000);
	if (send(l->fd, "hello", 5, 0) != 5)
		perror("send_late");
	return NULL;
}

static void mode_rcvtimeo(int c, int s)
{
	struct timeval tv = { 0, 200000 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	timed_recv("rcvtimeo", s, 0);
}

/* Sends until the kernel's SO_SNDTIMEO gives EAGAIN; times that call. */
static void mode_sndtimeo(int c, int s)
{
	static char buf[65536];
	struct timeval tv = { 0, 200000 };
	long t0 = 0;
	ssize_t r = 0;
	int n = 0;

	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	while (n++ < 4096) {
		t0 = now_ms();
		r = send(c, buf, sizeof buf, 0);
		if (r < 0)
			break;
	}
	printf("sndtimeo r=%zd errno=%d ms=%ld\n", r, r < 0 ? errno : 0,
	       now_ms() - t0);
}

static void mode_forgot_data(int c, int s)
{
	pthread_t t;
	struct late l = { c, 150 };
	set_nonblock(s);
	pthread_create(&t, NULL, send_late, &l);
	timed_recv("forgot_data", s, 0);
	pthread_join(t, NULL);
}

/* Sends with MSG_DONTWAIT until EAGAIN; prints the time of that last call. */
static void fill_dontwait(const char *name, int fd, int flags)
{
	static char buf[65536];
	long worst = 0;
	int n = 0;
	ssize_t r;
	do {
		long t0 = now_ms();
		r = send(fd, buf, sizeof buf, flags);
		long dt = now_ms() - t0;
		worst = dt > worst ? dt : worst;
	} while (r > 0 && ++n < 4096);
	printf("%s r=%zd errno=%d ms=%ld calls=%d\n", name, r, r < 0 ? errno : 0,
	       worst, n);
}

static void mode_dontwait(int c, int s)
{
	timed_recv("dontwait_blocking", s, MSG_DONTWAIT);
	set_nonblock(s);
	timed_recv("dontwait_nonblocking", s, MSG_DONTWAIT);
	timed_recv("plain_nonblocking", s, 0);
	fill_dontwait("dontwait_send", c, MSG_DONTWAIT);
}

/*
 * A poll-driven writer: waits for POLLOUT, writes until EAGAIN, lets the
 * peer drain a little, for 20 rounds.  Prints the slowest EAGAIN.
 */
static void mode_pollwriter(int c, int s)
{
	static char buf[65536];
	int small = 16384;
	long worst = 0;
	int eagains = 0;

	setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	set_nonblock(c);
	for (int round = 0; round < 20; round++) {
		struct pollfd p = { c, POLLOUT, 0 };
		if (poll(&p, 1, 1000) != 1)
			break;
		for (int i = 0; i < 1000; i++) {
			long t0 = now_ms();
			ssize_t r = send(c, buf, sizeof buf, 0);
			long dt = now_ms() - t0;
			if (r < 0 && errno == EAGAIN) {
				eagains++;
				worst = dt > worst ? dt : worst;
				break;
			}
			if (r < 0)
				die("send");
		}
		for (int i = 0; i < 4; i++)
			if (recv(s, buf, sizeof buf, MSG_DONTWAIT) <= 0)
				break;
	}
	printf("pollwriter eagains=%d ms=%ld\n", eagains, worst);
}

static void mode_epoll_optimistic(int c, int s)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	set_nonblock(s);
	timed_recv("optimistic", s, 0);
	ev.data.fd = s;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) < 0)
		die("epoll_ctl");
	if (send(c, "hi", 2, 0) != 2)
		die("send");
	int n = epoll_wait(ep, &out, 1, 1000);
	printf("epoll_wait n=%d\n", n);
	timed_recv("after_epoll", s, 0);
}

int main(int argc, char **argv)
{
	int c, s;

	if (argc < 2) {
		fprintf(stderr, "usage: ea_probe MODE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	tcp_pair(&c, &s);
	const char *m = argv[1];
	if (strcmp(m, "rcvtimeo") == 0)
		mode_rcvtimeo(c, s);
	else if (strcmp(m, "sndtimeo") == 0)
		mode_sndtimeo(c, s);
	else if (strcmp(m, "forgot") == 0)
		(set_nonblock(s), timed_recv("forgot", s, 0));
	else if (strcmp(m, "forgot_data") == 0)
		mode_forgot_data(c, s);
	else if (strcmp(m, "dontwait") == 0)
		mode_dontwait(c, s);
	else if (strcmp(m, "pollwriter") == 0)
		mode_pollwriter(c, s);
	else if (strcmp(m, "epoll_optimistic") == 0)
		mode_epoll_optimistic(c, s);
	else
		return 2;
	close(c);
	close(s);
	return 0;
}
