/*
 * Finding the processes that run with the shim and reading their counter
 * blocks (see shimproc.h): shared by `sockguard status` and
 * `sockguard metrics`.
 */
#include "shimproc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "elf.h"

/* The lowest mapping of the library in one process. */
struct shim_map {
	uint64_t start, end, offset;
	char path[PATH_MAX];
};

static int is_shim_path(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strcmp(base, SG_SHIM_LIB_NAME) == 0 ||
	       strcmp(base, SG_SHIM_LIB_NAME " (deleted)") == 0;
}

/*
 * The library's copies in /proc/PID/maps: the lowest mapping of each file
 * (the lines come in address order).  Returns how many were found (at most
 * max), or -errno when the maps cannot be read.
 */
static int find_copies(pid_t pid, struct shim_map *v, int max)
{
	char name[64], line[PATH_MAX + 128];
	struct shim_map m;
	int n = 0;

	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(name, "re");
	if (!f)
		return -errno;
	while (n < max && fgets(line, sizeof(line), f)) {
		int path_at = 0, seen = 0;
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %n",
			   &m.start, &m.end, &m.offset, &path_at) < 3 ||
		    path_at == 0 || !is_shim_path(line + path_at))
			continue;
		for (int i = 0; i < n; i++)
			seen |= strcmp(v[i].path, line + path_at) == 0;
		if (seen)
			continue;
		snprintf(m.path, sizeof(m.path), "%s", line + path_at);
		v[n++] = m;
	}
	int err = ferror(f) ? errno : 0;
	fclose(f);
	return err ? -err : n;
}

static int symbol_address(pid_t pid, const struct shim_map *m,
			  const char *symbol, uint64_t *addr);

/*
 * Finds the library in the process.  Returns 1 when it is mapped, 0 when
 * not, -errno when the maps cannot be read.  When two copies (two files)
 * are mapped, only the first in the lookup order runs (the other stays
 * inactive, its counters' pid 0): m is the one that runs.
 */
static int find_shim(pid_t pid, struct shim_map *m)
{
	struct shim_map v[4];
	int n = find_copies(pid, v, 4);

	if (n <= 0)
		return n;
	*m = v[0];
	for (int i = 0; n > 1 && i < n; i++) {
		uint64_t addr, owner = 0;
		if (symbol_address(pid, &v[i], SG_COUNTERS_SYMBOL, &addr) == 0 &&
		    sg_shim_read(pid, addr + offsetof(struct sg_counters, pid),
				 &owner, sizeof(owner)) == 0 && owner != 0) {
			*m = v[i];
			break;
		}
	}
	return 1;
}

/*
 * Opens the very file that is mapped: through map_files (right even if the
 * library was rebuilt or deleted since), else through the process's root
 * directory, else by its path.
 */
static int open_mapped_file(pid_t pid, const struct shim_map *m)
{
	char name[PATH_MAX + 64];
	int fd;

	snprintf(name, sizeof(name), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
		 (int)pid, m->start, m->end);
	if ((fd = open(name, O_RDONLY | O_CLOEXEC)) >= 0)
		return fd;
	snprintf(name, sizeof(name), "/proc/%d/root%s", (int)pid, m->path);
	if ((fd = open(name, O_RDONLY | O_CLOEXEC)) >= 0)
		return fd;
	return open(m->path, O_RDONLY | O_CLOEXEC);
}

/* Where an exported block lives in the process: bias + st_value. */
static int symbol_address(pid_t pid, const struct shim_map *m,
			  const char *symbol, uint64_t *addr)
{
	uint64_t value, bias;
	int fd = open_mapped_file(pid, m);

	if (fd < 0)
		return -errno;
	int rc = sg_elf_dynsym(fd, symbol, &value);
	if (rc == 0)
		rc = sg_elf_load_bias(fd, m->start, m->offset, &bias);
	close(fd);
	if (rc == 0)
		*addr = bias + value;
	return rc;
}

/*
 * The pid the process knows itself by: the last NSpid entry of
 * /proc/PID/status (its pid in its own PID namespace), or pid.
 */
static pid_t own_pid(pid_t pid)
{
	char name[64], line[256];
	pid_t last = pid;

	snprintf(name, sizeof(name), "/proc/%d/status", (int)pid);
	FILE *f = fopen(name, "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6) != 0)
			continue;
		char *p = line + 6, *end;
		for (long v; (v = strtol(p, &end, 10)) > 0 && end != p; p = end)
			last = (pid_t)v;
		break;
	}
	if (f)
		fclose(f);
	return last;
}

/* Whether the block read is one this tool understands, and pid's own. */
static int check_block(struct sg_shim_proc *p)
{
	const struct sg_counters *c = &p->c;

	if (strncmp(c->magic, SG_COUNTERS_MAGIC, sizeof(c->magic)) != 0 ||
	    c->version != SG_COUNTERS_VERSION || c->size != sizeof(*c)) {
		snprintf(p->why, sizeof(p->why), "no counter block of this "
			 "version (the shim has not started, or is another version)");
		return -1;
	}
	if (c->pid == 0) {
		p->inactive = 1;
		snprintf(p->why, sizeof(p->why), "the shim has not started (a musl "
			 "program given the glibc build leaves it inactive)");
		return -1;
	}
	if (c->pid != (uint64_t)p->pid && c->pid != (uint64_t)own_pid(p->pid)) {
		snprintf(p->why, sizeof(p->why), "its counters are not yet its own "
			 "(the shim has not started, or the process was just forked)");
		return -1;
	}
	return 0;
}

static void read_counters(struct sg_shim_proc *p, const struct shim_map *m)
{
	uint64_t addr = 0;
	int rc = symbol_address(p->pid, m, SG_COUNTERS_SYMBOL, &addr);

	if (rc < 0) {
		snprintf(p->why, sizeof(p->why), "cannot find its counters in %.120s: %s",
			 m->path, rc == -ENOENT ? "no " SG_COUNTERS_SYMBOL " symbol" :
			 strerror(-rc));
		return;
	}
	struct iovec local = { &p->c, sizeof(p->c) };
	struct iovec remote = { (void *)(uintptr_t)addr, sizeof(p->c) };
	if (process_vm_readv(p->pid, &local, 1, &remote, 1, 0) != sizeof(p->c)) {
		snprintf(p->why, sizeof(p->why), "cannot read its memory: %s%s",
			 strerror(errno), errno == EPERM ?
			 " (run as root or as the process's user)" : "");
		return;
	}
	p->readable = check_block(p) == 0;
}

int sg_shim_block_address(pid_t pid, const char *symbol, uint64_t *addr)
{
	struct shim_map m;
	int rc = find_shim(pid, &m);

	if (rc == 0)
		return -ENOENT;
	return rc < 0 ? rc : symbol_address(pid, &m, symbol, addr);
}

int sg_shim_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EFAULT;
}

int sg_live_block_ok(const struct sg_live *b)
{
	return strncmp(b->magic, SG_LIVE_MAGIC, sizeof(b->magic)) == 0 &&
	       b->version == SG_LIVE_VERSION && b->size == sizeof(*b);
}

static void read_comm(pid_t pid, char *comm, size_t len)
{
	char name[64];

	snprintf(name, sizeof(name), "/proc/%d/comm", (int)pid);
	FILE *f = fopen(name, "re");
	if (!f || !fgets(comm, (int)len, f))
		snprintf(comm, len, "?");
	comm[strcspn(comm, "\n")] = '\0';
	if (f)
		fclose(f);
}

/*
 * Field 22 of /proc/PID/stat (proc(5)), counted after the ')' that ends the
 * command name, which may itself hold spaces and parentheses.  0 when
 * unreadable.
 */
static uint64_t read_start_ticks(pid_t pid)
{
	char name[64], buf[1024];
	unsigned long long v = 0;

	snprintf(name, sizeof(name), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(name, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *p = strrchr(buf, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p && sscanf(p + 1, "%llu", &v) != 1)
		v = 0;
	return v;
}

int sg_shim_inspect(pid_t pid, struct sg_shim_proc *p)
{
	struct shim_map m;
	int rc = find_shim(pid, &m);

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	if (rc <= 0)
		return rc;
	read_comm(pid, p->comm, sizeof(p->comm));
	p->start_ticks = read_start_ticks(pid);
	read_counters(p, &m);
	return 1;
}

struct sg_shim_proc *sg_shim_procs_next(struct sg_shim_procs *ps)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		struct sg_shim_proc *v = realloc(ps->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		ps->v = v;
		ps->cap = cap;
	}
	return &ps->v[ps->n];
}

void sg_shim_procs_free(struct sg_shim_procs *ps)
{
	free(ps->v);
	ps->v = NULL;
	ps->n = ps->cap = 0;
}

int sg_parse_pid(const char *s, pid_t *pid)
{
	char *end;

	errno = 0;
	long v = strtol(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end || errno || v <= 0 || v > INT_MAX)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

static int pid_order(const void *a, const void *b)
{
	const struct sg_shim_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

int sg_shim_collect_all(struct sg_shim_procs *ps, const char *cmd)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t pid;

	if (!d) {
		fprintf(stderr, "%s: /proc: %s\n", cmd, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct sg_shim_proc *p = sg_shim_procs_next(ps);
		if (!p)
			break;
		if (sg_parse_pid(e->d_name, &pid) < 0 || pid == getpid())
			continue;
		int rc = sg_shim_inspect(pid, p);
		ps->n += rc > 0;
		ps->unreadable += rc == -EACCES || rc == -EPERM;
	}
	closedir(d);
	qsort(ps->v, ps->n, sizeof(*ps->v), pid_order);
	return 0;
}
