/*
 * grow.h: growing a heap array to hold a number of elements.
 */
#ifndef MRT_GROW_H
#define MRT_GROW_H

#include <stddef.h>

/*
 * Make *p (an array of *cap elements of size bytes, NULL when *cap is 0)
 * hold at least need elements: double *cap (from 64) until it does and
 * realloc.  Returns 0, or MRT_ENOMEM with *p and *cap unchanged.
 */
int mrt_grow(void **p, size_t *cap, size_t need, size_t size);

#endif
