/*
 * test_caption: the caption decoder's new layers (causal self-attention,
 * cross-attention, token cross-entropy, embedding) and the whole decoder
 * loss against central finite differences in double (cap_net_f64.o); the
 * incremental decoder (cap_step) against the teacher-forced forward pass;
 * causality; float against double; the decoder config.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/caption.h"
#include "nn/cap_internal.h"
#include "core/rng.h"
#include "text/bpe.h"
#include "check.h"

#include "fd.h"

/* ---- causal self-attention ---------------------------------------------------- */

enum { B = 2, N = 5, D = 6, H = 2, M = 3 };

typedef struct {
	double *qkv, *q, *kv, *w, *out, *att;
} actx;

static double
causal_loss(void *p)
{
	actx *c = p;
	cap_causal_forward_d(c->out, c->att, c->qkv, B, N, D, H);
	return dot(c->out, c->w, (size_t)B * N * D);
}

static void
test_causal(void)
{
	actx c = { .qkv = rnd(B * N * 3 * D, 1), .w = rnd(B * N * D, 1), .out = zeros(B * N * D),
		   .att = zeros(B * H * N * N) };
	double *g = zeros(B * N * 3 * D);
	causal_loss(&c);
	cap_causal_backward_d(g, c.w, c.qkv, c.att, B, N, D, H);
	fdcheck("causal attention dqkv", causal_loss, &c, c.qkv, g, B * N * 3 * D);
	/* rows sum to 1, nothing above the diagonal */
	for (int r = 0; r < B * H * N; r++) {
		double s = 0;
		for (int j = 0; j < N; j++) {
			s += c.att[r * N + j];
			if (j > r % N)
				CHECK(c.att[r * N + j] == 0, "att[%d,%d] above the diagonal", r, j);
		}
		CHECK(fabs(s - 1) < 1e-12);
	}
	/* position 0 attends only to itself: its output is its value */
	for (int h = 0; h < H; h++)
		for (int k = 0; k < D / H; k++)
			CHECK(fabs(c.out[h * (D / H) + k] - c.qkv[2 * D + h * (D / H) + k]) < 1e-12);
	/* a later position's key/value does not change an earlier output */
	double before = c.out[(size_t)1 * D], *save = malloc(B * N * D * sizeof *save);
	memcpy(save, c.out, B * N * D * sizeof *save);
	c.qkv[(size_t)3 * 3 * D + D] += 1;      /* key of position 3, record 0 */
	c.qkv[(size_t)3 * 3 * D + 2 * D] += 1;  /* value */
	causal_loss(&c);
	for (int i = 0; i < 3 * D; i++)
		CHECK(c.out[i] == save[i], "output %d changed by a later key", i);
	CHECK(c.out[(size_t)1 * D] == before);
	free(save);
	free(c.qkv), free(c.w), free(c.out), free(c.att), free(g);
}

/* ---- cross-attention ----------------------------------------------------------- */

static double
cross_loss(void *p)
{
	actx *c = p;
	cap_cross_forward_d(c->out, c->att, c->q, c->kv, B, N, M, D, H);
	return dot(c->out, c->w, (size_t)B * N * D);
}

static void
test_cross(void)
{
	actx c = { .q = rnd(B * N * D, 1), .kv = rnd(B * M * 2 * D, 1), .w = rnd(B * N * D, 1),
		   .out = zeros(B * N * D), .att = zeros(B * H * N * M) };
	double *gq = zeros(B * N * D), *gkv = zeros(B * M * 2 * D);
	cross_loss(&c);
	cap_cross_backward_d(gq, gkv, c.w, c.q, c.kv, c.att, B, N, M, D, H);
	fdcheck("cross attention dq", cross_loss, &c, c.q, gq, B * N * D);
	fdcheck("cross attention dkv", cross_loss, &c, c.kv, gkv, B * M * 2 * D);
	/* by hand: one query, two memory tokens, one head of width 1 */
	double q[1] = { 2 }, kv[4] = { 1, 10, -1, 20 }, out[1], att[2];
	cap_cross_forward_d(out, att, q, kv, 1, 1, 2, 1, 1);
	double p0 = exp(2.0) / (exp(2.0) + exp(-2.0));
	CHECK(fabs(att[0] - p0) < 1e-14 && fabs(out[0] - (10 * p0 + 20 * (1 - p0))) < 1e-12,
	      "out %g", out[0]);
	free(c.q), free(c.kv), free(c.w), free(c.out), free(c.att), free(gq), free(gkv);
}

/* ---- cross-entropy and embedding --------------------------------------------------- */

enum { T = 7, V = 9 };

typedef struct {
	double *z, *p, rl[T];
	int32_t tgt[T];
	long cnt;
} xctx;

static double
xent_loss(void *p)
{
	xctx *c = p;
	return cap_xent_forward_d(c->p, c->z, c->tgt, T, V, c->rl, &c->cnt);
}

static void
test_xent(void)
{
	xctx c = { .z = rnd(T * V, 2), .p = zeros(T * V), .tgt = { 3, -1, 0, 8, -1, 5, 5 } };
	double *g = zeros(T * V);
	double l = xent_loss(&c);
	CHECK(c.cnt == 5, "count %ld", c.cnt);
	cap_xent_backward_d(g, c.p, c.tgt, 1.0, c.cnt, T, V);
	fdcheck("cross-entropy dlogits", xent_loss, &c, c.z, g, T * V);
	/* by hand: mean of -log softmax at the targets */
	double want = 0;
	for (int t = 0; t < T; t++) {
		if (c.tgt[t] < 0)
			continue;
		double s = 0;
		for (int j = 0; j < V; j++)
			s += exp(c.z[t * V + j]);
		want += log(s) - c.z[t * V + c.tgt[t]];
	}
	CHECK(fabs(l - want / 5) < 1e-12, "loss %.15g, by hand %.15g", l, want / 5);
	for (int j = 0; j < V; j++)
		CHECK(g[1 * V + j] == 0, "unscored row has a gradient");
	free(c.z), free(c.p), free(g);
}

typedef struct {
	double *emb, *pos, *x, *w;
	int32_t ids[T];
} ectx;

static double
embed_loss(void *p)
{
	ectx *c = p;
	cap_embed_forward_d(c->x, c->ids, c->emb, c->pos, T, 4, 3);
	return dot(c->x, c->w, T * 3);
}

static void
test_embed(void)
{
	ectx c = { .emb = rnd(V * 3, 1), .pos = rnd(4 * 3, 1), .x = zeros(T * 3), .w = rnd(T * 3, 1),
		   .ids = { 1, 4, 4, 0, 8, 2, 4 } };
	double *ge = zeros(V * 3), *gp = zeros(4 * 3);
	embed_loss(&c);
	cap_embed_backward_d(ge, gp, c.w, c.ids, T, 4, 3);
	fdcheck("embedding dtok_emb", embed_loss, &c, c.emb, ge, V * 3);
	fdcheck("embedding dpos", embed_loss, &c, c.pos, gp, 4 * 3);
	free(c.emb), free(c.pos), free(c.x), free(c.w), free(ge), free(gp);
}

/* ---- the whole decoder --------------------------------------------------------------- */

static const mrt_cap_config tiny = { 8, 2, 2, 12, 11, 6, 3, 5, MRT_CAP_MEM_LEADS };
enum { NB = 2 };

typedef struct {
	cap_net_d *n;
	double *mem;
	int32_t tok[NB * 6];
	int ecg;
} nctx;

static double
net_loss(void *p)
{
	nctx *c = p;
	double l;
	CHECK(cap_net_forward_d(c->n, c->mem, c->tok, NB, c->ecg, &l) == 0);
	return l;
}

static void
init_tiny(cap_net_d *n, uint64_t seed)
{
	mrt_rng r;
	mrt_rng_seed(&r, seed);
	/* larger than the N(0, 0.02) of training, so every path matters */
	for (size_t i = 0; i < n->tab.total; i++)
		n->pmem[i] = 0.4 * mrt_rng_normal(&r);
}

static void
test_net(int ecg)
{
	nctx c = { .mem = rnd(NB * tiny.mem * tiny.mem_d, 1), .ecg = ecg,
		   .tok = { MRT_BPE_CLS, 7, 9, 5, MRT_BPE_SEP, 0, MRT_BPE_CLS, 10, 6, 8, 9, 7 } };
	CHECK(cap_net_new_d(&c.n, &tiny, NB, 1) == 0);
	init_tiny(c.n, 5);
	net_loss(&c);
	CHECK(c.n->ntok == 4 + 5, "scored %ld", c.n->ntok);
	cap_net_zero_grad_d(c.n);
	cap_net_backward_d(c.n);
	char what[80];
	for (size_t i = 0; i < c.n->tab.n; i++) {
		const nn_entry *e = &c.n->tab.e[i];
		if (!ecg && e->branch == CAP_XATTN) {
			for (size_t j = 0; j < e->n; j++)
				CHECK(c.n->gmem[e->off + j] == 0, "%s has a gradient without the ECG", e->name);
			continue;
		}
		snprintf(what, sizeof what, "%s%s", ecg ? "" : "no-ecg ", e->name);
		fdcheck(what, net_loss, &c, c.n->pmem + e->off, c.n->gmem + e->off, e->n);
	}
	cap_net_free_d(c.n);
	free(c.mem);
}

/* The incremental decoder gives the teacher-forced probabilities, on a
 * batch as long as the model (short 0) and on one whose records end early
 * (short 1: the positions after the last token are left out). */
static void
test_step(int ecg, int shortb)
{
	nctx c = { .mem = rnd(NB * tiny.mem * tiny.mem_d, 1), .ecg = ecg,
		   .tok = { MRT_BPE_CLS, 7, 9, 5, MRT_BPE_SEP, 0, MRT_BPE_CLS, 10, 6, 8, 9, 7 } };
	if (shortb)
		memcpy(c.tok, (int32_t[]){ MRT_BPE_CLS, 7, 9, MRT_BPE_SEP, 0, 0,
					   MRT_BPE_CLS, 10, MRT_BPE_SEP, 0, 0, 0 }, sizeof c.tok);
	CHECK(cap_net_new_d(&c.n, &tiny, NB, 1) == 0);
	init_tiny(c.n, 9);
	double loss = net_loss(&c), want = 0;
	int Np = c.n->Nb;
	CHECK(Np == (shortb ? 3 : tiny.len - 1), "positions %d", Np);
	double *cache = zeros(cap_cache_size_d(&tiny)), *xkv = zeros(tiny.layers * tiny.mem * 2 * tiny.d);
	double *z = zeros(tiny.vocab), *scr = zeros(cap_scratch_size_d(&tiny));
	double worst = 0;
	for (int b = 0; b < NB; b++) {
		cap_cache_init_d(c.n, xkv, c.mem + (size_t)b * tiny.mem * tiny.mem_d);
		for (int t = 0; t < Np; t++) {
			cap_step_d(c.n, cache, xkv, ecg, c.tok[b * tiny.len + t], t, z, scr);
			double mx = -INFINITY, s = 0;
			for (int v = 0; v < tiny.vocab; v++)
				mx = z[v] > mx ? z[v] : mx;
			for (int v = 0; v < tiny.vocab; v++)
				s += exp(z[v] - mx);
			for (int v = 0; v < tiny.vocab; v++) {
				double p = exp(z[v] - mx) / s, q = c.n->prob[(b * Np + t) * tiny.vocab + v];
				worst = fmax(worst, fabs(p - q));
			}
			int next = c.tok[b * tiny.len + t + 1];
			if (next)
				want += log(s) + mx - z[next];
		}
	}
	want /= c.n->ntok;
	CHECK(worst < 1e-12, "incremental against teacher-forced: %g", worst);
	CHECK(fabs(loss - want) < 1e-12, "loss %.15g, from the incremental decoder %.15g", loss, want);
	printf("  incremental decoding%s%s: worst |dp| %.2e\n", ecg ? "" : " (no ECG)",
	       shortb ? " (short batch)" : "", worst);
	cap_net_free_d(c.n);
	free(c.mem), free(cache), free(xkv), free(z), free(scr);
}

/* The float network computes the double one's loss. */
static void
test_float(void)
{
	cap_net_d *nd;
	cap_net_f *nf;
	int32_t tok[NB * 6] = { MRT_BPE_CLS, 7, 9, 5, MRT_BPE_SEP, 0, MRT_BPE_CLS, 10, 6, 8, 9, 7 };
	double *mem = rnd(NB * tiny.mem * tiny.mem_d, 1), ld, lf;
	float memf[NB * 3 * 5];
	CHECK(cap_net_new_d(&nd, &tiny, NB, 1) == 0 && cap_net_new_f(&nf, &tiny, NB, 1) == 0);
	CHECK(nd->tab.total == nf->tab.total);
	init_tiny(nd, 3);
	for (size_t i = 0; i < nd->tab.total; i++)
		nf->pmem[i] = (float)nd->pmem[i];
	for (int i = 0; i < NB * 3 * 5; i++)
		memf[i] = (float)mem[i];
	cap_net_forward_d(nd, mem, tok, NB, 1, &ld);
	cap_net_forward_f(nf, memf, tok, NB, 1, &lf);
	CHECK(fabs(ld - lf) < 1e-5 * fabs(ld), "float %.9g double %.9g", lf, ld);
	int32_t bad[NB * 6] = { MRT_BPE_CLS, 11 };
	CHECK(cap_net_forward_f(nf, memf, bad, NB, 1, &lf) == MRT_ERANGE);
	cap_net_free_d(nd);
	cap_net_free_f(nf);
	free(mem);
}

static void
test_config(void)
{
	mrt_nn_config ec;
	mrt_cap_config cc;
	char msg[128];
	mrt_nn_preset("merit-xs", &ec);
	mrt_cap_config_default(&cc, &ec);
	CHECK(cc.vocab == ec.txt_vocab && cc.len == ec.txt_len && cc.mem == 12 && cc.mem_d == 32);
	CHECK(mrt_cap_config_check(&cc, msg, sizeof msg) == 0);
	CHECK(mrt_cap_config_set(&cc, "cap_d", "30", msg, sizeof msg) == 0 && cc.d == 30);
	CHECK(mrt_cap_config_check(&cc, msg, sizeof msg) == MRT_EINVAL);
	CHECK(strstr(msg, "not divisible") != NULL, "%s", msg);
	CHECK(mrt_cap_config_set(&cc, "cap_x", "3", msg, sizeof msg) == MRT_ENOENT);
	CHECK(mrt_cap_config_set(&cc, "cap_heads", "0", msg, sizeof msg) == MRT_EINVAL);
	CHECK(mrt_cap_config_set(&cc, "cap_heads", "3x", msg, sizeof msg) == MRT_EINVAL);
}

int
main(void)
{
	mrt_rng_seed(&rng, 42);
	/* the numbers do not depend on threads; tiny shapes run fastest on one */
	mrt_nn_set_threads(1);
	test_causal();
	test_cross();
	test_xent();
	test_embed();
	test_net(1);
	test_net(0);
	test_step(1, 0);
	test_step(0, 0);
	test_step(1, 1);
	test_step(0, 1);
	test_float();
	test_config();
	if (fails)
		fprintf(stderr, "%d failures\n", fails);
	return fails != 0;
}
