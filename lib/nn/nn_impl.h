/*
 * nn_impl.h: internals of lib/nn shared by nn.c, nn_io.c and the tests.
 *
 * The layers and the model are written once, typed by a macro, in
 * nn_core.inc and compiled twice: nn_f32.c (float, the model everyone
 * uses) and nn_f64.c (double, the reference of the gradient tests).  Both
 * lay parameters out by the same table (nn_table), so a flat copy converts
 * one into the other.
 */
#ifndef MRT_NN_IMPL_H
#define MRT_NN_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"

#define NN_MAXLAYERS 32
#define NN_NAMELEN   48

enum { NN_SHARED, NN_REC, NN_CMA };                  /* branch of a tensor */
enum { NN_INIT_NORMAL, NN_INIT_ZERO, NN_INIT_ONE, NN_INIT_LOGIT };

typedef struct {
	char name[NN_NAMELEN];
	int ndim;
	int64_t shape[2];
	size_t off, n;          /* in elements, into the parameter block */
	int decay;              /* 2-D tensor named *.weight */
	int branch;             /* NN_SHARED, NN_REC, NN_CMA */
	int init;               /* NN_INIT_* */
} nn_entry;

typedef struct {
	nn_entry *e;
	size_t n, cap;
	size_t total;           /* elements */
} nn_table;

void nn_table_free(nn_table *t);
int nn_round_half_away(double x);
/* The float build's vectorisable exp (nn_f32.c). */
float nn_expf_fast(float x);

#define NN_R float
#define NN_(x) nn_##x##_f
#include "nn/nn_types.inc"
#undef NN_R
#undef NN_

#define NN_R double
#define NN_(x) nn_##x##_d
#include "nn/nn_types.inc"
#undef NN_R
#undef NN_

#endif
