/*
 * What `sockguard run` and `sockguard enable` share: turning -c and -o into
 * SOCKGUARD_CONFIG and SOCKGUARD_OPTIONS, and deciding whether a library path
 * is safe to hand to every process of a host.
 */
#ifndef SG_PRELOAD_H
#define SG_PRELOAD_H

#include <stddef.h>

/* The -o KEY=VALUE options joined with ':', in order (NULL: none given). */
struct sg_opts {
	char *text;
	size_t len;
};

/*
 * Checks that kv has the form KEY=VALUE and appends it.  Returns 0, or -1
 * after printing why on stderr, prefixed with `cmd` ("sockguard run").
 */
int sg_opts_add(struct sg_opts *o, const char *cmd, const char *kv);

/*
 * Validates the joined options with the policy module, as the shim will read
 * them.  Returns 0, or -1 after printing each problem on stderr.
 */
int sg_opts_validate(const struct sg_opts *o, const char *cmd);

void sg_opts_free(struct sg_opts *o);

/*
 * Checks that the policy file given with -c exists, is a regular file and
 * can be read, and puts its absolute path in abs.  Returns 0, or -1 after
 * printing why on stderr.
 */
int sg_config_path(const char *file, const char *cmd, char *abs, size_t len);

/*
 * Whether path, and every directory above it, is owned by root and not
 * writable by group or others (a root-owned directory with the sticky bit,
 * such as /tmp, is allowed: only root may rename or replace root's entries
 * there).  Anyone who could replace such a file could run code in every
 * process that preloads it.  Returns 0, or -1 with the reason in why.
 */
int sg_lib_trusted(const char *path, char *why, size_t len);

#endif
