/*
 * fuzz_wfdb_signal: the WFDB signal decoder (lib/io/wfdb.c), every format,
 * with a fixed header and fuzzed signal bytes.
 *
 * Input: byte 0 picks the format and a layout (one signal; three signals
 * in one file; two signals at 2 and 1 samples per frame with a skew; one
 * signal after a 3-byte offset with a sample count in the header); bytes
 * 1-4 are the initial value (little-endian int32, format 8 adds its
 * differences to it); the rest is the signal file.
 *
 * Oracle: an independent decoder of the file's samples (each sample from
 * its bit positions, present when all of them are in the file), mapped to
 * the output as wfdb.h describes (frames, samples per frame at the record's
 * highest rate, skew dropping a signal's first frames).  Format 8 values
 * that leave the 32-bit range must be an error.
 */
#include <string.h>

#include "io/wfdb.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int fmts[] = { 8, 16, 24, 32, 61, 80, 160, 212, 310, 311 };
#define NFMT ((int)(sizeof fmts / sizeof *fmts))
#define NLAYOUT 4

struct layout {
	int nsig, spf[3], skew[3], offset, nsamp;
};

static const struct layout layouts[NLAYOUT] = {
	{ 1, { 1 }, { 0 }, 0, -1 },
	{ 3, { 1, 1, 1 }, { 0, 0, 0 }, 0, -1 },
	{ 2, { 2, 1 }, { 0, 1 }, 0, -1 },
	{ 1, { 1 }, { 0 }, 3, 5 },
};

/* Bits of sample i in format fmt: bit b of the file is byte b/8, bit b%8.
 * Returns the sample's width; pos[] gets its bits, lowest first. */
static int
bits_of(int fmt, int64_t i, int64_t *pos)
{
	int w = 0;
	int64_t g;
	switch (fmt) {
	case 8: case 80: w = 8; for (int k = 0; k < 8; k++) pos[k] = 8 * i + k; break;
	case 16: case 160: w = 16; for (int k = 0; k < 16; k++) pos[k] = 16 * i + k; break;
	case 61:   /* big-endian: the high byte first */
		w = 16;
		for (int k = 0; k < 8; k++) {
			pos[k] = 16 * i + 8 + k;
			pos[8 + k] = 16 * i + k;
		}
		break;
	case 24: w = 24; for (int k = 0; k < 24; k++) pos[k] = 24 * i + k; break;
	case 32: w = 32; for (int k = 0; k < 32; k++) pos[k] = 32 * i + k; break;
	case 212:  /* 2 samples in 3 bytes: 8 low bits in bytes 0 and 2, the
		    * high nibbles in byte 1 (low nibble: sample 0) */
		g = 24 * (i / 2);
		w = 12;
		for (int k = 0; k < 8; k++)
			pos[k] = g + (i % 2 ? 16 : 0) + k;
		for (int k = 0; k < 4; k++)
			pos[8 + k] = g + 8 + (i % 2 ? 4 : 0) + k;
		break;
	case 310:  /* 3 samples in two 16-bit words: bits 1-10 of each word,
		    * the third from their bits 11-15 (low half from word 0) */
		g = 32 * (i / 3);
		w = 10;
		for (int k = 0; k < 10; k++) {
			if (i % 3 == 0)
				pos[k] = g + 1 + k;
			else if (i % 3 == 1)
				pos[k] = g + 16 + 1 + k;
			else
				pos[k] = k < 5 ? g + 11 + k : g + 16 + 11 + (k - 5);
		}
		break;
	case 311:  /* 3 samples in a 32-bit word, 10 bits each from bit 0 */
		g = 32 * (i / 3);
		w = 10;
		for (int k = 0; k < 10; k++)
			pos[k] = g + 10 * (i % 3) + k;
		break;
	}
	return w;
}

/* Sample i of the file, or 0 with *present = 0 past its end.  Format 8
 * gives the difference. */
static int64_t
ref_sample(int fmt, const uint8_t *b, int64_t nbytes, int64_t i, int *present)
{
	int64_t pos[32], v = 0;
	int w = bits_of(fmt, i, pos);
	*present = 1;
	for (int k = 0; k < w; k++) {
		if (pos[k] / 8 >= nbytes) {
			*present = 0;
			return 0;
		}
		v |= (int64_t)(b[pos[k] / 8] >> (pos[k] % 8) & 1) << k;
	}
	switch (fmt) {
	case 80: return v == 0 ? MRT_WFDB_INVALID : v - 128;
	case 160: return v == 0 ? MRT_WFDB_INVALID : v - 32768;
	}
	if (v >> (w - 1))
		v -= (int64_t)1 << w;        /* two's complement */
	if (fmt != 8 && v == -((int64_t)1 << (w - 1)))
		return MRT_WFDB_INVALID;
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char hea[2048], path[512];
	int k, fmt, nsig, framesize = 0, maxspf = 1, maxskew = 0, e, off[3], ok = 1;
	const struct layout *L;
	int32_t init;
	const uint8_t *sig;
	int64_t nbytes, nsamples = 0, frames, nout, n;
	mrt_wfdb *w;
	int32_t *x;
	int64_t *want;
	if (size < 5)
		return 0;
	fmt = fmts[data[0] % NFMT];
	L = &layouts[data[0] / NFMT % NLAYOUT];
	memcpy(&init, data + 1, 4);
	sig = data + 5;
	nbytes = (int64_t)size - 5;
	nsig = L->nsig;
	k = snprintf(hea, sizeof hea, "r %d 250", nsig);
	if (L->nsamp >= 0)
		k += snprintf(hea + k, sizeof hea - k, " %d", L->nsamp);
	k += snprintf(hea + k, sizeof hea - k, "\n");
	for (int s = 0; s < nsig; s++) {
		k += snprintf(hea + k, sizeof hea - k, "r.dat %d", fmt);
		if (L->spf[s] > 1)
			k += snprintf(hea + k, sizeof hea - k, "x%d", L->spf[s]);
		if (L->skew[s])
			k += snprintf(hea + k, sizeof hea - k, ":%d", L->skew[s]);
		if (L->offset)
			k += snprintf(hea + k, sizeof hea - k, "+%d", L->offset);
		k += snprintf(hea + k, sizeof hea - k, " 200 12 0 %d 0 0 s%d\n",
		    (int)init, s);
		off[s] = framesize;
		framesize += L->spf[s];
		maxspf = L->spf[s] > maxspf ? L->spf[s] : maxspf;
		maxskew = L->skew[s] > maxskew ? L->skew[s] : maxskew;
	}
	fz_write("r.dat", sig, (size_t)nbytes);
	snprintf(path, sizeof path, "%s", fz_write("r.hea", hea, (size_t)k));

	/* the reference: samples present in the file after the offset */
	{
		int present = 1;
		int64_t body = nbytes - L->offset > 0 ? nbytes - L->offset : 0;
		while (1) {
			(void)ref_sample(fmt, sig + L->offset, body, nsamples, &present);
			if (!present)
				break;
			nsamples++;
		}
	}
	frames = nsamples / framesize;
	if (L->nsamp >= 0 && frames >= L->nsamp)
		frames = L->nsamp;
	nout = frames > maxskew ? frames - maxskew : 0;
	want = calloc((size_t)(nsig * nout * maxspf + 1), sizeof *want);
	FZ_ASSERT(want != NULL, "out of memory");
	{
		int64_t acc[3] = { init, init, init };
		int64_t body = nbytes - L->offset > 0 ? nbytes - L->offset : 0;
		for (int64_t f = 0; f < frames; f++)
			for (int s = 0; s < nsig; s++)
				for (int q = 0; q < L->spf[s]; q++) {
					int present;
					int64_t v = ref_sample(fmt, sig + L->offset, body,
					    f * framesize + off[s] + q, &present);
					if (fmt == 8) {
						v = acc[s] += v;
						if (v <= INT32_MIN || v > INT32_MAX)
							ok = 0;
					}
					if (f - L->skew[s] < 0 || f - L->skew[s] >= nout)
						continue;
					for (int m = 0; m < maxspf; m++)
						if (m * L->spf[s] / maxspf == q)
							want[s * nout * maxspf +
							    (f - L->skew[s]) * maxspf + m] = v;
				}
	}

	e = mrt_wfdb_open(&w, path);
	FZ_ASSERT(e == 0, "header: %s", mrt_wfdb_errmsg(w));
	e = mrt_wfdb_read(w, &x, &n);
	if (L->nsamp >= 0 && nsamples / framesize < L->nsamp) {
		FZ_ASSERT(e == MRT_ETRUNC, "a file shorter than the header says: %d %s",
		    e, mrt_wfdb_errmsg(w));
	} else if (!ok) {
		FZ_ASSERT(e < 0, "format 8 differences past the 32-bit range decoded "
		    "without an error");
	} else {
		FZ_ASSERT(e == 0, "read: %s", mrt_wfdb_errmsg(w));
		FZ_ASSERT(n == nout * maxspf, "%lld samples per signal, expected %lld",
		    (long long)n, (long long)(nout * maxspf));
		for (int s = 0; s < nsig; s++)
			for (int64_t i = 0; i < n; i++)
				FZ_ASSERT(x[s * n + i] == want[s * n + i],
				    "format %d signal %d sample %lld: %d, expected %lld",
				    fmt, s, (long long)i, x[s * n + i],
				    (long long)want[s * n + i]);
	}
	free(x);
	free(want);
	mrt_wfdb_free(w);
	fz_clear();
	return 0;
}
