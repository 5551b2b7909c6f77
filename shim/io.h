/*
 * The door every data wrapper goes through: what it reads before calling
 * libc (sg_pre), the one test after it that ends the success path
 * (sg_rx_ok / sg_tx_ok, which also keep the per-descriptor bookkeeping), and
 * the slow path for everything else (sg_slow in retry.h).
 *
 *	struct sg_pre p = sg_pre(fd, SG_DIR_IN);
 *	ssize_t r = REAL(recv)(fd, buf, len, flags);
 *	if (sg_rx_ok(fd, r))
 *		return r;
 *	return recv_slow(fd, buf, len, flags, &p, r);
 */
#ifndef SG_IO_H
#define SG_IO_H

#include "fdtable.h"
#include "retry.h"
#include "shim.h"
#include "state.h"

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

/* What a wrapper reads before the call. */
struct sg_pre {
	uint64_t seq;		/* the thread's pass-signal count */
	int64_t t0;		/* the clock, for a socket with its own timeout */
};

/* The clock, when fd has the program's own timeout in direction dir. */
int64_t sg_pre_clock(int fd, int dir);

static inline struct sg_pre sg_pre(int fd, int dir)
{
	struct sg_pre p = { sg_thread.pass_seq, 0 };

	if (SG_UNLIKELY(sg_fast() & SG_FAST_TIMEO))
		p.t0 = sg_pre_clock(fd, dir);
	return p;
}

/* A receive moved data: the success path ends here. */
static inline int sg_rx_ok(int fd, long r)
{
	if (SG_UNLIKELY(r <= 0))
		return 0;
	if (SG_UNLIKELY(sg_fast() & SG_FAST_EOF))
		sg_fd_note_lastop(fd, 0);
	return 1;
}

/* A send moved all it was asked to: the success path ends here. */
static inline int sg_tx_ok(int fd, long r, size_t want)
{
	if (SG_UNLIKELY(r != (long)want || r < 0))
		return 0;
	if (SG_UNLIKELY(sg_fast() & SG_FAST_EOF))
		sg_fd_note_lastop(fd, 1);
	return 1;
}

/*
 * sigpipe=socket: write, writev and sendfile cannot take MSG_NOSIGNAL, so
 * the descriptor they write is left where the SIGPIPE handler looks.
 */
static inline void sg_writing(int fd)
{
	if (SG_UNLIKELY(sg_fast() & SG_FAST_WRITEFD))
		sg_thread.write_fd = fd;
}

static inline void sg_written(void)
{
	if (SG_UNLIKELY(sg_fast() & SG_FAST_WRITEFD))
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
