/*
** kb.h: the inside of a tshoot_kb (kb_open.c), shared with the modules that
** read a KB: search, article.c and the rules model (rules.c) that sessions
** reason with. This layer stores and hands out; it knows none of them: each
** keeps its state in a slot (statements and per-connection data on a pooled
** connection, a per-KB cache on the handle) with the hook that frees it.
**
** A tshoot_kb is immutable after open. Each reader borrows a SQLite connection
** from the KB's pool for the length of one call (kb_conn_acquire /
** kb_conn_release), so no connection is ever used by two threads at once;
** the pool grows on demand, every connection reads the file the handle
** opened (through the descriptor it keeps, see kb_open.c) and is checked
** like the first: schema, and the same build (meta digest).
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

/* Slots of per-connection module data (kb_conn.module_data). */
enum {
  KB_CONN_DATA_SEARCH = 0,    /* search.c: the search_state */
  KB_NCONN_DATA
};

/* Slots of the per-KB cache (kb_cache_get): one object per KB, built on first
** use and shared read-only by every thread. */
enum {
  KB_CACHE_RULES = 0,         /* rules.c: the reasoning model */
  KB_NCACHE
};

typedef struct kb_conn {
  sqlite3 *db;
  sqlite3_stmt *stmts[KB_NSTMT];
  int64_t deadline_ns;        /* monotonic; 0: no budget armed */
  int timed_out;              /* set by the progress handler */
  struct kb_conn *next;       /* free list */
  /* Per-module cached state (e.g. search's tokenizers), slots below; freed
  ** at close with the hook stored beside it. */
  void *module_data[KB_NCONN_DATA];
  void (*module_free[KB_NCONN_DATA])(void *);
} kb_conn;

struct tshoot_kb {
  char *path;                 /* as given: for messages */
  int fd;                     /* the file opened and checked, kept open */
  char *conn_path;            /* what each connection opens: KB_VFS_PREFIX
                              ** and fd (the same file, even once renamed
                              ** over), or path if the VFS is missing */
  int refs;                   /* guarded by mu */
  pthread_mutex_t mu;
  kb_conn *free_conns;        /* guarded by mu */
  size_t n_conns;             /* guarded by mu */
  int query_budget_ms;
  size_t cache_kib;
  /* per-KB caches (KB_CACHE_*), made on first use under cache_mu and freed
  ** at close with the hook stored beside each */
  void *cache[KB_NCACHE];
  void (*cache_free[KB_NCACHE])(void *);
  pthread_mutex_t cache_mu;
  /* immutable after open */
  char digest[65];
  char *tshoot_version;
  tshoot_kb_info info;
  uint64_t cause_tokens;      /* meta's: all causes' tokens (search_cause_scores) */
  struct kb_trust *trust;     /* its signatures and what they mean here (kb_sign.c) */
};

/* Borrow a connection (opening one if the pool is empty). TSHOOT_OK or an
** error status with the error set. */
int kb_conn_acquire(tshoot_kb *kb, kb_conn **out);
/* Give it back. */
void kb_conn_release(tshoot_kb *kb, kb_conn *c);

/* The object in cache slot `slot` (KB_CACHE_*) of kb: made by make(kb, &obj)
** on first use, under the KB's cache lock (so once, even with threads
** racing), and freed with free_fn when the KB is destroyed. Until make
** succeeds nothing is kept and the next call tries again. TSHOOT_OK and *out,
** or make's error and *out NULL. */
int kb_cache_get(tshoot_kb *kb, int slot, int (*make)(tshoot_kb *kb, void **obj),
                 void (*free_fn)(void *), void **out);

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

/* Configure SQLite once per process, before it initialises (kb_open.c: its
** memory statistics off, the KB VFS registered). Every path into SQLite
** calls it first: opening a KB, compiling one. */
void kb_sqlite_init(void);

/* The FTS5 API of db (the documented way: SELECT fts5(?1) with a pointer):
** SQLITE_OK or the statement's error; *out NULL unless it is version 2 or
** later. */
int kb_fts5_api(sqlite3 *db, fts5_api **out);

/* kb_rank_write.c. The tokens article_fts indexes, caught as it indexes
** each article: the terms, and where every RANK_CHECKPOINT-th token starts
** in its text, kept in a table rank_cp of the catcher's own private database
** until kb_rank_copy. The index's
** thread creates the catcher on its database (the tokenizer
** KB_RANK_CATCH_TOKENIZER, which article_fts there must be declared with),
** then brackets each article's insert with begin / end (texts: the
** TS_FTS_NCOLS columns as inserted, NULL for none: FTS5 tokenizes those that
** are not). Close it before db is closed, free it after (its tokenizer lives
** as long as db); kb_rank_catch_new sets *out even when it fails (free it
** the same way). */
typedef struct kb_rank_catch kb_rank_catch;
#define KB_RANK_CATCH_TOKENIZER "ts_rank_catch"
int kb_rank_catch_new(sqlite3 *db, kb_rank_catch **out);
void kb_rank_catch_begin(kb_rank_catch *k);
int kb_rank_catch_end(kb_rank_catch *k, sqlite3_int64 doc, const char *const *text, const int *len);
void kb_rank_catch_close(kb_rank_catch *k);
void kb_rank_catch_free(kb_rank_catch *k);
/* The message of the first failure of kb_rank_catch_end or kb_rank_build
** (on the index's thread, whose error description is its own), or NULL. */
const char *kb_rank_catch_error(const kb_rank_catch *k);

/* The ranking tables (rank_term, rank_post, rank_pos, rank_doc) from what
** catcher k caught: kb_rank_build, on db's thread once every article is in
** its article_fts (before the merge: it reads the article sizes FTS5 wrote),
** sorts the terms and counts them, checked against FTS5's sizes. From then
** on the catcher is the writer's: kb_rank_copy writes the tables into the KB
** `to` (whose article and source rows are written: rank_doc is joined with
** them; its text comes from text(ctx, article id, ...): each of the
** TS_FTS_NCOLS columns as article_fts indexed it, NULL for none, valid until
** the next call; TSHOOT_OK or an error), reading the caught rows from the
** catcher's own database, while db's
** thread merges article_fts; kb_rank_check, once db's transaction committed,
** checks FTS5's total token count against the sizes'. TSHOOT_OK or an
** error. */
int kb_rank_build(sqlite3 *db, kb_rank_catch *k);
typedef int (*kb_text_fn)(void *ctx, uint32_t doc, const char **text, int *len);
int kb_rank_copy(sqlite3 *to, kb_rank_catch *k, kb_text_fn text, void *ctx);
int kb_rank_check(sqlite3 *db, const kb_rank_catch *k);
/* Test hook: invert the postings in slices of at most `bytes` (0: the
** default, 64 MB) so that a small KB takes the path of a large one (at most
** 4 slices all the same: a slice grows past the budget). */
void kb_rank_test_slice_bytes(uint64_t bytes);

/* kb_cause_words.c: cause_term, each cause's words counted for bm25 (its
** header has the layout). new makes the counter (with FTS5's tokenizer);
** add tokenizes cause `id`'s TS_CAUSE_NCOLS columns (NULL or length 0: no
** text), in any order of ids, each id once; finish sorts and encodes (on the
** thread that added); write inserts the rows and meta's cause_tokens into db
** (whose transaction is open). Each returns TSHOOT_OK or an error. */
typedef struct kb_cause_words kb_cause_words;
int kb_cause_words_new(kb_cause_words **out);
int kb_cause_words_add(kb_cause_words *cw, uint32_t id, const char *const *text, const int *len);
int kb_cause_words_finish(kb_cause_words *cw);
int kb_cause_words_write(kb_cause_words *cw, sqlite3 *db);
void kb_cause_words_free(kb_cause_words *cw);

/* The KB tshoot_kb_open(NULL) opens: $TSHOOT_KB when set and not empty
** (whether or not the file exists, so the error names it), else build_kb if
** that file exists, else installed_kb if it exists, else NULL. The library
** passes the paths meson gives it (the KB this build compiles, the one
** installed with it); tests pass their own. */
const char *kb_default_path(const char *build_kb, const char *installed_kb);

/* kb_vfs.c: the SQLite VFS KB_VFS_NAME, whose main database named
** KB_VFS_PREFIX "N" is descriptor N, read-only and immutable. Register it once
** (after sqlite3_config; 1 if it is there), and hold SQLite's shared lock on
** a KB's descriptor for the handle's life. */
#define KB_VFS_NAME "tshoot-kb"
#define KB_VFS_PREFIX "tshoot-kb-fd:"
int kb_vfs_register(void);
void kb_vfs_hold_shared(int fd);

/* kb_open.c: the checks of a KB file's header (magic, page size, size,
** application id, format), before SQLite reads it. */
int kb_open_check_header(int fd, const char *path);

/* kb_sign.c: the trust of a KB (docs/signing.md).
** kb_sign_check: read the signature file beside `path` and verify it on fd,
** against the keys opts and the defaults trust. TSHOOT_OK and *out (whatever
** the verdict), or an error: ENOMEM, EINVALID (a bad key in opts),
** EUNTRUSTED (TSHOOT_KB_REQUIRE_SIGNATURE and not signed by a trusted key).
** kb_sign_load_scripts: after it verified, keep each script's digest as the
** verified file has it. kb_sign_script: may script `name` of kb run (body
** NULL: before reading it; else its bytes must be the verified ones)?
** TSHOOT_OK, or TSHOOT_EUNTRUSTED with the reason. */
typedef struct kb_trust kb_trust;
int kb_sign_check(kb_trust **out, int fd, const char *path, const tshoot_kb_options *opts);
int kb_sign_load_scripts(kb_trust *t, sqlite3 *db);
int kb_sign_script(const tshoot_kb *kb, const char *name, const char *body, size_t len);
const tshoot_kb_trust *kb_sign_public(const kb_trust *t);
void kb_sign_free(kb_trust *t);

/* Reference counting: sessions and results keep their kb alive. */
void kb_ref(tshoot_kb *kb);
void kb_unref(tshoot_kb *kb);

/* Monotonic clock in nanoseconds. */
int64_t kb_now_ns(void);

#endif /* TSHOOT_KB_H */
