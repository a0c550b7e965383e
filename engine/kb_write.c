/*
** kb_write.c: writing a checked model into a new SQLite file (the format of
** kb_schema.h). Everything goes in one transaction with no journal: the file
** is a temporary one that kb_compile.c renames into place only when it is
** whole. The order of every insert is fixed by the order of the sources, so
** the same sources give the same bytes.
*/
#include "kb_model.h"
#include "kb.h"
#include "kb_schema.h"
#include "text.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===== conditions as S-expressions ===== */

static const char *const sexp_ops[] = { "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge",
                                        "in", "holds", "known" };

static void sexp_str(ts_buf *b, const char *s)
{
  ts_buf_addc(b, '"');
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') ts_buf_addc(b, '\\');
    ts_buf_addc(b, *s);
  }
  ts_buf_addc(b, '"');
}

static void sexp_cond(ts_buf *b, const m_cond *c)
{
  size_t i;
  ts_buf_addc(b, '(');
  ts_buf_adds(b, sexp_ops[c->op]);
  if (c->op == C_AND || c->op == C_OR || c->op == C_NOT) {
    for (i = 0; i < c->n_kids; i++) {
      ts_buf_addc(b, ' ');
      sexp_cond(b, c->kids[i]);
    }
  } else {
    ts_buf_addc(b, ' ');
    ts_buf_adds(b, c->ref ? c->ref : "");
    for (i = 0; i < c->n_values; i++) {
      ts_buf_addc(b, ' ');
      sexp_str(b, c->values[i]);
    }
  }
  ts_buf_addc(b, ')');
}

/* ===== vocabulary: word -> number of articles that contain it ===== */

typedef struct vslot { char *w; uint32_t n, last, len; } vslot;
typedef struct vocab {
  vslot *s;
  size_t cap, used;
  int oom;
} vocab;

static uint64_t fnv1a(const char *s, size_t n)
{
  uint64_t h = 1469598103934665603ull;
  size_t i;
  for (i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ull; }
  return h;
}

static int vocab_grow(vocab *v)
{
  size_t ncap = v->cap ? v->cap * 2 : 4096, i;
  vslot *ns = ts_calloc(ncap, sizeof *ns);
  if (!ns) return -1;
  for (i = 0; i < v->cap; i++)
    if (v->s[i].w) {
      size_t j = fnv1a(v->s[i].w, v->s[i].len) & (ncap - 1);
      while (ns[j].w) j = (j + 1) & (ncap - 1);
      ns[j] = v->s[i];
    }
  ts_free(v->s);
  v->s = ns;
  v->cap = ncap;
  return 0;
}

/* Count folded word w once for article `doc` (1-based; 0: count nothing). */
static void vocab_add(vocab *v, const char *w, size_t n, uint32_t doc)
{
  size_t j;
  if (v->oom) return;
  if ((v->used + 1) * 2 > v->cap && vocab_grow(v) < 0) { v->oom = 1; return; }
  j = fnv1a(w, n) & (v->cap - 1);
  while (v->s[j].w) {
    if (v->s[j].len == n && memcmp(v->s[j].w, w, n) == 0) {
      if (doc && v->s[j].last != doc) { v->s[j].n++; v->s[j].last = doc; }
      return;
    }
    j = (j + 1) & (v->cap - 1);
  }
  v->s[j].w = ts_strndup(w, n);
  if (!v->s[j].w) { v->oom = 1; return; }
  v->s[j].n = doc ? 1 : 0;
  v->s[j].last = doc;
  v->s[j].len = (uint32_t)n;
  v->used++;
}

static void vocab_add_text(vocab *v, const char *s, uint32_t doc)
{
  size_t pos = 0, start, len, n;
  char w[TEXT_MAX_WORD + 1];
  if (!s) return;
  n = strlen(s);
  while (text_next_word(s, n, &pos, &start, &len)) {
    text_fold(w, s + start, len);
    vocab_add(v, w, len, doc);
  }
}

/* The text of article i's FTS5 columns, field by field in column order:
** fn(ud, column, text) for each field (text may be NULL). The one definition
** of what is indexed: the writer joins the fields of a column with newlines,
** the vocabulary counts their words (no word spans a newline). */
typedef void (*text_fn)(void *ud, int col, const char *text);

static void article_texts(const kb_model *m, size_t i, text_fn fn, void *ud)
{
  const m_article *a = &m->articles[i];
  size_t j, l, s;
  fn(ud, TS_FTS_TITLE, a->title);
  for (j = 0; j < a->n_symptoms; j++) {
    fn(ud, TS_FTS_SYMPTOMS, a->symptoms[j].text);
    fn(ud, TS_FTS_SYMPTOMS, a->symptoms[j].code);
  }
  fn(ud, TS_FTS_ALIASES, a->id);
  for (j = 0; j < a->n_aliases; j++) fn(ud, TS_FTS_ALIASES, a->aliases[j]);
  fn(ud, TS_FTS_CAUSES, a->summary);
  for (j = 0; j < a->n_causes; j++) {
    const m_cause *c = &m->causes[a->first_cause + j];
    fn(ud, TS_FTS_CAUSES, c->title);
    fn(ud, TS_FTS_CAUSES, c->explanation);
    for (l = 0; l < c->n_aliases; l++) fn(ud, TS_FTS_ALIASES, c->aliases[l]);
    for (l = 0; l < c->n_fixes; l++) {
      const m_fix *f = &c->fixes[l];
      fn(ud, TS_FTS_FIXES, f->title);
      for (s = 0; s < f->n_steps; s++) fn(ud, TS_FTS_FIXES, f->steps[s]);
      fn(ud, TS_FTS_FIXES, f->verify);
    }
  }
}

/* The vocabulary is counted on a second thread while this one feeds SQLite
** (it was a tenth of the write): the model does not change while the KB is
** written, and the vocabulary is only read once both are done. */
typedef struct vocab_job {
  const kb_model *m;
  vocab *v;
  uint32_t doc;                 /* the article being counted, 1-based */
} vocab_job;

static void vocab_field(void *ud, int col, const char *text)
{
  vocab_job *job = ud;
  (void)col;
  vocab_add_text(job->v, text, job->doc);
}

static void *vocab_worker(void *arg)
{
  vocab_job *job = arg;
  size_t i;
  for (i = 0; i < job->m->n_articles && !job->v->oom; i++) {
    job->doc = (uint32_t)i + 1;
    article_texts(job->m, i, vocab_field, job);
  }
  return NULL;
}

static void vocab_free(vocab *v)
{
  size_t i;
  for (i = 0; i < v->cap; i++) ts_free(v->s[i].w);
  ts_free(v->s);
}

static int cmp_vslot(const void *a, const void *b)
{
  return strcmp(((const vslot *)a)->w, ((const vslot *)b)->w);
}

/* ===== writer ===== */

typedef struct writer {
  kb_model *m;
  sqlite3 *db;
  int rc;           /* sticky: first failure */
  tshoot_progress_cb progress;
  void *payload;
} writer;

static int w_fail(writer *w, int rc, const char *what)
{
  if (w->rc == TSHOOT_OK) w->rc = kb_sqlite_error(w->db, rc, what);
  return w->rc;
}

static int w_exec(writer *w, const char *sql)
{
  int rc;
  if (w->rc != TSHOOT_OK) return w->rc;
  rc = sqlite3_exec(w->db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK) return w_fail(w, rc, "writing the KB");
  return TSHOOT_OK;
}

static sqlite3_stmt *w_prepare(writer *w, const char *sql)
{
  sqlite3_stmt *st = NULL;
  int rc;
  if (w->rc != TSHOOT_OK) return NULL;
  rc = sqlite3_prepare_v3(w->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
  if (rc != SQLITE_OK) { w_fail(w, rc, "preparing the KB writer"); return NULL; }
  return st;
}

/* Bind a list of values described by `fmt` (i: int64, d: double, t: text or
** NULL) and step once. */
static void w_row(writer *w, sqlite3_stmt *st, const char *fmt, ...)
{
  va_list ap;
  int i, rc;
  if (w->rc != TSHOOT_OK || !st) return;
  va_start(ap, fmt);
  for (i = 0; fmt[i]; i++) {
    switch (fmt[i]) {
    case 'i': sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t)); break;
    case 'd': sqlite3_bind_double(st, i + 1, va_arg(ap, double)); break;
    case 't': {
      const char *s = va_arg(ap, const char *);
      if (s) sqlite3_bind_text(st, i + 1, s, -1, SQLITE_STATIC);
      else sqlite3_bind_null(st, i + 1);
      break;
    }
    }
  }
  va_end(ap);
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE) w_fail(w, rc, "writing the KB");
}

static void add_line(ts_buf *b, const char *s)
{
  if (!s) return;
  if (b->len) ts_buf_addc(b, '\n');
  ts_buf_adds(b, s);
}

/* article_fts's columns: each one's non-NULL fields joined by a newline, the
** way the view article_text joins them from the model tables (group_concat:
** an empty field counts, a NULL one does not; no field at all is NULL). */
typedef struct fts_cols {
  ts_buf b[TS_FTS_NCOLS];
  int n[TS_FTS_NCOLS];
} fts_cols;

static void col_field(void *ud, int col, const char *text)
{
  fts_cols *fc = ud;
  if (!text) return;
  if (fc->n[col]++) ts_buf_addc(&fc->b[col], '\n');
  ts_buf_adds(&fc->b[col], text);
}

/* ===== article_fts and cause_fts, each built on its own thread =====
** Tokenizing every article's text into article_fts is the largest part of a
** compile, and it needs nothing from the rest of the write: a second thread
** builds the index in a temporary database of its own (SQLite deletes it on
** close; it lives in SQLite's temporary folder, $SQLITE_TMPDIR or $TMPDIR or
** /var/tmp or /tmp, once it outgrows its cache) while the sources are still
** being read (kb_compile.c publishes the articles read so far,
** kb_fts_model_unlock) and then while this thread writes the model's tables;
** its shadow tables are then copied in as they are (a few thousand blobs for
** 10k articles). cause_fts is built the same way from the start of kb_write
** (it needs every question). The model only grows while the sources are read
** (under the lock: its arrays move) and does not change once kb_write runs.
** A failed compile drops the indexes with the rest (kb_fts_cancel). */

#define FTS_BATCH 64             /* articles copied out of the model per lock */

/* Both FTS5 tables are loaded in bulk, then merged once ('optimize'): merging
** segments along the way (automerge) would only be redone by the final merge,
** and FTS5 holds up to FTS_HASHSIZE bytes of new terms (default 1 MiB) before
** it writes a segment: fewer, larger segments, fewer merges. Loading 10k
** articles' text into an FTS5 table: 1.10 s CPU with the defaults, 0.86 s with
** these (SQLite 3.40). */
#define FTS_HASHSIZE "8388608"

enum { FTS_ARTICLE, FTS_CAUSE };

struct kb_fts {
  int kind;                      /* FTS_ARTICLE: article_fts; FTS_CAUSE: cause_fts */
  const kb_model *m;
  sqlite3 *db;                   /* its database: read by fts_copy after the join */
  int rc;                        /* SQLITE_OK, or the first failure */
  int oom;
  atomic_int stop;               /* cancelled, or the write failed */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  size_t ready;                  /* under mu: articles (causes) [0, ready) are whole */
  int all;                       /* under mu: and there will be no more */
  pthread_t tid;
  int threaded;                  /* its thread runs (until fts_stop) */
  int started;                   /* fts_worker was started */
  kb_rank_catch *cat;            /* article_fts: its texts and token offsets */
  fts_cols cols[FTS_BATCH];
};

static const m_question **questions_by_id(const kb_model *m);
static void cause_texts(const kb_model *m, const m_question **q_by_id, size_t ci, ts_buf col[5]);

static int fts_exec(kb_fts *f, const char *sql)
{
  if (f->rc == SQLITE_OK) f->rc = sqlite3_exec(f->db, sql, NULL, NULL, NULL);
  return f->rc;
}

static void fts_insert(kb_fts *f, sqlite3_stmt *st, int64_t doc, const fts_cols *fc)
{
  const char *text[TS_FTS_NCOLS];
  int j, len[TS_FTS_NCOLS];
  sqlite3_bind_int64(st, 1, doc);
  for (j = 0; j < TS_FTS_NCOLS; j++) {
    text[j] = fc->n[j] ? (fc->b[j].p ? fc->b[j].p : "") : NULL;
    len[j] = (int)fc->b[j].len;
    if (!text[j]) sqlite3_bind_null(st, j + 2);
    else sqlite3_bind_text(st, j + 2, text[j], len[j], SQLITE_STATIC);
  }
  if (f->cat) kb_rank_catch_begin(f->cat);
  f->rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (f->rc == SQLITE_DONE) f->rc = SQLITE_OK;
  if (f->rc == SQLITE_OK && f->cat) {
    int rc = kb_rank_catch_end(f->cat, doc, text, len);
    if (rc == TSHOOT_ENOMEM) f->oom = 1;
    else if (rc != TSHOOT_OK) f->rc = SQLITE_ERROR;
  }
}

static void *fts_worker(void *arg)
{
  kb_fts *f = arg;
  sqlite3_stmt *st = NULL;
  size_t next = 0, k, b;
  int j, art = f->kind == FTS_ARTICLE;
  const m_question **q_by_id = art ? NULL : questions_by_id(f->m);  /* for the causes' words */

  if (!art && !q_by_id) f->oom = 1;
  /* "": a private temporary database, on disk when it outgrows its cache */
  f->rc = sqlite3_open_v2("", &f->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  fts_exec(f, "PRAGMA journal_mode = OFF");
  fts_exec(f, "PRAGMA synchronous = OFF");
  fts_exec(f, "PRAGMA locking_mode = EXCLUSIVE");
  fts_exec(f, "PRAGMA cache_size = -4096");
  fts_exec(f, "BEGIN");
  if (art) {
    if (f->rc == SQLITE_OK) {      /* article_fts here tokenizes through the catcher */
      int rc = kb_rank_catch_new(f->db, &f->cat);
      if (rc == TSHOOT_ENOMEM) f->oom = 1;
      else if (rc != TSHOOT_OK) f->rc = SQLITE_ERROR;
    }
    fts_exec(f, TS_KB_ARTICLE_FTS_SQL_TOK(KB_RANK_CATCH_TOKENIZER " " TS_FTS_TOKENIZE));
    fts_exec(f, "INSERT INTO article_fts(article_fts, rank) VALUES('automerge', 0)");
    fts_exec(f, "INSERT INTO article_fts(article_fts, rank) VALUES('hashsize', " FTS_HASHSIZE ")");
  } else {
    fts_exec(f, TS_KB_CAUSE_FTS_SQL);
    fts_exec(f, "INSERT INTO cause_fts(cause_fts, rank) VALUES('automerge', 0)");
    fts_exec(f, "INSERT INTO cause_fts(cause_fts, rank) VALUES('hashsize', " FTS_HASHSIZE ")");
  }
  if (f->rc == SQLITE_OK)
    f->rc = sqlite3_prepare_v3(f->db, art ? "INSERT INTO article_fts(rowid, title, symptoms, aliases, causes, fixes)"
                               " VALUES(?,?,?,?,?,?)" : "INSERT INTO cause_fts(rowid, title, explanation, symptoms,"
                               " aliases, answers) VALUES(?,?,?,?,?,?)", -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
  while (f->rc == SQLITE_OK && !f->oom && !atomic_load(&f->stop)) {
    /* copy the texts of the next whole articles out of the model, under the
    ** lock, then index them without it */
    pthread_mutex_lock(&f->mu);
    while (next >= f->ready && !f->all && !atomic_load(&f->stop)) pthread_cond_wait(&f->cv, &f->mu);
    k = f->ready - next < FTS_BATCH ? f->ready - next : FTS_BATCH;
    for (b = 0; b < k; b++) {
      fts_cols *fc = &f->cols[b];
      for (j = 0; j < TS_FTS_NCOLS; j++) { ts_buf_reset(&fc->b[j]); fc->n[j] = !art; }
      if (art) article_texts(f->m, next + b, col_field, fc);
      else cause_texts(f->m, q_by_id, next + b, fc->b);     /* contentless: "" for none */
      for (j = 0; j < TS_FTS_NCOLS; j++) if (fc->b[j].oom) f->oom = 1;
    }
    pthread_mutex_unlock(&f->mu);
    if (k == 0) break;                   /* all of them, or stopped */
    for (b = 0; b < k && f->rc == SQLITE_OK && !f->oom; b++) fts_insert(f, st, (int64_t)(next + b) + 1, &f->cols[b]);
    next += k;
  }
  sqlite3_finalize(st);
  kb_rank_catch_close(f->cat);
  if (!f->oom && !atomic_load(&f->stop)) {
    fts_exec(f, art ? "INSERT INTO article_fts(article_fts) VALUES('optimize')"
                    : "INSERT INTO cause_fts(cause_fts) VALUES('optimize')");
    if (art && f->rc == SQLITE_OK) {   /* the ranking tables, from the whole index */
      int rrc = kb_rank_build(f->db);
      if (rrc == TSHOOT_ENOMEM) f->oom = 1;
      else if (rrc != TSHOOT_OK) f->rc = SQLITE_ERROR;
    }
    fts_exec(f, "COMMIT");
  }
  ts_free(q_by_id);
  return NULL;
}

static kb_fts *fts_new(const kb_model *m, int kind)
{
  kb_fts *f = ts_calloc(1, sizeof *f);
  if (!f) return NULL;
  f->kind = kind;
  f->m = m;
  atomic_init(&f->stop, 0);
  pthread_mutex_init(&f->mu, NULL);
  pthread_cond_init(&f->cv, NULL);
  return f;
}

static void fts_free(kb_fts *f)
{
  int b, j;
  if (!f) return;
  kb_rank_catch_close(f->cat);
  if (f->db) sqlite3_close(f->db);
  kb_rank_catch_free(f->cat);         /* after: article_fts's tokenizer holds it */
  for (b = 0; b < FTS_BATCH; b++)
    for (j = 0; j < TS_FTS_NCOLS; j++) ts_buf_free(&f->cols[b].b[j]);
  pthread_cond_destroy(&f->cv);
  pthread_mutex_destroy(&f->mu);
  ts_free(f);
}

/* Start building an index on its own thread (NULL: no thread). */
static kb_fts *fts_start(const kb_model *m, int kind)
{
  kb_fts *f = fts_new(m, kind);
  if (!f) return NULL;
  if (kind == FTS_CAUSE) {                  /* the model is whole by then */
    f->ready = m->n_causes;
    f->all = 1;
  }
  f->threaded = f->started = pthread_create(&f->tid, NULL, fts_worker, f) == 0;
  if (!f->threaded) { fts_free(f); return NULL; }   /* kb_write builds it then */
  return f;
}

kb_fts *kb_fts_start(const kb_model *m)
{
  return fts_start(m, FTS_ARTICLE);
}

void kb_fts_model_lock(kb_fts *f)
{
  if (f) pthread_mutex_lock(&f->mu);
}

void kb_fts_model_unlock(kb_fts *f, size_t whole, int all)
{
  if (!f) return;
  f->ready = whole;
  f->all = all;
  pthread_cond_signal(&f->cv);
  pthread_mutex_unlock(&f->mu);
}

/* Stop the thread (if it runs) and wait for it. */
static void fts_stop(kb_fts *f, int cancel)
{
  if (cancel) atomic_store(&f->stop, 1);
  pthread_mutex_lock(&f->mu);
  if (cancel) f->all = 1;
  pthread_cond_signal(&f->cv);
  pthread_mutex_unlock(&f->mu);
  if (f->threaded) pthread_join(f->tid, NULL);
  f->threaded = 0;
}

void kb_fts_cancel(kb_fts *f)
{
  if (!f) return;
  fts_stop(f, 1);
  fts_free(f);
}

static void compute_digest(kb_model *m, char out[65])
{
  ts_sha256 c;
  unsigned char d[32];
  char fmt[16];
  size_t i;
  ts_sha256_init(&c);
  snprintf(fmt, sizeof fmt, "tshoot-kb-%d", TSHOOT_KB_FORMAT);
  ts_sha256_update(&c, fmt, strlen(fmt) + 1);
  for (i = 0; i < m->n_sources; i++) {
    ts_sha256_update(&c, m->sources[i].path, strlen(m->sources[i].path) + 1);
    ts_sha256_update(&c, m->sources[i].sha256, 65);
  }
  for (i = 0; i < m->n_scripts; i++) {
    ts_sha256_update(&c, m->scripts[i].name, strlen(m->scripts[i].name) + 1);
    ts_sha256_update(&c, m->scripts[i].sha256, 65);
  }
  ts_sha256_final(&c, d);
  ts_hex(d, 32, out);
}

enum { S_SOURCE, S_QUESTION, S_CHOICE, S_FACT, S_ARTICLE, S_SYMPTOM, S_ALIAS, S_CAUSE, S_EVIDENCE,
       S_FIX, S_FIXSTEP, S_SCRIPT, S_TEST, S_GIVEN, S_SYNONYM, S_VOCAB, S_META, S_PHRASE,
       S_CAUSE_ALIAS, S_N };

static const char *const insert_sql[S_N] = {
  "INSERT INTO source(id, path, sha256, size) VALUES(?,?,?,?)",
  "INSERT INTO question(id, name, type, prompt, why, cost, probe, unit, ask_when, source, line) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
  "INSERT INTO choice(question, pos, value, label) VALUES(?,?,?,?)",
  "INSERT INTO fact(id, name, description, cond, source, line) VALUES(?,?,?,?,?,?)",
  "INSERT INTO article(id, name, title, summary, escalation, source, line) VALUES(?,?,?,?,?,?,?)",
  "INSERT INTO symptom(id, name, article, kind, code, text, causes, line) VALUES(?,?,?,?,?,?,?,?)",
  "INSERT INTO alias(article, pos, text) VALUES(?,?,?)",
  "INSERT INTO cause(id, name, article, title, explanation, prior, source, line) VALUES(?,?,?,?,?,?,?,?)",
  "INSERT INTO evidence(cause, pos, kind, question, value, p, cond, line) VALUES(?,?,?,?,?,?,?,?)",
  "INSERT INTO fix(id, name, cause, pos, title, cost, risk, admin, reversible, script, verify, same_as, line) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
  "INSERT INTO fix_step(fix, pos, text) VALUES(?,?,?)",
  "INSERT INTO script(name, sha256, body) VALUES(?,?,?)",
  "INSERT INTO test(id, name, description, text, expect_cause, expect_fix, source, line) VALUES(?,?,?,?,?,?,?,?)",
  "INSERT INTO test_given(test, pos, question, value) VALUES(?,?,?,?)",
  "INSERT OR IGNORE INTO synonym(term, grp) VALUES(?,?)",
  "INSERT INTO vocab(word, n) VALUES(?,?)",
  "INSERT INTO meta(key, value) VALUES(?,?)",
  "INSERT INTO phrase(question, pos, value, text) VALUES(?,?,?,?)",
  "INSERT INTO cause_alias(cause, pos, text) VALUES(?,?,?)",
};

/* The words that speak for cause c in a person's description (cause_fts):
** its title and explanation, its article's symptoms (those that name other
** causes aside), its aliases, and what
** its evidence makes likely (the choice, or the question of a "yes", given
** at least even odds). */
static int cmp_question_id(const void *a, const void *b)
{
  const m_question *x = *(const m_question *const *)a, *y = *(const m_question *const *)b;
  return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

/* The model's questions sorted by id (NULL on oom; then none is found). */
static const m_question **questions_by_id(const kb_model *m)
{
  const m_question **v = ts_malloc((m->n_questions + 1) * sizeof *v);
  size_t i;
  if (!v) return NULL;
  for (i = 0; i < m->n_questions; i++) v[i] = &m->questions[i];
  qsort(v, m->n_questions, sizeof *v, cmp_question_id);
  return v;
}

static const m_question *find_question_by_id(const m_question **by_id, size_t n, const char *id)
{
  m_question key;
  const m_question *kp = &key, *const *hit;
  if (!by_id) return NULL;
  key.id = (char *)id;
  hit = bsearch(&kp, by_id, n, sizeof *by_id, cmp_question_id);
  return hit ? *hit : NULL;
}

static void cause_texts(const kb_model *m, const m_question **q_by_id, size_t ci, ts_buf col[5])
{
  const m_cause *c = &m->causes[ci];
  const m_article *a = &m->articles[c->article];
  size_t j, l;
  add_line(&col[0], c->title);
  add_line(&col[1], c->explanation);
  /* the symptoms that name it, and those of its article that name no cause
  ** (they belong to every cause of the article) */
  for (j = 0; j < a->n_symptoms; j++) {
    if (!a->symptoms[j].causes) add_line(&col[2], a->symptoms[j].text);
    for (l = 0; l < a->symptoms[j].n_causes; l++)
      if (c->id && strcmp(a->symptoms[j].causes[l], c->id) == 0) add_line(&col[2], a->symptoms[j].text);
  }
  for (j = 0; j < c->n_aliases; j++) add_line(&col[3], c->aliases[j]);
  for (j = 0; j < c->n_ev; j++) {
    const m_evidence *e = &c->ev[j];
    const m_question *q;
    if (e->kind != E_ANSWER || e->p < 0.5 || !e->question || !e->value) continue;
    if (!(q = find_question_by_id(q_by_id, m->n_questions, e->question))) continue;
    if (q->type == Q_YESNO) {
      if (strcmp(e->value, "yes") == 0) add_line(&col[4], q->prompt);
      continue;
    }
    for (l = 0; l < q->n_choices; l++)
      if (q->choices[l].value && strcmp(q->choices[l].value, e->value) == 0) add_line(&col[4], q->choices[l].label);
  }
}

static const char *const ev_kinds[] = { "answer", "expect", "requires" };

static void write_rows(writer *w, sqlite3_stmt **st)
{
  kb_model *m = w->m;
  ts_buf b = TS_BUF_INIT;
  size_t i, j, l;
  int64_t fix_id = 0, sym_id = 0;


  for (i = 0; i < m->n_sources; i++)
    w_row(w, st[S_SOURCE], "itti", (int64_t)i + 1, m->sources[i].path, m->sources[i].sha256,
          (int64_t)m->sources[i].size);
  for (i = 0; i < m->n_scripts; i++)
    w_row(w, st[S_SCRIPT], "ttt", m->scripts[i].name, m->scripts[i].sha256, m->scripts[i].body);
  for (i = 0; i < m->n_questions; i++) {
    m_question *q = &m->questions[i];
    ts_buf_reset(&b);
    if (q->ask_when) sexp_cond(&b, q->ask_when);
    w_row(w, st[S_QUESTION], "ittttdtttii", (int64_t)i + 1, q->id, q->type_name, q->prompt, q->why,
          q->cost, q->probe, q->unit, q->ask_when ? ts_buf_cstr(&b) : NULL, (int64_t)q->at.src + 1,
          (int64_t)q->at.line);
    for (j = 0; j < q->n_choices; j++)
      w_row(w, st[S_CHOICE], "iitt", (int64_t)i + 1, (int64_t)j, q->choices[j].value, q->choices[j].label);
    for (j = 0; j < q->n_phrases; j++)
      w_row(w, st[S_PHRASE], "iitt", (int64_t)i + 1, (int64_t)j, q->phrases[j].value, q->phrases[j].text);
  }
  for (i = 0; i < m->n_facts; i++) {
    m_fact *f = &m->facts[i];
    ts_buf_reset(&b);
    if (f->n_whens == 1) sexp_cond(&b, f->whens[0]);
    else {
      ts_buf_adds(&b, "(or");
      for (j = 0; j < f->n_whens; j++) { ts_buf_addc(&b, ' '); sexp_cond(&b, f->whens[j]); }
      ts_buf_addc(&b, ')');
    }
    w_row(w, st[S_FACT], "itttii", (int64_t)i + 1, f->id, f->description, ts_buf_cstr(&b),
          (int64_t)f->at.src + 1, (int64_t)f->at.line);
  }
  for (i = 0; i < m->n_articles && w->rc == TSHOOT_OK; i++) {
    m_article *a = &m->articles[i];
    uint32_t doc = (uint32_t)i + 1;
    w_row(w, st[S_ARTICLE], "ittttii", (int64_t)doc, a->id, a->title, a->summary, a->escalation,
          (int64_t)a->at.src + 1, (int64_t)a->at.line);
    for (j = 0; j < a->n_symptoms; j++) {
      m_symptom *s = &a->symptoms[j];
      char name[256];
      ts_buf_reset(&b);
      for (l = 0; l < s->n_causes; l++) { if (l) ts_buf_addc(&b, ' '); ts_buf_adds(&b, s->causes[l]); }
      if (s->id) snprintf(name, sizeof name, "%s", s->id);
      else snprintf(name, sizeof name, "%s#%zu", a->id, j + 1);
      w_row(w, st[S_SYMPTOM], "ititttti", ++sym_id, name, (int64_t)doc, s->kind, s->code, s->text,
            s->causes ? ts_buf_cstr(&b) : NULL, (int64_t)s->at.line);
    }
    for (j = 0; j < a->n_aliases; j++) w_row(w, st[S_ALIAS], "iit", (int64_t)doc, (int64_t)j, a->aliases[j]);
    for (j = 0; j < a->n_causes; j++) {
      size_t ci = a->first_cause + j;
      m_cause *c = &m->causes[ci];
      w_row(w, st[S_CAUSE], "itittdii", (int64_t)ci + 1, c->id, (int64_t)doc, c->title, c->explanation,
            c->prior, (int64_t)c->at.src + 1, (int64_t)c->at.line);
      for (l = 0; l < c->n_aliases; l++) w_row(w, st[S_CAUSE_ALIAS], "iit", (int64_t)ci + 1, (int64_t)l, c->aliases[l]);
      for (l = 0; l < c->n_ev; l++) {
        m_evidence *e = &c->ev[l];
        ts_buf_reset(&b);
        if (e->cond) sexp_cond(&b, e->cond);
        w_row(w, st[S_EVIDENCE], "iitttdti", (int64_t)ci + 1, (int64_t)l, ev_kinds[e->kind], e->question,
              e->value, e->p, e->cond ? ts_buf_cstr(&b) : NULL, (int64_t)e->at.line);
      }
      for (l = 0; l < c->n_fixes; l++) {
        m_fix *f = &c->fixes[l];
        size_t s;
        ts_buf_reset(&b);
        for (s = 0; s < f->n_same_as; s++) { if (s) ts_buf_addc(&b, ' '); ts_buf_adds(&b, f->same_as[s]); }
        w_row(w, st[S_FIX], "itiitdtiittti", ++fix_id, f->id, (int64_t)ci + 1, (int64_t)l, f->title, f->cost,
              f->risk, (int64_t)f->admin, (int64_t)f->reversible, f->script, f->verify,
              f->n_same_as ? ts_buf_cstr(&b) : NULL, (int64_t)f->at.line);
        for (s = 0; s < f->n_steps; s++) w_row(w, st[S_FIXSTEP], "iit", fix_id, (int64_t)s, f->steps[s]);
      }
    }
    if (w->progress && (i % 256 == 255 || i + 1 == m->n_articles) &&
        w->progress("write", i + 1, m->n_articles, w->payload) != 0 && w->rc == TSHOOT_OK)
      w->rc = ts_error(TSHOOT_EUSER, "compile cancelled");
  }
  for (i = 0; i < m->n_tests; i++) {
    m_test *t = &m->tests[i];
    w_row(w, st[S_TEST], "itttttii", (int64_t)i + 1, t->id, t->description, t->text, t->expect_cause,
          t->expect_fix, (int64_t)t->at.src + 1, (int64_t)t->at.line);
    for (j = 0; j < t->n_given; j++)
      w_row(w, st[S_GIVEN], "iitt", (int64_t)i + 1, (int64_t)j, t->given[j].question, t->given[j].value);
  }
  if (b.oom && w->rc == TSHOOT_OK)
    w->rc = ts_error_oom();
  ts_buf_free(&b);
}

/* Synonym groups, whose words join the vocabulary (after its thread ended). */
static void write_synonyms(writer *w, sqlite3_stmt **st, vocab *voc)
{
  kb_model *m = w->m;
  ts_buf b = TS_BUF_INIT;
  size_t i, j;
  for (i = 0; i < m->n_synonyms; i++)
    for (j = 0; j < m->synonyms[i].n_terms; j++) {
      /* a term is stored folded, its words joined by one space */
      const char *s = m->synonyms[i].terms[j];
      size_t pos = 0, start, len, slen = s ? strlen(s) : 0;
      char word[TEXT_MAX_WORD + 1];
      ts_buf_reset(&b);
      while (s && text_next_word(s, slen, &pos, &start, &len)) {
        text_fold(word, s + start, len);
        if (b.len) ts_buf_addc(&b, ' ');
        ts_buf_adds(&b, word);
        vocab_add(voc, word, len, 0);
      }
      if (b.len) w_row(w, st[S_SYNONYM], "ti", ts_buf_cstr(&b), (int64_t)i + 1);
    }
  if ((b.oom || voc->oom) && w->rc == TSHOOT_OK) w->rc = ts_error_oom();
  ts_buf_free(&b);
}

/* Copy article_fts's shadow tables from the database the FTS thread built it
** in over the empty ones this file's CREATE made, row by row in key order
** (so the same bytes every time). Shadow tables are written only here, with
** SQLite's defensive mode off for the copy. */
static void fts_copy(writer *w, kb_fts *job)
{
  static const char *const tables[2][4] = {
    { "article_fts_data", "article_fts_idx", "article_fts_docsize", "article_fts_config" },
    { "cause_fts_data", "cause_fts_idx", "cause_fts_docsize", "cause_fts_config" },
  };
  size_t t;
  int rc, i, n;
  if (w->rc != TSHOOT_OK) return;
  sqlite3_db_config(w->db, SQLITE_DBCONFIG_DEFENSIVE, 0, (int *)NULL);
  for (t = 0; t < 4 && w->rc == TSHOOT_OK; t++) {
    const char *table = tables[job->kind][t];
    sqlite3_stmt *sel = NULL, *ins = NULL;
    ts_buf sql = TS_BUF_INIT;
    ts_buf_addf(&sql, "DELETE FROM %s", table);
    if (sql.oom) { w->rc = ts_error_oom(); break; }
    w_exec(w, sql.p);
    ts_buf_reset(&sql);
    ts_buf_addf(&sql, "SELECT * FROM %s", table);
    if (sql.oom) { ts_buf_free(&sql); w->rc = ts_error_oom(); break; }
    rc = sqlite3_prepare_v2(job->db, sql.p, -1, &sel, NULL);
    if (rc != SQLITE_OK) {
      if (w->rc == TSHOOT_OK) w->rc = kb_sqlite_error(job->db, rc, "writing the KB's index");
      ts_buf_free(&sql);
      break;
    }
    n = sqlite3_column_count(sel);
    ts_buf_reset(&sql);
    ts_buf_addf(&sql, "INSERT INTO %s VALUES(?", table);
    for (i = 1; i < n; i++) ts_buf_adds(&sql, ",?");
    ts_buf_addc(&sql, ')');
    if (sql.oom) w->rc = ts_error_oom();
    ins = w_prepare(w, sql.p);
    while (w->rc == TSHOOT_OK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
      /* a blob is copied when bound: that can fail */
      for (i = 0, rc = SQLITE_OK; i < n && rc == SQLITE_OK; i++)
        rc = sqlite3_bind_value(ins, i + 1, sqlite3_column_value(sel, i));
      if (rc == SQLITE_OK) rc = sqlite3_step(ins);
      sqlite3_reset(ins);
      if (rc != SQLITE_DONE) w_fail(w, rc, "writing the KB's index");
    }
    if (w->rc == TSHOOT_OK && rc != SQLITE_DONE) w->rc = kb_sqlite_error(job->db, rc, "writing the KB's index");
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    ts_buf_free(&sql);
  }
  sqlite3_db_config(w->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
}

/* Wait for index f (build it here when it had no thread) and copy it in. */
static void fts_finish(writer *w, kb_fts *f)
{
  fts_stop(f, w->rc != TSHOOT_OK);
  if (!f->started && w->rc == TSHOOT_OK) {          /* no thread: build it here */
    f->started = 1;
    fts_worker(f);
  }
  if (w->rc == TSHOOT_OK && f->oom) w->rc = ts_error_oom();
  if (w->rc == TSHOOT_OK && f->rc != SQLITE_OK) w->rc = kb_sqlite_error(f->db, f->rc, "writing the KB's index");
  fts_copy(w, f);
  if (w->rc == TSHOOT_OK && f->kind == FTS_ARTICLE) w->rc = kb_rank_copy(w->db, f->db);
}

/* article_text: each article's text as article_fts indexes it (its
** external content), written here while the index's thread tokenizes the
** same strings. */
static void write_article_texts(writer *w)
{
  sqlite3_stmt *st = w_prepare(w, "INSERT INTO article_text(id, title, symptoms, aliases, causes, fixes)"
                                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  fts_cols fc;
  size_t i;
  int j, rc;
  memset(&fc, 0, sizeof fc);
  for (i = 0; st && w->rc == TSHOOT_OK && i < w->m->n_articles; i++) {
    for (j = 0; j < TS_FTS_NCOLS; j++) { ts_buf_reset(&fc.b[j]); fc.n[j] = 0; }
    article_texts(w->m, i, col_field, &fc);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
    for (j = 0; j < TS_FTS_NCOLS; j++) {
      if (fc.b[j].oom) w->rc = ts_error_oom();
      if (!fc.n[j]) sqlite3_bind_null(st, j + 2);
      else sqlite3_bind_text(st, j + 2, fc.b[j].p ? fc.b[j].p : "", (int)fc.b[j].len, SQLITE_STATIC);
    }
    if (w->rc != TSHOOT_OK) break;
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) w_fail(w, rc, "writing the articles' text");
  }
  for (j = 0; j < TS_FTS_NCOLS; j++) ts_buf_free(&fc.b[j]);
  sqlite3_finalize(st);
}

/* Everything but the vocabulary and the meta rows: the model's rows here,
** article_fts on its thread (started by kb_compile.c, or here), cause_fts on
** another, the vocabulary counted on a third. */
static void write_model(writer *w, sqlite3_stmt **st, vocab *voc, kb_fts *fts)
{
  vocab_job job;
  kb_fts *cause_fts;
  pthread_t tid;
  int threaded;

  job.m = w->m;
  job.v = voc;
  if (!(cause_fts = fts_start(w->m, FTS_CAUSE)) && (cause_fts = fts_new(w->m, FTS_CAUSE)) != NULL) {
    cause_fts->ready = w->m->n_causes;               /* no thread: built in fts_finish */
    cause_fts->all = 1;
  }
  if (!cause_fts) w->rc = ts_error_oom();
  threaded = pthread_create(&tid, NULL, vocab_worker, &job) == 0;
  write_rows(w, st);
  write_article_texts(w);
  if (w->rc != TSHOOT_OK) {
    atomic_store(&fts->stop, 1);
    if (cause_fts) atomic_store(&cause_fts->stop, 1);
  }
  if (threaded) pthread_join(tid, NULL);
  else vocab_worker(&job);
  write_synonyms(w, st, voc);
  if (w->progress && w->rc == TSHOOT_OK && w->progress("index", 0, 1, w->payload) != 0)
    w->rc = ts_error(TSHOOT_EUSER, "compile cancelled");
  if (cause_fts) fts_finish(w, cause_fts);
  fts_finish(w, fts);
  kb_fts_cancel(cause_fts);
}

static void write_vocab(writer *w, sqlite3_stmt *st, vocab *v)
{
  size_t i, n = 0;
  if (w->rc != TSHOOT_OK || !v->s) return;     /* an empty KB has no words */
  for (i = 0; i < v->cap; i++) if (v->s[i].w) v->s[n++] = v->s[i];
  for (i = n; i < v->cap; i++) v->s[i].w = NULL;
  qsort(v->s, n, sizeof *v->s, cmp_vslot);
  for (i = 0; i < n; i++) w_row(w, st, "ti", v->s[i].w, (int64_t)v->s[i].n);
}

int kb_write(kb_model *m, kb_fts *fts, const char *tmp_path, tshoot_progress_cb progress, void *payload)
{
  writer w;
  sqlite3_stmt *st[S_N] = { NULL };
  vocab voc = { NULL, 0, 0, 0 };
  char digest[65], pragma[128];
  ts_buf ids = TS_BUF_INIT;
  int rc, i;
  size_t s;

  memset(&w, 0, sizeof w);
  w.m = m;
  w.progress = progress;
  w.payload = payload;
  if (!fts) {                /* not started while the sources were read */
    if (!(fts = fts_new(m, FTS_ARTICLE))) {
      w.rc = ts_error_oom();
      goto done;
    }
    fts->ready = m->n_articles;
    fts->all = 1;
  }
  rc = sqlite3_open_v2(tmp_path, &w.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    w_fail(&w, rc, "creating the KB file");
    goto done;
  }
  sqlite3_db_config(w.db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
  snprintf(pragma, sizeof pragma, "PRAGMA application_id = %d", TS_KB_APPLICATION_ID);
  w_exec(&w, "PRAGMA page_size = 4096");
  w_exec(&w, "PRAGMA journal_mode = OFF");
  w_exec(&w, "PRAGMA synchronous = OFF");
  w_exec(&w, "PRAGMA locking_mode = EXCLUSIVE");
  /* A small page cache: with no journal, pages spill into the file (the OS
  ** caches them) and their memory is reused. A 256 MiB cache took a fresh
  ** page fault for every page and wrote them all at COMMIT: 2.97 s against
  ** 2.45 s for 10k articles, 36 s against 30.5 s for 100k. */
  w_exec(&w, "PRAGMA cache_size = -4096");
  w_exec(&w, "PRAGMA temp_store = MEMORY");
  w_exec(&w, pragma);
  snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", TSHOOT_KB_FORMAT);
  w_exec(&w, pragma);
  w_exec(&w, "BEGIN");
#define X(name, sql) w_exec(&w, sql);
  TS_KB_DDL_LIST(X)
#undef X
  for (i = 0; i < S_N; i++) st[i] = w_prepare(&w, insert_sql[i]);
  write_model(&w, st, &voc, fts);
  write_vocab(&w, st[S_VOCAB], &voc);
  compute_digest(m, digest);
  for (s = 0; s < m->n_sources; s++)
    if (m->sources[s].kb_id) {
      if (ids.len) ts_buf_addc(&ids, ' ');
      ts_buf_adds(&ids, m->sources[s].kb_id);
    }
  {
    char fmt[16];
    snprintf(fmt, sizeof fmt, "%d", TSHOOT_KB_FORMAT);
    w_row(&w, st[S_META], "tt", TS_META_FORMAT, fmt);
    w_row(&w, st[S_META], "tt", TS_META_DIGEST, digest);
    w_row(&w, st[S_META], "tt", TS_META_VERSION, TSHOOT_VERSION);
    w_row(&w, st[S_META], "tt", TS_META_KB_ID, ts_buf_cstr(&ids) ? ts_buf_cstr(&ids) : "");
    for (s = 0; s < m->n_sources; s++)
      if (m->sources[s].escalation) {
        w_row(&w, st[S_META], "tt", TS_META_ESCALATION, m->sources[s].escalation);
        break;
      }
  }
  w_exec(&w, "COMMIT");
  if (progress && w.rc == TSHOOT_OK) progress("index", 1, 1, payload);
done:
  kb_fts_cancel(fts);        /* joined already when the write got that far */
  for (i = 0; i < S_N; i++) sqlite3_finalize(st[i]);
  if (w.db) {
    rc = sqlite3_close(w.db);
    if (rc != SQLITE_OK && w.rc == TSHOOT_OK) w.rc = ts_error(TSHOOT_EIO, "closing the new KB failed");
  }
  vocab_free(&voc);
  ts_buf_free(&ids);
  return w.rc;
}
