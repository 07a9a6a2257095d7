/*
 * report.h: the free-text report of a synthetic ECG, written from its
 * findings (synth.h codes) and measured intervals, in English or German,
 * with varied wording, order and abbreviations, and findings left out
 * with a given probability (as real reports leave things out).
 *
 * Silent findings are never written, nor implied: the report of a record
 * with silent findings is written as if it did not have them.  None of
 * their phrases appears; a record whose abnormal findings are all silent is
 * called normal (NORM); a run with silent findings never appends the
 * interval summary (its PR, QRS and QT show a long PR, a wide QRS, a long
 * QT).  The figures in phrases are each their own finding's (PR only in
 * 1AVB's, the axis only in LAFB's, QTc only in LNGQT's, the QRS only in the
 * complete bundle branch blocks', which no other finding widens, the count
 * of PVC's only ventricular beats), and the rate the rhythm's (the caller
 * states, for a silent PAC or PVC, the rate of the beats without it).
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
	int ectopics;               /* premature ventricular beats */
	uint32_t silent;            /* the run's silent findings */
} mrt_report_facts;

/*
 * Write the report of f into buf (cap bytes, NUL-terminated, truncated at
 * a phrase boundary).  Each finding is left out with probability omit, a
 * silent one always; *omitted gets the mask of the findings left out.  The
 * omission draws of the other findings are those of a run without silent
 * findings.  lang 0 English, 1 German.  Returns 0, or MRT_ERANGE if cap is
 * too small for even one phrase.
 */
int mrt_report_write(mrt_rng *r, const mrt_report_facts *f, double omit,
    int lang, char *buf, size_t cap, uint32_t *omitted);

/*
 * The findings a report states: the mask of the codes whose phrases (in
 * either language, any case, figures as numbers) occur in text, each phrase
 * at word boundaries and the longest one at a place read, so that
 * "incomplete RBBB" is IRBBB and not CRBBB.  The report of mrt_report_write
 * without omissions parses back to its findings.
 */
uint32_t mrt_report_parse(const char *text);

#endif
