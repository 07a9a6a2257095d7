/*
 * check.h: the unit tests' one assertion.  CHECK(cond) or
 * CHECK(cond, "fmt", ...) counts a failure in `fails` and prints
 * "file:line: check failed: cond[: message]" on stderr; a test's main
 * returns fails != 0.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int fails;

static void __attribute__((format(printf, 1, 2), unused))
check_note(const char *fmt, ...)
{
	va_list ap;
	if (fmt[1]) {   /* fmt is " " followed by the caller's format */
		fputs(":", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
}

#define CHECK(c, ...) do { if (!(c)) { fails++; \
	fprintf(stderr, "%s:%d: check failed: %s", __FILE__, __LINE__, #c); \
	check_note(" " __VA_ARGS__); } } while (0)

#endif
