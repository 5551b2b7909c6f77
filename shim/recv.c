/*
 * The receive family: recv, recvfrom, recvmsg, recvmmsg, read, readv and
 * glibc's fortified __read_chk, __recv_chk, __recvfrom_chk.  Each wrapper
 * calls libc, returns at once on data, and hands anything else to the retry
 * driver (which leaves descriptors that are not sockets alone).  After the
 * shim itself waited for readiness, a call is made again with MSG_DONTWAIT,
 * so that a reader that lost the data to another thread is not blocked.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io.h"
#include "real.h"

/* The arguments of the call, for making it again. */
struct rx {
	void *buf;
	size_t len;
	int flags;
	struct sockaddr *addr;
	socklen_t *alen;
	struct msghdr *msg;
	struct mmsghdr *mmsg;
	unsigned vlen;
	struct timespec *timeout;
	const struct iovec *iov;
	int iovcnt;
};

static int dontwait(int how)
{
	return how == SG_AFTER_WAIT ? MSG_DONTWAIT : 0;
}

static long result(long r)
{
	return r < 0 ? -errno : r;
}

static long rx_buffer(struct sg_call *c, void *ctx, int how)
{
	struct rx *a = ctx;

	if ((c->op == SG_OP_READ) && how == SG_AGAIN)
		return result(REAL(read)(c->fd, a->buf, a->len));
	return result(REAL(recvfrom)(c->fd, a->buf, a->len,
				     a->flags | dontwait(how), a->addr, a->alen));
}

static long rx_vector(struct sg_call *c, void *ctx, int how)
{
	struct rx *a = ctx;

	if (how == SG_AGAIN)
		return result(REAL(readv)(c->fd, a->iov, a->iovcnt));
	struct msghdr m = { .msg_iov = (struct iovec *)a->iov,
			    .msg_iovlen = a->iovcnt > 0 ? (size_t)a->iovcnt : 0 };
	return result(REAL(recvmsg)(c->fd, &m, MSG_DONTWAIT));
}

static long rx_msg(struct sg_call *c, void *ctx, int how)
{
	struct rx *a = ctx;
	return result(REAL(recvmsg)(c->fd, a->msg, a->flags | dontwait(how)));
}

static long rx_mmsg(struct sg_call *c, void *ctx, int how)
{
	struct rx *a = ctx;
	return result(REAL(recvmmsg)(c->fd, a->mmsg, a->vlen,
				     a->flags | dontwait(how), a->timeout));
}

static SG_COLD long rx_slow(int op, int fd, const struct sg_pre *p, long r,
			    sg_attempt_fn fn, struct rx *a)
{
	struct sg_call c;

	if (r == 0 && !(sg_fast() & SG_FAST_EOF))
		return 0;	/* an end of file: nothing to log */
	sg_call_init(&c, op, fd, p);
	c.dontwait = (a->flags & MSG_DONTWAIT) != 0;
	return sg_slow(&c, r, fn, a);
}

/* The single-buffer receives' slow path, with its arguments unpacked here. */
static SG_COLD long buffer_slow(int op, int fd, void *buf, size_t len,
				int flags, struct sockaddr *addr,
				socklen_t *alen, const struct sg_pre *p, long r)
{
	struct rx a = { .buf = buf, .len = len, .flags = flags, .addr = addr,
			.alen = alen };
	return rx_slow(op, fd, p, r, rx_buffer, &a);
}

SG_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			   struct sockaddr *addr, socklen_t *alen)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_IN);
	ssize_t r = REAL(recvfrom)(fd, buf, len, flags, addr, alen);
	if (sg_rx_ok(fd, r))
		return r;
	return buffer_slow(SG_OP_RECVFROM, fd, buf, len, flags, addr, alen, &p, r);
}

SG_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_IN);
	ssize_t r = REAL(recv)(fd, buf, len, flags);
	if (sg_rx_ok(fd, r))
		return r;
	return buffer_slow(SG_OP_RECV, fd, buf, len, flags, NULL, NULL, &p, r);
}

SG_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_IN);
	ssize_t r = REAL(read)(fd, buf, len);
	if (sg_rx_ok(fd, r))
		return r;
	return buffer_slow(SG_OP_READ, fd, buf, len, 0, NULL, NULL, &p, r);
}

SG_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_IN);
	ssize_t r = REAL(readv)(fd, iov, iovcnt);
	if (sg_rx_ok(fd, r))
		return r;
	struct rx a = { .iov = iov, .iovcnt = iovcnt };
	return rx_slow(SG_OP_READV, fd, &p, r, rx_vector, &a);
}

SG_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_IN);
	ssize_t r = REAL(recvmsg)(fd, msg, flags);
	if (sg_rx_ok(fd, r))
		return r;
	struct rx a = { .msg = msg, .flags = flags };
	return rx_slow(SG_OP_RECVMSG, fd, &p, r, rx_msg, &a);
}

SG_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen,
		       sg_mmsg_flags flags, struct timespec *timeout)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_IN);
	int r = REAL(recvmmsg)(fd, vec, vlen, flags, timeout);
	/* A batch of 0 datagrams is not the end of a stream. */
	if (sg_rx_ok(fd, r) || r == 0)
		return r;
	struct rx a = { .mmsg = vec, .vlen = vlen, .flags = flags,
			.timeout = timeout };
	return (int)rx_slow(SG_OP_RECVMMSG, fd, &p, r, rx_mmsg, &a);
}

/*
 * The fortified variants check the buffer size in libc (and abort on
 * overflow, as they would without the shim); retries reuse the same buffer.
 */
SG_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_IN);
	ssize_t r = REAL(__read_chk)(fd, buf, len, buflen);
	if (sg_rx_ok(fd, r))
		return r;
	return buffer_slow(SG_OP_READ, fd, buf, len, 0, NULL, NULL, &p, r);
}

SG_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
			     int flags)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_IN);
	ssize_t r = REAL(__recv_chk)(fd, buf, len, buflen, flags);
	if (sg_rx_ok(fd, r))
		return r;
	return buffer_slow(SG_OP_RECV, fd, buf, len, flags, NULL, NULL, &p, r);
}

SG_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
				 int flags, struct sockaddr *addr,
				 socklen_t *alen)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_IN);
	ssize_t r = REAL(__recvfrom_chk)(fd, buf, len, buflen, flags, addr, alen);
	if (sg_rx_ok(fd, r))
		return r;
	return buffer_slow(SG_OP_RECVFROM, fd, buf, len, flags, addr, alen, &p, r);
}
