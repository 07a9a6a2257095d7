/*
 * tensor.h: element types and borrowed tensor views, shared by merit
 * streams (stream.h) and safetensors checkpoints (safetensors.h).
 */
#ifndef MRT_TENSOR_H
#define MRT_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define MRT_MAXDIM         8

typedef enum {
	MRT_U8, MRT_I8, MRT_I16, MRT_I32, MRT_I64, MRT_F32, MRT_F64,
	MRT_NDTYPE
} mrt_dtype;

/* A view of a tensor in a record: data is borrowed, maybe unaligned. */
typedef struct {
	mrt_dtype dtype;
	int ndim;
	int64_t shape[MRT_MAXDIM];
	int64_t n;          /* element count: product of shape */
	const void *data;   /* n * mrt_dtype_size(dtype) bytes */
} mrt_tensor;

const char *mrt_dtype_name(mrt_dtype t);             /* "float32" */
int mrt_dtype_parse(const char *s, size_t n);        /* dtype or <0 */
size_t mrt_dtype_size(mrt_dtype t);

#endif
