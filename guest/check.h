/*
 * check.h - the self-checking guests' reporting (fstest, appendonly).
 *
 * Each check prints "ok - <name>" or "not ok - <name>: <detail>"; the
 * guest ends with "<N> passed, <M> failed" (passed and failed count them)
 * and exits 0 only when every check passed.
 */
#ifndef SISSIM_CHECK_H
#define SISSIM_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

static void report(const char *name, int good, const char *fmt, ...)
{
	if (good) {
		passed++;
		printf("ok - %s\n", name);
		return;
	}
	failed++;
	printf("not ok - %s: ", name);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* OK: the call succeeded (returned >= 0). */
#define OK(name, call) do { \
	errno = 0; long r_ = (long)(call); \
	report(name, r_ >= 0, "returned %ld errno=%d (%s)", r_, errno, strerror(errno)); \
} while (0)

/* FAILS: the call returned -1 with errno e. */
#define FAILS(name, call, e) do { \
	errno = 0; long r_ = (long)(call); \
	report(name, r_ == -1 && errno == (e), "returned %ld errno=%d (%s), want %s", \
	       r_, errno, strerror(errno), #e); \
} while (0)

#define TRUE(name, cond) report(name, (cond), "%s is false", #cond)

#endif
