/*
 * `sockguard status` against real processes: one hardened and one observed, both meeting refused connects,
 * and one without the shim.  The counters it reads from their memory must
 * match the events each one logged.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"

static struct fx_result res;

TestSuite(status, .init = fx_suite_open, .fini = fx_suite_close, .timeout = 60);

/* A target process logging to dir/NAME.sock; preloaded unless mode is NULL. */
struct target {
	pid_t pid;
	int log_fd;
	char out[400];
};

static void start_named(struct target *t, const char *name, const char *mode,
			int count, int port, const char *comm)
{
	char sock[400], opts[600], n[16], p[16];

	snprintf(sock, sizeof(sock), "%s/%s.sock", env.dir, name);
	snprintf(t->out, sizeof(t->out), "%s/%s.out", env.dir, name);
	t->log_fd = fx_log_receiver_open(sock);
	cr_assert_geq(t->log_fd, 0, "%s", fx_skip_reason());
	snprintf(opts, sizeof(opts), "mode=%s:log=unix:%s", mode ? mode : "off",
		 sock);
	snprintf(n, sizeof(n), "%d", count);
	snprintf(p, sizeof(p), "%d", port);
	t->pid = fx_spawn((char *const[]){ (char *)fx_prog("tool_status_target"),
					   n, p, (char *)comm, NULL },
			  mode ? fx_env_shim(&env, opts) : fx_env_plain(&env),
			  t->out);
	cr_assert_gt(t->pid, 0, "%s", fx_skip_reason());
}

static void start(struct target *t, const char *name, const char *mode,
		  int count, int port)
{
	start_named(t, name, mode, count, port, NULL);
}

/* Waits for "ready N" and checks that all COUNT connects were refused. */
static void wait_ready(const struct target *t, int count)
{
	char want[32], buf[64];

	snprintf(want, sizeof(want), "ready %d\n", count);
	fx_wait_file(t->out, "\n", 10000);
	cr_assert_str_eq(fx_read_file(t->out, buf, sizeof(buf)), want,
			 "the target did not get ready");
}

/* Runs build/sockguard ARGS... (NULL-terminated); its exit code. */
static int tool(char *const args[])
{
	cr_assert_eq(fx_tool(NULL, args, NULL, 20000, &res), 0, "%s",
		     fx_skip_reason());
	return fx_exit_code(&res);
}

/* The JSON object of one pid in the --json output, or NULL. */
static const char *json_of(pid_t pid)
{
	char key[32];

	snprintf(key, sizeof(key), "{\"pid\":%d,", (int)pid);
	return strstr(res.out, key);
}

/* Whether the object (up to its line's end) holds the text. */
static int object_has(const char *obj, const char *text)
{
	const char *end = strchr(obj, '\n'), *at = strstr(obj, text);

	return at && (!end || at < end);
}

Test(status, counters_match_the_events_each_process_logged)
{
	struct target hard, obs, plain;
	static char log[65536];
	char want[64], pids[3][16];
	int port = fx_closed_port();

	start(&hard, "hard", "harden", 5, port);
	start(&obs, "obs", "observe", 3, port);
	start(&plain, "plain", NULL, 2, port);
	wait_ready(&hard, 5), wait_ready(&obs, 3), wait_ready(&plain, 2);

	fx_log_collect(hard.log_fd, log, sizeof(log), 300);
	int hard_logged = fx_log_count(log, "class=refused");
	cr_expect_eq(hard_logged, 5, "log: %s", log);
	log[0] = '\0';
	fx_log_collect(obs.log_fd, log, sizeof(log), 300);
	int obs_logged = fx_log_count(log, "class=refused");
	cr_expect_eq(obs_logged, 3, "log: %s", log);

	snprintf(pids[0], 16, "%d", (int)hard.pid);
	snprintf(pids[1], 16, "%d", (int)obs.pid);
	snprintf(pids[2], 16, "%d", (int)plain.pid);
	cr_expect_eq(tool((char *const[]){ "status", "--json", pids[0], pids[1],
						  pids[2], NULL }), 1,
		     "a named process without the shim makes it 1");
	cr_expect(strstr(res.err, "is not loaded"), "%s", res.err);
	const char *h = json_of(hard.pid), *o = json_of(obs.pid);
	cr_assert(h && o, "%s", res.out);
	cr_expect_null(json_of(plain.pid), "%s", res.out);
	cr_expect(object_has(h, "\"mode\":\"harden\""), "%s", h);
	snprintf(want, sizeof(want), "\"refused\":%d,", hard_logged);
	cr_expect(object_has(h, want), "%s", h);
	cr_expect(object_has(o, "\"mode\":\"observe\""), "%s", o);
	snprintf(want, sizeof(want), "\"refused\":%d,", obs_logged);
	cr_expect(object_has(o, want), "%s", o);
	cr_expect(object_has(h, "\"program\":\"tool_status_tar\""), "comm: %s", h);
	fx_stop(hard.pid), fx_stop(obs.pid), fx_stop(plain.pid);
}

/* The table's line for pid, or NULL. */
static const char *table_line(pid_t pid)
{
	char key[32];

	snprintf(key, sizeof(key), "%7d  ", (int)pid);
	for (const char *l = res.out; l; l = strchr(l, '\n')) {
		l += *l == '\n';
		if (strncmp(l, key, strlen(key)) == 0)
			return l;
	}
	return NULL;
}

Test(status, table_lists_only_the_processes_with_the_shim)
{
	struct target hard, plain;
	int port = fx_closed_port();

	start(&hard, "hard", "harden", 4, port);
	start(&plain, "plain", NULL, 1, port);
	wait_ready(&hard, 4), wait_ready(&plain, 1);
	cr_expect_eq(tool((char *const[]){ "status", NULL }), 0);
	cr_expect(strstr(res.out, "refused"), "a column for the class: %s", res.out);
	const char *line = table_line(hard.pid);
	cr_assert(line, "%s", res.out);
	cr_expect(strstr(line, "harden"), "%s", line);
	cr_expect_null(table_line(plain.pid), "%s", res.out);
	fx_stop(hard.pid), fx_stop(plain.pid);
}

Test(status, bad_arguments_and_missing_processes)
{
	cr_expect_eq(tool((char *const[]){ "status", "notapid", NULL }), 2);
	cr_expect_eq(tool((char *const[]){ "status", "--bogus", NULL }), 2);
	cr_expect_eq(tool((char *const[]){ "status", "999999999", NULL }), 1);
	cr_expect(strstr(res.err, "no such process"), "%s", res.err);
}

Test(status, a_process_name_cannot_send_control_sequences_to_the_terminal)
{
	struct target t;
	char pid[16];
	int port = fx_closed_port();

	/* Red text, a carriage return and a window title, as a process may name itself. */
	start_named(&t, "esc", "harden", 1, port, "\x1b[31m\r\x1b]0;x\x07");
	wait_ready(&t, 1);
	snprintf(pid, sizeof(pid), "%d", (int)t.pid);
	cr_expect_eq(tool((char *const[]){ "status", pid, NULL }), 0);
	cr_expect_null(strpbrk(res.out, "\x1b\x07\r"), "raw control bytes: %s", res.out);
	int lines = 0;
	for (const char *c = res.out; *c; c++)
		lines += *c == '\n';
	cr_expect_eq(lines, 2, "a heading and one row: %s", res.out);
	const char *line = table_line(t.pid);
	cr_assert(line, "%s", res.out);
	cr_expect(strncmp(line + 9, "\\x1b[31m\\x0d... ", 16) == 0, "%s", line);
	cr_expect_eq(tool((char *const[]){ "status", "--json", pid, NULL }), 0);
	cr_expect_null(strpbrk(res.out, "\x1b\x07\r"), "raw control bytes: %s", res.out);
	cr_expect(strstr(res.out, "\"program\":\"\\u001b[31m\\u000d\\u001b]0;x\\u0007\""),
		  "%s", res.out);
	fx_stop(t.pid);
}

/*
 * Two copies of the library in one process: only the first in the lookup
 * order runs, and status reads that one's counters, whichever is mapped
 * lower.
 */
Test(status, two_copies_show_the_copy_that_runs)
{
	char preload[9000], sock[400], opts[600], pid[16], want[32];
	static char log[65536];
	int port = fx_closed_port();

	for (int copy_first = 0; copy_first < 2; copy_first++) {
		struct target t;
		snprintf(sock, sizeof(sock), "%s/two%d.sock", env.dir, copy_first);
		snprintf(t.out, sizeof(t.out), "%s/two%d.out", env.dir, copy_first);
		t.log_fd = fx_log_receiver_open(sock);
		cr_assert_geq(t.log_fd, 0, "%s", fx_skip_reason());
		snprintf(opts, sizeof(opts), "mode=harden:log=unix:%s", sock);
		cr_assert_not_null(fx_preload_env_with_copy(env.dir, copy_first,
							    preload, sizeof(preload)));
		char **e = fx_env_shim(&env, opts);
		e[0] = preload;
		t.pid = fx_spawn((char *const[]){ (char *)fx_prog("tool_status_target"),
						  "2", fx_num(port), NULL }, e, t.out);
		cr_assert_gt(t.pid, 0, "%s", fx_skip_reason());
		wait_ready(&t, 2);
		log[0] = '\0';
		fx_log_collect(t.log_fd, log, sizeof(log), 300);
		cr_expect_eq(fx_log_count(log, "class=refused"), 2, "%s: %s", preload,
			     log);
		snprintf(pid, sizeof(pid), "%d", (int)t.pid);
		cr_expect_eq(tool((char *const[]){ "status", "--json", pid, NULL }), 0,
			     "%s", res.err);
		const char *o = json_of(t.pid);
		cr_assert_not_null(o, "%s", res.out);
		cr_expect(object_has(o, "\"mode\":\"harden\""), "%s: %s", preload, o);
		snprintf(want, sizeof(want), "\"refused\":2,");
		cr_expect(object_has(o, want), "%s: %s", preload, o);
		fx_stop(t.pid);
		close(t.log_fd);
	}
}
