/*
 * `sockguard set (PID... | --unit UNIT) KEY=VALUE... | --reset`: changes the
 * settings of processes running with the shim, without a restart
 * (sockguard(8), "set").
 *
 * The values are parsed with the policy's own parser.  For each process the
 * tool reads its exported sockguard_live block (policy/live.h), merges the
 * new keys into those of the newest slot (or clears them for --reset), and
 * writes the other slot with process_vm_writev(2) in three writes (sequence
 * count odd; keys, generation and values; sequence count even), then points
 * `current` at it.  The process adopts the new generation at its next new
 * socket or network error, and says so in one log line.  Runs of `set` on
 * one host are serialised by a lock, so that two never write one slot at
 * once.  Reading and writing another process's memory needs the same right
 * as ptrace(2): root, or the process's own user where Yama allows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "escape.h"
#include "proc.h"
#include "shimproc.h"
#include "tools.h"

#define CMD "sockguard set"
#define LOCK_DIR "/run/sockguard"
#define LOCK_FILE "set.lock"
/* How long set waits for another run's lock, and for adoption. */
#define LOCK_WAIT_MS 5000
#define ADOPT_WAIT_MS 300

struct set_args {
	int reset;
	uint32_t keys;			/* bit per enum sg_key given */
	struct sg_settings vals;	/* their values */
	const char *unit;
	pid_t *pids;
	size_t npids;
};

/* One process written: what the report line says about it. */
struct written {
	pid_t pid;
	pid_t nspid;			/* its own pid, in another PID namespace */
	char comm[32];
	uint64_t generation;
	uint64_t counters;		/* address of its counter block */
};

static int usage(FILE *out, int status)
{
	fprintf(out, "usage: sockguard set (PID... | --unit UNIT) KEY=VALUE...\n"
		"       sockguard set (PID... | --unit UNIT) --reset\n"
		"KEY: mode, eintr, eintr_pass, eagain, eagain_wait, accept, "
		"accept_emfile, retry_max,\n"
		"     log_events, log_burst, log_interval, log_max, "
		"log_summary_interval,\n"
		"     keepalive, user_timeout, connect_timeout, sndbuf, rcvbuf "
		"(new sockets)\n");
	return status;
}

/*
 * One KEY=VALUE: parsed as the policy parses it, refused keys by name.  The
 * message says all there is to say: no usage follows it.
 */
static int add_pair(struct set_args *a, const char *text)
{
	char why[SG_PROBLEM_LEN];
	int key;

	if (sg_settings_parse_pair(text, &key, &a->vals, why, sizeof(why)) < 0) {
		fprintf(stderr, CMD ": %s\n", sg_esc_arg(0, why));
		return -1;
	}
	if (sg_key_live_refusal(key)) {
		fprintf(stderr, CMD ": %s cannot change while the process runs: "
			"%s\n", sg_key_name(key), sg_key_live_refusal(key));
		return -1;
	}
	a->keys |= 1u << key;
	return 0;
}

static int add_pid(struct set_args *a, const char *text, size_t room)
{
	pid_t pid;

	if (sg_parse_pid(text, &pid) < 0) {
		fprintf(stderr, CMD ": '%s' is neither a process id nor "
			"KEY=VALUE\n", sg_esc_arg(0, text));
		return -1;
	}
	if (!a->pids && !(a->pids = calloc(room, sizeof(*a->pids)))) {
		fprintf(stderr, CMD ": out of memory\n");
		return -1;
	}
	a->pids[a->npids++] = pid;
	return 0;
}

static int parse_arg(struct set_args *a, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];

	if (strcmp(arg, "--reset") == 0) {
		a->reset = 1;
		return 0;
	}
	if (strcmp(arg, "--unit") == 0) {
		if (*i + 1 >= argc || a->unit) {
			fprintf(stderr, CMD ": --unit takes one UNIT\n");
			return -1;
		}
		a->unit = argv[++*i];
		return 0;
	}
	if (arg[0] == '-') {
		fprintf(stderr, CMD ": unknown option '%s'\n", sg_esc_arg(0, arg));
		return -1;
	}
	if (strchr(arg, '='))
		return add_pair(a, arg) < 0 ? -2 : 0;
	return add_pid(a, arg, (size_t)argc);
}

static int parse_args(int argc, char **argv, struct set_args *a)
{
	sg_settings_default(&a->vals);
	for (int i = 1; i < argc; i++) {
		int rc = parse_arg(a, argc, argv, &i);
		if (rc < 0)
			return rc;
	}
	if ((a->npids > 0) == (a->unit != NULL)) {
		fprintf(stderr, CMD ": name process ids or --unit UNIT (one of the two)\n");
		return -1;
	}
	if (a->reset == (a->keys != 0)) {
		fprintf(stderr, CMD ": give KEY=VALUE... or --reset (one of the two)\n");
		return -1;
	}
	return 0;
}

/*
 * The lock that serialises runs: LOCK_DIR/LOCK_FILE for root (the directory
 * made 0700 if missing), $XDG_RUNTIME_DIR/sockguard-set.lock for another
 * user, who can only write processes of its own.  Returns the descriptor,
 * -2 when there is no place for a user's lock (then none is taken), or -1
 * after saying why.
 */
static int open_lock(char *path, size_t len)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (geteuid() == 0) {
		if (mkdir(LOCK_DIR, 0700) < 0 && errno != EEXIST) {
			fprintf(stderr, CMD ": " LOCK_DIR ": %s\n", strerror(errno));
			return -1;
		}
		if (lstat(LOCK_DIR, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0) {
			fprintf(stderr, CMD ": " LOCK_DIR " is not a directory owned "
				"by root: no lock taken there\n");
			return -1;
		}
		snprintf(path, len, LOCK_DIR "/" LOCK_FILE);
	} else if (run && run[0] == '/' && stat(run, &st) == 0 &&
		   S_ISDIR(st.st_mode) && st.st_uid == geteuid()) {
		snprintf(path, len, "%s/sockguard-set.lock", run);
	} else {
		return -2;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		fprintf(stderr, CMD ": %s: %s\n", sg_esc_arg(0, path), strerror(errno));
	return fd;
}

static int take_lock(void)
{
	char path[4096];
	int fd = open_lock(path, sizeof(path));

	if (fd < 0)
		return fd == -2 ? -2 : -1;
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 20) {
		if (errno != EWOULDBLOCK || waited >= LOCK_WAIT_MS) {
			fprintf(stderr, CMD ": %s: %s\n", sg_esc_arg(0, path),
				errno == EWOULDBLOCK ? "held by another run of "
				"sockguard set for 5 s" : strerror(errno));
			close(fd);
			return -1;
		}
		usleep(20000);
	}
	return fd;
}

static int fail(pid_t pid, const char *why)
{
	fprintf(stderr, CMD ": %d: %s\n", (int)pid, why);
	return -1;
}

static const char *write_error(int err)
{
	if (err == EPERM || err == EACCES)
		return "permission denied: writing its memory needs ptrace(2) "
		       "rights over it (root, or the process's own user where "
		       "kernel.yama.ptrace_scope allows)";
	if (err == ESRCH)
		return "no such process (it exited)";
	return strerror(err);
}

static int write_at(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EFAULT;
}

/* The slot the process will adopt: the newest one with the change on top. */
static void next_slot(const struct set_args *a, const struct sg_live *b,
		      struct sg_live_slot *s)
{
	const struct sg_live_slot *cur = &b->slot[b->current & 1];
	uint32_t seq = b->slot[(b->current & 1) ^ 1].seq;
	uint64_t g0 = b->slot[0].generation, g1 = b->slot[1].generation;

	s->seq = seq + 1 + (seq & 1);	/* odd: being written */
	s->generation = (g0 > g1 ? g0 : g1) + 1;
	if (a->reset) {
		s->keys = 0;
		sg_settings_default(&s->vals);
		return;
	}
	s->keys = cur->keys;
	s->vals = cur->vals;
	/* What another hand wrote there and the shim refused is not kept. */
	for (int bad; (bad = sg_settings_check_live(s->keys, &s->vals)) >= 0;)
		s->keys &= bad < SG_KEY_COUNT ? ~(1u << bad) : (1u << SG_KEY_COUNT) - 1;
	s->keys |= a->keys;
	sg_settings_apply(&s->vals, a->keys, &a->vals);
}

/*
 * Writes the slot that is not current, in the order the shim's sequence
 * count expects, then makes it current.  Each process_vm_writev(2) is a
 * system call of its own, finished before the next one starts.
 */
static int write_block(pid_t pid, uint64_t addr, const struct sg_live *b,
		       const struct sg_live_slot *s)
{
	uint32_t next = b->current + 1;
	uint64_t at = addr + offsetof(struct sg_live, slot) +
		      (next & 1) * sizeof(*s);
	uint32_t even = s->seq + 1;
	size_t body = offsetof(struct sg_live_slot, keys);
	int rc = write_at(pid, at, &s->seq, sizeof(s->seq));

	if (rc == 0)
		rc = write_at(pid, at + body, (const char *)s + body,
			      sizeof(*s) - body);
	if (rc == 0)
		rc = write_at(pid, at, &even, sizeof(even));
	if (rc == 0)
		rc = write_at(pid, addr + offsetof(struct sg_live, current),
			      &next, sizeof(next));
	return rc;
}

/* Finds and checks the blocks of pid; fills w. */
static int inspect(pid_t pid, struct written *w, uint64_t *live)
{
	struct sg_shim_proc *sp = calloc(1, sizeof(*sp));
	struct sg_proc p;
	const char *why;
	int rc = sg_proc_read(pid, &p);

	if (!sp)
		return fail(pid, "out of memory");
	if (rc == 0 && (why = sg_proc_unusable(&p)) != NULL)
		rc = fail(pid, why);
	else if (rc < 0)
		rc = fail(pid, sg_proc_strerror(rc));
	else if ((rc = sg_shim_inspect(pid, sp)) == 0)
		rc = fail(pid, SG_SHIM_LIB_NAME " is not loaded: only a process "
			  "running with the shim has settings to change "
			  "(sockguard tune changes the open sockets of any process)");
	else if (rc < 0)
		rc = fail(pid, sg_proc_strerror(rc));
	else if (!sp->readable)
		rc = fail(pid, sp->why);
	else if (!(sp->c.flags & SG_PROC_LIVE))
		rc = fail(pid, sp->c.mode == SG_MODE_OFF ?
			  "the shim is inert in it (mode=off when it started): "
			  "it takes no live settings; restart it with another mode" :
			  "its shim takes no live settings (a build older than "
			  "this tool): restart it with this one");
	else if ((rc = sg_shim_block_address(pid, SG_COUNTERS_SYMBOL,
					     &w->counters)) < 0 ||
		 (rc = sg_shim_block_address(pid, SG_LIVE_SYMBOL, live)) < 0)
		rc = fail(pid, rc == -ENOENT ? "its library has no " SG_LIVE_SYMBOL
			  " block (another version of the shim)" : strerror(-rc));
	if (rc >= 0) {
		w->pid = pid;
		w->nspid = p.nspid;
		snprintf(w->comm, sizeof(w->comm), "%s", sp->comm);
	}
	free(sp);
	return rc < 0 ? -1 : 0;
}

/* Writes the change into one process; 0, or -1 after saying why. */
static int set_pid(const struct set_args *a, pid_t pid, struct written *w)
{
	struct sg_live b;
	struct sg_live_slot s;
	uint64_t live;
	int rc;

	if (inspect(pid, w, &live) < 0)
		return -1;
	if ((rc = sg_shim_read(pid, live, &b, sizeof(b))) < 0)
		return fail(pid, write_error(-rc));
	if (!sg_live_block_ok(&b))
		return fail(pid, "its " SG_LIVE_SYMBOL " block is of another "
			    "version of the shim");
	next_slot(a, &b, &s);
	if ((rc = write_block(pid, live, &b, &s)) < 0)
		return fail(pid, write_error(-rc));
	w->generation = s.generation;
	return 0;
}

/* The generation pid has adopted, or 0 when its counters cannot be read. */
static uint64_t adopted(const struct written *w)
{
	struct sg_counters c;

	if (sg_shim_read(w->pid, w->counters, &c, sizeof(c)) < 0)
		return 0;
	return c.generation;
}

/* Waits a little for the processes to adopt; bit i set: w[i] did. */
static void wait_adopted(const struct written *w, size_t n, unsigned char *done)
{
	size_t left = n;

	for (int waited = 0; left > 0; waited += 20) {
		for (size_t i = 0; i < n; i++) {
			if (!done[i] && adopted(&w[i]) >= w[i].generation) {
				done[i] = 1;
				left--;
			}
		}
		if (left == 0 || waited >= ADOPT_WAIT_MS)
			return;
		usleep(20000);
	}
}

static void print_change(const struct set_args *a)
{
	char val[1024];

	if (a->reset) {
		printf(" back to its policy's settings");
		return;
	}
	for (int k = 0; k < SG_KEY_COUNT; k++) {
		if (!(a->keys & (1u << k)))
			continue;
		sg_settings_format(&a->vals, k, val, sizeof(val));
		printf(" %s=%s", sg_key_name(k), val);
	}
}

static void report(const struct set_args *a, const struct written *w, size_t n,
		   const unsigned char *done)
{
	char comm[SG_ESC_TEXT_SIZE(32)];

	for (size_t i = 0; i < n; i++) {
		printf("%d", (int)w[i].pid);
		if (w[i].nspid)
			printf(" (pid %d in its PID namespace)", (int)w[i].nspid);
		printf(" %s: generation %" PRIu64 " %s:",
		       sg_esc_str(comm, sizeof(comm), w[i].comm), w[i].generation,
		       done[i] ? "adopted" : "written, adopted at its next new "
		       "socket or network error");
		print_change(a);
		putchar('\n');
	}
}

/* The pids of --unit, or those named; NULL after saying why. */
static pid_t *target_pids(struct set_args *a, size_t *n)
{
	char why[512];
	pid_t *pids = NULL;

	if (!a->unit) {
		*n = a->npids;
		pids = a->pids;
		a->pids = NULL;
		return pids;
	}
	if (sg_unit_pids(a->unit, &pids, n, why, sizeof(why)) < 0) {
		fprintf(stderr, CMD ": --unit %s\n", why);
		return NULL;
	}
	if (*n == 0)
		fprintf(stderr, CMD ": --unit %s: no process\n",
			sg_esc_arg(0, a->unit));
	return pids;
}

/* Writes every process under the lock; returns how many failed. */
static size_t set_all(const struct set_args *a, const pid_t *pids, size_t n,
		      struct written *w, size_t *nw)
{
	size_t failed = 0;
	int lock = take_lock();

	if (lock == -1)
		return n;
	for (size_t i = 0; i < n; i++) {
		if (set_pid(a, pids[i], &w[*nw]) == 0)
			(*nw)++;
		else
			failed++;
	}
	if (lock >= 0)
		close(lock);
	return failed;
}

int sg_cmd_set(int argc, char **argv)
{
	struct set_args a = { 0 };
	size_t n = 0, nw = 0, failed;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return usage(stdout, 0);
	int rc = parse_args(argc, argv, &a);
	if (rc < 0) {
		free(a.pids);
		return rc == -2 ? 2 : usage(stderr, 2);
	}
	pid_t *pids = target_pids(&a, &n);
	struct written *w = calloc(n + 1, sizeof(*w));
	unsigned char *done = calloc(n + 1, 1);
	if (!pids || !w || !done) {
		failed = 1;
		goto out;
	}
	failed = set_all(&a, pids, n, w, &nw);
	wait_adopted(w, nw, done);
	report(&a, w, nw, done);
out:
	free(done);
	free(w);
	free(pids);
	free(a.pids);
	return failed || n == 0 ? 1 : 0;
}
