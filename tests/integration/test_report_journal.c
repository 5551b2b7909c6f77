/*
 * `sockguard report` on real journal output: a private systemd-journald
 * (in a mount namespace of its own, with its own /run/systemd, /run/log and
 * journald.conf: volatile, no kernel messages, no rate limit; the host's
 * journal is untouched and no systemd needs to be PID 1) receives the native entries of shimmed programs (log=journal)
 * that meet refused connections, and one entry whose MESSAGE holds a
 * newline (which `journalctl -o export` writes as a binary field).  The
 * report must count the same from `journalctl -o json`, `-o json-seq`,
 * `-o export` and `-o short-iso`, and what journald holds (`-o cat`): the
 * shim drops a line rather than wait when journald's socket queue is full
 * (net.unix.max_dgram_qlen is 10 by default), so the journal, not the
 * programs, is the reference.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

#define JOURNALD "/lib/systemd/systemd-journald"

static char dir[256];
static struct fx_result res;

static void remove_dir(void)
{
	if (dir[0])
		fx_rmtree(dir);
}

/*
 * The whole scene, in one shell inside a private mount namespace: journald
 * started, the programs run, journalctl's outputs written to dir, journald
 * stopped.  The entry with a newline is sent with journald's native
 * protocol in its binary form (sd_journal_send(3) would do the same).
 */
static const char scene[] =
	"set -e\n"
	"mount -t tmpfs tmpfs /run/systemd\n"
	"mount -t tmpfs tmpfs /run/log\n"
	"printf '[Journal]\\nStorage=volatile\\nReadKMsg=no\\nRateLimitBurst=0\\n' > $D/journald.conf\n"
	"mount --bind $D/journald.conf /etc/systemd/journald.conf\n"
	"%s > $D/journald.out 2>&1 & jpid=$!\n"
	"trap 'kill $jpid; wait $jpid || true' EXIT\n"
	"for i in $(seq 200); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done\n"
	"logger --journald <<EOF\nMESSAGE=ready\nSYSLOG_IDENTIFIER=sg-test\nEOF\n"
	"for i in $(seq 200); do journalctl -q -o cat SYSLOG_IDENTIFIER=sg-test | grep -q ready && break; "
	"sleep 0.05; done\n"
	"export SOCKGUARD_CONFIG=$D/empty.conf SOCKGUARD_OPTIONS=log=journal\n"
	"for i in 1 2 3; do LD_PRELOAD=$SHIM $P/log_faults refused $PORT >/dev/null; done\n"
	"LD_PRELOAD=$SHIM $P/log_faults refused_loop $PORT 5 >/dev/null\n"
	"python3 -c 'import socket,struct,sys\n"
	"s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
	"body = b\"class=reset op=recv action=returned prog=odd peer=10.0.0.9:80 note=a\\nb\"\n"
	"s.sendto(b\"SYSLOG_IDENTIFIER=sockguard\\nMESSAGE\\n\" + struct.pack(\"<Q\", len(body)) "
	"+ body + b\"\\n\", \"/run/systemd/journal/socket\")\n"
	"s.sendto(b\"SYSLOG_IDENTIFIER=sockguard\\nMESSAGE=policy notice, not an event\\n\", "
	"\"/run/systemd/journal/socket\")'\n"
	"for i in $(seq 100); do\n"
	"  n=$(journalctl -q -o cat SYSLOG_IDENTIFIER=sockguard | grep -c '^class=' || true)\n"
	"  [ \"$n\" -ge 13 ] && break; sleep 0.05\n"
	"done\n"
	"journalctl -q -o cat SYSLOG_IDENTIFIER=sockguard > $D/j.cat\n"
	"for f in json json-seq export short-iso; do journalctl -o $f > $D/j.$f; done\n";

static void setup(void)
{
	char shim[400], progs[400], *slash;

	if (fx_need_root() != 0)
		cr_skip_test("needs root: %s", fx_skip_reason());
	if (access(JOURNALD, X_OK) != 0)
		cr_skip_test("needs program systemd-journald: " JOURNALD " not found");
	FX_REQUIRE_PROGRAM("journalctl");
	FX_REQUIRE_PROGRAM("unshare");
	cr_assert_eq(fx_tempdir(dir, sizeof(dir)), 0);
	cr_assert_eq(fx_sh("touch %s/empty.conf", dir), 0);
	snprintf(shim, sizeof(shim), "%s", fx_shim_path());
	fx_prog_path("log_faults", progs, sizeof(progs));
	slash = strrchr(progs, '/');
	*slash = 0;
	char script[400];
	snprintf(script, sizeof(script), "%s/scene.sh", dir);
	FILE *f = fopen(script, "w");
	cr_assert_not_null(f);
	fprintf(f, scene, JOURNALD);
	fclose(f);
	cr_assert_eq(fx_sh("D=%s SHIM=%s P=%s PORT=%d unshare -m --propagation private "
			   "sh %s > %s/scene.out 2>&1", dir, shim, progs, fx_closed_port(),
			   script, dir), 0, "see %s/scene.out", dir);
}

TestSuite(report_journal, .init = setup, .fini = remove_dir, .timeout = 60);

/* `sockguard report --json FILE` into res. */
static void report(const char *file)
{
	char path[400], tool[400];
	char *argv[] = { tool, "report", "--json", path, NULL };

	snprintf(tool, sizeof(tool), "%s/sockguard", fx_build_dir());
	snprintf(path, sizeof(path), "%s/j.%s", dir, file);
	cr_assert_eq(fx_run(argv, NULL, 20000, &res), 0);
	cr_assert_eq(fx_exit_code(&res), 0, "%s: %s", file, res.err);
}

/* Lines of j.cat, journald's own copy of the bodies, that start with text. */
static int journal_count(const char *text)
{
	char cmd[600];
	int n = -1;

	snprintf(cmd, sizeof(cmd), "grep -c '^%s' %s/j.cat", text, dir);
	FILE *p = popen(cmd, "r");
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

#define EXPECT_FIGURE(fmt, v) \
	do { \
		snprintf(want, sizeof(want), fmt, v); \
		cr_expect(strstr(res.out, want), "%s: no %s in %s", file, want, res.out); \
	} while (0)

static void expect_totals(const char *file)
{
	char host[256] = "", want[300];
	int refused = journal_count("class=refused"), reset = journal_count("class=reset");
	int summaries = journal_count("class=summary");

	cr_assert_gt(refused, 0, "journald got no refused line (see %s/scene.out)", dir);
	cr_assert_eq(reset, 1, "the native entry with a newline");
	report(file);
	EXPECT_FIGURE("\"events\": %d,", refused + reset);
	EXPECT_FIGURE("\"refused\": %d,", refused);
	EXPECT_FIGURE("\"reset\": %d,", reset);
	EXPECT_FIGURE("\"malformed\": %d,", 0);
	EXPECT_FIGURE("\"processes\": {\"distinct\": %d,", summaries);
	EXPECT_FIGURE("\"name\": \"log_faults\", \"events\": %d,", refused);
	gethostname(host, sizeof(host) - 1);
	snprintf(want, sizeof(want), "{\"name\": \"%s\", \"events\": %d,", host,
		 refused + reset);
	cr_expect(strstr(res.out, want), "%s: host %s: %s", file, host, res.out);
}

/* The span's first time is within two minutes of now: journald's time. */
static void expect_journal_time(const char *file)
{
	char stamp[40];

	report(file);
	const char *first = strstr(res.out, "\"first\": \"");
	cr_assert_not_null(first, "%s: %s", file, res.out);
	snprintf(stamp, sizeof(stamp), "%.19s", first + 10);
	cr_expect_eq(fx_sh("t=$(date -d '%s' +%%s) && n=$(date +%%s) && "
			   "[ $((n - t)) -lt 120 ] && [ $((t - n)) -lt 120 ]", stamp), 0,
		     "%s: first %s", file, stamp);
}

/* One journal for every check: each test would start journald again. */
Test(report_journal, counts_the_same_in_every_journalctl_format)
{
	cr_expect_eq(fx_sh("grep -qa '^MESSAGE$' %s/j.export", dir), 0,
		     "journalctl wrote the newline MESSAGE as a binary field");
	expect_totals("json");
	expect_totals("json-seq");
	expect_totals("export");
	expect_totals("short-iso");
	expect_journal_time("json");
	expect_journal_time("export");
}
