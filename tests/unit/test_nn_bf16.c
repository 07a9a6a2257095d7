/*
 * test_nn_bf16: mixed precision (mrt_nn_set_precision MRT_NN_BF16).  The
 * rounding to bf16 against one computed in double; oneDNN's bf16 products
 * (every transpose, alpha, beta, strides, a weight read from the bf16
 * copy) against double products of the rounded inputs; merit-s in bf16
 * against fp32 with initial and stressed weights (loss, per-tensor
 * gradient cosine, h, e and t); a short bf16 training run tracking fp32's
 * losses; auto's fallback.  Without AVX512_BF16 or AMX-BF16 the bf16
 * parts are skipped, saying which feature is missing.
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

/* x rounded to bf16 by hand: the two neighbours with 8 significant bits
 * in double, the nearer, the one with an even last bit on a tie. */
static double
bf16_ref(float x)
{
	if (x == 0 || !isfinite(x))
		return x;
	int e;
	frexp(x, &e);                      /* |x| in [2^(e-1), 2^e) */
	double ulp = ldexp(1, e - 8);
	double lo = floor(x / ulp) * ulp, hi = lo + ulp;
	double dl = x - lo, dh = hi - x;
	if (dl < dh)
		return lo;
	if (dh < dl)
		return hi;
	return fmod(fabs(lo / ulp), 2) == 0 ? lo : hi;
}

static void
test_round(void)
{
	mrt_rng r;
	mrt_rng_seed(&r, 1);
	int bad = 0;
	for (int i = 0; i < 200000; i++) {
		float x = (float)(mrt_rng_normal(&r) * pow(10, (int)mrt_rng_below(&r, 9) - 4));
		if (i % 3 == 0) {        /* exact ties: 1 + k/256 + 1/512 style */
			uint32_t u;
			memcpy(&u, &x, 4);
			u = (u & 0xffff0000u) | 0x8000u;
			memcpy(&x, &u, 4);
		}
		if (nn_gemm_bf16_round(x) != (float)bf16_ref(x))
			bad++;
	}
	CHECK(bad == 0, "%d of 200000 roundings differ", bad);
	CHECK(nn_gemm_bf16_round(1.00390625f) == 1.0f);         /* tie, to even */
	CHECK(nn_gemm_bf16_round(1.01171875f) == 1.015625f);    /* tie, to even (up) */
	CHECK(isnan(nn_gemm_bf16_round(NAN)));
	CHECK(nn_gemm_bf16_round(INFINITY) == INFINITY);
	CHECK(nn_gemm_bf16_round(3.4e38f) == INFINITY);         /* rounds past the largest */
}

/* C = alpha op(A) op(B) + beta C0 in bf16 against double on the rounded
 * inputs; B is a weight (read from the context's copy) when wt. */
static void
gemm_case(int ta, int tb, int M, int N, int K, float alpha, float beta, int pad, int wt,
	  int small)
{
	int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
	size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
	size_t nc = (size_t)M * ldc;
	float *A = malloc(na * 4), *B = malloc(nb * 4), *C = malloc(nc * 4), *C0 = malloc(nc * 4);
	mrt_rng r;
	mrt_rng_seed(&r, (uint64_t)(M * 7 + N * 3 + K + ta * 2 + tb));
	for (size_t i = 0; i < na; i++)
		A[i] = (float)mrt_rng_normal(&r);
	for (size_t i = 0; i < nb; i++)
		B[i] = (float)mrt_rng_normal(&r);
	for (size_t i = 0; i < nc; i++)
		C[i] = C0[i] = (float)mrt_rng_normal(&r);
	nn_gemm *g;
	CHECK(nn_gemm_new(&g, MRT_NN_BF16, B, wt ? nb : 0) == 0);
	if (small)
		nn_gemm_small(g, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
	else
		nn_gemm_run(g, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
	/* the small products with op(A) = A^T run in fp32 (OpenBLAS) */
	int fp32 = small && ta;
	double worst = 0;
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double s = 0, sa = 0;
			for (int k = 0; k < K; k++) {
				float x = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
				float y = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
				double a = fp32 ? x : nn_gemm_bf16_round(x);
				double b = fp32 ? y : nn_gemm_bf16_round(y);
				s += a * b;
				sa += fabs(a * b);
			}
			double want = alpha * s + beta * C0[(size_t)i * ldc + j];
			double err = fabs(C[(size_t)i * ldc + j] - want) /
				     (fabs(alpha) * sa + fabs(beta * C0[(size_t)i * ldc + j]) + 1e-30);
			worst = fmax(worst, err);
		}
	/* fp32 accumulation of exact bf16 products: a few fp32 ulps */
	CHECK(worst < 1e-5, "bf16 %s ta %d tb %d %dx%dx%d alpha %g beta %g: rel err %.3g",
	      small ? "small" : "gemm", ta, tb, M, N, K, alpha, beta, worst);
	/* the padding past each row is never written */
	for (int i = 0; i < M; i++)
		for (int j = N; j < ldc; j++)
			CHECK(C[(size_t)i * ldc + j] == C0[(size_t)i * ldc + j]);
	nn_gemm_free(g);
	free(A), free(B), free(C), free(C0);
}

static void
test_gemm(void)
{
	for (int small = 0; small < 2; small++) {
		for (int ta = 0; ta < 2; ta++)
			for (int tb = 0; tb < 2; tb++) {
				gemm_case(ta, tb, 37, 29, 50, 1, 0, 0, 0, small);
				gemm_case(ta, tb, 64, 48, 33, 1, 1, 3, 1, small);
				gemm_case(ta, tb, 5, 70, 17, 0.125f, 1, 1, 0, small);
				gemm_case(ta, tb, 60, 64, 32, 0.125f, 0, 5, 0, small);
			}
		/* the same shape again: the cached primitive */
		gemm_case(0, 1, 37, 29, 50, 1, 0, 0, 1, small);
	}
}

static double vec_err(const float *a, const float *b, int B, int n);

/* Attention in bf16 (the per-head products by the AVX512_BF16 kernel)
 * against the naive fp32 reference, full, with padded keys, time-wise,
 * lead-wise and criss-cross (4 tokens per lead): outputs within 2e-2 of
 * their largest |value|, dqkv too. */
static void
test_attn(void)
{
	enum { B = 2, N = 24, d = 32, H = 2, NT = 4 };
	size_t nq = (size_t)B * N * 3 * d, no = (size_t)B * N * d, na = (size_t)B * H * N * N;
	float *q = malloc(nq * 4), *g = malloc(no * 4), *y1 = malloc(no * 4), *y2 = malloc(no * 4);
	float *p1 = malloc(na * 4), *p2 = malloc(na * 4), *d1 = malloc(nq * 4), *d2 = malloc(nq * 4);
	float *scr = malloc((size_t)N * N * 2 * 4);
	uint8_t km[B * N];
	mrt_rng r;
	mrt_rng_seed(&r, 4);
	for (size_t i = 0; i < nq; i++)
		q[i] = (float)mrt_rng_normal(&r);
	for (size_t i = 0; i < no; i++)
		g[i] = (float)mrt_rng_normal(&r);
	for (int i = 0; i < B * N; i++)
		km[i] = i % 7 != 3;
	nn_gemm *gm;
	CHECK(nn_gemm_new(&gm, MRT_NN_BF16, q, 0) == 0);
	double worst = 0;
	for (int kind = -1; kind <= NN_ATTN_CROSS; kind++) {
		nn_attn_mask m = { kind < 0 ? NN_ATTN_ALL : kind, NT, NULL };
		const uint8_t *k = kind < 0 ? km : NULL;
		nn_gemm_current(gm);
		nn_attn_forward_f(y1, p1, q, k, &m, B, N, d, H);
		memset(d1, 0, nq * 4);
		nn_attn_backward_f(d1, g, q, p1, &m, B, N, d, H, scr, 2);
		nn_gemm_current(NULL);
		nn_attn_forward_naive_f(y2, p2, q, k, &m, B, N, d, H);
		memset(d2, 0, nq * 4);
		nn_attn_backward_naive_f(d2, g, q, p2, B, N, d, H);
		double ey = vec_err(y2, y1, 1, (int)no), ed = vec_err(d2, d1, 1, (int)nq);
		CHECK(ey < 2e-2 && ed < 2e-2, "attention kind %d: out %.3g, dqkv %.3g", kind, ey, ed);
		CHECK(ey > 0);          /* bf16 did run */
		worst = fmax(worst, fmax(ey, ed));
	}
	printf("  attention bf16 vs naive fp32 (full, padded, time-, lead-wise, criss-cross): "
	       "worst %.2e of max |value|\n", worst);
	nn_gemm_free(gm);
	free(q), free(g), free(y1), free(y2), free(p1), free(p2), free(d1), free(d2), free(scr);
}

/* max over the B vectors [B, n] of max |a - b| / max |a| */
static double
vec_err(const float *a, const float *b, int B, int n)
{
	double worst = 0;
	for (int r = 0; r < B; r++) {
		double m = 0, e = 0;
		for (int i = 0; i < n; i++) {
			m = fmax(m, fabs(a[(size_t)r * n + i]));
			e = fmax(e, fabs(a[(size_t)r * n + i] - b[(size_t)r * n + i]));
		}
		worst = fmax(worst, e / m);
	}
	return worst;
}

/* merit-s, batch 2, bf16 against fp32 on the same weights: scale w +
 * N(0, noise) of the initial w (the parity tests' stress is 5 w + N(0,
 * 0.05)); full: held to the bounds (loss 1e-2 relative, gradient cosine
 * 0.99, h, e, t 2e-2 of max |value|), else only printed. */
static void
test_model(double scale, double noise, int full)
{
	enum { B = 2 };
	mrt_nn_config c;
	mrt_nn_preset("merit-s", &c);
	mrt_nn_model *f, *h;
	CHECK(mrt_nn_new(&f, &c, B, MRT_NN_TRAIN) == 0);
	CHECK(mrt_nn_new(&h, &c, B, MRT_NN_TRAIN) == 0);
	mrt_nn_init(f, 3);
	if (scale != 1 || noise != 0) {
		mrt_rng r;
		mrt_rng_seed(&r, 99);
		for (size_t i = 0; i < f->net->tab.total; i++)
			f->net->pmem[i] = (float)(scale * f->net->pmem[i] + noise * mrt_rng_normal(&r));
	}
	memcpy(h->net->pmem, f->net->pmem, f->net->tab.total * sizeof(float));
	h->net->wstale = 1;
	CHECK(mrt_nn_set_precision(h, MRT_NN_BF16) == 0);
	CHECK(mrt_nn_get_precision(h) == MRT_NN_BF16 && mrt_nn_get_precision(f) == MRT_NN_FP32);
	batch bt;
	make_batch(&bt, &c, B, 11);
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	mrt_nn_losses lf, lh;
	CHECK(nn_net_forward_f(f->net, &bt.b, &hp, &lf) == 0);
	nn_net_zero_grad_f(f->net);
	nn_net_backward_f(f->net);
	CHECK(nn_net_forward_f(h->net, &bt.b, &hp, &lh) == 0);
	nn_net_zero_grad_f(h->net);
	nn_net_backward_f(h->net);
	double rl = fabs(lh.loss - lf.loss) / fabs(lf.loss);
	double rr = fabs(lh.rec - lf.rec) / fabs(lf.rec), rc = fabs(lh.cma - lf.cma) / fabs(lf.cma);
	CHECK(isfinite(lh.loss) && (!full || rl < 1e-2), "loss rel diff %.3g (rec %.3g, cma %.3g)",
	      rl, rr, rc);
	CHECK(lh.loss != lf.loss);      /* bf16 did run */
	double worst = 1;
	const char *wn = "";
	for (size_t t = 0; t < f->net->tab.n; t++) {
		const nn_entry *e = &f->net->tab.e[t];
		const float *a = f->net->gmem + e->off, *b = h->net->gmem + e->off;
		double ab = 0, aa = 0, bb = 0;
		for (size_t i = 0; i < e->n; i++)
			ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
		if (aa == 0 && bb == 0)
			continue;       /* a fixed table */
		double cs = ab / sqrt(aa * bb);
		CHECK(isfinite(cs), "gradient %s not finite", e->name);
		if (cs < worst)
			worst = cs, wn = e->name;
		CHECK(!full || cs >= 0.99, "gradient %s: cosine %.4f", e->name, cs);
	}
	/* embeddings */
	float hf[B * 256], hh[B * 256], ef[B * 128], eh[B * 128], tf[B * 128], th[B * 128];
	CHECK(mrt_nn_encode_ecg(f, bt.sig, NULL, B, hf, ef) == 0);
	CHECK(mrt_nn_encode_ecg(h, bt.sig, NULL, B, hh, eh) == 0);
	CHECK(mrt_nn_encode_text(f, bt.tok, B, tf) == 0);
	CHECK(mrt_nn_encode_text(h, bt.tok, B, th) == 0);
	double dh = vec_err(hf, hh, B, c.ecg_d), de = vec_err(ef, eh, B, c.proj);
	double dt = vec_err(tf, th, B, c.proj);
	CHECK(!full || (dh < 2e-2 && de < 2e-2 && dt < 2e-2), "h %.3g e %.3g t %.3g", dh, de, dt);
	CHECK(dh > 0);
	printf("  merit-s bf16 vs fp32 (weights %g w + N(0, %g)): loss rel %.2e (rec %.2e, cma %.2e), "
	       "worst gradient cosine %.5f (%s); h %.2e, e %.2e, t %.2e of max |value|\n", scale,
	       noise, rl, rr, rc, worst, wn, dh, de, dt);
	free_batch(&bt);
	mrt_nn_free(f);
	mrt_nn_free(h);
}

/* A short training run on merit-xs (batch 8, 60 steps of the same few
 * batches): bf16's moving averages of L_rec and L_cma follow fp32's. */
static void
test_train(void)
{
	enum { B = 8, STEPS = 60, NB = STEPS };
	mrt_nn_config c;
	mrt_nn_preset("merit-xs", &c);
	mrt_nn_model *m[2];
	batch bt[NB];
	for (int k = 0; k < NB; k++)
		make_batch(&bt[k], &c, B, 100 + k);
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	hp.lr = 2e-3, hp.warmup = 5, hp.total = STEPS;
	double ema[2][2] = { { 0 } }, worst = 0;
	for (int p = 0; p < 2; p++) {
		CHECK(mrt_nn_new(&m[p], &c, B, MRT_NN_TRAIN) == 0);
		mrt_nn_init(m[p], 5);
		CHECK(mrt_nn_set_precision(m[p], p ? MRT_NN_BF16 : MRT_NN_FP32) == 0);
	}
	double first[2] = { 0 };
	int differ = 0;
	for (int s = 0; s < STEPS; s++) {
		mrt_nn_losses l[2];
		for (int p = 0; p < 2; p++) {
			CHECK(mrt_nn_train_step(m[p], &bt[s % NB].b, &hp, &l[p]) == 0);
			double a = s ? 0.9 : 0;
			ema[p][0] = a * ema[p][0] + (1 - a) * l[p].rec;
			ema[p][1] = a * ema[p][1] + (1 - a) * l[p].cma;
		}
		if (s == 0)
			first[0] = ema[0][0], first[1] = ema[0][1];
		differ += l[0].loss != l[1].loss;
		if (s >= 10)
			for (int k = 0; k < 2; k++)
				worst = fmax(worst, fabs(ema[1][k] - ema[0][k]) / ema[0][k]);
	}
	CHECK(worst < 0.02, "bf16 moving averages off fp32's by %.3g", worst);
	/* the two runs differ (bf16 ran), and L_rec went down */
	CHECK(differ > STEPS / 2);
	CHECK(ema[0][0] < 0.97 * first[0] && ema[1][0] < 0.97 * first[0]);
	printf("  merit-xs %d steps: bf16 L_rec, L_cma moving averages within %.2e of fp32's "
	       "(%.4f, %.4f vs %.4f, %.4f)\n", STEPS, worst, ema[1][0], ema[1][1], ema[0][0],
	       ema[0][1]);
	for (int p = 0; p < 2; p++)
		mrt_nn_free(m[p]);
	for (int k = 0; k < NB; k++)
		free_batch(&bt[k]);
}

/* auto: bf16 exactly where the CPU has it; MERIT_NO_BF16 makes it fp32
 * and bf16 an error naming the feature. */
static void
test_auto(int have)
{
	mrt_nn_config c;
	mrt_nn_preset("merit-xs", &c);
	mrt_nn_model *m;
	CHECK(mrt_nn_new(&m, &c, 2, 0) == 0);
	CHECK(mrt_nn_set_precision(m, MRT_NN_AUTO) == 0);
	CHECK(mrt_nn_get_precision(m) == (have ? MRT_NN_BF16 : MRT_NN_FP32));
	setenv("MERIT_NO_BF16", "1", 1);
	const char *missing = NULL;
	CHECK(mrt_nn_cpu_bf16(&missing) == 0 && missing && strstr(missing, "AVX512_BF16"));
	CHECK(mrt_nn_set_precision(m, MRT_NN_FP32) == 0);
	CHECK(mrt_nn_set_precision(m, MRT_NN_AUTO) == 0 && mrt_nn_get_precision(m) == MRT_NN_FP32);
	CHECK(mrt_nn_set_precision(m, MRT_NN_BF16) == MRT_EINVAL);
	CHECK(strstr(mrt_nn_errmsg(m), "AVX512_BF16") != NULL, "%s", mrt_nn_errmsg(m));
	CHECK(mrt_nn_get_precision(m) == MRT_NN_FP32);
	unsetenv("MERIT_NO_BF16");
	mrt_nn_free(m);
}

int
main(void)
{
	mrt_nn_set_threads(2);
	const char *missing;
	int have = mrt_nn_cpu_bf16(&missing);
	test_round();
	test_auto(have);
	if (!have) {
		printf("test_nn_bf16: bf16 parts skipped: the CPU lacks %s\n", missing);
		return fails != 0;
	}
	test_gemm();
	test_attn();
	test_model(1, 0, 1);
	test_model(2, 0.02, 1);
	/* the parity tests' stress: saturated softmaxes make even fp32
	 * against double lose 1.4% of gradient cosine here (0.9856, measured),
	 * and bf16 is 2^15 times coarser: its figures are printed, only
	 * finiteness is held */
	test_model(5, 0.05, 0);
	test_train();
	printf("test_nn_bf16: %s\n", fails ? "FAILED" : "ok");
	return fails != 0;
}
