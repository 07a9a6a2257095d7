/*
 * filter.c: the shared part of every filter (see filter.h).  The Makefile
 * links it into each program, so the program name and the table of
 * temporary outputs exist once per program, whatever the number of its
 * source files.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "cli/filter.h"

#define FLT_MAXOUT 1024

const char *flt_prog = "merit";

/* temporary outputs, removed on failure */
static struct { FILE *f; char tmp[4096]; } flt_outs[FLT_MAXOUT];

/* The process's umask, read once (see flt_umask()); -1: not yet. */
static int flt_mask = -1;

/*
 * The umask without changing it: Linux shows it in /proc/self/status (4.7
 * and later).  Elsewhere the umask(2) pair, which sets it for a moment: it
 * runs from flt_init(), before the program has started a thread.
 */
static mode_t
flt_umask(void)
{
	FILE *f;
	char line[256];
	if (flt_mask >= 0)
		return (mode_t)flt_mask;
	if ((f = fopen("/proc/self/status", "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			unsigned m;
			if (sscanf(line, "Umask: %o", &m) == 1) {
				flt_mask = (int)(m & 0777);
				break;
			}
		}
		fclose(f);
	}
	if (flt_mask < 0) {
		mode_t m = umask(022);
		umask(m);
		flt_mask = (int)(m & 0777);
	}
	return (mode_t)flt_mask;
}

void
flt_cleanup(void)
{
	for (int i = 0; i < FLT_MAXOUT; i++)
		if (flt_outs[i].tmp[0]) {
			unlink(flt_outs[i].tmp);
			flt_outs[i].tmp[0] = 0;
		}
}

static void
flt_sigcleanup(int sig)
{
	for (int i = 0; i < FLT_MAXOUT; i++)
		if (flt_outs[i].tmp[0])
			unlink(flt_outs[i].tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

void
flt_init(const char *argv0)
{
	const char *p = strrchr(argv0, '/');
	flt_prog = p ? p + 1 : argv0;
	signal(SIGPIPE, SIG_IGN);   /* write errors are reported as EPIPE */
	/* and writes past `ulimit -f` as EFBIG: the write error path then
	 * removes the temporary outputs, those of lib/ too (checkpoints,
	 * vocabularies), where the signal would kill the program and leave
	 * them behind */
	signal(SIGXFSZ, SIG_IGN);
	flt_umask();
}

static void
flt_vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", flt_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
flt_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	flt_vmsg(fmt, ap);
	va_end(ap);
}

void
flt_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	flt_vmsg(fmt, ap);
	va_end(ap);
	flt_cleanup();
	exit(1);
}

long long
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

double
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

FILE *
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
	/* mkstemp makes 0600; the output is an ordinary new file */
	if (fchmod(fd, 0666 & ~flt_umask()) != 0)
		flt_die("%s: %s", path, strerror(errno));
	f = fdopen(fd, "wb");
	if (f == NULL)
		flt_die("%s: %s", path, strerror(errno));
	flt_outs[slot].f = f;
	return f;
}

void
flt_out_commit(FILE *f, const char *path)
{
	int toout = (path == NULL || strcmp(path, "-") == 0), slot = -1;
	if (!toout)
		for (slot = 0; slot < FLT_MAXOUT && flt_outs[slot].f != f; slot++)
			;
	if (fflush(f) != 0 || ferror(f))
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

mrt_reader *
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

const msgpack_object *
flt_next(mrt_reader *r, const char *path)
{
	const msgpack_object *rec;
	int e = mrt_reader_next(r, &rec);
	if (e < 0)
		flt_die("%s: %s", (path == NULL || strcmp(path, "-") == 0) ?
		    "stdin" : path, mrt_reader_errmsg(r));
	return e ? rec : NULL;
}

mrt_writer *
flt_writer(FILE *f, int level)
{
	mrt_writer *w;
	int e = mrt_writer_open(&w, f, flt_prog, level);
	if (e != 0)
		flt_die("%s", mrt_strerror(e));
	return w;
}

void
flt_check_write(int e, const char *path)
{
	if (e != 0)
		flt_die("%s: %s", (path == NULL || strcmp(path, "-") == 0) ?
		    "stdout" : path,
		    e == MRT_EIO ? strerror(errno) : mrt_strerror(e));
}

void
flt_copy_raw(mrt_writer *w, const mrt_reader *r, const char *path)
{
	const char *p;
	size_t n;
	mrt_reader_raw(r, &p, &n);
	flt_check_write(mrt_writer_raw(w, p, n), path);
}

void
flt_writer_done(mrt_writer *w, FILE *f, const char *path)
{
	flt_check_write(mrt_writer_close(w), path);
	mrt_writer_free(w);
	flt_out_commit(f, path);
}

void
flt_reader_done(mrt_reader *r, FILE *f)
{
	mrt_reader_free(r);
	if (f != stdin)
		fclose(f);
}

void
flt_io_open(struct flt_io *io, const char *in, const char *out, int force)
{
	io->in = in;
	io->out = out;
	io->r = flt_reader(in, &io->inf);
	io->outf = flt_out_open(out, force);
	io->w = flt_writer(io->outf, 3);
}

void
flt_io_done(struct flt_io *io)
{
	flt_writer_done(io->w, io->outf, io->out);
	flt_reader_done(io->r, io->inf);
}
