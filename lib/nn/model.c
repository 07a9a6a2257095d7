/*
 * model.c: the layers and the MERIT model of lib/nn (MODEL.md), written
 * once for the real type NN_REAL and compiled twice (Makefile):
 * -DNN_REAL=float into model_f32.o, the model everyone uses, and
 * -DNN_REAL=double into model_f64.o, the reference of the gradient tests.
 * internal.h gives every extern name here its precision's suffix
 * (nn_attn_forward is nn_attn_forward_f and nn_attn_forward_d).
 *
 * Conventions as in llm.c: a layer is X_forward(out, cache..., in,
 * params..., shapes) and X_backward(dinp, dparams..., dout, cache..., in,
 * params..., shapes); every backward accumulates (+=) into every gradient
 * it is given, so that branches and residuals compose.  The parameter
 * gradients and the activation gradients are each zeroed once a step
 * (nn_net_zero_grad); a block's internal activation gradients live in one
 * scratch that tower_backward zeroes before each block.  Backward runs the
 * forward pass's steps in reverse order.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include <cblas.h>
#include <omp.h>

#include "nn/nn.h"
#include "nn/internal.h"

#ifndef NN_REAL
#error "model.c is compiled with -DNN_REAL=float or -DNN_REAL=double (see the Makefile)"
#endif

#define R NN_REAL
#define LN_EPS ((R)1e-5)

#if NN_F32
#define GEMM cblas_sgemm

/*
 * exp for float that vectorises (no libm call): x = n ln2 + r with
 * |r| <= ln2/2, exp(r) by its Taylor polynomial to degree 7 (truncation
 * below 1e-8 relative), 2^n built in the exponent bits.  Inputs are
 * clamped to [-80, 80] so that neither the result nor what GELU and
 * softmax compute from it is ever subnormal (subnormal arithmetic is ~100
 * times slower): below -80 the result is 1.8e-35 instead of less, -inf
 * gives 0, +inf e^80 and NaN NaN.
 * Relative error within 3e-7 of expf (test_nn_layers).  The Makefile
 * builds this object with -O3 -fno-trapping-math, which if-converts the
 * clamps so that the GELU and softmax loops vectorise.
 */
static inline float
fexp(float x)
{
	/* NaN passes the clamps: 0 in its place until the result (converting
	 * NaN to int is undefined) */
	float c = x < -80.0f ? -80.0f : x > 80.0f ? 80.0f : x;
	c = c == c ? c : 0.0f;
	float t = c * 1.44269504088896341f;
	float n = (t + 12582912.0f) - 12582912.0f;     /* round to nearest */
	float r = c - n * 0.693145751953125f - n * 1.42860682030941723e-6f;
	float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 +
		  r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
	int32_t e = ((int32_t)n + 127) << 23;
	float s;
	memcpy(&s, &e, sizeof s);
	return x != x ? x : x == -INFINITY ? 0.0f : p * s;
}

float
nn_expf_fast(float x)
{
	return fexp(x);
}

#define EXP fexp
/* The elementwise loops (GELU, softmax) in AVX-512, AVX2 and baseline
 * versions chosen at load time.  Without FMA contraction (-std=c11) the
 * elementwise operations are the same IEEE operations in every version; the
 * softmax sum is added in an order that follows the vector width, so two
 * machines of different widths may differ in the last bits (runs on one
 * machine never do). */
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GEMM cblas_dgemm
#define EXP exp
#define CLONES
#endif

/* ---- threads and scratch ------------------------------------------------- */

/* The products of the linear layers: C[M,N] = alpha op(A) op(B) + beta C
 * (op(X) = X^T when tX).  Float: through the network's gemm context
 * (gemm.c: OpenBLAS, oneDNN fp32 or bf16), which the entry points below
 * make current for their thread; double: OpenBLAS, each OpenMP thread its
 * share of the rows of C, as gemm.c does in fp32. */
#if NN_F32
static _Thread_local nn_gemm *mm_ctx;
#define MM(...) nn_gemm_run(mm_ctx, __VA_ARGS__)
#else
static void
MM(int ta, int tb, int M, int N, int K, R alpha, const R *A, int lda, const R *B, int ldb,
   R beta, R *C, int ldc)
{
	#pragma omp parallel
	{
		int nth = omp_get_num_threads(), id = omp_get_thread_num();
		int a = (int)((long)M * id / nth), b = (int)((long)M * (id + 1) / nth);
		if (b > a)
			GEMM(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
			     tb ? CblasTrans : CblasNoTrans, b - a, N, K, alpha,
			     A + (size_t)a * (ta ? 1 : (size_t)lda), lda, B, ldb, beta,
			     C + (size_t)a * ldc, ldc);
	}
}
#endif

/* The attention products per head, inside parallel regions: SMM(c, ...)
 * with c the context taken before the region (MM_CTX(c)), then MM's
 * arguments: float through gemm.c's single-threaded product (bf16 kernel
 * or OpenBLAS), double by OpenBLAS. */
#if NN_F32
#define MM_CTX(c) const nn_gemm *c = mm_ctx
#define SMM(c, ...) nn_gemm_small(c, __VA_ARGS__)
#else
#define MM_CTX(c) const void *c = NULL
#define SMM(c, ta, tb, M, N, K, al, A, lda, B, ldb, be, C, ldc) \
	((void)(c), GEMM(CblasRowMajor, (ta) ? CblasTrans : CblasNoTrans, \
			 (tb) ? CblasTrans : CblasNoTrans, M, N, K, al, A, lda, B, ldb, be, C, ldc))
#endif

#if NN_F32
void
nn_gemm_current(nn_gemm *g)
{
	mm_ctx = g;
}
#endif

/* Make n's gemm context current (float build), refreshing its bf16
 * weights when they changed or always (a training forward pass: once a
 * step). */
static void
mm_use(nn_net *n, int refresh)
{
#if NN_F32
	mm_ctx = n->gm;
	if (n->gm && (refresh || n->wstale))
		nn_gemm_refresh(n->gm);
	n->wstale = 0;
#else
	(void)n, (void)refresh;
#endif
}

/* Each OpenMP thread runs a single-threaded gemm on its own rows (one
 * thread pool for everything: OpenBLAS is set to one thread, see
 * mrt_nn_set_threads). */
static void
split(int n, int *a, int *b)
{
	int nth = omp_get_num_threads(), id = omp_get_thread_num();
	*a = (int)((long)n * id / nth);
	*b = (int)((long)n * (id + 1) / nth);
}

static void
splitz(size_t n, size_t *a, size_t *b)
{
	size_t nth = (size_t)omp_get_num_threads(), id = (size_t)omp_get_thread_num();
	*a = n * id / nth;
	*b = n * (id + 1) / nth;
}

/* x[n] = 0, each thread its share */
static void
zero(R *x, size_t n)
{
	#pragma omp parallel
	{
		size_t a, b;
		splitz(n, &a, &b);
		if (b > a)
			memset(x + a, 0, (b - a) * sizeof *x);
	}
}

/* Pieces of one block of memory, each 64-byte aligned: base NULL only
 * measures. */
typedef struct {
	R *base;
	size_t off;
} arena;

static R *
take_buf(arena *A, size_t n)
{
	R *p = A->base ? A->base + A->off : NULL;
	A->off += (n + 15) & ~(size_t)15;
	return p;
}

static size_t
zmax(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* ---- linear: out[T,O] = in[T,NI] w[O,NI]^T + b[O] ------------------------ */

/* out = res + in w^T + b (res [T,O] may be NULL, and may not alias out). */
static void
linear_forward_res(R *out, const R *in, const R *w, const R *b, const R *res, int T, int NI,
		   int O)
{
	#pragma omp parallel
	{
		int t0, t1;
		split(T, &t0, &t1);
		/* bias and residual first, then the product added to them
		 * (beta 1): no separate passes, no zeroing by OpenBLAS */
		for (int t = t0; t < t1; t++) {
			R *o = out + (size_t)t * O;
			const R *r = res ? res + (size_t)t * O : NULL;
			if (r && b) {
				#pragma omp simd
				for (int j = 0; j < O; j++)
					o[j] = r[j] + b[j];
			} else if (r || b) {
				memcpy(o, r ? r : b, (size_t)O * sizeof *o);
			}
		}
	}
	MM(0, 1, T, O, NI, 1, in, NI, w, NI, b || res ? 1 : 0, out, O);
}

void
nn_linear_forward(R *out, const R *in, const R *w, const R *b, int T, int NI, int O)
{
	linear_forward_res(out, in, w, b, NULL, T, NI, O);
}

void
nn_linear_forward_naive(R *out, const R *in, const R *w, const R *b, int T, int NI, int O)
{
	for (int t = 0; t < T; t++)
		for (int o = 0; o < O; o++) {
			R s = b ? b[o] : 0;
			for (int i = 0; i < NI; i++)
				s += in[(size_t)t * NI + i] * w[(size_t)o * NI + i];
			out[(size_t)t * O + o] = s;
		}
}

/* din[T,NI] += dout[T,O] w[O,NI]; dw[O,NI] += dout^T in; db[O] += sum_t dout.
 * Threads split the rows of din and of dw (and the columns of db). */
void
nn_linear_backward(R *din, R *dw, R *db, const R *dout, const R *in, const R *w,
		   int T, int NI, int O)
{
	if (din)
		MM(0, 0, T, NI, O, 1, dout, O, w, NI, 1, din, NI);
	if (dw)
		MM(1, 0, O, NI, T, 1, dout, O, in, NI, 1, dw, NI);
	if (db) {
		#pragma omp parallel
		{
			int a, b;
			split(O, &a, &b);
			for (int t = 0; t < T; t++) {
				const R *d = dout + (size_t)t * O;
				#pragma omp simd
				for (int o = a; o < b; o++)
					db[o] += d[o];
			}
		}
	}
}

void
nn_linear_backward_naive(R *din, R *dw, R *db, const R *dout, const R *in, const R *w,
			 int T, int NI, int O)
{
	for (int t = 0; t < T; t++)
		for (int o = 0; o < O; o++) {
			R d = dout[(size_t)t * O + o];
			for (int i = 0; i < NI; i++) {
				if (din)
					din[(size_t)t * NI + i] += d * w[(size_t)o * NI + i];
				if (dw)
					dw[(size_t)o * NI + i] += d * in[(size_t)t * NI + i];
			}
			if (db)
				db[o] += d;
		}
}

/* ---- LayerNorm over the last dimension C of in[T,C] ------------------- */

void
nn_layernorm_forward(R *out, R *mean, R *rstd, const R *in, const R *w, const R *b, int T,
		     int C)
{
	#pragma omp parallel for schedule(static)
	for (int t = 0; t < T; t++) {
		const R *x = in + (size_t)t * C;
		R *y = out + (size_t)t * C;
		R m = 0, v = 0;
		#pragma omp simd reduction(+:m)
		for (int i = 0; i < C; i++)
			m += x[i];
		m /= C;
		#pragma omp simd reduction(+:v)
		for (int i = 0; i < C; i++)
			v += (x[i] - m) * (x[i] - m);
		v /= C;
		R rs = 1 / sqrt(v + LN_EPS);
		#pragma omp simd
		for (int i = 0; i < C; i++)
			y[i] = (x[i] - m) * rs * w[i] + b[i];
		mean[t] = m;
		rstd[t] = rs;
	}
}

/* out = LayerNorm(in) from the mean and rstd layernorm_forward kept: the
 * same operations, so the same bits (backward recomputes its input). */
static void
layernorm_apply(R *out, const R *in, const R *mean, const R *rstd, const R *w, const R *b,
		int T, int C)
{
	#pragma omp parallel for schedule(static)
	for (int t = 0; t < T; t++) {
		const R *x = in + (size_t)t * C;
		R *y = out + (size_t)t * C, m = mean[t], rs = rstd[t];
		#pragma omp simd
		for (int i = 0; i < C; i++)
			y[i] = (x[i] - m) * rs * w[i] + b[i];
	}
}

void
nn_layernorm_backward(R *din, R *dw, R *db, const R *dout, const R *in, const R *mean,
		      const R *rstd, const R *w, int T, int C)
{
	if (din) {
		#pragma omp parallel for schedule(static)
		for (int t = 0; t < T; t++) {
			const R *x = in + (size_t)t * C, *dy = dout + (size_t)t * C;
			R *dx = din + (size_t)t * C;
			R m = mean[t], rs = rstd[t], a = 0, bsum = 0;
			#pragma omp simd reduction(+:a, bsum)
			for (int i = 0; i < C; i++) {
				R dn = w[i] * dy[i];
				a += dn;
				bsum += dn * (x[i] - m) * rs;
			}
			a /= C;
			bsum /= C;
			#pragma omp simd
			for (int i = 0; i < C; i++) {
				R n = (x[i] - m) * rs;
				dx[i] += (w[i] * dy[i] - a - n * bsum) * rs;
			}
		}
	}
	#pragma omp parallel
	{
		int c0, c1;
		split(C, &c0, &c1);
		for (int t = 0; t < T; t++) {
			const R *x = in + (size_t)t * C, *dy = dout + (size_t)t * C;
			R m = mean[t], rs = rstd[t];
			#pragma omp simd
			for (int i = c0; i < c1; i++) {
				dw[i] += dy[i] * (x[i] - m) * rs;
				db[i] += dy[i];
			}
		}
	}
}

/* ---- GELU, tanh form ----------------------------------------------------
 * 0.5 x (1 + tanh(u)) computed as x s with s = 1/(1 + exp(-2u)), the same
 * function; d/dx = s + x (1 - tanh^2 u) u'/2 with 1 - tanh^2 = 4 s (1 - s). */

#define GELU_K ((R)0.7978845608028654)   /* sqrt(2/pi) */
#define GELU_C ((R)0.044715)

/* The loops live in plain functions, not in the OpenMP-outlined ones, so
 * that the target clones and the optimisation flags reach them and they
 * vectorise. */
CLONES static void
gelu_forward_range(R *out, const R *in, size_t a, size_t b)
{
	#pragma omp simd
	for (size_t i = a; i < b; i++) {
		R x = in[i];
		R s = 1 / (1 + EXP(-2 * GELU_K * (x + GELU_C * x * x * x)));
		out[i] = x * s;
	}
}

CLONES static void
gelu_backward_range(R *din, const R *in, const R *dout, size_t a, size_t b)
{
	#pragma omp simd
	for (size_t i = a; i < b; i++) {
		R x = in[i];
		R s = 1 / (1 + EXP(-2 * GELU_K * (x + GELU_C * x * x * x)));
		R g = s + 2 * x * s * (1 - s) * GELU_K * (1 + 3 * GELU_C * x * x);
		din[i] += g * dout[i];
	}
}

void
nn_gelu_forward(R *out, const R *in, size_t n)
{
	#pragma omp parallel
	{
		size_t a, b;
		splitz(n, &a, &b);
		gelu_forward_range(out, in, a, b);
	}
}

/* din += gelu'(in) * dout */
void
nn_gelu_backward(R *din, const R *in, const R *dout, size_t n)
{
	#pragma omp parallel
	{
		size_t a, b;
		splitz(n, &a, &b);
		gelu_backward_range(din, in, dout, a, b);
	}
}

/* ---- multi-head self-attention ------------------------------------------
 * qkv [B,N,3d] (q heads, k heads, v heads), kmask [B,N] 1 = key usable (NULL:
 * all), att [B,H,N,N] probabilities, out [B,N,d].  Scores scaled 1/sqrt(d/H),
 * softmax with max subtraction; masked keys get probability 0. */

/* One softmax row with max subtraction; masked keys (km[j] == 0) get 0. */
CLONES static void
softmax_row(R *p, const uint8_t *km, int N)
{
	R mx = -INFINITY, sum = 0;
	if (km) {
		for (int j = 0; j < N; j++)
			if (km[j] && p[j] > mx)
				mx = p[j];
	} else {
		#pragma omp simd reduction(max:mx)
		for (int j = 0; j < N; j++)
			mx = p[j] > mx ? p[j] : mx;
	}
	if (mx == -INFINITY) {
		memset(p, 0, (size_t)N * sizeof *p);
		return;
	}
	if (km) {
		#pragma omp simd reduction(+:sum)
		for (int j = 0; j < N; j++) {
			R e = km[j] ? EXP(p[j] - mx) : 0;
			p[j] = e;
			sum += e;
		}
	} else {
		#pragma omp simd reduction(+:sum)
		for (int j = 0; j < N; j++) {
			R e = EXP(p[j] - mx);
			p[j] = e;
			sum += e;
		}
	}
	R inv = 1 / sum;
	#pragma omp simd
	for (int j = 0; j < N; j++)
		p[j] *= inv;
}

/* May the query of token q attend to the key of token k (tokens lead*nt + t)? */
static inline int
attn_allowed(int kind, int nt, int q, int k)
{
	return kind == NN_ATTN_ALL || ((kind & NN_ATTN_SAME_LEAD) && q / nt == k / nt) ||
	       ((kind & NN_ATTN_SAME_TIME) && q % nt == k % nt);
}

/* softmax_row over the keys the query of token tq may attend to under m
 * (keys are tokens tok[j], or j without tok) and kmask km; the others 0. */
static void
softmax_row_masked(R *p, const uint8_t *km, const nn_attn_mask *m, const int32_t *tok, int tq,
		   int N)
{
	R mx = -INFINITY, sum = 0;
	for (int j = 0; j < N; j++)
		if ((!km || km[j]) && attn_allowed(m->kind, m->nt, tq, tok ? tok[j] : j) && p[j] > mx)
			mx = p[j];
	if (mx == -INFINITY) {
		memset(p, 0, (size_t)N * sizeof *p);
		return;
	}
	for (int j = 0; j < N; j++) {
		int ok = (!km || km[j]) && attn_allowed(m->kind, m->nt, tq, tok ? tok[j] : j);
		R e = ok ? EXP(p[j] - mx) : 0;
		p[j] = e;
		sum += e;
	}
	R inv = 1 / sum;
	for (int j = 0; j < N; j++)
		p[j] *= inv;
}

/* The sequences attention runs on: sequence s (0 <= s < B*per) is len rows
 * of qkv (and of out), every stride-th from row (s/per)*N + (s%per)*step.
 * Full: the B records.  A time-wise mask without tok: the B*leads groups
 * of a lead's nt consecutive tokens; lead-wise: the B*nt groups of a time
 * step's tokens, nt rows apart.  cross: criss-cross without tok, by
 * cross_forward.  masked: the structure is applied to the probabilities
 * of full attention instead. */
typedef struct {
	int per, step, stride, len;
	const nn_attn_mask *masked;
	int cross;              /* gathered criss-cross (cross_forward) */
} attn_seqs;

static attn_seqs
attn_seqs_of(const nn_attn_mask *m, int N)
{
	if (!m || m->kind == NN_ATTN_ALL)
		return (attn_seqs){ 1, 0, 1, N, NULL, 0 };
	if (!m->tok && m->kind == NN_ATTN_SAME_LEAD)
		return (attn_seqs){ N / m->nt, m->nt, 1, m->nt, NULL, 0 };
	if (!m->tok && m->kind == NN_ATTN_SAME_TIME)
		return (attn_seqs){ m->nt, 1, m->nt, N / m->nt, NULL, 0 };
	if (!m->tok && m->kind == NN_ATTN_CROSS && m->nt > 1 && N / m->nt > 1)
		return (attn_seqs){ 1, 0, 1, N, NULL, 1 };  /* fits in N*N */
	return (attn_seqs){ 1, 0, 1, N, m, 0 };
}

/*
 * Criss-cross attention over a record's N = L*nt tokens in order (token
 * l*nt + t), gathered: the keys of query (l, t) are the nt tokens of lead
 * l and the L - 1 other tokens of time step t, so the scores are PA[l]
 * [nt, nt] (lead l's tokens among themselves) and PB[t] [L, L] (time t's
 * tokens, nt rows apart), one softmax over the query's row of PA[l] and
 * its row of PB[t] without the self entry (already in PA, kept 0 in PB).
 * P holds PA then PB: L*nt*nt + nt*L*L <= N*N elements.  One head h of one
 * record (qkv and out at the record's first row).
 */
static size_t
cross_size(int N, int nt)
{
	size_t L = (size_t)(N / nt);
	return L * nt * nt + nt * L * L;
}

/* The two families of groups: the L leads (nt consecutive rows each), the
 * nt time steps (L rows, nt apart).  Group g's rows are g*step + k*stride,
 * its probabilities [len, len] at P + off + g*len*len. */
typedef struct {
	int count, len, step, stride;
	size_t off;
} cross_family;

static void
cross_families(cross_family f[2], int N, int nt)
{
	int L = N / nt;
	f[0] = (cross_family){ L, nt, nt, 1, 0 };
	f[1] = (cross_family){ nt, L, 1, nt, (size_t)L * nt * nt };
}

CLONES static void
cross_softmax(R *ra, R *rb, int nt, int L, int self)
{
	R mx = -INFINITY, sum = 0;
	for (int j = 0; j < nt; j++)
		mx = ra[j] > mx ? ra[j] : mx;
	for (int j = 0; j < L; j++)
		if (j != self && rb[j] > mx)
			mx = rb[j];
	for (int j = 0; j < nt; j++) {
		ra[j] = EXP(ra[j] - mx);
		sum += ra[j];
	}
	for (int j = 0; j < L; j++) {
		rb[j] = j == self ? 0 : EXP(rb[j] - mx);
		sum += rb[j];
	}
	R inv = 1 / sum;
	for (int j = 0; j < nt; j++)
		ra[j] *= inv;
	for (int j = 0; j < L; j++)
		rb[j] *= inv;
}

static void
cross_forward(const void *gc, R *out, R *P, const R *qkv, int N, int nt, int d, int h, int hd,
	      R scale)
{
	int L = N / nt, d3 = 3 * d;
	cross_family fam[2];
	cross_families(fam, N, nt);
	const R *Q = qkv + h * hd, *K = Q + d, *V = Q + 2 * d;
	R *Y = out + h * hd;
	for (int k = 0; k < 2; k++) {
		const cross_family *f = &fam[k];
		for (int g = 0; g < f->count; g++) {
			size_t r = (size_t)g * f->step;
			SMM(gc, 0, 1, f->len, f->len, hd, scale,
			     Q + r * d3, f->stride * d3, K + r * d3, f->stride * d3, 0,
			     P + f->off + (size_t)g * f->len * f->len, f->len);
		}
	}
	for (int l = 0; l < L; l++)
		for (int t = 0; t < nt; t++)
			cross_softmax(P + ((size_t)l * nt + t) * nt,
				      P + fam[1].off + ((size_t)t * L + l) * L, nt, L, l);
	/* Y = PA V over the leads, then += PB V over the time steps */
	for (int k = 0; k < 2; k++) {
		const cross_family *f = &fam[k];
		for (int g = 0; g < f->count; g++) {
			size_t r = (size_t)g * f->step;
			SMM(gc, 0, 0, f->len, hd, f->len, 1,
			     P + f->off + (size_t)g * f->len * f->len, f->len, V + r * d3,
			     f->stride * d3, k, Y + r * d, f->stride * d);
		}
	}
}

/* Backward of cross_forward: dqkv += ...; dP scratch of cross_size. */
static void
cross_backward(const void *gc, R *dqkv, R *dP, const R *dout, const R *qkv, const R *P, int N,
	       int nt, int d, int h, int hd, R scale)
{
	int L = N / nt, d3 = 3 * d;
	cross_family fam[2];
	cross_families(fam, N, nt);
	const R *Q = qkv + h * hd, *K = Q + d, *V = Q + 2 * d, *dY = dout + h * hd;
	R *dQ = dqkv + h * hd, *dK = dQ + d, *dV = dQ + 2 * d;
	for (int k = 0; k < 2; k++) {
		const cross_family *f = &fam[k];
		int ld = f->stride * d, ld3 = f->stride * d3;
		for (int g = 0; g < f->count; g++) {
			size_t r = (size_t)g * f->step, o = f->off + (size_t)g * f->len * f->len;
			SMM(gc, 0, 1, f->len, f->len, hd, 1, dY + r * d,
			     ld, V + r * d3, ld3, 0, dP + o, f->len);
			SMM(gc, 1, 0, f->len, hd, f->len, 1, P + o,
			     f->len, dY + r * d, ld, 1, dV + r * d3, ld3);
		}
	}
	/* softmax backward over each query's joint row */
	for (int l = 0; l < L; l++)
		for (int t = 0; t < nt; t++) {
			size_t ia = ((size_t)l * nt + t) * nt, ib = fam[1].off + ((size_t)t * L + l) * L;
			const R *pa = P + ia, *pb = P + ib;
			R *ga = dP + ia, *gb = dP + ib, dot = 0;
			for (int j = 0; j < nt; j++)
				dot += pa[j] * ga[j];
			for (int j = 0; j < L; j++)
				dot += pb[j] * gb[j];
			for (int j = 0; j < nt; j++)
				ga[j] = pa[j] * (ga[j] - dot) * scale;
			for (int j = 0; j < L; j++)
				gb[j] = pb[j] * (gb[j] - dot) * scale;
		}
	for (int k = 0; k < 2; k++) {
		const cross_family *f = &fam[k];
		int ld3 = f->stride * d3;
		for (int g = 0; g < f->count; g++) {
			size_t r = (size_t)g * f->step, o = f->off + (size_t)g * f->len * f->len;
			SMM(gc, 0, 0, f->len, hd, f->len, 1, dP + o,
			     f->len, K + r * d3, ld3, 1, dQ + r * d3, ld3);
			SMM(gc, 1, 0, f->len, hd, f->len, 1, dP + o,
			     f->len, Q + r * d3, ld3, 1, dK + r * d3, ld3);
		}
	}
}

/* Per (sequence, head): S = scale Q K^T, softmax, Y = P V, each product a
 * single-threaded gemm on strided views of qkv.  nslots 0: att keeps every
 * P (sequence s, head h at (s*H + h)*len*len) for backward; nslots > 0
 * (inference): att is nslots N*N blocks, one per thread, so P stays in
 * cache. */
static void
attn_forward_slots(R *out, R *att, const R *qkv, const uint8_t *kmask, const nn_attn_mask *m,
		   int B, int N, int d, int H, int nslots)
{
	int hd = d / H, d3 = 3 * d;
	attn_seqs q = attn_seqs_of(m, N);
	int S = B * q.per, len = q.len;
	size_t blk = q.cross ? cross_size(N, m->nt) : (size_t)len * len;
	R scale = 1 / sqrt((R)hd);
	MM_CTX(gc);
	#pragma omp parallel for collapse(2) schedule(static) num_threads(nslots ? nslots : omp_get_max_threads())
	for (int s = 0; s < S; s++)
		for (int h = 0; h < H; h++) {
			int b = s / q.per;
			size_t row = (size_t)b * N + (size_t)(s % q.per) * q.step;
			const R *Q = qkv + row * d3 + h * hd, *K = Q + d, *V = Q + 2 * d;
			R *P = nslots ? att + (size_t)omp_get_thread_num() * N * N
				      : att + ((size_t)s * H + h) * blk;
			if (q.cross) {
				cross_forward(gc, out + row * d, P, qkv + row * d3, N, m->nt, d, h, hd, scale);
				continue;
			}
			const uint8_t *km = kmask ? kmask + (size_t)b * N : NULL;
			const int32_t *tok = q.masked && q.masked->tok ? q.masked->tok + (size_t)b * N
								       : NULL;
			SMM(gc, 0, 1, len, len, hd, scale, Q,
			     q.stride * d3, K, q.stride * d3, 0, P, len);
			for (int i = 0; i < len; i++) {
				if (q.masked)
					softmax_row_masked(P + (size_t)i * len, km, q.masked, tok,
							   tok ? tok[i] : i, len);
				else
					softmax_row(P + (size_t)i * len, km, len);
			}
			SMM(gc, 0, 0, len, hd, len, 1, P, len, V,
			     q.stride * d3, 0, out + row * d + h * hd, q.stride * d);
		}
}

void
nn_attn_forward(R *out, R *att, const R *qkv, const uint8_t *kmask, const nn_attn_mask *mask,
		int B, int N, int d, int H)
{
	attn_forward_slots(out, att, qkv, kmask, mask, B, N, d, H, 0);
}

/* dqkv [B,N,3d] += gradient from dout [B,N,d], on the sequences of the
 * forward pass; scr holds nscr N*N blocks (dP of one head, one per
 * thread).  Masked keys have probability 0, so their scores get no
 * gradient without looking at the mask. */
void
nn_attn_backward(R *dqkv, const R *dout, const R *qkv, const R *att, const nn_attn_mask *mask,
		 int B, int N, int d, int H, R *scr, int nscr)
{
	int hd = d / H, d3 = 3 * d;
	attn_seqs q = attn_seqs_of(mask, N);
	int S = B * q.per, len = q.len, ld3 = q.stride * d3, ld = q.stride * d;
	size_t blk = q.cross ? cross_size(N, mask->nt) : (size_t)len * len;
	R scale = 1 / sqrt((R)hd);
	MM_CTX(gc);
	#pragma omp parallel for collapse(2) schedule(static) num_threads(nscr)
	for (int s = 0; s < S; s++)
		for (int h = 0; h < H; h++) {
			R *dP = scr + (size_t)omp_get_thread_num() * N * N;
			size_t row = (size_t)(s / q.per) * N + (size_t)(s % q.per) * q.step;
			const R *P = att + ((size_t)s * H + h) * blk;
			if (q.cross) {
				cross_backward(gc, dqkv + row * d3, dP, dout + row * d, qkv + row * d3, P, N,
					       mask->nt, d, h, hd, scale);
				continue;
			}
			size_t o = row * d3 + h * hd;
			const R *Q = qkv + o, *K = Q + d, *V = Q + 2 * d;
			R *dQ = dqkv + o, *dK = dQ + d, *dV = dQ + 2 * d;
			const R *dY = dout + row * d + h * hd;
			SMM(gc, 0, 1, len, len, hd, 1, dY, ld, V, ld3, 0,
			     dP, len);
			SMM(gc, 1, 0, len, hd, len, 1, P, len, dY, ld, 1,
			     dV, ld3);
			for (int i = 0; i < len; i++) {
				const R *p = P + (size_t)i * len;
				R *g = dP + (size_t)i * len, dot = 0;
				#pragma omp simd reduction(+:dot)
				for (int j = 0; j < len; j++)
					dot += p[j] * g[j];
				#pragma omp simd
				for (int j = 0; j < len; j++)
					g[j] = p[j] * (g[j] - dot) * scale;
			}
			SMM(gc, 0, 0, len, hd, len, 1, dP, len, K, ld3,
			     1, dQ, ld3);
			SMM(gc, 1, 0, len, hd, len, 1, dP, len, Q, ld3, 1,
			     dK, ld3);
		}
}

/* Naive references of the two above (tests compare them). */
void
nn_attn_forward_naive(R *out, R *att, const R *qkv, const uint8_t *kmask, const nn_attn_mask *m,
		      int B, int N, int d, int H)
{
	int hd = d / H, d3 = 3 * d;
	R scale = 1 / sqrt((R)hd);
	#pragma omp parallel for collapse(2) schedule(static)
	for (int b = 0; b < B; b++)
		for (int h = 0; h < H; h++) {
			const R *base = qkv + (size_t)b * N * d3;
			R *P = att + ((size_t)b * H + h) * N * N;
			for (int i = 0; i < N; i++) {
				const R *q = base + (size_t)i * d3 + h * hd;
				R *p = P + (size_t)i * N, mx = -INFINITY, sum = 0;
				for (int j = 0; j < N; j++) {
					const int32_t *tk = m && m->tok ? m->tok + (size_t)b * N : NULL;
					if ((kmask && !kmask[(size_t)b * N + j]) ||
					    (m && !attn_allowed(m->kind, m->nt, tk ? tk[i] : i,
								tk ? tk[j] : j))) {
						p[j] = -INFINITY;
						continue;
					}
					const R *k = base + (size_t)j * d3 + d + h * hd;
					R s = 0;
					#pragma omp simd reduction(+:s)
					for (int c = 0; c < hd; c++)
						s += q[c] * k[c];
					p[j] = s * scale;
					if (p[j] > mx)
						mx = p[j];
				}
				for (int j = 0; j < N; j++) {
					R e = p[j] == -INFINITY ? 0 : exp(p[j] - mx);
					p[j] = e;
					sum += e;
				}
				R inv = sum > 0 ? 1 / sum : 0;
				R *y = out + ((size_t)b * N + i) * d + h * hd;
				for (int c = 0; c < hd; c++)
					y[c] = 0;
				for (int j = 0; j < N; j++) {
					p[j] *= inv;
					R pj = p[j];
					const R *v = base + (size_t)j * d3 + 2 * d + h * hd;
					#pragma omp simd
					for (int c = 0; c < hd; c++)
						y[c] += pj * v[c];
				}
			}
		}
}

void
nn_attn_backward_naive(R *dqkv, const R *dout, const R *qkv, const R *att, int B, int N, int d,
		       int H)
{
	int hd = d / H, d3 = 3 * d;
	R scale = 1 / sqrt((R)hd);
	#pragma omp parallel for collapse(2) schedule(static)
	for (int b = 0; b < B; b++)
		for (int h = 0; h < H; h++) {
			R dp[N];
			const R *base = qkv + (size_t)b * N * d3;
			R *dbase = dqkv + (size_t)b * N * d3;
			const R *P = att + ((size_t)b * H + h) * N * N;
			for (int i = 0; i < N; i++) {
				const R *p = P + (size_t)i * N;
				const R *dy = dout + ((size_t)b * N + i) * d + h * hd;
				const R *q = base + (size_t)i * d3 + h * hd;
				R *dq = dbase + (size_t)i * d3 + h * hd;
				R dot = 0;
				for (int j = 0; j < N; j++) {
					const R *v = base + (size_t)j * d3 + 2 * d + h * hd;
					R *dv = dbase + (size_t)j * d3 + 2 * d + h * hd;
					R s = 0, pj = p[j];
					#pragma omp simd reduction(+:s)
					for (int c = 0; c < hd; c++) {
						s += dy[c] * v[c];
						dv[c] += pj * dy[c];
					}
					dp[j] = s;
					dot += pj * s;
				}
				for (int j = 0; j < N; j++) {
					R ds = p[j] * (dp[j] - dot) * scale;
					if (ds == 0)
						continue;
					const R *k = base + (size_t)j * d3 + d + h * hd;
					R *dk = dbase + (size_t)j * d3 + d + h * hd;
					#pragma omp simd
					for (int c = 0; c < hd; c++) {
						dq[c] += ds * k[c];
						dk[c] += ds * q[c];
					}
				}
			}
		}
}

/* ---- L2 normalisation, contrastive loss, masked MSE, pooling ----------- */

#define L2_EPS ((R)1e-12)

void
nn_l2norm_forward(R *y, R *norm, const R *x, int B, int C)
{
	for (int b = 0; b < B; b++) {
		R s = 0;
		for (int c = 0; c < C; c++)
			s += x[(size_t)b * C + c] * x[(size_t)b * C + c];
		R n = sqrt(s), den = n > L2_EPS ? n : L2_EPS;
		norm[b] = n;
		for (int c = 0; c < C; c++)
			y[(size_t)b * C + c] = x[(size_t)b * C + c] / den;
	}
}

void
nn_l2norm_backward(R *dx, const R *dy, const R *y, const R *norm, int B, int C)
{
	for (int b = 0; b < B; b++) {
		const R *yb = y + (size_t)b * C, *g = dy + (size_t)b * C;
		R *d = dx + (size_t)b * C;
		if (norm[b] > L2_EPS) {
			R dot = 0;
			for (int c = 0; c < C; c++)
				dot += yb[c] * g[c];
			for (int c = 0; c < C; c++)
				d[c] += (g[c] - yb[c] * dot) / norm[b];
		} else {
			for (int c = 0; c < C; c++)
				d[c] += g[c] / L2_EPS;
		}
	}
}

#define LN100 4.605170185988092

double
nn_infonce_forward(R *logits, R *prow, R *pcol, const R *en, const R *tn, R s, int B, int C)
{
	R sc = exp(s < (R)LN100 ? s : (R)LN100);
	for (int i = 0; i < B; i++)
		for (int j = 0; j < B; j++) {
			R dot = 0;
			for (int c = 0; c < C; c++)
				dot += en[(size_t)i * C + c] * tn[(size_t)j * C + c];
			logits[(size_t)i * B + j] = sc * dot;
		}
	double loss = 0;
	for (int pass = 0; pass < 2; pass++) {
		/* pass 0: rows (ECG -> text), pass 1: columns (text -> ECG) */
		R *pr = pass ? pcol : prow;
		for (int i = 0; i < B; i++) {
			size_t st = pass ? (size_t)B : 1, o = pass ? (size_t)i : (size_t)i * B;
			R mx = -INFINITY;
			for (int j = 0; j < B; j++)
				if (logits[o + j * st] > mx)
					mx = logits[o + j * st];
			double sum = 0;
			for (int j = 0; j < B; j++)
				sum += exp((double)(logits[o + j * st] - mx));
			for (int j = 0; j < B; j++)
				pr[o + j * st] = (R)(exp((double)(logits[o + j * st] - mx)) / sum);
			loss += log(sum) + mx - logits[(size_t)i * B + i];
		}
	}
	return loss / (2.0 * B);
}

void
nn_infonce_backward(R *den, R *dtn, R *ds, const R *logits, const R *prow, const R *pcol,
		    const R *en, const R *tn, R s, double dl, int B, int C)
{
	R sc = exp(s < (R)LN100 ? s : (R)LN100);
	R k = (R)(dl * 0.5 / B), dss = 0;
	for (int i = 0; i < B; i++)
		for (int j = 0; j < B; j++) {
			size_t ij = (size_t)i * B + j;
			R g = k * (prow[ij] + pcol[ij] - (i == j ? 2 : 0));
			dss += g * logits[ij];
			for (int c = 0; c < C; c++) {
				den[(size_t)i * C + c] += sc * g * tn[(size_t)j * C + c];
				dtn[(size_t)j * C + c] += sc * g * en[(size_t)i * C + c];
			}
		}
	if (s <= (R)LN100)
		*ds += dss;
}

double
nn_mse_forward(const R *pred, const R *target, const double *w, int M, int P)
{
	double loss = 0;
	for (int m = 0; m < M; m++) {
		if (w[m] == 0)
			continue;
		double s = 0;
		for (int j = 0; j < P; j++) {
			double e = (double)pred[(size_t)m * P + j] - target[(size_t)m * P + j];
			s += e * e;
		}
		loss += w[m] * s / P;
	}
	return loss;
}

void
nn_mse_backward(R *dpred, const R *pred, const R *target, const double *w, double dl, int M,
		int P)
{
	#pragma omp parallel for schedule(static)
	for (int m = 0; m < M; m++) {
		if (w[m] == 0)
			continue;
		R k = (R)(dl * w[m] * 2.0 / P);
		for (int j = 0; j < P; j++)
			dpred[(size_t)m * P + j] += k * (pred[(size_t)m * P + j] -
							 target[(size_t)m * P + j]);
	}
}

void
nn_pool_forward(R *out, const R *in, const uint8_t *mask, int B, int N, int C)
{
	for (int b = 0; b < B; b++) {
		R *o = out + (size_t)b * C;
		int cnt = 0;
		for (int c = 0; c < C; c++)
			o[c] = 0;
		for (int n = 0; n < N; n++) {
			if (mask && !mask[(size_t)b * N + n])
				continue;
			cnt++;
			const R *x = in + ((size_t)b * N + n) * C;
			for (int c = 0; c < C; c++)
				o[c] += x[c];
		}
		for (int c = 0; c < C; c++)
			o[c] = cnt ? o[c] / cnt : 0;
	}
}

void
nn_pool_backward(R *din, const R *dout, const uint8_t *mask, int B, int N, int C)
{
	for (int b = 0; b < B; b++) {
		int cnt = 0;
		for (int n = 0; n < N; n++)
			cnt += !mask || mask[(size_t)b * N + n];
		if (!cnt)
			continue;
		for (int n = 0; n < N; n++) {
			if (mask && !mask[(size_t)b * N + n])
				continue;
			R *d = din + ((size_t)b * N + n) * C;
			for (int c = 0; c < C; c++)
				d[c] += dout[(size_t)b * C + c] / cnt;
		}
	}
}


/* ---- parameter layout ---------------------------------------------------- */

typedef struct {
	nn_table *t;
	R *base;
	size_t off;
	int err;
} lctx;

static R *
take_param(lctx *L, int branch, int init, int ndim, int64_t s0, int64_t s1,
	   const char *fmt, ...)
{
	size_t n = (size_t)s0 * (ndim == 2 ? (size_t)s1 : 1);
	R *p = L->base ? L->base + L->off : NULL;
	if (L->t) {
		if (L->t->n == L->t->cap) {
			size_t cap = L->t->cap ? 2 * L->t->cap : 64;
			nn_entry *e = realloc(L->t->e, cap * sizeof *e);
			if (!e) {
				L->err = MRT_ENOMEM;
				return p;
			}
			L->t->e = e;
			L->t->cap = cap;
		}
		nn_entry *e = &L->t->e[L->t->n++];
		memset(e, 0, sizeof *e);
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->name, sizeof e->name, fmt, ap);
		va_end(ap);
		e->ndim = ndim;
		e->shape[0] = s0;
		e->shape[1] = ndim == 2 ? s1 : 0;
		e->off = L->off;
		e->n = n;
		size_t len = strlen(e->name);
		e->decay = ndim == 2 && len > 7 && !strcmp(e->name + len - 7, ".weight");
		e->branch = branch;
		e->init = init;
		e->fixed = init == NN_INIT_SINCOS;
		L->t->total = L->off + n;
	}
	L->off += n;
	return p;
}

static void
take_block(lctx *L, nn_block_params *b, const char *pre, int i, int d, int mlp, int br)
{
	b->ln1w = take_param(L, br, NN_INIT_ONE, 1, d, 0, "%s.blocks.%d.ln1.weight", pre, i);
	b->ln1b = take_param(L, br, NN_INIT_ZERO, 1, d, 0, "%s.blocks.%d.ln1.bias", pre, i);
	b->qkvw = take_param(L, br, NN_INIT_NORMAL, 2, 3 * d, d, "%s.blocks.%d.attn.qkv.weight", pre, i);
	b->qkvb = take_param(L, br, NN_INIT_ZERO, 1, 3 * d, 0, "%s.blocks.%d.attn.qkv.bias", pre, i);
	b->projw = take_param(L, br, NN_INIT_NORMAL, 2, d, d, "%s.blocks.%d.attn.proj.weight", pre, i);
	b->projb = take_param(L, br, NN_INIT_ZERO, 1, d, 0, "%s.blocks.%d.attn.proj.bias", pre, i);
	b->ln2w = take_param(L, br, NN_INIT_ONE, 1, d, 0, "%s.blocks.%d.ln2.weight", pre, i);
	b->ln2b = take_param(L, br, NN_INIT_ZERO, 1, d, 0, "%s.blocks.%d.ln2.bias", pre, i);
	b->fc1w = take_param(L, br, NN_INIT_NORMAL, 2, mlp, d, "%s.blocks.%d.mlp.fc1.weight", pre, i);
	b->fc1b = take_param(L, br, NN_INIT_ZERO, 1, mlp, 0, "%s.blocks.%d.mlp.fc1.bias", pre, i);
	b->fc2w = take_param(L, br, NN_INIT_NORMAL, 2, d, mlp, "%s.blocks.%d.mlp.fc2.weight", pre, i);
	b->fc2b = take_param(L, br, NN_INIT_ZERO, 1, d, 0, "%s.blocks.%d.mlp.fc2.bias", pre, i);
}

int
nn_layout(const mrt_nn_config *c, R *base, nn_params *p, nn_table *t)
{
	lctx L = { t, base, 0, 0 };
	nn_params dummy;
	int nt = mrt_nn_ntime(c), d = c->ecg_d, dd = c->dec_d, td = c->txt_d;
	if (!p)
		p = &dummy;
	memset(p, 0, sizeof *p);
	p->patch_w = take_param(&L, NN_SHARED, NN_INIT_NORMAL, 2, d, c->patch, "ecg.patch.weight");
	p->patch_b = take_param(&L, NN_SHARED, NN_INIT_ZERO, 1, d, 0, "ecg.patch.bias");
	int tinit = c->pos == MRT_NN_POS_SINCOS ? NN_INIT_SINCOS : NN_INIT_NORMAL;
	p->etime = take_param(&L, NN_SHARED, tinit, 2, nt, d, "ecg.time_pos");
	p->elead = take_param(&L, NN_SHARED, NN_INIT_NORMAL, 2, c->leads, d, "ecg.lead_emb");
	for (int i = 0; i < c->ecg_layers; i++)
		take_block(&L, &p->eb[i], "ecg", i, d, c->ecg_mlp, NN_SHARED);
	p->eln_w = take_param(&L, NN_SHARED, NN_INIT_ONE, 1, d, 0, "ecg.ln.weight");
	p->eln_b = take_param(&L, NN_SHARED, NN_INIT_ZERO, 1, d, 0, "ecg.ln.bias");
	p->eproj = take_param(&L, NN_CMA, NN_INIT_NORMAL, 2, c->proj, d, "ecg.proj.weight");
	p->din_w = take_param(&L, NN_REC, NN_INIT_NORMAL, 2, dd, d, "dec.in.weight");
	p->din_b = take_param(&L, NN_REC, NN_INIT_ZERO, 1, dd, 0, "dec.in.bias");
	p->mask_tok = take_param(&L, NN_REC, NN_INIT_NORMAL, 1, dd, 0, "dec.mask_token");
	p->dtime = take_param(&L, NN_REC, tinit, 2, nt, dd, "dec.time_pos");
	p->dlead = take_param(&L, NN_REC, NN_INIT_NORMAL, 2, c->leads, dd, "dec.lead_emb");
	for (int i = 0; i < c->dec_layers; i++)
		take_block(&L, &p->db[i], "dec", i, dd, c->dec_mlp, NN_REC);
	p->dln_w = take_param(&L, NN_REC, NN_INIT_ONE, 1, dd, 0, "dec.ln.weight");
	p->dln_b = take_param(&L, NN_REC, NN_INIT_ZERO, 1, dd, 0, "dec.ln.bias");
	p->dout_w = take_param(&L, NN_REC, NN_INIT_NORMAL, 2, c->patch, dd, "dec.out.weight");
	p->dout_b = take_param(&L, NN_REC, NN_INIT_ZERO, 1, c->patch, 0, "dec.out.bias");
	p->tok_emb = take_param(&L, NN_CMA, NN_INIT_NORMAL, 2, c->txt_vocab, td, "txt.tok_emb");
	p->tpos = take_param(&L, NN_CMA, NN_INIT_NORMAL, 2, c->txt_len, td, "txt.pos");
	for (int i = 0; i < c->txt_layers; i++)
		take_block(&L, &p->tb[i], "txt", i, td, c->txt_mlp, NN_CMA);
	p->tln_w = take_param(&L, NN_CMA, NN_INIT_ONE, 1, td, 0, "txt.ln.weight");
	p->tln_b = take_param(&L, NN_CMA, NN_INIT_ZERO, 1, td, 0, "txt.ln.bias");
	p->tproj = take_param(&L, NN_CMA, NN_INIT_NORMAL, 2, c->proj, td, "txt.proj.weight");
	p->logit_scale = take_param(&L, NN_CMA, NN_INIT_LOGIT, 1, 1, 0, "logit_scale");
	return L.err;
}


/* ---- towers ------------------------------------------------------------------ */

/* Lay out a tower's activations for B sequences of N tokens.  shared
 * (inference): every block uses block 0's buffers and attention keeps one
 * N*N block per thread instead of the probabilities. */
static void
tower_acts_layout(arena *A, nn_tower_acts *a, int B, int N, int d, int H, int mlp, int L,
		  int shared)
{
	size_t T = (size_t)B * N;
	a->B = B, a->N = N, a->d = d, a->H = H, a->mlp = mlp, a->L = L;
	a->nslots = shared ? omp_get_max_threads() : 0;
	a->x0 = take_buf(A, T * d);
	for (int l = 0; l < L; l++) {
		nn_block_acts *b = &a->b[l];
		if (shared && l > 0) {
			*b = a->b[0];
			continue;
		}
		/* one LayerNorm output buffer per tower, for ln1 and ln2 of every
		 * block: backward recomputes them from the kept mean and rstd */
		b->ln1 = l ? a->b[0].ln1 : take_buf(A, T * d);
		b->ln1m = take_buf(A, T);
		b->ln1r = take_buf(A, T);
		b->qkv = take_buf(A, T * 3 * d);
		b->att = take_buf(A, shared ? (size_t)a->nslots * N * N : T * N * H);
		b->atty = take_buf(A, T * d);
		b->res1 = take_buf(A, T * d);
		b->ln2 = b->ln1;
		b->ln2m = take_buf(A, T);
		b->ln2r = take_buf(A, T);
		b->fc1 = take_buf(A, T * mlp);
		/* one GELU output buffer per tower: backward recomputes it */
		b->gel = l ? a->b[0].gel : take_buf(A, T * mlp);
		b->out = take_buf(A, T * d);
	}
	a->lnf = take_buf(A, T * d);
	a->lnfm = take_buf(A, T);
	a->lnfr = take_buf(A, T);
}

/* The weights (p = the parameters) or gradients (p = the gradients) of a
 * tower. */
static nn_tower
tower_view(nn_params *p, const mrt_nn_config *c, enum nn_tower_id which)
{
	int nt = mrt_nn_ntime(c);
	switch (which) {
	case NN_TOWER_ECG:
		return (nn_tower){ c->ecg_layers, c->ecg_d, c->ecg_heads, c->ecg_mlp, c->enc_attn,
				   nt, p->eb, p->eln_w, p->eln_b };
	case NN_TOWER_DEC:
		return (nn_tower){ c->dec_layers, c->dec_d, c->dec_heads, c->dec_mlp, c->dec_attn,
				   nt, p->db, p->dln_w, p->dln_b };
	default:
		return (nn_tower){ c->txt_layers, c->txt_d, c->txt_heads, c->txt_mlp,
				   MRT_NN_ATTN_FULL, nt, p->tb, p->tln_w, p->tln_b };
	}
}

/* The attention structure of block l of a tower (MRT_NN_ATTN_* attn) whose
 * rows are the tokens tok [B, N] (NULL: row i is token i). */
static nn_attn_mask
block_mask(int attn, int nt, int l, const int32_t *tok)
{
	int kind = attn == MRT_NN_ATTN_CRISSCROSS ? NN_ATTN_CROSS :
		   attn == MRT_NN_ATTN_AXIAL ? (l % 2 ? NN_ATTN_SAME_TIME : NN_ATTN_SAME_LEAD) :
		   NN_ATTN_ALL;
	return (nn_attn_mask){ kind, nt, tok };
}

/* Blocks and final LayerNorm on a->x0 [B*N, d] into a->lnf; kmask [B, N]
 * the usable keys (NULL: all), tok [B, N] the ECG token of each row (NULL:
 * row i is token i) for a structured attention. */
static void
tower_forward(nn_tower_acts *a, const nn_tower *w, int B, const uint8_t *kmask,
	      const int32_t *tok)
{
	int N = a->N, d = w->d, mlp = w->mlp, T = B * N;
	const R *x = a->x0;
	for (int l = 0; l < w->L; l++) {
		nn_block_acts *b = &a->b[l];
		const nn_block_params *p = &w->b[l];
		nn_attn_mask am = block_mask(w->attn, w->nt, l, tok);
		nn_layernorm_forward(b->ln1, b->ln1m, b->ln1r, x, p->ln1w, p->ln1b, T, d);
		nn_linear_forward(b->qkv, b->ln1, p->qkvw, p->qkvb, T, d, 3 * d);
		attn_forward_slots(b->atty, b->att, b->qkv, kmask, &am, B, N, d, w->H, a->nslots);
		linear_forward_res(b->res1, b->atty, p->projw, p->projb, x, T, d, d);
		nn_layernorm_forward(b->ln2, b->ln2m, b->ln2r, b->res1, p->ln2w, p->ln2b, T, d);
		nn_linear_forward(b->fc1, b->ln2, p->fc1w, p->fc1b, T, d, mlp);
		nn_gelu_forward(b->gel, b->fc1, (size_t)T * mlp);
		/* b->out may alias x (inference): x is not read after res1 */
		linear_forward_res(b->out, b->gel, p->fc2w, p->fc2b, b->res1, T, mlp, d);
		x = b->out;
	}
	nn_layernorm_forward(a->lnf, a->lnfm, a->lnfr, x, w->lnw, w->lnb, T, d);
}

/* The activation gradients inside one block of T tokens: the scratch bscr
 * of tower_backward, cut in this order. */
typedef struct {
	R *dgel, *dfc1;                 /* [T,mlp] */
	R *dln2, *datty;                /* [T,d] */
	R *dqkv;                        /* [T,3d] */
	R *dln1;                        /* [T,d] */
} block_grads;

/* Cut bscr (base NULL: measure); returns the elements used. */
static size_t
block_grads_cut(block_grads *g, R *base, size_t T, int d, int mlp)
{
	arena A = { base, 0 };
	g->dgel = take_buf(&A, T * mlp);
	g->dfc1 = take_buf(&A, T * mlp);
	g->dln2 = take_buf(&A, T * d);
	g->datty = take_buf(&A, T * d);
	g->dqkv = take_buf(&A, T * 3 * d);
	g->dln1 = take_buf(&A, T * d);
	return A.off;
}

/* Backward of tower_forward from a->dlnf: accumulates into the tower's
 * gradients g and into a->dx, the gradient of x0 when it returns.  bscr:
 * the block scratch (zeroed here before each block), ascr: nscr N*N
 * attention blocks. */
static void
tower_backward(const nn_tower *g, nn_tower_acts *a, const nn_tower *w, int B, const int32_t *tok,
	       R *bscr, R *ascr, int nscr)
{
	int N = a->N, d = w->d, mlp = w->mlp, T = B * N;
	const R *xl = w->L ? a->b[w->L - 1].out : a->x0;
	R *dx = a->dx;
	nn_layernorm_backward(dx, g->lnw, g->lnb, a->dlnf, xl, a->lnfm, a->lnfr, w->lnw, T, d);
	for (int l = w->L - 1; l >= 0; l--) {
		nn_block_acts *b = &a->b[l];
		const nn_block_params *p = &w->b[l], *q = &g->b[l];
		const R *xin = l ? a->b[l - 1].out : a->x0;
		block_grads bg;
		zero(bscr, block_grads_cut(&bg, bscr, (size_t)T, d, mlp));
		/* dx is the gradient of b->out, which is also that of res1 */
		nn_gelu_forward(b->gel, b->fc1, (size_t)T * mlp);
		nn_linear_backward(bg.dgel, q->fc2w, q->fc2b, dx, b->gel, p->fc2w, T, mlp, d);
		nn_gelu_backward(bg.dfc1, b->fc1, bg.dgel, (size_t)T * mlp);
		layernorm_apply(b->ln2, b->res1, b->ln2m, b->ln2r, p->ln2w, p->ln2b, T, d);
		nn_linear_backward(bg.dln2, q->fc1w, q->fc1b, bg.dfc1, b->ln2, p->fc1w, T, d, mlp);
		nn_layernorm_backward(dx, q->ln2w, q->ln2b, bg.dln2, b->res1, b->ln2m, b->ln2r,
				      p->ln2w, T, d);
		nn_linear_backward(bg.datty, q->projw, q->projb, dx, b->atty, p->projw, T, d, d);
		nn_attn_mask am = block_mask(w->attn, w->nt, l, tok);
		nn_attn_backward(bg.dqkv, bg.datty, b->qkv, b->att, &am, B, N, d, w->H, ascr, nscr);
		layernorm_apply(b->ln1, xin, b->ln1m, b->ln1r, p->ln1w, p->ln1b, T, d);
		nn_linear_backward(bg.dln1, q->qkvw, q->qkvb, bg.dqkv, b->ln1, p->qkvw, T, d, 3 * d);
		nn_layernorm_backward(dx, q->ln1w, q->ln1b, bg.dln1, xin, b->ln1m, b->ln1r, p->ln1w,
				      T, d);
	}
}

/* ---- ECG input and embedding ------------------------------------------------ */

void
nn_normalise(const mrt_nn_config *c, const float *x, const uint8_t *missing, R *y,
	     uint8_t *valid)
{
	int S = c->samples, P = c->patch, nt = mrt_nn_ntime(c);
	for (int l = 0; l < c->leads; l++) {
		const float *xl = x + (size_t)l * S;
		R *yl = y + (size_t)l * S;
		double s = 0, v = 0;
		long cnt = 0;
		if (!missing || !missing[l])
			for (int i = 0; i < S; i++)
				if (isfinite(xl[i])) {
					s += xl[i];
					cnt++;
				}
		if (!cnt) {
			memset(yl, 0, (size_t)S * sizeof *yl);
			if (valid)
				memset(valid + (size_t)l * nt, 0, (size_t)nt);
			continue;
		}
		double mean = s / cnt;
		for (int i = 0; i < S; i++)
			if (isfinite(xl[i]))
				v += ((double)xl[i] - mean) * ((double)xl[i] - mean);
		double den = sqrt(v / cnt) + 1e-6;
		for (int i = 0; i < S; i++)
			yl[i] = isfinite(xl[i]) ? (R)(((double)xl[i] - mean) / den) : 0;
		if (valid)
			for (int t = 0; t < nt; t++) {
				int ok = 1;
				for (int i = 0; i < P; i++)
					ok &= isfinite(xl[t * P + i]) != 0;
				valid[(size_t)l * nt + t] = (uint8_t)ok;
			}
	}
}

/* Normalise B records into xn and gather the nv tokens of each (vis, or all
 * when vis is NULL) into pin/tokidx; isvis/valid [B*np] filled if given.
 * MRT_ERANGE or MRT_EINVAL (repeated index) for a bad vis. */
static int
ecg_prep(nn_net *n, const float *sig, const uint8_t *missing, const int32_t *vis, int B,
	 int nv, R *xn, R *pin, int32_t *tokidx, uint8_t *valid, uint8_t *isvis)
{
	const mrt_nn_config *c = &n->c;
	int S = c->samples, P = c->patch, np = n->np, LS = c->leads * S;
	#pragma omp parallel for schedule(static)
	for (int b = 0; b < B; b++)
		nn_normalise(c, sig + (size_t)b * LS, missing ? missing + (size_t)b * c->leads : NULL,
			     xn + (size_t)b * LS, valid ? valid + (size_t)b * np : NULL);
	if (isvis)
		memset(isvis, 0, (size_t)B * np);
	for (int b = 0; b < B; b++)
		for (int v = 0; v < nv; v++) {
			int tk = vis ? vis[(size_t)b * nv + v] : v;
			if (tk < 0 || tk >= np)
				return MRT_ERANGE;
			if (isvis) {
				if (isvis[(size_t)b * np + tk])
					return MRT_EINVAL;
				isvis[(size_t)b * np + tk] = 1;
			}
			tokidx[(size_t)b * nv + v] = tk;
			/* token tk = lead*nt + t starts at sample lead*S + t*P = tk*P */
			memcpy(pin + ((size_t)b * nv + v) * P, xn + (size_t)b * LS + (size_t)tk * P,
			       (size_t)P * sizeof *pin);
		}
	return 0;
}

/* x0 [T,d] = patch embedding of pin [T,P] + time_pos + lead_emb of the
 * token indices tokidx [T]. */
static void
ecg_embed_forward(R *x0, const R *pin, const int32_t *tokidx, const nn_params *p,
		  const mrt_nn_config *c, int T)
{
	int d = c->ecg_d, nt = mrt_nn_ntime(c);
	nn_linear_forward(x0, pin, p->patch_w, p->patch_b, T, c->patch, d);
	for (int r = 0; r < T; r++) {
		int tk = tokidx[r];
		const R *tp = p->etime + (size_t)(tk % nt) * d, *lp = p->elead + (size_t)(tk / nt) * d;
		R *x = x0 + (size_t)r * d;
		for (int i = 0; i < d; i++)
			x[i] += tp[i] + lp[i];
	}
}

static void
ecg_embed_backward(nn_params *g, const R *dx0, const R *pin, const int32_t *tokidx,
		   const nn_params *p, const mrt_nn_config *c, int T)
{
	int d = c->ecg_d, nt = mrt_nn_ntime(c), fixed = c->pos == MRT_NN_POS_SINCOS;
	nn_linear_backward(NULL, g->patch_w, g->patch_b, dx0, pin, p->patch_w, T, c->patch, d);
	for (int r = 0; r < T; r++) {
		int tk = tokidx[r];
		R *tp = fixed ? NULL : g->etime + (size_t)(tk % nt) * d;
		R *lp = g->elead + (size_t)(tk / nt) * d;
		const R *x = dx0 + (size_t)r * d;
		for (int i = 0; i < d; i++) {
			if (tp)
				tp[i] += x[i];
			lp[i] += x[i];
		}
	}
}

/* ---- decoder embedding ------------------------------------------------------
 * The decoder's input x0 [B*np, dd]: dec.in(enc) [B*nv, dd] at the visible
 * tokens (tokidx [B*nv], nv the visible tokens of a record: the model's
 * nvis, or fewer in a reconstruction from a lead subset), the mask token
 * at every other, plus time_pos and lead_emb of every token; dinout keeps
 * dec.in(enc). */

static void
dec_embed_forward(R *x0, R *dinout, const R *enc, const int32_t *tokidx, const nn_params *p,
		  const mrt_nn_config *c, int B, int nv)
{
	int nt = mrt_nn_ntime(c), np = mrt_nn_npatch(c), dd = c->dec_d;
	int Te = B * nv, Td = B * np;
	nn_linear_forward(dinout, enc, p->din_w, p->din_b, Te, c->ecg_d, dd);
	for (int r = 0; r < Td; r++)
		memcpy(x0 + (size_t)r * dd, p->mask_tok, (size_t)dd * sizeof *x0);
	for (int r = 0; r < Te; r++)
		memcpy(x0 + ((size_t)(r / nv) * np + tokidx[r]) * dd, dinout + (size_t)r * dd,
		       (size_t)dd * sizeof *x0);
	for (int r = 0; r < Td; r++) {
		int k = r % np;
		const R *tp = p->dtime + (size_t)(k % nt) * dd, *lp = p->dlead + (size_t)(k / nt) * dd;
		R *x = x0 + (size_t)r * dd;
		for (int i = 0; i < dd; i++)
			x[i] += tp[i] + lp[i];
	}
}

/* From dx0 [B*np, dd]: accumulates into the decoder embedding's gradients,
 * ddin [B*nv, dd] (the gradient of dinout) and denc [B*nv, ecg_d]. */
static void
dec_embed_backward(R *denc, R *ddin, nn_params *g, const R *dx0, const R *enc,
		   const int32_t *tokidx, const uint8_t *isvis, const nn_params *p,
		   const mrt_nn_config *c, int B, int nv)
{
	int nt = mrt_nn_ntime(c), np = mrt_nn_npatch(c), dd = c->dec_d;
	int Te = B * nv, Td = B * np, fixed = c->pos == MRT_NN_POS_SINCOS;
	for (int r = 0; r < Td; r++) {
		int k = r % np;
		R *tp = fixed ? NULL : g->dtime + (size_t)(k % nt) * dd;
		R *lp = g->dlead + (size_t)(k / nt) * dd;
		const R *x = dx0 + (size_t)r * dd;
		for (int i = 0; i < dd; i++) {
			if (tp)
				tp[i] += x[i];
			lp[i] += x[i];
		}
		if (!isvis[r])
			for (int i = 0; i < dd; i++)
				g->mask_tok[i] += x[i];
	}
	for (int r = 0; r < Te; r++) {
		const R *x = dx0 + ((size_t)(r / nv) * np + tokidx[r]) * dd;
		R *y = ddin + (size_t)r * dd;
		for (int i = 0; i < dd; i++)
			y[i] += x[i];
	}
	nn_linear_backward(denc, g->din_w, g->din_b, ddin, enc, p->din_w, Te, c->ecg_d, dd);
}

/* ---- text embedding ------------------------------------------------------------
 * x0 [B*L, td] = tok_emb[tok] + pos; kmask [B*L] = tok != 0; the ids are
 * kept in ids [B*L] (may be NULL) for backward. */

static int
text_embed_forward(R *x0, uint8_t *kmask, int32_t *ids, const int32_t *tok,
		   const nn_params *p, const mrt_nn_config *c, int B)
{
	int L = c->txt_len, d = c->txt_d;
	for (int b = 0; b < B; b++)
		for (int l = 0; l < L; l++) {
			int32_t id = tok[(size_t)b * L + l];
			if (id < 0 || id >= c->txt_vocab)
				return MRT_ERANGE;
			kmask[(size_t)b * L + l] = id != 0;
			const R *e = p->tok_emb + (size_t)id * d, *q = p->tpos + (size_t)l * d;
			R *x = x0 + ((size_t)b * L + l) * d;
			for (int i = 0; i < d; i++)
				x[i] = e[i] + q[i];
		}
	if (ids)
		memcpy(ids, tok, (size_t)B * L * sizeof *ids);
	return 0;
}

static void
text_embed_backward(nn_params *g, const R *dx0, const int32_t *ids, const mrt_nn_config *c,
		    int B)
{
	int L = c->txt_len, td = c->txt_d;
	for (int r = 0; r < B * L; r++) {
		R *te = g->tok_emb + (size_t)ids[r] * td, *tq = g->tpos + (size_t)(r % L) * td;
		const R *x = dx0 + (size_t)r * td;
		for (int i = 0; i < td; i++) {
			te[i] += x[i];
			tq[i] += x[i];
		}
	}
}

/* ---- the reconstruction branch ------------------------------------------------ */

/* Per-patch targets [B*np, P] from xn and the L_rec weights; returns the
 * number of patches in L_rec. */
static long
rec_targets(nn_net *n, int B, int raw)
{
	int P = n->c.patch, np = n->np;
	size_t M = (size_t)B * np;
	/* token k of record b starts at xn + b*leads*S + k*P = xn + (b*np + k)*P */
	#pragma omp parallel for schedule(static)
	for (size_t m = 0; m < M; m++) {
		const R *x = n->xn + m * P;
		R *y = n->target + m * P;
		if (raw) {
			memcpy(y, x, (size_t)P * sizeof *y);
			continue;
		}
		double s = 0, v = 0;
		for (int j = 0; j < P; j++)
			s += x[j];
		double mean = s / P;
		for (int j = 0; j < P; j++)
			v += ((double)x[j] - mean) * ((double)x[j] - mean);
		double den = sqrt(v / P) + 1e-6;
		for (int j = 0; j < P; j++)
			y[j] = (R)(((double)x[j] - mean) / den);
	}
	long cnt = 0;
	for (size_t m = 0; m < M; m++)
		cnt += !n->isvis[m] && n->valid[m];
	for (size_t m = 0; m < M; m++)
		n->wrec[m] = !n->isvis[m] && n->valid[m] ? 1.0 / cnt : 0;
	return cnt;
}

/* Decoder embedding, decoder, dec.out, L_rec; *nrec gets the patch count. */
static double
rec_forward(nn_net *n, int B, int raw, long *nrec)
{
	const mrt_nn_config *c = &n->c;
	nn_tower_acts *a = &n->ta[NN_TOWER_DEC];
	nn_tower w = tower_view(&n->p, c, NN_TOWER_DEC);
	int Td = B * n->np;
	dec_embed_forward(a->x0, n->dinout, n->ta[NN_TOWER_ECG].lnf, n->tokidx, &n->p, c, B,
			  n->nvis);
	tower_forward(a, &w, B, NULL, NULL);
	nn_linear_forward(n->pred, a->lnf, n->p.dout_w, n->p.dout_b, Td, c->dec_d, c->patch);
	*nrec = rec_targets(n, B, raw);
	return nn_mse_forward(n->pred, n->target, n->wrec, Td, c->patch);
}

static void
rec_backward(nn_net *n, int B, double lambda)
{
	const mrt_nn_config *c = &n->c;
	nn_tower_acts *a = &n->ta[NN_TOWER_DEC], *ea = &n->ta[NN_TOWER_ECG];
	nn_tower w = tower_view(&n->p, c, NN_TOWER_DEC), g = tower_view(&n->g, c, NN_TOWER_DEC);
	int Td = B * n->np;
	nn_mse_backward(n->dpred, n->pred, n->target, n->wrec, lambda, Td, c->patch);
	nn_linear_backward(a->dlnf, n->g.dout_w, n->g.dout_b, n->dpred, a->lnf, n->p.dout_w, Td,
			   c->dec_d, c->patch);
	tower_backward(&g, a, &w, B, NULL, n->bscr, n->ascr, n->nscr);
	dec_embed_backward(ea->dlnf, n->ddin, &n->g, a->dx, ea->lnf, n->tokidx, n->isvis, &n->p,
			   c, B, n->nvis);
}

/* ---- the contrastive branch ---------------------------------------------------- */

/* e = ecg.proj(mean of the encoder's tokens), the text tower on the
 * batch's reports (text_embed_forward done), t = txt.proj(mean over
 * non-padding tokens), both L2-normalised; L_cma. */
static double
cma_forward(nn_net *n, int B)
{
	const mrt_nn_config *c = &n->c;
	nn_tower_acts *ea = &n->ta[NN_TOWER_ECG], *a = &n->ta[NN_TOWER_TXT];
	nn_tower w = tower_view(&n->p, c, NN_TOWER_TXT);
	nn_pool_forward(n->h, ea->lnf, NULL, B, n->nvis, c->ecg_d);
	nn_linear_forward(n->e, n->h, n->p.eproj, NULL, B, c->ecg_d, c->proj);
	nn_l2norm_forward(n->en, n->enorm, n->e, B, c->proj);
	tower_forward(a, &w, B, n->kmask, NULL);
	nn_pool_forward(n->tp, a->lnf, n->kmask, B, c->txt_len, c->txt_d);
	nn_linear_forward(n->t, n->tp, n->p.tproj, NULL, B, c->txt_d, c->proj);
	nn_l2norm_forward(n->tn, n->tnorm, n->t, B, c->proj);
	if (n->cma_ext)         /* nn/dp.h: the caller computes L_cma */
		return 0;
	return nn_infonce_forward(n->logits, n->prow, n->pcol, n->en, n->tn, *n->p.logit_scale, B,
				  c->proj);
}

static void
cma_backward(nn_net *n, int B, double lambda)
{
	const mrt_nn_config *c = &n->c;
	nn_tower_acts *ea = &n->ta[NN_TOWER_ECG], *a = &n->ta[NN_TOWER_TXT];
	nn_tower w = tower_view(&n->p, c, NN_TOWER_TXT), g = tower_view(&n->g, c, NN_TOWER_TXT);
	int pr = c->proj;
	if (!n->cma_ext)        /* nn/dp.h: the caller set den, dtn and ds */
		nn_infonce_backward(n->den, n->dtn, n->g.logit_scale, n->logits, n->prow,
				    n->pcol, n->en, n->tn, *n->p.logit_scale, lambda, B, pr);
	nn_l2norm_backward(n->de, n->den, n->en, n->enorm, B, pr);
	nn_linear_backward(n->dh, n->g.eproj, NULL, n->de, n->h, n->p.eproj, B, c->ecg_d, pr);
	nn_pool_backward(ea->dlnf, n->dh, NULL, B, n->nvis, c->ecg_d);
	nn_l2norm_backward(n->dt, n->dtn, n->tn, n->tnorm, B, pr);
	nn_linear_backward(n->dtp, n->g.tproj, NULL, n->dt, n->tp, n->p.tproj, B, c->txt_d, pr);
	nn_pool_backward(a->dlnf, n->dtp, n->kmask, B, c->txt_len, c->txt_d);
	tower_backward(&g, a, &w, B, NULL, n->bscr, n->ascr, n->nscr);
	text_embed_backward(&n->g, a->dx, n->tok, c, B);
}

/* ---- the network ------------------------------------------------------------- */

/* Lay out (base NULL: measure) the training activations: forward
 * activations, the activation gradients, the backward scratch. */
static size_t
train_layout(nn_net *n, R *base)
{
	const mrt_nn_config *c = &n->c;
	arena A = { base, 0 };
	size_t B = (size_t)n->maxB, Te = B * n->nvis, Td = B * n->np;
	nn_tower_acts *ea = &n->ta[NN_TOWER_ECG], *da = &n->ta[NN_TOWER_DEC];
	nn_tower_acts *ta = &n->ta[NN_TOWER_TXT];
	tower_acts_layout(&A, ea, n->maxB, n->nvis, c->ecg_d, c->ecg_heads, c->ecg_mlp,
			  c->ecg_layers, 0);
	tower_acts_layout(&A, da, n->maxB, n->np, c->dec_d, c->dec_heads, c->dec_mlp,
			  c->dec_layers, 0);
	tower_acts_layout(&A, ta, n->maxB, c->txt_len, c->txt_d, c->txt_heads, c->txt_mlp,
			  c->txt_layers, 0);
	n->xn = take_buf(&A, B * c->leads * c->samples);
	n->pin = take_buf(&A, Te * c->patch);
	n->h = take_buf(&A, B * c->ecg_d);
	n->e = take_buf(&A, B * c->proj);
	n->en = take_buf(&A, B * c->proj);
	n->enorm = take_buf(&A, B);
	n->dinout = take_buf(&A, Te * c->dec_d);
	n->pred = take_buf(&A, Td * c->patch);
	n->target = take_buf(&A, Td * c->patch);
	n->tp = take_buf(&A, B * c->txt_d);
	n->t = take_buf(&A, B * c->proj);
	n->tn = take_buf(&A, B * c->proj);
	n->tnorm = take_buf(&A, B);
	n->logits = take_buf(&A, B * B);
	n->prow = take_buf(&A, B * B);
	n->pcol = take_buf(&A, B * B);
	/* activation gradients: zeroed together by nn_net_zero_grad */
	n->grad_off = A.off;
	for (int k = 0; k < NN_NTOWERS; k++) {
		nn_tower_acts *a = &n->ta[k];
		a->dlnf = take_buf(&A, B * a->N * a->d);
		a->dx = take_buf(&A, B * a->N * a->d);
	}
	n->ddin = take_buf(&A, Te * c->dec_d);
	n->dpred = take_buf(&A, Td * c->patch);
	n->dh = take_buf(&A, B * c->ecg_d);
	n->de = take_buf(&A, B * c->proj);
	n->den = take_buf(&A, B * c->proj);
	n->dtp = take_buf(&A, B * c->txt_d);
	n->dt = take_buf(&A, B * c->proj);
	n->dtn = take_buf(&A, B * c->proj);
	n->grad_n = A.off - n->grad_off;
	/* the block scratch of tower_backward, for the largest block */
	block_grads bg;
	size_t nb = 0;
	for (int k = 0; k < NN_NTOWERS; k++) {
		nn_tower_acts *a = &n->ta[k];
		nb = zmax(nb, block_grads_cut(&bg, NULL, B * a->N, a->d, a->mlp));
	}
	n->bscr = take_buf(&A, nb);
	size_t nn = zmax(zmax((size_t)n->nvis * n->nvis, (size_t)n->np * n->np),
			 (size_t)c->txt_len * c->txt_len);
	n->nscr = omp_get_max_threads();
	n->ascr = take_buf(&A, nn * n->nscr);
	return A.off;
}

static void *
alloc(size_t n)
{
	size_t bytes = (n * sizeof(R) + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, bytes ? bytes : 64);
	if (p)
		memset(p, 0, bytes);
	return p;
}

int
nn_net_new(nn_net **out, const mrt_nn_config *c, int maxB, int train)
{
	*out = NULL;
	if (mrt_nn_config_check(c, NULL, 0) || maxB < 1)
		return MRT_EINVAL;
	nn_net *n = calloc(1, sizeof *n);
	if (!n)
		return MRT_ENOMEM;
	n->c = *c;
	n->maxB = maxB;
	n->nt = mrt_nn_ntime(c);
	n->np = mrt_nn_npatch(c);
	n->nvis = mrt_nn_nvis(c);
	n->train = train;
	int rc = nn_layout(c, NULL, NULL, &n->tab);
	if (rc)
		goto fail;
	rc = MRT_ENOMEM;
	if (!(n->pmem = alloc(n->tab.total)))
		goto fail;
	nn_layout(c, n->pmem, &n->p, NULL);
	if (train) {
		size_t B = (size_t)maxB;
		if (!(n->gmem = alloc(n->tab.total)))
			goto fail;
		nn_layout(c, n->gmem, &n->g, NULL);
		size_t na = train_layout(n, NULL);
		if (!(n->amem = alloc(na)))
			goto fail;
		train_layout(n, n->amem);
		n->valid = calloc(B * n->np, 1);
		n->isvis = calloc(B * n->np, 1);
		n->kmask = calloc(B * c->txt_len, 1);
		n->tokidx = calloc(B * n->np, sizeof *n->tokidx);
		n->tok = calloc(B * c->txt_len, sizeof *n->tok);
		n->wrec = calloc(B * n->np, sizeof *n->wrec);
		if (!n->valid || !n->isvis || !n->kmask || !n->tokidx || !n->tok || !n->wrec)
			goto fail;
	}
	*out = n;
	return 0;
fail:
	nn_net_free(n);
	return rc;
}

void
nn_net_free(nn_net *n)
{
	if (!n)
		return;
	nn_table_free(&n->tab);
	free(n->pmem);
	free(n->gmem);
	free(n->amem);
	free(n->valid);
	free(n->isvis);
	free(n->kmask);
	free(n->tokidx);
	free(n->tok);
	free(n->wrec);
	free(n->imem_e);
	free(n->imem_t);
	free(n->iproj);
	free(n->itok);
	free(n->itk);
	free(n->igrp);
	free(n->ikm);
#if NN_F32
	if (mm_ctx == n->gm)
		mm_ctx = NULL;
	nn_gemm_free(n->gm);
#endif
	free(n);
}

int
nn_net_forward(nn_net *n, const mrt_nn_batch *bt, const mrt_nn_hparams *hp, mrt_nn_losses *out)
{
	const mrt_nn_config *c = &n->c;
	int B = bt->B;
	int rec_on = hp->lambda_rec != 0, cma_on = hp->lambda_cma != 0;
	nn_tower_acts *ea = &n->ta[NN_TOWER_ECG];
	if (!n->train || B < 1 || B > n->maxB || (!rec_on && !cma_on) || !bt->sig || !bt->vis ||
	    (cma_on && !bt->tok))
		return MRT_EINVAL;
	int rc = ecg_prep(n, bt->sig, bt->missing, bt->vis, B, n->nvis, n->xn, n->pin, n->tokidx,
			  n->valid, n->isvis);
	if (rc)
		return rc;
	if (cma_on && (rc = text_embed_forward(n->ta[NN_TOWER_TXT].x0, n->kmask, n->tok, bt->tok,
						&n->p, c, B)))
		return rc;
	mm_use(n, 1);
	n->B = B;
	n->lambda_rec = hp->lambda_rec;
	n->lambda_cma = hp->lambda_cma;
	nn_tower w = tower_view(&n->p, c, NN_TOWER_ECG);
	ecg_embed_forward(ea->x0, n->pin, n->tokidx, &n->p, c, B * n->nvis);
	tower_forward(ea, &w, B, NULL, n->tokidx);
	double lrec = 0, lcma = 0;
	long nrec = 0;
	/* the two branches read the encoder's output and nothing of each
	 * other; backward runs them in reverse (rec, then cma) */
	if (cma_on)
		lcma = cma_forward(n, B);
	if (rec_on)
		lrec = rec_forward(n, B, hp->raw_target, &nrec);
	if (out) {
		memset(out, 0, sizeof *out);
		out->rec = lrec;
		out->cma = lcma;
		out->loss = hp->lambda_rec * lrec + hp->lambda_cma * lcma;
		out->nrec = nrec;
	}
	return 0;
}

void
nn_net_zero_grad(nn_net *n)
{
	zero(n->gmem, n->tab.total);
	zero(n->amem + n->grad_off, n->grad_n);
}

void
nn_net_backward(nn_net *n)
{
	const mrt_nn_config *c = &n->c;
	int B = n->B;
	nn_tower_acts *ea = &n->ta[NN_TOWER_ECG];
	nn_tower w = tower_view(&n->p, c, NN_TOWER_ECG), g = tower_view(&n->g, c, NN_TOWER_ECG);
	mm_use(n, 0);
	if (n->lambda_rec != 0)
		rec_backward(n, B, n->lambda_rec);
	if (n->lambda_cma != 0)
		cma_backward(n, B, n->lambda_cma);
	tower_backward(&g, ea, &w, B, n->tokidx, n->bscr, n->ascr, n->nscr);
	ecg_embed_backward(&n->g, ea->dx, n->pin, n->tokidx, &n->p, c, B * n->nvis);
}

/* ---- inference ------------------------------------------------------------------ */

/* Rows of a product that OpenBLAS computes alike wherever they fall in
 * the call: its kernels take rows in blocks of 8 and round the rows of a
 * shorter tail differently (measured: a lead's 20 tokens alone differ in
 * the last bits from the same rows among 40).  The encoder's products have
 * B*N rows, which each of the n threads splits evenly (split()), so a
 * group is padded to B*N a multiple of NN_ROW_BLOCK*n. */
#define NN_ROW_BLOCK 8

static int
gcd(int a, int b)
{
	while (b) {
		int t = a % b;
		a = b, b = t;
	}
	return a;
}

/* Records to pad a group of records of N tokens to (a multiple of). */
static int
pad_records(int N)
{
	int q = NN_ROW_BLOCK * omp_get_max_threads();
	return q / gcd(N, q);
}

/* Encode the Bk records rec[] of the batch, each with its k present
 * leads (lead order) as k*nt tokens, each token with its own lead
 * embedding and time position; h of record rec[g] into ih.  The tower
 * runs without a token list: a record's tokens are whole leads in order,
 * so the attention structures (same lead: nt consecutive rows, same time
 * step: rows nt apart) hold for k leads as for 12.  The group is padded
 * with copies of its first record (pad_records), whose h are dropped. */
static void
encode_group(nn_net *n, const uint8_t *missing, const int *rec, int Bk, int k)
{
	const mrt_nn_config *c = &n->c;
	int nt = n->nt, np = n->np, d = c->ecg_d, S = c->samples, N = k * nt;
	int g = pad_records(N), Bp = (Bk + g - 1) / g * g;
	size_t LS = (size_t)c->leads * S;
	const R *pin = n->ixn;
	const int32_t *tok = n->itok;
	R *hout = n->ih;
	int whole = k == c->leads && rec[Bk - 1] == Bk - 1 && Bp == Bk;
	if (!whole) {
		/* gather the present leads' samples (a lead's nt patches are its
		 * S samples in order) and their token indices lead*nt + t */
		for (int r = 0; r < Bp; r++) {
			const uint8_t *ms = missing ? missing + (size_t)rec[r < Bk ? r : 0] * c->leads
						    : NULL;
			for (int l = 0, j = 0; l < c->leads; l++) {
				if (ms && ms[l])
					continue;
				size_t row = (size_t)r * k + j++;
				memcpy(n->ipin + row * S, n->ixn + rec[r < Bk ? r : 0] * LS +
				       (size_t)l * S, (size_t)S * sizeof *n->ipin);
				for (int t = 0; t < nt; t++)
					n->itk[row * nt + t] = l * nt + t;
			}
		}
		pin = n->ipin, tok = n->itk, hout = n->ihg;
	}
	ecg_embed_forward(n->ie.x0, pin, tok, &n->p, c, Bp * N);
	nn_tower w = tower_view(&n->p, c, NN_TOWER_ECG);
	n->ie.N = N;
	tower_forward(&n->ie, &w, Bp, NULL, NULL);
	n->ie.N = np;
	nn_pool_forward(hout, n->ie.lnf, NULL, Bk, N, d);
	if (!whole)
		for (int r = 0; r < Bk; r++)
			memcpy(n->ih + (size_t)rec[r] * d, n->ihg + (size_t)r * d,
			       (size_t)d * sizeof *n->ih);
}

int
nn_net_encode_ecg(nn_net *n, const float *sig, const uint8_t *missing, int B, R *h, R *e)
{
	const mrt_nn_config *c = &n->c;
	int np = n->np, d = c->ecg_d, pr = c->proj;
	if (B < 1 || B > n->maxB)
		return MRT_EINVAL;
	for (int b = 0; missing && b < B; b++) {
		int k = 0;
		for (int l = 0; l < c->leads; l++)
			k += !missing[(size_t)b * c->leads + l];
		if (!k)
			return MRT_EINVAL;
	}
	if (!n->imem_e) {
		/* room for maxB records and the padding of a group of them */
		int pB = n->maxB + NN_ROW_BLOCK * omp_get_max_threads();
		arena A = { NULL, 0 };
		size_t mB = (size_t)n->maxB, LS = (size_t)c->leads * c->samples;
		tower_acts_layout(&A, &n->ie, pB, np, d, c->ecg_heads, c->ecg_mlp,
				  c->ecg_layers, 1);
		take_buf(&A, mB * LS);
		take_buf(&A, (size_t)pB * LS);
		take_buf(&A, mB * d);
		take_buf(&A, (size_t)pB * d);
		R *mem = alloc(A.off);
		double *v = malloc((size_t)pr * sizeof *v);
		int32_t *tk = malloc(mB * np * sizeof *tk), *tk2 = malloc((size_t)pB * np * sizeof *tk2);
		int *grp = malloc(mB * sizeof *grp);
		if (!mem || !v || !tk || !tk2 || !grp) {
			free(mem), free(v), free(tk), free(tk2), free(grp);
			return MRT_ENOMEM;
		}
		A = (arena){ mem, 0 };
		tower_acts_layout(&A, &n->ie, pB, np, d, c->ecg_heads, c->ecg_mlp,
				  c->ecg_layers, 1);
		n->ixn = take_buf(&A, mB * LS);
		n->ipin = take_buf(&A, (size_t)pB * LS);
		n->ih = take_buf(&A, mB * d);
		n->ihg = take_buf(&A, (size_t)pB * d);
		for (size_t i = 0; i < mB * np; i++)
			tk[i] = (int32_t)(i % np);
		n->imem_e = mem, n->iproj = v, n->itok = tk, n->itk = tk2, n->igrp = grp;
	}
	mm_use(n, 0);
	ecg_prep(n, sig, missing, NULL, B, 0, n->ixn, NULL, NULL, NULL, NULL);
	/* one encoder pass per count k of present leads (all 12: the whole
	 * batch in order, the patches xn itself) */
	for (int k = c->leads; k >= 1; k--) {
		int Bk = 0;
		for (int b = 0; b < B; b++) {
			int kb = c->leads;
			for (int l = 0; missing && l < c->leads; l++)
				kb -= missing[(size_t)b * c->leads + l] != 0;
			if (kb == k)
				n->igrp[Bk++] = b;
		}
		if (Bk)
			encode_group(n, missing, n->igrp, Bk, k);
	}
	if (h)
		memcpy(h, n->ih, (size_t)B * d * sizeof *h);
	if (!e)
		return 0;
	/* e = W h / max(|W h|, 1e-12) one record at a time in double: a
	 * batched product would round a row differently depending on how
	 * many rows it has, and e would depend on the batch */
	const R *W = n->p.eproj;
	double *v = n->iproj;
	for (int b = 0; b < B; b++) {
		const R *hb = n->ih + (size_t)b * d;
		double s = 0;
		for (int o = 0; o < pr; o++) {
			double a = 0;
			for (int j = 0; j < d; j++)
				a += (double)W[(size_t)o * d + j] * hb[j];
			v[o] = a;
			s += a * a;
		}
		s = sqrt(s);
		if (s < 1e-12)
			s = 1e-12;
		for (int o = 0; o < pr; o++)
			e[(size_t)b * pr + o] = (R)(v[o] / s);
	}
	return 0;
}

int
nn_net_encode_text(nn_net *n, const int32_t *tok, int B, R *t)
{
	const mrt_nn_config *c = &n->c;
	int L = c->txt_len, td = c->txt_d;
	if (B < 1 || B > n->maxB)
		return MRT_EINVAL;
	if (!n->imem_t) {
		arena A = { NULL, 0 };
		size_t mB = (size_t)n->maxB;
		tower_acts_layout(&A, &n->it, n->maxB, L, td, c->txt_heads, c->txt_mlp,
				  c->txt_layers, 1);
		take_buf(&A, mB * td);
		take_buf(&A, mB * c->proj);
		take_buf(&A, mB);
		R *mem = alloc(A.off);
		uint8_t *km = malloc(mB * L);
		if (!mem || !km) {
			free(mem), free(km);
			return MRT_ENOMEM;
		}
		A = (arena){ mem, 0 };
		tower_acts_layout(&A, &n->it, n->maxB, L, td, c->txt_heads, c->txt_mlp,
				  c->txt_layers, 1);
		n->itp = take_buf(&A, mB * td);
		n->it_ = take_buf(&A, mB * c->proj);
		n->itnorm = take_buf(&A, mB);
		n->imem_t = mem, n->ikm = km;
	}
	int rc = text_embed_forward(n->it.x0, n->ikm, NULL, tok, &n->p, c, B);
	if (rc)
		return rc;
	mm_use(n, 0);
	nn_tower w = tower_view(&n->p, c, NN_TOWER_TXT);
	tower_forward(&n->it, &w, B, n->ikm, NULL);
	nn_pool_forward(n->itp, n->it.lnf, n->ikm, B, L, td);
	nn_linear_forward(n->it_, n->itp, n->p.tproj, NULL, B, td, c->proj);
	nn_l2norm_forward(t, n->itnorm, n->it_, B, c->proj);
	return 0;
}
