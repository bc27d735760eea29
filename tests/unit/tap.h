/* The TAP printer the table-driven unit tests share: ok() numbers each
 * check; main prints the plan "1..N" at the end and exits non-zero when
 * any check failed. */
#ifndef TG_TEST_TAP_H
#define TG_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>

static unsigned n_test, n_failed;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
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
}

#endif
