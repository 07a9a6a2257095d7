/*
 * ecg-cat: concatenate and validate merit streams.
 *
 *   ecg-cat [-cf] [-L level] [-o file] [file ...]
 *
 * Every record of every input is checked (msgpack, a map, well-formed
 * tensors, the trailer's count) and copied unchanged to one output stream;
 * with -c only the record count is printed.
 */
#include <getopt.h>

#include "cli/filter.h"

#define USAGE "ecg-cat [-cf] [-L level] [-o file] [file ...]"

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "count-only", no_argument, NULL, 'c' },
		FLT_OPT_FORCE,
		{ "level", required_argument, NULL, 'L' },
		FLT_OPT_OUTPUT,
		FLT_OPT_END
	};
	int c, count_only = 0, force = 0, level = 3;
	const char *out = NULL;
	mrt_writer *w = NULL;
	FILE *of = NULL;
	uint64_t total = 0;
	static const char *stdin_only[] = { "-", NULL };
	char **inputs;

	flt_init(argv[0]);
	while ((c = flt_getopt(argc, argv, "cfL:o:", lo, USAGE)) != -1) {
		switch (c) {
		case 'c': count_only = 1; break;
		case 'f': force = 1; break;
		case 'L': level = (int)flt_num(optarg, 1, 19, "-L"); break;
		case 'o': out = optarg; break;
		default: flt_usage(USAGE);
		}
	}
	inputs = optind < argc ? argv + optind : (char **)stdin_only;
	if (!count_only) {
		of = flt_out_open(out, force);
		w = flt_writer(of, level);
	}
	for (char **in = inputs; *in; in++) {
		FILE *f;
		mrt_reader *r = flt_reader(*in, &f);
		while (flt_next(r, *in) != NULL) {
			total++;
			if (!count_only)
				flt_copy_raw(w, r, out);
		}
		flt_reader_done(r, f);
	}
	if (count_only) {
		printf("%llu\n", (unsigned long long)total);
		flt_out_commit(stdout, NULL);
		return 0;
	}
	flt_writer_done(w, of, out);
	return 0;
}
