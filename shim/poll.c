/*
 * The readiness calls: poll, ppoll, select, pselect, epoll_wait, epoll_pwait
 * (and __poll_chk, __ppoll_chk), plus epoll_create/epoll_ctl.  They tell the
 * EAGAIN rules which sockets the program watches (SPEC.md section 3), and
 * their EINTR is retried with only the time that is left.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

#include "counters.h"
#include "fdtable.h"
#include "real.h"
#include "retry.h"
#include "shim.h"
#include "signals.h"

/* eagain=unwatched needs to know each watched descriptor, not just that one was. */
static int mark_each(void)
{
	return sg_cfg.eagain == SG_EAGAIN_UNWATCHED;
}

static void watch_fd(int fd)
{
	if (!sg_proc_watched) {
		uint32_t st = sg_fd_classify(fd);
		if (st & SG_FD_SOCKET)
			__atomic_store_n(&sg_proc_watched, 1, __ATOMIC_RELAXED);
	}
	if (mark_each())
		sg_fd_set_bits(fd, SG_FD_WATCHED);
}

static SG_COLD void mark_pollfds(const struct pollfd *fds, nfds_t n)
{
	int saved = errno;
	for (nfds_t i = 0; i < n; i++) {
		if (fds[i].fd >= 0)
			watch_fd(fds[i].fd);
	}
	errno = saved;
}

/* Whether a readiness call must look at its descriptors at all. */
static inline int must_note(void)
{
	return SG_UNLIKELY(!sg_proc_watched || mark_each()) && sg_active;
}

static inline void note_pollfds(const struct pollfd *fds, nfds_t n)
{
	if (must_note())
		mark_pollfds(fds, n);
}

static void note_fdsets(int n, const fd_set *r, const fd_set *w, const fd_set *e)
{
	if (!must_note())
		return;
	int saved = errno;
	for (int fd = 0; fd < n && fd < FD_SETSIZE; fd++) {
		if ((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) ||
		    (e && FD_ISSET(fd, e)))
			watch_fd(fd);
	}
	errno = saved;
}

/*
 * Whether EINTR from a readiness call is retried: harden mode, eintr=retry,
 * and no signal in eintr_pass ran on this thread since seq was read.
 */
static int retry_eintr(uint64_t seq)
{
	if (!sg_hardening() || sg_cfg.eintr != SG_EINTR_RETRY || sg_sigseq() != seq)
		return 0;
	sg_count(&sockguard_counters.retries[SG_RETRY_EINTR], 1);
	return 1;
}

/*
 * ppoll/pselect/epoll_pwait with a mask that lets in a signal the thread
 * otherwise blocks: that EINTR is the wake-up the program asked for (the
 * race-free way to wait for "a descriptor or a signal"), never retried.
 */
static int mask_opens(const sigset_t *mask)
{
	sigset_t cur;

	if (mask == NULL)
		return 0;
	if (pthread_sigmask(SIG_SETMASK, NULL, &cur) != 0)
		return 1;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sigismember(&cur, sig) == 1 && sigismember(mask, sig) == 0)
			return 1;
	}
	return 0;
}

/* Milliseconds left of a poll-style timeout begun at t0 (-1: forever). */
static int ms_left(int timeout, int64_t t0)
{
	if (timeout <= 0)
		return timeout;
	int64_t left = t0 + (int64_t)timeout * 1000000 - sg_now_ns();
	return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

static void ts_left(const struct timespec *ts, int64_t t0, struct timespec *out)
{
	int64_t span = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
	int64_t left = t0 + span - sg_now_ns();
	if (left < 0)
		left = 0;
	out->tv_sec = left / 1000000000;
	out->tv_nsec = left % 1000000000;
}

static int poll_common(struct pollfd *fds, nfds_t n, int timeout)
{
	note_pollfds(fds, n);
	uint64_t seq = sg_sigseq();
	int64_t t0 = timeout > 0 ? sg_now_ns() : 0;
	int r = REAL(poll)(fds, n, timeout);
	while (SG_UNLIKELY(r < 0) && errno == EINTR && retry_eintr(seq))
		r = REAL(poll)(fds, n, ms_left(timeout, t0));
	return r;
}

SG_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	return poll_common(fds, n, timeout);
}

SG_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t len)
{
	if (len / sizeof(*fds) < n)
		return REAL(__poll_chk)(fds, n, timeout, len);	/* aborts */
	return poll_common(fds, n, timeout);
}

static int ppoll_common(struct pollfd *fds, nfds_t n, const struct timespec *ts,
			const sigset_t *mask)
{
	note_pollfds(fds, n);
	uint64_t seq = sg_sigseq();
	int64_t t0 = ts ? sg_now_ns() : 0;
	int r = REAL(ppoll)(fds, n, ts, mask);
	while (SG_UNLIKELY(r < 0) && errno == EINTR && !mask_opens(mask) &&
	       retry_eintr(seq)) {
		struct timespec left;
		if (ts)
			ts_left(ts, t0, &left);
		r = REAL(ppoll)(fds, n, ts ? &left : NULL, mask);
	}
	return r;
}

SG_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		    const sigset_t *mask)
{
	return ppoll_common(fds, n, ts, mask);
}

SG_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
			  const sigset_t *mask, size_t len)
{
	if (len / sizeof(*fds) < n)
		return REAL(__ppoll_chk)(fds, n, ts, mask, len);	/* aborts */
	return ppoll_common(fds, n, ts, mask);
}

/* select(2): on error the sets are unmodified, so a retry reuses them. */
SG_EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	note_fdsets(n, r, w, e);
	uint64_t seq = sg_sigseq();
	struct timespec span = { 0, 0 };
	int64_t t0 = 0;
	if (tv) {
		span.tv_sec = tv->tv_sec;
		span.tv_nsec = tv->tv_usec * 1000;
		t0 = sg_now_ns();
	}
	int res = REAL(select)(n, r, w, e, tv);
	while (SG_UNLIKELY(res < 0) && errno == EINTR && retry_eintr(seq)) {
		if (tv) {
			struct timespec left;
			ts_left(&span, t0, &left);
			tv->tv_sec = left.tv_sec;
			tv->tv_usec = left.tv_nsec / 1000;
		}
		res = REAL(select)(n, r, w, e, tv);
	}
	return res;
}

SG_EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e,
		      const struct timespec *ts, const sigset_t *mask)
{
	note_fdsets(n, r, w, e);
	uint64_t seq = sg_sigseq();
	int64_t t0 = ts ? sg_now_ns() : 0;
	int res = REAL(pselect)(n, r, w, e, ts, mask);
	while (SG_UNLIKELY(res < 0) && errno == EINTR && !mask_opens(mask) &&
	       retry_eintr(seq)) {
		struct timespec left;
		if (ts)
			ts_left(ts, t0, &left);
		res = REAL(pselect)(n, r, w, e, ts ? &left : NULL, mask);
	}
	return res;
}

SG_EXPORT int epoll_wait(int ep, struct epoll_event *ev, int max, int timeout)
{
	uint64_t seq = sg_sigseq();
	int64_t t0 = timeout > 0 ? sg_now_ns() : 0;
	int r = REAL(epoll_wait)(ep, ev, max, timeout);
	while (SG_UNLIKELY(r < 0) && errno == EINTR && retry_eintr(seq))
		r = REAL(epoll_wait)(ep, ev, max, ms_left(timeout, t0));
	return r;
}

SG_EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int max, int timeout,
			  const sigset_t *mask)
{
	uint64_t seq = sg_sigseq();
	int64_t t0 = timeout > 0 ? sg_now_ns() : 0;
	int r = REAL(epoll_pwait)(ep, ev, max, timeout, mask);
	while (SG_UNLIKELY(r < 0) && errno == EINTR && !mask_opens(mask) &&
	       retry_eintr(seq))
		r = REAL(epoll_pwait)(ep, ev, max, ms_left(timeout, t0), mask);
	return r;
}

static void epoll_created(int fd)
{
	if (fd >= 0)
		__atomic_store_n(&sg_proc_watched, 1, __ATOMIC_RELAXED);
}

SG_EXPORT int epoll_create(int size)
{
	int fd = REAL(epoll_create)(size);
	epoll_created(fd);
	return fd;
}

SG_EXPORT int epoll_create1(int flags)
{
	int fd = REAL(epoll_create1)(flags);
	epoll_created(fd);
	return fd;
}

SG_EXPORT int epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
	int r = REAL(epoll_ctl)(ep, op, fd, ev);
	if (r == 0 && op != EPOLL_CTL_DEL && mark_each())
		sg_fd_set_bits(fd, SG_FD_WATCHED);
	return r;
}
