/*
 * batch.c: one record into one row of the model's batch (see batch.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nn/batch.h"

static int
str_eq(const msgpack_object *o, const msgpack_object *p)
{
	return o->type == MSGPACK_OBJECT_STR && p->type == MSGPACK_OBJECT_STR &&
	    o->via.str.size == p->via.str.size &&
	    memcmp(o->via.str.ptr, p->via.str.ptr, o->via.str.size) == 0;
}

int
mrt_batch_signal(const msgpack_object *rec, const mrt_nn_config *c, float *sig,
		 uint8_t *missing, char *err, size_t cap)
{
	mrt_tensor t;
	int L, e;
	int64_t S;
	const msgpack_object *lf, *mf;

	if ((e = mrt_rec_tensor(rec, "sig", &t)) != 0)
		return mrt_errf(err, cap, e, e == MRT_ENOENT ? "no field sig" :
		    "field sig: %s", mrt_strerror(e));
	if (t.ndim != 2 || t.shape[0] != c->leads || t.shape[1] != c->samples)
		return mrt_errf(err, cap, MRT_ESHAPE, "sig has shape [%lld%s%lld], the model needs "
		    "[%d, %d] (%d Hz, %d samples: ingest with --fs %d and --seconds)",
		    (long long)t.shape[0], t.ndim > 1 ? ", " : "",
		    t.ndim > 1 ? (long long)t.shape[1] : 0LL, c->leads, c->samples, c->fs,
		    c->samples, c->fs);
	e = mrt_rec_signal_mv(rec, sig, (size_t)c->leads * c->samples, &L, &S);
	if (e != 0)
		return mrt_errf(err, cap, e, "field sig: %s%s", mrt_strerror(e),
		    e == MRT_ERANGE ? " (a gain is zero or not finite)" : "");
	memset(missing, 0, (size_t)c->leads);
	mf = mrt_rec_get(rec, "missing");
	if (mf == NULL || mf->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (mf->type != MSGPACK_OBJECT_ARRAY)
		return mrt_errf(err, cap, MRT_ETYPE, "field missing is not an array of lead names");
	if (mf->via.array.size == 0)
		return 0;
	lf = mrt_rec_get(rec, "leads");
	if (lf == NULL || lf->type != MSGPACK_OBJECT_ARRAY || (int)lf->via.array.size != L)
		return mrt_errf(err, cap, MRT_EFORMAT,
		    "field missing given but no field leads of %d names", L);
	for (uint32_t i = 0; i < mf->via.array.size; i++) {
		const msgpack_object *mn = &mf->via.array.ptr[i];
		int found = 0;
		for (int l = 0; l < L; l++)
			if (str_eq(mn, &lf->via.array.ptr[l])) {
				missing[l] = 1;
				found = 1;
			}
		if (!found)
			return mrt_errf(err, cap, MRT_EFORMAT, "missing lead %.*s is not in leads",
			    mn->type == MSGPACK_OBJECT_STR ? (int)mn->via.str.size : 1,
			    mn->type == MSGPACK_OBJECT_STR ? mn->via.str.ptr : "?");
	}
	for (int l = 0; l < L; l++)
		if (missing[l])
			memset(sig + (size_t)l * S, 0, (size_t)S * sizeof *sig);
	return 0;
}

int
mrt_batch_visible(const msgpack_object *rec, const mrt_nn_config *c,
		  const uint8_t *missing, int32_t *vis, char *err, size_t cap)
{
	int nv;
	return mrt_batch_visible_kept(rec, c, missing, NULL, vis, &nv, err, cap);
}

int
mrt_batch_visible_kept(const msgpack_object *rec, const mrt_nn_config *c,
		       const uint8_t *missing, const uint8_t *drop, int32_t *vis, int *nv,
		       char *err, size_t cap)
{
	mrt_tensor t;
	int nt = mrt_nn_ntime(c), np = mrt_nn_npatch(c), nvis = mrt_nn_nvis(c), k = 0, all = 0, e;
	const uint8_t *m;

	*nv = 0;
	if ((e = mrt_rec_tensor(rec, "mask", &t)) != 0)
		return mrt_errf(err, cap, e, e == MRT_ENOENT ?
		    "no field mask (run ecg-mask first)" : "field mask: %s",
		    mrt_strerror(e));
	if (t.dtype != MRT_U8 || t.ndim != 2 || t.shape[0] != c->leads || t.shape[1] != nt)
		return mrt_errf(err, cap, MRT_ESHAPE, "field mask is not uint8 [%d, %d] "
		    "(ecg-mask -p %d for this model's patch)", c->leads, nt, c->patch);
	m = t.data;
	for (int p = 0; p < np; p++) {
		if (m[p] > 2)
			return mrt_errf(err, cap, MRT_ERANGE, "field mask: value %d (0, 1 or 2 allowed)",
			    m[p]);
		if (m[p] != 0)
			continue;
		if (missing && missing[p / nt])
			return mrt_errf(err, cap, MRT_EFORMAT,
			    "field mask: patch %d of missing lead %d is visible", p % nt, p / nt);
		if (all++ == nvis)
			return mrt_errf(err, cap, MRT_ESHAPE, "field mask has more than the %d visible "
			    "patches of mask ratio %g", nvis, c->mask_ratio);
		if (!drop || !drop[p / nt])
			vis[k++] = p;
	}
	if (all != nvis)
		return mrt_errf(err, cap, MRT_ESHAPE, "field mask has %d visible patches, the model "
		    "needs %d (mask ratio %g)", all, nvis, c->mask_ratio);
	if (k == 0)
		return mrt_errf(err, cap, MRT_EFORMAT,
		    "field mask has no visible patch on the leads kept");
	*nv = k;
	return 0;
}

int
mrt_batch_tokens(const msgpack_object *rec, const mrt_nn_config *c, int32_t *tok,
		 char *err, size_t cap)
{
	mrt_tensor t;
	int e;

	if ((e = mrt_rec_tensor(rec, "tok", &t)) != 0)
		return mrt_errf(err, cap, e, e == MRT_ENOENT ?
		    "no field tok (run txt-tokenize -v VOCAB first)" :
		    "field tok: %s", mrt_strerror(e));
	if (t.ndim != 1 || t.shape[0] != c->txt_len)
		return mrt_errf(err, cap, MRT_ESHAPE, "field tok has %lld ids, the model needs %d "
		    "(txt-tokenize --max-len %d)", t.ndim == 1 ? (long long)t.shape[0] : -1LL,
		    c->txt_len, c->txt_len);
	if ((e = mrt_tensor_to_i32(&t, tok)) != 0)
		return mrt_errf(err, cap, e, "field tok is not an integer tensor");
	for (int i = 0; i < c->txt_len; i++)
		if (tok[i] < 0 || tok[i] >= c->txt_vocab)
			return mrt_errf(err, cap, MRT_ERANGE, "field tok: id %d at %d is outside the "
			    "model's vocabulary of %d", tok[i], i, c->txt_vocab);
	return 0;
}
