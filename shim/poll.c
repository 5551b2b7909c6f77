/*
 * The readiness calls: poll, ppoll, select, pselect, epoll_wait, epoll_pwait
 * (and __poll_chk, __ppoll_chk), plus epoll_create/epoll_ctl.  They tell the
 * EAGAIN rules which sockets the program watches (man page, EAGAIN), and
 * their EINTR goes to the retry driver, which makes them again with only
 * the time that is left.
 *
 * Noting what is watched costs no system call: a descriptor the shim has
 * not classified is remembered as "watched, kind unknown", and only an
 * EAGAIN that needs the answer (an error path) asks the kernel what it is.
 */
#include "poll.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

#include "clock.h"
#include "fdtable.h"
#include "io.h"
#include "real.h"
#include "retry.h"
#include "shim.h"
#include "sigset.h"
#include "state.h"

/* eagain=unwatched needs each watched descriptor, not only that one was. */
static int mark_each(void)
{
	return sg_cfg.eagain == SG_EAGAIN_UNWATCHED;
}

/*
 * The readiness calls look at their descriptors only while it can change
 * an EAGAIN decision: until the process is known to watch a socket, or for
 * ever under eagain=unwatched (SG_FAST_WATCH, one bit of the word every
 * wrapper reads, set by sg_state_follow).
 */
static void set_watched(void)
{
	if (__atomic_load_n(&sg_proc.watched, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&sg_proc.watched, 1, __ATOMIC_RELAXED);
	if (!mark_each())
		sg_fast_set(SG_FAST_WATCH, 0);
}

static void watch_fd(int fd, int each)
{
	uint32_t st = sg_fd_get(fd);

	if (each || !(st & SG_FD_KNOWN))
		sg_fd_set_bits(fd, SG_FD_WATCHED);
	if (st & SG_FD_SOCKET) {
		set_watched();
	} else if (!(st & SG_FD_KNOWN)) {
		int top = __atomic_load_n(&sg_proc.watch_unknown, __ATOMIC_RELAXED);
		if (fd >= top)
			__atomic_store_n(&sg_proc.watch_unknown, fd + 1,
					 __ATOMIC_RELAXED);
	}
}

/* Whether a readiness call must look at its descriptors at all. */
static inline int must_note(void)
{
	return SG_UNLIKELY(sg_fast() & SG_FAST_WATCH) && sg_acting();
}

static SG_COLD void note_pollfds(const struct pollfd *fds, nfds_t n)
{
	int each = mark_each();
	for (nfds_t i = 0; i < n; i++) {
		if (fds[i].fd >= 0)
			watch_fd(fds[i].fd, each);
	}
}

static SG_COLD void note_fdsets(int n, const fd_set *r, const fd_set *w,
				const fd_set *e)
{
	int each = mark_each();
	for (int fd = 0; fd < n && fd < FD_SETSIZE; fd++) {
		if ((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) ||
		    (e && FD_ISSET(fd, e)))
			watch_fd(fd, each);
	}
}

/*
 * Whether the process watches a socket, for the EAGAIN rules (error path):
 * descriptors of unknown kind that were polled are classified now.  A
 * process that may make no system call of its own counts them as sockets,
 * which only makes the shim wait less.
 */
int sg_poll_watched(void)
{
	if (__atomic_load_n(&sg_proc.watched, __ATOMIC_RELAXED))
		return 1;
	int top = __atomic_exchange_n(&sg_proc.watch_unknown, 0, __ATOMIC_RELAXED);
	for (int fd = 0; fd < top; fd++) {
		uint32_t st = sg_fd_get(fd);
		if ((st & SG_FD_WATCHED) && !(st & SG_FD_KNOWN) &&
		    (!sg_own_syscalls_allowed() || (sg_fd_classify(fd) & SG_FD_SOCKET))) {
			set_watched();
			return 1;
		}
	}
	return 0;
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
	if (sg_sigmask(SIG_SETMASK, NULL, &cur) != 0)
		return 1;
	return (sg_sigset_bits(&cur) & ~sg_sigset_bits(mask)) != 0;
}

/* Nanoseconds left of a span begun at t0 (never negative). */
static int64_t left_ns(int64_t span, int64_t t0)
{
	int64_t left = t0 + span - sg_now_ns();
	return left < 0 ? 0 : left;
}

/* Milliseconds left of a poll-style timeout (-1: forever, 0: none). */
static int ms_left(int timeout, int64_t t0)
{
	if (timeout <= 0)
		return timeout;
	int64_t left = left_ns((int64_t)timeout * 1000000, t0);
	return (int)((left + 999999) / 1000000);
}

static void ts_left(const struct timespec *ts, int64_t t0, struct timespec *out)
{
	int64_t left = left_ns((int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec, t0);
	out->tv_sec = left / 1000000000;
	out->tv_nsec = left % 1000000000;
}

/*
 * The arguments of a readiness call, kept in memory for the slow path
 * (sg_keep in io.h), which makes the call again with the time left.
 */
struct wait_args {
	struct pollfd *fds;
	nfds_t n;
	int timeout;
	int ep;
	const struct timespec *ts;
	const sigset_t *mask;
	struct epoll_event *ev;
	int max;
	int nfds;
	uint64_t seq;
	struct sg_stamp stamp;	/* when the call began (clock.h) */
	fd_set *r, *w, *e;
	struct timeval *tv;
	struct timespec span;	/* select: the timeout as given */
};

static long result(long r)
{
	return r < 0 ? -errno : r;
}

static long again_poll(struct sg_call *c, void *ctx, int how)
{
	struct wait_args *a = ctx;
	return result(REAL(poll)(a->fds, a->n, ms_left(a->timeout, c->start_ns)));
}

static long again_ppoll(struct sg_call *c, void *ctx, int how)
{
	struct wait_args *a = ctx;
	struct timespec left;

	if (a->ts)
		ts_left(a->ts, c->start_ns, &left);
	return result(REAL(ppoll)(a->fds, a->n, a->ts ? &left : NULL, a->mask));
}

/* select(2): on error the sets are unmodified, so a retry reuses them. */
static long again_select(struct sg_call *c, void *ctx, int how)
{
	struct wait_args *a = ctx;
	struct timespec left;

	if (a->tv) {
		ts_left(&a->span, c->start_ns, &left);
		a->tv->tv_sec = left.tv_sec;
		a->tv->tv_usec = left.tv_nsec / 1000;
	}
	return result(REAL(select)(a->nfds, a->r, a->w, a->e, a->tv));
}

static long again_pselect(struct sg_call *c, void *ctx, int how)
{
	struct wait_args *a = ctx;
	struct timespec left;

	if (a->ts)
		ts_left(a->ts, c->start_ns, &left);
	return result(REAL(pselect)(a->nfds, a->r, a->w, a->e,
				    a->ts ? &left : NULL, a->mask));
}

static long again_epoll(struct sg_call *c, void *ctx, int how)
{
	struct wait_args *a = ctx;
	int ms = ms_left(a->timeout, c->start_ns);

	if (a->mask)
		return result(REAL(epoll_pwait)(a->ep, a->ev, a->max, ms, a->mask));
	return result(REAL(epoll_wait)(a->ep, a->ev, a->max, ms));
}

/* Whether a readiness call has a timeout that a retry must shorten. */
static int timed(int op, const struct wait_args *a)
{
	switch (op) {
	case SG_OP_PPOLL: case SG_OP_PSELECT:
		return a->ts != NULL;
	case SG_OP_SELECT:
		return a->tv != NULL;
	default:
		return a->timeout > 0;
	}
}

/*
 * EINTR from a readiness call: the driver decides.  The success path kept
 * no more than it needs: the fields of the call's own arguments (the
 * others are set here) and a stamp, which becomes the clock only now.  A
 * stamp whose time cannot be told leaves the EINTR to the program, as
 * without the shim, rather than risk waiting longer than it asked.
 */
static SG_COLD int wait_slow(int op, int r, sg_attempt_fn fn,
			     struct wait_args *a)
{
	struct sg_pre p = { a->seq, 0 };
	struct sg_call c;

	if (errno != EINTR)
		return r;
	if (op == SG_OP_POLL || op == SG_OP_EPOLL_WAIT || op == SG_OP_SELECT)
		a->mask = NULL;
	if (timed(op, a)) {
		p.t0 = sg_stamp_ns(&a->stamp);
		if (p.t0 < 0) {
			errno = EINTR;
			return r;
		}
	}
	sg_call_init(&c, op, -1, &p);
	c.mask_opens = mask_opens(a->mask);
	return (int)sg_slow(&c, r, fn, a);
}

/* poll while the process's watched sockets are still being noted. */
static SG_COLD int poll_careful(struct pollfd *fds, nfds_t n, int timeout)
{
	struct wait_args a;

	if (must_note())
		note_pollfds(fds, n);
	a.fds = fds, a.n = n, a.timeout = timeout, a.seq = sg_seq(),
	sg_stamp_take(&a.stamp);
	sg_keep(&a);
	int r = REAL(poll)(fds, n, timeout);
	if (SG_LIKELY(r >= 0))
		return r;
	return wait_slow(SG_OP_POLL, r, again_poll, &a);
}

static inline __attribute__((always_inline)) int
poll_common(struct pollfd *fds, nfds_t n, int timeout)
{
	struct wait_args a;

	if (SG_UNLIKELY(sg_fast() & SG_FAST_WATCH))
		return poll_careful(fds, n, timeout);
	a.fds = fds, a.n = n, a.timeout = timeout, a.seq = sg_seq(),
	sg_stamp_take(&a.stamp);
	sg_keep(&a);
	int r = REAL(poll)(fds, n, timeout);
	if (SG_LIKELY(r >= 0))
		return r;
	return wait_slow(SG_OP_POLL, r, again_poll, &a);
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
	struct wait_args a;

	if (must_note())
		note_pollfds(fds, n);
	a.fds = fds, a.n = n, a.ts = ts, a.mask = mask, a.seq = sg_seq(),
	sg_stamp_take(&a.stamp);
	sg_keep(&a);
	int r = REAL(ppoll)(fds, n, ts, mask);
	if (SG_LIKELY(r >= 0))
		return r;
	return wait_slow(SG_OP_PPOLL, r, again_ppoll, &a);
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

SG_EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	struct wait_args a;

	if (must_note())
		note_fdsets(n, r, w, e);
	a.nfds = n, a.r = r, a.w = w, a.e = e, a.tv = tv, a.seq = sg_seq(),
	sg_stamp_take(&a.stamp);
	if (tv) {
		a.span.tv_sec = tv->tv_sec;
		a.span.tv_nsec = tv->tv_usec * 1000;
	}
	sg_keep(&a);
	int res = REAL(select)(n, r, w, e, tv);
	if (SG_LIKELY(res >= 0))
		return res;
	return wait_slow(SG_OP_SELECT, res, again_select, &a);
}

SG_EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e,
		      const struct timespec *ts, const sigset_t *mask)
{
	struct wait_args a;

	if (must_note())
		note_fdsets(n, r, w, e);
	a.nfds = n, a.r = r, a.w = w, a.e = e, a.ts = ts, a.mask = mask,
	a.seq = sg_seq(), sg_stamp_take(&a.stamp);
	sg_keep(&a);
	int res = REAL(pselect)(n, r, w, e, ts, mask);
	if (SG_LIKELY(res >= 0))
		return res;
	return wait_slow(SG_OP_PSELECT, res, again_pselect, &a);
}

SG_EXPORT int epoll_wait(int ep, struct epoll_event *ev, int max, int timeout)
{
	struct wait_args a;

	a.ep = ep, a.ev = ev, a.max = max, a.timeout = timeout, a.seq = sg_seq(),
	sg_stamp_take(&a.stamp);
	sg_keep(&a);
	int r = REAL(epoll_wait)(ep, ev, max, timeout);
	if (SG_LIKELY(r >= 0))
		return r;
	return wait_slow(SG_OP_EPOLL_WAIT, r, again_epoll, &a);
}

SG_EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int max, int timeout,
			  const sigset_t *mask)
{
	struct wait_args a;

	a.ep = ep, a.ev = ev, a.max = max, a.timeout = timeout, a.mask = mask,
	a.seq = sg_seq(), sg_stamp_take(&a.stamp);
	sg_keep(&a);
	int r = REAL(epoll_pwait)(ep, ev, max, timeout, mask);
	if (SG_LIKELY(r >= 0))
		return r;
	return wait_slow(SG_OP_EPOLL_PWAIT, r, again_epoll, &a);
}

static int epoll_created(int fd)
{
	if (fd >= 0 && sg_acting())
		set_watched();
	return fd;
}

SG_EXPORT int epoll_create(int size)
{
	return epoll_created(REAL(epoll_create)(size));
}

SG_EXPORT int epoll_create1(int flags)
{
	return epoll_created(REAL(epoll_create1)(flags));
}

SG_EXPORT int epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
	int r = REAL(epoll_ctl)(ep, op, fd, ev);
	/* eagain=unwatched keeps SG_FAST_WATCH set: the word says it first. */
	if (r == 0 && op != EPOLL_CTL_DEL && (sg_fast() & SG_FAST_WATCH) &&
	    mark_each())
		sg_fd_set_bits(fd, SG_FD_WATCHED);
	return r;
}
