/*
 * accept and accept4, and the reserved descriptor that lets a process out of
 * descriptors shed a pending connection instead of spinning (SPEC.md keys
 * accept, accept_emfile).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "event.h"
#include "fdtable.h"
#include "io.h"
#include "real.h"
#include "shim.h"
#include "sockopts.h"

void sg_accept_reserve_take(void);
void sg_accept_reserve_lost(int fd);

/* The reserve: /dev/null held open at a high number, close-on-exec. */
static int reserve_fd = -1;
static dev_t reserve_dev;
static ino_t reserve_ino;

static rlim_t soft_limit(void)
{
	struct rlimit rl;
	if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) != 0)
		return 1024;
	return rl.rlim_cur;
}

void sg_accept_reserve_take(void)
{
	struct stat sb;
	int saved = errno;

	if (!sg_hardening() || sg_cfg.accept_emfile != SG_EMFILE_SHED ||
	    __atomic_load_n(&reserve_fd, __ATOMIC_ACQUIRE) >= 0)
		return;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null",
			      O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		int high = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, sg_fd_high_floor());
		if (high >= 0) {
			syscall(SYS_close, fd);
			fd = high;
		}
	}
	if (fd >= 0 && syscall(SYS_fstat, fd, &sb) == 0) {
		int expected = -1;
		reserve_dev = sb.st_dev;
		reserve_ino = sb.st_ino;
		sg_fd_store(fd, SG_FD_KNOWN | SG_FD_SHIM);
		if (!__atomic_compare_exchange_n(&reserve_fd, &expected, fd, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			sg_fd_forget(fd);
			syscall(SYS_close, fd);
		}
	} else if (fd >= 0) {
		syscall(SYS_close, fd);
	}
	errno = saved;
}

/*
 * The program changed RLIMIT_NOFILE: a reserve now above the soft limit
 * would be useless, so it moves below it.
 */
static void reserve_follow_limit(void)
{
	int fd = __atomic_load_n(&reserve_fd, __ATOMIC_ACQUIRE);
	if (fd < 0 || (rlim_t)fd < soft_limit())
		return;
	int moved = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, sg_fd_high_floor());
	if (moved < 0)
		return;
	if (__atomic_compare_exchange_n(&reserve_fd, &fd, moved, 0,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		sg_fd_store(moved, SG_FD_KNOWN | SG_FD_SHIM);
		sg_fd_forget(fd);
		syscall(SYS_close, fd);
	} else {
		syscall(SYS_close, moved);
	}
}

static int limit_done(int r, int resource)
{
	if (r == 0 && resource == RLIMIT_NOFILE && sg_active) {
		int saved = errno;
		reserve_follow_limit();
		errno = saved;
	}
	return r;
}

SG_EXPORT int setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
	return limit_done(REAL(setrlimit)(res, rl), (int)res);
}

SG_EXPORT int setrlimit64(__rlimit_resource_t res, const struct rlimit64 *rl)
{
	return limit_done(REAL(setrlimit64)(res, rl), (int)res);
}

SG_EXPORT int prlimit(pid_t pid, __rlimit_resource_t res, const struct rlimit *nl,
		      struct rlimit *ol)
{
	int r = REAL(prlimit)(pid, res, nl, ol);
	return nl && (pid == 0 || pid == getpid()) ? limit_done(r, (int)res) : r;
}

SG_EXPORT int prlimit64(pid_t pid, __rlimit_resource_t res,
			const struct rlimit64 *nl, struct rlimit64 *ol)
{
	int r = REAL(prlimit64)(pid, res, nl, ol);
	return nl && (pid == 0 || pid == getpid()) ? limit_done(r, (int)res) : r;
}

/* The program closed or replaced the reserve's number: it is not ours now. */
void sg_accept_reserve_lost(int fd)
{
	int expected = fd;
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
	if (syscall(SYS_fstat, fd, &sb) != 0 || sb.st_dev != reserve_dev ||
	    sb.st_ino != reserve_ino || !(sg_fd_get(fd) & SG_FD_SHIM))
		return -1;	/* reused by the program behind the shim's back */
	sg_fd_forget(fd);
	syscall(SYS_close, fd);
	return 0;
}

int sg_accept_shed(struct sg_call *c, int err)
{
	if (reserve_release() < 0) {
		sg_accept_reserve_take();
		return 0;
	}
	int s = (int)syscall(SYS_accept4, c->fd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0) {
		sg_accept_reserve_take();
		return 0;
	}
	syscall(SYS_close, s);
	/* Logged while the descriptor just freed is still free: the writer
	 * may need it for a private socket, and keeps nothing open. */
	struct sg_event ev = {
		.cls = SG_CLASS_FD_EXHAUSTED, .op = c->op, .err = err,
		.action = SG_ACTION_SHED, .tries = c->tries, .fd = c->fd,
		.flags = SG_EVENT_NO_KEEP_FD,
	};
	sg_event_emit(&ev);
	sg_accept_reserve_take();
	return 1;
}

struct ax {
	struct sockaddr *addr;
	socklen_t *alen;
	int flags;
	int is_accept4;
};

/*
 * accept() stays accept(): a seccomp filter may allow one system call and
 * not the other.
 */
static int accept_once(const struct ax *a, int fd)
{
	if (a->is_accept4)
		return REAL(accept4)(fd, a->addr, a->alen, a->flags);
	return REAL(accept)(fd, a->addr, a->alen);
}

static ssize_t ax_attempt(struct sg_call *c, void *ctx, int nonblock)
{
	struct ax *a = ctx;
	int r = accept_once(a, c->fd);
	return r < 0 ? -errno : r;
}

/* The new socket is like its listener, with the peer remembered. */
static void accepted(uint32_t lst, int fd, const struct sockaddr *sa,
		     socklen_t len, int flags)
{
	uint32_t kind = SG_FD_TCP | SG_FD_UDP | SG_FD_UNIX;
	/* What the program set on the listener, the kernel copied: it wins. */
	uint32_t user = SG_FD_USER_KA | SG_FD_USER_UTO | SG_FD_USER_SNDBUF |
			SG_FD_USER_RCVBUF;
	uint32_t bits = (lst & user) | ((lst & SG_FD_KNOWN) ?
		(lst & kind) | SG_FD_KNOWN | SG_FD_SOCKET : 0);
	if ((bits & SG_FD_KNOWN) && (flags & SOCK_NONBLOCK))
		bits |= SG_FD_NONBLOCK;
	sg_fd_store(fd, bits);
	if (len > 0 && len <= sizeof(struct sockaddr_storage))
		sg_fd_remember_peer(fd, sa, len);
	if (SG_UNLIKELY(sg_active)) {
		struct sg_sock_settings buf;
		const struct sg_sock_settings *ss = sg_sock_settings_for(sa, len, &buf);
		if (sg_sockopts_wanted(ss))
			sg_sockopts_apply(fd, ss, SG_OPT_ESTABLISHED);
	}
}

static int accept_common(const char *op, int fd, struct sockaddr *addr,
			 socklen_t *alen, int flags, int is_accept4)
{
	struct sg_pre p;
	struct sockaddr_storage mine;
	socklen_t mlen = sizeof(mine);
	struct ax a = { addr ? addr : (struct sockaddr *)&mine,
			addr ? alen : &mlen, flags, is_accept4 };
	/* The kernel reports the full length even when it truncated. */
	socklen_t room = addr && alen ? *alen : mlen;

	sg_pre_read(&p, fd, SG_FD_RCVTIMEO);
	int r = accept_once(&a, fd);
	if (SG_UNLIKELY(r < 0)) {
		struct sg_call c = { .op = op, .fd = fd, .dir = SG_DIR_IN,
				     .is_accept = 1 };
		r = (int)sg_io_slow(&c, &p, -1, ax_attempt, &a);
		if (r < 0)
			return r;
	}
	socklen_t got = a.alen ? *a.alen : 0;
	accepted(sg_fd_get(fd), r, a.addr, got < room ? got : room, flags);
	/*
	 * A listener inherited across exec never saw listen(), and the program
	 * may have closed the reserve: take one while descriptors are free.
	 */
	if (SG_UNLIKELY(__atomic_load_n(&reserve_fd, __ATOMIC_RELAXED) < 0) &&
	    sg_active)
		sg_accept_reserve_take();
	return r;
}

SG_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
	return accept_common("accept", fd, addr, alen, 0, 0);
}

SG_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
	return accept_common("accept4", fd, addr, alen, flags, 1);
}
