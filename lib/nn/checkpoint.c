/*
 * checkpoint.c: MERIT checkpoints (formats/merit-checkpoint.5) through
 * lib/safetensors: weights under the tensor names of MODEL.md, the config
 * in __metadata__, Adam moments in a second file as m.NAME and v.NAME.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "nn/internal.h"
#include "io/safetensors.h"

#define MAXMETA 64

/* Metadata list: fixed keys then the caller's extras, into kv[] with the
 * values formatted in buf. */
typedef struct {
	const char *kv[2 * MAXMETA + 1];
	char buf[MAXMETA][64];
	int n;
} metalist;

static void
meta_add(metalist *l, const char *key, const char *fmt, ...)
{
	if (l->n >= MAXMETA)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->buf[l->n], sizeof l->buf[l->n], fmt, ap);
	va_end(ap);
	l->kv[2 * l->n] = key;
	l->kv[2 * l->n + 1] = l->buf[l->n];
	l->n++;
	l->kv[2 * l->n] = NULL;
}

static int
meta_extra(metalist *l, const char *const *extra, char *err, size_t cap)
{
	for (size_t i = 0; extra && extra[i]; i += 2) {
		if (!extra[i + 1])
			return mrt_errf(err, cap, MRT_EINVAL, "metadata key %s without a value", extra[i]);
		if (l->n >= MAXMETA)
			return mrt_errf(err, cap, MRT_ERANGE, "more than %d metadata keys", MAXMETA);
		l->kv[2 * l->n] = extra[i];
		l->kv[2 * l->n + 1] = extra[i + 1];
		l->n++;
		l->kv[2 * l->n] = NULL;
	}
	return 0;
}

int
mrt_nn_save(const mrt_nn_model *m, const char *wpath, const char *opath,
	    const char *const *extra, char *err, size_t cap)
{
	const nn_net_f *n = m->net;
	const mrt_nn_config *c = &n->c;
	const nn_table *t = &n->tab;
	if (err && cap)
		*err = 0;
	if (opath && !m->m)
		return mrt_errf(err, cap, MRT_EINVAL, "%s: model has no optimizer state", opath);
	mrt_st_tensor *ts = calloc(2 * t->n, sizeof *ts);
	char (*names)[NN_NAMELEN + 2] = calloc(2 * t->n, sizeof *names);
	metalist *ml = calloc(1, sizeof *ml);
	int rc = MRT_ENOMEM;
	if (!ts || !names || !ml)
		goto out;
	meta_add(ml, "format", "%s", MRT_NN_FORMAT);
	meta_add(ml, "version", "%d", MRT_NN_VERSION);
	meta_add(ml, "preset", "%s", c->preset);
	meta_add(ml, "ecg.heads", "%d", c->ecg_heads);
	meta_add(ml, "dec.heads", "%d", c->dec_heads);
	meta_add(ml, "txt.heads", "%d", c->txt_heads);
	meta_add(ml, "fs", "%d", c->fs);
	meta_add(ml, "samples", "%d", c->samples);
	meta_add(ml, "patch", "%d", c->patch);
	meta_add(ml, "mask_ratio", "%.17g", c->mask_ratio);
	meta_add(ml, "max_len", "%d", c->txt_len);
	/* written only when not the default, so that a model of the default
	 * structure gives the same file as before these keys */
	if (c->enc_attn != MRT_NN_ATTN_FULL)
		meta_add(ml, "enc_attn", "%s", mrt_nn_attn_name(c->enc_attn));
	if (c->dec_attn != MRT_NN_ATTN_FULL)
		meta_add(ml, "dec_attn", "%s", mrt_nn_attn_name(c->dec_attn));
	if (c->pos != MRT_NN_POS_LEARNED)
		meta_add(ml, "pos", "%s", mrt_nn_pos_name(c->pos));
	meta_add(ml, "step", "%ld", m->step);
	if ((rc = meta_extra(ml, extra, err, cap)))
		goto out;
	for (size_t i = 0; i < t->n; i++) {
		const nn_entry *e = &t->e[i];
		ts[i] = (mrt_st_tensor){ e->name, MRT_F32, e->ndim, { e->shape[0], e->shape[1] },
					 n->pmem + e->off };
	}
	if ((rc = mrt_st_write(wpath, ts, t->n, ml->kv, err, cap)))
		goto out;
	if (opath) {
		metalist *ol = ml;
		ol->n = 0;
		meta_add(ol, "format", "%s", "merit-optim");
		meta_add(ol, "version", "%d", MRT_NN_VERSION);
		meta_add(ol, "step", "%ld", m->step);
		if ((rc = meta_extra(ol, extra, err, cap)))
			goto out;
		for (size_t i = 0; i < t->n; i++) {
			const nn_entry *e = &t->e[i];
			for (int k = 0; k < 2; k++) {
				size_t j = 2 * i + k;
				snprintf(names[j], sizeof names[j], "%c.%s", k ? 'v' : 'm', e->name);
				ts[j] = (mrt_st_tensor){ names[j], MRT_F32, e->ndim,
							 { e->shape[0], e->shape[1] },
							 (k ? m->v : m->m) + e->off };
			}
		}
		rc = mrt_st_write(opath, ts, 2 * t->n, ol->kv, err, cap);
	}
out:
	if (rc == MRT_ENOMEM && err && cap && !*err)
		mrt_errf(err, cap, rc, "%s: out of memory", wpath);
	free(ts);
	free(names);
	free(ml);
	return rc;
}

/* ---- reading -------------------------------------------------------------- */

int
nn_st_meta_int(const mrt_st *st, const char *path, const char *key, int *v, char *err, size_t cap)
{
	const char *s = mrt_st_meta(st, key);
	char *end;
	if (!s)
		return mrt_errf(err, cap, MRT_ENOENT, "%s: metadata has no %s", path, key);
	errno = 0;
	long x = strtol(s, &end, 10);
	if (end == s || *end || errno || x < 0 || x > INT32_MAX)
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: metadata %s: bad number '%s'", path, key, s);
	*v = (int)x;
	return 0;
}

static int
find(const mrt_st *st, const char *path, const char *name, int ndim, mrt_st_tensor *t,
     char *err, size_t cap)
{
	if (mrt_st_find(st, name, t))
		return mrt_errf(err, cap, MRT_ENOENT, "%s: missing tensor %s", path, name);
	if (t->ndim != ndim)
		return mrt_errf(err, cap, MRT_ESHAPE, "%s: tensor %s has %d dimensions, expected %d",
			     path, name, t->ndim, ndim);
	return 0;
}

/* Sizes of a tower from its tensors: width, layers, MLP width. */
static int
tower_sizes(const mrt_st *st, const char *path, const char *pre, int *layers, int *mlp,
	    char *err, size_t cap)
{
	char name[NN_NAMELEN];
	mrt_st_tensor t;
	int l = 0;
	for (;; l++) {
		snprintf(name, sizeof name, "%s.blocks.%d.ln1.weight", pre, l);
		if (mrt_st_find(st, name, &t))
			break;
		if (l >= NN_MAXLAYERS)
			return mrt_errf(err, cap, MRT_ERANGE, "%s: more than %d %s blocks", path,
				     NN_MAXLAYERS, pre);
	}
	*layers = l;
	*mlp = 1;
	if (l) {
		snprintf(name, sizeof name, "%s.blocks.0.mlp.fc1.weight", pre);
		int rc = find(st, path, name, 2, &t, err, cap);
		if (rc)
			return rc;
		*mlp = (int)t.shape[0];
	}
	return 0;
}

static int copy_tensors(const mrt_st *st, const char *path, const nn_table *t, const char *pre,
			float *dst, char *err, size_t cap);

static int
config_of(const mrt_st *st, const char *path, mrt_nn_config *c, char *err, size_t cap)
{
	const char *fmt = mrt_st_meta(st, "format"), *ver = mrt_st_meta(st, "version");
	const char *ps = mrt_st_meta(st, "preset"), *mr = mrt_st_meta(st, "mask_ratio");
	mrt_st_tensor t;
	int rc, v;
	memset(c, 0, sizeof *c);
	if (!fmt || strcmp(fmt, MRT_NN_FORMAT))
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: not a merit checkpoint (format %s)", path,
			     fmt ? fmt : "absent");
	if (!ver || (rc = nn_st_meta_int(st, path, "version", &v, err, cap)))
		return ver ? rc : mrt_errf(err, cap, MRT_ENOENT, "%s: metadata has no version", path);
	if (v > MRT_NN_VERSION)
		return mrt_errf(err, cap, MRT_EVERSION, "%s: checkpoint version %d is newer than %d",
			     path, v, MRT_NN_VERSION);
	snprintf(c->preset, sizeof c->preset, "%s", ps ? ps : "");
	if ((rc = nn_st_meta_int(st, path, "ecg.heads", &c->ecg_heads, err, cap)) ||
	    (rc = nn_st_meta_int(st, path, "dec.heads", &c->dec_heads, err, cap)) ||
	    (rc = nn_st_meta_int(st, path, "txt.heads", &c->txt_heads, err, cap)) ||
	    (rc = nn_st_meta_int(st, path, "fs", &c->fs, err, cap)) ||
	    (rc = nn_st_meta_int(st, path, "samples", &c->samples, err, cap)) ||
	    (rc = nn_st_meta_int(st, path, "patch", &c->patch, err, cap)) ||
	    (rc = nn_st_meta_int(st, path, "max_len", &c->txt_len, err, cap)))
		return rc;
	char *end;
	if (!mr)
		return mrt_errf(err, cap, MRT_ENOENT, "%s: metadata has no mask_ratio", path);
	c->mask_ratio = strtod(mr, &end);
	if (end == mr || *end)
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: metadata mask_ratio: bad number '%s'", path, mr);
	/* the structure: absent keys are the defaults (full, learned) */
	static const char *const skeys[] = { "enc_attn", "dec_attn", "pos" };
	for (int i = 0; i < 3; i++) {
		const char *s = mrt_st_meta(st, skeys[i]);
		char why[160];
		if (s && mrt_nn_config_set(c, skeys[i], s, why, sizeof why))
			return mrt_errf(err, cap, MRT_EFORMAT, "%s: metadata %s", path, why);
	}
	if ((rc = find(st, path, "ecg.patch.weight", 2, &t, err, cap)))
		return rc;
	c->ecg_d = (int)t.shape[0];
	if ((rc = find(st, path, "ecg.lead_emb", 2, &t, err, cap)))
		return rc;
	c->leads = (int)t.shape[0];
	if ((rc = find(st, path, "ecg.proj.weight", 2, &t, err, cap)))
		return rc;
	c->proj = (int)t.shape[0];
	if ((rc = find(st, path, "dec.in.weight", 2, &t, err, cap)))
		return rc;
	c->dec_d = (int)t.shape[0];
	if ((rc = find(st, path, "txt.tok_emb", 2, &t, err, cap)))
		return rc;
	c->txt_vocab = (int)t.shape[0];
	c->txt_d = (int)t.shape[1];
	if ((rc = tower_sizes(st, path, "ecg", &c->ecg_layers, &c->ecg_mlp, err, cap)) ||
	    (rc = tower_sizes(st, path, "dec", &c->dec_layers, &c->dec_mlp, err, cap)) ||
	    (rc = tower_sizes(st, path, "txt", &c->txt_layers, &c->txt_mlp, err, cap)))
		return rc;
	char why[160];
	if (mrt_nn_config_check(c, why, sizeof why))
		return mrt_errf(err, cap, MRT_ESHAPE, "%s: inconsistent config: %s", path, why);
	/* every tensor of that config, in its shape, before a model of it is
	 * made: its parameters then take no more memory than the file */
	nn_table tab = { 0 };
	if (nn_layout_f(c, NULL, NULL, &tab))
		rc = mrt_errf(err, cap, MRT_ENOMEM, "%s: out of memory", path);
	else
		rc = copy_tensors(st, path, &tab, "", NULL, err, cap);
	nn_table_free(&tab);
	return rc;
}

int
mrt_nn_read_config(const char *path, mrt_nn_config *c, char *err, size_t cap)
{
	mrt_st *st;
	int rc = mrt_st_open(&st, path, err, cap);
	if (rc)
		return rc;
	rc = config_of(st, path, c, err, cap);
	mrt_st_free(st);
	return rc;
}

static int
same_config(const mrt_nn_config *a, const mrt_nn_config *b)
{
	return a->samples == b->samples && a->patch == b->patch && a->leads == b->leads &&
	       a->ecg_d == b->ecg_d && a->ecg_layers == b->ecg_layers &&
	       a->ecg_heads == b->ecg_heads && a->ecg_mlp == b->ecg_mlp &&
	       a->dec_d == b->dec_d && a->dec_layers == b->dec_layers &&
	       a->dec_heads == b->dec_heads && a->dec_mlp == b->dec_mlp &&
	       a->txt_vocab == b->txt_vocab && a->txt_len == b->txt_len &&
	       a->txt_d == b->txt_d && a->txt_layers == b->txt_layers &&
	       a->txt_heads == b->txt_heads && a->txt_mlp == b->txt_mlp && a->proj == b->proj &&
	       mrt_nn_nvis(a) == mrt_nn_nvis(b) && a->enc_attn == b->enc_attn &&
	       a->dec_attn == b->dec_attn && a->pos == b->pos;
}

/* Copy every table tensor (name prefixed by pre) from st into dst, which
 * must then hold finite numbers only; dst NULL: check the names, types
 * and shapes only. */
static int
copy_tensors(const mrt_st *st, const char *path, const nn_table *t, const char *pre,
	     float *dst, char *err, size_t cap)
{
	char name[NN_NAMELEN + 4];
	for (size_t i = 0; i < t->n; i++) {
		const nn_entry *e = &t->e[i];
		mrt_st_tensor x;
		snprintf(name, sizeof name, "%s%s", pre, e->name);
		int rc = find(st, path, name, e->ndim, &x, err, cap);
		if (rc)
			return rc;
		if (x.dtype != MRT_F32)
			return mrt_errf(err, cap, MRT_ETYPE, "%s: tensor %s is %s, expected float32",
				     path, name, mrt_dtype_name(x.dtype));
		if (x.shape[0] != e->shape[0] || (e->ndim == 2 && x.shape[1] != e->shape[1]))
			return mrt_errf(err, cap, MRT_ESHAPE,
				     "%s: tensor %s has shape [%" PRId64 ",%" PRId64 "], expected "
				     "[%" PRId64 ",%" PRId64 "]", path, name, x.shape[0],
				     e->ndim == 2 ? x.shape[1] : 1, e->shape[0],
				     e->ndim == 2 ? e->shape[1] : 1);
		if (!dst)
			continue;
		memcpy(dst + e->off, x.data, e->n * sizeof *dst);
		for (size_t k = 0; k < e->n; k++)
			if (!isfinite(dst[e->off + k]))
				return mrt_errf(err, cap, MRT_EFORMAT, "%s: tensor %s: element %zu "
					     "is not finite", path, name, k);
	}
	size_t want = t->n;
	if (mrt_st_count(st) != want * (pre[0] ? 2 : 1))
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: %zu tensors, expected %zu", path,
			     mrt_st_count(st), want * (pre[0] ? 2 : 1));
	return 0;
}

static int
meta_copy(void *ctx, const char *key, const char *value)
{
	return nn_meta_add(ctx, key, value);
}

long
nn_st_meta_step(const mrt_st *st)
{
	const char *s = mrt_st_meta(st, "step");
	char *end;
	long v = s ? strtol(s, &end, 10) : 0;
	return s && end != s && !*end && v >= 0 ? v : 0;
}

int
mrt_nn_load(mrt_nn_model *m, const char *wpath, const char *opath, char *err, size_t cap)
{
	nn_net_f *n = m->net;
	mrt_st *st = NULL, *so = NULL;
	mrt_nn_config c;
	nn_meta meta = { 0 };
	float *p = NULL, *mm = NULL, *vv = NULL;
	size_t total = n->tab.total;
	int rc;
	if (opath && !m->m)
		return mrt_errf(err, cap, MRT_EINVAL, "%s: model has no optimizer state", opath);
	if ((rc = mrt_st_open(&st, wpath, err, cap)) || (rc = config_of(st, wpath, &c, err, cap)))
		goto out;
	if (!same_config(&c, &n->c)) {
		rc = mrt_errf(err, cap, MRT_ESHAPE, "%s: checkpoint sizes do not match the model", wpath);
		goto out;
	}
	/* read everything before touching the model */
	rc = MRT_ENOMEM;
	if (!(p = malloc(total * sizeof *p)))
		goto out;
	if ((rc = copy_tensors(st, wpath, &n->tab, "", p, err, cap)))
		goto out;
	if (opath) {
		rc = MRT_ENOMEM;
		if (!(mm = malloc(total * sizeof *mm)) || !(vv = malloc(total * sizeof *vv)))
			goto out;
		const char *f;
		if ((rc = mrt_st_open(&so, opath, err, cap)))
			goto out;
		if (!(f = mrt_st_meta(so, "format")) || strcmp(f, "merit-optim")) {
			rc = mrt_errf(err, cap, MRT_EFORMAT, "%s: not a merit optimizer state", opath);
			goto out;
		}
		if ((rc = copy_tensors(so, opath, &n->tab, "m.", mm, err, cap)) ||
		    (rc = copy_tensors(so, opath, &n->tab, "v.", vv, err, cap)))
			goto out;
	}
	/* the model keeps a copy of the metadata, not the file */
	if ((rc = mrt_st_meta_each(st, meta_copy, &meta)))
		goto out;
	memcpy(n->pmem, p, total * sizeof *p);
	n->wstale = 1;
	m->step = nn_st_meta_step(st);
	if (opath) {
		memcpy(m->m, mm, total * sizeof *mm);
		memcpy(m->v, vv, total * sizeof *vv);
		m->step = nn_st_meta_step(so);
	}
	snprintf(n->c.preset, sizeof n->c.preset, "%s", c.preset);
	n->c.fs = c.fs;
	n->c.mask_ratio = c.mask_ratio;
	nn_meta_clear(&m->meta);
	m->meta = meta;
	memset(&meta, 0, sizeof meta);
	rc = 0;
out:
	if (rc == MRT_ENOMEM && err && cap)
		mrt_errf(err, cap, rc, "%s: out of memory", wpath);
	nn_meta_clear(&meta);
	mrt_st_free(st);
	mrt_st_free(so);
	free(p);
	free(mm);
	free(vv);
	return rc;
}

int
mrt_nn_open(mrt_nn_model **m, const char *wpath, const char *opath, int max_batch, int flags,
	    char *err, size_t cap)
{
	mrt_nn_config c;
	*m = NULL;
	int rc = mrt_nn_read_config(wpath, &c, err, cap);
	if (rc)
		return rc;
	if ((rc = mrt_nn_new(m, &c, max_batch, flags)))
		return mrt_errf(err, cap, rc, "%s: cannot create the model: %s", wpath, mrt_strerror(rc));
	if ((rc = mrt_nn_load(*m, wpath, opath, err, cap))) {
		mrt_nn_free(*m);
		*m = NULL;
	}
	return rc;
}
