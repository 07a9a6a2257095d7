/*
 * dp.c: L_cma of one slice of a global batch (see dp.h), the rest of the
 * phased step is in optim.c beside mrt_nn_train_step.
 *
 * Logits z_ij = sc * EN_i . TN_j with sc = exp(min(s, ln 100)), as
 * nn_infonce_forward; the slice owns rows i (ECG -> text, softmax over j)
 * and columns i (text -> ECG, softmax over j of z_ji), each term
 * (logsumexp - z_ii) / (2 Bg).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "nn/internal.h"
#include "nn/dp.h"

#define LN100 4.605170185988092

int
mrt_dp_cma(mrt_nn_model *m, const float *EN, const float *TN, int Bg, int off, int B,
	   double lambda, float *dEN, float *dTN, double *ds, double *loss)
{
	const nn_net_f *n = m->net;
	int C = n->c.proj;
	float s = *n->p.logit_scale, sc = expf(s < (float)LN100 ? s : (float)LN100);
	float k = (float)(lambda * 0.5 / Bg);
	double *z = malloc((size_t)Bg * sizeof *z), l = 0, dss = 0;
	if (z == NULL)
		return mrt_errf(m->err, sizeof m->err, MRT_ENOMEM, "out of memory for %d logits", Bg);
	if (Bg < 1 || off < 0 || B < 1 || off + B > Bg) {
		free(z);
		return mrt_errf(m->err, sizeof m->err, MRT_EINVAL, "slice %d+%d of a batch of %d", off,
		    B, Bg);
	}
	memset(dEN, 0, (size_t)Bg * C * sizeof *dEN);
	memset(dTN, 0, (size_t)Bg * C * sizeof *dTN);
	for (int dir = 0; dir < 2; dir++) {
		/* dir 0: row i of ECG i against every report; dir 1: report i
		 * against every ECG.  A is the slice's side, O the other. */
		const float *A = dir ? TN : EN, *O = dir ? EN : TN;
		float *dA = dir ? dTN : dEN, *dO = dir ? dEN : dTN;
		for (int i = off; i < off + B; i++) {
			const float *a = A + (size_t)i * C;
			double mx = -INFINITY, sum = 0;
			for (int j = 0; j < Bg; j++) {
				float dot = 0;
				const float *o = O + (size_t)j * C;
				for (int c = 0; c < C; c++)
					dot += a[c] * o[c];
				z[j] = (float)(sc * dot);
				if (z[j] > mx)
					mx = z[j];
			}
			for (int j = 0; j < Bg; j++)
				sum += exp(z[j] - mx);
			l += log(sum) + mx - z[i];
			for (int j = 0; j < Bg; j++) {
				float p = (float)(exp(z[j] - mx) / sum);
				float g = k * (p - (i == j ? 1 : 0));
				const float *o = O + (size_t)j * C;
				float *da = dA + (size_t)i * C, *dob = dO + (size_t)j * C;
				dss += g * (float)z[j];
				for (int c = 0; c < C; c++) {
					da[c] += sc * g * o[c];
					dob[c] += sc * g * a[c];
				}
			}
		}
	}
	free(z);
	*ds = s <= (float)LN100 ? dss : 0;
	*loss = l / (2.0 * Bg);
	return 0;
}
