/*
 * A server that exits on any accept error, as much legacy code does.
 *
 *   ea_strict_server PORT accept|accept4
 *
 * Listens on 127.0.0.1:PORT, accepts one connection, reads a line and
 * answers "pong\n", then exits 0.  Any accept error prints "fatal: ..." and
 * exits 3.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "progs.h"

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	int l = loopback_listener(atoi(argv[1]));
	int c = strcmp(argv[2], "accept4") == 0 ?
		accept4(l, NULL, NULL, SOCK_CLOEXEC) : accept(l, NULL, NULL);
	if (c < 0) {
		printf("fatal: %s: %s\n", argv[2], strerror(errno));
		return 3;
	}
	char buf[64];
	ssize_t n = read(c, buf, sizeof buf);
	if (n <= 0 || write(c, "pong\n", 5) != 5)
		return 4;
	printf("served\n");
	close(c);
	close(l);
	return 0;
}
