/* Placeholder until the subcommand lands; replaced by its owner. */
#include <stdio.h>

#include "tools.h"

int sg_cmd_enable(int argc, char **argv)
{
	fprintf(stderr, "sockguard enable: not implemented yet\n");
	return 2;
}

int sg_cmd_disable(int argc, char **argv)
{
	fprintf(stderr, "sockguard disable: not implemented yet\n");
	return 2;
}
