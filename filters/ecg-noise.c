/*
 * ecg-noise: add ecg-synth's noises to every record's signal at a stated SNR.
 *
 *   ecg-noise [-f] [-o file] [-s seed] [--bw dB] [--emg dB] [--mains dB]
 *             [--em dB] [--kind list --snr dB] [--mains-hz 50|60] [file]
 *
 * Each kind is drawn per electrode (RA, LA, LL, V1-V6) by lib/synth/noise
 * and derived into the 12 leads, so Einthoven's and Goldberger's relations
 * hold for the added noise; one scale per record and kind (never per lead)
 * keeps them.  SNR = 10 log10(Ps / Pn): Ps the mean over the record's
 * present leads of each lead's variance (mean removed), Pn the mean over
 * the same leads of the noise's mean square, both over the finite samples.
 * --bw, --emg, --mains, --em scale each kind to its own SNR; --kind mixes
 * the listed kinds at equal power and scales the sum to --snr.  The noise
 * of a kind depends on (seed, id, kind) alone.  Missing leads and NaN
 * samples are left as they are.  Writes sig as float32 mV (gain 1,
 * baseline 0) and `noise`: {kind: dB for each kind, snr: dB of all of it,
 * mains_hz, seed}.
 */
#include <getopt.h>
#include <math.h>

#include "cli/filter.h"
#include "core/rng.h"
#include "ecg/leads.h"
#include "synth/noise.h"

#define USAGE "ecg-noise [-f] [-o file] [-s seed] [--bw dB] [--emg dB] [--mains dB] " \
	"[--em dB] [--kind list --snr dB] [--mains-hz 50|60] [file]"
#define MAXLEADS 64
/* draws of one kind of noise before a record whose present leads see none
 * of them is an error */
#define MAXDRAWS 64
#define SNR_MIN (-10.0)
#define SNR_MAX 60.0

enum { O_BW = 1, O_EMG, O_MAINS, O_EM, O_KIND, O_SNR, O_MAINS_HZ };

struct opts {
	double snr[MRT_NOISE_NKINDS];   /* per kind, NaN: not added */
	unsigned mix;                   /* --kind: bit mask of kinds */
	double mix_snr;                 /* --snr, NaN: not given */
	double mains_hz;
	uint64_t seed;
};

/* Buffers that grow with the longest record. */
struct bufs {
	float *x, *y;              /* [L][S] input mV, output */
	double *E, *basis, *T, *A; /* [9][S], [2][S], [12][S] one kind, [12][S] sum */
	int64_t S;
};

static void
bufs_fit(struct bufs *b, int64_t S)
{
	if (S <= b->S && b->x != NULL)
		return;
	free(b->x); free(b->y); free(b->E); free(b->basis); free(b->T); free(b->A);
	b->x = malloc((size_t)MAXLEADS * S * sizeof *b->x);
	b->y = malloc((size_t)MAXLEADS * S * sizeof *b->y);
	b->E = malloc((size_t)MRT_NOISE_NEL * S * sizeof *b->E);
	b->basis = malloc((size_t)2 * S * sizeof *b->basis);
	b->T = malloc((size_t)MRT_LEADS_N * S * sizeof *b->T);
	b->A = malloc((size_t)MRT_LEADS_N * S * sizeof *b->A);
	if (!b->x || !b->y || !b->E || !b->basis || !b->T || !b->A)
		flt_die("%s", strerror(ENOMEM));
	b->S = S;
}

static unsigned
parse_kinds(const char *s)
{
	unsigned m = 0;
	if (strcmp(s, "all") == 0)
		return (1u << MRT_NOISE_NKINDS) - 1;
	while (*s) {
		size_t n = strcspn(s, ",");
		int k = mrt_noise_parse(s, n);
		if (k < 0)
			flt_die("--kind: unknown noise %.*s (bw, emg, mains, em, all)", (int)n, s);
		m |= 1u << k;
		s += n + (s[n] == ',');
	}
	if (m == 0)
		flt_die("--kind: no noise named");
	return m;
}

static void
parse_opts(int argc, char **argv, struct opts *op, const char **out, int *force)
{
	static const struct option lo[] = {
		FLT_OPT_FORCE, FLT_OPT_OUTPUT, FLT_OPT_SEED,
		{ "bw", required_argument, NULL, O_BW },
		{ "emg", required_argument, NULL, O_EMG },
		{ "mains", required_argument, NULL, O_MAINS },
		{ "em", required_argument, NULL, O_EM },
		{ "kind", required_argument, NULL, O_KIND },
		{ "snr", required_argument, NULL, O_SNR },
		{ "mains-hz", required_argument, NULL, O_MAINS_HZ },
		FLT_OPT_END
	};
	static const char *const what[MRT_NOISE_NKINDS] = { "--bw", "--emg", "--mains", "--em" };
	int c, any = 0;

	while ((c = flt_getopt(argc, argv, "fo:s:", lo, USAGE)) != -1) {
		switch (c) {
		case 'f': *force = 1; break;
		case 'o': *out = optarg; break;
		case 's': op->seed = (uint64_t)flt_num(optarg, 0, LLONG_MAX, "--seed"); break;
		case O_BW: case O_EMG: case O_MAINS: case O_EM:
			op->snr[c - O_BW] = flt_real(optarg, SNR_MIN, SNR_MAX, what[c - O_BW]);
			any = 1;
			break;
		case O_KIND: op->mix = parse_kinds(optarg); break;
		case O_SNR: op->mix_snr = flt_real(optarg, SNR_MIN, SNR_MAX, "--snr"); break;
		case O_MAINS_HZ:
			op->mains_hz = flt_real(optarg, 50, 60, "--mains-hz");
			if (op->mains_hz != 50 && op->mains_hz != 60)
				flt_die("--mains-hz: not 50 or 60: %s", optarg);
			break;
		default: flt_usage(USAGE);
		}
	}
	if (any && (op->mix || !isnan(op->mix_snr)))
		flt_die("--kind and --snr: not with --bw, --emg, --mains or --em");
	if (op->mix && isnan(op->mix_snr))
		flt_die("--kind: no --snr for the mix");
	if (!op->mix && !isnan(op->mix_snr))
		flt_die("--snr: no --kind to mix");
	if (!any && !op->mix)
		flt_die("no noise to add (--bw, --emg, --mains, --em, or --kind and --snr)");
}

/* The kinds the options add. */
static int
adds(const struct opts *op, int k)
{
	return op->mix ? (op->mix >> k & 1) : !isnan(op->snr[k]);
}

/*
 * Mean over the rows l with use[l] of the mean square of (v - mean) at
 * the finite samples of x's row l; v is T's row lead[l] (demean: subtract
 * the row's mean first).  x NULL: v is x itself (floats).
 */
static double
power(const double *T, const float *x, const int *lead, const int *use, int L,
    int64_t S, int demean)
{
	double sum = 0;
	int nl = 0;
	for (int l = 0; l < L; l++) {
		const float *xl = x + (size_t)l * S;
		const double *t = T ? T + (size_t)lead[l] * S : NULL;
		double m = 0, ss = 0;
		int64_t nf = 0;
		if (!use[l])
			continue;
		if (demean) {
			for (int64_t k = 0; k < S; k++)
				if (isfinite(xl[k])) {
					m += t ? t[k] : xl[k];
					nf++;
				}
			m /= (double)nf;
		}
		nf = 0;
		for (int64_t k = 0; k < S; k++)
			if (isfinite(xl[k])) {
				double d = (t ? t[k] : xl[k]) - m;
				ss += d * d;
				nf++;
			}
		sum += ss / (double)nf;
		nl++;
	}
	return sum / nl;
}

/* Index of name (a msgpack str) in the array lf of L strings, or -1. */
static int
find_lead(const msgpack_object *lf, const msgpack_object *name)
{
	for (uint32_t l = 0; l < lf->via.array.size; l++) {
		const msgpack_object *ln = &lf->via.array.ptr[l];
		if (ln->type == MSGPACK_OBJECT_STR && ln->via.str.size == name->via.str.size &&
		    memcmp(ln->via.str.ptr, name->via.str.ptr, name->via.str.size) == 0)
			return (int)l;
	}
	return -1;
}

/*
 * The standard lead of each of the L rows (lead[]) and which rows are
 * missing (miss[]), from the fields leads and missing; dies naming what is
 * wrong.
 */
static void
rows(mrt_reader *r, const char *in, const msgpack_object *rec, int L, int *lead,
    int *miss)
{
	const msgpack_object *lf = mrt_rec_get(rec, "leads"), *mf = mrt_rec_get(rec, "missing");
	if (lf == NULL || lf->type == MSGPACK_OBJECT_NIL) {
		if (L != MRT_LEADS_N)
			flt_die_rec(r, in, "no field leads naming the %d rows of sig", L);
		for (int l = 0; l < L; l++)
			lead[l] = l;
	} else {
		if (lf->type != MSGPACK_OBJECT_ARRAY || (int)lf->via.array.size != L)
			flt_die_rec(r, in, "field leads is not an array of %d names (the rows of sig)", L);
		for (int l = 0; l < L; l++) {
			const msgpack_object *ln = &lf->via.array.ptr[l];
			char name[64];
			if (ln->type != MSGPACK_OBJECT_STR || ln->via.str.size >= sizeof name)
				flt_die_rec(r, in, "leads[%d] is not a lead name", l);
			memcpy(name, ln->via.str.ptr, ln->via.str.size);
			name[ln->via.str.size] = 0;
			if ((lead[l] = mrt_leads_index(name)) < 0)
				flt_die_rec(r, in, "lead %s is not one of the 12 standard leads", name);
		}
	}
	memset(miss, 0, (size_t)L * sizeof *miss);
	if (mf == NULL || mf->type == MSGPACK_OBJECT_NIL)
		return;
	if (mf->type != MSGPACK_OBJECT_ARRAY)
		flt_die_rec(r, in, "field missing is not an array of lead names");
	for (uint32_t m = 0; m < mf->via.array.size; m++) {
		const msgpack_object *mn = &mf->via.array.ptr[m];
		int l;
		if (mn->type != MSGPACK_OBJECT_STR)
			flt_die_rec(r, in, "missing[%u] is not a lead name", m);
		if (lf == NULL || lf->type == MSGPACK_OBJECT_NIL ||
		    (l = find_lead(lf, mn)) < 0)
			flt_die_rec(r, in, "missing lead %.*s is not in leads",
			    (int)mn->via.str.size, mn->via.str.ptr);
		miss[l] = 1;
	}
}

/* sig, gain 1 and baseline 0 for each of L leads, and the noise map. */
static int
pack_out(msgpack_packer *pk, const struct opts *op, const float *y, int L,
    int64_t S, const double *achieved, double total)
{
	int64_t shape[2] = { L, S };
	int n = 0, e;
	for (int k = 0; k < MRT_NOISE_NKINDS; k++)
		n += adds(op, k);
	e = mrt_pack_kv_tensor(pk, "sig", MRT_F32, 2, shape, y);
	e |= mrt_pack_kv_mv_units(pk, L);
	e |= mrt_pack_str(pk, "noise");
	e |= msgpack_pack_map(pk, (size_t)(n + 2 + adds(op, MRT_NOISE_MAINS)));
	for (int k = 0; k < MRT_NOISE_NKINDS; k++)
		if (adds(op, k))
			e |= mrt_pack_kv_f64(pk, mrt_noise_name(k), achieved[k]);
	e |= mrt_pack_kv_f64(pk, "snr", total);
	if (adds(op, MRT_NOISE_MAINS))
		e |= mrt_pack_kv_f64(pk, "mains_hz", op->mains_hz);
	e |= mrt_pack_kv_int(pk, "seed", (int64_t)op->seed);
	return e ? MRT_EIO : 0;
}

int
main(int argc, char **argv)
{
	static const char *const skip[] = { "sig", "gain", "baseline", NULL };
	struct opts op = { { NAN, NAN, NAN, NAN }, 0, NAN, 50, 0 };
	const char *out = NULL, *in;
	int force = 0;
	struct flt_io io;
	struct bufs b = { 0 };

	flt_init(argv[0]);
	parse_opts(argc, argv, &op, &out, &force);
	in = flt_input(argc, argv, USAGE);
	flt_io_open(&io, in, out, force);
	for (const msgpack_object *rec; (rec = flt_next(io.r, in)) != NULL;) {
		const msgpack_object *no = mrt_rec_get(rec, "noise");
		int lead[MAXLEADS], miss[MAXLEADS], use[MAXLEADS], L, e, nuse = 0;
		double fs, ps, pn[MRT_NOISE_NKINDS], w[MRT_NOISE_NKINDS], achieved[MRT_NOISE_NKINDS];
		double g, total;
		const char *id;
		size_t idn;
		uint64_t h;
		mrt_tensor t;
		int64_t S;

		if (no != NULL && no->type != MSGPACK_OBJECT_NIL)
			flt_die_rec(io.r, in, "already has noise (a field noise)");
		if (mrt_rec_str(rec, "id", &id, &idn) != 0)
			flt_die_rec(io.r, in, "no string field id (the noise is drawn from it)");
		if (mrt_rec_num(rec, "fs", &fs) != 0 || !(fs > 0) || !isfinite(fs))
			flt_die_rec(io.r, in, "no positive number field fs (the sampling rate)");
		if (mrt_rec_tensor(rec, "sig", &t) != 0 || t.ndim != 2 || t.shape[0] < 1 ||
		    t.shape[0] > MAXLEADS || t.shape[1] < 1)
			flt_die_rec(io.r, in, "no field sig of shape [leads, samples] (1 to %d leads)",
			    MAXLEADS);
		bufs_fit(&b, t.shape[1]);
		if ((e = mrt_rec_signal_mv(rec, b.x, (size_t)MAXLEADS * b.S, &L, &S)) != 0)
			flt_die_rec(io.r, in, "field sig: %s%s", mrt_strerror(e),
			    e == MRT_ERANGE ? " (a gain is zero or not finite)" :
			    e == MRT_ETYPE ? " (sig int16, int32, float32 or float64, gain numbers)" : "");
		rows(io.r, in, rec, L, lead, miss);
		/* present leads: not missing, with a finite sample; no infinite one */
		for (int l = 0; l < L; l++) {
			const float *xl = b.x + (size_t)l * S;
			use[l] = 0;
			for (int64_t k = 0; k < S; k++) {
				if (isinf(xl[k]))
					flt_die_rec(io.r, in, "lead %s: sample %lld is infinite",
					    mrt_leads_name(lead[l]), (long long)k);
				use[l] |= !isnan(xl[k]);
			}
			use[l] &= !miss[l];
			nuse += use[l];
		}
		ps = nuse ? power(NULL, b.x, lead, use, L, S, 1) : 0;
		if (!(ps > 0))
			flt_die_rec(io.r, in, "signal power is zero (no present lead varies): "
			    "no SNR to scale the noise to");
		h = mrt_rng_hash(op.seed, id, idn);
		memset(b.A, 0, (size_t)MRT_LEADS_N * S * sizeof *b.A);
		for (int k = 0; k < MRT_NOISE_NKINDS; k++) {
			const char *name = mrt_noise_name(k);
			mrt_rng rng;
			if (!adds(&op, k))
				continue;
			mrt_rng_seed(&rng, mrt_rng_hash(h, name, strlen(name)));
			/* a draw the present leads do not see (motion events all
			 * on other electrodes, or after the last sample) is drawn
			 * again from the same generator: the noise is conditioned
			 * on being there */
			pn[k] = 0;
			for (int tries = 0; tries < MAXDRAWS && !(pn[k] > 0); tries++) {
				memset(b.E, 0, (size_t)MRT_NOISE_NEL * S * sizeof *b.E);
				if (mrt_noise_draw(b.E, S, fs, k, op.mains_hz, &rng, b.basis) != 0)
					flt_die_rec(io.r, in, "mains at %g Hz needs a sampling rate "
					    "above %g Hz (fs is %g)", op.mains_hz, 2 * op.mains_hz, fs);
				mrt_noise_leads(b.T, b.E, S);
				pn[k] = power(b.T, b.x, lead, use, L, S, 0);
			}
			if (!(pn[k] > 0))
				flt_die_rec(io.r, in, "the %s noise is zero on the present leads in %d "
				    "draws", name, MAXDRAWS);
			/* --kind: unit power each; otherwise each at its own SNR */
			w[k] = op.mix ? 1 / sqrt(pn[k]) : sqrt(ps / (pn[k] * pow(10, op.snr[k] / 10)));
			for (int64_t i = 0; i < (int64_t)MRT_LEADS_N * S; i++)
				b.A[i] += w[k] * b.T[i];
		}
		total = power(b.A, b.x, lead, use, L, S, 0);
		g = op.mix ? sqrt(ps / (total * pow(10, op.mix_snr / 10))) : 1;
		for (int k = 0; k < MRT_NOISE_NKINDS; k++)
			if (adds(&op, k))
				achieved[k] = op.mix ? 10 * log10(ps / (pn[k] * w[k] * w[k] * g * g)) :
				    op.snr[k];
		total = op.mix ? op.mix_snr : 10 * log10(ps / total);
		for (int l = 0; l < L; l++) {
			const float *xl = b.x + (size_t)l * S;
			const double *a = b.A + (size_t)lead[l] * S;
			float *yl = b.y + (size_t)l * S;
			for (int64_t k = 0; k < S; k++)
				yl[k] = miss[l] || isnan(xl[k]) ? xl[k] : (float)(xl[k] + g * a[k]);
		}
		flt_check_write(mrt_writer_copy(io.w, rec, skip, 4), out);
		flt_check_write(pack_out(mrt_writer_packer(io.w), &op, b.y, L, S, achieved,
		    total), out);
		flt_check_write(mrt_writer_end(io.w), out);
	}
	flt_io_done(&io);
	free(b.x); free(b.y); free(b.E); free(b.basis); free(b.T); free(b.A);
	return 0;
}
