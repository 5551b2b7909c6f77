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

/*
 * The arguments of a call, kept for the slow path.  A wrapper sets the
 * fields its call has; the slow path reads only those of the operation.
 */
struct rx {
	int fd;
	int flags;
	void *buf;
	size_t len;
	uint64_t seq;
	size_t buflen;		/* the fortified variants' buffer size (SG_RX_CHK) */
	struct sockaddr *addr;
	socklen_t *alen;
	struct msghdr *msg;
	struct mmsghdr *mmsg;
	unsigned vlen;
	struct timespec *timeout;
	const struct iovec *iov;
	int iovcnt;
};

/* Or'ed into the operation by the fortified variants (__read_chk, ...). */
#define SG_RX_CHK 0x100

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

	int from = c->op == SG_OP_RECVFROM;

	if (c->op == SG_OP_READ && how == SG_AGAIN)
		return result(REAL(read)(c->fd, a->buf, a->len));
	return result(REAL(recvfrom)(c->fd, a->buf, a->len,
				     a->flags | dontwait(how),
				     from ? a->addr : NULL, from ? a->alen : NULL));
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

static sg_attempt_fn attempt_for(int op)
{
	switch (op) {
	case SG_OP_READV:
		return rx_vector;
	case SG_OP_RECVMSG:
		return rx_msg;
	case SG_OP_RECVMMSG:
		return rx_mmsg;
	default:
		return rx_buffer;
	}
}

/*
 * read and readv have no flags: their wrappers leave the field unset (one
 * store less on the success path) and the slow and careful paths set it.
 */
static void rx_flagless(int op, struct rx *a)
{
	op &= ~SG_RX_CHK;
	if (op == SG_OP_READ || op == SG_OP_READV)
		a->flags = 0;
}

/* Anything but data: the retry driver decides (r and errno as from libc). */
static SG_COLD long rx_slow(int op, struct rx *a, int64_t t0, long r)
{
	struct sg_pre p = { a->seq, t0 };
	struct sg_call c;

	if (r == 0 && !(sg_fast() & SG_FAST_EOF))
		return 0;	/* an end of file: nothing to log */
	rx_flagless(op, a);
	op &= ~SG_RX_CHK;
	sg_call_init(&c, op, a->fd, &p);
	c.dontwait = (a->flags & MSG_DONTWAIT) != 0;
	return sg_slow(&c, r, attempt_for(op), a);
}

/* The program's call itself, for the careful path. */
static long rx_first(int op, const struct rx *a)
{
	switch (op) {
	case SG_OP_READ:
		return REAL(read)(a->fd, a->buf, a->len);
	case SG_OP_READ | SG_RX_CHK:
		return REAL(__read_chk)(a->fd, a->buf, a->len, a->buflen);
	case SG_OP_RECV:
		return REAL(recv)(a->fd, a->buf, a->len, a->flags);
	case SG_OP_RECV | SG_RX_CHK:
		return REAL(__recv_chk)(a->fd, a->buf, a->len, a->buflen, a->flags);
	case SG_OP_RECVFROM:
		return REAL(recvfrom)(a->fd, a->buf, a->len, a->flags, a->addr,
				      a->alen);
	case SG_OP_RECVFROM | SG_RX_CHK:
		return REAL(__recvfrom_chk)(a->fd, a->buf, a->len, a->buflen,
					    a->flags, a->addr, a->alen);
	case SG_OP_READV:
		return REAL(readv)(a->fd, a->iov, a->iovcnt);
	case SG_OP_RECVMSG:
		return REAL(recvmsg)(a->fd, a->msg, a->flags);
	default:
		return REAL(recvmmsg)(a->fd, a->mmsg, a->vlen, a->flags, a->timeout);
	}
}

/*
 * The careful path: a socket with the program's own timeout (the clock is
 * read before the call), or eof tracking (the last operation is noted).
 */
static SG_COLD long rx_careful(int op, struct rx *a)
{
	struct sg_pre p = sg_pre(a->fd, SG_DIR_IN);

	rx_flagless(op, a);
	long r = rx_first(op, a);

	if (r > 0 || (r == 0 && op == SG_OP_RECVMMSG)) {
		sg_note_received(a->fd);
		return r;
	}
	return rx_slow(op, a, p.t0, r);
}

SG_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			   struct sockaddr *addr, socklen_t *alen)
{
	struct rx a;

	a.fd = fd, a.buf = buf, a.len = len, a.flags = flags, a.addr = addr,
	a.alen = alen, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_RX)))
		return rx_careful(SG_OP_RECVFROM, &a);
	sg_keep(&a);
	ssize_t r = REAL(recvfrom)(fd, buf, len, flags, addr, alen);
	if (sg_received(r))
		return r;
	return rx_slow(SG_OP_RECVFROM, &a, 0, r);
}

SG_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct rx a;

	a.fd = fd, a.buf = buf, a.len = len, a.flags = flags, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_RX)))
		return rx_careful(SG_OP_RECV, &a);
	sg_keep(&a);
	ssize_t r = REAL(recv)(fd, buf, len, flags);
	if (sg_received(r))
		return r;
	return rx_slow(SG_OP_RECV, &a, 0, r);
}

SG_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct rx a;

	a.fd = fd, a.buf = buf, a.len = len, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_RX)))
		return rx_careful(SG_OP_READ, &a);
	sg_keep(&a);
	ssize_t r = REAL(read)(fd, buf, len);
	if (sg_received(r))
		return r;
	return rx_slow(SG_OP_READ, &a, 0, r);
}

SG_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct rx a;

	a.fd = fd, a.iov = iov, a.iovcnt = iovcnt, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_RX)))
		return rx_careful(SG_OP_READV, &a);
	sg_keep(&a);
	ssize_t r = REAL(readv)(fd, iov, iovcnt);
	if (sg_received(r))
		return r;
	return rx_slow(SG_OP_READV, &a, 0, r);
}

SG_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct rx a;

	a.fd = fd, a.msg = msg, a.flags = flags, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_RX)))
		return rx_careful(SG_OP_RECVMSG, &a);
	sg_keep(&a);
	ssize_t r = REAL(recvmsg)(fd, msg, flags);
	if (sg_received(r))
		return r;
	return rx_slow(SG_OP_RECVMSG, &a, 0, r);
}

SG_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen,
		       sg_mmsg_flags flags, struct timespec *timeout)
{
	struct rx a;

	a.fd = fd, a.mmsg = vec, a.vlen = vlen, a.flags = flags,
	a.timeout = timeout, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_RX)))
		return (int)rx_careful(SG_OP_RECVMMSG, &a);
	sg_keep(&a);
	int r = REAL(recvmmsg)(fd, vec, vlen, flags, timeout);
	/* A batch of 0 datagrams is not the end of a stream. */
	if (sg_received(r) || r == 0)
		return r;
	return (int)rx_slow(SG_OP_RECVMMSG, &a, 0, r);
}

/*
 * The fortified variants check the buffer size in libc (and abort on
 * overflow, as they would without the shim); retries reuse the same buffer.
 */
SG_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	struct rx a;

	a.fd = fd, a.buf = buf, a.len = len, a.buflen = buflen,
	a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_RX)))
		return rx_careful(SG_OP_READ | SG_RX_CHK, &a);
	sg_keep(&a);
	ssize_t r = REAL(__read_chk)(fd, buf, len, buflen);
	if (sg_received(r))
		return r;
	return rx_slow(SG_OP_READ, &a, 0, r);
}

SG_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
			     int flags)
{
	struct rx a;

	a.fd = fd, a.buf = buf, a.len = len, a.flags = flags, a.buflen = buflen,
	a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_RX)))
		return rx_careful(SG_OP_RECV | SG_RX_CHK, &a);
	sg_keep(&a);
	ssize_t r = REAL(__recv_chk)(fd, buf, len, buflen, flags);
	if (sg_received(r))
		return r;
	return rx_slow(SG_OP_RECV, &a, 0, r);
}

SG_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
				 int flags, struct sockaddr *addr,
				 socklen_t *alen)
{
	struct rx a;

	a.fd = fd, a.buf = buf, a.len = len, a.flags = flags, a.addr = addr,
	a.alen = alen, a.buflen = buflen, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_RX)))
		return rx_careful(SG_OP_RECVFROM | SG_RX_CHK, &a);
	sg_keep(&a);
	ssize_t r = REAL(__recvfrom_chk)(fd, buf, len, buflen, flags, addr, alen);
	if (sg_received(r))
		return r;
	return rx_slow(SG_OP_RECVFROM, &a, 0, r);
}
