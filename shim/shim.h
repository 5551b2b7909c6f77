/*
 * What every part of the shim shares: the settings in force, the program's
 * name, and the export macro.  Only symbols marked SG_EXPORT leave the
 * library (it is built with -fvisibility=hidden).
 */
#ifndef SG_SHIM_H
#define SG_SHIM_H

#include <stdint.h>

#include "../policy/policy.h"

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

#define SG_EXPORT __attribute__((visibility("default")))
#define SG_LIKELY(x) __builtin_expect(!!(x), 1)
#define SG_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SG_TLS __thread __attribute__((tls_model("initial-exec")))
/* A wrapper's slow path: kept out of line so the success path stays small. */
#define SG_COLD __attribute__((noinline, cold))

/*
 * The settings in force: one of two copies, switched when the process
 * adopts live settings written by `sockguard set` (live.c).  Valid once the
 * constructor ran.  A reader that uses several fields across a wait takes
 * a consistent copy instead (sg_live_snapshot, live.h).
 */
struct sg_cfg_copy {
	struct sg_settings s;
	uint32_t live_keys;	/* the keys `set` put on top of the policy */
	uint32_t seq;		/* odd while live.c rewrites this copy */
};
extern struct sg_cfg_copy *sg_cfg_now;

static inline struct sg_cfg_copy *sg_cfg_copy_now(void)
{
	return __atomic_load_n(&sg_cfg_now, __ATOMIC_ACQUIRE);
}

#define sg_cfg (sg_cfg_copy_now()->s)
/* The parsed policy, for per-peer lookups (sg_policy_for_peer). */
extern struct sg_policy *sg_pol;
extern int sg_pol_has_peers;

/* The program's short name and executable path, set by the constructor. */
extern char sg_prog_name[64];
extern char sg_prog_path[256];

/* Runs the constructor's work if it has not run yet (idempotent). */
void sg_init(void);

#pragma GCC visibility pop

#endif
