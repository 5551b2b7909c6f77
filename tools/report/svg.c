/*
 * The --svg picture of `sockguard report`: events per time bucket as
 * stacked bars, one colour per class, with a legend, a title, a y axis of
 * round numbers and an x axis labelled with real local times.  Plain SVG
 * 1.1 with no script and no external font, so any browser renders it and
 * it stays valid XML whatever names the logs held.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#define W 1200
#define H 700
#define PLOT_L 90
#define PLOT_R 985
#define PLOT_T 90
#define PLOT_B 600
#define MAX_XLABELS 10
#define MAX_BARS 240

typedef unsigned long long ull;

/* Colour-blind-friendly where it matters most: reset, refused, timeout. */
static const char *const class_colours[SG_REPORT_NCLASS] = {
	"#d62728", "#ff7f0e", "#1f77b4", "#9467bd", "#8c564b", "#e377c2",
	"#7f7f7f", "#2ca02c",
};

struct chart {
	const struct sg_report *r;
	struct sg_report_series s;	/* the bars */
	int64_t step, from;	/* row length and the first row's start */
	int64_t n;		/* rows, empty ones included */
	uint64_t ymax;		/* top of the y axis, a round number */
	unsigned mask;		/* classes that occurred */
};

/* 5169820 as "5,169,820": legends are read, not parsed. */
static const char *grouped(char *buf, size_t len, uint64_t v)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%llu", (ull)v), o = 0;

	for (int i = 0; i < n && (size_t)o + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = 0;
	return buf;
}

static double x_of(const struct chart *c, int64_t i)
{
	return PLOT_L + (double)(PLOT_R - PLOT_L) * (double)i / (double)c->n;
}

static double y_of(const struct chart *c, uint64_t v)
{
	return PLOT_B - (double)(PLOT_B - PLOT_T) * (double)v / (double)c->ymax;
}

/* The smallest 1, 2 or 5 times a power of ten that is at least v. */
static uint64_t round_up(uint64_t v)
{
	uint64_t p = 1;

	/* Counts saturate at UINT64_MAX, which is then the top of the axis. */
	if (v > UINT64_C(5000000000000000000))
		return UINT64_MAX;
	while (p * 10 <= v)
		p *= 10;
	if (v <= p)
		return p;
	if (v <= 2 * p)
		return 2 * p;
	return v <= 5 * p ? 5 * p : 10 * p;
}

static int setup(struct chart *c, const struct sg_report *r)
{
	c->r = r;
	c->mask = sg_report_active_classes(r);
	if (sg_report_series_make(r, MAX_BARS, &c->s) < 0)
		return -1;
	c->step = c->s.step;
	c->from = c->s.from;
	c->n = (int64_t)c->s.n;
	/* Leave head room: the y axis ends on a round number of 4 or 5 ticks. */
	c->ymax = round_up(c->s.max < 4 ? 4 : c->s.max);
	return 0;
}

static void put_title(const struct chart *c, FILE *out)
{
	const struct sg_report *r = c->r;
	char a[40], b[40], zone[40], num[32], per[32];

	sg_report_fmt_time(a, sizeof(a), c->from, 0);
	sg_report_fmt_time(b, sizeof(b), c->from + c->n * c->step, 0);
	sg_report_fmt_iso(zone, sizeof(zone), c->from);
	sg_report_fmt_step(per, sizeof(per), c->step);
	fprintf(out, "<text x=\"%d\" y=\"38\" class=\"title\">sockguard: network "
		"faults per %s</text>\n", PLOT_L, per);
	fprintf(out, "<text x=\"%d\" y=\"64\" class=\"sub\">%s to %s (local time, "
		"UTC%s) \xc2\xb7 %s events \xc2\xb7 %u hosts \xc2\xb7 %u programs"
		"</text>\n", PLOT_L, a, b, zone + strlen(zone) - 6,
		grouped(num, sizeof(num), r->events),
		r->hosts.count, r->progs.count);
}

static void put_y_axis(const struct chart *c, FILE *out)
{
	uint64_t lead = c->ymax, tick;
	char per[32];

	/* 1 and 5 split into five ticks (0.2, 1), 2 into four (0.5). */
	while (lead >= 10)
		lead /= 10;
	int ticks = lead == 2 ? 4 : 5;
	tick = c->ymax / (uint64_t)ticks;
	sg_report_fmt_step(per, sizeof(per), c->step);
	for (int i = 0; i <= ticks; i++) {
		uint64_t v = tick * (uint64_t)i;
		double y = y_of(c, v);
		fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
			"class=\"grid\"/>\n", PLOT_L, y, PLOT_R, y);
		char num[32];
		fprintf(out, "<text x=\"%d\" y=\"%.1f\" class=\"ylabel\">%s</text>\n",
			PLOT_L - 8, y + 4, grouped(num, sizeof(num), v));
	}
	fprintf(out, "<text transform=\"translate(24 %d) rotate(-90)\" "
		"class=\"axis\">events per %s</text>\n", (PLOT_T + PLOT_B) / 2, per);
}

/* Seconds between x labels: a round interval giving at most MAX_XLABELS. */
static int64_t label_every(const struct chart *c)
{
	static const int64_t nice[] = {
		60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
		86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400, 91 * 86400,
		364 * 86400,
	};
	int64_t span = c->n * c->step;

	for (size_t i = 0; i < sizeof(nice) / sizeof(nice[0]); i++) {
		if (nice[i] >= c->step && span / nice[i] <= MAX_XLABELS)
			return nice[i];
	}
	return span / MAX_XLABELS / 86400 * 86400 + 86400;
}

/*
 * A tick and label at bucket i: the time of day on the first line, and the
 * date below it where the date changes (the year too, for day buckets).
 */
static void put_x_label(const struct chart *c, FILE *out, int64_t i,
			int *last_yday)
{
	time_t at = (time_t)(c->from + i * c->step);
	struct tm tm;
	char top[32], below[32] = "";
	double x = x_of(c, i);

	if (!localtime_r(&at, &tm))
		return;
	if (c->step >= 86400) {
		strftime(top, sizeof(top), "%b %d", &tm);
		if (tm.tm_year != *last_yday / 1000)
			strftime(below, sizeof(below), "%Y", &tm);
	} else {
		strftime(top, sizeof(top), "%H:%M", &tm);
		if (tm.tm_year * 1000 + tm.tm_yday != *last_yday)
			strftime(below, sizeof(below), "%a %b %d", &tm);
	}
	*last_yday = tm.tm_year * 1000 + tm.tm_yday;
	fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
		"class=\"tick\"/>\n", x, PLOT_B, x, PLOT_B + 6);
	fprintf(out, "<text x=\"%.1f\" y=\"%d\" class=\"xlabel\">%s</text>\n",
		x, PLOT_B + 22, top);
	if (below[0])
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" class=\"xdate\">%s</text>\n",
			x, PLOT_B + 40, below);
}

static void put_x_axis(const struct chart *c, FILE *out)
{
	int64_t every = label_every(c), off;
	time_t first = (time_t)c->from;
	struct tm tm;
	int last_yday = -1;

	off = localtime_r(&first, &tm) ? tm.tm_gmtoff : 0;
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axisline\"/>\n",
		PLOT_L, PLOT_B, PLOT_R, PLOT_B);
	for (int64_t i = 0; i <= c->n; i++) {
		if (((c->from + i * c->step + off) % every + every) % every == 0)
			put_x_label(c, out, i, &last_yday);
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"axis\">time (local)</text>\n",
		(PLOT_L + PLOT_R) / 2, PLOT_B + 70);
}

/* A tooltip for browsers: "2026-11-25 19:00: 12 events (reset 10, pipe 2)". */
static void put_bar_title(const struct chart *c, FILE *out, int64_t at,
			  const struct sg_report_entry *e)
{
	char when[40];
	int n = 0;

	sg_report_fmt_time(when, sizeof(when), at, 0);
	fprintf(out, "<title>%s: %llu events (", when, (ull)e->total);
	for (int k = 0; k < SG_REPORT_NCLASS; k++) {
		if (e->classes[k])
			fprintf(out, "%s%s %llu", n++ ? ", " : "", sg_class_name(k),
				(ull)e->classes[k]);
	}
	fputs(")</title>", out);
}

/* One stacked bar: classes in table order from the bottom up. */
static void put_bar(const struct chart *c, FILE *out, int64_t i,
		    const struct sg_report_entry *e)
{
	double x0 = x_of(c, i), x1 = x_of(c, i + 1), gap = (x1 - x0) * 0.12;
	uint64_t below = 0;

	if (x1 - x0 < 3)
		gap = 0;
	fputs("<g>", out);
	put_bar_title(c, out, c->from + i * c->step, e);
	for (int k = 0; k < SG_REPORT_NCLASS; k++) {
		if (!e->classes[k])
			continue;
		double top = y_of(c, sg_report_sat_add(below, e->classes[k]));
		double bottom = y_of(c, below);
		fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
			"fill=\"%s\"/>", x0 + gap, top, x1 - x0 - 2 * gap,
			bottom - top, class_colours[k]);
		below = sg_report_sat_add(below, e->classes[k]);
	}
	fputs("</g>\n", out);
}

static void put_bars(const struct chart *c, FILE *out)
{
	for (int64_t i = 0; i < c->n; i++) {
		if (c->s.rows[i].total)
			put_bar(c, out, i, &c->s.rows[i]);
	}
}

static void put_legend_row(FILE *out, int y, const char *colour,
			   const char *name, uint64_t v)
{
	char num[32];

	if (colour)
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" "
			"fill=\"%s\"/>\n", PLOT_R + 25, y - 12, colour);
	fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"legend\">%s</text>\n",
		PLOT_R + (colour ? 46 : 25), y, name);
	fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"legendn\">%s</text>\n",
		W - 20, y, grouped(num, sizeof(num), v));
}

/* Classes top-down in the order the bars stack them, then the total. */
static void put_legend(const struct chart *c, FILE *out)
{
	int y = PLOT_T;

	fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"legendhead\">class</text>\n",
		PLOT_R + 25, y);
	fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"legendhead legendn\">"
		"events</text>\n", W - 20, y);
	for (int k = SG_REPORT_NCLASS - 1; k >= 0; k--) {
		if (c->mask & (1u << k))
			put_legend_row(out, y += 26, class_colours[k], sg_class_name(k),
				       c->r->classes[k]);
	}
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		"class=\"grid\"/>\n", PLOT_R + 25, y + 10, W - 20, y + 10);
	put_legend_row(out, y + 32, NULL, "total", c->r->events);
}

static const char style[] =
	"<style>\n"
	"text { font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; fill: #222; }\n"
	".title { font-size: 22px; font-weight: bold; }\n"
	".sub { font-size: 14px; fill: #555; }\n"
	".axis { font-size: 14px; text-anchor: middle; fill: #444; }\n"
	".ylabel { font-size: 12px; text-anchor: end; }\n"
	".xlabel { font-size: 12px; text-anchor: middle; }\n"
	".xdate { font-size: 12px; text-anchor: middle; fill: #555; }\n"
	".legendhead { font-size: 13px; font-weight: bold; }\n"
	".legend { font-size: 13px; }\n"
	".legendn { font-size: 13px; text-anchor: end; fill: #555; }\n"
	".grid { stroke: #ddd; stroke-width: 1; }\n"
	".tick, .axisline { stroke: #444; stroke-width: 1; }\n"
	".empty { font-size: 18px; text-anchor: middle; fill: #777; }\n"
	"</style>\n";

static void put_empty(FILE *out)
{
	fprintf(out, "<text x=\"%d\" y=\"38\" class=\"title\">sockguard: network "
		"faults</text>\n", PLOT_L);
	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
		"stroke=\"#ccc\"/>\n", PLOT_L, PLOT_T, PLOT_R - PLOT_L, PLOT_B - PLOT_T);
	fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"empty\">no timed events in the "
		"input</text>\n", (PLOT_L + PLOT_R) / 2, (PLOT_T + PLOT_B) / 2);
}

int sg_report_write_svg(const struct sg_report *r, FILE *out)
{
	struct chart c = { 0 };

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n%s"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
		W, H, W, H, style);
	if (setup(&c, r) < 0) {
		put_empty(out);
	} else {
		put_title(&c, out);
		put_y_axis(&c, out);
		put_bars(&c, out);
		put_x_axis(&c, out);
		put_legend(&c, out);
		sg_report_series_free(&c.s);
	}
	fputs("</svg>\n", out);
	return ferror(out) ? -1 : 0;
}
