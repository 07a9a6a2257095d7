/*
 * textmetrics.c: BLEU, METEOR, ROUGE-L, CIDEr-D and finding-level scores
 * (see textmetrics.h).
 *
 * A corpus interns its tokens (word ids) and its n-grams of orders 1-4
 * (gram ids).  Each record keeps the union of its generated and reference
 * n-grams with both counts, from which BLEU's clipped counts and CIDEr-D's
 * vectors follow; its METEOR and ROUGE-L values are computed once.  A
 * corpus-level evaluation of a multiset is then sums over records, plus
 * CIDEr-D's document frequencies recounted with the multiplicities.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/grow.h"
#include "core/rng.h"
#include "eval/textmetrics.h"

static const char *const names[MRT_TM_NMETRIC] = {
	"BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "METEOR-1.5p",
	"ROUGE-L", "ROUGE-L-P", "ROUGE-L-R", "CIDEr-D",
};

const char *
mrt_tm_metric_name(int m)
{
	return m >= 0 && m < MRT_TM_NMETRIC ? names[m] : "?";
}

/* ---- tokens -------------------------------------------------------------- */

static int
alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80;
}

/* Is s[i] a separator? */
static int
separator(const unsigned char *s, size_t n, size_t i)
{
	switch (s[i]) {
	case ' ': case '\t': case '\n': case '\v': case '\f': case '\r':
	case '(': case ')': case '[': case ']': case '{': case '}':
	case '"': case '`': case ';': case '!': case '?':
		return 1;
	case '.': case ',': case ':': case '-': case '\'':
		return !(i > 0 && i + 1 < n && alnum(s[i - 1]) && alnum(s[i + 1]));
	}
	return 0;
}

int
mrt_tm_tokens(const char *text, size_t n,
    int (*each)(void *arg, const char *tok, size_t len), void *arg)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	while (i < n) {
		size_t j;
		int r;
		if (separator(s, n, i)) {
			i++;
			continue;
		}
		for (j = i + 1; j < n && !separator(s, n, j); j++)
			;
		if ((r = each(arg, text + i, j - i)) != 0)
			return r;
		i = j;
	}
	return 0;
}

/* ---- METEOR and LCS ---------------------------------------------------- */

struct match { size_t g, r; };

static int
match_cmp(const void *a, const void *b)
{
	size_t x = ((const struct match *)a)->g, y = ((const struct match *)b)->g;
	return (x > y) - (x < y);
}

/* One stage on the unmatched positions H[0..*nh) and R[0..*nr). */
static void
stage(size_t *H, size_t *nh, size_t *R, size_t *nr, const uint32_t *gk,
    const uint32_t *rk, int (*syn)(void *, uint32_t, uint32_t), void *ctx,
    struct match *M, size_t *nm)
{
	for (size_t i = *nh; i-- > 0;)
		for (size_t j = *nr; j-- > 0;) {
			uint32_t a = gk[H[i]], b = rk[R[j]];
			if (a == b || (syn != NULL && syn(ctx, a, b))) {
				M[*nm].g = H[i];
				M[*nm].r = R[j];
				(*nm)++;
				memmove(H + i, H + i + 1, (*nh - i - 1) * sizeof *H);
				memmove(R + j, R + j + 1, (*nr - j - 1) * sizeof *R);
				(*nh)--;
				(*nr)--;
				break;
			}
		}
}

int
mrt_tm_meteor(const uint32_t *g, const uint32_t *gs, size_t ng,
    const uint32_t *r, const uint32_t *rs, size_t nr,
    int (*syn)(void *ctx, uint32_t a, uint32_t b), void *ctx,
    double alpha, double beta, double gamma, double *score)
{
	size_t *H, *R, nh = ng, nrr = nr, nm = 0, chunks = 1;
	struct match *M;
	double p, rc, f, frag;

	*score = 0;
	if (ng == 0 || nr == 0)
		return 0;
	H = malloc(ng * sizeof *H);
	R = malloc(nr * sizeof *R);
	M = malloc((ng < nr ? ng : nr) * sizeof *M);
	if (!H || !R || !M) {
		free(H);
		free(R);
		free(M);
		return MRT_ENOMEM;
	}
	for (size_t i = 0; i < ng; i++)
		H[i] = i;
	for (size_t j = 0; j < nr; j++)
		R[j] = j;
	stage(H, &nh, R, &nrr, g, r, NULL, NULL, M, &nm);
	if (gs && rs) {
		stage(H, &nh, R, &nrr, gs, rs, NULL, NULL, M, &nm);
		if (syn)
			stage(H, &nh, R, &nrr, gs, rs, syn, ctx, M, &nm);
	}
	free(H);
	free(R);
	if (nm == 0) {
		free(M);
		return 0;
	}
	qsort(M, nm, sizeof *M, match_cmp);
	for (size_t i = 0; i + 1 < nm; i++)
		if (!(M[i + 1].g == M[i].g + 1 && M[i + 1].r == M[i].r + 1))
			chunks++;
	free(M);
	/* the order of nltk's arithmetic, for the same rounding */
	p = (double)nm / (double)ng;
	rc = (double)nm / (double)nr;
	f = (p * rc) / (alpha * p + (1 - alpha) * rc);
	frag = (double)chunks / (double)nm;
	*score = (1 - gamma * pow(frag, beta)) * f;
	return 0;
}

long
mrt_tm_lcs(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	uint32_t *row = calloc(nb + 1, sizeof *row);
	long len;
	if (row == NULL)
		return MRT_ENOMEM;
	for (size_t i = 0; i < na; i++) {
		uint32_t diag = 0;   /* row[j] of the previous i */
		for (size_t j = 1; j <= nb; j++) {
			uint32_t up = row[j];
			row[j] = a[i] == b[j - 1] ? diag + 1 :
			    (up > row[j - 1] ? up : row[j - 1]);
			diag = up;
		}
	}
	len = (long)row[nb];
	free(row);
	return len;
}

/* ---- the corpus -------------------------------------------------------- */

/* One n-gram of a record: its id, order (0..3) and counts in the
 * generated text and the reference. */
struct rgram {
	uint32_t id, th, tr;
	uint8_t order;
};

struct rec {
	size_t tok[2], ntok[2];         /* generated, reference: in toks */
	size_t gram0, ngram;            /* in rg, by order then id */
	uint32_t ord[5];                /* order o: gram0 + ord[o] .. ord[o + 1] */
	size_t ref0, nref;              /* reference n-gram ids: in rid */
	uint64_t num[4], den[4];        /* BLEU: clipped and all n-grams */
	uint32_t bigrams[2];            /* CIDEr-D's `length` */
	double meteor, meteor15, rp, rr, rf, cider;
};

/* A hash set of byte strings or of n-grams: ids + 1, 0 empty. */
struct tab {
	uint32_t *slot;
	size_t cap;
};

struct mrt_tm_corpus {
	char *pool;                     /* words, NUL-terminated */
	size_t npool, cpool;
	uint32_t *woff, *wlen;
	size_t nword, cword;
	struct tab words;
	uint32_t *toks;
	size_t ntok, ctok;
	struct rec *rec;
	size_t n, crec;
	uint32_t (*gram)[5];            /* w[0..3], order */
	size_t ngram, cgram;
	struct tab grams;
	struct rgram *rg;
	size_t nrg, crg;
	uint32_t *stem;                 /* [word] stem word id */
	uint32_t *synoff, *synn;        /* [word] synonyms (UINT32_MAX: not yet) */
	uint32_t *syn;
	size_t nsyn, csyn;
	uint32_t *rid;                  /* the records' reference n-grams */
	size_t nrid, crid;
	uint32_t *df;                   /* [gram] scratch: document frequency */
	double *idf;                    /* [gram] scratch */
	size_t cdf;
	double *logk;                   /* log(k) for k = 0..nlogk-1 */
	size_t nlogk;
	const mrt_tm_lexicon *lex;
	char *msg;
	size_t cap;
	int err, scored;
};

static uint64_t
word_hash(const mrt_tm_corpus *c, uint32_t id)
{
	return mrt_rng_hash(0, c->pool + c->woff[id], c->wlen[id]);
}

static uint64_t
gram_hash(const mrt_tm_corpus *c, uint32_t id)
{
	return mrt_rng_hash(0, c->gram[id], sizeof c->gram[id]);
}

static int
tab_rehash(struct tab *t, const mrt_tm_corpus *c, size_t count,
    uint64_t (*h)(const mrt_tm_corpus *, uint32_t))
{
	size_t cap = t->cap ? 2 * t->cap : 1024;
	uint32_t *s = calloc(cap, sizeof *s);
	if (s == NULL)
		return MRT_ENOMEM;
	for (uint32_t id = 0; id < count; id++) {
		size_t i = h(c, id) & (cap - 1);
		while (s[i])
			i = (i + 1) & (cap - 1);
		s[i] = id + 1;
	}
	free(t->slot);
	t->slot = s;
	t->cap = cap;
	return 0;
}

/* The id of word w, or UINT32_MAX; add it if asked. */
static uint32_t
word_id(mrt_tm_corpus *c, const char *w, size_t n, int add, int *err)
{
	uint64_t h = mrt_rng_hash(0, w, n);
	size_t i;
	uint32_t id;
	if (c->words.cap) {
		for (i = h & (c->words.cap - 1); c->words.slot[i]; i = (i + 1) & (c->words.cap - 1)) {
			id = c->words.slot[i] - 1;
			if (c->wlen[id] == n && memcmp(c->pool + c->woff[id], w, n) == 0)
				return id;
		}
	}
	if (!add)
		return UINT32_MAX;
	if (c->nword >= UINT32_MAX - 1 || c->npool + n + 1 > UINT32_MAX) {
		*err = MRT_ERANGE;
		return UINT32_MAX;
	}
	if ((c->nword + 1) * 2 > c->words.cap &&
	    (*err = tab_rehash(&c->words, c, c->nword, word_hash)) != 0)
		return UINT32_MAX;
	if (c->nword == c->cword) {
		size_t cap = c->cword;
		if ((*err = mrt_grow((void **)&c->woff, &cap, c->nword + 1, sizeof *c->woff)) != 0 ||
		    (*err = mrt_grow((void **)&c->wlen, &c->cword, c->nword + 1, sizeof *c->wlen)) != 0)
			return UINT32_MAX;
	}
	if ((*err = mrt_grow((void **)&c->pool, &c->cpool, c->npool + n + 1, 1)) != 0)
		return UINT32_MAX;
	id = (uint32_t)c->nword++;
	c->woff[id] = (uint32_t)c->npool;
	c->wlen[id] = (uint32_t)n;
	memcpy(c->pool + c->npool, w, n);
	c->pool[c->npool + n] = 0;
	c->npool += n + 1;
	for (i = h & (c->words.cap - 1); c->words.slot[i]; i = (i + 1) & (c->words.cap - 1))
		;
	c->words.slot[i] = id + 1;
	return id;
}

/* The id of the n-gram key (w[0..3] zero-padded, order), added if new. */
static uint32_t
gram_id(mrt_tm_corpus *c, const uint32_t key[5], int *err)
{
	uint64_t h = mrt_rng_hash(0, key, 5 * sizeof *key);
	size_t i;
	uint32_t id;
	if (c->grams.cap)
		for (i = h & (c->grams.cap - 1); c->grams.slot[i]; i = (i + 1) & (c->grams.cap - 1)) {
			id = c->grams.slot[i] - 1;
			if (memcmp(c->gram[id], key, 5 * sizeof *key) == 0)
				return id;
		}
	if ((c->ngram + 1) * 2 > c->grams.cap &&
	    (*err = tab_rehash(&c->grams, c, c->ngram, gram_hash)) != 0)
		return UINT32_MAX;
	if ((*err = mrt_grow((void **)&c->gram, &c->cgram, c->ngram + 1, sizeof *c->gram)) != 0)
		return UINT32_MAX;
	id = (uint32_t)c->ngram++;
	memcpy(c->gram[id], key, 5 * sizeof *key);
	for (i = h & (c->grams.cap - 1); c->grams.slot[i]; i = (i + 1) & (c->grams.cap - 1))
		;
	c->grams.slot[i] = id + 1;
	return id;
}

int
mrt_tm_corpus_new(mrt_tm_corpus **c)
{
	*c = calloc(1, sizeof **c);
	return *c ? 0 : MRT_ENOMEM;
}

void
mrt_tm_corpus_free(mrt_tm_corpus *c)
{
	if (c == NULL)
		return;
	free(c->pool);
	free(c->woff);
	free(c->wlen);
	free(c->words.slot);
	free(c->toks);
	free(c->rec);
	free(c->gram);
	free(c->grams.slot);
	free(c->rg);
	free(c->stem);
	free(c->synoff);
	free(c->synn);
	free(c->syn);
	free(c->rid);
	free(c->df);
	free(c->idf);
	free(c->logk);
	free(c);
}

static int
add_token(void *arg, const char *t, size_t n)
{
	mrt_tm_corpus *c = arg;
	int e = 0;
	uint32_t id = word_id(c, t, n, 1, &e);
	if (e)
		return e;
	if (c->ntok >= (size_t)UINT32_MAX * 16)
		return MRT_ERANGE;
	if ((e = mrt_grow((void **)&c->toks, &c->ctok, c->ntok + 1, sizeof *c->toks)) != 0)
		return e;
	c->toks[c->ntok++] = id;
	return 0;
}

int
mrt_tm_corpus_add(mrt_tm_corpus *c, const char *gen, size_t ng,
    const char *ref, size_t nr)
{
	struct rec *r;
	int e;
	if ((e = mrt_grow((void **)&c->rec, &c->crec, c->n + 1, sizeof *c->rec)) != 0)
		return e;
	r = &c->rec[c->n];
	memset(r, 0, sizeof *r);
	r->tok[0] = c->ntok;
	if ((e = mrt_tm_tokens(gen, ng, add_token, c)) != 0)
		return e;
	r->ntok[0] = c->ntok - r->tok[0];
	r->tok[1] = c->ntok;
	if ((e = mrt_tm_tokens(ref, nr, add_token, c)) != 0)
		return e;
	r->ntok[1] = c->ntok - r->tok[1];
	c->n++;
	c->scored = 0;
	return 0;
}

size_t
mrt_tm_corpus_size(const mrt_tm_corpus *c)
{
	return c->n;
}

size_t
mrt_tm_corpus_ntokens(const mrt_tm_corpus *c, size_t i, int which)
{
	return c->rec[i].ntok[which != 0];
}

const char *
mrt_tm_corpus_token(const mrt_tm_corpus *c, size_t i, int which, size_t k,
    size_t *len)
{
	uint32_t id = c->toks[c->rec[i].tok[which != 0] + k];
	if (len)
		*len = c->wlen[id];
	return c->pool + c->woff[id];
}

/* ---- per-record statistics ---------------------------------------------- */

static int
rgram_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct rgram *)a)->id, y = ((const struct rgram *)b)->id;
	return (x > y) - (x < y);
}

/* Record i's n-grams (union of both sides, counts) and BLEU counts. */
static int
record_grams(mrt_tm_corpus *c, size_t i)
{
	struct rec *r = &c->rec[i];
	size_t start = c->nrg, k = start;
	int e = 0;
	memset(r->num, 0, sizeof r->num);
	memset(r->den, 0, sizeof r->den);
	for (int side = 0; side < 2; side++) {
		const uint32_t *t = c->toks + r->tok[side];
		size_t n = r->ntok[side];
		for (uint32_t o = 0; o < 4; o++)
			for (size_t p = 0; p + o < n; p++) {
				uint32_t key[5] = { 0, 0, 0, 0, o };
				struct rgram *g;
				memcpy(key, t + p, (o + 1) * sizeof *key);
				if ((e = mrt_grow((void **)&c->rg, &c->crg, c->nrg + 1, sizeof *c->rg)) != 0)
					return e;
				g = &c->rg[c->nrg++];
				if ((g->id = gram_id(c, key, &e)) == UINT32_MAX)
					return e;
				g->order = (uint8_t)o;
				g->th = side == 0;
				g->tr = side == 1;
			}
		r->bigrams[side] = n >= 2 ? (uint32_t)(n - 1) : 0;
	}
	/* merge equal n-grams */
	if (c->nrg == start) {   /* two empty texts */
		r->gram0 = start;
		r->ngram = 0;
		r->ref0 = c->nrid;
		r->nref = 0;
		memset(r->ord, 0, sizeof r->ord);
		for (int o = 0; o < 4; o++)
			r->den[o] = 1;
		return 0;
	}
	qsort(c->rg + start, c->nrg - start, sizeof *c->rg, rgram_cmp);
	for (size_t j = start; j < c->nrg; j++) {
		if (k > start && c->rg[k - 1].id == c->rg[j].id) {
			c->rg[k - 1].th += c->rg[j].th;
			c->rg[k - 1].tr += c->rg[j].tr;
		} else
			c->rg[k++] = c->rg[j];
	}
	c->nrg = k;
	r->gram0 = start;
	r->ngram = k - start;
	/* by order (stable): each order's sums run over one stretch */
	{
		struct rgram *tmp = malloc((r->ngram + 1) * sizeof *tmp);
		size_t at = 0;
		if (tmp == NULL)
			return MRT_ENOMEM;
		for (uint8_t o = 0; o < 4; o++) {
			r->ord[o] = (uint32_t)at;
			for (size_t j = start; j < k; j++)
				if (c->rg[j].order == o)
					tmp[at++] = c->rg[j];
		}
		r->ord[4] = (uint32_t)at;
		memcpy(c->rg + start, tmp, r->ngram * sizeof *tmp);
		free(tmp);
	}
	r->ref0 = c->nrid;
	for (size_t j = start; j < k; j++) {
		const struct rgram *g = &c->rg[j];
		r->num[g->order] += g->th < g->tr ? g->th : g->tr;
		r->den[g->order] += g->th;
		if (g->tr) {
			if ((e = mrt_grow((void **)&c->rid, &c->crid, c->nrid + 1, sizeof *c->rid)) != 0)
				return e;
			c->rid[c->nrid++] = g->id;
		}
	}
	r->nref = c->nrid - r->ref0;
	for (int o = 0; o < 4; o++)
		if (r->den[o] == 0)
			r->den[o] = 1;   /* nltk: max(1, count) */
	return 0;
}

/* Collect the synonyms of a stem: the ids of lemma names that are words of
 * the corpus (a name that is not cannot equal a reference stem). */
static int
add_syn(void *arg, const char *s, size_t n)
{
	mrt_tm_corpus *c = arg;
	int e = 0;
	uint32_t id;
	if (memchr(s, '_', n) != NULL)
		return 0;
	if ((id = word_id(c, s, n, 0, &e)) == UINT32_MAX)
		return 0;
	if ((e = mrt_grow((void **)&c->syn, &c->csyn, c->nsyn + 1, sizeof *c->syn)) != 0)
		return e;
	c->syn[c->nsyn++] = id;
	return 0;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* METEOR's synonym test: is stem b among the synonyms of stem a? */
static int
is_syn(void *ctx, uint32_t a, uint32_t b)
{
	mrt_tm_corpus *c = ctx;
	if (c->err)
		return 0;
	if (c->synoff[a] == UINT32_MAX) {
		size_t start = c->nsyn;
		int e;
		if (c->nsyn >= UINT32_MAX / 2) {
			c->err = MRT_ENOMEM;
			return 0;
		}
		e = c->lex->synonyms(c->lex->ctx, c->pool + c->woff[a], c->wlen[a],
		    add_syn, c);
		if (e) {
			c->err = mrt_errf(c->msg, c->cap, e, "synonyms of %s", c->pool + c->woff[a]);
			return 0;
		}
		if (c->nsyn > start)
			qsort(c->syn + start, c->nsyn - start, sizeof *c->syn, u32_cmp);
		c->synoff[a] = (uint32_t)start;
		c->synn[a] = (uint32_t)(c->nsyn - start);
	}
	return c->synn[a] > 0 &&
	    bsearch(&b, c->syn + c->synoff[a], c->synn[a], sizeof b, u32_cmp) != NULL;
}

/* Stem ids of every word of the records (before any synonym is asked). */
static int
stems(mrt_tm_corpus *c)
{
	size_t nw = c->nword, cw = 0, co = 0;
	char *word = NULL, *out = NULL;
	int e = 0;
	free(c->stem);
	if ((c->stem = malloc((nw + 1) * sizeof *c->stem)) == NULL)
		return MRT_ENOMEM;
	for (size_t w = 0; w < nw && !e; w++) {
		size_t len, n = c->wlen[w];
		uint32_t s;
		if ((e = mrt_grow((void **)&word, &cw, n + 1, 1)) != 0 ||
		    (e = mrt_grow((void **)&out, &co, n + 1, 1)) != 0)
			break;
		/* the pool moves as stems are added: stem a copy */
		memcpy(word, c->pool + c->woff[w], n + 1);
		if ((e = c->lex->stem(c->lex->ctx, word, n, out, co, &len)) != 0) {
			e = mrt_errf(c->msg, c->cap, e, "stem of %s", word);
			break;
		}
		if ((s = word_id(c, out, len, 1, &e)) == UINT32_MAX)
			break;
		c->stem[w] = s;
	}
	free(word);
	free(out);
	return e;
}

int
mrt_tm_corpus_score(mrt_tm_corpus *c, const mrt_tm_lexicon *lex, char *msg,
    size_t cap)
{
	static const mrt_tm_lexicon none = { 0 };
	uint32_t *gs = NULL, *rs = NULL;
	size_t maxtok = 0;
	double all[MRT_TM_NMETRIC];
	int e = 0;

	if (c->n == 0)
		return mrt_errf(msg, cap, MRT_EINVAL, "no records");
	c->lex = lex ? lex : &none;
	c->msg = msg;
	c->cap = cap;
	c->err = 0;
	c->nrg = c->nrid = 0;
	for (size_t i = 0; i < c->n && !e; i++)
		e = record_grams(c, i);
	if (!e && c->lex->stem)
		e = stems(c);
	if (!e) {
		free(c->synoff);
		free(c->synn);
		c->nsyn = 0;
		c->synoff = malloc((c->nword + 1) * sizeof *c->synoff);
		c->synn = malloc((c->nword + 1) * sizeof *c->synn);
		if (!c->synoff || !c->synn)
			e = MRT_ENOMEM;
		else
			memset(c->synoff, 0xff, (c->nword + 1) * sizeof *c->synoff);
	}
	for (size_t i = 0; i < c->n; i++)
		for (int s = 0; s < 2; s++)
			if (c->rec[i].ntok[s] > maxtok)
				maxtok = c->rec[i].ntok[s];
	if (!e && c->lex->stem &&
	    ((gs = malloc((maxtok + 1) * sizeof *gs)) == NULL ||
	    (rs = malloc((maxtok + 1) * sizeof *rs)) == NULL))
		e = MRT_ENOMEM;
	for (size_t i = 0; i < c->n && !e; i++) {
		struct rec *r = &c->rec[i];
		const uint32_t *g = c->toks + r->tok[0], *rf = c->toks + r->tok[1];
		size_t ng = r->ntok[0], nr = r->ntok[1];
		int (*syn)(void *, uint32_t, uint32_t) = c->lex->synonyms ? is_syn : NULL;
		long lcs;
		if (gs) {
			for (size_t k = 0; k < ng; k++)
				gs[k] = c->stem[g[k]];
			for (size_t k = 0; k < nr; k++)
				rs[k] = c->stem[rf[k]];
		}
		if ((e = mrt_tm_meteor(g, gs, ng, rf, rs, nr, syn, c, 0.9, 3.0, 0.5,
		    &r->meteor)) != 0 ||
		    (e = mrt_tm_meteor(g, gs, ng, rf, rs, nr, syn, c, 0.85, 0.2, 0.6,
		    &r->meteor15)) != 0)
			break;
		if ((e = c->err) != 0)
			break;
		if ((lcs = mrt_tm_lcs(rf, nr, g, ng)) < 0) {
			e = (int)lcs;
			break;
		}
		r->rp = ng ? (double)lcs / (double)ng : 0;
		r->rr = nr ? (double)lcs / (double)nr : 0;
		r->rf = 0;
		if (r->rp != 0 && r->rr != 0) {
			double b2 = 1.2 * 1.2;
			r->rf = ((1 + b2) * r->rp * r->rr) / (r->rr + b2 * r->rp);
		}
	}
	free(gs);
	free(rs);
	if (!e) {
		c->scored = 1;
		e = mrt_tm_corpus_eval(c, NULL, all);   /* stores each record's CIDEr-D */
	}
	if (e == MRT_ENOMEM)
		mrt_errf(msg, cap, e, "out of memory");
	if (e)
		c->scored = 0;
	return e;
}

/* ---- corpus-level metrics ---------------------------------------------- */

/* Python's math.fsum: the correctly rounded sum of x[0..n), n <= 8. */
static double
fsum(const double *x, int n)
{
	double p[8], hi = 0, lo = 0;
	int np = 0;
	for (int k = 0; k < n; k++) {
		double v = x[k];
		int j = 0;
		for (int i = 0; i < np; i++) {
			double y = p[i], t;
			if (fabs(v) < fabs(y))
				t = v, v = y, y = t;
			hi = v + y;
			lo = y - (hi - v);
			if (lo != 0.0)
				p[j++] = lo;
			v = hi;
		}
		np = j;
		p[np++] = v;
	}
	hi = 0;
	if (np > 0) {
		hi = p[--np];
		while (np > 0) {
			double v = hi, y = p[--np], yr;
			hi = v + y;
			yr = hi - v;
			lo = y - yr;
			if (lo != 0.0)
				break;
		}
		/* round half-way cases as CPython does */
		if (np > 0 && ((lo < 0 && p[np - 1] < 0) || (lo > 0 && p[np - 1] > 0))) {
			double y = lo * 2, v = hi + y, yr = v - hi;
			if (y == yr)
				hi = v;
		}
	}
	return hi;
}

/* nltk's corpus_bleu from the summed counts, BLEU-1..4 into out. */
static void
bleu(const uint64_t num[4], const uint64_t den[4], uint64_t c, uint64_t r,
    double out[4])
{
	static const double w[4][4] = {
		{ 1, 0, 0, 0 }, { 0.5, 0.5, 0, 0 },
		{ 1.0 / 3, 1.0 / 3, 1.0 / 3, 0 }, { 0.25, 0.25, 0.25, 0.25 },
	};
	double bp, lp[4];
	if (num[0] == 0) {
		for (int k = 0; k < 4; k++)
			out[k] = 0;
		return;
	}
	bp = c > r ? 1 : c == 0 ? 0 : exp(1 - (double)r / (double)c);
	for (int o = 0; o < 4; o++)
		lp[o] = log(num[o] ? (double)num[o] / (double)den[o] : DBL_MIN);
	for (int k = 0; k < 4; k++) {
		double t[4];
		for (int o = 0; o < 4; o++)
			t[o] = w[k][o] * lp[o];
		out[k] = bp * exp(fsum(t, 4));
	}
}

/* CIDEr-D of record r with the idf of the n-grams in c->idf. */
static double
cider(const mrt_tm_corpus *c, const struct rec *r)
{
	double val[4], d, pen;
	const struct rgram *rg = c->rg + r->gram0;
	for (int o = 0; o < 4; o++) {
		double v = 0, nh = 0, nr = 0;
		for (uint32_t j = r->ord[o]; j < r->ord[o + 1]; j++) {
			double idf = c->idf[rg[j].id];
			double vh = rg[j].th * idf, vr = rg[j].tr * idf;
			nh += vh * vh;
			nr += vr * vr;
			v += (vh < vr ? vh : vr) * vr;   /* 0 when th or tr is 0 */
		}
		if (nh != 0 && nr != 0)
			v /= sqrt(nh) * sqrt(nr);
		val[o] = v;
	}
	d = (double)r->bigrams[0] - (double)r->bigrams[1];
	pen = exp(-(d * d) / (2 * 6.0 * 6.0));
	for (int o = 0; o < 4; o++)
		val[o] *= pen;
	return (val[0] + val[1] + val[2] + val[3]) / 4 * 10;
}

void
mrt_tm_corpus_record(const mrt_tm_corpus *c, size_t i,
    double out[MRT_TM_NMETRIC])
{
	const struct rec *r = &c->rec[i];
	bleu(r->num, r->den, r->ntok[0], r->ntok[1], out);
	out[MRT_TM_METEOR] = r->meteor;
	out[MRT_TM_METEOR15] = r->meteor15;
	out[MRT_TM_ROUGE_L] = r->rf;
	out[MRT_TM_ROUGE_P] = r->rp;
	out[MRT_TM_ROUGE_R] = r->rr;
	out[MRT_TM_CIDER_D] = r->cider;
}

int
mrt_tm_corpus_eval(mrt_tm_corpus *c, const uint32_t *w,
    double out[MRT_TM_NMETRIC])
{
	uint64_t num[4] = { 0 }, den[4] = { 0 }, hl = 0, rl = 0, N = 0;
	double sm = 0, sm15 = 0, sp = 0, sr = 0, sf = 0, sc = 0, reflen;

	if (!c->scored)
		return MRT_EINVAL;
	for (size_t i = 0; i < c->n; i++)
		N += w ? w[i] : 1;
	if (N == 0)
		return MRT_EINVAL;
	if (N + 1 > c->nlogk) {
		double *l = realloc(c->logk, (N + 1) * sizeof *l);
		if (l == NULL)
			return MRT_ENOMEM;
		c->logk = l;
		for (size_t k = c->nlogk; k <= N; k++)
			l[k] = k ? log((double)k) : 0;
		c->nlogk = N + 1;
	}
	if (N > UINT32_MAX)
		return MRT_ERANGE;
	if (c->cdf < c->ngram + 1) {
		free(c->df);
		free(c->idf);
		c->df = malloc((c->ngram + 1) * sizeof *c->df);
		c->idf = malloc((c->ngram + 1) * sizeof *c->idf);
		c->cdf = c->df && c->idf ? c->ngram + 1 : 0;
		if (c->cdf == 0)
			return MRT_ENOMEM;
	}
	/* document frequencies and idf = log N - log max(1, df) */
	memset(c->df, 0, c->ngram * sizeof *c->df);
	for (size_t i = 0; i < c->n; i++) {
		const struct rec *r = &c->rec[i];
		const uint32_t *id = c->rid + r->ref0;
		uint32_t k = w ? w[i] : 1;
		for (size_t j = 0; k && j < r->nref; j++)
			c->df[id[j]] += k;
	}
	reflen = log((double)N);
	for (size_t g = 0; g < c->ngram; g++)
		c->idf[g] = reflen - (c->df[g] > 1 ? c->logk[c->df[g]] : 0);
	for (size_t i = 0; i < c->n; i++) {
		struct rec *r = &c->rec[i];
		uint64_t k = w ? w[i] : 1;
		double ci;
		if (k == 0)
			continue;
		for (int o = 0; o < 4; o++) {
			num[o] += k * r->num[o];
			den[o] += k * r->den[o];
		}
		hl += k * r->ntok[0];
		rl += k * r->ntok[1];
		sm += (double)k * r->meteor;
		sm15 += (double)k * r->meteor15;
		sp += (double)k * r->rp;
		sr += (double)k * r->rr;
		sf += (double)k * r->rf;
		ci = cider(c, r);
		if (w == NULL)
			r->cider = ci;
		sc += (double)k * ci;
	}
	bleu(num, den, hl, rl, out);
	out[MRT_TM_METEOR] = sm / (double)N;
	out[MRT_TM_METEOR15] = sm15 / (double)N;
	out[MRT_TM_ROUGE_L] = sf / (double)N;
	out[MRT_TM_ROUGE_P] = sp / (double)N;
	out[MRT_TM_ROUGE_R] = sr / (double)N;
	out[MRT_TM_CIDER_D] = sc / (double)N;
	return 0;
}

/* ---- finding sets --------------------------------------------------------- */

void
mrt_tm_sets_counts(const uint32_t *truth, const uint32_t *pred,
    const uint32_t *w, size_t n, uint64_t tp[32], uint64_t fp[32],
    uint64_t fn[32])
{
	memset(tp, 0, 32 * sizeof *tp);
	memset(fp, 0, 32 * sizeof *fp);
	memset(fn, 0, 32 * sizeof *fn);
	for (size_t i = 0; i < n; i++) {
		uint64_t k = w ? w[i] : 1;
		uint32_t t = truth[i], p = pred[i];
		if (k == 0)
			continue;
		for (int b = 0; b < 32; b++) {
			uint32_t m = (uint32_t)1 << b;
			tp[b] += (t & p & m) ? k : 0;
			fp[b] += (~t & p & m) ? k : 0;
			fn[b] += (t & ~p & m) ? k : 0;
		}
	}
}

static double
ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0;
}

void
mrt_tm_sets_eval(const uint32_t *truth, const uint32_t *pred,
    const uint32_t *w, size_t n, uint32_t codes, mrt_tm_sets *out)
{
	uint64_t tp[32], fp[32], fn[32], TP = 0, FP = 0, FN = 0;
	double mp = 0, mr = 0, mf = 0;
	size_t nc = 0;
	mrt_tm_sets_counts(truth, pred, w, n, tp, fp, fn);
	for (int b = 0; b < 32; b++) {
		if (!(codes >> b & 1))
			continue;
		TP += tp[b];
		FP += fp[b];
		FN += fn[b];
		if (tp[b] + fn[b] == 0)
			continue;
		mp += ratio(tp[b], tp[b] + fp[b]);
		mr += ratio(tp[b], tp[b] + fn[b]);
		mf += ratio(2 * tp[b], 2 * tp[b] + fp[b] + fn[b]);
		nc++;
	}
	out->micro_p = ratio(TP, TP + FP);
	out->micro_r = ratio(TP, TP + FN);
	out->micro_f1 = ratio(2 * TP, 2 * TP + FP + FN);
	out->macro_p = nc ? mp / (double)nc : NAN;
	out->macro_r = nc ? mr / (double)nc : NAN;
	out->macro_f1 = nc ? mf / (double)nc : NAN;
	out->ncodes = nc;
}
