/*
 * A select()-based legacy daemon that forgot one of its non-blocking
 * sockets, for eagain=unwatched (the man page, POLICY).  It hands socket A to
 * select() and never socket B, then reads each without data and prints
 * "CASE fd=N r=R errno=E ms=T" for:
 *
 *   selected, forgotten, forgotten_data (data comes after 150 ms),
 *   dup, dup2, dup3, f_dupfd, f_dupfd_cloexec   copies of A: watched
 *   epolled                      a socket handed to epoll_ctl only
 *   dup2_over_watched            B duplicated onto a copy of A's number
 *   reuse_after_close            A closed, a socket passed in by SCM_RIGHTS
 *                                takes A's number: not watched
 *   reuse_after_close_range      the same after close_range()
 *   reuse_socket_after_close     the same with socket()+connect (accept side)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

static int listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof *sin;
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)sin, sizeof *sin) < 0 ||
	    listen(l, 4) < 0 || getsockname(l, (struct sockaddr *)sin, &len) < 0)
		die("listen");
	return l;
}

/* A connected loopback pair; *s (the accepted end) is non-blocking. */
static void tcp_pair(int *c, int *s)
{
	struct sockaddr_in sin;
	int l = listener(&sin);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (*c < 0 || connect(*c, (struct sockaddr *)&sin, sizeof sin) < 0)
		die("connect");
	*s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	if (*s < 0)
		die("accept");
	close(l);
}

static void timed_recv(const char *name, int fd)
{
	char buf[64];
	long t0 = now_ms();
	ssize_t r = recv(fd, buf, sizeof buf, 0);
	int e = r < 0 ? errno : 0;
	printf("%s fd=%d r=%zd errno=%d ms=%ld\n", name, fd, r, e, now_ms() - t0);
}

struct late { int fd; };

static void *send_late(void *arg)
{
	usleep(150000);
	if (send(((struct late *)arg)->fd, "hello", 5, 0) != 5)
		perror("send_late");
	return NULL;
}

static void send_fd(int via, int fd)
{
	char c = 'x', ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof ctl };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	if (sendmsg(via, &m, 0) != 1)
		die("sendmsg SCM_RIGHTS");
}

static int recv_fd(int via)
{
	char c, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof ctl };
	int fd = -1;
	if (recvmsg(via, &m, 0) != 1 || !CMSG_FIRSTHDR(&m))
		die("recvmsg SCM_RIGHTS");
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
	return fd;
}

/* Fills every free number below fd with /dev/null, so fd is the next one. */
static int fill_holes_below(int fd, int *keep)
{
	int n = 0;
	for (; n < 64; n++) {
		keep[n] = open("/dev/null", O_RDONLY);
		if (keep[n] < 0 || keep[n] > fd) {
			if (keep[n] >= 0)
				close(keep[n]);
			break;
		}
	}
	return n;
}

static void close_all(const int *keep, int n)
{
	for (int i = 0; i < n; i++)
		close(keep[i]);
}

/*
 * Closes fd (with close_range when use_range) and brings in a fresh
 * non-blocking socket, passed over a unix socket, which takes its number.
 */
static void reuse_number(const char *name, int fd, int use_range)
{
	int u[2], c, s;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, u) < 0)
		die("socketpair");
	tcp_pair(&c, &s);
	send_fd(u[0], s);
	close(s);
	int keep[64], n = fill_holes_below(fd, keep);
	if (use_range)
		close_range((unsigned)fd, (unsigned)fd, 0);
	else
		close(fd);
	int got = recv_fd(u[1]);
	if (got != fd)
		printf("%s note: got fd %d, not %d\n", name, got, fd);
	close_all(keep, n);
	timed_recv(name, got);
	close(u[0]);
	close(u[1]);
}

/* A closes; a new pair from socket()/accept4() takes A's number. */
static void reuse_socket(int fd)
{
	struct sockaddr_in sin;
	int l = listener(&sin);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sin, sizeof sin) < 0)
		die("connect");
	int keep[64], n = fill_holes_below(fd, keep);
	close(fd);
	int s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	close_all(keep, n);
	if (s != fd)
		printf("reuse_socket_after_close note: got fd %d, not %d\n", s, fd);
	timed_recv("reuse_socket_after_close", s);
}

int main(void)
{
	int ca, sa, cb, sb, cc, sc, ce, se;
	fd_set rd;
	struct timeval tv = { 0, 0 };

	setvbuf(stdout, NULL, _IONBF, 0);
	tcp_pair(&ca, &sa);
	tcp_pair(&cb, &sb);
	tcp_pair(&cc, &sc);
	tcp_pair(&ce, &se);
	FD_ZERO(&rd);
	FD_SET(sa, &rd);
	select(sa + 1, &rd, NULL, NULL, &tv);

	timed_recv("selected", sa);
	timed_recv("forgotten", sb);
	pthread_t t;
	struct late l = { cc };
	pthread_create(&t, NULL, send_late, &l);
	timed_recv("forgotten_data", sc);
	pthread_join(t, NULL);

	timed_recv("dup", dup(sa));
	timed_recv("dup2", dup2(sa, 100));
	timed_recv("dup3", dup3(sa, 101, O_CLOEXEC));
	timed_recv("f_dupfd", fcntl(sa, F_DUPFD, 200));
	timed_recv("f_dupfd_cloexec", fcntl(sa, F_DUPFD_CLOEXEC, 210));

	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, se, &ev) < 0)
		die("epoll");
	timed_recv("epolled", se);

	timed_recv("dup2_over_watched", dup2(sb, 100));
	int a2 = dup(sa);
	reuse_number("reuse_after_close", sa, 0);
	reuse_number("reuse_after_close_range", a2, 1);
	reuse_socket(dup(se));
	return 0;
}
