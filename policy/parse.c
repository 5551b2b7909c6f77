/*
 * Reading a policy: the file format (man page, POLICY) and the
 * SOCKGUARD_OPTIONS string.  The parser works on the caller's text in place
 * and stores parsed values, never text, in the fixed arrays of struct
 * sg_policy, so it runs without stdio or malloc in the shim's constructor.
 *
 * Every problem is reported (up to SG_PROBLEMS_MAX kept), and any problem
 * leaves the policy empty: a host program runs with the whole policy or with
 * the built-in defaults, never with half a policy.
 */
#include "policy_int.h"

#include <string.h>

#define OPTIONS_SOURCE "SOCKGUARD_OPTIONS"

struct parser {
	struct sg_policy *p;
	struct sg_problems *problems;
	const char *source;	/* as given, for problems */
	unsigned line;		/* 0: SOCKGUARD_OPTIONS */
	uint8_t source_index;
	int bad;
	struct sg_section *cur;	/* NULL: in the global part, not yet stored */
};

size_t sg_policy_storage_size(void)
{
	return sizeof(struct sg_policy);
}

/*
 * A section's header fields: its values, their lines and its peer address
 * are read only where its set bits and kind say they were written, so they
 * are left as they are.
 */
static void clear_section(struct sg_section *sec, int kind, uint8_t source,
			  unsigned line)
{
	sec->kind = (uint8_t)kind;
	sec->path_glob = 0;
	sec->source = source;
	sec->peer_bit = 0;
	sec->line = line;
	sec->set = 0;
	sec->arg[0] = '\0';
}

/*
 * Only the counters and the options section's header are cleared:
 * sections are cleared when used, so the shim's policy touches few pages,
 * and every process that starts under the shim runs this.
 */
void sg_policy_init(struct sg_policy *p)
{
	p->failed = 0;
	p->nsections = 0;
	p->npeers = 0;
	p->nsources = 0;
	clear_section(&p->options, SG_SECTION_OPTIONS, 0, 0);
}

/* Appends "source:line: key: why" to the problems. */
static void report(struct parser *ps, const char *key, size_t keylen,
		   const char *why)
{
	struct sg_fmt b;

	ps->bad = 1;
	if (!ps->problems)
		return;
	unsigned i = ps->problems->count++;
	if (i >= SG_PROBLEMS_MAX)
		return;
	sg_fmt_init_cstr(&b, ps->problems->text[i], SG_PROBLEM_LEN);
	sg_fmt_str(&b, ps->source);
	if (ps->line) {
		sg_fmt_str(&b, ":");
		sg_fmt_u64(&b, ps->line);
	}
	sg_fmt_str(&b, ": ");
	if (key) {
		sg_fmt_mem(&b, key, keylen);
		sg_fmt_str(&b, ": ");
	}
	sg_fmt_str(&b, why);
}

static inline __attribute__((always_inline)) void trim(const char **s, size_t *n)
{
	while (*n && sg_is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && sg_is_blank((*s)[*n - 1]))
		(*n)--;
}

/*
 * Takes a fresh section.  Past a limit the parse has failed (the policy
 * will be the empty one), and the last slot takes the section's keys, so
 * that they are still checked; it is not on the stack, where a section
 * (about 900 bytes) would make the frame too large for the shim.
 *
 * Only the header fields are set (clear_section): every process parses
 * its policy at start-up.
 */
static struct sg_section *new_section(struct parser *ps, int kind)
{
	struct sg_policy *p = ps->p;
	struct sg_section *sec = &p->sections[SG_POLICY_MAX_SECTIONS - 1];
	int stored = 0;

	if (kind == SG_SECTION_PEER && p->npeers >= SG_POLICY_MAX_PEER_SECTIONS) {
		report(ps, NULL, 0, "too many [peer] sections (limit 64)");
	} else if (p->nsections >= SG_POLICY_MAX_SECTIONS) {
		report(ps, NULL, 0, "too many sections (limit 256)");
	} else {
		sec = &p->sections[p->nsections++];
		stored = 1;
	}
	clear_section(sec, kind, ps->source_index, ps->line);
	if (kind == SG_SECTION_PEER && stored)
		sec->peer_bit = (uint8_t)p->npeers++;
	return sec;
}

/*
 * Copies a glob that is a name with a '*' or '?' at most, without a '/',
 * '\\' or '[' (valid, and matched against program names), and says whether
 * it was one: most globs are, and one look at each byte tells.
 */
static int copy_name_glob(char *dst, const char *arg, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = arg[i];

		if (c == '/' || c == '\\' || c == '[')
			return 0;
		dst[i] = c;
	}
	return n > 0;
}

/* Fills sec->arg from a [program GLOB] or [peer ADDRESS] argument. */
static void section_arg(struct parser *ps, struct sg_section *sec,
			const char *arg, size_t n)
{
	char whybuf[SG_PROBLEM_LEN];
	struct sg_fmt why;

	if (n >= SG_SECTION_ARG_MAX) {
		report(ps, NULL, 0, "section argument longer than 255 bytes");
		return;
	}
	sec->arg[n] = '\0';
	if (sec->kind == SG_SECTION_PROGRAM && copy_name_glob(sec->arg, arg, n))
		return;
	memcpy(sec->arg, arg, n);
	sg_fmt_init_cstr(&why, whybuf, sizeof(whybuf));
	if (sec->kind == SG_SECTION_PROGRAM) {
		sec->path_glob = memchr(arg, '/', n) != NULL;
		if (sg_glob_valid(arg, n, &why) < 0)
			report(ps, "[program]", 9, whybuf);
	} else if (sg_cidr_parse(arg, n, &sec->peer, &why) < 0) {
		report(ps, "[peer]", 6, whybuf);
	}
}

static void parse_header(struct parser *ps, const char *s, size_t n)
{
	static const char usage[] = "bad section header; expected "
		"[program GLOB] or [peer ADDRESS[/PREFIX][:PORT]]";

	if (n < 2 || s[n - 1] != ']') {
		report(ps, NULL, 0, usage);
		ps->cur = new_section(ps, SG_SECTION_PROGRAM);
		return;
	}
	s++;
	n -= 2;
	trim(&s, &n);
	size_t word = 0;
	while (word < n && !sg_is_blank(s[word]))
		word++;
	const char *arg = s + word;
	size_t argn = n - word;
	trim(&arg, &argn);
	int kind = (word == 7 && memcmp(s, "program", 7) == 0) ?
		   SG_SECTION_PROGRAM :
		   (word == 4 && memcmp(s, "peer", 4) == 0) ? SG_SECTION_PEER : -1;
	ps->cur = new_section(ps, kind < 0 ? SG_SECTION_PROGRAM : kind);
	if (kind < 0 || argn == 0)
		report(ps, NULL, 0, usage);
	else
		section_arg(ps, ps->cur, arg, argn);
}

/* Checks and stores one key = value in the current section. */
static __attribute__((noinline)) void
assign_checked(struct parser *ps, int k, const char *key, size_t keyn,
	       const char *val, size_t valn)
{
	char whybuf[SG_PROBLEM_LEN];
	struct sg_fmt why;

	sg_fmt_init_cstr(&why, whybuf, sizeof(whybuf));
	if (k < 0) {
		sg_fmt_str(&why, "unknown key ");
		sg_fmt_quoted(&why, key, keyn);
		report(ps, NULL, 0, whybuf);
		return;
	}
	if (!ps->cur)
		ps->cur = new_section(ps, SG_SECTION_GLOBAL);
	struct sg_section *sec = ps->cur;
	if (sec->kind == SG_SECTION_PEER && !sg_key_is_socket(k)) {
		report(ps, key, keyn, "not a per-socket key, so it cannot be "
		       "set in a [peer] section (only keepalive, user_timeout, "
		       "connect_timeout, sndbuf, rcvbuf, log, log_events)");
		return;
	}
	if (valn == 0) {
		report(ps, key, keyn, "missing value");
		return;
	}
	if (sg_key_parse_value(k, val, valn, &sec->vals, &why) < 0) {
		report(ps, key, keyn, whybuf);
		return;
	}
	sec->set |= 1u << k;
	sec->key_line[k] = ps->line;
}

/*
 * Stores one key = value in the current section: a valid one at once,
 * anything else through assign_checked, which reads it again and decides
 * every message.
 */
static inline void assign(struct parser *ps, const char *key, size_t keyn,
			  const char *val, size_t valn)
{
	int k = sg_key_from_name(key, keyn);
	struct sg_section *sec = ps->cur;

	if (k < 0 || !sec || valn == 0 ||
	    (sec->kind == SG_SECTION_PEER && !sg_key_is_socket(k)) ||
	    sg_key_parse_value(k, val, valn, &sec->vals, NULL) < 0) {
		assign_checked(ps, k, key, keyn, val, valn);
		return;
	}
	sec->set |= 1u << k;
	sec->key_line[k] = ps->line;
}

/* Splits "key = value" (or key=value); -1 if s is not of that form. */
static int split_pair(const char *s, size_t n, const char **key, size_t *keyn,
		      const char **val, size_t *valn)
{
	const char *eq = memchr(s, '=', n);

	if (!eq)
		return -1;
	*key = s;
	*keyn = (size_t)(eq - s);
	*val = eq + 1;
	*valn = n - *keyn - 1;
	trim(key, keyn);
	trim(val, valn);
	return *keyn ? 0 : -1;
}

static int is_control(unsigned char c)
{
	return (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f;
}

static int has_control_byte(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (is_control((unsigned char)s[i]))
			return 1;
	}
	return 0;
}

/*
 * What a scan stops at: control bytes (below 0x20, newline included, and
 * 0x7f) always, '#' and '=' with MARK_EQ; every byte below '$' (the
 * blanks, '!', '"' and '#' too) with MARK_LOW, and '=' with MARK_KEY.
 */
enum { MARK_NONE, MARK_EQ, MARK_LOW, MARK_KEY };

static inline int is_special(unsigned char c, int marks)
{
	return c < (marks >= MARK_LOW ? '$' : 0x20) || c == 0x7f ||
	       (marks == MARK_EQ && c == '#') ||
	       ((marks == MARK_EQ || marks == MARK_KEY) && c == '=');
}

#define BYTES(b) (0x0101010101010101ull * (b))

/*
 * The high bit of each byte of x that is special.  With t the low seven
 * bits of each byte, t + (0x80 - c) keeps the high bit clear exactly where
 * t < c, and (t ^ c) + 0x7f exactly where t == c; no sum carries into the
 * next byte, so every byte is judged alone.  A byte with its high bit set
 * is never special.
 */
static inline uint64_t special_bits(uint64_t x, int marks)
{
	uint64_t t = x & BYTES(0x7f);
	uint64_t plain = (t + BYTES(marks >= MARK_LOW ? 0x80 - '$' : 0x60)) &
			 ((t ^ BYTES(0x7f)) + BYTES(0x7f));

	if (marks == MARK_EQ)
		plain &= (t ^ BYTES('#')) + BYTES(0x7f);
	if (marks == MARK_EQ || marks == MARK_KEY)
		plain &= (t ^ BYTES('=')) + BYTES(0x7f);
	return ~(plain | x) & BYTES(0x80);
}

/*
 * The index of the first special byte at or after i (n if none), eight
 * bytes at a time where they are all there; the lowest bit set names the
 * first special byte.  The policy is read by every process that starts
 * under the library: this scan is a good part of what a line costs.
 */
static inline __attribute__((always_inline)) size_t
skip_plain(const char *s, size_t n, size_t i, int marks)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (n - i >= 8) {
		uint64_t x;

		__builtin_memcpy(&x, s + i, 8);
		uint64_t m = special_bits(x, marks);
		if (m)
			return i + ((unsigned)__builtin_ctzll(m) >> 3);
		i += 8;
	}
#endif
	while (i < n && !is_special((unsigned char)s[i], marks))
		i++;
	return i;
}

/*
 * The end of a line from i on, where nothing but a comment is left: the
 * index of its '\n' (or n), or SIZE_MAX when it holds a control byte.
 */
static size_t comment_end(const char *s, size_t n, size_t i)
{
	for (;; i++) {
		i = skip_plain(s, n, i, MARK_NONE);
		if (i >= n || s[i] == '\n')
			return i;
		if (s[i] != '\t' && s[i] != '\r')
			return SIZE_MAX;
	}
}

/*
 * The rest of a line from i on (i past the blanks that lead a value or a
 * section argument), where the general path allows a comment and tab and
 * CR as blanks: the index of its '\n' (or n), with *end after the last byte
 * that is not blank before a comment, or SIZE_MAX when the line holds a
 * control byte.  The scan stops at every byte below '$', of which only
 * the newline, a comment's '#' and a control byte end it.
 */
static inline __attribute__((always_inline)) size_t
rest_of_line(const char *s, size_t n, size_t i, size_t *end)
{
	size_t start = i;

	for (;; i++) {
		i = skip_plain(s, n, i, MARK_LOW);
		if (i >= n || s[i] == '\n') {
			*end = i;
			break;
		}
		if (s[i] == '#' && sg_is_blank(s[i - 1])) {
			*end = i;
			if ((i = comment_end(s, n, i)) == SIZE_MAX)
				return SIZE_MAX;
			break;
		}
		if (is_control((unsigned char)s[i]))
			return SIZE_MAX;
	}
	while (*end > start && sg_is_blank(s[*end - 1]))
		(*end)--;
	return i;
}

/*
 * The line of most policies, "key = value" with blanks and a comment where
 * the general path allows them and no control byte: assigned at once, in
 * one pass, and the index of its '\n' (or n) returned.  s[i] is the line's
 * first byte that is not blank, and neither '#' nor '['.  Any other line
 * (SIZE_MAX) is left to the general path, which nothing here has touched
 * yet.
 */
static size_t key_line(struct parser *ps, const char *s, size_t n, size_t i)
{
	size_t key = i;

	/* A key holds no byte below '$' (a blank, say) and no '='. */
	i = skip_plain(s, n, i, MARK_KEY);
	size_t keyn = i - key;
	if (n - i >= 3 && memcmp(s + i, " = ", 3) == 0) {
		i += 3;		/* as most lines have it */
	} else {
		while (i < n && sg_is_blank(s[i]))
			i++;
		if (i >= n || s[i] != '=')
			return SIZE_MAX;
		i++;
	}
	if (keyn == 0)
		return SIZE_MAX;
	while (i < n && sg_is_blank(s[i]))
		i++;
	size_t val = i, end;
	if ((i = rest_of_line(s, n, i, &end)) == SIZE_MAX)
		return SIZE_MAX;
	assign(ps, s + key, keyn, s + val, end - val);
	return i;
}

/*
 * A section header as written, "[program GLOB]" or "[peer ADDRESS]" (one or
 * more blanks after the word, a comment where the general path allows one,
 * no control byte): the section is started at once and the index of the
 * line's '\n' (or n) returned.  s[i] is the line's '['.  Any other header
 * (SIZE_MAX), empty, misspelt or unterminated, is left to the general path,
 * which decides its messages; nothing has been touched yet.
 */
static size_t header_line(struct parser *ps, const char *s, size_t n, size_t i)
{
	size_t arg, end;
	int kind;

	if (n - i > 9 && memcmp(s + i + 1, "program", 7) == 0 &&
	    sg_is_blank(s[i + 8])) {
		kind = SG_SECTION_PROGRAM;
		arg = i + 9;
	} else if (n - i > 6 && memcmp(s + i + 1, "peer", 4) == 0 &&
		   sg_is_blank(s[i + 5])) {
		kind = SG_SECTION_PEER;
		arg = i + 6;
	} else {
		return SIZE_MAX;
	}
	while (arg < n && sg_is_blank(s[arg]))
		arg++;
	if ((i = rest_of_line(s, n, arg, &end)) == SIZE_MAX ||
	    end < arg + 2 || s[end - 1] != ']')
		return SIZE_MAX;
	end--;
	while (sg_is_blank(s[end - 1]))
		end--;
	ps->cur = new_section(ps, kind);
	section_arg(ps, ps->cur, s + arg, end - arg);
	return i;
}

/* What one pass over a line finds. */
struct line {
	size_t len;		/* up to its '\n' or the end of the text */
	size_t content;		/* what precedes a comment */
	size_t eq;		/* the first '=' of the content, SIZE_MAX if none */
	int control;		/* a control byte other than tab and CR */
};

/*
 * The line at s (n bytes of text left).  A comment starts at a '#' at the
 * start of the line or after a blank ("unix:/a#b" keeps its '#').
 */
static void scan_line(const char *s, size_t n, struct line *l)
{
	size_t i = 0, hash = SIZE_MAX;

	l->eq = SIZE_MAX;
	l->control = 0;
	for (;; i++) {
		i = skip_plain(s, n, i, MARK_EQ);
		if (i >= n || s[i] == '\n')
			break;
		if (s[i] == '#') {
			if (hash == SIZE_MAX && (i == 0 || sg_is_blank(s[i - 1])))
				hash = i;
		} else if (s[i] == '=') {
			if (l->eq == SIZE_MAX && hash == SIZE_MAX)
				l->eq = i;
		} else if (s[i] != '\t' && s[i] != '\r') {
			l->control = 1;
		}
	}
	l->len = i;
	l->content = hash < i ? hash : i;
}

/* One line: its content (comment left out) and what the scan found. */
static void parse_line(struct parser *ps, const char *s, const struct line *l)
{
	size_t i = 0, n = l->content;

	if (l->control) {
		report(ps, NULL, 0, "control character in line");
		return;
	}
	while (i < n && sg_is_blank(s[i]))
		i++;
	if (i == n)
		return;
	if (s[i] == '[') {
		const char *h = s + i;
		size_t hn = n - i;

		trim(&h, &hn);
		parse_header(ps, h, hn);
		return;
	}
	/* Blanks before the key and after the value are gone already. */
	size_t keyn = l->eq == SIZE_MAX ? 0 : l->eq - i;
	while (keyn && sg_is_blank(s[i + keyn - 1]))
		keyn--;
	if (keyn == 0) {
		report(ps, NULL, 0, "expected 'key = value' or a [section] header");
		return;
	}
	const char *val = s + l->eq + 1;
	size_t valn = n - l->eq - 1;
	trim(&val, &valn);
	assign(ps, s + i, keyn, val, valn);
}

/*
 * Parses the line at s (n bytes of text left) and returns its length, up
 * to its '\n' or the end of the text.  Blank lines, comments, "key =
 * value" lines and section headers take the short ways; everything else,
 * and whatever they refuse, the general path (scan_line, parse_line).
 */
static inline __attribute__((always_inline)) size_t
next_line(struct parser *ps, const char *s, size_t n)
{
	struct line l;
	size_t i = 0, end = SIZE_MAX;

	while (i < n && sg_is_blank(s[i]))
		i++;
	if (i >= n || s[i] == '\n')
		return i;
	if (s[i] == '#')
		end = comment_end(s, n, i + 1);
	else if (s[i] == '[')
		end = header_line(ps, s, n, i);
	else
		end = key_line(ps, s, n, i);
	if (end != SIZE_MAX)
		return end;
	scan_line(s, n, &l);
	parse_line(ps, s, &l);
	return l.len;
}

/* Records the file name for origins; the index goes into each section. */
static void add_source(struct parser *ps)
{
	struct sg_policy *p = ps->p;
	size_t n = strnlen(ps->source, SG_SOURCE_NAME_MAX - 1);

	if (p->nsources >= SG_POLICY_MAX_SOURCES) {
		report(ps, NULL, 0, "too many policy files (limit 4)");
		return;
	}
	memcpy(p->sources[p->nsources], ps->source, n);
	p->sources[p->nsources][n] = '\0';
	ps->source_index = (uint8_t)p->nsources++;
}

/* Ends a parse: any problem, now or before, leaves the empty policy. */
static int finish(struct parser *ps)
{
	if (!ps->bad && !ps->p->failed)
		return 0;
	sg_policy_init(ps->p);
	ps->p->failed = 1;
	return ps->bad ? -1 : 0;
}

int sg_policy_parse(struct sg_policy *p, const char *text, size_t len,
		    const char *source, struct sg_problems *problems)
{
	struct parser ps = { .p = p, .problems = problems,
			     .source = source ? source : "policy" };

	add_source(&ps);
	if (len > SG_POLICY_TEXT_MAX) {
		report(&ps, NULL, 0, "file is larger than 262144 bytes");
		return finish(&ps);
	}
	/* Editors on some systems start UTF-8 files with a byte order mark. */
	size_t start = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	for (size_t pos = start; pos < len;) {
		ps.line++;
		pos += next_line(&ps, text + pos, len - pos) + 1;
	}
	return finish(&ps);
}

/*
 * In "key=value:key=value" a colon starts a new pair only when what follows
 * looks like "key=" (or is empty), so that "log=unix:/run/x.sock" keeps its
 * colon.
 */
static int starts_pair(const char *s)
{
	size_t i = 0, start;

	while (sg_is_blank(s[i]))
		i++;
	if (s[i] == '\0' || s[i] == ':')
		return 1;
	start = i;
	while ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_')
		i++;
	if (i == start)
		return 0;
	while (sg_is_blank(s[i]))
		i++;
	return s[i] == '=';
}

static size_t pair_end(const char *s)
{
	size_t i = 0;

	while (s[i] && !(s[i] == ':' && starts_pair(s + i + 1)))
		i++;
	return i;
}

int sg_policy_parse_options(struct sg_policy *p, const char *options,
			    struct sg_problems *problems)
{
	struct parser ps = { .p = p, .problems = problems,
			     .source = OPTIONS_SOURCE, .cur = &p->options };
	const char *key, *val;
	size_t keyn, valn;
	char whybuf[SG_PROBLEM_LEN];
	struct sg_fmt why;

	for (const char *s = options; s && *s;) {
		size_t n = pair_end(s);
		const char *pair = s;
		size_t pairn = n;
		s += n + (s[n] == ':');
		trim(&pair, &pairn);
		if (pairn == 0)
			continue;
		if (!has_control_byte(pair, pairn) &&
		    split_pair(pair, pairn, &key, &keyn, &val, &valn) == 0) {
			assign(&ps, key, keyn, val, valn);
			continue;
		}
		sg_fmt_init_cstr(&why, whybuf, sizeof(whybuf));
		sg_fmt_str(&why, "expected key=value, not ");
		sg_fmt_quoted(&why, pair, pairn);
		report(&ps, NULL, 0, whybuf);
	}
	return finish(&ps);
}
