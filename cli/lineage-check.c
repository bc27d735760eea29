/* trainguard lineage --check: are the outputs still what the run wrote?
 *
 * Each subject of the statement is found at its trainguard_path
 * annotation (or, with --root DIR, at DIR/NAME, NAME being relative to the
 * job's working folder, so a moved checkpoint folder can be checked) and
 * hashed again. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "lineage.h"

enum { CHECK_OK = 0, CHECK_MISMATCH = 1, CHECK_UNREADABLE = 2 };

int tg_lin_check(const char *statement, const char *root)
{
	json_error_t err;
	json_t *st = json_load_file(statement, JSON_REJECT_DUPLICATES, &err), *s;
	unsigned long ok = 0, bad = 0;
	size_t i;

	if (!st) {
		fprintf(stderr, "trainguard: lineage: cannot read the statement '%s': %s\n",
			statement, err.text);
		return CHECK_UNREADABLE;
	}
	json_t *subjects = json_object_get(st, "subject");
	const char *type = json_string_value(json_object_get(st, "_type"));
	if (!type || strcmp(type, "https://in-toto.io/Statement/v1") != 0 ||
	    !json_is_array(subjects)) {
		fprintf(stderr,
			"trainguard: lineage: '%s' is not an in-toto Statement v1 with subjects\n",
			statement);
		json_decref(st);
		return CHECK_UNREADABLE;
	}
	json_array_foreach(subjects, i, s)
	{
		const char *name = json_string_value(json_object_get(s, "name"));
		const char *path = json_string_value(
			json_object_get(json_object_get(s, "annotations"), "trainguard_path"));
		const char *want = json_string_value(
			json_object_get(json_object_get(s, "digest"), "sha256"));
		char at[PATH_MAX], got[TG_SHA256_HEX];
		if (root && name)
			snprintf(at, sizeof(at), "%s/%s", root, name[0] == '/' ? name + 1 : name);
		else
			snprintf(at, sizeof(at), "%s", path ? path : name ? name : "");
		if (!want) {
			printf("%s: no sha256 in the statement\n", at);
			bad++;
			continue;
		}
		int r = tg_lin_hash_file(at, got);
		if (r < 0) {
			printf("%s: MISSING: cannot be read (%s)\n", at, strerror(-r));
			bad++;
		} else if (strcmp(got, want) != 0) {
			printf("%s: MISMATCH: sha256 %s, the statement says %s\n", at, got, want);
			bad++;
		} else {
			ok++;
		}
	}
	json_decref(st);
	if (bad) {
		printf("NOT MATCHED: %lu of %lu subjects\n", bad, ok + bad);
		return CHECK_MISMATCH;
	}
	printf("matched: %lu subjects\n", ok);
	return CHECK_OK;
}
