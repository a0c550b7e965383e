/*
** synth.h: a deterministic synthetic knowledge base for the benchmarks.
**
** The corpus follows the one the floors in BENCHMARKS.md were measured on:
** per article a title of ~8 words, symptoms of ~60 words (a few <symptom>s
** and one <error code=...>), cause explanations of ~80 words and fix steps of ~120 words over a few
** <step>s. Words are drawn from a Zipf distribution (s = 1) over 30,000
** generated pronounceable pseudo-words, mixed with DLL names (xxx.dll), error
** codes (0x8004xxxx) and versions (16.0.1234). Every file also holds 2-4
** questions with choices (fewer if it has fewer than 4 articles: every
** question is used), and every cause 1-2 <answer> evidence lines on
** them, so that the files are valid KB sources (kb/schema/tshoot-kb.rng).
**
** Everything is reproducible: the vocabulary is fixed (its own seed), the
** articles depend only on (seed, file number, articles per file), and the
** queries only on their seed. No rand(): splitmix64 throughout.
*/
#ifndef TSHOOT_BENCH_SYNTH_H
#define TSHOOT_BENCH_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#define SYNTH_NWORDS       30000   /* pseudo-words in the Zipf vocabulary */
#define SYNTH_DEFAULT_SEED 20240501u

/* splitmix64: tiny, fast, good enough for synthetic text. */
typedef struct synth_rng { uint64_t s; } synth_rng;
uint64_t synth_next(synth_rng *r);
void synth_seed(synth_rng *r, uint64_t a, uint64_t b);
double synth_unit(synth_rng *r);                    /* [0, 1) */
unsigned synth_range(synth_rng *r, unsigned lo, unsigned hi); /* [lo, hi] */

typedef struct synth synth;

/* Build the vocabulary (always the same words). NULL on out of memory. */
synth *synth_new(void);
void synth_free(synth *sy);

/* One word from the corpus distribution: a pseudo-word (Zipf) or, rarely, a
** DLL name, an error code or a version. Borrowed from sy. */
const char *synth_word(synth *sy, synth_rng *r);

/* Write a corpus of n articles, per_file per file, into dir (which must
** exist) as kb-000001.xml, kb-000002.xml, ... Returns 0 or -1 (errno set).
** files_out and bytes_out may be NULL. */
int synth_write_corpus(synth *sy, const char *dir, uint64_t seed, size_t n,
                       size_t per_file, size_t *files_out, size_t *bytes_out);

/* A query: 2-4 distinct words separated by one space; when prefix is set, the
** last word has been cut to its first 3-5 characters and is meant as a
** prefix. */
typedef struct synth_query {
  char *text;
  int prefix;
  int nterms;
} synth_query;

/* n queries (20% with a prefix term), from seed only. NULL on out of memory. */
synth_query *synth_queries(synth *sy, uint64_t seed, size_t n);
void synth_queries_free(synth_query *q, size_t n);

#endif /* TSHOOT_BENCH_SYNTH_H */
