/*
 * test_nn_io: MERIT checkpoints.  Save -> load gives the same weights,
 * moments, step, metadata and outputs; Python (json + numpy) reads the file
 * we write; bad checkpoints (missing tensor, wrong dtype, wrong shape, sizes
 * not matching the model, truncated, header length past the end,
 * overlapping offsets, not a merit file) fail with a clear error and leave
 * the model as it was.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/nn.h"
#include "nn/internal.h"
#include "core/rng.h"

#include "io/safetensors.h"
#include "check.h"


static char dir[256];

static const char *
path(const char *name)
{
	static char buf[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
	return buf[k];
}

typedef struct {
	float *sig;
	int32_t *vis, *tok;
	mrt_nn_batch b;
} batch;

static void
make_batch(batch *bt, const mrt_nn_config *c, int B)
{
	mrt_rng r;
	mrt_rng_seed(&r, 77);
	int S = c->samples, np = mrt_nn_npatch(c), nv = mrt_nn_nvis(c), L = c->txt_len;
	bt->sig = malloc(sizeof(float) * B * c->leads * S);
	bt->vis = malloc(sizeof(int32_t) * B * nv);
	bt->tok = calloc((size_t)B * L, sizeof(int32_t));
	for (long i = 0; i < (long)B * c->leads * S; i++)
		bt->sig[i] = (float)(sin(0.1 * (i % S)) + 0.3 * mrt_rng_normal(&r));
	for (int b = 0; b < B; b++) {
		for (int i = 0; i < nv; i++)
			bt->vis[b * nv + i] = (i * 7 + b) % np;   /* 7 and 240 coprime */
		for (int i = 0; i < 6; i++)
			bt->tok[b * L + i] = i == 0 ? 2 : i == 5 ? 3 : 10 + b + i;
	}
	bt->b = (mrt_nn_batch){ B, bt->sig, NULL, bt->vis, bt->tok };
}

/* A model of merit-xs after two training steps, saved to w.st / o.st. */
static mrt_nn_model *
trained(const mrt_nn_config *c, const batch *bt)
{
	mrt_nn_model *m;
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	hp.lr = 1e-3;
	CHECK(mrt_nn_new(&m, c, 3, MRT_NN_TRAIN) == 0);
	mrt_nn_init(m, 42);
	CHECK(mrt_nn_train_step(m, &bt->b, &hp, NULL) == 0);
	CHECK(mrt_nn_train_step(m, &bt->b, &hp, NULL) == 0);
	return m;
}

static void
test_roundtrip(const mrt_nn_config *c, const batch *bt)
{
	mrt_nn_model *a = trained(c, bt), *b;
	char err[256] = "";
	const char *extra[] = { "rng", "0123456789abcdef", "data", "ptbxl", NULL };
	CHECK(mrt_nn_save(a, path("w.st"), path("o.st"), extra, err, sizeof err) == 0);
	CHECK(access(path("w.st.tmp"), F_OK) != 0);
	mrt_nn_config rc;
	CHECK(mrt_nn_read_config(path("w.st"), &rc, err, sizeof err) == 0);
	CHECK(!strcmp(rc.preset, "merit-xs") && rc.ecg_d == c->ecg_d && rc.ecg_layers == c->ecg_layers &&
	      rc.ecg_mlp == c->ecg_mlp && rc.dec_d == c->dec_d && rc.dec_layers == c->dec_layers &&
	      rc.dec_mlp == c->dec_mlp && rc.txt_vocab == c->txt_vocab && rc.txt_len == c->txt_len &&
	      rc.txt_d == c->txt_d && rc.txt_layers == c->txt_layers && rc.txt_mlp == c->txt_mlp &&
	      rc.proj == c->proj && rc.leads == c->leads && rc.samples == c->samples &&
	      rc.patch == c->patch && rc.fs == c->fs && rc.mask_ratio == c->mask_ratio &&
	      rc.ecg_heads == c->ecg_heads && rc.dec_heads == c->dec_heads &&
	      rc.txt_heads == c->txt_heads);
	CHECK(mrt_nn_open(&b, path("w.st"), path("o.st"), 3, MRT_NN_TRAIN, err, sizeof err) == 0);
	if (!b) {
		fprintf(stderr, "open: %s\n", err);
		mrt_nn_free(a);
		return;
	}
	size_t n = mrt_nn_nparams(a);
	CHECK(mrt_nn_nparams(b) == n);
	CHECK(memcmp(a->net->pmem, b->net->pmem, n * sizeof(float)) == 0);
	CHECK(memcmp(a->m, b->m, n * sizeof(float)) == 0);
	CHECK(memcmp(a->v, b->v, n * sizeof(float)) == 0);
	CHECK(mrt_nn_step(b) == 2);
	CHECK(mrt_nn_meta(b, "rng") && !strcmp(mrt_nn_meta(b, "rng"), "0123456789abcdef"));
	CHECK(mrt_nn_meta(b, "format") && !strcmp(mrt_nn_meta(b, "format"), "merit"));
	CHECK(mrt_nn_meta(b, "step") && !strcmp(mrt_nn_meta(b, "step"), "2"));
	CHECK(mrt_nn_meta(b, "absent") == NULL);
	float *saved = malloc(n * sizeof *saved);
	memcpy(saved, b->net->pmem, n * sizeof *saved);
	/* same outputs, and the same next step */
	float ha[3 * 32], hb[3 * 32], ea[3 * 12], eb[3 * 12], ta[3 * 12], tb[3 * 12];
	CHECK(mrt_nn_encode_ecg(a, bt->sig, NULL, 3, ha, ea) == 0);
	CHECK(mrt_nn_encode_ecg(b, bt->sig, NULL, 3, hb, eb) == 0);
	CHECK(mrt_nn_encode_text(a, bt->tok, 3, ta) == 0);
	CHECK(mrt_nn_encode_text(b, bt->tok, 3, tb) == 0);
	CHECK(!memcmp(ha, hb, sizeof ha) && !memcmp(ea, eb, sizeof ea) && !memcmp(ta, tb, sizeof ta));
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	hp.lr = 1e-3;
	mrt_nn_losses la, lb;
	CHECK(mrt_nn_train_step(a, &bt->b, &hp, &la) == 0);
	CHECK(mrt_nn_train_step(b, &bt->b, &hp, &lb) == 0);
	CHECK(la.loss == lb.loss && la.lr == lb.lr);
	CHECK(memcmp(a->net->pmem, b->net->pmem, n * sizeof(float)) == 0);
	/* an inference-only model loads weights alone; moments need TRAIN */
	mrt_nn_model *c2;
	CHECK(mrt_nn_open(&c2, path("w.st"), NULL, 2, 0, err, sizeof err) == 0);
	mrt_nn_free(c2);
	CHECK(mrt_nn_open(&c2, path("w.st"), path("o.st"), 2, 0, err, sizeof err) == MRT_EINVAL);
	CHECK(c2 == NULL && strstr(err, "optimizer"));

	/* Python reads it with json + numpy: print name, shape and sum */
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 -c '\n"
		 "import json, struct, sys\n"
		 "import numpy as np\n"
		 "b = open(sys.argv[1], \"rb\").read()\n"
		 "n = struct.unpack(\"<Q\", b[:8])[0]\n"
		 "h = json.loads(b[8:8 + n])\n"
		 "meta = h.pop(\"__metadata__\")\n"
		 "assert meta[\"format\"] == \"merit\" and meta[\"ecg.heads\"] == \"2\"\n"
		 "for k, v in h.items():\n"
		 "    s, e = v[\"data_offsets\"]\n"
		 "    assert v[\"dtype\"] == \"F32\"\n"
		 "    a = np.frombuffer(b[8 + n + s:8 + n + e], dtype=\"<f4\").reshape(v[\"shape\"])\n"
		 "    print(k, len(a.shape), a.shape[0], a.size, repr(float(a.astype(np.float64).sum())))\n"
		 "' %s", path("w.st"));
	FILE *py = popen(cmd, "r");
	CHECK(py != NULL);
	char name[128];
	int nd;
	long s0, sz;
	double sum;
	size_t seen = 0;
	while (py && fscanf(py, "%127s %d %ld %ld %lf", name, &nd, &s0, &sz, &sum) == 5) {
		for (size_t i = 0; i < mrt_nn_ntensors(a); i++) {
			const nn_entry *e = &b->net->tab.e[i];
			if (strcmp(e->name, name))
				continue;
			double ref = 0;
			for (size_t j = 0; j < e->n; j++)
				ref += saved[e->off + j];
			CHECK(nd == e->ndim && s0 == e->shape[0] && (size_t)sz == e->n);
			CHECK(fabs(sum - ref) <= 1e-9 * (1 + fabs(ref)));
			seen++;
		}
	}
	CHECK(py && pclose(py) == 0);
	CHECK(seen == mrt_nn_ntensors(a));
	printf("  python3 numpy read %zu tensors of the checkpoint\n", seen);
	free(saved);
	mrt_nn_free(a);
	mrt_nn_free(b);
}

/* The metadata of a merit-xs checkpoint, with key (if not NULL) set to
 * value. */
static const char **
xs_meta(const char *key, const char *value)
{
	static const char *meta[] = { "format", "merit", "version", "1",
			       "preset", "merit-xs", "ecg.heads", "2", "dec.heads", "2",
			       "txt.heads", "2", "fs", "100", "samples", "1000", "patch", "50",
			       "mask_ratio", "0.75", "max_len", "16", NULL };
	static const char *kv[sizeof meta / sizeof meta[0]];
	for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
		kv[i] = i % 2 && key && !strcmp(meta[i - 1], key) ? value : meta[i];
	return kv;
}

/* Rewrite w.st with one change: tensor skip left out, tensor f64 stored
 * as float64, tensor bad with one row too many, or metadata format wrong. */
static void
write_variant(const mrt_nn_model *m, const char *out, const char *skip, const char *f64,
	      const char *bad, const char *format)
{
	const nn_table *t = &m->net->tab;
	mrt_st_tensor *ts = calloc(t->n, sizeof *ts);
	double *dd = NULL;
	float *big = NULL;
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++) {
		const nn_entry *e = &t->e[i];
		if (skip && !strcmp(e->name, skip))
			continue;
		ts[k] = (mrt_st_tensor){ e->name, MRT_F32, e->ndim, { e->shape[0], e->shape[1] },
					 m->net->pmem + e->off };
		if (f64 && !strcmp(e->name, f64)) {
			dd = malloc(e->n * sizeof *dd);
			for (size_t j = 0; j < e->n; j++)
				dd[j] = m->net->pmem[e->off + j];
			ts[k].dtype = MRT_F64;
			ts[k].data = dd;
		}
		if (bad && !strcmp(e->name, bad)) {
			size_t row = e->ndim == 2 ? (size_t)e->shape[1] : 1;
			big = calloc(e->n + row, sizeof *big);
			ts[k].shape[0]++;
			ts[k].data = big;
		}
		k++;
	}
	char err[256];
	CHECK(mrt_st_write(out, ts, k, xs_meta(format ? "format" : NULL, format), err,
			   sizeof err) == 0);
	free(ts);
	free(dd);
	free(big);
}

/* Loading file fails with code (0: any error) and a message holding msg;
 * the model keeps its weights.  A damaged file does not open either. */
static void
expect_fail(mrt_nn_model *m, const char *file, int code, const char *msg, int damaged)
{
	char err[256] = "";
	size_t n = mrt_nn_nparams(m);
	float *keep = malloc(n * sizeof *keep);
	memcpy(keep, m->net->pmem, n * sizeof *keep);
	int rc = mrt_nn_load(m, file, NULL, err, sizeof err);
	if ((code ? rc != code : rc >= 0) || !strstr(err, msg)) {
		fprintf(stderr, "load %s: got %d '%s', expected %d '%s'\n", file, rc, err, code, msg);
		fails++;
	}
	CHECK(memcmp(keep, m->net->pmem, n * sizeof *keep) == 0);
	mrt_nn_model *o;
	if (damaged)   /* not a loadable checkpoint of any model */
		CHECK(mrt_nn_open(&o, file, NULL, 1, 0, err, sizeof err) < 0 && o == NULL);
	free(keep);
}

static void
test_bad(const mrt_nn_config *c, const batch *bt)
{
	mrt_nn_model *m = trained(c, bt);
	char err[256];
	CHECK(mrt_nn_save(m, path("w.st"), NULL, NULL, err, sizeof err) == 0);
	write_variant(m, path("miss.st"), "dec.blocks.0.mlp.fc2.bias", NULL, NULL, NULL);
	expect_fail(m, path("miss.st"), MRT_ENOENT, "missing tensor dec.blocks.0.mlp.fc2.bias", 1);
	write_variant(m, path("f64.st"), NULL, "ecg.ln.weight", NULL, NULL);
	expect_fail(m, path("f64.st"), MRT_ETYPE, "tensor ecg.ln.weight is float64, expected float32", 1);
	write_variant(m, path("shape.st"), NULL, NULL, "ecg.time_pos", NULL);
	expect_fail(m, path("shape.st"), MRT_ESHAPE, "tensor ecg.time_pos has shape [21,32], expected [20,32]", 1);
	write_variant(m, path("fmt.st"), NULL, NULL, NULL, "other");
	expect_fail(m, path("fmt.st"), MRT_EFORMAT, "not a merit checkpoint", 1);
	/* a checkpoint of other sizes */
	mrt_nn_config c2 = *c;
	c2.ecg_mlp = 64;
	mrt_nn_model *o;
	CHECK(mrt_nn_new(&o, &c2, 1, 0) == 0);
	mrt_nn_init(o, 1);
	CHECK(mrt_nn_save(o, path("other.st"), NULL, NULL, err, sizeof err) == 0);
	mrt_nn_free(o);
	expect_fail(m, path("other.st"), MRT_ESHAPE, "do not match the model", 0);

	/* byte-level damage: truncated, header length past the end,
	 * overlapping offsets (rewritten by python) */
	FILE *f = fopen(path("w.st"), "rb");
	CHECK(f != NULL);
	if (!f) {
		mrt_nn_free(m);
		return;
	}
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	char *buf = malloc(len);
	CHECK(fread(buf, 1, len, f) == (size_t)len);
	fclose(f);
	f = fopen(path("trunc.st"), "wb");
	fwrite(buf, 1, len - 100, f);
	fclose(f);
	expect_fail(m, path("trunc.st"), 0, "trunc.st", 1);
	uint64_t huge = (uint64_t)len;
	memcpy(buf, &huge, 8);
	f = fopen(path("hdr.st"), "wb");
	fwrite(buf, 1, len, f);
	fclose(f);
	expect_fail(m, path("hdr.st"), 0, "hdr.st", 1);
	free(buf);
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 -c '\n"
		 "import json, struct, sys\n"
		 "b = open(sys.argv[1], \"rb\").read()\n"
		 "n = struct.unpack(\"<Q\", b[:8])[0]\n"
		 "h = json.loads(b[8:8 + n])\n"
		 "h[\"ecg.patch.bias\"][\"data_offsets\"] = h[\"ecg.patch.weight\"][\"data_offsets\"][:1] + [h[\"ecg.patch.weight\"][\"data_offsets\"][0] + 128]\n"
		 "j = json.dumps(h).encode()\n"
		 "j += b\" \" * (-len(j) %% 8)\n"
		 "open(sys.argv[2], \"wb\").write(struct.pack(\"<Q\", len(j)) + j + b[8 + n:])\n"
		 "' %s %s", path("w.st"), path("overlap.st"));
	CHECK(system(cmd) == 0);
	expect_fail(m, path("overlap.st"), 0, "overlap.st", 1);
	expect_fail(m, path("absent.st"), 0, "absent.st", 1);
	mrt_nn_free(m);
}

/* Data of the tensor called name. */
static float *
tensor_data(const mrt_nn_model *m, const char *name, size_t *n)
{
	for (size_t i = 0; i < mrt_nn_ntensors(m); i++) {
		const char *nm;
		int nd;
		int64_t sh[2];
		float *d;
		mrt_nn_tensor(m, i, &nm, &nd, sh, &d, NULL);
		if (!strcmp(nm, name)) {
			*n = (size_t)sh[0] * (nd == 2 ? (size_t)sh[1] : 1);
			return d;
		}
	}
	return NULL;
}

/* The model's tensors with metadata key set to value. */
static void
write_meta(const mrt_nn_model *m, const char *out, const char *key, const char *value)
{
	const nn_table *t = &m->net->tab;
	mrt_st_tensor *ts = calloc(t->n, sizeof *ts);
	char err[256];
	for (size_t i = 0; i < t->n; i++) {
		const nn_entry *e = &t->e[i];
		ts[i] = (mrt_st_tensor){ e->name, MRT_F32, e->ndim, { e->shape[0], e->shape[1] },
					 m->net->pmem + e->off };
	}
	CHECK(mrt_st_write(out, ts, t->n, xs_meta(key, value), err, sizeof err) == 0);
	free(ts);
}

/* Hostile checkpoints (issue 18, fuzz/regress/checkpoint): a NaN or an
 * infinity in the weights or the moments is refused with the tensor and
 * element named; metadata asking for a model far larger than the file's
 * tensors is refused by mrt_nn_read_config, before a model of that size
 * exists, and so is one past the size limits. */
static void
test_hostile(const mrt_nn_config *c, const batch *bt)
{
	mrt_nn_model *m = trained(c, bt);
	char err[256] = "";
	mrt_nn_config rc;
	size_t n;
	float *w = tensor_data(m, "ecg.blocks.0.attn.qkv.weight", &n), keep = w[17];
	CHECK(w && n > 17);
	w[17] = NAN;
	CHECK(mrt_nn_save(m, path("nan.st"), NULL, NULL, err, sizeof err) == 0);
	w[17] = keep;
	expect_fail(m, path("nan.st"), MRT_EFORMAT,
		    "nan.st: tensor ecg.blocks.0.attn.qkv.weight: element 17 is not finite", 0);
	mrt_nn_model *o;
	CHECK(mrt_nn_open(&o, path("nan.st"), NULL, 1, 0, err, sizeof err) == MRT_EFORMAT &&
	      o == NULL);
	float *b = tensor_data(m, "txt.ln.bias", &n);
	size_t off = (size_t)(b - m->net->pmem);
	float mv = m->v[off + n - 1];
	m->v[off + n - 1] = INFINITY;
	CHECK(mrt_nn_save(m, path("w.st"), path("inf.st"), NULL, err, sizeof err) == 0);
	m->v[off + n - 1] = mv;
	CHECK(mrt_nn_load(m, path("w.st"), path("inf.st"), err, sizeof err) == MRT_EFORMAT &&
	      strstr(err, "inf.st: tensor v.txt.ln.bias: element "));
	char want[64];
	snprintf(want, sizeof want, "element %zu is not finite", n - 1);
	CHECK(strstr(err, want), "%s", err);
	CHECK(m->v[off + n - 1] == mv);

	/* 20000 samples: 400 time steps (within the limits); the file has 20 */
	write_meta(m, path("samples.st"), "samples", "20000");
	CHECK(mrt_nn_read_config(path("samples.st"), &rc, err, sizeof err) == MRT_ESHAPE &&
	      strstr(err, "samples.st: tensor ecg.time_pos has shape [20,32], expected "
		     "[400,32]"), "%s", err);
	/* patch 1: 12000 tokens, past the activation limit */
	write_meta(m, path("patch.st"), "patch", "1");
	CHECK(mrt_nn_read_config(path("patch.st"), &rc, err, sizeof err) == MRT_ESHAPE &&
	      strstr(err, "patch.st: inconsistent config: model too large: ") &&
	      strstr(err, "the limit is 268435456 (1 GiB)"), "%s", err);
	mrt_nn_free(m);
}

/* The structure keys: written only when not the default and read back; a
 * model of another structure refuses the file; a bad value is named.  The
 * sin-cos tables follow the formula and training leaves them alone. */
static void
test_structure(const mrt_nn_config *base, const batch *bt)
{
	mrt_nn_config c = *base, rc;
	mrt_nn_model *m, *o;
	mrt_st *st;
	char err[256] = "";
	CHECK(mrt_nn_new(&m, &c, 3, 0) == 0);
	mrt_nn_init(m, 1);
	CHECK(mrt_nn_save(m, path("d.st"), NULL, NULL, err, sizeof err) == 0);
	CHECK(mrt_st_open(&st, path("d.st"), err, sizeof err) == 0);
	CHECK(st && !mrt_st_meta(st, "enc_attn") && !mrt_st_meta(st, "dec_attn") &&
	      !mrt_st_meta(st, "pos"));
	mrt_st_free(st);
	mrt_nn_free(m);

	CHECK(mrt_nn_config_set(&c, "enc_attn", "crisscross", err, sizeof err) == 0);
	CHECK(mrt_nn_config_set(&c, "dec_attn", "axial", err, sizeof err) == 0);
	CHECK(mrt_nn_config_set(&c, "pos", "sincos", err, sizeof err) == 0);
	CHECK(mrt_nn_config_set(&c, "dec_attn", "diagonal", err, sizeof err) == MRT_EINVAL &&
	      !strcmp(err, "dec_attn diagonal is not full, crisscross or axial"));
	CHECK(mrt_nn_config_set(&c, "attn", "full", err, sizeof err) == MRT_ENOENT &&
	      !strcmp(err, "unknown key attn"));
	CHECK(c.dec_attn == MRT_NN_ATTN_AXIAL);
	CHECK(mrt_nn_new(&m, &c, 3, MRT_NN_TRAIN) == 0);
	mrt_nn_init(m, 1);
	size_t ne, nd, nl;
	float *et = tensor_data(m, "ecg.time_pos", &ne), *dt = tensor_data(m, "dec.time_pos", &nd);
	float *le = tensor_data(m, "ecg.lead_emb", &nl);
	/* row 3 of the [20, 32] table: sin(3 w_1) at 1, cos(3 w_1) at 17 */
	double w1 = pow(10000.0, -1.0 / 16);
	CHECK(fabs(et[3 * 32 + 1] - sin(3 * w1)) < 1e-7 && fabs(et[3 * 32 + 17] - cos(3 * w1)) < 1e-7);
	CHECK(et[0] == 0 && et[16] == 1 && dt[0] == 0 && dt[12] == 1);
	float *keep = malloc((ne + nd + nl) * sizeof *keep);
	memcpy(keep, et, ne * sizeof *keep);
	memcpy(keep + ne, dt, nd * sizeof *keep);
	memcpy(keep + ne + nd, le, nl * sizeof *keep);
	mrt_nn_hparams hp;
	mrt_nn_hparams_default(&hp);
	hp.lr = 1e-3;
	CHECK(mrt_nn_train_step(m, &bt->b, &hp, NULL) == 0);
	CHECK(!memcmp(keep, et, ne * sizeof *keep) && !memcmp(keep + ne, dt, nd * sizeof *keep));
	CHECK(memcmp(keep + ne + nd, le, nl * sizeof *keep) != 0);
	free(keep);

	CHECK(mrt_nn_save(m, path("s.st"), NULL, NULL, err, sizeof err) == 0);
	CHECK(mrt_nn_read_config(path("s.st"), &rc, err, sizeof err) == 0);
	CHECK(rc.enc_attn == MRT_NN_ATTN_CRISSCROSS && rc.dec_attn == MRT_NN_ATTN_AXIAL &&
	      rc.pos == MRT_NN_POS_SINCOS);
	CHECK(mrt_nn_new(&o, base, 3, 0) == 0);
	CHECK(mrt_nn_load(o, path("s.st"), NULL, err, sizeof err) == MRT_ESHAPE);
	mrt_nn_free(o);
	CHECK(mrt_nn_open(&o, path("s.st"), NULL, 3, 0, err, sizeof err) == 0);
	float h1[3 * 32], h2[3 * 32], e1[3 * 12], e2[3 * 12];
	CHECK(o && mrt_nn_encode_ecg(m, bt->sig, NULL, 3, h1, e1) == 0 &&
	      mrt_nn_encode_ecg(o, bt->sig, NULL, 3, h2, e2) == 0);
	CHECK(!memcmp(h1, h2, sizeof h1) && !memcmp(e1, e2, sizeof e1));
	mrt_nn_free(o);

	/* the caller's keys come after the model's, so this one wins */
	const char *bad[] = { "dec_attn", "diagonal", NULL };
	CHECK(mrt_nn_save(m, path("b.st"), NULL, bad, err, sizeof err) == 0);
	CHECK(mrt_nn_read_config(path("b.st"), &rc, err, sizeof err) == MRT_EFORMAT &&
	      strstr(err, "b.st: metadata dec_attn diagonal is not full, crisscross or axial"));
	mrt_nn_free(m);
}

int
main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_nn_io.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	mrt_nn_set_threads(2);
	mrt_nn_config c;
	mrt_nn_preset("merit-xs", &c);
	batch bt;
	make_batch(&bt, &c, 3);
	test_roundtrip(&c, &bt);
	test_bad(&c, &bt);
	test_structure(&c, &bt);
	test_hostile(&c, &bt);
	free(bt.sig), free(bt.vis), free(bt.tok);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fails++;
	if (fails) {
		fprintf(stderr, "test_nn_io: %d failures\n", fails);
		return 1;
	}
	printf("test_nn_io: ok\n");
	return 0;
}
