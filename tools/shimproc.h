/*
 * The processes running with the shim, and their counter blocks: what
 * `sockguard status` shows and `sockguard metrics` exports.
 *
 * The shim creates no file, socket or shared memory for this.  A process has
 * the shim when /proc/PID/maps shows libsockguard.so; its counters are the
 * exported `sockguard_counters` block (policy/live.h), found from the
 * library's dynamic symbol table and the load bias of the mapping, and read
 * with process_vm_readv(2), which needs the same permission as ptrace(2)
 * reading: root, or the process's own user where Yama allows it.
 */
#ifndef SG_SHIMPROC_H
#define SG_SHIMPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../policy/live.h"

#define SG_SHIM_LIB_NAME "libsockguard.so"

/* One process with the shim loaded, with its counters or the reason why not. */
struct sg_shim_proc {
	pid_t pid;
	char comm[32];
	uint64_t start_ticks;	/* /proc/PID/stat starttime: tells a reused pid apart */
	int readable;		/* c holds this process's own counters */
	int inactive;		/* the block was read, and the shim never started */
	char why[256];		/* else: why not */
	struct sg_counters c;
};

struct sg_shim_procs {
	struct sg_shim_proc *v;
	size_t n, cap;
	unsigned unreadable;	/* processes whose maps could not be read */
};

/*
 * Fills p for pid.  Returns 1 when the shim is loaded there (p->readable
 * says whether its counters could be read), 0 when not, -errno when the
 * process cannot be inspected.  Counters are taken only when the block
 * names pid as its owner: a vfork child, which shares its parent's memory,
 * or a fork child the shim has not yet reset, is not counted twice.
 */
int sg_shim_inspect(pid_t pid, struct sg_shim_proc *p);

/*
 * The address of an exported block (SG_COUNTERS_SYMBOL, SG_LIVE_SYMBOL) in
 * pid.  Returns 0, -ENOENT when the shim or the symbol is missing, or
 * another -errno.
 */
int sg_shim_block_address(pid_t pid, const char *symbol, uint64_t *addr);

/* Reads len bytes at addr in pid with process_vm_readv(2); 0 or -errno. */
int sg_shim_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* Whether a live settings block read has this tool's magic, version, size. */
int sg_live_block_ok(const struct sg_live *b);

/* Room for one more process at ps->v[ps->n]; NULL when memory runs out. */
struct sg_shim_proc *sg_shim_procs_next(struct sg_shim_procs *ps);

/*
 * Every process with the shim but this one, sorted by pid; processes that
 * cannot be inspected are counted in ps->unreadable.  Returns 0, or -1
 * (with a message prefixed by cmd on stderr) when /proc cannot be read.
 */
int sg_shim_collect_all(struct sg_shim_procs *ps, const char *cmd);

void sg_shim_procs_free(struct sg_shim_procs *ps);

/* A decimal process id, 1 to INT_MAX, nothing else; 0 or -1. */
int sg_parse_pid(const char *s, pid_t *pid);

#endif
