/*
 * merit-step: create a MERIT model, or train one on a stream of records.
 *
 *   merit-step --init [--preset NAME | --config FILE] [--vocab FILE] [--seed N]
 *              [training options] -o OUT
 *   merit-step -m IN -o OUT [training options] [file]
 *   merit-step --info -m IN
 *
 * Training reads records with sig, mask and (unless --lambda-cma 0) tok,
 * in batches of --batch; the last partial batch of the stream is dropped.
 * OUT is a checkpoint pair (weights OUT, optimizer state beside it, see
 * merit-checkpoint(5)) whose metadata carries the training options and the
 * position in the stream, so that epochs chain (-m epoch-1 -o epoch-2) and
 * a run stopped early resumes where it stopped on the same stream.
 */
#include <getopt.h>
#include <math.h>
#include <time.h>

#include "cli/filter.h"
#include "cli/train.h"
#include "nn/batch.h"
#include "text/bpe.h"
#include "nn/nn.h"
#include "config.h"
#include "par.h"

#define USAGE \
	"merit-step --init [--preset NAME | --config FILE] [--vocab FILE] [-s seed]\n" \
	"                  [training options] -o OUT\n" \
	"       merit-step -m IN -o OUT [--steps N] [--save-every N] [--log FILE] [--threads N]\n" \
	"                  [--precision fp32|bf16|auto] [--restart-stream] [--chunks K]\n" \
	"                  [--ordered-reduce] [training options]\n" \
	"                  [file]\n" \
	"       merit-step --info -m IN\n" \
	"training options: [--batch N] [--lr X] [--warmup N] [--total-steps N]\n" \
	"                  [--lambda-rec X] [--lambda-cma X] [--raw-target] [--weight-decay X]\n" \
	"                  [--clip X]"

/* Training options kept in the checkpoint's metadata (train.*). */
struct train {
	mrt_nn_hparams hp;
	int batch;
	long seed;
};

struct opts {
	int init, info, restart, threads, raw_target, chunks, ordered, precision;
	const char *in, *out, *preset, *config, *vocab, *log, *input;
	long steps, save_every;
	/* command-line values; NAN or -1 when not given */
	double lr, lambda_rec, lambda_cma, wd, clip;
	long warmup, total, batch, seed;
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = sig;
}


/* ---- metadata ----------------------------------------------------------- */

/* A metadata value of m as a number (lib/cli/train's flt_meta_num). */
static double
meta_real(const mrt_nn_model *m, const char *key, double def)
{
	return flt_meta_num(mrt_nn_meta(m, key), def);
}

/* The training options: defaults, then the checkpoint's, then the command line's. */
static void
train_opts(const mrt_nn_model *m, const struct opts *op, struct train *t)
{
	mrt_nn_hparams *hp = &t->hp;
	mrt_nn_hparams_default(hp);
	t->batch = 64;
	t->seed = 0;
	hp->total = 0;
	hp->warmup = 0;
	if (m != NULL) {
		hp->lr = meta_real(m, "train.lr", hp->lr);
		hp->warmup = (long)meta_real(m, "train.warmup", (double)hp->warmup);
		hp->total = (long)meta_real(m, "train.total_steps", (double)hp->total);
		hp->wd = meta_real(m, "train.weight_decay", hp->wd);
		hp->clip = meta_real(m, "train.clip", hp->clip);
		hp->lambda_rec = meta_real(m, "train.lambda_rec", hp->lambda_rec);
		hp->lambda_cma = meta_real(m, "train.lambda_cma", hp->lambda_cma);
		hp->raw_target = (int)meta_real(m, "train.raw_target", hp->raw_target);
		t->batch = (int)meta_real(m, "train.batch", t->batch);
		t->seed = (long)meta_real(m, "train.seed", (double)t->seed);
	}
	if (!isnan(op->lr)) hp->lr = op->lr;
	if (op->warmup >= 0) hp->warmup = op->warmup;
	if (op->total >= 0) hp->total = op->total;
	if (!isnan(op->wd)) hp->wd = op->wd;
	if (!isnan(op->clip)) hp->clip = op->clip;
	if (!isnan(op->lambda_rec)) hp->lambda_rec = op->lambda_rec;
	if (!isnan(op->lambda_cma)) hp->lambda_cma = op->lambda_cma;
	if (op->raw_target) hp->raw_target = 1;
	if (op->batch >= 0) t->batch = (int)op->batch;
	if (op->seed >= 0) t->seed = op->seed;
	if (hp->lambda_rec == 0 && hp->lambda_cma == 0)
		flt_die("--lambda-rec and --lambda-cma are both 0: nothing to train");
}

/* Values of the metadata keys a checkpoint carries besides the config. */
struct meta {
	char lr[32], warmup[32], total[32], wd[32], clip[32], lrec[32], lcma[32],
	    raw[8], batch[32], seed[32], records[32], complete[8];
	const char *kv[40];
};

static const char *const *
meta_list(struct meta *mt, const struct train *t, const char *tokenizer, long records,
	  int complete)
{
	const mrt_nn_hparams *hp = &t->hp;
	int n = 0;
	snprintf(mt->lr, sizeof mt->lr, "%.17g", hp->lr);
	snprintf(mt->warmup, sizeof mt->warmup, "%ld", hp->warmup);
	snprintf(mt->total, sizeof mt->total, "%ld", hp->total);
	snprintf(mt->wd, sizeof mt->wd, "%.17g", hp->wd);
	snprintf(mt->clip, sizeof mt->clip, "%.17g", hp->clip);
	snprintf(mt->lrec, sizeof mt->lrec, "%.17g", hp->lambda_rec);
	snprintf(mt->lcma, sizeof mt->lcma, "%.17g", hp->lambda_cma);
	snprintf(mt->raw, sizeof mt->raw, "%d", hp->raw_target);
	snprintf(mt->batch, sizeof mt->batch, "%d", t->batch);
	snprintf(mt->seed, sizeof mt->seed, "%ld", t->seed);
	snprintf(mt->records, sizeof mt->records, "%ld", records);
	snprintf(mt->complete, sizeof mt->complete, "%d", complete);
#define KV(k, v) do { mt->kv[n++] = (k); mt->kv[n++] = (v); } while (0)
	KV("writer", "merit-step");
	KV("train.lr", mt->lr);
	KV("train.warmup", mt->warmup);
	KV("train.total_steps", mt->total);
	KV("train.weight_decay", mt->wd);
	KV("train.clip", mt->clip);
	KV("train.lambda_rec", mt->lrec);
	KV("train.lambda_cma", mt->lcma);
	KV("train.raw_target", mt->raw);
	KV("train.batch", mt->batch);
	KV("train.seed", mt->seed);
	KV("resume.records", mt->records);
	KV("resume.complete", mt->complete);
	if (tokenizer != NULL)
		KV("tokenizer", tokenizer);
#undef KV
	mt->kv[n] = NULL;
	return mt->kv;
}

/* Save the pair with signals held, so an interrupt never cuts a write. */
static void
save(const mrt_nn_model *m, const char *out, const char *const *meta, int optim)
{
	char opath[4096], err[1024];
	sigset_t all, old;
	int e;
	flt_optim_path(out, opath, sizeof opath);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	e = mrt_nn_save(m, out, optim ? opath : NULL, meta, err, sizeof err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		flt_die("%s", err);
}

/* Rank 0 saves, after checking that every rank holds the same weights. */
static void
save_all(struct par *p, const mrt_nn_model *m, const char *out, const char *const *meta)
{
	int q = par_check_weights(p, m);
	if (q >= 0) {
		if (p->rank == 0)
			flt_warn("step %ld: rank %d's weights differ from rank 0's; %s not written",
			    mrt_nn_step(m), q, out);
		par_exit(p, 1);
	}
	if (p->rank == 0)
		save(m, out, meta, 1);
}

/* ---- --init and --info --------------------------------------------------- */

static char *
read_vocab(const char *path, const mrt_nn_config *c)
{
	mrt_bpe *b;
	char err[1024], *buf;
	FILE *f;
	long n;
	if (mrt_bpe_load(&b, path, err, sizeof err) != 0)
		flt_die("%s", err);
	if (mrt_bpe_size(b) > c->txt_vocab)
		flt_die("%s: %d entries, more than the model's txt_vocab %d", path,
		    mrt_bpe_size(b), c->txt_vocab);
	mrt_bpe_free(b);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		flt_die("%s: %s", path, strerror(errno));
	if ((buf = malloc((size_t)n + 1)) == NULL)
		flt_die("%s: out of memory", path);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		flt_die("%s: %s", path, strerror(errno));
	buf[n] = 0;
	if (strlen(buf) != (size_t)n)
		flt_die("%s: holds a NUL byte", path);
	fclose(f);
	return buf;
}

static int
do_init(const struct opts *op)
{
	mrt_nn_config c;
	mrt_nn_model *m;
	struct train t;
	struct meta mt;
	char msg[256], *vocab = NULL;
	if (op->config != NULL) {
		if (mrt_nn_preset(op->preset ? op->preset : "merit-s", &c) != 0)
			flt_die("--preset: unknown preset %s (merit-s, merit-xs)", op->preset);
		read_config(op->config, &c);
	} else if (mrt_nn_preset(op->preset ? op->preset : "merit-s", &c) != 0)
		flt_die("--preset: unknown preset %s (merit-s, merit-xs)", op->preset);
	if (mrt_nn_config_check(&c, msg, sizeof msg) != 0)
		flt_die("%s: %s", op->config ? op->config : "config", msg);
	if (op->vocab != NULL)
		vocab = read_vocab(op->vocab, &c);
	train_opts(NULL, op, &t);
	mrt_nn_set_threads(op->threads);
	if (mrt_nn_new(&m, &c, 1, 0) != 0)
		flt_die("out of memory for the model");
	mrt_nn_init(m, (uint64_t)t.seed);
	save(m, op->out, meta_list(&mt, &t, vocab, 0, 1), 0);
	fprintf(stderr, "%s: %s: %s, %zu parameters, seed %ld%s\n", flt_prog, op->out,
	    c.preset[0] ? c.preset : "custom config", mrt_nn_nparams(m), t.seed,
	    vocab ? ", with its tokenizer" : ", no tokenizer (--vocab)");
	mrt_nn_free(m);
	free(vocab);
	return 0;
}

static int
do_info(const struct opts *op)
{
	static const char *const keys[] = { "format", "version", "preset", "fs", "samples",
		"patch", "mask_ratio", "max_len", "ecg.heads", "dec.heads", "txt.heads", "enc_attn",
		"dec_attn", "pos", "step",
		"train.lr", "train.warmup", "train.total_steps", "train.weight_decay",
		"train.clip", "train.lambda_rec", "train.lambda_cma", "train.raw_target",
		"train.batch", "train.seed", "resume.records", "resume.complete", NULL };
	mrt_nn_model *m;
	char err[1024];
	const mrt_nn_config *c;
	const char *tk;
	if (mrt_nn_open(&m, op->in, NULL, 1, 0, err, sizeof err) != 0)
		flt_die("%s", err);
	c = mrt_nn_get_config(m);
	for (int i = 0; keys[i]; i++) {
		const char *v = mrt_nn_meta(m, keys[i]);
		if (v != NULL)
			printf("%s\t%s\n", keys[i], v);
	}
	printf("parameters\t%zu\n", mrt_nn_nparams(m));
	printf("ecg\td %d, %d blocks, %d heads, mlp %d\n", c->ecg_d, c->ecg_layers,
	    c->ecg_heads, c->ecg_mlp);
	printf("dec\td %d, %d blocks, %d heads, mlp %d\n", c->dec_d, c->dec_layers,
	    c->dec_heads, c->dec_mlp);
	printf("txt\tvocab %d, %d tokens, d %d, %d blocks, %d heads, mlp %d\n", c->txt_vocab,
	    c->txt_len, c->txt_d, c->txt_layers, c->txt_heads, c->txt_mlp);
	printf("proj\t%d\n", c->proj);
	tk = mrt_nn_meta(m, "tokenizer");
	printf("tokenizer\t%s\n", tk ? "yes" : "no");
	mrt_nn_free(m);
	flt_out_commit(stdout, NULL);
	return 0;
}

/* ---- training ------------------------------------------------------------ */

struct progress {
	int tty;
	double t0, tlast, tshow;
	long step0, steps_planned;
};

static void
show(struct progress *p, long step, const mrt_nn_losses *l, double rate, int last)
{
	double t = par_now(), eta;
	long done = step - p->step0;
	if (!p->tty || (!last && t - p->tshow < 1.0))
		return;
	p->tshow = t;
	fprintf(stderr, "\r%s: step %ld", flt_prog, step);
	if (p->steps_planned > 0)
		fprintf(stderr, "/%ld", p->step0 + p->steps_planned);
	fprintf(stderr, "  loss %.4f  rec %.4f  cma %.4f  %.1f samples/s", l->loss, l->rec,
	    l->cma, rate);
	if (p->steps_planned > 0 && done > 0) {
		eta = (t - p->t0) / (double)done * (double)(p->steps_planned - done);
		fprintf(stderr, "  ETA %ld:%02ld", (long)eta / 60, (long)eta % 60);
	}
	fprintf(stderr, "\033[K%s", last ? "\n" : "");
}

/* The input's name in messages. */
static const char *
in_name(const char *in)
{
	return strcmp(in, "-") == 0 ? "stdin" : in;
}

static void
stream_hash(const mrt_reader *r, uint64_t *h)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (msgpack_pack_object(&pk, *mrt_reader_header(r)) != 0)
		flt_die("out of memory");
	*h = par_hash(PAR_HASH0, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

/* Every rank read the same global batch, or the job stops naming the rank
 * that differs from rank 0; *sig gets any rank's interrupting signal. */
static void
agree(struct par *p, struct par_batch *mine, struct par_batch *all, long step, int *sig,
      const char *in)
{
	par_gather_batch(p, mine, all);
	*sig = 0;
	for (int q = 0; q < p->size; q++)
		if (all[q].sig)
			*sig = all[q].sig;
	if (*sig)       /* the batch is dropped: whatever each rank read of it */
		return;
	for (int q = 1; q < p->size; q++) {
		char what[128];
		if (all[q].hash == all[0].hash && all[q].got == all[0].got)
			continue;
		if (step < 0)
			snprintf(what, sizeof what, "the headers differ");
		else
			snprintf(what, sizeof what, "%s of the batch of step %ld differ%s",
			    all[q].got != all[0].got ? "the number of records" : "the records",
			    step, all[q].got < all[0].got ? ": its stream ended first" : "");
		par_fail(p, "rank %d reads another stream than rank 0 (%s): every rank must "
		    "read the same stream%s", q, what, strcmp(in, "-") == 0 ? " (mpirun gives "
		    "its stdin to rank 0 only: give the ranks a file, or a pipeline each)" : "");
	}
}

static int
do_train(const struct opts *op)
{
	mrt_nn_model *m;
	mrt_nn_config c;
	struct train t;
	struct meta mt;
	struct progress pg = { 0 };
	struct par par;
	struct par_batch mine, *all;
	struct dpstep dp;
	char err[1024], opath[4096];
	const char *tokenizer_meta, *in = op->input;
	char *tokenizer = NULL;
	FILE *inf, *logf = NULL;
	mrt_reader *r;
	float *sig, *logit_scale = NULL;
	uint8_t *missing;
	int32_t *vis, *tok;
	long skip = 0, records = 0, saved_step = -1, step_limit;
	int B, K, Bk, rows, first, nvis, L, S, cma, got = 0, complete = 0, status = 0, sigall = 0;
	struct sigaction sa;
	mrt_nn_losses loss = { 0 };

	par_init(&par, NULL, NULL);
	if (mrt_nn_read_config(op->in, &c, err, sizeof err) != 0)
		flt_die("%s", err);
	flt_optim_path(op->in, opath, sizeof opath);
	/* options from the checkpoint need the metadata: a small model first */
	mrt_nn_set_threads(op->threads > 0 ? op->threads : par_threads(&par));
	if (mrt_nn_open(&m, op->in, NULL, 1, 0, err, sizeof err) != 0)
		flt_die("%s", err);
	train_opts(m, op, &t);
	if ((tokenizer_meta = mrt_nn_meta(m, "tokenizer")) != NULL &&
	    (tokenizer = strdup(tokenizer_meta)) == NULL)
		flt_die("out of memory");
	if (!op->restart && meta_real(m, "resume.complete", 1) == 0)
		skip = (long)meta_real(m, "resume.records", 0);
	mrt_nn_free(m);
	B = t.batch;
	if (B < 1)
		flt_die("--batch %d: at least 1", B);
	if (t.hp.total <= 0)
		flt_die("no --total-steps for the learning-rate schedule (give it here or "
		    "with --init)");
	/* K slices of Bk records; this process keeps `rows` of every batch,
	 * records first .. first+rows-1 */
	if (par.size > 1 && op->chunks > 0 && op->chunks != par.size)
		par_fail(&par, "--chunks %d under %d ranks: the chunks are the ranks (--chunks is for "
		    "one process)", op->chunks, par.size);
	K = par.size > 1 ? par.size : op->chunks > 0 ? op->chunks : 1;
	if (B % K != 0)
		par_fail(&par, "--batch %d is not a multiple of the %d %s: the global batch is cut "
		    "into equal slices", B, K, par.size > 1 ? "ranks" : "chunks of --chunks");
	Bk = B / K;
	rows = par.size > 1 ? Bk : B;
	first = par.rank * Bk;
	if (mrt_nn_new(&m, &c, Bk, MRT_NN_TRAIN) != 0)
		flt_die("out of memory for a model with batch %d", Bk);
	if (mrt_nn_load(m, op->in, access(opath, F_OK) == 0 ? opath : NULL, err,
	    sizeof err) != 0)
		flt_die("%s", err);
	if (mrt_nn_set_precision(m, op->precision) != 0)
		flt_die("%s", mrt_nn_errmsg(m));
	if (access(opath, F_OK) != 0 && mrt_nn_step(m) > 0)
		flt_die("%s: no optimizer file %s for a model at step %ld", op->in, opath,
		    mrt_nn_step(m));
	if (K > 1 && dp_init(&dp, &par, m, B, K, op->ordered) != 0)
		flt_die("out of memory for the exchanges of a batch of %d", B);
	for (size_t i = 0; i < mrt_nn_ntensors(m); i++) {
		const char *name;
		int nd;
		int64_t sh[2];
		float *d, *g;
		mrt_nn_tensor(m, i, &name, &nd, sh, &d, &g);
		if (strcmp(name, "logit_scale") == 0)
			logit_scale = d;
	}
	L = c.leads;
	S = c.samples;
	nvis = mrt_nn_nvis(&c);
	cma = t.hp.lambda_cma != 0;
	sig = malloc((size_t)rows * L * S * sizeof *sig);
	missing = malloc((size_t)rows * L);
	vis = malloc((size_t)rows * nvis * sizeof *vis);
	tok = malloc((size_t)rows * c.txt_len * sizeof *tok);
	all = malloc((size_t)par.size * sizeof *all);
	if (!sig || !missing || !vis || !tok || !all)
		flt_die("out of memory for a batch of %d", rows);
	if (par.rank == 0 && op->log && (logf = fopen(op->log, "a")) == NULL)
		flt_die("%s: %s", op->log, strerror(errno));

	/* SIGINT and SIGTERM end the run after the current step; no SA_RESTART,
	 * so a read waiting on the pipe returns at once.  Under mpirun (which
	 * sends every rank its SIGINT or SIGTERM) the ranks stop together: at
	 * the end of a global batch each says whether it was interrupted, and
	 * if one was the batch is dropped by all. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	inf = strcmp(in, "-") == 0 ? stdin : fopen(in, "rb");
	if (inf == NULL)
		flt_die("%s: %s", in, strerror(errno));
	{
		const char *msg = NULL;
		int e = mrt_reader_open(&r, inf, in_name(in), &msg);
		if (e < 0) {
			if (interrupted)
				flt_die("interrupted before training; %s unchanged", op->in);
			flt_die("%s: %s%s", in_name(in), msg ? msg : mrt_strerror(e),
			    par.rank > 0 && strcmp(in, "-") == 0 ? " (mpirun gives its stdin "
			    "to rank 0 only: give the ranks a file, or a pipeline each)" : "");
		}
	}
	if (par.mpi) {
		memset(&mine, 0, sizeof mine);
		stream_hash(r, &mine.hash);
		agree(&par, &mine, all, -1, &sigall, in);
	}
	step_limit = op->steps >= 0 ? mrt_nn_step(m) + op->steps : -1;
	pg.tty = par.rank == 0 && isatty(STDERR_FILENO);
	pg.t0 = pg.tlast = par_now();
	pg.step0 = mrt_nn_step(m);
	pg.steps_planned = op->steps >= 0 ? op->steps : t.hp.total - mrt_nn_step(m);
	if (skip > 0 && par.rank == 0)
		fprintf(stderr, "%s: resuming at step %ld: skipping the %ld records %s "
		    "trained on\n", flt_prog, mrt_nn_step(m), skip, op->in);
	records = skip;
	for (;;) {
		const msgpack_object *rec;
		int e;
		if (step_limit >= 0 && mrt_nn_step(m) >= step_limit)
			break;
		if (interrupted && !par.mpi)
			break;
		/* one global batch: every record hashed, this process's parsed */
		mine.hash = PAR_HASH0;
		for (got = 0; got < B; ) {
			const char *raw;
			size_t nraw;
			int i;
			if (interrupted)
				break;
			e = mrt_reader_next(r, &rec);
			if (e < 0) {
				if (interrupted)
					break;
				flt_die("%s: %s", in_name(in), mrt_reader_errmsg(r));
			}
			if (e == 0) {
				complete = 1;
				break;
			}
			if (skip > 0) {
				skip--;
				continue;
			}
			i = got++ - first;
			if (par.mpi) {
				mrt_reader_raw(r, &raw, &nraw);
				mine.hash = par_hash(mine.hash, raw, nraw);
			}
			if (i < 0 || i >= rows)
				continue;
			if (mrt_batch_signal(rec, &c, sig + (size_t)i * L * S,
			    missing + (size_t)i * L, err, sizeof err) != 0 ||
			    mrt_batch_visible(rec, &c, missing + (size_t)i * L,
			    vis + (size_t)i * nvis, err, sizeof err) != 0 ||
			    (cma && mrt_batch_tokens(rec, &c, tok + (size_t)i * c.txt_len, err,
			    sizeof err) != 0))
				flt_die_rec(r, in, "%s", err);
		}
		if (par.mpi) {
			mine.got = got;
			mine.sig = interrupted;
			agree(&par, &mine, all, mrt_nn_step(m) + 1, &sigall, in);
			if (sigall) {
				interrupted = sigall;
				break;
			}
		}
		if (got < B)
			break;
		{
			mrt_nn_batch b = { rows, sig, missing, vis, cma ? tok : NULL };
			long step = mrt_nn_step(m);
			double tnow, rate;
			e = K > 1 ? dp_step(&dp, &b, &t.hp, &loss) :
			    mrt_nn_train_step(m, &b, &t.hp, &loss);
			if (e == MRT_ENUM) {
				if (logf)
					fclose(logf);
				if (par.rank == 0)
					flt_warn("step %ld: non-finite %s (L_rec %g, L_cma %g); "
					    "stopped, %s", step + 1, isfinite(loss.loss) ?
					    "gradient" : "loss", loss.rec, loss.cma, saved_step >= 0 ?
					    "the last good checkpoint is the one saved before" :
					    "the input checkpoint is unchanged");
				par_exit(&par, 1);
			}
			if (e != 0)
				flt_die("step %ld: %s", step + 1, mrt_nn_errmsg(m));
			records += B;
			tnow = par_now();
			rate = B / (tnow - pg.tlast);
			pg.tlast = tnow;
			if (logf) {
				double s = logit_scale ? fmin(*logit_scale, log(100.0)) : 0;
				fprintf(logf, "{\"step\":%ld,\"lr\":%.9g,\"loss\":%.9g,\"L_rec\":%.9g,"
				    "\"L_cma\":%.9g,\"temperature\":%.9g,\"grad_norm\":%.9g,"
				    "\"samples_per_s\":%.4g", step + 1, loss.lr, loss.loss,
				    loss.rec, loss.cma, exp(-s), loss.grad_norm, rate);
				if (par.size > 1)
					fprintf(logf, ",\"ranks\":%d,\"reduce_s\":%.6g,\"comm_s\":%.6g,"
					    "\"comm_bytes\":%.0f", par.size, dp.t_reduce, dp.t_comm,
					    dp.bytes);
				fprintf(logf, "}\n");
				if (fflush(logf) != 0)
					flt_die("%s: %s", op->log, strerror(errno));
			}
			show(&pg, mrt_nn_step(m), &loss, rate, 0);
			if (op->save_every > 0 && mrt_nn_step(m) % op->save_every == 0) {
				save_all(&par, m, op->out, meta_list(&mt, &t, tokenizer, records, 0));
				saved_step = mrt_nn_step(m);
			}
		}
	}
	if (skip > 0)
		flt_die("%s: the stream ended %ld records before the position %s was saved "
		    "at (--restart-stream to train on it from the start)", in_name(in), skip,
		    op->in);
	if (got > 0 && complete && par.rank == 0)
		fprintf(stderr, "%s: dropped the last %d records (a partial batch)\n",
		    flt_prog, got);
	show(&pg, mrt_nn_step(m), &loss, (double)(mrt_nn_step(m) - pg.step0) * B /
	    fmax(par_now() - pg.t0, 1e-9), 1);
	save_all(&par, m, op->out, meta_list(&mt, &t, tokenizer, complete ? 0 : records,
	    complete));
	if (interrupted) {
		if (par.rank == 0)
			fprintf(stderr, "%s: interrupted by signal %d after step %ld; %s written, "
			    "resume with -m %s on the same stream\n", flt_prog, (int)interrupted,
			    mrt_nn_step(m), op->out, op->out);
		status = 128 + (int)interrupted;
	} else if (mrt_nn_step(m) == pg.step0 && complete && par.rank == 0)
		flt_warn("warning: no full batch of %d in the stream: no step taken", B);
	if (logf && fclose(logf) != 0)
		flt_die("%s: %s", op->log, strerror(errno));
	mrt_reader_free(r);
	if (inf != stdin)
		fclose(inf);
	if (K > 1)
		dp_free(&dp);
	mrt_nn_free(m);
	free(sig);
	free(missing);
	free(vis);
	free(tok);
	free(all);
	free(tokenizer);
	par_end(&par);
	return status;
}

int
main(int argc, char **argv)
{
	enum { O_INIT = 256, O_INFO, O_PRESET, O_CONFIG, O_VOCAB, O_STEPS, O_LR, O_WARMUP,
	       O_TOTAL, O_BATCH, O_LREC, O_LCMA, O_SAVE, O_LOG, O_RAW,
	       O_WD, O_CLIP, O_RESTART, O_CHUNKS, O_ORDERED };
	static const struct option lopts[] = {
		{ "init", no_argument, NULL, O_INIT },
		{ "info", no_argument, NULL, O_INFO },
		{ "preset", required_argument, NULL, O_PRESET },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "vocab", required_argument, NULL, O_VOCAB },
		{ "steps", required_argument, NULL, O_STEPS },
		{ "lr", required_argument, NULL, O_LR },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "total-steps", required_argument, NULL, O_TOTAL },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "lambda-rec", required_argument, NULL, O_LREC },
		{ "lambda-cma", required_argument, NULL, O_LCMA },
		FLT_OPT_THREADS, FLT_OPT_PRECISION,
		FLT_OPT_SEED,
		{ "save-every", required_argument, NULL, O_SAVE },
		{ "log", required_argument, NULL, O_LOG },
		{ "raw-target", no_argument, NULL, O_RAW },
		{ "weight-decay", required_argument, NULL, O_WD },
		{ "clip", required_argument, NULL, O_CLIP },
		{ "restart-stream", no_argument, NULL, O_RESTART },
		{ "chunks", required_argument, NULL, O_CHUNKS },
		{ "ordered-reduce", no_argument, NULL, O_ORDERED },
		FLT_OPT_MODEL, FLT_OPT_OUTPUT, FLT_OPT_END
	};
	struct opts op = { .steps = -1, .lr = NAN, .lambda_rec = NAN, .lambda_cma = NAN,
			   .wd = NAN, .clip = NAN, .warmup = -1, .total = -1, .batch = -1,
			   .seed = -1 };
	int c;

	flt_omp_passive(argv);
	flt_init(argv[0]);
	while ((c = flt_getopt(argc, argv, "m:o:s:", lopts, USAGE)) != -1) {
		switch (c) {
		case 'm': op.in = optarg; break;
		case 'o': op.out = optarg; break;
		case O_INIT: op.init = 1; break;
		case O_INFO: op.info = 1; break;
		case O_PRESET: op.preset = optarg; break;
		case O_CONFIG: op.config = optarg; break;
		case O_VOCAB: op.vocab = optarg; break;
		case O_STEPS: op.steps = flt_num(optarg, 0, LONG_MAX, "--steps"); break;
		case O_LR: op.lr = flt_real(optarg, 0, 10, "--lr"); break;
		case O_WARMUP: op.warmup = flt_num(optarg, 0, LONG_MAX, "--warmup"); break;
		case O_TOTAL: op.total = flt_num(optarg, 1, LONG_MAX, "--total-steps"); break;
		case O_BATCH: op.batch = flt_num(optarg, 1, 65536, "--batch"); break;
		case O_LREC: op.lambda_rec = flt_real(optarg, 0, 1e6, "--lambda-rec"); break;
		case O_LCMA: op.lambda_cma = flt_real(optarg, 0, 1e6, "--lambda-cma"); break;
		case FLT_O_THREADS: op.threads = (int)flt_num(optarg, 0, 1024, "--threads"); break;
		case FLT_O_PRECISION: op.precision = flt_precision(optarg); break;
		case 's': op.seed = flt_num(optarg, 0, LONG_MAX, "--seed"); break;
		case O_SAVE: op.save_every = flt_num(optarg, 1, LONG_MAX, "--save-every"); break;
		case O_LOG: op.log = optarg; break;
		case O_RAW: op.raw_target = 1; break;
		case O_WD: op.wd = flt_real(optarg, 0, 10, "--weight-decay"); break;
		case O_CLIP: op.clip = flt_real(optarg, 0, 1e9, "--clip"); break;
		case O_RESTART: op.restart = 1; break;
		case O_CHUNKS: op.chunks = (int)flt_num(optarg, 1, 65536, "--chunks"); break;
		case O_ORDERED: op.ordered = 1; break;
		default: flt_usage(USAGE);
		}
	}
	if (op.init + op.info > 1 || (op.preset && op.config && 0))
		flt_usage(USAGE);
	if (op.info) {
		if (op.in == NULL || optind != argc)
			flt_usage(USAGE);
		return do_info(&op);
	}
	if (op.out == NULL)
		flt_usage(USAGE);
	if (op.init) {
		if (op.in != NULL || optind != argc)
			flt_usage(USAGE);
		return do_init(&op);
	}
	if (op.in == NULL || op.preset || op.config || op.vocab)
		flt_usage(USAGE);
	op.input = flt_input(argc, argv, USAGE);
	return do_train(&op);
}
