/* The fence's tree of path components and its folder listings
 * (landlock-tree.h). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "landlock-tree.h"

#define FNV_INIT 0xcbf29ce484222325ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Makes room in F's node table for one more node; false when out of
 * memory. */
static bool nodes_room(struct fence *f)
{
	if ((f->nnodes + 1) * 2 <= f->nodecap)
		return true;
	size_t cap = f->nodecap ? 2 * f->nodecap : 256;
	struct node **t = calloc(cap, sizeof(*t));
	if (!t)
		return false;
	for (size_t i = 0; i < f->nodecap; i++) {
		struct node *c = f->nodes[i];
		if (!c)
			continue;
		size_t k = c->hash & (cap - 1);
		while (t[k])
			k = (k + 1) & (cap - 1);
		t[k] = c;
	}
	free(f->nodes);
	f->nodes = t;
	f->nodecap = cap;
	return true;
}

/* The child of N named NAME (LEN bytes), created when CREATE. */
struct node *child_of(struct fence *f, struct node *n, const char *name, size_t len, bool create)
{
	uint64_t h = fnv(fnv(FNV_INIT, &n, sizeof(n)), name, len);
	size_t k = 0;

	if (f->nodecap) {
		for (k = h & (f->nodecap - 1); f->nodes[k]; k = (k + 1) & (f->nodecap - 1)) {
			struct node *c = f->nodes[k];
			if (c->hash == h && c->parent == n && c->namelen == len &&
			    memcmp(c->name, name, len) == 0)
				return c;
		}
	}
	if (!create || !nodes_room(f))
		return NULL;
	struct node *c = calloc(1, sizeof(*c));
	size_t plen = strcmp(n->path, "/") == 0 ? 0 : strlen(n->path);
	if (!c || !(c->path = malloc(plen + len + 2))) {
		free(c);
		return NULL;
	}
	memcpy(c->path, n->path, plen);
	c->path[plen] = '/';
	memcpy(c->path + plen + 1, name, len);
	c->path[plen + 1 + len] = '\0';
	c->name = c->path + plen + 1;
	c->namelen = len;
	c->hash = h;
	c->parent = n;
	c->next = n->child;
	n->child = c;
	for (k = h & (f->nodecap - 1); f->nodes[k]; k = (k + 1) & (f->nodecap - 1))
		;
	f->nodes[k] = c;
	f->nnodes++;
	return c;
}

/* The node of the absolute path LIT (LEN bytes; "" is the root). */
static struct node *node_at(struct fence *f, const char *lit, size_t len)
{
	struct node *n = &f->root;
	size_t i = 0;

	while (n && i < len) {
		while (i < len && lit[i] == '/')
			i++;
		size_t j = i;
		while (j < len && lit[j] != '/')
			j++;
		if (j > i)
			n = child_of(f, n, lit + i, j - i, true);
		i = j;
	}
	return n;
}

int add_entry(struct fence *f, const char *lit, size_t len, const struct entry *e)
{
	struct node *n = node_at(f, lit, len);

	if (!n)
		return -ENOMEM;
	if (n->ne == n->cape) {
		size_t cap = n->cape ? 2 * n->cape : 4;
		struct entry *t = realloc(n->e, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		n->e = t;
		n->cape = cap;
	}
	n->e[n->ne++] = *e;
	return 0;
}

void free_nodes(struct node *n)
{
	struct node *c = n->child;

	while (c) {
		struct node *next = c->next;
		free_nodes(c);
		free(c->path);
		free(c);
		c = next;
	}
	free(n->e);
}

static enum node_state state_of(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return N_MISSING;
	if (S_ISLNK(st.st_mode))
		return N_DEAD;
	return S_ISDIR(st.st_mode) ? N_DIR : N_FILE;
}

static enum node_state state_of_type(unsigned char type, const char *path)
{
	switch (type) {
	case DT_DIR:
		return N_DIR;
	case DT_LNK:
		return N_DEAD;
	case DT_UNKNOWN:
		return state_of(path);
	default:
		return N_FILE;
	}
}

/* A folder with at least this many children in the tree is listed once
 * instead of asking each child. */
#define LIST_CHILDREN 16

/* What is at each node now. A node reached through a symbolic link is
 * dead: the loader adds the resolved form of such patterns as well, and
 * Landlock sees only the resolved one. Nothing is beneath a missing node
 * or a file: its children are missing without asking. */
static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The state of C, a child of a folder listed in NAMES (N of them, sorted):
 * from the type the listing gave, asked only where the file system left
 * it unknown. */
static enum node_state state_listed(const struct node *c, char **names, size_t n)
{
	const char *key = c->name;
	char **hit = n ? bsearch(&key, names, n, sizeof(*names), cmp_name) : NULL;

	return hit ? state_of_type(tg_name_type(*hit), c->path) : N_MISSING;
}

static void survey_children(struct fence *f, struct node *n)
{
	char **names = NULL;
	size_t nc = 0, nnames = 0;

	for (struct node *c = n->child; c; c = c->next)
		nc++;
	/* A folder like /home, with a rule for each of hundreds of users
	 * mostly absent here, is listed once instead of asking each child. */
	bool listed = n->state == N_DIR && nc >= LIST_CHILDREN &&
		      list_folder(f, n->path, &names, &nnames) == 0;
	for (struct node *c = n->child; c; c = c->next) {
		if (n->state == N_DEAD)
			c->state = N_DEAD;
		else if (n->state != N_DIR)
			c->state = N_MISSING;
		else
			c->state = listed ? state_listed(c, names, nnames) : state_of(c->path);
		survey_children(f, c);
	}
}

void survey(struct fence *f, struct node *n, bool dead)
{
	if (dead)
		n->state = N_DEAD;
	else if (n->parent == NULL)
		n->state = N_DIR;
	else
		n->state = state_of(n->path);
	survey_children(f, n);
}

/* The names in folder PATH, sorted, in *RET (free each name's block,
 * tg_name_type's byte included, and the array). */
static int read_folder(const char *path, char ***ret, size_t *ret_n)
{
	DIR *d = opendir(path);
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			char **t = realloc(v, cap * sizeof(*t));
			if (!t)
				goto nomem;
			v = t;
		}
		size_t len = strlen(de->d_name);
		char *e = malloc(len + 2);
		if (!e)
			goto nomem;
		e[0] = (char)de->d_type;
		memcpy(e + 1, de->d_name, len + 1);
		v[n++] = e + 1;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_name);
	*ret = v;
	*ret_n = n;
	return 0;
nomem:
	while (n > 0)
		free(v[--n] - 1);
	free(v);
	closedir(d);
	return -ENOMEM;
}

/* The names in folder PATH, sorted, in *RET (F's: not to be freed). */
int list_folder(struct fence *f, const char *path, char ***ret, size_t *ret_n)
{
	uint64_t h = fnv(FNV_INIT, path, strlen(path));
	struct listing *l = NULL;
	size_t k = 0;

	if (f->lcap) {
		for (k = h & (f->lcap - 1); (l = f->ltab[k]); k = (k + 1) & (f->lcap - 1))
			if (l->hash == h && strcmp(l->path, path) == 0)
				break;
	}
	if (!l) {
		if ((f->nlists + 1) * 2 > f->lcap) {
			size_t cap = f->lcap ? 2 * f->lcap : 64;
			struct listing **t = calloc(cap, sizeof(*t));
			if (!t)
				return -ENOMEM;
			for (struct listing *o = f->lists; o; o = o->next) {
				size_t j = o->hash & (cap - 1);
				while (t[j])
					j = (j + 1) & (cap - 1);
				t[j] = o;
			}
			free(f->ltab);
			f->ltab = t;
			f->lcap = cap;
		}
		if (!(l = calloc(1, sizeof(*l))) || !(l->path = strdup(path))) {
			free(l);
			return -ENOMEM;
		}
		l->err = read_folder(path, &l->names, &l->n);
		if (l->err == -ENOMEM) {
			free(l->path);
			free(l);
			return -ENOMEM;
		}
		l->hash = h;
		l->next = f->lists;
		f->lists = l;
		for (k = h & (f->lcap - 1); f->ltab[k]; k = (k + 1) & (f->lcap - 1))
			;
		f->ltab[k] = l;
		f->nlists++;
	}
	if (l->err < 0)
		return l->err;
	*ret = l->names;
	*ret_n = l->n;
	return 0;
}

void free_lists(struct fence *f)
{
	while (f->lists) {
		struct listing *l = f->lists;
		f->lists = l->next;
		for (size_t i = 0; i < l->n; i++)
			free(l->names[i] - 1);
		free(l->names);
		free(l->path);
		free(l);
	}
	free(f->ltab);
}
