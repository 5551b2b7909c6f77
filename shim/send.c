/*
 * The send family: send, sendto, sendmsg, sendmmsg, write, writev and
 * sendfile.  A call that moved its whole buffer returns at once; anything
 * else goes to the retry engine, which may complete a partial write
 * (SPEC.md section 3, "Short writes").  Continuations always start at
 * c->done, so no byte is sent twice or skipped.
 */
#include <errno.h>
#include <limits.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io.h"
#include "real.h"

#define SG_IOV_MAX 1024	/* UIO_MAXIOV: larger vectors fail with EINVAL */

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
	int plain_write;	/* write()/writev() on a socket without sigpipe=socket */
};

static int send_flags(const struct tx *a, int nonblock)
{
	return a->flags | sg_nosig_flag | (nonblock ? MSG_DONTWAIT : 0);
}

static ssize_t tx_buffer(struct sg_call *c, void *ctx, int nonblock)
{
	struct tx *a = ctx;
	const char *b = (const char *)a->buf + c->done;
	size_t n = a->len - c->done;
	ssize_t r;

	if (a->plain_write && !nonblock)
		r = REAL(write)(c->fd, b, n);
	else
		r = REAL(sendto)(c->fd, b, n, send_flags(a, nonblock), a->addr,
				 a->alen);
	return r < 0 ? -errno : r;
}

/* The part of iov after the first `skip` bytes, into out. */
static int iov_skip(const struct iovec *iov, int cnt, size_t skip,
		    struct iovec *out)
{
	int n = 0;
	for (int i = 0; i < cnt; i++) {
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

static ssize_t tx_msg(struct sg_call *c, void *ctx, int nonblock)
{
	struct tx *a = ctx;
	struct iovec rest[SG_IOV_MAX];
	struct msghdr m = { 0 };

	if (a->msg)
		m = *a->msg;
	const struct iovec *iov = a->msg ? a->msg->msg_iov : a->iov;
	int cnt = a->msg ? (int)a->msg->msg_iovlen : a->iovcnt;
	if (cnt < 0 || cnt > SG_IOV_MAX)
		return -EINVAL;
	m.msg_iov = rest;
	m.msg_iovlen = (size_t)iov_skip(iov, cnt, c->done, rest);
	if (c->done) {	/* ancillary data went with the first part */
		m.msg_control = NULL;
		m.msg_controllen = 0;
	}
	ssize_t r = a->plain_write && !nonblock ?
		REAL(writev)(c->fd, rest, (int)m.msg_iovlen) :
		REAL(sendmsg)(c->fd, &m, send_flags(a, nonblock));
	return r < 0 ? -errno : r;
}

static ssize_t tx_mmsg(struct sg_call *c, void *ctx, int nonblock)
{
	struct tx *a = ctx;
	int r = REAL(sendmmsg)(c->fd, a->mmsg, a->vlen, send_flags(a, nonblock));
	return r < 0 ? -errno : r;
}

static ssize_t tx_file(struct sg_call *c, void *ctx, int nonblock)
{
	struct tx *a = ctx;
	struct sg_sigpipe_guard g;

	sg_sigpipe_block(&g);
	ssize_t r = REAL(sendfile)(c->fd, a->in_fd, a->off, a->len - c->done);
	int err = errno;
	sg_sigpipe_unblock(&g, r < 0 && err == EPIPE);
	return r < 0 ? -err : r;
}

static size_t iov_total(const struct iovec *iov, size_t cnt)
{
	size_t sum = 0;
	for (size_t i = 0; i < cnt && i < SG_IOV_MAX; i++)
		sum += iov[i].iov_len;
	return sum;
}

/*
 * The bytes a vector call asked to send, for completing it later.  After an
 * error other than EINTR/EAGAIN the vector may be a bad pointer (EFAULT):
 * it is not touched then, and 0 means "nothing to complete".
 */
static size_t iov_want(ssize_t r, const struct iovec *iov, size_t cnt)
{
	if (r < 0 && errno != EINTR && errno != EAGAIN)
		return 0;
	return iov_total(iov, cnt);
}

static ssize_t tx_slow(const char *op, int fd, const struct sg_pre *p,
		       ssize_t r, size_t want, sg_attempt_fn fn, struct tx *a)
{
	struct sg_call c = {
		.op = op, .fd = fd, .dir = SG_DIR_OUT, .is_send = want > 0,
		.dontwait = (a->flags & MSG_DONTWAIT) != 0, .want = want,
		.nosignal_added = sg_nosig_flag && !(a->flags & MSG_NOSIGNAL),
	};
	return sg_io_slow(&c, p, r, fn, a);
}

#define TX_FAST(r, want, fd)				\
	do {						\
		if (SG_LIKELY((r) == (ssize_t)(want))) {	\
			sg_fd_note_send(fd);		\
			return (r);			\
		}					\
	} while (0)

static SG_COLD ssize_t sendto_slow(int fd, const void *buf, size_t len,
				    int flags, const struct sockaddr *addr,
				    socklen_t alen, const struct sg_pre *p,
				    ssize_t r)
{
	if (addr && (r >= 0 || errno != EFAULT))
		sg_fd_remember_peer(fd, addr, alen);
	struct tx a = { .buf = buf, .len = len, .flags = flags, .addr = addr,
			.alen = alen };
	return tx_slow("sendto", fd, p, r, len, tx_buffer, &a);
}

SG_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *addr, socklen_t alen)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_SNDTIMEO);
	ssize_t r = REAL(sendto)(fd, buf, len, flags | sg_nosig_flag, addr, alen);
	TX_FAST(r, len, fd);
	return sendto_slow(fd, buf, len, flags, addr, alen, &p, r);
}

static SG_COLD ssize_t send_slow(int fd, const void *buf, size_t len,
				  int flags, const struct sg_pre *p, ssize_t r)
{
	struct tx a = { .buf = buf, .len = len, .flags = flags };
	return tx_slow("send", fd, p, r, len, tx_buffer, &a);
}

SG_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_SNDTIMEO);
	ssize_t r = REAL(send)(fd, buf, len, flags | sg_nosig_flag);
	TX_FAST(r, len, fd);
	return send_slow(fd, buf, len, flags, &p, r);
}

/* sigpipe=socket: a write to a socket becomes a send with MSG_NOSIGNAL. */
static int write_as_send(int fd)
{
	if (SG_LIKELY(!sg_sigpipe_socket))
		return 0;
	uint32_t st = sg_fd_get(fd);
	if (!(st & SG_FD_KNOWN))
		st = sg_fd_classify(fd);
	return (st & SG_FD_SOCKET) != 0;
}

static SG_COLD ssize_t write_slow(int fd, const void *buf, size_t len,
				   int as_send, const struct sg_pre *p, ssize_t r)
{
	struct tx a = { .buf = buf, .len = len, .plain_write = !as_send };
	return tx_slow("write", fd, p, r, len, tx_buffer, &a);
}

SG_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_SNDTIMEO);
	int as_send = write_as_send(fd);
	ssize_t r = as_send ? REAL(send)(fd, buf, len, MSG_NOSIGNAL) :
			      REAL(write)(fd, buf, len);
	if (SG_UNLIKELY(as_send && r < 0 && errno == ENOTSOCK))
		r = REAL(write)(fd, buf, len);
	TX_FAST(r, len, fd);
	return write_slow(fd, buf, len, as_send, &p, r);
}

SG_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_SNDTIMEO);
	int as_send = write_as_send(fd);
	struct msghdr m = { .msg_iov = (struct iovec *)iov,
			    .msg_iovlen = iovcnt > 0 ? (size_t)iovcnt : 0 };
	ssize_t r = as_send ? REAL(sendmsg)(fd, &m, MSG_NOSIGNAL) :
			      REAL(writev)(fd, iov, iovcnt);
	if (SG_UNLIKELY(as_send && r < 0 && errno == ENOTSOCK))
		r = REAL(writev)(fd, iov, iovcnt);
	if (SG_LIKELY(r >= 0) && iovcnt == 1 && (size_t)r == iov[0].iov_len)
		return r;
	size_t want = iovcnt > 0 ? iov_want(r, iov, (size_t)iovcnt) : 0;
	TX_FAST(r, want, fd);
	struct tx a = { .iov = iov, .iovcnt = iovcnt, .plain_write = !as_send };
	return tx_slow("writev", fd, &p, r, want, tx_msg, &a);
}

SG_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_SNDTIMEO);
	ssize_t r = REAL(sendmsg)(fd, msg, flags | sg_nosig_flag);
	if (SG_LIKELY(r > 0) && msg->msg_iovlen == 1 &&
	    (size_t)r == msg->msg_iov[0].iov_len)
		return r;
	if (r >= 0 && msg->msg_name)
		sg_fd_remember_peer(fd, msg->msg_name, msg->msg_namelen);
	size_t want = 0;
	if (r >= 0 || errno == EINTR || errno == EAGAIN)
		want = iov_total(msg->msg_iov, msg->msg_iovlen);
	TX_FAST(r, want, fd);
	struct tx a = { .msg = msg, .flags = flags };
	return tx_slow("sendmsg", fd, &p, r, want, tx_msg, &a);
}

SG_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	struct sg_pre p;
	sg_pre_read(&p, fd, SG_FD_SNDTIMEO);
	int r = REAL(sendmmsg)(fd, vec, vlen, flags | sg_nosig_flag);
	if (SG_LIKELY(r > 0))
		return r;
	/* Batches are retried whole after EINTR/EAGAIN, never completed. */
	struct tx a = { .mmsg = vec, .vlen = vlen, .flags = flags };
	return (int)tx_slow("sendmmsg", fd, &p, r, 0, tx_mmsg, &a);
}

static ssize_t sendfile_common(int out, int in, off_t *off, size_t count)
{
	struct sg_pre p;
	sg_pre_read(&p, out, SG_FD_SNDTIMEO);
	struct tx a = { .in_fd = in, .off = off, .len = count };
	struct sg_call first = { .fd = out };
	ssize_t r = tx_file(&first, &a, 0);
	/* 0 is the end of the input file, not something to retry. */
	if (SG_LIKELY(r == (ssize_t)count) || r == 0)
		return r;
	if (r < 0) {
		errno = (int)-r;
		r = -1;
	}
	return tx_slow("sendfile", out, &p, r, count, tx_file, &a);
}

SG_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	return sendfile_common(out, in, off, count);
}

SG_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return sendfile_common(out, in, off, count);
}
