/*
 * The inside of `sockguard enable UNIT` and `disable UNIT`: enable.c writes
 * and removes the drop-in, enable_scan.c reads what the unit already sets.
 */
#ifndef SG_ENABLE_H
#define SG_ENABLE_H

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The drop-in's file name, inside UNIT.d. */
#define SG_DROPIN_NAME "sockguard.conf"

/* Text being built; after a failed allocation it stays failed. */
struct sg_text {
	char *s;
	size_t len;
	int failed;
};

static inline void sg_text_add(struct sg_text *t, const char *s, size_t n)
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

static inline void sg_text_str(struct sg_text *t, const char *s)
{
	sg_text_add(t, s, strlen(s));
}

/* What the unit's own files say about LD_PRELOAD, read in systemd's order. */
struct sg_unit_preload {
	struct sg_text value;	/* the last LD_PRELOAD=... in force, unquoted */
	int set;		/* value holds one */
	int found;		/* a unit file was found */
	char later[PATH_MAX];	/* a drop-in read after ours that sets it */
	/*
	 * The program of the first ExecStart= in force, unquoted, without its
	 * prefixes ("-", "@", "+", ...); "" when there is none.
	 */
	char exec[PATH_MAX];
};

/*
 * Reads the unit file of unit under root (the first found in systemd's
 * unit directories, or its template's) and its drop-ins other than ours,
 * in the order systemd applies them, for Environment= lines of [Service]
 * that set LD_PRELOAD, and for its ExecStart= lines (an empty one resets
 * the list).  Values are unquoted and unescaped as systemd does
 * (systemd.syntax(7), "Quoting"), but specifiers are kept as written, so
 * that they mean in the drop-in what they meant in the unit.
 */
void sg_unit_scan(const char *root, const char *unit, struct sg_unit_preload *out);

#endif
