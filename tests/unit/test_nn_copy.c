/*
 * test_nn_copy: the copy task of issue 13.  Every record's 12 leads are
 * one waveform (a band-limited random signal, new for every record), so
 * nearly every hidden patch equals a visible patch of the same time step
 * (a time step has no visible patch with probability about 0.75^12 = 3%).
 * merit-xs trains on fresh batches, reconstruction only, with dec_attn
 * crisscross: STEPS steps must bring L_rec (mean of the last 20 steps) from
 * the predict-zero level of 1 to below LIMIT.
 *
 * Arguments, key=value as in a config file, change the model: `test_nn_copy
 * dec_attn=full` runs the same check on full decoder attention (it fails:
 * the decoder does not learn the time alignment in that time), and
 * `test_nn_copy dec_attn=axial dec_layers=2` on axial attention.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "core/rng.h"
#include "check.h"

#define STEPS 500
#define BATCH 16
#define LR    4e-3
#define LIMIT 0.6

/* B records of identical leads: a sum of 16 sines of random frequencies
 * (0.3 to 15 Hz), phases and amplitudes; nvis visible patches each, drawn
 * among all. */
static void
make_batch(mrt_rng *r, const mrt_nn_config *c, float *sig, int32_t *vis)
{
	int S = c->samples, np = mrt_nn_npatch(c), nv = mrt_nn_nvis(c);
	double f[16], ph[16], a[16];
	for (int b = 0; b < BATCH; b++) {
		for (int k = 0; k < 16; k++) {
			f[k] = 0.3 + 14.7 * mrt_rng_uniform(r);
			ph[k] = 2 * M_PI * mrt_rng_uniform(r);
			a[k] = 0.2 + mrt_rng_uniform(r);
		}
		float *x = sig + (size_t)b * c->leads * S;
		for (int i = 0; i < S; i++) {
			double v = 0;
			for (int k = 0; k < 16; k++)
				v += a[k] * sin(2 * M_PI * f[k] * i / c->fs + ph[k]);
			x[i] = (float)v;
		}
		for (int l = 1; l < c->leads; l++)
			memcpy(x + (size_t)l * S, x, (size_t)S * sizeof *x);
		int perm[np];
		for (int t = 0; t < np; t++)
			perm[t] = t;
		for (int i = 0; i < nv; i++) {
			int j = i + (int)mrt_rng_below(r, (uint64_t)(np - i)), t = perm[i];
			perm[i] = perm[j], perm[j] = t;
			vis[b * nv + i] = perm[i];
		}
	}
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* one thread: the model is tiny, and on a busy machine two threads
	 * spend their time waiting for each other */
	mrt_nn_set_threads(1);
	mrt_nn_config c;
	char msg[256];
	mrt_nn_preset("merit-xs", &c);
	mrt_nn_config_set(&c, "dec_attn", "crisscross", NULL, 0);
	for (int i = 1; i < argc; i++) {
		char key[64], *eq = strchr(argv[i], '=');
		if (!eq || eq - argv[i] >= (long)sizeof key) {
			fprintf(stderr, "usage: test_nn_copy [key=value ...]\n");
			return 2;
		}
		snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i]), argv[i]);
		if (mrt_nn_config_set(&c, key, eq + 1, msg, sizeof msg)) {
			fprintf(stderr, "test_nn_copy: %s\n", msg);
			return 2;
		}
	}
	mrt_nn_model *m;
	CHECK(mrt_nn_new(&m, &c, BATCH, MRT_NN_TRAIN) == 0);
	mrt_nn_init(m, 1);
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	hp.lr = LR, hp.warmup = 20, hp.total = STEPS, hp.lambda_cma = 0;
	float *sig = malloc(sizeof(float) * BATCH * c.leads * c.samples);
	int32_t *vis = malloc(sizeof(int32_t) * BATCH * mrt_nn_nvis(&c));
	mrt_rng r;
	mrt_rng_seed(&r, 7);
	double first = 0, last = 0;
	for (int s = 0; s < STEPS; s++) {
		make_batch(&r, &c, sig, vis);
		mrt_nn_batch b = { BATCH, sig, NULL, vis, NULL };
		mrt_nn_losses l;
		if (mrt_nn_train_step(m, &b, &hp, &l)) {
			fprintf(stderr, "test_nn_copy: %s\n", mrt_nn_errmsg(m));
			return 1;
		}
		if (s < 20)
			first += l.rec / 20;
		if (s >= STEPS - 20)
			last += l.rec / 20;
		if (s % 50 == 49)
			printf("  step %d: L_rec %.4f\n", s + 1, l.rec);
	}
	printf("  copy task, dec_attn %s, %d decoder blocks: L_rec %.4f (first 20 steps) -> "
	       "%.4f (last 20), limit %.2f\n", mrt_nn_attn_name(c.dec_attn), c.dec_layers, first,
	       last, LIMIT);
	CHECK(first > 0.9 && last < LIMIT);
	free(sig), free(vis);
	mrt_nn_free(m);
	if (fails) {
		fprintf(stderr, "test_nn_copy: %d failures\n", fails);
		return 1;
	}
	printf("test_nn_copy: ok\n");
	return 0;
}
