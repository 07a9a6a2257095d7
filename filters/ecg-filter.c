/*
 * ecg-filter: zero-phase Butterworth filtering of every record's signal.
 *
 *   ecg-filter [-f] [-o file] [--band lo,hi | --highpass f | --lowpass f]
 *              [--order n] [--notch f [--q q]] [file]
 *
 * Each lead of sig, in mV and in double, goes through the second-order
 * sections of scipy.signal.butter(order, cut-offs, kind, fs=fs,
 * output='sos'), with iirnotch(f, q, fs) stacked as one more section, by
 * sosfiltfilt's definition (odd padding, steady-state initial conditions).
 * Default: --band 0.67,40 --order 5, ST-MEM's preprocessing.
 *
 * Writes sig as float32 mV, gain 1 and baseline 0 for every lead, and
 * `filter`, a map {kind, order, lo, hi, notch, q} of what was done (lo,
 * hi, notch and q only where they apply); every other field is copied.
 * Invalid (NaN) samples at the start and end of a lead, the padding of
 * ecg-ingest --seconds, stay invalid and the span between them is filtered
 * as the lead.  Refused, naming the record: a record without fs or sig, a
 * cut-off or notch at or above its Nyquist frequency, a signal or span not
 * longer than the padding, an invalid sample between valid ones, an
 * infinite sample, a record already filtered.
 */
#include <getopt.h>
#include <math.h>

#include "cli/filter.h"
#include "ecg/filter.h"

#define USAGE "ecg-filter [-f] [-o file] [--band lo,hi | --highpass f | --lowpass f] " \
	"[--order n] [--notch f [--q q]] [file]"
#ifndef FLT_VERSION
#define FLT_VERSION "0.2"
#endif

enum { O_BAND = 1, O_HIGH, O_LOW, O_ORDER, O_NOTCH, O_Q };

struct opts {
	mrt_band type;
	double lo, hi;      /* Hz; lo for high- and band-pass, hi for low- and band-pass */
	int order;
	double notch, q;    /* notch 0: none */
};

/* A frequency in Hz for option what: a finite number above 0. */
static double
freq(const char *s, const char *what)
{
	double v = flt_real(s, -INFINITY, INFINITY, what);
	if (!(v > 0))
		flt_die("%s: %s Hz is not above 0", what, s);
	return v;
}

/* --band LO,HI */
static void
band(struct opts *op, const char *s)
{
	char buf[256], *comma;
	if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf ||
	    (comma = strchr(buf, ',')) == NULL)
		flt_die("--band: not LO,HI in Hz: %s", s);
	*comma = 0;
	op->type = MRT_BANDPASS;
	op->lo = freq(buf, "--band");
	op->hi = freq(comma + 1, "--band");
	if (!(op->lo < op->hi))
		flt_die("--band: low cut-off %g Hz is not below the high cut-off %g Hz",
		    op->lo, op->hi);
}

/* The name of lead l: the record's leads field, else its row number. */
static void
lead_name(const msgpack_object *rec, int l, int L, char *buf, size_t cap)
{
	const msgpack_object *lf = mrt_rec_get(rec, "leads");
	if (lf != NULL && lf->type == MSGPACK_OBJECT_ARRAY && (int)lf->via.array.size == L &&
	    lf->via.array.ptr[l].type == MSGPACK_OBJECT_STR)
		snprintf(buf, cap, "%.*s", (int)lf->via.array.ptr[l].via.str.size,
		    lf->via.array.ptr[l].via.str.ptr);
	else
		snprintf(buf, cap, "%d", l + 1);
}

/* Grow *p to n elements of size sz (never shrinks); dies when out of memory. */
static void *
grow(void *p, size_t *cap, size_t n, size_t sz)
{
	if (n > *cap) {
		if ((p = realloc(p, n * sz)) == NULL)
			flt_die("out of memory for %zu samples", n);
		*cap = n;
	}
	return p;
}

static int
pack_filter(msgpack_packer *pk, const struct opts *op)
{
	int lo = op->type != MRT_LOWPASS, hi = op->type != MRT_HIGHPASS,
	    notch = op->notch > 0, e = 0;
	e |= mrt_pack_str(pk, "filter");
	e |= msgpack_pack_map(pk, (size_t)(2 + lo + hi + 2 * notch));
	e |= mrt_pack_kv_str(pk, "kind", mrt_band_name(op->type));
	e |= mrt_pack_kv_int(pk, "order", op->order);
	if (lo)
		e |= mrt_pack_kv_f64(pk, "lo", op->lo);
	if (hi)
		e |= mrt_pack_kv_f64(pk, "hi", op->hi);
	if (notch) {
		e |= mrt_pack_kv_f64(pk, "notch", op->notch);
		e |= mrt_pack_kv_f64(pk, "q", op->q);
	}
	return e ? MRT_EIO : 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		FLT_OPT_FORCE, FLT_OPT_OUTPUT,
		{ "band", required_argument, NULL, O_BAND },
		{ "highpass", required_argument, NULL, O_HIGH },
		{ "lowpass", required_argument, NULL, O_LOW },
		{ "order", required_argument, NULL, O_ORDER },
		{ "notch", required_argument, NULL, O_NOTCH },
		{ "q", required_argument, NULL, O_Q },
		FLT_OPT_END
	};
	static const char *const skip[] = { "sig", "gain", "baseline", NULL };
	struct opts op = { MRT_BANDPASS, 0.67, 40, 5, 0, 30 };
	const char *out = NULL, *in;
	int c, force = 0, qset = 0;
	/* static: still reachable when flt_die exits, so LeakSanitizer is quiet */
	static double *x, *work;
	static float *y;
	double fs_design = NAN;
	size_t xcap = 0, wcap = 0, ycap = 0;
	struct flt_io io;
	mrt_sos sos;
	int64_t pad = 0;

	flt_init(argv[0]);
	while ((c = flt_getopt(argc, argv, "fo:", lo, USAGE)) != -1) {
		switch (c) {
		case 'f': force = 1; break;
		case 'o': out = optarg; break;
		case O_BAND: band(&op, optarg); break;
		case O_HIGH:
			op.type = MRT_HIGHPASS;
			op.lo = freq(optarg, "--highpass");
			break;
		case O_LOW:
			op.type = MRT_LOWPASS;
			op.hi = freq(optarg, "--lowpass");
			break;
		case O_ORDER:
			op.order = (int)flt_num(optarg, 1, MRT_FILT_MAXORDER, "--order");
			break;
		case O_NOTCH: op.notch = freq(optarg, "--notch"); break;
		case O_Q:
			op.q = freq(optarg, "--q");
			qset = 1;
			break;
		default: flt_usage(USAGE);
		}
	}
	if (qset && op.notch == 0)
		flt_die("--q: no --notch to set the quality of");
	in = flt_input(argc, argv, USAGE);
	flt_io_open(&io, in, out, force);
	for (const msgpack_object *rec; (rec = flt_next(io.r, in)) != NULL;) {
		const msgpack_object *fo = mrt_rec_get(rec, "filter");
		char err[256], name[64];
		mrt_tensor t;
		double fs;
		int64_t S;
		int L, e;

		if (fo != NULL && fo->type != MSGPACK_OBJECT_NIL)
			flt_die_rec(io.r, in, "already filtered (it has a field filter)");
		if (mrt_rec_num(rec, "fs", &fs) != 0)
			flt_die_rec(io.r, in, "no number field fs (the sampling rate)");
		if (fs != fs_design) {
			if (mrt_butter(&sos, op.order, op.type, op.lo, op.hi, fs, err, sizeof err) != 0 ||
			    (op.notch > 0 && mrt_notch(&sos, op.notch, op.q, fs, err, sizeof err) != 0))
				flt_die_rec(io.r, in, "%s", err);
			fs_design = fs;
			pad = mrt_sos_padlen(&sos);
		}
		if (mrt_rec_tensor(rec, "sig", &t) != 0 || t.ndim != 2)
			flt_die_rec(io.r, in, "no field sig of shape [leads, samples]");
		x = grow(x, &xcap, (size_t)t.n, sizeof *x);
		if ((e = mrt_rec_signal_mv64(rec, x, xcap, &L, &S)) != 0)
			flt_die_rec(io.r, in, "field sig: %s%s", mrt_strerror(e),
			    e == MRT_ERANGE ? " (a gain is zero or not finite)" :
			    e == MRT_ETYPE ? " (sig int16, int32, float32 or float64, gain numbers)" : "");
		if (S <= pad)
			flt_die_rec(io.r, in, "%lld samples, not more than the filter's padding "
			    "of %lld", (long long)S, (long long)pad);
		work = grow(work, &wcap, (size_t)(S + 2 * pad), sizeof *work);
		y = grow(y, &ycap, (size_t)t.n, sizeof *y);
		for (int l = 0; l < L; l++) {
			double *xl = x + (size_t)l * S;
			int64_t a = 0, b = S;
			float *yl = y + (size_t)l * S;
			/* invalid samples at the ends (padding) stay; the span between is filtered */
			while (a < S && isnan(xl[a]))
				a++;
			while (b > a && isnan(xl[b - 1]))
				b--;
			for (int64_t i = a; i < b; i++)
				if (!isfinite(xl[i])) {
					lead_name(rec, l, L, name, sizeof name);
					flt_die_rec(io.r, in, "lead %s: sample %lld is %s", name,
					    (long long)i, isnan(xl[i]) ? "NaN (invalid) between "
					    "valid samples" : "infinite");
				}
			if (b > a && b - a <= pad) {
				lead_name(rec, l, L, name, sizeof name);
				flt_die_rec(io.r, in, "lead %s: %lld valid samples (from sample %lld), "
				    "not more than the filter's padding of %lld", name,
				    (long long)(b - a), (long long)a, (long long)pad);
			}
			if (b > a && mrt_sosfiltfilt(&sos, xl + a, b - a, work, err, sizeof err) != 0) {
				lead_name(rec, l, L, name, sizeof name);
				flt_die_rec(io.r, in, "lead %s: %s", name, err);
			}
			for (int64_t i = 0; i < S; i++)
				yl[i] = (float)xl[i];
		}
		{
			msgpack_packer *pk = mrt_writer_packer(io.w);
			int64_t shape[2] = { L, S };
			flt_check_write(mrt_writer_copy(io.w, rec, skip, 4), out);
			flt_check_write(mrt_pack_kv_tensor(pk, "sig", MRT_F32, 2, shape, y), out);
			flt_check_write(mrt_pack_kv_mv_units(pk, L), out);
			flt_check_write(pack_filter(pk, &op), out);
			flt_check_write(mrt_writer_end(io.w), out);
		}
	}
	flt_io_done(&io);
	free(x);
	free(work);
	free(y);
	return 0;
}
