/*
 * What `sockguard run` and `sockguard enable` share: turning -c and -o into
 * SOCKGUARD_CONFIG and SOCKGUARD_OPTIONS, and deciding whether a library path
 * is safe to hand to every process of a host.
 */
#ifndef SG_PRELOAD_H
#define SG_PRELOAD_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

#include "elf.h"

struct sg_policy;

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
 * The -c FILE of run and enable as the path the shim will be given: a
 * relative FILE is joined to the current directory ("./" dropped), and
 * symbolic links are kept, not resolved, so that the program reads whatever
 * the link points to when it starts.  An empty FILE is refused (the shim
 * would take an empty SOCKGUARD_CONFIG for none).  Returns 0, or -1 after
 * printing why on stderr.
 */
int sg_config_path(const char *file, const char *cmd, char *abs, size_t len);

/*
 * Loads a policy file with the shim's own loader (sg_policy_load, flags as
 * there), so that the tool accepts and refuses exactly what the shim does.
 * Problems are printed on stderr as "cmd: problem", a refused file as
 * "cmd: PATH: REASON; refused".  Returns the loader's result; p gets the
 * policy (the empty one after a problem).
 */
int sg_tool_load_policy(const char *path, unsigned flags, const char *cmd,
			struct sg_policy *p, struct stat *st);

/*
 * Prints the loader's problems on stderr, each escaped as terminal text and
 * after "prefix: " (none when prefix is NULL); when rc is SG_LOAD_REFUSED
 * the first line ends with refused.
 */
struct sg_problems;
void sg_policy_problems_print(const char *prefix, const char *refused,
			      int rc, const struct sg_problems *pr);

/*
 * Whether path, and every directory above it, is owned by root and not
 * writable by group or others (a root-owned directory with the sticky bit,
 * such as /tmp, is allowed: only root may rename or replace root's entries
 * there).  Anyone who could replace such a file could run code in every
 * process that preloads it.  Returns 0, or -1 with the reason in why.
 */
int sg_lib_trusted(const char *path, char *why, size_t len);

/*
 * Normalises --root DIR into out: "" for "/", else its absolute path without
 * a trailing slash.  Returns 0, or -1 after printing why.
 */
int sg_root_path(const char *root, const char *cmd, char *out, size_t len);

/* The two builds of the shim: one per C library (sockguard(8), "musl"). */
enum sg_libc { SG_LIBC_GLIBC, SG_LIBC_MUSL };

/*
 * The absolute path of the build of libsockguard.so for programs of libc
 * that belongs with this executable: beside it in the build tree
 * (build/libsockguard.so, build/musl/libsockguard.so), or in ../lib when
 * installed (PREFIX/lib/libsockguard.so, PREFIX/lib/musl/libsockguard.so).
 * Returns 0, or -1 when neither exists.
 */
int sg_tool_find_lib(enum sg_libc libc, char *buf, size_t len);

/* The build's file name as messages give it: "libsockguard.so" or "musl/...". */
const char *sg_lib_name(enum sg_libc libc);

/* A program, the build of the shim it needs, and where that build is. */
struct sg_target {
	struct sg_elf_info elf;	/* the program, or a script's #! interpreter */
	enum sg_libc libc;	/* musl for an ld-musl-* interpreter, else glibc */
	int found;		/* that build belongs with this executable */
	char lib[PATH_MAX];	/* its absolute path, when found */
};

/*
 * The library for a target: the build of the shim that matches the C
 * library of the program at path (root + path), by its ELF interpreter
 * (PT_INTERP); a script is judged by its #! interpreter (also under root),
 * one level deep.  run, enable and audit all choose through here.  A
 * program that cannot be read, or whose loader is not musl's, gets the
 * glibc build.  Returns 0, or -errno when path cannot be read.
 */
int sg_lib_for_target(const char *root, const char *path, struct sg_target *t);

/*
 * Finds the build for libc beside this executable and, when check is set,
 * checks it with sg_lib_trusted() and for characters that LD_PRELOAD or a
 * unit file cannot carry.  real gets its path here; lib gets the path to
 * write into files under root (real without the root prefix when it lies
 * inside root, for image builds).  Returns 0, or -1 after printing why.
 */
int sg_lib_for_root(const char *root, const char *cmd, enum sg_libc libc,
		    int check, char *real, char *lib, size_t len);

/*
 * Whether the entry of n bytes of an LD_PRELOAD list names a build of the
 * shim (its file name is libsockguard.so): a process takes one, so run and
 * enable drop the others (another install, the other libc's build).
 */
int sg_preload_names_shim(const char *entry, size_t n);

/*
 * Replaces path with data in one step: a temporary file in the same
 * directory, written, given mode and owner, fsync'ed and renamed over path,
 * then the directory fsync'ed.  A crash leaves either the old file or the
 * new one, never half of one.  Returns 0 or -errno (nothing is left behind).
 */
int sg_write_atomic(const char *path, const char *data, size_t len,
		    unsigned mode, int uid, int gid);

/*
 * Reads a whole regular file of at most max bytes into a new buffer with a
 * NUL after its last byte; the text itself may hold NUL bytes, *len is its
 * length.  Returns 0, -ENOENT when it does not exist, -EINVAL when it is not
 * a regular file, -EFBIG when larger than max, or another -errno.
 */
int sg_read_file(const char *path, size_t max, char **data, size_t *len);

/* `sockguard enable --system [--force]` and `disable --system`. */
int sg_enable_system(const char *root, int force);
int sg_disable_system(const char *root);

/*
 * The self-test of `enable --system`, as run in the child with the library
 * preloaded: the library is mapped, and a byte goes both ways over a
 * socketpair and over loopback TCP.  Returns the child's exit status.
 */
int sg_selftest_child(void);

#define SG_SELFTEST_ARG "--selftest-child"

#endif
