/*
 * bench_sink: the log receiver for the error-path benchmark of `make
 * bench`: it stands in for syslogd at `log=unix:PATH`.
 *
 *   bench_sink dgram|stream PATH MAX_SECONDS
 *
 * Binds a Unix socket at PATH, reads and discards everything written to it,
 * and exits after MAX_SECONDS, or earlier on SIGTERM/SIGINT, printing the
 * number of messages (datagrams or stream reads) and bytes it received.
 * It never runs under the shim (the script starts it without LD_PRELOAD).
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int bind_at(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	if (type == SOCK_STREAM && listen(fd, MAX_CONN) < 0)
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	struct pollfd p[MAX_CONN + 1];
	struct sigaction sa = { .sa_handler = on_signal };
	static char buf[65536];
	unsigned long long msgs = 0, bytes = 0;
	int stream, nfd = 1, fd;
	time_t end;

	if (argc != 4 || (strcmp(argv[1], "dgram") && strcmp(argv[1], "stream"))) {
		fprintf(stderr, "usage: bench_sink dgram|stream PATH MAX_SECONDS\n");
		return 2;
	}
	stream = !strcmp(argv[1], "stream");
	end = time(NULL) + atoi(argv[3]);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = bind_at(argv[2], stream ? SOCK_STREAM : SOCK_DGRAM);
	if (fd < 0) {
		perror("bench_sink: bind");
		return 1;
	}
	p[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (!stop && time(NULL) < end) {
		if (poll(p, nfd, 200) <= 0)
			continue;
		if (stream && (p[0].revents & POLLIN) && nfd <= MAX_CONN) {
			int c = accept(fd, NULL, NULL);

			if (c >= 0)
				p[nfd++] = (struct pollfd){ .fd = c, .events = POLLIN };
		}
		for (int i = stream ? 1 : 0; i < nfd; i++) {
			ssize_t r;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			/*
			 * Drain the queue: a Unix datagram socket holds only
			 * net.unix.max_dgram_qlen (10) datagrams, and a writer that
			 * does not block drops what does not fit.
			 */
			while ((r = recv(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
				msgs++;
				bytes += (unsigned long long)r;
			}
			if (r == 0 && stream) {
				close(p[i].fd);
				p[i--] = p[--nfd];
			}
		}
	}
	unlink(argv[2]);
	printf("%llu %llu\n", msgs, bytes);
	return 0;
}
