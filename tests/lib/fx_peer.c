/*
 * Sockets and misbehaving peers on 127.0.0.1.  Each peer is a forked child
 * that owns the listening socket, so a test can connect as soon as the
 * function returns (the backlog holds the connection) and can kill the peer
 * whenever it wants a dead one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_int.h"

static void fx_loopback(struct sockaddr_in *sin, int port)
{
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int fx_bound_tcp(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return fx__fail("socket: %s", strerror(errno));
	fx_loopback(&sin, 0);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		fx__fail("bind 127.0.0.1:0: %s", strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

int fx_listen_tcp(int *port)
{
	int fd = fx_bound_tcp(port);

	if (fd >= 0 && listen(fd, 64) < 0) {
		fx__fail("listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The kernel does not hand the same ephemeral port out again at once, so a
 * port released here stays closed for the length of a test.
 */
int fx_closed_port(void)
{
	int port = -1;
	int fd = fx_bound_tcp(&port);

	if (fd < 0)
		return -1;
	close(fd);
	return port;
}

int fx_connect_tcp(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return fx__fail("socket: %s", strerror(errno));
	fx_loopback(&sin, port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		fx__fail("connect 127.0.0.1:%d: %s", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void fx_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void fx_echo(int c)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(c, buf, sizeof buf)) > 0)
		if (write(c, buf, n) != n)
			break;
}

static void fx_reset(int c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

/* Half-close: no more data from us, but keep reading what the client sends. */
static void fx_halfclose(int c)
{
	char buf[4096];

	shutdown(c, SHUT_WR);
	while (read(c, buf, sizeof buf) > 0)
		;
}

enum fx_peer_kind { FX_PEER_ECHO, FX_PEER_RESET, FX_PEER_HALFCLOSE };

static void fx_serve(int lfd, enum fx_peer_kind kind, int delay_ms)
{
	if (delay_ms > 0)
		fx_sleep_ms(delay_ms);
	for (;;) {
		int c = accept(lfd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			_exit(1);
		}
		if (kind == FX_PEER_ECHO)
			fx_echo(c);
		else if (kind == FX_PEER_RESET)
			fx_reset(c);
		else
			fx_halfclose(c);
		close(c);
	}
}

static pid_t fx_peer(int *port, enum fx_peer_kind kind, int delay_ms)
{
	int lfd = fx_listen_tcp(port);
	pid_t pid;

	if (lfd < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(lfd);
		return fx__fail("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_IGN);
		fx_serve(lfd, kind, delay_ms);
	}
	setpgid(pid, pid);
	close(lfd);
	return pid;
}

pid_t fx_peer_echo(int *port)
{
	return fx_peer(port, FX_PEER_ECHO, 0);
}

pid_t fx_peer_reset(int *port)
{
	return fx_peer(port, FX_PEER_RESET, 0);
}

pid_t fx_peer_halfclose(int *port)
{
	return fx_peer(port, FX_PEER_HALFCLOSE, 0);
}

pid_t fx_peer_late_accept(int *port, int ms)
{
	return fx_peer(port, FX_PEER_ECHO, ms);
}

/* SIGTERM first so servers clean up, SIGKILL if they have not gone in 2 s. */
void fx_stop(pid_t pid)
{
	long deadline = fx_now_ms() + 2000;

	if (pid <= 0)
		return;
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	while (waitpid(pid, NULL, WNOHANG) == 0) {
		if (fx_now_ms() > deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			break;
		}
		fx_sleep_ms(10);
	}
	kill(-pid, SIGKILL);
}

int fx_wait_port(int port, int timeout_ms)
{
	long deadline = fx_now_ms() + timeout_ms;

	do {
		int fd = fx_connect_tcp(port);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		fx_sleep_ms(20);
	} while (fx_now_ms() < deadline);
	return fx__fail("nothing accepted on 127.0.0.1:%d within %d ms", port,
			timeout_ms);
}
