/*
 * par.h: merit-step's data parallelism (mpi.c): the processes of an MPI
 * job, the exchanges of a step, and the step of a global batch cut into
 * slices (nn/dp.h), run by N ranks or by one process slice after slice.
 *
 * Started without mpirun (no launcher in the environment) merit-step is one
 * process and never calls MPI_Init: it costs nothing and needs no daemon.
 */
#ifndef MERIT_STEP_PAR_H
#define MERIT_STEP_PAR_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"

struct par {
	int rank, size;         /* 0 and 1 for one process */
	int mpi;                /* MPI_Init was called */
};

/* MPI_Init when a launcher started the process (Open MPI's mpirun, PMIx,
 * PMI); then a rank's fatal error (flt_die) aborts the whole job. */
void par_init(struct par *p, int *argc, char ***argv);
/* The default --threads of a rank: the cores it is bound to, or, not
 * bound, the node's cores over the ranks on the node; 0 (all cores) for
 * one process. */
int par_threads(struct par *p);
/* MPI_Finalize (if initialised); call before a normal exit. */
void par_end(struct par *p);
/* Every rank calls it after an error every rank saw: exit(status) after
 * MPI_Finalize, without aborting the job. */
__attribute__((noreturn)) void par_exit(struct par *p, int status);
/* An error every rank saw: rank 0 says it ("prog: message"), every rank
 * par_exit(1)s. */
__attribute__((noreturn, format(printf, 2, 3))) void par_fail(struct par *p, const char *fmt,
							       ...);

/* What a rank says about the global batch it read: the hash of every
 * record's bytes, how many records it got, whether it was interrupted. */
struct par_batch {
	uint64_t hash;
	int32_t got;
	int32_t sig;
};
/* Gather every rank's (all [size]); one process: all[0] = *mine. */
void par_gather_batch(struct par *p, const struct par_batch *mine, struct par_batch *all);
/* Hash of the parameters on every rank, compared with rank 0's: the first
 * rank whose weights differ, or -1. */
int par_check_weights(struct par *p, const mrt_nn_model *m);
/* Seconds on the monotonic clock. */
double par_now(void);
/* Hash of n bytes, continuing h (start with PAR_HASH0). */
#define PAR_HASH0 0xcbf29ce484222325ULL
uint64_t par_hash(uint64_t h, const void *p, size_t n);

/* The step of a global batch of Bg records in K slices of Bg/K (nn/dp.h):
 * under N > 1 ranks K = N and this rank runs slice rank; one process runs
 * the K slices one after another and sums their gradients in slice order,
 * as the ordered reduction does, so both give the same bits. */
struct dpstep {
	struct par *p;
	mrt_nn_model *m;
	int Bg, B, K, C, ordered;
	size_t P;               /* parameters */
	float *EN, *TN;         /* [Bg, C] the gathered embeddings */
	float *G;               /* [K or 1][Bg, 2C] gradient wrt EN, TN per slice */
	float *S, *R;           /* MPI: [N][B, 2C] send and receive blocks */
	float *own;             /* [B, 2C] this slice's den | dtn */
	float *acc;             /* one process: [P] the gradient sum */
	float *seg;             /* MPI ordered: [N][P/N rounded up] */
	int *cnt, *dsp;         /* MPI ordered: the N segments of the block */
	int *rcnt, *rdsp;       /* ... and this rank's segment from each rank */
	double *parts;          /* MPI: [N][2] every rank's L_rec, L_cma parts */
	double *ds;             /* one process: [K] each slice's logit-scale grad */
	double t_reduce;        /* seconds in the gradient reduction, last step */
	double t_comm;          /* seconds in every exchange, last step */
	double bytes;           /* bytes this rank hands MPI per step */
};

/* For model m (max_batch >= Bg/K); K slices; ordered: the gradient and the
 * embedding gradients are summed in rank order (else MPI_Allreduce and
 * MPI_Reduce_scatter_block).  MRT_ENOMEM. */
int dp_init(struct dpstep *s, struct par *p, mrt_nn_model *m, int Bg, int K, int ordered);
void dp_free(struct dpstep *s);
/* One step on the slices this process runs: rows [K or 1][Bg/K] of sig,
 * missing, vis, tok as in mrt_nn_batch (tok NULL without L_cma); losses
 * of the global batch into *l.  mrt_nn_train_step's codes. */
int dp_step(struct dpstep *s, const mrt_nn_batch *rows, const mrt_nn_hparams *hp,
	    mrt_nn_losses *l);

#endif
