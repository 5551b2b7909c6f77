/*
 * The one policy loader (policy/load.c), on real files of every type: what
 * it reads, what it refuses and in which words, and that nothing it is
 * given can make it block, leave a descriptor open or change errno.  Each
 * test has a timeout: a loader that waits on a FIFO fails it.
 */
#include "policy_test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[] = "/tmp/sg-load-XXXXXX";
static char path[256];

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
	fresh_policy();
}

static void remove_dir(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(policy_load, .init = make_dir, .fini = remove_dir, .timeout = 10);

/* dir/name, in path. */
static const char *at(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* Writes a policy file of the given mode. */
static const char *file(const char *name, const char *text, mode_t mode)
{
	int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(chmod(path, mode), 0);
	return path;
}

/* The number of open descriptors of this process. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Loads p, expecting one refusal whose text is "p: reason". */
static void expect_refused(const char *p, unsigned flags, const char *reason)
{
	char want[512];
	int fds = open_fds();

	errno = 12345;
	cr_assert_eq(sg_policy_load(policy, p, flags, NULL, NULL, &problems),
		     SG_LOAD_REFUSED, "%s", p);
	cr_expect_eq(errno, 12345, "errno is preserved");
	cr_expect_eq(open_fds(), fds, "no descriptor is left open");
	snprintf(want, sizeof(want), "%s: %s", p, reason);
	cr_assert_eq(problems.count, 1, "%s", problems.text[0]);
	cr_expect_str_eq(problems.text[0], want);
}

Test(policy_load, reads_and_parses_a_regular_file)
{
	struct stat st;

	file("p.conf", "mode = observe\n", 0644);
	errno = 777;
	cr_assert_eq(sg_policy_load(policy, path, SG_LOAD_REQUIRED, NULL, &st,
				    &problems), SG_LOAD_OK);
	cr_expect_eq(errno, 777);
	cr_expect_eq(problems.count, 0);
	cr_expect_str_eq(value_for(NULL, SG_KEY_MODE), "observe");
	cr_expect(S_ISREG(st.st_mode));
}

Test(policy_load, uses_the_callers_buffer)
{
	static char buf[SG_POLICY_LOAD_BUF];

	file("p.conf", "mode = off\n", 0600);
	cr_assert_eq(sg_policy_load(policy, path, 0, buf, NULL, &problems),
		     SG_LOAD_OK);
	cr_expect_str_eq(value_for(NULL, SG_KEY_MODE), "off");
}

Test(policy_load, a_missing_file_is_a_problem_only_when_required)
{
	cr_expect_eq(sg_policy_load(policy, at("none"), 0, NULL, NULL, &problems),
		     SG_LOAD_NONE);
	cr_expect_eq(problems.count, 0);
	expect_refused(at("none"), SG_LOAD_REQUIRED, "No such file or directory");
}

Test(policy_load, problems_in_the_text_leave_the_defaults)
{
	file("p.conf", "mode = observe\nbogus = 1\n", 0644);
	cr_assert_eq(sg_policy_load(policy, path, 0, NULL, NULL, &problems),
		     SG_LOAD_INVALID);
	cr_expect_eq(problems.count, 1);
	cr_expect_str_eq(value_for(NULL, SG_KEY_MODE), "harden");
}

Test(policy_load, a_fifo_is_refused_without_waiting_for_a_writer)
{
	cr_assert_eq(mkfifo(at("fifo"), 0644), 0);
	expect_refused(path, 0, "a FIFO, not a regular file");
	cr_expect_str_eq(value_for(NULL, SG_KEY_MODE), "harden");
}

Test(policy_load, a_symbolic_link_to_a_fifo_is_refused_too)
{
	char fifo[256];

	cr_assert_eq(mkfifo(at("fifo"), 0644), 0);
	snprintf(fifo, sizeof(fifo), "%s", path);
	cr_assert_eq(symlink(fifo, at("link")), 0);
	expect_refused(path, SG_LOAD_REQUIRED, "a FIFO, not a regular file");
}

Test(policy_load, devices_directories_and_sockets_are_refused)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	expect_refused("/dev/zero", 0, "a character device, not a regular file");
	fresh_policy();
	expect_refused("/dev/tty", 0, "a character device, not a regular file");
	fresh_policy();
	expect_refused(dir, 0, "a directory, not a regular file");
	fresh_policy();
	at("sock");
	cr_assert_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	expect_refused(path, 0, "a socket, not a regular file");
	close(s);
}

Test(policy_load, dev_null_is_an_empty_policy)
{
	errno = 4321;
	cr_assert_eq(sg_policy_load(policy, "/dev/null", SG_LOAD_REQUIRED, NULL,
				    NULL, &problems), SG_LOAD_OK);
	cr_expect_eq(errno, 4321, "errno is preserved");
	cr_expect_eq(problems.count, 0, "%s", problems.text[0]);
	cr_expect_str_eq(value_for(NULL, SG_KEY_MODE), "harden");
	fresh_policy();
	cr_assert_eq(sg_policy_load(policy, "/dev/null", SG_LOAD_SECURE, NULL,
				    NULL, &problems), SG_LOAD_OK,
		     "also in secure execution: it is root's, and empty");
}

Test(policy_load, a_file_others_can_write_is_refused)
{
	expect_refused(file("p.conf", "mode = off\n", 0664), 0,
		       "writable by group or others (chmod go-w)");
	cr_expect_str_eq(value_for(NULL, SG_KEY_MODE), "harden");
}

Test(policy_load, secure_execution_wants_a_root_owned_file)
{
	file("p.conf", "mode = off\n", 0644);
	if (chown(path, 65534, 65534) != 0)
		cr_skip_test("needs root: the file must belong to another user");
	expect_refused(path, SG_LOAD_SECURE,
		       "not owned by root, which a setuid or setcap program requires");
	fresh_policy();
	cr_expect_eq(sg_policy_load(policy, path, 0, NULL, NULL, &problems),
		     SG_LOAD_OK, "an ordinary process may use it");
}

Test(policy_load, a_file_too_large_is_refused)
{
	int fd = open(at("big"), O_WRONLY | O_CREAT, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, SG_POLICY_TEXT_MAX + 1), 0);
	close(fd);
	expect_refused(path, 0, "larger than 262144 bytes");
}

/*
 * A file whose size says nothing of what reading it gives: /proc/kallsyms
 * has st_size 0 and megabytes of text.  The read stops one byte past the
 * limit, as it would for a file that grows while it is read.
 */
Test(policy_load, a_file_that_gives_more_than_its_size_is_refused)
{
	struct stat st;

	if (stat("/proc/kallsyms", &st) != 0 || st.st_size != 0)
		cr_skip_test("/proc/kallsyms is missing or has a size");
	expect_refused("/proc/kallsyms", 0, "larger than 262144 bytes");
}

Test(policy_load, a_refused_file_keeps_later_options_out)
{
	cr_assert_eq(mkfifo(at("fifo"), 0644), 0);
	cr_assert_eq(sg_policy_load(policy, path, 0, NULL, NULL, &problems),
		     SG_LOAD_REFUSED);
	sg_policy_parse_options(policy, "mode=off", &problems);
	cr_expect_str_eq(value_for(NULL, SG_KEY_MODE), "harden",
			 "the defaults, not half a policy");
}
