/*
 * The one policy loader (see policy.h, sg_policy_load): from a path to a
 * parsed policy, or to one line that says why the file was refused.  It
 * runs in the shim's constructor, before main, in every program of a host
 * that preloads the shim: nothing here may block, allocate or leave a
 * descriptor behind.
 *
 * A device or FIFO is refused on its stat(2), before any open: opening one
 * can block (a FIFO without a writer, a tty) or act (a tape rewinds, a
 * watchdog arms).  The open that follows is non-blocking all the same, for
 * whatever was put at the path in between, and fstat(2) of the very file
 * opened is what the trust check judges.
 *
 * Its system calls are raw (rawsys.h), not read(2), close(2), stat(2) or
 * mmap(2): in the shim those names are interposed or would be one more
 * libc symbol to look up in every process at start-up.
 */
#include "policy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rawsys.h"

/* Appends "path: why" to the problems; the count saturates. */
static void add_problem(struct sg_problems *pr, const char *path,
			const char *why)
{
	struct sg_fmt b;

	if (!pr)
		return;
	unsigned i = pr->count;
	if (pr->count < UINT_MAX)
		pr->count++;
	if (i >= SG_PROBLEMS_MAX)
		return;
	sg_fmt_init_cstr(&b, pr->text[i], SG_PROBLEM_LEN);
	sg_fmt_str(&b, path);
	sg_fmt_str(&b, ": ");
	sg_fmt_str(&b, why);
}

/* Refuses the file: one problem, and p stays the empty policy for good. */
static int refuse(struct sg_policy *p, struct sg_problems *pr,
		  const char *path, const char *why)
{
	add_problem(pr, path, why);
	sg_policy_init(p);
	p->failed = 1;
	return SG_LOAD_REFUSED;
}

/*
 * strerror(3)'s words for the errors a path can meet, without its locale
 * lookup or, for an unknown number, its malloc.
 */
static const char *known_errno(int err)
{
	switch (err) {
	case ENOENT: return "No such file or directory";
	case EACCES: return "Permission denied";
	case ENOTDIR: return "Not a directory";
	case ELOOP: return "Too many levels of symbolic links";
	case ENAMETOOLONG: return "File name too long";
	case EAGAIN: return "Resource temporarily unavailable";
	case EIO: return "Input/output error";
	case ENOMEM: return "Cannot allocate memory";
	case EMFILE: return "Too many open files";
	case ENFILE: return "Too many open files in system";
	case EPERM: return "Operation not permitted";
	case ENXIO: return "No such device or address";
	case EISDIR: return "Is a directory";
	default: return NULL;
	}
}

/* Refuses the file for errno err. */
static int refuse_errno(struct sg_policy *p, struct sg_problems *pr,
			const char *path, int err)
{
	const char *known = known_errno(err);
	char why[48];
	struct sg_fmt b;

	if (known)
		return refuse(p, pr, path, known);
	sg_fmt_init_cstr(&b, why, sizeof(why));
	sg_fmt_str(&b, "cannot be read (errno ");
	sg_fmt_u64(&b, (unsigned)err);
	sg_fmt_str(&b, ")");
	return refuse(p, pr, path, why);
}

/* Whether the stat may be used; if not, refuses with the reason. */
static int judge(struct sg_policy *p, struct sg_problems *pr, const char *path,
		 const struct stat *st, unsigned flags)
{
	char why[128];

	if (sg_policy_file_trusted(st, (flags & SG_LOAD_SECURE) != 0, why,
				   sizeof(why)) < 0)
		return refuse(p, pr, path, why);
	if (st->st_size > SG_POLICY_TEXT_MAX)
		return refuse(p, pr, path, "larger than 262144 bytes");
	return 0;
}

/*
 * Reads at most SG_POLICY_LOAD_BUF bytes: one more than a policy may have,
 * so that a file that grew since its fstat is seen to be too large.
 * Returns the length, or -errno.
 */
static long read_bounded(int fd, char *buf)
{
	size_t len = 0;

	while (len < SG_POLICY_LOAD_BUF) {
		long n = sg_sys3(SYS_read, fd, buf + len, SG_POLICY_LOAD_BUF - len);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return n;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (long)len;
}

/* Opens, checks and reads the file into buf; returns its length or < 0. */
static long read_file(struct sg_policy *p, struct sg_problems *pr,
		      const char *path, unsigned flags, char *buf,
		      struct stat *st)
{
	int fd = (int)sg_sys4(SYS_openat, AT_FDCWD, path,
			      O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
	if (fd < 0)
		return refuse_errno(p, pr, path, -fd);
	long len = sg_sys4(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH);
	if (len < 0)
		len = refuse_errno(p, pr, path, (int)-len);
	else if (judge(p, pr, path, st, flags) < 0)
		len = SG_LOAD_REFUSED;
	else if ((len = read_bounded(fd, buf)) < 0)
		len = refuse_errno(p, pr, path, (int)-len);
	else if (len > SG_POLICY_TEXT_MAX)
		len = refuse(p, pr, path, "larger than 262144 bytes");
	sg_sys1(SYS_close, fd);
	return len;
}

/*
 * Reads and parses a regular file, into buf or, when buf is NULL, into a
 * private mapping made only now, so that a process without a policy file
 * maps nothing.
 */
static int read_and_parse(struct sg_policy *p, const char *path,
			  unsigned flags, char *buf, struct stat *st,
			  struct sg_problems *pr)
{
	char *map = NULL;

	if (!buf) {
		long m = sg_sys6(SYS_mmap, 0, SG_POLICY_LOAD_BUF,
				 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);
		if (m < 0 && m > -4096)
			return refuse_errno(p, pr, path, ENOMEM);
		map = (char *)m;
		buf = map;
	}
	long len = read_file(p, pr, path, flags, buf, st);
	int rc = len < 0 ? SG_LOAD_REFUSED :
		 sg_policy_parse(p, buf, (size_t)len, path, pr) < 0 ?
		 SG_LOAD_INVALID : SG_LOAD_OK;
	if (map)
		sg_sys2(SYS_munmap, map, SG_POLICY_LOAD_BUF);
	return rc;
}

/*
 * /dev/null (character device 1:3, under any name) is an empty policy, as
 * for other programs' configuration: SOCKGUARD_CONFIG=/dev/null, or a
 * policy file masked by a link to it, means no settings from a file.  It
 * is not opened.
 */
static int is_dev_null(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

int sg_policy_load(struct sg_policy *p, const char *path, unsigned flags,
		   char *buf, struct stat *st, struct sg_problems *problems)
{
	int saved = errno, rc;
	struct stat local, before;

	long r = sg_sys4(SYS_newfstatat, AT_FDCWD, path, &before, 0);
	if (r < 0)
		rc = r == -ENOENT && !(flags & SG_LOAD_REQUIRED) ? SG_LOAD_NONE :
		     refuse_errno(p, problems, path, (int)-r);
	else if (is_dev_null(&before))
		rc = sg_policy_parse(p, "", 0, path, problems) < 0 ?
		     SG_LOAD_INVALID : SG_LOAD_OK;
	else if (!S_ISREG(before.st_mode))
		rc = judge(p, problems, path, &before, flags);
	else
		rc = read_and_parse(p, path, flags, buf, st ? st : &local,
				    problems);
	errno = saved;
	return rc;
}
