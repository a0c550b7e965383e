/*
** host.h: hosts inside the engine. Internal.
**
**   host_reply.c  replies (struct tshoot_reply)
**   host.c        a host: the embedder's callbacks, the journal of changes,
**                 rollback, and a backend record for hosts the engine builds
**                 itself (the simulator, host_sim.c)
**   host_lua.c    the Lua face of a host: `host.*` and `tshoot.*` in a script
**   script.c      tshoot_script_run: probe, plan, apply and verify
**
** Everything a script does to a host goes through a ts_hctx, one per run.
*/
#ifndef TS_HOST_H
#define TS_HOST_H

#include "tshoot_int.h"

#include <jansson.h>

/* What a host callback answered. */
typedef enum ts_reply_kind {
  TS_REPLY_NIL = 0, TS_REPLY_BOOL, TS_REPLY_INT, TS_REPLY_NUMBER,
  TS_REPLY_STRING, TS_REPLY_JSON
} ts_reply_kind;

struct tshoot_reply {
  ts_reply_kind kind;
  int b;
  long long i;
  double d;
  char *s;              /* STRING (len bytes, NUL-terminated) or JSON text */
  size_t len;
  char *error;          /* tshoot_reply_error's message, or NULL */
  int oom;
};

void ts_reply_init(tshoot_reply *r);
void ts_reply_clear(tshoot_reply *r);   /* frees, back to NIL */

/* ===== a script's view of a host (host.c) =====
**
** Every host function a script calls goes through a ts_hctx: the host whose
** callbacks answer (for a plan, a copy of the host or a shadow that records
** changes in an overlay instead of making them), the reply being filled, and
** the message of a failure. Nothing allocated on the C side is left over when
** a Lua error unwinds: the reply and the last parsed JSON live in the ts_hctx
** and are cleared at the next call and at the end of the run. */
struct ts_sandbox;
typedef struct ts_hctx {
  tshoot_host *h;
  int dry;                    /* record changes in `overlay`, make none */
  int plan;                   /* a plan: ask nobody, tell nobody */
  json_t *overlay;            /* dry: array of {"t","k","n","v"} newest last */
  const char *script, *fix;
  struct ts_sandbox *sb;
  tshoot_reply reply;
  json_t *last;
  char err[600];
} ts_hctx;

/* Start a call: clear the reply, the last JSON and the message. */
void ts_host_begin_call(ts_hctx *c);
/* The end of a run: ts_host_begin_call, and the overlay freed. */
void ts_host_end_run(ts_hctx *c);

/* The host's callbacks. */
const tshoot_host_ops *ts_host_ops(const tshoot_host *h);

/* Failures: each fills c->err and returns the code (TSHOOT_ERROR or more
** precise). */
int ts_host_failed(ts_hctx *c, int rc, const char *what);     /* callback `what` failed */
int ts_host_missing_op(ts_hctx *c, const char *what);         /* "this host cannot %s" */
/* The JSON of c->reply (new reference, NULL for nil), or an error. */
int ts_host_reply_json(ts_hctx *c, json_t **out, const char *what);

/* Reading: *out is a new reference, NULL when there is nothing. */
int ts_host_reg_get(ts_hctx *c, const char *key, const char *name, json_t **out);
int ts_host_reg_list(ts_hctx *c, const char *key, json_t **out);
int ts_host_file_stat(ts_hctx *c, const char *path, json_t **out);
int ts_host_service_get(ts_hctx *c, const char *name, json_t **out);

/* Changing, with a journal record (or, dry, an overlay entry). */
int ts_host_reg_set(ts_hctx *c, const char *key, const char *name, json_t *v);
int ts_host_reg_delete(ts_hctx *c, const char *key, const char *name);
int ts_host_file_move(ts_hctx *c, const char *from, const char *to);
int ts_host_file_remove(ts_hctx *c, const char *path);
int ts_host_service_control(ts_hctx *c, const char *name, const char *action);

/* Undo the journal from index `from` on, newest first; every change is tried
** and the first failure is reported (c->err). */
int ts_host_rollback(ts_hctx *c, size_t from);

/* The number of records in h's journal. */
size_t ts_host_journal_len(const tshoot_host *h);
/* Copies of h's journal records from `from` on (*out: n copies the caller
** frees with ts_host_changes_free; NULL when n is 0). */
int ts_host_changes(tshoot_change **out, size_t *n, const tshoot_host *h, size_t from);
void ts_host_changes_free(tshoot_change *v, size_t n);

/* A host for a plan of `h`: a copy of the machine when h's backend can clone
** itself (*dry = 0), else a shadow with h's callbacks whose changes the
** caller must record in an overlay (*dry = 1). */
int ts_host_plan_copy(tshoot_host **out, int *dry, tshoot_host *h);

/* ===== the Lua face (host_lua.c) ===== */
struct lua_State;
/* Protected (lua_pcall it with the ts_hctx as light userdata): build `host`
** and `tshoot` in the sandbox's globals. */
int ts_host_lua_install(struct lua_State *L);

/* ===== backends the engine provides (host_sim.c) =====
** A host the engine builds itself carries its backend here, as SQLite's core
** carries a sqlite3_vfs: host.c calls these pointers and knows nothing else of
** the backend. An embedder's host has none. */
typedef struct ts_host_impl {
  void *data;                           /* the backend's state */
  void (*free)(void *data);             /* at tshoot_host_free */
  int (*clone)(void *data, tshoot_host **out);  /* a copy for a plan; NULL:
                                           plans record changes in an overlay */
} ts_host_impl;

/* tshoot_host_new, with backend `impl`. The host owns impl->data from the
** call on: it is freed (impl->free) when the host cannot be made. */
int ts_host_new_impl(tshoot_host **out, const tshoot_host_ops *ops, const ts_host_impl *impl);
/* h's backend data when h was made with `free_fn` as impl->free, else NULL
** (so that a backend recognises its own hosts). */
void *ts_host_impl_data(const tshoot_host *h, void (*free_fn)(void *));

#endif
