/*
 * fuzz_checkpoint: a weights file loaded into a model (mrt_nn_open of
 * lib/nn/nn.h: config from the metadata and shapes, model, weights), then
 * one record encoded.
 *
 * Oracles: a checkpoint that loads holds finite weights only; the model it
 * makes takes memory in proportion to the file (at most 64 MiB plus 16
 * bytes per byte of checkpoint); where encoding gives a finite h, e is
 * W h / |W h| (unit length), or 0 where |W h| < 1e-12, with W from the
 * checkpoint.  (Finite weights may still overflow float on the way to h,
 * a bias of 1e20 squared in a LayerNorm for instance: h is then NaN, or 0
 * through an infinite variance, merit-checkpoint(5).)
 */
#include <math.h>
#include <string.h>

#include "nn/nn.h"
#include "common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mrt_nn_set_threads(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	mrt_nn_model *m;
	const char *path = fz_write("w.safetensors", data, size);
	size_t base = fz_heap_now(), bound = ((size_t)64 << 20) + 16 * size;
	int rc;
	fz_heap_reset();
	rc = mrt_nn_open(&m, path, NULL, 1, 0, err, sizeof err);
	FZ_ASSERT(fz_heap_peak() - base <= bound, "a checkpoint of %zu bytes took %zu "
	    "bytes to load", size, fz_heap_peak() - base);
	if (rc == 0) {
		const mrt_nn_config *c = mrt_nn_get_config(m);
		size_t S = (size_t)c->leads * (size_t)c->samples;
		float *sig = malloc(S * sizeof *sig), e[4096], h[65536], *W = NULL;
		for (size_t i = 0; i < mrt_nn_ntensors(m); i++) {
			const char *name;
			int nd;
			int64_t sh[2];
			float *d, *g;
			FZ_ASSERT(mrt_nn_tensor(m, i, &name, &nd, sh, &d, &g) == 0, "tensor");
			for (int64_t k = 0; k < (nd == 2 ? sh[0] * sh[1] : sh[0]); k++)
				FZ_ASSERT(isfinite(d[k]), "%s[%lld] = %g "
				    "loaded without complaint", name, (long long)k,
				    d[k]);
			if (!strcmp(name, "ecg.proj.weight"))
				W = d;
		}
		FZ_ASSERT(sig != NULL, "out of memory");
		for (size_t i = 0; i < S; i++)
			sig[i] = (float)sin(0.01 * (double)i);
		if (c->proj <= 4096 && c->ecg_d <= 65536 &&
		    mrt_nn_encode_ecg(m, sig, NULL, 1, h, e) == 0) {
			double norm = 0, wh = 0;
			int finite = 1;
			FZ_ASSERT(W != NULL, "no ecg.proj.weight");
			for (int j = 0; j < c->ecg_d; j++)
				finite &= isfinite(h[j]) != 0;
			for (int i = 0; i < c->proj && finite; i++) {
				double a = 0;
				for (int j = 0; j < c->ecg_d; j++)
					a += (double)W[(size_t)i * c->ecg_d + j] * h[j];
				wh += a * a;
				norm += (double)e[i] * e[i];
			}
			if (finite && sqrt(wh) >= 1e-12)
				FZ_ASSERT(fabs(norm - 1) < 1e-3, "|e|^2 = %g, |W h| %g", norm,
				    sqrt(wh));
			else if (finite)
				FZ_ASSERT(norm == 0, "|e|^2 = %g, |W h| %g", norm, sqrt(wh));
		}
		free(sig);
		mrt_nn_free(m);
	} else
		FZ_ASSERT(err[0], "error without a message");
	fz_clear();
	return 0;
}
