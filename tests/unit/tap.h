/* The one TAP printer of the C tests: ok() numbers each check, tap_diag()
 * prints a failure's details as comments, tap_skip() is a visible "# SKIP"
 * with its reason (never a silent pass), and tap_done() prints the plan
 * "1..N" at the end and gives main its exit status: non-zero when any
 * check failed or none ran. */
#ifndef TG_TEST_TAP_H
#define TG_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>

/* A test of one file gets its own copy. A test of several files defines
 * TAP_LINKAGE as nothing in the one file that includes this header, and
 * declares the functions for the others (tests/unit/event-check.h). */
#ifndef TAP_LINKAGE
#define TAP_LINKAGE static __attribute__((unused))
#endif

TAP_LINKAGE unsigned n_test, n_failed;

/* COND, as the next numbered check; returns COND. */
TAP_LINKAGE int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
TAP_LINKAGE int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	n_test++;
	if (!cond)
		n_failed++;
	printf("%sok %u - ", cond ? "" : "not ", n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return cond;
}

TAP_LINKAGE void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
TAP_LINKAGE void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("#   ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

TAP_LINKAGE void tap_skip(const char *what, const char *reason);
TAP_LINKAGE void tap_skip(const char *what, const char *reason)
{
	printf("ok %u - %s # SKIP %s\n", ++n_test, what, reason);
}

TAP_LINKAGE int tap_done(void);
TAP_LINKAGE int tap_done(void)
{
	printf("1..%u\n", n_test);
	fflush(stdout);
	return n_failed || n_test == 0 ? 1 : 0;
}

#endif
