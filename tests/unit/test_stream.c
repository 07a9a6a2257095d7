/*
 * test_stream: the stream reader and writer through memory files, the
 * accessors on well- and ill-formed records, and signal conversion.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "io/stream.h"
#include "check.h"


/* Write n records with a tensor each into a memory buffer. */
static char *
write_stream(int n, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	mrt_writer *w;
	CHECK(mrt_writer_open(&w, f, "test", 1) == 0);
	for (int i = 0; i < n; i++) {
		int16_t sig[2 * 3] = { 1, 2, 3, -4, INT16_MIN, (int16_t)i };
		int64_t shape[2] = { 2, 3 };
		msgpack_packer *pk = mrt_writer_packer(w);
		char id[16];
		snprintf(id, sizeof id, "r%d", i);
		CHECK(mrt_writer_begin(w, 5) == 0);
		mrt_pack_kv_str(pk, "id", id);
		mrt_pack_kv_int(pk, "fold", i % 10 + 1);
		mrt_pack_kv_f64(pk, "fs", 500.0);
		mrt_pack_kv_tensor(pk, "sig", MRT_I16, 2, shape, sig);
		mrt_pack_str(pk, "gain");
		msgpack_pack_array(pk, 2);
		msgpack_pack_double(pk, 1000.0);
		msgpack_pack_double(pk, 200.0);
		CHECK(mrt_writer_end(w) == 0);
	}
	CHECK(mrt_writer_count(w) == (uint64_t)n);
	CHECK(mrt_writer_close(w) == 0);
	mrt_writer_free(w);
	fclose(f);
	return buf;
}

static void
test_roundtrip(void)
{
	size_t len;
	char *buf = write_stream(300, &len);
	FILE *f = fmemopen(buf, len, "rb");
	mrt_reader *r;
	const msgpack_object *rec;
	int n = 0;
	CHECK(mrt_reader_open(&r, f, "mem", NULL) == 0);
	while (mrt_reader_next(r, &rec) == 1) {
		char id[16], want[16];
		int64_t fold;
		double fs;
		mrt_tensor t;
		float mv[6];
		int leads;
		int64_t samples;
		snprintf(want, sizeof want, "r%d", n);
		CHECK(mrt_rec_strcpy(rec, "id", id, sizeof id) == 0 && strcmp(id, want) == 0);
		CHECK(mrt_rec_int(rec, "fold", &fold) == 0 && fold == n % 10 + 1);
		CHECK(mrt_rec_num(rec, "fs", &fs) == 0 && fs == 500.0);
		CHECK(mrt_rec_tensor(rec, "sig", &t) == 0 && t.dtype == MRT_I16 &&
		    t.ndim == 2 && t.shape[0] == 2 && t.shape[1] == 3 && t.n == 6);
		CHECK(mrt_rec_signal_mv(rec, mv, 6, &leads, &samples) == 0);
		CHECK(leads == 2 && samples == 3);
		CHECK(mv[0] == 0.001f && mv[2] == 0.003f && mv[3] == -4 / 200.0f);
		CHECK(isnan(mv[4]) && mv[5] == (float)(n / 200.0));
		CHECK(mrt_rec_signal_mv(rec, mv, 5, &leads, &samples) == MRT_ENOMEM);
		/* wrong types and absent fields */
		CHECK(mrt_rec_int(rec, "id", &fold) == MRT_ETYPE);
		CHECK(mrt_rec_int(rec, "nope", &fold) == MRT_ENOENT);
		CHECK(mrt_rec_tensor(rec, "id", &t) == MRT_ETYPE);
		CHECK(mrt_rec_strcpy(rec, "id", id, 2) == MRT_ERANGE);
		n++;
	}
	CHECK(n == 300);
	CHECK(mrt_reader_count(r) == 300);
	CHECK(mrt_reader_next(r, &rec) == 0);
	mrt_reader_free(r);
	fclose(f);
	free(buf);
}

/* Every prefix of a stream is an error, never a crash or a success. */
static void
test_truncations(void)
{
	size_t len;
	char *buf = write_stream(3, &len);
	for (size_t cut = 0; cut < len; cut++) {
		FILE *f = fmemopen(buf, cut ? cut : 1, "rb");
		mrt_reader *r;
		const msgpack_object *rec;
		const char *msg;
		int e;
		if (cut == 0) {   /* fmemopen cannot be empty: read /dev/null */
			fclose(f);
			f = fopen("/dev/null", "rb");
		}
		e = mrt_reader_open(&r, f, "mem", &msg);
		if (e == 0) {
			while ((e = mrt_reader_next(r, &rec)) == 1)
				;
			mrt_reader_free(r);
		}
		CHECK(e < 0);
		fclose(f);
	}
	free(buf);
}

/* Records copied with mrt_writer_copy keep unknown fields. */
static void
test_copy(void)
{
	size_t len, len2;
	char *buf = write_stream(2, &len), *out = NULL;
	FILE *f = fmemopen(buf, len, "rb"), *g = open_memstream(&out, &len2);
	mrt_reader *r;
	mrt_writer *w;
	const msgpack_object *rec;
	static const char *const skip[] = { "fold", NULL };
	CHECK(mrt_reader_open(&r, f, "mem", NULL) == 0);
	CHECK(mrt_writer_open(&w, g, "test", 1) == 0);
	while (mrt_reader_next(r, &rec) == 1) {
		CHECK(mrt_writer_copy(w, rec, skip, 1) == 0);
		mrt_pack_kv_int(mrt_writer_packer(w), "fold", 42);
		CHECK(mrt_writer_end(w) == 0);
	}
	CHECK(mrt_writer_close(w) == 0);
	mrt_writer_free(w);
	mrt_reader_free(r);
	fclose(f);
	fclose(g);
	f = fmemopen(out, len2, "rb");
	CHECK(mrt_reader_open(&r, f, "mem", NULL) == 0);
	while (mrt_reader_next(r, &rec) == 1) {
		int64_t v;
		mrt_tensor t;
		CHECK(rec->via.map.size == 5);
		CHECK(mrt_rec_int(rec, "fold", &v) == 0 && v == 42);
		CHECK(mrt_rec_tensor(rec, "sig", &t) == 0);
	}
	mrt_reader_free(r);
	fclose(f);
	free(buf);
	free(out);
}

/* Dotted paths into nested maps; a key with a dot in it is found as it is. */
static void
test_path(void)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const msgpack_object *o;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mrt_pack_kv_str(&pk, "id", "a");
	mrt_pack_str(&pk, "truth");
	msgpack_pack_map(&pk, 2);
	mrt_pack_kv_int(&pk, "hr", 61);
	mrt_pack_str(&pk, "inner");
	msgpack_pack_map(&pk, 1);
	mrt_pack_kv_int(&pk, "x", 7);
	mrt_pack_kv_int(&pk, "a.b", 3);
	msgpack_unpacked_init(&u);
	CHECK(msgpack_unpack_next(&u, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS);
	o = mrt_rec_path(&u.data, "truth.hr");
	CHECK(o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 == 61);
	o = mrt_rec_path(&u.data, "truth.inner.x");
	CHECK(o && o->via.u64 == 7);
	o = mrt_rec_path(&u.data, "a.b");
	CHECK(o && o->via.u64 == 3);
	CHECK(mrt_rec_path(&u.data, "truth.qt") == NULL);
	CHECK(mrt_rec_path(&u.data, "id.x") == NULL);
	CHECK(mrt_rec_path(&u.data, "truth.") == NULL);
	CHECK(mrt_rec_path(&u.data, "id") != NULL);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

/*
 * A stream of the header, one record of raw msgpack bytes rec[0..n) and a
 * trailer whose end is endval; read it: the error code and message of the
 * first record, or 1 if it reads.  (fuzz/ found every case below.)
 */
static int
read_raw(const char *rec, size_t n, const char *endval, char *msg, size_t cap)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t zcap;
	char *z;
	FILE *f;
	mrt_reader *r;
	const msgpack_object *o;
	int e;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mrt_pack_kv_str(&pk, "format", MRT_STREAM_FORMAT);
	mrt_pack_kv_int(&pk, "version", 1);
	msgpack_sbuffer_write(&sb, rec, n);
	msgpack_pack_map(&pk, 2);
	mrt_pack_kv_str(&pk, "end", endval);
	mrt_pack_kv_int(&pk, "count", 1);
	zcap = ZSTD_compressBound(sb.size);
	z = malloc(zcap);
	zcap = ZSTD_compress(z, zcap, sb.data, sb.size, 1);
	f = fmemopen(z, zcap, "rb");
	CHECK(mrt_reader_open(&r, f, "mem", NULL) == 0);
	e = mrt_reader_next(r, &o);
	if (e == 1)
		e = mrt_reader_next(r, &o) == 0 ? 1 : mrt_reader_next(r, &o);
	snprintf(msg, cap, "%s", mrt_reader_errmsg(r));
	mrt_reader_free(r);
	fclose(f);
	free(z);
	msgpack_sbuffer_destroy(&sb);
	return e;
}

/* n maps or arrays nested in the record's field "a" ("\x81\xa1a" + ...). */
static char *
nested(int levels, size_t *n)
{
	char *b = malloc(levels + 8);
	size_t k = 0;
	b[k++] = (char)0x81;
	b[k++] = (char)0xa1;
	b[k++] = 'a';
	for (int i = 1; i < levels; i++)
		b[k++] = (char)0x91;    /* an array of one */
	b[k++] = (char)0xc0;
	*n = k;
	return b;
}

static void
test_limits(void)
{
	char msg[768], *b;
	size_t n;
	/* the record's map is level 1: 32 levels read, 33 are refused as
	 * nesting (msgpack-c's limit), not as "out of memory" */
	b = nested(32, &n);
	CHECK(read_raw(b, n, MRT_STREAM_FORMAT, msg, sizeof msg) == 1, "%s", msg);
	free(b);
	b = nested(33, &n);
	CHECK(read_raw(b, n, MRT_STREAM_FORMAT, msg, sizeof msg) == MRT_EFORMAT);
	CHECK(strcmp(msg, "record 1: maps and arrays nested deeper than 32 "
	    "levels") == 0, "%s", msg);
	free(b);
	/* objects: an array of 2^22 - 3 nils is 2^22 objects with the map,
	 * its key and the array; one more is refused before msgpack-c
	 * spends 24 bytes on each */
	for (int extra = 0; extra < 2; extra++) {
		uint32_t cnt = (1u << 22) - 3 + extra;
		n = 8 + cnt;
		b = malloc(n);
		memcpy(b, "\x81\xa1" "a\xdd", 4);
		b[4] = (char)(cnt >> 24);
		b[5] = (char)(cnt >> 16);
		b[6] = (char)(cnt >> 8);
		b[7] = (char)cnt;
		memset(b + 8, 0xc0, cnt);
		if (extra == 0)
			CHECK(read_raw(b, n, MRT_STREAM_FORMAT, msg, sizeof msg) == 1,
			    "%s", msg);
		else {
			CHECK(read_raw(b, n, MRT_STREAM_FORMAT, msg, sizeof msg) ==
			    MRT_ENOMEM);
			CHECK(strcmp(msg, "record 1: more than 4194304 msgpack "
			    "objects") == 0, "%s", msg);
		}
		free(b);
	}
	/* objects are counted once, also when a large bin arrives in many
	 * pieces: 2^22 objects with 4 MiB of bin read */
	{
		uint32_t cnt = (1u << 22) - 5, bl = 4u << 20;
		n = 8 + cnt + 2 + 5 + bl;
		b = calloc(1, n);
		memcpy(b, "\x82\xa1" "a\xdd", 4);
		b[4] = (char)(cnt >> 24);
		b[5] = (char)(cnt >> 16);
		b[6] = (char)(cnt >> 8);
		b[7] = (char)cnt;
		memset(b + 8, 0xc0, cnt);
		memcpy(b + 8 + cnt, "\xa1" "b\xc6\x00\x40\x00\x00", 7);
		CHECK(read_raw(b, n, MRT_STREAM_FORMAT, msg, sizeof msg) == 1, "%s", msg);
		free(b);
	}
	/* a field name that is not a string; the reserved field end */
	CHECK(read_raw("\x82\xa2id\xa1x\x07\xc0", 7, MRT_STREAM_FORMAT, msg,
	    sizeof msg) == MRT_EFORMAT);
	CHECK(strcmp(msg, "record 1: field 2: its name is not a string") == 0,
	    "%s", msg);
	CHECK(read_raw("\x82\xa2id\xa1x\xa3" "end\x01", 10, MRT_STREAM_FORMAT, msg,
	    sizeof msg) == MRT_EFORMAT);
	CHECK(strcmp(msg, "record 1: field \"end\" is reserved for the trailer") ==
	    0, "%s", msg);
	/* a trailer whose end is not merit-stream */
	CHECK(read_raw("\x81\xa2id\xa1x", 6, "merit-strean", msg, sizeof msg) ==
	    MRT_EFORMAT);
	CHECK(strcmp(msg, "record 2: a trailer whose end is not \"merit-stream\"") ==
	    0, "%s", msg);
	CHECK(read_raw("\x81\xa2id\xa1x", 6, MRT_STREAM_FORMAT, msg, sizeof msg) == 1,
	    "%s", msg);
}

/* Writers refuse what readers refuse. */
static void
test_writer_limits(void)
{
	char *buf = NULL, *b;
	size_t len, n;
	FILE *f = open_memstream(&buf, &len);
	mrt_writer *w;
	msgpack_packer *pk;
	CHECK(mrt_writer_open(&w, f, "test", 1) == 0);
	b = nested(33, &n);
	CHECK(mrt_writer_raw(w, b, n) == MRT_ERANGE);
	CHECK(mrt_writer_raw(w, b, n - 1) == MRT_ERANGE);   /* not one object */
	free(b);
	b = nested(32, &n);
	CHECK(mrt_writer_raw(w, b, n) == 0);
	free(b);
	pk = mrt_writer_packer(w);
	CHECK(mrt_writer_begin(w, 1) == 0);
	mrt_pack_str(pk, "a");
	for (int i = 1; i < 33; i++)
		msgpack_pack_array(pk, 1);
	msgpack_pack_nil(pk);
	CHECK(mrt_writer_end(w) == MRT_ERANGE);
	CHECK(mrt_writer_count(w) == 1);
	mrt_writer_free(w);
	fclose(f);
	free(buf);
}

int
main(void)
{
	test_roundtrip();
	test_truncations();
	test_copy();
	test_path();
	test_limits();
	test_writer_limits();
	if (fails)
		fprintf(stderr, "test_stream: %d checks failed\n", fails);
	return fails != 0;
}
