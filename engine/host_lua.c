/*
** host_lua.c: the Lua face of a host, the `host.*` and `tshoot.*` functions a
** script calls (docs/scripts.md, "The host API"). Each one checks the
** sandbox's limits, calls host.c through the run's ts_hctx, and turns the
** answer into Lua values; a failure is raised as a Lua error with the
** ts_hctx's message.
*/
#include "tshoot_int.h"
#include "expr.h"
#include "host.h"
#include "sandbox.h"

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <string.h>


#define JSON_MAX_DEPTH 32

static void push_json(lua_State *L, json_t *v, int depth)
{
  luaL_checkstack(L, 4, "host answer too deep");
  if (depth > JSON_MAX_DEPTH) luaL_error(L, "host answer nested deeper than %d", JSON_MAX_DEPTH);
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    const char *k;
    json_t *x;
    lua_createtable(L, 0, (int)json_object_size(v));
    json_object_foreach(v, k, x) {
      if (json_is_null(x)) continue;
      push_json(L, x, depth + 1);
      lua_setfield(L, -2, k);
    }
    break;
  }
  case JSON_ARRAY: {
    size_t i;
    lua_createtable(L, (int)json_array_size(v), 0);
    for (i = 0; i < json_array_size(v); i++) {
      push_json(L, json_array_get(v, i), depth + 1);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    break;
  }
  case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); break;
  case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(v)); break;
  case JSON_REAL: lua_pushnumber(L, json_real_value(v)); break;
  case JSON_TRUE: lua_pushboolean(L, 1); break;
  case JSON_FALSE: lua_pushboolean(L, 0); break;
  case JSON_NULL: lua_pushnil(L); break;
  }
}

/* Every host function starts here: a broken limit raises again, and the
** host's own CPU time is not charged to the script (ts_sandbox_host_begin);
** every normal return goes through leave() or push_kept(). */
static ts_hctx *enter(lua_State *L)
{
  ts_hctx *c = lua_touserdata(L, lua_upvalueindex(1));
  ts_sandbox_check(L);
  ts_host_begin_call(c);
  ts_sandbox_host_begin(L);
  return c;
}

static int leave(lua_State *L, int nres)
{
  ts_sandbox_host_end(L);
  return nres;
}

/* Keep `v` in the ts_hctx (so that a Lua error while pushing leaks nothing) and
** push it; NULL pushes nil. */
static int push_kept(lua_State *L, ts_hctx *c, json_t *v)
{
  if (c->last) json_decref(c->last);
  c->last = v;
  ts_sandbox_host_end(L);
  if (v) push_json(L, v, 0);
  else lua_pushnil(L);
  return 1;
}

static int raise(lua_State *L, ts_hctx *c)
{
  return luaL_error(L, "%s", c->err[0] ? c->err : "host call failed");
}

/* A string argument for the host. A NUL byte is refused: a host written in C
** would see the text cut short there, and "HKLM\\SOFTWARE\0\\Nothing" would
** name HKLM\SOFTWARE. */
static const char *host_arg(lua_State *L, int idx)
{
  size_t n;
  const char *s = luaL_checklstring(L, idx, &n);
  if (strlen(s) != n) luaL_argerror(L, idx, "holds a NUL byte, which no host name or text may hold");
  return s;
}

static const char *host_optarg(lua_State *L, int idx, const char *def)
{
  return lua_isnoneornil(L, idx) ? def : host_arg(L, idx);
}

/* A value for registry.set: integer or string. */
static json_t *lua_reg_value(lua_State *L, int idx)
{
  if (lua_type(L, idx) == LUA_TNUMBER && lua_isinteger(L, idx)) return json_integer((json_int_t)lua_tointeger(L, idx));
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    if (strlen(s) != n) luaL_argerror(L, idx, "a registry string cannot hold NUL bytes");
    return json_stringn_nocheck(s, n);
  }
  luaL_argerror(L, idx, lua_pushfstring(L, "a registry value is a string or an integer, not %s", luaL_typename(L, idx)));
  return NULL;
}

static int l_reg_get(lua_State *L)
{
  ts_hctx *c = enter(L);
  const char *key = host_arg(L, 1), *name = host_optarg(L, 2, "");
  json_t *v;
  if (ts_host_reg_get(c, key, name, &v) != TSHOOT_OK) return raise(L, c);
  return push_kept(L, c, v);
}

static int l_reg_set(lua_State *L)
{
  ts_hctx *c = enter(L);
  const char *key = host_arg(L, 1), *name = host_arg(L, 2);
  json_t *v = lua_reg_value(L, 3);
  int rc;
  if (!v) return luaL_error(L, "out of memory");
  c->last = v;                          /* freed at the next call */
  rc = ts_host_reg_set(c, key, name, v);
  if (rc != TSHOOT_OK) return raise(L, c);
  return leave(L, 0);
}

static int l_reg_delete(lua_State *L)
{
  ts_hctx *c = enter(L);
  const char *key = host_arg(L, 1), *name = host_optarg(L, 2, NULL);
  if (ts_host_reg_delete(c, key, name) != TSHOOT_OK) return raise(L, c);
  return leave(L, 0);
}

static int l_reg_values(lua_State *L)
{
  ts_hctx *c = enter(L);
  json_t *l, *v;
  if (ts_host_reg_list(c, host_arg(L, 1), &l) != TSHOOT_OK) return raise(L, c);
  if (!l) return push_kept(L, c, NULL);
  v = json_object_get(l, "values");
  v = v && json_is_object(v) ? json_incref(v) : json_object();
  json_decref(l);
  return push_kept(L, c, v);
}

static int l_reg_keys(lua_State *L)
{
  ts_hctx *c = enter(L);
  json_t *l, *v;
  if (ts_host_reg_list(c, host_arg(L, 1), &l) != TSHOOT_OK) return raise(L, c);
  if (!l) return push_kept(L, c, NULL);
  v = json_object_get(l, "subkeys");
  v = v && json_is_array(v) ? json_incref(v) : json_array();
  json_decref(l);
  return push_kept(L, c, v);
}

/* file.stat and the functions that read one member of it */
static int file_member(lua_State *L, const char *member)
{
  ts_hctx *c = enter(L);
  json_t *st, *v;
  if (ts_host_file_stat(c, host_arg(L, 1), &st) != TSHOOT_OK) return raise(L, c);
  if (!member) return push_kept(L, c, st);
  if (strcmp(member, "exists") == 0) {
    if (st) json_decref(st);
    leave(L, 0);
    lua_pushboolean(L, st != NULL);
    return 1;
  }
  v = st ? json_object_get(st, member) : NULL;
  v = v && !json_is_null(v) ? json_incref(v) : NULL;
  if (st) json_decref(st);
  return push_kept(L, c, v);
}

static int l_file_exists(lua_State *L) { return file_member(L, "exists"); }
static int l_file_stat(lua_State *L) { return file_member(L, NULL); }
static int l_file_version(lua_State *L) { return file_member(L, "version"); }
static int l_file_signature(lua_State *L) { return file_member(L, "signature"); }
static int l_file_hash(lua_State *L) { return file_member(L, "sha256"); }

static int l_file_list(lua_State *L)
{
  ts_hctx *c = enter(L);
  const char *path = host_arg(L, 1);
  json_t *v;
  int rc;
  if (!ts_host_ops(c->h)->file_list) { ts_host_missing_op(c, "list folders (no file_list)"); return raise(L, c); }
  rc = ts_host_ops(c->h)->file_list(ts_host_ops(c->h)->payload, path, &c->reply);
  if (rc != TSHOOT_OK) { ts_host_failed(c, rc, "file.list"); return raise(L, c); }
  if (ts_host_reply_json(c, &v, "file.list") != TSHOOT_OK) return raise(L, c);
  return push_kept(L, c, v);
}

static int l_file_move(lua_State *L)
{
  ts_hctx *c = enter(L);
  if (ts_host_file_move(c, host_arg(L, 1), host_arg(L, 2)) != TSHOOT_OK) return raise(L, c);
  return leave(L, 0);
}

static int l_file_remove(lua_State *L)
{
  ts_hctx *c = enter(L);
  if (ts_host_file_remove(c, host_arg(L, 1)) != TSHOOT_OK) return raise(L, c);
  return leave(L, 0);
}

/* A callback that answers JSON with no argument (process_list, system_info). */
static int json_call(lua_State *L, int (*fn)(void *, tshoot_reply *), const char *what)
{
  ts_hctx *c = enter(L);
  json_t *v;
  int rc;
  if (!fn) { ts_host_missing_op(c, what); return raise(L, c); }
  rc = fn(ts_host_ops(c->h)->payload, &c->reply);
  if (rc != TSHOOT_OK) { ts_host_failed(c, rc, what); return raise(L, c); }
  if (ts_host_reply_json(c, &v, what) != TSHOOT_OK) return raise(L, c);
  return push_kept(L, c, v);
}

static int l_process_list(lua_State *L)
{
  ts_hctx *c = lua_touserdata(L, lua_upvalueindex(1));
  return json_call(L, ts_host_ops(c->h)->process_list, "list processes (no process_list)");
}

static int l_system_info(lua_State *L)
{
  ts_hctx *c = lua_touserdata(L, lua_upvalueindex(1));
  return json_call(L, ts_host_ops(c->h)->system_info, "tell system facts (no system_info)");
}

static int l_service_get(lua_State *L)
{
  ts_hctx *c = enter(L);
  json_t *v;
  if (ts_host_service_get(c, host_arg(L, 1), &v) != TSHOOT_OK) return raise(L, c);
  return push_kept(L, c, v);
}

static int l_service_start(lua_State *L)
{
  ts_hctx *c = enter(L);
  if (ts_host_service_control(c, host_arg(L, 1), "start") != TSHOOT_OK) return raise(L, c);
  return leave(L, 0);
}

static int l_service_stop(lua_State *L)
{
  ts_hctx *c = enter(L);
  if (ts_host_service_control(c, host_arg(L, 1), "stop") != TSHOOT_OK) return raise(L, c);
  return leave(L, 0);
}

static int l_ui_confirm(lua_State *L)
{
  ts_hctx *c = enter(L);
  const char *text = host_arg(L, 1);
  int rc;
  leave(L, 0);
  if (c->plan) {
    /* a plan asks nobody: it assumes yes and says so */
    lua_pushfstring(L, "(would ask: %s)", text);
    ts_sandbox_add_note(c->sb, lua_tostring(L, -1), lua_rawlen(L, -1));
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (!ts_host_ops(c->h)->ui_confirm) { lua_pushboolean(L, 0); return 1; }
  /* the person may take minutes: that is not the script's time */
  ts_sandbox_wait_begin(L);
  rc = ts_host_ops(c->h)->ui_confirm(ts_host_ops(c->h)->payload, text, &c->reply);
  ts_sandbox_wait_end(L);
  if (rc != TSHOOT_OK) { ts_host_failed(c, rc, "ui.confirm"); return raise(L, c); }
  lua_pushboolean(L, c->reply.kind == TS_REPLY_BOOL && c->reply.b);
  return 1;
}

static int l_ui_progress(lua_State *L)
{
  ts_hctx *c = enter(L);
  lua_Number f = luaL_checknumber(L, 1);
  const char *text = host_optarg(L, 2, "");
  if (ts_host_ops(c->h)->ui_progress) ts_host_ops(c->h)->ui_progress(ts_host_ops(c->h)->payload, f < 0 ? 0 : f > 1 ? 1 : f, text);
  return leave(L, 0);
}

static int l_ui_notify(lua_State *L)
{
  ts_hctx *c = enter(L);
  const char *text = host_arg(L, 1);
  size_t n = strlen(text);
  ts_sandbox_add_note(c->sb, text, n);
  if (ts_host_ops(c->h)->ui_notify && !c->plan) ts_host_ops(c->h)->ui_notify(ts_host_ops(c->h)->payload, text);
  return leave(L, 0);
}

/* tshoot.vercmp: the same version order as KB conditions (expr.h). */
static int l_vercmp(lua_State *L)
{
  ts_sandbox_check(L);
  lua_pushinteger(L, expr_version_cmp(luaL_checkstring(L, 1), luaL_checkstring(L, 2)));
  return 1;
}

static const luaL_Reg reg_fns[] = {
  { "get", l_reg_get }, { "set", l_reg_set }, { "delete", l_reg_delete },
  { "values", l_reg_values }, { "keys", l_reg_keys }, { NULL, NULL }
};
static const luaL_Reg file_fns[] = {
  { "exists", l_file_exists }, { "stat", l_file_stat }, { "version", l_file_version },
  { "signature", l_file_signature }, { "hash", l_file_hash }, { "list", l_file_list },
  { "move", l_file_move }, { "remove", l_file_remove }, { NULL, NULL }
};
static const luaL_Reg process_fns[] = { { "list", l_process_list }, { NULL, NULL } };
static const luaL_Reg service_fns[] = {
  { "get", l_service_get }, { "start", l_service_start }, { "stop", l_service_stop }, { NULL, NULL }
};
static const luaL_Reg system_fns[] = { { "info", l_system_info }, { NULL, NULL } };
static const luaL_Reg ui_fns[] = {
  { "confirm", l_ui_confirm }, { "progress", l_ui_progress }, { "notify", l_ui_notify }, { NULL, NULL }
};

static void add_group(lua_State *L, ts_hctx *c, const char *name, const luaL_Reg *fns)
{
  lua_newtable(L);
  lua_pushlightuserdata(L, c);
  luaL_setfuncs(L, fns, 1);
  lua_setfield(L, -2, name);
}

int ts_host_lua_install(lua_State *L)
{
  ts_hctx *c = lua_touserdata(L, 1);
  lua_newtable(L);
  add_group(L, c, "registry", reg_fns);
  add_group(L, c, "file", file_fns);
  add_group(L, c, "process", process_fns);
  add_group(L, c, "service", service_fns);
  add_group(L, c, "system", system_fns);
  add_group(L, c, "ui", ui_fns);
  lua_setglobal(L, "host");
  lua_newtable(L);
  lua_pushcfunction(L, l_vercmp);
  lua_setfield(L, -2, "vercmp");
  lua_setglobal(L, "tshoot");
  return 0;
}
