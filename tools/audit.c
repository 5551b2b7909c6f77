/*
 * `sockguard audit [--json] [PID... | --unit UNIT]`: every process with at
 * least one inet socket, labelled covered, partial or blind, with the
 * reason (see sockguard(8)).
 *
 * Everything is read from outside the process: /proc/PID/maps (through
 * shimproc.c) says whether the shim is mapped and gives its counter block,
 * /proc/PID/exe's ELF headers say static, Go or musl, /proc/PID/auxv says
 * secure execution (AT_SECURE), /proc/PID/environ and the process's
 * /etc/ld.so.preload say whether anything asked for the preload, and the
 * /proc/PID/fd links count its inet sockets and io_uring instances.
 * Networking done with raw system calls by a program that is not Go cannot
 * be seen from outside, and is not claimed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "elf.h"
#include "escape.h"
#include "preload.h"
#include "proc.h"
#include "shimproc.h"
#include "tools.h"

#define CMD "sockguard audit"
#define LIB_NAME SG_SHIM_LIB_NAME
/* The most of /proc/PID/environ looked at. */
#define ENVIRON_MAX (1024 * 1024)

enum label { COVERED, PARTIAL, BLIND };
static const char *const label_names[] = { "covered", "partial", "blind" };

/* One process of the audit. */
struct entry {
	struct sg_proc proc;
	size_t inet, uring;		/* inet sockets, io_uring instances */
	int label;			/* enum label */
	char reason[320];
	struct sg_shim_proc shim;	/* when the shim is loaded */
	int loaded;
};

struct audit {
	int json;
	const char *unit;
	struct entry *v;
	size_t n, cap;
	size_t counts[3];
	int errors;			/* processes that could not be audited */
	unsigned unreadable;		/* of those, for want of permission */
};

static int usage(FILE *out, int status)
{
	fprintf(out, "usage: sockguard audit [--json] [PID... | --unit UNIT]\n");
	return status;
}

/*
 * Evidence from /proc
 */

/* Reads up to max bytes of a file; a malloc'ed buffer, NUL-terminated. */
static char *read_all(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = fd >= 0 ? malloc(max + 1) : NULL;
	size_t got = 0;
	ssize_t n = 1;

	while (buf && got < max && (n = read(fd, buf + got, max - got)) > 0)
		got += (size_t)n;
	if (fd >= 0)
		close(fd);
	if (!buf || n < 0) {
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* Whether a colon- or blank-separated list names the library. */
static int list_names_lib(const char *list, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = strcspn(list + i, ": \t\n");
		if (i + len > n)
			len = n - i;
		const char *entry = list + i;
		const char *base = memrchr(entry, '/', len);
		base = base ? base + 1 : entry;
		if ((size_t)(entry + len - base) == strlen(LIB_NAME) &&
		    memcmp(base, LIB_NAME, strlen(LIB_NAME)) == 0)
			return 1;
		i += len + 1;
	}
	return 0;
}

/* Whether the environment the process started with preloads the library. */
static int environ_names_lib(pid_t pid)
{
	char path[64];
	size_t len = 0;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	char *env = read_all(path, ENVIRON_MAX, &len);
	for (size_t i = 0; env && i < len; i += strlen(env + i) + 1)
		if (strncmp(env + i, "LD_PRELOAD=", 11) == 0)
			found = list_names_lib(env + i + 11, strlen(env + i + 11));
	free(env);
	return found;
}

/* Whether /etc/ld.so.preload, as the process sees it, names the library. */
static int preload_file_names_lib(pid_t pid)
{
	char path[64];
	size_t len = 0;

	snprintf(path, sizeof(path), "/proc/%d/root/etc/ld.so.preload", (int)pid);
	char *text = read_all(path, 65536, &len);
	int found = text && list_names_lib(text, len);
	free(text);
	return found;
}

/* AT_SECURE from the auxiliary vector: 1, 0, or -1 when it cannot be read. */
static int secure_execution(pid_t pid)
{
	char path[64];
	size_t len = 0;
	int secure = -1;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	unsigned long *v = (unsigned long *)read_all(path, 4096, &len);
	for (size_t i = 0; v && (i + 2) * sizeof(*v) <= len && v[i] != AT_NULL; i += 2)
		if (v[i] == AT_SECURE)
			secure = v[i + 1] != 0;
	free(v);
	return secure;
}

/* The systemd service the process runs in, from /proc/PID/cgroup; or "". */
static void service_of(pid_t pid, char *unit, size_t len)
{
	char path[64], line[1024];
	FILE *f;

	unit[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (!(f = fopen(path, "re")))
		return;
	while (!unit[0] && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		for (char *p = strtok(strchr(line, '/') ? strchr(line, '/') : line, "/");
		     p; p = strtok(NULL, "/")) {
			size_t n = strlen(p);
			if (n > 8 && strcmp(p + n - 8, ".service") == 0 && n < len)
				snprintf(unit, len, "%s", p);
		}
	}
	fclose(f);
}

/* Whether `sockguard enable UNIT` has written the unit's drop-in. */
static int unit_enabled(const char *unit)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/etc/systemd/system/%s.d/sockguard.conf", unit);
	return *unit && access(path, F_OK) == 0;
}

/*
 * Descriptors
 */

struct fd_count {
	const struct sg_sock_table *tab;
	size_t inet, uring;
};

static int count_fd(void *ctx, int fd, const char *link)
{
	struct fd_count *c = ctx;
	uint64_t inode;

	if (strcmp(link, "anon_inode:[io_uring]") == 0)
		c->uring++;
	else if (sg_fd_socket_inode(link, &inode) == 0 &&
		 sg_sock_table_find(c->tab, inode))
		c->inet++;
	return 0;
}

static int count_fds(struct entry *e)
{
	struct sg_sock_table tab;
	struct fd_count c = { &tab, 0, 0 };
	int rc = sg_sock_table_read(e->proc.pid, 1, &tab);

	if (rc == 0)
		rc = sg_proc_each_fd(e->proc.pid, count_fd, &c);
	sg_sock_table_free(&tab);
	e->inet = c.inet;
	e->uring = c.uring;
	return rc;
}

/*
 * Labels
 */

static void set_label(struct entry *e, int label, const char *fmt, const char *arg)
{
	e->label = label;
	snprintf(e->reason, sizeof(e->reason), fmt, arg);
}

/* Why a dynamically linked process without the mapping has no shim. */
static void why_not_preloaded(struct entry *e)
{
	char unit[256];
	pid_t pid = e->proc.pid;
	int secure = secure_execution(pid);

	if (preload_file_names_lib(pid))
		return set_label(e, BLIND, "started before `sockguard enable "
				 "--system`: /etc/ld.so.preload names %s but it "
				 "is not mapped; restart it", LIB_NAME);
	if (environ_names_lib(pid) && secure == 1)
		return set_label(e, BLIND, "secure execution (set-user-ID, "
				 "set-group-ID or file capabilities): the loader "
				 "dropped the LD_PRELOAD of %s", LIB_NAME);
	if (environ_names_lib(pid))
		return set_label(e, BLIND, "not preloaded: its LD_PRELOAD names "
				 "%s but it is not mapped (the library was not "
				 "there when it started); restart it", LIB_NAME);
	if (secure == 1)
		return set_label(e, BLIND, "secure execution (set-user-ID, "
				 "set-group-ID or file capabilities): LD_PRELOAD "
				 "cannot reach it, only /etc/ld.so.preload%s", "");
	service_of(pid, unit, sizeof(unit));
	if (unit_enabled(unit))
		return set_label(e, BLIND, "started before `sockguard enable "
				 "%s`: restart the unit", unit);
	set_label(e, BLIND, "not preloaded: neither its environment nor "
		  "/etc/ld.so.preload names %s", LIB_NAME);
}

/* The label of a process whose executable is t (sg_lib_for_target). */
static void classify(struct entry *e, const struct sg_target *t)
{
	const struct sg_elf_info *elf = &t->elf;

	if (elf->is_go)
		return set_label(e, BLIND, "Go runtime: its sockets are raw "
				 "system calls the shim never sees%s",
				 e->loaded ? " (though it is loaded)" : "");
	if (e->loaded && e->uring)
		return set_label(e, PARTIAL, "io_uring: I/O submitted through "
				 "its ring%s bypasses the shim",
				 e->uring > 1 ? "s" : "");
	if (e->loaded && e->shim.inactive && t->libc == SG_LIBC_MUSL)
		return set_label(e, BLIND, "musl-linked (%s), and given the glibc "
				 "build of the shim (an inherited LD_PRELOAD), "
				 "which stays inactive there", elf->interp);
	if (e->loaded)
		return set_label(e, COVERED, "%s", "");
	if (elf->foreign)
		return set_label(e, BLIND, "built for another machine or word "
				 "size than this tool%s", "");
	if (elf->is_elf && !elf->has_interp)
		return set_label(e, BLIND, "statically linked: no dynamic loader "
				 "runs, so nothing can be preloaded%s", "");
	if (t->libc == SG_LIBC_MUSL && !t->found)
		return set_label(e, BLIND, "musl-linked (%s), and no musl build "
				 "of the shim is installed", elf->interp);
	why_not_preloaded(e);
}

/* Fills e for pid.  Returns 0, or -errno when it cannot be audited. */
static int audit_pid(pid_t pid, struct entry *e)
{
	struct sg_target t;
	char exe[64];

	memset(e, 0, sizeof(*e));
	int rc = sg_proc_read(pid, &e->proc);
	if (rc < 0)
		return rc;
	if (sg_proc_unusable(&e->proc))
		return -EINVAL;
	if ((rc = count_fds(e)) < 0)
		return rc;
	rc = sg_shim_inspect(pid, &e->shim);
	if (rc < 0)
		return rc == -ENOENT ? -ESRCH : rc;
	e->loaded = rc > 0;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	if ((rc = sg_lib_for_target("", exe, &t)) < 0)
		return rc == -ENOENT ? -ESRCH : rc;
	classify(e, &t);
	return 0;
}

/*
 * Collecting
 */

static struct entry *next_entry(struct audit *a)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct entry *v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		a->v = v;
		a->cap = cap;
	}
	return &a->v[a->n];
}

/* One named process: every failure is one line on stderr. */
static void add_named(struct audit *a, pid_t pid)
{
	struct entry *e = next_entry(a);
	char name[SG_ESC_TEXT_SIZE(32)];

	if (!e) {
		a->errors++;
		return;
	}
	int rc = audit_pid(pid, e);
	if (rc == -EINVAL)
		fprintf(stderr, CMD ": %d: %s\n", (int)pid, sg_proc_unusable(&e->proc));
	else if (rc < 0)
		fprintf(stderr, CMD ": %d (%s): %s\n", (int)pid,
			sg_esc_str(name, sizeof(name), e->proc.comm[0] ?
				   e->proc.comm : "?"), sg_proc_strerror(rc));
	a->errors += rc < 0;
	a->n += rc == 0;
}

/* Every process with an inet socket; the others are left out silently. */
static int add_all(struct audit *a)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t pid;

	if (!d) {
		fprintf(stderr, CMD ": /proc: %s\n", strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct entry *e = next_entry(a);
		if (!e)
			break;
		if (sg_parse_pid(de->d_name, &pid) < 0 || pid == getpid())
			continue;
		int rc = audit_pid(pid, e);
		a->unreadable += rc == -EACCES || rc == -EPERM;
		a->n += rc == 0 && (e->inet > 0 || e->uring > 0);
	}
	closedir(d);
	return 0;
}

static int pid_order(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;

	return (a->proc.pid > b->proc.pid) - (a->proc.pid < b->proc.pid);
}

/*
 * Output
 */

static uint64_t sum(const uint64_t *v, int n)
{
	uint64_t s = 0;

	for (int i = 0; i < n; i++)
		s = v[i] > UINT64_MAX - s ? UINT64_MAX : s + v[i];
	return s;
}

static const char *mode_name(uint32_t mode)
{
	static const char *const names[] = { "harden", "observe", "off" };

	return mode < 3 ? names[mode] : "?";
}

/* The detail of a covered or partial process: mode, generation, counters. */
static void shim_detail(const struct entry *e, char *buf, size_t len)
{
	const struct sg_counters *c = &e->shim.c;

	if (!e->shim.readable) {
		snprintf(buf, len, "counters unreadable: %s", e->shim.why);
		return;
	}
	snprintf(buf, len, "mode=%s generation=%" PRIu64 " events=%" PRIu64
		 " retries=%" PRIu64, mode_name(c->mode), c->generation,
		 sum(c->events, SG_CLASS_COUNT), sum(c->retries, SG_RETRY_COUNT));
}

static void print_entry(const struct entry *e)
{
	char comm[SG_ESC_TEXT_SIZE(32)], detail[512], shown[SG_ESC_TEXT_SIZE(512)];
	char ns[48] = "";

	if (e->label == COVERED)
		shim_detail(e, detail, sizeof(detail));
	else
		snprintf(detail, sizeof(detail), "%s; `sockguard tune` still "
			 "reaches its open sockets", e->reason);
	if (e->proc.nspid)
		snprintf(ns, sizeof(ns), " [pid %d in its PID namespace]",
			 (int)e->proc.nspid);
	printf("%7d  %-16s %7zu  %-8s %s%s\n", (int)e->proc.pid,
	       sg_esc_str(comm, 17, e->proc.comm), e->inet,
	       label_names[e->label], sg_esc_str(shown, sizeof(shown), detail), ns);
}

static void print_table(const struct audit *a)
{
	if (a->n == 0) {
		printf("no process with an inet socket\n");
		return;
	}
	printf("%7s  %-16s %7s  %-8s %s\n", "PID", "PROGRAM", "SOCKETS", "LABEL",
	       "DETAIL");
	for (size_t i = 0; i < a->n; i++)
		print_entry(&a->v[i]);
	printf("%zu process%s: %zu covered, %zu partial, %zu blind\n", a->n,
	       a->n == 1 ? "" : "es", a->counts[COVERED], a->counts[PARTIAL],
	       a->counts[BLIND]);
}

static void json_counters(const struct sg_counters *c)
{
	printf(",\"mode\":\"%s\",\"generation\":%" PRIu64 ",\"events\":{",
	       mode_name(c->mode), c->generation);
	for (int k = 0; k < SG_CLASS_COUNT; k++)
		printf("%s\"%s\":%" PRIu64, k ? "," : "", sg_class_name(k),
		       c->events[k]);
	printf("},\"retries\":%" PRIu64, sum(c->retries, SG_RETRY_COUNT));
}

static void json_entry(const struct entry *e)
{
	printf("{\"pid\":%d,\"program\":", (int)e->proc.pid);
	sg_esc_put_json(stdout, e->proc.comm);
	if (e->proc.nspid)
		printf(",\"namespace_pid\":%d", (int)e->proc.nspid);
	printf(",\"inet_sockets\":%zu,\"io_uring\":%zu,\"label\":\"%s\"", e->inet,
	       e->uring, label_names[e->label]);
	if (e->label != COVERED) {
		printf(",\"reason\":");
		sg_esc_put_json(stdout, e->reason);
	}
	printf(",\"tune\":%s", e->label == COVERED ? "false" : "true");
	if (e->loaded && e->shim.readable)
		json_counters(&e->shim.c);
	else if (e->loaded) {
		printf(",\"counters_error\":");
		sg_esc_put_json(stdout, e->shim.why);
	}
	printf("}");
}

/* A JSON array, one process per line. */
static void print_json(const struct audit *a)
{
	printf("[");
	for (size_t i = 0; i < a->n; i++) {
		printf("%s\n", i ? "," : "");
		json_entry(&a->v[i]);
	}
	printf("\n]\n");
}

/*
 * The command
 */

static int parse_args(int argc, char **argv, struct audit *a, int *first)
{
	int i;
	pid_t pid;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			a->json = 1;
		else if (strcmp(argv[i], "--unit") == 0 && i + 1 < argc)
			a->unit = argv[++i];
		else {
			fprintf(stderr, CMD ": unknown option '%s'\n", argv[i]);
			return -1;
		}
	}
	*first = i;
	for (; i < argc; i++)
		if (sg_parse_pid(argv[i], &pid) < 0) {
			fprintf(stderr, CMD ": '%s' is not a process id\n", argv[i]);
			return -1;
		}
	if (a->unit && *first < argc) {
		fprintf(stderr, CMD ": name process ids or --unit UNIT, not both\n");
		return -1;
	}
	return 0;
}

static int collect(struct audit *a, int n, char **pids)
{
	char why[512];
	pid_t pid, *unit_pids = NULL;
	size_t count = 0;

	if (!a->unit && n == 0)
		return add_all(a);
	if (a->unit && sg_unit_pids(a->unit, &unit_pids, &count, why, sizeof(why)) < 0) {
		fprintf(stderr, CMD ": --unit %s\n", why);
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		add_named(a, unit_pids[i]);
	for (int i = 0; i < n; i++)
		if (sg_parse_pid(pids[i], &pid) == 0)
			add_named(a, pid);
	free(unit_pids);
	return 0;
}

int sg_cmd_audit(int argc, char **argv)
{
	struct audit a = { 0 };
	int first;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return usage(stdout, 0);
	if (parse_args(argc, argv, &a, &first) < 0)
		return usage(stderr, 2);
	if (collect(&a, argc - first, argv + first) < 0) {
		free(a.v);
		return 2;
	}
	qsort(a.v, a.n, sizeof(*a.v), pid_order);
	for (size_t i = 0; i < a.n; i++)
		a.counts[a.v[i].label]++;
	if (a.json)
		print_json(&a);
	else
		print_table(&a);
	if (a.unreadable)
		fprintf(stderr, CMD ": %u process(es) could not be inspected: "
			"permission denied%s\n", a.unreadable, geteuid() == 0 ?
			"" : " (run as root to see every process)");
	int status = a.errors || a.unreadable ? 2 :
		     a.counts[PARTIAL] || a.counts[BLIND] ? 1 : 0;
	free(a.v);
	return status;
}
