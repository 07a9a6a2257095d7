/*
 * stream.c: merit stream reader and writer (formats/merit-stream.5).
 *
 * Reader: zstd decompresses into one contiguous byte buffer; a small
 * resumable scanner walks the msgpack structure to find where the next
 * object ends (checking it is msgpack at all, and refusing oversized
 * records before anything is allocated for them); only a complete object
 * is handed to msgpack_unpack_next(), whose str/bin objects point into the
 * buffer (zero copy).  Memory is bounded by the largest record.
 *
 * Writer: msgpack packs into a byte buffer that is fed to
 * ZSTD_compressStream2() (checksum on) at record boundaries.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "io/stream.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "merit streams are little-endian; this host is not"
#endif

#define CHUNK        ((size_t)1 << 17)
#define TRAILER_KEY  "end"

/* ---- scanning ------------------------------------------------------------ */

/*
 * Where the object being scanned ends: a resumable walk of its msgpack
 * structure that checks the limits of a record before msgpack-c allocates
 * anything for it.  left[d] is the number of items still to come in the
 * container open at level d (level 0: the object itself, one item).
 */
struct scanner {
	size_t scan;              /* bytes scanned */
	uint64_t objects;         /* objects seen */
	int depth;                /* containers open */
	uint64_t left[MRT_MAX_DEPTH + 1];
};

enum { SCAN_MORE = 0, SCAN_DONE = 1, SCAN_BYTE = -1, SCAN_BIG = -2,
	SCAN_OBJECTS = -3, SCAN_DEEP = -4 };

static void
scan_start(struct scanner *s)
{
	s->scan = 0;
	s->objects = 0;
	s->depth = 0;
	s->left[0] = 1;
}

/* Big-endian helpers for the scanner. */
static uint64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Advance s over the avail bytes at b (the object's bytes so far): returns
 * SCAN_DONE when the object is complete (its length is s->scan), SCAN_MORE
 * when more bytes are needed, or an error: SCAN_BYTE (*bad is the byte that
 * is not msgpack), SCAN_BIG, SCAN_OBJECTS or SCAN_DEEP.
 */
static int
scan_step(struct scanner *s, const unsigned char *b, size_t avail, unsigned *bad)
{
	for (;;) {
		size_t p = s->scan, hdr = 1;
		uint64_t skip = 0, items = 0;
		int container = 0;
		unsigned c;
		if (p >= avail)
			return SCAN_MORE;
		c = b[p];
		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
			;                                   /* fixint, nil, bool */
		else if (c >= 0x80 && c <= 0x8f)
			items = 2 * (uint64_t)(c & 0x0f), container = 1;
		else if (c >= 0x90 && c <= 0x9f)
			items = c & 0x0f, container = 1;
		else if (c >= 0xa0 && c <= 0xbf)
			skip = c & 0x1f;
		else {
			int lenbytes = 0;
			switch (c) {
			case 0xc4: case 0xd9: lenbytes = 1; break;   /* bin8 str8 */
			case 0xc5: case 0xda: lenbytes = 2; break;
			case 0xc6: case 0xdb: lenbytes = 4; break;
			case 0xc7: lenbytes = 1; skip = 1; break;    /* ext */
			case 0xc8: lenbytes = 2; skip = 1; break;
			case 0xc9: lenbytes = 4; skip = 1; break;
			case 0xca: case 0xce: case 0xd2: skip = 4; break;
			case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xd4: skip = 2; break;                  /* fixext */
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc: case 0xde: lenbytes = 2; container = 1; break;
			case 0xdd: case 0xdf: lenbytes = 4; container = 1; break;
			default:
				*bad = c;
				return SCAN_BYTE;
			}
			if (p + 1 + lenbytes > avail)
				return SCAN_MORE;
			hdr += lenbytes;
			if (c == 0xdc || c == 0xdd)
				items = be(b + p + 1, lenbytes);
			else if (c == 0xde || c == 0xdf)
				items = 2 * be(b + p + 1, lenbytes);
			else if (lenbytes)
				skip += be(b + p + 1, lenbytes);
		}
		/* bound before allocating: every item is an object (counted
		 * once the object's bytes are here: a retry sees it again) */
		if (s->objects + 1 + items > MRT_MAX_OBJECTS)
			return SCAN_OBJECTS;
		if (container && s->depth + 1 > MRT_MAX_DEPTH)
			return SCAN_DEEP;
		if (s->scan + hdr + skip > MRT_MAX_RECORD)
			return SCAN_BIG;
		if (p + hdr + skip > avail)
			return SCAN_MORE;
		s->objects++;
		s->scan = p + hdr + skip;
		if (items > 0) {
			s->left[++s->depth] = items;
			continue;
		}
		/* an item ended: close the containers it completes */
		while (--s->left[s->depth] == 0)
			if (s->depth-- == 0)
				return SCAN_DONE;
	}
}

/* ---- reader ------------------------------------------------------------ */

struct mrt_reader {
	FILE *f;
	char name[256];
	char msg[768];
	ZSTD_DCtx *dctx;
	char *in;                 /* compressed input */
	ZSTD_inBuffer zin;
	int eof;                  /* fread saw the end */
	int frame_open;           /* a zstd frame started and not finished */
	uint64_t bytes_in;
	char *buf;                /* decompressed bytes */
	size_t cap, start, len;   /* current object starts at start */
	struct scanner sc;        /* resumable scan of the object at start */
	msgpack_unpacked up;      /* the last object */
	msgpack_unpacked hdr;     /* the header of the first stream */
	char *hdrbytes;
	int have_hdr;
	int in_stream;            /* between a header and its trailer */
	uint64_t count;           /* records returned, all streams */
	uint64_t seg_count;       /* records since the last header */
	const char *raw;
	size_t rawlen;
	int err;                  /* sticky error */
};

static __thread char open_msg[768];

static int
rfail(mrt_reader *r, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->err = mrt_verrf(r->msg, sizeof r->msg, err, fmt, ap);
	va_end(ap);
	return err;
}

static const char *where(mrt_reader *r);

/* Decompress more bytes into buf[len..]; 1 if some, 0 at clean end. */
static int
fill(mrt_reader *r)
{
	/* make room: drop consumed bytes, then grow */
	if (r->start > 0 && (r->start > r->cap / 2 || r->cap - r->len < CHUNK)) {
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->start = 0;
	}
	if (r->cap - r->len < CHUNK) {
		size_t ncap = r->cap ? r->cap * 2 : 4 * CHUNK;
		char *nb;
		if (ncap > MRT_MAX_RECORD + 4 * CHUNK)
			return rfail(r, MRT_ENOMEM, "%s: larger than %zu bytes",
			    where(r), (size_t)MRT_MAX_RECORD);
		nb = realloc(r->buf, ncap);
		if (nb == NULL)
			return rfail(r, MRT_ENOMEM, "out of memory");
		r->buf = nb;
		r->cap = ncap;
	}
	for (;;) {
		ZSTD_outBuffer out = { r->buf + r->len, r->cap - r->len, 0 };
		size_t z;
		if (r->zin.pos == r->zin.size) {
			size_t n;
			if (r->eof)
				goto end;
			/* read(2) where there is a descriptor: it returns what
			 * the pipe holds instead of waiting for a full buffer,
			 * so a record is available as soon as it is written */
			if (fileno(r->f) >= 0) {
				ssize_t k = read(fileno(r->f), r->in, ZSTD_DStreamInSize());
				if (k < 0)
					return rfail(r, MRT_EIO, "read error: %s",
					    strerror(errno));
				n = (size_t)k;
			} else {
				n = fread(r->in, 1, ZSTD_DStreamInSize(), r->f);
				if (n == 0 && ferror(r->f))
					return rfail(r, MRT_EIO, "read error: %s",
					    strerror(errno));
			}
			if (n == 0) {
				r->eof = 1;
				goto end;
			}
			r->bytes_in += n;
			r->zin.src = r->in;
			r->zin.size = n;
			r->zin.pos = 0;
		}
		z = ZSTD_decompressStream(r->dctx, &out, &r->zin);
		if (ZSTD_isError(z)) {
			ZSTD_ErrorCode c = ZSTD_getErrorCode(z);
			if (c == ZSTD_error_prefix_unknown)
				return rfail(r, MRT_EZSTD, "not a zstd stream%s",
				    r->have_hdr ? " (garbage after a frame)" : "");
			if (c == ZSTD_error_checksum_wrong)
				return rfail(r, MRT_EZSTD,
				    "zstd checksum error: data is corrupt");
			return rfail(r, MRT_EZSTD, "zstd: %s", ZSTD_getErrorName(z));
		}
		r->frame_open = (z != 0);
		r->len += out.pos;
		if (out.pos > 0)
			return 1;
	}
end:
	if (r->bytes_in == 0)
		return rfail(r, MRT_ETRUNC, "empty input, not a merit stream");
	if (r->frame_open)
		return rfail(r, MRT_ETRUNC, "truncated zstd frame");
	return 0;
}

/* Where the reader is, for messages: "header" or "record N". */
static const char *
where(mrt_reader *r)
{
	static __thread char b[48];
	if (!r->have_hdr)
		return "header";
	snprintf(b, sizeof b, "record %llu", (unsigned long long)r->count + 1);
	return b;
}

/* Scan the object at start over the buffered bytes: 1 complete, 0 more
 * bytes needed, or an error. */
static int
scan(mrt_reader *r)
{
	unsigned bad = 0;
	int e;
	if (r->buf == NULL)
		return 0;       /* nothing decompressed yet */
	e = scan_step(&r->sc, (const unsigned char *)r->buf + r->start,
	    r->len - r->start, &bad);
	switch (e) {
	case SCAN_BYTE:
		return rfail(r, MRT_EMSGPACK, "%s: not msgpack (byte 0x%02x)",
		    where(r), bad);
	case SCAN_BIG:
		return rfail(r, MRT_ENOMEM, "%s: larger than %zu bytes", where(r),
		    (size_t)MRT_MAX_RECORD);
	case SCAN_OBJECTS:
		return rfail(r, MRT_ENOMEM, "%s: more than %llu msgpack objects",
		    where(r), (unsigned long long)MRT_MAX_OBJECTS);
	case SCAN_DEEP:
		return rfail(r, MRT_EFORMAT, "%s: maps and arrays nested deeper "
		    "than %d levels", where(r), MRT_MAX_DEPTH);
	}
	return e;
}

/* Read the next msgpack object into r->up; 1, 0 at end of input, <0. */
static int
next_object(mrt_reader *r)
{
	int e;
	/* drop the previous object */
	r->start += r->sc.scan;
	scan_start(&r->sc);
	for (;;) {
		e = scan(r);
		if (e < 0)
			return e;
		if (e == 1)
			break;
		e = fill(r);
		if (e < 0)
			return e;
		if (e == 0) {
			if (r->len == r->start)
				return 0;
			return rfail(r, MRT_ETRUNC,
			    "%s: truncated msgpack object", where(r));
		}
	}
	{
		size_t off = 0;
		msgpack_unpack_return u = msgpack_unpack_next(&r->up,
		    r->buf + r->start, r->sc.scan, &off);
		if (u == MSGPACK_UNPACK_NOMEM_ERROR)
			return rfail(r, MRT_ENOMEM, "%s: out of memory", where(r));
		if (u != MSGPACK_UNPACK_SUCCESS || off != r->sc.scan)
			return rfail(r, MRT_EMSGPACK, "%s: not msgpack", where(r));
	}
	r->raw = r->buf + r->start;
	r->rawlen = r->sc.scan;
	return 1;
}

static int
keyeq(const msgpack_object *k, const char *key)
{
	size_t n = strlen(key);
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	    memcmp(k->via.str.ptr, key, n) == 0;
}

/* Check a header object; copies it when it is the first. */
static int
check_header(mrt_reader *r, const msgpack_object *o)
{
	const char *s;
	size_t n;
	int64_t v;
	if (o->type != MSGPACK_OBJECT_MAP)
		return rfail(r, MRT_EFORMAT, "not a merit stream (header is not a map)");
	if (mrt_rec_str(o, "format", &s, &n) != 0 ||
	    n != strlen(MRT_STREAM_FORMAT) || memcmp(s, MRT_STREAM_FORMAT, n) != 0)
		return rfail(r, MRT_EFORMAT,
		    "not a merit stream (header has no format \"%s\")",
		    MRT_STREAM_FORMAT);
	if (mrt_rec_int(o, "version", &v) != 0 || v < 1)
		return rfail(r, MRT_EFORMAT, "header: bad or missing version");
	if (v > MRT_STREAM_VERSION)
		return rfail(r, MRT_EVERSION,
		    "format version %lld is newer than this reader's (%d)",
		    (long long)v, MRT_STREAM_VERSION);
	return 0;
}

int
mrt_reader_open(mrt_reader **rp, FILE *f, const char *name, const char **errmsg)
{
	mrt_reader *r;
	int e;
	*rp = NULL;
	if (errmsg)
		*errmsg = NULL;
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return MRT_ENOMEM;
	r->f = f;
	snprintf(r->name, sizeof r->name, "%s", name ? name : "stream");
	r->dctx = ZSTD_createDCtx();
	r->in = malloc(ZSTD_DStreamInSize());
	if (r->dctx == NULL || r->in == NULL) {
		mrt_reader_free(r);
		return MRT_ENOMEM;
	}
	msgpack_unpacked_init(&r->up);
	msgpack_unpacked_init(&r->hdr);
	e = next_object(r);
	if (e == 0)
		e = rfail(r, MRT_ETRUNC, "empty input, not a merit stream");
	if (e > 0)
		e = check_header(r, &r->up.data);
	if (e < 0) {
		snprintf(open_msg, sizeof open_msg, "%s", r->msg);
		if (errmsg)
			*errmsg = open_msg;
		mrt_reader_free(r);
		return e;
	}
	/* keep the header: unpack a private copy of its bytes */
	{
		size_t off = 0;
		r->hdrbytes = malloc(r->rawlen);
		if (r->hdrbytes == NULL) {
			mrt_reader_free(r);
			return MRT_ENOMEM;
		}
		memcpy(r->hdrbytes, r->raw, r->rawlen);
		if (msgpack_unpack_next(&r->hdr, r->hdrbytes, r->rawlen, &off) !=
		    MSGPACK_UNPACK_SUCCESS) {
			mrt_reader_free(r);
			return MRT_ENOMEM;
		}
	}
	r->have_hdr = 1;
	r->in_stream = 1;
	*rp = r;
	return 0;
}

/* Field names are strings, and none is the trailer's "end". */
static int
check_names(mrt_reader *r, const msgpack_object *rec)
{
	for (uint32_t i = 0; i < rec->via.map.size; i++) {
		const msgpack_object *k = &rec->via.map.ptr[i].key;
		if (k->type != MSGPACK_OBJECT_STR)
			return rfail(r, MRT_EFORMAT, "record %llu: field %u: its "
			    "name is not a string", (unsigned long long)r->count,
			    i + 1);
		if (keyeq(k, TRAILER_KEY))
			return rfail(r, MRT_EFORMAT, "record %llu: field \"%s\" is "
			    "reserved for the trailer", (unsigned long long)r->count,
			    TRAILER_KEY);
	}
	return 0;
}

/* Every top-level field that is a map with a "dtype" must be a tensor. */
static int
check_tensors(mrt_reader *r, const msgpack_object *rec)
{
	for (uint32_t i = 0; i < rec->via.map.size; i++) {
		const msgpack_object_kv *kv = &rec->via.map.ptr[i];
		mrt_tensor t;
		char why[160];
		int k;
		if (kv->val.type != MSGPACK_OBJECT_MAP ||
		    mrt_rec_get(&kv->val, "dtype") == NULL)
			continue;
		if (mrt_tensor_check(&kv->val, &t, why, sizeof why) == 0)
			continue;
		k = kv->key.type == MSGPACK_OBJECT_STR ? (int)kv->key.via.str.size : 1;
		return rfail(r, MRT_ESHAPE, "record %llu: field %.*s: %s",
		    (unsigned long long)r->count, k > 64 ? 64 : k,
		    kv->key.type == MSGPACK_OBJECT_STR ? kv->key.via.str.ptr : "?",
		    why);
	}
	return 0;
}

int
mrt_reader_next(mrt_reader *r, const msgpack_object **rec)
{
	int e;
	if (r->err)
		return r->err;
	for (;;) {
		const msgpack_object *o;
		e = next_object(r);
		if (e < 0)
			return e;
		if (e == 0) {
			if (r->in_stream)
				return rfail(r, MRT_ETRUNC,
				    "truncated: stream ends without its trailer "
				    "after %llu records",
				    (unsigned long long)r->count);
			return 0;
		}
		o = &r->up.data;
		if (!r->in_stream) {
			/* after a trailer: only another stream may follow */
			e = check_header(r, o);
			if (e < 0)
				return e;
			r->in_stream = 1;
			r->seg_count = 0;
			continue;
		}
		if (o->type != MSGPACK_OBJECT_MAP)
			return rfail(r, MRT_EFORMAT, "record %llu: not a map",
			    (unsigned long long)r->count + 1);
		if (o->via.map.size > 0 && keyeq(&o->via.map.ptr[0].key, TRAILER_KEY)) {
			int64_t n;
			if (!keyeq(&o->via.map.ptr[0].val, MRT_STREAM_FORMAT))
				return rfail(r, MRT_EFORMAT, "record %llu: a trailer "
				    "whose end is not \"%s\"",
				    (unsigned long long)r->count + 1,
				    MRT_STREAM_FORMAT);
			if (mrt_rec_int(o, "count", &n) != 0)
				return rfail(r, MRT_EFORMAT,
				    "trailer without a record count");
			if ((uint64_t)n != r->seg_count)
				return rfail(r, MRT_EFORMAT,
				    "trailer says %lld records, stream has %llu",
				    (long long)n, (unsigned long long)r->seg_count);
			r->in_stream = 0;
			continue;
		}
		r->count++;
		r->seg_count++;
		if ((e = check_names(r, o)) < 0 || (e = check_tensors(r, o)) < 0)
			return e;
		*rec = o;
		return 1;
	}
}

const char *
mrt_reader_errmsg(const mrt_reader *r)
{
	return r->err ? r->msg : "no error";
}

uint64_t
mrt_reader_count(const mrt_reader *r)
{
	return r->count;
}

const msgpack_object *
mrt_reader_header(const mrt_reader *r)
{
	return &r->hdr.data;
}

void
mrt_reader_raw(const mrt_reader *r, const char **p, size_t *n)
{
	*p = r->raw;
	*n = r->rawlen;
}

void
mrt_reader_free(mrt_reader *r)
{
	if (r == NULL)
		return;
	msgpack_unpacked_destroy(&r->up);
	msgpack_unpacked_destroy(&r->hdr);
	ZSTD_freeDCtx(r->dctx);
	free(r->in);
	free(r->buf);
	free(r->hdrbytes);
	free(r);
}

/* ---- accessors ----------------------------------------------------------- */

const msgpack_object *
mrt_rec_get(const msgpack_object *rec, const char *key)
{
	if (rec == NULL || rec->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < rec->via.map.size; i++)
		if (keyeq(&rec->via.map.ptr[i].key, key))
			return &rec->via.map.ptr[i].val;
	return NULL;
}

const msgpack_object *
mrt_rec_path(const msgpack_object *rec, const char *path)
{
	const msgpack_object *o = mrt_rec_get(rec, path);
	const char *dot;
	char key[256];
	if (o != NULL)
		return o;
	while ((dot = strchr(path, '.')) != NULL) {
		if ((size_t)(dot - path) >= sizeof key)
			return NULL;
		memcpy(key, path, (size_t)(dot - path));
		key[dot - path] = 0;
		if ((rec = mrt_rec_get(rec, key)) == NULL)
			return NULL;
		path = dot + 1;
		if ((o = mrt_rec_get(rec, path)) != NULL)
			return o;
	}
	return NULL;
}

int
mrt_obj_str(const msgpack_object *o, const char **s, size_t *n)
{
	if (o == NULL)
		return MRT_ENOENT;
	if (o->type != MSGPACK_OBJECT_STR)
		return MRT_ETYPE;
	*s = o->via.str.ptr;
	if (n)
		*n = o->via.str.size;
	return 0;
}

int
mrt_obj_int(const msgpack_object *o, int64_t *v)
{
	if (o == NULL)
		return MRT_ENOENT;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX)
			return MRT_ERANGE;
		*v = (int64_t)o->via.u64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64) {
		double d = o->via.f64;
		if (d != floor(d) || !(d >= -9.2e18 && d <= 9.2e18))
			return MRT_ETYPE;
		*v = (int64_t)d;
		return 0;
	}
	return MRT_ETYPE;
}

int
mrt_obj_num(const msgpack_object *o, double *v)
{
	if (o == NULL)
		return MRT_ENOENT;
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER: *v = (double)o->via.u64; return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: *v = (double)o->via.i64; return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: *v = o->via.f64; return 0;
	default: return MRT_ETYPE;
	}
}

#define WHY(...) (why ? (void)snprintf(why, whycap, __VA_ARGS__) : (void)0)

int
mrt_tensor_check(const msgpack_object *o, mrt_tensor *t, char *why, size_t whycap)
{
	const msgpack_object *dt, *sh, *da;
	const char *s;
	size_t n;
	int d;
	uint64_t count = 1;
	if (o == NULL) {
		WHY("absent");
		return MRT_ENOENT;
	}
	if (o->type != MSGPACK_OBJECT_MAP) {
		WHY("not a tensor map");
		return MRT_ETYPE;
	}
	dt = mrt_rec_get(o, "dtype");
	sh = mrt_rec_get(o, "shape");
	da = mrt_rec_get(o, "data");
	if (mrt_obj_str(dt, &s, &n) != 0 || (d = mrt_dtype_parse(s, n)) < 0) {
		WHY("tensor dtype missing or unknown");
		return MRT_ETYPE;
	}
	if (sh == NULL || sh->type != MSGPACK_OBJECT_ARRAY) {
		WHY("tensor shape missing or not an array");
		return MRT_ESHAPE;
	}
	if (sh->via.array.size > MRT_MAXDIM) {
		WHY("tensor has %u dimensions, at most %d allowed",
		    sh->via.array.size, MRT_MAXDIM);
		return MRT_ESHAPE;
	}
	if (da == NULL || da->type != MSGPACK_OBJECT_BIN) {
		WHY("tensor data missing or not bin");
		return MRT_ETYPE;
	}
	memset(t, 0, sizeof *t);
	t->dtype = (mrt_dtype)d;
	t->ndim = (int)sh->via.array.size;
	for (int i = 0; i < t->ndim; i++) {
		int64_t v;
		if (mrt_obj_int(&sh->via.array.ptr[i], &v) != 0 || v < 0 ||
		    v > MRT_MAX_ELEMS) {
			WHY("tensor shape dimension %d is negative, huge or not an integer", i);
			return MRT_ESHAPE;
		}
		t->shape[i] = v;
		count *= (uint64_t)v;
		if (count > (uint64_t)MRT_MAX_ELEMS) {
			WHY("tensor shape has more than %lld elements",
			    (long long)MRT_MAX_ELEMS);
			return MRT_ESHAPE;
		}
	}
	if (count * mrt_dtype_size(t->dtype) != da->via.bin.size) {
		WHY("tensor data is %u bytes, %s shape needs %llu",
		    da->via.bin.size, mrt_dtype_name(t->dtype),
		    (unsigned long long)(count * mrt_dtype_size(t->dtype)));
		return MRT_ESHAPE;
	}
	t->n = (int64_t)count;
	t->data = da->via.bin.ptr;
	return 0;
}

int
mrt_obj_tensor(const msgpack_object *o, mrt_tensor *t)
{
	return mrt_tensor_check(o, t, NULL, 0);
}

int
mrt_rec_str(const msgpack_object *rec, const char *key, const char **s, size_t *n)
{
	return mrt_obj_str(mrt_rec_get(rec, key), s, n);
}

int
mrt_rec_int(const msgpack_object *rec, const char *key, int64_t *v)
{
	return mrt_obj_int(mrt_rec_get(rec, key), v);
}

int
mrt_rec_num(const msgpack_object *rec, const char *key, double *v)
{
	return mrt_obj_num(mrt_rec_get(rec, key), v);
}

int
mrt_rec_tensor(const msgpack_object *rec, const char *key, mrt_tensor *t)
{
	return mrt_obj_tensor(mrt_rec_get(rec, key), t);
}

int
mrt_rec_strcpy(const msgpack_object *rec, const char *key, char *buf, size_t cap)
{
	const char *s;
	size_t n;
	int e = mrt_rec_str(rec, key, &s, &n);
	if (e != 0)
		return e;
	if (cap == 0 || n >= cap)
		return MRT_ERANGE;
	memcpy(buf, s, n);
	buf[n] = 0;
	return 0;
}

#define CONVERT(T, DST, CAST) do {                                   \
	const unsigned char *p_ = t->data;                           \
	for (int64_t i_ = 0; i_ < t->n; i_++) {                      \
		T v_;                                                \
		memcpy(&v_, p_ + (size_t)i_ * sizeof(T), sizeof(T)); \
		(DST)[i_] = CAST v_;                                 \
	}                                                            \
} while (0)

#define CONVERT_ALL(DST, CAST) do {                                  \
	switch (t->dtype) {                                          \
	case MRT_U8:  CONVERT(uint8_t, DST, CAST); break;            \
	case MRT_I8:  CONVERT(int8_t, DST, CAST); break;             \
	case MRT_I16: CONVERT(int16_t, DST, CAST); break;            \
	case MRT_I32: CONVERT(int32_t, DST, CAST); break;            \
	case MRT_I64: CONVERT(int64_t, DST, CAST); break;            \
	case MRT_F32: CONVERT(float, DST, CAST); break;              \
	case MRT_F64: CONVERT(double, DST, CAST); break;             \
	default: break;                                              \
	}                                                            \
} while (0)

void
mrt_tensor_to_f32(const mrt_tensor *t, float *dst)
{
	CONVERT_ALL(dst, (float));
}

void
mrt_tensor_to_f64(const mrt_tensor *t, double *dst)
{
	CONVERT_ALL(dst, (double));
}

int
mrt_tensor_to_i32(const mrt_tensor *t, int32_t *dst)
{
	switch (t->dtype) {
	case MRT_U8:  CONVERT(uint8_t, dst, (int32_t)); return 0;
	case MRT_I8:  CONVERT(int8_t, dst, (int32_t)); return 0;
	case MRT_I16: CONVERT(int16_t, dst, (int32_t)); return 0;
	case MRT_I32: CONVERT(int32_t, dst, (int32_t)); return 0;
	case MRT_I64: {
		const unsigned char *p = t->data;
		for (int64_t i = 0; i < t->n; i++) {
			int64_t v;
			memcpy(&v, p + (size_t)i * 8, 8);
			if (v < INT32_MIN || v > INT32_MAX)
				return MRT_ERANGE;
			dst[i] = (int32_t)v;
		}
		return 0;
	}
	default:
		return MRT_ETYPE;
	}
}

/* Per-lead numbers from an array field (n entries); def when absent. */
static int
lead_numbers(const msgpack_object *rec, const char *key, int n, double *out,
    double def, int required)
{
	const msgpack_object *a = mrt_rec_get(rec, key);
	if (a == NULL) {
		if (required)
			return MRT_ENOENT;
		for (int i = 0; i < n; i++)
			out[i] = def;
		return 0;
	}
	if (a->type != MSGPACK_OBJECT_ARRAY || (int)a->via.array.size != n)
		return MRT_ESHAPE;
	for (int i = 0; i < n; i++)
		if (mrt_obj_num(&a->via.array.ptr[i], &out[i]) != 0)
			return MRT_ETYPE;
	return 0;
}

/* mrt_rec_signal_mv() into floats (f) or doubles (d), the other NULL. */
static int
signal_mv(const msgpack_object *rec, float *f, double *d, size_t cap,
    int *leads, int64_t *samples)
{
	mrt_tensor t;
	double gain[64], base[64];
	int e = mrt_rec_tensor(rec, "sig", &t), L;
	int64_t S;
	if (e != 0)
		return e;
	if (t.ndim != 2 || t.shape[0] < 1 || t.shape[0] > 64)
		return MRT_ESHAPE;
	L = (int)t.shape[0];
	S = t.shape[1];
	if ((uint64_t)t.n > cap)
		return MRT_ENOMEM;
	*leads = L;
	*samples = S;
	if (t.dtype == MRT_F32 || t.dtype == MRT_F64) {
		if (f)
			mrt_tensor_to_f32(&t, f);
		else
			mrt_tensor_to_f64(&t, d);
		return 0;
	}
	if (t.dtype != MRT_I16 && t.dtype != MRT_I32)
		return MRT_ETYPE;
	if ((e = lead_numbers(rec, "gain", L, gain, 0, 1)) != 0 ||
	    (e = lead_numbers(rec, "baseline", L, base, 0, 0)) != 0)
		return e;
	for (int l = 0; l < L; l++)
		if (!(gain[l] != 0) || !isfinite(gain[l]))
			return MRT_ERANGE;
	for (int l = 0; l < L; l++) {
		const unsigned char *p = (const unsigned char *)t.data +
		    (size_t)l * S * mrt_dtype_size(t.dtype);
		size_t o = (size_t)l * S;
		for (int64_t i = 0; i < S; i++) {
			int32_t v;
			if (t.dtype == MRT_I16) {
				int16_t s16;
				memcpy(&s16, p + 2 * i, 2);
				v = s16 == INT16_MIN ? INT32_MIN : s16;
			} else
				memcpy(&v, p + 4 * i, 4);
			double x = v == INT32_MIN ? NAN : ((double)v - base[l]) / gain[l];
			if (f)
				f[o + i] = (float)x;
			else
				d[o + i] = x;
		}
	}
	return 0;
}

int
mrt_rec_signal_mv(const msgpack_object *rec, float *dst, size_t cap,
    int *leads, int64_t *samples)
{
	return signal_mv(rec, dst, NULL, cap, leads, samples);
}

int
mrt_rec_signal_mv64(const msgpack_object *rec, double *dst, size_t cap,
    int *leads, int64_t *samples)
{
	return signal_mv(rec, NULL, dst, cap, leads, samples);
}

/* ---- writer ---------------------------------------------------------------- */

struct mrt_writer {
	FILE *f;
	ZSTD_CCtx *cctx;
	char *buf;             /* packed, not yet compressed */
	size_t len, cap;
	char *out;
	size_t outcap;
	msgpack_packer pk;
	uint64_t count;
	size_t rec_start;      /* where the open record begins in buf */
	int in_record;
	int err;
};

/* Is p[0..n) one msgpack object within the limits of a record? */
static int
within_limits(const char *p, size_t n)
{
	struct scanner s;
	unsigned bad;
	scan_start(&s);
	return scan_step(&s, (const unsigned char *)p, n, &bad) == SCAN_DONE &&
	    s.scan == n;
}

static int
wbuf_write(void *data, const char *p, size_t n)
{
	mrt_writer *w = data;
	if (w->err)
		return -1;
	if (w->cap - w->len < n) {
		size_t ncap = w->cap ? w->cap : CHUNK;
		char *nb;
		while (ncap - w->len < n) {
			if (ncap > ((size_t)1 << 40)) {
				w->err = MRT_ENOMEM;
				return -1;
			}
			ncap *= 2;
		}
		nb = realloc(w->buf, ncap);
		if (nb == NULL) {
			w->err = MRT_ENOMEM;
			return -1;
		}
		w->buf = nb;
		w->cap = ncap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

/* Compress the buffered bytes; with end, finish the frame. */
static int
wflush(mrt_writer *w, int end)
{
	ZSTD_inBuffer in = { w->buf, w->len, 0 };
	ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
	if (w->err)
		return w->err;
	for (;;) {
		ZSTD_outBuffer out = { w->out, w->outcap, 0 };
		size_t z = ZSTD_compressStream2(w->cctx, &out, &in, mode);
		if (ZSTD_isError(z))
			return w->err = MRT_EZSTD;
		if (out.pos && fwrite(w->out, 1, out.pos, w->f) != out.pos)
			return w->err = MRT_EIO;
		if (end ? z == 0 : in.pos == in.size)
			break;
	}
	w->len = 0;
	return 0;
}

int
mrt_writer_open(mrt_writer **wp, FILE *f, const char *writer, int level)
{
	mrt_writer *w = calloc(1, sizeof *w);
	const char *threads = getenv("MERIT_ZSTD_THREADS");
	int nthreads = threads ? atoi(threads) : 1;
	*wp = NULL;
	if (w == NULL)
		return MRT_ENOMEM;
	w->f = f;
	w->cctx = ZSTD_createCCtx();
	w->outcap = ZSTD_CStreamOutSize();
	w->out = malloc(w->outcap);
	if (w->cctx == NULL || w->out == NULL) {
		mrt_writer_free(w);
		return MRT_ENOMEM;
	}
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level ? level : 3);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	/* a worker thread overlaps compression with the filter's own work;
	 * the bytes are the same for any number of workers >= 1 */
	if (nthreads > 0)
		ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_nbWorkers, nthreads);
	msgpack_packer_init(&w->pk, w, wbuf_write);
	msgpack_pack_map(&w->pk, 3);
	mrt_pack_kv_str(&w->pk, "format", MRT_STREAM_FORMAT);
	mrt_pack_kv_int(&w->pk, "version", MRT_STREAM_VERSION);
	mrt_pack_kv_str(&w->pk, "writer", writer ? writer : "merit");
	if (w->err) {
		int e = w->err;
		mrt_writer_free(w);
		return e;
	}
	*wp = w;
	return 0;
}

msgpack_packer *
mrt_writer_packer(mrt_writer *w)
{
	return &w->pk;
}

int
mrt_writer_begin(mrt_writer *w, uint32_t nfields)
{
	if (w->err)
		return w->err;
	if (w->in_record)
		return MRT_EINVAL;
	w->in_record = 1;
	w->rec_start = w->len;
	if (msgpack_pack_map(&w->pk, nfields) != 0)
		return w->err ? w->err : MRT_EIO;
	return 0;
}

static int
skipped(const msgpack_object *k, const char *const *skip)
{
	if (keyeq(k, TRAILER_KEY))
		return 1;
	for (; skip && *skip; skip++)
		if (keyeq(k, *skip))
			return 1;
	return 0;
}

int
mrt_writer_copy(mrt_writer *w, const msgpack_object *rec,
    const char *const *skip, uint32_t nextra)
{
	uint32_t keep = 0;
	int e;
	if (rec->type != MSGPACK_OBJECT_MAP)
		return MRT_ETYPE;
	for (uint32_t i = 0; i < rec->via.map.size; i++)
		keep += !skipped(&rec->via.map.ptr[i].key, skip);
	if ((e = mrt_writer_begin(w, keep + nextra)) != 0)
		return e;
	for (uint32_t i = 0; i < rec->via.map.size; i++) {
		const msgpack_object_kv *kv = &rec->via.map.ptr[i];
		if (skipped(&kv->key, skip))
			continue;
		msgpack_pack_object(&w->pk, kv->key);
		msgpack_pack_object(&w->pk, kv->val);
	}
	return w->err;
}

int
mrt_writer_end(mrt_writer *w)
{
	if (w->err)
		return w->err;
	if (!w->in_record)
		return MRT_EINVAL;
	w->in_record = 0;
	/* what a reader would refuse is not written */
	if (!within_limits(w->buf + w->rec_start, w->len - w->rec_start))
		return w->err = MRT_ERANGE;
	w->count++;
	if (w->len >= 4 * CHUNK)
		return wflush(w, 0);
	return 0;
}

int
mrt_writer_raw(mrt_writer *w, const char *p, size_t n)
{
	if (w->err)
		return w->err;
	if (n == 0 || (((unsigned char)p[0] & 0xf0) != 0x80 &&
	    (unsigned char)p[0] != 0xde && (unsigned char)p[0] != 0xdf))
		return MRT_EINVAL;
	if (!within_limits(p, n))
		return MRT_ERANGE;
	if (wbuf_write(w, p, n) != 0)
		return w->err;
	w->count++;
	if (w->len >= 4 * CHUNK)
		return wflush(w, 0);
	return 0;
}

uint64_t
mrt_writer_count(const mrt_writer *w)
{
	return w->count;
}

int
mrt_writer_close(mrt_writer *w)
{
	if (w->err)
		return w->err;
	if (w->in_record)
		return MRT_EINVAL;
	msgpack_pack_map(&w->pk, 2);
	mrt_pack_kv_str(&w->pk, TRAILER_KEY, MRT_STREAM_FORMAT);
	mrt_pack_kv_int(&w->pk, "count", (int64_t)w->count);
	if (wflush(w, 1) != 0)
		return w->err;
	if (fflush(w->f) != 0)
		return w->err = MRT_EIO;
	return 0;
}

void
mrt_writer_free(mrt_writer *w)
{
	if (w == NULL)
		return;
	ZSTD_freeCCtx(w->cctx);
	free(w->buf);
	free(w->out);
	free(w);
}

/* ---- packing helpers ------------------------------------------------------- */

int
mrt_pack_strn(msgpack_packer *pk, const char *s, size_t n)
{
	if (msgpack_pack_str(pk, n) != 0 || msgpack_pack_str_body(pk, s, n) != 0)
		return MRT_EIO;
	return 0;
}

int
mrt_pack_str(msgpack_packer *pk, const char *s)
{
	return mrt_pack_strn(pk, s, strlen(s));
}

int
mrt_pack_tensor(msgpack_packer *pk, mrt_dtype dtype, int ndim,
    const int64_t *shape, const void *data)
{
	uint64_t n = 1;
	int e = 0;
	if ((unsigned)dtype >= MRT_NDTYPE || ndim < 0 || ndim > MRT_MAXDIM)
		return MRT_EINVAL;
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0)
			return MRT_EINVAL;
		n *= (uint64_t)shape[i];
	}
	n *= mrt_dtype_size(dtype);
	if (n > UINT32_MAX)
		return MRT_ENOMEM;
	e |= msgpack_pack_map(pk, 3);
	e |= mrt_pack_str(pk, "dtype");
	e |= mrt_pack_str(pk, mrt_dtype_name(dtype));
	e |= mrt_pack_str(pk, "shape");
	e |= msgpack_pack_array(pk, (size_t)ndim);
	for (int i = 0; i < ndim; i++)
		e |= msgpack_pack_int64(pk, shape[i]);
	e |= mrt_pack_str(pk, "data");
	e |= msgpack_pack_bin(pk, (size_t)n);
	e |= msgpack_pack_bin_body(pk, data, (size_t)n);
	return e ? MRT_EIO : 0;
}

int
mrt_pack_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
	return (mrt_pack_str(pk, key) || mrt_pack_str(pk, val)) ? MRT_EIO : 0;
}

int
mrt_pack_kv_int(msgpack_packer *pk, const char *key, int64_t val)
{
	return (mrt_pack_str(pk, key) || msgpack_pack_int64(pk, val)) ? MRT_EIO : 0;
}

int
mrt_pack_kv_f64(msgpack_packer *pk, const char *key, double val)
{
	return (mrt_pack_str(pk, key) || msgpack_pack_double(pk, val)) ? MRT_EIO : 0;
}

int
mrt_pack_kv_mv_units(msgpack_packer *pk, int nlead)
{
	int e = mrt_pack_str(pk, "gain");
	e |= msgpack_pack_array(pk, (size_t)nlead);
	for (int l = 0; l < nlead; l++)
		e |= msgpack_pack_double(pk, 1.0);
	e |= mrt_pack_str(pk, "baseline");
	e |= msgpack_pack_array(pk, (size_t)nlead);
	for (int l = 0; l < nlead; l++)
		e |= msgpack_pack_int(pk, 0);
	return e ? MRT_EIO : 0;
}

int
mrt_pack_kv_tensor(msgpack_packer *pk, const char *key, mrt_dtype dtype,
    int ndim, const int64_t *shape, const void *data)
{
	if (mrt_pack_str(pk, key) != 0)
		return MRT_EIO;
	return mrt_pack_tensor(pk, dtype, ndim, shape, data);
}
