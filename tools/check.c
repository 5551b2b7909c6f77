/*
 * `sockguard check [-p PROGRAM] [FILE]` (sockguard(8), "check"): validates a
 * policy with the shim's own parser and shows, for PROGRAM, every key's
 * effective value and where it was set.  Exit 0 when the policy is valid, 1
 * with `file:line: message` lines on stderr otherwise, 2 on a usage error.
 *
 * The policy is the one the shim would use: FILE, else $SOCKGUARD_CONFIG,
 * else /etc/sockguard.conf (its absence is not an error), then
 * $SOCKGUARD_OPTIONS.  Without -p no [program] section matches, which shows
 * what every program not named in the file gets.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "escape.h"
#include "preload.h"
#include "tools.h"

#define CHECK_USAGE "usage: sockguard check [-p PROGRAM] [FILE]\n"

struct check_args {
	const char *program;
	const char *file;	/* NULL: $SOCKGUARD_CONFIG or the default */
};

struct check_target {
	const char *name;	/* short name; NULL without -p */
	const char *path;	/* executable path; NULL when unknown */
	char found[4096];
};

static int parse_args(int argc, char **argv, struct check_args *a)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(CHECK_USAGE, stdout);
			exit(0);
		}
		if (strcmp(argv[i], "-p") != 0 || i + 1 >= argc || !argv[i + 1][0])
			return -1;
		a->program = argv[++i];
	}
	if (i < argc)
		a->file = argv[i++];
	return i == argc ? 0 : -1;
}

/* Finds name in $PATH, so that [program /path/glob] sections can match. */
static const char *search_path(const char *name, char *buf, size_t len)
{
	const char *dirs = getenv("PATH");

	for (const char *d = dirs; d && *d;) {
		size_t n = strcspn(d, ":");
		if (snprintf(buf, len, "%.*s/%s", (int)n, d, name) < (int)len &&
		    access(buf, X_OK) == 0) {
			char *real = realpath(buf, NULL);
			if (real) {
				snprintf(buf, len, "%s", real);
				free(real);
			}
			return buf;
		}
		d += n + (d[n] == ':');
	}
	return NULL;
}

static void resolve_target(const char *program, struct check_target *t)
{
	t->name = program;
	t->path = NULL;
	if (!program)
		return;
	const char *slash = strrchr(program, '/');
	if (slash) {
		t->name = slash + 1;
		t->path = program;
	} else {
		t->path = search_path(program, t->found, sizeof(t->found));
	}
}

static const char *kind_label(int kind)
{
	switch (kind) {
	case SG_SECTION_PROGRAM:
		return "program";
	case SG_SECTION_PEER:
		return "peer";
	default:
		return NULL;
	}
}

static void print_keys(uint32_t keys)
{
	const char *sep = "";

	for (int k = 0; k < SG_KEY_COUNT; k++) {
		if (keys & (1u << k)) {
			printf("%s%s", sep, sg_key_name(k));
			sep = ", ";
		}
	}
}

/* Formats section i's "file:line" and "[kind arg]"; returns its kind. */
static int section_labels(const struct sg_policy *p, unsigned i, char *where,
			  char *header, size_t len)
{
	struct sg_section_info info;

	sg_policy_section_info(p, i, &info);
	const char *kind = kind_label(info.kind);
	snprintf(where, len, "%s:%u", sg_esc_arg(0, info.source), info.line);
	snprintf(header, len, kind ? "[%s %s]" : "(global)", kind,
		 sg_esc_arg(1, info.arg));
	return info.kind;
}

static void print_sections(const struct sg_policy *p,
			   const struct check_target *t)
{
	unsigned count = sg_policy_section_count(p);
	struct sg_section_info info;
	char where[300], header[300];
	int ww = 0, hw = 0;

	if (count == 0)
		return;
	/* Measure first, so that the columns line up. */
	for (unsigned i = 0; i < count; i++) {
		section_labels(p, i, where, header, sizeof(where));
		ww = (int)strlen(where) > ww ? (int)strlen(where) : ww;
		hw = (int)strlen(header) > hw ? (int)strlen(header) : hw;
	}
	printf("\nsections, in file order (later matching sections win):\n");
	for (unsigned i = 0; i < count; i++) {
		int kind = section_labels(p, i, where, header, sizeof(where));
		const char *verdict = kind == SG_SECTION_PEER ?
			"per socket, when the peer matches" :
			sg_policy_section_matches(p, i, t->name, t->path) ?
			"matches" : "does not match";
		printf("  %-*s  %-*s  %s\n      sets: ", ww, where, hw, header,
		       verdict);
		sg_policy_section_info(p, i, &info);
		print_keys(info.keys);
		printf("\n");
	}
}

static void print_settings(const struct sg_policy *p,
			   const struct check_target *t)
{
	struct sg_settings s;
	struct sg_origin origin[SG_KEY_COUNT];
	char value[256], where[300];

	sg_policy_for_program(p, t->name, t->path, &s, origin);
	printf("\neffective settings:\n");
	for (int k = 0; k < SG_KEY_COUNT; k++) {
		sg_settings_format(&s, k, value, sizeof(value));
		if (!origin[k].source)
			snprintf(where, sizeof(where), "default");
		else if (origin[k].line)
			snprintf(where, sizeof(where), "%s:%u",
				 sg_esc_arg(0, origin[k].source), origin[k].line);
		else
			snprintf(where, sizeof(where), "%s",
				 sg_esc_arg(0, origin[k].source));
		printf("  %-20s = %-36s %s\n", sg_key_name(k),
		       sg_esc_arg(1, value), where);
	}
}

static void print_header(const char *file, int have_file, const char *options,
			 const struct check_target *t)
{
	if (have_file)
		printf("policy file: %s\n", sg_esc_arg(0, file));
	else
		printf("policy file: none (%s does not exist; built-in defaults)\n",
		       sg_esc_arg(0, file));
	printf("SOCKGUARD_OPTIONS: %s\n", options ? sg_esc_arg(0, options) : "(not set)");
	if (!t->name)
		printf("program: none given, so no [program] section applies "
		       "(use -p PROGRAM)\n");
	else
		printf("program: %s (executable: %s)\n", sg_esc_arg(0, t->name),
		       t->path ? sg_esc_arg(1, t->path) :
		       "unknown, path globs do not match");
}

/*
 * Prints the problems as the shim reports them, and exits 1.  A refused
 * file is the very line the shim writes; problems in the text are followed
 * by what they mean.
 */
static int report_problems(const struct sg_problems *pr, int rc)
{
	sg_policy_problems_print(NULL, SG_POLICY_REFUSED, rc, pr);
	if (rc != SG_LOAD_REFUSED)
		fprintf(stderr, "sockguard check: the policy is not valid; programs "
			"would run with the built-in defaults\n");
	return 1;
}

/*
 * Loads the file (if any) with the shim's loader, then the options, into
 * p.  Returns the loader's result; *st gets the file's status.
 */
static int load(struct sg_policy *p, const char *file, int must_exist,
		const char *options, struct sg_problems *pr, struct stat *st)
{
	int rc = sg_policy_load(p, file, must_exist ? SG_LOAD_REQUIRED : 0,
				NULL, st, pr);

	if (sg_policy_parse_options(p, options, pr) < 0 && rc >= 0)
		rc = SG_LOAD_INVALID;
	return rc;
}

int sg_cmd_check(int argc, char **argv)
{
	struct check_args a = { 0 };
	struct check_target t;

	if (parse_args(argc, argv, &a) < 0) {
		fputs(CHECK_USAGE, stderr);
		return 2;
	}
	const char *env = getenv("SOCKGUARD_CONFIG");
	const char *file = a.file ? a.file : sg_policy_sources(0, env, NULL);
	int must_exist = a.file || (env && *env);
	const char *options = getenv("SOCKGUARD_OPTIONS");
	struct sg_policy *p = malloc(sg_policy_storage_size());
	struct sg_problems *pr = calloc(1, sizeof(*pr));
	if (!p || !pr) {
		fprintf(stderr, "sockguard check: out of memory\n");
		return 1;
	}
	sg_policy_init(p);
	resolve_target(a.program, &t);
	struct stat st;
	int rc = load(p, file, must_exist, options, pr, &st);
	int status = 0;
	if (rc < 0 || pr->count) {
		status = report_problems(pr, rc);
	} else {
		print_header(file, rc == SG_LOAD_OK, options, &t);
		if (rc == SG_LOAD_OK && st.st_uid != 0)
			printf("note: %s is not owned by root: setuid and setcap "
			       "programs will ignore it\n", sg_esc_arg(0, file));
		print_sections(p, &t);
		print_settings(p, &t);
		printf("\npolicy is valid\n");
	}
	free(p);
	free(pr);
	return status;
}
