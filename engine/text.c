/*
** text.c: splitting text into words, folding case, edit distance, the one
** stop-word list and the one "did you mean" rule. The compiler, search and the
** session's symptom matcher share these so that a word means the same thing
** when indexed, when searched for and when matched; every "no such id"
** message suggests a name the same way.
*/
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A word's bytes: ASCII letters and digits, and every byte >= 0x80 (a table:
** the compiler splits every article's text into words for the vocabulary). */
#define W10 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char word_bytes[256] = {
  ['0'] = W10,
  ['A'] = W10, W10, 1, 1, 1, 1, 1, 1,
  ['a'] = W10, W10, 1, 1, 1, 1, 1, 1,
  [0x80] = W10, W10, W10, W10, W10, W10, W10, W10, W10, W10, W10, W10, 1, 1, 1, 1, 1, 1, 1, 1,
};
#undef W10

static int is_word_byte(unsigned char c)
{
  return word_bytes[c];
}

int text_next_word(const char *s, size_t len, size_t *pos, size_t *start, size_t *wlen)
{
  size_t i = *pos, j;
  while (i < len && !is_word_byte((unsigned char)s[i])) i++;
  if (i >= len) { *pos = len; return 0; }
  j = i;
  while (j < len && is_word_byte((unsigned char)s[j]) && j - i < TEXT_MAX_WORD) j++;
  /* never cut inside a UTF-8 sequence: back up to a lead byte */
  if (j - i == TEXT_MAX_WORD && j < len && ((unsigned char)s[j] & 0xC0) == 0x80) {
    size_t k = j;
    while (k > i + 1 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    if (k > i) j = k;
  }
  *start = i;
  *wlen = j - i;
  *pos = j;
  return 1;
}

size_t text_fold(char *out, const char *w, size_t wlen)
{
  size_t i;
  for (i = 0; i < wlen; i++) {
    unsigned char c = (unsigned char)w[i];
    out[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
  }
  out[wlen] = '\0';
  return wlen;
}

int text_distance(const char *a, size_t alen, const char *b, size_t blen, int max)
{
  /* three rows of the optimal-string-alignment matrix */
  int rows[3][TEXT_MAX_WORD + 2];
  int *pp, *prev, *cur;
  size_t i, j;
  if (alen > TEXT_MAX_WORD || blen > TEXT_MAX_WORD) return max + 1;
  if ((alen > blen ? alen - blen : blen - alen) > (size_t)max) return max + 1;
  pp = rows[0]; prev = rows[1]; cur = rows[2];
  for (j = 0; j <= blen; j++) prev[j] = (int)j;
  for (i = 1; i <= alen; i++) {
    int best;
    int *t;
    cur[0] = (int)i;
    best = cur[0];
    for (j = 1; j <= blen; j++) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int v = prev[j] + 1;
      if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
      if (prev[j - 1] + cost < v) v = prev[j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
        v = pp[j - 2] + 1;
      cur[j] = v;
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    t = pp; pp = prev; prev = cur; cur = t;
  }
  return prev[blen] > max ? max + 1 : prev[blen];
}

int text_max_typos(size_t n)
{
  if (n < 3) return 0;
  if (n < 6) return 1;
  return 2;
}

/* Sorted (bsearch): the one list, for the compiler's vocabulary, search and
** the session's symptom matcher. Words that carry meaning in support requests
** ("not", "no", "after", "update", "start") are deliberately absent. The
** stems that splitting an n't contraction leaves behind ("doesn" and "t",
** "aren", "wouldn", ...) are in: alone they would only empty an AND query. */
static const char *const stopwords[] = {
  "a", "about", "all", "also", "am", "an", "and", "any", "are", "aren", "as", "at", "be", "been",
  "but", "by", "can", "cannot", "could", "couldn", "d", "did", "didn", "do", "does", "doesn",
  "doing", "don", "even", "for", "from", "get", "gets", "getting", "got", "had", "hadn", "has",
  "hasn", "have", "haven", "having", "he", "her", "here", "hi", "his", "how", "i", "if", "im",
  "in", "into", "is", "isn", "it", "its", "just", "keeps", "kind", "ll", "m", "me", "mustn",
  "my", "needn", "of", "on", "or", "our", "please", "re", "s", "she", "shouldn", "so", "some",
  "something", "still", "t", "than", "that", "the", "their", "them", "then", "there", "these",
  "they", "this", "those", "to", "too", "us", "ve", "very", "was", "wasn", "we", "were", "weren",
  "what", "when", "where", "which", "while", "who", "why", "will", "with", "won", "would",
  "wouldn", "you", "your"
};

static int cmp_word(const void *key, const void *elem)
{
  return strcmp((const char *)key, *(const char *const *)elem);
}

int text_is_stopword(const char *w, size_t wlen)
{
  char tmp[16];
  if (wlen >= sizeof tmp) return 0;
  text_fold(tmp, w, wlen);
  return bsearch(tmp, stopwords, TS_ARRAY_LEN(stopwords), sizeof stopwords[0], cmp_word) != NULL;
}

static const char *name_at(const void *ctx, size_t i)
{
  return ((const char *const *)ctx)[i];
}

const char *text_closest_fn(const char *word, size_t n, text_name_fn name, const void *ctx)
{
  size_t wl, i;
  int max, best;
  const char *found = NULL;
  if (!word || !name) return NULL;
  wl = strlen(word);
  max = text_max_typos(wl);
  if (max == 0) max = 1; /* ids are short: allow one edit for did-you-mean */
  best = max + 1;
  for (i = 0; i < n; i++) {
    const char *c = name(ctx, i);
    int d;
    if (!c) continue;
    d = text_distance(word, wl, c, strlen(c), max);
    if (d < best) { best = d; found = c; }
  }
  return found;
}

const char *text_closest(const char *word, const char *const *cands, size_t n)
{
  return cands ? text_closest_fn(word, n, name_at, cands) : NULL;
}

const char *ts_did_you_mean_fn(char *buf, size_t cap, const char *word, size_t n,
                               text_name_fn name, const void *ctx)
{
  const char *c = text_closest_fn(word, n, name, ctx);
  int k;
  if (!c || !buf || cap == 0) return "";
  k = snprintf(buf, cap, " (did you mean '%s'?)", c);
  return k > 0 && (size_t)k < cap ? buf : ""; /* never half a name */
}

const char *ts_did_you_mean(char *buf, size_t cap, const char *word, const char *const *cands,
                            size_t n)
{
  return cands ? ts_did_you_mean_fn(buf, cap, word, n, name_at, cands) : "";
}

/* ===== UTF-8 ===== */

void text_utf8_clean(ts_buf *b, const char *text, size_t len)
{
  const unsigned char *p = (const unsigned char *)text;
  size_t i = 0;
  while (i < len) {
    unsigned char c = p[i];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t need, k;
    if (c >= 0x01 && c < 0x80) { ts_buf_addc(b, (char)c); i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {                                  /* NUL, a continuation, C0, C1, F5..FF */
      ts_buf_adds(b, "\xef\xbf\xbd");
      i++;
      continue;
    }
    for (k = 1; k <= need && i + k < len; k++) {
      unsigned char d = p[i + k];
      if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xbf)) break;
    }
    if (k > need) ts_buf_add(b, text + i, need + 1);
    else ts_buf_adds(b, "\xef\xbf\xbd");
    i += k > need ? need + 1 : k;
  }
}
