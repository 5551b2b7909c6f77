/*
 * The glob of [program GLOB]: '*', '?', '[...]' (with '!' or '^' to negate,
 * ranges a-z, ']' first to mean itself) and '\' to quote, as fnmatch(3) has
 * them.  In path mode '/' is matched only by a '/' in the pattern, as with
 * FNM_PATHNAME.  Written here rather than calling fnmatch(3) so that matching
 * is allocation-free and iterative on every libc: one saved star position is
 * enough for glob patterns, so the cost is bounded by pattern x name length.
 */
#include "policy_int.h"

#include <string.h>

/*
 * Reads the bracket expression that starts after '[' at p.  Returns the
 * position after its closing ']' and sets *hit to whether c is in it, or
 * returns NULL when the expression is not terminated.
 */
static const char *bracket(const char *p, unsigned char c, int path_mode,
			   int *hit)
{
	int negate = (*p == '!' || *p == '^');
	int in = 0;

	if (negate)
		p++;
	for (int first = 1; *p && (first || *p != ']'); first = 0) {
		unsigned char lo = (unsigned char)*p++, hi;
		if (lo == '\\' && *p)
			lo = (unsigned char)*p++;
		hi = lo;
		if (p[0] == '-' && p[1] && p[1] != ']') {
			p++;
			hi = (unsigned char)*p++;
			if (hi == '\\' && *p)
				hi = (unsigned char)*p++;
		}
		if (c >= lo && c <= hi)
			in = 1;
	}
	if (*p != ']')
		return NULL;
	*hit = (in != negate) && !(path_mode && c == '/');
	return p + 1;
}

/*
 * Matches one pattern element at *pp against c.  Advances *pp past the
 * element and returns whether it matched.
 */
static int match_one(const char **pp, unsigned char c, int path_mode)
{
	const char *p = *pp;
	int hit;

	if (*p == '?') {
		*pp = p + 1;
		return !(path_mode && c == '/');
	}
	if (*p == '[') {
		const char *end = bracket(p + 1, c, path_mode, &hit);
		if (end) {
			*pp = end;
			return hit;
		}
		/* An unterminated '[' is an ordinary character. */
	} else if (*p == '\\' && p[1]) {
		p++;
	}
	*pp = p + 1;
	return (unsigned char)*p == c;
}

int sg_glob_match(const char *pat, const char *str, int path_mode)
{
	const char *p = pat, *s = str;
	const char *star_p = NULL, *star_s = NULL;

	while (*s) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		const char *next = p;
		if (*p && match_one(&next, (unsigned char)*s, path_mode)) {
			p = next;
			s++;
			continue;
		}
		/* Let the last star eat one more character, and retry. */
		if (!star_p || (path_mode && *star_s == '/'))
			return 0;
		s = ++star_s;
		p = star_p;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int sg_glob_valid(const char *pat, size_t n, struct sg_fmt *why)
{
	if (n == 0) {
		sg_fmt_str(why, "empty glob");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (pat[i] == '\\') {
			if (++i == n) {
				sg_fmt_str(why, "glob ends with a lone '\\'");
				return -1;
			}
		} else if (pat[i] == '[') {
			int hit;
			char tmp[SG_SECTION_ARG_MAX];
			size_t rest = n - i - 1;
			if (rest >= sizeof(tmp))
				rest = sizeof(tmp) - 1;
			memcpy(tmp, pat + i + 1, rest);
			tmp[rest] = '\0';
			const char *end = bracket(tmp, 'a', 0, &hit);
			if (!end) {
				sg_fmt_str(why, "unterminated '[' in glob ");
				sg_fmt_quoted(why, pat, n);
				return -1;
			}
			i += (size_t)(end - tmp);
		}
	}
	return 0;
}
