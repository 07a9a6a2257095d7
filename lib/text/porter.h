/*
 * porter.h: the Porter stemmer as nltk's PorterStemmer computes it in its
 * default mode (NLTK_EXTENSIONS, nltk 3.8), which METEOR's stem stage uses.
 *
 * nltk's mode differs from Porter's 1980 paper (ORIGINAL_ALGORITHM) and
 * from Martin Porter's own implementations (MARTIN_EXTENSIONS) in these
 * rules, all of which are followed here:
 *   - a table of irregular forms first: sky skies -> sky, dying -> die,
 *     lying -> lie, tying -> tie, news, innings inning -> inning, outings
 *     outing -> outing, cannings canning -> canning, howe, proceed,
 *     exceed, succeed;
 *   - words of one or two characters are returned as they are (also in
 *     Martin's mode);
 *   - step 1a: a four-letter word in -ies becomes -ie (dies -> die);
 *   - step 1b: -ied becomes -ie in a four-letter word, else -i, and
 *     nothing else of step 1b applies;
 *   - step 1c: y -> i only after a consonant that is not the first
 *     letter (happy -> happi, enjoy, sky stay), with no vowel condition;
 *   - the *o condition also holds for a two-letter stem vowel-consonant;
 *   - step 2: -alli -> -al first (when the stem has m > 0), then step 2
 *     again; -bli -> -ble (Martin's, not the paper's -abli); -fulli ->
 *     -ful; -logi -> -log when the stem with its l has m > 0.
 * Within a rule list the first suffix that matches decides: if its
 * condition fails, the word is returned unchanged (the later rules are
 * not tried), as nltk's _apply_rule_list does.
 *
 * Words are UTF-8 and are stemmed by code point (as Python strings), so a
 * non-ASCII letter is one consonant; bytes that are not valid UTF-8 are one
 * consonant each.  The word must be lower-case already: nltk lower-cases
 * with Python's str.lower(), which this does not repeat.
 */
#ifndef MRT_PORTER_H
#define MRT_PORTER_H

#include <stddef.h>

/*
 * The stem of the n bytes of w into out (cap bytes; the stem is never
 * longer than w, so cap >= n + 1 always does), NUL-terminated; *outn (may
 * be NULL) gets its length.  Returns 0, MRT_ERANGE when cap is too small,
 * MRT_ENOMEM.
 */
int mrt_porter_stem(const char *w, size_t n, char *out, size_t cap,
    size_t *outn);

#endif
