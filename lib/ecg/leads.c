/*
 * leads.c: lead-name normalisation (see leads.h).
 */
#include <ctype.h>
#include <string.h>

#include "ecg/leads.h"

static const char *const names[MRT_LEADS_N] = {
	"I", "II", "III", "aVR", "aVL", "aVF",
	"V1", "V2", "V3", "V4", "V5", "V6",
};

/* lower-case spellings, index = lead */
static const char *const keys[MRT_LEADS_N] = {
	"i", "ii", "iii", "avr", "avl", "avf",
	"v1", "v2", "v3", "v4", "v5", "v6",
};

const char *
mrt_leads_name(int i)
{
	return (i >= 0 && i < MRT_LEADS_N) ? names[i] : NULL;
}

int
mrt_leads_index(const char *name)
{
	char k[32];
	const char *p = k;
	size_t n = 0;
	while (*name == ' ')
		name++;
	if (*name == '-')
		return -1;   /* an inverted lead (-aVR) is not the lead */
	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;
		if (c == ' ' || c == '\t' || c == '_' || c == '-' || c == '.')
			continue;
		if (n + 1 >= sizeof k)
			return -1;
		k[n++] = (char)tolower(c);
	}
	k[n] = 0;
	if (strncmp(p, "lead", 4) == 0)
		p += 4;
	else if (strncmp(p, "ecg", 3) == 0)
		p += 3;
	if (p[0] == 'd' && (strcmp(p + 1, "i") == 0 ||
	    strcmp(p + 1, "ii") == 0 || strcmp(p + 1, "iii") == 0))
		p++;
	for (int i = 0; i < MRT_LEADS_N; i++)
		if (strcmp(p, keys[i]) == 0)
			return i;
	return -1;
}
