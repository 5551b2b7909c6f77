/*
 * `sockguard report` as a user runs it: the built tool ($BUILD/sockguard)
 * in a child shell.  JSON is checked by python3's parser, SVG by an XML
 * parser; stdin, gzip, the journalctl formats, usage errors and the
 * 100-column limit of the text.
 */
#include "test_report_util.h"

#define FLEET FIXTURES "fleet.log"

/* A path in the test's directory; the last four stay valid. */
static const char *tmp(const char *name)
{
	static char paths[4][512];
	static unsigned next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/%s", test_tmpdir(), name);
	return p;
}

static void need_tool(void)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/sockguard", build_dir());
	if (access(path, X_OK) != 0)
		cr_skip_test("needs %s (make first)", path);
}

TestSuite(report_cli, .init = need_tool, .fini = test_tmpdir_remove);

static int sh(const char *fmt, const char *a, const char *b)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	return run_sh(cmd, NULL);
}

Test(report_cli, writes_json_that_a_json_parser_accepts)
{
	const char *json = (tmp("r.json"));

	cr_assert_eq(sh("\"$SG\" report --json %s > %s", FLEET, json), 0);
	cr_expect_eq(sh("python3 -m json.tool %s > /dev/null%s", json, ""), 0);
	/* A few figures through the parser, to prove the keys are where documented. */
	cr_expect_eq(sh("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
			"assert d[\"schema\"] == \"sockguard-report/1\"; "
			"assert d[\"totals\"][\"events\"] == 89; "
			"assert d[\"totals\"][\"classes\"][\"reset\"] == 58; "
			"assert d[\"input\"][\"malformed\"] == 2; "
			"assert d[\"peers\"][\"reset\"][\"top\"][0][\"peer\"] == \"10.0.0.21:53422\"; "
			"assert d[\"hosts\"][\"items\"][0] == {\"name\": \"web1\", \"events\": 54, "
			"\"classes\": d[\"hosts\"][\"items\"][0][\"classes\"]}; "
			"assert d[\"timeline\"][\"bucket\"] == \"minute\"; "
			"assert len(d[\"processes\"][\"items\"]) == 2' %s%s", json, ""), 0);
}

Test(report_cli, writes_valid_json_from_hostile_bytes)
{
	const char *log = (tmp("evil.log"));

	cr_assert_eq(sh("printf '<28>Nov 25 19:20:51 h\\001\\\"\\\\ sockguard[1]: class=reset "
			"prog=\\377\\300x\\\" peer=a\\\\\\\\b\\033[31m\\n' > %s%s", log, ""), 0);
	cr_expect_eq(sh("\"$SG\" report --json %s | python3 -m json.tool > /dev/null%s",
			log, ""), 0);
}

Test(report_cli, writes_svg_that_an_xml_parser_accepts)
{
	const char *svg = (tmp("r.svg"));

	cr_assert_eq(sh("\"$SG\" report --svg %s %s > /dev/null 2>&1", svg, FLEET), 0);
	cr_expect_eq(sh("python3 -c 'import xml.dom.minidom,sys; "
			"d = xml.dom.minidom.parse(sys.argv[1]); "
			"assert d.documentElement.tagName == \"svg\"; "
			"assert len(d.getElementsByTagName(\"rect\")) > 20' %s%s", svg, ""), 0);
	cr_expect_eq(sh("grep -q 'network faults per' %s%s", svg, ""), 0);
}

Test(report_cli, writes_valid_svg_for_an_empty_input)
{
	const char *svg = (tmp("e.svg"));

	cr_assert_eq(sh("\"$SG\" report --svg %s < /dev/null > /dev/null%s", svg, ""), 0);
	cr_expect_eq(sh("python3 -c 'import xml.dom.minidom,sys; "
			"xml.dom.minidom.parse(sys.argv[1])' %s%s", svg, ""), 0);
}

Test(report_cli, reads_stdin_with_and_without_dash)
{
	cr_expect_eq(sh("\"$SG\" report --json < %s 2>/dev/null | grep -q '\"events\": 89,'%s",
			FLEET, ""), 0);
	cr_expect_eq(sh("cat %s | \"$SG\" report --json - 2>/dev/null | "
			"grep -q '\"events\": 89,'%s", FLEET, ""), 0);
}

Test(report_cli, reads_gzip_and_plain_files_together)
{
	const char *gz = (tmp("f.log.gz"));

	cr_assert_eq(sh("gzip -c %s > %s", FLEET, gz), 0);
	cr_expect_eq(sh("\"$SG\" report --json %s %s 2>/dev/null | grep -q '\"events\": 178,'",
			gz, FLEET), 0);
}

/*
 * A caller that ignores SIGCHLD (the disposition is inherited across exec)
 * has its children reaped by the kernel, so waitpid(2) fails with ECHILD
 * unless the report takes SIGCHLD back: gzip's exit status must still be
 * known, good or bad.  (python3 sets SIG_IGN; dash's trap '' CHLD does not.)
 */
#define IGNORING_SIGCHLD "python3 -c 'import os,signal,sys; " \
	"signal.signal(signal.SIGCHLD, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])' "

Test(report_cli, reads_gzip_when_started_with_sigchld_ignored)
{
	const char *gz = (tmp("i.log.gz")), *err = (tmp("i.err"));

	cr_assert_eq(sh("gzip -c %s > %s", FLEET, gz), 0);
	cr_expect_eq(sh(IGNORING_SIGCHLD "\"$SG\" report --json %s 2>%s | "
			"grep -q '\"events\": 89,'", gz, err), 0);
	cr_expect_eq(sh("! grep -q 'gzip' %s%s", err, ""), 0);
	cr_assert_eq(sh("printf 'not gzip' > %s%s", gz, ""), 0);
	cr_expect_eq(sh(IGNORING_SIGCHLD "\"$SG\" report %s >/dev/null 2>%s; "
			"test $? = 1", gz, err), 0);
	cr_expect_eq(sh("grep -q 'gzip -dc failed' %s%s", err, ""), 0);
}

Test(report_cli, reads_every_journalctl_short_format)
{
	const char *formats[] = { "short", "short-iso", "short-iso-new", "short-precise",
				  "short-iso-precise" };
	char path[256];

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		snprintf(path, sizeof(path), FIXTURES "journal-%s.txt", formats[i]);
		cr_expect_eq(sh("\"$SG\" report --json %s | python3 -c 'import json,sys; "
				"d=json.load(sys.stdin); t=d[\"totals\"][\"classes\"]; "
				"assert d[\"totals\"][\"events\"] == 13, d[\"totals\"]; "
				"assert (t[\"reset\"], t[\"refused\"], t[\"timeout\"], t[\"pipe\"]) "
				"== (10, 1, 1, 1); assert d[\"input\"][\"skipped\"] == 3; "
				"assert d[\"input\"][\"dropped_by_shim\"] == 2; "
				"assert d[\"span\"][\"first\"] == \"2026-11-25T19:20:51+00:00\", d[\"span\"]; "
				"assert d[\"processes\"][\"items\"][0][\"pid\"] == 4242'%s",
				path, ""), 0, "format %s", formats[i]);
	}
}

/*
 * Names in other scripts take as many columns as a terminal gives them
 * (Greek one per letter, Japanese two, a combining accent none), so every
 * row of a table is as wide as its heading; python3 measures with the
 * Unicode tables.
 */
Test(report_cli, aligns_tables_on_names_in_any_script)
{
	static const char *const progs[] = {
		"nginx", "\xcf\x89\xce\xbc\xce\xad\xce\xb3\xce\xb1",
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		"cafe\xcc\x81",
		"\xce\xb1\xce\xb2\xce\xb3\xce\xb4\xce\xb5\xce\xb6\xce\xb7\xce\xb8"
		"\xce\xb9\xce\xba\xce\xbb\xce\xbc\xce\xbd\xce\xbe\xce\xbf\xcf\x80"
		"\xcf\x81\xcf\x83\xcf\x84\xcf\x85\xcf\x86\xcf\x87\xcf\x88\xcf\x89",
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	};
	const char *log = (tmp("utf8.log")), *txt = (tmp("utf8.txt"));
	FILE *f = fopen(log, "w");

	cr_assert_not_null(f);
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		for (size_t k = 0; k <= i; k++)
			fprintf(f, "Nov 25 19:20:%02zu h%zu sockguard[1]: class=reset "
				"prog=%s peer=10.0.0.%zu:80\n", k, i, progs[i], i);
	fclose(f);
	cr_assert_eq(sh("\"$SG\" report %s > %s", log, txt), 0);
	cr_expect_eq(sh("python3 -c 'import sys,unicodedata as u\n"
			"def w(s): return sum(0 if u.combining(c) else 2 if "
			"u.east_asian_width(c) in \"WF\" else 1 for c in s)\n"
			"L = open(sys.argv[1], encoding=\"utf-8\").read().split(\"\\n\")\n"
			"i = L.index(\"By program\")\n"
			"rows = L[i + 1:L.index(\"\", i)]\n"
			"assert len(rows) == 7, rows\n"
			"assert len({w(r) for r in rows}) == 1, [(w(r), r) for r in rows]\n"
			"assert max(w(r) for r in L) <= 100' %s%s", txt, ""), 0);
}

Test(report_cli, quotes_malformed_lines_on_stderr_with_file_and_line)
{
	const char *err = (tmp("err"));

	cr_assert_eq(sh("\"$SG\" report %s > /dev/null 2> %s", FLEET, err), 0);
	cr_expect_eq(sh("grep -q '^sockguard report: %s:28: malformed line' %s", FLEET, err), 0);
	cr_expect_eq(sh("grep -q '^sockguard report: %s:47: malformed line' %s", FLEET, err), 0);
}

Test(report_cli, fits_the_text_in_100_columns)
{
	const char *txt = (tmp("r.txt"));

	cr_assert_eq(sh("\"$SG\" report %s > %s 2>/dev/null", FLEET, txt), 0);
	cr_expect_eq(sh("awk 'length($0) > 100 { bad = 1; print } END { exit bad }' %s%s",
			txt, ""), 0);
	cr_expect_eq(sh("grep -q 'Top peers: reset (58 events, 3 peers)' %s%s", txt, ""), 0);
	cr_expect_eq(sh("grep -q 'Time line (per 5 minutes, local time)' %s%s", txt, ""), 0);
	cr_expect_eq(sh("grep -q 'web1 nginx\\[1001\\]: 47 events' %s%s", txt, ""), 0);
}

Test(report_cli, applies_filters_from_the_command_line)
{
	cr_expect_eq(sh("\"$SG\" report --json --host 'web*' --program nginx "
			"--class reset,pipe --since '2026-11-25 10:00' "
			"--until 2026-11-25T12:00:00Z %s 2>/dev/null | python3 -c 'import json,sys; "
			"d=json.load(sys.stdin); assert d[\"totals\"][\"events\"] == 54, d[\"totals\"]'%s",
			FLEET, ""), 0);
}

Test(report_cli, limits_peers_with_top)
{
	cr_expect_eq(sh("\"$SG\" report --json --top 1 %s 2>/dev/null | python3 -c 'import json,sys; "
			"d=json.load(sys.stdin); p=d[\"peers\"][\"reset\"]; "
			"assert len(p[\"top\"]) == 1 and p[\"other_events\"] == 16, p'%s", FLEET, ""), 0);
}

Test(report_cli, exits_2_with_usage_on_bad_arguments)
{
	const char *bad[] = { "--top x", "--since yesterday", "--until -3q", "--class reset,bogus",
			      "--class summary", "--nope", "--svg" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(sh("\"$SG\" report %s < /dev/null 2>&1 >/dev/null | grep -q usage; "
				"\"$SG\" report %s < /dev/null > /dev/null 2>&1; test $? = 2",
				bad[i], bad[i]), 0, "%s", bad[i]);
}

Test(report_cli, exits_1_when_a_file_cannot_be_read_but_reports_the_rest)
{
	cr_expect_eq(sh("\"$SG\" report --json /nonexistent/x.log %s 2>/dev/null | "
			"grep -q '\"events\": 89,'%s", FLEET, ""), 0);
	cr_expect_eq(sh("\"$SG\" report /nonexistent/x.log > /dev/null 2>&1; test $? = 1%s",
			"", ""), 0);
}

Test(report_cli, exits_0_and_prints_help)
{
	cr_expect_eq(sh("\"$SG\" report --help | grep -q -- '--since TIME'%s%s", "", ""), 0);
}
