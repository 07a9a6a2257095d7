/* nn_model.h: the model struct behind mrt_nn_model (nn.c, nn_io.c). */
#ifndef MRT_NN_MODEL_H
#define MRT_NN_MODEL_H

#include "nn/nn_impl.h"
#include "core/rng.h"

struct mrt_nn_model {
	nn_net_f *net;
	float *m, *v;           /* Adam moments, NULL without MRT_NN_TRAIN */
	long step;
	struct mrt_st *st;      /* last loaded weights file (its metadata) */
	char err[256];
};

void nn_meta_clear(mrt_nn_model *m);

#endif
