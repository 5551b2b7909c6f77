/*
 * `sockguard metrics`: the counters of every process running with the
 * shim, in the Prometheus text format, with the counts of processes that
 * have exited kept in a small state file so that no exported counter goes
 * backwards while the host runs (sockguard(8), "metrics").
 */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../policy/live.h"

/* Programs with a label of their own; the rest share program="other". */
#define SG_METRICS_MAX_PROGRAMS 50
#define SG_METRICS_OTHER SG_METRICS_MAX_PROGRAMS

/* The event classes (not suppressed, summary) and actions, plus "none". */
#define SG_METRICS_NCLASS SG_CLASS_SUPPRESSED
#define SG_METRICS_NACTION (SG_ACTION_COUNT + 1)
#define SG_METRICS_NO_ACTION SG_ACTION_COUNT

enum sg_metrics_line { SG_LINES_WRITTEN, SG_LINES_SUPPRESSED, SG_LINES_DROPPED,
		       SG_LINES_COUNT };

/* Process modes as labels; unknown: its counters could not be read. */
enum { SG_METRICS_MODE_UNKNOWN = 3, SG_METRICS_NMODE = 4 };

/* What is exported of one process's counter block, or of a sum of them. */
struct sg_metric_counts {
	uint64_t events[SG_METRICS_NCLASS][SG_METRICS_NACTION];
	uint64_t retries[SG_RETRY_COUNT];
	uint64_t sigpipe;
	uint64_t lines[SG_LINES_COUNT];
};

#define SG_METRIC_FIELDS (sizeof(struct sg_metric_counts) / sizeof(uint64_t))

struct sg_metrics_program {
	char name[16];			/* comm; "" for an unused slot */
	struct sg_metric_counts gone;	/* processes that are gone */
	struct sg_metric_counts total;	/* gone + live: what is exported */
	unsigned procs[SG_METRICS_NMODE];	/* live processes by mode */
};

/* A process as last seen: what the state file keeps of the live ones. */
struct sg_metrics_proc {
	pid_t pid;
	uint64_t start_ticks;
	int prog;			/* index into programs */
	int seen;			/* found again in this run */
	struct sg_metric_counts last;
};

struct sg_metrics {
	char boot_id[40];
	int nprog;			/* programs[0..nprog) named */
	struct sg_metrics_program prog[SG_METRICS_MAX_PROGRAMS + 1];
	struct sg_metrics_proc *procs;
	size_t nprocs, cap;
};

/* The exported part of a counter block. */
void sg_metrics_from_counters(struct sg_metric_counts *m,
			      const struct sg_counters *c);

/* a += b, saturating; whether any field of b is below the same in a. */
void sg_metrics_add(struct sg_metric_counts *a, const struct sg_metric_counts *b);
int sg_metrics_any_below(const struct sg_metric_counts *now,
			 const struct sg_metric_counts *before);

/*
 * The label index for a program name: its own while fewer than
 * SG_METRICS_MAX_PROGRAMS names have one, else SG_METRICS_OTHER.  A name
 * keeps its index for as long as the state lives, so a series never moves
 * between program="NAME" and program="other".
 */
int sg_metrics_program(struct sg_metrics *m, const char *name);

/* A process to remember; NULL when memory runs out. */
struct sg_metrics_proc *sg_metrics_proc_add(struct sg_metrics *m);

/*
 * The exposition: Prometheus text format 0.0.4, or with openmetrics the
 * OpenMetrics 1.0 text format (counter families named without _total,
 * "# EOF" at the end).  Returns 0, or -1 on a write error.
 */
int sg_metrics_write(FILE *out, const struct sg_metrics *m, int openmetrics);

/*
 * The state file: loaded (a missing file, another boot's or a broken one
 * gives an empty state; 0, or -1 with a message when it cannot be read),
 * and saved atomically (a temporary file beside it, then rename(2)).
 */
int sg_metrics_state_load(struct sg_metrics *m, const char *path);
int sg_metrics_state_save(const struct sg_metrics *m, const char *path);

/* This boot's id (/proc/sys/kernel/random/boot_id), "" when unknown. */
void sg_metrics_boot_id(char *buf, size_t size);

void sg_metrics_free(struct sg_metrics *m);

#endif
