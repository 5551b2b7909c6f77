/*
 * A legacy line server of the kind that dies of "Interrupted system call":
 * its SIGCHLD handler is installed with sa_flags = 0 (no SA_RESTART), a
 * worker thread forks a child that exits at once every few milliseconds,
 * and a blocking accept() or read() that fails with EINTR is fatal.
 *
 *   sig_server PORT COUNT [term]
 *
 * Listens on 127.0.0.1:PORT, prints "listening", and echoes one line per
 * connection until COUNT lines were served ("served N", exit 0).  A
 * connection closed before its line is not counted.  With "term", a SIGTERM
 * handler (no SA_RESTART) sets a flag that the accept loop checks after
 * EINTR: "stopped", exit 0.  Any other EINTR: "accept: Interrupted system
 * call" (exit 3) or "read: ..." (exit 4).
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

#define FORK_EVERY_MS 2
#define FORKER_MAX_MS 30000	/* the forker stops by itself after this */

static volatile sig_atomic_t stop, reaped;

static void on_chld(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		reaped++;
	errno = saved;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Forks a child that exits at once, every FORK_EVERY_MS. */
static void *forker(void *arg)
{
	sigset_t set;
	struct timespec ts = { 0, FORK_EVERY_MS * 1000000L };

	(void)arg;
	/* SIGCHLD and SIGTERM go to the main thread, blocked in accept/read. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < FORKER_MAX_MS / FORK_EVERY_MS && !stop; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static int listen_on(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((unsigned short)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 128) < 0) {
		printf("listen: %s\n", strerror(errno));
		exit(2);
	}
	return fd;
}

/* Reads one line and writes it back; returns 1 when a line was served. */
static int serve(int c)
{
	char line[256];
	size_t used = 0;

	while (used < sizeof(line)) {
		ssize_t n = read(c, line + used, sizeof(line) - used);
		if (n < 0) {
			printf("read: %s (after %d SIGCHLD)\n", strerror(errno),
			       (int)reaped);
			exit(4);
		}
		if (n == 0)
			return 0;
		used += (size_t)n;
		if (memchr(line, '\n', used))
			break;
	}
	return write(c, line, used) == (ssize_t)used;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int served = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3) {
		fprintf(stderr, "usage: sig_server PORT COUNT [term]\n");
		return 2;
	}
	int count = atoi(argv[2]);
	int lfd = listen_on(atoi(argv[1]));
	install(SIGCHLD, on_chld);
	if (argc > 3 && strcmp(argv[3], "term") == 0)
		install(SIGTERM, on_term);
	pthread_create(&t, NULL, forker, NULL);
	printf("listening\n");
	while (served < count) {
		int c = accept(lfd, NULL, NULL);
		if (c < 0 && errno == EINTR && stop) {
			printf("stopped after %d (%d SIGCHLD)\n", served, (int)reaped);
			return 0;
		}
		if (c < 0) {
			printf("accept: %s (after %d SIGCHLD)\n", strerror(errno),
			       (int)reaped);
			return 3;
		}
		served += serve(c);
		close(c);
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("served %d (%d SIGCHLD)\n", served, (int)reaped);
	return 0;
}
