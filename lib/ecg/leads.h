/*
 * leads.h: the 12 standard ECG leads and their names.
 *
 * mrt_leads_index() maps the many spellings found in ECG archives to a
 * lead index in the standard order I, II, III, aVR, aVL, aVF, V1-V6:
 * any case; blanks, '_', '-' and '.' ignored; a leading "lead" or "ecg"
 * dropped ("ECG I", "lead_II", "Lead V1"); Roman DI/DII/DIII for I/II/III
 * (Einthoven's names in European archives).  Anything else (MLII, V, vx,
 * -aVR) is not a standard lead: -1.
 */
#ifndef MRT_LEADS_H
#define MRT_LEADS_H

#define MRT_LEADS_N 12

/* "I", "II", ..., "V6" for index 0..11; NULL outside. */
const char *mrt_leads_name(int i);
/* Standard lead index of name, or -1. */
int mrt_leads_index(const char *name);

#endif
