/*
 * internal.h: the one internal header of lib/nn (config.c, model.c,
 * handle.c, optim.c, checkpoint.c and the tests): the parameter table, the
 * model's types and functions, the mrt_nn_model handle.
 *
 * model.c (the layers, the towers, the network) is compiled twice, with
 * -DNN_REAL=float into model_f32.o (the model everyone uses) and with
 * -DNN_REAL=double into model_f64.o (the finite-difference reference of the
 * tests).  It is written once with generic names, nn_attn_forward for
 * instance; the list of NN_NAME lines below gives each of them its
 * precision's suffix, so that the float object defines nn_attn_forward_f
 * and the double one nn_attn_forward_d.  `grep -n nn_attn_forward lib/nn`
 * finds the definition (model.c), the declaration (here) and every call.
 * Both builds lay parameters out by the same table, so a flat copy converts
 * one into the other.
 */
#ifndef NN_TYPED_PASS
#ifndef MRT_NN_INTERNAL_H
#define MRT_NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"

#define NN_MAXLAYERS 32
#define NN_NAMELEN   48

enum { NN_SHARED, NN_REC, NN_CMA };                  /* branch of a tensor */
enum { NN_INIT_NORMAL, NN_INIT_ZERO, NN_INIT_ONE, NN_INIT_LOGIT, NN_INIT_SINCOS };
/* the three towers: ECG encoder, decoder, text encoder */
enum nn_tower_id { NN_TOWER_ECG, NN_TOWER_DEC, NN_TOWER_TXT, NN_NTOWERS };

/* The keys a query may attend to in an attention layer over ECG tokens
 * (token = lead*nt + t): all, those of its own lead (time-wise), of its own
 * time step (lead-wise), or either (criss-cross). */
enum nn_attn_kind {
	NN_ATTN_ALL = 0, NN_ATTN_SAME_LEAD = 1, NN_ATTN_SAME_TIME = 2, NN_ATTN_CROSS = 3
};
typedef struct {
	int kind;               /* enum nn_attn_kind */
	int nt;                 /* tokens per lead */
	const int32_t *tok;     /* [B, N] token of each row; NULL: row i is token i */
} nn_attn_mask;

typedef struct {
	char name[NN_NAMELEN];
	int ndim;
	int64_t shape[2];
	size_t off, n;          /* in elements, into the parameter block */
	int decay;              /* 2-D tensor named *.weight */
	int branch;             /* NN_SHARED, NN_REC, NN_CMA */
	int init;               /* NN_INIT_* */
	int fixed;              /* not trained (sin-cos positions) */
} nn_entry;

typedef struct {
	nn_entry *e;
	size_t n, cap;
	size_t total;           /* elements */
} nn_table;

/* config.c */
void nn_table_free(nn_table *t);
int nn_round_half_away(double x);
/* The parameters of the model of config c, and about the largest number
 * of activations of one record (training, or encoding), in double so that
 * no size overflows. */
void nn_config_sizes(const mrt_nn_config *c, double *params, double *acts);
/* model_f32.o only: the float build's vectorisable exp */
float nn_expf_fast(float x);

/* gemm.c: the float model's matrix products (OpenBLAS, oneDNN fp32 or
 * bf16), a context per network.  nn_gemm_new: precision MRT_NN_FP32 or
 * MRT_NN_BF16 (MRT_EINVAL where the CPU lacks bf16), par[npar] the
 * parameter block whose bf16 copy it keeps (bf16; filled now and by each
 * nn_gemm_refresh).  nn_gemm_run: C[M,N] = alpha op(A) op(B) + beta C,
 * row-major, op(X) = X^T when tX, A and B read from the copy when inside
 * par; g NULL: OpenBLAS. */
typedef struct nn_gemm nn_gemm;
/* a precision for benchmarks: fp32 always through oneDNN */
enum { NN_GEMM_ONEDNN_FP32 = 16 };
int nn_gemm_new(nn_gemm **g, int prec, const float *par, size_t npar);
void nn_gemm_free(nn_gemm *g);
int nn_gemm_precision(const nn_gemm *g);
void nn_gemm_refresh(nn_gemm *g);
void nn_gemm_run(nn_gemm *g, int ta, int tb, int M, int N, int K, float alpha, const float *A,
		 int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* The same product on one thread (inside a parallel region: attention per
 * head): bf16 by this file's AVX512_BF16 kernel, else OpenBLAS. */
void nn_gemm_small(const nn_gemm *g, int ta, int tb, int M, int N, int K, float alpha,
		   const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* model_f32.o: make g the context of the float layers' products on this
 * thread (the network's entry points do it themselves; for tests) */
void nn_gemm_current(nn_gemm *g);
/* x rounded to the nearest bf16 (ties to even), as a float */
float nn_gemm_bf16_round(float x);

/* ---- names of model.c: nn_X is nn_X_f in model_f32.o, nn_X_d in model_f64.o */
#define NN_PASTE_(a, b) a##b
#define NN_PASTE(a, b)  NN_PASTE_(a, b)
#define NN_NAME(x)      NN_PASTE(x, NN_SFX)
/* types */
#define nn_block_params          NN_NAME(nn_block_params)
#define nn_params                NN_NAME(nn_params)
#define nn_block_acts            NN_NAME(nn_block_acts)
#define nn_tower_acts            NN_NAME(nn_tower_acts)
#define nn_tower                 NN_NAME(nn_tower)
#define nn_net                   NN_NAME(nn_net)
/* layers */
#define nn_linear_forward        NN_NAME(nn_linear_forward)
#define nn_linear_forward_naive  NN_NAME(nn_linear_forward_naive)
#define nn_linear_backward       NN_NAME(nn_linear_backward)
#define nn_linear_backward_naive NN_NAME(nn_linear_backward_naive)
#define nn_layernorm_forward     NN_NAME(nn_layernorm_forward)
#define nn_layernorm_backward    NN_NAME(nn_layernorm_backward)
#define nn_gelu_forward          NN_NAME(nn_gelu_forward)
#define nn_gelu_backward         NN_NAME(nn_gelu_backward)
#define nn_attn_forward          NN_NAME(nn_attn_forward)
#define nn_attn_backward         NN_NAME(nn_attn_backward)
#define nn_attn_forward_naive    NN_NAME(nn_attn_forward_naive)
#define nn_attn_backward_naive   NN_NAME(nn_attn_backward_naive)
#define nn_l2norm_forward        NN_NAME(nn_l2norm_forward)
#define nn_l2norm_backward       NN_NAME(nn_l2norm_backward)
#define nn_infonce_forward       NN_NAME(nn_infonce_forward)
#define nn_infonce_backward      NN_NAME(nn_infonce_backward)
#define nn_mse_forward           NN_NAME(nn_mse_forward)
#define nn_mse_backward          NN_NAME(nn_mse_backward)
#define nn_pool_forward          NN_NAME(nn_pool_forward)
#define nn_pool_backward         NN_NAME(nn_pool_backward)
/* the network */
#define nn_normalise             NN_NAME(nn_normalise)
#define nn_layout                NN_NAME(nn_layout)
#define nn_net_new               NN_NAME(nn_net_new)
#define nn_net_free              NN_NAME(nn_net_free)
#define nn_net_forward           NN_NAME(nn_net_forward)
#define nn_net_zero_grad         NN_NAME(nn_net_zero_grad)
#define nn_net_backward          NN_NAME(nn_net_backward)
#define nn_net_encode_ecg        NN_NAME(nn_net_encode_ecg)
#define nn_net_encode_text       NN_NAME(nn_net_encode_text)

/* The typed part below, once for float (_f) and once for double (_d). */
#define NN_TYPED_PASS
#define NN_R   float
#define NN_SFX _f
#include "nn/internal.h"
#undef NN_R
#undef NN_SFX
#define NN_R   double
#define NN_SFX _d
#include "nn/internal.h"
#undef NN_R
#undef NN_SFX
#undef NN_TYPED_PASS

/* In model.c: the names of this object's precision. */
#ifdef NN_REAL
#define NN_SFX_float  _f
#define NN_SFX_double _d
#define NN_SFX        NN_PASTE(NN_SFX_, NN_REAL)
#define NN_IS_float   1
#define NN_IS_double  0
#define NN_F32        NN_PASTE(NN_IS_, NN_REAL)   /* 1 in the float build */
#endif

/* Metadata of the last loaded weights file, copied: key, value pairs. */
typedef struct {
	char **kv;              /* [2n] */
	size_t n, cap;
} nn_meta;

/* handle.c: add a copy of key = value (MRT_ENOMEM); free every entry. */
int nn_meta_add(nn_meta *l, const char *key, const char *value);
void nn_meta_clear(nn_meta *l);

/* optim.c: lib/nn's AdamW (PyTorch's, MODEL.md) for the MERIT model and
 * the caption decoder.  nn_sumsq sums squares in a fixed order whatever
 * the thread count; nn_adamw_setup takes the constants of step t
 * (1-based) at learning rate lr with the clipping factor of gradient norm
 * norm; nn_adamw_update updates n parameters, with weight decay if decay. */
typedef struct {
	float b1, b2, stepsz, sbc2, eps, decay, coef;
} nn_adamw;
double nn_sumsq(const float *g, size_t n);
void nn_adamw_setup(nn_adamw *a, const mrt_nn_hparams *hp, double lr, long t, double norm);
void nn_adamw_update(const nn_adamw *a, float *p, const float *g, float *m, float *v, size_t n,
		     int decay);

/* checkpoint.c, for caption.c too: the metadata value key of st as an
 * integer in [0, INT32_MAX] (MRT_ENOENT, MRT_EFORMAT with a message naming
 * path); the step (0 if absent or bad). */
struct mrt_st;
int nn_st_meta_int(const struct mrt_st *st, const char *path, const char *key, int *v, char *err,
		   size_t cap);
long nn_st_meta_step(const struct mrt_st *st);

/* The handle behind mrt_nn_model: the float network, its Adam moments. */
struct mrt_nn_model {
	nn_net_f *net;
	float *m, *v;           /* Adam moments, NULL without MRT_NN_TRAIN */
	long step;
	nn_meta meta;           /* of the last loaded weights file */
	char err[256];
};

#endif /* MRT_NN_INTERNAL_H */

#else /* NN_TYPED_PASS: the model's types and functions for real type NN_R */

/* Parameters of one pre-LN transformer block (the same shapes for grads). */
typedef struct {
	NN_R *ln1w, *ln1b;      /* [d] */
	NN_R *qkvw, *qkvb;      /* [3d, d], [3d] rows q, k, v */
	NN_R *projw, *projb;    /* [d, d], [d] */
	NN_R *ln2w, *ln2b;      /* [d] */
	NN_R *fc1w, *fc1b;      /* [mlp, d], [mlp] */
	NN_R *fc2w, *fc2b;      /* [d, mlp], [d] */
} nn_block_params;

/* Every parameter tensor, pointers into one block, MODEL.md order. */
typedef struct {
	NN_R *patch_w, *patch_b, *etime, *elead;         /* ECG embedding */
	nn_block_params eb[NN_MAXLAYERS];
	NN_R *eln_w, *eln_b, *eproj;
	NN_R *din_w, *din_b, *mask_tok, *dtime, *dlead;  /* decoder */
	nn_block_params db[NN_MAXLAYERS];
	NN_R *dln_w, *dln_b, *dout_w, *dout_b;
	NN_R *tok_emb, *tpos;                            /* text */
	nn_block_params tb[NN_MAXLAYERS];
	NN_R *tln_w, *tln_b, *tproj;
	NN_R *logit_scale;                               /* [1] */
} nn_params;

/* Activations of one block for T = B*N tokens of width d. */
typedef struct {
	NN_R *ln1, *ln1m, *ln1r;        /* [T,d], [T], [T] */
	NN_R *qkv;                      /* [T,3d] */
	NN_R *att;                      /* [B,H,N,N] softmax probabilities
					 * (inference: [nslots,N,N] scratch) */
	NN_R *atty;                     /* [T,d] attention output, before proj */
	NN_R *res1;                     /* [T,d] x + attn */
	NN_R *ln2, *ln2m, *ln2r;        /* [T,d], [T], [T] */
	NN_R *fc1, *gel;                /* [T,mlp] before and after GELU */
	NN_R *out;                      /* [T,d] block output */
} nn_block_acts;

/* Activations of a tower (encoder, decoder or text encoder), and the
 * gradients of its input and output (training). */
typedef struct {
	int B, N, d, H, mlp, L;
	int nslots;                     /* 0, or inference: attention blocks */
	NN_R *x0;                       /* [T,d] input of block 0 */
	nn_block_acts b[NN_MAXLAYERS];
	NN_R *lnf, *lnfm, *lnfr;        /* final LayerNorm [T,d], [T], [T] */
	NN_R *dlnf;                     /* [T,d] gradient of lnf */
	NN_R *dx;                       /* [T,d] gradient of the residual
					 * stream, of x0 after backward */
} nn_tower_acts;

/* Weights (or gradients) of a tower, a view into nn_params. */
typedef struct {
	int L, d, H, mlp;
	int attn, nt;           /* MRT_NN_ATTN_* of its blocks, tokens per lead */
	nn_block_params *b;
	NN_R *lnw, *lnb;
} nn_tower;

typedef struct {
	mrt_nn_config c;
	int maxB, nt, np, nvis, train;
	nn_table tab;
	NN_R *pmem, *gmem;              /* parameters, gradients (NULL if !train) */
	nn_params p, g;
	/* training activations (train), one block: forward activations,
	 * then the activation gradients (zeroed by nn_net_zero_grad), then
	 * the scratch of the block and attention backward */
	NN_R *amem;
	size_t grad_off, grad_n;        /* the activation gradients in amem */
	nn_tower_acts ta[NN_NTOWERS];
	NN_R *xn;                       /* [B, leads*samples] lead-normalised */
	NN_R *pin;                      /* [B*nvis, P] visible patches */
	NN_R *h, *e, *en, *enorm;       /* [B,d], [B,proj], [B,proj], [B] */
	NN_R *dinout;                   /* [B*nvis, dd] dec.in output */
	NN_R *pred, *target;            /* [B*np, P] */
	NN_R *tp, *t, *tn, *tnorm;      /* [B,td], [B,proj], [B,proj], [B] */
	NN_R *logits, *prow, *pcol;     /* [B,B] */
	NN_R *ddin, *dh, *de, *den;     /* gradients of dinout, h, e, en */
	NN_R *dtp, *dt, *dtn, *dpred;   /* ... of tp, t, tn, pred */
	NN_R *bscr;                     /* one block's activation gradients */
	NN_R *ascr;                     /* attention backward scratch */
	int nscr;                       /* threads it has room for */
	uint8_t *valid, *isvis, *kmask; /* [B*np], [B*np], [B*txt_len] */
	int32_t *tokidx;                /* [B*nvis] token index of encoder rows */
	int32_t *tok;                   /* [B*txt_len] token ids of the batch */
	double *wrec;                   /* [B*np] weight of a patch in L_rec */
	/* what the last forward pass ran, for backward */
	int B;
	double lambda_rec, lambda_cma;  /* 0: branch not run */
	int cma_ext;                    /* 1: L_cma is the caller's (nn/dp.h): the
					 * forward stops at en, tn; the backward
					 * starts from den, dtn as set */
	/* inference activations (one block's buffers shared by all layers) */
	NN_R *imem_e, *imem_t;
	nn_tower_acts ie, it;
	NN_R *ixn, *ih, *itp, *it_, *itnorm;
	NN_R *ipin, *ihg;               /* a group's present leads' patches, h */
	double *iproj;                  /* [proj] ecg.proj(h) of one record */
	int32_t *itok, *itk;            /* token indices: all in order, a group's */
	int *igrp;                      /* the records of a group */
	uint8_t *ikm;
	/* the products' context (float build: made with the net, fp32;
	 * mrt_nn_set_precision replaces it), and whether the weights have
	 * changed since its bf16 copy was made (encode refreshes it then;
	 * a training forward pass always does) */
	nn_gemm *gm;
	int wstale;
} nn_net;

int nn_net_new(nn_net **n, const mrt_nn_config *c, int maxB, int train);
void nn_net_free(nn_net *n);
/* Forward pass of a training batch: fills out (may be NULL) and keeps what
 * nn_net_backward needs.  MRT_EINVAL for a bad batch (size, repeated
 * visible patch, no tokens with lambda_cma > 0), MRT_ERANGE for a visible
 * index or token id out of range; nothing is computed then. */
int nn_net_forward(nn_net *n, const mrt_nn_batch *b, const mrt_nn_hparams *hp,
		   mrt_nn_losses *out);
/* Zero the parameter gradients and the activation gradients. */
void nn_net_zero_grad(nn_net *n);
/* Backward pass of the last forward pass: accumulates into the gradients
 * (zero them first), lambda_rec * dL_rec + lambda_cma * dL_cma. */
void nn_net_backward(nn_net *n);
/* Embeddings of B records, every patch of the present leads (missing[l]
 * == 0; NULL: all) visible, h the mean of their tokens (MRT_EINVAL for a
 * record without a present lead): h [B, ecg_d], e [B, proj]
 * L2-normalised, computed per record in double from h (so e does not
 * depend on the batch); either may be NULL. */
int nn_net_encode_ecg(nn_net *n, const float *sig, const uint8_t *missing, int B,
		      NN_R *h, NN_R *e);
int nn_net_encode_text(nn_net *n, const int32_t *tok, int B, NN_R *t);
void nn_normalise(const mrt_nn_config *c, const float *x, const uint8_t *missing,
		  NN_R *y, uint8_t *valid);
/* Table of tensors and parameter pointers into base (NULL: count only). */
int nn_layout(const mrt_nn_config *c, NN_R *base, nn_params *p, nn_table *t);

/* Layers: X_forward(out, cache..., in, params..., shapes) and
 * X_backward(dinp, dparams..., dout, cache..., in, params..., shapes).
 * Every backward accumulates (+=) into every gradient it is given; NULL
 * gradients are skipped. */
/* out[T,O] = in[T,NI] w[O,NI]^T + b[O] (b may be NULL) */
void nn_linear_forward(NN_R *out, const NN_R *in, const NN_R *w, const NN_R *b,
		       int T, int NI, int O);
void nn_linear_forward_naive(NN_R *out, const NN_R *in, const NN_R *w, const NN_R *b,
			     int T, int NI, int O);
/* din[T,NI] += dout w; dw[O,NI] += dout^T in; db[O] += sum_t dout */
void nn_linear_backward(NN_R *din, NN_R *dw, NN_R *db, const NN_R *dout, const NN_R *in,
			const NN_R *w, int T, int NI, int O);
void nn_linear_backward_naive(NN_R *din, NN_R *dw, NN_R *db, const NN_R *dout,
			      const NN_R *in, const NN_R *w, int T, int NI, int O);
/* LayerNorm over the last dimension C of in[T,C]; mean, rstd [T] kept. */
void nn_layernorm_forward(NN_R *out, NN_R *mean, NN_R *rstd, const NN_R *in, const NN_R *w,
			  const NN_R *b, int T, int C);
void nn_layernorm_backward(NN_R *din, NN_R *dw, NN_R *db, const NN_R *dout, const NN_R *in,
			   const NN_R *mean, const NN_R *rstd, const NN_R *w, int T, int C);
void nn_gelu_forward(NN_R *out, const NN_R *in, size_t n);
void nn_gelu_backward(NN_R *din, const NN_R *in, const NN_R *dout, size_t n);
/* Multi-head self-attention: qkv [B,N,3d] (q heads, k heads, v heads),
 * kmask [B,N] 1 = key usable (NULL: all), mask the structure (NULL: all
 * keys), att the probabilities (at most [B,H,N,N]), out [B,N,d].
 * Backward takes the same mask; scr holds nscr N*N blocks (one per
 * thread).  A time-wise or lead-wise mask without tok runs as attention
 * within the groups of tokens (a lead's nt, a time step's N/nt); other
 * structures as full attention with the other keys' probabilities 0.  The
 * naive references always keep att [B,H,N,N]. */
void nn_attn_forward(NN_R *out, NN_R *att, const NN_R *qkv, const uint8_t *kmask,
		     const nn_attn_mask *mask, int B, int N, int d, int H);
void nn_attn_backward(NN_R *dqkv, const NN_R *dout, const NN_R *qkv, const NN_R *att,
		      const nn_attn_mask *mask, int B, int N, int d, int H, NN_R *scr, int nscr);
void nn_attn_forward_naive(NN_R *out, NN_R *att, const NN_R *qkv, const uint8_t *kmask,
			   const nn_attn_mask *mask, int B, int N, int d, int H);
void nn_attn_backward_naive(NN_R *dqkv, const NN_R *dout, const NN_R *qkv, const NN_R *att,
			    int B, int N, int d, int H);
/* L2 normalisation y = x / max(|x|, 1e-12) per row; norm [B] kept. */
void nn_l2norm_forward(NN_R *y, NN_R *norm, const NN_R *x, int B, int C);
void nn_l2norm_backward(NN_R *dx, const NN_R *dy, const NN_R *y, const NN_R *norm, int B,
			int C);
/* Symmetric InfoNCE on normalised en, tn [B,C] with logit scale s; returns
 * the loss, keeps logits/prow/pcol [B,B]; backward accumulates dl times the
 * gradient into den, dtn, ds. */
double nn_infonce_forward(NN_R *logits, NN_R *prow, NN_R *pcol, const NN_R *en,
			  const NN_R *tn, NN_R s, int B, int C);
void nn_infonce_backward(NN_R *den, NN_R *dtn, NN_R *ds, const NN_R *logits,
			 const NN_R *prow, const NN_R *pcol, const NN_R *en, const NN_R *tn,
			 NN_R s, double dl, int B, int C);
/* Masked patch MSE: pred, target [M,P]; w [M] per-patch weights (1/count
 * or 0); returns sum_m w_m mean_j (pred-target)^2; dpred += dl * gradient. */
double nn_mse_forward(const NN_R *pred, const NN_R *target, const double *w, int M, int P);
void nn_mse_backward(NN_R *dpred, const NN_R *pred, const NN_R *target, const double *w,
		     double dl, int M, int P);
/* Mean of rows with mask 1 (all rows if mask NULL) per group: in [B,N,C]
 * -> out [B,C]. */
void nn_pool_forward(NN_R *out, const NN_R *in, const uint8_t *mask, int B, int N, int C);
void nn_pool_backward(NN_R *din, const NN_R *dout, const uint8_t *mask, int B, int N, int C);

#endif /* NN_TYPED_PASS */
