/*
 * The calls that create, duplicate and close descriptors: the fd table
 * follows them, and the shim notices when the program closes or reuses one
 * of the shim's own descriptors (daemonising loops, close_range, dup2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "event.h"
#include "fdtable.h"
#include "real.h"
#include "shim.h"

void sg_accept_reserve_lost(int fd);
void sg_accept_reserve_take(void);

/*
 * fd is about to stop being the shim's: let its owner reopen elsewhere.
 * Returns 1 when it was the shim's.
 */
static int release(int fd)
{
	if (SG_LIKELY(!(sg_fd_get(fd) & SG_FD_SHIM)))
		return 0;
	int saved = errno;
	sg_fd_clear_bits(fd, SG_FD_SHIM);
	sg_log_fd_lost(fd);
	sg_accept_reserve_lost(fd);
	errno = saved;
	return 1;
}

/*
 * After the program's call took a shim descriptor away: a new reserve now,
 * while a descriptor is free (the program may be about to use them all).
 */
static int retake(int lost, int r)
{
	if (SG_UNLIKELY(lost)) {
		int saved = errno;
		sg_accept_reserve_take();
		errno = saved;
	}
	return r;
}

SG_EXPORT int close(int fd)
{
	int lost = release(fd);
	sg_fd_forget(fd);
	return retake(lost, REAL(close)(fd));
}

SG_EXPORT int fclose(FILE *f)
{
	int fd = f ? fileno(f) : -1;
	int lost = 0;
	if (fd >= 0) {
		lost = release(fd);
		sg_fd_forget(fd);
	}
	return retake(lost, REAL(fclose)(f));
}

/* Every descriptor in [lo, hi] is about to close: one walk over the table. */
static int release_range(unsigned lo, unsigned hi)
{
	unsigned top = hi < sg_fdt_size ? hi : sg_fdt_size - 1;
	int lost = 0;
	for (unsigned fd = lo; fd <= top && fd < sg_fdt_size; fd++) {
		lost |= release((int)fd);
		sg_fd_forget((int)fd);
	}
	return lost;
}

SG_EXPORT int close_range(unsigned lo, unsigned hi, int flags)
{
	int lost = 0;
	if (!(flags & CLOSE_RANGE_CLOEXEC) && lo <= hi)
		lost = release_range(lo, hi);
	return retake(lost, REAL(close_range)(lo, hi, flags));
}

SG_EXPORT void closefrom(int lo)
{
	int lost = lo >= 0 ? release_range((unsigned)lo, ~0u) : 0;
	REAL(closefrom)(lo);
	retake(lost, 0);
}

SG_EXPORT int dup(int fd)
{
	int r = REAL(dup)(fd);
	if (r >= 0)
		sg_fd_copy(fd, r);
	return r;
}

SG_EXPORT int dup2(int oldfd, int newfd)
{
	int lost = oldfd != newfd ? release(newfd) : 0;
	int r = REAL(dup2)(oldfd, newfd);
	if (r >= 0 && oldfd != newfd)
		sg_fd_copy(oldfd, newfd);
	return retake(lost, r);
}

SG_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int lost = oldfd != newfd ? release(newfd) : 0;
	int r = REAL(dup3)(oldfd, newfd, flags);
	if (r >= 0)
		sg_fd_copy(oldfd, newfd);
	return retake(lost, r);
}

/* What a successful fcntl changed: O_NONBLOCK, or a new duplicate. */
static void fcntl_done(int fd, int cmd, unsigned long arg, int r)
{
	if (cmd == F_SETFL) {
		if (arg & O_NONBLOCK)
			sg_fd_set_bits(fd, SG_FD_NONBLOCK);
		else
			sg_fd_clear_bits(fd, SG_FD_NONBLOCK);
	} else if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		sg_fd_copy(fd, r);
	}
}

/*
 * fcntl's third argument is an int or a pointer; both travel in the same
 * register class as an unsigned long on the ABIs glibc supports, which is
 * how glibc's own fcntl reads it.
 */
static int fcntl_common(int (*fn)(int, int, unsigned long), int fd, int cmd,
			unsigned long arg)
{
	int r = fn(fd, cmd, arg);
	if (r >= 0 && (cmd == F_SETFL || cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		fcntl_done(fd, cmd, arg, r);
	return r;
}

SG_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	return fcntl_common(REAL(fcntl), fd, cmd, arg);
}

SG_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	return fcntl_common(REAL(fcntl64), fd, cmd, arg);
}

SG_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	int r = REAL(ioctl)(fd, req, arg);
	if (SG_UNLIKELY(req == FIONBIO) && r == 0 && arg) {
		if (*(int *)arg)
			sg_fd_set_bits(fd, SG_FD_NONBLOCK);
		else
			sg_fd_clear_bits(fd, SG_FD_NONBLOCK);
	}
	return r;
}
