/*
 * transparency [FAMILY]...
 *
 * Calls every function the shim intercepts, on success and on the errors
 * the shim does not handle, and prints one line per call: a label that
 * starts with the function's name, the return value and, on failure, the
 * errno name.  tests/integration/test_transparency.c runs it with and
 * without the shim and compares the lines, so the output must depend on
 * nothing but the calls' results: descriptor numbers are printed as "fd"
 * (the shim may hold descriptors of its own), ports and times not at all.
 *
 * Built with -O2 -D_FORTIFY_SOURCE=2: reads into arrays of known size with
 * a length the compiler cannot see become __read_chk, __recv_chk,
 * __recvfrom_chk, __poll_chk and __ppoll_chk.
 *
 * Bad pointers are handed only to calls that go straight to the kernel,
 * which answers EFAULT; a libc function that copies its argument first
 * (sigaction) would crash instead.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

/*
 * Values the compiler cannot fold: a bad pointer it cannot warn about, and
 * lengths it cannot see, so that fortified calls become their _chk form.
 */
static void *volatile bad_ptr = (void *)1;
#define BAD_PTR ((void *)bad_ptr)
static volatile size_t opaque_len = 64;
static volatile nfds_t opaque_nfds = 2;
static volatile int minus_one = -1;

static char tmpdir[256];

/* Prints "label ret errno": the result of the call just made. */
static long chk(const char *label, long ret)
{
	int err = errno;

	if (ret < 0)
		printf("%-36s %ld %s\n", label, ret, strerrorname_np(err));
	else
		printf("%-36s %ld\n", label, ret);
	errno = err;
	return ret;
}

/* The same for calls that return a descriptor: its number is not shown. */
static int chkfd(const char *label, int ret)
{
	int err = errno;

	if (ret < 0)
		printf("%-36s %d %s\n", label, ret, strerrorname_np(err));
	else
		printf("%-36s fd\n", label);
	errno = err;
	return ret;
}

/* A value the call produced besides its result. */
static void val(const char *label, const char *fmt, long v)
{
	printf("%-36s ", label);
	printf(fmt, v);
	putchar('\n');
}

static void loopback(struct sockaddr_in *sin, int port)
{
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* A connected TCP pair over loopback, made without printing. */
static void tcp_pair(int *a, int *b)
{
	int port, lfd = fx_listen_tcp(&port);

	*a = fx_connect_tcp(port);
	*b = accept(lfd, NULL, NULL);
	close(lfd);
	if (*a < 0 || *b < 0) {
		fprintf(stderr, "tcp_pair: %s\n", strerror(errno));
		exit(2);
	}
}

/* Two UDP sockets on loopback, each connected to the other. */
static void udp_pair(int *a, int *b)
{
	struct sockaddr_in sa, sb;
	socklen_t len = sizeof sa;

	*a = socket(AF_INET, SOCK_DGRAM, 0);
	*b = socket(AF_INET, SOCK_DGRAM, 0);
	loopback(&sa, 0);
	bind(*a, (struct sockaddr *)&sa, sizeof sa);
	bind(*b, (struct sockaddr *)&sa, sizeof sa);
	getsockname(*a, (struct sockaddr *)&sa, &len);
	len = sizeof sb;
	getsockname(*b, (struct sockaddr *)&sb, &len);
	connect(*a, (struct sockaddr *)&sb, sizeof sb);
	connect(*b, (struct sockaddr *)&sa, sizeof sa);
}

/*
 * A descriptor number that is closed and stays closed: far above the ones
 * the program opens (a freed low number would be reused by the next
 * socket), below FD_SETSIZE so that select can be handed it, and below
 * the numbers the shim takes for its own descriptors (from 64 below the
 * soft limit, at most 1024, or 3/4 of a small limit, upwards), which may
 * appear at any time.
 */
static int closed_fd(void)
{
	long max = sysconf(_SC_OPEN_MAX);
	int fd = max > 1100 ? 700 : (int)(max / 2);

	while (fcntl(fd, F_GETFD) >= 0)
		fd++;
	return fd;
}

static int pipe_read_end(void)
{
	int p[2];

	if (pipe(p) < 0)
		exit(2);
	return p[0];
}

static int temp_file(const char *name, int flags)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return open(path, flags | O_CREAT, 0600);
}

/* ---- socket, socketpair, listen, setsockopt, getsockopt ---- */

static void socket_create(void)
{
	int sv[2];

	chkfd("socket.badtype", socket(AF_INET, 12345, 0));
	chkfd("socket.badfamily", socket(9999, SOCK_STREAM, 0));
	chkfd("socket.badproto", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	chk("socketpair.unix", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	chk("socketpair.inet", socketpair(AF_INET, SOCK_STREAM, 0, sv));
	chk("socketpair.efault", socketpair(AF_UNIX, SOCK_STREAM, 0, BAD_PTR));
}

static void socket_setsockopt(int s, int p, int bad)
{
	int one = 1;
	struct timeval tv = { 2, 500000 }, tv_out;
	socklen_t len = sizeof tv_out;

	chk("setsockopt.reuseaddr",
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
	chk("setsockopt.ebadf",
	    setsockopt(bad, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
	chk("setsockopt.enotsock",
	    setsockopt(p, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
	chk("setsockopt.enoprotoopt",
	    setsockopt(s, SOL_SOCKET, 9999, &one, sizeof one));
	chk("setsockopt.einval.len", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 0));
	chk("setsockopt.efault",
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, BAD_PTR, sizeof one));
	chk("setsockopt.rcvtimeo",
	    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	chk("getsockopt.rcvtimeo",
	    getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv_out, &len));
	val("getsockopt.rcvtimeo.value", "%ld", tv_out.tv_sec * 1000000 + tv_out.tv_usec);
}

static void socket_getsockopt(int s, int p, int bad)
{
	int v = 0;
	socklen_t len = sizeof v;

	chk("getsockopt.type", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
	val("getsockopt.type.value", "%ld", v);
	val("getsockopt.type.len", "%ld", len);
	chk("getsockopt.error", getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len));
	val("getsockopt.error.value", "%ld", v);
	chk("getsockopt.keepalive", getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, &len));
	val("getsockopt.keepalive.value", "%ld", v);
	chk("getsockopt.ebadf", getsockopt(bad, SOL_SOCKET, SO_TYPE, &v, &len));
	chk("getsockopt.enotsock", getsockopt(p, SOL_SOCKET, SO_TYPE, &v, &len));
	chk("getsockopt.enoprotoopt", getsockopt(s, SOL_SOCKET, 9999, &v, &len));
	chk("getsockopt.efault.len", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, BAD_PTR));
	len = (socklen_t)minus_one;
	chk("getsockopt.einval.len", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
}

static void family_socket(void)
{
	int s, p = pipe_read_end(), bad = closed_fd();

	s = chkfd("socket.tcp", socket(AF_INET, SOCK_STREAM, 0));
	socket_create();
	socket_setsockopt(s, p, bad);
	socket_getsockopt(s, p, bad);
	chk("listen.ok", listen(s, 4));
	chk("listen.ebadf", listen(bad, 4));
	chk("listen.enotsock", listen(p, 4));
	chk("listen.udp", listen(socket(AF_INET, SOCK_DGRAM, 0), 4));
}

/* ---- connect ---- */

/* The outcome of a non-blocking connect: at once, or through SO_ERROR. */
static void connect_nonblocking(const char *label, int port)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
	socklen_t len = sizeof err;
	char name[64];

	loopback(&sin, port);
	if (connect(s, (struct sockaddr *)&sin, sizeof sin) < 0 &&
	    errno != EINPROGRESS) {
		err = errno;
	} else {
		pfd = (struct pollfd){ s, POLLOUT, 0 };
		poll(&pfd, 1, 5000);
		snprintf(name, sizeof name, "%s.so_error", label);
		chk(name, getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len));
	}
	/* Loopback may finish at once or not: only the outcome is printed. */
	printf("%-36s %s\n", label, err ? strerrorname_np(err) : "connected");
	close(s);
}

static void connect_unix(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	int b = socket(AF_UNIX, SOCK_STREAM, 0);

	if (snprintf(sun.sun_path, sizeof sun.sun_path, "%s/absent", tmpdir) >=
	    (int)sizeof sun.sun_path)
		exit(2);
	chk("connect.unix.enoent", connect(s, (struct sockaddr *)&sun, sizeof sun));
	if (snprintf(sun.sun_path, sizeof sun.sun_path, "%s/bound", tmpdir) >=
	    (int)sizeof sun.sun_path)
		exit(2);
	bind(b, (struct sockaddr *)&sun, sizeof sun);
	chk("connect.unix.notlistening",
	    connect(s, (struct sockaddr *)&sun, sizeof sun));
	listen(b, 1);
	chk("connect.unix.ok", connect(s, (struct sockaddr *)&sun, sizeof sun));
	close(s);
	close(b);
}

static void family_connect(void)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	int port, lfd = fx_listen_tcp(&port), refused = fx_closed_port();
	int s = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr unspec = { .sa_family = 0 };	/* unspecified family */

	loopback(&sin, port);
	chk("connect.ebadf", connect(closed_fd(), (struct sockaddr *)&sin, sizeof sin));
	chk("connect.enotsock", connect(pipe_read_end(), (struct sockaddr *)&sin, sizeof sin));
	chk("connect.efault", connect(s, BAD_PTR, sizeof sin));
	chk("connect.einval.len", connect(s, (struct sockaddr *)&sin, 3));
	chk("connect.eafnosupport", connect(s, (struct sockaddr *)&sin6, sizeof sin6));
	chk("connect.ok", connect(s, (struct sockaddr *)&sin, sizeof sin));
	chk("connect.eisconn", connect(s, (struct sockaddr *)&sin, sizeof sin));
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	loopback(&sin, refused);
	chk("connect.econnrefused", connect(s, (struct sockaddr *)&sin, sizeof sin));
	close(s);
	connect_nonblocking("connect.nonblock.ok", port);
	connect_nonblocking("connect.nonblock.refused", refused);
	chk("connect.udp", connect(u, (struct sockaddr *)&sin, sizeof sin));
	chk("connect.udp.unspec", connect(u, &unspec, sizeof unspec));
	connect_unix();
	close(lfd);
}

/* ---- accept, accept4 ---- */

static void accept_flags(const char *label, int fd)
{
	char name[64];

	snprintf(name, sizeof name, "%s.cloexec", label);
	val(name, "%ld", fcntl(fd, F_GETFD) & FD_CLOEXEC);
	snprintf(name, sizeof name, "%s.nonblock", label);
	val(name, "%ld", !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
}

static void accept_errors(int lfd, int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), c;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	chkfd("accept.ebadf", accept(closed_fd(), NULL, NULL));
	chkfd("accept.enotsock", accept(pipe_read_end(), NULL, NULL));
	chkfd("accept.einval.notlistening", accept(s, NULL, NULL));
	chkfd("accept.udp", accept(socket(AF_INET, SOCK_DGRAM, 0), NULL, NULL));
	chkfd("accept4.einval.flags", accept4(lfd, NULL, NULL, 0x7fff0000));
	c = fx_connect_tcp(port);
	chkfd("accept.efault.addr", accept(lfd, BAD_PTR, &len));
	close(c);
	close(s);
}

static void family_accept(void)
{
	int port, lfd = fx_listen_tcp(&port), c, fd;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	struct pollfd pfd;

	c = fx_connect_tcp(port);
	fd = chkfd("accept.ok", accept(lfd, (struct sockaddr *)&sin, &len));
	val("accept.ok.addrlen", "%ld", len);
	val("accept.ok.family", "%ld", sin.sin_family);
	accept_flags("accept.ok", fd);
	close(fd);
	close(c);
	c = fx_connect_tcp(port);
	fd = chkfd("accept4.ok", accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK));
	accept_flags("accept4.ok", fd);
	close(fd);
	close(c);
	accept_errors(lfd, port);
	/* Watched first, so that no EAGAIN policy waits before answering. */
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	pfd = (struct pollfd){ lfd, POLLIN, 0 };
	chk("poll.listener.idle", poll(&pfd, 1, 0));
	chkfd("accept.eagain", accept(lfd, NULL, NULL));
	chkfd("accept4.eagain", accept4(lfd, NULL, NULL, SOCK_CLOEXEC));
	close(lfd);
}

/* ---- send, sendto, sendmsg, sendmmsg, recv, recvfrom, recvmsg, recvmmsg ---- */

static void sendrecv_tcp_ok(int a, int b)
{
	char buf[64];
	struct sockaddr_in from;
	socklen_t flen = sizeof from;
	struct iovec iov[2] = { { "ab", 2 }, { "cde", 3 } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t n = opaque_len;

	chk("send.ok", send(a, "hello", 5, 0));
	chk("recv.peek", recv(b, buf, 2, MSG_PEEK));
	chk("recv.ok.chk", recv(b, buf, n, 0));
	chk("sendto.ok.noaddr", sendto(a, "world", 5, 0, NULL, 0));
	chk("recvfrom.ok.chk", recvfrom(b, buf, n, 0, (struct sockaddr *)&from, &flen));
	val("recvfrom.ok.addrlen", "%ld", flen);
	chk("sendmsg.ok", sendmsg(a, &msg, 0));
	iov[0] = (struct iovec){ buf, 1 };
	iov[1] = (struct iovec){ buf + 1, 10 };
	chk("recvmsg.ok", recvmsg(b, &msg, 0));
	val("recvmsg.ok.flags", "%ld", msg.msg_flags);
	printf("%-36s %.5s\n", "recvmsg.ok.data", buf);
	chk("recv.dontwait.eagain", recv(b, buf, sizeof buf, MSG_DONTWAIT));
	chk("recv.oob.einval", recv(b, buf, sizeof buf, MSG_OOB));
}

static void sendrecv_tcp_errors(int a, int b)
{
	char buf[64];
	struct sockaddr_in sin;
	int bad = closed_fd(), p = pipe_read_end();
	int u = socket(AF_INET, SOCK_STREAM, 0);

	chk("send.ebadf", send(bad, "x", 1, 0));
	chk("send.enotsock", send(p, "x", 1, 0));
	chk("send.efault", send(a, BAD_PTR, 5, 0));
	chk("send.epipe.unconnected", send(u, "x", 1, MSG_NOSIGNAL));
	chk("recv.enotconn", recv(u, buf, sizeof buf, 0));
	chk("recv.ebadf", recv(bad, buf, sizeof buf, 0));
	chk("recvfrom.enotsock", recvfrom(p, buf, sizeof buf, 0, NULL, NULL));
	chk("sendmsg.efault", sendmsg(a, BAD_PTR, 0));
	chk("recvmsg.efault", recvmsg(b, BAD_PTR, 0));
	send(a, "data", 4, 0);
	chk("recv.efault.buf", recv(b, BAD_PTR, 4, 0));
	chk("recvfrom.efault.addrlen", recvfrom(b, buf, 4, 0, (struct sockaddr *)&sin, BAD_PTR));
	recv(b, buf, sizeof buf, MSG_DONTWAIT);
	close(u);
}

static void sendrecv_udp(void)
{
	char b1[16], b2[16], big[70000] = "";
	struct iovec v1 = { b1, sizeof b1 }, v2 = { b2, sizeof b2 };
	struct iovec s1 = { "one", 3 }, s2 = { "three", 5 };
	struct mmsghdr out[2] = { { { .msg_iov = &s1, .msg_iovlen = 1 }, 0 },
				  { { .msg_iov = &s2, .msg_iovlen = 1 }, 0 } };
	struct mmsghdr in[2] = { { { .msg_iov = &v1, .msg_iovlen = 1 }, 0 },
				 { { .msg_iov = &v2, .msg_iovlen = 1 }, 0 } };
	struct sockaddr_in sin;
	int a, b, u = socket(AF_INET, SOCK_DGRAM, 0);

	udp_pair(&a, &b);
	chk("sendmmsg.ok", sendmmsg(a, out, 2, 0));
	chk("recvmmsg.ok", recvmmsg(b, in, 2, 0, NULL));
	val("recvmmsg.ok.len0", "%ld", in[0].msg_len);
	val("recvmmsg.ok.len1", "%ld", in[1].msg_len);
	chk("recvmmsg.dontwait.eagain", recvmmsg(b, in, 2, MSG_DONTWAIT, NULL));
	chk("sendmmsg.ebadf", sendmmsg(closed_fd(), out, 2, 0));
	chk("recvmmsg.ebadf", recvmmsg(closed_fd(), in, 2, 0, NULL));
	chk("sendmmsg.efault", sendmmsg(a, BAD_PTR, 2, 0));
	chk("send.udp.edestaddrreq", send(u, "x", 1, 0));
	loopback(&sin, 9);
	chk("sendto.udp.emsgsize", sendto(u, big, sizeof big, 0, (struct sockaddr *)&sin, sizeof sin));
	chk("sendto.udp.einval.len", sendto(u, "x", 1, 0, (struct sockaddr *)&sin, 3));
	close(a);
	close(b);
	close(u);
}

/* EOF after a half-close, then a reset; both are returned as they are. */
static void sendrecv_peer_gone(void)
{
	char buf[64];
	int a, b;
	struct linger lg = { 1, 0 };

	tcp_pair(&a, &b);
	shutdown(b, SHUT_WR);
	chk("recv.eof", recv(a, buf, sizeof buf, 0));
	close(a);
	close(b);
	/* A fresh pair: after a FIN, an RST would read as EPIPE. */
	tcp_pair(&a, &b);
	setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(b);
	chk("recv.econnreset", recv(a, buf, sizeof buf, 0));
	chk("send.after.reset", send(a, "x", 1, MSG_NOSIGNAL));
	close(a);
}

static void family_sendrecv(void)
{
	int a, b;

	tcp_pair(&a, &b);
	sendrecv_tcp_ok(a, b);
	sendrecv_tcp_errors(a, b);
	close(a);
	close(b);
	sendrecv_udp();
	sendrecv_peer_gone();
}

/* ---- read, write, readv, writev ---- */

static void readwrite_socket(void)
{
	char buf[64], c1[3], c2[8];
	struct iovec w[2] = { { "xyz", 3 }, { "uvw", 3 } };
	struct iovec r[2] = { { c1, sizeof c1 }, { c2, sizeof c2 } };
	size_t n = opaque_len;
	int a, b;
	struct pollfd pfd;
	long start;

	tcp_pair(&a, &b);
	chk("write.socket", write(a, "hello", 5));
	chk("read.socket.chk", read(b, buf, n));
	chk("writev.socket", writev(a, w, 2));
	chk("readv.socket", readv(b, r, 2));
	printf("%-36s %.3s%.3s\n", "readv.socket.data", c1, c2);
	fcntl(b, F_SETFL, O_NONBLOCK);
	pfd = (struct pollfd){ b, POLLIN, 0 };
	chk("poll.socket.idle", poll(&pfd, 1, 0));
	start = fx_now_ms();
	chk("read.socket.nonblock.eagain", read(b, buf, sizeof buf));
	val("read.socket.nonblock.waited", "%ld", fx_now_ms() - start > 1000);
	close(a);
	chk("read.socket.eof", read(b, buf, sizeof buf));
	close(b);
}

static void readwrite_pipe(void)
{
	char buf[64];
	int p[2];
	long start;

	chk("pipe", pipe(p));
	chk("write.pipe", write(p[1], "abc", 3));
	chk("read.pipe.chk", read(p[0], buf, opaque_len));
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	start = fx_now_ms();
	chk("read.pipe.nonblock.eagain", read(p[0], buf, sizeof buf));
	/* A pipe is not a socket: no EAGAIN policy may wait on it. */
	val("read.pipe.nonblock.waited", "%ld", fx_now_ms() - start > 1000);
	close(p[0]);
	chk("write.pipe.epipe", write(p[1], "x", 1));
	close(p[1]);
}

static void readwrite_file(void)
{
	char buf[64];
	struct iovec r[1] = { { buf, sizeof buf } };
	int f = temp_file("rw", O_RDWR | O_TRUNC), wo = temp_file("wo", O_WRONLY);
	int dir = open(tmpdir, O_RDONLY | O_DIRECTORY);

	chk("write.file", write(f, "0123456789", 10));
	lseek(f, 0, SEEK_SET);
	chk("read.file", read(f, buf, 4));
	chk("readv.file", readv(f, r, 1));
	chk("read.file.eof", read(f, buf, sizeof buf));
	lseek(f, 0, SEEK_SET);
	chk("read.efault", read(f, BAD_PTR, 4));
	chk("read.ebadf.writeonly", read(wo, buf, sizeof buf));
	chk("read.eisdir", read(dir, buf, sizeof buf));
	chk("write.ebadf", write(closed_fd(), "x", 1));
	chk("write.devnull", write(open("/dev/null", O_WRONLY), "abc", 3));
	chk("readv.einval.count", readv(f, r, minus_one));
	chk("readv.efault.iov", readv(f, BAD_PTR, 1));
	chk("writev.zero", writev(f, r, 0));
	chk("writev.ebadf", writev(closed_fd(), r, 1));
	close(f);
	close(wo);
	close(dir);
}

static void family_readwrite(void)
{
	readwrite_socket();
	readwrite_pipe();
	readwrite_file();
}

/* ---- sendfile ---- */

static void family_sendfile(void)
{
	char block[1000], buf[2048];
	int f = temp_file("sf", O_RDWR | O_TRUNC), wo = temp_file("sfwo", O_WRONLY);
	int a, b, p[2];
	off_t off = 0;

	memset(block, 'z', sizeof block);
	if (write(f, block, sizeof block) != sizeof block || pipe(p) < 0)
		exit(2);
	tcp_pair(&a, &b);
	chk("sendfile.socket.offset", sendfile(a, f, &off, sizeof block));
	val("sendfile.socket.offset.after", "%ld", off);
	chk("sendfile.socket.received", recv(b, buf, sizeof block, MSG_WAITALL));
	lseek(f, 500, SEEK_SET);
	chk("sendfile.socket.position", sendfile(a, f, NULL, 4096));
	chk("sendfile.ebadf.out", sendfile(closed_fd(), f, NULL, 10));
	chk("sendfile.ebadf.in.writeonly", sendfile(a, wo, NULL, 10));
	chk("sendfile.einval.in.socket", sendfile(a, b, NULL, 10));
	chk("sendfile.efault.offset", sendfile(a, f, BAD_PTR, 10));
	off = 0;
	chk("sendfile.pipe", sendfile(p[1], f, &off, 100));
	off = 0;
	chk("sendfile.file", sendfile(wo, f, &off, 100));
	close(a);
	close(b);
	close(f);
	close(wo);
}

/* ---- poll, ppoll ---- */

static void poll_ready(int a, int b)
{
	struct pollfd p[2] = { { a, POLLIN, 0 }, { b, POLLIN | POLLOUT, 0 } };
	struct timespec zero = { 0, 0 };

	chk("poll.idle.chk", poll(p, opaque_nfds, 0));
	chk("poll.timeout.20ms", poll(p, 1, 20));
	send(b, "x", 1, 0);
	chk("poll.ready.chk", poll(p, opaque_nfds, 1000));
	val("poll.ready.revents0", "%ld", p[0].revents);
	val("poll.ready.revents1", "%ld", p[1].revents);
	chk("ppoll.ready.chk", ppoll(p, opaque_nfds, &zero, NULL));
	val("ppoll.ready.revents0", "%ld", p[0].revents);
	recv(a, p, 1, 0);
}

/* More entries than RLIMIT_NOFILE: EINVAL (poll(2)), from a real array. */
static void poll_too_many(void)
{
	struct rlimit rl;
	nfds_t n;
	struct pollfd *many;

	getrlimit(RLIMIT_NOFILE, &rl);
	n = rl.rlim_cur + 1;
	many = calloc(n, sizeof *many);
	for (nfds_t i = 0; many && i < n; i++)
		many[i].fd = -1;
	chk("poll.einval.nfds", many ? poll(many, n, 0) : -1);
	free(many);
}

static void family_poll(void)
{
	struct pollfd p[2];
	struct timespec neg = { -1, 0 }, ms20 = { 0, 20000000 };
	sigset_t mask;
	int a, b;

	tcp_pair(&a, &b);
	poll_ready(a, b);
	p[0] = (struct pollfd){ closed_fd(), POLLIN, 0 };
	p[1] = (struct pollfd){ -1, POLLIN, 0 };
	chk("poll.closed.fd", poll(p, 2, 0));
	val("poll.closed.fd.revents", "%ld", p[0].revents);
	val("poll.negative.fd.revents", "%ld", p[1].revents);
	chk("poll.efault", poll(BAD_PTR, 1, 0));
	poll_too_many();
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	p[0] = (struct pollfd){ a, POLLIN, 0 };
	chk("ppoll.timeout.20ms.mask", ppoll(p, 1, &ms20, &mask));
	chk("ppoll.einval.timeout", ppoll(p, 1, &neg, NULL));
	chk("ppoll.efault", ppoll(BAD_PTR, 1, &ms20, NULL));
	close(a);
	close(b);
}

/* ---- select, pselect ---- */

static void family_select(void)
{
	fd_set r, w;
	struct timeval zero = { 0, 0 }, ms20 = { 0, 20000 }, neg = { -1, 0 };
	struct timespec ts = { 0, 0 };
	int a, b, bad;

	tcp_pair(&a, &b);
	FD_ZERO(&r);
	FD_SET(a, &r);
	chk("select.idle", select(a + 1, &r, NULL, NULL, &zero));
	FD_SET(a, &r);
	chk("select.timeout.20ms", select(a + 1, &r, NULL, NULL, &ms20));
	send(b, "x", 1, 0);
	FD_SET(a, &r);
	FD_ZERO(&w);
	FD_SET(b, &w);
	chk("select.ready", select((a > b ? a : b) + 1, &r, &w, NULL, NULL));
	val("select.ready.a", "%ld", FD_ISSET(a, &r));
	val("select.ready.b", "%ld", FD_ISSET(b, &w));
	FD_SET(a, &r);
	chk("pselect.ready", pselect(a + 1, &r, NULL, NULL, &ts, NULL));
	chk("select.einval.nfds", select(-1, NULL, NULL, NULL, &zero));
	chk("select.einval.timeout", select(a + 1, &r, NULL, NULL, &neg));
	/* select only looks as far as the descriptor table: a low closed one. */
	bad = dup(a);
	close(bad);
	FD_ZERO(&r);
	FD_SET(bad, &r);
	chk("select.ebadf", select(bad + 1, &r, NULL, NULL, &zero));
	chk("pselect.efault", pselect(a + 1, BAD_PTR, NULL, NULL, &ts, NULL));
	close(a);
	close(b);
}

/* ---- epoll_create1, epoll_ctl, epoll_wait, epoll_pwait ---- */

static void family_epoll(void)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	int a, b, f = temp_file("ep", O_RDWR), ep, bad = closed_fd();
	sigset_t mask;

	tcp_pair(&a, &b);
	ep = chkfd("epoll_create1.ok", epoll_create1(EPOLL_CLOEXEC));
	chkfd("epoll_create1.einval", epoll_create1(12345));
	chk("epoll_ctl.add", epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev));
	chk("epoll_ctl.add.eexist", epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev));
	chk("epoll_ctl.mod.enoent", epoll_ctl(ep, EPOLL_CTL_MOD, b, &ev));
	chk("epoll_ctl.ebadf", epoll_ctl(bad, EPOLL_CTL_ADD, a, &ev));
	chk("epoll_ctl.einval.self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
	chk("epoll_ctl.eperm.file", epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev));
	chk("epoll_ctl.efault", epoll_ctl(ep, EPOLL_CTL_ADD, b, BAD_PTR));
	chk("epoll_wait.idle", epoll_wait(ep, out, 4, 0));
	chk("epoll_wait.timeout.20ms", epoll_wait(ep, out, 4, 20));
	send(b, "x", 1, 0);
	chk("epoll_wait.ready", epoll_wait(ep, out, 4, 1000));
	val("epoll_wait.ready.events", "%ld", out[0].events);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	chk("epoll_pwait.ready", epoll_pwait(ep, out, 4, 0, &mask));
	chk("epoll_wait.einval.max", epoll_wait(ep, out, 0, 0));
	chk("epoll_wait.efault", epoll_wait(ep, BAD_PTR, 4, 0));
	chk("epoll_wait.einval.notepoll", epoll_wait(a, out, 4, 0));
	chk("epoll_pwait.ebadf", epoll_pwait(bad, out, 4, 0, &mask));
	chk("epoll_ctl.del", epoll_ctl(ep, EPOLL_CTL_DEL, a, NULL));
	chk("epoll_ctl.del.enoent", epoll_ctl(ep, EPOLL_CTL_DEL, a, NULL));
	chk("close.epoll", close(ep));
	close(a);
	close(b);
	close(f);
}

/* ---- close, dup, dup2, dup3, fcntl, close_range ---- */

static void family_fd_dup(int s)
{
	int bad = closed_fd();

	chkfd("dup.ok", dup(s));
	chkfd("dup.ebadf", dup(bad));
	val("dup2.ok.is.newfd", "%ld", dup2(s, 100) == 100);
	chk("dup2.same", dup2(s, s) == s);
	chkfd("dup2.ebadf", dup2(bad, 101));
	chkfd("dup2.ebadf.newfd", dup2(s, -1));
	chkfd("dup3.einval.same", dup3(s, s, 0));
	chkfd("dup3.einval.flags", dup3(s, 101, 12345));
	val("dup3.cloexec.is.newfd", "%ld", dup3(s, 101, O_CLOEXEC) == 101);
	val("dup3.cloexec.flag", "%ld", fcntl(101, F_GETFD));
}

static void family_fd(void)
{
	int a, b;

	tcp_pair(&a, &b);
	family_fd_dup(a);
	chk("fcntl.getfl", fcntl(a, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	chk("fcntl.setfl.nonblock", fcntl(a, F_SETFL, O_NONBLOCK));
	chk("fcntl.getfl.after", fcntl(a, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	val("fcntl.dupfd.cloexec.min", "%ld", fcntl(a, F_DUPFD_CLOEXEC, 200) >= 200);
	chk("fcntl.getfd", fcntl(a, F_GETFD));
	chk("fcntl.ebadf", fcntl(closed_fd(), F_GETFL));
	chk("fcntl.einval.cmd", fcntl(a, 99999));
	chk("close_range.ok", close_range(100, 101, 0));
	chk("close.after.close_range", close(100));
	chk("close_range.einval.order", close_range(5, 4, 0));
	chk("close_range.einval.flags", close_range(100, 101, 0x7fff));
	/* Everything from 300 up, whatever the shim may keep there. */
	chk("close_range.high", close_range(300, ~0u, 0));
	chk("close.ok", close(b));
	chk("close.ebadf", close(b));
	chk("send.after.close_range", send(a, "x", 1, MSG_NOSIGNAL));
	close(a);
}

/* ---- signal, sigaction ---- */

static volatile sig_atomic_t hits_a, hits_b;

static void handler_a(int sig)
{
	hits_a++;
}

static void handler_b(int sig, siginfo_t *si, void *uc)
{
	hits_b++;
}

static const char *handler_name(void *h)
{
	if (h == (void *)SIG_DFL)
		return "SIG_DFL";
	if (h == (void *)SIG_IGN)
		return "SIG_IGN";
	if (h == (void *)handler_a)
		return "handler_a";
	if (h == (void *)handler_b)
		return "handler_b";
	return h == (void *)SIG_ERR ? "SIG_ERR" : "other";
}

static void show_signal(const char *label, sighandler_t old)
{
	int err = errno;

	printf("%-36s %s %s\n", label, handler_name((void *)old),
	       old == SIG_ERR ? strerrorname_np(err) : "-");
}

/* SA_RESTORER is glibc's own business, not the program's. */
static void show_action(const char *label, const struct sigaction *sa)
{
	printf("%-36s %s flags=%#x usr2masked=%d\n", label,
	       handler_name((void *)sa->sa_handler),
	       (unsigned)sa->sa_flags & ~0x04000000u, sigismember(&sa->sa_mask, SIGUSR2));
}

static void family_signal_sigaction(void)
{
	struct sigaction act = { .sa_sigaction = handler_b,
				 .sa_flags = SA_SIGINFO | SA_RESTART }, old;

	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, SIGUSR2);
	chk("sigaction.set", sigaction(SIGUSR1, &act, &old));
	show_action("sigaction.set.old", &old);
	chk("sigaction.query", sigaction(SIGUSR1, NULL, &old));
	show_action("sigaction.query.old", &old);
	raise(SIGUSR1);
	val("sigaction.handler_b.hits", "%ld", hits_b);
	chk("sigaction.einval.kill", sigaction(SIGKILL, &act, NULL));
	chk("sigaction.einval.stop", sigaction(SIGSTOP, &act, NULL));
	chk("sigaction.einval.range", sigaction(99, &act, NULL));
	chk("sigaction.query.kill", sigaction(SIGKILL, NULL, &old));
	act = (struct sigaction){ .sa_handler = SIG_IGN };
	chk("sigaction.ign", sigaction(SIGALRM, &act, &old));
	show_action("sigaction.ign.old", &old);
	chk("sigaction.query.alrm", sigaction(SIGALRM, NULL, &old));
	show_action("sigaction.query.alrm.old", &old);
	chk("sigaction.query.term", sigaction(SIGTERM, NULL, &old));
	show_action("sigaction.query.term.old", &old);
}

static void family_signal(void)
{
	show_signal("signal.set.a", signal(SIGUSR2, handler_a));
	show_signal("signal.set.again", signal(SIGUSR2, handler_a));
	raise(SIGUSR2);
	val("signal.handler_a.hits", "%ld", hits_a);
	show_signal("signal.dfl", signal(SIGUSR2, SIG_DFL));
	show_signal("signal.ign.int", signal(SIGINT, SIG_IGN));
	show_signal("signal.restore.int", signal(SIGINT, SIG_DFL));
	show_signal("signal.einval.kill", signal(SIGKILL, handler_a));
	show_signal("signal.einval.zero", signal(0, handler_a));
	show_signal("signal.einval.range", signal(99, handler_a));
	family_signal_sigaction();
}

/* ---- driver ---- */

static const struct family {
	const char *name;
	void (*run)(void);
} families[] = {
	{ "socket", family_socket },	 { "connect", family_connect },
	{ "accept", family_accept },	 { "sendrecv", family_sendrecv },
	{ "readwrite", family_readwrite }, { "sendfile", family_sendfile },
	{ "poll", family_poll },	 { "select", family_select },
	{ "epoll", family_epoll },	 { "fd", family_fd },
	{ "signal", family_signal },
};

static int run_family(const char *name)
{
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
		if (!name || !strcmp(name, families[i].name)) {
			printf("== %s\n", families[i].name);
			families[i].run();
			fflush(stdout);
			if (name)
				return 0;
		}
	}
	if (name)
		fprintf(stderr, "transparency: no family %s\n", name);
	return name ? 2 : 0;
}

/* On stderr, so that the compared stdout is the same either way. */
static void report_shim(void)
{
	char line[512];
	FILE *maps = fopen("/proc/self/maps", "r");
	int found = 0;

	while (maps && fgets(line, sizeof line, maps))
		found |= strstr(line, "libsockguard") != NULL;
	if (maps)
		fclose(maps);
	fprintf(stderr, "transparency: shim %s\n", found ? "loaded" : "absent");
}

int main(int argc, char **argv)
{
	int rc = 0;

	report_shim();
	/* The shim's SIGPIPE rule is a deliberate difference, not this test's. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fx_tempdir(tmpdir, sizeof tmpdir) < 0)
		return 2;
	if (argc < 2)
		rc = run_family(NULL);
	for (int i = 1; i < argc && rc == 0; i++)
		rc = run_family(argv[i]);
	fx_rmtree(tmpdir);
	return rc;
}
