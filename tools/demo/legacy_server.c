/*
 * A deliberately old-fashioned server for `make demo`: the kind of code
 * sockguard is for.  It checks every error, but treats any accept() or
 * read() error as fatal (so EINTR and ECONNABORTED kill it), never thought
 * about SIGPIPE, and installs its SIGCHLD handler without SA_RESTART.  Its
 * "log rotation" forks a short-lived child after each request.
 *
 * usage: legacy_server PORTFILE
 * Writes the port it listens on (127.0.0.1) to PORTFILE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_child(int sig)
{
	int saved = errno;
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static int listen_on_loopback(const char *portfile)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		perror("legacy_server: listen");
		exit(1);
	}
	FILE *f = fopen(portfile, "w");
	if (!f) {
		perror(portfile);
		exit(1);
	}
	fprintf(f, "%d\n", ntohs(sin.sin_port));
	fclose(f);
	return fd;
}

/* The reply: two writes, as many old servers do (header, then body). */
static void serve(int fd, int *served)
{
	char req[256], body[65536];
	ssize_t n = read(fd, req, sizeof(req));
	if (n < 0) {
		perror("legacy_server: read");
		exit(1);
	}
	if (n == 0) {
		close(fd);
		return;
	}
	memset(body, 'x', sizeof(body));
	usleep(100000);	/* a slow backend: the client may be gone by now */
	if (write(fd, "HTTP/1.0 200 OK\r\n\r\n", 19) < 0 ||
	    (usleep(100000), write(fd, body, sizeof(body)) < 0)) {
		perror("legacy_server: write (closing that connection)");
		close(fd);
		return;
	}
	close(fd);
	(*served)++;
}

/* "Log rotation": a helper process that lives 100 ms. */
static void rotate_logs(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		usleep(100000);
		_exit(0);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	int served = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: legacy_server PORTFILE\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sa.sa_flags = 0;	/* no SA_RESTART: accept() fails with EINTR */
	sigaction(SIGCHLD, &sa, NULL);
	int lfd = listen_on_loopback(argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			fprintf(stderr, "legacy_server: accept: %s -- giving up after "
				"%d requests\n", strerror(errno), served);
			return 1;
		}
		serve(fd, &served);
		printf("legacy_server: %d requests served\n", served);
		rotate_logs();
	}
}
