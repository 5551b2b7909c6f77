/*
 * The log rate limit (see ratelimit.h for the contract).
 *
 * Each slot's window is one 64-bit word, the window's start in milliseconds
 * shifted left by 24 bits, or'ed with the lines let through in it, so that a
 * line is let through or counted with one compare-and-swap.  The key and the
 * peer it stands for change only when a slot is claimed, under a per-slot
 * flag taken with one try: whoever fails to take it lets its line through
 * unlimited rather than wait, because the holder may be the very thread a
 * signal handler interrupted.
 */
#include "ratelimit.h"

#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

#define WINDOW_COUNT_BITS 24
#define WINDOW_COUNT_MASK ((1ull << WINDOW_COUNT_BITS) - 1)

struct rl_slot {
	uint64_t key;		/* hash of (class, host), 0: empty */
	uint64_t window;	/* start_ms << 24 | lines let through */
	uint64_t held;		/* lines counted and not reported yet */
	uint32_t busy;		/* 1 while a claim rewrites cls and peer */
	int cls;
	socklen_t peerlen;
	struct sockaddr_storage peer;
};

static struct rl_slot slots[SG_RL_SLOTS];

/* The process-wide window (start_ms << 24 | lines) and what went over it. */
static uint64_t proc_window;
static uint64_t proc_over[SG_RL_CLASSES];

socklen_t sg_rl_host_of(const struct sockaddr *peer, socklen_t len,
			struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (!peer || len < sizeof(sa_family_t))
		return 0;
	if (peer->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *o = (struct sockaddr_in *)out;

		o->sin_family = AF_INET;
		o->sin_addr = ((const struct sockaddr_in *)peer)->sin_addr;
		return sizeof(*o);
	}
	if (peer->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *p = (const struct sockaddr_in6 *)peer;
		struct sockaddr_in6 *o = (struct sockaddr_in6 *)out;

		o->sin6_family = AF_INET6;
		o->sin6_addr = p->sin6_addr;
		o->sin6_scope_id = p->sin6_scope_id;
		return sizeof(*o);
	}
	if (len > sizeof(*out))
		len = sizeof(*out);
	memcpy(out, peer, len);
	return len;
}

/* FNV-1a over the class and the host; never 0, which marks an empty slot. */
static uint64_t key_of(int cls, const struct sockaddr_storage *host,
		       socklen_t len)
{
	const unsigned char *b = (const unsigned char *)host;
	uint64_t h = 0xcbf29ce484222325ull;

	h = (h ^ (unsigned)cls) * 0x100000001b3ull;
	for (socklen_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

/*
 * Takes one line from a window word: 1 when it fits (or opens a new window,
 * with *rolled set), 0 when the window already let `limit` lines through.
 */
static int window_claim(uint64_t *window, uint64_t now, uint32_t limit,
			uint64_t interval, int *rolled)
{
	uint64_t w = __atomic_load_n(window, __ATOMIC_ACQUIRE);

	for (;;) {
		uint64_t start = w >> WINDOW_COUNT_BITS;
		uint64_t next;

		*rolled = now >= start + interval;
		if (*rolled)
			next = now << WINDOW_COUNT_BITS | 1;
		else if ((w & WINDOW_COUNT_MASK) < limit)
			next = w + 1;
		else
			return 0;
		if (__atomic_compare_exchange_n(window, &w, next, 0,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return 1;
	}
}

/*
 * Lets one line through the slot's window or counts it.  A window that is
 * over is replaced by a new one holding this line; the count of the old one
 * is then handed back in *flushed.
 */
static int window_take(struct rl_slot *s, uint64_t now, uint32_t burst,
		       uint64_t interval, uint64_t *flushed)
{
	int rolled;

	if (!window_claim(&s->window, now, burst, interval, &rolled)) {
		__atomic_fetch_add(&s->held, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (rolled)
		*flushed = __atomic_exchange_n(&s->held, 0, __ATOMIC_ACQ_REL);
	return 1;
}

void sg_rl_take_over(struct sg_rl_over *over)
{
	over->any = 0;
	for (int c = 0; c < SG_RL_CLASSES; c++) {
		over->count[c] = __atomic_exchange_n(&proc_over[c], 0,
						     __ATOMIC_ACQ_REL);
		over->any |= over->count[c] != 0;
	}
}

static int class_index(int cls)
{
	return cls >= 0 && cls < SG_RL_CLASSES ? cls : SG_RL_CLASSES - 1;
}

/*
 * Takes one line from the process-wide window, or adds count lines of cls
 * to what went over it.  Whoever opens a new window takes the old one's
 * counts into *over.
 */
static int ceiling_take(int cls, uint64_t count, uint64_t now,
			const struct sg_rl_limits *lim, struct sg_rl_over *over)
{
	int rolled;

	if (lim->max == 0 || lim->interval_ms == 0)
		return 1;
	if (window_claim(&proc_window, now,
			 lim->max < SG_RL_BURST_MAX ? lim->max : SG_RL_BURST_MAX,
			 lim->interval_ms, &rolled)) {
		if (rolled)
			sg_rl_take_over(over);
		return 1;
	}
	__atomic_fetch_add(&proc_over[class_index(cls)], count,
			   __ATOMIC_RELAXED);
	return 0;
}

int sg_rl_spend(int cls, uint64_t count, uint64_t now_ms,
		const struct sg_rl_limits *lim, struct sg_rl_over *over)
{
	over->any = 0;
	return ceiling_take(cls, count, now_ms, lim, over);
}

/* Among a key's probe slots: an empty one, else the one with the oldest window. */
static struct rl_slot *pick_victim(unsigned base)
{
	struct rl_slot *best = NULL;
	uint64_t best_start = UINT64_MAX;

	for (unsigned i = 0; i < SG_RL_PROBES; i++) {
		struct rl_slot *s = &slots[(base + i) % SG_RL_SLOTS];
		uint64_t start;

		if (__atomic_load_n(&s->key, __ATOMIC_ACQUIRE) == 0)
			return s;
		start = __atomic_load_n(&s->window, __ATOMIC_RELAXED) >>
			WINDOW_COUNT_BITS;
		if (start < best_start) {
			best = s;
			best_start = start;
		}
	}
	return best;
}

static int try_busy(struct rl_slot *s)
{
	uint32_t idle = 0;

	return __atomic_compare_exchange_n(&s->busy, &idle, 1, 0,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* Hands back what the slot holds (count 0 when nothing); the caller is busy. */
static void take_slot(struct rl_slot *s, struct sg_rl_held *out)
{
	out->count = __atomic_exchange_n(&s->held, 0, __ATOMIC_ACQ_REL);
	out->cls = s->cls;
	out->peerlen = s->peerlen;
	memcpy(&out->peer, &s->peer, sizeof(out->peer));
}

/*
 * Gives the key a slot, evicting the oldest of its probe slots (whose count
 * is handed back to be reported first).  The new key's first line is let
 * through.
 */
static void claim(struct rl_slot *s, uint64_t key, int cls,
		  const struct sockaddr_storage *host, socklen_t len,
		  uint64_t now, struct sg_rl_verdict *v)
{
	if (__atomic_load_n(&s->key, __ATOMIC_RELAXED) != 0)
		take_slot(s, &v->evicted);
	/* Hidden while it is rewritten, so no one matches a half-written key. */
	__atomic_store_n(&s->key, 0, __ATOMIC_RELEASE);
	/*
	 * Lines another context counted for the old key while it was being
	 * evicted belong to it: taken, not dropped.
	 */
	v->evicted.count += __atomic_exchange_n(&s->held, 0, __ATOMIC_ACQ_REL);
	s->cls = cls;
	s->peerlen = len;
	memcpy(&s->peer, host, sizeof(s->peer));
	__atomic_store_n(&s->window, now << WINDOW_COUNT_BITS | 1,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&s->key, key, __ATOMIC_RELEASE);
}

static struct rl_slot *find(uint64_t key, unsigned base)
{
	for (unsigned i = 0; i < SG_RL_PROBES; i++) {
		struct rl_slot *s = &slots[(base + i) % SG_RL_SLOTS];

		if (__atomic_load_n(&s->key, __ATOMIC_ACQUIRE) == key)
			return s;
	}
	return NULL;
}

/* The per-key part of sg_rl_check(): 1 when the key lets the line through. */
static int key_allows(int cls, const struct sockaddr *peer, socklen_t len,
		      uint64_t now_ms, uint32_t burst, uint64_t interval_ms,
		      struct sg_rl_verdict *v)
{
	struct sockaddr_storage host;
	socklen_t hlen = sg_rl_host_of(peer, len, &host);
	uint64_t key = key_of(cls, &host, hlen);
	unsigned base = (unsigned)(key % SG_RL_SLOTS);
	struct rl_slot *s;
	int allow = 1;

	if (burst > SG_RL_BURST_MAX)
		burst = SG_RL_BURST_MAX;
	s = find(key, base);
	if (s)
		return window_take(s, now_ms, burst, interval_ms, &v->flushed);
	s = pick_victim(base);
	if (!try_busy(s))
		return 1;	/* another context is claiming: let it through */
	if (__atomic_load_n(&s->key, __ATOMIC_ACQUIRE) == key)
		allow = window_take(s, now_ms, burst, interval_ms, &v->flushed);
	else
		claim(s, key, cls, &host, hlen, now_ms, v);
	__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
	return allow;
}

void sg_rl_check(int cls, const struct sockaddr *peer, socklen_t len,
		 uint64_t now_ms, const struct sg_rl_limits *lim,
		 struct sg_rl_verdict *v)
{
	v->allow = 1;
	v->flushed = 0;
	v->evicted.count = 0;
	v->over.any = 0;
	if (lim->interval_ms == 0)
		return;
	if (lim->burst && !key_allows(cls, peer, len, now_ms, lim->burst,
				      lim->interval_ms, v)) {
		v->allow = 0;
		return;
	}
	v->allow = ceiling_take(cls, 1, now_ms, lim, &v->over);
}

int sg_rl_take_held(unsigned *cursor, struct sg_rl_held *out)
{
	while (*cursor < SG_RL_SLOTS) {
		struct rl_slot *s = &slots[(*cursor)++];

		if (__atomic_load_n(&s->key, __ATOMIC_ACQUIRE) == 0 ||
		    __atomic_load_n(&s->held, __ATOMIC_RELAXED) == 0 ||
		    !try_busy(s))
			continue;
		take_slot(s, out);
		__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
		if (out->count)
			return 1;
	}
	return 0;
}

void sg_rl_reset(void)
{
	memset(slots, 0, sizeof(slots));
	memset(proc_over, 0, sizeof(proc_over));
	proc_window = 0;
}
