/*
 * The fault fixture library shared by the Criterion tests and the test
 * programs: a private network namespace, iptables faults on a port,
 * misbehaving peers, a child runner with a timeout, a receiver for the
 * shim's `log=unix:PATH` datagrams, and the environment a suite runs its
 * programs in with and without the shim (struct fx_env; fx_suite.h opens
 * one for each test of a Criterion suite).
 *
 * Functions return 0 (or a descriptor, pid, port) on success and -1 on
 * failure; the reason for the last failure is kept for fx_skip_reason().
 */
#ifndef FX_FIXTURE_H
#define FX_FIXTURE_H

#include <stddef.h>
#include <sys/types.h>

/* The build directory (absolute), derived from where this binary lives. */
const char *fx_build_dir(void);
/*
 * 1 when the suite runs in musl mode (SG_TEST_LIBC=musl, set by
 * tests/run-tests.sh for its musl reruns): the shim and the test programs
 * below are then their musl builds, under $BUILD/musl.
 */
int fx_musl(void);
/* $BUILD/libsockguard.so (musl mode: $BUILD/musl/libsockguard.so), absolute. */
const char *fx_shim_path(void);
/* $BUILD/sockguard, the command-line tool, absolute. */
const char *fx_tool_path(void);
/* $BUILD/tests/progs/NAME (musl mode: $BUILD/musl/tests/progs/NAME). */
const char *fx_prog_path(const char *name, char *buf, size_t len);
/* The same in a buffer of its own, which the next three calls leave alone. */
const char *fx_prog(const char *name);

/* Monotonic milliseconds, for timing a call. */
long fx_now_ms(void);

/*
 * n in decimal (an argument for argv), in a buffer of its own that the
 * next three calls leave alone.
 */
char *fx_num(long n);
/* How many lines text holds: its newlines. */
int fx_line_count(const char *text);

/* Why the last fixture call failed, for a skip or failure message. */
const char *fx_skip_reason(void);

/*
 * Moves the calling process into a new network namespace with loopback up.
 * Criterion forks each test, so the namespace ends with the test.
 */
int fx_enter_netns(void);
/* 0 when running as root (the real-program tests need it for iptables). */
int fx_need_root(void);
/*
 * Moves the calling process into a new mount namespace where target is an
 * overlay of itself, its changes kept in DIR/NAME-upper, so that what the
 * test writes there is seen by it and its children alone.  0; -2 when the
 * kernel has no overlay file system for it, -1 on another failure; the
 * reason for fx_skip_reason().
 */
int fx_private_overlay(const char *target, const char *dir, const char *name);

/*
 * The skip messages begin with these words so that tests/run-tests.sh can
 * tell, under CI=true, a skip that CI must not accept.
 */
#define FX_REQUIRE_NETNS() \
	do { \
		if (fx_enter_netns() != 0) \
			cr_skip_test("needs a network namespace: %s", \
				     fx_skip_reason()); \
	} while (0)
#define FX_REQUIRE_PROGRAM(name) \
	do { \
		if (!fx_have_program(name)) \
			cr_skip_test("needs program %s: not found in PATH", \
				     name); \
	} while (0)

/*
 * Skips a test that cannot apply to a musl program in musl mode; why says
 * what (the words do not start with "needs", so CI accepts the skip).
 */
#define FX_SKIP_ON_MUSL(why) \
	do { \
		if (fx_musl()) \
			cr_skip_test("not for musl programs: %s", why); \
	} while (0)

/* 1 when NAME is an executable found in PATH (or an absolute path). */
int fx_have_program(const char *name);

/* Where cgroup v2 is mounted (from /proc/self/mountinfo), or NULL. */
const char *fx_cgroup2_mount(void);

/* Runs a shell command (system(3)); returns its exit code, -1 if it died. */
int fx_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The kernel faults the iptables fixtures produce on one TCP port. */
enum fx_fault {
	FX_DROP,		/* black hole: SYNs vanish, connect times out */
	FX_RST,			/* REJECT --reject-with tcp-reset: ECONNREFUSED */
	FX_HOST_UNREACH,	/* ICMP host unreachable: EHOSTUNREACH */
	FX_NET_UNREACH,		/* ICMP net unreachable: ENETUNREACH */
};

/* Adds or removes the iptables rule for a fault on a port. */
int fx_fault_add(enum fx_fault fault, int port);
int fx_fault_del(enum fx_fault fault, int port);
/* Removes the rule after ms milliseconds, from a child; returns its pid. */
pid_t fx_fault_del_after(enum fx_fault fault, int port, int ms);
/* Sets net.ipv4.tcp_syn_retries in the current namespace. */
int fx_set_syn_retries(int n);

/* A listening TCP socket on 127.0.0.1 with an ephemeral port. */
int fx_listen_tcp(int *port);
/* A port on 127.0.0.1 that nothing listens on (bound, then released). */
int fx_closed_port(void);
/* A blocking TCP connection to 127.0.0.1:port, or -1. */
int fx_connect_tcp(int port);

/*
 * Peers, each a child process serving connections on a fresh ephemeral
 * port until fx_stop() kills it: echo; reset (accepts, then closes with
 * SO_LINGER 0 so the kernel sends RST); half-close (shutdown SHUT_WR, then
 * reads until EOF); late accept (sleeps ms before its first accept, then
 * echoes).
 */
pid_t fx_peer_echo(int *port);
pid_t fx_peer_reset(int *port);
pid_t fx_peer_halfclose(int *port);
pid_t fx_peer_late_accept(int *port, int ms);

/* Kills a child's process group and reaps it. */
void fx_stop(pid_t pid);

/* What fx_run() saw. Output beyond the buffers is dropped. */
struct fx_result {
	int status;		/* wait status */
	int timed_out;		/* killed after timeout_ms */
	long elapsed_ms;
	char out[65536];	/* stdout, NUL-terminated */
	char err[16384];	/* stderr, NUL-terminated */
};

/*
 * Runs argv[0] (searched in PATH) with env_extra applied to our environment
 * ("KEY=VALUE" sets, a bare "KEY" unsets; NULL-terminated, may be NULL),
 * stdin from /dev/null, and kills its process group after timeout_ms.
 * Returns 0 when it ran to completion, -1 otherwise.
 */
int fx_run(char *const argv[], char *const env_extra[], int timeout_ms,
	   struct fx_result *r);
/* The exit code of a finished run, 128+N for a signal, -1 if timed out. */
int fx_exit_code(const struct fx_result *r);
/*
 * Waits up to ms for the child pid to end, and reaps it: its exit code,
 * 128+N for a signal, or -1 while it still runs (it is left running).
 */
int fx_wait_exit(pid_t pid, int ms);

/*
 * fx_run() of the tool: the words of launcher (a command that runs the
 * next, such as setpriv; NULL for none), then fx_tool_path(), then args.
 * At most 63 words in all.
 */
int fx_tool(const char *const launcher[], char *const args[],
	    char *const env_extra[], int timeout_ms, struct fx_result *r);

/*
 * Starts argv in the background, in its own process group, with stdout and
 * stderr appended to logpath (or /dev/null when NULL).
 */
pid_t fx_spawn(char *const argv[], char *const env_extra[],
	       const char *logpath);
/*
 * Starts argv (a path, not searched in PATH) as PID 1 of a new PID
 * namespace, with env_extra applied and its stdout appended to outpath: a
 * child of ours unshares CLONE_NEWPID and forks the program.  Returns that
 * child, whose process group holds both (for fx_stop()); *outer is the
 * program's pid as we see it.
 */
pid_t fx_spawn_pidns(char *const argv[], char *const env_extra[],
		     const char *outpath, pid_t *outer);
/* A child that has exited and is not reaped yet (the caller reaps it). */
pid_t fx_zombie(void);
/* A pid that belonged to a child of ours which has been reaped. */
pid_t fx_vanished_pid(void);
/* The pid of kthreadd, the parent of every kernel thread, or 0. */
pid_t fx_kernel_thread(void);
/* Waits until something accepts on 127.0.0.1:port, up to timeout_ms. */
int fx_wait_port(int port, int timeout_ms);

/*
 * The start of the file at path (a spawned program's output) in buf,
 * NUL-terminated; "" when it cannot be read.  Returns buf.
 */
char *fx_read_file(const char *path, char *buf, size_t len);
/* 1 once the first 64 KiB of the file at path hold text, 0 after ms. */
int fx_wait_file(const char *path, const char *text, int ms);

/* LD_PRELOAD=<shim> as a static "KEY=VALUE" string for env_extra. */
const char *fx_preload_env(void);
/*
 * LD_PRELOAD naming the shim and a second copy of it, DIR/copy/libsockguard.so
 * (made by the first call), the copy first or after the shim; in buf.
 * Returns buf, or NULL when the copy cannot be made.
 */
const char *fx_preload_env_with_copy(const char *dir, int copy_first, char *buf,
				     size_t len);

/* A fresh private directory under $TMPDIR (or /tmp); path in buf. */
int fx_tempdir(char *buf, size_t len);
/* Removes a directory tree made by fx_tempdir(). */
void fx_rmtree(const char *path);

/*
 * The log receiver: a unix datagram socket bound at path, for the shim's
 * `log=unix:PATH`.  read returns one datagram (NUL-terminated, trailing
 * newline removed), 0 after timeout_ms without one, -1 on error.
 * collect appends every datagram, one per line, until none has come for
 * quiet_ms; it returns the number of lines.
 */
int fx_log_receiver_open(const char *path);
/* The same on the abstract socket @name (unix(7)), for `log=unix:@NAME`. */
int fx_log_receiver_open_abstract(const char *name);
ssize_t fx_log_receiver_read(int fd, char *buf, size_t len, int timeout_ms);
int fx_log_collect(int fd, char *buf, size_t len, int quiet_ms);

/*
 * The environment a suite runs its programs in, opened by its .init and
 * closed by its .fini: a fresh private directory; an empty policy file in
 * it, named by SOCKGUARD_CONFIG in every run with the shim, so that a host's
 * /etc/sockguard.conf cannot change an outcome; with FX_ENV_LOG, a log
 * receiver at DIR/log.sock that the shim logs to (without it, log=off).
 */
#define FX_ENV_LOG 1
#define FX_ENV_EXTRA 8

struct fx_env {
	char dir[256];		/* removed with everything in it by close */
	char conf[320];		/* DIR/empty.conf */
	char sock[320];		/* DIR/log.sock with FX_ENV_LOG, else "" */
	int log_fd;		/* the receiver, or -1 */
	char log[65536];	/* what fx_env_log() returns */
	/* The rest belongs to fx_env.c. */
	char extra[FX_ENV_EXTRA][512];
	char optenv[1024], confenv[400];
	char *plain[4 + FX_ENV_EXTRA], *shim[4 + FX_ENV_EXTRA];
};

int fx_env_open(struct fx_env *e, int flags);
void fx_env_close(struct fx_env *e);
/*
 * Adds "KEY=VALUE" (or a bare "KEY", unset) to the runs both with and
 * without the shim; a later entry for the same KEY replaces the earlier.
 */
int fx_env_put(struct fx_env *e, const char *entry);

/*
 * The env_extra of fx_run() and fx_spawn().  Without the shim, LD_PRELOAD,
 * SOCKGUARD_OPTIONS and SOCKGUARD_CONFIG are unset.  With it, LD_PRELOAD is
 * the shim, SOCKGUARD_CONFIG the empty policy, and SOCKGUARD_OPTIONS the
 * log destination followed by options (NULL for none); options that set
 * log= themselves replace the destination.  Unloaded is the same as with
 * the shim but for LD_PRELOAD, which it unsets: for a launcher (strace)
 * that preloads the shim further down, with env(1).  The arrays live in e,
 * one of each kind: the next call of the same kind overwrites it.
 */
char **fx_env_plain(struct fx_env *e);
char **fx_env_shim(struct fx_env *e, const char *options);
char **fx_env_unloaded(struct fx_env *e, const char *options);

/* The two sides a suite compares, and the words for its messages. */
enum fx_side { FX_PLAIN, FX_SHIM };
char **fx_env_side(struct fx_env *e, enum fx_side side, const char *options);
const char *fx_side_name(enum fx_side side);

/*
 * The log lines received since the last call, once none has come for
 * quiet_ms ("" without a receiver).
 */
const char *fx_env_log(struct fx_env *e, int quiet_ms);

/* The first line of lines holding the token class=cls, or NULL. */
const char *fx_log_find_class(const char *lines, const char *cls);
/* How many lines hold the token key=value ("class=reset"). */
int fx_log_count(const char *lines, const char *token);
/* Copies the value of key in one line into val; -1 if absent. */
int fx_log_field(const char *line, const char *key, char *val, size_t len);

#endif
