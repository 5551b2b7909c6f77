/*
 * The slow path shared by the send and receive wrappers.
 */
#include "io.h"

#include <errno.h>

int sg_nosig_flag;
int sg_any_timeo;

ssize_t sg_io_slow(struct sg_call *c, const struct sg_pre *p, ssize_t r,
		   sg_attempt_fn fn, void *ctx)
{
	int saved = errno;

	if (!sg_active)
		return r;
	c->fdstate = sg_fd_get(c->fd);
	c->sigseq = p->seq;
	c->start_ns = p->t0;
	ssize_t res = sg_retry(c, r < 0 ? -saved : r, fn, ctx);
	if (res >= 0) {
		/* The shim's own calls must not leave their errno behind. */
		errno = saved;
		return res;
	}
	errno = (int)-res;
	return -1;
}
