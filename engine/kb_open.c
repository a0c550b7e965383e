/*
** kb_open.c: opening a compiled KB safely, and the pool of read-only SQLite
** connections behind a shared tshoot_kb.
**
** A KB file may come from elsewhere, so before SQLite reads any of it the
** header is checked by hand (magic, page size, size against the page count,
** application id, format version); then every connection is opened read-only
** in defensive mode with an untrusted schema, triggers, views, extension
** loading and fts3_tokenizer() off, and sqlite_schema must hold exactly the
** objects a compile creates (kb_schema.h).
**
** Every connection reads the file the handle opened and checked, through the
** descriptor the handle keeps (kb_vfs.c), so a KB renamed over an open one
** (as the compiler does) never mixes two builds in one handle; each new
** connection is still checked like the first (schema, digest).
**
** With no path, the default KB: $TSHOOT_KB when set (even if the file is
** missing, so that the error names it), else the KB this build compiles when
** it exists, else the installed one (kb_default_path). Front-ends use this
** one rule rather than their own.
*/
#include "kb.h"
#include "kb_schema.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Where tshoot_kb_open(NULL) looks after $TSHOOT_KB (engine/meson.build):
** the KB this build compiles, then the one installed with the library. */
#ifndef TS_BUILD_KB
# define TS_BUILD_KB ""
#endif
#ifndef TS_INSTALLED_KB
# define TS_INSTALLED_KB ""
#endif

#define DEFAULT_BUDGET_MS 250
#define DEFAULT_CACHE_KIB 8192

int64_t kb_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int kb_fts5_api(sqlite3 *db, fts5_api **out)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL);
  *out = NULL;
  if (rc == SQLITE_OK) {
    sqlite3_bind_pointer(st, 1, (void *)out, "fts5_api_ptr", NULL);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_OK || (*out && (*out)->iVersion < 2)) *out = NULL;
  return rc;
}

int kb_sqlite_error(sqlite3 *db, int rc, const char *what)
{
  const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
  case SQLITE_NOMEM:
    return ts_error(TSHOOT_ENOMEM, "%s: out of memory", what);
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
  case SQLITE_FORMAT:
  case SQLITE_SCHEMA:
    return ts_error(TSHOOT_ECORRUPT, "%s: the KB file is damaged (%s); recompile it", what, msg);
  case SQLITE_INTERRUPT:
    return ts_error(TSHOOT_ETIMEOUT, "%s: ran past its time budget", what);
  case SQLITE_CANTOPEN:
  case SQLITE_IOERR:
  case SQLITE_PERM:
    return ts_error(TSHOOT_EIO, "%s: %s", what, msg);
  default:
    return ts_error(TSHOOT_ERROR, "%s: %s", what, msg);
  }
}

/* ===== header checks, before SQLite sees the file ===== */

static uint32_t be32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Open the KB file: the descriptor the handle keeps (kb->fd). */
static int open_file(const char *path, int *fd_out)
{
  /* O_NONBLOCK: a FIFO is refused by check_header instead of waiting */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  *fd_out = fd;
  if (fd < 0) {
    int e = errno;
    return ts_error_at(e == ENOENT ? TSHOOT_ENOTFOUND : TSHOOT_EIO, path, 0, 0,
                       e == ENOENT ? "no KB file here; compile one with 'tshoot compile DIR -o %s'"
                                   : "cannot open the KB file: %s",
                       e == ENOENT ? "FILE" : strerror(e));
  }
  return TSHOOT_OK;
}

/* Check the header of the file open on fd (path: for messages). */
int kb_open_check_header(int fd, const char *path)
{
  unsigned char h[100];
  struct stat st;
  ssize_t n;
  uint32_t page_size, pages, change, valid_for;
  int32_t user_version, app_id;

  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return ts_error_at(TSHOOT_EIO, path, 0, 0, "not a regular file");
  n = pread(fd, h, sizeof h, 0);
  if (n < (ssize_t)sizeof h || memcmp(h, "SQLite format 3", 16) != 0)
    return ts_error_at(TSHOOT_ECORRUPT, path, 0, 0,
                       "not a tshoot KB (not an SQLite database%s)",
                       n < (ssize_t)sizeof h ? ": file too short" : "");
  page_size = (uint32_t)h[16] << 8 | h[17];
  if (page_size == 1) page_size = 65536;
  if (page_size < 512 || (page_size & (page_size - 1)))
    return ts_error_at(TSHOOT_ECORRUPT, path, 0, 0, "damaged KB: bad page size %u", page_size);
  pages = be32(h + 28);
  change = be32(h + 24);
  valid_for = be32(h + 92);
  app_id = (int32_t)be32(h + 68);
  user_version = (int32_t)be32(h + 60);
  if (app_id != TS_KB_APPLICATION_ID)
    return ts_error_at(TSHOOT_ECORRUPT, path, 0, 0,
                       "not a tshoot KB (an SQLite database with application id 0x%08x)",
                       (unsigned)app_id);
  if (user_version != TSHOOT_KB_FORMAT)
    return ts_error_at(TSHOOT_EVERSION, path, 0, 0,
                       "KB format %d was written by %s tshoot; this tshoot (%s) reads format %d: "
                       "recompile the KB from its sources (tshoot compile SOURCES... -o FILE)",
                       (int)user_version, user_version < TSHOOT_KB_FORMAT ? "an older" : "a newer",
                       TSHOOT_VERSION, TSHOOT_KB_FORMAT);
  if (change == valid_for && (uint64_t)pages * page_size != (uint64_t)st.st_size)
    return ts_error_at(TSHOOT_ECORRUPT, path, 0, 0,
                       "damaged KB: the file has %lld bytes but its header says %llu "
                       "(truncated or appended to); recompile it",
                       (long long)st.st_size, (unsigned long long)pages * page_size);
  return TSHOOT_OK;
}

/* ===== schema check ===== */

static const char *const expected_ddl[][2] = {
#define X(name, sql) { name, sql },
  TS_KB_DDL_LIST(X)
#undef X
};
static const char *const expected_shadow[] = {
#define X(name) name,
  TS_KB_FTS_SHADOW_LIST(X)
#undef X
};

static int check_schema(sqlite3 *db, const char *path)
{
  sqlite3_stmt *st = NULL;
  int rc, seen[TS_ARRAY_LEN(expected_ddl)] = { 0 }, result = TSHOOT_OK;
  size_t i;

  rc = sqlite3_prepare_v2(db, "SELECT type, name, sql FROM sqlite_schema", -1, &st, NULL);
  if (rc != SQLITE_OK) return kb_sqlite_error(db, rc, "reading the KB schema");
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *type = (const char *)sqlite3_column_text(st, 0);
    const char *name = (const char *)sqlite3_column_text(st, 1);
    const char *sql = (const char *)sqlite3_column_text(st, 2);
    int ok = 0;
    if (!type || !name) { ok = 0; }
    else if (strcmp(type, "table") == 0 || strcmp(type, "view") == 0 || strcmp(type, "index") == 0) {
      /* tables, indexes and views: the very statements of kb_schema.h */
      for (i = 0; i < TS_ARRAY_LEN(expected_ddl) && !ok; i++)
        if (strcmp(name, expected_ddl[i][0]) == 0 && sql && strcmp(sql, expected_ddl[i][1]) == 0) {
          seen[i] = 1;
          ok = 1;
        }
      if (strcmp(type, "table") == 0)
        for (i = 0; i < TS_ARRAY_LEN(expected_shadow) && !ok; i++)
          if (strcmp(name, expected_shadow[i]) == 0) ok = 1;
      /* and the automatic indexes of UNIQUE / PRIMARY KEY constraints */
      if (strcmp(type, "index") == 0 && !ok)
        ok = sql == NULL && strncmp(name, "sqlite_autoindex_", 17) == 0;
    }
    if (!ok) {
      result = ts_error_at(TSHOOT_ECORRUPT, path, 0, 0,
                           "not a tshoot KB: unexpected %s '%s' in its schema",
                           type ? type : "object", name ? name : "?");
      break;
    }
  }
  if (result == TSHOOT_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    result = kb_sqlite_error(db, rc, "reading the KB schema");
  sqlite3_finalize(st);
  if (result != TSHOOT_OK) return result;
  for (i = 0; i < TS_ARRAY_LEN(expected_ddl); i++)
    if (!seen[i])
      return ts_error_at(TSHOOT_ECORRUPT, path, 0, 0,
                         "not a tshoot KB: '%s' is missing or differs", expected_ddl[i][0]);
  return TSHOOT_OK;
}

/* ===== connections ===== */

static int progress_cb(void *arg)
{
  kb_conn *c = arg;
  if (c->deadline_ns && kb_now_ns() > c->deadline_ns) {
    c->timed_out = 1;
    return 1;
  }
  return 0;
}

void kb_conn_arm(kb_conn *c, const tshoot_kb *kb, int budget_ms)
{
  if (budget_ms <= 0) budget_ms = kb->query_budget_ms;
  c->timed_out = 0;
  c->deadline_ns = kb_now_ns() + (int64_t)budget_ms * 1000000;
}

void kb_conn_disarm(kb_conn *c) { c->deadline_ns = 0; }

static void conn_close(kb_conn *c)
{
  int i;
  if (!c) return;
  for (i = 0; i < KB_NSTMT; i++) sqlite3_finalize(c->stmts[i]);
  for (i = 0; i < KB_NCONN_DATA; i++)
    if (c->module_data[i] && c->module_free[i]) c->module_free[i](c->module_data[i]);
  sqlite3_close_v2(c->db);
  ts_free(c);
}

static int read_meta(sqlite3 *db, const char *key, char **out)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL);
  *out = NULL;
  if (rc != SQLITE_OK) return kb_sqlite_error(db, rc, "reading KB metadata");
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(st, 0);
    *out = ts_strdup(v ? v : "");
    rc = *out ? TSHOOT_OK : ts_error_oom();
  } else if (rc == SQLITE_DONE) {
    rc = ts_error(TSHOOT_ECORRUPT, "not a tshoot KB: metadata '%s' is missing", key);
  } else {
    rc = kb_sqlite_error(db, rc, "reading KB metadata");
  }
  sqlite3_finalize(st);
  return rc;
}

/* SQLite keeps process-wide memory statistics by default, under one mutex
** taken on every allocation: searches on several threads then serialise on
** it (measured: 2 threads searching a 1,000-article KB gave 1.03x one
** thread's rate with the statistics on, 1.99x with them off; BENCHMARKS.md,
** "Python bindings"), and so do a compile's threads. Turn them off once,
** before SQLite initialises (kb_sqlite_init: opening a KB and compiling
** one). If the application initialised SQLite first, sqlite3_config()
** refuses (SQLITE_MISUSE) and its choice stands. */
static pthread_once_t sqlite_config_once = PTHREAD_ONCE_INIT;
static int kb_vfs_ok;         /* "tshoot-kb" registered (kb_vfs.c) */
static void sqlite_config(void)
{
  (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  kb_vfs_ok = kb_vfs_register(); /* initialises SQLite: after the config */
}

/* Open one connection on the handle's file (kb->conn_path) and check it:
** its schema, every time (cheap next to opening; it matters where a
** connection must reopen the path, see kb->conn_path), and its build: the
** first sets kb->digest, the others must read the same. */
void kb_sqlite_init(void)
{
  pthread_once(&sqlite_config_once, sqlite_config);
}

static int conn_open(tshoot_kb *kb, kb_conn **out, int first)
{
  kb_conn *c;
  char *digest = NULL;
  char pragma[64];
  int rc;

  *out = NULL;
  pthread_once(&sqlite_config_once, sqlite_config);
  c = ts_calloc(1, sizeof *c);
  if (!c) return ts_error_oom();
  rc = sqlite3_open_v2(kb->conn_path, &c->db,
                       SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE,
                       kb->conn_path == kb->path ? NULL : KB_VFS_NAME);
  if (rc != SQLITE_OK) {
    rc = kb_sqlite_error(c->db, rc, "opening the KB");
    goto fail;
  }
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, (int *)NULL);
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
  /* a KB has no views (format 3's article_text view is gone since format 4) */
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, (int *)NULL);
  sqlite3_limit(c->db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(c->db, SQLITE_LIMIT_LENGTH, 16 * 1024 * 1024);
  sqlite3_limit(c->db, SQLITE_LIMIT_SQL_LENGTH, 1024 * 1024);
  sqlite3_limit(c->db, SQLITE_LIMIT_EXPR_DEPTH, 200);
  sqlite3_progress_handler(c->db, 1000, progress_cb, c);
  snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%zu", kb->cache_kib);
  rc = sqlite3_exec(c->db, pragma, NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_exec(c->db, "PRAGMA query_only = 1", NULL, NULL, NULL);
  /* Pages read in place from the file's map (kb_vfs.c), up to SQLite's cap.
  ** No cell_size_check: a mapped page is decoded afresh each time a query
  ** touches it, and that pragma then re-checks every cell of the page each
  ** time (an interior page holds hundreds): 18,000 instructions for one
  ** rowid lookup, a quarter of a 10k search (p50 145 -> 111 us without it).
  ** It only finds a damaged page sooner: SQLite reports one as
  ** SQLITE_CORRUPT either way (the opener's tests and fuzzers check that). */
  if (rc == SQLITE_OK) rc = sqlite3_exec(c->db, "PRAGMA mmap_size = 1099511627776", NULL, NULL, NULL);
  /* Keep the shared lock for the connection's life: each statement then
  ** starts its read transaction without fcntl(), fstat() and a look at the
  ** file's change counter (a sixth of a search that runs several statements).
  ** Nothing writes a KB in place: the compiler renames a new file over it,
  ** and this connection goes on reading the handle's file either way. (This
  ** is for the path fallback: through kb_vfs.c the file is immutable to
  ** SQLite, which then takes no lock at all.) */
  if (rc == SQLITE_OK) rc = sqlite3_exec(c->db, "PRAGMA locking_mode = EXCLUSIVE", NULL, NULL, NULL);
  if (rc != SQLITE_OK) {
    rc = kb_sqlite_error(c->db, rc, "configuring the KB connection");
    goto fail;
  }
  rc = check_schema(c->db, kb->path);
  if (rc != TSHOOT_OK) goto fail;
  rc = read_meta(c->db, TS_META_DIGEST, &digest);
  if (rc != TSHOOT_OK) goto fail;
  if (first) {
    if (strlen(digest) != 64) {
      rc = ts_error_at(TSHOOT_ECORRUPT, kb->path, 0, 0, "damaged KB: bad digest");
      goto fail;
    }
    memcpy(kb->digest, digest, 65);
  } else if (strcmp(digest, kb->digest) != 0) {
    rc = ts_error_at(TSHOOT_ERROR, kb->path, 0, 0,
                     "the KB file was replaced since it was opened; close and reopen it");
    goto fail;
  }
  ts_free(digest);
  *out = c;
  return TSHOOT_OK;
fail:
  ts_free(digest);
  conn_close(c);
  return rc;
}

int kb_conn_acquire(tshoot_kb *kb, kb_conn **out)
{
  kb_conn *c;
  pthread_mutex_lock(&kb->mu);
  c = kb->free_conns;
  if (c) kb->free_conns = c->next;
  pthread_mutex_unlock(&kb->mu);
  if (c) {
    c->next = NULL;
    *out = c;
    return TSHOOT_OK;
  }
  {
    int rc = conn_open(kb, &c, 0);
    if (rc != TSHOOT_OK) { *out = NULL; return rc; }
  }
  pthread_mutex_lock(&kb->mu);
  kb->n_conns++;
  pthread_mutex_unlock(&kb->mu);
  *out = c;
  return TSHOOT_OK;
}

void kb_conn_release(tshoot_kb *kb, kb_conn *c)
{
  if (!c) return;
  kb_conn_disarm(c);
  pthread_mutex_lock(&kb->mu);
  c->next = kb->free_conns;
  kb->free_conns = c;
  pthread_mutex_unlock(&kb->mu);
}

sqlite3_stmt *kb_conn_stmt(kb_conn *c, int slot, const char *sql)
{
  sqlite3_stmt *st = c->stmts[slot];
  if (!st) {
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
      kb_sqlite_error(c->db, rc, "preparing a KB query");
      sqlite3_finalize(st);
      return NULL;
    }
    c->stmts[slot] = st;
  } else {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
  return st;
}

/* ===== the handle ===== */

static int count_rows(sqlite3 *db, const char *table, size_t *out)
{
  char sql[96];
  sqlite3_stmt *st = NULL;
  int rc;
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
  rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    *out = (size_t)sqlite3_column_int64(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_OK ? TSHOOT_OK : kb_sqlite_error(db, rc, "counting KB contents");
}

static void kb_destroy(tshoot_kb *kb)
{
  kb_conn *c = kb->free_conns, *next;
  int i;
  while (c) {
    next = c->next;
    conn_close(c);
    c = next;
  }
  for (i = 0; i < KB_NCACHE; i++)
    if (kb->cache[i] && kb->cache_free[i]) kb->cache_free[i](kb->cache[i]);
  pthread_mutex_destroy(&kb->cache_mu);
  pthread_mutex_destroy(&kb->mu);
  if (kb->conn_path != kb->path) ts_free(kb->conn_path);
  ts_free(kb->tshoot_version);
  kb_sign_free(kb->trust);
  ts_free(kb->path);
  if (kb->fd >= 0) close(kb->fd); /* after every connection on the file */
  ts_free(kb);
}

int kb_cache_get(tshoot_kb *kb, int slot, int (*make)(tshoot_kb *kb, void **obj),
                 void (*free_fn)(void *), void **out)
{
  int rc = TSHOOT_OK;
  *out = NULL;
  if (slot < 0 || slot >= KB_NCACHE)
    return ts_error(TSHOOT_EINVALID, "kb_cache_get: no slot %d", slot);
  pthread_mutex_lock(&kb->cache_mu);
  if (!kb->cache[slot]) {
    void *obj = NULL;
    rc = make(kb, &obj);
    if (rc == TSHOOT_OK && obj) {
      kb->cache[slot] = obj;
      kb->cache_free[slot] = free_fn;
    } else if (rc == TSHOOT_OK) {
      rc = ts_error(TSHOOT_ERROR, "kb_cache_get: slot %d made nothing", slot);
    }
  }
  *out = kb->cache[slot];
  pthread_mutex_unlock(&kb->cache_mu);
  return rc;
}

void kb_ref(tshoot_kb *kb)
{
  pthread_mutex_lock(&kb->mu);
  kb->refs++;
  pthread_mutex_unlock(&kb->mu);
}

void kb_unref(tshoot_kb *kb)
{
  int last;
  if (!kb) return;
  pthread_mutex_lock(&kb->mu);
  last = --kb->refs == 0;
  pthread_mutex_unlock(&kb->mu);
  if (last) kb_destroy(kb);
}

/* ===== the default KB ===== */

static int file_exists(const char *p)
{
  struct stat st;
  return p && *p && stat(p, &st) == 0;
}

const char *kb_default_path(const char *build_kb, const char *installed_kb)
{
  const char *env = getenv("TSHOOT_KB");
  if (env && *env) return env;
  if (file_exists(build_kb)) return build_kb;
  if (file_exists(installed_kb)) return installed_kb;
  return NULL;
}

/* The name every connection of kb opens: kb->fd through the "tshoot-kb" VFS
** (kb_vfs.c), so each reads the file the handle checked, even once renamed
** over. Only if that VFS could not be registered, the path itself: then a
** connection opened after a rename reads the new file, is checked like the
** first (schema included) and refused unless its digest is the handle's.
** NULL on oom. */
static char *conn_path(tshoot_kb *kb)
{
  char name[64];
  if (!kb_vfs_ok) return kb->path;
  snprintf(name, sizeof name, KB_VFS_PREFIX "%d", kb->fd);
  return ts_strdup(name);
}

static int kb_open_path(tshoot_kb **out, const char *path, const tshoot_kb_options *opts)
{
  tshoot_kb *kb;
  kb_conn *c = NULL;
  int rc, fd;

  rc = open_file(path, &fd);
  if (rc != TSHOOT_OK) return rc;
  rc = kb_open_check_header(fd, path);
  if (rc != TSHOOT_OK) { close(fd); return rc; }

  kb_vfs_hold_shared(fd);
  kb = ts_calloc(1, sizeof *kb);
  if (!kb) { close(fd); return ts_error_oom(); }
  kb->fd = fd;
  if (pthread_mutex_init(&kb->mu, NULL) != 0) {
    close(fd);
    ts_free(kb);
    return ts_error(TSHOOT_ERROR, "cannot create a mutex");
  }
  if (pthread_mutex_init(&kb->cache_mu, NULL) != 0) {
    pthread_mutex_destroy(&kb->mu);
    close(fd);
    ts_free(kb);
    return ts_error(TSHOOT_ERROR, "cannot create a mutex");
  }
  kb->refs = 1;
  kb->path = ts_strdup(path);
  kb->query_budget_ms = opts && opts->query_budget_ms > 0 ? opts->query_budget_ms : DEFAULT_BUDGET_MS;
  kb->cache_kib = opts && opts->cache_kib > 0 ? opts->cache_kib : DEFAULT_CACHE_KIB;
  if (!kb->path) { rc = ts_error_oom(); goto fail; }
  /* its signatures, on the descriptor SQLite then reads, before SQLite does */
  rc = kb_sign_check(&kb->trust, fd, path, opts);
  if (rc != TSHOOT_OK) goto fail;
  pthread_once(&sqlite_config_once, sqlite_config);
  kb->conn_path = conn_path(kb);
  if (!kb->conn_path) { rc = ts_error_oom(); goto fail; }

  rc = conn_open(kb, &c, 1);
  if (rc != TSHOOT_OK) goto fail;
  kb->n_conns = 1;
  {
    char *fmt = NULL;
    char want[16];
    snprintf(want, sizeof want, "%d", TSHOOT_KB_FORMAT);
    rc = read_meta(c->db, TS_META_FORMAT, &fmt);
    if (rc == TSHOOT_OK && strcmp(fmt, want) != 0)
      rc = ts_error_at(TSHOOT_EVERSION, path, 0, 0, "KB format '%s' is not supported (this tshoot reads %s): "
                       "recompile the KB from its sources", fmt, want);
    ts_free(fmt);
    if (rc != TSHOOT_OK) goto fail;
  }
  rc = read_meta(c->db, TS_META_VERSION, &kb->tshoot_version);
  if (rc != TSHOOT_OK) goto fail;
  {
    char *v = NULL, *end = NULL;
    rc = read_meta(c->db, TS_META_CAUSE_TOKENS, &v);
    if (rc == TSHOOT_OK) {
      kb->cause_tokens = strtoull(v, &end, 10);
      if (!v[0] || *end)
        rc = ts_error_at(TSHOOT_ECORRUPT, path, 0, 0, "the KB's %s is '%s', not a count: recompile the KB "
                         "from its sources", TS_META_CAUSE_TOKENS, v);
    }
    ts_free(v);
    if (rc != TSHOOT_OK) goto fail;
  }
  rc = kb_sign_load_scripts(kb->trust, c->db);
  if (rc != TSHOOT_OK) goto fail;
  kb->info.format = TSHOOT_KB_FORMAT;
  kb->info.digest = kb->digest;
  kb->info.tshoot_version = kb->tshoot_version;
  if ((rc = count_rows(c->db, "article", &kb->info.articles)) != TSHOOT_OK ||
      (rc = count_rows(c->db, "question", &kb->info.questions)) != TSHOOT_OK ||
      (rc = count_rows(c->db, "fact", &kb->info.facts)) != TSHOOT_OK ||
      (rc = count_rows(c->db, "cause", &kb->info.causes)) != TSHOOT_OK ||
      (rc = count_rows(c->db, "fix", &kb->info.fixes)) != TSHOOT_OK ||
      (rc = count_rows(c->db, "test", &kb->info.tests)) != TSHOOT_OK ||
      (rc = count_rows(c->db, "script", &kb->info.scripts)) != TSHOOT_OK ||
      (rc = count_rows(c->db, "source", &kb->info.sources)) != TSHOOT_OK)
    goto fail;
  if (rc != TSHOOT_OK) goto fail;
  kb->free_conns = c;
  *out = kb;
  return TSHOOT_OK;
fail:
  {
    /* keep the error that was set; make sure it names the file */
    const tshoot_error *e = tshoot_error_last();
    if (!e->file) {
      char msg[1024];
      snprintf(msg, sizeof msg, "%s", e->message);
      ts_error_at(e->code, path, 0, 0, "%s", msg);
    }
  }
  conn_close(c);
  kb_destroy(kb);
  return rc;
}


TSHOOT_API int tshoot_kb_open(tshoot_kb **out, const char *path, const tshoot_kb_options *opts)
{
  int rc, from_env = 0;

  TS_CHECK_ARG(out);
  *out = NULL;
  if (path && !*path) return ts_error(TSHOOT_EINVALID, "tshoot_kb_open: the path is empty");
  TS_CHECK_OPTIONS(opts, TSHOOT_KB_OPTIONS_VERSION);
  if (!path) {
    path = kb_default_path(TS_BUILD_KB, TS_INSTALLED_KB);
    if (!path)
      return ts_error(TSHOOT_ENOTFOUND,
                      "no knowledge base found: looked for $TSHOOT_KB (unset), %s (the KB this "
                      "build compiles) and %s (the installed KB); pass a path or set TSHOOT_KB",
                      *TS_BUILD_KB ? TS_BUILD_KB : "(no build KB)",
                      *TS_INSTALLED_KB ? TS_INSTALLED_KB : "(no installed KB)");
    from_env = path == getenv("TSHOOT_KB");
  }
  rc = kb_open_path(out, path, opts);
  if (rc != TSHOOT_OK && from_env) {
    const tshoot_error *e = tshoot_error_last();
    char msg[1024], *file = e->file ? ts_strdup(e->file) : NULL;
    snprintf(msg, sizeof msg, "%s (the path came from $TSHOOT_KB; unset it to use the default KB)",
             e->message);
    ts_error_at(e->code, file ? file : path, e->line, e->column, "%s", msg);
    ts_free(file);
  }
  return rc;
}

TSHOOT_API void tshoot_kb_close(tshoot_kb *kb) { kb_unref(kb); }

TSHOOT_API const char *tshoot_kb_path(const tshoot_kb *kb) { return kb ? kb->path : NULL; }

TSHOOT_API int tshoot_kb_info_get(tshoot_kb_info *out, const tshoot_kb *kb)
{
  TS_CHECK_ARG(out);
  TS_CHECK_ARG(kb);
  *out = kb->info;
  return TSHOOT_OK;
}
