/*
 * stream.h: merit streams (see formats/merit-stream.5).
 *
 * A stream is zstd-compressed msgpack: a header map, one map per record,
 * a trailer map with the record count.  The reader holds one record at a
 * time: the objects it returns, and every tensor view taken from them,
 * borrow the reader's buffer and stay valid only until the next call to
 * mrt_reader_next().  Copy what must live longer.
 *
 * Tensors are maps {dtype: str, shape: [int...], data: bin}, little-endian.
 * Their data may be unaligned: read it through mrt_tensor_to_f32() and
 * friends, or memcpy, never by casting the pointer.
 */
#ifndef MRT_STREAM_H
#define MRT_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <msgpack.h>

#include "core/err.h"
#include "io/tensor.h"

#define MRT_STREAM_FORMAT  "merit-stream"
#define MRT_STREAM_VERSION 1
/* Largest record (uncompressed msgpack bytes) a reader accepts. */
#define MRT_MAX_RECORD     ((size_t)1 << 30)
/* Largest tensor element count accepted from a stream. */
#define MRT_MAX_ELEMS      ((int64_t)1 << 31)
/* Most msgpack objects in a record (every map key, value and array element
 * counts one, and so does each map and array): what msgpack-c allocates
 * for a record is bounded by this, not only by its bytes. */
#define MRT_MAX_OBJECTS    ((uint64_t)1 << 22)
/* Deepest nesting of maps and arrays in a record (the record's map is 1). */
#define MRT_MAX_DEPTH      32

/* ---- reading ---------------------------------------------------------- */

typedef struct mrt_reader mrt_reader;

/*
 * Open a reader on f (not closed by the reader).  name is used in messages.
 * Reads and checks the header; returns an error code, with details in
 * *errmsg when errmsg is not NULL (a static or reader-owned string; on
 * failure *r is NULL and *errmsg stays valid until the next open).
 */
int mrt_reader_open(mrt_reader **r, FILE *f, const char *name,
    const char **errmsg);

/*
 * Next record: returns 1 and sets *rec (a map), 0 at the end of the stream
 * (trailer seen, its end and count verified, then end of input), or a
 * negative error code.  A stream made of several streams one after another
 * (header, records, trailer, header, ...) reads as one.  Before a record is
 * returned its field names are checked to be strings other than "end", and
 * every top-level field that is a map with a "dtype" key to be a
 * well-formed tensor (data length = dtype size x shape).  The limits of a
 * record (MRT_MAX_RECORD bytes, MRT_MAX_OBJECTS objects, MRT_MAX_DEPTH
 * levels) are checked before anything is allocated for it.
 */
int mrt_reader_next(mrt_reader *r, const msgpack_object **rec);

/* The message for the last error: "record 12: tensor sig: ...". */
const char *mrt_reader_errmsg(const mrt_reader *r);
/* 1-based index of the last record returned (0 before the first). */
uint64_t mrt_reader_count(const mrt_reader *r);
/* The header map of the (first) stream. */
const msgpack_object *mrt_reader_header(const mrt_reader *r);
/* The msgpack bytes of the last record returned (borrowed). */
void mrt_reader_raw(const mrt_reader *r, const char **p, size_t *n);
void mrt_reader_free(mrt_reader *r);

/* ---- record accessors ------------------------------------------------ */
/* All return 0, MRT_ENOENT (field absent), MRT_ETYPE or MRT_ERANGE. */

const msgpack_object *mrt_rec_get(const msgpack_object *rec, const char *key);
/* A field by dotted path ("truth.findings": key findings of map truth); a
 * key holding '.' itself is found first as it is. */
const msgpack_object *mrt_rec_path(const msgpack_object *rec, const char *path);
int mrt_obj_str(const msgpack_object *o, const char **s, size_t *n);
int mrt_obj_int(const msgpack_object *o, int64_t *v);
int mrt_obj_num(const msgpack_object *o, double *v);   /* int or float */
int mrt_obj_tensor(const msgpack_object *o, mrt_tensor *t);
/* mrt_obj_tensor() that also says why a tensor is malformed (why may be NULL). */
int mrt_tensor_check(const msgpack_object *o, mrt_tensor *t, char *why,
    size_t whycap);
int mrt_rec_str(const msgpack_object *rec, const char *key,
    const char **s, size_t *n);
int mrt_rec_int(const msgpack_object *rec, const char *key, int64_t *v);
int mrt_rec_num(const msgpack_object *rec, const char *key, double *v);
int mrt_rec_tensor(const msgpack_object *rec, const char *key, mrt_tensor *t);
/* Copy the field's string into buf (NUL-terminated, cap bytes at most). */
int mrt_rec_strcpy(const msgpack_object *rec, const char *key,
    char *buf, size_t cap);

/* Convert all n elements of t (any dtype) into dst. */
void mrt_tensor_to_f32(const mrt_tensor *t, float *dst);
void mrt_tensor_to_f64(const mrt_tensor *t, double *dst);
/* Integer dtypes only (MRT_ETYPE otherwise); values must fit in int32. */
int mrt_tensor_to_i32(const mrt_tensor *t, int32_t *dst);

/*
 * The record's signal in physical units: sig [leads, samples] with the
 * record's gain and baseline (see merit-stream(5)); invalid samples (the
 * integer dtype's minimum) become NaN.  dst holds cap floats.  Sets
 * *leads and *samples; MRT_ENOMEM if cap is too small.
 */
int mrt_rec_signal_mv(const msgpack_object *rec, float *dst, size_t cap,
    int *leads, int64_t *samples);
/* The same in double: ((double)digital - baseline) / gain, not rounded. */
int mrt_rec_signal_mv64(const msgpack_object *rec, double *dst, size_t cap,
    int *leads, int64_t *samples);

/* ---- writing ---------------------------------------------------------- */

typedef struct mrt_writer mrt_writer;

/*
 * Open a writer on f (not closed by the writer): writes the header
 * {format, version, writer}.  level is the zstd level (0 = default 3).
 */
int mrt_writer_open(mrt_writer **w, FILE *f, const char *writer, int level);
/* The packer records are written with, between begin and end. */
msgpack_packer *mrt_writer_packer(mrt_writer *w);
/* Start a record map of nfields fields; pack them; then call end, which
 * refuses (MRT_ERANGE) a record over the limits a reader checks. */
int mrt_writer_begin(mrt_writer *w, uint32_t nfields);
/*
 * Start a record that copies every field of rec except those named in
 * skip (NULL-terminated list, may be NULL) and that will have nextra more
 * fields, which the caller packs before mrt_writer_end().
 */
int mrt_writer_copy(mrt_writer *w, const msgpack_object *rec,
    const char *const *skip, uint32_t nextra);
int mrt_writer_end(mrt_writer *w);
/* Write one whole record given as msgpack bytes (must be one map). */
int mrt_writer_raw(mrt_writer *w, const char *p, size_t n);
/* Records written so far. */
uint64_t mrt_writer_count(const mrt_writer *w);
/* Write the trailer, end the zstd frame and flush f.  Does not close f. */
int mrt_writer_close(mrt_writer *w);
void mrt_writer_free(mrt_writer *w);

/* Packing helpers (return 0 or MRT_EIO). */
int mrt_pack_str(msgpack_packer *pk, const char *s);
int mrt_pack_strn(msgpack_packer *pk, const char *s, size_t n);
int mrt_pack_tensor(msgpack_packer *pk, mrt_dtype dtype, int ndim,
    const int64_t *shape, const void *data);
/* key + value pairs */
int mrt_pack_kv_str(msgpack_packer *pk, const char *key, const char *val);
int mrt_pack_kv_int(msgpack_packer *pk, const char *key, int64_t val);
int mrt_pack_kv_f64(msgpack_packer *pk, const char *key, double val);
int mrt_pack_kv_tensor(msgpack_packer *pk, const char *key, mrt_dtype dtype,
    int ndim, const int64_t *shape, const void *data);
/* "gain": [1.0 x nlead], "baseline": [0 x nlead]: sig holds mV (float32). */
int mrt_pack_kv_mv_units(msgpack_packer *pk, int nlead);

#endif
