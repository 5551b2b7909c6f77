/*
 * `sockguard run`: the environment it hands
 * the command, its exit statuses, its warnings for programs the preload
 * cannot reach, and real programs that behave the same with and without it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_suite.h"

static struct fx_result res;

TestSuite(run, .init = fx_suite_open, .fini = fx_suite_close);

/* Runs `sockguard run ARGS...` with env_extra; returns its exit code. */
static int run_tool(char *const vars[], char *const args[])
{
	cr_assert_eq(fx_tool(NULL, args, vars, 20000, &res), 0,
		     "sockguard run did not finish");
	return fx_exit_code(&res);
}

#define RUN(vars, ...) run_tool(vars, (char *const[]){ "run", __VA_ARGS__, NULL })

Test(run, exits_with_the_commands_status)
{
	cr_expect_eq(RUN(NULL, "sh", "-c", "exit 7"), 7);
	cr_expect_eq(RUN(NULL, "--", "true"), 0);
	cr_expect_eq(RUN(NULL, "sh", "-c", "kill -TERM $$"), 128 + 15);
}

Test(run, missing_command_exits_127_with_a_message)
{
	cr_expect_eq(RUN(NULL, "sockguard-no-such-command"), 127);
	cr_expect(strstr(res.err, "sockguard-no-such-command: command not found"),
		  "stderr: %s", res.err);
	cr_expect_eq(RUN(NULL, "/nonexistent/dir/prog"), 127);
}

Test(run, command_that_cannot_be_executed_exits_126)
{
	char file[300];

	snprintf(file, sizeof(file), "%s/plain", env.dir);
	cr_assert_eq(fx_sh("echo data > %s && chmod 644 %s", file, file), 0);
	cr_expect_eq(RUN(NULL, file), 126, "stderr: %s", res.err);
	cr_expect_eq(RUN(NULL, env.dir), 126, "a directory is not a command");
}

Test(run, bad_arguments_exit_2_with_usage)
{
	cr_expect_eq(RUN(NULL, "-o"), 2);
	cr_expect_eq(RUN(NULL, "-o", "mode=observe"), 2, "no command");
	cr_expect(strstr(res.err, "usage: sockguard run"), "stderr: %s", res.err);
	cr_expect_eq(RUN(NULL, "-o", "novalue", "true"), 2);
	cr_expect_eq(RUN(NULL, "-o", "no_such_key=1", "true"), 2);
	cr_expect(strstr(res.err, "no_such_key"), "the key is named: %s", res.err);
	cr_expect_eq(RUN(NULL, "-o", "mode=bogus", "true"), 2);
	cr_expect_eq(RUN(NULL, "-x", "true"), 2);
	cr_expect_eq(RUN(NULL, "-c", "/nonexistent/sockguard.conf", "true"), 2);
	cr_expect(strstr(res.err, "/nonexistent/sockguard.conf"), "%s", res.err);
	cr_expect_eq(RUN(NULL, "-c", "/", "true"), 2, "a directory is no policy");
}

Test(run, prepends_the_shim_and_keeps_ld_preload)
{
	char want[4200];

	char *const with_libm[] = { "LD_PRELOAD=libm.so.6", NULL };
	char *const unset[] = { "LD_PRELOAD", NULL };

	RUN(with_libm, "sh", "-c", "echo \"$LD_PRELOAD\"");
	snprintf(want, sizeof(want), "%s:libm.so.6\n", fx_shim_path());
	cr_expect_str_eq(res.out, want);

	RUN(unset, "sh", "-c", "echo \"$LD_PRELOAD\"");
	snprintf(want, sizeof(want), "%s\n", fx_shim_path());
	cr_expect_str_eq(res.out, want, "alone when LD_PRELOAD was unset");
}

Test(run, does_not_add_the_shim_twice)
{
	char preload[4200], want[4200];

	snprintf(preload, sizeof(preload), "LD_PRELOAD=libm.so.6:%s", fx_shim_path());
	char *const extra[] = { preload, NULL };
	RUN(extra, "sh", "-c", "echo \"$LD_PRELOAD\"");
	snprintf(want, sizeof(want), "%s\n", preload + strlen("LD_PRELOAD="));
	cr_expect_str_eq(res.out, want);
}

Test(run, passes_config_as_absolute_path_and_appends_options)
{
	char rel[400], want[600];

	cr_assert_eq(fx_sh("mkdir %s/sub && echo 'mode = observe' > %s/p.conf",
			   env.dir, env.dir), 0);
	snprintf(rel, sizeof(rel), "%s/sub/../p.conf", env.dir);
	char *const extra[] = { "SOCKGUARD_OPTIONS=log=off", NULL };

	RUN(extra, "-c", rel, "-o", "mode=observe", "-o", "eagain_wait=100", "--",
	    "sh", "-c", "echo \"$SOCKGUARD_CONFIG|$SOCKGUARD_OPTIONS\"");
	snprintf(want, sizeof(want), "%s/p.conf|log=off:mode=observe:eagain_wait=100\n",
		 env.dir);
	cr_expect_str_eq(res.out, want, "stderr: %s", res.err);
}

Test(run, passes_the_commands_own_options_untouched)
{
	RUN(NULL, "sh", "-c", "echo \"$1 $2\"", "sh", "-o", "-c");
	cr_expect_str_eq(res.out, "-o -c\n");
}

Test(run, no_warning_for_a_dynamic_binary_or_a_script)
{
	char script[300];

	cr_expect_eq(RUN(NULL, "/bin/sh", "-c", "true"), 0);
	cr_expect_str_eq(res.err, "");
	snprintf(script, sizeof(script), "%s/script", env.dir);
	cr_assert_eq(fx_sh("printf '#!/bin/sh\\necho ok\\n' > %s && chmod 755 %s",
			   script, script), 0);
	cr_expect_eq(RUN(NULL, script), 0);
	cr_expect_str_eq(res.out, "ok\n");
	cr_expect_str_eq(res.err, "");
}

Test(run, warns_for_a_static_binary)
{
	if (fx_sh("printf 'int main(void){return 3;}\\n' > %s/s.c && "
		  "cc -static -o %s/static %s/s.c 2>/dev/null", env.dir,
		  env.dir, env.dir) != 0) {
		cr_skip_test("cc -static failed: libc.a (libc6-dev) is missing");
	}
	char prog[300];
	snprintf(prog, sizeof(prog), "%s/static", env.dir);
	cr_expect_eq(RUN(NULL, prog), 3, "it still runs");
	cr_expect(strstr(res.err, "statically linked"), "stderr: %s", res.err);
	cr_expect_eq(strchr(res.err, '\n') - res.err + 1, (long)strlen(res.err),
		     "one line: %s", res.err);
}

Test(run, warns_for_a_setuid_binary)
{
	char prog[300];

	if (fx_need_root() != 0)
		cr_skip_test("needs root: to make a set-user-ID copy");
	snprintf(prog, sizeof(prog), "%s/true", env.dir);
	cr_assert_eq(fx_sh("cp /bin/true %s && chown 65534 %s && chmod 4755 %s && "
			   "chmod 755 %s", prog, prog, prog, env.dir), 0);
	RUN(NULL, prog);
	cr_expect(strstr(res.err, "set-user-ID"), "stderr: %s", res.err);
}

/* Runs a shell command with and without the shim: same output and status. */
static void same_with_and_without(const char *cmd)
{
	static struct fx_result plain;
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	char *const unset[] = { "LD_PRELOAD", NULL };

	cr_assert_eq(fx_run(argv, unset, 20000, &plain), 0);
	int code = RUN(unset, "sh", "-c", (char *)cmd);
	cr_expect_eq(code, fx_exit_code(&plain), "%s: status", cmd);
	cr_expect_str_eq(res.out, plain.out, "%s: output", cmd);
}

Test(run, python_tcp_echo_is_unchanged)
{
	FX_REQUIRE_PROGRAM("python3");
	same_with_and_without(
		"python3 -c '\n"
		"import socket, threading\n"
		"s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(1)\n"
		"def serve():\n"
		"    c, _ = s.accept(); c.sendall(c.recv(100).upper()); c.close()\n"
		"t = threading.Thread(target=serve); t.start()\n"
		"c = socket.create_connection(s.getsockname())\n"
		"c.sendall(b\"hello over loopback\"); print(c.recv(100).decode())\n"
		"t.join()\n"
		"'");
	cr_expect_str_eq(res.out, "HELLO OVER LOOPBACK\n");
}

Test(run, curl_against_a_local_server_is_unchanged)
{
	char portarg[16], cmd[512];

	FX_REQUIRE_PROGRAM("curl");
	FX_REQUIRE_PROGRAM("python3");
	cr_assert_eq(fx_sh("echo 'served by python' > %s/hello.txt", env.dir), 0);
	int port = fx_closed_port();
	snprintf(portarg, sizeof(portarg), "%d", port);
	pid_t srv = fx_spawn((char *const[]){ "python3", "-m", "http.server",
		portarg, "--bind", "127.0.0.1", "--directory", env.dir, NULL },
		NULL, NULL);
	cr_assert_eq(fx_wait_port(port, 10000), 0, "http.server did not start");
	snprintf(cmd, sizeof(cmd), "curl -sS http://127.0.0.1:%d/hello.txt", port);
	same_with_and_without(cmd);
	cr_expect_str_eq(res.out, "served by python\n");
	snprintf(cmd, sizeof(cmd), "curl -sS -o /dev/null -w '%%{http_code}' "
		 "http://127.0.0.1:%d/missing", port);
	same_with_and_without(cmd);
	cr_expect_str_eq(res.out, "404");
	fx_stop(srv);
	snprintf(cmd, sizeof(cmd), "curl -s http://127.0.0.1:%d/", fx_closed_port());
	same_with_and_without(cmd);
	cr_expect_eq(fx_exit_code(&res), 7, "curl: could not connect");
}

Test(run, socat_is_unchanged)
{
	char cmd[256];
	int port;

	FX_REQUIRE_PROGRAM("socat");
	pid_t peer = fx_peer_echo(&port);
	cr_assert_gt(peer, 0, "%s", fx_skip_reason());
	snprintf(cmd, sizeof(cmd), "echo through socat | socat -t 5 - TCP:127.0.0.1:%d",
		 port);
	same_with_and_without(cmd);
	cr_expect_str_eq(res.out, "through socat\n");
	fx_stop(peer);
}
