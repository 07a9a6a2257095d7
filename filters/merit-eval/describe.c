/* describe.c: merit-eval describe, class counts per fold. */
#include "eval.h"

#define DESCRIBE_USAGE "merit-eval describe -t task [-s scp_statements.csv] " \
	"[-l field] [--train folds] [--val folds] [--test folds] " \
	"[--codes list | --exclude-codes list] [file]"

void
describe_table(const struct ds *ds)
{
	int folds[64], nf = 0;
	for (int f = 0; f < 64; f++)
		for (size_t i = 0; i < ds->n; i++)
			if (ds->fold[i] == f) {
				folds[nf++] = f;
				break;
			}
	printf("%-12s", "fold");
	for (int j = 0; j < nf; j++)
		printf(" %6d", folds[j]);
	printf(" %7s\n", "total");
	for (size_t k = 0; k <= ds->nclass; k++) {
		size_t tot = 0;
		printf("%-12s", k < ds->nclass ? mrt_labels_name(ds->L, k) : "(records)");
		for (int j = 0; j < nf; j++) {
			size_t c = 0;
			for (size_t i = 0; i < ds->n; i++)
				if (ds->fold[i] == folds[j])
					c += k < ds->nclass ? ds->y[k * ds->n + i] : 1;
			printf(" %6zu", c);
			tot += c;
		}
		printf(" %7zu\n", tot);
	}
	printf("%zu records without a label of the task dropped, %zu of other "
	    "folds skipped\n\n", ds->dropped, ds->skipped);
}

int
cmd_describe(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "task", 1, 0, 't' }, { "scp", 1, 0, 's' }, { "labels", 1, 0, 'l' },
		{ "train", 1, 0, 1 }, { "val", 1, 0, 2 }, { "test", 1, 0, 3 },
		DS_RESTRICT_OPTIONS, { 0, 0, 0, 0 }
	};
	struct dsopts o;
	struct ds ds;
	const char *task = NULL;
	int c;
	ds_opts_init(&o);
	o.feat = NULL;
	while ((c = getopt_long(argc, argv, "t:s:l:", lo, NULL)) != -1)
		switch (c) {
		case 't': task = optarg; break;
		case 's': o.scp = optarg; break;
		case 'l': o.labfield = optarg; break;
		case 1: o.folds[SPLIT_TRAIN] = ds_folds(optarg, "train"); break;
		case 2: o.folds[SPLIT_VAL] = ds_folds(optarg, "val"); break;
		case 3: o.folds[SPLIT_TEST] = ds_folds(optarg, "test"); break;
		case OPT_CODES: case OPT_EXCLUDE_CODES:
			ds_restrict_opt(&o, c, optarg);
			break;
		default: flt_usage(DESCRIBE_USAGE);
		}
	if (task == NULL)
		flt_usage(DESCRIBE_USAGE);
	if ((o.task = mrt_labels_task_parse(task)) < 0)
		flt_die("unknown task %s", task);
	o.in = flt_input(argc, argv, DESCRIBE_USAGE);
	ds_load(&ds, &o);
	describe_table(&ds);
	ds_free(&ds);
	return finish_stdout();
}
