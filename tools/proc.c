/*
 * Reading /proc for `sockguard tune` and `sockguard audit` (see proc.h).
 * Everything read here may change or vanish while it is read: a process can
 * exit, a descriptor can be closed and its number reused.  Callers check
 * what they act on again (tune compares the inode of the descriptor it got).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "shimproc.h"

/* PF_KTHREAD of include/linux/sched.h, the flags field of /proc/PID/stat. */
#define SG_PF_KTHREAD 0x00200000u
/* How deep the unit search goes below the cgroup root. */
#define SG_CGROUP_DEPTH 12

/* Reads a small /proc file whole (NUL-terminated); bytes read or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	return n;
}

/* "pid (comm) S ppid pgrp session tty tpgid flags ...": comm may hold ')'. */
static int parse_stat(const char *text, struct sg_proc *p)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	unsigned flags = 0;

	if (!open || !close || close < open || close[1] != ' ' || !close[2])
		return -EIO;
	size_t n = (size_t)(close - open - 1);
	if (n >= sizeof(p->comm))
		n = sizeof(p->comm) - 1;
	memcpy(p->comm, open + 1, n);
	p->comm[n] = '\0';
	p->state = close[2];
	if (sscanf(close + 3, "%*d %*d %*d %*d %*d %u", &flags) != 1)
		return -EIO;
	p->kthread = (flags & SG_PF_KTHREAD) != 0;
	return 0;
}

/* The entries of the NSpid: line of a status file; the last one in *last. */
static int nspid_entries(const char *status, pid_t *last)
{
	const char *line = strstr(status, "\nNSpid:");
	int count = 0;
	long v;

	if (!line)
		return 0;
	line += 7;
	for (char *end; (v = strtol(line, &end, 10)) > 0 && end != line; line = end) {
		*last = (pid_t)v;
		count++;
	}
	return count;
}

/* A process deeper in the PID namespace tree than we are has more entries. */
static void read_nspid(struct sg_proc *p)
{
	static char mine[4096], theirs[4096];
	char name[64];
	pid_t last = 0, own = 0;

	snprintf(name, sizeof(name), "/proc/%d/status", (int)p->pid);
	if (read_small(name, theirs, sizeof(theirs)) < 0 ||
	    read_small("/proc/self/status", mine, sizeof(mine)) < 0)
		return;
	if (nspid_entries(theirs, &last) > nspid_entries(mine, &own))
		p->nspid = last;
}

int sg_proc_read(pid_t pid, struct sg_proc *p)
{
	char name[64], text[1024];

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(name, sizeof(name), "/proc/%d/stat", (int)pid);
	ssize_t n = read_small(name, text, sizeof(text));
	if (n == -ENOENT || n == 0)
		return -ESRCH;
	if (n < 0)
		return (int)n;
	int rc = parse_stat(text, p);
	if (rc == 0)
		read_nspid(p);
	return rc;
}

const char *sg_proc_unusable(const struct sg_proc *p)
{
	if (p->state == 'Z' || p->state == 'X')
		return "is a zombie: it has exited and holds no descriptors "
		       "(its parent has not reaped it yet)";
	if (p->kthread)
		return "is a kernel thread: it has no user-space sockets";
	return NULL;
}

const char *sg_proc_strerror(int err)
{
	if (err == -ESRCH || err == -ENOENT)
		return "no such process";
	if (err == -EACCES || err == -EPERM)
		return "permission denied: looking at another user's process "
		       "needs ptrace(2) rights over it (run as root)";
	return strerror(-err);
}

/* The hex words of /proc/net/tcp are the address's bytes read as ints. */
static int parse_hex_addr(const char *hex, int family, struct sockaddr_storage *ss,
			  unsigned port)
{
	size_t words = family == AF_INET ? 1 : 4;
	uint32_t w[4];
	char part[9];

	if (strlen(hex) != words * 8)
		return -1;
	for (size_t i = 0; i < words; i++) {
		memcpy(part, hex + i * 8, 8);
		part[8] = '\0';
		w[i] = (uint32_t)strtoul(part, NULL, 16);
	}
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		memcpy(&in->sin_addr, w, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		memcpy(&in6->sin6_addr, w, 16);
	}
	return 0;
}

static int parse_sock_line(const char *line, int family, int proto,
			   struct sg_inet_sock *s)
{
	char local[40], peer[40];
	unsigned lport, pport, state;
	uint64_t inode;

	if (sscanf(line, " %*d: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*s %*s "
		   "%*s %*s %*s %" SCNu64, local, &lport, peer, &pport, &state,
		   &inode) != 6 || inode == 0)
		return -1;
	if (parse_hex_addr(local, family, &s->local, lport) < 0 ||
	    parse_hex_addr(peer, family, &s->peer, pport) < 0)
		return -1;
	s->inode = inode;
	s->proto = (uint8_t)proto;
	s->state = (uint8_t)state;
	return 0;
}

static int table_grow(struct sg_sock_table *t, size_t *cap)
{
	if (t->n < *cap)
		return 0;
	size_t want = *cap ? *cap * 2 : 64;
	struct sg_inet_sock *v = realloc(t->v, want * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->v = v;
	*cap = want;
	return 0;
}

/* Appends the sockets of one /proc/PID/net file; a missing file is empty. */
static int read_net_file(pid_t pid, const char *file, int family, int proto,
			 struct sg_sock_table *t, size_t *cap)
{
	char name[64], line[512];
	int rc = 0;

	snprintf(name, sizeof(name), "/proc/%d/net/%s", (int)pid, file);
	FILE *f = fopen(name, "re");
	if (!f)
		return errno == ENOENT && family == AF_INET6 ? 0 : -errno;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		if ((rc = table_grow(t, cap)) == 0 &&
		    parse_sock_line(line, family, proto, &t->v[t->n]) == 0)
			t->n++;
	}
	fclose(f);
	return rc;
}

static int inode_order(const void *a, const void *b)
{
	const struct sg_inet_sock *x = a, *y = b;

	return (x->inode > y->inode) - (x->inode < y->inode);
}

int sg_sock_table_read(pid_t pid, int udp, struct sg_sock_table *t)
{
	static const struct {
		const char *file;
		int family, proto;
	} files[] = {
		{ "tcp", AF_INET, IPPROTO_TCP }, { "tcp6", AF_INET6, IPPROTO_TCP },
		{ "udp", AF_INET, IPPROTO_UDP }, { "udp6", AF_INET6, IPPROTO_UDP },
	};
	size_t cap = 0, count = udp ? 4 : 2;
	int rc = 0;

	t->v = NULL;
	t->n = 0;
	for (size_t i = 0; rc == 0 && i < count; i++)
		rc = read_net_file(pid, files[i].file, files[i].family,
				   files[i].proto, t, &cap);
	if (rc < 0) {
		sg_sock_table_free(t);
		return rc == -ENOENT ? -ESRCH : rc;
	}
	qsort(t->v, t->n, sizeof(*t->v), inode_order);
	return 0;
}

const struct sg_inet_sock *sg_sock_table_find(const struct sg_sock_table *t,
					      uint64_t inode)
{
	struct sg_inet_sock key = { .inode = inode };

	if (t->n == 0)
		return NULL;
	return bsearch(&key, t->v, t->n, sizeof(*t->v), inode_order);
}

void sg_sock_table_free(struct sg_sock_table *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

int sg_proc_each_fd(pid_t pid, int (*fn)(void *ctx, int fd, const char *link),
		    void *ctx)
{
	char name[64], link[PATH_MAX];
	struct dirent *e;
	int rc = 0;

	snprintf(name, sizeof(name), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(name);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (n < 0 && (errno == EACCES || errno == EPERM)) {
			rc = -errno;	/* listing is allowed where reading is not */
			break;
		}
		if (n < 0)
			continue;	/* closed meanwhile */
		link[n] = '\0';
		rc = fn(ctx, atoi(e->d_name), link);
	}
	closedir(d);
	return rc;
}

int sg_fd_socket_inode(const char *link, uint64_t *inode)
{
	char close = 0;

	if (sscanf(link, "socket:[%" SCNu64 "%c", inode, &close) != 2 ||
	    close != ']')
		return -1;
	return 0;
}

void sg_format_sockaddr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, len, "*");
	}
}

const char *sg_tcp_state_name(int state)
{
	static const char *const names[] = {
		"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
		"FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
		"LISTEN", "CLOSING", "NEW_SYN_RECV"
	};

	return state > 0 && state < 13 ? names[state] : "?";
}

/*
 * Units
 */

/* The unit types of systemd.unit(5); any other name means NAME.service. */
static int has_unit_suffix(const char *unit)
{
	static const char *const types[] = {
		"service", "socket", "device", "mount", "automount", "swap",
		"target", "path", "timer", "slice", "scope", NULL
	};
	const char *dot = strrchr(unit, '.');

	for (int i = 0; dot && types[i]; i++)
		if (strcmp(dot + 1, types[i]) == 0)
			return 1;
	return 0;
}

/* The first cgroup2 mount point in our mount namespace. */
static int cgroup2_root(char *buf, size_t len)
{
	char line[PATH_MAX + 256], mnt[PATH_MAX];
	int found = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - cgroup2 ");
		found = sep && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
			strlen(mnt) < len;
	}
	fclose(f);
	if (found)
		snprintf(buf, len, "%s", mnt);
	return found ? 0 : -1;
}

static int is_dir_entry(int dfd, const struct dirent *e)
{
	struct stat st;

	if (e->d_name[0] == '.')
		return 0;
	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	return fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

/* Depth-first search for a directory called name below dir. */
static int find_dir(const char *dir, const char *name, int depth, char *out,
		    size_t len)
{
	char sub[PATH_MAX];
	struct dirent *e;
	int found = 0;
	DIR *d = depth < SG_CGROUP_DEPTH ? opendir(dir) : NULL;

	if (!d)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		if (!is_dir_entry(dirfd(d), e) ||
		    snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub))
			continue;
		if (strcmp(e->d_name, name) == 0) {
			found = snprintf(out, len, "%s", sub) < (int)len;
			continue;
		}
		found = find_dir(sub, name, depth + 1, out, len);
	}
	closedir(d);
	return found;
}

struct pid_list {
	pid_t *v;
	size_t n, cap;
};

static int pid_list_add(struct pid_list *l, pid_t pid)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		pid_t *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = pid;
	return 0;
}

/* The pids of dir/cgroup.procs and of every cgroup below dir. */
static int collect_procs(const char *dir, int depth, struct pid_list *l)
{
	char path[PATH_MAX], line[32];
	struct dirent *e;
	pid_t pid;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "re");
	while (f && rc == 0 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (sg_parse_pid(line, &pid) == 0)
			rc = pid_list_add(l, pid);
	}
	if (f)
		fclose(f);
	DIR *d = depth < SG_CGROUP_DEPTH ? opendir(dir) : NULL;
	while (d && rc == 0 && (e = readdir(d)) != NULL) {
		if (is_dir_entry(dirfd(d), e) &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			rc = collect_procs(path, depth + 1, l);
	}
	if (d)
		closedir(d);
	return rc;
}

int sg_unit_pids(const char *unit, pid_t **pids, size_t *n, char *why,
		 size_t whylen)
{
	char root[PATH_MAX], name[256], dir[PATH_MAX];
	struct pid_list l = { 0 };

	if (!*unit || strchr(unit, '/') || strlen(unit) > 240 ||
	    strcmp(unit, ".") == 0 || strcmp(unit, "..") == 0) {
		snprintf(why, whylen, "'%.60s' is not a unit name", unit);
		return -1;
	}
	snprintf(name, sizeof(name), "%s%s", unit,
		 has_unit_suffix(unit) ? "" : ".service");
	if (cgroup2_root(root, sizeof(root)) < 0) {
		snprintf(why, whylen, "no cgroup v2 hierarchy is mounted "
			 "(--unit needs one)");
		return -1;
	}
	if (!find_dir(root, name, 0, dir, sizeof(dir))) {
		snprintf(why, whylen, "%s: no cgroup under %s (is the unit "
			 "running?)", name, root);
		return -1;
	}
	if (collect_procs(dir, 0, &l) < 0) {
		free(l.v);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	*pids = l.v;
	*n = l.n;
	return 0;
}
