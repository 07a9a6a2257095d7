/* nn_f32.c: the float build of nn_core.inc (the model everyone uses). */
#include "nn_impl.h"

#define NN_R float
#define NN_(x) nn_##x##_f
#define NN_GEMM cblas_sgemm
#include "nn_core.inc"
