/*
 * The send family: send, sendto, sendmsg, sendmmsg, write, writev and
 * sendfile.  A call that moved its whole buffer returns at once; anything
 * else goes to the retry driver, which may complete a partial write (man
 * page, "Short writes").  Continuations always start at c->done, so no
 * byte is sent twice or skipped.
 *
 * sigpipe=socket: sends get MSG_NOSIGNAL (the same system call, one more
 * flag); write, writev and sendfile cannot take it, so they tell the
 * shim's SIGPIPE handler which descriptor they write (signals.c).
 */
#include <errno.h>
#include <limits.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io.h"
#include "real.h"
#include "signals.h"

/*
 * A continuation of a vector send goes out in pieces of at most this many
 * entries (the driver asks for the rest): the copy of the vector lives on
 * the stack, which may be a signal handler's or a small thread's.
 */
#define SG_IOV_PIECE 32

/* The arguments of the call, for making it again. */
struct tx {
	const void *buf;
	size_t len;
	int flags;
	const struct sockaddr *addr;
	socklen_t alen;
	const struct iovec *iov;
	int iovcnt;
	const struct msghdr *msg;
	struct mmsghdr *mmsg;
	unsigned vlen;
	int in_fd;
	off_t *off;
};

static long result(long r)
{
	return r < 0 ? -errno : r;
}

static int send_flags(int flags, int how)
{
	return flags | (int)(sg_fast() & SG_FAST_NOSIGNAL) |
	       (how == SG_AFTER_WAIT ? MSG_DONTWAIT : 0);
}

static long tx_buffer(struct sg_call *c, void *ctx, int how)
{
	struct tx *a = ctx;
	const char *b = (const char *)a->buf + c->done;
	size_t n = a->len - c->done;

	if (c->op == SG_OP_WRITE && how == SG_AGAIN) {
		sg_writing(c->fd);
		long r = result(REAL(write)(c->fd, b, n));
		sg_written();
		return r;
	}
	return result(REAL(sendto)(c->fd, b, n, send_flags(a->flags, how),
				   a->addr, a->alen));
}

/* Up to SG_IOV_PIECE entries of iov that follow its first `skip` bytes. */
static int iov_rest(const struct iovec *iov, size_t cnt, size_t skip,
		    struct iovec *out)
{
	int n = 0;

	for (size_t i = 0; i < cnt && n < SG_IOV_PIECE; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		out[n].iov_base = (char *)iov[i].iov_base + skip;
		out[n].iov_len = iov[i].iov_len - skip;
		skip = 0;
		n++;
	}
	return n;
}

static long tx_vector(struct sg_call *c, void *ctx, int how)
{
	struct tx *a = ctx;
	struct iovec rest[SG_IOV_PIECE];
	struct msghdr m = { 0 };

	if (a->msg)
		m = *a->msg;
	const struct iovec *iov = a->msg ? a->msg->msg_iov : a->iov;
	size_t cnt = a->msg ? (size_t)a->msg->msg_iovlen : (size_t)a->iovcnt;
	m.msg_iov = rest;
	m.msg_iovlen = (size_t)iov_rest(iov, cnt, c->done, rest);
	if (c->done) {	/* ancillary data went with the first part */
		m.msg_control = NULL;
		m.msg_controllen = 0;
	}
	if (!a->msg && how == SG_AGAIN) {
		sg_writing(c->fd);
		long r = result(REAL(writev)(c->fd, rest, (int)m.msg_iovlen));
		sg_written();
		return r;
	}
	return result(REAL(sendmsg)(c->fd, &m, send_flags(a->flags, how)));
}

static long tx_mmsg(struct sg_call *c, void *ctx, int how)
{
	struct tx *a = ctx;
	return result(REAL(sendmmsg)(c->fd, a->mmsg, a->vlen,
				     send_flags(a->flags, how)));
}

static long tx_file(struct sg_call *c, void *ctx, int how)
{
	struct tx *a = ctx;

	sg_writing(c->fd);
	long r = result(REAL(sendfile)(c->fd, a->in_fd, a->off, a->len - c->done));
	sg_written();
	return r;
}

/*
 * The bytes a vector call asked to send.  After an error other than
 * EINTR/EAGAIN the vector may be a bad pointer (EFAULT): it is not
 * touched then, and 0 means "nothing to complete".
 */
static size_t iov_want(long r, int err, const struct iovec *iov, size_t cnt)
{
	size_t sum = 0;

	if (r < 0 && err != EINTR && err != EAGAIN)
		return 0;
	for (size_t i = 0; i < cnt && i < IOV_MAX; i++)
		sum += iov[i].iov_len;
	return sum;
}

static SG_COLD long tx_slow(int op, int fd, const struct sg_pre *p, long r,
			    size_t want, sg_attempt_fn fn, struct tx *a)
{
	struct sg_call c;

	sg_call_init(&c, op, fd, p);
	c.dontwait = (a->flags & MSG_DONTWAIT) != 0;
	c.want = want;
	c.nosignal_added = (sg_fast() & SG_FAST_NOSIGNAL) &&
			   !(a->flags & MSG_NOSIGNAL) && op != SG_OP_WRITE &&
			   op != SG_OP_WRITEV && op != SG_OP_SENDFILE;
	c.sigpipe_held = sg_sigpipe_held();
	return sg_slow(&c, r, fn, a);
}

static SG_COLD long buffer_slow(int op, int fd, const void *buf, size_t len,
				int flags, const struct sockaddr *addr,
				socklen_t alen, const struct sg_pre *p, long r)
{
	struct tx a = { .buf = buf, .len = len, .flags = flags, .addr = addr,
			.alen = alen };

	if (addr && (r >= 0 || errno != EFAULT))
		sg_fd_remember_peer(fd, addr, alen);
	return tx_slow(op, fd, p, r, len, tx_buffer, &a);
}

SG_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *addr, socklen_t alen)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_OUT);
	ssize_t r = REAL(sendto)(fd, buf, len, send_flags(flags, SG_AGAIN),
				 addr, alen);
	if (sg_tx_ok(fd, r, len))
		return r;
	return buffer_slow(SG_OP_SENDTO, fd, buf, len, flags, addr, alen, &p, r);
}

SG_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_OUT);
	ssize_t r = REAL(send)(fd, buf, len, send_flags(flags, SG_AGAIN));
	if (sg_tx_ok(fd, r, len))
		return r;
	return buffer_slow(SG_OP_SEND, fd, buf, len, flags, NULL, 0, &p, r);
}

SG_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_OUT);
	sg_writing(fd);
	ssize_t r = REAL(write)(fd, buf, len);
	sg_written();
	if (sg_tx_ok(fd, r, len))
		return r;
	return buffer_slow(SG_OP_WRITE, fd, buf, len, 0, NULL, 0, &p, r);
}

SG_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_OUT);
	sg_writing(fd);
	ssize_t r = REAL(writev)(fd, iov, iovcnt);
	sg_written();
	if (SG_LIKELY(iovcnt == 1) && sg_tx_ok(fd, r, iov[0].iov_len))
		return r;
	size_t want = iovcnt > 0 ? iov_want(r, errno, iov, (size_t)iovcnt) : 0;
	if (sg_tx_ok(fd, r, want))
		return r;
	struct tx a = { .iov = iov, .iovcnt = iovcnt };
	return tx_slow(SG_OP_WRITEV, fd, &p, r, want, tx_vector, &a);
}

SG_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_OUT);
	ssize_t r = REAL(sendmsg)(fd, msg, send_flags(flags, SG_AGAIN));
	/* After EFAULT msg itself may be a bad pointer: not touched then. */
	if (SG_LIKELY(r > 0) && msg->msg_iovlen == 1 &&
	    sg_tx_ok(fd, r, msg->msg_iov[0].iov_len))
		return r;
	int err = errno;
	size_t want = r >= 0 || err == EINTR || err == EAGAIN ?
		iov_want(r, err, msg->msg_iov, msg->msg_iovlen) : 0;
	if (sg_tx_ok(fd, r, want))
		return r;
	if (r >= 0 && msg->msg_name)
		sg_fd_remember_peer(fd, msg->msg_name, msg->msg_namelen);
	struct tx a = { .msg = msg, .flags = flags };
	return tx_slow(SG_OP_SENDMSG, fd, &p, r, want, tx_vector, &a);
}

SG_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen,
		       sg_mmsg_flags flags)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_OUT);
	int r = REAL(sendmmsg)(fd, vec, vlen, send_flags(flags, SG_AGAIN));
	/* A batch is never completed: any datagram sent is a success. */
	if (r > 0 && sg_tx_ok(fd, r, (size_t)r))
		return r;
	struct tx a = { .mmsg = vec, .vlen = vlen, .flags = flags };
	return (int)tx_slow(SG_OP_SENDMMSG, fd, &p, r, 0, tx_mmsg, &a);
}

static long sendfile_common(int out, int in, off_t *off, size_t count)
{
	struct sg_pre p = sg_pre(out, SG_DIR_OUT);
	sg_writing(out);
	ssize_t r = REAL(sendfile)(out, in, off, count);
	sg_written();
	/* 0 is the end of the input file, not something to retry. */
	if (sg_tx_ok(out, r, count) || r == 0)
		return r;
	struct tx a = { .in_fd = in, .off = off, .len = count };
	return tx_slow(SG_OP_SENDFILE, out, &p, r, count, tx_file, &a);
}

SG_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	return sendfile_common(out, in, off, count);
}

SG_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return sendfile_common(out, in, off, count);
}
