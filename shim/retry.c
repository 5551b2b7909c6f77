/*
 * The driver of the retry decisions.  See retry.h; the rules themselves
 * are in decide.c.
 */
#include "retry.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>

#include "accept.h"
#include "counters.h"
#include "event.h"
#include "fdtable.h"
#include "io.h"
#include "live.h"
#include "poll.h"
#include "real.h"
#include "shim.h"
#include "state.h"
#include "../policy/rawsys.h"

void sg_call_event(const struct sg_call *c, const struct sg_event_note *n)
{
	if (n->cls == SG_CLASS_NONE)
		return;
	struct sg_event ev = {
		.cls = n->cls, .op = c->op, .err = n->err, .action = n->action,
		.tries = c->tries, .deadline = n->deadline, .fd = c->fd,
		.peer = c->peer, .peerlen = c->peerlen,
	};
	sg_event_emit(&ev);
}

/*
 * Waits until c->fd is ready for dir, at most until `until` (0: no limit).
 * Returns 1 ready, 0 expired, -EINTR when a signal in eintr_pass ran since
 * the call began, other -errno on failure.  Other signals do not end it.
 */
static int wait_ready(const struct sg_call *c, int dir, int64_t until)
{
	struct pollfd pfd = { c->fd, dir == SG_DIR_IN ? POLLIN : POLLOUT, 0 };

	for (;;) {
		int ms = -1;
		if (until) {
			int64_t left = until - sg_now_ns();
			if (left <= 0)
				return 0;
			ms = (int)((left + 999999) / 1000000);
		}
		int n = REAL(poll)(&pfd, 1, ms);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n < 0 && sg_thread.pass_seq != c->sigseq)
			return -EINTR;
	}
}

/* O_NONBLOCK and O_ASYNC, as the file has them now (another process may
 * share it and have changed them). */
static void learn_flags(struct sg_call *c)
{
	long fl = c->quiet ? -EPERM : sg_sys2(SYS_fcntl, c->fd, F_GETFL);

	if (fl < 0) {
		c->nonblock = 1;	/* unknown: never wait */
		c->async = 0;
		return;
	}
	c->nonblock = (fl & O_NONBLOCK) != 0;
	c->async = (fl & O_ASYNC) != 0;
	if (c->nonblock)
		sg_fd_set_bits(c->fd, SG_FD_NONBLOCK);
	else
		sg_fd_clear_bits(c->fd, SG_FD_NONBLOCK);
}

/* The program's SO_RCVTIMEO or SO_SNDTIMEO for the call's direction. */
static void learn_timeout(struct sg_call *c)
{
	int kind = sg_op_kind(c->op);
	int name = kind == SG_KIND_SEND || kind == SG_KIND_CONNECT ?
		SO_SNDTIMEO : SO_RCVTIMEO;
	long tv[2] = { 0, 0 };
	socklen_t len = sizeof(tv);

	c->timeo_ns = 0;
	if (!c->quiet &&
	    sg_sys5(SYS_getsockopt, c->fd, SOL_SOCKET, name, tv, &len) == 0)
		c->timeo_ns = (int64_t)tv[0] * 1000000000 + (int64_t)tv[1] * 1000;
	if (!c->start_ns)
		c->start_ns = c->now_ns;	/* learnt late: counts from now */
}

/* Whether a connection waits on a listener. */
static void learn_pending(struct sg_call *c)
{
	struct pollfd pfd = { c->fd, POLLIN, 0 };
	c->pending = !c->quiet && REAL(poll)(&pfd, 1, 0) == 1;
}

static void learn(struct sg_call *c, int fact)
{
	switch (fact) {
	case SG_FACT_FLAGS:
		learn_flags(c);
		break;
	case SG_FACT_TIMEOUT:
		learn_timeout(c);
		break;
	default:
		learn_pending(c);
		break;
	}
}

/* The facts that can change between two decisions. */
static void refresh(struct sg_call *c, const struct sg_settings *cfg)
{
	c->harden = cfg->mode == SG_MODE_HARDEN;
	c->quiet = !sg_own_syscalls_allowed();
	c->watched = sg_poll_watched();
	c->signalled = sg_thread.pass_seq != c->sigseq;
	c->now_ns = sg_now_ns();
}

/* The last operation on the descriptor, for the eof class. */
static long note_lastop(const struct sg_call *c, long result)
{
	int kind = sg_op_kind(c->op);

	if (kind == SG_KIND_SEND && result > 0)
		sg_fd_note_lastop(c->fd, 1);
	else if (kind == SG_KIND_RECEIVE && result >= 0)
		sg_fd_note_lastop(c->fd, 0);
	return result;
}

/* What the program gets: the verdict's result, its event and counters. */
static long finish(struct sg_call *c, const struct sg_verdict *v)
{
	sg_call_event(c, &v->event);
	if (v->event.action == SG_ACTION_SIGPIPE_SUPPRESSED)
		sg_count(&sockguard_counters.sigpipe_suppressed, 1);
	if (v->hold)
		sg_fd_set_pending(c->fd, v->hold);
	return note_lastop(c, v->result);
}

static void counted(struct sg_call *c, const struct sg_verdict *v)
{
	if (v->counter >= 0)
		sg_count(&sockguard_counters.retries[v->counter], 1);
	if (v->count_try)
		c->tries++;
	c->pending = SG_UNKNOWN;
	c->shed = 0;
}

/* A wait verdict carried out: the next result, or a final one in *done. */
static long after_wait(struct sg_call *c, const struct sg_verdict *v,
		       sg_attempt_fn fn, void *ctx, int *done)
{
	int w = wait_ready(c, v->dir, v->until_ns);

	*done = w <= 0;
	if (w == 0) {
		sg_call_event(c, &v->timeout_event);
		return note_lastop(c, v->on_timeout);
	}
	if (w < 0)
		return note_lastop(c, c->want && c->done ? (long)c->done : w);
	counted(c, v);
	return fn(c, ctx, SG_AFTER_WAIT);
}

/*
 * What the driver knows of the descriptor; 0 when it is not a socket (left
 * alone).  Only an error is worth asking the kernel about it: an end of
 * file or a short write on a descriptor the shim has not seen created is
 * returned as it is, without a system call.
 */
static int prepare(struct sg_call *c, long r)
{
	if (sg_op_kind(c->op) == SG_KIND_READINESS)
		return 1;
	c->fdstate = r < 0 ? sg_fd_classify(c->fd) : sg_fd_get(c->fd);
	if (!(c->fdstate & SG_FD_SOCKET))
		return 0;
	c->nonblock = c->async = c->pending = SG_UNKNOWN;
	c->timeo_ns = SG_UNKNOWN;
	if (c->dontwait)
		c->nonblock = 1;
	if (sg_op_kind(c->op) == SG_KIND_RECEIVE)
		c->last_was_send = sg_fd_last_was_send(c->fd);
	return 1;
}

long sg_retry(struct sg_call *c, long r, sg_attempt_fn fn, void *ctx)
{
	struct sg_settings live;
	const struct sg_settings *cfg = &live;
	struct sg_verdict v;
	int fresh = 1, done = 0;

	if (!sg_live_acting() || !prepare(c, r))
		return r;
	sg_live_snapshot(&live);
	if (c->want && r < 0 && sg_fd_get(c->fd) & SG_FD_PENDING_MASK)
		r = -sg_fd_take_pending(c->fd);
	for (;;) {
		if (fresh && r > 0 && c->want)
			c->done += (size_t)r;
		fresh = 0;
		refresh(c, cfg);
		sg_decide(c, cfg, r, &v);
		switch (v.kind) {
		case SG_V_ASK:
			learn(c, v.fact);
			continue;
		case SG_V_RETURN:
			return finish(c, &v);
		case SG_V_SHED:
			c->shed = sg_accept_shed(c, &v.event) ? 1 : -1;
			continue;
		case SG_V_RETRY:
			counted(c, &v);
			sg_call_event(c, &v.event);
			r = fn(c, ctx, SG_AGAIN);
			break;
		default:
			r = after_wait(c, &v, fn, ctx, &done);
			if (done)
				return r;
			break;
		}
		fresh = 1;
	}
}

int64_t sg_pre_clock(int fd, int dir)
{
	uint32_t bit = dir == SG_DIR_IN ? SG_FD_RCVTIMEO : SG_FD_SNDTIMEO;
	return (sg_fd_get(fd) & bit) ? sg_now_ns() : 0;
}

long sg_slow(struct sg_call *c, long r, sg_attempt_fn fn, void *ctx)
{
	int saved = errno;
	long res = sg_retry(c, r < 0 ? -saved : r, fn, ctx);

	if (res >= 0) {
		errno = saved;	/* the shim's own calls leave no errno behind */
		return res;
	}
	errno = (int)-res;
	return -1;
}
