/*
 * opt.h: the command line every filter shares (see opt.c).
 *
 *   static const struct option lo[] = {
 *           FLT_OPT_FORCE, FLT_OPT_OUTPUT, { "level", required_argument, NULL, 'L' },
 *           FLT_OPT_END                     (adds --help and --version)
 *   };
 *   while ((c = flt_getopt(argc, argv, "fL:o:", lo, USAGE)) != -1)
 *           switch (c) { ... default: flt_usage(USAGE); }
 *
 * flt_getopt() is getopt_long(3) with the shared behaviour: -h and --help
 * print the usage on stdout and exit 0; --version prints "prog (merit)
 * FLT_VERSION" and exits 0; an unknown option or a missing argument is
 * reported as "prog: unknown option '--x'" or "prog: option '-o' needs an
 * argument", then the usage on stderr, exit 2.
 *
 * The shared vocabulary, one meaning for each spelling in every filter:
 * -o/--output FILE, -f/--force, -s/--seed N, -m/--model FILE, -n/--count N
 * (how many: records, seeds or iterations, as the filter says), --threads N,
 * --precision fp32|bf16|auto (of the model's matrix products, nn.h).
 */
#ifndef MRT_CLI_OPT_H
#define MRT_CLI_OPT_H

#include <getopt.h>

/* The version of the filters, one for all of them. */
#define FLT_VERSION "0.2"

/* getopt values of the long options without a letter (above every char). */
enum { FLT_O_VERSION = 0x10000, FLT_O_THREADS, FLT_O_PRECISION };

#define FLT_OPT_OUTPUT  { "output", required_argument, NULL, 'o' }
#define FLT_OPT_FORCE   { "force", no_argument, NULL, 'f' }
#define FLT_OPT_SEED    { "seed", required_argument, NULL, 's' }
#define FLT_OPT_MODEL   { "model", required_argument, NULL, 'm' }
#define FLT_OPT_COUNT   { "count", required_argument, NULL, 'n' }
#define FLT_OPT_THREADS { "threads", required_argument, NULL, FLT_O_THREADS }
#define FLT_OPT_PRECISION { "precision", required_argument, NULL, FLT_O_PRECISION }
/* The end of every table of long options: --help, --version, the null entry. */
#define FLT_OPT_END \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, FLT_O_VERSION }, \
	{ NULL, 0, NULL, 0 }

/*
 * The next option, as getopt_long(argc, argv, opts, lo, NULL) returns it
 * (-1 at the end); -h, --help, --version, unknown options and missing
 * arguments are handled here and never returned.  opts is getopt's string
 * without 'h' and without a leading ':' (a leading '+' stops at the first
 * operand); lo ends with FLT_OPT_END.
 */
int flt_getopt(int argc, char **argv, const char *opts, const struct option *lo,
    const char *usage);
/* The value of --precision: MRT_NN_FP32, MRT_NN_BF16 or MRT_NN_AUTO (nn.h)
 * for "fp32", "bf16", "auto"; anything else dies naming the three.  The
 * filter hands it to mrt_nn_set_precision, whose error names a missing CPU
 * feature. */
int flt_precision(const char *arg);
/* "usage: usage" on stderr, exit 2. */
__attribute__((noreturn)) void flt_usage(const char *usage);
/* The single input operand ("-" when there is none); more is a usage error. */
const char *flt_input(int argc, char **argv, const char *usage);

/*
 * Run again (once) with OMP_WAIT_POLICY=passive unless it is set: OpenMP
 * threads that spin while a pipe is read take the cores the upstream
 * filters need, and libgomp reads the policy only when it is loaded.  The
 * first thing in main(), before anything has been read or written.
 */
void flt_omp_passive(char **argv);

#endif
