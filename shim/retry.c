/*
 * The retry engine.  See retry.h for the contract, SPEC.md section 3 for the
 * rules it applies.
 */
#include "retry.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>

#include "counters.h"
#include "event.h"
#include "fdtable.h"
#include "real.h"
#include "shim.h"
#include "signals.h"

int sg_proc_watched;

int64_t sg_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sg_call_event(const struct sg_call *c, int cls, int err, int action,
		   int deadline)
{
	struct sg_event ev = {
		.cls = cls >= 0 ? cls : sg_classify_errno(err, c->op),
		.op = c->op, .err = err, .action = action, .tries = c->tries,
		.deadline = deadline, .fd = c->fd,
	};
	if (ev.cls == SG_CLASS_NONE)
		return;
	if (ev.cls == SG_CLASS_TIMEOUT && deadline == SG_DEADLINE_NONE &&
	    err == ETIMEDOUT)
		ev.deadline = SG_DEADLINE_RETRANS;
	sg_event_emit(&ev);
}

static int timeo_bit(const struct sg_call *c)
{
	return c->dir == SG_DIR_IN ? SG_FD_RCVTIMEO : SG_FD_SNDTIMEO;
}

static int timeo_kind(const struct sg_call *c)
{
	return c->dir == SG_DIR_IN ? SG_DEADLINE_SO_RCVTIMEO :
				     SG_DEADLINE_SO_SNDTIMEO;
}

void sg_call_timeout(struct sg_call *c)
{
	struct timeval tv = { 0, 0 };
	socklen_t len = sizeof(tv);
	int opt = c->dir == SG_DIR_IN ? SO_RCVTIMEO : SO_SNDTIMEO;

	if (c->deadline_ns || !(c->fdstate & timeo_bit(c)) || !c->start_ns)
		return;
	if (REAL(getsockopt)(c->fd, SOL_SOCKET, opt, &tv, &len) < 0)
		return;
	int64_t span = (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
	if (span > 0) {
		c->deadline_ns = c->start_ns + span;
		c->deadline_kind = timeo_kind(c);
	}
}

int sg_wait_ready(struct sg_call *c, int64_t deadline_ns)
{
	struct pollfd pfd = { c->fd, c->dir == SG_DIR_IN ? POLLIN : POLLOUT, 0 };

	for (;;) {
		int ms = -1;
		if (deadline_ns) {
			int64_t left = deadline_ns - sg_now_ns();
			if (left <= 0)
				return 0;
			ms = (int)((left + 999999) / 1000000);
		}
		int n = REAL(poll)(&pfd, 1, ms);
		if (n > 0)
			return 1;
		if (n == 0 && deadline_ns == 0)
			continue;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n < 0 && sg_sigseq() != c->sigseq)
			return -EINTR;
	}
}

static int fd_nonblocking(struct sg_call *c)
{
	int fl = REAL(fcntl)(c->fd, F_GETFL, 0);
	if (fl < 0)
		return 1;
	if (fl & O_NONBLOCK)
		sg_fd_set_bits(c->fd, SG_FD_NONBLOCK);
	else
		sg_fd_clear_bits(c->fd, SG_FD_NONBLOCK);
	return (fl & O_NONBLOCK) != 0;
}

/*
 * Whether EAGAIN on this call is waited out (SPEC.md section 3, EAGAIN).
 * Event loops are answered without a system call, since they meet EAGAIN on
 * every optimistic read.  *timeout is set when the EAGAIN is the program's
 * own SO_RCVTIMEO/SO_SNDTIMEO expiring on a blocking socket.
 */
static int eagain_waitable(struct sg_call *c, int *timeout)
{
	int mode = sg_cfg.eagain;
	int timeo = (c->fdstate & timeo_bit(c)) != 0;

	*timeout = 0;
	if (c->dontwait && !timeo)
		return 0;
	if (!timeo && sg_proc_watched && (mode == SG_EAGAIN_AUTO ||
	    (mode == SG_EAGAIN_UNWATCHED && (c->fdstate & SG_FD_WATCHED))))
		return 0;
	if (!c->dontwait && !fd_nonblocking(c)) {
		*timeout = timeo;
		return !timeo && mode != SG_EAGAIN_OFF && sg_hardening();
	}
	if (c->dontwait || !sg_hardening())
		return 0;
	switch (mode) {
	case SG_EAGAIN_AUTO:
		return !sg_proc_watched;
	case SG_EAGAIN_UNWATCHED:
		return !sg_proc_watched || !(c->fdstate & SG_FD_WATCHED);
	case SG_EAGAIN_ALWAYS:
		return 1;
	default:
		return 0;
	}
}

static int accept_retryable(int err)
{
	switch (err) {
	case ECONNABORTED: case EPROTO: case ENETDOWN: case ENOPROTOOPT:
	case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP:
	case ENETUNREACH:
		return 1;
	default:
		return 0;
	}
}

/* The result the program gets when the engine stops at error err. */
static ssize_t give_up(struct sg_call *c, int err)
{
	if (c->is_send && c->done > 0) {
		if (err != EAGAIN && err != EINTR)
			sg_fd_set_pending(c->fd, err);
		sg_fd_note_send(c->fd);
		return (ssize_t)c->done;
	}
	return -err;
}

static int action_for(const struct sg_call *c, int err)
{
	if (err == EPIPE && (c->nosignal_added || sg_sigpipe_suppressing()))
		return SG_ACTION_SIGPIPE_SUPPRESSED;
	return SG_ACTION_RETURNED;
}

/* Logs err as met and returned. */
static ssize_t report(struct sg_call *c, int err)
{
	int action = action_for(c, err);
	if (action == SG_ACTION_SIGPIPE_SUPPRESSED)
		sg_count(&sockguard_counters.sigpipe_suppressed, 1);
	sg_call_event(c, -1, err, action, SG_DEADLINE_NONE);
	return give_up(c, err);
}

/* EINTR: retried unless a signal in eintr_pass ran (SPEC.md section 3). */
static ssize_t on_eintr(struct sg_call *c, sg_attempt_fn fn, void *ctx, int *stop)
{
	*stop = 1;
	if (!sg_hardening() || sg_cfg.eintr == SG_EINTR_PASS ||
	    sg_sigseq() != c->sigseq)
		return give_up(c, EINTR);
	sg_count(&sockguard_counters.retries[SG_RETRY_EINTR], 1);
	/*
	 * A timeout the shim learnt only now (the socket came through exec or
	 * SCM_RIGHTS): its deadline counts from here, the best known start.
	 */
	if (!c->start_ns && (c->fdstate & timeo_bit(c)))
		c->start_ns = sg_now_ns();
	sg_call_timeout(c);
	if (c->deadline_ns == 0) {
		*stop = 0;
		return fn(c, ctx, 0);
	}
	int w = sg_wait_ready(c, c->deadline_ns);
	if (w == 0) {
		sg_call_event(c, SG_CLASS_TIMEOUT, EAGAIN, SG_ACTION_RETURNED,
			      c->deadline_kind);
		return give_up(c, EAGAIN);
	}
	if (w < 0)
		return give_up(c, -w);
	*stop = 0;
	return fn(c, ctx, 1);
}

/* EAGAIN: waited out where SPEC.md says so, at most eagain_wait. */
static ssize_t on_eagain(struct sg_call *c, sg_attempt_fn fn, void *ctx, int *stop)
{
	int timeout;
	*stop = 1;
	if (c->deadline_ns) {	/* a retry after EINTR raced with another reader */
		int w = sg_wait_ready(c, c->deadline_ns);
		if (w <= 0)
			return give_up(c, w < 0 ? -w : EAGAIN);
		*stop = 0;
		return fn(c, ctx, 1);
	}
	if (!eagain_waitable(c, &timeout)) {
		if (timeout)
			sg_call_event(c, SG_CLASS_TIMEOUT, EAGAIN,
				      SG_ACTION_RETURNED, timeo_kind(c));
		return give_up(c, EAGAIN);
	}
	if (c->done == 0 && ++c->tries > sg_cfg.retry_max)
		return give_up(c, EAGAIN);
	int64_t until = sg_now_ns() + (int64_t)sg_cfg.eagain_wait_ms * 1000000;
	int w = sg_wait_ready(c, until);
	if (w == 0) {
		sg_call_event(c, SG_CLASS_TIMEOUT, EAGAIN, SG_ACTION_RETURNED,
			      SG_DEADLINE_EAGAIN_WAIT);
		return give_up(c, EAGAIN);
	}
	if (w < 0)
		return give_up(c, -w);
	sg_count(&sockguard_counters.retries[c->done ? SG_RETRY_PARTIAL :
					     SG_RETRY_EAGAIN], 1);
	*stop = 0;
	return fn(c, ctx, 0);
}

/* accept(2) "Error handling": the pending network errors are retried. */
static ssize_t on_accept_error(struct sg_call *c, int err, sg_attempt_fn fn,
			       void *ctx, int *stop)
{
	*stop = 1;
	if (err == EMFILE || err == ENFILE) {
		if (!sg_hardening() || sg_cfg.accept_emfile != SG_EMFILE_SHED ||
		    !sg_accept_shed(c, err))
			return report(c, err);
		if (fd_nonblocking(c))
			return -EAGAIN;
		if (++c->tries > sg_cfg.retry_max)
			return -err;	/* a blocking accept never says EAGAIN */
		*stop = 0;
		return fn(c, ctx, 0);
	}
	if (!sg_hardening() || sg_cfg.accept != SG_ACCEPT_RETRY ||
	    c->tries >= sg_cfg.retry_max)
		return report(c, err);
	c->tries++;
	sg_count(&sockguard_counters.retries[SG_RETRY_ACCEPT], 1);
	sg_call_event(c, -1, err, SG_ACTION_RETRIED, SG_DEADLINE_NONE);
	*stop = 0;
	return fn(c, ctx, 0);
}

/*
 * The eof class: a TCP receive that meets the end of the stream right after
 * this socket sent something ("server terminated prematurely").
 */
static void note_received(const struct sg_call *c, ssize_t r)
{
	if (!sg_eof_tracking || (unsigned)c->fd >= sg_fdt_size)
		return;
	if (r == 0 && (c->fdstate & SG_FD_TCP) &&
	    __atomic_load_n(&sg_fd_lastop[c->fd], __ATOMIC_RELAXED))
		sg_call_event(c, SG_CLASS_EOF, 0, SG_ACTION_RETURNED,
			      SG_DEADLINE_NONE);
	__atomic_store_n(&sg_fd_lastop[c->fd], 0, __ATOMIC_RELAXED);
}

/* A result >= 0: done, or the rest of a partial write to send. */
static ssize_t on_progress(struct sg_call *c, ssize_t r, sg_attempt_fn fn,
			   void *ctx, int *stop)
{
	*stop = 1;
	if (!c->is_send) {
		if (c->dir == SG_DIR_IN && !c->is_accept)
			note_received(c, r);
		return r;
	}
	c->done += (size_t)r;
	if (c->done >= c->want || !sg_hardening() || r == 0 ||
	    (c->fdstate & SG_FD_UDP) || sg_sigseq() != c->sigseq)
		return give_up(c, 0);
	int timeout;
	if (!c->dontwait && !fd_nonblocking(c)) {
		if (c->fdstate & SG_FD_SNDTIMEO)
			return give_up(c, 0);
	} else if (!eagain_waitable(c, &timeout)) {
		return give_up(c, 0);
	}
	sg_count(&sockguard_counters.retries[SG_RETRY_PARTIAL], 1);
	*stop = 0;
	return fn(c, ctx, 0);
}

ssize_t sg_retry(struct sg_call *c, ssize_t r, sg_attempt_fn fn, void *ctx)
{
	if (!sg_active)
		return r;
	c->fdstate = sg_fd_classify(c->fd);
	if (!(c->fdstate & SG_FD_SOCKET))
		return r;
	if (c->is_send && r < 0) {
		int pending = sg_fd_take_pending(c->fd);
		if (pending)
			r = -pending;
	}
	for (;;) {
		int stop;
		if (r >= 0)
			r = on_progress(c, r, fn, ctx, &stop);
		else if (r == -EINTR)
			r = on_eintr(c, fn, ctx, &stop);
		else if (r == -EAGAIN)
			r = on_eagain(c, fn, ctx, &stop);
		else if (c->is_accept && (accept_retryable((int)-r) ||
			 r == -EMFILE || r == -ENFILE))
			r = on_accept_error(c, (int)-r, fn, ctx, &stop);
		else
			return report(c, (int)-r);
		if (stop)
			return r;
	}
}
