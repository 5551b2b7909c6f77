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
#include <sys/syscall.h>
#include <unistd.h>

#include "accept.h"
#include "event.h"
#include "fdtable.h"
#include "real.h"
#include "shim.h"
#include "signals.h"
#include "state.h"

/* linux/close_range.h; musl's headers have no close_range(2) at all. */
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/*
 * fd is about to stop being the shim's (closed, or replaced by a dup2 that
 * succeeded): its owner opens another elsewhere.  Returns 1 when it was.
 */
static int release(int fd)
{
	if (SG_LIKELY(!(sg_fd_get(fd) & SG_FD_SHIM)) || sg_thread.vfork_child)
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

/* The bookkeeping of a descriptor the program closes. */
static int closing(int fd)
{
	if (SG_UNLIKELY(sg_fd_get(fd) & SG_FD_STREAM))
		sg_signals_stream_closed(fd);
	int lost = release(fd);
	sg_fd_forget(fd);
	return lost;
}

/* close() of a descriptor the shim owns, or with more to forget. */
static SG_COLD int close_let_go(int fd)
{
	int lost = closing(fd);
	return retake(lost, REAL(close)(fd));
}

SG_EXPORT int close(int fd)
{
	uint32_t w = sg_fd_get(fd);

	if (SG_UNLIKELY(sg_fast() & SG_FAST_EOF))
		return close_let_go(fd);
	if (w) {
		if (SG_UNLIKELY((w & SG_FD_LET_GO) || sg_thread.vfork_child))
			return close_let_go(fd);
		sg_fd_forget_word(fd);
	}
	return REAL(close)(fd);
}

SG_EXPORT int fclose(FILE *f)
{
	int lost = 0;

	if (f) {
		int fd = fileno(f);
		if (fd >= 0)
			lost = closing(fd);
	}
	return retake(lost, REAL(fclose)(f));
}

/* Every descriptor in [lo, hi] is about to close: one walk over the table. */
static int closing_range(unsigned lo, unsigned hi)
{
	unsigned top = hi < sg_fdt_size ? hi : sg_fdt_size - 1;
	int lost = 0;

	if (sg_thread.vfork_child)
		return 0;
	for (unsigned fd = lo; fd <= top && fd < sg_fdt_size; fd++)
		lost |= closing((int)fd);
	return lost;
}

SG_EXPORT int close_range(unsigned lo, unsigned hi, int flags)
{
	int lost = 0;
	if (!(flags & CLOSE_RANGE_CLOEXEC) && lo <= hi)
		lost = closing_range(lo, hi);
	return retake(lost, REAL(close_range)(lo, hi, flags));
}

long sg_close_range_syscall(unsigned lo, unsigned hi, unsigned flags)
{
	int lost = 0;
	if (!(flags & CLOSE_RANGE_CLOEXEC) && lo <= hi)
		lost = closing_range(lo, hi);
	return retake(lost, (int)REAL(syscall)(SYS_close_range, lo, hi, flags,
						 0, 0, 0));
}

SG_EXPORT void closefrom(int lo)
{
	int lost = lo >= 0 ? closing_range((unsigned)lo, ~0u) : 0;
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

/*
 * dup2/dup3 onto a number: only when the call succeeded was whatever the
 * number held (perhaps a descriptor of the shim's) closed.
 */
static int duplicated(int oldfd, int newfd, int r)
{
	if (r < 0 || oldfd == newfd)
		return r;
	int lost = release(newfd);
	if (SG_UNLIKELY(sg_fd_get(newfd) & SG_FD_STREAM))
		sg_signals_stream_closed(newfd);
	sg_fd_copy(oldfd, newfd);
	return retake(lost, r);
}

SG_EXPORT int dup2(int oldfd, int newfd)
{
	return duplicated(oldfd, newfd, REAL(dup2)(oldfd, newfd));
}

SG_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	return duplicated(oldfd, newfd, REAL(dup3)(oldfd, newfd, flags));
}

static void flag_bit(int fd, uint32_t bit, int on)
{
	if (on)
		sg_fd_set_bits(fd, bit);
	else
		sg_fd_clear_bits(fd, bit);
}

/* What a successful fcntl changed: O_NONBLOCK, O_ASYNC, or a duplicate. */
static void fcntl_done(int fd, int cmd, unsigned long arg, int r)
{
	if (cmd == F_SETFL) {
		flag_bit(fd, SG_FD_NONBLOCK, (arg & O_NONBLOCK) != 0);
		flag_bit(fd, SG_FD_ASYNC, (arg & O_ASYNC) != 0);
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

SG_EXPORT int ioctl(int fd, sg_ioctl_request req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	int r = REAL(ioctl)(fd, req, arg);
	if (SG_UNLIKELY(req == FIONBIO || req == FIOASYNC) && r == 0 && arg)
		flag_bit(fd, req == FIONBIO ? SG_FD_NONBLOCK : SG_FD_ASYNC,
			 *(int *)arg != 0);
	return r;
}
