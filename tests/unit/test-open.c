/*
** test-open.c: tshoot_kb_open on files that are not what they claim:
** missing, foreign, truncated, appended to, of another format version, with a
** tampered schema, and with random bytes flipped; none may crash, and each
** must be refused with the right status and a message that says why.
*/
#include "tshoot.h"
#include "kb.h"
#include "test.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];
static char good[512];

static const char *tmp(const char *name)
{
  static char buf[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

static char *slurp(const char *path, size_t *len)
{
  char *buf = NULL;
  if (ts_read_file(&buf, len, path, 64u << 20) != TSHOOT_OK) return NULL;
  return buf;
}

static void spit(const char *path, const void *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  if (!f) return;
  if (len) fwrite(data, 1, len, f);
  fclose(f);
}

static int open_status(const char *path)
{
  tshoot_kb *kb = NULL;
  int rc = tshoot_kb_open(&kb, path, NULL);
  CHECK(rc == TSHOOT_OK ? kb != NULL : kb == NULL);
  tshoot_kb_close(kb);
  return rc;
}

static void test_open__good_kb(void)
{
  CHECK_INT(open_status(good), TSHOOT_OK);
}

static void test_open__missing_file_says_how_to_make_one(void)
{
  CHECK_INT(open_status(tmp("nope.db")), TSHOOT_ENOTFOUND);
  CHECK_CONTAINS(tshoot_error_last()->message, "tshoot compile");
  CHECK_CONTAINS(tshoot_error_last()->file, "nope.db");
}

static void test_open__text_and_empty_files(void)
{
  spit(tmp("text.db"), "hello, this is not a database\n", 30);
  CHECK_INT(open_status(tmp("text.db")), TSHOOT_ECORRUPT);
  CHECK_CONTAINS(tshoot_error_last()->message, "not a tshoot KB");
  spit(tmp("empty.db"), "", 0);
  CHECK_INT(open_status(tmp("empty.db")), TSHOOT_ECORRUPT);
  CHECK_INT(open_status(tmpdir), TSHOOT_EIO);
}

static void test_open__truncated_and_appended(void)
{
  size_t len;
  char *b = slurp(good, &len);
  CHECK(b != NULL);
  if (!b) return;
  spit(tmp("half.db"), b, len / 2);
  CHECK_INT(open_status(tmp("half.db")), TSHOOT_ECORRUPT);
  CHECK_CONTAINS(tshoot_error_last()->message, "truncated");
  spit(tmp("short.db"), b, 60);
  CHECK_INT(open_status(tmp("short.db")), TSHOOT_ECORRUPT);
  {
    char *more = malloc(len + 4096);
    memcpy(more, b, len);
    memset(more + len, 0x5a, 4096);
    spit(tmp("long.db"), more, len + 4096);
    free(more);
  }
  CHECK_INT(open_status(tmp("long.db")), TSHOOT_ECORRUPT);
  free(b);
}

/* Run sql on the SQLite file at path (created if missing). */
static void alter_db(const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

static void copy_good(const char *to)
{
  size_t len;
  char *b = slurp(good, &len);
  if (b) spit(to, b, len);
  free(b);
}

static void test_open__foreign_sqlite_and_other_versions(void)
{
  unlink(tmp("foreign.db"));
  alter_db(tmp("foreign.db"), "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
  CHECK_INT(open_status(tmp("foreign.db")), TSHOOT_ECORRUPT);
  CHECK_CONTAINS(tshoot_error_last()->message, "application id");

  /* a newer format, the older formats 2 (before the ranking tables), 3
  ** (article_fts's text a view), 4 (that text in a table of its own) and 5
  ** (the causes' words in a second FTS5 index) */
  copy_good(tmp("v2.db"));
  alter_db(tmp("v2.db"), "PRAGMA user_version = 7");
  CHECK_INT(open_status(tmp("v2.db")), TSHOOT_EVERSION);
  CHECK_CONTAINS(tshoot_error_last()->message, "recompile");
  CHECK_CONTAINS(tshoot_error_last()->message, "a newer tshoot");
  copy_good(tmp("v1.db"));
  alter_db(tmp("v1.db"), "PRAGMA user_version = 3");
  CHECK_INT(open_status(tmp("v1.db")), TSHOOT_EVERSION);
  CHECK_CONTAINS(tshoot_error_last()->message, "an older tshoot");
  CHECK_CONTAINS(tshoot_error_last()->message, "recompile the KB from its sources");
  copy_good(tmp("v4.db"));
  alter_db(tmp("v4.db"), "PRAGMA user_version = 4");
  CHECK_INT(open_status(tmp("v4.db")), TSHOOT_EVERSION);
  CHECK_CONTAINS(tshoot_error_last()->message, "KB format 4 was written by an older tshoot");
  CHECK_CONTAINS(tshoot_error_last()->message, "recompile the KB from its sources");
  copy_good(tmp("v5.db"));
  alter_db(tmp("v5.db"), "PRAGMA user_version = 5");
  CHECK_INT(open_status(tmp("v5.db")), TSHOOT_EVERSION);
  CHECK_CONTAINS(tshoot_error_last()->message, "KB format 5 was written by an older tshoot");
  CHECK_CONTAINS(tshoot_error_last()->message, "recompile the KB from its sources");
  /* format 2 (article_fts stored its own copy of the text, no ranking tables) */
  copy_good(tmp("v2old.db"));
  alter_db(tmp("v2old.db"), "PRAGMA user_version = 2");
  CHECK_INT(open_status(tmp("v2old.db")), TSHOOT_EVERSION);
  CHECK_CONTAINS(tshoot_error_last()->message, "KB format 2 was written by an older tshoot");
  CHECK_CONTAINS(tshoot_error_last()->message, "recompile the KB from its sources");
}

static void test_open__tampered_schema(void)
{
  copy_good(tmp("view.db"));
  alter_db(tmp("view.db"), "CREATE VIEW v AS SELECT 1");
  CHECK_INT(open_status(tmp("view.db")), TSHOOT_ECORRUPT);
  CHECK_CONTAINS(tshoot_error_last()->message, "unexpected view 'v'");

  copy_good(tmp("trigger.db"));
  alter_db(tmp("trigger.db"), "CREATE TRIGGER tr AFTER INSERT ON meta BEGIN SELECT 1; END");
  CHECK_INT(open_status(tmp("trigger.db")), TSHOOT_ECORRUPT);
  CHECK_CONTAINS(tshoot_error_last()->message, "unexpected trigger 'tr'");

  copy_good(tmp("drop.db"));
  alter_db(tmp("drop.db"), "DROP TABLE vocab");
  CHECK_INT(open_status(tmp("drop.db")), TSHOOT_ECORRUPT);
  CHECK_CONTAINS(tshoot_error_last()->message, "'vocab' is missing");

  copy_good(tmp("changed.db"));
  alter_db(tmp("changed.db"), "DROP TABLE vocab; CREATE TABLE vocab(word TEXT, n INTEGER, evil TEXT)");
  CHECK_INT(open_status(tmp("changed.db")), TSHOOT_ECORRUPT);

  copy_good(tmp("nometa.db"));
  alter_db(tmp("nometa.db"), "DELETE FROM meta WHERE key = 'digest'");
  CHECK_INT(open_status(tmp("nometa.db")), TSHOOT_ECORRUPT);
  CHECK_CONTAINS(tshoot_error_last()->message, "digest");
}

/* xorshift, for reproducible damage */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void test_open__flipped_bytes_never_crash(void)
{
  size_t len;
  char *orig = slurp(good, &len), *b;
  int i, opened = 0, refused = 0, searched = 0;
  CHECK(orig != NULL);
  if (!orig) return;
  b = malloc(len);
  for (i = 0; i < 400; i++) {
    tshoot_kb *kb = NULL;
    int k, flips = 1 + (int)(rnd() % 16), rc;
    memcpy(b, orig, len);
    for (k = 0; k < flips; k++) {
      /* beyond the 100-byte header, so that the damage reaches SQLite */
      size_t at = 100 + (size_t)(rnd() % (len - 100));
      b[at] = (char)(b[at] ^ (1 + rnd() % 255));
    }
    spit(tmp("flipped.db"), b, len);
    rc = tshoot_kb_open(&kb, tmp("flipped.db"), NULL);
    CHECK(rc == TSHOOT_OK || rc == TSHOOT_ECORRUPT || rc == TSHOOT_EVERSION || rc == TSHOOT_ERROR);
    if (rc != TSHOOT_OK) { refused++; CHECK(tshoot_error_last()->message[0] != '\0'); continue; }
    opened++;
    {
      tshoot_results *r = NULL;
      tshoot_article *a = NULL;
      rc = tshoot_search(&r, kb, "printer offline", 15, NULL);
      CHECK(rc == TSHOOT_OK || rc == TSHOOT_ECORRUPT || rc == TSHOOT_ERROR);
      if (rc == TSHOOT_OK) searched++;
      tshoot_results_free(r);
      rc = tshoot_article_load(&a, kb, "printer-offline");
      CHECK(rc == TSHOOT_OK || rc == TSHOOT_ECORRUPT || rc == TSHOOT_ENOTFOUND || rc == TSHOOT_ERROR);
      tshoot_article_free(a);
    }
    tshoot_kb_close(kb);
  }
  printf("  flipped: %d opened (%d searched), %d refused\n", opened, searched, refused);
  CHECK(opened + refused == 400);
  free(b);
  free(orig);
}

/* The digest a connection reads. */
static void conn_digest(kb_conn *c, char *out, size_t cap)
{
  sqlite3_stmt *st = NULL;
  out[0] = '\0';
  if (sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = 'digest'", -1, &st, NULL) ==
          SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
}

#define ZERO_DIGEST "0000000000000000000000000000000000000000000000000000000000000000"

/* A KB renamed over an open one, as the compiler does: connections opened
** afterwards still read the file the handle opened (issue 12; they used to
** reopen the path and be refused as "replaced"). */
static void test_open__replaced_file_keeps_reading_the_file_it_opened(void)
{
  tshoot_kb *kb = NULL;
  kb_conn *c1 = NULL, *c2 = NULL, *c3 = NULL;
  tshoot_kb_info info;
  char d[80];
  copy_good(tmp("swap.db"));
  CHECK_INT(tshoot_kb_open(&kb, tmp("swap.db"), NULL), TSHOOT_OK);
  if (!kb) return;
  CHECK_INT(tshoot_kb_info_get(&info, kb), TSHOOT_OK);
  /* another build: same tables, another digest */
  copy_good(tmp("swap-new.db"));
  alter_db(tmp("swap-new.db"), "UPDATE meta SET value = '" ZERO_DIGEST "' WHERE key = 'digest'");
  CHECK_INT(rename(tmp("swap-new.db"), tmp("swap.db")), 0);
  CHECK_INT(kb_conn_acquire(kb, &c1), TSHOOT_OK);      /* the pooled one, opened before */
  CHECK_INT(kb_conn_acquire(kb, &c2), TSHOOT_OK);      /* a new one, opened after */
  if (c2) {
    conn_digest(c2, d, sizeof d);
    CHECK_STR(d, info.digest);
  }
  /* even once the old file has no name left */
  CHECK_INT(unlink(tmp("swap.db")), 0);
  CHECK_INT(kb_conn_acquire(kb, &c3), TSHOOT_OK);
  if (c3) {
    conn_digest(c3, d, sizeof d);
    CHECK_STR(d, info.digest);
  }
  kb_conn_release(kb, c1);
  kb_conn_release(kb, c2);
  kb_conn_release(kb, c3);
  tshoot_kb_close(kb);
}

/* Where a connection must reopen the path (no "tshoot-kb" VFS), it is
** checked like the first: another digest is refused as replaced, and the same
** digest does not skip the schema check. */
static void test_open__path_connections_are_checked_like_the_first(void)
{
  tshoot_kb *kb = NULL;
  kb_conn *c1 = NULL, *c2 = NULL;
  copy_good(tmp("swap2.db"));
  CHECK_INT(tshoot_kb_open(&kb, tmp("swap2.db"), NULL), TSHOOT_OK);
  if (!kb) return;
  CHECK_INT(kb_conn_acquire(kb, &c1), TSHOOT_OK);   /* keep the pooled one busy */
  if (kb->conn_path != kb->path) ts_free(kb->conn_path);
  kb->conn_path = kb->path;                         /* as without the VFS */

  copy_good(tmp("swap2-new.db"));
  alter_db(tmp("swap2-new.db"), "CREATE VIEW v AS SELECT 1");    /* same digest */
  CHECK_INT(rename(tmp("swap2-new.db"), tmp("swap2.db")), 0);
  CHECK_INT(kb_conn_acquire(kb, &c2), TSHOOT_ECORRUPT);
  CHECK_CONTAINS(tshoot_error_last()->message, "unexpected view 'v'");

  copy_good(tmp("swap2-new.db"));
  alter_db(tmp("swap2-new.db"), "UPDATE meta SET value = '" ZERO_DIGEST "' WHERE key = 'digest'");
  CHECK_INT(rename(tmp("swap2-new.db"), tmp("swap2.db")), 0);
  CHECK_INT(kb_conn_acquire(kb, &c2), TSHOOT_ERROR);
  CHECK_CONTAINS(tshoot_error_last()->message, "replaced");
  kb_conn_release(kb, c1);
  tshoot_kb_close(kb);
}

/* Threads search while new KBs are renamed in: no search fails, and none
** reads the new file (its titles say REPLACED). */
typedef struct swap_arg {
  tshoot_kb *kb;
  pthread_barrier_t *all_hold;
  int fails, replaced, searched;
} swap_arg;

static void *swap_searcher(void *p)
{
  swap_arg *a = p;
  static const char *const q[] = { "printer offline", "printer power", "plug", "offline" };
  kb_conn *c = NULL;
  int i;
  /* all four hold a connection at once, so the pool opens three after the
  ** rename whatever the scheduler does; the searches then use all four */
  if (kb_conn_acquire(a->kb, &c) != TSHOOT_OK) {
    a->fails++;
    fprintf(stderr, "acquire failed: %s\n", tshoot_error_last()->message);
  }
  pthread_barrier_wait(a->all_hold);
  kb_conn_release(a->kb, c);
  for (i = 0; i < 40; i++) {
    tshoot_results *r = NULL;
    size_t k;
    int rc = tshoot_search(&r, a->kb, q[i % 4], strlen(q[i % 4]), NULL);
    if (rc != TSHOOT_OK) {
      if (a->fails++ == 0) fprintf(stderr, "search failed: %s\n", tshoot_error_last()->message);
      continue;
    }
    a->searched++;
    for (k = 0; k < tshoot_results_count(r); k++)
      if (strstr(tshoot_results_get(r, k)->title, "REPLACED")) a->replaced++;
    tshoot_results_free(r);
  }
  return NULL;
}

static void test_open__threads_search_while_the_kb_is_replaced(void)
{
  tshoot_kb *kb = NULL;
  pthread_t th[4];
  pthread_barrier_t all_hold;
  swap_arg args[4];
  int i, g, fails = 0, replaced = 0, searched = 0;
  pthread_barrier_init(&all_hold, NULL, 4);
  copy_good(tmp("live.db"));
  CHECK_INT(tshoot_kb_open(&kb, tmp("live.db"), NULL), TSHOOT_OK);
  if (!kb) { pthread_barrier_destroy(&all_hold); return; }
  for (g = 0; g < 3; g++) {
    /* a new build renamed in before the threads start (so that they open
    ** connections after it), then another while they search */
    copy_good(tmp("live-new.db"));
    alter_db(tmp("live-new.db"), "UPDATE article SET title = 'REPLACED ' || title;"
                                 "UPDATE meta SET value = '" ZERO_DIGEST "' WHERE key = 'digest'");
    CHECK_INT(rename(tmp("live-new.db"), tmp("live.db")), 0);
    if (g == 1) {
      for (i = 0; i < 4; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].kb = kb;
        args[i].all_hold = &all_hold;
        CHECK_INT(pthread_create(&th[i], NULL, swap_searcher, &args[i]), 0);
      }
    }
  }
  for (i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    fails += args[i].fails;
    replaced += args[i].replaced;
    searched += args[i].searched;
  }
  printf("  replaced while searching: %d searches, %d failed, %d connections\n", searched,
         fails, (int)kb->n_conns);
  CHECK_INT(fails, 0);
  CHECK_INT(replaced, 0);
  CHECK_INT(searched, 160);
  CHECK_INT(kb->n_conns, 4);
  tshoot_kb_close(kb);
  pthread_barrier_destroy(&all_hold);
}

/* kb_cache_get: made once, kept until close and freed there by its hook (a
** leak would show under ASan); a failed make keeps nothing, the next call
** tries again. */
static int made, freed, fail_next;
static int make_obj(tshoot_kb *kb, void **obj)
{
  (void)kb;
  if (fail_next) {
    fail_next = 0;
    *obj = NULL;
    return ts_error(TSHOOT_EIO, "no luck");
  }
  made++;
  *obj = ts_strdup("cached");
  return *obj ? TSHOOT_OK : ts_error_oom();
}
static void free_obj(void *p)
{
  freed++;
  ts_free(p);
}

static void test_open__cache_slot(void)
{
  tshoot_kb *kb = NULL;
  void *a = (void *)1, *b = NULL;
  made = freed = 0;
  CHECK_INT(tshoot_kb_open(&kb, good, NULL), TSHOOT_OK);
  if (!kb) return;
  fail_next = 1;
  CHECK_INT(kb_cache_get(kb, KB_CACHE_RULES, make_obj, free_obj, &a), TSHOOT_EIO);
  CHECK(a == NULL);
  CHECK_INT(kb_cache_get(kb, KB_CACHE_RULES, make_obj, free_obj, &a), TSHOOT_OK);
  CHECK_INT(kb_cache_get(kb, KB_CACHE_RULES, make_obj, free_obj, &b), TSHOOT_OK);
  CHECK(a != NULL && a == b);
  CHECK_STR(a, "cached");
  CHECK_INT(made, 1);
  CHECK_INT(kb_cache_get(kb, KB_NCACHE, make_obj, free_obj, &b), TSHOOT_EINVALID);
  CHECK_INT(freed, 0);
  tshoot_kb_close(kb);
  CHECK_INT(freed, 1);
}

/* tshoot_kb_open(NULL) opens the default KB: $TSHOOT_KB (even a missing
** file, so the error names it), else the build's KB, else the installed one. */
static void test_open__default_kb(void)
{
  const char *saved = getenv("TSHOOT_KB");
  char *keep = saved ? strdup(saved) : NULL;
  tshoot_kb *kb = NULL, *kb2 = NULL;
  tshoot_kb_info a, b;
  const char *missing = tmp("no-such.db");

  /* the order */
  setenv("TSHOOT_KB", missing, 1);
  CHECK_STR(kb_default_path(good, good), missing);
  unsetenv("TSHOOT_KB");
  CHECK_STR(kb_default_path(good, missing), good);
  CHECK_STR(kb_default_path(missing, good), good);
  CHECK_STR(kb_default_path("", good), good);
  CHECK(kb_default_path(missing, missing) == NULL);
  CHECK(kb_default_path(NULL, NULL) == NULL);
  setenv("TSHOOT_KB", "", 1); /* empty is unset */
  CHECK_STR(kb_default_path(missing, good), good);

  /* through the API */
  setenv("TSHOOT_KB", good, 1);
  CHECK_INT(tshoot_kb_open(&kb, NULL, NULL), TSHOOT_OK);
  CHECK_INT(tshoot_kb_open(&kb2, good, NULL), TSHOOT_OK);
  if (kb && kb2) {
    CHECK_INT(tshoot_kb_info_get(&a, kb), TSHOOT_OK);
    CHECK_INT(tshoot_kb_info_get(&b, kb2), TSHOOT_OK);
    CHECK_STR(a.digest, b.digest);
  }
  tshoot_kb_close(kb);
  tshoot_kb_close(kb2);
  kb = NULL;
  setenv("TSHOOT_KB", missing, 1);
  CHECK_INT(tshoot_kb_open(&kb, NULL, NULL), TSHOOT_ENOTFOUND);
  CHECK(kb == NULL);
  CHECK_CONTAINS(tshoot_error_last()->file, "no-such.db");
  CHECK_CONTAINS(tshoot_error_last()->message, "$TSHOOT_KB");
  /* an explicit path is never blamed on the environment */
  CHECK_INT(tshoot_kb_open(&kb, missing, NULL), TSHOOT_ENOTFOUND);
  CHECK(!strstr(tshoot_error_last()->message, "TSHOOT_KB"));

  if (keep) setenv("TSHOOT_KB", keep, 1);
  else unsetenv("TSHOOT_KB");
  free(keep);
}

static void test_open__bad_arguments(void)
{
  tshoot_kb *kb = (tshoot_kb *)1;
  tshoot_kb_options o = TSHOOT_KB_OPTIONS_INIT;
  CHECK_INT(tshoot_kb_open(NULL, good, NULL), TSHOOT_EINVALID);
  CHECK_INT(tshoot_kb_open(&kb, "", NULL), TSHOOT_EINVALID); /* NULL: the default KB */
  CHECK(kb == NULL);
  o.version = 99;
  CHECK_INT(tshoot_kb_open(&kb, good, &o), TSHOOT_EINVALID);
  tshoot_kb_close(NULL);
  CHECK_STR(tshoot_libversion(), TSHOOT_VERSION);
  CHECK_CONTAINS(tshoot_strerror(TSHOOT_ECORRUPT), "damaged");
}

int main(void)
{
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  char src[1024];
  const char *s = src;
  snprintf(src, sizeof src, "%s/tests/data/compile/good.xml", root ? root : "..");
  snprintf(tmpdir, sizeof tmpdir, "/tmp/tshoot-test-open-XXXXXX");
  if (!mkdtemp(tmpdir)) return 99;
  snprintf(good, sizeof good, "%s/good.db", tmpdir);
  if (tshoot_compile(NULL, &s, 1, good, NULL) != TSHOOT_OK) {
    fprintf(stderr, "cannot compile the fixture: %s\n", tshoot_error_last()->message);
    return 99;
  }
  RUN(test_open__good_kb);
  RUN(test_open__missing_file_says_how_to_make_one);
  RUN(test_open__text_and_empty_files);
  RUN(test_open__truncated_and_appended);
  RUN(test_open__foreign_sqlite_and_other_versions);
  RUN(test_open__tampered_schema);
  RUN(test_open__flipped_bytes_never_crash);
  RUN(test_open__replaced_file_keeps_reading_the_file_it_opened);
  RUN(test_open__path_connections_are_checked_like_the_first);
  RUN(test_open__threads_search_while_the_kb_is_replaced);
  RUN(test_open__cache_slot);
  RUN(test_open__default_kb);
  RUN(test_open__bad_arguments);
  {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  }
  TEST_EXIT();
}
