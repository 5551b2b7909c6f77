/*
 * The door every data wrapper goes through.
 *
 *	if (SG_UNLIKELY(sg_careful(SG_FAST_RX)))
 *		return rx_careful(SG_OP_RECV, &a);	(everything, out of line)
 *	struct rx a = { ... the arguments ..., .seq = sg_seq() };
 *	sg_keep(&a);
 *	ssize_t r = REAL(recv)(fd, buf, len, flags);
 *	if (sg_received(r))
 *		return r;
 *	return rx_slow(SG_OP_RECV, &a, r);
 *
 * The success path reads one process word (is anything special to do: a
 * socket with the program's own timeout, eof tracking, sigpipe=socket
 * writes?) and one thread word (the pass-signal count the EINTR rule needs),
 * keeps the arguments in memory for the slow path, calls libc and tests the
 * result.  When the process word says something is special, the whole call
 * goes to the family's careful path, which does the extra work before and
 * after the call.  Anything but a plain success goes to the slow path and
 * the retry driver (sg_slow in retry.h).
 */
#ifndef SG_IO_H
#define SG_IO_H

#include "fdtable.h"
#include "retry.h"
#include "shim.h"
#include "state.h"

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

/* What makes a receive or a send take its family's careful path. */
#define SG_FAST_RX (SG_FAST_TIMEO | SG_FAST_EOF)
#define SG_FAST_TX (SG_FAST_TIMEO | SG_FAST_EOF | SG_FAST_WRITEFD)

static inline int sg_careful(uint32_t mask)
{
	return (sg_fast() & mask) != 0;
}

/* The thread's pass-signal count, read before the call (EINTR rule). */
static inline uint64_t sg_seq(void)
{
	return sg_thread.pass_seq;
}

/*
 * Makes the compiler keep *p in memory across the libc call, rather than
 * in callee-saved registers it would have to save and restore on the
 * success path; the slow path reads the arguments back from there.  An
 * empty asm statement: no instruction is emitted.
 */
#define sg_keep(p) __asm__ volatile("" : : "m"(*(p)))

/* The success path of a receive ends here. */
static inline int sg_received(long r)
{
	return SG_LIKELY(r > 0);
}

/*
 * The success path of a send ends here: all of want went out.  (A want
 * beyond SSIZE_MAX that "matches" -1 is libc's own failure, returned as
 * libc gave it.)
 */
static inline int sg_sent(long r, size_t want)
{
	return SG_LIKELY(r == (long)want);
}

/* The clock, when fd has the program's own timeout in direction dir. */
int64_t sg_pre_clock(int fd, int dir);

/* What the careful path reads before the call. */
struct sg_pre {
	uint64_t seq;		/* the thread's pass-signal count */
	int64_t t0;		/* the clock, for a socket with its own timeout */
};

static inline struct sg_pre sg_pre(int fd, int dir)
{
	struct sg_pre p = { sg_thread.pass_seq, 0 };

	if (sg_fast() & SG_FAST_TIMEO)
		p.t0 = sg_pre_clock(fd, dir);
	return p;
}

/* The careful path's bookkeeping after a call that moved data. */
static inline void sg_note_received(int fd)
{
	sg_fd_note_lastop(fd, 0);
}

static inline void sg_note_sent(int fd)
{
	sg_fd_note_lastop(fd, 1);
}

/*
 * sigpipe=socket: write, writev and sendfile cannot take MSG_NOSIGNAL, so
 * the descriptor they write is left where the SIGPIPE handler looks.
 */
static inline void sg_writing(int fd)
{
	if (sg_fast() & SG_FAST_WRITEFD)
		sg_thread.write_fd = fd;
}

static inline void sg_written(void)
{
	if (sg_fast() & SG_FAST_WRITEFD)
		sg_thread.write_fd = -1;
}

/* The call the slow path starts from. */
static inline void sg_call_init(struct sg_call *c, int op, int fd,
				const struct sg_pre *p)
{
	__builtin_memset(c, 0, sizeof(*c));
	c->op = op;
	c->fd = fd;
	c->sigseq = p->seq;
	c->start_ns = p->t0;
}

#pragma GCC visibility pop

#endif
