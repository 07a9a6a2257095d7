/*
 * bpe.c: byte-level BPE: normalisation, pre-tokenisation, learning,
 * encoding with merge ranks and a heap, decoding, vocabulary files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "text/bpe.h"

static const char *const special_name[MRT_BPE_NSPECIAL] = {
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
};

struct mrt_bpe {
	int size, cap;
	uint32_t *off, *len;          /* bytes of each id in pool */
	int32_t *left, *right;        /* merges; -1 otherwise */
	unsigned char *pool;
	size_t pool_n, pool_cap;
	uint64_t *hkey;               /* merge (left, right) -> id */
	uint32_t *hval;
	size_t hcap;                  /* power of two, 0 = none */
};

/* ---- normalisation ---------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static int
utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned c = s[0];
	int k;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		k = 2, v = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3, v = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4, v = c & 0x07, min = 0x10000;
	else
		return 0;
	if ((size_t)k > n)
		return 0;
	for (int i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return k;
}

/* Lower case of a code point in the ranges bpe.h names. */
static uint32_t
lower(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'A' && c <= 'Z') ? c + 32 : c;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 32;
	if (c == 0x130)
		return 'i';
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return (c & 1) ? c : c + 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1) ? c + 1 : c;
	if (c == 0x178)
		return 0xff;
	if (c == 0x386)
		return 0x3ac;
	if (c >= 0x388 && c <= 0x38a)
		return c + 37;
	if (c == 0x38c)
		return 0x3cc;
	if (c == 0x38e || c == 0x38f)
		return c + 63;
	if (c >= 0x391 && c <= 0x3ab && c != 0x3a2)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	return c;
}

static int
is_space(unsigned c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

size_t
mrt_bpe_normalise(const char *src, size_t n, char *dst)
{
	const unsigned char *s = (const unsigned char *)src;
	unsigned char *d = (unsigned char *)dst;
	size_t i = 0, o = 0;
	int space = 0;
	while (i < n) {
		uint32_t cp;
		int k;
		if (is_space(s[i])) {
			space = 1;
			i++;
			continue;
		}
		if (space && o > 0)
			d[o++] = ' ';
		space = 0;
		if (s[i] < 0x80) {
			unsigned c = s[i++];
			d[o++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
			continue;
		}
		k = utf8_len(s + i, n - i, &cp);
		if (k == 2) {
			uint32_t l = lower(cp);
			if (l < 0x80) {
				d[o++] = l;
			} else {
				d[o++] = 0xc0 | l >> 6;
				d[o++] = 0x80 | (l & 0x3f);
			}
			i += 2;
		} else if (k == 0) {
			d[o++] = s[i++];
		} else {
			memmove(d + o, s + i, k);
			o += k;
			i += k;
		}
	}
	return o;
}

/* ---- pre-tokenisation ------------------------------------------------- */

static int
cls(unsigned c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80)
		return 1;
	if (c >= '0' && c <= '9')
		return 2;
	return 0;
}

/* End of the piece starting at i (i < n). */
static size_t
piece_end(const unsigned char *s, size_t n, size_t i)
{
	int k;
	if (s[i] == ' ' && i + 1 < n && s[i + 1] != ' ')
		i++;
	k = cls(s[i++]);
	if (k)
		while (i < n && cls(s[i]) == k)
			i++;
	return i;
}

/* ---- vocabulary storage ----------------------------------------------- */

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static uint64_t
pair_key(int a, int b)
{
	return ((uint64_t)(uint32_t)(a + 1) << 32) | (uint32_t)b;
}

/* Double an open-addressing table of keys (0 = empty) and values. */
static int
hgrow(uint64_t **key, uint32_t **val, size_t *cap)
{
	size_t nc = *cap ? *cap * 2 : 1024, h;
	uint64_t *nk = calloc(nc, sizeof *nk);
	uint32_t *nv = malloc(nc * sizeof *nv);
	if (!nk || !nv) {
		free(nk);
		free(nv);
		return MRT_ENOMEM;
	}
	for (size_t i = 0; i < *cap; i++)
		if ((*key)[i]) {
			for (h = mix((*key)[i]) & (nc - 1); nk[h];
			    h = (h + 1) & (nc - 1))
				;
			nk[h] = (*key)[i];
			nv[h] = (*val)[i];
		}
	free(*key);
	free(*val);
	*key = nk;
	*val = nv;
	*cap = nc;
	return 0;
}

static int
merge_find(const mrt_bpe *b, int l, int r)
{
	uint64_t k = pair_key(l, r);
	size_t m = b->hcap - 1, h;
	if (b->hcap == 0)
		return -1;
	for (h = mix(k) & m; b->hkey[h]; h = (h + 1) & m)
		if (b->hkey[h] == k)
			return (int)b->hval[h];
	return -1;
}

static int
merge_insert(mrt_bpe *b, int l, int r, int id)
{
	uint64_t k = pair_key(l, r);
	size_t m, h;
	if ((size_t)(b->size + 1) * 2 > b->hcap &&
	    hgrow(&b->hkey, &b->hval, &b->hcap))
		return MRT_ENOMEM;
	m = b->hcap - 1;
	for (h = mix(k) & m; b->hkey[h]; h = (h + 1) & m)
		if (b->hkey[h] == k)
			return MRT_EFORMAT;
	b->hkey[h] = k;
	b->hval[h] = id;
	return 0;
}

static int
pool_add(mrt_bpe *b, const unsigned char *p, size_t n)
{
	if (b->pool_n + n > b->pool_cap) {
		size_t nc = b->pool_cap ? b->pool_cap : 4096;
		unsigned char *np;
		while (nc < b->pool_n + n)
			nc *= 2;
		if ((np = realloc(b->pool, nc)) == NULL)
			return MRT_ENOMEM;
		b->pool = np;
		b->pool_cap = nc;
	}
	if (p)
		memcpy(b->pool + b->pool_n, p, n);
	b->pool_n += n;
	return 0;
}

/* A vocabulary of the specials and bytes, with room for cap entries. */
static mrt_bpe *
bpe_base(int cap)
{
	mrt_bpe *b = calloc(1, sizeof *b);
	if (b == NULL)
		return NULL;
	b->cap = cap;
	b->off = malloc(cap * sizeof *b->off);
	b->len = malloc(cap * sizeof *b->len);
	b->left = malloc(cap * sizeof *b->left);
	b->right = malloc(cap * sizeof *b->right);
	if (!b->off || !b->len || !b->left || !b->right) {
		mrt_bpe_free(b);
		return NULL;
	}
	for (int i = 0; i < MRT_BPE_NBASE; i++) {
		unsigned char c = (unsigned char)(i - MRT_BPE_BYTE0);
		b->off[i] = b->pool_n;
		b->len[i] = i >= MRT_BPE_BYTE0;
		b->left[i] = b->right[i] = -1;
		if (i >= MRT_BPE_BYTE0 && pool_add(b, &c, 1)) {
			mrt_bpe_free(b);
			return NULL;
		}
	}
	b->size = MRT_BPE_NBASE;
	return b;
}

/* Append merge (l, r) as the next id; MRT_EFORMAT if it is a duplicate. */
static int
bpe_add_merge(mrt_bpe *b, int l, int r)
{
	int id = b->size, e;
	size_t o = b->pool_n;
	if (id >= b->cap)
		return MRT_ERANGE;
	if ((e = merge_insert(b, l, r, id)) != 0)
		return e;
	/* grow first: the parts are copied from the pool itself */
	if ((e = pool_add(b, NULL, b->len[l] + b->len[r])) != 0)
		return e;
	b->pool_n = o;
	if ((e = pool_add(b, b->pool + b->off[l], b->len[l])) != 0 ||
	    (e = pool_add(b, b->pool + b->off[r], b->len[r])) != 0)
		return e;
	b->off[id] = o;
	b->len[id] = b->len[l] + b->len[r];
	b->left[id] = l;
	b->right[id] = r;
	b->size++;
	return 0;
}

void
mrt_bpe_free(mrt_bpe *b)
{
	if (b == NULL)
		return;
	free(b->off);
	free(b->len);
	free(b->left);
	free(b->right);
	free(b->pool);
	free(b->hkey);
	free(b->hval);
	free(b);
}

int
mrt_bpe_size(const mrt_bpe *b)
{
	return b->size;
}

const unsigned char *
mrt_bpe_bytes(const mrt_bpe *b, int id, size_t *len)
{
	if (id < MRT_BPE_BYTE0 || id >= b->size) {
		*len = 0;
		return NULL;
	}
	*len = b->len[id];
	return b->pool + b->off[id];
}

int
mrt_bpe_merge(const mrt_bpe *b, int id, int *left, int *right)
{
	if (id < MRT_BPE_NBASE || id >= b->size)
		return MRT_ERANGE;
	*left = b->left[id];
	*right = b->right[id];
	return 0;
}

/* ---- encoding and decoding ------------------------------------------- */

/* Scratch for one encode call: n symbols, 3n heap entries. */
struct scratch {
	int32_t *sym, *next, *prev;
	uint64_t *heap;
	size_t nheap;
};

static void
heap_push(struct scratch *s, uint64_t v)
{
	size_t i = s->nheap++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (s->heap[p] <= v)
			break;
		s->heap[i] = s->heap[p];
		i = p;
	}
	s->heap[i] = v;
}

static uint64_t
heap_pop(struct scratch *s)
{
	uint64_t top = s->heap[0], v = s->heap[--s->nheap];
	size_t i = 0, n = s->nheap;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && s->heap[c + 1] < s->heap[c])
			c++;
		if (v <= s->heap[c])
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	s->heap[i] = v;
	return top;
}

/* Queue the merge of the symbols at i and next[i], if there is one. */
static void
push_pair(const mrt_bpe *b, struct scratch *s, int i)
{
	int j = s->next[i], id;
	if (i < 0 || j < 0)
		return;
	id = merge_find(b, s->sym[i], s->sym[j]);
	if (id >= 0)
		heap_push(s, (uint64_t)(id - MRT_BPE_NBASE) << 32 | (uint32_t)i);
}

/*
 * Encode one piece p[0..n) with the merge ranks: the lowest rank first,
 * the leftmost among equals.  Writes the ids to out; returns their count.
 */
static int
encode_piece(const mrt_bpe *b, const unsigned char *p, int n,
    struct scratch *s, int32_t *out)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		s->sym[i] = MRT_BPE_BYTE0 + p[i];
		s->next[i] = i + 1 < n ? i + 1 : -1;
		s->prev[i] = i - 1;
	}
	s->nheap = 0;
	for (int i = 0; i + 1 < n; i++)
		push_pair(b, s, i);
	while (s->nheap) {
		uint64_t v = heap_pop(s);
		int i = (int)(uint32_t)v, rank = (int)(v >> 32), j, id;
		if (s->sym[i] < 0 || (j = s->next[i]) < 0)
			continue;
		id = merge_find(b, s->sym[i], s->sym[j]);
		if (id != rank + MRT_BPE_NBASE)
			continue;   /* stale: a neighbour changed */
		s->sym[i] = id;
		s->sym[j] = -1;
		s->next[i] = s->next[j];
		if (s->next[j] >= 0)
			s->prev[s->next[j]] = i;
		push_pair(b, s, s->prev[i]);
		push_pair(b, s, i);
	}
	for (int i = 0; i >= 0; i = s->next[i])
		out[k++] = s->sym[i];
	return k;
}

int
mrt_bpe_encode(const mrt_bpe *b, const char *text, size_t n,
    int32_t *ids, int max_len)
{
	void *mem;
	char *t;
	struct scratch s;
	int32_t *tok;
	size_t m, i, cap;
	long total = 0;
	int room, k = 1;
	if (max_len < 2)
		return MRT_EINVAL;
	if (n > (size_t)1 << 28)
		return MRT_ENOMEM;
	/* text, sym, next, prev, tok: n each; heap: 3n */
	cap = n + 1;
	mem = malloc(cap * (1 + 4 * sizeof(int32_t) + 3 * sizeof(uint64_t)) +
	    16);
	if (mem == NULL)
		return MRT_ENOMEM;
	s.heap = mem;
	s.sym = (int32_t *)(s.heap + 3 * cap);
	s.next = s.sym + cap;
	s.prev = s.next + cap;
	tok = s.prev + cap;
	t = (char *)(tok + cap);
	m = mrt_bpe_normalise(text, n, t);
	room = max_len - 2;
	ids[0] = MRT_BPE_CLS;
	for (i = 0; i < m; ) {
		size_t e = piece_end((unsigned char *)t, m, i);
		int c = encode_piece(b, (unsigned char *)t + i, (int)(e - i),
		    &s, tok);
		for (int j = 0; j < c; j++)
			if (k - 1 < room)
				ids[k++] = tok[j];
		total += c;
		i = e;
	}
	free(mem);
	ids[k++] = MRT_BPE_SEP;
	while (k < max_len)
		ids[k++] = MRT_BPE_PAD;
	return total + 2 > 0x7fffffff ? 0x7fffffff : (int)(total + 2);
}

long
mrt_bpe_decode(const mrt_bpe *b, const int32_t *ids, size_t n,
    char *dst, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int id = ids[i];
		size_t l;
		if (id < 0 || id >= b->size)
			return MRT_ERANGE;
		if (id < MRT_BPE_BYTE0)
			continue;
		l = b->len[id];
		if (o < cap)
			memcpy(dst + o, b->pool + b->off[id],
			    o + l <= cap ? l : cap - o);
		o += l;
	}
	return (long)o;
}

/* ---- learning --------------------------------------------------------- */

struct mrt_bpe_learner {
	/* distinct words: bytes in wpool, counts */
	unsigned char *wpool;
	size_t wpool_n, wpool_cap;
	uint32_t *woff, *wlen;
	int64_t *wcount;
	size_t nword, wcap;
	uint32_t *wtab;      /* hash: word index + 1, 0 empty */
	size_t wtab_cap;
	char *norm;
	size_t norm_cap;
};

int
mrt_bpe_learner_new(mrt_bpe_learner **l)
{
	*l = calloc(1, sizeof **l);
	return *l ? 0 : MRT_ENOMEM;
}

void
mrt_bpe_learner_free(mrt_bpe_learner *l)
{
	if (l == NULL)
		return;
	free(l->wpool);
	free(l->woff);
	free(l->wlen);
	free(l->wcount);
	free(l->wtab);
	free(l->norm);
	free(l);
}

static uint64_t
hash_bytes(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return mix(h);
}

static int
word_tab_grow(mrt_bpe_learner *l)
{
	size_t nc = l->wtab_cap ? l->wtab_cap * 2 : 4096;
	uint32_t *nt = calloc(nc, sizeof *nt);
	if (nt == NULL)
		return MRT_ENOMEM;
	for (size_t w = 0; w < l->nword; w++) {
		size_t h = hash_bytes(l->wpool + l->woff[w], l->wlen[w]) &
		    (nc - 1);
		while (nt[h])
			h = (h + 1) & (nc - 1);
		nt[h] = w + 1;
	}
	free(l->wtab);
	l->wtab = nt;
	l->wtab_cap = nc;
	return 0;
}

static int
word_add(mrt_bpe_learner *l, const unsigned char *p, size_t n)
{
	size_t h, m;
	if ((l->nword + 1) * 2 > l->wtab_cap && word_tab_grow(l))
		return MRT_ENOMEM;
	m = l->wtab_cap - 1;
	for (h = hash_bytes(p, n) & m; l->wtab[h]; h = (h + 1) & m) {
		size_t w = l->wtab[h] - 1;
		if (l->wlen[w] == n && memcmp(l->wpool + l->woff[w], p, n) == 0) {
			l->wcount[w]++;
			return 0;
		}
	}
	if (l->nword == l->wcap) {
		size_t nc = l->wcap ? l->wcap * 2 : 1024;
		uint32_t *no = realloc(l->woff, nc * sizeof *no);
		uint32_t *nl = no ? realloc(l->wlen, nc * sizeof *nl) : NULL;
		int64_t *nn = nl ? realloc(l->wcount, nc * sizeof *nn) : NULL;
		if (no)
			l->woff = no;
		if (nl)
			l->wlen = nl;
		if (nn == NULL)
			return MRT_ENOMEM;
		l->wcount = nn;
		l->wcap = nc;
	}
	if (l->wpool_n + n > l->wpool_cap) {
		size_t nc = l->wpool_cap ? l->wpool_cap : 65536;
		unsigned char *np;
		while (nc < l->wpool_n + n)
			nc *= 2;
		if (nc > UINT32_MAX || (np = realloc(l->wpool, nc)) == NULL)
			return MRT_ENOMEM;
		l->wpool = np;
		l->wpool_cap = nc;
	}
	memcpy(l->wpool + l->wpool_n, p, n);
	l->woff[l->nword] = l->wpool_n;
	l->wlen[l->nword] = n;
	l->wcount[l->nword] = 1;
	l->wpool_n += n;
	l->wtab[h] = ++l->nword;
	return 0;
}

int
mrt_bpe_learner_add(mrt_bpe_learner *l, const char *text, size_t n)
{
	size_t m, i;
	if (n + 1 > l->norm_cap) {
		char *p = realloc(l->norm, n + 1);
		if (p == NULL)
			return MRT_ENOMEM;
		l->norm = p;
		l->norm_cap = n + 1;
	}
	m = mrt_bpe_normalise(text, n, l->norm);
	for (i = 0; i < m; ) {
		size_t e = piece_end((unsigned char *)l->norm, m, i);
		int err = word_add(l, (unsigned char *)l->norm + i, e - i);
		if (err)
			return err;
		i = e;
	}
	return 0;
}

/* Pair counts during learning: dense arrays and a hash on (a, b). */
struct pairs {
	int32_t *a, *b;
	int64_t *count;
	size_t n, cap;
	uint64_t *hkey;
	uint32_t *hidx;
	size_t hcap;
};

static void
pairs_free(struct pairs *p)
{
	free(p->a);
	free(p->b);
	free(p->count);
	free(p->hkey);
	free(p->hidx);
}

/* Add d to the count of pair (a, b), creating it. */
static int
pairs_add(struct pairs *p, int a, int b, int64_t d)
{
	uint64_t k = pair_key(a, b);
	size_t h, m;
	if ((p->n + 1) * 2 > p->hcap && hgrow(&p->hkey, &p->hidx, &p->hcap))
		return MRT_ENOMEM;
	m = p->hcap - 1;
	for (h = mix(k) & m; p->hkey[h]; h = (h + 1) & m)
		if (p->hkey[h] == k) {
			p->count[p->hidx[h]] += d;
			return 0;
		}
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 65536;
		int32_t *na = realloc(p->a, nc * sizeof *na);
		int32_t *nb = na ? realloc(p->b, nc * sizeof *nb) : NULL;
		int64_t *ncnt = nb ? realloc(p->count, nc * sizeof *ncnt) : NULL;
		if (na)
			p->a = na;
		if (nb)
			p->b = nb;
		if (ncnt == NULL)
			return MRT_ENOMEM;
		p->count = ncnt;
		p->cap = nc;
	}
	p->a[p->n] = a;
	p->b[p->n] = b;
	p->count[p->n] = d;
	p->hkey[h] = k;
	p->hidx[h] = p->n++;
	return 0;
}

int
mrt_bpe_learner_finish(mrt_bpe_learner *l, int size, mrt_bpe **out)
{
	struct pairs P = {0};
	int32_t *sym = NULL;
	uint32_t *slen = NULL;
	mrt_bpe *b = NULL;
	int e = 0;
	*out = NULL;
	if (size < MRT_BPE_NBASE || size > MRT_BPE_MAX_SIZE)
		return MRT_ERANGE;
	if ((b = bpe_base(size)) == NULL)
		return MRT_ENOMEM;
	sym = malloc((l->wpool_n + 1) * sizeof *sym);
	slen = malloc((l->nword + 1) * sizeof *slen);
	if (!sym || !slen) {
		e = MRT_ENOMEM;
		goto done;
	}
	for (size_t w = 0; w < l->nword; w++) {
		int32_t *s = sym + l->woff[w];
		slen[w] = l->wlen[w];
		for (size_t i = 0; i < l->wlen[w]; i++) {
			s[i] = MRT_BPE_BYTE0 + l->wpool[l->woff[w] + i];
			if (i > 0 && (e = pairs_add(&P, s[i - 1], s[i],
			    l->wcount[w])))
				goto done;
		}
	}
	while (b->size < size) {
		int64_t best = 0;
		long bi = -1;
		int x, y, id;
		for (size_t i = 0; i < P.n; i++) {
			int64_t c = P.count[i];
			if (c > best || (c == best && bi >= 0 &&
			    (P.a[i] < P.a[bi] ||
			    (P.a[i] == P.a[bi] && P.b[i] < P.b[bi])))) {
				best = c;
				bi = i;
			}
		}
		if (bi < 0)
			break;
		x = P.a[bi];
		y = P.b[bi];
		id = b->size;
		if ((e = bpe_add_merge(b, x, y)) != 0)
			goto done;
		for (size_t w = 0; w < l->nword; w++) {
			int32_t *s = sym + l->woff[w];
			uint32_t n = slen[w], o = 0;
			int64_t c = l->wcount[w];
			for (uint32_t i = 0; i < n; ) {
				if (i + 1 < n && s[i] == x && s[i + 1] == y) {
					if (o > 0 && ((e = pairs_add(&P, s[o - 1],
					    x, -c)) || (e = pairs_add(&P,
					    s[o - 1], id, c))))
						goto done;
					if (i + 2 < n && ((e = pairs_add(&P, y,
					    s[i + 2], -c)) || (e = pairs_add(&P,
					    id, s[i + 2], c))))
						goto done;
					if ((e = pairs_add(&P, x, y, -c)))
						goto done;
					s[o++] = id;
					i += 2;
				} else {
					s[o++] = s[i++];
				}
			}
			slen[w] = o;
		}
	}
done:
	free(sym);
	free(slen);
	pairs_free(&P);
	if (e) {
		mrt_bpe_free(b);
		return e;
	}
	*out = b;
	return 0;
}

/* ---- vocabulary files ------------------------------------------------- */

/* Write bytes escaped: see merit-vocab(5). */
static void
put_escaped(FILE *f, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; ) {
		uint32_t cp;
		int k = p[i] >= 0x80 ? utf8_len(p + i, n - i, &cp) : 0;
		if (k > 1) {
			fwrite(p + i, 1, k, f);
			i += k;
		} else if (p[i] == '\\') {
			fputs("\\\\", f);
			i++;
		} else if (p[i] > 0x20 && p[i] < 0x7f) {
			fputc(p[i++], f);
		} else {
			fprintf(f, "\\x%02x", p[i++]);
		}
	}
}

int
mrt_bpe_save(const mrt_bpe *b, const char *path)
{
	static atomic_uint seq;
	char tmp[4096];
	FILE *f;
	int fd = -1, e;
	/* open(2) with 0666, not mkstemp (0600): the file gets the mode of
	 * every other output, 0666 less the umask */
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(),
		    atomic_fetch_add(&seq, 1)) >= (int)sizeof tmp)
			return MRT_EINVAL;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return MRT_EIO;
	if ((f = fdopen(fd, "w")) == NULL) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return MRT_EIO;
	}
	fprintf(f, "merit-vocab 1 %d\n", b->size);
	for (int id = 0; id < b->size; id++) {
		if (id < MRT_BPE_BYTE0) {
			fprintf(f, "%d\tspecial\t%s\n", id, special_name[id]);
			continue;
		}
		if (id < MRT_BPE_NBASE)
			fprintf(f, "%d\tbyte\t", id);
		else
			fprintf(f, "%d\tmerge\t%d\t%d\t", id, b->left[id],
			    b->right[id]);
		put_escaped(f, b->pool + b->off[id], b->len[id]);
		fputc('\n', f);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
		e = errno;
		fclose(f);
		unlink(tmp);
		errno = e;
		return MRT_EIO;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		return MRT_EIO;
	}
	return 0;
}

static int
fail(char *err, size_t cap, int code, long line, const char *fmt, ...)
{
	va_list ap;
	int k;
	if (err == NULL || cap == 0)
		return code;
	k = snprintf(err, cap, "line %ld: ", line);
	if (k >= 0 && (size_t)k < cap) {
		va_start(ap, fmt);
		mrt_verrf(err + k, cap - k, code, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Parse a decimal in [0, 2^31) from p[0..n); -1 if not one. */
static long
dec(const char *p, size_t n)
{
	long v = 0;
	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescape p[0..n) into out (n bytes room); length or -1. */
static long
unescape(const char *p, size_t n, unsigned char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (c == '\\') {
			if (i + 1 < n && p[i + 1] == '\\') {
				out[o++] = '\\';
				i++;
			} else if (i + 3 < n && p[i + 1] == 'x' &&
			    hexval(p[i + 2]) >= 0 && hexval(p[i + 3]) >= 0) {
				out[o++] = hexval(p[i + 2]) * 16 +
				    hexval(p[i + 3]);
				i += 3;
			} else {
				return -1;
			}
		} else if (c <= 0x20 || c == 0x7f) {
			return -1;
		} else {
			out[o++] = c;
		}
	}
	return (long)o;
}

int
mrt_bpe_parse(mrt_bpe **out, const char *buf, size_t n, char *err,
    size_t errcap)
{
	mrt_bpe *b = NULL;
	unsigned char *tmp = NULL;
	const char *p = buf, *end = buf + n;
	long line = 0, size = 0, id, lines;
	int e;
	*out = NULL;
	if (err && errcap)
		err[0] = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *f[6];
		size_t fl[6];
		int nf = 0;
		line++;
		if (nl == NULL) {
			e = fail(err, errcap, MRT_ETRUNC, line,
			    "truncated: no newline at the end of the line");
			goto bad;
		}
		for (const char *q = p; nf < 6; ) {
			const char *t = memchr(q, '\t', nl - q);
			f[nf] = q;
			fl[nf++] = (t ? t : nl) - q;
			if (t == NULL)
				break;
			q = t + 1;
		}
		if (line == 1) {
			if (nl - p < 14 || memcmp(p, "merit-vocab ", 12) != 0) {
				e = fail(err, errcap, MRT_EFORMAT, line,
				    "not a merit-vocab file");
				goto bad;
			}
			if (p[12] != '1' || p[13] != ' ') {
				e = fail(err, errcap, MRT_EVERSION, line,
				    "unsupported version (this reads 1)");
				goto bad;
			}
			size = dec(p + 14, nl - p - 14);
			if (size < MRT_BPE_NBASE || size > MRT_BPE_MAX_SIZE) {
				e = fail(err, errcap, MRT_ERANGE, line,
				    "size not in [%d, %d]", MRT_BPE_NBASE,
				    MRT_BPE_MAX_SIZE);
				goto bad;
			}
			/* room for the entries the file can hold: a header
			 * that claims 2^20 entries in 22 bytes takes no more */
			lines = 1;
			for (const char *q = nl + 1; q < end &&
			    (q = memchr(q, '\n', end - q)) != NULL && lines < size; q++)
				lines++;
			if ((b = bpe_base(lines > MRT_BPE_NBASE ? lines :
			    MRT_BPE_NBASE)) == NULL ||
			    (tmp = malloc(n + 1)) == NULL) {
				e = MRT_ENOMEM;
				goto bad;
			}
			p = nl + 1;
			continue;
		}
		id = dec(f[0], fl[0]);
		if (id < 0) {
			e = fail(err, errcap, MRT_EFORMAT, line,
			    "bad id '%.*s'", (int)(fl[0] > 20 ? 20 : fl[0]),
			    f[0]);
			goto bad;
		}
		if (id >= size) {
			e = fail(err, errcap, MRT_ERANGE, line,
			    "id %ld out of range [0, %ld)", id, size);
			goto bad;
		}
		if (line - 2 >= size) {
			e = fail(err, errcap, MRT_EFORMAT, line,
			    "more entries than the %ld in the header", size);
			goto bad;
		}
		if (id < line - 2) {
			e = fail(err, errcap, MRT_EFORMAT, line,
			    "duplicate entry %ld", id);
			goto bad;
		}
		if (id > line - 2) {
			e = fail(err, errcap, MRT_EFORMAT, line,
			    "entry %ld where %ld was expected", id, line - 2);
			goto bad;
		}
		if (id < MRT_BPE_BYTE0) {
			if (nf != 3 || fl[1] != 7 || memcmp(f[1], "special", 7) ||
			    fl[2] != strlen(special_name[id]) ||
			    memcmp(f[2], special_name[id], fl[2])) {
				e = fail(err, errcap, MRT_EFORMAT, line,
				    "entry %ld must be 'special\t%s'", id,
				    special_name[id]);
				goto bad;
			}
		} else if (id < MRT_BPE_NBASE) {
			long k;
			if (nf != 3 || fl[1] != 4 || memcmp(f[1], "byte", 4) ||
			    (k = unescape(f[2], fl[2], tmp)) != 1 ||
			    tmp[0] != id - MRT_BPE_BYTE0) {
				e = fail(err, errcap, MRT_EFORMAT, line,
				    "entry %ld must be 'byte' and byte 0x%02lx",
				    id, id - MRT_BPE_BYTE0);
				goto bad;
			}
		} else {
			long l, r, k;
			if (nf != 5 || fl[1] != 5 || memcmp(f[1], "merge", 5)) {
				e = fail(err, errcap, MRT_EFORMAT, line,
				    "entry %ld must be 'merge', left, right, "
				    "bytes", id);
				goto bad;
			}
			l = dec(f[2], fl[2]);
			r = dec(f[3], fl[3]);
			if (l < MRT_BPE_BYTE0 || l >= id || r < MRT_BPE_BYTE0 ||
			    r >= id) {
				e = fail(err, errcap, MRT_ERANGE, line,
				    "merge %ld: parts '%.*s' '%.*s' not ids in "
				    "[%d, %ld)", id, (int)(fl[2] > 20 ? 20 :
				    fl[2]), f[2], (int)(fl[3] > 20 ? 20 : fl[3]),
				    f[3], MRT_BPE_BYTE0, id);
				goto bad;
			}
			if (merge_find(b, l, r) >= 0) {
				e = fail(err, errcap, MRT_EFORMAT, line,
				    "duplicate merge %ld %ld (also entry %d)",
				    l, r, merge_find(b, l, r));
				goto bad;
			}
			k = unescape(f[4], fl[4], tmp);
			if (k != (long)(b->len[l] + b->len[r]) ||
			    memcmp(tmp, b->pool + b->off[l], b->len[l]) ||
			    memcmp(tmp + b->len[l], b->pool + b->off[r],
			    b->len[r])) {
				e = fail(err, errcap, MRT_EFORMAT, line,
				    "merge %ld: bytes do not match its parts",
				    id);
				goto bad;
			}
			if ((e = bpe_add_merge(b, l, r)) != 0)
				goto bad;
		}
		p = nl + 1;
	}
	if (line == 0) {
		e = fail(err, errcap, MRT_ETRUNC, 1, "empty file");
		goto bad;
	}
	if (line - 1 < size) {
		e = fail(err, errcap, MRT_ETRUNC, line + 1,
		    "truncated: %ld entries expected, %ld found", size,
		    line - 1);
		goto bad;
	}
	free(tmp);
	*out = b;
	return 0;
bad:
	free(tmp);
	mrt_bpe_free(b);
	return e;
}

int
mrt_bpe_load(mrt_bpe **b, const char *path, char *err, size_t errcap)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, k;
	int e;
	*b = NULL;
	if (f == NULL) {
		if (err && errcap)
			snprintf(err, errcap, "%s", strerror(errno));
		return MRT_EIO;
	}
	do {
		if (n == cap) {
			char *nb;
			cap = cap ? cap * 2 : 65536;
			if (cap > ((size_t)1 << 30) ||
			    (nb = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				return MRT_ENOMEM;
			}
			buf = nb;
		}
		k = fread(buf + n, 1, cap - n, f);
		n += k;
	} while (k > 0);
	if (ferror(f)) {
		if (err && errcap)
			snprintf(err, errcap, "%s", strerror(errno));
		free(buf);
		fclose(f);
		return MRT_EIO;
	}
	fclose(f);
	e = mrt_bpe_parse(b, buf, n, err, errcap);
	free(buf);
	return e;
}
