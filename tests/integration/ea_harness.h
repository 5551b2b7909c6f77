/*
 * The harness shared by the EAGAIN and accept suites: a temporary directory
 * with an empty policy file and a log receiver, children run with or without
 * the shim, their output and the shim's log lines.  Included by exactly one
 * test file each (the functions are static).
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

static char dir[256], sock[320], conf[320], outpath[320];
static char optenv[512], confenv[400];
static int log_fd = -1;

/* The shim logs to a socket of ours, with an empty policy file. */
static void setup(void)
{
	cr_assert_eq(fx_tempdir(dir, sizeof dir), 0, "%s", fx_skip_reason());
	snprintf(sock, sizeof sock, "%s/log.sock", dir);
	snprintf(conf, sizeof conf, "%s/empty.conf", dir);
	snprintf(outpath, sizeof outpath, "%s/out.txt", dir);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fclose(f);
	log_fd = fx_log_receiver_open(sock);
	cr_assert_geq(log_fd, 0, "%s", fx_skip_reason());
	snprintf(confenv, sizeof confenv, "SOCKGUARD_CONFIG=%s", conf);
	signal(SIGPIPE, SIG_IGN);
}

static void teardown(void)
{
	if (log_fd >= 0)
		close(log_fd);
	fx_rmtree(dir);
}

/*
 * The environment for a child: with_shim 0 unsets LD_PRELOAD; otherwise
 * the shim is preloaded with options (after the log destination).
 */
static char **child_env(int with_shim, const char *options)
{
	static char *env[4];

	snprintf(optenv, sizeof optenv, "SOCKGUARD_OPTIONS=log=unix:%s%s%s",
		 sock, options && *options ? ":" : "", options ? options : "");
	env[0] = with_shim ? (char *)fx_preload_env() : "LD_PRELOAD";
	env[1] = optenv;
	env[2] = confenv;
	env[3] = NULL;
	return env;
}

static pid_t spawn(char *const argv[], char **env)
{
	unlink(outpath);
	pid_t pid = fx_spawn(argv, env, outpath);
	cr_assert_gt(pid, 0, "spawn %s: %s", argv[0], fx_skip_reason());
	return pid;
}

/* Waits for pid up to timeout_ms (then kills it); returns its exit code. */
static int reap(pid_t pid, int timeout_ms)
{
	int st = 0;
	long end = fx_now_ms() + timeout_ms;

	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (fx_now_ms() > end) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(5000);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* What the child printed (stdout and stderr, as fx_spawn appends them). */
static const char *child_output(void)
{
	static char buf[65536];
	FILE *f = fopen(outpath, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* Every log line that came in so far (waits quiet_ms for stragglers). */
static const char *log_lines(int quiet_ms)
{
	static char buf[65536];

	buf[0] = '\0';
	fx_log_collect(log_fd, buf, sizeof buf, quiet_ms);
	return buf;
}

#endif
