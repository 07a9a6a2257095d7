/*
 * tokenize: lib/bpe speed on the real PTB-XL reports (one a line in the
 * file argv[1]): learning a 4096-entry vocabulary (seconds), then
 * encoding every report (max_len large enough not to truncate, and 64),
 * repeated until at least 20 MB of text went through, against the
 * normalisation alone (a reference measured in the same run: the part
 * of the encoder's work that is not BPE).  One line of key=value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text/bpe.h"

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

int
main(int argc, char **argv)
{
	FILE *f;
	char *line = NULL, **rep = NULL, *norm;
	size_t cap = 0, nrep = 0, rcap = 0, bytes = 0, *len = NULL, maxlen = 0;
	ssize_t k;
	mrt_bpe_learner *l;
	mrt_bpe *b;
	int32_t *ids;
	double t0, t_learn, t_enc, t_enc64, t_norm;
	long sink = 0;
	int reps;
	if (argc != 2 || (f = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: tokenize reports.txt\n");
		return 2;
	}
	while ((k = getline(&line, &cap, f)) > 0) {
		if (nrep == rcap) {
			rcap = rcap ? rcap * 2 : 1024;
			rep = realloc(rep, rcap * sizeof *rep);
			len = realloc(len, rcap * sizeof *len);
		}
		len[nrep] = k - (line[k - 1] == '\n');
		rep[nrep] = malloc(len[nrep] + 1);
		memcpy(rep[nrep], line, len[nrep]);
		bytes += len[nrep];
		if (len[nrep] > maxlen)
			maxlen = len[nrep];
		nrep++;
	}
	fclose(f);
	ids = malloc((maxlen + 2) * sizeof *ids);
	norm = malloc(maxlen + 1);

	t0 = now();
	mrt_bpe_learner_new(&l);
	for (size_t i = 0; i < nrep; i++)
		mrt_bpe_learner_add(l, rep[i], len[i]);
	if (mrt_bpe_learner_finish(l, 4096, &b) != 0)
		return 1;
	mrt_bpe_learner_free(l);
	t_learn = now() - t0;

	reps = (int)(20e6 / bytes) + 1;
	t0 = now();
	for (int r = 0; r < reps; r++)
		for (size_t i = 0; i < nrep; i++)
			sink += mrt_bpe_encode(b, rep[i], len[i], ids,
			    (int)maxlen + 2);
	t_enc = now() - t0;
	t0 = now();
	for (int r = 0; r < reps; r++)
		for (size_t i = 0; i < nrep; i++)
			sink += mrt_bpe_encode(b, rep[i], len[i], ids, 64);
	t_enc64 = now() - t0;
	t0 = now();
	for (int r = 0; r < reps; r++)
		for (size_t i = 0; i < nrep; i++)
			sink += mrt_bpe_normalise(rep[i], len[i], norm);
	t_norm = now() - t0;
	printf("reports=%zu bytes=%zu entries=%d learn_s=%.3f "
	    "encode_mb_s=%.2f encode64_mb_s=%.2f normalise_mb_s=%.2f "
	    "sink=%ld\n", nrep, bytes, mrt_bpe_size(b), t_learn,
	    reps * bytes / t_enc / 1e6, reps * bytes / t_enc64 / 1e6,
	    reps * bytes / t_norm / 1e6, sink);
	mrt_bpe_free(b);
	for (size_t i = 0; i < nrep; i++)
		free(rep[i]);
	free(rep);
	free(len);
	free(ids);
	free(norm);
	free(line);
	return 0;
}
