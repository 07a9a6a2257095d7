/*
 * batch.h: the model's inputs from stream records (merit-stream(5)), shared
 * by merit-step, ecg-encode and merit-eval.
 *
 * Each function fills one row of a batch from one record and checks it
 * against the model's config.  On failure it returns a negative code of
 * err.h and writes a reason naming the field into err (without the record
 * number, which the caller knows); nothing prints or exits.
 */
#ifndef MRT_BATCH_H
#define MRT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"
#include "io/stream.h"

/*
 * sig [leads, samples] in physical units (NaN for invalid samples) into
 * sig[c->leads * c->samples], and the record's missing leads (field
 * `missing`, lead names matched against field `leads`) into
 * missing[c->leads] as 1/0.  The signal must have exactly the config's
 * leads and samples.
 */
int mrt_batch_signal(const msgpack_object *rec, const mrt_nn_config *c, float *sig,
		     uint8_t *missing, char *err, size_t cap);

/*
 * The visible patches of the record's `mask` (uint8 [leads, NT], 0 =
 * visible; see ecg-mask(1)) into vis[nvis] as token indices lead*NT + t, in
 * increasing order.  The mask must have the config's shape and exactly
 * mrt_nn_nvis(c) visible patches, none on a missing lead.
 */
int mrt_batch_visible(const msgpack_object *rec, const mrt_nn_config *c,
		      const uint8_t *missing, int32_t *vis, char *err, size_t cap);

/*
 * The same, keeping only the visible patches on leads not in drop[leads]
 * (drop NULL: all): their count, at least 1, into *nv.  For a
 * reconstruction from a lead subset (ecg-encode --recon --leads).
 */
int mrt_batch_visible_kept(const msgpack_object *rec, const mrt_nn_config *c,
			   const uint8_t *missing, const uint8_t *drop, int32_t *vis, int *nv,
			   char *err, size_t cap);

/* The record's `tok` (int32 [txt_len], ids below txt_vocab) into tok. */
int mrt_batch_tokens(const msgpack_object *rec, const mrt_nn_config *c, int32_t *tok,
		     char *err, size_t cap);

#endif
