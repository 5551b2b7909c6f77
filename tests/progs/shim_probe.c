/*
 * Says which build of the shim is in this process: prints "mapped=PATH" for
 * each file named libsockguard.so in /proc/self/maps (once each), then
 * "preload=VALUE" with its LD_PRELOAD, then "ran", and exits 0.  Built for
 * glibc and, as build/musl/tests/progs/shim_probe, for musl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char line[4096], last[4096] = "";
	FILE *maps = fopen("/proc/self/maps", "r");
	const char *preload = getenv("LD_PRELOAD");

	while (maps && fgets(line, sizeof(line), maps)) {
		char *path = strchr(line, '/');
		if (!path || !strstr(path, "/libsockguard.so\n") ||
		    strcmp(path, last) == 0)
			continue;
		strcpy(last, path);
		printf("mapped=%s", path);
	}
	if (maps)
		fclose(maps);
	printf("preload=%s\nran\n", preload ? preload : "");
	return 0;
}
