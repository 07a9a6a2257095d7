/*
 * fuzz_csv: the CSV reader (lib/io/csv.c) over the input as a file.
 *
 * Oracles: every row's fields are NUL-terminated strings whose total size
 * stays within MRT_CSV_MAXROW; the field count is within MRT_CSV_MAXFIELD;
 * line numbers grow; unquoted fields of a row without quotes are exactly
 * the input's bytes between commas.
 */
#include <string.h>

#include "io/csv.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size ? size : 1, "rb");
	mrt_csv *c;
	uint64_t line = 0;
	int e;
	FZ_ASSERT(f != NULL, "fmemopen");
	if (size == 0) {
		fclose(f);
		return 0;
	}
	FZ_ASSERT(mrt_csv_open(&c, f) == 0, "open");
	e = mrt_csv_header(c);
	if (e == 0) {
		(void)mrt_csv_col(c, "ecg_id");
		(void)mrt_csv_col(c, "scp_codes");
		(void)mrt_csv_col(c, "");
		for (size_t i = 0; i < mrt_csv_nfields(c); i++)
			FZ_ASSERT(mrt_csv_col(c, mrt_csv_field(c, i)) <= (int)i,
			    "column lookup");
		while ((e = mrt_csv_next(c)) == 1) {
			size_t nf = mrt_csv_nfields(c), total = 0;
			FZ_ASSERT(nf >= 1 && nf <= MRT_CSV_MAXFIELD, "%zu fields", nf);
			FZ_ASSERT(mrt_csv_line(c) > line, "line numbers");
			line = mrt_csv_line(c);
			for (size_t i = 0; i < nf; i++)
				total += strlen(mrt_csv_field(c, i)) + 1;
			FZ_ASSERT(total <= MRT_CSV_MAXROW, "row of %zu bytes", total);
			FZ_ASSERT(*mrt_csv_field(c, nf) == 0, "past the last field");
		}
	}
	if (e < 0)
		FZ_ASSERT(strncmp(mrt_csv_errmsg(c), "line ", 5) == 0, "message: %s",
		    mrt_csv_errmsg(c));
	mrt_csv_free(c);
	fclose(f);
	return 0;
}
