/*
 * `sockguard check` as a user runs it: the built tool in a child process,
 * with a controlled environment.  BUILD names the build directory ("build"
 * unless set, as the Makefile passes it).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char out[65536], err[65536];
static char dir[] = "/tmp/sg-check-XXXXXX";

static void slurp(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t got;

	lseek(fd, 0, SEEK_SET);
	while (n < len - 1 && (got = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)got;
	buf[n] = '\0';
	close(fd);
}

static int temp_fd(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	return fd;
}

/* Runs `sockguard check ARGS` with only the given environment; exit status. */
static int run_check(char *const envp[], const char *a1, const char *a2,
		     const char *a3)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char tool[512];
	int ofd = temp_fd("out"), efd = temp_fd("err"), status;

	snprintf(tool, sizeof(tool), "%s/sockguard", build);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		char *argv[] = { tool, "check", (char *)a1, (char *)a2,
				 (char *)a3, NULL };
		execve(tool, argv, envp);
		_exit(126);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	slurp(ofd, out, sizeof(out));
	slurp(efd, err, sizeof(err));
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static const char *write_policy(const char *name, const char *text,
				mode_t mode)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	strcpy(dir, "/tmp/sg-check-XXXXXX");
}

TestSuite(policy_check, .init = setup, .fini = teardown);

static char *no_env[] = { "PATH=/usr/bin:/bin", NULL };

Test(policy_check, a_valid_policy_exits_0_with_origins)
{
	const char *f = write_policy("ok.conf", "mode = observe\n"
				     "[program nginx]\nmode = harden\n"
				     "retry_max = 7\n", 0644);

	cr_assert_eq(run_check(no_env, "-p", "nginx", f), 0, "%s", err);
	cr_assert(strstr(out, "[program nginx]"), "%s", out);
	cr_assert(strstr(out, "matches"), "%s", out);
	cr_assert(strstr(out, "ok.conf:4"), "retry_max origin: %s", out);
	cr_assert(strstr(out, "ok.conf:3"), "mode origin: %s", out);
	cr_assert(strstr(out, "default"), "%s", out);
	cr_assert_str_eq(err, "");
}

Test(policy_check, without_p_no_program_section_applies)
{
	const char *f = write_policy("ok.conf", "mode = observe\n"
				     "[program nginx]\nmode = harden\n", 0644);

	cr_assert_eq(run_check(no_env, f, NULL, NULL), 0, "%s", err);
	cr_assert(strstr(out, "does not match"), "%s", out);
	cr_assert(strstr(out, "observe"), "%s", out);
}

Test(policy_check, problems_exit_1_with_file_line_on_stderr)
{
	const char *f = write_policy("bad.conf", "mode = observe\n\n"
				     "eagain_wait = 0\n", 0644);
	char expected[300];

	cr_assert_eq(run_check(no_env, f, NULL, NULL), 1);
	snprintf(expected, sizeof(expected), "%s:3: eagain_wait: ", f);
	cr_assert(strncmp(err, expected, strlen(expected)) == 0, "%s", err);
}

Test(policy_check, options_from_the_environment_apply_and_are_checked)
{
	const char *f = write_policy("ok.conf", "retry_max = 1\n", 0644);
	char *good[] = { "SOCKGUARD_OPTIONS=retry_max=9:log=unix:/run/a:b",
			 NULL };
	char *bad[] = { "SOCKGUARD_OPTIONS=retry_max=x", NULL };

	cr_assert_eq(run_check(good, f, NULL, NULL), 0, "%s", err);
	cr_assert(strstr(out, "unix:/run/a:b"), "%s", out);
	cr_assert(strstr(out, "9 "), "%s", out);
	cr_assert_eq(run_check(bad, f, NULL, NULL), 1);
	cr_assert(strstr(err, "SOCKGUARD_OPTIONS: retry_max: "), "%s", err);
}

Test(policy_check, sockguard_config_names_the_file)
{
	const char *f = write_policy("env.conf", "mode = off\n", 0644);
	char var[300];
	char *env[] = { var, NULL };

	snprintf(var, sizeof(var), "SOCKGUARD_CONFIG=%s", f);
	cr_assert_eq(run_check(env, NULL, NULL, NULL), 0, "%s", err);
	cr_assert(strstr(out, "env.conf:1"), "%s", out);
	snprintf(var, sizeof(var), "SOCKGUARD_CONFIG=%s/missing.conf", dir);
	cr_assert_eq(run_check(env, NULL, NULL, NULL), 1);
}

Test(policy_check, a_file_others_can_write_is_refused)
{
	const char *f = write_policy("open.conf", "mode = off\n", 0666);

	cr_assert_eq(run_check(no_env, f, NULL, NULL), 1);
	cr_assert(strstr(err, "writable by group or others"), "%s", err);
}

Test(policy_check, no_default_file_is_not_an_error)
{
	if (access("/etc/sockguard.conf", F_OK) == 0)
		cr_skip_test("/etc/sockguard.conf exists on this host");
	cr_assert_eq(run_check(no_env, NULL, NULL, NULL), 0, "%s", err);
	cr_assert(strstr(out, "does not exist"), "%s", out);
	cr_assert(strstr(out, "harden"), "%s", out);
}

Test(policy_check, usage_errors_exit_2)
{
	cr_assert_eq(run_check(no_env, "-x", NULL, NULL), 2);
	cr_assert_eq(run_check(no_env, "-p", NULL, NULL), 2);
	cr_assert_eq(run_check(no_env, "a.conf", "b.conf", NULL), 2);
}
