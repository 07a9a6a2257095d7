/*
 * test_wfdb: lib/wfdb against the WFDB reference reader.
 *
 * Every TSV in the shared data's expected/ (made with rdsamp -r REC -v -H)
 * is checked column by column: signal count, lead name, sample count, first
 * five samples, sum, sum of squares, min and max, with invalid samples
 * counted as rdsamp prints them (-32768).  The records are read straight
 * from the shared data set ($MERIT_DATA, default $MERIT_ROOT/../shared/data),
 * which is the reference the TSVs describe.  Then crafted bad headers.
 */
#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "ecg/leads.h"
#include "ecg/resample.h"
#include "io/wfdb.h"
#include "check.h"


static void
i128str(__int128 v, char *buf)
{
	char t[64];
	int n = 0, neg = v < 0;
	unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
	do {
		t[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	if (neg)
		*buf++ = '-';
	while (n)
		*buf++ = t[--n];
	*buf = 0;
}

/* Description with blanks removed (rdsamp's column heads lose them). */
static void
squeeze(const char *s, char *d)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t')
			*d++ = *s;
	*d = 0;
}

static int records, columns;

static void
check_tsv(const char *data, const char *tsvpath)
{
	FILE *f = fopen(tsvpath, "r");
	char line[4096], rec[512] = "", path[8192];
	mrt_wfdb *w = NULL;
	int32_t *sig = NULL;
	int64_t n = 0;
	int nsig_seen = 0;
	if (f == NULL) {
		fails++;
		fprintf(stderr, "cannot open %s\n", tsvpath);
		return;
	}
	while (fgets(line, sizeof line, f)) {
		char *fld[9], *p = line, got[256];
		int nf = 0, s;
		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = 0;
		while (nf < 9 && p) {
			fld[nf++] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = 0;
		}
		if (nf != 9) {
			fails++;
			fprintf(stderr, "%s: bad line\n", tsvpath);
			continue;
		}
		if (w == NULL) {
			snprintf(rec, sizeof rec, "%s", fld[0]);
			snprintf(path, sizeof path, "%s/%s.hea", data, rec);
			if (mrt_wfdb_open(&w, path) != 0 ||
			    mrt_wfdb_read(w, &sig, &n) != 0) {
				fails++;
				fprintf(stderr, "%s: %s\n", path,
				    mrt_wfdb_errmsg(w));
				break;
			}
			records++;
		}
		s = atoi(fld[1]);
		nsig_seen++;
		if (s < 0 || s >= mrt_wfdb_nsig(w)) {
			fails++;
			fprintf(stderr, "%s: signal %d absent\n", rec, s);
			continue;
		}
		{
			const int32_t *x = sig + (int64_t)s * n;
			__int128 sum = 0, sq = 0;
			double dsq = 0;
			int64_t mn = INT64_MAX, mx = INT64_MIN;
			char b[64], first[256] = "", desc[256];
			size_t dl, el = strlen(fld[2]);
			for (int64_t t = 0; t < n; t++) {
				int64_t v = x[t] == MRT_WFDB_INVALID ? -32768 : x[t];
				sum += v;
				sq += (__int128)v * v;
				dsq += (double)v * (double)v;
				if (v < mn) mn = v;
				if (v > mx) mx = v;
				if (t < 5)
					snprintf(first + strlen(first), 32,
					    "%s%lld", t ? "," : "", (long long)v);
			}
			squeeze(mrt_wfdb_signal(w, s)->desc, desc);
			dl = strlen(desc);
			/* rdsamp -v cuts a description at its first blank
			 * field; the TSV keeps the tail */
			if (!(dl >= el && strcmp(desc + dl - el, fld[2]) == 0)) {
				fails++;
				fprintf(stderr, "%s sig %d: lead %s, expected %s\n",
				    rec, s, desc, fld[2]);
			}
#define COL(name, val, want) do { columns++; if (strcmp(val, want)) { \
	fails++; fprintf(stderr, "%s sig %d: %s %s, expected %s\n", rec, s, \
	name, val, want); } } while (0)
			snprintf(got, sizeof got, "%lld", (long long)n);
			COL("n", got, fld[3]);
			COL("first5", first, fld[4]);
			i128str(sum, b);
			COL("sum", b, fld[5]);
			/* the TSVs summed squares in double precision, in
			 * order (as awk does): beyond 2^53 only that sum
			 * reproduces them; below, it is the exact sum */
			snprintf(b, sizeof b, "%.0f", dsq);
			COL("sumsq", b, fld[6]);
			if (sq < ((__int128)1 << 53)) {
				i128str(sq, b);
				COL("sumsq exact", b, fld[6]);
			}
			snprintf(got, sizeof got, "%lld", (long long)mn);
			COL("min", got, fld[7]);
			snprintf(got, sizeof got, "%lld", (long long)mx);
			COL("max", got, fld[8]);
		}
	}
	if (w && nsig_seen != mrt_wfdb_nsig(w)) {
		fails++;
		fprintf(stderr, "%s: %d signals, expected %d\n", rec,
		    mrt_wfdb_nsig(w), nsig_seen);
	}
	free(sig);
	mrt_wfdb_free(w);
	fclose(f);
}

static void
test_expected(const char *data)
{
	char dir[8192], p[16384];
	DIR *d;
	struct dirent *e;
	int ntsv = 0;
	snprintf(dir, sizeof dir, "%s/expected", data);
	if ((d = opendir(dir)) == NULL) {
		fails++;
		fprintf(stderr, "cannot open %s\n", dir);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".tsv"))
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		check_tsv(data, p);
		ntsv++;
	}
	closedir(d);
	CHECK(ntsv >= 50);
	CHECK(records == ntsv);
	printf("test_wfdb: %d records, %d columns checked\n", records,
	    columns);
}

/* Write text to dir/name. */
static void
put(const char *dir, const char *name, const char *text, size_t n)
{
	char p[4096];
	FILE *f;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	f = fopen(p, "wb");
	fwrite(text, 1, n, f);
	fclose(f);
}

/* Open (and read) dir/bad.hea holding text: the error code and message. */
static int
bad(const char *dir, const char *text, const char *msg)
{
	char p[4096];
	mrt_wfdb *w;
	int32_t *sig = NULL;
	int64_t n;
	int e;
	put(dir, "bad.hea", text, strlen(text));
	snprintf(p, sizeof p, "%s/bad.hea", dir);
	e = mrt_wfdb_open(&w, p);
	if (e == 0)
		e = mrt_wfdb_read(w, &sig, &n);
	free(sig);
	if (strcmp(mrt_wfdb_errmsg(w), msg) != 0) {
		fails++;
		fprintf(stderr, "bad header %.40s...: message '%s', expected "
		    "'%s'\n", text, mrt_wfdb_errmsg(w), msg);
	}
	mrt_wfdb_free(w);
	return e;
}

static void
test_bad(void)
{
	char dir[] = "/tmp/test_wfdb.XXXXXX";
	char *big;
	if (mkdtemp(dir) == NULL) {
		fails++;
		return;
	}
	put(dir, "x.dat", "\1\0\2\0\3\0\4\0", 8);
	CHECK(bad(dir, "r 1 500 1000000000000\nx.dat 16\n",
	    "size mismatch: x.dat holds 4 frames, the header says "
	    "1000000000000") == MRT_ETRUNC);
	CHECK(bad(dir, "r 10000 500 10\n", "line 1: 10000 signals (at most "
	    "1024)") == MRT_ERANGE);
	CHECK(bad(dir, "r -1 500\n", "line 1: bad signal count '-1'") ==
	    MRT_EFORMAT);
	CHECK(bad(dir, "r 1 500 -5\nx.dat 16\n", "line 1: bad sample count "
	    "'-5'") == MRT_EFORMAT);
	CHECK(bad(dir, "r 1 500\nx.dat 17\n", "line 2: unknown format 17") ==
	    MRT_EFORMAT);
	CHECK(bad(dir, "r 2 500\nx.dat 16\n", "1 signal lines, 2 announced")
	    == MRT_EFORMAT);
	CHECK(bad(dir, "r 1 500\nx.dat 16 abc\n", "line 2: bad gain field "
	    "'abc'") == MRT_EFORMAT);
	CHECK(bad(dir, "r 1 500\ny.dat 16\n", "y.dat: No such file or "
	    "directory") == MRT_ENOENT);
	CHECK(bad(dir, "r 1 500\nx.dat 16+100\n", "no error") == 0);
	CHECK(bad(dir, "# only a comment\n", "no record line") ==
	    MRT_EFORMAT);
	CHECK(bad(dir, "r/2 1 500 10\na 0\nb 10\n", "variable-layout "
	    "multi-segment record (layout segment a) is not supported") ==
	    MRT_EFORMAT);
	big = malloc(1 << 20);
	memset(big, 'a', (1 << 20) - 1);
	big[(1 << 20) - 1] = 0;
	CHECK(bad(dir, big, "line 1: longer than 4096 bytes") == MRT_EFORMAT);
	free(big);
	{   /* the values of a tiny record, hand-decoded */
		char p[4096];
		mrt_wfdb *w;
		int32_t *sig;
		int64_t n;
		const char *h = "ok 2 100 2\nx.dat 16 1716(6)/uV 0 0 0 0 0 "
		    "v 1\nx.dat 16 0 0 3\n";
		put(dir, "ok.hea", h, strlen(h));
		snprintf(p, sizeof p, "%s/ok.hea", dir);
		CHECK(mrt_wfdb_open(&w, p) == 0);
		CHECK(mrt_wfdb_read(w, &sig, &n) == 0);
		CHECK(n == 2 && sig[0] == 1 && sig[1] == 3 && sig[2] == 2 &&
		    sig[3] == 4);
		CHECK(mrt_wfdb_signal(w, 0)->gain == 1716);
		CHECK(mrt_wfdb_signal(w, 0)->baseline == 6);
		CHECK(strcmp(mrt_wfdb_signal(w, 0)->units, "uV") == 0);
		CHECK(strcmp(mrt_wfdb_signal(w, 0)->desc, "v 1") == 0);
		CHECK(mrt_wfdb_signal(w, 1)->gain == 200);
		CHECK(!mrt_wfdb_signal(w, 1)->gain_given);
		CHECK(mrt_wfdb_signal(w, 1)->baseline == 3);
		free(sig);
		mrt_wfdb_free(w);
	}
	{
		char cmd[4200];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			fails++;
	}
}

/* The largest resident size of the children waited for, in KiB. */
static long
children_maxrss(void)
{
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return ru.ru_maxrss;
}

/*
 * Multi-segment records and format 8 (defects fuzz/ found): no recursion,
 * totals bounded before samples are read, a fixed layout kept, format 8
 * sums in range.
 */
static void
test_segments(void)
{
	char dir[] = "/tmp/test_wfdb.XXXXXX", p[4096], *h, *z;
	size_t k = 0;
	if (mkdtemp(dir) == NULL) {
		fails++;
		return;
	}
	/* a header naming itself, or two naming each other, as a segment:
	 * this overflowed the stack */
	CHECK(bad(dir, "bad/1 1\nbad 10\n", "segment bad is itself "
	    "multi-segment") == MRT_EFORMAT);
	put(dir, "m.hea", "m/1 1\nbad 10\n", 13);
	CHECK(bad(dir, "bad/1 1\nm 10\n", "segment m is itself multi-segment") ==
	    MRT_EFORMAT);
	/* format 8: the sum of differences overflowed int32 (undefined) */
	put(dir, "x8.dat", "\x7f\x7f\x80\x80", 4);
	CHECK(bad(dir, "bad 1 250\nx8.dat 8 200 12 0 2147483600 0 0\n",
	    "signal 0: format 8 differences leave the 32-bit range at frame 0") ==
	    MRT_ERANGE);
	/* ... or reached the invalid value */
	put(dir, "x8n.dat", "\x80", 1);
	CHECK(bad(dir, "bad 1 250\nx8n.dat 8 200 12 0 -2147483520 0 0\n",
	    "signal 0: format 8 differences leave the 32-bit range at frame 0") ==
	    MRT_ERANGE);
	{
		mrt_wfdb *w;
		int32_t *sig;
		int64_t n;
		put(dir, "ok8.hea", "ok8 1 250\nx8.dat 8 200 12 0 100000 0 0\n", 38);
		snprintf(p, sizeof p, "%s/ok8.hea", dir);
		CHECK(mrt_wfdb_open(&w, p) == 0 && mrt_wfdb_read(w, &sig, &n) == 0);
		CHECK(n == 4 && sig[0] == 100127 && sig[1] == 100254 &&
		    sig[2] == 100126 && sig[3] == 99998);
		free(sig);
		mrt_wfdb_free(w);
	}
	/* a format number that is not an int was cut to one (16) */
	put(dir, "x.dat", "\1\0\2\0", 4);
	CHECK(bad(dir, "bad 1 250\nx.dat 4294967312\n", "line 2: bad format "
	    "field '4294967312'") == MRT_EFORMAT);
	/* a NUL byte in a line (it was not seen: the line ended there) */
	{
		mrt_wfdb *w;
		put(dir, "nul.hea", "nul 1 250\nx.dat 16\0 200\n", 24);
		snprintf(p, sizeof p, "%s/nul.hea", dir);
		CHECK(mrt_wfdb_open(&w, p) == MRT_EFORMAT);
		CHECK(strcmp(mrt_wfdb_errmsg(w), "line 2: NUL byte") == 0, "%s",
		    mrt_wfdb_errmsg(w));
		mrt_wfdb_free(w);
	}
	/* the segments keep the first one's gains */
	put(dir, "g1.hea", "g1 1 250\nx.dat 16 200\n", 22);
	put(dir, "g2.hea", "g2 1 250\nx.dat 16 100\n", 22);
	CHECK(bad(dir, "bad/2 1 250\ng1 2\ng2 2\n", "segment g2: signal 0 has "
	    "another rate, gain, baseline or units than in the first segment (a "
	    "fixed layout keeps them)") == MRT_EFORMAT);
	/* 1,024 segments of one small file: read, end to end */
	h = malloc(1024 * 16 + 64);
	k = (size_t)sprintf(h, "bad/1024 1 250\n");
	for (int i = 0; i < 1024; i++)
		k += (size_t)sprintf(h + k, "g1 2\n");
	put(dir, "bad.hea", h, k);
	{
		mrt_wfdb *w;
		int32_t *sig;
		int64_t n;
		int ok = 1;
		snprintf(p, sizeof p, "%s/bad.hea", dir);
		CHECK(mrt_wfdb_open(&w, p) == 0 && mrt_wfdb_read(w, &sig, &n) == 0);
		CHECK(n == 2048);
		for (int64_t i = 0; i < n && ok; i++)
			ok = sig[i] == (i % 2 ? 2 : 1);
		CHECK(ok, "1024 segments: wrong samples");
		free(sig);
		mrt_wfdb_free(w);
	}
	/* 1,024 segments of a 256 KiB file, over the output limit: refused
	 * before one is decoded (it held 1 GiB of segments first) */
	z = calloc(1, (1 << 18) + 1);
	put(dir, "z.dat", z, (1 << 18) + 1);
	free(z);
	put(dir, "z.hea", "z 1 250\nz.dat 8\n", 16);
	k = (size_t)sprintf(h, "bad/1024 1 250\n");
	for (int i = 0; i < 1024; i++)
		k += (size_t)sprintf(h + k, "z 262145\n");
	h[k] = 0;
	{
		long before = children_maxrss();
		pid_t pid = fork();
		int status;
		if (pid == 0)
			_exit(bad(dir, h, "268436480 samples per signal is over the "
			    "limit") == MRT_ENOMEM && fails == 0 ? 0 : 1);
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0);
		CHECK(children_maxrss() < 300 * 1024 || children_maxrss() == before,
		    "refusing 1024 large segments took %ld KiB", children_maxrss());
	}
	free(h);
	/* headers are bounded in all: 17 MiB of empty lines */
	h = malloc(17 << 20);
	memset(h, '\n', 17 << 20);
	memcpy(h, "bad 0\n", 6);
	h[(17 << 20) - 1] = 0;
	CHECK(bad(dir, h, "headers of more than 16777216 bytes (the record's and "
	    "its segments' in all)") == MRT_ENOMEM);
	free(h);
	{
		char cmd[4200];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			fails++;
	}
}

/* Lead names and resampling: the other two pieces ecg-ingest uses. */
static void
test_leads(void)
{
	static const char *const ok[][2] = {
		{ "I", "I" }, { "lead i", "I" }, { "ECG I", "I" }, { "DII", "II" },
		{ "d3", NULL }, { "iii", "III" }, { "AVR", "aVR" },
		{ "avl", "aVL" }, { "a_V_F", "aVF" }, { "V1", "V1" },
		{ "v 6", "V6" }, { "Lead_V3", "V3" }, { "MLII", NULL },
		{ "V", NULL }, { "vx", NULL }, { "V7", NULL }, { "", NULL },
		{ "-aVR", NULL }, { "II ", "II" },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int l = mrt_leads_index(ok[i][0]);
		const char *got = l < 0 ? NULL : mrt_leads_name(l);
		if ((got == NULL) != (ok[i][1] == NULL) ||
		    (got && strcmp(got, ok[i][1]) != 0)) {
			fails++;
			fprintf(stderr, "lead '%s': %s, expected %s\n",
			    ok[i][0], got ? got : "none",
			    ok[i][1] ? ok[i][1] : "none");
		}
	}
	CHECK(mrt_leads_name(12) == NULL && mrt_leads_name(-1) == NULL);
}

/* Max |error| of resampling sin(2 pi f t) from fa to fb Hz against the
 * analytic sine, away from the ends (edge samples). */
static double
sine_error(double f, double fa, double fb, int64_t n, int edge, double *rms)
{
	int64_t m = mrt_resample_len(n, fa, fb);
	float *in = malloc(n * sizeof *in), *out = malloc(m * sizeof *out);
	double err = 0, ss = 0;
	for (int64_t i = 0; i < n; i++)
		in[i] = (float)sin(2 * M_PI * f * (double)i / fa);
	CHECK(mrt_resample(in, n, fa, fb, out) == 0);
	for (int64_t j = edge; j < m - edge; j++) {
		double want = sin(2 * M_PI * f * (double)j / fb);
		if (fabs(out[j] - want) > err)
			err = fabs(out[j] - want);
		ss += (double)out[j] * out[j];
	}
	*rms = sqrt(ss / (double)(m - 2 * edge));
	free(in);
	free(out);
	return err;
}

static void
test_resample(void)
{
	double rms, e;
	CHECK(mrt_resample_len(5000, 500, 100) == 1000);
	CHECK(mrt_resample_len(650000, 360, 500) == 902778);
	e = sine_error(5, 500, 100, 5000, 20, &rms);
	CHECK(e < 1e-3);
	e = sine_error(5, 360, 500, 3600, 40, &rms);
	CHECK(e < 1e-3);
	e = sine_error(31, 500, 250, 5000, 40, &rms);
	CHECK(e < 1e-3);
	/* 70 Hz is above 100 Hz's Nyquist: removed, not aliased to 30 Hz */
	sine_error(70, 500, 100, 5000, 40, &rms);
	CHECK(rms < 1e-3);
	CHECK(mrt_resample(NULL, 0, 0, 100, NULL) == MRT_EINVAL);
	if (e >= 1e-3)
		fprintf(stderr, "31 Hz sine 500 -> 250 Hz: max error %g\n", e);
}

int
main(void)
{
	const char *data = getenv("MERIT_DATA"), *root = getenv("MERIT_ROOT");
	char buf[4096];
	if (data == NULL) {
		snprintf(buf, sizeof buf, "%s/../shared/data",
		    root ? root : ".");
		data = buf;
	}
	test_expected(data);
	test_bad();
	test_segments();
	test_leads();
	test_resample();
	if (fails)
		fprintf(stderr, "test_wfdb: %d checks failed\n", fails);
	return fails != 0;
}
