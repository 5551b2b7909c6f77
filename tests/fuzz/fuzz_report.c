/*
 * libFuzzer target for `sockguard report`: the input is parsed once as a
 * single line (sg_report_parse_line, the function that meets untrusted
 * bytes), then split into lines and counted into a report that lives
 * across runs, so the capped tables fill up and overflow too; now and then
 * the three writers run, to /dev/null.  It checks what must hold for any
 * bytes: a timestamp the parser accepts is a real moment from 1970 to 9999,
 * and totals never wrap (they saturate at UINT64_MAX).  Input in the
 * journal's export format also goes through the export reader.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/*
 * A --since/--until argument from the same bytes: a time it accepts names
 * a real moment between 1970 and 9999.
 */
static void check_when(const uint8_t *data, size_t size)
{
	char buf[64];
	int64_t t;

	if (size >= sizeof(buf))
		size = sizeof(buf) - 1;
	memcpy(buf, data, size);
	buf[size] = 0;
	if (sg_report_parse_when(buf, 1795634451, &t) == 0 && buf[0] != '-' &&
	    (t < -14 * 3600 || t > INT64_C(253402300799) + 14 * 3600))
		__builtin_trap();
}

/* An event the parser accepts has no impossible time and a count. */
static void check_event(const uint8_t *data, size_t size)
{
	struct sg_report_event ev;

	if (sg_report_parse_line((const char *)data, size, &ev) != SG_REPORT_EVENT)
		return;
	if (ev.time == SG_REPORT_BAD_TIME ||
	    (ev.time != SG_REPORT_NO_TIME &&
	     (ev.time < -14 * 3600 || ev.time > INT64_C(253402300799) + 14 * 3600)))
		__builtin_trap();
	if (ev.kind != SG_REPORT_KIND_SUMMARY && ev.count == 0)
		__builtin_trap();
}

/*
 * Input that starts like `journalctl -o export` goes through the export
 * reader, binary fields and all, from a memory file.
 */
static void feed_export(const uint8_t *data, size_t size)
{
	int fd;

	if (!sg_report_is_export((const char *)data, size))
		return;
	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size && lseek(fd, 0, SEEK_SET) == 0)
		sg_report_feed_fd(&report, fd, "fuzz");
	close(fd);
}

/* Totals only grow, and saturate at UINT64_MAX instead of wrapping. */
static void check_totals(uint64_t events, uint64_t lines)
{
	if (report.events < events || report.counts.lines < lines)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned runs;
	uint64_t events, lines;

	if (!devnull)
		setup();
	check_event(data, size);
	check_when(data, size);
	events = report.events;
	lines = report.counts.lines;
	feed_lines((const char *)data, size);
	feed_export(data, size);
	check_totals(events, lines);
	if (++runs % 4096 == 0 && devnull) {
		sg_report_write_text(&report, devnull);
		sg_report_write_json(&report, devnull);
		sg_report_write_svg(&report, devnull);
	}
	return 0;
}
