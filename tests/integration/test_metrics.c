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

static struct fx_result res;
static char dir[256], prom[320], state[320], comm[16];

static void make_dir(void)
{
	cr_assert_eq(fx_tempdir(dir, sizeof(dir)), 0);
	cr_assert_eq(fx_sh("touch %s/empty.conf && mkdir %s/textfile", dir, dir), 0);
	snprintf(prom, sizeof(prom), "%s/textfile/sockguard.prom", dir);
	snprintf(state, sizeof(state), "%s/metrics.state", dir);
	/* A name of its own, so that other processes on the host do not count. */
	snprintf(comm, sizeof(comm), "sgm%d", (int)getpid() % 100000);
}

static void remove_dir(void)
{
	if (dir[0])
		fx_rmtree(dir);
}

TestSuite(metrics, .init = make_dir, .fini = remove_dir, .timeout = 90);

/* A target meeting `count` refused connects, preloaded in mode harden. */
static pid_t start_target(int count, int port)
{
	char prog[400], opts[600], config[400], n[16], p[16], out[400];
	char *env[4] = { opts, config, (char *)fx_preload_env(), NULL };

	snprintf(opts, sizeof(opts), "SOCKGUARD_OPTIONS=mode=harden:log=off");
	snprintf(config, sizeof(config), "SOCKGUARD_CONFIG=%s/empty.conf", dir);
	snprintf(n, sizeof(n), "%d", count);
	snprintf(p, sizeof(p), "%d", port);
	snprintf(out, sizeof(out), "%s/target.out", dir);
	unlink(out);
	fx_prog_path("tool_status_target", prog, sizeof(prog));
	pid_t pid = fx_spawn((char *const[]){ prog, n, p, comm, NULL }, env, out);
	cr_assert_gt(pid, 0, "%s", fx_skip_reason());
	char want[32], buf[64] = "";
	snprintf(want, sizeof(want), "ready %d\n", count);
	for (long end = fx_now_ms() + 10000; fx_now_ms() < end; usleep(20000)) {
		FILE *f = fopen(out, "r");
		size_t got = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		buf[got] = '\0';
		if (f)
			fclose(f);
		if (strchr(buf, '\n'))
			break;
	}
	cr_assert_str_eq(buf, want, "the target did not get ready");
	return pid;
}

static int metrics_tool(char *const args[])
{
	char path[400], *argv[16] = { path, "metrics" };
	int n = 2;

	snprintf(path, sizeof(path), "%s/sockguard", fx_build_dir());
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	cr_assert_eq(fx_run(argv, NULL, 20000, &res), 0);
	return fx_exit_code(&res);
}

/* Runs `metrics -o prom --state state`, then reads prom into res.out. */
static void refresh(void)
{
	cr_assert_eq(metrics_tool((char *const[]){ "-o", prom, "--state", state, NULL }),
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
	cr_assert_eq(metrics_tool((char *const[]){ "--no-state", NULL }), 0, "%s", res.err);
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
	cr_expect_eq(fx_sh("test $(ls -A %s/textfile | wc -l) = 1", dir), 0,
		     "no temporary file left behind");
	/* A directory it cannot write: exit 1, the old file stays whole. */
	cr_assert_eq(fx_sh("cp %s %s.old && chmod 0555 %s/textfile", prom, prom, dir), 0);
	if (geteuid() != 0) {
		cr_expect_eq(metrics_tool((char *const[]){ "-o", prom, "--state", state,
							   NULL }), 1);
		cr_expect_eq(fx_sh("cmp -s %s %s.old", prom, prom), 0);
	}
	cr_expect_eq(metrics_tool((char *const[]){ "-o", "/nonexistent/dir/x.prom",
						   "--state", state, NULL }), 1);
	cr_expect(strstr(res.err, "/nonexistent/dir/x.prom"), "%s", res.err);
	fx_sh("chmod 0755 %s/textfile", dir);
	cr_expect_eq(metrics_tool((char *const[]){ "--bogus", NULL }), 2);
	cr_expect_eq(metrics_tool((char *const[]){ "extra", NULL }), 2);
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
	cr_expect_eq(fx_sh("promtool check metrics < %s > %s/promtool.out 2>&1", prom, dir),
		     0, "see %s/promtool.out", dir);
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
	snprintf(textdir, sizeof(textdir), "--collector.textfile.directory=%s/textfile", dir);
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
	snprintf(prefix, sizeof(prefix), "%s/prefix", dir);
	cr_assert_eq(fx_sh("make -s install BUILD=%s PREFIX=%s >%s/install.out 2>&1",
			   fx_build_dir(), prefix, dir), 0, "see %s/install.out", dir);
	cr_expect_eq(fx_sh("grep -qx 'ExecStart=%s/bin/sockguard metrics -o "
			   "/var/lib/prometheus/node-exporter/sockguard.prom' "
			   "%s/lib/systemd/system/sockguard-metrics.service", prefix, prefix), 0);
	cr_expect_eq(fx_sh("grep -qx 'OnUnitActiveSec=15s' "
			   "%s/lib/systemd/system/sockguard-metrics.timer", prefix), 0);
	cr_expect_eq(fx_sh("cd %s/lib/systemd/system && systemd-analyze verify --man=no "
			   "sockguard-metrics.service sockguard-metrics.timer >%s/verify.out 2>&1 "
			   "&& ! grep -q . %s/verify.out", prefix, dir, dir), 0,
		     "see %s/verify.out", dir);
}
