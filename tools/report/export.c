/*
 * `journalctl -o export` for `sockguard report` (systemd's "Journal Export
 * Format"): entries separated by an empty line, each field either
 * "NAME=value\n", or, for a value that holds a newline or bytes that are
 * not text, "NAME\n" then its length as a little-endian 64-bit number,
 * the bytes, and "\n".  The reader is binary-safe: a value may hold any
 * byte, and a field longer than the read buffer is stepped over in pieces.
 * Each entry counts as one line; the fields report uses are copied into a
 * bounded store, so an oversized MESSAGE makes its entry malformed, never
 * a crash.
 */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room for the fields report uses of one entry. */
#define STORE (64 * 1024)

struct entry {
	struct sg_report_journal j;
	char store[STORE];
	size_t used;
	int fields;		/* fields seen, used or not */
	int cut;		/* a field report uses did not fit */
};

struct exporter {
	struct sg_report *r;
	const char *name;
	uint64_t entries;
	struct entry e;
	uint64_t skip;		/* bytes of an oversized binary field still to skip */
	struct sg_report_str *skip_slot;	/* ...of a field report uses */
	int skip_line;		/* inside an over-long text field, up to its newline */
};

int sg_report_is_export(const char *buf, size_t n)
{
	size_t i = 2;

	if (n < 3 || buf[0] != '_' || buf[1] != '_')
		return 0;
	while (i < n && ((buf[i] >= 'A' && buf[i] <= 'Z') || buf[i] == '_' ||
			 (buf[i] >= '0' && buf[i] <= '9')))
		i++;
	return i < n && (buf[i] == '=' || buf[i] == '\n');
}

static struct sg_report_str *slot_of(struct entry *e, const char *name, size_t n)
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
		if (strlen(fields[i].name) == n && memcmp(fields[i].name, name, n) == 0)
			return (struct sg_report_str *)((char *)&e->j + fields[i].off);
	return NULL;
}

/* Copies (the start of) a value into the store; a slot may hold one value. */
static void keep(struct entry *e, struct sg_report_str *slot, const char *p,
		 size_t n, int complete)
{
	if (!slot)
		return;
	if (n > STORE - e->used) {
		n = STORE - e->used;
		complete = 0;
	}
	memcpy(e->store + e->used, p, n);
	*slot = (struct sg_report_str){ e->store + e->used, n };
	e->used += n;
	e->cut |= !complete;
}

/* The end of an entry: one record for the report. */
static void finish(struct exporter *x)
{
	struct sg_report_event ev;
	struct entry *e = &x->e;
	int rc;

	if (e->fields == 0)
		return;
	rc = sg_report_journal_event(&e->j, &ev);
	if (rc != SG_REPORT_SKIP && e->cut) {
		rc = SG_REPORT_MALFORMED;
		ev.reason = "a field longer than report keeps";
	}
	sg_report_count_parsed(x->r, rc, &ev, e->j.message.p, e->j.message.n,
			       x->name, ++x->entries);
	memset(&e->j, 0, sizeof(e->j));
	e->used = 0;
	e->fields = 0;
	e->cut = 0;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * A binary field whose name line ends at nl: 0 with *used set when it is
 * all in buf (or has been handed to the skipper), 1 when more must be read.
 */
static int binary_field(struct exporter *x, const char *p, const char *nl,
			const char *end, size_t cap, size_t *used)
{
	struct sg_report_str *slot = slot_of(&x->e, p, (size_t)(nl - p));
	const char *data = nl + 1 + 8;

	if ((size_t)(end - nl - 1) < 8)
		return 1;
	uint64_t size = le64((const unsigned char *)nl + 1);
	x->e.fields++;
	if (size < (uint64_t)(end - data)) {
		keep(&x->e, slot, data, (size_t)size, 1);
		*used = (size_t)(data + size + 1 - p);	/* and its newline */
		return 0;
	}
	if ((uint64_t)(end - p) < cap && size + 1 + (uint64_t)(data - p) <= cap)
		return 1;	/* fits in the buffer once more is read */
	keep(&x->e, slot, data, (size_t)(end - data), 0);
	x->skip = size + 1 - (uint64_t)(end - data);
	*used = (size_t)(end - p);
	return 0;
}

/* One field or entry end from p; returns the bytes used, 0 for "read more". */
static size_t next_record(struct exporter *x, const char *p, const char *end,
			  size_t cap)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t used = 0;

	if (!nl) {
		if ((size_t)(end - p) < cap)
			return 0;
		/* A text field longer than the buffer: cut, the rest skipped. */
		const char *eq = memchr(p, '=', (size_t)(end - p));
		x->e.fields++;
		if (eq)
			keep(&x->e, slot_of(&x->e, p, (size_t)(eq - p)), eq + 1,
			     (size_t)(end - eq - 1), 0);
		x->skip_line = 1;
		return (size_t)(end - p);
	}
	if (nl == p) {
		finish(x);
		return 1;
	}
	const char *eq = memchr(p, '=', (size_t)(nl - p));
	if (eq) {
		x->e.fields++;
		keep(&x->e, slot_of(&x->e, p, (size_t)(eq - p)), eq + 1,
		     (size_t)(nl - eq - 1), 1);
		return (size_t)(nl + 1 - p);
	}
	return binary_field(x, p, nl, end, cap, &used) ? 0 : used;
}

/* Steps over what an oversized field left; returns the bytes used. */
static size_t skip_rest(struct exporter *x, const char *p, size_t n)
{
	if (x->skip) {
		size_t k = x->skip < n ? (size_t)x->skip : n;
		x->skip -= k;
		return k;
	}
	const char *nl = memchr(p, '\n', n);
	if (!nl)
		return n;
	x->skip_line = 0;
	return (size_t)(nl + 1 - p);
}

static size_t feed(struct exporter *x, const char *buf, size_t have, size_t cap)
{
	size_t at = 0, k;

	while (at < have) {
		if (x->skip || x->skip_line)
			k = skip_rest(x, buf + at, have - at);
		else if ((k = next_record(x, buf + at, buf + have, cap)) == 0)
			break;
		at += k;
	}
	return at;
}

int sg_report_read_export(struct sg_report *r, int fd, const char *name,
			  char *buf, size_t have, size_t cap)
{
	struct exporter *x = calloc(1, sizeof(*x));
	int rc = 0;

	if (!x) {
		fprintf(stderr, "sockguard report: %s: out of memory\n", name);
		return -1;
	}
	x->r = r;
	x->name = name;
	for (;;) {
		size_t used = feed(x, buf, have, cap);
		memmove(buf, buf + used, have - used);
		have -= used;
		ssize_t got = read(fd, buf + have, cap - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			rc = got < 0 ? -1 : 0;
			break;
		}
		have += (size_t)got;
	}
	/*
	 * What is left is one record cut short (feed() always takes something
	 * from a full buffer, so there is room): a text field whose newline is
	 * missing is whole once given one; a binary field stays cut.
	 */
	if (rc == 0 && have > 0 && !x->skip && !x->skip_line) {
		buf[have++] = '\n';
		feed(x, buf, have, have);
	}
	if (rc == 0)
		finish(x);	/* an export may end without the empty line */
	free(x);
	return rc;
}
