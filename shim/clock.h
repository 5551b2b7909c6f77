/*
 * The shim's clocks.  sg_now_ns() is CLOCK_MONOTONIC through the vDSO (no
 * system call).  A readiness call with a timeout must know when it began,
 * so that a retry after EINTR waits only the time left; reading
 * CLOCK_MONOTONIC on every such call cost some forty instructions, so the
 * call takes a stamp instead (sg_stamp_take: the processor's time-stamp counter
 * on x86-64, one instruction) and only an EINTR turns it into
 * CLOCK_MONOTONIC (sg_stamp_ns).
 */
#ifndef SG_CLOCK_H
#define SG_CLOCK_H

#include <stdint.h>

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

/* CLOCK_MONOTONIC in nanoseconds (vDSO, no system call). */
int64_t sg_now_ns(void);

/*
 * The start stamp of a call (no system call, no vDSO on x86-64).  Kept as
 * two halves, as the counter is read, so that taking it is the reading and
 * two stores.
 */
struct sg_stamp {
	uint32_t lo, hi;
};

static inline void sg_stamp_take(struct sg_stamp *s)
{
#if defined(__x86_64__)
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	s->lo = lo;
	s->hi = hi;
#else
	uint64_t ns = (uint64_t)sg_now_ns();

	s->lo = (uint32_t)ns;
	s->hi = (uint32_t)(ns >> 32);
#endif
}

static inline uint64_t sg_stamp_value(const struct sg_stamp *s)
{
	return (uint64_t)s->hi << 32 | s->lo;
}

/*
 * CLOCK_MONOTONIC at the moment a stamp was taken, or -1 when that cannot
 * be told (a stamp from before the constructor's reference, a counter
 * that went backwards): the caller then does not retry.
 */
int64_t sg_stamp_ns(const struct sg_stamp *stamp);

/* Takes the reference that sg_stamp_ns scales from (the constructor). */
void sg_clock_init(void);

#pragma GCC visibility pop

#endif
