/*
 * A legacy-style server for the `sockguard set` tests: it exits on any
 * accept or recv error, as much old code does, so whether the shim retried
 * an error or handed it over shows in whether the server lives on.
 *
 *   set_server PORT
 *
 * Listens on 127.0.0.1:PORT and prints "ready PID".  SIGWINCH and SIGUSR1
 * have handlers installed without SA_RESTART, so each interrupts a blocked
 * recv with EINTR.  A connection sends commands, one per line, until it
 * ends; the answers are one line each:
 *   ping   "pong"
 *   sock   creates and closes a TCP socket (an adoption point), "ok"
 *   uto    this connection's TCP_USER_TIMEOUT in milliseconds
 *   count  how many times the SIGWINCH and SIGUSR1 handlers ran, "W U"
 *   view   "own" when sigaction(2) reads back both handlers as installed
 * An accept error prints "fatal: accept: ..." and exits 3; a recv error
 * prints "fatal: recv: ..." and exits 4.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "progs.h"

static volatile sig_atomic_t winched, usr1ed;

static void on_winch(int sig)
{
	(void)sig;
	winched++;
}

static void on_usr1(int sig)
{
	(void)sig;
	usr1ed++;
}

static int handler_is(int sig, void (*fn)(int))
{
	struct sigaction old;

	return sigaction(sig, NULL, &old) == 0 && old.sa_handler == fn &&
	       !(old.sa_flags & SA_SIGINFO);
}

/* One line from c into buf; 0 at the end of the connection. */
static int read_line(int c, char *buf, size_t len)
{
	size_t n = 0;

	for (;;) {
		char ch;
		ssize_t r = recv(c, &ch, 1, 0);
		if (r < 0) {
			printf("fatal: recv: %s\n", strerror(errno));
			exit(4);
		}
		if (r == 0)
			return 0;
		if (ch == '\n' || n + 1 >= len)
			break;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return 1;
}

static void answer(int c, const char *cmd)
{
	char out[64] = "?";
	int v = 0;
	socklen_t len = sizeof(v);

	if (strcmp(cmd, "ping") == 0) {
		snprintf(out, sizeof(out), "pong");
	} else if (strcmp(cmd, "sock") == 0) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		snprintf(out, sizeof(out), s >= 0 ? "ok" : "socket failed");
		close(s);
	} else if (strcmp(cmd, "uto") == 0) {
		getsockopt(c, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, &len);
		snprintf(out, sizeof(out), "%d", v);
	} else if (strcmp(cmd, "count") == 0) {
		snprintf(out, sizeof(out), "%d %d", (int)winched, (int)usr1ed);
	} else if (strcmp(cmd, "view") == 0) {
		snprintf(out, sizeof(out), handler_is(SIGWINCH, on_winch) &&
			 handler_is(SIGUSR1, on_usr1) ? "own" : "other");
	}
	strcat(out, "\n");
	if (send(c, out, strlen(out), MSG_NOSIGNAL) < 0)
		return;
}

int main(int argc, char **argv)
{
	char cmd[64];

	if (argc < 2)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	install(SIGWINCH, on_winch);
	install(SIGUSR1, on_usr1);
	int l = loopback_listener(atoi(argv[1]));
	printf("ready %d\n", (int)getpid());
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0) {
			printf("fatal: accept: %s\n", strerror(errno));
			return 3;
		}
		while (read_line(c, cmd, sizeof(cmd)))
			answer(c, cmd);
		close(c);
	}
}
