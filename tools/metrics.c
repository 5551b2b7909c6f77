/*
 * `sockguard metrics [-o FILE] [--openmetrics] [--state FILE | --no-state]`
 * (sockguard(8), "metrics"): reads the counter block of every process
 * running with the shim (tools/shimproc.c), adds the counts of processes
 * that have gone since (the state file, tools/metrics_state.c) and writes
 * the exposition (tools/metrics_fmt.c), atomically with -o for
 * node_exporter's textfile collector.
 *
 * The rule that keeps counters from going backwards: each run remembers
 * every process it read (pid and start time, which tell a reused pid
 * apart) with its counts.  A process that is gone by the next run has its
 * last counts added to its program's "gone" counts, and so does one whose
 * counts fell (it ran exec(3) and the shim started again).  What is
 * exported per program is gone + the live processes' counts.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shimproc.h"
#include "tools.h"

#define CMD "sockguard metrics"
#define DEFAULT_STATE "/var/lib/sockguard/metrics.state"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t s;

	return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

void sg_metrics_from_counters(struct sg_metric_counts *m,
			      const struct sg_counters *c)
{
	memset(m, 0, sizeof(*m));
	for (int k = 0; k < SG_METRICS_NCLASS; k++) {
		uint64_t acted = 0;
		for (int a = 0; a < SG_ACTION_COUNT; a++) {
			m->events[k][a] = c->by_action[k][a];
			acted = sat_add(acted, c->by_action[k][a]);
		}
		/* Events without an action (eof) are the rest of the class. */
		m->events[k][SG_METRICS_NO_ACTION] =
			c->events[k] > acted ? c->events[k] - acted : 0;
	}
	memcpy(m->retries, c->retries, sizeof(m->retries));
	m->sigpipe = c->sigpipe_suppressed;
	m->lines[SG_LINES_WRITTEN] = c->lines_written;
	m->lines[SG_LINES_SUPPRESSED] = c->lines_suppressed;
	m->lines[SG_LINES_DROPPED] = c->lines_dropped;
}

void sg_metrics_add(struct sg_metric_counts *a, const struct sg_metric_counts *b)
{
	uint64_t *x = (uint64_t *)a;
	const uint64_t *y = (const uint64_t *)b;

	for (size_t i = 0; i < SG_METRIC_FIELDS; i++)
		x[i] = sat_add(x[i], y[i]);
}

int sg_metrics_any_below(const struct sg_metric_counts *now,
			 const struct sg_metric_counts *before)
{
	const uint64_t *x = (const uint64_t *)now, *y = (const uint64_t *)before;

	for (size_t i = 0; i < SG_METRIC_FIELDS; i++)
		if (x[i] < y[i])
			return 1;
	return 0;
}

/*
 * A real program called "other" shares the label of the programs past the
 * cap: the two could not be told apart in the exposition anyway.
 */
int sg_metrics_program(struct sg_metrics *m, const char *name)
{
	if (strcmp(name, "other") == 0)
		return SG_METRICS_OTHER;
	for (int i = 0; i < m->nprog; i++)
		if (strcmp(m->prog[i].name, name) == 0)
			return i;
	if (m->nprog >= SG_METRICS_MAX_PROGRAMS)
		return SG_METRICS_OTHER;
	snprintf(m->prog[m->nprog].name, sizeof(m->prog[0].name), "%s", name);
	return m->nprog++;
}

struct sg_metrics_proc *sg_metrics_proc_add(struct sg_metrics *m)
{
	if (m->nprocs == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct sg_metrics_proc *v = realloc(m->procs, cap * sizeof(*v));
		if (!v)
			return NULL;
		m->procs = v;
		m->cap = cap;
	}
	memset(&m->procs[m->nprocs], 0, sizeof(m->procs[0]));
	return &m->procs[m->nprocs++];
}

void sg_metrics_free(struct sg_metrics *m)
{
	free(m->procs);
	m->procs = NULL;
	m->nprocs = m->cap = 0;
}

static struct sg_metrics_proc *find_proc(struct sg_metrics *m, size_t n,
					 pid_t pid, uint64_t start)
{
	for (size_t i = 0; i < n; i++)
		if (m->procs[i].pid == pid && m->procs[i].start_ticks == start)
			return &m->procs[i];
	return NULL;
}

/* One live process into the remembered ones (the first n came from the state). */
static int merge_live(struct sg_metrics *m, size_t n, const struct sg_shim_proc *p)
{
	struct sg_metrics_proc *r = find_proc(m, n, p->pid, p->start_ticks);
	struct sg_metric_counts now;
	int mode = p->readable && p->c.mode < SG_METRICS_MODE_UNKNOWN ?
		   (int)p->c.mode : SG_METRICS_MODE_UNKNOWN;

	if (r)
		r->seen = 1;
	if (!p->readable) {
		/* Known: keep its last counts.  Unknown: nothing to count yet. */
		m->prog[r ? r->prog : sg_metrics_program(m, p->comm)].procs[mode]++;
		return 0;
	}
	sg_metrics_from_counters(&now, &p->c);
	if (r && sg_metrics_any_below(&now, &r->last)) {
		/* exec(3): the shim started again; the old counts are kept. */
		sg_metrics_add(&m->prog[r->prog].gone, &r->last);
		r->prog = sg_metrics_program(m, p->comm);
	} else if (!r) {
		if (!(r = sg_metrics_proc_add(m)))
			return -1;
		r->pid = p->pid;
		r->start_ticks = p->start_ticks;
		r->prog = sg_metrics_program(m, p->comm);
		r->seen = 1;
	}
	r->last = now;
	m->prog[r->prog].procs[mode]++;
	return 0;
}

/* Whether pid still runs with that start time, readable by us or not. */
static int still_running(const struct sg_metrics_proc *r)
{
	struct sg_shim_proc p;

	return sg_shim_inspect(r->pid, &p) > 0 && p.start_ticks == r->start_ticks;
}

/*
 * Folds the processes that are gone into their programs' "gone" counts,
 * drops them from the list, and sums up what is exported.
 */
static void settle(struct sg_metrics *m)
{
	size_t kept = 0;

	for (size_t i = 0; i < m->nprocs; i++) {
		struct sg_metrics_proc *r = &m->procs[i];
		if (!r->seen && !still_running(r)) {
			sg_metrics_add(&m->prog[r->prog].gone, &r->last);
			continue;
		}
		m->procs[kept++] = *r;
	}
	m->nprocs = kept;
	for (int p = 0; p <= SG_METRICS_OTHER; p++)
		m->prog[p].total = m->prog[p].gone;
	for (size_t i = 0; i < m->nprocs; i++)
		sg_metrics_add(&m->prog[m->procs[i].prog].total, &m->procs[i].last);
}

static int collect(struct sg_metrics *m)
{
	struct sg_shim_procs ps = { 0 };
	size_t known = m->nprocs;
	int rc = sg_shim_collect_all(&ps, CMD);

	for (size_t i = 0; rc == 0 && i < ps.n; i++)
		if (merge_live(m, known, &ps.v[i]) < 0) {
			fprintf(stderr, CMD ": out of memory\n");
			rc = -1;
		}
	if (rc == 0 && ps.unreadable)
		fprintf(stderr, CMD ": %u process(es) could not be inspected: "
			"permission denied%s\n", ps.unreadable, geteuid() == 0 ?
			"" : " (run as root to see every process)");
	sg_shim_procs_free(&ps);
	if (rc == 0)
		settle(m);
	return rc;
}

/*
 * Serialises runs (the timer's and one by hand): two runs that read the
 * same state and wrote their own would lose a process one of them saw.
 * Waits up to 10 s.  Returns the lock's descriptor, or -1.
 */
static int lock_state(const char *state)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s.lock", state);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		fprintf(stderr, CMD ": %s: %s (use --state FILE or --no-state)\n",
			path, strerror(errno));
		return -1;
	}
	for (int i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
		if (errno != EWOULDBLOCK || i == 100) {
			fprintf(stderr, CMD ": %s: %s\n", path, errno == EWOULDBLOCK ?
				"held by another run for 10 s" : strerror(errno));
			close(fd);
			return -1;
		}
		usleep(100 * 1000);
	}
	return fd;
}

/* The state directory, made when missing (only its last component). */
static void make_state_dir(const char *state)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", state);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = 0;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return;	/* the lock's open says why */
}

/* Writes the exposition to path through a temporary file and rename(2). */
static int write_file(const struct sg_metrics *m, const char *path, int om)
{
	char tmp[4096];
	const char *slash = strrchr(path, '/');
	int n = snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX",
			 slash ? (int)(slash - path + 1) : 0, path,
			 slash ? slash + 1 : path);
	int fd = n < (int)sizeof(tmp) ? mkstemp(tmp) : -1;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		fprintf(stderr, CMD ": %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd), unlink(tmp);
		return -1;
	}
	int bad = fchmod(fd, 0644) < 0 || sg_metrics_write(f, m, om) < 0 ||
		  fflush(f) != 0 || fsync(fd) < 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) < 0) {
		fprintf(stderr, CMD ": %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

struct options {
	const char *out;
	const char *state;
	int openmetrics;
};

static int usage(FILE *out, int status)
{
	fprintf(out, "usage: sockguard metrics [-o FILE] [--openmetrics] "
		"[--state FILE | --no-state]\n");
	return status;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "state", required_argument, NULL, 's' },
		{ "no-state", no_argument, NULL, 'n' },
		{ "openmetrics", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "ho:", longs, NULL)) != -1) {
		switch (opt) {
		case 'o': o->out = optarg; break;
		case 's': o->state = optarg; break;
		case 'n': o->state = NULL; break;
		case 'O': o->openmetrics = 1; break;
		case 'h': return usage(stdout, 0) - 1;
		default: return usage(stderr, 2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, CMD ": unexpected argument '%s'\n", argv[optind]);
		return usage(stderr, 2);
	}
	return 0;
}

/* Loads, collects and saves under the lock; 0, or the exit status. */
static int gather(struct sg_metrics *m, const char *state)
{
	int lock = -1, rc = 0;

	if (state) {
		make_state_dir(state);
		if ((lock = lock_state(state)) < 0 ||
		    sg_metrics_state_load(m, state) < 0)
			rc = 1;
	}
	if (rc == 0 && collect(m) < 0)
		rc = 1;
	if (rc == 0 && state && sg_metrics_state_save(m, state) < 0)
		rc = 1;
	if (lock >= 0)
		close(lock);
	return rc;
}

/*
 * Exit status: 0; 1 when the state could not be read or written, or the
 * output not written (nothing is written then, so that a scraper keeps the
 * last good file); 2 for bad arguments.
 */
int sg_cmd_metrics(int argc, char **argv)
{
	struct options o = { .state = DEFAULT_STATE };
	struct sg_metrics m = { 0 };
	int rc = parse_args(argc, argv, &o);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	sg_metrics_boot_id(m.boot_id, sizeof(m.boot_id));
	rc = gather(&m, o.state);
	if (rc == 0 && o.out)
		rc = write_file(&m, o.out, o.openmetrics) < 0;
	else if (rc == 0)
		rc = sg_metrics_write(stdout, &m, o.openmetrics) < 0 ||
		     fflush(stdout) != 0;
	sg_metrics_free(&m);
	return rc;
}
