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
** Before the searches, the ranking tables of the compiled KB are checked
** against FTS5's index read through fts5vocab (check_rank_tables): the
** derivation kb_rank_write.c used before it built them from caught tokens.
**
** Environment: TEST_POSTINGS_KB=<kb> runs on an existing KB instead (e.g. a
** 10k bench KB), TEST_POSTINGS_QUERIES=<n> (default 1000).
*/
#include "tshoot.h"
#include "tshoot_int.h"
#include "kb.h"
#include "kb_schema.h"
#include "search_int.h"
#include "synth.h"
#include "test.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
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
  size_t len = 0, i, ok = 0, corrupt = 0;
  char *bytes = NULL;
  FILE *f;
  sqlite3 *db = NULL;
  tshoot_kb *kb = NULL;
  snprintf(path, sizeof path, "%s/damaged.db", dir);
  CHECK_INT(ts_read_file(&bytes, &len, kbp, (size_t)1 << 30), TSHOOT_OK);
  if (bytes && (f = fopen(path, "wb")) != NULL) {
    CHECK(fwrite(bytes, 1, len, f) == len);
    fclose(f);
  }
  ts_free(bytes);
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

/* ===== the ranking tables against FTS5's own index =====
** kb_rank_write.c builds rank_term, rank_post, rank_pos and rank_doc's term
** ids from the tokens it catches while FTS5 indexes them. Here they are
** derived again the way it did before (up to KB format 4): from FTS5's index,
** read through an fts5vocab 'instance' table (every token as FTS5 stored it,
** by term in byte order, then article, column, offset). Both must agree on
** every term and id, df and hdf, posting (article, weighted frequencies, skip
** entries), position and token of every article. */

typedef struct rank_ref {
  uint32_t *doc, *wtf, *hwtf, *npos;     /* per posting */
  size_t n, cap;
  uint32_t *pos;                         /* col << 24 | offset */
  size_t npos_all, pos_cap;
} rank_ref;

static int col_of(const unsigned char *name, int n)
{
  static const char *const names[TS_FTS_NCOLS] = { "title", "symptoms", "aliases", "causes", "fixes" };
  int i;
  for (i = 0; i < TS_FTS_NCOLS; i++)
    if ((size_t)n == strlen(names[i]) && memcmp(name, names[i], (size_t)n) == 0) return i;
  return -1;
}

/* The varint at *p (before end) into *v, *p past it; 0 when there is none. */
static int get(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
  size_t l = *p && *p < end ? ts_varint_get(*p, (size_t)(end - *p), v) : 0;
  *p += l;
  return l > 0;
}

static uint32_t le(const unsigned char *p, int n)
{
  uint32_t v = 0;
  int i;
  for (i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* Term `id` (tbytes[0, tlen)) as the reference has it, against its rows. */
static int rank_term_same(sqlite3_stmt *st, long id, const unsigned char *tbytes, int tlen,
                          const rank_ref *r)
{
  static const int w[TS_FTS_NCOLS] = TS_FTS_WEIGHT_INTS;
  const unsigned char *p, *end, *body;
  uint64_t n = 0, nblk = 0;
  size_t i, hdf = 0, k = 0;
  uint32_t prev = 0;
  int ok = 1;
  for (i = 0; i < r->n; i++) if (r->hwtf[i]) hdf++;
  sqlite3_bind_text(st, 1, (const char *)tbytes, tlen, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_ROW) {
    fprintf(stderr, "rank tables: term %ld (%.*s) has no rows\n", id, tlen, (const char *)tbytes);
    sqlite3_reset(st);
    return 0;
  }
  if (sqlite3_column_int64(st, 0) != id || (size_t)sqlite3_column_int64(st, 1) != r->n ||
      (size_t)sqlite3_column_int64(st, 2) != hdf) {
    fprintf(stderr, "rank tables: term %.*s is %ld df %zu hdf %zu in FTS5, %lld df %lld hdf %lld\n",
            tlen, (const char *)tbytes, id, r->n, hdf, sqlite3_column_int64(st, 0),
            sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
    ok = 0;
  }
  /* the postings: n, nblk, the skip entries, then (article delta, wtf, hwtf) */
  p = sqlite3_column_blob(st, 3);
  end = p + sqlite3_column_bytes(st, 3);
  if (ok && (!get(&p, end, &n) || !get(&p, end, &nblk) || n != r->n || nblk != (r->n + RANK_BLOCK - 1) / RANK_BLOCK ||
             (size_t)(end - p) < 16 * nblk)) {
    fprintf(stderr, "rank tables: term %ld: the postings' header differs\n", id);
    ok = 0;
  }
  body = ok ? p + 16 * nblk : end;
  for (i = 0, p = body; ok && i < r->n; i++) {
    uint64_t d, f, h;
    if (i % RANK_BLOCK == 0) {
      const unsigned char *s = body - 16 * nblk + 16 * (i / RANK_BLOCK);
      size_t last = i + RANK_BLOCK < r->n ? i + RANK_BLOCK - 1 : r->n - 1;
      if (le(s, 4) != r->doc[last] || le(s + 4, 4) != (uint32_t)(p - body)) {
        fprintf(stderr, "rank tables: term %ld: skip entry %zu differs\n", id, i / RANK_BLOCK);
        ok = 0;
        break;
      }
    }
    if (!get(&p, end, &d) || !get(&p, end, &f) || !get(&p, end, &h) || prev + d != r->doc[i] ||
        f != r->wtf[i] || h != r->hwtf[i]) {
      fprintf(stderr, "rank tables: term %ld: posting %zu differs (article %u in FTS5)\n", id, i, r->doc[i]);
      ok = 0;
    }
    prev = r->doc[i];
  }
  if (ok && p != end) {
    fprintf(stderr, "rank tables: term %ld: more postings than FTS5's\n", id);
    ok = 0;
  }
  /* the positions: per posting their count, then the differences from 0 */
  p = sqlite3_column_blob(st, 4);
  end = p + sqlite3_column_bytes(st, 4);
  for (i = 0; ok && i < r->n; i++) {
    uint64_t c, x;
    uint32_t pp = 0, j, wf = 0;
    if (!get(&p, end, &c) || c != r->npos[i]) { ok = 0; break; }
    for (j = 0; j < c; j++, k++) {
      if (!get(&p, end, &x) || pp + (uint32_t)x != r->pos[k]) { ok = 0; break; }
      pp = r->pos[k];
      wf += (uint32_t)w[pp >> 24];
    }
    if (wf != r->wtf[i]) ok = 0;
  }
  if (ok && p != end) ok = 0;
  if (!ok) fprintf(stderr, "rank tables: term %ld (%.*s) differs\n", id, tlen, (const char *)tbytes);
  sqlite3_reset(st);
  return ok;
}

static void check_rank_tables(const char *path)
{
  static const int w[TS_FTS_NCOLS] = TS_FTS_WEIGHT_INTS;
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL, *rows = NULL;
  uint32_t *ids = NULL, *cnt = NULL;
  size_t *start = NULL, nids = 0, ids_cap = 0, seen = 0, bad = 0;
  sqlite3_int64 ndoc = 0, d;
  unsigned char *term = NULL;
  int tlen = -1;
  long id = -1;
  rank_ref r;
  memset(&r, 0, sizeof r);
  CHECK_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  /* each article's term ids, column by column (rank_doc.toks) */
  CHECK_INT(sqlite3_prepare_v2(db, "SELECT max(id) FROM rank_doc", -1, &st, NULL), SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW) ndoc = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  CHECK(ndoc > 0);
  start = calloc((size_t)(ndoc + 1) * TS_FTS_NCOLS, sizeof *start);
  cnt = calloc((size_t)(ndoc + 1) * TS_FTS_NCOLS, sizeof *cnt);
  CHECK(start && cnt);
  CHECK_INT(sqlite3_prepare_v2(db, "SELECT id, toks FROM rank_doc ORDER BY id", -1, &st, NULL), SQLITE_OK);
  while (start && cnt && sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char *p = sqlite3_column_blob(st, 1), *end = p + sqlite3_column_bytes(st, 1);
    int col;
    d = sqlite3_column_int64(st, 0);
    for (col = 0; col < TS_FTS_NCOLS; col++) {
      uint64_t n, k;
      size_t l = ts_varint_get(p, (size_t)(end - p), &n);
      CHECK(l > 0 && (size_t)(end - p - (ptrdiff_t)l) >= 3 * n);
      if (!l) break;
      p += l;
      start[d * TS_FTS_NCOLS + col] = nids;
      cnt[d * TS_FTS_NCOLS + col] = (uint32_t)n;
      if (ids_cap < nids + n) {
        ids_cap = 2 * (nids + n);
        ids = realloc(ids, ids_cap * sizeof *ids);
        CHECK(ids != NULL);
      }
      for (k = 0; k < n; k++, p += 3) ids[nids++] = le(p, 3);
    }
  }
  sqlite3_finalize(st);
  /* FTS5's index, token by token */
  CHECK_INT(sqlite3_exec(db, "CREATE VIRTUAL TABLE temp.ref_inst USING fts5vocab(main, article_fts,"
                         " instance)", NULL, NULL, NULL), SQLITE_OK);
  CHECK_INT(sqlite3_prepare_v2(db, "SELECT term, doc, col, offset FROM temp.ref_inst", -1, &st, NULL),
            SQLITE_OK);
  CHECK_INT(sqlite3_prepare_v2(db, "SELECT t.id, t.df, t.hdf, p.post, q.pos FROM rank_term AS t"
                               " JOIN rank_post AS p ON p.id = t.id JOIN rank_pos AS q ON q.id = t.id"
                               " WHERE t.term = ?1", -1, &rows, NULL), SQLITE_OK);
  for (;;) {
    int rc = sqlite3_step(st), tl = 0, col = -1;
    const unsigned char *t = NULL;
    sqlite3_int64 off = 0;
    if (rc == SQLITE_ROW) {
      t = sqlite3_column_blob(st, 0);
      tl = sqlite3_column_bytes(st, 0);
      d = sqlite3_column_int64(st, 1);
      col = col_of(sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2));
      off = sqlite3_column_int64(st, 3);
    }
    if (rc != SQLITE_ROW || !term || tl != tlen || memcmp(t, term, (size_t)tl) != 0) {   /* a new term */
      if (term && !rank_term_same(rows, id, term, tlen, &r)) bad++;
      free(term);
      term = NULL;
      if (rc != SQLITE_ROW) {
        CHECK_INT(rc, SQLITE_DONE);
        break;
      }
      id++;
      term = malloc((size_t)tl + 1);
      memcpy(term, t, (size_t)tl);
      tlen = tl;
      r.n = 0;
      r.npos_all = 0;
    }
    CHECK(col >= 0 && d >= 1 && d <= ndoc);
    if (col < 0 || d < 1 || d > ndoc) break;
    if (r.n == 0 || r.doc[r.n - 1] != (uint32_t)d) {
      if (r.n == r.cap) {
        r.cap = r.cap ? 2 * r.cap : 64;
        r.doc = realloc(r.doc, r.cap * sizeof *r.doc);
        r.wtf = realloc(r.wtf, r.cap * sizeof *r.wtf);
        r.hwtf = realloc(r.hwtf, r.cap * sizeof *r.hwtf);
        r.npos = realloc(r.npos, r.cap * sizeof *r.npos);
      }
      r.doc[r.n] = (uint32_t)d;
      r.wtf[r.n] = r.hwtf[r.n] = r.npos[r.n] = 0;
      r.n++;
    }
    r.wtf[r.n - 1] += (uint32_t)w[col];
    if (col < TS_FTS_HEAD_COLS) r.hwtf[r.n - 1] += (uint32_t)w[col];
    r.npos[r.n - 1]++;
    if (r.npos_all == r.pos_cap) {
      r.pos_cap = r.pos_cap ? 2 * r.pos_cap : 256;
      r.pos = realloc(r.pos, r.pos_cap * sizeof *r.pos);
    }
    r.pos[r.npos_all++] = (uint32_t)col << 24 | (uint32_t)off;
    /* the article's token there is this term */
    if (off < 0 || off >= cnt[d * TS_FTS_NCOLS + col] ||
        ids[start[d * TS_FTS_NCOLS + col] + (size_t)off] != (uint32_t)id) {
      if (bad++ < 5) fprintf(stderr, "rank tables: article %lld column %d token %lld is not term %ld\n",
                             (long long)d, col, (long long)off, id);
    }
    seen++;
  }
  sqlite3_finalize(st);
  sqlite3_finalize(rows);
  CHECK(bad == 0);
  CHECK(seen == nids);          /* every token of rank_doc is one of FTS5's */
  CHECK_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM rank_term", -1, &st, NULL), SQLITE_OK);
  CHECK_INT(sqlite3_step(st), SQLITE_ROW);
  CHECK(sqlite3_column_int64(st, 0) == id + 1);
  CHECK(id > 1000);             /* a real vocabulary was compared */
  sqlite3_finalize(st);
  sqlite3_close(db);
  free(term);
  free(ids);
  free(start);
  free(cnt);
  free(r.doc);
  free(r.wtf);
  free(r.hwtf);
  free(r.npos);
  free(r.pos);
}

/* Do the KBs at a and b hold the same rows in every table (the same
** tables, each row the same values)? The pages may be in another order. */
static int same_rows(const char *a, const char *b)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *tabs = NULL, *st = NULL;
  char sql[800];
  int same = 1, ntab = 0;
  if (sqlite3_open_v2(a, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) same = 0;
  snprintf(sql, sizeof sql, "ATTACH '%s' AS b", b);
  if (same && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) same = 0;
  /* the same tables (FTS5's virtual ones are compared by their shadow tables) */
  if (same && sqlite3_prepare_v2(db, "SELECT count(*) FROM (SELECT name, sql FROM main.sqlite_schema"
                                 " EXCEPT SELECT name, sql FROM b.sqlite_schema)", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0)
    same = 0;
  sqlite3_finalize(st);
  st = NULL;
  if (same && sqlite3_prepare_v2(db, "SELECT name FROM main.sqlite_schema WHERE type = 'table'"
                                 " AND sql NOT LIKE 'CREATE VIRTUAL%'", -1, &tabs, NULL) != SQLITE_OK)
    same = 0;
  while (same && tabs && sqlite3_step(tabs) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(tabs, 0);
    snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM main.\"%s\") = (SELECT count(*) FROM b.\"%s\")"
             " AND NOT EXISTS (SELECT * FROM main.\"%s\" EXCEPT SELECT * FROM b.\"%s\")", t, t, t, t);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
        sqlite3_column_int(st, 0) != 1) {
      fprintf(stderr, "  table %s differs\n", t);
      same = 0;
    }
    sqlite3_finalize(st);
    st = NULL;
    ntab++;
  }
  sqlite3_finalize(tabs);
  sqlite3_close(db);
  return same && ntab > 20;       /* the KB's tables were all there to compare */
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
    check_rank_tables(kbp);
    /* the postings inverted in slices of terms (as a KB of 100k articles
    ** is): the same rows in every table (a slice's rank_post rows are
    ** written before its rank_pos rows, so the pages are in another order) */
    {
      char kb2[600];
      snprintf(kb2, sizeof kb2, "%s/kb-sliced.db", dir);
      kb_rank_test_slice_bytes(1);
      CHECK(tshoot_compile(&cst, srcs, 1, kb2, NULL) == TSHOOT_OK);
      kb_rank_test_slice_bytes(0);
      CHECK(same_rows(kbp, kb2));
      check_rank_tables(kb2);
    }
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
