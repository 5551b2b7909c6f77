/*
 * A plain program whose TCP options the tests read back, to see what the
 * shim's keepalive, user_timeout, sndbuf, rcvbuf and connect_timeout keys
 * did (or must not do) to real sockets.
 *
 *   so_probe connect HOST PORT [FLAG]...   one connect() to HOST:PORT
 *   so_probe serve PORT [FLAG]...          listen on 127.0.0.1:PORT, accept one
 *   so_probe victim REFUSED RESET          connect to a refused port, then
 *                                          write to a connection reset by its
 *                                          peer with SIGPIPE at its default;
 *                                          prints "secure=" getauxval(AT_SECURE)
 *
 * Flags: own (set keepalive 100,20,3, user_timeout 777, SO_SNDBUF and
 * SO_RCVBUF 24576 itself, before connect or on the listener), ka0
 * (SO_KEEPALIVE 0 itself), nb (non-blocking connect, outcome read with
 * getsockopt(SO_ERROR) after poll), alarm (alarm(1) with a handler bounds a
 * blocking connect), inherit (serve: the listener comes from the parent
 * through exec, as with socket activation; the options are set after exec),
 * hold=MS (stay connected and idle MS ms before exit), after=MS (after a
 * failed connect, wait MS ms and print the socket's state again),
 * sndtimeo=MS (SO_SNDTIMEO, which bounds a blocking connect(2) too).
 *
 * Prints "connect rc=R errno=NAME elapsed=MS nonblock=0|1" for connect and
 * "opts ka= idle= intvl= cnt= uto= snd= rcv= wscale= state=" for a socket
 * (wscale: the receive window scale it announced; state: tcpi_state);
 * victim prints "conn ..." for the connection to the resetting peer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

#define OWN_BUF 24576

struct flags {
	int own, ka0, nb, alarm, inherit, hold_ms, after_ms, sndtimeo_ms, fd;
};

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EINTR: return "EINTR";
	case EINPROGRESS: return "EINPROGRESS";
	case EALREADY: return "EALREADY";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case EPIPE: return "EPIPE";
	case EISCONN: return "EISCONN";
	default: return strerror(e);
	}
}

static int get_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, name, &v, &len) < 0)
		return -1;
	return v;
}

static void set_int(int fd, int level, int name, int v)
{
	if (setsockopt(fd, level, name, &v, sizeof(v)) < 0)
		printf("setsockopt %d/%d: %s\n", level, name, strerror(errno));
}

static void print_opts(const char *tag, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	printf("%s ka=%d idle=%d intvl=%d cnt=%d uto=%d snd=%d rcv=%d "
	       "wscale=%d state=%d\n", tag,
	       get_int(fd, SOL_SOCKET, SO_KEEPALIVE),
	       get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE),
	       get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL),
	       get_int(fd, IPPROTO_TCP, TCP_KEEPCNT),
	       get_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT),
	       get_int(fd, SOL_SOCKET, SO_SNDBUF),
	       get_int(fd, SOL_SOCKET, SO_RCVBUF),
	       ti.tcpi_rcv_wscale, ti.tcpi_state);
	fflush(stdout);
}

/* What a careful program sets for itself, and the shim must leave alone. */
static void own_options(int fd, const struct flags *f)
{
	if (f->own) {
		set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
		set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, 100);
		set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, 20);
		set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 3);
		set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 777);
		set_int(fd, SOL_SOCKET, SO_SNDBUF, OWN_BUF);
		set_int(fd, SOL_SOCKET, SO_RCVBUF, OWN_BUF);
	}
	if (f->ka0)
		set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 0);
	if (f->sndtimeo_ms > 0) {
		struct timeval tv = { f->sndtimeo_ms / 1000,
				      (f->sndtimeo_ms % 1000) * 1000 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
}

static int parse_addr(const char *host, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		return sizeof(*in);
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return sizeof(*in6);
	}
	return -1;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void arm_alarm(void)
{
	struct sigaction a;

	memset(&a, 0, sizeof(a));
	a.sa_handler = on_alarm;
	sigemptyset(&a.sa_mask);
	sigaction(SIGALRM, &a, NULL);
	alarm(1);
}

/* A non-blocking connect as event loops do it: poll, then SO_ERROR. */
static int connect_nonblocking(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pollfd p = { fd, POLLOUT, 0 };

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	print_opts("pending", fd);
	if (poll(&p, 1, 5000) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	int err = get_int(fd, SOL_SOCKET, SO_ERROR);
	printf("so_error=%s\n", errname(err));
	errno = err;
	return err ? -1 : 0;
}

static void hold(int ms)
{
	if (ms > 0)
		usleep((useconds_t)ms * 1000);
}

static int do_connect(const char *host, int port, const struct flags *f)
{
	struct sockaddr_storage ss;
	int len = parse_addr(host, port, &ss);

	if (len < 0)
		return 2;
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	own_options(fd, f);
	if (f->alarm)
		arm_alarm();
	long t0 = now_ms();
	int r = f->nb ? connect_nonblocking(fd, (struct sockaddr *)&ss, len)
		      : connect(fd, (struct sockaddr *)&ss, (socklen_t)len);
	int err = r < 0 ? errno : 0;
	alarm(0);
	printf("connect rc=%d errno=%s elapsed=%ld nonblock=%d\n", r,
	       errname(err), now_ms() - t0,
	       (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
	print_opts("opts", fd);
	if (r < 0 && f->after_ms > 0) {
		hold(f->after_ms);
		print_opts("later", fd);
	}
	hold(f->hold_ms);
	close(fd);
	return 0;
}

static int listener(int port)
{
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&in, sizeof(in)) < 0) {
		printf("bind: %s\n", strerror(errno));
		exit(2);
	}
	return fd;
}

/* Socket activation: the parent listens, the server gets the descriptor. */
static void exec_with_listener(char **argv, int port)
{
	char fdarg[32];
	int fd = listener(port);

	/*
	 * Bound, not listening yet: the exec'd image listens after setting its
	 * options, so no client can be queued (and get the listener's options
	 * of the moment) before the program has set its own.
	 */
	snprintf(fdarg, sizeof(fdarg), "fd=%d", fd);
	char *args[] = { argv[0], "serve", argv[2], "own", fdarg, NULL };
	execv("/proc/self/exe", args);
	printf("exec: %s\n", strerror(errno));
	exit(2);
}

static int do_serve(char **argv, int port, const struct flags *f)
{
	if (f->inherit)
		exec_with_listener(argv, port);
	int lfd = f->fd >= 0 ? f->fd : listener(port);
	own_options(lfd, f);
	listen(lfd, 8);
	printf("listening\n");
	fflush(stdout);
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		printf("accept: %s\n", strerror(errno));
		return 1;
	}
	print_opts("opts", fd);
	hold(f->hold_ms);
	return 0;
}

/* Writes until the reset connection answers EPIPE (or SIGPIPE kills us). */
static int do_victim(int refused, int reset)
{
	struct flags none = { .fd = -1 };
	int fd, err = 0;

	signal(SIGPIPE, SIG_DFL);
	printf("secure=%lu\n", getauxval(AT_SECURE));
	do_connect("127.0.0.1", refused, &none);
	struct sockaddr_storage ss;
	socklen_t len = (socklen_t)parse_addr("127.0.0.1", reset, &ss);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		printf("connect reset peer: %s\n", strerror(errno));
		return 2;
	}
	print_opts("conn", fd);
	usleep(200000);
	for (int i = 0; i < 20 && err != EPIPE; i++) {
		if (write(fd, "x", 1) < 0)
			err = errno;
		usleep(20000);
	}
	printf("survived errno=%s\n", errname(err));
	return 0;
}

static void parse_flags(int argc, char **argv, struct flags *f)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		f->own |= strcmp(a, "own") == 0;
		f->ka0 |= strcmp(a, "ka0") == 0;
		f->nb |= strcmp(a, "nb") == 0;
		f->alarm |= strcmp(a, "alarm") == 0;
		f->inherit |= strcmp(a, "inherit") == 0;
		if (strncmp(a, "hold=", 5) == 0)
			f->hold_ms = atoi(a + 5);
		if (strncmp(a, "after=", 6) == 0)
			f->after_ms = atoi(a + 6);
		if (strncmp(a, "sndtimeo=", 9) == 0)
			f->sndtimeo_ms = atoi(a + 9);
		if (strncmp(a, "fd=", 3) == 0)
			f->fd = atoi(a + 3);
	}
}

int main(int argc, char **argv)
{
	struct flags f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && strcmp(argv[1], "connect") == 0) {
		parse_flags(argc - 4, argv + 4, &f);
		return do_connect(argv[2], atoi(argv[3]), &f);
	}
	if (argc >= 3 && strcmp(argv[1], "serve") == 0) {
		parse_flags(argc - 3, argv + 3, &f);
		return do_serve(argv, atoi(argv[2]), &f);
	}
	if (argc == 4 && strcmp(argv[1], "victim") == 0)
		return do_victim(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: so_probe connect HOST PORT [FLAG]... | "
		"serve PORT [FLAG]... | victim REFUSED RESET\n");
	return 2;
}
