/*
 * The constructor: sets up the fd table, loads the policy (man page,
 * CONFIGURATION) and arms the signal handling.  Until it has run, and for
 * ever with mode=off, every wrapper passes straight through to libc.
 * What it does eagerly, and why, is in docs/DESIGN.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "counters.h"
#include "event.h"
#include "fdtable.h"
#include "live.h"
#include "real.h"
#include "shim.h"
#include "signals.h"
#include "state.h"
#include "../policy/rawsys.h"

struct sg_policy *sg_pol;
int sg_pol_has_peers;
char sg_prog_name[64];
char sg_prog_path[256];

extern char *program_invocation_short_name;

/*
 * The library is linked without the C runtime's start files (crtbeginS.o
 * and its kind: their weak references would be four more symbols to look
 * up in every process at start-up, for features a C library with its own
 * constructor and destructor does not use).  pthread_atfork(3) still names
 * the object registering through __dso_handle, which those files define.
 */
void *__dso_handle __attribute__((visibility("hidden"))) = &__dso_handle;
/*
 * The process's environment, and its auxiliary vector right after it on
 * the initial stack.  glibc hands both (with argc and argv) to every
 * constructor: the shim reads them from there rather than import environ,
 * getauxval and program_invocation_short_name, which are three symbols
 * less to look up in every process at start-up.  musl calls constructors
 * without arguments: the musl build uses the library's names.
 */
#ifdef __GLIBC__
/*
 * What pthread_atfork(3) calls in glibc (libc_nonshared.a passes the
 * object's __dso_handle), called directly and referenced weakly: it is the
 * build's one import that musl lacks.  A glibc program that starts a musl
 * program hands it this build through an inherited LD_PRELOAD; musl's
 * loader then binds the name to 0 instead of refusing to start the
 * program, and the constructor, seeing no glibc, leaves the shim inactive
 * (every wrapper passes straight through to musl's functions).
 */
extern int __register_atfork(void (*prepare)(void), void (*parent)(void),
			     void (*child)(void), void *dso)
	__attribute__((weak));
static char **start_env;
static const char *start_name;
static int start_secure;
#define sg_environ start_env
#else
extern char **environ;
#define sg_environ environ
#endif

static void learn_program(void)
{
#ifdef __GLIBC__
	const char *name = start_name;
#else
	const char *name = program_invocation_short_name;
#endif
	/* The buffer starts zeroed: copied up to the name's end, not padded. */
	for (size_t i = 0; name && i < sizeof(sg_prog_name) - 1 && name[i]; i++)
		sg_prog_name[i] = name[i];
	long n = sg_sys3(SYS_readlink, "/proc/self/exe", sg_prog_path,
			 sizeof(sg_prog_path) - 1);
	if (n > 0)
		sg_prog_path[n] = '\0';
}

/*
 * SOCKGUARD_CONFIG and SOCKGUARD_OPTIONS, in one pass over the environment
 * (not getenv(3): one libc symbol less to look up in every process at
 * start-up).
 */
static void read_environment(const char **config, const char **options)
{
	*config = *options = NULL;
	for (char **e = sg_environ; e && *e; e++) {
		const char *v = *e;
		if (v[0] != 'S' || strncmp(v, "SOCKGUARD_", 10) != 0)
			continue;
		if (strncmp(v + 10, "CONFIG=", 7) == 0)
			*config = v + 17;
		else if (strncmp(v + 10, "OPTIONS=", 8) == 0)
			*options = v + 18;
	}
}

/*
 * Secure execution (setuid, setcap): the variables belong to the
 * unprivileged caller, so they are not only ignored but taken out of the
 * environment before main, as ld.so does with LD_PRELOAD, so that nothing
 * the process execs (a root child of a setuid wrapper) honours them.  The
 * array is compacted in place: no allocation.
 */
static void scrub_environment(void)
{
	char **out = sg_environ;

	if (!sg_environ)
		return;
	for (char **in = sg_environ; *in; in++) {
		if (strncmp(*in, "SOCKGUARD_", 10) != 0)
			*out++ = *in;
	}
	*out = NULL;
}

/* Reads and parses the policy file through the one loader (policy.h). */
static int read_policy(const char *path, int required, int secure,
		       struct sg_problems *pr)
{
	unsigned flags = (required ? SG_LOAD_REQUIRED : 0) |
			 (secure ? SG_LOAD_SECURE : 0);

	return sg_policy_load(sg_pol, path, flags, NULL, NULL, pr);
}

/*
 * Reports each problem once.  A refused file is one line that also says
 * what happens instead; problems in the text are followed by a line that
 * says so.
 */
static void report_problems(const struct sg_problems *pr, int refused)
{
	char line[SG_PROBLEM_LEN + sizeof(SG_POLICY_REFUSED)];

	for (unsigned i = 0; i < pr->count && i < SG_PROBLEMS_MAX; i++) {
		size_t n = strlen(pr->text[i]);
		memcpy(line, pr->text[i], n + 1);
		if (i == 0 && refused)
			memcpy(line + n, SG_POLICY_REFUSED, sizeof(SG_POLICY_REFUSED));
		sg_log_problem(line);
	}
	if (!refused)
		sg_log_problem("the policy is not valid: using the built-in defaults");
}

static void load_policy(int secure)
{
	struct sg_problems *pr = sg_map_zeroed(sizeof(*pr));
	int use_options = 0;
	const char *config, *options;

	read_environment(&config, &options);
	if (secure)
		config = NULL;

	sg_settings_default(&sg_cfg);
	sg_pol = sg_map_zeroed(sg_policy_storage_size());
	if (!sg_pol || !pr)
		return;
	sg_policy_init(sg_pol);
	const char *path = sg_policy_sources(secure, config, &use_options);
	int rc = path ? read_policy(path, config && *config, secure, pr) :
		 SG_LOAD_NONE;
	int bad = rc < 0;
	if (use_options && options && *options &&
	    sg_policy_parse_options(sg_pol, options, pr) < 0)
		bad = 1;
	if (bad) {
		/* A bad policy is reported and replaced whole by the defaults. */
		report_problems(pr, rc == SG_LOAD_REFUSED);
		sg_policy_init(sg_pol);
	}
	sg_sys2(SYS_munmap, pr, sizeof(*pr));
	sg_policy_for_program(sg_pol, sg_prog_name, sg_prog_path, &sg_cfg, NULL);
	sg_pol_has_peers = sg_policy_has_peer_sections(sg_pol);
}

/* A fork child: its own pid; the log writer starts its own counts. */
static void after_fork_child(void)
{
	sg_proc.pid = (int)sg_sys0(SYS_getpid);
	if (sg_proc.active)
		sg_log_after_fork();
	sg_live_after_fork();
}

/*
 * Whether another copy of the library (another file: the same file is
 * loaded once) comes before this one in the lookup order, as when
 * /etc/ld.so.preload names the installed library and LD_PRELOAD a build
 * tree's.  The program's calls reach that copy, whose calls to libc reach
 * this one's wrappers: this copy stays inactive and passes them through,
 * so that one process has one shim (one handler table, one log, one
 * count), whatever number of copies is mapped.  The objects loaded at
 * start-up are listed in lookup order; a copy is known by its file name.
 * (Looking one of the library's names up from here would find this copy
 * first: it is linked -Bsymbolic.)
 */
/* What follows the last '/' of path (NULL: ""). */
static const char *base_name(const char *path)
{
	const char *base = path ? path : "";

	for (const char *p = base; *p; p++)
		if (*p == '/')
			base = p + 1;
	return base;
}

static int is_copy(const char *name)
{
	return strcmp(base_name(name), "libsockguard.so") == 0;
}

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

#ifdef __GLIBC__
/*
 * glibc's loader keeps the list for debuggers in _r_debug (link.h), which
 * it defines itself: referenced weakly, so that the library still links
 * against libc alone and loads where it is missing.
 */
extern struct r_debug _r_debug __attribute__((weak));

static int shadowed(void)
{
	if (!&_r_debug)
		return 0;
	for (const struct link_map *m = _r_debug.r_map; m; m = m->l_next) {
		if ((const char *)m->l_addr == __ehdr_start)
			return 0;	/* this copy */
		if (is_copy(m->l_name))
			return 1;
	}
	return 0;
}
#else
static int visit_object(struct dl_phdr_info *o, size_t size, void *arg)
{
	int *earlier = arg;

	(void)size;
	if ((const char *)o->dlpi_addr == __ehdr_start)
		return 1;	/* this copy: stop */
	*earlier |= is_copy(o->dlpi_name);
	return 0;
}

static int shadowed(void)
{
	int earlier = 0;

	dl_iterate_phdr(visit_object, &earlier);
	return earlier;
}
#endif

#ifdef __GLIBC__
/* What glibc passes to a constructor, kept for start(). */
static void take_arguments(char **argv, char **envp)
{
	start_env = envp;
	start_name = base_name(argv ? argv[0] : NULL);
	char **e = envp;
	while (e && *e)
		e++;
	/*
	 * The auxiliary vector follows the environment's NULL.  In secure
	 * execution ld.so has taken variables out of the environment by
	 * moving the rest down, which leaves more NULLs before it: no entry
	 * of the vector is 0 but its end.
	 */
	while (e && !*e)
		e++;
	for (unsigned long *aux = (unsigned long *)e; aux && aux[0] != AT_NULL;
	     aux += 2) {
		if (aux[0] == AT_SECURE)
			start_secure = aux[1] != 0;
	}
}
#define secure_execution() start_secure
#else
#define secure_execution() (getauxval(AT_SECURE) != 0)
#endif

static void start(void)
{
	int secure = secure_execution();

	sg_proc.pid = (int)sg_sys0(SYS_getpid);
	if (secure) {
		scrub_environment();
		sockguard_counters.flags |= SG_PROC_SECURE;
	}
	sg_fdtable_init();
	learn_program();
	load_policy(secure);
	sockguard_counters.mode = sg_cfg.mode;
	sockguard_counters.pid = (uint64_t)sg_proc.pid;
	if (sg_cfg.mode == SG_MODE_OFF || !sg_fdt)
		return;
	sg_state_follow(&sg_cfg);
	sg_clock_init();
	sg_log_init();
	__atomic_store_n(&sg_proc.active, 1, __ATOMIC_RELEASE);
	sg_live_start();
	sg_signals_init();
#ifdef __GLIBC__
	__register_atfork(NULL, NULL, after_fork_child, __dso_handle);
#else
	pthread_atfork(NULL, NULL, after_fork_child);
#endif
}

void sg_init(void)
{
	static int started;

	if (__atomic_exchange_n(&started, 1, __ATOMIC_ACQ_REL))
		return;
	int saved = errno;
	start();
	errno = saved;
}

#ifdef __GLIBC__
__attribute__((constructor)) static void sg_constructor(int argc, char **argv,
							 char **envp)
{
	(void)argc;
	/*
	 * Under musl's loader (above): no arguments, and nothing to do; behind
	 * another copy of the library, nothing to do either.
	 */
	if (!__register_atfork || shadowed())
		return;
	take_arguments(argv, envp);
	sg_init();
}
#else
__attribute__((constructor)) static void sg_constructor(void)
{
	if (shadowed())
		return;
	sg_init();
}
#endif

__attribute__((destructor)) static void sg_destructor(void)
{
	if (sg_acting())
		sg_log_summary();
}
