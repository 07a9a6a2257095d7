/*
 * ecg-head: the first records of a merit stream.
 *
 *   ecg-head [-f] [-n count] [-o file] [file]
 */
#include <getopt.h>

#include "cli/filter.h"

#define USAGE "ecg-head [-f] [-n count] [-o file] [file]"

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		FLT_OPT_FORCE, FLT_OPT_COUNT, FLT_OPT_OUTPUT, FLT_OPT_END
	};
	int c, force = 0;
	long long n = 10;
	const char *out = NULL;
	struct flt_io io;

	flt_init(argv[0]);
	while ((c = flt_getopt(argc, argv, "fn:o:", lo, USAGE)) != -1) {
		switch (c) {
		case 'f': force = 1; break;
		case 'n': n = flt_num(optarg, 0, LLONG_MAX, "-n"); break;
		case 'o': out = optarg; break;
		default: flt_usage(USAGE);
		}
	}
	flt_io_open(&io, flt_input(argc, argv, USAGE), out, force);
	/* stop reading once n records are out: like head(1), the rest of
	 * the input is neither read nor checked */
	for (long long i = 0; i < n && flt_next(io.r, io.in) != NULL; i++)
		flt_copy_raw(io.w, io.r, out);
	flt_io_done(&io);
	return 0;
}
