/* The fence's picture of the file system (landlock.c): the policy's
 * literal patterns as a tree of path components, each node with the
 * patterns that name it, and the folder listings the splits ask for, each
 * made once per install. Nodes are found by a hash of parent and name,
 * listings by path: open addressing, a power of two at most half full. A
 * policy of 10,000 rules makes folders of thousands of entries, where a
 * walk of the siblings cost most of the install. */
#ifndef TG_LANDLOCK_TREE_H
#define TG_LANDLOCK_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg-fence.h"

/* The groups of Landlock rights (landlock.c, groups[]). */
#define NGROUPS 7

/* One literal pattern as the fence sees it: a tree (the node and all
 * beneath) or an exact path (the node alone). */
struct entry {
	unsigned allow, deny;
	unsigned prefix, wildcards;
	bool exact;
};

enum node_state { N_MISSING, N_DIR, N_FILE, N_DEAD };

struct node {
	char *path; /* "/" for the root */
	const char *name;
	size_t namelen;
	uint64_t hash; /* of the parent and the name (fence.nodes) */
	struct node *parent, *child, *next;
	struct entry *e;
	size_t ne, cape;
	enum node_state state;
	/* somewhere() and everywhere() per group, once known: 0 not yet,
	 * else 1 + the answer. The tree is fixed once surveyed. */
	uint8_t some[NGROUPS], every[NGROUPS];
};

/* A folder's names, listed once per install: the glob denials in one
 * folder (/tmp/job-*) and the groups that split it all ask. */
struct listing {
	struct listing *next;
	uint64_t hash; /* of the path (fence.ltab) */
	char *path;
	char **names;
	size_t n;
	int err;
};

/* Nodes by parent and name, listings by path: open addressing, a power
 * of two at most half full. A policy of 10,000 rules makes folders of
 * thousands of entries, where a walk of the siblings cost most of the
 * install. */
struct fence {
	struct node root;
	struct node **nodes;
	size_t nodecap, nnodes;
	struct listing *lists;
	struct listing **ltab;
	size_t lcap, nlists;
	bool defaults[TG_NCLASS];
	const struct tg_fence_opts *o;
	struct tg_fence_report *rep;
	int fd; /* the ruleset */
	uint64_t handled;
	unsigned max;
	unsigned nhints;
	bool list_hinted;
	int err; /* first failure while adding rules */
};

/* The child of N named NAME (LEN bytes), created when CREATE. */
struct node *child_of(struct fence *f, struct node *n, const char *name, size_t len, bool create);
/* Files E at the node of the literal path LIT (LEN bytes), made as needed. */
int add_entry(struct fence *f, const char *lit, size_t len, const struct entry *e);
/* What is at each node now (see the definition). */
void survey(struct fence *f, struct node *n, bool dead);
/* PATH's names, sorted, listed once per install and kept in F. */
int list_folder(struct fence *f, const char *path, char ***ret, size_t *ret_n);
/* The type of a listed NAME as the listing saw it (a DT_* of dirent.h,
 * DT_UNKNOWN where the file system does not say): kept in the byte
 * before the name. */
static inline unsigned char tg_name_type(const char *name)
{
	return (unsigned char)name[-1];
}
void free_nodes(struct node *n);
void free_lists(struct fence *f);

#endif
