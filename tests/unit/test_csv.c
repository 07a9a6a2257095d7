/*
 * test_csv: lib/csv against hand-written rows (quotes, "" escapes, CRLF,
 * embedded newlines, limits) and real PTB-XL rows (checked against the
 * values visible in the file with a text editor).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "io/csv.h"
#include "check.h"


static FILE *
memf(const char *s, size_t n)
{
	FILE *f = tmpfile();
	fwrite(s, 1, n, f);
	rewind(f);
	return f;
}

static void
test_basic(void)
{
	const char s[] = "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n"
	    "\n2,\"multi\nline\",\r\n3,,\n4";
	FILE *f = memf(s, sizeof s - 1);
	mrt_csv *c;
	CHECK(mrt_csv_open(&c, f) == 0);
	CHECK(mrt_csv_header(c) == 0);
	CHECK(mrt_csv_col(c, "a") == 0);
	CHECK(mrt_csv_col(c, "c") == 2);
	CHECK(mrt_csv_col(c, "d") == -1);
	CHECK(mrt_csv_next(c) == 1);
	CHECK(mrt_csv_line(c) == 2);
	CHECK(mrt_csv_nfields(c) == 3);
	CHECK(strcmp(mrt_csv_field(c, 1), "x, y") == 0);
	CHECK(strcmp(mrt_csv_field(c, 2), "say \"hi\"") == 0);
	CHECK(strcmp(mrt_csv_field(c, 3), "") == 0);
	CHECK(mrt_csv_next(c) == 1);
	CHECK(mrt_csv_line(c) == 4);
	CHECK(strcmp(mrt_csv_field(c, 1), "multi\nline") == 0);
	CHECK(strcmp(mrt_csv_field(c, 2), "") == 0);
	CHECK(mrt_csv_nfields(c) == 3);
	CHECK(mrt_csv_next(c) == 1);
	CHECK(mrt_csv_line(c) == 6);
	CHECK(mrt_csv_nfields(c) == 3);
	CHECK(mrt_csv_next(c) == 1);
	CHECK(mrt_csv_nfields(c) == 1);
	CHECK(strcmp(mrt_csv_field(c, 0), "4") == 0);
	CHECK(mrt_csv_next(c) == 0);
	mrt_csv_free(c);
	fclose(f);
}

static void
test_errors(void)
{
	const char s1[] = "a,b\n1,\"open\n";
	const char s2[] = "a,b\n1,\"x\"y\n";
	FILE *f = memf(s1, sizeof s1 - 1);
	mrt_csv *c;
	char *big;
	size_t n = MRT_CSV_MAXROW + 10;
	mrt_csv_open(&c, f);
	CHECK(mrt_csv_next(c) == 1);
	CHECK(mrt_csv_next(c) < 0);
	CHECK(strcmp(mrt_csv_errmsg(c),
	    "line 2: quoted field not closed at end of input") == 0);
	mrt_csv_free(c);
	fclose(f);
	f = memf(s2, sizeof s2 - 1);
	mrt_csv_open(&c, f);
	CHECK(mrt_csv_next(c) == 1);
	CHECK(mrt_csv_next(c) == MRT_EFORMAT);
	CHECK(strcmp(mrt_csv_errmsg(c), "line 2: text after a closing quote")
	    == 0);
	mrt_csv_free(c);
	fclose(f);
	big = malloc(n);
	memset(big, 'x', n);
	f = memf(big, n);
	free(big);
	mrt_csv_open(&c, f);
	CHECK(mrt_csv_next(c) == MRT_ENOMEM);
	CHECK(strcmp(mrt_csv_errmsg(c), "line 1: row longer than 4 MiB") == 0);
	mrt_csv_free(c);
	fclose(f);
	f = memf("", 0);
	mrt_csv_open(&c, f);
	CHECK(mrt_csv_header(c) == MRT_ETRUNC);
	mrt_csv_free(c);
	fclose(f);
}

struct kv { int n; char k[8][16]; double v[8]; };

static int
addkv(void *ctx, const char *key, double val)
{
	struct kv *kv = ctx;
	if (kv->n == 8)
		return 99;
	snprintf(kv->k[kv->n], 16, "%s", key);
	kv->v[kv->n++] = val;
	return 0;
}

static void
test_pydict(void)
{
	struct kv kv = {0};
	CHECK(mrt_csv_pydict("{'NORM': 100.0, 'LVOLT': 0.0, 'SR': 0.0}",
	    addkv, &kv) == 0);
	CHECK(kv.n == 3);
	CHECK(strcmp(kv.k[0], "NORM") == 0 && kv.v[0] == 100.0);
	CHECK(strcmp(kv.k[2], "SR") == 0 && kv.v[2] == 0.0);
	kv.n = 0;
	CHECK(mrt_csv_pydict(" { } ", addkv, &kv) == 0 && kv.n == 0);
	CHECK(mrt_csv_pydict("{\"A\":1,'B':-2.5e1,}", addkv, &kv) == 0);
	CHECK(kv.n == 2 && kv.v[1] == -25.0);
	kv.n = 0;
	CHECK(mrt_csv_pydict("{'A': 1", addkv, &kv) == MRT_EFORMAT);
	CHECK(mrt_csv_pydict("{'A' 1}", addkv, &kv) == MRT_EFORMAT);
	CHECK(mrt_csv_pydict("{'A': x}", addkv, &kv) == MRT_EFORMAT);
	CHECK(mrt_csv_pydict("{'A': 1} junk", addkv, &kv) == MRT_EFORMAT);
	CHECK(mrt_csv_pydict("[1]", addkv, &kv) == MRT_EFORMAT);
	kv.n = 8;
	CHECK(mrt_csv_pydict("{'A': 1}", addkv, &kv) == 99);
}

/* Real rows of ptbxl_database.csv: ecg_id 1 and the row count. */
static void
test_ptbxl(void)
{
	const char *root = getenv("MERIT_ROOT");
	char path[4096];
	FILE *f;
	mrt_csv *c;
	int id, rep, scp, fold, fn, e;
	long rows = 0;
	snprintf(path, sizeof path, "%s/tests/fixtures/ptbxl/"
	    "ptbxl_database.csv", root ? root : ".");
	f = fopen(path, "rb");
	if (f == NULL) {
		fails++;
		fprintf(stderr, "cannot open %s\n", path);
		return;
	}
	mrt_csv_open(&c, f);
	CHECK(mrt_csv_header(c) == 0);
	id = mrt_csv_col(c, "ecg_id");
	rep = mrt_csv_col(c, "report");
	scp = mrt_csv_col(c, "scp_codes");
	fold = mrt_csv_col(c, "strat_fold");
	fn = mrt_csv_col(c, "filename_hr");
	CHECK(id == 0 && rep == 10 && scp == 11 && fold == 25 && fn == 27);
	while ((e = mrt_csv_next(c)) == 1) {
		rows++;
		CHECK(mrt_csv_nfields(c) == 28);
		if (rows == 1) {
			struct kv kv = {0};
			CHECK(strcmp(mrt_csv_field(c, id), "1") == 0);
			CHECK(strcmp(mrt_csv_field(c, rep),
			    "sinusrhythmus periphere niederspannung") == 0);
			CHECK(strcmp(mrt_csv_field(c, 20), " , I-V1,  ") == 0);
			CHECK(strcmp(mrt_csv_field(c, fold), "3") == 0);
			CHECK(strcmp(mrt_csv_field(c, fn),
			    "records500/00000/00001_hr") == 0);
			CHECK(mrt_csv_pydict(mrt_csv_field(c, scp), addkv,
			    &kv) == 0 && kv.n == 3);
		}
	}
	CHECK(e == 0);
	CHECK(rows == 21837);
	mrt_csv_free(c);
	fclose(f);
}

int
main(void)
{
	test_basic();
	test_errors();
	test_pydict();
	test_ptbxl();
	if (fails)
		fprintf(stderr, "test_csv: %d checks failed\n", fails);
	return fails != 0;
}
