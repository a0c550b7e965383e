/*
** script.c: running one script against a host (tshoot_script_run): a probe
** answers a question; a fix is planned (against a copy of the host, changing
** nothing), applied (confirmed, journaled, verified, and rolled back when it
** fails) or verified. The sandbox is sandbox.c, the `host.*` functions the
** script calls are host_lua.c, the journal and rollback are host.c.
*/
#include "tshoot_int.h"
#include "host.h"
#include "sandbox.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <string.h>

typedef struct run_impl {
  tshoot_run pub;             /* first: a tshoot_run * is a run_impl * */
  char *message, *answer;
  tshoot_change *changes;
  char **notes;
} run_impl;

TSHOOT_API void tshoot_run_free(tshoot_run *r)
{
  run_impl *ri = (run_impl *)r;
  size_t i;
  if (!r) return;
  ts_host_changes_free(ri->changes, r->n_changes);
  for (i = 0; i < r->n_notes; i++) ts_free(ri->notes[i]);
  ts_free(ri->notes);
  ts_free(ri->message);
  ts_free(ri->answer);
  ts_free(ri);
}

/* Set the run's status and message. `msg` may be the run's own message: it is
** copied before the old one is freed. */
static int run_set_message(run_impl *ri, int status, const char *msg)
{
  char *copy = ts_strdup(msg ? msg : "");
  ri->pub.status = status;
  ts_free(ri->message);
  ri->message = copy;
  ri->pub.message = copy ? copy : "";
  return copy ? TSHOOT_OK : ts_error_oom();
}

/* One run in progress: what the phases share. */
typedef struct runner {
  run_impl *ri;
  ts_sandbox *sb;
  lua_State *L;
  ts_hctx c;
  tshoot_host *empty;         /* the host with no callbacks, when given none */
  tshoot_host *copy;          /* a plan's copy or shadow of the host */
  size_t first;               /* the journal's length when the run started */
  const char *name;
} runner;

/* Fetch fn `name` from the fix table at stack top (raw: no metamethod runs). */
static int fix_function(lua_State *L, const char *name)
{
  lua_pushstring(L, name);
  lua_rawget(L, -2);
  if (lua_type(L, -1) == LUA_TFUNCTION) return 1;
  lua_pop(L, 1);
  return 0;
}

/* Call the function at stack top with no arguments, `nres` results. On
** failure sets the run's status and message and returns 0. */
static int run_call(runner *r, int nres)
{
  int rc = ts_sandbox_pcall(r->sb, 0, nres);
  if (rc == TSHOOT_OK) return 1;
  if (rc == TSHOOT_ENOMEM && !ts_sandbox_broken(r->sb)) rc = TSHOOT_ELIMIT;
  run_set_message(r->ri, rc, tshoot_error_last()->message);
  return 0;
}

/* ===== the phases ===== */

/* A probe: the answer it returned (at stack top), as text. */
static int run_probe(runner *r)
{
  run_impl *ri = r->ri;
  lua_State *L = r->L;
  char *text = NULL;
  char msg[300];
  switch (lua_type(L, -1)) {
  case LUA_TNIL: return TSHOOT_OK;
  case LUA_TBOOLEAN:
    ri->answer = ts_strdup(lua_toboolean(L, -1) ? "yes" : "no");
    break;
  case LUA_TNUMBER:
  case LUA_TSTRING:
    if (ts_sandbox_tostring(r->sb, -1, &text) != TSHOOT_OK)
      return run_set_message(ri, TSHOOT_ERROR, tshoot_error_last()->message);
    ri->answer = text;
    break;
  default:
    snprintf(msg, sizeof msg, "%s: a probe returns text, a number, a boolean or nothing, not a %s",
             r->name, lua_typename(L, lua_type(L, -1)));
    return run_set_message(ri, TSHOOT_ERROR, msg);
  }
  if (!ri->answer) return ts_error_oom();
  ri->pub.answer = ri->answer;
  return TSHOOT_OK;
}

/* Verify (the function at stack top): true, or false and why. */
static void run_verify(runner *r)
{
  lua_State *L = r->L;
  if (!run_call(r, 2)) return;
  if (lua_toboolean(L, -2)) {
    r->ri->pub.verified = 1;
  } else {
    char *why = NULL;
    ts_buf m = TS_BUF_INIT;
    if (lua_type(L, -1) == LUA_TSTRING) ts_sandbox_tostring(r->sb, -1, &why);
    ts_buf_addf(&m, "verify: %s", why ? why : "the fix did not work");
    run_set_message(r->ri, TSHOOT_ERROR, ts_buf_cstr(&m) ? m.p : "verify failed");
    ts_buf_free(&m);
    ts_free(why);
  }
  lua_pop(L, 2);
}

/* Undo what this run changed; say so in the message when that fails. */
static void run_rollback(runner *r)
{
  run_impl *ri = r->ri;
  int rc = ts_host_rollback(&r->c, r->first);
  if (rc == TSHOOT_OK) {
    ri->pub.rolled_back = ts_host_journal_len(r->c.h) > r->first;
  } else {
    ts_buf m = TS_BUF_INIT;
    ts_buf_addf(&m, "%s; and the rollback failed: %s", ri->pub.message, r->c.err);
    run_set_message(ri, ri->pub.status, ts_buf_cstr(&m) ? m.p : ri->pub.message);
    ts_buf_free(&m);
  }
}

/* Ask the host to confirm a fix that needs it. 1: go on; 0: refused. */
static int confirm_fix(ts_hctx *c, const tshoot_fix_info *fix)
{
  const tshoot_host_ops *ops = ts_host_ops(c->h);
  char text[600];
  int rc;
  if (!fix || (!fix->needs_admin && fix->reversible)) return 1;
  snprintf(text, sizeof text, "Apply \"%s\"? It %s%s%s.", fix->title ? fix->title : fix->id,
           fix->needs_admin ? "needs administrator rights" : "",
           fix->needs_admin && !fix->reversible ? " and " : "",
           !fix->reversible ? "cannot be undone" : "");
  if (!ops->ui_confirm) return 0;
  ts_reply_clear(&c->reply);
  rc = ops->ui_confirm(ops->payload, text, &c->reply);
  return rc == TSHOOT_OK && c->reply.kind == TS_REPLY_BOOL && c->reply.b;
}

/* Apply (the fix table at stack top): verify must not pass already; confirm;
** apply; verify; roll back unless verified. */
static void run_apply(runner *r, const tshoot_fix_info *fix)
{
  run_impl *ri = r->ri;
  lua_State *L = r->L;
  int applied;
  if (fix_function(L, "verify")) {
    /* Verify first: a fix whose verify passes before it is applied cannot be
    ** what repairs this machine, and calling it "worked" would be false
    ** evidence for its cause. A verify that cannot run yet (it needs what
    ** apply sets up) says nothing, unless it broke a limit. */
    int pre = ts_sandbox_pcall(r->sb, 0, 1);
    if (pre == TSHOOT_OK) {
      int already = lua_toboolean(L, -1);
      lua_pop(L, 1);
      if (already) {
        run_set_message(ri, TSHOOT_ERROR, "not applied: its verify passes already, so this machine "
                                          "does not have the problem the fix repairs");
        return;
      }
    } else if (ts_sandbox_broken(r->sb)) {
      run_set_message(ri, TSHOOT_ELIMIT, tshoot_error_last()->message);
      return;
    }
  }
  if (!fix_function(L, "apply")) {
    run_set_message(ri, TSHOOT_ERROR, "the fix has no apply function");
    return;
  }
  if (!confirm_fix(&r->c, fix)) {
    lua_pop(L, 1);
    run_set_message(ri, TSHOOT_EUSER, "not applied: the fix needs confirmation and the host did not give it");
    return;
  }
  applied = run_call(r, 0);
  if (applied && !fix_function(L, "verify")) {
    run_set_message(ri, TSHOOT_ERROR, "the fix has no verify function");
    applied = 0;
  }
  if (applied) run_verify(r);
  if (!ri->pub.verified) run_rollback(r);
}

/* Load and run the script, then the phase of `mode`. Failures of the script
** go to the run; the return value is for failures of the run itself. */
static int run_script(runner *r, const char *body, size_t len, tshoot_script_mode mode,
                      const tshoot_fix_info *fix)
{
  run_impl *ri = r->ri;
  lua_State *L = r->L;
  if (ts_sandbox_load(r->sb, r->name, body, len) != TSHOOT_OK)
    return run_set_message(ri, TSHOOT_ERROR, tshoot_error_last()->message), TSHOOT_OK;
  if (!run_call(r, 1)) return TSHOOT_OK;
  if (mode == TSHOOT_RUN_PROBE) return run_probe(r);

  /* a fix: a table with apply and verify */
  if (lua_type(L, -1) != LUA_TTABLE) {
    char msg[300];
    snprintf(msg, sizeof msg, "%s: a fix returns a table with apply and verify functions, not a %s",
             r->name, lua_typename(L, lua_type(L, -1)));
    run_set_message(ri, TSHOOT_ERROR, msg);
    return TSHOOT_OK;
  }
  switch (mode) {
  case TSHOOT_RUN_PLAN:
    if (fix_function(L, "apply")) run_call(r, 0);
    else run_set_message(ri, TSHOOT_ERROR, "the fix has no apply function");
    break;
  case TSHOOT_RUN_APPLY:
    run_apply(r, fix);
    break;
  default:
    if (fix_function(L, "verify")) run_verify(r);
    else run_set_message(ri, TSHOOT_ERROR, "the fix has no verify function");
    break;
  }
  return TSHOOT_OK;
}

/* ===== setting up and finishing ===== */

/* The host to run against (a plan's copy), the sandbox, and `host` in it. */
static int run_setup(runner *r, tshoot_host *host, tshoot_script_mode mode,
                     const tshoot_fix_info *fix, const tshoot_limits *limits)
{
  int rc;
  if (!host) {
    tshoot_host_ops none;
    memset(&none, 0, sizeof none);
    none.version = TSHOOT_HOST_OPS_VERSION;
    rc = tshoot_host_new(&r->empty, &none);
    if (rc != TSHOOT_OK) return rc;
    host = r->empty;
  }
  r->c.h = host;
  if (mode == TSHOOT_RUN_PLAN) {
    rc = ts_host_plan_copy(&r->copy, &r->c.dry, host);
    if (rc != TSHOOT_OK) return rc;
    r->c.plan = 1;
    r->c.h = r->copy;
  }
  r->c.script = r->name;
  r->c.fix = fix ? fix->id : NULL;
  r->first = ts_host_journal_len(r->c.h);

  rc = ts_sandbox_new(&r->sb, limits);
  if (rc != TSHOOT_OK) return rc;
  r->c.sb = r->sb;
  r->L = ts_sandbox_L(r->sb);
  lua_pushcfunction(r->L, ts_host_lua_install);
  lua_pushlightuserdata(r->L, &r->c);
  if (lua_pcall(r->L, 1, 0, 0) != LUA_OK) {
    lua_pop(r->L, 1);
    return ts_error(TSHOOT_ENOMEM, "cannot set up the script's host table");
  }
  return TSHOOT_OK;
}

/* Copy the changes, the figures and the notes into the run. */
static int run_collect(runner *r)
{
  run_impl *ri = r->ri;
  const char *const *notes;
  size_t i, n;
  int rc = ts_host_changes(&ri->changes, &ri->pub.n_changes, r->c.h, r->first);
  if (rc != TSHOOT_OK) return rc;
  ri->pub.changes = ri->changes;
  ts_sandbox_stats(r->sb, &ri->pub.elapsed_ms, &ri->pub.instructions, &ri->pub.memory_peak);
  ts_sandbox_notes(r->sb, &notes, &n);
  if (!n) return TSHOOT_OK;
  ri->notes = ts_calloc(n, sizeof *ri->notes);
  if (!ri->notes) return ts_error_oom();
  for (i = 0; i < n; i++) {
    ri->notes[i] = ts_strdup(notes[i]);
    if (!ri->notes[i]) return ts_error_oom();
    ri->pub.n_notes = i + 1;
  }
  ri->pub.notes = (const char *const *)ri->notes;
  return TSHOOT_OK;
}

TSHOOT_API int tshoot_script_run(tshoot_run **out, tshoot_host *host, const char *name,
                                 const char *body, size_t len, tshoot_script_mode mode,
                                 const tshoot_fix_info *fix, const tshoot_limits *limits)
{
  runner r;
  int rc;

  TS_CHECK_ARG(out);
  *out = NULL;
  TS_CHECK_ARG(name && body);
  TS_CHECK_OPTIONS(limits, TSHOOT_LIMITS_VERSION);
  if (mode < TSHOOT_RUN_PROBE || mode > TSHOOT_RUN_VERIFY)
    return ts_error(TSHOOT_EINVALID, "tshoot_script_run: unknown mode %d", (int)mode);
  memset(&r, 0, sizeof r);
  ts_reply_init(&r.c.reply);
  r.name = name;
  r.ri = ts_calloc(1, sizeof *r.ri);
  if (!r.ri) return ts_error_oom();
  r.ri->pub.message = "";

  rc = run_setup(&r, host, mode, fix, limits);
  if (rc == TSHOOT_OK) rc = run_script(&r, body, len, mode, fix);
  if (rc == TSHOOT_OK) {
    rc = run_collect(&r);
    /* a run that cannot be reported leaves nothing behind: the caller hears
    ** of an error, so the machine must be as it was */
    if (rc != TSHOOT_OK && mode == TSHOOT_RUN_APPLY) ts_host_rollback(&r.c, r.first);
  }

  ts_host_end_run(&r.c);
  ts_sandbox_free(r.sb);
  tshoot_host_free(r.copy);
  tshoot_host_free(r.empty);
  if (rc != TSHOOT_OK) {
    tshoot_run_free(&r.ri->pub);
    return rc;
  }
  *out = &r.ri->pub;
  return TSHOOT_OK;
}
