/*
 * filter.h: what every filter shares (not part of libmerit.a: these print
 * and exit, which the library never does).  The functions live in
 * filter.c, which the Makefile links into every filter, so a filter built
 * from several .c files has one program name and one table of temporary
 * outputs.
 *
 *   flt_init(argv[0]) first; then
 *   flt_die("%s: record %llu: %s", ...)   "prog: ...", exit 1
 *   flt_getopt(...), flt_usage(USAGE)     the command line (cli/opt.h)
 *   flt_out_open(path, force)             -o FILE (temporary, renamed by
 *                                         flt_out_commit) or stdout;
 *                                         refuses a terminal unless force
 *   flt_reader(path)                      "-" or NULL: stdin
 *   flt_next(r)                           next record or NULL; dies on error
 *
 * A flt_die() after flt_out_open() removes the temporary file, so a failed
 * run leaves no partial output behind.  An output file gets the mode of a
 * file created by open(2): 0666 less the umask.
 */
#ifndef MRT_FILTER_H
#define MRT_FILTER_H

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/opt.h"
#include "io/stream.h"

#define FLT_UNUSED __attribute__((unused))

/* The program's name for messages and stream headers ("merit" before flt_init). */
extern const char *flt_prog;

/* Name the program after argv0's last component; ignore SIGPIPE and
 * SIGXFSZ, so that writing to a closed pipe or past the file size limit
 * is a write error (EPIPE, EFBIG) that removes the temporary outputs. */
void flt_init(const char *argv0);
/* "prog: message" on stderr. */
__attribute__((format(printf, 1, 2))) void flt_warn(const char *fmt, ...);
/* "prog: message" on stderr, remove temporary outputs, exit 1. */
__attribute__((noreturn, format(printf, 1, 2))) void flt_die(const char *fmt, ...);
/* Remove the temporary outputs not yet committed. */
void flt_cleanup(void);

/* Parse an integer in [min, max] or die naming the option. */
long long flt_num(const char *s, long long min, long long max, const char *what);
/* Parse a finite number in [min, max] or die naming the option. */
double flt_real(const char *s, double min, double max, const char *what);

/*
 * Open the output: path NULL or "-" is stdout (refused if a terminal unless
 * force); otherwise a temporary file beside path, renamed by
 * flt_out_commit().
 */
FILE *flt_out_open(const char *path, int force);
/*
 * Finish an output, the one way every filter does: flush, sync and close f;
 * rename its temporary to path.  Dies on error, an earlier write error on f
 * included.
 */
void flt_out_commit(FILE *f, const char *path);

/* Open a stream for reading; "-" or NULL is stdin.  Dies on error. */
mrt_reader *flt_reader(const char *path, FILE **fp);
/* Next record, NULL at the end of the stream; dies on error. */
const msgpack_object *flt_next(mrt_reader *r, const char *path);
/* A writer on f (from flt_out_open) named after the program; dies on error. */
mrt_writer *flt_writer(FILE *f, int level);
/* Die on a writer error e for output path (NULL: stdout). */
void flt_check_write(int e, const char *path);
/* Copy the reader's last record unchanged to w. */
void flt_copy_raw(mrt_writer *w, const mrt_reader *r, const char *path);
/* Close the stream (trailer), then commit its file. */
void flt_writer_done(mrt_writer *w, FILE *f, const char *path);
/* Close a reader opened by flt_reader(). */
void flt_reader_done(mrt_reader *r, FILE *f);

/* A filter from one stream to another: reader, writer and their files. */
struct flt_io {
	const char *in, *out;
	mrt_reader *r;
	mrt_writer *w;
	FILE *inf, *outf;
};

/* Open input in (path or "-") and output out (path, "-" or NULL). */
void flt_io_open(struct flt_io *io, const char *in, const char *out, int force);
/* Finish the output (trailer, rename) and close the input. */
void flt_io_done(struct flt_io *io);

/* Die with "prog: name: record N: what" for the reader's last record. */
#define flt_die_rec(r, path, ...) do {                                     \
	char flt_m_[1024];                                                 \
	snprintf(flt_m_, sizeof flt_m_, __VA_ARGS__);                      \
	flt_die("%s: record %llu: %s",                                     \
	    ((path) == NULL || strcmp((path), "-") == 0) ? "stdin" : (path), \
	    (unsigned long long)mrt_reader_count(r), flt_m_);              \
} while (0)

#endif
