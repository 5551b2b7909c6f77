/*
 * Signal sets as the kernel reads them (its 64 signals, the first 64 bits
 * of a sigset_t in glibc and in musl alike) and the thread's mask through
 * rt_sigprocmask(2): the shim's own, so that it imports none of libc's
 * sigemptyset, sigaddset, sigismember, sigprocmask or pthread_sigmask.
 */
#ifndef SG_SIGSET_H
#define SG_SIGSET_H

#include <signal.h>
#include <stdint.h>

#include "../policy/rawsys.h"

#pragma GCC visibility push(hidden)

static inline uint64_t sg_sigset_bits(const sigset_t *s)
{
	uint64_t b;
	__builtin_memcpy(&b, s, sizeof(b));
	return b;
}

static inline void sg_sigset_set_bits(sigset_t *s, uint64_t b)
{
	__builtin_memset(s, 0, sizeof(*s));
	__builtin_memcpy(s, &b, sizeof(b));
}

/* The set holding only sig (1..64). */
static inline void sg_sigset_one(sigset_t *s, int sig)
{
	sg_sigset_set_bits(s, 1ull << (sig - 1));
}

static inline int sg_sigset_has(const sigset_t *s, int sig)
{
	return (sg_sigset_bits(s) >> (sig - 1)) & 1;
}

/* The calling thread's mask: 0 or -errno, as rt_sigprocmask(2). */
static inline int sg_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	if (old)
		__builtin_memset(old, 0, sizeof(*old));
	return (int)sg_sys4(SYS_rt_sigprocmask, how, set, old, sizeof(uint64_t));
}

#pragma GCC visibility pop

#endif
