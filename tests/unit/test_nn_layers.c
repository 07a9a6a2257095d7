/*
 * test_nn_layers: every layer of lib/nn against central finite differences
 * in double precision (the double build of model.c), on odd shapes;
 * optimised kernels against the naive ones, in float and double; lead
 * normalisation and the schedule against hand-computed values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "nn/internal.h"
#include "core/rng.h"
#include "check.h"


#include "fd.h"

/* ---- linear --------------------------------------------------------------- */

typedef struct { int T, I, O; double *in, *w, *b, *G, *out; } lin_ctx;

static double
lin_loss(void *p)
{
	lin_ctx *c = p;
	nn_linear_forward_d(c->out, c->in, c->w, c->b, c->T, c->I, c->O);
	return dot(c->out, c->G, (size_t)c->T * c->O);
}

static void
test_linear(void)
{
	lin_ctx c = { 7, 5, 3, 0, 0, 0, 0, 0 };
	size_t nin = (size_t)c.T * c.I, nw = (size_t)c.O * c.I, nout = (size_t)c.T * c.O;
	c.in = rnd(nin, 1), c.w = rnd(nw, 1), c.b = rnd(c.O, 1), c.G = rnd(nout, 1);
	c.out = zeros(nout);
	double *din = zeros(nin), *dw = zeros(nw), *db = zeros(c.O);
	nn_linear_backward_d(din, dw, db, c.G, c.in, c.w, c.T, c.I, c.O);
	fdcheck("linear din", lin_loss, &c, c.in, din, nin);
	fdcheck("linear dw", lin_loss, &c, c.w, dw, nw);
	fdcheck("linear db", lin_loss, &c, c.b, db, c.O);
	/* gemm kernels against the naive loops, starting from non-zero grads */
	double *o2 = zeros(nout), *din2 = zeros(nin), *dw2 = zeros(nw), *db2 = zeros(c.O);
	nn_linear_forward_naive_d(o2, c.in, c.w, c.b, c.T, c.I, c.O);
	nn_linear_forward_d(c.out, c.in, c.w, c.b, c.T, c.I, c.O);
	for (size_t i = 0; i < nout; i++)
		CHECK(fabs(o2[i] - c.out[i]) < 1e-12);
	memcpy(din2, din, nin * sizeof *din);
	memcpy(dw2, dw, nw * sizeof *dw);
	memcpy(db2, db, c.O * sizeof *db);
	nn_linear_backward_d(din, dw, db, c.G, c.in, c.w, c.T, c.I, c.O);
	nn_linear_backward_naive_d(din2, dw2, db2, c.G, c.in, c.w, c.T, c.I, c.O);
	for (size_t i = 0; i < nin; i++)
		CHECK(fabs(din[i] - din2[i]) < 1e-12);
	for (size_t i = 0; i < nw; i++)
		CHECK(fabs(dw[i] - dw2[i]) < 1e-12);
	for (int i = 0; i < c.O; i++)
		CHECK(fabs(db[i] - db2[i]) < 1e-12);
	/* float gemm kernel against float naive, a larger odd shape */
	int T = 67, NI = 33, O = 45;
	float *fi = malloc(sizeof(float) * T * NI), *fw = malloc(sizeof(float) * O * NI);
	float *fb = malloc(sizeof(float) * O), *f1 = malloc(sizeof(float) * T * O);
	float *f2 = malloc(sizeof(float) * T * O);
	for (int i = 0; i < T * NI; i++)
		fi[i] = (float)mrt_rng_normal(&rng);
	for (int i = 0; i < O * NI; i++)
		fw[i] = (float)mrt_rng_normal(&rng);
	for (int i = 0; i < O; i++)
		fb[i] = (float)mrt_rng_normal(&rng);
	nn_linear_forward_f(f1, fi, fw, fb, T, NI, O);
	nn_linear_forward_naive_f(f2, fi, fw, fb, T, NI, O);
	for (int i = 0; i < T * O; i++)
		CHECK(fabsf(f1[i] - f2[i]) <= 1e-4f * (1 + fabsf(f2[i])));
	float *gi1 = calloc(T * NI, sizeof(float)), *gi2 = calloc(T * NI, sizeof(float));
	float *gw1 = calloc(O * NI, sizeof(float)), *gw2 = calloc(O * NI, sizeof(float));
	float *gb1 = calloc(O, sizeof(float)), *gb2 = calloc(O, sizeof(float));
	nn_linear_backward_f(gi1, gw1, gb1, f2, fi, fw, T, NI, O);
	nn_linear_backward_naive_f(gi2, gw2, gb2, f2, fi, fw, T, NI, O);
	for (int i = 0; i < T * NI; i++)
		CHECK(fabsf(gi1[i] - gi2[i]) <= 1e-3f * (1 + fabsf(gi2[i])));
	for (int i = 0; i < O * NI; i++)
		CHECK(fabsf(gw1[i] - gw2[i]) <= 1e-3f * (1 + fabsf(gw2[i])));
	for (int i = 0; i < O; i++)
		CHECK(fabsf(gb1[i] - gb2[i]) <= 1e-3f * (1 + fabsf(gb2[i])));
	free(fi), free(fw), free(fb), free(f1), free(f2);
	free(gi1), free(gi2), free(gw1), free(gw2), free(gb1), free(gb2);
	free(c.in), free(c.w), free(c.b), free(c.G), free(c.out);
	free(din), free(dw), free(db), free(o2), free(din2), free(dw2), free(db2);
}

/* ---- LayerNorm ------------------------------------------------------------ */

typedef struct { int T, C; double *in, *w, *b, *G, *out, *mean, *rstd; } ln_ctx;

static double
ln_loss(void *p)
{
	ln_ctx *c = p;
	nn_layernorm_forward_d(c->out, c->mean, c->rstd, c->in, c->w, c->b, c->T, c->C);
	return dot(c->out, c->G, (size_t)c->T * c->C);
}

static void
test_ln(void)
{
	ln_ctx c = { 5, 9, 0, 0, 0, 0, 0, 0, 0 };
	size_t n = (size_t)c.T * c.C;
	c.in = rnd(n, 2), c.w = rnd(c.C, 1), c.b = rnd(c.C, 1), c.G = rnd(n, 1);
	c.out = zeros(n), c.mean = zeros(c.T), c.rstd = zeros(c.T);
	ln_loss(&c);
	/* hand check of one row: mean, biased variance, eps 1e-5 */
	double m = 0, v = 0;
	for (int i = 0; i < c.C; i++)
		m += c.in[i];
	m /= c.C;
	for (int i = 0; i < c.C; i++)
		v += (c.in[i] - m) * (c.in[i] - m);
	v /= c.C;
	CHECK(fabs(c.out[3] - ((c.in[3] - m) / sqrt(v + 1e-5) * c.w[3] + c.b[3])) < 1e-12);
	double *din = zeros(n), *dw = zeros(c.C), *db = zeros(c.C);
	nn_layernorm_backward_d(din, dw, db, c.G, c.in, c.mean, c.rstd, c.w, c.T, c.C);
	fdcheck("layernorm din", ln_loss, &c, c.in, din, n);
	fdcheck("layernorm dw", ln_loss, &c, c.w, dw, c.C);
	fdcheck("layernorm db", ln_loss, &c, c.b, db, c.C);
	free(c.in), free(c.w), free(c.b), free(c.G), free(c.out), free(c.mean), free(c.rstd);
	free(din), free(dw), free(db);
}

/* ---- GELU ----------------------------------------------------------------- */

typedef struct { size_t n; double *in, *G, *out; } gelu_ctx;

static double
gelu_loss(void *p)
{
	gelu_ctx *c = p;
	nn_gelu_forward_d(c->out, c->in, c->n);
	return dot(c->out, c->G, c->n);
}

static void
test_gelu(void)
{
	gelu_ctx c = { 13, rnd(13, 2), rnd(13, 1), zeros(13) };
	gelu_loss(&c);
	double x = c.in[4];
	CHECK(fabs(c.out[4] - 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)))) < 1e-15);
	double *din = zeros(c.n);
	nn_gelu_backward_d(din, c.in, c.G, c.n);
	fdcheck("gelu", gelu_loss, &c, c.in, din, c.n);
	/* the float build (fast exp) against the tanh formula in double */
	double worst = 0, worstd = 0;
	for (int i = -2000; i <= 2000; i++) {
		float x = i * 0.005f, y, dy = 0, one = 1;
		double u = sqrt(2 / M_PI) * (x + 0.044715 * (double)x * x * x), th = tanh(u);
		double ref = 0.5 * x * (1 + th);
		double dref = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * sqrt(2 / M_PI) *
			      (1 + 3 * 0.044715 * (double)x * x);
		nn_gelu_forward_f(&y, &x, 1);
		nn_gelu_backward_f(&dy, &x, &one, 1);
		worst = fmax(worst, fabs(y - ref));
		worstd = fmax(worstd, fabs(dy - dref));
	}
	CHECK(worst < 2e-6 && worstd < 2e-6);
	printf("  gelu float on [-10, 10]: max abs err %.1e, derivative %.1e\n", worst, worstd);
	double we = 0;
	for (int i = -8000; i <= 8000; i++) {
		float x = i * 0.01f;
		double r = exp((double)x);
		we = fmax(we, fabs(nn_expf_fast(x) - r) / r);
	}
	CHECK(we < 3e-7);
	CHECK(nn_expf_fast(-1000.0f) < 2e-35f && nn_expf_fast(-1000.0f) > 0);
	/* non-finite arguments (issue 18: NaN made the conversion to int and
	 * the shift undefined, which UBSan reports): NaN gives NaN, -inf 0,
	 * +inf the value at the clamp */
	CHECK(isnan(nn_expf_fast(NAN)) && isnan(nn_expf_fast(-NAN)));
	CHECK(nn_expf_fast(-INFINITY) == 0.0f, "%g", nn_expf_fast(-INFINITY));
	CHECK(nn_expf_fast(INFINITY) == nn_expf_fast(80.0f) &&
	      fabs(nn_expf_fast(80.0f) / exp(80.0) - 1) < 3e-7);
	float odd[4] = { NAN, INFINITY, -INFINITY, 1.0f }, g[4];
	nn_gelu_forward_f(g, odd, 4);
	CHECK(isnan(g[0]) && isfinite(g[3]), "gelu(NaN) %g, gelu(1) %g", g[0], g[3]);
	printf("  fast exp on [-80, 80]: max rel err %.1e\n", we);
	free(c.in), free(c.G), free(c.out), free(din);
}

/* ---- attention ------------------------------------------------------------ */

static float *
rndf(size_t n)
{
	float *x = malloc(n * sizeof *x);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)mrt_rng_normal(&rng);
	return x;
}

/* The fast float attention (p1 its probabilities, d1 its dqkv from 0)
 * against the naive float loops: largest differences of out and dqkv. */
static void
attn_float_diff(const float *q, const float *g, const uint8_t *km, const nn_attn_mask *m,
		int B, int N, int d, int H, float *p1, float *d1, double *ey, double *ed)
{
	size_t fq = (size_t)B * N * 3 * d, fo = (size_t)B * N * d, fa = (size_t)B * H * N * N;
	float *y1 = malloc(fo * sizeof *y1), *y2 = malloc(fo * sizeof *y2);
	float *p2 = malloc(fa * sizeof *p2), *d2 = calloc(fq, sizeof *d2);
	float *fs = malloc(2 * (size_t)N * N * sizeof *fs);
	memset(d1, 0, fq * sizeof *d1);
	nn_attn_forward_f(y1, p1, q, km, m, B, N, d, H);
	nn_attn_forward_naive_f(y2, p2, q, km, m, B, N, d, H);
	nn_attn_backward_f(d1, g, q, p1, m, B, N, d, H, fs, 2);
	nn_attn_backward_naive_f(d2, g, q, p2, B, N, d, H);
	*ey = *ed = 0;
	for (size_t i = 0; i < fo; i++)
		*ey = fmax(*ey, fabs(y1[i] - y2[i]));
	for (size_t i = 0; i < fq; i++)
		*ed = fmax(*ed, fabs(d1[i] - d2[i]));
	free(y1), free(y2), free(p2), free(d2), free(fs);
}

typedef struct {
	int B, N, d, H;
	double *qkv, *G, *out, *att;
	uint8_t *km;
	const nn_attn_mask *m;
} att_ctx;

static double
att_loss(void *p)
{
	att_ctx *c = p;
	nn_attn_forward_d(c->out, c->att, c->qkv, c->km, c->m, c->B, c->N, c->d, c->H);
	return dot(c->out, c->G, (size_t)c->B * c->N * c->d);
}

static void
test_attn(void)
{
	att_ctx c = { 3, 5, 6, 2, 0, 0, 0, 0, 0, NULL };
	size_t nq = (size_t)c.B * c.N * 3 * c.d, no = (size_t)c.B * c.N * c.d;
	uint8_t km[15] = { 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0 };
	c.qkv = rnd(nq, 1), c.G = rnd(no, 1), c.out = zeros(no);
	c.att = zeros((size_t)c.B * c.H * c.N * c.N), c.km = km;
	att_loss(&c);
	/* hand check: record 2 has one usable key, so every output is its v */
	for (int i = 0; i < c.N; i++)
		for (int j = 0; j < c.d; j++)
			CHECK(fabs(c.out[((size_t)2 * c.N + i) * c.d + j] -
				   c.qkv[((size_t)2 * c.N + 0) * 3 * c.d + 2 * c.d + j]) < 1e-14);
	/* masked keys get probability 0, rows sum to 1 */
	for (int r = 0; r < c.B * c.H * c.N; r++) {
		double s = 0;
		for (int j = 0; j < c.N; j++)
			s += c.att[(size_t)r * c.N + j];
		CHECK(fabs(s - 1) < 1e-12);
	}
	CHECK(c.att[((size_t)(1 * c.H + 1) * c.N + 2) * c.N + 2] == 0);
	double *dq = zeros(nq), *scr = zeros(4 * c.N * c.N);
	nn_attn_backward_d(dq, c.G, c.qkv, c.att, NULL, c.B, c.N, c.d, c.H, scr, 4);
	fdcheck("attention (masked)", att_loss, &c, c.qkv, dq, nq);
	/* the gemm kernels against the naive loops, accumulating */
	double *dq2 = zeros(nq), *o2 = zeros(no), *a2 = zeros((size_t)c.B * c.H * c.N * c.N);
	memcpy(dq2, dq, nq * sizeof *dq);
	nn_attn_backward_d(dq, c.G, c.qkv, c.att, NULL, c.B, c.N, c.d, c.H, scr, 4);
	nn_attn_backward_naive_d(dq2, c.G, c.qkv, c.att, c.B, c.N, c.d, c.H);
	nn_attn_forward_naive_d(o2, a2, c.qkv, c.km, NULL, c.B, c.N, c.d, c.H);
	for (size_t i = 0; i < nq; i++)
		CHECK(fabs(dq[i] - dq2[i]) < 1e-12);
	for (size_t i = 0; i < no; i++)
		CHECK(fabs(o2[i] - c.out[i]) < 1e-12);
	c.km = NULL;
	att_loss(&c);
	memset(dq, 0, nq * sizeof *dq);
	nn_attn_backward_d(dq, c.G, c.qkv, c.att, NULL, c.B, c.N, c.d, c.H, scr, 2);
	fdcheck("attention", att_loss, &c, c.qkv, dq, nq);
	free(c.qkv), free(c.G), free(c.out), free(c.att), free(dq), free(scr);
	free(dq2), free(o2), free(a2);

	/* float kernels (fast exp) against the naive float ones, odd sizes */
	int B = 3, N = 37, d = 20, H = 4;
	size_t fq = (size_t)B * N * 3 * d, fo = (size_t)B * N * d, fa = (size_t)B * H * N * N;
	float *q = rndf(fq), *g = rndf(fo), *p1 = malloc(fa * sizeof *p1);
	float *d1 = malloc(fq * sizeof *d1), *d2 = malloc(fq * sizeof *d2);
	float *fs = malloc(2 * N * N * sizeof *fs);
	uint8_t km2[3 * 37];
	for (int i = 0; i < B * N; i++)
		km2[i] = i % N < 20 || i < N;
	double ey, ed;
	attn_float_diff(q, g, km2, NULL, B, N, d, H, p1, d1, &ey, &ed);
	CHECK(ey < 1e-5 && ed < 1e-5);
	/* backward accumulates: a second call adds the same gradient again */
	memcpy(d2, d1, fq * sizeof *d2);
	nn_attn_backward_f(d1, g, q, p1, NULL, B, N, d, H, fs, 2);
	for (size_t i = 0; i < fq; i++)
		CHECK(fabsf(d1[i] - 2 * d2[i]) <= 1e-6f * fabsf(d2[i]));
	CHECK(p1[((size_t)(2 * H + 1) * N + 3) * N + 30] == 0);
	printf("  attention float, gemm vs naive: max abs diff out %.1e, grad %.1e\n", ey, ed);
	free(q), free(g), free(p1), free(d1), free(d2), free(fs);
}

/* Structured attention over ECG tokens (3 leads of 4 time steps): every
 * kind, on all 12 tokens in order (time-wise and lead-wise run as
 * attention within groups) and on 7 tokens of each record in any order
 * (the encoder's visible tokens: masked full attention).  The fast
 * kernels against central differences and against the naive masked
 * loops, in double; then in float on merit-s's decoder shape. */
static void
test_attn_structured(void)
{
	static const char *const kname[] = { "all", "time-wise", "lead-wise", "criss-cross" };
	int32_t tok[2 * 7] = { 0, 5, 6, 11, 2, 3, 9,  10, 1, 4, 7, 8, 0, 6 };
	for (int sub = 0; sub < 2; sub++)
		for (int kind = 1; kind <= 3; kind++) {
			nn_attn_mask m = { kind, 4, sub ? tok : NULL };
			att_ctx c = { 2, sub ? 7 : 12, 6, 2, 0, 0, 0, 0, 0, &m };
			size_t nq = (size_t)c.B * c.N * 3 * c.d, no = (size_t)c.B * c.N * c.d;
			size_t na = (size_t)c.B * c.H * c.N * c.N;
			c.qkv = rnd(nq, 1), c.G = rnd(no, 1), c.out = zeros(no), c.att = zeros(na);
			double *dq = zeros(nq), *dq2 = zeros(nq), *o2 = zeros(no), *a2 = zeros(na);
			double *scr = zeros(2 * (size_t)c.N * c.N);
			att_loss(&c);
			nn_attn_forward_naive_d(o2, a2, c.qkv, NULL, &m, c.B, c.N, c.d, c.H);
			double eo = 0, ez = 0;
			for (size_t i = 0; i < no; i++)
				eo = fmax(eo, fabs(o2[i] - c.out[i]));
			/* the naive probabilities: 0 exactly where the structure
			 * forbids, rows summing to 1 */
			for (int b = 0; b < c.B; b++)
				for (int i = 0; i < c.N; i++) {
					double sum = 0;
					for (int j = 0; j < c.N; j++) {
						int ti = sub ? tok[b * 7 + i] : i, tj = sub ? tok[b * 7 + j] : j;
						int ok = (kind & 1 && ti / 4 == tj / 4) || (kind & 2 && ti % 4 == tj % 4);
						double p = a2[(((size_t)b * c.H + 1) * c.N + i) * c.N + j];
						if (!ok)
							ez = fmax(ez, fabs(p));
						sum += p;
					}
					CHECK(fabs(sum - 1) < 1e-12);
				}
			CHECK(eo < 1e-12 && ez == 0);
			nn_attn_backward_d(dq, c.G, c.qkv, c.att, &m, c.B, c.N, c.d, c.H, scr, 2);
			char what[64];
			snprintf(what, sizeof what, "attention %s%s", kname[kind], sub ? " (7 tokens)" : "");
			fdcheck(what, att_loss, &c, c.qkv, dq, nq);
			nn_attn_backward_naive_d(dq2, c.G, c.qkv, a2, c.B, c.N, c.d, c.H);
			double ed = 0;
			for (size_t i = 0; i < nq; i++)
				ed = fmax(ed, fabs(dq[i] - dq2[i]));
			CHECK(ed < 1e-12);
			free(c.qkv), free(c.G), free(c.out), free(c.att);
			free(dq), free(dq2), free(o2), free(a2), free(scr);
		}

	/* float, merit-s's decoder: 12 leads of 20 time steps */
	int B = 2, N = 240, d = 24, H = 2;
	size_t fq = (size_t)B * N * 3 * d, fa = (size_t)B * H * N * N;
	float *q = rndf(fq), *g = rndf((size_t)B * N * d), *p1 = malloc(fa * sizeof *p1);
	float *d1 = malloc(fq * sizeof *d1);
	for (int kind = 1; kind <= 3; kind++) {
		nn_attn_mask m = { kind, 20, NULL };
		double ey, ed;
		attn_float_diff(q, g, NULL, &m, B, N, d, H, p1, d1, &ey, &ed);
		CHECK(ey < 1e-5 && ed < 1e-5);
		printf("  attention %s float, 12x20 tokens, fast vs naive: out %.1e, grad %.1e\n",
		       kname[kind], ey, ed);
	}
	free(q), free(g), free(p1), free(d1);
}

/* ---- L2 normalisation, InfoNCE, MSE, pooling ------------------------------ */

typedef struct { int B, C; double *x, *G, *y, *nrm; } l2_ctx;

static double
l2_loss(void *p)
{
	l2_ctx *c = p;
	nn_l2norm_forward_d(c->y, c->nrm, c->x, c->B, c->C);
	return dot(c->y, c->G, (size_t)c->B * c->C);
}

static void
test_l2(void)
{
	l2_ctx c = { 3, 7, rnd(21, 1), rnd(21, 1), zeros(21), zeros(3) };
	l2_loss(&c);
	double s = 0;
	for (int i = 0; i < 7; i++)
		s += c.y[7 + i] * c.y[7 + i];
	CHECK(fabs(s - 1) < 1e-14);
	double *dx = zeros(21);
	nn_l2norm_backward_d(dx, c.G, c.y, c.nrm, c.B, c.C);
	fdcheck("l2 normalise", l2_loss, &c, c.x, dx, 21);
	/* a zero row stays zero, gradient dy / 1e-12 */
	for (int i = 0; i < 7; i++)
		c.x[i] = 0;
	l2_loss(&c);
	CHECK(c.y[0] == 0 && c.nrm[0] == 0);
	memset(dx, 0, 21 * sizeof *dx);
	nn_l2norm_backward_d(dx, c.G, c.y, c.nrm, c.B, c.C);
	CHECK(fabs(dx[2] - c.G[2] / 1e-12) <= 1e-6 * fabs(c.G[2] / 1e-12));
	free(c.x), free(c.G), free(c.y), free(c.nrm), free(dx);
}

typedef struct { int B, C; double *en, *tn, s, *lg, *pr, *pc; } cma_ctx;

static double
cma_loss(void *p)
{
	cma_ctx *c = p;
	return nn_infonce_forward_d(c->lg, c->pr, c->pc, c->en, c->tn, c->s, c->B, c->C);
}

static void
test_cma(void)
{
	cma_ctx c = { 5, 3, rnd(15, 0.7), rnd(15, 0.7), 1.3, zeros(25), zeros(25), zeros(25) };
	double L = cma_loss(&c);
	/* hand computation of the symmetric cross-entropy */
	double ref = 0, sc = exp(1.3);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 5; i++) {
			double z = 0, zi = 0;
			for (int j = 0; j < 5; j++) {
				const double *a = c.en + 3 * (pass ? j : i), *b = c.tn + 3 * (pass ? i : j);
				double l = sc * (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]);
				z += exp(l);
				if (i == j)
					zi = l;
			}
			ref += (log(z) - zi) / 10;
		}
	CHECK(fabs(L - ref) < 1e-12);
	double *den = zeros(15), *dtn = zeros(15), ds = 0;
	nn_infonce_backward_d(den, dtn, &ds, c.lg, c.pr, c.pc, c.en, c.tn, c.s, 1.0, 5, 3);
	fdcheck("infonce de", cma_loss, &c, c.en, den, 15);
	fdcheck("infonce dt", cma_loss, &c, c.tn, dtn, 15);
	fdcheck("infonce ds", cma_loss, &c, &c.s, &ds, 1);
	/* clamped at ln 100: same loss as at ln 100, zero gradient */
	c.s = 5.0;
	double L5 = cma_loss(&c);
	c.s = log(100.0);
	CHECK(fabs(L5 - cma_loss(&c)) < 1e-12);
	c.s = 5.0;
	cma_loss(&c);
	ds = 0;
	nn_infonce_backward_d(den, dtn, &ds, c.lg, c.pr, c.pc, c.en, c.tn, c.s, 1.0, 5, 3);
	CHECK(ds == 0);
	free(c.en), free(c.tn), free(c.lg), free(c.pr), free(c.pc), free(den), free(dtn);
}

typedef struct { int M, P; double *pred, *tgt, *w; } mse_ctx;

static double
mse_loss(void *p)
{
	mse_ctx *c = p;
	return nn_mse_forward_d(c->pred, c->tgt, c->w, c->M, c->P);
}

static void
test_mse(void)
{
	double w[7] = { 0.25, 0, 0.25, 0, 0.25, 0.25, 0 };
	mse_ctx c = { 7, 5, rnd(35, 1), rnd(35, 1), w };
	double ref = 0;
	for (int m = 0; m < 7; m++)
		for (int j = 0; j < 5; j++)
			ref += w[m] * (c.pred[m * 5 + j] - c.tgt[m * 5 + j]) *
			       (c.pred[m * 5 + j] - c.tgt[m * 5 + j]) / 5;
	CHECK(fabs(mse_loss(&c) - ref) < 1e-14);
	double *dp = zeros(35);
	nn_mse_backward_d(dp, c.pred, c.tgt, c.w, 1.0, 7, 5);
	CHECK(dp[5] == 0 && dp[9] == 0);
	fdcheck("masked mse", mse_loss, &c, c.pred, dp, 35);
	free(c.pred), free(c.tgt), free(dp);
}

typedef struct { int B, N, C; double *in, *G, *out; const uint8_t *mask; } pool_ctx;

static double
pool_loss(void *p)
{
	pool_ctx *c = p;
	nn_pool_forward_d(c->out, c->in, c->mask, c->B, c->N, c->C);
	return dot(c->out, c->G, (size_t)c->B * c->C);
}

static void
test_pool(void)
{
	uint8_t mask[8] = { 1, 1, 0, 0, 1, 0, 1, 1 };
	pool_ctx c = { 2, 4, 3, rnd(24, 1), rnd(6, 1), zeros(6), mask };
	pool_loss(&c);
	CHECK(fabs(c.out[1] - (c.in[1] + c.in[4]) / 2) < 1e-15);
	CHECK(fabs(c.out[3 + 2] - (c.in[12 + 2] + c.in[18 + 2] + c.in[21 + 2]) / 3) < 1e-15);
	double *din = zeros(24);
	nn_pool_backward_d(din, c.G, c.mask, 2, 4, 3);
	fdcheck("masked mean pool", pool_loss, &c, c.in, din, 24);
	c.mask = NULL;
	pool_loss(&c);
	memset(din, 0, 24 * sizeof *din);
	nn_pool_backward_d(din, c.G, NULL, 2, 4, 3);
	fdcheck("mean pool", pool_loss, &c, c.in, din, 24);
	free(c.in), free(c.G), free(c.out), free(din);
}

/* ---- lead normalisation, schedule, config --------------------------------- */

static void
test_normalise(void)
{
	mrt_nn_config c;
	CHECK(mrt_nn_preset("merit-xs", &c) == 0);
	c.leads = 3, c.samples = 8, c.patch = 4;
	float x[24] = { 1, 2, 3, 4, 1, 2, 3, 4,           /* lead 0 */
			1, NAN, 3, 5, 7, 9, 11, 13,       /* lead 1: NaN in patch 0 */
			5, 5, 5, 5, 5, 5, 5, 5 };         /* lead 2: missing */
	uint8_t miss[3] = { 0, 0, 1 }, valid[6];
	float y[24];
	mrt_nn_normalise(&c, x, miss, y, valid);
	double sd = sqrt(1.25);
	CHECK(fabsf(y[0] - (float)((1 - 2.5) / (sd + 1e-6))) < 1e-6f);
	CHECK(fabsf(y[7] - (float)((4 - 2.5) / (sd + 1e-6))) < 1e-6f);
	/* lead 1: 7 finite samples, mean 7, population variance 16 */
	CHECK(y[9] == 0);
	CHECK(fabsf(y[8] - (float)((1 - 7) / (4 + 1e-6))) < 1e-6f);
	CHECK(y[16] == 0 && y[23] == 0);
	CHECK(valid[0] && valid[1] && !valid[2] && valid[3] && !valid[4] && !valid[5]);
	CHECK(nn_round_half_away(2.5) == 3 && nn_round_half_away(-2.5) == -3 &&
	      nn_round_half_away(2.4999) == 2);
	CHECK(mrt_nn_preset("merit-s", &c) == 0 && mrt_nn_nvis(&c) == 60 &&
	      mrt_nn_npatch(&c) == 240);
	CHECK(mrt_nn_preset("merit-m", &c) == MRT_ENOENT);
	char msg[128];
	mrt_nn_preset("merit-s", &c);
	c.ecg_heads = 3;
	CHECK(mrt_nn_config_check(&c, msg, sizeof msg) == MRT_EINVAL &&
	      strstr(msg, "not divisible"));
	mrt_nn_preset("merit-s", &c);
	c.patch = 30;
	CHECK(mrt_nn_config_check(&c, msg, sizeof msg) == MRT_EINVAL);
}

/* The totals of mrt_nn_config_check (issue 18: each size was bounded,
 * their product not): nn_config_sizes counts the parameters nn_layout lays
 * out, for presets and odd structures, and the refusals say the size. */
static void
test_config_sizes(void)
{
	static const struct { const char *key, *value; } vary[] = {
		{ NULL, NULL }, { "pos", "sincos" }, { "ecg_layers", "5" }, { "txt_mlp", "7" },
		{ "patch", "25" }, { "leads", "3" }, { "proj", "9" }, { "txt_len", "33" },
	};
	const char *presets[] = { "merit-s", "merit-xs" };
	mrt_nn_config c;
	char msg[256];
	double params, acts;
	for (int p = 0; p < 2; p++)
		for (size_t i = 0; i < sizeof vary / sizeof vary[0]; i++) {
			mrt_nn_preset(presets[p], &c);
			if (vary[i].key)
				CHECK(mrt_nn_config_set(&c, vary[i].key, vary[i].value, msg,
							sizeof msg) == 0);
			nn_table t = { 0 };
			CHECK(mrt_nn_config_check(&c, msg, sizeof msg) == 0, "%s", msg);
			CHECK(nn_layout_f(&c, NULL, NULL, &t) == 0);
			nn_config_sizes(&c, &params, &acts);
			CHECK(params == (double)t.total, "%s %s: %.0f parameters, laid out %zu",
			      presets[p], vary[i].key ? vary[i].key : "", params, t.total);
			CHECK(acts > 0 && acts < MRT_NN_MAXACTS);
			nn_table_free(&t);
		}
	/* 18 TB of weights: refused with the count and the limit */
	mrt_nn_preset("merit-s", &c);
	c.txt_d = 65536, c.txt_mlp = 1 << 20, c.txt_layers = 32;
	CHECK(mrt_nn_config_check(&c, msg, sizeof msg) == MRT_EINVAL &&
	      strstr(msg, "model too large: ") && strstr(msg, " parameters (") &&
	      strstr(msg, "GiB as float32); the limit is 268435456 (1 GiB)"), "%s", msg);
	/* just within the parameter limit and past it: vocabulary rows of 1024 */
	mrt_nn_preset("merit-s", &c);
	c.txt_d = 1024, c.txt_heads = 4, c.txt_vocab = 1;
	nn_config_sizes(&c, &params, &acts);
	double row = c.txt_d, base = params - row;
	c.txt_vocab = (int)floor((MRT_NN_MAXPARAMS - base) / row);
	CHECK(mrt_nn_config_check(&c, msg, sizeof msg) == 0, "%s", msg);
	c.txt_vocab++;
	CHECK(mrt_nn_config_check(&c, msg, sizeof msg) == MRT_EINVAL && strstr(msg, "parameters"),
	      "%s", msg);
	/* few parameters, 12 * 10000 patches: attention of 1.4e10 per head */
	mrt_nn_preset("merit-xs", &c);
	c.samples = 100000, c.patch = 10;
	nn_config_sizes(&c, &params, &acts);
	CHECK(params < MRT_NN_MAXPARAMS && acts > 1.4e10);
	CHECK(mrt_nn_config_check(&c, msg, sizeof msg) == MRT_EINVAL &&
	      strstr(msg, "activations per record") && strstr(msg, "the limit is 268435456"),
	      "%s", msg);
	printf("  config totals: nn_layout's parameters for %zu configs; limits refused\n",
	       2 * sizeof vary / sizeof vary[0]);
}

static void
test_lr(void)
{
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	CHECK(hp.beta2 == 0.95 && hp.wd == 0.05 && hp.clip == 1.0);
	hp.lr = 1, hp.warmup = 10, hp.total = 110;
	CHECK(fabs(mrt_nn_lr(&hp, 0) - 0.1) < 1e-15);
	CHECK(fabs(mrt_nn_lr(&hp, 9) - 1.0) < 1e-15);
	CHECK(fabs(mrt_nn_lr(&hp, 10) - 1.0) < 1e-15);
	CHECK(fabs(mrt_nn_lr(&hp, 60) - 0.55) < 1e-12);
	CHECK(fabs(mrt_nn_lr(&hp, 110) - 0.1) < 1e-15);
	CHECK(fabs(mrt_nn_lr(&hp, 500) - 0.1) < 1e-15);
}

int
main(void)
{
	mrt_rng_seed(&rng, 12345);
	mrt_nn_set_threads(2);
	test_linear();
	test_ln();
	test_gelu();
	test_attn();
	test_attn_structured();
	test_l2();
	test_cma();
	test_mse();
	test_pool();
	test_normalise();
	test_config_sizes();
	test_lr();
	if (fails) {
		fprintf(stderr, "test_nn_layers: %d failures\n", fails);
		return 1;
	}
	printf("test_nn_layers: ok\n");
	return 0;
}
