/*
 * fuzz_bpe: the BPE learner and encoder (lib/text/bpe.c) on the input as
 * text: a vocabulary of up to 400 entries is learned from its lines, then
 * every line is encoded with it and with a vocabulary learned once from
 * report text, at a max_len from the input's first byte.
 *
 * Oracles: ids are in the vocabulary; [CLS] first, [SEP] last, [PAD]
 * after; a text that fits decodes to its normalised form; a truncated one
 * decodes to a prefix of it; the learned vocabulary saves and parses back.
 */
#include <string.h>
#include <unistd.h>

#include "text/bpe.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char reports[] =
    "sinus rhythm. normal ecg.\n"
    "Sinusrhythmus Linkstyp sonst normales EKG\n"
    "atrial fibrillation with rapid ventricular response, left axis deviation\n"
    "ST-Hebung in II, III, aVF; inferiorer Infarkt, Alter unbestimmt\n"
    "left bundle branch block. QRS 142 ms. Überleitung verzögert.\n"
    "sinusrytm, ospecifik ST-förändring\n";

static mrt_bpe *fixed;

static void
check_encode(const mrt_bpe *b, const char *t, size_t n, int max_len)
{
	int32_t *ids = malloc((size_t)max_len * sizeof *ids);
	char *norm = malloc(n + 1), *dec = malloc(n + 1);
	size_t nn;
	int total, k;
	long d;
	FZ_ASSERT(ids && norm && dec, "out of memory");
	total = mrt_bpe_encode(b, t, n, ids, max_len);
	nn = mrt_bpe_normalise(t, n, norm);
	FZ_ASSERT(total >= 2, "encode %d", total);
	k = total < max_len ? total : max_len;
	FZ_ASSERT(ids[0] == MRT_BPE_CLS && ids[k - 1] == MRT_BPE_SEP, "ends");
	for (int i = 0; i < max_len; i++) {
		FZ_ASSERT(ids[i] >= 0 && ids[i] < mrt_bpe_size(b), "id %d", ids[i]);
		FZ_ASSERT((i >= k) == (ids[i] == MRT_BPE_PAD), "padding at %d", i);
	}
	d = mrt_bpe_decode(b, ids, (size_t)k, dec, n + 1);
	FZ_ASSERT(d >= 0 && (size_t)d <= nn && memcmp(dec, norm, (size_t)d) == 0,
	    "decode is not a prefix of the normalised text");
	if (total <= max_len)
		FZ_ASSERT((size_t)d == nn, "decode(encode(t)) != normalise(t)");
	free(ids);
	free(norm);
	free(dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mrt_bpe_learner *l;
	mrt_bpe *b, *b2;
	const char *p = (const char *)data, *end = p + size;
	int max_len = size ? 2 + data[0] % 64 : 2;
	char path[512], err[256];
	if (fixed == NULL) {
		FZ_ASSERT(mrt_bpe_learner_new(&l) == 0, "learner");
		for (const char *q = reports; *q;) {
			const char *nl = strchr(q, '\n');
			mrt_bpe_learner_add(l, q, (size_t)(nl - q));
			q = nl + 1;
		}
		FZ_ASSERT(mrt_bpe_learner_finish(l, 400, &fixed) == 0, "finish");
		mrt_bpe_learner_free(l);
	}
	FZ_ASSERT(mrt_bpe_learner_new(&l) == 0, "learner");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		FZ_ASSERT(mrt_bpe_learner_add(l, p, n) == 0, "add");
		p += n + 1;
	}
	FZ_ASSERT(mrt_bpe_learner_finish(l, 400, &b) == 0, "finish");
	mrt_bpe_learner_free(l);
	for (p = (const char *)data; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		check_encode(b, p, n, max_len);
		check_encode(fixed, p, n, max_len);
		check_encode(fixed, p, n, (int)n + 2);
		p += n + 1;
	}
	snprintf(path, sizeof path, "%s/learned", fz_dir());
	FZ_ASSERT(mrt_bpe_save(b, path) == 0, "save");
	FZ_ASSERT(mrt_bpe_load(&b2, path, err, sizeof err) == 0, "a saved vocabulary "
	    "does not load: %s", err);
	FZ_ASSERT(mrt_bpe_size(b2) == mrt_bpe_size(b), "size");
	unlink(path);
	mrt_bpe_free(b2);
	mrt_bpe_free(b);
	return 0;
}
