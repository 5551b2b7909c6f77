/*
 * Live settings written by `sockguard set`.  See live.h; the block's layout
 * and the tool's side of the protocol are in policy/live.h.
 *
 * Adoption may run in a signal handler (a handler's socket call that fails)
 * and in any thread: it allocates nothing, takes no lock but a flag it only
 * tries (a thread or handler that finds it taken leaves the adoption to the
 * next adoption point), and reads the block under its sequence count.  A
 * vfork child never adopts (it shares its parent's memory); a fork child
 * owns a copy of everything here, the flag reset.
 */
#include "live.h"

#include <errno.h>
#include <string.h>

#include "accept.h"
#include "counters.h"
#include "event.h"
#include "fdtable.h"
#include "../policy/fmt.h"
#include "log.h"
#include "signals.h"
#include "state.h"

SG_EXPORT struct sg_live sockguard_live = {
	.magic = SG_LIVE_MAGIC,
	.version = SG_LIVE_VERSION,
	.size = sizeof(struct sg_live),
};

static struct sg_cfg_copy copies[2];
struct sg_cfg_copy *sg_cfg_now = &copies[0];
uint64_t sg_live_adopted;
uint32_t sg_live_seen;

/* What the policy gives this program: every generation starts from it. */
static struct sg_settings policy_cfg;
static int ready;	/* the constructor ran with a mode other than off */
static int busy;	/* an adoption is under way */

/* A reader retries this often while copies are rewritten under it. */
#define SNAPSHOT_TRIES 16

_Static_assert(sizeof(struct sg_settings) % sizeof(uint32_t) == 0,
	       "settings are copied as 32-bit words");
_Static_assert(sizeof(struct sg_live_slot) % sizeof(uint32_t) == 0,
	       "slots are copied as 32-bit words");

/*
 * Word copies for memory another thread or process may be writing: every
 * load of copy_in is an acquire, so a sequence count read after it is read
 * after the data; every store of copy_out is a release, so a sequence count
 * written before it is seen before the data.
 */
static void copy_in(void *dst, const void *src, size_t bytes)
{
	uint32_t *d = dst;
	const uint32_t *s = src;

	for (size_t i = 0; i < bytes / sizeof(*d); i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_ACQUIRE);
}

static void copy_out(void *dst, const void *src, size_t bytes)
{
	uint32_t *d = dst;
	const uint32_t *s = src;

	for (size_t i = 0; i < bytes / sizeof(*d); i++)
		__atomic_store_n(&d[i], s[i], __ATOMIC_RELEASE);
}

/* Copies slot i; -1 when the tool is writing it (seq odd or moved). */
static int read_slot(unsigned i, struct sg_live_slot *out)
{
	const struct sg_live_slot *slot = &sockguard_live.slot[i];
	uint32_t seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);

	if (seq & 1)
		return -1;
	copy_in(out, slot, sizeof(*out));
	return __atomic_load_n(&slot->seq, __ATOMIC_RELAXED) == seq ? 0 : -1;
}

/* Rewrites a copy that is not in force, under its own sequence count. */
static void write_copy(struct sg_cfg_copy *c, const struct sg_settings *s,
		       uint32_t keys)
{
	uint32_t seq = (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) + 1) | 1;

	__atomic_store_n(&c->seq, seq, __ATOMIC_RELAXED);
	copy_out(&c->s, s, sizeof(*s));
	__atomic_store_n(&c->live_keys, keys, __ATOMIC_RELEASE);
	__atomic_store_n(&c->seq, seq + 1, __ATOMIC_RELEASE);
}

/*
 * What the retry driver uses is the part before the socket settings (which
 * are read where a socket is made): 40 bytes, not the whole struct with its
 * log path, since every slow path (each EAGAIN an event loop meets) takes a
 * snapshot.
 */
#define SNAPSHOT_BYTES offsetof(struct sg_settings, sock)
_Static_assert(SNAPSHOT_BYTES % sizeof(uint32_t) == 0, "copied by words");

void sg_live_snapshot(struct sg_settings *out)
{
	for (int i = 0; i < SNAPSHOT_TRIES; i++) {
		const struct sg_cfg_copy *c = sg_cfg_copy_now();
		uint32_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		copy_in(out, &c->s, SNAPSHOT_BYTES);
		if (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) == seq)
			return;
	}
	/* Only a writer flipping generations without pause gets here. */
	copy_in(out, &sg_cfg_copy_now()->s, SNAPSHOT_BYTES);
}

void sg_live_sock_overlay(struct sg_sock_settings *s)
{
	const struct sg_cfg_copy *c = sg_cfg_copy_now();
	uint32_t keys = __atomic_load_n(&c->live_keys, __ATOMIC_ACQUIRE);

	if (keys)
		sg_sock_settings_apply(s, keys, &c->s);
}

/*
 * One pass over the descriptor table for what a change needs: under a new
 * eagain=unwatched every socket open now counts as watched (the shim did
 * not note which ones the program polls, and must never stall an event
 * loop); a listener means the accept reserve is wanted now.
 */
static void scan_fds(int mark_watched, int *listening)
{
	unsigned n = __atomic_load_n(&sg_fdt_size, __ATOMIC_ACQUIRE);

	*listening = 0;
	for (unsigned fd = 0; fd < n; fd++) {
		uint32_t st = sg_fd_get((int)fd);
		if (mark_watched && (st & SG_FD_SOCKET))
			sg_fd_set_bits((int)fd, SG_FD_WATCHED);
		*listening |= (st & SG_FD_LISTEN) != 0;
		if (*listening && !mark_watched)
			return;
	}
}

static int sheds(const struct sg_settings *s)
{
	return s->mode == SG_MODE_HARDEN && s->accept_emfile == SG_EMFILE_SHED;
}

/* Brings the state that follows from the settings in line with now. */
static void follow(const struct sg_settings *was, const struct sg_settings *now)
{
	int unwatched = now->eagain == SG_EAGAIN_UNWATCHED &&
			was->eagain != SG_EAGAIN_UNWATCHED;
	int listening;

	if ((now->mode == SG_MODE_OFF) != (was->mode == SG_MODE_OFF))
		__atomic_store_n(&sg_proc.active, now->mode != SG_MODE_OFF,
				 __ATOMIC_RELEASE);
	sg_state_follow(now);
	sg_signals_follow(sg_own_syscalls_allowed());
	if (unwatched || (sheds(now) && !sheds(was))) {
		scan_fds(unwatched, &listening);
		if (listening && sheds(now))
			sg_accept_reserve_take();
	}
	__atomic_store_n(&sockguard_counters.mode, now->mode, __ATOMIC_RELAXED);
}

/* " KEY=VALUE" for each key of keys, as `sockguard check` shows values. */
static void fmt_values(struct sg_fmt *f, uint32_t keys,
		       const struct sg_settings *s)
{
	for (int k = 0; k < SG_KEY_COUNT; k++) {
		if (!(keys & (1u << k)))
			continue;
		size_t mark = sg_fmt_mark(f);
		sg_fmt_char(f, ' ');
		sg_fmt_str(f, sg_key_name(k));
		sg_fmt_char(f, '=');
		sg_settings_fmt(s, k, f);
		sg_fmt_commit(f, mark);
	}
}

/*
 * The one line a process writes when it adopts a generation: what changed
 * and the new values (or the key it refused, bad >= 0).
 */
static __attribute__((noinline)) void
notice(uint64_t gen, uint32_t keys, uint32_t changed, int bad,
       const struct sg_settings *s)
{
	char buf[SG_LOG_BODY_MAX];
	struct sg_fmt f;

	sg_fmt_init(&f, buf, sizeof(buf));
	sg_fmt_str(&f, "live settings generation=");
	sg_fmt_u64(&f, gen);
	if (bad >= SG_KEY_COUNT) {
		sg_fmt_str(&f, " refused: it names a key this library does not know");
	} else if (bad >= 0) {
		sg_fmt_str(&f, " refused: ");
		sg_fmt_str(&f, sg_key_name(bad));
		sg_fmt_str(&f, sg_key_live_refusal(bad) ?
			   " cannot change while the process runs" :
			   " has a value out of range");
	} else {
		sg_fmt_str(&f, keys ? " adopted:" : " adopted (the policy's):");
		if (!changed)
			sg_fmt_str(&f, " no change");
		fmt_values(&f, changed, s);
	}
	sg_log_line(&sg_cfg.sock, SG_CLASS_SUMMARY, buf, f.len, 0);
}

static void adopt_slot(const struct sg_live_slot *slot)
{
	struct sg_settings next;
	struct sg_cfg_copy *now = sg_cfg_copy_now();
	struct sg_cfg_copy *spare = now == &copies[0] ? &copies[1] : &copies[0];
	int bad = sg_settings_check_live(slot->keys, &slot->vals);

	if (bad >= 0) {
		__atomic_store_n(&sg_live_adopted, slot->generation, __ATOMIC_RELAXED);
		notice(slot->generation, slot->keys, 0, bad, &now->s);
		return;
	}
	next = policy_cfg;
	sg_settings_apply(&next, slot->keys, &slot->vals);
	write_copy(spare, &next, slot->keys);
	__atomic_store_n(&sg_cfg_now, spare, __ATOMIC_RELEASE);
	__atomic_store_n(&sockguard_live.differ,
			 sg_settings_differ(&policy_cfg, &next), __ATOMIC_RELAXED);
	/* The copy no longer in force stays as it is until the next adoption. */
	follow(&now->s, &next);
	__atomic_store_n(&sockguard_counters.generation, slot->generation,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&sg_live_adopted, slot->generation, __ATOMIC_RELAXED);
	notice(slot->generation, slot->keys, sg_settings_differ(&now->s, &next),
	       -1, &next);
}

void sg_live_adopt(void)
{
	struct sg_live_slot slot;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE) || sg_thread.vfork_child)
		return;
	/* Taken: another thread adopts, or this handler interrupted it. */
	if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		return;
	int saved = errno;
	uint32_t now = __atomic_load_n(&sockguard_live.current, __ATOMIC_ACQUIRE);
	/* A slot being written is looked at again at the next adoption point. */
	if (read_slot(now & 1, &slot) == 0) {
		if (slot.generation !=
		    __atomic_load_n(&sg_live_adopted, __ATOMIC_RELAXED))
			adopt_slot(&slot);
		__atomic_store_n(&sg_live_seen, now, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
	errno = saved;
}

int sg_live_acting(void)
{
	sg_live_check();
	return sg_acting();
}

void sg_live_start(void)
{
	policy_cfg = copies[0].s;
	__atomic_fetch_or(&sockguard_counters.flags, SG_PROC_LIVE, __ATOMIC_RELAXED);
	__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
}

void sg_live_after_fork(void)
{
	__atomic_store_n(&busy, 0, __ATOMIC_RELAXED);
	/* A process made inert by a live mode=off forked: the child's writer
	 * and counters must still be its own if a later set wakes it. */
	if (__atomic_load_n(&ready, __ATOMIC_RELAXED) &&
	    !__atomic_load_n(&sg_proc.active, __ATOMIC_RELAXED))
		sg_log_after_fork();
}
