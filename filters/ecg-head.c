/*
 * ecg-head: the first records of a merit stream.
 *
 *   ecg-head [-f] [-n count] [-o file] [file]
 */
#include <getopt.h>

#include "filter.h"

#define USAGE "ecg-head [-f] [-n count] [-o file] [file]"

int
main(int argc, char **argv)
{
	int c, force = 0;
	long long n = 10;
	const char *out = NULL, *in = "-";
	mrt_reader *r;
	mrt_writer *w;
	FILE *f, *of;

	flt_init(argv[0]);
	while ((c = getopt(argc, argv, "fn:o:")) != -1) {
		switch (c) {
		case 'f': force = 1; break;
		case 'n': n = flt_num(optarg, 0, LLONG_MAX, "-n"); break;
		case 'o': out = optarg; break;
		default: flt_usage(USAGE);
		}
	}
	if (argc - optind > 1)
		flt_usage(USAGE);
	if (optind < argc)
		in = argv[optind];
	r = flt_reader(in, &f);
	of = flt_out_open(out, force);
	w = flt_writer(of, 3);
	/* stop reading once n records are out: like head(1), the rest of
	 * the input is neither read nor checked */
	for (long long i = 0; i < n && flt_next(r, in) != NULL; i++)
		flt_copy_raw(w, r, out);
	flt_writer_done(w, of, out);
	flt_reader_done(r, f);
	return 0;
}
