/*
 * The live counter block.  It is exported under a fixed name so that
 * `sockguard status` can find it in the symbol table of a running process
 * and read it with process_vm_readv(2); everything else in the library is
 * hidden.
 */
#include "counters.h"

#include <string.h>

#include "shim.h"

SG_EXPORT struct sg_counters sockguard_counters = {
	.magic = SG_COUNTERS_MAGIC,
	.version = SG_COUNTERS_VERSION,
	.size = sizeof(struct sg_counters),
};

void sg_counters_reset(uint64_t pid)
{
	/* Everything after the header counts for one process: a forked
	 * child starts again from zero, so that its summary is its own. */
	size_t head = offsetof(struct sg_counters, events);

	memset((char *)&sockguard_counters + head, 0,
	       sizeof(sockguard_counters) - head);
	__atomic_store_n(&sockguard_counters.pid, pid, __ATOMIC_RELAXED);
}
