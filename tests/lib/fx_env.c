/*
 * The environment a suite runs its programs in: a private directory, an
 * empty policy file there (so that a host's /etc/sockguard.conf cannot
 * change an outcome), a receiver for the shim's log when the suite reads
 * it, and the variables of a run without the shim and of one with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_int.h"

/*
 * A test that skips itself (cr_skip_test) ends without its suite's .fini:
 * the directories it opened are removed when its process exits instead
 * (their paths are kept: the struct may have been on a stack long gone).
 * Only by the process that opened them, not by a forked child that exits.
 */
#define FX_ENV_KEPT 8
static char kept_dir[FX_ENV_KEPT][sizeof(((struct fx_env *)0)->dir)];
static pid_t kept_pid;

static void remove_left_dirs(void)
{
	if (kept_pid != getpid())
		return;
	for (int i = 0; i < FX_ENV_KEPT; i++) {
		if (kept_dir[i][0] && access(kept_dir[i], F_OK) == 0)
			fx_rmtree(kept_dir[i]);
	}
}

static void keep_dir(const char *dir)
{
	static int registered;

	if (kept_pid != getpid()) {
		memset(kept_dir, 0, sizeof(kept_dir));
		kept_pid = getpid();
	}
	if (!registered)
		registered = atexit(remove_left_dirs) == 0;
	for (int i = 0; i < FX_ENV_KEPT; i++) {
		if (!kept_dir[i][0]) {
			snprintf(kept_dir[i], sizeof(kept_dir[i]), "%s", dir);
			return;
		}
	}
}

int fx_env_open(struct fx_env *e, int flags)
{
	FILE *f;

	memset(e, 0, sizeof *e);
	e->log_fd = -1;
	if (fx_tempdir(e->dir, sizeof e->dir) != 0)
		return -1;
	keep_dir(e->dir);
	snprintf(e->conf, sizeof e->conf, "%s/empty.conf", e->dir);
	f = fopen(e->conf, "w");
	if (!f || fclose(f) != 0)
		return fx__fail("creating %s failed", e->conf);
	if (flags & FX_ENV_LOG) {
		snprintf(e->sock, sizeof e->sock, "%s/log.sock", e->dir);
		e->log_fd = fx_log_receiver_open(e->sock);
		if (e->log_fd < 0)
			return -1;
	}
	return 0;
}

void fx_env_close(struct fx_env *e)
{
	if (e->sock[0] && e->log_fd >= 0)
		close(e->log_fd);
	e->log_fd = -1;
	fx_rmtree(e->dir);
	e->dir[0] = '\0';
}

/* The length of entry's name: up to its '=', or all of a bare name. */
static size_t fx_env_key_len(const char *entry)
{
	return strcspn(entry, "=");
}

int fx_env_put(struct fx_env *e, const char *entry)
{
	size_t n = fx_env_key_len(entry), i;

	for (i = 0; i < FX_ENV_EXTRA && e->extra[i][0]; i++)
		if (fx_env_key_len(e->extra[i]) == n &&
		    strncmp(e->extra[i], entry, n) == 0)
			break;
	if (i == FX_ENV_EXTRA)
		return fx__fail("more than %d extra variables", FX_ENV_EXTRA);
	if (strlen(entry) >= sizeof e->extra[i])
		return fx__fail("variable too long: %.40s...", entry);
	strcpy(e->extra[i], entry);
	return 0;
}

/* Fills env from slot 3 on with the extra variables and the final NULL. */
static char **fx_env_finish(struct fx_env *e, char **env)
{
	int n = 3;

	for (int i = 0; i < FX_ENV_EXTRA && e->extra[i][0]; i++)
		env[n++] = e->extra[i];
	env[n] = NULL;
	return env;
}

char **fx_env_plain(struct fx_env *e)
{
	e->plain[0] = "LD_PRELOAD";
	e->plain[1] = "SOCKGUARD_OPTIONS";
	e->plain[2] = "SOCKGUARD_CONFIG";
	return fx_env_finish(e, e->plain);
}

/* Whether the options set log= themselves (a key starts each ':' field). */
static int fx_env_sets_log(const char *options)
{
	for (const char *p = options; p && *p; p = strchr(p + 1, ':'))
		if (strncmp(p + (*p == ':'), "log=", 4) == 0)
			return 1;
	return 0;
}

char **fx_env_unloaded(struct fx_env *e, const char *options)
{
	const char *opts = options ? options : "";
	char log[sizeof e->sock + 16] = "";

	if (!fx_env_sets_log(opts))
		snprintf(log, sizeof log, "log=%s%s", e->sock[0] ? "unix:" : "off",
			 e->sock);
	snprintf(e->optenv, sizeof e->optenv, "SOCKGUARD_OPTIONS=%s%s%s", log,
		 *log && *opts ? ":" : "", opts);
	snprintf(e->confenv, sizeof e->confenv, "SOCKGUARD_CONFIG=%s", e->conf);
	e->shim[0] = "LD_PRELOAD";
	e->shim[1] = e->optenv;
	e->shim[2] = e->confenv;
	return fx_env_finish(e, e->shim);
}

char **fx_env_shim(struct fx_env *e, const char *options)
{
	char **env = fx_env_unloaded(e, options);

	env[0] = (char *)fx_preload_env();
	return env;
}

char **fx_env_side(struct fx_env *e, enum fx_side side, const char *options)
{
	return side == FX_SHIM ? fx_env_shim(e, options) : fx_env_plain(e);
}

const char *fx_side_name(enum fx_side side)
{
	return side == FX_SHIM ? "with the shim" : "without the shim";
}

const char *fx_env_log(struct fx_env *e, int quiet_ms)
{
	e->log[0] = '\0';
	if (e->log_fd >= 0)
		fx_log_collect(e->log_fd, e->log, sizeof e->log, quiet_ms);
	return e->log;
}
