/*
 * ecg-split: split a merit stream into files by the value of a field.
 *
 *   ecg-split [-F field] [-p prefix] [file]
 *
 * Each record goes to PREFIX<value>.ecgz (default field "fold", prefix
 * "fold-" for fold and FIELD- otherwise).  Values are integers or strings;
 * characters outside [A-Za-z0-9._-] become '_'.  All files are written to
 * temporary names and renamed only when the whole input was read.
 */
#include <getopt.h>

#include "cli/filter.h"

#define USAGE "ecg-split [-F field] [-p prefix] [file]"
#define MAXVAL 256

struct part {
	char value[128];
	char path[4096];
	FILE *f;
	mrt_writer *w;
};

static struct part parts[MAXVAL];
static int nparts;

static struct part *
part_for(const char *value, const char *prefix)
{
	struct part *p;
	for (int i = 0; i < nparts; i++)
		if (strcmp(parts[i].value, value) == 0)
			return &parts[i];
	if (nparts == MAXVAL)
		return NULL;
	p = &parts[nparts++];
	snprintf(p->value, sizeof p->value, "%s", value);
	if (snprintf(p->path, sizeof p->path, "%s%s.ecgz", prefix, value) >=
	    (int)sizeof p->path)
		flt_die("%s%s.ecgz: path too long", prefix, value);
	p->f = flt_out_open(p->path, 1);
	p->w = flt_writer(p->f, 3);
	return p;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "field", required_argument, NULL, 'F' },
		{ "prefix", required_argument, NULL, 'p' },
		FLT_OPT_END
	};
	int c;
	const char *field = "fold", *prefix = NULL, *in;
	char defprefix[160];
	mrt_reader *r;
	FILE *f;

	flt_init(argv[0]);
	while ((c = flt_getopt(argc, argv, "F:p:", lo, USAGE)) != -1) {
		switch (c) {
		case 'F': field = optarg; break;
		case 'p': prefix = optarg; break;
		default: flt_usage(USAGE);
		}
	}
	in = flt_input(argc, argv, USAGE);
	if (prefix == NULL) {
		snprintf(defprefix, sizeof defprefix, "%.100s-", field);
		prefix = defprefix;
	}
	r = flt_reader(in, &f);
	for (;;) {
		const msgpack_object *rec = flt_next(r, in), *v;
		char value[128];
		struct part *p;
		int64_t iv;
		const char *str;
		size_t n;
		if (rec == NULL)
			break;
		v = mrt_rec_get(rec, field);
		if (v == NULL)
			flt_die_rec(r, in, "no field %s", field);
		if (mrt_obj_int(v, &iv) == 0)
			snprintf(value, sizeof value, "%lld", (long long)iv);
		else if (mrt_obj_str(v, &str, &n) == 0 && n > 0) {
			if (n >= sizeof value)
				n = sizeof value - 1;
			for (size_t i = 0; i < n; i++) {
				char ch = str[i];
				value[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
				    ch == '-' ? ch : '_';
			}
			value[n] = 0;
			if (value[0] == '.')
				value[0] = '_';
		} else
			flt_die_rec(r, in, "field %s is not an integer or a non-empty string", field);
		if ((p = part_for(value, prefix)) == NULL)
			flt_die_rec(r, in, "field %s has more than %d values", field, MAXVAL);
		flt_copy_raw(p->w, r, p->path);
	}
	flt_reader_done(r, f);
	for (int i = 0; i < nparts; i++)
		flt_writer_done(parts[i].w, parts[i].f, parts[i].path);
	return 0;
}
