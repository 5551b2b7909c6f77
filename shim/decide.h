/*
 * The retry decision: one pure function that says, for every wrapper, what
 * happens after a call did not simply succeed.  It reads only what it is
 * given (the call, the facts gathered about it, the settings in force and
 * the raw result) and makes no system call, so the whole rule table is unit
 * tested without a kernel (tests/unit/test_decide.c).  The driver in
 * retry.c gathers the facts the decision asks for, carries the verdict out,
 * and asks again.
 *
 * Results are >= 0 or -errno throughout.
 */
#ifndef SG_DECIDE_H
#define SG_DECIDE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../policy/classify.h"
#include "../policy/policy.h"

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

/* A fact the driver has not looked up yet. */
#define SG_UNKNOWN (-1)

/* Readiness a wait is for. */
enum sg_dir { SG_DIR_IN, SG_DIR_OUT };

/*
 * One call of the program, as the wrapper made it and as the driver has
 * learnt about it since.  The wrapper fills op, fd, fdstate, dontwait,
 * sigseq, start_ns and want; the rest starts at zero or SG_UNKNOWN.
 */
struct sg_call {
	int op;			/* enum sg_op */
	int fd;
	uint32_t fdstate;	/* the descriptor's word (fdtable.h), when classified */
	int dontwait;		/* MSG_DONTWAIT asked by the program */
	int mask_opens;		/* ppoll/pselect/epoll_pwait: its mask lets a blocked signal in */
	uint64_t sigseq;	/* the thread's pass-signal count before the call */
	int64_t start_ns;	/* CLOCK_MONOTONIC at the call, 0: not read */
	size_t want;		/* bytes a send asked to move (0: not to be completed) */
	size_t done;		/* bytes moved so far */
	int nosignal_added;	/* the shim added MSG_NOSIGNAL */
	int sigpipe_held;	/* the shim keeps SIGPIPE from killing the program */
	unsigned tries;		/* EAGAIN and accept retries, against retry_max */
	const struct sockaddr *peer;	/* connect: the address asked, for its events */
	socklen_t peerlen;
	int64_t bound_ns;	/* connect_timeout: absolute deadline, 0 none */
	int bound_is_own;	/* that deadline is the program's shorter SO_SNDTIMEO */

	/* Facts, looked up by the driver when the decision asks for them. */
	int nonblock;		/* O_NONBLOCK on the file: 0, 1 or SG_UNKNOWN */
	int async;		/* O_ASYNC (signal-driven I/O): 0, 1 or SG_UNKNOWN */
	int pending;		/* accept: a connection waits: 0, 1 or SG_UNKNOWN */
	int64_t timeo_ns;	/* SO_RCVTIMEO/SO_SNDTIMEO span, SG_UNKNOWN: not read */
	int shed;		/* accept: a pending connection was just shed */
	int last_was_send;	/* eof tracking: the last operation on fd was a send */

	/* Facts the driver always supplies. */
	int harden;		/* mode=harden (else observe: never change an outcome) */
	int quiet;		/* no system call of the shim's own may be made */
	int watched;		/* the process has an epoll instance or polled a socket */
	int signalled;		/* a signal in eintr_pass ran since the call began */
	int64_t now_ns;
};

enum sg_verdict_kind {
	SG_V_RETURN,		/* give result to the program */
	SG_V_RETRY,		/* make the call again now */
	SG_V_WAIT,		/* wait for readiness, then make the call again */
	SG_V_SHED,		/* accept and close one pending connection */
	SG_V_ASK,		/* look a fact up, then decide again */
};

/* The facts a decision can ask for (SG_V_ASK). */
enum sg_fact { SG_FACT_FLAGS, SG_FACT_TIMEOUT, SG_FACT_PENDING };

/* The event a verdict logs. */
struct sg_event_note {
	int cls;		/* enum sg_class, SG_CLASS_NONE: no event */
	int err;
	int action;		/* enum sg_action */
	int deadline;		/* enum sg_deadline */
};

struct sg_verdict {
	int kind;		/* enum sg_verdict_kind */
	long result;		/* SG_V_RETURN: what the program gets */
	int hold;		/* SG_V_RETURN after a partial write: errno held for the next call */
	int fact;		/* SG_V_ASK: enum sg_fact */
	int counter;		/* retry counter (policy/live.h) to add one to, -1 none */
	int count_try;		/* the retry counts against retry_max */
	int dir;		/* SG_V_WAIT: enum sg_dir */
	int64_t until_ns;	/* SG_V_WAIT: absolute deadline, 0 none */
	long on_timeout;	/* SG_V_WAIT: what the program gets if it expires */
	struct sg_event_note timeout_event;	/* logged if it expires */
	struct sg_event_note event;	/* logged now (retry, return) */
};

/* Decides what follows result r (>= 0 or -errno) of call c under cfg. */
void sg_decide(const struct sg_call *c, const struct sg_settings *cfg,
	       long r, struct sg_verdict *v);

/*
 * The verdict for an error the program learns outside a call the driver
 * makes (a connect's outcome read with getsockopt SO_ERROR): err is
 * returned as it is, with the event it is logged with.
 */
void sg_decide_returned(const struct sg_call *c, int err, struct sg_verdict *v);

/* Whether accept(2) lists err among the pending network errors to retry. */
int sg_accept_retryable(int err);

#pragma GCC visibility pop

#endif
