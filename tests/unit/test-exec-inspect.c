/* Exec inspection (preload/exec-inspect.c): what a program file is, from
 * its mode and first bytes, table-driven on crafted headers. */
#include <elf.h>
#include <string.h>
#include <sys/stat.h>

#include "exec-inspect.h"
#include "tap.h"

/* A 64-bit ELF header with NPH program headers, one of type INTERP_AT
 * (-1: none) carrying PT_INTERP. Returns the bytes used. */
static size_t elf64(unsigned char *h, size_t cap, unsigned nph, int interp_at)
{
	Elf64_Ehdr e = { 0 };
	size_t n = sizeof(e) + nph * sizeof(Elf64_Phdr);

	memset(h, 0, cap);
	memcpy(e.e_ident, ELFMAG, SELFMAG);
	e.e_ident[EI_CLASS] = ELFCLASS64;
	e.e_phoff = sizeof(e);
	e.e_phentsize = sizeof(Elf64_Phdr);
	e.e_phnum = nph;
	memcpy(h, &e, sizeof(e));
	for (unsigned i = 0; i < nph; i++) {
		Elf64_Phdr ph = { .p_type = (int)i == interp_at ? PT_INTERP : PT_LOAD };
		memcpy(h + sizeof(e) + i * sizeof(ph), &ph, sizeof(ph));
	}
	return n;
}

static const char *why(mode_t mode, bool caps, const void *h, size_t n, char *interp)
{
	return tg_exec_inspect(mode, caps, h, n, interp, 64);
}

static int is(const char *got, const char *want)
{
	return got == want || (got && want && strcmp(got, want) == 0);
}

int main(void)
{
	unsigned char h[TG_EXEC_HEAD];
	char interp[64];
	size_t n;

	n = elf64(h, sizeof(h), 4, 1);
	ok(is(why(0755, false, h, n, interp), NULL), "a dynamic ELF runs guarded");
	ok(is(why(04755, false, h, n, interp), "setuid"), "a setuid file: unguarded, setuid");
	ok(is(why(02755, false, h, n, interp), "setgid"), "a setgid executable file: setgid");
	ok(is(why(02745, false, h, n, interp), NULL), "set-gid without group exec: no setgid");
	ok(is(why(0755, true, h, n, interp), "capabilities"), "file capabilities: unguarded");
	n = elf64(h, sizeof(h), 4, -1);
	ok(is(why(0755, false, h, n, interp), "static"), "no PT_INTERP: static");
	n = elf64(h, sizeof(h), 40, -1);
	ok(is(why(0755, false, h, n, interp), "static"), "40 headers, all read: static");
	ok(is(why(0755, false, h, 200, interp), NULL),
	   "headers beyond what was read: taken as dynamic");
	h[EI_CLASS] = ELFCLASS32;
	ok(is(why(0755, false, h, n, interp), "elf32"), "a 32-bit ELF: elf32");
	ok(is(why(0755, false,
		  "\x7f"
		  "EL",
		  3, interp),
	      NULL),
	   "too short for ELF: nothing");

	const char *sh = "#!/bin/sh -e\necho\n";
	ok(is(why(0755, false, sh, strlen(sh), interp), NULL) && strcmp(interp, "/bin/sh") == 0,
	   "a script names its interpreter (got '%s')", interp);
	const char *sp = "#! \t/usr/bin/env python3\n";
	ok(is(why(0755, false, sp, strlen(sp), interp), NULL) &&
		   strcmp(interp, "/usr/bin/env") == 0,
	   "blanks after #! skipped (got '%s')", interp);
	char longer[128] = "#!/";
	memset(longer + 3, 'a', 100);
	ok(is(why(0755, false, longer, 103, interp), NULL) && interp[0] == '\0',
	   "an interpreter too long for the buffer is none");
	ok(is(why(0755, false, "plain text", 10, interp), NULL) && interp[0] == '\0',
	   "neither script nor ELF: nothing");

	/* The loader run as a program: the program it loads. */
	char *a1[] = { "ld.so", "/tmp/miner", "x", NULL };
	char *a2[] = { "ld.so", "--library-path",  "/l",         "--argv0",
		       "top",   "--inhibit-cache", "/tmp/miner", NULL };
	char *a3[] = { "ld.so", "--", "/tmp/miner", NULL };
	char *a4[] = { "ld.so", "--help", NULL };
	char *a5[] = { "ld.so", "--preload", NULL };
	ok(tg_exec_loader_target("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", a1) == 1,
	   "loader: the first argument is the program");
	ok(tg_exec_loader_target("/lib/ld-linux.so.2", a2) == 6,
	   "loader: options and their values skipped");
	ok(tg_exec_loader_target("/lib/ld-2.36.so", a3) == 2, "loader: -- ends the options");
	ok(tg_exec_loader_target("/lib64/ld-linux-x86-64.so.2", a4) == 0,
	   "loader: --help runs nothing");
	ok(tg_exec_loader_target("/lib64/ld-linux-x86-64.so.2", a5) == 0,
	   "loader: an option missing its value runs nothing");
	ok(tg_exec_loader_target("/usr/bin/ldd", a1) == 0, "loader: ldd is not the loader");
	ok(tg_exec_loader_target("/usr/bin/ld", a1) == 0, "loader: ld (the linker) is not");
	printf("1..%u\n", n_test);
	return n_failed ? 1 : 0;
}
