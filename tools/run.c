/* Placeholder until `sockguard run` lands; replaced by its owner. */
#include <stdio.h>

#include "tools.h"

int sg_cmd_run(int argc, char **argv)
{
	fprintf(stderr, "sockguard run: not implemented yet\n");
	return 2;
}

int sg_tool_find_lib(char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return -1;
}
