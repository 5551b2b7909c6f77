/*
 * Journal entries for `sockguard report`: `journalctl -o json` (one JSON
 * object per line; `-o json-seq` too) here, `journalctl -o export` in
 * export.c, both turned into the same event.  An entry is sockguard's when
 * SYSLOG_IDENTIFIER is "sockguard", whether the shim sent it natively
 * (log=journal) or through syslog; its MESSAGE is the usual line body
 * (class=... op=...), and host, time and pid come from the trusted journal
 * fields _HOSTNAME, __REALTIME_TIMESTAMP and _PID (SYSLOG_PID when _PID is
 * missing).  A body without prog= takes the program from _COMM.
 *
 * JSON strings are decoded (escapes, \u sequences, surrogate pairs), and
 * so are the arrays of byte values journalctl writes for a field that is
 * not valid UTF-8.  Decoded fields go to a buffer of this file's own, so
 * the event's strings stay valid until the next call.
 */
#include "report.h"

#include <string.h>

/* Decoding never makes a field longer than its JSON text. */
#define SCRATCH (256 * 1024)

/* Seconds of 9999-12-31T23:59:59Z: later is no real time of a log. */
#define MAX_TIME INT64_C(253402300799)

static int is_digits(struct sg_report_str s)
{
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return 0;
	return s.n > 0;
}

static uint64_t to_u64(struct sg_report_str s)
{
	uint64_t v = 0;

	for (size_t i = 0; i < s.n; i++)
		v = sg_report_sat_add(sg_report_sat_mul(v, 10), (uint64_t)(s.p[i] - '0'));
	return v;
}

static int str_is(struct sg_report_str s, const char *lit)
{
	return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static void set_pid(const struct sg_report_journal *j, struct sg_report_event *out)
{
	struct sg_report_str pid = is_digits(j->pid) ? j->pid : j->syslog_pid;

	if (is_digits(pid) && to_u64(pid) <= 0x7fffffff)
		out->pid = (long)to_u64(pid);
}

int sg_report_journal_event(const struct sg_report_journal *j,
			    struct sg_report_event *out)
{
	struct sg_report_str body = j->message;

	sg_report_event_init(out);
	if (!str_is(j->ident, "sockguard"))
		return SG_REPORT_SKIP;
	while (body.n > 0 && (body.p[body.n - 1] == '\n' || body.p[body.n - 1] == ' ' ||
			      body.p[body.n - 1] == '\r'))
		body.n--;
	if (body.n < 6 || memcmp(body.p, "class=", 6) != 0)
		return SG_REPORT_SKIP;	/* a sockguard notice, not an event */
	out->host = j->host;
	set_pid(j, out);
	if (is_digits(j->realtime)) {
		uint64_t us = to_u64(j->realtime);
		out->time = us / 1000000 > (uint64_t)MAX_TIME ? SG_REPORT_BAD_TIME :
			    (int64_t)(us / 1000000);
	}
	int rc = sg_report_parse_body(body.p, body.n, out);
	if (rc != SG_REPORT_EVENT)
		return rc;
	if (out->prog.n == 0)
		out->prog = j->comm;
	if (out->time == SG_REPORT_BAD_TIME) {
		out->reason = "impossible timestamp";
		return SG_REPORT_MALFORMED;
	}
	return rc;
}

/* ---- one JSON object, flat, as journalctl writes it ---- */

struct json {
	const char *p, *end;
	char *out, *out_end;		/* where decoded fields go */
};

static void skip_ws(struct json *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' ||
				 *c->p == '\n'))
		c->p++;
}

static int hex4(const char *p, const char *end, unsigned *v)
{
	*v = 0;
	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char ch = p[i];
		unsigned d = ch >= '0' && ch <= '9' ? (unsigned)(ch - '0') :
			     ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10) :
			     ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10) : 16u;
		if (d > 15)
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

static int put_byte(struct json *c, unsigned b)
{
	if (c->out >= c->out_end)
		return -1;
	*c->out++ = (char)b;
	return 0;
}

/* A code point as UTF-8 (a lone surrogate as the U+FFFD it stands for). */
static int put_utf8(struct json *c, unsigned cp)
{
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;
	if (cp < 0x80)
		return put_byte(c, cp);
	if (cp < 0x800)
		return put_byte(c, 0xc0 | cp >> 6) | put_byte(c, 0x80 | (cp & 0x3f));
	if (cp < 0x10000)
		return put_byte(c, 0xe0 | cp >> 12) | put_byte(c, 0x80 | (cp >> 6 & 0x3f)) |
		       put_byte(c, 0x80 | (cp & 0x3f));
	return put_byte(c, 0xf0 | cp >> 18) | put_byte(c, 0x80 | (cp >> 12 & 0x3f)) |
	       put_byte(c, 0x80 | (cp >> 6 & 0x3f)) | put_byte(c, 0x80 | (cp & 0x3f));
}

/* "\uXXXX", a surrogate pair joined; c->p just after the 'u'. */
static int unicode_escape(struct json *c)
{
	unsigned hi, lo;

	if (hex4(c->p, c->end, &hi) < 0)
		return -1;
	c->p += 4;
	if (hi >= 0xd800 && hi <= 0xdbff && c->end - c->p >= 6 && c->p[0] == '\\' &&
	    c->p[1] == 'u' && hex4(c->p + 2, c->end, &lo) == 0 &&
	    lo >= 0xdc00 && lo <= 0xdfff) {
		c->p += 6;
		return put_utf8(c, 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
	}
	return put_utf8(c, hi);
}

static int simple_escape(struct json *c, char e)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *at = memchr(from, e, sizeof(from) - 1);

	return at ? put_byte(c, (unsigned char)to[at - from]) : -1;
}

/* The escape after a backslash; decoded into c->out when decode is set. */
static int escape(struct json *c, int decode)
{
	char e = *c->p++;
	unsigned v;

	if (e == 'u') {
		if (decode)
			return unicode_escape(c);
		if (hex4(c->p, c->end, &v) < 0)
			return -1;
		c->p += 4;
		return 0;
	}
	if (!memchr("\"\\/bfnrt", e, 8))
		return -1;
	return decode ? simple_escape(c, e) : 0;
}

/*
 * A string at c->p ('"'): decoded into c->out when decode is set, else
 * only skipped.  Returns 0, or -1 when it is not a complete JSON string.
 */
static int string(struct json *c, int decode)
{
	if (c->p >= c->end || *c->p != '"')
		return -1;
	for (c->p++; c->p < c->end && *c->p != '"'; ) {
		char ch = *c->p++;
		if ((unsigned char)ch < 0x20)
			return -1;
		if (ch == '\\') {
			if (c->p >= c->end || escape(c, decode) < 0)
				return -1;
		} else if (decode && put_byte(c, (unsigned char)ch) < 0) {
			return -1;
		}
	}
	if (c->p >= c->end)
		return -1;
	c->p++;
	return 0;
}

/* A number, true, false or null: skipped. */
static int scalar(struct json *c)
{
	const char *start = c->p;

	while (c->p < c->end && strchr("0123456789+-.eEtruefalsn", *c->p) && *c->p)
		c->p++;
	return c->p > start ? 0 : -1;
}

static int value(struct json *c, int decode, int depth);

/*
 * An array: of byte values (a field that is not UTF-8: the bytes decoded),
 * or of values (a field with several values: the first one decoded).
 */
static int array(struct json *c, int decode, int depth)
{
	int first = 1;

	c->p++;
	skip_ws(c);
	while (c->p < c->end && *c->p != ']') {
		if (!first) {
			if (*c->p != ',')
				return -1;
			c->p++;
			skip_ws(c);
		}
		if (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
			unsigned v = 0;
			while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && v < 256)
				v = v * 10 + (unsigned)(*c->p++ - '0');
			if (v > 255 || (decode && put_byte(c, v) < 0))
				return -1;
		} else if (value(c, decode && first, depth + 1) < 0) {
			return -1;
		}
		first = 0;
		skip_ws(c);
	}
	if (c->p >= c->end)
		return -1;
	c->p++;
	return 0;
}

/* An object inside a value: skipped (journalctl writes none). */
static int object(struct json *c, int depth)
{
	c->p++;
	skip_ws(c);
	for (int first = 1; c->p < c->end && *c->p != '}'; first = 0) {
		if (!first && *c->p++ != ',')
			return -1;
		skip_ws(c);
		if (string(c, 0) < 0)
			return -1;
		skip_ws(c);
		if (c->p >= c->end || *c->p++ != ':' || value(c, 0, depth + 1) < 0)
			return -1;
		skip_ws(c);
	}
	if (c->p >= c->end)
		return -1;
	c->p++;
	return 0;
}

static int value(struct json *c, int decode, int depth)
{
	skip_ws(c);
	if (c->p >= c->end || depth > 16)
		return -1;
	if (*c->p == '"')
		return string(c, decode);
	if (*c->p == '[')
		return array(c, decode, depth);
	if (*c->p == '{')
		return object(c, depth);
	return scalar(c);
}

/* Where a field of the entry goes, or NULL for a field report does not use. */
static struct sg_report_str *field_slot(struct sg_report_journal *j,
					struct sg_report_str key)
{
	static const struct { const char *name; size_t off; } fields[] = {
		{ "MESSAGE", offsetof(struct sg_report_journal, message) },
		{ "SYSLOG_IDENTIFIER", offsetof(struct sg_report_journal, ident) },
		{ "_HOSTNAME", offsetof(struct sg_report_journal, host) },
		{ "_COMM", offsetof(struct sg_report_journal, comm) },
		{ "_PID", offsetof(struct sg_report_journal, pid) },
		{ "SYSLOG_PID", offsetof(struct sg_report_journal, syslog_pid) },
		{ "__REALTIME_TIMESTAMP", offsetof(struct sg_report_journal, realtime) },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (str_is(key, fields[i].name))
			return (struct sg_report_str *)((char *)j + fields[i].off);
	return NULL;
}

/* "KEY": VALUE; a field report uses is decoded into its slot. */
static int member(struct json *c, struct sg_report_journal *j)
{
	struct sg_report_str key = { c->p + 1, 0 };
	struct sg_report_str *slot;

	if (string(c, 0) < 0)
		return -1;
	key.n = (size_t)(c->p - key.p - 1);
	skip_ws(c);
	if (c->p >= c->end || *c->p++ != ':')
		return -1;
	skip_ws(c);
	slot = memchr(key.p, '\\', key.n) ? NULL : field_slot(j, key);
	if (!slot || (c->p < c->end && *c->p == 'n'))
		return value(c, 0, 0);	/* null: a field journalctl left out */
	char *start = c->out;
	if (value(c, 1, 0) < 0)
		return -1;
	*slot = (struct sg_report_str){ start, (size_t)(c->out - start) };
	return 0;
}

static int object_fields(struct json *c, struct sg_report_journal *j)
{
	skip_ws(c);
	if (c->p >= c->end || *c->p++ != '{')
		return -1;
	skip_ws(c);
	for (int first = 1; c->p < c->end && *c->p != '}'; first = 0) {
		if (!first && *c->p++ != ',')
			return -1;
		skip_ws(c);
		if (member(c, j) < 0)
			return -1;
		skip_ws(c);
	}
	if (c->p >= c->end)
		return -1;
	c->p++;
	skip_ws(c);
	return c->p == c->end ? 0 : -1;
}

int sg_report_parse_json(const char *line, size_t len, struct sg_report_event *out)
{
	static char scratch[SCRATCH];
	struct json c = { line, line + len, scratch, scratch + SCRATCH };
	struct sg_report_journal j;

	memset(&j, 0, sizeof(j));
	if (len > 0 && line[0] == '\x1e')	/* json-seq's record separator */
		c.p++;
	if (object_fields(&c, &j) < 0) {
		sg_report_event_init(out);
		if (!str_is(j.ident, "sockguard"))
			return SG_REPORT_SKIP;
		out->reason = "broken JSON";
		return SG_REPORT_MALFORMED;
	}
	return sg_report_journal_event(&j, out);
}
