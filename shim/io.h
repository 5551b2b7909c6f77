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

/* MSG_NOSIGNAL when sigpipe=socket, else 0: or'ed into every send. */
extern int sg_nosig_flag;

/*
 * Before the call: the fd's word, the thread's pass-signal count and, only
 * for a socket with the program's own timeout in this direction, the clock.
 */
struct sg_pre {
	uint32_t st;
	uint64_t seq;
	int64_t t0;
};

static inline void sg_pre_read(struct sg_pre *p, int fd, uint32_t timeo_bit)
{
	p->st = sg_fd_get(fd);
	p->seq = sg_sigseq();
	p->t0 = SG_UNLIKELY(p->st & timeo_bit) ? sg_now_ns() : 0;
}

/* Runs the retry engine for c and turns its result into libc form. */
ssize_t sg_io_slow(struct sg_call *c, const struct sg_pre *p, ssize_t r,
		   sg_attempt_fn fn, void *ctx);

#endif
