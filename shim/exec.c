/*
 * The exec family and posix_spawn: the new program image gets the SIGPIPE
 * disposition the program itself set (SPEC.md key sigpipe), not the shim's
 * SIG_IGN, so that a child that is not preloaded behaves as without
 * sockguard.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <unistd.h>

#include "real.h"
#include "shim.h"
#include "signals.h"

#define SG_EXECL_MAX 4096	/* arguments execl() may take here */

static int exec_done(int r)
{
	int saved = errno;
	sg_signals_exec_failed();
	errno = saved;
	return r;
}

SG_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	sg_signals_before_exec();
	return exec_done(REAL(execve)(path, argv, envp));
}

SG_EXPORT int execv(const char *path, char *const argv[])
{
	sg_signals_before_exec();
	return exec_done(REAL(execv)(path, argv));
}

SG_EXPORT int execvp(const char *file, char *const argv[])
{
	sg_signals_before_exec();
	return exec_done(REAL(execvp)(file, argv));
}

SG_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	sg_signals_before_exec();
	return exec_done(REAL(execvpe)(file, argv, envp));
}

SG_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	sg_signals_before_exec();
	return exec_done(REAL(fexecve)(fd, argv, envp));
}

/* Collects execl()'s arguments (after arg0) into argv; NULL-terminated. */
static int collect(const char *arg0, va_list ap, char **argv, char ***envp)
{
	int n = 0;
	argv[n++] = (char *)arg0;
	while (arg0 && argv[n - 1] != NULL) {
		if (n >= SG_EXECL_MAX)
			return -1;
		argv[n++] = va_arg(ap, char *);
	}
	if (envp)
		*envp = va_arg(ap, char **);
	return 0;
}

SG_EXPORT int execl(const char *path, const char *arg0, ...)
{
	char *argv[SG_EXECL_MAX];
	va_list ap;
	va_start(ap, arg0);
	int bad = collect(arg0, ap, argv, NULL);
	va_end(ap);
	if (bad) {
		errno = E2BIG;
		return -1;
	}
	return execv(path, argv);
}

SG_EXPORT int execlp(const char *file, const char *arg0, ...)
{
	char *argv[SG_EXECL_MAX];
	va_list ap;
	va_start(ap, arg0);
	int bad = collect(arg0, ap, argv, NULL);
	va_end(ap);
	if (bad) {
		errno = E2BIG;
		return -1;
	}
	return execvp(file, argv);
}

SG_EXPORT int execle(const char *path, const char *arg0, ...)
{
	char *argv[SG_EXECL_MAX];
	char **envp;
	va_list ap;
	va_start(ap, arg0);
	int bad = collect(arg0, ap, argv, &envp);
	va_end(ap);
	if (bad) {
		errno = E2BIG;
		return -1;
	}
	return execve(path, argv, envp);
}

/* A copy of attr that also resets SIGPIPE to SIG_DFL in the child. */
static const posix_spawnattr_t *with_sigpipe_default(const posix_spawnattr_t *attr,
						     posix_spawnattr_t *copy)
{
	sigset_t def;
	short flags = 0;

	if (!sg_signals_spawn_resets_sigpipe())
		return attr;
	if (attr)
		*copy = *attr;
	else if (posix_spawnattr_init(copy) != 0)
		return attr;
	posix_spawnattr_getflags(copy, &flags);
	if (flags & POSIX_SPAWN_SETSIGDEF)
		posix_spawnattr_getsigdefault(copy, &def);
	else
		sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigdefault(copy, &def);
	posix_spawnattr_setflags(copy, (short)(flags | POSIX_SPAWN_SETSIGDEF));
	return copy;
}

SG_EXPORT int posix_spawn(pid_t *pid, const char *path,
			  const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[],
			  char *const envp[])
{
	posix_spawnattr_t copy;
	return REAL(posix_spawn)(pid, path, fa, with_sigpipe_default(attr, &copy),
				 argv, envp);
}

SG_EXPORT int posix_spawnp(pid_t *pid, const char *file,
			   const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[],
			   char *const envp[])
{
	posix_spawnattr_t copy;
	return REAL(posix_spawnp)(pid, file, fa, with_sigpipe_default(attr, &copy),
				  argv, envp);
}
