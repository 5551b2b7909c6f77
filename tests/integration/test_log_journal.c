/*
 * A real systemd-journald: started by the test in a private mount namespace
 * (tmpfs over /run/systemd, /run/log and /var/log/journal, so the host's
 * journal is never touched; no systemd as PID 1 is needed), fed by programs
 * under the shim with log=journal or the default log=auto, and queried with
 * journalctl by MESSAGE_ID and in JSON.
 */
#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"

#define JOURNALD "/lib/systemd/systemd-journald"
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* The MESSAGE_IDs of the man page. */
#define ID_REFUSED "8d295f01a37741eab4fedabeedc77907"
#define ID_RESET "07e0a400e2bd4f658f8c1e1538b4b3db"
#define ID_SUMMARY "a509800f462a44b5bab013b76bffa11b"

static pid_t journald;

static void private_dirs(void)
{
	static const char *const dirs[] = { "/run/systemd", "/run/log",
					    "/var/log/journal" };

	if (fx_need_root() != 0 || unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		cr_skip_test("needs root: a mount namespace: %s",
			     fx_skip_reason());
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		fx_sh("mkdir -p %s", dirs[i]);
		cr_assert_eq(mount("tmpfs", dirs[i], "tmpfs", 0, "mode=0755"),
			     0, "tmpfs on %s", dirs[i]);
	}
}

/* Starts journald in the test's own namespace; skips without systemd. */
static void journald_start(void)
{
	char *argv[] = { JOURNALD, NULL };
	struct stat st;

	if (access(JOURNALD, X_OK) != 0)
		cr_skip_test("needs program systemd-journald: " JOURNALD
			     " not found");
	FX_REQUIRE_PROGRAM("journalctl");
	private_dirs();
	journald = fx_spawn(argv, NULL, NULL);
	cr_assert_gt(journald, 0);
	for (int i = 0; i < 100 && stat(JOURNAL_SOCKET, &st) != 0; i++)
		usleep(50000);
	cr_assert_eq(stat(JOURNAL_SOCKET, &st), 0, "journald made no socket");
}

static void journald_stop(void)
{
	if (journald > 0)
		fx_stop(journald);
	journald = 0;
}

/* Runs log_faults WHAT PORT under the shim with SOCKGUARD_OPTIONS=opts. */
static struct fx_result *run_faults(const char *opts, const char *what,
				    int port)
{
	static char env_opts[512];
	char prog[512], portarg[16];
	char *argv[] = { (char *)fx_prog_path("log_faults", prog, sizeof(prog)),
			 (char *)what, portarg, NULL };
	char *env[] = { (char *)fx_preload_env(), env_opts, "SOCKGUARD_CONFIG",
			NULL };
	struct fx_result *r = calloc(1, sizeof(*r));

	snprintf(env_opts, sizeof(env_opts), "SOCKGUARD_OPTIONS=%s", opts);
	if (!opts)
		snprintf(env_opts, sizeof(env_opts), "SOCKGUARD_OPTIONS");
	snprintf(portarg, sizeof(portarg), "%d", port);
	cr_assert_eq(fx_run(argv, env, 10000, r), 0);
	return r;
}

/* journalctl's output for the match (one JSON object per line). */
static const char *journal_json(const char *match, const char *token)
{
	static struct fx_result r;
	char *argv[] = { "journalctl", "--no-pager", "-o", "json",
			 (char *)match, NULL };

	/* journald writes asynchronously: wait for the entry to show. */
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(fx_run(argv, NULL, 10000, &r), 0);
		if (strstr(r.out, token))
			break;
		usleep(100000);
	}
	return r.out;
}

#define EXPECT_JSON(text, field, value) \
	cr_expect(strstr(text, "\"" field "\":\"" value "\""), \
		  "%s=%s missing in:\n%s", field, value, text)

Test(log_journal, log_journal_sends_native_entries_with_fields,
     .fini = journald_stop, .timeout = 60)
{
	struct fx_result *r;
	const char *j;
	char pid[32];
	int port;

	journald_start();
	port = fx_closed_port();
	r = run_faults("log=journal:log_facility=local2", "refused", port);
	cr_expect(strstr(r->out, "connect=ECONNREFUSED"), "%s", r->out);
	j = journal_json("MESSAGE_ID=" ID_REFUSED, "SOCKGUARD_CLASS");
	EXPECT_JSON(j, "SOCKGUARD_CLASS", "refused");
	EXPECT_JSON(j, "SOCKGUARD_OP", "connect");
	EXPECT_JSON(j, "SOCKGUARD_ERRNO", "ECONNREFUSED");
	EXPECT_JSON(j, "SOCKGUARD_ACTION", "returned");
	EXPECT_JSON(j, "SOCKGUARD_PROG", "log_faults");
	EXPECT_JSON(j, "SOCKGUARD_PROTO", "tcp");
	EXPECT_JSON(j, "ERRNO", "111");
	EXPECT_JSON(j, "PRIORITY", "4");
	EXPECT_JSON(j, "SYSLOG_FACILITY", "18");
	EXPECT_JSON(j, "SYSLOG_IDENTIFIER", "sockguard");
	EXPECT_JSON(j, "_TRANSPORT", "journal");
	EXPECT_JSON(j, "MESSAGE_ID", ID_REFUSED);
	cr_expect(strstr(j, "\"MESSAGE\":\"class=refused op=connect "
			    "errno=ECONNREFUSED action=returned prog=log_faults"),
		  "%s", j);
	char peer[64];
	snprintf(peer, sizeof(peer), "\"SOCKGUARD_PEER\":\"127.0.0.1:%d\"",
		 port);
	cr_expect(strstr(j, peer), "%s in %s", peer, j);
	/* The pid journald saw (from the socket's credentials) is ours. */
	cr_assert(strstr(j, "\"SYSLOG_PID\":\""));
	snprintf(pid, sizeof(pid), "\"_PID\":\"%.*s\"",
		 (int)strcspn(strstr(j, "\"SYSLOG_PID\":\"") + 14, "\""),
		 strstr(j, "\"SYSLOG_PID\":\"") + 14);
	cr_expect(strstr(j, pid), "%s in %s", pid, j);

	j = journal_json("MESSAGE_ID=" ID_SUMMARY, "SOCKGUARD_CLASS");
	EXPECT_JSON(j, "SOCKGUARD_CLASS", "summary");
	EXPECT_JSON(j, "SOCKGUARD_REFUSED", "1");
	EXPECT_JSON(j, "SOCKGUARD_RETURNED", "1");
	cr_expect(strstr(j, "\"SOCKGUARD_STARTED\":\""), "%s", j);
	cr_expect(strstr(j, "\"SOCKGUARD_PID\":\""), "%s", j);
}

Test(log_journal, a_reset_is_found_by_its_message_id_with_tcp_info,
     .fini = journald_stop, .timeout = 60)
{
	const char *j;
	pid_t peer;
	int port;

	journald_start();
	FX_REQUIRE_NETNS();
	peer = fx_peer_reset(&port);
	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	run_faults("log=journal", "reset", port);
	fx_stop(peer);
	j = journal_json("MESSAGE_ID=" ID_RESET, "SOCKGUARD_CLASS");
	EXPECT_JSON(j, "SOCKGUARD_CLASS", "reset");
	EXPECT_JSON(j, "SOCKGUARD_ERRNO", "ECONNRESET");
	EXPECT_JSON(j, "ERRNO", "104");
	cr_expect(strstr(j, "\"SOCKGUARD_STATE\":\""), "%s", j);
	cr_expect(strstr(j, "\"SOCKGUARD_RTT_US\":\""), "%s", j);
	cr_expect(strstr(j, "\"SOCKGUARD_RETRANS\":\""), "%s", j);
	cr_expect(strstr(j, "\"SOCKGUARD_LOCAL\":\"127.0.0.1:"), "%s", j);
	cr_expect(strstr(j, "\"SOCKGUARD_FD\":\""), "%s", j);
}

/* log=auto (the default) finds the journal when its socket exists. */
Test(log_journal, the_default_goes_to_the_journal_when_it_runs,
     .fini = journald_stop, .timeout = 60)
{
	const char *j;

	journald_start();
	run_faults(NULL, "refused", fx_closed_port());
	j = journal_json("MESSAGE_ID=" ID_REFUSED, "SOCKGUARD_CLASS");
	EXPECT_JSON(j, "SOCKGUARD_CLASS", "refused");
	EXPECT_JSON(j, "_TRANSPORT", "journal");
}

/*
 * A /dev of the test's own (tmpfs, with the host's device nodes bound into
 * it), so that the test's receiver can be /dev/log without touching the
 * host's.
 */
static void private_dev(void)
{
	static const char *const nodes[] = { "null", "zero", "urandom" };
	char keep[300], from[400], to[64];

	cr_assert_eq(fx_tempdir(keep, sizeof(keep)), 0);
	cr_assert_eq(mount("/dev", keep, NULL, MS_BIND | MS_REC, NULL), 0);
	cr_assert_eq(mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755"), 0);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		FILE *f;

		snprintf(from, sizeof(from), "%s/%s", keep, nodes[i]);
		snprintf(to, sizeof(to), "/dev/%s", nodes[i]);
		f = fopen(to, "w");
		if (f)
			fclose(f);
		cr_assert_eq(mount(from, to, NULL, MS_BIND, NULL), 0);
	}
	/* The nodes are mounts of their own: the host's /dev is let go here,
	 * and its empty directory removed (rmdir: never anything below it). */
	cr_assert_eq(umount2(keep, MNT_DETACH), 0);
	rmdir(keep);
}

/* log=auto without a journal socket: the lines go to /dev/log. */
Test(log_journal, without_journald_the_default_goes_to_dev_log,
     .timeout = 60)
{
	char lines[8192] = "";
	int fd;

	private_dirs();
	private_dev();
	fd = fx_log_receiver_open("/dev/log");
	cr_assert_geq(fd, 0, "%s", fx_skip_reason());
	run_faults(NULL, "refused", fx_closed_port());
	fx_log_collect(fd, lines, sizeof(lines), 300);
	cr_expect(strstr(lines, "sockguard["), "%s", lines);
	cr_expect(strstr(lines, "]: class=refused op=connect"), "%s", lines);
	cr_expect(strstr(lines, "]: class=summary"), "%s", lines);
	close(fd);
}

static int count_of(const char *text, const char *token)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, token)); p++)
		n++;
	return n;
}

/*
 * log=auto once the journal was chosen: the lines journald no longer takes
 * (it stopped while the program ran) go to /dev/log, none is lost.
 */
Test(log_journal, lines_the_journal_refuses_go_to_dev_log,
     .fini = journald_stop, .timeout = 60)
{
	char lines[16384] = "", prog[512], portarg[16];
	char *argv[] = { (char *)fx_prog_path("log_faults", prog, sizeof(prog)),
			 "killed", portarg, "10", NULL };
	char *env[] = { (char *)fx_preload_env(),
			"SOCKGUARD_OPTIONS=log_summary_interval=0",
			"SOCKGUARD_CONFIG", NULL };
	int fd, in_journal, in_syslog;
	pid_t pid;

	journald_start();
	private_dev();
	fd = fx_log_receiver_open("/dev/log");
	cr_assert_geq(fd, 0, "%s", fx_skip_reason());
	snprintf(portarg, sizeof(portarg), "%d", fx_closed_port());
	pid = fx_spawn(argv, env, NULL);
	cr_assert_gt(pid, 0);
	/* Between the fourth line (at about 0.9 s) and the fifth (1.2 s). */
	usleep(1050000);
	journald_stop();
	waitpid(pid, NULL, 0);
	fx_log_collect(fd, lines, sizeof(lines), 300);
	in_syslog = fx_log_count(lines, "class=refused");
	in_journal = count_of(journal_json("MESSAGE_ID=" ID_REFUSED,
					   "SOCKGUARD_CLASS"),
			      "\"SOCKGUARD_CLASS\":\"refused\"");
	cr_expect_gt(in_journal, 0);
	cr_expect_gt(in_syslog, 0, "%s", lines);
	cr_expect_eq(in_journal + in_syslog, 10, "%d in the journal, %d at "
		     "/dev/log", in_journal, in_syslog);
	close(fd);
}
