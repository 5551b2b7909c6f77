/*
 * The journal formats of `sockguard report` without a journald: the JSON
 * of `journalctl -o json` with every kind of value journalctl writes
 * (escapes, \u sequences, byte arrays for fields that are not UTF-8, null
 * for fields it left out, arrays for fields with several values), and the
 * export format's text and binary fields, fields longer than the read
 * buffer, and streams that end without the final empty line.
 */
#include "test_report_util.h"

#include <fcntl.h>
#include <unistd.h>

static struct sg_report_event ev;

static int json(const char *line)
{
	return sg_report_parse_json(line, strlen(line), &ev);
}

static void setup(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	sg_report_set_now(TEST_NOW);
}

TestSuite(report_journal_formats, .init = setup);

#define ENTRY(msg) \
	"{\"__CURSOR\":\"s=1;i=2\",\"__REALTIME_TIMESTAMP\":\"1795634451123456\"," \
	"\"_HOSTNAME\":\"web1\",\"_PID\":\"4242\",\"_COMM\":\"nginx\"," \
	"\"SYSLOG_IDENTIFIER\":\"sockguard\",\"MESSAGE\":" msg "}"

Test(report_journal_formats, reads_a_json_entry_with_host_time_and_pid)
{
	cr_assert_eq(json(ENTRY("\"class=reset op=recv action=returned "
				"peer=10.0.0.2:53422\"")), SG_REPORT_EVENT);
	cr_expect_eq(ev.cls, SG_CLASS_RESET);
	cr_expect(str_is(ev.host, "web1"));
	cr_expect_eq(ev.pid, 4242);
	cr_expect_eq(ev.time, INT64_C(1795634451));
	cr_expect(str_is(ev.prog, "nginx"), "from _COMM when the body has no prog=");
	cr_expect(str_is(ev.peer, "10.0.0.2:53422"));
	/* json-seq puts a record separator first. */
	cr_expect_eq(json("\x1e" ENTRY("\"class=refused prog=curl\"")), SG_REPORT_EVENT);
	cr_expect(str_is(ev.prog, "curl"));
	/* The line parser hands JSON over itself. */
	const char *line = ENTRY("\"class=pipe\"");
	cr_expect_eq(sg_report_parse_line(line, strlen(line), &ev), SG_REPORT_EVENT);
	cr_expect_eq(ev.cls, SG_CLASS_PIPE);
}

Test(report_journal_formats, decodes_escapes_and_byte_arrays)
{
	cr_assert_eq(json(ENTRY("\"class=reset peer=\\u00e9\\ud83d\\ude00\\\"\\\\\\/x\"")),
		     SG_REPORT_EVENT);
	cr_expect(str_is(ev.peer, "\xc3\xa9\xf0\x9f\x98\x80\"\\/x"), "%.*s",
		  (int)ev.peer.n, ev.peer.p);
	/* "class=reset peer=\xff\n" as journalctl writes a field that is not UTF-8. */
	cr_assert_eq(json(ENTRY("[99,108,97,115,115,61,114,101,115,101,116,32,112,101,"
				"101,114,61,255,10]")), SG_REPORT_EVENT);
	cr_expect(str_is(ev.peer, "\xff"), "the newline ends the body");
	/* Several values: the first counts. */
	cr_assert_eq(json(ENTRY("[\"class=timeout\",\"class=reset\"]")), SG_REPORT_EVENT);
	cr_expect_eq(ev.cls, SG_CLASS_TIMEOUT);
}

Test(report_journal_formats, skips_other_entries_and_notices)
{
	cr_expect_eq(json("{\"SYSLOG_IDENTIFIER\":\"sshd\",\"MESSAGE\":\"class=reset\"}"),
		     SG_REPORT_SKIP);
	cr_expect_eq(json("{\"MESSAGE\":\"class=reset\"}"), SG_REPORT_SKIP);
	cr_expect_eq(json(ENTRY("\"policy: using defaults\"")), SG_REPORT_SKIP);
	cr_expect_eq(json(ENTRY("null")), SG_REPORT_SKIP, "MESSAGE left out");
	cr_expect_eq(json("{not json"), SG_REPORT_SKIP);
	cr_expect_eq(json("{}"), SG_REPORT_SKIP);
}

Test(report_journal_formats, calls_broken_sockguard_entries_malformed)
{
	cr_expect_eq(json("{\"SYSLOG_IDENTIFIER\":\"sockguard\",\"MESSAGE\":\"class=reset"),
		     SG_REPORT_MALFORMED);
	cr_expect_eq(json(ENTRY("\"class=nosuchclass\"")), SG_REPORT_MALFORMED);
	cr_expect_eq(json("{\"__REALTIME_TIMESTAMP\":\"99999999999999999999\","
			  "\"SYSLOG_IDENTIFIER\":\"sockguard\",\"MESSAGE\":\"class=reset\"}"),
		     SG_REPORT_MALFORMED);
	cr_expect_str_eq(ev.reason, "impossible timestamp");
	cr_expect_eq(json(ENTRY("\"class=reset\\q\"")), SG_REPORT_MALFORMED, "bad escape");
	cr_expect_eq(json(ENTRY("\"class=reset\" trailing")), SG_REPORT_MALFORMED);
	cr_expect_eq(json(ENTRY("[300]")), SG_REPORT_MALFORMED, "not a byte");
}

Test(report_journal_formats, survives_every_truncation_of_a_json_entry)
{
	const char *line = ENTRY("[\"class=reset \\ud83d\\ude00\",[1,2]]");
	size_t n = strlen(line);

	for (size_t i = 0; i <= n; i++)
		sg_report_parse_json(line, i, &ev);
}

/* ---- export ---- */

static struct sg_report r;
static char path[64];

static void put_binary(FILE *f, const char *name, const char *v, size_t n)
{
	unsigned char len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (8 * i));
	fprintf(f, "%s\n", name);
	fwrite(len, 1, 8, f);
	fwrite(v, 1, n, f);
	fputc('\n', f);
}

static FILE *export_file(void)
{
	snprintf(path, sizeof(path), "/tmp/sg-export-%d", (int)getpid());
	report_setup(&r, NULL);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	return f;
}

static void read_back(FILE *f)
{
	fclose(f);
	cr_assert_eq(sg_report_feed_path(&r, path), 0);
	unlink(path);
}

static void entry_head(FILE *f, int pid)
{
	fprintf(f, "__CURSOR=s=1;i=%d\n__REALTIME_TIMESTAMP=1795634451000000\n"
		"_HOSTNAME=web1\n_PID=%d\nSYSLOG_IDENTIFIER=sockguard\n", pid, pid);
}

Test(report_journal_formats, reads_export_text_and_binary_fields)
{
	FILE *f = export_file();

	entry_head(f, 1);
	fprintf(f, "MESSAGE=class=reset prog=a peer=p1\n\n");
	entry_head(f, 2);
	put_binary(f, "MESSAGE", "class=refused prog=b peer=x\ny\0z", 31);
	put_binary(f, "_CMDLINE", "\n\n\n", 3);
	fprintf(f, "\n");
	fprintf(f, "__CURSOR=s=1;i=3\nSYSLOG_IDENTIFIER=kernel\nMESSAGE=class=reset\n\n\n");
	entry_head(f, 4);
	fprintf(f, "MESSAGE=class=timeout prog=c\n");	/* no empty line at the end */
	read_back(f);
	cr_expect_eq(r.counts.lines, 4, "one per entry");
	cr_expect_eq(r.counts.skipped, 1);
	cr_expect_eq(r.events, 3);
	cr_expect_eq(r.classes[SG_CLASS_REFUSED], 1);
	const struct sg_report_entry *e =
		sg_report_table_find(&r.peers[SG_CLASS_REFUSED], "x\ny\0z", 5);
	cr_expect_not_null(e, "the binary value kept whole");
	cr_expect_eq(r.first, INT64_C(1795634451));
	cr_expect_eq(r.hosts.count, 1);
	sg_report_free(&r);
}

Test(report_journal_formats, steps_over_fields_longer_than_the_buffer)
{
	FILE *f = export_file();
	size_t big = 600 * 1024;
	char *blob = malloc(big);

	cr_assert_not_null(blob);
	memset(blob, 'b', big);
	blob[100] = '\n';
	entry_head(f, 1);
	put_binary(f, "_CMDLINE", blob, big);		/* unused, skipped */
	fprintf(f, "MESSAGE=class=reset prog=a\n\n");
	entry_head(f, 2);
	fprintf(f, "OTHER=");
	fwrite(blob + 101, 1, big - 101, f);		/* a text field of 600 KiB */
	fprintf(f, "\nMESSAGE=class=refused prog=b\n\n");
	entry_head(f, 3);
	memcpy(blob, "class=pipe ", 11);
	put_binary(f, "MESSAGE", blob, big);		/* longer than report keeps */
	fprintf(f, "\n");
	entry_head(f, 4);
	fprintf(f, "MESSAGE=class=eof prog=d\n\n");
	read_back(f);
	free(blob);
	cr_expect_eq(r.counts.lines, 4);
	cr_expect_eq(r.classes[SG_CLASS_RESET], 1);
	cr_expect_eq(r.classes[SG_CLASS_REFUSED], 1);
	cr_expect_eq(r.classes[SG_CLASS_EOF], 1);
	cr_expect_eq(r.counts.malformed, 1, "the MESSAGE that was cut");
	sg_report_free(&r);
}

Test(report_journal_formats, survives_a_truncated_binary_field)
{
	FILE *f = export_file();

	entry_head(f, 1);
	fprintf(f, "MESSAGE=class=reset\n\n");
	entry_head(f, 2);
	fwrite("MESSAGE\n\x40\x00\x00\x00\x00\x00\x00\x00" "class=refu", 1, 8 + 8 + 10, f);
	read_back(f);
	cr_expect_eq(r.counts.lines, 2);
	cr_expect_eq(r.classes[SG_CLASS_RESET], 1);
	cr_expect_eq(r.counts.malformed, 1);
	sg_report_free(&r);
}

Test(report_journal_formats, tells_export_apart_from_syslog_text)
{
	cr_expect(sg_report_is_export("__CURSOR=s=1\n", 13));
	cr_expect(sg_report_is_export("__REALTIME_TIMESTAMP=1\n", 23));
	cr_expect(!sg_report_is_export("Nov 25 19:20:51 h sockguard[1]: x\n", 34));
	cr_expect(!sg_report_is_export("__cursor=1\n", 11));
	cr_expect(!sg_report_is_export("{\"__CURSOR\":1}\n", 15));
}
