/* tensor.c: element type names and sizes (see tensor.h). */
#include <string.h>

#include "core/err.h"
#include "io/tensor.h"

static const char *const dtype_names[MRT_NDTYPE] = {
	"uint8", "int8", "int16", "int32", "int64", "float32", "float64"
};
static const size_t dtype_sizes[MRT_NDTYPE] = { 1, 1, 2, 4, 8, 4, 8 };

const char *
mrt_dtype_name(mrt_dtype t)
{
	return (unsigned)t < MRT_NDTYPE ? dtype_names[t] : "?";
}

size_t
mrt_dtype_size(mrt_dtype t)
{
	return (unsigned)t < MRT_NDTYPE ? dtype_sizes[t] : 0;
}

int
mrt_dtype_parse(const char *s, size_t n)
{
	for (int i = 0; i < MRT_NDTYPE; i++)
		if (strlen(dtype_names[i]) == n && memcmp(dtype_names[i], s, n) == 0)
			return i;
	return MRT_ETYPE;
}
