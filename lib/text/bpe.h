/*
 * bpe.h: byte-level BPE tokenizer for reports (see formats/merit-vocab.5).
 *
 * Ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then the 256 bytes
 * (id 5 + byte), then the merges in the order they were learned (a merge's
 * rank is its id - 261).  No text is ever unknown.
 *
 * Normalisation (the same at learning and encoding, mrt_bpe_normalise):
 *   - UTF-8 upper-case letters of ASCII, Latin-1 Supplement, Latin
 *     Extended-A, Greek and Cyrillic are lower-cased (Ä->ä, É->é, Σ->σ,
 *     Д->д; İ->i; ß and everything else stay); the lower-case form has the
 *     same UTF-8 length, except İ (2 bytes) -> i (1 byte).
 *   - runs of ASCII white space (space, \t, \n, \v, \f, \r) become one
 *     space; leading and trailing white space is removed.
 *   - bytes that are not valid UTF-8 pass through unchanged.
 * Pre-tokenisation splits the normalised text into pieces: an optional
 * single leading space followed by a run of letters (ASCII letters and
 * every byte >= 0x80), a run of ASCII digits, or one other character
 * (punctuation).  Merges never cross pieces; the pieces concatenate back
 * to the normalised text, so decode(encode(t)) == normalise(t).
 */
#ifndef MRT_BPE_H
#define MRT_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MRT_BPE_PAD   0
#define MRT_BPE_UNK   1
#define MRT_BPE_CLS   2
#define MRT_BPE_SEP   3
#define MRT_BPE_MASK  4
#define MRT_BPE_NSPECIAL 5
#define MRT_BPE_BYTE0 5                 /* id of byte 0 */
#define MRT_BPE_NBASE 261               /* specials + bytes */
#define MRT_BPE_DEFAULT_SIZE 4096
#define MRT_BPE_MAX_SIZE (1 << 20)

typedef struct mrt_bpe mrt_bpe;

/*
 * Normalise n bytes of src into dst (room for n bytes: the result is
 * never longer).  Returns the normalised length.
 */
size_t mrt_bpe_normalise(const char *src, size_t n, char *dst);

/*
 * Load a vocabulary file.  On failure returns an error code, *b is NULL
 * and err (errcap bytes, may be NULL) holds "line 7: reason".
 */
int mrt_bpe_load(mrt_bpe **b, const char *path, char *err, size_t errcap);
/* The same from a buffer (name unused in messages). */
int mrt_bpe_parse(mrt_bpe **b, const char *buf, size_t n, char *err,
    size_t errcap);
/*
 * Write the vocabulary to path atomically (a temporary path.tmp.PID.N,
 * fsync, rename), mode 0666 less the umask.  MRT_EIO with errno on
 * failure; no partial file is left.
 */
int mrt_bpe_save(const mrt_bpe *b, const char *path);
void mrt_bpe_free(mrt_bpe *b);

/* Number of entries (ids 0 .. size-1). */
int mrt_bpe_size(const mrt_bpe *b);
/* Bytes of entry id (NULL and 0 for specials and bad ids). */
const unsigned char *mrt_bpe_bytes(const mrt_bpe *b, int id, size_t *len);
/* Left and right parts of merge id (0 if id is a merge, MRT_ERANGE). */
int mrt_bpe_merge(const mrt_bpe *b, int id, int *left, int *right);

/*
 * Encode n bytes of text: ids[0] = [CLS], then the tokens of the
 * normalised text, then [SEP], then [PAD] up to max_len (>= 2).  A text
 * too long keeps its first max_len - 2 tokens and still ends in [SEP]
 * (ids[max_len-1] = [SEP]).  Returns the length the untruncated sequence
 * would have (tokens + 2), so a result > max_len means truncation; or
 * MRT_EINVAL (max_len < 2), MRT_ENOMEM.  Thread-safe: b is not changed.
 */
int mrt_bpe_encode(const mrt_bpe *b, const char *text, size_t n,
    int32_t *ids, int max_len);

/*
 * Decode n ids into dst (cap bytes): the bytes of every token
 * concatenated, specials skipped.  Returns the full decoded length (may
 * exceed cap: only cap bytes are written; no NUL is added), or
 * MRT_ERANGE for an id outside the vocabulary.
 */
long mrt_bpe_decode(const mrt_bpe *b, const int32_t *ids, size_t n,
    char *dst, size_t cap);

/* ---- learning --------------------------------------------------------- */

typedef struct mrt_bpe_learner mrt_bpe_learner;

int mrt_bpe_learner_new(mrt_bpe_learner **l);
/* Add one text (a report or a line): normalised, split, words counted. */
int mrt_bpe_learner_add(mrt_bpe_learner *l, const char *text, size_t n);
/*
 * Learn up to size - 261 merges (size in [261, MRT_BPE_MAX_SIZE]): each
 * step merges the adjacent pair seen most often over all words; ties go to the smallest left
 * id, then the smallest right id, so the same corpus gives the same
 * vocabulary.  Fewer entries result when the corpus runs out of pairs.
 */
int mrt_bpe_learner_finish(mrt_bpe_learner *l, int size, mrt_bpe **b);
void mrt_bpe_learner_free(mrt_bpe_learner *l);

#endif
