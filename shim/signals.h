/*
 * What the retry engine needs to know about signals: which ones a thread
 * handled during a call (to tell an EINTR the program must see from one it
 * must not), and how SIGPIPE is being kept from killing the program.
 */
#ifndef SG_SIGNALS_H
#define SG_SIGNALS_H


#include <signal.h>
#include <spawn.h>
#include <stdint.h>

#include "shim.h"

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

/*
 * Incremented by the shim's trampoline each time a handler for a signal in
 * eintr_pass runs on this thread.  A wrapper reads it before the call; a
 * different value after EINTR means the program's signal interrupted it.
 */
extern SG_TLS uint64_t sg_tls_pass_seq;

static inline uint64_t sg_sigseq(void)
{
	return sg_tls_pass_seq;
}

/* Set up SIGPIPE and wrap handlers installed before the constructor ran. */
void sg_signals_init(void);

/*
 * Whether the shim holds SIGPIPE ignored where the program's own disposition
 * is SIG_DFL (sigpipe=ignore): an EPIPE then was kept from killing it, and a
 * spawned child must get SIG_DFL back.
 */
int sg_sigpipe_suppressing(void);

/* Around exec: give the new image the SIGPIPE disposition the program set. */
void sg_signals_before_exec(void);
void sg_signals_exec_failed(void);

/*
 * attr, or a copy of it in *copy that also resets SIGPIPE to SIG_DFL in the
 * child when the shim is holding it ignored (exec.c).
 */

const posix_spawnattr_t *sg_spawnattr_sigpipe(const posix_spawnattr_t *attr,
					      posix_spawnattr_t *copy);

/* sigpipe=socket: true when writes to sockets must be protected. */
extern int sg_sigpipe_socket;

/*
 * sigpipe=socket for calls that cannot take MSG_NOSIGNAL (sendfile): block
 * SIGPIPE around the call and consume one it raised itself.
 */
struct sg_sigpipe_guard {
	int active;
	int was_pending;
	sigset_t oldmask;
};
void sg_sigpipe_block(struct sg_sigpipe_guard *g);
void sg_sigpipe_unblock(struct sg_sigpipe_guard *g, int raised_epipe);

#pragma GCC visibility pop

#endif
