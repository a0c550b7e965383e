/*
** kb_terms.h: a set of terms (byte strings), each numbered in the order it
** was first seen, for the compiler's threads that count every token of a
** KB: the catcher of article_fts's tokens (kb_rank_write.c) and the causes'
** words (kb_cause_words.c). Their callers keep what they count per term in
** arrays indexed by that number.
**
** A term's bytes go one after another in one buffer (off[] says where each
** starts), and the hash table holds a term's hash beside its number, so a
** probe touches no term but the one it finds; most terms are at most 8 bytes
** long and are then hashed and compared as one number (head[]).
** Zero-initialise a kb_terms to start; kb_terms_free to end.
*/
#ifndef TSHOOT_KB_TERMS_H
#define TSHOOT_KB_TERMS_H

#include "tshoot_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct kb_terms {
  char *bytes;
  size_t nbytes, cap_bytes;
  uint32_t *off;              /* off[i]: term i's first byte; off[n]: the end */
  size_t n, cap_off;
  uint64_t *head;             /* head[i]: term i's first 8 bytes, packed (kb_terms_pack8) */
  size_t cap_head;
  uint64_t *slot;             /* 0, or a term's hash << 32 | its number + 1 */
  size_t nslot;               /* a power of 2, at least twice n */
} kb_terms;

static inline int kb_terms_rehash(kb_terms *t)
{
  size_t ns = t->nslot ? t->nslot * 2 : 4096, i;
  uint64_t *s = ts_calloc(ns, sizeof *s);
  if (!s) return -1;
  for (i = 0; i < t->nslot; i++)
    if (t->slot[i]) {
      size_t j = (size_t)(t->slot[i] >> 32) & (ns - 1);
      while (s[j]) j = (j + 1) & (ns - 1);
      s[j] = t->slot[i];
    }
  ts_free(t->slot);
  t->slot = s;
  t->nslot = ns;
  return 0;
}

/* The first (up to) 8 bytes of p[0, n) in a number. */
static inline uint64_t kb_terms_pack8(const char *p, int n)
{
  uint64_t x = 0;
  int i, m = n < 8 ? n : 8;
  for (i = 0; i < m; i++) x |= (uint64_t)(unsigned char)p[i] << (8 * i);
  return x;
}

static inline uint32_t kb_terms_hash(uint64_t x, const char *p, int n)
{
  uint64_t h = (x ^ (uint64_t)(uint32_t)n * 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
  int i;
  for (i = 8; i < n; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
  return (uint32_t)(h >> 32);
}

/* The number of term p[0, n) (n >= 0), added when new: >= 0, or -1 (out
** of memory), -2 (it would be the limit-th term, or the bytes would pass
** 4 GiB). Called for every token the compiler counts. */
static inline long kb_terms_id(kb_terms *t, const char *p, int n, size_t limit)
{
  uint64_t x = kb_terms_pack8(p, n);
  uint32_t h = kb_terms_hash(x, p, n);
  size_t j;
  if (2 * (t->n + 1) > t->nslot && kb_terms_rehash(t) < 0) return -1;
  for (j = h & (t->nslot - 1); t->slot[j]; j = (j + 1) & (t->nslot - 1)) {
    uint64_t e = t->slot[j];
    uint32_t id = (uint32_t)e - 1;
    if ((uint32_t)(e >> 32) == h && t->head[id] == x && t->off[id + 1] - t->off[id] == (uint32_t)n &&
        (n <= 8 || memcmp(t->bytes + t->off[id] + 8, p + 8, (size_t)n - 8) == 0))
      return (long)id;
  }
  if (t->n >= limit || t->n >= UINT32_MAX - 1 || t->nbytes + (size_t)n > UINT32_MAX) return -2;
  if (ts_grow((void **)&t->bytes, &t->cap_bytes, t->nbytes + (size_t)n + 1, 1) < 0) return -1;
  if (!t->off) {
    if (ts_grow((void **)&t->off, &t->cap_off, 2, sizeof *t->off) < 0) return -1;
    t->off[0] = 0;
  } else if (ts_grow((void **)&t->off, &t->cap_off, t->n + 2, sizeof *t->off) < 0) {
    return -1;
  }
  if (ts_grow((void **)&t->head, &t->cap_head, t->n + 1, sizeof *t->head) < 0) return -1;
  t->head[t->n] = x;
  if (n) memcpy(t->bytes + t->nbytes, p, (size_t)n);
  t->nbytes += (size_t)n;
  t->off[t->n + 1] = (uint32_t)t->nbytes;
  t->slot[j] = (uint64_t)h << 32 | ((uint64_t)t->n + 1);
  return (long)t->n++;
}

/* Term i's bytes and length. */
static inline const char *kb_terms_get(const kb_terms *t, size_t i, uint32_t *len)
{
  *len = t->off[i + 1] - t->off[i];
  return t->bytes + t->off[i];
}

typedef struct kb_terms_ref {
  const unsigned char *p;
  uint32_t n, id;
} kb_terms_ref;

/* SQLite's BINARY order, which is FTS5's: bytes, then the shorter first. */
static inline int kb_terms_ref_cmp(const void *a, const void *b)
{
  const kb_terms_ref *x = a, *y = b;
  uint32_t n = x->n < y->n ? x->n : y->n;
  int c = n ? memcmp(x->p, y->p, n) : 0;
  return c ? c : x->n < y->n ? -1 : x->n > y->n;
}

/* The terms' numbers in byte order (kb_terms_ref_cmp): a new array of n
** (at least 1) elements for the caller to free; NULL when out of memory. */
static inline uint32_t *kb_terms_order(const kb_terms *t)
{
  size_t i, m = t->n ? t->n : 1;
  kb_terms_ref *r = ts_malloc(m * sizeof *r);
  uint32_t *order = ts_malloc(m * sizeof *order);
  if (!r || !order) {
    ts_free(r);
    ts_free(order);
    return NULL;
  }
  for (i = 0; i < t->n; i++) {
    r[i].p = (const unsigned char *)t->bytes + t->off[i];
    r[i].n = t->off[i + 1] - t->off[i];
    r[i].id = (uint32_t)i;
  }
  qsort(r, t->n, sizeof *r, kb_terms_ref_cmp);
  for (i = 0; i < t->n; i++) order[i] = r[i].id;
  ts_free(r);
  return order;
}

static inline void kb_terms_free(kb_terms *t)
{
  ts_free(t->bytes);
  ts_free(t->off);
  ts_free(t->head);
  ts_free(t->slot);
  memset(t, 0, sizeof *t);
}

#endif /* TSHOOT_KB_TERMS_H */
