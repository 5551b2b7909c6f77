/*
 * The parts of `sockguard run` and `sockguard enable` that prepare what the
 * shim reads (see preload.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "escape.h"
#include "preload.h"
#include "tools.h"

/* A key is lower-case letters and underscores (sockguard(8), "POLICY"). */
static int key_is_wellformed(const char *kv, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if ((kv[i] < 'a' || kv[i] > 'z') && kv[i] != '_')
			return 0;
	}
	return 1;
}

int sg_opts_add(struct sg_opts *o, const char *cmd, const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (!eq || !key_is_wellformed(kv, (size_t)(eq - kv)) || eq[1] == '\0') {
		fprintf(stderr, "%s: -o '%s': expected KEY=VALUE (for example "
			"-o mode=observe)\n", cmd, sg_esc_arg(0, kv));
		return -1;
	}
	size_t n = strlen(kv);
	char *grown = realloc(o->text, o->len + n + 2);
	if (!grown) {
		fprintf(stderr, "%s: out of memory\n", cmd);
		return -1;
	}
	o->text = grown;
	if (o->len > 0)
		o->text[o->len++] = ':';
	memcpy(o->text + o->len, kv, n + 1);
	o->len += n;
	return 0;
}

int sg_opts_validate(const struct sg_opts *o, const char *cmd)
{
	struct sg_problems *probs = calloc(1, sizeof(*probs));
	struct sg_policy *p = malloc(sg_policy_storage_size());
	int rc = -1;

	if (!probs || !p) {
		fprintf(stderr, "%s: out of memory\n", cmd);
		goto out;
	}
	sg_policy_init(p);
	rc = o->text ? sg_policy_parse_options(p, o->text, probs) : 0;
	unsigned kept = probs->count < SG_PROBLEMS_MAX ? probs->count : SG_PROBLEMS_MAX;
	for (unsigned i = 0; i < kept; i++)
		fprintf(stderr, "%s: -o: %s\n", cmd, sg_esc_arg(0, probs->text[i]));
	if (rc == 0 && probs->count > 0)
		rc = -1;
out:
	free(p);
	free(probs);
	return rc;
}

void sg_opts_free(struct sg_opts *o)
{
	free(o->text);
	o->text = NULL;
	o->len = 0;
}

void sg_policy_problems_print(const char *prefix, const char *refused,
			      int rc, const struct sg_problems *pr)
{
	unsigned kept = pr->count < SG_PROBLEMS_MAX ? pr->count : SG_PROBLEMS_MAX;
	char text[SG_ESC_TEXT_SIZE(SG_PROBLEM_LEN)];

	for (unsigned i = 0; i < kept; i++)
		fprintf(stderr, "%s%s%s%s\n", prefix ? prefix : "",
			prefix ? ": " : "", sg_esc_str(text, sizeof(text), pr->text[i]),
			i == 0 && rc == SG_LOAD_REFUSED ? refused : "");
	if (pr->count > kept)
		fprintf(stderr, "%s%s%u more problems not shown\n",
			prefix ? prefix : "", prefix ? ": " : "", pr->count - kept);
}

int sg_tool_load_policy(const char *path, unsigned flags, const char *cmd,
			struct sg_policy *p, struct stat *st)
{
	struct sg_problems *pr = calloc(1, sizeof(*pr));

	sg_policy_init(p);
	if (!pr) {
		fprintf(stderr, "%s: out of memory\n", cmd);
		return SG_LOAD_REFUSED;
	}
	int rc = sg_policy_load(p, path, flags, NULL, st, pr);
	if (rc < 0)
		sg_policy_problems_print(cmd, "; refused", rc, pr);
	free(pr);
	return rc;
}

int sg_config_path(const char *file, const char *cmd, char *abs, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(file, '/'), *base = slash ? slash + 1 : file;

	if (!*file) {
		fprintf(stderr, "%s: -c needs a file name\n", cmd);
		return -1;
	}
	/* "dir/." and the like name a directory: the loader says so. */
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		base = "";
	int dlen = !slash ? snprintf(dir, sizeof(dir), ".") :
		   slash == file ? snprintf(dir, sizeof(dir), "/") :
		   snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	if (dlen >= (int)sizeof(dir))
		errno = ENAMETOOLONG;
	if (dlen >= (int)sizeof(dir) || !realpath(*base ? dir : file, real)) {
		char shown[SG_ESC_TEXT_SIZE(256)];
		fprintf(stderr, "%s: -c %s: %s\n", cmd,
			sg_esc_str(shown, sizeof(shown), file), strerror(errno));
		return -1;
	}
	int n = snprintf(abs, len, "%s%s%s", real,
			 *base && strcmp(real, "/") ? "/" : "", base);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "%s: -c: the path is too long\n", cmd);
		return -1;
	}
	return 0;
}

/* Checks one path component: root-owned, not writable by group or others. */
static int component_trusted(const char *path, char *why, size_t len)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_uid != 0) {
		snprintf(why, len, "%s is owned by uid %u, not by root", path,
			 (unsigned)st.st_uid);
		return -1;
	}
	int sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir) {
		snprintf(why, len, "%s is writable by %s", path,
			 (st.st_mode & S_IWOTH) ? "others" : "its group");
		return -1;
	}
	return 0;
}

int sg_lib_trusted(const char *path, char *why, size_t len)
{
	char real[PATH_MAX];

	if (path[0] != '/') {
		snprintf(why, len, "%s is not an absolute path", path);
		return -1;
	}
	if (!realpath(path, real)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Walk up from the file itself to "/", cutting one component a time. */
	for (;;) {
		if (component_trusted(real[0] ? real : "/", why, len) < 0)
			return -1;
		if (real[0] == '\0')
			return 0;
		*strrchr(real, '/') = '\0';
	}
}

/* Writes all of data, going on after short writes and EINTR. */
static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void fsync_parent(const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int sg_write_atomic(const char *path, const char *data, size_t len,
		    unsigned mode, int uid, int gid)
{
	char tmp[PATH_MAX];
	int rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.sockguard-%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, data, len);
	if (rc == 0 && uid >= 0 && fchown(fd, (uid_t)uid, (gid_t)gid) < 0)
		rc = -errno;
	if (rc == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	else
		fsync_parent(path);
	return rc;
}

/*
 * Opened without blocking, so that a FIFO or device put where a file is
 * expected is refused, never waited on; read in a bounded loop, so that a
 * file that grows meanwhile gives -EFBIG.
 */
int sg_read_file(const char *path, size_t max, char **data, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), rc = 0;
	size_t got = 0;
	char *buf = NULL;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if ((buf = malloc(max + 2)) == NULL)
		rc = -ENOMEM;
	while (rc == 0 && got <= max) {
		ssize_t n = read(fd, buf + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (rc == 0 && got > max)
		rc = -EFBIG;
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

int sg_root_path(const char *root, const char *cmd, char *out, size_t len)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(root, real) || stat(real, &st) < 0) {
		fprintf(stderr, "%s: --root %s: %s\n", cmd, sg_esc_arg(0, root),
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || strlen(real) >= len) {
		fprintf(stderr, "%s: --root %s: not a directory\n", cmd,
			sg_esc_arg(0, root));
		return -1;
	}
	snprintf(out, len, "%s", strcmp(real, "/") == 0 ? "" : real);
	return 0;
}

/*
 * Whether a library path can go into LD_PRELOAD, ld.so.preload and a unit
 * file as it is: those lists split at ':' and blanks, a unit file would
 * need quotes, escapes or "%%" for the rest, and no control byte belongs
 * in a path written into every program's start-up.
 */
static int path_is_plain(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || strchr(": \\\"'%", *p))
			return 0;
	return 1;
}

/*
 * Which build
 */

#define LIB_NAME "libsockguard.so"

const char *sg_lib_name(enum sg_libc libc)
{
	return libc == SG_LIBC_MUSL ? "musl/" LIB_NAME : LIB_NAME;
}

/* Copies dir/name into buf if that file exists, resolving "..". */
static int lib_candidate(char *buf, size_t len, const char *dir,
			 const char *name)
{
	char joined[PATH_MAX], real[PATH_MAX];

	if (snprintf(joined, sizeof(joined), "%s/%s", dir, name) >=
	    (int)sizeof(joined))
		return -1;
	if (!realpath(joined, real) || strlen(real) >= len)
		return -1;
	strcpy(buf, real);
	return 0;
}

int sg_tool_find_lib(enum sg_libc libc, char *buf, size_t len)
{
	char exe[PATH_MAX], installed[64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	if (lib_candidate(buf, len, exe[0] ? exe : "/", sg_lib_name(libc)) == 0)
		return 0;
	snprintf(installed, sizeof(installed), "../lib/%s", sg_lib_name(libc));
	return lib_candidate(buf, len, exe, installed);
}

/*
 * The interpreter a script names on its #! line (its first word), as
 * execve(2) reads it: from the first 256 bytes.  Returns 0, or -1.
 */
static int script_interpreter(const char *path, char *out, size_t len)
{
	char head[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n = fd < 0 ? -1 : pread(fd, head, sizeof(head) - 1, 0);

	if (fd >= 0)
		close(fd);
	if (n < 3 || head[0] != '#' || head[1] != '!')
		return -1;
	head[n] = '\0';
	char *p = head + 2 + strspn(head + 2, " \t");
	size_t w = strcspn(p, " \t\n");
	if (w == 0 || (p[w] == '\0' && n == sizeof(head) - 1) ||
	    (size_t)snprintf(out, len, "%.*s", (int)w, p) >= len)
		return -1;
	return 0;
}

int sg_lib_for_target(const char *root, const char *path, struct sg_target *t)
{
	char full[PATH_MAX], interp[PATH_MAX];

	memset(t, 0, sizeof(*t));
	int rc = snprintf(full, sizeof(full), "%s%s", root, path) < (int)sizeof(full) ?
		 sg_elf_inspect(full, &t->elf) : -ENAMETOOLONG;
	if (rc == 0 && t->elf.is_script &&
	    script_interpreter(full, interp, sizeof(interp)) == 0 &&
	    snprintf(full, sizeof(full), "%s%s", root, interp) < (int)sizeof(full))
		sg_elf_inspect(full, &t->elf);
	t->libc = sg_elf_is_musl(&t->elf) ? SG_LIBC_MUSL : SG_LIBC_GLIBC;
	t->found = sg_tool_find_lib(t->libc, t->lib, sizeof(t->lib)) == 0;
	if (!t->found)
		t->lib[0] = '\0';
	return rc;
}

int sg_preload_names_shim(const char *entry, size_t n)
{
	size_t k = strlen(LIB_NAME);

	return n >= k && memcmp(entry + n - k, LIB_NAME, k) == 0 &&
	       (n == k || entry[n - k - 1] == '/');
}

int sg_lib_for_root(const char *root, const char *cmd, enum sg_libc libc,
		    int check, char *real, char *lib, size_t len)
{
	char why[PATH_MAX + 64];
	size_t n = strlen(root);

	if (sg_tool_find_lib(libc, real, len) < 0) {
		fprintf(stderr, "%s: cannot find %s beside this executable nor "
			"in ../lib\n", cmd, sg_lib_name(libc));
		return -1;
	}
	if (check && sg_lib_trusted(real, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: refusing the library: %s.  Whoever can change it "
			"could run code in every process that preloads it; "
			"install sockguard as root (make install).\n", cmd,
			sg_esc_arg(0, why));
		return -1;
	}
	if (check && !path_is_plain(real)) {
		fprintf(stderr, "%s: refusing %s: the path holds a character "
			"that LD_PRELOAD or a unit file cannot carry\n", cmd,
			sg_esc_arg(0, real));
		return -1;
	}
	int inside = n > 0 && strncmp(real, root, n) == 0 && real[n] == '/';
	snprintf(lib, len, "%s", real + (inside ? n : 0));
	return 0;
}
