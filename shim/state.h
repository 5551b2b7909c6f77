/*
 * The state of the shim, in one place: what the whole process shares
 * (struct sg_proc, written by the files named beside each field) and what
 * each thread keeps (struct sg_thread).  docs/DESIGN.md says what happens
 * to each piece across fork, vfork and exec.
 */
#ifndef SG_STATE_H
#define SG_STATE_H

#include <stdint.h>
#include <sys/socket.h>

#include "shim.h"

#pragma GCC visibility push(hidden)

/*
 * sg_proc.fast: everything the success path of a hot wrapper may have to
 * do beyond calling libc, in one word, so that it reads one word.
 * SG_FAST_NOSIGNAL is MSG_NOSIGNAL itself: a send or's (fast & it) into its
 * flags.
 */
#define SG_FAST_TIMEO	0x0001u	/* a socket has SO_RCVTIMEO/SO_SNDTIMEO: read its word */
#define SG_FAST_EOF	0x0002u	/* log_events has eof: remember each fd's last operation */
#define SG_FAST_WRITEFD	0x0004u	/* sigpipe=socket: tell the SIGPIPE handler the fd written */
#define SG_FAST_WATCH	0x0008u	/* readiness calls note what they watch (poll.c) */
#define SG_FAST_SOCKOPTS 0x0010u	/* TCP options or [peer] sections for new connections */
#define SG_FAST_CONNECT	0x0020u	/* connect() prepares: [peer] sections, connect_timeout, buffers */
#define SG_FAST_NOSIGNAL MSG_NOSIGNAL	/* sigpipe=socket: MSG_NOSIGNAL on sends */

/* How SIGPIPE is held (sg_proc.sigpipe), signals.c. */
enum sg_pipe_hold {
	SG_PIPE_NONE,		/* the kernel has the program's own disposition */
	SG_PIPE_IGNORE,		/* sigpipe=ignore: the shim's handler drops it */
	SG_PIPE_SOCKET,		/* sigpipe=socket: dropped when a socket raised it */
};

struct sg_proc {
	uint32_t fast;		/* SG_FAST_*: init.c, signals.c, connect.c, fdtable.c, poll.c */
	int active;		/* the constructor ran and mode is not off: init.c */
	/*
	 * A seccomp filter was installed by the program (sandbox.c): the
	 * shim makes no system call of its own from then on.
	 */
	int quiet;
	int watched;		/* an epoll instance or a polled socket: poll.c */
	int watch_unknown;	/* a descriptor of unknown kind was polled: poll.c */
	int sigpipe;		/* enum sg_pipe_hold: signals.c */
	int socket_streams;	/* stdio streams on sockets (sigpipe=socket): signals.c */
	int pid;		/* getpid(), renewed in a fork child: init.c */
};

extern struct sg_proc sg_proc;

/* What each thread keeps. */
struct sg_thread {
	/*
	 * Incremented by the trampoline each time a handler of a signal in
	 * eintr_pass runs on this thread: a wrapper reads it before the call,
	 * and a different value after EINTR means the program's own signal
	 * interrupted it (signals.c).
	 */
	uint64_t pass_seq;
	/* This thread is a vfork child, sharing its parent's memory (vfork.c). */
	int vfork_child;
	/* sigpipe=socket: the descriptor being written, -1 none (signals.c). */
	int write_fd;
};

extern SG_TLS struct sg_thread sg_thread;

/*
 * A plain load, so that the success path tests the word in memory in one
 * instruction (testb $mask, sg_proc(%rip)); the word is aligned and its
 * writers change it with atomic read-modify-writes, so no reader sees a
 * torn value.  ThreadSanitizer sees the relaxed atomic load.
 */
static inline uint32_t sg_fast(void)
{
#if defined(__SANITIZE_THREAD__)
	return __atomic_load_n(&sg_proc.fast, __ATOMIC_RELAXED);
#else
	return sg_proc.fast;
#endif
}

static inline void sg_fast_set(uint32_t bit, int on)
{
	if (on)
		__atomic_fetch_or(&sg_proc.fast, bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&sg_proc.fast, ~bit, __ATOMIC_RELAXED);
}

/*
 * Whether the shim may act at all on this thread: the constructor ran,
 * mode is not off, and this is not a vfork child (which must leave its
 * parent's state alone).  Every slow path starts here.
 */
static inline int sg_acting(void)
{
	return __atomic_load_n(&sg_proc.active, __ATOMIC_ACQUIRE) &&
	       !sg_thread.vfork_child;
}

/*
 * Brings the bits of sg_proc.fast that follow from the settings in line
 * with s (the constructor, and each adoption of live settings).
 */
void sg_state_follow(const struct sg_settings *s);

/* Whether the shim changes what the program sees (mode=harden). */
static inline int sg_hardening(void)
{
	return sg_acting() && sg_cfg.mode == SG_MODE_HARDEN;
}

/*
 * Whether the shim may make a system call of its own (write a log line,
 * open its log socket, ask the kernel about a descriptor) on this thread.
 */
static inline int sg_own_syscalls_allowed(void)
{
	return !__atomic_load_n(&sg_proc.quiet, __ATOMIC_RELAXED) &&
	       !sg_thread.vfork_child;
}

#pragma GCC visibility pop

#endif
