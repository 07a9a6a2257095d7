/*
 * fuzz_pydict: PTB-XL's scp_codes dict parser (mrt_csv_pydict).
 *
 * Oracles: a parse that succeeds calls back with keys of at most 255 bytes
 * that occur in the input, in input order; stopping from the callback stops
 * the parse with its code.
 */
#include <string.h>

#include "io/csv.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen { const char *text; int n, stop; };

static int
cb(void *ctx, const char *key, double v)
{
	struct seen *s = ctx;
	(void)v;
	FZ_ASSERT(strlen(key) <= 255, "key of %zu bytes", strlen(key));
	s->n++;
	if (s->stop && s->n == s->stop)
		return 7;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct seen a = { 0 }, b = { 0 };
	int e1, e2;
	FZ_ASSERT(s != NULL, "out of memory");
	memcpy(s, data, size);
	s[size] = 0;
	a.text = b.text = s;
	e1 = mrt_csv_pydict(s, cb, &a);
	FZ_ASSERT(e1 == 0 || e1 == MRT_EFORMAT || e1 == MRT_ERANGE, "code %d", e1);
	if (a.n > 0) {
		b.stop = 1;
		e2 = mrt_csv_pydict(s, cb, &b);
		FZ_ASSERT(e2 == 7 && b.n == 1, "stop: %d after %d", e2, b.n);
	}
	free(s);
	return 0;
}
