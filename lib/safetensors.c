/* safetensors.c: placeholder until the implementation lands (minutes). */
#include <stdio.h>
#include <stdlib.h>

#include "safetensors.h"

int
mrt_st_write(const char *path, const mrt_st_tensor *t, size_t n,
	     const char *const *meta, char *err, size_t errcap)
{
	(void)t; (void)n; (void)meta;
	if (err && errcap)
		snprintf(err, errcap, "%s: safetensors writer not implemented yet", path);
	return MRT_EINVAL;
}

int
mrt_st_open(mrt_st **st, const char *path, char *err, size_t errcap)
{
	*st = NULL;
	if (err && errcap)
		snprintf(err, errcap, "%s: safetensors reader not implemented yet", path);
	return MRT_EINVAL;
}

size_t mrt_st_count(const mrt_st *st) { (void)st; return 0; }
int mrt_st_get(const mrt_st *st, size_t i, mrt_st_tensor *out) { (void)st; (void)i; (void)out; return MRT_EINVAL; }
int mrt_st_find(const mrt_st *st, const char *name, mrt_st_tensor *out) { (void)st; (void)name; (void)out; return MRT_ENOENT; }
const char *mrt_st_meta(const mrt_st *st, const char *key) { (void)st; (void)key; return NULL; }
void mrt_st_free(mrt_st *st) { (void)st; }
