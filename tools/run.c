/*
 * `sockguard run [-c FILE] [-o KEY=VALUE]... [--] COMMAND [ARG]...`: runs
 * COMMAND with the shim preloaded (sockguard(8), "run").  Exit statuses follow
 * the shell and env(1): COMMAND's own status once it runs, 127 when it is not
 * found, 126 when it is found but cannot be executed, 2 for bad arguments,
 * 125 when sockguard itself cannot go on (its library is missing).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "elf.h"
#include "escape.h"
#include "preload.h"
#include "tools.h"

#define CMD "sockguard run"

struct run_args {
	const char *config;	/* -c FILE */
	struct sg_opts opts;	/* -o KEY=VALUE... */
	char **command;		/* COMMAND [ARG]..., NULL-terminated */
};

static int usage(void)
{
	fprintf(stderr, "usage: sockguard run [-c FILE] [-o KEY=VALUE]... "
		"[--] COMMAND [ARG]...\n");
	return 2;
}

/* Takes "-cFILE" or "-c FILE"; returns the value or NULL when missing. */
static const char *option_value(int argc, char **argv, int *i)
{
	if (argv[*i][2] != '\0')
		return argv[*i] + 2;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i], *val;
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[1] != 'c' && arg[1] != 'o') {
			fprintf(stderr, CMD ": unknown option '%s'\n", sg_esc_arg(0, arg));
			return -1;
		}
		if (!(val = option_value(argc, argv, &i))) {
			fprintf(stderr, CMD ": %s needs a value\n", sg_esc_arg(0, arg));
			return -1;
		}
		if (arg[1] == 'c')
			a->config = val;
		else if (sg_opts_add(&a->opts, CMD, val) < 0)
			return -1;
	}
	if (i >= argc) {
		fprintf(stderr, CMD ": no command given\n");
		return -1;
	}
	a->command = argv + i;
	return 0;
}

/* Whether the colon- or space-separated list holds entry. */
static int list_has(const char *list, const char *entry)
{
	size_t n = strlen(entry);

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ": ");
		if (len == n && strncmp(p, entry, n) == 0)
			return 1;
		p += len;
		p += *p != '\0';
	}
	return 0;
}

/*
 * The new LD_PRELOAD: the library first, then the entries already there.
 * If the library is already among them it is left where it is, so that
 * nesting `sockguard run` does not load it twice.  Any other build of the
 * shim is dropped: a process takes one, and the other C library's build
 * would keep the program from starting.  lib NULL: only that.
 */
static int set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	size_t at = 0, libn = lib ? strlen(lib) : 0;

	old = old ? old : "";
	char *val = malloc(libn + strlen(old) + 2);
	if (!val)
		return -1;
	if (lib && !list_has(old, lib)) {
		memcpy(val, lib, libn);
		at = libn;
	}
	for (const char *p = old; *p; p += *p != '\0') {
		size_t n = strcspn(p, ": ");
		int ours = lib && n == libn && strncmp(p, lib, n) == 0;
		if (n > 0 && (ours || !sg_preload_names_shim(p, n))) {
			if (at > 0)
				val[at++] = ':';
			memcpy(val + at, p, n);
			at += n;
		}
		p += n;
	}
	val[at] = '\0';
	int rc = at > 0 ? setenv("LD_PRELOAD", val, 1) :
		 *old ? unsetenv("LD_PRELOAD") : 0;
	free(val);
	return rc;
}

/* SOCKGUARD_OPTIONS: what the environment had, then -o (later wins). */
static int set_options(const struct sg_opts *o)
{
	const char *old = getenv("SOCKGUARD_OPTIONS");

	if (!o->text)
		return 0;
	if (!old || !*old)
		return setenv("SOCKGUARD_OPTIONS", o->text, 1);
	char *val = malloc(strlen(old) + o->len + 2);
	if (!val)
		return -1;
	sprintf(val, "%s:%s", old, o->text);
	int rc = setenv("SOCKGUARD_OPTIONS", val, 1);
	free(val);
	return rc;
}

/* Tries dir/name as execvp(3) would; 0 when it may be executed. */
static int try_path(const char *dir, size_t dlen, const char *name, char *out,
		    size_t len)
{
	struct stat st;

	if (dlen == 0)
		dir = ".", dlen = 1;
	if (snprintf(out, len, "%.*s/%s", (int)dlen, dir, name) >= (int)len)
		return -ENAMETOOLONG;
	if (stat(out, &st) < 0 || S_ISDIR(st.st_mode))
		return -ENOENT;
	return access(out, X_OK) == 0 ? 0 : -EACCES;
}

/*
 * Finds COMMAND as execvp(3) does: a name with a slash is used as it is
 * (execve(2) then says whether it exists), any other is looked up on PATH.
 * Returns 0 with the path in out, -ENOENT, or -EACCES when only files that
 * cannot be executed were found (out then names the first).
 */
static int resolve_command(const char *name, char *out, size_t len)
{
	char defpath[256];
	const char *path = getenv("PATH");
	int rc = -ENOENT;

	if (strchr(name, '/'))
		return snprintf(out, len, "%s", name) < (int)len ? 0 : -ENAMETOOLONG;
	if (!path) {
		confstr(_CS_PATH, defpath, sizeof(defpath));
		path = defpath;
	}
	char first[PATH_MAX] = "";
	for (const char *p = path;; p++) {
		size_t dlen = strcspn(p, ":");
		int r = try_path(p, dlen, name, out, len);
		if (r == 0)
			return 0;
		if (r == -EACCES && rc == -ENOENT) {
			rc = -EACCES;
			snprintf(first, sizeof(first), "%s", out);
		}
		p += dlen;
		if (*p == '\0')
			break;
	}
	snprintf(out, len, "%s", rc == -EACCES ? first : name);
	return rc;
}

/*
 * Whether the loader will drop LD_PRELOAD for this file: execve(2) turns on
 * secure execution (AT_SECURE, see ld.so(8)) when the set-user-ID or
 * set-group-ID bit changes the effective ids, or when file capabilities are
 * gained by a user other than root.
 */
static const char *secure_reason(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return NULL;
	if ((st.st_mode & S_ISUID) && st.st_uid != getuid())
		return "is set-user-ID: the loader ignores LD_PRELOAD paths "
		       "with a slash for it, so the shim is not loaded";
	if ((st.st_mode & S_ISGID) && st.st_gid != getgid())
		return "is set-group-ID: the loader ignores LD_PRELOAD paths "
		       "with a slash for it, so the shim is not loaded";
	if (getuid() != 0 && getxattr(path, "security.capability", NULL, 0) > 0)
		return "has file capabilities: the loader ignores LD_PRELOAD "
		       "paths with a slash for it, so the shim is not loaded";
	return NULL;
}

/*
 * Prints one line on stderr when the shim cannot reach the program.  A
 * script is not judged: its interpreter is what runs.
 */
static void warn_unreachable(const char *path)
{
	struct sg_elf_info info;
	const char *why = NULL;

	if (sg_elf_inspect(path, &info) < 0 || info.is_script)
		return;
	if (info.foreign)
		why = "is built for another machine or word size: the shim "
		      "cannot be loaded into it";
	else if (info.is_go)
		why = "is a Go program: it makes its socket calls as raw "
		      "system calls, which the shim does not see";
	else if (info.is_elf && !info.has_interp)
		why = "is statically linked: no dynamic loader runs for it, "
		      "so the shim is not loaded";
	else
		why = secure_reason(path);
	if (why)
		fprintf(stderr, CMD ": warning: %s %s\n", sg_esc_arg(0, path), why);
}

/* execv(), and for a file without a #! line the shell, as execvp(3) does. */
static int exec_command(const char *path, char **command)
{
	execv(path, command);
	if (errno == ENOEXEC) {
		int n = 0;
		while (command[n])
			n++;
		char **argv = calloc((size_t)n + 2, sizeof(*argv));
		if (argv) {
			argv[0] = "sh";
			argv[1] = (char *)path;
			memcpy(argv + 2, command + 1, (size_t)n * sizeof(*argv));
			execv("/bin/sh", argv);
			errno = ENOEXEC;
		}
	}
	int err = errno;
	fprintf(stderr, CMD ": %s: %s\n", sg_esc_arg(0, path), strerror(err));
	return err == ENOENT || err == ENOTDIR ? 127 : 126;
}

/*
 * Whether the shim will use the -c policy: loaded here by the shim's own
 * loader, so that a file the shim would refuse (a FIFO, a device, a file
 * others can write, one with problems) stops the run with the shim's words
 * instead of running the command with the built-in defaults.
 */
static int policy_loads(const char *config)
{
	struct sg_policy *p = malloc(sg_policy_storage_size());
	int rc = p ? sg_tool_load_policy(config, SG_LOAD_REQUIRED, CMD, p, NULL) :
		 SG_LOAD_REFUSED;

	if (!p)
		fprintf(stderr, CMD ": out of memory\n");
	free(p);
	return rc == SG_LOAD_OK ? 0 : -1;
}

/* Checks -c and -o before anything runs; returns 0 or the exit status. */
static int check_args(const struct run_args *a, char *config, size_t len)
{
	if (a->config && (sg_config_path(a->config, CMD, config, len) < 0 ||
			  policy_loads(config) < 0))
		return 2;
	return sg_opts_validate(&a->opts, CMD) < 0 ? 2 : 0;
}

/*
 * The build of the shim for the program at path (sockguard(8), "musl"):
 * 0 with its path in lib, "" when the program is a musl one and the musl
 * build is missing (it then runs without the shim, after one line), or
 * 125 when the glibc build is missing.
 */
static int choose_lib(const char *path, char *lib, size_t len)
{
	struct sg_target t;

	sg_lib_for_target("", path, &t);
	lib[0] = '\0';
	if (t.found) {
		snprintf(lib, len, "%s", t.lib);
		return 0;
	}
	if (t.libc == SG_LIBC_MUSL) {
		fprintf(stderr, CMD ": warning: %s is a musl program (%s) and the "
			"musl build of the shim is not installed (%s beside this "
			"executable or in ../lib): running it without the shim\n",
			sg_esc_arg(0, path), sg_esc_arg(1, t.elf.interp),
			sg_lib_name(SG_LIBC_MUSL));
		return 0;
	}
	fprintf(stderr, CMD ": cannot find %s beside this executable nor in "
		"../lib\n", sg_lib_name(SG_LIBC_GLIBC));
	return 125;
}

/* Puts the library, -c and -o into the environment the command inherits. */
static int prepare_env(const struct run_args *a, const char *path,
		       const char *config)
{
	char lib[PATH_MAX];
	int rc = choose_lib(path, lib, sizeof(lib));

	if (rc != 0)
		return rc;
	if (set_preload(lib[0] ? lib : NULL) < 0 || set_options(&a->opts) < 0 ||
	    (a->config && setenv("SOCKGUARD_CONFIG", config, 1) < 0)) {
		fprintf(stderr, CMD ": %s\n", strerror(errno));
		return 125;
	}
	return 0;
}

/* Finds COMMAND; 0, or the exit status after saying why not. */
static int find_command(const char *name, char *path, size_t len)
{
	int rc = resolve_command(name, path, len);

	if (rc == -ENOENT) {
		fprintf(stderr, CMD ": %s: command not found\n", sg_esc_arg(0, name));
		return 127;
	}
	if (rc < 0) {
		fprintf(stderr, CMD ": %s: %s\n", sg_esc_arg(0, path), strerror(-rc));
		return 126;
	}
	return 0;
}

int sg_cmd_run(int argc, char **argv)
{
	struct run_args a = { 0 };
	char path[PATH_MAX], config[PATH_MAX];
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: sockguard run [-c FILE] [-o KEY=VALUE]... "
		       "[--] COMMAND [ARG]...\n");
		return 0;
	}
	if (parse_args(argc, argv, &a) < 0) {
		sg_opts_free(&a.opts);
		return usage();
	}
	rc = check_args(&a, config, sizeof(config));
	if (rc == 0)
		rc = find_command(a.command[0], path, sizeof(path));
	if (rc == 0)
		rc = prepare_env(&a, path, config);
	sg_opts_free(&a.opts);
	if (rc != 0)
		return rc;
	warn_unreachable(path);
	return exec_command(path, a.command);
}
