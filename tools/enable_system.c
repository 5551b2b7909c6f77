/*
 * `sockguard enable --system` and `disable --system`: the library as a line
 * of DIR/etc/ld.so.preload, so that every dynamically linked program started
 * afterwards loads it (ld.so(8)).
 *
 * A broken line there makes every program on the host print loader errors,
 * and a policy that hardens everything reaches init, sshd and the package
 * manager.  So nothing is written until the library is found trustworthy,
 * the policy is valid and leaves unnamed programs in observe or off, and a
 * self-test has loaded the library into child processes that ran cleanly.
 * The file is then replaced in one rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "escape.h"
#include "preload.h"
#include "tools.h"

#define ENABLE "sockguard enable --system"
#define DISABLE "sockguard disable --system"
#define PRELOAD_FILE "/etc/ld.so.preload"

/*
 * A program name that no [program] glob naming real programs matches, while
 * catch-alls such as [program *] do: its settings are those every program
 * not named in the policy gets, which is what "the global mode" means to
 * whoever enables sockguard on a whole host.
 */
#define UNNAMED_PROGRAM "\x7f"

static const char recommended[] =
	"For a host, put this at the top of %s:\n\n"
	"    mode = observe          # every program: log faults, change nothing\n"
	"    [program nginx]         # harden the programs you name\n"
	"    mode = harden\n\n"
	"or give --force to harden every process of the host.\n";

/* Says why the policy was refused; -1 for the caller's return. */
static int refuse_mode(const char *path, const struct sg_origin *o)
{
	char source[SG_ESC_TEXT_SIZE(PATH_MAX)];

	if (o->source)
		fprintf(stderr, ENABLE ": %s:%u sets the global mode to harden: "
			"every process of the host (init, sshd, the package "
			"manager) would be hardened.\n",
			sg_esc_str(source, sizeof(source), o->source), o->line);
	else
		fprintf(stderr, ENABLE ": %s sets no global mode, so the "
			"default, harden, would apply to every process of the "
			"host (init, sshd, the package manager).\n", path);
	fprintf(stderr, recommended, path);
	return -1;
}

/*
 * Checks DIR/etc/sockguard.conf: it must be a file the shim trusts even in
 * set-user-ID programs, free of problems (each process would report them),
 * and leave unnamed programs in observe or off unless force.
 */
static int system_policy_ok(const char *root, int force, char *path, size_t len)
{
	struct sg_origin origin[SG_KEY_COUNT];
	struct sg_settings s;
	char shown[SG_ESC_TEXT_SIZE(PATH_MAX)];

	snprintf(path, len, "%s%s", root, SG_POLICY_DEFAULT_PATH);
	sg_esc_str(shown, sizeof(shown), path);
	struct sg_policy *p = malloc(sg_policy_storage_size());
	if (!p) {
		fprintf(stderr, ENABLE ": out of memory\n");
		return -1;
	}
	int rc = sg_tool_load_policy(path, SG_LOAD_SECURE, ENABLE, p, NULL);
	if (rc == SG_LOAD_NONE && !force) {
		fprintf(stderr, ENABLE ": %s does not exist, so every process "
			"of the host would run in the default mode, harden.\n", shown);
		fprintf(stderr, recommended, shown);
	}
	if (rc == SG_LOAD_OK) {
		sg_policy_for_program(p, UNNAMED_PROGRAM, "/" UNNAMED_PROGRAM,
				      &s, origin);
		if (s.mode == SG_MODE_HARDEN && !force)
			rc = refuse_mode(shown, &origin[SG_KEY_MODE]);
	}
	free(p);
	return rc == SG_LOAD_OK || (rc == SG_LOAD_NONE && force) ? 0 : -1;
}

/*
 * Runs argv with only the library preloaded and the host policy, its
 * standard error caught in err.  alarm(2) survives execve(2), so a child
 * that hangs is killed by SIGALRM.  Returns the wait status, or -1.
 */
static int run_preloaded(char *const argv[], const char *lib,
			 const char *config, char *err, size_t len)
{
	int fds[2], status = -1;
	size_t got = 0;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0), dup2(null, 1), dup2(fds[1], 2);
		setenv("LD_PRELOAD", lib, 1);
		unsetenv("SOCKGUARD_OPTIONS");
		config ? setenv("SOCKGUARD_CONFIG", config, 1) :
			 unsetenv("SOCKGUARD_CONFIG");
		alarm(10);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	/* Read to the end, keeping what fits, so the child never blocks. */
	char chunk[512];
	ssize_t n;
	while (pid > 0 && ((n = read(fds[0], chunk, sizeof(chunk))) > 0 ||
			   (n < 0 && errno == EINTR))) {
		size_t keep = n > 0 ? (size_t)n : 0;
		if (keep > len - 1 - got)
			keep = len - 1 - got;
		memcpy(err + got, chunk, keep);
		got += keep;
	}
	err[got] = '\0';
	close(fds[0]);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return pid > 0 ? status : -1;
}

/* Explains a failed self-test run; -1 for the caller's return. */
static int selftest_failed(const char *what, int status, const char *err)
{
	fprintf(stderr, ENABLE ": self-test failed: %s under the library ", what);
	if (status == -1)
		fprintf(stderr, "could not be started: %s", strerror(errno));
	else if (WIFSIGNALED(status))
		fprintf(stderr, "was killed by signal %d%s", WTERMSIG(status),
			WTERMSIG(status) == SIGALRM ? " (it hung)" : "");
	else if (WEXITSTATUS(status) != 0)
		fprintf(stderr, "exited with status %d", WEXITSTATUS(status));
	else
		fprintf(stderr, "printed errors");
	char first[SG_ESC_TEXT_SIZE(1024)];

	sg_esc_text(first, sizeof(first), err, strcspn(err, "\n"),
		    sizeof(first) - 1);
	fprintf(stderr, "%s%s\nNothing was written.\n", *err ? ":\n  " : "",
		first);
	return -1;
}

/*
 * Loads the library into /bin/true and into this tool's own socket round
 * trip (sg_selftest_child), as every program of the host would load it.
 * Each must exit 0 and print nothing: the loader reports a library it could
 * not preload on stderr and carries on, with status 0.
 */
static int self_test(const char *lib, const char *config)
{
	char exe[PATH_MAX], err[1024];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return selftest_failed("sockguard", -1, "");
	exe[n] = '\0';
	char *const truth[] = { "/bin/true", NULL };
	int status = run_preloaded(truth, lib, config, err, sizeof(err));
	if (status != 0 || err[0])
		return selftest_failed("/bin/true", status, err);
	char *const trip[] = { exe, "enable", SG_SELFTEST_ARG, NULL };
	status = run_preloaded(trip, lib, config, err, sizeof(err));
	if (status != 0 || err[0])
		return selftest_failed("a socket round trip", status, err);
	return 0;
}

/* Sends one byte from a to b and back; 0 when both arrive intact. */
static int exchange(int a, int b)
{
	char c = 0;

	if (send(a, "s", 1, 0) != 1 || recv(b, &c, 1, 0) != 1 || c != 's')
		return -1;
	if (send(b, "g", 1, 0) != 1 || recv(a, &c, 1, 0) != 1 || c != 'g')
		return -1;
	return 0;
}

/* A loopback TCP connection, set up in one thread: the backlog holds it. */
static int tcp_round_trip(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), a = -1, rc = -1;

	if (ls >= 0 && c >= 0 && bind(ls, (struct sockaddr *)&sa, len) == 0 &&
	    listen(ls, 1) == 0 &&
	    getsockname(ls, (struct sockaddr *)&sa, &len) == 0 &&
	    connect(c, (struct sockaddr *)&sa, len) == 0 &&
	    (a = accept(ls, NULL, NULL)) >= 0)
		rc = exchange(c, a);
	if (a >= 0)
		close(a);
	if (c >= 0)
		close(c);
	if (ls >= 0)
		close(ls);
	return rc;
}

/* Whether this process has libsockguard.so mapped (the preload worked). */
static int shim_mapped(void)
{
	char line[PATH_MAX + 128];
	FILE *f = fopen("/proc/self/maps", "re");
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		size_t n = strlen(line);
		found = n > 16 && strcmp(line + n - 16, "/libsockguard.so") == 0;
	}
	if (f)
		fclose(f);
	return found;
}

int sg_selftest_child(void)
{
	int sv[2];

	if (!shim_mapped()) {
		fprintf(stderr, "libsockguard.so was not loaded\n");
		return 3;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    exchange(sv[0], sv[1]) < 0) {
		fprintf(stderr, "socketpair round trip: %s\n", strerror(errno));
		return 4;
	}
	if (tcp_round_trip() < 0) {
		fprintf(stderr, "loopback TCP round trip: %s\n", strerror(errno));
		return 5;
	}
	return 0;
}

/* Whether a line of ld.so.preload, blanks aside, is exactly lib. */
static int line_is(const char *line, size_t n, const char *lib)
{
	while (n > 0 && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' ||
			 line[n - 1] == '\r'))
		n--;
	return n == strlen(lib) && strncmp(line, lib, n) == 0;
}

/*
 * The current ld.so.preload: its bytes ("" when absent; NUL bytes are
 * kept, *len counts them) and the mode and owner a replacement keeps.  A
 * symbolic link is refused: the rename that replaces the file would put a
 * regular file in its place.  Returns 0, 1 when it does not exist, -1.
 */
static int read_preload(const char *path, const char *cmd, char **text,
			size_t *len, struct stat *st)
{
	if (lstat(path, st) < 0) {
		if (errno != ENOENT) {
			fprintf(stderr, "%s: %s: %s\n", cmd, sg_esc_arg(0, path),
				strerror(errno));
			return -1;
		}
		*text = strdup("");
		*len = 0;
		st->st_mode = 0644, st->st_uid = 0, st->st_gid = 0;
		return *text ? 1 : -1;
	}
	if (S_ISLNK(st->st_mode)) {
		fprintf(stderr, "%s: %s is a symbolic link; it is left as it is: "
			"edit the file it points to by hand\n", cmd,
			sg_esc_arg(0, path));
		return -1;
	}
	int rc = sg_read_file(path, 1 << 20, text, len);
	if (rc < 0) {
		fprintf(stderr, "%s: %s: %s\n", cmd, sg_esc_arg(0, path),
			rc == -EINVAL ? "not a regular file" : strerror(-rc));
		return -1;
	}
	return 0;
}

/* The length of the line at p (before its newline) within end. */
static size_t line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? (size_t)(nl - p) : (size_t)(end - p);
}

/* Whether some line of text[0..len) is lib. */
static int preload_has(const char *text, size_t len, const char *lib)
{
	const char *end = text + len;

	for (const char *p = text; p < end;) {
		size_t n = line_len(p, end);
		if (line_is(p, n, lib))
			return 1;
		p += n + (p + n < end);
	}
	return 0;
}

/*
 * Puts lib in as the first line, other lines kept as they are: the loader
 * searches preloaded libraries in order, and the shim, like LD_PRELOAD from
 * `sockguard run`, goes first.  Taking the line out again gives back the
 * very same bytes.
 */
static int add_line(const char *path, const char *lib)
{
	struct stat st;
	char *old;
	size_t len;

	if (read_preload(path, ENABLE, &old, &len, &st) < 0)
		return -1;
	if (preload_has(old, len, lib)) {
		printf("%s is already in %s\n", lib, sg_esc_arg(0, path));
		free(old);
		return 0;
	}
	size_t n = strlen(lib);
	char *text = malloc(n + 1 + len + 1);
	int rc = text ? 0 : -ENOMEM;
	if (text) {
		memcpy(text, lib, n);
		text[n] = '\n';
		memcpy(text + n + 1, old, len + 1);
		rc = sg_write_atomic(path, text, n + 1 + len, st.st_mode & 07777,
				     (int)st.st_uid, (int)st.st_gid);
	}
	if (rc < 0)
		fprintf(stderr, ENABLE ": %s: %s\nNothing was written.\n",
			sg_esc_arg(0, path), strerror(-rc));
	else
		printf("added %s to %s\n", lib, sg_esc_arg(0, path));
	free(text);
	free(old);
	return rc < 0 ? -1 : 0;
}

/* The bytes without the lines that are lib; *removed counts them. */
static char *without_lib(const char *text, size_t len, const char *lib,
			 size_t *out_len, int *removed)
{
	const char *end = text + len;
	char *out = malloc(len + 1);
	size_t o = 0;

	*removed = 0;
	for (const char *p = text; out && p < end;) {
		size_t n = line_len(p, end);
		size_t with_nl = n + (p + n < end);
		if (line_is(p, n, lib))
			++*removed;
		else
			memcpy(out + o, p, with_nl), o += with_nl;
		p += with_nl;
	}
	if (out)
		out[o] = '\0';
	*out_len = o;
	return out;
}

/* Explains a disable that found another sockguard line, or none. */
static int not_ours(const char *path, const char *text, size_t len,
		    const char *lib)
{
	const char *other = memmem(text, len, "/libsockguard.so", 16);

	if (!other) {
		printf("%s is not in %s: nothing to do\n", lib, sg_esc_arg(0, path));
		return 0;
	}
	const char *start = other;
	while (start > text && start[-1] != '\n')
		start--;
	char line[SG_ESC_TEXT_SIZE(PATH_MAX)];
	sg_esc_text(line, sizeof(line), start, line_len(start, text + len),
		    sizeof(line) - 1);
	fprintf(stderr, DISABLE ": %s holds %s, not %s: use the sockguard "
		"installed beside that library, or edit the file\n",
		sg_esc_arg(0, path), line, lib);
	return 1;
}

/*
 * Takes the line out.  A file left empty is removed: an empty
 * ld.so.preload does nothing, and the common case is a host that had none
 * before enable, which then gets back exactly what it had.
 */
static int remove_line(const char *path, const char *lib)
{
	struct stat st;
	char *old, *text;
	size_t len, n;
	int removed, rc;

	if ((rc = read_preload(path, DISABLE, &old, &len, &st)) != 0) {
		if (rc > 0)
			printf("%s does not exist: nothing to do\n",
			       sg_esc_arg(0, path));
		free(rc > 0 ? old : NULL);
		return rc < 0;
	}
	text = without_lib(old, len, lib, &n, &removed);
	if (!text || !removed) {
		rc = text ? not_ours(path, old, len, lib) : 1;
	} else {
		rc = n == 0 ? (unlink(path) < 0 ? -errno : 0) :
		     sg_write_atomic(path, text, n, st.st_mode & 07777,
				     (int)st.st_uid, (int)st.st_gid);
		if (rc < 0)
			fprintf(stderr, DISABLE ": %s: %s\n", sg_esc_arg(0, path),
				strerror(-rc));
		else
			printf("removed %s from %s\n", lib, sg_esc_arg(0, path));
		rc = rc < 0;
	}
	free(text);
	free(old);
	return rc;
}

int sg_enable_system(const char *root, int force)
{
	char real[PATH_MAX], lib[PATH_MAX], policy[PATH_MAX], path[PATH_MAX];

	if (sg_lib_for_root(root, ENABLE, SG_LIBC_GLIBC, 1, real, lib,
			    sizeof(lib)) < 0 ||
	    system_policy_ok(root, force, policy, sizeof(policy)) < 0)
		return 1;
	if (snprintf(path, sizeof(path), "%s%s", root, PRELOAD_FILE) >= (int)sizeof(path))
		return 1;
	if (self_test(real, access(policy, F_OK) == 0 ? policy : NULL) < 0 ||
	    add_line(path, lib) < 0)
		return 1;
	printf("Programs started from now on load it; running ones do not until "
	       "they restart.\nCheck with: sockguard status\n"
	       "Take it out with: sockguard disable --system%s%s\n",
	       *root ? " --root " : "", sg_esc_arg(0, root));
	return 0;
}

int sg_disable_system(const char *root)
{
	char real[PATH_MAX], lib[PATH_MAX], path[PATH_MAX];

	/* No trust check: taking the line out must work whatever happened. */
	if (sg_lib_for_root(root, DISABLE, SG_LIBC_GLIBC, 0, real, lib,
			    sizeof(lib)) < 0)
		return 1;
	if (snprintf(path, sizeof(path), "%s%s", root, PRELOAD_FILE) >= (int)sizeof(path))
		return 1;
	return remove_line(path, lib);
}
