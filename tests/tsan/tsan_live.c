/*
 * Live settings under ThreadSanitizer (make test-sanitize): one thread
 * plays `sockguard set`, writing generation after generation into the
 * sockguard_live block in the order the tool does (sequence count odd,
 * body, sequence count even, then `current`), as fast as it can, while four
 * threads run the retry driver's entry over and over (the adoption point,
 * then a snapshot of the settings in force).  Every generation g sets
 * several keys to values derived from g, so a snapshot that mixes two
 * generations is seen at once.  TSan fails the run on a data race; the
 * program fails it on a torn snapshot, or when the last generation is not
 * the one adopted in the end.
 *
 * The shim's parts that live.c calls to follow a change (signals, the
 * accept reserve, socket options, the log writer) are stand-ins here: they are not what is
 * under test, and the real ones make system calls.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include "../../shim/live.c"
#include "../../shim/state.c"
#include "../../shim/counters.c"

#define READERS 4
#define GENERATIONS 200000
#define LOOKS 200000

/* Stand-ins for the parts of the shim live.c reaches. */
uint32_t *sg_fdt;
unsigned sg_fdt_size;
uint8_t *sg_fd_lastop;
int sg_pol_has_peers;
static uint64_t notices;

void sg_log_line(const struct sg_sock_settings *s, int cls, const char *body,
		 size_t len, int flags)
{
	(void)s, (void)cls, (void)body, (void)len, (void)flags;
	__atomic_fetch_add(&notices, 1, __ATOMIC_RELAXED);
}

void sg_signals_follow(int may_syscall)
{
	(void)may_syscall;
}

void sg_accept_reserve_take(void)
{
}

int sg_sockopts_wanted(const struct sg_sock_settings *s)
{
	(void)s;
	return 0;
}

void sg_log_after_fork(void)
{
}

#define KEYS ((1u << SG_KEY_MODE) | (1u << SG_KEY_RETRY_MAX) | \
	      (1u << SG_KEY_EAGAIN_WAIT) | (1u << SG_KEY_LOG_BURST) | \
	      (1u << SG_KEY_LOG_MAX) | (1u << SG_KEY_USER_TIMEOUT) | \
	      (1u << SG_KEY_KEEPALIVE))

/* Generation g's values; every one of them in its key's range. */
static void values_of(uint64_t g, struct sg_settings *s)
{
	uint32_t v = (uint32_t)(g % 900000) + 1;

	sg_settings_default(s);
	s->mode = g & 1 ? SG_MODE_OBSERVE : SG_MODE_HARDEN;
	s->retry_max = v;
	s->eagain_wait_ms = v + 1;
	s->log_burst = v + 2;
	s->log_max = v + 3;
	s->sock.user_timeout_ms = v + 4;
	s->sock.keepalive = SG_KEEPALIVE_CUSTOM;
	s->sock.keepalive_idle = v % 32000 + 1;
	s->sock.keepalive_intvl = v % 32000 + 1;
	s->sock.keepalive_cnt = v % 127 + 1;
}

/*
 * Whether s is wholly the policy's, or wholly one generation's.  A
 * snapshot holds the process-wide part only (not sock): whole is 0 then.
 */
static int consistent(const struct sg_settings *s, int whole)
{
	struct sg_settings want;

	if (s->retry_max == 100 && s->eagain_wait_ms == 5000) {
		sg_settings_default(&want);
	} else {
		values_of(s->retry_max - 1, &want);
	}
	if (!whole)
		return memcmp(s, &want, offsetof(struct sg_settings, sock)) == 0;
	return sg_settings_differ(s, &want) == 0;
}

/* What the tool's process_vm_writev(2) calls do, one store at a time. */
static void poke(void *dst, const void *src, size_t bytes)
{
	copy_out(dst, src, bytes);
}

static void write_generation(uint64_t g)
{
	struct sg_live *b = &sockguard_live;
	uint32_t next = __atomic_load_n(&b->current, __ATOMIC_RELAXED) + 1;
	struct sg_live_slot *slot = &b->slot[next & 1];
	struct sg_live_slot s;

	s.seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
	s.seq += 1 + (s.seq & 1);
	s.keys = KEYS;
	s.generation = g;
	values_of(g, &s.vals);
	__atomic_store_n(&slot->seq, s.seq, __ATOMIC_RELEASE);
	poke(&slot->keys, &s.keys, sizeof(s) - offsetof(struct sg_live_slot, keys));
	__atomic_store_n(&slot->seq, s.seq + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&b->current, next, __ATOMIC_RELEASE);
}

static void *tool(void *arg)
{
	(void)arg;
	for (uint64_t g = 1; g <= GENERATIONS; g++) {
		write_generation(g);
		sched_yield();
	}
	return NULL;
}

struct reader {
	uint64_t looks, torn, seen_max;
};

static void *driver(void *arg)
{
	struct reader *r = arg;
	struct sg_settings snap;

	for (int i = 0; i < LOOKS; i++) {
		if (!sg_live_acting())
			continue;
		sg_live_snapshot(&snap);
		r->looks++;
		if (!consistent(&snap, 0))
			r->torn++;
		else if (snap.retry_max > r->seen_max && snap.retry_max != 100)
			r->seen_max = snap.retry_max;
	}
	return NULL;
}

int main(void)
{
	pthread_t w, t[READERS];
	struct reader r[READERS] = { { 0 } };
	uint64_t looks = 0, torn = 0;

	sg_settings_default(&sg_cfg);
	sg_proc.active = 1;
	sg_live_start();
	pthread_create(&w, NULL, tool, NULL);
	for (int i = 0; i < READERS; i++)
		pthread_create(&t[i], NULL, driver, &r[i]);
	pthread_join(w, NULL);
	for (int i = 0; i < READERS; i++) {
		pthread_join(t[i], NULL);
		looks += r[i].looks;
		torn += r[i].torn;
	}
	sg_live_check();
	uint64_t last = __atomic_load_n(&sg_live_adopted, __ATOMIC_RELAXED);
	printf("live: %llu snapshots, %llu torn; %llu adoptions; generation %llu of %d "
	       "adopted at the end\n", (unsigned long long)looks,
	       (unsigned long long)torn, (unsigned long long)notices,
	       (unsigned long long)last, GENERATIONS);
	return torn == 0 && last == GENERATIONS && notices > 1 &&
	       consistent(&sg_cfg, 1) ? 0 : 1;
}
