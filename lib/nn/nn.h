/*
 * nn.h: the MERIT model of ../shared/MODEL.md: forward and backward passes,
 * AdamW, learning-rate schedule, safetensors checkpoints, embeddings.
 *
 * A model is created for (config, largest batch).  Parameters, gradients,
 * the two Adam moments and the training activations each live in one
 * contiguous block, laid out by one table walked in the order of the tensor
 * names of MODEL.md; nothing is allocated inside a training step.
 *
 * Every function returns 0 or a negative code of err.h; the model keeps a
 * message for the last error (mrt_nn_errmsg).  Nothing prints or exits.
 *
 * Threads: mrt_nn_set_threads() sets OpenBLAS, OpenMP and oneDNN alike
 * (Debian's oneDNN runs on the same OpenMP pool).  With the same thread
 * count, precision and seed a run is bit-for-bit reproducible.
 */
#ifndef MRT_NN_H
#define MRT_NN_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MRT_NN_FORMAT  "merit"
#define MRT_NN_VERSION 1

/* Attention structure of a tower over ECG tokens (token = lead*nt + t):
 * FULL, every token attends every token; CRISSCROSS, the tokens of its own
 * lead and of its own time step; AXIAL, blocks alternate: block 0, 2, ...
 * time-wise (the tokens of its own lead, across time), block 1, 3, ...
 * lead-wise (the tokens of its own time step, across leads). */
enum { MRT_NN_ATTN_FULL, MRT_NN_ATTN_CRISSCROSS, MRT_NN_ATTN_AXIAL };
/* Time positions of the ECG encoder and decoder: LEARNED tables, or fixed
 * SINCOS tables (as MAE: sin then cos, frequencies 10000^(-i/(d/2))),
 * never updated. */
enum { MRT_NN_POS_LEARNED, MRT_NN_POS_SINCOS };

/* Every size of the model.  Derived: nt = samples/patch, np = leads*nt,
 * nvis = round_half_away(np * (1 - mask_ratio)). */
typedef struct {
	char preset[32];        /* "merit-s", "merit-xs" or "" */
	int fs;                 /* sampling rate, Hz (metadata only) */
	int samples;            /* samples per lead */
	int patch;              /* samples per patch */
	int leads;              /* 12 */
	int ecg_d, ecg_layers, ecg_heads, ecg_mlp;
	int dec_d, dec_layers, dec_heads, dec_mlp;
	int txt_vocab, txt_len, txt_d, txt_layers, txt_heads, txt_mlp;
	int proj;               /* shared embedding size of e and t */
	double mask_ratio;      /* fraction of patches hidden in training */
	int enc_attn, dec_attn; /* MRT_NN_ATTN_* of the ECG encoder, decoder */
	int pos;                /* MRT_NN_POS_* */
} mrt_nn_config;

/* Fill *c with a preset: "merit-s" (MODEL.md) or "merit-xs" (tiny, tests).
 * MRT_ENOENT for an unknown name. */
int mrt_nn_preset(const char *name, mrt_nn_config *c);
/* MRT_EINVAL (with a reason in msg) if the sizes do not fit together, or
 * if the model has more than MRT_NN_MAXPARAMS parameters or, in training,
 * more than about MRT_NN_MAXACTS activations per record (1 GiB each as
 * float32; merit-s has 9.5 million and about 5 million). */
#define MRT_NN_MAXPARAMS (1 << 28)
#define MRT_NN_MAXACTS   (1 << 28)
int mrt_nn_config_check(const mrt_nn_config *c, char *msg, size_t cap);
/* Set the config key to value, as written in a config file and in a
 * checkpoint's metadata (merit-checkpoint(5)): a size (ecg_d, dec_layers,
 * ... the field names above, a positive integer), mask_ratio, enc_attn and
 * dec_attn (full, crisscross, axial), pos (learned, sincos).  MRT_ENOENT
 * for an unknown key, MRT_EINVAL for a bad value; msg gets the reason. */
int mrt_nn_config_set(mrt_nn_config *c, const char *key, const char *value, char *msg,
		      size_t cap);
/* The names of MRT_NN_ATTN_* and MRT_NN_POS_* values ("full", "sincos"). */
const char *mrt_nn_attn_name(int attn);
const char *mrt_nn_pos_name(int pos);
int mrt_nn_ntime(const mrt_nn_config *c);     /* patches per lead */
int mrt_nn_npatch(const mrt_nn_config *c);    /* tokens per record */
int mrt_nn_nvis(const mrt_nn_config *c);      /* visible tokens in training */

/* Training hyper-parameters (mrt_nn_hparams_default gives MODEL.md's). */
typedef struct {
	double lr;              /* peak learning rate, 3e-4 */
	long warmup;            /* linear warm-up steps */
	long total;             /* total steps (cosine ends at 10% of lr) */
	double wd;              /* 0.05, on 2-D .weight tensors only */
	double beta1, beta2;    /* 0.9, 0.95 */
	double eps;             /* 1e-8 */
	double clip;            /* global gradient norm, 1.0; 0 = off */
	double lambda_rec;      /* 1; 0 turns the decoder branch off */
	double lambda_cma;      /* 1; 0 turns the text/contrastive branch off */
	int raw_target;         /* 1: target is the lead-normalised patch */
} mrt_nn_hparams;

void mrt_nn_hparams_default(mrt_nn_hparams *hp);
/* Learning rate at step (0-based): linear warm-up over hp->warmup steps to
 * hp->lr, then cosine decay to 0.1*hp->lr at hp->total, constant after. */
double mrt_nn_lr(const mrt_nn_hparams *hp, long step);

/* One training batch.  Arrays are row-major, owned by the caller. */
typedef struct {
	int B;                  /* records, 1..max_batch */
	const float *sig;       /* [B, leads, samples] physical values, NaN allowed */
	const uint8_t *missing; /* [B, leads] 1 = lead missing (zeros), or NULL */
	const int32_t *vis;     /* [B, nvis] visible token indices lead*nt + t */
	const int32_t *tok;     /* [B, txt_len] token ids, 0 = padding; NULL if
				 * lambda_cma == 0 */
} mrt_nn_batch;

typedef struct {
	double loss;            /* lambda_rec*rec + lambda_cma*cma */
	double rec;             /* L_rec (0 if the branch is off) */
	double cma;             /* L_cma (0 if the branch is off) */
	double grad_norm;       /* global norm before clipping */
	double lr;              /* learning rate used */
	long nrec;              /* patches in L_rec */
} mrt_nn_losses;

typedef struct mrt_nn_model mrt_nn_model;

enum { MRT_NN_TRAIN = 1 };   /* flag: allocate gradients, moments, activations */

/* Create a model for batches up to max_batch; parameters are zero until
 * mrt_nn_init or mrt_nn_load_weights.  flags: MRT_NN_TRAIN or 0 (inference
 * only: no gradients or moments). */
int mrt_nn_new(mrt_nn_model **m, const mrt_nn_config *c, int max_batch, int flags);
void mrt_nn_free(mrt_nn_model *m);
const mrt_nn_config *mrt_nn_get_config(const mrt_nn_model *m);
const char *mrt_nn_errmsg(const mrt_nn_model *m);
size_t mrt_nn_nparams(const mrt_nn_model *m);
long mrt_nn_step(const mrt_nn_model *m);      /* optimizer steps taken */

/* MODEL.md initialisation from seed (N(0,0.02) weights and embeddings,
 * zero biases, LayerNorm 1/0, logit_scale ln(1/0.07)); resets the step
 * and the Adam moments. */
void mrt_nn_init(mrt_nn_model *m, uint64_t seed);

/* Threads (n <= 0: all cores): n OpenMP threads, each calling OpenBLAS
 * single-threaded on its share of every product; oneDNN's products run
 * on the same n threads, outside any parallel region (no nesting, so no
 * oversubscription: with n = 1 all the work is on one thread).  Call it before
 * mrt_nn_new (the attention scratch is sized for the thread count). */
void mrt_nn_set_threads(int n);

/* Precision of the matrix products.  FP32 (the default): OpenBLAS sgemm
 * (oneDNN's fp32 matmul on the shapes where it measured faster), exact as
 * always.  BF16, mixed precision: the inputs of every matrix product
 * rounded to bf16 (nearest, ties to even), accumulated and returned in
 * fp32 by oneDNN (the attention products per head by this library's own
 * AVX512_BF16 kernel); weights, gradients, AdamW, LayerNorm, softmax,
 * GELU, the losses and the normalisations stay fp32, and a weight's bf16
 * copy is made once per step.  The precision is not part of a checkpoint. */
enum { MRT_NN_FP32, MRT_NN_BF16, MRT_NN_AUTO };
/* 1 if this CPU runs bf16 products (AVX512_BF16 or AMX-BF16); else 0 and
 * *missing (may be NULL) names the feature it lacks.  The environment
 * variable MERIT_NO_BF16 (not empty, not "0") makes it say 0, for tests. */
int mrt_nn_cpu_bf16(const char **missing);
/* Set the precision: MRT_NN_FP32, MRT_NN_BF16, or MRT_NN_AUTO (bf16 where
 * mrt_nn_cpu_bf16 says yes, else fp32); MRT_EINVAL, with a message naming
 * the missing CPU feature, for bf16 where the CPU lacks it.
 * mrt_nn_get_precision: MRT_NN_FP32 or MRT_NN_BF16. */
int mrt_nn_set_precision(mrt_nn_model *m, int prec);
int mrt_nn_get_precision(const mrt_nn_model *m);

/* Lead normalisation shared by training and encoding: for each lead of
 * x[leads*samples], mean and population std in double over finite samples,
 * y = (x - mean)/(std + 1e-6), NaN (or a missing lead) -> 0.  valid, if
 * not NULL, gets [leads*nt] 1/0: 0 for a patch holding a non-finite sample
 * or on a missing lead. */
void mrt_nn_normalise(const mrt_nn_config *c, const float *x, const uint8_t *missing,
		      float *y, uint8_t *valid);

/* One step: forward, backward, clip, AdamW.  On a non-finite loss or
 * gradient returns MRT_ENUM and leaves weights, moments and step unchanged.
 * out may be NULL. */
int mrt_nn_train_step(mrt_nn_model *m, const mrt_nn_batch *b, const mrt_nn_hparams *hp,
		      mrt_nn_losses *out);

/* Embeddings of the present leads: the encoder sees every patch of each
 * lead with missing[b*leads + l] == 0 (missing NULL: all 12), each token
 * with its own lead embedding and time position, and nothing of a missing
 * lead.  h [B, ecg_d] is the mean of those final tokens and e [B, proj] =
 * ecg.proj(h) L2-normalised, computed per record in double so that e does
 * not depend on the batch; either may be NULL.  Records with different
 * counts of present leads run as separate groups (one encoder pass per
 * count), so h does not depend on the batch either.  B <= max_batch;
 * MRT_EINVAL for a record with no present lead. */
int mrt_nn_encode_ecg(mrt_nn_model *m, const float *sig, const uint8_t *missing, int B,
		      float *h, float *e);
/* The encoder's final tokens (after ecg.ln), all patches visible: tok
 * [B, npatch, ecg_d], token lead*nt + t (the caption decoder's input). */
int mrt_nn_encode_tokens(mrt_nn_model *m, const float *sig, const uint8_t *missing, int B,
			 float *tok);
/* Report embeddings t [B, proj], L2-normalised.  tok [B, txt_len]. */
int mrt_nn_encode_text(mrt_nn_model *m, const int32_t *tok, int B, float *t);
/* Masked reconstruction for pictures: with visible tokens vis [B, nvis],
 * writes the lead-normalised input xn [B, leads, samples] and the decoder
 * output pred [B, leads, samples] (in patch-normalised units when the
 * target is normalised).  Either may be NULL. */
int mrt_nn_reconstruct(mrt_nn_model *m, const float *sig, const uint8_t *missing,
		       const int32_t *vis, int B, float *xn, float *pred);
/* The same with nv visible tokens a record (vis [B, nv], 1 <= nv <= nvis):
 * a reconstruction from fewer patches than training shows, such as the
 * visible patches of a lead subset. */
int mrt_nn_reconstruct_nv(mrt_nn_model *m, const float *sig, const uint8_t *missing,
			  const int32_t *vis, int nv, int B, float *xn, float *pred);

/* Checkpoints (formats/merit-checkpoint.5).  Weights: tensor names of
 * MODEL.md, float32, [out, in] linear weights; __metadata__ holds format,
 * version, preset, ecg.heads, dec.heads, txt.heads, fs, samples, patch,
 * mask_ratio, max_len, step, plus the caller's extra key/value pairs
 * (NULL-terminated list, may be NULL).  optim_path (may be NULL): the Adam
 * moments as m.NAME / v.NAME and the step.  Both files are written
 * atomically.  err gets a message on failure. */
int mrt_nn_save(const mrt_nn_model *m, const char *weights_path, const char *optim_path,
		const char *const *extra_meta, char *err, size_t errcap);
/* Read the config (metadata + shapes) of a weights file. */
int mrt_nn_read_config(const char *weights_path, mrt_nn_config *c, char *err, size_t errcap);
/* Load weights into a model whose config matches the file, and the step
 * from its metadata; with optim_path (needs MRT_NN_TRAIN) the moments and
 * step of that file too.  A missing or extra tensor, a wrong dtype or shape,
 * or sizes that differ from the model's is an error, and then the model is
 * left as it was. */
int mrt_nn_load(mrt_nn_model *m, const char *weights_path, const char *optim_path,
		char *err, size_t errcap);
/* Convenience: read the config, create, load. */
int mrt_nn_open(mrt_nn_model **m, const char *weights_path, const char *optim_path,
		int max_batch, int flags, char *err, size_t errcap);
/* A metadata value of the last loaded weights file (NULL if absent);
 * valid until the next load or free. */
const char *mrt_nn_meta(const mrt_nn_model *m, const char *key);

/* Parameter tensors in checkpoint order (for tools and tests). */
size_t mrt_nn_ntensors(const mrt_nn_model *m);
/* Name, shape (ndim 1 or 2) and data of tensor i; grad is NULL without
 * MRT_NN_TRAIN.  MRT_ERANGE past the end. */
int mrt_nn_tensor(const mrt_nn_model *m, size_t i, const char **name, int *ndim,
		  int64_t shape[2], float **data, float **grad);

#endif
