/*
 * ELF reading for `sockguard run`, `status` and `audit` (see elf.h).  Every
 * count and offset read from the file is bounded before it is used, because
 * the file is whatever the user named.
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf.h"

#if __SIZEOF_POINTER__ == 8
#define SG_ELF_CLASS ELFCLASS64
#else
#define SG_ELF_CLASS ELFCLASS32
#endif

/* Header tables larger than this are not believed. */
#define SG_ELF_TABLE_MAX (16u * 1024 * 1024)

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -ENOEXEC;
}

/* Reads a table of count entries of size each into a new buffer. */
static void *read_table(int fd, uint64_t off, size_t count, size_t size)
{
	if (count == 0 || count > SG_ELF_TABLE_MAX / size)
		return NULL;
	void *buf = malloc(count * size);
	if (buf && read_at(fd, buf, count * size, off) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The machine this tool was built for, read once from its own header. */
static int native_machine(void)
{
	static int machine = -1;
	ElfW(Ehdr) eh;

	if (machine >= 0)
		return machine;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return EM_NONE;
	if (read_at(fd, &eh, sizeof(eh), 0) == 0)
		machine = eh.e_machine;
	close(fd);
	return machine < 0 ? EM_NONE : machine;
}

/*
 * Reads and checks the ELF header.  Returns 0 for an ELF file of this tool's
 * class and machine, -ENOEXEC for anything else, -errno on a read error.
 * *foreign is set for an ELF file of another class or machine.
 */
static int read_ehdr(int fd, ElfW(Ehdr) *eh, int *foreign)
{
	unsigned char ident[EI_NIDENT];
	int rc = read_at(fd, ident, sizeof(ident), 0);

	*foreign = 0;
	if (rc < 0)
		return rc;
	if (memcmp(ident, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (ident[EI_CLASS] != SG_ELF_CLASS) {
		*foreign = 1;
		return -ENOEXEC;
	}
	rc = read_at(fd, eh, sizeof(*eh), 0);
	if (rc < 0)
		return rc;
	if (eh->e_machine != native_machine()) {
		*foreign = 1;
		return -ENOEXEC;
	}
	return 0;
}

static ElfW(Phdr) *read_phdrs(int fd, const ElfW(Ehdr) *eh)
{
	if (eh->e_phentsize != sizeof(ElfW(Phdr)))
		return NULL;
	return read_table(fd, eh->e_phoff, eh->e_phnum, sizeof(ElfW(Phdr)));
}

static ElfW(Shdr) *read_shdrs(int fd, const ElfW(Ehdr) *eh)
{
	if (eh->e_shentsize != sizeof(ElfW(Shdr)) || eh->e_shoff == 0)
		return NULL;
	return read_table(fd, eh->e_shoff, eh->e_shnum, sizeof(ElfW(Shdr)));
}

/* Whether a note segment holds a note whose owner is "Go" (NT_GO_BUILD_ID). */
static int notes_name_go(int fd, const ElfW(Phdr) *ph)
{
	if (ph->p_filesz == 0 || ph->p_filesz > 65536)
		return 0;
	unsigned char *buf = read_table(fd, ph->p_offset, ph->p_filesz, 1);
	int found = 0;

	for (size_t at = 0; buf && !found && at + sizeof(ElfW(Nhdr)) <= ph->p_filesz;) {
		ElfW(Nhdr) n;
		memcpy(&n, buf + at, sizeof(n));
		size_t name_at = at + sizeof(n);
		if (n.n_namesz > ph->p_filesz - name_at)
			break;
		found = n.n_namesz >= 2 && n.n_namesz <= 4 &&
			memcmp(buf + name_at, "Go", 2) == 0;
		at = name_at + ((n.n_namesz + 3) & ~3u) + ((n.n_descsz + 3) & ~3u);
	}
	free(buf);
	return found;
}

/* Whether the section name table names one of the Go toolchain's sections. */
static int sections_name_go(int fd, const ElfW(Ehdr) *eh)
{
	ElfW(Shdr) *sh = read_shdrs(fd, eh);
	char *names = NULL;
	int found = 0;

	if (!sh || eh->e_shstrndx >= eh->e_shnum)
		goto out;
	const ElfW(Shdr) *strs = &sh[eh->e_shstrndx];
	names = read_table(fd, strs->sh_offset, strs->sh_size, 1);
	if (!names)
		goto out;
	names[strs->sh_size - 1] = '\0';
	for (unsigned i = 0; i < eh->e_shnum && !found; i++) {
		if (sh[i].sh_name >= strs->sh_size)
			continue;
		const char *name = names + sh[i].sh_name;
		found = strcmp(name, ".go.buildinfo") == 0 ||
			strcmp(name, ".note.go.buildid") == 0;
	}
out:
	free(names);
	free(sh);
	return found;
}

/* The loader's path from PT_INTERP; a path that does not fit is left "". */
static void read_interp(int fd, const ElfW(Phdr) *ph, struct sg_elf_info *info)
{
	size_t n = ph->p_filesz;

	info->has_interp = 1;
	if (n == 0 || n > sizeof(info->interp) ||
	    read_at(fd, info->interp, n, ph->p_offset) < 0)
		n = 0;
	info->interp[n ? n - 1 : 0] = '\0';
}

static void inspect_elf(int fd, const ElfW(Ehdr) *eh, struct sg_elf_info *info)
{
	ElfW(Phdr) *ph = read_phdrs(fd, eh);

	for (unsigned i = 0; ph && i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP)
			read_interp(fd, &ph[i], info);
		if (ph[i].p_type == PT_NOTE && !info->is_go)
			info->is_go = notes_name_go(fd, &ph[i]);
	}
	free(ph);
	if (!info->is_go)
		info->is_go = sections_name_go(fd, eh);
}

int sg_elf_inspect(const char *path, struct sg_elf_info *info)
{
	ElfW(Ehdr) eh;
	char head[2];

	memset(info, 0, sizeof(*info));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = read_at(fd, head, sizeof(head), 0);
	if (rc == 0 && memcmp(head, "#!", 2) == 0) {
		info->is_script = 1;
	} else if (rc == 0) {
		rc = read_ehdr(fd, &eh, &info->foreign);
		info->is_elf = rc == 0 || info->foreign;
		if (rc == 0)
			inspect_elf(fd, &eh, info);
	}
	close(fd);
	return rc == -ENOEXEC ? 0 : rc;
}

int sg_elf_is_musl(const struct sg_elf_info *info)
{
	const char *base = strrchr(info->interp, '/');

	base = base ? base + 1 : info->interp;
	return strncmp(base, "ld-musl-", 8) == 0;
}

/* Looks name up among count symbols whose names are in strs (size len). */
static int find_sym(const ElfW(Sym) *syms, size_t count, const char *strs,
		    size_t len, const char *name, uint64_t *value)
{
	for (size_t i = 1; i < count; i++) {
		if (syms[i].st_name >= len || syms[i].st_shndx == SHN_UNDEF)
			continue;
		if (strcmp(strs + syms[i].st_name, name) == 0) {
			*value = syms[i].st_value;
			return 0;
		}
	}
	return -ENOENT;
}

int sg_elf_dynsym(int fd, const char *name, uint64_t *value)
{
	ElfW(Ehdr) eh;
	int foreign, rc = read_ehdr(fd, &eh, &foreign);
	ElfW(Shdr) *sh = rc == 0 ? read_shdrs(fd, &eh) : NULL;
	ElfW(Sym) *syms = NULL;
	char *strs = NULL;

	if (rc == 0)
		rc = -ENOENT;
	for (unsigned i = 0; sh && i < eh.e_shnum; i++) {
		const ElfW(Shdr) *ds = &sh[i];
		if (ds->sh_type != SHT_DYNSYM || ds->sh_link >= eh.e_shnum ||
		    ds->sh_entsize != sizeof(ElfW(Sym)))
			continue;
		const ElfW(Shdr) *ss = &sh[ds->sh_link];
		size_t count = ds->sh_size / sizeof(ElfW(Sym));
		syms = read_table(fd, ds->sh_offset, count, sizeof(ElfW(Sym)));
		strs = read_table(fd, ss->sh_offset, ss->sh_size, 1);
		if (syms && strs) {
			strs[ss->sh_size - 1] = '\0';
			rc = find_sym(syms, count, strs, ss->sh_size, name, value);
		}
		break;
	}
	free(strs);
	free(syms);
	free(sh);
	return rc;
}

int sg_elf_load_bias(int fd, uint64_t start, uint64_t offset, uint64_t *bias)
{
	ElfW(Ehdr) eh;
	int foreign, rc = read_ehdr(fd, &eh, &foreign);
	ElfW(Phdr) *ph = rc == 0 ? read_phdrs(fd, &eh) : NULL;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	/*
	 * The kernel maps each PT_LOAD segment from the page that holds
	 * p_offset to the page that holds p_vaddr + bias (mmap(2) needs both
	 * page-aligned), so the mapping of `offset` tells the bias.
	 */
	if (rc == 0)
		rc = -ENOENT;
	for (unsigned i = 0; ph && i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || (ph[i].p_offset & ~(page - 1)) != offset)
			continue;
		*bias = start - (ph[i].p_vaddr & ~(page - 1));
		rc = 0;
		break;
	}
	free(ph);
	return rc;
}
