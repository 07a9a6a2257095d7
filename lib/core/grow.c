/* grow.c: see grow.h. */
#include <stdint.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/grow.h"

int
mrt_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;
	void *q;
	if (need <= *cap)
		return 0;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return MRT_ENOMEM;
		c *= 2;
	}
	if (size && c > SIZE_MAX / size)
		return MRT_ENOMEM;
	if ((q = realloc(*p, c * size)) == NULL)
		return MRT_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}
