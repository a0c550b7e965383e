/*
** kbtest.c: tshoot_kb_tests() and friends: the test cases (<test>) a compiled
** KB carries, read into plain structs for `tshoot test` and for embedders
** that want to run them.
**
** Memory: a tshoot_tests is one block holding the array of cases plus a
** ts_arena with every string and the given-answer arrays; tshoot_tests_free()
** frees both. Statements live on the pooled connection in slots
** KB_STMT_SESSION_FIRST + 4 .. + 7 (kb.h; session.c uses the slots below).
*/
#include "kb.h"

#include <string.h>

struct tshoot_tests {
  tshoot_test_case *cases;
  size_t n;
  ts_arena arena;
};

enum { ST_TESTS, ST_GIVEN, ST_N };
enum { TESTS_SLOT = KB_STMT_SESSION_FIRST + 4 };

_Static_assert(TESTS_SLOT + ST_N <= KB_STMT_SESSION_FIRST + 8 &&
               TESTS_SLOT + ST_N <= KB_NSTMT,
               "kbtest.c has more statements than its slots in kb.h");

static const char *const tests_sql[] = {
  [ST_TESTS] =
    "SELECT t.id, t.name, t.description, t.text, t.expect_cause, t.expect_fix, s.path, t.line"
    " FROM test t LEFT JOIN source s ON s.id = t.source ORDER BY t.id",
  [ST_GIVEN] =
    "SELECT test, question, value FROM test_given ORDER BY test, pos",
};

static const char *col(sqlite3_stmt *st, int i)
{
  return (const char *)sqlite3_column_text(st, i);
}

TSHOOT_API void tshoot_tests_free(tshoot_tests *t)
{
  if (!t) return;
  ts_arena_free(&t->arena);
  ts_free(t->cases);
  ts_free(t);
}

TSHOOT_API size_t tshoot_tests_count(const tshoot_tests *t)
{
  return t ? t->n : 0;
}

TSHOOT_API const tshoot_test_case *tshoot_tests_get(const tshoot_tests *t, size_t i)
{
  return t && i < t->n ? &t->cases[i] : NULL;
}

/* Copy the NULL-able text column i into the arena; NULL stays NULL. */
static const char *dup_col(tshoot_tests *t, sqlite3_stmt *st, int i)
{
  const char *s = col(st, i);
  return s ? ts_arena_strdup(&t->arena, s) : NULL;
}

static int bsearch_case(const int64_t *rowids, size_t n, int64_t id)
{
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (rowids[mid] == id) return (int)mid;
    if (rowids[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

static int read_tests(tshoot_tests *t, kb_conn *c)
{
  sqlite3_stmt *st;
  int64_t *rowids = NULL;
  size_t cap = 0, rcap = 0, *n_given = NULL, i;
  int rc, status = TSHOOT_OK;

  /* the cases, in the order they were compiled */
  st = kb_conn_stmt(c, TESTS_SLOT + ST_TESTS, tests_sql[ST_TESTS]);
  if (!st) return tshoot_error_last()->code;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    tshoot_test_case *tc;
    const char *name = col(st, 1);
    if (ts_grow((void **)&t->cases, &cap, t->n + 1, sizeof *t->cases) != 0 ||
        ts_grow((void **)&rowids, &rcap, t->n + 1, sizeof *rowids) != 0) {
      status = ts_error_oom();
      break;
    }
    tc = &t->cases[t->n];
    memset(tc, 0, sizeof *tc);
    rowids[t->n] = sqlite3_column_int64(st, 0);
    tc->id = ts_arena_strdup(&t->arena, name ? name : "");
    tc->description = dup_col(t, st, 2);
    tc->text = dup_col(t, st, 3);
    tc->expect_cause = dup_col(t, st, 4);
    tc->expect_fix = dup_col(t, st, 5);
    tc->file = dup_col(t, st, 6);
    tc->line = sqlite3_column_int(st, 7);
    t->n++;
  }
  if (status == TSHOOT_OK && rc != SQLITE_DONE) status = kb_sqlite_error(c->db, rc, "reading the KB's tests");
  sqlite3_reset(st);
  if (status != TSHOOT_OK) goto done;

  /* the given answers: count per case, then fill (rows come ordered by case) */
  if (t->n) {
    n_given = ts_calloc(t->n, sizeof *n_given);
    if (!n_given) { status = ts_error_oom(); goto done; }
  }
  for (int pass = 0; pass < 2 && status == TSHOOT_OK; pass++) {
    size_t *fill = NULL;
    if (pass == 1 && t->n) {
      for (i = 0; i < t->n; i++) {
        tshoot_test_case *tc = &t->cases[i];
        if (!n_given[i]) continue;
        tc->questions = ts_arena_alloc(&t->arena, n_given[i] * sizeof *tc->questions);
        tc->values = ts_arena_alloc(&t->arena, n_given[i] * sizeof *tc->values);
      }
      if (t->arena.oom) { status = ts_error_oom(); break; }
      fill = n_given;
      for (i = 0; i < t->n; i++) t->cases[i].n_given = 0;
    }
    st = kb_conn_stmt(c, TESTS_SLOT + ST_GIVEN, tests_sql[ST_GIVEN]);
    if (!st) { status = tshoot_error_last()->code; break; }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      int k = bsearch_case(rowids, t->n, sqlite3_column_int64(st, 0));
      tshoot_test_case *tc;
      const char *q = col(st, 1), *v = col(st, 2);
      if (k < 0) continue;   /* a given without its test: ignore */
      tc = &t->cases[k];
      if (pass == 0) { n_given[k]++; continue; }
      if (tc->n_given >= fill[k]) continue;
      ((const char **)tc->questions)[tc->n_given] = ts_arena_strdup(&t->arena, q ? q : "");
      ((const char **)tc->values)[tc->n_given] = ts_arena_strdup(&t->arena, v ? v : "");
      tc->n_given++;
    }
    if (rc != SQLITE_DONE) status = kb_sqlite_error(c->db, rc, "reading the KB's tests");
    sqlite3_reset(st);
  }
  if (status == TSHOOT_OK && t->arena.oom) status = ts_error_oom();
done:
  ts_free(n_given);
  ts_free(rowids);
  return status;
}

TSHOOT_API int tshoot_kb_tests(tshoot_tests **out, tshoot_kb *kb)
{
  tshoot_tests *t;
  kb_conn *c = NULL;
  int rc;

  TS_CHECK_ARG(out);
  *out = NULL;
  TS_CHECK_ARG(kb);
  t = ts_calloc(1, sizeof *t);
  if (!t) return ts_error_oom();
  rc = kb_conn_acquire(kb, &c);
  if (rc == TSHOOT_OK) {
    rc = read_tests(t, c);
    kb_conn_release(kb, c);
  }
  if (rc != TSHOOT_OK) {
    tshoot_tests_free(t);
    return rc;
  }
  *out = t;
  return TSHOOT_OK;
}
