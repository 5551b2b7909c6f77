/*
 * libFuzzer target for `sockguard report`: the input is parsed once as a
 * single line (sg_report_parse_line, the function that meets untrusted
 * bytes), then split into lines and counted into a report that lives
 * across runs, so the capped tables fill up and overflow too; now and then
 * the three writers run, to /dev/null.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../tools/report/report.h"

static struct sg_report report;
static FILE *devnull;

static void setup(void)
{
	sg_report_set_now(1795634451);	/* 2026-11-25T19:20:51Z */
	if (sg_report_init(&report) < 0)
		__builtin_trap();
	report.diag = NULL;
	report.filter.host_glob = NULL;
	devnull = fopen("/dev/null", "w");
}

static void feed_lines(const char *p, size_t n)
{
	const char *end = p + n, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		sg_report_feed_line(&report, p, len, "fuzz", 1);
		p += len + (nl != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned runs;
	struct sg_report_event ev;

	if (!devnull)
		setup();
	sg_report_parse_line((const char *)data, size, &ev);
	feed_lines((const char *)data, size);
	if (++runs % 4096 == 0 && devnull) {
		sg_report_write_text(&report, devnull);
		sg_report_write_json(&report, devnull);
		sg_report_write_svg(&report, devnull);
	}
	return 0;
}
