/*
 * The demo's log receiver: binds a unix datagram socket (the shim's
 * `log=unix:PATH` destination) and prints each line as it arrives, to stdout
 * and appended to a file, until it is terminated.
 *
 * usage: logrecv SOCKET FILE
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char line[8192];

	if (argc != 3 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: logrecv SOCKET FILE\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		perror("logrecv");
		return 1;
	}
	FILE *out = fopen(argv[2], "a");
	if (!out) {
		perror(argv[2]);
		return 1;
	}
	for (;;) {
		ssize_t n = recv(fd, line, sizeof(line) - 1, 0);
		if (n <= 0)
			continue;
		line[n] = '\0';
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		/* Skip the "<PRI>Mmm dd hh:mm:ss " header on the screen. */
		char *shown = strstr(line, "sockguard[");
		printf("    | %s\n", shown ? shown : line);
		fflush(stdout);
		fprintf(out, "%s\n", line);
		fflush(out);
	}
}
