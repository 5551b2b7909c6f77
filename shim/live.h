/*
 * Live settings: `sockguard set` writes a generation of settings into the
 * exported block sockguard_live (layout in policy/live.h) and the process
 * adopts it on its own, without a restart (tools/sockguard.8, "set").
 *
 * The process looks for a new generation only where it already does work
 * of its own: at the entry of the retry driver and of the event writer, and
 * when a socket is created (socket, accept).  Looking is two loads and a
 * compare; the success paths of send, recv, read, write, poll and epoll
 * never look.  Adopting copies the slot under its sequence count, builds
 * the policy's settings with the slot's keys on top into the copy of the
 * settings not in force, and switches sg_cfg_now to it (shim.h).
 */
#ifndef SG_LIVE_SHIM_H
#define SG_LIVE_SHIM_H

#include "../policy/live.h"
#include "shim.h"

/* Exported (see live.c): the tool finds it by name. */
extern struct sg_live sockguard_live;

#pragma GCC visibility push(hidden)

/* The generation adopted last (0: the policy's settings). */
extern uint64_t sg_live_adopted;
/* sockguard_live.current when this process last looked at the slots. */
extern uint32_t sg_live_seen;

/* Adopts the newest generation if it can now (async-signal-safe). */
void sg_live_adopt(void);

/* Whether `sockguard set` wrote a generation this process has not adopted. */
static inline int sg_live_pending(void)
{
	return __atomic_load_n(&sockguard_live.current, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&sg_live_seen, __ATOMIC_RELAXED);
}

/* An adoption point: adopts a new generation, if there is one. */
static inline void sg_live_check(void)
{
	if (SG_UNLIKELY(sg_live_pending()))
		sg_live_adopt();
}

/*
 * The retry driver's entry: an adoption point, then whether the shim acts
 * (sg_acting, state.h; a live mode=off makes it inert, and a later set
 * brings it back).
 */
int sg_live_acting(void);

/*
 * A consistent copy of the settings in force, for a caller that uses
 * several fields across waits (the retry driver): all of one generation.
 * Only the process-wide part is copied: out->sock is left as it was.
 */
void sg_live_snapshot(struct sg_settings *out);

/* Applies the live socket keys on top of socket settings ([peer] lookups). */
void sg_live_sock_overlay(struct sg_sock_settings *s);

/* The constructor, once the policy is loaded and the shim is active. */
void sg_live_start(void);

/* In the child after fork(). */
void sg_live_after_fork(void);

#pragma GCC visibility pop

#endif
