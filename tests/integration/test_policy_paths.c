/*
 * Policy paths that are not policy files: a FIFO, a symbolic link to one, a
 * device, a directory, a socket, a file that reads longer than its size and
 * one the program may not read.  Real programs (/bin/true, /bin/sh) run
 * with the shim preloaded and SOCKGUARD_CONFIG naming each: they must
 * finish at once with the same status and output as without the shim, and
 * stderr must hold exactly one line saying why the file was refused.  Then
 * `sockguard check FILE` and `sockguard run -c FILE` must refuse it with the
 * same words and a non-zero status, without hanging either.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fixture.h"

#define REFUSED "; refused, using built-in defaults\n"

static char dir[256], path[400], confenv[512];
static struct fx_result res;

static void make_dir(void)
{
	cr_assert_eq(fx_tempdir(dir, sizeof(dir)), 0, "%s", fx_skip_reason());
}

static void remove_dir(void)
{
	fx_rmtree(dir);
}

TestSuite(policy_paths, .init = make_dir, .fini = remove_dir, .timeout = 60);

static const char *at(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/*
 * Runs argv (behind `prefix`, e.g. setpriv, when not NULL) with or without
 * the shim; it must finish well before its timeout.  Returns the exit code.
 */
static int run(char *const prefix[], char *const argv[], int shim)
{
	char *full[16];
	int n = 0;

	for (int i = 0; prefix && prefix[i]; i++)
		full[n++] = prefix[i];
	for (int i = 0; argv[i] && n < 15; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	snprintf(confenv, sizeof(confenv), "SOCKGUARD_CONFIG=%s", path);
	char *env[] = { shim ? (char *)fx_preload_env() : "LD_PRELOAD",
			"SOCKGUARD_OPTIONS", shim ? confenv : "SOCKGUARD_CONFIG",
			NULL };
	cr_assert_eq(fx_run(full, env, 10000, &res), 0, "did not finish");
	cr_assert_not(res.timed_out, "%s hung", argv[0]);
	cr_expect_lt(res.elapsed_ms, 3000, "%s took %ld ms", argv[0], res.elapsed_ms);
	return fx_exit_code(&res);
}

/*
 * The program gives the same status and output with the shim as without,
 * and the shim's stderr is one line: "sockguard: PATH: REASON" + REFUSED.
 * Returns "PATH: REASON" (static).
 */
static const char *same_program(char *const prefix[], char *const argv[],
				const char *reason)
{
	static char why[600], out[65536];
	char want[700];

	int plain = run(prefix, argv, 0);
	snprintf(out, sizeof(out), "%s", res.out);
	int shimmed = run(prefix, argv, 1);
	cr_expect_eq(shimmed, plain, "%s: status %d with the shim, %d without",
		     argv[0], shimmed, plain);
	cr_expect_str_eq(res.out, out, "%s: the output differs", argv[0]);
	snprintf(why, sizeof(why), "%s: %s", path, reason);
	snprintf(want, sizeof(want), "sockguard: %s" REFUSED, why);
	cr_expect_str_eq(res.err, want, "%s: one line on stderr", argv[0]);
	return why;
}

/* The tool refuses the file with the shim's words and a non-zero status. */
static void tool_refuses(char *const prefix[], const char *why)
{
	char tool[512], want[1200];

	snprintf(tool, sizeof(tool), "%s/sockguard", fx_build_dir());
	int rc = run(prefix, (char *const[]){ tool, "check", path, NULL }, 0);
	cr_expect_eq(rc, 1, "check: %s", res.err);
	snprintf(want, sizeof(want), "%s" REFUSED, why);
	cr_expect_str_eq(res.err, want, "check");
	rc = run(prefix, (char *const[]){ tool, "run", "-c", path, "true", NULL }, 0);
	cr_expect_eq(rc, 2, "run -c: %s", res.err);
	snprintf(want, sizeof(want), "sockguard run: %s; refused\n", why);
	cr_expect_str_eq(res.err, want, "run -c");
}

/* Both programs and the tool, for the file at path. */
static void refused_everywhere(char *const prefix[], const char *reason)
{
	same_program(prefix, (char *const[]){ "/bin/true", NULL }, reason);
	const char *why = same_program(prefix, (char *const[]){ "/bin/sh", "-c",
					"echo ok; exit 3", NULL }, reason);
	tool_refuses(prefix, why);
}

Test(policy_paths, a_fifo_neither_hangs_nor_breaks_a_program)
{
	cr_assert_eq(mkfifo(at("fifo"), 0644), 0);
	refused_everywhere(NULL, "a FIFO, not a regular file");
}

Test(policy_paths, a_symbolic_link_to_a_fifo_is_refused_like_the_fifo)
{
	char fifo[400];

	cr_assert_eq(mkfifo(at("fifo"), 0644), 0);
	snprintf(fifo, sizeof(fifo), "%s", path);
	cr_assert_eq(symlink(fifo, at("policy.conf")), 0);
	refused_everywhere(NULL, "a FIFO, not a regular file");
}

Test(policy_paths, devices_are_never_opened)
{
	snprintf(path, sizeof(path), "/dev/zero");
	refused_everywhere(NULL, "a character device, not a regular file");
	snprintf(path, sizeof(path), "/dev/tty");
	refused_everywhere(NULL, "a character device, not a regular file");
}

Test(policy_paths, a_directory_and_a_socket_are_refused)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	at("sock");
	cr_assert_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	refused_everywhere(NULL, "a socket, not a regular file");
	close(s);
	snprintf(path, sizeof(path), "%s", dir);
	refused_everywhere(NULL, "a directory, not a regular file");
}

/* /proc/kallsyms: st_size 0, megabytes to read, as a file still growing. */
Test(policy_paths, a_file_that_reads_longer_than_its_size_is_cut_short)
{
	struct stat st;

	if (stat("/proc/kallsyms", &st) != 0 || st.st_size != 0)
		cr_skip_test("/proc/kallsyms is missing or has a size");
	snprintf(path, sizeof(path), "/proc/kallsyms");
	refused_everywhere(NULL, "larger than 262144 bytes");
}

Test(policy_paths, a_file_the_program_may_not_read_is_one_line)
{
	FX_REQUIRE_PROGRAM("setpriv");
	if (fx_need_root() != 0)
		cr_skip_test("needs root: the program runs as nobody");
	char *const nobody[] = { "setpriv", "--reuid=65534", "--regid=65534",
				 "--clear-groups", "--", NULL };

	cr_assert_eq(fx_sh("echo 'mode = off' > %s && chmod 600 %s",
			   at("p.conf"), path), 0);
	refused_everywhere(nobody, "Permission denied");
}

/*
 * /dev/null, named or behind a link (a masked policy file), is an empty
 * policy, not a refused file: no line, and SOCKGUARD_OPTIONS applies.
 */
Test(policy_paths, dev_null_is_an_empty_policy)
{
	char faults[4096], port[16], opts[] = "SOCKGUARD_OPTIONS=log=stderr";
	char tool[512];

	fx_prog_path("log_faults", faults, sizeof(faults));
	snprintf(port, sizeof(port), "%d", fx_closed_port());
	snprintf(tool, sizeof(tool), "%s/sockguard", fx_build_dir());
	cr_assert_eq(symlink("/dev/null", at("masked.conf")), 0);
	const char *paths[] = { "/dev/null", path };
	for (int i = 0; i < 2; i++) {
		snprintf(confenv, sizeof(confenv), "SOCKGUARD_CONFIG=%s", paths[i]);
		char *argv[] = { "/bin/sh", "-c", "echo ok; exit 3", NULL };
		char *env[] = { (char *)fx_preload_env(), confenv, "SOCKGUARD_OPTIONS",
				NULL };
		cr_assert_eq(fx_run(argv, env, 10000, &res), 0);
		cr_expect_eq(fx_exit_code(&res), 3);
		cr_expect_str_eq(res.out, "ok\n");
		cr_expect_str_eq(res.err, "", "%s is not an empty policy", paths[i]);
		char *fargv[] = { faults, "refused", port, NULL };
		char *fenv[] = { (char *)fx_preload_env(), confenv, opts, NULL };
		cr_assert_eq(fx_run(fargv, fenv, 10000, &res), 0);
		cr_expect(strstr(res.err, "class=refused"),
			  "SOCKGUARD_OPTIONS with %s: %s", paths[i], res.err);
		char *check[] = { tool, "check", (char *)paths[i], NULL };
		cr_assert_eq(fx_run(check, NULL, 10000, &res), 0);
		cr_expect_eq(fx_exit_code(&res), 0, "check %s: %s", paths[i], res.err);
	}
}
