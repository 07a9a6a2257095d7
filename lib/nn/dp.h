/*
 * dp.h: the training step of nn.h in phases, for data parallelism.  A
 * global batch of Bg records is cut into N slices of B = Bg/N (slice r is
 * records r*B .. r*B+B-1), run by N processes (merit-step under mpirun) or
 * one after another by one process; the caller moves the data between the
 * phases, nothing here communicates:
 *
 *   mrt_dp_forward    the slice's forward pass: its normalised embeddings
 *                     en, tn [B, proj] and its count of L_rec's patches
 *   (caller)          gather EN, TN [Bg, proj] (slice r's at row r*B), sum
 *                     the counts
 *   mrt_dp_cma        the slice's rows of L_cma against every column of
 *                     the global batch, both directions: its part of the
 *                     loss, the gradient wrt EN, TN [Bg, proj] and ds
 *   (caller)          sum the N gradients wrt EN, TN; slice r keeps rows
 *                     r*B .. as its den, dtn (the backward of the gather)
 *   mrt_dp_backward   the slice's backward pass into the gradient block
 *                     (mrt_dp_grad); L_rec is the mean over the global
 *                     count, so the slices' losses and gradients add up
 *                     to those of the global batch
 *   (caller)          sum the N gradient blocks, and the loss parts
 *   mrt_dp_update     clipping, AdamW and the step from the summed block
 *
 * With N = 1 this is mrt_nn_train_step up to rounding (L_cma's rows and
 * columns are summed in another order).  Every function returns 0 or a
 * negative code of err.h, with a message in mrt_nn_errmsg.
 */
#ifndef MRT_NN_DP_H
#define MRT_NN_DP_H

#include <stddef.h>

#include "nn/nn.h"

/* Forward pass of slice b (b->B <= max_batch); en, tn [b->B, proj] get the
 * normalised embeddings (untouched when hp->lambda_cma is 0), *nrec the
 * slice's count of masked valid patches. */
int mrt_dp_forward(mrt_nn_model *m, const mrt_nn_batch *b, const mrt_nn_hparams *hp,
		   float *en, float *tn, long *nrec);

/* Rows off .. off+B-1 of symmetric InfoNCE over EN, TN [Bg, proj] with the
 * model's logit scale: *loss gets their part of L_cma (the parts of the N
 * slices add up to L_cma), dEN and dTN [Bg, proj] (overwritten) lambda
 * times the gradient of that part wrt EN and TN, *ds lambda times its
 * gradient wrt the logit scale. */
int mrt_dp_cma(mrt_nn_model *m, const float *EN, const float *TN, int Bg, int off, int B,
	       double lambda, float *dEN, float *dTN, double *ds, double *loss);

/* Backward pass of the last mrt_dp_forward into the gradient block (which
 * it zeroes first): L_rec over nrec patches (the global count), den, dtn
 * [B, proj] the gradient wrt this slice's en, tn and ds its logit-scale
 * gradient (both ignored when lambda_cma is 0).  *lrec gets the slice's
 * part of L_rec. */
int mrt_dp_backward(mrt_nn_model *m, long nrec, const float *den, const float *dtn,
		    double ds, double *lrec);

/* The gradient block and the parameter block (*n floats each). */
float *mrt_dp_grad(mrt_nn_model *m, size_t *n);
const float *mrt_dp_params(const mrt_nn_model *m, size_t *n);

/* Clip, AdamW and step from the gradient block as it is.  l->loss, rec and
 * cma are the caller's (the global batch's); grad_norm and lr are set.
 * MRT_ENUM for a non-finite loss or gradient: nothing changed. */
int mrt_dp_update(mrt_nn_model *m, const mrt_nn_hparams *hp, mrt_nn_losses *l);

#endif
