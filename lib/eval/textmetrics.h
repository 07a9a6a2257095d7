/*
 * textmetrics.h: the text-generation metrics of report generation, as the
 * field computes them, on a corpus of (generated, reference) pairs with one
 * reference each.
 *
 *   BLEU-1..4  nltk 3.8 corpus_bleu, weights (1,0,0,0), (.5,.5,0,0),
 *              (1/3,1/3,1/3,0), (.25,.25,.25,.25), no smoothing: clipped
 *              n-gram counts and n-gram counts summed over the corpus, a
 *              record's count for order n at least 1 (nltk's max(1, .));
 *              0 if no unigram matches; an order with no match counts as
 *              the smallest normal double (nltk's method0); brevity penalty
 *              1 if c > r, 0 if c = 0, else exp(1 - r/c) over the corpus
 *              lengths c (generated) and r (references); the weighted logs
 *              summed exactly (math.fsum).
 *   METEOR     nltk 3.8 meteor_score, per record, averaged: exact, Porter
 *              stem and WordNet synonym stages (see mrt_tm_meteor below),
 *              alpha 0.9, beta 3, gamma 0.5; METEOR-1.5p the same matcher
 *              with Meteor 1.5's English parameters alpha 0.85, beta 0.2,
 *              gamma 0.6 (not Meteor 1.5 itself: no paraphrase stage, no
 *              function-word weight delta, no module weights).
 *   ROUGE-L    pycocoevalcap's Rouge: LCS of the token lists, P = LCS/|gen|,
 *              R = LCS/|ref|, F = (1 + b^2) P R / (R + b^2 P), b = 1.2, F = 0
 *              when P or R is 0; F, P and R averaged over records.
 *   CIDEr-D    pycocoevalcap's CiderD-as-Cider (n = 1..4, sigma 6): tf-idf
 *              vectors per order with idf = log(N) - log(max(1, df)), df the
 *              number of the corpus's N references holding the n-gram; per
 *              order the clipped product sum of min(g, r) r over the
 *              generated n-grams, divided by both norms when neither is
 *              0, times exp(-d^2 / (2 sigma^2)) with d the difference of the
 *              numbers of bigrams (pycocoevalcap's `length`, which counts
 *              order-2 n-grams); the mean over the four orders times 10;
 *              averaged over records.
 *
 * A corpus may be evaluated as a multiset (mrt_tm_corpus_eval with a
 * count per record): a record counted k times counts k times in every
 * sum, and k times as a reference document in CIDEr-D's df and N.  This is
 * the bootstrap: resample records, recompute every corpus-level metric.
 */
#ifndef MRT_TEXTMETRICS_H
#define MRT_TEXTMETRICS_H

#include <stddef.h>
#include <stdint.h>

enum {
	MRT_TM_BLEU1, MRT_TM_BLEU2, MRT_TM_BLEU3, MRT_TM_BLEU4,
	MRT_TM_METEOR, MRT_TM_METEOR15,
	MRT_TM_ROUGE_L, MRT_TM_ROUGE_P, MRT_TM_ROUGE_R,
	MRT_TM_CIDER_D,
	MRT_TM_NMETRIC
};

/* "BLEU-1" ... "CIDEr-D". */
const char *mrt_tm_metric_name(int metric);

/*
 * The tokens of a normalised text (lower-cased: mrt_bpe_normalise), the
 * COCO tools' PTBTokenizer punctuation removal as a fixed rule: a byte is
 * a separator if it is ASCII white space, one of ( ) [ ] { } " ` ; ! ?, or
 * one of . , : - ' that does not stand between two alphanumeric bytes
 * (ASCII letters and digits, and every byte >= 0x80); tokens are the
 * maximal runs of other bytes.  Calls each(arg, token, len) in order;
 * returns 0 or the first non-zero value of each.
 */
int mrt_tm_tokens(const char *s, size_t n,
    int (*each)(void *arg, const char *tok, size_t len), void *arg);

/*
 * Stems and synonyms for METEOR's second and third stages (lib/text's
 * Porter stemmer and WordNet, given by the caller): stem writes the stem of
 * w into out (cap >= n + 1 bytes) and its length into *outn; synonyms
 * calls each for every lemma name of every synset of w (names with '_'
 * are skipped here, as nltk skips them).  Both return 0 or an error code;
 * a NULL function skips its stage.
 */
typedef struct {
	int (*stem)(void *ctx, const char *w, size_t n, char *out, size_t cap,
	    size_t *outn);
	int (*synonyms)(void *ctx, const char *w, size_t n,
	    int (*each)(void *arg, const char *s, size_t n), void *arg);
	void *ctx;
} mrt_tm_lexicon;

/*
 * nltk's single_meteor_score on token ids: g[0..ng), r[0..nr) word ids,
 * gs and rs their stem ids; syn(ctx, a, b) is 1 when stem b is among the
 * synonyms of stem a (a itself included).  Stages in turn, each on the
 * tokens left unmatched by the previous ones: for each generated token,
 * last to first, the last unmatched reference token whose key equals it
 * (word, then stem, then synonym: reference stem in the synonyms of the
 * generated stem).  With m matches: P = m/ng, R = m/nr,
 * F = P R / (alpha P + (1 - alpha) R), chunks = runs of matches adjacent in
 * both (matches ordered by generated position), penalty =
 * gamma (chunks/m)^beta, score (1 - penalty) F; 0 when m, ng or nr is 0.
 * gs, rs or syn may be NULL (stage skipped).  Returns 0 or MRT_ENOMEM.
 */
int mrt_tm_meteor(const uint32_t *g, const uint32_t *gs, size_t ng,
    const uint32_t *r, const uint32_t *rs, size_t nr,
    int (*syn)(void *ctx, uint32_t a, uint32_t b), void *ctx,
    double alpha, double beta, double gamma, double *score);

/* LCS length of two token-id lists (O(na nb) time, O(nb) memory), or
 * MRT_ENOMEM. */
long mrt_tm_lcs(const uint32_t *a, size_t na, const uint32_t *b, size_t nb);

typedef struct mrt_tm_corpus mrt_tm_corpus;

int mrt_tm_corpus_new(mrt_tm_corpus **c);
void mrt_tm_corpus_free(mrt_tm_corpus *c);

/* Add a record: the generated text and the reference, normalised (see
 * mrt_tm_tokens).  0 or MRT_ENOMEM (or MRT_ERANGE past 2^32 tokens). */
int mrt_tm_corpus_add(mrt_tm_corpus *c, const char *gen, size_t ng,
    const char *ref, size_t nr);
size_t mrt_tm_corpus_size(const mrt_tm_corpus *c);

/* Token k of record i's generated text (which 0) or reference (1); the
 * count with mrt_tm_corpus_ntokens. */
size_t mrt_tm_corpus_ntokens(const mrt_tm_corpus *c, size_t i, int which);
const char *mrt_tm_corpus_token(const mrt_tm_corpus *c, size_t i, int which,
    size_t k, size_t *len);

/*
 * Score every record (n-gram statistics, METEOR, ROUGE-L, CIDEr-D in the
 * whole corpus) after the last add.  lex (may be NULL) gives stems and
 * synonyms; its errors are returned (msg: which word).  Returns 0,
 * MRT_ENOMEM, MRT_EINVAL (an empty corpus) or lex's error.
 */
int mrt_tm_corpus_score(mrt_tm_corpus *c, const mrt_tm_lexicon *lex,
    char *msg, size_t cap);

/*
 * Record i's own scores: BLEU-n of the record alone (nltk's sentence_bleu
 * without smoothing), METEOR, ROUGE-L F, P, R, and its CIDEr-D in the whole
 * corpus.
 */
void mrt_tm_corpus_record(const mrt_tm_corpus *c, size_t i,
    double out[MRT_TM_NMETRIC]);

/*
 * The corpus-level metrics of the multiset in which record i counts w[i]
 * times (w NULL: every record once).  Not thread-safe (scratch space in
 * c).  Returns 0, MRT_EINVAL (no record counted), MRT_ENOMEM.
 */
int mrt_tm_corpus_eval(mrt_tm_corpus *c, const uint32_t *w,
    double out[MRT_TM_NMETRIC]);

/*
 * Finding-level precision, recall and F1 of predicted code sets against
 * true ones (bit k of a mask: code k), over the codes of `codes`, with
 * record i counted w[i] times (w NULL: once).  Micro: from TP, FP, FN
 * summed over codes and records (P, R or F1 of 0/0 is 0).  Macro: the
 * mean of per-code P, R and F1 over the codes with a true positive among
 * the counted records (NaN when none has); ncodes is that number of codes.
 */
typedef struct {
	double micro_p, micro_r, micro_f1;
	double macro_p, macro_r, macro_f1;
	size_t ncodes;
} mrt_tm_sets;

void mrt_tm_sets_eval(const uint32_t *truth, const uint32_t *pred,
    const uint32_t *w, size_t n, uint32_t codes, mrt_tm_sets *out);

/* Per-code counts of mrt_tm_sets_eval (tp, fp, fn [32], w as there). */
void mrt_tm_sets_counts(const uint32_t *truth, const uint32_t *pred,
    const uint32_t *w, size_t n, uint64_t tp[32], uint64_t fp[32],
    uint64_t fn[32]);

#endif
