/*
 * merit-caption: ECG-conditioned report generation on a frozen MERIT
 * encoder (caption.h, formats/merit-caption.5).
 *
 *   merit-caption --init -m ENCODER [--config FILE] [--no-ecg] [-s seed]
 *                 [training options] -o OUT
 *   merit-caption -m IN -o OUT [--steps N] [--save-every N] [--log FILE]
 *                 [--threads N] [--restart-stream] [training options] [file]
 *   merit-caption --generate -m IN [--beam W] [--max-len N]
 *                 [--length-penalty X] [--batch N] [--threads N] [-f] [-o file] [file]
 *   merit-caption --encode -m IN [--batch N] [--threads N] [-f] [-o file] [file]
 *   merit-caption --info -m IN
 *
 * Training reads records with tok (and sig, unless the model was made
 * with --no-ecg) in batches of --batch, teacher forcing; the last partial
 * batch is dropped.  OUT is a checkpoint pair (weights OUT, the optimizer
 * state beside it) whose metadata keeps the training options and the
 * position in the stream, as merit-step's does, so epochs chain and an
 * flt_stop run resumes bit-identically.  --generate adds gen (the
 * text) and gen_tok (int32 [max_len of the encoder]) to every record;
 * --encode adds the frozen encoder's memory instead (cap_mem, cap_enc), which
 * training and generation then read in place of sig: the encoder runs once
 * per record, not once per epoch.
 */
#include <getopt.h>
#include <math.h>

#include "cli/filter.h"
#include "cli/train.h"
#include "nn/batch.h"
#include "nn/caption.h"
#include "text/bpe.h"

#define USAGE \
	"merit-caption --init -m ENCODER [--config FILE] [--no-ecg] [-s seed]\n" \
	"                     [training options] -o OUT\n" \
	"       merit-caption -m IN -o OUT [--steps N] [--save-every N] [--log FILE]\n" \
	"                     [--threads N] [--restart-stream] [training options] [file]\n" \
	"       merit-caption --generate -m IN [--beam W] [--max-len N] [--length-penalty X]\n" \
	"                     [--batch N] [--threads N] [-f] [-o file] [file]\n" \
	"       merit-caption --encode -m IN [--batch N] [--threads N] [-f] [-o file] [file]\n" \
	"       merit-caption --info -m IN\n" \
	"training options: [--batch N] [--lr X] [--warmup N] [--total-steps N]\n" \
	"                  [--weight-decay X] [--clip X]"

struct opts {
	int init, info, generate, encode, noecg, restart, threads, force;
	const char *model, *out, *config, *log, *input;
	long steps, save_every, beam, max_len;
	double lr, wd, clip, lp;        /* NAN: not given */
	long warmup, total, batch, seed; /* -1: not given */
};

/* Training options kept in the checkpoint (train.*). */
struct train {
	mrt_nn_hparams hp;
	long batch, seed;
};

static double
meta_num(const mrt_cap_model *m, const char *key, double def)
{
	return flt_meta_num(m ? mrt_cap_meta(m, key) : NULL, def);
}

/* Defaults, then the checkpoint's train.* keys, then the command line. */
static void
train_opts(const mrt_cap_model *m, const struct opts *op, struct train *t)
{
	mrt_nn_hparams *hp = &t->hp;
	mrt_nn_hparams_default(hp);
	hp->lr = meta_num(m, "train.lr", hp->lr);
	hp->warmup = (long)meta_num(m, "train.warmup", 0);
	hp->total = (long)meta_num(m, "train.total_steps", 0);
	hp->wd = meta_num(m, "train.weight_decay", hp->wd);
	hp->clip = meta_num(m, "train.clip", hp->clip);
	t->batch = (long)meta_num(m, "train.batch", 32);
	t->seed = (long)meta_num(m, "train.seed", 0);
	if (!isnan(op->lr)) hp->lr = op->lr;
	if (op->warmup >= 0) hp->warmup = op->warmup;
	if (op->total >= 0) hp->total = op->total;
	if (!isnan(op->wd)) hp->wd = op->wd;
	if (!isnan(op->clip)) hp->clip = op->clip;
	if (op->batch >= 0) t->batch = op->batch;
	if (op->seed >= 0) t->seed = op->seed;
}

/* The metadata a checkpoint carries besides the model's own. */
struct meta {
	char v[9][32];
	const char *kv[24];
};

static const char *const *
meta_list(struct meta *mt, const struct train *t, long records, int complete)
{
	const mrt_nn_hparams *hp = &t->hp;
	int n = 0, k = 0;
#define KV(key, ...) do { snprintf(mt->v[k], sizeof mt->v[k], __VA_ARGS__); \
	mt->kv[n++] = (key); mt->kv[n++] = mt->v[k++]; } while (0)
	mt->kv[n++] = "writer";
	mt->kv[n++] = "merit-caption";
	KV("train.lr", "%.17g", hp->lr);
	KV("train.warmup", "%ld", hp->warmup);
	KV("train.total_steps", "%ld", hp->total);
	KV("train.weight_decay", "%.17g", hp->wd);
	KV("train.clip", "%.17g", hp->clip);
	KV("train.batch", "%ld", t->batch);
	KV("train.seed", "%ld", t->seed);
	KV("resume.records", "%ld", records);
	KV("resume.complete", "%d", complete);
#undef KV
	mt->kv[n] = NULL;
	return mt->kv;
}

/* Save with signals held, so that an interrupt never cuts a write. */
static void
save(const mrt_cap_model *m, const char *out, const char *const *meta, int optim)
{
	char opath[4096], err[1024];
	sigset_t old;
	int e;
	flt_optim_path(out, opath, sizeof opath);
	flt_hold_signals(&old);
	e = mrt_cap_save(m, out, optim ? opath : NULL, meta, err, sizeof err);
	flt_release_signals(&old);
	if (e != 0)
		flt_die("%s", err);
}

/* ---- --init and --info --------------------------------------------------------- */

/* "key value" or "key = value" lines, '#' comments: the keys of
 * mrt_cap_config_set. */
static void
read_config(const char *path, mrt_cap_config *cc)
{
	FILE *f = fopen(path, "r");
	char line[512], key[64], val[256], why[256], *p;
	int no = 0;
	if (f == NULL)
		flt_die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL) {
		no++;
		line[strcspn(line, "#")] = 0;
		while ((p = strchr(line, '=')) != NULL)
			*p = ' ';
		int got = sscanf(line, "%63s %255s", key, val);
		if (got == 1)
			flt_die("%s: line %d: %s without a value", path, no, key);
		if (got == 2 && mrt_cap_config_set(cc, key, val, why, sizeof why) != 0)
			flt_die("%s: line %d: %s", path, no, why);
	}
	if (ferror(f))
		flt_die("%s: %s", path, strerror(errno));
	fclose(f);
}

static int
do_init(const struct opts *op)
{
	mrt_nn_config ec;
	mrt_cap_config cc;
	mrt_cap_model *m;
	struct train t;
	struct meta mt;
	char err[1024], why[256];
	if (mrt_nn_read_config(op->model, &ec, err, sizeof err) != 0)
		flt_die("%s", err);
	mrt_cap_config_default(&cc, &ec);
	if (op->config != NULL)
		read_config(op->config, &cc);
	if (mrt_cap_config_check(&cc, why, sizeof why) != 0)
		flt_die("%s: %s", op->config ? op->config : "decoder config", why);
	train_opts(NULL, op, &t);
	if (mrt_cap_create(&m, op->model, &cc, !op->noecg, (uint64_t)t.seed, err, sizeof err) != 0)
		flt_die("%s", err);
	save(m, op->out, meta_list(&mt, &t, 0, 1), 0);
	fprintf(stderr, "%s: %s: decoder d %d, %d blocks, %d heads, mlp %d, %zu parameters, %s, "
	    "seed %ld\n", flt_prog, op->out, cc.d, cc.layers, cc.heads, cc.mlp, mrt_cap_nparams(m),
	    op->noecg ? "no ECG (text only)" : "cross-attention to the ECG", t.seed);
	mrt_cap_free(m);
	return 0;
}

static int
do_info(const struct opts *op)
{
	static const char *const keys[] = { "format", "version", "step", "cap.d", "cap.layers",
		"cap.heads", "cap.mlp", "cap.ecg", "cap.memory", "enc.ecg_d", "enc.ecg_layers",
		"enc.txt_vocab", "enc.txt_len", "train.lr", "train.warmup", "train.total_steps",
		"train.weight_decay", "train.clip", "train.batch", "train.seed", "resume.records",
		"resume.complete", NULL };
	mrt_cap_model *m;
	char err[1024];
	if (mrt_cap_open(&m, op->model, NULL, 1, 0, err, sizeof err) != 0)
		flt_die("%s", err);
	for (int i = 0; keys[i]; i++) {
		const char *v = mrt_cap_meta(m, keys[i]);
		if (v != NULL)
			printf("%s\t%s\n", keys[i], v);
	}
	printf("parameters\t%zu\n", mrt_cap_nparams(m));
	mrt_cap_free(m);
	flt_out_commit(stdout, NULL);
	return 0;
}

/* ---- the memory of a batch ----------------------------------------------------------
 * A record's memory is its field cap_mem (float32 [mem, ecg_d], written by
 * --encode with the same encoder: cap_enc names it) or else comes from its
 * sig, encoded with the batch's other such records. */

struct memrows {
	float *sig, *mem, *cmem;        /* [B, leads, samples], [B, M, ecg_d] x 2 */
	uint8_t *missing;               /* [B, leads] */
	int *src, k;                    /* batch row of each of the k signals */
};

static struct memrows mr;       /* file scope: reachable when flt_die() exits */

static void
memrows_alloc(struct memrows *w, const mrt_cap_model *m, int B)
{
	const mrt_nn_config *ec = mrt_cap_enc_config(m);
	size_t nm = (size_t)B * mrt_cap_get_config(m)->mem * ec->ecg_d;
	w->sig = malloc((size_t)B * ec->leads * ec->samples * sizeof *w->sig);
	w->missing = malloc((size_t)B * ec->leads);
	w->mem = malloc(nm * sizeof *w->mem);
	w->cmem = malloc(nm * sizeof *w->cmem);
	w->src = malloc((size_t)B * sizeof *w->src);
	w->k = 0;
	if (!w->sig || !w->missing || !w->mem || !w->cmem || !w->src)
		flt_die("out of memory for a batch of %d", B);
}

static void
memrows_free(struct memrows *w)
{
	free(w->sig), free(w->missing), free(w->mem), free(w->cmem), free(w->src);
}

/* Row i's memory from rec; 0, or an error code with err set. */
static int
memrows_row(struct memrows *w, int i, const msgpack_object *rec, const mrt_cap_model *m,
	    char *err, size_t cap)
{
	const mrt_nn_config *ec = mrt_cap_enc_config(m);
	int M = mrt_cap_get_config(m)->mem;
	size_t nm = (size_t)M * ec->ecg_d;
	mrt_tensor t;
	char id[32];
	int e = mrt_rec_tensor(rec, "cap_mem", &t);
	if (e == MRT_ENOENT) {
		e = mrt_batch_signal(rec, ec, w->sig + (size_t)w->k * ec->leads * ec->samples,
		    w->missing + (size_t)w->k * ec->leads, err, cap);
		if (e == 0)
			w->src[w->k++] = i;
		return e;
	}
	if (e != 0)
		return mrt_errf(err, cap, e, "field cap_mem: %s", mrt_strerror(e));
	if (mrt_rec_strcpy(rec, "cap_enc", id, sizeof id) != 0 || strcmp(id, mrt_cap_enc_id(m)))
		return mrt_errf(err, cap, MRT_EINVAL, "field cap_mem was made by another encoder "
		    "(cap_enc %s, the model's %s)", mrt_rec_get(rec, "cap_enc") ? id : "absent",
		    mrt_cap_enc_id(m));
	if (t.ndim != 2 || t.shape[0] != M || t.shape[1] != ec->ecg_d || t.dtype != MRT_F32)
		return mrt_errf(err, cap, MRT_ESHAPE, "field cap_mem is not float32 [%d, %d]", M,
		    ec->ecg_d);
	mrt_tensor_to_f32(&t, w->mem + (size_t)i * nm);
	return 0;
}

/* Encode the batch's signals into their rows' memory. */
static void
memrows_encode(struct memrows *w, mrt_cap_model *m, const char *model)
{
	size_t nm = (size_t)mrt_cap_get_config(m)->mem * mrt_cap_enc_config(m)->ecg_d;
	if (w->k == 0)
		return;
	if (mrt_cap_encode(m, w->sig, w->missing, w->k, w->cmem) != 0)
		flt_die("%s: %s", model, mrt_cap_errmsg(m));
	for (int j = 0; j < w->k; j++)
		memcpy(w->mem + (size_t)w->src[j] * nm, w->cmem + (size_t)j * nm, nm * sizeof *w->mem);
	w->k = 0;
}

/* ---- training ---------------------------------------------------------------------- */

static int
do_train(const struct opts *op)
{
	mrt_cap_model *m;
	struct train t;
	struct meta mt;
	char err[1024], opath[4096];
	const char *in = op->input;
	FILE *inf, *logf = NULL;
	mrt_reader *r;
	const mrt_nn_config *ec;
	long skip = 0, records, step0, limit;
	int B, row = 0, complete = 0, status = 0, ecg, len;
	int32_t *tok;
	mrt_cap_losses loss = { 0 };
	double t0 = flt_now(), tlast = t0;
	long ntok = 0;

	flt_optim_path(op->model, opath, sizeof opath);
	/* the options need the metadata: a small model first */
	mrt_nn_set_threads(op->threads);
	if (mrt_cap_open(&m, op->model, NULL, 1, 0, err, sizeof err) != 0)
		flt_die("%s", err);
	train_opts(m, op, &t);
	if (!op->restart && meta_num(m, "resume.complete", 1) == 0)
		skip = (long)meta_num(m, "resume.records", 0);
	mrt_cap_free(m);
	if (t.batch < 1 || t.batch > 65536)
		flt_die("--batch %ld: not in 1..65536", t.batch);
	if (t.hp.total <= 0)
		flt_die("no --total-steps for the learning-rate schedule (give it here or with --init)");
	B = (int)t.batch;
	if (mrt_cap_open(&m, op->model, access(opath, F_OK) == 0 ? opath : NULL, B, MRT_NN_TRAIN,
	    err, sizeof err) != 0)
		flt_die("%s", err);
	if (access(opath, F_OK) != 0 && mrt_cap_step(m) > 0)
		flt_die("%s: no optimizer file %s for a model at step %ld", op->model, opath,
		    mrt_cap_step(m));
	ec = mrt_cap_enc_config(m);
	ecg = mrt_cap_ecg(m);
	len = ec->txt_len;
	memrows_alloc(&mr, m, B);
	if ((tok = malloc((size_t)B * len * sizeof *tok)) == NULL)
		flt_die("out of memory for a batch of %d", B);
	if (op->log && (logf = fopen(op->log, "a")) == NULL)
		flt_die("%s: %s", op->log, strerror(errno));
	flt_stop_on_signals();
	r = flt_train_open(in, &inf, op->model);
	step0 = mrt_cap_step(m);
	limit = op->steps >= 0 ? step0 + op->steps : -1;
	if (skip > 0)
		fprintf(stderr, "%s: resuming at step %ld: skipping the %ld records %s trained on\n",
		    flt_prog, step0, skip, op->model);
	records = skip;
	while (!flt_stop && (limit < 0 || mrt_cap_step(m) < limit)) {
		const msgpack_object *rec;
		int e = mrt_reader_next(r, &rec);
		if (e < 0) {
			if (flt_stop)
				break;
			flt_die("%s: %s", flt_name(in), mrt_reader_errmsg(r));
		}
		if (e == 0) {
			complete = 1;
			break;
		}
		if (skip > 0) {
			skip--;
			continue;
		}
		if ((ecg && memrows_row(&mr, row, rec, m, err, sizeof err) != 0) ||
		    mrt_batch_tokens(rec, ec, tok + (size_t)row * len, err, sizeof err) != 0)
			flt_die_rec(r, in, "%s", err);
		if (tok[(size_t)row * len] != MRT_BPE_CLS)
			flt_die_rec(r, in, "field tok does not start with [CLS] (txt-tokenize output)");
		if (++row < B)
			continue;
		row = 0;
		memrows_encode(&mr, m, op->model);
		e = mrt_cap_train_step(m, ecg ? mr.mem : NULL, tok, B, &t.hp, &loss);
		if (e != 0)
			flt_die("step %ld: %s; stopped, %s unchanged", mrt_cap_step(m) + 1,
			    mrt_cap_errmsg(m), op->out);
		records += B;
		ntok += loss.ntok;
		if (logf) {
			double tn = flt_now();
			fprintf(logf, "{\"step\":%ld,\"lr\":%.9g,\"loss\":%.9g,\"grad_norm\":%.9g,"
			    "\"tokens\":%ld,\"tokens_per_s\":%.4g}\n", mrt_cap_step(m), loss.lr,
			    loss.loss, loss.grad_norm, loss.ntok, loss.ntok / fmax(tn - tlast, 1e-9));
			tlast = tn;
			if (fflush(logf) != 0)
				flt_die("%s: %s", op->log, strerror(errno));
		}
		if (op->save_every > 0 && mrt_cap_step(m) % op->save_every == 0)
			save(m, op->out, meta_list(&mt, &t, records, 0), 1);
	}
	if (skip > 0)
		flt_die("%s: the stream ended %ld records before the position %s was saved at "
		    "(--restart-stream to train on it from the start)", flt_name(in), skip,
		    op->model);
	if (row > 0 && complete)
		fprintf(stderr, "%s: dropped the last %d records (a partial batch)\n", flt_prog, row);
	save(m, op->out, meta_list(&mt, &t, complete ? 0 : records, complete), 1);
	fprintf(stderr, "%s: %s: step %ld, loss %.4f, %.0f tokens/s\n", flt_prog, op->out,
	    mrt_cap_step(m), loss.loss, ntok / fmax(flt_now() - t0, 1e-9));
	if (flt_stop) {
		fprintf(stderr, "%s: interrupted by signal %d after step %ld; %s written, resume "
		    "with -m %s on the same stream\n", flt_prog, (int)flt_stop, mrt_cap_step(m),
		    op->out, op->out);
		status = 128 + (int)flt_stop;
	} else if (mrt_cap_step(m) == step0 && complete)
		flt_warn("warning: no full batch of %d in the stream: no step taken", B);
	if (logf && fclose(logf) != 0)
		flt_die("%s: %s", op->log, strerror(errno));
	mrt_reader_free(r);
	if (inf != stdin)
		fclose(inf);
	mrt_cap_free(m);
	memrows_free(&mr);
	free(tok);
	return status;
}

/* ---- generation and --encode ------------------------------------------------------- */

/* A batch of records as msgpack bytes, with the model's outputs. */
struct batch {
	int cap;
	struct flt_recs rec;    /* the records' bytes */
	char *text;
	size_t textcap;
	int32_t *tok;
	int *ntok;
};

static struct batch bt;         /* file scope: reachable when flt_die() exits */

/* The text of generated ids t (n of them after [CLS]) in b->text. */
static void
batch_text(struct batch *b, const mrt_bpe *bpe, const int32_t *t, int n, const char *model)
{
	long need;
	while ((need = mrt_bpe_decode(bpe, t, (size_t)n, b->text, b->textcap)) >= 0 &&
	    (size_t)need >= b->textcap) {
		b->textcap = (size_t)need + 1;
		if ((b->text = realloc(b->text, b->textcap)) == NULL)
			flt_die("out of memory for a report");
	}
	if (need < 0)
		flt_die("%s: generated a token outside the tokenizer", model);
	b->text[need] = 0;
}

/* Generate (or, with --encode, keep the memory) for the batch; write its
 * records with the new fields. */
static void
batch_flush(struct batch *b, mrt_cap_model *m, const mrt_bpe *bpe, const mrt_cap_gen *g,
	    const struct opts *op, mrt_writer *w)
{
	static const char *const skip_gen[] = { "gen", "gen_tok", NULL },
	    *const skip_enc[] = { "cap_mem", "cap_enc", NULL };
	const mrt_nn_config *ec = mrt_cap_enc_config(m);
	int len = ec->txt_len, ecg = mrt_cap_ecg(m) || op->encode;
	int M = mrt_cap_get_config(m)->mem;
	int64_t shape[1] = { len }, mshape[2] = { M, ec->ecg_d };
	size_t nm = (size_t)M * ec->ecg_d;
	msgpack_unpacked u;
	if (b->rec.n == 0)
		return;
	if (ecg)
		memrows_encode(&mr, m, op->model);
	if (!op->encode && mrt_cap_generate(m, ecg ? mr.mem : NULL, b->rec.n, g, b->tok, b->ntok,
	    NULL) != 0)
		flt_die("%s: %s", op->model, mrt_cap_errmsg(m));
	msgpack_unpacked_init(&u);
	for (int i = 0; i < b->rec.n; i++) {
		msgpack_packer *pk = mrt_writer_packer(w);
		const int32_t *t = b->tok + (size_t)i * len;
		int e;
		flt_recs_unpack(&b->rec, i, &u);
		flt_check_write(mrt_writer_copy(w, &u.data, op->encode ? skip_enc : skip_gen, 2),
		    op->out);
		if (op->encode) {
			e = mrt_pack_kv_tensor(pk, "cap_mem", MRT_F32, 2, mshape, mr.mem + i * nm);
			if (e == 0)
				e = mrt_pack_kv_str(pk, "cap_enc", mrt_cap_enc_id(m));
		} else {
			batch_text(b, bpe, t + 1, b->ntok[i], op->model);
			e = mrt_pack_kv_str(pk, "gen", b->text);
			if (e == 0)
				e = mrt_pack_kv_tensor(pk, "gen_tok", MRT_I32, 1, shape, t);
		}
		flt_check_write(e, op->out);
		flt_check_write(mrt_writer_end(w), op->out);
	}
	msgpack_unpacked_destroy(&u);
	flt_recs_clear(&b->rec);
}

static int
do_generate(const struct opts *op)
{
	mrt_cap_model *m;
	mrt_bpe *bpe;
	struct flt_io io;
	char err[1024];
	const mrt_nn_config *ec;
	const char *tk;
	int B = op->batch > 0 ? (int)op->batch : 16, ecg;
	mrt_nn_set_threads(op->threads);
	if (mrt_cap_open(&m, op->model, NULL, B, 0, err, sizeof err) != 0)
		flt_die("%s", err);
	ec = mrt_cap_enc_config(m);
	ecg = mrt_cap_ecg(m) || op->encode;
	mrt_cap_gen g = { (int)op->beam, op->max_len > 0 ? (int)op->max_len : ec->txt_len - 1,
			  isnan(op->lp) ? 1.0 : op->lp };
	if (g.max_len > ec->txt_len - 1)
		flt_die("--max-len %d: more than the %d tokens the model holds (max_len %d - 1)",
		    g.max_len, ec->txt_len - 1, ec->txt_len);
	tk = mrt_cap_tokenizer(m);
	if (mrt_bpe_parse(&bpe, tk, strlen(tk), err, sizeof err) != 0)
		flt_die("%s: tokenizer: %s", op->model, err);
	bt.cap = B;
	flt_recs_init(&bt.rec, B);
	memrows_alloc(&mr, m, B);
	if ((bt.tok = malloc((size_t)B * ec->txt_len * sizeof *bt.tok)) == NULL ||
	    (bt.ntok = malloc((size_t)B * sizeof *bt.ntok)) == NULL)
		flt_die("out of memory for a batch of %d", B);
	flt_io_open(&io, op->input, op->out, op->force);
	for (const msgpack_object *rec; (rec = flt_next(io.r, op->input)) != NULL;) {
		if (ecg && memrows_row(&mr, bt.rec.n, rec, m, err, sizeof err) != 0)
			flt_die_rec(io.r, op->input, "%s", err);
		flt_recs_keep(&bt.rec, io.r);
		if (bt.rec.n == bt.cap)
			batch_flush(&bt, m, bpe, &g, op, io.w);
	}
	batch_flush(&bt, m, bpe, &g, op, io.w);
	flt_io_done(&io);
	mrt_bpe_free(bpe);
	mrt_cap_free(m);
	flt_recs_free(&bt.rec);
	memrows_free(&mr);
	free(bt.text), free(bt.tok), free(bt.ntok);
	return 0;
}

int
main(int argc, char **argv)
{
	enum { O_INIT = 256, O_INFO, O_GEN, O_ENCODE, O_NOECG, O_CONFIG, O_STEPS, O_SAVE, O_LOG, O_RESTART,
	       O_LR, O_WARMUP, O_TOTAL, O_BATCH, O_WD, O_CLIP, O_BEAM, O_MAXLEN, O_LP };
	static const struct option lopts[] = {
		{ "init", no_argument, NULL, O_INIT },
		{ "info", no_argument, NULL, O_INFO },
		{ "generate", no_argument, NULL, O_GEN },
		{ "encode", no_argument, NULL, O_ENCODE },
		{ "no-ecg", no_argument, NULL, O_NOECG },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "steps", required_argument, NULL, O_STEPS },
		{ "save-every", required_argument, NULL, O_SAVE },
		{ "log", required_argument, NULL, O_LOG },
		{ "restart-stream", no_argument, NULL, O_RESTART },
		{ "lr", required_argument, NULL, O_LR },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "total-steps", required_argument, NULL, O_TOTAL },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "weight-decay", required_argument, NULL, O_WD },
		{ "clip", required_argument, NULL, O_CLIP },
		{ "beam", required_argument, NULL, O_BEAM },
		{ "max-len", required_argument, NULL, O_MAXLEN },
		{ "length-penalty", required_argument, NULL, O_LP },
		FLT_OPT_THREADS, FLT_OPT_SEED, FLT_OPT_FORCE, FLT_OPT_MODEL, FLT_OPT_OUTPUT,
		FLT_OPT_END
	};
	struct opts op = { .steps = -1, .beam = 1, .max_len = -1, .lr = NAN, .wd = NAN,
			   .clip = NAN, .lp = NAN, .warmup = -1, .total = -1, .batch = -1,
			   .seed = -1 };
	int c, train_opt = 0, gen_opt = 0;

	flt_omp_passive(argv);
	flt_init(argv[0]);
	while ((c = flt_getopt(argc, argv, "fm:o:s:", lopts, USAGE)) != -1) {
		switch (c) {
		case 'm': op.model = optarg; break;
		case 'o': op.out = optarg; break;
		case 'f': op.force = 1; break;
		case 's': op.seed = flt_num(optarg, 0, LONG_MAX, "--seed"); break;
		case O_INIT: op.init = 1; break;
		case O_INFO: op.info = 1; break;
		case O_GEN: op.generate = 1; break;
		case O_ENCODE: op.encode = 1; break;
		case O_NOECG: op.noecg = 1; break;
		case O_CONFIG: op.config = optarg; break;
		case O_STEPS: op.steps = flt_num(optarg, 0, LONG_MAX, "--steps"); train_opt = 1; break;
		case O_SAVE: op.save_every = flt_num(optarg, 1, LONG_MAX, "--save-every"); train_opt = 1; break;
		case O_LOG: op.log = optarg; train_opt = 1; break;
		case O_RESTART: op.restart = 1; train_opt = 1; break;
		case O_LR: op.lr = flt_real(optarg, 0, 10, "--lr"); break;
		case O_WARMUP: op.warmup = flt_num(optarg, 0, LONG_MAX, "--warmup"); break;
		case O_TOTAL: op.total = flt_num(optarg, 1, LONG_MAX, "--total-steps"); break;
		case O_BATCH: op.batch = flt_num(optarg, 1, 65536, "--batch"); break;
		case O_WD: op.wd = flt_real(optarg, 0, 10, "--weight-decay"); break;
		case O_CLIP: op.clip = flt_real(optarg, 0, 1e9, "--clip"); break;
		case O_BEAM: op.beam = flt_num(optarg, 1, MRT_CAP_MAXBEAM, "--beam"); gen_opt = 1; break;
		case O_MAXLEN: op.max_len = flt_num(optarg, 1, 1 << 16, "--max-len"); gen_opt = 1; break;
		case O_LP: op.lp = flt_real(optarg, 0, 10, "--length-penalty"); gen_opt = 1; break;
		case FLT_O_THREADS: op.threads = (int)flt_num(optarg, 0, 1024, "--threads"); break;
		default: flt_usage(USAGE);
		}
	}
	if (op.init + op.info + op.generate + op.encode > 1 || op.model == NULL ||
	    (gen_opt && !op.generate) || (op.noecg && !op.init) || (op.config && !op.init) ||
	    (train_opt && (op.init || op.generate || op.encode || op.info)))
		flt_usage(USAGE);
	if (op.info) {
		if (optind != argc)
			flt_usage(USAGE);
		return do_info(&op);
	}
	if (op.generate || op.encode) {
		op.input = flt_input(argc, argv, USAGE);
		return do_generate(&op);
	}
	if (op.out == NULL)
		flt_usage(USAGE);
	if (op.init) {
		if (optind != argc)
			flt_usage(USAGE);
		return do_init(&op);
	}
	op.input = flt_input(argc, argv, USAGE);
	return do_train(&op);
}
