/*
** kb_rank_write.c: the ranking data a compiled KB carries beside article_fts,
** so that search (search_postings.c) ranks in C what FTS5 would rank, with the
** same numbers, without re-reading FTS5's index per query. Written once, after
** article_fts is complete and optimized, from FTS5's own view of its index
** (an fts5vocab 'instance' table: every token as FTS5 stored it, so the terms,
** columns and offsets are FTS5's, not a second tokenizer's guess). That runs
** on the index's own thread, in the database it built article_fts in
** (kb_rank_build, kb_write.c's fts_worker), and the tables are copied in with
** the index (kb_rank_copy), rank_doc then joined with the model's rows.
**
**  rank_term(term, id, df, hdf)  every indexed term (porter stem) in byte
**        order; id = its rank in that order (so the terms with a prefix are one
**        range of ids); df = articles that hold it, hdf = articles that hold it
**        in title, symptoms or aliases (the OR fallback's first pass).
**  rank_post(id, post)  the term's postings, in article order (see below).
**  rank_pos(id, pos)    the term's positions, posting by posting: their count,
**        then each (column << 24 | token offset) as the difference from the
**        one before (from 0); read only to match a phrase of several words.
**  rank_doc(id, name, title, path, line, toks, symptoms, aliases, causes,
**        fixes)   what a search returns of an article: its name, source path
**        and line (copied from article and source, so that a result costs
**        one lookup, not three), its tokens as term ids, column by column
**        (where a query's terms sit, for the passage of a returned article),
**        and its text as article_fts indexed it (title .. fixes: article_fts's
**        content; a passage is cut from one of those columns; kb_write.c
**        keeps the text aside in stage.text until this row is written).
**
** A posting list (rank_post.post), all integers as SQLite varints:
**     n, nblk, then nblk skip entries of 16 bytes (little-endian u32: the last
**     article of the block, u32: the block's byte offset after the skip table,
**     two floats: the largest bm25 frequency part of its postings, over all
**     columns and over the first three, rounded up),
**     then the postings, RANK_BLOCK per block: (article - previous article,
**     wtf, hwtf), where the previous article of a block's first posting is the
**     last article of the block before (0 for the first block).
** wtf is the term's frequency in the article weighted as bm25 weighs columns
** (TS_FTS_WEIGHTS are integers: 10 8 6 2 1), hwtf the same over the first
** three columns only. So score = idf * wtf(k1+1)/(wtf + k1(1-b+b dl/avgdl))
** is FTS5's bm25 for a one-token phrase, to the bit.
**
** A rank_doc blob (toks): for each of the TS_FTS_NCOLS columns, the number of
** tokens (a varint) then each token's term id in 3 bytes, little-endian (a
** fixed width: placing a passage walks every token of an article, and
** varints of one to three bytes made that walk branch unpredictably); then
** for each column, where its tokens 0, RANK_CHECKPOINT, 2 RANK_CHECKPOINT ...
** start in its text (byte offsets, each the difference from the one before,
** from 0; varints).
*/
#include "kb.h"
#include "kb_schema.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

/* The forward index of at most this many tokens is held at once (64 MB); a
** larger KB is read from FTS5 again per slice of articles (each pass ~13 s of
** CPU at 100k). Past FWD_MAX_SLICES slices a slice grows instead: 1M
** articles would otherwise read the whole index 18 times. */
#define FWD_SLICE_TOKENS ((size_t)1 << 24)
#define FWD_MAX_SLICES 4

typedef struct rw {
  sqlite3 *db;
  int rc;
  sqlite3_stmt *ins_term, *ins_post, *ins_doc, *ins_pos, *sel_cp;
  /* articles [1, ndoc]: tokens per column (from article_fts_docsize) */
  sqlite3_int64 ndoc;
  uint32_t *colsz;            /* colsz[doc * NCOLS + col] */
  uint64_t ntok;              /* tokens of all articles */
  double avgdl;               /* tokens per article (bm25's mean length) */
  /* the slice of the forward index being filled: articles [lo, hi) */
  sqlite3_int64 lo, hi;
  size_t *base;               /* base[doc - lo]: first token of the article */
  uint32_t *fwd;
  ts_buf post, body;
} rw;

static const int w_int[TS_FTS_NCOLS] = TS_FTS_WEIGHT_INTS;

static int rw_fail(rw *w, int rc, const char *what)
{
  if (w->rc == TSHOOT_OK) w->rc = kb_sqlite_error(w->db, rc, what);
  return w->rc;
}

static void put_varint(ts_buf *b, uint64_t v)
{
  char out[10];
  int n = 1, i;
  uint64_t x;
  if (v > 0x00ffffffffffffffULL) v = 0x00ffffffffffffffULL; /* never: ids are small */
  for (x = v >> 7; x; x >>= 7) n++;          /* 7 bits a byte, the high bit: more */
  for (i = n - 1; i >= 0; i--, v >>= 7) out[i] = (char)((v & 0x7f) | (i < n - 1 ? 0x80 : 0));
  if (!b->oom && b->p && b->cap - b->len > (size_t)n) {  /* room: no call (millions of these) */
    for (i = 0; i < n; i++) b->p[b->len + (size_t)i] = out[i];
    b->len += (size_t)n;
    b->p[b->len] = '\0';
  } else {
    ts_buf_add(b, out, (size_t)n);
  }
}

/* v's low n bytes, little-endian (a skip entry's u32s, a token's 3-byte id). */
static void put_le(ts_buf *b, uint32_t v, int n)
{
  char t[4];
  int i;
  for (i = 0; i < n; i++) t[i] = (char)((v >> (8 * i)) & 0xff);
  ts_buf_add(b, t, (size_t)n);
}

static void put_f32(ts_buf *b, float f)
{
  uint32_t v;
  memcpy(&v, &f, sizeof v);
  put_le(b, v, 4);
}

/* An upper bound of bm25's frequency part, f(k1+1) / (f + k1(1-b+b dl/avgdl)),
** for a weighted frequency f in article d: computed in double as search does,
** then rounded up to a float (search multiplies it by the IDF and skips
** what cannot reach the best results; see search_postings.c). */
static float part_up(const rw *w, uint32_t d, uint32_t f)
{
  const double k1 = TS_BM25_K1, b = TS_BM25_B;
  double dl = 0, fr = (double)f, v;
  float r;
  int col;
  if (f == 0) return 0.0f;
  for (col = 0; col < TS_FTS_NCOLS; col++) dl += w->colsz[(size_t)d * TS_FTS_NCOLS + col];
  v = (fr * (k1 + 1.0)) / (fr + k1 * (1 - b + b * dl / w->avgdl));
  r = (float)v;
  if ((double)r < v) r = nextafterf(r, 3.0f);
  return r;
}

/* The column sizes of every article. */
static int read_sizes(rw *w)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(w->db, "SELECT max(id) FROM article_fts_docsize", -1, &st, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    w->ndoc = sqlite3_column_int64(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_OK) return rw_fail(w, rc, "reading article sizes");
  if (w->ndoc < 0 || w->ndoc > ((sqlite3_int64)1 << 26))
    return w->rc = ts_error(TSHOOT_ERROR, "indexing: %lld articles is more than tshoot ranks",
                            (long long)w->ndoc);
  w->colsz = ts_calloc((size_t)(w->ndoc + 1) * TS_FTS_NCOLS, sizeof *w->colsz);
  if (!w->colsz) return w->rc = ts_error_oom();
  rc = sqlite3_prepare_v2(w->db, "SELECT id, sz FROM article_fts_docsize", -1, &st, NULL);
  while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    sqlite3_int64 id = sqlite3_column_int64(st, 0);
    const unsigned char *b = sqlite3_column_blob(st, 1);
    int n = sqlite3_column_bytes(st, 1), off = 0, col, k;
    uint64_t v;
    if (id < 1 || id > w->ndoc) continue;
    if (!b && n > 0) { rc = SQLITE_NOMEM; break; }
    for (col = 0; col < TS_FTS_NCOLS && b; col++) {
      if ((k = (int)ts_varint_get(b + off, (size_t)(n - off), &v)) == 0) {
        rc = SQLITE_CORRUPT;         /* FTS5 wrote this very blob: never */
        break;
      }
      off += k;
      w->colsz[id * TS_FTS_NCOLS + col] = v > 0x7fffffff ? 0x7fffffff : (uint32_t)v;
    }
    if (rc == SQLITE_CORRUPT) break;
  }
  if (rc == SQLITE_DONE) rc = SQLITE_OK;
  sqlite3_finalize(st);
  if (rc != SQLITE_OK) return rw_fail(w, rc, "reading article sizes");
  {
    size_t i;
    for (i = TS_FTS_NCOLS; i < (size_t)(w->ndoc + 1) * TS_FTS_NCOLS; i++) w->ntok += w->colsz[i];
    w->avgdl = w->ndoc > 0 ? (double)(sqlite3_int64)w->ntok / (double)w->ndoc : 1.0;
  }
  return TSHOOT_OK;
}

/* The next slice of articles [lo, hi) whose tokens fit the slice (at least
** one article), with base[] set. */
static int next_slice(rw *w, sqlite3_int64 lo)
{
  sqlite3_int64 d;
  size_t total = 0, cap = FWD_SLICE_TOKENS;
  if (w->ntok / FWD_MAX_SLICES + 1 > cap) cap = (size_t)(w->ntok / FWD_MAX_SLICES + 1);
  w->lo = lo;
  for (d = lo; d <= w->ndoc; d++) {
    size_t t = 0;
    int col;
    for (col = 0; col < TS_FTS_NCOLS; col++) t += w->colsz[d * TS_FTS_NCOLS + col];
    if (d > lo && total + t > cap) break;
    total += t;
  }
  w->hi = d;
  ts_free(w->base);
  ts_free(w->fwd);
  w->base = ts_malloc((size_t)(w->hi - w->lo + 1) * sizeof *w->base);
  w->fwd = ts_malloc((total ? total : 1) * sizeof *w->fwd);
  if (!w->base || !w->fwd) return w->rc = ts_error_oom();
  total = 0;
  for (d = lo; d < w->hi; d++) {
    int col;
    w->base[d - lo] = total;
    for (col = 0; col < TS_FTS_NCOLS; col++) total += w->colsz[d * TS_FTS_NCOLS + col];
  }
  w->base[w->hi - lo] = total;
  memset(w->fwd, 0xff, (total ? total : 1) * sizeof *w->fwd); /* no term: never matched */
  return TSHOOT_OK;
}

/* fts5vocab names the column; the five names differ in their first byte. */
static int col_index(const void *v)
{
  const unsigned char *name = v;   /* not NUL-terminated; never empty */
  if (!name) return -1;
  switch (name[0]) {
  case 't': return TS_FTS_TITLE;
  case 's': return TS_FTS_SYMPTOMS;
  case 'a': return TS_FTS_ALIASES;
  case 'c': return TS_FTS_CAUSES;
  case 'f': return TS_FTS_FIXES;
  }
  return -1;
}

/* One term's postings, collected as (doc, wtf, hwtf) triples. */
typedef struct plist {
  uint32_t *v;       /* 3 per posting */
  size_t n, cap;
  ts_buf pos;        /* the positions of the postings so far (rank_pos) */
  uint32_t *dp;      /* the current article's: col << 24 | offset */
  size_t ndp, dp_cap;
} plist;

/* The current article's positions onto pl->pos: their count, then each as
** the difference from the one before (from 0). */
static void flush_positions(plist *pl)
{
  uint32_t prev = 0;
  size_t i;
  put_varint(&pl->pos, pl->ndp);
  for (i = 0; i < pl->ndp; i++) {
    put_varint(&pl->pos, pl->dp[i] - prev);
    prev = pl->dp[i];
  }
  pl->ndp = 0;
}

static void write_term(rw *w, const char *term, int tlen, sqlite3_int64 id, plist *pl)
{
  size_t nblk = (pl->n + RANK_BLOCK - 1) / RANK_BLOCK, i, hdf = 0;
  uint32_t prev = 0;
  int rc;
  ts_buf_reset(&w->post);
  ts_buf_reset(&w->body);
  put_varint(&w->post, pl->n);
  put_varint(&w->post, nblk);
  for (i = 0; i < pl->n; i++) {
    if (i % RANK_BLOCK == 0) {
      size_t last = i + RANK_BLOCK < pl->n ? i + RANK_BLOCK - 1 : pl->n - 1, j;
      float mx = 0, hmx = 0;
      for (j = i; j <= last; j++) {      /* the block's largest bm25 parts, rounded up */
        float a = part_up(w, pl->v[3 * j], pl->v[3 * j + 1]);
        float h = part_up(w, pl->v[3 * j], pl->v[3 * j + 2]);
        if (a > mx) mx = a;
        if (h > hmx) hmx = h;
      }
      put_le(&w->post, pl->v[3 * last], 4);
      put_le(&w->post, (uint32_t)w->body.len, 4);
      put_f32(&w->post, mx);
      put_f32(&w->post, hmx);
    }
    put_varint(&w->body, pl->v[3 * i] - prev);
    put_varint(&w->body, pl->v[3 * i + 1]);
    put_varint(&w->body, pl->v[3 * i + 2]);
    if (pl->v[3 * i + 2]) hdf++;
    prev = pl->v[3 * i];
  }
  ts_buf_add(&w->post, w->body.p ? w->body.p : "", w->body.len);
  if (pl->ndp) flush_positions(pl);
  if (w->post.oom || w->body.oom || pl->pos.oom) { w->rc = ts_error_oom(); return; }
  sqlite3_bind_text(w->ins_term, 1, term, tlen, SQLITE_STATIC);
  sqlite3_bind_int64(w->ins_term, 2, id);
  sqlite3_bind_int64(w->ins_term, 3, (sqlite3_int64)pl->n);
  sqlite3_bind_int64(w->ins_term, 4, (sqlite3_int64)hdf);
  rc = sqlite3_step(w->ins_term);
  sqlite3_reset(w->ins_term);
  if (rc != SQLITE_DONE) { rw_fail(w, rc, "writing the ranking terms"); return; }
  sqlite3_bind_int64(w->ins_post, 1, id);
  sqlite3_bind_blob(w->ins_post, 2, w->post.p, (int)w->post.len, SQLITE_STATIC);
  rc = sqlite3_step(w->ins_post);
  sqlite3_reset(w->ins_post);
  if (rc != SQLITE_DONE) { rw_fail(w, rc, "writing the postings"); return; }
  sqlite3_bind_int64(w->ins_pos, 1, id);
  sqlite3_bind_blob(w->ins_pos, 2, pl->pos.p ? pl->pos.p : "", (int)pl->pos.len, SQLITE_STATIC);
  rc = sqlite3_step(w->ins_pos);
  sqlite3_reset(w->ins_pos);
  if (rc != SQLITE_DONE) rw_fail(w, rc, "writing the positions");
}

/* One pass over every token FTS5 holds. The first pass (postings != 0)
** writes rank_term and rank_post; every pass fills the forward index of the
** articles [w->lo, w->hi). */
static int scan(rw *w, int postings)
{
  sqlite3_stmt *st = NULL;
  plist pl;
  char *term = NULL;
  int tlen = -1, rc;
  sqlite3_int64 id = 0, doc = -1;
  uint64_t seen = 0;
  memset(&pl, 0, sizeof pl);
  rc = sqlite3_prepare_v2(w->db, "SELECT term, doc, col, offset FROM temp.ts_rank_inst", -1, &st,
                          NULL);
  if (rc != SQLITE_OK) return rw_fail(w, rc, "reading the index");
  while (w->rc == TSHOOT_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    /* as blobs: the text accessors would copy each value to add a NUL (a
    ** fifth of the scan's instructions) */
    const char *t = (const char *)sqlite3_column_blob(st, 0);
    int tl = sqlite3_column_bytes(st, 0);
    sqlite3_int64 d = sqlite3_column_int64(st, 1);
    int col = col_index(sqlite3_column_blob(st, 2));
    sqlite3_int64 off = sqlite3_column_int64(st, 3);
    if (!t || col < 0) {             /* out of memory (a name is never NULL) */
      w->rc = ts_error_oom();
      break;
    }
    if (d < 1 || d > w->ndoc) continue;
    seen++;
    if (tl != tlen || memcmp(t, term, (size_t)tl) != 0) {      /* a new term */
      if (term && postings) write_term(w, term, tlen, id, &pl);
      if (term) id++;
      if (id >= 0xffffff) {          /* rank_doc.toks holds a term id in 3 bytes */
        w->rc = ts_error(TSHOOT_ERROR, "indexing: more than %d terms", 0xffffff - 1);
        break;
      }
      ts_free(term);
      term = ts_strndup(t, (size_t)tl);
      tlen = tl;
      pl.n = 0;
      pl.ndp = 0;
      ts_buf_reset(&pl.pos);
      doc = -1;
      if (!term) { w->rc = ts_error_oom(); break; }
    }
    if (postings && d != doc) {
      if (pl.n) flush_positions(&pl);
      if (ts_grow((void **)&pl.v, &pl.cap, 3 * (pl.n + 1), sizeof *pl.v) < 0) {
        w->rc = ts_error_oom();
        break;
      }
      pl.v[3 * pl.n] = (uint32_t)d;
      pl.v[3 * pl.n + 1] = pl.v[3 * pl.n + 2] = 0;
      pl.n++;
      doc = d;
    }
    if (postings) {
      pl.v[3 * (pl.n - 1) + 1] += (uint32_t)w_int[col];
      if (col < TS_FTS_HEAD_COLS) pl.v[3 * (pl.n - 1) + 2] += (uint32_t)w_int[col];
      if (ts_grow((void **)&pl.dp, &pl.dp_cap, pl.ndp + 1, sizeof *pl.dp) < 0) {
        w->rc = ts_error_oom();
        break;
      }
      pl.dp[pl.ndp++] = (uint32_t)col << 24 | (uint32_t)(off & 0xffffff);
    }
    if (d >= w->lo && d < w->hi && off >= 0 && off < w->colsz[d * TS_FTS_NCOLS + col]) {
      size_t at = w->base[d - w->lo] + (size_t)off;
      int k;
      for (k = 0; k < col; k++) at += w->colsz[d * TS_FTS_NCOLS + k];
      w->fwd[at] = (uint32_t)id;
    }
  }
  if (w->rc == TSHOOT_OK && rc != SQLITE_DONE) rw_fail(w, rc, "reading the index");
  /* every token FTS5 counted was read: a scan cut short (fts5vocab ends a
  ** scan it cannot go on with, out of memory, as if it were done) would
  ** write a KB that ranks wrong */
  if (w->rc == TSHOOT_OK && seen != w->ntok)
    w->rc = ts_error(TSHOOT_ENOMEM, "indexing: read %llu of the index's %llu tokens (out of memory?)",
                     (unsigned long long)seen, (unsigned long long)w->ntok);
  if (w->rc == TSHOOT_OK && term && postings) write_term(w, term, tlen, id, &pl);
  sqlite3_finalize(st);
  ts_free(term);
  ts_free(pl.v);
  ts_free(pl.dp);
  ts_buf_free(&pl.pos);
  return w->rc;
}

/* The forward index rows of the articles [w->lo, w->hi): each column's
** term ids, then each column's checkpoints from rank_cp (the catcher's
** token counts must be FTS5's). */
static void write_docs(rw *w)
{
  sqlite3_int64 d;
  for (d = w->lo; d < w->hi && w->rc == TSHOOT_OK; d++) {
    size_t at = w->base[d - w->lo];
    const unsigned char *cp, *end;
    int col, rc;
    ts_buf_reset(&w->body);
    for (col = 0; col < TS_FTS_NCOLS; col++) {
      uint32_t k, n = w->colsz[d * TS_FTS_NCOLS + col];
      put_varint(&w->body, n);
      for (k = 0; k < n; k++) put_le(&w->body, w->fwd[at++], 3);  /* ids < 2^24: scan */
    }
    sqlite3_bind_int64(w->sel_cp, 1, d);
    rc = sqlite3_step(w->sel_cp);
    if (rc != SQLITE_ROW) {
      sqlite3_reset(w->sel_cp);
      if (rc == SQLITE_DONE) w->rc = ts_error(TSHOOT_ERROR, "indexing: article %lld has no text", (long long)d);
      else rw_fail(w, rc, "reading the articles' texts");
      return;
    }
    cp = sqlite3_column_blob(w->sel_cp, 0);
    end = cp + sqlite3_column_bytes(w->sel_cp, 0);
    for (col = 0; col < TS_FTS_NCOLS && cp; col++) {
      uint64_t v;
      size_t k, m;
      int l = (int)ts_varint_get(cp, (size_t)(end - cp), &v);
      if (l == 0 || v != w->colsz[d * TS_FTS_NCOLS + col]) { cp = NULL; break; }
      cp += l;
      m = (size_t)((v + RANK_CHECKPOINT - 1) / RANK_CHECKPOINT);
      for (k = 0; k < m && cp; k++) {
        l = (int)ts_varint_get(cp, (size_t)(end - cp), &v);
        if (l == 0) cp = NULL;
        else {
          ts_buf_add(&w->body, (const char *)cp, (size_t)l);
          cp += l;
        }
      }
    }
    sqlite3_reset(w->sel_cp);
    if (!cp) {
      w->rc = ts_error(TSHOOT_ERROR, "indexing: article %lld's token offsets disagree with FTS5's count",
                       (long long)d);
      return;
    }
    if (w->body.oom) { w->rc = ts_error_oom(); return; }
    sqlite3_bind_int64(w->ins_doc, 1, d);
    sqlite3_bind_blob(w->ins_doc, 2, w->body.p ? w->body.p : "", (int)w->body.len, SQLITE_STATIC);
    rc = sqlite3_step(w->ins_doc);
    sqlite3_reset(w->ins_doc);
    if (rc != SQLITE_DONE) rw_fail(w, rc, "writing the forward index");
  }
}

int kb_rank_build(sqlite3 *db)
{
  rw w;
  int rc;
  memset(&w, 0, sizeof w);
  w.db = db;
  rc = sqlite3_exec(db, TS_KB_RANK_TERM_SQL "; " TS_KB_RANK_POST_SQL "; " TS_KB_RANK_POS_SQL "; "
                        "CREATE TABLE rank_tok(id INTEGER PRIMARY KEY, toks BLOB NOT NULL); "
                        "CREATE VIRTUAL TABLE temp.ts_rank_inst USING fts5vocab(main, article_fts, "
                        "instance)", NULL, NULL, NULL);
  if (rc != SQLITE_OK) return rw_fail(&w, rc, "reading the index");
  if (read_sizes(&w) == TSHOOT_OK) {
    rc = sqlite3_prepare_v2(db, "INSERT INTO rank_term(term, id, df, hdf) VALUES(?1, ?2, ?3, ?4)",
                            -1, &w.ins_term, NULL);
    if (rc == SQLITE_OK)
      rc = sqlite3_prepare_v2(db, "INSERT INTO rank_post(id, post) VALUES(?1, ?2)", -1,
                              &w.ins_post, NULL);
    if (rc == SQLITE_OK)
      rc = sqlite3_prepare_v2(db, "INSERT INTO rank_tok(id, toks) VALUES(?1, ?2)", -1, &w.ins_doc,
                              NULL);
    if (rc == SQLITE_OK)
      rc = sqlite3_prepare_v2(db, "INSERT INTO rank_pos(id, pos) VALUES(?1, ?2)", -1, &w.ins_pos,
                              NULL);
    if (rc == SQLITE_OK)
      rc = sqlite3_prepare_v2(db, "SELECT cp FROM rank_cp WHERE id = ?1", -1, &w.sel_cp, NULL);
    if (rc != SQLITE_OK) rw_fail(&w, rc, "writing the ranking data");
  }
  if (w.rc == TSHOOT_OK && next_slice(&w, 1) == TSHOOT_OK && scan(&w, 1) == TSHOOT_OK) {
    write_docs(&w);
    while (w.rc == TSHOOT_OK && w.hi <= w.ndoc && next_slice(&w, w.hi) == TSHOOT_OK &&
           scan(&w, 0) == TSHOOT_OK)
      write_docs(&w);
  }
  sqlite3_finalize(w.ins_term);
  sqlite3_finalize(w.ins_post);
  sqlite3_finalize(w.ins_doc);
  sqlite3_finalize(w.ins_pos);
  sqlite3_finalize(w.sel_cp);
  rc = sqlite3_exec(db, "DROP TABLE temp.ts_rank_inst", NULL, NULL, NULL);
  if (rc != SQLITE_OK) rw_fail(&w, rc, "reading the index");
  ts_free(w.colsz);
  ts_free(w.base);
  ts_free(w.fwd);
  ts_buf_free(&w.post);
  ts_buf_free(&w.body);
  return w.rc;
}

/* Copy the rows of `from_sql` (in key order) into `to` by `to_sql`, whose
** parameters are the selected columns. */
static int copy_rows(sqlite3 *to, sqlite3 *from, const char *from_sql, const char *to_sql,
                     int check_one)
{
  sqlite3_stmt *sel = NULL, *ins = NULL;
  int rc = sqlite3_prepare_v2(from, from_sql, -1, &sel, NULL), n, i;
  if (rc != SQLITE_OK) {
    rc = kb_sqlite_error(from, rc, "writing the ranking data");
    sqlite3_finalize(sel);
    return rc;
  }
  rc = sqlite3_prepare_v2(to, to_sql, -1, &ins, NULL);
  if (rc != SQLITE_OK) {
    rc = kb_sqlite_error(to, rc, "writing the ranking data");
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    return rc;
  }
  n = sqlite3_column_count(sel);
  while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
    int brc = SQLITE_OK;
    for (i = 0; i < n && brc == SQLITE_OK; i++)  /* a bound value is copied: that can fail */
      brc = sqlite3_bind_value(ins, i + 1, sqlite3_column_value(sel, i));
    if (brc == SQLITE_OK) brc = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (brc != SQLITE_DONE) {
      rc = kb_sqlite_error(to, brc, "writing the ranking data");
      goto done;
    }
    if (check_one && sqlite3_changes(to) != 1) {   /* an FTS5 row is an article: never */
      rc = ts_error(TSHOOT_ERROR, "indexing: article %lld has no row",
                    (long long)sqlite3_column_int64(sel, 0));
      goto done;
    }
  }
  rc = rc == SQLITE_DONE ? TSHOOT_OK : kb_sqlite_error(from, rc, "writing the ranking data");
done:
  sqlite3_finalize(sel);
  sqlite3_finalize(ins);
  return rc;
}

int kb_rank_copy(sqlite3 *to, sqlite3 *from)
{
  int rc = copy_rows(to, from, "SELECT term, id, df, hdf FROM rank_term ORDER BY term",
                     "INSERT INTO rank_term(term, id, df, hdf) VALUES(?1, ?2, ?3, ?4)", 0);
  if (rc == TSHOOT_OK)
    rc = copy_rows(to, from, "SELECT id, post FROM rank_post ORDER BY id",
                   "INSERT INTO rank_post(id, post) VALUES(?1, ?2)", 0);
  if (rc == TSHOOT_OK)
    rc = copy_rows(to, from, "SELECT id, pos FROM rank_pos ORDER BY id",
                   "INSERT INTO rank_pos(id, pos) VALUES(?1, ?2)", 0);
  if (rc == TSHOOT_OK)   /* each article's name, path and line from the model's rows, its
                         ** text from where kb_write.c kept it (stage.text) */
    rc = copy_rows(to, from, "SELECT id, toks FROM rank_tok ORDER BY id",
                   "INSERT INTO rank_doc(id, name, title, path, line, toks, symptoms, aliases, causes,"
                   " fixes) SELECT a.id, a.name, t.title, s.path, a.line, ?2, t.symptoms, t.aliases,"
                   " t.causes, t.fixes FROM article AS a JOIN stage.text AS t ON t.id = a.id"
                   " LEFT JOIN source AS s ON s.id = a.source WHERE a.id = ?1", 1);
  return rc;
}

/* ===== where tokens start, caught while article_fts tokenizes =====
** A passage is cut by tokenizing its column's text up to its last token;
** from the column's start that is most of a returned article's cost when the
** passage sits far in (a fix's steps). rank_doc.toks therefore also says
** where every RANK_CHECKPOINT-th token starts, so that search tokenizes from
** the nearest one before the passage: the same tokens (unicode61 starts a
** token only after a separator), fewer of them. The offsets are FTS5's own:
** a tokenizer wrapped around the index's (porter over unicode61) notes them
** as FTS5 indexes each column, so they cannot disagree with its token count
** (kb_rank_build checks that they do not). */

struct kb_rank_catch {
  sqlite3 *db;
  sqlite3_stmt *ins;
  fts5_tokenizer inner;     /* porter's methods */
  void *inner_ud;
  /* the article being inserted: per tokenized column, its byte length, token
  ** count and checkpoints */
  int ncall;
  int call_len[TS_FTS_NCOLS + 1], call_ntok[TS_FTS_NCOLS + 1];
  ts_buf call_cp[TS_FTS_NCOLS + 1];
  ts_buf cp;
  int bad;                  /* more calls than columns, or out of memory */
};

typedef struct catch_tok {
  kb_rank_catch *k;
  Fts5Tokenizer *inner;
} catch_tok;

typedef struct catch_ctx {
  void *ctx;
  int (*x)(void *, int, const char *, int, int, int);
  int ntok, last;           /* tokens so far; the last checkpoint's offset */
  ts_buf *cp;
} catch_ctx;

static int catch_create(void *ud, const char **arg, int narg, Fts5Tokenizer **out)
{
  kb_rank_catch *k = ud;
  catch_tok *t;
  int rc;
  *out = NULL;
  if (narg < 1 || strcmp(arg[0], "porter") != 0) return SQLITE_ERROR;  /* kb_schema.h's */
  if (!(t = ts_calloc(1, sizeof *t))) return SQLITE_NOMEM;
  t->k = k;
  rc = k->inner.xCreate(k->inner_ud, arg + 1, narg - 1, &t->inner);
  if (rc != SQLITE_OK) {
    ts_free(t);
    return rc;
  }
  *out = (Fts5Tokenizer *)t;
  return SQLITE_OK;
}

static void catch_delete(Fts5Tokenizer *tok)
{
  catch_tok *t = (catch_tok *)tok;
  t->k->inner.xDelete(t->inner);
  ts_free(t);
}

static int catch_token(void *ctx, int flags, const char *tok, int n, int b0, int b1)
{
  catch_ctx *c = ctx;
  if (!(flags & FTS5_TOKEN_COLOCATED)) {
    if (c->cp && c->ntok % RANK_CHECKPOINT == 0) {
      put_varint(c->cp, (uint64_t)(b0 - c->last));
      c->last = b0;
    }
    c->ntok++;
  }
  return c->x(c->ctx, flags, tok, n, b0, b1);
}

static int catch_tokenize(Fts5Tokenizer *tok, void *ctx, int flags, const char *text, int n,
                          int (*x)(void *, int, const char *, int, int, int))
{
  catch_tok *t = (catch_tok *)tok;
  kb_rank_catch *k = t->k;
  catch_ctx c;
  int rc;
  memset(&c, 0, sizeof c);
  c.ctx = ctx;
  c.x = x;
  if ((flags & FTS5_TOKENIZE_DOCUMENT) && !(flags & FTS5_TOKENIZE_QUERY)) {
    if (k->ncall > TS_FTS_NCOLS) k->bad = 1;
    else {
      c.cp = &k->call_cp[k->ncall];
      ts_buf_reset(c.cp);
    }
  }
  rc = k->inner.xTokenize(t->inner, &c, flags, text, n, catch_token);
  if (c.cp) {
    k->call_len[k->ncall] = n;
    k->call_ntok[k->ncall] = c.ntok;
    k->ncall++;
  }
  return rc;
}

int kb_rank_catch_new(sqlite3 *db, kb_rank_catch **out)
{
  static fts5_tokenizer methods = { catch_create, catch_delete, catch_tokenize };
  kb_rank_catch *k;
  fts5_api *api = NULL;
  int rc;
  *out = NULL;
  if (!(k = ts_calloc(1, sizeof *k))) return ts_error_oom();
  *out = k;                 /* even on failure: the tokenizer may hold it */
  k->db = db;
  rc = kb_fts5_api(db, &api);
  if (rc == SQLITE_OK && !api) rc = SQLITE_ERROR;
  if (rc == SQLITE_OK) rc = api->xFindTokenizer(api, "porter", &k->inner_ud, &k->inner);
  if (rc == SQLITE_OK)
    rc = api->xCreateTokenizer(api, KB_RANK_CATCH_TOKENIZER, k, &methods, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(db, "CREATE TABLE rank_cp(id INTEGER PRIMARY KEY, cp BLOB NOT NULL)", NULL,
                      NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v3(db, "INSERT INTO rank_cp(id, cp) VALUES(?1, ?2)", -1,
                            SQLITE_PREPARE_PERSISTENT, &k->ins, NULL);
  if (rc != SQLITE_OK) {
    kb_rank_catch_close(k);
    return kb_sqlite_error(db, rc, "setting up the index");
  }
  return TSHOOT_OK;
}

void kb_rank_catch_begin(kb_rank_catch *k)
{
  k->ncall = 0;
}

/* rank_cp's cp: per column, its token count then its checkpoints (each
** the difference from the one before, from 0). FTS5 tokenizes the columns
** that are not NULL, in order (an empty one perhaps not at all). */
int kb_rank_catch_end(kb_rank_catch *k, sqlite3_int64 doc, const char *const *text, const int *len)
{
  int col, call = 0, rc;
  ts_buf_reset(&k->cp);
  for (col = 0; col < TS_FTS_NCOLS && !k->bad; col++) {
    if (!text[col] || (len[col] == 0 && (call >= k->ncall || k->call_len[call] != 0))) {
      put_varint(&k->cp, 0);
      continue;
    }
    if (call >= k->ncall || k->call_len[call] != len[col]) {
      k->bad = 1;
      break;
    }
    put_varint(&k->cp, (uint64_t)k->call_ntok[call]);
    ts_buf_add(&k->cp, k->call_cp[call].p ? k->call_cp[call].p : "", k->call_cp[call].len);
    call++;
  }
  for (col = 0; col <= TS_FTS_NCOLS; col++)
    if (k->call_cp[col].oom) return ts_error_oom();
  if (k->cp.oom) return ts_error_oom();
  if (k->bad || call != k->ncall)
    return ts_error(TSHOOT_ERROR, "indexing article %lld: FTS5 tokenized its columns unexpectedly",
                    (long long)doc);
  sqlite3_bind_int64(k->ins, 1, doc);
  sqlite3_bind_blob(k->ins, 2, k->cp.p ? k->cp.p : "", (int)k->cp.len, SQLITE_STATIC);
  rc = sqlite3_step(k->ins);
  sqlite3_reset(k->ins);
  return rc == SQLITE_DONE ? TSHOOT_OK : kb_sqlite_error(k->db, rc, "writing token offsets");
}

void kb_rank_catch_close(kb_rank_catch *k)
{
  if (!k) return;
  sqlite3_finalize(k->ins);
  k->ins = NULL;
}

void kb_rank_catch_free(kb_rank_catch *k)
{
  int i;
  if (!k) return;
  sqlite3_finalize(k->ins);
  for (i = 0; i <= TS_FTS_NCOLS; i++) ts_buf_free(&k->call_cp[i]);
  ts_buf_free(&k->cp);
  ts_free(k);
}
