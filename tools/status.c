/*
 * `sockguard status [--json] [PID]...`: the processes that have the shim
 * loaded, and their live counters (sockguard(8)).  Finding them and reading
 * their counters is tools/shimproc.c's job.
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
	printf("%7s  %-16s %-8s", "PID", "PROGRAM", "MODE");
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
		if (r->readable)
			json_counters(&r->c);
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
