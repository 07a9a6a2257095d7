/*
 * caption.h: ECG-conditioned report generation: a small causal pre-LN
 * transformer decoder over a MERIT checkpoint's BPE tokens that
 * cross-attends to the frozen ECG encoder of that checkpoint
 * (formats/merit-caption.5).
 *
 * The memory the decoder attends to is the encoder's final tokens (after
 * ecg.ln, every patch visible) averaged over time per lead: one token of
 * width ecg_d per lead, in lead order (or, with cap_memory tokens, all of
 * them).  The encoder tokens already mix
 * time through attention, the findings a report states are rhythm,
 * conduction, axis and lead-group morphology, and a lead's token keeps the
 * lead it came from; the decoder then attends to 12 tokens instead of
 * leads*nt (240 for merit-s), so its cross-attention costs 20 times less.
 *
 * A model holds a copy of the encoder's ecg.* tensors (frozen, never
 * updated) and its tokenizer, so a caption checkpoint stands alone.
 * Parameters, gradients, Adam moments and activations of the decoder each
 * live in one block (lib/nn's layout); the training step uses lib/nn's
 * AdamW, clipping and learning-rate schedule (mrt_nn_hparams).
 *
 * Every function returns 0 or a negative code of err.h; messages go to
 * the model's mrt_cap_errmsg or to the caller's err buffer.  Nothing
 * prints or exits.
 */
#ifndef MRT_CAPTION_H
#define MRT_CAPTION_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"

#define MRT_CAP_FORMAT  "merit-caption"
#define MRT_CAP_VERSION 1
#define MRT_CAP_MAXBEAM 64

#include "nn/cap_config.h"

typedef struct mrt_cap_model mrt_cap_model;

/* A new model on the encoder of merit checkpoint enc_path (which must carry
 * a tokenizer), decoder sizes cc (its vocab, len, mem, mem_d are set from
 * the encoder), ecg 0 for the text-only baseline (cross-attention off),
 * weights N(0, 0.02) from seed (biases 0, LayerNorm 1).  Inference only. */
int mrt_cap_create(mrt_cap_model **m, const char *enc_path, mrt_cap_config *cc, int ecg,
		   uint64_t seed, char *err, size_t errcap);
/* Open a caption checkpoint for batches up to max_batch; flags
 * MRT_NN_TRAIN allocates gradients, moments and activations, and reads the
 * moments from optim_path if not NULL.  A file that is not a caption
 * checkpoint, or whose tensors do not match its metadata, is an error. */
int mrt_cap_open(mrt_cap_model **m, const char *path, const char *optim_path, int max_batch,
		 int flags, char *err, size_t errcap);
/* Write the weights (encoder and decoder tensors, metadata: format,
 * version, step, cap.*, enc.* config, tokenizer, then extra key/value
 * pairs, NULL-terminated, may be NULL) and, with optim_path, the moments;
 * both atomically. */
int mrt_cap_save(const mrt_cap_model *m, const char *path, const char *optim_path,
		 const char *const *extra, char *err, size_t errcap);
void mrt_cap_free(mrt_cap_model *m);

const mrt_cap_config *mrt_cap_get_config(const mrt_cap_model *m);
const mrt_nn_config *mrt_cap_enc_config(const mrt_cap_model *m);
int mrt_cap_ecg(const mrt_cap_model *m);          /* 0: the --no-ecg baseline */
const char *mrt_cap_errmsg(const mrt_cap_model *m);
/* A metadata value of the file the model was opened from, or NULL. */
const char *mrt_cap_meta(const mrt_cap_model *m, const char *key);
/* The tokenizer text (merit-vocab(5)) the encoder was trained with. */
const char *mrt_cap_tokenizer(const mrt_cap_model *m);
size_t mrt_cap_nparams(const mrt_cap_model *m);   /* decoder parameters */
long mrt_cap_step(const mrt_cap_model *m);

/* The identity of the frozen encoder: 16 hex digits of a hash of its
 * tensors (the field cap_enc beside a stored memory, merit-caption(1)). */
const char *mrt_cap_enc_id(const mrt_cap_model *m);
/* The memory of B records (sig, missing as mrt_nn_batch, B <= max_batch):
 * mem [B, mem, mem_d]. */
int mrt_cap_encode(mrt_cap_model *m, const float *sig, const uint8_t *missing, int B,
		   float *mem);

typedef struct {
	double loss;            /* mean cross-entropy per scored token */
	double grad_norm;       /* before clipping */
	double lr;
	long ntok;              /* scored tokens */
} mrt_cap_losses;

/* One teacher-forcing step on tok [B, len] with memory mem [B, mem, mem_d]
 * (NULL for a model without the ECG): forward, backward, clipping, AdamW
 * of lib/nn (hp's lr, warmup, total, wd, betas, eps, clip).  MRT_ENUM for
 * a non-finite loss or gradient, leaving the model unchanged. */
int mrt_cap_train_step(mrt_cap_model *m, const float *mem, const int32_t *tok, int B,
		       const mrt_nn_hparams *hp, mrt_cap_losses *out);

typedef struct {
	int beam;               /* 1: greedy; 1..MRT_CAP_MAXBEAM */
	int max_len;            /* generated tokens, [SEP] included: 1..len-1 */
	double length_penalty;  /* a finished hypothesis scores logp / n^alpha */
} mrt_cap_gen;

/* Generate for B records (mem [B, mem, mem_d], NULL without the ECG):
 * tok [B, len] gets [CLS], the generated tokens (ending with [SEP] unless
 * max_len ran out), then [PAD]; n [B] the generated count, [SEP]
 * included; logp [B] (may be NULL) the hypothesis's log-probability.
 * Records run in parallel, each on its own: the result does not depend
 * on B or the thread count. */
int mrt_cap_generate(mrt_cap_model *m, const float *mem, int B, const mrt_cap_gen *g,
		     int32_t *tok, int *n, double *logp);

#endif
