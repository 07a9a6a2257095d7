/*
 * bench/synth: records per second of lib/synth on one core (12 leads,
 * 10 s, 500 Hz), clean and with noise, with and without int16
 * quantisation; and lib/qrs on the 12 leads of each record.
 *
 *   synth [records]      prints one RESULT line per case
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ecg/qrs.h"
#include "synth/synth.h"

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	static const struct { const char *name; unsigned noise; int qrs; } cases[] = {
		{ "clean", 0, 0 },
		{ "bw+muscle", MRT_SYNTH_BW | MRT_SYNTH_MUSCLE, 0 },
		{ "all-noise", MRT_SYNTH_ALLNOISE, 0 },
		{ "clean+qrs", 0, 1 },
	};
	static int16_t q[12 * 5000];
	static int64_t beats[512];
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		mrt_synth_opts o;
		mrt_synth *s;
		const mrt_synth_rec *r;
		double t0, dt;
		long sink = 0;
		mrt_synth_opts_default(&o);
		o.noise = cases[c].noise;
		if (mrt_synth_new(&s, &o) != 0)
			return 1;
		t0 = now();
		for (int i = 0; i < n; i++) {
			int nb;
			mrt_synth_make(s, (uint64_t)i + 1, 0, &r);
			mrt_synth_quantize(r->sig, q, 12 * 5000, 1000);
			if (cases[c].qrs)
				mrt_qrs_detect(r->sig, 12, r->samples, r->fs, beats, 512, &nb);
			sink += q[i % 60000];
		}
		dt = now() - t0;
		printf("RESULT case=%s records=%d seconds=%.4f records_per_s=%.1f sink=%ld\n",
		    cases[c].name, n, dt, n / dt, sink);
		mrt_synth_free(s);
	}
	return 0;
}
