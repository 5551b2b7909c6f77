/*
 * The state file of `sockguard metrics` (default
 * /var/lib/sockguard/metrics.state): plain text, one record per line.
 *
 *   sockguard-metrics-state 1
 *   boot BOOT_ID
 *   fields N                    numbers per counts record
 *   program INDEX HEXNAME       the label of each program, in order
 *   gone INDEX N...             counts of a program's processes that are gone
 *   proc PID START INDEX N...   a process as last seen
 *
 * Counts live only as long as the boot: a state written under another
 * boot id, another layout, or that cannot be parsed, is started afresh
 * (after a reboot Prometheus sees a counter reset, as for any exporter).
 */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "sockguard metrics"
#define MAGIC "sockguard-metrics-state 1"

void sg_metrics_boot_id(char *buf, size_t size)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	buf[0] = 0;
	if (f && fgets(buf, (int)size, f))
		buf[strcspn(buf, "\n")] = 0;
	if (f)
		fclose(f);
}

/* Reads SG_METRIC_FIELDS numbers from s; -1 unless exactly that many. */
static int read_counts(const char *s, struct sg_metric_counts *c)
{
	uint64_t *v = (uint64_t *)c;
	char *end;

	for (size_t i = 0; i < SG_METRIC_FIELDS; i++) {
		if (*s != ' ')
			return -1;
		errno = 0;
		v[i] = strtoull(s + 1, &end, 10);
		if (errno || end == s + 1)
			return -1;
		s = end;
	}
	return *s == 0 ? 0 : -1;
}

static int hex_name(const char *s, char *name, size_t size)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 >= size || n == 0)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1 || v == 0)
			return -1;
		name[i] = (char)v;
	}
	name[i] = 0;
	return 0;
}

static int parse_program(struct sg_metrics *m, const char *s)
{
	int idx, at = 0;

	if (sscanf(s, "%d %n", &idx, &at) != 1 || idx != m->nprog ||
	    idx >= SG_METRICS_MAX_PROGRAMS ||
	    hex_name(s + at, m->prog[idx].name, sizeof(m->prog[0].name)) < 0)
		return -1;
	m->nprog++;
	return 0;
}

static int valid_index(const struct sg_metrics *m, int idx)
{
	return idx == SG_METRICS_OTHER || (idx >= 0 && idx < m->nprog);
}

static int parse_gone(struct sg_metrics *m, const char *s)
{
	int idx, at = 0;

	if (sscanf(s, "%d%n", &idx, &at) != 1 || !valid_index(m, idx))
		return -1;
	return read_counts(s + at, &m->prog[idx].gone);
}

static int parse_proc(struct sg_metrics *m, const char *s)
{
	int pid, idx, at = 0;
	uint64_t start;
	struct sg_metrics_proc *r;

	if (sscanf(s, "%d %" SCNu64 " %d%n", &pid, &start, &idx, &at) != 3 ||
	    pid <= 0 || !valid_index(m, idx) || !(r = sg_metrics_proc_add(m)))
		return -1;
	r->pid = pid;
	r->start_ticks = start;
	r->prog = idx;
	return read_counts(s + at, &r->last);
}

/* One line after the header; -1 when it is not a record of this layout. */
static int parse_record(struct sg_metrics *m, const char *line)
{
	char fields[32];

	if (strncmp(line, "boot ", 5) == 0)
		return strcmp(line + 5, m->boot_id) == 0 ? 0 : 1;
	if (strncmp(line, "fields ", 7) == 0) {
		snprintf(fields, sizeof(fields), "%zu", (size_t)SG_METRIC_FIELDS);
		return strcmp(line + 7, fields) == 0 ? 0 : -1;
	}
	if (strncmp(line, "program ", 8) == 0)
		return parse_program(m, line + 8);
	if (strncmp(line, "gone ", 5) == 0)
		return parse_gone(m, line + 5);
	if (strncmp(line, "proc ", 5) == 0)
		return parse_proc(m, line + 5);
	return -1;
}

/* Back to an empty state, keeping the boot id. */
static void reset(struct sg_metrics *m)
{
	char boot[sizeof(m->boot_id)];

	memcpy(boot, m->boot_id, sizeof(boot));
	sg_metrics_free(m);
	memset(m, 0, sizeof(*m));
	memcpy(m->boot_id, boot, sizeof(boot));
}

static int read_state(struct sg_metrics *m, FILE *f, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, rc = 0;

	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		line[strcspn(line, "\n")] = 0;
		if (lineno++ == 0)
			rc = strcmp(line, MAGIC) == 0 ? 0 : -1;
		else
			rc = parse_record(m, line);
	}
	free(line);
	if (rc < 0 || ferror(f))
		fprintf(stderr, CMD ": %s: not a state this version can read; "
			"starting afresh\n", path);
	if (rc != 0 || ferror(f))
		reset(m);	/* another boot's counts do not carry over */
	return 0;
}

int sg_metrics_state_load(struct sg_metrics *m, const char *path)
{
	FILE *f = fopen(path, "re");
	int rc;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, CMD ": %s: %s (use --state FILE or --no-state)\n",
			path, strerror(errno));
		return -1;
	}
	rc = read_state(m, f, path);
	fclose(f);
	return rc;
}

static void put_counts(FILE *f, const struct sg_metric_counts *c)
{
	const uint64_t *v = (const uint64_t *)c;

	for (size_t i = 0; i < SG_METRIC_FIELDS; i++)
		fprintf(f, " %" PRIu64, v[i]);
	fputc('\n', f);
}

static void put_state(FILE *f, const struct sg_metrics *m)
{
	fprintf(f, MAGIC "\nboot %s\nfields %zu\n", m->boot_id,
		(size_t)SG_METRIC_FIELDS);
	for (int i = 0; i < m->nprog; i++) {
		fprintf(f, "program %d ", i);
		for (const char *p = m->prog[i].name; *p; p++)
			fprintf(f, "%02x", (unsigned char)*p);
		fputc('\n', f);
	}
	for (int i = 0; i <= SG_METRICS_OTHER; i++) {
		if (i < m->nprog || i == SG_METRICS_OTHER) {
			fprintf(f, "gone %d", i);
			put_counts(f, &m->prog[i].gone);
		}
	}
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct sg_metrics_proc *r = &m->procs[i];
		fprintf(f, "proc %d %" PRIu64 " %d", (int)r->pid, r->start_ticks,
			r->prog);
		put_counts(f, &r->last);
	}
}

int sg_metrics_state_save(const struct sg_metrics *m, const char *path)
{
	char tmp[4096];
	int fd = -1;
	FILE *f = NULL;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) < (int)sizeof(tmp) &&
	    (fd = mkstemp(tmp)) >= 0)
		f = fdopen(fd, "w");
	if (!f) {
		fprintf(stderr, CMD ": %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd), unlink(tmp);
		return -1;
	}
	put_state(f, m);
	int bad = fflush(f) != 0 || fsync(fd) < 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) < 0) {
		fprintf(stderr, CMD ": %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
