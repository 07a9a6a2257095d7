/*
 * bench/nn: throughput of lib/nn on synthetic merit-s batches.
 *
 *   nn train [steps [warmup [batch]]]   training steps (forward, backward, AdamW)
 *   nn embed [iters [warmup [batch]]]   ECG embeddings, all 240 patches
 *   nn sgemm                            OpenBLAS sgemm peak (best of square sizes)
 *   nn fma                              fp32 FMA peak of the threads (a register loop)
 *   nn gemm [reps]                      the model's linear products (merit-s, batch
 *                                       64): OpenBLAS, oneDNN fp32, oneDNN bf16
 *
 * MERIT_PRECISION=bf16 runs train and embed in bf16 (mrt_nn_set_precision).
 *
 * Threads from MERIT_THREADS (default 2).  Prints one line
 * "RESULT {json}" with samples/s, GFLOP/s (matrix products counted as in
 * ../shared/bench/merit_ref.py) and peak RSS.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cblas.h>

#include <immintrin.h>
#include <omp.h>

#include "nn/nn.h"
#include "nn/internal.h"
#include "core/rng.h"

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double
mm(double m, double n, double k)
{
	return 2 * m * n * k;
}

static double
block(double t, double d, double mlp)
{
	return mm(t, 3 * d, d) + mm(t, t, d) + mm(t, d, t) + mm(t, d, d) + mm(t, mlp, d) +
	       mm(t, d, mlp);
}

/* Matrix-product FLOPs per sample, as merit_ref.py counts them. */
static void
flops(const mrt_nn_config *c, int B, double *train, double *embed)
{
	double nv = mrt_nn_nvis(c), np = mrt_nn_npatch(c);
	double f = mm(nv, c->ecg_d, c->patch) + c->ecg_layers * block(nv, c->ecg_d, c->ecg_mlp) +
		   mm(1, c->proj, c->ecg_d) + mm(nv, c->dec_d, c->ecg_d) +
		   c->dec_layers * block(np, c->dec_d, c->dec_mlp) + mm(np, c->patch, c->dec_d) +
		   c->txt_layers * block(c->txt_len, c->txt_d, c->txt_mlp) +
		   mm(1, c->proj, c->txt_d) + mm(1, B, c->proj);
	*train = 3 * f;
	*embed = mm(np, c->ecg_d, c->patch) + c->ecg_layers * block(np, c->ecg_d, c->ecg_mlp) +
		 mm(1, c->proj, c->ecg_d);
}

static long
peak_rss_kb(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_maxrss;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void
sgemm_peak(int threads)
{
	double best = 0;
	int sizes[] = { 1024, 1536, 2048 };
	for (int s = 0; s < 3; s++) {
		int n = sizes[s];
		float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n);
		float *c = calloc((size_t)n * n, sizeof(float));
		for (long i = 0; i < (long)n * n; i++)
			a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
		for (int r = 0; r < 4; r++) {
			double t = now();
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, a, n, b, n,
				    0, c, n);
			double g = mm(n, n, n) / (now() - t) / 1e9;
			if (r && g > best)
				best = g;
		}
		free(a), free(b), free(c);
	}
	printf("RESULT {\"mode\": \"sgemm\", \"threads\": %d, \"gflops\": %.1f}\n", threads, best);
}

/* fp32 FMA peak: every thread 12 independent chains of 16-wide FMAs
 * (enough to fill the pipes), GFLOP/s of all the threads together. */
__attribute__((target("avx512f"))) static double
fma_loop(long n)
{
	__m512 a[12], x = _mm512_set1_ps(1.0f - 1e-7f), y = _mm512_set1_ps(1e-8f);
	for (int k = 0; k < 12; k++)
		a[k] = _mm512_set1_ps(1e-3f * (k + 1));
	for (long i = 0; i < n; i++) {
		#pragma GCC unroll 12
		for (int k = 0; k < 12; k++)
			a[k] = _mm512_fmadd_ps(a[k], x, y);
	}
	float s = 0;
	for (int k = 0; k < 12; k++)
		s += _mm512_reduce_add_ps(a[k]);
	return s;
}

static void
fma_peak(int threads)
{
	long n = 20000000;
	double best = 0, sink = 0;
	for (int r = 0; r < 3; r++) {
		double t = now();
		#pragma omp parallel num_threads(threads) reduction(+:sink)
		sink += fma_loop(n);
		double g = threads * 2.0 * 16 * 12 * n / (now() - t) / 1e9;
		if (g > best)
			best = g;
	}
	printf("RESULT {\"mode\": \"fma\", \"threads\": %d, \"gflops\": %.1f, \"sink\": %g}\n",
	       threads, best, sink > 0 ? 1.0 : 0.0);
}

/* The linear products of merit-s training and embedding at batch 64, each
 * as forward (in w^T), input gradient (dout w) and weight gradient (dout^T
 * in), timed by OpenBLAS, oneDNN fp32 and oneDNN bf16 in turn (reps
 * rounds, medians). */
static void
gemm_shapes(int reps)
{
	static const struct { const char *name; int T, O, NI; } sh[] = {
		{ "ecg.qkv", 3840, 768, 256 }, { "ecg.proj", 3840, 256, 256 },
		{ "ecg.fc1", 3840, 1024, 256 }, { "ecg.fc2", 3840, 256, 1024 },
		{ "dec.qkv", 15360, 384, 128 }, { "dec.proj", 15360, 128, 128 },
		{ "dec.fc1", 15360, 512, 128 }, { "dec.fc2", 15360, 128, 512 },
		{ "txt.qkv", 4096, 768, 256 }, { "txt.fc1", 4096, 1024, 256 },
		{ "enc.qkv", 15360, 768, 256 }, { "enc.fc1", 15360, 1024, 256 },
		{ "enc.fc2", 15360, 256, 1024 }, { "patch", 3840, 256, 50 },
		{ "dec.out", 15360, 50, 128 },
	};
	static const char *kind[] = { "fwd", "din", "dw" };
	static const int precs[] = { MRT_NN_FP32, NN_GEMM_ONEDNN_FP32, MRT_NN_BF16 };
	int nb = mrt_nn_cpu_bf16(NULL) ? 3 : 2;
	for (size_t s = 0; s < sizeof sh / sizeof *sh; s++) {
		int T = sh[s].T, O = sh[s].O, NI = sh[s].NI;
		float *x = malloc(sizeof(float) * T * NI), *w = malloc(sizeof(float) * O * NI);
		float *y = calloc((size_t)T * O, sizeof(float));
		float *dx = calloc((size_t)T * NI, sizeof(float)), *dw = calloc((size_t)O * NI, 4);
		for (long i = 0; i < (long)T * NI; i++)
			x[i] = (float)((i % 13) - 6) * 0.01f;
		for (long i = 0; i < (long)O * NI; i++)
			w[i] = (float)((i % 11) - 5) * 0.01f;
		nn_gemm *g[3];
		for (int p = 0; p < nb; p++)
			if (nn_gemm_new(&g[p], precs[p], w, (size_t)O * NI))
				return;
		for (int k = 0; k < 3; k++) {
			double t[3][64];
			int R = reps < 64 ? reps : 64;
			for (int r = 0; r < R + 1; r++)
				for (int p = 0; p < nb; p++) {
					double t0 = now();
					if (k == 0)
						nn_gemm_run(g[p], 0, 1, T, O, NI, 1, x, NI, w, NI, 0, y, O);
					else if (k == 1)
						nn_gemm_run(g[p], 0, 0, T, NI, O, 1, y, O, w, NI, 1, dx, NI);
					else
						nn_gemm_run(g[p], 1, 0, O, NI, T, 1, y, O, x, NI, 1, dw, NI);
					if (r)
						t[p][r - 1] = now() - t0;
				}
			double gf[3] = { 0 };
			for (int p = 0; p < nb; p++) {
				qsort(t[p], R, sizeof **t, cmp);
				gf[p] = mm(T, O, NI) / t[p][R / 2] / 1e9;
			}
			printf("RESULT {\"mode\": \"gemm\", \"shape\": \"%s.%s\", \"T\": %d, \"O\": %d, "
			       "\"NI\": %d, \"openblas\": %.1f, \"onednn_fp32\": %.1f, \"onednn_bf16\": %.1f}\n",
			       sh[s].name, kind[k], T, O, NI, gf[0], gf[1], gf[2]);
		}
		for (int p = 0; p < nb; p++)
			nn_gemm_free(g[p]);
		free(x), free(w), free(y), free(dx), free(dw);
	}
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "train";
	int iters = argc > 2 ? atoi(argv[2]) : 10, warm = argc > 3 ? atoi(argv[3]) : 2;
	int B = argc > 4 ? atoi(argv[4]) : 64;
	const char *th = getenv("MERIT_THREADS");
	int threads = th ? atoi(th) : 2;
	mrt_nn_set_threads(threads);
	if (!strcmp(mode, "sgemm")) {
		/* the peak of OpenBLAS's own threading on big products, the
		 * machine's best case (lib/nn runs it single-threaded per thread) */
		openblas_set_num_threads(threads);
		sgemm_peak(threads);
		return 0;
	}
	if (!strcmp(mode, "fma")) {
		fma_peak(threads);
		return 0;
	}
	if (!strcmp(mode, "gemm")) {
		gemm_shapes(argc > 2 ? atoi(argv[2]) : 5);
		return 0;
	}
	mrt_nn_config c;
	mrt_nn_preset("merit-s", &c);
	int S = c.samples, nv = mrt_nn_nvis(&c), np = mrt_nn_npatch(&c), L = c.txt_len;
	int train = !strcmp(mode, "train");
	mrt_nn_model *m;
	if (mrt_nn_new(&m, &c, B, train ? MRT_NN_TRAIN : 0)) {
		fprintf(stderr, "nn: cannot create the model\n");
		return 1;
	}
	mrt_nn_init(m, 1);
	const char *pr = getenv("MERIT_PRECISION");
	int bf16 = pr && !strcmp(pr, "bf16");
	if (bf16 && mrt_nn_set_precision(m, MRT_NN_BF16)) {
		fprintf(stderr, "nn: %s\n", mrt_nn_errmsg(m));
		return 1;
	}
	mrt_rng r;
	mrt_rng_seed(&r, 2);
	float *sig = malloc(sizeof(float) * B * c.leads * S);
	int32_t *vis = malloc(sizeof(int32_t) * B * nv), *tok = calloc((size_t)B * L, sizeof *tok);
	for (long i = 0; i < (long)B * c.leads * S; i++)
		sig[i] = (float)(sin(0.07 * (i % S) + i / S) + 0.1 * mrt_rng_normal(&r));
	for (int b = 0; b < B; b++) {
		int perm[np];
		for (int i = 0; i < np; i++)
			perm[i] = i;
		for (int i = 0; i < nv; i++) {
			int j = i + (int)mrt_rng_below(&r, (uint64_t)(np - i)), t = perm[i];
			perm[i] = perm[j], perm[j] = t;
			vis[b * nv + i] = perm[i];
		}
		int len = 16 + (int)mrt_rng_below(&r, (uint64_t)(L - 15));
		for (int i = 0; i < len; i++)
			tok[b * L + i] = i == 0 ? 2 : i == len - 1 ? 3 : 5 + (int)mrt_rng_below(&r, 4000);
	}
	mrt_nn_batch bt = { B, sig, NULL, vis, tok };
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	hp.warmup = 10, hp.total = 1000;
	float *h = malloc(sizeof(float) * B * c.ecg_d), *e = malloc(sizeof(float) * B * c.proj);
	double *times = malloc(sizeof(double) * (iters + warm)), ftrain, fembed;
	mrt_nn_losses l = { 0 }, first = { 0 };
	for (int i = 0; i < warm + iters; i++) {
		double t = now();
		int rc = train ? mrt_nn_train_step(m, &bt, &hp, &l)
			       : mrt_nn_encode_ecg(m, sig, NULL, B, h, e);
		if (rc) {
			fprintf(stderr, "nn: %s\n", mrt_nn_errmsg(m));
			return 1;
		}
		times[i] = now() - t;
		if (i == 0)
			first = l;
	}
	double tot = 0;
	for (int i = warm; i < warm + iters; i++)
		tot += times[i];
	qsort(times + warm, iters, sizeof *times, cmp);
	flops(&c, B, &ftrain, &fembed);
	double sps = iters * B / tot;
	printf("RESULT {\"mode\": \"%s\", \"precision\": \"%s\", \"threads\": %d, \"batch\": %d, \"params\": %zu, "
	       "\"step_ms_median\": %.1f, \"samples_per_s\": %.2f, \"gflops\": %.1f, "
	       "\"peak_rss_mb\": %.0f", mode, bf16 ? "bf16" : "fp32", threads, B, mrt_nn_nparams(m),
	       1e3 * times[warm + iters / 2], sps, sps * (train ? ftrain : fembed) / 1e9,
	       peak_rss_kb() / 1024.0);
	if (train)
		printf(", \"loss_first\": %.4f, \"loss_last\": %.4f", first.loss, l.loss);
	printf("}\n");
	free(sig), free(vis), free(tok), free(h), free(e), free(times);
	mrt_nn_free(m);
	return 0;
}
