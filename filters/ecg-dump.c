/*
 * ecg-dump: a merit stream as JSON lines, one record a line.
 *
 *   ecg-dump [-aH] [file ...]
 *
 * Tensors are summarised ({dtype, shape, min, max, mean}) unless -a, which
 * writes their data in full ({dtype, shape, data: [...]}); that form is what
 * ecg-pack(1) reads back.  Other values map to JSON as in ecg-dump(1):
 * bin as {"$bin": base64}, a str that is not UTF-8 as {"$str": base64}
 * (and a map key as "$str:base64", see put_key), floats always with a '.' or an exponent, non-finite floats in tensors as
 * "NaN", "Infinity", "-Infinity".
 */
#include <getopt.h>
#include <math.h>

#include "cli/filter.h"

#define USAGE "ecg-dump [-aH] [file ...]"

struct opts {
	int all;
	int header;
};

static FILE *out;

/* A JSON string of base64 after prefix (which needs no escapes). */
static void
put_b64(const char *prefix, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	putc('"', out);
	fputs(prefix, out);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n) v |= p[i + 2];
		putc(tab[v >> 18 & 63], out);
		putc(tab[v >> 12 & 63], out);
		putc(i + 1 < n ? tab[v >> 6 & 63] : '=', out);
		putc(i + 2 < n ? tab[v & 63] : '=', out);
	}
	putc('"', out);
}

/* Length of the valid UTF-8 sequence at p, or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;
	if (p[0] < 0x80) return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) { len = 2; cp = p[0] & 0x1f; }
	else if (p[0] >= 0xe0 && p[0] <= 0xef) { len = 3; cp = p[0] & 0x0f; }
	else if (p[0] >= 0xf0 && p[0] <= 0xf4) { len = 4; cp = p[0] & 0x07; }
	else return 0;
	if (len > n) return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80) return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static void
put_str(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_len(p + i, n - i);
		if (k == 0) {
			fputs("{\"$str\":", out);
			put_b64("", p, n);
			putc('}', out);
			return;
		}
		i += k;
	}
	putc('"', out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		switch (c) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(out, "\\u%04x", c);
			else
				putc(c, out);
		}
	}
	putc('"', out);
}

/*
 * A map key: JSON keys are strings, so a key that is not UTF-8 is written
 * as the string "$str:" and its base64, and so is one that holds a NUL
 * (which JSON parsers keep poorly in keys), starts with "$str:" itself or
 * is "$str" or "$bin" (a map of that one key reads back as a string or a
 * bin); ecg-pack(1) reads them back.
 */
static void
put_key(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	int plain = !(n >= 5 && memcmp(s, "$str:", 5) == 0) && !(n && memchr(s, 0, n)) &&
	    !(n == 4 && (memcmp(s, "$str", 4) == 0 || memcmp(s, "$bin", 4) == 0));
	for (size_t i = 0, k; plain && i < n; i += k)
		plain = (k = utf8_len(p + i, n - i)) != 0;
	if (plain)
		put_str(s, n);
	else
		put_b64("$str:", p, n);
}

/* Shortest decimal that reads back as the same double (or float). */
static void
put_real(double v, int single)
{
	char b[40];
	if (isnan(v)) { fputs("\"NaN\"", out); return; }
	if (isinf(v)) { fputs(v > 0 ? "\"Infinity\"" : "\"-Infinity\"", out); return; }
	int prec;
	for (prec = 1; prec <= 17; prec++) {
		snprintf(b, sizeof b, "%.*g", prec, v);
		if (single ? (float)strtod(b, NULL) == (float)v : strtod(b, NULL) == v)
			break;
	}
	/* 100.0 rather than 1e+02 where a plain decimal is as exact */
	if (strchr(b, 'e') && fabs(v) >= 1e-5 && fabs(v) < 1e17) {
		int dec = prec - 1 - (int)floor(log10(fabs(v)));
		snprintf(b, sizeof b, "%.*f", dec < 0 ? 0 : dec, v);
	}
	fputs(b, out);
	if (strpbrk(b, ".eEn") == NULL)
		fputs(".0", out);
}

static void put_obj(const msgpack_object *o, const struct opts *op);

static void
put_tensor(const mrt_tensor *t, const struct opts *op)
{
	fprintf(out, "{\"dtype\":\"%s\",\"shape\":[", mrt_dtype_name(t->dtype));
	for (int i = 0; i < t->ndim; i++)
		fprintf(out, "%s%lld", i ? "," : "", (long long)t->shape[i]);
	putc(']', out);
	if (op->all) {
		const unsigned char *p = t->data;
		fputs(",\"data\":[", out);
		for (int64_t i = 0; i < t->n; i++) {
			if (i)
				putc(',', out);
			switch (t->dtype) {
#define INT_CASE(D, T, FMT, CAST) case D: { T v; memcpy(&v, p + i * sizeof v, sizeof v); \
				fprintf(out, FMT, (CAST)v); break; }
			INT_CASE(MRT_U8, uint8_t, "%u", unsigned)
			INT_CASE(MRT_I8, int8_t, "%d", int)
			INT_CASE(MRT_I16, int16_t, "%d", int)
			INT_CASE(MRT_I32, int32_t, "%d", int)
			INT_CASE(MRT_I64, int64_t, "%lld", long long)
#undef INT_CASE
			case MRT_F32: { float v; memcpy(&v, p + i * 4, 4); put_real(v, 1); break; }
			case MRT_F64: { double v; memcpy(&v, p + i * 8, 8); put_real(v, 0); break; }
			default: break;
			}
		}
		putc(']', out);
	} else if (t->n > 0) {
		double *v = malloc((size_t)t->n * sizeof *v), lo = INFINITY,
		    hi = -INFINITY, sum = 0;
		int64_t finite = 0;
		if (v == NULL)
			flt_die("out of memory");
		mrt_tensor_to_f64(t, v);
		for (int64_t i = 0; i < t->n; i++) {
			if (!isfinite(v[i]))
				continue;
			finite++;
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
			sum += v[i];
		}
		free(v);
		if (finite) {
			int single = t->dtype == MRT_F32;
			fputs(",\"min\":", out); put_real(lo, single);
			fputs(",\"max\":", out); put_real(hi, single);
			fputs(",\"mean\":", out); put_real(sum / finite, 0);
		}
	}
	putc('}', out);
}

static void
put_obj(const msgpack_object *o, const struct opts *op)
{
	mrt_tensor t;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: fputs("null", out); break;
	case MSGPACK_OBJECT_BOOLEAN: fputs(o->via.boolean ? "true" : "false", out); break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER: fprintf(out, "%llu", (unsigned long long)o->via.u64); break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: fprintf(out, "%lld", (long long)o->via.i64); break;
	case MSGPACK_OBJECT_FLOAT32: put_real(o->via.f64, 1); break;
	case MSGPACK_OBJECT_FLOAT64: put_real(o->via.f64, 0); break;
	case MSGPACK_OBJECT_STR: put_str(o->via.str.ptr, o->via.str.size); break;
	case MSGPACK_OBJECT_BIN:
		fputs("{\"$bin\":", out);
		put_b64("", (const unsigned char *)o->via.bin.ptr, o->via.bin.size);
		putc('}', out);
		break;
	case MSGPACK_OBJECT_EXT:
		fputs("null", out);
		break;
	case MSGPACK_OBJECT_ARRAY:
		putc('[', out);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i)
				putc(',', out);
			put_obj(&o->via.array.ptr[i], op);
		}
		putc(']', out);
		break;
	case MSGPACK_OBJECT_MAP:
		if (mrt_obj_tensor(o, &t) == 0) {
			put_tensor(&t, op);
			break;
		}
		putc('{', out);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];
			if (i)
				putc(',', out);
			if (kv->key.type == MSGPACK_OBJECT_STR)
				put_key(kv->key.via.str.ptr, kv->key.via.str.size);
			else {
				/* JSON keys are strings: write other keys as text */
				char b[64];
				if (kv->key.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
					snprintf(b, sizeof b, "%llu", (unsigned long long)kv->key.via.u64);
				else if (kv->key.type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
					snprintf(b, sizeof b, "%lld", (long long)kv->key.via.i64);
				else
					snprintf(b, sizeof b, "?");
				put_str(b, strlen(b));
			}
			putc(':', out);
			put_obj(&kv->val, op);
		}
		putc('}', out);
		break;
	}
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "header", no_argument, NULL, 'H' },
		FLT_OPT_END
	};
	struct opts op = { 0, 0 };
	static const char *stdin_only[] = { "-", NULL };
	char **inputs;
	int c;

	flt_init(argv[0]);
	out = stdout;
	while ((c = flt_getopt(argc, argv, "aH", lo, USAGE)) != -1) {
		switch (c) {
		case 'a': op.all = 1; break;
		case 'H': op.header = 1; break;
		default: flt_usage(USAGE);
		}
	}
	inputs = optind < argc ? argv + optind : (char **)stdin_only;
	for (char **in = inputs; *in; in++) {
		FILE *f;
		mrt_reader *r = flt_reader(*in, &f);
		const msgpack_object *rec;
		if (op.header) {
			put_obj(mrt_reader_header(r), &op);
			putc('\n', out);
		}
		while ((rec = flt_next(r, *in)) != NULL) {
			put_obj(rec, &op);
			putc('\n', out);
			if (ferror(out))
				flt_die("stdout: %s", strerror(errno));
		}
		flt_reader_done(r, f);
	}
	flt_out_commit(out, NULL);
	return 0;
}
