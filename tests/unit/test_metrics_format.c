/*
 * The exposition and the state file of `sockguard metrics`, without
 * processes: the exact text for known counts, label escaping, the cap on
 * program labels, the OpenMetrics variant, and the state's round trip.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../tools/metrics.h"

static struct sg_metrics m;
static char *text;

static void setup(void)
{
	memset(&m, 0, sizeof(m));
	snprintf(m.boot_id, sizeof(m.boot_id), "boot-1");
}

static void teardown(void)
{
	sg_metrics_free(&m);
	free(text);
	text = NULL;
}

TestSuite(metrics_format, .init = setup, .fini = teardown);

static const char *render(int openmetrics)
{
	size_t len = 0;

	free(text);
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(sg_metrics_write(f, &m, openmetrics), 0);
	fclose(f);
	return text;
}

Test(metrics_format, writes_counters_with_help_type_and_labels)
{
	int p = sg_metrics_program(&m, "nginx");
	struct sg_metrics_program *g = &m.prog[p];

	g->total.events[SG_CLASS_RESET][SG_ACTION_RETURNED] = 12;
	g->total.events[SG_CLASS_EOF][SG_METRICS_NO_ACTION] = 2;
	g->total.retries[SG_RETRY_EAGAIN] = 3;
	g->total.sigpipe = 1;
	g->total.lines[SG_LINES_WRITTEN] = 14;
	g->procs[1] = 2;
	cr_expect_str_eq(render(0),
		"# HELP sockguard_events_total Network faults met by processes running "
		"with the shim, by class, by what the shim did (action; none when it did "
		"nothing) and by program.\n"
		"# TYPE sockguard_events_total counter\n"
		"sockguard_events_total{class=\"reset\",action=\"returned\",program=\"nginx\"} 12\n"
		"sockguard_events_total{class=\"eof\",action=\"none\",program=\"nginx\"} 2\n"
		"# HELP sockguard_retries_total Calls the shim retried, by cause (eintr, "
		"eagain, accept, partial: the rest of a short write) and by program.\n"
		"# TYPE sockguard_retries_total counter\n"
		"sockguard_retries_total{kind=\"eagain\",program=\"nginx\"} 3\n"
		"# HELP sockguard_sigpipe_suppressed_total SIGPIPE signals the shim kept "
		"from killing a process, by program.\n"
		"# TYPE sockguard_sigpipe_suppressed_total counter\n"
		"sockguard_sigpipe_suppressed_total{program=\"nginx\"} 1\n"
		"# HELP sockguard_log_lines_total Event log lines of all processes, by "
		"outcome: written, suppressed by the rate limit, dropped (the destination "
		"was missing or full).\n"
		"# TYPE sockguard_log_lines_total counter\n"
		"sockguard_log_lines_total{outcome=\"written\"} 14\n"
		"sockguard_log_lines_total{outcome=\"suppressed\"} 0\n"
		"sockguard_log_lines_total{outcome=\"dropped\"} 0\n"
		"# HELP sockguard_processes Processes running with the shim now, by mode "
		"(unknown: its counters could not be read) and by program.\n"
		"# TYPE sockguard_processes gauge\n"
		"sockguard_processes{mode=\"observe\",program=\"nginx\"} 2\n");
}

Test(metrics_format, writes_openmetrics_family_names_and_eof)
{
	m.prog[sg_metrics_program(&m, "curl")].total.events[0][0] = 1;
	const char *t = render(1);
	cr_expect(strstr(t, "# TYPE sockguard_events counter\n"), "%s", t);
	cr_expect(strstr(t, "# HELP sockguard_events Network"), "%s", t);
	cr_expect(strstr(t, "\nsockguard_events_total{class=\"reset\""), "%s", t);
	cr_expect(strstr(t, "# TYPE sockguard_processes gauge\n"), "%s", t);
	size_t n = strlen(t);
	cr_expect(n > 6 && strcmp(t + n - 6, "# EOF\n") == 0, "%s", t);
	cr_expect_null(strstr(render(0), "# EOF"));
}

Test(metrics_format, escapes_program_names_for_the_label_syntax)
{
	int p = sg_metrics_program(&m, "a\"b\\c\nd\x1b\xff");
	m.prog[p].total.sigpipe = 1;
	cr_expect(strstr(render(0), "{program=\"a\\\"b\\\\c\\\\x0ad\\\\x1b\\\\xff\"} 1\n"),
		  "%s", text);
	cr_expect_null(strchr(strstr(text, "{program="), '\x1b'));
}

Test(metrics_format, folds_programs_past_the_cap_into_other)
{
	char name[16];

	for (int i = 0; i < SG_METRICS_MAX_PROGRAMS; i++) {
		snprintf(name, sizeof(name), "prog%d", i);
		cr_assert_eq(sg_metrics_program(&m, name), i);
	}
	cr_expect_eq(sg_metrics_program(&m, "late"), SG_METRICS_OTHER);
	cr_expect_eq(sg_metrics_program(&m, "prog7"), 7, "a name keeps its label");
	cr_expect_eq(sg_metrics_program(&m, "other"), SG_METRICS_OTHER);
	m.prog[SG_METRICS_OTHER].total.sigpipe = 9;
	cr_expect(strstr(render(0), "sockguard_sigpipe_suppressed_total{program=\"other\"} 9\n"),
		  "%s", text);
}

Test(metrics_format, reads_counter_blocks_and_adds_without_wrapping)
{
	struct sg_counters c = { 0 };
	struct sg_metric_counts a, b;

	c.events[SG_CLASS_EOF] = 5;
	c.events[SG_CLASS_RESET] = 4;
	c.by_action[SG_CLASS_RESET][SG_ACTION_RETURNED] = 3;
	c.by_action[SG_CLASS_RESET][SG_ACTION_RETRIED] = 1;
	c.lines_dropped = 2;
	sg_metrics_from_counters(&a, &c);
	cr_expect_eq(a.events[SG_CLASS_EOF][SG_METRICS_NO_ACTION], 5);
	cr_expect_eq(a.events[SG_CLASS_RESET][SG_METRICS_NO_ACTION], 0);
	cr_expect_eq(a.events[SG_CLASS_RESET][SG_ACTION_RETRIED], 1);
	cr_expect_eq(a.lines[SG_LINES_DROPPED], 2);
	b = a;
	b.sigpipe = UINT64_MAX;
	sg_metrics_add(&b, &b);
	cr_expect_eq(b.sigpipe, UINT64_MAX);
	cr_expect_eq(b.events[SG_CLASS_EOF][SG_METRICS_NO_ACTION], 10);
	cr_expect(sg_metrics_any_below(&a, &b));
	cr_expect(!sg_metrics_any_below(&b, &a));
}

static char *state_path(void)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/sg-metrics-%d.state", (int)getpid());
	return path;
}

Test(metrics_format, keeps_the_state_across_runs_of_one_boot)
{
	struct sg_metrics back = { 0 };
	int p = sg_metrics_program(&m, "red is");

	m.prog[p].gone.events[SG_CLASS_REFUSED][0] = 17;
	m.prog[SG_METRICS_OTHER].gone.retries[1] = 3;
	struct sg_metrics_proc *r = sg_metrics_proc_add(&m);
	r->pid = 42, r->start_ticks = 9000, r->prog = p;
	r->last.lines[SG_LINES_WRITTEN] = 5;
	cr_assert_eq(sg_metrics_state_save(&m, state_path()), 0);

	snprintf(back.boot_id, sizeof(back.boot_id), "boot-1");
	cr_assert_eq(sg_metrics_state_load(&back, state_path()), 0);
	cr_expect_eq(back.nprog, 1);
	cr_expect_str_eq(back.prog[0].name, "red is");
	cr_expect_eq(back.prog[0].gone.events[SG_CLASS_REFUSED][0], 17);
	cr_expect_eq(back.prog[SG_METRICS_OTHER].gone.retries[1], 3);
	cr_assert_eq(back.nprocs, 1);
	cr_expect_eq(back.procs[0].pid, 42);
	cr_expect_eq(back.procs[0].start_ticks, 9000);
	cr_expect_eq(back.procs[0].last.lines[SG_LINES_WRITTEN], 5);
	sg_metrics_free(&back);

	/* Another boot's counts do not carry over; nor do broken files. */
	snprintf(back.boot_id, sizeof(back.boot_id), "boot-2");
	cr_assert_eq(sg_metrics_state_load(&back, state_path()), 0);
	cr_expect_eq(back.nprog, 0);
	cr_expect_eq(back.nprocs, 0);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "sed -i 's/^proc 42 9000 0/proc 42 x 0/' %s", state_path());
	cr_assert_eq(system(cmd), 0);
	snprintf(back.boot_id, sizeof(back.boot_id), "boot-1");
	cr_assert_eq(sg_metrics_state_load(&back, state_path()), 0);
	cr_expect_eq(back.nprog, 0);
	cr_expect_eq(back.prog[0].gone.events[SG_CLASS_REFUSED][0], 0);
	unlink(state_path());
	sg_metrics_free(&back);
}
