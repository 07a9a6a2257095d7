/*
 * gemm.c: the matrix products of the float model (model_f32.o) through one
 * door, nn_gemm_run, which sends each product to OpenBLAS sgemm (fp32, as
 * the model always did: every OpenMP thread a single-threaded sgemm on its
 * share of the rows), to oneDNN's fp32 matmul, or to oneDNN's bf16 matmul
 * (inputs rounded to the nearest bf16, ties to even, fp32 accumulation and
 * output).
 *
 * A context (nn_gemm) belongs to one network: its precision, a bf16 copy
 * of the network's parameter block (refreshed once per step by
 * nn_gemm_refresh, so a weight is rounded once, not once per product), the
 * scratch that holds the rounded activations, and the oneDNN matmul
 * primitives, one per shape (sizes, transposes, strides, beta), made the
 * first time the shape is seen and kept.  A weight is recognised by its
 * address: an operand inside the parameter block is read from the copy.
 *
 * Threads: oneDNN here runs on OpenMP (Debian's build), the model's one
 * pool; a product is executed outside any parallel region, so it uses
 * omp_get_max_threads() threads, which mrt_nn_set_threads sets.
 */
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <dnnl.h>
#include <immintrin.h>
#include <omp.h>

#include "nn/nn.h"
#include "nn/internal.h"

/* One cached primitive: its key and the memory objects it runs on. */
typedef struct {
	int prec, ta, tb, M, N, K, lda, ldb, ldc;
	float alpha, beta;
	dnnl_primitive_t prim;
	dnnl_memory_t a, b, c, scr;     /* scr: its scratchpad, NULL if none */
} gemm_prim;

struct nn_gemm {
	int prec;               /* MRT_NN_FP32, MRT_NN_BF16 */
	const float *par;       /* the parameter block, npar elements */
	size_t npar;
	uint16_t *pbf;          /* its bf16 copy (bf16 only) */
	uint16_t *sa, *sb;      /* rounded activations */
	size_t sacap, sbcap;
	/* the primitives' scratchpad, one for all (they run one at a time):
	 * oneDNN's own would be allocated, faulted in and freed every call */
	void *scr;
	size_t scrcap;
	dnnl_engine_t eng;
	dnnl_stream_t str;
	gemm_prim *p;
	int np, cap;
	int failed;             /* a oneDNN call failed: OpenBLAS from then on */
};

/* ---- bf16 ---------------------------------------------------------------- */

/* x rounded to the nearest bf16, ties to even; NaN stays NaN (quiet). */
static inline uint16_t
bf16_of(float x)
{
	uint32_t u;
	memcpy(&u, &x, sizeof u);
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 0x40);
	return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

float
nn_gemm_bf16_round(float x)
{
	uint32_t u = (uint32_t)bf16_of(x) << 16;
	float y;
	memcpy(&y, &u, sizeof y);
	return y;
}

__attribute__((target_clones("avx512f", "avx2", "default"))) static void
bf16_range(uint16_t *y, const float *x, size_t a, size_t b)
{
	#pragma omp simd
	for (size_t i = a; i < b; i++)
		y[i] = bf16_of(x[i]);
}

/* y[n] = bf16 of x[n], the threads each a share. */
static void
bf16_flat(uint16_t *y, const float *x, size_t n)
{
	#pragma omp parallel
	{
		size_t nth = (size_t)omp_get_num_threads(), id = (size_t)omp_get_thread_num();
		bf16_range(y, x, n * id / nth, n * (id + 1) / nth);
	}
}

/* y[rows, cols] (dense) = bf16 of x[rows, cols] with leading dimension ld. */
static void
bf16_matrix(uint16_t *y, const float *x, int rows, int cols, int ld)
{
	if (ld == cols) {
		bf16_flat(y, x, (size_t)rows * cols);
		return;
	}
	#pragma omp parallel for schedule(static)
	for (int r = 0; r < rows; r++)
		bf16_range(y + (size_t)r * cols, x + (size_t)r * ld, 0, (size_t)cols);
}

/* ---- CPU ------------------------------------------------------------------ */

int
mrt_nn_cpu_bf16(const char **missing)
{
	const char *no = "AVX512_BF16 (or AMX-BF16)";
	int ok = 0;
	const char *env = getenv("MERIT_NO_BF16");
#if defined(__x86_64__) || defined(__i386__)
	if (!(env && *env && strcmp(env, "0"))) {
		__builtin_cpu_init();
		unsigned a, b, c, d, s1a = 0, s0d = 0;
		__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
		if (a >= 7) {
			__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
			s0d = d;
			unsigned max1 = a;
			if (max1 >= 1) {
				__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(1));
				s1a = a;
			}
		}
		/* avx512f: also says the OS saves the AVX-512 state */
		int avx512bf16 = __builtin_cpu_supports("avx512f") && (s1a >> 5 & 1);
		int amxbf16 = (s0d >> 22 & 1) != 0;
		ok = avx512bf16 || amxbf16;
	}
#endif
	if (missing)
		*missing = ok ? NULL : no;
	return ok;
}

/* ---- the context ------------------------------------------------------------ */

int
nn_gemm_new(nn_gemm **out, int prec, const float *par, size_t npar)
{
	*out = NULL;
	if (prec != MRT_NN_FP32 && prec != MRT_NN_BF16 && prec != NN_GEMM_ONEDNN_FP32)
		return MRT_EINVAL;
	if (prec == MRT_NN_BF16 && !mrt_nn_cpu_bf16(NULL))
		return MRT_EINVAL;
	nn_gemm *g = calloc(1, sizeof *g);
	if (!g)
		return MRT_ENOMEM;
	g->prec = prec;
	g->par = par;
	g->npar = npar;
	if (dnnl_engine_create(&g->eng, dnnl_cpu, 0) != dnnl_success ||
	    dnnl_stream_create(&g->str, g->eng, dnnl_stream_default_flags) != dnnl_success) {
		nn_gemm_free(g);
		return MRT_EIO;
	}
	if (prec == MRT_NN_BF16) {
		g->pbf = aligned_alloc(64, ((npar ? npar : 1) * 2 + 63) & ~(size_t)63);
		if (!g->pbf) {
			nn_gemm_free(g);
			return MRT_ENOMEM;
		}
		nn_gemm_refresh(g);
	}
	*out = g;
	return 0;
}

void
nn_gemm_free(nn_gemm *g)
{
	if (!g)
		return;
	for (int i = 0; i < g->np; i++) {
		dnnl_primitive_destroy(g->p[i].prim);
		dnnl_memory_destroy(g->p[i].a);
		dnnl_memory_destroy(g->p[i].b);
		dnnl_memory_destroy(g->p[i].c);
		dnnl_memory_destroy(g->p[i].scr);
	}
	free(g->scr);
	free(g->p);
	if (g->str)
		dnnl_stream_destroy(g->str);
	if (g->eng)
		dnnl_engine_destroy(g->eng);
	free(g->pbf);
	free(g->sa);
	free(g->sb);
	free(g);
}

int
nn_gemm_precision(const nn_gemm *g)
{
	return g && g->prec == MRT_NN_BF16 ? MRT_NN_BF16 : MRT_NN_FP32;
}

void
nn_gemm_refresh(nn_gemm *g)
{
	if (g && g->pbf)
		bf16_flat(g->pbf, g->par, g->npar);
}

/* ---- products ----------------------------------------------------------------- */

/* Is p inside the parameter block (a weight)? */
static int
is_param(const nn_gemm *g, const float *p)
{
	return g->pbf && (uintptr_t)p >= (uintptr_t)g->par &&
	       (uintptr_t)p < (uintptr_t)(g->par + g->npar);
}

/* s (capacity *cap elements) grown to n; NULL without memory. */
static uint16_t *
scratch(uint16_t **s, size_t *cap, size_t n)
{
	if (n > *cap) {
		size_t c = n + n / 4;
		uint16_t *p = aligned_alloc(64, (c * 2 + 63) & ~(size_t)63);
		if (!p)
			return NULL;
		free(*s);
		*s = p;
		*cap = c;
	}
	return *s;
}

static int
md_of(dnnl_memory_desc_t *md, int rows, int cols, int trans, int ld, dnnl_data_type_t dt)
{
	dnnl_dims_t dims = { rows, cols };
	dnnl_dims_t st = { trans ? 1 : ld, trans ? ld : 1 };
	return dnnl_memory_desc_init_by_strides(md, 2, dims, dt, st) != dnnl_success;
}

/* The primitive of key k (made and cached the first time); NULL on failure. */
static gemm_prim *
prim_of(nn_gemm *g, const gemm_prim *k)
{
	for (int i = 0; i < g->np; i++) {
		gemm_prim *p = &g->p[i];
		if (p->prec == k->prec && p->ta == k->ta && p->tb == k->tb && p->M == k->M &&
		    p->N == k->N && p->K == k->K && p->lda == k->lda && p->ldb == k->ldb &&
		    p->ldc == k->ldc && p->alpha == k->alpha && p->beta == k->beta)
			return p;
	}
	if (g->np == g->cap) {
		int cap = g->cap ? 2 * g->cap : 32;
		gemm_prim *q = realloc(g->p, (size_t)cap * sizeof *q);
		if (!q)
			return NULL;
		g->p = q;
		g->cap = cap;
	}
	dnnl_data_type_t in = k->prec == MRT_NN_BF16 ? dnnl_bf16 : dnnl_f32;
	dnnl_memory_desc_t ma, mb, mc;
	if (md_of(&ma, k->M, k->K, k->ta, k->lda, in) || md_of(&mb, k->K, k->N, k->tb, k->ldb, in) ||
	    md_of(&mc, k->M, k->N, 0, k->ldc, dnnl_f32))
		return NULL;
	dnnl_matmul_desc_t d;
	if (dnnl_matmul_desc_init(&d, &ma, &mb, NULL, &mc) != dnnl_success)
		return NULL;
	dnnl_primitive_attr_t attr = NULL;
	dnnl_post_ops_t po = NULL;
	dnnl_primitive_desc_t pd = NULL;
	gemm_prim p = *k;
	p.prim = NULL, p.a = p.b = p.c = p.scr = NULL;
	int bad = dnnl_primitive_attr_create(&attr) != dnnl_success ||
		  dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) !=
			  dnnl_success;
	if (!bad && k->alpha != 1)
		bad = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &k->alpha) != dnnl_success;
	if (!bad && k->beta != 0)
		bad = dnnl_post_ops_create(&po) != dnnl_success ||
		      dnnl_post_ops_append_sum(po, k->beta) != dnnl_success ||
		      dnnl_primitive_attr_set_post_ops(attr, po) != dnnl_success;
	if (!bad)
		bad = dnnl_primitive_desc_create(&pd, &d, attr, g->eng, NULL) != dnnl_success ||
		      dnnl_primitive_create(&p.prim, pd) != dnnl_success ||
		      dnnl_memory_create(&p.a, &ma, g->eng, DNNL_MEMORY_NONE) != dnnl_success ||
		      dnnl_memory_create(&p.b, &mb, g->eng, DNNL_MEMORY_NONE) != dnnl_success ||
		      dnnl_memory_create(&p.c, &mc, g->eng, DNNL_MEMORY_NONE) != dnnl_success;
	if (!bad) {
		const dnnl_memory_desc_t *ms = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
		size_t need = ms ? dnnl_memory_desc_get_size(ms) : 0;
		if (need > g->scrcap) {
			void *q = aligned_alloc(64, (need + 63) & ~(size_t)63);
			bad = !q;
			if (q) {
				free(g->scr);
				g->scr = q;
				g->scrcap = need;
			}
		}
		if (!bad && need)
			bad = dnnl_memory_create(&p.scr, ms, g->eng, DNNL_MEMORY_NONE) != dnnl_success;
	}
	if (pd)
		dnnl_primitive_desc_destroy(pd);
	if (po)
		dnnl_post_ops_destroy(po);
	if (attr)
		dnnl_primitive_attr_destroy(attr);
	if (bad) {
		if (p.prim)
			dnnl_primitive_destroy(p.prim);
		dnnl_memory_destroy(p.a);
		dnnl_memory_destroy(p.b);
		dnnl_memory_destroy(p.c);
		dnnl_memory_destroy(p.scr);
		return NULL;
	}
	g->p[g->np] = p;
	return &g->p[g->np++];
}

/* Which library runs an fp32 product of this shape: OpenBLAS unless
 * oneDNN measured faster (bench/nn gemm). */
static int
fp32_dnnl(int ta, int tb, int M, int N, int K)
{
	(void)ta, (void)tb, (void)M, (void)N, (void)K;
	return 0;
}

/* C = alpha op(A) op(B) + beta C by OpenBLAS, each thread its rows of C. */
static void
blas_rows(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
	  const float *B, int ldb, float beta, float *C, int ldc)
{
	#pragma omp parallel
	{
		int nth = omp_get_num_threads(), id = omp_get_thread_num();
		int a = (int)((long)M * id / nth), b = (int)((long)M * (id + 1) / nth);
		if (b > a)
			cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
				    tb ? CblasTrans : CblasNoTrans, b - a, N, K, alpha,
				    A + (size_t)a * (ta ? 1 : (size_t)lda), lda, B, ldb, beta,
				    C + (size_t)a * ldc, ldc);
	}
}

/* op(X) of a product, in bf16: the weight's copy, or X rounded into the
 * scratch s (dense, *ld set to its leading dimension); NULL on failure. */
static const uint16_t *
bf16_operand(nn_gemm *g, const float *X, int rows, int cols, int *ld, uint16_t **s,
	     size_t *cap)
{
	if (is_param(g, X))
		return g->pbf + (X - g->par);
	uint16_t *y = scratch(s, cap, (size_t)rows * cols);
	if (y) {
		bf16_matrix(y, X, rows, cols, *ld);
		*ld = cols;
	}
	return y;
}

void
nn_gemm_run(nn_gemm *g, int ta, int tb, int M, int N, int K, float alpha, const float *A,
	    int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
	if (M <= 0 || N <= 0)
		return;
	int lda0 = lda, ldb0 = ldb, bf = g && g->prec == MRT_NN_BF16;
	if (!g || g->failed || K <= 0 ||
	    (!bf && g->prec != NN_GEMM_ONEDNN_FP32 && !fp32_dnnl(ta, tb, M, N, K))) {
		blas_rows(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
		return;
	}
	const void *a = A, *b = B;
	if (bf) {
		/* stored as rows x cols: op(A) is M x K, op(B) K x N */
		a = bf16_operand(g, A, ta ? K : M, ta ? M : K, &lda, &g->sa, &g->sacap);
		b = bf16_operand(g, B, tb ? N : K, tb ? K : N, &ldb, &g->sb, &g->sbcap);
	}
	gemm_prim k = { g->prec, ta, tb, M, N, K, lda, ldb, ldc, alpha,
			beta, NULL, NULL, NULL, NULL, NULL };
	gemm_prim *p = a && b ? prim_of(g, &k) : NULL;
	if (!p || dnnl_memory_set_data_handle(p->a, (void *)a) != dnnl_success ||
	    dnnl_memory_set_data_handle(p->b, (void *)b) != dnnl_success ||
	    dnnl_memory_set_data_handle(p->c, C) != dnnl_success) {
		g->failed = 1;
		blas_rows(ta, tb, M, N, K, alpha, A, lda0, B, ldb0, beta, C, ldc);
		return;
	}
	dnnl_exec_arg_t args[] = {
		{ DNNL_ARG_SRC, p->a }, { DNNL_ARG_WEIGHTS, p->b }, { DNNL_ARG_DST, p->c },
		{ DNNL_ARG_SCRATCHPAD, p->scr },
	};
	if ((p->scr && dnnl_memory_set_data_handle(p->scr, g->scr) != dnnl_success) ||
	    dnnl_primitive_execute(p->prim, g->str, p->scr ? 4 : 3, args) != dnnl_success ||
	    dnnl_stream_wait(g->str) != dnnl_success) {
		g->failed = 1;
		blas_rows(ta, tb, M, N, K, alpha, A, lda0, B, ldb0, beta, C, ldc);
	}
}

/* ---- small products, one thread: attention per head ----------------------
 * bf16 where op(A) is A (see nn_gemm_small), fp32 OpenBLAS otherwise.
 * op(A) packed as bf16 rows of Kp (K rounded up to even, zeros past K),
 * op(B) in pairs along K ("VNNI": element (k, j) at ((k/2)*Np + j)*2 + k%2,
 * Np = N rounded up to 16), then C = alpha sum_k A B + beta C by
 * _mm512_dpbf16_ps, which multiplies two bf16 pairs and adds both products
 * to an fp32 lane.  Each thread packs into its own buffers. */

static _Thread_local uint16_t *tl_a, *tl_b, *tl_r;
static _Thread_local size_t tl_acap, tl_bcap, tl_rcap;

static void
pack_a(uint16_t *a, const float *A, int lda, int ta, int M, int K, int Kp)
{
	if (!ta)
		for (int i = 0; i < M; i++)
			bf16_range(a + (size_t)i * Kp, A + (size_t)i * lda, 0, (size_t)K);
	else            /* read along the stored rows, write down the columns */
		for (int k = 0; k < K; k++) {
			const float *x = A + (size_t)k * lda;
			for (int i = 0; i < M; i++)
				a[(size_t)i * Kp + k] = bf16_of(x[i]);
		}
	if (Kp > K)
		for (int i = 0; i < M; i++)
			a[(size_t)i * Kp + K] = 0;
}

/* b32: the pairs as 32-bit words, (k/2, j) at k/2 * Np + j; row: scratch
 * of 2 Np bf16. */
static void
pack_b(uint16_t *b, const float *B, int ldb, int tb, int K, int N, int Kp, int Np,
       uint16_t *row)
{
	uint32_t *b32 = (uint32_t *)b;
	memset(b, 0, (size_t)Kp * Np * sizeof *b);
	if (tb) {
		/* stored row j holds k = 0 .. K-1: its pairs are consecutive */
		for (int j = 0; j < N; j++) {
			bf16_range(row, B + (size_t)j * ldb, 0, (size_t)K);
			if (Kp > K)
				row[K] = 0;
			for (int k2 = 0; k2 < Kp / 2; k2++)
				b32[(size_t)k2 * Np + j] = row[2 * k2] | (uint32_t)row[2 * k2 + 1] << 16;
		}
		return;
	}
	/* stored rows k and k+1 interleaved */
	for (int k = 0; k < K; k += 2) {
		bf16_range(row, B + (size_t)k * ldb, 0, (size_t)N);
		if (k + 1 < K)
			bf16_range(row + Np, B + (size_t)(k + 1) * ldb, 0, (size_t)N);
		else
			memset(row + Np, 0, (size_t)N * sizeof *row);
		uint32_t *o = b32 + (size_t)(k / 2) * Np;
		for (int j = 0; j < N; j++)
			o[j] = row[j] | (uint32_t)row[Np + j] << 16;
	}
}

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

/* rows i0 .. i0+R-1 (R <= 4), column blocks j0 and j0+16 (nb of them):
 * eight accumulators in registers (named, so that none is spilled) */
BF16_TARGET static inline void
kern_tile(float *C, int ldc, const uint16_t *a, const uint16_t *b, int i0, int R, int j0, int nb,
	  int N, int Kp, int Np, float alpha, float beta)
{
	__m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
	__m512 c30 = c00, c31 = c00;
	const uint32_t *a0 = (const uint32_t *)(a + (size_t)i0 * Kp);
	const uint32_t *a1 = (const uint32_t *)(a + (size_t)(i0 + (R > 1)) * Kp);
	const uint32_t *a2 = (const uint32_t *)(a + (size_t)(i0 + (R > 2) * 2) * Kp);
	const uint32_t *a3 = (const uint32_t *)(a + (size_t)(i0 + (R > 3) * 3) * Kp);
	const uint16_t *bk = b + (size_t)j0 * 2;
	size_t bs = (size_t)Np * 2;
	int o1 = nb > 1 ? 32 : 0;
	for (int k2 = 0; k2 < Kp / 2; k2++, bk += bs) {
		__m512bh b0 = (__m512bh)_mm512_loadu_si512(bk);
		__m512bh b1 = (__m512bh)_mm512_loadu_si512(bk + o1);
		__m512bh v0 = (__m512bh)_mm512_set1_epi32((int)a0[k2]);
		__m512bh v1 = (__m512bh)_mm512_set1_epi32((int)a1[k2]);
		__m512bh v2 = (__m512bh)_mm512_set1_epi32((int)a2[k2]);
		__m512bh v3 = (__m512bh)_mm512_set1_epi32((int)a3[k2]);
		c00 = _mm512_dpbf16_ps(c00, v0, b0);
		c01 = _mm512_dpbf16_ps(c01, v0, b1);
		c10 = _mm512_dpbf16_ps(c10, v1, b0);
		c11 = _mm512_dpbf16_ps(c11, v1, b1);
		c20 = _mm512_dpbf16_ps(c20, v2, b0);
		c21 = _mm512_dpbf16_ps(c21, v2, b1);
		c30 = _mm512_dpbf16_ps(c30, v3, b0);
		c31 = _mm512_dpbf16_ps(c31, v3, b1);
	}
	__m512 acc[8] = { c00, c01, c10, c11, c20, c21, c30, c31 };
	__m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
	for (int r = 0; r < R; r++)
		for (int q = 0; q < nb; q++) {
			int j = j0 + 16 * q, n = N - j < 16 ? N - j : 16;
			__mmask16 m = (__mmask16)(n == 16 ? 0xffff : (1u << n) - 1);
			float *c = C + (size_t)(i0 + r) * ldc + j;
			__m512 v = _mm512_mul_ps(va, acc[2 * r + q]);
			if (beta != 0)
				v = _mm512_add_ps(v, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m, c)));
			_mm512_mask_storeu_ps(c, m, v);
		}
}

BF16_TARGET static void
kern(float *C, int ldc, const uint16_t *a, const uint16_t *b, int M, int N, int Kp, int Np,
     float alpha, float beta)
{
	for (int i = 0; i < M; i += 4)
		for (int j = 0; j < N; j += 32)
			kern_tile(C, ldc, a, b, i, M - i < 4 ? M - i : 4, j, N - j > 16 ? 2 : 1, N, Kp,
				  Np, alpha, beta);
}

void
nn_gemm_small(const nn_gemm *g, int ta, int tb, int M, int N, int K, float alpha,
	      const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
	if (M <= 0 || N <= 0)
		return;
	int Kp = (K + 1) & ~1, Np = (N + 15) & ~15;
	size_t na = (size_t)M * Kp, nb = (size_t)Kp * Np;
	/* op(A) = A^T (the backward's P^T dY and dS^T Q) stays with OpenBLAS
	 * in fp32: packing its transpose costs more than bf16 gains (79.5
	 * against 95.8 GFLOP/s on 240x64x240, one thread; the others 1.4-1.5
	 * times OpenBLAS, bench/nn gemm's machine) */
	if (!g || g->prec != MRT_NN_BF16 || K <= 0 || ta || !scratch(&tl_a, &tl_acap, na) ||
	    !scratch(&tl_b, &tl_bcap, nb) || !scratch(&tl_r, &tl_rcap, 2 * (size_t)(Np > Kp ? Np : Kp))) {
		cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
			    tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C,
			    ldc);
		return;
	}
	pack_a(tl_a, A, lda, ta, M, K, Kp);
	pack_b(tl_b, B, ldb, tb, K, N, Kp, Np, tl_r);
	kern(C, ldc, tl_a, tl_b, M, N, Kp, Np, alpha, beta);
}
