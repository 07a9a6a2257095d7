/*
 * optim.c: the training step of nn.h: forward, backward, global-norm
 * gradient clipping and AdamW (as PyTorch, MODEL.md) over the flat
 * parameter block, tensor by tensor for the weight decay and the branches.
 * nn_sumsq, nn_adamw_setup and nn_adamw_update are also the caption
 * decoder's (caption.c).
 */
#include <math.h>
#include <string.h>

#include "nn/nn.h"
#include "nn/internal.h"
#include "nn/dp.h"

double
nn_sumsq(const float *g, size_t n)
{
	enum { CHUNKS = 64 };
	double part[CHUNKS];
	size_t step = (n + CHUNKS - 1) / CHUNKS;
	#pragma omp parallel for schedule(static)
	for (int k = 0; k < CHUNKS; k++) {
		double s = 0;
		size_t a = k * step, b = a + step < n ? a + step : n;
		for (size_t i = a; i < b; i++)
			s += (double)g[i] * g[i];
		part[k] = s;
	}
	double s = 0;
	for (int k = 0; k < CHUNKS; k++)
		s += part[k];
	return s;
}

void
nn_adamw_setup(nn_adamw *a, const mrt_nn_hparams *hp, double lr, long t, double norm)
{
	double bc1 = 1 - pow(hp->beta1, (double)t), bc2 = 1 - pow(hp->beta2, (double)t);
	a->coef = 1;
	if (hp->clip > 0 && hp->clip / (norm + 1e-6) < 1)
		a->coef = (float)(hp->clip / (norm + 1e-6));
	a->b1 = (float)hp->beta1;
	a->b2 = (float)hp->beta2;
	a->stepsz = (float)(lr / bc1);
	a->sbc2 = (float)sqrt(bc2);
	a->eps = (float)hp->eps;
	a->decay = (float)(1 - lr * hp->wd);
}

void
nn_adamw_update(const nn_adamw *a, float *p, const float *g, float *mm, float *vv, size_t n,
		int decay)
{
	float b1 = a->b1, b2 = a->b2, coef = a->coef, stepsz = a->stepsz, sbc2 = a->sbc2;
	float eps = a->eps, dk = decay ? a->decay : 1;
	#pragma omp parallel for schedule(static) if (n > 65536)
	for (size_t j = 0; j < n; j++) {
		float gj = g[j] * coef;
		mm[j] = b1 * mm[j] + (1 - b1) * gj;
		vv[j] = b2 * vv[j] + (1 - b2) * gj * gj;
		p[j] *= dk;
		p[j] -= stepsz * mm[j] / (sqrtf(vv[j]) / sbc2 + eps);
	}
}

/* Clip and AdamW from the gradient block, l's loss already set; MRT_ENUM
 * (nothing changed) for a non-finite loss or gradient. */
static int
update(mrt_nn_model *m, const mrt_nn_hparams *hp, mrt_nn_losses *l, mrt_nn_losses *out)
{
	nn_net_f *n = m->net;
	double norm = sqrt(nn_sumsq(n->gmem, n->tab.total));
	l->grad_norm = norm;
	l->lr = mrt_nn_lr(hp, m->step);
	if (out)
		*out = *l;
	if (!isfinite(l->loss))
		return mrt_errf(m->err, sizeof m->err, MRT_ENUM, "non-finite loss at step %ld", m->step);
	if (!isfinite(norm))
		return mrt_errf(m->err, sizeof m->err, MRT_ENUM, "non-finite gradient at step %ld", m->step);
	nn_adamw a;
	nn_adamw_setup(&a, hp, l->lr, m->step + 1, norm);
	for (size_t i = 0; i < n->tab.n; i++) {
		const nn_entry *e = &n->tab.e[i];
		if ((e->branch == NN_REC && hp->lambda_rec == 0) ||
		    (e->branch == NN_CMA && hp->lambda_cma == 0) || e->fixed)
			continue;
		nn_adamw_update(&a, n->pmem + e->off, n->gmem + e->off, m->m + e->off,
				m->v + e->off, e->n, e->decay);
	}
	m->step++;
	n->wstale = 1;
	return 0;
}

static int
check_hp(mrt_nn_model *m, const mrt_nn_hparams *hp)
{
	if (!m->net->train)
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "model was created without MRT_NN_TRAIN");
	if (hp->lambda_rec < 0 || hp->lambda_cma < 0 || (hp->lambda_rec == 0 && hp->lambda_cma == 0))
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "loss weights must be >= 0 and not both 0");
	return 0;
}

/* nn_net_forward_f's code as the model's error */
static int
forward_err(mrt_nn_model *m, int rc)
{
	if (rc == MRT_ERANGE)
		return mrt_errf(m->err, sizeof m->err, rc, "visible patch or token id out of range");
	return mrt_errf(m->err, sizeof m->err, rc, "bad batch (size, missing array or repeated visible patch)");
}

int
mrt_nn_train_step(mrt_nn_model *m, const mrt_nn_batch *b, const mrt_nn_hparams *hp,
		  mrt_nn_losses *out)
{
	nn_net_f *n = m->net;
	mrt_nn_losses l;
	int rc = check_hp(m, hp);
	if (rc)
		return rc;
	n->cma_ext = 0;
	if ((rc = nn_net_forward_f(n, b, hp, &l)) != 0)
		return forward_err(m, rc);
	nn_net_zero_grad_f(n);
	nn_net_backward_f(n);
	return update(m, hp, &l, out);
}

/* ---- the data-parallel step of nn/dp.h ------------------------------------ */

int
mrt_dp_forward(mrt_nn_model *m, const mrt_nn_batch *b, const mrt_nn_hparams *hp, float *en,
	       float *tn, long *nrec)
{
	nn_net_f *n = m->net;
	mrt_nn_losses l;
	int rc = check_hp(m, hp);
	if (rc)
		return rc;
	n->cma_ext = 1;
	if ((rc = nn_net_forward_f(n, b, hp, &l)) != 0)
		return forward_err(m, rc);
	if (hp->lambda_cma != 0) {
		size_t k = (size_t)b->B * n->c.proj;
		memcpy(en, n->en, k * sizeof *en);
		memcpy(tn, n->tn, k * sizeof *tn);
	}
	*nrec = l.nrec;
	return 0;
}

int
mrt_dp_backward(mrt_nn_model *m, long nrec, const float *den, const float *dtn, double ds,
		double *lrec)
{
	nn_net_f *n = m->net;
	size_t M = (size_t)n->B * n->np;
	if (!n->cma_ext)
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "no mrt_dp_forward before mrt_dp_backward");
	*lrec = 0;
	if (n->lambda_rec != 0) {
		/* L_rec's mean over the masked patches of the global batch */
		for (size_t i = 0; i < M; i++)
			n->wrec[i] = !n->isvis[i] && n->valid[i] ? 1.0 / (double)nrec : 0;
		*lrec = nn_mse_forward_f(n->pred, n->target, n->wrec, (int)M, n->c.patch);
	}
	nn_net_zero_grad_f(n);
	if (n->lambda_cma != 0) {
		size_t k = (size_t)n->B * n->c.proj;
		memcpy(n->den, den, k * sizeof *den);
		memcpy(n->dtn, dtn, k * sizeof *dtn);
		*n->g.logit_scale += (float)ds;
	}
	nn_net_backward_f(n);
	return 0;
}

float *
mrt_dp_grad(mrt_nn_model *m, size_t *n)
{
	*n = m->net->tab.total;
	return m->net->gmem;
}

const float *
mrt_dp_params(const mrt_nn_model *m, size_t *n)
{
	*n = m->net->tab.total;
	return m->net->pmem;
}

int
mrt_dp_update(mrt_nn_model *m, const mrt_nn_hparams *hp, mrt_nn_losses *l)
{
	int rc = check_hp(m, hp);
	if (rc)
		return rc;
	return update(m, hp, l, l);
}
