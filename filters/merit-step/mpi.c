/*
 * mpi.c: merit-step's data parallelism over MPI (see par.h).  Every MPI
 * call of merit-step is here.
 *
 * A step under N ranks, each with slice r of B = Bg/N records:
 *   mrt_dp_forward                      en, tn of the slice, L_rec's count
 *   MPI_Allreduce(count)                the global count of L_rec
 *   MPI_Allgather(en | tn)              EN, TN [Bg, proj]
 *   mrt_dp_cma                          the slice's rows of L_cma
 *   MPI_Reduce_scatter_block(dEN | dTN) the backward of the gather: each
 *                                       rank its rows' gradient
 *   mrt_dp_backward                     the slice's gradient block
 *   MPI_Allreduce(IN_PLACE, SUM)        the gradient block (1/N is in the
 *                                       losses: L_rec over the global
 *                                       count, L_cma over 2 Bg rows)
 *   MPI_Allgather(losses)               the global losses, in rank order
 *   mrt_dp_update                       clip, AdamW: the same on every rank
 * Ordered: the two sums by MPI_Alltoall(v) and adding the blocks in rank
 * order (then MPI_Allgatherv for the gradient), so that they round as one
 * process adding its slices' gradients in slice order does.
 */
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mpi.h>

#include "cli/filter.h"
#include "nn/dp.h"
#include "par.h"

static int mpi_live;            /* initialised and not finalised */

double
par_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* flt_die's exit on a rank: the other ranks would wait for it forever */
static void
abort_job(void)
{
	if (mpi_live)
		MPI_Abort(MPI_COMM_WORLD, 1);
}

void
par_init(struct par *p, int *argc, char ***argv)
{
	static const char *const launchers[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
		"PMI_SIZE", NULL };
	static char prog[64];
	int provided, launched = 0;
	p->rank = 0;
	p->size = 1;
	p->mpi = 0;
	for (int i = 0; launchers[i]; i++)
		if (getenv(launchers[i]) != NULL)
			launched = 1;
	if (!launched)
		return;
	if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
		flt_die("MPI_Init failed");
	p->mpi = mpi_live = 1;
	MPI_Comm_rank(MPI_COMM_WORLD, &p->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &p->size);
	atexit(abort_job);
	if (p->size > 1) {
		snprintf(prog, sizeof prog, "%s: rank %d", flt_prog, p->rank);
		flt_prog = prog;
	}
}

int
par_threads(struct par *p)
{
	cpu_set_t cs;
	MPI_Comm node;
	int n, local;
	if (!p->mpi)
		return 0;
	MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
	MPI_Comm_size(node, &local);
	MPI_Comm_free(&node);
	n = sched_getaffinity(0, sizeof cs, &cs) == 0 ? CPU_COUNT(&cs) : 1;
	/* not bound to its share (--bind-to none): the node's cores shared */
	if (n >= sysconf(_SC_NPROCESSORS_ONLN))
		n /= local;
	return n < 1 ? 1 : n;
}

void
par_end(struct par *p)
{
	if (p->mpi && mpi_live) {
		mpi_live = 0;
		MPI_Finalize();
	}
}

void
par_exit(struct par *p, int status)
{
	flt_cleanup();
	par_end(p);
	exit(status);
}

void
par_fail(struct par *p, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (p->rank == 0)
		flt_warn("%s", msg);
	par_exit(p, 1);
}

uint64_t
par_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void
par_gather_batch(struct par *p, const struct par_batch *mine, struct par_batch *all)
{
	if (!p->mpi) {
		all[0] = *mine;
		return;
	}
	MPI_Allgather(mine, sizeof *mine, MPI_BYTE, all, sizeof *mine, MPI_BYTE, MPI_COMM_WORLD);
}

int
par_check_weights(struct par *p, const mrt_nn_model *m)
{
	size_t n;
	const float *w = mrt_dp_params(m, &n);
	uint64_t h = par_hash(PAR_HASH0, w, n * sizeof *w), *all;
	int bad = -1;
	if (!p->mpi || p->size == 1)
		return -1;
	if ((all = malloc((size_t)p->size * sizeof *all)) == NULL)
		flt_die("out of memory");
	MPI_Allgather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD);
	for (int q = p->size - 1; q > 0; q--)
		if (all[q] != all[0])
			bad = q;
	free(all);
	return bad;
}

/* ---- the step ---------------------------------------------------------------- */

int
dp_init(struct dpstep *s, struct par *p, mrt_nn_model *m, int Bg, int K, int ordered)
{
	const mrt_nn_config *c = mrt_nn_get_config(m);
	int N = p->size;
	size_t BC2, seg;
	memset(s, 0, sizeof *s);
	s->p = p;
	s->m = m;
	s->Bg = Bg;
	s->K = K;
	s->B = Bg / K;
	s->C = c->proj;
	s->ordered = ordered;
	mrt_dp_grad(m, &s->P);
	BC2 = (size_t)s->B * 2 * s->C;
	s->EN = malloc((size_t)Bg * s->C * sizeof *s->EN);
	s->TN = malloc((size_t)Bg * s->C * sizeof *s->TN);
	s->G = malloc((size_t)(N > 1 ? 1 : K) * Bg * 2 * s->C * sizeof *s->G);
	s->own = malloc(BC2 * sizeof *s->own);
	if (!s->EN || !s->TN || !s->G || !s->own)
		return MRT_ENOMEM;
	if (N == 1) {
		s->acc = malloc(s->P * sizeof *s->acc);
		s->ds = malloc((size_t)K * sizeof *s->ds);
		return s->acc && s->ds ? 0 : MRT_ENOMEM;
	}
	s->S = malloc((size_t)N * BC2 * sizeof *s->S);
	s->R = malloc((size_t)N * BC2 * sizeof *s->R);
	seg = (s->P + (size_t)N - 1) / (size_t)N;
	s->seg = malloc((size_t)N * seg * sizeof *s->seg);
	s->cnt = malloc((size_t)N * sizeof *s->cnt);
	s->dsp = malloc((size_t)N * sizeof *s->dsp);
	s->rcnt = malloc((size_t)N * sizeof *s->rcnt);
	s->rdsp = malloc((size_t)N * sizeof *s->rdsp);
	s->parts = malloc((size_t)N * 2 * sizeof *s->parts);
	if (!s->S || !s->R || !s->seg || !s->cnt || !s->dsp || !s->rcnt || !s->rdsp || !s->parts)
		return MRT_ENOMEM;
	if (s->P > (size_t)INT32_MAX)
		return MRT_ERANGE;
	for (int q = 0; q < N; q++) {
		size_t a = (size_t)q * seg < s->P ? (size_t)q * seg : s->P;
		size_t b = a + seg < s->P ? a + seg : s->P;
		s->dsp[q] = (int)a;
		s->cnt[q] = (int)(b - a);
	}
	for (int q = 0; q < N; q++) {
		s->rcnt[q] = s->cnt[p->rank];
		s->rdsp[q] = (int)((size_t)q * seg);
	}
	/* the gradient block, this rank's embeddings, the embedding gradients */
	s->bytes = 4.0 * (double)s->P + 4.0 * (double)BC2 + 4.0 * (double)N * BC2;
	return 0;
}

void
dp_free(struct dpstep *s)
{
	free(s->EN);
	free(s->TN);
	free(s->G);
	free(s->S);
	free(s->R);
	free(s->own);
	free(s->acc);
	free(s->seg);
	free(s->cnt);
	free(s->dsp);
	free(s->rcnt);
	free(s->rdsp);
	free(s->parts);
	free(s->ds);
}

/* Rows r*B.. of slice r's batch (all K slices' rows are one array). */
static mrt_nn_batch
slice(const struct dpstep *s, const mrt_nn_batch *rows, int r)
{
	const mrt_nn_config *c = mrt_nn_get_config(s->m);
	size_t o = (size_t)r * s->B;
	mrt_nn_batch b = { s->B, rows->sig + o * c->leads * c->samples,
		rows->missing ? rows->missing + o * c->leads : NULL,
		rows->vis + o * mrt_nn_nvis(c), rows->tok ? rows->tok + o * c->txt_len : NULL };
	return b;
}

/* The den | dtn of slice r from a [Bg, C] pair: rows r*B.. of each. */
static void
pack_rows(float *out, const float *dEN, const float *dTN, int r, int B, int C)
{
	size_t k = (size_t)B * C;
	memcpy(out, dEN + (size_t)r * k, k * sizeof *out);
	memcpy(out + k, dTN + (size_t)r * k, k * sizeof *out);
}

/* out = in[0] + in[1] + ... + in[n-1], n blocks of k floats, in order */
static void
sum_in_order(float *out, const float *in, int n, size_t k, size_t stride)
{
	if (out != in)
		memcpy(out, in, k * sizeof *out);
	for (int q = 1; q < n; q++) {
		const float *b = in + (size_t)q * stride;
		for (size_t j = 0; j < k; j++)
			out[j] += b[j];
	}
}

/* One process: the K slices one after another, their sums in slice order. */
static int
step_local(struct dpstep *s, const mrt_nn_batch *rows, const mrt_nn_hparams *hp,
	   mrt_nn_losses *l)
{
	int K = s->K, B = s->B, C = s->C, cma = hp->lambda_cma != 0, e;
	size_t BgC = (size_t)s->Bg * C, BC = (size_t)B * C, n;
	long nrec = 0, nr;
	double lrec = 0, lcma = 0, part;
	float *g = mrt_dp_grad(s->m, &n);
	for (int r = 0; r < K; r++) {
		mrt_nn_batch b = slice(s, rows, r);
		if ((e = mrt_dp_forward(s->m, &b, hp, s->EN + r * BC, s->TN + r * BC, &nr)) != 0)
			return e;
		nrec += nr;
	}
	for (int r = 0; cma && r < K; r++) {
		float *G = s->G + (size_t)r * 2 * BgC;
		if ((e = mrt_dp_cma(s->m, s->EN, s->TN, s->Bg, r * B, B, hp->lambda_cma, G,
		    G + BgC, &s->ds[r], &part)) != 0)
			return e;
		lcma += part;
	}
	for (int r = 0; r < K; r++) {
		mrt_nn_batch b = slice(s, rows, r);
		if (K > 1 && (e = mrt_dp_forward(s->m, &b, hp, s->EN + r * BC, s->TN + r * BC,
		    &nr)) != 0)
			return e;
		if (cma) {
			sum_in_order(s->own, s->G + r * BC, K, BC, 2 * BgC);
			sum_in_order(s->own + BC, s->G + BgC + r * BC, K, BC, 2 * BgC);
		}
		if ((e = mrt_dp_backward(s->m, nrec, s->own, s->own + BC, cma ? s->ds[r] : 0,
		    &part)) != 0)
			return e;
		lrec += part;
		if (r == 0)
			memcpy(s->acc, g, n * sizeof *g);
		else
			for (size_t j = 0; j < n; j++)
				s->acc[j] += g[j];
	}
	memcpy(g, s->acc, n * sizeof *g);
	l->rec = lrec;
	l->cma = lcma;
	l->loss = hp->lambda_rec * lrec + hp->lambda_cma * lcma;
	l->nrec = nrec;
	return mrt_dp_update(s->m, hp, l);
}

/* N ranks, this one running slice rank. */
static int
step_mpi(struct dpstep *s, const mrt_nn_batch *rows, const mrt_nn_hparams *hp,
	 mrt_nn_losses *l)
{
	int N = s->p->size, r = s->p->rank, B = s->B, C = s->C, cma = hp->lambda_cma != 0, e;
	size_t BC = (size_t)B * C, BC2 = 2 * BC, BgC = (size_t)s->Bg * C, n;
	long nr, nrec;
	double ds = 0, lcma = 0, lrec, part[2], *parts = s->parts, t0, t1;
	float *g = mrt_dp_grad(s->m, &n), *own = s->own;
	if ((e = mrt_dp_forward(s->m, rows, hp, own, own + BC, &nr)) != 0)
		return e;
	t0 = par_now();
	MPI_Allreduce(&nr, &nrec, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
	if (cma) {
		MPI_Allgather(own, (int)BC2, MPI_FLOAT, s->R, (int)BC2, MPI_FLOAT, MPI_COMM_WORLD);
		for (int q = 0; q < N; q++) {
			memcpy(s->EN + q * BC, s->R + q * BC2, BC * sizeof *s->EN);
			memcpy(s->TN + q * BC, s->R + q * BC2 + BC, BC * sizeof *s->TN);
		}
	}
	s->t_comm = par_now() - t0;
	if (cma) {
		if ((e = mrt_dp_cma(s->m, s->EN, s->TN, s->Bg, r * B, B, hp->lambda_cma, s->G,
		    s->G + BgC, &ds, &lcma)) != 0)
			return e;
		for (int q = 0; q < N; q++)
			pack_rows(s->S + q * BC2, s->G, s->G + BgC, q, B, C);
		t0 = par_now();
		if (s->ordered) {
			MPI_Alltoall(s->S, (int)BC2, MPI_FLOAT, s->R, (int)BC2, MPI_FLOAT,
			    MPI_COMM_WORLD);
			sum_in_order(own, s->R, N, BC2, BC2);
		} else
			MPI_Reduce_scatter_block(s->S, own, (int)BC2, MPI_FLOAT, MPI_SUM,
			    MPI_COMM_WORLD);
		s->t_comm += par_now() - t0;
	}
	if ((e = mrt_dp_backward(s->m, nrec, own, own + BC, ds, &lrec)) != 0)
		return e;
	t0 = par_now();
	if (s->ordered) {
		/* rank q adds segment q of every rank's block in rank order */
		MPI_Alltoallv(g, s->cnt, s->dsp, MPI_FLOAT, s->seg, s->rcnt, s->rdsp, MPI_FLOAT,
		    MPI_COMM_WORLD);
		sum_in_order(g + s->dsp[r], s->seg, N, (size_t)s->cnt[r], (size_t)s->rdsp[1]);
		MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, g, s->cnt, s->dsp, MPI_FLOAT,
		    MPI_COMM_WORLD);
	} else
		MPI_Allreduce(MPI_IN_PLACE, g, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
	t1 = par_now();
	s->t_reduce = t1 - t0;
	part[0] = lrec;
	part[1] = lcma;
	MPI_Allgather(part, 2, MPI_DOUBLE, parts, 2, MPI_DOUBLE, MPI_COMM_WORLD);
	s->t_comm += s->t_reduce + par_now() - t1;
	lrec = lcma = 0;
	for (int q = 0; q < N; q++) {
		lrec += parts[2 * q];
		lcma += parts[2 * q + 1];
	}
	l->rec = lrec;
	l->cma = lcma;
	l->loss = hp->lambda_rec * lrec + hp->lambda_cma * lcma;
	l->nrec = nrec;
	return mrt_dp_update(s->m, hp, l);
}

int
dp_step(struct dpstep *s, const mrt_nn_batch *rows, const mrt_nn_hparams *hp,
	mrt_nn_losses *l)
{
	memset(l, 0, sizeof *l);
	return s->p->size > 1 ? step_mpi(s, rows, hp, l) : step_local(s, rows, hp, l);
}
