/*
 * synth.c: synthetic 12-lead ECG generator (see synth.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth/noise.h"
#include "synth/report.h"
#include "core/rng.h"
#include "synth/synth.h"

#define PI 3.14159265358979323846
#define MAXWAVES 16
#define MAXALL (MRT_SYNTH_MAXBEATS + 64)

/* Inverse Dower matrix (Edenbrandt and Pahlm 1988): rows I, II, V1-V6,
 * columns X, Y, Z. */
static const double dower[8][3] = {
	{ 0.632, -0.235,  0.059 },
	{ 0.235,  1.066, -0.132 },
	{-0.515,  0.157, -0.917 },
	{ 0.044,  0.164, -1.387 },
	{ 0.882,  0.098, -1.277 },
	{ 1.213,  0.127, -0.601 },
	{ 1.125,  0.127, -0.086 },
	{ 0.831,  0.076,  0.230 },
};

typedef struct { double t, sd, v[3]; } wave;
typedef struct { int n, nqrs; wave w[MAXWAVES]; } tpl;

struct mrt_synth {
	mrt_synth_opts o;
	int64_t n;
	double *vcg;    /* [3][n] */
	double *lead;   /* [8][n]: I, II, V1-V6 */
	double *el;     /* [9][n]: electrode noise */
	double *basis;  /* [2][n]: sin, cos */
	float *sig;     /* [12][n] */
	double all[MAXALL];   /* beat onsets, also outside the record */
	char kind[MAXALL];
	mrt_synth_rec rec;
};

void
mrt_synth_opts_default(mrt_synth_opts *o)
{
	memset(o, 0, sizeof *o);
	o->fs = 500;
	o->seconds = 10;
	o->mains = 50;
	for (int c = 0; c < MRT_SYNTH_NCODES; c++)
		o->prevalence[c] = -1;
}

int
mrt_synth_new(mrt_synth **sp, const mrt_synth_opts *o)
{
	mrt_synth *s;
	double ns = o->fs * o->seconds;
	*sp = NULL;
	if (!(o->fs >= 50 && o->fs <= 10000) || !(o->seconds >= 1 && o->seconds <= 600) ||
	    ns > 1e7 || !(o->omit >= 0 && o->omit <= 1) || o->lang < 0 || o->lang > 1 ||
	    !(o->hr == 0 || (o->hr >= 30 && o->hr <= 200)))
		return MRT_EINVAL;
	if (o->silent & (MRT_SYNTH_RHYTHMS | MRT_SYNTH_BIT(MRT_SYNTH_NORM) |
	    ~(MRT_SYNTH_BIT(MRT_SYNTH_NCODES) - 1)))
		return MRT_EINVAL;
	for (int c = 0; c < MRT_SYNTH_NCODES; c++)
		if (!(o->prevalence[c] <= 1) || (o->prevalence[c] >= 0 &&
		    ((MRT_SYNTH_RHYTHMS >> c & 1) || c == MRT_SYNTH_NORM)))
			return MRT_EINVAL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return MRT_ENOMEM;
	s->o = *o;
	s->n = (int64_t)floor(ns + 0.5);
	s->vcg = malloc(3 * s->n * sizeof *s->vcg);
	s->lead = malloc(8 * s->n * sizeof *s->lead);
	s->el = malloc(9 * s->n * sizeof *s->el);
	s->basis = malloc(2 * s->n * sizeof *s->basis);
	s->sig = malloc(MRT_SYNTH_NLEADS * s->n * sizeof *s->sig);
	if (!s->vcg || !s->lead || !s->el || !s->basis || !s->sig) {
		mrt_synth_free(s);
		return MRT_ENOMEM;
	}
	*sp = s;
	return 0;
}

void
mrt_synth_free(mrt_synth *s)
{
	if (s == NULL)
		return;
	free(s->vcg);
	free(s->lead);
	free(s->el);
	free(s->basis);
	free(s->sig);
	free(s);
}

void
mrt_synth_quantize(const float *mv, int16_t *dst, size_t n, double gain)
{
	for (size_t i = 0; i < n; i++) {
		double v = floor((double)mv[i] * gain + 0.5);
		dst[i] = (int16_t)(v > 32767 ? 32767 : v < -32767 ? -32767 : v);
	}
}

double
mrt_synth_axis(const float *x, int64_t samples, const int64_t *on,
    const int64_t *off, int n)
{
	double ai = 0, af = 0;
	for (int b = 0; b < n; b++)
		for (int64_t k = on[b] < 0 ? 0 : on[b]; k < off[b] && k < samples; k++) {
			ai += x[k];
			af += x[5 * samples + k];
		}
	return atan2(af * 2 / sqrt(3.0), ai) * 180 / PI;
}

/* ---- helpers ---------------------------------------------------------- */

static double
unif(mrt_rng *r, double a, double b)
{
	return a + (b - a) * mrt_rng_uniform(r);
}

/*
 * The VCG vector whose lead I is A cos(th), whose aVF is (sqrt 3 / 2) A
 * sin(th) (hexaxial frontal axis th degrees) and whose Z is z.
 */
static void
frontal(double v[3], double A, double th, double z)
{
	double i = A * cos(th * PI / 180), f = A * sin(th * PI / 180) * sqrt(3.0) / 2;
	/* aVF = II - I/2 row */
	double a1 = dower[0][0], b1 = dower[0][1], c1 = dower[0][2];
	double a2 = dower[1][0] - a1 / 2, b2 = dower[1][1] - b1 / 2, c2 = dower[1][2] - c1 / 2;
	double ri = i - c1 * z, rf = f - c2 * z, det = a1 * b2 - a2 * b1;
	v[0] = (ri * b2 - rf * b1) / det;
	v[1] = (a1 * rf - a2 * ri) / det;
	v[2] = z;
}

static void
addw(tpl *t, double at, double sd, const double v[3], double scale)
{
	wave *w;
	if (t->n == MAXWAVES)
		return;
	w = &t->w[t->n++];
	w->t = at;
	w->sd = sd;
	for (int k = 0; k < 3; k++)
		w->v[k] = v[k] * scale;
}

/* Add a Gaussian centred at c (s) to the VCG, by the exact recurrence
 * g(k+1) = g(k) r(k), r(k+1) = r(k) e^(-dt^2/sd^2) (three exp per wave). */
static void
gauss(mrt_synth *s, double c, double sd, const double v[3])
{
	double fs = s->o.fs, dt = 1 / fs, h = 4.5 * sd;
	int64_t k0 = (int64_t)ceil((c - h) * fs), k1 = (int64_t)floor((c + h) * fs);
	double x, g, r, q, inv = 1 / (2 * sd * sd);
	double *X = s->vcg, *Y = s->vcg + s->n, *Z = s->vcg + 2 * s->n;
	if (k0 < 0)
		k0 = 0;
	if (k1 >= s->n)
		k1 = s->n - 1;
	if (k0 > k1)
		return;
	x = k0 * dt - c;
	g = exp(-x * x * inv);
	r = exp(-(2 * x * dt + dt * dt) * inv);
	q = exp(-2 * dt * dt * inv);
	for (int64_t k = k0; k <= k1; k++) {
		X[k] += g * v[0];
		Y[k] += g * v[1];
		Z[k] += g * v[2];
		g *= r;
		r *= q;
	}
}

/* ---- findings ---------------------------------------------------------- */

#define B(c) MRT_SYNTH_BIT(MRT_SYNTH_##c)

/* What each code cannot coexist with (checked against codes kept before). */
static uint32_t
conflicts(int c)
{
	switch (c) {
	case MRT_SYNTH_1AVB: return B(AFIB) | B(AFLT);
	case MRT_SYNTH_CRBBB: return B(CLBBB);
	case MRT_SYNTH_IRBBB: return B(CLBBB) | B(CRBBB);
	case MRT_SYNTH_LAFB: case MRT_SYNTH_LVH: case MRT_SYNTH_IMI:
	case MRT_SYNTH_STE: case MRT_SYNTH_STD: case MRT_SYNTH_INVT:
		return B(CLBBB);
	case MRT_SYNTH_AMI: return B(CLBBB);
	case MRT_SYNTH_ASMI: return B(CLBBB) | B(AMI);
	case MRT_SYNTH_PAC: return B(AFIB) | B(AFLT);
	case MRT_SYNTH_LVOLT: return B(LVH);
	case MRT_SYNTH_WPW:
		return B(AFIB) | B(AFLT) | B(1AVB) | B(CLBBB) | B(CRBBB) |
		    B(IRBBB) | B(LAFB) | B(LVH) | B(IMI) | B(AMI) | B(ASMI);
	default: return 0;
	}
}

static const double prevalence[MRT_SYNTH_NCODES] = {
	[MRT_SYNTH_1AVB] = 0.06, [MRT_SYNTH_CLBBB] = 0.04, [MRT_SYNTH_CRBBB] = 0.05,
	[MRT_SYNTH_IRBBB] = 0.05, [MRT_SYNTH_LAFB] = 0.07, [MRT_SYNTH_LVH] = 0.1,
	[MRT_SYNTH_IMI] = 0.08, [MRT_SYNTH_AMI] = 0.03, [MRT_SYNTH_ASMI] = 0.06,
	[MRT_SYNTH_STE] = 0.03, [MRT_SYNTH_STD] = 0.06, [MRT_SYNTH_INVT] = 0.05,
	[MRT_SYNTH_PVC] = 0.07, [MRT_SYNTH_PAC] = 0.06, [MRT_SYNTH_LVOLT] = 0.04,
	[MRT_SYNTH_LNGQT] = 0.03, [MRT_SYNTH_WPW] = 0.01,
};

static uint32_t
resolve(mrt_rng *r, uint32_t want, double hr, const double *prev)
{
	uint32_t keep = 0;
	if (want == 0) {
		double u = mrt_rng_uniform(r);
		int rh = u < 0.62 ? MRT_SYNTH_SR : u < 0.72 ? MRT_SYNTH_SBRAD :
		    u < 0.80 ? MRT_SYNTH_STACH : u < 0.87 ? MRT_SYNTH_SARRH :
		    u < 0.97 ? MRT_SYNTH_AFIB : MRT_SYNTH_AFLT;
		want = MRT_SYNTH_BIT(rh);
		for (int c = MRT_SYNTH_1AVB; c < MRT_SYNTH_NCODES; c++)
			if (mrt_rng_uniform(r) < (prev[c] >= 0 ? prev[c] : prevalence[c]))
				want |= MRT_SYNTH_BIT(c);
	}
	for (int c = MRT_SYNTH_SR; c < MRT_SYNTH_NCODES; c++) {
		uint32_t b = MRT_SYNTH_BIT(c);
		if (!(want & b))
			continue;
		if ((b & MRT_SYNTH_RHYTHMS) && (keep & MRT_SYNTH_RHYTHMS))
			continue;
		if (keep & conflicts(c))
			continue;
		keep |= b;
	}
	if (!(keep & MRT_SYNTH_RHYTHMS))
		keep |= hr > 100 ? B(STACH) : hr > 0 && hr < 60 ? B(SBRAD) : B(SR);
	/* a requested rate decides between the sinus rhythms */
	if (hr > 0 && (keep & (B(SR) | B(SBRAD) | B(STACH)))) {
		keep &= ~(B(SR) | B(SBRAD) | B(STACH));
		keep |= hr > 100 ? B(STACH) : hr < 60 ? B(SBRAD) : B(SR);
	}
	if ((keep & ~MRT_SYNTH_BENIGN) == 0)
		keep |= B(NORM);
	return keep;
}

/* ---- one record -------------------------------------------------------- */

typedef struct {
	double hr, rr, pr, qrs, qt, axis, A;
	double rsa, fr, phr, lf, fl, phl;
	int flk;          /* flutter conduction ratio */
	double flT;       /* flutter period */
	int terr;         /* ST elevation territory: 0 ant, 1 inf, 2 lat */
	int npvc, npac;
	double qtc;
} params;

static void
draw_params(mrt_rng *r, uint32_t f, double want_hr, params *p)
{
	if (f & B(SBRAD)) p->hr = unif(r, 42, 57);
	else if (f & B(STACH)) p->hr = unif(r, 102, 135);
	else if (f & B(SARRH)) p->hr = unif(r, 55, 85);
	else if (f & B(AFIB)) p->hr = unif(r, 70, 130);
	else p->hr = unif(r, 60, 95);
	if (want_hr > 0)
		p->hr = want_hr;
	if (f & B(AFLT)) {
		double u = mrt_rng_uniform(r);
		p->flT = 60 / unif(r, 260, 320);
		p->flk = u < 0.5 ? 2 : u < 0.85 ? 4 : 3;
		if (want_hr > 0) {
			p->flk = (int)floor(60 / want_hr / p->flT + 0.5);
			if (p->flk < 2) p->flk = 2;
			p->flT = 60 / want_hr / p->flk;
		}
		p->hr = 60 / (p->flk * p->flT);
	}
	p->rr = 60 / p->hr;
	p->rsa = (f & B(SARRH)) ? unif(r, 0.10, 0.16) : unif(r, 0.01, 0.035);
	p->fr = unif(r, 0.2, 0.33);
	p->phr = unif(r, 0, 2 * PI);
	p->lf = unif(r, 0.005, 0.02);
	p->fl = unif(r, 0.08, 0.12);
	p->phl = unif(r, 0, 2 * PI);
	p->pr = (f & B(1AVB)) ? unif(r, 0.22, 0.32) : (f & B(WPW)) ? unif(r, 0.085, 0.11) :
	    unif(r, 0.12, 0.19);
	p->qrs = (f & B(CLBBB)) ? unif(r, 0.13, 0.165) : (f & B(CRBBB)) ? unif(r, 0.125, 0.15) :
	    (f & B(IRBBB)) ? unif(r, 0.10, 0.115) : unif(r, 0.08, 0.10);
	if ((f & B(LAFB)) && !(f & (B(CRBBB) | B(CLBBB))))
		p->qrs += 0.01;
	p->qtc = (f & B(LNGQT)) ? unif(r, 0.48, 0.55) : unif(r, 0.38, 0.44);
	/* the JT interval keeps its length when the QRS widens */
	p->qt = p->qtc * sqrt(p->rr) + (p->qrs > 0.1 ? p->qrs - 0.1 : 0);
	if (p->qt < p->qrs + 0.2)
		p->qt = p->qrs + 0.2;
	p->axis = (f & B(LAFB)) ? unif(r, -80, -52) : (f & B(CLBBB)) ? unif(r, -30, 40) :
	    (f & B(LVH)) ? unif(r, -20, 40) : unif(r, -15, 85);
	p->A = unif(r, 0.9, 1.5);
	if (f & B(LVH)) p->A *= unif(r, 1.5, 1.9);
	if (f & B(LVOLT)) p->A *= unif(r, 0.25, 0.33);
	p->terr = (f & B(IMI)) ? 1 : (f & (B(AMI) | B(ASMI))) ? 0 : (int)mrt_rng_below(r, 3);
	p->npvc = 1 + (int)mrt_rng_below(r, 3);
	p->npac = 1 + (int)mrt_rng_below(r, 2);
}

/* The conducted beat (QRS onset at 0), its P wave separate. */
static void
make_beat(mrt_rng *r, uint32_t f, const params *p, tpl *t, tpl *pw, tpl *pac)
{
	double v[3], q = p->qrs, A = p->A, th = p->axis, off = 0, qn = q;
	double zr = A * unif(r, 0.35, 0.6), lv = (f & B(LVOLT)) ? 0.4 : 1;
	double sdT, Ta, thT, zT;
	t->n = 0;
	if (f & B(WPW)) {
		off = 0.03;
		qn = q;
		frontal(v, 0.3 * A, th, 0.1 * A);
		addw(t, 0.02, 0.016, v, 1);
	}
	if (f & (B(CRBBB) | B(IRBBB)))
		qn = unif(r, 0.085, 0.095);
	if (f & B(CLBBB)) {
		frontal(v, 0.8 * A, th, 0.9 * A);
		addw(t, 0.33 * q, 0.13 * q, v, 1);
		frontal(v, 0.9 * A, th + 10, 0.8 * A);
		addw(t, 0.66 * q, 0.13 * q, v, 1);
	} else {
		/* initial (septal or infarct) Q */
		if (f & B(IMI)) {
			frontal(v, 0.35, -90, 0);
			addw(t, off + 0.2 * qn, 0.1 * qn, v, unif(r, 0.9, 1.3));
		} else if (f & B(AMI)) {
			frontal(v, 0.1, 180, 0.45);
			addw(t, off + 0.2 * qn, 0.1 * qn, v, unif(r, 0.9, 1.3));
		} else if (f & B(ASMI)) {
			frontal(v, 0.05, 180, 0.4);
			addw(t, off + 0.2 * qn, 0.1 * qn, v, unif(r, 0.9, 1.3));
		} else {
			frontal(v, 0.1 * A, th + 180, -0.2 * A);
			addw(t, off + 0.18 * qn, 0.07 * qn, v, 1);
		}
		frontal(v, A, th, zr);
		addw(t, off + 0.47 * qn, 0.12 * qn, v, 1);
		frontal(v, 0.25 * A, th + 170, 0.55 * A);
		addw(t, off + 0.78 * qn, 0.08 * qn, v, (f & (B(CRBBB) | B(IRBBB))) ? 0.5 : 1);
		if (f & (B(CRBBB) | B(IRBBB))) {
			double d = q - qn;
			frontal(v, 0.3 * A, 180, -0.9 * A);
			addw(t, qn + 0.4 * d, 0.3 * d + 0.006, v, (f & B(CRBBB)) ? 1 : 0.6);
		}
	}
	t->nqrs = t->n;
	/* ST segment */
	if (f & B(STE)) {
		double a = unif(r, 0.22, 0.4);
		if (p->terr == 0) frontal(v, 0.05, 0, -a);
		else if (p->terr == 1) frontal(v, a * 1.2, 90, 0);
		else frontal(v, a, -10, -0.1 * a);
		addw(t, q + 0.07, 0.05, v, 1);
	}
	if (f & B(STD)) {
		double a = unif(r, 0.1, 0.2);
		frontal(v, a, 200, 0.3 * a);
		addw(t, q + 0.07, 0.04, v, 1);
	}
	/* T wave */
	sdT = unif(r, 0.035, 0.05) * ((f & B(LNGQT)) ? 1.2 : 1);
	Ta = unif(r, 0.22, 0.45) * lv;
	thT = th + unif(r, -25, 15);
	if (thT < -10) thT = -10 + unif(r, 0, 20);
	if (thT > 80) thT = 80;
	zT = -unif(r, 0.05, 0.15) * lv;
	if (f & B(CLBBB)) {
		Ta = 0.3 * A;
		thT = th + 180;
		zT = -0.3 * A;
	} else if ((f & B(LVH)) && mrt_rng_uniform(r) < 0.5) {
		thT = th + 180;
		Ta = 0.25;
		zT = -0.1;
	}
	if ((f & (B(CRBBB))) && !(f & B(INVT)))
		zT = unif(r, 0.1, 0.2);
	if ((f & B(IMI)) && mrt_rng_uniform(r) < 0.6)
		thT = -30;
	if ((f & (B(AMI) | B(ASMI))) && mrt_rng_uniform(r) < 0.5)
		zT = 0.15;
	frontal(v, Ta, thT, zT);
	if (f & B(INVT))
		for (int k = 0; k < 3; k++)
			v[k] = -v[k] * unif(r, 0.8, 1.3);
	addw(t, p->qt - 2.3 * sdT, sdT, v, 1);
	/* P waves: sinus and ectopic atrial */
	pw->n = pw->nqrs = 0;
	frontal(v, unif(r, 0.1, 0.2), unif(r, 40, 70), -0.02);
	addw(pw, -p->pr + 0.05, unif(r, 0.018, 0.024), v, 1);
	pac->n = pac->nqrs = 0;
	frontal(v, unif(r, 0.08, 0.15), unif(r, -90, -40), 0.02);
	addw(pac, -unif(r, 0.11, 0.15) + 0.05, 0.02, v, 1);
}

static void
make_pvc(mrt_rng *r, const params *p, tpl *t)
{
	double v[3], qv = unif(r, 0.14, 0.18), Av = unif(r, 1.2, 2.0) * p->A / 1.2;
	double phi = unif(r, -180, 180), zv = unif(r, -1.2, 1.2) * p->A;
	t->n = 0;
	frontal(v, Av, phi, zv);
	addw(t, 0.3 * qv, 0.15 * qv, v, 1);
	frontal(v, 0.5 * Av, phi + 40, 0.5 * zv);
	addw(t, 0.65 * qv, 0.12 * qv, v, 1);
	t->nqrs = t->n;
	frontal(v, 0.4 * Av, phi + 180, -0.4 * zv);
	addw(t, qv + 0.2, 0.055, v, 1);
}

/* Mean rate (bpm) of the beats all[0..n) in [0, T), or dflt with fewer
 * than two. */
static double
rate(const double *all, int n, double T, double dflt)
{
	int m = 0;
	double first = 0, last = 0;
	for (int b = 0; b < n; b++)
		if (all[b] >= 0 && all[b] < T) {
			if (m++ == 0)
				first = all[b];
			last = all[b];
		}
	return m >= 2 && last > first ? 60 * (m - 1) / (last - first) : dflt;
}

/* Beat onsets: all[] (also before 0 and after the end), kinds; *hr0 the
 * rate before premature beats move them (a report's, for silent ones). */
static int
beats(mrt_rng *r, uint32_t f, const params *p, double T, double *all, char *kind,
    double *hr0)
{
	int n = 0;
	double t = -p->rr * unif(r, 0.3, 1.0) - 0.2;
	while (t < T + 0.6 && n < MAXALL) {
		double h, rr;
		all[n] = t;
		kind[n++] = 'N';
		if (f & B(AFIB)) {
			rr = p->rr * (1 + 0.2 * mrt_rng_normal(r));
			if (rr < 0.55 * p->rr) rr = 0.55 * p->rr;
			if (rr > 1.7 * p->rr) rr = 1.7 * p->rr;
			if (rr < 0.3) rr = 0.3;
		} else if (f & B(AFLT)) {
			rr = p->rr + unif(r, -0.004, 0.004);
		} else {
			h = p->hr * (1 + p->rsa * sin(2 * PI * p->fr * t + p->phr) +
			    p->lf * sin(2 * PI * p->fl * t + p->phl));
			rr = 60 / h;
		}
		t += rr;
	}
	*hr0 = rate(all, n, T, p->hr);
	for (int e = 0; e < 2; e++) {
		int want = e == 0 ? ((f & B(PVC)) ? p->npvc : 0) : ((f & B(PAC)) ? p->npac : 0);
		for (int tries = 0; want > 0 && tries < 50; tries++) {
			int i = 1 + (int)mrt_rng_below(r, (uint64_t)(n - 2));
			double rrp = all[i] - all[i - 1], nt;
			if (kind[i] != 'N' || kind[i - 1] != 'N' || kind[i + 1] != 'N' ||
			    all[i] < 0.3 || all[i] > T - 0.6)
				continue;
			if (e == 0) {
				nt = all[i - 1] + rrp * unif(r, 0.5, 0.65);
				kind[i] = 'V';
				all[i] = nt;
			} else {
				double sh;
				nt = all[i - 1] + rrp * unif(r, 0.6, 0.75);
				sh = nt - all[i];
				kind[i] = 'A';
				for (int k = i; k < n; k++)
					all[k] += sh;
			}
			want--;
		}
	}
	return n;
}

static double
qrs_area_axis(const tpl *t)
{
	double ai = 0, af = 0;
	for (int w = 0; w < t->nqrs; w++) {
		const double *v = t->w[w].v;
		double I = dower[0][0] * v[0] + dower[0][1] * v[1] + dower[0][2] * v[2];
		double II = dower[1][0] * v[0] + dower[1][1] * v[1] + dower[1][2] * v[2];
		ai += I * t->w[w].sd;
		af += (II - I / 2) * t->w[w].sd;
	}
	return atan2(af * 2 / sqrt(3.0), ai) * 180 / PI;
}

/*
 * Electrode noise (synth/noise.h), then added to the leads I, II, V1-V6.
 * The slow wander frequency is drawn whichever noises are on; wander's
 * respiratory frequency is the heart rate variability's.
 */
static void
noise(mrt_synth *s, mrt_rng *r, const params *p)
{
	unsigned nz = s->o.noise;
	double fs = s->o.fs, *E = s->el, *bs = s->basis, fslow = unif(r, 0.03, 0.1);
	int64_t n = s->n;
	memset(E, 0, 9 * n * sizeof *E);
	if (nz & MRT_SYNTH_BW)
		mrt_noise_bw(E, n, fs, p->fr, fslow, r, bs);
	if (nz & MRT_SYNTH_MAINS)
		mrt_noise_mains(E, n, fs, s->o.mains, r, bs);
	if (nz & MRT_SYNTH_MUSCLE)
		mrt_noise_emg(E, n, r);
	if (nz & MRT_SYNTH_EM)
		mrt_noise_em(E, n, fs, s->o.seconds, r);
	mrt_noise_add8(s->lead, E, n);
}

int
mrt_synth_make(mrt_synth *s, uint64_t seed, uint32_t want,
    const mrt_synth_rec **out)
{
	double *all = s->all;
	char *kind = s->kind;
	mrt_rng rng, *r = &rng;
	mrt_synth_rec *rec = &s->rec;
	params p;
	tpl nb, pw, pac, pvc;
	int64_t n = s->n;
	double fs = s->o.fs, T = s->o.seconds;
	int nall, m = 0;
	uint32_t f;
	double hr0;
	float *o = s->sig;

	mrt_rng_seed(r, seed);
	memset(&p, 0, sizeof p);
	f = resolve(r, want, s->o.hr, s->o.prevalence);
	draw_params(r, f, s->o.hr, &p);
	make_beat(r, f, &p, &nb, &pw, &pac);
	make_pvc(r, &p, &pvc);
	nall = beats(r, f, &p, T, all, kind, &hr0);

	memset(s->vcg, 0, 3 * n * sizeof *s->vcg);
	for (int b = 0; b < nall; b++) {
		const tpl *t = kind[b] == 'V' ? &pvc : &nb;
		for (int w = 0; w < t->n; w++)
			gauss(s, all[b] + t->w[w].t, t->w[w].sd, t->w[w].v);
		if (!(f & (B(AFIB) | B(AFLT))) && kind[b] != 'V') {
			const tpl *pp = kind[b] == 'A' ? &pac : &pw;
			gauss(s, all[b] + pp->w[0].t, pp->w[0].sd, pp->w[0].v);
		}
		if (all[b] >= 0 && all[b] < T && m < MRT_SYNTH_MAXBEATS) {
			rec->beat[m] = all[b];
			rec->kind[m++] = kind[b];
		}
	}
	if (f & B(AFIB)) {
		double v[3], fq[3], am[3], ph[3];
		frontal(v, 0.6, 90, -0.8);
		for (int c = 0; c < 3; c++) {
			fq[c] = unif(r, 4, 8);
			am[c] = unif(r, 0.02, 0.05);
			ph[c] = unif(r, 0, 2 * PI);
		}
		for (int64_t k = 0; k < n; k++) {
			double t = k / fs, x = 0;
			for (int c = 0; c < 3; c++)
				x += am[c] * sin(2 * PI * fq[c] * t * (1 + 0.08 * sin(2 * PI * 0.3 * t + c)) + ph[c]);
			for (int d = 0; d < 3; d++)
				s->vcg[d * n + k] += x * v[d];
		}
	}
	if (f & B(AFLT)) {
		double v[3], a = unif(r, 0.15, 0.3), ph0 = mrt_rng_uniform(r);
		frontal(v, 1, 90, -0.3);
		for (int64_t k = 0; k < n; k++) {
			double ph = fmod(k / fs / p.flT + ph0, 1.0), x;
			x = ph < 0.75 ? 0.5 - ph / 0.75 : -0.5 + (ph - 0.75) / 0.25;
			for (int d = 0; d < 3; d++)
				s->vcg[d * n + k] += a * x * v[d];
		}
	}
	/* project: I, II, V1-V6 */
	for (int l = 0; l < 8; l++) {
		double *L = s->lead + l * n;
		const double *X = s->vcg, *Y = s->vcg + n, *Z = s->vcg + 2 * n;
		for (int64_t k = 0; k < n; k++)
			L[k] = dower[l][0] * X[k] + dower[l][1] * Y[k] + dower[l][2] * Z[k];
	}
	if (s->o.noise & (MRT_SYNTH_BW | MRT_SYNTH_MAINS | MRT_SYNTH_MUSCLE | MRT_SYNTH_EM))
		noise(s, r, &p);
	for (int64_t k = 0; k < n; k++) {
		float I = (float)s->lead[k], II = (float)s->lead[n + k];
		o[k] = I;
		o[n + k] = II;
		o[2 * n + k] = II - I;
		o[3 * n + k] = -(I + II) * 0.5f;
		o[4 * n + k] = I - II * 0.5f;
		o[5 * n + k] = II - I * 0.5f;
	}
	for (int l = 2; l < 8; l++)
		for (int64_t k = 0; k < n; k++)
			o[(l + 4) * n + k] = (float)s->lead[l * n + k];
	rec->missing = -1;
	if (s->o.noise & MRT_SYNTH_CLIP) {
		int l = (int)mrt_rng_below(r, MRT_SYNTH_NLEADS);
		float mx = 0, c;
		for (int64_t k = 0; k < n; k++)
			mx = fmaxf(mx, fabsf(o[l * n + k]));
		c = mx * (float)unif(r, 0.4, 0.8);
		for (int64_t k = 0; k < n; k++)
			o[l * n + k] = fminf(c, fmaxf(-c, o[l * n + k]));
	}
	if (s->o.noise & MRT_SYNTH_FLAT) {
		rec->missing = (int)mrt_rng_below(r, MRT_SYNTH_NLEADS);
		memset(o + rec->missing * n, 0, n * sizeof *o);
	}

	rec->samples = n;
	rec->fs = fs;
	rec->sig = o;
	rec->findings = f;
	rec->nbeats = m;
	rec->hr = rate(all, nall, T, p.hr);
	rec->pr = (f & (B(AFIB) | B(AFLT))) ? NAN : p.pr * 1000;
	rec->qrs = p.qrs * 1000;
	rec->qt = p.qt * 1000;
	rec->axis = qrs_area_axis(&nb);
	rec->age = (int)unif(r, 18, 90);
	rec->sex = mrt_rng_uniform(r) < 0.52 ? 'M' : 'F';
	{
		/* a silent premature beat does not move the stated rate */
		mrt_report_facts fa = { f, (f & s->o.silent & (B(PAC) | B(PVC))) ? hr0 : rec->hr,
		    rec->pr, rec->qrs, rec->qt, rec->axis, p.qtc * 1000, p.flk, 0, s->o.silent };
		/* the PVC phrase's count: a PAC's beat is no PVC */
		for (int b = 0; b < m; b++)
			fa.ectopics += rec->kind[b] == 'V';
		mrt_report_write(r, &fa, s->o.omit, s->o.lang, rec->report,
		    sizeof rec->report, &rec->omitted);
		rec->silent = f & s->o.silent;
	}
	*out = rec;
	return 0;
}
