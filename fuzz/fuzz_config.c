/*
 * fuzz_config: merit-step's --config parser (read_config) and the model it
 * sizes.  filters/merit-step/config.c is compiled into this harness
 * (flt_die() returns here, see common.c).
 *
 * Oracles: a config that mrt_nn_config_check() accepts makes a model
 * (inference only, batch 1) within the parameter limit's 1 GiB and 64 MiB
 * more; where the model is small enough to try, a training model of batch
 * 1 takes no more than nn_config_sizes() says (4 floats a parameter:
 * weights, gradients, Adam moments; the activations) and 1 MiB; a refused
 * config says why.
 */
#include <math.h>
#include <string.h>

#include "cli/filter.h"
#include "nn/internal.h"
#include "common.h"

/* read_config() leaves its file open when it dies: close it here */
static FILE *cfg_file;

static FILE *
cfg_fopen(const char *path, const char *mode)
{
	return cfg_file = fopen(path, mode);
}

static int
cfg_fclose(FILE *f)
{
	if (f == cfg_file)
		cfg_file = NULL;
	return fclose(f);
}

#define fopen cfg_fopen
#define fclose cfg_fclose
#include "../filters/merit-step/config.c"
#undef fopen
#undef fclose

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
	static mrt_nn_config c;
	char msg[256];
	const char *path = fz_write("model.conf", data, size);
	size_t base = fz_heap_now();
	memset(&c, 0, sizeof c);
	mrt_nn_preset("merit-xs", &c);
	fz_die_set = 1;
	if (setjmp(fz_die_jmp) == 0) {
		read_config(path, &c);
		fz_die_set = 0;
		if (mrt_nn_config_check(&c, msg, sizeof msg) == 0) {
			mrt_nn_model *m = NULL;
			double params, acts, train;
			fz_heap_reset();
			int rc = mrt_nn_new(&m, &c, 1, 0);
			FZ_ASSERT(fz_heap_peak() - base <= (size_t)MRT_NN_MAXPARAMS * 4 +
			    ((size_t)64 << 20), "a config that passes its check took %zu "
			    "bytes", fz_heap_peak() - base);
			FZ_ASSERT(rc == 0 || rc == MRT_ENOMEM, "mrt_nn_new: %d", rc);
			mrt_nn_free(m);
			nn_config_sizes(&c, &params, &acts);
			train = 4 * (4 * params + acts);
			if (train <= (64 << 20)) {
				fz_heap_reset();
				rc = mrt_nn_new(&m, &c, 1, MRT_NN_TRAIN);
				FZ_ASSERT(fz_heap_peak() - base <= (size_t)train + (1 << 20),
				    "training took %zu bytes, estimated %.0f",
				    fz_heap_peak() - base, train);
				FZ_ASSERT(rc == 0, "mrt_nn_new: %d", rc);
				mrt_nn_free(m);
			}
		} else
			FZ_ASSERT(msg[0], "refused without a reason");
	}
	fz_die_set = 0;
	if (cfg_file != NULL)
		cfg_fclose(cfg_file);
	fz_clear();
	return 0;
}
