/*
 * test_textmetrics: tokens, METEOR's alignment, LCS, BLEU, CIDEr-D and the
 * finding sets on hand-computed cases; a multiset evaluation equals the
 * corpus with the records repeated; the Porter stemmer and WordNet on
 * values nltk 3.8 gives (tests/generate.bats compares both with nltk on
 * every WordNet lemma).
 *
 * With an argument it is a driver for tests/generate.bats, one word a line
 * on stdin:  stem      the Porter stem of each word
 *            lemmas DIR  each word and its lemma names (names without '_')
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/err.h"
#include "eval/textmetrics.h"
#include "text/bpe.h"
#include "text/porter.h"
#include "text/wordnet.h"

#define NEAR(a, b) (fabs((double)(a) - (b)) <= 1e-12 * (1 + fabs((double)(b))))

/* ---- tokens ---- */

struct toks { char buf[512]; size_t len; };

static int
join(void *arg, const char *t, size_t n)
{
	struct toks *k = arg;
	k->len += (size_t)snprintf(k->buf + k->len, sizeof k->buf - k->len, "%s%.*s",
	    k->len ? "|" : "", (int)n, t);
	return 0;
}

static void
tok_case(const char *in, const char *want)
{
	char norm[512];
	struct toks k = { "", 0 };
	size_t n = mrt_bpe_normalise(in, strlen(in), norm);
	mrt_tm_tokens(norm, n, join, &k);
	CHECK(strcmp(k.buf, want) == 0, "%s: got %s, want %s", in, k.buf, want);
}

static void
test_tokens(void)
{
	tok_case("Sinus rhythm. Normal ECG.", "sinus|rhythm|normal|ecg");
	tok_case("qrs(t) abnorm", "qrs|t|abnorm");
	tok_case("T waves inverted in I, aVL, V2-6; 4.46", "t|waves|inverted|in|i|avl|v2-6|4.46");
	tok_case("AFL, 4:1 block", "afl|4:1|block");
	tok_case("st & t abnorm, unbestÄtigter bericht", "st|&|t|abnorm|unbestätigter|bericht");
	tok_case("\"quoted\" `x' -5 a -- b ... c!?", "quoted|x|5|a|b|c");
	tok_case("e.g. patient's infarct/old", "e.g|patient's|infarct/old");
	tok_case("left- right -", "left|right");
	tok_case("   ", "");
}

/* ---- METEOR, LCS ---- */

static int
syn_table(void *ctx, uint32_t a, uint32_t b)
{
	(void)ctx;
	return (a == 7 && b == 8) || (a == 8 && b == 7);   /* stems 7 and 8 */
}

static void
test_meteor(void)
{
	/* a b c d against a b x c d: 4 matches in 2 chunks */
	uint32_t g1[] = { 1, 2, 3, 4 }, r1[] = { 1, 2, 5, 3, 4 };
	/* a b a against a b: the last a takes the a; (1,1), (2,0): 2 chunks */
	uint32_t g2[] = { 1, 2, 1 }, r2[] = { 1, 2 };
	/* words 10 11 with stems 7 7 against words 12 13 with stems 7 8:
	 * no exact match; stems: 11 -> 12 (the last generated first, the last
	 * equal reference), then 10's stem 7 has synonym 8 -> 13 */
	uint32_t g3[] = { 10, 11 }, g3s[] = { 7, 7 }, r3[] = { 12, 13 }, r3s[] = { 7, 8 };
	double s, p, r, f;
	CHECK(mrt_tm_meteor(g1, NULL, 4, r1, NULL, 5, NULL, NULL, 0.9, 3, 0.5, &s) == 0);
	p = 1, r = 0.8, f = p * r / (0.9 * p + 0.1 * r);
	CHECK(NEAR(s, (1 - 0.5 * pow(2.0 / 4, 3)) * f), "%.17g", s);
	CHECK(mrt_tm_meteor(g2, NULL, 3, r2, NULL, 2, NULL, NULL, 0.9, 3, 0.5, &s) == 0);
	p = 2.0 / 3, r = 1, f = p * r / (0.9 * p + 0.1 * r);
	CHECK(NEAR(s, (1 - 0.5 * pow(2.0 / 2, 3)) * f), "%.17g", s);
	/* exact only: nothing; with stems: 1 match; with synonyms: 2 in order,
	 * (0,1) and (1,0): 2 chunks */
	CHECK(mrt_tm_meteor(g3, NULL, 2, r3, NULL, 2, NULL, NULL, 0.9, 3, 0.5, &s) == 0 && s == 0);
	CHECK(mrt_tm_meteor(g3, g3s, 2, r3, r3s, 2, NULL, NULL, 0.9, 3, 0.5, &s) == 0);
	p = r = 0.5, f = p * r / (0.9 * p + 0.1 * r);
	CHECK(NEAR(s, (1 - 0.5) * f), "%.17g", s);
	CHECK(mrt_tm_meteor(g3, g3s, 2, r3, r3s, 2, syn_table, NULL, 0.9, 3, 0.5, &s) == 0);
	CHECK(NEAR(s, 1 - 0.5), "%.17g", s);
	CHECK(mrt_tm_meteor(g1, NULL, 0, r1, NULL, 5, NULL, NULL, 0.9, 3, 0.5, &s) == 0 && s == 0);
	/* LCS by hand */
	{
		uint32_t a[] = { 1, 2, 3, 4, 5 }, b[] = { 1, 3, 5, 6 }, c[] = { 6, 5, 4, 3 };
		CHECK(mrt_tm_lcs(a, 5, b, 4) == 3);
		CHECK(mrt_tm_lcs(a, 5, c, 4) == 1);
		CHECK(mrt_tm_lcs(a, 0, c, 4) == 0);
	}
}

/* ---- corpora ---- */

static mrt_tm_corpus *
corpus(const char *const pairs[][2], size_t n)
{
	mrt_tm_corpus *c;
	char msg[256];
	CHECK(mrt_tm_corpus_new(&c) == 0);
	for (size_t i = 0; i < n; i++)
		CHECK(mrt_tm_corpus_add(c, pairs[i][0], strlen(pairs[i][0]), pairs[i][1],
		    strlen(pairs[i][1])) == 0);
	CHECK(mrt_tm_corpus_score(c, NULL, msg, sizeof msg) == 0, "%s", msg);
	return c;
}

static void
test_bleu(void)
{
	/* a b c d / a b c e: p1 3/4, p2 2/3, p3 1/2, p4 0/1; no brevity penalty */
	static const char *const p1[][2] = { { "a b c d", "a b c e" } };
	/* a b / a b c d: p1 = p2 = 1, p3 = p4 = 0/1 (nltk's max(1, .)), BP e^-1 */
	static const char *const p2[][2] = { { "a b", "a b c d" } };
	/* two records: counts add up: p1 (2+1)/(2+3), BP 1 (5 > 4) */
	static const char *const p3[][2] = { { "a b", "a b" }, { "x y a", "a c" } };
	mrt_tm_corpus *c = corpus(p1, 1);
	double v[MRT_TM_NMETRIC];
	CHECK(mrt_tm_corpus_eval(c, NULL, v) == 0);
	CHECK(NEAR(v[MRT_TM_BLEU1], 0.75));
	CHECK(NEAR(v[MRT_TM_BLEU2], sqrt(0.75 * 2 / 3)));
	CHECK(NEAR(v[MRT_TM_BLEU3], cbrt(0.75 * 2 / 3 * 0.5)));
	CHECK(v[MRT_TM_BLEU4] > 0 && v[MRT_TM_BLEU4] < 1e-70, "%g", v[MRT_TM_BLEU4]);
	mrt_tm_corpus_free(c);
	c = corpus(p2, 1);
	CHECK(mrt_tm_corpus_eval(c, NULL, v) == 0);
	CHECK(NEAR(v[MRT_TM_BLEU1], exp(-1.0)));
	CHECK(NEAR(v[MRT_TM_BLEU2], exp(-1.0)));
	CHECK(v[MRT_TM_BLEU3] < 1e-100);
	mrt_tm_corpus_free(c);
	c = corpus(p3, 2);
	CHECK(mrt_tm_corpus_eval(c, NULL, v) == 0);
	CHECK(NEAR(v[MRT_TM_BLEU1], 3.0 / 5));
	/* p2: a b matches 1 of (1 + 2) bigrams */
	CHECK(NEAR(v[MRT_TM_BLEU2], sqrt(3.0 / 5 * 1.0 / 3)));
	mrt_tm_corpus_record(c, 1, v);
	CHECK(NEAR(v[MRT_TM_BLEU1], 1.0 / 3));   /* 3 > 2: BP 1 */
	mrt_tm_corpus_free(c);
}

static void
test_rouge_cider(void)
{
	/* CIDEr-D by hand.  Corpus 1: N = 2; record 1 equals its reference
	 * (orders 1, 2 give 1 each, 3 and 4 nothing): 10 (1 + 1) / 4 = 5;
	 * record 2 shares nothing: 0. */
	static const char *const c1[][2] = { { "a b", "a b" }, { "c", "d" } };
	/* Corpus 2: N = 3, df(a) = 2, so idf(a) = log 3 - log 2, the rest
	 * log 3; record 1: 5 as above; record 2 ("a" against "a c"): order 1
	 * idf(a)^2 / (idf(a) sqrt(idf(a)^2 + log(3)^2)), order 2 nothing,
	 * bigrams 0 against 1: exp(-1/72). */
	static const char *const c2[][2] = { { "a b", "a b" }, { "a", "a c" }, { "x", "y" } };
	/* ROUGE-L: LCS(a b c d e, a c e f) = 3 */
	static const char *const r1[][2] = { { "a b c d e", "a c e f" }, { "", "a" } };
	mrt_tm_corpus *c = corpus(c1, 2);
	double v[MRT_TM_NMETRIC], la = log(3.0) - log(2.0), l3 = log(3.0), p, r;
	CHECK(mrt_tm_corpus_eval(c, NULL, v) == 0);
	CHECK(NEAR(v[MRT_TM_CIDER_D], 2.5), "%.17g", v[MRT_TM_CIDER_D]);
	mrt_tm_corpus_record(c, 0, v);
	CHECK(NEAR(v[MRT_TM_CIDER_D], 5));
	mrt_tm_corpus_free(c);
	c = corpus(c2, 3);
	CHECK(mrt_tm_corpus_eval(c, NULL, v) == 0);
	CHECK(NEAR(v[MRT_TM_CIDER_D],
	    (5 + 10.0 / 4 * la / sqrt(la * la + l3 * l3) * exp(-1.0 / 72)) / 3),
	    "%.17g", v[MRT_TM_CIDER_D]);
	mrt_tm_corpus_free(c);
	c = corpus(r1, 2);
	CHECK(mrt_tm_corpus_eval(c, NULL, v) == 0);
	p = 3.0 / 5, r = 3.0 / 4;
	CHECK(NEAR(v[MRT_TM_ROUGE_P], p / 2) && NEAR(v[MRT_TM_ROUGE_R], r / 2));
	CHECK(NEAR(v[MRT_TM_ROUGE_L], 2.44 * p * r / (r + 1.44 * p) / 2), "%.17g",
	    v[MRT_TM_ROUGE_L]);
	mrt_tm_corpus_free(c);
}

/* A multiset evaluation equals the corpus with its records repeated. */
static void
test_multiset(void)
{
	static const char *const a[][2] = {
		{ "sinus rhythm normal ecg", "sinus rhythm. normal ecg." },
		{ "atrial fibrillation with rapid response", "atrial fibrillation, left axis" },
		{ "sinus bradycardia", "sinus rhythm with first degree av block" },
	};
	static const char *const b[][2] = {
		{ "sinus rhythm normal ecg", "sinus rhythm. normal ecg." },
		{ "sinus rhythm normal ecg", "sinus rhythm. normal ecg." },
		{ "sinus bradycardia", "sinus rhythm with first degree av block" },
	};
	uint32_t w[3] = { 2, 0, 1 }, z[3] = { 0, 0, 0 };
	mrt_tm_corpus *ca = corpus(a, 3), *cb = corpus(b, 3);
	double va[MRT_TM_NMETRIC], vb[MRT_TM_NMETRIC];
	CHECK(mrt_tm_corpus_eval(ca, w, va) == 0 && mrt_tm_corpus_eval(cb, NULL, vb) == 0);
	for (int m = 0; m < MRT_TM_NMETRIC; m++)
		CHECK(NEAR(va[m], vb[m]), "%s: %.17g %.17g", mrt_tm_metric_name(m), va[m], vb[m]);
	CHECK(va[MRT_TM_CIDER_D] > 0);
	CHECK(mrt_tm_corpus_eval(ca, z, va) == MRT_EINVAL);
	/* scoring again (after another record: two empty texts) recounts */
	{
		char msg[256];
		double before[MRT_TM_NMETRIC];
		CHECK(mrt_tm_corpus_eval(cb, NULL, before) == 0);
		CHECK(mrt_tm_corpus_add(cb, "", 0, "", 0) == 0);
		CHECK(mrt_tm_corpus_eval(cb, NULL, vb) == MRT_EINVAL);   /* not scored */
		CHECK(mrt_tm_corpus_score(cb, NULL, msg, sizeof msg) == 0);
		CHECK(mrt_tm_corpus_score(cb, NULL, msg, sizeof msg) == 0);
		CHECK(mrt_tm_corpus_eval(cb, (uint32_t[]){ 1, 1, 1, 0 }, vb) == 0);
		for (int m = 0; m < MRT_TM_NMETRIC; m++)
			CHECK(NEAR(vb[m], before[m]), "%s: %.17g %.17g",
			    mrt_tm_metric_name(m), vb[m], before[m]);
		mrt_tm_corpus_record(cb, 3, vb);
		for (int m = 0; m < MRT_TM_NMETRIC; m++)
			CHECK(vb[m] == 0, "%s of two empty texts: %g", mrt_tm_metric_name(m), vb[m]);
	}
	mrt_tm_corpus_free(ca);
	mrt_tm_corpus_free(cb);
}

static void
test_sets(void)
{
	/* codes 0, 1, 2; code 2 never true */
	uint32_t t[] = { 1, 3, 2, 0 }, p[] = { 1, 1, 6, 4 }, w[] = { 1, 0, 2, 1 };
	mrt_tm_sets s;
	mrt_tm_sets_eval(t, p, NULL, 4, 7, &s);
	/* code 0: tp 2; code 1: tp 1 fn 1; code 2: fp 2 */
	CHECK(NEAR(s.micro_p, 3.0 / 5) && NEAR(s.micro_r, 3.0 / 4));
	CHECK(NEAR(s.micro_f1, 6.0 / 9));
	CHECK(s.ncodes == 2 && NEAR(s.macro_p, 1) && NEAR(s.macro_r, 0.75));
	CHECK(NEAR(s.macro_f1, (1 + 2.0 / 3) / 2));
	/* weighted: record 1 out, record 2 twice: code 0 tp 1; code 1 tp 2;
	 * code 2 fp 3 */
	mrt_tm_sets_eval(t, p, w, 4, 7, &s);
	CHECK(NEAR(s.micro_p, 3.0 / 6) && NEAR(s.micro_r, 1));
	mrt_tm_sets_eval(t, p, NULL, 4, 4, &s);
	CHECK(s.ncodes == 0 && isnan(s.macro_f1) && s.micro_p == 0 && s.micro_f1 == 0);
}

/* ---- Porter, WordNet ---- */

static void
test_porter(void)
{
	/* nltk 3.8 PorterStemmer().stem(w) */
	static const char *const want[][2] = {
		{ "caresses", "caress" }, { "ponies", "poni" }, { "dies", "die" },
		{ "flies", "fli" }, { "spied", "spi" }, { "died", "die" },
		{ "happy", "happi" }, { "enjoy", "enjoy" }, { "sky", "sky" },
		{ "skies", "sky" }, { "dying", "die" }, { "generalizations", "gener" },
		{ "relational", "relat" }, { "conditional", "condit" },
		{ "hopefulness", "hope" }, { "geology", "geolog" },
		{ "controll", "control" }, { "rolling", "roll" }, { "hopping", "hop" },
		{ "falling", "fall" }, { "filing", "file" }, { "agreed", "agre" },
		{ "feed", "feed" }, { "radically", "radic" }, { "fully", "fulli" },
		{ "analogously", "analog" }, { "innings", "inning" }, { "ab", "ab" },
		{ "abs", "ab" }, { "a*ding", "ad" }, { "bradykardie", "bradykardi" },
		{ "ventricular", "ventricular" }, { "myocardial", "myocardi" },
		{ "infarction", "infarct" }, { "ischaemia", "ischaemia" },
		{ "elevated", "elev" },
	};
	char out[64];
	size_t n;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		CHECK(mrt_porter_stem(want[i][0], strlen(want[i][0]), out, sizeof out, &n) == 0);
		CHECK(strcmp(out, want[i][1]) == 0 && n == strlen(out), "%s: %s, want %s",
		    want[i][0], out, want[i][1]);
	}
	CHECK(mrt_porter_stem("caresses", 8, out, 4, &n) == MRT_ERANGE);
	/* 2 code points: kept as they are; "äs" is 3 bytes */
	CHECK(mrt_porter_stem("\xc3\xa4s", 3, out, sizeof out, &n) == 0 && strcmp(out, "\xc3\xa4s") == 0);
}

struct names { char buf[4096]; size_t len; };

static int
collect(void *arg, const char *s, size_t n)
{
	struct names *k = arg;
	k->len += (size_t)snprintf(k->buf + k->len, sizeof k->buf - k->len, " %.*s", (int)n, s);
	return 0;
}

static void
morphy_case(mrt_wordnet *wn, const char *w, int pos, const char *want)
{
	struct names k = { "", 0 };
	CHECK(mrt_wordnet_morphy(wn, w, strlen(w), pos, collect, &k) == 0);
	CHECK(strcmp(k.buf, want) == 0, "%s: '%s', want '%s'", w, k.buf, want);
}

static void
test_wordnet(void)
{
	mrt_wordnet *wn;
	char msg[512];
	struct names k = { "", 0 };
	CHECK(mrt_wordnet_open(&wn, "/nonexistent", msg, sizeof msg) == MRT_ENOENT && wn == NULL);
	CHECK(strcmp(msg, "/nonexistent/index.noun: No such file or directory") == 0, "%s", msg);
	if (mrt_wordnet_open(&wn, "/usr/share/wordnet", msg, sizeof msg) != 0) {
		CHECK(0, "wordnet-base: %s", msg);
		return;
	}
	CHECK(mrt_wordnet_nlemmas(wn) > 140000, "%zu", mrt_wordnet_nlemmas(wn));
	/* nltk's wn._morphy */
	morphy_case(wn, "geese", MRT_WN_NOUN, " goose");
	morphy_case(wn, "dogs", MRT_WN_NOUN, " dog");
	morphy_case(wn, "happier", MRT_WN_ADJ, " happy");
	morphy_case(wn, "running", MRT_WN_VERB, " run");
	morphy_case(wn, "axes", MRT_WN_NOUN, " ax axis");
	morphy_case(wn, "xyzzy", MRT_WN_NOUN, "");
	CHECK(mrt_wordnet_morphy(wn, "a", 1, 4, collect, &k) == MRT_EINVAL);
	/* set(l.name() for s in wn.synsets("heed") for l in s.lemmas()):
	 * attentiveness heed listen mind paying_attention regard */
	CHECK(mrt_wordnet_lemmas(wn, "heed", 4, collect, &k, msg, sizeof msg) == 0);
	{
		static const char *const want[] = { " attentiveness ", " heed ", " listen ",
		    " mind ", " paying_attention ", " regard " };
		strcat(k.buf, " ");
		for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
			CHECK(strstr(k.buf, want[i]) != NULL, "%s in%s", want[i], k.buf);
	}
	mrt_wordnet_free(wn);
}

/* ---- drivers for generate.bats ---- */

static int
print_name(void *arg, const char *s, size_t n)
{
	(void)arg;
	if (memchr(s, '_', n) == NULL)
		printf(" %.*s", (int)n, s);
	return 0;
}

static int
driver(int argc, char **argv)
{
	mrt_wordnet *wn = NULL;
	char *line = NULL, msg[512], *out = NULL;
	size_t cap = 0;
	ssize_t len;
	if (strcmp(argv[1], "lemmas") == 0) {
		if (argc < 3 || mrt_wordnet_open(&wn, argv[2], msg, sizeof msg) != 0) {
			fprintf(stderr, "test_textmetrics: %s\n", argc < 3 ? "lemmas DIR" : msg);
			return 1;
		}
	} else if (strcmp(argv[1], "stem") != 0) {
		fprintf(stderr, "usage: test_textmetrics [stem | lemmas DIR] < words\n");
		return 2;
	}
	while ((len = getline(&line, &cap, stdin)) > 0) {
		size_t n = (size_t)len - (line[len - 1] == '\n');
		line[n] = 0;
		if (wn) {
			printf("%s", line);
			if (mrt_wordnet_lemmas(wn, line, n, print_name, NULL, msg, sizeof msg) != 0) {
				fprintf(stderr, "test_textmetrics: %s\n", msg);
				return 1;
			}
			printf("\n");
		} else {
			if ((out = realloc(out, n + 1)) == NULL ||
			    mrt_porter_stem(line, n, out, n + 1, NULL) != 0)
				return 1;
			printf("%s\n", out);
		}
	}
	free(line);
	free(out);
	mrt_wordnet_free(wn);
	return fflush(stdout) != 0 || ferror(stdout);
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		return driver(argc, argv);
	test_tokens();
	test_meteor();
	test_bleu();
	test_rouge_cider();
	test_multiset();
	test_sets();
	test_porter();
	test_wordnet();
	return fails != 0;
}
