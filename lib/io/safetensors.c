/*
 * safetensors.c: safetensors files (formats/merit-checkpoint.5).
 *
 * Layout: u64 little-endian header length N, N bytes of JSON, data area.
 * The writer builds the header with jansson, pads it with spaces so the data
 * area starts at a multiple of 8, lays the tensors out without holes (largest
 * element size first, the caller's order otherwise, so every tensor is
 * aligned to its element size) and renames a fsync'ed temporary file over
 * the target.  The reader loads the whole file, parses the header with
 * jansson and checks every entry before handing out views into its buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "io/safetensors.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lib/safetensors supports little-endian hosts only"
#endif

/* safetensors dtype names, indexed by mrt_dtype. */
static const char *const stname[MRT_NDTYPE] = {
	[MRT_U8] = "U8", [MRT_I8] = "I8", [MRT_I16] = "I16", [MRT_I32] = "I32",
	[MRT_I64] = "I64", [MRT_F32] = "F32", [MRT_F64] = "F64",
};

/* dtypes of the safetensors format that this module does not handle. */
static const char *const unsupported[] = {
	"BOOL", "U16", "U32", "U64", "F16", "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0",
	"F4", "F6_E2M3", "F6_E3M2", "C64",
};

#define METAKEY "__metadata__"

typedef struct {
	const char *name;   /* key in the header object */
	mrt_dtype dtype;
	int ndim;
	int64_t shape[MRT_MAXDIM];
	uint64_t begin, end; /* offsets in the data area */
} entry;

struct mrt_st {
	unsigned char *buf; /* the whole file */
	json_t *root;       /* header; owns names and metadata strings */
	json_t *meta;       /* borrowed from root, may be NULL */
	const unsigned char *data;
	entry *e;           /* by data offset */
	const entry **byname; /* e sorted by name */
	size_t n;
};

/* Element count of a shape and its size in bytes; -1 on overflow past limit. */
static int
shape_bytes(const int64_t *shape, int ndim, size_t esize, uint64_t limit, uint64_t *bytes)
{
	uint64_t n = 1;
	for (int d = 0; d < ndim; d++) {
		if (shape[d] < 0)
			return -1;
		if (shape[d] == 0) {
			n = 0;
			continue;
		}
		if (n && (uint64_t)shape[d] > limit / n)
			n = limit + 1; /* keep going: a later 0 makes it empty */
		else
			n *= (uint64_t)shape[d];
	}
	if (n > limit / esize)
		return -1;
	*bytes = n * esize;
	return 0;
}

static void
shape_str(char *s, size_t cap, const int64_t *shape, int ndim)
{
	size_t k = 0;
	k += (size_t)snprintf(s, cap, "[");
	for (int d = 0; d < ndim && k < cap; d++)
		k += (size_t)snprintf(s + k, cap - k, "%s%" PRId64, d ? "," : "", shape[d]);
	if (k < cap)
		snprintf(s + k, cap - k, "]");
}

/* ---- writing ------------------------------------------------------------- */

static int
write_all(int fd, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n) {
		ssize_t w = write(fd, b, n > ((size_t)1 << 30) ? (size_t)1 << 30 : n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Check the caller's tensors; the data layout goes into order[] (tensors in
 * data order) and off[] (begin, end of tensor i at 2i, 2i+1). */
static int
plan(const char *path, const mrt_st_tensor *t, size_t n, size_t *order, uint64_t *off,
     char *err, size_t cap)
{
	char sh[160];
	uint64_t pos = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const mrt_st_tensor *x = &t[i];
		if (!x->name || !*x->name || !strcmp(x->name, METAKEY))
			return mrt_errf(err, cap, MRT_EINVAL, "%s: tensor %zu: bad name '%s'", path, i,
				    x->name ? x->name : "(null)");
		if ((unsigned)x->dtype >= MRT_NDTYPE)
			return mrt_errf(err, cap, MRT_EINVAL, "%s: tensor %s: bad dtype %d", path,
				    x->name, (int)x->dtype);
		if (x->ndim < 0 || x->ndim > MRT_MAXDIM)
			return mrt_errf(err, cap, MRT_EINVAL, "%s: tensor %s: %d dimensions", path,
				    x->name, x->ndim);
		uint64_t b;
		if (shape_bytes(x->shape, x->ndim, mrt_dtype_size(x->dtype), MRT_ST_MAX_FILE, &b)) {
			shape_str(sh, sizeof sh, x->shape, x->ndim);
			return mrt_errf(err, cap, MRT_EINVAL, "%s: tensor %s: bad shape %s", path,
				    x->name, sh);
		}
		if (b && !x->data)
			return mrt_errf(err, cap, MRT_EINVAL, "%s: tensor %s: no data", path, x->name);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t[j].name, x->name))
				return mrt_errf(err, cap, MRT_EINVAL, "%s: duplicate tensor name %s",
					    path, x->name);
		off[2 * i + 1] = b; /* size for now */
	}
	/* Largest element size first: each tensor stays aligned to its size. */
	for (size_t es = 8; es >= 1; es /= 2)
		for (size_t i = 0; i < n; i++)
			if (mrt_dtype_size(t[i].dtype) == es) {
				order[k++] = i;
				off[2 * i] = pos;
				pos += off[2 * i + 1];
				off[2 * i + 1] = pos;
				if (pos > MRT_ST_MAX_FILE)
					return mrt_errf(err, cap, MRT_ERANGE, "%s: tensors over %" PRIu64
						    " bytes", path, MRT_ST_MAX_FILE);
			}
	return 0;
}

/* Header JSON (unpadded) for tensors t laid out at off[]; NULL on error. */
static char *
header(const char *path, const mrt_st_tensor *t, size_t n, const size_t *order,
       const uint64_t *off, const char *const *meta, int *rc, char *err, size_t cap)
{
	json_t *root = json_object(), *m = NULL;
	char *s = NULL;
	*rc = MRT_ENOMEM;
	if (!root)
		goto nomem;
	if (meta && meta[0]) {
		if (!(m = json_object()) || json_object_set_new(root, METAKEY, m))
			goto nomem;
		for (size_t i = 0; meta[i]; i += 2) {
			if (!meta[i + 1]) {
				*rc = mrt_errf(err, cap, MRT_EINVAL, "%s: metadata key %s has no value",
					   path, meta[i]);
				goto out;
			}
			json_t *v = json_string(meta[i + 1]);
			if (!v) {
				*rc = mrt_errf(err, cap, MRT_EINVAL, "%s: metadata %s: value is not "
					   "UTF-8", path, meta[i]);
				goto out;
			}
			if (json_object_set_new(m, meta[i], v)) {
				*rc = mrt_errf(err, cap, MRT_EINVAL, "%s: metadata key %s is not UTF-8",
					   path, meta[i]);
				goto out;
			}
		}
	}
	for (size_t k = 0; k < n; k++) {
		const mrt_st_tensor *x = &t[order[k]];
		json_t *e = json_object(), *sh = json_array(), *o = json_array();
		if (!e || !sh || !o) {
			json_decref(e);
			json_decref(sh);
			json_decref(o);
			goto nomem;
		}
		uint64_t b = off[2 * order[k]], z = off[2 * order[k] + 1];
		int bad = json_object_set_new(e, "dtype", json_string(stname[x->dtype])) |
			  json_object_set_new(e, "shape", sh) |
			  json_object_set_new(e, "data_offsets", o);
		for (int d = 0; d < x->ndim; d++)
			bad |= json_array_append_new(sh, json_integer(x->shape[d]));
		bad |= json_array_append_new(o, json_integer((json_int_t)b));
		bad |= json_array_append_new(o, json_integer((json_int_t)z));
		if (json_object_set_new(root, x->name, e) || bad) {
			*rc = mrt_errf(err, cap, MRT_EINVAL, "%s: tensor %s: cannot encode (name not "
				   "UTF-8?)", path, x->name);
			goto out;
		}
	}
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (!s)
		goto nomem;
	*rc = 0;
	goto out;
nomem:
	*rc = mrt_errf(err, cap, MRT_ENOMEM, "%s: out of memory building the header", path);
out:
	json_decref(root);
	return s;
}

int
mrt_st_write(const char *path, const mrt_st_tensor *t, size_t n, const char *const *meta,
	     char *err, size_t errcap)
{
	static atomic_uint seq;
	size_t *order = malloc((n ? n : 1) * sizeof *order);
	uint64_t *off = malloc((n ? 2 * n : 1) * sizeof *off);
	char *json = NULL, *tmp = NULL;
	int fd = -1, rc;
	if (err && errcap)
		*err = 0;
	if (!order || !off) {
		rc = mrt_errf(err, errcap, MRT_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if ((rc = plan(path, t, n, order, off, err, errcap)))
		goto out;
	if (!(json = header(path, t, n, order, off, meta, &rc, err, errcap)))
		goto out;
	size_t len = strlen(json), pad = (8 - len % 8) % 8;
	if (len + pad > MRT_ST_MAX_HEADER) {
		rc = mrt_errf(err, errcap, MRT_ERANGE, "%s: header of %zu bytes over the limit of %"
			  PRIu64, path, len + pad, MRT_ST_MAX_HEADER);
		goto out;
	}
	size_t tcap = strlen(path) + 64;
	if (!(tmp = malloc(tcap))) {
		rc = mrt_errf(err, errcap, MRT_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		snprintf(tmp, tcap, "%s.%ld.%u.tmp", path, (long)getpid(), atomic_fetch_add(&seq, 1));
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = mrt_errf(err, errcap, MRT_EIO, "%s: cannot create temporary file: %s", path,
			  strerror(errno));
		goto out;
	}
	unsigned char len8[8];
	uint64_t hl = len + pad;
	for (int i = 0; i < 8; i++)
		len8[i] = (unsigned char)(hl >> (8 * i));
	static const char spaces[8] = "        ";
	int bad = write_all(fd, len8, 8) || write_all(fd, json, len) || write_all(fd, spaces, pad);
	for (size_t k = 0; k < n && !bad; k++) {
		size_t i = order[k];
		bad = write_all(fd, t[i].data, (size_t)(off[2 * i + 1] - off[2 * i]));
	}
	if (bad || fsync(fd)) {
		rc = mrt_errf(err, errcap, MRT_EIO, "%s: write failed: %s", tmp, strerror(errno));
		goto out;
	}
	int c = close(fd);
	fd = -1;
	if (c) {
		rc = mrt_errf(err, errcap, MRT_EIO, "%s: close failed: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path)) {
		rc = mrt_errf(err, errcap, MRT_EIO, "%s: cannot rename %s: %s", path, tmp,
			  strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	/* Make the rename durable: fsync the directory (best effort). */
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
	int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dir);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(json);
	free(order);
	free(off);
	return rc;
}

/* ---- reading ------------------------------------------------------------- */

static int
by_offset(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp((*(const entry *const *)a)->name, (*(const entry *const *)b)->name);
}

static int
parse_dtype(const char *path, const char *name, const json_t *v, mrt_dtype *dt, char *err,
	    size_t cap)
{
	if (!json_is_string(v))
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: tensor %s: dtype is not a string", path,
			    name);
	const char *s = json_string_value(v);
	for (int i = 0; i < MRT_NDTYPE; i++)
		if (!strcmp(s, stname[i])) {
			*dt = (mrt_dtype)i;
			return 0;
		}
	for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++)
		if (!strcmp(s, unsupported[i]))
			return mrt_errf(err, cap, MRT_ETYPE, "%s: tensor %s: dtype %s not supported",
				    path, name, s);
	return mrt_errf(err, cap, MRT_ETYPE, "%s: tensor %s: unknown dtype \"%.40s\"", path, name, s);
}

static int
parse_entry(const char *path, const char *name, json_t *v, uint64_t datalen, entry *e,
	    char *err, size_t cap)
{
	char sh[160];
	const char *k;
	json_t *x;
	if (!json_is_object(v))
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: tensor %s: entry is not an object", path,
			    name);
	json_object_foreach(v, k, x)
		if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets"))
			return mrt_errf(err, cap, MRT_EFORMAT, "%s: tensor %s: unknown field \"%.40s\"",
				    path, name, k);
	json_t *dt = json_object_get(v, "dtype"), *sp = json_object_get(v, "shape");
	json_t *of = json_object_get(v, "data_offsets");
	if (!dt || !sp || !of)
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: tensor %s: no %s", path, name,
			    !dt ? "dtype" : !sp ? "shape" : "data_offsets");
	e->name = name;
	int rc = parse_dtype(path, name, dt, &e->dtype, err, cap);
	if (rc)
		return rc;
	if (!json_is_array(sp))
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: tensor %s: shape is not a list", path, name);
	if (json_array_size(sp) > MRT_MAXDIM)
		return mrt_errf(err, cap, MRT_ERANGE, "%s: tensor %s: shape has %zu dimensions, at "
			    "most %d supported", path, name, json_array_size(sp), MRT_MAXDIM);
	e->ndim = (int)json_array_size(sp);
	for (int d = 0; d < e->ndim; d++) {
		json_t *s = json_array_get(sp, (size_t)d);
		if (!json_is_integer(s))
			return mrt_errf(err, cap, MRT_EFORMAT, "%s: tensor %s: shape is not a list of "
				    "integers", path, name);
		e->shape[d] = json_integer_value(s);
	}
	shape_str(sh, sizeof sh, e->shape, e->ndim);
	for (int d = 0; d < e->ndim; d++)
		if (e->shape[d] < 0)
			return mrt_errf(err, cap, MRT_ERANGE, "%s: tensor %s: shape %s has a negative "
				    "dimension", path, name, sh);
	uint64_t bytes;
	if (shape_bytes(e->shape, e->ndim, mrt_dtype_size(e->dtype), MRT_ST_MAX_FILE, &bytes))
		return mrt_errf(err, cap, MRT_ERANGE, "%s: tensor %s: shape %s is too large", path,
			    name, sh);
	if (!json_is_array(of) || json_array_size(of) != 2 ||
	    !json_is_integer(json_array_get(of, 0)) || !json_is_integer(json_array_get(of, 1)))
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: tensor %s: data_offsets is not a pair of "
			    "integers", path, name);
	json_int_t b = json_integer_value(json_array_get(of, 0));
	json_int_t z = json_integer_value(json_array_get(of, 1));
	if (b < 0 || z < b)
		return mrt_errf(err, cap, MRT_ERANGE, "%s: tensor %s: bad data_offsets [%" JSON_INTEGER_FORMAT
			    ", %" JSON_INTEGER_FORMAT ")", path, name, b, z);
	if ((uint64_t)z > datalen)
		return mrt_errf(err, cap, MRT_ETRUNC, "%s: tensor %s: data_offsets [%" JSON_INTEGER_FORMAT
			    ", %" JSON_INTEGER_FORMAT ") beyond the data area of %" PRIu64 " bytes "
			    "(truncated file?)", path, name, b, z, datalen);
	if ((uint64_t)(z - b) != bytes)
		return mrt_errf(err, cap, MRT_ESHAPE, "%s: tensor %s: shape %s needs %" PRIu64 " bytes, "
			    "offsets give %" PRIu64, path, name, sh, bytes,
			    (uint64_t)(z - b));
	e->begin = (uint64_t)b;
	e->end = (uint64_t)z;
	return 0;
}

/* Parse and check the header of s (whose buf holds the file of size sz). */
static int
parse(mrt_st *s, const char *path, uint64_t sz, char *err, size_t cap)
{
	if (sz < 8)
		return mrt_errf(err, cap, MRT_ETRUNC, "%s: file of %" PRIu64 " bytes, shorter than "
			    "the 8-byte header length", path, sz);
	uint64_t hl = 0;
	for (int i = 0; i < 8; i++)
		hl |= (uint64_t)s->buf[i] << (8 * i);
	if (hl > MRT_ST_MAX_HEADER)
		return mrt_errf(err, cap, MRT_ERANGE, "%s: header length %" PRIu64 " over the limit of "
			    "%" PRIu64 " bytes", path, hl, MRT_ST_MAX_HEADER);
	if (hl > sz - 8)
		return mrt_errf(err, cap, MRT_ETRUNC, "%s: header length %" PRIu64 " beyond file size %"
			    PRIu64, path, hl, sz);
	json_error_t je;
	s->root = json_loadb((const char *)s->buf + 8, (size_t)hl, JSON_REJECT_DUPLICATES, &je);
	if (!s->root) {
		/* jansson says: duplicate object key near '"NAME"' */
		const char *q = strstr(je.text, "near '");
		if (json_error_code(&je) == json_error_duplicate_key && q)
			return mrt_errf(err, cap, MRT_EFORMAT, "%s: header: duplicate name %.*s", path,
				    (int)strlen(q + 6) - 1, q + 6);
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: header is not valid JSON: %s at byte %d",
			    path, je.text, je.position);
	}
	if (!json_is_object(s->root))
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: header is not a JSON object", path);
	s->data = s->buf + 8 + hl;
	uint64_t datalen = sz - 8 - hl;
	size_t cnt = json_object_size(s->root);
	s->e = calloc(cnt ? cnt : 1, sizeof *s->e);
	s->byname = calloc(cnt ? cnt : 1, sizeof *s->byname);
	if (!s->e || !s->byname)
		return mrt_errf(err, cap, MRT_ENOMEM, "%s: out of memory", path);
	const char *key;
	json_t *v;
	json_object_foreach(s->root, key, v) {
		if (!strcmp(key, METAKEY)) {
			const char *mk;
			json_t *mv;
			if (!json_is_object(v))
				return mrt_errf(err, cap, MRT_EFORMAT, "%s: %s is not an object", path,
					    METAKEY);
			json_object_foreach(v, mk, mv)
				if (!json_is_string(mv))
					return mrt_errf(err, cap, MRT_ETYPE, "%s: %s: value of %.60s is "
						    "not a string", path, METAKEY, mk);
			s->meta = v;
			continue;
		}
		int rc = parse_entry(path, key, v, datalen, &s->e[s->n], err, cap);
		if (rc)
			return rc;
		s->n++;
	}
	qsort(s->e, s->n, sizeof *s->e, by_offset);
	uint64_t pos = 0;
	const entry *prev = NULL;
	for (size_t i = 0; i < s->n; i++) {
		const entry *e = &s->e[i];
		if (e->begin == e->end && e->begin <= pos)
			continue; /* empty tensors take no room */
		if (e->begin < pos)
			return mrt_errf(err, cap, MRT_EFORMAT, "%s: tensor %s: data_offsets [%" PRIu64
				    ", %" PRIu64 ") overlap tensor %s [%" PRIu64 ", %" PRIu64 ")",
				    path, e->name, e->begin, e->end, prev->name, prev->begin,
				    prev->end);
		if (e->begin > pos)
			return mrt_errf(err, cap, MRT_EFORMAT, "%s: hole in the data area: bytes [%"
				    PRIu64 ", %" PRIu64 ") belong to no tensor", path, pos, e->begin);
		pos = e->end;
		prev = e;
	}
	if (pos != datalen)
		return mrt_errf(err, cap, MRT_EFORMAT, "%s: hole in the data area: bytes [%" PRIu64
			    ", %" PRIu64 ") after the last tensor belong to no tensor", path, pos,
			    datalen);
	for (size_t i = 0; i < s->n; i++)
		s->byname[i] = &s->e[i];
	qsort(s->byname, s->n, sizeof *s->byname, by_name);
	return 0;
}

int
mrt_st_open(mrt_st **stp, const char *path, char *err, size_t errcap)
{
	*stp = NULL;
	if (err && errcap)
		*err = 0;
	mrt_st *s = calloc(1, sizeof *s);
	if (!s)
		return mrt_errf(err, errcap, MRT_ENOMEM, "%s: out of memory", path);
	int rc = 0;
	FILE *f = fopen(path, "rb");
	struct stat sb;
	if (!f || fstat(fileno(f), &sb)) {
		rc = mrt_errf(err, errcap, MRT_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = mrt_errf(err, errcap, MRT_EIO, "%s: not a regular file", path);
		goto out;
	}
	uint64_t sz = (uint64_t)sb.st_size;
	if (sz > MRT_ST_MAX_FILE) {
		rc = mrt_errf(err, errcap, MRT_ENOMEM, "%s: file of %" PRIu64 " bytes over the limit "
			  "of %" PRIu64, path, sz, MRT_ST_MAX_FILE);
		goto out;
	}
	if (!(s->buf = malloc(sz ? (size_t)sz : 1))) {
		rc = mrt_errf(err, errcap, MRT_ENOMEM, "%s: out of memory for %" PRIu64 " bytes", path,
			  sz);
		goto out;
	}
	size_t got = fread(s->buf, 1, (size_t)sz, f);
	if (got != sz) {
		rc = ferror(f) ? mrt_errf(err, errcap, MRT_EIO, "%s: read failed: %s", path,
				      strerror(errno))
			       : mrt_errf(err, errcap, MRT_ETRUNC, "%s: file shrank while reading",
				      path);
		goto out;
	}
	rc = parse(s, path, sz, err, errcap);
out:
	if (f)
		fclose(f);
	if (rc)
		mrt_st_free(s);
	else
		*stp = s;
	return rc;
}

size_t
mrt_st_count(const mrt_st *st)
{
	return st ? st->n : 0;
}

static void
view(const mrt_st *st, const entry *e, mrt_st_tensor *out)
{
	out->name = e->name;
	out->dtype = e->dtype;
	out->ndim = e->ndim;
	memcpy(out->shape, e->shape, sizeof out->shape);
	out->data = st->data + e->begin;
}

int
mrt_st_get(const mrt_st *st, size_t i, mrt_st_tensor *out)
{
	if (!st || i >= st->n)
		return MRT_EINVAL;
	view(st, &st->e[i], out);
	return 0;
}

int
mrt_st_find(const mrt_st *st, const char *name, mrt_st_tensor *out)
{
	size_t lo = 0, hi = st ? st->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const entry *e = st->byname[mid];
		int c = strcmp(name, e->name);
		if (!c) {
			view(st, e, out);
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return MRT_ENOENT;
}

const char *
mrt_st_meta(const mrt_st *st, const char *key)
{
	if (!st || !st->meta)
		return NULL;
	return json_string_value(json_object_get(st->meta, key));
}

int
mrt_st_meta_each(const mrt_st *st, int (*fn)(void *ctx, const char *key, const char *value),
		 void *ctx)
{
	const char *key;
	json_t *v;
	int rc;
	if (!st || !st->meta)
		return 0;
	json_object_foreach(st->meta, key, v)
		if ((rc = fn(ctx, key, json_string_value(v))))
			return rc;
	return 0;
}

void
mrt_st_free(mrt_st *st)
{
	if (!st)
		return;
	json_decref(st->root);
	free(st->buf);
	free(st->e);
	free(st->byname);
	free(st);
}
