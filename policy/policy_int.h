/*
 * The inside of the policy module: the parsed policy and the helpers that
 * parse.c, keys.c, match.c and the small value parsers share.  Nothing here
 * is meant for the shim or the tool; they use policy.h.
 */
#ifndef SG_POLICY_INT_H
#define SG_POLICY_INT_H

#include "fmt.h"
#include "policy.h"

/* The longest glob or peer text kept for a section header. */
#define SG_SECTION_ARG_MAX 256
/* How many sources (files) one policy may name, and their stored length. */
#define SG_POLICY_MAX_SOURCES 4
#define SG_SOURCE_NAME_MAX 256

/*
 * Whether the n bytes at s are exactly the word (no strlen: the key, class
 * and signal tables are searched for every line of a policy).
 */
static inline int sg_span_is(const char *s, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++) {
		if (word[i] == '\0' || word[i] != s[i])
			return 0;
	}
	return word[n] == '\0';
}

/*
 * Whether the n bytes at a and b are the same, both readable for n bytes:
 * compared a word at a time, the last word overlapping the one before.
 */
static inline int sg_same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t x, y;
	uint32_t u, v, w, z;

	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			__builtin_memcpy(&x, a + i, 8);
			__builtin_memcpy(&y, b + i, 8);
			if (x != y)
				return 0;
		}
		__builtin_memcpy(&x, a + n - 8, 8);
		__builtin_memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		__builtin_memcpy(&u, a, 4);
		__builtin_memcpy(&v, b, 4);
		__builtin_memcpy(&w, a + n - 4, 4);
		__builtin_memcpy(&z, b + n - 4, 4);
		return ((u ^ v) | (w ^ z)) == 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return 0;
	}
	return 1;
}

/* The blanks of a policy line: around keys, values and list items. */
static inline int sg_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Parses all of the n bytes at s as a decimal number (digits only, at least
 * one) into *out; -1 on anything else.  A value above limit is stored as
 * limit + 1 (never wraps), so callers check only their range.
 */
static inline int sg_parse_decimal(const char *s, size_t n, uint64_t limit,
				   uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9)
			return -1;
		v = v * 10 + d;
		if (v > limit)
			v = limit + 1;
	}
	*out = v;
	return 0;
}

/*
 * Reads up to max decimal digits from s[*i] on (n bytes in all) into *v,
 * moving *i past them; returns how many it read.  For the quick paths that
 * take a value in its usual form and leave any other to the general one.
 */
static inline size_t sg_read_digits(const char *s, size_t n, size_t *i,
				    size_t max, unsigned *v)
{
	size_t start = *i;
	unsigned d;

	*v = 0;
	while (*i < n && *i - start < max &&
	       (d = (unsigned)(unsigned char)s[*i] - '0') <= 9) {
		*v = *v * 10 + d;
		(*i)++;
	}
	return *i - start;
}

/*
 * A list of signal names in its usual form, in one pass: 0 with the set,
 * or -1 when sg_signal_from_name must read it item by item.
 */
int sg_signal_set_quick(const char *v, size_t n, uint64_t *set);

int sg_cidr_parse(const char *s, size_t n, struct sg_cidr *out,
		  struct sg_fmt *why);

/* Globs as in fnmatch(3); path mode is FNM_PATHNAME ('/' only literal). */
int sg_glob_valid(const char *pat, size_t n, struct sg_fmt *why);
int sg_glob_match(const char *pat, const char *str, int path_mode);

/*
 * One section: the keys it sets (bit per enum sg_key), their values in a
 * settings struct, and the line that set each one.  Only the fields of the
 * keys in `set` are written (vals, key_line), and `peer` only in a [peer]
 * section: the rest is not cleared.
 */
struct sg_section {
	uint8_t kind;		/* enum sg_section_kind */
	uint8_t path_glob;	/* [program] glob contains '/' */
	uint8_t source;		/* index into sg_policy.sources */
	uint8_t peer_bit;	/* [peer]: its bit in sg_policy_for_peer's result */
	unsigned line;
	uint32_t set;
	uint32_t key_line[SG_KEY_COUNT];
	struct sg_settings vals;
	struct sg_cidr peer;
	char arg[SG_SECTION_ARG_MAX];	/* glob or peer text, NUL-terminated */
};

struct sg_policy {
	int failed;		/* a problem was found: stays the empty policy */
	unsigned nsections;
	unsigned npeers;
	unsigned nsources;
	char sources[SG_POLICY_MAX_SOURCES][SG_SOURCE_NAME_MAX];
	struct sg_section options;	/* SOCKGUARD_OPTIONS, applied last */
	struct sg_section sections[SG_POLICY_MAX_SECTIONS];
};

/*
 * Parses one value of key into s; -1 with the reason in why, or without
 * one when why is NULL.
 */
int sg_key_parse_value(int key, const char *v, size_t n, struct sg_settings *s,
		       struct sg_fmt *why);
int sg_key_from_name(const char *s, size_t n);
/* Copies key's value (all its fields) from src to dst. */
void sg_key_copy(int key, struct sg_settings *dst, const struct sg_settings *src);
/* Copies the value of every key in set (a bit per enum sg_key). */
void sg_keys_copy(uint32_t set, struct sg_settings *dst,
		  const struct sg_settings *src);
void sg_key_copy_sock(int key, struct sg_sock_settings *dst,
		      const struct sg_settings *src);
/* Whether key's value in s is in range (a block written by another process). */
int sg_key_value_valid(int key, const struct sg_settings *s);
/* Whether key has the same value in a and b. */
int sg_key_value_equal(int key, const struct sg_settings *a,
		       const struct sg_settings *b);

/* The source name shown for keys set by sec ("file" or SOCKGUARD_OPTIONS). */
const char *sg_section_source(const struct sg_policy *p,
			      const struct sg_section *sec);
int sg_section_matches_program(const struct sg_section *sec, const char *name,
			       const char *path);

#endif
