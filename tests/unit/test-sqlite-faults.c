/*
** test-sqlite-faults.c: SQLite's own allocations failing, one at a time,
** through its allocator hook (SQLITE_CONFIG_MALLOC), over a compile, opening a
** KB and a search. Our allocator's sweeps (test-search, test-compile) cannot
** reach these: SQLite allocates for itself. Each run ends in a clean error or
** the correct result; a failed compile leaves the previous KB in place, byte
** for byte; nothing leaks (ASan checks that).
**
** It is its own executable because the hook must be installed before SQLite
** initialises, which the first tshoot call in a process does.
*/
#include "tshoot.h"
#include "test.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Atomic: a compile allocates through SQLite on several threads at once
** (the run under ThreadSanitizer checks the library's threads, not these). */
static sqlite3_mem_methods orig;
static _Atomic long fail_at = -1;   /* the allocation to fail (0-based), -1: none */
static _Atomic long seen;           /* allocations since arming */
static atomic_int failed_one;

static int should_fail(void)
{
  long at = atomic_load(&fail_at);
  if (at < 0) return 0;
  if (atomic_fetch_add(&seen, 1) == at) { atomic_store(&failed_one, 1); return 1; }
  return 0;
}
static void *f_malloc(int n) { return should_fail() ? NULL : orig.xMalloc(n); }
static void *f_realloc(void *p, int n) { return should_fail() ? NULL : orig.xRealloc(p, n); }

static void arm(long k) { fail_at = k; seen = 0; failed_one = 0; }
static void disarm(void) { fail_at = -1; }

static char dir[64], src[1024], small_src[1024], kb_path[1200], copy_path[1200];

static char *slurp(const char *path, size_t *n)
{
  FILE *f = fopen(path, "rb");
  char *b = NULL;
  long len;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (b = malloc((size_t)len + 1)) != NULL) {
    *n = fread(b, 1, (size_t)len, f);
  }
  fclose(f);
  return b;
}

/* The ranked ids of a search, joined, or NULL on a failure. */
static char *search_ids(tshoot_kb *kb, const char *q, int *rc)
{
  tshoot_results *r = NULL;
  char *out;
  size_t i, len = 1;
  *rc = tshoot_search(&r, kb, q, strlen(q), NULL);
  if (*rc != TSHOOT_OK) return NULL;
  for (i = 0; i < tshoot_results_count(r); i++) len += strlen(tshoot_results_get(r, i)->article) + 1;
  out = calloc(1, len);
  for (i = 0; out && i < tshoot_results_count(r); i++) {
    strcat(out, tshoot_results_get(r, i)->article);
    strcat(out, " ");
  }
  tshoot_results_free(r);
  return out;
}

static void test_sqlite_faults__search(void)
{
  tshoot_kb *kb = NULL;
  char *want;
  int rc, done = 0, failures = 0;
  long k;
  CHECK_INT(tshoot_kb_open(&kb, kb_path, NULL), TSHOOT_OK);
  if (!kb) return;
  want = search_ids(kb, "outlook cannot load kofmsp dll", &rc);
  CHECK_INT(rc, TSHOOT_OK);
  CHECK(want && *want);
  for (k = 0; k < 100000 && !done; k++) {
    char *got;
    arm(k);
    got = search_ids(kb, "outlook cannot load kofmsp dll", &rc);
    done = !failed_one;
    disarm();
    if (rc == TSHOOT_OK) CHECK_STR(got, want);
    else failures++;
    free(got);
  }
  CHECK(done);
  printf("     search: %ld fault points, %d ended in an error\n", k, failures);
  tshoot_kb_close(kb);
  free(want);
}

static void test_sqlite_faults__open(void)
{
  int done = 0;
  long k;
  for (k = 0; k < 100000 && !done; k++) {
    tshoot_kb *kb = NULL;
    int rc;
    arm(k);
    rc = tshoot_kb_open(&kb, kb_path, NULL);
    done = !failed_one;
    disarm();
    if (rc == TSHOOT_OK) CHECK(kb != NULL);
    else CHECK(kb == NULL);
    tshoot_kb_close(kb);
  }
  CHECK(done);
  printf("     open: %ld fault points\n", k);
}

static void test_sqlite_faults__compile_keeps_the_old_kb(void)
{
  const char *srcs[1] = { small_src };   /* small: every fault point is a whole compile */
  char *before, *after;
  size_t nb = 0, na = 0;
  int done = 0, failures = 0;
  long k;
  tshoot_compile_stats st;
  CHECK_INT(tshoot_compile(&st, srcs, 1, copy_path, NULL), TSHOOT_OK);
  before = slurp(copy_path, &nb);
  CHECK(before != NULL);
  /* every fault point of the first 600 (opening, schema, the first rows),
  ** then every 11th: a compile makes ~14,400 SQLite allocations (KB format 4:
  ** ~7,400 before), each point a whole compile, and every 5th took 92 s
  ** under ASan on a busy machine; every kind of statement still fails
  ** somewhere in the stride (11: prime, so no statement's pattern of
  ** allocations is stepped over in step) */
  for (k = 0; k < 100000 && !done; k += k < 600 ? 1 : 11) {
    int rc;
    arm(k);
    rc = tshoot_compile(&st, srcs, 1, copy_path, NULL);
    done = !failed_one;
    disarm();
    after = slurp(copy_path, &na);
    /* failed or not, the file in place is a whole KB: the old one or an
    ** identical new one (compiling is deterministic) */
    CHECK(after && na == nb && memcmp(after, before, nb) == 0);
    if (rc != TSHOOT_OK) failures++;
    free(after);
  }
  CHECK(done);
  CHECK(failures > 0);
  printf("     compile: fault points up to %ld (all of the first 600, then every 11th), %d ended in an error\n",
         k, failures);
  free(before);
}

int main(void)
{
  static sqlite3_mem_methods mine;
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  if (!root) { fprintf(stderr, "TSHOOT_SOURCE_ROOT is not set\n"); return 1; }
  if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &orig) != SQLITE_OK) return 1;
  mine = orig;
  mine.xMalloc = f_malloc;
  mine.xRealloc = f_realloc;
  if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mine) != SQLITE_OK) {
    fprintf(stderr, "SQLite was initialised before the hook could be set\n");
    return 1;
  }
  snprintf(dir, sizeof dir, "/tmp/tshoot-sqlite-faults.XXXXXX");
  if (!mkdtemp(dir)) return 1;
  snprintf(src, sizeof src, "%s/tests/data/search", root);
  snprintf(small_src, sizeof small_src, "%s/tests/data/compile/good.xml", root);
  snprintf(kb_path, sizeof kb_path, "%s/search.db", dir);
  snprintf(copy_path, sizeof copy_path, "%s/copy.db", dir);
  {
    const char *srcs[1] = { src };
    tshoot_compile_stats st;
    if (tshoot_compile(&st, srcs, 1, kb_path, NULL) != TSHOOT_OK) {
      fprintf(stderr, "compile failed: %s\n", tshoot_error_last()->message);
      return 1;
    }
  }
  RUN(test_sqlite_faults__search);
  RUN(test_sqlite_faults__open);
  RUN(test_sqlite_faults__compile_keeps_the_old_kb);
  unlink(kb_path);
  unlink(copy_path);
  rmdir(dir);
  TEST_EXIT();
}
