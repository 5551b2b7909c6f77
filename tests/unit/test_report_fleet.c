/*
 * `sockguard report` counts: the 3-host fixture (tests/fixtures/report/
 * fleet.log, see gen_fleet.sh) checked exactly, each filter, the caps that
 * bound memory, gzip'd input and the quoting of malformed lines.
 */
#include "test_report_util.h"

#define FLEET FIXTURES "fleet.log"

static struct sg_report r;

static void load_fleet(void)
{
	report_setup(&r, NULL);
}

static void teardown(void)
{
	sg_report_free(&r);
}

TestSuite(report_fleet, .init = load_fleet, .fini = teardown);

static uint64_t total_of(const struct sg_report_table *t, const char *key)
{
	const struct sg_report_entry *e = sg_report_table_find(t, key, strlen(key));
	return e ? e->total : 0;
}

static void feed_fleet(void)
{
	cr_assert_eq(sg_report_feed_path(&r, FLEET), 0);
}

Test(report_fleet, counts_every_class_exactly)
{
	static const uint64_t want[SG_REPORT_NCLASS] = {
		[SG_CLASS_RESET] = 58, [SG_CLASS_REFUSED] = 6, [SG_CLASS_TIMEOUT] = 7,
		[SG_CLASS_UNREACHABLE] = 6, [SG_CLASS_PIPE] = 5, [SG_CLASS_ABORTED] = 2,
		[SG_CLASS_EOF] = 2, [SG_CLASS_FD_EXHAUSTED] = 3,
	};

	feed_fleet();
	for (int c = 0; c < SG_REPORT_NCLASS; c++)
		cr_expect_eq(r.classes[c], want[c], "%s: %llu", sg_class_name(c),
			     (unsigned long long)r.classes[c]);
	cr_expect_eq(r.events, 89);
	cr_expect_eq(r.actions[SG_ACTION_SIGPIPE_SUPPRESSED], 5);
	cr_expect_eq(r.actions[SG_ACTION_SHED], 3);
	cr_expect_eq(r.actions[SG_ACTION_RETRIED], 2);
	cr_expect_eq(r.actions[SG_ACTION_TIMED_OUT], 3);
	cr_expect_eq(r.deadlines[SG_DEADLINE_CONNECT_TIMEOUT], 3);
	cr_expect_eq(r.deadlines[SG_DEADLINE_RETRANS], 4);
}

Test(report_fleet, accounts_for_every_line)
{
	feed_fleet();
	cr_expect_eq(r.counts.lines, 69);
	cr_expect_eq(r.counts.event_lines, 59);
	cr_expect_eq(r.counts.suppressed_lines, 1);
	cr_expect_eq(r.counts.suppressed_events, 30);
	cr_expect_eq(r.counts.summary_lines, 2);
	cr_expect_eq(r.counts.skipped, 5);
	cr_expect_eq(r.counts.malformed, 2);
}

Test(report_fleet, counts_per_host_and_program)
{
	feed_fleet();
	cr_expect_eq(r.hosts.count, 3);
	cr_expect_eq(total_of(&r.hosts, "web1"), 54);
	cr_expect_eq(total_of(&r.hosts, "web2"), 17);
	cr_expect_eq(total_of(&r.hosts, "db1"), 18);
	cr_expect_eq(r.progs.count, 6);
	cr_expect_eq(total_of(&r.progs, "nginx"), 56);
	cr_expect_eq(total_of(&r.progs, "curl"), 9);
	cr_expect_eq(total_of(&r.progs, "python3"), 6);
	cr_expect_eq(total_of(&r.progs, "postgres"), 12);
	cr_expect_eq(total_of(&r.progs, "redis-cli"), 4);
	cr_expect_eq(total_of(&r.progs, "pgbouncer"), 2);
}

Test(report_fleet, counts_per_peer_with_who_met_them)
{
	feed_fleet();
	const struct sg_report_table *t = &r.peers[SG_CLASS_RESET];
	cr_expect_eq(t->count, 3);
	cr_expect_eq(total_of(t, "10.0.0.21:53422"), 42);
	cr_expect_eq(total_of(t, "10.0.0.31:50000"), 9);
	cr_expect_eq(total_of(t, "10.0.0.22:41000"), 7);
	cr_expect_eq(total_of(&r.peers[SG_CLASS_UNREACHABLE], "[2001:db8::7]:443"), 6);
	cr_expect_eq(total_of(&r.peers[SG_CLASS_EOF], "/run/my\\x20app.sock"), 2);
	cr_expect_eq(total_of(&r.peers[SG_CLASS_FD_EXHAUSTED], "-"), 3);

	/* 10.0.9.9:8080 refused curl on two hosts: web1 4 times, web2 twice. */
	const struct sg_report_entry *e =
		sg_report_table_find(&r.peers[SG_CLASS_REFUSED], "10.0.9.9:8080", 13);
	cr_assert_not_null(e);
	const struct sg_report_peer *p =
		&r.peer_seen[SG_CLASS_REFUSED][e - r.peers[SG_CLASS_REFUSED].entries];
	int order[SG_REPORT_PEER_SEEN];
	cr_assert_eq(sg_report_seen_sorted(&p->hosts, order), 2);
	cr_expect_str_eq(r.hosts.entries[p->hosts.idx[order[0]]].key, "web1");
	cr_expect_eq(p->hosts.n[order[0]], 4);
	cr_expect_eq(p->hosts.n[order[1]], 2);
	cr_assert_eq(sg_report_seen_sorted(&p->progs, order), 1);
	cr_expect_str_eq(r.progs.entries[p->progs.idx[order[0]]].key, "curl");
}

Test(report_fleet, keeps_summaries_apart_as_per_process_totals)
{
	feed_fleet();
	cr_expect_eq(r.processes.count, 2);
	const char key[] = "web1\0nginx\0001001";
	const struct sg_report_entry *e =
		sg_report_table_find(&r.processes, key, sizeof(key) - 1);
	cr_assert_not_null(e);
	cr_expect_eq(e->total, 47);
	cr_expect_eq(e->classes[SG_CLASS_RESET], 42);
	cr_expect_eq(e->actions[SG_ACTION_SIGPIPE_SUPPRESSED], 5);
	cr_expect_eq(r.events, 89, "summaries are not added to the event totals");
}

Test(report_fleet, buckets_events_by_hour_and_minute)
{
	feed_fleet();
	int64_t ten = INT64_C(1795600800);	/* 2026-11-25T10:00:00Z */
	int64_t hours[3] = { ten, ten + 3600, ten + 7200 };
	uint64_t want[3] = { 54, 17, 18 };
	for (int i = 0; i < 3; i++) {
		const struct sg_report_entry *e = sg_report_table_find(
			&r.grains[SG_GRAIN_HOUR], (const char *)&hours[i], 8);
		cr_assert_not_null(e);
		cr_expect_eq(e->total, want[i]);
	}
	cr_expect_eq(sg_report_pick_grain(&r), SG_GRAIN_MINUTE, "span under 3 hours");
	cr_expect_eq(r.first, ten + 7);
	cr_expect_eq(r.last, ten + 2 * 3600 + 41 * 60 + 7);
}

Test(report_fleet, filters_by_host_glob)
{
	r.filter.host_glob = "web*";
	feed_fleet();
	cr_expect_eq(r.events, 71);
	cr_expect_eq(r.hosts.count, 2);
	cr_expect_eq(r.processes.count, 1);
}

Test(report_fleet, filters_by_program_glob)
{
	r.filter.prog_glob = "p[go]*";
	feed_fleet();
	cr_expect_eq(r.events, 14);
	cr_expect_eq(total_of(&r.progs, "postgres"), 12);
	cr_expect_eq(total_of(&r.progs, "pgbouncer"), 2);
}

Test(report_fleet, filters_by_class_list)
{
	r.filter.classes = 1u << SG_CLASS_RESET | 1u << SG_CLASS_REFUSED;
	feed_fleet();
	cr_expect_eq(r.events, 64);
	cr_expect_eq(r.classes[SG_CLASS_TIMEOUT], 0);
	const char key[] = "db1\0postgres\0003001";
	const struct sg_report_entry *e =
		sg_report_table_find(&r.processes, key, sizeof(key) - 1);
	cr_assert_not_null(e);
	cr_expect_eq(e->total, 9, "summary totals keep only the chosen classes");
}

Test(report_fleet, filters_by_since_and_until)
{
	cr_assert_eq(sg_report_parse_when("2026-11-25T11:00:00", TEST_NOW, &r.filter.since), 0);
	cr_assert_eq(sg_report_parse_when("2026-11-25 12:00", TEST_NOW, &r.filter.until), 0);
	feed_fleet();
	cr_expect_eq(r.events, 17);
	cr_expect_eq(total_of(&r.hosts, "web2"), 17);
}

Test(report_fleet, filters_by_relative_since)
{
	/* Now is 12:45, so -1h keeps 11:45 onwards: db1's lines only. */
	sg_report_set_now(INT64_C(1795600800) + 2 * 3600 + 45 * 60);
	cr_assert_eq(sg_report_parse_when("-1h", sg_report_now(), &r.filter.since), 0);
	feed_fleet();
	cr_expect_eq(r.events, 18);
	cr_expect_eq(total_of(&r.hosts, "db1"), 18);
}

Test(report_fleet, reads_gzip_input_through_gzip)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "gzip -c %s > %s/fleet.log.gz", FLEET, test_tmpdir());
	cr_assert_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/fleet.log.gz", test_tmpdir());
	cr_assert_eq(sg_report_feed_path(&r, cmd), 0);
	cr_expect_eq(r.events, 89);
	cr_expect_eq(r.counts.lines, 69);
	test_tmpdir_remove();
}

Test(report_fleet, reports_a_broken_gzip_file)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/broken.gz", test_tmpdir());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("not gzip at all\n", f);
	fclose(f);
	cr_expect_eq(sg_report_feed_path(&r, path), -1);
	cr_expect_eq(r.io_errors, 1);
	test_tmpdir_remove();
}

Test(report_fleet, quotes_malformed_lines_with_file_and_line)
{
	char *text = NULL;
	size_t len = 0;
	FILE *diag = open_memstream(&text, &len);

	r.diag = diag;
	feed_fleet();
	fclose(diag);
	cr_expect_not_null(strstr(text, FLEET ":28: malformed line (field without '=')"),
			   "%s", text);
	cr_expect_not_null(strstr(text, FLEET ":47: malformed line (unknown class)"), "%s", text);
	free(text);
}

Test(report_fleet, quotes_only_the_first_few_malformed_lines)
{
	char *text = NULL;
	size_t len = 0;
	FILE *diag = open_memstream(&text, &len);

	r.diag = diag;
	for (int i = 0; i < 20; i++)
		feed_text(&r, "<28>Nov 25 19:20:51 sockguard[1]: class=nope");
	fclose(diag);
	cr_expect_eq(r.counts.malformed, 20);
	int quoted = 0;
	for (char *p = text; (p = strstr(p, "malformed")); p++)
		quoted++;
	cr_expect_eq(quoted, 5);
	free(text);
}

Test(report_fleet, counts_past_the_caps_as_other)
{
	char line[160];

	for (int i = 0; i < SG_REPORT_MAX_KEYS + 100; i++) {
		snprintf(line, sizeof(line), "<28>Nov 25 19:20:51 h%d sockguard[1]: class=reset "
			 "prog=p%d peer=10.%d.%d.1:80", i, i, i >> 8, i & 255);
		feed_text(&r, line);
	}
	cr_expect_eq(r.events, SG_REPORT_MAX_KEYS + 100);
	cr_expect_eq(r.peers[SG_CLASS_RESET].count, SG_REPORT_MAX_KEYS);
	cr_expect_eq(r.peers[SG_CLASS_RESET].other.total, 100);
	cr_expect_eq(r.hosts.other.total, 100);
	cr_expect_eq(r.progs.other.total, 100);
}

Test(report_fleet, survives_a_line_longer_than_the_read_buffer)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/long.log", test_tmpdir());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("<28>Nov 25 19:20:51 sockguard[1]: class=reset peer=", f);
	for (int i = 0; i < 1 << 20; i++)
		fputc(i % 7 ? 'a' : '\0', f);
	fputs("\n<28>Nov 25 19:20:51 sockguard[1]: class=pipe prog=x\n", f);
	fclose(f);
	cr_assert_eq(sg_report_feed_path(&r, path), 0);
	cr_expect_eq(r.counts.lines, 2);
	cr_expect_eq(r.counts.long_lines, 1);
	cr_expect_eq(r.counts.malformed, 1);
	cr_expect_eq(r.classes[SG_CLASS_PIPE], 1);
	test_tmpdir_remove();
}
