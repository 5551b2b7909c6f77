/*
 * The shim's clocks (clock.h).  On x86-64 a stamp is a reading of the
 * time-stamp counter, which ticks at a constant rate on every processor
 * Linux keeps it as its clock source on (and the vDSO's CLOCK_MONOTONIC
 * reads that same counter).  The rate is not asked of the kernel: the
 * constructor takes one reference pair (counter, CLOCK_MONOTONIC), and an
 * EINTR that needs a stamp's time takes a second pair now; the stamp's
 * distance from now, in counter ticks, is scaled by the ratio of the two
 * pairs.  The stamp lies between the reference and now, so the error of
 * the scaled distance is at most that of the pairs themselves (the few
 * nanoseconds between a counter reading and a clock reading), however
 * soon after the constructor the EINTR comes.
 */
#include "clock.h"

#include <time.h>

int64_t sg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#if defined(__x86_64__)
/* The reference pair: the counter and the clock read together. */
static uint64_t ref_tsc;
static int64_t ref_ns;

/* A counter reading and the clock, the counter read on both sides. */
static void pair(uint64_t *tsc, int64_t *ns)
{
	struct sg_stamp a, b;

	sg_stamp_take(&a);
	*ns = sg_now_ns();
	sg_stamp_take(&b);
	*tsc = sg_stamp_value(&a) + (sg_stamp_value(&b) - sg_stamp_value(&a)) / 2;
}

void sg_clock_init(void)
{
	uint64_t tsc;
	int64_t ns;

	pair(&tsc, &ns);
	ref_ns = ns;
	__atomic_store_n(&ref_tsc, tsc, __ATOMIC_RELEASE);
}

int64_t sg_stamp_ns(const struct sg_stamp *s)
{
	uint64_t stamp = sg_stamp_value(s);
	uint64_t ref = __atomic_load_n(&ref_tsc, __ATOMIC_ACQUIRE);
	uint64_t now_tsc;
	int64_t now_ns;

	pair(&now_tsc, &now_ns);
	if (ref == 0 || stamp < ref || now_tsc < stamp || now_tsc == ref ||
	    now_ns <= ref_ns)
		return -1;
	unsigned __int128 span = (unsigned __int128)(now_tsc - stamp) *
				 (uint64_t)(now_ns - ref_ns);
	return now_ns - (int64_t)(span / (now_tsc - ref));
}
#else
void sg_clock_init(void)
{
}

int64_t sg_stamp_ns(const struct sg_stamp *s)
{
	return (int64_t)sg_stamp_value(s);
}
#endif
