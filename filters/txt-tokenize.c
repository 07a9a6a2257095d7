/*
 * txt-tokenize: learn a byte-level BPE vocabulary from reports, add token
 * ids to records, or turn ids back into text (see lib/bpe.h).
 *
 *   txt-tokenize --learn N -o vocab [-t] [file]
 *   txt-tokenize -v vocab [--max-len N] [-f] [-t] [-o file] [file]
 *   txt-tokenize -v vocab -d [-t] [file]
 */
#include <getopt.h>

#include "cli/filter.h"
#include "text/bpe.h"

#define USAGE "txt-tokenize -L entries -o vocab [-t] [file]\n" \
	"       txt-tokenize -v vocab [-ft] [--max-len N] [-o file] [file]\n" \
	"       txt-tokenize -v vocab -d [-t] [-o file] [file]"

struct opts {
	int learn, decode, text, force, max_len;
	const char *vocab, *out, *in;
};

/* Text lines read one at a time (-t). */
struct lines {
	FILE *f;
	const char *name;
	char *buf;
	size_t cap;
	unsigned long long no;
};

static void
lines_open(struct lines *l, const char *in)
{
	memset(l, 0, sizeof *l);
	l->name = strcmp(in, "-") == 0 ? "stdin" : in;
	l->f = strcmp(in, "-") == 0 ? stdin : fopen(in, "r");
	if (l->f == NULL)
		flt_die("%s: %s", in, strerror(errno));
}

/* Next line without its newline (NUL-terminated), NULL at the end. */
static char *
lines_next(struct lines *l, size_t *n)
{
	ssize_t k = getline(&l->buf, &l->cap, l->f);
	if (k < 0) {
		if (ferror(l->f))
			flt_die("%s: %s", l->name, strerror(errno));
		return NULL;
	}
	if (k > 0 && l->buf[k - 1] == '\n')
		l->buf[--k] = 0;
	*n = (size_t)k;
	l->no++;
	return l->buf;
}

static void
lines_close(struct lines *l)
{
	free(l->buf);
	if (l->f != stdin)
		fclose(l->f);
}

/* The record's report (empty and counted in *none if absent or nil). */
static void
report_of(const msgpack_object *rec, mrt_reader *r, const char *in,
    const char **s, size_t *n, uint64_t *none)
{
	const msgpack_object *o = mrt_rec_get(rec, "report");
	*s = "";
	*n = 0;
	if (o == NULL || o->type == MSGPACK_OBJECT_NIL) {
		(*none)++;
		return;
	}
	if (mrt_obj_str(o, s, n) != 0)
		flt_die_rec(r, in, "report: not a string");
}

static void
learn(const struct opts *o)
{
	mrt_bpe_learner *l;
	mrt_bpe *b;
	uint64_t none = 0;
	int e;
	if (o->out == NULL || strcmp(o->out, "-") == 0)
		flt_die("-L needs -o vocab");
	if (mrt_bpe_learner_new(&l) != 0)
		flt_die("%s", mrt_strerror(MRT_ENOMEM));
	if (o->text) {
		struct lines t;
		char *s;
		size_t n;
		lines_open(&t, o->in);
		while ((s = lines_next(&t, &n)))
			if ((e = mrt_bpe_learner_add(l, s, n)) != 0)
				flt_die("%s", mrt_strerror(e));
		lines_close(&t);
	} else {
		FILE *f;
		mrt_reader *r = flt_reader(o->in, &f);
		const msgpack_object *rec;
		while ((rec = flt_next(r, o->in)) != NULL) {
			const char *s;
			size_t n;
			report_of(rec, r, o->in, &s, &n, &none);
			if ((e = mrt_bpe_learner_add(l, s, n)) != 0)
				flt_die("%s", mrt_strerror(e));
		}
		flt_reader_done(r, f);
	}
	if ((e = mrt_bpe_learner_finish(l, o->learn, &b)) != 0)
		flt_die("%s", mrt_strerror(e));
	mrt_bpe_learner_free(l);
	if (none)
		flt_warn("%llu records without a report",
		    (unsigned long long)none);
	if (mrt_bpe_size(b) < o->learn)
		flt_warn("%s: only %d entries: the corpus has no more pairs",
		    o->out, mrt_bpe_size(b));
	if (mrt_bpe_save(b, o->out) != 0)
		flt_die("%s: %s", o->out, strerror(errno));
	mrt_bpe_free(b);
}

/* Print ids as one line of decimal numbers. */
static void
put_ids(FILE *out, const int32_t *ids, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(out, i ? " %d" : "%d", ids[i]);
	fputc('\n', out);
}

static void
encode(const struct opts *o, const mrt_bpe *b)
{
	int32_t *ids = malloc(o->max_len * sizeof *ids);
	uint64_t none = 0;
	int k;
	if (ids == NULL)
		flt_die("%s", mrt_strerror(MRT_ENOMEM));
	if (o->text) {
		FILE *out = flt_out_open(o->out, 1);
		struct lines t;
		char *s;
		size_t n;
		lines_open(&t, o->in);
		while ((s = lines_next(&t, &n))) {
			if ((k = mrt_bpe_encode(b, s, n, ids, o->max_len)) < 0)
				flt_die("%s", mrt_strerror(k));
			put_ids(out, ids, o->max_len);
		}
		lines_close(&t);
		flt_out_commit(out, o->out);
	} else {
		static const char *const skip[] = {"tok", NULL};
		struct flt_io io;
		const msgpack_object *rec;
		int64_t shape[1] = {o->max_len};
		flt_io_open(&io, o->in, o->out, o->force);
		while ((rec = flt_next(io.r, io.in)) != NULL) {
			const char *s;
			size_t n;
			report_of(rec, io.r, io.in, &s, &n, &none);
			if ((k = mrt_bpe_encode(b, s, n, ids, o->max_len)) < 0)
				flt_die_rec(io.r, io.in, "%s", mrt_strerror(k));
			flt_check_write(mrt_writer_copy(io.w, rec, skip, 1),
			    o->out);
			flt_check_write(mrt_pack_kv_tensor(
			    mrt_writer_packer(io.w), "tok", MRT_I32, 1, shape,
			    ids), o->out);
			flt_check_write(mrt_writer_end(io.w), o->out);
		}
		flt_io_done(&io);
	}
	if (none)
		flt_warn("%llu records without a report",
		    (unsigned long long)none);
	free(ids);
}

/* Decode n ids and print them as one text line. */
static void
put_text(FILE *out, const mrt_bpe *b, const int32_t *ids, size_t n,
    char **buf, size_t *cap, const char *where)
{
	long k = mrt_bpe_decode(b, ids, n, *buf, *cap);
	if (k < 0)
		flt_die("%s: id out of range [0, %d)", where, mrt_bpe_size(b));
	if ((size_t)k > *cap) {
		*cap = k;
		if ((*buf = realloc(*buf, *cap)) == NULL)
			flt_die("%s", mrt_strerror(MRT_ENOMEM));
		mrt_bpe_decode(b, ids, n, *buf, *cap);
	}
	fwrite(*buf, 1, k, out);
	fputc('\n', out);
}

static void
decode(const struct opts *o, const mrt_bpe *b)
{
	FILE *out = flt_out_open(o->out, 1);
	/* static: still reachable when flt_die() exits midway */
	static char *text;
	static int32_t *ids;
	static size_t tcap, icap;
	char where[256];
	if (o->text) {
		struct lines t;
		char *s;
		size_t n;
		lines_open(&t, o->in);
		while ((s = lines_next(&t, &n))) {
			size_t k = 0;
			char *p = s, *end;
			for (;;) {
				long v;
				while (*p == ' ' || *p == '\t')
					p++;
				if (*p == 0)
					break;
				errno = 0;
				v = strtol(p, &end, 10);
				if (end == p || errno || v < 0 || v > INT32_MAX ||
				    (*end && *end != ' ' && *end != '\t'))
					flt_die("%s: line %llu: not an id: %.20s",
					    t.name, t.no, p);
				if (k == icap && (ids = realloc(ids, (icap =
				    icap * 2 + 64) * sizeof *ids)) == NULL)
					flt_die("%s", mrt_strerror(MRT_ENOMEM));
				ids[k++] = (int32_t)v;
				p = end;
			}
			snprintf(where, sizeof where, "%s: line %llu",
			    t.name, t.no);
			put_text(out, b, ids, k, &text, &tcap, where);
		}
		lines_close(&t);
	} else {
		FILE *f;
		mrt_reader *r = flt_reader(o->in, &f);
		const msgpack_object *rec;
		mrt_tensor t;
		while ((rec = flt_next(r, o->in)) != NULL) {
			int e = mrt_rec_tensor(rec, "tok", &t);
			if (e == MRT_ENOENT)
				flt_die_rec(r, o->in, "no tok field");
			if (e != 0 || t.ndim != 1)
				flt_die_rec(r, o->in, "tok: not a 1-d tensor");
			if ((size_t)t.n > icap && (ids = realloc(ids,
			    (icap = t.n) * sizeof *ids)) == NULL)
				flt_die("%s", mrt_strerror(MRT_ENOMEM));
			if (mrt_tensor_to_i32(&t, ids) != 0)
				flt_die_rec(r, o->in, "tok: not integer ids");
			snprintf(where, sizeof where, "%s: record %llu",
			    strcmp(o->in, "-") == 0 ? "stdin" : o->in,
			    (unsigned long long)mrt_reader_count(r));
			put_text(out, b, ids, t.n, &text, &tcap, where);
		}
		flt_reader_done(r, f);
	}
	free(ids);
	free(text);
	flt_out_commit(out, o->out);
}

int
main(int argc, char **argv)
{
	/* -m is the shared --model: --max-len has no letter */
	enum { O_MAXLEN = 256 };
	static const struct option lo[] = {
		{"learn", required_argument, NULL, 'L'},
		{"vocab", required_argument, NULL, 'v'},
		{"max-len", required_argument, NULL, O_MAXLEN},
		{"decode", no_argument, NULL, 'd'},
		{"text", no_argument, NULL, 't'},
		FLT_OPT_FORCE, FLT_OPT_OUTPUT, FLT_OPT_END
	};
	struct opts o = {0};
	mrt_bpe *b;
	char err[512];
	int c;

	flt_init(argv[0]);
	o.max_len = 64;
	while ((c = flt_getopt(argc, argv, "dfL:o:tv:", lo, USAGE)) != -1) {
		switch (c) {
		case 'd': o.decode = 1; break;
		case 'f': o.force = 1; break;
		case 'L': o.learn = flt_num(optarg, MRT_BPE_NBASE,
		    MRT_BPE_MAX_SIZE, "--learn"); break;
		case O_MAXLEN: o.max_len = flt_num(optarg, 2, 1 << 20,
		    "--max-len"); break;
		case 'o': o.out = optarg; break;
		case 't': o.text = 1; break;
		case 'v': o.vocab = optarg; break;
		default: flt_usage(USAGE);
		}
	}
	o.in = flt_input(argc, argv, USAGE);
	if ((o.learn != 0) == (o.vocab != NULL))
		flt_usage(USAGE);
	if (o.learn) {
		if (o.decode)
			flt_usage(USAGE);
		learn(&o);
		return 0;
	}
	if (mrt_bpe_load(&b, o.vocab, err, sizeof err) != 0)
		flt_die("%s: %s", o.vocab, err);
	if (o.decode)
		decode(&o, b);
	else
		encode(&o, b);
	mrt_bpe_free(b);
	return 0;
}
