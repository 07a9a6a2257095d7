/*
 * test_qrs: lib/qrs on MIT-BIH record 100 (lead MLII, 30 min) against its
 * reference beat annotations (.atr), with a 150 ms match window:
 * sensitivity and positive predictivity must both reach 99%.  The format
 * 212 signal and the MIT annotation file are decoded here, independently
 * of the project's WFDB reader.  Also: bad arguments, the capacity limit,
 * and a synthetic impulse train at a known rate.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecg/qrs.h"
#include "check.h"

#define DIR "tests/fixtures/mitdb/"

static unsigned char *
slurp(const char *path, long *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
	if (f == NULL) { perror(path); exit(1); }
	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	rewind(f);
	b = malloc(*len);
	if (fread(b, 1, *len, f) != (size_t)*len) { perror(path); exit(1); }
	fclose(f);
	return b;
}

/* Beat annotation codes (WFDB ecgcodes.h: NORMAL..PACE, UNKNOWN, LEARN, AESC..PFUS). */
static int
is_beat(int a)
{
	return (a >= 1 && a <= 13) || a == 16 || a == 25 || a == 30 || a == 34 ||
	    a == 35 || a == 38;
}

/* MIT-format annotations: 16-bit little-endian words, 6-bit type, 10-bit interval. */
static int
read_atr(const char *path, long *t, int cap)
{
	long len, pos = 0, time = 0;
	unsigned char *b = slurp(path, &len);
	int n = 0;
	while (pos + 2 <= len) {
		int w = b[pos] | b[pos + 1] << 8, a = w >> 10, iv = w & 0x3ff;
		pos += 2;
		if (a == 0 && iv == 0)
			break;
		if (a == 59) {          /* SKIP: 32-bit interval, high word first */
			long hi = b[pos] | b[pos + 1] << 8, lo = b[pos + 2] | b[pos + 3] << 8;
			long v = (hi << 16) | lo;
			if (v & 0x80000000L) v -= 0x100000000L;
			time += v;
			pos += 4;
		} else if (a == 63) {   /* AUX: iv bytes, padded to even */
			pos += (iv + 1) & ~1;
		} else if (a >= 60) {   /* NUM, SUB, CHN: no time */
		} else {
			time += iv;
			if (is_beat(a) && n < cap)
				t[n++] = time;
		}
	}
	free(b);
	return n;
}

int
main(void)
{
	long len, ref[4000];
	unsigned char *d = slurp(DIR "100.dat", &len);
	long ns = len / 3;            /* one frame (2 samples) in 3 bytes */
	float *x = malloc(ns * sizeof *x);
	int64_t *beats = malloc(5000 * sizeof *beats);
	int nb, nref, e, tp = 0, fp, fn;
	long w = (long)(0.15 * 360);

	for (long i = 0; i < ns; i++) {
		int s0 = d[3 * i] | (d[3 * i + 1] & 0x0f) << 8;
		if (s0 & 0x800) s0 -= 0x1000;
		x[i] = (float)((s0 - 1024) / 200.0);
	}
	CHECK(ns == 650000, "100.dat: %ld frames, want 650000", ns);
	CHECK(fabsf(x[0] - (995 - 1024) / 200.0f) < 1e-6, "first sample %g, header says 995", x[0]);
	nref = read_atr(DIR "100.atr", ref, 4000);
	CHECK(nref == 2273, "100.atr: %d beats, want 2273 (PhysioNet: 2239 N, 33 A, 1 V)", nref);

	e = mrt_qrs_detect(x, 1, ns, 360, beats, 5000, &nb);
	CHECK(e == 0, "detect: %d", e);
	/* one-to-one matching within the window, both lists in order */
	{
		int i = 0, j = 0;
		while (i < nref && j < nb) {
			long dt = (long)beats[j] - ref[i];
			if (labs(dt) <= w) { tp++; i++; j++; }
			else if (dt < 0) j++;
			else i++;
		}
	}
	fn = nref - tp;
	fp = nb - tp;
	printf("MIT-BIH 100: %d reference beats, %d detected, TP %d FN %d FP %d, "
	    "Se %.2f%% +P %.2f%%\n", nref, nb, tp, fn, fp, 100.0 * tp / nref, 100.0 * tp / nb);
	CHECK(tp >= 0.99 * nref, "sensitivity %.4f < 0.99", (double)tp / nref);
	CHECK(tp >= 0.99 * nb, "positive predictivity %.4f < 0.99", (double)tp / nb);

	/* capacity: ERANGE and exactly cap beats */
	e = mrt_qrs_detect(x, 1, 36000, 360, beats, 10, &nb);
	CHECK(e == MRT_ERANGE && nb == 10, "cap 10: e %d nb %d", e, nb);
	CHECK(mrt_qrs_detect(x, 1, 100, 20, beats, 10, &nb) == MRT_EINVAL, "fs 20 accepted");
	CHECK(mrt_qrs_detect(x, 0, 100, 360, beats, 10, &nb) == MRT_EINVAL, "0 leads accepted");

	/* synthetic: narrow triangles every 0.8 s at 500 Hz, two leads (one NaN-ridden) */
	{
		int n = 5000, m = 0;
		float *y = calloc(2 * n, sizeof *y);
		for (int k = 250; k < n; k += 400) {
			for (int j = -10; j <= 10; j++)
				y[k + j] = 1.0f - fabsf((float)j) / 10;
			m++;
		}
		for (int k = 0; k < n; k += 7)
			y[n + k] = NAN;
		e = mrt_qrs_detect(y, 2, n, 500, beats, 100, &nb);
		CHECK(e == 0 && nb == m, "impulse train: %d beats of %d (e %d)", nb, m, e);
		for (int i = 0; i < nb && i < m; i++)
			CHECK(llabs(beats[i] - (250 + 400 * i)) <= 2, "beat %d at %lld", i,
			    (long long)beats[i]);
		free(y);
	}
	free(d); free(x); free(beats);
	if (fails) printf("%d failures\n", fails);
	return fails != 0;
}
