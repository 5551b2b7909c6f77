/*
 * `sockguard`: dispatches to one subcommand (the man page).
 */
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "tools.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
	{ "run", sg_cmd_run, "run [-c FILE] [-o KEY=VALUE]... [--] COMMAND [ARG]..." },
	{ "check", sg_cmd_check, "check [-p PROGRAM] [FILE]" },
	{ "report", sg_cmd_report,
	  "report [--json] [--svg FILE] [--top N] [--since TIME] [--until TIME]\n"
	  "                   [--class LIST] [--host GLOB] [--program GLOB] [FILE]..." },
	{ "enable", sg_cmd_enable,
	  "enable [--root DIR] [-c FILE] [-o KEY=VALUE]... UNIT | --system [--force]" },
	{ "disable", sg_cmd_disable, "disable [--root DIR] UNIT | --system" },
	{ "status", sg_cmd_status, "status [PID]..." },
	{ "metrics", sg_cmd_metrics,
	  "metrics [-o FILE] [--openmetrics] [--state FILE | --no-state]" },
	{ "tune", sg_cmd_tune,
	  "tune [--dry-run] [--peer CIDR[:PORT]] [--state established|all]\n"
	  "                   -o KEY=VALUE... (PID... | --unit UNIT)" },
	{ "set", sg_cmd_set,
	  "set (PID... | --unit UNIT) KEY=VALUE... | --reset" },
	{ "audit", sg_cmd_audit, "audit [--json] [PID... | --unit UNIT]" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: sockguard COMMAND [ARG]...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  sockguard %s\n", commands[i].usage);
	fprintf(out, "  sockguard version\n\nSee sockguard(8).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("sockguard %s\n", SG_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "sockguard: unknown command '%s'\n", sg_esc_arg(0, cmd));
	usage(stderr);
	return 2;
}
