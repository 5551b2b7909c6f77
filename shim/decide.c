/*
 * The retry decision (see decide.h).  Every rule of the man page's EINTR,
 * EAGAIN, short write, accept and connect sections is written here once;
 * the driver (retry.c) only carries verdicts out.
 */
#include "decide.h"

#include <errno.h>
#include <string.h>

#include "../policy/live.h"
#include "fdtable.h"

static void note(struct sg_event_note *n, int cls, int err, int action,
		 int deadline)
{
	n->cls = cls;
	n->err = err;
	n->action = action;
	n->deadline = deadline;
}

static int dir_of(const struct sg_call *c)
{
	int kind = sg_op_kind(c->op);
	return kind == SG_KIND_SEND || kind == SG_KIND_CONNECT ? SG_DIR_OUT :
								  SG_DIR_IN;
}

/* The program's own timeout in the direction of the call. */
static uint32_t timeo_bit(const struct sg_call *c)
{
	return dir_of(c) == SG_DIR_IN ? SG_FD_RCVTIMEO : SG_FD_SNDTIMEO;
}

static int timeo_deadline(const struct sg_call *c)
{
	return dir_of(c) == SG_DIR_IN ? SG_DEADLINE_SO_RCVTIMEO :
					SG_DEADLINE_SO_SNDTIMEO;
}

/*
 * The result when the shim stops at err: after part of a send went out,
 * the count moved, and err (unless EAGAIN/EINTR) is held for the next call.
 */
static long give_up_value(const struct sg_call *c, int err, int *hold)
{
	*hold = 0;
	if (c->want && c->done > 0) {
		if (err != EAGAIN && err != EINTR)
			*hold = err;
		return (long)c->done;
	}
	return -err;
}

static void give_up(const struct sg_call *c, int err, struct sg_verdict *v)
{
	v->kind = SG_V_RETURN;
	v->result = give_up_value(c, err, &v->hold);
}

/* err goes back to the program, logged with its class. */
static void report(const struct sg_call *c, int err, struct sg_verdict *v)
{
	int action = err == EPIPE && (c->nosignal_added || c->sigpipe_held) ?
		SG_ACTION_SIGPIPE_SUPPRESSED : SG_ACTION_RETURNED;

	note(&v->event, sg_classify_errno(err, c->op), err, action,
	     err == ETIMEDOUT ? SG_DEADLINE_RETRANS : SG_DEADLINE_NONE);
	give_up(c, err, v);
}

static void ask(int fact, struct sg_verdict *v)
{
	v->kind = SG_V_ASK;
	v->fact = fact;
}

/*
 * A wait for readiness.  What the program gets if the wait ends without it
 * is settled now: the call's state does not change while it waits.
 */
static void wait_for(const struct sg_call *c, int64_t until, int timeout_err,
		     struct sg_verdict *v)
{
	int hold;

	v->kind = SG_V_WAIT;
	v->dir = dir_of(c);
	v->until_ns = until;
	v->on_timeout = give_up_value(c, timeout_err, &hold);
}

/* The deadline the kernel applies to a socket with SO_RCVTIMEO/SO_SNDTIMEO. */
static int64_t timeo_until(const struct sg_call *c)
{
	return (c->start_ns ? c->start_ns : c->now_ns) + c->timeo_ns;
}

/*
 * Which EAGAIN is waited out (man page, EAGAIN).  The first duty is never
 * to stall an event loop: a process that watches sockets is answered from
 * what it is known to watch, without a system call.
 */
static int eagain_mode_waits(const struct sg_call *c, const struct sg_settings *cfg)
{
	int fd_watched = (c->fdstate & SG_FD_WATCHED) != 0;

	switch (cfg->eagain) {
	case SG_EAGAIN_AUTO:
		return !c->watched;
	case SG_EAGAIN_UNWATCHED:
		return !c->watched || !fd_watched;
	case SG_EAGAIN_ALWAYS:
		return 1;
	default:
		return 0;
	}
}

/* 1: wait, 0: return, SG_UNKNOWN: the file's flags are needed first. */
static int eagain_waitable(const struct sg_call *c, const struct sg_settings *cfg)
{
	int timeo = (c->fdstate & timeo_bit(c)) != 0;
	int mode = cfg->eagain;

	if (!c->harden || mode == SG_EAGAIN_OFF || c->dontwait)
		return 0;
	/*
	 * An event loop's socket, as far as the shim knows (its table says
	 * non-blocking, or the socket came from elsewhere): answered without
	 * asking the kernel, since event loops meet EAGAIN on every
	 * optimistic read.
	 */
	int loop_socket = (c->fdstate & SG_FD_NONBLOCK) || !(c->fdstate & SG_FD_KNOWN);
	if (!timeo && c->watched && loop_socket && (mode == SG_EAGAIN_AUTO ||
	    (mode == SG_EAGAIN_UNWATCHED && (c->fdstate & SG_FD_WATCHED))))
		return 0;
	if (c->fdstate & SG_FD_ASYNC)
		return 0;
	if (c->nonblock == SG_UNKNOWN)
		return c->quiet ? 0 : SG_UNKNOWN;
	if (c->async == 1)
		return 0;
	if (!c->nonblock)
		return !timeo;	/* a blocking socket should not say EAGAIN */
	return eagain_mode_waits(c, cfg);
}

/*
 * EAGAIN on a blocking socket with the program's own SO_RCVTIMEO or
 * SO_SNDTIMEO: its timeout, returned and logged.  When the shim itself is
 * waiting out what is left of it (after an EINTR, another reader took the
 * data), it waits on until the deadline.
 */
static int own_timeout(const struct sg_call *c, struct sg_verdict *v)
{
	if (!(c->fdstate & timeo_bit(c)) || c->dontwait || c->nonblock != 0)
		return 0;
	if (c->timeo_ns > 0 && c->harden && !c->quiet &&
	    c->now_ns < timeo_until(c)) {
		wait_for(c, timeo_until(c), EAGAIN, v);
		note(&v->timeout_event, SG_CLASS_TIMEOUT, EAGAIN,
		     SG_ACTION_RETURNED, timeo_deadline(c));
		return 1;
	}
	note(&v->event, SG_CLASS_TIMEOUT, EAGAIN, SG_ACTION_RETURNED,
	     timeo_deadline(c));
	give_up(c, EAGAIN, v);
	return 1;
}

static void on_eagain(const struct sg_call *c, const struct sg_settings *cfg,
		      struct sg_verdict *v)
{
	if ((c->fdstate & timeo_bit(c)) && !c->dontwait &&
	    c->nonblock == SG_UNKNOWN && !c->quiet)
		return ask(SG_FACT_FLAGS, v);
	if (own_timeout(c, v))
		return;
	int w = eagain_waitable(c, cfg);
	if (w == SG_UNKNOWN)
		return ask(SG_FACT_FLAGS, v);
	if (!w || (c->done == 0 && c->tries >= cfg->retry_max) || c->quiet)
		return give_up(c, EAGAIN, v);
	wait_for(c, c->now_ns + (int64_t)cfg->eagain_wait_ms * 1000000, EAGAIN, v);
	note(&v->timeout_event, SG_CLASS_TIMEOUT, EAGAIN, SG_ACTION_RETURNED,
	     SG_DEADLINE_EAGAIN_WAIT);
	v->counter = c->done ? SG_RETRY_PARTIAL : SG_RETRY_EAGAIN;
	v->count_try = c->done == 0;
}

/*
 * connect(2) interrupted: a TCP connection is under way and is waited for
 * (poll for POLLOUT, then SO_ERROR), never issued twice; an AF_UNIX connect
 * has nothing under way and is simply made again, as SA_RESTART would.
 */
static void connect_eintr(const struct sg_call *c, struct sg_verdict *v)
{
	if (c->fdstate & SG_FD_UNIX) {
		v->kind = SG_V_RETRY;
		return;
	}
	if (!(c->fdstate & SG_FD_TCP) || c->quiet)
		return give_up(c, EINTR, v);
	if (c->bound_ns) {
		wait_for(c, c->bound_ns, c->bound_is_own ? EINPROGRESS : ETIMEDOUT, v);
		if (!c->bound_is_own)
			note(&v->timeout_event, SG_CLASS_TIMEOUT, ETIMEDOUT,
			     SG_ACTION_TIMED_OUT, SG_DEADLINE_CONNECT_TIMEOUT);
		return;
	}
	if ((c->fdstate & SG_FD_SNDTIMEO) && c->timeo_ns == SG_UNKNOWN)
		return ask(SG_FACT_TIMEOUT, v);
	/* connect(2): with SO_SNDTIMEO expired, EINPROGRESS. */
	wait_for(c, c->timeo_ns > 0 ? timeo_until(c) : 0, EINPROGRESS, v);
}

/* EINTR: made again unless a signal in eintr_pass interrupted the call. */
static void on_eintr(const struct sg_call *c, const struct sg_settings *cfg,
		     struct sg_verdict *v)
{
	int kind = sg_op_kind(c->op);

	if (!c->harden || cfg->eintr == SG_EINTR_PASS || c->signalled ||
	    c->mask_opens)
		return give_up(c, EINTR, v);
	v->counter = SG_RETRY_EINTR;
	if (kind == SG_KIND_CONNECT)
		return connect_eintr(c, v);
	if (kind == SG_KIND_READINESS || !(c->fdstate & timeo_bit(c))) {
		v->kind = SG_V_RETRY;	/* readiness calls: with the time left */
		return;
	}
	if (c->timeo_ns == SG_UNKNOWN)
		return c->quiet ? give_up(c, EINTR, v) : ask(SG_FACT_TIMEOUT, v);
	if (c->timeo_ns <= 0) {
		v->kind = SG_V_RETRY;
		return;
	}
	/* Only the time left of the program's own timeout, then EAGAIN. */
	wait_for(c, timeo_until(c), EAGAIN, v);
	note(&v->timeout_event, SG_CLASS_TIMEOUT, EAGAIN, SG_ACTION_RETURNED,
	     timeo_deadline(c));
}

int sg_accept_retryable(int err)
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

/* After a connection was shed: EAGAIN for an event loop, else accept again. */
static void after_shed(const struct sg_call *c, const struct sg_settings *cfg,
		       int err, struct sg_verdict *v)
{
	if (c->nonblock == SG_UNKNOWN)
		return ask(SG_FACT_FLAGS, v);
	if (c->nonblock)
		return give_up(c, EAGAIN, v);
	if (c->tries >= cfg->retry_max)
		return give_up(c, err, v);	/* never EAGAIN from a blocking accept */
	v->kind = SG_V_RETRY;
	v->count_try = 1;
}

/*
 * EMFILE/ENFILE: Linux says so before it looks for a connection.  One is
 * shed only when it is pending and no descriptor could be had for it;
 * with none pending, a blocking accept waits for one and then tries the
 * real accept first.
 */
static void on_emfile(const struct sg_call *c, const struct sg_settings *cfg,
		      int err, struct sg_verdict *v)
{
	if (!c->harden || cfg->accept_emfile != SG_EMFILE_SHED || c->quiet ||
	    c->shed < 0)
		return report(c, err, v);
	if (c->shed > 0)
		return after_shed(c, cfg, err, v);
	if (c->pending == SG_UNKNOWN)
		return ask(SG_FACT_PENDING, v);
	if (c->pending) {
		v->kind = SG_V_SHED;
		note(&v->event, SG_CLASS_FD_EXHAUSTED, err, SG_ACTION_SHED,
		     SG_DEADLINE_NONE);
		return;
	}
	if (c->nonblock == SG_UNKNOWN)
		return ask(SG_FACT_FLAGS, v);
	if (c->nonblock)
		return report(c, err, v);
	if ((c->fdstate & SG_FD_RCVTIMEO) && c->timeo_ns == SG_UNKNOWN)
		return ask(SG_FACT_TIMEOUT, v);
	wait_for(c, c->timeo_ns > 0 ? timeo_until(c) : 0, EAGAIN, v);
}

/* accept(2) "Error handling": the pending network errors are retried. */
static void on_accept_error(const struct sg_call *c,
			    const struct sg_settings *cfg, int err,
			    struct sg_verdict *v)
{
	if (err == EMFILE || err == ENFILE)
		return on_emfile(c, cfg, err, v);
	if (!c->harden || cfg->accept != SG_ACCEPT_RETRY ||
	    c->tries >= cfg->retry_max)
		return report(c, err, v);
	v->kind = SG_V_RETRY;
	v->counter = SG_RETRY_ACCEPT;
	v->count_try = 1;
	note(&v->event, sg_classify_errno(err, c->op), err, SG_ACTION_RETRIED,
	     SG_DEADLINE_NONE);
}

/* A send that moved part of its buffer: completed where EAGAIN is waited out. */
static void on_partial(const struct sg_call *c, const struct sg_settings *cfg,
		       long r, struct sg_verdict *v)
{
	v->kind = SG_V_RETURN;
	v->result = (long)c->done;
	if (c->done >= c->want || !c->harden || r == 0 ||
	    (c->fdstate & SG_FD_UDP) || c->signalled)
		return;
	if (!c->dontwait && c->nonblock == SG_UNKNOWN && !c->quiet)
		return ask(SG_FACT_FLAGS, v);
	if (!c->dontwait && c->nonblock == 0) {
		if (c->fdstate & SG_FD_SNDTIMEO)
			return;
	} else if (eagain_waitable(c, cfg) != 1) {
		return;
	}
	v->kind = SG_V_RETRY;
	v->counter = SG_RETRY_PARTIAL;
}

static void on_progress(const struct sg_call *c, const struct sg_settings *cfg,
			long r, struct sg_verdict *v)
{
	int kind = sg_op_kind(c->op);

	if (kind == SG_KIND_SEND && c->want)
		return on_partial(c, cfg, r, v);
	v->kind = SG_V_RETURN;
	v->result = r;
	/* "Server terminated prematurely": EOF right after this socket sent. */
	if (kind == SG_KIND_RECEIVE && r == 0 && (c->fdstate & SG_FD_TCP) &&
	    c->last_was_send)
		note(&v->event, SG_CLASS_EOF, 0, SG_ACTION_RETURNED,
		     SG_DEADLINE_NONE);
}

static void on_connect_progress(const struct sg_call *c, int err,
				struct sg_verdict *v)
{
	if (!c->bound_ns) {
		v->kind = SG_V_RETURN;
		v->result = -err;
		return;
	}
	wait_for(c, c->bound_ns, c->bound_is_own ? EINPROGRESS : ETIMEDOUT, v);
	if (!c->bound_is_own)
		note(&v->timeout_event, SG_CLASS_TIMEOUT, ETIMEDOUT,
		     SG_ACTION_TIMED_OUT, SG_DEADLINE_CONNECT_TIMEOUT);
}

static void on_error(const struct sg_call *c, const struct sg_settings *cfg,
		     int err, struct sg_verdict *v)
{
	int kind = sg_op_kind(c->op);

	if (err == EINTR)
		return on_eintr(c, cfg, v);
	if (kind == SG_KIND_READINESS)
		return give_up(c, err, v);
	if (kind == SG_KIND_CONNECT && err == EINPROGRESS)
		return on_connect_progress(c, err, v);
	if (err == EAGAIN && kind != SG_KIND_CONNECT)
		return on_eagain(c, cfg, v);
	if (kind == SG_KIND_ACCEPT &&
	    (sg_accept_retryable(err) || err == EMFILE || err == ENFILE))
		return on_accept_error(c, cfg, err, v);
	report(c, err, v);
}

static void verdict_init(struct sg_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->counter = -1;
	v->event.cls = SG_CLASS_NONE;
	v->timeout_event.cls = SG_CLASS_NONE;
}

void sg_decide_returned(const struct sg_call *c, int err, struct sg_verdict *v)
{
	verdict_init(v);
	report(c, err, v);
}

void sg_decide(const struct sg_call *c, const struct sg_settings *cfg,
	       long r, struct sg_verdict *v)
{
	verdict_init(v);
	if (r >= 0)
		on_progress(c, cfg, r, v);
	else
		on_error(c, cfg, (int)-r, v);
}
