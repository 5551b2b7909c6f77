/*
 * `sockguard enable [--root DIR] [-c FILE] [-o KEY=VALUE]... UNIT` and
 * `sockguard disable [--root DIR] UNIT` (SPEC.md section 5): a systemd
 * drop-in, DIR/etc/systemd/system/UNIT.d/sockguard.conf, that preloads the
 * shim into one service.  `--system` goes to enable_system.c.
 *
 * Putting the shim on and taking it off must leave the tree as it was, byte
 * for byte: the drop-in names the directories that enable had to create, so
 * that disable removes exactly those (when they are empty), and nothing else
 * is written anywhere.  Usage errors exit 2, refusals 1.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "preload.h"
#include "tools.h"

#define DROPIN_NAME "sockguard.conf"
#define CREATED_MARK "# sockguard created: "

struct enable_args {
	const char *root;	/* --root DIR, "" for "/" */
	const char *config;	/* -c FILE */
	struct sg_opts opts;	/* -o KEY=VALUE... */
	const char *unit;	/* UNIT as given */
	int system, force;
};

/* Text being built: the drop-in, a list of preload entries. */
struct text {
	char *s;
	size_t len;
	int failed;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	char *grown = t->failed ? NULL : realloc(t->s, t->len + n + 1);

	if (!grown) {
		t->failed = 1;
		return;
	}
	t->s = grown;
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

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
			"'%s'\n", argv[0], arg);
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
		fprintf(stderr, "sockguard: '%s' is not a valid unit name\n", arg);
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
		fprintf(stderr, "sockguard: unit name '%s' is too long\n", arg);
		return -1;
	}
	return 0;
}

/* The directory that UNIT.d/sockguard.conf lives in, under root. */
static int dropin_paths(const char *root, const char *unit, char *dir,
			char *file)
{
	if (pathf(dir, "%s/etc/systemd/system/%s.d", root, unit) < 0 ||
	    pathf(file, "%s/" DROPIN_NAME, dir) < 0) {
		fprintf(stderr, "sockguard: the path under %s is too long\n", root);
		return -1;
	}
	return 0;
}

/*
 * Creates dir and the missing directories above it (mode 0755), adding a
 * CREATED_MARK line for each to t, outermost first, so that disable can
 * take away exactly what enable added.  The root itself must exist.
 */
static int make_dirs(const char *root, const char *dir, struct text *t)
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
			text_str(t, CREATED_MARK);
			text_str(t, path + skip);
			text_str(t, "\n");
		} else if (errno != EEXIST) {
			fprintf(stderr, "sockguard enable: %s: %s\n", path, strerror(errno));
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
 * Takes the next word of an Environment= value as systemd.exec(5) splits
 * it: words apart by whitespace, quoted with "..." or '...', with backslash
 * escapes.  Returns 0 at the end of the value.
 */
static int next_word(const char **pp, struct text *w)
{
	const char *p = *pp + strspn(*pp, " \t");
	char quote = 0;

	w->len = 0;
	text_add(w, "", 0);
	if (*p == '\0')
		return 0;
	for (; *p && (quote || (*p != ' ' && *p != '\t')); p++) {
		if (!quote && (*p == '"' || *p == '\''))
			quote = *p;
		else if (quote && *p == quote)
			quote = 0;
		else if (*p == '\\' && p[1])
			text_add(w, ++p, 1);
		else
			text_add(w, p, 1);
	}
	*pp = p;
	return 1;
}

/* What the unit's files say about LD_PRELOAD, read in systemd's order. */
struct preload_scan {
	struct text value;	/* the last LD_PRELOAD=... in force */
	int set;
	char later[PATH_MAX];	/* a drop-in after ours that sets it */
};

static void scan_environment(const char *value, struct preload_scan *sc,
			     const char *path, int after_ours)
{
	struct text w = { 0 };
	const char *p = value;

	/* An empty Environment= resets every assignment before it. */
	if (value[strspn(value, " \t")] == '\0')
		sc->set = 0;
	while (next_word(&p, &w)) {
		if (w.failed || strncmp(w.s, "LD_PRELOAD=", 11) != 0)
			continue;
		sc->value.len = 0;
		text_str(&sc->value, w.s + 11);
		sc->set = 1;
		if (after_ours)
			snprintf(sc->later, sizeof(sc->later), "%s", path);
	}
	free(w.s);
}

/* Reads one unit file or drop-in for Environment= lines of [Service]. */
static void scan_file(const char *path, struct preload_scan *sc, int after_ours)
{
	char *text, *line, *save = NULL;
	size_t len;
	int service = 0;

	if (sg_read_file(path, 1 << 20, &text, &len) < 0)
		return;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		if (line[0] == '[')
			service = strncmp(line, "[Service]", 9) == 0;
		else if (service && strncmp(line, "Environment=", 12) == 0)
			scan_environment(line + 12, sc, path, after_ours);
	}
	free(text);
}

/* systemd's unit directories, the first one winning (systemd.unit(5)). */
static const char *const unit_dirs[] = {
	"/etc/systemd/system", "/run/systemd/system",
	"/usr/local/lib/systemd/system", "/usr/lib/systemd/system",
	"/lib/systemd/system",
};
#define N_UNIT_DIRS (sizeof(unit_dirs) / sizeof(unit_dirs[0]))

/* One drop-in file: systemd reads them sorted by file name. */
struct dropin {
	char name[256];
	char path[PATH_MAX];
};

struct dropins {
	struct dropin *v;
	size_t n;
};

static int dropin_order(const void *a, const void *b)
{
	return strcmp(((const struct dropin *)a)->name,
		      ((const struct dropin *)b)->name);
}

/* Whether a file of that name was already found in a directory that wins. */
static int dropin_shadowed(const struct dropins *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].name, name) == 0)
			return 1;
	return 0;
}

/* Adds the *.conf files of one UNIT.d directory, other than ours. */
static void add_dropins(struct dropins *d, const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;

	while (dp && (e = readdir(dp)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 6 || n >= 256 || strcmp(e->d_name + n - 5, ".conf") != 0 ||
		    strcmp(e->d_name, DROPIN_NAME) == 0 ||
		    dropin_shadowed(d, e->d_name))
			continue;
		struct dropin *v = realloc(d->v, (d->n + 1) * sizeof(*v));
		if (!v)
			break;
		d->v = v;
		snprintf(v[d->n].name, sizeof(v->name), "%s", e->d_name);
		d->n += pathf(v[d->n].path, "%s/%s", dir, e->d_name) == 0;
	}
	if (dp)
		closedir(dp);
}

/* The template of an instance ("getty@.service" for "getty@tty1.service"). */
static int template_of(const char *unit, char *out, size_t len)
{
	const char *at = strchr(unit, '@');

	if (!at || at[1] == '.')
		return -1;
	snprintf(out, len, "%.*s@.service", (int)(at - unit), unit);
	return 0;
}

/*
 * Finds the LD_PRELOAD the unit sets without us: its unit file (the first
 * found, or its template's), then its drop-ins in name order.  Returns
 * whether a unit file was found.
 */
static int scan_unit(const char *root, const char *unit, struct preload_scan *sc)
{
	char names[2][300], path[PATH_MAX];
	int nnames = 1 + (template_of(unit, names[1], sizeof(names[1])) == 0);
	struct dropins d = { 0 };
	int found = 0;

	snprintf(names[0], sizeof(names[0]), "%s", unit);
	for (int k = 0; k < nnames && !found; k++)
		for (size_t i = 0; i < N_UNIT_DIRS && !found; i++) {
			found = pathf(path, "%s%s/%s", root, unit_dirs[i],
				      names[k]) == 0 && access(path, F_OK) == 0;
		}
	if (found)
		scan_file(path, sc, 0);
	for (size_t i = 0; i < N_UNIT_DIRS; i++)
		for (int k = 0; k < nnames; k++) {
			if (pathf(path, "%s%s/%s.d", root, unit_dirs[i], names[k]) == 0)
				add_dropins(&d, path);
		}
	if (d.n)
		qsort(d.v, d.n, sizeof(*d.v), dropin_order);
	for (size_t i = 0; i < d.n; i++)
		scan_file(d.v[i].path, sc, strcmp(d.v[i].name, DROPIN_NAME) > 0);
	free(d.v);
	return found;
}

/*
 * Appends Environment="VAR=value", quoted as systemd.syntax(7) reads it,
 * with '%' doubled so that systemd does not take it for a specifier.
 */
static void env_line(struct text *t, const char *var, const char *val)
{
	text_str(t, "Environment=\"");
	text_str(t, var);
	text_str(t, "=");
	for (const char *p = val; *p; p++) {
		if (*p == '"' || *p == '\\')
			text_add(t, "\\", 1);
		text_add(t, p, 1);
		if (*p == '%')
			text_add(t, "%", 1);
	}
	text_str(t, "\"\n");
}

/* LD_PRELOAD for the unit: ours first, then the unit's own entries. */
static void combined_preload(struct text *t, const char *lib,
			     const struct preload_scan *sc)
{
	text_str(t, lib);
	for (const char *p = sc->set ? sc->value.s : ""; *p;) {
		size_t n = strcspn(p, ": ");
		if (n > 0 && !(n == strlen(lib) && strncmp(p, lib, n) == 0)) {
			text_add(t, ":", 1);
			text_add(t, p, n);
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
				"too long\n", root);
		return -1;
	}
	if ((p = malloc(sg_policy_storage_size())) != NULL)
		rc = sg_tool_load_policy(joined, SG_LOAD_REQUIRED,
					 "sockguard enable", p, NULL);
	else
		fprintf(stderr, "sockguard enable: out of memory\n");
	free(p);
	if (rc != SG_LOAD_OK || snprintf(out, len, "%s", *root ? file : joined) >= (int)len)
		return -1;
	return 0;
}

/* The drop-in's text, apart from the CREATED_MARK lines make_dirs adds. */
static void dropin_body(struct text *t, const char *lib, const char *config,
			const struct sg_opts *opts, const struct preload_scan *sc)
{
	struct text preload = { 0 };

	combined_preload(&preload, lib, sc);
	text_str(t, "[Service]\n");
	env_line(t, "LD_PRELOAD", preload.failed ? lib : preload.s);
	if (config)
		env_line(t, "SOCKGUARD_CONFIG", config);
	if (opts->text)
		env_line(t, "SOCKGUARD_OPTIONS", opts->text);
	t->failed |= preload.failed;
	free(preload.s);
}

/* The CREATED_MARK lines of a drop-in enable wrote before, if any. */
static void keep_marks(const char *file, struct text *t)
{
	char *old, *save = NULL;
	size_t len;

	if (sg_read_file(file, 1 << 20, &old, &len) < 0)
		return;
	for (char *l = strtok_r(old, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strncmp(l, CREATED_MARK, strlen(CREATED_MARK)) == 0) {
			text_str(t, l);
			text_str(t, "\n");
		}
	free(old);
}

/* Writes the drop-in, creating what is missing; nothing is left on failure. */
static int write_dropin(const char *root, const char *dir, const char *file,
			struct text *head, const struct text *body)
{
	size_t marks_at = head->len;
	int existed = access(file, F_OK) == 0;

	if (existed)
		keep_marks(file, head);
	else if (make_dirs(root, dir, head) < 0)
		goto undo;
	text_add(head, body->s, body->len);
	int rc = head->failed ? -ENOMEM : sg_write_atomic(file, head->s, head->len,
							    0644, -1, -1);
	if (rc == 0)
		return 0;
	fprintf(stderr, "sockguard enable: %s: %s\n", file, strerror(-rc));
undo:
	if (!existed && !head->failed)
		remove_created(root, dir, head->s + marks_at);
	return -1;
}

static int enable_unit(struct enable_args *a, const char *root)
{
	char unit[300], real[PATH_MAX], lib[PATH_MAX], config[PATH_MAX];
	char dir[PATH_MAX], file[PATH_MAX];
	struct preload_scan sc = { 0 };
	struct text head = { 0 }, body = { 0 };
	int rc = 1;

	if (unit_name(a->unit, unit, sizeof(unit)) < 0)
		return 2;
	if (sg_lib_for_root(root, "sockguard enable", 1, real, lib, sizeof(lib)) < 0 ||
	    (a->config && unit_config(root, a->config, config, sizeof(config)) < 0) ||
	    sg_opts_validate(&a->opts, "sockguard enable") < 0)
		return 1;
	if (dropin_paths(root, unit, dir, file) < 0)
		return 1;
	if (!scan_unit(root, unit, &sc))
		fprintf(stderr, "sockguard enable: warning: no unit file for %s "
			"under %s; the drop-in works once the unit exists\n",
			unit, *root ? root : "/");
	text_str(&head, "# Written by `sockguard enable`: remove it with "
		 "`sockguard disable ");
	text_str(&head, unit);
	text_str(&head, "`.\n");
	dropin_body(&body, lib, a->config ? config : NULL, &a->opts, &sc);
	if (write_dropin(root, dir, file, &head, &body) == 0) {
		printf("wrote %s\nto apply it, run: systemctl daemon-reload && "
		       "systemctl restart %s\n", file, unit);
		rc = 0;
	}
	if (rc == 0 && sc.later[0])
		fprintf(stderr, "sockguard enable: warning: %s sets LD_PRELOAD "
			"and is read after " DROPIN_NAME ", so it overrides it\n",
			sc.later);
	free(sc.value.s);
	free(head.s);
	free(body.s);
	return rc;
}

static int disable_unit(const char *unit_arg, const char *root)
{
	char unit[300], dir[PATH_MAX], file[PATH_MAX], *text;
	size_t len;

	if (unit_name(unit_arg, unit, sizeof(unit)) < 0)
		return 2;
	if (dropin_paths(root, unit, dir, file) < 0)
		return 1;
	int rc = sg_read_file(file, 1 << 20, &text, &len);
	if (rc == -ENOENT) {
		printf("%s has no sockguard drop-in (%s): nothing to do\n", unit, file);
		return 0;
	}
	if (rc < 0 || unlink(file) < 0) {
		fprintf(stderr, "sockguard disable: %s: %s\n", file,
			strerror(rc < 0 ? -rc : errno));
		if (rc == 0)
			free(text);
		return 1;
	}
	remove_created(root, dir, text);
	free(text);
	printf("removed %s\nto apply it, run: systemctl daemon-reload && "
	       "systemctl restart %s\n", file, unit);
	return 0;
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
	else if (a.system)
		rc = sg_enable_system(root, a.force);
	else
		rc = enable_unit(&a, root);
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
	return a.system ? sg_disable_system(root) : disable_unit(a.unit, root);
}
