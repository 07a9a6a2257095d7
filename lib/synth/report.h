/*
 * report.h: the free-text report of a synthetic ECG, written from its
 * findings (synth.h codes) and measured intervals, in English or German,
 * with varied wording, order and abbreviations, and findings left out
 * with a given probability (as real reports leave things out).
 */
#ifndef MRT_REPORT_H
#define MRT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

typedef struct {
	uint32_t findings;          /* MRT_SYNTH_BIT mask */
	double hr, pr, qrs, qt;     /* bpm, ms (pr NaN without P waves) */
	double axis, qtc;           /* degrees, ms */
	int flutter_ratio;          /* AFLT conduction ratio */
	int ectopics;               /* premature beats in the record */
} mrt_report_facts;

/*
 * Write the report of f into buf (cap bytes, NUL-terminated, truncated at
 * a phrase boundary).  Each finding is left out with probability omit;
 * *omitted gets the mask of those left out.  lang 0 English, 1 German.
 * Returns 0, or MRT_ERANGE if cap is too small for even one phrase.
 */
int mrt_report_write(mrt_rng *r, const mrt_report_facts *f, double omit,
    int lang, char *buf, size_t cap, uint32_t *omitted);

#endif
