/*
 * test_labels: PTB-XL task label sets from scp_statements.csv for twelve
 * real ptbxl_database.csv rows (tests/fixtures/ptbxl-scp), against sets
 * worked out by hand from the statement rows (codes with a trailing '_'
 * and likelihood 0 included); class counts per task; names compared
 * without trailing '_'; the generic task; malformed tables; tasks kept to
 * some of their classes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "eval/labels.h"
#include "check.h"

#define DIR "tests/fixtures/ptbxl-scp/"

/*
 * By hand from scp_statements.csv: diagnostic codes and their class /
 * subclass: NORM NORM/NORM, LVH HYP/LVH, ISC_ STTC/ISC_, NDT STTC/STTC,
 * CLBBB CD/CLBBB, ASMI and ALMI MI/AMI, IMI MI/IMI, ANEUR LNGQT DIG
 * STTC/STTC, NST_ STTC/NST_, LAFB CD/LAFB/LPFB, 1AVB CD/_AVB, IVCD CD/IVCD.
 * form = 1: LVOLT NDT STD_ NT_ LNGQT NST_ DIG ABQRS TAB_ STE_ PVC.
 * rhythm = 1: SR PACE AFIB.
 */
static const struct {
	int id;
	const char *set[5];   /* super, sub, form, rhythm, all: sorted */
} expect[] = {
	{ 1, { "NORM", "NORM", "LVOLT", "SR", "LVOLT NORM SR" } },
	{ 39, { "MI STTC", "IMI NST_ STTC", "ABQRS DIG LNGQT NST_", "SR",
	    "ABQRS DIG IMI LNGQT NST_ SR" } },
	{ 140, { "HYP STTC", "ISC_ LVH", "", "SR", "ISC_ LVH SR" } },
	{ 143, { "", "", "", "PACE", "PACE" } },
	{ 170, { "STTC", "NST_", "NST_ PVC", "SR", "NST_ PVC SR" } },
	{ 181, { "MI STTC", "AMI IMI STTC", "", "", "ALMI ANEUR ASMI IMI" } },
	{ 182, { "CD MI", "AMI LAFB/LPFB _AVB", "", "SR", "1AVB ASMI LAFB SR" } },
	{ 194, { "NORM", "NORM", "TAB_", "", "NORM TAB_" } },
	{ 598, { "CD", "CLBBB", "", "AFIB", "AFIB CLBBB" } },
	{ 1596, { "", "", "STE_", "PACE", "PACE STE_" } },
	{ 9217, { "CD", "IVCD", "LVOLT", "", "IVCD LVOLT" } },
	{ 9998, { "STTC", "STTC", "NDT NT_ STD_", "SR", "NDT NT_ SR STD_" } },
};

static mrt_labels *
load(int task)
{
	mrt_labels *L;
	char err[256];
	FILE *f = fopen(DIR "scp_statements.csv", "r");
	int e;
	if (f == NULL) { perror(DIR "scp_statements.csv"); exit(1); }
	if (mrt_labels_new(&L, task) != 0) exit(1);
	e = mrt_labels_load_scp(L, f, err, sizeof err);
	CHECK(e == 0, "load task %d: %s", task, err);
	fclose(f);
	mrt_labels_finish(L);
	return L;
}

/* The codes of row id's scp_codes dict: "'A': 1.0, 'B': 0.0" -> list. */
static int
row_codes(int id, char codes[][16], int cap)
{
	FILE *f = fopen(DIR "ptbxl_rows.csv", "r");
	char line[8192];
	int n = -1;
	if (f == NULL) { perror(DIR "ptbxl_rows.csv"); exit(1); }
	while (fgets(line, sizeof line, f))
		if (atoi(line) == id && strchr(line, ',') - line == (long)snprintf(NULL, 0, "%d", id)) {
			/* quoted when it holds a comma, bare otherwise */
			char *p = strchr(line, '{'), *end = p ? strchr(p, '}') : NULL;
			n = 0;
			while (p && (p = strchr(p, '\'')) && p < end && n < cap) {
				char *q = strchr(p + 1, '\'');
				snprintf(codes[n++], 16, "%.*s", (int)(q - p - 1), p + 1);
				p = q + 1;
			}
			break;
		}
	fclose(f);
	return n;
}

static void
rows(void)
{
	for (int t = 0; t < 5; t++) {
		mrt_labels *L = load(t);
		for (size_t r = 0; r < sizeof expect / sizeof expect[0]; r++) {
			char codes[16][16], got[512] = "";
			uint8_t y[128] = { 0 };
			int n = row_codes(expect[r].id, codes, 16);
			CHECK(n > 0, "row %d not found", expect[r].id);
			for (int i = 0; i < n; i++)
				mrt_labels_code(L, codes[i], strlen(codes[i]), y);
			for (size_t k = 0; k < mrt_labels_nclass(L); k++)
				if (y[k]) {
					if (got[0])
						strcat(got, " ");
					strcat(got, mrt_labels_name(L, k));
				}
			CHECK(strcmp(got, expect[r].set[t]) == 0,
			    "row %d task %s: got \"%s\", expected \"%s\"", expect[r].id,
			    mrt_labels_task_name(t), got, expect[r].set[t]);
		}
		mrt_labels_free(L);
	}
}

static void
counts_and_names(void)
{
	static const size_t nclass[5] = { 5, 23, 19, 12, 71 };
	mrt_labels *L;
	uint8_t y[128] = { 0 };
	for (int t = 0; t < 5; t++) {
		L = load(t);
		CHECK(mrt_labels_nclass(L) == nclass[t], "task %s: %zu classes",
		    mrt_labels_task_name(t), mrt_labels_nclass(L));
		mrt_labels_free(L);
	}
	L = load(MRT_LABELS_SUPER);
	CHECK(!strcmp(mrt_labels_name(L, 0), "CD") &&
	    !strcmp(mrt_labels_name(L, 4), "STTC"), "super sorted");
	mrt_labels_free(L);
	L = load(MRT_LABELS_ALL);
	/* NST_ in the table, NST or NST__ in a stream: the same class */
	CHECK(mrt_labels_code(L, "NST", 3, y) == 1, "NST without '_'");
	CHECK(mrt_labels_code(L, "NST__", 5, y) == 1, "NST__");
	CHECK(mrt_labels_code(L, "NSTX", 4, y) == 0, "unknown code");
	{
		int k = 0, ones = 0;
		for (size_t j = 0; j < mrt_labels_nclass(L); j++) {
			ones += y[j];
			if (y[j]) k = (int)j;
		}
		CHECK(ones == 1 && !strcmp(mrt_labels_name(L, (size_t)k), "NST_"),
		    "NST maps to NST_");
		CHECK(!strcmp(mrt_labels_desc(L, (size_t)k), "non-specific ST changes"),
		    "description");
	}
	mrt_labels_free(L);
	CHECK(mrt_labels_task_parse("ptbxl-rhythm") == MRT_LABELS_RHYTHM, "parse");
	CHECK(mrt_labels_task_parse("ptbxl") == MRT_EINVAL, "parse bad");
}

static void
generic_and_bad(void)
{
	mrt_labels *L;
	uint8_t y[4] = { 0 };
	char err[256];
	FILE *f;
	mrt_labels_new(&L, MRT_LABELS_CODES);
	mrt_labels_add_code(L, "b", 1);
	mrt_labels_add_code(L, "a", 1);
	mrt_labels_add_code(L, "b_", 2);
	mrt_labels_finish(L);
	CHECK(mrt_labels_nclass(L) == 2 && !strcmp(mrt_labels_name(L, 0), "a"),
	    "generic classes");
	CHECK(mrt_labels_code(L, "b", 1, y) == 1 && y[1] == 1 && y[0] == 0, "generic map");
	mrt_labels_free(L);

	f = tmpfile();
	fputs("code,description,diagnostic,form,diagnostic_class,diagnostic_subclass\n"
	    "X,x,1.0,,A,B\n", f);
	rewind(f);
	mrt_labels_new(&L, MRT_LABELS_SUPER);
	CHECK(mrt_labels_load_scp(L, f, err, sizeof err) == MRT_EFORMAT &&
	    !strcmp(err, "no column rhythm"), "missing column: %s", err);
	mrt_labels_free(L);
	fclose(f);
	f = tmpfile();
	fputs(",description,diagnostic,form,rhythm,diagnostic_class,diagnostic_subclass\n"
	    "X,\"x, with comma\",1.0,,,A,B\nY,y\n", f);
	rewind(f);
	mrt_labels_new(&L, MRT_LABELS_SUPER);
	CHECK(mrt_labels_load_scp(L, f, err, sizeof err) == MRT_EFORMAT &&
	    !strcmp(err, "line 3: 2 fields, header has 7"), "short row: %s", err);
	mrt_labels_free(L);
	fclose(f);
}

/* A task restricted to some of its classes: the others' codes map to none. */
static void
keep(void)
{
	mrt_labels *L = load(MRT_LABELS_SUPER);
	uint8_t k[5] = { 0 }, y[5] = { 0 };
	long mi = mrt_labels_find(L, "MI", 2), cd = mrt_labels_find(L, "CD", 2);
	CHECK(mi == 2 && cd == 0 && mrt_labels_find(L, "XX", 2) == -1, "find %ld %ld", mi, cd);
	CHECK(mrt_labels_keep(L, k) == MRT_EINVAL && mrt_labels_nclass(L) == 5, "none kept");
	k[mi] = k[4] = 1;   /* MI, STTC */
	CHECK(mrt_labels_keep(L, k) == 0 && mrt_labels_nclass(L) == 2 &&
	    !strcmp(mrt_labels_name(L, 0), "MI") && !strcmp(mrt_labels_name(L, 1), "STTC") &&
	    !strcmp(mrt_labels_desc(L, 1), "STTC"), "kept MI, STTC");
	CHECK(mrt_labels_code(L, "IMI", 3, y) == 1 && y[0] == 1 && y[1] == 0, "IMI -> MI");
	CHECK(mrt_labels_code(L, "NST_", 4, y) == 1 && y[1] == 1, "NST_ -> STTC");
	CHECK(mrt_labels_code(L, "LAFB", 4, y) == 0 && mrt_labels_code(L, "NORM", 4, y) == 0 &&
	    y[0] + y[1] + y[2] == 2, "CD, NORM dropped");
	mrt_labels_free(L);
	mrt_labels_new(&L, MRT_LABELS_CODES);
	mrt_labels_add_code(L, "STE_", 4);
	mrt_labels_add_code(L, "AFIB", 4);
	mrt_labels_add_code(L, "LVH", 3);
	mrt_labels_finish(L);
	memset(k, 0, sizeof k);
	k[mrt_labels_find(L, "STE", 3)] = 1;
	k[mrt_labels_find(L, "AFIB", 4)] = 1;
	CHECK(mrt_labels_keep(L, k) == 0 && mrt_labels_nclass(L) == 2 &&
	    mrt_labels_find(L, "STE__", 5) == 1 && mrt_labels_find(L, "LVH", 3) == -1,
	    "generic keep");
	memset(y, 0, sizeof y);
	CHECK(mrt_labels_code(L, "LVH", 3, y) == 0 && mrt_labels_code(L, "STE", 3, y) == 1 &&
	    y[1] == 1 && y[0] == 0, "generic map after keep");
	mrt_labels_free(L);
}

int
main(void)
{
	rows();
	counts_and_names();
	generic_and_bad();
	keep();
	if (fails)
		printf("test_labels: %d failures\n", fails);
	return fails != 0;
}
