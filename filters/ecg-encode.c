/*
 * ecg-encode: embeddings of a checkpoint for each record of a stream.
 *
 *   ecg-encode -m CKPT [-f] [-o file] [--batch N] [--threads N] [--leads SET]
 *              [--text | --recon] [file]
 *
 * Adds `h` (float32 [ecg_d], the pooled encoder feature) and `e` (float32
 * [proj], L2-normalised), every patch of the present leads visible: a lead
 * is present unless the record's `missing` lists it or --leads leaves it
 * out, and the encoder sees only present leads' tokens; with --text
 * instead `t` (float32 [proj], L2-normalised) from the record's `tok`;
 * with --recon also `xn` and `recon` (float32 [leads, samples]: the
 * lead-normalised input and the decoder's output from the record's
 * `mask`).  Every other field is copied unchanged, records in input order.
 *
 * Records are encoded in batches: a batch's records are kept as their
 * msgpack bytes (one buffer, reused) and unpacked again to be written, so
 * memory is bounded by the batch, not the stream.
 *
 * The output does not depend on --batch.  OpenBLAS rounds a row of a
 * product differently depending on how many rows the call has (merit-s,
 * one thread: e of a batch of 16 differs in the last bits from e of the
 * same records one by one), so: h comes from the batched encoder (whose
 * products have hundreds of rows per record and agree), e = ecg.proj(h)
 * is computed by mrt_nn_encode_ecg per record in double, and reports go
 * through the text tower one at a time (it is cheap next to the ECG
 * encoder).  Records with different present leads share a batch: the
 * library groups them by their count of present leads (nn.h).
 */
#include <getopt.h>

#include "cli/filter.h"
#include "ecg/leads.h"
#include "nn/batch.h"
#include "nn/nn.h"

#define USAGE "ecg-encode -m checkpoint [-f] [-o file] [--batch N] [--threads N] " \
	"[--leads set] [--precision fp32|bf16|auto] [--text | --recon] [file]"

enum mode { ECG, TEXT, RECON };

struct opts {
	const char *ckpt, *out, *in;
	int batch, threads, force, precision;
	enum mode mode;
	uint8_t keep[MRT_LEADS_N];      /* --leads: 1 = lead kept (all by default) */
	int subset;                     /* --leads given */
};

#define LEAD_SETS "I, II, III, aVR, aVL, aVF, V1, V2, V3, V4, V5, V6; " \
	"limb, chest; 1, 2, 3, 4, 6, 12"

/*
 * --leads: a comma-separated list of lead names (any spelling ecg-ingest
 * knows) and sets: limb (I-aVF), chest (V1-V6), and the reduced-lead sets
 * by size, those of the PhysioNet/CinC Challenge 2021 (2: I, II; 3: I, II,
 * V2; 4: I, II, III, V2; 6: the limb leads; 12) and 1: lead I.
 */
static int
add_leads(const char *arg, uint8_t *keep)
{
	static const struct { const char *name, *leads; } sets[] = {
		{ "limb", "I,II,III,aVR,aVL,aVF" }, { "chest", "V1,V2,V3,V4,V5,V6" },
		{ "1", "I" }, { "2", "I,II" }, { "3", "I,II,V2" }, { "4", "I,II,III,V2" },
		{ "6", "limb" }, { "12", "limb,chest" },
	};
	char buf[256], *save = NULL;
	int n = 0;
	if (strlen(arg) >= sizeof buf)
		flt_die("--leads: list too long");
	strcpy(buf, arg);
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		int l = mrt_leads_index(t), set = 0;
		for (size_t i = 0; i < sizeof sets / sizeof *sets && !set; i++)
			if (strcmp(t, sets[i].name) == 0)
				set = add_leads(sets[i].leads, keep);
		if (!set && l < 0)
			flt_die("--leads: %s is not a standard lead (%s)", t, LEAD_SETS);
		if (!set)
			keep[l] = 1;
		n++;
	}
	return n;
}

static void
parse_leads(const char *arg, uint8_t *keep)
{
	memset(keep, 0, MRT_LEADS_N);
	if (add_leads(arg, keep) == 0)
		flt_die("--leads: no lead given (%s)", LEAD_SETS);
}

/* The records of one batch as msgpack bytes, and the model's inputs and outputs. */
struct batch {
	int n, cap;
	char *raw;              /* records one after another */
	size_t len, rawcap, *off;
	float *sig, *h, *e, *t, *xn, *recon;
	uint8_t *missing;
	int32_t *vis, *tok;
	/* --recon: visible tokens per record, and one group of records with
	 * the same count (inputs and outputs) */
	int *nv, *gidx;
	float *gsig, *gxn, *grecon;
	uint8_t *gmiss;
	int32_t *gvis;
};

/* file scope: reachable when flt_die() exits */
static struct batch bt;
static mrt_nn_model *model;

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		flt_die("out of memory for a batch");
	return p;
}

static void
batch_alloc(struct batch *b, const mrt_nn_config *c, int cap, enum mode mode)
{
	size_t B = (size_t)cap, LS = (size_t)c->leads * c->samples;
	memset(b, 0, sizeof *b);
	b->cap = cap;
	b->off = xmalloc((B + 1) * sizeof *b->off);
	if (mode == TEXT) {
		b->tok = xmalloc(B * c->txt_len * sizeof *b->tok);
		b->t = xmalloc(B * c->proj * sizeof *b->t);
		return;
	}
	b->sig = xmalloc(B * LS * sizeof *b->sig);
	b->missing = xmalloc(B * c->leads);
	b->h = xmalloc(B * c->ecg_d * sizeof *b->h);
	b->e = xmalloc(B * c->proj * sizeof *b->e);
	if (mode == RECON) {
		b->vis = xmalloc(B * mrt_nn_nvis(c) * sizeof *b->vis);
		b->xn = xmalloc(B * LS * sizeof *b->xn);
		b->recon = xmalloc(B * LS * sizeof *b->recon);
		b->nv = xmalloc(B * sizeof *b->nv);
		b->gidx = xmalloc(B * sizeof *b->gidx);
		b->gsig = xmalloc(B * LS * sizeof *b->gsig);
		b->gxn = xmalloc(B * LS * sizeof *b->gxn);
		b->grecon = xmalloc(B * LS * sizeof *b->grecon);
		b->gmiss = xmalloc(B * c->leads);
		b->gvis = xmalloc(B * mrt_nn_nvis(c) * sizeof *b->gvis);
	}
}

static void
batch_free(struct batch *b)
{
	free(b->raw);
	free(b->off);
	free(b->sig);
	free(b->h);
	free(b->e);
	free(b->t);
	free(b->xn);
	free(b->recon);
	free(b->missing);
	free(b->vis);
	free(b->tok);
	free(b->nv);
	free(b->gidx);
	free(b->gsig);
	free(b->gxn);
	free(b->grecon);
	free(b->gmiss);
	free(b->gvis);
	memset(b, 0, sizeof *b);
}

/* Keep the reader's last record's bytes as row b->n. */
static void
batch_keep(struct batch *b, const mrt_reader *r)
{
	const char *p;
	size_t n;
	mrt_reader_raw(r, &p, &n);
	if (b->len + n > b->rawcap) {
		size_t cap = b->rawcap ? b->rawcap : 1 << 16;
		char *q;
		while (cap < b->len + n)
			cap *= 2;
		if ((q = realloc(b->raw, cap)) == NULL)
			flt_die("out of memory for a batch of records");
		b->raw = q;
		b->rawcap = cap;
	}
	memcpy(b->raw + b->len, p, n);
	b->off[b->n] = b->len;
	b->len += n;
	b->off[++b->n] = b->len;
}

/* Fill row i of the model's inputs from rec; dies naming the record and field. */
static void
batch_row(struct batch *b, int i, const msgpack_object *rec, const mrt_nn_config *c,
	  const struct opts *op, mrt_reader *r)
{
	char err[512];
	size_t LS = (size_t)c->leads * c->samples;
	int e;
	if (op->mode == TEXT)
		e = mrt_batch_tokens(rec, c, b->tok + (size_t)i * c->txt_len, err, sizeof err);
	else {
		uint8_t *ms = b->missing + (size_t)i * c->leads, drop[MRT_LEADS_N];
		int k = 0;
		e = mrt_batch_signal(rec, c, b->sig + i * LS, ms, err, sizeof err);
		/* the mask's visible patches on the leads --leads drops are not
		 * shown to the model: a reconstruction from the subset */
		for (int l = 0; e == 0 && op->subset && l < c->leads; l++)
			drop[l] = !op->keep[l] && !ms[l];
		if (e == 0 && op->mode == RECON)
			e = mrt_batch_visible_kept(rec, c, ms, op->subset ? drop : NULL,
			    b->vis + (size_t)i * mrt_nn_nvis(c), &b->nv[i], err, sizeof err);
		for (int l = 0; e == 0 && l < c->leads; l++)
			k += (ms[l] |= op->subset && !op->keep[l]) == 0;
		if (e == 0 && k == 0)
			flt_die_rec(r, op->in, "no lead to encode: %s", op->subset ?
			    "every lead of --leads is missing" : "every lead is missing");
	}
	if (e != 0)
		flt_die_rec(r, op->in, "%s", err);
}

/* --recon: the decoder's output for every record, one call per count of
 * visible tokens (all the model's nvis unless --leads dropped some). */
static int
batch_recon(struct batch *b, const mrt_nn_config *c)
{
	int nvis = mrt_nn_nvis(c), e = 0, same = 1;
	size_t LS = (size_t)c->leads * c->samples;
	for (int i = 0; i < b->n; i++)
		same &= b->nv[i] == nvis;
	if (same)
		return mrt_nn_reconstruct(model, b->sig, b->missing, b->vis, b->n, b->xn, b->recon);
	for (int v = nvis; v >= 1 && e == 0; v--) {
		int g = 0;
		for (int i = 0; i < b->n; i++) {
			if (b->nv[i] != v)
				continue;
			memcpy(b->gsig + g * LS, b->sig + i * LS, LS * sizeof *b->gsig);
			memcpy(b->gmiss + (size_t)g * c->leads, b->missing + (size_t)i * c->leads,
			    (size_t)c->leads);
			memcpy(b->gvis + (size_t)g * v, b->vis + (size_t)i * nvis,
			    (size_t)v * sizeof *b->gvis);
			b->gidx[g++] = i;
		}
		if (g > 0)
			e = mrt_nn_reconstruct_nv(model, b->gsig, b->gmiss, b->gvis, v, g, b->gxn,
			    b->grecon);
		for (int j = 0; j < g && e == 0; j++) {
			memcpy(b->xn + b->gidx[j] * LS, b->gxn + j * LS, LS * sizeof *b->xn);
			memcpy(b->recon + b->gidx[j] * LS, b->grecon + j * LS, LS * sizeof *b->recon);
		}
	}
	return e;
}

/* Encode the batch and write its records, in order, with the new fields. */
static void
batch_flush(struct batch *b, const mrt_nn_config *c, const struct opts *op, mrt_writer *w)
{
	static const char *const skip_ecg[] = { "h", "e", NULL },
	    *const skip_text[] = { "t", NULL },
	    *const skip_recon[] = { "h", "e", "xn", "recon", NULL };
	const char *const *skip = op->mode == TEXT ? skip_text :
	    op->mode == RECON ? skip_recon : skip_ecg;
	uint32_t nextra = op->mode == TEXT ? 1 : op->mode == RECON ? 4 : 2;
	size_t LS = (size_t)c->leads * c->samples;
	int64_t sh_d[1] = { c->ecg_d }, sh_p[1] = { c->proj }, sh_ls[2] = { c->leads, c->samples };
	msgpack_unpacked u;
	int e = 0;

	if (b->n == 0)
		return;
	if (op->mode == TEXT)
		for (int i = 0; i < b->n && e == 0; i++)
			e = mrt_nn_encode_text(model, b->tok + (size_t)i * c->txt_len, 1,
			    b->t + (size_t)i * c->proj);
	else {
		e = mrt_nn_encode_ecg(model, b->sig, b->missing, b->n, b->h, b->e);
		if (e == 0 && op->mode == RECON)
			e = batch_recon(b, c);
	}
	if (e != 0)
		flt_die("%s: %s", op->ckpt, mrt_nn_errmsg(model));
	msgpack_unpacked_init(&u);
	for (int i = 0; i < b->n; i++) {
		size_t off = 0;
		msgpack_packer *pk;
		if (msgpack_unpack_next(&u, b->raw + b->off[i], b->off[i + 1] - b->off[i], &off) !=
		    MSGPACK_UNPACK_SUCCESS)
			flt_die("out of memory unpacking a record");
		flt_check_write(mrt_writer_copy(w, &u.data, skip, nextra), op->out);
		pk = mrt_writer_packer(w);
		if (op->mode == TEXT)
			e = mrt_pack_kv_tensor(pk, "t", MRT_F32, 1, sh_p, b->t + (size_t)i * c->proj);
		else {
			e = mrt_pack_kv_tensor(pk, "h", MRT_F32, 1, sh_d, b->h + (size_t)i * c->ecg_d);
			if (e == 0)
				e = mrt_pack_kv_tensor(pk, "e", MRT_F32, 1, sh_p,
				    b->e + (size_t)i * c->proj);
			if (e == 0 && op->mode == RECON)
				e = mrt_pack_kv_tensor(pk, "xn", MRT_F32, 2, sh_ls, b->xn + i * LS);
			if (e == 0 && op->mode == RECON)
				e = mrt_pack_kv_tensor(pk, "recon", MRT_F32, 2, sh_ls,
				    b->recon + i * LS);
		}
		flt_check_write(e, op->out);
		flt_check_write(mrt_writer_end(w), op->out);
	}
	msgpack_unpacked_destroy(&u);
	b->n = 0;
	b->len = 0;
}

int
main(int argc, char **argv)
{
	enum { O_BATCH = 256, O_TEXT, O_RECON, O_LEADS };
	static const struct option lopts[] = {
		{ "batch", required_argument, NULL, O_BATCH },
		{ "leads", required_argument, NULL, O_LEADS },
		FLT_OPT_THREADS, FLT_OPT_PRECISION,
		{ "text", no_argument, NULL, O_TEXT },
		{ "recon", no_argument, NULL, O_RECON },
		FLT_OPT_FORCE, FLT_OPT_MODEL, FLT_OPT_OUTPUT, FLT_OPT_END
	};
	struct opts op = { .batch = 64, .mode = ECG };
	struct flt_io io;
	const mrt_nn_config *c;
	char err[1024];
	int ch;

	flt_omp_passive(argv);
	flt_init(argv[0]);
	while ((ch = flt_getopt(argc, argv, "fm:o:", lopts, USAGE)) != -1) {
		switch (ch) {
		case 'f': op.force = 1; break;
		case 'm': op.ckpt = optarg; break;
		case 'o': op.out = optarg; break;
		case O_BATCH: op.batch = (int)flt_num(optarg, 1, 65536, "--batch"); break;
		case O_LEADS: parse_leads(optarg, op.keep); op.subset = 1; break;
		case FLT_O_THREADS: op.threads = (int)flt_num(optarg, 0, 1024, "--threads"); break;
		case FLT_O_PRECISION: op.precision = flt_precision(optarg); break;
		case O_TEXT:
		case O_RECON:
			if (op.mode != ECG)
				flt_usage(USAGE);
			op.mode = ch == O_TEXT ? TEXT : RECON;
			break;
		default: flt_usage(USAGE);
		}
	}
	if (op.ckpt == NULL)
		flt_usage(USAGE);
	op.in = flt_input(argc, argv, USAGE);
	mrt_nn_set_threads(op.threads);
	/* the text tower runs one report at a time: no room for a batch */
	if (mrt_nn_open(&model, op.ckpt, NULL, op.mode == TEXT ? 1 : op.batch,
	    op.mode == RECON ? MRT_NN_TRAIN : 0, err, sizeof err) != 0)
		flt_die("%s", err);
	if (mrt_nn_set_precision(model, op.precision) != 0)
		flt_die("%s", mrt_nn_errmsg(model));
	c = mrt_nn_get_config(model);
	if (op.subset && c->leads != MRT_LEADS_N)
		flt_die("%s: --leads needs a model of the %d standard leads, not %d", op.ckpt,
		    MRT_LEADS_N, c->leads);
	batch_alloc(&bt, c, op.batch, op.mode);
	flt_io_open(&io, op.in, op.out, op.force);
	for (const msgpack_object *rec; (rec = flt_next(io.r, op.in)) != NULL;) {
		batch_row(&bt, bt.n, rec, c, &op, io.r);
		batch_keep(&bt, io.r);
		if (bt.n == bt.cap)
			batch_flush(&bt, c, &op, io.w);
	}
	batch_flush(&bt, c, &op, io.w);
	flt_io_done(&io);
	batch_free(&bt);
	mrt_nn_free(model);
	return 0;
}
