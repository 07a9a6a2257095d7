/*
 * wordnet.h: the WordNet database files (wndb(5WN): index.POS, data.POS,
 * POS.exc, as Debian's wordnet-base installs them in /usr/share/wordnet),
 * read the way nltk's WordNetCorpusReader reads them, for METEOR's synonym
 * stage: the lemma names of the synsets of a word's base forms.
 *
 * As nltk 3.8:
 *   - index lines starting with a space (the licence) are skipped; a
 *     lemma's synsets for a part of speech are the offsets of its index
 *     line, in order (adjective offsets include the satellites);
 *   - morphy(form, pos): if form is in the exception list of pos, its
 *     base forms are form and the list's forms, those that are lemmas of
 *     pos (nothing else is tried); otherwise the detachment rules are
 *     applied once (each rule whose suffix ends the form gives a form),
 *     and form and those forms that are lemmas of pos are the result; if
 *     none is, the rules are applied again to the forms of the last round
 *     until one round gives a lemma or no form is left.  Rules:
 *       noun  s>  ses>s  ves>f  xes>x  zes>z  ches>ch  shes>sh  men>man  ies>y
 *       verb  s>  ies>y  es>e  es>  ed>e  ed>  ing>e  ing>
 *       adj   er>  est>  er>e  est>e
 *       adv   none;
 *     each base form is given once, in order of first appearance;
 *   - a synset's lemma names are the words of its data line, with a
 *     trailing syntactic marker such as "(a)" or "(ip)" removed, spelled
 *     as in the file (case and underscores kept).
 * Words are looked up as given: nltk lower-cases them first
 * (wordnet.synsets), so pass lower-case words.
 *
 * A handle is not thread-safe (it reads data lines into one buffer).
 */
#ifndef MRT_WORDNET_H
#define MRT_WORDNET_H

#include <stddef.h>

enum { MRT_WN_NOUN, MRT_WN_VERB, MRT_WN_ADJ, MRT_WN_ADV, MRT_WN_NPOS };

typedef struct mrt_wordnet mrt_wordnet;

/* Called for each string found; a non-zero return stops the walk and is
 * returned by the walking function. */
typedef int (*mrt_wordnet_each)(void *arg, const char *s, size_t n);

/*
 * Read the index and exception files of dir and open its data files.  On
 * failure *wn is NULL and msg (cap bytes, may be NULL) says which file and
 * why; returns MRT_ENOENT (a file missing), MRT_EIO, MRT_EFORMAT ("FILE:
 * line N: ..."), MRT_ENOMEM.
 */
int mrt_wordnet_open(mrt_wordnet **wn, const char *dir, char *msg, size_t cap);
void mrt_wordnet_free(mrt_wordnet *wn);

/* Number of lemmas in the index files (a lemma of several parts of speech
 * counts once). */
size_t mrt_wordnet_nlemmas(const mrt_wordnet *wn);

/* The base forms of the n bytes of w as part of speech pos (nltk's
 * _morphy), each once.  Returns 0, MRT_EINVAL (bad pos), MRT_ENOMEM or
 * each's value. */
int mrt_wordnet_morphy(mrt_wordnet *wn, const char *w, size_t n, int pos,
    mrt_wordnet_each each, void *arg);

/*
 * The lemma names of every synset of every base form of w, parts of
 * speech noun, verb, adjective, adverb in turn (nltk's
 * [l.name() for s in wordnet.synsets(w) for l in s.lemmas()]); a name may
 * come more than once.  Returns 0, MRT_EIO or MRT_EFORMAT (a data line
 * that is not there; msg says which), MRT_ENOMEM or each's value.
 */
int mrt_wordnet_lemmas(mrt_wordnet *wn, const char *w, size_t n,
    mrt_wordnet_each each, void *arg, char *msg, size_t cap);

#endif
