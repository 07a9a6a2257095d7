/*
 * safetensors.h: read and write safetensors files (formats/merit-checkpoint.5).
 *
 * A safetensors file is an 8-byte little-endian header length N, N bytes of
 * JSON (an object: tensor name -> {"dtype", "shape", "data_offsets"}, plus an
 * optional "__metadata__" object of string -> string), then the data area.
 * Files written here pad the header with spaces so the data area starts on an
 * 8-byte boundary and store the tensors little-endian, back to back (no holes,
 * as the format requires), largest element size first and otherwise in the
 * order given, so each tensor starts at a multiple of its element size; they
 * are written atomically.
 *
 * Supported dtypes: F32, F64, I64, I32, I16, I8, U8 (mrt_dtype of tensor.h).
 */
#ifndef MRT_SAFETENSORS_H
#define MRT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "io/tensor.h"

/* Largest header accepted by the reader (bytes of JSON). */
#define MRT_ST_MAX_HEADER ((uint64_t)100 << 20)
/* Largest file accepted by the reader. */
#define MRT_ST_MAX_FILE   ((uint64_t)4 << 30)

/*
 * A tensor: name, dtype, shape and data (product of shape elements of
 * mrt_dtype_size(dtype) bytes, native order).  From mrt_st_get/mrt_st_find,
 * name and data are borrowed from the mrt_st and live until mrt_st_free.
 * The file is held in a malloc'd buffer whose data area starts 8-byte aligned
 * when the header length is a multiple of 8, so in files written here every
 * tensor's data is aligned to its element size; files written by other
 * programs may place a tensor at any offset, so callers that cannot rely on
 * the file's origin memcpy the data out.  Data is little-endian as stored
 * (this module supports little-endian hosts only).
 */
typedef struct {
	const char *name;
	mrt_dtype dtype;
	int ndim;
	int64_t shape[MRT_MAXDIM];
	const void *data;
} mrt_st_tensor;

/*
 * Write n tensors to path.  meta is NULL or a list key, value, key, value,
 * ..., NULL of strings stored in "__metadata__".  The file is written to a
 * temporary file beside path, fsync'ed, then renamed over path: on failure
 * path is left as it was and no temporary file remains.  The header JSON is
 * produced by jansson.  Returns 0 or an error code; a message goes to err
 * (errcap bytes, may be NULL/0).
 */
int mrt_st_write(const char *path, const mrt_st_tensor *t, size_t n,
		 const char *const *meta, char *err, size_t errcap);

typedef struct mrt_st mrt_st;

/*
 * Read the whole file at path (at most MRT_ST_MAX_FILE bytes) and validate
 * it: header length, JSON, metadata (strings only), each tensor's dtype,
 * shape and data_offsets (consistent with dtype x shape, inside the data
 * area, no overlaps, no holes), duplicate names.  On success *st holds the
 * file; on failure *st is NULL, err holds a message and the return is
 * MRT_EIO, MRT_ENOMEM, MRT_ETRUNC, MRT_EFORMAT, MRT_ETYPE, MRT_ERANGE or
 * MRT_ESHAPE.
 */
int mrt_st_open(mrt_st **st, const char *path, char *err, size_t errcap);

/* Number of tensors (metadata not counted). */
size_t mrt_st_count(const mrt_st *st);

/* Tensor i (0 <= i < count) in the order of the data area: 0 or MRT_EINVAL. */
int mrt_st_get(const mrt_st *st, size_t i, mrt_st_tensor *out);

/* Tensor by name: 0 or MRT_ENOENT. */
int mrt_st_find(const mrt_st *st, const char *name, mrt_st_tensor *out);

/* Metadata value for key, or NULL if absent (borrowed from st). */
const char *mrt_st_meta(const mrt_st *st, const char *key);

/* Call fn(ctx, key, value) for every metadata entry (strings borrowed from
 * st), stopping at the first non-zero return, which it returns; 0 after
 * the last. */
int mrt_st_meta_each(const mrt_st *st, int (*fn)(void *ctx, const char *key, const char *value),
		     void *ctx);

/* Free st (NULL allowed). */
void mrt_st_free(mrt_st *st);

#endif
