/*
 * The blocks a running shim exports for the `sockguard` tool, by design the
 * only layout the two share.  The tool finds each block at the address of
 * its symbol (the library's dynamic symbol table plus the load bias of its
 * mapping in /proc/PID/maps) and reads it with process_vm_readv(2) or, for
 * the live settings, writes it with process_vm_writev(2): no file, socket or
 * shared memory is created for either.  Both need the same permission as
 * ptrace(2) reading: root, or the process's own user where Yama allows it.
 *
 * A block is used only when magic, version and size all match what this
 * header says: a tool and a library from different builds refuse each
 * other's blocks instead of misreading them.
 */
#ifndef SG_LIVE_H
#define SG_LIVE_H

#include <stdint.h>

#include "classify.h"
#include "policy.h"

/* ---- the counters: read by status, metrics and audit ---- */

#define SG_COUNTERS_SYMBOL "sockguard_counters"
#define SG_COUNTERS_MAGIC "sockguard-ctr-2"
#define SG_COUNTERS_VERSION 2

enum sg_retry_cause {
	SG_RETRY_EINTR, SG_RETRY_EAGAIN, SG_RETRY_ACCEPT, SG_RETRY_PARTIAL,
	SG_RETRY_COUNT
};

/* sg_counters.flags */
#define SG_PROC_QUIET	0x1u	/* a seccomp filter: no system call of the shim's own */
#define SG_PROC_SECURE	0x2u	/* secure execution (AT_SECURE) */
/* The shim adopts live settings (it started with a mode other than off). */
#define SG_PROC_LIVE	0x4u

struct sg_counters {
	char magic[16];			/* SG_COUNTERS_MAGIC, NUL-padded */
	uint32_t version;		/* SG_COUNTERS_VERSION */
	uint32_t size;			/* sizeof(struct sg_counters) */
	uint32_t mode;			/* enum sg_mode in force */
	uint32_t flags;			/* SG_PROC_* */
	uint64_t pid;			/* the process these count for */
	uint64_t generation;		/* live settings adopted (0: the policy's) */
	uint64_t events[SG_CLASS_COUNT];	/* events met, logged or not */
	uint64_t by_action[SG_CLASS_COUNT][SG_ACTION_COUNT];
	uint64_t retries[SG_RETRY_COUNT];	/* enum sg_retry_cause */
	uint64_t sigpipe_suppressed;
	uint64_t lines_written;
	uint64_t lines_dropped;		/* the destination was missing or full */
	uint64_t lines_suppressed;	/* held back by the rate limit */
};

/* ---- the live settings: written by `sockguard set` ---- */

#define SG_LIVE_SYMBOL "sockguard_live"
#define SG_LIVE_MAGIC "sockguard-live-1"
#define SG_LIVE_VERSION 1

/*
 * One generation of live settings: the keys `set` changed (bit per enum
 * sg_key) and their values in `vals` (other fields unused).  They apply on
 * top of the policy file and SOCKGUARD_OPTIONS, like one more options layer;
 * keys 0 is `--reset`, back to the policy's settings.
 *
 * seq is a sequence count: odd while the tool writes the slot.  The tool
 * writes the slot that is not `current`, seq odd first and even last, each
 * with its own process_vm_writev(2), then adds one to `current`; the shim
 * copies a slot and keeps the copy only when seq was even and unchanged around it.
 * The generation of the new slot is one more than the newest of the two.
 * Writers on one host are serialised by a lock (tools/set.c).
 */
struct sg_live_slot {
	uint32_t seq;
	uint32_t keys;
	uint64_t generation;
	struct sg_settings vals;
};

struct sg_live {
	char magic[16];			/* SG_LIVE_MAGIC, NUL-padded */
	uint32_t version;		/* SG_LIVE_VERSION */
	uint32_t size;			/* sizeof(struct sg_live) */
	/*
	 * One more with each generation written; current & 1 is the slot
	 * with the newest.  A process compares it with the value it saw last
	 * (one load and a compare) to know whether to look at the slots.
	 */
	uint32_t current;
	/*
	 * Written by the shim when it adopts a generation: the keys whose
	 * values in force differ from what the policy gives the program.
	 */
	uint32_t differ;
	struct sg_live_slot slot[2];
};

#endif
