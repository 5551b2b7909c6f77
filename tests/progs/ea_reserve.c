/*
 * The shim's reserved descriptor for accept_emfile=shed, seen from the
 * program (the man page, POLICY, "The shim's own descriptors").
 *
 *   ea_reserve cloexec   listens, finds the reserve (/dev/null above 2),
 *                        prints its close-on-exec flag, execs itself as
 *                        `ea_reserve child`, which prints what it inherited
 *   ea_reserve dup2      listens, dup2()s a socket of its own onto the
 *                        reserve's number, runs out of descriptors, and
 *                        takes a pending connection
 *   ea_reserve close     the same after close() of the reserve's number
 *   ea_reserve keep      the same, leaving the reserve alone
 *
 * The last two print "accept r=R errno=E", "client_closed=0|1" (the client
 * saw the shed) and "mine_intact=0|1" (the program's descriptor on the old
 * number still works).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * The highest descriptor above 2 open on /dev/null and not in skip (the
 * ones inherited from the caller), or -1; marks each one found in mark.
 */
#define MAXFD 4096
static unsigned char before[MAXFD];

static int find_devnull(int *count, unsigned char *mark)
{
	char link[64], target[256];
	int best = -1;
	DIR *d = opendir("/proc/self/fd");

	*count = 0;
	if (!d)
		return -1;
	int dfd = dirfd(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd <= 2 || fd == dfd || fd >= MAXFD ||
		    before[fd])
			continue;
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "/dev/null") == 0) {
			(*count)++;
			if (mark)
				mark[fd] = 1;
			best = fd > best ? fd : best;
		}
	}
	closedir(d);
	return best;
}

static int listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof *sin;
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (l < 0 || bind(l, (struct sockaddr *)sin, sizeof *sin) < 0 ||
	    listen(l, 8) < 0 || getsockname(l, (struct sockaddr *)sin, &len) < 0) {
		printf("setup-failed: listen: %s\n", strerror(errno));
		exit(2);
	}
	return l;
}

static int mode_cloexec(char *self)
{
	struct sockaddr_in sin;
	int n;

	char num[16];

	find_devnull(&n, before);
	listener(&sin);
	int r = find_devnull(&n, NULL);
	int fl = r >= 0 ? fcntl(r, F_GETFD) : -1;
	printf("reserve=%d count=%d cloexec=%d\n", r, n,
	       fl >= 0 && (fl & FD_CLOEXEC) ? 1 : 0);
	snprintf(num, sizeof num, "%d", r);
	execl(self, self, "child", num, (char *)NULL);
	printf("exec failed: %s\n", strerror(errno));
	return 1;
}

/* Whether the parent's reserve number is open here, on /dev/null. */
static int mode_child(int r)
{
	char link[64], target[256] = "";
	snprintf(link, sizeof link, "/proc/self/fd/%d", r);
	ssize_t n = readlink(link, target, sizeof target - 1);
	if (n > 0)
		target[n] = '\0';
	printf("reserve_inherited=%d\n", n > 0 && strcmp(target, "/dev/null") == 0);
	return 0;
}

/* Opens /dev/null until EMFILE; returns how many it took. */
static int exhaust(void)
{
	int n = 0;
	while (n < 100000 && open("/dev/null", O_RDONLY) >= 0)
		n++;
	return n;
}

enum { LOSE_NONE, LOSE_DUP2, LOSE_CLOSE };

static int mode_lose(int how)
{
	struct sockaddr_in sin;
	struct rlimit rl;
	int u[2], n;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 32;
	setrlimit(RLIMIT_NOFILE, &rl);
	find_devnull(&n, before);
	int l = listener(&sin);
	int r = find_devnull(&n, NULL);
	printf("reserve=%d count=%d\n", r, n);
	if ((r < 0 && how != LOSE_NONE) || socketpair(AF_UNIX, SOCK_STREAM, 0, u) < 0)
		return 2;
	int c = socket(AF_INET, SOCK_STREAM, 0);
	int mine;
	if (how == LOSE_DUP2) {
		mine = dup2(u[0], r);
	} else {
		if (how == LOSE_CLOSE)
			close(r);
		mine = dup(u[0]);	/* the lowest free number */
	}
	printf("mine=%d taken=%d\n", mine, exhaust());
	if (connect(c, (struct sockaddr *)&sin, sizeof sin) < 0)
		printf("connect: %s\n", strerror(errno));
	usleep(50000);
	int a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	printf("accept r=%d errno=%d\n", a, a < 0 ? errno : 0);

	struct pollfd p = { c, POLLIN, 0 };
	char b;
	int closed = 0;
	if (poll(&p, 1, 1000) == 1) {
		ssize_t rv = recv(c, &b, 1, MSG_DONTWAIT);
		closed = rv == 0 || (rv < 0 && errno == ECONNRESET);
	}
	printf("client_closed=%d\n", closed);
	int ok = write(mine, "z", 1) == 1 && read(u[1], &b, 1) == 1 && b == 'z';
	printf("mine_intact=%d\n", ok);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "cloexec") == 0)
		return mode_cloexec(argv[0]);
	if (strcmp(argv[1], "child") == 0 && argc > 2)
		return mode_child(atoi(argv[2]));
	if (strcmp(argv[1], "dup2") == 0)
		return mode_lose(LOSE_DUP2);
	if (strcmp(argv[1], "close") == 0)
		return mode_lose(LOSE_CLOSE);
	if (strcmp(argv[1], "keep") == 0)
		return mode_lose(LOSE_NONE);
	return 2;
}
