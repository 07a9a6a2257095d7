/*
 * nn_batch.h: the model tests' random training batch (test_nn_model,
 * test_nn_bf16): static functions, included once per test.
 */
#ifndef NN_BATCH_H
#define NN_BATCH_H

#include <math.h>
#include <stdlib.h>

#include "nn/nn.h"
#include "core/rng.h"

typedef struct {
	mrt_nn_batch b;
	float *sig;
	uint8_t *miss;
	int32_t *vis, *tok;
} batch;

/* Random records: sines plus noise in mV, a few NaN samples, a missing
 * lead in record 1, visible patches drawn among non-missing ones, reports
 * [CLS] ... [SEP] of random lengths. */
static void
make_batch(batch *bt, const mrt_nn_config *c, int B, uint64_t seed)
{
	mrt_rng r;
	mrt_rng_seed(&r, seed);
	int S = c->samples, nt = mrt_nn_ntime(c), np = mrt_nn_npatch(c), nv = mrt_nn_nvis(c);
	int L = c->txt_len;
	bt->sig = malloc(sizeof(float) * B * c->leads * S);
	bt->miss = calloc((size_t)B * c->leads, 1);
	bt->vis = malloc(sizeof(int32_t) * B * nv);
	bt->tok = calloc((size_t)B * L, sizeof(int32_t));
	for (int b = 0; b < B; b++) {
		for (int l = 0; l < c->leads; l++)
			for (int i = 0; i < S; i++)
				bt->sig[((size_t)b * c->leads + l) * S + i] =
					(float)(0.3 * (l + 1) + sin(0.05 * i * (b + 1) + l) +
						0.2 * mrt_rng_normal(&r));
		if (b == 1) {
			bt->miss[b * c->leads + 4] = 1;
			for (int i = 0; i < S; i++)
				bt->sig[((size_t)b * c->leads + 4) * S + i] = 0;
		}
		bt->sig[((size_t)b * c->leads + 2) * S + 7] = NAN;
		int perm[np], k = 0;
		for (int t = 0; t < np; t++)
			if (!bt->miss[b * c->leads + t / nt])
				perm[k++] = t;
		for (int i = 0; i < nv && i < k; i++) {
			int j = i + (int)mrt_rng_below(&r, (uint64_t)(k - i));
			int tmp = perm[i];
			perm[i] = perm[j], perm[j] = tmp;
			bt->vis[b * nv + i] = perm[i];
		}
		int len = 3 + (int)mrt_rng_below(&r, (uint64_t)(L - 2));
		bt->tok[(size_t)b * L] = 2;
		for (int i = 1; i < len - 1; i++)
			bt->tok[(size_t)b * L + i] = 5 + (int)mrt_rng_below(&r, (uint64_t)(c->txt_vocab - 5));
		bt->tok[(size_t)b * L + len - 1] = 3;
	}
	bt->b = (mrt_nn_batch){ B, bt->sig, bt->miss, bt->vis, bt->tok };
}

static void
free_batch(batch *bt)
{
	free(bt->sig), free(bt->miss), free(bt->vis), free(bt->tok);
}

#endif
