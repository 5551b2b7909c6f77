/*
 * connect, and what surrounds it: socket, socketpair, listen, setsockopt
 * (to remember what the program set itself) and getsockopt(SO_ERROR) (where
 * event loops learn the outcome of a non-blocking connect).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "counters.h"
#include "event.h"
#include "fdtable.h"
#include "io.h"
#include "real.h"
#include "retry.h"
#include "shim.h"
#include "signals.h"
#include "sockopts.h"

void sg_accept_reserve_take(void);

static void connect_event(int fd, int cls, int err, int action, int deadline,
			  const struct sockaddr *sa, socklen_t len)
{
	struct sg_event ev = {
		.cls = cls >= 0 ? cls : sg_classify_errno(err, "connect"),
		.op = "connect", .err = err, .action = action, .fd = fd,
		.deadline = deadline, .peer = sa, .peerlen = len,
	};
	if (ev.cls == SG_CLASS_TIMEOUT && deadline == SG_DEADLINE_NONE)
		ev.deadline = SG_DEADLINE_RETRANS;
	if (ev.cls != SG_CLASS_NONE)
		sg_event_emit(&ev);
}

/* The outcome of a connect already under way, from SO_ERROR. */
static int so_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

/*
 * Waits for a connect under way (connect(2): after EINTR or EINPROGRESS,
 * poll for writability, then read SO_ERROR).  Returns 0 or -errno; -EINTR
 * when a signal in eintr_pass ran, -ETIMEDOUT at deadline_ns.
 */
static int await_connect(int fd, uint64_t seq, int64_t deadline_ns)
{
	struct sg_call c = { .op = "connect", .fd = fd, .dir = SG_DIR_OUT,
			     .sigseq = seq };
	int w = sg_wait_ready(&c, deadline_ns);
	if (w == 0)
		return -ETIMEDOUT;
	if (w < 0)
		return w;
	int err = so_error(fd);
	return err ? -err : 0;
}

static void connected(int fd, const struct sg_sock_settings *ss)
{
	sg_fd_clear_bits(fd, SG_FD_CONNECTING);
	sg_sockopts_apply(fd, ss, SG_OPT_ESTABLISHED);
}

/* After a plain connect failed with err. */
static int connect_failed(int fd, const struct sockaddr *sa, socklen_t len,
			  uint64_t seq, int64_t t0, int err)
{
	if (err == EINPROGRESS) {
		sg_fd_set_bits(fd, SG_FD_CONNECTING);
		return -err;
	}
	if (err == EINTR && sg_hardening() && sg_cfg.eintr == SG_EINTR_RETRY &&
	    sg_sigseq() == seq) {
		struct sg_call c = { .fd = fd, .dir = SG_DIR_OUT, .start_ns = t0,
				     .fdstate = sg_fd_get(fd) };
		sg_call_timeout(&c);
		sg_count(&sockguard_counters.retries[SG_RETRY_EINTR], 1);
		int r = await_connect(fd, seq, c.deadline_ns);
		if (r == -ETIMEDOUT && c.deadline_ns && sg_now_ns() >= c.deadline_ns)
			r = -EINPROGRESS;	/* what SO_SNDTIMEO gives connect(2) */
		if (r < 0 && r != -EINTR && r != -EINPROGRESS)
			connect_event(fd, -1, -r, SG_ACTION_RETURNED,
				      SG_DEADLINE_NONE, sa, len);
		return r;
	}
	connect_event(fd, -1, err, SG_ACTION_RETURNED, SG_DEADLINE_NONE, sa, len);
	return -err;
}

/*
 * Whether connect() must read the address before the real call: per-peer
 * settings, a connect_timeout or buffer sizes to set before the handshake.
 * Otherwise the address is read only after libc accepted it, so that a bad
 * pointer gives EFAULT as without the shim instead of a crash.
 */
static int settings_before_connect(void)
{
	const struct sg_sock_settings *s = &sg_cfg.sock;
	return sg_pol_has_peers || s->connect_timeout_ms || s->sndbuf || s->rcvbuf;
}

static int connect_plain(int fd, const struct sockaddr *sa, socklen_t len,
			 uint64_t seq, int64_t t0)
{
	int r = REAL(connect)(fd, sa, len);
	if (SG_LIKELY(r == 0))
		return 0;
	int err = errno;
	if (err == EFAULT)
		return -err;
	sg_fd_remember_peer(fd, sa, len);
	return connect_failed(fd, sa, len, seq, t0, err);
}

/* The program's own SO_SNDTIMEO in ns (0: none): it bounds connect(2) too. */
static int64_t sndtimeo_ns(int fd)
{
	struct timeval tv = { 0, 0 };
	socklen_t len = sizeof(tv);

	if (!(sg_fd_get(fd) & SG_FD_SNDTIMEO) ||
	    REAL(getsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) < 0)
		return 0;
	return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
}

/*
 * Abandons a connect still under way: connect(2) with AF_UNSPEC dissolves
 * it, so the handshake cannot complete behind the program's back after it
 * was told ETIMEDOUT.
 */
static void abandon(int fd)
{
	struct sockaddr none = { .sa_family = AF_UNSPEC };
	int saved = errno;
	REAL(connect)(fd, &none, sizeof(none));
	errno = saved;
}

/*
 * connect_timeout: a blocking connect bounded by the policy's deadline, or
 * by the program's shorter SO_SNDTIMEO (then EINPROGRESS, as the kernel
 * says).  A non-blocking socket is the program's business: plain path.
 */
static int connect_bounded(int fd, const struct sockaddr *sa, socklen_t len,
			   const struct sg_sock_settings *ss, uint64_t seq,
			   int64_t t0)
{
	int fl = REAL(fcntl)(fd, F_GETFL, 0);
	if (fl < 0 || (fl & O_NONBLOCK))
		return connect_plain(fd, sa, len, seq, t0);
	int64_t span = (int64_t)ss->connect_timeout_ms * 1000000;
	int64_t own = sndtimeo_ns(fd);
	int own_first = own > 0 && own < span;
	int64_t deadline = sg_now_ns() + (own_first ? own : span);
	REAL(fcntl)(fd, F_SETFL, (unsigned long)(fl | O_NONBLOCK));
	int r = REAL(connect)(fd, sa, len) < 0 ? -errno : 0;
	if (r == -EINPROGRESS)
		r = await_connect(fd, seq, deadline);
	REAL(fcntl)(fd, F_SETFL, (unsigned long)fl);
	if (r == -ETIMEDOUT && sg_now_ns() >= deadline) {
		if (own_first)
			return -EINPROGRESS;
		abandon(fd);
		connect_event(fd, SG_CLASS_TIMEOUT, ETIMEDOUT, SG_ACTION_TIMED_OUT,
			      SG_DEADLINE_CONNECT_TIMEOUT, sa, len);
	} else if (r < 0 && r != -EINTR && r != -EFAULT) {
		connect_event(fd, -1, -r, SG_ACTION_RETURNED, SG_DEADLINE_NONE, sa, len);
	}
	return r;
}

SG_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (!sg_active)
		return REAL(connect)(fd, sa, len);
	uint64_t seq = sg_sigseq();
	uint32_t st = sg_fd_get(fd);
	int64_t t0 = SG_UNLIKELY(st & SG_FD_SNDTIMEO) ? sg_now_ns() : 0;
	struct sg_sock_settings buf;
	const struct sg_sock_settings *ss = &sg_cfg.sock;
	int saved = errno, r;

	if (SG_UNLIKELY(settings_before_connect())) {
		ss = sg_sock_settings_for(sa, len, &buf);
		sg_fd_remember_peer(fd, sa, len);
		sg_sockopts_apply(fd, ss, SG_OPT_BEFORE_CONNECT);
	}
	if (SG_UNLIKELY(ss->connect_timeout_ms) && sg_hardening())
		r = connect_bounded(fd, sa, len, ss, seq, t0);
	else
		r = connect_plain(fd, sa, len, seq, t0);
	if (r == 0) {
		sg_fd_remember_peer(fd, sa, len);
		connected(fd, ss);
		errno = saved;
		return 0;
	}
	errno = -r;
	return -1;
}

/*
 * Event loops (curl, nginx, node) learn a non-blocking connect's outcome
 * here: an error found is classified like one from connect().
 */
static void so_error_seen(int fd, const void *val, socklen_t len)
{
	int err;
	struct sockaddr_storage ss;

	if (!(sg_fd_get(fd) & SG_FD_CONNECTING) || len < sizeof(int))
		return;
	memcpy(&err, val, sizeof(err));
	int saved = errno;
	socklen_t plen = sg_fd_recall_peer(fd, &ss);
	const struct sockaddr *peer = plen ? (struct sockaddr *)&ss : NULL;
	struct sg_sock_settings buf;
	if (err == 0) {
		connected(fd, sg_sock_settings_for(peer, plen, &buf));
	} else {
		sg_fd_clear_bits(fd, SG_FD_CONNECTING);
		connect_event(fd, -1, err, SG_ACTION_RETURNED, SG_DEADLINE_NONE,
			      peer, plen);
	}
	errno = saved;
}

SG_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int r = REAL(getsockopt)(fd, level, name, val, len);
	if (SG_UNLIKELY(level == SOL_SOCKET && name == SO_ERROR) && r == 0 &&
	    sg_active)
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

static void option_set(int fd, int level, int name, const void *val,
		       socklen_t len)
{
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW ||
	    name == SO_SNDTIMEO_OLD || name == SO_SNDTIMEO_NEW)) {
		uint32_t bit = (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW) ?
			SG_FD_RCVTIMEO : SG_FD_SNDTIMEO;
		if (nonzero(val, len)) {
			sg_fd_set_bits(fd, bit);
			__atomic_store_n(&sg_any_timeo, 1, __ATOMIC_RELAXED);
		} else {
			sg_fd_clear_bits(fd, bit);
		}
		return;
	}
	uint32_t bit = user_bit(level, name);
	if (bit)
		sg_fd_set_bits(fd, bit);
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
	if (sg_active) {
		sg_sockopts_apply(fd, &sg_cfg.sock, SG_OPT_LISTEN);
		sg_accept_reserve_take();
	}
	int r = REAL(listen)(fd, backlog);
	if (r == 0)
		sg_fd_set_bits(fd, SG_FD_LISTEN);
	return r;
}
