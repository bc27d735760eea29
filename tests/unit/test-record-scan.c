/* The collector's reading of a record (cli/record-scan.c), table-driven:
 * the fields it takes from well-formed lines, and the lines it refuses
 * because they are not JSON or because a decoder could read them otherwise
 * (a duplicate field, an escape, a pid that is not an integer). TAP. */
#include <errno.h>
#include <string.h>

#include "record-scan.h"
#include "tap.h"

static const struct {
	const char *line;
	int ret;
	bool has_pid;
	long long pid;
	const char *chain, *origin, *name;
	long long seq;
	bool stop;
	const char *parent;
	long long parent_seq;
} cases[] = {
	{ "{\"actor\":{\"process\":{\"name\":\"py\",\"pid\":42}},\"unmapped\":{\"trainguard\":"
	  "{\"chain\":{\"id\":\"ab\",\"origin\":\"start\",\"seq\":1},\"event\":\"start\"}}}",
	  0, true, 42, "ab", "start", "py", 1, false },
	{ "{\"actor\":{\"process\":{\"pid\":3}},\"unmapped\":{\"trainguard\":{\"chain\":"
	  "{\"id\":\"c1\",\"origin\":\"exec\",\"parent\":{\"id\":\"p1\",\"seq\":80},\"seq\":1}}}}",
	  0, true, 3, "c1", "exec", "", 1, false, "p1", 80 },
	/* The fork record is the child's: process.pid, not the actor's. */
	{ "{\"actor\":{\"process\":{\"pid\":1}},\"launch_type_id\":2,\"process\":{\"pid\":7,"
	  "\"name\":\"c\"},\"unmapped\":{\"trainguard\":{\"chain\":{\"id\":\"cd\",\"seq\":1}}}}",
	  0, true, 7, "cd", "", "c", 1, false },
	/* An exec decision: actor and process both name the caller. */
	{ "{\"launch_type_id\":1,\"actor\":{\"process\":{\"pid\":5}},\"process\":{\"pid\":9}}", 0,
	  true, 5, "", "", "", 0, false },
	{ "{\"unmapped\":{\"trainguard\":{\"event\":\"stop\",\"chain\":{\"seq\":3,\"id\":\"e\"}}}}",
	  0, false, 0, "e", "", "", 3, true },
	/* Fields of the same names elsewhere are not read. */
	{ "{\"file\":{\"pid\":3,\"process\":{\"pid\":4}},\"x\":[{\"actor\":{\"process\":{\"pid\":"
	  "8}}}],\"actor\":{\"process\":{\"pid\":6}}}",
	  0, true, 6, "", "", "", 0, false },
	/* Duplicates outside the fields read here are another reader's concern. */
	{ "{\"message\":\"a\",\"message\":\"b\",\"actor\":{\"process\":{\"pid\":6}}}", 0, true, 6,
	  "", "", "", 0, false },
	{ " { \"actor\" : { \"process\" : { \"pid\" : -1 } } , \"n\" : [ 1.5e3 , true , null ] } ",
	  0, true, -1, "", "", "", 0, false },
	{ "{\"message\":\"\\\"}\\u00e9\\n\",\"actor\":{\"process\":{\"pid\":2}}}", 0, true, 2, "",
	  "", "", 0, false },
	/* Refused: not JSON. */
	{ "", -EINVAL },
	{ "[1]", -EINVAL },
	{ "{\"a\":1} x", -EINVAL },
	{ "{\"a\":1,}", -EINVAL },
	{ "{\"a\":01}", -EINVAL },
	{ "{\"a\":\"\\x\"}", -EINVAL },
	{ "{\"a\":tru}", -EINVAL },
	{ "{\"a\":\"open", -EINVAL },
	{ "{\"a\"1}", -EINVAL },
	/* Refused: read otherwise by another decoder. */
	{ "{\"actor\":{\"process\":{\"pid\":1,\"pid\":2}}}", -EINVAL },
	{ "{\"actor\":{\"process\":{\"pid\":1}},\"actor\":{\"process\":{\"pid\":2}}}", -EINVAL },
	{ "{\"actor\":{\"process\":{\"p\\u0069d\":1}}}", -EINVAL },
	{ "{\"actor\":{\"process\":{\"pid\":1.0}}}", -EINVAL },
	{ "{\"actor\":{\"process\":{\"pid\":\"1\"}}}", -EINVAL },
	{ "{\"actor\":{\"process\":{\"pid\":1e2}}}", -EINVAL },
	{ "{\"unmapped\":{\"trainguard\":{\"chain\":{\"id\":\"\\u0061b\"}}}}", -EINVAL },
	{ "{\"unmapped\":{\"trainguard\":{\"chain\":{\"id\":\"a\"},\"chain\":{\"id\":\"b\"}}}}",
	  -EINVAL },
	{ "{\"unmapped\":{\"trainguard\":{\"chain\":{\"parent\":{\"seq\":1,\"seq\":2}}}}}",
	  -EINVAL },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tg_record_facts f;
		const char *why = NULL;
		int r = tg_record_scan(cases[i].line, strlen(cases[i].line), &f, &why);
		if (cases[i].ret < 0) {
			ok(r == cases[i].ret && why, "refused (%s): %s", why ? why : "-",
			   cases[i].line);
			continue;
		}
		bool same = r == 0 && f.has_pid == cases[i].has_pid &&
			    (!f.has_pid || f.pid == cases[i].pid) &&
			    strcmp(f.chain, cases[i].chain) == 0 &&
			    strcmp(f.origin, cases[i].origin) == 0 &&
			    strcmp(f.name, cases[i].name) == 0 && f.seq == cases[i].seq &&
			    f.stop == cases[i].stop &&
			    strcmp(f.parent, cases[i].parent ? cases[i].parent : "") == 0 &&
			    f.parent_seq == cases[i].parent_seq;
		ok(same, "read: %s", cases[i].line);
		if (!same)
			tap_diag(
				"r=%d why=%s pid=%d/%lld chain=%s origin=%s name=%s seq=%lld stop=%d",
				r, why ? why : "-", f.has_pid, f.pid, f.chain, f.origin, f.name,
				f.seq, f.stop);
	}
	return tap_done();
}
