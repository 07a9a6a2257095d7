/*
 * fuzz_pack: ecg-pack's JSON-lines parser.  filters/ecg-pack.c is compiled
 * into this harness with its main renamed; its pack_line() turns each line
 * of the input into a record, and its flt_die() (wrapped, see common.c)
 * returns here, as the end of the run the filter would make.
 *
 * Oracle: the records ecg-pack writes are a stream that the reader accepts
 * in full, record for record, each with the line's fields.
 *
 * Every allocation of the filter's code and of jansson is tracked, so that
 * what a flt_die() leaves behind is freed and LeakSanitizer stays useful.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/filter.h"
#include "common.h"

/* a doubly-linked list of live blocks */
struct blk { struct blk *prev, *next; size_t pad; };
static struct blk live = { &live, &live, 0 };

static void *
pk_malloc(size_t n)
{
	struct blk *b = malloc(sizeof *b + n);
	if (b == NULL)
		return NULL;
	b->next = live.next;
	b->prev = &live;
	live.next->prev = b;
	live.next = b;
	return b + 1;
}

static void
pk_free(void *p)
{
	struct blk *b;
	if (p == NULL)
		return;
	b = (struct blk *)p - 1;
	b->prev->next = b->next;
	b->next->prev = b->prev;
	free(b);
}

static void
pk_free_all(void)
{
	while (live.next != &live)
		pk_free(live.next + 1);
}

#define malloc(n) pk_malloc(n)
#define free(p) pk_free(p)
#define main ecg_pack_main
#include "../filters/ecg-pack.c"
#undef main
#undef malloc
#undef free

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_set_alloc_funcs(pk_malloc, pk_free);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *wbuf = NULL, *line;
	size_t wlen = 0, nrec = 0, *nfield;
	FILE *wf = open_memstream(&wbuf, &wlen), *rf;
	mrt_writer *w;
	mrt_reader *r;
	const msgpack_object *rec;
	const char *msg;
	const uint8_t *p = data, *end = data + size;
	int e;
	FZ_ASSERT(wf != NULL && mrt_writer_open(&w, wf, "fuzz", 1) == 0, "writer");
	nfield = calloc(size + 1, sizeof *nfield);
	line = calloc(size + 1, 1);
	FZ_ASSERT(nfield && line, "out of memory");
	inname = "fuzz";
	lineno = 0;
	fz_die_set = 1;
	if (setjmp(fz_die_jmp)) {
		/* the filter would have exited here, leaving no output */
		pk_free_all();
		goto done;
	}
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		uint64_t before = mrt_writer_count(w);
		memcpy(line, p, len);
		line[len] = 0;
		p += len;
		lineno++;
		if (memchr(line, 0, len) != NULL)
			continue;   /* getline would pass it; jansson refuses it */
		pack_line(w, line, len, NULL);
		if (mrt_writer_count(w) > before) {
			json_t *o = json_loadb(line, len, 0, NULL);
			FZ_ASSERT(o != NULL, "packed a line that is not JSON");
			nfield[nrec++] = json_object_size(o);
			json_decref(o);
		}
	}
	fz_die_set = 0;
	FZ_ASSERT(mrt_writer_close(w) == 0, "writer_close");
	fflush(wf);
	rf = fmemopen(wbuf, wlen, "rb");
	FZ_ASSERT(rf && mrt_reader_open(&r, rf, "packed", &msg) == 0, "open: %s", msg);
	for (size_t i = 0; (e = mrt_reader_next(r, &rec)) == 1; i++) {
		FZ_ASSERT(i < nrec, "more records than lines packed");
		FZ_ASSERT(rec->via.map.size == nfield[i], "record %zu: %u fields, "
		    "the line %zu", i + 1, rec->via.map.size, nfield[i]);
	}
	FZ_ASSERT(e == 0, "what ecg-pack wrote does not read back: %s",
	    mrt_reader_errmsg(r));
	FZ_ASSERT(mrt_reader_count(r) == nrec, "record count");
	mrt_reader_free(r);
	fclose(rf);
done:
	fz_die_set = 0;
	mrt_writer_free(w);
	fclose(wf);
	free(wbuf);
	free(nfield);
	free(line);
	return 0;
}
