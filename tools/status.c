/*
 * `sockguard status [--json] [PID]...`: the processes that have the shim
 * loaded, and their live counters (SPEC.md section 5).
 *
 * The shim creates no file, socket or shared memory for this.  A process has
 * the shim when /proc/PID/maps shows libsockguard.so; its counters are the
 * exported `sockguard_counters` block (policy/live.h), found from the
 * library's dynamic symbol table and the load bias of the mapping, and read
 * with process_vm_readv(2), which needs the same permission as ptrace(2)
 * reading: root, or the process's own user where Yama allows it.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../policy/live.h"
#include "elf.h"
#include "tools.h"

#define CMD "sockguard status"
#define LIB_NAME "libsockguard.so"

/* The lowest mapping of the library in one process. */
struct shim_map {
	uint64_t start, end, offset;
	char path[PATH_MAX];
};

/* One line of output: a process with the shim, with counters or a reason. */
struct row {
	pid_t pid;
	char comm[32];
	int readable;
	char why[256];
	struct sg_counters c;
};

static int is_shim_path(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strcmp(base, LIB_NAME) == 0 ||
	       strcmp(base, LIB_NAME " (deleted)") == 0;
}

/*
 * Finds the library in /proc/PID/maps.  Returns 1 when it is mapped, 0 when
 * not, -errno when the maps cannot be read.  The lines come in address
 * order, so the first one of the library is its lowest mapping.
 */
static int find_shim(pid_t pid, struct shim_map *m)
{
	char name[64], line[PATH_MAX + 128];
	int found = 0;

	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(name, "re");
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		int path_at = 0;
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %n",
			   &m->start, &m->end, &m->offset, &path_at) < 3 ||
		    path_at == 0)
			continue;
		if (is_shim_path(line + path_at)) {
			snprintf(m->path, sizeof(m->path), "%s", line + path_at);
			found = 1;
		}
	}
	int err = ferror(f) ? errno : 0;
	fclose(f);
	return err ? -err : found;
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

/* Where the counter block lives in the process: bias + st_value. */
static int counters_address(pid_t pid, const struct shim_map *m, uint64_t *addr)
{
	uint64_t value, bias;
	int fd = open_mapped_file(pid, m);

	if (fd < 0)
		return -errno;
	int rc = sg_elf_dynsym(fd, "sockguard_counters", &value);
	if (rc == 0)
		rc = sg_elf_load_bias(fd, m->start, m->offset, &bias);
	close(fd);
	if (rc == 0)
		*addr = bias + value;
	return rc;
}

static void read_counters(struct row *r, const struct shim_map *m)
{
	uint64_t addr = 0;
	int rc = counters_address(r->pid, m, &addr);

	if (rc < 0) {
		snprintf(r->why, sizeof(r->why), "cannot find its counters in %.120s: %s",
			 m->path, rc == -ENOENT ? "no sockguard_counters symbol" :
			 strerror(-rc));
		return;
	}
	struct iovec local = { &r->c, sizeof(r->c) };
	struct iovec remote = { (void *)(uintptr_t)addr, sizeof(r->c) };
	if (process_vm_readv(r->pid, &local, 1, &remote, 1, 0) != sizeof(r->c)) {
		snprintf(r->why, sizeof(r->why), "cannot read its memory: %s%s",
			 strerror(errno), errno == EPERM ?
			 " (run as root or as the process's user)" : "");
		return;
	}
	if (strncmp(r->c.magic, SG_COUNTERS_MAGIC, sizeof(r->c.magic)) != 0 ||
	    r->c.version != SG_COUNTERS_VERSION ||
	    r->c.size != sizeof(r->c)) {
		snprintf(r->why, sizeof(r->why), "no counter block of this "
			 "version (the shim has not started, or is another version)");
		return;
	}
	r->readable = 1;
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
 * Fills a row for pid.  Returns 1 when the shim is loaded there, 0 when not,
 * -errno when the process cannot be inspected.
 */
static int inspect(pid_t pid, struct row *r)
{
	struct shim_map m;
	int rc = find_shim(pid, &m);

	memset(r, 0, sizeof(*r));
	r->pid = pid;
	if (rc <= 0)
		return rc;
	read_comm(pid, r->comm, sizeof(r->comm));
	read_counters(r, &m);
	return 1;
}

struct rows {
	struct row *v;
	size_t n, cap;
	unsigned unreadable;	/* processes whose maps could not be read */
};

static struct row *rows_next(struct rows *rs)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct row *v = realloc(rs->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		rs->v = v;
		rs->cap = cap;
	}
	return &rs->v[rs->n];
}

static int parse_pid(const char *s, pid_t *pid)
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
	const struct row *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Every process but this one; those that cannot be inspected are counted. */
static int collect_all(struct rows *rs)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t pid;

	if (!d) {
		fprintf(stderr, CMD ": /proc: %s\n", strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct row *r = rows_next(rs);
		if (!r)
			break;
		if (parse_pid(e->d_name, &pid) < 0 || pid == getpid())
			continue;
		int rc = inspect(pid, r);
		rs->n += rc > 0;
		rs->unreadable += rc == -EACCES || rc == -EPERM;
	}
	closedir(d);
	qsort(rs->v, rs->n, sizeof(*rs->v), pid_order);
	return 0;
}

/* The processes named; each one that is gone or has no shim makes it 1. */
static int collect_pids(struct rows *rs, int n, char **pids)
{
	int status = 0;
	pid_t pid;

	for (int i = 0; i < n; i++) {
		struct row *r = rows_next(rs);
		if (!r || parse_pid(pids[i], &pid) < 0)
			return -1;
		int rc = inspect(pid, r);
		rs->n += rc > 0;
		if (rc == 0)
			fprintf(stderr, CMD ": %d: " LIB_NAME " is not loaded\n",
				(int)pid);
		else if (rc < 0)
			fprintf(stderr, CMD ": %d: %s\n", (int)pid,
				rc == -ENOENT ? "no such process" : strerror(-rc));
		if (rc <= 0)
			status = 1;
	}
	return status;
}

static const char *mode_name(uint32_t mode)
{
	static const char *names[] = { "harden", "observe", "off" };

	return mode < 3 ? names[mode] : "?";
}

static const char *const cause_names[SG_RETRY_COUNT] = {
	"eintr", "eagain", "accept", "partial"
};

/* Table headings for the retry causes, apart from the class names. */
static const char *const cause_columns[SG_RETRY_COUNT] = {
	"retry_eintr", "retry_eagain", "retry_accept", "retry_partial"
};

/* Which classes and retry causes are non-zero in some row: the columns. */
static void used_columns(const struct rows *rs, uint32_t *classes,
			 uint32_t *causes)
{
	*classes = *causes = 0;
	for (size_t i = 0; i < rs->n; i++) {
		const struct row *r = &rs->v[i];
		for (int k = 0; r->readable && k < SG_CLASS_COUNT; k++)
			*classes |= (uint32_t)(r->c.events[k] != 0) << k;
		for (int k = 0; r->readable && k < SG_RETRY_COUNT; k++)
			*causes |= (uint32_t)(r->c.retries[k] != 0) << k;
	}
}

static void print_header(uint32_t classes, uint32_t causes)
{
	printf("%7s  %-16s %-8s", "PID", "PROGRAM", "MODE");
	for (int k = 0; k < SG_CLASS_COUNT; k++)
		if (classes & (1u << k))
			printf(" %12s", sg_class_name(k));
	for (int k = 0; k < SG_RETRY_COUNT; k++)
		if (causes & (1u << k))
			printf(" %13s", cause_columns[k]);
	printf(" %12s %12s\n", "sigpipe", "dropped");
}

static void print_row(const struct row *r, uint32_t classes, uint32_t causes)
{
	printf("%7d  %-16s ", (int)r->pid, r->comm);
	if (!r->readable) {
		printf("%-8s %s\n", "?", r->why);
		return;
	}
	printf("%-8s", mode_name(r->c.mode));
	for (int k = 0; k < SG_CLASS_COUNT; k++)
		if (classes & (1u << k))
			printf(" %12" PRIu64, r->c.events[k]);
	for (int k = 0; k < SG_RETRY_COUNT; k++)
		if (causes & (1u << k))
			printf(" %13" PRIu64, r->c.retries[k]);
	printf(" %12" PRIu64 " %12" PRIu64 "\n", r->c.sigpipe_suppressed,
	       r->c.lines_dropped);
}

/*
 * The table: one column per event class and retry cause that is not zero
 * in every row (a quiet host shows a short table), then SIGPIPEs suppressed
 * and log lines dropped, which an operator always wants to see.
 */
static void print_table(const struct rows *rs)
{
	uint32_t classes, causes;

	if (rs->n == 0) {
		printf("no process has " LIB_NAME " loaded\n");
		return;
	}
	used_columns(rs, &classes, &causes);
	print_header(classes, causes);
	for (size_t i = 0; i < rs->n; i++)
		print_row(&rs->v[i], classes, causes);
}

/* A JSON string; comm may hold any byte but NUL. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void json_counters(const struct sg_counters *c)
{
	printf(",\"mode\":\"%s\",\"events\":{", mode_name(c->mode));
	for (int k = 0; k < SG_CLASS_COUNT; k++)
		printf("%s\"%s\":%" PRIu64, k ? "," : "", sg_class_name(k),
		       c->events[k]);
	printf("},\"retries\":{");
	for (int k = 0; k < SG_RETRY_COUNT; k++)
		printf("%s\"%s\":%" PRIu64, k ? "," : "", cause_names[k],
		       c->retries[k]);
	printf("},\"sigpipe_suppressed\":%" PRIu64 ",\"lines_written\":%" PRIu64
	       ",\"lines_dropped\":%" PRIu64 ",\"lines_suppressed\":%" PRIu64,
	       c->sigpipe_suppressed, c->lines_written, c->lines_dropped,
	       c->lines_suppressed);
}

/* A JSON array, one process per line, so that grep works on it too. */
static void print_json(const struct rows *rs)
{
	printf("[");
	for (size_t i = 0; i < rs->n; i++) {
		const struct row *r = &rs->v[i];
		printf("%s\n{\"pid\":%d,\"program\":", i ? "," : "", (int)r->pid);
		json_string(r->comm);
		if (r->readable)
			json_counters(&r->c);
		else
			printf(",\"error\":"), json_string(r->why);
		printf("}");
	}
	printf("\n]\n");
}

static int usage(FILE *out, int status)
{
	fprintf(out, "usage: sockguard status [--json] [PID]...\n");
	return status;
}

int sg_cmd_status(int argc, char **argv)
{
	struct rows rs = { 0 };
	int json = 0, first = 1, status;
	pid_t pid;

	for (; first < argc && argv[first][0] == '-'; first++) {
		if (strcmp(argv[first], "--json") == 0)
			json = 1;
		else if (strcmp(argv[first], "-h") == 0 ||
			 strcmp(argv[first], "--help") == 0)
			return usage(stdout, 0);
		else
			return usage(stderr, 2);
	}
	for (int i = first; i < argc; i++)
		if (parse_pid(argv[i], &pid) < 0) {
			fprintf(stderr, CMD ": '%s' is not a process id\n", argv[i]);
			return usage(stderr, 2);
		}
	if (first < argc)
		status = collect_pids(&rs, argc - first, argv + first);
	else
		status = collect_all(&rs) < 0 ? 1 : 0;
	if (json)
		print_json(&rs);
	else if (status < 0 || rs.n > 0 || first == argc)
		print_table(&rs);
	if (rs.unreadable)
		fprintf(stderr, CMD ": %u process(es) could not be inspected: "
			"permission denied%s\n", rs.unreadable, geteuid() == 0 ?
			"" : " (run as root to see every process)");
	free(rs.v);
	return status < 0 ? 1 : status;
}
