/*
 * train.h: what the training filters share (merit-step, merit-caption):
 * the optimizer file beside a checkpoint, stopping on a signal after the
 * current step, checkpoint writes that a signal cannot cut, the training
 * stream, metadata numbers; and the batches of raw records that filters
 * adding fields per batch keep (ecg-encode, merit-caption --generate).
 */
#ifndef MRT_CLI_TRAIN_H
#define MRT_CLI_TRAIN_H

#include <signal.h>
#include <stdio.h>

#include "io/stream.h"

/* The signal (SIGINT, SIGTERM) that asked the run to stop, 0 if none. */
extern volatile sig_atomic_t flt_stop;
/* SIGINT and SIGTERM set flt_stop; no SA_RESTART, so that a read waiting
 * on a pipe returns at once. */
void flt_stop_on_signals(void);
/* Block every signal (a checkpoint write), and restore the mask. */
void flt_hold_signals(sigset_t *old);
void flt_release_signals(const sigset_t *old);

/* The optimizer file of weights file w: NAME.safetensors ->
 * NAME.optim.safetensors, anything else -> NAME.optim. */
void flt_optim_path(const char *w, char *buf, size_t cap);
/* Seconds on the monotonic clock. */
double flt_now(void);
/* A metadata value as a number, def if s is NULL or not a number. */
double flt_meta_num(const char *s, double def);
/* Open the training stream in ("-": stdin); dies naming it (and that
 * model is unchanged if a signal came first). */
mrt_reader *flt_train_open(const char *in, FILE **f, const char *model);
/* "stdin" for "-" or NULL, else path. */
const char *flt_name(const char *path);

/* A batch of records as their msgpack bytes, kept to be written again
 * once the batch is processed; memory bounded by the batch. */
struct flt_recs {
	int n;                  /* records kept */
	char *buf;
	size_t len, cap, *off;  /* off [max + 1] */
};
void flt_recs_init(struct flt_recs *b, int max);
/* Keep the reader's last record; dies when out of memory. */
void flt_recs_keep(struct flt_recs *b, const mrt_reader *r);
/* Unpack record i into u (initialised by the caller). */
void flt_recs_unpack(const struct flt_recs *b, int i, msgpack_unpacked *u);
void flt_recs_clear(struct flt_recs *b);
void flt_recs_free(struct flt_recs *b);

#endif
