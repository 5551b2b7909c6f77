/*
 * Just enough ELF reading for the tool: `sockguard run` and `sockguard
 * audit` ask whether the preload can reach a program (and which libc its
 * loader belongs to), and `sockguard status` finds the counter block of a
 * library mapped into another process.  Only the headers, the program
 * headers, the section headers and the dynamic symbol table are read, with
 * pread, so a large binary costs a few small reads.
 */
#ifndef SG_ELF_H
#define SG_ELF_H

#include <stdint.h>

/* What the first bytes and the headers of an executable say about it. */
struct sg_elf_info {
	int is_elf;		/* starts with the ELF magic */
	int is_script;		/* starts with "#!" */
	int foreign;		/* another class or machine than this tool's */
	int has_interp;		/* PT_INTERP: started by the dynamic loader */
	char interp[128];	/* its path ("/lib64/ld-linux-x86-64.so.2"), or "" */
	int is_go;		/* built by the Go toolchain */
};

/*
 * Fills info for the file at path.  Returns 0, or -errno when the file cannot
 * be read (a file that is neither ELF nor a script is not an error: both
 * flags are left 0).
 */
int sg_elf_inspect(const char *path, struct sg_elf_info *info);

/* Whether the interpreter named in info is musl's loader (ld-musl-*). */
int sg_elf_is_musl(const struct sg_elf_info *info);

/*
 * The value (st_value) of the defined symbol `name` in the dynamic symbol
 * table of the ELF file open on fd.  Returns 0, -ENOENT when the symbol is
 * missing, or -ENOEXEC when the file is not an ELF file of this tool's class.
 */
int sg_elf_dynsym(int fd, const char *name, uint64_t *value);

/*
 * The load bias of a shared object, given one of its mappings: the address
 * `start` where the file offset `offset` was mapped.  The bias is what is
 * added to the file's virtual addresses (st_value) to get run-time addresses.
 * Returns 0, or -ENOENT when no PT_LOAD segment maps that offset.
 */
int sg_elf_load_bias(int fd, uint64_t start, uint64_t offset, uint64_t *bias);

#endif
