/*
 * cap_net.c: the layers and the network of the caption decoder
 * (caption.h), written once for NN_REAL and compiled twice as model.c is:
 * -DNN_REAL=float into cap_net_f32.o, -DNN_REAL=double into cap_net_f64.o
 * (the finite-difference reference of test_caption).  New layers: causal
 * self-attention, cross-attention, token cross-entropy, the token
 * embedding; linear, LayerNorm and GELU are lib/nn's (model.c).
 *
 * A block, pre-LN, for T = B*N positions and a memory of B*M tokens:
 *   res1 = x + proj(causal(qkv(ln1(x))))
 *   res2 = res1 + xproj(cross(xq(ln2(res1)), xkv(mem)))   (res2 = res1 without the ECG)
 *   out  = res2 + fc2(gelu(fc1(ln3(res2))))
 * then a final LayerNorm and the head [vocab, d] give the next token's
 * logits.  Backward runs the same steps in reverse and accumulates.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include <omp.h>

#include "nn/nn.h"
#include "nn/internal.h"
#include "nn/cap_internal.h"
#include "text/bpe.h"

#ifndef NN_REAL
#error "cap_net.c is compiled with -DNN_REAL=float or -DNN_REAL=double (see the Makefile)"
#endif

#define R NN_REAL
#define LN_EPS ((R)1e-5)

/* ---- attention: causal self-attention and cross-attention -----------------------
 * One kernel for both: the queries of N positions attend to M keys and
 * values; row i of record b's queries is at q + (b*N + i)*qs, key j at
 * k + (b*M + j)*ks, value j at v + (b*M + j)*ks (heads side by side);
 * causal: row i sees keys 0..i only (M = N), the others get probability
 * 0.  att [B,H,N,M], out [B,N,d]. */

static void
attn_forward(R *out, R *att, const R *q, int qs, const R *k, const R *v, int ks, int B, int N,
	     int M, int d, int H, int causal)
{
	int hd = d / H;
	R scale = 1 / sqrt((R)hd);
	#pragma omp parallel for collapse(2) schedule(static)
	for (int b = 0; b < B; b++)
		for (int h = 0; h < H; h++) {
			const R *kb = k + (size_t)b * M * ks + h * hd, *vb = v + (size_t)b * M * ks + h * hd;
			R *P = att + ((size_t)b * H + h) * N * M;
			for (int i = 0; i < N; i++) {
				const R *qi = q + ((size_t)b * N + i) * qs + h * hd;
				R *p = P + (size_t)i * M, mx = -INFINITY, sum = 0;
				int n = causal ? i + 1 : M;
				for (int j = 0; j < n; j++) {
					const R *kj = kb + (size_t)j * ks;
					R s = 0;
					#pragma omp simd reduction(+:s)
					for (int c = 0; c < hd; c++)
						s += qi[c] * kj[c];
					p[j] = s * scale;
					mx = p[j] > mx ? p[j] : mx;
				}
				for (int j = 0; j < n; j++) {
					p[j] = exp(p[j] - mx);
					sum += p[j];
				}
				for (int j = n; j < M; j++)
					p[j] = 0;
				R inv = 1 / sum, *y = out + ((size_t)b * N + i) * d + h * hd;
				for (int c = 0; c < hd; c++)
					y[c] = 0;
				for (int j = 0; j < n; j++) {
					const R *vj = vb + (size_t)j * ks;
					R pj = p[j] *= inv;
					#pragma omp simd
					for (int c = 0; c < hd; c++)
						y[c] += pj * vj[c];
				}
			}
		}
}

/* Backward of attn_forward: dq, dk, dv (laid out as q, k, v) += ...;
 * the threads split (record, head), which own disjoint columns. */
static void
attn_backward(R *dq, R *dk, R *dv, const R *dout, const R *q, int qs, const R *k, const R *v,
	      int ks, const R *att, int B, int N, int M, int d, int H, int causal)
{
	int hd = d / H;
	R scale = 1 / sqrt((R)hd);
	#pragma omp parallel for collapse(2) schedule(static)
	for (int b = 0; b < B; b++)
		for (int h = 0; h < H; h++) {
			R g[M];
			size_t o = (size_t)b * M * ks + h * hd;
			const R *kb = k + o, *vb = v + o, *P = att + ((size_t)b * H + h) * N * M;
			R *dkb = dk + o, *dvb = dv + o;
			for (int i = 0; i < N; i++) {
				const R *p = P + (size_t)i * M;
				const R *dy = dout + ((size_t)b * N + i) * d + h * hd;
				const R *qi = q + ((size_t)b * N + i) * qs + h * hd;
				R *dqi = dq + ((size_t)b * N + i) * qs + h * hd, dot = 0;
				int n = causal ? i + 1 : M;
				for (int j = 0; j < n; j++) {
					const R *vj = vb + (size_t)j * ks;
					R *dvj = dvb + (size_t)j * ks, s = 0, pj = p[j];
					#pragma omp simd reduction(+:s)
					for (int c = 0; c < hd; c++) {
						s += dy[c] * vj[c];
						dvj[c] += pj * dy[c];
					}
					g[j] = s;
					dot += pj * s;
				}
				/* softmax backward: the gradient of the scaled scores */
				for (int j = 0; j < n; j++) {
					const R *kj = kb + (size_t)j * ks;
					R *dkj = dkb + (size_t)j * ks, gs = p[j] * (g[j] - dot) * scale;
					#pragma omp simd
					for (int c = 0; c < hd; c++) {
						dqi[c] += gs * kj[c];
						dkj[c] += gs * qi[c];
					}
				}
			}
		}
}

void
cap_causal_forward(R *out, R *att, const R *qkv, int B, int N, int d, int H)
{
	attn_forward(out, att, qkv, 3 * d, qkv + d, qkv + 2 * d, 3 * d, B, N, N, d, H, 1);
}

void
cap_causal_backward(R *dqkv, const R *dout, const R *qkv, const R *att, int B, int N, int d,
		    int H)
{
	attn_backward(dqkv, dqkv + d, dqkv + 2 * d, dout, qkv, 3 * d, qkv + d, qkv + 2 * d, 3 * d,
		      att, B, N, N, d, H, 1);
}

void
cap_cross_forward(R *out, R *att, const R *q, const R *kv, int B, int N, int M, int d, int H)
{
	attn_forward(out, att, q, d, kv, kv + d, 2 * d, B, N, M, d, H, 0);
}

void
cap_cross_backward(R *dq, R *dkv, const R *dout, const R *q, const R *kv, const R *att, int B,
		   int N, int M, int d, int H)
{
	attn_backward(dq, dkv, dkv + d, dout, q, d, kv, kv + d, 2 * d, att, B, N, M, d, H, 0);
}

/* ---- token cross-entropy ------------------------------------------------------ */

#if NN_F32
#define XEXP nn_expf_fast
#else
#define XEXP exp
#endif

double
cap_xent_forward(R *prob, const R *logits, const int32_t *tgt, int T, int V, double *rl,
		 long *count)
{
	#pragma omp parallel for schedule(static)
	for (int t = 0; t < T; t++) {
		const R *z = logits + (size_t)t * V;
		R *p = prob + (size_t)t * V, mx = -INFINITY;
		for (int j = 0; j < V; j++)
			mx = z[j] > mx ? z[j] : mx;
		/* the target's logit first: prob may be logits */
		R zt = tgt[t] >= 0 ? z[tgt[t]] : 0;
		double sum = 0;
		for (int j = 0; j < V; j++) {
			R e = XEXP(z[j] - mx);
			p[j] = e;
			sum += e;
		}
		R inv = (R)(1 / sum);
		for (int j = 0; j < V; j++)
			p[j] *= inv;
		rl[t] = tgt[t] >= 0 ? log(sum) - (double)(zt - mx) : 0;
	}
	/* rows in order, so the sum does not depend on the thread count */
	double loss = 0;
	long cnt = 0;
	for (int t = 0; t < T; t++)
		if (tgt[t] >= 0) {
			loss += rl[t];
			cnt++;
		}
	*count = cnt;
	return cnt ? loss / cnt : 0;
}

void
cap_xent_backward(R *dlogits, const R *prob, const int32_t *tgt, double dl, long count, int T,
		  int V)
{
	if (!count)
		return;
	R k = (R)(dl / count);
	#pragma omp parallel for schedule(static)
	for (int t = 0; t < T; t++) {
		if (tgt[t] < 0)
			continue;
		const R *p = prob + (size_t)t * V;
		R *g = dlogits + (size_t)t * V;
		for (int j = 0; j < V; j++)
			g[j] += k * p[j];
		g[tgt[t]] -= k;
	}
}

/* ---- embedding ----------------------------------------------------------------- */

void
cap_embed_forward(R *x0, const int32_t *ids, const R *tok_emb, const R *pos, int T, int N, int d)
{
	for (int t = 0; t < T; t++) {
		const R *e = tok_emb + (size_t)ids[t] * d, *q = pos + (size_t)(t % N) * d;
		R *x = x0 + (size_t)t * d;
		for (int i = 0; i < d; i++)
			x[i] = e[i] + q[i];
	}
}

void
cap_embed_backward(R *dtok_emb, R *dpos, const R *dx0, const int32_t *ids, int T, int N, int d)
{
	for (int t = 0; t < T; t++) {
		R *e = dtok_emb + (size_t)ids[t] * d, *q = dpos + (size_t)(t % N) * d;
		const R *x = dx0 + (size_t)t * d;
		for (int i = 0; i < d; i++) {
			e[i] += x[i];
			q[i] += x[i];
		}
	}
}

/* ---- parameter layout ----------------------------------------------------------- */

typedef struct {
	nn_table *t;
	R *base;
	size_t off;
	int err;
} cap_lay;

/* The next tensor of the table (name from fmt), its place in base. */
static R *
param(cap_lay *L, int branch, int init, int64_t s0, int64_t s1, const char *fmt, ...)
{
	int ndim = s1 ? 2 : 1;
	size_t n = (size_t)s0 * (s1 ? (size_t)s1 : 1);
	R *p = L->base ? L->base + L->off : NULL;
	if (L->t && !L->err) {
		nn_table *t = L->t;
		if (t->n == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 64;
			nn_entry *e = realloc(t->e, cap * sizeof *e);
			if (!e) {
				L->err = MRT_ENOMEM;
				return p;
			}
			t->e = e, t->cap = cap;
		}
		char name[NN_NAMELEN];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(name, sizeof name, fmt, ap);
		va_end(ap);
		size_t len = strlen(name);
		nn_entry *e = &t->e[t->n++];
		*e = (nn_entry){ .ndim = ndim, .shape = { s0, s1 }, .off = L->off, .n = n,
				 .decay = ndim == 2 && len > 7 && !strcmp(name + len - 7, ".weight"),
				 .branch = branch, .init = init };
		memcpy(e->name, name, sizeof name);
		t->total = L->off + n;
	}
	L->off += n;
	return p;
}

int
cap_layout(const mrt_cap_config *c, R *base, cap_params *p, nn_table *t)
{
	cap_lay L = { t, base, 0, 0 };
	cap_params dummy;
	int d = c->d, mlp = c->mlp, V = c->vocab;
	enum { W = NN_INIT_NORMAL, Z = NN_INIT_ZERO, O = NN_INIT_ONE };
	if (!p)
		p = &dummy;
	memset(p, 0, sizeof *p);
	p->tok_emb = param(&L, 0, W, V, d, "cap.tok_emb");
	p->pos = param(&L, 0, W, c->len, d, "cap.pos");
	for (int i = 0; i < c->layers; i++) {
		cap_block_params *b = &p->b[i];
		const char *f = "cap.blocks.%d.%s";
		b->ln1w = param(&L, 0, O, d, 0, f, i, "ln1.weight");
		b->ln1b = param(&L, 0, Z, d, 0, f, i, "ln1.bias");
		b->qkvw = param(&L, 0, W, 3 * d, d, f, i, "attn.qkv.weight");
		b->qkvb = param(&L, 0, Z, 3 * d, 0, f, i, "attn.qkv.bias");
		b->projw = param(&L, 0, W, d, d, f, i, "attn.proj.weight");
		b->projb = param(&L, 0, Z, d, 0, f, i, "attn.proj.bias");
		b->ln2w = param(&L, CAP_XATTN, O, d, 0, f, i, "ln2.weight");
		b->ln2b = param(&L, CAP_XATTN, Z, d, 0, f, i, "ln2.bias");
		b->xqw = param(&L, CAP_XATTN, W, d, d, f, i, "xattn.q.weight");
		b->xqb = param(&L, CAP_XATTN, Z, d, 0, f, i, "xattn.q.bias");
		b->xkvw = param(&L, CAP_XATTN, W, 2 * d, c->mem_d, f, i, "xattn.kv.weight");
		b->xkvb = param(&L, CAP_XATTN, Z, 2 * d, 0, f, i, "xattn.kv.bias");
		b->xprojw = param(&L, CAP_XATTN, W, d, d, f, i, "xattn.proj.weight");
		b->xprojb = param(&L, CAP_XATTN, Z, d, 0, f, i, "xattn.proj.bias");
		b->ln3w = param(&L, 0, O, d, 0, f, i, "ln3.weight");
		b->ln3b = param(&L, 0, Z, d, 0, f, i, "ln3.bias");
		b->fc1w = param(&L, 0, W, mlp, d, f, i, "mlp.fc1.weight");
		b->fc1b = param(&L, 0, Z, mlp, 0, f, i, "mlp.fc1.bias");
		b->fc2w = param(&L, 0, W, d, mlp, f, i, "mlp.fc2.weight");
		b->fc2b = param(&L, 0, Z, d, 0, f, i, "mlp.fc2.bias");
	}
	p->lnw = param(&L, 0, O, d, 0, "cap.ln.weight");
	p->lnb = param(&L, 0, Z, d, 0, "cap.ln.bias");
	p->headw = param(&L, 0, W, V, d, "cap.head.weight");
	p->headb = param(&L, 0, Z, V, 0, "cap.head.bias");
	return L.err;
}

/* ---- the network ----------------------------------------------------------------- */

typedef struct {
	R *base;
	size_t off;
} cap_arena;

static R *
take(cap_arena *A, size_t n)
{
	R *p = A->base ? A->base + A->off : NULL;
	A->off += (n + 15) & ~(size_t)15;
	return p;
}

/* Lay out the training activations, then their gradients (base NULL: measure). */
static size_t
acts_layout(cap_net *n, R *base)
{
	const mrt_cap_config *c = &n->c;
	cap_arena A = { base, 0 };
	size_t B = (size_t)n->maxB, T = B * n->N, d = (size_t)c->d, H = (size_t)c->heads;
	size_t Tm = B * c->mem, N = (size_t)n->N, M = (size_t)c->mem;
	n->x0 = take(&A, T * d);
	for (int l = 0; l < c->layers; l++) {
		cap_block_acts *b = &n->b[l];
		b->ln1 = take(&A, T * d);
		b->ln1m = take(&A, T);
		b->ln1r = take(&A, T);
		b->qkv = take(&A, T * 3 * d);
		b->att = take(&A, B * H * N * N);
		b->atty = take(&A, T * d);
		b->res1 = take(&A, T * d);
		b->ln2 = take(&A, T * d);
		b->ln2m = take(&A, T);
		b->ln2r = take(&A, T);
		b->xq = take(&A, T * d);
		b->xkv = take(&A, Tm * 2 * d);
		b->xatt = take(&A, B * H * N * M);
		b->xatty = take(&A, T * d);
		b->res2 = take(&A, T * d);
		b->ln3 = take(&A, T * d);
		b->ln3m = take(&A, T);
		b->ln3r = take(&A, T);
		b->fc1 = take(&A, T * c->mlp);
		b->gel = take(&A, T * c->mlp);
		b->out = take(&A, T * d);
	}
	n->lnf = take(&A, T * d);
	n->lnfm = take(&A, T);
	n->lnfr = take(&A, T);
	n->prob = take(&A, T * c->vocab);
	n->mem = take(&A, Tm * c->mem_d);
	n->grad_off = A.off;
	n->dx = take(&A, T * d);
	n->dlnf = take(&A, T * d);
	n->dlogits = take(&A, T * c->vocab);
	n->grad_n = A.off - n->grad_off;
	/* block scratch, zeroed where used */
	n->dln = take(&A, T * d);
	n->dqkv = take(&A, T * 3 * d);
	n->datty = take(&A, T * d);
	n->dxq = take(&A, T * d);
	n->dxkv = take(&A, Tm * 2 * d);
	n->dxatty = take(&A, T * d);
	n->dfc1 = take(&A, T * c->mlp);
	n->dgel = take(&A, T * c->mlp);
	return A.off;
}

static R *
alloc0(size_t n)
{
	size_t bytes = (n * sizeof(R) + 63) & ~(size_t)63;
	R *p = aligned_alloc(64, bytes ? bytes : 64);
	if (p)
		memset(p, 0, bytes ? bytes : 64);
	return p;
}

int
cap_net_new(cap_net **out, const mrt_cap_config *c, int maxB, int train)
{
	*out = NULL;
	if (mrt_cap_config_check(c, NULL, 0) || maxB < 1)
		return MRT_EINVAL;
	cap_net *n = calloc(1, sizeof *n);
	if (!n)
		return MRT_ENOMEM;
	n->c = *c;
	n->maxB = maxB;
	n->N = c->len - 1;
	n->train = train;
	int rc = cap_layout(c, NULL, NULL, &n->tab);
	if (rc)
		goto fail;
	rc = MRT_ENOMEM;
	if (!(n->pmem = alloc0(n->tab.total)))
		goto fail;
	cap_layout(c, n->pmem, &n->p, NULL);
	if (train) {
		size_t T = (size_t)maxB * n->N;
		if (!(n->gmem = alloc0(n->tab.total)))
			goto fail;
		cap_layout(c, n->gmem, &n->g, NULL);
		if (!(n->amem = alloc0(acts_layout(n, NULL))))
			goto fail;
		acts_layout(n, n->amem);
		n->ids = calloc(T, sizeof *n->ids);
		n->tgt = calloc(T, sizeof *n->tgt);
		n->rl = calloc(T, sizeof *n->rl);
		if (!n->ids || !n->tgt || !n->rl)
			goto fail;
	}
	*out = n;
	return 0;
fail:
	cap_net_free(n);
	return rc;
}

void
cap_net_free(cap_net *n)
{
	if (!n)
		return;
	nn_table_free(&n->tab);
	free(n->pmem);
	free(n->gmem);
	free(n->amem);
	free(n->ids);
	free(n->tgt);
	free(n->rl);
	free(n);
}

/* y += x, n elements */
static void
add(R *y, const R *x, size_t n)
{
	#pragma omp parallel for schedule(static) if (n > 65536)
	for (size_t i = 0; i < n; i++)
		y[i] += x[i];
}

static void
zero(R *x, size_t n)
{
	memset(x, 0, n * sizeof *x);
}

int
cap_net_forward(cap_net *n, const R *mem, const int32_t *tok, int B, int ecg, double *loss)
{
	const mrt_cap_config *c = &n->c;
	int d = c->d, H = c->heads, M = c->mem, L = c->len;
	if (!n->train || B < 1 || B > n->maxB || (ecg && !mem))
		return MRT_EINVAL;
	/* positions up to the batch's last token: the [PAD] after every
	 * record's end are neither scored nor seen by an earlier position
	 * (causal), so leaving them out changes nothing but the cost */
	int N = 1;
	for (int b = 0; b < B; b++)
		for (int i = 0; i < L; i++) {
			int32_t id = tok[(size_t)b * L + i];
			if (id < 0 || id >= c->vocab)
				return MRT_ERANGE;
			if (id != MRT_BPE_PAD && i > N)
				N = i;
		}
	if (N > n->N)
		N = n->N;
	int T = B * N;
	for (int b = 0; b < B; b++)
		for (int i = 0; i < N; i++) {
			int32_t next = tok[(size_t)b * L + i + 1];
			n->ids[b * N + i] = tok[(size_t)b * L + i];
			n->tgt[b * N + i] = next == MRT_BPE_PAD ? -1 : next;
		}
	n->Nb = N;
	n->B = B;
	n->ecg = ecg;
	if (ecg)
		memcpy(n->mem, mem, (size_t)B * M * c->mem_d * sizeof *n->mem);
	cap_embed_forward(n->x0, n->ids, n->p.tok_emb, n->p.pos, T, N, d);
	const R *x = n->x0;
	for (int l = 0; l < c->layers; l++) {
		cap_block_acts *a = &n->b[l];
		const cap_block_params *p = &n->p.b[l];
		nn_layernorm_forward(a->ln1, a->ln1m, a->ln1r, x, p->ln1w, p->ln1b, T, d);
		nn_linear_forward(a->qkv, a->ln1, p->qkvw, p->qkvb, T, d, 3 * d);
		cap_causal_forward(a->atty, a->att, a->qkv, B, N, d, H);
		nn_linear_forward(a->res1, a->atty, p->projw, p->projb, T, d, d);
		add(a->res1, x, (size_t)T * d);
		if (ecg) {
			nn_layernorm_forward(a->ln2, a->ln2m, a->ln2r, a->res1, p->ln2w, p->ln2b, T, d);
			nn_linear_forward(a->xq, a->ln2, p->xqw, p->xqb, T, d, d);
			nn_linear_forward(a->xkv, n->mem, p->xkvw, p->xkvb, B * M, c->mem_d, 2 * d);
			cap_cross_forward(a->xatty, a->xatt, a->xq, a->xkv, B, N, M, d, H);
			nn_linear_forward(a->res2, a->xatty, p->xprojw, p->xprojb, T, d, d);
			add(a->res2, a->res1, (size_t)T * d);
		} else {
			memcpy(a->res2, a->res1, (size_t)T * d * sizeof *a->res2);
		}
		nn_layernorm_forward(a->ln3, a->ln3m, a->ln3r, a->res2, p->ln3w, p->ln3b, T, d);
		nn_linear_forward(a->fc1, a->ln3, p->fc1w, p->fc1b, T, d, c->mlp);
		nn_gelu_forward(a->gel, a->fc1, (size_t)T * c->mlp);
		nn_linear_forward(a->out, a->gel, p->fc2w, p->fc2b, T, c->mlp, d);
		add(a->out, a->res2, (size_t)T * d);
		x = a->out;
	}
	nn_layernorm_forward(n->lnf, n->lnfm, n->lnfr, x, n->p.lnw, n->p.lnb, T, d);
	nn_linear_forward(n->prob, n->lnf, n->p.headw, n->p.headb, T, d, c->vocab);
	*loss = cap_xent_forward(n->prob, n->prob, n->tgt, T, c->vocab, n->rl, &n->ntok);
	return 0;
}

void
cap_net_zero_grad(cap_net *n)
{
	zero(n->gmem, n->tab.total);
	zero(n->amem + n->grad_off, n->grad_n);
}

void
cap_net_backward(cap_net *n)
{
	const mrt_cap_config *c = &n->c;
	int B = n->B, N = n->Nb, d = c->d, H = c->heads, M = c->mem, T = B * N, mlp = c->mlp;
	size_t Td = (size_t)T * d;
	cap_xent_backward(n->dlogits, n->prob, n->tgt, 1.0, n->ntok, T, c->vocab);
	nn_linear_backward(n->dlnf, n->g.headw, n->g.headb, n->dlogits, n->lnf, n->p.headw, T, d,
			   c->vocab);
	const R *xl = c->layers ? n->b[c->layers - 1].out : n->x0;
	nn_layernorm_backward(n->dx, n->g.lnw, n->g.lnb, n->dlnf, xl, n->lnfm, n->lnfr, n->p.lnw, T,
			      d);
	/* n->dx: the gradient of the residual stream, block by block */
	for (int l = c->layers - 1; l >= 0; l--) {
		cap_block_acts *a = &n->b[l];
		const cap_block_params *p = &n->p.b[l];
		cap_block_params *g = &n->g.b[l];
		const R *xin = l ? n->b[l - 1].out : n->x0;
		zero(n->dgel, (size_t)T * mlp);
		zero(n->dfc1, (size_t)T * mlp);
		zero(n->dln, Td);
		nn_linear_backward(n->dgel, g->fc2w, g->fc2b, n->dx, a->gel, p->fc2w, T, mlp, d);
		nn_gelu_backward(n->dfc1, a->fc1, n->dgel, (size_t)T * mlp);
		nn_linear_backward(n->dln, g->fc1w, g->fc1b, n->dfc1, a->ln3, p->fc1w, T, d, mlp);
		nn_layernorm_backward(n->dx, g->ln3w, g->ln3b, n->dln, a->res2, a->ln3m, a->ln3r,
				      p->ln3w, T, d);
		if (n->ecg) {
			zero(n->dxatty, Td);
			zero(n->dxq, Td);
			zero(n->dxkv, (size_t)B * M * 2 * d);
			zero(n->dln, Td);
			nn_linear_backward(n->dxatty, g->xprojw, g->xprojb, n->dx, a->xatty, p->xprojw,
					   T, d, d);
			cap_cross_backward(n->dxq, n->dxkv, n->dxatty, a->xq, a->xkv, a->xatt, B, N, M,
					   d, H);
			nn_linear_backward(NULL, g->xkvw, g->xkvb, n->dxkv, n->mem, p->xkvw, B * M,
					   c->mem_d, 2 * d);
			nn_linear_backward(n->dln, g->xqw, g->xqb, n->dxq, a->ln2, p->xqw, T, d, d);
			nn_layernorm_backward(n->dx, g->ln2w, g->ln2b, n->dln, a->res1, a->ln2m,
					      a->ln2r, p->ln2w, T, d);
		}
		zero(n->datty, Td);
		zero(n->dqkv, Td * 3);
		zero(n->dln, Td);
		nn_linear_backward(n->datty, g->projw, g->projb, n->dx, a->atty, p->projw, T, d, d);
		cap_causal_backward(n->dqkv, n->datty, a->qkv, a->att, B, N, d, H);
		nn_linear_backward(n->dln, g->qkvw, g->qkvb, n->dqkv, a->ln1, p->qkvw, T, d, 3 * d);
		nn_layernorm_backward(n->dx, g->ln1w, g->ln1b, n->dln, xin, a->ln1m, a->ln1r, p->ln1w,
				      T, d);
	}
	cap_embed_backward(n->g.tok_emb, n->g.pos, n->dx, n->ids, T, N, d);
}

/* ---- incremental decoding ----------------------------------------------------------- */

size_t
cap_cache_size(const mrt_cap_config *c)
{
	return (size_t)c->layers * c->len * 2 * c->d;
}

size_t
cap_scratch_size(const mrt_cap_config *c)
{
	return 7 * (size_t)c->d + c->mlp + (size_t)c->heads * (c->len > c->mem ? c->len : c->mem);
}

/* out[O] = W[O,NI] in + b, serially (one record per thread) */
static void
mv(R *out, const R *in, const R *W, const R *b, int NI, int O)
{
	for (int o = 0; o < O; o++) {
		const R *w = W + (size_t)o * NI;
		R s = 0;
		#pragma omp simd reduction(+:s)
		for (int i = 0; i < NI; i++)
			s += w[i] * in[i];
		out[o] = s + b[o];
	}
}

/* LayerNorm of one row, as nn_layernorm_forward computes it */
static void
ln_row(R *y, const R *x, const R *w, const R *b, int C)
{
	R m = 0, v = 0;
	for (int i = 0; i < C; i++)
		m += x[i];
	m /= C;
	for (int i = 0; i < C; i++)
		v += (x[i] - m) * (x[i] - m);
	v /= C;
	R rs = 1 / sqrt(v + LN_EPS);
	for (int i = 0; i < C; i++)
		y[i] = (x[i] - m) * rs * w[i] + b[i];
}

void
cap_cache_init(const cap_net *n, R *xkv, const R *mem)
{
	const mrt_cap_config *c = &n->c;
	for (int l = 0; l < c->layers; l++)
		for (int j = 0; j < c->mem; j++)
			mv(xkv + ((size_t)l * c->mem + j) * 2 * c->d, mem + (size_t)j * c->mem_d,
			   n->p.b[l].xkvw, n->p.b[l].xkvb, c->mem_d, 2 * c->d);
}

#define GELU_K ((R)0.7978845608028654)
#define GELU_C ((R)0.044715)

void
cap_step(const cap_net *n, R *cache, const R *xkv, int ecg, int id, int t, R *logits, R *scr)
{
	const mrt_cap_config *c = &n->c;
	int d = c->d, H = c->heads, mlp = c->mlp;
	R *x = scr, *h = x + d, *qkv = h + d, *y = qkv + 3 * d, *o = y + d, *f = o + d;
	R *s = f + mlp;
	const R *e = n->p.tok_emb + (size_t)id * d, *ps = n->p.pos + (size_t)t * d;
	for (int i = 0; i < d; i++)
		x[i] = e[i] + ps[i];
	for (int l = 0; l < c->layers; l++) {
		const cap_block_params *p = &n->p.b[l];
		R *kv = cache + (size_t)l * c->len * 2 * d;
		ln_row(h, x, p->ln1w, p->ln1b, d);
		mv(qkv, h, p->qkvw, p->qkvb, d, 3 * d);
		memcpy(kv + (size_t)t * 2 * d, qkv + d, (size_t)2 * d * sizeof *kv);
		attn_forward(y, s, qkv, 3 * d, kv, kv + d, 2 * d, 1, 1, t + 1, d, H, 0);
		mv(o, y, p->projw, p->projb, d, d);
		for (int i = 0; i < d; i++)
			x[i] += o[i];
		if (ecg) {
			const R *mk = xkv + (size_t)l * c->mem * 2 * d;
			ln_row(h, x, p->ln2w, p->ln2b, d);
			mv(qkv, h, p->xqw, p->xqb, d, d);
			attn_forward(y, s, qkv, d, mk, mk + d, 2 * d, 1, 1, c->mem, d, H, 0);
			mv(o, y, p->xprojw, p->xprojb, d, d);
			for (int i = 0; i < d; i++)
				x[i] += o[i];
		}
		ln_row(h, x, p->ln3w, p->ln3b, d);
		mv(f, h, p->fc1w, p->fc1b, d, mlp);
		for (int i = 0; i < mlp; i++) {
			R z = f[i];
			f[i] = z / (1 + exp(-2 * GELU_K * (z + GELU_C * z * z * z)));
		}
		mv(o, f, p->fc2w, p->fc2b, mlp, d);
		for (int i = 0; i < d; i++)
			x[i] += o[i];
	}
	ln_row(h, x, n->p.lnw, n->p.lnb, d);
	mv(logits, h, n->p.headw, n->p.headb, d, c->vocab);
}
