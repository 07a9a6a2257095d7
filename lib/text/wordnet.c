/*
 * wordnet.c: WordNet index, exception and data files (see wordnet.h).
 *
 * One hash table of strings (lemmas of the index files and forms of the
 * exception lists); an entry has, per part of speech, its synset offsets
 * (a slice of offs) and its exception forms (a slice of excs, string
 * references into the pool).  Data lines are read on demand by offset.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/grow.h"
#include "core/rng.h"
#include "text/wordnet.h"

static const char *const posname[MRT_WN_NPOS] = { "noun", "verb", "adj", "adv" };

struct slice { uint32_t start, n; };

struct entry {
	uint32_t key, klen;                     /* in pool */
	struct slice syn[MRT_WN_NPOS];          /* in offs; n 0: not a lemma */
	struct slice exc[MRT_WN_NPOS];          /* in excs; n 0: no exception */
	uint8_t lemma[MRT_WN_NPOS];             /* an index line of this pos */
	uint8_t isexc[MRT_WN_NPOS];
};

struct mrt_wordnet {
	char *pool;
	size_t npool, cpool;
	struct entry *ent;
	size_t nent, cent, nlemma;
	uint32_t *tab;                          /* entry + 1, 0 empty */
	size_t ctab;
	uint32_t *offs;
	size_t noffs, coffs;
	struct slice *excs;                     /* strings in pool */
	size_t nexcs, cexcs;
	FILE *data[MRT_WN_NPOS];
	char *line;
	size_t cline;
};

static uint32_t
pool_add(mrt_wordnet *wn, const char *s, size_t n, int *e)
{
	size_t at = wn->npool;
	if (wn->npool + n + 1 > UINT32_MAX) {
		*e = MRT_ENOMEM;
		return 0;
	}
	if ((*e = mrt_grow((void **)&wn->pool, &wn->cpool, wn->npool + n + 1, 1)) != 0)
		return 0;
	memcpy(wn->pool + at, s, n);
	wn->pool[at + n] = 0;
	wn->npool += n + 1;
	return (uint32_t)at;
}

/* The entry of s, or NULL. */
static struct entry *
find(const mrt_wordnet *wn, const char *s, size_t n)
{
	size_t m = wn->ctab - 1;
	if (wn->ctab == 0)
		return NULL;
	for (size_t i = mrt_rng_hash(0, s, n) & m;; i = (i + 1) & m) {
		uint32_t k = wn->tab[i];
		struct entry *e;
		if (k == 0)
			return NULL;
		e = &wn->ent[k - 1];
		if (e->klen == n && memcmp(wn->pool + e->key, s, n) == 0)
			return e;
	}
}

static int
rehash(mrt_wordnet *wn, size_t cap)
{
	uint32_t *t = calloc(cap, sizeof *t);
	if (t == NULL)
		return MRT_ENOMEM;
	for (size_t k = 0; k < wn->nent; k++) {
		struct entry *e = &wn->ent[k];
		size_t i = mrt_rng_hash(0, wn->pool + e->key, e->klen) & (cap - 1);
		while (t[i])
			i = (i + 1) & (cap - 1);
		t[i] = (uint32_t)(k + 1);
	}
	free(wn->tab);
	wn->tab = t;
	wn->ctab = cap;
	return 0;
}

/* The entry of s, added if new; NULL when out of memory. */
static struct entry *
intern(mrt_wordnet *wn, const char *s, size_t n)
{
	struct entry *e = find(wn, s, n);
	size_t i;
	int err;
	if (e != NULL)
		return e;
	if ((wn->nent + 1) * 2 > wn->ctab && rehash(wn, wn->ctab ? 2 * wn->ctab : 1 << 16) != 0)
		return NULL;
	if (mrt_grow((void **)&wn->ent, &wn->cent, wn->nent + 1, sizeof *wn->ent) != 0)
		return NULL;
	e = &wn->ent[wn->nent];
	memset(e, 0, sizeof *e);
	e->key = pool_add(wn, s, n, &err);
	if (err)
		return NULL;
	e->klen = (uint32_t)n;
	for (i = mrt_rng_hash(0, s, n) & (wn->ctab - 1); wn->tab[i]; i = (i + 1) & (wn->ctab - 1))
		;
	wn->tab[i] = (uint32_t)++wn->nent;
	return e;
}

/* Whitespace-separated fields of line: the next one from *p. */
static int
field(char **p, const char **s, size_t *n)
{
	char *q = *p;
	while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
		q++;
	if (*q == 0)
		return 0;
	*s = q;
	while (*q && *q != ' ' && *q != '\t' && *q != '\n' && *q != '\r')
		q++;
	*n = (size_t)(q - *s);
	*p = q;
	return 1;
}

static int
field_num(char **p, int base, unsigned long *v)
{
	const char *s;
	size_t n;
	char buf[32], *end;
	if (!field(p, &s, &n) || n == 0 || n >= sizeof buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = 0;
	errno = 0;
	*v = strtoul(buf, &end, base);
	return *end == 0 && errno == 0 && buf[0] != '-';
}

static FILE *
open_file(const char *dir, const char *name, char *msg, size_t cap, int *e)
{
	char path[4096];
	FILE *f;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		*e = mrt_errf(msg, cap, errno == ENOENT ? MRT_ENOENT : MRT_EIO,
		    "%s: %s", path, strerror(errno));
	return f;
}

/* Where a line comes from, for messages. */
struct src {
	const char *dir, *name;
	size_t lineno;
	int pos;
	char *msg;
	size_t cap;
};

/* An index line: lemma pos n_synsets n_pointers pointers... n_senses
 * n_tagged offsets... */
static int
index_line(mrt_wordnet *wn, char *p, const struct src *at)
{
	const char *lem, *s;
	size_t nlem, n;
	unsigned long nsyn, nptr, nsense, off;
	struct entry *en;
	if (p[0] == ' ')
		return 0;       /* the licence */
	if (!field(&p, &lem, &nlem) || !field(&p, &s, &n) ||
	    !field_num(&p, 10, &nsyn) || nsyn == 0 || !field_num(&p, 10, &nptr))
		return mrt_errf(at->msg, at->cap, MRT_EFORMAT,
		    "%s/%s: line %zu: not an index line", at->dir, at->name, at->lineno);
	for (unsigned long k = 0; k < nptr; k++)
		if (!field(&p, &s, &n))
			break;
	if (!field_num(&p, 10, &nsense) || nsense != nsyn || !field(&p, &s, &n))
		return mrt_errf(at->msg, at->cap, MRT_EFORMAT,
		    "%s/%s: line %zu: sense count does not match synset count",
		    at->dir, at->name, at->lineno);
	if ((en = intern(wn, lem, nlem)) == NULL ||
	    mrt_grow((void **)&wn->offs, &wn->coffs, wn->noffs + nsyn, sizeof *wn->offs) != 0)
		return MRT_ENOMEM;
	if (!en->lemma[0] && !en->lemma[1] && !en->lemma[2] && !en->lemma[3])
		wn->nlemma++;
	en->lemma[at->pos] = 1;
	en->syn[at->pos].start = (uint32_t)wn->noffs;
	en->syn[at->pos].n = (uint32_t)nsyn;
	for (unsigned long k = 0; k < nsyn; k++) {
		if (!field_num(&p, 10, &off) || off > UINT32_MAX)
			return mrt_errf(at->msg, at->cap, MRT_EFORMAT,
			    "%s/%s: line %zu: %lu synset offsets expected", at->dir,
			    at->name, at->lineno, nsyn);
		wn->offs[wn->noffs++] = (uint32_t)off;
	}
	return 0;
}

/* An exception line: form base-form...; a later line for the same form
 * replaces an earlier one. */
static int
exc_line(mrt_wordnet *wn, char *p, const struct src *at)
{
	const char *s;
	size_t n;
	struct entry *en;
	int e = 0;
	if (!field(&p, &s, &n))
		return 0;
	if ((en = intern(wn, s, n)) == NULL)
		return MRT_ENOMEM;
	en->isexc[at->pos] = 1;
	en->exc[at->pos].start = (uint32_t)wn->nexcs;
	en->exc[at->pos].n = 0;
	while (field(&p, &s, &n)) {
		struct slice sl;
		sl.n = (uint32_t)n;
		sl.start = pool_add(wn, s, n, &e);
		if (e || mrt_grow((void **)&wn->excs, &wn->cexcs, wn->nexcs + 1,
		    sizeof *wn->excs) != 0)
			return MRT_ENOMEM;
		wn->excs[wn->nexcs++] = sl;
		en->exc[at->pos].n++;
	}
	return 0;
}

/* Every line of dir/name through fn. */
static int
load(mrt_wordnet *wn, const char *dir, const char *name, int pos,
    int (*fn)(mrt_wordnet *, char *, const struct src *), char *msg, size_t cap)
{
	struct src at = { dir, name, 0, pos, msg, cap };
	char *line = NULL;
	size_t lcap = 0;
	int e = 0;
	FILE *f = open_file(dir, name, msg, cap, &e);
	if (f == NULL)
		return e;
	while (!e && getline(&line, &lcap, f) > 0) {
		at.lineno++;
		e = fn(wn, line, &at);
	}
	if (!e && ferror(f))
		e = mrt_errf(msg, cap, MRT_EIO, "%s/%s: %s", dir, name, strerror(errno));
	free(line);
	fclose(f);
	return e;
}

int
mrt_wordnet_open(mrt_wordnet **out, const char *dir, char *msg, size_t cap)
{
	mrt_wordnet *wn = calloc(1, sizeof *wn);
	int e = 0;
	*out = NULL;
	if (wn == NULL)
		return MRT_ENOMEM;
	for (int p = 0; p < MRT_WN_NPOS && !e; p++) {
		char name[32];
		snprintf(name, sizeof name, "index.%s", posname[p]);
		e = load(wn, dir, name, p, index_line, msg, cap);
	}
	for (int p = 0; p < MRT_WN_NPOS && !e; p++) {
		char name[32];
		snprintf(name, sizeof name, "%s.exc", posname[p]);
		e = load(wn, dir, name, p, exc_line, msg, cap);
	}
	for (int p = 0; p < MRT_WN_NPOS && !e; p++) {
		char name[32];
		snprintf(name, sizeof name, "data.%s", posname[p]);
		wn->data[p] = open_file(dir, name, msg, cap, &e);
	}
	if (e == MRT_ENOMEM)
		mrt_errf(msg, cap, e, "%s: out of memory", dir);
	if (e) {
		mrt_wordnet_free(wn);
		return e;
	}
	*out = wn;
	return 0;
}

void
mrt_wordnet_free(mrt_wordnet *wn)
{
	if (wn == NULL)
		return;
	for (int p = 0; p < MRT_WN_NPOS; p++)
		if (wn->data[p])
			fclose(wn->data[p]);
	free(wn->pool);
	free(wn->ent);
	free(wn->tab);
	free(wn->offs);
	free(wn->excs);
	free(wn->line);
	free(wn);
}

size_t
mrt_wordnet_nlemmas(const mrt_wordnet *wn)
{
	return wn->nlemma;
}

/* ---- morphy ------------------------------------------------------------ */

/* A list of strings, NUL-separated in buf. */
struct forms {
	char *buf;
	size_t len, cap;
	size_t *off;
	size_t n, ncap;
};

static int
forms_add(struct forms *f, const char *a, size_t na, const char *b, size_t nb)
{
	if (mrt_grow((void **)&f->buf, &f->cap, f->len + na + nb + 1, 1) != 0 ||
	    mrt_grow((void **)&f->off, &f->ncap, f->n + 1, sizeof *f->off) != 0)
		return MRT_ENOMEM;
	f->off[f->n++] = f->len;
	memcpy(f->buf + f->len, a, na);
	memcpy(f->buf + f->len + na, b, nb);
	f->len += na + nb;
	f->buf[f->len++] = 0;
	return 0;
}

static const char *const subs[MRT_WN_NPOS][10][2] = {
	{ { "s", "" }, { "ses", "s" }, { "ves", "f" }, { "xes", "x" }, { "zes", "z" },
	  { "ches", "ch" }, { "shes", "sh" }, { "men", "man" }, { "ies", "y" } },
	{ { "s", "" }, { "ies", "y" }, { "es", "e" }, { "es", "" }, { "ed", "e" },
	  { "ed", "" }, { "ing", "e" }, { "ing", "" } },
	{ { "er", "" }, { "est", "" }, { "er", "e" }, { "est", "e" } },
	{ { 0 } },
};

/* nltk's apply_rules: the forms of every rule matching every form of in. */
static int
apply_rules(const struct forms *in, int pos, struct forms *out)
{
	out->len = out->n = 0;
	for (size_t i = 0; i < in->n; i++) {
		const char *s = in->buf + in->off[i];
		size_t n = strlen(s);
		for (int r = 0; r < 10 && subs[pos][r][0]; r++) {
			size_t lo = strlen(subs[pos][r][0]);
			if (lo <= n && memcmp(s + n - lo, subs[pos][r][0], lo) == 0 &&
			    forms_add(out, s, n - lo, subs[pos][r][1],
			    strlen(subs[pos][r][1])) != 0)
				return MRT_ENOMEM;
		}
	}
	return 0;
}

/* nltk's filter_forms: give each form that is a lemma of pos, once.
 * *found counts them. */
static int
filter_forms(mrt_wordnet *wn, const struct forms *f, size_t from, int pos,
    mrt_wordnet_each each, void *arg, size_t *found)
{
	for (size_t i = from; i < f->n; i++) {
		const char *s = f->buf + f->off[i];
		size_t n = strlen(s);
		struct entry *e = find(wn, s, n);
		int seen = 0, r;
		if (e == NULL || !e->lemma[pos])
			continue;
		for (size_t j = from; j < i && !seen; j++)
			seen = strcmp(f->buf + f->off[j], s) == 0;
		if (seen)
			continue;
		(*found)++;
		if ((r = each(arg, s, n)) != 0)
			return r;
	}
	return 0;
}

int
mrt_wordnet_morphy(mrt_wordnet *wn, const char *w, size_t n, int pos,
    mrt_wordnet_each each, void *arg)
{
	struct forms a = { 0 }, b = { 0 }, t;
	struct entry *e;
	size_t found = 0;
	int r;
	if (pos < 0 || pos >= MRT_WN_NPOS)
		return MRT_EINVAL;
	e = find(wn, w, n);
	if ((r = forms_add(&a, w, n, "", 0)) != 0)
		goto done;
	if (e != NULL && e->isexc[pos]) {
		for (uint32_t k = 0; k < e->exc[pos].n && !r; k++) {
			struct slice sl = wn->excs[e->exc[pos].start + k];
			r = forms_add(&a, wn->pool + sl.start, sl.n, "", 0);
		}
		if (!r)
			r = filter_forms(wn, &a, 0, pos, each, arg, &found);
		goto done;
	}
	/* the form and the rules applied once */
	if ((r = apply_rules(&a, pos, &b)) != 0)
		goto done;
	for (size_t i = 0; i < b.n && !r; i++)
		r = forms_add(&a, b.buf + b.off[i], strlen(b.buf + b.off[i]), "", 0);
	if (r || (r = filter_forms(wn, &a, 0, pos, each, arg, &found)) != 0 || found)
		goto done;
	/* then again and again until a round finds a lemma */
	while (b.n > 0) {
		if ((r = apply_rules(&b, pos, &a)) != 0)
			goto done;
		t = a, a = b, b = t;
		if ((r = filter_forms(wn, &b, 0, pos, each, arg, &found)) != 0 || found)
			goto done;
	}
done:
	free(a.buf);
	free(a.off);
	free(b.buf);
	free(b.off);
	return r;
}

/* ---- synsets ------------------------------------------------------------- */

/* Read the data line of pos at offset into wn->line. */
static int
data_line(mrt_wordnet *wn, int pos, uint32_t off, char *msg, size_t cap)
{
	FILE *f = wn->data[pos];
	ssize_t len;
	char *end;
	if (fseek(f, (long)off, SEEK_SET) != 0 ||
	    (len = getline(&wn->line, &wn->cline, f)) < 0) {
		if (ferror(f))
			return mrt_errf(msg, cap, MRT_EIO, "data.%s: %s", posname[pos],
			    strerror(errno));
		return mrt_errf(msg, cap, MRT_EFORMAT, "data.%s: no line at offset %u",
		    posname[pos], (unsigned)off);
	}
	if (strtoul(wn->line, &end, 10) != off || *end != ' ')
		return mrt_errf(msg, cap, MRT_EFORMAT,
		    "data.%s: the line at offset %u is not synset %08u", posname[pos],
		    (unsigned)off, (unsigned)off);
	return 0;
}

/* The lemma names of the synset at offset of pos. */
static int
synset_lemmas(mrt_wordnet *wn, int pos, uint32_t off, mrt_wordnet_each each,
    void *arg, char *msg, size_t cap)
{
	char *p;
	const char *s;
	size_t n;
	unsigned long cnt, lexid;
	int r;
	if ((r = data_line(wn, pos, off, msg, cap)) != 0)
		return r;
	p = wn->line;
	/* offset, lexicographer file, synset type, word count (hex) */
	if (!field(&p, &s, &n) || !field(&p, &s, &n) || !field(&p, &s, &n) ||
	    !field_num(&p, 16, &cnt))
		goto bad;
	for (unsigned long k = 0; k < cnt; k++) {
		size_t m;
		if (!field(&p, &s, &n))
			goto bad;
		/* a syntactic marker: from the first '(' of a name ending in ')' */
		m = n;
		if (n > 0 && s[n - 1] == ')') {
			const char *q = memchr(s, '(', n);
			if (q != NULL)
				m = (size_t)(q - s);
		}
		if ((r = each(arg, s, m)) != 0)
			return r;
		if (!field_num(&p, 16, &lexid))
			goto bad;
	}
	return 0;
bad:
	return mrt_errf(msg, cap, MRT_EFORMAT, "data.%s: synset %08u: malformed line",
	    posname[pos], (unsigned)off);
}

struct lemwalk {
	mrt_wordnet *wn;
	int pos;
	mrt_wordnet_each each;
	void *arg;
	char *msg;
	size_t cap;
};

static int
lemmas_of_form(void *arg, const char *s, size_t n)
{
	struct lemwalk *lw = arg;
	struct entry *e = find(lw->wn, s, n);
	struct slice sl = e->syn[lw->pos];
	for (uint32_t k = 0; k < sl.n; k++) {
		int r = synset_lemmas(lw->wn, lw->pos, lw->wn->offs[sl.start + k],
		    lw->each, lw->arg, lw->msg, lw->cap);
		if (r)
			return r;
	}
	return 0;
}

int
mrt_wordnet_lemmas(mrt_wordnet *wn, const char *w, size_t n,
    mrt_wordnet_each each, void *arg, char *msg, size_t cap)
{
	struct lemwalk lw = { wn, 0, each, arg, msg, cap };
	for (int p = 0; p < MRT_WN_NPOS; p++) {
		int r;
		lw.pos = p;
		if ((r = mrt_wordnet_morphy(wn, w, n, p, lemmas_of_form, &lw)) != 0)
			return r;
	}
	return 0;
}
