/*
 * compare.c: merit-eval compare [-t] A.json B.json ..., one table: a row per
 * model (its JSON's "model"; the files of one model are merged), a column
 * per task, setting and metric found in the files' "summary" rows, in order
 * of first appearance.  -t turns it: a row per task, setting and metric, a
 * column per model.
 */
#include <math.h>

#include "eval.h"

#define CMP_USAGE "merit-eval compare [-t] file.json ..."
#define MAXCOL 256

struct col { char task[64], setting[64], metric[32]; };

static int
col_of(struct col *cols, int *ncol, json_t *row)
{
	const char *t = json_string_value(json_object_get(row, "task"));
	const char *s = json_string_value(json_object_get(row, "setting"));
	const char *m = json_string_value(json_object_get(row, "metric"));
	if (!t || !s || !m)
		return -1;
	for (int i = 0; i < *ncol; i++)
		if (!strcmp(cols[i].task, t) && !strcmp(cols[i].setting, s) &&
		    !strcmp(cols[i].metric, m))
			return i;
	if (*ncol == MAXCOL)
		flt_die("more than %d columns", MAXCOL);
	snprintf(cols[*ncol].task, sizeof cols->task, "%s", t);
	snprintf(cols[*ncol].setting, sizeof cols->setting, "%s", s);
	snprintf(cols[*ncol].metric, sizeof cols->metric, "%s", m);
	return (*ncol)++;
}

static void
cell(char *buf, size_t cap, json_t *row)
{
	json_t *v = json_object_get(row, "value"), *sd = json_object_get(row, "sd");
	json_t *lo = json_object_get(row, "lo"), *hi = json_object_get(row, "hi");
	if (!json_is_number(v))
		snprintf(buf, cap, "-");
	else if (json_is_number(sd))
		snprintf(buf, cap, "%.4f ± %.4f", json_number_value(v),
		    json_number_value(sd));
	else if (json_is_number(lo) && json_is_number(hi))
		snprintf(buf, cap, "%.4f [%.4f, %.4f]", json_number_value(v),
		    json_number_value(lo), json_number_value(hi));
	else
		snprintf(buf, cap, "%.4f", json_number_value(v));
}

/* The cell of model name m and column j from the files of that model. */
static void
model_cell(char *buf, size_t cap, json_t **docs, int nf, const char *m, struct col *cols,
    int *ncol, int j)
{
	snprintf(buf, cap, "-");
	for (int i = 0; i < nf; i++) {
		json_t *rows = json_object_get(docs[i], "summary"), *row;
		size_t k;
		if (strcmp(json_string_value(json_object_get(docs[i], "model")), m) != 0)
			continue;
		json_array_foreach(rows, k, row)
			if (col_of(cols, ncol, row) == j)
				cell(buf, cap, row);
	}
}

/* Width of s in characters (UTF-8 continuation bytes do not count). */
static int
width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

static void
pad(const char *s, int w)
{
	printf("%s%*s", s, w > width(s) ? w - width(s) : 0, "");
}

int
cmd_compare(int argc, char **argv)
{
	static struct col cols[MAXCOL];
	int ncol = 0, nf, nm = 0, c, transpose = 0;
	json_t **docs;
	const char **models;
	int wname = 5, wcol = 0;
	char buf[128], head[256];
	static const struct option lo[] = {
		{ "transpose", 0, 0, 't' }, FLT_OPT_END
	};
	while ((c = flt_getopt(argc, argv, "t", lo, CMP_USAGE)) != -1) {
		if (c == 't')
			transpose = 1;
		else
			flt_usage(CMP_USAGE);
	}
	nf = argc - optind;
	if (nf < 1)
		flt_usage(CMP_USAGE);
	if ((docs = calloc((size_t)nf, sizeof *docs)) == NULL ||
	    (models = calloc((size_t)nf, sizeof *models)) == NULL)
		flt_die("out of memory");
	for (int i = 0; i < nf; i++) {
		const char *path = argv[optind + i], *name;
		json_error_t je;
		json_t *rows, *row, *model;
		size_t k;
		int seen = 0;
		if ((docs[i] = json_load_file(path, 0, &je)) == NULL)
			flt_die("%s: line %d: %s", path, je.line, je.text);
		rows = json_object_get(docs[i], "summary");
		model = json_object_get(docs[i], "model");
		if (!json_is_array(rows) || !json_is_string(model))
			flt_die("%s: not a merit-eval result (no model or summary)", path);
		name = json_string_value(model);
		for (int m = 0; m < nm; m++)
			seen |= strcmp(models[m], name) == 0;
		if (!seen)
			models[nm++] = name;
		if (width(name) > wname)
			wname = width(name);
		json_array_foreach(rows, k, row)
			if (col_of(cols, &ncol, row) < 0)
				flt_die("%s: summary row %zu lacks task, setting or metric",
				    path, k + 1);
	}
	if (transpose) {
		/* a row per task, setting and metric; a column per model */
		for (int j = 0; j < ncol; j++) {
			snprintf(head, sizeof head, "%.63s %.63s %.31s", cols[j].task, cols[j].setting,
			    cols[j].metric);
			if (width(head) > wcol)
				wcol = width(head);
		}
		pad("", wcol);
		for (int m = 0; m < nm; m++) {
			printf("  ");
			pad(models[m], 26);
		}
		printf("\n");
		for (int j = 0; j < ncol; j++) {
			snprintf(head, sizeof head, "%.63s %.63s %.31s", cols[j].task, cols[j].setting,
			    cols[j].metric);
			pad(head, wcol);
			for (int m = 0; m < nm; m++) {
				model_cell(buf, sizeof buf, docs, nf, models[m], cols, &ncol, j);
				printf("  ");
				pad(buf, 26);
			}
			printf("\n");
		}
	} else {
		pad("model", wname);
		for (int j = 0; j < ncol; j++) {
			snprintf(head, sizeof head, "%.63s %.63s %.31s", cols[j].task, cols[j].setting,
			    cols[j].metric);
			printf("  ");
			pad(head, 28);
		}
		printf("\n");
		for (int m = 0; m < nm; m++) {
			pad(models[m], wname);
			for (int j = 0; j < ncol; j++) {
				model_cell(buf, sizeof buf, docs, nf, models[m], cols, &ncol, j);
				printf("  ");
				pad(buf, 28);
			}
			printf("\n");
		}
	}
	for (int i = 0; i < nf; i++)
		json_decref(docs[i]);
	free(docs);
	free(models);
	flt_out_commit(stdout, NULL);
	return 0;
}
