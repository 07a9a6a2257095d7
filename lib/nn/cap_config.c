/*
 * cap_config.c: the caption decoder's config (cap_config.h), apart from
 * caption.c and cap_net.c, which both use it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cap_config.h"
#include "nn/internal.h"
#include "text/bpe.h"

void
mrt_cap_config_default(mrt_cap_config *cc, const mrt_nn_config *c)
{
	*cc = (mrt_cap_config){ 64, 2, 4, 256, c->txt_vocab, c->txt_len, c->leads, c->ecg_d,
				MRT_CAP_MEM_LEADS };
}

static int *
cap_key(mrt_cap_config *cc, const char *key)
{
	return !strcmp(key, "cap_d") ? &cc->d : !strcmp(key, "cap_layers") ? &cc->layers :
	       !strcmp(key, "cap_heads") ? &cc->heads : !strcmp(key, "cap_mlp") ? &cc->mlp : NULL;
}

int
mrt_cap_config_set(mrt_cap_config *cc, const char *key, const char *value, char *msg, size_t cap)
{
	int *ip = cap_key(cc, key);
	char *end;
	if (!strcmp(key, "cap_memory")) {
		if (strcmp(value, "leads") && strcmp(value, "tokens"))
			return mrt_errf(msg, cap, MRT_EINVAL, "cap_memory %s is not leads or tokens", value);
		cc->memory = strcmp(value, "leads") ? MRT_CAP_MEM_TOKENS : MRT_CAP_MEM_LEADS;
		return 0;
	}
	if (!ip)
		return mrt_errf(msg, cap, MRT_ENOENT, "unknown key %s (cap_d, cap_layers, cap_heads, "
				"cap_mlp, cap_memory)", key);
	errno = 0;
	long v = strtol(value, &end, 10);
	if (end == value || *end || errno || v < 1 || v > 1 << 16)
		return mrt_errf(msg, cap, MRT_EINVAL, "%s %s is not a positive integer", key, value);
	*ip = (int)v;
	return 0;
}

int
mrt_cap_config_check(const mrt_cap_config *c, char *msg, size_t cap)
{
	if (c->d < 1 || c->heads < 1 || c->mlp < 1 || c->layers < 1 || c->d > 65536 ||
	    c->mlp > 1 << 20)
		return mrt_errf(msg, cap, MRT_EINVAL, "decoder sizes out of range");
	if (c->layers > NN_MAXLAYERS)
		return mrt_errf(msg, cap, MRT_EINVAL, "more than %d decoder blocks", NN_MAXLAYERS);
	if (c->d % c->heads)
		return mrt_errf(msg, cap, MRT_EINVAL, "cap_d %d not divisible by %d heads", c->d,
				c->heads);
	if (c->vocab < MRT_BPE_NSPECIAL || c->len < 2 || c->mem < 1 || c->mem_d < 1)
		return mrt_errf(msg, cap, MRT_EINVAL, "vocabulary, length or memory out of range");
	return 0;
}

