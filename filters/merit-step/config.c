/*
 * config.c: merit-step's --config files (config.h); also compiled into
 * fuzz/fuzz_config.c, which fuzzes read_config.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/filter.h"
#include "nn/nn.h"
#include "config.h"

void
read_config(const char *path, mrt_nn_config *c)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int lineno = 0, sized = 0;
	if (f == NULL)
		flt_die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f)) {
		char key[64], val[256], why[256], *h;
		lineno++;
		if ((h = strchr(line, '#')) != NULL)
			*h = 0;
		for (h = line; *h; h++)
			if (*h == '=')
				*h = ' ';
		if (sscanf(line, "%63s", key) != 1)
			continue;
		if (sscanf(line, "%63s %255s", key, val) != 2)
			flt_die("%s: line %d: %s without a value", path, lineno, key);
		if (strcmp(key, "preset") == 0) {
			if (mrt_nn_preset(val, c) != 0)
				flt_die("%s: line %d: unknown preset %s (merit-s, merit-xs)",
				    path, lineno, val);
		} else if (mrt_nn_config_set(c, key, val, why, sizeof why) != 0)
			flt_die("%s: line %d: %s", path, lineno, why);
		else
			sized = 1;
	}
	if (ferror(f))
		flt_die("%s: %s", path, strerror(errno));
	fclose(f);
	if (sized)      /* no longer the preset */
		snprintf(c->preset, sizeof c->preset, "%s", "");
}
