/*
** store.c: the session store, and its SQLite backend.
**
** The store is a struct of functions (serve.h, store_ops): the server calls
** through it and never names a backend, so that servers sharing sessions
** behind a load balancer can put a database server in its place.
**
** The SQLite backend keeps one row per session in a file: WAL journal, so
** that a committed change survives the process being killed (kill -9) and
** readers never wait for the writer; synchronous=NORMAL, so a commit costs no
** fsync (a power loss may lose the last commits; a process crash loses none).
** Every change is committed before the response that reports it is sent.
** One connection, behind a mutex: each statement takes tens of microseconds,
** far less than the work around it. Checkpoints (moving the WAL into the
** file, with its fsync) are not left to the commit that fills the WAL, which
** would hold every other request behind it: a second connection, used by the
** main thread only, checkpoints once a second without blocking the writer.
**
** A row holds what tshoot_session_save wrote, signed with the server's key
** (main.c), so a row changed behind the server's back is refused at load.
*/
#include "serve.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* the file's application_id ("tsse") and format */
#define STORE_APP_ID 0x74737365
#define STORE_FORMAT 1

typedef struct store_sqlite {
  sqlite3 *db;
  sqlite3 *ckpt;                /* the main thread's, for checkpoints */
  pthread_mutex_t lock;
  sqlite3_stmt *ins, *sel, *upd, *del, *touch, *cnt_client, *cnt_all, *cnt_kb, *expire;
} store_sqlite;

void store_row_clear(store_row *r)
{
  free(r->data);
  free(r->kb);
  free(r->client);
  free(r->notes);
  memset(r, 0, sizeof *r);
}

static void store_err(store_sqlite *st, const char *what)
{
  serve_log("session store: %s: %s", what, sqlite3_errmsg(st->db));
}

/* Run a statement to its end; 0 or -1. Resets it. */
static int store_step_done(store_sqlite *st, sqlite3_stmt *q, const char *what)
{
  int rc = sqlite3_step(q);
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
  if (rc != SQLITE_DONE) {
    store_err(st, what);
    return -1;
  }
  return 0;
}

static int store_bind_row(sqlite3_stmt *q, int first, const store_row *r)
{
  int rc = SQLITE_OK;
  if (!rc) rc = sqlite3_bind_text(q, first, r->data, -1, SQLITE_STATIC);
  if (!rc) rc = sqlite3_bind_text(q, first + 1, r->notes ? r->notes : "[]", -1, SQLITE_STATIC);
  if (!rc) rc = sqlite3_bind_int64(q, first + 2, r->revision);
  if (!rc) rc = sqlite3_bind_int64(q, first + 3, r->touched);
  return rc;
}

static int store_sqlite_create(void *self, const char *id, const store_row *r)
{
  store_sqlite *st = self;
  int rc;
  pthread_mutex_lock(&st->lock);
  /* INSERT INTO sessions(id, client, kb, created, data, notes, revision, touched) */
  rc = sqlite3_bind_text(st->ins, 1, id, -1, SQLITE_STATIC);
  if (!rc) rc = sqlite3_bind_text(st->ins, 2, r->client, -1, SQLITE_STATIC);
  if (!rc) rc = sqlite3_bind_text(st->ins, 3, r->kb, -1, SQLITE_STATIC);
  if (!rc) rc = sqlite3_bind_int64(st->ins, 4, r->created);
  if (!rc) rc = store_bind_row(st->ins, 5, r);
  rc = rc ? -1 : store_step_done(st, st->ins, "insert");
  pthread_mutex_unlock(&st->lock);
  return rc;
}

static char *store_col(sqlite3_stmt *q, int i)
{
  const unsigned char *t = sqlite3_column_text(q, i);
  return strdup(t ? (const char *)t : "");
}

static int store_sqlite_get(void *self, const char *id, long long live_since, store_row *out)
{
  store_sqlite *st = self;
  int rc, found = 0;
  memset(out, 0, sizeof *out);
  pthread_mutex_lock(&st->lock);
  /* SELECT client, kb, data, notes, revision, created, touched FROM sessions WHERE id = ? */
  sqlite3_bind_text(st->sel, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step(st->sel);
  if (rc == SQLITE_ROW && sqlite3_column_int64(st->sel, 6) >= live_since) {
    found = 1;
    out->client = store_col(st->sel, 0);
    out->kb = store_col(st->sel, 1);
    out->data = store_col(st->sel, 2);
    out->notes = store_col(st->sel, 3);
    out->revision = sqlite3_column_int64(st->sel, 4);
    out->created = sqlite3_column_int64(st->sel, 5);
    out->touched = sqlite3_column_int64(st->sel, 6);
  } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    store_err(st, "select");
  }
  sqlite3_reset(st->sel);
  sqlite3_clear_bindings(st->sel);
  if (found && (!out->client || !out->kb || !out->data || !out->notes)) {
    store_row_clear(out);
    pthread_mutex_unlock(&st->lock);
    return -1;
  }
  /* reading a session is activity: keep it alive (at most one write a minute) */
  if (found && out->touched < serve_now() - 60) {
    sqlite3_bind_int64(st->touch, 1, serve_now());
    sqlite3_bind_text(st->touch, 2, id, -1, SQLITE_STATIC);
    store_step_done(st, st->touch, "touch");
  }
  pthread_mutex_unlock(&st->lock);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return -1;
  return found ? 0 : 1;
}

static int store_sqlite_update(void *self, const char *id, long long expect, const store_row *r)
{
  store_sqlite *st = self;
  int rc;
  pthread_mutex_lock(&st->lock);
  /* UPDATE sessions SET data = ?1, notes = ?2, revision = ?3, touched = ?4
  ** WHERE id = ?5 AND revision = ?6 */
  rc = store_bind_row(st->upd, 1, r);
  if (!rc) rc = sqlite3_bind_text(st->upd, 5, id, -1, SQLITE_STATIC);
  if (!rc) rc = sqlite3_bind_int64(st->upd, 6, expect);
  rc = rc ? -1 : store_step_done(st, st->upd, "update");
  if (rc == 0 && sqlite3_changes(st->db) == 0) rc = 1;
  pthread_mutex_unlock(&st->lock);
  return rc;
}

static int store_sqlite_remove(void *self, const char *id)
{
  store_sqlite *st = self;
  int rc;
  pthread_mutex_lock(&st->lock);
  sqlite3_bind_text(st->del, 1, id, -1, SQLITE_STATIC);
  rc = store_step_done(st, st->del, "delete");
  if (rc == 0 && sqlite3_changes(st->db) == 0) rc = 1;
  pthread_mutex_unlock(&st->lock);
  return rc;
}

static long long store_count_step(store_sqlite *st, sqlite3_stmt *q)
{
  long long n = -1;
  if (sqlite3_step(q) == SQLITE_ROW) n = sqlite3_column_int64(q, 0);
  else store_err(st, "count");
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
  return n;
}

static long long store_sqlite_count(void *self, const char *client, long long live_since)
{
  store_sqlite *st = self;
  long long n;
  pthread_mutex_lock(&st->lock);
  if (client) {
    sqlite3_bind_text(st->cnt_client, 1, client, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st->cnt_client, 2, live_since);
    n = store_count_step(st, st->cnt_client);
  } else {
    sqlite3_bind_int64(st->cnt_all, 1, live_since);
    n = store_count_step(st, st->cnt_all);
  }
  pthread_mutex_unlock(&st->lock);
  return n;
}

static long long store_sqlite_count_kb(void *self, const char *digest)
{
  store_sqlite *st = self;
  long long n;
  pthread_mutex_lock(&st->lock);
  sqlite3_bind_text(st->cnt_kb, 1, digest, -1, SQLITE_STATIC);
  n = store_count_step(st, st->cnt_kb);
  pthread_mutex_unlock(&st->lock);
  return n;
}

static long long store_sqlite_expire(void *self, long long before)
{
  store_sqlite *st = self;
  long long n = -1;
  pthread_mutex_lock(&st->lock);
  sqlite3_bind_int64(st->expire, 1, before);
  if (store_step_done(st, st->expire, "expire") == 0) n = sqlite3_changes(st->db);
  pthread_mutex_unlock(&st->lock);
  return n;
}

static void store_sqlite_tick(void *self)
{
  store_sqlite *st = self;
  int log = 0, done = 0;
  if (st->ckpt && sqlite3_wal_checkpoint_v2(st->ckpt, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done)
      != SQLITE_OK && sqlite3_errcode(st->ckpt) != SQLITE_BUSY)
    serve_log("session store: checkpoint: %s", sqlite3_errmsg(st->ckpt));
}

static void store_sqlite_close(void *self)
{
  store_sqlite *st = self;
  if (!st) return;
  sqlite3_close(st->ckpt);
  sqlite3_finalize(st->ins);
  sqlite3_finalize(st->sel);
  sqlite3_finalize(st->upd);
  sqlite3_finalize(st->del);
  sqlite3_finalize(st->touch);
  sqlite3_finalize(st->cnt_client);
  sqlite3_finalize(st->cnt_all);
  sqlite3_finalize(st->cnt_kb);
  sqlite3_finalize(st->expire);
  sqlite3_close(st->db);
  pthread_mutex_destroy(&st->lock);
  free(st);
}

static const store_ops store_sqlite_ops = {
  store_sqlite_create, store_sqlite_get, store_sqlite_update, store_sqlite_remove,
  store_sqlite_count, store_sqlite_count_kb, store_sqlite_expire, store_sqlite_tick,
  store_sqlite_close,
};

static const char store_schema[] =
  "CREATE TABLE IF NOT EXISTS sessions("
  " id TEXT PRIMARY KEY,"          /* 128 random bits, hex */
  " client TEXT NOT NULL,"         /* the address that created it */
  " kb TEXT NOT NULL,"             /* the digest of its KB build */
  " created INTEGER NOT NULL,"
  " data TEXT NOT NULL,"           /* tshoot_session_save, signed */
  " notes TEXT NOT NULL,"          /* reserved for the server's notes: '[]' */
  " revision INTEGER NOT NULL,"    /* +1 on every change */
  " touched INTEGER NOT NULL"      /* last use, seconds since the epoch */
  ") WITHOUT ROWID;"
  "CREATE INDEX IF NOT EXISTS sessions_client ON sessions(client, touched);"
  "CREATE INDEX IF NOT EXISTS sessions_touched ON sessions(touched);"
  "CREATE INDEX IF NOT EXISTS sessions_kb ON sessions(kb);";

static int store_prepare(store_sqlite *st, sqlite3_stmt **q, const char *sql)
{
  if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, q, NULL) != SQLITE_OK) {
    store_err(st, "prepare");
    return -1;
  }
  return 0;
}

int store_sqlite_open(serve_store *out, const char *path)
{
  store_sqlite *st = calloc(1, sizeof *st);
  sqlite3_stmt *q = NULL;
  int app_id = 0, format = 0;
  if (!st) return -1;
  pthread_mutex_init(&st->lock, NULL);
  if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                      SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    serve_log("session store %s: cannot open: %s", path,
              st->db ? sqlite3_errmsg(st->db) : "out of memory");
    goto fail;
  }
  sqlite3_busy_timeout(st->db, 5000);
  sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
  sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
  if (sqlite3_prepare_v2(st->db, "PRAGMA application_id", -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    app_id = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    format = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  if (app_id != 0 && app_id != STORE_APP_ID) {
    serve_log("session store %s: not a tshoot session store (application_id %#x)", path,
              (unsigned)app_id);
    goto fail;
  }
  if (app_id == STORE_APP_ID && format != STORE_FORMAT) {
    serve_log("session store %s: format %d, this server writes format %d", path, format,
              STORE_FORMAT);
    goto fail;
  }
  if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                   " PRAGMA wal_autocheckpoint=0;",
                   NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_exec(st->db, store_schema, NULL, NULL, NULL) != SQLITE_OK) {
    store_err(st, path);
    goto fail;
  }
  if (app_id == 0) {
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d;",
             STORE_APP_ID, STORE_FORMAT);
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
      store_err(st, path);
      goto fail;
    }
  }
  if (store_prepare(st, &st->ins, "INSERT INTO sessions(id, client, kb, created, data, notes,"
                    " revision, touched) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)") ||
      store_prepare(st, &st->sel, "SELECT client, kb, data, notes, revision, created, touched"
                    " FROM sessions WHERE id = ?1") ||
      store_prepare(st, &st->upd, "UPDATE sessions SET data = ?1, notes = ?2, revision = ?3,"
                    " touched = ?4 WHERE id = ?5 AND revision = ?6") ||
      store_prepare(st, &st->del, "DELETE FROM sessions WHERE id = ?1") ||
      store_prepare(st, &st->touch, "UPDATE sessions SET touched = ?1 WHERE id = ?2") ||
      store_prepare(st, &st->cnt_client, "SELECT count(*) FROM sessions"
                    " WHERE client = ?1 AND touched >= ?2") ||
      store_prepare(st, &st->cnt_all, "SELECT count(*) FROM sessions WHERE touched >= ?1") ||
      store_prepare(st, &st->cnt_kb, "SELECT count(*) FROM sessions WHERE kb = ?1") ||
      store_prepare(st, &st->expire, "DELETE FROM sessions WHERE touched < ?1"))
    goto fail;
  /* a file store: the checkpointing connection (":memory:" has no WAL) */
  if (strcmp(path, ":memory:") != 0) {
    if (sqlite3_open_v2(path, &st->ckpt, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
      serve_log("session store %s: cannot open: %s", path,
                st->ckpt ? sqlite3_errmsg(st->ckpt) : "out of memory");
      goto fail;
    }
    sqlite3_busy_timeout(st->ckpt, 1000);
    sqlite3_db_config(st->ckpt, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
  }
  out->ops = &store_sqlite_ops;
  out->self = st;
  return 0;
fail:
  store_sqlite_close(st);
  return -1;
}
