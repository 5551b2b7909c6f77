/*
 * The --json output of `sockguard report`: one document with the same
 * figures as the text, under keys that stay stable (sockguard(8), "report", "The JSON document").
 * Every class, action and deadline name is always present, zero or not, so
 * a consumer never has to guess whether a key is missing or zero.  Names
 * from the logs go through sg_esc_text(), which leaves only printable
 * ASCII and valid UTF-8: the document is always valid JSON.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

typedef unsigned long long ull;

static void put_name(FILE *out, const char *p, size_t n)
{
	char buf[SG_REPORT_NAME_BUF];

	if (n == 0)
		p = "-", n = 1;
	sg_esc_text(buf, sizeof(buf), p, n, sizeof(buf) - 1);
	sg_esc_put_json(out, buf);
}

static void put_time(FILE *out, int64_t t)
{
	char buf[48];

	if (t == SG_REPORT_NO_TIME) {
		fputs("null", out);
		return;
	}
	sg_report_fmt_iso(buf, sizeof(buf), t);
	fprintf(out, "\"%s\"", buf);
}

/* {"reset": 1, ...}: names from a table, one value per name. */
static void put_counts(FILE *out, const uint64_t *v, int n,
		       const char *(*name)(int), int first)
{
	fputc('{', out);
	for (int i = first; i < n; i++)
		fprintf(out, "%s\"%s\": %llu", i > first ? ", " : "", name(i),
			(ull)v[i]);
	fputc('}', out);
}

static void put_classes(FILE *out, const uint64_t *v)
{
	put_counts(out, v, SG_REPORT_NCLASS, sg_class_name, 0);
}

static void put_actions(FILE *out, const uint64_t *v)
{
	put_counts(out, v, SG_ACTION_COUNT, sg_action_name, 0);
}

static void put_input(const struct sg_report *r, FILE *out)
{
	const struct sg_report_counts *k = &r->counts;

	fprintf(out, "  \"input\": {\"lines\": %llu, \"event_lines\": %llu, "
		"\"suppressed_lines\": %llu, \"suppressed_events\": %llu, "
		"\"summary_lines\": %llu, \"skipped\": %llu, \"malformed\": %llu, "
		"\"filtered\": %llu, \"long_lines\": %llu, \"untimed_events\": %llu, "
		"\"dropped_by_shim\": %llu},\n", (ull)k->lines, (ull)k->event_lines,
		(ull)k->suppressed_lines, (ull)k->suppressed_events,
		(ull)k->summary_lines, (ull)k->skipped, (ull)k->malformed,
		(ull)k->filtered, (ull)k->long_lines, (ull)k->untimed,
		(ull)k->dropped);
}

static void put_glob(FILE *out, const char *key, const char *glob)
{
	fprintf(out, ", \"%s\": ", key);
	if (glob)
		put_name(out, glob, strlen(glob));
	else
		fputs("null", out);
}

static void put_filters(const struct sg_report *r, FILE *out)
{
	const struct sg_report_filter *f = &r->filter;
	int n = 0;

	fputs("  \"filters\": {\"since\": ", out);
	put_time(out, f->since);
	fputs(", \"until\": ", out);
	put_time(out, f->until);
	fputs(", \"classes\": [", out);
	for (int c = 0; c < SG_REPORT_NCLASS; c++) {
		if (f->classes & (1u << c))
			fprintf(out, "%s\"%s\"", n++ ? ", " : "", sg_class_name(c));
	}
	fputc(']', out);
	put_glob(out, "host", f->host_glob);
	put_glob(out, "program", f->prog_glob);
	fprintf(out, ", \"top\": %d},\n", r->top);
}

static void put_totals(const struct sg_report *r, FILE *out)
{
	fprintf(out, "  \"totals\": {\"events\": %llu, \"classes\": ", (ull)r->events);
	put_classes(out, r->classes);
	fputs(", \"actions\": ", out);
	put_actions(out, r->actions);
	fputs(", \"deadlines\": ", out);
	put_counts(out, r->deadlines, SG_DEADLINE_COUNT, sg_deadline_name, 1);
	fputs(", \"class_actions\": {", out);
	for (int c = 0; c < SG_REPORT_NCLASS; c++) {
		fprintf(out, "%s\"%s\": ", c ? ", " : "", sg_class_name(c));
		put_actions(out, r->class_actions[c]);
	}
	fputs("}},\n", out);
}

/* [{"name": "nginx", "events": 400}, ...] for the programs or hosts of a peer. */
static void put_seen(FILE *out, const struct sg_report_seen *s,
		     const struct sg_report_table *t)
{
	int order[SG_REPORT_PEER_SEEN], n = sg_report_seen_sorted(s, order);

	fputc('[', out);
	for (int k = 0; k < n; k++) {
		const struct sg_report_entry *e = &t->entries[s->idx[order[k]]];
		fputs(k ? ", {\"name\": " : "{\"name\": ", out);
		put_name(out, e->key, e->len);
		fprintf(out, ", \"events\": %llu}", (ull)s->n[order[k]]);
	}
	fputc(']', out);
}

static void put_peer(const struct sg_report *r, FILE *out, int cls, uint32_t i)
{
	const struct sg_report_entry *e = &r->peers[cls].entries[i];
	const struct sg_report_peer *p = &r->peer_seen[cls][i];

	fputs("{\"peer\": ", out);
	put_name(out, e->key, e->len);
	fprintf(out, ", \"events\": %llu, \"programs\": ", (ull)e->total);
	put_seen(out, &p->progs, &r->progs);
	fprintf(out, ", \"programs_other_events\": %llu, \"hosts\": ",
		(ull)p->progs.other);
	put_seen(out, &p->hosts, &r->hosts);
	fprintf(out, ", \"hosts_other_events\": %llu}", (ull)p->hosts.other);
}

static void put_peers_of(const struct sg_report *r, FILE *out, int cls)
{
	const struct sg_report_table *t = &r->peers[cls];
	uint32_t *order = sg_report_table_sorted(t, 0);
	uint64_t rest = t->other.total;
	uint32_t k;

	fprintf(out, "    \"%s\": {\"events\": %llu, \"distinct\": %u, "
		"\"capped\": %s, \"top\": [", sg_class_name(cls),
		(ull)r->classes[cls], t->count, t->dropped_keys ? "true" : "false");
	for (k = 0; order && k < t->count && k < (uint32_t)r->top; k++) {
		fputs(k ? ",\n      " : "\n      ", out);
		put_peer(r, out, cls, order[k]);
	}
	for (; order && k < t->count; k++)
		sg_report_bump(&rest, t->entries[order[k]].total);
	fprintf(out, "], \"other_events\": %llu}", (ull)rest);
	free(order);
}

static void put_peers(const struct sg_report *r, FILE *out)
{
	fputs("  \"peers\": {\n", out);
	for (int c = 0; c < SG_REPORT_NCLASS; c++) {
		put_peers_of(r, out, c);
		fputs(c + 1 < SG_REPORT_NCLASS ? ",\n" : "\n", out);
	}
	fputs("  },\n", out);
}

/* "programs" or "hosts": every entry kept, and what went past the cap. */
static void put_names(FILE *out, const char *title,
		      const struct sg_report_table *t)
{
	uint32_t *order = sg_report_table_sorted(t, 0);

	fprintf(out, "  \"%s\": {\"distinct\": %u, \"capped\": %s, \"items\": [",
		title, t->count, t->dropped_keys ? "true" : "false");
	for (uint32_t k = 0; order && k < t->count; k++) {
		const struct sg_report_entry *e = &t->entries[order[k]];
		fputs(k ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
		put_name(out, e->key, e->len);
		fprintf(out, ", \"events\": %llu, \"classes\": ", (ull)e->total);
		put_classes(out, e->classes);
		fputc('}', out);
	}
	fprintf(out, "], \"other\": {\"events\": %llu, \"classes\": ",
		(ull)t->other.total);
	put_classes(out, t->other.classes);
	fputs("}},\n", out);
	free(order);
}

static void put_timeline(const struct sg_report *r, FILE *out)
{
	static const char *const grain_names[] = { "minute", "hour", "day" };
	int g = sg_report_pick_grain(r);
	const struct sg_report_table *t = &r->grains[g];
	uint32_t *order = sg_report_table_sorted(t, 1);

	fprintf(out, "  \"timeline\": {\"bucket\": \"%s\", \"bucket_seconds\": %lld, "
		"\"buckets\": [", grain_names[g], (long long)sg_report_grain_seconds(g));
	for (uint32_t k = 0; order && k < t->count; k++) {
		const struct sg_report_entry *e = &t->entries[order[k]];
		int64_t at = sg_report_bucket_time(e);
		fputs(k ? ",\n    {\"start\": " : "\n    {\"start\": ", out);
		put_time(out, at);
		fprintf(out, ", \"epoch\": %lld, \"events\": %llu, \"classes\": ",
			(long long)at, (ull)e->total);
		put_classes(out, e->classes);
		fputc('}', out);
	}
	fprintf(out, "], \"other_events\": %llu},\n", (ull)t->other.total);
	free(order);
}

/* The process key is "host NUL program NUL pid [NUL started]" (add_summary). */
static void put_process(FILE *out, const struct sg_report_entry *e)
{
	const char *host = e->key, *prog = host + strlen(host) + 1;
	const char *pid = prog + strlen(prog) + 1;
	const char *started = pid + strlen(pid) + 1;
	int has_started = started < e->key + e->len;

	fputs("{\"host\": ", out);
	put_name(out, host, strlen(host));
	fputs(", \"program\": ", out);
	put_name(out, prog, strlen(prog));
	fprintf(out, ", \"pid\": %s, \"started\": %s, \"events\": %llu, \"classes\": ",
		strcmp(pid, "-1") == 0 ? "null" : pid,
		has_started ? started : "null", (ull)e->total);
	put_classes(out, e->classes);
	fputs(", \"actions\": ", out);
	put_actions(out, e->actions);
	fputc('}', out);
}

static void put_processes(const struct sg_report *r, FILE *out)
{
	const struct sg_report_table *t = &r->processes;
	uint32_t *order = sg_report_table_sorted(t, 0);

	fprintf(out, "  \"processes\": {\"distinct\": %u, \"capped\": %s, \"items\": [",
		t->count, t->dropped_keys ? "true" : "false");
	for (uint32_t k = 0; order && k < t->count; k++) {
		fputs(k ? ",\n    " : "\n    ", out);
		put_process(out, &t->entries[order[k]]);
	}
	fprintf(out, "], \"other\": {\"events\": %llu, \"classes\": ",
		(ull)t->other.total);
	put_classes(out, t->other.classes);
	fputs(", \"actions\": ", out);
	put_actions(out, t->other.actions);
	fputs("}}\n", out);
	free(order);
}

void sg_report_write_json(const struct sg_report *r, FILE *out)
{
	fputs("{\n  \"schema\": \"sockguard-report/1\",\n  \"generated\": ", out);
	put_time(out, sg_report_now());
	fputs(",\n  \"span\": {\"first\": ", out);
	put_time(out, r->first);
	fputs(", \"last\": ", out);
	put_time(out, r->last);
	fputs("},\n", out);
	put_input(r, out);
	put_filters(r, out);
	put_totals(r, out);
	put_peers(r, out);
	put_names(out, "programs", &r->progs);
	put_names(out, "hosts", &r->hosts);
	put_timeline(r, out);
	put_processes(r, out);
	fputs("}\n", out);
}
