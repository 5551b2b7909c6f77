/*
 * `sockguard report` at the edges of its input: counts that would pass
 * UINT64_MAX stay there instead of wrapping, timestamps that name no real
 * moment make the line malformed instead of being moved to another day,
 * and the writers cope with both.
 */
#include "test_report_util.h"

#define MAX_TEXT "18446744073709551615"
#define HALF "9223372036854775807"
#define BODY "class=reset op=recv action=returned prog=nginx peer=10.0.0.2:80"

static struct sg_report r;

static void setup(void)
{
	report_setup(&r, NULL);
}

static void teardown(void)
{
	sg_report_free(&r);
}

TestSuite(report_limits, .init = setup, .fini = teardown);

static uint64_t total_of(const struct sg_report_table *t, const char *key)
{
	const struct sg_report_entry *e = sg_report_table_find(t, key, strlen(key));
	return e ? e->total : 0;
}

Test(report_limits, saturates_repeated_counts_instead_of_wrapping)
{
	feed_text(&r,
		  "Nov 25 19:20:51 web1 sockguard[1]: message repeated " HALF " times: [ " BODY "]\n"
		  "Nov 25 19:20:52 web1 sockguard[1]: message repeated " HALF " times: [ " BODY "]\n"
		  "Nov 25 19:20:53 web1 sockguard[1]: " BODY "\n"
		  "Nov 25 19:20:54 web1 sockguard[1]: " BODY "\n");
	cr_expect_eq(r.events, UINT64_MAX);
	cr_expect_eq(r.classes[SG_CLASS_RESET], UINT64_MAX);
	cr_expect_eq(r.actions[SG_ACTION_RETURNED], UINT64_MAX);
	cr_expect_eq(r.class_actions[SG_CLASS_RESET][SG_ACTION_RETURNED], UINT64_MAX);
	cr_expect_eq(total_of(&r.hosts, "web1"), UINT64_MAX);
	cr_expect_eq(total_of(&r.progs, "nginx"), UINT64_MAX);
	cr_expect_eq(total_of(&r.peers[SG_CLASS_RESET], "10.0.0.2:80"), UINT64_MAX);
	cr_expect_eq(r.counts.event_lines, 4);
}

Test(report_limits, saturates_suppressed_counts_and_their_repeats)
{
	feed_text(&r,
		  "Nov 25 19:20:51 h sockguard[1]: message repeated 3 times: [ class=suppressed "
		  "count=" HALF " of=reset peer=10.0.0.2:80]\n"
		  "Nov 25 19:20:52 h sockguard[1]: class=suppressed count=" MAX_TEXT " of=reset\n");
	cr_expect_eq(r.counts.suppressed_events, UINT64_MAX);
	cr_expect_eq(r.classes[SG_CLASS_RESET], UINT64_MAX);
	cr_expect_eq(r.counts.suppressed_lines, 2);
}

Test(report_limits, saturates_lost_line_counts)
{
	feed_text(&r,
		  "Nov 25 19:20:51 h sockguard[1]: " BODY " dropped=" MAX_TEXT "\n"
		  "Nov 25 19:20:52 h sockguard[1]: " BODY " dropped=5\n");
	cr_expect_eq(r.counts.dropped, UINT64_MAX);
}

/* Each has the shape of a timestamp but names no real moment. */
static const char *const impossible[] = {
	"Feb 30 10:00:00 h sockguard[1]: " BODY,
	"Feb 29 10:00:00 h sockguard[1]: " BODY,	/* 2026 is a common year */
	"Apr 31 10:00:00 h sockguard[1]: " BODY,
	"Nov 25 23:59:60 h sockguard[1]: " BODY,
	"Nov 25 24:00:00 h sockguard[1]: " BODY,
	"Nov 25 19:60:00 h sockguard[1]: " BODY,
	"Nov 32 19:00:00 h sockguard[1]: " BODY,
	"Nov  0 19:00:00 h sockguard[1]: " BODY,
	"2026-02-29T10:00:00Z h sockguard[1]: " BODY,
	"2026-02-30T10:00:00+01:00 h sockguard[1]: " BODY,
	"2026-13-01T10:00:00Z h sockguard[1]: " BODY,
	"2026-00-10T10:00:00Z h sockguard[1]: " BODY,
	"2026-11-25T23:59:60Z h sockguard[1]: " BODY,
	"0000-01-01T00:00:00Z h sockguard[1]: " BODY,
	"1969-12-31T23:59:59Z h sockguard[1]: " BODY,
	"<28>1 2026-02-30T10:00:00.123456+00:00 h sockguard 1 reset - " BODY,
	"<28>1 0000-01-01T00:00:00Z h sockguard 1 reset - " BODY,
};

Test(report_limits, calls_impossible_timestamps_malformed)
{
	struct sg_report_event ev;
	size_t n = sizeof(impossible) / sizeof(impossible[0]);

	for (size_t i = 0; i < n; i++) {
		int rc = sg_report_parse_line(impossible[i], strlen(impossible[i]), &ev);
		cr_expect_eq(rc, SG_REPORT_MALFORMED, "%s", impossible[i]);
		if (rc == SG_REPORT_MALFORMED)
			cr_expect_str_eq(ev.reason, "impossible timestamp");
		feed_text(&r, impossible[i]);
	}
	cr_expect_eq(r.counts.malformed, n);
	cr_expect_eq(r.events, 0);
	cr_expect_eq(r.first, SG_REPORT_NO_TIME);
}

Test(report_limits, reads_the_days_that_exist)
{
	struct sg_report_event ev;
	const char *ok[] = {
		"2028-02-29T10:00:00Z h sockguard[1]: " BODY,
		"2000-02-29T10:00:00Z h sockguard[1]: " BODY,
		"1970-01-01T00:00:00Z h sockguard[1]: " BODY,
		"9999-12-31T23:59:59Z h sockguard[1]: " BODY,
		"Dec 31 23:59:59 h sockguard[1]: " BODY,
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_expect_eq(sg_report_parse_line(ok[i], strlen(ok[i]), &ev),
			     SG_REPORT_EVENT, "%s", ok[i]);
	sg_report_parse_line(ok[0], strlen(ok[0]), &ev);
	cr_expect_eq(ev.time, INT64_C(1835431200));	/* 2028-02-29T10:00:00Z */
	/* A year-less Feb 29 is read in a leap year, and only then. */
	sg_report_set_now(INT64_C(1836000000));		/* 2028-03-06 */
	cr_expect_eq(sg_report_parse_line("Feb 29 10:00:00 h sockguard[1]: " BODY,
					  strlen("Feb 29 10:00:00 h sockguard[1]: " BODY), &ev),
		     SG_REPORT_EVENT);
}

Test(report_limits, refuses_since_and_until_that_name_no_day)
{
	const char *bad[] = { "2026-02-29", "2026-02-30T10:00", "2026-11-25T23:59:60",
			      "0000-01-01", "2026-04-31 12:00" };
	int64_t t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(sg_report_parse_when(bad[i], TEST_NOW, &t), -1, "%s", bad[i]);
	cr_expect_eq(sg_report_parse_when("2028-02-29", TEST_NOW, &t), 0);
}

/* The writers print saturated counts as they are and finish. */
Test(report_limits, writes_saturated_counts_in_every_output)
{
	char *buf = NULL;
	size_t len = 0;

	feed_text(&r,
		  "Nov 25 19:20:51 web1 sockguard[1]: message repeated " MAX_TEXT " times: [ " BODY "]\n"
		  "Nov 25 21:20:51 web1 sockguard[1]: class=timeout op=connect action=returned "
		  "prog=curl peer=10.0.0.3:443\n");
	FILE *out = open_memstream(&buf, &len);
	cr_assert_not_null(out);
	sg_report_write_text(&r, out);
	sg_report_write_json(&r, out);
	cr_expect_eq(sg_report_write_svg(&r, out), 0);
	fclose(out);
	cr_expect_not_null(strstr(buf, "events   " MAX_TEXT " from 1 hosts"));
	cr_expect_not_null(strstr(buf, "\"events\": " MAX_TEXT ","));
	cr_expect_not_null(strstr(buf, "</svg>"));
	free(buf);
}
