/*
 * connect, and what surrounds it: socket, socketpair, listen, setsockopt
 * (to remember what the program set itself) and getsockopt(SO_ERROR) (where
 * event loops learn the outcome of a non-blocking connect).
 *
 * connect_timeout bounds a blocking TCP connect: the socket is made
 * non-blocking for the call, the connection awaited until the deadline
 * (poll for POLLOUT, then SO_ERROR, in the retry driver) and the socket
 * put back.  An AF_UNIX or UDP connect is never bounded: an AF_UNIX one
 * has no connection under way to wait for (the backlog was full), a UDP
 * one does not block.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "accept.h"
#include "event.h"
#include "fdtable.h"
#include "io.h"
#include "live.h"
#include "real.h"
#include "retry.h"
#include "shim.h"
#include "sockopts.h"
#include "state.h"
#include "../policy/rawsys.h"

/* The outcome of a connect under way, from SO_ERROR: 0 or -errno. */
static long so_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);
	long r = sg_sys5(SYS_getsockopt, fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return r < 0 ? r : -err;
}

/*
 * connect(2) after EINTR or EINPROGRESS: a TCP connection under way is
 * awaited (SG_AFTER_WAIT: the socket polled writable), never started
 * twice, and reported connected only when getpeername agrees; an AF_UNIX
 * connect (SG_AGAIN) is simply made again.
 */
static long connect_attempt(struct sg_call *c, void *ctx, int how)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (how == SG_AGAIN) {
		int r = REAL(connect)(c->fd, c->peer, c->peerlen);
		return r < 0 ? -errno : 0;
	}
	long err = so_error(c->fd);
	if (err < 0)
		return err;
	return sg_sys3(SYS_getpeername, c->fd, &ss, &len);
}

static void connected(int fd, const struct sg_sock_settings *ss)
{
	sg_fd_clear_bits(fd, SG_FD_CONNECTING);
	if (SG_UNLIKELY(sg_fast() & SG_FAST_SOCKOPTS))
		sg_sockopts_apply(fd, ss, SG_OPT_ESTABLISHED);
}

/*
 * What a connect leaves in the descriptor's word: its peer, and whether it
 * is connected or connecting.  One store (the shim is acting).
 */
static void ended(int fd, const struct sockaddr *sa, socklen_t len, long r,
		  const struct sg_sock_settings *ss)
{
	uint32_t w = sg_fd_get(fd);
	uint32_t peer = r != -EFAULT ? sg_fd_put_peer(fd, sa, len) : 0;

	if (r == -EINPROGRESS)
		w |= SG_FD_CONNECTING;
	else
		w &= ~SG_FD_CONNECTING;
	if ((unsigned)fd < sg_fdt_size)
		__atomic_store_n(&sg_fdt[fd], w | peer, __ATOMIC_RELAXED);
	if (r == 0 && SG_UNLIKELY(sg_fast() & SG_FAST_SOCKOPTS))
		sg_sockopts_apply(fd, ss, SG_OPT_ESTABLISHED);
}

static long connect_retry(int fd, const struct sockaddr *sa, socklen_t len,
			  const struct sg_pre *p, long r, int64_t bound,
			  int bound_is_own)
{
	struct sg_call c;

	sg_call_init(&c, SG_OP_CONNECT, fd, p);
	c.peer = sa;
	c.peerlen = len;
	c.bound_ns = bound;
	c.bound_is_own = bound_is_own;
	return sg_retry(&c, r, connect_attempt, NULL);
}

/* The program's own SO_SNDTIMEO in ns (0: none): it bounds connect(2) too. */
static int64_t sndtimeo_ns(int fd)
{
	long tv[2] = { 0, 0 };
	socklen_t len = sizeof(tv);

	if (!(sg_fd_get(fd) & SG_FD_SNDTIMEO) ||
	    sg_sys5(SYS_getsockopt, fd, SOL_SOCKET, SO_SNDTIMEO, tv, &len) < 0)
		return 0;
	return (int64_t)tv[0] * 1000000000 + (int64_t)tv[1] * 1000;
}

/*
 * Abandons a connect still under way: connect(2) to an address of family 0
 * (unspecified) dissolves it, so the handshake cannot complete behind the program's back after it
 * was told ETIMEDOUT.
 */
static void abandon(int fd)
{
	struct sockaddr none = { .sa_family = 0 };	/* unspecified family */
	sg_sys3(SYS_connect, fd, &none, sizeof(none));
}

/*
 * A blocking TCP connect bounded by connect_timeout, or by the program's
 * shorter SO_SNDTIMEO (then EINPROGRESS, as the kernel says).
 */
static long connect_bounded(int fd, const struct sockaddr *sa, socklen_t len,
			    const struct sg_sock_settings *ss,
			    const struct sg_pre *p)
{
	long fl = sg_sys2(SYS_fcntl, fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK))
		return REAL(connect)(fd, sa, len) < 0 ? -errno : 0;
	int64_t span = (int64_t)ss->connect_timeout_ms * 1000000;
	int64_t own = sndtimeo_ns(fd);
	int own_first = own > 0 && own < span;
	int64_t deadline = sg_now_ns() + (own_first ? own : span);
	sg_sys3(SYS_fcntl, fd, F_SETFL, fl | O_NONBLOCK);
	long r = REAL(connect)(fd, sa, len) < 0 ? -errno : 0;
	if (r < 0 && r != -EFAULT)
		r = connect_retry(fd, sa, len, p, r, deadline, own_first);
	sg_sys3(SYS_fcntl, fd, F_SETFL, fl);
	if (r == -ETIMEDOUT && !own_first && sg_now_ns() >= deadline)
		abandon(fd);
	return r;
}

/*
 * Before the real call, the policy may want per-peer settings, buffer
 * sizes set before the handshake, or a bound on the connect
 * (SG_FAST_CONNECT).  Otherwise the address is read only after libc
 * accepted it, so that a bad pointer gives EFAULT as without the shim
 * instead of a crash.
 */
static SG_COLD int connect_careful(int fd, const struct sockaddr *sa,
				   socklen_t len, const struct sg_pre *p)
{
	struct sg_sock_settings buf;
	const struct sg_sock_settings *ss = sg_sock_settings_for(sa, len, &buf);
	int saved = errno;
	long r;

	sg_sockopts_apply(fd, ss, SG_OPT_BEFORE_CONNECT);
	if (ss->connect_timeout_ms && (sg_fd_get(fd) & SG_FD_TCP) &&
	    sg_cfg.mode == SG_MODE_HARDEN && sg_own_syscalls_allowed())
		r = connect_bounded(fd, sa, len, ss, p);
	else
		r = REAL(connect)(fd, sa, len) < 0 ? -errno : 0;
	if (r < 0 && r != -EFAULT)
		r = connect_retry(fd, sa, len, p, r, 0, 0);
	ended(fd, sa, len, r, ss);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	errno = saved;
	return 0;
}

static SG_COLD int connect_slow(int fd, const struct sockaddr *sa,
				socklen_t len, const struct sg_pre *p, int r)
{
	int saved = errno;

	if (!sg_acting() || saved == EFAULT)
		return r;
	long res = connect_retry(fd, sa, len, p, -saved, 0, 0);
	ended(fd, sa, len, res, &sg_cfg.sock);
	errno = res < 0 ? (int)-res : saved;
	return res < 0 ? -1 : 0;
}

/* A connect that succeeded, in any case but the common one. */
static SG_COLD int connected_any(int fd, const struct sockaddr *sa,
				 socklen_t len)
{
	if (sg_acting())
		ended(fd, sa, len, 0, &sg_cfg.sock);
	return 0;
}

/*
 * A connect that succeeded, in a straight line for the common case: the
 * shim acting, an IPv4 or IPv6 peer (libc accepted the address, so it can
 * be read), no socket options to apply.
 */
static inline int connected_now(int fd, const struct sockaddr *sa,
				socklen_t len)
{
	if (SG_UNLIKELY((unsigned)fd >= sg_peers_size || sg_thread.vfork_child ||
			!__atomic_load_n(&sg_proc.active, __ATOMIC_ACQUIRE) ||
			(sg_fast() & SG_FAST_SOCKOPTS)))
		return connected_any(fd, sa, len);
	if (!sg_peer_keep(&sg_peers[fd], sa, len))
		return connected_any(fd, sa, len);
	uint32_t w = __atomic_load_n(&sg_fdt[fd], __ATOMIC_RELAXED);
	__atomic_store_n(&sg_fdt[fd], (w & ~SG_FD_CONNECTING) | SG_FD_PEER,
			 __ATOMIC_RELAXED);
	return 0;
}

/* The arguments of a call, kept in memory for after it (sg_keep, io.h). */
struct cx {
	int fd;
	socklen_t len;
	const struct sockaddr *sa;
	struct sg_pre p;
};

/*
 * A socket with the program's own timeout (the clock is read before the
 * call) or a policy that prepares connects (SG_FAST_CONNECT).
 */
static SG_COLD int connect_timed(int fd, const struct sockaddr *sa,
				 socklen_t len)
{
	struct sg_pre p = sg_pre(fd, SG_DIR_OUT);

	if ((sg_fast() & SG_FAST_CONNECT) && sg_acting())
		return connect_careful(fd, sa, len, &p);
	int r = REAL(connect)(fd, sa, len);
	if (r == 0)
		return connected_any(fd, sa, len);
	return connect_slow(fd, sa, len, &p, r);
}

SG_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct cx a = { fd, len, sa, { sg_seq(), 0 } };

	if (SG_UNLIKELY(sg_fast() & (SG_FAST_CONNECT | SG_FAST_TIMEO)))
		return connect_timed(fd, sa, len);
	sg_keep(&a);
	int r = REAL(connect)(fd, sa, len);
	if (SG_LIKELY(r == 0))
		return connected_now(a.fd, a.sa, a.len);
	return connect_slow(a.fd, a.sa, a.len, &a.p, r);
}

/*
 * Event loops (curl, nginx, node) learn a non-blocking connect's outcome
 * here: an error found is classified like one from connect().
 */
static void so_error_seen(int fd, const void *val, socklen_t len)
{
	struct sockaddr_storage ss;
	struct sg_sock_settings buf;
	int err;

	if (!(sg_fd_get(fd) & SG_FD_CONNECTING) || len < sizeof(int))
		return;
	memcpy(&err, val, sizeof(err));
	int saved = errno;
	socklen_t plen = sg_fd_recall_peer(fd, &ss);
	const struct sockaddr *peer = plen ? (struct sockaddr *)&ss : NULL;
	if (err == 0) {
		connected(fd, sg_sock_settings_for(peer, plen, &buf));
	} else {
		struct sg_call c = { .op = SG_OP_CONNECT, .fd = fd,
				     .peer = peer, .peerlen = plen };
		struct sg_verdict v;

		sg_fd_clear_bits(fd, SG_FD_CONNECTING);
		sg_decide_returned(&c, err, &v);
		sg_call_event(&c, &v.event);
	}
	errno = saved;
}

SG_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int r = REAL(getsockopt)(fd, level, name, val, len);
	if (SG_UNLIKELY(level == SOL_SOCKET && name == SO_ERROR) && r == 0 &&
	    sg_acting())
		so_error_seen(fd, val, *len);
	return r;
}

static int nonzero(const void *val, socklen_t len)
{
	const unsigned char *p = val;
	for (socklen_t i = 0; i < len; i++) {
		if (p[i])
			return 1;
	}
	return 0;
}

/* Which bit remembers that the program set this option itself. */
static uint32_t user_bit(int level, int name)
{
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_KEEPALIVE: return SG_FD_USER_KA;
		case SO_SNDBUF: case SO_SNDBUFFORCE: return SG_FD_USER_SNDBUF;
		case SO_RCVBUF: case SO_RCVBUFFORCE: return SG_FD_USER_RCVBUF;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_KEEPIDLE: case TCP_KEEPINTVL: case TCP_KEEPCNT:
			return SG_FD_USER_KA;
		case TCP_USER_TIMEOUT: return SG_FD_USER_UTO;
		}
	}
	return 0;
}

/*
 * glibc's headers name both of the kernel's numbers for each timeout (the
 * old struct timeval and the 64-bit one); musl's name only the one its
 * time_t takes.
 */
#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_OLD SO_RCVTIMEO
#define SO_RCVTIMEO_NEW SO_RCVTIMEO
#define SO_SNDTIMEO_OLD SO_SNDTIMEO
#define SO_SNDTIMEO_NEW SO_SNDTIMEO
#endif

static uint32_t timeo_bit(int name)
{
	if (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW)
		return SG_FD_RCVTIMEO;
	if (name == SO_SNDTIMEO_OLD || name == SO_SNDTIMEO_NEW)
		return SG_FD_SNDTIMEO;
	return 0;
}

static void option_set(int fd, int level, int name, const void *val,
		       socklen_t len)
{
	uint32_t bit = level == SOL_SOCKET ? timeo_bit(name) : 0;

	if (bit && nonzero(val, len)) {
		sg_fd_set_bits(fd, bit);
		if (sg_acting())
			sg_fast_set(SG_FAST_TIMEO, 1);
	} else if (bit) {
		sg_fd_clear_bits(fd, bit);
	} else if ((bit = user_bit(level, name)) != 0) {
		sg_fd_set_bits(fd, bit);
	}
}

SG_EXPORT int setsockopt(int fd, int level, int name, const void *val,
			 socklen_t len)
{
	int r = REAL(setsockopt)(fd, level, name, val, len);
	if (r == 0 && (level == SOL_SOCKET || level == IPPROTO_TCP))
		option_set(fd, level, name, val, len);
	return r;
}

static uint32_t socket_bits(int domain, int type)
{
	uint32_t bits = SG_FD_KNOWN | SG_FD_SOCKET | sg_fd_socket_kind(domain, type);
	return (type & SOCK_NONBLOCK) ? bits | SG_FD_NONBLOCK : bits;
}

SG_EXPORT int socket(int domain, int type, int protocol)
{
	sg_live_check();
	int fd = REAL(socket)(domain, type, protocol);
	if (fd >= 0)
		sg_fd_store(fd, socket_bits(domain, type));
	return fd;
}

SG_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	int r = REAL(socketpair)(domain, type, protocol, sv);
	if (r == 0) {
		sg_fd_store(sv[0], socket_bits(domain, type));
		sg_fd_store(sv[1], socket_bits(domain, type));
	}
	return r;
}

SG_EXPORT int listen(int fd, int backlog)
{
	if (sg_acting()) {
		sg_sockopts_apply(fd, &sg_cfg.sock, SG_OPT_LISTEN);
		sg_accept_reserve_take();
	}
	int r = REAL(listen)(fd, backlog);
	if (r == 0)
		sg_fd_set_bits(fd, SG_FD_LISTEN);
	return r;
}
