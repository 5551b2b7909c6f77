/*
 * The driver: the one loop that carries out the retry decisions of
 * decide.h for every wrapper.  A wrapper hands it the first result and an
 * `attempt` function that makes the call once more; the driver gathers the
 * facts the decision asks for, waits, attempts, sheds, logs the events the
 * verdicts name and counts the retries, and returns what the program gets.
 *
 * Internal results are >= 0 or -errno; only sg_slow(), the exported
 * wrappers' door, sets errno.
 */
#ifndef SG_RETRY_H
#define SG_RETRY_H

#include <stdint.h>
#include <sys/types.h>

#include "clock.h"
#include "decide.h"

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

/* How an attempt is made. */
enum sg_how {
	SG_AGAIN,	/* as the program made it */
	SG_AFTER_WAIT,	/* the shim waited for readiness: must not block
			 * (connect: read the outcome with SO_ERROR) */
};

/* Makes the call once more; returns >= 0 or -errno. */
typedef long (*sg_attempt_fn)(struct sg_call *c, void *ctx, int how);

/*
 * What the program gets after result r (>= 0 or -errno) of c.  A
 * descriptor that is not a socket is left alone (r is returned as it is).
 */
long sg_retry(struct sg_call *c, long r, sg_attempt_fn fn, void *ctx);

/*
 * The slow path every exported wrapper ends in: r is libc's result with
 * errno; the return value and errno are what the program gets.  errno is
 * left as libc left it unless the result changed.
 */
long sg_slow(struct sg_call *c, long r, sg_attempt_fn fn, void *ctx);

/* Logs a verdict's event for c (nothing when n->cls is SG_CLASS_NONE). */
void sg_call_event(const struct sg_call *c, const struct sg_event_note *n);

#pragma GCC visibility pop

#endif
