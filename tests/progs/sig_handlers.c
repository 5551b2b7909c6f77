/*
 * Signal handler semantics as a program sees them, printed so that a run
 * under the shim can be compared line by line with a run without it.
 * Handlers are printed by name (h1, h2, DFL, IGN), never by address, so the
 * output of two runs is identical when the semantics are.
 *
 *   sig_handlers CHECK
 *
 * CHECK is one of siginfo, resethand, readback, signal, sigset, sysv,
 * onstack, sigerr, siginterrupt, system.  Lines starting "FAIL" are broken expectations that hold
 * without the shim; the exit status is 1 when there is one.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* sigset(3) and siginterrupt(3) are legacy on purpose: programs use them. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/*
 * Where the two libcs differ, each is checked for its own behaviour (the
 * suite then compares runs with and without the shim line by line): glibc's
 * signal() remembers siginterrupt(sig, 1) and refuses SIG_ERR; musl's always
 * sets SA_RESTART and hands any handler to sigaction.
 */
#ifdef __GLIBC__
#define SIGNAL_KEEPS_SIGINTERRUPT 1
#define SIGNAL_REFUSES_SIG_ERR 1
#else
#define SIGNAL_KEEPS_SIGINTERRUPT 0
#define SIGNAL_REFUSES_SIG_ERR 0
#endif

static int failures;
static volatile sig_atomic_t h1_count, h2_count;
static volatile int got_signo, got_code, got_pid, got_value, got_uid;
static volatile int got_onstack, got_masked_other, got_masked_self;
static char altstack[65536];

#define CHECK(cond, ...)                                      \
	do {                                                  \
		if (!(cond)) {                                \
			failures++;                           \
			printf("FAIL %s:%d: ", __func__, __LINE__); \
			printf(__VA_ARGS__);                  \
			printf("\n");                         \
		}                                             \
	} while (0)

static void h1(int sig)
{
	(void)sig;
	h1_count++;
}

static void h2(int sig)
{
	(void)sig;
	h2_count++;
}

static void h_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	h1_count++;
	got_signo = si->si_signo;
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_uid = (int)si->si_uid;
	got_value = si->si_value.sival_int;
	(void)sig;
}

/* Records where the handler runs and what is blocked while it does. */
static void h_stack(int sig)
{
	char here;
	sigset_t cur;

	got_onstack = &here >= altstack && &here < altstack + sizeof(altstack);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	got_masked_other = sigismember(&cur, SIGUSR2);
	got_masked_self = sigismember(&cur, sig);
	h1_count++;
}

static const char *name_of(void (*h)(int))
{
	if (h == SIG_DFL)
		return "DFL";
	if (h == SIG_IGN)
		return "IGN";
	if (h == SIG_ERR)
		return "ERR";
	if (h == SIG_HOLD)
		return "HOLD";
	if (h == h1)
		return "h1";
	if (h == h2)
		return "h2";
	if ((void *)h == (void *)h_info)
		return "h_info";
	if (h == h_stack)
		return "h_stack";
	return "OTHER";
}

/* One line describing a disposition as the program reads it back. */
static void print_action(const char *what, const struct sigaction *a)
{
	printf("%s handler=%s flags=%#x mask=", what, name_of(a->sa_handler),
	       (unsigned)a->sa_flags);
	for (int s = 1; s < 65; s++) {
		if (sigismember(&a->sa_mask, s) == 1)
			printf("%d,", s);
	}
	printf("\n");
}

static void print_current(const char *what, int sig)
{
	struct sigaction cur;

	memset(&cur, 0, sizeof(cur));
	CHECK(sigaction(sig, NULL, &cur) == 0, "sigaction readback: %s",
	      strerror(errno));
	print_action(what, &cur);
}

static void set_action(int sig, void (*h)(int), int flags, int extra_mask)
{
	struct sigaction a;

	memset(&a, 0, sizeof(a));
	a.sa_handler = h;
	a.sa_flags = flags;
	sigemptyset(&a.sa_mask);
	if (extra_mask)
		sigaddset(&a.sa_mask, extra_mask);
	CHECK(sigaction(sig, &a, NULL) == 0, "sigaction(%d): %s", sig,
	      strerror(errno));
}

/* SA_SIGINFO: the program's handler gets the sender's siginfo. */
static void check_siginfo_one(int sig)
{
	struct sigaction a;
	union sigval v = { .sival_int = 4242 };

	memset(&a, 0, sizeof(a));
	a.sa_sigaction = h_info;
	a.sa_flags = SA_SIGINFO;
	sigemptyset(&a.sa_mask);
	CHECK(sigaction(sig, &a, NULL) == 0, "sigaction: %s", strerror(errno));
	h1_count = 0;
	CHECK(sigqueue(getpid(), sig, v) == 0, "sigqueue: %s", strerror(errno));
	CHECK(h1_count == 1, "sig %d: handler ran %d times", sig, (int)h1_count);
	CHECK(got_signo == sig, "si_signo %d, want %d", got_signo, sig);
	CHECK(got_code == SI_QUEUE, "si_code %d, want SI_QUEUE", got_code);
	CHECK(got_pid == getpid(), "si_pid %d, want %d", got_pid, getpid());
	CHECK(got_uid == (int)getuid(), "si_uid %d", got_uid);
	CHECK(got_value == 4242, "si_value %d, want 4242", got_value);

	/* From another process: kill(2) gives SI_USER and its pid. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, sig);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid_t child = fork();
	if (child == 0) {
		kill(getppid(), sig);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	h1_count = 0;
	sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHECK(h1_count == 1, "kill: handler ran %d times", (int)h1_count);
	CHECK(got_code == SI_USER, "kill: si_code %d, want SI_USER", got_code);
	CHECK(got_pid == child, "kill: si_pid %d, want %d", got_pid, (int)child);
	printf("siginfo %d ok\n", sig);
}

static void check_siginfo(void)
{
	check_siginfo_one(SIGUSR1);	/* in eintr_pass: wrapped by the shim */
	check_siginfo_one(SIGTERM);
	check_siginfo_one(SIGWINCH);	/* not in eintr_pass */
}

/*
 * SA_RESETHAND: the handler runs once, the disposition reads back SIG_DFL,
 * and the second delivery takes the default action (SIGUSR1: terminate).
 */
static void check_resethand(void)
{
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		set_action(SIGUSR1, h1, SA_RESETHAND, 0);
		raise(SIGUSR1);
		print_current("usr1-after-first", SIGUSR1);
		printf("usr1 handler ran %d\n", (int)h1_count);
		fflush(stdout);
		raise(SIGUSR1);
		printf("usr1 second delivery survived\n");
		fflush(stdout);
		_exit(0);
	}
	int st = 0;
	waitpid(child, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1,
	      "second SIGUSR1 after SA_RESETHAND: status %#x, want killed by SIGUSR1",
	      st);
	printf("usr1 child %s %d\n", WIFSIGNALED(st) ? "signaled" : "exited",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));

	/* SIGWINCH defaults to ignore: the second one is simply dropped. */
	h1_count = 0;
	set_action(SIGWINCH, h1, SA_RESETHAND | SA_RESTART, 0);
	raise(SIGWINCH);
	raise(SIGWINCH);
	CHECK(h1_count == 1, "SIGWINCH handler ran %d times, want 1", (int)h1_count);
	print_current("winch-after", SIGWINCH);

	/* The same for a pass signal whose default is not fatal: SIGUSR2 is. */
	h1_count = 0;
	set_action(SIGHUP, h1, SA_RESETHAND | SA_SIGINFO, 0);
	raise(SIGHUP);
	CHECK(h1_count == 1, "SIGHUP handler ran %d times, want 1", (int)h1_count);
	print_current("hup-after", SIGHUP);
}

/* Old-action readback, for signals the shim wraps and for others. */
static void check_readback_one(int sig)
{
	struct sigaction a, old;
	char what[32];

	memset(&a, 0, sizeof(a));
	a.sa_handler = h1;
	a.sa_flags = SA_RESTART | SA_ONSTACK;
	sigemptyset(&a.sa_mask);
	sigaddset(&a.sa_mask, SIGINT);
	sigaddset(&a.sa_mask, SIGRTMIN + 3);
	CHECK(sigaction(sig, &a, NULL) == 0, "sigaction: %s", strerror(errno));
	snprintf(what, sizeof(what), "sig%d-get", sig);
	print_current(what, sig);

	memset(&a, 0, sizeof(a));
	a.sa_sigaction = h_info;
	a.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigfillset(&a.sa_mask);
	memset(&old, 0, sizeof(old));
	CHECK(sigaction(sig, &a, &old) == 0, "sigaction: %s", strerror(errno));
	snprintf(what, sizeof(what), "sig%d-old", sig);
	print_action(what, &old);
	CHECK(old.sa_handler == h1, "old handler %s, want h1",
	      name_of(old.sa_handler));
	CHECK(old.sa_flags & SA_RESTART, "old flags %#x lost SA_RESTART",
	      (unsigned)old.sa_flags);
	CHECK(!(old.sa_flags & SA_SIGINFO), "old flags %#x gained SA_SIGINFO",
	      (unsigned)old.sa_flags);
	CHECK(sigismember(&old.sa_mask, SIGINT) == 1, "old mask lost SIGINT");
	CHECK(sigismember(&old.sa_mask, SIGTERM) == 0, "old mask gained SIGTERM");
	snprintf(what, sizeof(what), "sig%d-full", sig);
	print_current(what, sig);

	set_action(sig, SIG_DFL, 0, 0);
	snprintf(what, sizeof(what), "sig%d-dfl", sig);
	print_current(what, sig);
}

static void check_readback(void)
{
	check_readback_one(SIGUSR1);
	check_readback_one(SIGALRM);
	check_readback_one(SIGWINCH);
	check_readback_one(SIGCHLD);
}

/* siginterrupt(3) turns SA_RESTART off and on; sigaction reads it back. */
static void check_siginterrupt_one(int sig)
{
	struct sigaction cur;
	char what[40];

	signal(sig, h1);
	siginterrupt(sig, 1);
	sigaction(sig, NULL, &cur);
	CHECK(!(cur.sa_flags & SA_RESTART), "sig %d: SA_RESTART after "
	      "siginterrupt(1): flags %#x", sig, (unsigned)cur.sa_flags);
	snprintf(what, sizeof(what), "sig%d-interrupt-on", sig);
	print_action(what, &cur);
	siginterrupt(sig, 0);
	sigaction(sig, NULL, &cur);
	CHECK(cur.sa_flags & SA_RESTART, "sig %d: no SA_RESTART after "
	      "siginterrupt(0): flags %#x", sig, (unsigned)cur.sa_flags);
	CHECK(cur.sa_handler == h1, "sig %d: handler %s after siginterrupt", sig,
	      name_of(cur.sa_handler));
	snprintf(what, sizeof(what), "sig%d-interrupt-off", sig);
	print_action(what, &cur);
	h1_count = 0;
	raise(sig);
	CHECK(h1_count == 1, "sig %d: handler ran %d times", sig, (int)h1_count);
}

static int watchdog_fd = -1;

/* Ends a read that should have been interrupted but was restarted. */
static void *watchdog(void *arg)
{
	sigset_t all;
	struct timespec ts = { 1, 500000000L };

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	nanosleep(&ts, NULL);
	if (write(watchdog_fd, "w", 1) != 1)
		perror("watchdog");
	return NULL;
}

/*
 * siginterrupt(sig, 1) before signal(): glibc's signal() then installs the
 * handler without SA_RESTART, so a timer's signal interrupts a blocking
 * read (the classic alarm() timeout of BSD-style code).
 */
static void check_siginterrupt_then_signal(int sig)
{
	struct sigaction cur;
	struct itimerval once = { { 0, 0 }, { 0, 100000 } };
	int sv[2];
	pthread_t t;
	char byte, what[40];

	siginterrupt(sig, 1);
	signal(sig, h1);
	sigaction(sig, NULL, &cur);
	snprintf(what, sizeof(what), "sig%d-interrupt-signal", sig);
	print_action(what, &cur);
	int restarts = (cur.sa_flags & SA_RESTART) != 0;
	CHECK(restarts == !SIGNAL_KEEPS_SIGINTERRUPT,
	      "sig %d: signal() after siginterrupt(1): flags %#x", sig,
	      (unsigned)cur.sa_flags);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	watchdog_fd = sv[1];
	pthread_create(&t, NULL, watchdog, NULL);
	setitimer(ITIMER_REAL, &once, NULL);
	ssize_t r = read(sv[0], &byte, 1);
	int err = r < 0 ? errno : 0;
	printf("sig%d read after timer: rc=%zd %s\n", sig, r,
	       err ? strerror(err) : "data");
	CHECK((r < 0 && err == EINTR) == SIGNAL_KEEPS_SIGINTERRUPT,
	      "sig %d: read after the timer: rc %zd", sig, r);
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
}

static void check_siginterrupt(void)
{
	check_siginterrupt_one(SIGUSR2);
	check_siginterrupt_one(SIGWINCH);
	check_siginterrupt_then_signal(SIGALRM);
}

/* signal(2): each call returns the previous handler. */
static void check_signal_one(int sig)
{
	void (*r)(int);
	char what[32];

	r = signal(sig, h1);
	CHECK(r == SIG_DFL, "first signal() returned %s", name_of(r));
	printf("sig%d first %s\n", sig, name_of(r));
	snprintf(what, sizeof(what), "sig%d-signal", sig);
	print_current(what, sig);
	r = signal(sig, h2);
	CHECK(r == h1, "second signal() returned %s, want h1", name_of(r));
	r = signal(sig, SIG_IGN);
	CHECK(r == h2, "third signal() returned %s, want h2", name_of(r));
	r = signal(sig, SIG_DFL);
	CHECK(r == SIG_IGN, "fourth signal() returned %s, want IGN", name_of(r));
	signal(sig, h2);
	h2_count = 0;
	raise(sig);
	CHECK(h2_count == 1, "handler h2 ran %d times", (int)h2_count);
	r = signal(sig, SIG_DFL);
	CHECK(r == h2, "signal() after delivery returned %s, want h2", name_of(r));
}

static void check_signal(void)
{
	check_signal_one(SIGUSR1);
	check_signal_one(SIGTERM);
	check_signal_one(SIGWINCH);
	errno = 0;
	void (*r)(int) = signal(SIGKILL, h1);
	CHECK(r == SIG_ERR && errno == EINVAL, "signal(SIGKILL): %s errno %d",
	      name_of(r), errno);
	errno = 0;
	r = signal(0, h1);
	CHECK(r == SIG_ERR && errno == EINVAL, "signal(0): %s errno %d",
	      name_of(r), errno);
	errno = 0;
	r = signal(65, h1);
	CHECK(r == SIG_ERR && errno == EINVAL, "signal(65): %s errno %d",
	      name_of(r), errno);
}

/* signal(SIG_ERR) is refused with EINVAL: nothing is installed. */
static void check_sigerr_one(int sig)
{
	errno = 0;
	void (*r)(int) = signal(sig, SIG_ERR);
	CHECK((r == SIG_ERR && errno == EINVAL) == SIGNAL_REFUSES_SIG_ERR,
	      "signal(%d, SIG_ERR) returned %s errno %d", sig, name_of(r), errno);
	char what[32];
	snprintf(what, sizeof(what), "sig%d-after-err", sig);
	print_current(what, sig);
}

static void check_sigerr(void)
{
	check_sigerr_one(SIGUSR1);
	check_sigerr_one(SIGWINCH);
}

static int blocked(int sig)
{
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, sig);
}

/* sigset(3) with SIG_HOLD, for a wrapped and an unwrapped signal. */
static void check_sigset_one(int sig)
{
	char what[32];
	void (*r)(int) = sigset(sig, h1);

	CHECK(r == SIG_DFL, "sigset first returned %s", name_of(r));
	snprintf(what, sizeof(what), "sig%d-sigset", sig);
	print_current(what, sig);
	r = sigset(sig, SIG_HOLD);
	CHECK(r == h1, "sigset(HOLD) returned %s, want h1", name_of(r));
	CHECK(blocked(sig), "SIG_HOLD did not block %d", sig);
	r = sigset(sig, h2);
	CHECK(r == SIG_HOLD, "sigset after hold returned %s, want HOLD",
	      name_of(r));
	CHECK(!blocked(sig), "sigset did not unblock %d", sig);
	h2_count = 0;
	raise(sig);
	CHECK(h2_count == 1, "h2 ran %d times", (int)h2_count);
	r = sigset(sig, SIG_DFL);
	CHECK(r == h2, "sigset(DFL) returned %s, want h2", name_of(r));
}

static void check_sigset(void)
{
	check_sigset_one(SIGUSR2);
	check_sigset_one(SIGWINCH);
}

#ifdef __GLIBC__
/* sysv_signal(3): one-shot, not deferred. */
extern void (*sysv_signal(int, void (*)(int)))(int);

static void check_sysv_one(int sig)
{
	char what[32];
	void (*r)(int) = sysv_signal(sig, h1);

	CHECK(r == SIG_DFL, "sysv_signal returned %s", name_of(r));
	snprintf(what, sizeof(what), "sig%d-sysv", sig);
	print_current(what, sig);
	h1_count = 0;
	raise(sig);
	CHECK(h1_count == 1, "h1 ran %d times", (int)h1_count);
	snprintf(what, sizeof(what), "sig%d-sysv-after", sig);
	print_current(what, sig);
	r = sysv_signal(sig, SIG_DFL);
	CHECK(r == SIG_DFL, "sysv_signal after delivery returned %s, want DFL",
	      name_of(r));
}

static void check_sysv(void)
{
	check_sysv_one(SIGHUP);
	check_sysv_one(SIGWINCH);
}
#else
/* musl has no sysv_signal(3); test_signals skips this check there. */
static void check_sysv(void)
{
	printf("sysv: not in this libc\n");
}
#endif

/* SA_ONSTACK and sa_mask hold inside the program's handler. */
static void check_onstack_one(int sig)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };

	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack: %s", strerror(errno));
	set_action(sig, h_stack, SA_ONSTACK, SIGUSR2);
	h1_count = 0;
	got_onstack = got_masked_other = got_masked_self = -1;
	raise(sig);
	CHECK(h1_count == 1, "handler ran %d times", (int)h1_count);
	CHECK(got_onstack == 1, "sig %d: handler not on the alternate stack", sig);
	CHECK(got_masked_other == 1, "sig %d: SIGUSR2 not blocked in handler", sig);
	CHECK(got_masked_self == 1, "sig %d: own signal not blocked in handler",
	      sig);
	printf("onstack %d: stack=%d other=%d self=%d\n", sig, got_onstack,
	       got_masked_other, got_masked_self);
}

static void check_onstack(void)
{
	check_onstack_one(SIGUSR1);
	check_onstack_one(SIGWINCH);
}

static volatile sig_atomic_t reaped_by_handler;

static void reap_all(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		reaped_by_handler++;
	errno = saved;
}

/* One system(3) call, described: status, and what the parent saw meanwhile. */
static void one_system(const char *cmd)
{
	errno = 0;
	int st = system(cmd);
	int err = errno;
	if (st == -1)
		printf("system(%s): -1 %s\n", cmd ? cmd : "NULL", strerror(err));
	else if (cmd && WIFSIGNALED(st))
		printf("system(%s): signaled %d\n", cmd, WTERMSIG(st));
	else if (cmd)
		printf("system(%s): exited %d\n", cmd, WEXITSTATUS(st));
	else
		printf("system(NULL): %s\n", st ? "shell available" : "no shell");
}

/*
 * system(3) and popen(3) semantics: exit statuses, a signal that kills the
 * command, and a program whose SIGCHLD handler reaps everything (glibc
 * blocks SIGCHLD during system(), so the status is not stolen).
 */
static void check_system(void)
{
	struct sigaction a;
	char line[64];

	one_system(NULL);
	one_system("exit 3");
	one_system("kill -TERM $$");
	one_system("echo from-sh");
	one_system("/nonexistent/command 2>/dev/null");
	/* SIGINT and SIGQUIT are ignored in the caller while the command runs. */
	one_system("kill -INT $PPID; kill -QUIT $PPID; exit 0");

	FILE *f = popen("echo popen-line; exit 5", "r");
	CHECK(f != NULL, "popen: %s", strerror(errno));
	while (f && fgets(line, sizeof(line), f))
		printf("popen read: %s", line);
	int st = f ? pclose(f) : -1;
	printf("pclose: %s %d\n", st == -1 ? "-1" : "status",
	       st == -1 ? 0 : WEXITSTATUS(st));
	f = popen("cat > /dev/null", "w");
	CHECK(f != NULL, "popen w: %s", strerror(errno));
	if (f) {
		fputs("data\n", f);
		st = pclose(f);
		printf("pclose w: %s %d\n", st == -1 ? "-1" : "status",
		       st == -1 ? 0 : WEXITSTATUS(st));
	}
	memset(&a, 0, sizeof(a));
	a.sa_handler = reap_all;
	sigemptyset(&a.sa_mask);
	sigaction(SIGCHLD, &a, NULL);
	one_system("exit 7");
	printf("handler reaped %d during system\n", (int)reaped_by_handler);

	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} checks[] = {
		{ "siginfo", check_siginfo }, { "resethand", check_resethand },
		{ "readback", check_readback }, { "signal", check_signal },
		{ "sigset", check_sigset }, { "sysv", check_sysv },
		{ "onstack", check_onstack }, { "sigerr", check_sigerr },
		{ "siginterrupt", check_siginterrupt }, { "system", check_system },
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: sig_handlers CHECK\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (strcmp(argv[1], checks[i].name) == 0) {
			checks[i].fn();
			printf("%s: %d failures\n", argv[1], failures);
			return failures ? 1 : 0;
		}
	}
	fprintf(stderr, "sig_handlers: unknown check %s\n", argv[1]);
	return 2;
}
