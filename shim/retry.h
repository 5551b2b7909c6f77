/*
 * The retry engine: one place that decides, for every wrapper, what to do
 * after a call did not simply succeed: retry after EINTR, wait out EAGAIN,
 * complete a partial write, retry accept errors, log the rest.  Wrappers pass
 * the first result and an `attempt` function that makes the call once more.
 *
 * Internal results are >= 0 or -errno; only the exported wrapper sets errno.
 */
#ifndef SG_RETRY_H
#define SG_RETRY_H


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

enum sg_dir { SG_DIR_IN, SG_DIR_OUT };

struct sg_call {
	const char *op;		/* the name logged as op= */
	int fd;
	int dir;		/* enum sg_dir: readiness to wait for */
	int dontwait;		/* the caller asked MSG_DONTWAIT */
	int is_send;		/* a write whose partial result may be completed */
	int is_accept;
	uint32_t fdstate;	/* sg_fd_get(fd) read before the call */
	uint64_t sigseq;	/* sg_sigseq() before the call */
	int64_t start_ns;	/* CLOCK_MONOTONIC before the call, 0: not read */
	int64_t deadline_ns;	/* absolute, 0: none */
	int deadline_kind;	/* enum sg_deadline of deadline_ns */
	unsigned tries;		/* EAGAIN and accept retries, against retry_max */
	size_t want;		/* bytes asked to send (is_send) */
	size_t done;		/* bytes sent so far (is_send) */
	int nosignal_added;	/* the shim added MSG_NOSIGNAL (sigpipe=socket) */
};

/* Set once the process created an epoll instance or polled a socket. */
extern int sg_proc_watched;

/*
 * accept.c: on EMFILE/ENFILE, accepts and closes one pending connection with
 * the reserved descriptor.  Returns 1 when one was shed.
 */
int sg_accept_shed(struct sg_call *c, int err);

/*
 * Makes the call once more.  nonblock: make it without blocking (MSG_DONTWAIT
 * or an equivalent), after the engine has waited for readiness itself.
 * For sends, continue from c->done.  Returns >= 0 or -errno.
 */
typedef ssize_t (*sg_attempt_fn)(struct sg_call *c, void *ctx, int nonblock);

/*
 * Decides what happens after result r (>= 0 or -errno) of c.  Returns the
 * value the program gets (>= 0 or -errno).
 */
ssize_t sg_retry(struct sg_call *c, ssize_t r, sg_attempt_fn fn, void *ctx);

/* CLOCK_MONOTONIC in nanoseconds (vDSO, no system call). */
int64_t sg_now_ns(void);

/*
 * Waits until fd is ready for dir, at most until deadline_ns (0: forever).
 * Returns 1 ready, 0 timed out, -EINTR when a signal in eintr_pass ran
 * (since c->sigseq), other -errno on failure.  Other signals do not end it.
 */
int sg_wait_ready(struct sg_call *c, int64_t deadline_ns);

/*
 * Sets c->start_ns and, for a socket with SO_RCVTIMEO / SO_SNDTIMEO, the
 * deadline the kernel applies.  Error path only.
 */
void sg_call_timeout(struct sg_call *c);

/* Logs an event for c (class from err unless cls >= 0). */
void sg_call_event(const struct sg_call *c, int cls, int err, int action,
		   int deadline);

#pragma GCC visibility pop

#endif
