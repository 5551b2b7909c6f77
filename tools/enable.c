/*
 * `sockguard enable [--root DIR] [-c FILE] [-o KEY=VALUE]... UNIT` and
 * `sockguard disable [--root DIR] UNIT` (sockguard(8), "enable"): a systemd
 * drop-in, DIR/etc/systemd/system/UNIT.d/sockguard.conf, that preloads the
 * shim into one service.  `--system` goes to enable_system.c, reading what
 * the unit already sets to enable_scan.c.
 *
 * Putting the shim on and taking it off must leave the tree as it was, byte
 * for byte: the drop-in names the directories that enable had to create, so
 * that disable removes exactly those (when they are empty), and nothing else
 * is written anywhere.  A file sockguard did not write is never changed or
 * removed: a sockguard.conf that is not the drop-in enable wrote (its
 * header and only its own lines) is refused with its name, and so is a
 * symbolic link, which a rename would replace.  Every value goes through
 * sg_esc_unit_value, so no input can add a line, let alone a directive.
 * Runs on one tree are serialised (lock_root).  Usage errors exit 2,
 * refusals 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "enable.h"
#include "escape.h"
#include "preload.h"
#include "tools.h"

#define CREATED_MARK "# sockguard created: "
#define HEADER "# Written by `sockguard enable`"

struct enable_args {
	const char *root;	/* --root DIR, "" for "/" */
	const char *config;	/* -c FILE */
	struct sg_opts opts;	/* -o KEY=VALUE... */
	const char *unit;	/* UNIT as given */
	int system, force;
};

/*
 * Formats a path into a PATH_MAX buffer.  Returns -1 when it does not fit:
 * a cut path would name another file, so it must never be used.
 */
__attribute__((format(printf, 2, 3)))
static int pathf(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	return n >= 0 && n < PATH_MAX ? 0 : -1;
}

static int usage(const char *cmd)
{
	if (strcmp(cmd, "enable") == 0)
		fprintf(stderr, "usage: sockguard enable [--root DIR] [-c FILE] "
			"[-o KEY=VALUE]... UNIT\n"
			"       sockguard enable [--root DIR] --system [--force]\n");
	else
		fprintf(stderr, "usage: sockguard disable [--root DIR] UNIT\n"
			"       sockguard disable [--root DIR] --system\n");
	return 2;
}

/* "--root DIR" or "--root=DIR" and the like; NULL when this is not opt. */
static const char *long_value(int argc, char **argv, int *i, const char *opt)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0' || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int parse_option(int argc, char **argv, int *i, struct enable_args *a)
{
	const char *arg = argv[*i], *v;

	if (strcmp(arg, "--system") == 0)
		a->system = 1;
	else if (strcmp(arg, "--force") == 0)
		a->force = 1;
	else if ((v = long_value(argc, argv, i, "--root")) != NULL)
		a->root = v;
	else if ((strcmp(arg, "-c") == 0 || strcmp(arg, "-o") == 0) && *i + 1 < argc) {
		v = argv[++*i];
		if (arg[1] == 'c')
			a->config = v;
		else if (sg_opts_add(&a->opts, "sockguard enable", v) < 0)
			return -1;
	} else {
		fprintf(stderr, "sockguard %s: unknown option or missing value: "
			"'%s'\n", argv[0], sg_esc_arg(0, arg));
		return -1;
	}
	return 0;
}

/* Parses either command's arguments; disable accepts only --root. */
static int parse_args(int argc, char **argv, struct enable_args *a)
{
	int enable = strcmp(argv[0], "enable") == 0;

	a->root = "/";
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] != '-' && !a->unit)
			a->unit = argv[i];
		else if (argv[i][0] != '-' || parse_option(argc, argv, &i, a) < 0)
			return -1;
	}
	if (!enable && (a->config || a->opts.text || a->force)) {
		fprintf(stderr, "sockguard disable: only --root and --system "
			"go with disable\n");
		return -1;
	}
	if (a->system == !!a->unit || (a->system && (a->config || a->opts.text)) ||
	    (a->force && !a->system)) {
		fprintf(stderr, "sockguard %s: give either UNIT or --system\n",
			argv[0]);
		return -1;
	}
	return 0;
}

/*
 * Checks a unit name as systemd.unit(5) spells them and adds ".service" when
 * no type is given.  Other unit types are refused: only services run a
 * program that Environment= reaches.
 */
static int unit_name(const char *arg, char *out, size_t len)
{
	static const char *const others[] = { ".socket", ".target", ".timer",
		".mount", ".automount", ".path", ".slice", ".scope", ".swap",
		".device" };
	size_t n = strlen(arg);

	if (n == 0 || arg[0] == '.' || arg[strspn(arg, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@")] != '\0') {
		fprintf(stderr, "sockguard: '%s' is not a valid unit name\n",
			sg_esc_arg(0, arg));
		return -1;
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		size_t k = strlen(others[i]);
		if (n > k && strcmp(arg + n - k, others[i]) == 0) {
			fprintf(stderr, "sockguard: %s is not a service; put the "
				"shim on the service it starts\n", arg);
			return -1;
		}
	}
	int has_suffix = n > 8 && strcmp(arg + n - 8, ".service") == 0;
	if (snprintf(out, len, "%s%s", arg, has_suffix ? "" : ".service") >= (int)len ||
	    strlen(out) > 255) {
		fprintf(stderr, "sockguard: unit name '%s' is too long\n",
			sg_esc_arg(0, arg));
		return -1;
	}
	return 0;
}

/* The directory that UNIT.d/sockguard.conf lives in, under root. */
static int dropin_paths(const char *root, const char *unit, char *dir,
			char *file)
{
	if (pathf(dir, "%s/etc/systemd/system/%s.d", root, unit) < 0 ||
	    pathf(file, "%s/" SG_DROPIN_NAME, dir) < 0) {
		fprintf(stderr, "sockguard: the path under %s is too long\n",
			sg_esc_arg(0, root));
		return -1;
	}
	return 0;
}

/*
 * Creates dir and the missing directories above it (mode 0755), adding a
 * CREATED_MARK line for each to t, outermost first, so that disable can
 * take away exactly what enable added.  The root itself must exist.
 */
static int make_dirs(const char *root, const char *dir, struct sg_text *t)
{
	char path[PATH_MAX];
	size_t skip = strlen(root);

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + skip + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(path, 0755) == 0) {
			sg_text_str(t, CREATED_MARK);
			sg_text_str(t, path + skip);
			sg_text_str(t, "\n");
		} else if (errno != EEXIST) {
			fprintf(stderr, "sockguard enable: %s: %s\n",
				sg_esc_arg(0, path), strerror(errno));
			return -1;
		}
		*p = saved;
		if (saved == '\0')
			return 0;
	}
}

/*
 * Removes, innermost first, the directories that CREATED_MARK lines in the
 * drop-in name, where they are empty and lie on the way to the drop-in.
 */
static void remove_created(const char *root, const char *dropin_dir,
			   const char *text)
{
	const char *p = strstr(text, CREATED_MARK), *q;

	if (!p)
		return;
	p += strlen(CREATED_MARK);
	char rel[PATH_MAX], path[PATH_MAX];
	size_t n = strcspn(p, "\n");
	snprintf(rel, sizeof(rel), "%.*s", (int)n, p);
	if ((q = strstr(p + n, CREATED_MARK)) != NULL)
		remove_created(root, dropin_dir, q);
	snprintf(path, sizeof(path), "%s%s", root, rel);
	size_t k = strlen(path);
	if (strncmp(dropin_dir, path, k) == 0 &&
	    (dropin_dir[k] == '/' || dropin_dir[k] == '\0'))
		rmdir(path);
}

/*
 * Appends Environment="VAR=value", the value quoted by sg_esc_unit_value:
 * whatever it holds, it stays one value on one line.  keep_specifiers for
 * text read from the unit itself.  Returns 0, or -1 after printing why.
 */
static int env_line(struct sg_text *t, const char *var, const char *val,
		    int keep_specifiers)
{
	char *quoted = sg_esc_unit_value(val, keep_specifiers);

	if (!quoted && errno == EILSEQ) {
		fprintf(stderr, "sockguard enable: the value of %s is not valid "
			"UTF-8, and systemd would drop it: refused\n", var);
		return -1;
	}
	if (!quoted) {
		t->failed = 1;
		return 0;
	}
	sg_text_str(t, "Environment=\"");
	sg_text_str(t, var);
	sg_text_str(t, "=");
	sg_text_str(t, quoted);
	sg_text_str(t, "\"\n");
	free(quoted);
	return 0;
}

/*
 * LD_PRELOAD for the unit: ours first, then the unit's own entries, but no
 * other build of the shim (a process takes one).
 */
static void combined_preload(struct sg_text *t, const char *lib,
			     const struct sg_unit_preload *sc)
{
	sg_text_str(t, lib);
	for (const char *p = sc->set ? sc->value.s : ""; *p;) {
		size_t n = strcspn(p, ": ");
		if (n > 0 && !sg_preload_names_shim(p, n)) {
			sg_text_add(t, ":", 1);
			sg_text_add(t, p, n);
		}
		p += n + (p[n] != '\0');
	}
}

/*
 * The -c FILE for a unit: the path the service will open.  Under --root it
 * must be absolute (it names a file inside the root, checked there); else
 * it is made absolute as for run.  It is loaded with the shim's own loader,
 * so that a unit never gets a policy file the shim would refuse at start
 * (a FIFO, a file group or others can write, one with problems): enable
 * refuses it with the shim's words and writes nothing.
 */
static int unit_config(const char *root, const char *file, char *out, size_t len)
{
	char joined[PATH_MAX];
	struct sg_policy *p = NULL;
	int rc = SG_LOAD_REFUSED;

	if (*root && file[0] != '/') {
		fprintf(stderr, "sockguard enable: with --root, -c takes the "
			"absolute path the service will see\n");
		return -1;
	}
	if (*root ? pathf(joined, "%s%s", root, file) < 0 :
	    sg_config_path(file, "sockguard enable", joined, sizeof(joined)) < 0) {
		if (*root)
			fprintf(stderr, "sockguard enable: the path under %s is "
				"too long\n", sg_esc_arg(0, root));
		return -1;
	}
	if ((p = malloc(sg_policy_storage_size())) != NULL)
		rc = sg_tool_load_policy(joined, SG_LOAD_REQUIRED,
					 "sockguard enable", p, NULL);
	else
		fprintf(stderr, "sockguard enable: out of memory\n");
	free(p);
	if (rc != SG_LOAD_OK ||
	    snprintf(out, len, "%s", *root ? file : joined) >= (int)len)
		return -1;
	return 0;
}

/*
 * The drop-in's text after the header and the CREATED_MARK lines.  The
 * library's path holds no '%' (sg_lib_for_root refuses one), so the whole
 * LD_PRELOAD value keeps the unit's specifiers.  Returns 0, or -1 after
 * printing why.
 */
static int dropin_body(struct sg_text *t, const char *lib, const char *config,
		       const struct sg_opts *opts, const struct sg_unit_preload *sc)
{
	struct sg_text preload = { 0 };
	int rc;

	combined_preload(&preload, lib, sc);
	sg_text_str(t, "[Service]\n");
	rc = env_line(t, "LD_PRELOAD", preload.failed ? lib : preload.s, 1);
	if (rc == 0 && config)
		rc = env_line(t, "SOCKGUARD_CONFIG", config, 0);
	if (rc == 0 && opts->text)
		rc = env_line(t, "SOCKGUARD_OPTIONS", opts->text, 0);
	t->failed |= preload.failed;
	free(preload.s);
	return rc;
}

/* Whether line (n bytes) is one that dropin_body or make_dirs writes. */
static int line_is_ours(const char *line, size_t n)
{
	static const char *const env[] = { "Environment=\"LD_PRELOAD=",
		"Environment=\"SOCKGUARD_CONFIG=", "Environment=\"SOCKGUARD_OPTIONS=" };

	if (n == 9 && strncmp(line, "[Service]", 9) == 0)
		return 1;
	if (n > strlen(CREATED_MARK) &&
	    strncmp(line, CREATED_MARK, strlen(CREATED_MARK)) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		if (n > strlen(env[i]) && strncmp(line, env[i], strlen(env[i])) == 0 &&
		    line[n - 1] == '"')
			return 1;
	return 0;
}

/*
 * Whether text is a drop-in this command wrote and nobody changed since:
 * its header line, then only lines of its own.  Anything else is a
 * person's file, which is never changed or removed.
 */
static int dropin_is_ours(const char *text, size_t len)
{
	if (strlen(text) != len || strncmp(text, HEADER, strlen(HEADER)) != 0)
		return 0;
	for (const char *p = strchr(text, '\n'); p && p[1]; p = strchr(p, '\n')) {
		size_t n = strcspn(++p, "\n");
		if (!line_is_ours(p, n))
			return 0;
	}
	return len > 0 && text[len - 1] == '\n';
}

/* Says that a file or directory is left alone; -1 for the caller. */
static int leave_alone(const char *cmd, const char *path, const char *why)
{
	fprintf(stderr, "sockguard %s: %s %s; it is left as it is\n", cmd,
		sg_esc_arg(0, path), why);
	return -1;
}

/*
 * What is at the drop-in's place: 0 nothing, 1 a drop-in of ours (its text
 * in *old), -1 something enable must not touch (after saying what): a
 * file it did not write, or a symbolic link for the file or its directory,
 * which a rename would replace.
 */
static int existing_dropin(const char *cmd, const char *dir, const char *file,
			   char **old)
{
	struct stat st;
	size_t len;

	if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
		return leave_alone(cmd, dir, "is a symbolic link");
	if (lstat(file, &st) < 0)
		return errno == ENOENT ? 0 : leave_alone(cmd, file, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return leave_alone(cmd, file, "is a symbolic link");
	int rc = sg_read_file(file, 1 << 20, old, &len);
	if (rc < 0)
		return leave_alone(cmd, file, rc == -EINVAL ? "is not a regular file" :
				   strerror(-rc));
	if (!dropin_is_ours(*old, len)) {
		free(*old);
		return leave_alone(cmd, file, "was not written by `sockguard "
				   "enable` (or was changed since): move it away, "
				   "or give a drop-in of your own another name");
	}
	return 1;
}

/* The CREATED_MARK lines of a drop-in enable wrote before. */
static void keep_marks(const char *old, struct sg_text *t)
{
	for (const char *l = old; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0))
		if (strncmp(l, CREATED_MARK, strlen(CREATED_MARK)) == 0)
			sg_text_add(t, l, strcspn(l, "\n") + 1);
}

/* Writes the drop-in, creating what is missing; nothing is left on failure. */
static int write_dropin(const char *root, const char *dir, const char *file,
			const char *old, struct sg_text *head,
			const struct sg_text *body)
{
	size_t marks_at = head->len;

	if (old)
		keep_marks(old, head);
	else if (make_dirs(root, dir, head) < 0)
		goto undo;
	sg_text_add(head, body->s, body->len);
	int rc = head->failed ? -ENOMEM : sg_write_atomic(file, head->s, head->len,
							    0644, -1, -1);
	if (rc == 0)
		return 0;
	fprintf(stderr, "sockguard enable: %s: %s\n", sg_esc_arg(0, file),
		strerror(-rc));
undo:
	if (!old && !head->failed)
		remove_created(root, dir, head->s + marks_at);
	return -1;
}

/* Where systemd looks for an ExecStart= program given without a path. */
static const char *const exec_dirs[] = { "/usr/local/sbin", "/usr/local/bin",
	"/usr/sbin", "/usr/bin", "/sbin", "/bin" };

/*
 * The C library of the program the unit runs (its first ExecStart=, under
 * root), for the build of the shim to preload (sockguard(8), "musl").
 * glibc when it cannot be told: no ExecStart=, a specifier in the path.
 * *musl_missing is set when the program is a musl one and the musl build
 * is not installed.
 */
static enum sg_libc unit_libc(const char *root, const struct sg_unit_preload *sc,
			      int *musl_missing)
{
	struct sg_target t = { .libc = SG_LIBC_GLIBC, .found = 1 };
	char path[PATH_MAX];

	*musl_missing = 0;
	if (!sc->exec[0] || strchr(sc->exec, '%'))
		return SG_LIBC_GLIBC;
	if (sc->exec[0] == '/') {
		sg_lib_for_target(root, sc->exec, &t);
	} else {
		for (size_t i = 0; i < sizeof(exec_dirs) / sizeof(exec_dirs[0]); i++)
			if (pathf(path, "%s/%s", exec_dirs[i], sc->exec) == 0 &&
			    sg_lib_for_target(root, path, &t) == 0)
				break;
	}
	*musl_missing = t.libc == SG_LIBC_MUSL && !t.found;
	if (*musl_missing)
		fprintf(stderr, "sockguard enable: the unit runs %s, a musl program "
			"(%s), and the musl build of the shim (%s) is not beside "
			"this executable nor in ../lib: nothing written\n",
			sg_esc_arg(0, sc->exec), sg_esc_arg(1, t.elf.interp),
			sg_lib_name(SG_LIBC_MUSL));
	return t.libc;
}

/* Everything enable_unit checks before it writes; returns 0 or exit status. */
static int enable_prepare(struct enable_args *a, const char *root, char *unit,
			  char *lib, char *config, struct sg_unit_preload *sc,
			  enum sg_libc *libc)
{
	char real[PATH_MAX];
	int musl_missing;

	if (unit_name(a->unit, unit, 300) < 0)
		return 2;
	sg_unit_scan(root, unit, sc);
	*libc = unit_libc(root, sc, &musl_missing);
	if (musl_missing ||
	    sg_lib_for_root(root, "sockguard enable", *libc, 1, real, lib, PATH_MAX) < 0 ||
	    (a->config && unit_config(root, a->config, config, PATH_MAX) < 0) ||
	    sg_opts_validate(&a->opts, "sockguard enable") < 0)
		return 1;
	return 0;
}

static int enable_unit(struct enable_args *a, const char *root)
{
	char unit[300], lib[PATH_MAX], config[PATH_MAX], dir[PATH_MAX], file[PATH_MAX];
	struct sg_unit_preload sc = { 0 };
	struct sg_text head = { 0 }, body = { 0 };
	char *old = NULL;
	enum sg_libc libc;
	int rc = enable_prepare(a, root, unit, lib, config, &sc, &libc);

	if (rc != 0 || dropin_paths(root, unit, dir, file) < 0 ||
	    existing_dropin("enable", dir, file, &old) < 0) {
		free(sc.value.s);
		return rc != 0 ? rc : 1;
	}
	if (!sc.found)
		fprintf(stderr, "sockguard enable: warning: no unit file for %s "
			"under %s; the drop-in works once the unit exists\n",
			unit, *root ? sg_esc_arg(0, root) : "/");
	sg_text_str(&head, HEADER ": remove it with `sockguard disable ");
	sg_text_str(&head, unit);
	sg_text_str(&head, "`.\n");
	rc = 1;
	if (dropin_body(&body, lib, a->config ? config : NULL, &a->opts, &sc) == 0 &&
	    write_dropin(root, dir, file, old, &head, &body) == 0) {
		printf("wrote %s\nto apply it, run: systemctl daemon-reload && "
		       "systemctl restart %s\n", sg_esc_arg(0, file), unit);
		if (libc == SG_LIBC_MUSL)
			printf("%s runs %s, a musl program: the drop-in preloads "
			       "the musl build\n", unit, sg_esc_arg(0, sc.exec));
		rc = 0;
	}
	if (rc == 0 && sc.later[0])
		fprintf(stderr, "sockguard enable: warning: %s sets LD_PRELOAD "
			"and is read after " SG_DROPIN_NAME ", so it overrides it\n",
			sg_esc_arg(0, sc.later));
	free(sc.value.s);
	free(head.s);
	free(body.s);
	free(old);
	return rc;
}

static int disable_unit(const char *unit_arg, const char *root)
{
	char unit[300], dir[PATH_MAX], file[PATH_MAX], *text = NULL;

	if (unit_name(unit_arg, unit, sizeof(unit)) < 0)
		return 2;
	if (dropin_paths(root, unit, dir, file) < 0)
		return 1;
	int rc = existing_dropin("disable", dir, file, &text);
	if (rc == 0)
		printf("%s has no sockguard drop-in (%s): nothing to do\n", unit,
		       sg_esc_arg(0, file));
	if (rc <= 0)
		return rc < 0;
	if (unlink(file) < 0) {
		fprintf(stderr, "sockguard disable: %s: %s\n", sg_esc_arg(0, file),
			strerror(errno));
		free(text);
		return 1;
	}
	remove_created(root, dir, text);
	free(text);
	printf("removed %s\nto apply it, run: systemctl daemon-reload && "
	       "systemctl restart %s\n", sg_esc_arg(0, file), unit);
	return 0;
}

/*
 * Serialises enable and disable runs on the same tree with an exclusive
 * flock(2) on DIR itself, held until the process ends: two runs at once
 * would each see the other's half-done work (a directory made, its mark
 * not yet written).  The lock is on the directory, so no lock file is
 * left in the tree.  A file system without flock only gets a warning.
 */
static void lock_root(const char *root, const char *cmd)
{
	int fd = open(*root ? root : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 ? -1 : 0;

	while (rc == 0 && flock(fd, LOCK_EX) < 0 && (rc = errno == EINTR ? 0 : -1) == 0)
		;
	if (rc < 0)
		fprintf(stderr, "sockguard %s: warning: cannot lock %s (%s): "
			"runs at the same time are not kept apart\n", cmd,
			*root ? sg_esc_arg(0, root) : "/", strerror(errno));
}

int sg_cmd_enable(int argc, char **argv)
{
	struct enable_args a = { 0 };
	char root[PATH_MAX];
	int rc = 2;

	if (argc == 2 && strcmp(argv[1], SG_SELFTEST_ARG) == 0)
		return sg_selftest_child();
	if (parse_args(argc, argv, &a) < 0)
		rc = usage(argv[0]);
	else if (sg_root_path(a.root, "sockguard enable", root, sizeof(root)) < 0)
		rc = 2;
	else {
		lock_root(root, "enable");
		rc = a.system ? sg_enable_system(root, a.force) : enable_unit(&a, root);
	}
	sg_opts_free(&a.opts);
	return rc;
}

int sg_cmd_disable(int argc, char **argv)
{
	struct enable_args a = { 0 };
	char root[PATH_MAX];

	if (parse_args(argc, argv, &a) < 0) {
		sg_opts_free(&a.opts);
		return usage(argv[0]);
	}
	if (sg_root_path(a.root, "sockguard disable", root, sizeof(root)) < 0)
		return 2;
	lock_root(root, "disable");
	return a.system ? sg_disable_system(root) : disable_unit(a.unit, root);
}
