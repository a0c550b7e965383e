/*
** kb_rank_write.c: the ranking data a compiled KB carries beside article_fts,
** so that search (search_postings.c) ranks in C what FTS5 would rank, with the
** same numbers, without re-reading FTS5's index per query. Built from the
** tokens FTS5 indexes, caught as it indexes them (a tokenizer wrapped around
** the index's: the terms, columns and offsets are FTS5's, not a second
** tokenizer's guess), once article_fts is complete: the forward index (each
** article's term ids) is kept as the articles come (in the catcher's own
** private database), counted on the index's thread once every article is in
** (kb_rank_build, kb_write.c's fts_worker), then inverted and written into
** the KB by the writer (kb_rank_copy, rank_doc joined with the model's rows)
** while the index's thread merges article_fts.
** (Until this compiler, they were read back from FTS5's index through an
** fts5vocab 'instance' table: the same bytes, at ~1,300 instructions a token;
** tests/unit/test-search-postings.c keeps that derivation as the reference.)
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
**        keeps the text aside in a temporary file until this row is written).
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
#include "kb_terms.h"

#include <sqlite3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* FTS5 indexes at most this many bytes of a token (FTS5_MAX_TOKEN_SIZE in
** SQLite's fts5Int.h; fts5_storage.c's insert callback cuts a longer token
** to it): the catcher cuts the same way, so its terms are FTS5's. */
#define FTS5_TOKEN_MAX 32768

/* rank_doc.toks holds a term id in 3 bytes: at most this many terms. */
#define TERM_MAX 0xfffffe

/* The postings of at most this many bytes are inverted at once (4 a
** position, 8 a posting: 64 MB); a larger KB is inverted in slices of term
** ids, each slice one pass over the catcher's rank_cp rows (3 bytes a token,
** read back from its private database) for its rows of rank_post and
** rank_pos. Past INV_MAX_SLICES slices a slice grows instead. */
#define INV_SLICE_BYTES ((uint64_t)1 << 26)
#define INV_MAX_SLICES 4
#define STAGE_MAX 16384      /* tokens staged at a time (see fill_staged) */


/* The ranking build: what kb_rank_build counts on the index's thread, for
** kb_rank_copy to write into the KB. */
typedef struct rw {
  sqlite3 *db;                /* the database a failure is reported from */
  int rc;
  int built;                  /* kb_rank_build succeeded */
  sqlite3_stmt *sel;          /* the caught rows (rank_cp), in article order */
  sqlite3_stmt *ins_term, *ins_post, *ins_pos, *ins_doc;   /* into the KB (the writer's) */
  kb_text_fn text;            /* rank_doc's text, by article (the writer's) */
  void *text_ctx;
  struct rank_q *q;           /* the rows' way to the writer's thread (NULL: straight) */
  char msg[256];              /* the producer's failure, for the writer's thread */
  /* articles [1, ndoc]: tokens per column (from article_fts_docsize) */
  sqlite3_int64 ndoc;
  uint32_t *colsz;            /* colsz[doc * NCOLS + col] */
  uint64_t ntok;              /* tokens of all articles */
  double avgdl;               /* tokens per article (bm25's mean length) */
  double *norm;               /* per article: k1(1-b+b dl/avgdl), bm25's length part */
  const kb_terms *t;
  size_t nterm;
  uint32_t *final;            /* final[provisional id]: its rank in byte order */
  uint32_t *prov;             /* prov[final id]: the provisional id */
  uint32_t *npos, *df, *hdf;  /* per final id: positions, articles, articles in the head */
  uint32_t *last, *lasth;     /* per final id: the last article counted (in the head) */
  /* the slice of terms inverted: final ids [tlo, thi) */
  size_t tlo, thi;
  uint32_t *at_pos, *at_post; /* per final id: its next position, posting in the slice */
  uint32_t *pos;              /* the slice's positions: col << 24 | offset */
  uint32_t *post;             /* its postings: article, positions */
  uint32_t *stage;            /* STAGE_MAX staged tokens, then as many sorted */
  size_t nstage;
  unsigned shift;             /* a term's range of the slice: (f - tlo) >> shift */
  uint32_t *wtf;              /* one term's (wtf, hwtf) per posting */
  size_t wtf_cap;
  ts_buf postb, body, posb;
} rw;

static void rw_free(rw *w);

/* The slice budget (kb_rank_test_slice_bytes: tests make it small). */
static _Atomic uint64_t slice_bytes = INV_SLICE_BYTES;

void kb_rank_test_slice_bytes(uint64_t bytes)
{
  slice_bytes = bytes ? bytes : INV_SLICE_BYTES;
}

static const int w_int[TS_FTS_NCOLS] = TS_FTS_WEIGHT_INTS;

static int rw_fail(rw *w, int rc, const char *what)
{
  if (w->rc == TSHOOT_OK) w->rc = kb_sqlite_error(w->db, rc, what);
  return w->rc;
}

/* v's low n bytes, little-endian (a skip entry's u32s, a token's id). */
static inline void put_le(ts_buf *b, uint32_t v, int n)
{
  char t[4];
  int i;
  for (i = 0; i < n; i++) t[i] = (char)((v >> (8 * i)) & 0xff);
  if (!b->oom && b->p && b->cap - b->len > (size_t)n) {  /* room: no call (a call a token) */
    for (i = 0; i < n; i++) b->p[b->len + (size_t)i] = t[i];
    b->len += (size_t)n;
    b->p[b->len] = '\0';
  } else {
    ts_buf_add(b, t, (size_t)n);
  }
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
  double fr = (double)f, v;
  float r;
  if (f == 0) return 0.0f;
  v = (fr * (TS_BM25_K1 + 1.0)) / (fr + w->norm[d]);
  r = (float)v;
  if ((double)r < v) r = nextafterf(r, 3.0f);
  return r;
}

/* ===== the tokens, caught while article_fts tokenizes =====
** The ranking tables are built from the tokens FTS5 indexes, as it indexes
** them: a tokenizer wrapped around the index's (porter over unicode61)
** passes each token on unchanged and notes, per article and column, its term
** (a provisional id, in the order the terms are first seen: kb_rank_build
** renumbers them in byte order) and where every RANK_CHECKPOINT-th token
** starts in the text. A passage is cut by tokenizing its column's text up to
** its last token; from the column's start that is most of a returned
** article's cost when the passage sits far in (a fix's steps), so
** rank_doc.toks says where those tokens start and search tokenizes from the
** nearest one before the passage (unicode61 starts a token only after a
** separator: the same tokens, fewer of them). Both are kept in rank_cp, in
** the catcher's own private database (which spills to disk: at 100k articles
** the 29 M tokens do not stay in memory; its own, so that the writer reads it
** while the index's thread goes on with article_fts), until kb_rank_copy.
** kb_rank_build checks that the catcher's token counts are FTS5's. */

enum { CATCH_OOM = 1, CATCH_COLOCATED = 2, CATCH_TERMS = 4 };

struct kb_rank_catch {
  sqlite3 *db;              /* the index's database: the tokenizer is its */
  sqlite3 *cdb;             /* rank_cp's own private database (see kb_rank_copy) */
  sqlite3_stmt *ins;
  fts5_tokenizer inner;     /* porter's methods */
  void *inner_ud;
  /* the article being inserted: per tokenized column, its byte length, token
  ** count, checkpoints and tokens (provisional ids, 3 bytes each) */
  int ncall;
  int call_len[TS_FTS_NCOLS + 1], call_ntok[TS_FTS_NCOLS + 1];
  ts_buf call_cp[TS_FTS_NCOLS + 1], call_ids[TS_FTS_NCOLS + 1];
  ts_buf cp, toks;
  kb_terms t;               /* the terms seen, numbered in first-seen order (provisional ids) */
  rw w;                     /* the ranking build, once article_fts is complete */
  uint64_t ntok;            /* the tokens of all articles, and how many articles: */
  sqlite3_int64 ndoc;       /* kb_rank_check compares FTS5's counts */
  int bad;                  /* more calls than columns */
  int err;                  /* CATCH_*: what went wrong in a token */
  char msg[256];            /* the first failure on the index's thread ("": none) */
};

typedef struct catch_tok {
  kb_rank_catch *k;
  Fts5Tokenizer *inner;
} catch_tok;

typedef struct catch_ctx {
  void *ctx;
  int (*x)(void *, int, const char *, int, int, int);
  int ntok, last;           /* tokens so far; the last checkpoint's offset */
  ts_buf *cp, *ids;         /* a document's column: where they go */
  kb_rank_catch *k;
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
  if (c->cp) {
    kb_rank_catch *k = c->k;
    long id;
    if (flags & FTS5_TOKEN_COLOCATED) {   /* a synonym at the same place: porter makes none */
      k->err |= CATCH_COLOCATED;
      return c->x(c->ctx, flags, tok, n, b0, b1);
    }
    if (c->ntok % RANK_CHECKPOINT == 0) {
      ts_buf_varint(c->cp, (uint64_t)(b0 - c->last));
      c->last = b0;
    }
    c->ntok++;
    id = kb_terms_id(&k->t, tok, n < 0 ? 0 : n > FTS5_TOKEN_MAX ? FTS5_TOKEN_MAX : n, TERM_MAX);
    if (id < 0) k->err |= id == -1 ? CATCH_OOM : CATCH_TERMS;
    else put_le(c->ids, (uint32_t)id, RANK_TOK_BYTES);
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
  c.k = k;
  if ((flags & FTS5_TOKENIZE_DOCUMENT) && !(flags & FTS5_TOKENIZE_QUERY)) {
    if (k->ncall > TS_FTS_NCOLS) k->bad = 1;
    else {
      c.cp = &k->call_cp[k->ncall];
      c.ids = &k->call_ids[k->ncall];
      ts_buf_reset(c.cp);
      ts_buf_reset(c.ids);
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
  if (rc != SQLITE_OK) return kb_sqlite_error(db, rc, "setting up the index");
  /* rank_cp in a database of its own ("": private, on disk when it
  ** outgrows its cache), so that the writer reads it while the index's
  ** thread merges article_fts */
  rc = sqlite3_open_v2("", &k->cdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(k->cdb, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
                              " PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -4096; BEGIN;"
                              " CREATE TABLE rank_cp(id INTEGER PRIMARY KEY, cp BLOB NOT NULL,"
                              " toks BLOB NOT NULL)", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v3(k->cdb, "INSERT INTO rank_cp(id, cp, toks) VALUES(?1, ?2, ?3)", -1,
                            SQLITE_PREPARE_PERSISTENT, &k->ins, NULL);
  if (rc != SQLITE_OK) {
    rc = k->cdb ? kb_sqlite_error(k->cdb, rc, "setting up the index") : ts_error_oom();
    kb_rank_catch_close(k);
    return rc;
  }
  return TSHOOT_OK;
}

void kb_rank_catch_begin(kb_rank_catch *k)
{
  k->ncall = 0;
}

/* rank_cp's cp: per column, its token count then its checkpoints (each
** the difference from the one before, from 0); toks: the columns' tokens
** one after the other, each a provisional term id in 3 bytes. FTS5 tokenizes
** the columns that are not NULL, in order (an empty one perhaps not at all). */
/* Keep the message of failure rc (the index's thread's error is its own). */
static int catch_fail(kb_rank_catch *k, int rc)
{
  if (rc != TSHOOT_OK && rc != TSHOOT_ENOMEM && !k->msg[0])
    snprintf(k->msg, sizeof k->msg, "%s", tshoot_error_last()->message);
  return rc;
}

const char *kb_rank_catch_error(const kb_rank_catch *k)
{
  return k && k->msg[0] ? k->msg : NULL;
}

static int catch_end(kb_rank_catch *k, sqlite3_int64 doc, const char *const *text, const int *len);

int kb_rank_catch_end(kb_rank_catch *k, sqlite3_int64 doc, const char *const *text, const int *len)
{
  return catch_fail(k, catch_end(k, doc, text, len));
}

static int catch_end(kb_rank_catch *k, sqlite3_int64 doc, const char *const *text, const int *len)
{
  int col, call = 0, rc;
  if (k->err & CATCH_OOM) return ts_error_oom();
  if (k->err & CATCH_COLOCATED)
    return ts_error(TSHOOT_ERROR, "indexing article %lld: the tokenizer put two tokens at one place,"
                    " which tshoot does not rank", (long long)doc);
  if (k->err & CATCH_TERMS)
    return ts_error(TSHOOT_ERROR, "indexing article %lld: more than %d terms", (long long)doc, TERM_MAX);
  ts_buf_reset(&k->cp);
  ts_buf_reset(&k->toks);
  for (col = 0; col < TS_FTS_NCOLS && !k->bad; col++) {
    if (!text[col] || (len[col] == 0 && (call >= k->ncall || k->call_len[call] != 0))) {
      ts_buf_varint(&k->cp, 0);
      continue;
    }
    if (call >= k->ncall || k->call_len[call] != len[col]) {
      k->bad = 1;
      break;
    }
    ts_buf_varint(&k->cp, (uint64_t)k->call_ntok[call]);
    ts_buf_add(&k->cp, k->call_cp[call].p ? k->call_cp[call].p : "", k->call_cp[call].len);
    ts_buf_add(&k->toks, k->call_ids[call].p ? k->call_ids[call].p : "", k->call_ids[call].len);
    call++;
  }
  for (col = 0; col <= TS_FTS_NCOLS; col++)
    if (k->call_cp[col].oom || k->call_ids[col].oom) return ts_error_oom();
  if (k->cp.oom || k->toks.oom) return ts_error_oom();
  if (k->bad || call != k->ncall)
    return ts_error(TSHOOT_ERROR, "indexing article %lld: FTS5 tokenized its columns unexpectedly",
                    (long long)doc);
  sqlite3_bind_int64(k->ins, 1, doc);
  sqlite3_bind_blob(k->ins, 2, k->cp.p ? k->cp.p : "", (int)k->cp.len, SQLITE_STATIC);
  sqlite3_bind_blob(k->ins, 3, k->toks.p ? k->toks.p : "", (int)k->toks.len, SQLITE_STATIC);
  rc = sqlite3_step(k->ins);
  sqlite3_reset(k->ins);
  return rc == SQLITE_DONE ? TSHOOT_OK : kb_sqlite_error(k->cdb, rc, "writing the articles' tokens");
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
  rw_free(&k->w);             /* its statements, before their database */
  if (k->cdb) sqlite3_close(k->cdb);
  for (i = 0; i <= TS_FTS_NCOLS; i++) {
    ts_buf_free(&k->call_cp[i]);
    ts_buf_free(&k->call_ids[i]);
  }
  ts_buf_free(&k->cp);
  ts_buf_free(&k->toks);
  kb_terms_free(&k->t);
  ts_free(k);
}
/* ===== the ranking tables, from the caught tokens =====
** kb_rank_build (on the index's thread, once every article is in article_fts,
** before its merge) reads FTS5's article sizes, sorts the terms and counts
** each term's positions and articles in one pass over the caught rows,
** checking them against FTS5's sizes. kb_rank_copy (on the writer's thread,
** while the index's merges) then writes the tables straight into the KB
** (the rows encoded on a thread of their own, rw_rows): rank_term from
** memory, rank_doc from the caught rows with the final ids (in the first
** slice's pass), rank_post and rank_pos by inverting the caught rows a slice
** of terms at a time. Each table's rows are written in id order, the tables
** in that order (a slice's rank_post rows, then its rank_pos rows): the same
** KB, byte for byte, every time. */

static void rw_free(rw *w)
{
  sqlite3_finalize(w->sel);
  sqlite3_finalize(w->ins_term);
  sqlite3_finalize(w->ins_post);
  sqlite3_finalize(w->ins_pos);
  sqlite3_finalize(w->ins_doc);
  w->sel = w->ins_term = w->ins_post = w->ins_pos = w->ins_doc = NULL;
  ts_free(w->colsz);
  ts_free(w->norm);
  ts_free(w->final);
  ts_free(w->prov);
  ts_free(w->npos);
  ts_free(w->df);
  ts_free(w->hdf);
  ts_free(w->last);
  ts_free(w->lasth);
  ts_free(w->at_pos);
  ts_free(w->at_post);
  ts_free(w->pos);
  ts_free(w->post);
  ts_free(w->wtf);
  ts_free(w->stage);
  ts_buf_free(&w->postb);
  ts_buf_free(&w->body);
  ts_buf_free(&w->posb);
  memset(w, 0, sizeof *w);
}

/* The column sizes of every article (FTS5's, from article_fts_docsize), and
** FTS5's token count over all of them (its averages record) to match. */
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
  if (!(w->norm = ts_malloc((size_t)(w->ndoc + 1) * sizeof *w->norm))) return w->rc = ts_error_oom();
  {
    const double k1 = TS_BM25_K1, b = TS_BM25_B;
    sqlite3_int64 d;
    for (d = 0; d <= w->ndoc; d++) {
      double dl = 0;
      int col;
      for (col = 0; col < TS_FTS_NCOLS; col++) dl += w->colsz[d * TS_FTS_NCOLS + col];
      w->norm[d] = k1 * (1 - b + b * dl / w->avgdl);
    }
  }
  if (w->ntok > UINT32_MAX)      /* a slice's positions are counted in 32 bits */
    return w->rc = ts_error(TSHOOT_ERROR, "indexing: %llu tokens is more than tshoot ranks",
                            (unsigned long long)w->ntok);
  return TSHOOT_OK;
}

/* FTS5's own token count over all articles must be their sizes' sum: its
** averages record (row 1 of its data table: the number of rows, then each
** column's token count), which FTS5 writes when its transaction commits
** (so read after the index's COMMIT). */
int kb_rank_check(sqlite3 *db, const kb_rank_catch *k)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, "SELECT block FROM article_fts_data WHERE id = 1", -1, &st, NULL);
  int out = TSHOOT_OK;
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char *b = sqlite3_column_blob(st, 0);
    size_t n = (size_t)sqlite3_column_bytes(st, 0), off = 0, m;
    uint64_t v, total = 0;
    int col, ok = 1;
    if (!b && n > 0) rc = SQLITE_NOMEM;
    /* empty as FTS5 creates it until a row is inserted: all zero */
    for (col = -1; col < TS_FTS_NCOLS && n > 0 && ok && rc == SQLITE_ROW; col++) {
      if (!b || (m = ts_varint_get(b + off, n - off, &v)) == 0) ok = 0;
      else {
        off += m;
        if (col >= 0) total += v;
      }
    }
    if (rc == SQLITE_ROW && !ok)
      out = ts_error(TSHOOT_ERROR, "indexing: FTS5's token count is unreadable");
    else if (rc == SQLITE_ROW && total != k->ntok)
      out = ts_error(TSHOOT_ERROR, "indexing: FTS5 counts %llu tokens, its articles' sizes %llu",
                     (unsigned long long)total, (unsigned long long)k->ntok);
    if (rc == SQLITE_ROW) rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE && k->ndoc > 0) {
    out = ts_error(TSHOOT_ERROR, "indexing: FTS5 wrote no token count");
  }
  if (rc == SQLITE_DONE) rc = SQLITE_OK;
  sqlite3_finalize(st);
  if (rc != SQLITE_OK) return kb_sqlite_error(db, rc, "reading the index's token count");
  return out;
}

/* The terms in byte order: final[] and prov[]; the per-term arrays. */
static int sort_terms(rw *w)
{
  size_t i, m;
  w->nterm = w->t->n;
  m = w->nterm ? w->nterm : 1;
  w->prov = kb_terms_order(w->t);
  w->final = ts_malloc(m * sizeof *w->final);
  w->npos = ts_calloc(m, sizeof *w->npos);
  w->df = ts_calloc(m, sizeof *w->df);
  w->hdf = ts_calloc(m, sizeof *w->hdf);
  w->last = ts_calloc(m, sizeof *w->last);
  w->lasth = ts_calloc(m, sizeof *w->lasth);
  w->at_pos = ts_malloc(m * sizeof *w->at_pos);
  w->at_post = ts_malloc(m * sizeof *w->at_post);
  if (!w->final || !w->prov || !w->npos || !w->df || !w->hdf || !w->last || !w->lasth ||
      !w->at_pos || !w->at_post)
    return w->rc = ts_error_oom();
  for (i = 0; i < w->nterm; i++) w->final[w->prov[i]] = (uint32_t)i;
  return TSHOOT_OK;
}

enum { PASS_COUNT = 1, PASS_FILL = 2, PASS_DOCS = 4 };

/* The staged tokens into the slice's postings and positions. Written straight
** from the forward index, each token would go to another term's postings
** (35 k terms at 10k articles: a cache miss or two a token); staged, a few
** thousand at a time, and spread into 256 ranges of terms first (a counting
** sort: 256 places written, all in cache), the postings of one range at a
** time are written, each term's in article order as staged. */
static void fill_staged(rw *w)
{
  size_t cnt[257], i;
  uint32_t *to = w->stage + 3 * STAGE_MAX;
  memset(cnt, 0, sizeof cnt);
  for (i = 0; i < w->nstage; i++) cnt[((w->stage[3 * i] - w->tlo) >> w->shift) + 1]++;
  for (i = 1; i < 257; i++) cnt[i] += cnt[i - 1];
  for (i = 0; i < w->nstage; i++) {
    const uint32_t *e = w->stage + 3 * i;
    uint32_t *o = to + 3 * cnt[(e[0] - w->tlo) >> w->shift]++;
    o[0] = e[0];
    o[1] = e[1];
    o[2] = e[2];
  }
  for (i = 0; i < w->nstage; i++) {
    const uint32_t *e = to + 3 * i;
    uint32_t f = e[0];
    if (w->last[f] != e[1]) {
      w->last[f] = e[1];
      w->post[2 * (size_t)w->at_post[f]] = e[1];
      w->post[2 * (size_t)w->at_post[f] + 1] = 0;
      w->at_post[f]++;
    }
    w->post[2 * (size_t)w->at_post[f] - 1]++;
    w->pos[w->at_pos[f]++] = e[2];
  }
  w->nstage = 0;
}

/* ===== the rows, from the producer to the writer =====
** kb_rank_copy inverts and encodes on a thread of its own (rw_rows) while the
** writer's thread inserts (q_drain): at 10k articles each is about half of
** the 0.45 s the tables took on one thread. A row is kind, id, two numbers
** and its bytes, appended to a chunk; full chunks queue (at most RQ_MAX). */
enum { ROW_TERM, ROW_POST, ROW_POS, ROW_DOC };
#define RQ_MAX 8
#define RQ_CHUNK_BYTES (1u << 18)

typedef struct rq_chunk { ts_buf data; } rq_chunk;

typedef struct rank_q {
  ts_queue q;                   /* full chunks, to the writer */
  rq_chunk *cur;                /* the producer's chunk being filled */
} rank_q;

static int q_init(rank_q *q)
{
  q->cur = NULL;
  return ts_queue_init(&q->q, RQ_MAX);
}

static void chunk_free(rq_chunk *c)
{
  if (!c) return;
  ts_buf_free(&c->data);
  ts_free(c);
}

static void chunk_drop(void *c) { chunk_free(c); }

static void q_destroy(rank_q *q)
{
  ts_queue_destroy(&q->q, chunk_drop);
  chunk_free(q->cur);
  q->cur = NULL;
}

/* Queue the producer's chunk (waiting for room); 0, or -1 once the writer
** stopped. */
static int q_push(rank_q *q)
{
  if (ts_queue_push(&q->q, q->cur) != 0) return -1;
  q->cur = NULL;
  return 0;
}

/* The producer is done (rc: how): its last chunk goes, then the end. */
static void q_close(rank_q *q, int rc)
{
  if (rc == TSHOOT_OK && q->cur && q->cur->data.len) q_push(q);
  ts_queue_close(&q->q);
}

/* Insert one row with the writer's statements. */
static int out_exec(rw *w, int kind, uint32_t id, const void *p, size_t n, uint32_t a, uint32_t b)
{
  sqlite3_stmt *st = kind == ROW_TERM ? w->ins_term : kind == ROW_POST ? w->ins_post
                     : kind == ROW_POS ? w->ins_pos : w->ins_doc;
  static const char *const what[] = { "writing the ranking terms", "writing the postings",
                                      "writing the positions", "writing the ranking data" };
  int rc;
  if (kind == ROW_TERM) {
    sqlite3_bind_text(st, 1, n ? p : "", (int)n, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)a);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)b);
  } else {
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_blob(st, 2, n ? p : "", (int)n, SQLITE_STATIC);
  }
  if (kind == ROW_DOC) {            /* its text, as article_fts indexed it */
    const char *t[TS_FTS_NCOLS];
    int l[TS_FTS_NCOLS], j;
    rc = w->text(w->text_ctx, id, t, l);
    if (rc != TSHOOT_OK) return rc;
    for (j = 0; j < TS_FTS_NCOLS; j++) {
      if (t[j]) sqlite3_bind_text(st, 3 + j, l[j] ? t[j] : "", l[j], SQLITE_STATIC);
      else sqlite3_bind_null(st, 3 + j);
    }
  }
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return kb_sqlite_error(sqlite3_db_handle(st), rc, what[kind]);
  if (kind == ROW_DOC && sqlite3_changes(sqlite3_db_handle(st)) != 1)   /* an FTS5 row is an article: never */
    return ts_error(TSHOOT_ERROR, "indexing: article %lu has no row", (unsigned long)id);
  return TSHOOT_OK;
}

/* A row for the KB: inserted here when there is no producer thread, else
** added to the chunk being filled. Sets w->rc on failure. */
static int out_row(rw *w, int kind, uint32_t id, const void *p, size_t n, uint32_t a, uint32_t b)
{
  rank_q *q = w->q;
  uint32_t head[5];
  if (w->rc != TSHOOT_OK) return w->rc;
  if (!q) return w->rc = out_exec(w, kind, id, p, n, a, b);
  if (n > 0x7fffffff) return w->rc = ts_error(TSHOOT_ELIMIT, "indexing: a ranking row is too large");
  if (!q->cur && !(q->cur = ts_calloc(1, sizeof *q->cur))) return w->rc = ts_error_oom();
  head[0] = (uint32_t)kind;
  head[1] = id;
  head[2] = a;
  head[3] = b;
  head[4] = (uint32_t)n;
  ts_buf_add(&q->cur->data, (const char *)head, sizeof head);
  if (n) ts_buf_add(&q->cur->data, p, n);
  if (q->cur->data.oom) return w->rc = ts_error_oom();
  if (q->cur->data.len >= RQ_CHUNK_BYTES && q_push(q) != 0)
    return w->rc = ts_error(TSHOOT_ERROR, "indexing: stopped");   /* the writer's error is said */
  return TSHOOT_OK;
}

static int q_drain(rank_q *q, rw *w)
{
  int rc = TSHOOT_OK;
  rq_chunk *c;
  while ((c = ts_queue_pop(&q->q)) != NULL) {
    const char *p = c->data.p, *end = p + c->data.len;
    while (rc == TSHOOT_OK && p + 5 * sizeof(uint32_t) <= end) {
      uint32_t head[5];
      memcpy(head, p, sizeof head);
      p += sizeof head;
      rc = out_exec(w, (int)head[0], head[1], p, head[4], head[2], head[3]);
      p += head[4];
      if (rc != TSHOOT_OK) ts_queue_stop(&q->q);   /* the producer stops at its next chunk */
    }
    chunk_free(c);
  }
  return rc;
}

/* One pass over the caught rows (rank_cp of `from`, in article order): each
** article must be there, its token counts FTS5's. PASS_COUNT counts each
** term's positions and articles (and checks the checkpoints); PASS_FILL fills
** the postings of the slice of terms [tlo, thi); PASS_DOCS (with the first
** PASS_FILL: the writer inserts them while the other slices are filled)
** writes rank_doc
** (the term ids, final, then the checkpoints). */
static int pass(rw *w, sqlite3 *from, int mode)
{
  sqlite3_int64 d = 0;
  int rc = sqlite3_prepare_v2(from, "SELECT id, cp, toks FROM rank_cp ORDER BY id", -1, &w->sel, NULL);
  uint64_t seen = 0;
  if (rc != SQLITE_OK) return rw_fail(w, rc, "reading the articles' tokens");
  while (w->rc == TSHOOT_OK && (rc = sqlite3_step(w->sel)) == SQLITE_ROW) {
    sqlite3_int64 id = sqlite3_column_int64(w->sel, 0);
    const unsigned char *cp = sqlite3_column_blob(w->sel, 1), *cend, *tk;
    size_t ncp = (size_t)sqlite3_column_bytes(w->sel, 1), ntk, want = 0;
    int col;
    tk = sqlite3_column_blob(w->sel, 2);
    ntk = (size_t)sqlite3_column_bytes(w->sel, 2);
    if ((!cp && ncp) || (!tk && ntk)) { w->rc = ts_error_oom(); break; }
    if (id != ++d || d > w->ndoc) {
      w->rc = ts_error(TSHOOT_ERROR, "indexing: article %lld has no text", (long long)d);
      break;
    }
    for (col = 0; col < TS_FTS_NCOLS; col++) want += w->colsz[d * TS_FTS_NCOLS + col];
    if (ntk != RANK_TOK_BYTES * want) {
      w->rc = ts_error(TSHOOT_ERROR, "indexing: article %lld's tokens disagree with FTS5's count",
                       (long long)d);
      break;
    }
    seen += want;
    if (mode & PASS_FILL) {
      const unsigned char *tk0 = tk;
      /* the slice's tokens, staged: (term, article, col << 24 | offset) */
      for (col = 0; col < TS_FTS_NCOLS; col++) {
        uint32_t k, n = w->colsz[d * TS_FTS_NCOLS + col];
        for (k = 0; k < n; k++, tk += RANK_TOK_BYTES) {
          uint32_t f = w->final[rank_tok_get(tk)];
          uint32_t *e;
          if (f < w->tlo || f >= w->thi) continue;
          if (w->nstage == STAGE_MAX) fill_staged(w);
          e = w->stage + 3 * w->nstage++;
          e[0] = f;
          e[1] = (uint32_t)d;
          e[2] = (uint32_t)col << 24 | (k & 0xffffff);
        }
      }
      if (!(mode & PASS_DOCS)) continue;
      tk = tk0;
    }
    ts_buf_reset(&w->body);
    for (col = 0; col < TS_FTS_NCOLS; col++) {
      uint32_t k, n = w->colsz[d * TS_FTS_NCOLS + col];
      if (mode & PASS_DOCS) ts_buf_varint(&w->body, n);
      for (k = 0; k < n; k++, tk += RANK_TOK_BYTES) {
        uint32_t p = rank_tok_get(tk), f;
        if (p >= w->nterm) break;          /* an id the catcher never gave: never */
        f = w->final[p];
        if (mode & PASS_DOCS) {
          put_le(&w->body, f, RANK_TOK_BYTES);
          continue;
        }
        w->npos[f]++;
        if (w->last[f] != (uint32_t)d) {
          w->last[f] = (uint32_t)d;
          w->df[f]++;
        }
        if (col < TS_FTS_HEAD_COLS && w->lasth[f] != (uint32_t)d) {
          w->lasth[f] = (uint32_t)d;
          w->hdf[f]++;
        }
      }
      if (k < n) { cp = NULL; break; }
    }
    /* the checkpoints, after the counts they were caught with */
    for (col = 0, cend = cp + ncp; col < TS_FTS_NCOLS && cp; col++) {
      uint64_t v;
      size_t k, m;
      int l = (int)ts_varint_get(cp, (size_t)(cend - cp), &v);
      if (l == 0 || v != w->colsz[d * TS_FTS_NCOLS + col]) { cp = NULL; break; }
      cp += l;
      m = (size_t)((v + RANK_CHECKPOINT - 1) / RANK_CHECKPOINT);
      for (k = 0; k < m && cp; k++) {
        l = (int)ts_varint_get(cp, (size_t)(cend - cp), &v);
        if (l == 0) cp = NULL;
        else {
          if (mode & PASS_DOCS) ts_buf_add(&w->body, (const char *)cp, (size_t)l);
          cp += l;
        }
      }
    }
    if (!cp) {
      w->rc = ts_error(TSHOOT_ERROR, "indexing: article %lld's token offsets disagree with FTS5's"
                       " count", (long long)d);
      break;
    }
    if (mode & PASS_DOCS) {      /* with its name, title, path and line from the model's rows */
      if (w->body.oom) { w->rc = ts_error_oom(); break; }
      if (out_row(w, ROW_DOC, (uint32_t)d, w->body.p, w->body.len, 0, 0) != TSHOOT_OK) break;
    }
  }
  if (w->rc == TSHOOT_OK && rc != SQLITE_DONE) rw_fail(w, rc, "reading the articles' tokens");
  if (mode & PASS_FILL) fill_staged(w);
  sqlite3_finalize(w->sel);
  w->sel = NULL;
  if (w->rc == TSHOOT_OK && d != w->ndoc)
    w->rc = ts_error(TSHOOT_ERROR, "indexing: article %lld has no text", (long long)d + 1);
  if (w->rc == TSHOOT_OK && seen != w->ntok)   /* follows from the above: kept as a guard */
    w->rc = ts_error(TSHOOT_ERROR, "indexing: caught %llu of the index's %llu tokens",
                     (unsigned long long)seen, (unsigned long long)w->ntok);
  return w->rc;
}

/* The next slice of terms from w->thi whose postings fit (at least one
** term), filled from the caught rows. */
static int next_slice(rw *w, sqlite3 *from, uint64_t cap, int docs)
{
  uint64_t cost = 0;
  size_t np = 0, nd = 0, f;
  w->tlo = w->thi;
  for (f = w->tlo; f < w->nterm; f++) {
    uint64_t c = 4 * (uint64_t)w->npos[f] + 8 * (uint64_t)w->df[f];
    if (f > w->tlo && cost + c > cap) break;
    cost += c;
    w->at_pos[f] = (uint32_t)np;
    w->at_post[f] = (uint32_t)nd;
    w->last[f] = 0;
    np += w->npos[f];
    nd += w->df[f];
  }
  w->thi = f;
  for (w->shift = 0; ((w->thi - w->tlo - 1) >> w->shift) >= 256; w->shift++) {}
  if (!w->stage && !(w->stage = ts_malloc(2 * 3 * STAGE_MAX * sizeof *w->stage)))
    return w->rc = ts_error_oom();
  ts_free(w->pos);
  ts_free(w->post);
  w->pos = ts_malloc((np ? np : 1) * sizeof *w->pos);
  w->post = ts_malloc((nd ? 2 * nd : 1) * sizeof *w->post);
  if (!w->pos || !w->post) return w->rc = ts_error_oom();
  return pass(w, from, PASS_FILL | (docs ? PASS_DOCS : 0));
}

/* Term f's rank_post row (or, pos != 0, its rank_pos row) from the slice. */
static void write_term(rw *w, size_t f, int pos_row)
{
  size_t n = w->df[f], nblk = (n + RANK_BLOCK - 1) / RANK_BLOCK, i;
  const uint32_t *post = w->post + 2 * (w->at_post[f] - n);
  const uint32_t *pos = w->pos + (w->at_pos[f] - w->npos[f]);
  uint32_t prev = 0;
  if (ts_grow((void **)&w->wtf, &w->wtf_cap, 2 * n, sizeof *w->wtf) < 0) {
    w->rc = ts_error_oom();
    return;
  }
  ts_buf_reset(&w->postb);
  ts_buf_reset(&w->body);
  ts_buf_reset(&w->posb);
  /* the weighted frequencies, or the positions of each posting: their
  ** count, then each as the difference from the one before (from 0) */
  for (i = 0; i < n; i++) {
    uint32_t k, np = post[2 * i + 1], wf = 0, hwf = 0, pp = 0;
    if (pos_row) {
      ts_buf_varint(&w->posb, np);
      for (k = 0; k < np; k++, pos++) {
        ts_buf_varint(&w->posb, *pos - pp);
        pp = *pos;
      }
      continue;
    }
    for (k = 0; k < np; k++, pos++) {
      uint32_t col = *pos >> 24;
      wf += (uint32_t)w_int[col];
      if (col < TS_FTS_HEAD_COLS) hwf += (uint32_t)w_int[col];
    }
    w->wtf[2 * i] = wf;
    w->wtf[2 * i + 1] = hwf;
  }
  if (!pos_row) {
    ts_buf_varint(&w->postb, n);
    ts_buf_varint(&w->postb, nblk);
    for (i = 0; i < n; i++) {
      if (i % RANK_BLOCK == 0) {
        size_t last = i + RANK_BLOCK < n ? i + RANK_BLOCK - 1 : n - 1, j;
        float mx = 0, hmx = 0;
        for (j = i; j <= last; j++) {      /* the block's largest bm25 parts, rounded up */
          float a = part_up(w, post[2 * j], w->wtf[2 * j]);
          float h = part_up(w, post[2 * j], w->wtf[2 * j + 1]);
          if (a > mx) mx = a;
          if (h > hmx) hmx = h;
        }
        put_le(&w->postb, post[2 * last], 4);
        put_le(&w->postb, (uint32_t)w->body.len, 4);
        put_f32(&w->postb, mx);
        put_f32(&w->postb, hmx);
      }
      ts_buf_varint(&w->body, post[2 * i] - prev);
      ts_buf_varint(&w->body, w->wtf[2 * i]);
      ts_buf_varint(&w->body, w->wtf[2 * i + 1]);
      prev = post[2 * i];
    }
    ts_buf_add(&w->postb, w->body.p ? w->body.p : "", w->body.len);
  }
  if (w->postb.oom || w->body.oom || w->posb.oom) { w->rc = ts_error_oom(); return; }
  if (pos_row) out_row(w, ROW_POS, (uint32_t)f, w->posb.p, w->posb.len, 0, 0);
  else out_row(w, ROW_POST, (uint32_t)f, w->postb.p, w->postb.len, 0, 0);
}

int kb_rank_build(sqlite3 *db, kb_rank_catch *k)
{
  rw *w;
  if (!k) return ts_error(TSHOOT_ERROR, "indexing: no tokens were caught");
  w = &k->w;
  rw_free(w);
  w->db = db;
  w->t = &k->t;
  if (k->err & CATCH_OOM) return w->rc = ts_error_oom();   /* kb_rank_catch_end said so: never */
  if (read_sizes(w) == TSHOOT_OK && sort_terms(w) == TSHOOT_OK) {
    w->db = k->cdb;           /* where the caught rows are */
    if (pass(w, k->cdb, PASS_COUNT) == TSHOOT_OK) {
      w->built = 1;
      k->ntok = w->ntok;
      k->ndoc = w->ndoc;
    }
  }
  return catch_fail(k, w->rc);
}

/* The tables' rows, produced (rw_rows) on a thread of their own while the
** writer's thread inserts them (out_exec), through a queue of chunks. */
static int rw_rows(rw *w)
{
  uint64_t all = 0, cap = slice_bytes;
  size_t f;
  /* rank_term, in id (byte) order */
  for (f = 0; f < w->nterm && w->rc == TSHOOT_OK; f++) {
    uint32_t pv = w->prov[f];
    out_row(w, ROW_TERM, (uint32_t)f, w->t->bytes + w->t->off[pv], w->t->off[pv + 1] - w->t->off[pv],
            w->df[f], w->hdf[f]);
  }
  /* rank_doc (with the first slice's pass), rank_post and rank_pos: a
  ** slice of terms inverted at a time, one pass over the caught rows for
  ** both tables' rows of the slice (each table's rows still in id order;
  ** with one slice, all of rank_post, then all of rank_pos). A pass per
  ** table and one more for rank_doc read the caught rows (87 MB at 100k
  ** articles) eleven times there, not five: the tables took 6.5 s of the
  ** compile's tail, now 4.1 s. */
  for (f = 0; f < w->nterm; f++) all += 4 * (uint64_t)w->npos[f] + 8 * (uint64_t)w->df[f];
  if (all / INV_MAX_SLICES + 1 > cap) cap = all / INV_MAX_SLICES + 1;
  for (w->thi = 0; w->thi < w->nterm && w->rc == TSHOOT_OK;)
    if (next_slice(w, w->db, cap, w->thi == 0) == TSHOOT_OK) {
      for (f = w->tlo; f < w->thi && w->rc == TSHOOT_OK; f++) write_term(w, f, 0);
      for (f = w->tlo; f < w->thi && w->rc == TSHOOT_OK; f++) write_term(w, f, 1);
    }
  /* rank_doc's rows came with the first slice; with no term, no slice */
  if (w->nterm == 0 && w->rc == TSHOOT_OK) pass(w, w->db, PASS_DOCS);
  return w->rc;
}

static void *rw_producer(void *arg)
{
  rw *w = arg;
  rw_rows(w);
  if (w->rc != TSHOOT_OK && w->rc != TSHOOT_ENOMEM)
    snprintf(w->msg, sizeof w->msg, "%s", tshoot_error_last()->message);
  q_close(w->q, w->rc);
  return NULL;
}

int kb_rank_copy(sqlite3 *to, kb_rank_catch *k, kb_text_fn text, void *ctx)
{
  rw *w = k ? &k->w : NULL;
  rank_q q;
  pthread_t tid;
  int rc, threaded = 0;
  if (!w || !w->built) return ts_error(TSHOOT_ERROR, "indexing: the ranking data was not built");
  w->db = k->cdb;
  w->text = text;
  w->text_ctx = ctx;
  rc = sqlite3_prepare_v2(to, "INSERT INTO rank_term(term, id, df, hdf) VALUES(?1, ?2, ?3, ?4)", -1,
                          &w->ins_term, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(to, "INSERT INTO rank_post(id, post) VALUES(?1, ?2)", -1, &w->ins_post, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(to, "INSERT INTO rank_pos(id, pos) VALUES(?1, ?2)", -1, &w->ins_pos, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(to, "INSERT INTO rank_doc(id, name, title, path, line, toks, symptoms,"
                            " aliases, causes, fixes) SELECT a.id, a.name, ?3, s.path, a.line, ?2,"
                            " ?4, ?5, ?6, ?7 FROM article AS a"
                            " LEFT JOIN source AS s ON s.id = a.source WHERE a.id = ?1", -1,
                            &w->ins_doc, NULL);
  if (rc != SQLITE_OK) {
    rc = kb_sqlite_error(to, rc, "writing the ranking data");
    rw_free(w);
    return rc;
  }
  if (q_init(&q) == 0) {
    w->q = &q;
    threaded = pthread_create(&tid, NULL, rw_producer, w) == 0;
    if (!threaded) {
      w->q = NULL;
      q_destroy(&q);
    }
  }
  if (threaded) {
    rc = q_drain(&q, w);          /* the writer's side, until the producer closes */
    pthread_join(tid, NULL);
    q_destroy(&q);
    w->q = NULL;
    if (rc == TSHOOT_OK && w->rc != TSHOOT_OK)    /* the producer's failure, said here */
      rc = w->rc == TSHOOT_ENOMEM ? ts_error_oom() : ts_error(w->rc, "%s", w->msg);
  } else {
    rc = rw_rows(w);              /* each row inserted as it comes */
  }
  rw_free(w);
  return rc;
}
