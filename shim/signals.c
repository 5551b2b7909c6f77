/*
 * signal/sigaction and friends, and SIGPIPE (SPEC.md keys sigpipe, eintr,
 * eintr_pass).
 *
 * To tell an EINTR the program must see (its SIGTERM, its alarm()) from one
 * it mishandles (SIGCHLD installed without SA_RESTART), the shim installs a
 * trampoline in place of the program's handler for the signals in
 * eintr_pass.  The trampoline counts the signal for the thread it ran on and
 * calls the program's handler.  The program reads back exactly what it set:
 * the shim keeps the program's view of each signal it manages.
 */
#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include <sys/socket.h>

#include "io.h"
#include "real.h"
#include "shim.h"

#define SG_NSIG 65
/* The kernel's flag for the restorer glibc installs (not in the headers). */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

SG_TLS uint64_t sg_tls_pass_seq;
int sg_sigpipe_socket;

/* The program's view of the signals the shim manages. */
static struct sigaction views[SG_NSIG];
static int view_valid[SG_NSIG];
/* What the trampoline calls: read in signal context, so kept apart. */
static void *user_handler[SG_NSIG];
static int user_flags[SG_NSIG];

static int is_handler(void (*h)(int))
{
	return h != SIG_DFL && h != SIG_IGN && h != SIG_ERR;
}

/* eintr_pass is a 64-bit mask: signals 1..63 can be in it. */
static int pass_wrapped(int sig)
{
	return sig > 0 && sig < 64 && sg_hardening() &&
	       sg_cfg.eintr == SG_EINTR_RETRY && (sg_cfg.eintr_pass & (1ull << sig));
}

static int sigpipe_ignoring(void)
{
	return sg_hardening() && sg_cfg.sigpipe == SG_SIGPIPE_IGNORE;
}

/* sigpipe=socket: the shim follows the program's SIGPIPE disposition. */
static int sigpipe_socket_mode(void)
{
	return sg_hardening() && sg_cfg.sigpipe == SG_SIGPIPE_SOCKET;
}

static int managed(int sig)
{
	if (sig <= 0 || sig >= SG_NSIG)
		return 0;
	return pass_wrapped(sig) ||
	       (sig == SIGPIPE && (sigpipe_ignoring() || sigpipe_socket_mode()));
}

/* Signals siginterrupt(sig, 1) asked signal() to install without SA_RESTART. */
static uint64_t interrupting;

static int view_is_default(int sig)
{
	return view_valid[sig] && views[sig].sa_handler == SIG_DFL &&
	       !(views[sig].sa_flags & SA_SIGINFO);
}

/*
 * sigpipe=socket protects writes to sockets only while SIGPIPE would kill:
 * a handler of the program's own (or its SIG_IGN) is honoured.
 */
static void update_socket_protection(void)
{
	int on = sigpipe_socket_mode() && view_is_default(SIGPIPE);
	__atomic_store_n(&sg_sigpipe_socket, on, __ATOMIC_RELAXED);
	__atomic_store_n(&sg_nosig_flag, on ? MSG_NOSIGNAL : 0, __ATOMIC_RELAXED);
}

/* Re-raises a signal whose handler was reset meanwhile: default action. */
static void run_default(int sig)
{
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	REAL(sigaction)(sig, &dfl, NULL);
	raise(sig);
}

static void trampoline(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	void *h = __atomic_load_n(&user_handler[sig], __ATOMIC_ACQUIRE);
	int flags = __atomic_load_n(&user_flags[sig], __ATOMIC_RELAXED);

	sg_tls_pass_seq++;
	if (flags & SA_RESETHAND) {
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
		v.sa_restorer = k.sa_restorer;
	}
	views[sig] = v;
	view_valid[sig] = 1;
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
		   !(act->sa_flags & SA_SIGINFO) && sigpipe_ignoring()) {
		k->sa_handler = SIG_IGN;
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
		update_socket_protection();
	return 0;
}

SG_EXPORT int sigaction(int sig, const struct sigaction *act,
			struct sigaction *oact)
{
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
		sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* BSD semantics: restartable unless siginterrupt(sig, 1) said otherwise. */
static sighandler_t bsd_install(int sig, sighandler_t h)
{
	int intr = sig > 0 && sig < 64 &&
		   (__atomic_load_n(&interrupting, __ATOMIC_RELAXED) & (1ull << sig));
	return install(sig, h, intr ? 0 : SA_RESTART, 1);
}

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
	if (sig < 64) {
		if (flag)
			__atomic_fetch_or(&interrupting, 1ull << sig, __ATOMIC_RELAXED);
		else
			__atomic_fetch_and(&interrupting, ~(1ull << sig), __ATOMIC_RELAXED);
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
	sigemptyset(&one);
	sigaddset(&one, sig);
	if (h == SIG_HOLD) {
		if (sigaction(sig, NULL, &cur) < 0 ||
		    sigprocmask(SIG_BLOCK, &one, &old) < 0)
			return SIG_ERR;
		return sigismember(&old, sig) ? SIG_HOLD : cur.sa_handler;
	}
	sighandler_t prev = install(sig, h, 0, 0);
	if (prev == SIG_ERR || sigprocmask(SIG_UNBLOCK, &one, &old) < 0)
		return SIG_ERR;
	return sigismember(&old, sig) ? SIG_HOLD : prev;
}

/* Takes over a handler installed before the constructor ran. */
static void adopt(int sig)
{
	struct sigaction cur, k;
	if (REAL(sigaction)(sig, NULL, &cur) < 0)
		return;
	views[sig] = cur;
	view_valid[sig] = 1;
	if (!is_handler(cur.sa_handler) && sig != SIGPIPE)
		return;
	kernel_action(sig, &cur, &k);
	__atomic_store_n(&user_flags[sig], cur.sa_flags, __ATOMIC_RELAXED);
	__atomic_store_n(&user_handler[sig], (void *)cur.sa_handler, __ATOMIC_RELEASE);
	REAL(sigaction)(sig, &k, NULL);
}

void sg_signals_init(void)
{
	for (int sig = 1; sig < SG_NSIG; sig++) {
		if (managed(sig) && sig != SIGKILL && sig != SIGSTOP)
			adopt(sig);
	}
	update_socket_protection();
}

int sg_sigpipe_suppressing(void)
{
	return sigpipe_ignoring() && view_is_default(SIGPIPE);
}

static void set_sigpipe(void (*h)(int))
{
	struct sigaction k = views[SIGPIPE];
	k.sa_handler = h;
	REAL(sigaction)(SIGPIPE, &k, NULL);
}

void sg_signals_before_exec(void)
{
	if (sg_sigpipe_suppressing())
		set_sigpipe(SIG_DFL);
}

void sg_signals_exec_failed(void)
{
	if (sg_sigpipe_suppressing())
		set_sigpipe(SIG_IGN);
}

void sg_sigpipe_block(struct sg_sigpipe_guard *g)
{
	sigset_t one, pending, old;

	g->active = 0;
	if (!sg_sigpipe_socket)
		return;
	sigemptyset(&one);
	sigaddset(&one, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &one, &old) != 0)
		return;
	g->oldmask = old;
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE);
	g->active = 1;
}

void sg_sigpipe_unblock(struct sg_sigpipe_guard *g, int raised_epipe)
{
	sigset_t one;
	struct timespec zero = { 0, 0 };

	if (!g->active)
		return;
	sigemptyset(&one);
	sigaddset(&one, SIGPIPE);
	if (raised_epipe && !g->was_pending)
		sigtimedwait(&one, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &g->oldmask, NULL);
}
