/*
 * The harness shared by the signal suites (test_eintr, test_signals): the
 * environment of a run with and without the shim, and helper program paths.
 * Included by exactly one test file each (the functions are static).
 */
#ifndef SG_SIG_HARNESS_H
#define SG_SIG_HARNESS_H

#include <stdio.h>
#include <string.h>

#include "fixture.h"

/* The environment of a run: "KEY=VALUE" sets, a bare "KEY" unsets. */
static char *const no_shim[] = { "LD_PRELOAD", "SOCKGUARD_OPTIONS",
				 "SOCKGUARD_CONFIG", NULL };

/* LD_PRELOAD=<shim> and SOCKGUARD_OPTIONS=opts (log=off unless given). */
static char *const *shim_env(const char *opts)
{
	static char options[512];
	static char *env[4];

	snprintf(options, sizeof(options), "SOCKGUARD_OPTIONS=%s%s",
		 strstr(opts, "log=") ? "" : "log=off:", opts);
	env[0] = (char *)fx_preload_env();
	env[1] = options;
	env[2] = "SOCKGUARD_CONFIG";
	env[3] = NULL;
	return env;
}

/* $BUILD/tests/progs/NAME; four calls may be in use at once. */
static const char *prog(const char *name)
{
	static char buf[4][4096];
	static int next;

	return fx_prog_path(name, buf[next++ % 4], sizeof(buf[0]));
}

#endif
