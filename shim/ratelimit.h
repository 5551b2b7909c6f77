/*
 * The rate limit of log lines per (class, peer host): at most `burst` lines
 * in a window of `interval_ms` that opens with the first line of a key; the
 * rest are counted, and the count is handed back when the key's next window
 * opens, when the key is evicted, or at exit, to be written as one
 * class=suppressed line.
 *
 * Above the keys, a ceiling for the whole process: at most `max` lines (event
 * lines and the suppressed lines of keys alike) in a window of `interval_ms`
 * of its own, whatever the number of keys.  What goes over it is counted per
 * class, without a peer, and handed back when the process window next opens
 * or at exit, for one class=suppressed line per class.  So every line is
 * written or counted exactly once, and a process writes at most max lines,
 * plus one per class, per interval.
 *
 * The table is fixed (SG_RL_SLOTS entries, a few probes per key), so memory
 * is bounded whatever the number of peers.  It is lock-free: the hot path is
 * compare-and-swap on one word per key, and claiming a slot takes a per-slot
 * flag with a single try (never a wait), so a signal handler interrupting
 * the limiter cannot deadlock.  Async-signal-safe; depends on nothing else
 * in the shim, so the unit tests compile ratelimit.c on its own.
 */
#ifndef SG_RATELIMIT_H
#define SG_RATELIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#define SG_RL_SLOTS 256
#define SG_RL_PROBES 4
/* The most lines a window can count; larger bursts are capped to it. */
#define SG_RL_BURST_MAX 0xffffffu
/* Classes the process-wide counts are kept for (enum sg_class fits). */
#define SG_RL_CLASSES 16

/* burst or interval_ms 0: no per-key limit; max or interval_ms 0: no ceiling. */
struct sg_rl_limits {
	uint32_t burst;
	uint32_t max;
	uint64_t interval_ms;
};

/* Lines over the process-wide ceiling, by class; count[] is set only when any is. */
struct sg_rl_over {
	int any;
	uint64_t count[SG_RL_CLASSES];
};

/* A key and the lines held back for it, to be reported. */
struct sg_rl_held {
	uint64_t count;		/* 0: nothing to report */
	int cls;
	socklen_t peerlen;	/* 0: no peer known */
	struct sockaddr_storage peer;	/* port zeroed: the key is the host */
};

struct sg_rl_verdict {
	int allow;		/* 1: write the line, 0: it was counted */
	/* This key's count from its previous window (count 0: none). */
	uint64_t flushed;
	/* Another key evicted to make room, with its count (count 0: none). */
	struct sg_rl_held evicted;
	/* The previous process window's counts, when this line opened one. */
	struct sg_rl_over over;
};

/*
 * Decides about one line of class cls (0..SG_RL_CLASSES-1) for peer (NULL
 * or len 0: no peer) at monotonic time now_ms.
 */
void sg_rl_check(int cls, const struct sockaddr *peer, socklen_t len,
		 uint64_t now_ms, const struct sg_rl_limits *lim,
		 struct sg_rl_verdict *v);

/*
 * Asks the process-wide ceiling for one class=suppressed line that reports
 * count lines of class cls.  Returns 1 when it may be written; 0 when the
 * count was added to the process-wide ones instead.  over gets the previous
 * window's counts when this call opened a new window.
 */
int sg_rl_spend(int cls, uint64_t count, uint64_t now_ms,
		const struct sg_rl_limits *lim, struct sg_rl_over *over);

/* Takes the process-wide counts (at exit). */
void sg_rl_take_over(struct sg_rl_over *over);

/*
 * Takes the next held count from the table (at exit).  *cursor starts at 0.
 * Returns 1 with *out filled, 0 when the table has no more.
 */
int sg_rl_take_held(unsigned *cursor, struct sg_rl_held *out);

/* Empties the table (in the child after fork, and for tests). */
void sg_rl_reset(void);

/* The key's peer: the address with the port zeroed (host only). */
socklen_t sg_rl_host_of(const struct sockaddr *peer, socklen_t len,
			struct sockaddr_storage *out);

#endif
