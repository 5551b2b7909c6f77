/*
 * The text output of `sockguard report`: what an operator reads in a
 * terminal.  Every line fits in 100 columns; long names are cut with "..."
 * and only the classes that occurred get a column.  Names from the logs
 * are printed through sg_esc_text(), so no control byte reaches the
 * terminal, and measured in columns, not bytes, so tables stay aligned
 * whatever the script.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#define WIDTH 100
#define ROWS_MAX 50		/* rows per program, host and process table */
#define TIMELINE_ROWS 60	/* at most, merging minutes or hours to fit */

typedef unsigned long long ull;

/* Column headings short enough for 8-character columns. */
static const char *const class_heads[SG_REPORT_NCLASS] = {
	"reset", "refused", "timeout", "unreach", "pipe", "aborted", "eof",
	"fd_exh",
};

static const char *const action_heads[SG_ACTION_COUNT] = {
	"returned", "retried", "sigpipe", "shed", "timedout",
};

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/*
 * Columns a code point takes on a terminal: 0 for combining marks and
 * zero-width characters, 2 for the East Asian wide and fullwidth blocks and
 * emoji, 1 otherwise; what wcwidth(3) answers in a UTF-8 locale for the
 * characters names are made of, without depending on the caller's locale.
 */
static int cp_cols(unsigned cp)
{
	if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
	    (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe00 && cp <= 0xfe0f) ||
	    (cp >= 0xfe20 && cp <= 0xfe2f) || cp == 0xfeff)
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
	    (cp >= 0x3041 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
	    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
	    (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) ||
	    (cp >= 0x1f300 && cp <= 0x1f64f) || (cp >= 0x1f900 && cp <= 0x1f9ff) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

/*
 * The code point at s, in the valid UTF-8 that sg_esc_text() leaves;
 * sets *len to its bytes.
 */
static unsigned next_cp(const char *s, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned cp = p[0];

	*len = cp < 0x80 ? 1 : cp < 0xe0 ? 2 : cp < 0xf0 ? 3 : 4;
	if (*len > 1)
		cp &= 0x7f >> *len;
	for (size_t i = 1; i < *len; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

/* Display columns of printable text. */
static size_t text_cols(const char *s)
{
	size_t cols = 0, len;

	for (; *s; s += len)
		cols += (size_t)cp_cols(next_cp(s, &len));
	return cols;
}

/*
 * A name from the logs made printable and cut to `width` columns (not
 * bytes: a name in Greek or Japanese lines up like one in ASCII), "..." at
 * the end when cut.  Returns the columns it takes.
 */
static size_t fit_name(char *buf, size_t size, const char *p, size_t n,
		       size_t width)
{
	size_t cols = 0, len, at = 0;

	sg_esc_text(buf, size, p, n, size - 1);
	if (text_cols(buf) <= width)
		return text_cols(buf);
	for (; buf[at]; at += len) {
		int w = cp_cols(next_cp(buf + at, &len));
		if (cols + (size_t)w + 3 > width)
			break;
		cols += (size_t)w;
	}
	memcpy(buf + at, "...", 4);
	return cols + 3;
}

/* Text padded with spaces to `width` columns (left-aligned). */
static void put_padded(FILE *out, const char *s, size_t width)
{
	size_t cols = text_cols(s);

	fputs(s, out);
	for (; cols < width; cols++)
		fputc(' ', out);
}

static void put_class_heads(FILE *out, unsigned mask)
{
	for (int c = 0; c < SG_REPORT_NCLASS; c++) {
		if (mask & (1u << c))
			fprintf(out, "%8s", class_heads[c]);
	}
}

static void put_class_counts(FILE *out, unsigned mask, const uint64_t *v)
{
	for (int c = 0; c < SG_REPORT_NCLASS; c++) {
		if (mask & (1u << c))
			fprintf(out, "%8llu", (ull)v[c]);
	}
}

static void put_header(const struct sg_report *r, FILE *out)
{
	const struct sg_report_counts *k = &r->counts;
	char a[40], b[40], zone[40];

	fprintf(out, "sockguard report\n");
	if (r->first != SG_REPORT_NO_TIME) {
		sg_report_fmt_time(a, sizeof(a), r->first, 1);
		sg_report_fmt_time(b, sizeof(b), r->last, 1);
		sg_report_fmt_iso(zone, sizeof(zone), r->last);
		fprintf(out, "  span     %s .. %s (local time, UTC%s)\n", a, b,
			zone + strlen(zone) - 6);
	}
	fprintf(out, "  events   %llu from %u hosts, %u programs\n", (ull)r->events,
		r->hosts.count + (r->hosts.other.total > 0),
		r->progs.count + (r->progs.other.total > 0));
	fprintf(out, "  input    %llu lines: %llu events, %llu suppressed "
		"(standing for %llu events), %llu summaries\n", (ull)k->lines,
		(ull)k->event_lines, (ull)k->suppressed_lines,
		(ull)k->suppressed_events, (ull)k->summary_lines);
	fprintf(out, "           %llu skipped (not sockguard events), %llu malformed, "
		"%llu filtered out\n", (ull)k->skipped, (ull)k->malformed,
		(ull)k->filtered);
	if (k->dropped)
		fprintf(out, "  lost     %llu log lines the shim could not send "
			"(dropped=)\n", (ull)k->dropped);
	if (k->untimed)
		fprintf(out, "  untimed  %llu events without a timestamp (not in the "
			"time line)\n", (ull)k->untimed);
}

static void put_classes(const struct sg_report *r, FILE *out)
{
	fprintf(out, "\nEvents by class\n  %-14s%10s%8s", "class", "events", "%");
	for (int a = 0; a < SG_ACTION_COUNT; a++)
		fprintf(out, "%10s", action_heads[a]);
	fputc('\n', out);
	for (int c = 0; c < SG_REPORT_NCLASS; c++) {
		if (!r->classes[c] && !(r->filter.classes & (1u << c)))
			continue;
		double pct = r->events ? 100.0 * (double)r->classes[c] /
			(double)r->events : 0.0;
		fprintf(out, "  %-14s%10llu%7.1f%%", sg_class_name(c),
			(ull)r->classes[c], pct);
		for (int a = 0; a < SG_ACTION_COUNT; a++)
			fprintf(out, "%10llu", (ull)r->class_actions[c][a]);
		fputc('\n', out);
	}
	fprintf(out, "  %-14s%10llu\n", "total", (ull)r->events);
	if (r->counts.suppressed_events)
		fprintf(out, "  (%llu of these were held back by the rate limit and "
			"counted from suppressed lines)\n",
			(ull)r->counts.suppressed_events);
}

static void put_deadlines(const struct sg_report *r, FILE *out)
{
	int any = 0;

	for (int d = SG_DEADLINE_NONE + 1; d < SG_DEADLINE_COUNT; d++) {
		if (!r->deadlines[d])
			continue;
		fprintf(out, "%s %s %llu", any ? "," : "  timeouts by deadline:",
			sg_deadline_name(d), (ull)r->deadlines[d]);
		any = 1;
	}
	if (any)
		fputc('\n', out);
}

/*
 * "nginx 400, curl 123, ..." from a peer's few programs or hosts, in at
 * most `width` columns; buf holds SEEN_BUF bytes.
 */
#define SEEN_BUF 256
static void fmt_seen(char *buf, size_t width, const struct sg_report_seen *s,
		     const struct sg_report_table *t)
{
	int order[SG_REPORT_PEER_SEEN], n = sg_report_seen_sorted(s, order);
	size_t len = 0, cols = 0;

	buf[0] = 0;
	for (int k = 0; k < n; k++) {
		const struct sg_report_entry *e = &t->entries[s->idx[order[k]]];
		char name[SG_REPORT_NAME_BUF], item[SG_REPORT_NAME_BUF + 32];
		size_t w = fit_name(name, sizeof(name), e->key, e->len, 20);
		int m = snprintf(item, sizeof(item), "%s%s %llu", k ? ", " : "",
				 name, (ull)s->n[order[k]]);
		size_t mcols = w + (size_t)m - strlen(name);
		if (cols + mcols + 5 > width || len + (size_t)m + 6 > SEEN_BUF) {
			strcpy(buf + len, len ? ", ..." : "...");
			return;
		}
		memcpy(buf + len, item, (size_t)m + 1);
		len += (size_t)m;
		cols += mcols;
	}
	if (s->other && cols + 5 <= width)
		strcpy(buf + len, len ? ", ..." : "...");
}

static void put_peer_row(const struct sg_report *r, FILE *out, int cls,
			 uint32_t i)
{
	const struct sg_report_entry *e = &r->peers[cls].entries[i];
	const struct sg_report_peer *seen = &r->peer_seen[cls][i];
	char name[SG_REPORT_NAME_BUF], progs[SEEN_BUF], hosts[SEEN_BUF];

	size_t cols = fit_name(name, sizeof(name), e->key, e->len, 64);
	fmt_seen(progs, 25, &seen->progs, &r->progs);
	fmt_seen(hosts, 24, &seen->hosts, &r->hosts);
	if (cols > 32) {
		/* A long peer (IPv6, unix path) gets a line of its own. */
		fprintf(out, "  %10llu  %s\n", (ull)e->total, name);
		name[0] = 0;
		fprintf(out, "  %10s  ", "");
	} else {
		fprintf(out, "  %10llu  ", (ull)e->total);
	}
	put_padded(out, name, 32);
	fputs("  ", out);
	put_padded(out, progs, 25);
	fprintf(out, "  %s\n", hosts);
}

static void put_peers_of(const struct sg_report *r, FILE *out, int cls)
{
	const struct sg_report_table *t = &r->peers[cls];
	uint32_t *order = sg_report_table_sorted(t, 0);
	uint32_t shown = t->count < (uint32_t)r->top ? t->count : (uint32_t)r->top;
	uint64_t rest = t->other.total;

	if (!order)
		return;
	fprintf(out, "\nTop peers: %s (%llu event%s, %u peer%s%s)\n",
		sg_class_name(cls), (ull)r->classes[cls], plural(r->classes[cls]),
		t->count, plural(t->count), t->other.total ? " and more" : "");
	fprintf(out, "  %10s  %-32s  %-25s  %s\n", "events", "peer", "programs",
		"hosts");
	for (uint32_t k = 0; k < shown; k++)
		put_peer_row(r, out, cls, order[k]);
	for (uint32_t k = shown; k < t->count; k++)
		sg_report_bump(&rest, t->entries[order[k]].total);
	if (rest)
		fprintf(out, "  %10llu  (other peers)\n", (ull)rest);
	free(order);
}

/* A table of names (programs or hosts) with a column per active class. */
static void put_names(const struct sg_report *r, FILE *out,
		      const struct sg_report_table *t, const char *title)
{
	unsigned mask = sg_report_active_classes(r);
	uint32_t *order = sg_report_table_sorted(t, 0);
	char name[SG_REPORT_NAME_BUF];

	if (!order || (t->count == 0 && !t->other.total)) {
		free(order);
		return;
	}
	fprintf(out, "\nBy %s\n  %-24s%9s", title, title, "events");
	put_class_heads(out, mask);
	fputc('\n', out);
	for (uint32_t k = 0; k < t->count && k < ROWS_MAX; k++) {
		const struct sg_report_entry *e = &t->entries[order[k]];
		fit_name(name, sizeof(name), e->key, e->len, 24);
		fputs("  ", out);
		put_padded(out, name, 24);
		fprintf(out, "%9llu", (ull)e->total);
		put_class_counts(out, mask, e->classes);
		fputc('\n', out);
	}
	struct sg_report_entry rest = t->other;
	for (uint32_t k = ROWS_MAX; k < t->count; k++) {
		sg_report_bump(&rest.total, t->entries[order[k]].total);
		for (int c = 0; c < SG_REPORT_NCLASS; c++)
			sg_report_bump(&rest.classes[c],
				       t->entries[order[k]].classes[c]);
	}
	if (rest.total) {
		fprintf(out, "  %-24s%9llu", "(other)", (ull)rest.total);
		put_class_counts(out, mask, rest.classes);
		fputc('\n', out);
	}
	free(order);
}

static void put_bar(FILE *out, uint64_t v, uint64_t max, int width)
{
	int n = max ? (int)((v * (uint64_t)width + max - 1) / max) : 0;

	fputs("  ", out);
	for (int i = 0; i < n; i++)
		fputc('#', out);
}

struct timeline {
	unsigned mask;
	uint64_t max;		/* the largest row, for the bars */
	int bar;		/* columns left for the bar */
};

static void put_row(FILE *out, const struct timeline *tl, int64_t at,
		    const struct sg_report_entry *e)
{
	char when[40];

	sg_report_fmt_time(when, sizeof(when), at, 0);
	fprintf(out, "  %-16s%9llu", when, (ull)e->total);
	put_class_counts(out, tl->mask, e->classes);
	if (tl->bar >= 10 && e->total)
		put_bar(out, e->total, tl->max, tl->bar);
	fputc('\n', out);
}

/* One row per interval from the first event to the last, empty ones too. */
static void put_timeline(const struct sg_report *r, FILE *out)
{
	struct sg_report_series s;
	struct timeline tl = { .mask = sg_report_active_classes(r) };
	char per[32];

	if (sg_report_series_make(r, TIMELINE_ROWS, &s) < 0)
		return;
	tl.max = s.max;
	tl.bar = WIDTH - 2 - 16 - 9 - 8 * __builtin_popcount(tl.mask) - 2;
	sg_report_fmt_step(per, sizeof(per), s.step);
	fprintf(out, "\nTime line (per %s, local time)\n  %-16s%9s", per,
		"start", "events");
	put_class_heads(out, tl.mask);
	fputc('\n', out);
	for (size_t i = 0; i < s.n; i++)
		put_row(out, &tl, s.from + (int64_t)i * s.step, &s.rows[i]);
	if (r->grains[s.grain].other.total)
		fprintf(out, "  %-16s%9llu\n", "(other)",
			(ull)r->grains[s.grain].other.total);
	sg_report_series_free(&s);
}

/* "reset=12 refused=3 returned=10": the summary's own words. */
static void put_process_counts(FILE *out, const struct sg_report_entry *e)
{
	int col = 6;

	fputs("      ", out);
	for (int i = 0; i < SG_REPORT_NCLASS + SG_ACTION_COUNT; i++) {
		int c = i < SG_REPORT_NCLASS, k = c ? i : i - SG_REPORT_NCLASS;
		uint64_t v = c ? e->classes[k] : e->actions[k];
		char item[64];
		if (!v)
			continue;
		int m = snprintf(item, sizeof(item), " %s=%llu",
				 c ? sg_class_name(k) : sg_action_name(k), (ull)v);
		if (col + m > WIDTH) {
			fputs("\n      ", out);
			col = 6;
		}
		fputs(item, out);
		col += m;
	}
	fputc('\n', out);
}

/* The key is "host NUL program NUL pid" (see add_summary). */
static void put_process(FILE *out, const struct sg_report_entry *e)
{
	const char *host = e->key, *prog = host + strlen(host) + 1;
	const char *pid = prog + strlen(prog) + 1;
	char h[SG_REPORT_NAME_BUF], p[SG_REPORT_NAME_BUF];

	fit_name(h, sizeof(h), host, strlen(host), 40);
	fit_name(p, sizeof(p), prog, strlen(prog), 40);
	fprintf(out, "  %s %s[%s]: %llu events\n", *h ? h : "-", *p ? p : "-",
		pid, (ull)e->total);
	put_process_counts(out, e);
}

static void put_processes(const struct sg_report *r, FILE *out)
{
	const struct sg_report_table *t = &r->processes;
	uint32_t *order = sg_report_table_sorted(t, 0);

	if (!order || (t->count == 0 && !t->other.total)) {
		free(order);
		return;
	}
	fprintf(out, "\nPer process (latest summary of each, from %llu summary line%s)\n",
		(ull)r->counts.summary_lines, plural(r->counts.summary_lines));
	for (uint32_t k = 0; k < t->count && k < ROWS_MAX; k++)
		put_process(out, &t->entries[order[k]]);
	if (t->count > ROWS_MAX)
		fprintf(out, "  (%u more processes)\n", t->count - ROWS_MAX);
	if (t->other.total)
		fprintf(out, "  (more processes than the %d kept: %llu events)\n",
			SG_REPORT_MAX_KEYS, (ull)t->other.total);
	free(order);
}

void sg_report_write_text(const struct sg_report *r, FILE *out)
{
	put_header(r, out);
	if (r->events) {
		put_classes(r, out);
		put_deadlines(r, out);
		for (int c = 0; c < SG_REPORT_NCLASS; c++) {
			if (r->classes[c] && r->top > 0)
				put_peers_of(r, out, c);
		}
		put_names(r, out, &r->progs, "program");
		put_names(r, out, &r->hosts, "host");
		put_timeline(r, out);
	}
	put_processes(r, out);
}
