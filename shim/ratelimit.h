/*
 * The rate limit of log lines per (class, peer host): at most `burst` lines
 * in a window of `interval_ms` that opens with the first line of a key; the
 * rest are counted, and the count is handed back when the key's next window
 * opens, when the key is evicted, or at exit, to be written as one
 * class=suppressed line.
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
};

/*
 * Decides about one line of class cls for peer (NULL or len 0: no peer) at
 * monotonic time now_ms.  burst or interval_ms 0 means no limit.
 */
void sg_rl_check(int cls, const struct sockaddr *peer, socklen_t len,
		 uint64_t now_ms, uint32_t burst, uint64_t interval_ms,
		 struct sg_rl_verdict *v);

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
