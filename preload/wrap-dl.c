/* The dynamic loader's doors: dlopen, dlmopen, dlsym and dlvsym.
 *
 * Each would otherwise hand the program an unguarded way in. dlopen maps
 * a file and runs its constructors: a library dropped in /tmp is code run
 * from a writable folder, so a dlopen of a path (a name with a '/') is
 * decided as class exec on the file, like an exec (a bare name is found
 * by the loader's own search in the system folders, and let through). An
 * explicit handle on libc ("libc.so.6") gets the global handle instead,
 * whose lookups find the guard's wrappers first. dlmopen into a new
 * namespace loads a second libc the guard is not in: refused. dlsym and
 * dlvsym on a handle whose lookup lands on libc's definition of a wrapped
 * symbol (ctypes.CDLL("libm.so.6").open: libm's view of libc) return the
 * guard's wrapper; dlsym(RTLD_NEXT) keeps its meaning, which depends on
 * the caller's address, by jumping straight to libc's dlsym. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>

#include "decide.h"
#include "real.h"

static bool names_libc(const char *file)
{
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	return strcmp(base, "libc.so.6") == 0 || strcmp(base, "libc.so") == 0;
}

void *dlopen(const char *file, int flags)
{
	if (file && names_libc(file))
		file = NULL;
	if (file && strchr(file, '/') && !(flags & RTLD_NOLOAD)) {
		struct tg_req req = { .kind = TG_REQ_PATH,
				      .op = "dlopen",
				      .dirfd = AT_FDCWD,
				      .path = file,
				      .flags = -1,
				      .classes = TG_BIT(TG_EXEC),
				      .mode = -1 };
		int r = tg_check(&req);
		if (r < 0) {
			errno = -r;
			return NULL;
		}
	}
	return REAL(dlopen)(file, flags);
}

/* A namespace of its own has its own libc, which no LD_PRELOAD reaches. */
void *dlmopen(Lmid_t lmid, const char *file, int flags)
{
	if (lmid != LM_ID_BASE) {
		errno = EACCES;
		return NULL;
	}
	return dlopen(file, flags);
}

/* ---- dlsym ---- */

/* libc's own dlsym, found without calling dlsym (the guard's is the one
 * every call reaches): the GNU hash table of libc's dynamic symbols. */
/* The boot path runs inside ASan's own start-up (its interceptors are
 * resolved with dlsym(RTLD_NEXT) before its shadow memory exists): no
 * instrumentation and no libc call there. */
#define EARLY __attribute__((no_sanitize_address, no_sanitize_undefined))

EARLY static bool same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

EARLY static bool contains(const char *s, const char *part)
{
	for (; *s; s++) {
		size_t i = 0;
		while (part[i] && s[i] == part[i])
			i++;
		if (!part[i])
			return true;
	}
	return false;
}

EARLY static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

/* The address of SYM in the loaded object MAP (its dynamic section read
 * in place), or NULL. */
EARLY static void *lookup(const struct link_map *map, const char *sym)
{
	const ElfW(Sym) *tab = NULL;
	const uint32_t *gh = NULL;
	const char *str = NULL;
	ElfW(Addr) base = map->l_addr;

	for (const ElfW(Dyn) *d = map->l_ld; d && d->d_tag != DT_NULL; d++) {
		/* glibc relocates these entries in place; a loader that does
		 * not leaves them relative to the load address. */
		ElfW(Addr) p = d->d_un.d_ptr < base ? d->d_un.d_ptr + base : d->d_un.d_ptr;
		if (d->d_tag == DT_SYMTAB)
			tab = (const ElfW(Sym) *)p;
		else if (d->d_tag == DT_STRTAB)
			str = (const char *)p;
		else if (d->d_tag == DT_GNU_HASH)
			gh = (const uint32_t *)p;
	}
	if (!tab || !str || !gh)
		return NULL;
	uint32_t nbuckets = gh[0], symoffset = gh[1], bloom = gh[2];
	const uint32_t *buckets = gh + 4 + bloom * (sizeof(ElfW(Addr)) / 4);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t h = gnu_hash(sym);
	for (uint32_t i = buckets[h % nbuckets]; i && i >= symoffset; i++) {
		uint32_t ch = chain[i - symoffset];
		if ((ch | 1) == (h | 1) && tab[i].st_shndx != SHN_UNDEF &&
		    same(str + tab[i].st_name, sym))
			return (void *)(base + tab[i].st_value);
		if (ch & 1)
			break;
	}
	return NULL;
}

/* libc's SYM, from the loader's list of objects (_r_debug): no function
 * of libc or of an interposer (ASan's dl_iterate_phdr) is called, so
 * this works before anything is initialized. */
EARLY static void *libc_sym(const char *sym)
{
	for (const struct link_map *m = _r_debug.r_map; m; m = m->l_next)
		if (m->l_name && contains(m->l_name, "/libc.so."))
			return lookup(m, sym);
	return NULL;
}

/* Named by the assembly below: hidden (no GOT), and kept by LTO. */
#define ASM_NAMED __attribute__((used, visibility("hidden")))
typedef void *dlsym_fn(void *, const char *);
typedef void *dlvsym_fn(void *, const char *, const char *);
ASM_NAMED dlsym_fn *tg_libc_dlsym;
ASM_NAMED dlvsym_fn *tg_libc_dlvsym;
dlsym_fn *tg_dlsym_boot(void);
dlvsym_fn *tg_dlvsym_boot(void);
void *tg_dlsym_handle(void *handle, const char *name);
void *tg_dlvsym_handle(void *handle, const char *name, const char *version);

EARLY ASM_NAMED dlsym_fn *tg_dlsym_boot(void)
{
	if (!tg_libc_dlsym)
		tg_libc_dlsym = (dlsym_fn *)libc_sym("dlsym");
	if (!tg_libc_dlvsym)
		tg_libc_dlvsym = (dlvsym_fn *)libc_sym("dlvsym");
	return tg_libc_dlsym;
}

/* The guard's wrapper for NAME when ADDR is the next definition of a
 * wrapped symbol (libc's), else ADDR. Before the guard resolved its own
 * table (another preloaded library's start-up: ASan looks its functions
 * up then) nothing is replaced. */
EARLY static void *ours(const char *name, void *addr)
{
	if (!addr || !tg_real.open)
		return addr;
#define X(sym, family) \
	if ((void *)tg_real.sym == addr && same(name, #sym)) \
		return (void *)&sym;
	TG_WRAPPERS(X)
#undef X
	return addr;
}

EARLY ASM_NAMED void *tg_dlsym_handle(void *handle, const char *name)
{
	dlsym_fn *real = tg_libc_dlsym ? tg_libc_dlsym : tg_dlsym_boot();

	if (!real)
		return NULL;
	void *addr = real(handle, name);
	return name && handle != RTLD_NEXT ? ours(name, addr) : addr;
}

EARLY ASM_NAMED void *tg_dlvsym_handle(void *handle, const char *name, const char *version)
{
	if (!tg_libc_dlvsym)
		tg_dlsym_boot();
	if (!tg_libc_dlvsym)
		return NULL;
	void *addr = tg_libc_dlvsym(handle, name, version);
	return name && handle != RTLD_NEXT ? ours(name, addr) : addr;
}

EARLY ASM_NAMED dlvsym_fn *tg_dlvsym_boot(void)
{
	tg_dlsym_boot();
	return tg_libc_dlvsym;
}

#if defined(__x86_64__)
/* RTLD_NEXT looks up from the caller's object: libc's function must see
 * the program's return address, so the guard jumps to it rather than
 * calls it. Naked: no frame, the arguments still in their registers. */
#define NEXT_JUMP(ptr, other, boot) \
	__asm__("	cmpq $-1, %rdi\n" \
		"	jne " #other "\n" \
		"	movq " #ptr "(%rip), %rax\n" \
		"	testq %rax, %rax\n" \
		"	jnz 1f\n" \
		"	pushq %rdi\n" \
		"	pushq %rsi\n" \
		"	pushq %rdx\n" \
		"	call " #boot "\n" \
		"	popq %rdx\n" \
		"	popq %rsi\n" \
		"	popq %rdi\n" \
		"	testq %rax, %rax\n" \
		"	jz 2f\n" \
		"1:	jmp *%rax\n" \
		"2:	ret\n")

__attribute__((naked)) void *dlsym(void *handle, const char *name)
{
	NEXT_JUMP(tg_libc_dlsym, tg_dlsym_handle, tg_dlsym_boot);
}

__attribute__((naked)) void *dlvsym(void *handle, const char *name, const char *version)
{
	NEXT_JUMP(tg_libc_dlvsym, tg_dlvsym_handle, tg_dlvsym_boot);
}
#else
/* Elsewhere RTLD_NEXT is looked up from the guard's place in the list
 * (the objects after libtrainguard.so). */
void *dlsym(void *handle, const char *name)
{
	return tg_dlsym_handle(handle, name);
}

void *dlvsym(void *handle, const char *name, const char *version)
{
	return tg_dlvsym_handle(handle, name, version);
}
#endif
