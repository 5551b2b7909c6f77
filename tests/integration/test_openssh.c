/*
 * OpenSSH under the shim: Debian's sshd with a host key, an authorized key
 * and a configuration of its own in a temporary directory, listening on
 * 127.0.0.1 in a private network namespace.  `ssh` runs a command and `scp`
 * copies a file up and back down (OpenSSH 9's scp speaks the sftp
 * subsystem), first without the shim, then with it preloaded into sshd
 * (which re-executes itself and forks its privilege-separated children, all
 * inheriting it) and into the clients, in mode=harden and mode=observe.
 * The clients must see exactly what they see without it.
 *
 * sshd's pre-authentication child confines itself before it reads a byte
 * from the network: chroot to /run/sshd, RLIMIT_NOFILE 1, RLIMIT_FSIZE 0,
 * then a seccomp filter that kills it for a system call it did not expect.
 * The shim must make none of its own there; it says once, just before the
 * filter, that it goes quiet.  In that child no new descriptor can be had,
 * so the line can only reach a descriptor the process already holds: the
 * suite checks it on sshd's stderr with log=stderr, a pipe here as under
 * systemd, where stderr is a stream to journald.  With stderr on a regular
 * file the line must not be written at all: the child may not grow the
 * file, and the write would raise SIGXFSZ.
 */
#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

#define SSHD "/usr/sbin/sshd"
#define QUIET_NOTICE "sockguard: the program installs a seccomp filter"

enum side { PLAIN, HARDEN, OBSERVE };
static const char *const side_name[] = { "without the shim",
					 "with the shim, mode=harden",
					 "with the shim, mode=observe" };
static const char *const side_mode[] = { "", "harden", "observe" };

static char dir[256], conf[320], nopolicy[400], logname[64];
static int port, log_fd = -1;
static pid_t sshd_pid;
/* What the clients saw and what sshd wrote on stderr, per side. */
static char seen[3][4096];
static char sshd_out[3][65536];

static void make_dir(void)
{
	cr_assert_eq(fx_tempdir(dir, sizeof(dir)), 0, "%s", fx_skip_reason());
}

static void teardown(void)
{
	if (sshd_pid > 0)
		fx_stop(sshd_pid);
	if (log_fd >= 0)
		close(log_fd);
	fx_rmtree(dir);
}

TestSuite(openssh, .init = make_dir, .fini = teardown, .timeout = 90);

/*
 * Root (sshd's privilege separation), the programs, a network namespace,
 * and a private /run: sshd chroots its pre-authentication child into
 * /run/sshd, which is made here on a tmpfs only this test sees.
 */
static void need_everything(void)
{
	if (fx_need_root() != 0)
		cr_skip_test("needs root: %s", fx_skip_reason());
	FX_REQUIRE_PROGRAM(SSHD);
	FX_REQUIRE_PROGRAM("ssh");
	FX_REQUIRE_PROGRAM("scp");
	FX_REQUIRE_PROGRAM("ssh-keygen");
	FX_REQUIRE_NETNS();
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") != 0 ||
	    mkdir("/run/sshd", 0755) != 0)
		cr_skip_test("needs root: a mount namespace with a private /run");
}

static void keygen(const char *name)
{
	char path[320];
	char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
			 "sockguard-test", "-f", path, NULL };
	static struct fx_result r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(fx_run(argv, NULL, 20000, &r), 0, "%s", fx_skip_reason());
	cr_assert_eq(fx_exit_code(&r), 0, "ssh-keygen: %s", r.err);
}

/* Keys, the configuration, the file scp copies, an empty policy. */
static void make_tree(void)
{
	keygen("host_key");
	keygen("client_key");
	port = fx_closed_port();
	snprintf(conf, sizeof(conf), "%s/sshd_config", dir);
	cr_assert_eq(fx_sh("cp %s/client_key.pub %s/authorized_keys && "
			   "head -c 1048576 /dev/urandom > %s/up.bin && "
			   ": > %s/empty.conf", dir, dir, dir, dir), 0);
	cr_assert_eq(fx_sh("cat > %s <<EOF\n"
			   "ListenAddress 127.0.0.1\nPort %d\n"
			   "HostKey %s/host_key\n"
			   "AuthorizedKeysFile %s/authorized_keys\n"
			   "PidFile %s/sshd.pid\n"
			   "PermitRootLogin prohibit-password\n"
			   "PubkeyAuthentication yes\nPasswordAuthentication no\n"
			   "KbdInteractiveAuthentication no\nUsePAM no\n"
			   "StrictModes no\nUseDNS no\nLogLevel VERBOSE\n"
			   "Subsystem sftp internal-sftp\n"
			   "EOF", conf, port, dir, dir, dir), 0);
	snprintf(nopolicy, sizeof(nopolicy), "SOCKGUARD_CONFIG=%s/empty.conf",
		 dir);
}

/* The shim's options for a side: its mode, and the log destination. */
static void shim_options(enum side s, const char *log, char *buf, size_t len)
{
	snprintf(buf, len, "SOCKGUARD_OPTIONS=mode=%s:log=%s", side_mode[s], log);
}

/*
 * sshd in the foreground (-D), its log on stderr (-e), and that stderr a
 * pipe (cat writes it to a file), as under systemd, or with stderr_on_file
 * the file itself.  The shim's variables go to sshd alone, through env(1):
 * the shell and cat run without it.  It is ready when it says it listens (a
 * probe connection would be one more connection in its log).
 */
static int stderr_on_file;

static void start_sshd(enum side s, const char *log)
{
	char out[320], opts[512];
	char *argv[] = { "sh", "-c", stderr_on_file ? "exec env \"$@\"" :
			 "env \"$@\" 2>&1 | cat", "sshd",
			 "LD_PRELOAD=", "SOCKGUARD_OPTIONS=", nopolicy, SSHD,
			 "-D", "-e", "-f", conf, NULL };
	char *env[] = { "LD_PRELOAD", "SOCKGUARD_OPTIONS", "SOCKGUARD_CONFIG",
			NULL };
	long deadline = fx_now_ms() + 10000;

	if (s != PLAIN) {
		shim_options(s, log, opts, sizeof(opts));
		argv[4] = (char *)fx_preload_env();
		argv[5] = opts;
	}
	snprintf(out, sizeof(out), "%s/sshd.%d.log", dir, s);
	sshd_pid = fx_spawn(argv, env, out);
	cr_assert_gt(sshd_pid, 0, "%s", fx_skip_reason());
	do {
		usleep(20000);
		fx_read_file(out, sshd_out[s], sizeof(sshd_out[s]));
	} while (!strstr(sshd_out[s], "Server listening on") &&
		 fx_now_ms() < deadline);
	cr_assert(strstr(sshd_out[s], "Server listening on"),
		  "sshd %s did not start: %s", side_name[s], sshd_out[s]);
}

/* Whether the listening sshd (named by its pid file) has the shim mapped. */
static int sshd_has_shim(void)
{
	char path[320], pid[32];

	snprintf(path, sizeof(path), "%s/sshd.pid", dir);
	fx_read_file(path, pid, sizeof(pid));
	pid[strcspn(pid, "\n")] = '\0';
	return pid[0] && fx_sh("grep -q libsockguard /proc/%s/maps", pid) == 0;
}

static void stop_sshd(enum side s)
{
	char path[320];

	fx_stop(sshd_pid);
	sshd_pid = 0;
	snprintf(path, sizeof(path), "%s/sshd.%d.log", dir, s);
	fx_read_file(path, sshd_out[s], sizeof(sshd_out[s]));
}

/* One client run; appends "NAME exit N" and its stdout to seen[s]. */
static void client(enum side s, const char *log, const char *name,
		   char *const argv[])
{
	static struct fx_result r;
	char opts[512];
	char *env[] = { "LD_PRELOAD", "SOCKGUARD_OPTIONS", nopolicy,
			"SSH_AUTH_SOCK", NULL };
	size_t used = strlen(seen[s]);

	if (s != PLAIN) {
		shim_options(s, log, opts, sizeof(opts));
		env[0] = (char *)fx_preload_env();
		env[1] = opts;
	}
	cr_assert_eq(fx_run(argv, env, 30000, &r), 0, "%s %s: %s", name,
		     side_name[s], fx_skip_reason());
	snprintf(seen[s] + used, sizeof(seen[s]) - used, "%s exit %d: %s%s",
		 name, fx_exit_code(&r), r.out, r.err);
}

#define SSH_OPTIONS(key) \
	"-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes", \
	"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", \
	"-o", "UserKnownHostsFile=/dev/null", \
	"-o", "GlobalKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", \
	"-o", "ConnectTimeout=10"

/*
 * A command over ssh, then scp up and back down (three connections), and
 * whether the file came back unchanged.
 */
static void ssh_and_scp(enum side s, const char *log)
{
	char key[320], portstr[16], up[320], remote[400], down[320];
	char *ssh[] = { "ssh", SSH_OPTIONS(key), "-p", portstr, "root@127.0.0.1",
			"echo hello from sshd; id -u; "
			"printf '%s\\n' $SSH_CONNECTION | wc -l", NULL };
	char *put[] = { "scp", "-q", SSH_OPTIONS(key), "-P", portstr, up,
			remote, NULL };
	char *get[] = { "scp", "-q", SSH_OPTIONS(key), "-P", portstr, remote,
			down, NULL };

	snprintf(key, sizeof(key), "%s/client_key", dir);
	snprintf(portstr, sizeof(portstr), "%d", port);
	snprintf(up, sizeof(up), "%s/up.bin", dir);
	snprintf(remote, sizeof(remote), "root@127.0.0.1:%s/remote.bin", dir);
	snprintf(down, sizeof(down), "%s/down.bin", dir);
	fx_sh("rm -f %s/remote.bin %s/down.bin", dir, dir);
	seen[s][0] = '\0';
	client(s, log, "ssh", ssh);
	client(s, log, "scp up", put);
	client(s, log, "scp down", get);
	client(s, log, "cmp", (char *[]){ "cmp", up, down, NULL });
}

/* sshd's own log must hold no error: the first one is shown. */
static void expect_sshd_clean(enum side s)
{
	static const char *const bad[] = { "fatal", "error:", "child log fd",
					   "killed", "Connection closed by",
					   "Connection reset", "Did not receive" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *hit = strstr(sshd_out[s], bad[i]);
		cr_expect_null(hit, "sshd %s logged: %.*s", side_name[s],
			       hit ? (int)strcspn(hit, "\n") : 0, hit ? hit : "");
	}
}

static const char *next_line(const char *l)
{
	l += strcspn(l, "\n");
	return *l ? l + 1 : l;
}

static int count(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

/* The run without the shim, the reference for the others. */
static void run_plain(void)
{
	start_sshd(PLAIN, "");
	ssh_and_scp(PLAIN, "");
	stop_sshd(PLAIN);
	cr_assert_str_eq(seen[PLAIN],
			 "ssh exit 0: hello from sshd\n0\n4\n"
			 "scp up exit 0: scp down exit 0: cmp exit 0: ",
			 "OpenSSH does not work here even without the shim; "
			 "sshd said:\n%s", sshd_out[PLAIN]);
	expect_sshd_clean(PLAIN);
}

/*
 * The same clients against sshd with the shim in mode s, every process
 * logging to an abstract socket of ours (reachable from the chroot, being
 * in no file system).
 */
static void run_logged(enum side s)
{
	char log[96], lines[65536] = "", cls[64];

	snprintf(logname, sizeof(logname), "sockguard-openssh-%d", (int)getpid());
	log_fd = fx_log_receiver_open_abstract(logname);
	cr_assert_geq(log_fd, 0, "%s", fx_skip_reason());
	snprintf(log, sizeof(log), "unix:@%s", logname);
	start_sshd(s, log);
	cr_expect(sshd_has_shim(), "sshd %s has no libsockguard mapped",
		  side_name[s]);
	ssh_and_scp(s, log);
	stop_sshd(s);
	cr_expect_str_eq(seen[s], seen[PLAIN], "ssh and scp %s differ; sshd "
			 "said:\n%s", side_name[s], sshd_out[s]);
	expect_sshd_clean(s);
	/* A clean session is no fault: nothing but summaries may come. */
	fx_log_collect(log_fd, lines, sizeof(lines), 300);
	for (const char *l = lines; *l; l = next_line(l)) {
		if (fx_log_field(l, "class", cls, sizeof(cls)) == 0)
			cr_expect_str_eq(cls, "summary", "an event %s: %.*s",
					 side_name[s], (int)strcspn(l, "\n"), l);
	}
}

Test(openssh, ssh_and_scp_work_under_harden)
{
	need_everything();
	make_tree();
	run_plain();
	run_logged(HARDEN);
}

Test(openssh, ssh_and_scp_work_under_observe)
{
	need_everything();
	make_tree();
	run_plain();
	run_logged(OBSERVE);
}

/*
 * With log=stderr the line reaches sshd's stderr, the one descriptor the
 * confined child still holds: once per connection, and never from the
 * run without the shim.
 */
Test(openssh, preauth_child_says_once_it_goes_quiet)
{
	need_everything();
	make_tree();
	run_plain();
	cr_expect_eq(count(sshd_out[PLAIN], QUIET_NOTICE), 0);
	for (enum side s = HARDEN; s <= OBSERVE; s++) {
		start_sshd(s, "stderr");
		ssh_and_scp(s, "stderr");
		stop_sshd(s);
		cr_expect_str_eq(seen[s], seen[PLAIN], "ssh and scp %s differ; "
				 "sshd said:\n%s", side_name[s], sshd_out[s]);
		expect_sshd_clean(s);
		cr_expect_eq(count(sshd_out[s], QUIET_NOTICE), 3,
			     "%d notices for 3 connections %s; sshd said:\n%s",
			     count(sshd_out[s], QUIET_NOTICE), side_name[s],
			     sshd_out[s]);
	}
}

/*
 * log=stderr with sshd's stderr on a regular file: the confined child may
 * not grow it (RLIMIT_FSIZE 0), so the notice must not be written there,
 * or the write's SIGXFSZ kills the child and with it every connection.
 */
Test(openssh, log_to_stderr_on_a_file_leaves_sshd_working)
{
	need_everything();
	make_tree();
	run_plain();
	stderr_on_file = 1;
	start_sshd(HARDEN, "stderr");
	ssh_and_scp(HARDEN, "stderr");
	stop_sshd(HARDEN);
	cr_expect_str_eq(seen[HARDEN], seen[PLAIN], "ssh and scp differ; sshd "
			 "said:\n%s", sshd_out[HARDEN]);
	expect_sshd_clean(HARDEN);
}
