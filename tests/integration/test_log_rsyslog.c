/*
 * A real syslog daemon: rsyslogd, started by the test on a socket of its
 * own with a configuration that writes facility, severity, tag and message
 * to a file, which the test then parses.
 */
#include <criterion/criterion.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include <stdlib.h>

struct rsyslog {
	char dir[256];
	char out[300];
	pid_t pid;
	char text[65536];
};

#define TEMPLATE_3164 "%%syslogfacility-text%%.%%syslogseverity-text%% " \
		      "%%syslogtag%%%%msg%%\\n"
/* The fields of an RFC 5424 header, as rsyslog's own parser reads them. */
#define TEMPLATE_5424 "%%syslogfacility-text%%.%%syslogseverity-text%% " \
		      "v=%%protocol-version%% " \
		      "ts=%%timereported:::date-rfc3339%% host=%%hostname%% " \
		      "app=%%app-name%% procid=%%procid%% msgid=%%msgid%% " \
		      "sd=%%structured-data%% msg=%%msg%%\\n"
/* imuxsock's defaults take the header apart itself and stamp reception time. */
#define INPUT_5424 " UseSpecialParser=\"off\" ParseHostname=\"on\" " \
		   "IgnoreTimestamp=\"off\""

static struct rsyslog *rsyslog_start_as(const char *sock, const char *input,
					const char *tmpl);

/* Starts rsyslogd listening on sock; its output goes to dir/out.log. */
static struct rsyslog *rsyslog_start(const char *sock)
{
	return rsyslog_start_as(sock, "", TEMPLATE_3164);
}

static struct rsyslog *rsyslog_start_as(const char *sock, const char *input,
					const char *tmpl)
{
	struct rsyslog *rs = calloc(1, sizeof(*rs));
	char conf[400], pidf[400];
	char *argv[] = { "rsyslogd", "-n", "-f", conf, "-i", pidf, NULL };
	FILE *f;
	struct stat st;

	cr_assert_eq(fx_tempdir(rs->dir, sizeof(rs->dir)), 0);
	snprintf(conf, sizeof(conf), "%s/rsyslog.conf", rs->dir);
	snprintf(pidf, sizeof(pidf), "%s/rsyslog.pid", rs->dir);
	snprintf(rs->out, sizeof(rs->out), "%s/out.log", rs->dir);
	f = fopen(conf, "w");
	cr_assert(f);
	fprintf(f, "global(workDirectory=\"%s\")\n"
		   "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
		   "input(type=\"imuxsock\" Socket=\"%s\" CreatePath=\"on\"%s)\n"
		   "template(name=\"t\" type=\"string\" string=\"",
		   rs->dir, sock, input);
	fprintf(f, tmpl);
	fprintf(f, "\")\n"
		   "*.* action(type=\"omfile\" file=\"%s\" template=\"t\")\n",
		   rs->out);
	fclose(f);
	rs->pid = fx_spawn(argv, NULL, NULL);
	cr_assert_gt(rs->pid, 0);
	for (int i = 0; i < 100 && stat(sock, &st) != 0; i++)
		usleep(50000);
	cr_assert_eq(stat(sock, &st), 0, "rsyslogd did not create %s", sock);
	return rs;
}

/* Waits until the output holds token (or 5 s), then returns it. */
static const char *rsyslog_text(struct rsyslog *rs, const char *token)
{
	for (int i = 0; i < 100; i++) {
		FILE *f = fopen(rs->out, "r");
		size_t n = 0;

		if (f) {
			n = fread(rs->text, 1, sizeof(rs->text) - 1, f);
			fclose(f);
		}
		rs->text[n] = '\0';
		if (strstr(rs->text, token))
			break;
		usleep(50000);
	}
	return rs->text;
}

static void rsyslog_stop(struct rsyslog *rs)
{
	fx_stop(rs->pid);
	fx_rmtree(rs->dir);
	free(rs);
}

/* The output line holding token, as its own string. */
static const char *line_with(const char *text, const char *token)
{
	static char line[4096];
	const char *p = strstr(text, token);

	cr_assert(p, "no %s in:\n%s", token, text);
	while (p > text && p[-1] != '\n')
		p--;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	return line;
}

static struct fx_result *run_with(char *const env[], const char *what,
				  int port)
{
	char prog[512], portarg[16];
	char *argv[] = { (char *)fx_prog_path("log_faults", prog, sizeof(prog)),
			 (char *)what, portarg, NULL };
	struct fx_result *r = calloc(1, sizeof(*r));

	snprintf(portarg, sizeof(portarg), "%d", port);
	cr_assert_eq(fx_run(argv, env, 10000, r), 0);
	return r;
}

Test(log_rsyslog, lines_reach_rsyslogd_with_facility_severity_and_tag,
     .timeout = 30)
{
	char sockpath[400], opts[512];
	struct rsyslog *rs;
	struct fx_result *r;
	const char *text, *line;

	FX_REQUIRE_PROGRAM("rsyslogd");
	snprintf(sockpath, sizeof(sockpath), "/tmp/sg-rsyslog-%d.sock",
		 (int)getpid());
	rs = rsyslog_start(sockpath);
	snprintf(opts, sizeof(opts),
		 "SOCKGUARD_OPTIONS=log=unix:%s:log_facility=local3", sockpath);
	char *env[] = { (char *)fx_preload_env(), opts, NULL };
	int port = fx_closed_port();
	r = run_with(env, "refused", port);
	text = rsyslog_text(rs, "class=summary");
	line = line_with(text, "class=refused");
	cr_expect(strstr(r->out, "connect=ECONNREFUSED"));
	cr_expect(strncmp(line, "local3.warning sockguard[", 25) == 0, "%s",
		  line);
	cr_expect(strstr(line, "]: class=refused op=connect errno=ECONNREFUSED "
			       "action=returned prog=log_faults "), "%s", line);
	cr_expect(strstr(line, " proto=tcp "), "%s", line);
	line = line_with(text, "class=summary");
	cr_expect(strncmp(line, "local3.info sockguard[", 22) == 0, "%s", line);
	cr_expect(strstr(line, " refused=1 returned=1"), "%s", line);
	unlink(sockpath);
	rsyslog_stop(rs);
}

/*
 * The default destination is /dev/log.  The test gets a /dev of its own (a
 * private mount namespace with a tmpfs over /dev and the real device nodes
 * bound into it), so that its rsyslogd owns /dev/log without touching the
 * host's.
 */
static void private_dev(const char *keep)
{
	static const char *const nodes[] = { "null", "zero", "urandom",
					     "random", "tty" };
	char from[512], to[512];

	if (fx_need_root() != 0 || unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		cr_skip_test("needs a mount namespace: %s", fx_skip_reason());
	cr_assert_eq(mkdir(keep, 0700), 0);
	/* log=auto prefers a journal: the host's, if any, is hidden. */
	fx_sh("mkdir -p /run/systemd");
	cr_assert_eq(mount("tmpfs", "/run/systemd", "tmpfs", 0, "mode=0755"),
		     0);
	cr_assert_eq(mount("/dev", keep, NULL, MS_BIND | MS_REC, NULL), 0);
	cr_assert_eq(mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755"), 0);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		FILE *f;

		snprintf(from, sizeof(from), "%s/%s", keep, nodes[i]);
		snprintf(to, sizeof(to), "/dev/%s", nodes[i]);
		f = fopen(to, "w");
		if (f)
			fclose(f);
		mount(from, to, NULL, MS_BIND, NULL);
	}
	/* The nodes are mounts of their own: the host's /dev is let go here,
	 * and its empty directory removed (rmdir: never anything below it). */
	cr_assert_eq(umount2(keep, MNT_DETACH), 0);
	rmdir(keep);
}

Test(log_rsyslog, the_default_destination_is_dev_log, .timeout = 30)
{
	char keep[300], dir[256];
	struct rsyslog *rs;
	struct fx_result *r;
	const char *text, *line;

	FX_REQUIRE_PROGRAM("rsyslogd");
	cr_assert_eq(fx_tempdir(dir, sizeof(dir)), 0);
	snprintf(keep, sizeof(keep), "%s/dev", dir);
	private_dev(keep);
	rs = rsyslog_start("/dev/log");
	char *env[] = { (char *)fx_preload_env(), "SOCKGUARD_OPTIONS",
			"SOCKGUARD_CONFIG", NULL };
	r = run_with(env, "refused", fx_closed_port());
	cr_expect(strstr(r->out, "connect=ECONNREFUSED"));
	text = rsyslog_text(rs, "class=summary");
	line = line_with(text, "class=refused");
	cr_expect(strncmp(line, "daemon.warning sockguard[", 25) == 0, "%s",
		  line);
	rsyslog_stop(rs);
	rmdir(dir);	/* empty: private_dev removed its dev */
}

Test(log_rsyslog, a_policy_problem_goes_to_stderr_and_syslog, .timeout = 30)
{
	char keep[300], dir[256];
	struct rsyslog *rs;
	struct fx_result *r;
	const char *text, *line;

	FX_REQUIRE_PROGRAM("rsyslogd");
	cr_assert_eq(fx_tempdir(dir, sizeof(dir)), 0);
	snprintf(keep, sizeof(keep), "%s/dev", dir);
	private_dev(keep);
	rs = rsyslog_start("/dev/log");
	char *env[] = { (char *)fx_preload_env(),
			"SOCKGUARD_OPTIONS=no_such_key=1", "SOCKGUARD_CONFIG",
			NULL };
	r = run_with(env, "refused", fx_closed_port());
	cr_expect(strstr(r->err, "sockguard: SOCKGUARD_OPTIONS"), "%s", r->err);
	text = rsyslog_text(rs, "no_such_key");
	line = line_with(text, "no_such_key");
	cr_expect(strncmp(line, "daemon.err sockguard[", 21) == 0, "%s", line);
	rsyslog_stop(rs);
	rmdir(dir);	/* empty: private_dev removed its dev */
}

/*
 * log_format=rfc5424: rsyslogd's RFC 5424 parser finds version 1, the time
 * stamp with microseconds and offset, the host name, sockguard as APP-NAME,
 * the pid as PROCID and the class as MSGID.
 */
Test(log_rsyslog, rfc5424_lines_are_parsed_field_by_field, .timeout = 30)
{
	char sockpath[400], opts[512], host[256], want[512];
	struct rsyslog *rs;
	const char *text, *line;
	time_t before = time(NULL);
	struct tm tm;
	char day[16];

	FX_REQUIRE_PROGRAM("rsyslogd");
	snprintf(sockpath, sizeof(sockpath), "/tmp/sg-rsyslog5424-%d.sock",
		 (int)getpid());
	rs = rsyslog_start_as(sockpath, INPUT_5424, TEMPLATE_5424);
	snprintf(opts, sizeof(opts),
		 "SOCKGUARD_OPTIONS=log=unix:%s:log_format=rfc5424", sockpath);
	char *env[] = { (char *)fx_preload_env(), opts, NULL };
	run_with(env, "refused", fx_closed_port());
	text = rsyslog_text(rs, "msgid=summary");
	line = line_with(text, "msgid=refused");
	cr_expect(strncmp(line, "daemon.warning v=1 ts=", 22) == 0, "%s", line);
	gmtime_r(&before, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT", &tm);
	cr_expect(strstr(line, day), "%s in %s", day, line);
	/* Microseconds and the UTC offset. */
	cr_expect(strstr(line, "+00:00 host="), "%s", line);
	cr_expect_eq(strchr(strstr(line, " ts="), '.')[7], '+', "%s", line);
	gethostname(host, sizeof(host));
	snprintf(want, sizeof(want), " host=%s app=sockguard procid=", host);
	cr_expect(strstr(line, want), "%s in %s", want, line);
	cr_expect(strstr(line, " msgid=refused sd=- msg=class=refused "
			       "op=connect errno=ECONNREFUSED"), "%s", line);
	line = line_with(text, "msgid=summary");
	cr_expect(strstr(line, "daemon.info v=1 "), "%s", line);
	cr_expect(strstr(line, " msg=class=summary prog=log_faults pid="),
		  "%s", line);
	unlink(sockpath);
	rsyslog_stop(rs);
}
