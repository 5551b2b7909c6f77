/*
 * Which policy a process may use (sockguard(8), "POLICY").  These are pure
 * decisions on values the caller gathers (getauxval(AT_SECURE), getenv,
 * stat), so that tests can inject them and the shim stays free of surprises.
 */
#include "policy_int.h"

#include <string.h>

static int refuse(char *why, size_t whylen, const char *text)
{
	struct sg_fmt b;

	if (why && whylen) {
		sg_fmt_init_cstr(&b, why, whylen);
		sg_fmt_str(&b, text);
	}
	return -1;
}

/* What a file that is not a regular file is, for the reason given. */
static const char *not_regular(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO: return "a FIFO, not a regular file";
	case S_IFCHR: return "a character device, not a regular file";
	case S_IFBLK: return "a block device, not a regular file";
	case S_IFDIR: return "a directory, not a regular file";
	case S_IFSOCK: return "a socket, not a regular file";
	default: return "not a regular file";
	}
}

/*
 * A policy decides how every socket of a process behaves, so a file that
 * someone else can rewrite is a way into that process: refused always.  A
 * setuid or setcap process (ld.so(8): secure-execution mode) also requires
 * root to own the file, as ld.so does for /etc/ld.so.preload.
 */
int sg_policy_file_trusted(const struct stat *st, int secure, char *why,
			   size_t whylen)
{
	if (!S_ISREG(st->st_mode))
		return refuse(why, whylen, not_regular(st->st_mode));
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return refuse(why, whylen, "writable by group or others "
			      "(chmod go-w)");
	if (secure && st->st_uid != 0)
		return refuse(why, whylen, "not owned by root, which a setuid "
			      "or setcap program requires");
	return 0;
}

/*
 * In secure-execution mode the environment belongs to the unprivileged
 * caller, so neither SOCKGUARD_CONFIG nor SOCKGUARD_OPTIONS is honoured.  An
 * empty SOCKGUARD_CONFIG counts as unset.
 */
const char *sg_policy_sources(int secure, const char *config_env,
			      int *use_options)
{
	if (use_options)
		*use_options = !secure;
	if (secure || !config_env || !*config_env)
		return SG_POLICY_DEFAULT_PATH;
	return config_env;
}
