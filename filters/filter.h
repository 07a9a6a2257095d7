/*
 * filter.h: what every filter shares (not a library module: these print
 * and exit, which lib/ never does).
 *
 *   flt_init(argv[0]) first; then
 *   flt_die("%s: record %llu: %s", ...)   "prog: ...", exit 1
 *   flt_usage(USAGE)                      "usage: ...", exit 2
 *   flt_out_open(path, force)             -o FILE (temporary, renamed by
 *                                         flt_out_commit) or stdout;
 *                                         refuses a terminal unless force
 *   flt_reader(path)                      "-" or NULL: stdin
 *   flt_next(r)                           next record or NULL; dies on error
 *
 * A flt_die() after flt_out_open() removes the temporary file, so a failed
 * run leaves no partial output behind.
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

#include "../lib/stream.h"

#define FLT_UNUSED __attribute__((unused))

#define FLT_MAXOUT 1024

static const char *flt_prog = "merit";
/* temporary outputs, removed on failure */
static struct { FILE *f; char tmp[4096]; } flt_outs[FLT_MAXOUT];

FLT_UNUSED static void
flt_cleanup(void)
{
	for (int i = 0; i < FLT_MAXOUT; i++)
		if (flt_outs[i].tmp[0]) {
			unlink(flt_outs[i].tmp);
			flt_outs[i].tmp[0] = 0;
		}
}

FLT_UNUSED static void
flt_sigcleanup(int sig)
{
	for (int i = 0; i < FLT_MAXOUT; i++)
		if (flt_outs[i].tmp[0])
			unlink(flt_outs[i].tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

FLT_UNUSED static void
flt_init(const char *argv0)
{
	const char *p = strrchr(argv0, '/');
	flt_prog = p ? p + 1 : argv0;
	signal(SIGPIPE, SIG_IGN);   /* write errors are reported as EPIPE */
}

FLT_UNUSED static void
flt_vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", flt_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

FLT_UNUSED __attribute__((format(printf, 1, 2))) static void
flt_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	flt_vmsg(fmt, ap);
	va_end(ap);
}

FLT_UNUSED __attribute__((noreturn, format(printf, 1, 2))) static void
flt_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	flt_vmsg(fmt, ap);
	va_end(ap);
	flt_cleanup();
	exit(1);
}

FLT_UNUSED __attribute__((noreturn)) static void
flt_usage(const char *usage)
{
	fprintf(stderr, "usage: %s\n", usage);
	exit(2);
}

/* Parse an integer in [min, max] or die naming the option. */
FLT_UNUSED static long long
flt_num(const char *s, long long min, long long max, const char *what)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != 0)
		flt_die("%s: not a number: %s", what, s);
	if (errno == ERANGE || v < min || v > max)
		flt_die("%s: out of range [%lld, %lld]: %s", what, min, max, s);
	return v;
}

/* Parse a finite number in [min, max] or die naming the option. */
FLT_UNUSED static double
flt_real(const char *s, double min, double max, const char *what)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != 0 || v != v)
		flt_die("%s: not a number: %s", what, s);
	if (errno == ERANGE || v < min || v > max)
		flt_die("%s: out of range [%g, %g]: %s", what, min, max, s);
	return v;
}

/*
 * Open the output: path NULL or "-" is stdout (refused if a terminal unless
 * force); otherwise a temporary file beside path, renamed by
 * flt_out_commit().  *final keeps the path for the commit.
 */
FLT_UNUSED static FILE *
flt_out_open(const char *path, int force)
{
	FILE *f;
	int fd, slot;
	char *tmp;
	if (path == NULL || strcmp(path, "-") == 0) {
		if (!force && isatty(STDOUT_FILENO))
			flt_die("stdout is a terminal, not writing binary data "
			    "(redirect it, or use -o FILE)");
		return stdout;
	}
	for (slot = 0; slot < FLT_MAXOUT && flt_outs[slot].tmp[0]; slot++)
		;
	if (slot == FLT_MAXOUT)
		flt_die("%s: more than %d outputs open", path, FLT_MAXOUT);
	tmp = flt_outs[slot].tmp;
	if (snprintf(tmp, sizeof flt_outs[slot].tmp, "%s.tmp.XXXXXX", path) >=
	    (int)sizeof flt_outs[slot].tmp) {
		tmp[0] = 0;
		flt_die("%s: path too long", path);
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		int e = errno;
		tmp[0] = 0;
		flt_die("%s: %s", path, strerror(e));
	}
	signal(SIGINT, flt_sigcleanup);
	signal(SIGTERM, flt_sigcleanup);
	signal(SIGHUP, flt_sigcleanup);
	f = fdopen(fd, "wb");
	if (f == NULL)
		flt_die("%s: %s", path, strerror(errno));
	flt_outs[slot].f = f;
	return f;
}

/* Flush, sync and close f; rename its temporary to path.  Dies on error. */
FLT_UNUSED static void
flt_out_commit(FILE *f, const char *path)
{
	int toout = (path == NULL || strcmp(path, "-") == 0), slot = -1;
	if (!toout)
		for (slot = 0; slot < FLT_MAXOUT && flt_outs[slot].f != f; slot++)
			;
	if (fflush(f) != 0)
		flt_die("%s: %s", toout ? "stdout" : path, strerror(errno));
	if (!toout && fsync(fileno(f)) != 0)
		flt_die("%s: %s", path, strerror(errno));
	if (fclose(f) != 0)
		flt_die("%s: %s", toout ? "stdout" : path, strerror(errno));
	if (!toout && slot < FLT_MAXOUT) {
		if (rename(flt_outs[slot].tmp, path) != 0)
			flt_die("%s: %s", path, strerror(errno));
		flt_outs[slot].tmp[0] = 0;
		flt_outs[slot].f = NULL;
	}
}

/* Open a stream for reading; "-" or NULL is stdin.  Dies on error. */
FLT_UNUSED static mrt_reader *
flt_reader(const char *path, FILE **fp)
{
	mrt_reader *r;
	const char *msg = NULL;
	const char *name = (path == NULL || strcmp(path, "-") == 0) ?
	    "stdin" : path;
	FILE *f = (name == path) ? fopen(path, "rb") : stdin;
	int e;
	if (f == NULL)
		flt_die("%s: %s", path, strerror(errno));
	e = mrt_reader_open(&r, f, name, &msg);
	if (e < 0)
		flt_die("%s: %s", name, msg ? msg : mrt_strerror(e));
	if (fp)
		*fp = f;
	return r;
}

/* Next record, NULL at the end of the stream; dies on error. */
FLT_UNUSED static const msgpack_object *
flt_next(mrt_reader *r, const char *path)
{
	const msgpack_object *rec;
	int e = mrt_reader_next(r, &rec);
	if (e < 0)
		flt_die("%s: %s", (path == NULL || strcmp(path, "-") == 0) ?
		    "stdin" : path, mrt_reader_errmsg(r));
	return e ? rec : NULL;
}

/* A writer on f (from flt_out_open) named after the program; dies on error. */
FLT_UNUSED static mrt_writer *
flt_writer(FILE *f, int level)
{
	mrt_writer *w;
	int e = mrt_writer_open(&w, f, flt_prog, level);
	if (e != 0)
		flt_die("%s", mrt_strerror(e));
	return w;
}

/* Die on a writer error e for output path (NULL: stdout). */
FLT_UNUSED static void
flt_check_write(int e, const char *path)
{
	if (e != 0)
		flt_die("%s: %s", (path == NULL || strcmp(path, "-") == 0) ?
		    "stdout" : path,
		    e == MRT_EIO ? strerror(errno) : mrt_strerror(e));
}

/* Copy the reader's last record unchanged to w. */
FLT_UNUSED static void
flt_copy_raw(mrt_writer *w, const mrt_reader *r, const char *path)
{
	const char *p;
	size_t n;
	mrt_reader_raw(r, &p, &n);
	flt_check_write(mrt_writer_raw(w, p, n), path);
}

/* Close the stream (trailer), then commit its file. */
FLT_UNUSED static void
flt_writer_done(mrt_writer *w, FILE *f, const char *path)
{
	flt_check_write(mrt_writer_close(w), path);
	mrt_writer_free(w);
	flt_out_commit(f, path);
}

/* Close a reader opened by flt_reader(). */
FLT_UNUSED static void
flt_reader_done(mrt_reader *r, FILE *f)
{
	mrt_reader_free(r);
	if (f != stdin)
		fclose(f);
}

/* The single input operand ("-" when there is none); more is a usage error. */
FLT_UNUSED static const char *
flt_input(int argc, char **argv, const char *usage)
{
	if (argc - optind > 1)
		flt_usage(usage);
	return optind < argc ? argv[optind] : "-";
}

/* A filter from one stream to another: reader, writer and their files. */
struct flt_io {
	const char *in, *out;
	mrt_reader *r;
	mrt_writer *w;
	FILE *inf, *outf;
};

/* Open input in (path or "-") and output out (path, "-" or NULL). */
FLT_UNUSED static void
flt_io_open(struct flt_io *io, const char *in, const char *out, int force)
{
	io->in = in;
	io->out = out;
	io->r = flt_reader(in, &io->inf);
	io->outf = flt_out_open(out, force);
	io->w = flt_writer(io->outf, 3);
}

/* Finish the output (trailer, rename) and close the input. */
FLT_UNUSED static void
flt_io_done(struct flt_io *io)
{
	flt_writer_done(io->w, io->outf, io->out);
	flt_reader_done(io->r, io->inf);
}

/* Die with "prog: name: record N: what" for the reader's last record. */
#define flt_die_rec(r, path, ...) do {                                     \
	char flt_m_[1024];                                                 \
	snprintf(flt_m_, sizeof flt_m_, __VA_ARGS__);                      \
	flt_die("%s: record %llu: %s",                                     \
	    ((path) == NULL || strcmp((path), "-") == 0) ? "stdin" : (path), \
	    (unsigned long long)mrt_reader_count(r), flt_m_);              \
} while (0)

#endif
