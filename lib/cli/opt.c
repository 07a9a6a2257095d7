/*
 * opt.c: the command line every filter shares (see opt.h): getopt_long
 * with -h/--help and --version, the messages of a usage error, the input
 * operand, and the OpenMP wait policy of main()'s start.
 */
#include "cli/filter.h"
#include "nn/nn.h"

/* "usage: usage" on f; help on stdout is output like any other, checked. */
static void
usage_to(FILE *f, const char *usage)
{
	fprintf(f, "usage: %s\n", usage);
	if (f == stdout)
		flt_out_commit(stdout, NULL);
}

void
flt_usage(const char *usage)
{
	usage_to(stderr, usage);
	exit(2);
}

/*
 * The long option lo[] that arg ("--name" or "--name=value") spells, given
 * getopt's value for it; NULL when arg is not a long option of that value.
 */
static const struct option *
long_of(const char *arg, int val, const struct option *lo)
{
	size_t n;
	if (strncmp(arg, "--", 2) != 0)
		return NULL;
	arg += 2;
	n = strcspn(arg, "=");
	for (; lo->name; lo++)
		if (lo->val == val && strncmp(lo->name, arg, n) == 0)
			return lo;
	return NULL;
}

/* How many long options the name in arg ("--na", "--na=v") abbreviates. */
static int
matches(const char *arg, const struct option *lo)
{
	size_t n = strcspn(arg + 2, "=");
	int k = 0;
	for (; lo->name; lo++)
		if (strncmp(lo->name, arg + 2, n) == 0)
			k++;
	return k;
}

/* Report getopt's error c (':' or '?') for the option just read; exit 2. */
__attribute__((noreturn)) static void
bad_option(int c, int argc, char **argv, const struct option *lo, const char *usage)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	int n = (int)strcspn(arg, "=");
	if (c == ':') {
		if (optopt > 0xff || long_of(arg, optopt, lo))
			flt_warn("option '%.*s' needs an argument", n, arg);
		else
			flt_warn("option '-%c' needs an argument", optopt);
	} else if (optopt == 0) {           /* a long option, or none */
		if (strncmp(arg, "--", 2) == 0 && matches(arg, lo) > 1)
			flt_warn("option '%.*s' is ambiguous", n, arg);
		else
			flt_warn("unknown option '%.*s'", n, arg);
	} else if (long_of(arg, optopt, lo) && strchr(arg, '='))
		flt_warn("option '%.*s' takes no argument", n, arg);
	else
		flt_warn("unknown option '-%c'", optopt);
	flt_usage(usage);
}

int
flt_getopt(int argc, char **argv, const char *opts, const struct option *lo,
    const char *usage)
{
	char o[256];
	int c, pre = (opts[0] == '+' || opts[0] == '-');
	/* ':' first (after '+' or '-'): getopt is silent and tells a missing
	 * argument (':') from an unknown option ('?') */
	if (snprintf(o, sizeof o, "%.*s:%sh", pre, opts, opts + pre) >= (int)sizeof o)
		flt_die("option string too long");
	opterr = 0;
	c = getopt_long(argc, argv, o, lo, NULL);
	switch (c) {
	case 'h':
		usage_to(stdout, usage);
		exit(0);
	case FLT_O_VERSION:
		printf("%s (merit) %s\n", flt_prog, FLT_VERSION);
		flt_out_commit(stdout, NULL);
		exit(0);
	case ':':
	case '?':
		bad_option(c, argc, argv, lo, usage);
	}
	return c;
}

const char *
flt_input(int argc, char **argv, const char *usage)
{
	if (argc - optind > 1)
		flt_usage(usage);
	return optind < argc ? argv[optind] : "-";
}

void
flt_omp_passive(char **argv)
{
	if (getenv("OMP_WAIT_POLICY") == NULL && setenv("OMP_WAIT_POLICY", "passive", 1) == 0)
		execv("/proc/self/exe", argv);
}

int
flt_precision(const char *arg)
{
	if (strcmp(arg, "fp32") == 0)
		return MRT_NN_FP32;
	if (strcmp(arg, "bf16") == 0)
		return MRT_NN_BF16;
	if (strcmp(arg, "auto") == 0)
		return MRT_NN_AUTO;
	flt_die("--precision %s: fp32, bf16 or auto", arg);
}
