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

#include "real.h"
#include "shim.h"

#define SG_NSIG 65

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

static int managed(int sig)
{
	if (sig <= 0 || sig >= SG_NSIG)
		return 0;
	return pass_wrapped(sig) || (sig == SIGPIPE && sigpipe_ignoring());
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
	if (act) {
		views[sig] = *act;
		view_valid[sig] = 1;
	}
	if (oact)
		*oact = had_view ? prev : old;
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

/* signal(2) with glibc's BSD semantics: restartable, the signal blocked. */
static sighandler_t install(int sig, sighandler_t h, int flags)
{
	struct sigaction act, old;
	memset(&act, 0, sizeof(act));
	act.sa_handler = h;
	act.sa_flags = flags;
	if (!(flags & SA_NODEFER) && sig > 0 && sig < SG_NSIG)
		sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

SG_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	return install(sig, h, SA_RESTART);
}

SG_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
	return install(sig, h, SA_RESTART);
}

SG_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
	return install(sig, h, (int)(SA_RESETHAND | SA_NODEFER));
}

SG_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t h)
{
	return install(sig, h, (int)(SA_RESETHAND | SA_NODEFER));
}

/* sigset(3): System V semantics, with SIG_HOLD. */
SG_EXPORT sighandler_t sigset(int sig, sighandler_t h)
{
	sigset_t one, old;
	struct sigaction cur;

	if (sig <= 0 || sig >= SG_NSIG) {
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
	sighandler_t prev = install(sig, h, 0);
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
	sg_sigpipe_socket = sg_hardening() && sg_cfg.sigpipe == SG_SIGPIPE_SOCKET;
	for (int sig = 1; sig < SG_NSIG; sig++) {
		if (managed(sig) && sig != SIGKILL && sig != SIGSTOP)
			adopt(sig);
	}
}

int sg_sigpipe_suppressing(void)
{
	return sigpipe_ignoring() && view_valid[SIGPIPE] &&
	       views[SIGPIPE].sa_handler == SIG_DFL &&
	       !(views[SIGPIPE].sa_flags & SA_SIGINFO);
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

int sg_signals_spawn_resets_sigpipe(void)
{
	return sg_sigpipe_suppressing();
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
