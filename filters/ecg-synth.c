/*
 * ecg-synth: synthetic 12-lead ECG records with findings and reports.
 *
 *   ecg-synth [-f] [-F codes] [-N noises] [-n count] [-o file] [-s seed]
 *             [--fs hz] [--seconds s] [--hr bpm] [--omit p] [--lang en|de]
 *             [--mains 50|60]
 *
 * Writes a stream of records with the fields of ecg-ingest's records plus
 * `truth` (see lib/synth.h).  Record i of seed s is the same whatever the
 * count: its generator is seeded by (seed, id).
 */
#include <getopt.h>
#include <math.h>

#include "filter.h"
#include "../lib/rng.h"
#include "../lib/synth.h"

#define USAGE "ecg-synth [-f] [-F codes] [-N noises] [-n count] [-o file] [-s seed] " \
	"[--fs hz] [--seconds s] [--hr bpm] [--omit p] [--lang en|de] [--mains 50|60]"

struct opts {
	mrt_synth_opts so;
	uint64_t seed;
	long long count;
	uint32_t want;
};

static uint32_t
parse_codes(const char *s)
{
	uint32_t m = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		int c = mrt_synth_code_parse(s, n);
		if (c < 0)
			flt_die("-F: unknown finding %.*s", (int)n, s);
		m |= MRT_SYNTH_BIT(c);
		s += n + (s[n] == ',');
	}
	return m;
}

static unsigned
parse_noise(const char *s)
{
	static const struct { const char *name; unsigned bit; } tab[] = {
		{ "bw", MRT_SYNTH_BW }, { "mains", MRT_SYNTH_MAINS },
		{ "muscle", MRT_SYNTH_MUSCLE }, { "em", MRT_SYNTH_EM },
		{ "flat", MRT_SYNTH_FLAT }, { "clip", MRT_SYNTH_CLIP },
		{ "all", MRT_SYNTH_ALLNOISE }, { "none", 0 },
	};
	unsigned m = 0;
	while (*s) {
		size_t n = strcspn(s, ","), i;
		for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
			if (strlen(tab[i].name) == n && memcmp(tab[i].name, s, n) == 0)
				break;
		if (i == sizeof tab / sizeof tab[0])
			flt_die("-N: unknown noise %.*s (bw, mains, muscle, em, flat, clip, all, none)",
			    (int)n, s);
		m |= tab[i].bit;
		s += n + (s[n] == ',');
	}
	return m;
}

static void
pack_codes(msgpack_packer *pk, uint32_t m)
{
	int n = 0;
	for (int c = 0; c < MRT_SYNTH_NCODES; c++)
		n += (m >> c) & 1;
	msgpack_pack_array(pk, (size_t)n);
	for (int c = 0; c < MRT_SYNTH_NCODES; c++)
		if ((m >> c) & 1)
			mrt_pack_str(pk, mrt_synth_code_name(c));
}

static void
pack_num(msgpack_packer *pk, const char *key, double v)
{
	mrt_pack_str(pk, key);
	if (isfinite(v))
		msgpack_pack_double(pk, floor(v * 10 + 0.5) / 10);
	else
		msgpack_pack_nil(pk);
}

static int
write_rec(mrt_writer *w, const mrt_synth_rec *rec, const char *id, int16_t *q)
{
	msgpack_packer *pk = mrt_writer_packer(w);
	uint64_t h = mrt_rng_hash(0, id, strlen(id));
	int64_t shape[2] = { MRT_SYNTH_NLEADS, rec->samples };
	int e;

	for (int l = 0; l < MRT_SYNTH_NLEADS; l++)
		mrt_synth_quantize(rec->sig + l * rec->samples, q + l * rec->samples,
		    (size_t)rec->samples, l == rec->missing ? 1 : 1000);
	if ((e = mrt_writer_begin(w, 15)) != 0)
		return e;
	mrt_pack_kv_str(pk, "id", id);
	mrt_pack_kv_f64(pk, "fs", rec->fs);
	mrt_pack_str(pk, "leads");
	msgpack_pack_array(pk, MRT_SYNTH_NLEADS);
	for (int l = 0; l < MRT_SYNTH_NLEADS; l++)
		mrt_pack_str(pk, mrt_synth_leads[l]);
	mrt_pack_kv_tensor(pk, "sig", MRT_I16, 2, shape, q);
	mrt_pack_str(pk, "gain");
	msgpack_pack_array(pk, MRT_SYNTH_NLEADS);
	for (int l = 0; l < MRT_SYNTH_NLEADS; l++)
		msgpack_pack_double(pk, l == rec->missing ? 1 : 1000);
	mrt_pack_str(pk, "baseline");
	msgpack_pack_array(pk, MRT_SYNTH_NLEADS);
	for (int l = 0; l < MRT_SYNTH_NLEADS; l++)
		msgpack_pack_int(pk, 0);
	mrt_pack_str(pk, "missing");
	msgpack_pack_array(pk, rec->missing >= 0);
	if (rec->missing >= 0)
		mrt_pack_str(pk, mrt_synth_leads[rec->missing]);
	mrt_pack_kv_str(pk, "report", rec->report);
	mrt_pack_str(pk, "labels");
	{
		int n = 0;
		for (int c = 0; c < MRT_SYNTH_NCODES; c++)
			n += (rec->findings >> c) & 1;
		msgpack_pack_map(pk, (size_t)n);
		for (int c = 0; c < MRT_SYNTH_NCODES; c++)
			if ((rec->findings >> c) & 1) {
				mrt_pack_str(pk, mrt_synth_code_name(c));
				msgpack_pack_double(pk, 100.0);
			}
	}
	mrt_pack_kv_int(pk, "fold", 1 + (int64_t)(h % 10));
	mrt_pack_kv_int(pk, "patient", 1 + (int64_t)((h >> 8) % 1000000));
	mrt_pack_kv_int(pk, "age", rec->age);
	mrt_pack_kv_str(pk, "sex", rec->sex == 'M' ? "M" : "F");
	mrt_pack_kv_str(pk, "source", "synth");
	mrt_pack_str(pk, "truth");
	msgpack_pack_map(pk, 7);
	pack_num(pk, "hr", rec->hr);
	pack_num(pk, "pr", rec->pr);
	pack_num(pk, "qrs", rec->qrs);
	pack_num(pk, "qt", rec->qt);
	pack_num(pk, "axis", rec->axis);
	mrt_pack_str(pk, "findings");
	pack_codes(pk, rec->findings);
	mrt_pack_str(pk, "omitted");
	pack_codes(pk, rec->omitted);
	return mrt_writer_end(w);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "fs", required_argument, NULL, 1 },
		{ "seconds", required_argument, NULL, 2 },
		{ "hr", required_argument, NULL, 3 },
		{ "omit", required_argument, NULL, 4 },
		{ "lang", required_argument, NULL, 5 },
		{ "mains", required_argument, NULL, 6 },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts op;
	const char *out = NULL;
	int c, force = 0, e;
	mrt_synth *s;
	mrt_writer *w;
	FILE *f;
	int16_t *q;

	flt_init(argv[0]);
	mrt_synth_opts_default(&op.so);
	op.so.noise = MRT_SYNTH_BW | MRT_SYNTH_MUSCLE;
	op.seed = 1;
	op.count = 10;
	op.want = 0;
	while ((c = getopt_long(argc, argv, "fF:N:n:o:s:", lo, NULL)) != -1) {
		switch (c) {
		case 'f': force = 1; break;
		case 'F': op.want = parse_codes(optarg); break;
		case 'N': op.so.noise = parse_noise(optarg); break;
		case 'n': op.count = flt_num(optarg, 0, LLONG_MAX, "-n"); break;
		case 'o': out = optarg; break;
		case 's': op.seed = (uint64_t)flt_num(optarg, 0, LLONG_MAX, "-s"); break;
		case 1: op.so.fs = flt_real(optarg, 50, 10000, "--fs"); break;
		case 2: op.so.seconds = flt_real(optarg, 1, 600, "--seconds"); break;
		case 3: op.so.hr = flt_real(optarg, 30, 200, "--hr"); break;
		case 4: op.so.omit = flt_real(optarg, 0, 1, "--omit"); break;
		case 5:
			if (strcmp(optarg, "en") == 0) op.so.lang = 0;
			else if (strcmp(optarg, "de") == 0) op.so.lang = 1;
			else flt_die("--lang: unknown language %s (en, de)", optarg);
			break;
		case 6: op.so.mains = (double)flt_num(optarg, 50, 60, "--mains");
			if (op.so.mains != 50 && op.so.mains != 60)
				flt_die("--mains: not 50 or 60: %s", optarg);
			break;
		default: flt_usage(USAGE);
		}
	}
	if (optind != argc)
		flt_usage(USAGE);
	if (op.so.fs * op.so.seconds > 1e7)
		flt_die("--fs x --seconds: more than 10^7 samples per lead");
	if ((e = mrt_synth_new(&s, &op.so)) != 0)
		flt_die("%s", mrt_strerror(e));
	q = malloc(MRT_SYNTH_NLEADS * (size_t)(op.so.fs * op.so.seconds + 1) * sizeof *q);
	if (q == NULL)
		flt_die("%s", strerror(errno));
	f = flt_out_open(out, force);
	w = flt_writer(f, 3);
	for (long long i = 0; i < op.count; i++) {
		char id[64];
		const mrt_synth_rec *rec;
		snprintf(id, sizeof id, "synth%llu-%06lld", (unsigned long long)op.seed, i + 1);
		if ((e = mrt_synth_make(s, mrt_rng_hash(op.seed, id, strlen(id)), op.want,
		    &rec)) != 0)
			flt_die("%s: %s", id, mrt_strerror(e));
		flt_check_write(write_rec(w, rec, id, q), out);
	}
	flt_writer_done(w, f, out);
	mrt_synth_free(s);
	free(q);
	return 0;
}
