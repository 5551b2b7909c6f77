/*
 * `sockguard report` on real rsyslog output: a private rsyslogd (its own
 * config, imuxsock on a socket in a temp directory) receives RFC 3164
 * datagrams exactly as the shim sends them and writes them in rsyslog's
 * traditional format, its RFC 3339 file format (Debian 12's default) and
 * RFC 5424; the report must count the same in all three.  A second socket
 * receives the same events in the shim's RFC 5424 form (log_format=rfc5424:
 * microseconds, UTC offset, MSGID = the class), parsed as RFC 5424 and
 * written in the same three formats; there the host and time are the ones
 * the shim wrote, to the second.
 */
#include "test_report_util.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static pid_t rsyslogd = -1;

static const char *rsyslogd_path(void)
{
	static const char *const paths[] = { "/usr/sbin/rsyslogd", "/sbin/rsyslogd",
					     "/usr/local/sbin/rsyslogd" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	}
	return NULL;
}

static void write_config(const char *dir)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/rsyslog.conf", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "global(workDirectory=\"%s\")\n"
		"module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
		"input(type=\"imuxsock\" Socket=\"%s/log\")\n"
		"*.* action(type=\"omfile\" file=\"%s/trad.log\" "
		"template=\"RSYSLOG_TraditionalFileFormat\")\n"
		"*.* action(type=\"omfile\" file=\"%s/file.log\" template=\"RSYSLOG_FileFormat\")\n"
		"*.* action(type=\"omfile\" file=\"%s/5424.log\" "
		"template=\"RSYSLOG_SyslogProtocol23Format\")\n", dir, dir, dir, dir, dir);
	fprintf(f, "input(type=\"imuxsock\" Socket=\"%s/log5424\" ruleset=\"shim5424\" "
		"useSpecialParser=\"off\" parseHostname=\"on\" ignoreTimestamp=\"off\")\n"
		"ruleset(name=\"shim5424\") {\n"
		"  action(type=\"omfile\" file=\"%s/in5424-trad.log\" "
		"template=\"RSYSLOG_TraditionalFileFormat\")\n"
		"  action(type=\"omfile\" file=\"%s/in5424-file.log\" "
		"template=\"RSYSLOG_FileFormat\")\n"
		"  action(type=\"omfile\" file=\"%s/in5424-5424.log\" "
		"template=\"RSYSLOG_SyslogProtocol23Format\")\n"
		"}\n", dir, dir, dir, dir);
	fclose(f);
}

static void start_rsyslogd(const char *dir)
{
	char conf[256], pidfile[256], out[256], sock[256];

	snprintf(conf, sizeof(conf), "%s/rsyslog.conf", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/rsyslogd.pid", dir);
	snprintf(out, sizeof(out), "%s/rsyslogd.out", dir);
	rsyslogd = fork();
	cr_assert_geq(rsyslogd, 0);
	if (rsyslogd == 0) {
		/* It ends with the test, even one that stops at a failed assert. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		freopen(out, "w", stdout);
		freopen(out, "a", stderr);
		execl(rsyslogd_path(), "rsyslogd", "-n", "-f", conf, "-i", pidfile, (char *)NULL);
		_exit(127);
	}
	/* Both inputs: rsyslogd makes their sockets one after the other. */
	for (const char *name = "log"; name; name = strcmp(name, "log") ? NULL : "log5424") {
		snprintf(sock, sizeof(sock), "%s/%s", dir, name);
		for (int i = 0; i < 200 && access(sock, F_OK) != 0; i++)
			usleep(50 * 1000);
		cr_assert_eq(access(sock, F_OK), 0, "rsyslogd made no socket %s (see %s)",
			     sock, out);
	}
}

static void stop_rsyslogd(void)
{
	if (rsyslogd > 0) {
		kill(rsyslogd, SIGTERM);
		waitpid(rsyslogd, NULL, 0);
		rsyslogd = -1;
	}
}

/* 2026-12-01T23:18:29Z, the time the RFC 5424 datagrams carry. */
#define T_5424 INT64_C(1796167109)

/*
 * One datagram as the shim writes it.  RFC 3164: <PRI>, time, tag, body.
 * With the log socket's name ending in 5424, RFC 5424 as log_format=rfc5424
 * writes it: <PRI>1 TIMESTAMP HOST sockguard PID CLASS - body.
 */
static void send_line(int fd, const char *sock, int pri, const char *tag, const char *body)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[512], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	if (strstr(sock, "5424")) {
		const char *pid = strchr(tag, '[');
		size_t cls = strcspn(body + 6, " ");
		n = snprintf(msg, sizeof(msg), "<%d>1 2026-12-01T23:18:29.123456+00:00 web7 "
			     "%.*s %.*s %.*s - %s", pri, (int)(pid ? pid - tag : (long)strlen(tag)),
			     tag, pid ? (int)strcspn(pid + 1, "]") : 1, pid ? pid + 1 : "-",
			     (int)cls, body + 6, body);
	} else {
		n = snprintf(msg, sizeof(msg), "<%d>%s %s: %s", pri, stamp, tag, body);
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	cr_assert_eq(sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&sa, sizeof(sa)), n,
		     "sendto: %s", strerror(errno));
}

static void send_fixture_lines(const char *dir, const char *name)
{
	char sock[256];
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sock, sizeof(sock), "%s/%s", dir, name);
	for (int i = 0; i < 3; i++)
		send_line(fd, sock, 28, "sockguard[4242]", "class=reset op=recv errno=ECONNRESET "
			  "action=returned prog=nginx fd=7 proto=tcp local=10.0.0.1:80 "
			  "peer=10.0.0.2:53422 state=CLOSE rtt_us=180 retrans=0");
	send_line(fd, sock, 30, "cron[77]", "(root) CMD (true)");
	for (int i = 0; i < 2; i++)
		send_line(fd, sock, 28, "sockguard[4300]", "class=refused op=connect "
			  "errno=ECONNREFUSED action=returned prog=curl fd=3 proto=tcp "
			  "peer=[2001:db8::1]:443");
	send_line(fd, sock, 29, "sockguard[4300]", "class=suppressed count=5 of=timeout "
		  "peer=10.0.5.5:6379 prog=curl");
	send_line(fd, sock, 30, "sockguard[4242]", "class=summary prog=nginx pid=4242 "
		  "reset=3 returned=3");
	send_line(fd, sock, 28, "sockguard[4301]", "class=pipe op=send errno=EPIPE "
		  "action=sigpipe_suppressed prog=php-fpm fd=9 proto=unix "
		  "peer=/run/php\\x20fpm.sock");
	close(fd);
}

static int count_sockguard_lines(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "grep -c sockguard '%s' 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	int n = 0;
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = 0;
		pclose(p);
	}
	return n;
}

static void wait_for_lines(const char *dir, const char *file, int want)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	for (int i = 0; i < 200 && count_sockguard_lines(path) < want; i++)
		usleep(50 * 1000);
	cr_assert_geq(count_sockguard_lines(path), want, "%s has too few lines", path);
}

static void setup(void)
{
	if (!rsyslogd_path())
		cr_skip_test("needs program rsyslogd: not found");
	setenv("TZ", "UTC", 1);
	tzset();
	write_config(test_tmpdir());
	start_rsyslogd(test_tmpdir());
	send_fixture_lines(test_tmpdir(), "log");
	send_fixture_lines(test_tmpdir(), "log5424");
	wait_for_lines(test_tmpdir(), "trad.log", 8);
	wait_for_lines(test_tmpdir(), "file.log", 8);
	wait_for_lines(test_tmpdir(), "5424.log", 8);
	wait_for_lines(test_tmpdir(), "in5424-trad.log", 8);
	wait_for_lines(test_tmpdir(), "in5424-file.log", 8);
	wait_for_lines(test_tmpdir(), "in5424-5424.log", 8);
	stop_rsyslogd();
}

static void teardown(void)
{
	stop_rsyslogd();
	test_tmpdir_remove();
}

TestSuite(report_rsyslog, .init = setup, .fini = teardown);

static void check_counts(const struct sg_report *r, const char *file)
{
	cr_expect_eq(r->classes[SG_CLASS_RESET], 3, "%s", file);
	cr_expect_eq(r->classes[SG_CLASS_REFUSED], 2, "%s", file);
	cr_expect_eq(r->classes[SG_CLASS_TIMEOUT], 5, "%s", file);
	cr_expect_eq(r->classes[SG_CLASS_PIPE], 1, "%s", file);
	cr_expect_eq(r->events, 11, "%s", file);
	cr_expect_eq(r->counts.malformed, 0, "%s", file);
	cr_expect_geq(r->counts.skipped, 1, "%s: the cron line", file);
	cr_expect_eq(r->processes.count, 1, "%s", file);
	cr_expect_not_null(sg_report_table_find(&r->peers[SG_CLASS_PIPE],
						"/run/php\\x20fpm.sock", 20), "%s", file);
}

/* The shim's RFC 5424 datagrams, as rsyslog wrote them out again. */
static void check_5424_file(const char *file)
{
	struct sg_report r;
	char path[256];

	sg_report_set_now(T_5424 + 3600);
	cr_assert_eq(sg_report_init(&r), 0);
	snprintf(path, sizeof(path), "%s/%s", test_tmpdir(), file);
	cr_assert_eq(sg_report_feed_path(&r, path), 0);
	check_counts(&r, file);
	cr_expect_eq(r.hosts.count, 1, "%s", file);
	cr_expect_str_eq(r.hosts.entries[0].key, "web7", "%s", file);
	cr_expect_eq(r.first, T_5424, "%s: first %lld", file, (long long)r.first);
	cr_expect_eq(r.last, T_5424, "%s: last %lld", file, (long long)r.last);
	const char key[] = "web7\0nginx\0004242";
	cr_expect_not_null(sg_report_table_find(&r.processes, key, sizeof(key) - 1),
			   "%s", file);
	sg_report_free(&r);
}

static void check_file(const char *file)
{
	struct sg_report r;
	char path[256], host[256] = "";

	cr_assert_eq(sg_report_init(&r), 0);
	snprintf(path, sizeof(path), "%s/%s", test_tmpdir(), file);
	cr_assert_eq(sg_report_feed_path(&r, path), 0);
	check_counts(&r, file);
	/* imuxsock stamps the local host name and the time of arrival. */
	gethostname(host, sizeof(host) - 1);
	cr_expect_eq(r.hosts.count, 1, "%s", file);
	cr_expect_str_eq(r.hosts.entries[0].key, host, "%s", file);
	cr_expect_leq(llabs(r.last - (int64_t)time(NULL)), 120, "%s: time %lld", file,
		      (long long)r.last);
	sg_report_free(&r);
}

Test(report_rsyslog, reads_rsyslog_traditional_file_format)
{
	check_file("trad.log");
}

Test(report_rsyslog, reads_rsyslog_rfc3339_file_format)
{
	check_file("file.log");
}

Test(report_rsyslog, reads_rsyslog_rfc5424_output)
{
	check_file("5424.log");
}

Test(report_rsyslog, reads_the_shims_rfc5424_as_rsyslog_passes_it_on)
{
	check_5424_file("in5424-5424.log");
}

Test(report_rsyslog, reads_the_shims_rfc5424_in_rsyslog_file_format)
{
	check_5424_file("in5424-file.log");
}

Test(report_rsyslog, reads_the_shims_rfc5424_in_rsyslog_traditional_format)
{
	check_5424_file("in5424-trad.log");
}
