/*
 * bench_spawn: process start-up cost for `make bench`.
 *
 *   bench_spawn N [-e NAME=VALUE]... -- PROGRAM [ARG]...
 *
 * Starts PROGRAM N times, one after the other (posix_spawn, then waitpid),
 * and prints the mean wall time and the mean CPU time (user + system, of
 * the children and of this launcher) of one start, in nanoseconds.  The children
 * get this process's environment without LD_PRELOAD and SOCKGUARD_*, plus
 * the -e settings, so the launcher itself never runs under the shim and only
 * the children are measured.  Exit status 1 if any child failed.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

#define MAX_ENV 4096

extern char **environ;

/* Whether an inherited variable would change what the shim does. */
static int is_shim_var(const char *kv)
{
	return !strncmp(kv, "LD_PRELOAD=", 11) || !strncmp(kv, "SOCKGUARD_", 10);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_spawn N [-e NAME=VALUE]... -- PROGRAM [ARG]...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static char *env[MAX_ENV];
	int nenv = 0, i, status, failed = 0;
	long n;
	long long t0, t1, c0, c1;
	pid_t pid;

	if (argc < 4)
		usage();
	n = strtol(argv[1], NULL, 10);
	if (n <= 0 || n > 10000000L)
		usage();
	for (char **e = environ; *e && nenv < MAX_ENV - 64; e++)
		if (!is_shim_var(*e))
			env[nenv++] = *e;
	for (i = 2; i < argc && strcmp(argv[i], "--"); i++) {
		if (strcmp(argv[i], "-e") || i + 1 >= argc || nenv >= MAX_ENV - 1)
			usage();
		env[nenv++] = argv[++i];
	}
	if (i + 1 >= argc)
		usage();
	env[nenv] = NULL;
	c0 = cpu_ns(RUSAGE_SELF) + cpu_ns(RUSAGE_CHILDREN);
	t0 = now_ns();
	for (long k = 0; k < n; k++) {
		if (posix_spawn(&pid, argv[i + 1], NULL, NULL, argv + i + 1, env)) {
			perror("bench_spawn: posix_spawn");
			return 1;
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed++;
	}
	t1 = now_ns();
	c1 = cpu_ns(RUSAGE_SELF) + cpu_ns(RUSAGE_CHILDREN);
	printf("%lld %lld\n", (t1 - t0) / n, (c1 - c0) / n);
	if (failed)
		fprintf(stderr, "bench_spawn: %d of %ld runs failed\n", failed, n);
	return failed ? 1 : 0;
}
