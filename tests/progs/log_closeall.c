/*
 * A daemon-style program that closes every descriptor, then fills the
 * numbers again with files and sockets of its own, then meets network faults
 * that the shim logs.  It checks that none of its descriptors ever received
 * a byte it did not write, and exits 0 if so, 1 if a log line leaked into
 * one of them, 2 on a setup failure.  stdout is closed with everything else,
 * so the exit code is the whole report.
 *
 *   log_closeall close PORT        close(2) each number, as most daemons do
 *   log_closeall close_range PORT  the close_range(2) system call made
 *                                  without libc (as a Go runtime makes
 *                                  it), which no wrapper can see
 *   log_closeall closefrom PORT    glibc's closefrom(3)
 *
 * PORT is a closed port: connecting to it is the fault that gets logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FILL_TO 1000	/* above the shim's usual number (960) */

struct mine {
	int tcp_client, tcp_server;	/* a loopback TCP connection */
	int pair[2];			/* a stream socketpair */
	int dpair[2];			/* a datagram socketpair */
	int pipefd[2];
	int file;
};

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return sin;
}

static void refused(int port)
{
	struct sockaddr_in sin = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
}

/* close_range(0, ~0U, 0) without libc, where the machine allows it. */
static void raw_close_all(void)
{
#if defined(__x86_64__)
	long r;
	__asm__ volatile("syscall" : "=a"(r)
			 : "a"((long)SYS_close_range), "D"(0L), "S"(~0u), "d"(0L)
			 : "rcx", "r11", "memory");
	(void)r;
#else
	syscall(SYS_close_range, 0, ~0u, 0);
#endif
}

static void close_everything(const char *how)
{
	if (strcmp(how, "close_range") == 0) {
		raw_close_all();
	} else if (strcmp(how, "closefrom") == 0) {
		closefrom(0);
	} else {
		for (int fd = 0; fd < 1024; fd++)
			close(fd);
	}
}

static int tcp_pair(struct mine *m)
{
	struct sockaddr_in sin = loopback(0);
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	m->tcp_client = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(m->tcp_client, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	m->tcp_server = accept(lfd, NULL, NULL);
	close(lfd);
	return m->tcp_server < 0 ? -1 : 0;
}

/* New descriptors of the program's own, then copies of them on every number. */
static int open_mine(struct mine *m)
{
	int src[4];

	m->file = open("/dev/shm/log_closeall.tmp", O_RDWR | O_CREAT | O_TRUNC,
		       0600);
	unlink("/dev/shm/log_closeall.tmp");
	if (m->file < 0 || pipe(m->pipefd) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, m->pair) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, m->dpair) < 0 || tcp_pair(m) < 0)
		return -1;
	src[0] = m->tcp_client;
	src[1] = m->pair[0];
	src[2] = m->dpair[0];
	src[3] = m->pipefd[1];
	for (int i = 0;; i++) {
		int fd = i % 5 == 4 ? dup(m->file) : dup(src[i % 4]);
		if (fd < 0)
			return -1;
		if (fd >= FILL_TO)
			break;
	}
	return 0;
}

/* 1 if any of the program's descriptors holds a byte it did not write. */
static int leaked(const struct mine *m)
{
	char buf[64];
	struct stat st;

	if (recv(m->tcp_server, buf, sizeof(buf), MSG_DONTWAIT) >= 0 ||
	    recv(m->pair[1], buf, sizeof(buf), MSG_DONTWAIT) >= 0 ||
	    recv(m->dpair[1], buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		return 1;
	fcntl(m->pipefd[0], F_SETFL, O_NONBLOCK);
	if (read(m->pipefd[0], buf, sizeof(buf)) >= 0)
		return 1;
	return fstat(m->file, &st) < 0 || st.st_size != 0;
}

int main(int argc, char **argv)
{
	struct mine m;
	int port = argc > 2 ? atoi(argv[2]) : 1;

	if (argc < 3)
		return 2;
	refused(port);		/* the shim's log socket is surely open now */
	close_everything(argv[1]);
	if (open_mine(&m) < 0)
		return 2;
	for (int i = 0; i < 5; i++)
		refused(port);
	return leaked(&m);
}
