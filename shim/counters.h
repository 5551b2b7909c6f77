/*
 * The live counter block read by `sockguard status` with process_vm_readv
 * at the address of the exported symbol `sockguard_counters`.  Counters are
 * updated with relaxed atomic adds; the layout is versioned by `magic`.
 */
#ifndef SG_COUNTERS_H
#define SG_COUNTERS_H

#include <stdint.h>

#include "../policy/classify.h"

#define SG_COUNTERS_MAGIC "sockguard-ctr-1"

enum sg_retry_cause {
	SG_RETRY_EINTR, SG_RETRY_EAGAIN, SG_RETRY_ACCEPT, SG_RETRY_PARTIAL,
	SG_RETRY_COUNT
};

struct sg_counters {
	char magic[16];			/* SG_COUNTERS_MAGIC, NUL-padded */
	uint32_t version;		/* 1 */
	uint32_t mode;			/* enum sg_mode in force */
	uint64_t pid;			/* the process these count for */
	uint64_t events[SG_CLASS_COUNT];	/* events met, logged or not */
	uint64_t by_action[SG_CLASS_COUNT][SG_ACTION_COUNT];
	uint64_t retries[SG_RETRY_COUNT];	/* enum sg_retry_cause */
	uint64_t sigpipe_suppressed;
	uint64_t lines_written;
	uint64_t lines_dropped;		/* the log socket was missing or full */
	uint64_t lines_suppressed;	/* held back by the rate limit */
};

extern struct sg_counters sockguard_counters;

/* Zeroes every counter and sets pid (the child after fork starts afresh). */
void sg_counters_reset(uint64_t pid);

static inline void sg_count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

#endif
