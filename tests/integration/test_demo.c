/*
 * `make demo` keeps showing what README promises: the legacy server dies of
 * each fault on its own and survives all of them under `sockguard run`, with
 * the events printed and summed up by `sockguard report`.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"

static int count(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(demo, shows_the_faults_and_the_rescue, .timeout = 90)
{
	FX_REQUIRE_PROGRAM("strace");
	char demo[600], build[600];
	snprintf(build, sizeof(build), "BUILD=%s", fx_build_dir());
	snprintf(demo, sizeof(demo), "%s/../tools/demo/demo.sh", fx_build_dir());
	char *const argv[] = { "/bin/bash", demo, NULL };
	char *const env[] = { build, "DEMO_PAUSE=0", NULL };
	static struct fx_result res;

	cr_assert_eq(fx_run(argv, env, 80000, &res), 0, "the demo did not finish");
	cr_assert_eq(fx_exit_code(&res), 0, "%s", res.err);
	const char *out = res.out;
	cr_expect(strstr(out, "DIED: legacy_server: accept: Interrupted system call"), "%s", out);
	cr_expect(strstr(out, "KILLED by signal PIPE"), "%s", out);
	cr_expect(strstr(out, "accept: Software caused connection abort"), "%s", out);
	cr_expect_eq(count(out, "=> server: still running"), 3, "%s", out);
	cr_expect(strstr(out, "| sockguard["), "no live event: %s", out);
	cr_expect(strstr(out, "class=pipe op=write errno=EPIPE action=sigpipe_suppressed"), "%s", out);
	cr_expect(strstr(out, "class=aborted op=accept errno=ECONNABORTED action=retried"), "%s", out);
	cr_expect(strstr(out, "Events by class"), "no report: %s", out);
}
