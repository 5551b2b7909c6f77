/*
 * A target for `sockguard tune` and `sockguard audit`: connects to
 * 127.0.0.1:PORT, prints "ready", then blocks in read() on the connection.
 * It answers each "q" line from the peer with its own view of the socket
 * (getsockopt), and when read() fails it prints the error and exits 3.
 * Built dynamically and, as tune_target_static, with -static; it needs
 * nothing but libc.  With "uring" it also holds an io_uring instance, made
 * with the raw io_uring_setup(2) system call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

static int get_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, level, name, &v, &len);
	return v;
}

static void answer(int fd)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "keepalive=%d idle=%d intvl=%d cnt=%d "
			 "user_timeout=%d\n", get_int(fd, SOL_SOCKET, SO_KEEPALIVE),
			 get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE),
			 get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL),
			 get_int(fd, IPPROTO_TCP, TCP_KEEPCNT),
			 get_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT));
	if (write(fd, buf, (size_t)n) != n)
		exit(4);
}

/* An io_uring instance; its params struct is 120 bytes of which only the
 * kernel's output matters here, so a zeroed buffer stands in for it. */
static void make_uring(void)
{
	unsigned char params[120] = { 0 };

	if (syscall(SYS_io_uring_setup, 4, params) < 0) {
		printf("io_uring_setup: %s\n", strerror(errno));
		exit(5);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char c;

	if (argc < 2)
		return 2;
	if (argc > 2 && strcmp(argv[2], "uring") == 0)
		make_uring();
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("connect: %s\n", strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = read(fd, &c, 1);
		if (n < 0) {
			printf("read: %s\n", errno == ETIMEDOUT ? "ETIMEDOUT" :
			       strerror(errno));
			return 3;
		}
		if (n == 0) {
			printf("read: end of file\n");
			return 0;
		}
		if (c == 'q')
			answer(fd);
	}
}
