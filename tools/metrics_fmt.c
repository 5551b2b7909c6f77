/*
 * The exposition of `sockguard metrics`: the Prometheus text format 0.0.4
 * (what node_exporter's textfile collector reads) or OpenMetrics 1.0 text.
 * Every family has HELP and TYPE lines; counters end in _total; labels are
 * bounded: no peers, no pids, at most SG_METRICS_MAX_PROGRAMS program names
 * and "other".  Only series that are not zero are written, except the log
 * line outcomes, which always are.
 */
#include "metrics.h"

#include <inttypes.h>
#include <string.h>

#include "../policy/classify.h"
#include "escape.h"

static const char *const retry_names[SG_RETRY_COUNT] = {
	"eintr", "eagain", "accept", "partial"
};

static const char *const line_names[SG_LINES_COUNT] = {
	"written", "suppressed", "dropped"
};

static const char *const mode_names[SG_METRICS_NMODE] = {
	"harden", "observe", "off", "unknown"
};

static const char *action_label(int a)
{
	return a == SG_METRICS_NO_ACTION ? "none" : sg_action_name(a);
}

/* HELP and TYPE; an OpenMetrics counter family is named without _total. */
static void family(FILE *out, const char *name, const char *type,
		   const char *help, int openmetrics)
{
	size_t n = strlen(name);

	if (openmetrics && strcmp(type, "counter") == 0 && n > 6 &&
	    strcmp(name + n - 6, "_total") == 0)
		n -= 6;
	fprintf(out, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)n, name, help,
		(int)n, name, type);
}

static void program_label(FILE *out, const struct sg_metrics *m, int p)
{
	fputs("program=\"", out);
	sg_esc_put_prom_label(out, p == SG_METRICS_OTHER ? "other" : m->prog[p].name);
	fputs("\"}", out);
}

/* The label indexes in output order: named programs, then other. */
static int next_program(const struct sg_metrics *m, int p)
{
	if (p < 0)
		return m->nprog > 0 ? 0 : SG_METRICS_OTHER;
	if (p == SG_METRICS_OTHER)
		return -1;
	return p + 1 < m->nprog ? p + 1 : SG_METRICS_OTHER;
}

static void put_events(FILE *out, const struct sg_metrics *m, int om)
{
	family(out, "sockguard_events_total", "counter", "Network faults met by "
	       "processes running with the shim, by class, by what the shim did "
	       "(action; none when it did nothing) and by program.", om);
	for (int p = next_program(m, -1); p >= 0; p = next_program(m, p)) {
		const struct sg_metric_counts *t = &m->prog[p].total;
		for (int c = 0; c < SG_METRICS_NCLASS; c++)
			for (int a = 0; a < SG_METRICS_NACTION; a++) {
				if (!t->events[c][a])
					continue;
				fprintf(out, "sockguard_events_total{class=\"%s\","
					"action=\"%s\",", sg_class_name(c), action_label(a));
				program_label(out, m, p);
				fprintf(out, " %" PRIu64 "\n", t->events[c][a]);
			}
	}
}

static void put_retries(FILE *out, const struct sg_metrics *m, int om)
{
	family(out, "sockguard_retries_total", "counter", "Calls the shim "
	       "retried, by cause (eintr, eagain, accept, partial: the rest of a "
	       "short write) and by program.", om);
	for (int p = next_program(m, -1); p >= 0; p = next_program(m, p)) {
		for (int k = 0; k < SG_RETRY_COUNT; k++) {
			uint64_t v = m->prog[p].total.retries[k];
			if (!v)
				continue;
			fprintf(out, "sockguard_retries_total{kind=\"%s\",", retry_names[k]);
			program_label(out, m, p);
			fprintf(out, " %" PRIu64 "\n", v);
		}
	}
	family(out, "sockguard_sigpipe_suppressed_total", "counter", "SIGPIPE "
	       "signals the shim kept from killing a process, by program.", om);
	for (int p = next_program(m, -1); p >= 0; p = next_program(m, p)) {
		if (!m->prog[p].total.sigpipe)
			continue;
		fputs("sockguard_sigpipe_suppressed_total{", out);
		program_label(out, m, p);
		fprintf(out, " %" PRIu64 "\n", m->prog[p].total.sigpipe);
	}
}

static void put_lines(FILE *out, const struct sg_metrics *m, int om)
{
	uint64_t sum[SG_LINES_COUNT] = { 0 };

	for (int p = next_program(m, -1); p >= 0; p = next_program(m, p))
		for (int k = 0; k < SG_LINES_COUNT; k++) {
			uint64_t s = sum[k] + m->prog[p].total.lines[k];
			sum[k] = s < sum[k] ? UINT64_MAX : s;
		}
	family(out, "sockguard_log_lines_total", "counter", "Event log lines of "
	       "all processes, by outcome: written, suppressed by the rate limit, "
	       "dropped (the destination was missing or full).", om);
	for (int k = 0; k < SG_LINES_COUNT; k++)
		fprintf(out, "sockguard_log_lines_total{outcome=\"%s\"} %" PRIu64 "\n",
			line_names[k], sum[k]);
}

static void put_processes(FILE *out, const struct sg_metrics *m, int om)
{
	family(out, "sockguard_processes", "gauge", "Processes running with the "
	       "shim now, by mode (unknown: its counters could not be read) and "
	       "by program.", om);
	for (int p = next_program(m, -1); p >= 0; p = next_program(m, p))
		for (int k = 0; k < SG_METRICS_NMODE; k++) {
			if (!m->prog[p].procs[k])
				continue;
			fprintf(out, "sockguard_processes{mode=\"%s\",", mode_names[k]);
			program_label(out, m, p);
			fprintf(out, " %u\n", m->prog[p].procs[k]);
		}
}

int sg_metrics_write(FILE *out, const struct sg_metrics *m, int openmetrics)
{
	put_events(out, m, openmetrics);
	put_retries(out, m, openmetrics);
	put_lines(out, m, openmetrics);
	put_processes(out, m, openmetrics);
	if (openmetrics)
		fputs("# EOF\n", out);
	return ferror(out) ? -1 : 0;
}
