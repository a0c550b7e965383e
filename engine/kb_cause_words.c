/*
** kb_cause_words.c: the words of each cause, counted for bm25 (format 6).
**
** A person's description moves the causes whose own words it uses
** (search.c, search_cause_scores): their title, explanation, the symptoms
** that name them, their aliases and the answers their evidence expects
** (kb_write.c, cause_texts: five columns). Format 5 kept those words in a
** second FTS5 index, cause_fts, asked only one thing: bm25 over an OR of
** single words. That index stored every position of every word (7.6 MB at
** 10k articles) and building it was about a fifth of a compile's CPU time.
** What bm25 reads is kept here, and nothing else:
**
**   cause_term(term TEXT PRIMARY KEY, df INTEGER, post BLOB) WITHOUT ROWID
**
** one row per term (the token FTS5 would index: porter over unicode61 with
** kb_schema.h's arguments, cut at FTS5's 32768 bytes), df the causes that
** use it, and post one entry per such cause in increasing id, three SQLite
** varints: the id's step from the previous one (the first from 0), the
** term's count in the cause weighted by column in halves
** (TS_CAUSE_WEIGHT_HALVES), and the cause's length in tokens (all columns).
** meta "cause_tokens" holds the tokens of all causes; the causes are the
** cause table's rows. From these search.c computes what FTS5's bm25
** (fts5_aux.c) gave with the weights TS_CAUSE_WEIGHTS, to the same doubles.
**
** kb_write.c builds it on the thread that counts the vocabulary: each
** cause's columns go through FTS5's own tokenizer (made from a private
** in-memory database's fts5_api), each term is numbered (kb_terms.h, as
** the catcher of article_fts's tokens numbers its), its count in the row is summed,
** and one entry per term is appended to the term's list. A cause whose
** answers name a question of a later source comes last (kb_write.c's
** deferred causes): such a list is sorted when finished.
*/
#include "kb.h"
#include "kb_schema.h"
#include "kb_terms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CW_TOKEN_MAX 32768       /* FTS5 indexes at most this many bytes of a token */

static const uint32_t halves[TS_CAUSE_NCOLS] = TS_CAUSE_WEIGHT_HALVES;

typedef struct cw_term {         /* by the term's number in kb_cause_words.terms */
  uint32_t stamp;                /* the row that last used it (kb_cause_words.rows) */
  uint32_t acc;                  /* its weighted count in that row, in halves */
  uint32_t df, last;             /* entries so far; the last cause id */
  int unsorted;                  /* an id came after a larger one */
  ts_buf post;                   /* building: (zigzag id step, count); then the row's blob */
} cw_term;

struct kb_cause_words {
  sqlite3 *db;                   /* private, in memory: its fts5_api makes the tokenizer */
  fts5_tokenizer api;
  Fts5Tokenizer *tok;
  kb_terms terms;
  cw_term *t;                    /* what is counted of each term */
  size_t nt, tcap;
  uint32_t *touched;             /* the terms of the row being counted */
  size_t ntouch, touchcap;
  uint32_t *dl;                  /* tokens of each cause, by id */
  size_t dlcap;
  uint64_t tokens;               /* of all causes */
  uint32_t rows;
  uint32_t weight, col_tokens, row_tokens;  /* the column being tokenized */
  uint32_t *order;               /* kb_cause_words_finish: terms in byte order */
  int oom;
  int finished;
};

int kb_cause_words_new(kb_cause_words **out)
{
  const char *args[] = { "unicode61", "remove_diacritics", "2" };   /* TS_FTS_TOKENIZE's */
  kb_cause_words *cw;
  fts5_api *api = NULL;
  void *ud = NULL;
  int rc;
  *out = NULL;
  if (!(cw = ts_calloc(1, sizeof *cw))) return ts_error_oom();
  rc = sqlite3_open_v2(":memory:", &cw->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK) rc = kb_fts5_api(cw->db, &api);
  if (rc == SQLITE_OK && !api) rc = SQLITE_ERROR;
  if (rc == SQLITE_OK) rc = api->xFindTokenizer(api, "porter", &ud, &cw->api);
  if (rc == SQLITE_OK) rc = cw->api.xCreate(ud, args, 3, &cw->tok);
  if (rc != SQLITE_OK) {
    rc = rc == SQLITE_NOMEM ? ts_error_oom()
                            : ts_error(TSHOOT_ERROR, "setting up the causes' words: %s", sqlite3_errstr(rc));
    kb_cause_words_free(cw);
    return rc;
  }
  *out = cw;
  return TSHOOT_OK;
}

void kb_cause_words_free(kb_cause_words *cw)
{
  size_t i;
  if (!cw) return;
  if (cw->tok) cw->api.xDelete(cw->tok);
  if (cw->db) sqlite3_close(cw->db);
  for (i = 0; i < cw->nt; i++) ts_buf_free(&cw->t[i].post);
  ts_free(cw->t);
  kb_terms_free(&cw->terms);
  ts_free(cw->touched);
  ts_free(cw->dl);
  ts_free(cw->order);
  ts_free(cw);
}

/* The number of term tok[0, n), added if new; -1 when out of memory. */
static long term_id(kb_cause_words *cw, const char *tok, int n)
{
  long id = kb_terms_id(&cw->terms, tok, n, UINT32_MAX - 1);
  if (id < 0) return -1;
  if ((size_t)id == cw->nt) {
    if (ts_grow((void **)&cw->t, &cw->tcap, cw->nt + 1, sizeof *cw->t) != 0) return -1;
    memset(&cw->t[cw->nt++], 0, sizeof *cw->t);
  }
  return id;
}

static int cw_token(void *ctx, int flags, const char *tok, int n, int b0, int b1)
{
  kb_cause_words *cw = ctx;
  cw_term *t;
  long id;
  (void)b0;
  (void)b1;
  /* FTS5 counts a column's tokens this way (fts5_storage.c): one that
  ** shares the place of the one before is no further token */
  if (!(flags & FTS5_TOKEN_COLOCATED) || cw->col_tokens == 0) {
    cw->col_tokens++;
    cw->row_tokens++;
  }
  id = term_id(cw, tok, n < 0 ? 0 : n > CW_TOKEN_MAX ? CW_TOKEN_MAX : n);
  if (id < 0) {
    cw->oom = 1;
    return SQLITE_NOMEM;
  }
  t = &cw->t[id];
  if (t->stamp != cw->rows) {
    if (ts_grow((void **)&cw->touched, &cw->touchcap, cw->ntouch + 1, sizeof *cw->touched) != 0) {
      cw->oom = 1;
      return SQLITE_NOMEM;
    }
    cw->touched[cw->ntouch++] = (uint32_t)id;
    t->stamp = cw->rows;
    t->acc = 0;
  }
  t->acc += cw->weight;
  return SQLITE_OK;
}

int kb_cause_words_add(kb_cause_words *cw, uint32_t id, const char *const *text, const int *len)
{
  size_t i;
  int c, rc;
  if (cw->oom) return TSHOOT_ENOMEM;
  if (id == 0 || cw->finished) return ts_error(TSHOOT_ERROR, "the causes' words: cause id %u out of place", id);
  cw->rows++;
  cw->ntouch = 0;
  cw->row_tokens = 0;
  for (c = 0; c < TS_CAUSE_NCOLS; c++) {
    if (!text[c] || len[c] <= 0) continue;
    cw->weight = halves[c];
    cw->col_tokens = 0;
    rc = cw->api.xTokenize(cw->tok, cw, FTS5_TOKENIZE_DOCUMENT, text[c], len[c], cw_token);
    if (cw->oom || rc == SQLITE_NOMEM) return cw->oom = 1, TSHOOT_ENOMEM;
    if (rc != SQLITE_OK) return ts_error(TSHOOT_ERROR, "tokenizing cause %u: %s", id, sqlite3_errstr(rc));
  }
  for (i = 0; i < cw->ntouch; i++) {
    cw_term *t = &cw->t[cw->touched[i]];
    int64_t step = (int64_t)id - (int64_t)t->last;
    if (step <= 0) t->unsorted = 1;
    ts_buf_varint(&t->post, (uint64_t)(step < 0 ? ((-step) << 1) - 1 : step << 1));   /* zigzag */
    ts_buf_varint(&t->post, t->acc);
    if (t->post.oom) return cw->oom = 1, TSHOOT_ENOMEM;
    t->last = id;
    t->df++;
  }
  if (ts_grow((void **)&cw->dl, &cw->dlcap, (size_t)id + 1, sizeof *cw->dl) != 0)
    return cw->oom = 1, TSHOOT_ENOMEM;
  cw->dl[id] = cw->row_tokens;
  cw->tokens += cw->row_tokens;
  return TSHOOT_OK;
}

typedef struct cw_post {
  uint32_t id, acc;
} cw_post;

static int cmp_post(const void *a, const void *b)
{
  uint32_t x = ((const cw_post *)a)->id, y = ((const cw_post *)b)->id;
  return x < y ? -1 : x > y;
}

/* Term t's list as its row holds it: entries in increasing id, each with
** the cause's length. */
static int finish_term(kb_cause_words *cw, cw_term *t, cw_post **buf, size_t *cap)
{
  const unsigned char *p = (const unsigned char *)t->post.p, *end = p + t->post.len;
  ts_buf out = TS_BUF_INIT;
  uint32_t i, prev = 0;
  int64_t id = 0;
  if (ts_grow((void **)buf, cap, t->df, sizeof **buf) != 0) return TSHOOT_ENOMEM;
  for (i = 0; i < t->df; i++) {
    uint64_t zz, acc;
    size_t k = ts_varint_get(p, (size_t)(end - p), &zz);
    p += k;
    k = k ? ts_varint_get(p, (size_t)(end - p), &acc) : 0;
    if (!k) return ts_error(TSHOOT_ERROR, "the causes' words: a list is damaged");
    p += k;
    id += zz & 1 ? -(int64_t)((zz + 1) >> 1) : (int64_t)(zz >> 1);
    (*buf)[i].id = (uint32_t)id;
    (*buf)[i].acc = (uint32_t)acc;
  }
  if (t->unsorted) qsort(*buf, t->df, sizeof **buf, cmp_post);
  for (i = 0; i < t->df; i++) {
    uint32_t c = (*buf)[i].id;
    ts_buf_varint(&out, c - prev);
    ts_buf_varint(&out, (*buf)[i].acc);
    ts_buf_varint(&out, c < cw->dlcap ? cw->dl[c] : 0);
    prev = c;
  }
  if (out.oom) {
    ts_buf_free(&out);
    return TSHOOT_ENOMEM;
  }
  ts_buf_free(&t->post);
  t->post = out;
  return TSHOOT_OK;
}

int kb_cause_words_finish(kb_cause_words *cw)
{
  cw_post *buf = NULL;
  size_t i, cap = 0;
  int rc = TSHOOT_OK;
  if (cw->oom) return TSHOOT_ENOMEM;
  if (cw->finished) return TSHOOT_OK;
  for (i = 0; i < cw->nt && rc == TSHOOT_OK; i++) rc = finish_term(cw, &cw->t[i], &buf, &cap);
  ts_free(buf);
  if (rc == TSHOOT_OK && !(cw->order = kb_terms_order(&cw->terms)))   /* rows in key order: appended */
    rc = TSHOOT_ENOMEM;
  if (rc == TSHOOT_ENOMEM) cw->oom = 1;
  if (rc == TSHOOT_OK) cw->finished = 1;
  return rc;
}

int kb_cause_words_write(kb_cause_words *cw, sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  char n[24];
  size_t i;
  int rc;
  if (!cw->finished) return ts_error(TSHOOT_ERROR, "the causes' words are not finished");
  rc = sqlite3_prepare_v2(db, "INSERT INTO cause_term(term, df, post) VALUES(?1, ?2, ?3)", -1, &st, NULL);
  for (i = 0; i < cw->nt && rc == SQLITE_OK; i++) {
    const cw_term *t = &cw->t[cw->order[i]];
    uint32_t len;
    const char *term = kb_terms_get(&cw->terms, cw->order[i], &len);
    sqlite3_bind_text(st, 1, term, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t->df);
    sqlite3_bind_blob(st, 3, t->post.p, (int)t->post.len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  st = NULL;
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, "INSERT INTO meta(key, value) VALUES('" TS_META_CAUSE_TOKENS "', ?1)",
                            -1, &st, NULL);
  if (rc == SQLITE_OK) {
    snprintf(n, sizeof n, "%llu", (unsigned long long)cw->tokens);
    sqlite3_bind_text(st, 1, n, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_OK ? TSHOOT_OK : kb_sqlite_error(db, rc, "writing the causes' words");
}
