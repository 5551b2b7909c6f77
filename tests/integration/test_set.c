/*
 * `sockguard set` against real processes that serve traffic while their
 * settings change: tests/progs/set_server, a server that exits on any
 * accept or recv error.  Accept errors come from strace -e inject (the
 * kernel rarely makes ECONNABORTED itself), EINTR from real signals.  Each
 * change is shown by what the server then lives through or dies of, by the
 * line the process logs when it adopts it, and by `sockguard status`.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"
#include "../../tools/shimproc.h"

static struct fx_result res;

static void setup(void)
{
	fx_suite_open_log();
	signal(SIGPIPE, SIG_IGN);
}

TestSuite(set, .init = setup, .fini = fx_suite_close, .timeout = 60);

/* Every log line that came in so far, kept across calls. */
static const char *log_lines(void)
{
	static char buf[65536];

	fx_log_collect(env.log_fd, buf, sizeof(buf), 200);
	return buf;
}

/* The first log line holding both texts, or NULL. */
static const char *log_line_with(const char *a, const char *b)
{
	static char line[2048];
	const char *all = log_lines();

	for (const char *p = all; *p;) {
		size_t n = strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		if (strstr(line, a) && (!b || strstr(line, b)))
			return line;
		p += n + (p[n] == '\n');
	}
	return NULL;
}

/* Runs build/sockguard ARGS... after the launcher's words; its exit code. */
static int tool_as(const char *const launcher[], char *const args[])
{
	cr_assert_eq(fx_tool(launcher, args, NULL, 30000, &res), 0, "%s",
		     fx_skip_reason());
	return fx_exit_code(&res);
}

#define TOOL(...) tool_as(NULL, (char *const[]){ __VA_ARGS__, NULL })

/* A set_server: the process we spawned (strace or the server) and the server. */
struct server {
	pid_t spawned;
	pid_t pid;
	int port;
	char out[400];
};

static const char *server_output(const struct server *s)
{
	static char buf[8192];

	return fx_read_file(s->out, buf, sizeof(buf));
}

/*
 * Starts set_server with the shim (log lines to our receiver, extra options
 * after them).  inject: under strace, every odd-numbered accept fails with
 * ECONNABORTED (the first, the third, ...).
 */
/* The policy file the next server reads (empty when NULL). */
static const char *policy_text;

static void server_start(struct server *s, int inject, const char *options)
{
	char prog[4096], port[16], preload[4200];

	if (fx_need_root() != 0)
		cr_skip_test("needs root");
	s->pid = 0;
	s->port = fx_closed_port();
	cr_assert_gt(s->port, 0, "%s", fx_skip_reason());
	snprintf(port, sizeof(port), "%d", s->port);
	snprintf(s->out, sizeof(s->out), "%s/server.out", env.dir);
	unlink(s->out);
	if (policy_text) {
		FILE *f = fopen(env.conf, "w");
		cr_assert(f && fputs(policy_text, f) >= 0 && fclose(f) == 0);
	}
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", fx_shim_path());
	fx_prog_path("set_server", prog, sizeof(prog));
	char *plain[] = { prog, port, NULL };
	char *traced[] = { "strace", "-f", "-o", "/dev/null", "-e",
			   "inject=accept,accept4:error=ECONNABORTED:when=1+2",
			   "env", preload, prog, port, NULL };
	s->spawned = fx_spawn(inject ? traced : plain,
			      inject ? fx_env_unloaded(&env, options) :
				       fx_env_shim(&env, options), s->out);
	cr_assert_gt(s->spawned, 0, "%s", fx_skip_reason());
	for (int i = 0; i < 500 && !s->pid; i++) {
		const char *at = strstr(server_output(s), "ready ");
		if (at)
			s->pid = atoi(at + 6);
		else
			usleep(20000);
	}
	cr_assert_gt(s->pid, 0, "server not ready: %s", server_output(s));
}

static void server_stop(struct server *s)
{
	if (s->spawned > 0)
		fx_stop(s->spawned);
	s->spawned = 0;
}

/* The exit code of the server (or strace, which passes it on); -1 if alive. */
static int server_exit(struct server *s, int ms)
{
	int rc = fx_wait_exit(s->spawned, ms);

	if (rc >= 0)
		s->spawned = 0;
	return rc;
}

static int connect_server(const struct server *s)
{
	for (int i = 0; i < 100; i++) {
		int fd = fx_connect_tcp(s->port);
		if (fd >= 0)
			return fd;
		usleep(20000);
	}
	cr_assert_fail("cannot connect to the server: %s", server_output(s));
	return -1;
}

/* Sends one command; its answer line, or "" when the server went away. */
static const char *ask(int fd, const char *cmd)
{
	static char buf[128];
	char line[64];
	size_t got = 0;

	snprintf(line, sizeof(line), "%s\n", cmd);
	buf[0] = '\0';
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0)
		return buf;
	while (got + 1 < sizeof(buf)) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 5000) != 1 || recv(fd, buf + got, 1, 0) != 1)
			break;
		if (buf[got] == '\n')
			break;
		got++;
	}
	buf[got] = '\0';
	return buf;
}

static void expect_set(const struct server *s, const char *kv)
{
	cr_assert_eq(TOOL("set", fx_num(s->pid), (char *)kv), 0,
		     "set %s: %s%s", kv, res.out, res.err);
}

/* ---------------------------------------------------------------- */

Test(set, observe_passes_the_next_accept_error_through)
{
	struct server s = { 0 };

	FX_REQUIRE_PROGRAM("strace");
	server_start(&s, 1, NULL);
	int c = connect_server(&s);
	cr_assert_str_eq(ask(c, "ping"), "pong", "the first abort was retried");
	cr_expect(log_line_with("class=aborted", "action=retried"), "%s", log_lines());

	expect_set(&s, "mode=observe");
	cr_expect(strstr(res.out, fx_num(s.pid)) && strstr(res.out, "generation 1") &&
		  strstr(res.out, "mode=observe"), "%s", res.out);
	cr_assert_str_eq(ask(c, "sock"), "ok");
	cr_expect(log_line_with("live settings generation=1 adopted: mode=observe",
				NULL), "%s", log_lines());
	cr_expect_eq(TOOL("status", fx_num(s.pid)), 0, "%s", res.err);
	cr_expect(strstr(res.out, "observe      1"), "mode and generation: %s", res.out);
	cr_expect(strstr(res.out, "generation 1, differs from its policy: mode=observe"),
		  "%s", res.out);

	close(c);	/* the next accept meets the next injected abort */
	cr_expect_eq(server_exit(&s, 5000), 3, "passed through: %s", server_output(&s));
	cr_expect(strstr(server_output(&s), "fatal: accept: "), "%s", server_output(&s));
	cr_expect(log_line_with("errno=ECONNABORTED action=returned", NULL), "%s",
		  log_lines());
	server_stop(&s);
}

Test(set, reset_brings_the_retrying_back)
{
	struct server s = { 0 };

	FX_REQUIRE_PROGRAM("strace");
	server_start(&s, 1, NULL);
	int c = connect_server(&s);
	cr_assert_str_eq(ask(c, "ping"), "pong");
	expect_set(&s, "mode=observe");
	cr_assert_str_eq(ask(c, "sock"), "ok");
	cr_assert_eq(TOOL("set", fx_num(s.pid), "--reset"), 0, "%s", res.err);
	cr_expect(strstr(res.out, "generation 2") &&
		  strstr(res.out, "back to its policy's settings"), "%s", res.out);
	cr_assert_str_eq(ask(c, "sock"), "ok");
	cr_expect(log_line_with("live settings generation=2 adopted (the policy's): "
				"mode=harden", NULL), "%s", log_lines());
	cr_expect_eq(TOOL("status", fx_num(s.pid)), 0);
	cr_expect(strstr(res.out, "harden       2"), "%s", res.out);
	cr_expect_null(strstr(res.out, "differs"), "%s", res.out);

	close(c);
	c = connect_server(&s);
	cr_expect_str_eq(ask(c, "ping"), "pong", "the third accept's abort retried: %s",
			 server_output(&s));
	cr_expect_eq(server_exit(&s, 100), -1);
	close(c);
	server_stop(&s);
}

Test(set, mode_off_is_inert_until_set_again)
{
	struct server s = { 0 };

	FX_REQUIRE_PROGRAM("strace");
	server_start(&s, 1, NULL);
	int c = connect_server(&s);
	cr_assert_str_eq(ask(c, "ping"), "pong");
	expect_set(&s, "mode=off");
	cr_assert_str_eq(ask(c, "sock"), "ok");
	cr_expect_eq(TOOL("status", fx_num(s.pid)), 0);
	cr_expect(strstr(res.out, "off          1"), "%s", res.out);
	expect_set(&s, "mode=harden");
	cr_assert_str_eq(ask(c, "sock"), "ok");
	cr_expect(log_line_with("generation=1 adopted: mode=off", NULL), "%s", log_lines());
	cr_expect(log_line_with("generation=2 adopted: mode=harden", NULL), "%s",
		  log_lines());
	close(c);
	c = connect_server(&s);
	cr_expect_str_eq(ask(c, "ping"), "pong", "hardening again: %s", server_output(&s));
	close(c);
	server_stop(&s);
}

/*
 * Waits until the server is blocked in recv (the first number of
 * /proc/PID/syscall is the call it sleeps in), so that a signal sent now
 * interrupts it rather than landing between two calls.
 */
static void wait_in_recv(pid_t pid)
{
	char path[64], buf[64] = "";

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	for (int i = 0; i < 250; i++) {
		FILE *f = fopen(path, "r");
		if (f && fgets(buf, sizeof(buf), f) && atoi(buf) == SYS_recvfrom) {
			fclose(f);
			return;
		}
		if (f)
			fclose(f);
		usleep(10000);
	}
	cr_assert_fail("the server does not block in recv: %s", buf);
}

/* Waits until the server's handler counts read want ("W U"). */
static int counts_reach(int c, const char *want)
{
	for (int i = 0; i < 100; i++) {
		if (strcmp(ask(c, "count"), want) == 0)
			return 1;
		usleep(20000);
	}
	return 0;
}

Test(set, signal_added_to_eintr_pass_reaches_the_program)
{
	struct server s = { 0 };

	server_start(&s, 0, NULL);
	int c = connect_server(&s);
	cr_assert_str_eq(ask(c, "ping"), "pong");
	wait_in_recv(s.pid);
	kill(s.pid, SIGWINCH);
	cr_assert(counts_reach(c, "1 0"), "SIGWINCH's EINTR retried: %s",
		  server_output(&s));

	expect_set(&s, "eintr_pass=HUP,INT,QUIT,TERM,ALRM,USR1,USR2,WINCH");
	cr_assert_str_eq(ask(c, "sock"), "ok");
	cr_expect_str_eq(ask(c, "view"), "own", "the program reads its own handler");
	wait_in_recv(s.pid);
	kill(s.pid, SIGWINCH);
	cr_expect_eq(server_exit(&s, 5000), 4, "%s", server_output(&s));
	cr_expect(strstr(server_output(&s), "fatal: recv: Interrupted system call"),
		  "%s", server_output(&s));
	close(c);
	server_stop(&s);
}

Test(set, signal_removed_from_eintr_pass_is_retried)
{
	struct server s = { 0 };

	server_start(&s, 0, NULL);
	int c = connect_server(&s);
	cr_assert_str_eq(ask(c, "ping"), "pong");
	expect_set(&s, "eintr_pass=none");
	cr_assert_str_eq(ask(c, "sock"), "ok");
	cr_expect_str_eq(ask(c, "view"), "own");
	wait_in_recv(s.pid);
	kill(s.pid, SIGUSR1);
	cr_expect(counts_reach(c, "0 1"), "SIGUSR1's EINTR retried: %s",
		  server_output(&s));
	cr_expect_eq(server_exit(&s, 100), -1, "%s", server_output(&s));
	close(c);
	server_stop(&s);
}

Test(set, socket_keys_apply_to_sockets_made_from_then_on)
{
	struct server s = { 0 };

	server_start(&s, 0, NULL);
	int c = connect_server(&s);
	cr_assert_str_eq(ask(c, "uto"), "0");
	expect_set(&s, "user_timeout=4321");
	cr_expect_str_eq(ask(c, "uto"), "0", "an open socket keeps its options");
	close(c);
	c = connect_server(&s);
	cr_expect_str_eq(ask(c, "uto"), "4321", "accepted after the change");
	close(c);
	server_stop(&s);
}

Test(set, live_socket_keys_apply_over_peer_sections)
{
	struct server s = { 0 };

	policy_text = "[peer 127.0.0.1]\nuser_timeout = 1111\n";
	server_start(&s, 0, NULL);
	int c = connect_server(&s);
	cr_assert_str_eq(ask(c, "uto"), "1111", "the [peer] section");
	expect_set(&s, "user_timeout=4321");
	close(c);
	c = connect_server(&s);
	cr_expect_str_eq(ask(c, "uto"), "4321", "live, over the [peer] section");
	cr_assert_eq(TOOL("set", fx_num(s.pid), "--reset"), 0);
	close(c);
	c = connect_server(&s);
	cr_expect_str_eq(ask(c, "uto"), "1111", "the [peer] section again");
	close(c);
	server_stop(&s);
}

/* Log lines after the first one holding text ("" when there is none). */
static const char *lines_after(const char *text)
{
	const char *all = log_lines(), *at = strstr(all, text);

	return at ? at + strcspn(at, "\n") : "";
}

Test(set, log_events_none_keeps_the_retries_quiet)
{
	struct server s = { 0 };

	FX_REQUIRE_PROGRAM("strace");
	server_start(&s, 1, NULL);
	int c = connect_server(&s);
	cr_assert_str_eq(ask(c, "ping"), "pong");
	cr_assert(log_line_with("class=aborted", "action=retried"), "%s", log_lines());
	expect_set(&s, "log_events=none");
	cr_assert_str_eq(ask(c, "sock"), "ok");
	close(c);
	c = connect_server(&s);
	cr_expect_str_eq(ask(c, "ping"), "pong", "the third accept's abort retried");
	cr_expect_eq(TOOL("status", fx_num(s.pid)), 0);
	cr_expect(strstr(res.out, "differs from its policy: log_events=none"), "%s",
		  res.out);
	cr_expect(strstr(log_lines(), "generation=1 adopted: log_events=none"), "%s",
		  log_lines());
	cr_expect_null(strstr(lines_after("generation=1 adopted"), "class=aborted"),
		       "%s", log_lines());
	close(c);
	server_stop(&s);
}

Test(set, refused_keys_and_bad_values_change_nothing)
{
	struct server s = { 0 };
	static const struct {
		const char *arg, *says;
	} bad[] = {
		{ "sigpipe=off", "sigpipe cannot change while the process runs" },
		{ "log=stderr", "log cannot change while the process runs" },
		{ "log_facility=local0", "log_facility cannot change" },
		{ "log_format=rfc5424", "log_format cannot change" },
		{ "retry_max=abc", "retry_max: 'abc' is not a whole number of retries" },
		{ "eagain=sometimes", "eagain: 'sometimes' is not one of off, blocking" },
		{ "bogus=1", "unknown key 'bogus'" },
		{ "mode", "'mode' is neither a process id nor KEY=VALUE" },
	};

	server_start(&s, 0, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(TOOL("set", fx_num(s.pid), "retry_max=5",
				  (char *)bad[i].arg), 2, "%s", bad[i].arg);
		cr_expect(strstr(res.err, bad[i].says), "%s: %s", bad[i].arg, res.err);
	}
	cr_expect_eq(TOOL("set", "mode=observe"), 2, "no process: %s", res.err);
	cr_expect_eq(TOOL("set", fx_num(s.pid)), 2, "no change: %s", res.err);
	cr_expect_eq(TOOL("set", fx_num(s.pid), "--reset", "mode=off"), 2);
	cr_expect_eq(TOOL("status", "--json", fx_num(s.pid)), 0);
	cr_expect(strstr(res.out, "\"generation\":0,\"live\":{}"), "%s", res.out);
	server_stop(&s);
}

/*
 * Writes the slot `current & 1` of pid's block whole, then `current`, as no
 * tool should (the tool writes the sequence count first and last).
 */
static void write_raw_slot(pid_t pid, const struct sg_live_slot *slot,
			   uint32_t current)
{
	uint64_t addr;

	cr_assert_eq(sg_shim_block_address(pid, SG_LIVE_SYMBOL, &addr), 0);
	struct iovec l[2] = { { (void *)slot, sizeof(*slot) },
			      { &current, sizeof(current) } };
	struct iovec r[2] = {
		{ (void *)(uintptr_t)(addr + offsetof(struct sg_live, slot) +
				      (current & 1) * sizeof(*slot)),
		  sizeof(*slot) },
		{ (void *)(uintptr_t)(addr + offsetof(struct sg_live, current)),
		  sizeof(current) },
	};
	cr_assert_eq(process_vm_writev(pid, &l[0], 1, &r[0], 1, 0), (ssize_t)sizeof(*slot));
	cr_assert_eq(process_vm_writev(pid, &l[1], 1, &r[1], 1, 0),
		     (ssize_t)sizeof(current));
}

Test(set, process_refuses_a_block_out_of_range_written_by_another_hand)
{
	struct server s = { 0 };
	struct sg_live_slot slot = { .seq = 2, .generation = 1 };

	server_start(&s, 0, NULL);
	int c = connect_server(&s);
	sg_settings_default(&slot.vals);
	slot.keys = 1u << SG_KEY_RETRY_MAX;
	slot.vals.retry_max = 5000000;
	write_raw_slot(s.pid, &slot, 1);
	cr_assert_str_eq(ask(c, "sock"), "ok");
	cr_expect(log_line_with("live settings generation=1 refused: retry_max has "
				"a value out of range", NULL), "%s", log_lines());
	cr_expect_eq(TOOL("status", fx_num(s.pid)), 0);
	cr_expect(strstr(res.out, "harden       0"), "nothing adopted: %s", res.out);

	slot.generation = 2;
	slot.keys = 1u << SG_KEY_SIGPIPE;
	slot.vals.sigpipe = SG_SIGPIPE_OFF;
	write_raw_slot(s.pid, &slot, 2);
	cr_assert_str_eq(ask(c, "sock"), "ok");
	cr_expect(log_line_with("generation=2 refused: sigpipe cannot change", NULL),
		  "%s", log_lines());
	expect_set(&s, "retry_max=9");
	cr_expect(strstr(res.out, "generation 3"), "the tool goes on from there: %s",
		  res.out);
	cr_assert_str_eq(ask(c, "sock"), "ok");
	cr_expect(log_line_with("generation=3 adopted: retry_max=9", NULL), "%s",
		  log_lines());
	close(c);
	server_stop(&s);
}

/* Each odd target gives exit 1 and exactly one line naming the pid and why. */
static void one_line_about(const char *const prefix[], pid_t pid, const char *why)
{
	char name[32];

	cr_expect_eq(tool_as(prefix, (char *const[]){ "set", fx_num(pid),
						      "mode=observe", NULL }), 1,
		     "%s%s", res.out, res.err);
	snprintf(name, sizeof(name), "set: %d: ", (int)pid);
	cr_expect_eq(fx_line_count(res.err), 1, "%s", res.err);
	cr_expect(strstr(res.err, name) && strstr(res.err, why), "%s", res.err);
	cr_expect_eq(res.out[0], '\0', "%s", res.out);
}

Test(set, vanished_zombie_kernel_thread_and_pid1_get_one_line)
{
	one_line_about(NULL, fx_vanished_pid(), "no such process");
	pid_t z = fx_zombie();
	cr_assert_gt(z, 0, "%s", fx_skip_reason());
	one_line_about(NULL, z, "is a zombie");
	waitpid(z, NULL, 0);
	if (fx_kernel_thread())
		one_line_about(NULL, 2, "is a kernel thread");
	/* PID 1 has no shim here, or its maps are closed even to root. */
	FILE *maps = fopen("/proc/1/maps", "r");
	if (fx_sh("grep -qs libsockguard.so /proc/1/maps") != 0)
		one_line_about(NULL, 1, maps ? "libsockguard.so is not loaded" :
			       "permission denied");
	if (maps)
		fclose(maps);
}

Test(set, unprivileged_user_and_inert_shim_get_one_line)
{
	struct server s = { 0 };
	static const char *const nobody[] = { "setpriv", "--reuid=65534",
					      "--regid=65534", "--clear-groups",
					      NULL };

	if (fx_need_root() != 0)
		cr_skip_test("needs root");
	FX_REQUIRE_PROGRAM("setpriv");
	server_start(&s, 0, NULL);
	one_line_about(nobody, s.pid, "permission denied");
	server_stop(&s);
	server_start(&s, 0, "mode=off");
	one_line_about(NULL, s.pid, "the shim is inert in it (mode=off when it started)");
	server_stop(&s);
}

Test(set, process_in_another_pid_namespace)
{
	char out[400];
	pid_t inner = 0;

	if (fx_need_root() != 0)
		cr_skip_test("needs root");
	int p = fx_closed_port();
	snprintf(out, sizeof(out), "%s/pidns.out", env.dir);
	pid_t child = fx_spawn_pidns((char *const[]){ (char *)fx_prog("set_server"),
						      fx_num(p), NULL },
				     fx_env_shim(&env, NULL), out, &inner);
	cr_assert_gt(child, 0, "%s", fx_skip_reason());
	struct server s = { child, inner, p, "" };
	snprintf(s.out, sizeof(s.out), "%s", out);
	cr_assert(fx_wait_file(s.out, "ready 1\n", 5000), "%s", server_output(&s));

	expect_set(&s, "retry_max=7");
	cr_expect(strstr(res.out, "(pid 1 in its PID namespace)"), "%s", res.out);
	int c = connect_server(&s);
	cr_expect_str_eq(ask(c, "sock"), "ok");
	cr_expect_eq(TOOL("status", "--json", fx_num(inner)), 0, "%s", res.err);
	cr_expect(strstr(res.out, "\"generation\":1,\"live\":{\"retry_max\":\"7\"}"),
		  "%s", res.out);
	close(c);
	fx_stop(child);
}

Test(set, unit_takes_the_processes_of_its_cgroup)
{
	struct server s = { 0 };
	char cg[4096 + 80], unit[64];

	if (fx_need_root() != 0)
		cr_skip_test("needs root");
	const char *mnt = fx_cgroup2_mount();
	if (!mnt)
		cr_skip_test("needs cgroup v2");
	snprintf(unit, sizeof(unit), "sgtest-set-%d.service", (int)getpid());
	snprintf(cg, sizeof(cg), "%s/%s", mnt, unit);
	cr_assert_eq(mkdir(cg, 0755), 0, "%s", strerror(errno));
	server_start(&s, 0, NULL);
	cr_assert_eq(fx_sh("echo %d > %s/cgroup.procs", (int)s.pid, cg), 0);
	int rc = TOOL("set", "--unit", unit, "log_burst=3");
	server_stop(&s);
	rmdir(cg);
	cr_expect_eq(rc, 0, "%s%s", res.out, res.err);
	cr_expect(strstr(res.out, fx_num(s.pid)) && strstr(res.out, "log_burst=3"),
		  "%s", res.out);
}
