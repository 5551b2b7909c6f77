/* Placeholder until the subcommand lands; replaced by its owner. */
#include <stdio.h>

#include "tools.h"

int sg_cmd_check(int argc, char **argv)
{
	fprintf(stderr, "sockguard check: not implemented yet\n");
	return 2;
}
