/*
 * Sandboxes: a program that installs a seccomp filter (OpenSSH's preauth
 * child, a browser's renderer, systemd-style self-confinement) allows the
 * system calls it needs and kills or fails the rest.  The shim cannot
 * know what the filter allows, so from the moment the program installs
 * one the process is "quiet": the shim makes no system call of its own
 * (no log line, no classification, no wait, no reserve) and retries only
 * by making the program's own call again.  It says so once, before the
 * filter is in place.
 *
 * Filters are installed with prctl(PR_SET_SECCOMP) or the seccomp system
 * call through syscall(2) (libseccomp does either); both are seen here.
 * syscall(2) is also how a musl program closes a range of descriptors
 * (musl has no close_range function): that goes to fdops.c.  A
 * filter the process inherited at exec is the rule of docs/DESIGN.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "counters.h"
#include "event.h"
#include "fdtable.h"
#include "log.h"
#include "real.h"
#include "shim.h"
#include "state.h"

/* musl-gcc sees no kernel headers: seccomp(2)'s two operations, kernel ABI. */
#if __has_include(<linux/seccomp.h>)
#include <linux/seccomp.h>
#else
#define SECCOMP_SET_MODE_STRICT 0
#define SECCOMP_SET_MODE_FILTER 1
#endif

#define SG_STR2(x) #x
#define SG_STR(x) SG_STR2(x)

static const char quiet_notice[] =
	"sockguard: the program installs a seccomp filter: no system call "
	"of sockguard's own from now on in this process (no more log lines)";

/* Called just before a filter goes in; returns what quiet was before. */
static int going_quiet(void)
{
	int was = __atomic_load_n(&sg_proc.quiet, __ATOMIC_RELAXED);

	if (was || !sg_acting())
		return was;
	sg_log_line(&sg_cfg.sock, SG_CLASS_SUMMARY, quiet_notice,
		    sizeof(quiet_notice) - 1, 0);
	__atomic_store_n(&sg_proc.quiet, 1, __ATOMIC_RELAXED);
	__atomic_fetch_or(&sockguard_counters.flags, SG_PROC_QUIET,
			  __ATOMIC_RELAXED);
	return 0;
}

/* The filter did not go in after all: the shim may speak again. */
static void not_quiet(int was)
{
	if (!was && !sg_thread.vfork_child) {
		__atomic_store_n(&sg_proc.quiet, 0, __ATOMIC_RELAXED);
		__atomic_fetch_and(&sockguard_counters.flags, ~SG_PROC_QUIET,
				   __ATOMIC_RELAXED);
	}
}

static int installs_filter(long n, unsigned long a1)
{
	if (n == SYS_prctl)
		return a1 == PR_SET_SECCOMP;
	return n == SYS_seccomp && (a1 == SECCOMP_SET_MODE_FILTER ||
				    a1 == SECCOMP_SET_MODE_STRICT);
}

/*
 * prctl(2) and syscall(2) are called for much else, often (futexes, gettid,
 * thread names): on x86-64 they are a compare and a jump to libc, in the
 * assembly below, and only a filter's installation and close_range(2)
 * come here.
 */
#if defined(__x86_64__)
#define SG_SANDBOX_ENTRY static __attribute__((used))
#else
#define SG_SANDBOX_ENTRY SG_EXPORT
#define sandbox_prctl prctl
#define sandbox_syscall syscall
#endif

SG_SANDBOX_ENTRY int sandbox_prctl(int option, ...)
{
	va_list ap;
	va_start(ap, option);
	unsigned long a2 = va_arg(ap, unsigned long);
	unsigned long a3 = va_arg(ap, unsigned long);
	unsigned long a4 = va_arg(ap, unsigned long);
	unsigned long a5 = va_arg(ap, unsigned long);
	va_end(ap);

	if (SG_LIKELY(option != PR_SET_SECCOMP))
		return REAL(prctl)(option, a2, a3, a4, a5);
	int was = going_quiet();
	int r = REAL(prctl)(option, a2, a3, a4, a5);
	if (r != 0) {
		int saved = errno;
		not_quiet(was);
		errno = saved;
	}
	return r;
}

SG_SANDBOX_ENTRY long sandbox_syscall(long n, ...)
{
	va_list ap;
	va_start(ap, n);
	unsigned long a1 = va_arg(ap, unsigned long);
	unsigned long a2 = va_arg(ap, unsigned long);
	unsigned long a3 = va_arg(ap, unsigned long);
	unsigned long a4 = va_arg(ap, unsigned long);
	unsigned long a5 = va_arg(ap, unsigned long);
	unsigned long a6 = va_arg(ap, unsigned long);
	va_end(ap);

	if (SG_UNLIKELY(n == SYS_close_range))
		return sg_close_range_syscall((unsigned)a1, (unsigned)a2,
					      (unsigned)a3);
	if (SG_LIKELY(!installs_filter(n, a1)))
		return REAL(syscall)(n, a1, a2, a3, a4, a5, a6);
	int was = going_quiet();
	long r = REAL(syscall)(n, a1, a2, a3, a4, a5, a6);
	if (r == -1) {
		int saved = errno;
		not_quiet(was);
		errno = saved;
	}
	return r;
}

#if defined(__x86_64__)
__asm__(
	".text\n"
	".globl prctl\n"
	".type prctl, @function\n"
	"prctl:\n"
	"	cmpl $" SG_STR(PR_SET_SECCOMP) ", %edi\n"
	"	je sandbox_prctl\n"
	"	jmp *sg_real_prctl(%rip)\n"
	".size prctl, .-prctl\n"
	".globl syscall\n"
	".type syscall, @function\n"
	"syscall:\n"
	"	cmpq $" SG_STR(SYS_seccomp) ", %rdi\n"
	"	je sandbox_syscall\n"
	"	cmpq $" SG_STR(SYS_prctl) ", %rdi\n"
	"	je sandbox_syscall\n"
	"	cmpq $" SG_STR(SYS_close_range) ", %rdi\n"
	"	je sandbox_syscall\n"
	"	jmp *sg_real_syscall(%rip)\n"
	".size syscall, .-syscall\n");
#endif
