/*
 * Socket calls made before any constructor has run (a preinit_array
 * function, which runs before every shared library's initialiser, the
 * shim's included): they must work exactly as without the shim.
 * Prints "preinit: ok" and exits 0, or says what failed and exits 1.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int preinit_result = -1;
static char preinit_what[128];

static void early(int argc, char **argv, char **envp)
{
	int sv[2];
	char buf[8];
	struct pollfd pfd;

	(void)argc; (void)argv; (void)envp;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		snprintf(preinit_what, sizeof(preinit_what), "socketpair: %d", errno);
		return;
	}
	pfd.fd = sv[1];
	pfd.events = POLLIN;
	if (send(sv[0], "ping", 4, 0) != 4 || poll(&pfd, 1, 1000) != 1 ||
	    recv(sv[1], buf, sizeof(buf), 0) != 4 || memcmp(buf, "ping", 4) != 0) {
		snprintf(preinit_what, sizeof(preinit_what), "exchange: %d", errno);
		return;
	}
	if (read(sv[1], buf, 0) != 0 || close(sv[0]) != 0 || close(sv[1]) != 0) {
		snprintf(preinit_what, sizeof(preinit_what), "close: %d", errno);
		return;
	}
	preinit_result = 0;
}

__attribute__((section(".preinit_array"), used))
static void (*const preinit_hook)(int, char **, char **) = early;

int main(void)
{
	if (preinit_result != 0) {
		printf("preinit: failed (%s)\n", preinit_what);
		return 1;
	}
	printf("preinit: ok\n");
	return 0;
}
