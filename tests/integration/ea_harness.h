/*
 * The harness shared by the EAGAIN and accept suites: the suite's
 * environment (fx_env: a private directory, an empty policy file, a log
 * receiver), children spawned with or without the shim, and their output.
 * Included by exactly one test file each (the functions are static).
 */
#ifndef SG_EA_HARNESS_H
#define SG_EA_HARNESS_H

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"

static char outpath[320];

/* The shim logs to a socket of ours, with an empty policy file. */
static void setup(void)
{
	fx_suite_open_log();
	snprintf(outpath, sizeof outpath, "%s/out.txt", env.dir);
	signal(SIGPIPE, SIG_IGN);
}

static pid_t spawn(char *const argv[], char **vars)
{
	unlink(outpath);
	pid_t pid = fx_spawn(argv, vars, outpath);
	cr_assert_gt(pid, 0, "spawn %s: %s", argv[0], fx_skip_reason());
	return pid;
}

/* Waits for pid up to timeout_ms (then kills it); returns its exit code. */
static int reap(pid_t pid, int timeout_ms)
{
	int rc = fx_wait_exit(pid, timeout_ms);

	if (rc < 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return rc;
}

/* What the child printed (stdout and stderr, as fx_spawn appends them). */
static const char *child_output(void)
{
	static char buf[65536];

	return fx_read_file(outpath, buf, sizeof buf);
}

#endif
