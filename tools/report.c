/* Placeholder until the subcommand lands; replaced by its owner. */
#include <stdio.h>

#include "tools.h"

int sg_cmd_report(int argc, char **argv)
{
	fprintf(stderr, "sockguard report: not implemented yet\n");
	return 2;
}
