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

/* The process's settings; valid once sg_active is set by the constructor. */
extern struct sg_settings sg_cfg;
/* The parsed policy, for per-peer lookups (sg_policy_for_peer). */
extern struct sg_policy *sg_pol;
extern int sg_pol_has_peers;

/*
 * 1 once the constructor has loaded the policy and mode is not off.  Before
 * that, and with mode=off, every wrapper passes straight through to libc.
 */
extern int sg_active;

/* The program's short name and executable path, set by the constructor. */
extern char sg_prog_name[64];
extern char sg_prog_path[256];

/* Runs the constructor's work if it has not run yet (idempotent). */
void sg_init(void);

static inline int sg_hardening(void)
{
	return sg_active && sg_cfg.mode == SG_MODE_HARDEN;
}

#pragma GCC visibility pop

#endif
