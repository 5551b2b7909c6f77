/*
 * Shared by the send and receive wrappers: what they read before the call,
 * and the slow path they hand a result to when it was not a plain success.
 */
#ifndef SG_IO_H
#define SG_IO_H


#include "fdtable.h"
#include "retry.h"
#include "shim.h"
#include "signals.h"

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

/* MSG_NOSIGNAL when sigpipe=socket, else 0: or'ed into every send. */
extern int sg_nosig_flag;

/*
 * Set once any socket of the process is known to have SO_RCVTIMEO or
 * SO_SNDTIMEO: until then the success path does not even read the fd table.
 */
extern int sg_any_timeo;

/*
 * Before the call: the thread's pass-signal count and, only for a socket
 * with the program's own timeout in this direction, the clock.
 */
struct sg_pre {
	uint64_t seq;
	int64_t t0;
};

static inline void sg_pre_read(struct sg_pre *p, int fd, uint32_t timeo_bit)
{
	p->seq = sg_sigseq();
	p->t0 = 0;
	if (SG_UNLIKELY(sg_any_timeo) && (sg_fd_get(fd) & timeo_bit))
		p->t0 = sg_now_ns();
}

/* Runs the retry engine for c and turns its result into libc form. */
ssize_t sg_io_slow(struct sg_call *c, const struct sg_pre *p, ssize_t r,
		   sg_attempt_fn fn, void *ctx);

#pragma GCC visibility pop

#endif
