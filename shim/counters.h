/*
 * The live counter block (its layout is in policy/live.h, shared with the
 * tool).  Counters are updated with relaxed atomic adds.
 */
#ifndef SG_COUNTERS_H
#define SG_COUNTERS_H

#include <stdint.h>

#include "../policy/live.h"

extern struct sg_counters sockguard_counters;

/* Zeroes every counter and sets pid (the child after fork starts afresh). */
void sg_counters_reset(uint64_t pid);

static inline void sg_count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

#endif
