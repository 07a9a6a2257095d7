/*
 * merit-eval: evaluation of merit embeddings (see merit-eval(1)).
 * Each subcommand lives in its own file and defines cmd_NAME().
 */
#include "eval.h"

#define USAGE "merit-eval probe|retrieval|compare|describe|zeroshot|generate [options] ..."

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "probe", cmd_probe }, { "retrieval", cmd_retrieval },
		{ "compare", cmd_compare }, { "describe", cmd_describe },
		{ "zeroshot", cmd_zeroshot }, { "generate", cmd_generate },
	};
	static const struct option lo[] = { FLT_OPT_END };
	flt_init(argv[0]);
	/* options before the subcommand: -h, --help, --version ('+': stop
	 * at the subcommand) */
	if (flt_getopt(argc, argv, "+", lo, USAGE) != -1 || optind >= argc)
		flt_usage(USAGE);
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(argv[optind], cmds[i].name) == 0) {
			int k = optind;
			optind = 0;     /* getopt starts again, on the subcommand's argv */
			return cmds[i].fn(argc - k, argv + k);
		}
	flt_usage(USAGE);
}
