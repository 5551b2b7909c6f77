/*
 * The line parser of `sockguard report`: every header format it reads,
 * the body fields of the log line (sockguard(8)), what is skipped, what is
 * malformed, and that no bytes make it misbehave.
 */
#include "test_report_util.h"

#include <time.h>

#define BODY "class=reset op=recv errno=ECONNRESET action=returned prog=nginx " \
	"fd=7 proto=tcp local=10.0.0.1:80 peer=10.0.0.2:53422 state=CLOSE " \
	"rtt_us=180 retrans=0"

/* 2026-11-25T19:20:51Z */
#define T_19_20_51 INT64_C(1795634451)

static struct sg_report_event ev;

static int parse(const char *line)
{
	return sg_report_parse_line(line, strlen(line), &ev);
}

static void setup(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	sg_report_set_now(TEST_NOW);
}

TestSuite(report_parse, .init = setup);

static void expect_reset_event(const char *host, long pid)
{
	cr_expect_eq(ev.kind, SG_REPORT_KIND_EVENT);
	cr_expect_eq(ev.cls, SG_CLASS_RESET);
	cr_expect_eq(ev.action, SG_ACTION_RETURNED);
	cr_expect(str_is(ev.prog, "nginx"));
	cr_expect(str_is(ev.peer, "10.0.0.2:53422"));
	cr_expect(str_is(ev.op, "recv"));
	cr_expect(str_is(ev.host, host), "host is '%.*s'", (int)ev.host.n, ev.host.p);
	cr_expect_eq(ev.pid, pid);
	cr_expect_eq(ev.count, 1);
	cr_expect_eq(ev.time, T_19_20_51, "time %lld", (long long)ev.time);
}

Test(report_parse, reads_rsyslog_traditional_file_format)
{
	cr_assert_eq(parse("Nov 25 19:20:51 web1 sockguard[4242]: " BODY), SG_REPORT_EVENT);
	expect_reset_event("web1", 4242);
}

Test(report_parse, reads_the_datagram_the_shim_sends)
{
	cr_assert_eq(parse("<28>Nov 25 19:20:51 sockguard[4242]: " BODY), SG_REPORT_EVENT);
	expect_reset_event("", 4242);
}

Test(report_parse, reads_rfc3164_with_pri_and_host)
{
	cr_assert_eq(parse("<28>Nov 25 19:20:51 web1 sockguard[4242]: " BODY), SG_REPORT_EVENT);
	expect_reset_event("web1", 4242);
}

Test(report_parse, reads_rfc5424)
{
	cr_assert_eq(parse("<28>1 2026-11-25T19:20:51.123Z web1 sockguard 4242 - - " BODY),
		     SG_REPORT_EVENT);
	expect_reset_event("web1", 4242);
}

Test(report_parse, reads_rfc5424_as_the_shim_writes_it)
{
	cr_assert_eq(parse("<28>1 2026-11-25T19:20:51.123456+00:00 web1 sockguard 4242 "
			   "reset - " BODY), SG_REPORT_EVENT);
	expect_reset_event("web1", 4242);
}

/* rsyslog re-renders an RFC 5424 message with a tag that has no colon. */
Test(report_parse, reads_a_tag_without_colon_when_a_body_follows)
{
	cr_assert_eq(parse("2026-11-25T19:20:51.123456+00:00 web1 sockguard[4242] " BODY),
		     SG_REPORT_EVENT);
	expect_reset_event("web1", 4242);
	cr_assert_eq(parse("Nov 25 19:20:51 web1 sockguard[4242] " BODY), SG_REPORT_EVENT);
	expect_reset_event("web1", 4242);
	cr_assert_eq(parse("Nov 25 19:20:51 sockguard sockguard[4242]: " BODY),
		     SG_REPORT_EVENT);
	expect_reset_event("sockguard", 4242);
	cr_expect_eq(parse("Nov 25 19:20:51 web1 sockguard[4242] started"), SG_REPORT_SKIP);
	cr_expect_eq(parse("Nov 25 19:20:51 sockguard sshd[1]: class=reset"), SG_REPORT_SKIP);
}

Test(report_parse, reads_rfc5424_with_structured_data_and_bom)
{
	cr_assert_eq(parse("<28>1 2026-11-25T20:20:51.5+01:00 web1 sockguard 4242 ID7 "
			   "[origin ip=\"10.0.0.1\" x=\"a\\\"]b\"][meta seq=\"1\"] "
			   "\xef\xbb\xbf" BODY), SG_REPORT_EVENT);
	expect_reset_event("web1", 4242);
}

Test(report_parse, reads_rfc5424_with_nil_values)
{
	cr_assert_eq(parse("<28>1 - - sockguard - - - " BODY), SG_REPORT_EVENT);
	cr_expect_eq(ev.time, SG_REPORT_NO_TIME);
	cr_expect_eq(ev.host.n, 0);
	cr_expect_eq(ev.pid, -1);
}

Test(report_parse, reads_rsyslog_high_precision_format)
{
	cr_assert_eq(parse("2026-11-25T19:20:51.123456+00:00 web1 sockguard[4242]: " BODY),
		     SG_REPORT_EVENT);
	expect_reset_event("web1", 4242);
}

Test(report_parse, reads_journalctl_short_iso_both_offsets)
{
	cr_assert_eq(parse("2026-11-25T19:20:51+0000 web1 sockguard[4242]: " BODY),
		     SG_REPORT_EVENT);
	expect_reset_event("web1", 4242);
	cr_assert_eq(parse("2026-11-25T21:20:51+02:00 web1 sockguard[4242]: " BODY),
		     SG_REPORT_EVENT);
	expect_reset_event("web1", 4242);
}

Test(report_parse, reads_journalctl_short_precise)
{
	cr_assert_eq(parse("Nov 25 19:20:51.123456 web1 sockguard[4242]: " BODY),
		     SG_REPORT_EVENT);
	expect_reset_event("web1", 4242);
}

Test(report_parse, reads_space_padded_day_and_tag_without_pid)
{
	cr_assert_eq(parse("Nov  5 07:08:09 web1 sockguard: " BODY), SG_REPORT_EVENT);
	cr_expect_eq(ev.pid, -1);
	cr_expect_eq(ev.time, INT64_C(1793862489), "time %lld", (long long)ev.time);
}

Test(report_parse, reads_a_line_without_header_as_from_stderr)
{
	cr_assert_eq(parse("sockguard[99]: " BODY), SG_REPORT_EVENT);
	cr_expect_eq(ev.time, SG_REPORT_NO_TIME);
	cr_expect_eq(ev.pid, 99);
}

Test(report_parse, tolerates_crlf_and_extra_spaces)
{
	cr_assert_eq(parse("Nov 25 19:20:51 web1 sockguard[4242]:   " BODY "  \r"),
		     SG_REPORT_EVENT);
	expect_reset_event("web1", 4242);
}

Test(report_parse, places_a_yearless_date_in_the_current_year)
{
	sg_report_set_now(INT64_C(1767398400));	/* 2026-01-03T00:00:00Z */
	cr_assert_eq(parse("Jan  2 10:00:00 h sockguard[1]: " BODY), SG_REPORT_EVENT);
	cr_expect_eq(ev.time, INT64_C(1767348000));	/* 2026-01-02T10:00Z */
}

Test(report_parse, places_a_future_yearless_date_in_the_previous_year)
{
	sg_report_set_now(INT64_C(1767398400));	/* 2026-01-03T00:00:00Z */
	cr_assert_eq(parse("Dec 31 23:59:59 h sockguard[1]: " BODY), SG_REPORT_EVENT);
	cr_expect_eq(ev.time, INT64_C(1767225599));	/* 2025-12-31T23:59:59Z */
}

Test(report_parse, reads_suppressed_lines_as_counts_of_their_class)
{
	cr_assert_eq(parse("<28>Nov 25 19:20:51 sockguard[1]: class=suppressed count=17 "
			   "of=timeout peer=10.0.0.9:443 prog=curl"), SG_REPORT_EVENT);
	cr_expect_eq(ev.kind, SG_REPORT_KIND_SUPPRESSED);
	cr_expect_eq(ev.cls, SG_CLASS_TIMEOUT);
	cr_expect_eq(ev.count, 17);
	cr_expect(str_is(ev.peer, "10.0.0.9:443"));
}

Test(report_parse, reads_summary_totals_per_class_and_action)
{
	cr_assert_eq(parse("<28>Nov 25 19:20:51 sockguard[4242]: class=summary prog=nginx "
			   "pid=4242 reset=12 refused=3 fd_exhausted=1 returned=10 "
			   "retried=5 shed=1 future_total=4"), SG_REPORT_EVENT);
	cr_expect_eq(ev.kind, SG_REPORT_KIND_SUMMARY);
	cr_expect_eq(ev.classes[SG_CLASS_RESET], 12);
	cr_expect_eq(ev.classes[SG_CLASS_REFUSED], 3);
	cr_expect_eq(ev.classes[SG_CLASS_FD_EXHAUSTED], 1);
	cr_expect_eq(ev.actions[SG_ACTION_RETURNED], 10);
	cr_expect_eq(ev.actions[SG_ACTION_RETRIED], 5);
	cr_expect_eq(ev.actions[SG_ACTION_SHED], 1);
	cr_expect_eq(ev.pid, 4242);
}

Test(report_parse, reads_retried_timeout_and_dropped_fields)
{
	cr_assert_eq(parse("<28>Nov 25 19:20:51 sockguard[1]: class=timeout op=recv "
			   "errno=EAGAIN action=retried tries=3 deadline=eagain_wait "
			   "prog=x fd=3 dropped=12"), SG_REPORT_EVENT);
	cr_expect_eq(ev.action, SG_ACTION_RETRIED);
	cr_expect_eq(ev.deadline, SG_DEADLINE_EAGAIN_WAIT);
	cr_expect_eq(ev.dropped, 12);
}

Test(report_parse, ignores_unknown_fields)
{
	cr_assert_eq(parse("Nov 25 19:20:51 web1 sockguard[4242]: class=reset newfield=1 "
			   "op=recv errno=ECONNRESET action=returned prog=nginx zone=eu-1 "
			   "peer=10.0.0.2:53422 x="), SG_REPORT_EVENT);
	cr_expect(str_is(ev.peer, "10.0.0.2:53422"));
}

Test(report_parse, counts_rsyslog_repeated_messages)
{
	cr_assert_eq(parse("Nov 25 19:20:51 web1 sockguard[4242]: message repeated 4 times: "
			   "[ " BODY "]"), SG_REPORT_EVENT);
	cr_expect_eq(ev.count, 4);
	cr_expect(str_is(ev.peer, "10.0.0.2:53422"));
}

Test(report_parse, keeps_escaped_unix_peers_as_written)
{
	cr_assert_eq(parse("<28>Nov 25 19:20:51 sockguard[1]: class=eof op=read "
			   "action=returned prog=p peer=/run/a\\x20b\\x0a.sock"), SG_REPORT_EVENT);
	cr_expect(str_is(ev.peer, "/run/a\\x20b\\x0a.sock"));
}

Test(report_parse, skips_lines_that_are_not_sockguard_events)
{
	const char *lines[] = {
		"", "   ", "garbage", "Nov 25 19:20:51 web1 kernel: class=reset",
		"Nov 25 19:20:51 web1 sockguardX[1]: " BODY,
		"Nov 25 19:20:51 web1 sockguard[4242]: /etc/sockguard.conf:3: bad key",
		"-- Boot 0f6c5b4ad7c94a0a9d3c0a4f2c7e1d11 --",
		"<28>1 2026-11-25T19:20:51Z web1 nginx 4242 - - " BODY,
		"Nov 25 19:20:51 web1 sockguard[x]: " BODY,
		"<999999>Nov 25 19:20:51 h sockguard[1]: " BODY,
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		cr_expect_eq(parse(lines[i]), SG_REPORT_SKIP, "line %zu: %s", i, lines[i]);
}

Test(report_parse, calls_broken_sockguard_lines_malformed_with_a_reason)
{
	const char *lines[] = {
		"class=bogus op=recv",
		"class=reset op=recv fd 7",
		"class=reset action=ignored",
		"class=timeout deadline=never",
		"class=reset tries=many",
		"class=suppressed of=reset peer=1.2.3.4:5",
		"class=suppressed count=3 peer=1.2.3.4:5",
		"class=suppressed count=3 of=summary",
		"class=summary pid=x",
		"class=summary reset=-1",
		"class=reset =x",
	};
	char line[256];

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(line, sizeof(line), "<28>Nov 25 19:20:51 sockguard[1]: %s", lines[i]);
		cr_expect_eq(parse(line), SG_REPORT_MALFORMED, "line %zu: %s", i, lines[i]);
		cr_expect_not_null(ev.reason);
	}
}

/* Not a crash, not a read past the end: every prefix of every format. */
Test(report_parse, survives_every_truncation_of_every_format)
{
	const char *lines[] = {
		"<28>1 2026-11-25T19:20:51.123Z web1 sockguard 4242 - [a b=\"]\"] " BODY,
		"2026-11-25T19:20:51.123456+00:00 web1 sockguard[4242]: " BODY,
		"Nov 25 19:20:51.123456 web1 sockguard[4242]: message repeated 2 times: [" BODY "]",
		"<28>Nov 25 19:20:51 sockguard[1]: class=summary prog=a pid=1 reset=1",
		"<28>Nov 25 19:20:51 sockguard[1]: class=suppressed count=1 of=reset",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t n = strlen(lines[i]);
		for (size_t k = 0; k <= n; k++) {
			char *copy = malloc(k ? k : 1);	/* exact size: ASan sees overreads */
			memcpy(copy, lines[i], k);
			sg_report_parse_line(copy, k, &ev);
			free(copy);
		}
	}
}

Test(report_parse, survives_random_bytes_nuls_and_invalid_utf8)
{
	unsigned seed = 12345;
	char buf[512];

	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof(buf));
		int keep = rand_r(&seed) % 3;
		snprintf(buf, sizeof(buf), "%s", keep == 0 ? "<28>Nov 25 19:20:51 sockguard[1]: class=" :
			 keep == 1 ? "<28>1 2026-11-25T19:20:51Z h sockguard 1 - " : "");
		for (size_t i = strlen(buf); i < n; i++)
			buf[i] = (char)(rand_r(&seed) % 4 ? " =abclassreset\xff\xc3\x00[]\"-:"[rand_r(&seed) % 22] :
					rand_r(&seed));
		sg_report_parse_line(buf, n, &ev);
	}
}

Test(report_parse, reads_since_and_until_times)
{
	int64_t t;

	cr_expect_eq(sg_report_parse_when("2026-11-25T19:20:51", TEST_NOW, &t), 0);
	cr_expect_eq(t, T_19_20_51);
	cr_expect_eq(sg_report_parse_when("2026-11-25 19:20", TEST_NOW, &t), 0);
	cr_expect_eq(t, T_19_20_51 - 51);
	cr_expect_eq(sg_report_parse_when("2026-11-25", TEST_NOW, &t), 0);
	cr_expect_eq(t, T_19_20_51 - 19 * 3600 - 20 * 60 - 51);
	cr_expect_eq(sg_report_parse_when("2026-11-25T20:20:51+01:00", TEST_NOW, &t), 0);
	cr_expect_eq(t, T_19_20_51);
	cr_expect_eq(sg_report_parse_when("2026-11-25T19:20:51Z", TEST_NOW, &t), 0);
	cr_expect_eq(t, T_19_20_51);
	cr_expect_eq(sg_report_parse_when("-2h", TEST_NOW, &t), 0);
	cr_expect_eq(t, TEST_NOW - 7200);
	cr_expect_eq(sg_report_parse_when("-30m", TEST_NOW, &t), 0);
	cr_expect_eq(t, TEST_NOW - 1800);
	cr_expect_eq(sg_report_parse_when("-1d", TEST_NOW, &t), 0);
	cr_expect_eq(t, TEST_NOW - 86400);
	cr_expect_eq(sg_report_parse_when("-90s", TEST_NOW, &t), 0);
	cr_expect_eq(t, TEST_NOW - 90);
	cr_expect_eq(sg_report_parse_when("now", TEST_NOW, &t), 0);
	cr_expect_eq(t, TEST_NOW);
}

Test(report_parse, refuses_times_it_cannot_read)
{
	const char *bad[] = { "", "-", "-2", "-2x", "-2hh", "yesterday", "2026-13-01",
			      "2026-11-25T25:00", "2026-11-25T19:20:51junk", "2026-11-2" };
	int64_t t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(sg_report_parse_when(bad[i], TEST_NOW, &t), -1, "%s", bad[i]);
}
