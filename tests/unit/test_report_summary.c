/*
 * Summary lines in `sockguard report`: the shim writes one periodically
 * while its counters change and one at exit, each with the process's
 * totals so far, so every process is counted once, from its latest
 * summary; host, pid and start time tell processes apart.
 */
#include "test_report_util.h"

static struct sg_report r;

static void setup(void)
{
	report_setup(&r, NULL);
}

static void teardown(void)
{
	sg_report_free(&r);
}

TestSuite(report_summary, .init = setup, .fini = teardown);

#define SUM(time, host, pid, started, counts) \
	time " " host " sockguard[" pid "]: class=summary prog=nginx pid=" pid \
	" started=" started " " counts "\n"

static const struct sg_report_entry *process(const char *host, const char *pid,
					     const char *started)
{
	char key[128];
	size_t n = (size_t)snprintf(key, sizeof(key), "%s%cnginx%c%s", host, 0, 0, pid);

	if (started)
		n += 1 + (size_t)snprintf(key + n + 1, sizeof(key) - n - 1, "%s", started);
	return sg_report_table_find(&r.processes, key, n);
}

Test(report_summary, counts_each_process_once_from_its_latest_summary)
{
	/* Out of order, as when rotated files are read newest first. */
	feed_text(&r,
		  SUM("Nov 25 19:10:00", "web1", "42", "1795633000", "reset=7 returned=7")
		  SUM("Nov 25 19:00:00", "web1", "42", "1795633000", "reset=2 returned=2")
		  SUM("Nov 25 19:20:00", "web1", "42", "1795633000",
		      "reset=9 refused=1 returned=10")
		  SUM("Nov 25 19:05:00", "web1", "42", "1795633000", "reset=4 returned=4"));
	cr_expect_eq(r.counts.summary_lines, 4);
	cr_assert_eq(r.processes.count, 1);
	const struct sg_report_entry *e = process("web1", "42", "1795633000");
	cr_assert_not_null(e);
	cr_expect_eq(e->total, 10);
	cr_expect_eq(e->classes[SG_CLASS_RESET], 9);
	cr_expect_eq(e->classes[SG_CLASS_REFUSED], 1);
	cr_expect_eq(e->actions[SG_ACTION_RETURNED], 10);
	cr_expect_eq(r.events, 0, "summaries are not events");
}

Test(report_summary, tells_a_reused_pid_apart_by_its_start_time)
{
	feed_text(&r,
		  SUM("Nov 25 19:00:00", "web1", "42", "1795633000", "reset=5")
		  SUM("Nov 25 19:30:00", "web1", "42", "1795635000", "reset=3"));
	cr_expect_eq(r.processes.count, 2);
	cr_expect_eq(process("web1", "42", "1795633000")->total, 5);
	cr_expect_eq(process("web1", "42", "1795635000")->total, 3);
}

Test(report_summary, tells_the_same_pid_on_two_hosts_apart)
{
	feed_text(&r,
		  SUM("Nov 25 19:00:00", "web1", "42", "1795633000", "reset=5")
		  SUM("Nov 25 19:00:00", "web2", "42", "1795633000", "reset=3"));
	cr_expect_eq(r.processes.count, 2);
}

Test(report_summary, keys_a_summary_without_start_time_by_host_and_pid)
{
	feed_text(&r,
		  "Nov 25 19:00:00 web1 sockguard[42]: class=summary prog=nginx pid=42 reset=2\n"
		  "Nov 25 19:05:00 web1 sockguard[42]: class=summary prog=nginx pid=42 reset=6\n");
	cr_assert_eq(r.processes.count, 1);
	cr_expect_eq(process("web1", "42", NULL)->total, 6);
}

Test(report_summary, takes_the_last_read_among_untimed_summaries)
{
	feed_text(&r,
		  "sockguard[42]: class=summary prog=nginx pid=42 started=1 reset=8\n"
		  "sockguard[42]: class=summary prog=nginx pid=42 started=1 reset=3\n");
	cr_assert_eq(r.processes.count, 1);
	cr_expect_eq(process("", "42", "1")->total, 3);
}

Test(report_summary, reports_the_start_time_in_json)
{
	char *buf = NULL;
	size_t len = 0;

	feed_text(&r, SUM("Nov 25 19:00:00", "web1", "42", "1795633000", "reset=5")
		      "Nov 25 19:00:00 web1 sockguard[43]: class=summary prog=nginx pid=43 reset=1\n");
	FILE *out = open_memstream(&buf, &len);
	sg_report_write_json(&r, out);
	fclose(out);
	cr_expect_not_null(strstr(buf, "\"pid\": 42, \"started\": 1795633000, \"events\": 5"));
	cr_expect_not_null(strstr(buf, "\"pid\": 43, \"started\": null, \"events\": 1"));
	free(buf);
}
