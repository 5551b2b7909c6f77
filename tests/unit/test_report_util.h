/*
 * Helpers shared by the `sockguard report` tests: a report on a fixed
 * clock and zone, feeding text, and running the built tool.
 */
#ifndef TEST_REPORT_UTIL_H
#define TEST_REPORT_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../../tools/report/report.h"

#define FIXTURES "tests/fixtures/report/"

/* 2026-11-26T00:00:00Z: the fixtures' lines lie on the day before. */
#define TEST_NOW INT64_C(1795651200)

/* A report in UTC on the fixed clock; malformed lines quoted to diag. */
static inline void report_setup(struct sg_report *r, FILE *diag)
{
	setenv("TZ", "UTC", 1);
	tzset();
	sg_report_set_now(TEST_NOW);
	cr_assert_eq(sg_report_init(r), 0);
	r->diag = diag;
}

static inline void feed_text(struct sg_report *r, const char *text)
{
	uint64_t lineno = 0;

	while (*text) {
		size_t n = strcspn(text, "\n");
		sg_report_feed_line(r, text, n, "text", ++lineno);
		text += n + (text[n] == '\n');
	}
}

static inline int str_is(struct sg_report_str s, const char *lit)
{
	return s.n == strlen(lit) && (s.n == 0 || memcmp(s.p, lit, s.n) == 0);
}

static inline const char *build_dir(void)
{
	const char *b = getenv("BUILD");
	return b && *b ? b : "build";
}

/*
 * Runs a shell command line with $SG set to the built tool, stdout to
 * `out` (when not NULL); returns the exit status, or -1.
 */
static inline int run_sh(const char *cmd, const char *out)
{
	char line[4096];

	snprintf(line, sizeof(line), "SG='%s/sockguard'; TZ=UTC; export TZ; (%s)%s%s",
		 build_dir(), cmd, out ? " > " : "", out ? out : "");
	int st = system(line);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A fresh directory for one test's files (Criterion forks each test). */
static inline const char *test_tmpdir(void)
{
	static char dir[64];

	if (!dir[0]) {
		strcpy(dir, "/tmp/sg-report-XXXXXX");
		cr_assert_not_null(mkdtemp(dir));
	}
	return dir;
}

static inline void test_tmpdir_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_tmpdir());
	cr_expect_eq(system(cmd), 0);
}

#endif
