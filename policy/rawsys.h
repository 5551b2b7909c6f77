/*
 * Raw system calls, through the kernel's calling convention, returning the
 * result or -errno and never touching errno.
 *
 * The shim's own system calls go through here: the libc functions (read,
 * close, fcntl, poll, even syscall) are the shim's own wrappers when called
 * from inside it, and each libc symbol the library imports costs every
 * process a symbol lookup at start-up; the few instructions below avoid
 * both.  The policy loader, which runs in the shim's constructor, uses them
 * for the same reason.  Every call the shim makes is listed in
 * docs/DESIGN.md with the path that makes it.
 */
#ifndef SG_RAWSYS_H
#define SG_RAWSYS_H

#include <sys/syscall.h>

#if defined(__x86_64__)

static inline long sg_sys6(long n, long a, long b, long c, long d, long e,
			   long f)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}

#elif defined(__aarch64__)

static inline long sg_sys6(long n, long a, long b, long c, long d, long e,
			   long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}

#else

#include <errno.h>
#include <unistd.h>

/* Other architectures: libc's syscall(2), with errno kept as it was. */
static inline long sg_sys6(long n, long a, long b, long c, long d, long e,
			   long f)
{
	int saved = errno;
	long r = syscall(n, a, b, c, d, e, f);

	if (r == -1) {
		r = -errno;
		errno = saved;
	}
	return r;
}

#endif

#define sg_sys0(n) sg_sys6((n), 0, 0, 0, 0, 0, 0)
#define sg_sys1(n, a) sg_sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define sg_sys2(n, a, b) sg_sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define sg_sys3(n, a, b, c) sg_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sg_sys4(n, a, b, c, d) \
	sg_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sg_sys5(n, a, b, c, d, e) \
	sg_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

#endif
