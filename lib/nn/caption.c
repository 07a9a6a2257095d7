/*
 * caption.c: the caption model of caption.h: the frozen encoder (a
 * mrt_nn_model holding the ecg.* tensors of the checkpoint it came from),
 * the float decoder of cap_net.c with its Adam moments, the training step
 * (lib/nn's AdamW and clipping), checkpoints (formats/merit-caption.5) and
 * greedy and beam-search decoding.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/caption.h"
#include "nn/cap_internal.h"
#include "core/rng.h"
#include "io/safetensors.h"
#include "text/bpe.h"

struct mrt_cap_model {
	mrt_nn_model *enc;      /* frozen: only its ecg.* tensors are set */
	cap_net_f *net;
	float *m, *v;           /* Adam moments (MRT_NN_TRAIN) */
	float *etok;            /* [maxB, npatch, ecg_d] encoder tokens */
	long step;
	int ecg, maxB, nbpe;    /* nbpe: entries of the tokenizer */
	char enc_id[17];        /* FNV-1a 64 of the encoder's tensors, hex */
	char *tokenizer;
	nn_meta meta;
	char err[256];
};

/* The encoder config as metadata enc.KEY (every key of mrt_nn_config_set). */
static const struct {
	const char *key;
	size_t off;
} enc_ints[] = {
#define K(f) { #f, offsetof(mrt_nn_config, f) }
	K(fs), K(samples), K(patch), K(leads), K(ecg_d), K(ecg_layers), K(ecg_heads), K(ecg_mlp),
	K(dec_d), K(dec_layers), K(dec_heads), K(dec_mlp), K(txt_vocab), K(txt_len), K(txt_d),
	K(txt_layers), K(txt_heads), K(txt_mlp), K(proj),
#undef K
};
#define N_ENC_INTS (sizeof enc_ints / sizeof enc_ints[0])
#define N_META (N_ENC_INTS + 4 + 12)

/* FNV-1a (64 bits) of the encoder's ecg.* tensors, names and bytes, in
 * table order: the identity of the frozen encoder. */
static void
set_enc_id(mrt_cap_model *m)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < mrt_nn_ntensors(m->enc); i++) {
		const char *name;
		int nd;
		int64_t sh[2];
		float *d;
		mrt_nn_tensor(m->enc, i, &name, &nd, sh, &d, NULL);
		if (strncmp(name, "ecg.", 4))
			continue;
		const unsigned char *p = (const unsigned char *)name;
		size_t n = strlen(name) + 1;
		for (int pass = 0; pass < 2; pass++) {
			for (size_t j = 0; j < n; j++)
				h = (h ^ p[j]) * 1099511628211ULL;
			p = (const unsigned char *)d;
			n = (size_t)sh[0] * (nd == 2 ? (size_t)sh[1] : 1) * sizeof *d;
		}
	}
	snprintf(m->enc_id, sizeof m->enc_id, "%016" PRIx64, h);
}

const char *
mrt_cap_enc_id(const mrt_cap_model *m)
{
	return m->enc_id;
}

/* ---- creation -------------------------------------------------------------------- */

static void
init_params(cap_net_f *n, uint64_t seed)
{
	mrt_rng r;
	mrt_rng_seed(&r, seed);
	for (size_t i = 0; i < n->tab.n; i++) {
		const nn_entry *e = &n->tab.e[i];
		float *p = n->pmem + e->off;
		for (size_t j = 0; j < e->n; j++)
			p[j] = e->init == NN_INIT_NORMAL ? (float)(0.02 * mrt_rng_normal(&r)) :
			       e->init == NN_INIT_ONE ? 1.0f : 0.0f;
	}
}

/* The parts every model has: decoder, moments, scratch, tokenizer. */
static int
cap_alloc(mrt_cap_model *m, const mrt_cap_config *cc, int maxB, int train, const char *tokenizer,
	  char *err, size_t cap)
{
	const mrt_nn_config *ec = mrt_nn_get_config(m->enc);
	mrt_bpe *b;
	int rc;
	if ((rc = cap_net_new_f(&m->net, cc, maxB, train)))
		return mrt_errf(err, cap, rc, "cannot create the decoder: %s", mrt_strerror(rc));
	m->maxB = maxB;
	if (train) {
		m->m = calloc(m->net->tab.total, sizeof *m->m);
		m->v = calloc(m->net->tab.total, sizeof *m->v);
	}
	m->etok = malloc((size_t)maxB * mrt_nn_npatch(ec) * ec->ecg_d * sizeof *m->etok);
	m->tokenizer = strdup(tokenizer);
	if ((train && (!m->m || !m->v)) || !m->etok || !m->tokenizer)
		return mrt_errf(err, cap, MRT_ENOMEM, "out of memory for the caption model");
	char why[256];
	if ((rc = mrt_bpe_parse(&b, tokenizer, strlen(tokenizer), why, sizeof why)))
		return mrt_errf(err, cap, rc, "tokenizer: %s", why);
	m->nbpe = mrt_bpe_size(b);
	mrt_bpe_free(b);
	if (m->nbpe > cc->vocab)
		return mrt_errf(err, cap, MRT_ERANGE, "tokenizer has %d entries, the vocabulary %d",
				m->nbpe, cc->vocab);
	return 0;
}

int
mrt_cap_create(mrt_cap_model **out, const char *enc_path, mrt_cap_config *cc, int ecg,
	       uint64_t seed, char *err, size_t cap)
{
	*out = NULL;
	mrt_cap_model *m = calloc(1, sizeof *m);
	if (!m)
		return MRT_ENOMEM;
	int rc = mrt_nn_open(&m->enc, enc_path, NULL, 1, 0, err, cap);
	if (rc)
		goto fail;
	const mrt_nn_config *ec = mrt_nn_get_config(m->enc);
	const char *tk = mrt_nn_meta(m->enc, "tokenizer");
	if (!tk) {
		rc = mrt_errf(err, cap, MRT_ENOENT, "%s: the encoder has no tokenizer (merit-step --init --vocab)",
			      enc_path);
		goto fail;
	}
	cc->vocab = ec->txt_vocab;
	cc->len = ec->txt_len;
	cc->mem = cc->memory == MRT_CAP_MEM_TOKENS ? mrt_nn_npatch(ec) : ec->leads;
	cc->mem_d = ec->ecg_d;
	char why[256];
	if ((rc = mrt_cap_config_check(cc, why, sizeof why))) {
		mrt_errf(err, cap, rc, "decoder config: %s", why);
		goto fail;
	}
	if ((rc = cap_alloc(m, cc, 1, 0, tk, err, cap)))
		goto fail;
	m->ecg = ecg != 0;
	set_enc_id(m);
	init_params(m->net, seed);
	*out = m;
	return 0;
fail:
	mrt_cap_free(m);
	return rc;
}

void
mrt_cap_free(mrt_cap_model *m)
{
	if (!m)
		return;
	mrt_nn_free(m->enc);
	cap_net_free_f(m->net);
	free(m->m);
	free(m->v);
	free(m->etok);
	free(m->tokenizer);
	nn_meta_clear(&m->meta);
	free(m);
}

const mrt_cap_config *
mrt_cap_get_config(const mrt_cap_model *m)
{
	return &m->net->c;
}

const mrt_nn_config *
mrt_cap_enc_config(const mrt_cap_model *m)
{
	return mrt_nn_get_config(m->enc);
}

int
mrt_cap_ecg(const mrt_cap_model *m)
{
	return m->ecg;
}

const char *
mrt_cap_errmsg(const mrt_cap_model *m)
{
	return m->err;
}

const char *
mrt_cap_tokenizer(const mrt_cap_model *m)
{
	return m->tokenizer;
}

size_t
mrt_cap_nparams(const mrt_cap_model *m)
{
	return m->net->tab.total;
}

long
mrt_cap_step(const mrt_cap_model *m)
{
	return m->step;
}

const char *
mrt_cap_meta(const mrt_cap_model *m, const char *key)
{
	for (size_t i = 0; i < m->meta.n; i++)
		if (!strcmp(m->meta.kv[2 * i], key))
			return m->meta.kv[2 * i + 1];
	return NULL;
}

/* ---- checkpoints ------------------------------------------------------------------- */

static int
is_enc_tensor(const char *name)
{
	return !strncmp(name, "ecg.", 4);
}

int
mrt_cap_save(const mrt_cap_model *m, const char *path, const char *opath,
	     const char *const *extra, char *err, size_t cap)
{
	const mrt_nn_config *ec = mrt_nn_get_config(m->enc);
	const mrt_cap_config *c = &m->net->c;
	const nn_table *t = &m->net->tab;
	size_t ne = mrt_nn_ntensors(m->enc), nx = 0;
	while (extra && extra[nx])
		nx += 2;
	mrt_st_tensor *ts = calloc(ne + 2 * t->n, sizeof *ts);
	char (*names)[NN_NAMELEN + 2] = calloc(2 * t->n, sizeof *names);
	char (*vals)[64] = calloc(N_META, sizeof *vals);
	char (*keys)[40] = calloc(N_META, sizeof *keys);
	const char **kv = calloc(2 * (N_META + 2) + nx + 1, sizeof *kv);
	int rc = MRT_ENOMEM, k = 0, nv = 0;
	size_t n = 0;
	if (!ts || !names || !vals || !keys || !kv)
		goto out;
	if (opath && !m->m) {
		rc = mrt_errf(err, cap, MRT_EINVAL, "%s: model has no optimizer state", opath);
		goto out;
	}
#define META(key, ...) do { snprintf(vals[nv], sizeof vals[nv], __VA_ARGS__); \
	kv[k++] = (key); kv[k++] = vals[nv++]; } while (0)
	META("format", "%s", MRT_CAP_FORMAT);
	META("version", "%d", MRT_CAP_VERSION);
	META("step", "%ld", m->step);
	META("cap.d", "%d", c->d);
	META("cap.layers", "%d", c->layers);
	META("cap.heads", "%d", c->heads);
	META("cap.mlp", "%d", c->mlp);
	META("cap.ecg", "%d", m->ecg);
	META("cap.memory", "%s", c->memory == MRT_CAP_MEM_TOKENS ? "tokens" : "leads");
	for (size_t i = 0; i < N_ENC_INTS; i++) {
		snprintf(keys[nv], sizeof keys[nv], "enc.%s", enc_ints[i].key);
		META(keys[nv], "%d", *(const int *)((const char *)ec + enc_ints[i].off));
	}
	META("enc.mask_ratio", "%.17g", ec->mask_ratio);
	META("enc.enc_attn", "%s", mrt_nn_attn_name(ec->enc_attn));
	META("enc.dec_attn", "%s", mrt_nn_attn_name(ec->dec_attn));
	META("enc.pos", "%s", mrt_nn_pos_name(ec->pos));
#undef META
	kv[k++] = "tokenizer";
	kv[k++] = m->tokenizer;
	for (size_t i = 0; i < nx; i++)
		kv[k++] = extra[i];
	kv[k] = NULL;
	for (size_t i = 0; i < ne; i++) {
		const char *name;
		int nd;
		int64_t sh[2];
		float *d;
		mrt_nn_tensor(m->enc, i, &name, &nd, sh, &d, NULL);
		if (is_enc_tensor(name))
			ts[n++] = (mrt_st_tensor){ name, MRT_F32, nd, { sh[0], sh[1] }, d };
	}
	for (size_t i = 0; i < t->n; i++) {
		const nn_entry *e = &t->e[i];
		ts[n++] = (mrt_st_tensor){ e->name, MRT_F32, e->ndim, { e->shape[0], e->shape[1] },
					   m->net->pmem + e->off };
	}
	if ((rc = mrt_st_write(path, ts, n, kv, err, cap)) || !opath)
		goto out;
	k = 0;
	kv[k++] = "format", kv[k++] = "merit-caption-optim";
	kv[k++] = "version", kv[k++] = vals[1];
	kv[k++] = "step", kv[k++] = vals[2];
	for (size_t i = 0; i < nx; i++)
		kv[k++] = extra[i];
	kv[k] = NULL;
	for (size_t i = 0; i < t->n; i++) {
		const nn_entry *e = &t->e[i];
		for (int j = 0; j < 2; j++) {
			snprintf(names[2 * i + j], sizeof names[0], "%c.%s", j ? 'v' : 'm', e->name);
			ts[2 * i + j] = (mrt_st_tensor){ names[2 * i + j], MRT_F32, e->ndim,
							 { e->shape[0], e->shape[1] },
							 (j ? m->v : m->m) + e->off };
		}
	}
	rc = mrt_st_write(opath, ts, 2 * t->n, kv, err, cap);
out:
	if (rc == MRT_ENOMEM && err && cap && !*err)
		mrt_errf(err, cap, rc, "%s: out of memory", path);
	free(ts);
	free(names);
	free(vals);
	free(keys);
	free(kv);
	return rc;
}

/* The encoder's config and the decoder's sizes from the metadata. */
static int
configs_of(const mrt_st *st, const char *path, mrt_nn_config *ec, mrt_cap_config *cc, int *ecg,
	   char *err, size_t cap)
{
	const char *fmt = mrt_st_meta(st, "format"), *mem = mrt_st_meta(st, "cap.memory");
	char why[256], key[48];
	int rc, v;
	if (!fmt || strcmp(fmt, MRT_CAP_FORMAT))
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: not a merit-caption checkpoint (format %s)",
				path, fmt ? fmt : "absent");
	if ((rc = nn_st_meta_int(st, path, "version", &v, err, cap)))
		return rc;
	if (v > MRT_CAP_VERSION)
		return mrt_errf(err, cap, MRT_EVERSION, "%s: caption checkpoint version %d is newer than %d",
				path, v, MRT_CAP_VERSION);
	mrt_nn_preset("merit-xs", ec);
	ec->preset[0] = 0;
	for (size_t i = 0; i < N_ENC_INTS + 4; i++) {
		static const char *const more[] = { "mask_ratio", "enc_attn", "dec_attn", "pos" };
		const char *k = i < N_ENC_INTS ? enc_ints[i].key : more[i - N_ENC_INTS];
		snprintf(key, sizeof key, "enc.%s", k);
		const char *s = mrt_st_meta(st, key);
		if (!s)
			return mrt_errf(err, cap, MRT_ENOENT, "%s: metadata has no %s", path, key);
		if (mrt_nn_config_set(ec, k, s, why, sizeof why))
			return mrt_errf(err, cap, MRT_EFORMAT, "%s: metadata %s", path, why);
	}
	if (mrt_nn_config_check(ec, why, sizeof why))
		return mrt_errf(err, cap, MRT_ESHAPE, "%s: inconsistent encoder config: %s", path, why);
	if ((rc = nn_st_meta_int(st, path, "cap.d", &cc->d, err, cap)) ||
	    (rc = nn_st_meta_int(st, path, "cap.layers", &cc->layers, err, cap)) ||
	    (rc = nn_st_meta_int(st, path, "cap.heads", &cc->heads, err, cap)) ||
	    (rc = nn_st_meta_int(st, path, "cap.mlp", &cc->mlp, err, cap)) ||
	    (rc = nn_st_meta_int(st, path, "cap.ecg", ecg, err, cap)))
		return rc;
	if (!mem || (strcmp(mem, "leads") && strcmp(mem, "tokens")))
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: cap.memory %s is not leads or tokens", path,
				mem ? mem : "absent");
	cc->memory = strcmp(mem, "leads") ? MRT_CAP_MEM_TOKENS : MRT_CAP_MEM_LEADS;
	cc->vocab = ec->txt_vocab;
	cc->len = ec->txt_len;
	cc->mem = cc->memory == MRT_CAP_MEM_TOKENS ? mrt_nn_npatch(ec) : ec->leads;
	cc->mem_d = ec->ecg_d;
	if (mrt_cap_config_check(cc, why, sizeof why))
		return mrt_errf(err, cap, MRT_ESHAPE, "%s: inconsistent decoder config: %s", path, why);
	return 0;
}

/* Copy tensor name (pre + name) of shape [s0, s1] (s1 0: 1-D) from st. */
static int
get_tensor(const mrt_st *st, const char *path, const char *pre, const char *name, int ndim,
	   const int64_t *shape, float *dst, size_t n, char *err, size_t cap)
{
	char full[NN_NAMELEN + 4];
	mrt_st_tensor x;
	snprintf(full, sizeof full, "%s%s", pre, name);
	if (mrt_st_find(st, full, &x))
		return mrt_errf(err, cap, MRT_ENOENT, "%s: missing tensor %s", path, full);
	if (x.dtype != MRT_F32)
		return mrt_errf(err, cap, MRT_ETYPE, "%s: tensor %s is %s, expected float32", path,
				full, mrt_dtype_name(x.dtype));
	if (x.ndim != ndim || x.shape[0] != shape[0] || (ndim == 2 && x.shape[1] != shape[1]))
		return mrt_errf(err, cap, MRT_ESHAPE, "%s: tensor %s has the wrong shape", path, full);
	memcpy(dst, x.data, n * sizeof *dst);
	return 0;
}

static int
meta_copy(void *ctx, const char *key, const char *value)
{
	return nn_meta_add(ctx, key, value);
}

int
mrt_cap_open(mrt_cap_model **out, const char *path, const char *opath, int maxB, int flags,
	     char *err, size_t cap)
{
	mrt_st *st = NULL, *so = NULL;
	mrt_nn_config ec;
	mrt_cap_config cc;
	int ecg = 1, train = (flags & MRT_NN_TRAIN) != 0, rc;
	*out = NULL;
	mrt_cap_model *m = calloc(1, sizeof *m);
	if (!m)
		return MRT_ENOMEM;
	if ((rc = mrt_st_open(&st, path, err, cap)) ||
	    (rc = configs_of(st, path, &ec, &cc, &ecg, err, cap)))
		goto out;
	const char *tk = mrt_st_meta(st, "tokenizer");
	if (!tk) {
		rc = mrt_errf(err, cap, MRT_ENOENT, "%s: metadata has no tokenizer", path);
		goto out;
	}
	if ((rc = mrt_nn_new(&m->enc, &ec, maxB, 0))) {
		mrt_errf(err, cap, rc, "%s: cannot create the encoder: %s", path, mrt_strerror(rc));
		goto out;
	}
	if ((rc = cap_alloc(m, &cc, maxB, train, tk, err, cap)))
		goto out;
	m->ecg = ecg != 0;
	size_t want = m->net->tab.n;
	for (size_t i = 0; i < mrt_nn_ntensors(m->enc); i++) {
		const char *name;
		int nd;
		int64_t sh[2];
		float *d;
		mrt_nn_tensor(m->enc, i, &name, &nd, sh, &d, NULL);
		if (!is_enc_tensor(name))
			continue;
		if ((rc = get_tensor(st, path, "", name, nd, sh, d,
				     (size_t)sh[0] * (nd == 2 ? (size_t)sh[1] : 1), err, cap)))
			goto out;
		want++;
	}
	for (size_t i = 0; i < m->net->tab.n; i++) {
		const nn_entry *e = &m->net->tab.e[i];
		if ((rc = get_tensor(st, path, "", e->name, e->ndim, e->shape, m->net->pmem + e->off,
				     e->n, err, cap)))
			goto out;
	}
	if (mrt_st_count(st) != want) {
		rc = mrt_errf(err, cap, MRT_EFORMAT, "%s: %zu tensors, expected %zu", path,
			      mrt_st_count(st), want);
		goto out;
	}
	m->step = nn_st_meta_step(st);
	set_enc_id(m);
	if (opath && train) {
		const char *f;
		if ((rc = mrt_st_open(&so, opath, err, cap)))
			goto out;
		if (!(f = mrt_st_meta(so, "format")) || strcmp(f, "merit-caption-optim")) {
			rc = mrt_errf(err, cap, MRT_EFORMAT, "%s: not a merit-caption optimizer state", opath);
			goto out;
		}
		for (size_t i = 0; i < m->net->tab.n; i++) {
			const nn_entry *e = &m->net->tab.e[i];
			if ((rc = get_tensor(so, opath, "m.", e->name, e->ndim, e->shape, m->m + e->off,
					     e->n, err, cap)) ||
			    (rc = get_tensor(so, opath, "v.", e->name, e->ndim, e->shape, m->v + e->off,
					     e->n, err, cap)))
				goto out;
		}
		if (mrt_st_count(so) != 2 * m->net->tab.n) {
			rc = mrt_errf(err, cap, MRT_EFORMAT, "%s: %zu tensors, expected %zu", opath,
				      mrt_st_count(so), 2 * m->net->tab.n);
			goto out;
		}
		m->step = nn_st_meta_step(so);
	}
	if ((rc = mrt_st_meta_each(st, meta_copy, &m->meta))) {
		mrt_errf(err, cap, rc, "%s: out of memory", path);
		goto out;
	}
out:
	mrt_st_free(st);
	mrt_st_free(so);
	if (rc) {
		mrt_cap_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* ---- the memory and training ------------------------------------------------------- */

int
mrt_cap_encode(mrt_cap_model *m, const float *sig, const uint8_t *missing, int B, float *mem)
{
	const mrt_nn_config *ec = mrt_nn_get_config(m->enc);
	int nt = mrt_nn_ntime(ec), np = mrt_nn_npatch(ec), d = ec->ecg_d;
	if (B < 1 || B > m->maxB)
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "encode: batch of %d (largest %d)", B,
				m->maxB);
	if (mrt_nn_encode_tokens(m->enc, sig, missing, B,
				 m->net->c.memory == MRT_CAP_MEM_TOKENS ? mem : m->etok))
		return mrt_errf(m->err, sizeof m->err, MRT_ENOMEM, "%s", mrt_nn_errmsg(m->enc));
	if (m->net->c.memory == MRT_CAP_MEM_TOKENS)
		return 0;
	/* mean over time of each lead's tokens, in double, in a fixed order */
	for (int b = 0; b < B; b++)
		for (int l = 0; l < ec->leads; l++)
			for (int i = 0; i < d; i++) {
				double s = 0;
				for (int t = 0; t < nt; t++)
					s += m->etok[((size_t)b * np + (size_t)l * nt + t) * d + i];
				mem[((size_t)b * ec->leads + l) * d + i] = (float)(s / nt);
			}
	return 0;
}

int
mrt_cap_train_step(mrt_cap_model *m, const float *mem, const int32_t *tok, int B,
		   const mrt_nn_hparams *hp, mrt_cap_losses *out)
{
	cap_net_f *n = m->net;
	double loss;
	if (!n->train)
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "model was opened without MRT_NN_TRAIN");
	int rc = cap_net_forward_f(n, m->ecg ? mem : NULL, tok, B, m->ecg, &loss);
	if (rc == MRT_ERANGE)
		return mrt_errf(m->err, sizeof m->err, rc, "token id outside the vocabulary of %d",
				n->c.vocab);
	if (rc)
		return mrt_errf(m->err, sizeof m->err, rc, "bad batch of %d (largest %d)", B, n->maxB);
	cap_net_zero_grad_f(n);
	cap_net_backward_f(n);
	double norm = sqrt(nn_sumsq(n->gmem, n->tab.total)), lr = mrt_nn_lr(hp, m->step);
	if (out)
		*out = (mrt_cap_losses){ loss, norm, lr, n->ntok };
	if (!isfinite(loss) || !isfinite(norm))
		return mrt_errf(m->err, sizeof m->err, MRT_ENUM, "non-finite %s at step %ld",
				isfinite(loss) ? "gradient" : "loss", m->step + 1);
	nn_adamw a;
	nn_adamw_setup(&a, hp, lr, m->step + 1, norm);
	for (size_t i = 0; i < n->tab.n; i++) {
		const nn_entry *e = &n->tab.e[i];
		if (e->branch == CAP_XATTN && !m->ecg)
			continue;
		nn_adamw_update(&a, n->pmem + e->off, n->gmem + e->off, m->m + e->off, m->v + e->off,
				e->n, e->decay);
	}
	m->step++;
	return 0;
}

/* ---- decoding ------------------------------------------------------------------------ */

/* A candidate continuation: hypothesis w with token v, log-probability s. */
typedef struct {
	double s;
	int w, v;
} cand;

/* Does a come before b: higher score, then lower hypothesis, then lower token. */
static int
cand_before(const cand *a, const cand *b)
{
	return a->s > b->s || (a->s == b->s && (a->w < b->w || (a->w == b->w && a->v < b->v)));
}

/* Beam search (greedy for W = 1) for one record; scratch of its own. */
static int
generate_one(const mrt_cap_model *m, const float *mem, const mrt_cap_gen *g, int32_t *tok,
	     int *nout, double *lpout)
{
	const cap_net_f *n = m->net;
	const mrt_cap_config *c = &n->c;
	int W = g->beam, V = c->vocab, len = c->len, nv = m->nbpe;
	size_t cs = cap_cache_size_f(c);
	float *cache = malloc(2 * W * cs * sizeof *cache);
	float *xkv = malloc((size_t)c->layers * c->mem * 2 * c->d * sizeof *xkv);
	float *logits = malloc((size_t)W * V * sizeof *logits);
	float *scr = malloc(cap_scratch_size_f(c) * sizeof *scr);
	int32_t *seq = malloc(2 * (size_t)W * len * sizeof *seq), *best = malloc(len * sizeof *best);
	double *lp = malloc(2 * (size_t)W * sizeof *lp);
	cand *top = malloc((size_t)W * sizeof *top);
	int rc = MRT_ENOMEM;
	if (!cache || !xkv || !logits || !scr || !seq || !best || !lp || !top)
		goto out;
	float *cur = cache, *nxt = cache + W * cs;
	int32_t *cseq = seq, *nseq = seq + (size_t)W * len;
	double *clp = lp, *nlp = lp + W, bestnorm = -INFINITY, bestlp = 0;
	int live = 1, nfin = 0, bestn = 0;
	if (m->ecg)
		cap_cache_init_f(n, xkv, mem);
	cseq[0] = MRT_BPE_CLS;
	clp[0] = 0;
	for (int t = 0; t < g->max_len && live > 0 && nfin < W; t++) {
		int ntop = 0;
		for (int w = 0; w < live; w++) {
			float *z = logits + (size_t)w * V;
			cap_step_f(n, cur + w * cs, xkv, m->ecg, cseq[(size_t)w * len + t], t, z, scr);
			/* log-softmax over the tokens that may follow: [SEP] and
			 * the tokenizer's non-special entries */
			double mx = -INFINITY, sum = 0;
			for (int v = MRT_BPE_SEP; v < nv; v++)
				if (v == MRT_BPE_SEP || v >= MRT_BPE_NSPECIAL)
					mx = z[v] > mx ? z[v] : mx;
			for (int v = MRT_BPE_SEP; v < nv; v++)
				if (v == MRT_BPE_SEP || v >= MRT_BPE_NSPECIAL)
					sum += exp((double)z[v] - mx);
			double lse = mx + log(sum);
			for (int v = MRT_BPE_SEP; v < nv; v++) {
				if (v != MRT_BPE_SEP && v < MRT_BPE_NSPECIAL)
					continue;
				cand cd = { clp[w] + (double)z[v] - lse, w, v };
				if (ntop == W && !cand_before(&cd, &top[W - 1]))
					continue;
				int k = ntop < W ? ntop++ : W - 1;
				while (k > 0 && cand_before(&cd, &top[k - 1])) {
					top[k] = top[k - 1];
					k--;
				}
				top[k] = cd;
			}
		}
		int nl = 0;
		for (int k = 0; k < ntop && nfin < W; k++) {
			const cand *cd = &top[k];
			const int32_t *src = cseq + (size_t)cd->w * len;
			int ended = cd->v == MRT_BPE_SEP || t + 1 == g->max_len;
			if (ended) {
				double norm = cd->s / pow((double)(t + 1), g->length_penalty);
				if (norm > bestnorm) {
					bestnorm = norm;
					bestlp = cd->s;
					bestn = t + 1;
					memcpy(best, src, (size_t)(t + 1) * sizeof *best);
					best[t + 1] = cd->v;
				}
				nfin++;
				continue;
			}
			memcpy(nxt + nl * cs, cur + cd->w * cs, cs * sizeof *nxt);
			memcpy(nseq + (size_t)nl * len, src, (size_t)(t + 1) * sizeof *nseq);
			nseq[(size_t)nl * len + t + 1] = cd->v;
			nlp[nl] = cd->s;
			nl++;
		}
		float *tf = cur;
		cur = nxt, nxt = tf;
		int32_t *ts = cseq;
		cseq = nseq, nseq = ts;
		double *tl = clp;
		clp = nlp, nlp = tl;
		live = nl;
	}
	tok[0] = MRT_BPE_CLS;
	for (int i = 1; i < len; i++)
		tok[i] = i <= bestn ? best[i] : MRT_BPE_PAD;
	*nout = bestn;
	if (lpout)
		*lpout = bestlp;
	rc = 0;
out:
	free(cache);
	free(xkv);
	free(logits);
	free(scr);
	free(seq);
	free(best);
	free(lp);
	free(top);
	return rc;
}

int
mrt_cap_generate(mrt_cap_model *m, const float *mem, int B, const mrt_cap_gen *g, int32_t *tok,
		 int *n, double *logp)
{
	const mrt_cap_config *c = &m->net->c;
	if (g->beam < 1 || g->beam > MRT_CAP_MAXBEAM)
		return mrt_errf(m->err, sizeof m->err, MRT_ERANGE, "beam width %d not in 1..%d", g->beam,
				MRT_CAP_MAXBEAM);
	if (g->max_len < 1 || g->max_len > c->len - 1)
		return mrt_errf(m->err, sizeof m->err, MRT_ERANGE, "max length %d not in 1..%d",
				g->max_len, c->len - 1);
	if (!isfinite(g->length_penalty))
		return mrt_errf(m->err, sizeof m->err, MRT_ERANGE, "length penalty is not finite");
	if (m->ecg && !mem)
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "no memory for a model with the ECG");
	int bad = 0;
	#pragma omp parallel for schedule(dynamic) reduction(|:bad)
	for (int b = 0; b < B; b++)
		bad |= generate_one(m, m->ecg ? mem + (size_t)b * c->mem * c->mem_d : NULL, g,
				    tok + (size_t)b * c->len, n + b, logp ? logp + b : NULL) != 0;
	if (bad)
		return mrt_errf(m->err, sizeof m->err, MRT_ENOMEM, "out of memory for decoding");
	return 0;
}
