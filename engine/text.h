/*
** text.h: words and spelling (text.c). Used by the compiler to build the
** vocabulary, by search to read what users type and by the session's symptom
** matcher, so all split and fold text and drop stop words the same way; and
** by every "no such id" message for its did-you-mean.
**
** A word is a maximal run of ASCII letters and digits and of bytes >= 0x80
** (UTF-8 letters are kept whole; only ASCII is folded to lower case).
*/
#ifndef TSHOOT_TEXT_H
#define TSHOOT_TEXT_H

#include "tshoot_int.h"

/* Longest word kept; longer runs are cut into pieces of this length. */
#define TEXT_MAX_WORD 64

/* Find the next word in s[0..len) at or after *pos. Sets *start and *wlen and
** moves *pos past it. Returns 0 when there is no further word. */
int text_next_word(const char *s, size_t len, size_t *pos, size_t *start, size_t *wlen);

/* Fold word w (wlen bytes) into out (at least wlen+1 bytes): ASCII to lower
** case, NUL-terminated. Returns wlen. */
size_t text_fold(char *out, const char *w, size_t wlen);

/* Optimal-string-alignment distance (Levenshtein plus adjacent swaps) between
** a and b, or max+1 as soon as it is known to exceed max. */
int text_distance(const char *a, size_t alen, const char *b, size_t blen, int max);

/* The edit budget allowed for a word of n bytes when correcting spelling:
** 0 for n < 3, 1 for n < 6, else 2. */
int text_max_typos(size_t n);

/* Non-zero if the word (any ASCII case) is an English stop word that search
** and the symptom matcher ignore ("the", "something", "won", and the stems
** n't contractions leave: "doesn", "wasn", "t", ...). The one list. */
int text_is_stopword(const char *w, size_t wlen);

/* Candidate i of a list held anywhere (an array of structs, a model): its
** name, or NULL to skip it. */
typedef const char *(*text_name_fn)(const void *ctx, size_t i);

/* The candidate closest to `word` within text_max_typos(len(word)) edits (at
** least 1: ids are short), or NULL. Ties go to the earlier candidate; NULL
** candidates are skipped. For did-you-mean messages. */
const char *text_closest(const char *word, const char *const *cands, size_t n);
/* The same over n candidates given by name(ctx, i). */
const char *text_closest_fn(const char *word, size_t n, text_name_fn name, const void *ctx);

/* The did-you-mean clause of a "no such id" message: " (did you mean 'x'?)"
** in buf (cap bytes), x the text_closest candidate, or "" when there is none
** (or it does not fit: never half a name). word may be NULL (""). So:
**   ts_error(TSHOOT_ENOTFOUND, "no fix '%s'%s", id,
**            ts_did_you_mean(buf, sizeof buf, id, names, n)); */
const char *ts_did_you_mean(char *buf, size_t cap, const char *word, const char *const *cands,
                            size_t n);
/* The same over n candidates given by name(ctx, i). */
const char *ts_did_you_mean_fn(char *buf, size_t cap, const char *word, size_t n,
                               text_name_fn name, const void *ctx);

/* Append text[0, len) to b as valid UTF-8: every maximal ill-formed
** subsequence (the Unicode replacement practice, as Python's "replace"
** error handler) and every NUL byte becomes U+FFFD. */
void text_utf8_clean(ts_buf *b, const char *text, size_t len);

#endif /* TSHOOT_TEXT_H */
