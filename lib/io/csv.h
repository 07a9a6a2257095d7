/*
 * csv.h: an RFC 4180 CSV reader, one row at a time.
 *
 * Fields may be quoted; a quoted field may hold commas, CR, LF and ""
 * (one literal quote).  Rows end with LF or CRLF.  A row's size is bounded
 * (MRT_CSV_MAXROW bytes): a longer one is an MRT_ENOMEM error with a
 * message, never an unbounded allocation.  Fields are returned unquoted
 * and NUL-terminated; they are valid until the next mrt_csv_next().
 *
 *   mrt_csv *c;
 *   mrt_csv_open(&c, f);
 *   mrt_csv_header(c);                  first row: column names
 *   int id = mrt_csv_col(c, "ecg_id");
 *   while ((e = mrt_csv_next(c)) == 1)
 *           use(mrt_csv_field(c, id));
 *   if (e < 0) report(mrt_csv_errmsg(c));
 *   mrt_csv_free(c);
 */
#ifndef MRT_CSV_H
#define MRT_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

#define MRT_CSV_MAXROW   ((size_t)4 << 20)   /* bytes in one row */
#define MRT_CSV_MAXFIELD 65536               /* fields in one row */

typedef struct mrt_csv mrt_csv;

/* A reader on f (not closed by the reader).  0 or MRT_ENOMEM. */
int mrt_csv_open(mrt_csv **c, FILE *f);
/* Read the next row: 1 read, 0 end of input, <0 error (mrt_csv_errmsg). */
int mrt_csv_next(mrt_csv *c);
size_t mrt_csv_nfields(const mrt_csv *c);
/* Field i of the current row; "" if i is out of range (or negative). */
const char *mrt_csv_field(const mrt_csv *c, size_t i);
/* Read the first row as column names: 0, MRT_ETRUNC (empty input) or <0. */
int mrt_csv_header(mrt_csv *c);
/* Index of the header column called name, -1 if absent. */
int mrt_csv_col(const mrt_csv *c, const char *name);
/* Line number (1-based) where the current row starts. */
uint64_t mrt_csv_line(const mrt_csv *c);
/* The last error ("line 12: quoted field not closed"). */
const char *mrt_csv_errmsg(const mrt_csv *c);
void mrt_csv_free(mrt_csv *c);

/*
 * Parse a Python dict literal of str -> number, as PTB-XL's scp_codes:
 * "{'NORM': 100.0, 'SR': 0.0}".  Keys are quoted with ' or ", values
 * are numbers (int or float, also nan/inf as Python may write them).
 * Calls cb for each entry in order; a non-zero return from cb stops the
 * parse and is returned.  Returns 0, or MRT_EFORMAT on a syntax error.
 * Keys longer than 255 bytes are MRT_ERANGE.
 */
int mrt_csv_pydict(const char *s,
    int (*cb)(void *ctx, const char *key, double val), void *ctx);

#endif
