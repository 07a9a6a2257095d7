/*
 * eval.h: what merit-eval's subcommands share.  One file per subcommand
 * (probe.c, retrieval.c, compare.c, describe.c); data.c reads a stream into
 * memory, scores.c evaluates class scores and writes tables, JSON and
 * score files.  A new subcommand (zeroshot.c) defines its cmd_ function
 * and main.c finds it (see main.c).
 */
#ifndef MERIT_EVAL_H
#define MERIT_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "cli/filter.h"
#include "eval/labels.h"

enum { SPLIT_TRAIN, SPLIT_VAL, SPLIT_TEST, NSPLIT };
extern const char *const split_names[NSPLIT];

/* Which records to read and how to label them. */
struct dsopts {
	const char *in;         /* stream path or "-" */
	const char *feat;       /* feature field (NULL: none) */
	const char *labfield;   /* label field (NULL: no labels) */
	int task;               /* MRT_LABELS_* */
	const char *scp;        /* scp_statements.csv for PTB-XL tasks */
	uint64_t folds[NSPLIT]; /* bit f: fold f belongs to the split */
	/* task codes: these classes instead of the training folds' codes */
	const char *const *classes;
	size_t nclasses;
	int notrain;            /* nothing is trained: the test folds must hold a
				 * label of the task, not the training folds */
	/* the task kept to the classes of this list (comma-separated), or with
	 * exclude to all but them (--codes, --exclude-codes); its name in the
	 * results (--task-name) */
	const char *codes;
	int exclude;
	const char *taskname;
};

/* The options that restrict a task (probe, zeroshot, describe). */
enum { OPT_CODES = 20, OPT_EXCLUDE_CODES, OPT_TASK_NAME };
#define DS_RESTRICT_OPTIONS { "codes", 1, 0, OPT_CODES }, \
	{ "exclude-codes", 1, 0, OPT_EXCLUDE_CODES }, { "task-name", 1, 0, OPT_TASK_NAME }
#define DS_RESTRICT_USAGE "[--codes list | --exclude-codes list] [--task-name name]"
/* One of those options (c: its OPT_ value) into o; dies on misuse. */
void ds_restrict_opt(struct dsopts *o, int c, const char *arg);
/*
 * The task's name in the results: --task-name, else the task (-t) and,
 * restricted, ":" and the list (":-" and the list for --exclude-codes).
 */
const char *ds_task_name(const struct dsopts *o, const char *task);
/* "label_task" and, restricted, "codes" or "exclude_codes" into root. */
void ds_task_json(json_t *root, const struct dsopts *o);

/* Records of the train, validation and test folds, in stream order. */
struct ds {
	size_t n, d;
	char **id;
	int *fold;
	int *split;             /* SPLIT_* */
	float *x;               /* [n][d] features (d = 0: none read) */
	mrt_labels *L;          /* classes */
	size_t nclass;
	uint8_t *y;             /* [nclass][n] */
	size_t dropped;         /* records without a label of the task */
	size_t skipped;         /* records of other folds */
};

void ds_opts_init(struct dsopts *o);
/* Parse "1-8" / "9" / "1,3,5-7" into a fold mask; dies on error. */
uint64_t ds_folds(const char *s, const char *what);
void ds_load(struct ds *ds, const struct dsopts *o);
void ds_free(struct ds *ds);
/* Indices of the records of split s (count in *n). */
size_t *ds_split(const struct ds *ds, int s, size_t *n);
/* A record's id field (string or integer), else "#recno"; malloc'd. */
char *ds_read_id(const msgpack_object *rec, uint64_t recno);
/* "1-8" for a fold mask, into buf. */
const char *ds_folds_str(uint64_t mask, char *buf, size_t cap);

/*
 * getopt values of the long options without a letter (-s is the shared
 * --seed, so --scp has none).
 */
enum { O_TRAIN = 1, O_VAL, O_TEST, O_MAXITER, O_VOCAB, O_SCP };

/* The options every scoring subcommand shares. */
struct outopts {
	const char *json, *tsv, *scores, *name;
	size_t nboot;
	uint64_t seed;
};

/* Test metrics of one set of class scores. */
struct evalres {
	double val_macro_auroc;
	double macro_auroc, macro_f1;
	double auroc_lo, auroc_hi, f1_lo, f1_hi;
	size_t nclass;
	double *auroc, *f1, *thresh;   /* [nclass] */
	size_t *npos;
	uint8_t *valid;                /* test has positives and negatives */
	uint8_t *valthresh;            /* validation had a positive */
};

/*
 * Evaluate class-major scores of the validation (sv, nv records) and test
 * (st, nt records) splits: thresholds chosen on validation, metrics and
 * bootstrap CIs on test.  Dies on allocation failure.
 */
void eval_scores(struct evalres *r, const struct ds *ds,
    const size_t *iv, size_t nv, const double *sv,
    const size_t *it, size_t nt, const double *st,
    size_t nboot, uint64_t seed);
void evalres_free(struct evalres *r);
/*
 * The per-class table of r on stdout; trained (classes fitted), iters and
 * grad (convergence) may be NULL.
 */
void print_classes(const struct ds *ds, const struct evalres *r,
    const uint8_t *trained, const int *iters, const double *grad);
/* Macro AUROC over valid classes of class-major scores of records idx. */
double macro_auroc_of(const struct ds *ds, const size_t *idx, size_t n,
    const double *s);
/* Class-major labels of records idx (malloc'd). */
uint8_t *labels_of(const struct ds *ds, const size_t *idx, size_t n);

/* JSON helpers: a summary row {task, setting, metric, value, lo, hi, sd, runs}. */
json_t *summary_row(const char *task, const char *setting, const char *metric,
    double value, double lo, double hi, double sd, int runs);
/* Write root to path (temporary + rename); dies on error. */
void write_json(json_t *root, const char *path);
/* The summary rows of root as TSV into path. */
void write_tsv(json_t *root, const char *path);
json_t *json_num(double v);   /* null for NaN */
/* A per-record score file: header, then rows. */
FILE *scores_open(const char *path);
void scores_rows(FILE *f, const struct ds *ds, const size_t *idx, size_t n,
    const double *s, int split);

/* ROC curves of class-major test scores as TSV "class fpr tpr" into
 * path: a block per class with test positives and negatives, from (0, 0)
 * through every distinct score to (1, 1), blocks separated by two blank
 * lines (gnuplot's index). */
void roc_write(const char *path, const struct ds *ds, const size_t *it, size_t nt,
    const double *st);

/* Class counts per fold (and records per fold) on stdout. */
void describe_table(const struct ds *ds);

int cmd_probe(int argc, char **argv);
int cmd_retrieval(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_describe(int argc, char **argv);
int cmd_zeroshot(int argc, char **argv);
int cmd_generate(int argc, char **argv);

#endif
