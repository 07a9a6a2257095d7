/*
 * fuzz_dump: ecg-dump's JSON writer over the records of a stream.
 * filters/ecg-dump.c is compiled into this harness with its main renamed.
 *
 * Input: msgpack, compressed by the harness into a stream (as in
 * fuzz_stream).  Every record and the header are written with and without
 * -a.
 *
 * Oracle: each line ecg-dump writes is one JSON object (jansson, strict but
 * for two things JSON allows and jansson does not by default: NUL in
 * strings, integers past int64).
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <zstd.h>

#include "cli/filter.h"
#include "common.h"

#define main ecg_dump_main
#include "../filters/ecg-dump.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
dump_one(const msgpack_object *o, int all)
{
	struct opts op = { all, 0 };
	char *buf = NULL;
	size_t len = 0;
	json_error_t je;
	json_t *j;
	out = open_memstream(&buf, &len);
	FZ_ASSERT(out != NULL, "open_memstream");
	put_obj(o, &op);
	fclose(out);
	out = NULL;
	j = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL |
	    JSON_DECODE_INT_AS_REAL, &je);
	FZ_ASSERT(j != NULL, "ecg-dump%s wrote a line that is not JSON (%s at %d): %.200s",
	    all ? " -a" : "", je.text, je.position, buf);
	FZ_ASSERT(json_is_object(j) || o->type != MSGPACK_OBJECT_MAP, "not an object");
	json_decref(j);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap = ZSTD_compressBound(size), nz;
	uint8_t *z = malloc(cap);
	FILE *f;
	mrt_reader *r;
	const msgpack_object *rec;
	FZ_ASSERT(z != NULL, "out of memory");
	nz = ZSTD_compress(z, cap, data, size, 1);
	FZ_ASSERT(!ZSTD_isError(nz), "zstd");
	f = fmemopen(z, nz, "rb");
	FZ_ASSERT(f != NULL, "fmemopen");
	if (mrt_reader_open(&r, f, "fuzz", NULL) == 0) {
		dump_one(mrt_reader_header(r), 0);
		while (mrt_reader_next(r, &rec) == 1) {
			dump_one(rec, 0);
			dump_one(rec, 1);
		}
		mrt_reader_free(r);
	}
	fclose(f);
	free(z);
	return 0;
}
