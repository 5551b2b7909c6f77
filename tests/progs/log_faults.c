/*
 * A plain program that meets one network fault, for the log tests: it knows
 * nothing of sockguard and only does what legacy code does.  It prints the
 * errno each call returned (as the program saw it) on stdout.
 *
 *   log_faults reset PORT          recv on a connection the peer resets
 *   log_faults refused PORT        blocking connect to a closed port
 *   log_faults refused_nb PORT     non-blocking connect, poll, SO_ERROR
 *   log_faults connect PORT        blocking connect (timeout, unreachable)
 *   log_faults rcvtimeo PORT       recv with SO_RCVTIMEO 200 ms, no data
 *   log_faults pipe PORT           send after shutdown(SHUT_WR)
 *   log_faults emfile              accept with no descriptor left
 *   log_faults accept              accept one connection (for strace faults)
 *   log_faults fork PORT           one refused connect, then two in a child
 *   log_faults refused2 PORT       3 refused connects to 127.0.0.1, then one
 *                                  to 127.0.0.2
 *   log_faults storm PORT N        N connections reset by the peer
 *   log_faults refused_loop PORT N N refused connects, prints elapsed ms
 *   log_faults flood N             N connections to 400 loopback addresses
 *                                  (127.0.0.1-127.0.1.200), each reset by a
 *                                  server child listening on all of them
 *   log_faults killed PORT N       N refused connects 300 ms apart, then
 *                                  SIGKILL to itself (no exit summary)
 *   log_faults quiet               meets no fault: lists its descriptors
 *   log_faults emfile_closed PORT  a refused connect (a logged line), then
 *                                  close_range(3, ~0U), then accept with no
 *                                  descriptor left and two clients pending
 *   log_faults eof PORT CALL       sends a request with CALL (send, write,
 *                                  writev, sendmsg, sendmmsg, sendfile) to a
 *                                  peer that closed its side, then recv: 0
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <dirent.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return sin;
}

static int tcp_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		perror("socket");
		exit(2);
	}
	return fd;
}

/* connect(); returns 0 or errno. */
static int do_connect(int fd, int port)
{
	struct sockaddr_in sin = loopback(port);

	return connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ? errno : 0;
}

static void report(const char *what, int err)
{
	printf("%s=%s\n", what, err ? strerrorname_np(err) : "ok");
}

static int connected(int port)
{
	int fd = tcp_socket();
	int err = do_connect(fd, port);

	if (err) {
		report("connect", err);
		exit(3);
	}
	return fd;
}

/* A reset may come on connect already when the peer is quick to close. */
static int reset_once(int port)
{
	int fd = tcp_socket();
	int err = do_connect(fd, port);
	char c;

	if (!err)
		err = recv(fd, &c, 1, 0) < 0 ? errno : 0;
	close(fd);
	return err;
}

static int run_refused_nb(int port)
{
	int fd = tcp_socket();
	struct pollfd pfd = { fd, POLLOUT, 0 };
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	report("connect", do_connect(fd, port));
	poll(&pfd, 1, 5000);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	report("so_error", soerr);
	return 0;
}

static int run_rcvtimeo(int port)
{
	int fd = connected(port);
	struct timeval tv = { 0, 200000 };
	char c;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	report("recv", recv(fd, &c, 1, 0) < 0 ? errno : 0);
	return 0;
}

static int run_pipe(int port)
{
	int fd = connected(port);

	shutdown(fd, SHUT_WR);
	report("send", send(fd, "x", 1, 0) < 0 ? errno : 0);
	return 0;
}

/* A listener with one client already connected to it. */
static int listener_with_client(void)
{
	struct sockaddr_in sin = loopback(0);
	socklen_t len = sizeof(sin);
	int lfd = tcp_socket();

	bind(lfd, (struct sockaddr *)&sin, sizeof(sin));
	listen(lfd, 8);
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	connected(ntohs(sin.sin_port));
	return lfd;
}

/* One more client connected to the listener lfd. */
static void connected_to_listener(int lfd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	getsockname(lfd, (struct sockaddr *)&sin, &len);
	connected(ntohs(sin.sin_port));
}

/* Every descriptor below a small limit used up, so accept() meets EMFILE. */
static int run_emfile(void)
{
	int lfd = listener_with_client();
	struct rlimit rl = { 64, 64 };

	setrlimit(RLIMIT_NOFILE, &rl);
	while (open("/dev/null", O_RDONLY) >= 0)
		;
	/* Non-blocking: after shedding, a blocking listener would wait on. */
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	report("accept", accept(lfd, NULL, NULL) < 0 ? errno : 0);
	return 0;
}

static int run_emfile_closed(int port)
{
	struct rlimit rl = { 64, 64 };
	int lfd;

	report("connect", do_connect(tcp_socket(), port));
	close_range(3, ~0U, 0);
	lfd = listener_with_client();
	connected_to_listener(lfd);
	setrlimit(RLIMIT_NOFILE, &rl);
	while (open("/dev/null", O_RDONLY) >= 0)
		;
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 2; i++)
		report("accept", accept(lfd, NULL, NULL) < 0 ? errno : 0);
	return 0;
}

static int run_accept(void)
{
	int lfd = listener_with_client();

	report("accept", accept(lfd, NULL, NULL) < 0 ? errno : 0);
	return 0;
}

static int run_refused2(int port)
{
	struct sockaddr_in sin = loopback(port);

	for (int i = 0; i < 3; i++)
		do_connect(tcp_socket(), port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
	report("connect", connect(tcp_socket(), (struct sockaddr *)&sin,
				  sizeof(sin)) < 0 ? errno : 0);
	return 0;
}

static int run_fork(int port)
{
	int status = 0;
	pid_t pid;

	report("connect", do_connect(tcp_socket(), port));
	pid = fork();
	if (pid == 0) {
		do_connect(tcp_socket(), port);
		do_connect(tcp_socket(), port);
		exit(0);
	}
	waitpid(pid, &status, 0);
	return status;
}

static int run_storm(int port, int n)
{
	int resets = 0;

	for (int i = 0; i < n; i++)
		resets += reset_once(port) == ECONNRESET;
	printf("resets=%d\n", resets);
	return 0;
}

static int run_refused_loop(int port, int n)
{
	long start = now_ms();
	int refused = 0;

	for (int i = 0; i < n; i++) {
		int fd = tcp_socket();
		refused += do_connect(fd, port) == ECONNREFUSED;
		close(fd);
	}
	printf("refused=%d elapsed_ms=%ld\n", refused, now_ms() - start);
	return 0;
}

/* A child that resets every connection made to any 127.x.y.z:port. */
static pid_t reset_server(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct linger lg = { 1, 0 };
	int lfd = tcp_socket();
	pid_t pid;

	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, 512) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) < 0)
		exit(4);
	*port = ntohs(sin.sin_port);
	pid = fork();
	if (pid == 0) {
		for (;;) {
			int c = accept(lfd, NULL, NULL);

			if (c < 0)
				continue;
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(c);
		}
	}
	close(lfd);
	return pid;
}

static int run_flood(int n)
{
	int port, resets = 0;
	pid_t server = reset_server(&port);

	for (int i = 0; i < n; i++) {
		struct sockaddr_in sin = loopback(port);
		int fd = tcp_socket();
		char c;
		int err;

		sin.sin_addr.s_addr = htonl(0x7f000000u | (i % 400 / 200) << 8 |
					    (i % 200 + 1));
		err = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ?
			      errno : 0;
		if (!err)
			err = recv(fd, &c, 1, 0) < 0 ? errno : 0;
		resets += err == ECONNRESET;
		close(fd);
	}
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	printf("resets=%d\n", resets);
	return 0;
}

static int run_killed(int port, int n)
{
	for (int i = 0; i < n; i++) {
		int fd = tcp_socket();

		report("connect", do_connect(fd, port));
		close(fd);
		usleep(300000);
	}
	raise(SIGKILL);
	return 0;
}

/*
 * One request of 4 bytes with call (the vector calls with one element, as
 * most programs make them); returns what the call returned.
 */
static long send_request(int fd, const char *call)
{
	struct iovec iov[1] = { { "GET\n", 4 } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 1 };
	struct mmsghdr mm = { .msg_hdr = m };

	if (strcmp(call, "send") == 0)
		return send(fd, "GET\n", 4, 0);
	if (strcmp(call, "write") == 0)
		return write(fd, "GET\n", 4);
	if (strcmp(call, "writev") == 0)
		return writev(fd, iov, 1);
	if (strcmp(call, "sendmsg") == 0)
		return sendmsg(fd, &m, 0);
	if (strcmp(call, "sendmmsg") == 0)
		return sendmmsg(fd, &mm, 1, 0) == 1 ? (long)mm.msg_len : -1;
	if (strcmp(call, "sendfile") == 0) {
		char path[] = "/tmp/log_faults-XXXXXX";
		int in = mkstemp(path);
		long r = -1;
		if (in >= 0 && unlink(path) == 0 && write(in, "GET\n", 4) == 4)
			r = sendfile(fd, in, &(off_t){ 0 }, 4);
		close(in);
		return r;
	}
	fprintf(stderr, "log_faults: unknown call %s\n", call);
	exit(2);
}

/* "Server terminated prematurely": the reply awaited is an end of file. */
static int run_eof(int port, const char *call)
{
	int fd = connected(port);
	long sent = send_request(fd, call);
	char buf[16];

	printf("%s=%ld ", call, sent);
	report("recv", recv(fd, buf, sizeof(buf), 0) == 0 ? 0 : EPROTO);
	close(fd);
	return 0;
}

/* Prints "fds=0,1,2,..." : the descriptors open at the start of main. */
static int run_quiet(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int self = d ? dirfd(d) : -1;

	printf("fds=");
	while (d && (e = readdir(d))) {
		if (e->d_name[0] != '.' && atoi(e->d_name) != self)
			printf("%s,", e->d_name);
	}
	printf("\n");
	if (d)
		closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	int port = argc > 2 ? atoi(argv[2]) : 0;
	int n = argc > 3 ? atoi(argv[3]) : 1;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(what, "reset") == 0)
		report("recv", reset_once(port));
	else if (strcmp(what, "refused") == 0 || strcmp(what, "connect") == 0)
		report("connect", do_connect(tcp_socket(), port));
	else if (strcmp(what, "refused_nb") == 0)
		return run_refused_nb(port);
	else if (strcmp(what, "rcvtimeo") == 0)
		return run_rcvtimeo(port);
	else if (strcmp(what, "pipe") == 0)
		return run_pipe(port);
	else if (strcmp(what, "emfile") == 0)
		return run_emfile();
	else if (strcmp(what, "accept") == 0)
		return run_accept();
	else if (strcmp(what, "refused2") == 0)
		return run_refused2(port);
	else if (strcmp(what, "fork") == 0)
		return run_fork(port);
	else if (strcmp(what, "storm") == 0)
		return run_storm(port, n);
	else if (strcmp(what, "refused_loop") == 0)
		return run_refused_loop(port, n);
	else if (strcmp(what, "flood") == 0)
		return run_flood(port);
	else if (strcmp(what, "killed") == 0)
		return run_killed(port, n);
	else if (strcmp(what, "quiet") == 0)
		return run_quiet();
	else if (strcmp(what, "emfile_closed") == 0)
		return run_emfile_closed(port);
	else if (strcmp(what, "eof") == 0 && argc > 3)
		return run_eof(port, argv[3]);
	else
		return 2;
	return 0;
}
