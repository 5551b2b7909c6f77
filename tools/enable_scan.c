/*
 * What a unit already sets: its unit file and drop-ins read for the
 * LD_PRELOAD they give the service, so that the drop-in of `sockguard
 * enable` keeps it (after the shim) instead of replacing it, and for the
 * program ExecStart= runs, whose C library says which build to preload.  Files are
 * found in systemd.unit(5)'s order and read as systemd.syntax(7) says:
 * lines joined after a trailing backslash, words split on blanks, quotes
 * removed, C escapes decoded.  Specifiers ("%t") are left as written: the
 * drop-in carries them over with their meaning.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "enable.h"
#include "preload.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The value of n digits of base at p, or -1. */
static long digits(const char *p, int n, int base)
{
	long v = 0;

	for (int i = 0; i < n; i++) {
		int d = hex_digit(p[i]);
		if (d < 0 || d >= base)
			return -1;
		v = v * base + d;
	}
	return v;
}

/* Appends code point cp as UTF-8. */
static void add_utf8(struct sg_text *w, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80)
		b[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		b[0] = (char)(0xc0 | cp >> 6), n = 2;
	else if (cp < 0x10000)
		b[0] = (char)(0xe0 | cp >> 12), n = 3;
	else
		b[0] = (char)(0xf0 | cp >> 18), n = 4;
	for (size_t i = 1; i < n; i++)
		b[i] = (char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3f));
	sg_text_add(w, b, n);
}

/*
 * Decodes the escape after a backslash at p (systemd.syntax(7): \a \b \f
 * \n \r \t \v \\ \" \' \s, \xNN, \NNN octal, \uNNNN, \UNNNNNNNN) into w.
 * Returns the bytes of p it used; 0 for an escape systemd does not know,
 * which is then taken as the character itself.
 */
static size_t unescape(const char *p, struct sg_text *w)
{
	static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"''s ";
	const char *s = *p ? strchr(simple, *p) : NULL;
	long v;

	if (s && (s - simple) % 2 == 0) {
		sg_text_add(w, s + 1, 1);
		return 1;
	}
	if (*p == 'x' && (v = digits(p + 1, 2, 16)) > 0) {
		char c = (char)v;
		sg_text_add(w, &c, 1);
		return 3;
	}
	if (*p >= '0' && *p <= '7' && (v = digits(p, 3, 8)) > 0 && v < 256) {
		char c = (char)v;
		sg_text_add(w, &c, 1);
		return 3;
	}
	int n = *p == 'u' ? 4 : *p == 'U' ? 8 : 0;
	if (n && (v = digits(p + 1, n, 16)) > 0 && v <= 0x10ffff &&
	    (v < 0xd800 || v > 0xdfff)) {
		add_utf8(w, (uint32_t)v);
		return (size_t)n + 1;
	}
	return 0;
}

/*
 * Takes the next word of an Environment= value into w.  Returns 0 at the
 * end of the value.
 */
static int next_word(const char **pp, struct sg_text *w)
{
	const char *p = *pp + strspn(*pp, " \t");
	char quote = 0;

	w->len = 0;
	sg_text_add(w, "", 0);
	if (*p == '\0')
		return 0;
	for (; *p && (quote || (*p != ' ' && *p != '\t')); p++) {
		size_t used;
		if (!quote && (*p == '"' || *p == '\''))
			quote = *p;
		else if (quote && *p == quote)
			quote = 0;
		else if (*p == '\\' && p[1] && (used = unescape(p + 1, w)) > 0)
			p += used;
		else if (*p == '\\' && p[1])
			sg_text_add(w, ++p, 1);
		else
			sg_text_add(w, p, 1);
	}
	*pp = p;
	return 1;
}

static void scan_environment(const char *value, struct sg_unit_preload *sc,
			     const char *path, int after_ours)
{
	struct sg_text w = { 0 };
	const char *p = value;

	/* An empty Environment= resets every assignment before it. */
	if (value[strspn(value, " \t")] == '\0')
		sc->set = 0;
	while (next_word(&p, &w)) {
		if (w.failed || strncmp(w.s, "LD_PRELOAD=", 11) != 0)
			continue;
		sc->value.len = 0;
		sg_text_str(&sc->value, w.s + 11);
		sc->set = 1;
		if (after_ours)
			snprintf(sc->later, sizeof(sc->later), "%s", path);
	}
	free(w.s);
}

/* The value of "KEY = ..." (blanks around '=' allowed), or NULL. */
static const char *directive_value(const char *line, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) != 0)
		return NULL;
	line += n + strspn(line + n, " \t");
	return *line == '=' ? line + 1 + strspn(line + 1, " \t") : NULL;
}

/*
 * An ExecStart= line (systemd.service(5)): the first command's program,
 * after the prefixes that may come before it, when none is in force yet;
 * an empty value resets the list.
 */
static void scan_exec_start(const char *value, struct sg_unit_preload *sc)
{
	struct sg_text w = { 0 };
	const char *p = value;

	if (value[strspn(value, " \t")] == '\0') {
		sc->exec[0] = '\0';
		return;
	}
	if (sc->exec[0] == '\0' && next_word(&p, &w) && !w.failed) {
		const char *prog = w.s + strspn(w.s, "@-:+!");
		if (strlen(prog) < sizeof(sc->exec))
			strcpy(sc->exec, prog);
	}
	free(w.s);
}

/* A line ending in a backslash goes on in the next (systemd.syntax(7)). */
static void join_continued_lines(char *text)
{
	for (char *p = text; (p = strchr(p, '\n')) != NULL; p++)
		if (p > text && p[-1] == '\\')
			p[-1] = ' ', p[0] = ' ';
}

/* Reads one unit file or drop-in for Environment= lines of [Service]. */
static void scan_file(const char *path, struct sg_unit_preload *sc, int after_ours)
{
	char *text, *line, *save = NULL;
	const char *value;
	size_t len;
	int service = 0;

	if (sg_read_file(path, 1 << 20, &text, &len) < 0)
		return;
	join_continued_lines(text);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		line[strcspn(line, "\r")] = '\0';
		if (line[0] == '[')
			service = strncmp(line, "[Service]", 9) == 0;
		else if (service && (value = directive_value(line, "Environment")))
			scan_environment(value, sc, path, after_ours);
		else if (service && (value = directive_value(line, "ExecStart")))
			scan_exec_start(value, sc);
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
		    strcmp(e->d_name, SG_DROPIN_NAME) == 0 ||
		    dropin_shadowed(d, e->d_name))
			continue;
		struct dropin *v = realloc(d->v, (d->n + 1) * sizeof(*v));
		if (!v)
			break;
		d->v = v;
		snprintf(v[d->n].name, sizeof(v->name), "%s", e->d_name);
		d->n += snprintf(v[d->n].path, PATH_MAX, "%s/%s", dir,
				 e->d_name) < PATH_MAX;
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

void sg_unit_scan(const char *root, const char *unit, struct sg_unit_preload *sc)
{
	char names[2][300], path[PATH_MAX];
	int nnames = 1 + (template_of(unit, names[1], sizeof(names[1])) == 0);
	struct dropins d = { 0 };

	snprintf(names[0], sizeof(names[0]), "%s", unit);
	for (int k = 0; k < nnames && !sc->found; k++)
		for (size_t i = 0; i < N_UNIT_DIRS && !sc->found; i++) {
			sc->found = snprintf(path, sizeof(path), "%s%s/%s", root,
					     unit_dirs[i], names[k]) < PATH_MAX &&
				    access(path, F_OK) == 0;
		}
	if (sc->found)
		scan_file(path, sc, 0);
	for (size_t i = 0; i < N_UNIT_DIRS; i++)
		for (int k = 0; k < nnames; k++) {
			if (snprintf(path, sizeof(path), "%s%s/%s.d", root,
				     unit_dirs[i], names[k]) < PATH_MAX)
				add_dropins(&d, path);
		}
	if (d.n)
		qsort(d.v, d.n, sizeof(*d.v), dropin_order);
	for (size_t i = 0; i < d.n; i++)
		scan_file(d.v[i].path, sc, strcmp(d.v[i].name, SG_DROPIN_NAME) > 0);
	free(d.v);
}
