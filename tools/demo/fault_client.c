/*
 * The other side of `make demo`: makes requests to the legacy server and
 * produces one fault at a time.
 *
 * usage: fault_client PORT normal|hangup
 *   normal: a request, reading the whole reply; prints "ok N bytes"
 *   hangup: sends a request and closes at once without reading, so the
 *           server's second write meets a reset connection (EPIPE, SIGPIPE)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int dial(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("fault_client: connect");
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	char buf[65536];
	long total = 0;
	ssize_t n;

	if (argc != 3) {
		fprintf(stderr, "usage: fault_client PORT normal|hangup\n");
		return 2;
	}
	int fd = dial(atoi(argv[1]));
	if (write(fd, "GET / HTTP/1.0\r\n\r\n", 18) < 0) {
		perror("fault_client: write");
		return 1;
	}
	if (strcmp(argv[2], "hangup") == 0) {
		close(fd);
		printf("hung up before the reply\n");
		return 0;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0 || total == 0) {
		printf("no reply (server gone?)\n");
		return 1;
	}
	printf("ok %ld bytes\n", total);
	return 0;
}
