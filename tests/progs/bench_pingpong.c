/*
 * bench_pingpong: the success-path benchmark of `make bench`.
 *
 *   bench_pingpong unix|tcp sr|rw ROUNDTRIPS
 *
 * A parent and a forked child bounce one byte back and forth ROUNDTRIPS
 * times over a socketpair (unix) or a loopback TCP connection with
 * TCP_NODELAY (tcp), with send/recv (sr) or write/read (rw).  Both processes
 * inherit LD_PRELOAD, so every call of the loop goes through the shim when it
 * is preloaded.  Prints two figures in nanoseconds: the wall time of the
 * loop, measured in the parent from the first send to the last reply (so
 * that process start and the shim's constructor are not counted), and the
 * CPU time (user + system) both processes spent in it, which another load on
 * the machine disturbs far less.  Exit status 0 on success.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

static int use_rw;

/* One byte out, through the call family under test. */
static int put1(int fd, char c)
{
	ssize_t n = use_rw ? write(fd, &c, 1) : send(fd, &c, 1, 0);

	return n == 1 ? 0 : -1;
}

/* One byte in; -1 on error or end of stream. */
static int get1(int fd, char *c)
{
	ssize_t n = use_rw ? read(fd, c, 1) : recv(fd, c, 1, 0);

	return n == 1 ? 0 : -1;
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * A connected pair over loopback TCP: sv[0] the accepted end, sv[1] the
 * connecting end.  Returns 0, or -1 with a message printed.
 */
static int tcp_pair(int sv[2])
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
		goto fail;
	sv[1] = socket(AF_INET, SOCK_STREAM, 0);
	if (sv[1] < 0 || connect(sv[1], (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	sv[0] = accept(lfd, NULL, NULL);
	if (sv[0] < 0)
		goto fail;
	close(lfd);
	nodelay(sv[0]);
	nodelay(sv[1]);
	return 0;
fail:
	perror("bench_pingpong: tcp setup");
	return -1;
}

/* The child: echo every byte until the parent closes its end. */
static void echo_loop(int fd)
{
	char c;

	while (get1(fd, &c) == 0)
		if (put1(fd, c) < 0)
			break;
	_exit(0);
}

static int run(int sv[2], long rounds)
{
	long long t0, t1, c0, c1;
	pid_t pid;
	int status;
	char c = 'x';

	pid = fork();
	if (pid < 0) {
		perror("bench_pingpong: fork");
		return 1;
	}
	if (pid == 0) {
		close(sv[0]);
		echo_loop(sv[1]);
	}
	close(sv[1]);
	c0 = cpu_ns(RUSAGE_SELF);
	t0 = now_ns();
	for (long i = 0; i < rounds; i++) {
		if (put1(sv[0], c) < 0 || get1(sv[0], &c) < 0) {
			fprintf(stderr, "bench_pingpong: round %ld: %s\n", i,
				strerror(errno));
			return 1;
		}
	}
	t1 = now_ns();
	c1 = cpu_ns(RUSAGE_SELF);
	close(sv[0]);
	waitpid(pid, &status, 0);
	/* The child did nothing but echo: all its time belongs to the loop. */
	printf("%lld %lld\n", t1 - t0, c1 - c0 + cpu_ns(RUSAGE_CHILDREN));
	return 0;
}

int main(int argc, char **argv)
{
	int sv[2];
	long rounds;

	if (argc != 4 || (strcmp(argv[1], "unix") && strcmp(argv[1], "tcp")) ||
	    (strcmp(argv[2], "sr") && strcmp(argv[2], "rw"))) {
		fprintf(stderr, "usage: bench_pingpong unix|tcp sr|rw ROUNDTRIPS\n");
		return 2;
	}
	use_rw = !strcmp(argv[2], "rw");
	rounds = strtol(argv[3], NULL, 10);
	if (rounds <= 0 || rounds > 100000000L) {
		fprintf(stderr, "bench_pingpong: ROUNDTRIPS out of range\n");
		return 2;
	}
	if (!strcmp(argv[1], "unix")) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
			perror("bench_pingpong: socketpair");
			return 1;
		}
	} else if (tcp_pair(sv) < 0) {
		return 1;
	}
	return run(sv, rounds);
}
