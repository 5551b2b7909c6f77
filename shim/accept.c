/*
 * accept and accept4, and the reserved descriptor that lets a process out of
 * descriptors shed a pending connection instead of spinning (man page keys
 * accept, accept_emfile).
 *
 * The reserve is /dev/null held open at a high number, close-on-exec,
 * taken at the first listen() (or the first accept() on a listener the
 * process inherited), taken again when the program closes or dup2()s over
 * it, and moved when the program lowers its descriptor limit.
 */
#include "accept.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "fdtable.h"
#include "io.h"
#include "live.h"
#include "real.h"
#include "shim.h"
#include "sockopts.h"
#include "state.h"
#include "../policy/rawsys.h"

static int reserve_fd = -1;
static dev_t reserve_dev;
static ino_t reserve_ino;

static int fstat_fd(int fd, struct stat *sb)
{
#ifdef SYS_fstat
	return (int)sg_sys2(SYS_fstat, fd, sb);
#else
	return (int)sg_sys4(SYS_newfstatat, fd, "", sb, AT_EMPTY_PATH);
#endif
}

static int reserve_wanted(void)
{
	return sg_acting() && sg_own_syscalls_allowed() &&
	       sg_cfg.mode == SG_MODE_HARDEN &&
	       sg_cfg.accept_emfile == SG_EMFILE_SHED;
}

/* /dev/null at a high number, or -1. */
static int open_reserve(struct stat *sb)
{
	int fd = (int)sg_sys4(SYS_openat, AT_FDCWD, "/dev/null",
			      O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0)
		return -1;
	int high = (int)sg_sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, sg_fd_high_floor());
	if (high >= 0) {
		sg_sys1(SYS_close, fd);
		fd = high;
	}
	if (fstat_fd(fd, sb) != 0) {
		sg_sys1(SYS_close, fd);
		return -1;
	}
	return fd;
}

void sg_accept_reserve_take(void)
{
	struct stat sb;
	int expected = -1;

	if (!reserve_wanted() || __atomic_load_n(&reserve_fd, __ATOMIC_ACQUIRE) >= 0)
		return;
	int fd = open_reserve(&sb);
	if (fd < 0)
		return;
	reserve_dev = sb.st_dev;
	reserve_ino = sb.st_ino;
	sg_fd_store(fd, SG_FD_KNOWN | SG_FD_SHIM);
	if (!__atomic_compare_exchange_n(&reserve_fd, &expected, fd, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		sg_fd_forget(fd);
		sg_sys1(SYS_close, fd);
	}
}

/*
 * The program changed RLIMIT_NOFILE: a reserve now above the soft limit
 * would be useless, so it moves below it.
 */
static void reserve_follow_limit(void)
{
	int fd = __atomic_load_n(&reserve_fd, __ATOMIC_ACQUIRE);
	if (fd < 0 || (unsigned long)fd < sg_fd_soft_limit() ||
	    !sg_own_syscalls_allowed())
		return;
	int moved = (int)sg_sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, sg_fd_high_floor());
	if (moved < 0)
		return;
	if (__atomic_compare_exchange_n(&reserve_fd, &fd, moved, 0,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		sg_fd_store(moved, SG_FD_KNOWN | SG_FD_SHIM);
		sg_fd_forget(fd);
		sg_sys1(SYS_close, fd);
	} else {
		sg_sys1(SYS_close, moved);
	}
}

static int limit_done(int r, int resource)
{
	if (r == 0 && resource == RLIMIT_NOFILE && sg_acting()) {
		int saved = errno;
		reserve_follow_limit();
		errno = saved;
	}
	return r;
}

SG_EXPORT int setrlimit(sg_rlimit_resource res, const struct rlimit *rl)
{
	return limit_done(REAL(setrlimit)(res, rl), (int)res);
}

SG_EXPORT int setrlimit64(sg_rlimit_resource res, const struct rlimit64 *rl)
{
	return limit_done(REAL(setrlimit64)(res, rl), (int)res);
}

static int is_self(pid_t pid)
{
	return pid == 0 || pid == sg_proc.pid;
}

SG_EXPORT int prlimit(pid_t pid, sg_rlimit_resource res, const struct rlimit *nl,
		      struct rlimit *ol)
{
	int r = REAL(prlimit)(pid, res, nl, ol);
	return nl && is_self(pid) ? limit_done(r, (int)res) : r;
}

SG_EXPORT int prlimit64(pid_t pid, sg_rlimit_resource res,
			const struct rlimit64 *nl, struct rlimit64 *ol)
{
	int r = REAL(prlimit64)(pid, res, nl, ol);
	return nl && is_self(pid) ? limit_done(r, (int)res) : r;
}

void sg_accept_reserve_lost(int fd)
{
	int expected = fd;

	if (!sg_thread.vfork_child)
		__atomic_compare_exchange_n(&reserve_fd, &expected, -1, 0,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Takes the reserve for closing, if it is still the file the shim opened. */
static int reserve_release(void)
{
	struct stat sb;
	int fd = __atomic_exchange_n(&reserve_fd, -1, __ATOMIC_ACQ_REL);
	if (fd < 0)
		return -1;
	if (fstat_fd(fd, &sb) != 0 || sb.st_dev != reserve_dev ||
	    sb.st_ino != reserve_ino || !(sg_fd_get(fd) & SG_FD_SHIM))
		return -1;	/* reused by the program behind the shim's back */
	sg_fd_forget(fd);
	sg_sys1(SYS_close, fd);
	return 0;
}

int sg_accept_shed(const struct sg_call *c, const struct sg_event_note *n)
{
	if (reserve_release() < 0) {
		sg_accept_reserve_take();
		return 0;
	}
	int s = (int)sg_sys4(SYS_accept4, c->fd, 0, 0, SOCK_CLOEXEC);
	if (s < 0) {
		sg_accept_reserve_take();
		return 0;
	}
	sg_sys1(SYS_close, s);
	/* Logged while the descriptor just freed is still free: the writer
	 * may need it for a private socket, and keeps nothing open. */
	struct sg_event ev = {
		.cls = n->cls, .op = c->op, .err = n->err, .action = n->action,
		.tries = c->tries, .fd = c->fd, .flags = SG_EVENT_NO_KEEP_FD,
	};
	sg_event_emit(&ev);
	sg_accept_reserve_take();
	return 1;
}

/* The arguments of the call, kept for the slow path. */
struct ax {
	int lfd;		/* the listener */
	struct sockaddr *addr;
	socklen_t *alen;
	socklen_t room;		/* *alen as given */
	int flags;
	uint64_t seq;
	int64_t t0;		/* the clock at the call, for SO_RCVTIMEO */
};

/*
 * accept() stays accept(): a seccomp filter may allow one system call and
 * not the other.
 */
static long ax_attempt(struct sg_call *c, void *ctx, int how)
{
	struct ax *a = ctx;
	int r;

	if (a->alen)
		*a->alen = a->room;
	if (c->op == SG_OP_ACCEPT4)
		r = REAL(accept4)(c->fd, a->addr, a->alen, a->flags);
	else
		r = REAL(accept)(c->fd, a->addr, a->alen);
	return r < 0 ? -errno : r;
}

/* The policy's TCP options on an accepted socket (for its peer). */
static SG_COLD void accepted_options(int fd,
							const struct sockaddr *sa,
							socklen_t len)
{
	struct sg_sock_settings buf;
	const struct sg_sock_settings *ss = sg_sock_settings_for(sa, len, &buf);
	int saved = errno;

	if (sg_sockopts_wanted(ss))
		sg_sockopts_apply(fd, ss, SG_OPT_ESTABLISHED);
	errno = saved;
}

/* The first accept on a listener inherited across exec: take the reserve. */
static SG_COLD void inherited_listener(int lfd)
{
	int saved = errno;

	sg_fd_set_bits(lfd, SG_FD_LISTEN);
	if (__atomic_load_n(&reserve_fd, __ATOMIC_RELAXED) < 0)
		sg_accept_reserve_take();
	errno = saved;
}

/*
 * What an accepted socket takes from its listener's word: what the program
 * set on the listener, which the kernel copied (it wins over the policy),
 * and, when the shim knows the listener, its kind.
 */
#define known_kind_bits (SG_FD_TCP | SG_FD_UDP | SG_FD_UNIX)
#define SG_FD_FROM_LISTENER (known_kind_bits | SG_FD_USER_KA |		\
	SG_FD_USER_UTO | SG_FD_USER_SNDBUF | SG_FD_USER_RCVBUF)

/* Whether the new socket was asked for non-blocking (accept4 only). */
static inline int nonblock(int op, const struct ax *a)
{
	return op == SG_OP_ACCEPT4 && (a->flags & SOCK_NONBLOCK);
}

/*
 * The new socket is like its listener, with the peer remembered and the
 * policy's socket options applied.  The kernel reports the address's full
 * length even where it truncated it to the room given.  Any case but the
 * common one (a known listener, an IPv4 or IPv6 peer, no options to apply)
 * comes here.
 */
static SG_COLD int accepted_any(int op, int lfd, int fd, const struct ax *a)
{
	/* (With mode=off the table is kept too: nothing the program sees.) */
	if ((unsigned)fd >= sg_fdt_size || sg_thread.vfork_child)
		return fd;
	sg_live_check();	/* a socket is created: an adoption point */
	uint32_t lst = sg_fd_get(lfd);
	uint32_t bits = (lst & SG_FD_FROM_LISTENER & ~known_kind_bits) |
		((lst & SG_FD_KNOWN) ? (lst & known_kind_bits) | SG_FD_KNOWN | SG_FD_SOCKET : 0);
	socklen_t len = a->alen ? *a->alen : 0;

	if (len > a->room)
		len = a->room;
	if ((bits & SG_FD_KNOWN) && nonblock(op, a))
		bits |= SG_FD_NONBLOCK;
	bits |= sg_fd_put_peer(fd, a->addr, len);
	__atomic_store_n(&sg_fdt[fd], bits, __ATOMIC_RELAXED);
	if (SG_UNLIKELY(sg_fast() & SG_FAST_SOCKOPTS))
		accepted_options(fd, a->addr, len);
	/* A listener inherited across exec never saw listen(). */
	if (SG_UNLIKELY(!(lst & SG_FD_LISTEN)))
		inherited_listener(lfd);
	return fd;
}

/*
 * The common case, in a straight line: a listener the shim saw listen()ed,
 * an IP peer (a->addr is never NULL: accept_anon), no socket options to
 * apply.
 */
static inline __attribute__((always_inline)) int
accepted(int op, int lfd, int fd, const struct ax *a)
{
	unsigned n = sg_peers_size;	/* never more than sg_fdt_size */

	/* A socket is created: an adoption point (accepted_any adopts). */
	if (SG_UNLIKELY((unsigned)fd >= n || (unsigned)lfd >= n ||
			sg_thread.vfork_child || sg_live_pending()))
		return accepted_any(op, lfd, fd, a);
	uint32_t lst = __atomic_load_n(&sg_fdt[lfd], __ATOMIC_RELAXED);
	if (SG_UNLIKELY(!(lst & SG_FD_LISTEN) || (sg_fast() & SG_FAST_SOCKOPTS) ||
			!sg_peer_keep(&sg_peers[fd], a->addr, a->room)))
		return accepted_any(op, lfd, fd, a);
	/* The kind is the listener's when the shim knows it (see above). */
	uint32_t known = 0 - (lst & SG_FD_KNOWN);
	uint32_t bits = (lst & SG_FD_FROM_LISTENER & ~known_kind_bits) |
			(known & ((lst & known_kind_bits) | SG_FD_KNOWN | SG_FD_SOCKET |
				  (nonblock(op, a) ? SG_FD_NONBLOCK : 0))) |
			SG_FD_PEER;
	__atomic_store_n(&sg_fdt[fd], bits, __ATOMIC_RELAXED);
	return fd;
}

static SG_COLD int accept_slow(int op, int fd, struct ax *a, int r)
{
	struct sg_pre p = { a->seq, (sg_fast() & SG_FAST_TIMEO) ? a->t0 : 0 };
	struct sg_call c;

	sg_call_init(&c, op, fd, &p);
	r = (int)sg_slow(&c, r, ax_attempt, a);
	return r >= 0 ? accepted_any(op, fd, r, a) : r;
}

/* A process with a socket with its own timeout: the clock is read first. */
static SG_COLD int accept_timed(int op, int fd, struct sockaddr *addr,
				socklen_t *alen, int flags)
{
	struct ax a;

	a.lfd = fd, a.addr = addr, a.alen = alen, a.room = alen ? *alen : 0,
	a.flags = flags, a.seq = sg_seq(), a.t0 = sg_pre_clock(fd, SG_DIR_IN);
	int r = op == SG_OP_ACCEPT4 ? REAL(accept4)(fd, addr, alen, flags) :
				      REAL(accept)(fd, addr, alen);
	if (r >= 0)
		return accepted_any(op, fd, r, &a);
	return accept_slow(op, fd, &a, r);
}

static inline __attribute__((always_inline)) int
accept_body(int op, int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
	struct ax a;

	if (SG_UNLIKELY(sg_fast() & SG_FAST_TIMEO))
		return accept_timed(op, fd, addr, alen, flags);
	a.lfd = fd, a.addr = addr, a.alen = alen, a.room = alen ? *alen : 0,
	a.seq = sg_seq();
	if (op == SG_OP_ACCEPT4)
		a.flags = flags;	/* accept() has none: nothing reads it */
	sg_keep(&a);
	int r = op == SG_OP_ACCEPT4 ? REAL(accept4)(fd, addr, alen, flags) :
				      REAL(accept)(fd, addr, alen);
	/* After the call everything is read back from a: no register of
	 * the caller's is saved for it. */
	if (SG_LIKELY(r >= 0))
		return accepted(op, a.lfd, r, &a);
	return accept_slow(op, a.lfd, &a, r);
}

/*
 * The peer's address is wanted even when the program asks for none (for
 * [peer] sections, and to log the peer after a reset): the kernel then
 * writes it into the wrapper's own buffer.  Same system call, same result.
 */
static __attribute__((noinline)) int accept_anon(int op, int fd, int flags)
{
	struct sockaddr_storage mine;
	socklen_t mlen = sizeof(mine);

	return accept_body(op, fd, (struct sockaddr *)&mine, &mlen, flags);
}

static inline __attribute__((always_inline)) int
accept_common(int op, int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
	if (!addr)
		return accept_anon(op, fd, flags);
	return accept_body(op, fd, addr, alen, flags);
}

SG_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
	return accept_common(SG_OP_ACCEPT, fd, addr, alen, 0);
}

SG_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
	return accept_common(SG_OP_ACCEPT4, fd, addr, alen, flags);
}
