/*
 * wfdb.c: WFDB header parser and signal decoder (see wfdb.h).
 *
 * Header grammar (WFDB header(5)):
 *   record line  NAME[/NSEG] NSIG [FS[/CFREQ[(BASE)]] [NSAMP [TIME [DATE]]]]
 *   segment line SEGNAME SEGLEN                      (multi-segment only)
 *   signal line  FILE FMT[xSPF][:SKEW][+OFFSET] [GAIN[(BASELINE)][/UNITS]
 *                [ADCRES [ADCZERO [INITVAL [CHECKSUM [BLOCKSIZE [DESC]]]]]]]
 * Lines starting with '#' are comments; empty lines are skipped.
 *
 * Signals sharing a file are interleaved frame by frame: each frame holds
 * spf samples of each signal of the file, in header order.  Samples are
 * decoded by random access on the file's bytes (every format is made of
 * fixed groups: 212 packs 2 samples in 3 bytes, 310 and 311 pack 3 in 4),
 * so partial last groups decode as far as their bytes go.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/wfdb.h"

struct mrt_wfdb {
	char path[4096];
	char dir[4096];
	char name[256];
	int nsig, nseg, maxspf;
	double fs;
	int64_t nsamp;
	mrt_wfdb_sig *sig;
	char (*segname)[256];
	int64_t *seglen;
	char *comments;     /* NUL-separated lines */
	size_t clen, ccap;
	int ncomments;
	const char **cptr;
	int64_t *budget;    /* header bytes left for this record and its
			     * segments (points to own_budget but in segments) */
	int64_t own_budget;
	char err[600];
};

static int
werr(mrt_wfdb *w, int e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mrt_verrf(w->err, sizeof w->err, e, fmt, ap);
	va_end(ap);
	return e;
}

const char *
mrt_wfdb_errmsg(const mrt_wfdb *w)
{
	return w && w->err[0] ? w->err : "no error";
}

void
mrt_wfdb_free(mrt_wfdb *w)
{
	if (w == NULL)
		return;
	free(w->sig);
	free(w->segname);
	free(w->seglen);
	free(w->comments);
	free(w->cptr);
	free(w);
}

const char *mrt_wfdb_name(const mrt_wfdb *w) { return w->name; }
int mrt_wfdb_nsig(const mrt_wfdb *w) { return w->nsig; }
double mrt_wfdb_fs(const mrt_wfdb *w) { return w->fs; }
int mrt_wfdb_maxspf(const mrt_wfdb *w) { return w->maxspf; }
int64_t mrt_wfdb_nsamp(const mrt_wfdb *w) { return w->nsamp; }
int mrt_wfdb_nseg(const mrt_wfdb *w) { return w->nseg; }
int mrt_wfdb_ncomments(const mrt_wfdb *w) { return w->ncomments; }

const mrt_wfdb_sig *
mrt_wfdb_signal(const mrt_wfdb *w, int i)
{
	return (i >= 0 && i < w->nsig) ? &w->sig[i] : NULL;
}

const char *
mrt_wfdb_comment(const mrt_wfdb *w, int i)
{
	return (i >= 0 && i < w->ncomments) ? w->cptr[i] : "";
}

double
mrt_wfdb_per_mv(const char *u)
{
	if (strcmp(u, "mV") == 0 || strcmp(u, "mv") == 0)
		return 1;
	if (strcmp(u, "uV") == 0 || strcmp(u, "uv") == 0 ||
	    strcmp(u, "\xc2\xb5V") == 0)
		return 1000;
	if (strcmp(u, "V") == 0)
		return 0.001;
	if (strcmp(u, "nV") == 0)
		return 1e6;
	return 0;
}

/* Split line into at most max blank-separated tokens; starts kept in tok. */
static int
tokens(char *line, char **tok, int max, char **rest)
{
	int n = 0;
	char *p = line;
	*rest = NULL;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == 0)
			return n;
		if (n == max) {
			*rest = p;
			return n;
		}
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
	}
}

static int
parse_i64(const char *s, int64_t *v, int64_t min, int64_t max)
{
	char *end;
	long long x;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (end == s || *end || errno == ERANGE || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

static int
add_comment(mrt_wfdb *w, const char *s)
{
	size_t n = strlen(s) + 1;
	while (*s == ' ' || *s == '\t')
		s++, n--;
	if (w->clen + n > MRT_WFDB_MAXCOMMENT)
		return werr(w, MRT_ENOMEM, "comments longer than 1 MiB");
	if (w->clen + n > w->ccap) {
		size_t c = w->ccap ? w->ccap * 2 : 1024;
		char *p;
		while (c < w->clen + n)
			c *= 2;
		if ((p = realloc(w->comments, c)) == NULL)
			return werr(w, MRT_ENOMEM, "out of memory");
		w->comments = p;
		w->ccap = c;
	}
	memcpy(w->comments + w->clen, s, n);
	w->clen += n;
	w->ncomments++;
	return 0;
}

/* FMT[xSPF][:SKEW][+OFFSET] */
static int
parse_fmt(mrt_wfdb_sig *s, const char *t)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(t, &end, 10);
	if (end == t || errno == ERANGE || v < 0 || v > 100000)
		return -1;
	s->fmt = (int)v;
	s->spf = 1;
	t = end;
	if (*t == 'x') {
		v = strtol(t + 1, &end, 10);
		if (end == t + 1 || v < 1 || v > 1000)
			return -1;
		s->spf = (int)v;
		t = end;
	}
	if (*t == ':') {
		v = strtol(t + 1, &end, 10);
		if (end == t + 1 || v < 0 || v > 1000000)
			return -1;
		s->skew = (int)v;
		t = end;
	}
	if (*t == '+') {
		long long o = strtoll(t + 1, &end, 10);
		if (end == t + 1 || o < 0 || errno == ERANGE)
			return -1;
		s->offset = o;
		t = end;
	}
	if (*t)
		return -1;
	switch (s->fmt) {
	case 8: case 16: case 24: case 32: case 61: case 80: case 160:
	case 212: case 310: case 311:
		return 0;
	}
	return -2;
}

/* GAIN[(BASELINE)][/UNITS] */
static int
parse_gain(mrt_wfdb_sig *s, const char *t, int *has_baseline)
{
	char *end;
	double g;
	errno = 0;
	g = strtod(t, &end);
	if (end == t || !isfinite(g) || g < 0)
		return -1;
	t = end;
	if (*t == '(') {
		long b = strtol(t + 1, &end, 10);
		if (end == t + 1 || *end != ')' || b < INT32_MIN ||
		    b > INT32_MAX)
			return -1;
		s->baseline = (int32_t)b;
		*has_baseline = 1;
		t = end + 1;
	}
	if (*t == '/') {
		if (strlen(t + 1) >= sizeof s->units || t[1] == 0)
			return -1;
		strcpy(s->units, t + 1);
		t += strlen(t);
	}
	if (*t)
		return -1;
	s->gain_given = g != 0;
	s->gain = g != 0 ? g : MRT_WFDB_DEFGAIN;
	return 0;
}

static int
parse_signal(mrt_wfdb *w, mrt_wfdb_sig *s, char *line, uint64_t ln)
{
	char *tok[8], *rest;
	int n = tokens(line, tok, 8, &rest), hasbase = 0, r;
	int64_t v;
	memset(s, 0, sizeof *s);
	strcpy(s->units, "mV");
	s->gain = MRT_WFDB_DEFGAIN;
	if (n < 2)
		return werr(w, MRT_EFORMAT, "line %llu: signal line without a "
		    "format", (unsigned long long)ln);
	if (strlen(tok[0]) >= sizeof s->file)
		return werr(w, MRT_EFORMAT, "line %llu: file name too long",
		    (unsigned long long)ln);
	strcpy(s->file, tok[0]);
	if (strcmp(s->file, "~") == 0)
		return werr(w, MRT_EFORMAT, "line %llu: null signal file '~' "
		    "is not supported", (unsigned long long)ln);
	if ((r = parse_fmt(s, tok[1])) < 0) {
		if (r == -2)
			return werr(w, MRT_EFORMAT, "line %llu: unknown "
			    "format %d", (unsigned long long)ln, s->fmt);
		return werr(w, MRT_EFORMAT, "line %llu: bad format field "
		    "'%.40s'", (unsigned long long)ln, tok[1]);
	}
	if (n > 2 && parse_gain(s, tok[2], &hasbase) < 0)
		return werr(w, MRT_EFORMAT, "line %llu: bad gain field '%.40s'",
		    (unsigned long long)ln, tok[2]);
	if (n > 3) {
		if (parse_i64(tok[3], &v, 0, 64) < 0)
			return werr(w, MRT_EFORMAT, "line %llu: bad ADC "
			    "resolution '%.40s'", (unsigned long long)ln,
			    tok[3]);
		s->adcres = (int)v;
	}
	if (n > 4) {
		if (parse_i64(tok[4], &v, INT32_MIN, INT32_MAX) < 0)
			return werr(w, MRT_EFORMAT, "line %llu: bad ADC zero "
			    "'%.40s'", (unsigned long long)ln, tok[4]);
		s->adczero = (int32_t)v;
	}
	s->initval = s->adczero;
	if (n > 5) {
		if (parse_i64(tok[5], &v, INT32_MIN, INT32_MAX) < 0)
			return werr(w, MRT_EFORMAT, "line %llu: bad initial "
			    "value '%.40s'", (unsigned long long)ln, tok[5]);
		s->initval = (int32_t)v;
	}
	if (n > 6) {
		if (parse_i64(tok[6], &v, INT32_MIN, INT32_MAX) < 0)
			return werr(w, MRT_EFORMAT, "line %llu: bad checksum "
			    "'%.40s'", (unsigned long long)ln, tok[6]);
		s->checksum = (int32_t)v;
		s->has_checksum = 1;
	}
	if (n > 7 && parse_i64(tok[7], &v, 0, INT32_MAX) < 0)
		return werr(w, MRT_EFORMAT, "line %llu: bad block size "
		    "'%.40s'", (unsigned long long)ln, tok[7]);
	if (!hasbase)
		s->baseline = s->adczero;
	if (rest) {
		size_t l = strlen(rest);
		while (l && (rest[l - 1] == ' ' || rest[l - 1] == '\t'))
			rest[--l] = 0;
		if (l >= sizeof s->desc)
			l = sizeof s->desc - 1;
		memcpy(s->desc, rest, l);
		s->desc[l] = 0;
	}
	return 0;
}

/*
 * Read one line into buf (MRT_WFDB_MAXLINE + 1 bytes): 1 line, 0 end, <0
 * error (too long, a NUL byte, over the record's header budget, I/O).
 */
static int
getline_bounded(mrt_wfdb *w, FILE *f, char *buf, uint64_t ln)
{
	size_t l = 0;
	int c;
	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (c == 0)
			return werr(w, MRT_EFORMAT, "line %llu: NUL byte",
			    (unsigned long long)ln);
		if (l == MRT_WFDB_MAXLINE)
			return werr(w, MRT_EFORMAT, "line %llu: longer than %d "
			    "bytes", (unsigned long long)ln, MRT_WFDB_MAXLINE);
		buf[l++] = (char)c;
	}
	if (c == EOF && ferror(f))
		return werr(w, MRT_EIO, "%s", strerror(errno));
	if (c == EOF && l == 0)
		return 0;
	if ((*w->budget -= (int64_t)l + 1) < 0)
		return werr(w, MRT_ENOMEM, "headers of more than %lld bytes (the "
		    "record's and its segments' in all)",
		    (long long)MRT_WFDB_MAXHEADER);
	while (l && buf[l - 1] == '\r')
		l--;
	buf[l] = 0;
	return 1;
}

static int
parse_record_line(mrt_wfdb *w, char *line, uint64_t ln)
{
	char *tok[4], *rest, *p, *end;
	int n = tokens(line, tok, 4, &rest);
	int64_t v;
	if ((p = strchr(tok[0], '/')) != NULL) {
		*p = 0;
		if (parse_i64(p + 1, &v, 1, MRT_WFDB_MAXSEG) < 0)
			return werr(w, MRT_EFORMAT, "line %llu: bad segment "
			    "count '%.40s' (1 to %d)", (unsigned long long)ln,
			    p + 1, MRT_WFDB_MAXSEG);
		w->nseg = (int)v;
	}
	if (strlen(tok[0]) >= sizeof w->name)
		return werr(w, MRT_EFORMAT, "line %llu: record name too long",
		    (unsigned long long)ln);
	strcpy(w->name, tok[0]);
	if (n < 2)
		return werr(w, MRT_EFORMAT, "line %llu: no signal count",
		    (unsigned long long)ln);
	if (parse_i64(tok[1], &v, INT64_MIN, INT64_MAX) < 0 || v < 0)
		return werr(w, MRT_EFORMAT, "line %llu: bad signal count "
		    "'%.40s'", (unsigned long long)ln, tok[1]);
	if (v > MRT_WFDB_MAXSIG)
		return werr(w, MRT_ERANGE, "line %llu: %lld signals (at most "
		    "%d)", (unsigned long long)ln, (long long)v,
		    MRT_WFDB_MAXSIG);
	w->nsig = (int)v;
	w->fs = 250;
	if (n > 2) {
		errno = 0;
		w->fs = strtod(tok[2], &end);
		if (end == tok[2] || (*end && *end != '/') ||
		    !isfinite(w->fs) || w->fs <= 0 || w->fs > 1e9)
			return werr(w, MRT_EFORMAT, "line %llu: bad sampling "
			    "frequency '%.40s'", (unsigned long long)ln,
			    tok[2]);
	}
	w->nsamp = -1;
	if (n > 3) {
		if (parse_i64(tok[3], &v, INT64_MIN, INT64_MAX) < 0 || v < 0)
			return werr(w, MRT_EFORMAT, "line %llu: bad sample "
			    "count '%.40s'", (unsigned long long)ln, tok[3]);
		w->nsamp = v;
	}
	return 0;
}

static int wfdb_open(mrt_wfdb **wp, const char *path, int64_t *budget);

/* Open segment i of w, which must be an ordinary record. */
static int
open_segment(mrt_wfdb *w, int i, mrt_wfdb **sw)
{
	char p[8192];
	int e;
	*sw = NULL;
	if (strcmp(w->segname[i], "~") == 0)
		return werr(w, MRT_EFORMAT, "segment %d is a gap ('~'), not "
		    "supported", i + 1);
	snprintf(p, sizeof p, "%s%s.hea", w->dir, w->segname[i]);
	e = wfdb_open(sw, p, w->budget);
	if (e == 0 && (*sw)->nseg)
		e = werr(w, MRT_EFORMAT, "segment %s is itself multi-segment",
		    w->segname[i]);
	else if (e < 0)
		werr(w, e, "segment %s: %s", w->segname[i], mrt_wfdb_errmsg(*sw));
	return e;
}

/* A multi-segment record takes its signal specs from its first segment. */
static int
segment_signals(mrt_wfdb *w)
{
	mrt_wfdb *sw;
	int e;
	if (w->seglen[0] == 0)
		return werr(w, MRT_EFORMAT, "variable-layout multi-segment "
		    "record (layout segment %s) is not supported",
		    w->segname[0]);
	e = open_segment(w, 0, &sw);
	if (e == 0 && sw->nsig != w->nsig)
		e = werr(w, MRT_EFORMAT, "segment %s has %d signals, the "
		    "record %d", w->segname[0], sw->nsig, w->nsig);
	if (e == 0 && w->nsig && (w->sig = calloc(w->nsig, sizeof *w->sig)) == NULL)
		e = werr(w, MRT_ENOMEM, "out of memory");
	if (e == 0) {
		if (w->nsig)
			memcpy(w->sig, sw->sig, w->nsig * sizeof *w->sig);
		w->maxspf = sw->maxspf;
	}
	mrt_wfdb_free(sw);
	return e;
}

int
mrt_wfdb_open(mrt_wfdb **wp, const char *path)
{
	return wfdb_open(wp, path, NULL);
}

/* Open the header at path; budget: the header bytes left for a segment's
 * record, or NULL for a record of its own. */
static int
wfdb_open(mrt_wfdb **wp, const char *path, int64_t *budget)
{
	mrt_wfdb *w = calloc(1, sizeof *w);
	FILE *f;
	char *line, *p;
	uint64_t ln = 0;
	int e = 0, state = 0, seg = 0, sig = 0;
	*wp = w;
	if (w == NULL)
		return MRT_ENOMEM;
	w->own_budget = MRT_WFDB_MAXHEADER;
	w->budget = budget ? budget : &w->own_budget;
	if (strlen(path) >= sizeof w->path)
		return werr(w, MRT_EINVAL, "path too long");
	strcpy(w->path, path);
	strcpy(w->dir, path);
	p = strrchr(w->dir, '/');
	if (p)
		p[1] = 0;
	else
		w->dir[0] = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return werr(w, errno == ENOENT ? MRT_ENOENT : MRT_EIO, "%s",
		    strerror(errno));
	if ((line = malloc(MRT_WFDB_MAXLINE + 1)) == NULL) {
		fclose(f);
		return werr(w, MRT_ENOMEM, "out of memory");
	}
	/* state 0: record line, 1: segments, 2: signals, 3: comments only */
	while ((e = getline_bounded(w, f, line, ++ln)) == 1) {
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '#') {
			if ((e = add_comment(w, s + 1)) < 0)
				break;
			continue;
		}
		if (*s == 0)
			continue;
		if (state == 0) {
			if ((e = parse_record_line(w, s, ln)) < 0)
				break;
			if (w->nseg && budget)
				break;  /* a segment that is multi-segment */
			if (w->nseg) {
				w->segname = calloc(w->nseg, sizeof *w->segname);
				w->seglen = calloc(w->nseg, sizeof *w->seglen);
				if (!w->segname || !w->seglen) {
					e = werr(w, MRT_ENOMEM, "out of memory");
					break;
				}
				state = 1;
			} else {
				if (w->nsig && (w->sig = calloc(w->nsig,
				    sizeof *w->sig)) == NULL) {
					e = werr(w, MRT_ENOMEM, "out of memory");
					break;
				}
				state = w->nsig ? 2 : 3;
			}
		} else if (state == 1) {
			char *tok[2], *rest;
			int64_t v;
			if (tokens(s, tok, 2, &rest) != 2 || rest ||
			    strlen(tok[0]) >= 256 ||
			    parse_i64(tok[1], &v, 0, INT64_MAX) < 0) {
				e = werr(w, MRT_EFORMAT, "line %llu: bad segment "
				    "line", (unsigned long long)ln);
				break;
			}
			strcpy(w->segname[seg], tok[0]);
			w->seglen[seg] = v;
			if (++seg == w->nseg)
				state = 3;
		} else if (state == 2) {
			if ((e = parse_signal(w, &w->sig[sig], s, ln)) < 0)
				break;
			if (++sig == w->nsig)
				state = 3;
		} else {
			e = werr(w, MRT_EFORMAT, "line %llu: more signal lines "
			    "than the %d announced", (unsigned long long)ln,
			    w->nsig);
			break;
		}
	}
	free(line);
	fclose(f);
	if (e < 0)
		return e;
	if (w->nseg && budget)
		return 0;       /* the caller refuses it (open_segment) */
	if (state == 0)
		return werr(w, MRT_EFORMAT, "no record line");
	if (state == 1)
		return werr(w, MRT_EFORMAT, "%d segment lines, %d announced",
		    seg, w->nseg);
	if (state == 2)
		return werr(w, MRT_EFORMAT, "%d signal lines, %d announced",
		    sig, w->nsig);
	w->cptr = malloc((w->ncomments + 1) * sizeof *w->cptr);
	if (w->cptr == NULL)
		return werr(w, MRT_ENOMEM, "out of memory");
	p = w->comments;
	for (int i = 0; i < w->ncomments; i++) {
		w->cptr[i] = p;
		p += strlen(p) + 1;
	}
	if (w->nseg)
		return segment_signals(w);
	w->maxspf = 1;
	for (int i = 0; i < w->nsig; i++)
		if (w->sig[i].spf > w->maxspf)
			w->maxspf = w->sig[i].spf;
	return 0;
}

/* ---- decoding ---------------------------------------------------------- */

/* Samples held by nbytes bytes of format fmt (partial groups count). */
static int64_t
samples_in(int fmt, int64_t b)
{
	switch (fmt) {
	case 8: case 80: return b;
	case 16: case 61: case 160: return b / 2;
	case 24: return b / 3;
	case 32: return b / 4;
	case 212: return b / 3 * 2 + (b % 3 >= 2);
	case 310: return b / 4 * 3 + (b % 4 >= 2);
	case 311: return b / 4 * 3 + (b % 4 >= 2) + (b % 4 >= 3);
	}
	return 0;
}

/* Bytes needed for n samples (whole groups). */
static int64_t
bytes_for(int fmt, int64_t n)
{
	switch (fmt) {
	case 8: case 80: return n;
	case 16: case 61: case 160: return 2 * n;
	case 24: return 3 * n;
	case 32: return 4 * n;
	case 212: return (n + 1) / 2 * 3;
	case 310: case 311: return (n + 2) / 3 * 4;
	}
	return 0;
}

static inline int32_t
sext(uint32_t v, int bits)
{
	uint32_t m = 1u << (bits - 1);
	return (int32_t)((v ^ m) - m);
}

/* Sample i of a buffer in format fmt (format 8: the raw difference). */
static inline int32_t
get_sample(int fmt, const unsigned char *b, int64_t i)
{
	const unsigned char *p;
	int32_t v;
	uint32_t w0, w1;
	switch (fmt) {
	case 8:
		return (int8_t)b[i];
	case 80:
		v = (int32_t)b[i] - 128;
		return v == -128 ? MRT_WFDB_INVALID : v;
	case 16:
		v = (int16_t)(b[2 * i] | b[2 * i + 1] << 8);
		return v == -32768 ? MRT_WFDB_INVALID : v;
	case 61:
		v = (int16_t)(b[2 * i + 1] | b[2 * i] << 8);
		return v == -32768 ? MRT_WFDB_INVALID : v;
	case 160:
		v = (int32_t)(b[2 * i] | b[2 * i + 1] << 8) - 32768;
		return v == -32768 ? MRT_WFDB_INVALID : v;
	case 24:
		p = b + 3 * i;
		v = sext(p[0] | p[1] << 8 | (uint32_t)p[2] << 16, 24);
		return v == -8388608 ? MRT_WFDB_INVALID : v;
	case 32:
		p = b + 4 * i;
		return (int32_t)(p[0] | p[1] << 8 | (uint32_t)p[2] << 16 |
		    (uint32_t)p[3] << 24);
	case 212:
		p = b + 3 * (i / 2);
		if (i % 2 == 0)
			v = sext(p[0] | (p[1] & 0x0fu) << 8, 12);
		else
			v = sext(p[2] | (p[1] & 0xf0u) << 4, 12);
		return v == -2048 ? MRT_WFDB_INVALID : v;
	case 310:
		p = b + 4 * (i / 3);
		w0 = p[0] | p[1] << 8;
		w1 = p[2] | p[3] << 8;
		switch (i % 3) {
		case 0: v = sext(w0 >> 1 & 0x3ff, 10); break;
		case 1: v = sext(w1 >> 1 & 0x3ff, 10); break;
		default: v = sext((w0 >> 11 & 0x1f) | (w1 >> 11 & 0x1f) << 5,
		    10);
		}
		return v == -512 ? MRT_WFDB_INVALID : v;
	case 311:
		p = b + 4 * (i / 3);
		w0 = p[0] | p[1] << 8 | (uint32_t)p[2] << 16 |
		    (uint32_t)p[3] << 24;
		v = sext(w0 >> (10 * (i % 3)) & 0x3ff, 10);
		return v == -512 ? MRT_WFDB_INVALID : v;
	}
	return 0;
}

/* A file and the run of signals [s0, s1) stored in it. */
struct group {
	int s0, s1, framesize;
	int64_t frames;            /* frames the file holds */
};

static int
find_groups(mrt_wfdb *w, struct group *g, int *ng)
{
	int n = 0;
	for (int s = 0; s < w->nsig; s++) {
		if (n && strcmp(w->sig[s].file, w->sig[g[n - 1].s0].file) == 0) {
			if (w->sig[s].fmt != w->sig[g[n - 1].s0].fmt)
				return werr(w, MRT_EFORMAT, "signals %d and %d "
				    "share %s with different formats",
				    g[n - 1].s0, s, w->sig[s].file);
			g[n - 1].s1 = s + 1;
			g[n - 1].framesize += w->sig[s].spf;
			continue;
		}
		for (int k = 0; k < n; k++)
			if (strcmp(w->sig[s].file, w->sig[g[k].s0].file) == 0)
				return werr(w, MRT_EFORMAT, "signals of %s are "
				    "not consecutive", w->sig[s].file);
		g[n].s0 = s;
		g[n].s1 = s + 1;
		g[n].framesize = w->sig[s].spf;
		n++;
	}
	*ng = n;
	return 0;
}

static FILE *
open_sigfile(mrt_wfdb *w, const char *file, int64_t *size, int *e)
{
	char p[8192];
	struct stat st;
	FILE *f;
	snprintf(p, sizeof p, "%s%s", w->dir, file);
	if ((f = fopen(p, "rb")) == NULL) {
		*e = werr(w, errno == ENOENT ? MRT_ENOENT : MRT_EIO, "%s: %s",
		    file, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		*e = werr(w, MRT_EIO, "%s: not a regular file", file);
		fclose(f);
		return NULL;
	}
	*size = st.st_size;
	return f;
}

/*
 * Decode group g (file f, nframes frames) into out: signal s's row starts
 * at out + s * stride, and its frame 0 at column at.
 */
static int
decode_group(mrt_wfdb *w, const struct group *g, FILE *f, int64_t nframes,
    int64_t nout, int32_t *out, int64_t stride, int64_t at)
{
	const mrt_wfdb_sig *s0 = &w->sig[g->s0];
	int fmt = s0->fmt, M = w->maxspf;
	int64_t nbytes = bytes_for(fmt, nframes * g->framesize), idx = 0;
	unsigned char *buf;
	int64_t acc[MRT_WFDB_MAXSIG];
	if ((buf = calloc(1, (size_t)nbytes + 8)) == NULL)
		return werr(w, MRT_ENOMEM, "out of memory");
	if (fseeko(f, s0->offset, SEEK_SET) != 0) {
		free(buf);
		return werr(w, MRT_EIO, "%s: %s", s0->file, strerror(errno));
	}
	/* a short last group decodes from the zero padding */
	(void)fread(buf, 1, (size_t)nbytes, f);
	if (ferror(f)) {
		free(buf);
		return werr(w, MRT_EIO, "%s: %s", s0->file, strerror(errno));
	}
	for (int s = g->s0; s < g->s1; s++)
		acc[s - g->s0] = w->sig[s].initval;
	for (int64_t fr = 0; fr < nframes; fr++)
		for (int s = g->s0; s < g->s1; s++) {
			const mrt_wfdb_sig *sg = &w->sig[s];
			int64_t of = fr - sg->skew;
			int32_t *row = out + (int64_t)s * stride + at;
			for (int k = 0; k < sg->spf; k++) {
				int32_t v = get_sample(fmt, buf, idx++);
				if (fmt == 8) {
					/* first differences: the sum must stay a
					 * valid 32-bit sample */
					int64_t a = acc[s - g->s0] += v;
					if (a <= INT32_MIN || a > INT32_MAX) {
						free(buf);
						return werr(w, MRT_ERANGE, "signal %d: "
						    "format 8 differences leave the "
						    "32-bit range at frame %lld", s,
						    (long long)fr);
					}
					v = (int32_t)a;
				}
				if (of < 0 || of >= nout)
					continue;
				/* high-rate positions m with m*spf/M == k */
				int m0 = (k * M + sg->spf - 1) / sg->spf;
				int m1 = ((k + 1) * M + sg->spf - 1) / sg->spf;
				for (int m = m0; m < m1; m++)
					row[of * M + m] = v;
			}
		}
	free(buf);
	return 0;
}

/* What reading a single-segment record takes, sized before decoding. */
struct plan {
	struct group *g;
	FILE **fp;
	int ng;
	int64_t nframes, nout;
	int64_t total;             /* samples per signal out */
};

static void
plan_free(struct plan *pl)
{
	for (int i = 0; i < pl->ng; i++)
		if (pl->fp[i])
			fclose(pl->fp[i]);
	free(pl->g);
	free(pl->fp);
	memset(pl, 0, sizeof *pl);
}

/* Open the signal files of w and size its output, within the limits. */
static int
plan_single(mrt_wfdb *w, struct plan *pl)
{
	int e = 0, maxskew = 0;
	memset(pl, 0, sizeof *pl);
	pl->nframes = w->nsamp;
	if (w->nsig == 0)
		return 0;
	pl->g = calloc(w->nsig, sizeof *pl->g);
	pl->fp = calloc(w->nsig, sizeof *pl->fp);
	if (pl->g == NULL || pl->fp == NULL) {
		plan_free(pl);
		return werr(w, MRT_ENOMEM, "out of memory");
	}
	if ((e = find_groups(w, pl->g, &pl->ng)) < 0)
		goto fail;
	for (int i = 0; i < pl->ng; i++) {
		const mrt_wfdb_sig *s = &w->sig[pl->g[i].s0];
		int64_t size, avail;
		if ((pl->fp[i] = open_sigfile(w, s->file, &size, &e)) == NULL)
			goto fail;
		avail = size - s->offset;
		if (avail < 0)
			avail = 0;
		pl->g[i].frames = samples_in(s->fmt, avail) / pl->g[i].framesize;
		if (w->nsamp >= 0 && pl->g[i].frames < w->nsamp) {
			e = werr(w, MRT_ETRUNC, "size mismatch: %s holds %lld "
			    "frames, the header says %lld", s->file,
			    (long long)pl->g[i].frames, (long long)w->nsamp);
			goto fail;
		}
		if (pl->nframes < 0 || pl->g[i].frames < pl->nframes)
			pl->nframes = pl->g[i].frames;
	}
	for (int s = 0; s < w->nsig; s++)
		if (w->sig[s].skew > maxskew)
			maxskew = w->sig[s].skew;
	pl->nout = pl->nframes > maxskew ? pl->nframes - maxskew : 0;
	pl->total = pl->nout * w->maxspf;
	if (pl->total > MRT_WFDB_MAXBYTES / 4 / w->nsig) {
		e = werr(w, MRT_ENOMEM, "%lld samples per signal is over the "
		    "limit", (long long)pl->total);
		goto fail;
	}
	/* the bytes decoded (skewed frames too) are bounded as well */
	for (int i = 0; i < pl->ng; i++)
		if (bytes_for(w->sig[pl->g[i].s0].fmt, pl->nframes *
		    pl->g[i].framesize) > MRT_WFDB_MAXBYTES) {
			e = werr(w, MRT_ENOMEM, "%s: %lld frames to decode is "
			    "over the limit", w->sig[pl->g[i].s0].file,
			    (long long)pl->nframes);
			goto fail;
		}
	return 0;
fail:
	plan_free(pl);
	return e;
}

/* Decode the planned record into out (rows of stride, from column at). */
static int
plan_decode(mrt_wfdb *w, const struct plan *pl, int32_t *out, int64_t stride,
    int64_t at)
{
	int e;
	for (int i = 0; i < pl->ng; i++)
		if ((e = decode_group(w, &pl->g[i], pl->fp[i], pl->nframes,
		    pl->nout, out, stride, at)) < 0)
			return e;
	return 0;
}

static int read_single(mrt_wfdb *w, int32_t **out, int64_t *n);
static int read_segments(mrt_wfdb *w, int32_t **out, int64_t *n);

int
mrt_wfdb_read(mrt_wfdb *w, int32_t **out, int64_t *n)
{
	*out = NULL;
	*n = 0;
	w->err[0] = 0;
	return w->nseg ? read_segments(w, out, n) : read_single(w, out, n);
}

static int
read_single(mrt_wfdb *w, int32_t **out, int64_t *n)
{
	struct plan pl;
	int e;
	if ((e = plan_single(w, &pl)) < 0 || w->nsig == 0)
		return e;
	if ((*out = malloc((size_t)(pl.total * w->nsig) * 4 + 4)) == NULL)
		e = werr(w, MRT_ENOMEM, "out of memory");
	else if ((e = plan_decode(w, &pl, *out, pl.total, 0)) < 0) {
		free(*out);
		*out = NULL;
	} else
		*n = pl.total;
	plan_free(&pl);
	return e;
}

/* Does segment sw have w's fixed layout (gains, baselines, rates)? */
static int
same_layout(mrt_wfdb *w, const mrt_wfdb *sw, int i)
{
	if (sw->nsig != w->nsig)
		return werr(w, MRT_EFORMAT, "segment %s has %d signals, the record "
		    "%d", w->segname[i], sw->nsig, w->nsig);
	if (sw->maxspf != w->maxspf)
		return werr(w, MRT_EFORMAT, "segment %s has another frame layout",
		    w->segname[i]);
	for (int s = 0; s < w->nsig; s++) {
		const mrt_wfdb_sig *a = &w->sig[s], *b = &sw->sig[s];
		if (a->spf != b->spf || a->gain != b->gain ||
		    a->baseline != b->baseline || strcmp(a->units, b->units) != 0)
			return werr(w, MRT_EFORMAT, "segment %s: signal %d has "
			    "another rate, gain, baseline or units than in the "
			    "first segment (a fixed layout keeps them)",
			    w->segname[i], s);
	}
	return 0;
}

/*
 * A fixed-layout record: every segment is sized first (headers and signal
 * file sizes only), so the total is checked before anything is allocated
 * for samples; then each is decoded straight into the output.
 */
static int
read_segments(mrt_wfdb *w, int32_t **out, int64_t *n)
{
	int64_t *len = calloc(w->nseg, sizeof *len), total = 0, at = 0;
	int e = 0;
	if (len == NULL)
		return werr(w, MRT_ENOMEM, "out of memory");
	for (int pass = 0; pass < 2 && e == 0; pass++) {
		if (pass == 1) {
			if (w->nsig == 0)
				break;
			if ((*out = malloc((size_t)(total * w->nsig) * 4 + 4)) ==
			    NULL) {
				e = werr(w, MRT_ENOMEM, "out of memory");
				break;
			}
		}
		for (int i = 0; i < w->nseg && e == 0; i++) {
			mrt_wfdb *sw = NULL;
			struct plan pl;
			memset(&pl, 0, sizeof pl);
			if ((e = open_segment(w, i, &sw)) == 0 &&
			    (e = same_layout(w, sw, i)) == 0) {
				if ((e = plan_single(sw, &pl)) < 0)
					werr(w, e, "segment %s: %s", w->segname[i],
					    mrt_wfdb_errmsg(sw));
			}
			if (e == 0 && pass == 0) {
				len[i] = pl.total;
				total += pl.total;
				if (total > MRT_WFDB_MAXBYTES / 4 /
				    (w->nsig ? w->nsig : 1))
					e = werr(w, MRT_ENOMEM, "%lld samples per "
					    "signal is over the limit",
					    (long long)total);
			} else if (e == 0) {
				if (pl.total != len[i])
					e = werr(w, MRT_EIO, "segment %s changed "
					    "while it was read", w->segname[i]);
				else if (w->nsig && (e = plan_decode(sw, &pl, *out,
				    total, at)) < 0)
					werr(w, e, "segment %s: %s", w->segname[i],
					    mrt_wfdb_errmsg(sw));
				at += len[i];
			}
			plan_free(&pl);
			mrt_wfdb_free(sw);
		}
	}
	if (e < 0) {
		free(*out);
		*out = NULL;
	} else
		*n = total;
	free(len);
	return e;
}
