/* findings.c: finding code names (see findings.h). */
#include <string.h>

#include "synth/findings.h"

static const char *const codes[MRT_SYNTH_NCODES] = {
	"NORM", "SR", "SBRAD", "STACH", "SARRH", "AFIB", "AFLT", "1AVB",
	"CLBBB", "CRBBB", "IRBBB", "LAFB", "LVH", "IMI", "AMI", "ASMI",
	"STE_", "STD_", "INVT", "PVC", "PAC", "LVOLT", "LNGQT", "WPW"
};

const char *
mrt_synth_code_name(int c)
{
	return c >= 0 && c < MRT_SYNTH_NCODES ? codes[c] : "?";
}

int
mrt_synth_code_parse(const char *s, size_t n)
{
	while (n > 0 && s[n - 1] == '_')
		n--;
	for (int c = 0; c < MRT_SYNTH_NCODES; c++) {
		size_t m = strlen(codes[c]);
		while (m > 0 && codes[c][m - 1] == '_')
			m--;
		if (m == n && memcmp(s, codes[c], n) == 0)
			return c;
	}
	return -1;
}
