/*
** search_rank.c: running the FTS5 query that search_query.c wrote: ranking
** and passages.
**
** Running. ts_rank(article_fts) is FTS5's bm25(article_fts, TS_FTS_WEIGHTS),
** computed the same way (fts5_aux.c of SQLite 3.40: same IDF, k1, b, order
** of operations, so the same doubles); ORDER BY it LIMIT n; score = -bm25.
** While ranking, for each row that enters the best n so far it notes where
** the row's best passage is (best_window(): from the hit list bm25 needs
** anyway); ts_where(rowid) hands that to the outer query, which joins the
** article, its source and the one text column from FTS5's content table. The
** passage is cut in C (add_snippet()). FTS5's own snippet() would tokenize
** every column and needs a second MATCH per returned row: 4-5x the cost of
** the search. Every statement (vocabulary, spelling, search) runs under
** kb_conn_arm(c, kb, 0): when the budget runs out the results are empty and
** truncated, status TSHOOT_OK. Statements are prepared once per pooled
** connection (slots KB_STMT_SEARCH_FIRST..); per connection, the data slot
** KB_CONN_DATA_SEARCH holds the synonym table, ts_rank/ts_where, two FTS5 tokenizers and scratch
** memory, so a search allocates only its result (one block) and its query
** strings.
*/
#include "search_int.h"
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char sql_docsize[] =
  "SELECT id, sz FROM article_fts_docsize WHERE id BETWEEN 1 AND ?1 ORDER BY id";
/* The search: ts_rank (below) ranks and notes the passages of the best rows;
** ts_where(id) is where the returned row's passage is: col | start << 3 |
** colsize << 32. */
static const char sql_query[] =
  "SELECT t.id, -t.r, ts_where(t.id), r.name, r.title, r.path, r.line,"
  "  CASE ts_where(t.id) & 7 WHEN 0 THEN r.title WHEN 1 THEN r.symptoms WHEN 2 THEN r.aliases"
  "  WHEN 3 THEN r.causes WHEN 4 THEN r.fixes END"
  " FROM (SELECT rowid AS id, ts_rank(article_fts) AS r"
  "       FROM article_fts WHERE article_fts MATCH ?1 ORDER BY r LIMIT ?2) AS t"
  " JOIN rank_doc AS r ON r.id = t.id"
  " ORDER BY t.r, t.id";
/* A row ranked by search_postings.c: sql_query's columns 3..6, then the
** text of the passage's column, which ts_toks_where finds from the
** article's tokens as the row is read: one lookup, and the other text
** columns (most of a row, on its overflow pages) are neither copied nor
** their pages touched. */
static const char sql_row[] =
  "SELECT r.name, r.title, r.path, r.line, CASE ts_toks_where(r.toks) WHEN 0 THEN r.title"
  " WHEN 1 THEN r.symptoms WHEN 2 THEN r.aliases WHEN 3 THEN r.causes WHEN 4 THEN r.fixes END"
  " FROM rank_doc AS r WHERE r.id = ?1";
#define ROW_TEXT 4


/* ===== document lengths =====
** bm25 needs each scored row's length. FTS5 reads it from article_fts_docsize
** with one SQL lookup per row (xColumnSize): a quarter of the time of a
** search that scores hundreds of rows (the OR fallback). The lengths are read
** once per connection instead (4 bytes an article): the same integers, summed
** from the same varints (one per column, SQLite's varint encoding), so the
** same ranks. A row missing or malformed here is left to xColumnSize. */


void search_dl_load(kb_conn *c, search_state *s, size_t articles)
{
  sqlite3_stmt *st;
  size_t i;
  int rc;
  s->dl_loaded = 1;
  if (articles == 0 || articles > ((size_t)1 << 26)) return;
  if (search_stmt_get(c, ST_DOCSIZE, sql_docsize, &st) != TSHOOT_OK) return;
  s->dl = ts_malloc((articles + 1) * sizeof *s->dl);
  if (!s->dl) { sqlite3_reset(st); return; }
  for (i = 0; i <= articles; i++) s->dl[i] = DL_UNKNOWN;
  s->ndl = articles + 1;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)articles);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    sqlite3_int64 id = sqlite3_column_int64(st, 0);
    const unsigned char *b = sqlite3_column_blob(st, 1);
    int n = sqlite3_column_bytes(st, 1), off = 0, col, k;
    uint64_t sum = 0, v;
    if (id < 1 || (size_t)id > articles || !b) continue;
    for (col = 0; col < TS_FTS_NCOLS; col++) {
      if ((k = (int)ts_varint_get(b + off, (size_t)(n - off), &v)) == 0) break;
      off += k;
      sum += v > 0x7fffffff ? 0x7fffffff : v;
    }
    if (col == TS_FTS_NCOLS && off == n && sum < DL_UNKNOWN) s->dl[id] = (uint32_t)sum;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {         /* out of time or damaged: ask FTS5 instead */
    ts_free(s->dl);
    s->dl = NULL;
    s->ndl = 0;
  }
}

/* ===== passages (snippets) =====
**
** best_window(), run by ts_rank for each row that enters the best n so far,
** reads the row's hit list (which bm25 needs anyway) and returns, as one
** integer, where the best passage of N tokens is: the window with the most
** distinct phrases, then the heavier column, then the most hits. Only for
** the rows returned is that one column tokenized (unicode61 remove_diacritics
** 2: the index's tokens, unstemmed), up to the window's end, and the tokens
** that match the query marked (see hl_set); marked tokens separated by no
** space (kofmsp.dll) share one mark. The passage is written twice: plain,
** with the marks as byte ranges (tshoot_result.passage/marks), and with the
** caller's mark strings (snippet). Both keep the ASCII punctuation that
** touches the window's first and last words ("[ERROR]", "[code 5]"), unless
** it is glued to a word left out (".dll" of a cut "kofmsp.dll"). */

static const int col_weight[TS_FTS_NCOLS] = TS_FTS_WEIGHT_INTS;

sqlite3_int64 search_pick_window(const int *ip, const int *ic, const int *io, int ninst,
                                 int nphrase, int n, const int *colsize)
{
  int i, j, k;
  int best = -1, best_start = 0, sorted = 1, csize;
  long best_score = -1;
  if (n < 1) n = 1;
  if (n > SNIPPET_MAX) n = SNIPPET_MAX;
  if (ninst <= 0) return -1;
  if (ninst > SEARCH_HITS_MAX) ninst = SEARCH_HITS_MAX;
  for (i = 1; i < ninst; i++)
    if (ic[i] < ic[i - 1] || (ic[i] == ic[i - 1] && io[i] < io[i - 1])) sorted = 0;
  if (sorted) {
    /* one pass: a window [io[i] - n/4, +n) per hit, two pointers, counts
    ** of each phrase in the window */
    int lo = 0, hi = 0, distinct = 0;
    unsigned char cnt[64];
    memset(cnt, 0, sizeof cnt);
    for (i = 0; i < ninst; i++) {
      int start = io[i] > n / 4 ? io[i] - n / 4 : 0;
      long score;
      while (lo < i && (ic[lo] != ic[i] || io[lo] < start)) {
        if (lo < hi && --cnt[ip[lo] < 63 ? ip[lo] : 63] == 0) distinct--;
        lo++;
      }
      if (hi < lo) hi = lo;
      while (hi < ninst && ic[hi] == ic[i] && io[hi] < start + n) {
        if (cnt[ip[hi] < 63 ? ip[hi] : 63]++ == 0) distinct++;
        hi++;
      }
      score = (long)distinct * 100000 + (ic[i] < TS_FTS_NCOLS ? col_weight[ic[i]] : 0) * 1000 +
              (hi - lo);
      if (score > best_score) { best_score = score; best = i; best_start = start; }
      /* columns come in order of weight: no later window beats one with
      ** every phrase */
      if (distinct >= nphrase && hi < ninst && ic[hi] != ic[i]) break;
      if (distinct >= nphrase && ic[i] == 0) break;
    }
  } else {
    if (ninst > 32) ninst = 32;
    for (i = 0; i < ninst; i++) {
      int start = io[i] > n / 4 ? io[i] - n / 4 : 0, hits = 0;
      uint64_t mask = 0;
      long score;
      for (j = 0; j < ninst; j++)
        if (ic[j] == ic[i] && io[j] >= start && io[j] < start + n) {
          mask |= (uint64_t)1 << (ip[j] < 63 ? ip[j] : 63);
          hits++;
        }
      for (k = 0; mask; k++) mask &= mask - 1;
      score = (long)k * 100000 + (ic[i] < TS_FTS_NCOLS ? col_weight[ic[i]] : 0) * 1000 + hits;
      if (score > best_score) { best_score = score; best = i; best_start = start; }
    }
  }
  if (best < 0 || ic[best] < 0 || ic[best] >= TS_FTS_NCOLS) return -1;
  csize = colsize[ic[best]];
  if (best_start + n > csize) best_start = csize > n ? csize - n : 0;
  if (best_start < 0 || best_start >= (1 << 28) || csize < 0) return -1;
  return SEARCH_WHERE(ic[best], best_start, csize);
}

/* The same for the current row of an FTS5 query: its hits from xInst. */
static sqlite3_int64 best_window(const Fts5ExtensionApi *api, Fts5Context *fts, int n)
{
  int ninst = 0, i, colsize[TS_FTS_NCOLS];
  int ip[SEARCH_HITS_MAX], ic[SEARCH_HITS_MAX], io[SEARCH_HITS_MAX];
  if (api->xInstCount(fts, &ninst) != SQLITE_OK || ninst <= 0) return -1;
  if (ninst > SEARCH_HITS_MAX) ninst = SEARCH_HITS_MAX;
  for (i = 0; i < ninst; i++)
    if (api->xInst(fts, i, &ip[i], &ic[i], &io[i]) != SQLITE_OK) return -1;
  for (i = 0; i < TS_FTS_NCOLS; i++)
    if (api->xColumnSize(fts, i, &colsize[i]) != SQLITE_OK) return -1;
  return search_pick_window(ip, ic, io, ninst, api->xPhraseCount(fts), n, colsize);
}

/* ts_rank(article_fts): FTS5's bm25(article_fts, TS_FTS_WEIGHTS), computed
** the same way (fts5_aux.c, SQLite 3.40), and, for a row that enters the best
** `limit` so far, where its passage is (into s->top, for ts_where). */
typedef struct rank_data {
  int nphrase;
  double avgdl;
  double *idf, *freq;
} rank_data;

static int count_cb(const Fts5ExtensionApi *api, Fts5Context *fts, void *arg)
{
  (void)api;
  (void)fts;
  (*(sqlite3_int64 *)arg)++;
  return SQLITE_OK;
}

static int rank_data_get(const Fts5ExtensionApi *api, Fts5Context *fts, rank_data **out)
{
  rank_data *p = api->xGetAuxdata(fts, 0);
  int rc = SQLITE_OK, i;
  if (!p) {
    sqlite3_int64 nrow = 0, ntoken = 0;
    int nphrase = api->xPhraseCount(fts);
    p = sqlite3_malloc64(sizeof *p + sizeof(double) * 2 * (size_t)(nphrase > 0 ? nphrase : 1));
    if (!p) return SQLITE_NOMEM;
    p->nphrase = nphrase;
    p->idf = (double *)&p[1];
    p->freq = &p->idf[nphrase];
    rc = api->xRowCount(fts, &nrow);
    if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &ntoken);
    if (rc == SQLITE_OK) p->avgdl = (double)ntoken / (double)nrow;
    for (i = 0; rc == SQLITE_OK && i < nphrase; i++) {
      sqlite3_int64 nhit = 0;
      rc = api->xQueryPhrase(fts, i, (void *)&nhit, count_cb);
      if (rc == SQLITE_OK) {
        double idf = log((nrow - nhit + 0.5) / (nhit + 0.5));
        if (idf <= 0.0) idf = 1e-6;
        p->idf[i] = idf;
      }
    }
    if (rc == SQLITE_OK) rc = api->xSetAuxdata(fts, p, sqlite3_free);
    else sqlite3_free(p);
    if (rc != SQLITE_OK) p = NULL;
  }
  *out = p;
  return rc;
}

static void heap_down(double *h, size_t n, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    double t;
    if (l < n && h[l] > h[m]) m = l;
    if (r < n && h[r] > h[m]) m = r;
    if (m == i) return;
    t = h[i]; h[i] = h[m]; h[m] = t;
    i = m;
  }
}

static void heap_up(double *h, size_t i)
{
  while (i > 0 && h[(i - 1) / 2] < h[i]) {
    double t = h[i];
    h[i] = h[(i - 1) / 2];
    h[(i - 1) / 2] = t;
    i = (i - 1) / 2;
  }
}

static void ts_rank_fn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                       int nval, sqlite3_value **val)
{
  const double k1 = TS_BM25_K1, b = TS_BM25_B;
  search_state *s = api->xUserData(fts);
  rank_data *d;
  double score = 0.0, dl = 0.0, r;
  int rc = rank_data_get(api, fts, &d), ninst = 0, i;
  (void)nval;
  (void)val;
  if (rc == SQLITE_OK) {
    memset(d->freq, 0, sizeof(double) * (size_t)d->nphrase);
    rc = api->xInstCount(fts, &ninst);
  }
  for (i = 0; rc == SQLITE_OK && i < ninst; i++) {
    int ip, ic, io;
    rc = api->xInst(fts, i, &ip, &ic, &io);
    if (rc == SQLITE_OK) d->freq[ip] += ic >= 0 && ic < TS_FTS_NCOLS ? s->weight[ic] : 1.0;
  }
  if (rc == SQLITE_OK) {
    int ntok;
    sqlite3_int64 id = api->xRowid(fts);
    if (id > 0 && (size_t)id < s->ndl && s->dl[id] != DL_UNKNOWN) {
      dl = (double)s->dl[id];
    } else {
      rc = api->xColumnSize(fts, -1, &ntok);
      dl = (double)ntok;
    }
  }
  for (i = 0; rc == SQLITE_OK && i < d->nphrase; i++)
    score += d->idf[i] * ((d->freq[i] * (k1 + 1.0)) / (d->freq[i] + k1 * (1 - b + b * dl / d->avgdl)));
  if (rc != SQLITE_OK) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  r = -1.0 * score;
  if (s->limit > 0 && (s->nheap < (size_t)s->limit || r <= s->heap[0])) {
    if (s->nheap < (size_t)s->limit) {
      s->heap[s->nheap] = r;
      heap_up(s->heap, s->nheap++);
    } else {
      s->heap[0] = r;
      heap_down(s->heap, s->nheap, 0);
    }
    if (s->ntop >= s->top_cap) { /* keep only rows that can still be returned */
      size_t j, k = 0;
      for (j = 0; j < s->ntop; j++)
        if (s->top[j].r <= s->heap[0]) s->top[k++] = s->top[j];
      s->ntop = k;
      if (s->ntop >= s->top_cap &&
          ts_grow((void **)&s->top, &s->top_cap, s->ntop + 1, sizeof *s->top) < 0) {
        sqlite3_result_error_nomem(ctx);
        return;
      }
    }
    s->top[s->ntop].rowid = api->xRowid(fts);
    s->top[s->ntop].r = r;
    s->top[s->ntop].where = best_window(api, fts, s->tokens);
    s->ntop++;
  }
  sqlite3_result_double(ctx, r);
}

/* ts_where(rowid): the passage ts_rank noted for a returned row, or NULL. */
static void ts_where_fn(sqlite3_context *ctx, int nval, sqlite3_value **val)
{
  search_state *s = sqlite3_user_data(ctx);
  sqlite3_int64 id = sqlite3_value_int64(val[0]);
  size_t i;
  (void)nval;
  for (i = s->ntop; i-- > 0;)
    if (s->top[i].rowid == id) {
      if (s->top[i].where >= 0) sqlite3_result_int64(ctx, s->top[i].where);
      return;
    }
}

/* ts_toks_where(toks): where the passage of the row sql_row reads is, from
** the article's tokens (search_postings_where), noted in s->row_*; its
** column (NULL: no passage), for the statement to read that column alone. */
static void ts_toks_where_fn(sqlite3_context *ctx, int nval, sqlite3_value **val)
{
  search_state *s = sqlite3_user_data(ctx);
  const void *toks = sqlite3_value_blob(val[0]);
  (void)nval;
  s->row_where = search_postings_where(s, toks, sqlite3_value_bytes(val[0]), s->row_tokens,
                                       &s->row_from, &s->row_tok0);
  if (s->row_where >= 0) sqlite3_result_int(ctx, (int)SEARCH_WHERE_COL(s->row_where));
}

/* Register ts_rank and ts_where and make the tokenizer, once per connection. */
static int fts5_setup(kb_conn *c, search_state *s)
{
  fts5_api *api = NULL;
  void *ud = NULL;
  const char *args[] = { "unicode61", "remove_diacritics", "2" };
  int i, rc = kb_fts5_api(c->db, &api);
  if (rc != SQLITE_OK) return search_step_error(c, rc, "setting up FTS5");
  if (!api) return ts_error(TSHOOT_ERROR, "setting up FTS5: this SQLite has no usable fts5_api");
  {
    const char *w = TS_FTS_WEIGHTS;
    char *e;
    for (i = 0; i < TS_FTS_NCOLS; i++) {
      s->weight[i] = strtod(w, &e);
      w = e;
      while (*w == ',' || *w == ' ') w++;
    }
  }
  rc = api->xCreateFunction(api, "ts_rank", s, ts_rank_fn, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(c->db, "ts_where", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, s,
                                    ts_where_fn, NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(c->db, "ts_toks_where", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, s,
                                    ts_toks_where_fn, NULL, NULL, NULL);
  s->tok = s->raw_tok = NULL;
  if (rc == SQLITE_OK) rc = api->xFindTokenizer(api, "porter", &ud, &s->tok_api);
  if (rc == SQLITE_OK) rc = s->tok_api.xCreate(ud, args, 3, &s->tok);
  if (rc == SQLITE_OK) rc = api->xFindTokenizer(api, "unicode61", &ud, &s->raw_api);
  if (rc == SQLITE_OK) rc = s->raw_api.xCreate(ud, args + 1, 2, &s->raw_tok);
  if (rc != SQLITE_OK) {
    if (s->tok) s->tok_api.xDelete(s->tok);
    if (s->raw_tok) s->raw_api.xDelete(s->raw_tok);
    s->tok = s->raw_tok = NULL;
    return rc == SQLITE_NOMEM ? ts_error_oom()
                              : ts_error(TSHOOT_ERROR, "setting up FTS5: %s", sqlite3_errstr(rc));
  }
  s->fts5_ready = 1;
  return TSHOOT_OK;
}

int search_fts5_ready(kb_conn *c, search_state *s)
{
  return s->fts5_ready ? TSHOOT_OK : fts5_setup(c, s);
}

/* The query that ran, to mark in passages: each token of its quoted strings
** as typed (folded by unicode61) and as stemmed by the index's porter. A
** passage token (unicode61, not stemmed: cheaper) is marked when it equals a
** query token or extends its stem by at most 4 bytes (profile, profiles for
** profil), or extends the stem of the prefix term by any number. */
#define HL_MAX 64
typedef struct hl_set {
  int n, fill;
  unsigned char len[HL_MAX], rlen[HL_MAX], prefix[HL_MAX];
  char t[HL_MAX][TEXT_MAX_WORD], r[HL_MAX][TEXT_MAX_WORD];
} hl_set;

static int hl_raw_cb(void *ctx, int flags, const char *t, int nt, int b0, int b1)
{
  hl_set *h = ctx;
  (void)flags;
  (void)b0;
  (void)b1;
  if (h->n < HL_MAX) {
    int l = nt > 0 && nt <= TEXT_MAX_WORD ? nt : 0;
    memcpy(h->r[h->n], t, (size_t)l);
    h->rlen[h->n] = (unsigned char)l;
    h->len[h->n] = 0;
    h->prefix[h->n] = 0;
    h->n++;
  }
  return SQLITE_OK;
}

static int hl_stem_cb(void *ctx, int flags, const char *t, int nt, int b0, int b1)
{
  hl_set *h = ctx;
  (void)flags;
  (void)b0;
  (void)b1;
  if (h->fill < h->n) {
    int l = nt > 0 && nt <= TEXT_MAX_WORD ? nt : 0;
    memcpy(h->t[h->fill], t, (size_t)l);
    h->len[h->fill] = (unsigned char)l;
    h->fill++;
  }
  return SQLITE_OK;
}

/* The tokens of every quoted string of q (which search_query.c wrote). */
static void hl_prepare(search_state *s, hl_set *h, const char *q)
{
  char str[(TEXT_MAX_WORD + 1) * SEARCH_MAX_SCAN + 1];
  h->n = 0;
  while (*q) {
    size_t n = 0;
    int before;
    if (*q != '"') { q++; continue; }
    for (q++; *q; q++) {
      if (*q == '"') {
        if (q[1] != '"') break;
        q++;
      }
      if (n < sizeof str - 1) str[n++] = *q;
    }
    if (*q) q++;
    before = h->fill = h->n;
    s->raw_api.xTokenize(s->raw_tok, h, FTS5_TOKENIZE_QUERY, str, (int)n, hl_raw_cb);
    s->tok_api.xTokenize(s->tok, h, FTS5_TOKENIZE_QUERY, str, (int)n, hl_stem_cb);
    if (*q == '*' && h->n > before) h->prefix[h->n - 1] = 1;
  }
}

typedef struct tok_span {
  const hl_set *hl;
  int want0, want1, idx;     /* tokens [want0, want1) wanted; next index */
  int base;                  /* the text tokenized starts this many bytes in */
  int b0[SNIPPET_MAX], b1[SNIPPET_MAX];
  unsigned char hit[SNIPPET_MAX];
} tok_span;

static int tok_cb(void *ctx, int flags, const char *t, int nt, int b0, int b1)
{
  tok_span *sp = ctx;
  if (flags & FTS5_TOKEN_COLOCATED) return SQLITE_OK;
  if (sp->idx >= sp->want0 && sp->idx - sp->want0 < SNIPPET_MAX) {
    const hl_set *h = sp->hl;
    int k = sp->idx - sp->want0, i, hit = 0;
    sp->b0[k] = sp->base + b0;
    sp->b1[k] = sp->base + b1;
    for (i = 0; i < h->n && !hit && nt > 0; i++) {
      int l = h->len[i];
      hit = (h->rlen[i] == nt && h->r[i][0] == t[0] && memcmp(h->r[i], t, (size_t)nt) == 0) ||
            (l > 0 && l <= nt && (h->prefix[i] || nt - l <= 4) && h->t[i][0] == t[0] &&
             memcmp(h->t[i], t, (size_t)l) == 0);
    }
    sp->hit[k] = (unsigned char)hit;
  }
  sp->idx++;
  return sp->idx >= sp->want1 ? SQLITE_DONE : SQLITE_OK;
}

/* Bytes kept around a passage's words: ASCII punctuation ("[ERROR]:"). */
static int punct(unsigned char c)
{
  return c > 0x20 && c < 0x7f && !(c >= '0' && c <= '9') && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Append n bytes of an article's text to s->scratch on one line: line
** breaks and other control bytes as spaces. */
static void add_text(search_state *s, const char *t, size_t n)
{
  const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  size_t at = s->scratch.len, i = 0, k;
  char *o;
  ts_buf_add(&s->scratch, t, n);
  if (s->scratch.oom) return;
  o = s->scratch.p + at;
  for (; i + 8 <= n; i += 8) {       /* 8 bytes at a time: one below 0x20, or 0x7f? */
    uint64_t x, y;
    memcpy(&x, o + i, sizeof x);
    y = x ^ (0x7f * ones);
    if (!(((x - 0x20 * ones) & ~x & highs) | ((y - ones) & ~y & highs))) continue;
    for (k = i; k < i + 8; k++)
      if ((unsigned char)o[k] < 0x20 || o[k] == 0x7f) o[k] = ' ';
  }
  for (; i < n; i++)
    if ((unsigned char)o[i] < 0x20 || o[i] == 0x7f) o[i] = ' ';
}

/* Close a mark: record the span from `open` to here (offsets from `base`). */
static void close_mark(search_state *s, size_t open, size_t base)
{
  if (ts_grow((void **)&s->marks, &s->marks_cap, s->nmarks + 1, sizeof *s->marks) < 0)
    s->scratch.oom = 1;
  else {
    s->marks[s->nmarks].start = open;
    s->marks[s->nmarks++].end = s->scratch.len - base;
  }
}

/* Append the n tokens of sp, with the punctuation that touches them, to
** s->scratch (add_text: on one line), plain, with each mark as a span
** (offsets from `base`) into s->marks (emit_marked adds the marked copy).
** Marked tokens separated by no space share one mark. */
static void emit_passage(search_state *s, const tok_span *sp, int n, int cut0, int cut1,
                         const char *text, int tl, size_t base)
{
  int k, a = sp->b0[0], z = sp->b1[n - 1], from;
  size_t open = 0;
  while (a > 0 && punct((unsigned char)text[a - 1])) a--;
  while (z < tl && punct((unsigned char)text[z])) z++;
  /* punctuation glued to a word left out belongs to that word (".dll") */
  if (a > 0 && !(text[a - 1] == ' ' || text[a - 1] == '\t' || text[a - 1] == '\n' ||
                 text[a - 1] == '\r')) a = sp->b0[0];
  if (z < tl && !(text[z] == ' ' || text[z] == '\t' || text[z] == '\n' || text[z] == '\r'))
    z = sp->b1[n - 1];
  if (cut0) ts_buf_adds(&s->scratch, "...");
  from = a;                   /* text [from, ...) is not copied yet */
  for (k = 0; k < n; k++) {
    int glued = 0;
    if (k > 0) {
      const char *g = text + sp->b1[k - 1];
      int gl = sp->b0[k] - sp->b1[k - 1], i;
      glued = sp->hit[k - 1] && sp->hit[k];
      for (i = 0; i < gl && glued; i++)
        if (g[i] == ' ' || g[i] == '\t' || g[i] == '\n' || g[i] == '\r') glued = 0;
      if (sp->hit[k - 1] && !glued) {  /* the mark closes after the last token */
        add_text(s, text + from, (size_t)(sp->b1[k - 1] - from));
        from = sp->b1[k - 1];
        close_mark(s, open, base);
      }
    }
    if (sp->hit[k] && !glued) {        /* and opens before this one */
      add_text(s, text + from, (size_t)(sp->b0[k] - from));
      from = sp->b0[k];
      open = s->scratch.len - base;
    }
  }
  if (sp->hit[n - 1]) {
    add_text(s, text + from, (size_t)(sp->b1[n - 1] - from));
    from = sp->b1[n - 1];
    close_mark(s, open, base);
  }
  add_text(s, text + from, (size_t)(z - from));
  if (cut1) ts_buf_adds(&s->scratch, "...");
}

/* The marked passage, from the plain one at s->scratch[plain, plain + len)
** and its nm marks (offsets into it): mo before and mc after each, the
** bytes between copied as they are (emit_passage put the same text at the
** same places; walking the tokens again cost ~1,300 instructions a result). */
static void emit_marked(search_state *s, size_t plain, size_t len, const tshoot_span *m, size_t nm,
                        const char *mo, const char *mc)
{
  size_t lo = strlen(mo), lc = strlen(mc), at = 0, i;
  if (ts_buf_reserve(&s->scratch, len + nm * (lo + lc)) < 0) return;
  for (i = 0; i < nm; i++) {     /* the buffer does not move: each add copies from before it */
    ts_buf_add(&s->scratch, s->scratch.p + plain + at, m[i].start - at);
    ts_buf_add(&s->scratch, mo, lo);
    ts_buf_add(&s->scratch, s->scratch.p + plain + m[i].start, m[i].end - m[i].start);
    ts_buf_add(&s->scratch, mc, lc);
    at = m[i].end;
  }
  ts_buf_add(&s->scratch, s->scratch.p + plain + at, len - at);
}

static _Atomic unsigned long from_checkpoint;

unsigned long search_passages_from_checkpoint(void) { return from_checkpoint; }

/* Append to s->scratch the passage that `where` (from ts_where) names in
** `text`, its column, for row r: plain (r->passage, its marks into s->marks),
** then marked (r->snippet); each NUL-terminated. The column's token tok0
** starts `from` bytes in (0, 0: tokenize from the start). */
static int add_snippet(search_state *s, row_ref *r, const hl_set *hl, sqlite3_int64 where,
                       int tokens, const char *text, int tl, int from, int tok0, const char *mo,
                       const char *mc)
{
  tok_span sp;
  int rc, n = 0, start = SEARCH_WHERE_START(where), colsize = SEARCH_WHERE_COLSIZE(where);
  if (from < 0 || from > tl || tok0 < 0 || tok0 > start) from = tok0 = 0;
  r->passage = s->scratch.len;
  r->mark0 = s->nmarks;
  r->nmark = 0;
  if (text && where >= 0) {
    memset(&sp, 0, sizeof sp);
    sp.hl = hl;
    sp.want0 = start;
    sp.want1 = start + tokens < colsize ? start + tokens : colsize;
    sp.idx = tok0;
    sp.base = from;
    if (tok0 > 0) from_checkpoint++;
    if (sp.want1 > start) {
      rc = s->raw_api.xTokenize(s->raw_tok, &sp, FTS5_TOKENIZE_DOCUMENT, text + from, tl - from,
                                tok_cb);
      if (rc != SQLITE_OK && rc != SQLITE_DONE)
        return rc == SQLITE_NOMEM ? ts_error_oom() : ts_error(TSHOOT_ERROR, "cutting a passage");
      n = (sp.idx < sp.want1 ? sp.idx : sp.want1) - start;   /* tokens found in the window */
    }
  }
  if (n > 0) emit_passage(s, &sp, n, start > 0, start + n < colsize, text, tl, r->passage);
  ts_buf_addc(&s->scratch, '\0');
  r->nmark = s->nmarks - r->mark0;
  r->snippet = s->scratch.len;
  if (n > 0 && !s->scratch.oom)
    emit_marked(s, r->passage, r->snippet - 1 - r->passage, s->marks + r->mark0, r->nmark, mo, mc);
  ts_buf_addc(&s->scratch, '\0');
  return TSHOOT_OK;
}

/* Row r from the current row of st: name, title, path, line at columns
** k..k+3, and the passage's text at column tcol of the current row of ts;
** where = its passage or -1, from / tok0 as add_snippet's. */
static int add_row(search_state *s, row_ref *r, sqlite3_stmt *st, int k, sqlite3_stmt *ts,
                   int tcol, sqlite3_int64 where, int from, int tok0, const hl_set *hl,
                   int tokens, const char *mo, const char *mc)
{
  int col;
  size_t *offs[3];
  offs[0] = &r->name;
  offs[1] = &r->title;
  offs[2] = &r->file;
  for (col = 0; col < 3; col++) {
    const char *v = (const char *)sqlite3_column_text(st, k + col);
    size_t vl = v ? (size_t)sqlite3_column_bytes(st, k + col) : 0;
    *offs[col] = s->scratch.len;
    ts_buf_add(&s->scratch, v ? v : "", vl);
    ts_buf_addc(&s->scratch, '\0');
  }
  r->line = sqlite3_column_int(st, k + 3);
  {
    const char *text = where >= 0 ? (const char *)sqlite3_column_text(ts, tcol) : NULL;
    int tl = text ? sqlite3_column_bytes(ts, tcol) : 0;
    return add_snippet(s, r, hl, text ? where : -1, tokens, text, tl, from, tok0, mo, mc);
  }
}

/* The rows of articles that search_postings.c ranked. */
static int postings_rows(kb_conn *c, search_state *s, const search_hit *h, size_t nh,
                         const hl_set *hl, int tokens, const char *mo, const char *mc,
                         size_t *n_out)
{
  sqlite3_stmt *st;
  size_t i, n = 0;
  int rc = search_stmt_get(c, ST_ROW, sql_row, &st);
  if (rc != TSHOOT_OK) return rc;
  s->row_tokens = tokens;       /* for ts_toks_where */
  for (i = 0; i < nh; i++) {
    row_ref *r;
    sqlite3_int64 where;
    int from, tok0;
    if (ts_grow((void **)&s->rows, &s->rows_cap, n + 1, sizeof *s->rows) < 0) return ts_error_oom();
    sqlite3_bind_int64(st, 1, h[i].id);
    s->row_where = -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) { sqlite3_reset(st); continue; }  /* as the FTS5 path's JOIN */
    if (rc != SQLITE_ROW) {
      sqlite3_reset(st);
      return search_step_error(c, rc, "searching the KB");
    }
    r = &s->rows[n];
    r->id = h[i].id;
    r->score = h[i].score;
    where = s->row_where;         /* ts_toks_where's, as the row was read */
    from = s->row_from;
    tok0 = s->row_tok0;
    rc = add_row(s, r, st, 0, st, ROW_TEXT, where, from, tok0, hl, tokens, mo, mc);
    sqlite3_reset(st);
    if (rc != TSHOOT_OK) return rc;
    n++;
  }
  if (s->scratch.oom) {
    ts_buf_free(&s->scratch);
    return ts_error_oom();
  }
  *n_out = n;
  return TSHOOT_OK;
}

/* Run query q; rows into s->rows / s->scratch. *n_out rows. */
int search_run_query(kb_conn *c, search_state *s, const char *q, const char *mo,
                     const char *mc, int tokens, int limit, size_t *n_out)
{
  sqlite3_stmt *st;
  size_t n = 0;
  int rc;
  hl_set hl;
  *n_out = 0;
  ts_buf_reset(&s->scratch);
  s->nmarks = 0;
  rc = search_fts5_ready(c, s);
  if (rc != TSHOOT_OK) return rc;
  hl_prepare(s, &hl, q);
  if (!(s->flags & SEARCH_FLAG_FTS5_RANK)) {
    search_hit *hits;
    size_t nh;
    rc = search_postings_rank(c, s, q, limit, &hits, &nh);
    if (rc == TSHOOT_OK) return postings_rows(c, s, hits, nh, &hl, tokens, mo, mc, n_out);
    if (rc != 1) return rc;
  }
  rc = search_stmt_get(c, ST_QUERY, sql_query, &st);   /* FTS5 ranks this one */
  if (rc != TSHOOT_OK) return rc;
  if (ts_grow((void **)&s->heap, &s->heap_cap, (size_t)limit, sizeof *s->heap) < 0 ||
      (!s->top && ts_grow((void **)&s->top, &s->top_cap, 64, sizeof *s->top) < 0))
    return ts_error_oom();
  s->limit = limit;
  s->tokens = tokens;
  s->nheap = s->ntop = 0;
  sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, limit);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    row_ref *r;
    if (ts_grow((void **)&s->rows, &s->rows_cap, n + 1, sizeof *s->rows) < 0) {
      sqlite3_reset(st);
      return ts_error_oom();
    }
    r = &s->rows[n];
    r->id = sqlite3_column_int64(st, 0);
    r->score = sqlite3_column_double(st, 1);
    rc = add_row(s, r, st, 3, st, 7,
                 sqlite3_column_type(st, 2) == SQLITE_INTEGER ? sqlite3_column_int64(st, 2) : -1,
                 0, 0, &hl, tokens, mo, mc);
    if (rc != TSHOOT_OK) {
      sqlite3_reset(st);
      return rc;
    }
    n++;
  }
  sqlite3_reset(st);
  if (s->scratch.oom) {
    ts_buf_free(&s->scratch);
    return ts_error_oom();
  }
  if (rc != SQLITE_DONE) return search_step_error(c, rc, "searching the KB");
  *n_out = n;
  return TSHOOT_OK;
}
