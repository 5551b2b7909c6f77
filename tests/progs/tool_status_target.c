/*
 * A process for the `sockguard status` tests: connects COUNT times to a
 * port on 127.0.0.1 where nothing listens (each one an ECONNREFUSED, class
 * refused), prints "ready N" with the number of refusals it saw, and then
 * waits to be killed, so that its counters can be read while it lives.
 * With a third argument it first takes that as its name (prctl(2)
 * PR_SET_NAME), as any process may, control bytes included.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int refused_once(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return 0;
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	int refused = rc < 0 && errno == ECONNREFUSED;
	close(fd);
	return refused;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: tool_status_target COUNT PORT [NAME]\n");
		return 2;
	}
	if (argc == 4 && prctl(PR_SET_NAME, argv[3], 0, 0, 0) != 0) {
		perror("prctl");
		return 1;
	}
	int count = atoi(argv[1]), port = atoi(argv[2]), refused = 0;

	for (int i = 0; i < count; i++)
		refused += refused_once(port);
	printf("ready %d\n", refused);
	fflush(stdout);
	for (;;)
		pause();
}
