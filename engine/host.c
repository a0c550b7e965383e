/*
** host.c: a host (the embedder's callbacks wrapped), the journal of the
** changes scripts make through it, and rollback (host.h). Replies are in
** host_reply.c, the Lua face in host_lua.c, the script runner in script.c.
*/
#include "tshoot_int.h"
#include "host.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  ts_host_impl impl;          /* a backend the engine provides, or zeros */
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
  TS_CHECK_ARG(out);
  *out = NULL;
  TS_CHECK_ARG(ops);
  /* Any version 1..current. There is one today; a version 2 that adds
  ** callbacks will copy only the members the caller's version has. */
  TS_CHECK_OPTIONS(ops, TSHOOT_HOST_OPS_VERSION);
  h = ts_calloc(1, sizeof *h);
  if (!h) return ts_error_oom();
  h->ops = *ops;
  *out = h;
  return TSHOOT_OK;
}

int ts_host_new_impl(tshoot_host **out, const tshoot_host_ops *ops, const ts_host_impl *impl)
{
  int rc = tshoot_host_new(out, ops);
  if (rc != TSHOOT_OK) {
    if (impl->free) impl->free(impl->data);
    return rc;
  }
  (*out)->impl = *impl;
  return TSHOOT_OK;
}

void *ts_host_impl_data(const tshoot_host *h, void (*free_fn)(void *))
{
  return h && free_fn && h->impl.free == free_fn ? h->impl.data : NULL;
}

TSHOOT_API void tshoot_host_free(tshoot_host *h)
{
  size_t i;
  if (!h) return;
  for (i = 0; i < h->n_journal; i++) rec_free(&h->journal[i]);
  ts_free(h->journal);
  ts_free(h->view);
  if (h->impl.free) h->impl.free(h->impl.data);
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
  TS_CHECK_ARG(out && n && h);
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
  TS_CHECK_ARG(out && h);
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

/* ===== a script's view of a host (host.h) ===== */

void ts_host_begin_call(ts_hctx *c)
{
  ts_reply_clear(&c->reply);
  if (c->last) { json_decref(c->last); c->last = NULL; }
  c->err[0] = '\0';
}

void ts_host_end_run(ts_hctx *c)
{
  ts_host_begin_call(c);
  if (c->overlay) { json_decref(c->overlay); c->overlay = NULL; }
}

const tshoot_host_ops *ts_host_ops(const tshoot_host *h)
{
  return &h->ops;
}

static int failf(ts_hctx *c, int rc, const char *fmt, ...) TS_PRINTF(3, 4);
static int failf(ts_hctx *c, int rc, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, sizeof c->err, fmt, ap);
  va_end(ap);
  return rc;
}

/* A callback failed: say which, and why (the reply's message, else the
** thread's last error). */
int ts_host_failed(ts_hctx *c, int rc, const char *what)
{
  /* the reply's message, or one set with tshoot_host_error() */
  const char *why = c->reply.error ? c->reply.error : tshoot_error_last()->message;
  if (rc == TSHOOT_OK) rc = TSHOOT_ERROR;
  return failf(c, rc, "host %s failed: %s", what, why && *why ? why : tshoot_strerror(rc));
}

int ts_host_missing_op(ts_hctx *c, const char *what)
{
  return failf(c, TSHOOT_EINVALID, "this host cannot %s", what);
}

/* The JSON of a reply (new reference, NULL for nil) or an error. */
int ts_host_reply_json(ts_hctx *c, json_t **out, const char *what)
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
static json_t *overlay_find(ts_hctx *c, const char *t, const char *key, const char *name, int *found)
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

static int overlay_add(ts_hctx *c, const char *t, const char *key, const char *name, json_t *v)
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

/* --- the journal ---
**
** A change is made in three steps, so that no failure can leave a change the
** journal does not know: the record is made first (every string of it, and
** room for it in the journal), then the host is asked, then the record is
** committed, which cannot fail. A host call that fails may have done part of
** the change (a tree delete that stops at a subkey it may not delete): its
** record is committed all the same and undone at once from the state it holds.
** Undoing writes only what differs from that state, so a call that changed
** nothing leaves no record and writes nothing back. */

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

/* Fill r's texts and make room for it in the journal. On failure r is freed. */
static int journal_prepare(ts_hctx *c, rec *r, const char *op, const char *target,
                           const json_t *before, const json_t *after)
{
  tshoot_host *h = c->h;
  r->op = ts_strdup(op);
  r->target = target ? ts_strdup(target) : NULL;
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
  return TSHOOT_OK;
}

static int undo_rec(ts_hctx *c, const rec *r, int diff, int *wrote);

/* The change of prepared record r was asked for, with result rc; `called`:
** the host was asked (else the overlay, or nobody). Commit r, or settle a
** failure: a host call that failed is undone from r at once, and c->err says
** what was left. */
static int journal_done(ts_hctx *c, rec *r, int rc, int called)
{
  tshoot_host *h = c->h;
  char why[sizeof c->err];
  rec *j;
  int wrote = 0, urc;
  if (rc == TSHOOT_OK || called) {
    h->journal[h->n_journal++] = *r;       /* room was made by journal_prepare */
    memset(r, 0, sizeof *r);
  } else {
    rec_free(r);
  }
  if (rc == TSHOOT_OK || !called) return rc;
  memcpy(why, c->err, sizeof why);
  j = &h->journal[h->n_journal - 1];
  urc = undo_rec(c, j, 1, &wrote);
  if (urc == TSHOOT_OK && !wrote) {         /* it changed nothing */
    rec_free(j);
    h->n_journal--;
    memcpy(c->err, why, sizeof why);
  } else if (urc == TSHOOT_OK) {
    j->undone = 1;
    snprintf(c->err, sizeof c->err, "%.500s (what it had changed was put back)", why);
  } else {
    char uerr[sizeof c->err];
    memcpy(uerr, c->err, sizeof uerr);
    snprintf(c->err, sizeof c->err, "%.280s; it left the change half done, and putting it back failed: %.200s",
             why, uerr);
  }
  return rc;
}

static char *reg_target(const char *key, const char *name)
{
  ts_buf b = TS_BUF_INIT;
  ts_buf_adds(&b, key);
  if (name) { ts_buf_adds(&b, " : "); ts_buf_adds(&b, *name ? name : "(default)"); }
  return ts_buf_cstr(&b) ? ts_buf_detach(&b) : (ts_buf_free(&b), NULL);
}

/* --- registry --- */

int ts_host_reg_get(ts_hctx *c, const char *key, const char *name, json_t **out)
{
  int found, rc;
  json_t *v = overlay_find(c, "reg", key, name, &found);
  *out = NULL;
  if (found) { *out = v ? json_incref(v) : NULL; return TSHOOT_OK; }
  if (!c->h->ops.registry_get) return ts_host_missing_op(c, "read the registry (no registry_get)");
  ts_reply_clear(&c->reply);
  rc = c->h->ops.registry_get(c->h->ops.payload, key, name, &c->reply);
  if (rc != TSHOOT_OK) return ts_host_failed(c, rc, "registry.get");
  if (c->reply.kind != TS_REPLY_NIL && c->reply.kind != TS_REPLY_INT && c->reply.kind != TS_REPLY_STRING)
    return failf(c, TSHOOT_ERROR, "host registry.get answered %s : %s with something that is neither a string nor an integer",
                 key, name);
  return ts_host_reply_json(c, out, "registry.get");
}

/* Ask callback `fn` (named `what`; `cannot` says what a host without it
** cannot do) about `name`, for a JSON object: *out is the object (a new
** reference), or NULL when the host says there is none. */
static int ask_object(ts_hctx *c, int (*fn)(void *, const char *, tshoot_reply *), const char *what,
                      const char *cannot, const char *name, json_t **out)
{
  int rc;
  *out = NULL;
  if (!fn) return ts_host_missing_op(c, cannot);
  ts_reply_clear(&c->reply);
  rc = fn(c->h->ops.payload, name, &c->reply);
  if (rc != TSHOOT_OK) return ts_host_failed(c, rc, what);
  rc = ts_host_reply_json(c, out, what);
  if (rc == TSHOOT_OK && *out && !json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    return failf(c, TSHOOT_ERROR, "host %s answered %s with something that is not an object", what, name);
  }
  return rc;
}

/* The key's listing {"values": {...}, "subkeys": [...]}, or NULL when missing. */
int ts_host_reg_list(ts_hctx *c, const char *key, json_t **out)
{
  int found;
  json_t *v = overlay_find(c, "reg", key, NULL, &found);
  *out = NULL;
  if (found && !v) return TSHOOT_OK;          /* deleted in this dry run */
  return ask_object(c, c->h->ops.registry_list, "registry.list", "list the registry (no registry_list)", key, out);
}

static int key_exists(ts_hctx *c, const char *key, int *exists)
{
  json_t *l;
  int rc = ts_host_reg_list(c, key, &l);
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

static int call_reg_set(ts_hctx *c, const char *key, const char *name, const json_t *v)
{
  tshoot_reg_value rv;
  int rc;
  if (!c->h->ops.registry_set) return ts_host_missing_op(c, "change the registry (no registry_set)");
  if (v && !value_of_json(v, &rv)) return failf(c, TSHOOT_EINVALID, "registry value is neither a string nor an integer");
  rc = c->h->ops.registry_set(c->h->ops.payload, key, name, v ? &rv : NULL);
  return rc == TSHOOT_OK ? rc : ts_host_failed(c, rc, "registry.set");
}

static int call_reg_delete(ts_hctx *c, const char *key, const char *name)
{
  int rc;
  if (!c->h->ops.registry_delete) return ts_host_missing_op(c, "delete from the registry (no registry_delete)");
  rc = c->h->ops.registry_delete(c->h->ops.payload, key, name);
  return rc == TSHOOT_OK ? rc : ts_host_failed(c, rc, "registry.delete");
}

/* The topmost key that setting a value under the missing `key` creates:
** undoing the set deletes that one. */
static int top_new_key(ts_hctx *c, const char *key, char **top)
{
  size_t n = strlen(key), j;          /* key[0..n) is missing */
  *top = NULL;
  for (;;) {
    char *parent;
    int exists = 1, rc;
    for (j = n; j > 0 && key[j - 1] != '\\'; j--) {}
    if (j > 1) {
      if (!(parent = ts_strndup(key, j - 1))) return failf(c, TSHOOT_ENOMEM, "out of memory");
      rc = key_exists(c, parent, &exists);
      ts_free(parent);
      if (rc != TSHOOT_OK) return rc;
    }
    if (exists) break;
    n = j - 1;
  }
  *top = ts_strndup(key, n);
  return *top ? TSHOOT_OK : failf(c, TSHOOT_ENOMEM, "out of memory");
}

static int ascii_ieq(const char *a, const char *b, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
    if (x != y || !x) return 0;
  }
  return 1;
}

/* `key` as the host spells it, so that an undo puts back the very names that
** were there: each part below the hive as its parent lists it, the hive in
** capitals ("hklm\software\kerio" -> "HKLM\SOFTWARE\Kerio"). */
static int exact_key(ts_hctx *c, const char *key, char **out)
{
  ts_buf b = TS_BUF_INIT;
  const char *p = strchr(key, '\\'), *s;
  int rc = TSHOOT_OK;
  *out = NULL;
  for (s = key; *s && s != p; s++) ts_buf_addc(&b, *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s);
  while (p && rc == TSHOOT_OK) {
    const char *part = p + 1, *end = strchr(part, '\\'), *use = part;
    size_t n = end ? (size_t)(end - part) : strlen(part), i;
    json_t *l = NULL, *subs;
    if (!ts_buf_cstr(&b)) break;
    rc = ts_host_reg_list(c, b.p, &l);
    subs = l ? json_object_get(l, "subkeys") : NULL;
    for (i = 0; i < json_array_size(subs); i++) {
      const char *sk = json_string_value(json_array_get(subs, i));
      if (sk && strlen(sk) == n && ascii_ieq(sk, part, n)) { use = sk; break; }
    }
    ts_buf_addc(&b, '\\');
    ts_buf_add(&b, use, n);
    if (l) json_decref(l);
    p = end;
  }
  if (rc == TSHOOT_OK && !ts_buf_cstr(&b)) rc = failf(c, TSHOOT_ENOMEM, "out of memory");
  if (rc == TSHOOT_OK) *out = ts_buf_detach(&b);
  if (rc == TSHOOT_OK && !*out) rc = failf(c, TSHOOT_ENOMEM, "out of memory");
  ts_buf_free(&b);
  return rc;
}

/* Value `name` of `key` as the host spells it (a copy), or a copy of `name`. */
static int exact_value_name(ts_hctx *c, const char *key, const char *name, char **out)
{
  json_t *l = NULL, *vals;
  const char *k, *use = name;
  json_t *v;
  int rc = ts_host_reg_list(c, key, &l);
  *out = NULL;
  if (rc != TSHOOT_OK) return rc;
  vals = l ? json_object_get(l, "values") : NULL;
  if (json_is_object(vals))
    json_object_foreach(vals, k, v)
      if (strlen(k) == strlen(name) && ascii_ieq(k, name, strlen(name))) { use = k; break; }
  *out = ts_strdup(use);
  if (l) json_decref(l);
  return *out ? TSHOOT_OK : failf(c, TSHOOT_ENOMEM, "out of memory");
}

int ts_host_reg_set(ts_hctx *c, const char *key, const char *name, json_t *v)
{
  rec r;
  char *target = NULL;
  int rc, exists, called = 0;

  memset(&r, 0, sizeof r);
  r.kind = REC_REG_SET;
  rc = key_exists(c, key, &exists);
  if (rc == TSHOOT_OK && exists) rc = ts_host_reg_get(c, key, name, &r.old);
  if (rc == TSHOOT_OK && !exists) rc = top_new_key(c, key, &r.undo_key);
  if (rc == TSHOOT_OK) {
    target = reg_target(key, name);
    r.key = ts_strdup(key);
    r.name = ts_strdup(name);
    if (!target || !r.key || !r.name) rc = failf(c, TSHOOT_ENOMEM, "out of memory");
  }
  if (rc != TSHOOT_OK) rec_free(&r);
  else rc = journal_prepare(c, &r, "registry.set", target, r.old, v);
  ts_free(target);
  if (rc != TSHOOT_OK) return rc;
  if (c->dry) {
    rc = overlay_add(c, "reg", key, name, v);
  } else {
    called = c->h->ops.registry_set != NULL;
    rc = call_reg_set(c, key, name, v);
  }
  return journal_done(c, &r, rc, called);
}

#define SNAPSHOT_MAX_DEPTH 16
#define SNAPSHOT_MAX_ITEMS 4096

/* A key with everything under it: {"values": {...}, "subkeys": {name: snapshot}}. */
static int snapshot_key(ts_hctx *c, const char *key, int depth, size_t *items, json_t **out)
{
  json_t *l, *snap, *subs, *subkeys;
  size_t i;
  int rc;
  *out = NULL;
  if (depth > SNAPSHOT_MAX_DEPTH || *items > SNAPSHOT_MAX_ITEMS)
    return failf(c, TSHOOT_ELIMIT, "registry key %s is too deep or too large to delete with an undo", key);
  rc = ts_host_reg_list(c, key, &l);
  if (rc != TSHOOT_OK || !l) return rc;
  snap = json_object();
  subs = json_object();
  if (!snap || !subs) { json_decref(l); if (snap) json_decref(snap); if (subs) json_decref(subs); return failf(c, TSHOOT_ENOMEM, "out of memory"); }
  if (json_object_set_new(snap, "subkeys", subs) < 0 ||
      json_object_set_new(snap, "values", json_is_object(json_object_get(l, "values"))
                                          ? json_deep_copy(json_object_get(l, "values")) : json_object()) < 0 ||
      !json_object_get(snap, "values"))
    rc = failf(c, TSHOOT_ENOMEM, "out of memory");
  *items += json_object_size(json_object_get(snap, "values")) + 1;
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
    if (rc == TSHOOT_OK && child && json_object_set_new(subs, sk, child) < 0)
      rc = failf(c, TSHOOT_ENOMEM, "out of memory");
  }
  json_decref(l);
  if (rc != TSHOOT_OK) { json_decref(snap); return rc; }
  *out = snap;
  return TSHOOT_OK;
}

/* Put `key` back as `snap` holds it (`diff`: writing only what differs). */
static int restore_key(ts_hctx *c, const char *key, const json_t *snap, int diff, int *wrote)
{
  const char *name;
  json_t *v, *now = NULL, *vals;
  int rc = diff ? ts_host_reg_list(c, key, &now) : TSHOOT_OK;
  if (rc != TSHOOT_OK) return rc;
  if (!now) { rc = call_reg_set(c, key, NULL, NULL); (*wrote)++; }
  vals = now ? json_object_get(now, "values") : NULL;
  json_object_foreach((json_t *)json_object_get(snap, "values"), name, v) {
    if (rc != TSHOOT_OK) break;
    if (json_is_object(vals) && json_equal(json_object_get(vals, name), v)) continue;
    rc = call_reg_set(c, key, name, v);
    (*wrote)++;
  }
  if (now) json_decref(now);
  json_object_foreach((json_t *)json_object_get(snap, "subkeys"), name, v) {
    ts_buf p = TS_BUF_INIT;
    if (rc != TSHOOT_OK) break;
    ts_buf_addf(&p, "%s\\%s", key, name);
    rc = ts_buf_cstr(&p) ? restore_key(c, p.p, v, diff, wrote) : failf(c, TSHOOT_ENOMEM, "out of memory");
    ts_buf_free(&p);
  }
  return rc;
}

int ts_host_reg_delete(ts_hctx *c, const char *key, const char *name)
{
  rec r;
  char *target = NULL;
  int rc, called = 0;
  size_t items = 0;
  memset(&r, 0, sizeof r);
  r.kind = name ? REC_REG_DELETE_VALUE : REC_REG_DELETE_KEY;
  rc = name ? ts_host_reg_get(c, key, name, &r.old) : snapshot_key(c, key, 0, &items, &r.old);
  if (rc != TSHOOT_OK || !r.old) { rec_free(&r); return rc; }   /* nothing there: nothing to do */
  /* the names an undo writes back: the host's own spelling */
  rc = name ? exact_value_name(c, key, name, &r.name) : TSHOOT_OK;
  if (rc == TSHOOT_OK) {
    if (name) r.key = ts_strdup(key);
    else rc = exact_key(c, key, &r.key);
  }
  if (rc == TSHOOT_OK) {
    target = reg_target(key, name);
    if (!target || !r.key) rc = failf(c, TSHOOT_ENOMEM, "out of memory");
  }
  if (rc != TSHOOT_OK) rec_free(&r);
  else rc = journal_prepare(c, &r, "registry.delete", target, r.old, NULL);
  ts_free(target);
  if (rc != TSHOOT_OK) return rc;
  if (c->dry) {
    rc = overlay_add(c, "reg", key, name, NULL);
  } else {
    called = c->h->ops.registry_delete != NULL;
    rc = call_reg_delete(c, key, name);
  }
  return journal_done(c, &r, rc, called);
}

/* --- files --- */

int ts_host_file_stat(ts_hctx *c, const char *path, json_t **out)
{
  int found;
  json_t *v = overlay_find(c, "file", path, NULL, &found);
  *out = NULL;
  if (found) { *out = v ? json_incref(v) : NULL; return TSHOOT_OK; }
  return ask_object(c, c->h->ops.file_stat, "file.stat", "look at files (no file_stat)", path, out);
}

static int file_move_as(ts_hctx *c, const char *from, const char *to, int removing)
{
  rec r;
  json_t *st = NULL, *dst = NULL, *after = NULL;
  const char *op = removing ? "file.remove" : "file.move";
  int rc, called = 0;
  memset(&r, 0, sizeof r);
  r.kind = removing ? REC_FILE_REMOVE : REC_FILE_MOVE;
  rc = ts_host_file_stat(c, from, &st);
  if (rc == TSHOOT_OK && !st) rc = failf(c, TSHOOT_ENOTFOUND, "%s: there is no file %s", op, from);
  if (rc == TSHOOT_OK) rc = ts_host_file_stat(c, to, &dst);
  if (rc == TSHOOT_OK && dst) rc = failf(c, TSHOOT_EINVALID, "file.move: %s already exists", to);
  if (rc == TSHOOT_OK) {
    after = json_object();
    r.from = ts_strdup(from);
    r.to = ts_strdup(to);
    if (!after || json_object_set_new(after, removing ? "quarantine" : "path", json_string(to)) < 0 ||
        !r.from || !r.to)
      rc = failf(c, TSHOOT_ENOMEM, "out of memory");
  }
  if (rc != TSHOOT_OK) rec_free(&r);
  else rc = journal_prepare(c, &r, op, from, st, after);
  if (rc == TSHOOT_OK) {
    if (c->dry) {
      rc = overlay_add(c, "file", from, NULL, NULL);
      if (rc == TSHOOT_OK) rc = overlay_add(c, "file", to, NULL, st);
    } else if (!c->h->ops.file_move) {
      rc = ts_host_missing_op(c, "move files (no file_move)");
    } else {
      called = 1;
      rc = c->h->ops.file_move(c->h->ops.payload, from, to);
      if (rc != TSHOOT_OK) rc = ts_host_failed(c, rc, op);
    }
    rc = journal_done(c, &r, rc, called);
  }
  if (st) json_decref(st);
  if (dst) json_decref(dst);
  if (after) json_decref(after);
  return rc;
}

int ts_host_file_remove(ts_hctx *c, const char *path)
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
    rc = ts_host_file_stat(c, t.p, &st);
    if (rc == TSHOOT_OK && !st) {
      rc = file_move_as(c, path, t.p, 1);
      ts_buf_free(&t);
      return rc;
    }
    if (st) json_decref(st);
    ts_buf_free(&t);
    if (rc != TSHOOT_OK) return rc;
  }
  return failf(c, TSHOOT_ERROR, "file.remove: no free name in the quarantine folder %s", q);
}

int ts_host_file_move(ts_hctx *c, const char *from, const char *to)
{
  return file_move_as(c, from, to, 0);
}

/* --- services --- */

int ts_host_service_get(ts_hctx *c, const char *name, json_t **out)
{
  int found;
  json_t *v = overlay_find(c, "svc", name, NULL, &found);
  int rc = ask_object(c, c->h->ops.service_get, "service.get", "look at services (no service_get)", name, out);
  if (rc == TSHOOT_OK && *out && found && v) json_object_set(*out, "status", v);  /* started or stopped in this dry run */
  return rc;
}

int ts_host_service_control(ts_hctx *c, const char *name, const char *action)
{
  rec r;
  json_t *st = NULL, *before = NULL, *after = NULL;
  const char *old, *op = strcmp(action, "start") == 0 ? "service.start" : "service.stop";
  const char *status = strcmp(action, "start") == 0 ? "running" : "stopped";
  int rc, called = 0;
  memset(&r, 0, sizeof r);
  r.kind = REC_SERVICE;
  rc = ts_host_service_get(c, name, &st);
  if (rc == TSHOOT_OK && !st) rc = failf(c, TSHOOT_ENOTFOUND, "service.%s: there is no service %s", action, name);
  if (rc != TSHOOT_OK) { if (st) json_decref(st); return rc; }
  old = json_string_value(json_object_get(st, "status"));
  before = json_object();
  after = json_object();
  r.service = ts_strdup(name);
  r.old_status = old ? ts_strdup(old) : NULL;
  if (!before || !after || !r.service || (old && !r.old_status) ||
      json_object_set_new(before, "status", old ? json_string(old) : json_null()) < 0 ||
      json_object_set_new(after, "status", json_string(status)) < 0) {
    rec_free(&r);
    rc = failf(c, TSHOOT_ENOMEM, "out of memory");
  } else {
    rc = journal_prepare(c, &r, op, name, before, after);
  }
  if (rc == TSHOOT_OK) {
    if (c->dry) {
      rc = overlay_add(c, "svc", name, NULL, json_object_get(after, "status"));
    } else if (!c->h->ops.service_control) {
      rc = ts_host_missing_op(c, "control services (no service_control)");
    } else {
      called = 1;
      rc = c->h->ops.service_control(c->h->ops.payload, name, action);
      if (rc != TSHOOT_OK) rc = ts_host_failed(c, rc, op);
    }
    rc = journal_done(c, &r, rc, called);
  }
  json_decref(st);
  if (before) json_decref(before);
  if (after) json_decref(after);
  return rc;
}

/* --- rollback --- */

/* Undo one change; *wrote counts the writes. `diff`: read first and write
** only what differs from the state the record holds, so that a change that
** never took effect costs nothing (for a call that failed); else write the
** whole recorded state back, as a rollback does (a move is only moved back
** when the file is not where it was). */
static int undo_rec(ts_hctx *c, const rec *r, int diff, int *wrote)
{
  tshoot_host *h = c->h;
  json_t *now = NULL, *other = NULL;
  int rc = TSHOOT_OK, exists;
  switch (r->kind) {
  case REC_REG_SET:
  case REC_REG_DELETE_VALUE:
    if (r->undo_key) {            /* a set that made keys: delete the topmost */
      exists = 1;
      if (diff) rc = key_exists(c, r->undo_key, &exists);
      if (rc == TSHOOT_OK && exists) { rc = call_reg_delete(c, r->undo_key, NULL); (*wrote)++; }
      break;
    }
    /* the value as it was, or none */
    if (diff) rc = ts_host_reg_get(c, r->key, r->name, &now);
    if (rc == TSHOOT_OK && !(diff && (now ? r->old && json_equal(now, r->old) : !r->old))) {
      rc = r->old ? call_reg_set(c, r->key, r->name, r->old) : call_reg_delete(c, r->key, r->name);
      (*wrote)++;
    }
    break;
  case REC_REG_DELETE_KEY:
    rc = restore_key(c, r->key, r->old, diff, wrote);
    break;
  case REC_FILE_MOVE:
  case REC_FILE_REMOVE:
    /* moved back unless the file is where it was and not where it went */
    rc = ts_host_file_stat(c, r->to, &now);
    if (rc == TSHOOT_OK && !now) rc = ts_host_file_stat(c, r->from, &other);
    if (rc == TSHOOT_OK && !(other && !now)) {
      rc = h->ops.file_move ? h->ops.file_move(h->ops.payload, r->to, r->from) : TSHOOT_EINVALID;
      if (rc != TSHOOT_OK) rc = ts_host_failed(c, rc, "file.move (undo)");
      (*wrote)++;
    }
    break;
  case REC_SERVICE:
    if (r->old_status && h->ops.service_control) {
      const char *st;
      if (diff) rc = ts_host_service_get(c, r->service, &now);
      st = now ? json_string_value(json_object_get(now, "status")) : NULL;
      if (rc == TSHOOT_OK && !(diff && st && strcmp(st, r->old_status) == 0)) {
        rc = h->ops.service_control(h->ops.payload, r->service,
                                    strcmp(r->old_status, "running") == 0 ? "start" : "stop");
        if (rc != TSHOOT_OK) rc = ts_host_failed(c, rc, "service control (undo)");
        (*wrote)++;
      }
    }
    break;
  }
  if (now) json_decref(now);
  if (other) json_decref(other);
  return rc;
}

/* Undo the changes of h's journal from index `from` on, newest first. Every
** change is tried even if one fails; the first failure is reported. */
int ts_host_rollback(ts_hctx *c, size_t from)
{
  tshoot_host *h = c->h;
  size_t i;
  int first = TSHOOT_OK;
  char first_err[sizeof c->err] = "";
  int pass;
  /* A second pass tries again what the first could not undo (a host busy for
  ** a moment, memory short for a moment): an undo writes the recorded state,
  ** so writing it twice is safe. */
  for (pass = 0; pass < 2; pass++) {
    first = TSHOOT_OK;
    for (i = h->n_journal; i-- > from;) {
      rec *r = &h->journal[i];
      int rc, wrote = 0;
      if (r->undone) continue;
      c->err[0] = '\0';
      rc = undo_rec(c, r, 0, &wrote);
      if (rc == TSHOOT_OK) r->undone = 1;
      else if (first == TSHOOT_OK) {
        first = rc;
        snprintf(first_err, sizeof first_err, "undoing %.40s %.200s: %.300s", r->op, r->target, c->err);
      }
    }
    if (first == TSHOOT_OK) break;
  }
  if (first != TSHOOT_OK) memcpy(c->err, first_err, sizeof c->err);
  return first;
}

/* ===== the journal as the runner takes it ===== */

size_t ts_host_journal_len(const tshoot_host *h)
{
  return h->n_journal;
}

static char *dup_or_null(const char *s) { return s ? ts_strdup(s) : NULL; }

void ts_host_changes_free(tshoot_change *v, size_t n)
{
  size_t i;
  for (i = 0; v && i < n; i++) {
    ts_free((char *)v[i].op); ts_free((char *)v[i].target); ts_free((char *)v[i].before);
    ts_free((char *)v[i].after); ts_free((char *)v[i].script); ts_free((char *)v[i].fix);
  }
  ts_free(v);
}

int ts_host_changes(tshoot_change **out, size_t *n_out, const tshoot_host *h, size_t from)
{
  size_t i, n = h->n_journal > from ? h->n_journal - from : 0;
  tshoot_change *v;
  *out = NULL;
  *n_out = 0;
  if (!n) return TSHOOT_OK;
  v = ts_calloc(n, sizeof *v);
  if (!v) return ts_error_oom();
  for (i = 0; i < n; i++) {
    const rec *r = &h->journal[from + i];
    tshoot_change *c = &v[i];
    c->op = dup_or_null(r->op);
    c->target = dup_or_null(r->target);
    c->before = dup_or_null(r->before);
    c->after = dup_or_null(r->after);
    c->script = dup_or_null(r->script);
    c->fix = dup_or_null(r->fix);
    c->undone = r->undone;
    if (!c->op || !c->target || !c->before || !c->after || (r->script && !c->script) || (r->fix && !c->fix)) {
      ts_host_changes_free(v, i + 1);
      return ts_error_oom();
    }
  }
  *out = v;
  *n_out = n;
  return TSHOOT_OK;
}

/* ===== a host for a plan ===== */

int ts_host_plan_copy(tshoot_host **out, int *dry, tshoot_host *h)
{
  int rc;
  *out = NULL;
  *dry = 0;
  if (h->impl.clone) {
    rc = h->impl.clone(h->impl.data, out);
    if (rc == TSHOOT_OK) (*out)->quarantine_seq = h->quarantine_seq;
  } else {
    rc = tshoot_host_new(out, &h->ops);
    *dry = 1;
  }
  return rc;
}
