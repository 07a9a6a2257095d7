/*
 * test_nn_model: the whole MERIT model.  The loss gradient of every
 * parameter tensor of merit-xs against central differences in double; the
 * float build against the double build on merit-s; the training step
 * (AdamW by hand, reproducibility, branches switched off, non-finite
 * guard, loss going down); embeddings against the training forward pass.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "nn/internal.h"
#include "core/rng.h"
#include "check.h"
#include "nn_batch.h"


static double
loss_d(nn_net_d *n, const batch *bt, const mrt_nn_hparams *hp)
{
	mrt_nn_losses l;
	int rc = nn_net_forward_d(n, &bt->b, hp, &l);
	CHECK(rc == 0);
	return l.loss;
}

/* Whole-model gradient of every tensor of merit-xs against central
 * differences, in double; cfg (may be NULL) as in a config file. */
static void
test_model_fd(int raw, double lrec, double lcma, const char *const *cfg)
{
	mrt_nn_config c;
	mrt_nn_preset("merit-xs", &c);
	for (int i = 0; cfg && cfg[i]; i += 2)
		CHECK(mrt_nn_config_set(&c, cfg[i], cfg[i + 1], NULL, 0) == 0);
	mrt_nn_model *m;
	nn_net_d *n;
	CHECK(mrt_nn_new(&m, &c, 3, 0) == 0);
	CHECK(nn_net_new_d(&n, &c, 3, 1) == 0);
	mrt_nn_init(m, 7);
	mrt_rng r;
	mrt_rng_seed(&r, 99);
	/* move every parameter off its initial value so that LayerNorm
	 * weights, biases and embeddings all matter */
	for (size_t i = 0; i < n->tab.total; i++)
		n->pmem[i] = 5 * m->net->pmem[i] + 0.05 * mrt_rng_normal(&r);
	batch bt;
	make_batch(&bt, &c, 3, 5);
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	hp.raw_target = raw, hp.lambda_rec = lrec, hp.lambda_cma = lcma;
	mrt_nn_losses l;
	CHECK(nn_net_forward_d(n, &bt.b, &hp, &l) == 0);
	nn_net_zero_grad_d(n);
	nn_net_backward_d(n);
	CHECK(isfinite(l.loss) && l.loss > 0);
	double worst = 0;
	size_t checked = 0;
	for (size_t t = 0; t < n->tab.n; t++) {
		const nn_entry *e = &n->tab.e[t];
		double *g = n->gmem + e->off, *p = n->pmem + e->off;
		int off = (e->branch == NN_REC && lrec == 0) || (e->branch == NN_CMA && lcma == 0) ||
			  e->fixed;
		size_t idx[4], amax = 0;
		for (size_t j = 0; j < e->n; j++)
			if (fabs(g[j]) > fabs(g[amax]))
				amax = j;
		if (off) {
			/* a branch that is off, or a fixed table, gets no
			 * gradient at all */
			CHECK(g[amax] == 0);
			continue;
		}
		idx[0] = amax;
		for (int k = 1; k < 4; k++)
			idx[k] = mrt_rng_below(&r, e->n);
		for (int k = 0; k < 4; k++) {
			size_t j = idx[k];
			double s = p[j], h = 1e-5;
			p[j] = s + h;
			double lp = loss_d(n, &bt, &hp);
			p[j] = s - h;
			double lm = loss_d(n, &bt, &hp);
			p[j] = s;
			double num = (lp - lm) / (2 * h), err = fabs(num - g[j]);
			double tol = 1e-6 * fmax(fabs(num), fabs(g[j])) + 1e-9;
			if (err > tol) {
				fprintf(stderr, "model grad %s[%zu]: analytic %.12g numeric %.12g\n",
					e->name, j, g[j], num);
				fails++;
			}
			if (fabs(num) > 1e-6 && err / fabs(num) > worst)
				worst = err / fabs(num);
			checked++;
		}
	}
	char what[256] = "";
	for (int i = 0; cfg && cfg[i]; i += 2)
		snprintf(what + strlen(what), sizeof what - strlen(what), ", %s %s", cfg[i], cfg[i + 1]);
	printf("  merit-xs gradient (raw %d, lambda %g/%g%s): %zu elements of %zu tensors, "
	       "worst rel err %.2e\n", raw, lrec, lcma, what, checked, n->tab.n, worst);
	free_batch(&bt);
	mrt_nn_free(m);
	nn_net_free_d(n);
}

static double
relnorm(const float *a, const double *b, size_t n)
{
	double e = 0, s = 0;
	for (size_t i = 0; i < n; i++) {
		e += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
		s += b[i] * b[i];
	}
	return s > 0 ? sqrt(e / s) : sqrt(e);
}

/* The float build against the double build on merit-s, batch 2. */
static void
test_float_double(void)
{
	mrt_nn_config c;
	mrt_nn_preset("merit-s", &c);
	mrt_nn_model *m;
	nn_net_d *n;
	CHECK(mrt_nn_new(&m, &c, 2, MRT_NN_TRAIN) == 0);
	CHECK(nn_net_new_d(&n, &c, 2, 1) == 0);
	mrt_nn_init(m, 3);
	for (size_t i = 0; i < n->tab.total; i++)
		n->pmem[i] = m->net->pmem[i];
	batch bt;
	make_batch(&bt, &c, 2, 11);
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	mrt_nn_losses lf, ld;
	CHECK(nn_net_forward_f(m->net, &bt.b, &hp, &lf) == 0);
	nn_net_zero_grad_f(m->net);
	nn_net_backward_f(m->net);
	CHECK(nn_net_forward_d(n, &bt.b, &hp, &ld) == 0);
	nn_net_zero_grad_d(n);
	nn_net_backward_d(n);
	double rl = fabs(lf.loss - ld.loss) / fabs(ld.loss);
	CHECK(rl < 1e-5);
	double worst = 0;
	const char *wn = "";
	for (size_t t = 0; t < n->tab.n; t++) {
		const nn_entry *e = &n->tab.e[t];
		double r = relnorm(m->net->gmem + e->off, n->gmem + e->off, e->n);
		if (r > worst)
			worst = r, wn = e->name;
		if (r > 1e-4) {
			fprintf(stderr, "float vs double gradient %s: relative error %.3g\n", e->name, r);
			fails++;
		}
	}
	printf("  merit-s float vs double: loss rel err %.2e, worst gradient rel err %.2e (%s)\n",
	       rl, worst, wn);
	free_batch(&bt);
	mrt_nn_free(m);
	nn_net_free_d(n);
}

static int
tensor_index(const mrt_nn_model *m, const char *name)
{
	for (size_t i = 0; i < mrt_nn_ntensors(m); i++) {
		const char *nm;
		mrt_nn_tensor(m, i, &nm, NULL, NULL, NULL, NULL);
		if (!strcmp(nm, name))
			return (int)i;
	}
	return -1;
}

static void
test_train_step(void)
{
	mrt_nn_config c;
	mrt_nn_preset("merit-xs", &c);
	mrt_nn_model *a, *b;
	CHECK(mrt_nn_new(&a, &c, 4, MRT_NN_TRAIN) == 0);
	CHECK(mrt_nn_new(&b, &c, 4, MRT_NN_TRAIN) == 0);
	size_t np = mrt_nn_nparams(a);
	batch bt;
	make_batch(&bt, &c, 4, 21);
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	hp.lr = 1e-3, hp.warmup = 2, hp.total = 50;

	/* first step by hand: m^ = g', v^ = g'^2, so p -= lr g'/(|g'| + eps)
	 * after decay p *= 1 - lr wd on 2-D .weight tensors */
	mrt_nn_init(a, 1);
	float *p0 = malloc(np * sizeof *p0), *g0 = malloc(np * sizeof *g0);
	memcpy(p0, a->net->pmem, np * sizeof *p0);
	mrt_nn_losses l0, l1;
	CHECK(nn_net_forward_f(a->net, &bt.b, &hp, &l0) == 0);
	nn_net_zero_grad_f(a->net);
	nn_net_backward_f(a->net);
	memcpy(g0, a->net->gmem, np * sizeof *g0);
	CHECK(mrt_nn_train_step(a, &bt.b, &hp, &l1) == 0);
	CHECK(l1.loss == l0.loss);
	double norm = 0;
	for (size_t i = 0; i < np; i++)
		norm += (double)g0[i] * g0[i];
	norm = sqrt(norm);
	CHECK(fabs(l1.grad_norm - norm) <= 1e-9 * norm);
	double coef = norm > 1 ? 1 / (norm + 1e-6) : 1, lr = mrt_nn_lr(&hp, 0), bad = 0;
	for (size_t t = 0; t < mrt_nn_ntensors(a); t++) {
		const nn_entry *e = &a->net->tab.e[t];
		for (size_t j = 0; j < e->n; j++) {
			size_t i = e->off + j;
			double gg = (float)(g0[i] * (float)coef);
			double want = p0[i] * (e->decay ? 1 - lr * hp.wd : 1) -
				      lr * gg / (fabs(gg) + hp.eps);
			double err = fabs(want - a->net->pmem[i]) / (fabs(want) + 1e-3);
			if (err > bad)
				bad = err;
		}
	}
	CHECK(bad < 1e-6);
	printf("  first AdamW step against the hand formula: worst rel err %.2e\n", bad);
	CHECK(mrt_nn_step(a) == 1);
	int ipatch = tensor_index(a, "ecg.patch.weight"), itime = tensor_index(a, "ecg.time_pos");
	CHECK(a->net->tab.e[ipatch].decay && !a->net->tab.e[itime].decay);
	CHECK(!a->net->tab.e[tensor_index(a, "dec.mask_token")].decay);
	CHECK(!a->net->tab.e[tensor_index(a, "ecg.blocks.0.ln1.weight")].decay);

	/* reproducible: same seed and threads, same bytes */
	mrt_nn_init(a, 2);
	mrt_nn_init(b, 2);
	for (int s = 0; s < 3; s++) {
		CHECK(mrt_nn_train_step(a, &bt.b, &hp, NULL) == 0);
		CHECK(mrt_nn_train_step(b, &bt.b, &hp, NULL) == 0);
	}
	CHECK(memcmp(a->net->pmem, b->net->pmem, np * sizeof(float)) == 0);
	CHECK(memcmp(a->m, b->m, np * sizeof(float)) == 0);

	/* the loss goes down on a fixed batch */
	mrt_nn_losses first, last;
	mrt_nn_init(a, 3);
	hp.lr = 3e-3, hp.warmup = 0, hp.total = 40;
	for (int s = 0; s < 40; s++)
		CHECK(mrt_nn_train_step(a, &bt.b, &hp, s ? &last : &first) == 0);
	printf("  merit-xs 40 steps: loss %.4f -> %.4f (rec %.4f -> %.4f, cma %.4f -> %.4f)\n",
	       first.loss, last.loss, first.rec, last.rec, first.cma, last.cma);
	CHECK(last.rec < 0.9 * first.rec && last.cma < 0.9 * first.cma);

	/* a branch switched off: its tensors, moments and all stay untouched */
	for (int off = 0; off < 2; off++) {
		mrt_nn_init(a, 4);
		memcpy(p0, a->net->pmem, np * sizeof *p0);
		mrt_nn_hparams h2 = hp;
		if (off == 0)
			h2.lambda_cma = 0;
		else
			h2.lambda_rec = 0;
		mrt_nn_batch bb = bt.b;
		if (off == 0)
			bb.tok = NULL;
		mrt_nn_losses l;
		CHECK(mrt_nn_train_step(a, &bb, &h2, &l) == 0);
		CHECK(off == 0 ? l.cma == 0 && l.rec > 0 : l.rec == 0 && l.cma > 0);
		for (size_t t = 0; t < mrt_nn_ntensors(a); t++) {
			const nn_entry *e = &a->net->tab.e[t];
			int same = !memcmp(p0 + e->off, a->net->pmem + e->off, e->n * sizeof(float));
			int isoff = e->branch == (off == 0 ? NN_CMA : NN_REC);
			if (isoff) {
				int zero = 1;
				for (size_t j = 0; j < e->n; j++)
					zero &= a->m[e->off + j] == 0 && a->v[e->off + j] == 0;
				CHECK(same && zero);
			} else if (e->branch != NN_SHARED || e->init == NN_INIT_NORMAL) {
				CHECK(!same);
			}
		}
	}

	/* non-finite: error, nothing moves */
	mrt_nn_init(a, 5);
	a->net->pmem[a->net->tab.e[tensor_index(a, "dec.out.weight")].off] = NAN;
	memcpy(p0, a->net->pmem, np * sizeof *p0);
	CHECK(mrt_nn_train_step(a, &bt.b, &hp, NULL) == MRT_ENUM);
	CHECK(strstr(mrt_nn_errmsg(a), "non-finite") != NULL);
	CHECK(memcmp(p0, a->net->pmem, np * sizeof *p0) == 0 && mrt_nn_step(a) == 0);
	for (size_t i = 0; i < np; i++)
		CHECK(a->m[i] == 0);

	/* bad batches */
	mrt_nn_init(a, 6);
	int32_t keep = bt.vis[3];
	bt.vis[3] = mrt_nn_npatch(&c);
	CHECK(mrt_nn_train_step(a, &bt.b, &hp, NULL) == MRT_ERANGE);
	bt.vis[3] = bt.vis[4];
	CHECK(mrt_nn_train_step(a, &bt.b, &hp, NULL) == MRT_EINVAL);
	bt.vis[3] = keep;
	bt.tok[5] = c.txt_vocab;
	CHECK(mrt_nn_train_step(a, &bt.b, &hp, NULL) == MRT_ERANGE);
	bt.b.B = 5;
	CHECK(mrt_nn_train_step(a, &bt.b, &hp, NULL) == MRT_EINVAL);
	CHECK(memcmp(p0, a->net->pmem, 0) == 0 && mrt_nn_step(a) == 0);

	free(p0), free(g0);
	free_batch(&bt);
	mrt_nn_free(a);
	mrt_nn_free(b);
}

/* Embeddings equal the training forward pass when every patch is
 * visible, and do not depend on the other records of the batch. */
static void
test_encode(void)
{
	mrt_nn_config c;
	mrt_nn_preset("merit-xs", &c);
	c.mask_ratio = 0;
	mrt_nn_model *m;
	CHECK(mrt_nn_new(&m, &c, 3, MRT_NN_TRAIN) == 0);
	mrt_nn_init(m, 8);
	batch bt;
	make_batch(&bt, &c, 3, 31);
	int np = mrt_nn_npatch(&c), d = c.ecg_d, pr = c.proj;
	for (int b = 0; b < 3; b++)
		for (int i = 0; i < np; i++)
			bt.vis[b * np + i] = i;
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	mrt_nn_losses l;
	CHECK(nn_net_forward_f(m->net, &bt.b, &hp, &l) == 0);
	float h[3 * 32], e[3 * 12], t[3 * 12], h1[32], e1[12], t1[12];
	CHECK(mrt_nn_encode_ecg(m, bt.sig, bt.miss, 3, h, e) == 0);
	CHECK(mrt_nn_encode_text(m, bt.tok, 3, t) == 0);
	/* records 0 and 2 have every lead: h as the training pass with every
	 * token visible; record 1 has lead 4 missing, which the encoder drops
	 * (the training pass above fed its zeros) */
	double eh = 0, ee = 0, et = 0, e1h = 0;
	for (int i = 0; i < 3 * d; i++)
		if (i / d != 1)
			eh = fmax(eh, fabs(h[i] - m->net->h[i]));
		else
			e1h = fmax(e1h, fabs(h[i] - m->net->h[i]));
	for (int i = 0; i < 3 * pr; i++) {
		if (i / pr != 1)
			ee = fmax(ee, fabs(e[i] - m->net->en[i]));
		et = fmax(et, fabs(t[i] - m->net->tn[i]));
	}
	CHECK(eh < 1e-5 && ee < 1e-5 && et < 1e-5 && e1h > 1e-3);
	/* record 1 against the training pass of a model whose visible tokens
	 * are the 11 present leads' 220 (mask ratio 1/12) */
	{
		mrt_nn_config c11 = c;
		c11.mask_ratio = 1.0 / 12;
		mrt_nn_model *m11;
		int nt = mrt_nn_ntime(&c), nv = mrt_nn_nvis(&c11);
		CHECK(nv == 11 * nt && mrt_nn_new(&m11, &c11, 1, MRT_NN_TRAIN) == 0);
		memcpy(m11->net->pmem, m->net->pmem, mrt_nn_nparams(m) * sizeof(float));
		int32_t vis11[240];
		int k = 0;
		for (int i = 0; i < np; i++)
			if (!bt.miss[c.leads + i / nt])
				vis11[k++] = i;
		mrt_nn_batch b1 = { 1, bt.sig + c.leads * c.samples, bt.miss + c.leads, vis11,
				    bt.tok + c.txt_len };
		CHECK(k == nv && nn_net_forward_f(m11->net, &b1, &hp, &l) == 0);
		double w = 0;
		for (int i = 0; i < d; i++)
			w = fmax(w, fabs(h[d + i] - m11->net->h[i]));
		CHECK(w < 1e-5);
		mrt_nn_free(m11);
	}
	CHECK(mrt_nn_encode_ecg(m, bt.sig + 2 * c.leads * c.samples, bt.miss + 2 * c.leads, 1,
				h1, e1) == 0);
	CHECK(mrt_nn_encode_text(m, bt.tok + 2 * c.txt_len, 1, t1) == 0);
	for (int i = 0; i < d; i++)
		CHECK(fabsf(h1[i] - h[2 * d + i]) < 1e-5f);
	double s = 0;
	for (int i = 0; i < pr; i++) {
		CHECK(fabsf(e1[i] - e[2 * pr + i]) < 1e-5f && fabsf(t1[i] - t[2 * pr + i]) < 1e-5f);
		s += (double)e1[i] * e1[i];
	}
	CHECK(fabs(s - 1) < 1e-5);
	CHECK(mrt_nn_encode_ecg(m, bt.sig, bt.miss, 4, h, e) == MRT_EINVAL);
	/* a record with every lead missing */
	{
		uint8_t all[3 * 12];
		memset(all, 0, sizeof all);
		memset(all + 12, 1, 12);
		CHECK(c.leads == 12 && mrt_nn_encode_ecg(m, bt.sig, all, 3, h, e) == MRT_EINVAL);
	}
	/* an inference-only model with the same weights gives the same bits */
	mrt_nn_model *inf;
	CHECK(mrt_nn_new(&inf, &c, 3, 0) == 0);
	memcpy(inf->net->pmem, m->net->pmem, mrt_nn_nparams(m) * sizeof(float));
	float h2[3 * 32], e2[3 * 12];
	CHECK(mrt_nn_encode_ecg(inf, bt.sig, bt.miss, 3, h2, e2) == 0);
	CHECK(!memcmp(h, h2, sizeof h) && !memcmp(e, e2, sizeof e));
	CHECK(mrt_nn_reconstruct(inf, bt.sig, bt.miss, bt.vis, 3, NULL, NULL) == MRT_EINVAL);
	mrt_nn_free(inf);
	free_batch(&bt);
	mrt_nn_free(m);
}

/* Reconstruction: the lead-normalised input and the decoder output from
 * which L_rec is computed (recomputed here from them by hand). */
static void
test_reconstruct(void)
{
	mrt_nn_config c;
	mrt_nn_preset("merit-xs", &c);
	mrt_nn_model *m;
	CHECK(mrt_nn_new(&m, &c, 2, MRT_NN_TRAIN) == 0);
	mrt_nn_init(m, 9);
	batch bt;
	make_batch(&bt, &c, 2, 41);
	int S = c.samples, P = c.patch, nt = mrt_nn_ntime(&c), np = mrt_nn_npatch(&c);
	int nv = mrt_nn_nvis(&c), LS = c.leads * S;
	float *xn = malloc(sizeof(float) * 2 * LS), *pred = malloc(sizeof(float) * 2 * LS);
	float *ref = malloc(sizeof(float) * LS);
	CHECK(mrt_nn_reconstruct(m, bt.sig, bt.miss, bt.vis, 2, xn, pred) == 0);
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	hp.lambda_cma = 0;
	mrt_nn_losses l;
	CHECK(nn_net_forward_f(m->net, &bt.b, &hp, &l) == 0);
	double sum = 0;
	long cnt = 0;
	for (int b = 0; b < 2; b++) {
		uint8_t valid[240], vis[240] = { 0 };
		mrt_nn_normalise(&c, bt.sig + (size_t)b * LS, bt.miss + b * c.leads, ref, valid);
		CHECK(!memcmp(ref, xn + (size_t)b * LS, sizeof(float) * LS));
		for (int i = 0; i < nv; i++)
			vis[bt.vis[b * nv + i]] = 1;
		for (int k = 0; k < np; k++) {
			if (vis[k] || !valid[k])
				continue;
			const float *x = ref + (size_t)k * P, *y = pred + (size_t)b * LS + (size_t)k * P;
			double mu = 0, var = 0, e = 0;
			for (int j = 0; j < P; j++)
				mu += x[j];
			mu /= P;
			for (int j = 0; j < P; j++)
				var += (x[j] - mu) * (x[j] - mu);
			double sd = sqrt(var / P) + 1e-6;
			for (int j = 0; j < P; j++)
				e += (y[j] - (x[j] - mu) / sd) * (y[j] - (x[j] - mu) / sd);
			sum += e / P;
			cnt++;
		}
	}
	/* fewer than all masked patches: record 1 misses lead 4, lead 2 of
	 * each record has a NaN in patch 0 */
	CHECK(cnt == l.nrec && cnt > 0 && cnt < 2 * (np - nv) - nt);
	CHECK(fabs(sum / cnt - l.rec) <= 1e-5 * l.rec);
	/* from fewer visible tokens (a lead subset's): lead 1's 20 patches of
	 * record 0, as a model whose mask ratio leaves exactly 20 visible */
	{
		mrt_nn_config c20 = c;
		c20.mask_ratio = 11.0 / 12;
		mrt_nn_model *m20;
		CHECK(mrt_nn_nvis(&c20) == nt && mrt_nn_new(&m20, &c20, 1, MRT_NN_TRAIN) == 0);
		memcpy(m20->net->pmem, m->net->pmem, mrt_nn_nparams(m) * sizeof(float));
		int32_t v20[64];
		for (int t = 0; t < nt; t++)
			v20[t] = nt + t;
		float *p20 = malloc(sizeof(float) * LS), *q20 = malloc(sizeof(float) * LS);
		CHECK(mrt_nn_reconstruct_nv(m, bt.sig, bt.miss, v20, nt, 1, NULL, p20) == 0);
		CHECK(mrt_nn_reconstruct(m20, bt.sig, bt.miss, v20, 1, NULL, q20) == 0);
		CHECK(!memcmp(p20, q20, sizeof(float) * LS));
		/* and differs from the full visible set's */
		CHECK(memcmp(p20, pred, sizeof(float) * LS) != 0);
		CHECK(mrt_nn_reconstruct_nv(m, bt.sig, bt.miss, v20, nv + 1, 1, NULL, p20) == MRT_EINVAL);
		CHECK(mrt_nn_reconstruct_nv(m, bt.sig, bt.miss, v20, 0, 1, NULL, p20) == MRT_EINVAL);
		/* the model is as before: the full reconstruction again */
		float *again = malloc(sizeof(float) * 2 * LS);
		CHECK(mrt_nn_reconstruct(m, bt.sig, bt.miss, bt.vis, 2, NULL, again) == 0);
		CHECK(!memcmp(again, pred, sizeof(float) * 2 * LS));
		free(p20), free(q20), free(again);
		mrt_nn_free(m20);
	}
	free(xn), free(pred), free(ref);
	free_batch(&bt);
	mrt_nn_free(m);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	mrt_nn_set_threads(2);
	static const char *const cross[] = { "enc_attn", "axial", "dec_attn", "crisscross", NULL };
	static const char *const axial[] = { "enc_attn", "crisscross", "dec_attn", "axial",
		"dec_layers", "2", "pos", "sincos", NULL };
	test_model_fd(0, 1.0, 0.7, NULL);
	test_model_fd(1, 0.6, 0, NULL);
	test_model_fd(0, 0, 1.3, NULL);
	test_model_fd(0, 1.0, 0.7, cross);
	test_model_fd(0, 1.0, 0.5, axial);
	test_train_step();
	test_encode();
	test_reconstruct();
	test_float_double();
	if (fails) {
		fprintf(stderr, "test_nn_model: %d failures\n", fails);
		return 1;
	}
	printf("test_nn_model: ok\n");
	return 0;
}
