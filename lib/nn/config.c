/*
 * config.c: model configs and presets, training hyper-parameters and the
 * learning-rate schedule of nn.h; the parameter table's helpers.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "nn/internal.h"

int
nn_round_half_away(double x)
{
	return (int)(x < 0 ? -floor(-x + 0.5) : floor(x + 0.5));
}

void
nn_table_free(nn_table *t)
{
	free(t->e);
	memset(t, 0, sizeof *t);
}

int
mrt_nn_preset(const char *name, mrt_nn_config *c)
{
	memset(c, 0, sizeof *c);
	if (!strcmp(name, "merit-s")) {
		*c = (mrt_nn_config){ "merit-s", 100, 1000, 50, 12,
				      256, 6, 4, 1024,
				      128, 2, 4, 512,
				      4096, 64, 256, 4, 4, 1024,
				      128, 0.75,
				      MRT_NN_ATTN_FULL, MRT_NN_ATTN_FULL, MRT_NN_POS_LEARNED };
		return 0;
	}
	if (!strcmp(name, "merit-xs")) {
		/* tiny, for tests; same signal geometry as merit-s so that real
		 * streams fit, odd sizes elsewhere to catch mixed-up dimensions */
		*c = (mrt_nn_config){ "merit-xs", 100, 1000, 50, 12,
				      32, 2, 2, 48,
				      24, 1, 2, 40,
				      512, 16, 20, 1, 2, 36,
				      12, 0.75,
				      MRT_NN_ATTN_FULL, MRT_NN_ATTN_FULL, MRT_NN_POS_LEARNED };
		return 0;
	}
	return MRT_ENOENT;
}

int
mrt_nn_ntime(const mrt_nn_config *c)
{
	return c->patch > 0 ? c->samples / c->patch : 0;
}

int
mrt_nn_npatch(const mrt_nn_config *c)
{
	return c->leads * mrt_nn_ntime(c);
}

int
mrt_nn_nvis(const mrt_nn_config *c)
{
	return nn_round_half_away(mrt_nn_npatch(c) * (1.0 - c->mask_ratio));
}

static int
check_tower(const char *name, int d, int layers, int heads, int mlp, char *msg, size_t cap)
{
	if (d < 1 || layers < 0 || heads < 1 || mlp < 1 || d > 65536 || mlp > 1 << 20)
		return mrt_errf(msg, cap, MRT_EINVAL, "%s: sizes out of range", name);
	if (layers > NN_MAXLAYERS)
		return mrt_errf(msg, cap, MRT_EINVAL, "%s: more than %d layers", name, NN_MAXLAYERS);
	if (d % heads)
		return mrt_errf(msg, cap, MRT_EINVAL, "%s: width %d not divisible by %d heads", name, d, heads);
	return 0;
}

/* Parameters of a transformer block of width d and MLP width mlp (the
 * tensors of take_block, model.c). */
static double
block_params(double d, double mlp)
{
	return 4 * d * d + 2 * d * mlp + 9 * d + mlp;
}

/* Activations of a tower of L blocks over N tokens in training: the
 * buffers of tower_acts_layout (model.c) with B = 1, each block's
 * counted in full, and the tower's gradients. */
static double
tower_acts(double N, double d, double H, double mlp, double L)
{
	return L * (7 * N * d + N * N * H + 2 * N * mlp + 4 * N) + 4 * N * d + 2 * N;
}

void
nn_config_sizes(const mrt_nn_config *c, double *params, double *acts)
{
	double nt = mrt_nn_ntime(c), np = mrt_nn_npatch(c), nv = mrt_nn_nvis(c);
	double d = c->ecg_d, dd = c->dec_d, td = c->txt_d, P = c->patch, leads = c->leads;
	double len = c->txt_len, pr = c->proj;
	/* the tensors of nn_layout (model.c), tower by tower */
	*params = d * P + d + nt * d + leads * d + c->ecg_layers * block_params(d, c->ecg_mlp) +
		  2 * d + pr * d +
		  dd * d + 2 * dd + nt * dd + leads * dd + c->dec_layers * block_params(dd, c->dec_mlp) +
		  2 * dd + P * dd + P +
		  (double)c->txt_vocab * td + len * td + c->txt_layers * block_params(td, c->txt_mlp) +
		  2 * td + pr * td + 1;
	/* training (train_layout): the three towers, the largest block's
	 * backward scratch, the signal, patches, decoder input and output */
	double te = tower_acts(nv, d, c->ecg_heads, c->ecg_mlp, c->ecg_layers);
	double tdec = tower_acts(np, dd, c->dec_heads, c->dec_mlp, c->dec_layers);
	double tt = tower_acts(len, td, c->txt_heads, c->txt_mlp, c->txt_layers);
	double blk = fmax(fmax(tower_acts(nv, d, c->ecg_heads, c->ecg_mlp, 1) + nv * nv,
			       tower_acts(np, dd, c->dec_heads, c->dec_mlp, 1) + np * np),
			  tower_acts(len, td, c->txt_heads, c->txt_mlp, 1) + len * len);
	double train = te + tdec + tt + blk + leads * c->samples + nv * P + 2 * nv * dd +
		       3 * np * P + 4 * (d + dd + td + pr);
	/* inference (nn_net_encode_ecg): the encoder over every patch */
	double infer = tower_acts(np, d, 0, c->ecg_mlp, c->ecg_layers > 0) + np * np +
		       leads * c->samples;
	*acts = fmax(train, infer);
}

static int
check_total(const char *what, double n, double limit, char *msg, size_t cap)
{
	if (n <= limit)
		return 0;
	return mrt_errf(msg, cap, MRT_EINVAL, "model too large: %s%.0f %s (%.1f GiB as float32); "
			"the limit is %.0f (%.0f GiB)", n < 1e15 ? "" : "about ", n, what,
			n * 4 / (1 << 30), limit, limit * 4 / (1 << 30));
}

int
mrt_nn_config_check(const mrt_nn_config *c, char *msg, size_t cap)
{
	int rc;
	if (c->samples < 1 || c->patch < 1 || c->samples % c->patch || c->samples > 1 << 24)
		return mrt_errf(msg, cap, MRT_EINVAL, "samples %d not a multiple of patch %d", c->samples, c->patch);
	if (c->leads < 1 || c->leads > 64)
		return mrt_errf(msg, cap, MRT_EINVAL, "leads %d out of range", c->leads);
	if (!(c->mask_ratio >= 0 && c->mask_ratio < 1))
		return mrt_errf(msg, cap, MRT_EINVAL, "mask_ratio %g not in [0, 1)", c->mask_ratio);
	if (mrt_nn_nvis(c) < 1)
		return mrt_errf(msg, cap, MRT_EINVAL, "no visible patch at mask_ratio %g", c->mask_ratio);
	if ((rc = check_tower("ecg", c->ecg_d, c->ecg_layers, c->ecg_heads, c->ecg_mlp, msg, cap)) ||
	    (rc = check_tower("dec", c->dec_d, c->dec_layers, c->dec_heads, c->dec_mlp, msg, cap)) ||
	    (rc = check_tower("txt", c->txt_d, c->txt_layers, c->txt_heads, c->txt_mlp, msg, cap)))
		return rc;
	if (c->txt_vocab < 5 || c->txt_len < 2 || c->proj < 1 || c->txt_vocab > 1 << 24 ||
	    c->txt_len > 1 << 16)
		return mrt_errf(msg, cap, MRT_EINVAL, "text or projection sizes out of range");
	if (!mrt_nn_attn_name(c->enc_attn) || !mrt_nn_attn_name(c->dec_attn) ||
	    !mrt_nn_pos_name(c->pos))
		return mrt_errf(msg, cap, MRT_EINVAL, "unknown attention or position kind");
	if (c->pos == MRT_NN_POS_SINCOS && (c->ecg_d % 2 || c->dec_d % 2))
		return mrt_errf(msg, cap, MRT_EINVAL, "pos sincos needs even widths (ecg_d %d, dec_d %d)",
				c->ecg_d, c->dec_d);
	/* the totals, before anything of their size is allocated */
	double params, acts;
	nn_config_sizes(c, &params, &acts);
	if ((rc = check_total("parameters", params, MRT_NN_MAXPARAMS, msg, cap)) ||
	    (rc = check_total("activations per record", acts, MRT_NN_MAXACTS, msg, cap)))
		return rc;
	return 0;
}

static const char *const attn_names[] = { "full", "crisscross", "axial" };
static const char *const pos_names[] = { "learned", "sincos" };

const char *
mrt_nn_attn_name(int attn)
{
	return attn >= 0 && attn < 3 ? attn_names[attn] : NULL;
}

const char *
mrt_nn_pos_name(int pos)
{
	return pos >= 0 && pos < 2 ? pos_names[pos] : NULL;
}

/* The index of value in names[n], or -1. */
static int
lookup(const char *const *names, int n, const char *value)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], value))
			return i;
	return -1;
}

static int *
config_int(mrt_nn_config *c, const char *key)
{
	static const struct { const char *name; size_t off; } keys[] = {
#define K(f) { #f, offsetof(mrt_nn_config, f) }
		K(fs), K(samples), K(patch), K(leads),
		K(ecg_d), K(ecg_layers), K(ecg_heads), K(ecg_mlp),
		K(dec_d), K(dec_layers), K(dec_heads), K(dec_mlp),
		K(txt_vocab), K(txt_len), K(txt_d), K(txt_layers), K(txt_heads), K(txt_mlp),
		K(proj),
#undef K
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!strcmp(keys[i].name, key))
			return (int *)((char *)c + keys[i].off);
	return NULL;
}

int
mrt_nn_config_set(mrt_nn_config *c, const char *key, const char *value, char *msg, size_t cap)
{
	char *end;
	int *ip, k;
	if (!strcmp(key, "mask_ratio")) {
		double v = strtod(value, &end);
		if (end == value || *end || !(v >= 0 && v < 1))
			return mrt_errf(msg, cap, MRT_EINVAL, "mask_ratio %s is not in [0, 1)", value);
		c->mask_ratio = v;
	} else if (!strcmp(key, "enc_attn") || !strcmp(key, "dec_attn")) {
		if ((k = lookup(attn_names, 3, value)) < 0)
			return mrt_errf(msg, cap, MRT_EINVAL, "%s %s is not full, crisscross or axial",
					key, value);
		*(key[0] == 'e' ? &c->enc_attn : &c->dec_attn) = k;
	} else if (!strcmp(key, "pos")) {
		if ((k = lookup(pos_names, 2, value)) < 0)
			return mrt_errf(msg, cap, MRT_EINVAL, "pos %s is not learned or sincos", value);
		c->pos = k;
	} else if ((ip = config_int(c, key))) {
		errno = 0;
		long v = strtol(value, &end, 10);
		if (end == value || *end || errno || v < 1 || v > 1 << 20)
			return mrt_errf(msg, cap, MRT_EINVAL, "%s %s is not a positive integer", key,
					value);
		*ip = (int)v;
	} else {
		return mrt_errf(msg, cap, MRT_ENOENT, "unknown key %s", key);
	}
	return 0;
}

void
mrt_nn_hparams_default(mrt_nn_hparams *hp)
{
	*hp = (mrt_nn_hparams){ 3e-4, 0, 1, 0.05, 0.9, 0.95, 1e-8, 1.0, 1.0, 1.0, 0 };
}

double
mrt_nn_lr(const mrt_nn_hparams *hp, long step)
{
	if (step < hp->warmup)
		return hp->lr * (double)(step + 1) / (double)hp->warmup;
	double span = (double)(hp->total - hp->warmup);
	double p = span > 0 ? (double)(step - hp->warmup) / span : 1.0;
	if (p > 1)
		p = 1;
	return hp->lr * (0.1 + 0.9 * 0.5 * (1 + cos(M_PI * p)));
}
