/*
 * report.c: report text from findings (see report.h).
 *
 * Phrases are templates: %H heart rate, %P PR, %Q QRS, %T QT, %C QTc (ms),
 * %A axis (degrees), %K flutter conduction ratio, %E premature beats.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "synth/report.h"
#include "synth/findings.h"

#define NV 5

static const char *const en[MRT_SYNTH_NCODES][NV] = {
	[MRT_SYNTH_NORM] = { "normal ECG", "otherwise normal ECG", "normal tracing",
	    "within normal limits" },
	[MRT_SYNTH_SR] = { "sinus rhythm", "SR", "normal sinus rhythm",
	    "sinus rhythm, rate %H", "sinus rhythm %H/min" },
	[MRT_SYNTH_SBRAD] = { "sinus bradycardia", "sinus bradycardia (%H bpm)",
	    "sinus brady, rate %H/min", "SB %H/min" },
	[MRT_SYNTH_STACH] = { "sinus tachycardia", "sinus tachycardia at %H bpm",
	    "sinus tach %H/min" },
	[MRT_SYNTH_SARRH] = { "sinus arrhythmia", "marked sinus arrhythmia",
	    "sinus arrhythmia, rate %H" },
	[MRT_SYNTH_AFIB] = { "atrial fibrillation", "AF with ventricular rate %H",
	    "atrial fibrillation, mean rate %H bpm", "AFib" },
	[MRT_SYNTH_AFLT] = { "atrial flutter", "atrial flutter with %K:1 conduction",
	    "AFL, %K:1 block" },
	[MRT_SYNTH_1AVB] = { "1st degree AV block", "first degree AV block (PR %P ms)",
	    "PR prolonged (%P ms)", "AV block I" },
	[MRT_SYNTH_CLBBB] = { "left bundle branch block", "complete LBBB",
	    "LBBB (QRS %Q ms)" },
	[MRT_SYNTH_CRBBB] = { "right bundle branch block", "complete RBBB",
	    "RBBB, QRS %Q ms" },
	[MRT_SYNTH_IRBBB] = { "incomplete right bundle branch block",
	    "incomplete RBBB", "IRBBB" },
	[MRT_SYNTH_LAFB] = { "left anterior fascicular block", "LAFB",
	    "left anterior hemiblock (axis %A)" },
	[MRT_SYNTH_LVH] = { "left ventricular hypertrophy", "LVH by voltage criteria",
	    "LVH" },
	[MRT_SYNTH_IMI] = { "inferior myocardial infarction",
	    "inferior infarct, age undetermined", "old inferior MI" },
	[MRT_SYNTH_AMI] = { "anterior myocardial infarction", "anterior infarct",
	    "anterior MI, age undetermined" },
	[MRT_SYNTH_ASMI] = { "anteroseptal myocardial infarction",
	    "anteroseptal infarct", "anteroseptal MI" },
	[MRT_SYNTH_STE] = { "ST elevation", "ST segment elevation",
	    "ST elevation, consider injury" },
	[MRT_SYNTH_STD] = { "ST depression", "ST segment depression in V4-V6",
	    "horizontal ST depression" },
	[MRT_SYNTH_INVT] = { "T wave inversion", "inverted T waves", "negative T waves" },
	[MRT_SYNTH_PVC] = { "ventricular premature complexes", "PVCs",
	    "%E ventricular extrasystole(s)", "VPB" },
	[MRT_SYNTH_PAC] = { "atrial premature complexes", "PACs",
	    "supraventricular extrasystole(s)", "APB" },
	[MRT_SYNTH_LVOLT] = { "low QRS voltage", "low voltage QRS",
	    "low voltage in limb and chest leads" },
	[MRT_SYNTH_LNGQT] = { "prolonged QT interval", "long QT (QTc %C ms)",
	    "QT prolonged" },
	[MRT_SYNTH_WPW] = { "Wolff-Parkinson-White pattern", "WPW",
	    "pre-excitation (delta wave, short PR)" },
};

static const char *const de[MRT_SYNTH_NCODES][NV] = {
	[MRT_SYNTH_NORM] = { "normales EKG", "sonst normales EKG", "EKG im Normbereich" },
	[MRT_SYNTH_SR] = { "Sinusrhythmus", "SR", "Sinusrhythmus %H/min" },
	[MRT_SYNTH_SBRAD] = { "Sinusbradykardie", "Sinusbradykardie %H/min" },
	[MRT_SYNTH_STACH] = { "Sinustachykardie", "Sinustachykardie %H/min" },
	[MRT_SYNTH_SARRH] = { "Sinusarrhythmie", "ausgepraegte Sinusarrhythmie" },
	[MRT_SYNTH_AFIB] = { "Vorhofflimmern", "VHF, Frequenz %H/min",
	    "absolute Arrhythmie bei Vorhofflimmern" },
	[MRT_SYNTH_AFLT] = { "Vorhofflattern", "Vorhofflattern mit %K:1 Ueberleitung" },
	[MRT_SYNTH_1AVB] = { "AV-Block I. Grades", "AV-Block I (PQ %P ms)",
	    "verlaengerte PQ-Zeit (%P ms)" },
	[MRT_SYNTH_CLBBB] = { "Linksschenkelblock", "kompletter Linksschenkelblock",
	    "LSB (QRS %Q ms)" },
	[MRT_SYNTH_CRBBB] = { "Rechtsschenkelblock", "kompletter Rechtsschenkelblock",
	    "RSB, QRS %Q ms" },
	[MRT_SYNTH_IRBBB] = { "inkompletter Rechtsschenkelblock", "inkompletter RSB" },
	[MRT_SYNTH_LAFB] = { "linksanteriorer Hemiblock", "LAH",
	    "ueberdrehter Linkstyp, LAH" },
	[MRT_SYNTH_LVH] = { "linksventrikulaere Hypertrophie", "Linkshypertrophie",
	    "Sokolow-Index positiv, Linkshypertrophie" },
	[MRT_SYNTH_IMI] = { "Hinterwandinfarkt", "inferiorer Infarkt",
	    "alter Hinterwandinfarkt" },
	[MRT_SYNTH_AMI] = { "Vorderwandinfarkt", "alter Vorderwandinfarkt" },
	[MRT_SYNTH_ASMI] = { "anteroseptaler Infarkt", "Septumvorderwandinfarkt" },
	[MRT_SYNTH_STE] = { "ST-Hebung", "ST-Hebungen" },
	[MRT_SYNTH_STD] = { "ST-Senkung", "ST-Senkungen in V4-V6" },
	[MRT_SYNTH_INVT] = { "T-Negativierung", "negative T-Wellen" },
	[MRT_SYNTH_PVC] = { "ventrikulaere Extrasystolen", "VES", "%E VES" },
	[MRT_SYNTH_PAC] = { "supraventrikulaere Extrasystolen", "SVES" },
	[MRT_SYNTH_LVOLT] = { "Niedervoltage", "periphere und praekordiale Niedervoltage" },
	[MRT_SYNTH_LNGQT] = { "QT-Verlaengerung", "verlaengerte QT-Zeit (QTc %C ms)" },
	[MRT_SYNTH_WPW] = { "WPW-Syndrom", "Praeexzitation (WPW)" },
};

static const char *const filler[2][3] = {
	{ "12-lead ECG recorded", "ECG reviewed", "tracing recorded" },
	{ "12-Kanal-EKG abgeleitet", "EKG befundet", "EKG abgeleitet" },
};

/* Append s to buf at *len if it fits; 0 or -1. */
static int
put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > cap)
		return -1;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = 0;
	return 0;
}

/* Render template t into out (cap bytes). */
static void
render(const char *t, const mrt_report_facts *f, char *out, size_t cap)
{
	size_t len = 0;
	char num[32];
	out[0] = 0;
	for (; *t; t++) {
		if (*t == '%' && t[1]) {
			double v = 0;
			switch (*++t) {
			case 'H': v = f->hr; break;
			case 'P': v = f->pr; break;
			case 'Q': v = f->qrs; break;
			case 'T': v = f->qt; break;
			case 'C': v = f->qtc; break;
			case 'A': v = f->axis; break;
			case 'K': v = f->flutter_ratio; break;
			case 'E': v = f->ectopics; break;
			}
			snprintf(num, sizeof num, "%.0f", isfinite(v) ? v : 0);
			put(out, cap, &len, num, strlen(num));
		} else
			put(out, cap, &len, t, 1);
	}
}

int
mrt_report_write(mrt_rng *r, const mrt_report_facts *f, double omit,
    int lang, char *buf, size_t cap, uint32_t *omitted)
{
	const char *const (*tab)[NV] = lang ? de : en;
	int order[MRT_SYNTH_NCODES], n = 0, rhythm = -1, nsaid = 0;
	static const char *const sep[] = { ", ", ". ", "; ", ", " };
	const char *sp = sep[mrt_rng_below(r, 4)];
	int lower = mrt_rng_uniform(r) < 0.4;
	size_t len = 0;
	char ph[256];

	*omitted = 0;
	if (cap < 64)
		return MRT_ERANGE;
	buf[0] = 0;
	for (int c = 0; c < MRT_SYNTH_NCODES; c++) {
		if (!(f->findings & MRT_SYNTH_BIT(c)))
			continue;
		/* a silent finding draws too: the others' draws stay the same */
		if (mrt_rng_uniform(r) < omit || (f->silent & MRT_SYNTH_BIT(c))) {
			*omitted |= MRT_SYNTH_BIT(c);
			continue;
		}
		if (MRT_SYNTH_BIT(c) & MRT_SYNTH_RHYTHMS)
			rhythm = c;
		else
			order[n++] = c;
	}
	/* abnormal only by silent findings: a normal ECG, as far as it says */
	if ((f->findings & f->silent) && !(f->silent & MRT_SYNTH_BIT(MRT_SYNTH_NORM)) &&
	    !(f->findings & ~f->silent & ~MRT_SYNTH_BENIGN) && mrt_rng_uniform(r) >= omit)
		order[n++] = MRT_SYNTH_NORM;
	/* shuffle, NORM last; the rhythm first most of the time */
	mrt_rng_shuffle(r, order, (size_t)n, sizeof *order);
	for (int i = 0; i < n; i++)
		if (order[i] == MRT_SYNTH_NORM) {
			order[i] = order[n - 1];
			order[n - 1] = MRT_SYNTH_NORM;
		}
	if (rhythm >= 0) {
		int at = mrt_rng_uniform(r) < 0.85 ? 0 : (int)mrt_rng_below(r, (uint64_t)n + 1);
		memmove(order + at + 1, order + at, (n - at) * sizeof *order);
		order[at] = rhythm;
		n++;
	}
	for (int i = 0; i < n; i++) {
		const char *const *v = tab[order[i]];
		int nv = 0;
		while (nv < NV && v[nv])
			nv++;
		render(v[mrt_rng_below(r, (uint64_t)nv)], f, ph, sizeof ph);
		if (nsaid > 0 && put(buf, cap, &len, sp, strlen(sp)) != 0)
			break;
		if (put(buf, cap, &len, ph, strlen(ph)) != 0)
			break;
		nsaid++;
	}
	if (nsaid == 0) {
		const char *fl = filler[lang][mrt_rng_below(r, 3)];
		put(buf, cap, &len, fl, strlen(fl));
	} else if (*omitted == 0 && f->silent == 0 && isfinite(f->pr) &&
	    mrt_rng_uniform(r) < 0.25) {
		snprintf(ph, sizeof ph, lang ? ". PQ %.0f ms, QRS %.0f ms, QT %.0f ms" :
		    ". PR %.0f ms, QRS %.0f ms, QT %.0f ms", f->pr, f->qrs, f->qt);
		put(buf, cap, &len, ph, strlen(ph));
	}
	if (lower) {
		for (size_t i = 0; i < len; i++)
			if (buf[i] >= 'A' && buf[i] <= 'Z')
				buf[i] = (char)(buf[i] - 'A' + 'a');
	} else if (buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
	if (!lower || mrt_rng_uniform(r) < 0.5)
		put(buf, cap, &len, ".", 1);
	return 0;
}

/* Length of the match of template t at s (any case; %X: a number), or 0
 * when it does not match or ends inside a word. */
static size_t
match(const char *t, const char *s)
{
	const char *p = s;
	for (; *t; t++)
		if (*t == '%' && t[1]) {
			t++;
			p += *p == '-';
			if (!isdigit((unsigned char)*p))
				return 0;
			while (isdigit((unsigned char)*p))
				p++;
		} else if (*p && tolower((unsigned char)*p) == tolower((unsigned char)*t))
			p++;
		else
			return 0;
	return isalnum((unsigned char)*p) ? 0 : (size_t)(p - s);
}

uint32_t
mrt_report_parse(const char *text)
{
	uint32_t m = 0;
	for (size_t i = 0; text[i];) {
		size_t best = 0;
		int code = -1;
		if (i == 0 || !isalnum((unsigned char)text[i - 1]))
			for (int lang = 0; lang < 2; lang++)
				for (int c = 0; c < MRT_SYNTH_NCODES; c++)
					for (int v = 0; v < NV; v++) {
						const char *t = (lang ? de : en)[c][v];
						size_t n = t ? match(t, text + i) : 0;
						if (n > best) {
							best = n;
							code = c;
						}
					}
		if (code >= 0) {
			m |= MRT_SYNTH_BIT(code);
			i += best;
		} else
			i++;
	}
	return m;
}
