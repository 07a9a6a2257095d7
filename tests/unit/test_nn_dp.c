/*
 * test_nn_dp: the phased step of nn/dp.h against mrt_nn_train_step.  A
 * global batch of 8 merit-xs records cut into K = 1, 2, 4 slices, run one
 * after another as merit-step --chunks K does, the gathers and sums done
 * here: the summed gradient block and the losses equal the full batch's
 * (mrt_nn_train_step, whose gradient test_nn_model checks against central
 * differences) to float rounding; L_cma with each slice's negatives only
 * (what per-rank negatives would compute) does not.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "nn/dp.h"
#include "core/rng.h"
#include "check.h"

enum { BG = 8 };

/* Records of sines and noise, one NaN sample, random visible patches and
 * reports of random lengths. */
static void
fill(const mrt_nn_config *c, float *sig, int32_t *vis, int32_t *tok)
{
	mrt_rng r;
	int S = c->samples, np = mrt_nn_npatch(c), nv = mrt_nn_nvis(c), L = c->txt_len;
	int32_t *all = malloc(sizeof *all * np);
	mrt_rng_seed(&r, 11);
	for (int b = 0; b < BG; b++) {
		for (int i = 0; i < c->leads * S; i++)
			sig[(size_t)b * c->leads * S + i] = (float)(sin(0.03 * i * (b + 1)) +
			    0.3 * mrt_rng_normal(&r));
		sig[(size_t)b * c->leads * S + 5] = NAN;
		for (int t = 0; t < np; t++)
			all[t] = t;
		mrt_rng_choose(&r, all, (size_t)np, (size_t)nv, sizeof *all);
		memcpy(vis + (size_t)b * nv, all, sizeof *all * nv);
		int len = 3 + (int)mrt_rng_below(&r, (uint64_t)(L - 2));
		for (int i = 0; i < L; i++)
			tok[(size_t)b * L + i] = i == 0 ? 2 : i == len - 1 ? 3 : i < len ?
			    5 + (int)mrt_rng_below(&r, (uint64_t)(c->txt_vocab - 5)) : 0;
	}
	free(all);
}

static double
rel(const float *a, const float *b, size_t n)
{
	double d = 0, s = 0;
	for (size_t i = 0; i < n; i++) {
		d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
		s += (double)a[i] * a[i];
	}
	return sqrt(d / s);
}

int
main(void)
{
	mrt_nn_config c;
	mrt_nn_hparams hp;
	mrt_nn_model *full, *m;
	mrt_nn_losses lf, l;
	mrt_nn_preset("merit-xs", &c);
	mrt_nn_hparams_default(&hp);
	hp.total = 10;
	hp.lambda_rec = 0.7;
	int S = c.samples, nv = mrt_nn_nvis(&c), L = c.txt_len, C = c.proj;
	float *sig = malloc(sizeof *sig * BG * c.leads * S);
	int32_t *vis = malloc(sizeof *vis * BG * nv), *tok = malloc(sizeof *tok * BG * L);
	float *EN = malloc(sizeof *EN * BG * C), *TN = malloc(sizeof *TN * BG * C);
	float *G = malloc(sizeof *G * 4 * 2 * BG * C), *own = malloc(sizeof *own * 2 * BG * C);
	double ds[4];
	fill(&c, sig, vis, tok);
	mrt_nn_batch b = { BG, sig, NULL, vis, tok };

	CHECK(mrt_nn_new(&full, &c, BG, MRT_NN_TRAIN) == 0);
	mrt_nn_init(full, 5);
	CHECK(mrt_nn_train_step(full, &b, &hp, &lf) == 0);
	size_t P;
	float *gfull = mrt_dp_grad(full, &P), *acc = malloc(sizeof *acc * P);

	for (int K = 1; K <= 4; K *= 2) {
		int B = BG / K;
		long nrec = 0, nr;
		double lrec = 0, lcma = 0, part, lcma_local = 0;
		CHECK(mrt_nn_new(&m, &c, B, MRT_NN_TRAIN) == 0);
		mrt_nn_init(m, 5);
		float *g = mrt_dp_grad(m, &P);
		for (int r = 0; r < K; r++) {
			mrt_nn_batch s = { B, sig + (size_t)r * B * c.leads * S, NULL,
				vis + (size_t)r * B * nv, tok + (size_t)r * B * L };
			CHECK(mrt_dp_forward(m, &s, &hp, EN + r * B * C, TN + r * B * C, &nr) == 0);
			nrec += nr;
		}
		for (int r = 0; r < K; r++) {
			float *Gr = G + (size_t)r * 2 * BG * C;
			CHECK(mrt_dp_cma(m, EN, TN, BG, r * B, B, hp.lambda_cma, Gr, Gr + BG * C,
			    &ds[r], &part) == 0);
			lcma += part;
			/* the same slice with only its own records as negatives */
			CHECK(mrt_dp_cma(m, EN + r * B * C, TN + r * B * C, B, 0, B, 1, own,
			    own + B * C, &part, &part) == 0);
			lcma_local += part / K;
		}
		for (int r = 0; r < K; r++) {
			mrt_nn_batch s = { B, sig + (size_t)r * B * c.leads * S, NULL,
				vis + (size_t)r * B * nv, tok + (size_t)r * B * L };
			CHECK(mrt_dp_forward(m, &s, &hp, EN + r * B * C, TN + r * B * C, &nr) == 0);
			memset(own, 0, sizeof *own * 2 * B * C);
			for (int q = 0; q < K; q++) {
				const float *Gq = G + (size_t)q * 2 * BG * C;
				for (int i = 0; i < B * C; i++) {
					own[i] += Gq[r * B * C + i];
					own[B * C + i] += Gq[BG * C + r * B * C + i];
				}
			}
			CHECK(mrt_dp_backward(m, nrec, own, own + B * C, ds[r], &part) == 0);
			lrec += part;
			for (size_t j = 0; j < P; j++)
				acc[j] = r ? acc[j] + g[j] : g[j];
		}
		memcpy(g, acc, sizeof *g * P);
		l.loss = hp.lambda_rec * lrec + hp.lambda_cma * lcma;
		l.rec = lrec;
		l.cma = lcma;
		CHECK(mrt_dp_update(m, &hp, &l) == 0);
		CHECK(nrec == lf.nrec, "K %d: %ld patches, full batch %ld", K, nrec, lf.nrec);
		CHECK(fabs(lrec - lf.rec) <= 1e-6 * lf.rec, "K %d: L_rec %.9g, full %.9g", K, lrec,
		    lf.rec);
		CHECK(fabs(lcma - lf.cma) <= 1e-6 * lf.cma, "K %d: L_cma %.9g, full %.9g", K, lcma,
		    lf.cma);
		CHECK(rel(gfull, acc, P) <= 1e-5, "K %d: gradient off by %g", K, rel(gfull, acc, P));
		CHECK(fabs(l.grad_norm - lf.grad_norm) <= 1e-5 * lf.grad_norm);
		if (K > 1)
			CHECK(fabs(lcma_local - lf.cma) > 0.05 * lf.cma,
			    "K %d: per-slice negatives %.6g too close to %.6g", K, lcma_local,
			    lf.cma);
		/* the update: the same weights to float rounding */
		size_t n1, n2;
		const float *w1 = mrt_dp_params(full, &n1), *w2 = mrt_dp_params(m, &n2);
		CHECK(n1 == n2 && rel(w1, w2, n1) <= 1e-6, "K %d: weights off by %g", K,
		    rel(w1, w2, n1));
		mrt_nn_free(m);
	}
	mrt_nn_free(full);
	free(sig), free(vis), free(tok), free(EN), free(TN), free(G), free(own), free(acc);
	return fails != 0;
}
