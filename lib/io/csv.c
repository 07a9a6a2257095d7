/*
 * csv.c: RFC 4180 CSV reader (see csv.h).
 *
 * Input is read through a fixed 64 KiB buffer; the current row is
 * unquoted into a growing buffer (bounded by MRT_CSV_MAXROW) whose fields
 * are NUL-separated, with an offset table beside it.  Empty lines are
 * skipped.  A quote inside an unquoted field is kept literally (as most
 * writers mean it); text after a closing quote is an error.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/csv.h"

struct mrt_csv {
	FILE *f;
	unsigned char in[65536];
	size_t inpos, inlen;
	int eof;
	char *row;              /* unquoted fields, each NUL-terminated */
	size_t rowlen, rowcap;
	size_t *off;            /* field start offsets into row */
	size_t nf, offcap;
	char *hrow;             /* header copy */
	size_t *hoff, nh;
	uint64_t line;          /* line about to be read (1-based) */
	uint64_t rowline;       /* line where the current row starts */
	char err[160];
};

static int
csv_getc(mrt_csv *c)
{
	if (c->inpos == c->inlen) {
		if (c->eof)
			return EOF;
		c->inlen = fread(c->in, 1, sizeof c->in, c->f);
		c->inpos = 0;
		if (c->inlen == 0) {
			c->eof = 1;
			return ferror(c->f) ? -2 : EOF;
		}
	}
	return c->in[c->inpos++];
}

static int
csv_peek(mrt_csv *c)
{
	int ch = csv_getc(c);
	if (ch >= 0)
		c->inpos--;
	return ch;
}

static int
fail(mrt_csv *c, int e, uint64_t line, const char *what)
{
	snprintf(c->err, sizeof c->err, "line %llu: %s",
	    (unsigned long long)line, what);
	return e;
}

static int
put(mrt_csv *c, int ch)
{
	if (c->rowlen == c->rowcap) {
		size_t n = c->rowcap ? c->rowcap * 2 : 4096;
		char *p;
		if (c->rowcap >= MRT_CSV_MAXROW)
			return fail(c, MRT_ENOMEM, c->rowline,
			    "row longer than 4 MiB");
		if (n > MRT_CSV_MAXROW)
			n = MRT_CSV_MAXROW;
		p = realloc(c->row, n);
		if (p == NULL)
			return fail(c, MRT_ENOMEM, c->rowline, "out of memory");
		c->row = p;
		c->rowcap = n;
	}
	c->row[c->rowlen++] = (char)ch;
	return 0;
}

static int
newfield(mrt_csv *c)
{
	if (c->nf == c->offcap) {
		size_t n = c->offcap ? c->offcap * 2 : 64;
		size_t *p;
		if (c->offcap >= MRT_CSV_MAXFIELD)
			return fail(c, MRT_ENOMEM, c->rowline,
			    "more than 65536 fields in a row");
		p = realloc(c->off, n * sizeof *p);
		if (p == NULL)
			return fail(c, MRT_ENOMEM, c->rowline, "out of memory");
		c->off = p;
		c->offcap = n;
	}
	c->off[c->nf++] = c->rowlen;
	return 0;
}

int
mrt_csv_open(mrt_csv **cp, FILE *f)
{
	mrt_csv *c = calloc(1, sizeof *c);
	*cp = c;
	if (c == NULL)
		return MRT_ENOMEM;
	c->f = f;
	c->line = 1;
	return 0;
}

void
mrt_csv_free(mrt_csv *c)
{
	if (c == NULL)
		return;
	free(c->row);
	free(c->off);
	free(c->hrow);
	free(c->hoff);
	free(c);
}

int
mrt_csv_next(mrt_csv *c)
{
	int ch, e, quoted;
	c->rowlen = 0;
	c->nf = 0;
	/* skip empty lines */
	for (;;) {
		ch = csv_peek(c);
		if (ch == -2)
			return fail(c, MRT_EIO, c->line, strerror(errno));
		if (ch == '\n') {
			csv_getc(c);
			c->line++;
		} else if (ch == '\r') {
			csv_getc(c);
			if (csv_peek(c) != '\n')
				break;   /* a lone CR starts a row */
		} else
			break;
	}
	if (ch == EOF)
		return 0;
	c->rowline = c->line;
	for (;;) {   /* one field per iteration */
		if ((e = newfield(c)) < 0)
			return e;
		ch = csv_getc(c);
		quoted = (ch == '"');
		if (quoted) {
			for (;;) {
				ch = csv_getc(c);
				if (ch == EOF || ch == -2)
					return fail(c, ch == -2 ? MRT_EIO :
					    MRT_ETRUNC, c->rowline,
					    "quoted field not closed at end of "
					    "input");
				if (ch == '"') {
					if (csv_peek(c) != '"')
						break;
					csv_getc(c);
				} else if (ch == '\n')
					c->line++;
				if ((e = put(c, ch)) < 0)
					return e;
			}
			ch = csv_getc(c);
		} else {
			while (ch != ',' && ch != '\n' && ch != EOF &&
			    ch != -2) {
				if (ch == '\r' && csv_peek(c) == '\n')
					break;
				if ((e = put(c, ch)) < 0)
					return e;
				ch = csv_getc(c);
			}
		}
		if (ch == '\r' && csv_peek(c) == '\n')
			ch = csv_getc(c);
		if ((e = put(c, 0)) < 0)
			return e;
		if (ch == ',')
			continue;
		if (ch == '\n') {
			c->line++;
			return 1;
		}
		if (ch == EOF)
			return 1;
		if (ch == -2)
			return fail(c, MRT_EIO, c->line, strerror(errno));
		return fail(c, MRT_EFORMAT, c->line,
		    "text after a closing quote");
	}
}

size_t
mrt_csv_nfields(const mrt_csv *c)
{
	return c->nf;
}

const char *
mrt_csv_field(const mrt_csv *c, size_t i)
{
	return i < c->nf ? c->row + c->off[i] : "";
}

int
mrt_csv_header(mrt_csv *c)
{
	int e = mrt_csv_next(c);
	if (e < 0)
		return e;
	if (e == 0)
		return fail(c, MRT_ETRUNC, c->line, "no header row");
	free(c->hrow);
	free(c->hoff);
	c->hrow = malloc(c->rowlen);
	c->hoff = malloc(c->nf * sizeof *c->hoff);
	if (c->hrow == NULL || c->hoff == NULL)
		return fail(c, MRT_ENOMEM, c->rowline, "out of memory");
	memcpy(c->hrow, c->row, c->rowlen);
	memcpy(c->hoff, c->off, c->nf * sizeof *c->hoff);
	c->nh = c->nf;
	return 0;
}

int
mrt_csv_col(const mrt_csv *c, const char *name)
{
	for (size_t i = 0; i < c->nh; i++)
		if (strcmp(c->hrow + c->hoff[i], name) == 0)
			return (int)i;
	return -1;
}

uint64_t
mrt_csv_line(const mrt_csv *c)
{
	return c->rowline;
}

const char *
mrt_csv_errmsg(const mrt_csv *c)
{
	return c->err[0] ? c->err : "no error";
}

static const char *
skipws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

int
mrt_csv_pydict(const char *s,
    int (*cb)(void *ctx, const char *key, double val), void *ctx)
{
	char key[256];
	s = skipws(s);
	if (*s++ != '{')
		return MRT_EFORMAT;
	s = skipws(s);
	if (*s == '}')
		return *skipws(s + 1) ? MRT_EFORMAT : 0;
	for (;;) {
		char q = *s++, *end;
		size_t n = 0;
		double v;
		int r;
		if (q != '\'' && q != '"')
			return MRT_EFORMAT;
		while (*s && *s != q) {
			if (*s == '\\' && s[1])
				s++;
			if (n + 1 >= sizeof key)
				return MRT_ERANGE;
			key[n++] = *s++;
		}
		if (*s++ != q)
			return MRT_EFORMAT;
		key[n] = 0;
		s = skipws(s);
		if (*s++ != ':')
			return MRT_EFORMAT;
		s = skipws(s);
		errno = 0;
		v = strtod(s, &end);
		if (end == s)
			return MRT_EFORMAT;
		s = skipws(end);
		if ((r = cb(ctx, key, v)) != 0)
			return r;
		if (*s == ',') {
			s = skipws(s + 1);
			if (*s == '}')   /* trailing comma */
				return *skipws(s + 1) ? MRT_EFORMAT : 0;
			continue;
		}
		if (*s == '}')
			return *skipws(s + 1) ? MRT_EFORMAT : 0;
		return MRT_EFORMAT;
	}
}
