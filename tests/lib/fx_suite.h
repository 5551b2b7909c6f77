/*
 * The environment a Criterion suite's tests share (struct fx_env in
 * fixture.h), opened before each test and removed after it:
 *
 *     #include "fx_suite.h"
 *     TestSuite(name, .init = fx_suite_open_log, .fini = fx_suite_close);
 *
 * fx_suite_open_log gives the shim a log receiver (FX_ENV_LOG),
 * fx_suite_open runs it with log=off.  A suite that prepares more calls
 * one of them from its own .init.  For Criterion test files only: the
 * fixture library itself does not depend on Criterion.
 */
#ifndef FX_SUITE_H
#define FX_SUITE_H

#include <criterion/criterion.h>

#include "fixture.h"

static struct fx_env env;

static inline void fx_suite_open_flags(int flags)
{
	cr_assert_eq(fx_env_open(&env, flags), 0, "%s", fx_skip_reason());
}

static inline void fx_suite_open(void)
{
	fx_suite_open_flags(0);
}

static inline void fx_suite_open_log(void)
{
	fx_suite_open_flags(FX_ENV_LOG);
}

static inline void fx_suite_close(void)
{
	fx_env_close(&env);
}

#endif
