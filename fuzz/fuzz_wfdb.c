/*
 * fuzz_wfdb: the WFDB header parser and reader (lib/io/wfdb.c) on a record
 * of several files: the input is r.hea, then files each introduced by a
 * line "\x01FILE NAME" (other headers, segments, signal files), written to a
 * scratch folder.  The record r is opened and read.
 *
 * Oracles:
 *   - what the header gives is in range (signal count, formats, samples
 *     per frame, gains, rate), and the samples decoded fit their format;
 *   - memory: wfdb.h bounds a record before anything is allocated, so the
 *     heap never holds more than the output (4 bytes a sample), one signal
 *     file, and headers (at most 16 MiB plus 16 bytes per input byte,
 *     generous for comment pointers and signal tables).
 */
#include <math.h>
#include <string.h>

#include "io/wfdb.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The range of a format's samples (format 8 and 32: any int32). */
static void
range(int fmt, int64_t *lo, int64_t *hi)
{
	int bits = 32;
	switch (fmt) {
	case 80: bits = 8; break;
	case 16: case 61: case 160: bits = 16; break;
	case 24: bits = 24; break;
	case 212: bits = 12; break;
	case 310: case 311: bits = 10; break;
	}
	*lo = -((int64_t)1 << (bits - 1));
	*hi = ((int64_t)1 << (bits - 1)) - 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512];
	mrt_wfdb *w = NULL;
	int32_t *x = NULL;
	int64_t n = 0;
	size_t base, slack = ((size_t)16 << 20) + 16 * size;
	int e;
	fz_files(data, size, "r.hea");
	snprintf(path, sizeof path, "%s/r.hea", fz_dir());
	base = fz_heap_now();
	fz_heap_reset();
	e = mrt_wfdb_open(&w, path);
	FZ_ASSERT(w != NULL, "no message");
	FZ_ASSERT(fz_heap_peak() - base <= slack, "open took %zu bytes",
	    fz_heap_peak() - base);
	if (e == 0) {
		int nsig = mrt_wfdb_nsig(w), spf = mrt_wfdb_maxspf(w);
		double fs = mrt_wfdb_fs(w);
		FZ_ASSERT(nsig >= 0 && nsig <= MRT_WFDB_MAXSIG, "nsig %d", nsig);
		FZ_ASSERT(isfinite(fs) && fs > 0, "fs %g", fs);
		FZ_ASSERT(spf >= 1 && spf <= 1000, "maxspf %d", spf);
		FZ_ASSERT(mrt_wfdb_nseg(w) >= 0 && mrt_wfdb_nseg(w) <= MRT_WFDB_MAXSEG,
		    "nseg");
		for (int i = 0; i < nsig; i++) {
			const mrt_wfdb_sig *s = mrt_wfdb_signal(w, i);
			FZ_ASSERT(s->spf >= 1 && s->spf <= spf, "spf");
			FZ_ASSERT(s->skew >= 0 && s->offset >= 0, "skew, offset");
			FZ_ASSERT(isfinite(s->gain) && s->gain > 0, "gain %g", s->gain);
			FZ_ASSERT(memchr(s->desc, 0, sizeof s->desc) &&
			    memchr(s->units, 0, sizeof s->units) &&
			    memchr(s->file, 0, sizeof s->file), "strings");
			(void)mrt_wfdb_per_mv(s->units);
		}
		for (int i = 0; i < mrt_wfdb_ncomments(w); i++)
			(void)strlen(mrt_wfdb_comment(w, i));
		(void)strlen(mrt_wfdb_name(w));
		fz_heap_reset();
		e = mrt_wfdb_read(w, &x, &n);
		FZ_ASSERT(fz_heap_peak() - base <= slack + (size_t)n * 4 * (size_t)nsig + size,
		    "reading %lld samples of %d signals took %zu bytes", (long long)n,
		    nsig, fz_heap_peak() - base);
		if (e == 0) {
			FZ_ASSERT(n >= 0 && n % spf == 0, "n %lld", (long long)n);
			FZ_ASSERT((int64_t)n * nsig * 4 <= MRT_WFDB_MAXBYTES, "over the limit");
			/* segments may mix formats: only a single segment's are known */
			for (int s = 0; s < nsig && mrt_wfdb_nseg(w) == 0; s++) {
				int64_t lo, hi;
				range(mrt_wfdb_signal(w, s)->fmt, &lo, &hi);
				for (int64_t i = 0; i < n; i++)
					FZ_ASSERT(x[s * n + i] == MRT_WFDB_INVALID ||
					    (x[s * n + i] >= lo && x[s * n + i] <= hi),
					    "signal %d (format %d) sample %lld: %d", s,
					    mrt_wfdb_signal(w, s)->fmt, (long long)i,
					    x[s * n + i]);
			}
		} else
			FZ_ASSERT(x == NULL && mrt_wfdb_errmsg(w)[0], "error path");
	}
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "r: %s, %lld samples\n", e ? mrt_wfdb_errmsg(w) : "read",
		    (long long)n);
	free(x);
	mrt_wfdb_free(w);
	fz_clear();
	return 0;
}
