/*
 * filter.c: Butterworth design and zero-phase filtering in second-order
 * sections (see filter.h).  The steps follow scipy.signal's definitions:
 * buttap, lp2lp_zpk / lp2hp_zpk / lp2bp_zpk, bilinear_zpk, zpk2sos with
 * pairing 'nearest', iirnotch, sosfilt_zi, sosfilt and sosfiltfilt.
 */
#include <complex.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "ecg/filter.h"

/* poles or zeros: 2 MRT_FILT_MAXORDER, one more for zpk2sos's padding */
#define MAXROOT (2 * MRT_FILT_MAXORDER + 2)

typedef struct {
	int n;
	double complex v[MAXROOT];
} roots;

static void
push(roots *r, double complex v)
{
	r->v[r->n++] = v;
}

static void
drop(roots *r, int i)
{
	memmove(r->v + i, r->v + i + 1, (size_t)(r->n - i - 1) * sizeof *r->v);
	r->n--;
}

static int
isreal(double complex v)
{
	return cimag(v) == 0;
}

const char *
mrt_band_name(mrt_band type)
{
	switch (type) {
	case MRT_LOWPASS:  return "lowpass";
	case MRT_HIGHPASS: return "highpass";
	case MRT_BANDPASS: return "bandpass";
	}
	return "?";
}

/* Sort v[n] stably by less (insertion sort: n is small). */
static void
sort_by(double complex *v, int n, int (*less)(double complex, double complex))
{
	for (int i = 1; i < n; i++) {
		double complex x = v[i];
		int j = i;
		for (; j > 0 && less(x, v[j - 1]); j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static int
less_re_absim(double complex a, double complex b)
{
	if (creal(a) != creal(b))
		return creal(a) < creal(b);
	return fabs(cimag(a)) < fabs(cimag(b));
}

static int
less_absim(double complex a, double complex b)
{
	return fabs(cimag(a)) < fabs(cimag(b));
}

/*
 * scipy's _cplxreal: z as the upper halves of its conjugate pairs (each
 * the mean of the pair), then its real values, both sorted; 0 or -1 when
 * a complex value has no conjugate.
 */
static int
cplxreal(roots *z)
{
	const double tol = 100 * DBL_EPSILON;
	double complex zp[MAXROOT], zn[MAXROOT], zr[MAXROOT];
	int np = 0, nn = 0, nr = 0, i;
	sort_by(z->v, z->n, less_re_absim);
	for (i = 0; i < z->n; i++) {
		double complex v = z->v[i];
		if (fabs(cimag(v)) <= tol * cabs(v))
			zr[nr++] = creal(v);
		else if (cimag(v) > 0)
			zp[np++] = v;
		else
			zn[nn++] = v;
	}
	if (np != nn)
		return -1;
	/* runs of (about) the same real part, sorted by imaginary part */
	for (i = 0; i < np;) {
		int j = i;
		while (j + 1 < np && creal(zp[j + 1]) - creal(zp[j]) <= tol * cabs(zp[j]))
			j++;
		sort_by(zp + i, j - i + 1, less_absim);
		sort_by(zn + i, j - i + 1, less_absim);
		i = j + 1;
	}
	z->n = 0;
	for (i = 0; i < np; i++) {
		if (cabs(zp[i] - conj(zn[i])) > tol * cabs(zn[i]))
			return -1;
		push(z, (zp[i] + conj(zn[i])) / 2);
	}
	for (i = 0; i < nr; i++)
		push(z, zr[i]);
	return 0;
}

/* The pole nearest the unit circle (first of equals). */
static int
idx_worst(const roots *p, int real_only)
{
	int best = -1;
	double d = 0;
	for (int i = 0; i < p->n; i++) {
		double di = fabs(1 - cabs(p->v[i]));
		if (real_only && !isreal(p->v[i]))
			continue;
		if (best < 0 || di < d)
			best = i, d = di;
	}
	return best;
}

enum { ANY, REAL, COMPLEX };

/* The root of fro nearest to (first of equals), of the kind which. */
static int
nearest(const roots *fro, double complex to, int which)
{
	int best = -1;
	double d = 0;
	for (int i = 0; i < fro->n; i++) {
		double di = cabs(fro->v[i] - to);
		if ((which == REAL && !isreal(fro->v[i])) ||
		    (which == COMPLEX && isreal(fro->v[i])))
			continue;
		if (best < 0 || di < d)
			best = i, d = di;
	}
	return best;
}

/* The monic polynomial of roots r1, r2 (np.poly): {1, c1, c2}. */
static void
poly2(double out[3], double complex r1, double complex r2)
{
	double complex c1 = -r1 - r2, c2 = r1 * r2;
	out[0] = 1;
	out[1] = creal(c1);
	out[2] = creal(c2);
}

/*
 * scipy's zpk2sos(z, p, k, pairing='nearest') for a digital filter with
 * as many zeros as poles: the poles nearest the unit circle go to the
 * last sections, each with its nearest zeros; the gain goes to the first.
 */
static int
zpk2sos(mrt_sos *sos, roots *z, roots *p, double k)
{
	int nsec;
	if (z->n != p->n)
		return -1;
	nsec = (p->n + 1) / 2;
	if (p->n % 2 == 1) {
		push(p, 0);
		push(z, 0);
	}
	if (cplxreal(z) != 0 || cplxreal(p) != 0)
		return -1;
	sos->n = nsec;
	for (int si = nsec - 1; si >= 0; si--) {
		double *s = sos->s[si];
		int i = idx_worst(p, 0), nreal = 0;
		double complex p1 = p->v[i], p2, z1, z2;
		drop(p, i);
		for (int j = 0; j < p->n; j++)
			nreal += isreal(p->v[j]);
		if (isreal(p1) && nreal == 0) {
			/* the last real pole: one real zero, a first-order section */
			i = nearest(z, p1, REAL);
			z1 = z->v[i];
			drop(z, i);
			p2 = z2 = 0;
		} else {
			int zreal = 0;
			for (int j = 0; j < z->n; j++)
				zreal += isreal(z->v[j]);
			if (p->n + 1 == z->n && !isreal(p1) && nreal == 1 && zreal == 1) {
				/* must take a complex zero, left a real pair */
				i = nearest(z, p1, COMPLEX);
				z1 = z->v[i];
				drop(z, i);
				z2 = conj(z1);
				p2 = conj(p1);
			} else {
				if (isreal(p1)) {
					i = idx_worst(p, 1);
					p2 = p->v[i];
					drop(p, i);
				} else
					p2 = conj(p1);
				if (z->n == 0)
					return -1;   /* not for as many zeros as poles */
				i = nearest(z, p1, ANY);
				z1 = z->v[i];
				drop(z, i);
				if (!isreal(z1))
					z2 = conj(z1);
				else {
					if ((i = nearest(z, p1, REAL)) < 0)
						return -1;
					z2 = z->v[i];
					drop(z, i);
				}
			}
		}
		poly2(s, z1, z2);
		poly2(s + 3, p1, p2);
	}
	if (z->n != 0 || p->n != 0)
		return -1;
	for (int j = 0; j < 3; j++)
		sos->s[0][j] *= k;
	return 0;
}

int
mrt_butter(mrt_sos *sos, int order, mrt_band type, double lo, double hi,
    double fs, char *err, size_t cap)
{
	const double fs2 = 4;   /* bilinear_zpk at fs = 2 (frequencies / Nyquist) */
	double wlo = 2 * lo / fs, whi = 2 * hi / fs, k = 1;
	roots z = { 0 }, p = { 0 };
	double complex num = 1, den = 1;
	int lo_used = type != MRT_LOWPASS, hi_used = type != MRT_HIGHPASS;

	if (order < 1 || order > MRT_FILT_MAXORDER)
		return mrt_errf(err, cap, MRT_EINVAL, "order %d out of range [1, %d]",
		    order, MRT_FILT_MAXORDER);
	if (!(fs > 0) || !isfinite(fs))
		return mrt_errf(err, cap, MRT_EINVAL, "sampling rate %g Hz is not above 0", fs);
	if ((lo_used && !(lo > 0)) || (hi_used && !(hi > 0)))
		return mrt_errf(err, cap, MRT_ERANGE, "cut-off %g Hz is not above 0",
		    lo_used && !(lo > 0) ? lo : hi);
	if (type == MRT_BANDPASS && !(lo < hi))
		return mrt_errf(err, cap, MRT_EINVAL,
		    "low cut-off %g Hz is not below the high cut-off %g Hz", lo, hi);
	if ((lo_used && !(wlo < 1)) || (hi_used && !(whi < 1)))
		return mrt_errf(err, cap, MRT_ERANGE,
		    "cut-off %g Hz is at or above the Nyquist frequency %g Hz (fs %g Hz)",
		    hi_used && !(whi < 1) ? hi : lo, fs / 2, fs);

	/* buttap: poles on the left unit half circle, the middle one real */
	for (int m = -order + 1; m < order; m += 2)
		push(&p, -cexp(I * (M_PI * m / (2 * order))));
	/* pre-warped cut-offs at fs = 2: 2 fs tan(pi w / fs) */
	wlo = fs2 * tan(M_PI * wlo / 2);
	whi = fs2 * tan(M_PI * whi / 2);
	switch (type) {
	case MRT_LOWPASS:       /* lp2lp_zpk */
		for (int i = 0; i < p.n; i++)
			p.v[i] *= whi;
		k = pow(whi, order);
		break;
	case MRT_HIGHPASS:      /* lp2hp_zpk: zeros at 0 */
		for (int i = 0; i < p.n; i++) {
			den *= -p.v[i];
			p.v[i] = wlo / p.v[i];
		}
		for (int i = 0; i < order; i++)
			push(&z, 0);
		k = creal(1 / den);
		break;
	case MRT_BANDPASS: {    /* lp2bp_zpk: zeros at 0 */
		double bw = whi - wlo, wo = sqrt(wlo * whi);
		double complex pl[MRT_FILT_MAXORDER];
		for (int i = 0; i < order; i++)
			pl[i] = p.v[i] * bw / 2;
		p.n = 0;
		for (int i = 0; i < order; i++)
			push(&p, pl[i] + csqrt(pl[i] * pl[i] - wo * wo));
		for (int i = 0; i < order; i++)
			push(&p, pl[i] - csqrt(pl[i] * pl[i] - wo * wo));
		for (int i = 0; i < order; i++)
			push(&z, 0);
		k = pow(bw, order);
		break;
	}
	}
	/* bilinear_zpk: the zeros at infinity go to -1 */
	num = den = 1;
	for (int i = 0; i < z.n; i++) {
		num *= fs2 - z.v[i];
		z.v[i] = (fs2 + z.v[i]) / (fs2 - z.v[i]);
	}
	for (int i = 0; i < p.n; i++) {
		den *= fs2 - p.v[i];
		p.v[i] = (fs2 + p.v[i]) / (fs2 - p.v[i]);
	}
	while (z.n < p.n)
		push(&z, -1);
	k *= creal(num / den);
	if (zpk2sos(sos, &z, &p, k) != 0)
		return mrt_errf(err, cap, MRT_EINVAL, "cannot pair the filter's poles and zeros");
	return 0;
}

int
mrt_notch(mrt_sos *sos, double f0, double q, double fs, char *err, size_t cap)
{
	double w0 = 2 * f0 / fs, bw, gb = 1 / sqrt(2.0), beta, gain, *s;
	if (!(fs > 0) || !isfinite(fs))
		return mrt_errf(err, cap, MRT_EINVAL, "sampling rate %g Hz is not above 0", fs);
	if (!(f0 > 0) || !(w0 < 1))
		return mrt_errf(err, cap, MRT_ERANGE, "notch %g Hz is not between 0 and the "
		    "Nyquist frequency %g Hz (fs %g Hz)", f0, fs / 2, fs);
	if (!(q > 0) || !isfinite(q))
		return mrt_errf(err, cap, MRT_ERANGE, "notch quality %g is not above 0", q);
	if (sos->n >= MRT_FILT_MAXSEC)
		return mrt_errf(err, cap, MRT_ENOMEM, "more than %d sections", MRT_FILT_MAXSEC);
	bw = w0 / q * M_PI;
	w0 *= M_PI;
	/* the -3 dB bandwidth bw: beta = tan(bw / 2) as iirnotch spells it */
	beta = sqrt(1.0 - gb * gb) / gb * tan(bw / 2);
	gain = 1 / (1 + beta);
	s = sos->s[sos->n++];
	s[0] = gain;
	s[1] = gain * (-2 * cos(w0));
	s[2] = gain;
	s[3] = 1;
	s[4] = -2 * gain * cos(w0);
	s[5] = 2 * gain - 1;
	return 0;
}

int64_t
mrt_sos_padlen(const mrt_sos *sos)
{
	int nb = 0, na = 0;
	for (int i = 0; i < sos->n; i++) {
		nb += sos->s[i][2] == 0;
		na += sos->s[i][5] == 0;
	}
	return 3 * (2 * sos->n + 1 - (nb < na ? nb : na));
}

void
mrt_sos_zi(const mrt_sos *sos, double (*zi)[2])
{
	double scale = 1;
	for (int i = 0; i < sos->n; i++) {
		const double *s = sos->s[i];
		/* lfilter_zi: zi = A zi + B for the section's companion matrix A */
		double b0 = s[0], b1 = s[1], b2 = s[2], a1 = s[4], a2 = s[5];
		double B0 = b1 - a1 * b0, B1 = b2 - a2 * b0;
		double z0 = (B0 + B1) / (1 + a1 + a2);
		zi[i][0] = scale * z0;
		zi[i][1] = scale * (B1 - a2 * z0);
		scale *= (b0 + b1 + b2) / (1 + a1 + a2);
	}
}

/* sosfilt's direct form II transposed, from x[0] up or (rev) x[n-1] down. */
static void
run(const mrt_sos *sos, double *x, int64_t n, double (*zi)[2], int rev)
{
	int ns = sos->n;
	for (int64_t k = 0; k < n; k++) {
		int64_t t = rev ? n - 1 - k : k;
		double v = x[t];
		for (int i = 0; i < ns; i++) {
			const double *s = sos->s[i];
			double y = s[0] * v + zi[i][0];
			zi[i][0] = s[1] * v - s[4] * y + zi[i][1];
			zi[i][1] = s[2] * v - s[5] * y;
			v = y;
		}
		x[t] = v;
	}
}

void
mrt_sosfilt(const mrt_sos *sos, double *x, int64_t n, double (*zi)[2])
{
	run(sos, x, n, zi, 0);
}

int
mrt_sosfiltfilt(const mrt_sos *sos, double *x, int64_t n, double *work,
    char *err, size_t cap)
{
	double zi[MRT_FILT_MAXSEC][2], st[MRT_FILT_MAXSEC][2];
	int64_t pad = mrt_sos_padlen(sos), m = n + 2 * pad;
	if (n <= pad)
		return mrt_errf(err, cap, MRT_ERANGE,
		    "%lld samples, not more than the padding of %lld",
		    (long long)n, (long long)pad);
	for (int64_t t = 0; t < n; t++)
		if (!isfinite(x[t]))
			return mrt_errf(err, cap, MRT_ENUM, "sample %lld is %s",
			    (long long)t, isnan(x[t]) ? "NaN (invalid)" : "infinite");
	/* odd extension: 2 x[0] - x[pad..1], x, 2 x[n-1] - x[n-2..n-1-pad] */
	for (int64_t i = 0; i < pad; i++) {
		work[i] = 2 * x[0] - x[pad - i];
		work[pad + n + i] = 2 * x[n - 1] - x[n - 2 - i];
	}
	memcpy(work + pad, x, (size_t)n * sizeof *x);
	mrt_sos_zi(sos, zi);
	for (int i = 0; i < sos->n; i++) {
		st[i][0] = zi[i][0] * work[0];
		st[i][1] = zi[i][1] * work[0];
	}
	run(sos, work, m, st, 0);
	for (int i = 0; i < sos->n; i++) {
		st[i][0] = zi[i][0] * work[m - 1];
		st[i][1] = zi[i][1] * work[m - 1];
	}
	run(sos, work, m, st, 1);
	memcpy(x, work + pad, (size_t)n * sizeof *x);
	return 0;
}
