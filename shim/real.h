/*
 * The libc functions the shim forwards to.  Each pointer starts at a stub
 * that binds that symbol with dlsym(RTLD_NEXT, ...) on first use, so a call
 * that arrives before the constructor (another library's constructor, a
 * preinit function) works, and wrappers never test for NULL.  While binding
 * is under way on a thread (dlsym may allocate, and an allocator may do I/O),
 * the stubs fall back to the raw system call.
 */
#ifndef SG_REAL_H
#define SG_REAL_H


#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

/*
 * Where the prototypes of musl's headers differ from glibc's (docs/DESIGN.md,
 * "musl"): the exported wrappers must match the headers of the libc they
 * are built for.  musl's headers also make the *64 names macros for the
 * plain ones; its libc.so still exports them as symbols (for binaries built
 * against glibc, through gcompat), so the shim keeps its wrappers of them.
 */
#ifdef SG_MUSL
typedef int sg_rlimit_resource;
typedef int sg_ioctl_request;
typedef unsigned sg_mmsg_flags;
#undef setrlimit64
#undef prlimit64
#undef sendfile64
#else
typedef __rlimit_resource_t sg_rlimit_resource;
typedef unsigned long sg_ioctl_request;
typedef int sg_mmsg_flags;
#endif

/* X(name, return type, parameters, arguments) for every forwarded symbol. */
#define SG_REAL_LIST(X)							\
	X(connect, int, (int a, const struct sockaddr *b, socklen_t c), (a, b, c)) \
	X(accept, int, (int a, struct sockaddr *b, socklen_t *c), (a, b, c)) \
	X(accept4, int, (int a, struct sockaddr *b, socklen_t *c, int d), (a, b, c, d)) \
	X(send, ssize_t, (int a, const void *b, size_t c, int d), (a, b, c, d)) \
	X(sendto, ssize_t, (int a, const void *b, size_t c, int d,	\
		const struct sockaddr *e, socklen_t f), (a, b, c, d, e, f)) \
	X(sendmsg, ssize_t, (int a, const struct msghdr *b, int c), (a, b, c)) \
	X(sendmmsg, int, (int a, struct mmsghdr *b, unsigned c, int d), (a, b, c, d)) \
	X(recv, ssize_t, (int a, void *b, size_t c, int d), (a, b, c, d)) \
	X(recvfrom, ssize_t, (int a, void *b, size_t c, int d,		\
		struct sockaddr *e, socklen_t *f), (a, b, c, d, e, f))	\
	X(recvmsg, ssize_t, (int a, struct msghdr *b, int c), (a, b, c)) \
	X(recvmmsg, int, (int a, struct mmsghdr *b, unsigned c, int d,	\
		struct timespec *e), (a, b, c, d, e))			\
	X(read, ssize_t, (int a, void *b, size_t c), (a, b, c))		\
	X(write, ssize_t, (int a, const void *b, size_t c), (a, b, c))	\
	X(readv, ssize_t, (int a, const struct iovec *b, int c), (a, b, c)) \
	X(writev, ssize_t, (int a, const struct iovec *b, int c), (a, b, c)) \
	X(sendfile, ssize_t, (int a, int b, off_t *c, size_t d), (a, b, c, d)) \
	X(poll, int, (struct pollfd *a, nfds_t b, int c), (a, b, c))	\
	X(ppoll, int, (struct pollfd *a, nfds_t b, const struct timespec *c, \
		const sigset_t *d), (a, b, c, d))			\
	X(select, int, (int a, fd_set *b, fd_set *c, fd_set *d,		\
		struct timeval *e), (a, b, c, d, e))			\
	X(pselect, int, (int a, fd_set *b, fd_set *c, fd_set *d,	\
		const struct timespec *e, const sigset_t *f), (a, b, c, d, e, f)) \
	X(epoll_wait, int, (int a, struct epoll_event *b, int c, int d), (a, b, c, d)) \
	X(epoll_pwait, int, (int a, struct epoll_event *b, int c, int d, \
		const sigset_t *e), (a, b, c, d, e))			\
	X(epoll_ctl, int, (int a, int b, int c, struct epoll_event *d), (a, b, c, d)) \
	X(epoll_create, int, (int a), (a))				\
	X(epoll_create1, int, (int a), (a))				\
	X(getsockopt, int, (int a, int b, int c, void *d, socklen_t *e), (a, b, c, d, e)) \
	X(setsockopt, int, (int a, int b, int c, const void *d, socklen_t e), (a, b, c, d, e)) \
	X(socket, int, (int a, int b, int c), (a, b, c))		\
	X(socketpair, int, (int a, int b, int c, int *d), (a, b, c, d))	\
	X(listen, int, (int a, int b), (a, b))				\
	X(close, int, (int a), (a))					\
	X(fclose, int, (FILE *a), (a))					\
	X(close_range, int, (unsigned a, unsigned b, int c), (a, b, c))	\
	X(closefrom, void, (int a), (a))				\
	X(dup, int, (int a), (a))					\
	X(dup2, int, (int a, int b), (a, b))				\
	X(dup3, int, (int a, int b, int c), (a, b, c))			\
	X(fcntl, int, (int a, int b, unsigned long c), (a, b, c))	\
	X(fcntl64, int, (int a, int b, unsigned long c), (a, b, c))	\
	X(ioctl, int, (int a, unsigned long b, void *c), (a, b, c))	\
	X(__read_chk, ssize_t, (int a, void *b, size_t c, size_t d), (a, b, c, d)) \
	X(__recv_chk, ssize_t, (int a, void *b, size_t c, size_t d, int e), (a, b, c, d, e)) \
	X(__recvfrom_chk, ssize_t, (int a, void *b, size_t c, size_t d, int e, \
		struct sockaddr *f, socklen_t *g), (a, b, c, d, e, f, g)) \
	X(__poll_chk, int, (struct pollfd *a, nfds_t b, int c, size_t d), (a, b, c, d)) \
	X(__ppoll_chk, int, (struct pollfd *a, nfds_t b, const struct timespec *c, \
		const sigset_t *d, size_t e), (a, b, c, d, e))		\
	X(setrlimit, int, (sg_rlimit_resource a, const struct rlimit *b), (a, b)) \
	X(setrlimit64, int, (sg_rlimit_resource a, const struct rlimit64 *b), (a, b)) \
	X(prlimit, int, (pid_t a, sg_rlimit_resource b, const struct rlimit *c, \
		struct rlimit *d), (a, b, c, d))			\
	X(prlimit64, int, (pid_t a, sg_rlimit_resource b, const struct rlimit64 *c, \
		struct rlimit64 *d), (a, b, c, d))			\
	X(sigaction, int, (int a, const struct sigaction *b, struct sigaction *c), (a, b, c)) \
	X(clone, int, (int (*a)(void *), void *b, int c, void *d, pid_t *e, \
		void *f, pid_t *g), (a, b, c, d, e, f, g))		\
	X(prctl, int, (int a, unsigned long b, unsigned long c,		\
		unsigned long d, unsigned long e), (a, b, c, d, e))	\
	X(syscall, long, (long a, unsigned long b, unsigned long c,	\
		unsigned long d, unsigned long e, unsigned long f,	\
		unsigned long g), (a, b, c, d, e, f, g))		\
	X(fdopen, FILE *, (int a, const char *b), (a, b))

#define SG_REAL_DECLARE(name, ret, params, args) \
	extern ret (*sg_real_##name) params;
SG_REAL_LIST(SG_REAL_DECLARE)
#undef SG_REAL_DECLARE

/*
 * The libc function behind an interposed name.  Each pointer is one aligned
 * word, written whole (stub to libc) and only ever by binding: a plain load
 * lets the compiler call through it in one instruction (call *ptr(%rip)).
 * ThreadSanitizer is told the truth, that the load races with binding.
 */
#if defined(__SANITIZE_THREAD__)
#define REAL(name) (__atomic_load_n(&sg_real_##name, __ATOMIC_RELAXED))
#else
#define REAL(name) (sg_real_##name)
#endif


#pragma GCC visibility pop

#endif
