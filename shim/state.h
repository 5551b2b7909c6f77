/*
 * The process-wide state of the shim, in one place.  This file grows as the
 * flags scattered over the wrappers move here; for now it holds what the log
 * writer and the core both need to know before they make a system call of
 * their own.
 */
#ifndef SG_STATE_H
#define SG_STATE_H

#include "shim.h"

#pragma GCC visibility push(hidden)

struct sg_proc {
	/*
	 * Set before the program installs a seccomp filter: from then on the
	 * shim makes no system call of its own in this process (no log line,
	 * no classification, no wait); it only re-issues the program's calls.
	 */
	int quiet;
};

extern struct sg_proc sg_proc;

/*
 * Set on a thread that is a vfork() child (shared memory with its parent,
 * until it execs or exits): nothing it does may change the shim's state.
 */
extern SG_TLS int sg_tls_vfork_child;

/*
 * Whether the shim may make a system call of its own (write a log line,
 * open its log socket, ask the kernel about a descriptor) on this thread.
 */
static inline int sg_own_syscalls_allowed(void)
{
	return !__atomic_load_n(&sg_proc.quiet, __ATOMIC_RELAXED) &&
	       !sg_tls_vfork_child;
}

#pragma GCC visibility pop

#endif
