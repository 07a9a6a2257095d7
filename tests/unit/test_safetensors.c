/*
 * test_safetensors: lib/safetensors round trips, atomic writing, every kind
 * of bad file (crafted byte by byte) refused with its message, and files
 * exchanged with an independent reader and writer (python3 + numpy).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "check.h"


static char dir[64];

static const char *
tmp(const char *name)
{
	static char p[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

/* Number of entries in directory d (without . and ..). */
static int
entries(const char *d)
{
	DIR *dp = opendir(d);
	struct dirent *de;
	int n = 0;
	if (!dp)
		return -1;
	while ((de = readdir(dp)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(dp);
	return n;
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(p, 1, n, f) == n);
	if (f)
		CHECK(fclose(f) == 0);
}

static unsigned char *
read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	*n = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	b = malloc(len > 0 ? (size_t)len : 1);
	if (b && fread(b, 1, (size_t)len, f) == (size_t)len)
		*n = (size_t)len;
	fclose(f);
	return b;
}

/* A file with header length hl (as stored), header text hdr, datalen bytes
 * of data (values 0, 1, 2, ...). */
static void
craft_len(const char *path, uint64_t hl, const char *hdr, size_t datalen)
{
	size_t n = strlen(hdr);
	unsigned char *b = malloc(8 + n + datalen + 1);
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(hl >> (8 * i));
	memcpy(b + 8, hdr, n);
	for (size_t i = 0; i < datalen; i++)
		b[8 + n + i] = (unsigned char)i;
	write_file(path, b, 8 + n + datalen);
	free(b);
}

static void
craft(const char *path, const char *hdr, size_t datalen)
{
	craft_len(path, strlen(hdr), hdr, datalen);
}

/* Open path expecting error rc with want in the message: 1 if so. */
static int
expect_bad(const char *path, int rc, const char *want, int line)
{
	char err[512] = "";
	mrt_st *st = (mrt_st *)&err; /* must be reset to NULL */
	int got = mrt_st_open(&st, path, err, sizeof err);
	int ok = got == rc && strstr(err, want) && !st && strstr(err, path);
	if (!ok) {
		fprintf(stderr, "line %d: want %d '%s', got %d '%s'\n", line, rc, want, got, err);
		fails++;
	}
	mrt_st_free(st);
	return ok;
}
#define BAD(path, rc, want) expect_bad(path, rc, want, __LINE__)

/* ---- round trip ---------------------------------------------------------- */

static float f32[2 * 3];
static double f64[4];
static int32_t i32[3] = { INT32_MIN, -1, INT32_MAX };
static int64_t i64[2 * 2] = { INT64_MIN, -2, 3, INT64_MAX };
static int16_t i16[3] = { -32768, 7, 32767 };
static uint8_t u8[5] = { 0, 1, 127, 128, 255 };
static int8_t i8[1] = { -128 };
static float scalar = 2.5f;

#define NT 9
static const char *const meta[] = {
	"format", "merit", "step", "1234", "note", "quote \" backslash \\ newline \n utf-8 \xc3\xa9",
	"empty", "", NULL,
};

static void
fill(mrt_st_tensor *t)
{
	for (int i = 0; i < 6; i++)
		f32[i] = (float)i * 0.5f - 1.25f;
	for (int i = 0; i < 4; i++)
		f64[i] = 1.0 / (i + 3);
	mrt_st_tensor v[NT] = {
		{ "u8", MRT_U8, 1, { 5 }, u8 },
		{ "w.f32", MRT_F32, 2, { 2, 3 }, f32 },
		{ "i16", MRT_I16, 1, { 3 }, i16 },
		{ "f64", MRT_F64, 1, { 4 }, f64 },
		{ "i32", MRT_I32, 1, { 3 }, i32 },
		{ "i64", MRT_I64, 2, { 2, 2 }, i64 },
		{ "i8", MRT_I8, 3, { 1, 1, 1 }, i8 },
		{ "scalar", MRT_F32, 0, { 0 }, &scalar },
		{ "empty", MRT_F32, 2, { 0, 4 }, NULL },
	};
	memcpy(t, v, sizeof v);
}

static size_t
nbytes(const mrt_st_tensor *t)
{
	size_t n = mrt_dtype_size(t->dtype);
	for (int d = 0; d < t->ndim; d++)
		n *= (size_t)t->shape[d];
	return n;
}

static void
test_roundtrip(void)
{
	mrt_st_tensor t[NT], x;
	char err[512] = "";
	fill(t);
	const char *p = tmp("rt.safetensors");
	CHECK(mrt_st_write(p, t, NT, meta, err, sizeof err) == 0);
	CHECK(!*err);
	CHECK(entries(dir) == 1);
	mrt_st *st;
	CHECK(mrt_st_open(&st, p, err, sizeof err) == 0);
	if (!st) {
		fprintf(stderr, "open: %s\n", err);
		fails++;
		return;
	}
	CHECK(mrt_st_count(st) == NT);
	for (int i = 0; i < NT; i++) {
		CHECK(mrt_st_find(st, t[i].name, &x) == 0);
		CHECK(!strcmp(x.name, t[i].name));
		CHECK(x.dtype == t[i].dtype);
		CHECK(x.ndim == t[i].ndim);
		for (int d = 0; d < t[i].ndim; d++)
			CHECK(x.shape[d] == t[i].shape[d]);
		CHECK(nbytes(&x) == nbytes(&t[i]));
		CHECK(!nbytes(&x) || !memcmp(x.data, t[i].data, nbytes(&x)));
		/* natural alignment in files written here */
		CHECK((uintptr_t)x.data % mrt_dtype_size(x.dtype) == 0);
	}
	/* get walks the data area in order, every tensor once */
	size_t seen = 0;
	const char *prevend = NULL;
	for (size_t i = 0; i < mrt_st_count(st); i++) {
		CHECK(mrt_st_get(st, i, &x) == 0);
		CHECK(!prevend || (const char *)x.data == prevend);
		prevend = (const char *)x.data + nbytes(&x);
		for (int j = 0; j < NT; j++)
			if (!strcmp(x.name, t[j].name))
				seen |= (size_t)1 << j;
	}
	CHECK(seen == (1u << NT) - 1);
	CHECK(mrt_st_get(st, NT, &x) == MRT_EINVAL);
	CHECK(mrt_st_find(st, "nope", &x) == MRT_ENOENT);
	CHECK(mrt_st_find(st, "w.f3", &x) == MRT_ENOENT);
	for (int i = 0; meta[i]; i += 2) {
		const char *v = mrt_st_meta(st, meta[i]);
		CHECK(v && !strcmp(v, meta[i + 1]));
	}
	CHECK(mrt_st_meta(st, "absent") == NULL);
	CHECK(mrt_st_meta(st, "w.f32") == NULL);
	mrt_st_free(st);

	/* layout: 8-byte aligned data area, header padded with spaces */
	size_t n;
	unsigned char *b = read_file(p, &n);
	CHECK(b && n > 8);
	uint64_t hl = 0;
	for (int i = 0; i < 8; i++)
		hl |= (uint64_t)b[i] << (8 * i);
	CHECK(hl % 8 == 0 && 8 + hl <= n);
	size_t total = 0;
	for (int i = 0; i < NT; i++)
		total += nbytes(&t[i]);
	CHECK(8 + hl + total == n);
	CHECK(b[8] == '{');
	size_t e = 8 + hl;
	while (e > 8 && b[e - 1] == ' ')
		e--;
	CHECK(b[e - 1] == '}' && 8 + hl - e < 8);
	free(b);

	/* no metadata, no tensors */
	CHECK(mrt_st_write(p, NULL, 0, NULL, err, sizeof err) == 0);
	CHECK(mrt_st_open(&st, p, err, sizeof err) == 0);
	CHECK(st && mrt_st_count(st) == 0 && !mrt_st_meta(st, "format"));
	mrt_st_free(st);
	mrt_st_free(NULL);
	unlink(p);
}

/* Files written by others: unaligned tensors, header not padded, padding
 * at the end of the header, keys in any order. */
static void
test_foreign(void)
{
	const char *p = tmp("foreign.safetensors");
	char err[512];
	mrt_st *st;
	mrt_st_tensor x;
	craft(p, "{\"b\":{\"data_offsets\":[3,7],\"shape\":[1],\"dtype\":\"F32\"},"
		 "\"a\":{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[0,3]}}   \n", 7);
	CHECK(mrt_st_open(&st, p, err, sizeof err) == 0);
	CHECK(st && mrt_st_count(st) == 2);
	CHECK(mrt_st_get(st, 0, &x) == 0 && !strcmp(x.name, "a"));
	CHECK(mrt_st_find(st, "b", &x) == 0 && x.dtype == MRT_F32 && x.ndim == 1);
	float v, want;
	unsigned char raw[4] = { 3, 4, 5, 6 };
	memcpy(&v, x.data, 4);
	memcpy(&want, raw, 4);
	CHECK(memcmp(&v, &want, 4) == 0);
	mrt_st_free(st);
	unlink(p);
}

/* ---- atomic writing ------------------------------------------------------ */

static void
test_atomic(void)
{
	mrt_st_tensor t[NT];
	char err[512];
	fill(t);
	const char *p = tmp("a.safetensors");
	/* an existing file survives a failed write */
	CHECK(mrt_st_write(p, t, 2, meta, err, sizeof err) == 0);
	size_t n0, n1;
	unsigned char *before = read_file(p, &n0);
	static float big[4096];
	mrt_st_tensor bt = { "big", MRT_F32, 1, { 4096 }, big };
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 1000;
	signal(SIGXFSZ, SIG_IGN);
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	int rc = mrt_st_write(p, &bt, 1, NULL, err, sizeof err);
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	CHECK(rc == MRT_EIO && strstr(err, "write failed"));
	unsigned char *after = read_file(p, &n1);
	CHECK(before && after && n0 == n1 && !memcmp(before, after, n0));
	free(before);
	free(after);
	CHECK(entries(dir) == 1);
	/* and is replaced on success */
	CHECK(mrt_st_write(p, &bt, 1, NULL, err, sizeof err) == 0);
	mrt_st *st;
	CHECK(mrt_st_open(&st, p, err, sizeof err) == 0 && mrt_st_count(st) == 1);
	mrt_st_free(st);
	CHECK(entries(dir) == 1);
	unlink(p);

	/* a directory that does not exist */
	const char *nd = tmp("nodir");
	char np[300];
	snprintf(np, sizeof np, "%s/x.safetensors", nd);
	*err = 0;
	CHECK(mrt_st_write(np, t, NT, meta, err, sizeof err) == MRT_EIO);
	CHECK(strstr(err, "cannot create temporary file") && strstr(err, np));
	CHECK(access(nd, F_OK) != 0 && entries(dir) == 0);

	/* target is a directory: rename fails, temporary file removed */
	const char *sub = tmp("sub");
	CHECK(mkdir(sub, 0700) == 0);
	*err = 0;
	CHECK(mrt_st_write(sub, t, NT, meta, err, sizeof err) == MRT_EIO);
	CHECK(strstr(err, "cannot rename") != NULL);
	CHECK(entries(dir) == 1 && entries(sub) == 0);
	rmdir(sub);

	/* bad arguments: nothing written */
	mrt_st_tensor dup[2] = { t[1], t[1] };
	*err = 0;
	CHECK(mrt_st_write(p, dup, 2, NULL, err, sizeof err) == MRT_EINVAL);
	CHECK(strstr(err, "duplicate tensor name w.f32") != NULL);
	const char *half[] = { "k", NULL };
	CHECK(mrt_st_write(p, t, 1, half, err, sizeof err) == MRT_EINVAL);
	CHECK(strstr(err, "metadata key k has no value") != NULL);
	mrt_st_tensor neg = { "neg", MRT_F32, 1, { -1 }, f32 };
	CHECK(mrt_st_write(p, &neg, 1, NULL, err, sizeof err) == MRT_EINVAL);
	CHECK(strstr(err, "tensor neg: bad shape [-1]") != NULL);
	mrt_st_tensor meta_name = { "__metadata__", MRT_F32, 1, { 1 }, f32 };
	CHECK(mrt_st_write(p, &meta_name, 1, NULL, err, sizeof err) == MRT_EINVAL);
	CHECK(entries(dir) == 0);
}

/* ---- bad files ------------------------------------------------------------ */

#define T_A "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"

/* Crafted files: header, data bytes, expected error and message. */
static const struct {
	const char *hdr;
	size_t datalen;
	int rc;
	const char *want;
} bad[] = {
	{ "{" T_A ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
	  MRT_EFORMAT, "tensor b: data_offsets [4, 12) overlap tensor a [0, 8)" },
	{ "{" T_A ",\"b\":{\"dtype\":\"I8\",\"shape\":[8],\"data_offsets\":[0,8]}}", 8,
	  MRT_EFORMAT, "overlap tensor" },
	{ "{" T_A ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20,
	  MRT_EFORMAT, "hole in the data area: bytes [8, 12) belong to no tensor" },
	{ "{" T_A "}", 12,
	  MRT_EFORMAT, "hole in the data area: bytes [8, 12) after the last tensor" },
	{ "{}", 1,
	  MRT_EFORMAT, "hole in the data area: bytes [0, 1)" },
	{ "{\"x\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,40]}}", 40,
	  MRT_ESHAPE, "tensor x: shape [3,4] needs 48 bytes, offsets give 40" },
	{ "{\"x\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
	  MRT_ETYPE, "tensor x: dtype F16 not supported" },
	{ "{\"x\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
	  MRT_ETYPE, "tensor x: dtype BF16 not supported" },
	{ "{\"x\":{\"dtype\":\"float32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
	  MRT_ETYPE, "tensor x: unknown dtype \"float32\"" },
	{ "{\"x\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
	  MRT_EFORMAT, "tensor x: dtype is not a string" },
	{ "{\"x\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,0]}}", 0,
	  MRT_ERANGE, "tensor x: shape [2,-1] has a negative dimension" },
	{ "{\"x\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],"
	  "\"data_offsets\":[0,8]}}", 8,
	  MRT_ERANGE, "tensor x: shape [4294967296,4294967296] is too large" },
	{ "{\"x\":{\"dtype\":\"U8\",\"shape\":[9223372036854775807,2],"
	  "\"data_offsets\":[0,8]}}", 8,
	  MRT_ERANGE, "is too large" },
	{ "{\"x\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999],"
	  "\"data_offsets\":[0,8]}}", 8,
	  MRT_EFORMAT, "header is not valid JSON" },
	{ "{\"x\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],"
	  "\"data_offsets\":[0,1]}}", 1,
	  MRT_ERANGE, "tensor x: shape has 9 dimensions, at most 8 supported" },
	{ "{\"x\":{\"dtype\":\"U8\",\"shape\":[1.0],\"data_offsets\":[0,1]}}", 1,
	  MRT_EFORMAT, "tensor x: shape is not a list of integers" },
	{ "{\"x\":{\"dtype\":\"U8\",\"shape\":1,\"data_offsets\":[0,1]}}", 1,
	  MRT_EFORMAT, "tensor x: shape is not a list" },
	{ "{\"x\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1,
	  MRT_EFORMAT, "tensor x: no data_offsets" },
	{ "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1]}}", 1,
	  MRT_EFORMAT, "tensor x: data_offsets is not a pair of integers" },
	{ "{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[1,0]}}", 1,
	  MRT_ERANGE, "tensor x: bad data_offsets [1, 0)" },
	{ "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"o\":1}}", 1,
	  MRT_EFORMAT, "tensor x: unknown field \"o\"" },
	{ "{\"x\":[1,2]}", 0,
	  MRT_EFORMAT, "tensor x: entry is not an object" },
	{ "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]", 1,
	  MRT_EFORMAT, "header is not valid JSON" },
	{ "not json", 0,
	  MRT_EFORMAT, "header is not valid JSON" },
	{ "", 0,
	  MRT_EFORMAT, "header is not valid JSON" },
	{ "{} {}", 0,
	  MRT_EFORMAT, "header is not valid JSON" },
	{ "[1,2]", 0,
	  MRT_EFORMAT, "header is not a JSON object" },
	{ "{\"__metadata__\":{\"a\":\"x\",\"step\":1}}", 0,
	  MRT_ETYPE, "__metadata__: value of step is not a string" },
	{ "{\"__metadata__\":{\"a\":{}}}", 0,
	  MRT_ETYPE, "value of a is not a string" },
	{ "{\"__metadata__\":[\"a\"]}", 0,
	  MRT_EFORMAT, "__metadata__ is not an object" },
	{ "{" T_A "," T_A "}", 8,
	  MRT_EFORMAT, "header: duplicate name \"a\"" },
};

static void
test_bad(void)
{
	const char *p = tmp("bad.safetensors");
	mrt_st_tensor t[NT];
	char err[512];
	fill(t);

	write_file(p, "\x02\0\0\0", 4);
	BAD(p, MRT_ETRUNC, "file of 4 bytes, shorter than the 8-byte header length");
	craft_len(p, 123456, "{}  ", 92);
	BAD(p, MRT_ETRUNC, "header length 123456 beyond file size 104");
	craft_len(p, (uint64_t)200 << 20, "{}", 0);
	BAD(p, MRT_ERANGE, "header length 209715200 over the limit of 104857600 bytes");
	craft_len(p, UINT64_MAX, "{}", 0);
	BAD(p, MRT_ERANGE, "header length 18446744073709551615 over the limit");

	/* truncated: a good file cut short in the data, then in the header */
	CHECK(mrt_st_write(p, t, NT, meta, err, sizeof err) == 0);
	size_t n;
	unsigned char *b = read_file(p, &n);
	write_file(p, b, n - 3);
	BAD(p, MRT_ETRUNC, "beyond the data area of");
	BAD(p, MRT_ETRUNC, "(truncated file?)");
	write_file(p, b, 20);
	BAD(p, MRT_ETRUNC, "beyond file size 20");
	free(b);

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		craft(p, bad[i].hdr, bad[i].datalen);
		if (!BAD(p, bad[i].rc, bad[i].want))
			fprintf(stderr, "  (bad[%zu]: %s)\n", i, bad[i].hdr);
	}
	BAD(tmp("absent"), MRT_EIO, "No such file");
	BAD(dir, MRT_EIO, "not a regular file");
	unlink(p);
}

/* ---- python3 + numpy ----------------------------------------------------- */

/* Run script with python3 on stdin and arg: 0 if it exited 0. */
static int
python(const char *script, const char *arg)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 - '%s'", arg);
	fflush(stdout);
	FILE *f = popen(cmd, "w");
	if (!f)
		return -1;
	fputs(script, f);
	int st = pclose(f);
	return st;
}

static const char py_read[] =
	"import json, struct, sys\n"
	"import numpy as np\n"
	"b = open(sys.argv[1], 'rb').read()\n"
	"(n,) = struct.unpack('<Q', b[:8])\n"
	"h = json.loads(b[8:8 + n])\n"
	"data = b[8 + n:]\n"
	"meta = h.pop('__metadata__')\n"
	"assert meta == {'format': 'merit', 'step': '1234', 'note': "
	"'quote \" backslash \\\\ newline \\n utf-8 \\u00e9', 'empty': ''}, meta\n"
	"dt = {'F32': '<f4', 'F64': '<f8', 'I32': '<i4', 'I64': '<i8', 'I16': '<i2',\n"
	"      'U8': 'u1', 'I8': 'i1'}\n"
	"t = {}\n"
	"for k, v in h.items():\n"
	"    s, e = v['data_offsets']\n"
	"    t[k] = np.frombuffer(data[s:e], dtype=dt[v['dtype']]).reshape(v['shape'])\n"
	"want = {\n"
	"    'u8': np.array([0, 1, 127, 128, 255], 'u1'),\n"
	"    'w.f32': (np.arange(6, dtype='f4') * np.float32(0.5) - np.float32(1.25)).reshape(2, 3),\n"
	"    'i16': np.array([-32768, 7, 32767], 'i2'),\n"
	"    'f64': 1.0 / (np.arange(4) + 3.0),\n"
	"    'i32': np.array([-2**31, -1, 2**31 - 1], 'i4'),\n"
	"    'i64': np.array([[-2**63, -2], [3, 2**63 - 1]], 'i8'),\n"
	"    'i8': np.array([[[-128]]], 'i1'),\n"
	"    'scalar': np.array(2.5, 'f4'),\n"
	"    'empty': np.zeros((0, 4), 'f4'),\n"
	"}\n"
	"assert sorted(t) == sorted(want), sorted(t)\n"
	"for k in want:\n"
	"    assert t[k].dtype == want[k].dtype, (k, t[k].dtype)\n"
	"    assert t[k].shape == want[k].shape, (k, t[k].shape)\n"
	"    assert np.array_equal(t[k], want[k]), (k, t[k], want[k])\n"
	"assert (8 + n) % 8 == 0\n"
	"assert sum(e - s for s, e in (v['data_offsets'] for v in h.values())) == len(data)\n";

static const char py_write[] =
	"import json, struct, sys\n"
	"import numpy as np\n"
	"a = np.arange(24, dtype='<f8').reshape(2, 3, 4) / 7.0\n"
	"b = np.array([5, -6, 7], dtype='<i8')\n"
	"c = np.array([1, 2, 3], dtype='u1')\n"
	"d = np.linspace(-1, 1, 5, dtype='<f4')\n"
	"parts, h, off = [], {'__metadata__': {'by': 'numpy', 'n': '4'}}, 0\n"
	"for name, x, dt in (('c', c, 'U8'), ('d', d, 'F32'), ('a', a, 'F64'), ('b', b, 'I64')):\n"
	"    raw = x.tobytes()\n"
	"    h[name] = {'dtype': dt, 'shape': list(x.shape), 'data_offsets': [off, off + len(raw)]}\n"
	"    parts.append(raw)\n"
	"    off += len(raw)\n"
	"hb = json.dumps(h).encode()\n"
	"with open(sys.argv[1], 'wb') as f:\n"
	"    f.write(struct.pack('<Q', len(hb)) + hb + b''.join(parts))\n";

static void
test_python(void)
{
	mrt_st_tensor t[NT], x;
	char err[512];
	fill(t);
	const char *p = tmp("py.safetensors");
	CHECK(mrt_st_write(p, t, NT, meta, err, sizeof err) == 0);
	int rc = python(py_read, p);
	if (rc)
		fprintf(stderr, "python3/numpy reading our file failed (status %d)\n", rc);
	CHECK(rc == 0);

	const char *q = tmp("np.safetensors");
	rc = python(py_write, q);
	if (rc)
		fprintf(stderr, "python3/numpy writing a file failed (status %d)\n", rc);
	CHECK(rc == 0);
	mrt_st *st;
	CHECK(mrt_st_open(&st, q, err, sizeof err) == 0);
	if (!st) {
		fprintf(stderr, "open %s: %s\n", q, err);
		fails++;
		return;
	}
	CHECK(mrt_st_count(st) == 4);
	CHECK(!strcmp(mrt_st_meta(st, "by"), "numpy") && !strcmp(mrt_st_meta(st, "n"), "4"));
	CHECK(mrt_st_find(st, "a", &x) == 0 && x.dtype == MRT_F64 && x.ndim == 3 &&
	      x.shape[0] == 2 && x.shape[1] == 3 && x.shape[2] == 4);
	for (int i = 0; i < 24; i++) {
		double v;
		memcpy(&v, (const char *)x.data + 8 * i, sizeof v);
		CHECK(v == i / 7.0);
	}
	CHECK(mrt_st_find(st, "b", &x) == 0 && x.dtype == MRT_I64 && x.ndim == 1 && x.shape[0] == 3);
	int64_t bw[3] = { 5, -6, 7 };
	CHECK(!memcmp(x.data, bw, sizeof bw));
	CHECK(mrt_st_find(st, "c", &x) == 0 && x.dtype == MRT_U8 && x.shape[0] == 3);
	CHECK(!memcmp(x.data, "\1\2\3", 3));
	CHECK(mrt_st_find(st, "d", &x) == 0 && x.dtype == MRT_F32 && x.shape[0] == 5);
	for (int i = 0; i < 5; i++) {
		float v;
		memcpy(&v, (const char *)x.data + 4 * i, sizeof v);
		CHECK(v == (float)(-1.0 + 0.5 * i));
	}
	mrt_st_free(st);
	unlink(p);
	unlink(q);
}

int
main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_safetensors.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_roundtrip();
	test_foreign();
	test_atomic();
	test_bad();
	test_python();
	if (entries(dir) != 0) {
		fprintf(stderr, "scratch directory %s not empty\n", dir);
		fails++;
	} else {
		rmdir(dir);
	}
	if (fails) {
		fprintf(stderr, "test_safetensors: %d checks failed\n", fails);
		return 1;
	}
	printf("test_safetensors: ok\n");
	return 0;
}
