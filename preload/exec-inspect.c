/* Exec inspection (see exec-inspect.h). */
#include <elf.h>
#include <string.h>
#include <sys/stat.h>

#include "exec-inspect.h"

const char *tg_exec_inspect(mode_t mode, bool caps, const unsigned char *h, size_t n,
			    char *interp, size_t cap)
{
	interp[0] = '\0';
	if (mode & S_ISUID)
		return "setuid";
	if ((mode & S_ISGID) && (mode & S_IXGRP))
		return "setgid";
	if (caps)
		return "capabilities";
	if (n >= 2 && h[0] == '#' && h[1] == '!') {
		size_t i = 2, j;
		while (i < n && (h[i] == ' ' || h[i] == '\t'))
			i++;
		for (j = i; j < n && h[j] != ' ' && h[j] != '\t' && h[j] != '\n'; j++)
			;
		if (j - i < cap) {
			memcpy(interp, h + i, j - i);
			interp[j - i] = '\0';
		}
		return NULL;
	}
	if (n < sizeof(Elf64_Ehdr) || memcmp(h, ELFMAG, SELFMAG) != 0)
		return NULL;
	if (h[EI_CLASS] != ELFCLASS64)
		return "elf32";
	Elf64_Ehdr e;
	memcpy(&e, h, sizeof(e));
	if (e.e_phentsize != sizeof(Elf64_Phdr) ||
	    e.e_phoff + (uint64_t)e.e_phnum * sizeof(Elf64_Phdr) > (uint64_t)n)
		return NULL; /* headers beyond what was read: assume dynamic */
	for (unsigned i = 0; i < e.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, h + e.e_phoff + i * sizeof(Elf64_Phdr), sizeof(ph));
		if (ph.p_type == PT_INTERP)
			return NULL;
	}
	return "static";
}
