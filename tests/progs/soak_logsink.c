/*
 * A log receiver for long runs: binds a unix datagram socket and counts the
 * lines that arrive (by class), printing the counts when terminated.
 *
 * usage: soak_logsink SOCKET
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t done;

static void on_term(int sig)
{
	(void)sig;
	done = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char line[4096];
	long lines = 0, resets = 0;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sun.sun_path))
		return 2;
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return 1;
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	while (!done) {
		ssize_t n = recv(fd, line, sizeof(line) - 1, 0);
		if (n <= 0)
			continue;
		line[n] = '\0';
		lines++;
		if (strstr(line, "class=reset"))
			resets++;
	}
	printf("lines=%ld resets=%ld\n", lines, resets);
	return 0;
}
