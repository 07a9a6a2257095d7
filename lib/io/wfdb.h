/*
 * wfdb.h: a reader for PhysioNet WFDB records (.hea header + signal files).
 *
 * Formats 8, 16, 24, 32, 61, 80, 160, 212, 310 and 311; byte offsets
 * ("16+24", as in the MATLAB v4 .mat files of the PhysioNet Challenges);
 * several samples per frame ("212x4") and skew ("212:4"); signals spread
 * over several files; header comments; fixed-layout multi-segment records
 * (segments joined end to end).  Variable-layout multi-segment records and
 * null segments are refused with a message.
 *
 * Samples come out as int32 digital values exactly as stored, one row per
 * signal, all at the highest rate of the record (maxspf samples per frame;
 * a signal with fewer samples per frame repeats each of them), as the WFDB
 * library's rdsamp -H does.  A skew of k frames drops the signal's first k
 * frames and the record ends max(skew) frames early.  Invalid samples
 * (the format's reserved most negative value) come out as MRT_WFDB_INVALID.
 *
 * Sizes are bounded before anything is allocated for them: at most
 * MRT_WFDB_MAXSIG signals and MRT_WFDB_MAXSEG segments, lines of at most
 * MRT_WFDB_MAXLINE bytes, comments of MRT_WFDB_MAXCOMMENT bytes, and
 * MRT_WFDB_MAXHEADER bytes of header lines for a record (its own header and
 * its segments', each segment header read twice: once to size the record,
 * once to decode it); a sample count that the signal files actually hold (a
 * shorter file is a "size mismatch" error).  The output, all segments
 * together, is at most MRT_WFDB_MAXBYTES, and so are the bytes of each
 * signal file decoded: reading a record holds its output and one signal
 * file's bytes at a time.  Segments must be ordinary records (a segment
 * that is itself multi-segment is refused, so nothing recurses) with the
 * first segment's signals, rates, gains, baselines and units; a segment
 * may appear more than once.  Format 8 differences whose sum leaves the
 * 32-bit range (or reaches MRT_WFDB_INVALID) are an MRT_ERANGE error.
 */
#ifndef MRT_WFDB_H
#define MRT_WFDB_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MRT_WFDB_MAXSIG   1024
#define MRT_WFDB_MAXLINE  4096
#define MRT_WFDB_MAXSEG   1024
#define MRT_WFDB_MAXCOMMENT ((size_t)1 << 20)   /* bytes of comments */
#define MRT_WFDB_MAXBYTES ((int64_t)1 << 30)   /* decoded int32 samples */
#define MRT_WFDB_MAXHEADER ((int64_t)16 << 20) /* header bytes of a record */
#define MRT_WFDB_INVALID  INT32_MIN
#define MRT_WFDB_DEFGAIN  200.0

typedef struct {
	char file[256];     /* signal file name, relative to the header */
	char desc[256];     /* description (the lead name), may be "" */
	char units[32];     /* "mV" when absent */
	int fmt;            /* 8, 16, 24, 32, 61, 80, 160, 212, 310, 311 */
	int spf;            /* samples per frame, >= 1 */
	int skew;           /* frames, >= 0 */
	int64_t offset;     /* bytes before the first sample of the file */
	double gain;        /* ADC units per physical unit (200 when 0/absent) */
	int gain_given;     /* 0 if the header gave no gain or 0 */
	int32_t baseline;   /* the (baseline) or else adczero */
	int32_t adczero, initval;
	int adcres;
	int32_t checksum;
	int has_checksum;
} mrt_wfdb_sig;

typedef struct mrt_wfdb mrt_wfdb;

/*
 * Read and check the header at path (a .hea file).  On failure *w is still
 * set when memory allowed, so mrt_wfdb_errmsg(*w) says why; free it.
 */
int mrt_wfdb_open(mrt_wfdb **w, const char *path);
/*
 * Decode every signal: *out = malloc'ed int32 [nsig][*n] (row s starts at
 * s * *n), at the record's highest rate.  The caller frees *out.
 */
int mrt_wfdb_read(mrt_wfdb *w, int32_t **out, int64_t *n);
const char *mrt_wfdb_errmsg(const mrt_wfdb *w);
void mrt_wfdb_free(mrt_wfdb *w);

const char *mrt_wfdb_name(const mrt_wfdb *w);    /* record name */
int mrt_wfdb_nsig(const mrt_wfdb *w);
const mrt_wfdb_sig *mrt_wfdb_signal(const mrt_wfdb *w, int i);
double mrt_wfdb_fs(const mrt_wfdb *w);           /* frames per second */
int mrt_wfdb_maxspf(const mrt_wfdb *w);          /* output rate = fs*this */
int64_t mrt_wfdb_nsamp(const mrt_wfdb *w);       /* frames, -1 if absent */
int mrt_wfdb_nseg(const mrt_wfdb *w);            /* 0: single segment */
/* Comment lines (text after '#', leading blanks removed). */
int mrt_wfdb_ncomments(const mrt_wfdb *w);
const char *mrt_wfdb_comment(const mrt_wfdb *w, int i);
/* Physical units per mV for units ("uV" 1000, "mV" 1, "V" 0.001), 0 if not
 * a voltage. */
double mrt_wfdb_per_mv(const char *units);

#endif
