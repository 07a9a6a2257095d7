/*
 * cap_internal.h: the internal header of the caption decoder (cap_net.c,
 * caption.c and the tests).  cap_net.c, like model.c, is compiled twice:
 * -DNN_REAL=float into cap_net_f32.o and -DNN_REAL=double into
 * cap_net_f64.o (the finite-difference reference of test_caption); the
 * list of NN_NAME lines gives each name its precision's suffix (cap_xent_
 * forward is cap_xent_forward_f and cap_xent_forward_d), as internal.h
 * does for model.c.
 */
#ifndef CAP_TYPED_PASS
#ifndef MRT_CAP_INTERNAL_H
#define MRT_CAP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/caption.h"
#include "nn/internal.h"

/* nn_entry.branch of a cross-attention tensor: not trained without the ECG */
enum { CAP_XATTN = 1 };

#define cap_block_params      NN_NAME(cap_block_params)
#define cap_params            NN_NAME(cap_params)
#define cap_block_acts        NN_NAME(cap_block_acts)
#define cap_net               NN_NAME(cap_net)
#define cap_cache             NN_NAME(cap_cache)
#define cap_causal_forward    NN_NAME(cap_causal_forward)
#define cap_causal_backward   NN_NAME(cap_causal_backward)
#define cap_cross_forward     NN_NAME(cap_cross_forward)
#define cap_cross_backward    NN_NAME(cap_cross_backward)
#define cap_xent_forward      NN_NAME(cap_xent_forward)
#define cap_xent_backward     NN_NAME(cap_xent_backward)
#define cap_embed_forward     NN_NAME(cap_embed_forward)
#define cap_embed_backward    NN_NAME(cap_embed_backward)
#define cap_layout            NN_NAME(cap_layout)
#define cap_net_new           NN_NAME(cap_net_new)
#define cap_net_free          NN_NAME(cap_net_free)
#define cap_net_forward       NN_NAME(cap_net_forward)
#define cap_net_zero_grad     NN_NAME(cap_net_zero_grad)
#define cap_net_backward      NN_NAME(cap_net_backward)
#define cap_cache_size        NN_NAME(cap_cache_size)
#define cap_cache_init        NN_NAME(cap_cache_init)
#define cap_scratch_size      NN_NAME(cap_scratch_size)
#define cap_step              NN_NAME(cap_step)

/* internal.h defined NN_SFX for NN_REAL's object: set aside for the passes */
#ifdef NN_REAL
#undef NN_SFX
#endif
#define CAP_TYPED_PASS
#define NN_R   float
#define NN_SFX _f
#include "nn/cap_internal.h"
#undef NN_R
#undef NN_SFX
#define NN_R   double
#define NN_SFX _d
#include "nn/cap_internal.h"
#undef NN_R
#undef NN_SFX
#undef CAP_TYPED_PASS
#ifdef NN_REAL
#define NN_SFX NN_PASTE(NN_SFX_, NN_REAL)
#endif

#endif /* MRT_CAP_INTERNAL_H */

#else /* CAP_TYPED_PASS: types and functions for real type NN_R */

/* One decoder block: causal self-attention, cross-attention to the
 * memory, MLP, each pre-LN with a residual. */
typedef struct {
	NN_R *ln1w, *ln1b;              /* [d] */
	NN_R *qkvw, *qkvb;              /* [3d, d], [3d] */
	NN_R *projw, *projb;            /* [d, d], [d] */
	NN_R *ln2w, *ln2b;              /* [d] */
	NN_R *xqw, *xqb;                /* [d, d], [d] query of the cross-attention */
	NN_R *xkvw, *xkvb;              /* [2d, mem_d], [2d] keys, values of the memory */
	NN_R *xprojw, *xprojb;          /* [d, d], [d] */
	NN_R *ln3w, *ln3b;              /* [d] */
	NN_R *fc1w, *fc1b;              /* [mlp, d], [mlp] */
	NN_R *fc2w, *fc2b;              /* [d, mlp], [d] */
} cap_block_params;

typedef struct {
	NN_R *tok_emb, *pos;            /* [vocab, d], [len, d] */
	cap_block_params b[NN_MAXLAYERS];
	NN_R *lnw, *lnb;                /* [d] */
	NN_R *headw, *headb;            /* [vocab, d], [vocab] */
} cap_params;

/* Activations of one block for T = B*N positions, memory B*M tokens. */
typedef struct {
	NN_R *ln1, *ln1m, *ln1r;        /* [T,d], [T], [T] */
	NN_R *qkv;                      /* [T,3d] */
	NN_R *att;                      /* [B,H,N,N] causal probabilities */
	NN_R *atty, *res1;              /* [T,d] */
	NN_R *ln2, *ln2m, *ln2r;        /* [T,d], [T], [T] */
	NN_R *xq;                       /* [T,d] */
	NN_R *xkv;                      /* [B*M,2d] */
	NN_R *xatt;                     /* [B,H,N,M] */
	NN_R *xatty, *res2;             /* [T,d] */
	NN_R *ln3, *ln3m, *ln3r;        /* [T,d], [T], [T] */
	NN_R *fc1, *gel;                /* [T,mlp] */
	NN_R *out;                      /* [T,d] */
} cap_block_acts;

typedef struct {
	mrt_cap_config c;
	int maxB, N, train;             /* N = len - 1 positions a record */
	nn_table tab;
	NN_R *pmem, *gmem;              /* parameters, gradients */
	cap_params p, g;
	NN_R *amem;                     /* activations, then their gradients */
	size_t grad_off, grad_n;
	NN_R *x0;                       /* [T,d] embeddings */
	cap_block_acts b[NN_MAXLAYERS];
	NN_R *lnf, *lnfm, *lnfr;        /* [T,d], [T], [T] */
	NN_R *prob;                     /* [T,vocab] softmax of the logits */
	NN_R *mem;                      /* [B*M, mem_d] the memory of the batch */
	/* gradients */
	NN_R *dx, *dlnf, *dlogits;      /* [T,d], [T,d], [T,vocab] */
	NN_R *dln, *dqkv, *datty, *dxq, *dxkv, *dxatty, *dfc1, *dgel;
	int32_t *ids, *tgt;             /* [T] input ids, targets (-1: not scored) */
	double *rl;                     /* [T] loss of each row */
	/* the last forward pass */
	int B, Nb, ecg;                 /* records, positions (<= N) */
	long ntok;
} cap_net;

int cap_layout(const mrt_cap_config *c, NN_R *base, cap_params *p, nn_table *t);
int cap_net_new(cap_net **n, const mrt_cap_config *c, int maxB, int train);
void cap_net_free(cap_net *n);
/* Teacher forcing on tok [B, len] (ids < vocab, else MRT_ERANGE) with
 * memory mem [B, M, mem_d] (ignored, may be NULL, when ecg is 0): inputs
 * tok[:, :len-1], targets tok[:, 1:], a target [PAD] not scored; the
 * positions after the batch's last non-[PAD] token are left out.  Returns
 * the mean cross-entropy over the scored targets in *loss. */
int cap_net_forward(cap_net *n, const NN_R *mem, const int32_t *tok, int B, int ecg,
		    double *loss);
void cap_net_zero_grad(cap_net *n);
/* Accumulates the gradient of the last forward's loss into n->gmem. */
void cap_net_backward(cap_net *n);

/* Layers (llm.c's conventions, as model.c: backward accumulates). */
/* Causal multi-head self-attention: qkv [B,N,3d] -> out [B,N,d]; position
 * i attends to positions 0..i; att [B,H,N,N] keeps the probabilities
 * (0 above the diagonal).  Scores scaled by 1/sqrt(d/H). */
void cap_causal_forward(NN_R *out, NN_R *att, const NN_R *qkv, int B, int N, int d, int H);
void cap_causal_backward(NN_R *dqkv, const NN_R *dout, const NN_R *qkv, const NN_R *att,
			 int B, int N, int d, int H);
/* Cross-attention of the queries q [B,N,d] to the keys and values kv
 * [B,M,2d] (keys, then values) of the memory -> out [B,N,d]; att
 * [B,H,N,M]. */
void cap_cross_forward(NN_R *out, NN_R *att, const NN_R *q, const NN_R *kv, int B, int N,
		       int M, int d, int H);
void cap_cross_backward(NN_R *dq, NN_R *dkv, const NN_R *dout, const NN_R *q, const NN_R *kv,
			const NN_R *att, int B, int N, int M, int d, int H);
/* Token cross-entropy: prob [T,V] = softmax(logits [T,V]) (may alias
 * logits), targets tgt [T] (-1: not scored); returns the mean over the
 * scored rows of -log prob[tgt] (0 if none), *count the scored rows; rl
 * [T] scratch (each row's loss, summed in order).  The float build
 * exponentiates with lib/nn's fast exp (relative error 3e-7).
 * Backward: dlogits += dl * (prob - onehot(tgt)) / count on scored rows. */
double cap_xent_forward(NN_R *prob, const NN_R *logits, const int32_t *tgt, int T, int V,
			double *rl, long *count);
void cap_xent_backward(NN_R *dlogits, const NN_R *prob, const int32_t *tgt, double dl,
		       long count, int T, int V);
/* x0 [T,d] = tok_emb[ids] + pos[t % N]; backward into both tables. */
void cap_embed_forward(NN_R *x0, const int32_t *ids, const NN_R *tok_emb, const NN_R *pos,
		       int T, int N, int d);
void cap_embed_backward(NN_R *dtok_emb, NN_R *dpos, const NN_R *dx0, const int32_t *ids,
			int T, int N, int d);

/* ---- incremental decoding (one hypothesis, one position at a time) ---- */

/* The keys and values of one hypothesis: self-attention [layers][len][2d]
 * of the positions so far; the memory's [layers][M][2d] are shared by a
 * record's hypotheses (cap_cache_init). */
typedef struct {
	NN_R *kv;                       /* [layers, len, 2d] */
} cap_cache;

/* Elements of one hypothesis's cache, and of a record's memory keys and
 * values plus the scratch of cap_step. */
size_t cap_cache_size(const mrt_cap_config *c);
/* Elements of cap_step's scratch. */
size_t cap_scratch_size(const mrt_cap_config *c);
/* The memory's keys and values of every layer, xkv [layers, M, 2d], from
 * mem [M, mem_d] (one record). */
void cap_cache_init(const cap_net *n, NN_R *xkv, const NN_R *mem);
/* Position t (0-based) of a hypothesis with token id: extends the cache
 * (position t) and writes the logits [vocab] of the next token.  xkv from
 * cap_cache_init (ignored when ecg is 0); scr holds cap_scratch_size
 * elements.  Serial: the caller runs records on threads. */
void cap_step(const cap_net *n, NN_R *cache, const NN_R *xkv, int ecg, int id, int t,
	      NN_R *logits, NN_R *scr);

#endif /* CAP_TYPED_PASS */
