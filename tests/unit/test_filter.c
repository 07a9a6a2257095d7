/*
 * test_filter: lib/ecg/filter against scipy.signal, run at test time
 * through tests/fixtures/filter_ref.py (/usr/bin/python3, Debian's
 * python3-scipy): for low-, high- and band-pass filters of every order
 * 1 to 10, with and without a notch, at several rates, the sections of
 * butter(..., output='sos') (same pairing and order), sosfilt_zi, the
 * padding of sosfiltfilt and its output on a synthetic ECG-like signal.
 * Then the refusals (order, cut-offs, Nyquist, short or non-finite input),
 * each also refused by scipy where scipy checks it, and the steady state:
 * a constant through a low-pass stays that constant.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecg/filter.h"
#include "check.h"

#define REF "/usr/bin/python3 tests/fixtures/filter_ref.py design"
#define MAXN 6000
#define MAXJOB 64

static char dir[] = "/tmp/test_filter.XXXXXX";

/* one design (and signal) for scipy, and what scipy said */
struct job {
	mrt_band type;
	int order;
	double lo, hi, fs, notch, q;
	long n;              /* samples of the signal, 0 for none */
	unsigned seed;
	int want;            /* a refusal: our error code, */
	const char *what;    /* a part of our message, */
	int scipy_checks;    /* and whether scipy refuses it too */
	int error;
	char msg[1024];
	long padlen;
	int nsec;
	double sos[MRT_FILT_MAXSEC + 1][6], zi[MRT_FILT_MAXSEC + 1][2];
	long ny;
	double y[MAXN];
};

static struct job J[MAXJOB];
static int njob;

static void test_signal(double *x, long n, double fs, unsigned seed);

/* Queue a job for scipy; its signal (n > 0) is test_signal(n, fs, seed). */
static struct job *
job(mrt_band type, int order, double lo, double hi, double fs, double notch,
    double q, long n, unsigned seed)
{
	struct job *j = &J[njob++];
	if (njob > MAXJOB) {
		fprintf(stderr, "more than %d jobs\n", MAXJOB);
		exit(1);
	}
	*j = (struct job){ .type = type, .order = order, .lo = lo, .hi = hi, .fs = fs,
	    .notch = notch, .q = q, .n = n, .seed = seed };
	return j;
}

/* Write the jobs and their signals, run scipy once, read its answers. */
static int
reference(void)
{
	static const char *kind[] = { "lowpass", "highpass", "bandpass" };
	static double x[MAXN];
	char cmd[512], path[256], line[1024];
	struct job *j = NULL;
	FILE *f, *jf;
	snprintf(path, sizeof path, "%s/jobs", dir);
	if ((jf = fopen(path, "w")) == NULL)
		return -1;
	for (int k = 0; k < njob; k++) {
		j = &J[k];
		fprintf(jf, "%s %d %.17g %.17g %.17g %.17g %.17g", kind[j->type], j->order,
		    j->lo, j->hi, j->fs, j->notch, j->q);
		if (j->n > 0) {
			snprintf(path, sizeof path, "%s/x%d", dir, k);
			if ((f = fopen(path, "w")) == NULL)
				return -1;
			test_signal(x, j->n, j->fs, j->seed);
			for (long i = 0; i < j->n; i++)
				fprintf(f, "%.17g\n", x[i]);
			fclose(f);
			fprintf(jf, " %s", path);
		}
		fputc('\n', jf);
	}
	fclose(jf);
	snprintf(cmd, sizeof cmd, REF " < %s/jobs", dir);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	j = NULL;
	while (fgets(line, sizeof line, f) != NULL) {
		double *s;
		int i;
		long t;
		if (sscanf(line, "job %d", &i) == 1 && i >= 0 && i < njob)
			j = &J[i];
		else if (j == NULL)
			continue;
		else if (strncmp(line, "error ", 6) == 0) {
			j->error = 1;
			snprintf(j->msg, sizeof j->msg, "%s", line + 6);
		} else if (sscanf(line, "padlen %ld", &j->padlen) == 1)
			;
		else if (sscanf(line, "sos %d", &i) == 1 && i >= 0 && i <= MRT_FILT_MAXSEC) {
			s = j->sos[i];
			if (sscanf(line, "sos %*d %lf %lf %lf %lf %lf %lf",
			    &s[0], &s[1], &s[2], &s[3], &s[4], &s[5]) == 6 && i + 1 > j->nsec)
				j->nsec = i + 1;
		} else if (sscanf(line, "zi %d", &i) == 1 && i >= 0 && i <= MRT_FILT_MAXSEC)
			sscanf(line, "zi %*d %lf %lf", &j->zi[i][0], &j->zi[i][1]);
		else if (sscanf(line, "y %ld", &t) == 1 && t >= 0 && t < MAXN) {
			sscanf(line, "y %*d %lf", &j->y[t]);
			if (t + 1 > j->ny)
				j->ny = t + 1;
		}
	}
	return pclose(f) == 0 ? 0 : -1;
}

/* A 12 s ECG-like test signal at fs: beats, baseline wander, mains, noise. */
static void
test_signal(double *x, long n, double fs, unsigned seed)
{
	unsigned s = seed;
	for (long i = 0; i < n; i++) {
		double t = i / fs, ph = fmod(t * 1.2, 1.0), noise;
		s = s * 1664525u + 1013904223u;
		noise = ((double)(s >> 8) / (1u << 24) - 0.5) * 0.05;
		x[i] = 1.2 * exp(-pow((ph - 0.3) / 0.012, 2)) +
		    0.25 * exp(-pow((ph - 0.55) / 0.05, 2)) +
		    0.4 * sin(2 * M_PI * 0.15 * t) + 0.8 +
		    0.1 * sin(2 * M_PI * 50 * t) + 0.05 * sin(2 * M_PI * 60 * t + 1) + noise;
	}
}

static double worst_sos, worst_zi, worst_y;

/* Our design, zi, padlen and filtered signal against scipy's. */
static void
compare(const struct job *j)
{
	static double y[MAXN], work[MAXN + 200];
	double zi[MRT_FILT_MAXSEC][2], ymax = 0, ey = 0;
	const char *name = mrt_band_name(j->type);
	char err[256];
	mrt_sos sos;
	int e;

	CHECK(!j->error, "%s %d %g-%g fs %g: scipy: %s", name, j->order, j->lo, j->hi,
	    j->fs, j->msg);
	e = mrt_butter(&sos, j->order, j->type, j->lo, j->hi, j->fs, err, sizeof err);
	CHECK(e == 0, "%s", err);
	if (e == 0 && j->notch > 0)
		CHECK((e = mrt_notch(&sos, j->notch, j->q, j->fs, err, sizeof err)) == 0,
		    "%s", err);
	if (e != 0 || j->error)
		return;
	CHECK(sos.n == j->nsec, "%s order %d: %d sections, scipy %d", name, j->order,
	    sos.n, j->nsec);
	CHECK(mrt_sos_padlen(&sos) == j->padlen, "padlen %lld, scipy %ld",
	    (long long)mrt_sos_padlen(&sos), j->padlen);
	mrt_sos_zi(&sos, zi);
	for (int i = 0; i < sos.n && i < j->nsec; i++) {
		double m = 0, d = 0, mz = 0, dz = 0;
		for (int c = 0; c < 6; c++) {
			m = fmax(m, fabs(j->sos[i][c]));
			d = fmax(d, fabs(sos.s[i][c] - j->sos[i][c]));
			/* exact zeros stay exact: padlen counts them */
			CHECK((sos.s[i][c] == 0) == (j->sos[i][c] == 0),
			    "%s order %d section %d coefficient %d: %.17g, scipy %.17g",
			    name, j->order, i, c, sos.s[i][c], j->sos[i][c]);
		}
		for (int c = 0; c < 2; c++) {
			mz = fmax(mz, fabs(j->zi[i][c]));
			dz = fmax(dz, fabs(zi[i][c] - j->zi[i][c]));
		}
		worst_sos = fmax(worst_sos, d / m);
		CHECK(d <= 1e-10 * m, "%s order %d %g-%g fs %g section %d: off by %.3g of %.3g",
		    name, j->order, j->lo, j->hi, j->fs, i, d, m);
		if (mz > 0) {
			worst_zi = fmax(worst_zi, dz / mz);
			CHECK(dz <= 1e-8 * mz, "zi section %d: off by %.3g of %.3g", i, dz, mz);
		}
	}
	if (j->n == 0)
		return;
	test_signal(y, j->n, j->fs, j->seed);
	CHECK(mrt_sosfiltfilt(&sos, y, j->n, work, err, sizeof err) == 0, "%s", err);
	CHECK(j->ny == j->n, "scipy gave %ld samples of %ld", j->ny, j->n);
	for (long i = 0; i < j->n && i < j->ny; i++) {
		ymax = fmax(ymax, fabs(j->y[i]));
		ey = fmax(ey, fabs(y[i] - j->y[i]));
	}
	worst_y = fmax(worst_y, ey / ymax);
	CHECK(ey <= 1e-9 * ymax, "%s order %d %g-%g fs %g notch %g: output off by %.3g of %.3g",
	    name, j->order, j->lo, j->hi, j->fs, j->notch, ey, ymax);
}

/* A design we refuse, with a message holding what; scipy too if it checks. */
static void
refusal(mrt_band type, int order, double lo, double hi, double fs, double notch,
    int want, const char *what, int scipy_checks)
{
	struct job *j = job(type, order, lo, hi, fs, notch, 30, 0, 0);
	j->want = want;
	j->what = what;
	j->scipy_checks = scipy_checks;
}

static void
refused(const struct job *j)
{
	char err[256] = "";
	mrt_sos sos;
	int e = mrt_butter(&sos, j->order, j->type, j->lo, j->hi, j->fs, err, sizeof err);
	if (e == 0 && j->notch > 0)
		e = mrt_notch(&sos, j->notch, j->q, j->fs, err, sizeof err);
	CHECK(e == j->want, "%s %d %g-%g fs %g notch %g: %d, want %d",
	    mrt_band_name(j->type), j->order, j->lo, j->hi, j->fs, j->notch, e, j->want);
	CHECK(strstr(err, j->what) != NULL, "message \"%s\" lacks \"%s\"", err, j->what);
	CHECK(!j->scipy_checks || j->error, "scipy accepts %s %d %g-%g fs %g notch %g",
	    mrt_band_name(j->type), j->order, j->lo, j->hi, j->fs, j->notch);
}

int
main(void)
{
	static double x[MAXN], work[MAXN + 200];
	char err[256];
	struct job *short_job;
	mrt_sos sos;
	int64_t pad;

	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	for (int order = 1; order <= MRT_FILT_MAXORDER; order++) {
		job(MRT_LOWPASS, order, 0, 40, 500, 0, 0, 5000, order);
		job(MRT_HIGHPASS, order, 0.67, 0, 500, 0, 0, 5000, order + 20);
		job(MRT_BANDPASS, order, 0.67, 40, 500, 0, 0, 5000, order + 40);
	}
	/* with a notch, other rates, cut-offs near 0 and near Nyquist */
	job(MRT_BANDPASS, 5, 0.67, 40, 500, 50, 30, 5000, 1);
	job(MRT_BANDPASS, 4, 0.5, 100, 500, 60, 20, 5000, 2);
	job(MRT_HIGHPASS, 3, 0.5, 0, 500, 50, 30, 5000, 3);
	job(MRT_LOWPASS, 2, 0, 40, 250, 60, 35, 3000, 4);
	job(MRT_BANDPASS, 5, 0.5, 40, 100, 0, 0, 1000, 5);
	job(MRT_BANDPASS, 3, 0.05, 150, 500, 0, 0, 5000, 6);
	job(MRT_LOWPASS, 7, 0, 120, 250, 0, 0, 2500, 7);
	job(MRT_HIGHPASS, 6, 100, 0, 257, 0, 0, 2500, 8);
	job(MRT_BANDPASS, 10, 1, 2, 360, 0, 0, 3600, 9);
	/* the shortest signals sosfiltfilt takes: padlen + 1 */
	job(MRT_BANDPASS, 5, 0.67, 40, 500, 0, 0, 34, 10);
	job(MRT_LOWPASS, 5, 0, 40, 500, 0, 0, 19, 11);
	/* scipy refuses padlen samples */
	short_job = job(MRT_BANDPASS, 5, 0.67, 40, 500, 0, 0, 33, 12);

	refusal(MRT_LOWPASS, 0, 0, 40, 500, 0, MRT_EINVAL, "order 0 out of range [1, 10]", 0);
	refusal(MRT_LOWPASS, 11, 0, 40, 500, 0, MRT_EINVAL, "order 11 out of range", 0);
	refusal(MRT_LOWPASS, 4, 0, 50, 100, 0, MRT_ERANGE,
	    "cut-off 50 Hz is at or above the Nyquist frequency 50 Hz", 1);
	refusal(MRT_HIGHPASS, 4, 60, 0, 100, 0, MRT_ERANGE, "cut-off 60 Hz is at or above", 1);
	refusal(MRT_BANDPASS, 4, 0.5, 250, 500, 0, MRT_ERANGE, "cut-off 250 Hz is at or above", 1);
	refusal(MRT_BANDPASS, 4, 40, 40, 500, 0, MRT_EINVAL,
	    "low cut-off 40 Hz is not below the high cut-off 40 Hz", 1);
	refusal(MRT_BANDPASS, 4, 45, 40, 500, 0, MRT_EINVAL, "not below", 1);
	refusal(MRT_HIGHPASS, 4, 0, 0, 500, 0, MRT_ERANGE, "cut-off 0 Hz is not above 0", 1);
	refusal(MRT_LOWPASS, 4, 0, -3, 500, 0, MRT_ERANGE, "not above 0", 1);
	refusal(MRT_LOWPASS, 4, 0, 40, 0, 0, MRT_EINVAL, "sampling rate", 0);
	refusal(MRT_LOWPASS, 4, 0, 20, 100, 60, MRT_ERANGE,
	    "notch 60 Hz is not between 0 and the Nyquist frequency 50 Hz", 1);

	CHECK(reference() == 0, "%s failed", REF);
	for (int k = 0; k < njob; k++)
		if (J[k].want)
			refused(&J[k]);
		else if (&J[k] != short_job)
			compare(&J[k]);
	printf("  scipy: sections within %.2g, zi within %.2g, sosfiltfilt within %.2g "
	    "(relative to the largest)\n", worst_sos, worst_zi, worst_y);

	/* the padding: n <= padlen refused, as scipy does */
	CHECK(mrt_butter(&sos, 5, MRT_BANDPASS, 0.67, 40, 500, err, sizeof err) == 0);
	pad = mrt_sos_padlen(&sos);
	CHECK(pad == 33 && short_job->n == pad, "padlen %lld", (long long)pad);
	test_signal(x, pad, 500, 12);
	CHECK(mrt_sosfiltfilt(&sos, x, pad, work, err, sizeof err) == MRT_ERANGE);
	CHECK(strstr(err, "33 samples, not more than the padding of 33") != NULL, "%s", err);
	CHECK(short_job->error, "scipy filters %ld samples", short_job->n);

	/* non-finite samples are refused, naming the first */
	test_signal(x, 1000, 500, 2);
	x[130] = NAN;
	x[500] = INFINITY;
	CHECK(mrt_sosfiltfilt(&sos, x, 1000, work, err, sizeof err) == MRT_ENUM);
	CHECK(strstr(err, "sample 130 is NaN (invalid)") != NULL, "%s", err);

	/* a constant through a low-pass (steady state at both ends): itself */
	CHECK(mrt_butter(&sos, 6, MRT_LOWPASS, 0, 10, 500, err, sizeof err) == 0);
	for (int i = 0; i < 500; i++)
		x[i] = 2.5;
	CHECK(mrt_sosfiltfilt(&sos, x, 500, work, err, sizeof err) == 0);
	for (int i = 0; i < 500; i++)
		CHECK(fabs(x[i] - 2.5) < 1e-12, "x[%d] = %.17g", i, x[i]);

	for (int k = 0; k < njob; k++) {
		snprintf(err, sizeof err, "%s/x%d", dir, k);
		unlink(err);
	}
	snprintf(err, sizeof err, "%s/jobs", dir);
	unlink(err);
	rmdir(dir);
	return fails != 0;
}
