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
	flt_init(argv[0]);
	if (argc < 2)
		flt_usage(USAGE);
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	flt_usage(USAGE);
}
