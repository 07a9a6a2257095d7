/*
 * compare.c: merit-eval compare A.json B.json ..., one table: a row per
 * model (its JSON's "model"), a column per task, setting and metric found
 * in the files' "summary" rows, in order of first appearance.
 */
#include <math.h>

#include "eval.h"

#define CMP_USAGE "merit-eval compare file.json ..."
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

int
cmd_compare(int argc, char **argv)
{
	static struct col cols[MAXCOL];
	int ncol = 0, nf, c;
	json_t **docs;
	size_t wname = 5;
	while ((c = getopt(argc, argv, "")) != -1)
		flt_usage(CMP_USAGE);
	nf = argc - optind;
	if (nf < 1)
		flt_usage(CMP_USAGE);
	if ((docs = calloc((size_t)nf, sizeof *docs)) == NULL)
		flt_die("out of memory");
	for (int i = 0; i < nf; i++) {
		const char *path = argv[optind + i];
		json_error_t je;
		json_t *rows, *row, *model;
		size_t k;
		if ((docs[i] = json_load_file(path, 0, &je)) == NULL)
			flt_die("%s: line %d: %s", path, je.line, je.text);
		rows = json_object_get(docs[i], "summary");
		model = json_object_get(docs[i], "model");
		if (!json_is_array(rows) || !json_is_string(model))
			flt_die("%s: not a merit-eval result (no model or summary)", path);
		if (strlen(json_string_value(model)) > wname)
			wname = strlen(json_string_value(model));
		json_array_foreach(rows, k, row)
			if (col_of(cols, &ncol, row) < 0)
				flt_die("%s: summary row %zu lacks task, setting or metric",
				    path, k + 1);
	}
	printf("%-*s", (int)wname, "model");
	for (int j = 0; j < ncol; j++) {
		int w = printf("  %s %s %s", cols[j].task, cols[j].setting,
		    cols[j].metric);
		printf("%*s", w < 30 ? 30 - w : 0, "");
	}
	printf("\n");
	for (int i = 0; i < nf; i++) {
		json_t *rows = json_object_get(docs[i], "summary");
		printf("%-*s", (int)wname,
		    json_string_value(json_object_get(docs[i], "model")));
		for (int j = 0; j < ncol; j++) {
			char buf[128] = "-";
			json_t *row;
			size_t k;
			json_array_foreach(rows, k, row)
				if (col_of(cols, &ncol, row) == j)
					cell(buf, sizeof buf, row);
			/* pad by characters: "±" is two bytes */
			printf("  %-*s", 28 + (strstr(buf, "±") ? 1 : 0), buf);
		}
		printf("\n");
		json_decref(docs[i]);
	}
	free(docs);
	return finish_stdout();
}
