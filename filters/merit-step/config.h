/*
 * config.h: merit-step's --config files (config.c).
 */
#ifndef MERIT_STEP_CONFIG_H
#define MERIT_STEP_CONFIG_H

#include "nn/nn.h"

/*
 * A config file: "key value" or "key = value" lines, '#' comments; the key
 * preset (first) picks the base, the others are those of
 * mrt_nn_config_set (sizes, mask_ratio, enc_attn, dec_attn, pos).  Dies
 * (flt_die) naming the line of a bad key or value.
 */
void read_config(const char *path, mrt_nn_config *c);

#endif
