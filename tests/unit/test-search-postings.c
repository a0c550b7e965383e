/*
** test-search-postings.c: the two ways a search is ranked give the same
** results. search_postings.c ranks over the KB's own postings; the FTS5 path
** (search_rank.c's ts_rank, kept, and forced here with the internal flag
** SEARCH_FLAG_FTS5_RANK) is the reference. On a synthetic KB (bench/synth.c:
** the benchmark's corpus and queries, smaller) every query runs both ways,
** as typed, with TSHOOT_SEARCH_ANY_WORD and with a limit of 3, and must give
** the same articles in the same order (ties at the limit aside), the same
** scores to the bit, the same passages, marks and snippets, the same query
** and suggestion. The postings path must have ranked most of them (else
** this test compares FTS5 with itself): the counter search_postings_ranked().
** Passages: the postings path tokenizes from the nearest stored token offset
** (search_passages_from_checkpoint() counts it), FTS5's from the start.
**
** Then the same queries on a copy whose posting lists are damaged: no
** crash, results or ECORRUPT.
**
** Environment: TEST_POSTINGS_KB=<kb> runs on an existing KB instead (e.g. a
** 10k bench KB), TEST_POSTINGS_QUERIES=<n> (default 1000).
*/
#include "tshoot.h"
#include "tshoot_int.h"
#include "search_int.h"
#include "synth.h"
#include "test.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int same_results(const tshoot_results *a, const tshoot_results *b, const char *q,
                        const char *how)
{
  size_t n = tshoot_results_count(a), m = tshoot_results_count(b), i;
  if (n != m) {
    fprintf(stderr, "%s [%s]: %zu results (postings) vs %zu (FTS5)\n", q, how, n, m);
    return 0;
  }
  if (strcmp(tshoot_results_query(a), tshoot_results_query(b)) != 0) {
    fprintf(stderr, "%s [%s]: query %s vs %s\n", q, how, tshoot_results_query(a),
            tshoot_results_query(b));
    return 0;
  }
  {
    const char *sa = tshoot_results_suggestion(a), *sb = tshoot_results_suggestion(b);
    if ((sa == NULL) != (sb == NULL) || (sa && strcmp(sa, sb) != 0)) {
      fprintf(stderr, "%s [%s]: suggestion differs\n", q, how);
      return 0;
    }
  }
  for (i = 0; i < n; i++) {
    const tshoot_result *x = tshoot_results_get(a, i), *y = tshoot_results_get(b, i);
    size_t k;
    if (x->score != y->score) {
      fprintf(stderr, "%s [%s]: #%zu score %.17g (%s) vs %.17g (%s)\n", q, how, i, x->score,
              x->article, y->score, y->article);
      return 0;
    }
    if (strcmp(x->article, y->article) != 0) {
      /* ties at the limit: FTS5's LIMIT may keep other equal rows */
      if (x->score == tshoot_results_get(a, n - 1)->score) continue;
      fprintf(stderr, "%s [%s]: #%zu %s vs %s (score %.17g)\n", q, how, i, x->article, y->article,
              x->score);
      return 0;
    }
    if (strcmp(x->snippet, y->snippet) != 0 || strcmp(x->passage, y->passage) != 0 ||
        x->n_marks != y->n_marks) {
      fprintf(stderr, "%s [%s]: #%zu %s passage\n  %s\nvs\n  %s\n", q, how, i, x->article,
              x->snippet, y->snippet);
      return 0;
    }
    for (k = 0; k < x->n_marks; k++)
      if (x->marks[k].start != y->marks[k].start || x->marks[k].end != y->marks[k].end) {
        fprintf(stderr, "%s [%s]: #%zu marks differ\n", q, how, i);
        return 0;
      }
    if (strcmp(x->title, y->title) != 0 || x->line != y->line) {
      fprintf(stderr, "%s [%s]: #%zu row differs\n", q, how, i);
      return 0;
    }
  }
  return 1;
}

static int compare(tshoot_kb *kb, const char *text, unsigned int flags, int limit,
                   const char *how)
{
  tshoot_search_options o = TSHOOT_SEARCH_OPTIONS_INIT, r = TSHOOT_SEARCH_OPTIONS_INIT;
  tshoot_results *a = NULL, *b = NULL;
  int ok, ra, rb;
  o.flags = flags;
  o.limit = limit;
  r.flags = flags | SEARCH_FLAG_FTS5_RANK;
  r.limit = limit;
  ra = tshoot_search(&a, kb, text, strlen(text), &o);
  rb = tshoot_search(&b, kb, text, strlen(text), &r);
  ok = ra == TSHOOT_OK && rb == TSHOOT_OK && !tshoot_results_truncated(a) &&
       !tshoot_results_truncated(b) && same_results(a, b, text, how);
  if (ra != TSHOOT_OK || rb != TSHOOT_OK)
    fprintf(stderr, "%s [%s]: status %d / %d: %s\n", text, how, ra, rb,
            tshoot_error_last()->message);
  else if (tshoot_results_truncated(a) || tshoot_results_truncated(b))
    fprintf(stderr, "%s [%s]: cut by the budget (postings %d, FTS5 %d)\n", text, how,
            tshoot_results_truncated(a), tshoot_results_truncated(b));
  tshoot_results_free(a);
  tshoot_results_free(b);
  return ok;
}

/* Damaged posting lists (cut short, random bytes, zeros; the KB's
** checksums do not cover them): every search still returns, with results
** or ECORRUPT, and reads nothing outside a list (ASan runs this too). The
** windowed reads (a list's blocks read as they are reached) and the FTS5
** path both meet them. */
static void damaged_lists(const char *kbp, const char *dir, const synth_query *qs, size_t nq)
{
  char path[700], text[512];
  size_t len, i, ok = 0, corrupt = 0;
  char *bytes = NULL;
  FILE *f;
  sqlite3 *db = NULL;
  tshoot_kb *kb = NULL;
  snprintf(path, sizeof path, "%s/damaged.db", dir);
  if ((f = fopen(kbp, "rb")) != NULL) {
    fseek(f, 0, SEEK_END);
    len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    if ((bytes = malloc(len)) != NULL && fread(bytes, 1, len, f) != len) len = 0;
    fclose(f);
    if (bytes && len && (f = fopen(path, "wb")) != NULL) {
      CHECK(fwrite(bytes, 1, len, f) == len);
      fclose(f);
    }
  }
  free(bytes);
  CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_INT(sqlite3_exec(db, "UPDATE rank_post SET post = CASE id % 4"
                             " WHEN 0 THEN substr(post, 1, length(post) / 2)"
                             " WHEN 1 THEN randomblob(length(post))"
                             " WHEN 2 THEN zeroblob(length(post)) ELSE post END",
                         NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  CHECK_INT(tshoot_kb_open(&kb, path, NULL), TSHOOT_OK);
  for (i = 0; kb && i < nq && i < 400; i++) {
    tshoot_results *r = NULL;
    int rc;
    snprintf(text, sizeof text, "%s%s", qs[i].text, qs[i].prefix ? "" : " ");
    rc = tshoot_search(&r, kb, text, strlen(text), NULL);
    CHECK(rc == TSHOOT_OK || rc == TSHOOT_ECORRUPT);
    if (rc == TSHOOT_OK) ok++;
    else corrupt++;
    tshoot_results_free(r);
  }
  printf("damaged posting lists: %zu searches answered, %zu said the KB is damaged\n", ok,
         corrupt);
  CHECK(ok + corrupt >= 1);
  tshoot_kb_close(kb);
}

static void test_identity(void)
{
  const char *env_kb = getenv("TEST_POSTINGS_KB"), *env_n = getenv("TEST_POSTINGS_QUERIES");
  size_t nq = env_n ? (size_t)atoi(env_n) : 1000, i, bad = 0, total = 0;
  char dir[] = "/tmp/test-postings-XXXXXX", kbp[600];
  const char *srcs[1];
  tshoot_compile_stats cst;
  tshoot_kb_options ko = TSHOOT_KB_OPTIONS_INIT;
  synth *sy = synth_new();
  synth_query *qs;
  tshoot_kb *kb = NULL;
  unsigned long before, cut_before;
  static const char *const extra[] = {
    "xuzxexxu.dll", "0x80040388", "16.0.1234 snal", "error", "error snal", "sn", "snal*",
    "\"quoted\" words", "a", "", "   ", "snal OR error", "staisra quou fraprust error snal",
    "zzzzzz unknownword", "snal snal snal", "sna", "err", "erro", "x",
  };

  if (!sy) { CHECK(sy != NULL); return; }
  if (!env_kb) {
    char src[600];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(src, sizeof src, "%s/src", dir);
    CHECK(mkdir(src, 0700) == 0);
    CHECK(synth_write_corpus(sy, src, SYNTH_DEFAULT_SEED, 600, 100, NULL, NULL) == 0);
    snprintf(kbp, sizeof kbp, "%s/kb.db", dir);
    srcs[0] = src;
    CHECK(tshoot_compile(&cst, srcs, 1, kbp, NULL) == TSHOOT_OK);
  } else {
    snprintf(kbp, sizeof kbp, "%s", env_kb);
  }
  /* a budget that never cuts: the FTS5 ranking of a large KB (TEST_POSTINGS_KB)
  ** takes longer than the default 250 ms at its tail */
  ko.query_budget_ms = 60000;
  if (tshoot_kb_open(&kb, kbp, &ko) != TSHOOT_OK) {
    fprintf(stderr, "open %s: %s\n", kbp, tshoot_error_last()->message);
    CHECK(0);
    synth_free(sy);
    return;
  }
  qs = synth_queries(sy, SYNTH_DEFAULT_SEED, nq);
  CHECK(qs != NULL);
  if (!qs) nq = 0;
  before = search_postings_ranked();
  cut_before = search_passages_from_checkpoint();
  for (i = 0; i < nq; i++) {
    char text[512];
    snprintf(text, sizeof text, "%s%s", qs[i].text, qs[i].prefix ? "" : " ");
    total += 3;
    if (!compare(kb, text, 0, 10, "as typed")) bad++;
    if (!compare(kb, text, TSHOOT_SEARCH_ANY_WORD, 10, "any word")) bad++;
    if (!compare(kb, text, 0, 3, "limit 3")) bad++;
  }
  for (i = 0; i < sizeof extra / sizeof *extra; i++) {
    total += 2;
    if (!compare(kb, extra[i], 0, 10, "extra")) bad++;
    if (!compare(kb, extra[i], TSHOOT_SEARCH_ANY_WORD, 25, "extra any")) bad++;
  }
  printf("%zu of %zu searches identical; %lu ranked over the postings; %lu passages cut from a"
         " checkpoint\n", total - bad, total, search_postings_ranked() - before,
         search_passages_from_checkpoint() - cut_before);
  CHECK(bad == 0);
  /* most queries are single words (as typed, a prefix, a synonym group): the
  ** postings must have ranked them, else this compared FTS5 with itself */
  CHECK(search_postings_ranked() - before >= total / 2);
  /* and many of their passages were cut from a token offset the KB stores
  ** (RANK_CHECKPOINT), while FTS5's path tokenizes from the column's start:
  ** the same passages then say those offsets are right */
  CHECK(search_passages_from_checkpoint() - cut_before >= total / 10);
  if (!env_kb && qs) damaged_lists(kbp, dir, qs, nq);
  synth_queries_free(qs, nq);
  tshoot_kb_close(kb);
  synth_free(sy);
  if (!env_kb) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
  }
}

int main(void)
{
  RUN(test_identity);
  TEST_EXIT();
}
