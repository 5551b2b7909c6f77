/*
 * Binding the libc functions behind the interposed names.  See real.h.
 */
#include "real.h"

#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "event.h"
#include "shim.h"
#include "../policy/rawsys.h"

/*
 * The raw system call behind a name, for the rare call made on a thread that
 * is itself binding (dlsym -> malloc -> read).  -1: no direct equivalent,
 * the call fails with ENOSYS in that situation.  syscall(2) itself passes
 * its first argument as the number.
 */
#define SG_NR_FIRST_ARG -2
#define SG_NR_connect SYS_connect
#define SG_NR_accept SYS_accept
#define SG_NR_accept4 SYS_accept4
#define SG_NR_send -1
#define SG_NR_sendto SYS_sendto
#define SG_NR_sendmsg SYS_sendmsg
#define SG_NR_sendmmsg SYS_sendmmsg
#define SG_NR_recv -1
#define SG_NR_recvfrom SYS_recvfrom
#define SG_NR_recvmsg SYS_recvmsg
#define SG_NR_recvmmsg SYS_recvmmsg
#define SG_NR_read SYS_read
#define SG_NR_write SYS_write
#define SG_NR_readv SYS_readv
#define SG_NR_writev SYS_writev
#define SG_NR_sendfile SYS_sendfile
#define SG_NR_poll -1
#define SG_NR_ppoll -1
#define SG_NR_select -1
#define SG_NR_pselect -1
#define SG_NR_epoll_wait -1
#define SG_NR_epoll_pwait -1
#define SG_NR_epoll_ctl SYS_epoll_ctl
#define SG_NR_epoll_create -1
#define SG_NR_epoll_create1 SYS_epoll_create1
#define SG_NR_getsockopt SYS_getsockopt
#define SG_NR_setsockopt SYS_setsockopt
#define SG_NR_socket SYS_socket
#define SG_NR_socketpair SYS_socketpair
#define SG_NR_listen SYS_listen
#define SG_NR_close SYS_close
#define SG_NR_fclose -1
#define SG_NR_close_range SYS_close_range
#define SG_NR_closefrom -1
#define SG_NR_dup SYS_dup
#define SG_NR_dup2 -1
#define SG_NR_dup3 SYS_dup3
#define SG_NR_fcntl SYS_fcntl
#define SG_NR_fcntl64 SYS_fcntl
#define SG_NR_ioctl SYS_ioctl
#define SG_NR___read_chk SYS_read
#define SG_NR___recv_chk -1
#define SG_NR___recvfrom_chk -1
#define SG_NR___poll_chk -1
#define SG_NR___ppoll_chk -1
#define SG_NR_sigaction -1
#define SG_NR_setrlimit SYS_setrlimit
#define SG_NR_setrlimit64 SYS_setrlimit
#define SG_NR_prlimit SYS_prlimit64
#define SG_NR_prlimit64 SYS_prlimit64
#define SG_NR_clone -1
#define SG_NR_prctl SYS_prctl
#define SG_NR_syscall SG_NR_FIRST_ARG
#define SG_NR_fdopen -1

static SG_TLS int binding;	/* this thread is inside bind_one */

static void *bind_one(const char *name, void *missing);

/* The stubs every pointer starts at, and the ENOSYS stand-ins. */
#define SG_REAL_STUB(name, ret, params, args)				\
	static ret stub_##name params;					\
	static ret missing_##name params;				\
	ret (*sg_real_##name) params = stub_##name;
SG_REAL_LIST(SG_REAL_STUB)
#undef SG_REAL_STUB

/*
 * A libc without one of these symbols (close_range before glibc 2.34, say)
 * makes that call fail with ENOSYS; it is reported once, never fatal.
 */
static void report_missing(const char *name, int *reported)
{
	int saved = errno;
	if (!__atomic_exchange_n(reported, 1, __ATOMIC_RELAXED)) {
		char text[128] = "libc has no ";
		strncat(text, name, sizeof(text) - 64);
		strcat(text, "(): calls to it fail with ENOSYS");
		sg_log_problem(text);
	}
	errno = saved;
}

#define SG_REAL_FALLBACKS(name, ret, params, args)			\
	static ret missing_##name params					\
	{								\
		static int reported;					\
		report_missing(#name, &reported);			\
		errno = ENOSYS;						\
		return (ret)-1;						\
	}								\
	static ret stub_##name params					\
	{								\
		void *p = bind_one(#name, (void *)missing_##name);	\
		if (p) {						\
			ret (*fn) params = (ret (*) params)p;		\
			__atomic_store_n(&sg_real_##name, fn, __ATOMIC_RELAXED); \
			return fn args;					\
		}							\
		return (ret)raw_fallback(SG_NR_##name,			\
					 SG_ARGS7(SG_UNPAREN args));	\
	}
#define SG_UNPAREN(...) __VA_ARGS__
#define SG_ARGS7(...) SG_ARGS7_(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)
#define SG_ARGS7_(a, b, c, d, e, f, g, ...) (long)(a), (long)(b), (long)(c), \
	(long)(d), (long)(e), (long)(f), (long)(g)

/*
 * The call made as a raw system call (never through libc's syscall(2),
 * which is itself bound here and may be the one binding), with errno set
 * as libc would.
 */
static long raw_fallback(long nr, long a, long b, long c, long d, long e,
			 long f, long g)
{
	long r;

	if (nr == SG_NR_FIRST_ARG)
		r = sg_sys6(a, b, c, d, e, f, g);
	else if (nr >= 0)
		r = sg_sys6(nr, a, b, c, d, e, f);
	else
		r = -ENOSYS;
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}
SG_REAL_LIST(SG_REAL_FALLBACKS)
#undef SG_REAL_FALLBACKS

/*
 * Where this library is mapped: from its ELF header to the end of its
 * data, as the linker marks them (no call needed to find out).
 */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _end[] __attribute__((visibility("hidden")));

/*
 * Looks one symbol up behind the shim.  A result inside this library (a
 * second copy of it, RTLD_DEEPBIND) would loop forever, so it counts as
 * missing.
 */
static void *lookup(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (p == NULL)
		return NULL;
	if ((uintptr_t)p >= (uintptr_t)__ehdr_start && (uintptr_t)p < (uintptr_t)_end)
		return NULL;
	return p;
}

/*
 * Binds one symbol on its first call (each on its own, so a process start
 * pays only for the calls it makes): libc's function, or the ENOSYS
 * stand-in.  NULL while this thread is already binding (dlsym may allocate,
 * and an allocator may do I/O): the caller then makes the system call.
 */
static void *bind_one(const char *name, void *missing)
{
	if (binding)
		return NULL;
	int saved = errno;
	binding = 1;
	void *p = lookup(name);
	binding = 0;
	errno = saved;
	return p ? p : missing;
}
