/*
 * popen(3) and pclose(3).  glibc's popen spawns its shell through an
 * internal posix_spawn the shim cannot see, so under sigpipe=ignore the
 * shell (and every command of its pipeline) would start with SIGPIPE
 * ignored.  While the shim holds SIGPIPE ignored, popen is done here, as
 * POSIX describes it: a pipe, /bin/sh -c spawned with SIGPIPE reset and the
 * streams of earlier popen calls closed in the child, fdopen; pclose waits
 * for that child.  A stream this file did not open goes to libc's pclose.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"
#include "signals.h"

#define SG_POPEN_MAX 64	/* streams open at once; more go to libc's popen */

struct popen_slot {
	FILE *f;
	pid_t pid;
	int fd;
};

static struct popen_slot slots[SG_POPEN_MAX];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

/* libc's own function behind name, looked up once. */
static void *libc_fn(void **cache, const char *name)
{
	void *fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
	if (fn == NULL) {
		fn = dlsym(RTLD_NEXT, name);
		__atomic_store_n(cache, fn, __ATOMIC_RELEASE);
	}
	return fn;
}

static FILE *libc_popen(const char *cmd, const char *type)
{
	static void *cache;
	FILE *(*fn)(const char *, const char *) =
		(FILE *(*)(const char *, const char *))libc_fn(&cache, "popen");
	if (fn == NULL) {
		errno = ENOSYS;
		return NULL;
	}
	return fn(cmd, type);
}

static int libc_pclose(FILE *f)
{
	static void *cache;
	int (*fn)(FILE *) = (int (*)(FILE *))libc_fn(&cache, "pclose");
	if (fn == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return fn(f);
}

/* The child's file actions: its end on stdin or stdout, the rest closed. */
static void child_actions(posix_spawn_file_actions_t *fa, int child, int target)
{
	posix_spawn_file_actions_init(fa);
	posix_spawn_file_actions_adddup2(fa, child, target);
	if (child != target)
		posix_spawn_file_actions_addclose(fa, child);
	for (int i = 0; i < SG_POPEN_MAX; i++) {
		if (slots[i].f && slots[i].fd != target)
			posix_spawn_file_actions_addclose(fa, slots[i].fd);
	}
}

static int spawn_shell(const char *cmd, int child, int target, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t copy;
	char *const argv[] = { "sh", "-c", "--", (char *)cmd, NULL };

	child_actions(&fa, child, target);
	int r = posix_spawn(pid, "/bin/sh", &fa, sg_spawnattr_sigpipe(NULL, &copy),
			    argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

static int free_slot(void)
{
	for (int i = 0; i < SG_POPEN_MAX; i++) {
		if (slots[i].f == NULL)
			return i;
	}
	return -1;
}

/* Runs cmd with one end of a fresh pipe; called with slots_lock held. */
static FILE *open_stream(const char *cmd, int reading, int cloexec, int slot)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return NULL;
	int parent = reading ? p[0] : p[1], child = reading ? p[1] : p[0];
	int r = spawn_shell(cmd, child, reading ? 1 : 0, &pid);
	close(child);
	if (r != 0) {
		close(parent);
		errno = r;
		return NULL;
	}
	if (!cloexec)
		fcntl(parent, F_SETFD, 0);
	FILE *f = fdopen(parent, reading ? "r" : "w");
	if (f == NULL) {
		int saved = errno;
		close(parent);
		waitpid(pid, NULL, 0);
		errno = saved;
		return NULL;
	}
	slots[slot] = (struct popen_slot){ f, pid, parent };
	return f;
}

SG_EXPORT FILE *popen(const char *cmd, const char *type)
{
	if (!sg_sigpipe_suppressing() || cmd == NULL || type == NULL)
		return libc_popen(cmd, type);
	if ((type[0] != 'r' && type[0] != 'w') ||
	    (type[1] != '\0' && strcmp(type + 1, "e") != 0)) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&slots_lock);
	int slot = free_slot();
	FILE *f = slot < 0 ? NULL : open_stream(cmd, type[0] == 'r', type[1] == 'e', slot);
	pthread_mutex_unlock(&slots_lock);
	return slot < 0 ? libc_popen(cmd, type) : f;
}

SG_EXPORT int pclose(FILE *f)
{
	pid_t pid = -1;
	int status;

	pthread_mutex_lock(&slots_lock);
	for (int i = 0; f && i < SG_POPEN_MAX; i++) {
		if (slots[i].f == f) {
			pid = slots[i].pid;
			slots[i].f = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&slots_lock);
	if (pid < 0)
		return libc_pclose(f);
	fclose(f);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return status;
}
