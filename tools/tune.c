/*
 * `sockguard tune [--dry-run] [--peer CIDR[:PORT]] [--state established|all]
 * -o KEY=VALUE... (PID... | --unit UNIT)`: sets keepalive, user_timeout,
 * sndbuf and rcvbuf on the open TCP sockets of running processes, whether
 * the shim is loaded in them or not (see sockguard(8)).
 *
 * Each socket is duplicated into this process with pidfd_getfd(2), changed
 * with setsockopt(2) on the duplicate (a duplicate shares the open file, so
 * the target's socket changes), and the duplicate is closed.  Nothing else
 * in the target changes: no signal, no ptrace stop, no descriptor of its own
 * is touched.  pidfd_getfd(2) needs ptrace attach rights over the target
 * (PTRACE_MODE_ATTACH_REALCREDS).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "preload.h"
#include "proc.h"
#include "shimproc.h"
#include "tools.h"

#define CMD "sockguard tune"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* The options tune can set, in the order of the table's columns. */
static const int tune_keys[] = {
	SG_KEY_KEEPALIVE, SG_KEY_USER_TIMEOUT, SG_KEY_SNDBUF, SG_KEY_RCVBUF
};
#define NKEYS (sizeof(tune_keys) / sizeof(tune_keys[0]))

struct tune_args {
	int dry_run;
	int all_states;			/* --state all */
	int have_peer;
	struct sg_cidr peer;		/* --peer */
	unsigned given;			/* bit i: tune_keys[i] given with -o */
	struct sg_sock_settings want;	/* their values */
	const char *unit;		/* --unit */
	char **pids;
	int npids;
};

/* What one socket has, as getsockopt(2) reports it. */
struct sock_opts {
	int keepalive, idle, intvl, cnt;
	int user_timeout, sndbuf, rcvbuf;
};

struct totals {
	size_t sockets, processes, failed;
	int header_done;
	int fatal;			/* the kernel lacks pidfd: stop */
};

static int usage(FILE *out, int status)
{
	fprintf(out, "usage: sockguard tune [--dry-run] [--peer CIDR[:PORT]] "
		"[--state established|all]\n"
		"                     -o KEY=VALUE... (PID... | --unit UNIT)\n"
		"KEY: keepalive (off, on, IDLE,INTVL,CNT), user_timeout (ms), "
		"sndbuf, rcvbuf (bytes)\n");
	return status;
}

/* Which entry of tune_keys the -o text names; -1 for any other key. */
static int tune_key_index(const char *kv)
{
	size_t n = strcspn(kv, "=");

	for (size_t i = 0; i < NKEYS; i++) {
		const char *name = sg_key_name(tune_keys[i]);
		if (strlen(name) == n && strncmp(name, kv, n) == 0)
			return (int)i;
	}
	return -1;
}

/* Parses the -o texts with the policy module, as SOCKGUARD_OPTIONS is. */
static int parse_values(const struct sg_opts *o, struct tune_args *a)
{
	struct sg_policy *p = malloc(sg_policy_storage_size());
	struct sg_problems *probs = calloc(1, sizeof(*probs));
	struct sg_settings s;
	int rc = -1;

	if (!p || !probs) {
		fprintf(stderr, CMD ": out of memory\n");
		goto out;
	}
	if (sg_opts_validate(o, CMD) < 0)
		goto out;
	sg_policy_init(p);
	if (sg_policy_parse_options(p, o->text, probs) < 0)
		goto out;
	sg_policy_for_program(p, "", "", &s, NULL);
	a->want = s.sock;
	rc = 0;
out:
	free(probs);
	free(p);
	return rc;
}

/* Checks one -o KEY=VALUE: a key tune sets, and a value it can apply. */
static int add_option(struct sg_opts *o, struct tune_args *a, const char *kv)
{
	int i = tune_key_index(kv);

	if (sg_opts_add(o, CMD, kv) < 0)
		return -1;
	if (i < 0) {
		fprintf(stderr, CMD ": -o %.*s: tune sets only keepalive, "
			"user_timeout, sndbuf and rcvbuf on open sockets\n",
			(int)strcspn(kv, "="), kv);
		return -1;
	}
	if ((tune_keys[i] == SG_KEY_SNDBUF || tune_keys[i] == SG_KEY_RCVBUF) &&
	    strcmp(strchr(kv, '=') + 1, "0") == 0) {
		fprintf(stderr, CMD ": -o %s: the kernel's default size cannot "
			"be given back to an open socket; name a size in bytes\n", kv);
		return -1;
	}
	a->given |= 1u << i;
	return 0;
}

static int parse_state(const char *v, struct tune_args *a)
{
	if (strcmp(v, "established") == 0 || strcmp(v, "all") == 0) {
		a->all_states = strcmp(v, "all") == 0;
		return 0;
	}
	fprintf(stderr, CMD ": --state '%s': expected established or all\n", v);
	return -1;
}

static int parse_peer(const char *v, struct tune_args *a)
{
	char why[256];

	if (sg_cidr_parse_text(v, &a->peer, why, sizeof(why)) < 0) {
		fprintf(stderr, CMD ": --peer: %s\n", why);
		return -1;
	}
	a->have_peer = 1;
	return 0;
}

/* One option that takes a value; returns 1 when argv[*i] was one of them. */
static int value_option(int argc, char **argv, int *i, struct sg_opts *o,
			struct tune_args *a, int *bad)
{
	static const char *const names[] = { "-o", "--peer", "--state", "--unit" };
	const char *arg = argv[*i];
	int k;

	for (k = 0; k < 4 && strcmp(arg, names[k]) != 0; k++)
		;
	if (k == 4)
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, CMD ": %s needs a value\n", arg);
		*bad = 1;
		return 1;
	}
	const char *v = argv[++*i];
	if (k == 0)
		*bad = add_option(o, a, v) < 0;
	else if (k == 1)
		*bad = parse_peer(v, a) < 0;
	else if (k == 2)
		*bad = parse_state(v, a) < 0;
	else
		a->unit = v;
	return 1;
}

static int parse_args(int argc, char **argv, struct tune_args *a)
{
	struct sg_opts o = { 0 };
	int i, bad = 0;
	pid_t pid;

	for (i = 1; !bad && i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			a->dry_run = 1;
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (!value_option(argc, argv, &i, &o, a, &bad)) {
			fprintf(stderr, CMD ": unknown option '%s'\n", argv[i]);
			bad = 1;
		}
	}
	a->pids = argv + i;
	a->npids = argc - i;
	for (int k = 0; !bad && k < a->npids; k++)
		if (sg_parse_pid(a->pids[k], &pid) < 0) {
			fprintf(stderr, CMD ": '%s' is not a process id\n", a->pids[k]);
			bad = 1;
		}
	if (!bad && !a->given) {
		fprintf(stderr, CMD ": nothing to set: give -o KEY=VALUE\n");
		bad = 1;
	}
	if (!bad && (a->npids > 0) == (a->unit != NULL)) {
		fprintf(stderr, CMD ": name process ids or --unit UNIT (one of the two)\n");
		bad = 1;
	}
	if (!bad)
		bad = parse_values(&o, a) < 0;
	sg_opts_free(&o);
	return bad ? -1 : 0;
}

/*
 * Socket options
 */

static int get_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	return getsockopt(fd, level, name, &v, &len) == 0 ? v : -1;
}

static void read_opts(int fd, struct sock_opts *o)
{
	o->keepalive = get_int(fd, SOL_SOCKET, SO_KEEPALIVE);
	o->idle = get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE);
	o->intvl = get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL);
	o->cnt = get_int(fd, IPPROTO_TCP, TCP_KEEPCNT);
	o->user_timeout = get_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT);
	o->sndbuf = get_int(fd, SOL_SOCKET, SO_SNDBUF);
	o->rcvbuf = get_int(fd, SOL_SOCKET, SO_RCVBUF);
}

/* What the options would be after tune: for --dry-run. */
static void predict(const struct tune_args *a, const struct sock_opts *before,
		    struct sock_opts *after)
{
	const struct sg_sock_settings *w = &a->want;

	*after = *before;
	if (a->given & 1u) {
		after->keepalive = w->keepalive != SG_KEEPALIVE_OFF;
		if (w->keepalive == SG_KEEPALIVE_CUSTOM) {
			after->idle = (int)w->keepalive_idle;
			after->intvl = (int)w->keepalive_intvl;
			after->cnt = (int)w->keepalive_cnt;
		}
	}
	if (a->given & 2u)
		after->user_timeout = (int)w->user_timeout_ms;
	if (a->given & 4u)
		after->sndbuf = (int)w->sndbuf;
	if (a->given & 8u)
		after->rcvbuf = (int)w->rcvbuf;
}

static int set_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v)) == 0 ? 0 : -errno;
}

/*
 * Applies the options to fd.  The keepalive times go first: turning
 * SO_KEEPALIVE on arms the timer with the idle time then in force (tcp(7)).
 */
static int apply(const struct tune_args *a, int fd)
{
	const struct sg_sock_settings *w = &a->want;
	int rc = 0;

	if ((a->given & 1u) && w->keepalive == SG_KEEPALIVE_CUSTOM) {
		rc = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)w->keepalive_idle);
		if (rc == 0)
			rc = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, (int)w->keepalive_intvl);
		if (rc == 0)
			rc = set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, (int)w->keepalive_cnt);
	}
	if (rc == 0 && (a->given & 1u))
		rc = set_int(fd, SOL_SOCKET, SO_KEEPALIVE,
			     w->keepalive != SG_KEEPALIVE_OFF);
	if (rc == 0 && (a->given & 2u))
		rc = set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, (int)w->user_timeout_ms);
	if (rc == 0 && (a->given & 4u))
		rc = set_int(fd, SOL_SOCKET, SO_SNDBUF, (int)w->sndbuf);
	if (rc == 0 && (a->given & 8u))
		rc = set_int(fd, SOL_SOCKET, SO_RCVBUF, (int)w->rcvbuf);
	return rc;
}

/*
 * Output
 */

static void format_opt(const struct sock_opts *o, size_t key, char *buf,
		       size_t len)
{
	if (key == 0 && o->keepalive == 0)
		snprintf(buf, len, "off");
	else if (key == 0)
		snprintf(buf, len, "%d,%d,%d", o->idle, o->intvl, o->cnt);
	else
		snprintf(buf, len, "%d", key == 1 ? o->user_timeout :
			 key == 2 ? o->sndbuf : o->rcvbuf);
}

static void print_header(const struct tune_args *a, struct totals *t)
{
	static const char *const heads[NKEYS] = {
		"KEEPALIVE", "USER_TIMEOUT", "SNDBUF", "RCVBUF"
	};

	if (t->header_done++)
		return;
	printf("%7s %5s  %-23s %-23s %-11s", "PID", "FD", "LOCAL", "PEER", "STATE");
	for (size_t k = 0; k < NKEYS; k++)
		if (a->given & (1u << k))
			printf("  %-*s", a->given >> (k + 1) ? 24 : 0, heads[k]);
	printf("\n");
}

static void print_row(const struct tune_args *a, struct totals *t, pid_t pid,
		      int fd, const struct sg_inet_sock *s,
		      const struct sock_opts *before, const struct sock_opts *after,
		      int err)
{
	char local[64], peer[64], b[32], f[32], cell[80];

	print_header(a, t);
	sg_format_sockaddr(&s->local, local, sizeof(local));
	sg_format_sockaddr(&s->peer, peer, sizeof(peer));
	printf("%7d %5d  %-23s %-23s %-11s", (int)pid, fd, local, peer,
	       sg_tcp_state_name(s->state));
	for (size_t k = 0; !err && k < NKEYS; k++) {
		if (!(a->given & (1u << k)))
			continue;
		format_opt(before, k, b, sizeof(b));
		format_opt(after, k, f, sizeof(f));
		snprintf(cell, sizeof(cell), "%s -> %s", b, f);
		printf("  %-*s", a->given >> (k + 1) ? 24 : 0, cell);
	}
	if (err)
		printf("  error: %s", strerror(-err));
	printf("\n");
}

/*
 * One process
 */

struct pid_ctx {
	const struct tune_args *a;
	struct totals *t;
	pid_t pid;
	int pidfd;
	const struct sg_sock_table *tab;
	size_t done;
};

static int wanted(const struct tune_args *a, const struct sg_inet_sock *s)
{
	if (!s || s->proto != IPPROTO_TCP)
		return 0;
	if (!a->all_states && s->state != 1)
		return 0;
	return !a->have_peer ||
	       sg_cidr_match(&a->peer, (const struct sockaddr *)&s->peer,
			     sizeof(s->peer));
}

/* Changes one socket through its duplicate dup. */
static void tune_socket(struct pid_ctx *c, int fd, int dup,
			const struct sg_inet_sock *s)
{
	struct sock_opts before, after;
	int err = 0;

	read_opts(dup, &before);
	if (c->a->dry_run) {
		predict(c->a, &before, &after);
	} else {
		err = apply(c->a, dup);
		read_opts(dup, &after);
	}
	print_row(c->a, c->t, c->pid, fd, s, &before, &after, err);
	c->t->failed += err != 0;
	c->done += err == 0;
}

static int tune_fd(void *ctx, int fd, const char *link)
{
	struct pid_ctx *c = ctx;
	struct stat st;
	uint64_t inode;

	if (sg_fd_socket_inode(link, &inode) < 0)
		return 0;
	const struct sg_inet_sock *s = sg_sock_table_find(c->tab, inode);
	if (!wanted(c->a, s))
		return 0;
	int dup = (int)syscall(SYS_pidfd_getfd, c->pidfd, fd, 0);
	if (dup < 0)
		return errno == EBADF ? 0 : -errno;	/* EBADF: closed meanwhile */
	/* The number may have been closed and reused since /proc was read. */
	if (fstat(dup, &st) == 0 && (uint64_t)st.st_ino == inode)
		tune_socket(c, fd, dup, s);
	close(dup);
	return 0;
}

static void pid_failed(struct totals *t, pid_t pid, const char *why)
{
	fprintf(stderr, CMD ": %d: %s\n", (int)pid, why);
	t->failed++;
}

static const char *getfd_error(int err)
{
	if (err == -EPERM || err == -EACCES)
		return "permission denied: pidfd_getfd(2) needs ptrace attach "
		       "rights over it (root with all of its capabilities, or "
		       "its own user where kernel.yama.ptrace_scope allows)";
	return sg_proc_strerror(err);
}

/* Opens a pidfd; -errno, with the kernel's lack of one made fatal. */
static int open_pidfd(struct totals *t, pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (pidfd >= 0)
		return pidfd;
	if (errno == ENOSYS) {
		fprintf(stderr, CMD ": this kernel has no pidfd_open(2) "
			"(Linux 5.3 or later is needed): open sockets of "
			"other processes cannot be changed\n");
		t->fatal = 1;
	}
	return -errno;
}

static void tune_walk(const struct tune_args *a, struct totals *t, pid_t pid,
		      int pidfd)
{
	struct sg_sock_table tab;
	struct pid_ctx c = { a, t, pid, pidfd, &tab, 0 };
	int rc = sg_sock_table_read(pid, 0, &tab);

	if (rc == 0)
		rc = sg_proc_each_fd(pid, tune_fd, &c);
	sg_sock_table_free(&tab);
	if (rc == -ENOSYS) {
		fprintf(stderr, CMD ": this kernel has no pidfd_getfd(2) "
			"(Linux 5.6 or later is needed): open sockets of "
			"other processes cannot be changed\n");
		t->fatal = 1;
		t->failed++;
	} else if (rc < 0) {
		pid_failed(t, pid, getfd_error(rc));
	}
	t->sockets += c.done;
	t->processes += c.done > 0;
}

static void tune_pid(const struct tune_args *a, struct totals *t, pid_t pid)
{
	struct sg_proc p;
	const char *why;
	int rc = sg_proc_read(pid, &p);

	if (rc < 0)
		return pid_failed(t, pid, sg_proc_strerror(rc));
	if ((why = sg_proc_unusable(&p)) != NULL)
		return pid_failed(t, pid, why);
	int pidfd = open_pidfd(t, pid);
	if (pidfd < 0) {
		if (!t->fatal)
			pid_failed(t, pid, sg_proc_strerror(pidfd));
		return;
	}
	tune_walk(a, t, pid, pidfd);
	close(pidfd);
}

static void print_total(const struct tune_args *a, const struct totals *t)
{
	if (t->sockets == 0 && t->failed > 0)
		return;		/* the reasons are on stderr, one per pid */
	if (t->sockets == 0) {
		printf("no %sTCP socket matched%s\n",
		       a->all_states ? "" : "established ",
		       a->have_peer ? " --peer" : "");
		return;
	}
	printf("%s %zu socket%s in %zu process%s%s\n",
	       a->dry_run ? "would change" : "changed", t->sockets,
	       t->sockets == 1 ? "" : "s", t->processes,
	       t->processes == 1 ? "" : "es",
	       a->dry_run ? " (--dry-run: nothing was changed)" : "");
}

/* The pids of --unit, or those named; NULL after printing why. */
static pid_t *target_pids(const struct tune_args *a, size_t *n)
{
	char why[512];
	pid_t *pids = NULL;

	if (a->unit) {
		if (sg_unit_pids(a->unit, &pids, n, why, sizeof(why)) < 0) {
			fprintf(stderr, CMD ": --unit %s\n", why);
			return NULL;
		}
		if (*n == 0)
			fprintf(stderr, CMD ": --unit %s: no process\n", a->unit);
		return pids;
	}
	pids = calloc((size_t)a->npids + 1, sizeof(*pids));
	for (int i = 0; pids && i < a->npids; i++)
		sg_parse_pid(a->pids[i], &pids[i]);
	*n = (size_t)a->npids;
	return pids;
}

int sg_cmd_tune(int argc, char **argv)
{
	struct tune_args a = { 0 };
	struct totals t = { 0 };
	size_t n = 0;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return usage(stdout, 0);
	if (parse_args(argc, argv, &a) < 0)
		return usage(stderr, 2);
	pid_t *pids = target_pids(&a, &n);
	if (!pids)
		return 1;
	for (size_t i = 0; i < n && !t.fatal; i++)
		tune_pid(&a, &t, pids[i]);
	free(pids);
	if (!t.fatal)
		print_total(&a, &t);
	return t.failed || n == 0 ? 1 : 0;
}
