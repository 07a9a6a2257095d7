/*
 * fuzz_vocab: the vocabulary reader (mrt_bpe_parse of lib/text/bpe.c),
 * then encoding, decoding and saving with what it read.
 *
 * Input: a vocabulary file, optionally followed by a NUL byte and a text
 * to encode (without one, the file itself is the text).
 *
 * Oracles: a vocabulary that loads is consistent (every merge's bytes are
 * its parts' bytes); decode(encode(text)) is the normalised text; saving
 * and loading again gives the same vocabulary, in a file whose mode is
 * 0666 less the umask like every other output.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text/bpe.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t vn = nul ? (size_t)(nul - data) : size;
	const char *text = nul ? (const char *)nul + 1 : (const char *)data;
	size_t tn = nul ? size - vn - 1 : size;
	char err[256], path[512];
	mrt_bpe *b, *b2;
	int32_t *ids;
	char *norm, *dec;
	int n, len;
	struct stat st;
	mode_t mask;
	if (mrt_bpe_parse(&b, (const char *)data, vn, err, sizeof err) != 0) {
		FZ_ASSERT(b == NULL && strncmp(err, "line ", 5) == 0, "message: %s", err);
		return 0;
	}
	n = mrt_bpe_size(b);
	FZ_ASSERT(n >= MRT_BPE_NBASE && n <= MRT_BPE_MAX_SIZE, "size %d", n);
	for (int id = MRT_BPE_NBASE; id < n; id++) {
		int l, r;
		size_t nl, nr, ni;
		const unsigned char *pi = mrt_bpe_bytes(b, id, &ni), *pl, *pr;
		FZ_ASSERT(mrt_bpe_merge(b, id, &l, &r) == 0 && l < id && r < id, "merge %d", id);
		pl = mrt_bpe_bytes(b, l, &nl);
		pr = mrt_bpe_bytes(b, r, &nr);
		FZ_ASSERT(ni == nl + nr && memcmp(pi, pl, nl) == 0 &&
		    memcmp(pi + nl, pr, nr) == 0, "merge %d bytes", id);
	}
	len = (int)(tn + 2 < 4096 ? tn + 2 : 4096);
	ids = malloc((size_t)len * sizeof *ids);
	norm = malloc(tn + 1);
	dec = malloc(tn + 1);
	FZ_ASSERT(ids && norm && dec, "out of memory");
	{
		int total = mrt_bpe_encode(b, text, tn, ids, len);
		size_t nn = mrt_bpe_normalise(text, tn, norm);
		FZ_ASSERT(total >= 2, "encode: %d", total);
		FZ_ASSERT(ids[0] == MRT_BPE_CLS, "first id");
		if (total <= len) {
			long d = mrt_bpe_decode(b, ids, (size_t)total, dec, tn + 1);
			FZ_ASSERT(ids[total - 1] == MRT_BPE_SEP, "last id");
			FZ_ASSERT(d == (long)nn && memcmp(dec, norm, nn) == 0,
			    "decode(encode(t)) != normalise(t)");
		} else
			FZ_ASSERT(ids[len - 1] == MRT_BPE_SEP, "truncated without [SEP]");
	}
	snprintf(path, sizeof path, "%s/vocab", fz_dir());
	mask = umask(022);
	umask(mask);
	FZ_ASSERT(mrt_bpe_save(b, path) == 0, "save");
	FZ_ASSERT(stat(path, &st) == 0 && (st.st_mode & 0777) == (0666 & ~mask),
	    "a vocabulary file of mode %03o, umask %03o", st.st_mode & 0777, mask);
	FZ_ASSERT(mrt_bpe_load(&b2, path, err, sizeof err) == 0, "reload: %s", err);
	FZ_ASSERT(mrt_bpe_size(b2) == n, "reload size");
	for (int id = MRT_BPE_BYTE0; id < n; id++) {
		size_t n1, n2;
		const unsigned char *p1 = mrt_bpe_bytes(b, id, &n1);
		const unsigned char *p2 = mrt_bpe_bytes(b2, id, &n2);
		FZ_ASSERT(n1 == n2 && memcmp(p1, p2, n1) == 0, "reload entry %d", id);
	}
	unlink(path);
	mrt_bpe_free(b2);
	mrt_bpe_free(b);
	free(ids);
	free(norm);
	free(dec);
	return 0;
}
