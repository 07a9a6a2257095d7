/*
 * common.h: what the libFuzzer harnesses of fuzz/ share (common.c).
 *
 *   fz_dir()             a private scratch folder (removed at exit)
 *   fz_write(name, p, n) a file in it; returns its path (static buffer)
 *   fz_files(p, n, ...)  an input of several files: a line "\x01FILE NAME"
 *                        starts a new one, the bytes before the first are
 *                        the first file (named by the caller)
 *   fz_clear()           remove the files written in this run
 *   fz_die_jmp           where flt_die() returns to (a harness that links a
 *                        filter's parser sets it with setjmp)
 *   fz_heap_*            bytes allocated now and at most since the last
 *                        fz_heap_reset(), from the sanitizer's malloc hooks
 *
 * Every harness calls abort() (through FZ_ASSERT) when an invariant that the
 * library or a man page promises fails, so that libFuzzer saves the input.
 */
#ifndef FZ_COMMON_H
#define FZ_COMMON_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FZ_ASSERT(c, ...) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #c); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

const char *fz_dir(void);
const char *fz_write(const char *name, const void *p, size_t n);
/* Split data into files; the first is called first.  Names other than
 * [A-Za-z0-9_.-]{1,40} (not starting with '.') are skipped.  Returns the
 * number of files written. */
int fz_files(const uint8_t *data, size_t n, const char *first);
void fz_clear(void);

/* flt_die() from a filter's code longjmps here when fz_die_set is 1. */
extern jmp_buf fz_die_jmp;
extern int fz_die_set;
extern char fz_die_msg[1024];

void fz_heap_reset(void);
size_t fz_heap_now(void);
size_t fz_heap_peak(void);

/* Valid UTF-8 (the strict form of RFC 3629). */
int fz_utf8(const char *s, size_t n);

#endif
