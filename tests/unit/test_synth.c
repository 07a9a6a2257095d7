/*
 * test_synth: the generator measured on its own output.
 *
 * - Einthoven and Goldberger relations exact in the float output, with
 *   and without electrode noise; same seed, same record.
 * - With lib/qrs and measurements made here on noise-free records:
 *   heart rate within 3 bpm of the request and of the truth; AFIB RR
 *   irregularity far above sinus; QRS > 120 ms for bundle branch blocks
 *   (and < 120 ms without); PR > 200 ms for 1AVB (and < 200 ms without);
 *   frontal axis at or beyond -45 degrees for LAFB, normal otherwise, and
 *   close to the generator's stated axis.
 * - Reports: every finding not omitted is mentioned, no finding absent
 *   from the record is (keyword lists written here, not the generator's);
 *   mrt_report_parse reads every report back to its findings less the
 *   omitted ones.
 * - Silent findings (1AVB, LAFB, LVH, IRBBB, LVOLT) drawn often in both
 *   languages: never in a report (by the parser and by the keyword lists),
 *   no PR figure, a report of only silent abnormal findings says normal; the
 *   waveform and the other findings' omissions are those of the run without
 *   silent findings; the waveform checks above hold on silent records; a
 *   silent PAC or PVC does not move the stated rate.  The same on the
 *   output of ecg-synth -n 2000 --silent (MERIT_BIN) in both languages,
 *   truth.silent included.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecg/qrs.h"
#include "synth/report.h"
#include "synth/synth.h"
#include "check.h"

#define B(c) MRT_SYNTH_BIT(MRT_SYNTH_##c)

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	if (n == 0)
		return NAN;
	qsort(v, (size_t)n, sizeof *v, cmpd);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct {
	int nb, miss, extra;
	double hr, rrcv, qrs, pr, axis;
	double sokolow;          /* S in V1 + the larger R in V5, V6 (mV) */
	double limbpp, precpp;   /* largest QRS peak-to-peak, limb / chest */
	double qavf, rv2;        /* initial 40 ms: deepest aVF, highest V2 (mV) */
	double stmax, stmin;     /* ST level at J + 60 ms, highest and lowest lead */
	double tii;              /* T wave area sign in II and V5 (mV s) */
	int nw;                  /* per measured beat: time (s), QRS width (ms) */
	double wt[256], wq[256];
} meas;

/* Measure a noise-free record: beats, RR, QRS width, PR (lead II), axis. */
static void
measure(const mrt_synth_rec *r, meas *m)
{
	static int64_t bt[2048], on[2048], off[2048];
	static double e[600000], w[2048], p[2048], sok[2048], lpp[2048], cpp[2048];
	static double qav[2048], rv2[2048], stx[2048], stn[2048], tar[2048];
	int64_t n = r->samples;
	double fs = r->fs, mean = 0, sd = 0;
	int nb, nw = 0, np = 0;
	mrt_qrs_detect(r->sig, 12, n, fs, bt, 2048, &nb);
	m->nb = nb;
	/* every beat made 0.2 s or more from the edges is detected within its
	 * QRS (+50 ms), and every detection there is such a beat */
	m->miss = m->extra = 0;
	for (int b = 0; b < r->nbeats; b++) {
		double t = r->beat[b];
		int hit = 0;
		if (t < 0.2 || t > n / fs - 0.4)
			continue;
		for (int i = 0; i < nb; i++)
			hit |= bt[i] / fs >= t && bt[i] / fs <= t + r->qrs / 1000 + 0.05;
		m->miss += !hit;
	}
	for (int i = 0; i < nb; i++) {
		double t = bt[i] / fs;
		int hit = 0;
		if (t < 0.4 || t > n / fs - 0.2)
			continue;
		for (int b = 0; b < r->nbeats; b++)
			hit |= t >= r->beat[b] && t <= r->beat[b] + r->qrs / 1000 + 0.05;
		m->extra += !hit;
	}
	for (int64_t k = 1; k + 1 < n; k++) {
		e[k] = 0;
		for (int l = 0; l < 12; l++)
			e[k] += fabs(r->sig[l * n + k + 1] - r->sig[l * n + k - 1]);
	}
	e[0] = e[n - 1] = 0;
	for (int i = 1; i < nb; i++)
		mean += (double)(bt[i] - bt[i - 1]) / fs;
	mean /= nb - 1;
	for (int i = 1; i < nb; i++) {
		double d = (double)(bt[i] - bt[i - 1]) / fs - mean;
		sd += d * d;
	}
	m->hr = 60 / mean;
	m->rrcv = sqrt(sd / (nb - 2)) / mean;
	for (int i = 1; i + 1 < nb; i++) {
		int64_t k = bt[i], a = k - (int64_t)(0.06 * fs), b = k + (int64_t)(0.06 * fs), pk = k;
		int64_t lo = k - (int64_t)(0.12 * fs), hi = k + (int64_t)(0.14 * fs), o1 = -1, o2 = -1;
		double thr;
		int64_t gap = (int64_t)(0.012 * fs);
		if (lo < 1 || hi >= n - 1)
			continue;
		for (int64_t j = a; j <= b; j++)
			if (e[j] > e[pk])
				pk = j;
		thr = 0.1 * e[pk];
		/* the QRS: around the peak, bridging gaps up to 12 ms (notches) */
		o1 = o2 = pk;
		for (int64_t j = pk; j >= lo && o1 - j <= gap; j--)
			if (e[j] > thr)
				o1 = j;
		for (int64_t j = pk; j <= hi && j - o2 <= gap; j++)
			if (e[j] > thr)
				o2 = j;
		/* net areas over the QRS and 16 ms either side (Gaussian tails),
		 * conducted beats only (the axis is theirs) */
		on[nw] = o1 - (int64_t)(0.016 * fs);
		off[nw] = o2 + 1 + (int64_t)(0.016 * fs);
		for (int b = 0; b < r->nbeats; b++)
			if (r->kind[b] == 'V' && k / fs >= r->beat[b] && k / fs < r->beat[b] + 0.2)
				on[nw] = off[nw] = 0;
		w[nw] = (double)(o2 - o1) / fs * 1000;
		if (nw < 256) {
			m->wt[nw] = (double)k / fs;
			m->wq[nw] = w[nw];
		}
		{
			double mn[12], mx[12], lp = 0, cp = 0;
			for (int l = 0; l < 12; l++) {
				mn[l] = 1e9;
				mx[l] = -1e9;
				for (int64_t j = o1; j <= o2; j++) {
					mn[l] = fmin(mn[l], r->sig[l * n + j]);
					mx[l] = fmax(mx[l], r->sig[l * n + j]);
				}
				if (l < 6) lp = fmax(lp, mx[l] - mn[l]);
				else cp = fmax(cp, mx[l] - mn[l]);
			}
			sok[nw] = -mn[6] + fmax(mx[10], mx[11]);
			{
				/* initial forces, ST level and T area against the level
				 * before the QRS (PR segment) */
				int64_t j0 = o1 - (int64_t)(0.01 * fs), j1 = o1 + (int64_t)(0.04 * fs);
				int64_t js = o2 + (int64_t)(0.06 * fs), te = o1 + (int64_t)(r->qt / 1000 * fs);
				double qa = 1e9, rv = -1e9, sx = -1e9, sn = 1e9, ta = 0;
				for (int64_t j = j0; j <= j1; j++) {
					qa = fmin(qa, r->sig[5 * n + j] - r->sig[5 * n + j0]);
					rv = fmax(rv, r->sig[7 * n + j] - r->sig[7 * n + j0]);
				}
				for (int l = 0; l < 12 && js < n; l++) {
					double st = r->sig[l * n + js] - r->sig[l * n + j0];
					sx = fmax(sx, st);
					sn = fmin(sn, st);
				}
				for (int64_t j = o2 + (int64_t)(0.04 * fs); j < te && j < n; j++)
					ta += (r->sig[n + j] - r->sig[n + j0] + r->sig[10 * n + j] -
					    r->sig[10 * n + j0]) / fs;
				qav[nw] = qa;
				rv2[nw] = rv;
				stx[nw] = sx;
				stn[nw] = sn;
				tar[nw] = ta;
			}
			lpp[nw] = lp;
			cpp[nw] = cp;
		}
		nw++;
		/* P wave: largest lead II value 40-400 ms before the QRS onset */
		{
			const float *II = r->sig + n;
			int64_t s0 = o1 - (int64_t)(0.4 * fs), s1 = o1 - (int64_t)(0.04 * fs), pp = -1, j;
			if (s0 < 0)
				continue;
			/* the nearest bump before the QRS */
			for (j = s1; j > s0 && pp < 0; j--)
				if (II[j] > 0.03 && II[j] >= II[j - 1] && II[j] >= II[j + 1])
					pp = j;
			if (pp < 0)
				continue;
			for (j = pp; j > s0 && II[j] > 0.1 * II[pp]; j--)
				;
			p[np++] = (double)(o1 - j) / fs * 1000;
		}
	}
	m->axis = mrt_synth_axis(r->sig, n, on, off, nw);
	m->nw = nw < 256 ? nw : 256;
	m->sokolow = median(sok, nw);
	m->qavf = median(qav, nw);
	m->rv2 = median(rv2, nw);
	m->stmax = median(stx, nw);
	m->stmin = median(stn, nw);
	m->tii = median(tar, nw);
	m->limbpp = median(lpp, nw);
	m->precpp = median(cpp, nw);
	m->qrs = median(w, nw);
	m->pr = median(p, np);
}


/* Goertzel: amplitude of the f Hz component of x[0..n) (mV). */
static double
tone(const float *x, int64_t n, double fs, double f)
{
	double w = 2 * cos(2 * M_PI * f / fs), s1 = 0, s2 = 0;
	for (int64_t k = 0; k < n; k++) {
		double s0 = x[k] + w * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	return 2 * sqrt(fmax(0, s1 * s1 + s2 * s2 - w * s1 * s2)) / n;
}

/* ---- reports ---------------------------------------------------------- */

static const char *const words[MRT_SYNTH_NCODES][10] = {
	[MRT_SYNTH_NORM] = { "normal ecg", "normal tracing", "within normal limits",
	    "normales ekg", "ekg im normbereich" },
	[MRT_SYNTH_SR] = { "sinus rhythm", "sr", "sinusrhythmus" },
	[MRT_SYNTH_SBRAD] = { "sinus bradycardia", "sinus brady", "sb", "sinusbradykardie" },
	[MRT_SYNTH_STACH] = { "sinus tachycardia", "sinus tach", "sinustachykardie" },
	[MRT_SYNTH_SARRH] = { "sinus arrhythmia", "sinusarrhythmie" },
	[MRT_SYNTH_AFIB] = { "atrial fibrillation", "af", "afib", "vorhofflimmern", "vhf" },
	[MRT_SYNTH_AFLT] = { "atrial flutter", "afl", "vorhofflattern" },
	[MRT_SYNTH_1AVB] = { "1st degree av block", "first degree av block", "pr prolonged",
	    "av block i", "av-block i", "verlaengerte pq-zeit" },
	[MRT_SYNTH_CLBBB] = { "left bundle branch block", "lbbb", "linksschenkelblock", "lsb" },
	[MRT_SYNTH_CRBBB] = { "right bundle branch block", "rbbb", "rechtsschenkelblock", "rsb" },
	[MRT_SYNTH_IRBBB] = { "incomplete right bundle branch block", "incomplete rbbb",
	    "irbbb", "inkompletter rechtsschenkelblock", "inkompletter rsb" },
	[MRT_SYNTH_LAFB] = { "left anterior fascicular block", "lafb",
	    "left anterior hemiblock", "linksanteriorer hemiblock", "lah" },
	[MRT_SYNTH_LVH] = { "left ventricular hypertrophy", "lvh",
	    "linksventrikulaere hypertrophie", "linkshypertrophie" },
	[MRT_SYNTH_IMI] = { "inferior myocardial infarction", "inferior infarct",
	    "inferior mi", "hinterwandinfarkt", "inferiorer infarkt" },
	[MRT_SYNTH_AMI] = { "anterior myocardial infarction", "anterior infarct",
	    "anterior mi", "vorderwandinfarkt" },
	[MRT_SYNTH_ASMI] = { "anteroseptal myocardial infarction", "anteroseptal infarct",
	    "anteroseptal mi", "anteroseptaler infarkt", "septumvorderwandinfarkt" },
	[MRT_SYNTH_STE] = { "st elevation", "st segment elevation", "st-hebung", "st-hebungen" },
	[MRT_SYNTH_STD] = { "st depression", "st segment depression", "st-senkung",
	    "st-senkungen" },
	[MRT_SYNTH_INVT] = { "t wave inversion", "inverted t waves", "negative t waves",
	    "t-negativierung", "negative t-wellen" },
	[MRT_SYNTH_PVC] = { "ventricular premature complexes", "pvcs", "ventricular extrasystole",
	    "vpb", "ventrikulaere extrasystolen", "ves" },
	[MRT_SYNTH_PAC] = { "atrial premature complexes", "pacs", "supraventricular extrasystole",
	    "apb", "supraventrikulaere extrasystolen", "sves" },
	[MRT_SYNTH_LVOLT] = { "low qrs voltage", "low voltage", "niedervoltage" },
	[MRT_SYNTH_LNGQT] = { "prolonged qt", "long qt", "qt prolonged", "qt-verlaengerung",
	    "verlaengerte qt-zeit" },
	[MRT_SYNTH_WPW] = { "wolff-parkinson-white", "wpw", "pre-excitation", "praeexzitation" },
};

/* Does t hold word w (not inside a longer word)?  Blanks the match if blank. */
static int
has(char *t, const char *w, int blank)
{
	size_t n = strlen(w);
	for (char *p = strstr(t, w); p; p = strstr(p + 1, w)) {
		int a = p == t || !isalnum((unsigned char)p[-1]);
		int b = !isalnum((unsigned char)p[n]);
		if (a && b) {
			if (blank)
				memset(p, '#', n);
			return 1;
		}
	}
	return 0;
}

static int
mentions(const char *report, int code)
{
	char t[1100];
	int i, found = 0;
	for (i = 0; report[i] && i < 1099; i++)
		t[i] = (char)tolower((unsigned char)report[i]);
	t[i] = 0;
	/* incomplete RBBB phrases hold the complete ones' words */
	if (code == MRT_SYNTH_CRBBB)
		for (int k = 0; words[MRT_SYNTH_IRBBB][k]; k++)
			while (has(t, words[MRT_SYNTH_IRBBB][k], 1))
				;
	for (int k = 0; k < 10 && words[code][k]; k++)
		found |= has(t, words[code][k], 0);
	return found;
}

/* Does the report give a PR (PQ) interval figure: "pr 250", "PQ 180"? */
static int
pr_figure(const char *report)
{
	for (const char *p = report; *p; p++)
		if ((p == report || !isalnum((unsigned char)p[-1])) &&
		    tolower((unsigned char)p[0]) == 'p' &&
		    (tolower((unsigned char)p[1]) == 'r' || tolower((unsigned char)p[1]) == 'q') &&
		    p[2] == ' ' && isdigit((unsigned char)p[3]))
			return 1;
	return 0;
}

#define SILENT (B(1AVB) | B(LAFB) | B(LVH) | B(IRBBB) | B(LVOLT))

/* The mask of a JSON array of code names (ecg-synth's truth fields). */
static uint32_t
codes_of(const json_t *a)
{
	uint32_t m = 0;
	size_t i;
	const json_t *v;
	json_array_foreach(a, i, v) {
		const char *c = json_string_value(v);
		int k = c ? mrt_synth_code_parse(c, strlen(c)) : -1;
		CHECK(k >= 0, "code %s", c ? c : "(not a string)");
		if (k >= 0)
			m |= MRT_SYNTH_BIT(k);
	}
	return m;
}

int
main(void)
{
	mrt_synth_opts o;
	mrt_synth *s;
	const mrt_synth_rec *r;
	int64_t n;

	/* ---- options ---- */
	mrt_synth_opts_default(&o);
	o.fs = 10;
	CHECK(mrt_synth_new(&s, &o) == MRT_EINVAL, "fs 10 accepted");
	mrt_synth_opts_default(&o);
	o.omit = 1.5;
	CHECK(mrt_synth_new(&s, &o) == MRT_EINVAL, "omit 1.5 accepted");
	CHECK(mrt_synth_code_parse("STE", 3) == MRT_SYNTH_STE, "STE without _");
	CHECK(mrt_synth_code_parse("STE_", 4) == MRT_SYNTH_STE, "STE_");
	CHECK(mrt_synth_code_parse("ISCAL", 5) == -1, "ISCAL parsed");

	/* ---- a long fast record has beats to its end ---- */
	mrt_synth_opts_default(&o);
	o.seconds = 600;
	o.fs = 100;
	o.hr = 190;
	o.noise = 0;
	mrt_synth_new(&s, &o);
	mrt_synth_make(s, 5, B(SR), &r);
	CHECK(r->nbeats > 1850 && r->beat[r->nbeats - 1] > 599 && fabs(r->hr - 190) < 3,
	    "600 s at 190 bpm: %d beats, last at %.1f s, %.1f bpm", r->nbeats,
	    r->beat[r->nbeats - 1], r->hr);
	mrt_synth_free(s);

	/* ---- limb-lead relations, exact ---- */
	for (int nz = 0; nz < 2; nz++) {
		mrt_synth_opts_default(&o);
		o.noise = nz ? (MRT_SYNTH_BW | MRT_SYNTH_MAINS | MRT_SYNTH_MUSCLE | MRT_SYNTH_EM) : 0;
		if (mrt_synth_new(&s, &o) != 0) { printf("new failed\n"); return 1; }
		for (uint64_t seed = 1; seed <= 30; seed++) {
			long bad = 0;
			mrt_synth_make(s, seed, 0, &r);
			n = r->samples;
			CHECK(n == 5000 && r->fs == 500, "samples %lld", (long long)n);
			for (int64_t k = 0; k < n; k++) {
				float I = r->sig[k], II = r->sig[n + k];
				bad += r->sig[2 * n + k] != II - I;
				bad += r->sig[3 * n + k] != -(I + II) / 2;
				bad += r->sig[4 * n + k] != I - II / 2;
				bad += r->sig[5 * n + k] != II - I / 2;
				bad += !isfinite(r->sig[k]) || !isfinite(r->sig[6 * n + k]);
			}
			CHECK(bad == 0, "noise %d seed %llu: %ld samples break Einthoven/Goldberger",
			    nz, (unsigned long long)seed, bad);
		}
		mrt_synth_free(s);
	}

	/* ---- noises: mains at 50/60 Hz, wander below 0.5 Hz, clipping ---- */
	{
		double m50[2], m60[2], bw[2];
		for (int on = 0; on < 2; on++) {
			mrt_synth_opts_default(&o);
			o.noise = on ? MRT_SYNTH_MAINS | MRT_SYNTH_BW : 0;
			o.mains = 60;
			mrt_synth_new(&s, &o);
			m50[on] = m60[on] = bw[on] = 0;
			for (uint64_t seed = 1; seed <= 10; seed++) {
				mrt_synth_make(s, seed, B(SR), &r);
				for (int l = 0; l < 12; l++) {
					m60[on] += tone(r->sig + l * r->samples, r->samples, r->fs, 60) / 120;
					m50[on] += tone(r->sig + l * r->samples, r->samples, r->fs, 50) / 120;
					bw[on] += tone(r->sig + l * r->samples, r->samples, r->fs, 0.1) / 120;
				}
			}
			mrt_synth_free(s);
		}
		printf("noise: 60 Hz %.4f -> %.4f mV (50 Hz %.4f), 0.1 Hz %.4f -> %.4f mV\n",
		    m60[0], m60[1], m50[1], bw[0], bw[1]);
		CHECK(m60[1] > 0.005 && m60[1] > 10 * m60[0] && m60[1] > 5 * m50[1],
		    "mains 60 Hz: %.4f clean %.4f, 50 Hz %.4f", m60[1], m60[0], m50[1]);
		CHECK(bw[1] > 3 * bw[0], "wander: %.4f, clean %.4f", bw[1], bw[0]);

		mrt_synth_opts_default(&o);
		o.noise = MRT_SYNTH_CLIP;
		mrt_synth_new(&s, &o);
		for (uint64_t seed = 1; seed <= 10; seed++) {
			int clipped = 0;
			mrt_synth_make(s, seed, 0, &r);
			for (int l = 0; l < 12; l++) {
				const float *x = r->sig + l * r->samples;
				float mx = 0;
				int64_t at = 0;
				for (int64_t k = 0; k < r->samples; k++)
					mx = fmaxf(mx, fabsf(x[k]));
				for (int64_t k = 0; k < r->samples; k++)
					at += fabsf(x[k]) == mx;
				clipped += at > 10;   /* a flat top, not a peak */
			}
			CHECK(clipped == 1, "seed %llu: %d leads clipped", (unsigned long long)seed,
			    clipped);
		}
		mrt_synth_free(s);
	}

	/* ---- reproducible; truth consistent ---- */
	mrt_synth_opts_default(&o);
	o.noise = MRT_SYNTH_ALLNOISE;
	o.omit = 0.3;
	mrt_synth_new(&s, &o);
	{
		static float a[60000];
		char rep[1024];
		uint32_t fa;
		mrt_synth_make(s, 77, 0, &r);
		memcpy(a, r->sig, sizeof a);
		strcpy(rep, r->report);
		fa = r->findings;
		mrt_synth_make(s, 78, 0, &r);
		CHECK(memcmp(a, r->sig, sizeof a) != 0, "seeds 77 and 78 same signal");
		mrt_synth_make(s, 77, 0, &r);
		CHECK(memcmp(a, r->sig, sizeof a) == 0 && strcmp(rep, r->report) == 0 &&
		    fa == r->findings, "seed 77 twice differs");
	}
	mrt_synth_free(s);

	

/* ---- reports ---- */
	for (int lang = 0; lang < 2; lang++) {
		int nomit = 0, nfind = 0;
		mrt_synth_opts_default(&o);
		o.omit = 0.3;
		o.lang = lang;
		o.seconds = 2;
		mrt_synth_new(&s, &o);
		for (uint64_t seed = 1; seed <= 3000; seed++) {
			mrt_synth_make(s, seed, 0, &r);
			CHECK((r->omitted & ~r->findings) == 0, "omitted not a subset");
			CHECK(mrt_report_parse(r->report) == (r->findings & ~r->omitted),
			    "lang %d seed %llu: parsed %#x, findings %#x less omitted %#x: %s",
			    lang, (unsigned long long)seed, mrt_report_parse(r->report),
			    r->findings, r->omitted, r->report);
			CHECK(__builtin_popcount(r->findings & MRT_SYNTH_RHYTHMS) == 1,
			    "seed %llu: not one rhythm", (unsigned long long)seed);
			CHECK(!!(r->findings & B(NORM)) ==
			    !(r->findings & ~(B(NORM) | B(SR) | B(SBRAD) | B(SARRH))),
			    "seed %llu: NORM with abnormal findings", (unsigned long long)seed);
			for (int c = 0; c < MRT_SYNTH_NCODES; c++) {
				int in = (r->findings >> c) & 1, om = (r->omitted >> c) & 1;
				int said = mentions(r->report, c);
				nfind += in;
				nomit += om;
				if (in && !om)
					CHECK(said, "lang %d seed %llu: %s not mentioned: %s", lang,
					    (unsigned long long)seed, mrt_synth_code_name(c), r->report);
				if (!in)
					CHECK(!said, "lang %d seed %llu: absent %s mentioned: %s", lang,
					    (unsigned long long)seed, mrt_synth_code_name(c), r->report);
			}
		}
		printf("reports (%s): %d findings, %.1f%% omitted (--omit 0.3)\n",
		    lang ? "de" : "en", nfind, 100.0 * nomit / nfind);
		CHECK(fabs((double)nomit / nfind - 0.3) < 0.03, "omitted share %f",
		    (double)nomit / nfind);
		mrt_synth_free(s);
	}

	/* ---- the parser: reports without omissions read back exactly ---- */
	for (int lang = 0; lang < 2; lang++) {
		int nrec = 0, ncodes = 0, seen = 0;
		mrt_synth_opts_default(&o);
		o.lang = lang;
		o.seconds = 2;
		o.fs = 100;
		for (int c = 0; c < MRT_SYNTH_NCODES; c++)
			if (c != MRT_SYNTH_NORM && !(MRT_SYNTH_RHYTHMS & MRT_SYNTH_BIT(c)))
				o.prevalence[c] = 0.2;
		mrt_synth_new(&s, &o);
		for (uint64_t seed = 1; seed <= 3000; seed++) {
			uint32_t got;
			mrt_synth_make(s, seed, 0, &r);
			got = mrt_report_parse(r->report);
			CHECK(r->omitted == 0 && got == r->findings,
			    "lang %d seed %llu: parsed %#x, findings %#x: %s", lang,
			    (unsigned long long)seed, got, r->findings, r->report);
			nrec++;
			ncodes += __builtin_popcount(r->findings);
			seen |= r->findings;
		}
		printf("parser (%s): %d reports, %d findings, all %d codes: %s\n",
		    lang ? "de" : "en", nrec, ncodes, MRT_SYNTH_NCODES,
		    seen == (int)(MRT_SYNTH_BIT(MRT_SYNTH_NCODES) - 1) ? "yes" : "no");
		CHECK(seen == (int)(MRT_SYNTH_BIT(MRT_SYNTH_NCODES) - 1), "codes seen %#x", seen);
		mrt_synth_free(s);
	}
	CHECK(mrt_report_parse("Incomplete RBBB; complete LBBB") == (B(IRBBB) | B(CLBBB)),
	    "IRBBB, CLBBB: %#x", mrt_report_parse("Incomplete RBBB; complete LBBB"));
	CHECK(mrt_report_parse("left anterior hemiblock (axis -62). SVES") ==
	    (B(LAFB) | B(PAC)), "negative axis: %#x",
	    mrt_report_parse("left anterior hemiblock (axis -62). SVES"));
	CHECK(mrt_report_parse("lafbx, srs, 12-lead ECG recorded") == 0, "inside words");

	/* ---- silent findings ---- */
	mrt_synth_opts_default(&o);
	o.silent = B(SR);
	CHECK(mrt_synth_new(&s, &o) == MRT_EINVAL, "silent rhythm accepted");
	o.silent = B(NORM);
	CHECK(mrt_synth_new(&s, &o) == MRT_EINVAL, "silent NORM accepted");
	o.silent = MRT_SYNTH_BIT(MRT_SYNTH_NCODES);
	CHECK(mrt_synth_new(&s, &o) == MRT_EINVAL, "silent bit 24 accepted");
	mrt_synth_opts_default(&o);
	o.prevalence[MRT_SYNTH_LVH] = 1.5;
	CHECK(mrt_synth_new(&s, &o) == MRT_EINVAL, "prevalence 1.5 accepted");
	mrt_synth_opts_default(&o);
	o.prevalence[MRT_SYNTH_AFIB] = 0.5;
	CHECK(mrt_synth_new(&s, &o) == MRT_EINVAL, "prevalence of a rhythm accepted");
	for (int pass = 0; pass < 4; pass++) {
		int lang = pass & 1, nrec = 0, nsil = 0, nwith = 0, nnorm = 0;
		int per[MRT_SYNTH_NCODES] = { 0 };
		double omit = pass < 2 ? 0 : 0.3;
		mrt_synth *s0;
		const mrt_synth_rec *r0;
		mrt_synth_opts_default(&o);
		o.lang = lang;
		o.omit = omit;
		o.seconds = 2;
		o.fs = 100;
		for (int c = 0; c < MRT_SYNTH_NCODES; c++)
			if (c != MRT_SYNTH_NORM && !(MRT_SYNTH_RHYTHMS & MRT_SYNTH_BIT(c)))
				o.prevalence[c] = (SILENT & MRT_SYNTH_BIT(c)) ? 0.4 : 0.1;
		mrt_synth_new(&s0, &o);
		o.silent = SILENT;
		CHECK(mrt_synth_new(&s, &o) == 0, "silent options refused");
		for (uint64_t seed = 1; seed <= 2000; seed++) {
			uint32_t got, said;
			mrt_synth_make(s, seed, 0, &r);
			mrt_synth_make(s0, seed, 0, &r0);
			got = mrt_report_parse(r->report);
			said = r->findings & ~r->omitted;
			nrec++;
			nsil += __builtin_popcount(r->silent);
			nwith += r->silent != 0;
			for (int c = 0; c < MRT_SYNTH_NCODES; c++)
				per[c] += (r->silent >> c) & 1;
			CHECK(r->findings == r0->findings && r->silent == (r->findings & SILENT) &&
			    (r->omitted & r->silent) == r->silent, "seed %llu: truth %#x %#x %#x",
			    (unsigned long long)seed, r->findings, r->silent, r->omitted);
			CHECK(memcmp(r->sig, r0->sig, 12 * r->samples * sizeof *r->sig) == 0,
			    "seed %llu: the waveform depends on --silent", (unsigned long long)seed);
			CHECK((r->omitted & ~SILENT) == (r0->omitted & ~SILENT),
			    "seed %llu: omissions %#x, without silent %#x",
			    (unsigned long long)seed, r->omitted, r0->omitted);
			CHECK((got & SILENT) == 0 && !pr_figure(r->report),
			    "lang %d seed %llu: silent %#x in the report: %s", lang,
			    (unsigned long long)seed, got & SILENT, r->report);
			for (int c = 0; c < MRT_SYNTH_NCODES; c++)
				if (SILENT & MRT_SYNTH_BIT(c))
					CHECK(!mentions(r->report, c), "lang %d seed %llu: %s said: %s",
					    lang, (unsigned long long)seed, mrt_synth_code_name(c),
					    r->report);
			/* the report states what is not silent nor omitted, NORM too
			 * when the record is abnormal only by silent findings */
			if (r->silent && !(r->findings & ~SILENT & ~MRT_SYNTH_BENIGN)) {
				nnorm++;
				CHECK(omit > 0 || got == (said | B(NORM)),
				    "seed %llu: only silent abnormal, parsed %#x: %s",
				    (unsigned long long)seed, got, r->report);
				CHECK((got & ~B(NORM)) == said, "seed %llu: parsed %#x: %s",
				    (unsigned long long)seed, got, r->report);
			} else
				CHECK(got == said, "lang %d seed %llu: parsed %#x, said %#x: %s",
				    lang, (unsigned long long)seed, got, said, r->report);
		}
		printf("silent (%s, omit %.1f): %d records, %d with silent findings, %d silent "
		    "findings (1AVB %d, LAFB %d, LVH %d, IRBBB %d, LVOLT %d), %d called normal\n",
		    lang ? "de" : "en", omit, nrec, nwith, nsil, per[MRT_SYNTH_1AVB],
		    per[MRT_SYNTH_LAFB], per[MRT_SYNTH_LVH], per[MRT_SYNTH_IRBBB],
		    per[MRT_SYNTH_LVOLT], nnorm);
		for (int c = 0; c < MRT_SYNTH_NCODES; c++)
			if (SILENT & MRT_SYNTH_BIT(c))
				CHECK(per[c] > 200, "%s silent in %d records", mrt_synth_code_name(c),
				    per[c]);
		CHECK(nnorm > 50, "%d records abnormal only by silent findings", nnorm);
		mrt_synth_free(s);
		mrt_synth_free(s0);
	}

	/* ---- ecg-synth -n 2000 --silent, its reports read by the parser ---- */
	for (int lang = 0; lang < 2; lang++) {
		const char *bin = getenv("MERIT_BIN") ? getenv("MERIT_BIN") : "bin";
		char cmd[2048], *line = NULL;
		size_t cap = 0;
		int nrec = 0, nsil = 0, nnorm = 0;
		FILE *p;
		snprintf(cmd, sizeof cmd, "%s/ecg-synth -n 2000 -s 11 --fs 50 --seconds 2 -N none "
		    "--lang %s --silent 1AVB,LAFB,LVH,IRBBB,LVOLT --prevalence 1AVB=0.4,LAFB=0.4,"
		    "LVH=0.4,IRBBB=0.4,LVOLT=0.4,CRBBB=0.1,STD_=0.1,PVC=0.1 | %s/ecg-dump",
		    bin, lang ? "de" : "en", bin);
		p = popen(cmd, "r");
		CHECK(p != NULL, "%s", cmd);
		while (p && getline(&line, &cap, p) > 0) {
			json_t *j = json_loads(line, 0, NULL), *t = json_object_get(j, "truth");
			const char *rep = json_string_value(json_object_get(j, "report"));
			uint32_t f = codes_of(json_object_get(t, "findings"));
			uint32_t sl = codes_of(json_object_get(t, "silent")), got;
			CHECK(rep != NULL, "record %d: no report", nrec + 1);
			got = rep ? mrt_report_parse(rep) : 0;
			nrec++;
			nsil += __builtin_popcount(sl);
			CHECK(sl == (f & SILENT), "record %d: truth.silent %#x, findings %#x", nrec,
			    sl, f);
			CHECK((got & SILENT) == 0, "record %d: silent %#x in %s", nrec, got & SILENT,
			    rep);
			/* no --omit: what is not silent is said, NORM if nothing else is */
			if (sl && !(f & ~SILENT & ~MRT_SYNTH_BENIGN)) {
				nnorm++;
				CHECK(got == ((f & ~SILENT) | B(NORM)), "record %d: %s", nrec, rep);
			} else
				CHECK(got == (f & ~sl), "record %d: parsed %#x, findings %#x: %s", nrec,
				    got, f, rep);
			json_decref(j);
		}
		free(line);
		CHECK(p && pclose(p) == 0 && nrec == 2000, "%s: %d records", cmd, nrec);
		printf("ecg-synth --silent (%s): %d records, %d silent findings, %d called "
		    "normal, none parsed from a report\n", lang ? "de" : "en", nrec, nsil, nnorm);
		CHECK(nsil > 2500, "%d silent findings", nsil);
	}

	/* ---- a silent PAC or PVC leaves the stated rate that of the beats
	 * without it (SR and SR + PAC of a seed share the beat train) ---- */
	for (int e = 0; e < 2; e++) {
		mrt_synth *s0;
		const mrt_synth_rec *r0;
		int nfig = 0, nmoved = 0;
		double shift = 0;
		uint32_t ect = e ? B(PVC) : B(PAC);
		mrt_synth_opts_default(&o);
		o.fs = 100;
		o.noise = 0;
		mrt_synth_new(&s0, &o);
		o.silent = ect;
		mrt_synth_new(&s, &o);
		for (uint64_t seed = 1; seed <= 500; seed++) {
			const char *p;
			mrt_synth_make(s, seed, B(SR) | ect, &r);
			mrt_synth_make(s0, seed, B(SR), &r0);
			shift += (r->hr - r0->hr) / 500;
			nmoved += fabs(r->hr - r0->hr) > 0.5;
			for (p = r->report; *p && !isdigit((unsigned char)*p); p++)
				;
			if (*p) {
				nfig++;
				CHECK(atoi(p) == (int)floor(r0->hr + 0.5), "seed %llu: %s, rate without "
				    "it %.1f, with %.1f", (unsigned long long)seed, r->report, r0->hr,
				    r->hr);
			}
		}
		printf("silent %s: the truth's rate %+.2f bpm (%d of 500 moved), %d stated "
		    "rates the train's\n", e ? "PVC" : "PAC", shift, nmoved, nfig);
		CHECK(nfig > 100, "%d stated rates", nfig);
		CHECK(e || nmoved > 400, "PAC moved the rate in %d records", nmoved);
		mrt_synth_free(s);
		mrt_synth_free(s0);
	}

	/* ---- measured on the waveforms (the silent findings silent) ---- */
	{
		static const struct { uint32_t f; double hr; const char *name; } cases[] = {
			{ B(SR), 72, "SR 72" }, { B(SBRAD), 48, "SBRAD 48" },
			{ B(STACH), 120, "STACH 120" }, { B(SR), 0, "SR" },
			{ B(AFIB), 0, "AFIB" }, { B(CLBBB), 0, "CLBBB" }, { B(CRBBB), 0, "CRBBB" },
			{ B(1AVB), 65, "1AVB" }, { B(LAFB), 0, "LAFB" }, { B(AFLT), 0, "AFLT" },
			{ B(LVH), 0, "LVH" }, { B(LVOLT), 0, "LVOLT" }, { B(WPW), 70, "WPW" },
			{ B(PVC), 70, "PVC" }, { B(IMI), 70, "IMI" }, { B(ASMI), 70, "ASMI" },
			{ B(STE), 70, "STE_" }, { B(STD), 70, "STD_" }, { B(INVT), 70, "INVT" },
			{ B(IRBBB), 0, "IRBBB" },
		};
		double ref[5] = { 0 };   /* SR at 72: qavf, rv2, stmax, stmin, T area */
		double sok_sr = 0, lpp_sr = 0, cpp_sr = 0, qrs_sr = 0;
		double cv_sr = 0, cv_af = 0;
		for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
			double q[20], pr[20], ax[20], sk[20], lp[20], cp[20], cv = 0;
			double mq[20], mr[20], mx[20], mn[20], mt[20];
			int wide_pvc = 0, npvc = 0;
			int N = 20;
			mrt_synth_opts_default(&o);
			o.noise = 0;
			o.hr = cases[c].hr;
			o.silent = SILENT;
			mrt_synth_new(&s, &o);
			for (int i = 0; i < N; i++) {
				meas m;
				mrt_synth_make(s, 1000 + 17 * i + c, cases[c].f, &r);
				CHECK(r->silent == (cases[c].f & SILENT) &&
				    (mrt_report_parse(r->report) & SILENT) == 0,
				    "%s: silent %#x, report %s", cases[c].name, r->silent, r->report);
				measure(r, &m);
				CHECK(m.miss == 0 && m.extra == 0, "%s seed %d: %d beats missed, %d extra",
				    cases[c].name, i, m.miss, m.extra);
				CHECK(fabs(m.hr - r->hr) < 3, "%s: measured HR %.1f, truth %.1f",
				    cases[c].name, m.hr, r->hr);
				if (cases[c].hr > 0)
					CHECK(fabs(r->hr - cases[c].hr) < 3, "%s: truth HR %.1f, asked %.0f",
					    cases[c].name, r->hr, cases[c].hr);
				/* RBBB's net QRS areas are small (R' against S): the
				 * axis is ill-conditioned there; an ST shift from the J
				 * point adds to the measured area: wider margins */
				CHECK(fabs(remainder(m.axis - r->axis, 360)) <
				    ((cases[c].f & (B(CRBBB) | B(STE))) ? 25 : 15),
				    "%s: measured axis %.0f, truth %.0f", cases[c].name, m.axis, r->axis);
				q[i] = m.qrs;
				sk[i] = m.sokolow;
				mq[i] = m.qavf;
				mr[i] = m.rv2;
				mx[i] = m.stmax;
				mn[i] = m.stmin;
				mt[i] = m.tii;
				lp[i] = m.limbpp;
				cp[i] = m.precpp;
				/* premature ventricular beats: early and wide */
				for (int b = 0; b < r->nbeats; b++) {
					if (r->kind[b] != 'V')
						continue;
					for (int j = 0; j < m.nw; j++)
						if (m.wt[j] >= r->beat[b] && m.wt[j] < r->beat[b] + 0.2) {
							npvc++;
							wide_pvc += m.wq[j] > 120 && b > 0 &&
							    r->beat[b] - r->beat[b - 1] < 0.75 * 60 / r->hr;
						}
				}
				pr[i] = m.pr;
				ax[i] = m.axis;
				cv += m.rrcv / N;
				if (cases[c].f & B(LAFB))
					CHECK(m.axis <= -45 && m.axis >= -90, "LAFB axis %.0f", m.axis);
				else if (cases[c].f & (B(SR) | B(SBRAD) | B(STACH)))
					CHECK(m.axis > -30 && m.axis <= 90, "%s axis %.0f", cases[c].name,
					    m.axis);
			}
			printf("%-9s QRS %5.1f ms  PR %5.1f ms  axis %5.1f  RR CV %.3f\n",
			    cases[c].name, median(q, N), median(pr, N), median(ax, N), cv);
			printf("          Sokolow %.2f mV, QRS p-p limb %.2f chest %.2f mV\n",
			    median(sk, N), median(lp, N), median(cp, N));
			{
				double v[5] = { median(mq, N), median(mr, N), median(mx, N),
				    median(mn, N), median(mt, N) };
				uint32_t f = cases[c].f;
				printf("          initial aVF %.2f, V2 %.2f mV; ST %.2f..%.2f mV; "
				    "T area II+V5 %.3f mV s\n", v[0], v[1], v[3], v[2], v[4]);
				if (f == B(SR) && cases[c].hr == 72)
					memcpy(ref, v, sizeof v);
				if (f & B(IMI))
					CHECK(v[0] < -0.2 && ref[0] > -0.1, "IMI Q in aVF %.2f (SR %.2f)",
					    v[0], ref[0]);
				if (f & B(ASMI))
					CHECK(v[1] < 0.02 && ref[1] > 0.05, "ASMI initial V2 %.2f (SR %.2f)",
					    v[1], ref[1]);
				if (f & B(STE))
					CHECK(v[2] > ref[2] + 0.1, "STE ST max %.2f (SR %.2f)", v[2], ref[2]);
				if (f & B(STD))
					CHECK(v[3] < ref[3] - 0.05, "STD ST min %.2f (SR %.2f)", v[3], ref[3]);
				if (f & B(INVT))
					CHECK(v[4] < 0 && ref[4] > 0, "INVT T area %.3f (SR %.3f)", v[4], ref[4]);
			}
			if (cases[c].f == B(SR) && cases[c].hr == 0) {
				sok_sr = median(sk, N);
				lpp_sr = median(lp, N);
				cpp_sr = median(cp, N);
			}
			if (cases[c].f & B(LVH))
				CHECK(median(sk, N) > 3.5 && sok_sr < 3.5, "Sokolow LVH %.2f, SR %.2f",
				    median(sk, N), sok_sr);
			if (cases[c].f & B(LVOLT))
				CHECK(median(lp, N) < 0.5 && median(cp, N) < 1.0 && lpp_sr >= 0.5 &&
				    cpp_sr >= 1.0, "low voltage: limb %.2f chest %.2f (SR %.2f %.2f)",
				    median(lp, N), median(cp, N), lpp_sr, cpp_sr);
			if (cases[c].f & B(WPW))
				CHECK(median(pr, N) < 120, "WPW PR %.1f", median(pr, N));
			if (cases[c].f & B(PVC)) {
				printf("          %d PVCs measured, %d early and wider than 120 ms\n",
				    npvc, wide_pvc);
				CHECK(npvc >= N && wide_pvc >= 0.9 * npvc, "PVCs: %d of %d early and wide",
				    wide_pvc, npvc);
			}
			if (cases[c].f == B(SR) && cases[c].hr == 0)
				qrs_sr = median(q, N);
			if (cases[c].f & B(IRBBB))
				CHECK(median(q, N) > qrs_sr + 10 && median(q, N) < 120,
				    "IRBBB QRS %.1f ms, SR %.1f ms", median(q, N), qrs_sr);
			if (cases[c].f & (B(CLBBB) | B(CRBBB)))
				CHECK(median(q, N) > 120, "%s QRS %.1f ms", cases[c].name, median(q, N));
			else if (!(cases[c].f & B(WPW)))
				CHECK(median(q, N) < 120, "%s QRS %.1f ms", cases[c].name, median(q, N));
			if (cases[c].f & B(1AVB))
				CHECK(median(pr, N) > 200, "1AVB PR %.1f", median(pr, N));
			else if (cases[c].f & (B(SR) | B(SBRAD)))
				CHECK(median(pr, N) < 200 && median(pr, N) > 100, "%s PR %.1f",
				    cases[c].name, median(pr, N));
			if (cases[c].f == B(SR) && cases[c].hr == 0)
				cv_sr = cv;
			if (cases[c].f & B(AFIB))
				cv_af = cv;
			mrt_synth_free(s);
		}
		CHECK(cv_af > 4 * cv_sr && cv_af > 0.1, "RR CV: AFIB %.3f, SR %.3f", cv_af, cv_sr);
	}
	if (fails)
		printf("%d failures\n", fails);
	return fails != 0;
}
