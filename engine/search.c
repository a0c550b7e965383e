/*
** search.c: tshoot_search() and its results: what a person types -> ranked
** articles. The steps are in two files, as FTS5 keeps fts5_expr.c apart from
** fts5_aux.c: search_query.c turns the text into a safe FTS5 query (words,
** phrases, stop words, synonyms, spelling, prefix, the OR fallback: its header
** comment is the rule book), search_rank.c runs it (bm25 ranking, passages).
** This file holds the per-connection state they share (the connection's
** KB_CONN_DATA_SEARCH slot), the order in which the queries are tried, and
** the one-block result.
*/
#include "search_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static void state_free(void *p)
{
  search_state *s = p;
  if (!s) return;
  ts_free(s->by_term);
  ts_free(s->by_grp);
  ts_free(s->syn_arena);
  ts_buf_free(&s->scratch);
  ts_free(s->rows);
  ts_free(s->marks);
  if (s->tok) s->tok_api.xDelete(s->tok);
  if (s->raw_tok) s->raw_api.xDelete(s->raw_tok);
  ts_free(s->heap);
  ts_free(s->top);
  ts_free(s->plan);
  ts_free(s->dl);
  search_rank_mem_free(s->rank);
  ts_free(s->rq);
  ts_free(s->hits);
  ts_free(s);
}

search_state *search_state_get(kb_conn *c)
{
  if (!c->module_data[KB_CONN_DATA_SEARCH]) {
    search_state *s = ts_calloc(1, sizeof *s);
    if (!s) return NULL;
    c->module_data[KB_CONN_DATA_SEARCH] = s;
    c->module_free[KB_CONN_DATA_SEARCH] = state_free;
  }
  return c->module_data[KB_CONN_DATA_SEARCH];
}

/* A failed statement: TSHOOT_ETIMEOUT when the budget ran out. */
int search_step_error(kb_conn *c, int rc, const char *what)
{
  if ((rc & 0xff) == SQLITE_INTERRUPT || c->timed_out)
    return ts_error(TSHOOT_ETIMEOUT, "%s: ran past its time budget", what);
  return kb_sqlite_error(c->db, rc, what);
}

int search_stmt_get(kb_conn *c, int slot, const char *sql, sqlite3_stmt **out)
{
  *out = kb_conn_stmt(c, slot, sql);
  if (*out) return TSHOOT_OK;
  if (c->timed_out) return ts_error(TSHOOT_ETIMEOUT, "search: ran past its time budget");
  return tshoot_error_last()->code != TSHOOT_OK ? tshoot_error_last()->code : TSHOOT_ERROR;
}

/* ===== results ===== */

struct tshoot_results {
  size_t n;
  tshoot_result *items;
  const char *query;
  const char *suggestion;   /* NULL: none */
  const char *text;         /* the text searched, as valid UTF-8 */
  int truncated;
};

/* One block: the header, the items, their marks, their strings, the query,
** the text and the suggestion. */
static tshoot_results *make_results(const search_state *s, size_t n, const char *query,
                                    const char *suggestion, const char *text, int truncated)
{
  size_t head = sizeof(tshoot_results), ql = strlen(query), sl = suggestion ? strlen(suggestion) : 0;
  size_t tl = strlen(text), strings = n ? s->scratch.len : 0, nmarks = n ? s->nmarks : 0;
  size_t total, i, al = _Alignof(tshoot_result) > _Alignof(tshoot_span) ? _Alignof(tshoot_result)
                                                                        : _Alignof(tshoot_span);
  size_t items_sz = (n * sizeof(tshoot_result) + al - 1) / al * al;
  tshoot_results *r;
  tshoot_span *marks;
  char *str;
  head = (head + al - 1) / al * al;
  total = head + items_sz + nmarks * sizeof(tshoot_span) + strings + ql + 1 + tl + 1 +
          (suggestion ? sl + 1 : 0);
  r = ts_malloc(total);
  if (!r) return NULL;
  r->n = n;
  r->items = (tshoot_result *)((char *)r + head);
  r->truncated = truncated;
  marks = (tshoot_span *)((char *)r->items + items_sz);
  if (nmarks) memcpy(marks, s->marks, nmarks * sizeof *marks);
  str = (char *)(marks + nmarks);
  if (strings) memcpy(str, s->scratch.p, strings);
  for (i = 0; i < n; i++) {
    const row_ref *rr = &s->rows[i];
    memset(&r->items[i], 0, sizeof r->items[i]);
    r->items[i].article = str + rr->name;
    r->items[i].title = str + rr->title;
    r->items[i].file = str + rr->file;
    r->items[i].snippet = str + rr->snippet;
    r->items[i].line = rr->line;
    r->items[i].score = rr->score;
    r->items[i].passage = str + rr->passage;
    r->items[i].marks = rr->nmark ? marks + rr->mark0 : NULL;
    r->items[i].n_marks = rr->nmark;
  }
  str += strings;
  memcpy(str, query, ql + 1);
  r->query = str;
  str += ql + 1;
  memcpy(str, text, tl + 1);
  r->text = str;
  str += tl + 1;
  r->suggestion = NULL;
  if (suggestion) {
    memcpy(str, suggestion, sl + 1);
    r->suggestion = str;
  }
  return r;
}

/* One read transaction for all the statements of a search (twenty or more):
** each would otherwise open and close its own, 3% of a median search at
** 10k articles. Nothing writes a KB, so the transaction sees nothing new;
** it only saves the work. Failing to begin one costs nothing but that. */
_Static_assert((int)ST_COMMIT < (int)KB_STMT_ARTICLE_FIRST, "search's statement slots overlap article.c's");

static void read_begin(kb_conn *c)
{
  sqlite3_stmt *st;
  if (search_stmt_get(c, ST_BEGIN, "BEGIN", &st) != TSHOOT_OK) return;
  sqlite3_step(st);
  sqlite3_reset(st);
}

static void read_end(kb_conn *c)
{
  sqlite3_stmt *st;
  if (sqlite3_get_autocommit(c->db)) return;
  if (search_stmt_get(c, ST_COMMIT, "COMMIT", &st) == TSHOOT_OK) {
    sqlite3_step(st);
    sqlite3_reset(st);
  }
  if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

TSHOOT_API int tshoot_search(tshoot_results **out, tshoot_kb *kb, const char *text, size_t len,
                             const tshoot_search_options *opts)
{
  static const tshoot_search_options defaults = TSHOOT_SEARCH_OPTIONS_INIT;
  kb_conn *c = NULL;
  search_state *s;
  splan *p;
  char *query = NULL, *fixed = NULL, *or_query = NULL, *suggestion = NULL;
  const char *ran = "", *mo, *mc;
  int rc = TSHOOT_OK, limit, tokens, truncated = 0;
  size_t n = 0;

  if (out) *out = NULL;
  TS_CHECK_ARG(out && kb);
  if (!text && len > 0) return ts_error(TSHOOT_EINVALID, "tshoot_search: text is NULL");
  if (!text) text = "";
  TS_CHECK_OPTIONS(opts, TSHOOT_SEARCH_OPTIONS_VERSION);
  if (!opts) opts = &defaults;
  limit = opts->limit == 0 ? 10 : opts->limit < 1 ? 1 : opts->limit > 1000 ? 1000 : opts->limit;
  tokens = opts->snippet_tokens == 0 ? 24 : opts->snippet_tokens < 1 ? 1
         : opts->snippet_tokens > SNIPPET_MAX ? SNIPPET_MAX : opts->snippet_tokens;
  mo = opts->mark_open ? opts->mark_open : "[";
  mc = opts->mark_close ? opts->mark_close : "]";

  rc = kb_conn_acquire(kb, &c);
  if (rc != TSHOOT_OK) return rc;
  s = search_state_get(c);
  if (!s) { kb_conn_release(kb, c); return ts_error_oom(); }
  if (!s->plan && !(s->plan = ts_malloc(sizeof *s->plan))) {
    kb_conn_release(kb, c);
    return ts_error_oom();
  }
  p = s->plan;
  s->flags = opts->flags;
  read_begin(c);
  /* What a connection reads once (the synonyms; every article's length, a
  ** scan of 10,000 rows at 10k articles) is not the query's: under the
  ** query's budget a slow first search cut it short, and the connection then
  ** ranked every later search with FTS5 (no lengths, no postings path). */
  if (!s->syn_loaded) rc = search_syn_load(c, s);
  if (rc == TSHOOT_OK && !s->dl_loaded) search_dl_load(c, s, kb->info.articles);
  kb_conn_arm(c, kb, 0);
  /* 1. the words as typed, with synonyms */
  if (rc == TSHOOT_OK) {
    p->any_fix = 0;
    p->articles = (sqlite3_int64)kb->info.articles;
    search_plan_words(p, text, len);
    search_plan_terms(p, s);
    search_plan_prefix(p, opts->flags);
    query = search_write_query(p, 0);
    if (!query) rc = ts_error_oom();
  }
  if (rc == TSHOOT_OK && query[0] && (opts->flags & TSHOOT_SEARCH_ANY_WORD) && p->nt >= 2) {
    /* any of the words, everywhere, ranked: no AND pass first */
    or_query = search_write_query(p, 1);
    if (!or_query) rc = ts_error_oom();
    else {
      ran = or_query;
      rc = search_run_query(c, s, or_query, mo, mc, tokens, limit, &n);
    }
  } else if (rc == TSHOOT_OK && query[0]) {
    ran = query;
    rc = search_run_query(c, s, query, mo, mc, tokens, limit, &n);
    /* 2. nothing: was a word unknown? (a word the index lacks always makes
    ** the AND query empty, so spelling costs nothing when it finds rows) */
    if (rc == TSHOOT_OK && n == 0) {
      rc = search_plan_spell(p, c, s, opts->flags);
      if (rc == TSHOOT_OK && p->any_fix) {
        fixed = search_write_query(p, 0);
        suggestion = search_write_suggestion(p, text, len);
        if (!fixed || !suggestion) rc = ts_error_oom();
        else {
          ran = fixed;
          rc = search_run_query(c, s, fixed, mo, mc, tokens, limit, &n);
        }
      }
    }
    /* 3. still nothing: any of the terms, first in titles, symptoms and
    ** aliases only (few rows to score, and the better matches for a chatty
    ** sentence), then anywhere */
    if (rc == TSHOOT_OK && n == 0 && p->nt >= 2) {
      char *any = search_write_query(p, 1);
      if (!any) rc = ts_error_oom();
      else {
        ts_buf strong = TS_BUF_INIT;
        ts_buf_addf(&strong, "{title symptoms aliases} : (%s)", any);
        or_query = ts_buf_detach(&strong);
        if (!or_query) rc = ts_error_oom();
        else {
          ran = or_query;
          rc = search_run_query(c, s, or_query, mo, mc, tokens, limit, &n);
        }
        if (rc == TSHOOT_OK && n == 0) {
          ts_free(or_query);
          or_query = any;
          any = NULL;
          ran = or_query;
          rc = search_run_query(c, s, or_query, mo, mc, tokens, limit, &n);
        }
        ts_free(any);
      }
    }
  }
  if (rc == TSHOOT_ETIMEOUT) {
    truncated = 1;
    n = 0;
    rc = TSHOOT_OK;
  }
  if (rc == TSHOOT_OK) {
    ts_buf clean = TS_BUF_INIT;
    text_utf8_clean(&clean, text, len);
    if (clean.oom) rc = ts_error_oom();
    else {
      *out = make_results(s, n, ran, suggestion, clean.len ? clean.p : "", truncated);
      if (!*out) rc = ts_error_oom();
    }
    ts_buf_free(&clean);
  }
  if (s->scratch.cap > 1 << 20) ts_buf_free(&s->scratch);
  read_end(c);
  kb_conn_release(kb, c);
  ts_free(query);
  ts_free(fixed);
  ts_free(or_query);
  ts_free(suggestion);
  return rc;
}

/* ===== the words of each cause (session.c) ===== */

#define CAUSE_MAX_WORDS 128   /* words of a description matched against causes */
#define CAUSE_MAX_TERMS 256   /* and the terms they make */

typedef struct cause_terms {
  int n;
  unsigned char len[CAUSE_MAX_TERMS];
  char t[CAUSE_MAX_TERMS][TEXT_MAX_WORD];
} cause_terms;

/* A term of a word, kept once; not one of a single byte (the "s" of
** "Outlook's": a word of one letter does not count either). A term longer
** than TEXT_MAX_WORD cannot come: the word it came from is no longer, and
** folding only shortens. */
static int cause_term_cb(void *ctx, int flags, const char *t, int nt, int b0, int b1)
{
  cause_terms *ct = ctx;
  int i;
  (void)flags;
  (void)b0;
  (void)b1;
  if (nt < 2 || nt > TEXT_MAX_WORD || ct->n >= CAUSE_MAX_TERMS) return SQLITE_OK;
  for (i = 0; i < ct->n; i++)
    if (ct->len[i] == nt && memcmp(ct->t[i], t, (size_t)nt) == 0) return SQLITE_OK;
  memcpy(ct->t[ct->n], t, (size_t)nt);
  ct->len[ct->n++] = (unsigned char)nt;
  return SQLITE_OK;
}

/* Add one term's part of bm25 to every cause that uses it: FTS5's
** expression (fts5_aux.c) with its IDF, so that the sums are the doubles
** FTS5's bm25 gave over cause_fts (formats up to 5), phrase by phrase in
** the query's order. */
static int cause_term_add(const unsigned char *p, int bytes, int64_t df, int64_t rows, double avgdl,
                          double *score, size_t n)
{
  const unsigned char *end = p + bytes;
  const double k1 = TS_BM25_K1, b = TS_BM25_B;
  double idf = log(((double)(rows - df) + 0.5) / ((double)df + 0.5));
  uint64_t id = 0;
  int64_t i;
  if (idf <= 0.0) idf = 1e-6;
  for (i = 0; i < df; i++) {
    uint64_t step, acc, dl;
    size_t k = p < end ? ts_varint_get(p, (size_t)(end - p), &step) : 0;
    if (k) p += k, k = p < end ? ts_varint_get(p, (size_t)(end - p), &acc) : 0;
    if (k) p += k, k = p < end ? ts_varint_get(p, (size_t)(end - p), &dl) : 0;
    if (!k) return -1;
    p += k;
    id += step;
    if (id >= 1 && id <= n) {
      double f = (double)acc / 2.0, D = (double)dl;   /* halves: exact */
      score[id - 1] += idf * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + b * D / avgdl)));
    }
  }
  return p == end ? 0 : -1;
}

int search_cause_scores(tshoot_kb *kb, const char *text, size_t len, double *score, size_t n)
{
  kb_conn *c = NULL;
  search_state *s;
  char *q = NULL, *orq = NULL, *sug = NULL;
  sqlite3_stmt *st = NULL;
  cause_terms ct;
  int rc, i;
  size_t k;
  int64_t rows = (int64_t)kb->info.causes;
  for (k = 0; k < n; k++) score[k] = 0;
  ct.n = 0;
  rc = kb_conn_acquire(kb, &c);
  if (rc != TSHOOT_OK) return rc;
  kb_conn_arm(c, kb, 0);
  s = search_state_get(c);
  if (!s) rc = ts_error_oom();
  if (rc == TSHOOT_OK) rc = search_fts5_ready(c, s);
  /* the words as typed, or as the search's spelling corrected them, each
  ** once, any of them counting. Not the search's synonym groups: bm25 scores
  ** each alternative as a term of its own, so a cause that uses two words
  ** of a group ("profile", "mail profile") would count one word of the
  ** person's twice (measured: 69% of the words test first with them, 80%
  ** without); a cause's <alias>es carry its other words instead. Each word
  ** becomes the terms the index's tokenizer makes of it, each counting on
  ** its own: "Outlook’s" (a curly apostrophe, which text_next_word keeps
  ** in the word) is "outlook", where cause_fts (formats up to 5) asked for
  ** "outlook" and "s" side by side. */
  if (rc == TSHOOT_OK) rc = search_build_query_kb(c, text, len, TSHOOT_SEARCH_NO_PREFIX, &q, &orq, &sug);
  if (rc == TSHOOT_OK) {
    const char *words = sug ? sug : text;
    size_t slen = sug ? strlen(sug) : len, pos = 0, ws, wl, nw = 0;
    char w[TEXT_MAX_WORD + 1];
    while (rc == TSHOOT_OK && nw < CAUSE_MAX_WORDS && text_next_word(words, slen, &pos, &ws, &wl)) {
      int trc;
      if (wl < 2 || text_is_stopword(words + ws, wl)) continue;
      text_fold(w, words + ws, wl);
      trc = s->tok_api.xTokenize(s->tok, &ct, FTS5_TOKENIZE_QUERY, w, (int)wl, cause_term_cb);
      if (trc != SQLITE_OK)
        rc = trc == SQLITE_NOMEM ? ts_error_oom()
                                 : ts_error(TSHOOT_ERROR, "the words of causes: tokenizing '%s': %s", w,
                                            sqlite3_errstr(trc));
      nw++;
    }
  }
  if (rc == TSHOOT_OK && ct.n && rows > 0)
    rc = search_stmt_get(c, ST_CAUSES, "SELECT df, post FROM cause_term WHERE term = ?1", &st);
  for (i = 0; rc == TSHOOT_OK && st && i < ct.n; i++) {
    int src;
    sqlite3_bind_text(st, 1, ct.t[i], ct.len[i], SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
      int64_t df = sqlite3_column_int64(st, 0);
      const unsigned char *p = sqlite3_column_blob(st, 1);
      int bytes = sqlite3_column_bytes(st, 1);
      if (df < 1 || df > rows || !p ||
          cause_term_add(p, bytes, df, rows, (double)kb->cause_tokens / (double)rows, score, n) != 0)
        rc = ts_error(TSHOOT_ECORRUPT, "the words of causes: the KB file is damaged (the list of"
                      " '%.*s'); recompile it", (int)ct.len[i], ct.t[i]);
    } else if (src != SQLITE_DONE) {
      rc = search_step_error(c, src, "matching the words of causes");
    }
    sqlite3_reset(st);
  }
  if (st) sqlite3_clear_bindings(st);
  kb_conn_release(kb, c);
  ts_free(q);
  ts_free(orq);
  ts_free(sug);
  return rc;
}

TSHOOT_API size_t tshoot_results_count(const tshoot_results *r) { return r ? r->n : 0; }

TSHOOT_API const tshoot_result *tshoot_results_get(const tshoot_results *r, size_t i)
{
  return r && i < r->n ? &r->items[i] : NULL;
}

TSHOOT_API const char *tshoot_results_suggestion(const tshoot_results *r)
{
  return r ? r->suggestion : NULL;
}

TSHOOT_API const char *tshoot_results_query(const tshoot_results *r)
{
  return r ? r->query : "";
}

TSHOOT_API const char *tshoot_results_text(const tshoot_results *r)
{
  return r ? r->text : "";
}

TSHOOT_API int tshoot_results_truncated(const tshoot_results *r) { return r ? r->truncated : 0; }

TSHOOT_API void tshoot_results_free(tshoot_results *r) { ts_free(r); }
