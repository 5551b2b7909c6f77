/*
 * `sockguard report [--json] [--svg FILE] [--top N] [--since TIME]
 * [--until TIME] [--class LIST] [--host GLOB] [--program GLOB] [FILE]...`
 * (sockguard(8)): reads sockguard log lines from syslog files,
 * journalctl output or stdin, and prints which faults happened, where and
 * when.  This file holds the command line; parsing, counting and the three
 * writers live in the other files of tools/report/.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "../tools.h"

struct options {
	int json;
	const char *svg;
	int nfiles;
	char **files;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sockguard report [--json] [--svg FILE] [--top N] [--since TIME]\n"
		"                        [--until TIME] [--class LIST] [--host GLOB]\n"
		"                        [--program GLOB] [FILE]...\n"
		"\n"
		"Reads sockguard log lines (syslog files in RFC 3164 or RFC 5424; journalctl\n"
		"-o short, short-iso, short-precise, json, json-seq or export output; FILE.gz\n"
		"through gzip -dc; no FILE or - for stdin) and reports faults by class, peer,\n"
		"program, host and time.\n"
		"\n"
		"  --json          one JSON document instead of text\n"
		"  --svg FILE      also draw the time line as an SVG picture\n"
		"  --top N         peers shown per class (default 10)\n"
		"  --since TIME    only events at or after TIME\n"
		"  --until TIME    only events before TIME\n"
		"                  TIME: 2026-11-25T19:00:00, 2026-11-25 19:00, 2026-11-25,\n"
		"                  with an optional zone (Z, +01:00), or relative to now:\n"
		"                  -90s, -30m, -2h, -1d, -1w\n"
		"  --class LIST    only these classes, comma-separated (reset,refused,...)\n"
		"  --host GLOB     only hosts matching GLOB (fnmatch)\n"
		"  --program GLOB  only programs matching GLOB (fnmatch)\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("sockguard report: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(stderr);
	return 2;
}

/* "reset,timeout": a bit per class; -1 for a name that is not a class. */
static int parse_classes(const char *list, unsigned *mask)
{
	const char *p = list;

	*mask = 0;
	for (;;) {
		size_t n = strcspn(p, ",");
		int cls = sg_class_from_name(p, n);
		if (cls < 0 || cls >= SG_REPORT_NCLASS)
			return -1;
		*mask |= 1u << cls;
		if (p[n] == 0)
			return 0;
		p += n + 1;
	}
}

static int parse_top(const char *s, int *top)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == 0 || *end != 0 || v < 0 || v > 100000)
		return -1;
	*top = (int)v;
	return 0;
}

enum { OPT_JSON = 256, OPT_SVG, OPT_TOP, OPT_SINCE, OPT_UNTIL, OPT_CLASS,
       OPT_HOST, OPT_PROGRAM };

static const struct option long_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "svg", required_argument, NULL, OPT_SVG },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "class", required_argument, NULL, OPT_CLASS },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "program", required_argument, NULL, OPT_PROGRAM },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option into the report or options; 0, or the exit status to use. */
static int apply_option(int opt, struct sg_report *r, struct options *o)
{
	struct sg_report_filter *f = &r->filter;

	switch (opt) {
	case OPT_JSON: o->json = 1; return 0;
	case OPT_SVG: o->svg = optarg; return 0;
	case OPT_HOST: f->host_glob = optarg; return 0;
	case OPT_PROGRAM: f->prog_glob = optarg; return 0;
	case OPT_TOP:
		return parse_top(optarg, &r->top) ? usage_error("bad --top '%s'", optarg) : 0;
	case OPT_SINCE:
		return sg_report_parse_when(optarg, sg_report_now(), &f->since) ?
			usage_error("bad --since time '%s'", optarg) : 0;
	case OPT_UNTIL:
		return sg_report_parse_when(optarg, sg_report_now(), &f->until) ?
			usage_error("bad --until time '%s'", optarg) : 0;
	case OPT_CLASS:
		return parse_classes(optarg, &f->classes) ?
			usage_error("bad --class list '%s'", optarg) : 0;
	case 'h':
		usage(stdout);
		return -1;
	default:
		usage(stderr);
		return 2;
	}
}

static int parse_args(int argc, char **argv, struct sg_report *r,
		      struct options *o)
{
	int opt, rc;

	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		if ((rc = apply_option(opt, r, o)) != 0)
			return rc;
	}
	o->nfiles = argc - optind;
	o->files = argv + optind;
	return 0;
}

static int write_svg_file(const struct sg_report *r, const char *path)
{
	FILE *f = fopen(path, "w");
	int bad = !f || sg_report_write_svg(r, f) < 0 || ferror(f);

	/* Closed exactly once, whatever failed. */
	if ((f && fclose(f) != 0) || bad) {
		fprintf(stderr, "sockguard report: %s: cannot write\n", path);
		return -1;
	}
	return 0;
}

/*
 * Exit status: 2 for a usage error, 1 when a file could not be read or the
 * SVG not written (the figures printed are then incomplete), else 0.
 */
int sg_cmd_report(int argc, char **argv)
{
	struct sg_report r;
	struct options o = { 0 };
	int rc = 0;

	if (sg_report_init(&r) < 0) {
		fprintf(stderr, "sockguard report: out of memory\n");
		return 1;
	}
	rc = parse_args(argc, argv, &r, &o);
	if (rc != 0) {
		sg_report_free(&r);
		return rc < 0 ? 0 : rc;
	}
	if (o.nfiles == 0)
		sg_report_feed_path(&r, "-");
	for (int i = 0; i < o.nfiles; i++)
		sg_report_feed_path(&r, o.files[i]);
	if (r.counts.malformed > r.quoted)
		fprintf(stderr, "sockguard report: %llu more malformed lines not quoted\n",
			(unsigned long long)(r.counts.malformed - r.quoted));
	if (o.json)
		sg_report_write_json(&r, stdout);
	else
		sg_report_write_text(&r, stdout);
	if (o.svg && write_svg_file(&r, o.svg) < 0)
		rc = 1;
	if (r.io_errors || fflush(stdout) != 0)
		rc = 1;
	sg_report_free(&r);
	return rc;
}
