/*
 * cap_config.h: the sizes of the caption decoder (caption.h), in a module
 * of their own (cap_config.c) that caption.c and cap_net.c both use.
 */
#ifndef MRT_CAP_CONFIG_H
#define MRT_CAP_CONFIG_H

#include <stddef.h>

#include "nn/nn.h"

/* What the decoder attends to: the encoder's final tokens averaged over
 * time per lead (LEADS, the default), or all of them (TOKENS). */
enum { MRT_CAP_MEM_LEADS, MRT_CAP_MEM_TOKENS };

/* Sizes of the decoder.  d, layers, heads, mlp, memory are the config's;
 * the others follow from the encoder checkpoint. */
typedef struct {
	int d, layers, heads, mlp;      /* width, blocks, heads, MLP width */
	int vocab, len;                 /* the encoder's txt_vocab, txt_len */
	int mem, mem_d;                 /* memory tokens (leads or npatch), width (ecg_d) */
	int memory;                     /* MRT_CAP_MEM_* */
} mrt_cap_config;

/* The default decoder (d 64, 2 blocks, 4 heads, MLP 256) for encoder c. */
void mrt_cap_config_default(mrt_cap_config *cc, const mrt_nn_config *c);
/* Set key (cap_d, cap_layers, cap_heads, cap_mlp) to a positive integer,
 * or cap_memory to leads or tokens (the memory's size follows from the
 * encoder: mrt_cap_create sets it).
 * MRT_ENOENT for another key, MRT_EINVAL for a bad value; msg the reason. */
int mrt_cap_config_set(mrt_cap_config *cc, const char *key, const char *value, char *msg,
		       size_t cap);
int mrt_cap_config_check(const mrt_cap_config *cc, char *msg, size_t cap);

#endif
