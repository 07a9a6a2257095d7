/*
 * mkstream N SAMPLES: write N ECG-shaped records (12 leads of int16 with
 * beats, baseline drift and noise, so they compress like real ECGs) as a
 * merit stream on stdout.  For the stream benchmarks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rng.h"
#include "ecg/leads.h"
#include "io/stream.h"

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000, S = argc > 2 ? atol(argv[2]) : 5000;
	int16_t *sig = malloc(12 * S * sizeof *sig);
	mrt_writer *w;
	mrt_rng rng;
	mrt_rng_seed(&rng, 1);
	if (sig == NULL || mrt_writer_open(&w, stdout, "mkstream", 3) != 0)
		return 1;
	for (long r = 0; r < n; r++) {
		msgpack_packer *pk = mrt_writer_packer(w);
		int64_t shape[2] = { 12, S };
		char id[32];
		double rr = 0.6 + 0.4 * mrt_rng_uniform(&rng);
		for (int l = 0; l < 12; l++) {
			double amp = 800 + 600 * mrt_rng_uniform(&rng), drift = 0;
			for (long i = 0; i < S; i++) {
				double t = fmod(i / 500.0, rr) - 0.3 * rr;
				drift += mrt_rng_normal(&rng) * 0.5;
				sig[l * S + i] = (int16_t)(amp * exp(-t * t / 0.0002) +
				    150 * exp(-(t - 0.25) * (t - 0.25) / 0.003) +
				    drift + 8 * mrt_rng_normal(&rng));
			}
		}
		snprintf(id, sizeof id, "bench%06ld", r);
		mrt_writer_begin(w, 7);
		mrt_pack_kv_str(pk, "id", id);
		mrt_pack_kv_f64(pk, "fs", 500);
		mrt_pack_str(pk, "leads");
		msgpack_pack_array(pk, 12);
		for (int l = 0; l < 12; l++)
			mrt_pack_str(pk, mrt_leads_name(l));
		mrt_pack_kv_tensor(pk, "sig", MRT_I16, 2, shape, sig);
		mrt_pack_str(pk, "gain");
		msgpack_pack_array(pk, 12);
		for (int l = 0; l < 12; l++)
			msgpack_pack_double(pk, 1000);
		mrt_pack_kv_int(pk, "fold", r % 10 + 1);
		mrt_pack_kv_str(pk, "report", "sinus rhythm. normal ecg.");
		if (mrt_writer_end(w) != 0)
			return 1;
	}
	if (mrt_writer_close(w) != 0)
		return 1;
	mrt_writer_free(w);
	free(sig);
	return fclose(stdout) != 0;
}
