/*
 * findings.h: the finding vocabulary of synthetic ECGs, PTB-XL SCP-ECG
 * codes, shared by the generator (synth.h) and the report writer
 * (report.h).
 */
#ifndef MRT_FINDINGS_H
#define MRT_FINDINGS_H

#include <stddef.h>
#include <stdint.h>

/* Findings (bit i of a finding mask is code i). */
enum {
	MRT_SYNTH_NORM, MRT_SYNTH_SR, MRT_SYNTH_SBRAD, MRT_SYNTH_STACH,
	MRT_SYNTH_SARRH, MRT_SYNTH_AFIB, MRT_SYNTH_AFLT, MRT_SYNTH_1AVB,
	MRT_SYNTH_CLBBB, MRT_SYNTH_CRBBB, MRT_SYNTH_IRBBB, MRT_SYNTH_LAFB,
	MRT_SYNTH_LVH, MRT_SYNTH_IMI, MRT_SYNTH_AMI, MRT_SYNTH_ASMI,
	MRT_SYNTH_STE, MRT_SYNTH_STD, MRT_SYNTH_INVT, MRT_SYNTH_PVC,
	MRT_SYNTH_PAC, MRT_SYNTH_LVOLT, MRT_SYNTH_LNGQT, MRT_SYNTH_WPW,
	MRT_SYNTH_NCODES
};
#define MRT_SYNTH_BIT(c) ((uint32_t)1 << (c))
/* The rhythm codes: exactly one is present in a record. */
#define MRT_SYNTH_RHYTHMS (MRT_SYNTH_BIT(MRT_SYNTH_SR) | \
	MRT_SYNTH_BIT(MRT_SYNTH_SBRAD) | MRT_SYNTH_BIT(MRT_SYNTH_STACH) | \
	MRT_SYNTH_BIT(MRT_SYNTH_SARRH) | MRT_SYNTH_BIT(MRT_SYNTH_AFIB) | \
	MRT_SYNTH_BIT(MRT_SYNTH_AFLT))
/* The rhythms an ECG called normal (NORM) may have: NORM is present exactly
 * when no finding outside these is. */
#define MRT_SYNTH_BENIGN (MRT_SYNTH_BIT(MRT_SYNTH_SR) | \
	MRT_SYNTH_BIT(MRT_SYNTH_SBRAD) | MRT_SYNTH_BIT(MRT_SYNTH_SARRH))

/* Code name as PTB-XL spells it ("STE_"), and its parse (with or without
 * the trailing '_'); parse returns -1 for a code the model cannot show. */
const char *mrt_synth_code_name(int code);
int mrt_synth_code_parse(const char *s, size_t n);

#endif
