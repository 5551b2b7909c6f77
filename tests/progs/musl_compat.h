/*
 * What the test programs take from glibc that musl (1.2.3) does not have,
 * for their musl builds (the Makefile includes this file first with
 * -include).  close_range and closefrom are made as a musl program makes
 * them, with the close_range(2) system call, which no wrapper sees.
 */
#ifndef SG_MUSL_COMPAT_H
#define SG_MUSL_COMPAT_H

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SG_ERRNO_NAMES(X) \
	X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) \
	X(ENOEXEC) X(EBADF) X(ECHILD) X(EAGAIN) X(ENOMEM) X(EACCES) \
	X(EFAULT) X(EBUSY) X(EEXIST) X(ENODEV) X(ENOTDIR) X(EISDIR) \
	X(EINVAL) X(ENFILE) X(EMFILE) X(ENOSPC) X(ESPIPE) X(EPIPE) \
	X(ERANGE) X(ENOSYS) X(ENONET) X(EPROTO) X(ENOTSOCK) \
	X(EDESTADDRREQ) X(EMSGSIZE) X(EPROTOTYPE) X(ENOPROTOOPT) \
	X(EPROTONOSUPPORT) X(EOPNOTSUPP) X(EAFNOSUPPORT) X(EADDRINUSE) \
	X(EADDRNOTAVAIL) X(ENETDOWN) X(ENETUNREACH) X(ENETRESET) \
	X(ECONNABORTED) X(ECONNRESET) X(ENOBUFS) X(EISCONN) X(ENOTCONN) \
	X(ESHUTDOWN) X(ETIMEDOUT) X(ECONNREFUSED) X(EHOSTDOWN) \
	X(EHOSTUNREACH) X(EALREADY) X(EINPROGRESS)

/* glibc's strerrorname_np(3): the errno's name, as the tests compare it. */
static inline const char *strerrorname_np(int err)
{
	switch (err) {
#define SG_ERRNO_CASE(e) case e: return #e;
	SG_ERRNO_NAMES(SG_ERRNO_CASE)
#undef SG_ERRNO_CASE
	default:
		return "E?";
	}
}

static inline int close_range(unsigned lo, unsigned hi, int flags)
{
	return (int)syscall(SYS_close_range, lo, hi, flags);
}

static inline void closefrom(int lo)
{
	syscall(SYS_close_range, (unsigned)lo, ~0u, 0);
}

#endif
