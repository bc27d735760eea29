/* Exec inspection (see exec-inspect.h). */
#include <elf.h>
#include <string.h>
#include <sys/stat.h>

#include "exec-inspect.h"

const char *tg_exec_inspect(mode_t mode, bool caps, const unsigned char *h, size_t n, char *interp,
			    size_t cap)
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

static bool is_loader(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "ld.so", 5) == 0 ||
	       (strncmp(base, "ld-", 3) == 0 && strstr(base, ".so"));
}

/* The loader's options that take a value (glibc 2.36, elf/rtld.c). */
static bool takes_value(const char *opt)
{
	static const char *const with_value[] = {
		"--library-path",         "--inhibit-rpath",     "--audit", "--preload", "--argv0",
		"--glibc-hwcaps-prepend", "--glibc-hwcaps-mask",
	};

	for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
		if (strcmp(opt, with_value[i]) == 0)
			return true;
	return false;
}

int tg_exec_loader_target(const char *path, char *const argv[])
{
	if (!path || !argv || !argv[0] || !is_loader(path))
		return 0;
	for (int i = 1; argv[i]; i++) {
		if (strcmp(argv[i], "--") == 0)
			return argv[i + 1] ? i + 1 : 0;
		if (strncmp(argv[i], "--", 2) != 0)
			return i;
		if (takes_value(argv[i]) && argv[i + 1])
			i++;
	}
	return 0;
}
