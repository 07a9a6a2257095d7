/*
 * ecg-shuffle: shuffle a merit stream with a bounded buffer and a seed.
 *
 *   ecg-shuffle [-f] [-b records] [-s seed] [-o file] [file]
 *
 * A buffer of B records (default 1024) is filled; then each new record
 * replaces a randomly chosen buffered one, which is written; at the end the
 * buffer is written in random order.  A stream no longer than B comes out
 * as a uniform random permutation; a longer one is shuffled locally.  The
 * same seed and input give the same order.
 */
#include <getopt.h>

#include "cli/filter.h"
#include "core/rng.h"

#define USAGE "ecg-shuffle [-f] [-b records] [-s seed] [-o file] [file]"

struct slot {
	char *p;
	size_t n, cap;
};

static void
put(struct slot *s, const char *p, size_t n)
{
	if (s->cap < n) {
		char *np = realloc(s->p, n);
		if (np == NULL)
			flt_die("out of memory");
		s->p = np;
		s->cap = n;
	}
	memcpy(s->p, p, n);
	s->n = n;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "buffer", required_argument, NULL, 'b' },
		FLT_OPT_FORCE, FLT_OPT_SEED, FLT_OPT_OUTPUT, FLT_OPT_END
	};
	int c, force = 0;
	long long cap = 1024, used = 0;
	uint64_t seed = 0;
	const char *out = NULL;
	struct slot *buf;
	mrt_rng rng;
	struct flt_io io;

	flt_init(argv[0]);
	while ((c = flt_getopt(argc, argv, "b:fs:o:", lo, USAGE)) != -1) {
		switch (c) {
		case 'b': cap = flt_num(optarg, 1, 1 << 24, "-b"); break;
		case 'f': force = 1; break;
		case 's': seed = (uint64_t)flt_num(optarg, 0, LLONG_MAX, "-s"); break;
		case 'o': out = optarg; break;
		default: flt_usage(USAGE);
		}
	}
	flt_io_open(&io, flt_input(argc, argv, USAGE), out, force);
	buf = calloc((size_t)cap, sizeof *buf);
	if (buf == NULL)
		flt_die("out of memory");
	mrt_rng_seed(&rng, seed);
	while (flt_next(io.r, io.in) != NULL) {
		const char *p;
		size_t n;
		mrt_reader_raw(io.r, &p, &n);
		if (used < cap) {
			put(&buf[used++], p, n);
			continue;
		}
		{
			struct slot *s = &buf[mrt_rng_below(&rng, (uint64_t)cap)];
			flt_check_write(mrt_writer_raw(io.w, s->p, s->n), out);
			put(s, p, n);
		}
	}
	/* Fisher-Yates over what is left, written from the end: position i is
	 * final once i has been swapped */
	mrt_rng_shuffle(&rng, buf, (size_t)used, sizeof *buf);
	for (long long i = used - 1; i >= 0; i--)
		flt_check_write(mrt_writer_raw(io.w, buf[i].p, buf[i].n), out);
	flt_io_done(&io);
	for (long long i = 0; i < cap; i++)
		free(buf[i].p);
	free(buf);
	return 0;
}
