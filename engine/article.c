/*
** article.c: tshoot_article_load() and tshoot_article_free(): one article of
** a compiled KB, read into plain structs for people and for the diagnosis.
**
** Memory: an article is one `article_block` (the public struct first, so the
** caller's pointer is the block's) plus a chain of arena chunks that hold
** every string and array inside it. tshoot_article_free() frees the chunks
** and the block; nothing else is ever allocated for an article. While
** loading, rows are gathered in temporary growable arrays (ts_grow) and
** copied into the arena once their count is known.
**
** Statements live on the pooled connection in slots
** KB_STMT_ARTICLE_FIRST + ST_* (kb.h); they are prepared once per connection.
*/
#include "kb.h"
#include "kb_schema.h"
#include "text.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ===== arena ===== */

typedef struct arena_chunk {
  struct arena_chunk *next;
  size_t used, cap;
  alignas(max_align_t) unsigned char data[];
} arena_chunk;

typedef struct article_block {
  tshoot_article a;        /* first: the caller's pointer is the block's */
  arena_chunk *chunks;     /* newest first */
} article_block;

#define ARENA_CHUNK 4096

static void *arena_alloc(article_block *b, size_t n)
{
  arena_chunk *c = b->chunks;
  size_t al = alignof(max_align_t), off;
  if (n == 0) n = 1;
  if (n > SIZE_MAX - al) return NULL;
  if (c) {
    off = (c->used + al - 1) & ~(al - 1);
    if (off <= c->cap && c->cap - off >= n) {
      c->used = off + n;
      return c->data + off;
    }
  }
  {
    size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
    c = ts_malloc(sizeof *c + cap);
    if (!c) return NULL;
    c->cap = cap;
    c->used = n;
    c->next = b->chunks;
    b->chunks = c;
    return c->data;
  }
}

/* Strings are packed without alignment. */
static char *arena_strdup(article_block *b, const char *s, int *oom)
{
  arena_chunk *c = b->chunks;
  size_t n;
  char *p;
  if (!s) return NULL;
  n = strlen(s) + 1;
  if (c && c->cap - c->used >= n) {
    p = (char *)c->data + c->used;
    c->used += n;
  } else {
    p = arena_alloc(b, n);
    if (!p) { *oom = 1; return NULL; }
  }
  memcpy(p, s, n);
  return p;
}

static void *arena_dup(article_block *b, const void *src, size_t n, int *oom)
{
  void *p;
  if (n == 0) return NULL;
  p = arena_alloc(b, n);
  if (!p) { *oom = 1; return NULL; }
  memcpy(p, src, n);
  return p;
}

static void block_free(article_block *b)
{
  arena_chunk *c, *next;
  if (!b) return;
  for (c = b->chunks; c; c = next) {
    next = c->next;
    ts_free(c);
  }
  ts_free(b);
}

TSHOOT_API void tshoot_article_free(tshoot_article *a)
{
  block_free((article_block *)a);
}

/* ===== statements ===== */

enum {
  ST_ARTICLE, ST_SYMPTOMS, ST_ALIASES, ST_CAUSES, ST_FIXES, ST_STEPS, ST_NAMES,
  ST_NAMES_LETTER
};

_Static_assert(ST_NAMES_LETTER < KB_STMT_SESSION_FIRST - KB_STMT_ARTICLE_FIRST,
               "article.c has more statements than its slots in kb.h");

/* Did-you-mean scans at most this many article names. */
#define NAMES_MAX 5000

static const char *const article_sql[] = {
  [ST_ARTICLE] =
    "SELECT a.id, a.name, a.title, a.summary, s.path, a.line"
    " FROM article a LEFT JOIN source s ON s.id = a.source WHERE a.name = ?1",
  [ST_SYMPTOMS] =
    "SELECT name, kind, code, text FROM symptom WHERE article = ?1 ORDER BY id",
  [ST_ALIASES] =
    "SELECT text FROM alias WHERE article = ?1 ORDER BY pos",
  [ST_CAUSES] =
    "SELECT id, name, title, explanation, prior FROM cause WHERE article = ?1 ORDER BY id",
  [ST_FIXES] =
    "SELECT id, name, title, verify, script, cost, risk, admin, reversible"
    " FROM fix WHERE cause = ?1 ORDER BY pos",
  [ST_STEPS] =
    "SELECT text FROM fix_step WHERE fix = ?1 ORDER BY pos",
  /* for did-you-mean: bounded, so that a huge KB is not scanned. A KB of
  ** more than NAMES_MAX articles offers the ids with the same first byte
  ** (a range over the UNIQUE index on name). */
  [ST_NAMES] =
    "SELECT name FROM article LIMIT 5001",
  [ST_NAMES_LETTER] =
    "SELECT name FROM article WHERE name >= ?1 AND name < ?2 ORDER BY name LIMIT 5000",
};

typedef struct loader {
  kb_conn *c;
  article_block *b;
  const char *id;          /* what was asked for, for messages */
  int oom;
} loader;

static sqlite3_stmt *stmt(loader *L, int which)
{
  return kb_conn_stmt(L->c, KB_STMT_ARTICLE_FIRST + which, article_sql[which]);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
  return (const char *)sqlite3_column_text(st, i);
}

/* A NOT NULL text column: never NULL in the article even if the file lies. */
static char *col_str(loader *L, sqlite3_stmt *st, int i)
{
  const char *s = col_text(st, i);
  return arena_strdup(L->b, s ? s : "", &L->oom);
}

static char *col_opt(loader *L, sqlite3_stmt *st, int i)
{
  const char *s = col_text(st, i);
  return s ? arena_strdup(L->b, s, &L->oom) : NULL;
}

static int step_error(loader *L, int rc)
{
  char what[160];
  snprintf(what, sizeof what, "reading article '%.100s'", L->id);
  return kb_sqlite_error(L->c->db, rc, what);
}

/* A temporary growable array of `size`-byte elements. */
typedef struct vec {
  void *p;
  size_t n, cap;
} vec;

static void *vec_push(vec *v, size_t size, int *oom)
{
  void *slot;
  if (ts_grow(&v->p, &v->cap, v->n + 1, size) != 0) { *oom = 1; return NULL; }
  slot = (char *)v->p + v->n * size;
  memset(slot, 0, size);
  v->n++;
  return slot;
}

/* ===== not found: did you mean ===== */

/* Read the names of `st` into *names (ts_malloc'd copies). */
static int read_names(loader *L, sqlite3_stmt *st, char ***names, size_t *n, size_t *cap)
{
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *s = col_text(st, 0);
    char *d;
    if (!s) continue;
    if (ts_grow((void **)names, cap, *n + 1, sizeof **names) != 0 || !(d = ts_strdup(s))) {
      sqlite3_reset(st);
      return ts_error_oom();
    }
    (*names)[(*n)++] = d;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TSHOOT_OK : step_error(L, rc);
}

static int not_found(loader *L)
{
  sqlite3_stmt *st = stmt(L, ST_NAMES);
  char **names = NULL, folded[TEXT_MAX_WORD + 1];
  size_t n = 0, cap = 0, i, idlen = strlen(L->id);
  const char *best = NULL;
  int rc, have_folded = idlen > 0 && idlen <= TEXT_MAX_WORD;

  if (!st) return tshoot_error_last()->code;
  if (have_folded) text_fold(folded, L->id, idlen);
  rc = read_names(L, st, &names, &n, &cap);
  if (rc == TSHOOT_OK && n > NAMES_MAX) {
    /* too many to scan: only the ids that share the first byte */
    for (i = 0; i < n; i++) ts_free(names[i]);
    n = 0;
    if (have_folded && (unsigned char)folded[0] < 0xff) {
      char lo[2] = { folded[0], 0 }, hi[2] = { (char)(folded[0] + 1), 0 };
      st = stmt(L, ST_NAMES_LETTER);
      if (!st) rc = tshoot_error_last()->code;
      else {
        sqlite3_bind_text(st, 1, lo, 1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, hi, 1, SQLITE_TRANSIENT);
        rc = read_names(L, st, &names, &n, &cap);
      }
    }
  }
  if (rc == TSHOOT_OK) {
    /* ids are lower case: compare a folded copy of what was typed */
    if (have_folded) best = text_closest(folded, (const char *const *)names, n);
    if (best)
      rc = ts_error(TSHOOT_ENOTFOUND, "no article '%.200s' in this KB (did you mean '%s'?)",
                    L->id, best);
    else
      rc = ts_error(TSHOOT_ENOTFOUND, "no article '%.200s' in this KB", L->id);
  }
  for (i = 0; i < n; i++) ts_free(names[i]);
  ts_free(names);
  return rc;
}

/* ===== loading ===== */

static int load_symptoms(loader *L, sqlite3_int64 aid)
{
  sqlite3_stmt *st = stmt(L, ST_SYMPTOMS);
  vec v = { 0 };
  int rc;
  if (!st) return tshoot_error_last()->code;
  sqlite3_bind_int64(st, 1, aid);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    tshoot_symptom_info *s = vec_push(&v, sizeof *s, &L->oom);
    if (!s) break;
    s->id = col_str(L, st, 0);
    s->kind = col_str(L, st, 1);
    s->code = col_opt(L, st, 2);
    s->text = col_str(L, st, 3);
  }
  sqlite3_reset(st);
  if (L->oom) rc = ts_error_oom();
  else if (rc != SQLITE_DONE) rc = step_error(L, rc);
  else {
    L->b->a.symptoms = arena_dup(L->b, v.p, v.n * sizeof(tshoot_symptom_info), &L->oom);
    L->b->a.n_symptoms = v.n;
    rc = L->oom ? ts_error_oom() : TSHOOT_OK;
  }
  ts_free(v.p);
  return rc;
}

/* Read the text column 0 of every row of `which` bound to `key` into an
** arena array of strings. */
static int load_strings(loader *L, int which, sqlite3_int64 key,
                        const char *const **out, size_t *n_out)
{
  sqlite3_stmt *st = stmt(L, which);
  vec v = { 0 };
  int rc;
  *out = NULL;
  *n_out = 0;
  if (!st) return tshoot_error_last()->code;
  sqlite3_bind_int64(st, 1, key);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    char **slot = vec_push(&v, sizeof(char *), &L->oom);
    if (!slot) break;
    *slot = col_str(L, st, 0);
  }
  sqlite3_reset(st);
  if (L->oom) rc = ts_error_oom();
  else if (rc != SQLITE_DONE) rc = step_error(L, rc);
  else {
    *out = arena_dup(L->b, v.p, v.n * sizeof(char *), &L->oom);
    *n_out = v.n;
    rc = L->oom ? ts_error_oom() : TSHOOT_OK;
  }
  ts_free(v.p);
  return rc;
}

static int load_fixes(loader *L, sqlite3_int64 cid, tshoot_cause_info *cause)
{
  sqlite3_stmt *st = stmt(L, ST_FIXES);
  vec v = { 0 }, ids = { 0 };
  size_t i;
  int rc;
  if (!st) return tshoot_error_last()->code;
  sqlite3_bind_int64(st, 1, cid);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    tshoot_fix_info *f = vec_push(&v, sizeof *f, &L->oom);
    sqlite3_int64 *idp = f ? vec_push(&ids, sizeof *idp, &L->oom) : NULL;
    if (!idp) break;
    *idp = sqlite3_column_int64(st, 0);
    f->id = col_str(L, st, 1);
    f->title = col_str(L, st, 2);
    f->verify = col_opt(L, st, 3);
    f->script = col_opt(L, st, 4);
    f->cost = sqlite3_column_double(st, 5);
    f->risk = col_str(L, st, 6);
    f->needs_admin = sqlite3_column_int(st, 7) != 0;
    f->reversible = sqlite3_column_int(st, 8) != 0;
  }
  sqlite3_reset(st);
  if (L->oom) rc = ts_error_oom();
  else if (rc != SQLITE_DONE) rc = step_error(L, rc);
  else rc = TSHOOT_OK;
  /* steps after the fix statement is done with (it is reset above) */
  for (i = 0; rc == TSHOOT_OK && i < v.n; i++) {
    tshoot_fix_info *f = (tshoot_fix_info *)v.p + i;
    rc = load_strings(L, ST_STEPS, ((sqlite3_int64 *)ids.p)[i], &f->steps, &f->n_steps);
  }
  if (rc == TSHOOT_OK) {
    cause->fixes = arena_dup(L->b, v.p, v.n * sizeof(tshoot_fix_info), &L->oom);
    cause->n_fixes = v.n;
    if (L->oom) rc = ts_error_oom();
  }
  ts_free(v.p);
  ts_free(ids.p);
  return rc;
}

static int load_causes(loader *L, sqlite3_int64 aid)
{
  sqlite3_stmt *st = stmt(L, ST_CAUSES);
  vec v = { 0 }, ids = { 0 };
  size_t i;
  int rc;
  if (!st) return tshoot_error_last()->code;
  sqlite3_bind_int64(st, 1, aid);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    tshoot_cause_info *c = vec_push(&v, sizeof *c, &L->oom);
    sqlite3_int64 *idp = c ? vec_push(&ids, sizeof *idp, &L->oom) : NULL;
    if (!idp) break;
    *idp = sqlite3_column_int64(st, 0);
    c->id = col_str(L, st, 1);
    c->title = col_str(L, st, 2);
    c->explanation = col_str(L, st, 3);
    c->prior = sqlite3_column_double(st, 4);
  }
  sqlite3_reset(st);
  if (L->oom) rc = ts_error_oom();
  else if (rc != SQLITE_DONE) rc = step_error(L, rc);
  else rc = TSHOOT_OK;
  for (i = 0; rc == TSHOOT_OK && i < v.n; i++)
    rc = load_fixes(L, ((sqlite3_int64 *)ids.p)[i], (tshoot_cause_info *)v.p + i);
  if (rc == TSHOOT_OK) {
    L->b->a.causes = arena_dup(L->b, v.p, v.n * sizeof(tshoot_cause_info), &L->oom);
    L->b->a.n_causes = v.n;
    if (L->oom) rc = ts_error_oom();
  }
  ts_free(v.p);
  ts_free(ids.p);
  return rc;
}

static int load_article(loader *L)
{
  sqlite3_stmt *st = stmt(L, ST_ARTICLE);
  sqlite3_int64 aid;
  int rc;
  if (!st) return tshoot_error_last()->code;
  sqlite3_bind_text(st, 1, L->id, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(st);
    return not_found(L);
  }
  if (rc != SQLITE_ROW) {
    rc = step_error(L, rc);
    sqlite3_reset(st);
    return rc;
  }
  aid = sqlite3_column_int64(st, 0);
  L->b->a.id = col_str(L, st, 1);
  L->b->a.title = col_str(L, st, 2);
  L->b->a.summary = col_opt(L, st, 3);
  L->b->a.file = col_str(L, st, 4);
  L->b->a.line = sqlite3_column_int(st, 5);
  sqlite3_reset(st);
  if (L->oom) return ts_error_oom();
  if ((rc = load_symptoms(L, aid)) != TSHOOT_OK) return rc;
  if ((rc = load_strings(L, ST_ALIASES, aid, &L->b->a.aliases, &L->b->a.n_aliases)) != TSHOOT_OK)
    return rc;
  return load_causes(L, aid);
}

TSHOOT_API int tshoot_article_load(tshoot_article **out, tshoot_kb *kb, const char *id)
{
  loader L = { 0 };
  int rc;

  TS_CHECK_ARG(out);
  *out = NULL;
  TS_CHECK_ARG(kb && id);
  L.id = id;
  L.b = ts_calloc(1, sizeof *L.b);
  if (!L.b) return ts_error_oom();
  rc = kb_conn_acquire(kb, &L.c);
  if (rc != TSHOOT_OK) {
    block_free(L.b);
    return rc;
  }
  rc = load_article(&L);
  kb_conn_release(kb, L.c);
  if (rc != TSHOOT_OK) {
    block_free(L.b);
    return rc;
  }
  *out = &L.b->a;
  return TSHOOT_OK;
}

/* ===== scripts stored in a KB ===== */

/* " (did you mean 'x'?)" over the KB's script names, or "" (also when they
** cannot be read: the caller's "not found" stands on its own). */
static void script_did_you_mean(char *buf, size_t cap, sqlite3 *db, const char *name)
{
  sqlite3_stmt *st = NULL;
  char **names = NULL;
  size_t n = 0, ncap = 0, i;
  buf[0] = '\0';
  if (sqlite3_prepare_v2(db, "SELECT name FROM script ORDER BY name", -1, &st, NULL) != SQLITE_OK) return;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(st, 0);
    char *d = t ? ts_strdup(t) : NULL;
    if (!d || ts_grow((void **)&names, &ncap, n + 1, sizeof *names) < 0) { ts_free(d); break; }
    names[n++] = d;
  }
  sqlite3_finalize(st);
  ts_did_you_mean(buf, cap, name, (const char *const *)names, n);
  for (i = 0; i < n; i++) ts_free(names[i]);
  ts_free(names);
}

TSHOOT_API int tshoot_kb_script(char **body, size_t *len, tshoot_kb *kb, const char *name)
{
  kb_conn *c;
  sqlite3_stmt *st = NULL;
  size_t n_body = 0;
  int rc, src;
  TS_CHECK_ARG(body && kb && name);
  *body = NULL;
  if (len) *len = 0;
  /* a script leaves an untrusted KB for no one (kb_sign.c, docs/signing.md) */
  rc = kb_sign_script(kb, name, NULL, 0);
  if (rc != TSHOOT_OK) return rc;
  rc = kb_conn_acquire(kb, &c);
  if (rc != TSHOOT_OK) return rc;
  src = sqlite3_prepare_v2(c->db, "SELECT body FROM script WHERE name = ?1", -1, &st, NULL);
  if (src == SQLITE_OK) src = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  if (src == SQLITE_OK) src = sqlite3_step(st);
  if (src == SQLITE_ROW) {
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    *body = ts_malloc(n + 1);
    n_body = n;
    if (!*body) rc = ts_error_oom();
    else {
      if (n) memcpy(*body, t, n);
      (*body)[n] = '\0';
      if (len) *len = n;
    }
  } else if (src == SQLITE_DONE) {
    char sug[300];
    script_did_you_mean(sug, sizeof sug, c->db, name);
    rc = *sug ? ts_error(TSHOOT_ENOTFOUND, "no script '%s' in this KB%s", name, sug)
              : ts_error(TSHOOT_ENOTFOUND, "no script '%s' in this KB (scripts are named as the articles "
                         "name them, e.g. 'kerio/os-version.lua')", name);
  } else {
    rc = kb_sqlite_error(c->db, src, "reading a script");
  }
  sqlite3_finalize(st);
  kb_conn_release(kb, c);
  if (rc == TSHOOT_OK && (rc = kb_sign_script(kb, name, *body, n_body)) != TSHOOT_OK) {
    ts_free(*body);
    *body = NULL;
    if (len) *len = 0;
  }
  return rc;
}
