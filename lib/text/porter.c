/*
 * porter.c: nltk's Porter stemmer (see porter.h).
 *
 * The word is held as code points with a consonant flag per position.  A
 * letter's flag depends only on the letters before it, so the flags of a
 * prefix are the prefix of the flags, and every condition (measure, *v*,
 * *d, *o) is asked of a prefix of the current word: the flags are
 * recomputed only when the word changes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "text/porter.h"

#define RAW 0x110000u   /* code point RAW + b: an invalid UTF-8 byte b */

struct pw {
	uint32_t *c;
	uint8_t *cons;      /* [n] 1: consonant */
	size_t n;
};

static void
flags(struct pw *w)
{
	for (size_t i = 0; i < w->n; i++) {
		uint32_t ch = w->c[i];
		if (ch == 'a' || ch == 'e' || ch == 'i' || ch == 'o' || ch == 'u')
			w->cons[i] = 0;
		else if (ch == 'y')
			w->cons[i] = i == 0 ? 1 : !w->cons[i - 1];
		else
			w->cons[i] = 1;
	}
}

/* m of the first k letters: the number of vowel-consonant boundaries. */
static size_t
measure(const struct pw *w, size_t k)
{
	size_t m = 0;
	for (size_t i = 0; i + 1 < k; i++)
		m += !w->cons[i] && w->cons[i + 1];
	return m;
}

static int
has_vowel(const struct pw *w, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (!w->cons[i])
			return 1;
	return 0;
}

/* *d: the first k letters end in a double consonant. */
static int
ends_double(const struct pw *w, size_t k)
{
	return k >= 2 && w->c[k - 1] == w->c[k - 2] && w->cons[k - 1];
}

/* *o: cvc with the last c not w, x or y; or (nltk) a two-letter vc. */
static int
ends_cvc(const struct pw *w, size_t k)
{
	if (k >= 3 && w->cons[k - 3] && !w->cons[k - 2] && w->cons[k - 1]) {
		uint32_t l = w->c[k - 1];
		if (l != 'w' && l != 'x' && l != 'y')
			return 1;
	}
	return k == 2 && !w->cons[0] && w->cons[1];
}

static int
ends(const struct pw *w, const char *s)
{
	size_t m = strlen(s);
	if (m > w->n)
		return 0;
	for (size_t i = 0; i < m; i++)
		if (w->c[w->n - m + i] != (unsigned char)s[i])
			return 0;
	return 1;
}

/* Keep the first k letters, append rep (ASCII; never longer than what
 * was cut, or one letter onto a cut of two or more). */
static void
replace(struct pw *w, size_t k, const char *rep)
{
	w->n = k;
	for (; *rep; rep++)
		w->c[w->n++] = (unsigned char)*rep;
	flags(w);
}

enum { ALWAYS, M0, M1, ION, LOGI, LL, YI };

/* The condition on the stem (the first k letters). */
static int
cond(const struct pw *w, int c, size_t k)
{
	switch (c) {
	case M0: return measure(w, k) > 0;
	case M1: return measure(w, k) > 1;
	case ION: return measure(w, k) > 1 && (w->c[k - 1] == 's' || w->c[k - 1] == 't');
	case LOGI: return measure(w, k + 1) > 0;       /* the stem with its l */
	case LL: return measure(w, k + 1) > 1;         /* word[:-1] */
	case YI: return k > 1 && w->cons[k - 1];
	}
	return 1;
}

struct rule {
	const char *suf, *rep;
	int cond;
};

/* nltk's _apply_rule_list: the first rule whose suffix matches decides. */
static void
apply(struct pw *w, const struct rule *r, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (ends(w, r[i].suf)) {
			size_t k = w->n - strlen(r[i].suf);
			if (cond(w, r[i].cond, k))
				replace(w, k, r[i].rep);
			return;
		}
}

#define APPLY(w, r) apply(w, r, sizeof r / sizeof r[0])

static void
step1a(struct pw *w)
{
	static const struct rule r[] = {
		{ "sses", "ss", ALWAYS }, { "ies", "i", ALWAYS },
		{ "ss", "ss", ALWAYS }, { "s", "", ALWAYS },
	};
	if (w->n == 4 && ends(w, "ies")) {
		replace(w, 1, "ie");
		return;
	}
	APPLY(w, r);
}

static void
step1b(struct pw *w)
{
	static const struct rule r[] = {
		{ "at", "ate", ALWAYS }, { "bl", "ble", ALWAYS }, { "iz", "ize", ALWAYS },
	};
	size_t k;
	if (ends(w, "ied")) {
		replace(w, w->n - 3, w->n == 4 ? "ie" : "i");
		return;
	}
	if (ends(w, "eed")) {
		if (measure(w, w->n - 3) > 0)
			replace(w, w->n - 3, "ee");
		return;
	}
	if (ends(w, "ed") && has_vowel(w, w->n - 2))
		k = w->n - 2;
	else if (ends(w, "ing") && has_vowel(w, w->n - 3))
		k = w->n - 3;
	else
		return;
	replace(w, k, "");
	for (size_t i = 0; i < 3; i++)
		if (ends(w, r[i].suf)) {
			replace(w, w->n - 2, r[i].rep);
			return;
		}
	if (ends_double(w, w->n)) {
		uint32_t l = w->c[w->n - 1];
		if (l != 'l' && l != 's' && l != 'z')
			replace(w, w->n - 1, "");
		return;
	}
	/* nltk's "*d" rule is also a literal suffix "*d" (the stem then
	 * keeps its last letter, d, after the cut) */
	if (ends(w, "*d")) {
		replace(w, w->n - 2, "d");
		return;
	}
	if (measure(w, w->n) == 1 && ends_cvc(w, w->n))
		replace(w, w->n, "e");
}

static void
step1c(struct pw *w)
{
	static const struct rule r[] = { { "y", "i", YI } };
	APPLY(w, r);
}

static void
step2(struct pw *w)
{
	static const struct rule r[] = {
		{ "ational", "ate", M0 }, { "tional", "tion", M0 },
		{ "enci", "ence", M0 }, { "anci", "ance", M0 },
		{ "izer", "ize", M0 }, { "bli", "ble", M0 },
		{ "alli", "al", M0 }, { "entli", "ent", M0 },
		{ "eli", "e", M0 }, { "ousli", "ous", M0 },
		{ "ization", "ize", M0 }, { "ation", "ate", M0 },
		{ "ator", "ate", M0 }, { "alism", "al", M0 },
		{ "iveness", "ive", M0 }, { "fulness", "ful", M0 },
		{ "ousness", "ous", M0 }, { "aliti", "al", M0 },
		{ "iviti", "ive", M0 }, { "biliti", "ble", M0 },
		{ "fulli", "ful", M0 }, { "logi", "log", LOGI },
	};
	/* nltk: -alli -> -al first, then step 2 again */
	while (ends(w, "alli") && measure(w, w->n - 4) > 0)
		replace(w, w->n - 4, "al");
	APPLY(w, r);
}

static void
step3(struct pw *w)
{
	static const struct rule r[] = {
		{ "icate", "ic", M0 }, { "ative", "", M0 }, { "alize", "al", M0 },
		{ "iciti", "ic", M0 }, { "ical", "ic", M0 }, { "ful", "", M0 },
		{ "ness", "", M0 },
	};
	APPLY(w, r);
}

static void
step4(struct pw *w)
{
	static const struct rule r[] = {
		{ "al", "", M1 }, { "ance", "", M1 }, { "ence", "", M1 },
		{ "er", "", M1 }, { "ic", "", M1 }, { "able", "", M1 },
		{ "ible", "", M1 }, { "ant", "", M1 }, { "ement", "", M1 },
		{ "ment", "", M1 }, { "ent", "", M1 }, { "ion", "", ION },
		{ "ou", "", M1 }, { "ism", "", M1 }, { "ate", "", M1 },
		{ "iti", "", M1 }, { "ous", "", M1 }, { "ive", "", M1 },
		{ "ize", "", M1 },
	};
	APPLY(w, r);
}

static void
step5(struct pw *w)
{
	static const struct rule r[] = { { "ll", "l", LL } };
	if (ends(w, "e")) {
		size_t k = w->n - 1, m = measure(w, k);
		if (m > 1 || (m == 1 && !ends_cvc(w, k)))
			replace(w, k, "");
	}
	APPLY(w, r);
}

/* nltk's table of irregular forms: word, stem. */
static const char *const irregular[][2] = {
	{ "sky", "sky" }, { "skies", "sky" }, { "dying", "die" },
	{ "lying", "lie" }, { "tying", "tie" }, { "news", "news" },
	{ "innings", "inning" }, { "inning", "inning" },
	{ "outings", "outing" }, { "outing", "outing" },
	{ "cannings", "canning" }, { "canning", "canning" },
	{ "howe", "howe" }, { "proceed", "proceed" }, { "exceed", "exceed" },
	{ "succeed", "succeed" },
};

/* Decode UTF-8 (invalid bytes as RAW + byte); returns the count. */
static size_t
decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t k = 0;
	for (size_t i = 0; i < n; k++) {
		unsigned c = s[i];
		int len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
		    (c & 0xf8) == 0xf0 ? 4 : 0;
		uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) :
		    (c & 0x07);
		int ok = len > 0 && i + (size_t)len <= n;
		for (int j = 1; ok && j < len; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				ok = 0;
			v = v << 6 | (s[i + j] & 0x3f);
		}
		/* no overlong forms, surrogates or values past U+10FFFF */
		if (ok && ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) ||
		    (len == 4 && v < 0x10000) || (v >= 0xd800 && v < 0xe000) ||
		    v > 0x10ffff))
			ok = 0;
		if (ok) {
			cp[k] = v;
			i += (size_t)len;
		} else
			cp[k] = RAW + s[i++];
	}
	return k;
}

static size_t
encode(const uint32_t *cp, size_t n, unsigned char *d)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t v = cp[i];
		if (v >= RAW)
			d[o++] = (unsigned char)(v - RAW);
		else if (v < 0x80)
			d[o++] = (unsigned char)v;
		else if (v < 0x800) {
			d[o++] = (unsigned char)(0xc0 | v >> 6);
			d[o++] = (unsigned char)(0x80 | (v & 0x3f));
		} else if (v < 0x10000) {
			d[o++] = (unsigned char)(0xe0 | v >> 12);
			d[o++] = (unsigned char)(0x80 | (v >> 6 & 0x3f));
			d[o++] = (unsigned char)(0x80 | (v & 0x3f));
		} else {
			d[o++] = (unsigned char)(0xf0 | v >> 18);
			d[o++] = (unsigned char)(0x80 | (v >> 12 & 0x3f));
			d[o++] = (unsigned char)(0x80 | (v >> 6 & 0x3f));
			d[o++] = (unsigned char)(0x80 | (v & 0x3f));
		}
	}
	return o;
}

int
mrt_porter_stem(const char *word, size_t n, char *out, size_t cap,
    size_t *outn)
{
	uint32_t sc[64];
	uint8_t sf[64];
	struct pw w = { sc, sf, 0 };
	size_t len;

	for (size_t i = 0; i < sizeof irregular / sizeof irregular[0]; i++)
		if (strlen(irregular[i][0]) == n && memcmp(word, irregular[i][0], n) == 0) {
			len = strlen(irregular[i][1]);
			if (len + 1 > cap)
				return MRT_ERANGE;
			memcpy(out, irregular[i][1], len + 1);
			if (outn)
				*outn = len;
			return 0;
		}
	if (n > sizeof sc / sizeof sc[0]) {
		w.c = malloc(n * sizeof *w.c);
		w.cons = malloc(n);
		if (w.c == NULL || w.cons == NULL) {
			free(w.c);
			free(w.cons);
			return MRT_ENOMEM;
		}
	}
	w.n = decode((const unsigned char *)word, n, w.c);
	if (w.n > 2) {
		flags(&w);
		step1a(&w);
		step1b(&w);
		step1c(&w);
		step2(&w);
		step3(&w);
		step4(&w);
		step5(&w);
	}
	/* the stem is a prefix of the word plus ASCII no longer than the cut,
	 * so its encoding fits in n bytes */
	len = 0;
	if (n + 1 <= cap) {
		len = encode(w.c, w.n, (unsigned char *)out);
		out[len] = 0;
	} else {
		unsigned char *tmp = malloc(n + 1);
		if (tmp != NULL) {
			len = encode(w.c, w.n, tmp);
			if (len + 1 <= cap)
				memcpy(out, tmp, len), out[len] = 0;
			free(tmp);
		}
		if (tmp == NULL || len + 1 > cap) {
			if (w.c != sc) {
				free(w.c);
				free(w.cons);
			}
			return tmp == NULL ? MRT_ENOMEM : MRT_ERANGE;
		}
	}
	if (w.c != sc) {
		free(w.c);
		free(w.cons);
	}
	if (outn)
		*outn = len;
	return 0;
}
