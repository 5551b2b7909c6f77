/*
 * signal/sigaction and friends, and SIGPIPE (man page keys sigpipe, eintr,
 * eintr_pass).
 *
 * To tell an EINTR the program must see (its SIGTERM, its alarm()) from one
 * it mishandles (SIGCHLD installed without SA_RESTART), the shim installs a
 * trampoline in place of the program's handler for the signals in
 * eintr_pass.  The trampoline counts the signal for the thread it ran on and
 * calls the program's handler.  The program reads back exactly what it set:
 * the shim keeps the program's view of each signal it manages.
 *
 * SIGPIPE is held by a handler of the shim's, not by SIG_IGN: it drops the
 * signals it is meant to (all of them under sigpipe=ignore, those raised by
 * writes to sockets under sigpipe=socket) and gives the others their default
 * action.  A caught signal goes back to SIG_DFL in the kernel at execve(2),
 * so every program the process runs starts with the disposition the
 * program itself set, whatever starts it: exec, posix_spawn, system(3),
 * popen(3), even libc's internal spawns, which the shim cannot see.
 *
 * A vfork child shares these tables with its parent: in it, sigaction goes
 * straight to the kernel and the tables are only read.
 */
#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "counters.h"
#include "fdtable.h"
#include "real.h"
#include "shim.h"
#include "state.h"
#include "sigset.h"
#include "../policy/rawsys.h"

#define SG_NSIG 65
/* The kernel's flag for the restorer glibc installs (not in the headers). */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

/* The program's view of the signals the shim manages. */
static struct sigaction views[SG_NSIG];
static int view_valid[SG_NSIG];
/* What the trampoline calls: read in signal context, so kept apart. */
static void *user_handler[SG_NSIG];
static int user_flags[SG_NSIG];
/* Signals siginterrupt(sig, 1) asked signal() to install without SA_RESTART. */
static uint64_t interrupting;

static int is_handler(void (*h)(int))
{
	return h != SIG_DFL && h != SIG_IGN && h != SIG_ERR;
}

static int hardening(void)
{
	return sg_acting() && sg_cfg.mode == SG_MODE_HARDEN;
}

static int pass_wrapped(int sig)
{
	return sig > 0 && sig < SG_NSIG && hardening() &&
	       sg_cfg.eintr == SG_EINTR_RETRY && sg_signal_in(sg_cfg.eintr_pass, sig);
}

/* How the policy wants SIGPIPE held when the program's view is SIG_DFL. */
static int sigpipe_wanted(void)
{
	if (!hardening())
		return SG_PIPE_NONE;
	switch (sg_cfg.sigpipe) {
	case SG_SIGPIPE_IGNORE:
		return SG_PIPE_IGNORE;
	case SG_SIGPIPE_SOCKET:
		return SG_PIPE_SOCKET;
	default:
		return SG_PIPE_NONE;
	}
}

static int managed(int sig)
{
	if (sig <= 0 || sig >= SG_NSIG)
		return 0;
	return pass_wrapped(sig) || (sig == SIGPIPE && sigpipe_wanted());
}

static int view_is_default(int sig)
{
	return view_valid[sig] && views[sig].sa_handler == SIG_DFL &&
	       !(views[sig].sa_flags & SA_SIGINFO);
}

/* The default action of sig, for a signal the shim was not meant to drop. */
static void run_default(int sig)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	REAL(sigaction)(sig, &dfl, NULL);
	/* Blocked while this handler runs: delivered, and fatal, on return. */
	sg_sys3(SYS_tgkill, sg_sys0(SYS_getpid), sg_sys0(SYS_gettid), sig);
}

static void trampoline(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	void *h = __atomic_load_n(&user_handler[sig], __ATOMIC_ACQUIRE);
	int flags = __atomic_load_n(&user_flags[sig], __ATOMIC_RELAXED);

	sg_thread.pass_seq++;
	if ((flags & SA_RESETHAND) && !sg_thread.vfork_child) {
		/* The kernel reset the action to SIG_DFL: so does the view. */
		views[sig].sa_handler = SIG_DFL;
		__atomic_store_n(&user_handler[sig], (void *)SIG_DFL, __ATOMIC_RELEASE);
	}
	errno = saved;
	if (h == (void *)SIG_IGN)
		return;
	if (h == (void *)SIG_DFL) {
		run_default(sig);
		return;
	}
	if (flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))h)(sig, si, uc);
	else
		((void (*)(int))h)(sig);
}

/* sigpipe=socket: whether the write that raised SIGPIPE was to a socket. */
static int raised_by_socket_write(const siginfo_t *si)
{
	if (si->si_code != SI_USER || si->si_pid != sg_proc.pid)
		return 0;	/* sent by kill(2) from elsewhere: not a write */
	int fd = sg_thread.write_fd;
	if (fd < 0)	/* libc's own write, as stdio's: a socket stream? */
		return __atomic_load_n(&sg_proc.socket_streams, __ATOMIC_RELAXED) > 0;
	return (sg_fd_classify(fd) & SG_FD_SOCKET) != 0;
}

static void sigpipe_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	int hold = __atomic_load_n(&sg_proc.sigpipe, __ATOMIC_RELAXED);

	(void)uc;
	if (hold == SG_PIPE_NONE ||
	    (hold == SG_PIPE_SOCKET && !raised_by_socket_write(si)))
		run_default(sig);
	errno = saved;
}

/*
 * The program's view of sig after it set act: its handler and flags, with
 * what the kernel adds or strips (SA_RESTORER and the restorer glibc puts
 * in, SIGKILL/SIGSTOP taken out of the mask), so that reading it back gives
 * exactly what libc would report without the shim.
 */
static void remember_view(int sig, const struct sigaction *act)
{
	struct sigaction k;
	struct sigaction v = *act;

	if (REAL(sigaction)(sig, NULL, &k) == 0) {
		v.sa_mask = k.sa_mask;
		v.sa_flags = (act->sa_flags & ~SA_RESTORER) | (k.sa_flags & SA_RESTORER);
#ifndef SG_MUSL	/* musl's sigaction(2) does not report the restorer */
		v.sa_restorer = k.sa_restorer;
#endif
	}
	views[sig] = v;
	view_valid[sig] = 1;
}

/* SIGPIPE: held by the shim's handler while the program's view is SIG_DFL. */
static void update_sigpipe_hold(void)
{
	int hold = view_is_default(SIGPIPE) ? sigpipe_wanted() : SG_PIPE_NONE;

	__atomic_store_n(&sg_proc.sigpipe, hold, __ATOMIC_RELAXED);
	sg_fast_set(SG_FAST_NOSIGNAL | SG_FAST_WRITEFD, hold == SG_PIPE_SOCKET);
}

/* What the kernel gets for the program's act on a managed signal. */
static void kernel_action(int sig, const struct sigaction *act,
			  struct sigaction *k)
{
	*k = *act;
	if (is_handler(act->sa_handler) && pass_wrapped(sig)) {
		k->sa_sigaction = trampoline;
		k->sa_flags |= SA_SIGINFO;
	} else if (sig == SIGPIPE && act->sa_handler == SIG_DFL &&
		   !(act->sa_flags & SA_SIGINFO) && sigpipe_wanted()) {
		k->sa_sigaction = sigpipe_handler;
		k->sa_flags = SA_SIGINFO | SA_RESTART;
		sg_sigset_set_bits(&k->sa_mask, 0);
	}
}

static int managed_sigaction(int sig, const struct sigaction *act,
			     struct sigaction *oact)
{
	struct sigaction k, old, prev = views[sig];
	int had_view = view_valid[sig];

	if (act) {
		kernel_action(sig, act, &k);
		__atomic_store_n(&user_flags[sig], act->sa_flags, __ATOMIC_RELAXED);
		__atomic_store_n(&user_handler[sig], (void *)act->sa_handler,
				 __ATOMIC_RELEASE);
	}
	if (REAL(sigaction)(sig, act ? &k : NULL, &old) < 0)
		return -errno;
	if (act)
		remember_view(sig, act);
	if (oact)
		*oact = had_view ? prev : old;
	if (sig == SIGPIPE)
		update_sigpipe_hold();
	return 0;
}

/*
 * In a vfork child: the kernel gets exactly what the child asks (its
 * handlers are its own until it execs), the shared tables are only read.
 */
static int child_sigaction(int sig, const struct sigaction *act,
			   struct sigaction *oact)
{
	struct sigaction old;

	if (REAL(sigaction)(sig, act, &old) < 0)
		return -1;
	if (oact)
		*oact = sig > 0 && sig < SG_NSIG && view_valid[sig] ? views[sig] : old;
	return 0;
}

SG_EXPORT int sigaction(int sig, const struct sigaction *act,
			struct sigaction *oact)
{
	if (SG_UNLIKELY(sg_thread.vfork_child))
		return child_sigaction(sig, act, oact);
	if (!managed(sig))
		return REAL(sigaction)(sig, act, oact);
	int saved = errno;
	int r = managed_sigaction(sig, act, oact);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	errno = saved;
	return 0;
}

/*
 * The signal(2) family, built on sigaction as glibc builds it.  block_self:
 * the signal itself is in sa_mask (BSD signal()), not for sigset().
 */
static sighandler_t install(int sig, sighandler_t h, int flags, int block_self)
{
	struct sigaction act, old;

	if (h == SIG_ERR || sig <= 0 || sig >= SG_NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = h;
	act.sa_flags = flags;
	if (block_self)
		sg_sigset_one(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

#ifndef SG_MUSL
/* BSD semantics: restartable unless siginterrupt(sig, 1) said otherwise. */
static sighandler_t bsd_install(int sig, sighandler_t h)
{
	int intr = sig > 0 && sig < SG_NSIG &&
		   sg_signal_in(__atomic_load_n(&interrupting, __ATOMIC_RELAXED), sig);
	return install(sig, h, intr ? 0 : SA_RESTART, 1);
}
#else
/*
 * musl's signal(): always SA_RESTART (siginterrupt is not remembered), an
 * empty sa_mask, and any handler, SIG_ERR included, handed to sigaction.
 */
static sighandler_t bsd_install(int sig, sighandler_t h)
{
	struct sigaction act, old;

	memset(&act, 0, sizeof(act));
	act.sa_handler = h;
	act.sa_flags = SA_RESTART;
	return sigaction(sig, &act, &old) < 0 ? SIG_ERR : old.sa_handler;
}
#endif

SG_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	return bsd_install(sig, h);
}

SG_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
	return bsd_install(sig, h);
}

SG_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
	return install(sig, h, (int)(SA_RESETHAND | SA_NODEFER), 0);
}

SG_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t h)
{
	return install(sig, h, (int)(SA_RESETHAND | SA_NODEFER), 0);
}

/* siginterrupt(3): glibc's goes around the interposed sigaction. */
SG_EXPORT int siginterrupt(int sig, int flag)
{
	struct sigaction act;

	if (sig <= 0 || sig >= SG_NSIG) {
		errno = EINVAL;
		return -1;
	}
	if (!sg_thread.vfork_child) {
		if (flag)
			__atomic_fetch_or(&interrupting, SG_SIGBIT(sig), __ATOMIC_RELAXED);
		else
			__atomic_fetch_and(&interrupting, ~SG_SIGBIT(sig), __ATOMIC_RELAXED);
	}
	if (sigaction(sig, NULL, &act) < 0)
		return -1;
	if (flag)
		act.sa_flags &= ~SA_RESTART;
	else
		act.sa_flags |= SA_RESTART;
	return sigaction(sig, &act, NULL);
}

/* sigset(3): System V semantics, with SIG_HOLD. */
SG_EXPORT sighandler_t sigset(int sig, sighandler_t h)
{
	sigset_t one, old;
	struct sigaction cur;

	if (sig <= 0 || sig >= SG_NSIG || h == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sg_sigset_one(&one, sig);
	if (h == SIG_HOLD) {
		if (sigaction(sig, NULL, &cur) < 0)
			return SIG_ERR;
		int r = sg_sigmask(SIG_BLOCK, &one, &old);
		if (r < 0) {
			errno = -r;
			return SIG_ERR;
		}
		return sg_sigset_has(&old, sig) ? SIG_HOLD : cur.sa_handler;
	}
	sighandler_t prev = install(sig, h, 0, 0);
	int r = prev == SIG_ERR ? -1 : sg_sigmask(SIG_UNBLOCK, &one, &old);
	if (r < 0) {
		if (prev != SIG_ERR)
			errno = -r;
		return SIG_ERR;
	}
	return sg_sigset_has(&old, sig) ? SIG_HOLD : prev;
}

#if defined(__x86_64__) && defined(__GLIBC__)
/*
 * The sigaction of adoption, which the constructor makes in every process,
 * without binding libc's (the binding is a dlsym: some 1,700 instructions at
 * every start).  It does what glibc's sigaction does on x86-64: refuses the
 * two signals glibc keeps for itself, passes the kernel's struct, and sets
 * SA_RESTORER with a restorer that makes the rt_sigreturn system call.  The
 * restorer's bytes are glibc's (mov $15,%rax; syscall): unwinders and
 * debuggers recognise a signal frame by them.
 */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

void sg_restore_rt(void) __attribute__((visibility("hidden")));
__asm__(".text\n"
	".type sg_restore_rt, @function\n"
	"sg_restore_rt:\n"
	"	.byte 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00\n"	/* mov $15,%rax */
	"	.byte 0x0f, 0x05\n"					/* syscall */
	".size sg_restore_rt, .-sg_restore_rt\n");

static int adopt_sigaction(int sig, const struct sigaction *act,
			   struct sigaction *old)
{
	struct ksigaction k, o;

	if (sig == 32 || sig == 33) {
		errno = EINVAL;
		return -1;
	}
	if (act) {
		k.handler = (void *)act->sa_handler;
		k.flags = (unsigned long)act->sa_flags | SA_RESTORER;
		k.restorer = (void *)sg_restore_rt;
		memcpy(&k.mask, &act->sa_mask, sizeof(k.mask));
	}
	long r = sg_sys4(SYS_rt_sigaction, sig, act ? &k : NULL, old ? &o : NULL,
			 sizeof(uint64_t));
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	if (old) {
		memset(old, 0, sizeof(*old));
		old->sa_handler = (void (*)(int))o.handler;
		old->sa_flags = (int)o.flags;
		old->sa_restorer = (void (*)(void))o.restorer;
		memcpy(&old->sa_mask, &o.mask, sizeof(o.mask));
	}
	return 0;
}
#else
static int adopt_sigaction(int sig, const struct sigaction *act,
			   struct sigaction *old)
{
	return REAL(sigaction)(sig, act, old);
}
#endif

/* Takes over a handler (or SIGPIPE's default) set before the constructor ran. */
static void adopt(int sig)
{
	struct sigaction cur, k;

	if (adopt_sigaction(sig, NULL, &cur) < 0)
		return;
	views[sig] = cur;
	view_valid[sig] = 1;
	if (!is_handler(cur.sa_handler) && sig != SIGPIPE)
		return;
	kernel_action(sig, &cur, &k);
	__atomic_store_n(&user_flags[sig], cur.sa_flags, __ATOMIC_RELAXED);
	__atomic_store_n(&user_handler[sig], (void *)cur.sa_handler, __ATOMIC_RELEASE);
	adopt_sigaction(sig, &k, NULL);
}

/* fd carries a stdio stream: counted if it is a socket (and not yet counted). */
static void stream_opened(int fd)
{
	uint32_t w = sg_fd_classify(fd);

	if ((w & SG_FD_SOCKET) && !(w & SG_FD_STREAM)) {
		sg_fd_set_bits(fd, SG_FD_STREAM);
		__atomic_fetch_add(&sg_proc.socket_streams, 1, __ATOMIC_RELAXED);
	}
}

/*
 * stdout or stderr on a socket is a stdio stream on a socket (inetd style),
 * until the number is closed or replaced (close, fclose, dup2 onto it).
 */
static void count_std_socket_streams(void)
{
	static int counted;

	if (counted || sigpipe_wanted() != SG_PIPE_SOCKET)
		return;
	counted = 1;
	for (int fd = 1; fd <= 2; fd++)
		stream_opened(fd);
}

/* The signals whose kernel action the shim holds, as of the last look. */
static uint64_t managed_mask;

static uint64_t managed_now(void)
{
	uint64_t mask = 0;

	if (!hardening())
		return 0;
	if (sg_cfg.eintr == SG_EINTR_RETRY)
		mask = sg_cfg.eintr_pass;
	if (sigpipe_wanted())
		mask |= SG_SIGBIT(SIGPIPE);
	return mask & ~(SG_SIGBIT(SIGKILL) | SG_SIGBIT(SIGSTOP));
}

void sg_signals_init(void)
{
	managed_mask = managed_now();
	for (uint64_t m = managed_mask; m; m &= m - 1)
		adopt(__builtin_ctzll(m) + 1);
	update_sigpipe_hold();
	count_std_socket_streams();
}

/* The program's own action goes back to the kernel; the view is dropped. */
static void release(int sig)
{
	if (view_valid[sig]) {
		struct sigaction v = views[sig];
		REAL(sigaction)(sig, &v, NULL);
	}
	view_valid[sig] = 0;
}

/*
 * The settings changed (live settings, man page "set"): a signal that is
 * now managed has the program's handler wrapped as at start, one that no
 * longer is gets the program's own action back, and SIGPIPE's hold
 * follows.  A program calling sigaction(2) on the same signal at the very
 * same moment from another thread may find its call undone; nothing else
 * is lost.
 */
void sg_signals_follow(int may_syscall)
{
	if (may_syscall && !sg_thread.vfork_child) {
		uint64_t now = managed_now();
		for (int sig = 1; sig < SG_NSIG; sig++) {
			if (!((now ^ managed_mask) & SG_SIGBIT(sig)))
				continue;
			if (sg_signal_in(now, sig))
				adopt(sig);
			else
				release(sig);
		}
		managed_mask = now;
		count_std_socket_streams();
	}
	update_sigpipe_hold();
}

int sg_sigpipe_held(void)
{
	return __atomic_load_n(&sg_proc.sigpipe, __ATOMIC_RELAXED) != SG_PIPE_NONE;
}

/*
 * fdopen(3) on a socket under sigpipe=socket: stdio writes through libc's
 * internal write, which the shim cannot see, so while such a stream is
 * open a SIGPIPE raised by a write the shim did not see counts as one from
 * a socket (man page, sigpipe).
 */
SG_EXPORT FILE *fdopen(int fd, const char *mode)
{
	FILE *f = REAL(fdopen)(fd, mode);

	if (f && sg_acting() && sigpipe_wanted() == SG_PIPE_SOCKET) {
		int saved = errno;
		stream_opened(fd);
		errno = saved;
	}
	return f;
}

void sg_signals_stream_closed(int fd)
{
	if (!(sg_fd_get(fd) & SG_FD_STREAM) || sg_thread.vfork_child)
		return;
	sg_fd_clear_bits(fd, SG_FD_STREAM);
	__atomic_fetch_sub(&sg_proc.socket_streams, 1, __ATOMIC_RELAXED);
}
