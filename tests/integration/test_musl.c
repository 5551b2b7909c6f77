/*
 * The musl build of the shim (sockguard(8), "musl"): what it links, how
 * run, enable and audit choose between the two builds by the program's
 * ELF interpreter, and what happens when a program gets the other libc's
 * build.  The programs are the musl builds of tests/progs (interpreter
 * /lib/ld-musl-*.so.1); the suites that drive legacy-style programs rerun
 * with them in tests/run-tests.sh's musl group.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"

static struct fx_result res;
static char dir[256];		/* the test's private directory */
static char glibc_lib[4096], musl_lib[4096];
static char bare[300];		/* dir/bare: the tool and the glibc build only */

/* A program under test holding a TCP connection to a listener of ours. */
struct target {
	pid_t pid;
	int lfd, conn;
	char out[400];
};

/* $BUILD/musl/tests/progs/NAME. */
static const char *musl_prog(const char *name)
{
	static char buf[4][4096];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, 4096, "%s/musl/tests/progs/%s", fx_build_dir(), name);
	return b;
}

static void setup(void)
{
	snprintf(glibc_lib, sizeof(glibc_lib), "%s/libsockguard.so", fx_build_dir());
	snprintf(musl_lib, sizeof(musl_lib), "%s/musl/libsockguard.so",
		 fx_build_dir());
	if (access(musl_lib, R_OK) != 0)
		cr_skip_test("needs program musl-gcc: %s was not built", musl_lib);
	cr_assert_eq(fx_tempdir(dir, sizeof(dir)), 0, "%s", fx_skip_reason());
	snprintf(bare, sizeof(bare), "%s/bare", dir);
	cr_assert_eq(fx_sh("mkdir %s && cp %s/sockguard %s %s", bare,
			   fx_build_dir(), glibc_lib, bare), 0);
}

static void teardown(void)
{
	if (dir[0])
		fx_rmtree(dir);
}

TestSuite(musl, .init = setup, .fini = teardown, .timeout = 60);

/* Runs argv with env; returns the exit code. */
static int run_argv(char *const argv[], char *const env[])
{
	cr_assert_eq(fx_run(argv, env, 20000, &res), 0, "%s did not finish",
		     argv[0]);
	return fx_exit_code(&res);
}

/* `TOOL_DIR/sockguard ARGS...` (TOOL_DIR NULL: the build directory). */
static int tool_in(const char *tool_dir, char *const args[])
{
	char path[4096], *argv[16] = { path };
	int n = 1;

	snprintf(path, sizeof(path), "%s/sockguard", tool_dir ? tool_dir :
		 fx_build_dir());
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return run_argv(argv, NULL);
}

/* `TOOL run ARG...` where TOOL is build/sockguard or tool_path. */
static int run_with(const char *tool_path, char *const env[], const char *a1,
		    const char *a2)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/sockguard", tool_path ? tool_path :
		 fx_build_dir());
	char *argv[] = { path, "run", (char *)a1, (char *)a2, NULL };
	return run_argv(argv, env);
}

/* The lines "mapped=..." and "preload=..." of shim_probe's output. */
static void expect_probe(const char *mapped, const char *preload)
{
	char want[8300];

	if (mapped)
		snprintf(want, sizeof(want), "mapped=%s\npreload=%s\nran\n", mapped,
			 preload);
	else
		snprintf(want, sizeof(want), "preload=%s\nran\n", preload);
	cr_expect_str_eq(res.out, want, "stderr: %s", res.err);
}

Test(musl, the_musl_build_needs_only_musls_libc)
{
	char cmd[4200], line[512], needed[2048] = "";
	int count = 0;

	snprintf(cmd, sizeof(cmd), "readelf -d '%s'", musl_lib);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	while (fgets(line, sizeof(line), p)) {
		char *lib = strstr(line, "(NEEDED)");
		if (!lib || !(lib = strchr(lib, '[')))
			continue;
		count++;
		strncat(needed, lib, sizeof(needed) - strlen(needed) - 1);
		cr_expect(strncmp(lib, "[libc.so]", 9) == 0 ||
			  strncmp(lib, "[ld-musl-", 9) == 0,
			  "the musl build needs %s", lib);
	}
	cr_assert_eq(pclose(p), 0, "readelf failed");
	cr_expect_eq(count, 1, "NEEDED: %s", needed);
	snprintf(cmd, sizeof(cmd), "readelf -l '%s' | grep -q "
		 "'interpreter: /lib/ld-musl-'", musl_prog("shim_probe"));
	cr_expect_eq(fx_sh("%s", cmd), 0, "the test programs are musl programs");
}

Test(musl, run_preloads_the_musl_build_into_a_musl_program)
{
	char *const unset[] = { "LD_PRELOAD", NULL };

	cr_assert_eq(run_with(NULL, unset, musl_prog("shim_probe"), NULL), 0,
		     "%s", res.err);
	expect_probe(musl_lib, musl_lib);
	cr_expect_str_eq(res.err, "");
	/* The same tool picks the glibc build for a glibc program. */
	char glibc_probe[4096];
	fx_prog_path("shim_probe", glibc_probe, sizeof(glibc_probe));
	cr_assert_eq(run_with(NULL, unset, glibc_probe, NULL), 0, "%s", res.err);
	expect_probe(glibc_lib, glibc_lib);
}

/* The sanitizer build of the glibc shim needs glibc's UBSan runtime. */
static void glibc_build_must_be_plain(void)
{
	if (getenv("SG_SANITIZE"))
		cr_skip_test("the sanitizer build of the glibc shim links the "
			     "UBSan runtime, which a musl program cannot load");
}

/*
 * A glibc program that starts a musl one hands it the glibc build through
 * an inherited LD_PRELOAD.  musl's loader maps it (its one glibc-only
 * import is weak), and it stays inactive: the program runs as it does
 * without the shim.  (Before, musl's loader stopped it before main with
 * exit status 127.)
 */
Test(musl, the_glibc_build_inherited_by_a_musl_program_stays_inactive)
{
	char env[4200], port[16], without[256] = "";
	char opts[] = "SOCKGUARD_OPTIONS=log=stderr";

	glibc_build_must_be_plain();
	snprintf(env, sizeof(env), "LD_PRELOAD=%s", glibc_lib);
	char *argv[] = { (char *)musl_prog("shim_probe"), NULL };
	cr_expect_eq(run_argv(argv, (char *const[]){ env, NULL }), 0,
		     "the musl program did not start: %s", res.err);
	expect_probe(glibc_lib, glibc_lib);
	cr_expect_str_eq(res.err, "");
	/* A refused connect: the same errno as without it, and no line. */
	snprintf(port, sizeof(port), "%d", fx_closed_port());
	char *faults[] = { (char *)musl_prog("log_faults"), "refused", port, NULL };
	cr_assert_eq(run_argv(faults, (char *const[]){ "LD_PRELOAD", NULL }), 0);
	memcpy(without, res.out, sizeof(without) - 1);
	cr_assert(strstr(without, "ECONNREFUSED"), "%s", without);
	cr_expect_eq(run_argv(faults, (char *const[]){ env, opts, NULL }), 0);
	cr_expect_str_eq(res.out, without);
	cr_expect_str_eq(res.err, "", "the inactive shim logged");
	/* Under run, the inherited glibc build gives way to the musl one. */
	cr_assert_eq(run_with(NULL, (char *const[]){ env, NULL },
			      musl_prog("shim_probe"), NULL), 0, "%s", res.err);
	expect_probe(musl_lib, musl_lib);
}

/*
 * A glibc program that inherits the musl build (a shell a musl program
 * starts) runs without it: glibc's loader refuses the build's ELF header
 * and says so in one line.
 */
Test(musl, a_glibc_program_given_the_musl_build_runs_without_it)
{
	char env[4200], glibc_probe[4096];

	snprintf(env, sizeof(env), "LD_PRELOAD=%s", musl_lib);
	fx_prog_path("shim_probe", glibc_probe, sizeof(glibc_probe));
	char *argv[] = { glibc_probe, NULL };
	cr_assert_eq(run_argv(argv, (char *const[]){ env, NULL }), 0,
		     "stderr: %s", res.err);
	expect_probe(NULL, musl_lib);
	cr_expect(strstr(res.err, "cannot be preloaded") &&
		  strstr(res.err, "ignored"), "stderr: %s", res.err);
}

Test(musl, run_judges_a_script_by_its_interpreter)
{
	char script[400];
	char *const unset[] = { "LD_PRELOAD", NULL };

	snprintf(script, sizeof(script), "%s/probe.sh", dir);
	cr_assert_eq(fx_sh("printf '#!%s\\n' > %s && chmod 755 %s",
			   musl_prog("shim_probe"), script, script), 0);
	cr_assert_eq(run_with(NULL, unset, script, NULL), 0, "%s", res.err);
	expect_probe(musl_lib, musl_lib);
}

Test(musl, run_without_the_musl_build_runs_the_program_without_the_shim)
{
	char *const unset[] = { "LD_PRELOAD", NULL };

	cr_assert_eq(run_with(bare, unset, musl_prog("shim_probe"), NULL), 0,
		     "%s", res.err);
	expect_probe(NULL, "");
	cr_expect(strstr(res.err, "is a musl program") &&
		  strstr(res.err, "running it without the shim"), "%s", res.err);
	cr_expect_eq(strchr(res.err, '\n'), res.err + strlen(res.err) - 1,
		     "one line: %s", res.err);
}

/* The drop-in of enable --root for a unit whose ExecStart= is exec. */
static int enable_unit(const char *tool_dir, const char *exec, char *dropin,
		       size_t len)
{
	char root[400], path[4096];

	snprintf(root, sizeof(root), "%s/root", dir);
	cr_assert_eq(fx_sh("rm -rf %s && mkdir -p %s/usr/bin %s/lib/systemd/system "
			   "&& cp %s %s/usr/bin/probe && printf '[Service]\\n"
			   "ExecStartPre=/bin/true\\nExecStart=%s --flag\\n' > "
			   "%s/lib/systemd/system/probe.service", root, root, root,
			   musl_prog("shim_probe"), root, exec, root), 0);
	snprintf(path, sizeof(path), "%s/sockguard", tool_dir);
	char *argv[] = { path, "enable", "--root", root, "probe", NULL };
	int rc = run_argv(argv, NULL);
	snprintf(path, sizeof(path), "%s/etc/systemd/system/probe.service.d/"
		 "sockguard.conf", root);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(dropin, 1, len - 1, f) : 0;
	dropin[n] = '\0';
	if (f)
		fclose(f);
	return rc;
}

Test(musl, enable_preloads_the_musl_build_for_a_musl_execstart)
{
	char text[4096], want[4200];

	if (fx_need_root() != 0)
		cr_skip_test("needs root: enable checks that root owns the library");
	snprintf(want, sizeof(want), "Environment=\"LD_PRELOAD=%s\"\n", musl_lib);
	cr_assert_eq(enable_unit(fx_build_dir(), "/usr/bin/probe", text,
				 sizeof(text)), 0, "%s", res.err);
	cr_expect(strstr(text, want), "%s", text);
	cr_expect(strstr(res.out, "a musl program"), "%s", res.out);
	/* Prefixes before the program, and a name systemd looks up. */
	cr_assert_eq(enable_unit(fx_build_dir(), "-probe", text, sizeof(text)), 0,
		     "%s", res.err);
	cr_expect(strstr(text, want), "%s", text);
	cr_assert_eq(enable_unit(fx_build_dir(), "@/usr/bin/probe", text,
				 sizeof(text)), 0, "%s", res.err);
	cr_expect(strstr(text, want), "%s", text);
}

Test(musl, enable_without_the_musl_build_refuses_and_writes_nothing)
{
	char text[4096];

	if (fx_need_root() != 0)
		cr_skip_test("needs root: enable checks that root owns the library");
	cr_expect_eq(enable_unit(bare, "/usr/bin/probe", text, sizeof(text)), 1);
	cr_expect_str_eq(text, "", "a drop-in was written");
	cr_expect(strstr(res.err, "musl build") && strstr(res.err, "nothing written"),
		  "%s", res.err);
}

/*
 * Starts tune_target's musl build (through `sockguard run` when via_run)
 * connected to a listener of ours, and waits for its "ready".
 */
/* how: 0 no preload, 1 through `sockguard run`, 2 LD_PRELOAD=the glibc build */
static void start_musl_target(struct target *t, int how)
{
	char port[16], tool_path[4096], env[4200] = "LD_PRELOAD";
	int p;

	t->lfd = fx_listen_tcp(&p);
	cr_assert_geq(t->lfd, 0, "%s", fx_skip_reason());
	snprintf(port, sizeof(port), "%d", p);
	snprintf(tool_path, sizeof(tool_path), "%s/sockguard", fx_build_dir());
	snprintf(t->out, sizeof(t->out), "%s/target.out", dir);
	char *run_argv[] = { tool_path, "run", (char *)musl_prog("tune_target"),
			     port, NULL };
	char **argv = how == 1 ? run_argv : run_argv + 2;
	if (how == 2)
		snprintf(env, sizeof(env), "LD_PRELOAD=%s", glibc_lib);
	t->pid = fx_spawn(argv, (char *const[]){ env, NULL }, t->out);
	cr_assert_gt(t->pid, 0, "%s", fx_skip_reason());
	struct pollfd pfd = { t->lfd, POLLIN, 0 };
	cr_assert_eq(poll(&pfd, 1, 10000), 1, "the target did not connect");
	t->conn = accept(t->lfd, NULL, NULL);
	cr_assert(fx_wait_file(t->out, "ready\n", 10000), "the target is not ready");
}

static void stop_target(struct target *t)
{
	fx_stop(t->pid);
	close(t->conn);
	close(t->lfd);
}

Test(musl, status_and_audit_see_a_musl_program_with_the_musl_build)
{
	struct target t;

	start_musl_target(&t, 1);
	cr_expect_eq(tool_in(NULL, (char *const[]){ "status",
			     fx_num(t.pid), NULL }), 0, "%s %s", res.out,
		     res.err);
	cr_expect(strstr(res.out, "tune_target"), "%s", res.out);
	cr_expect_eq(tool_in(NULL, (char *const[]){ "audit",
			     fx_num(t.pid), NULL }), 0, "%s %s", res.out,
		     res.err);
	cr_expect(strstr(res.out, "covered"), "%s", res.out);
	stop_target(&t);
}

/* The first child of pid (from /proc), or -1. */
static pid_t first_child(pid_t pid)
{
	char path[64];
	int child = -1;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	for (long end = fx_now_ms() + 5000; child < 0 && fx_now_ms() < end;
	     usleep(20000)) {
		FILE *f = fopen(path, "r");
		if (f && fscanf(f, "%d", &child) != 1)
			child = -1;
		if (f)
			fclose(f);
	}
	return child;
}

/*
 * As in a container: the musl program in its own mount and PID namespaces,
 * the library bind-mounted at another path (keeping its file name) and
 * named in LD_PRELOAD.  The tools on the host see it.
 */
Test(musl, status_and_audit_see_a_musl_program_in_a_container)
{
	struct target t;
	char cmd[8192], port[16];
	int p;

	if (fx_need_root() != 0)
		cr_skip_test("needs root: unshare(1) of mount and PID namespaces");
	FX_REQUIRE_PROGRAM("unshare");
	t.lfd = fx_listen_tcp(&p);
	cr_assert_geq(t.lfd, 0, "%s", fx_skip_reason());
	snprintf(port, sizeof(port), "%d", p);
	snprintf(t.out, sizeof(t.out), "%s/container.out", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/ctr && mount -t tmpfs none %s/ctr && "
		 "touch %s/ctr/libsockguard.so && mount --bind %s %s/ctr/libsockguard.so "
		 "&& LD_PRELOAD=%s/ctr/libsockguard.so exec %s %s", dir, dir, dir,
		 musl_lib, dir, dir, musl_prog("tune_target"), port);
	char *argv[] = { "unshare", "--mount", "--pid", "--fork", "sh", "-c", cmd,
			 NULL };
	pid_t unshare_pid = fx_spawn(argv, (char *const[]){ "LD_PRELOAD", NULL },
				     t.out);
	cr_assert_gt(unshare_pid, 0, "%s", fx_skip_reason());
	struct pollfd pfd = { t.lfd, POLLIN, 0 };
	cr_assert_eq(poll(&pfd, 1, 10000), 1, "the target did not connect");
	t.conn = accept(t.lfd, NULL, NULL);
	cr_assert(fx_wait_file(t.out, "ready\n", 10000), "the target is not ready");
	t.pid = unshare_pid;
	pid_t target = first_child(unshare_pid);
	cr_assert_gt(target, 0, "no process inside the namespaces");
	cr_expect_eq(tool_in(NULL, (char *const[]){ "status",
			     fx_num(target), NULL }), 0, "%s %s", res.out,
		     res.err);
	cr_expect(strstr(res.out, "tune_target"), "%s", res.out);
	cr_expect_eq(tool_in(NULL, (char *const[]){ "audit",
			     fx_num(target), NULL }), 0, "%s %s", res.out,
		     res.err);
	cr_expect(strstr(res.out, "covered"), "%s", res.out);
	stop_target(&t);
}

Test(musl, audit_calls_a_musl_program_blind_only_without_the_musl_build)
{
	struct target t;

	start_musl_target(&t, 0);
	char *const audit[] = { "audit", fx_num(t.pid), NULL };
	cr_expect_eq(tool_in(bare, audit), 1, "%s", res.err);
	cr_expect(strstr(res.out, "no musl build"), "%s", res.out);
	cr_expect_eq(tool_in(NULL, audit), 1, "%s", res.err);
	cr_expect(strstr(res.out, "not preloaded") && !strstr(res.out, "musl build"),
		  "with the musl build installed: %s", res.out);
	stop_target(&t);
}

Test(musl, audit_calls_a_musl_program_with_the_inactive_glibc_build_blind)
{
	struct target t;

	glibc_build_must_be_plain();
	start_musl_target(&t, 2);
	cr_expect_eq(tool_in(NULL, (char *const[]){ "audit", fx_num(t.pid),
			     NULL }), 1, "%s", res.err);
	cr_expect(strstr(res.out, "blind") && strstr(res.out, "stays inactive"),
		  "%s", res.out);
	stop_target(&t);
}

Test(musl, install_puts_the_musl_build_in_lib_musl_for_the_installed_tool)
{
	char prefix[320], bin[400], lib[400];
	char *const unset[] = { "LD_PRELOAD", NULL };

	snprintf(prefix, sizeof(prefix), "%s/prefix", dir);
	snprintf(bin, sizeof(bin), "%s/bin", prefix);
	snprintf(lib, sizeof(lib), "%s/lib/musl/libsockguard.so", prefix);
	cr_assert_eq(fx_sh("make -s install BUILD=%s PREFIX=%s >%s/install.out 2>&1",
			   fx_build_dir(), prefix, dir), 0, "see %s/install.out", dir);
	cr_assert_eq(run_with(bin, unset, musl_prog("shim_probe"), NULL), 0,
		     "%s", res.err);
	expect_probe(lib, lib);
	cr_assert_eq(fx_sh("make -s uninstall BUILD=%s PREFIX=%s >%s/install.out 2>&1",
			   fx_build_dir(), prefix, dir), 0, "see %s/install.out", dir);
	cr_expect_neq(access(lib, F_OK), 0, "uninstall left %s", lib);
	snprintf(lib, sizeof(lib), "%s/lib/musl", prefix);
	cr_expect_neq(access(lib, F_OK), 0, "uninstall left %s", lib);
}
