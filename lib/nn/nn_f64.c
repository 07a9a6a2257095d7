/* nn_f64.c: the double build of nn_core.inc, reference for the tests. */
#include "nn/nn_impl.h"

#define NN_R double
#define NN_(x) nn_##x##_d
#define NN_GEMM cblas_dgemm
#define NN_EXP exp
#define NN_CLONES
#include "nn/nn_core.inc"
