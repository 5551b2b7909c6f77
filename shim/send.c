/*
 * The send family: send, sendto, sendmsg, sendmmsg, write, writev and
 * sendfile.  A call that moved its whole buffer returns at once; anything
 * else goes to the retry driver, which may complete a partial write (man
 * page, "Short writes").  Continuations always start at c->done, so no
 * byte is sent twice or skipped.
 *
 * sigpipe=socket: sends get MSG_NOSIGNAL (the same system call, one more
 * flag); write, writev and sendfile cannot take it, so they tell the
 * shim's SIGPIPE handler which descriptor they write (signals.c).  Both
 * happen on the careful path: SG_FAST_NOSIGNAL is never set without
 * SG_FAST_WRITEFD (signals.c), which sends every call there.
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

/*
 * The arguments of a call, kept for the slow path.  A wrapper sets the
 * fields its call has; the slow path reads only those of the operation.
 */
struct tx {
	int fd;
	int flags;
	const void *buf;
	size_t len;
	uint64_t seq;
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
	int to = c->op == SG_OP_SENDTO;
	return result(REAL(sendto)(c->fd, b, n, send_flags(a->flags, how),
				   to ? a->addr : NULL, to ? a->alen : 0));
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
	/* writev leaves a->msg unset: the operation says which it is. */
	const struct msghdr *msg = c->op == SG_OP_SENDMSG ? a->msg : NULL;

	if (msg)
		m = *msg;
	const struct iovec *iov = msg ? msg->msg_iov : a->iov;
	size_t cnt = msg ? (size_t)msg->msg_iovlen : (size_t)a->iovcnt;
	m.msg_iov = rest;
	m.msg_iovlen = (size_t)iov_rest(iov, cnt, c->done, rest);
	if (c->done) {	/* ancillary data went with the first part */
		m.msg_control = NULL;
		m.msg_controllen = 0;
	}
	if (!msg && how == SG_AGAIN) {
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

/* The bytes of a vector (at most IOV_MAX entries are ever sent). */
static size_t iov_total(const struct iovec *iov, size_t cnt)
{
	size_t sum = 0;

	for (size_t i = 0; i < cnt && i < IOV_MAX; i++)
		sum += iov[i].iov_len;
	return sum;
}

/*
 * Whether a vector call moved all its bytes.  The vector is read only
 * after a success, when the kernel took it: then it has at most IOV_MAX
 * entries.
 */
static inline int iov_sent(const struct iovec *iov, size_t cnt, long r)
{
	if (SG_LIKELY(cnt == 1))
		return sg_sent(r, iov[0].iov_len);
	if (r < 0)
		return 0;
	size_t sum = 0;
	for (const struct iovec *p = iov, *end = iov + cnt; p < end; p++)
		sum += p->iov_len;
	return (size_t)r == sum;
}

/*
 * The bytes a call asked to send, for completing it.  After an error other
 * than EINTR/EAGAIN a vector may be a bad pointer (EFAULT): it is not
 * touched then, and 0 means "nothing to complete".
 */
static size_t want_of(int op, const struct tx *a, long r, int err)
{
	int touchable = r >= 0 || err == EINTR || err == EAGAIN;

	switch (op) {
	case SG_OP_WRITEV:
		return touchable && a->iovcnt > 0 ? iov_total(a->iov, (size_t)a->iovcnt) : 0;
	case SG_OP_SENDMSG:
		return touchable ? iov_total(a->msg->msg_iov, a->msg->msg_iovlen) : 0;
	case SG_OP_SENDMMSG:
		return 0;	/* batches are retried whole, never completed */
	default:
		return a->len;
	}
}

static sg_attempt_fn attempt_for(int op)
{
	switch (op) {
	case SG_OP_WRITEV: case SG_OP_SENDMSG:
		return tx_vector;
	case SG_OP_SENDMMSG:
		return tx_mmsg;
	case SG_OP_SENDFILE:
		return tx_file;
	default:
		return tx_buffer;
	}
}

/* Whether the shim's MSG_NOSIGNAL changed what this call would have done. */
static int nosignal_added(int op, const struct tx *a)
{
	return (sg_fast() & SG_FAST_NOSIGNAL) && !(a->flags & MSG_NOSIGNAL) &&
	       op != SG_OP_WRITE && op != SG_OP_WRITEV && op != SG_OP_SENDFILE;
}

/*
 * write, writev and sendfile have no flags: their wrappers leave the field
 * unset (one store less on the success path) and the slow and careful
 * paths set it.
 */
static void tx_flagless(int op, struct tx *a)
{
	if (op == SG_OP_WRITE || op == SG_OP_WRITEV || op == SG_OP_SENDFILE)
		a->flags = 0;
}

/* Anything but a complete send: the retry driver decides. */
static SG_COLD long tx_slow(int op, struct tx *a, int64_t t0, long r)
{
	struct sg_pre p = { a->seq, t0 };
	struct sg_call c;
	int err = errno;

	tx_flagless(op, a);

	if (op == SG_OP_SENDFILE && r == 0)
		return 0;	/* the end of the input file */
	if ((op == SG_OP_SENDTO || op == SG_OP_SENDMSG) && (r >= 0 || err != EFAULT)) {
		const struct sockaddr *to = op == SG_OP_SENDTO ? a->addr :
					    a->msg->msg_name;
		socklen_t len = op == SG_OP_SENDTO ? a->alen : a->msg->msg_namelen;
		if (to)
			sg_fd_remember_peer(a->fd, to, len);
	}
	sg_call_init(&c, op, a->fd, &p);
	c.dontwait = (a->flags & MSG_DONTWAIT) != 0;
	c.want = want_of(op, a, r, err);
	c.nosignal_added = nosignal_added(op, a);
	c.sigpipe_held = sg_sigpipe_held();
	errno = err;
	return sg_slow(&c, r, attempt_for(op), a);
}

/* The program's call itself (with MSG_NOSIGNAL where held), careful path. */
static long tx_first(int op, const struct tx *a)
{
	int fl = send_flags(a->flags, SG_AGAIN);

	switch (op) {
	case SG_OP_WRITE:
		return REAL(write)(a->fd, a->buf, a->len);
	case SG_OP_SEND:
		return REAL(send)(a->fd, a->buf, a->len, fl);
	case SG_OP_SENDTO:
		return REAL(sendto)(a->fd, a->buf, a->len, fl, a->addr, a->alen);
	case SG_OP_WRITEV:
		return REAL(writev)(a->fd, a->iov, a->iovcnt);
	case SG_OP_SENDMSG:
		return REAL(sendmsg)(a->fd, a->msg, fl);
	case SG_OP_SENDMMSG:
		return REAL(sendmmsg)(a->fd, a->mmsg, a->vlen, fl);
	default:
		return REAL(sendfile)(a->fd, a->in_fd, a->off, a->len);
	}
}

/* Whether the call moved everything it was asked to (careful path). */
static int tx_complete(int op, const struct tx *a, long r)
{
	switch (op) {
	case SG_OP_WRITEV:
		return a->iovcnt > 0 && iov_sent(a->iov, (size_t)a->iovcnt, r);
	case SG_OP_SENDMSG:
		return r > 0 && iov_sent(a->msg->msg_iov, a->msg->msg_iovlen, r);
	case SG_OP_SENDMMSG:
		return r > 0;
	default:
		return sg_sent(r, a->len);
	}
}

/*
 * The careful path: a socket with the program's own timeout (the clock is
 * read before the call), eof tracking (the last operation is noted), or
 * sigpipe=socket (the SIGPIPE handler is told which descriptor is written).
 */
static SG_COLD long tx_careful(int op, struct tx *a)
{
	struct sg_pre p = sg_pre(a->fd, SG_DIR_OUT);

	tx_flagless(op, a);
	sg_writing(a->fd);
	long r = tx_first(op, a);
	sg_written();
	if (tx_complete(op, a, r)) {
		sg_note_sent(a->fd);
		return r;
	}
	return tx_slow(op, a, p.t0, r);
}

SG_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *addr, socklen_t alen)
{
	struct tx a;

	a.fd = fd, a.buf = buf, a.len = len, a.flags = flags, a.addr = addr,
	a.alen = alen, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_TX)))
		return tx_careful(SG_OP_SENDTO, &a);
	sg_keep(&a);
	ssize_t r = REAL(sendto)(fd, buf, len, flags, addr, alen);
	if (sg_sent(r, a.len))
		return r;
	return tx_slow(SG_OP_SENDTO, &a, 0, r);
}

SG_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct tx a;

	a.fd = fd, a.buf = buf, a.len = len, a.flags = flags, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_TX)))
		return tx_careful(SG_OP_SEND, &a);
	sg_keep(&a);
	ssize_t r = REAL(send)(fd, buf, len, flags);
	if (sg_sent(r, a.len))
		return r;
	return tx_slow(SG_OP_SEND, &a, 0, r);
}

SG_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct tx a;

	a.fd = fd, a.buf = buf, a.len = len, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_TX)))
		return tx_careful(SG_OP_WRITE, &a);
	sg_keep(&a);
	ssize_t r = REAL(write)(fd, buf, len);
	if (sg_sent(r, a.len))
		return r;
	return tx_slow(SG_OP_WRITE, &a, 0, r);
}

SG_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct tx a;

	a.fd = fd, a.iov = iov, a.iovcnt = iovcnt, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_TX)))
		return tx_careful(SG_OP_WRITEV, &a);
	sg_keep(&a);
	ssize_t r = REAL(writev)(fd, iov, iovcnt);
	if (SG_LIKELY(a.iovcnt > 0) && iov_sent(a.iov, (size_t)a.iovcnt, r))
		return r;
	return tx_slow(SG_OP_WRITEV, &a, 0, r);
}

SG_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct tx a;

	a.fd = fd, a.msg = msg, a.flags = flags, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_TX)))
		return tx_careful(SG_OP_SENDMSG, &a);
	sg_keep(&a);
	ssize_t r = REAL(sendmsg)(fd, msg, flags);
	/* After EFAULT msg itself may be a bad pointer: not touched then. */
	if (SG_LIKELY(r > 0) && iov_sent(msg->msg_iov, msg->msg_iovlen, r))
		return r;
	return tx_slow(SG_OP_SENDMSG, &a, 0, r);
}

SG_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen,
		       sg_mmsg_flags flags)
{
	struct tx a;

	a.fd = fd, a.mmsg = vec, a.vlen = vlen, a.flags = flags, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_TX)))
		return (int)tx_careful(SG_OP_SENDMMSG, &a);
	sg_keep(&a);
	int r = REAL(sendmmsg)(fd, vec, vlen, flags);
	/* A batch is never completed: any datagram sent is a success. */
	if (SG_LIKELY(r > 0))
		return r;
	return (int)tx_slow(SG_OP_SENDMMSG, &a, 0, r);
}

static long sendfile_common(int out, int in, off_t *off, size_t count)
{
	struct tx a;

	a.fd = out, a.in_fd = in, a.off = off, a.len = count, a.seq = sg_seq();
	if (SG_UNLIKELY(sg_careful(SG_FAST_TX)))
		return tx_careful(SG_OP_SENDFILE, &a);
	sg_keep(&a);
	ssize_t r = REAL(sendfile)(out, in, off, count);
	if (sg_sent(r, a.len))
		return r;
	return tx_slow(SG_OP_SENDFILE, &a, 0, r);
}

SG_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	return sendfile_common(out, in, off, count);
}

SG_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return sendfile_common(out, in, off, count);
}
