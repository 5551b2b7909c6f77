/*
 * `sockguard status [--json] [PID]...`: the processes that have the shim
 * loaded, their live counters, and the generation of live settings each
 * has adopted with the keys `sockguard set` made differ from its policy
 * (sockguard(8)).  Finding them and reading their blocks is
 * tools/shimproc.c's job.
 *
 * A process chooses its own name (prctl(2) PR_SET_NAME) and the path it
 * maps: both go out through escape.h, never raw, so that no process can
 * write control sequences to the terminal of whoever runs this.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "shimproc.h"
#include "tools.h"

#define CMD "sockguard status"
#define LIB_NAME SG_SHIM_LIB_NAME

/* The processes named; each one that is gone or has no shim makes it 1. */
static int collect_pids(struct sg_shim_procs *rs, int n, char **pids)
{
	int status = 0;
	pid_t pid;

	for (int i = 0; i < n; i++) {
		struct sg_shim_proc *r = sg_shim_procs_next(rs);
		if (!r || sg_parse_pid(pids[i], &pid) < 0)
			return -1;
		int rc = sg_shim_inspect(pid, r);
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

/* What a process's live settings block says, next to its counters. */
struct live_view {
	int ok;				/* the block was read */
	uint64_t newest;		/* the newest generation written */
	uint32_t differ;		/* keys differing from its policy */
	const struct sg_live_slot *slot;	/* the adopted one, if still there */
	struct sg_live b;
};

static void read_live(const struct sg_shim_proc *r, struct live_view *v)
{
	uint64_t addr;

	memset(v, 0, sizeof(*v));
	if (!r->readable || sg_shim_block_address(r->pid, SG_LIVE_SYMBOL, &addr) < 0 ||
	    sg_shim_read(r->pid, addr, &v->b, sizeof(v->b)) < 0 ||
	    !sg_live_block_ok(&v->b))
		return;
	v->ok = 1;
	v->newest = v->b.slot[v->b.current & 1].generation;
	v->differ = r->c.generation ? v->b.differ : 0;
	for (int i = 0; i < 2; i++) {
		if (r->c.generation && v->b.slot[i].generation == r->c.generation)
			v->slot = &v->b.slot[i];
	}
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
static void used_columns(const struct sg_shim_procs *rs, uint32_t *classes,
			 uint32_t *causes)
{
	*classes = *causes = 0;
	for (size_t i = 0; i < rs->n; i++) {
		const struct sg_shim_proc *r = &rs->v[i];
		for (int k = 0; r->readable && k < SG_CLASS_COUNT; k++)
			*classes |= (uint32_t)(r->c.events[k] != 0) << k;
		for (int k = 0; r->readable && k < SG_RETRY_COUNT; k++)
			*causes |= (uint32_t)(r->c.retries[k] != 0) << k;
	}
}

static void print_header(uint32_t classes, uint32_t causes)
{
	printf("%7s  %-16s %-8s %5s", "PID", "PROGRAM", "MODE", "GEN");
	for (int k = 0; k < SG_CLASS_COUNT; k++)
		if (classes & (1u << k))
			printf(" %12s", sg_class_name(k));
	for (int k = 0; k < SG_RETRY_COUNT; k++)
		if (causes & (1u << k))
			printf(" %13s", cause_columns[k]);
	printf(" %12s %12s\n", "sigpipe", "dropped");
}

static void print_row(const struct sg_shim_proc *r, uint32_t classes,
		      uint32_t causes)
{
	char comm[SG_ESC_TEXT_SIZE(sizeof(r->comm))];

	/* A name is at most 15 bytes; escaped, it is cut to its column. */
	sg_esc_text(comm, sizeof(comm), r->comm, strlen(r->comm), 16);
	printf("%7d  %-16s ", (int)r->pid, comm);
	if (!r->readable) {
		printf("%-8s ", "?");
		sg_esc_put_text(stdout, r->why);
		putchar('\n');
		return;
	}
	printf("%-8s %5" PRIu64, mode_name(r->c.mode), r->c.generation);
	for (int k = 0; k < SG_CLASS_COUNT; k++)
		if (classes & (1u << k))
			printf(" %12" PRIu64, r->c.events[k]);
	for (int k = 0; k < SG_RETRY_COUNT; k++)
		if (causes & (1u << k))
			printf(" %13" PRIu64, r->c.retries[k]);
	printf(" %12" PRIu64 " %12" PRIu64 "\n", r->c.sigpipe_suppressed,
	       r->c.lines_dropped);
}

/* " KEY=VALUE" for each key that differs (values from the adopted slot). */
static void put_differ(FILE *out, const struct live_view *v, int json)
{
	char val[1024];
	int first = 1;

	for (int k = 0; k < SG_KEY_COUNT; k++) {
		if (!(v->differ & (1u << k)))
			continue;
		val[0] = '\0';
		if (v->slot)
			sg_settings_format(&v->slot->vals, k, val, sizeof(val));
		if (json) {
			fprintf(out, "%s\"%s\":", first ? "" : ",", sg_key_name(k));
			sg_esc_put_json(out, v->slot ? val : "?");
		} else {
			fprintf(out, " %s=%s", sg_key_name(k), v->slot ? val : "?");
		}
		first = 0;
	}
}

/*
 * Below the table, one line per process whose live settings differ from
 * its policy or that has not yet adopted the newest generation written.
 */
static void print_live(const struct sg_shim_procs *rs)
{
	struct live_view v;

	for (size_t i = 0; i < rs->n; i++) {
		const struct sg_shim_proc *r = &rs->v[i];
		read_live(r, &v);
		if (!v.ok || (!v.differ && v.newest == r->c.generation))
			continue;
		printf("%7d  generation %" PRIu64, (int)r->pid, r->c.generation);
		if (v.differ) {
			printf(", differs from its policy:");
			put_differ(stdout, &v, 0);
		} else {
			printf(", its policy's settings");
		}
		if (v.newest != r->c.generation)
			printf(" (generation %" PRIu64 " written, not yet adopted)",
			       v.newest);
		putchar('\n');
	}
}

/*
 * The table: one column per event class and retry cause that is not zero
 * in every row (a quiet host shows a short table), then SIGPIPEs suppressed
 * and log lines dropped, which an operator always wants to see.
 */
static void print_table(const struct sg_shim_procs *rs)
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
	print_live(rs);
}

static void json_live(const struct sg_shim_proc *r)
{
	struct live_view v;

	read_live(r, &v);
	printf(",\"generation\":%" PRIu64 ",\"live\":{", r->c.generation);
	put_differ(stdout, &v, 1);
	printf("}");
	if (v.ok && v.newest != r->c.generation)
		printf(",\"written_generation\":%" PRIu64, v.newest);
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
static void print_json(const struct sg_shim_procs *rs)
{
	printf("[");
	for (size_t i = 0; i < rs->n; i++) {
		const struct sg_shim_proc *r = &rs->v[i];
		printf("%s\n{\"pid\":%d,\"program\":", i ? "," : "", (int)r->pid);
		sg_esc_put_json(stdout, r->comm);
		if (r->readable) {
			json_counters(&r->c);
			json_live(r);
		}
		else
			printf(",\"error\":"), sg_esc_put_json(stdout, r->why);
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
	struct sg_shim_procs rs = { 0 };
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
		if (sg_parse_pid(argv[i], &pid) < 0) {
			fprintf(stderr, CMD ": '%s' is not a process id\n", argv[i]);
			return usage(stderr, 2);
		}
	if (first < argc)
		status = collect_pids(&rs, argc - first, argv + first);
	else
		status = sg_shim_collect_all(&rs, CMD) < 0 ? 1 : 0;
	if (json)
		print_json(&rs);
	else if (status < 0 || rs.n > 0 || first == argc)
		print_table(&rs);
	if (rs.unreadable)
		fprintf(stderr, CMD ": %u process(es) could not be inspected: "
			"permission denied%s\n", rs.unreadable, geteuid() == 0 ?
			"" : " (run as root to see every process)");
	sg_shim_procs_free(&rs);
	return status < 0 ? 1 : status;
}
