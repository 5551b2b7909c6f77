/*
 * A poll()-driven server with RLIMIT_NOFILE 32 that never closes the
 * connections it accepts, and treats EMFILE as "try again": without help
 * its loop spins, since the listener stays readable while the backlog is
 * full of connections it cannot accept.
 *
 *   ea_leaky_server PORT SECONDS [inherit|late_rlimit|fd=N]
 *
 * inherit: listen, then exec itself with the listener inherited (as under
 * systemd socket activation or inetd: the new image only accepts).
 * late_rlimit: lower RLIMIT_NOFILE to 32 only after listen().
 * Runs for SECONDS, then prints "accepted=N emfile=M eagain=K" and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

/* A non-blocking listener on 127.0.0.1:port, inheritable across exec. */
static int open_listener(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    listen(l, 128) < 0) {
		printf("setup-failed: %s\n", strerror(errno));
		exit(2);
	}
	return l;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	long accepted = 0, emfile = 0, eagain = 0;

	if (argc < 3)
		return 2;
	const char *how = argc > 3 ? argv[3] : "";
	setvbuf(stdout, NULL, _IONBF, 0);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 32;
	if (strcmp(how, "late_rlimit") != 0 && setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 2;
	int l = strncmp(how, "fd=", 3) == 0 ? atoi(how + 3) :
		open_listener(atoi(argv[1]));
	if (strcmp(how, "late_rlimit") == 0 && setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 2;
	if (strcmp(how, "inherit") == 0) {
		char fdarg[32];
		snprintf(fdarg, sizeof fdarg, "fd=%d", l);
		execl(argv[0], argv[0], argv[1], argv[2], fdarg, (char *)NULL);
		return 2;
	}
	long end = now_ms() + atol(argv[2]) * 1000;
	while (now_ms() < end) {
		struct pollfd p = { l, POLLIN, 0 };
		if (poll(&p, 1, 100) <= 0)
			continue;
		int c = accept4(l, NULL, NULL, SOCK_NONBLOCK);
		if (c >= 0)
			accepted++;	/* leaked on purpose */
		else if (errno == EMFILE || errno == ENFILE)
			emfile++;
		else if (errno == EAGAIN)
			eagain++;
	}
	printf("accepted=%ld emfile=%ld eagain=%ld\n", accepted, emfile, eagain);
	return 0;
}
