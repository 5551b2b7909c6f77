/*
 * Counting parsed lines into the report: totals per class, action and
 * deadline; tables per peer (one per class), program, host, process and
 * time bucket.  Every table is capped, so what does not fit is counted as
 * "other" and the totals stay exact.
 */
#include "report.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

static struct sg_report_table *all_tables(struct sg_report *r, size_t i)
{
	if (i < SG_REPORT_NCLASS)
		return &r->peers[i];
	i -= SG_REPORT_NCLASS;
	if (i < SG_GRAIN_COUNT)
		return &r->grains[i];
	i -= SG_GRAIN_COUNT;
	struct sg_report_table *rest[] = { &r->progs, &r->hosts, &r->processes };
	return i < 3 ? rest[i] : NULL;
}

int sg_report_init(struct sg_report *r)
{
	struct sg_report_table *t;

	memset(r, 0, sizeof(*r));
	r->filter.since = r->filter.until = SG_REPORT_NO_TIME;
	r->filter.classes = (1u << SG_REPORT_NCLASS) - 1;
	r->first = r->last = SG_REPORT_NO_TIME;
	r->top = 10;
	r->max_quoted = 5;
	r->diag = stderr;
	for (size_t i = 0; (t = all_tables(r, i)); i++) {
		if (sg_report_table_init(t) < 0)
			goto fail;
	}
	for (int c = 0; c < SG_REPORT_NCLASS; c++) {
		r->peer_seen[c] = calloc(SG_REPORT_MAX_KEYS, sizeof(**r->peer_seen));
		if (!r->peer_seen[c])
			goto fail;
	}
	return 0;
fail:
	sg_report_free(r);
	return -1;
}

void sg_report_free(struct sg_report *r)
{
	struct sg_report_table *t;

	for (size_t i = 0; (t = all_tables(r, i)); i++)
		sg_report_table_free(t);
	for (int c = 0; c < SG_REPORT_NCLASS; c++) {
		free(r->peer_seen[c]);
		r->peer_seen[c] = NULL;
	}
}

/* Adds n events of class cls under key; returns the entry's index or -1. */
static int32_t count_key(struct sg_report_table *t, struct sg_report_str key,
			 int cls, uint64_t n)
{
	int32_t idx;
	struct sg_report_entry *e;

	if (key.n == 0)
		key = (struct sg_report_str){ "-", 1 };
	e = sg_report_table_get(t, key.p, key.n, &idx);
	if (!e)
		e = &t->other;
	sg_report_bump(&e->total, n);
	sg_report_bump(&e->classes[cls], n);
	return idx;
}

/* Remembers that a peer met this program or host (a few per peer). */
static void seen_add(struct sg_report_seen *s, int32_t idx, uint64_t n)
{
	for (int i = 0; idx >= 0 && i < SG_REPORT_PEER_SEEN; i++) {
		if (s->n[i] == 0)
			s->idx[i] = idx;
		if (s->idx[i] == idx) {
			sg_report_bump(&s->n[i], n);
			return;
		}
	}
	sg_report_bump(&s->other, n);
}

int sg_report_seen_sorted(const struct sg_report_seen *s,
			  int order[SG_REPORT_PEER_SEEN])
{
	int n = 0;

	for (int i = 0; i < SG_REPORT_PEER_SEEN && s->n[i]; i++) {
		int j = n++;
		for (; j > 0 && s->n[order[j - 1]] < s->n[i]; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	return n;
}

int64_t sg_report_grain_seconds(int grain)
{
	static const int64_t seconds[SG_GRAIN_COUNT] = { 60, 3600, 86400 };
	return seconds[grain];
}

/*
 * Buckets start on local minute, hour and day boundaries.  The local
 * offset is taken once, at the report's "now": a daylight-saving change
 * inside the span shifts day buckets by an hour, which a report can live with.
 */
int64_t sg_report_local_floor(int64_t t, int64_t step)
{
	static int64_t off = SG_REPORT_NO_TIME;
	int64_t x;

	if (off == SG_REPORT_NO_TIME) {
		time_t now = (time_t)sg_report_now();
		struct tm tm;
		off = localtime_r(&now, &tm) ? tm.tm_gmtoff : 0;
	}
	x = t + off;
	x -= ((x % step) + step) % step;
	return x - off;
}

static void count_time(struct sg_report *r, int64_t t, int cls, uint64_t n)
{
	if (t == SG_REPORT_NO_TIME) {
		sg_report_bump(&r->counts.untimed, n);
		return;
	}
	if (r->first == SG_REPORT_NO_TIME || t < r->first)
		r->first = t;
	if (r->last == SG_REPORT_NO_TIME || t > r->last)
		r->last = t;
	for (int g = 0; g < SG_GRAIN_COUNT; g++) {
		int64_t start = sg_report_local_floor(t, sg_report_grain_seconds(g));
		count_key(&r->grains[g],
			  (struct sg_report_str){ (const char *)&start, sizeof(start) },
			  cls, n);
	}
}

/*
 * A part of the process key: cut at a NUL (the separator) and at a length
 * that lets the whole key fit in SG_REPORT_MAX_KEY.
 */
static size_t key_part(char *dst, struct sg_report_str s)
{
	const char *nul = s.n ? memchr(s.p, 0, s.n) : NULL;
	size_t n = nul ? (size_t)(nul - s.p) : s.n;

	n = n < (SG_REPORT_MAX_KEY - 16) / 2 ? n : (SG_REPORT_MAX_KEY - 16) / 2;
	if (n)
		memcpy(dst, s.p, n);
	dst[n] = 0;
	return n + 1;
}

/*
 * Whether a summary replaces the one kept for its process: the latest one
 * counts, since each carries the process's totals so far; among summaries
 * with equal or missing times, the one read last.
 */
static int newer_summary(const struct sg_report_entry *e, int64_t t)
{
	return t == SG_REPORT_NO_TIME || e->time == SG_REPORT_NO_TIME ||
	       t >= e->time;
}

/*
 * Summaries: per-process totals, kept apart from the event totals.  The
 * shim writes one every log_summary_interval seconds while its counters
 * change and one at exit, each with the totals so far, so a process is
 * counted once, from its latest summary (sockguard(8), "report").  A
 * process is its host, program, pid and start time (started=, which tells
 * a reused pid apart); without started= host, program and pid.
 */
static void add_summary(struct sg_report *r, const struct sg_report_event *ev)
{
	char key[SG_REPORT_MAX_KEY + 48];
	struct sg_report_entry *e;
	int32_t idx;

	/* "host NUL prog NUL pid [NUL started]", decoded again by the writers. */
	size_t kn = key_part(key, ev->host);
	kn += key_part(key + kn, ev->prog);
	kn += (size_t)snprintf(key + kn, sizeof(key) - kn, "%ld", ev->pid);
	if (ev->started >= 0)
		kn += 1 + (size_t)snprintf(key + kn + 1, sizeof(key) - kn - 1,
					   "%lld", (long long)ev->started);
	sg_report_bump(&r->counts.summary_lines, 1);
	e = sg_report_table_get(&r->processes, key, kn, &idx);
	if (!e) {
		/* Past the cap a process cannot be told apart: counted as is. */
		e = &r->processes.other;
	} else {
		if (!newer_summary(e, ev->time))
			return;
		memset(e->classes, 0, sizeof(e->classes));
		memset(e->actions, 0, sizeof(e->actions));
		e->total = 0;
		e->time = ev->time;
	}
	for (int c = 0; c < SG_REPORT_NCLASS; c++) {
		if (!(r->filter.classes & (1u << c)))
			continue;
		sg_report_bump(&e->classes[c], ev->classes[c]);
		sg_report_bump(&e->total, ev->classes[c]);
	}
	for (int a = 0; a < SG_ACTION_COUNT; a++)
		sg_report_bump(&e->actions[a], ev->actions[a]);
}

void sg_report_add(struct sg_report *r, const struct sg_report_event *ev)
{
	uint64_t n = ev->count;
	int cls = ev->cls;

	if (ev->kind == SG_REPORT_KIND_SUMMARY) {
		add_summary(r, ev);
		return;
	}
	if (ev->kind == SG_REPORT_KIND_SUPPRESSED) {
		sg_report_bump(&r->counts.suppressed_lines, 1);
		sg_report_bump(&r->counts.suppressed_events, n);
	} else {
		sg_report_bump(&r->counts.event_lines, 1);
		if (ev->action >= 0) {
			sg_report_bump(&r->actions[ev->action], n);
			sg_report_bump(&r->class_actions[cls][ev->action], n);
		}
		sg_report_bump(&r->deadlines[ev->deadline], n);
	}
	sg_report_bump(&r->counts.dropped, ev->dropped);
	sg_report_bump(&r->classes[cls], n);
	sg_report_bump(&r->events, n);
	int32_t h = count_key(&r->hosts, ev->host, cls, n);
	int32_t p = count_key(&r->progs, ev->prog, cls, n);
	int32_t peer = count_key(&r->peers[cls], ev->peer, cls, n);
	if (peer >= 0) {
		seen_add(&r->peer_seen[cls][peer].progs, p, n);
		seen_add(&r->peer_seen[cls][peer].hosts, h, n);
	}
	count_time(r, ev->time, cls, n);
}

/*
 * fnmatch(3) wants NUL-terminated strings; a line's host or program is a
 * byte range, so it is copied (cut at the key limit, like the tables).
 */
static int glob_match(const char *glob, struct sg_report_str s)
{
	char buf[SG_REPORT_MAX_KEY + 1];
	size_t n = s.n < SG_REPORT_MAX_KEY ? s.n : SG_REPORT_MAX_KEY;

	if (n == 0)
		return fnmatch(glob, "-", 0) == 0;
	memcpy(buf, s.p, n);
	buf[n] = 0;
	return fnmatch(glob, buf, 0) == 0;
}

int sg_report_filter_pass(const struct sg_report_filter *f,
			  const struct sg_report_event *ev)
{
	if (f->since != SG_REPORT_NO_TIME &&
	    (ev->time == SG_REPORT_NO_TIME || ev->time < f->since))
		return 0;
	if (f->until != SG_REPORT_NO_TIME &&
	    (ev->time == SG_REPORT_NO_TIME || ev->time >= f->until))
		return 0;
	if (ev->kind != SG_REPORT_KIND_SUMMARY && !(f->classes & (1u << ev->cls)))
		return 0;
	if (f->host_glob && !glob_match(f->host_glob, ev->host))
		return 0;
	if (f->prog_glob && !glob_match(f->prog_glob, ev->prog))
		return 0;
	return 1;
}

/* The first few malformed lines are quoted, so the operator can look. */
static void quote_malformed(struct sg_report *r, const char *line, size_t len,
			    const char *name, uint64_t lineno, const char *why)
{
	char text[SG_REPORT_NAME_BUF];

	if (r->quoted >= r->max_quoted || !r->diag)
		return;
	r->quoted++;
	sg_esc_text(text, sizeof(text), line,
		       len < SG_REPORT_MAX_KEY ? len : SG_REPORT_MAX_KEY, 160);
	fprintf(r->diag, "sockguard report: %s:%llu: malformed line (%s): %s\n",
		name, (unsigned long long)lineno, why, text);
}

void sg_report_count_parsed(struct sg_report *r, int rc,
			    const struct sg_report_event *ev, const char *quote,
			    size_t qlen, const char *name, uint64_t lineno)
{
	sg_report_bump(&r->counts.lines, 1);
	if (rc == SG_REPORT_SKIP) {
		sg_report_bump(&r->counts.skipped, 1);
	} else if (rc == SG_REPORT_MALFORMED) {
		sg_report_bump(&r->counts.malformed, 1);
		quote_malformed(r, quote, qlen, name, lineno, ev->reason);
	} else if (sg_report_filter_pass(&r->filter, ev)) {
		sg_report_add(r, ev);
	} else {
		sg_report_bump(&r->counts.filtered, 1);
	}
}

void sg_report_feed_line(struct sg_report *r, const char *line, size_t len,
			 const char *name, uint64_t lineno)
{
	struct sg_report_event ev;
	int rc = sg_report_parse_line(line, len, &ev);

	sg_report_count_parsed(r, rc, &ev, line, len, name, lineno);
}

unsigned sg_report_active_classes(const struct sg_report *r)
{
	unsigned mask = 0;

	for (int c = 0; c < SG_REPORT_NCLASS; c++) {
		if (r->classes[c])
			mask |= 1u << c;
	}
	return mask;
}

int sg_report_pick_grain(const struct sg_report *r)
{
	int64_t span = r->last - r->first;
	int g = SG_GRAIN_MINUTE;

	if (r->first == SG_REPORT_NO_TIME)
		return SG_GRAIN_HOUR;
	if (span >= 3 * 3600)
		g = SG_GRAIN_HOUR;
	if (span > 7 * 86400)
		g = SG_GRAIN_DAY;
	while (g < SG_GRAIN_DAY && r->grains[g].dropped_keys > 0)
		g++;
	return g;
}
