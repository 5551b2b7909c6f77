/*
 * The exec family and posix_spawn: the new program image gets the SIGPIPE
 * disposition the program itself set (SPEC.md key sigpipe), not the shim's
 * SIG_IGN, so that a child that is not preloaded behaves as without
 * sockguard.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
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

enum execl_kind { EXECL, EXECLP, EXECLE };

static int execl_common(enum execl_kind kind, const char *path,
			const char *arg0, va_list ap)
{
	char *argv[SG_EXECL_MAX];
	char **envp = NULL;

	if (collect(arg0, ap, argv, kind == EXECLE ? &envp : NULL) < 0) {
		errno = E2BIG;
		return -1;
	}
	if (kind == EXECLP)
		return execvp(path, argv);
	return kind == EXECLE ? execve(path, argv, envp) : execv(path, argv);
}

SG_EXPORT int execl(const char *path, const char *arg0, ...)
{
	va_list ap;
	va_start(ap, arg0);
	int r = execl_common(EXECL, path, arg0, ap);
	va_end(ap);
	return r;
}

SG_EXPORT int execlp(const char *file, const char *arg0, ...)
{
	va_list ap;
	va_start(ap, arg0);
	int r = execl_common(EXECLP, file, arg0, ap);
	va_end(ap);
	return r;
}

SG_EXPORT int execle(const char *path, const char *arg0, ...)
{
	va_list ap;
	va_start(ap, arg0);
	int r = execl_common(EXECLE, path, arg0, ap);
	va_end(ap);
	return r;
}

/* A copy of attr that also resets SIGPIPE to SIG_DFL in the child. */
const posix_spawnattr_t *sg_spawnattr_sigpipe(const posix_spawnattr_t *attr,
						     posix_spawnattr_t *copy)
{
	sigset_t def;
	short flags = 0;

	if (!sg_sigpipe_suppressing())
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
	return REAL(posix_spawn)(pid, path, fa, sg_spawnattr_sigpipe(attr, &copy),
				 argv, envp);
}

SG_EXPORT int posix_spawnp(pid_t *pid, const char *file,
			   const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[],
			   char *const envp[])
{
	posix_spawnattr_t copy;
	return REAL(posix_spawnp)(pid, file, fa, sg_spawnattr_sigpipe(attr, &copy),
				  argv, envp);
}

/*
 * system(3), as glibc does it (SIGINT and SIGQUIT ignored and SIGCHLD
 * blocked in the caller while the command runs; /bin/sh -c spawned), but
 * through posix_spawn with SIGPIPE reset in the child: glibc's own system()
 * spawns through an internal posix_spawn the shim cannot see, so its shell
 * would start with the shim's SIG_IGN.
 */
static pthread_mutex_t system_lock = PTHREAD_MUTEX_INITIALIZER;
static int system_users;
static struct sigaction system_intr, system_quit;

static void system_enter(sigset_t *omask)
{
	struct sigaction ign;
	sigset_t chld;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	pthread_mutex_lock(&system_lock);
	if (system_users++ == 0) {
		sigaction(SIGINT, &ign, &system_intr);
		sigaction(SIGQUIT, &ign, &system_quit);
	}
	pthread_mutex_unlock(&system_lock);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, omask);
}

static void system_leave(const sigset_t *omask)
{
	pthread_mutex_lock(&system_lock);
	if (--system_users == 0) {
		sigaction(SIGINT, &system_intr, NULL);
		sigaction(SIGQUIT, &system_quit, NULL);
	}
	pthread_mutex_unlock(&system_lock);
	sigprocmask(SIG_SETMASK, omask, NULL);
}

static int system_spawn(const char *line, const sigset_t *omask, pid_t *pid)
{
	posix_spawnattr_t attr;
	sigset_t def;
	char *const argv[] = { "sh", "-c", "--", (char *)line, NULL };

	sigemptyset(&def);
	if (system_intr.sa_handler != SIG_IGN)
		sigaddset(&def, SIGINT);
	if (system_quit.sa_handler != SIG_IGN)
		sigaddset(&def, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setsigmask(&attr, omask);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	int r = posix_spawn(pid, "/bin/sh", NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	return r;
}

SG_EXPORT int system(const char *line)
{
	sigset_t omask;
	pid_t pid;
	int status = -1;

	if (!sg_sigpipe_suppressing())
		return REAL(system)(line);
	if (line == NULL)
		return system("exit 0") == 0;
	system_enter(&omask);
	int r = system_spawn(line, &omask, &pid);
	if (r == 0) {
		while (waitpid(pid, &status, 0) < 0) {
			if (errno != EINTR) {
				status = -1;
				break;
			}
		}
	} else {
		status = 127 << 8;	/* W_EXITCODE(127, 0): the shell could not run */
	}
	system_leave(&omask);
	if (r != 0)
		errno = r;
	return status;
}
