/*
** host.c: hosts (the embedder's callbacks wrapped), replies, the journal of
** changes and rollback, and the Lua face of a host (`host.*` in a script).
*/
#include "tshoot_int.h"
#include "host.h"
#include "script.h"

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===== replies ===== */

void ts_reply_init(tshoot_reply *r)
{
  memset(r, 0, sizeof *r);
}

void ts_reply_clear(tshoot_reply *r)
{
  ts_free(r->s);
  ts_free(r->error);
  ts_reply_init(r);
}

static void reply_reset_value(tshoot_reply *r)
{
  ts_free(r->s);
  r->s = NULL;
  r->len = 0;
  r->kind = TS_REPLY_NIL;
}

int tshoot_reply_bool(tshoot_reply *r, int value)
{
  if (!r) return ts_error(TSHOOT_EINVALID, "tshoot_reply_bool: NULL reply");
  reply_reset_value(r);
  r->kind = TS_REPLY_BOOL;
  r->b = value != 0;
  return TSHOOT_OK;
}

int tshoot_reply_int(tshoot_reply *r, long long value)
{
  if (!r) return ts_error(TSHOOT_EINVALID, "tshoot_reply_int: NULL reply");
  reply_reset_value(r);
  r->kind = TS_REPLY_INT;
  r->i = value;
  return TSHOOT_OK;
}

int tshoot_reply_number(tshoot_reply *r, double value)
{
  if (!r) return ts_error(TSHOOT_EINVALID, "tshoot_reply_number: NULL reply");
  reply_reset_value(r);
  r->kind = TS_REPLY_NUMBER;
  r->d = value;
  return TSHOOT_OK;
}

int tshoot_reply_string(tshoot_reply *r, const char *s, size_t len)
{
  char *copy;
  if (!r || (!s && len)) return ts_error(TSHOOT_EINVALID, "tshoot_reply_string: NULL argument");
  copy = ts_malloc(len + 1);
  if (!copy) { r->oom = 1; return ts_error_oom(); }
  if (len) memcpy(copy, s, len);
  copy[len] = '\0';
  reply_reset_value(r);
  r->kind = TS_REPLY_STRING;
  r->s = copy;
  r->len = len;
  return TSHOOT_OK;
}

int tshoot_reply_json(tshoot_reply *r, const char *json, size_t len)
{
  json_error_t jerr;
  json_t *v;
  int rc;
  if (!r || !json) return ts_error(TSHOOT_EINVALID, "tshoot_reply_json: NULL argument");
  v = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (!v) return ts_error(TSHOOT_EINVALID, "tshoot_reply_json: %s at column %d", jerr.text, jerr.column);
  json_decref(v);
  rc = tshoot_reply_string(r, json, len);
  if (rc == TSHOOT_OK) r->kind = TS_REPLY_JSON;
  return rc;
}

int tshoot_host_error(int code, const char *message)
{
  if (code >= 0) code = TSHOOT_EUSER;
  return ts_error(code, "%s", message && *message ? message : "host error");
}

int tshoot_reply_error(tshoot_reply *r, const char *message)
{
  char *copy;
  if (!r) return ts_error(TSHOOT_EINVALID, "tshoot_reply_error: NULL reply");
  copy = ts_strdup(message ? message : "host error");
  if (!copy) { r->oom = 1; return ts_error_oom(); }
  ts_free(r->error);
  r->error = copy;
  return TSHOOT_OK;
}

/* ===== hosts ===== */

typedef enum rec_kind {
  REC_REG_SET, REC_REG_DELETE_VALUE, REC_REG_DELETE_KEY, REC_FILE_MOVE,
  REC_FILE_REMOVE, REC_SERVICE
} rec_kind;

/* One journaled change, with what it takes to undo it. */
typedef struct rec {
  rec_kind kind;
  char *op, *target, *before, *after, *script, *fix;
  int undone;
  char *key, *name;           /* registry; name NULL: the key */
  char *undo_key;             /* REG_SET on a missing key: the topmost key created */
  json_t *old;                /* REG_SET/DELETE_VALUE: old value (NULL: none);
                                 DELETE_KEY: the key's snapshot */
  char *from, *to;            /* FILE_MOVE, FILE_REMOVE (to: the quarantine path) */
  char *service;              /* SERVICE */
  char *old_status;           /* SERVICE: "running"/"stopped" before, or NULL */
} rec;

struct tshoot_host {
  tshoot_host_ops ops;
  ts_sim *sim;                /* a simulated host, else NULL */
  char *name;                 /* the machine file, for messages */
  rec *journal;
  size_t n_journal, cap_journal;
  tshoot_change *view;        /* tshoot_host_journal's borrowed copy */
  unsigned long quarantine_seq;
};

static void rec_free(rec *r)
{
  ts_free(r->op); ts_free(r->target); ts_free(r->before); ts_free(r->after);
  ts_free(r->script); ts_free(r->fix); ts_free(r->key); ts_free(r->name);
  ts_free(r->undo_key); ts_free(r->from); ts_free(r->to); ts_free(r->service);
  ts_free(r->old_status);
  if (r->old) json_decref(r->old);
  memset(r, 0, sizeof *r);
}

TSHOOT_API int tshoot_host_new(tshoot_host **out, const tshoot_host_ops *ops)
{
  tshoot_host *h;
  if (!out) return ts_error(TSHOOT_EINVALID, "tshoot_host_new: NULL argument");
  *out = NULL;
  if (!ops || ops->version != TSHOOT_HOST_OPS_VERSION)
    return ts_error(TSHOOT_EINVALID, "tshoot_host_new: ops->version must be TSHOOT_HOST_OPS_VERSION (%d)",
                    TSHOOT_HOST_OPS_VERSION);
  h = ts_calloc(1, sizeof *h);
  if (!h) return ts_error_oom();
  h->ops = *ops;
  *out = h;
  return TSHOOT_OK;
}

TSHOOT_API int tshoot_host_sim_load(tshoot_host **out, const char *json, size_t len, const char *name)
{
  ts_sim *sim;
  tshoot_host_ops ops;
  int rc;
  if (!out) return ts_error(TSHOOT_EINVALID, "tshoot_host_sim_load: NULL argument");
  *out = NULL;
  if (!json) return ts_error(TSHOOT_EINVALID, "tshoot_host_sim_load: NULL json");
  rc = ts_sim_new(&sim, json, len, name ? name : "machine");
  if (rc != TSHOOT_OK) return rc;
  memset(&ops, 0, sizeof ops);
  ts_sim_ops(sim, &ops);
  rc = tshoot_host_new(out, &ops);
  if (rc != TSHOOT_OK) { ts_sim_free(sim); return rc; }
  (*out)->sim = sim;
  (*out)->name = ts_strdup(name ? name : "machine");
  if (!(*out)->name) { tshoot_host_free(*out); *out = NULL; return ts_error_oom(); }
  return TSHOOT_OK;
}

TSHOOT_API int tshoot_host_sim_open(tshoot_host **out, const char *path)
{
  char *body = NULL;
  size_t len = 0;
  int rc;
  if (!out) return ts_error(TSHOOT_EINVALID, "tshoot_host_sim_open: NULL argument");
  *out = NULL;
  if (!path) return ts_error(TSHOOT_EINVALID, "tshoot_host_sim_open: NULL path");
  rc = ts_read_file(&body, &len, path, 16u * 1024 * 1024);
  if (rc != TSHOOT_OK) return rc;
  rc = tshoot_host_sim_load(out, body, len, path);
  ts_free(body);
  return rc;
}

TSHOOT_API int tshoot_host_sim_save(char **out, const tshoot_host *h)
{
  if (!out) return ts_error(TSHOOT_EINVALID, "tshoot_host_sim_save: NULL argument");
  *out = NULL;
  if (!h || !h->sim) return ts_error(TSHOOT_EINVALID, "tshoot_host_sim_save: not a simulated host");
  return ts_sim_save(out, h->sim);
}

TSHOOT_API int tshoot_host_sim_confirm(tshoot_host *h, int yes)
{
  if (!h || !h->sim) return ts_error(TSHOOT_EINVALID, "tshoot_host_sim_confirm: not a simulated host");
  ts_sim_set_confirm(h->sim, yes);
  return TSHOOT_OK;
}

TSHOOT_API void tshoot_host_free(tshoot_host *h)
{
  size_t i;
  if (!h) return;
  for (i = 0; i < h->n_journal; i++) rec_free(&h->journal[i]);
  ts_free(h->journal);
  ts_free(h->view);
  if (h->sim) ts_sim_free(h->sim);
  ts_free(h->name);
  ts_free(h);
}

static void change_of(tshoot_change *c, const rec *r)
{
  c->op = r->op;
  c->target = r->target;
  c->before = r->before;
  c->after = r->after;
  c->script = r->script;
  c->fix = r->fix;
  c->undone = r->undone;
}

TSHOOT_API int tshoot_host_journal(const tshoot_change **out, size_t *n, tshoot_host *h)
{
  size_t i;
  tshoot_change *v;
  if (!out || !n || !h) return ts_error(TSHOOT_EINVALID, "tshoot_host_journal: NULL argument");
  v = ts_calloc(h->n_journal ? h->n_journal : 1, sizeof *v);
  if (!v) return ts_error_oom();
  for (i = 0; i < h->n_journal; i++) change_of(&v[i], &h->journal[i]);
  ts_free(h->view);
  h->view = v;
  *out = v;
  *n = h->n_journal;
  return TSHOOT_OK;
}

/* One change as a JSON object (new reference, or NULL on oom). */
static json_t *change_json(const tshoot_change *c, size_t seq)
{
  json_t *o = json_object(), *b, *a;
  if (!o) return NULL;
  b = c->before ? json_loads(c->before, JSON_DECODE_ANY, NULL) : json_null();
  a = c->after ? json_loads(c->after, JSON_DECODE_ANY, NULL) : json_null();
  json_object_set_new(o, "seq", json_integer((json_int_t)seq));
  json_object_set_new(o, "op", json_string(c->op));
  json_object_set_new(o, "target", json_string(c->target));
  json_object_set_new(o, "before", b ? b : json_null());
  json_object_set_new(o, "after", a ? a : json_null());
  json_object_set_new(o, "script", c->script ? json_string(c->script) : json_null());
  json_object_set_new(o, "fix", c->fix ? json_string(c->fix) : json_null());
  json_object_set_new(o, "undone", json_boolean(c->undone));
  return o;
}

TSHOOT_API int tshoot_host_journal_json(char **out, tshoot_host *h)
{
  ts_buf b = TS_BUF_INIT;
  size_t i;
  if (!out || !h) return ts_error(TSHOOT_EINVALID, "tshoot_host_journal_json: NULL argument");
  *out = NULL;
  for (i = 0; i < h->n_journal; i++) {
    tshoot_change c;
    json_t *o;
    char *s;
    change_of(&c, &h->journal[i]);
    o = change_json(&c, i + 1);
    s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (o) json_decref(o);
    if (!s) { ts_buf_free(&b); return ts_error_oom(); }
    ts_buf_adds(&b, s);
    ts_buf_addc(&b, '\n');
    free(s);
  }
  if (!ts_buf_cstr(&b)) { ts_buf_free(&b); return ts_error_oom(); }
  *out = ts_buf_detach(&b);
  return *out ? TSHOOT_OK : ts_error_oom();
}

/* ===== a script's view of a host =====
**
** Every host function a script calls goes through a hctx: the host whose
** callbacks answer (for a plan on a simulated host, a copy of it; for a plan
** on an embedder's host, a shadow that records changes in an overlay instead
** of making them), the reply being filled, and the message of a failure.
** Nothing allocated on the C side is left over when a Lua error unwinds: the
** reply and the last parsed JSON live in the hctx and are cleared at the next
** call and at the end of the run. */
typedef struct hctx {
  tshoot_host *h;
  int dry;                    /* record changes in `overlay`, make none */
  int plan;                   /* a plan: ask nobody, tell nobody */
  json_t *overlay;            /* dry: array of {"t","k","n","v"} newest last */
  const char *script, *fix;
  ts_sandbox *sb;
  tshoot_reply reply;
  json_t *last;
  char err[600];
} hctx;

static void begin_call(hctx *c)
{
  ts_reply_clear(&c->reply);
  if (c->last) { json_decref(c->last); c->last = NULL; }
  c->err[0] = '\0';
}

static int failf(hctx *c, int rc, const char *fmt, ...) TS_PRINTF(3, 4);
static int failf(hctx *c, int rc, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, sizeof c->err, fmt, ap);
  va_end(ap);
  return rc;
}

/* A callback failed: say which, and why (the reply's message, else the
** thread's last error). */
static int host_failed(hctx *c, int rc, const char *what)
{
  /* the reply's message, or one set with tshoot_host_error() */
  const char *why = c->reply.error ? c->reply.error : tshoot_error_last()->message;
  if (rc == TSHOOT_OK) rc = TSHOOT_ERROR;
  return failf(c, rc, "host %s failed: %s", what, why && *why ? why : tshoot_strerror(rc));
}

static int missing_op(hctx *c, const char *what)
{
  return failf(c, TSHOOT_EINVALID, "this host cannot %s", what);
}

/* The JSON of a reply (new reference, NULL for nil) or an error. */
static int reply_to_json(hctx *c, json_t **out, const char *what)
{
  tshoot_reply *r = &c->reply;
  *out = NULL;
  if (r->oom) return failf(c, TSHOOT_ENOMEM, "host %s: out of memory", what);
  switch (r->kind) {
  case TS_REPLY_NIL: return TSHOOT_OK;
  case TS_REPLY_BOOL: *out = json_boolean(r->b); break;
  case TS_REPLY_INT: *out = json_integer((json_int_t)r->i); break;
  case TS_REPLY_NUMBER: *out = json_real(r->d); break;
  case TS_REPLY_STRING: *out = json_stringn_nocheck(r->s, r->len); break;
  case TS_REPLY_JSON: *out = json_loadb(r->s, r->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL); break;
  }
  if (!*out) return failf(c, TSHOOT_ENOMEM, "host %s: cannot read its answer", what);
  return TSHOOT_OK;
}

static char *lower_dup(const char *s)
{
  char *d = ts_strdup(s), *p;
  if (d) for (p = d; *p; p++) if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
  return d;
}

/* Is `k` the key `base` or under it (both lower case)? */
static int key_under(const char *k, const char *base)
{
  size_t n = strlen(base);
  return strncmp(k, base, n) == 0 && (k[n] == '\0' || k[n] == '\\');
}

/* Dry runs: the newest overlay entry that decides (t, key, name); NULL if none.
** *found: 1 when the overlay decides (then the return value is the value, or
** NULL when deleted). */
static json_t *overlay_find(hctx *c, const char *t, const char *key, const char *name, int *found)
{
  size_t i;
  char *lk, *ln;
  json_t *res = NULL;
  *found = 0;
  if (!c->dry || !c->overlay) return NULL;
  lk = lower_dup(key);
  ln = name ? lower_dup(name) : NULL;
  for (i = json_array_size(c->overlay); lk && i-- > 0;) {
    json_t *e = json_array_get(c->overlay, i);
    const char *et = json_string_value(json_object_get(e, "t"));
    const char *ek = json_string_value(json_object_get(e, "k"));
    json_t *en = json_object_get(e, "n");
    if (!et || strcmp(et, t) != 0 || !ek) continue;
    if (json_is_null(en) || !en) {              /* a deleted key (or a file/service entry) */
      if (strcmp(t, "reg") == 0 ? key_under(lk, ek) : strcmp(lk, ek) == 0) {
        *found = 1;
        res = json_object_get(e, "v");
        if (json_is_null(res)) res = NULL;
        break;
      }
    } else if (ln && strcmp(ek, lk) == 0 && strcmp(json_string_value(en), ln) == 0) {
      *found = 1;
      res = json_object_get(e, "v");
      if (json_is_null(res)) res = NULL;
      break;
    }
  }
  ts_free(lk);
  ts_free(ln);
  return res;
}

static int overlay_add(hctx *c, const char *t, const char *key, const char *name, json_t *v)
{
  json_t *e;
  char *lk = lower_dup(key), *ln = name ? lower_dup(name) : NULL;
  if (!lk || (name && !ln)) { ts_free(lk); ts_free(ln); return failf(c, TSHOOT_ENOMEM, "out of memory"); }
  if (!c->overlay) c->overlay = json_array();
  e = json_object();
  if (!c->overlay || !e) { ts_free(lk); ts_free(ln); if (e) json_decref(e); return failf(c, TSHOOT_ENOMEM, "out of memory"); }
  json_object_set_new(e, "t", json_string(t));
  json_object_set_new(e, "k", json_string(lk));
  json_object_set_new(e, "n", ln ? json_string(ln) : json_null());
  json_object_set(e, "v", v ? v : json_null());
  json_array_append_new(c->overlay, e);
  ts_free(lk);
  ts_free(ln);
  return TSHOOT_OK;
}

/* --- the journal --- */

static char *json_text(const json_t *v)
{
  char *s, *d;
  if (!v) return ts_strdup("null");
  s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
  if (!s) return NULL;
  d = ts_strdup(s);
  free(s);
  return d;
}

/* Append a record; takes `r`'s contents (freed on failure). */
static int journal_add(hctx *c, rec *r, const char *op, const char *target,
                       const json_t *before, const json_t *after)
{
  tshoot_host *h = c->h;
  r->op = ts_strdup(op);
  r->target = ts_strdup(target);
  r->before = json_text(before);
  r->after = json_text(after);
  r->script = c->script ? ts_strdup(c->script) : NULL;
  r->fix = c->fix ? ts_strdup(c->fix) : NULL;
  if (!r->op || !r->target || !r->before || !r->after || (c->script && !r->script) ||
      (c->fix && !r->fix) ||
      ts_grow((void **)&h->journal, &h->cap_journal, h->n_journal + 1, sizeof *h->journal) < 0) {
    rec_free(r);
    return failf(c, TSHOOT_ENOMEM, "out of memory");
  }
  h->journal[h->n_journal++] = *r;
  memset(r, 0, sizeof *r);
  return TSHOOT_OK;
}

static char *reg_target(const char *key, const char *name)
{
  ts_buf b = TS_BUF_INIT;
  ts_buf_adds(&b, key);
  if (name) { ts_buf_adds(&b, " : "); ts_buf_adds(&b, *name ? name : "(default)"); }
  return ts_buf_cstr(&b) ? ts_buf_detach(&b) : (ts_buf_free(&b), NULL);
}

/* --- registry --- */

static int do_reg_get(hctx *c, const char *key, const char *name, json_t **out)
{
  int found, rc;
  json_t *v = overlay_find(c, "reg", key, name, &found);
  *out = NULL;
  if (found) { *out = v ? json_incref(v) : NULL; return TSHOOT_OK; }
  if (!c->h->ops.registry_get) return missing_op(c, "read the registry (no registry_get)");
  ts_reply_clear(&c->reply);
  rc = c->h->ops.registry_get(c->h->ops.payload, key, name, &c->reply);
  if (rc != TSHOOT_OK) return host_failed(c, rc, "registry.get");
  if (c->reply.kind != TS_REPLY_NIL && c->reply.kind != TS_REPLY_INT && c->reply.kind != TS_REPLY_STRING)
    return failf(c, TSHOOT_ERROR, "host registry.get answered %s : %s with something that is neither a string nor an integer",
                 key, name);
  return reply_to_json(c, out, "registry.get");
}

/* The key's listing {"values": {...}, "subkeys": [...]}, or NULL when missing. */
/* Ask callback `fn` (named `what`; `cannot` says what a host without it
** cannot do) about `name`, for a JSON object: *out is the object (a new
** reference), or NULL when the host says there is none. */
static int ask_object(hctx *c, int (*fn)(void *, const char *, tshoot_reply *), const char *what,
                      const char *cannot, const char *name, json_t **out)
{
  int rc;
  *out = NULL;
  if (!fn) return missing_op(c, cannot);
  ts_reply_clear(&c->reply);
  rc = fn(c->h->ops.payload, name, &c->reply);
  if (rc != TSHOOT_OK) return host_failed(c, rc, what);
  rc = reply_to_json(c, out, what);
  if (rc == TSHOOT_OK && *out && !json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    return failf(c, TSHOOT_ERROR, "host %s answered %s with something that is not an object", what, name);
  }
  return rc;
}

static int do_reg_list(hctx *c, const char *key, json_t **out)
{
  int found;
  json_t *v = overlay_find(c, "reg", key, NULL, &found);
  *out = NULL;
  if (found && !v) return TSHOOT_OK;          /* deleted in this dry run */
  return ask_object(c, c->h->ops.registry_list, "registry.list", "list the registry (no registry_list)", key, out);
}

static int key_exists(hctx *c, const char *key, int *exists)
{
  json_t *l;
  int rc = do_reg_list(c, key, &l);
  *exists = l != NULL;
  if (l) json_decref(l);
  return rc;
}

static int value_of_json(const json_t *v, tshoot_reg_value *rv)
{
  memset(rv, 0, sizeof *rv);
  if (json_is_integer(v)) { rv->is_int = 1; rv->i = json_integer_value(v); return 1; }
  if (json_is_string(v)) { rv->s = json_string_value(v); return 1; }
  return 0;
}

static int call_reg_set(hctx *c, const char *key, const char *name, const json_t *v)
{
  tshoot_reg_value rv;
  int rc;
  if (!c->h->ops.registry_set) return missing_op(c, "change the registry (no registry_set)");
  if (v && !value_of_json(v, &rv)) return failf(c, TSHOOT_EINVALID, "registry value is neither a string nor an integer");
  rc = c->h->ops.registry_set(c->h->ops.payload, key, name, v ? &rv : NULL);
  return rc == TSHOOT_OK ? rc : host_failed(c, rc, "registry.set");
}

static int call_reg_delete(hctx *c, const char *key, const char *name)
{
  int rc;
  if (!c->h->ops.registry_delete) return missing_op(c, "delete from the registry (no registry_delete)");
  rc = c->h->ops.registry_delete(c->h->ops.payload, key, name);
  return rc == TSHOOT_OK ? rc : host_failed(c, rc, "registry.delete");
}

static char *parent_key(const char *key)
{
  const char *p = strrchr(key, '\\');
  return p && p != key ? ts_strndup(key, (size_t)(p - key)) : NULL;
}

static int reg_set(hctx *c, const char *key, const char *name, json_t *v)
{
  rec r;
  json_t *old = NULL;
  char *target, *top = NULL;
  int rc, exists;

  memset(&r, 0, sizeof r);
  rc = key_exists(c, key, &exists);
  if (rc == TSHOOT_OK && exists) rc = do_reg_get(c, key, name, &old);
  if (rc == TSHOOT_OK && !exists) {
    /* the topmost key that this set creates: undoing it deletes that one */
    char *k = ts_strdup(key);
    while (k && rc == TSHOOT_OK) {
      char *p = parent_key(k);
      int pe = 1;
      if (p) rc = key_exists(c, p, &pe);
      if (!p || pe) { top = k; ts_free(p); break; }
      ts_free(k);
      k = p;
    }
    if (!top && rc == TSHOOT_OK) rc = failf(c, TSHOOT_ENOMEM, "out of memory");
  }
  if (rc == TSHOOT_OK) rc = c->dry ? overlay_add(c, "reg", key, name, v) : call_reg_set(c, key, name, v);
  target = rc == TSHOOT_OK ? reg_target(key, name) : NULL;
  if (rc == TSHOOT_OK && !target) rc = failf(c, TSHOOT_ENOMEM, "out of memory");
  if (rc == TSHOOT_OK) {
    r.kind = REC_REG_SET;
    r.key = ts_strdup(key);
    r.name = ts_strdup(name);
    r.undo_key = top;
    top = NULL;
    r.old = old;
    old = NULL;
    if (!r.key || !r.name) { rec_free(&r); rc = failf(c, TSHOOT_ENOMEM, "out of memory"); }
    else rc = journal_add(c, &r, "registry.set", target, r.old, v);
  }
  ts_free(target);
  ts_free(top);
  if (old) json_decref(old);
  return rc;
}

#define SNAPSHOT_MAX_DEPTH 16
#define SNAPSHOT_MAX_ITEMS 4096

/* A key with everything under it: {"values": {...}, "subkeys": {name: snapshot}}. */
static int snapshot_key(hctx *c, const char *key, int depth, size_t *items, json_t **out)
{
  json_t *l, *snap, *subs, *subkeys;
  size_t i;
  int rc;
  *out = NULL;
  if (depth > SNAPSHOT_MAX_DEPTH || *items > SNAPSHOT_MAX_ITEMS)
    return failf(c, TSHOOT_ELIMIT, "registry key %s is too deep or too large to delete with an undo", key);
  rc = do_reg_list(c, key, &l);
  if (rc != TSHOOT_OK || !l) return rc;
  snap = json_object();
  subs = json_object();
  if (!snap || !subs) { json_decref(l); if (snap) json_decref(snap); if (subs) json_decref(subs); return failf(c, TSHOOT_ENOMEM, "out of memory"); }
  json_object_set(snap, "values", json_is_object(json_object_get(l, "values")) ? json_object_get(l, "values") : json_object());
  *items += json_object_size(json_object_get(snap, "values")) + 1;
  json_object_set_new(snap, "subkeys", subs);
  subkeys = json_object_get(l, "subkeys");
  for (i = 0; rc == TSHOOT_OK && i < json_array_size(subkeys); i++) {
    const char *sk = json_string_value(json_array_get(subkeys, i));
    ts_buf p = TS_BUF_INIT;
    json_t *child;
    if (!sk) continue;
    ts_buf_addf(&p, "%s\\%s", key, sk);
    if (!ts_buf_cstr(&p)) { rc = failf(c, TSHOOT_ENOMEM, "out of memory"); break; }
    rc = snapshot_key(c, p.p, depth + 1, items, &child);
    ts_buf_free(&p);
    if (rc == TSHOOT_OK && child) json_object_set_new(subs, sk, child);
  }
  json_decref(l);
  if (rc != TSHOOT_OK) { json_decref(snap); return rc; }
  *out = snap;
  return TSHOOT_OK;
}

static int restore_key(hctx *c, const char *key, const json_t *snap)
{
  const char *name;
  json_t *v;
  int rc = call_reg_set(c, key, NULL, NULL);
  json_object_foreach((json_t *)json_object_get(snap, "values"), name, v)
    if (rc == TSHOOT_OK) rc = call_reg_set(c, key, name, v);
  json_object_foreach((json_t *)json_object_get(snap, "subkeys"), name, v) {
    ts_buf p = TS_BUF_INIT;
    if (rc != TSHOOT_OK) break;
    ts_buf_addf(&p, "%s\\%s", key, name);
    rc = ts_buf_cstr(&p) ? restore_key(c, p.p, v) : failf(c, TSHOOT_ENOMEM, "out of memory");
    ts_buf_free(&p);
  }
  return rc;
}

static int reg_delete(hctx *c, const char *key, const char *name)
{
  rec r;
  json_t *old = NULL;
  char *target;
  int rc;
  size_t items = 0;
  memset(&r, 0, sizeof r);
  rc = name ? do_reg_get(c, key, name, &old) : snapshot_key(c, key, 0, &items, &old);
  if (rc != TSHOOT_OK || !old) return rc;     /* nothing there: nothing to do */
  rc = c->dry ? overlay_add(c, "reg", key, name, NULL) : call_reg_delete(c, key, name);
  target = rc == TSHOOT_OK ? reg_target(key, name) : NULL;
  if (rc == TSHOOT_OK && !target) rc = failf(c, TSHOOT_ENOMEM, "out of memory");
  if (rc == TSHOOT_OK) {
    r.kind = name ? REC_REG_DELETE_VALUE : REC_REG_DELETE_KEY;
    r.key = ts_strdup(key);
    r.name = name ? ts_strdup(name) : NULL;
    r.old = old;
    old = NULL;
    if (!r.key || (name && !r.name)) { rec_free(&r); rc = failf(c, TSHOOT_ENOMEM, "out of memory"); }
    else rc = journal_add(c, &r, "registry.delete", target, r.old, NULL);
  }
  ts_free(target);
  if (old) json_decref(old);
  return rc;
}

/* --- files --- */

static int do_file_stat(hctx *c, const char *path, json_t **out)
{
  int found;
  json_t *v = overlay_find(c, "file", path, NULL, &found);
  *out = NULL;
  if (found) { *out = v ? json_incref(v) : NULL; return TSHOOT_OK; }
  return ask_object(c, c->h->ops.file_stat, "file.stat", "look at files (no file_stat)", path, out);
}

static int file_move(hctx *c, const char *from, const char *to, int removing)
{
  rec r;
  json_t *st = NULL, *dst = NULL, *after = NULL;
  int rc;
  memset(&r, 0, sizeof r);
  rc = do_file_stat(c, from, &st);
  if (rc == TSHOOT_OK && !st) rc = failf(c, TSHOOT_ENOTFOUND, "file.%s: there is no file %s", removing ? "remove" : "move", from);
  if (rc == TSHOOT_OK) rc = do_file_stat(c, to, &dst);
  if (rc == TSHOOT_OK && dst) rc = failf(c, TSHOOT_EINVALID, "file.move: %s already exists", to);
  if (rc == TSHOOT_OK) {
    if (c->dry) {
      rc = overlay_add(c, "file", from, NULL, NULL);
      if (rc == TSHOOT_OK) rc = overlay_add(c, "file", to, NULL, st);
    } else if (!c->h->ops.file_move) {
      rc = missing_op(c, "move files (no file_move)");
    } else {
      rc = c->h->ops.file_move(c->h->ops.payload, from, to);
      if (rc != TSHOOT_OK) rc = host_failed(c, rc, removing ? "file.remove" : "file.move");
    }
  }
  if (rc == TSHOOT_OK) {
    after = json_object();
    if (after) json_object_set_new(after, removing ? "quarantine" : "path", json_string(to));
    r.kind = removing ? REC_FILE_REMOVE : REC_FILE_MOVE;
    r.from = ts_strdup(from);
    r.to = ts_strdup(to);
    if (!after || !r.from || !r.to) { rec_free(&r); rc = failf(c, TSHOOT_ENOMEM, "out of memory"); }
    else rc = journal_add(c, &r, removing ? "file.remove" : "file.move", from, st, after);
  }
  if (st) json_decref(st);
  if (dst) json_decref(dst);
  if (after) json_decref(after);
  return rc;
}

static int file_remove(hctx *c, const char *path)
{
  const char *q = c->h->ops.quarantine_dir, *base;
  char sep;
  int rc = TSHOOT_OK, tries;
  if (!q || !*q)
    return failf(c, TSHOOT_EINVALID, "file.remove: this host has no quarantine folder, so a removed file could not be put back");
  sep = strchr(q, '\\') ? '\\' : '/';
  base = path + strlen(path);
  while (base > path && base[-1] != '\\' && base[-1] != '/') base--;
  for (tries = 0; tries < 1000; tries++) {
    ts_buf t = TS_BUF_INIT;
    json_t *st = NULL;
    ts_buf_addf(&t, "%s%c%s.%lu", q, sep, *base ? base : "file", ++c->h->quarantine_seq);
    if (!ts_buf_cstr(&t)) return failf(c, TSHOOT_ENOMEM, "out of memory");
    rc = do_file_stat(c, t.p, &st);
    if (rc == TSHOOT_OK && !st) {
      rc = file_move(c, path, t.p, 1);
      ts_buf_free(&t);
      return rc;
    }
    if (st) json_decref(st);
    ts_buf_free(&t);
    if (rc != TSHOOT_OK) return rc;
  }
  return failf(c, TSHOOT_ERROR, "file.remove: no free name in the quarantine folder %s", q);
}

/* --- services --- */

static int do_service_get(hctx *c, const char *name, json_t **out)
{
  int found;
  json_t *v = overlay_find(c, "svc", name, NULL, &found);
  int rc = ask_object(c, c->h->ops.service_get, "service.get", "look at services (no service_get)", name, out);
  if (rc == TSHOOT_OK && *out && found && v) json_object_set(*out, "status", v);  /* started or stopped in this dry run */
  return rc;
}

static int service_control(hctx *c, const char *name, const char *action)
{
  rec r;
  json_t *st = NULL, *after = NULL;
  const char *old;
  int rc;
  memset(&r, 0, sizeof r);
  rc = do_service_get(c, name, &st);
  if (rc == TSHOOT_OK && !st) rc = failf(c, TSHOOT_ENOTFOUND, "service.%s: there is no service %s", action, name);
  if (rc != TSHOOT_OK) { if (st) json_decref(st); return rc; }
  old = json_string_value(json_object_get(st, "status"));
  if (c->dry) {
    json_t *status = json_string(strcmp(action, "start") == 0 ? "running" : "stopped");
    rc = overlay_add(c, "svc", name, NULL, status);
    json_decref(status);
  } else if (!c->h->ops.service_control) {
    rc = missing_op(c, "control services (no service_control)");
  } else {
    rc = c->h->ops.service_control(c->h->ops.payload, name, action);
    if (rc != TSHOOT_OK) rc = host_failed(c, rc, strcmp(action, "start") == 0 ? "service.start" : "service.stop");
  }
  if (rc == TSHOOT_OK) {
    json_t *before = json_object();
    after = json_object();
    if (before) json_object_set_new(before, "status", old ? json_string(old) : json_null());
    if (after) json_object_set_new(after, "status", json_string(strcmp(action, "start") == 0 ? "running" : "stopped"));
    r.kind = REC_SERVICE;
    r.service = ts_strdup(name);
    r.old_status = old ? ts_strdup(old) : NULL;
    if (!before || !after || !r.service || (old && !r.old_status)) { rec_free(&r); rc = failf(c, TSHOOT_ENOMEM, "out of memory"); }
    else rc = journal_add(c, &r, strcmp(action, "start") == 0 ? "service.start" : "service.stop", name, before, after);
    if (before) json_decref(before);
  }
  json_decref(st);
  if (after) json_decref(after);
  return rc;
}

/* --- rollback --- */

/* Undo the changes of h's journal from index `from` on, newest first. Every
** change is tried even if one fails; the first failure is reported. */
static int rollback(hctx *c, size_t from)
{
  tshoot_host *h = c->h;
  size_t i = h->n_journal;
  int first = TSHOOT_OK;
  char first_err[sizeof c->err] = "";
  while (i-- > from) {
    rec *r = &h->journal[i];
    int rc = TSHOOT_OK;
    if (r->undone) continue;
    c->err[0] = '\0';
    switch (r->kind) {
    case REC_REG_SET:
      if (r->undo_key) rc = call_reg_delete(c, r->undo_key, NULL);
      else if (r->old) rc = call_reg_set(c, r->key, r->name, r->old);
      else rc = call_reg_delete(c, r->key, r->name);
      break;
    case REC_REG_DELETE_VALUE: rc = call_reg_set(c, r->key, r->name, r->old); break;
    case REC_REG_DELETE_KEY: rc = restore_key(c, r->key, r->old); break;
    case REC_FILE_MOVE:
    case REC_FILE_REMOVE: {
      /* A move that never took effect (a host that ignored it) is already
      ** undone: the file is still where it was and not where it went. */
      json_t *at_to = NULL, *at_from = NULL;
      rc = do_file_stat(c, r->to, &at_to);
      if (rc == TSHOOT_OK && !at_to) rc = do_file_stat(c, r->from, &at_from);
      if (rc == TSHOOT_OK && !(at_from && !at_to)) {
        rc = h->ops.file_move ? h->ops.file_move(h->ops.payload, r->to, r->from) : TSHOOT_EINVALID;
        if (rc != TSHOOT_OK) rc = host_failed(c, rc, "file.move (undo)");
      }
      if (at_to) json_decref(at_to);
      if (at_from) json_decref(at_from);
      break;
    }
    case REC_SERVICE:
      if (r->old_status && h->ops.service_control) {
        rc = h->ops.service_control(h->ops.payload, r->service,
                                    strcmp(r->old_status, "running") == 0 ? "start" : "stop");
        if (rc != TSHOOT_OK) rc = host_failed(c, rc, "service control (undo)");
      }
      break;
    }
    if (rc == TSHOOT_OK) r->undone = 1;
    else if (first == TSHOOT_OK) {
      first = rc;
      snprintf(first_err, sizeof first_err, "undoing %.40s %.200s: %.300s", r->op, r->target, c->err);
    }
  }
  if (first != TSHOOT_OK) memcpy(c->err, first_err, sizeof c->err);
  return first;
}

/* ===== the Lua face: host.* and tshoot.* ===== */

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
static hctx *enter(lua_State *L)
{
  hctx *c = lua_touserdata(L, lua_upvalueindex(1));
  ts_sandbox_check(L);
  begin_call(c);
  ts_sandbox_host_begin(L);
  return c;
}

static int leave(lua_State *L, int nres)
{
  ts_sandbox_host_end(L);
  return nres;
}

/* Keep `v` in the hctx (so that a Lua error while pushing leaks nothing) and
** push it; NULL pushes nil. */
static int push_kept(lua_State *L, hctx *c, json_t *v)
{
  if (c->last) json_decref(c->last);
  c->last = v;
  ts_sandbox_host_end(L);
  if (v) push_json(L, v, 0);
  else lua_pushnil(L);
  return 1;
}

static int raise(lua_State *L, hctx *c)
{
  return luaL_error(L, "%s", c->err[0] ? c->err : "host call failed");
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
  hctx *c = enter(L);
  const char *key = luaL_checkstring(L, 1), *name = luaL_optstring(L, 2, "");
  json_t *v;
  if (do_reg_get(c, key, name, &v) != TSHOOT_OK) return raise(L, c);
  return push_kept(L, c, v);
}

static int l_reg_set(lua_State *L)
{
  hctx *c = enter(L);
  const char *key = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
  json_t *v = lua_reg_value(L, 3);
  int rc;
  if (!v) return luaL_error(L, "out of memory");
  c->last = v;                          /* freed at the next call */
  rc = reg_set(c, key, name, v);
  if (rc != TSHOOT_OK) return raise(L, c);
  return leave(L, 0);
}

static int l_reg_delete(lua_State *L)
{
  hctx *c = enter(L);
  const char *key = luaL_checkstring(L, 1), *name = luaL_optstring(L, 2, NULL);
  if (reg_delete(c, key, name) != TSHOOT_OK) return raise(L, c);
  return leave(L, 0);
}

static int l_reg_values(lua_State *L)
{
  hctx *c = enter(L);
  json_t *l, *v;
  if (do_reg_list(c, luaL_checkstring(L, 1), &l) != TSHOOT_OK) return raise(L, c);
  if (!l) return push_kept(L, c, NULL);
  v = json_object_get(l, "values");
  v = v && json_is_object(v) ? json_incref(v) : json_object();
  json_decref(l);
  return push_kept(L, c, v);
}

static int l_reg_keys(lua_State *L)
{
  hctx *c = enter(L);
  json_t *l, *v;
  if (do_reg_list(c, luaL_checkstring(L, 1), &l) != TSHOOT_OK) return raise(L, c);
  if (!l) return push_kept(L, c, NULL);
  v = json_object_get(l, "subkeys");
  v = v && json_is_array(v) ? json_incref(v) : json_array();
  json_decref(l);
  return push_kept(L, c, v);
}

/* file.stat and the functions that read one member of it */
static int file_member(lua_State *L, const char *member)
{
  hctx *c = enter(L);
  json_t *st, *v;
  if (do_file_stat(c, luaL_checkstring(L, 1), &st) != TSHOOT_OK) return raise(L, c);
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
  hctx *c = enter(L);
  const char *path = luaL_checkstring(L, 1);
  json_t *v;
  int rc;
  if (!c->h->ops.file_list) { missing_op(c, "list folders (no file_list)"); return raise(L, c); }
  rc = c->h->ops.file_list(c->h->ops.payload, path, &c->reply);
  if (rc != TSHOOT_OK) { host_failed(c, rc, "file.list"); return raise(L, c); }
  if (reply_to_json(c, &v, "file.list") != TSHOOT_OK) return raise(L, c);
  return push_kept(L, c, v);
}

static int l_file_move(lua_State *L)
{
  hctx *c = enter(L);
  if (file_move(c, luaL_checkstring(L, 1), luaL_checkstring(L, 2), 0) != TSHOOT_OK) return raise(L, c);
  return leave(L, 0);
}

static int l_file_remove(lua_State *L)
{
  hctx *c = enter(L);
  if (file_remove(c, luaL_checkstring(L, 1)) != TSHOOT_OK) return raise(L, c);
  return leave(L, 0);
}

/* A callback that answers JSON with no argument (process_list, system_info). */
static int json_call(lua_State *L, int (*fn)(void *, tshoot_reply *), const char *what)
{
  hctx *c = enter(L);
  json_t *v;
  int rc;
  if (!fn) { missing_op(c, what); return raise(L, c); }
  rc = fn(c->h->ops.payload, &c->reply);
  if (rc != TSHOOT_OK) { host_failed(c, rc, what); return raise(L, c); }
  if (reply_to_json(c, &v, what) != TSHOOT_OK) return raise(L, c);
  return push_kept(L, c, v);
}

static int l_process_list(lua_State *L)
{
  hctx *c = lua_touserdata(L, lua_upvalueindex(1));
  return json_call(L, c->h->ops.process_list, "list processes (no process_list)");
}

static int l_system_info(lua_State *L)
{
  hctx *c = lua_touserdata(L, lua_upvalueindex(1));
  return json_call(L, c->h->ops.system_info, "tell system facts (no system_info)");
}

static int l_service_get(lua_State *L)
{
  hctx *c = enter(L);
  json_t *v;
  if (do_service_get(c, luaL_checkstring(L, 1), &v) != TSHOOT_OK) return raise(L, c);
  return push_kept(L, c, v);
}

static int l_service_start(lua_State *L)
{
  hctx *c = enter(L);
  if (service_control(c, luaL_checkstring(L, 1), "start") != TSHOOT_OK) return raise(L, c);
  return leave(L, 0);
}

static int l_service_stop(lua_State *L)
{
  hctx *c = enter(L);
  if (service_control(c, luaL_checkstring(L, 1), "stop") != TSHOOT_OK) return raise(L, c);
  return leave(L, 0);
}

static int l_ui_confirm(lua_State *L)
{
  hctx *c = enter(L);
  const char *text = luaL_checkstring(L, 1);
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
  if (!c->h->ops.ui_confirm) { lua_pushboolean(L, 0); return 1; }
  /* the person may take minutes: that is not the script's time */
  ts_sandbox_wait_begin(L);
  rc = c->h->ops.ui_confirm(c->h->ops.payload, text, &c->reply);
  ts_sandbox_wait_end(L);
  if (rc != TSHOOT_OK) { host_failed(c, rc, "ui.confirm"); return raise(L, c); }
  lua_pushboolean(L, c->reply.kind == TS_REPLY_BOOL && c->reply.b);
  return 1;
}

static int l_ui_progress(lua_State *L)
{
  hctx *c = enter(L);
  lua_Number f = luaL_checknumber(L, 1);
  const char *text = luaL_optstring(L, 2, "");
  if (c->h->ops.ui_progress) c->h->ops.ui_progress(c->h->ops.payload, f < 0 ? 0 : f > 1 ? 1 : f, text);
  return leave(L, 0);
}

static int l_ui_notify(lua_State *L)
{
  hctx *c = enter(L);
  size_t n;
  const char *text = luaL_checklstring(L, 1, &n);
  ts_sandbox_add_note(c->sb, text, n);
  if (c->h->ops.ui_notify && !c->plan) c->h->ops.ui_notify(c->h->ops.payload, text);
  return leave(L, 0);
}

/* Compare dotted versions numerically: "9.2.10" > "9.2.9"; missing parts are 0;
** a part that is not a number compares as text. */
int ts_vercmp(const char *a, const char *b)
{
  while (*a || *b) {
    if ((*a >= '0' && *a <= '9') || (*b >= '0' && *b <= '9') || !*a || !*b) {
      unsigned long long x = 0, y = 0;
      while (*a >= '0' && *a <= '9') { if (x < 1000000000000ULL) x = x * 10 + (unsigned)(*a - '0'); a++; }
      while (*b >= '0' && *b <= '9') { if (y < 1000000000000ULL) y = y * 10 + (unsigned)(*b - '0'); b++; }
      if (x != y) return x < y ? -1 : 1;
    }
    if (*a == '.' || *b == '.') {
      if (*a == '.') a++;
      if (*b == '.') b++;
      continue;
    }
    if (*a != *b) {
      if (!*a || !*b) return !*a ? -1 : 1;
      if ((*a >= '0' && *a <= '9') || (*b >= '0' && *b <= '9')) continue;
      return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
    }
    if (*a) { a++; b++; }
  }
  return 0;
}

static int l_vercmp(lua_State *L)
{
  ts_sandbox_check(L);
  lua_pushinteger(L, ts_vercmp(luaL_checkstring(L, 1), luaL_checkstring(L, 2)));
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

static void add_group(lua_State *L, hctx *c, const char *name, const luaL_Reg *fns)
{
  lua_newtable(L);
  lua_pushlightuserdata(L, c);
  luaL_setfuncs(L, fns, 1);
  lua_setfield(L, -2, name);
}

/* Protected: build `host` and `tshoot` in the sandbox's globals. */
static int install_host(lua_State *L)
{
  hctx *c = lua_touserdata(L, 1);
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

/* ===== running a script ===== */

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
  for (i = 0; i < r->n_changes; i++) {
    tshoot_change *c = &ri->changes[i];
    ts_free((char *)c->op); ts_free((char *)c->target); ts_free((char *)c->before);
    ts_free((char *)c->after); ts_free((char *)c->script); ts_free((char *)c->fix);
  }
  for (i = 0; i < r->n_notes; i++) ts_free(ri->notes[i]);
  ts_free(ri->changes);
  ts_free(ri->notes);
  ts_free(ri->message);
  ts_free(ri->answer);
  ts_free(ri);
}

static char *dup_or_null(const char *s) { return s ? ts_strdup(s) : NULL; }

/* Copy h's journal from `from` on into the run. */
static int run_take_changes(run_impl *ri, const tshoot_host *h, size_t from)
{
  size_t i, n = h->n_journal > from ? h->n_journal - from : 0;
  if (!n) return TSHOOT_OK;
  ri->changes = ts_calloc(n, sizeof *ri->changes);
  if (!ri->changes) return ts_error_oom();
  for (i = 0; i < n; i++) {
    const rec *r = &h->journal[from + i];
    tshoot_change *c = &ri->changes[i];
    c->op = dup_or_null(r->op);
    c->target = dup_or_null(r->target);
    c->before = dup_or_null(r->before);
    c->after = dup_or_null(r->after);
    c->script = dup_or_null(r->script);
    c->fix = dup_or_null(r->fix);
    c->undone = r->undone;
    ri->pub.n_changes = i + 1;
    if (!c->op || !c->target || !c->before || !c->after) return ts_error_oom();
  }
  ri->pub.changes = ri->changes;
  return TSHOOT_OK;
}

static int run_set_message(run_impl *ri, int status, const char *msg)
{
  ri->pub.status = status;
  ts_free(ri->message);
  ri->message = ts_strdup(msg ? msg : "");
  ri->pub.message = ri->message ? ri->message : "";
  return ri->message ? TSHOOT_OK : ts_error_oom();
}

/* Fetch fn `name` from the fix table at stack top (raw: no metamethod runs). */
static int fix_function(lua_State *L, const char *name)
{
  lua_pushstring(L, name);
  lua_rawget(L, -2);
  if (lua_type(L, -1) == LUA_TFUNCTION) return 1;
  lua_pop(L, 1);
  return 0;
}

/* The answer a probe returned, as text; sets the run's status on failure. */
static int probe_answer(run_impl *ri, ts_sandbox *sb, const char *name)
{
  lua_State *L = ts_sandbox_L(sb);
  char *text = NULL;
  char msg[300];
  switch (lua_type(L, -1)) {
  case LUA_TNIL: return TSHOOT_OK;
  case LUA_TBOOLEAN:
    ri->answer = ts_strdup(lua_toboolean(L, -1) ? "yes" : "no");
    break;
  case LUA_TNUMBER:
  case LUA_TSTRING:
    if (ts_sandbox_tostring(sb, -1, &text) != TSHOOT_OK) return run_set_message(ri, TSHOOT_ERROR, tshoot_error_last()->message);
    ri->answer = text;
    break;
  default:
    snprintf(msg, sizeof msg, "%s: a probe returns text, a number, a boolean or nothing, not a %s",
             name, lua_typename(L, lua_type(L, -1)));
    return run_set_message(ri, TSHOOT_ERROR, msg);
  }
  if (!ri->answer) return ts_error_oom();
  ri->pub.answer = ri->answer;
  return TSHOOT_OK;
}

/* Ask the host to confirm a fix that needs it. 1: go on; 0: refused. */
static int confirm_fix(hctx *c, const tshoot_fix_info *fix)
{
  char text[600];
  int rc;
  if (!fix || (!fix->needs_admin && fix->reversible)) return 1;
  snprintf(text, sizeof text, "Apply \"%s\"? It %s%s%s.", fix->title ? fix->title : fix->id,
           fix->needs_admin ? "needs administrator rights" : "",
           fix->needs_admin && !fix->reversible ? " and " : "",
           !fix->reversible ? "cannot be undone" : "");
  if (!c->h->ops.ui_confirm) return 0;
  ts_reply_clear(&c->reply);
  rc = c->h->ops.ui_confirm(c->h->ops.payload, text, &c->reply);
  return rc == TSHOOT_OK && c->reply.kind == TS_REPLY_BOOL && c->reply.b;
}

/* Call the function at stack top with no arguments, `nres` results. On
** failure sets the run's status and message. */
static int run_call(run_impl *ri, ts_sandbox *sb, int nres)
{
  int rc = ts_sandbox_pcall(sb, 0, nres);
  if (rc == TSHOOT_OK) return 1;
  if (rc == TSHOOT_ENOMEM && !ts_sandbox_broken(sb)) rc = TSHOOT_ELIMIT;
  run_set_message(ri, rc, tshoot_error_last()->message);
  return 0;
}

TSHOOT_API int tshoot_script_run(tshoot_run **out, tshoot_host *host, const char *name,
                                 const char *body, size_t len, tshoot_script_mode mode,
                                 const tshoot_fix_info *fix, const tshoot_limits *limits)
{
  run_impl *ri;
  ts_sandbox *sb = NULL;
  tshoot_host *empty = NULL, *target = NULL, *shadow = NULL;
  hctx c;
  lua_State *L;
  size_t first;
  int rc;

  if (!out) return ts_error(TSHOOT_EINVALID, "tshoot_script_run: NULL out");
  *out = NULL;
  if (!name || !body) return ts_error(TSHOOT_EINVALID, "tshoot_script_run: NULL name or body");
  if (mode < TSHOOT_RUN_PROBE || mode > TSHOOT_RUN_VERIFY)
    return ts_error(TSHOOT_EINVALID, "tshoot_script_run: unknown mode %d", (int)mode);
  ri = ts_calloc(1, sizeof *ri);
  if (!ri) return ts_error_oom();
  run_set_message(ri, TSHOOT_OK, "");
  memset(&c, 0, sizeof c);
  ts_reply_init(&c.reply);

  if (!host) {
    tshoot_host_ops none;
    memset(&none, 0, sizeof none);
    none.version = TSHOOT_HOST_OPS_VERSION;
    rc = tshoot_host_new(&empty, &none);
    if (rc != TSHOOT_OK) goto fail;
    host = empty;
  }
  target = host;
  if (mode == TSHOOT_RUN_PLAN) {
    /* A plan runs against a copy: of the machine itself when simulated, else
    ** a shadow of the host that records changes instead of making them. */
    if (host->sim) {
      char *saved = NULL;
      rc = ts_sim_save(&saved, host->sim);
      if (rc == TSHOOT_OK) rc = tshoot_host_sim_load(&shadow, saved, strlen(saved), host->name);
      ts_free(saved);
      if (rc != TSHOOT_OK) goto fail;
      shadow->quarantine_seq = host->quarantine_seq;
    } else {
      rc = tshoot_host_new(&shadow, &host->ops);
      if (rc != TSHOOT_OK) goto fail;
      c.dry = 1;
    }
    c.plan = 1;
    target = shadow;
  }
  c.h = target;
  c.script = name;
  c.fix = fix ? fix->id : NULL;
  first = target->n_journal;

  rc = ts_sandbox_new(&sb, limits);
  if (rc != TSHOOT_OK) goto fail;
  c.sb = sb;
  L = ts_sandbox_L(sb);
  lua_pushcfunction(L, install_host);
  lua_pushlightuserdata(L, &c);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    lua_pop(L, 1);
    rc = ts_error(TSHOOT_ENOMEM, "cannot set up the script's host table");
    goto fail;
  }

  if (ts_sandbox_load(sb, name, body, len) != TSHOOT_OK) {
    run_set_message(ri, TSHOOT_ERROR, tshoot_error_last()->message);
    goto done;
  }
  if (!run_call(ri, sb, 1)) goto done;

  if (mode == TSHOOT_RUN_PROBE) {
    rc = probe_answer(ri, sb, name);
    if (rc != TSHOOT_OK) goto fail;
    goto done;
  }

  /* a fix: a table with apply and verify */
  if (lua_type(L, -1) != LUA_TTABLE) {
    char msg[300];
    snprintf(msg, sizeof msg, "%s: a fix returns a table with apply and verify functions, not a %s",
             name, lua_typename(L, lua_type(L, -1)));
    run_set_message(ri, TSHOOT_ERROR, msg);
    goto done;
  }
  if (mode == TSHOOT_RUN_APPLY && fix_function(L, "verify")) {
    /* Verify first: a fix whose verify passes before it is applied cannot be
    ** what repairs this machine, and calling it "worked" would be false
    ** evidence for its cause. A verify that cannot run yet (it needs what
    ** apply sets up) says nothing, unless it broke a limit. */
    int pre = ts_sandbox_pcall(sb, 0, 1);
    if (pre == TSHOOT_OK) {
      int already = lua_toboolean(L, -1);
      lua_pop(L, 1);
      if (already) {
        run_set_message(ri, TSHOOT_ERROR, "not applied: its verify passes already, so this machine "
                                          "does not have the problem the fix repairs");
        goto done;
      }
    } else if (ts_sandbox_broken(sb)) {
      run_set_message(ri, TSHOOT_ELIMIT, tshoot_error_last()->message);
      goto done;
    }
  }
  if (mode == TSHOOT_RUN_VERIFY) {
    if (!fix_function(L, "verify")) { run_set_message(ri, TSHOOT_ERROR, "the fix has no verify function"); goto done; }
  } else if (!fix_function(L, "apply")) {
    run_set_message(ri, TSHOOT_ERROR, "the fix has no apply function");
    goto done;
  }
  if (mode == TSHOOT_RUN_PLAN) {
    run_call(ri, sb, 0);
    goto done;
  }
  if (mode == TSHOOT_RUN_APPLY) {
    int applied;
    if (!confirm_fix(&c, fix)) {
      lua_pop(L, 1);
      run_set_message(ri, TSHOOT_EUSER, "not applied: the fix needs confirmation and the host did not give it");
      goto done;
    }
    applied = run_call(ri, sb, 0);
    if (applied && !fix_function(L, "verify")) {
      run_set_message(ri, TSHOOT_ERROR, "the fix has no verify function");
      applied = 0;
    }
    if (!applied) {
      if (rollback(&c, first) != TSHOOT_OK) {
        ts_buf m = TS_BUF_INIT;
        ts_buf_addf(&m, "%s; and the rollback failed: %s", ri->pub.message, c.err);
        run_set_message(ri, ri->pub.status, ts_buf_cstr(&m) ? m.p : ri->pub.message);
        ts_buf_free(&m);
      } else {
        ri->pub.rolled_back = target->n_journal > first;
      }
      goto done;
    }
  }
  /* verify: true, or false and why */
  if (run_call(ri, sb, 2)) {
    if (lua_toboolean(L, -2)) {
      ri->pub.verified = 1;
    } else {
      char *why = NULL;
      ts_buf m = TS_BUF_INIT;
      if (lua_type(L, -1) == LUA_TSTRING) ts_sandbox_tostring(sb, -1, &why);
      ts_buf_addf(&m, "verify: %s", why ? why : "the fix did not work");
      run_set_message(ri, TSHOOT_ERROR, ts_buf_cstr(&m) ? m.p : "verify failed");
      ts_buf_free(&m);
      ts_free(why);
    }
    lua_pop(L, 2);
  }
  if (mode == TSHOOT_RUN_APPLY && !ri->pub.verified) {
    if (rollback(&c, first) == TSHOOT_OK) ri->pub.rolled_back = target->n_journal > first;
    else {
      ts_buf m = TS_BUF_INIT;
      ts_buf_addf(&m, "%s; and the rollback failed: %s", ri->pub.message, c.err);
      run_set_message(ri, ri->pub.status, ts_buf_cstr(&m) ? m.p : ri->pub.message);
      ts_buf_free(&m);
    }
  }

done:
  rc = run_take_changes(ri, target, first);
  if (rc != TSHOOT_OK) goto fail;
  if (sb) {
    const char *const *notes;
    size_t i, n;
    ts_sandbox_stats(sb, &ri->pub.elapsed_ms, &ri->pub.instructions, &ri->pub.memory_peak);
    ts_sandbox_notes(sb, &notes, &n);
    if (n) {
      ri->notes = ts_calloc(n, sizeof *ri->notes);
      if (!ri->notes) { rc = ts_error_oom(); goto fail; }
      for (i = 0; i < n; i++) {
        ri->notes[i] = ts_strdup(notes[i]);
        if (!ri->notes[i]) { rc = ts_error_oom(); goto fail; }
        ri->pub.n_notes = i + 1;
      }
      ri->pub.notes = (const char *const *)ri->notes;
    }
  }
  begin_call(&c);
  if (c.overlay) json_decref(c.overlay);
  ts_sandbox_free(sb);
  tshoot_host_free(shadow);
  tshoot_host_free(empty);
  *out = &ri->pub;
  return TSHOOT_OK;

fail:
  begin_call(&c);
  if (c.overlay) json_decref(c.overlay);
  ts_sandbox_free(sb);
  tshoot_host_free(shadow);
  tshoot_host_free(empty);
  tshoot_run_free(&ri->pub);
  return rc;
}
