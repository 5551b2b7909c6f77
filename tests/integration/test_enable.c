/*
 * `sockguard enable` and `disable`, always
 * with --root in a private directory.  The tool and its library are copied
 * into a root-owned directory first, because enable refuses a library that
 * anyone but root could change.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

static struct fx_result res;
static char dir[256];		/* the test's private directory */
static char bin[300];		/* dir/bin: sockguard and libsockguard.so */
static char root[300];		/* dir/root: the --root tree */

static void make_tree(void)
{
	if (fx_need_root() != 0)
		cr_skip_test("needs root: enable checks that root owns the library");
	cr_assert_eq(fx_tempdir(dir, sizeof(dir)), 0);
	snprintf(bin, sizeof(bin), "%s/bin", dir);
	snprintf(root, sizeof(root), "%s/root", dir);
	cr_assert_eq(fx_sh("mkdir -p %s %s/etc/systemd/system/other.service.d "
			   "%s/lib/systemd/system && cp %s/sockguard %s/libsockguard.so %s && "
			   "echo 'Environment=FOO=1' > %s/etc/systemd/system/other.service.d/x.conf && "
			   "printf '[Service]\\nExecStart=/usr/sbin/nginx\\n' > "
			   "%s/lib/systemd/system/nginx.service",
			   bin, root, root, fx_build_dir(), fx_build_dir(), bin,
			   root, root), 0);
}

static void remove_tree(void)
{
	if (dir[0])
		fx_rmtree(dir);
}

TestSuite(enable, .init = make_tree, .fini = remove_tree, .timeout = 60);

/* Every path, type, mode and owner under root, then every file's digest. */
static char *snapshot(void)
{
	static char buf[65536];
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cd %s && find . -printf '%%p %%y %%m %%U\\n' | "
		 "LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | "
		 "xargs -0r sha256sum", root);
	FILE *f = popen(cmd, "r");
	cr_assert(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	pclose(f);
	return strdup(buf);
}

/* Runs dir/bin/sockguard ARGS...; returns its exit code. */
static int tool(char *const args[])
{
	char path[400], *argv[32] = { path };
	int n = 1;

	snprintf(path, sizeof(path), "%s/sockguard", bin);
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	cr_assert_eq(fx_run(argv, NULL, 30000, &res), 0, "the tool did not finish");
	return fx_exit_code(&res);
}

#define TOOL(...) tool((char *const[]){ __VA_ARGS__, NULL })

static char *read_text(const char *fmt, const char *a)
{
	static char buf[8192];
	char path[600];

	snprintf(path, sizeof(path), fmt, a);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *dropin(void)
{
	return read_text("%s/etc/systemd/system/nginx.service.d/sockguard.conf", root);
}

Test(enable, unit_round_trip_leaves_the_tree_byte_identical)
{
	char *before = snapshot();

	cr_assert_eq(TOOL("enable", "--root", root, "-o", "mode=observe", "nginx"), 0,
		     "%s", res.err);
	cr_expect(strstr(res.out, "systemctl daemon-reload && systemctl restart "
			 "nginx.service"), "%s", res.out);
	cr_assert(dropin(), "the drop-in was not written");
	cr_assert_eq(TOOL("disable", "--root", root, "nginx.service"), 0, "%s", res.err);
	cr_expect(strstr(res.out, "systemctl daemon-reload"), "%s", res.out);
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

Test(enable, round_trip_with_missing_directories_removes_only_what_it_made)
{
	cr_assert_eq(fx_sh("rm -rf %s/etc/systemd", root), 0);
	char *before = snapshot();

	cr_assert_eq(TOOL("enable", "--root", root, "nginx"), 0, "%s", res.err);
	cr_assert_eq(TOOL("enable", "--root", root, "-o", "mode=off", "nginx"), 0,
		     "enabling again replaces the drop-in: %s", res.err);
	cr_assert_eq(TOOL("disable", "--root", root, "nginx"), 0, "%s", res.err);
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

Test(enable, writes_the_shim_the_policy_and_the_options)
{
	char want[600];

	cr_assert_eq(fx_sh("echo 'mode = observe' > %s/etc/sg.conf", root), 0);
	cr_assert_eq(TOOL("enable", "--root", root, "-c", "/etc/sg.conf", "-o",
			  "mode=observe", "-o", "log=unix:/run/sg 1", "nginx"), 0,
		     "%s", res.err);
	const char *text = dropin();
	cr_assert(text);
	snprintf(want, sizeof(want), "Environment=\"LD_PRELOAD=%s/libsockguard.so\"\n",
		 bin);
	cr_expect(strstr(text, want), "%s", text);
	cr_expect(strstr(text, "[Service]\n"), "%s", text);
	cr_expect(strstr(text, "Environment=\"SOCKGUARD_CONFIG=/etc/sg.conf\"\n"), "%s", text);
	cr_expect(strstr(text, "Environment=\"SOCKGUARD_OPTIONS=mode=observe:"
			 "log=unix:/run/sg 1\"\n"), "%s", text);
}

Test(enable, keeps_the_ld_preload_the_unit_already_sets)
{
	char want[600];

	cr_assert_eq(fx_sh("printf '[Service]\\nEnvironment=\"LD_PRELOAD=/opt/a.so "
			   "/opt/b.so\" FOO=1\\nExecStart=/bin/true\\n' > "
			   "%s/lib/systemd/system/nginx.service", root), 0);
	cr_assert_eq(TOOL("enable", "--root", root, "nginx"), 0, "%s", res.err);
	snprintf(want, sizeof(want), "LD_PRELOAD=%s/libsockguard.so:/opt/a.so:/opt/b.so\"",
		 bin);
	cr_expect(strstr(dropin(), want), "%s", dropin());

	/* A drop-in read before ours overrides the unit file's value. */
	cr_assert_eq(fx_sh("mkdir -p %s/etc/systemd/system/nginx.service.d && "
			   "printf '[Service]\\nEnvironment=LD_PRELOAD=/opt/c.so\\n' > "
			   "%s/etc/systemd/system/nginx.service.d/override.conf",
			   root, root), 0);
	cr_assert_eq(TOOL("enable", "--root", root, "nginx"), 0, "%s", res.err);
	snprintf(want, sizeof(want), "LD_PRELOAD=%s/libsockguard.so:/opt/c.so\"", bin);
	cr_expect(strstr(dropin(), want), "%s", dropin());
}

Test(enable, refuses_a_library_others_can_write_and_writes_nothing)
{
	char *before = snapshot();

	cr_assert_eq(fx_sh("chmod o+w %s/libsockguard.so", bin), 0);
	cr_expect_eq(TOOL("enable", "--root", root, "nginx"), 1);
	cr_expect(strstr(res.err, "writable by others"), "%s", res.err);
	cr_expect_eq(TOOL("enable", "--root", root, "--system", "--force"), 1);
	cr_assert_eq(fx_sh("chmod o-w %s/libsockguard.so && chown 65534 "
			   "%s/libsockguard.so", bin, bin), 0);
	cr_expect_eq(TOOL("enable", "--root", root, "nginx"), 1);
	cr_expect(strstr(res.err, "not by root"), "%s", res.err);
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

Test(enable, bad_arguments_exit_2)
{
	cr_expect_eq(TOOL("enable", "--root", root), 2);
	cr_expect_eq(TOOL("enable", "--root", root, "../evil"), 2);
	cr_expect_eq(TOOL("enable", "--root", root, "nginx.socket"), 2);
	cr_expect_eq(TOOL("enable", "--root", root, "--system", "nginx"), 2);
	cr_expect_eq(TOOL("enable", "--root", root, "--system", "-o", "mode=off"), 2);
	cr_expect_eq(TOOL("enable", "--root", root, "-o", "bad", "nginx"), 2);
	cr_expect_eq(TOOL("disable", "--root", root, "-o", "mode=off", "nginx"), 2);
	cr_expect_eq(TOOL("enable", "--root", "/nonexistent/root", "nginx"), 2);
}

Test(enable, disable_of_a_unit_without_the_drop_in_changes_nothing)
{
	char *before = snapshot();

	cr_expect_eq(TOOL("disable", "--root", root, "nginx"), 0);
	cr_expect(strstr(res.out, "nothing to do"), "%s", res.out);
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

Test(enable, system_refuses_without_a_policy_or_with_global_harden)
{
	char *before = snapshot();

	cr_expect_eq(TOOL("enable", "--root", root, "--system"), 1);
	cr_expect(strstr(res.err, "mode = observe"), "says what to write: %s", res.err);
	cr_assert_eq(fx_sh("printf 'log = syslog\\n[program *]\\nmode = harden\\n' > "
			   "%s/etc/sockguard.conf", root), 0);
	free(before);
	before = snapshot();
	cr_expect_eq(TOOL("enable", "--root", root, "--system"), 1,
		     "[program *] hardens every program");
	cr_expect(strstr(res.err, "harden"), "%s", res.err);
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

Test(enable, system_round_trip_keeps_other_lines_and_bytes)
{
	char want[600];

	cr_assert_eq(fx_sh("printf 'mode = observe\\n[program nginx]\\nmode = harden\\n' > "
			   "%s/etc/sockguard.conf && printf '/opt/other.so\\n"
			   "# a comment\\n' > %s/etc/ld.so.preload && chmod 640 "
			   "%s/etc/ld.so.preload", root, root, root), 0);
	char *before = snapshot();
	cr_assert_eq(TOOL("enable", "--root", root, "--system"), 0, "%s", res.err);
	snprintf(want, sizeof(want), "%s/libsockguard.so\n/opt/other.so\n# a comment\n", bin);
	cr_expect_str_eq(read_text("%s/etc/ld.so.preload", root), want);
	cr_assert_eq(TOOL("enable", "--root", root, "--system"), 0, "%s", res.err);
	cr_expect_str_eq(read_text("%s/etc/ld.so.preload", root), want, "not twice");
	cr_assert_eq(TOOL("disable", "--root", root, "--system"), 0, "%s", res.err);
	char *after = snapshot();
	cr_expect_str_eq(after, before, "mode 640 and the other lines are kept");
	free(before);
	free(after);
}

Test(enable, system_round_trip_without_a_preload_file_removes_it_again)
{
	cr_assert_eq(fx_sh("echo 'mode = off' > %s/etc/sockguard.conf", root), 0);
	char *before = snapshot();
	cr_assert_eq(TOOL("enable", "--root", root, "--system"), 0, "%s", res.err);
	cr_expect_eq(fx_sh("test \"$(stat -c %%a %s/etc/ld.so.preload)\" = 644", root), 0);
	cr_assert_eq(TOOL("disable", "--root", root, "--system"), 0, "%s", res.err);
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

Test(enable, system_force_accepts_global_harden)
{
	cr_assert_eq(TOOL("enable", "--root", root, "--system", "--force"), 0, "%s",
		     res.err);
	cr_expect(read_text("%s/etc/ld.so.preload", root));
}

Test(enable, system_refuses_a_policy_with_problems)
{
	cr_assert_eq(fx_sh("echo 'mode = observe\nbogus_key = 1' > %s/etc/sockguard.conf",
			   root), 0);
	cr_expect_eq(TOOL("enable", "--root", root, "--system", "--force"), 1);
	cr_expect(strstr(res.err, "bogus_key"), "%s", res.err);
	cr_expect_null(read_text("%s/etc/ld.so.preload", root));
}

/* Replaces the copied library with one built from C source. */
static void broken_library(const char *source)
{
	cr_assert_eq(fx_sh("printf '%s' > %s/broken.c && cc -shared -fPIC -o "
			   "%s/libsockguard.so %s/broken.c", source, dir, bin, dir), 0);
}

Test(enable, system_refuses_when_the_self_test_fails)
{
	cr_assert_eq(fx_sh("echo 'mode = observe' > %s/etc/sockguard.conf", root), 0);
	char *before = snapshot();

	broken_library("#include <unistd.h>\\n__attribute__((constructor)) "
		       "static void die(void) { _exit(9); }\\n");
	cr_expect_eq(TOOL("enable", "--root", root, "--system"), 1);
	cr_expect(strstr(res.err, "self-test failed"), "%s", res.err);
	cr_expect(strstr(res.err, "status 9"), "%s", res.err);

	cr_assert_eq(fx_sh("echo 'not a library' > %s/libsockguard.so", bin), 0);
	cr_expect_eq(TOOL("enable", "--root", root, "--system"), 1);
	cr_expect(strstr(res.err, "cannot be preloaded"), "the loader's words: %s",
		  res.err);
	char *after = snapshot();
	cr_expect_str_eq(after, before, "nothing written");
	free(before);
	free(after);
}

Test(enable, system_refuses_when_sockets_fail_under_the_library)
{
	cr_assert_eq(fx_sh("echo 'mode = observe' > %s/etc/sockguard.conf", root), 0);
	broken_library("#include <errno.h>\\n#include <sys/socket.h>\\n"
		       "__attribute__((visibility(\"default\"))) int socketpair(int d, "
		       "int t, int p, int sv[2]) { errno = EACCES; return -1; }\\n");
	cr_expect_eq(TOOL("enable", "--root", root, "--system"), 1);
	cr_expect(strstr(res.err, "socket round trip"), "%s", res.err);
	cr_expect_null(read_text("%s/etc/ld.so.preload", root));
}

/* The line the shim writes for policy file p when /bin/true starts. */
static char *shim_line(const char *p)
{
	char preload[400], config[700];

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s/libsockguard.so", bin);
	snprintf(config, sizeof(config), "SOCKGUARD_CONFIG=%s", p);
	char *env[] = { preload, config, "SOCKGUARD_OPTIONS", NULL };
	cr_assert_eq(fx_run((char *const[]){ "/bin/true", NULL }, env, 10000, &res), 0);
	return strdup(res.err);
}

Test(enable, refuses_a_policy_file_the_shim_would_refuse_in_the_shims_words)
{
	char conf[400], want[1000];

	snprintf(conf, sizeof(conf), "%s/etc/sg.conf", root);
	cr_assert_eq(fx_sh("echo 'mode = observe' > %s && chmod 664 %s", conf, conf), 0);
	char *before = snapshot();
	char *shim = shim_line(conf);
	snprintf(want, sizeof(want), "sockguard: %s: writable by group or others "
		 "(chmod go-w); refused, using built-in defaults\n", conf);
	cr_assert_str_eq(shim, want, "the shim refuses it");

	cr_expect_eq(TOOL("enable", "--root", root, "-c", "/etc/sg.conf", "nginx"), 1);
	snprintf(want, sizeof(want), "sockguard enable: %s: writable by group or "
		 "others (chmod go-w); refused\n", conf);
	cr_expect_str_eq(res.err, want, "the same words as the shim");
	cr_expect_null(dropin(), "no drop-in for a policy the shim refuses");
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(shim);
	free(before);
	free(after);
}

Test(enable, a_policy_path_that_is_a_fifo_is_refused_at_once)
{
	cr_assert_eq(fx_sh("mkfifo %s/etc/fifo.conf", root), 0);
	char *before = snapshot();
	cr_expect_eq(TOOL("enable", "--root", root, "-c", "/etc/fifo.conf", "nginx"), 1);
	cr_expect(strstr(res.err, "/etc/fifo.conf: a FIFO, not a regular file; refused\n"),
		  "%s", res.err);
	cr_expect_lt(res.elapsed_ms, 3000);
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

/* Whether every line of the drop-in is one that enable writes. */
static void expect_only_our_lines(const char *text)
{
	static const char *const ours[] = { "# Written by `sockguard enable`",
		"# sockguard created: ", "[Service]", "Environment=\"LD_PRELOAD=",
		"Environment=\"SOCKGUARD_CONFIG=", "Environment=\"SOCKGUARD_OPTIONS=" };

	for (const char *l = text; *l; l += strcspn(l, "\n") + 1) {
		int known = 0;
		for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
			known |= strncmp(l, ours[i], strlen(ours[i])) == 0;
		cr_expect(known, "a line enable does not write: %.*s",
			  (int)strcspn(l, "\n"), l);
		if (!l[strcspn(l, "\n")])
			break;
	}
}

/* A policy file whose very name tries to add directives to the unit. */
#define HOSTILE_NAME "/etc/p\nUser=nobody\nExecStartPre=-sh -c id"

static void hostile_enable(void)
{
	char path[600];

	snprintf(path, sizeof(path), "%s" HOSTILE_NAME, root);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("mode = observe\n", f);
	fclose(f);
	cr_assert_eq(TOOL("enable", "--root", root, "-c", HOSTILE_NAME, "-o",
			  "log=unix:/run/a\"b\\c%h", "nginx"), 0, "%s", res.err);
}

Test(enable, no_value_can_add_a_line_to_the_unit)
{
	hostile_enable();
	const char *text = dropin();
	cr_assert(text);
	expect_only_our_lines(text);
	cr_expect(strstr(text, "\nEnvironment=\"SOCKGUARD_CONFIG=/etc/p\\x0aUser=nobody"
			 "\\x0aExecStartPre=-sh -c id\"\n"), "%s", text);
	cr_expect(strstr(text, "\nEnvironment=\"SOCKGUARD_OPTIONS=log=unix:/run/"
			 "a\\\"b\\\\c%%h\"\n"), "quotes, backslash, %%: %s", text);
}

/* systemd's own parser, on the drop-in written from hostile values. */
Test(enable, systemd_reads_the_drop_in_without_a_complaint)
{
	FX_REQUIRE_PROGRAM("systemd-analyze");
	char unit[600];

	cr_assert_eq(fx_sh("printf '[Service]\\nExecStart=/bin/true\\n' > "
			   "%s/etc/systemd/system/nginx.service", root), 0);
	hostile_enable();
	snprintf(unit, sizeof(unit), "%s/etc/systemd/system/nginx.service", root);
	fx_run((char *const[]){ "systemd-analyze", "verify", unit, NULL }, NULL,
	       30000, &res);
	cr_expect_null(strstr(res.err, "sockguard.conf:"), "%s", res.err);
	cr_expect_null(strstr(res.out, "sockguard.conf:"), "%s", res.out);
}

Test(enable, the_units_own_specifiers_keep_their_meaning)
{
	char want[600];

	cr_assert_eq(fx_sh("printf '[Service]\\nEnvironment=LD_PRELOAD=%%%%t/libfoo.so "
			   "\"X=a b\"\\nExecStart=/bin/true\\n' > "
			   "%s/lib/systemd/system/nginx.service", root), 0);
	cr_assert_eq(TOOL("enable", "--root", root, "nginx"), 0, "%s", res.err);
	snprintf(want, sizeof(want), "Environment=\"LD_PRELOAD=%s/libsockguard.so:"
		 "%%t/libfoo.so\"\n", bin);
	cr_expect(strstr(dropin(), want), "%s", dropin());
}

Test(enable, the_units_own_escapes_are_read_as_systemd_reads_them)
{
	char want[600];

	cr_assert_eq(fx_sh("printf '[Service]\\nEnvironment=\"LD_PRELOAD=/opt/\\\\x61.so "
			   "/opt/b\\\\\\\\c.so\" \\\\\\n  FOO=1\\n' > "
			   "%s/lib/systemd/system/nginx.service", root), 0);
	cr_assert_eq(TOOL("enable", "--root", root, "nginx"), 0, "%s", res.err);
	snprintf(want, sizeof(want), "Environment=\"LD_PRELOAD=%s/libsockguard.so:"
		 "/opt/a.so:/opt/b\\\\c.so\"\n", bin);
	cr_expect(strstr(dropin(), want), "%s", dropin());
}

Test(enable, a_hand_written_drop_in_is_never_changed_or_removed)
{
	cr_assert_eq(fx_sh("mkdir -p %s/etc/systemd/system/nginx.service.d && "
			   "printf '[Service]\\nEnvironment=FOO=1\\n' > "
			   "%s/etc/systemd/system/nginx.service.d/sockguard.conf",
			   root, root), 0);
	char *before = snapshot();
	cr_expect_eq(TOOL("enable", "--root", root, "nginx"), 1);
	cr_expect(strstr(res.err, "nginx.service.d/sockguard.conf was not written by "
			 "`sockguard enable`"), "names the file: %s", res.err);
	cr_expect_eq(TOOL("disable", "--root", root, "nginx"), 1);
	cr_expect(strstr(res.err, "it is left as it is"), "%s", res.err);
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

Test(enable, a_drop_in_edited_after_enable_is_not_removed)
{
	cr_assert_eq(TOOL("enable", "--root", root, "nginx"), 0, "%s", res.err);
	cr_assert_eq(fx_sh("echo 'Environment=MINE=1' >> "
			   "%s/etc/systemd/system/nginx.service.d/sockguard.conf", root), 0);
	char *before = snapshot();
	cr_expect_eq(TOOL("disable", "--root", root, "nginx"), 1);
	cr_expect_eq(TOOL("enable", "--root", root, "-o", "mode=off", "nginx"), 1);
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

Test(enable, symbolic_links_for_the_drop_in_are_refused_not_replaced)
{
	cr_assert_eq(fx_sh("mkdir -p %s/etc/systemd/system/nginx.service.d %s/elsewhere && "
			   "ln -s ../../../elsewhere/x.conf "
			   "%s/etc/systemd/system/nginx.service.d/sockguard.conf && "
			   "ln -s ../../elsewhere %s/etc/systemd/system/other.service.d2 && "
			   "rm -rf %s/etc/systemd/system/other.service.d && "
			   "mv %s/etc/systemd/system/other.service.d2 "
			   "%s/etc/systemd/system/other.service.d",
			   root, root, root, root, root, root, root), 0);
	char *before = snapshot();
	cr_expect_eq(TOOL("enable", "--root", root, "nginx"), 1);
	cr_expect(strstr(res.err, "is a symbolic link"), "%s", res.err);
	cr_expect_eq(TOOL("disable", "--root", root, "nginx"), 1);
	cr_expect_eq(TOOL("enable", "--root", root, "other"), 1);
	cr_expect(strstr(res.err, "other.service.d is a symbolic link"), "%s", res.err);
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

Test(enable, system_round_trip_keeps_bytes_after_a_nul)
{
	cr_assert_eq(fx_sh("echo 'mode = observe' > %s/etc/sockguard.conf && "
			   "printf '/opt/a.so\\n\\000# after a NUL\\n/opt/b.so' > "
			   "%s/etc/ld.so.preload", root, root), 0);
	char *before = snapshot();
	cr_assert_eq(TOOL("enable", "--root", root, "--system"), 0, "%s", res.err);
	cr_assert_eq(TOOL("disable", "--root", root, "--system"), 0, "%s", res.err);
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

Test(enable, system_refuses_a_symlinked_preload_file)
{
	cr_assert_eq(fx_sh("echo 'mode = observe' > %s/etc/sockguard.conf && "
			   "echo /opt/a.so > %s/etc/real.preload && "
			   "ln -s real.preload %s/etc/ld.so.preload", root, root, root), 0);
	char *before = snapshot();
	cr_expect_eq(TOOL("enable", "--root", root, "--system"), 1);
	cr_expect(strstr(res.err, "ld.so.preload is a symbolic link"), "%s", res.err);
	cr_expect_eq(TOOL("disable", "--root", root, "--system"), 1);
	char *after = snapshot();
	cr_expect_str_eq(after, before);
	free(before);
	free(after);
}

/* While another process holds the tree's lock, enable waits for it. */
Test(enable, runs_on_one_tree_wait_for_each_other)
{
	FX_REQUIRE_PROGRAM("flock");
	char *argv[] = { "flock", root, "sleep", "1.5", NULL };
	pid_t holder = fx_spawn(argv, NULL, NULL);

	cr_assert_gt(holder, 0);
	usleep(300000);
	cr_expect_eq(TOOL("enable", "--root", root, "nginx"), 0, "%s", res.err);
	cr_expect_geq(res.elapsed_ms, 900, "enable did not wait for the lock "
		      "(%ld ms)", res.elapsed_ms);
	fx_stop(holder);
}

Test(enable, concurrent_enables_then_disable_leave_nothing_behind)
{
	cr_assert_eq(fx_sh("rm -rf %s/etc/systemd", root), 0);
	char *before = snapshot();

	for (int round = 0; round < 3; round++) {
		cr_assert_eq(fx_sh("for i in 1 2 3 4 5 6; do %s/sockguard enable "
				   "--root %s nginx >/dev/null 2>&1 & done; wait",
				   bin, root), 0);
		cr_assert_eq(TOOL("disable", "--root", root, "nginx"), 0, "%s", res.err);
		char *after = snapshot();
		cr_expect_str_eq(after, before, "round %d", round);
		free(after);
	}
	free(before);
}
