/*
 * The line parser of `sockguard report`.  A line is a syslog header in one
 * of the formats operators meet (RFC 3164 with or without <PRI> and host,
 * rsyslog's RFC 3339 file format, RFC 5424, journalctl -o short, short-iso,
 * short-precise) followed by the key=value body (sockguard(8)).  It
 * works on a byte range, never reads outside it, never allocates, and
 * returns pointers into the line: 5 million lines a second is the budget,
 * so there is no copy and no sscanf.
 */
#include "report.h"

#include <string.h>

struct cursor {
	const char *p;
	const char *end;
};

static size_t left(const struct cursor *c)
{
	return (size_t)(c->end - c->p);
}

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* The next run of non-space bytes, and the spaces after it skipped. */
static struct sg_report_str next_token(struct cursor *c)
{
	struct sg_report_str tok = { c->p, 0 };
	const char *sp = memchr(c->p, ' ', left(c));

	tok.n = (size_t)((sp ? sp : c->end) - c->p);
	c->p += tok.n;
	while (c->p < c->end && *c->p == ' ')
		c->p++;
	return tok;
}

/*
 * Unsigned decimal that fills the whole range; -1 when it does not.  A
 * value past UINT64_MAX is UINT64_MAX: counts saturate, never wrap.
 */
static int parse_u64(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		x = sg_report_sat_add(sg_report_sat_mul(x, 10),
				      (uint64_t)(s[i] - '0'));
	}
	*v = x;
	return 0;
}

static int str_is(struct sg_report_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* "<PRI>" at the start: up to three digits in angle brackets. */
static void skip_pri(struct cursor *c)
{
	size_t n = left(c), i = 1;

	if (n < 3 || c->p[0] != '<')
		return;
	while (i < n && i < 5 && is_digit(c->p[i]))
		i++;
	if (i > 1 && i < n && c->p[i] == '>')
		c->p += i + 1;
}

/*
 * The syslog tag: "sockguard:" or "sockguard[PID]:".  Returns 1 for ours,
 * 0 for another program's, and sets *pid when the tag has one.  With
 * colon_less, "sockguard" and "sockguard[PID]" are ours too: rsyslog
 * writes a message it received in RFC 5424 form with the tag it builds from
 * APP-NAME and PROCID, which has no colon.
 */
static int is_our_tag(struct sg_report_str tok, long *pid, int colon_less)
{
	uint64_t v;
	size_t n = tok.n;

	if (n > 0 && tok.p[n - 1] == ':')
		n--;
	else if (!colon_less)
		return 0;
	if (n < 9 || memcmp(tok.p, "sockguard", 9) != 0)
		return 0;
	if (n == 9)
		return 1;
	if (n < 12 || tok.p[9] != '[' || tok.p[n - 1] != ']' ||
	    parse_u64(tok.p + 10, n - 11, &v) < 0 || v > 0x7fffffff)
		return 0;
	*pid = (long)v;
	return 1;
}

/* The tag token, ours with its colon, or without one when a body follows. */
static int is_our_tag_at(struct cursor *c, struct sg_report_event *out)
{
	struct sg_report_str tok = next_token(c);
	int body = left(c) >= 6 && memcmp(c->p, "class=", 6) == 0;

	return is_our_tag(tok, &out->pid, body);
}

/* Host and tag after an RFC 3164 or ISO timestamp; 1 when the tag is ours. */
static int parse_host_tag(struct cursor *c, struct sg_report_event *out,
			  int have_time)
{
	struct cursor start = *c;
	struct sg_report_str tok;

	if (is_our_tag_at(c, out))
		return 1;
	*c = start;
	tok = next_token(c);
	if (!have_time || tok.n == 0 || tok.p[tok.n - 1] == ':')
		return 0;
	out->host = tok;
	return is_our_tag_at(c, out);
}

/* Structured data: "-" or one or more [id param="value"...] elements. */
static int skip_structured_data(struct cursor *c)
{
	if (left(c) > 0 && *c->p == '-') {
		c->p++;
		return 0;
	}
	while (left(c) > 0 && *c->p == '[') {
		int quoted = 0;
		for (c->p++; c->p < c->end; c->p++) {
			if (quoted && *c->p == '\\' && c->p + 1 < c->end)
				c->p++;
			else if (*c->p == '"')
				quoted = !quoted;
			else if (!quoted && *c->p == ']')
				break;
		}
		if (c->p >= c->end)
			return -1;
		c->p++;
	}
	return 0;
}

/* "1 TIMESTAMP HOST APP PROCID MSGID SD MSG" (RFC 5424 section 6). */
static int parse_5424(struct cursor *c, struct sg_report_event *out)
{
	struct sg_report_str tok;
	uint64_t pid;

	c->p += 2;
	tok = next_token(c);
	if (!str_is(tok, "-") &&
	    sg_report_parse_iso_time(tok.p, tok.n, &out->time) != tok.n)
		out->time = SG_REPORT_NO_TIME;
	tok = next_token(c);
	if (!str_is(tok, "-"))
		out->host = tok;
	if (!str_is(next_token(c), "sockguard"))
		return 0;
	tok = next_token(c);
	if (parse_u64(tok.p, tok.n, &pid) == 0 && pid <= 0x7fffffff)
		out->pid = (long)pid;
	next_token(c);
	if (skip_structured_data(c) < 0)
		return 0;
	while (left(c) > 0 && *c->p == ' ')
		c->p++;
	if (left(c) >= 3 && memcmp(c->p, "\xef\xbb\xbf", 3) == 0)
		c->p += 3;
	return 1;
}

/* Everything before the body; 1 when the line is sockguard's. */
static int parse_header(struct cursor *c, struct sg_report_event *out)
{
	size_t used;

	skip_pri(c);
	if (left(c) >= 2 && c->p[0] == '1' && c->p[1] == ' ')
		return parse_5424(c, out);
	used = sg_report_parse_bsd_time(c->p, left(c), &out->time);
	if (used == 0)
		used = sg_report_parse_iso_time(c->p, left(c), &out->time);
	if (used > 0 && (used == left(c) || c->p[used] != ' '))
		return 0;
	c->p += used;
	while (left(c) > 0 && *c->p == ' ')
		c->p++;
	return parse_host_tag(c, out, used > 0);
}

/*
 * rsyslog's repeated-message reduction turns identical lines into one
 * "message repeated N times: [ body]": count the body N times.
 */
static void unwrap_repeated(struct cursor *c, struct sg_report_event *out)
{
	static const char head[] = "message repeated ";
	size_t hn = sizeof(head) - 1, i = hn;
	uint64_t n;

	if (left(c) < hn || memcmp(c->p, head, hn) != 0)
		return;
	while (i < left(c) && is_digit(c->p[i]))
		i++;
	if (parse_u64(c->p + hn, i - hn, &n) < 0 || n == 0 ||
	    left(c) - i < 9 || memcmp(c->p + i, " times: [", 9) != 0 ||
	    c->end[-1] != ']')
		return;
	out->count = n;
	c->p += i + 9;
	c->end--;
	while (left(c) > 0 && *c->p == ' ')
		c->p++;
}

void sg_report_event_init(struct sg_report_event *out)
{
	memset(out, 0, sizeof(*out));
	out->time = SG_REPORT_NO_TIME;
	out->pid = -1;
	out->started = -1;
	out->cls = SG_CLASS_NONE;
	out->action = -1;
	out->deadline = SG_DEADLINE_NONE;
	out->count = 1;
}

/* Trailing spaces, tabs and the CR of CRLF files are not part of the body. */
static void trim_end(struct cursor *c)
{
	while (c->end > c->p && (c->end[-1] == '\r' || c->end[-1] == ' ' ||
				 c->end[-1] == '\t' || c->end[-1] == '\n'))
		c->end--;
}

int sg_report_parse_line(const char *line, size_t len,
			 struct sg_report_event *out)
{
	struct cursor c = { line, line + len };

	if (len > 0 && (line[0] == '{' || line[0] == '\x1e'))
		return sg_report_parse_json(line, len, out);
	sg_report_event_init(out);
	trim_end(&c);
	if (!parse_header(&c, out))
		return SG_REPORT_SKIP;
	unwrap_repeated(&c, out);
	if (left(&c) < 6 || memcmp(c.p, "class=", 6) != 0)
		return SG_REPORT_SKIP;	/* a sockguard notice, not an event */
	int rc = sg_report_parse_body(c.p, left(&c), out);
	if (rc == SG_REPORT_EVENT && out->time == SG_REPORT_BAD_TIME) {
		out->reason = "impossible timestamp";
		return SG_REPORT_MALFORMED;
	}
	return rc;
}
