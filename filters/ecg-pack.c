/*
 * ecg-pack: JSON lines into a merit stream (the inverse of ecg-dump -a).
 *
 *   ecg-pack [-f] [-L level] [-o file] [file]
 *
 * One JSON object a line is one record; blank lines are skipped, and so is
 * a first line that is a stream header ({"format": "merit-stream", ...}).
 * {dtype, shape, data: [...]} objects become tensors (data flat, in row-major
 * order); {"$bin": base64} a bin and {"$str": base64} a raw string, a key
 * "$str:base64" a raw key; integers become msgpack integers and other
 * numbers float64.  Records stay within merit-stream(5)'s limits (nesting,
 * objects, bytes): a line over them is an error.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>

#include "cli/filter.h"

#define USAGE "ecg-pack [-f] [-L level] [-o file] [file]"

static const char *inname;
static unsigned long long lineno;

__attribute__((noreturn, format(printf, 1, 2))) static void
die_line(const char *fmt, ...)
{
	char m[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	flt_die("%s: line %llu: %s", inname, lineno, m);
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Decode base64 into a malloc'd buffer. */
static unsigned char *
b64dec(const char *s, size_t *n)
{
	size_t len = strlen(s), o = 0;
	unsigned char *b;
	if (len % 4)
		die_line("base64 length is not a multiple of 4");
	b = malloc(len / 4 * 3 + 1);
	if (b == NULL)
		flt_die("out of memory");
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++) {
			v[k] = s[i + k] == '=' && i + 4 == len && k >= 2 ? 0 : b64val(s[i + k]);
			if (v[k] < 0)
				die_line("bad base64 character");
		}
		b[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (s[i + 2] != '=') b[o++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		if (s[i + 3] != '=') b[o++] = (unsigned char)(v[2] << 6 | v[3]);
	}
	*n = o;
	return b;
}

static double
elem_real(json_t *v, const char *key, size_t i)
{
	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strcmp(s, "NaN") == 0) return NAN;
		if (strcmp(s, "Infinity") == 0) return INFINITY;
		if (strcmp(s, "-Infinity") == 0) return -INFINITY;
	}
	die_line("field %s: data[%zu] is not a number", key, i);
}

/* A map key: "$str:base64" (ecg-dump's form of a key that is not UTF-8)
 * is decoded; *reserved is set if the key is "end". */
static void
pack_key(msgpack_packer *pk, const char *k, int *reserved)
{
	size_t n = strlen(k);
	unsigned char *d = NULL;
	if (n >= 5 && memcmp(k, "$str:", 5) == 0) {
		d = b64dec(k + 5, &n);
		k = (const char *)d;
	}
	if (reserved)
		*reserved = n == 3 && memcmp(k, "end", 3) == 0;
	mrt_pack_strn(pk, k, n);
	free(d);
}

static void
pack_tensor(msgpack_packer *pk, json_t *o, const char *key, int level)
{
	json_t *jd = json_object_get(o, "dtype"), *js = json_object_get(o, "shape"),
	    *data = json_object_get(o, "data");
	int64_t shape[MRT_MAXDIM];
	uint64_t n = 1;
	int dt, ndim;
	size_t es;
	unsigned char *buf;
	if (!json_is_string(jd) ||
	    (dt = mrt_dtype_parse(json_string_value(jd), strlen(json_string_value(jd)))) < 0)
		die_line("field %s: unknown tensor dtype", key);
	if (level + 1 > MRT_MAX_DEPTH)
		die_line("field %s: nested deeper than %d levels", key, MRT_MAX_DEPTH);
	if (!json_is_array(js) || json_array_size(js) > MRT_MAXDIM)
		die_line("field %s: tensor shape is not an array of at most %d sizes",
		    key, MRT_MAXDIM);
	if (data == NULL)
		die_line("field %s: tensor without data (ecg-dump writes data only with -a)", key);
	if (!json_is_array(data))
		die_line("field %s: tensor data is not an array", key);
	ndim = (int)json_array_size(js);
	for (int i = 0; i < ndim; i++) {
		json_t *d = json_array_get(js, (size_t)i);
		if (!json_is_integer(d) || json_integer_value(d) < 0 ||
		    json_integer_value(d) > MRT_MAX_ELEMS)
			die_line("field %s: tensor shape[%d] is not a size", key, i);
		shape[i] = json_integer_value(d);
		n *= (uint64_t)shape[i];
		if (n > (uint64_t)MRT_MAX_ELEMS)
			die_line("field %s: tensor too large", key);
	}
	if (json_array_size(data) != n)
		die_line("field %s: tensor data has %zu values, shape needs %llu",
		    key, json_array_size(data), (unsigned long long)n);
	es = mrt_dtype_size((mrt_dtype)dt);
	buf = malloc(n * es + 1);
	if (buf == NULL)
		flt_die("out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(data, i);
		unsigned char *p = buf + i * es;
		if (dt == MRT_F32 || dt == MRT_F64) {
			double d = elem_real(v, key, i);
			if (dt == MRT_F32) { float f = (float)d; memcpy(p, &f, 4); }
			else memcpy(p, &d, 8);
			continue;
		}
		if (!json_is_integer(v))
			die_line("field %s: data[%zu] is not an integer", key, i);
		json_int_t x = json_integer_value(v);
		switch (dt) {
#define PUT(D, T, LO, HI) case D: { if (x < (LO) || x > (HI)) \
			die_line("field %s: data[%zu] = %lld out of range for %s", key, i, \
			    (long long)x, mrt_dtype_name(D)); T t = (T)x; memcpy(p, &t, sizeof t); break; }
		PUT(MRT_U8, uint8_t, 0, 255)
		PUT(MRT_I8, int8_t, -128, 127)
		PUT(MRT_I16, int16_t, INT16_MIN, INT16_MAX)
		PUT(MRT_I32, int32_t, INT32_MIN, INT32_MAX)
		PUT(MRT_I64, int64_t, INT64_MIN, INT64_MAX)
#undef PUT
		default: break;
		}
	}
	if (mrt_pack_tensor(pk, (mrt_dtype)dt, ndim, shape, buf) != 0)
		flt_die("write error");
	free(buf);
}

/* Pack v, at nesting level (the record's map is 1) if it is a container. */
static void
pack_json(msgpack_packer *pk, json_t *v, const char *key, int level)
{
	if ((json_is_array(v) || json_is_object(v)) && level > MRT_MAX_DEPTH)
		die_line("field %s: nested deeper than %d levels", key, MRT_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_NULL: msgpack_pack_nil(pk); break;
	case JSON_TRUE: msgpack_pack_true(pk); break;
	case JSON_FALSE: msgpack_pack_false(pk); break;
	case JSON_INTEGER: msgpack_pack_int64(pk, json_integer_value(v)); break;
	case JSON_REAL: msgpack_pack_double(pk, json_real_value(v)); break;
	case JSON_STRING:
		mrt_pack_strn(pk, json_string_value(v), json_string_length(v));
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(v));
		for (size_t i = 0; i < json_array_size(v); i++)
			pack_json(pk, json_array_get(v, i), key, level + 1);
		break;
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		json_t *b = json_object_get(v, "$bin"), *s = json_object_get(v, "$str");
		if (json_object_size(v) == 1 && (json_is_string(b) || json_is_string(s))) {
			size_t n;
			unsigned char *d = b64dec(json_string_value(b ? b : s), &n);
			if (b) {
				msgpack_pack_bin(pk, n);
				msgpack_pack_bin_body(pk, d, n);
			} else
				mrt_pack_strn(pk, (const char *)d, n);
			free(d);
			break;
		}
		/* a map with a dtype is a tensor (readers check that of every
		 * field); further down, one with a shape too */
		if (json_object_get(v, "dtype") && (level == 2 ||
		    json_object_get(v, "shape"))) {
			pack_tensor(pk, v, key, level);
			break;
		}
		msgpack_pack_map(pk, json_object_size(v));
		json_object_foreach(v, k, x) {
			pack_key(pk, k, NULL);
			pack_json(pk, x, key, level + 1);
		}
		break;
	}
	}
}

/*
 * One line (len bytes, NUL-terminated, lineno set) into a record of w;
 * nothing for a blank line or a first line that is a stream header.  Dies
 * on input that is not a record.  fuzz/fuzz_pack.c calls it too.
 */
static void
pack_line(mrt_writer *w, const char *line, size_t len, const char *out)
{
	json_error_t jerr;
	json_t *o, *v;
	const char *k;
	int e;
	if (strspn(line, " \t\r\n") == len)
		return;
	o = json_loadb(line, len, 0, &jerr);
	if (o == NULL)
		die_line("not JSON: %s", jerr.text);
	if (!json_is_object(o))
		die_line("not a JSON object");
	if (lineno == 1 && json_is_string(json_object_get(o, "format")) &&
	    strcmp(json_string_value(json_object_get(o, "format")),
	    MRT_STREAM_FORMAT) == 0) {
		json_decref(o);
		return;
	}
	mrt_writer_begin(w, (uint32_t)json_object_size(o));
	json_object_foreach(o, k, v) {
		int reserved;
		pack_key(mrt_writer_packer(w), k, &reserved);
		if (reserved)
			die_line("field \"end\" is reserved for the stream trailer");
		pack_json(mrt_writer_packer(w), v, k, 2);
	}
	e = mrt_writer_end(w);
	if (e == MRT_ERANGE)
		die_line("the record is over the limits of a stream (%zu bytes, "
		    "%llu msgpack objects)", (size_t)MRT_MAX_RECORD,
		    (unsigned long long)MRT_MAX_OBJECTS);
	flt_check_write(e, out);
	json_decref(o);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		FLT_OPT_FORCE,
		{ "level", required_argument, NULL, 'L' },
		FLT_OPT_OUTPUT, FLT_OPT_END
	};
	int c, force = 0, level = 3;
	const char *out = NULL;
	FILE *in = stdin, *of;
	mrt_writer *w;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	flt_init(argv[0]);
	while ((c = flt_getopt(argc, argv, "fL:o:", lo, USAGE)) != -1) {
		switch (c) {
		case 'f': force = 1; break;
		case 'L': level = (int)flt_num(optarg, 1, 19, "-L"); break;
		case 'o': out = optarg; break;
		default: flt_usage(USAGE);
		}
	}
	if (argc - optind > 1)
		flt_usage(USAGE);
	inname = "stdin";
	if (optind < argc && strcmp(argv[optind], "-") != 0) {
		inname = argv[optind];
		if ((in = fopen(inname, "r")) == NULL)
			flt_die("%s: %s", inname, strerror(errno));
	}
	of = flt_out_open(out, force);
	w = flt_writer(of, level);
	while ((len = getline(&line, &cap, in)) != -1) {
		lineno++;
		pack_line(w, line, (size_t)len, out);
	}
	if (ferror(in))
		flt_die("%s: %s", inname, strerror(errno));
	free(line);
	flt_writer_done(w, of, out);
	return 0;
}
