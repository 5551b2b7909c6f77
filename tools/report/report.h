/*
 * `sockguard report`: the pieces shared by the line parser, the tallies and
 * the three writers (text, JSON, SVG).  The parser never allocates; the
 * strings of an event point into the line (or, for journal JSON, into the
 * parser's own buffer until its next call); the tallies copy what they keep,
 * and cap the number of distinct keys so memory stays bounded on any input.
 */
#ifndef SG_REPORT_H
#define SG_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "../../policy/classify.h"
#include "../escape.h"

/* The classes that are events; suppressed and summary are bookkeeping. */
#define SG_REPORT_NCLASS SG_CLASS_SUPPRESSED

/* Distinct keys kept per table; the rest are counted as "other". */
#define SG_REPORT_MAX_KEYS 4096

/* Longest key kept (host, program, peer); longer ones are cut there. */
#define SG_REPORT_MAX_KEY 128

/* Programs and hosts remembered for each peer. */
#define SG_REPORT_PEER_SEEN 4

#define SG_REPORT_NO_TIME INT64_MIN

/*
 * What the time parsers store for a timestamp that has the right shape but
 * names no real moment (Feb 30, 2026-02-29, 23:59:60, a year outside
 * 1970-9999): the line is then malformed, not silently moved.
 */
#define SG_REPORT_BAD_TIME (INT64_MIN + 1)
#define SG_REPORT_MIN_YEAR 1970
#define SG_REPORT_MAX_YEAR 9999

/*
 * Counts taken from the input never wrap: a sum that would pass
 * UINT64_MAX stays there (sockguard(8), "report").
 */
static inline uint64_t sg_report_sat_add(uint64_t a, uint64_t b)
{
	uint64_t s;

	return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

static inline uint64_t sg_report_sat_mul(uint64_t a, uint64_t b)
{
	uint64_t p;

	return __builtin_mul_overflow(a, b, &p) ? UINT64_MAX : p;
}

static inline void sg_report_bump(uint64_t *v, uint64_t n)
{
	*v = sg_report_sat_add(*v, n);
}

/* What sg_report_parse_line() found. */
enum sg_report_line {
	SG_REPORT_MALFORMED = -1,	/* a sockguard line we cannot read */
	SG_REPORT_SKIP = 0,		/* not a sockguard event */
	SG_REPORT_EVENT = 1,		/* out is filled */
};

enum sg_report_kind {
	SG_REPORT_KIND_EVENT,		/* one fault (class reset ... fd_exhausted) */
	SG_REPORT_KIND_SUPPRESSED,	/* count events of class cls held back */
	SG_REPORT_KIND_SUMMARY,		/* a process's totals so far (periodic, at exit) */
};

/* A byte range inside the parsed line (not NUL-terminated). */
struct sg_report_str {
	const char *p;
	size_t n;
};

struct sg_report_event {
	int kind;			/* enum sg_report_kind */
	int64_t time;			/* seconds since the epoch, or SG_REPORT_NO_TIME */
	struct sg_report_str host;	/* empty when the line names no host */
	struct sg_report_str prog;
	struct sg_report_str peer;
	struct sg_report_str op;
	long pid;			/* -1 when unknown */
	int64_t started;		/* summary started=: -1 when absent */
	int cls;			/* for suppressed: the class held back */
	int action;			/* -1 when absent */
	int deadline;			/* SG_DEADLINE_NONE when absent */
	uint64_t count;			/* events this line stands for */
	uint64_t dropped;		/* lines the shim could not send earlier */
	uint64_t classes[SG_REPORT_NCLASS];	/* summary totals */
	uint64_t actions[SG_ACTION_COUNT];	/* summary totals */
	const char *reason;		/* why a line is malformed */
};

/*
 * Reads one log line (without its newline) in any of the supported formats.
 * Returns SG_REPORT_EVENT with *out filled (its strings point into line),
 * SG_REPORT_SKIP for a line that is not a sockguard event, or
 * SG_REPORT_MALFORMED with out->reason set.  Safe on any bytes.
 */
int sg_report_parse_line(const char *line, size_t len,
			 struct sg_report_event *out);

struct sg_report;

/* An event with nothing known yet (no time, no pid, no class, count 1). */
void sg_report_event_init(struct sg_report_event *out);

/* The fields of a journal entry that report reads (journalctl -o json, export). */
struct sg_report_journal {
	struct sg_report_str message, ident, host, comm, pid, syslog_pid, realtime;
};

/*
 * A journal entry as an event: sockguard's when SYSLOG_IDENTIFIER is
 * "sockguard"; MESSAGE is the line body; host, time and pid from the
 * journal's own fields.  Returns as sg_report_parse_line() does.
 */
int sg_report_journal_event(const struct sg_report_journal *j,
			    struct sg_report_event *out);

/*
 * One line of `journalctl -o json` (or json-seq).  The event's strings
 * point into a buffer of the parser's own, valid until the next call.
 */
int sg_report_parse_json(const char *line, size_t len,
			 struct sg_report_event *out);

/*
 * Whether an input is `journalctl -o export` output, from its first bytes
 * (at least its first line): it starts with a field "__NAME=".
 */
int sg_report_is_export(const char *buf, size_t n);

/*
 * Reads export format from fd to its end, counting each entry as one
 * line; buf (cap bytes) already holds the first `have` bytes read.
 * Returns 0, or -1 on a read error.
 */
int sg_report_read_export(struct sg_report *r, int fd, const char *name,
			  char *buf, size_t have, size_t cap);

/*
 * Counts one parsed record (a line, or a journal entry) as
 * sg_report_feed_line() does; quote is what a malformed one is quoted as.
 */
void sg_report_count_parsed(struct sg_report *r, int rc,
			    const struct sg_report_event *ev, const char *quote,
			    size_t qlen, const char *name, uint64_t lineno);

/*
 * Reads the key=value body that starts with "class=", for the line parser.
 * Unknown keys are ignored, so a newer shim's lines still count.
 */
int sg_report_parse_body(const char *body, size_t len,
			 struct sg_report_event *out);

/*
 * The clock that year-less timestamps are placed against; defaults to
 * time(NULL) at first use.  Tests set it to make the year deterministic.
 */
void sg_report_set_now(int64_t now);
int64_t sg_report_now(void);

/*
 * Timestamps: the parsers return the bytes consumed, 0 when none match;
 * *t is SG_REPORT_BAD_TIME when the text has a timestamp's shape but names
 * no real moment.
 */
size_t sg_report_parse_bsd_time(const char *s, size_t n, int64_t *t);
size_t sg_report_parse_iso_time(const char *s, size_t n, int64_t *t);
int64_t sg_report_local_epoch(int year, int mon, int mday, int hour,
			      int min, int sec);

/*
 * A --since/--until argument: ISO date and time ("2026-11-25T19:00:00",
 * "2026-11-25 19:00", "2026-11-25"), an optional zone ("Z", "+01:00"), or
 * a time relative to now ("-2h", "-30m", "-1d", "-90s", "-1w").  Returns 0,
 * or -1 when the text is not a time.
 */
int sg_report_parse_when(const char *s, int64_t now, int64_t *t);

/*
 * One table entry: a key (the raw bytes copied, NUL-terminated for
 * convenience but possibly holding NULs) and counts per class.
 */
struct sg_report_entry {
	char *key;
	uint32_t len;
	uint32_t hash;
	uint64_t total;
	uint64_t classes[SG_REPORT_NCLASS];
	uint64_t actions[SG_ACTION_COUNT];
	int64_t time;			/* processes: the time of the summary kept */
};

/* A capped hash table of entries keyed by byte strings. */
struct sg_report_table {
	struct sg_report_entry *entries;
	uint32_t count;
	uint32_t *slots;		/* entry index + 1, 0 when empty */
	uint64_t dropped_keys;		/* lookups refused because of the cap */
	struct sg_report_entry other;	/* counts for keys past the cap */
};

/* Who met a peer: a few programs and hosts, by table index. */
struct sg_report_seen {
	int32_t idx[SG_REPORT_PEER_SEEN];
	uint64_t n[SG_REPORT_PEER_SEEN];
	uint64_t other;
};

/* Fills order with the indexes of s sorted by count; returns how many. */
int sg_report_seen_sorted(const struct sg_report_seen *s,
			  int order[SG_REPORT_PEER_SEEN]);

struct sg_report_peer {
	struct sg_report_seen progs;
	struct sg_report_seen hosts;
};

/* Time line granularities, finest first. */
enum sg_report_grain { SG_GRAIN_MINUTE, SG_GRAIN_HOUR, SG_GRAIN_DAY,
		       SG_GRAIN_COUNT };

struct sg_report_filter {
	int64_t since, until;		/* SG_REPORT_NO_TIME when unset */
	unsigned classes;		/* bit per class; all when none given */
	const char *host_glob;
	const char *prog_glob;
};

struct sg_report_counts {
	uint64_t lines;
	uint64_t event_lines;		/* one event each (or repeated) */
	uint64_t suppressed_lines;
	uint64_t suppressed_events;	/* events those lines stand for */
	uint64_t summary_lines;
	uint64_t skipped;
	uint64_t malformed;
	uint64_t filtered;		/* sockguard lines left out by a filter */
	uint64_t dropped;		/* dropped=N: lines the shim lost */
	uint64_t long_lines;		/* cut at the line-length limit */
	uint64_t untimed;		/* events without a usable timestamp */
};

/* Everything the report knows; the writers only read it. */
struct sg_report {
	struct sg_report_filter filter;
	struct sg_report_counts counts;
	uint64_t classes[SG_REPORT_NCLASS];
	uint64_t actions[SG_ACTION_COUNT];
	uint64_t class_actions[SG_REPORT_NCLASS][SG_ACTION_COUNT];
	uint64_t deadlines[SG_DEADLINE_COUNT];
	uint64_t events;
	struct sg_report_table peers[SG_REPORT_NCLASS];
	struct sg_report_peer *peer_seen[SG_REPORT_NCLASS];
	struct sg_report_table progs;
	struct sg_report_table hosts;
	struct sg_report_table processes;
	struct sg_report_table grains[SG_GRAIN_COUNT];
	int64_t first, last;		/* SG_REPORT_NO_TIME when no timed event */
	int top;
	unsigned quoted;		/* malformed lines quoted so far */
	unsigned max_quoted;
	FILE *diag;			/* where malformed lines are quoted */
	int io_errors;
};

/* Sets up an empty report; returns 0, or -1 when memory runs out. */
int sg_report_init(struct sg_report *r);
void sg_report_free(struct sg_report *r);

/* Counts one parsed line that passed the filters. */
void sg_report_add(struct sg_report *r, const struct sg_report_event *ev);

/* Parses, filters and counts one line; name and lineno are for messages. */
void sg_report_feed_line(struct sg_report *r, const char *line, size_t len,
			 const char *name, uint64_t lineno);

/* Reads every line of a descriptor, a path ("-" is stdin, "*.gz" gunzips). */
int sg_report_feed_fd(struct sg_report *r, int fd, const char *name);
int sg_report_feed_path(struct sg_report *r, const char *path);

/* Does the event pass --since/--until/--class/--host/--program? */
int sg_report_filter_pass(const struct sg_report_filter *f,
			  const struct sg_report_event *ev);

/* Table primitives. */
int sg_report_table_init(struct sg_report_table *t);
void sg_report_table_free(struct sg_report_table *t);
struct sg_report_entry *sg_report_table_get(struct sg_report_table *t,
					    const char *key, size_t len,
					    int32_t *idx);
struct sg_report_entry *sg_report_table_find(const struct sg_report_table *t,
					     const char *key, size_t len);

/*
 * Entry indexes sorted by descending total (ties by key); the caller frees.
 * By key ascending when by_key is set (time buckets).
 */
uint32_t *sg_report_table_sorted(const struct sg_report_table *t, int by_key);

/*
 * The time line granularity the writers use: minutes for spans under
 * three hours, hours up to a week, days beyond; coarser when a finer table
 * overflowed its cap.  Also the seconds per bucket.
 */
int sg_report_pick_grain(const struct sg_report *r);
int64_t sg_report_grain_seconds(int grain);
int64_t sg_report_bucket_time(const struct sg_report_entry *e);

/*
 * Start of the local-time interval of `step` seconds that holds t (minutes,
 * hours, days: aligned as a wall clock shows them).
 */
int64_t sg_report_local_floor(int64_t t, int64_t step);

/*
 * The time line as the writers draw it: rows of `step` seconds from
 * `from`, empty ones included, built from the finest granularity that fits
 * and merged (5 minutes, 3 hours, ...) until there are at most max_rows.
 */
struct sg_report_series {
	int grain;			/* the table it was built from */
	int64_t step, from;
	size_t n;
	struct sg_report_entry *rows;	/* totals and classes per row */
	uint64_t max;			/* the largest row total */
};

int sg_report_series_make(const struct sg_report *r, size_t max_rows,
			  struct sg_report_series *s);
void sg_report_series_free(struct sg_report_series *s);

/* "minute", "5 minutes", "3 hours", "day", ... for a row length. */
void sg_report_fmt_step(char *buf, size_t len, int64_t step);

/* Formats a time as "2026-11-25 19:20" (local) or ISO 8601 with offset. */
void sg_report_fmt_time(char *buf, size_t len, int64_t t, int with_seconds);
void sg_report_fmt_iso(char *buf, size_t len, int64_t t);

/* Which classes have any events (bit per class). */
unsigned sg_report_active_classes(const struct sg_report *r);

/* A buffer for the terminal text of one key (escape.h, sg_esc_text). */
#define SG_REPORT_NAME_BUF SG_ESC_TEXT_SIZE(SG_REPORT_MAX_KEY)

/* The three outputs. */
void sg_report_write_text(const struct sg_report *r, FILE *out);
void sg_report_write_json(const struct sg_report *r, FILE *out);
int sg_report_write_svg(const struct sg_report *r, FILE *out);

#endif
