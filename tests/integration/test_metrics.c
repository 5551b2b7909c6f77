/*
 * `sockguard metrics` against real processes and a real node_exporter:
 * processes running with the shim meet refused connections; the counts
 * they hold are exported, survive the processes' exit (the state file),
 * reach Prometheus through Debian's prometheus-node-exporter and its
 * textfile collector, and promtool accepts the file.  The installed
 * systemd units are checked by systemd-analyze.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"

static struct fx_result res;
static char prom[320], state[320], comm[16];

static void setup(void)
{
	fx_suite_open();
	cr_assert_eq(fx_sh("mkdir %s/textfile", env.dir), 0);
	snprintf(prom, sizeof(prom), "%s/textfile/sockguard.prom", env.dir);
	snprintf(state, sizeof(state), "%s/metrics.state", env.dir);
	/* A name of its own, so that other processes on the host do not count. */
	snprintf(comm, sizeof(comm), "sgm%d", (int)getpid() % 100000);
}

TestSuite(metrics, .init = setup, .fini = fx_suite_close, .timeout = 90);

/* A target meeting `count` refused connects, preloaded in mode harden. */
static pid_t start_target(int count, int port)
{
	char n[16], p[16], out[400];

	snprintf(n, sizeof(n), "%d", count);
	snprintf(p, sizeof(p), "%d", port);
	snprintf(out, sizeof(out), "%s/target.out", env.dir);
	unlink(out);
	pid_t pid = fx_spawn((char *const[]){ (char *)fx_prog("tool_status_target"),
					      n, p, comm, NULL },
			     fx_env_shim(&env, "mode=harden"), out);
	cr_assert_gt(pid, 0, "%s", fx_skip_reason());
	char want[32], buf[64];
	snprintf(want, sizeof(want), "ready %d\n", count);
	fx_wait_file(out, "\n", 10000);
	cr_assert_str_eq(fx_read_file(out, buf, sizeof(buf)), want,
			 "the target did not get ready");
	return pid;
}

/* Runs build/sockguard ARGS... (NULL-terminated); its exit code. */
static int tool(char *const args[])
{
	cr_assert_eq(fx_tool(NULL, args, NULL, 20000, &res), 0, "%s",
		     fx_skip_reason());
	return fx_exit_code(&res);
}

/* Runs `metrics -o prom --state state`, then reads prom into res.out. */
static void refresh(void)
{
	cr_assert_eq(tool((char *const[]){ "metrics", "-o", prom, "--state", state, NULL }),
		     0, "%s", res.err);
	FILE *f = fopen(prom, "r");
	cr_assert_not_null(f);
	size_t got = fread(res.out, 1, sizeof(res.out) - 1, f);
	res.out[got] = '\0';
	fclose(f);
}

/* The value of the series with exactly these labels in text, or -1. */
static long long series(const char *text, const char *name, const char *labels)
{
	char key[256];

	snprintf(key, sizeof(key), "\n%s{%s} ", name, labels);
	const char *at = strstr(text, key);
	return at ? atoll(at + strlen(key)) : -1;
}

static long long refused_of(const char *text, const char *order)
{
	char labels[128];

	if (strcmp(order, "node_exporter") == 0)
		snprintf(labels, sizeof(labels),
			 "action=\"returned\",class=\"refused\",program=\"%s\"", comm);
	else
		snprintf(labels, sizeof(labels),
			 "class=\"refused\",action=\"returned\",program=\"%s\"", comm);
	return series(text, "sockguard_events_total", labels);
}

static long long processes_of(const char *text)
{
	char labels[128];

	snprintf(labels, sizeof(labels), "mode=\"harden\",program=\"%s\"", comm);
	return series(text, "sockguard_processes", labels);
}

Test(metrics, keeps_the_counts_of_processes_that_exited)
{
	int port = fx_closed_port();
	pid_t a = start_target(4, port);

	refresh();
	cr_expect_eq(refused_of(res.out, "sockguard"), 4, "%s", res.out);
	cr_expect_eq(processes_of(res.out), 1, "%s", res.out);
	fx_stop(a);
	refresh();
	cr_expect_eq(refused_of(res.out, "sockguard"), 4, "gone, not lost: %s", res.out);
	cr_expect_eq(processes_of(res.out), -1, "%s", res.out);
	pid_t b = start_target(3, port);
	refresh();
	cr_expect_eq(refused_of(res.out, "sockguard"), 7, "%s", res.out);
	fx_stop(b);
	refresh();
	cr_expect_eq(refused_of(res.out, "sockguard"), 7, "%s", res.out);
	/* Without the state, only the living count. */
	cr_assert_eq(tool((char *const[]){ "metrics", "--no-state", NULL }), 0, "%s", res.err);
	cr_expect_eq(refused_of(res.out, "sockguard"), -1, "%s", res.out);
}

Test(metrics, starts_afresh_on_a_state_from_another_boot)
{
	int port = fx_closed_port();
	pid_t a = start_target(2, port);

	refresh();
	fx_stop(a);
	cr_assert_eq(fx_sh("sed -i 's/^boot .*/boot another-boot/' %s", state), 0);
	refresh();
	cr_expect_eq(refused_of(res.out, "sockguard"), -1, "%s", res.out);
}

Test(metrics, writes_the_file_atomically_or_not_at_all)
{
	struct stat st;

	refresh();
	cr_assert_eq(stat(prom, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0644);
	cr_expect_eq(fx_sh("test $(ls -A %s/textfile | wc -l) = 1", env.dir), 0,
		     "no temporary file left behind");
	/* A directory it cannot write: exit 1, the old file stays whole. */
	cr_assert_eq(fx_sh("cp %s %s.old && chmod 0555 %s/textfile", prom, prom, env.dir), 0);
	if (geteuid() != 0) {
		cr_expect_eq(tool((char *const[]){ "metrics", "-o", prom, "--state", state,
							   NULL }), 1);
		cr_expect_eq(fx_sh("cmp -s %s %s.old", prom, prom), 0);
	}
	cr_expect_eq(tool((char *const[]){ "metrics", "-o", "/nonexistent/dir/x.prom",
						   "--state", state, NULL }), 1);
	cr_expect(strstr(res.err, "/nonexistent/dir/x.prom"), "%s", res.err);
	fx_sh("chmod 0755 %s/textfile", env.dir);
	cr_expect_eq(tool((char *const[]){ "metrics", "--bogus", NULL }), 2);
	cr_expect_eq(tool((char *const[]){ "metrics", "extra", NULL }), 2);
}

Test(metrics, promtool_accepts_the_output)
{
	int port = fx_closed_port();
	pid_t a = start_target(2, port);

	if (!fx_have_program("promtool")) {
		fx_stop(a);
		cr_skip_test("needs program promtool");
	}
	refresh();
	fx_stop(a);
	cr_expect_eq(fx_sh("promtool check metrics < %s > %s/promtool.out 2>&1", prom, env.dir),
		     0, "see %s/promtool.out", env.dir);
}

/* Scrapes 127.0.0.1:port/metrics into res.out with curl. */
static int scrape(int port)
{
	char url[64], *argv[] = { "curl", "-sf", url, NULL };

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
	if (fx_run(argv, NULL, 10000, &res) != 0)
		return -1;
	return fx_exit_code(&res);
}

Test(metrics, node_exporter_serves_the_counts)
{
	const char *ne = "prometheus-node-exporter";
	char listen[64], textdir[400];
	int port = fx_closed_port(), web = fx_closed_port();

	if (!fx_have_program(ne))
		cr_skip_test("needs program %s", ne);
	pid_t a = start_target(5, port);
	refresh();
	fx_stop(a);
	refresh();
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", web);
	snprintf(textdir, sizeof(textdir), "--collector.textfile.directory=%s/textfile", env.dir);
	pid_t exporter = fx_spawn((char *const[]){ (char *)ne, listen,
			"--collector.disable-defaults", "--collector.textfile", textdir,
			NULL }, NULL, NULL);
	cr_assert_gt(exporter, 0, "%s", fx_skip_reason());
	int up = fx_wait_port(web, 10000);
	int rc = up == 0 ? scrape(web) : -1;
	fx_stop(exporter);
	cr_assert_eq(up, 0, "node_exporter did not listen on %d", web);
	cr_assert_eq(rc, 0, "curl: %s", res.err);
	cr_expect_eq(refused_of(res.out, "node_exporter"), 5, "%s", res.out);
	cr_expect(strstr(res.out, "node_textfile_scrape_error 0"), "%s", res.out);
	cr_expect(strstr(res.out, "# TYPE sockguard_events_total counter"), "%s", res.out);
}

Test(metrics, installs_a_service_and_timer_systemd_accepts)
{
	char prefix[320];

	if (!fx_have_program("systemd-analyze"))
		cr_skip_test("needs program systemd-analyze");
	snprintf(prefix, sizeof(prefix), "%s/prefix", env.dir);
	cr_assert_eq(fx_sh("make -s install BUILD=%s PREFIX=%s >%s/install.out 2>&1",
			   fx_build_dir(), prefix, env.dir), 0, "see %s/install.out", env.dir);
	cr_expect_eq(fx_sh("grep -qx 'ExecStart=%s/bin/sockguard metrics -o "
			   "/var/lib/prometheus/node-exporter/sockguard.prom' "
			   "%s/lib/systemd/system/sockguard-metrics.service", prefix, prefix), 0);
	cr_expect_eq(fx_sh("grep -qx 'OnUnitActiveSec=15s' "
			   "%s/lib/systemd/system/sockguard-metrics.timer", prefix), 0);
	cr_expect_eq(fx_sh("cd %s/lib/systemd/system && systemd-analyze verify --man=no "
			   "sockguard-metrics.service sockguard-metrics.timer >%s/verify.out 2>&1 "
			   "&& ! grep -q . %s/verify.out", prefix, env.dir, env.dir), 0,
		     "see %s/verify.out", env.dir);
}
