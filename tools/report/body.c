/*
 * The body of a sockguard log line (sockguard(8), "LOG LINES"): space-separated
 * key=value fields, class first.  Values never contain a space (the shim
 * escapes it as \x20), so a field ends at the next space.  Keys this
 * version does not know are skipped: a newer shim may add fields.  A field
 * this version does know but cannot read makes the line malformed, because
 * counting it would misstate the figures.
 */
#include "report.h"

#include <string.h>

struct field {
	struct sg_report_str key;
	struct sg_report_str val;
};

static int key_is(const struct field *f, const char *lit)
{
	size_t n = strlen(lit);
	return f->key.n == n && memcmp(f->key.p, lit, n) == 0;
}

/* A decimal count; one past UINT64_MAX is UINT64_MAX (never wraps). */
static int to_u64(struct sg_report_str s, uint64_t *v)
{
	uint64_t x = 0;

	if (s.n == 0)
		return -1;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		x = sg_report_sat_add(sg_report_sat_mul(x, 10),
				      (uint64_t)(s.p[i] - '0'));
	}
	*v = x;
	return 0;
}

static int malformed(struct sg_report_event *out, const char *why)
{
	out->reason = why;
	return SG_REPORT_MALFORMED;
}

/* Fields of an ordinary event line, and of a suppressed line. */
static int event_field(const struct field *f, struct sg_report_event *out)
{
	uint64_t v;

	if (key_is(f, "peer"))
		out->peer = f->val;
	else if (key_is(f, "prog"))
		out->prog = f->val;
	else if (key_is(f, "op"))
		out->op = f->val;
	else if (key_is(f, "action")) {
		out->action = sg_action_from_name(f->val.p, f->val.n);
		if (out->action < 0)
			return malformed(out, "unknown action");
	} else if (key_is(f, "deadline")) {
		int d;
		for (d = SG_DEADLINE_COUNT - 1; d > SG_DEADLINE_NONE; d--) {
			const char *name = sg_deadline_name(d);
			if (strlen(name) == f->val.n &&
			    memcmp(name, f->val.p, f->val.n) == 0)
				break;
		}
		if (d == SG_DEADLINE_NONE)
			return malformed(out, "unknown deadline");
		out->deadline = d;
	} else if (key_is(f, "dropped")) {
		if (to_u64(f->val, &out->dropped) < 0)
			return malformed(out, "dropped is not a number");
	} else if (key_is(f, "tries")) {
		if (to_u64(f->val, &v) < 0)
			return malformed(out, "tries is not a number");
	}
	return SG_REPORT_EVENT;
}

static int suppressed_field(const struct field *f, struct sg_report_event *out)
{
	if (key_is(f, "count")) {
		if (to_u64(f->val, &out->count) < 0)
			return malformed(out, "count is not a number");
	} else if (key_is(f, "of")) {
		out->cls = sg_class_from_name(f->val.p, f->val.n);
		if (out->cls < 0 || out->cls >= SG_REPORT_NCLASS)
			return malformed(out, "of is not an event class");
	} else {
		return event_field(f, out);
	}
	return SG_REPORT_EVENT;
}

/* Summary fields: CLASS=N and ACTION=N totals, pid=, started=, prog=. */
static int summary_field(const struct field *f, struct sg_report_event *out)
{
	uint64_t v;
	int i;

	if (key_is(f, "prog")) {
		out->prog = f->val;
		return SG_REPORT_EVENT;
	}
	if (key_is(f, "pid")) {
		if (to_u64(f->val, &v) < 0 || v > 0x7fffffff)
			return malformed(out, "pid is not a number");
		out->pid = (long)v;
	} else if (key_is(f, "started")) {
		if (to_u64(f->val, &v) < 0 || v > INT64_MAX)
			return malformed(out, "started is not a number");
		out->started = (int64_t)v;
	} else if ((i = sg_class_from_name(f->key.p, f->key.n)) >= 0 &&
		   i < SG_REPORT_NCLASS) {
		if (to_u64(f->val, &out->classes[i]) < 0)
			return malformed(out, "class total is not a number");
	} else if ((i = sg_action_from_name(f->key.p, f->key.n)) >= 0) {
		if (to_u64(f->val, &out->actions[i]) < 0)
			return malformed(out, "action total is not a number");
	}
	return SG_REPORT_EVENT;
}

/* The first field names the class and so how the rest is read. */
static int class_field(const struct field *f, struct sg_report_event *out)
{
	int cls = sg_class_from_name(f->val.p, f->val.n);

	if (cls < 0)
		return malformed(out, "unknown class");
	if (cls == SG_CLASS_SUPPRESSED) {
		out->kind = SG_REPORT_KIND_SUPPRESSED;
		out->count = 0;
	} else if (cls == SG_CLASS_SUMMARY) {
		out->kind = SG_REPORT_KIND_SUMMARY;
	} else {
		out->cls = cls;
	}
	return SG_REPORT_EVENT;
}

/* Splits "key=value" at the first '='; -1 when there is none. */
static int split_field(const char *p, size_t n, struct field *f)
{
	const char *eq = memchr(p, '=', n);

	if (!eq || eq == p)
		return -1;
	f->key = (struct sg_report_str){ p, (size_t)(eq - p) };
	f->val = (struct sg_report_str){ eq + 1, n - f->key.n - 1 };
	return 0;
}

static int body_field(const struct field *f, struct sg_report_event *out)
{
	if (out->kind == SG_REPORT_KIND_SUMMARY)
		return summary_field(f, out);
	if (out->kind == SG_REPORT_KIND_SUPPRESSED)
		return suppressed_field(f, out);
	return event_field(f, out);
}

/* A suppressed line without count= or of= cannot be counted anywhere. */
static int check_complete(struct sg_report_event *out, uint64_t repeat)
{
	if (out->kind == SG_REPORT_KIND_SUPPRESSED) {
		if (out->cls < 0)
			return malformed(out, "suppressed line without of=");
		if (out->count == 0)
			return malformed(out, "suppressed line without a count");
		out->count = sg_report_sat_mul(out->count, repeat);
	} else if (out->kind == SG_REPORT_KIND_EVENT) {
		out->count = repeat;
	}
	return SG_REPORT_EVENT;
}

int sg_report_parse_body(const char *body, size_t len,
			 struct sg_report_event *out)
{
	const char *p = body, *end = body + len;
	uint64_t repeat = out->count;
	int first = 1, rc;

	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t n = (size_t)((sp ? sp : end) - p);
		struct field f;
		if (n > 0) {
			if (split_field(p, n, &f) < 0)
				return malformed(out, "field without '='");
			rc = first ? class_field(&f, out) : body_field(&f, out);
			if (rc != SG_REPORT_EVENT)
				return rc;
			first = 0;
		}
		if (!sp)
			break;
		p = sp + 1;
	}
	if (first)
		return malformed(out, "no class");
	return check_complete(out, repeat);
}
