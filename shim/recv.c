/*
 * The receive family: recv, recvfrom, recvmsg, recvmmsg, read, readv and
 * glibc's fortified __read_chk, __recv_chk, __recvfrom_chk.  Each wrapper
 * calls libc, returns at once on data, and hands anything else to the retry
 * engine (which leaves descriptors that are not sockets alone).
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io.h"
#include "real.h"

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
	int is_read;	/* read()/readv(): MSG_DONTWAIT only after poll */
};

static int dontwait(int nonblock)
{
	return nonblock ? MSG_DONTWAIT : 0;
}

static ssize_t rx_buffer(struct sg_call *c, void *ctx, int nonblock)
{
	struct rx *a = ctx;
	ssize_t r;

	if (a->is_read && !nonblock)
		r = REAL(read)(c->fd, a->buf, a->len);
	else
		r = REAL(recvfrom)(c->fd, a->buf, a->len,
				   a->flags | dontwait(nonblock), a->addr, a->alen);
	return r < 0 ? -errno : r;
}

static ssize_t rx_msg(struct sg_call *c, void *ctx, int nonblock)
{
	struct rx *a = ctx;
	ssize_t r;

	if (a->is_read && !nonblock) {
		r = REAL(readv)(c->fd, a->iov, a->iovcnt);
	} else if (a->is_read) {
		struct msghdr m = { .msg_iov = (struct iovec *)a->iov,
				    .msg_iovlen = (size_t)a->iovcnt };
		r = REAL(recvmsg)(c->fd, &m, MSG_DONTWAIT);
	} else {
		r = REAL(recvmsg)(c->fd, a->msg, a->flags | dontwait(nonblock));
	}
	return r < 0 ? -errno : r;
}

static ssize_t rx_mmsg(struct sg_call *c, void *ctx, int nonblock)
{
	struct rx *a = ctx;
	int r = REAL(recvmmsg)(c->fd, a->mmsg, a->vlen,
			       a->flags | dontwait(nonblock), a->timeout);
	return r < 0 ? -errno : r;
}

static ssize_t rx_slow(const char *op, int fd, const struct sg_pre *p, ssize_t r,
		       sg_attempt_fn fn, struct rx *a)
{
	if (r == 0 && !sg_eof_tracking)
		return 0;
	struct sg_call c = { .op = op, .fd = fd, .dir = SG_DIR_IN,
			     .dontwait = (a->flags & MSG_DONTWAIT) != 0 };
	return sg_io_slow(&c, p, r, fn, a);
}

/* The slow path of the single-buffer receives, out of line. */
static SG_COLD ssize_t buffer_slow(const char *op, int fd, void *buf, size_t len,
				   int flags, struct sockaddr *addr,
				   socklen_t *alen, int is_read,
				   const struct sg_pre *p, ssize_t r)
{
	struct rx a = { .buf = buf, .len = len, .flags = flags, .addr = addr,
			.alen = alen, .is_read = is_read };
	return rx_slow(op, fd, p, r, rx_buffer, &a);
}

#define RX_FAST(r, fd)					\
	do {						\
		if (SG_LIKELY((r) > 0)) {		\
			sg_fd_note_recv(fd);		\
			return (r);			\
		}					\
	} while (0)

SG_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			   struct sockaddr *addr, socklen_t *alen)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_RCVTIMEO);
	ssize_t r = REAL(recvfrom)(fd, buf, len, flags, addr, alen);
	RX_FAST(r, fd);
	return buffer_slow("recvfrom", fd, buf, len, flags, addr, alen, 0, &p, r);
}

SG_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_RCVTIMEO);
	ssize_t r = REAL(recv)(fd, buf, len, flags);
	RX_FAST(r, fd);
	return buffer_slow("recv", fd, buf, len, flags, NULL, NULL, 0, &p, r);
}

SG_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_RCVTIMEO);
	ssize_t r = REAL(read)(fd, buf, len);
	RX_FAST(r, fd);
	return buffer_slow("read", fd, buf, len, 0, NULL, NULL, 1, &p, r);
}

SG_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_RCVTIMEO);
	ssize_t r = REAL(readv)(fd, iov, iovcnt);
	RX_FAST(r, fd);
	struct rx a = { .iov = iov, .iovcnt = iovcnt, .is_read = 1 };
	return rx_slow("readv", fd, &p, r, rx_msg, &a);
}

SG_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_RCVTIMEO);
	ssize_t r = REAL(recvmsg)(fd, msg, flags);
	RX_FAST(r, fd);
	struct rx a = { .msg = msg, .flags = flags };
	return rx_slow("recvmsg", fd, &p, r, rx_msg, &a);
}

SG_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
		       struct timespec *timeout)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_RCVTIMEO);
	int r = REAL(recvmmsg)(fd, vec, vlen, flags, timeout);
	RX_FAST(r, fd);
	/* A batch that returned 0 datagrams is not an end of stream. */
	if (r == 0)
		return 0;
	struct rx a = { .mmsg = vec, .vlen = vlen, .flags = flags,
			.timeout = timeout };
	return (int)rx_slow("recvmmsg", fd, &p, r, rx_mmsg, &a);
}

/*
 * The fortified variants check the buffer size in libc (and abort on
 * overflow, as they would without the shim); retries reuse the same buffer.
 */
SG_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_RCVTIMEO);
	ssize_t r = REAL(__read_chk)(fd, buf, len, buflen);
	RX_FAST(r, fd);
	struct rx a = { .buf = buf, .len = len, .is_read = 1 };
	return rx_slow("read", fd, &p, r, rx_buffer, &a);
}

SG_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
			     int flags)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_RCVTIMEO);
	ssize_t r = REAL(__recv_chk)(fd, buf, len, buflen, flags);
	RX_FAST(r, fd);
	struct rx a = { .buf = buf, .len = len, .flags = flags };
	return rx_slow("recv", fd, &p, r, rx_buffer, &a);
}

SG_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
				 int flags, struct sockaddr *addr,
				 socklen_t *alen)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_RCVTIMEO);
	ssize_t r = REAL(__recvfrom_chk)(fd, buf, len, buflen, flags, addr, alen);
	RX_FAST(r, fd);
	struct rx a = { .buf = buf, .len = len, .flags = flags, .addr = addr,
			.alen = alen };
	return rx_slow("recvfrom", fd, &p, r, rx_buffer, &a);
}
