/*
** kb.h: the inside of a tshoot_kb (kb_open.c), shared with the modules that
** read a KB: search.c, article.c and, later, session.c.
**
** A tshoot_kb is immutable after open. Each reader borrows a SQLite connection
** from the KB's pool for the length of one call (kb_conn_acquire /
** kb_conn_release), so no connection is ever used by two threads at once;
** the pool grows on demand and every connection is checked to be reading the
** same build (meta digest) as the first.
*/
#ifndef TSHOOT_KB_H
#define TSHOOT_KB_H

#include "tshoot_int.h"
#include <pthread.h>
#include <sqlite3.h>

/* A pooled connection with the statements a module keeps prepared on it.
** Modules own their slot in `stmts` (indices below) and finalize nothing:
** kb_open.c finalizes all at close. */
enum {
  KB_STMT_SEARCH_FIRST = 0,   /* search.c: slots [0, 16) */
  KB_STMT_ARTICLE_FIRST = 16, /* article.c: slots [16, 24) */
  KB_STMT_SESSION_FIRST = 24, /* session.c: slots [24, 32) */
  KB_NSTMT = 32
};

typedef struct kb_conn {
  sqlite3 *db;
  sqlite3_stmt *stmts[KB_NSTMT];
  int64_t deadline_ns;        /* monotonic; 0: no budget armed */
  int timed_out;              /* set by the progress handler */
  struct kb_conn *next;       /* free list */
  /* Per-module cached state (e.g. search.c's tokenizer); freed at close with
  ** the hook stored beside it. Slot 0: search.c, 1: article.c, 2: session.c. */
  void *module_data[4];
  void (*module_free[4])(void *);
} kb_conn;

struct tshoot_kb {
  char *path;
  int refs;                   /* guarded by mu */
  pthread_mutex_t mu;
  kb_conn *free_conns;        /* guarded by mu */
  size_t n_conns;             /* guarded by mu */
  int query_budget_ms;
  size_t cache_kib;
  /* the reasoning model (rules.c), loaded on first use under model_mu */
  struct rules_model *model;
  pthread_mutex_t model_mu;
  /* immutable after open */
  char digest[65];
  char *tshoot_version;
  tshoot_kb_info info;
};

/* Borrow a connection (opening one if the pool is empty). TSHOOT_OK or an
** error status with the error set. */
int kb_conn_acquire(tshoot_kb *kb, kb_conn **out);
/* Give it back. */
void kb_conn_release(tshoot_kb *kb, kb_conn *c);

/* Arm the time budget for the next statements on c (budget_ms <= 0: kb's). */
void kb_conn_arm(kb_conn *c, const tshoot_kb *kb, int budget_ms);
void kb_conn_disarm(kb_conn *c);

/* Prepare (once) and return statement `slot` with `sql`; reset and
** clear-bound on every call. NULL on failure with the error set. */
sqlite3_stmt *kb_conn_stmt(kb_conn *c, int slot, const char *sql);

/* Map a SQLite failure to a tshoot status and set the error
** ("what: sqlite message"). SQLITE_CORRUPT/NOTADB -> TSHOOT_ECORRUPT,
** SQLITE_INTERRUPT -> TSHOOT_ETIMEOUT, SQLITE_NOMEM -> TSHOOT_ENOMEM. */
int kb_sqlite_error(sqlite3 *db, int rc, const char *what);

/* Reference counting: sessions and results keep their kb alive. */
void kb_ref(tshoot_kb *kb);
void kb_unref(tshoot_kb *kb);

/* Monotonic clock in nanoseconds. */
int64_t kb_now_ns(void);

#endif /* TSHOOT_KB_H */
