/*
 * train.c: the training filters' shared pieces (train.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/filter.h"
#include "cli/train.h"

volatile sig_atomic_t flt_stop;

static void
on_signal(int sig)
{
	flt_stop = sig;
}

void
flt_stop_on_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void
flt_hold_signals(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, old);
}

void
flt_release_signals(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

void
flt_optim_path(const char *w, char *buf, size_t cap)
{
	size_t n = strlen(w), k = strlen(".safetensors");
	if (n > k && strcmp(w + n - k, ".safetensors") == 0)
		snprintf(buf, cap, "%.*s.optim.safetensors", (int)(n - k), w);
	else
		snprintf(buf, cap, "%s.optim", w);
}

double
flt_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double
flt_meta_num(const char *s, double def)
{
	char *end;
	double v;
	if (s == NULL)
		return def;
	v = strtod(s, &end);
	return (*end || end == s) ? def : v;
}

const char *
flt_name(const char *path)
{
	return path == NULL || strcmp(path, "-") == 0 ? "stdin" : path;
}

mrt_reader *
flt_train_open(const char *in, FILE **f, const char *model)
{
	mrt_reader *r;
	const char *msg = NULL;
	int e;
	*f = strcmp(in, "-") == 0 ? stdin : fopen(in, "rb");
	if (*f == NULL)
		flt_die("%s: %s", in, strerror(errno));
	if ((e = mrt_reader_open(&r, *f, flt_name(in), &msg)) < 0) {
		if (flt_stop)
			flt_die("interrupted before training; %s unchanged", model);
		flt_die("%s: %s", flt_name(in), msg ? msg : mrt_strerror(e));
	}
	return r;
}

/* ---- batches of raw records ------------------------------------------------ */

void
flt_recs_init(struct flt_recs *b, int max)
{
	memset(b, 0, sizeof *b);
	if ((b->off = malloc(((size_t)max + 1) * sizeof *b->off)) == NULL)
		flt_die("out of memory for a batch");
}

void
flt_recs_keep(struct flt_recs *b, const mrt_reader *r)
{
	const char *p;
	size_t n;
	mrt_reader_raw(r, &p, &n);
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 16;
		char *q;
		while (cap < b->len + n)
			cap *= 2;
		if ((q = realloc(b->buf, cap)) == NULL)
			flt_die("out of memory for a batch of records");
		b->buf = q;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, n);
	b->off[b->n] = b->len;
	b->len += n;
	b->off[++b->n] = b->len;
}

void
flt_recs_unpack(const struct flt_recs *b, int i, msgpack_unpacked *u)
{
	size_t off = 0;
	if (msgpack_unpack_next(u, b->buf + b->off[i], b->off[i + 1] - b->off[i], &off) !=
	    MSGPACK_UNPACK_SUCCESS)
		flt_die("out of memory unpacking a record");
}

void
flt_recs_clear(struct flt_recs *b)
{
	b->n = 0;
	b->len = 0;
}

void
flt_recs_free(struct flt_recs *b)
{
	free(b->buf);
	free(b->off);
	memset(b, 0, sizeof *b);
}
