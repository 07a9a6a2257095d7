/*
 * fuzz_stream: the merit stream reader (lib/io/stream.c), bytes -> records
 * -> typed accessors -> writer -> reader again.
 *
 * Input: a zstd stream as it is (it starts with the zstd magic), or else
 * msgpack that the harness compresses first, so that mutations reach the
 * msgpack structure instead of the zstd checksum.  Msgpack input starting
 * with 'R' is run-length coded first ("\xff K B" is byte B 2^(K&31) times,
 * at most 8 MiB in all; "\xff\xff" is one 0xff), so that a small input can
 * stand for a large record.
 *
 * Oracles:
 *   - every stream the reader accepts satisfies merit-stream(5), checked
 *     by an independent walk of the decompressed bytes (a header; records
 *     are maps with string field names and no field "end"; the trailer's
 *     end is "merit-stream" and its count is right; nesting depth and
 *     object count within the limits of the page);
 *   - the reader never reports "out of memory" (each limit has a message
 *     of its own);
 *   - records copied by mrt_writer_raw() read back byte for byte, and
 *     records copied by mrt_writer_copy() read back.
 */
#include <math.h>
#include <string.h>
#include <zstd.h>

#include "io/stream.h"
#include "common.h"

/* merit-stream(5): the limits of a record */
#define SPEC_MAX_DEPTH   32
#define SPEC_MAX_OBJECTS ((uint64_t)1 << 22)
#define SPEC_MAX_RECORD  ((uint64_t)1 << 30)
#define RLE_MAX          ((size_t)8 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- an independent walk of msgpack bytes --------------------------------- */

enum { K_SCALAR, K_STR, K_BIN, K_EXT, K_ARRAY, K_MAP };

static uint64_t
be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The header of the object at p[off]: kind, payload bytes (scalars, str,
 * bin, ext) or entries (array elements, map pairs), header length. */
static int
head(const uint8_t *p, size_t n, size_t off, int *kind, uint64_t *len, size_t *hl)
{
	unsigned c;
	int lb = 0;
	if (off >= n)
		return -1;
	c = p[off];
	*hl = 1;
	*len = 0;
	*kind = K_SCALAR;
	if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
		return 0;
	if (c <= 0x8f) { *kind = K_MAP; *len = c & 15; return 0; }
	if (c <= 0x9f) { *kind = K_ARRAY; *len = c & 15; return 0; }
	if (c <= 0xbf) { *kind = K_STR; *len = c & 31; return 0; }
	switch (c) {
	case 0xc4: *kind = K_BIN; lb = 1; break;
	case 0xc5: *kind = K_BIN; lb = 2; break;
	case 0xc6: *kind = K_BIN; lb = 4; break;
	case 0xd9: *kind = K_STR; lb = 1; break;
	case 0xda: *kind = K_STR; lb = 2; break;
	case 0xdb: *kind = K_STR; lb = 4; break;
	case 0xc7: *kind = K_EXT; lb = 1; break;
	case 0xc8: *kind = K_EXT; lb = 2; break;
	case 0xc9: *kind = K_EXT; lb = 4; break;
	case 0xcc: case 0xd0: *len = 1; break;
	case 0xcd: case 0xd1: *len = 2; break;
	case 0xca: case 0xce: case 0xd2: *len = 4; break;
	case 0xcb: case 0xcf: case 0xd3: *len = 8; break;
	case 0xd4: *kind = K_EXT; *len = 2; break;
	case 0xd5: *kind = K_EXT; *len = 3; break;
	case 0xd6: *kind = K_EXT; *len = 5; break;
	case 0xd7: *kind = K_EXT; *len = 9; break;
	case 0xd8: *kind = K_EXT; *len = 17; break;
	case 0xdc: *kind = K_ARRAY; lb = 2; break;
	case 0xdd: *kind = K_ARRAY; lb = 4; break;
	case 0xde: *kind = K_MAP; lb = 2; break;
	case 0xdf: *kind = K_MAP; lb = 4; break;
	default: return -1;
	}
	if (lb) {
		if (off + 1 + lb > n)
			return -1;
		*hl = 1 + (size_t)lb;
		*len = be(p + off + 1, lb) + (*kind == K_EXT);
	}
	return 0;
}

/* Walk the object at off: its end, object count and deepest container
 * level (the top level is 1).  -1 if truncated or not msgpack. */
static int
walk(const uint8_t *p, size_t n, size_t off, size_t *end, uint64_t *objs, int *depth)
{
	uint64_t *st = NULL;
	size_t top = 0, cap = 0;
	*objs = 0;
	*depth = 0;
	for (;;) {
		int kind;
		uint64_t len;
		size_t hl;
		if (head(p, n, off, &kind, &len, &hl) < 0)
			goto bad;
		++*objs;
		off += hl;
		if (kind == K_ARRAY || kind == K_MAP) {
			uint64_t items = kind == K_MAP ? 2 * len : len;
			if ((int)top + 1 > *depth)
				*depth = (int)top + 1;
			if (items > n - off)
				goto bad;   /* every item takes a byte */
			if (items) {
				if (top == cap) {
					cap = cap ? 2 * cap : 64;
					st = realloc(st, cap * sizeof *st);
					FZ_ASSERT(st != NULL, "out of memory");
				}
				st[top++] = items;
				continue;
			}
		} else {
			if (len > n - off)
				goto bad;
			off += len;
		}
		/* an item ended: close the containers it completes */
		while (top > 0 && --st[top - 1] == 0)
			top--;
		if (top == 0)
			break;
	}
	free(st);
	*end = off;
	return 0;
bad:
	free(st);
	return -1;
}

static int
is_str(const msgpack_object *o, const char *s)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
	    memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

static const msgpack_object *
get(const msgpack_object *m, const char *key)
{
	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (is_str(&m->via.map.ptr[i].key, key))
			return &m->via.map.ptr[i].val;
	return NULL;
}

static int
int_value(const msgpack_object *o, int64_t *v)
{
	if (o == NULL)
		return -1;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
		return *v = (int64_t)o->via.u64, 0;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return *v = o->via.i64, 0;
	if ((o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64) &&
	    o->via.f64 == floor(o->via.f64) && fabs(o->via.f64) < 9e18)
		return *v = (int64_t)o->via.f64, 0;
	return -1;
}

/*
 * Does d[0..n) satisfy merit-stream(5)?  0 yes, else the 1-based index of
 * the offending object; *deep says that object nests too deep.  Record i's
 * bytes are at rec_off[i], rec_len[i] (first max entries).
 */
static uint64_t
spec_check(const uint8_t *d, size_t n, int *deep, uint64_t *nrec,
    size_t *rec_off, size_t *rec_len, size_t max)
{
	size_t off = 0;
	uint64_t k = 0, seg = 0;
	int state = 0;   /* 0 expect a header, 1 in a stream, 2 after a trailer */
	*deep = 0;
	*nrec = 0;
	if (n == 0)
		return 1;
	while (off < n) {
		size_t end, uoff = 0;
		uint64_t objs;
		int depth, ok = 1;
		msgpack_unpacked u;
		const msgpack_object *o, *v;
		int64_t x;
		k++;
		if (walk(d, n, off, &end, &objs, &depth) < 0)
			return k;
		if (depth > SPEC_MAX_DEPTH) {
			*deep = 1;
			return k;
		}
		if (objs > SPEC_MAX_OBJECTS || end - off > SPEC_MAX_RECORD)
			return k;
		msgpack_unpacked_init(&u);
		FZ_ASSERT(msgpack_unpack_next(&u, (const char *)d + off, end - off,
		    &uoff) == MSGPACK_UNPACK_SUCCESS && uoff == end - off,
		    "the walk and msgpack-c disagree");
		o = &u.data;
		if (o->type != MSGPACK_OBJECT_MAP) {
			ok = 0;
		} else if (state != 1) {
			v = get(o, "format");
			ok = v && is_str(v, "merit-stream") &&
			    int_value(get(o, "version"), &x) == 0 && x == 1;
			state = 1;
			seg = 0;
		} else if (o->via.map.size > 0 && is_str(&o->via.map.ptr[0].key, "end")) {
			ok = is_str(&o->via.map.ptr[0].val, "merit-stream") &&
			    int_value(get(o, "count"), &x) == 0 && (uint64_t)x == seg;
			state = 2;
		} else {
			for (uint32_t i = 0; i < o->via.map.size; i++)
				if (o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR ||
				    is_str(&o->via.map.ptr[i].key, "end"))
					ok = 0;
			if (*nrec < max) {
				rec_off[*nrec] = off;
				rec_len[*nrec] = end - off;
			}
			++*nrec;
			seg++;
		}
		msgpack_unpacked_destroy(&u);
		if (!ok)
			return k;
		off = end;
	}
	return state == 2 ? 0 : k + 1;
}

/* ---- input preparation ----------------------------------------------------- */

static uint8_t *
rle(const uint8_t *p, size_t n, size_t *out)
{
	size_t cap = n + 64, m = 0;
	uint8_t *b = malloc(cap);
	FZ_ASSERT(b != NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		size_t rep = 1;
		uint8_t c = p[i];
		if (c == 0xff && i + 1 < n && p[i + 1] == 0xff) {
			i++;
		} else if (c == 0xff && i + 2 < n) {
			rep = (size_t)1 << (p[i + 1] & 31);
			c = p[i + 2];
			i += 2;
		}
		if (rep > RLE_MAX - m)
			rep = RLE_MAX - m;
		if (m + rep > cap) {
			while (m + rep > cap)
				cap *= 2;
			b = realloc(b, cap);
			FZ_ASSERT(b != NULL, "out of memory");
		}
		memset(b + m, c, rep);
		m += rep;
	}
	*out = m;
	return b;
}

/* ---- what a program does with a record --------------------------------------- */

static void
exercise(const msgpack_object *rec)
{
	static const char *const keys[] = {
		"id", "source", "fs", "leads", "sig", "gain", "baseline", "missing",
		"comments", "report", "labels", "label_abbr", "fold", "patient", "age",
		"sex", "extra", "tok", "h", "e", "t", "recon", "vis", "truth.findings",
		"labels.NORM", "extra.signal 1.sig", "a.b.c.d", "",
	};
	char buf[32];
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		const msgpack_object *o = mrt_rec_path(rec, keys[i]);
		const char *s;
		size_t n;
		int64_t v;
		double d;
		mrt_tensor t;
		if (mrt_obj_str(o, &s, &n) == 0)
			FZ_ASSERT(n == 0 || s != NULL, "string without bytes");
		(void)mrt_obj_int(o, &v);
		(void)mrt_obj_num(o, &d);
		(void)mrt_obj_tensor(o, &t);
		if (mrt_rec_strcpy(rec, keys[i], buf, sizeof buf) == 0)
			FZ_ASSERT(strlen(buf) < sizeof buf, "strcpy overran");
	}
	for (uint32_t i = 0; i < rec->via.map.size; i++) {
		mrt_tensor t;
		char why[160];
		if (mrt_tensor_check(&rec->via.map.ptr[i].val, &t, why, sizeof why) != 0)
			continue;
		FZ_ASSERT(t.n >= 0 && t.ndim <= MRT_MAXDIM, "tensor view");
		if (t.n > (1 << 20))
			continue;
		float *f = malloc((size_t)t.n * sizeof *f + 1);
		double *g = malloc((size_t)t.n * sizeof *g + 1);
		int32_t *k = malloc((size_t)t.n * sizeof *k + 1);
		FZ_ASSERT(f && g && k, "out of memory");
		mrt_tensor_to_f32(&t, f);
		mrt_tensor_to_f64(&t, g);
		(void)mrt_tensor_to_i32(&t, k);
		free(f);
		free(g);
		free(k);
	}
	{
		mrt_tensor t;
		if (mrt_rec_tensor(rec, "sig", &t) == 0 && t.n <= (1 << 22)) {
			float *f = malloc((size_t)t.n * sizeof *f + 1);
			int L;
			int64_t S;
			FZ_ASSERT(f != NULL, "out of memory");
			if (mrt_rec_signal_mv(rec, f, (size_t)t.n, &L, &S) == 0)
				FZ_ASSERT((int64_t)L * S == t.n, "signal size");
			free(f);
		}
	}
}

/* ---- the harness --------------------------------------------------------------- */

#define MAXREC 4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	static size_t rec_off[MAXREC], rec_len[MAXREC];
	uint8_t *raw = NULL, *z = NULL;
	size_t nraw = 0, nz;
	const uint8_t *in = data;
	FILE *f;
	mrt_reader *r;
	const char *msg;
	const msgpack_object *rec;
	char *wbuf = NULL;
	size_t wlen = 0;
	FILE *wf;
	mrt_writer *w;
	uint64_t nread = 0;
	int e, cut = 0;
	if (size >= 4 && memcmp(data, magic, 4) == 0) {
		/* a zstd stream: the oracle needs its bytes */
		ZSTD_DStream *ds = ZSTD_createDStream();
		ZSTD_inBuffer zi = { data, size, 0 };
		size_t cap = 1 << 16;
		raw = malloc(cap);
		FZ_ASSERT(ds && raw, "out of memory");
		while (zi.pos < zi.size) {
			ZSTD_outBuffer zo = { raw + nraw, cap - nraw, 0 };
			size_t rc = ZSTD_decompressStream(ds, &zo, &zi);
			nraw += zo.pos;
			if (ZSTD_isError(rc))
				break;
			if (nraw == cap) {
				if (cap >= RLE_MAX) {
					cut = 1;
					break;
				}
				raw = realloc(raw, cap *= 2);
				FZ_ASSERT(raw != NULL, "out of memory");
			} else if (zo.pos == 0 && zi.pos == zi.size)
				break;
		}
		ZSTD_freeDStream(ds);
		nz = size;
	} else {
		if (size > 0 && data[0] == 'R')
			raw = rle(data + 1, size - 1, &nraw);
		else {
			raw = malloc(size + 1);
			FZ_ASSERT(raw != NULL, "out of memory");
			memcpy(raw, data, size);
			nraw = size;
		}
		z = malloc(ZSTD_compressBound(nraw));
		FZ_ASSERT(z != NULL, "out of memory");
		nz = ZSTD_compress(z, ZSTD_compressBound(nraw), raw, nraw, 1);
		FZ_ASSERT(!ZSTD_isError(nz), "zstd");
		in = z;
	}

	f = fmemopen((void *)in, nz, "rb");
	FZ_ASSERT(f != NULL, "fmemopen");
	wf = open_memstream(&wbuf, &wlen);
	FZ_ASSERT(wf != NULL && mrt_writer_open(&w, wf, "fuzz", 1) == 0, "writer");
	e = mrt_reader_open(&r, f, "fuzz", &msg);
	if (e == 0) {
		static const char *const skip[] = { "sig", NULL };
		while ((e = mrt_reader_next(r, &rec)) == 1) {
			const char *p;
			size_t n;
			nread++;
			FZ_ASSERT(rec->type == MSGPACK_OBJECT_MAP, "a record is not a map");
			exercise(rec);
			mrt_reader_raw(r, &p, &n);
			FZ_ASSERT(mrt_writer_raw(w, p, n) == 0, "writer_raw");
			FZ_ASSERT(mrt_writer_copy(w, rec, skip, 1) == 0, "writer_copy");
			mrt_pack_kv_int(mrt_writer_packer(w), "copied", 1);
			FZ_ASSERT(mrt_writer_end(w) == 0, "writer_end");
		}
		msg = e < 0 ? mrt_reader_errmsg(r) : NULL;
		(void)mrt_reader_header(r);
	}
	if (msg != NULL)
		FZ_ASSERT(strstr(msg, "out of memory") == NULL,
		    "a limit reported as out of memory: %s", msg);

	if (e == 0 && !cut) {
		/* accepted: the oracle agrees, and what was written reads back */
		int deep;
		uint64_t nrec, bad = spec_check(raw, nraw, &deep, &nrec, rec_off,
		    rec_len, MAXREC);
		FILE *rf;
		mrt_reader *rr;
		uint64_t i = 0;
		FZ_ASSERT(bad == 0, "the reader accepted a stream that merit-stream(5) "
		    "refuses at object %llu%s", (unsigned long long)bad,
		    deep ? " (nested too deep)" : "");
		FZ_ASSERT(nrec == nread, "record count %llu, oracle %llu",
		    (unsigned long long)nread, (unsigned long long)nrec);
		FZ_ASSERT(mrt_writer_close(w) == 0, "writer_close");
		fflush(wf);
		rf = fmemopen(wbuf, wlen, "rb");
		FZ_ASSERT(rf && mrt_reader_open(&rr, rf, "copy", &msg) == 0,
		    "copy: %s", msg);
		while ((e = mrt_reader_next(rr, &rec)) == 1) {
			const char *p;
			size_t n;
			mrt_reader_raw(rr, &p, &n);
			if (i % 2 == 0 && i / 2 < MAXREC)
				FZ_ASSERT(n == rec_len[i / 2] && memcmp(p, raw +
				    rec_off[i / 2], n) == 0, "raw copy %llu differs",
				    (unsigned long long)i / 2);
			if (i % 2 == 1)
				FZ_ASSERT(mrt_rec_get(rec, "copied") != NULL &&
				    mrt_rec_get(rec, "sig") == NULL, "copy");
			i++;
		}
		FZ_ASSERT(e == 0 && i == 2 * nread, "copy reads back: %s",
		    mrt_reader_errmsg(rr));
		mrt_reader_free(rr);
		fclose(rf);
	}
	if (r)
		mrt_reader_free(r);
	mrt_writer_free(w);
	fclose(wf);
	free(wbuf);
	fclose(f);
	free(raw);
	free(z);
	return 0;
}
