/*
 * nn_core.inc: the layers and the MERIT model of lib/nn, written once for
 * a real type.  Included by nn_f32.c (NN_R float) and nn_f64.c (NN_R
 * double) with NN_(x) appending the type suffix and NN_GEMM the matching
 * cblas routine.  Conventions as in llm.c: X_fwd(out, cache..., in,
 * params..., shapes); X_bwd(dinp, dparams..., dout, cache..., in, params...)
 * accumulates (+=) into every gradient.  Shapes are given per buffer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include <cblas.h>
#include <omp.h>

#define R NN_R
#define LN_EPS ((R)1e-5)

/* ---- linear: out[T,O] = in[T,NI] w[O,NI]^T + b[O] ------------------------ */

/* Each OpenMP thread runs a single-threaded gemm on its own rows (one
 * thread pool for everything: OpenBLAS is set to one thread, see
 * mrt_nn_set_threads). */
static void
NN_(split)(int n, int *a, int *b)
{
	int nth = omp_get_num_threads(), id = omp_get_thread_num();
	*a = (int)((long)n * id / nth);
	*b = (int)((long)n * (id + 1) / nth);
}

static void
NN_(splitz)(size_t n, size_t *a, size_t *b)
{
	size_t nth = (size_t)omp_get_num_threads(), id = (size_t)omp_get_thread_num();
	*a = n * id / nth;
	*b = n * (id + 1) / nth;
}

/* out = res + in w^T + b (res [T,O] may be NULL, and may not alias out). */
static void
NN_(linear_fwd_res)(R *out, const R *in, const R *w, const R *b, const R *res, int T, int NI,
		    int O)
{
	#pragma omp parallel
	{
		int t0, t1;
		NN_(split)(T, &t0, &t1);
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
		if (t1 > t0)
			NN_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, t1 - t0, O, NI, 1,
				in + (size_t)t0 * NI, NI, w, NI, b || res ? 1 : 0,
				out + (size_t)t0 * O, O);
	}
}

void
NN_(linear_fwd)(R *out, const R *in, const R *w, const R *b, int T, int NI, int O)
{
	NN_(linear_fwd_res)(out, in, w, b, NULL, T, NI, O);
}

void
NN_(linear_fwd_naive)(R *out, const R *in, const R *w, const R *b, int T, int NI, int O)
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
NN_(linear_bwd)(R *din, R *dw, R *db, const R *dout, const R *in, const R *w,
		int T, int NI, int O)
{
	NN_(linear_bwd_beta)(din, 1, dw, db, dout, in, w, T, NI, O);
}

/* The same with din = beta*din + ..., beta 0 overwriting (no memset). */
void
NN_(linear_bwd_beta)(R *din, R beta, R *dw, R *db, const R *dout, const R *in, const R *w,
		     int T, int NI, int O)
{
	#pragma omp parallel
	{
		int a, b;
		NN_(split)(T, &a, &b);
		if (din && b > a)
			NN_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, b - a, NI, O, 1,
				dout + (size_t)a * O, O, w, NI, beta, din + (size_t)a * NI, NI);
		NN_(split)(O, &a, &b);
		if (dw && b > a)
			NN_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, b - a, NI, T, 1, dout + a, O,
				in, NI, 1, dw + (size_t)a * NI, NI);
		if (db)
			for (int t = 0; t < T; t++) {
				const R *d = dout + (size_t)t * O;
				#pragma omp simd
				for (int o = a; o < b; o++)
					db[o] += d[o];
			}
	}
}

void
NN_(linear_bwd_naive)(R *din, R *dw, R *db, const R *dout, const R *in, const R *w,
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
NN_(ln_fwd)(R *out, R *mean, R *rstd, const R *in, const R *w, const R *b, int T, int C)
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

/* out = LayerNorm(in) from the mean and rstd ln_fwd kept: the same
 * operations as ln_fwd, so the same bits. */
static void
NN_(ln_apply)(R *out, const R *in, const R *mean, const R *rstd, const R *w, const R *b,
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
NN_(ln_bwd)(R *din, R *dw, R *db, const R *dout, const R *in, const R *mean,
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
		NN_(split)(C, &c0, &c1);
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
 * that the optimisation pragma of nn_f32.c reaches them and they vectorise. */
NN_CLONES static void
NN_(gelu_fwd_range)(R *out, const R *in, size_t a, size_t b)
{
	#pragma omp simd
	for (size_t i = a; i < b; i++) {
		R x = in[i];
		R s = 1 / (1 + NN_EXP(-2 * GELU_K * (x + GELU_C * x * x * x)));
		out[i] = x * s;
	}
}

NN_CLONES static void
NN_(gelu_bwd_range)(R *din, const R *in, const R *dout, size_t a, size_t b)
{
	#pragma omp simd
	for (size_t i = a; i < b; i++) {
		R x = in[i];
		R s = 1 / (1 + NN_EXP(-2 * GELU_K * (x + GELU_C * x * x * x)));
		R g = s + 2 * x * s * (1 - s) * GELU_K * (1 + 3 * GELU_C * x * x);
		din[i] = g * dout[i];
	}
}

void
NN_(gelu_fwd)(R *out, const R *in, size_t n)
{
	#pragma omp parallel
	{
		size_t a, b;
		NN_(splitz)(n, &a, &b);
		NN_(gelu_fwd_range)(out, in, a, b);
	}
}

/* din = (overwrites) gelu'(in) * dout */
void
NN_(gelu_bwd)(R *din, const R *in, const R *dout, size_t n)
{
	#pragma omp parallel
	{
		size_t a, b;
		NN_(splitz)(n, &a, &b);
		NN_(gelu_bwd_range)(din, in, dout, a, b);
	}
}

/* ---- multi-head self-attention ------------------------------------------
 * qkv [B,N,3d] (q heads, k heads, v heads), kmask [B,N] 1 = key usable (NULL:
 * all), att [B,H,N,N] probabilities, out [B,N,d].  Scores scaled 1/sqrt(d/H),
 * softmax with max subtraction; masked keys get probability 0. */

/* One softmax row with max subtraction; masked keys (km[j] == 0) get 0. */
NN_CLONES static void
NN_(softmax_row)(R *p, const uint8_t *km, int N)
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
			R e = km[j] ? NN_EXP(p[j] - mx) : 0;
			p[j] = e;
			sum += e;
		}
	} else {
		#pragma omp simd reduction(+:sum)
		for (int j = 0; j < N; j++) {
			R e = NN_EXP(p[j] - mx);
			p[j] = e;
			sum += e;
		}
	}
	R inv = 1 / sum;
	#pragma omp simd
	for (int j = 0; j < N; j++)
		p[j] *= inv;
}

/* Per (record, head): S = scale Q K^T, softmax, Y = P V, each product a
 * single-threaded gemm on strided views of qkv.  nslots 0: att keeps every
 * P [B,H,N,N] for backward; nslots > 0 (inference): att is nslots N*N
 * blocks, one per thread, so P stays in cache. */
static void
NN_(attn_fwd_slots)(R *out, R *att, const R *qkv, const uint8_t *kmask, int B, int N, int d,
		    int H, int nslots)
{
	int hd = d / H, d3 = 3 * d;
	R scale = 1 / sqrt((R)hd);
	#pragma omp parallel for collapse(2) schedule(static) num_threads(nslots ? nslots : omp_get_max_threads())
	for (int b = 0; b < B; b++)
		for (int h = 0; h < H; h++) {
			const R *Q = qkv + (size_t)b * N * d3 + h * hd, *K = Q + d, *V = Q + 2 * d;
			R *P = nslots ? att + (size_t)omp_get_thread_num() * N * N
				      : att + ((size_t)b * H + h) * N * N;
			NN_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, N, N, hd, scale, Q, d3, K, d3,
				0, P, N);
			for (int i = 0; i < N; i++)
				NN_(softmax_row)(P + (size_t)i * N, kmask ? kmask + (size_t)b * N : NULL, N);
			NN_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, hd, N, 1, P, N, V, d3, 0,
				out + (size_t)b * N * d + h * hd, d);
		}
}

void
NN_(attn_fwd)(R *out, R *att, const R *qkv, const uint8_t *kmask, int B, int N, int d, int H)
{
	NN_(attn_fwd_slots)(out, att, qkv, kmask, B, N, d, H, 0);
}

/* dqkv [B,N,3d] = beta*dqkv + gradient from dout [B,N,d] (beta 0 or 1);
 * scr holds nscr N*N blocks (one per thread). */
void
NN_(attn_bwd)(R *dqkv, R beta, const R *dout, const R *qkv, const R *att, int B, int N, int d,
	      int H, R *scr, int nscr)
{
	int hd = d / H, d3 = 3 * d;
	R scale = 1 / sqrt((R)hd);
	#pragma omp parallel for collapse(2) schedule(static) num_threads(nscr)
	for (int b = 0; b < B; b++)
		for (int h = 0; h < H; h++) {
			R *dP = scr + (size_t)omp_get_thread_num() * N * N;
			size_t o = (size_t)b * N * d3 + h * hd;
			const R *Q = qkv + o, *K = Q + d, *V = Q + 2 * d;
			R *dQ = dqkv + o, *dK = dQ + d, *dV = dQ + 2 * d;
			const R *P = att + ((size_t)b * H + h) * N * N;
			const R *dY = dout + (size_t)b * N * d + h * hd;
			NN_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, N, N, hd, 1, dY, d, V, d3, 0,
				dP, N);
			NN_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, N, hd, N, 1, P, N, dY, d, beta,
				dV, d3);
			for (int i = 0; i < N; i++) {
				const R *p = P + (size_t)i * N;
				R *g = dP + (size_t)i * N, dot = 0;
				#pragma omp simd reduction(+:dot)
				for (int j = 0; j < N; j++)
					dot += p[j] * g[j];
				#pragma omp simd
				for (int j = 0; j < N; j++)
					g[j] = p[j] * (g[j] - dot) * scale;
			}
			NN_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, hd, N, 1, dP, N, K, d3, beta,
				dQ, d3);
			NN_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, N, hd, N, 1, dP, N, Q, d3, beta,
				dK, d3);
		}
}

/* Naive references of the two above (tests compare them). */
void
NN_(attn_fwd_naive)(R *out, R *att, const R *qkv, const uint8_t *kmask, int B, int N, int d, int H)
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
					if (kmask && !kmask[(size_t)b * N + j]) {
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

/* dqkv [B,N,3d] += gradient from dout [B,N,d]. */
void
NN_(attn_bwd_naive)(R *dqkv, const R *dout, const R *qkv, const R *att, int B, int N, int d, int H)
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
NN_(l2n_fwd)(R *y, R *norm, const R *x, int B, int C)
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
NN_(l2n_bwd)(R *dx, const R *dy, const R *y, const R *norm, int B, int C)
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
NN_(cma_fwd)(R *logits, R *prow, R *pcol, const R *en, const R *tn, R s, int B, int C)
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
NN_(cma_bwd)(R *den, R *dtn, R *ds, const R *logits, const R *prow, const R *pcol,
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
NN_(mse_fwd)(const R *pred, const R *target, const double *w, int M, int P)
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
NN_(mse_bwd)(R *dpred, const R *pred, const R *target, const double *w, double dl, int M, int P)
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
NN_(pool_fwd)(R *out, const R *in, const uint8_t *mask, int B, int N, int C)
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
NN_(pool_bwd)(R *din, const R *dout, const uint8_t *mask, int B, int N, int C)
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
} NN_(lctx);

static R *
NN_(take)(NN_(lctx) *L, int branch, int init, int ndim, int64_t s0, int64_t s1,
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
		L->t->total = L->off + n;
	}
	L->off += n;
	return p;
}

static void
NN_(take_block)(NN_(lctx) *L, NN_(blockp) *b, const char *pre, int i, int d, int mlp, int br)
{
	b->ln1w = NN_(take)(L, br, NN_INIT_ONE, 1, d, 0, "%s.blocks.%d.ln1.weight", pre, i);
	b->ln1b = NN_(take)(L, br, NN_INIT_ZERO, 1, d, 0, "%s.blocks.%d.ln1.bias", pre, i);
	b->qkvw = NN_(take)(L, br, NN_INIT_NORMAL, 2, 3 * d, d, "%s.blocks.%d.attn.qkv.weight", pre, i);
	b->qkvb = NN_(take)(L, br, NN_INIT_ZERO, 1, 3 * d, 0, "%s.blocks.%d.attn.qkv.bias", pre, i);
	b->projw = NN_(take)(L, br, NN_INIT_NORMAL, 2, d, d, "%s.blocks.%d.attn.proj.weight", pre, i);
	b->projb = NN_(take)(L, br, NN_INIT_ZERO, 1, d, 0, "%s.blocks.%d.attn.proj.bias", pre, i);
	b->ln2w = NN_(take)(L, br, NN_INIT_ONE, 1, d, 0, "%s.blocks.%d.ln2.weight", pre, i);
	b->ln2b = NN_(take)(L, br, NN_INIT_ZERO, 1, d, 0, "%s.blocks.%d.ln2.bias", pre, i);
	b->fc1w = NN_(take)(L, br, NN_INIT_NORMAL, 2, mlp, d, "%s.blocks.%d.mlp.fc1.weight", pre, i);
	b->fc1b = NN_(take)(L, br, NN_INIT_ZERO, 1, mlp, 0, "%s.blocks.%d.mlp.fc1.bias", pre, i);
	b->fc2w = NN_(take)(L, br, NN_INIT_NORMAL, 2, d, mlp, "%s.blocks.%d.mlp.fc2.weight", pre, i);
	b->fc2b = NN_(take)(L, br, NN_INIT_ZERO, 1, d, 0, "%s.blocks.%d.mlp.fc2.bias", pre, i);
}

int
NN_(layout)(const mrt_nn_config *c, R *base, NN_(params) *p, nn_table *t)
{
	NN_(lctx) L = { t, base, 0, 0 };
	NN_(params) dummy;
	int nt = mrt_nn_ntime(c), d = c->ecg_d, dd = c->dec_d, td = c->txt_d;
	if (!p)
		p = &dummy;
	memset(p, 0, sizeof *p);
	p->patch_w = NN_(take)(&L, NN_SHARED, NN_INIT_NORMAL, 2, d, c->patch, "ecg.patch.weight");
	p->patch_b = NN_(take)(&L, NN_SHARED, NN_INIT_ZERO, 1, d, 0, "ecg.patch.bias");
	p->etime = NN_(take)(&L, NN_SHARED, NN_INIT_NORMAL, 2, nt, d, "ecg.time_pos");
	p->elead = NN_(take)(&L, NN_SHARED, NN_INIT_NORMAL, 2, c->leads, d, "ecg.lead_emb");
	for (int i = 0; i < c->ecg_layers; i++)
		NN_(take_block)(&L, &p->eb[i], "ecg", i, d, c->ecg_mlp, NN_SHARED);
	p->eln_w = NN_(take)(&L, NN_SHARED, NN_INIT_ONE, 1, d, 0, "ecg.ln.weight");
	p->eln_b = NN_(take)(&L, NN_SHARED, NN_INIT_ZERO, 1, d, 0, "ecg.ln.bias");
	p->eproj = NN_(take)(&L, NN_CMA, NN_INIT_NORMAL, 2, c->proj, d, "ecg.proj.weight");
	p->din_w = NN_(take)(&L, NN_REC, NN_INIT_NORMAL, 2, dd, d, "dec.in.weight");
	p->din_b = NN_(take)(&L, NN_REC, NN_INIT_ZERO, 1, dd, 0, "dec.in.bias");
	p->mask_tok = NN_(take)(&L, NN_REC, NN_INIT_NORMAL, 1, dd, 0, "dec.mask_token");
	p->dtime = NN_(take)(&L, NN_REC, NN_INIT_NORMAL, 2, nt, dd, "dec.time_pos");
	p->dlead = NN_(take)(&L, NN_REC, NN_INIT_NORMAL, 2, c->leads, dd, "dec.lead_emb");
	for (int i = 0; i < c->dec_layers; i++)
		NN_(take_block)(&L, &p->db[i], "dec", i, dd, c->dec_mlp, NN_REC);
	p->dln_w = NN_(take)(&L, NN_REC, NN_INIT_ONE, 1, dd, 0, "dec.ln.weight");
	p->dln_b = NN_(take)(&L, NN_REC, NN_INIT_ZERO, 1, dd, 0, "dec.ln.bias");
	p->dout_w = NN_(take)(&L, NN_REC, NN_INIT_NORMAL, 2, c->patch, dd, "dec.out.weight");
	p->dout_b = NN_(take)(&L, NN_REC, NN_INIT_ZERO, 1, c->patch, 0, "dec.out.bias");
	p->tok_emb = NN_(take)(&L, NN_CMA, NN_INIT_NORMAL, 2, c->txt_vocab, td, "txt.tok_emb");
	p->tpos = NN_(take)(&L, NN_CMA, NN_INIT_NORMAL, 2, c->txt_len, td, "txt.pos");
	for (int i = 0; i < c->txt_layers; i++)
		NN_(take_block)(&L, &p->tb[i], "txt", i, td, c->txt_mlp, NN_CMA);
	p->tln_w = NN_(take)(&L, NN_CMA, NN_INIT_ONE, 1, td, 0, "txt.ln.weight");
	p->tln_b = NN_(take)(&L, NN_CMA, NN_INIT_ZERO, 1, td, 0, "txt.ln.bias");
	p->tproj = NN_(take)(&L, NN_CMA, NN_INIT_NORMAL, 2, c->proj, td, "txt.proj.weight");
	p->logit_scale = NN_(take)(&L, NN_CMA, NN_INIT_LOGIT, 1, 1, 0, "logit_scale");
	return L.err;
}

/* ---- activation layout ---------------------------------------------------- */

typedef struct {
	R *base;
	size_t off;
} NN_(actx);

static R *
NN_(abuf)(NN_(actx) *A, size_t n)
{
	R *p = A->base ? A->base + A->off : NULL;
	A->off += (n + 15) & ~(size_t)15;   /* 64-byte aligned pieces */
	return p;
}

static void
NN_(tact_layout)(NN_(actx) *A, NN_(tact) *a, int B, int N, int d, int H, int mlp, int L,
		 int shared)
{
	size_t T = (size_t)B * N;
	a->B = B, a->N = N, a->d = d, a->H = H, a->mlp = mlp, a->L = L;
	a->nslots = shared ? omp_get_max_threads() : 0;
	a->x0 = NN_(abuf)(A, T * d);
	for (int l = 0; l < L; l++) {
		NN_(bact) *b = &a->b[l];
		if (shared && l > 0) {
			*b = a->b[0];
			continue;
		}
		/* one LayerNorm output buffer per tower, for ln1 and ln2 of every
		 * block: backward recomputes them from the kept mean and rstd */
		b->ln1 = l ? a->b[0].ln1 : NN_(abuf)(A, T * d);
		b->ln1m = NN_(abuf)(A, T);
		b->ln1r = NN_(abuf)(A, T);
		b->qkv = NN_(abuf)(A, T * 3 * d);
		/* inference keeps no probabilities: one N*N block per thread */
		b->att = NN_(abuf)(A, shared ? (size_t)a->nslots * N * N : T * N * H);
		b->atty = NN_(abuf)(A, T * d);
		b->res1 = NN_(abuf)(A, T * d);
		b->ln2 = b->ln1;
		b->ln2m = NN_(abuf)(A, T);
		b->ln2r = NN_(abuf)(A, T);
		b->fc1 = NN_(abuf)(A, T * mlp);
		/* one GELU output buffer per tower: backward recomputes it */
		b->gel = l ? a->b[0].gel : NN_(abuf)(A, T * mlp);
		b->out = NN_(abuf)(A, T * d);
	}
	a->lnf = NN_(abuf)(A, T * d);
	a->lnfm = NN_(abuf)(A, T);
	a->lnfr = NN_(abuf)(A, T);
}

static NN_(tower)
NN_(tw)(NN_(params) *p, const mrt_nn_config *c, int which)
{
	NN_(tower) w;
	if (which == 0)
		w = (NN_(tower)){ c->ecg_layers, c->ecg_d, c->ecg_heads, c->ecg_mlp, p->eb,
				  p->eln_w, p->eln_b };
	else if (which == 1)
		w = (NN_(tower)){ c->dec_layers, c->dec_d, c->dec_heads, c->dec_mlp, p->db,
				  p->dln_w, p->dln_b };
	else
		w = (NN_(tower)){ c->txt_layers, c->txt_d, c->txt_heads, c->txt_mlp, p->tb,
				  p->tln_w, p->tln_b };
	return w;
}

/* Blocks and final LayerNorm on a->x0 for B sequences of a->N tokens. */
static void
NN_(tower_fwd)(const NN_(tower) *w, NN_(tact) *a, int B, const uint8_t *kmask)
{
	int N = a->N, d = w->d, mlp = w->mlp, T = B * N;
	const R *x = a->x0;
	for (int l = 0; l < w->L; l++) {
		NN_(bact) *b = &a->b[l];
		const NN_(blockp) *p = &w->b[l];
		NN_(ln_fwd)(b->ln1, b->ln1m, b->ln1r, x, p->ln1w, p->ln1b, T, d);
		NN_(linear_fwd)(b->qkv, b->ln1, p->qkvw, p->qkvb, T, d, 3 * d);
		NN_(attn_fwd_slots)(b->atty, b->att, b->qkv, kmask, B, N, d, w->H, a->nslots);
		NN_(linear_fwd_res)(b->res1, b->atty, p->projw, p->projb, x, T, d, d);
		NN_(ln_fwd)(b->ln2, b->ln2m, b->ln2r, b->res1, p->ln2w, p->ln2b, T, d);
		NN_(linear_fwd)(b->fc1, b->ln2, p->fc1w, p->fc1b, T, d, mlp);
		NN_(gelu_fwd)(b->gel, b->fc1, (size_t)T * mlp);
		/* b->out may alias x (inference): x is not read after res1 */
		NN_(linear_fwd_res)(b->out, b->gel, p->fc2w, p->fc2b, b->res1, T, mlp, d);
		x = b->out;
	}
	NN_(ln_fwd)(a->lnf, a->lnfm, a->lnfr, x, w->lnw, w->lnb, T, d);
}

/* Backward from dlnf [T,d]; returns the gradient of a->x0 (in n->s1,
 * valid until the next tower_bwd). */
static R *
NN_(tower_bwd)(NN_(net) *n, const NN_(tower) *w, const NN_(tower) *g, NN_(tact) *a, int B,
	       const R *dlnf)
{
	int N = a->N, d = w->d, mlp = w->mlp, T = B * N;
	size_t Td = (size_t)T * d;
	R *dx = n->s1, *dt = n->s2, *big1 = n->s3, *big2 = n->s4;
	const R *xl = w->L ? a->b[w->L - 1].out : a->x0;
	memset(dx, 0, Td * sizeof *dx);
	NN_(ln_bwd)(dx, g->lnw, g->lnb, dlnf, xl, a->lnfm, a->lnfr, w->lnw, T, d);
	for (int l = w->L - 1; l >= 0; l--) {
		NN_(bact) *b = &a->b[l];
		const NN_(blockp) *p = &w->b[l];
		const NN_(blockp) *q = &g->b[l];
		const R *xin = l ? a->b[l - 1].out : a->x0;
		/* dx: gradient of b->out, which is also that of res1 */
		/* activation gradients are overwritten (beta 0), parameter
		 * gradients accumulate */
		NN_(gelu_fwd)(big2, b->fc1, (size_t)T * mlp);
		NN_(linear_bwd_beta)(big1, 0, q->fc2w, q->fc2b, dx, big2, p->fc2w, T, mlp, d);
		NN_(gelu_bwd)(big2, b->fc1, big1, (size_t)T * mlp);
		NN_(ln_apply)(b->ln2, b->res1, b->ln2m, b->ln2r, p->ln2w, p->ln2b, T, d);
		NN_(linear_bwd_beta)(dt, 0, q->fc1w, q->fc1b, big2, b->ln2, p->fc1w, T, d, mlp);
		NN_(ln_bwd)(dx, q->ln2w, q->ln2b, dt, b->res1, b->ln2m, b->ln2r, p->ln2w, T, d);
		NN_(linear_bwd_beta)(dt, 0, q->projw, q->projb, dx, b->atty, p->projw, T, d, d);
		NN_(attn_bwd)(big1, 0, dt, b->qkv, b->att, B, N, d, w->H, n->ascr, n->nscr);
		NN_(ln_apply)(b->ln1, xin, b->ln1m, b->ln1r, p->ln1w, p->ln1b, T, d);
		NN_(linear_bwd_beta)(dt, 0, q->qkvw, q->qkvb, big1, b->ln1, p->qkvw, T, d, 3 * d);
		NN_(ln_bwd)(dx, q->ln1w, q->ln1b, dt, xin, b->ln1m, b->ln1r, p->ln1w, T, d);
	}
	return dx;
}

/* ---- ECG input ------------------------------------------------------------ */

void
NN_(normalise)(const mrt_nn_config *c, const float *x, const uint8_t *missing, R *y,
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

/* x0 [T,d] = patch embedding of pin [T,P] + time_pos + lead_emb. */
static void
NN_(embed_fwd)(R *x0, const R *pin, const int32_t *tokidx, const NN_(params) *p,
	       const mrt_nn_config *c, int T)
{
	int d = c->ecg_d, nt = mrt_nn_ntime(c);
	NN_(linear_fwd)(x0, pin, p->patch_w, p->patch_b, T, c->patch, d);
	for (int r = 0; r < T; r++) {
		int tk = tokidx[r];
		const R *tp = p->etime + (size_t)(tk % nt) * d, *lp = p->elead + (size_t)(tk / nt) * d;
		R *x = x0 + (size_t)r * d;
		for (int i = 0; i < d; i++)
			x[i] += tp[i] + lp[i];
	}
}

static void
NN_(embed_bwd)(NN_(params) *g, const R *dx0, const R *pin, const int32_t *tokidx,
	       const NN_(params) *p, const mrt_nn_config *c, int T)
{
	int d = c->ecg_d, nt = mrt_nn_ntime(c);
	NN_(linear_bwd)(NULL, g->patch_w, g->patch_b, dx0, pin, p->patch_w, T, c->patch, d);
	for (int r = 0; r < T; r++) {
		int tk = tokidx[r];
		R *tp = g->etime + (size_t)(tk % nt) * d, *lp = g->elead + (size_t)(tk / nt) * d;
		const R *x = dx0 + (size_t)r * d;
		for (int i = 0; i < d; i++) {
			tp[i] += x[i];
			lp[i] += x[i];
		}
	}
}

/* Normalise B records into xn and gather the nv tokens of each (vis, or all
 * when vis is NULL) into pin/tokidx; isvis/valid [B*np] filled if given. */
static int
NN_(ecg_prep)(NN_(net) *n, const float *sig, const uint8_t *missing, const int32_t *vis,
	      int B, int nv, R *xn, R *pin, int32_t *tokidx, uint8_t *valid, uint8_t *isvis)
{
	const mrt_nn_config *c = &n->c;
	int S = c->samples, P = c->patch, np = n->np, LS = c->leads * S;
	#pragma omp parallel for schedule(static)
	for (int b = 0; b < B; b++)
		NN_(normalise)(c, sig + (size_t)b * LS, missing ? missing + (size_t)b * c->leads : NULL,
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

/* Text input rows: tok_emb[tok] + pos; kmask = tok != 0. */
static int
NN_(text_prep)(const NN_(params) *p, const mrt_nn_config *c, const int32_t *tok, int B,
	       R *x0, uint8_t *kmask)
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
	return 0;
}

/* ---- the network ---------------------------------------------------------- */

static size_t
NN_(zmax)(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* Lay out (base NULL: measure) the training activations. */
static size_t
NN_(train_layout)(NN_(net) *n, R *base)
{
	const mrt_nn_config *c = &n->c;
	NN_(actx) A = { base, 0 };
	size_t B = (size_t)n->maxB, Te = B * n->nvis, Td = B * n->np, Tt = B * c->txt_len;
	NN_(tact_layout)(&A, &n->ea, n->maxB, n->nvis, c->ecg_d, c->ecg_heads, c->ecg_mlp,
			 c->ecg_layers, 0);
	NN_(tact_layout)(&A, &n->da, n->maxB, n->np, c->dec_d, c->dec_heads, c->dec_mlp,
			 c->dec_layers, 0);
	NN_(tact_layout)(&A, &n->ta, n->maxB, c->txt_len, c->txt_d, c->txt_heads, c->txt_mlp,
			 c->txt_layers, 0);
	n->xn = NN_(abuf)(&A, B * c->leads * c->samples);
	n->pin = NN_(abuf)(&A, Te * c->patch);
	n->h = NN_(abuf)(&A, B * c->ecg_d);
	n->e = NN_(abuf)(&A, B * c->proj);
	n->en = NN_(abuf)(&A, B * c->proj);
	n->enorm = NN_(abuf)(&A, B);
	n->dinout = NN_(abuf)(&A, Te * c->dec_d);
	n->pred = NN_(abuf)(&A, Td * c->patch);
	n->target = NN_(abuf)(&A, Td * c->patch);
	n->dpred = NN_(abuf)(&A, Td * c->patch);
	n->tp = NN_(abuf)(&A, B * c->txt_d);
	n->t = NN_(abuf)(&A, B * c->proj);
	n->tn = NN_(abuf)(&A, B * c->proj);
	n->tnorm = NN_(abuf)(&A, B);
	n->logits = NN_(abuf)(&A, B * B);
	n->prow = NN_(abuf)(&A, B * B);
	n->pcol = NN_(abuf)(&A, B * B);
	n->denc = NN_(abuf)(&A, Te * c->ecg_d);
	n->ddec = NN_(abuf)(&A, Td * c->dec_d);
	n->dtxt = NN_(abuf)(&A, Tt * c->txt_d);
	n->ddin = NN_(abuf)(&A, Te * c->dec_d);
	n->dh = NN_(abuf)(&A, B * c->ecg_d);
	n->de = NN_(abuf)(&A, B * c->proj);
	n->den = NN_(abuf)(&A, B * c->proj);
	n->dtp = NN_(abuf)(&A, B * c->txt_d);
	n->dt = NN_(abuf)(&A, B * c->proj);
	n->dtn = NN_(abuf)(&A, B * c->proj);
	size_t small = NN_(zmax)(NN_(zmax)(Te * c->ecg_d, Td * c->dec_d), Tt * c->txt_d);
	size_t big = NN_(zmax)(NN_(zmax)(Te * NN_(zmax)(c->ecg_mlp, 3 * c->ecg_d),
					 Td * NN_(zmax)(c->dec_mlp, 3 * c->dec_d)),
			       Tt * NN_(zmax)(c->txt_mlp, 3 * c->txt_d));
	n->s1 = NN_(abuf)(&A, small);
	n->s2 = NN_(abuf)(&A, small);
	n->s3 = NN_(abuf)(&A, big);
	n->s4 = NN_(abuf)(&A, big);
	size_t nn = NN_(zmax)(NN_(zmax)((size_t)n->nvis * n->nvis, (size_t)n->np * n->np),
			      (size_t)c->txt_len * c->txt_len);
	n->nscr = omp_get_max_threads();
	n->ascr = NN_(abuf)(&A, nn * n->nscr);
	return A.off;
}

static void *
NN_(alloc)(size_t n)
{
	size_t bytes = (n * sizeof(R) + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, bytes ? bytes : 64);
	if (p)
		memset(p, 0, bytes);
	return p;
}

int
NN_(net_new)(NN_(net) **out, const mrt_nn_config *c, int maxB, int train)
{
	*out = NULL;
	if (mrt_nn_config_check(c, NULL, 0) || maxB < 1)
		return MRT_EINVAL;
	NN_(net) *n = calloc(1, sizeof *n);
	if (!n)
		return MRT_ENOMEM;
	n->c = *c;
	n->maxB = maxB;
	n->nt = mrt_nn_ntime(c);
	n->np = mrt_nn_npatch(c);
	n->nvis = mrt_nn_nvis(c);
	n->train = train;
	int rc = NN_(layout)(c, NULL, NULL, &n->tab);
	if (rc)
		goto fail;
	rc = MRT_ENOMEM;
	if (!(n->pmem = NN_(alloc)(n->tab.total)))
		goto fail;
	NN_(layout)(c, n->pmem, &n->p, NULL);
	if (train) {
		size_t B = (size_t)maxB;
		if (!(n->gmem = NN_(alloc)(n->tab.total)))
			goto fail;
		NN_(layout)(c, n->gmem, &n->g, NULL);
		size_t na = NN_(train_layout)(n, NULL);
		if (!(n->amem = NN_(alloc)(na)))
			goto fail;
		NN_(train_layout)(n, n->amem);
		n->valid = calloc(B * n->np, 1);
		n->isvis = calloc(B * n->np, 1);
		n->kmask = calloc(B * c->txt_len, 1);
		n->tokidx = calloc(B * n->np, sizeof *n->tokidx);
		n->wrec = calloc(B * n->np, sizeof *n->wrec);
		if (!n->valid || !n->isvis || !n->kmask || !n->tokidx || !n->wrec)
			goto fail;
	}
	*out = n;
	return 0;
fail:
	NN_(net_free)(n);
	return rc;
}

void
NN_(net_free)(NN_(net) *n)
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
	free(n->wrec);
	free(n->imem_e);
	free(n->imem_t);
	free(n->itok);
	free(n->ikm);
	free(n);
}

/* Per-patch targets [B*np, P] from xn and the L_rec weights. */
static long
NN_(rec_targets)(NN_(net) *n, int B, int raw)
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

int
NN_(net_fwdbwd)(NN_(net) *n, const mrt_nn_batch *bt, const mrt_nn_hparams *hp,
		mrt_nn_losses *out, int backward)
{
	const mrt_nn_config *c = &n->c;
	int B = bt->B, nv = n->nvis, np = n->np, d = c->ecg_d, dd = c->dec_d, td = c->txt_d;
	int L = c->txt_len, P = c->patch, nt = n->nt;
	int rec_on = hp->lambda_rec != 0, cma_on = hp->lambda_cma != 0;
	int Te = B * nv, Td = B * np, Tt = B * L;
	NN_(params) *p = &n->p, *g = &n->g;
	if (!n->train || B < 1 || B > n->maxB || (!rec_on && !cma_on) || !bt->sig || !bt->vis ||
	    (cma_on && !bt->tok))
		return MRT_EINVAL;
	int rc = NN_(ecg_prep)(n, bt->sig, bt->missing, bt->vis, B, nv, n->xn, n->pin,
			       n->tokidx, n->valid, n->isvis);
	if (rc)
		return rc;
	if (cma_on && (rc = NN_(text_prep)(p, c, bt->tok, B, n->ta.x0, n->kmask)))
		return rc;
	NN_(tower) ew = NN_(tw)(p, c, 0), dw = NN_(tw)(p, c, 1), tw = NN_(tw)(p, c, 2);
	NN_(embed_fwd)(n->ea.x0, n->pin, n->tokidx, p, c, Te);
	NN_(tower_fwd)(&ew, &n->ea, B, NULL);
	const R *enc = n->ea.lnf;
	double lrec = 0, lcma = 0;
	long nrec = 0;
	if (rec_on) {
		NN_(linear_fwd)(n->dinout, enc, p->din_w, p->din_b, Te, d, dd);
		R *x0 = n->da.x0;
		for (int r = 0; r < Td; r++)
			memcpy(x0 + (size_t)r * dd, p->mask_tok, (size_t)dd * sizeof *x0);
		for (int r = 0; r < Te; r++)
			memcpy(x0 + ((size_t)(r / nv) * np + n->tokidx[r]) * dd,
			       n->dinout + (size_t)r * dd, (size_t)dd * sizeof *x0);
		for (int r = 0; r < Td; r++) {
			int k = r % np;
			const R *tp = p->dtime + (size_t)(k % nt) * dd, *lp = p->dlead + (size_t)(k / nt) * dd;
			R *x = x0 + (size_t)r * dd;
			for (int i = 0; i < dd; i++)
				x[i] += tp[i] + lp[i];
		}
		NN_(tower_fwd)(&dw, &n->da, B, NULL);
		NN_(linear_fwd)(n->pred, n->da.lnf, p->dout_w, p->dout_b, Td, dd, P);
		nrec = NN_(rec_targets)(n, B, hp->raw_target);
		lrec = NN_(mse_fwd)(n->pred, n->target, n->wrec, Td, P);
	}
	if (cma_on) {
		NN_(pool_fwd)(n->h, enc, NULL, B, nv, d);
		NN_(linear_fwd)(n->e, n->h, p->eproj, NULL, B, d, c->proj);
		NN_(l2n_fwd)(n->en, n->enorm, n->e, B, c->proj);
		NN_(tower_fwd)(&tw, &n->ta, B, n->kmask);
		NN_(pool_fwd)(n->tp, n->ta.lnf, n->kmask, B, L, td);
		NN_(linear_fwd)(n->t, n->tp, p->tproj, NULL, B, td, c->proj);
		NN_(l2n_fwd)(n->tn, n->tnorm, n->t, B, c->proj);
		lcma = NN_(cma_fwd)(n->logits, n->prow, n->pcol, n->en, n->tn, *p->logit_scale, B,
				    c->proj);
	}
	if (out) {
		memset(out, 0, sizeof *out);
		out->rec = lrec;
		out->cma = lcma;
		out->loss = hp->lambda_rec * lrec + hp->lambda_cma * lcma;
		out->nrec = nrec;
	}
	if (!backward)
		return 0;

	memset(n->gmem, 0, n->tab.total * sizeof *n->gmem);
	memset(n->denc, 0, (size_t)Te * d * sizeof *n->denc);
	if (rec_on) {
		memset(n->dpred, 0, (size_t)Td * P * sizeof *n->dpred);
		NN_(mse_bwd)(n->dpred, n->pred, n->target, n->wrec, hp->lambda_rec, Td, P);
		memset(n->ddec, 0, (size_t)Td * dd * sizeof *n->ddec);
		NN_(linear_bwd)(n->ddec, g->dout_w, g->dout_b, n->dpred, n->da.lnf, p->dout_w, Td, dd, P);
		NN_(tower) dg = NN_(tw)(g, c, 1);
		R *dx0 = NN_(tower_bwd)(n, &dw, &dg, &n->da, B, n->ddec);
		for (int r = 0; r < Td; r++) {
			int k = r % np;
			R *tp = g->dtime + (size_t)(k % nt) * dd, *lp = g->dlead + (size_t)(k / nt) * dd;
			const R *x = dx0 + (size_t)r * dd;
			for (int i = 0; i < dd; i++) {
				tp[i] += x[i];
				lp[i] += x[i];
			}
			if (!n->isvis[r])
				for (int i = 0; i < dd; i++)
					g->mask_tok[i] += x[i];
		}
		for (int r = 0; r < Te; r++)
			memcpy(n->ddin + (size_t)r * dd, dx0 + ((size_t)(r / nv) * np + n->tokidx[r]) * dd,
			       (size_t)dd * sizeof *dx0);
		NN_(linear_bwd)(n->denc, g->din_w, g->din_b, n->ddin, enc, p->din_w, Te, d, dd);
	}
	if (cma_on) {
		int pr = c->proj;
		memset(n->den, 0, (size_t)B * pr * sizeof *n->den);
		memset(n->dtn, 0, (size_t)B * pr * sizeof *n->dtn);
		NN_(cma_bwd)(n->den, n->dtn, g->logit_scale, n->logits, n->prow, n->pcol, n->en, n->tn,
			     *p->logit_scale, hp->lambda_cma, B, pr);
		memset(n->de, 0, (size_t)B * pr * sizeof *n->de);
		NN_(l2n_bwd)(n->de, n->den, n->en, n->enorm, B, pr);
		memset(n->dh, 0, (size_t)B * d * sizeof *n->dh);
		NN_(linear_bwd)(n->dh, g->eproj, NULL, n->de, n->h, p->eproj, B, d, pr);
		NN_(pool_bwd)(n->denc, n->dh, NULL, B, nv, d);
		memset(n->dt, 0, (size_t)B * pr * sizeof *n->dt);
		NN_(l2n_bwd)(n->dt, n->dtn, n->tn, n->tnorm, B, pr);
		memset(n->dtp, 0, (size_t)B * td * sizeof *n->dtp);
		NN_(linear_bwd)(n->dtp, g->tproj, NULL, n->dt, n->tp, p->tproj, B, td, pr);
		memset(n->dtxt, 0, (size_t)Tt * td * sizeof *n->dtxt);
		NN_(pool_bwd)(n->dtxt, n->dtp, n->kmask, B, L, td);
		NN_(tower) tg = NN_(tw)(g, c, 2);
		R *dx0 = NN_(tower_bwd)(n, &tw, &tg, &n->ta, B, n->dtxt);
		for (int r = 0; r < Tt; r++) {
			R *te = g->tok_emb + (size_t)bt->tok[r] * td, *tq = g->tpos + (size_t)(r % L) * td;
			const R *x = dx0 + (size_t)r * td;
			for (int i = 0; i < td; i++) {
				te[i] += x[i];
				tq[i] += x[i];
			}
		}
	}
	NN_(tower) eg = NN_(tw)(g, c, 0);
	R *dx0 = NN_(tower_bwd)(n, &ew, &eg, &n->ea, B, n->denc);
	NN_(embed_bwd)(g, dx0, n->pin, n->tokidx, p, c, Te);
	return 0;
}

/* ---- inference ------------------------------------------------------------ */

int
NN_(net_encode_ecg)(NN_(net) *n, const float *sig, const uint8_t *missing, int B, R *h, R *e)
{
	const mrt_nn_config *c = &n->c;
	int np = n->np, d = c->ecg_d;
	if (B < 1 || B > n->maxB)
		return MRT_EINVAL;
	if (!n->imem_e) {
		NN_(actx) A = { NULL, 0 };
		size_t mB = (size_t)n->maxB;
		for (int pass = 0; pass < 2; pass++) {
			NN_(tact_layout)(&A, &n->ie, n->maxB, np, d, c->ecg_heads, c->ecg_mlp,
					 c->ecg_layers, 1);
			n->ixn = NN_(abuf)(&A, mB * c->leads * c->samples);
			n->ih = NN_(abuf)(&A, mB * d);
			n->ie_ = NN_(abuf)(&A, mB * c->proj);
			R *nrm = NN_(abuf)(&A, mB);
			(void)nrm;
			if (pass == 0) {
				if (!(A.base = NN_(alloc)(A.off)))
					return MRT_ENOMEM;
				A.off = 0;
			}
		}
		n->imem_e = A.base;
		if (!(n->itok = malloc(mB * np * sizeof *n->itok)))
			return MRT_ENOMEM;
		for (size_t i = 0; i < mB * np; i++)
			n->itok[i] = (int32_t)(i % np);
	}
	/* all tokens visible: the patches are xn itself, in token order */
	NN_(ecg_prep)(n, sig, missing, NULL, B, 0, n->ixn, NULL, NULL, NULL, NULL);
	NN_(embed_fwd)(n->ie.x0, n->ixn, n->itok, &n->p, c, B * np);
	NN_(tower) ew = NN_(tw)(&n->p, c, 0);
	NN_(tower_fwd)(&ew, &n->ie, B, NULL);
	NN_(pool_fwd)(n->ih, n->ie.lnf, NULL, B, np, d);
	if (h)
		memcpy(h, n->ih, (size_t)B * d * sizeof *h);
	if (e) {
		R nrm[B];
		NN_(linear_fwd)(n->ie_, n->ih, n->p.eproj, NULL, B, d, c->proj);
		NN_(l2n_fwd)(e, nrm, n->ie_, B, c->proj);
	}
	return 0;
}

int
NN_(net_encode_text)(NN_(net) *n, const int32_t *tok, int B, R *t)
{
	const mrt_nn_config *c = &n->c;
	int L = c->txt_len, td = c->txt_d;
	if (B < 1 || B > n->maxB)
		return MRT_EINVAL;
	if (!n->imem_t) {
		NN_(actx) A = { NULL, 0 };
		size_t mB = (size_t)n->maxB;
		for (int pass = 0; pass < 2; pass++) {
			NN_(tact_layout)(&A, &n->it, n->maxB, L, td, c->txt_heads, c->txt_mlp,
					 c->txt_layers, 1);
			n->itp = NN_(abuf)(&A, mB * td);
			n->it_ = NN_(abuf)(&A, mB * c->proj);
			if (pass == 0) {
				if (!(A.base = NN_(alloc)(A.off)))
					return MRT_ENOMEM;
				A.off = 0;
			}
		}
		n->imem_t = A.base;
		if (!(n->ikm = malloc(mB * L)))
			return MRT_ENOMEM;
	}
	int rc = NN_(text_prep)(&n->p, c, tok, B, n->it.x0, n->ikm);
	if (rc)
		return rc;
	NN_(tower) tw = NN_(tw)(&n->p, c, 2);
	NN_(tower_fwd)(&tw, &n->it, B, n->ikm);
	NN_(pool_fwd)(n->itp, n->it.lnf, n->ikm, B, L, td);
	R nrm[B];
	NN_(linear_fwd)(n->it_, n->itp, n->p.tproj, NULL, B, td, c->proj);
	NN_(l2n_fwd)(t, nrm, n->it_, B, c->proj);
	return 0;
}

#undef R
