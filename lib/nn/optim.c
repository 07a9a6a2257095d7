/*
 * optim.c: the training step of nn.h: forward, backward, global-norm
 * gradient clipping and AdamW (as PyTorch, MODEL.md) over the flat
 * parameter block, tensor by tensor for the weight decay and the branches.
 */
#include <math.h>
#include <string.h>

#include "nn/nn.h"
#include "nn/internal.h"

/* Sum of squares in a fixed order whatever the thread count. */
static double
sumsq(const float *g, size_t n)
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

int
mrt_nn_train_step(mrt_nn_model *m, const mrt_nn_batch *b, const mrt_nn_hparams *hp,
		  mrt_nn_losses *out)
{
	nn_net_f *n = m->net;
	mrt_nn_losses l;
	if (!n->train)
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "model was created without MRT_NN_TRAIN");
	if (hp->lambda_rec < 0 || hp->lambda_cma < 0 || (hp->lambda_rec == 0 && hp->lambda_cma == 0))
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "loss weights must be >= 0 and not both 0");
	int rc = nn_net_forward_f(n, b, hp, &l);
	if (rc == MRT_ERANGE)
		return mrt_errf(m->err, sizeof m->err, rc, "visible patch or token id out of range");
	if (rc)
		return mrt_errf(m->err, sizeof m->err, rc, "bad batch (size, missing array or repeated visible patch)");
	nn_net_zero_grad_f(n);
	nn_net_backward_f(n);
	double norm = sqrt(sumsq(n->gmem, n->tab.total));
	l.grad_norm = norm;
	l.lr = mrt_nn_lr(hp, m->step);
	if (out)
		*out = l;
	if (!isfinite(l.loss))
		return mrt_errf(m->err, sizeof m->err, MRT_ENUM, "non-finite loss at step %ld", m->step);
	if (!isfinite(norm))
		return mrt_errf(m->err, sizeof m->err, MRT_ENUM, "non-finite gradient at step %ld", m->step);
	float coef = 1;
	if (hp->clip > 0 && hp->clip / (norm + 1e-6) < 1)
		coef = (float)(hp->clip / (norm + 1e-6));
	long t = m->step + 1;
	double bc1 = 1 - pow(hp->beta1, (double)t), bc2 = 1 - pow(hp->beta2, (double)t);
	float b1 = (float)hp->beta1, b2 = (float)hp->beta2;
	float stepsz = (float)(l.lr / bc1), sbc2 = (float)sqrt(bc2), eps = (float)hp->eps;
	float decay = (float)(1 - l.lr * hp->wd);
	for (size_t i = 0; i < n->tab.n; i++) {
		const nn_entry *e = &n->tab.e[i];
		if ((e->branch == NN_REC && hp->lambda_rec == 0) ||
		    (e->branch == NN_CMA && hp->lambda_cma == 0) || e->fixed)
			continue;
		float *p = n->pmem + e->off, *g = n->gmem + e->off;
		float *mm = m->m + e->off, *vv = m->v + e->off;
		float dk = e->decay ? decay : 1;
		#pragma omp parallel for schedule(static) if (e->n > 65536)
		for (size_t j = 0; j < e->n; j++) {
			float gj = g[j] * coef;
			mm[j] = b1 * mm[j] + (1 - b1) * gj;
			vv[j] = b2 * vv[j] + (1 - b2) * gj * gj;
			p[j] *= dk;
			p[j] -= stepsz * mm[j] / (sqrtf(vv[j]) / sbc2 + eps);
		}
	}
	m->step++;
	n->wstale = 1;
	return 0;
}
