/*
 * nn.c: the public face of lib/nn (nn.h): configs and presets, the float
 * model with its Adam moments, the training step (clipping, AdamW, the
 * schedule), embeddings.  The layers and the network are in nn_core.inc.
 */
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "nn/nn.h"
#include "nn/nn_impl.h"
#include "nn/nn_model.h"

int
nn_round_half_away(double x)
{
	return (int)(x < 0 ? -floor(-x + 0.5) : floor(x + 0.5));
}

void
nn_table_free(nn_table *t)
{
	free(t->e);
	memset(t, 0, sizeof *t);
}

int
mrt_nn_preset(const char *name, mrt_nn_config *c)
{
	memset(c, 0, sizeof *c);
	if (!strcmp(name, "merit-s")) {
		*c = (mrt_nn_config){ "merit-s", 100, 1000, 50, 12,
				      256, 6, 4, 1024,
				      128, 2, 4, 512,
				      4096, 64, 256, 4, 4, 1024,
				      128, 0.75 };
		return 0;
	}
	if (!strcmp(name, "merit-xs")) {
		/* tiny, for tests; same signal geometry as merit-s so that real
		 * streams fit, odd sizes elsewhere to catch mixed-up dimensions */
		*c = (mrt_nn_config){ "merit-xs", 100, 1000, 50, 12,
				      32, 2, 2, 48,
				      24, 1, 2, 40,
				      512, 16, 20, 1, 2, 36,
				      12, 0.75 };
		return 0;
	}
	return MRT_ENOENT;
}

int
mrt_nn_ntime(const mrt_nn_config *c)
{
	return c->patch > 0 ? c->samples / c->patch : 0;
}

int
mrt_nn_npatch(const mrt_nn_config *c)
{
	return c->leads * mrt_nn_ntime(c);
}

int
mrt_nn_nvis(const mrt_nn_config *c)
{
	return nn_round_half_away(mrt_nn_npatch(c) * (1.0 - c->mask_ratio));
}

static int
check_tower(const char *name, int d, int layers, int heads, int mlp, char *msg, size_t cap)
{
	if (d < 1 || layers < 0 || heads < 1 || mlp < 1 || d > 65536 || mlp > 1 << 20)
		return mrt_errf(msg, cap, MRT_EINVAL, "%s: sizes out of range", name);
	if (layers > NN_MAXLAYERS)
		return mrt_errf(msg, cap, MRT_EINVAL, "%s: more than %d layers", name, NN_MAXLAYERS);
	if (d % heads)
		return mrt_errf(msg, cap, MRT_EINVAL, "%s: width %d not divisible by %d heads", name, d, heads);
	return 0;
}

int
mrt_nn_config_check(const mrt_nn_config *c, char *msg, size_t cap)
{
	int rc;
	if (c->samples < 1 || c->patch < 1 || c->samples % c->patch || c->samples > 1 << 24)
		return mrt_errf(msg, cap, MRT_EINVAL, "samples %d not a multiple of patch %d", c->samples, c->patch);
	if (c->leads < 1 || c->leads > 64)
		return mrt_errf(msg, cap, MRT_EINVAL, "leads %d out of range", c->leads);
	if (!(c->mask_ratio >= 0 && c->mask_ratio < 1))
		return mrt_errf(msg, cap, MRT_EINVAL, "mask_ratio %g not in [0, 1)", c->mask_ratio);
	if (mrt_nn_nvis(c) < 1)
		return mrt_errf(msg, cap, MRT_EINVAL, "no visible patch at mask_ratio %g", c->mask_ratio);
	if ((rc = check_tower("ecg", c->ecg_d, c->ecg_layers, c->ecg_heads, c->ecg_mlp, msg, cap)) ||
	    (rc = check_tower("dec", c->dec_d, c->dec_layers, c->dec_heads, c->dec_mlp, msg, cap)) ||
	    (rc = check_tower("txt", c->txt_d, c->txt_layers, c->txt_heads, c->txt_mlp, msg, cap)))
		return rc;
	if (c->txt_vocab < 5 || c->txt_len < 2 || c->proj < 1 || c->txt_vocab > 1 << 24 ||
	    c->txt_len > 1 << 16)
		return mrt_errf(msg, cap, MRT_EINVAL, "text or projection sizes out of range");
	return 0;
}

void
mrt_nn_hparams_default(mrt_nn_hparams *hp)
{
	*hp = (mrt_nn_hparams){ 3e-4, 0, 1, 0.05, 0.9, 0.95, 1e-8, 1.0, 1.0, 1.0, 0 };
}

double
mrt_nn_lr(const mrt_nn_hparams *hp, long step)
{
	if (step < hp->warmup)
		return hp->lr * (double)(step + 1) / (double)hp->warmup;
	double span = (double)(hp->total - hp->warmup);
	double p = span > 0 ? (double)(step - hp->warmup) / span : 1.0;
	if (p > 1)
		p = 1;
	return hp->lr * (0.1 + 0.9 * 0.5 * (1 + cos(M_PI * p)));
}

/* ---- model ---------------------------------------------------------------- */

int
mrt_nn_new(mrt_nn_model **out, const mrt_nn_config *c, int max_batch, int flags)
{
	*out = NULL;
	if (mrt_nn_config_check(c, NULL, 0) || max_batch < 1)
		return MRT_EINVAL;
	mrt_nn_model *m = calloc(1, sizeof *m);
	if (!m)
		return MRT_ENOMEM;
	int rc = nn_net_new_f(&m->net, c, max_batch, (flags & MRT_NN_TRAIN) != 0);
	if (rc) {
		free(m);
		return rc;
	}
	if (flags & MRT_NN_TRAIN) {
		size_t n = m->net->tab.total;
		m->m = calloc(n, sizeof *m->m);
		m->v = calloc(n, sizeof *m->v);
		if (!m->m || !m->v) {
			mrt_nn_free(m);
			return MRT_ENOMEM;
		}
	}
	return *out = m, 0;
}

void
mrt_nn_free(mrt_nn_model *m)
{
	if (!m)
		return;
	nn_net_free_f(m->net);
	free(m->m);
	free(m->v);
	nn_meta_clear(m);
	free(m);
}

const mrt_nn_config *
mrt_nn_get_config(const mrt_nn_model *m)
{
	return &m->net->c;
}

const char *
mrt_nn_errmsg(const mrt_nn_model *m)
{
	return m->err;
}

size_t
mrt_nn_nparams(const mrt_nn_model *m)
{
	return m->net->tab.total;
}

long
mrt_nn_step(const mrt_nn_model *m)
{
	return m->step;
}

size_t
mrt_nn_ntensors(const mrt_nn_model *m)
{
	return m->net->tab.n;
}

int
mrt_nn_tensor(const mrt_nn_model *m, size_t i, const char **name, int *ndim,
	      int64_t shape[2], float **data, float **grad)
{
	if (i >= m->net->tab.n)
		return MRT_ERANGE;
	const nn_entry *e = &m->net->tab.e[i];
	if (name)
		*name = e->name;
	if (ndim)
		*ndim = e->ndim;
	if (shape)
		shape[0] = e->shape[0], shape[1] = e->shape[1];
	if (data)
		*data = m->net->pmem + e->off;
	if (grad)
		*grad = m->net->gmem ? m->net->gmem + e->off : NULL;
	return 0;
}

void
mrt_nn_init(mrt_nn_model *m, uint64_t seed)
{
	mrt_rng r;
	mrt_rng_seed(&r, seed);
	const nn_table *t = &m->net->tab;
	float *p = m->net->pmem;
	for (size_t i = 0; i < t->n; i++) {
		const nn_entry *e = &t->e[i];
		for (size_t j = 0; j < e->n; j++) {
			float v = 0;
			switch (e->init) {
			case NN_INIT_NORMAL: v = (float)(0.02 * mrt_rng_normal(&r)); break;
			case NN_INIT_ONE: v = 1; break;
			case NN_INIT_LOGIT: v = (float)log(1 / 0.07); break;
			default: v = 0;
			}
			p[e->off + j] = v;
		}
	}
	if (m->m) {
		memset(m->m, 0, t->total * sizeof *m->m);
		memset(m->v, 0, t->total * sizeof *m->v);
	}
	m->step = 0;
}

void
mrt_nn_set_threads(int n)
{
	if (n <= 0)
		n = omp_get_num_procs();
	/* one pool of threads: OpenMP threads each call a single-threaded
	 * OpenBLAS on their share of a product (OpenBLAS's advice for
	 * threaded callers), so two pools never fight over the cores */
	openblas_set_num_threads(1);
	omp_set_num_threads(n);
}

void
mrt_nn_normalise(const mrt_nn_config *c, const float *x, const uint8_t *missing,
		 float *y, uint8_t *valid)
{
	nn_normalise_f(c, x, missing, y, valid);
}

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
	int rc = nn_net_fwdbwd_f(n, b, hp, &l, 1);
	if (rc == MRT_ERANGE)
		return mrt_errf(m->err, sizeof m->err, rc, "visible patch or token id out of range");
	if (rc)
		return mrt_errf(m->err, sizeof m->err, rc, "bad batch (size, missing array or repeated visible patch)");
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
	float lr = (float)l.lr, b1 = (float)hp->beta1, b2 = (float)hp->beta2;
	float stepsz = (float)(l.lr / bc1), sbc2 = (float)sqrt(bc2), eps = (float)hp->eps;
	float decay = (float)(1 - l.lr * hp->wd);
	for (size_t i = 0; i < n->tab.n; i++) {
		const nn_entry *e = &n->tab.e[i];
		if ((e->branch == NN_REC && hp->lambda_rec == 0) ||
		    (e->branch == NN_CMA && hp->lambda_cma == 0))
			continue;
		float *p = n->pmem + e->off, *g = n->gmem + e->off;
		float *mm = m->m + e->off, *vv = m->v + e->off;
		float dk = e->decay ? decay : 1;
		(void)lr;
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
	return 0;
}

int
mrt_nn_encode_ecg(mrt_nn_model *m, const float *sig, const uint8_t *missing, int B,
		  float *h, float *e)
{
	int rc = nn_net_encode_ecg_f(m->net, sig, missing, B, h, e);
	if (rc)
		return mrt_errf(m->err, sizeof m->err, rc, "encode: batch of %d (largest %d) or out of memory", B,
			    m->net->maxB);
	return 0;
}

int
mrt_nn_encode_text(mrt_nn_model *m, const int32_t *tok, int B, float *t)
{
	int rc = nn_net_encode_text_f(m->net, tok, B, t);
	if (rc == MRT_ERANGE)
		return mrt_errf(m->err, sizeof m->err, rc, "token id out of range (vocabulary %d)", m->net->c.txt_vocab);
	if (rc)
		return mrt_errf(m->err, sizeof m->err, rc, "encode: batch of %d (largest %d) or out of memory", B,
			    m->net->maxB);
	return 0;
}

int
mrt_nn_reconstruct(mrt_nn_model *m, const float *sig, const uint8_t *missing,
		   const int32_t *vis, int B, float *xn, float *pred)
{
	nn_net_f *n = m->net;
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	hp.lambda_cma = 0;
	if (!n->train)
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "reconstruct needs a model made with MRT_NN_TRAIN");
	mrt_nn_batch b = { B, sig, missing, vis, NULL };
	int rc = nn_net_fwdbwd_f(n, &b, &hp, NULL, 0);
	if (rc)
		return mrt_errf(m->err, sizeof m->err, rc, "reconstruct: bad batch");
	size_t len = (size_t)B * n->c.leads * n->c.samples;
	if (xn)
		memcpy(xn, n->xn, len * sizeof *xn);
	if (pred)
		memcpy(pred, n->pred, len * sizeof *pred);
	return 0;
}
