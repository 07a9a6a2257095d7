/*
 * fuzz_safetensors: the safetensors reader (lib/io/safetensors.c) on the
 * input as a file, then the writer on what was read.
 *
 * Oracles: a file that opens is laid out as safetensors.h promises (the
 * tensors' bytes fill the data area exactly, each tensor's bytes readable,
 * found again by name); writing its tensors and reading them back gives
 * the same names, dtypes, shapes and bytes.
 */
#include <string.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
nbytes(const mrt_st_tensor *t)
{
	uint64_t n = mrt_dtype_size(t->dtype);
	for (int d = 0; d < t->ndim; d++)
		n *= (uint64_t)t->shape[d];
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512], copy[512], err[512];
	mrt_st *st, *st2;
	uint64_t hl = 0, total = 0;
	size_t n;
	mrt_st_tensor *t;
	snprintf(path, sizeof path, "%s", fz_write("in.safetensors", data, size));
	snprintf(copy, sizeof copy, "%s/copy.safetensors", fz_dir());
	if (mrt_st_open(&st, path, err, sizeof err) != 0) {
		FZ_ASSERT(st == NULL && err[0], "error without a message");
		fz_clear();
		return 0;
	}
	for (int i = 0; i < 8; i++)
		hl |= (uint64_t)data[i] << (8 * i);
	n = mrt_st_count(st);
	t = calloc(n + 1, sizeof *t);
	FZ_ASSERT(t != NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		mrt_st_tensor f;
		volatile unsigned char sink = 0;
		FZ_ASSERT(mrt_st_get(st, i, &t[i]) == 0, "get %zu", i);
		FZ_ASSERT((unsigned)t[i].dtype < MRT_NDTYPE && t[i].ndim >= 0 &&
		    t[i].ndim <= MRT_MAXDIM, "tensor %zu", i);
		for (uint64_t b = 0; b < nbytes(&t[i]); b++)
			sink ^= ((const unsigned char *)t[i].data)[b];
		total += nbytes(&t[i]);
		FZ_ASSERT(mrt_st_find(st, t[i].name, &f) == 0 && f.data == t[i].data,
		    "find %s", t[i].name);
	}
	FZ_ASSERT(total == size - 8 - hl, "tensors hold %llu bytes, the data area %llu",
	    (unsigned long long)total, (unsigned long long)(size - 8 - hl));
	(void)mrt_st_meta(st, "format");
	FZ_ASSERT(mrt_st_get(st, n, &t[n]) == MRT_EINVAL, "get past the end");

	if (mrt_st_write(copy, t, n, NULL, err, sizeof err) == 0) {
		FZ_ASSERT(mrt_st_open(&st2, copy, err, sizeof err) == 0, "copy: %s", err);
		FZ_ASSERT(mrt_st_count(st2) == n, "copy count");
		for (size_t i = 0; i < n; i++) {
			mrt_st_tensor c;
			FZ_ASSERT(mrt_st_find(st2, t[i].name, &c) == 0, "copy lost %s",
			    t[i].name);
			FZ_ASSERT(c.dtype == t[i].dtype && c.ndim == t[i].ndim &&
			    memcmp(c.shape, t[i].shape, sizeof c.shape[0] * c.ndim) == 0 &&
			    memcmp(c.data, t[i].data, nbytes(&c)) == 0, "copy of %s differs",
			    t[i].name);
		}
		mrt_st_free(st2);
		unlink(copy);
	} else
		FZ_ASSERT(0, "cannot write what was read: %s", err);
	free(t);
	mrt_st_free(st);
	fz_clear();
	return 0;
}
