/* trainguard: the command table and the dispatch to one command.
 *
 * Each command lives in cmd-NAME.c and defines one struct tg_command; a
 * new command is one file and one line in the table below. */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "tg-config.h"

static const struct tg_command *const commands[] = {
	&tg_cmd_run,    &tg_cmd_check,  &tg_cmd_explain, &tg_cmd_doctor,
	&tg_cmd_report, &tg_cmd_verify, &tg_cmd_learn,   &tg_cmd_lineage,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct tg_command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

/* Every command's synopsis, indented under "usage:". */
static void print_usage(FILE *f)
{
	fputs("usage: trainguard COMMAND [OPTIONS]\n\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *s = commands[i]->synopsis;
		while (*s) {
			size_t n = strcspn(s, "\n");
			fprintf(f, "  %.*s\n", (int)n, s);
			s += n + (s[n] == '\n');
		}
	}
	fputs("  help [COMMAND]\n"
	      "  --help, --version\n"
	      "\n"
	      "'trainguard help COMMAND' prints the usage of one command.\n"
	      "With no --policy the embedded ml-default policy applies.\n"
	      "See trainguard(1) and trainguard.conf(5).\n",
	      f);
}

static int help(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stdout);
		return 0;
	}
	const struct tg_command *c = find_command(argv[1]);
	if (!c || argc > 2) {
		tg_usage_error(NULL, "help: %s '%s'",
			       c ? "one command at a time, not" : "no command",
			       c ? argv[2] : argv[1]);
		return TG_EXIT_USAGE;
	}
	fputs(c->usage, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr);
		return TG_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (tg_is_help(name))
		return help(1, argv + 1);
	if (strcmp(name, "help") == 0)
		return help(argc - 1, argv + 1);
	if (strcmp(name, "--version") == 0) {
		printf("trainguard %s\n", TG_VERSION);
		return 0;
	}
	const struct tg_command *c = find_command(name);
	if (!c) {
		tg_usage_error(NULL, "unknown command '%s'", name);
		return TG_EXIT_USAGE;
	}
	/* Each command answers its own --help: in run, a --help after CMD is
	 * CMD's. */
	return c->run(argc - 1, argv + 1);
}
