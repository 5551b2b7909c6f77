/*
 * The time line rows the text and SVG writers draw.  The tallies keep
 * events per minute, hour and day; a 2-hour span has 120 minutes, too many
 * rows for a terminal, so minutes are merged into 5, 10, 15 or 30, hours
 * into 2, 3, 6 or 12, days into weeks, until the rows fit.  Rows are
 * dense (empty ones included) so gaps in the faults show as gaps.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

/* Row lengths to try, in seconds, finest first. */
static const int64_t steps[] = {
	60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
	7 * 86400, 28 * 86400,
};

/* The first and last bucket start in the table. */
static void table_span(const struct sg_report_table *t, int64_t *lo, int64_t *hi)
{
	*lo = INT64_MAX;
	*hi = INT64_MIN;
	for (uint32_t k = 0; k < t->count; k++) {
		int64_t at = sg_report_bucket_time(&t->entries[k]);
		*lo = at < *lo ? at : *lo;
		*hi = at > *hi ? at : *hi;
	}
}

/* The shortest row at least as long as the table's buckets that fits. */
static int64_t pick_step(int64_t base, int64_t lo, int64_t hi, size_t max_rows)
{
	int64_t step = base;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i] < base)
			continue;
		step = steps[i];
		if ((hi - lo) / step + 2 <= (int64_t)max_rows)
			return step;
	}
	/* Decades of logs: as many whole days per row as it takes. */
	int64_t days = (hi - lo) / 86400 / (int64_t)(max_rows - 2) + 1;
	return step > days * 86400 ? step : days * 86400;
}

static void add_row(struct sg_report_series *s, const struct sg_report_entry *e)
{
	int64_t at = sg_report_local_floor(sg_report_bucket_time(e), s->step);
	size_t i = (size_t)((at - s->from) / s->step);

	if (i >= s->n)
		return;
	sg_report_bump(&s->rows[i].total, e->total);
	for (int c = 0; c < SG_REPORT_NCLASS; c++)
		sg_report_bump(&s->rows[i].classes[c], e->classes[c]);
	if (s->rows[i].total > s->max)
		s->max = s->rows[i].total;
}

int sg_report_series_make(const struct sg_report *r, size_t max_rows,
			  struct sg_report_series *s)
{
	int64_t lo, hi;

	memset(s, 0, sizeof(*s));
	s->grain = sg_report_pick_grain(r);
	const struct sg_report_table *t = &r->grains[s->grain];
	if (t->count == 0 || max_rows < 4)
		return -1;
	table_span(t, &lo, &hi);
	s->step = pick_step(sg_report_grain_seconds(s->grain), lo, hi, max_rows);
	s->from = sg_report_local_floor(lo, s->step);
	s->n = (size_t)((sg_report_local_floor(hi, s->step) - s->from) / s->step + 1);
	s->rows = calloc(s->n, sizeof(*s->rows));
	if (!s->rows)
		return -1;
	for (uint32_t k = 0; k < t->count; k++)
		add_row(s, &t->entries[k]);
	return 0;
}

void sg_report_series_free(struct sg_report_series *s)
{
	free(s->rows);
	s->rows = NULL;
}

void sg_report_fmt_step(char *buf, size_t len, int64_t step)
{
	static const struct { int64_t secs; const char *one, *many; } units[] = {
		{ 7 * 86400, "week", "weeks" }, { 86400, "day", "days" },
		{ 3600, "hour", "hours" }, { 60, "minute", "minutes" },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (step % units[i].secs)
			continue;
		int64_t n = step / units[i].secs;
		if (n == 1)
			snprintf(buf, len, "%s", units[i].one);
		else
			snprintf(buf, len, "%lld %s", (long long)n, units[i].many);
		return;
	}
	snprintf(buf, len, "%lld seconds", (long long)step);
}
