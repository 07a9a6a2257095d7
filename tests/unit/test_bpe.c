/*
 * test_bpe: normalisation by hand (umlauts, Greek, Cyrillic, ß, white
 * space, invalid UTF-8); a hand-worked corpus with its merges and tie
 * order; the heap encoder against a naive rescan-per-merge encoder; the
 * round trip decode(encode(t)) == normalise(t) on every report of the
 * real PTB-XL database with a vocabulary learned from them; truncation;
 * save/load identity; bad vocabulary files with their line numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text/bpe.h"
#include "io/csv.h"
#include "check.h"


static void
norm_is(const char *in, const char *want)
{
	char out[256];
	size_t n = mrt_bpe_normalise(in, strlen(in), out);
	CHECK(n == strlen(want) && memcmp(out, want, n) == 0,
	    "normalise '%s' = '%.*s', want '%s'", in, (int)n, out, want);
}

/* Naive reference: rescan for the lowest-rank pair after every merge. */
static int
naive_piece(const mrt_bpe *b, const unsigned char *p, int n, int32_t *s)
{
	for (int i = 0; i < n; i++)
		s[i] = MRT_BPE_BYTE0 + p[i];
	for (;;) {
		int best = -1, at = -1, size = mrt_bpe_size(b);
		for (int i = 0; i + 1 < n; i++)
			for (int id = MRT_BPE_NBASE; id < size; id++) {
				int l, r;
				mrt_bpe_merge(b, id, &l, &r);
				if (l == s[i] && r == s[i + 1] &&
				    (best < 0 || id < best)) {
					best = id;
					at = i;
				}
			}
		if (best < 0)
			return n;
		s[at] = best;
		memmove(s + at + 1, s + at + 2, (n - at - 2) * sizeof *s);
		n--;
	}
}

static void bad_vocab(const char *text, const char *want);

/* The vocabulary v cut before 'at', then tail: refused with want. */
static void
bad_tail(const char *v, const char *at, const char *tail, const char *want)
{
	char buf[8192];
	snprintf(buf, sizeof buf, "%.*s%s", (int)(at - v), v, tail);
	bad_vocab(buf, want);
}

static void
bad_vocab(const char *text, const char *want)
{
	mrt_bpe *b;
	char err[256];
	int e = mrt_bpe_parse(&b, text, strlen(text), err, sizeof err);
	CHECK(e < 0 && b == NULL, "bad vocab accepted (%s)", want);
	CHECK(strcmp(err, want) == 0, "error '%s', want '%s'", err, want);
}

/* The text of a valid vocabulary of size 263 with merges " z" and "zw". */
static char *
small_vocab(void)
{
	static char buf[8192];
	const char *sp[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
	size_t o = 0;
	o += sprintf(buf + o, "merit-vocab 1 263\n");
	for (int i = 0; i < 5; i++)
		o += sprintf(buf + o, "%d\tspecial\t%s\n", i, sp[i]);
	for (int c = 0; c < 256; c++)
		o += sprintf(buf + o, "%d\tbyte\t\\x%02x\n", c + 5, c);
	o += sprintf(buf + o, "261\tmerge\t37\t127\t\\x20z\n");
	o += sprintf(buf + o, "262\tmerge\t261\t124\t\\x20zw\n");
	return buf;
}

int
main(void)
{
	mrt_bpe_learner *l;
	mrt_bpe *b, *b2;
	int32_t ids[4096], ref[4096];
	char text[1 << 16], norm[1 << 16], dec[1 << 16], err[256];
	int l0, r0;

	/* normalisation */
	norm_is("  Sinusrhythmus\tÄÖÜ  äöü ß\n", "sinusrhythmus äöü äöü ß");
	norm_is("ÉÈÀÇÑ ŁŚŻĆ ŸÞ İ", "éèàçñ łśżć ÿþ i");
	norm_is("ΣΊΓΜΑ ΆΈΉΌΎΏ ДЖЁЇ ×÷", "σίγμα άέήόύώ джёї ×÷");
	norm_is("QRS 120MS, V1-V3.", "qrs 120ms, v1-v3.");
	norm_is("a\xff\xc3 B\xc3\x28", "a\xff\xc3 b\xc3\x28");
	norm_is(" \t\r\n ", "");
	norm_is("\xe2\x82\xac \xf0\x9f\x98\x80 \xed\xa0\x80X",
	    "\xe2\x82\xac \xf0\x9f\x98\x80 \xed\xa0\x80x");

	/* hand-worked: pieces "xy" " xy" "a" " zw" " zw"; pairs xy 2,
	 * " z" 2, zw 2, " x" 1: the tie at 2 goes to " z" (left id 37 is the
	 * smallest), then xy (left 125 < 261), then " z"+w; then " "+xy
	 * (count 1), then no pair is left: 265 entries. */
	CHECK(mrt_bpe_learner_new(&l) == 0, "learner");
	mrt_bpe_learner_add(l, "XY xy", 5);
	mrt_bpe_learner_add(l, "a zw\n\tzw", 8);
	CHECK(mrt_bpe_learner_finish(l, 4096, &b) == 0, "finish");
	mrt_bpe_learner_free(l);
	CHECK(mrt_bpe_size(b) == 265, "size %d, want 265", mrt_bpe_size(b));
	CHECK(mrt_bpe_merge(b, 261, &l0, &r0) == 0 && l0 == 5 + ' ' &&
	    r0 == 5 + 'z', "merge 261: %d %d", l0, r0);
	CHECK(mrt_bpe_merge(b, 262, &l0, &r0) == 0 && l0 == 5 + 'x' &&
	    r0 == 5 + 'y', "merge 262: %d %d", l0, r0);
	CHECK(mrt_bpe_merge(b, 263, &l0, &r0) == 0 && l0 == 261 &&
	    r0 == 5 + 'w', "merge 263: %d %d", l0, r0);
	CHECK(mrt_bpe_merge(b, 264, &l0, &r0) == 0 && l0 == 5 + ' ' &&
	    r0 == 262, "merge 264: %d %d", l0, r0);
	{
		int32_t want[] = {2, 262, 264, 263, 5 + ',', 3, 0, 0};
		int k = mrt_bpe_encode(b, "xy XY ZW,", 9, ids, 8);
		CHECK(k == 6 && memcmp(ids, want, sizeof want) == 0,
		    "encode small: k=%d %d %d %d %d %d %d %d %d", k, ids[0],
		    ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], ids[7]);
		k = mrt_bpe_encode(b, "xy XY ZW,", 9, ids, 4);
		CHECK(k == 6 && ids[0] == 2 && ids[1] == 262 &&
		    ids[2] == 264 && ids[3] == 3, "truncated: keeps "
		    "[CLS], the first tokens, [SEP] last");
		CHECK(mrt_bpe_encode(b, "", 0, ids, 3) == 2 && ids[0] == 2 &&
		    ids[1] == 3 && ids[2] == 0, "empty text");
		CHECK(mrt_bpe_encode(b, "x", 1, ids, 1) == MRT_EINVAL,
		    "max_len 1");
	}
	mrt_bpe_free(b);

	/* the real reports */
	{
		const char *sh = getenv("SHARED");
		char path[4096];
		FILE *f;
		snprintf(path, sizeof path, "%s/data/ptbxl/ptbxl_database.csv",
		    sh ? sh : "../shared");
		f = fopen(path, "r");
		static char *rep[30000];
		int nrep = 0, trunc = 0, col;
		size_t bytes = 0;
		mrt_csv *c;
		CHECK(f != NULL, "%s: cannot open", path);
		if (f == NULL)
			return 1;
		mrt_csv_open(&c, f);
		mrt_csv_header(c);
		col = mrt_csv_col(c, "report");
		CHECK(col >= 0, "no report column");
		while (nrep < 30000 && mrt_csv_next(c) == 1) {
			rep[nrep] = strdup(mrt_csv_field(c, col));
			bytes += strlen(rep[nrep++]);
		}
		mrt_csv_free(c);
		fclose(f);
		CHECK(nrep == 21837, "%d reports, want 21837", nrep);
		mrt_bpe_learner_new(&l);
		for (int i = 0; i < nrep; i++)
			mrt_bpe_learner_add(l, rep[i], strlen(rep[i]));
		CHECK(mrt_bpe_learner_finish(l, 4096, &b) == 0, "learn ptbxl");
		mrt_bpe_learner_free(l);
		CHECK(mrt_bpe_size(b) == 4096, "size %d", mrt_bpe_size(b));
		for (int i = 0; i < nrep; i++) {
			size_t n = strlen(rep[i]), m;
			long d;
			int k = mrt_bpe_encode(b, rep[i], n, ids, 4096);
			m = mrt_bpe_normalise(rep[i], n, norm);
			d = mrt_bpe_decode(b, ids, k, dec, sizeof dec);
			CHECK(k >= 2 && k <= (int)m + 2 && d == (long)m &&
			    memcmp(dec, norm, m) == 0, "round trip report %d: "
			    "'%s'", i + 1, rep[i]);
			trunc += k > 64;
			/* the heap encoder equals the naive one, one word at
			 * a time (every 50th report: the naive one is slow) */
			if (i % 50 == 0) {
				int o = 1;
				for (size_t p = 0; p < m; ) {
					size_t e = p + (norm[p] == ' ');
					int cl = (unsigned char)norm[e] >= 0x80 ||
					    ((norm[e] | 32) >= 'a' &&
					    (norm[e] | 32) <= 'z') ? 1 :
					    (norm[e] >= '0' && norm[e] <= '9') ?
					    2 : 0;
					e++;
					while (cl && e < m &&
					    (((unsigned char)norm[e] >= 0x80 ||
					    ((norm[e] | 32) >= 'a' && (norm[e] |
					    32) <= 'z')) ? 1 : (norm[e] >= '0' &&
					    norm[e] <= '9') ? 2 : 0) == cl)
						e++;
					o += naive_piece(b, (unsigned char *)norm
					    + p, e - p, ref + o);
					p = e;
				}
				CHECK(o + 1 == k && memcmp(ids + 1, ref + 1,
				    (o - 1) * sizeof *ids) == 0, "heap != naive "
				    "on report %d", i + 1);
			}
		}
		printf("ptbxl: %d reports, %zu bytes, %d longer than 64 "
		    "tokens\n", nrep, bytes, trunc);
		/* save, load: identical ids and an identical file, whose
		 * mode is 0666 less the umask (mkstemp made it 0600) */
		for (int k = 0; k < 2; k++) {
			mode_t mask = k ? 027 : 002, old = umask(mask);
			struct stat st;
			unlink("/tmp/test_bpe.vocab");
			CHECK(mrt_bpe_save(b, "/tmp/test_bpe.vocab") == 0, "save");
			CHECK(stat("/tmp/test_bpe.vocab", &st) == 0 &&
			    (st.st_mode & 0777) == (0666 & ~mask),
			    "vocabulary mode %03o with umask %03o",
			    (unsigned)(st.st_mode & 0777), (unsigned)mask);
			umask(old);
		}
		CHECK(mrt_bpe_load(&b2, "/tmp/test_bpe.vocab", err, sizeof err)
		    == 0, "load: %s", err);
		if (b2) {
			CHECK(mrt_bpe_size(b2) == 4096, "loaded size");
			for (int i = 0; i < nrep; i += 7) {
				int32_t a[64], c[64];
				mrt_bpe_encode(b, rep[i], strlen(rep[i]), a, 64);
				mrt_bpe_encode(b2, rep[i], strlen(rep[i]), c, 64);
				CHECK(memcmp(a, c, sizeof a) == 0, "loaded "
				    "vocab encodes report %d differently", i + 1);
			}
			mrt_bpe_free(b2);
		}
		unlink("/tmp/test_bpe.vocab");
		/* invalid UTF-8 bytes survive */
		for (int i = 0; i < 256; i++)
			text[i] = (char)(255 - i);
		memcpy(text + 256, "\xc3\x84rger \xc3 \x80\x80 \xf0\x9f", 14);
		{
			size_t m = mrt_bpe_normalise(text, 270, norm);
			int k = mrt_bpe_encode(b, text, 270, ids, 4096);
			long d = mrt_bpe_decode(b, ids, k, dec, sizeof dec);
			CHECK(d == (long)m && memcmp(dec, norm, m) == 0,
			    "invalid UTF-8 round trip");
			CHECK(memchr(dec, 0xff, d) && memchr(dec, 0x80, d) &&
			    memchr(dec, 0xf0, d), "raw bytes kept");
		}
		for (int i = 0; i < nrep; i++)
			free(rep[i]);
		mrt_bpe_free(b);
	}

	/* same corpus twice: the same vocabulary */
	{
		mrt_bpe *x, *y;
		int same = 1;
		for (int t = 0; t < 2; t++) {
			mrt_bpe_learner_new(&l);
			for (int i = 0; i < 300; i++) {
				int n = snprintf(text, sizeof text, "Rhythmus %d "
				    "Lagetyp %s QRS(T) %d", i % 17, i % 3 ?
				    "links" : "überdreht", i * 7919 % 1000);
				mrt_bpe_learner_add(l, text, n);
			}
			mrt_bpe_learner_finish(l, 400, t ? &y : &x);
			mrt_bpe_learner_free(l);
		}
		same = mrt_bpe_size(x) == mrt_bpe_size(y);
		for (int id = MRT_BPE_NBASE; same && id < mrt_bpe_size(x);
		    id++) {
			int a, bb, c, d;
			mrt_bpe_merge(x, id, &a, &bb);
			mrt_bpe_merge(y, id, &c, &d);
			same = a == c && bb == d;
		}
		CHECK(same, "same corpus, different merges");
		mrt_bpe_free(x);
		mrt_bpe_free(y);
	}

	/* vocabulary files */
	{
		char *v = small_vocab(), buf[8192];
		char *e262 = strstr(v, "262\tmerge");
		CHECK(mrt_bpe_parse(&b, v, strlen(v), err, sizeof err) == 0,
		    "small vocab: %s", err);
		mrt_bpe_free(b);
		/* truncated: last line gone; last line cut */
		snprintf(buf, sizeof buf, "%.*s", (int)(e262 - v), v);
		bad_vocab(buf, "line 264: truncated: 263 entries expected, "
		    "262 found");
		snprintf(buf, sizeof buf, "%.*s", (int)(e262 - v + 8), v);
		bad_vocab(buf, "line 264: truncated: no newline at the end "
		    "of the line");
		bad_vocab("", "line 1: empty file");
		/* duplicate id, duplicate merge, id out of range */
		bad_tail(v, e262, "261\tmerge\t37\t127\t\\x20z\n",
		    "line 264: duplicate entry 261");
		bad_tail(v, e262, "262\tmerge\t37\t127\t\\x20z\n",
		    "line 264: duplicate merge 37 127 (also entry 261)");
		bad_tail(v, e262, "263\tmerge\t37\t127\t\\x20z\n",
		    "line 264: id 263 out of range [0, 263)");
		bad_tail(v, e262, "262\tmerge\t262\t124\t\\x20zw\n",
		    "line 264: merge 262: parts '262' '124' not ids in [5, 262)");
		bad_tail(v, e262, "262\tmerge\t261\t124\tzw\n",
		    "line 264: merge 262: bytes do not match its parts");
		snprintf(buf, sizeof buf, "%s263\tmerge\t5\t6\t\\x00\\x01\n", v);
		bad_vocab(buf, "line 265: id 263 out of range [0, 263)");
		bad_vocab("merit-vocab 2 263\n", "line 1: unsupported version "
		    "(this reads 1)");
		bad_vocab("merit-vocab 1 260\n", "line 1: size not in [261, "
		    "1048576]");
		bad_vocab("hello\n", "line 1: not a merit-vocab file");
		CHECK(mrt_bpe_load(&b, "/nonexistent/v", err, sizeof err) ==
		    MRT_EIO && b == NULL, "missing file");
	}
	if (fails)
		printf("%d failures\n", fails);
	return fails != 0;
}
