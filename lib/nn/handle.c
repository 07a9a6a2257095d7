/*
 * handle.c: the mrt_nn_model handle of nn.h: the float network with its
 * Adam moments, step and checkpoint metadata; parameter tensors, the MODEL.md
 * initialisation, threads, embeddings and reconstructions.  The layers and
 * the network are in model.c, the training step in optim.c, checkpoints in
 * checkpoint.c.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "nn/nn.h"
#include "nn/internal.h"
#include "core/rng.h"

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
	if ((rc = nn_gemm_new(&m->net->gm, MRT_NN_FP32, m->net->pmem, m->net->tab.total))) {
		mrt_nn_free(m);
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
	nn_meta_clear(&m->meta);
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
	if (data)
		m->net->wstale = 1;     /* the caller may write the weights */
	return 0;
}

/* Element j of a fixed time-position table [nt, d] (MODEL.md's MAE form):
 * row t is sin(t w_i) for i < d/2, then cos(t w_i), w_i = 10000^(-i/(d/2)). */
static float
sincos_pos(const nn_entry *e, size_t j)
{
	size_t d = (size_t)e->shape[1], half = d / 2, t = j / d, i = j % d;
	double w = pow(10000.0, -(double)(i % half) / (double)half);
	return (float)(i < half ? sin((double)t * w) : cos((double)t * w));
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
			case NN_INIT_SINCOS: v = sincos_pos(e, j); break;
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
	m->net->wstale = 1;
}

int
mrt_nn_set_precision(mrt_nn_model *m, int prec)
{
	const char *missing;
	if (prec == MRT_NN_AUTO)
		prec = mrt_nn_cpu_bf16(NULL) ? MRT_NN_BF16 : MRT_NN_FP32;
	if (prec != MRT_NN_FP32 && prec != MRT_NN_BF16)
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "unknown precision %d", prec);
	if (prec == MRT_NN_BF16 && !mrt_nn_cpu_bf16(&missing))
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL,
				"bf16 needs a CPU with %s, which this one lacks", missing);
	if (prec == nn_gemm_precision(m->net->gm))
		return 0;
	nn_gemm *g;
	int rc = nn_gemm_new(&g, prec, m->net->pmem, m->net->tab.total);
	if (rc)
		return mrt_errf(m->err, sizeof m->err, rc, "precision: oneDNN failed or out of memory");
	nn_gemm_free(m->net->gm);
	m->net->gm = g;
	m->net->wstale = 0;
	return 0;
}

int
mrt_nn_get_precision(const mrt_nn_model *m)
{
	return nn_gemm_precision(m->net->gm);
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

int
mrt_nn_encode_ecg(mrt_nn_model *m, const float *sig, const uint8_t *missing, int B,
		  float *h, float *e)
{
	int rc = nn_net_encode_ecg_f(m->net, sig, missing, B, h, e);
	if (rc == MRT_EINVAL && B >= 1 && B <= m->net->maxB)
		return mrt_errf(m->err, sizeof m->err, rc, "encode: a record with no present lead");
	if (rc)
		return mrt_errf(m->err, sizeof m->err, rc, "encode: batch of %d (largest %d) or out of memory", B,
			    m->net->maxB);
	return 0;
}

int
mrt_nn_encode_tokens(mrt_nn_model *m, const float *sig, const uint8_t *missing, int B,
		     float *tok)
{
	int rc = nn_net_encode_ecg_f(m->net, sig, missing, B, NULL, NULL);
	if (rc)
		return mrt_errf(m->err, sizeof m->err, rc, "encode: batch of %d (largest %d) or out of memory", B,
			    m->net->maxB);
	memcpy(tok, m->net->ie.lnf, (size_t)B * m->net->np * m->net->c.ecg_d * sizeof *tok);
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
	return mrt_nn_reconstruct_nv(m, sig, missing, vis, m->net->nvis, B, xn, pred);
}

int
mrt_nn_reconstruct_nv(mrt_nn_model *m, const float *sig, const uint8_t *missing,
		      const int32_t *vis, int nv, int B, float *xn, float *pred)
{
	nn_net_f *n = m->net;
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	hp.lambda_cma = 0;
	if (!n->train)
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "reconstruct needs a model made with MRT_NN_TRAIN");
	int full = n->nvis;
	if (nv < 1 || nv > full)
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "reconstruct: %d visible tokens (1 to %d)", nv, full);
	/* fewer visible tokens than training's: the activations, laid out for
	 * nvis a record, hold them; the encoder and the decoder's input run on
	 * nv a record */
	mrt_nn_batch b = { B, sig, missing, vis, NULL };
	n->nvis = nv;
	n->ta[NN_TOWER_ECG].N = nv;
	int rc = nn_net_forward_f(n, &b, &hp, NULL);
	n->nvis = full;
	n->ta[NN_TOWER_ECG].N = full;
	if (rc)
		return mrt_errf(m->err, sizeof m->err, rc, "reconstruct: bad batch");
	size_t len = (size_t)B * n->c.leads * n->c.samples;
	if (xn)
		memcpy(xn, n->xn, len * sizeof *xn);
	if (pred)
		memcpy(pred, n->pred, len * sizeof *pred);
	return 0;
}

/* ---- checkpoint metadata --------------------------------------------------- */

int
nn_meta_add(nn_meta *l, const char *key, const char *value)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		char **kv = realloc(l->kv, 2 * cap * sizeof *kv);
		if (!kv)
			return MRT_ENOMEM;
		l->kv = kv;
		l->cap = cap;
	}
	char *k = strdup(key), *v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return MRT_ENOMEM;
	}
	l->kv[2 * l->n] = k;
	l->kv[2 * l->n + 1] = v;
	l->n++;
	return 0;
}

void
nn_meta_clear(nn_meta *l)
{
	for (size_t i = 0; i < 2 * l->n; i++)
		free(l->kv[i]);
	free(l->kv);
	memset(l, 0, sizeof *l);
}

const char *
mrt_nn_meta(const mrt_nn_model *m, const char *key)
{
	for (size_t i = 0; i < m->meta.n; i++)
		if (!strcmp(m->meta.kv[2 * i], key))
			return m->meta.kv[2 * i + 1];
	return NULL;
}
