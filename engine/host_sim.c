/*
** host_sim.c: the simulated host. A machine description (JSON, the format is
** in docs/scripts.md, "Machine descriptions") is parsed into a machine held in
** memory: system facts, a registry, files, processes, services, how the user
** answers confirmations, faults, and what the person at the machine does
** when asked to confirm (the steps of a fix that only guides: reinstalling,
** upgrading, asking IT). The callbacks of ts_sim_ops answer from it and change
** it; ts_sim_save writes it back in the same format.
**
** Names are compared as Windows does: registry keys, value names, paths and
** service names without regard to ASCII case, but kept and written with the
** case they were given. Each table (keys, a key's values, files, services) is
** an array kept sorted by the machine's own order: ASCII case folded, and the
** separator ('\\' in keys; '\\' or '/' in paths) below every other character,
** so that a key (or folder) is immediately followed by everything under it,
** subkey by subkey. Parent keys and folders are not stored: they exist while
** something exists under them ("implicitly").
**
** The saved form is canonical: members sorted, empty sections and defaults
** left out, and a key without values that has keys under it left out (it is
** implied). So saving a machine after a change and its exact undo gives the
** same text as saving it before, and load(save(x)) saves as save(x).
**
** The simulator reaches the rest of the engine only as a host backend
** (ts_host_new_impl: its free, and a clone that a plan runs against), like
** any other host. Why one file of more than 1,500 lines: the loader, the
** saver and the callbacks share the machine's private structures and its name
** rules (the sections below); the loading sections are the first candidate
** to move out, behind a private header, when the file grows further.
*/
#include "tshoot_int.h"
#include "host_sim.h"
#include "tsjson.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define SIM_MAX_INPUT (16u * 1024 * 1024)
#define SIM_MAX_DEPTH 16          /* nesting of the description (it needs 7) */
#define SIM_MAX_NAME 32767        /* bytes in a key, path, value or service name */
#define SIM_QUARANTINE "C:\\ProgramData\\tshoot\\quarantine"

/* How names of a kind compare. */
enum { K_NAME = 0, K_KEY = 1, K_PATH = 2 };

typedef struct reg_value {
  char *name;                 /* first: see PATH_AT */
  int is_int;
  long long i;
  char *s;
  size_t order;               /* place in the description (for messages) */
} reg_value;

typedef struct reg_key {
  char *path;
  reg_value *v;
  size_t nv, capv;
  size_t order;
} reg_key;

enum { F_SIZE = 1, F_MTIME = 2, F_SIG = 4, F_SIGNED = 8, F_VALID = 16 };

typedef struct sim_file {
  char *path;
  unsigned has;               /* F_* */
  long long size, mtime;
  char *version, *sha256, *signer, *comment;
  int sig_signed, sig_valid;
  size_t order;
} sim_file;

enum { START_NONE = -1, START_AUTO, START_MANUAL, START_DISABLED };
static const char *const start_names[] = { "auto", "manual", "disabled" };

typedef struct sim_service {
  char *name;
  int running;
  int start;                  /* START_* */
  char *path, *comment;
  size_t order;
} sim_service;

/* A person's action: when a confirmation's text contains `when`, the
** changes of `does` are made (once) before it is answered. */
typedef struct sim_person {
  char *when, *comment;
  size_t *kmp;                /* `when`'s failure table, ASCII case folded */
  json_t *does;               /* validated: registry, files, services, system */
  int done;                   /* it acted (in this machine or before it was saved) */
} sim_person;

struct ts_sim {
  char *name;                 /* where it came from, for messages */
  char *machine, *description, *comment;
  json_t *system;             /* validated; NULL: none */
  json_t *processes;          /* validated array; NULL: none */
  reg_key *keys;
  size_t nkeys, capkeys;
  sim_file *files;
  size_t nfiles, capfiles;
  sim_service *svcs;
  size_t nsvcs, capsvcs;
  char **ignore;              /* faults.ignore_writes */
  size_t nignore;
  sim_person *person;
  size_t nperson;
  int confirm;
  int acting;                 /* a person is making changes: faults do not apply */
};

/* ===== comparing names ===== */

static int is_sep(char c, int kind)
{
  return (kind == K_KEY && c == '\\') || (kind == K_PATH && (c == '\\' || c == '/'));
}

static int fold(char c, int kind)
{
  unsigned char u = (unsigned char)c;
  if (is_sep(c, kind)) return 1;
  if (u >= 'A' && u <= 'Z') return u + ('a' - 'A');
  return u;
}

static int fcmp(const char *a, size_t an, const char *b, size_t bn, int kind)
{
  size_t i, n = an < bn ? an : bn;
  for (i = 0; i < n; i++) {
    int x = fold(a[i], kind), y = fold(b[i], kind);
    if (x != y) return x < y ? -1 : 1;
  }
  return an < bn ? -1 : an > bn;
}

/* The machine's order, then bytes: a total order for sorting. */
static int scmp(const char *a, const char *b, int kind)
{
  int c = fcmp(a, strlen(a), b, strlen(b), kind);
  return c ? c : strcmp(a, b);
}

/* s is p[0..pn), or is under it. */
static int under(const char *s, const char *p, size_t pn, int kind)
{
  size_t sn = strlen(s);
  if (sn < pn || fcmp(s, pn, p, pn, kind) != 0) return 0;
  return sn == pn || is_sep(s[pn], kind);
}

/* Every table's element starts with its name. */
#define PATH_AT(arr, size, i) (*(char *const *)(const void *)((const char *)(arr) + (i) * (size)))

static size_t lbound(const void *arr, size_t n, size_t size, const char *q, size_t qn, int kind)
{
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const char *p = PATH_AT(arr, size, mid);
    if (fcmp(p, strlen(p), q, qn, kind) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static long find_exact(const void *arr, size_t n, size_t size, const char *q, size_t qn, int kind)
{
  size_t i = lbound(arr, n, size, q, qn, kind);
  if (i < n) {
    const char *p = PATH_AT(arr, size, i);
    if (fcmp(p, strlen(p), q, qn, kind) == 0) return (long)i;
  }
  return -1;
}

static int cmp_key(const void *a, const void *b)
{
  return scmp(((const reg_key *)a)->path, ((const reg_key *)b)->path, K_KEY);
}
static int cmp_value(const void *a, const void *b)
{
  return scmp(((const reg_value *)a)->name, ((const reg_value *)b)->name, K_NAME);
}
static int cmp_file(const void *a, const void *b)
{
  return scmp(((const sim_file *)a)->path, ((const sim_file *)b)->path, K_PATH);
}
static int cmp_service(const void *a, const void *b)
{
  return scmp(((const sim_service *)a)->name, ((const sim_service *)b)->name, K_NAME);
}

/* ===== checking names ===== */

static int utf8_ok(const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s, *e = p + n;
  while (p < e) {
    unsigned c = *p++;
    size_t k, i;
    unsigned cp;
    if (c < 0x80) continue;
    if (c >= 0xC2 && c <= 0xDF) { k = 1; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { k = 2; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { k = 3; cp = c & 0x07; }
    else return 0;
    if ((size_t)(e - p) < k) return 0;
    for (i = 0; i < k; i++) {
      if ((p[i] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
    p += k;
  }
  return 1;
}

static int has_control(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) return 1;
  return 0;
}

static const char *const hives[] = { "HKLM", "HKCU", "HKCR", "HKU", "HKCC" };

/* What is wrong with a registry key, or NULL. */
static const char *key_problem(const char *k, size_t n, int allow_hive)
{
  size_t i, start = 0, h;
  int ok = 0;
  if (n == 0) return "an empty key";
  if (n > SIM_MAX_NAME) return "a key longer than 32767 bytes";
  if (!utf8_ok(k, n)) return "a key that is not valid UTF-8";
  if (has_control(k, n)) return "a control character in a key";
  for (i = 0; i < n && k[i] != '\\'; i++) {}
  for (h = 0; h < TS_ARRAY_LEN(hives); h++)
    if (strlen(hives[h]) == i && fcmp(k, i, hives[h], i, K_NAME) == 0) ok = 1;
  if (!ok) return "a key must start with a hive: HKLM, HKCU, HKCR, HKU or HKCC";
  if (i == n) return allow_hive ? NULL : "a key under a hive is needed (HKLM\\...), not the hive itself";
  for (i = 0; i <= n; i++) {
    if (i == n || k[i] == '\\') {
      if (i == start) return "an empty part in a key (a doubled or trailing backslash)";
      start = i + 1;
    }
  }
  return NULL;
}

static const char *path_problem(const char *p, size_t n)
{
  if (n == 0) return "an empty path";
  if (n > SIM_MAX_NAME) return "a path longer than 32767 bytes";
  if (!utf8_ok(p, n)) return "a path that is not valid UTF-8";
  if (has_control(p, n)) return "a control character in a path";
  return NULL;
}

static const char *name_problem(const char *s, size_t n)
{
  if (n > SIM_MAX_NAME) return "a value name longer than 32767 bytes";
  if (!utf8_ok(s, n)) return "a value name that is not valid UTF-8";
  if (strlen(s) != n) return "a NUL character in a value name";
  return NULL;
}

static const char *service_problem(const char *s, size_t n)
{
  if (n == 0) return "an empty service name";
  if (n > 256) return "a service name longer than 256 bytes";
  if (!utf8_ok(s, n)) return "a service name that is not valid UTF-8";
  if (has_control(s, n)) return "a control character in a service name";
  if (memchr(s, '\\', n) || memchr(s, '/', n)) return "a slash or backslash in a service name";
  return NULL;
}

static int is_hex64(const char *s)
{
  size_t i;
  for (i = 0; i < 64; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
      return 0;
  return s[64] == '\0';
}

/* Trailing separators off a path ("C:\\" is the folder "C:", "/" the root ""). */
static size_t path_trim(const char *p, size_t n)
{
  while (n > 0 && is_sep(p[n - 1], K_PATH)) n--;
  return n;
}

/* ===== freeing ===== */

static void key_clear(reg_key *k)
{
  size_t i;
  for (i = 0; i < k->nv; i++) { ts_free(k->v[i].name); ts_free(k->v[i].s); }
  ts_free(k->v);
  ts_free(k->path);
}

static void file_clear(sim_file *f)
{
  ts_free(f->path); ts_free(f->version); ts_free(f->sha256); ts_free(f->signer); ts_free(f->comment);
}

static void service_clear(sim_service *s)
{
  ts_free(s->name); ts_free(s->path); ts_free(s->comment);
}

void ts_sim_free(ts_sim *sim)
{
  size_t i;
  if (!sim) return;
  ts_free(sim->name);
  ts_free(sim->machine); ts_free(sim->description); ts_free(sim->comment);
  if (sim->system) json_decref(sim->system);
  if (sim->processes) json_decref(sim->processes);
  for (i = 0; i < sim->nkeys; i++) key_clear(&sim->keys[i]);
  ts_free(sim->keys);
  for (i = 0; i < sim->nfiles; i++) file_clear(&sim->files[i]);
  ts_free(sim->files);
  for (i = 0; i < sim->nsvcs; i++) service_clear(&sim->svcs[i]);
  ts_free(sim->svcs);
  for (i = 0; i < sim->nignore; i++) ts_free(sim->ignore[i]);
  ts_free(sim->ignore);
  for (i = 0; i < sim->nperson; i++) {
    ts_free(sim->person[i].when); ts_free(sim->person[i].comment); ts_free(sim->person[i].kmp);
    if (sim->person[i].does) json_decref(sim->person[i].does);
  }
  ts_free(sim->person);
  ts_free(sim);
}

/* ===== loading: where an error is ===== */

/* One step of a JSON path: a member (key) or an array element (index >= 0). */
typedef struct jstep {
  const char *key;
  size_t klen;
  long index;
} jstep;

typedef struct loader {
  const char *json;
  size_t len;
  const char *name;
  jstep path[SIM_MAX_DEPTH + 4];
  int depth;
} loader;

static void push_key(loader *L, const char *k, size_t kn)
{
  L->path[L->depth].key = k;
  L->path[L->depth].klen = kn;
  L->path[L->depth].index = -1;
  L->depth++;
}

static void push_index(loader *L, size_t i)
{
  L->path[L->depth].key = NULL;
  L->path[L->depth].klen = 0;
  L->path[L->depth].index = (long)i;
  L->depth++;
}

static void pop(loader *L) { L->depth--; }

static const char *skip_ws(const char *p, const char *e)
{
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

static const char *skip_str(const char *p, const char *e)
{
  p++;
  while (p < e && *p != '"') p += *p == '\\' ? 2 : 1;
  return p < e ? p + 1 : e;
}

static const char *skip_val(const char *p, const char *e)
{
  int depth = 0;
  if (p >= e) return e;
  if (*p == '"') return skip_str(p, e);
  if (*p != '{' && *p != '[') {
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
      p++;
    return p;
  }
  do {
    if (*p == '"') { p = skip_str(p, e); continue; }
    if (*p == '{' || *p == '[') depth++;
    else if (*p == '}' || *p == ']') depth--;
    p++;
  } while (p < e && depth > 0);
  return p;
}

static int hex4(const char *p, const char *e, unsigned *out)
{
  int i;
  unsigned v = 0;
  if (e - p < 4) return 0;
  for (i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static size_t utf8_put(unsigned cp, char *u)
{
  if (cp < 0x80) { u[0] = (char)cp; return 1; }
  if (cp < 0x800) { u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F)); return 3;
  }
  u[0] = (char)(0xF0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Does the JSON string at p (at its '"') decode to k[0..kn)? */
static int key_eq(const char *p, const char *e, const char *k, size_t kn)
{
  size_t i = 0;
  p++;
  while (p < e && *p != '"') {
    char u[4];
    size_t n = 1;
    if (*p != '\\') {
      u[0] = *p++;
    } else {
      p++;
      if (p >= e) return 0;
      switch (*p) {
      case 'b': u[0] = '\b'; break;
      case 'f': u[0] = '\f'; break;
      case 'n': u[0] = '\n'; break;
      case 'r': u[0] = '\r'; break;
      case 't': u[0] = '\t'; break;
      case 'u': {
        unsigned cp, lo;
        if (!hex4(p + 1, e, &cp)) return 0;
        p += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && e - p > 6 && p[1] == '\\' && p[2] == 'u' &&
            hex4(p + 3, e, &lo) && lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          p += 6;
        }
        n = utf8_put(cp, u);
        break;
      }
      default: u[0] = *p; break;
      }
      p++;
    }
    if (i + n > kn || memcmp(k + i, u, n) != 0) return 0;
    i += n;
  }
  return i == kn;
}

/* Where the loader's path is in the text: the value, or the member's name
** when at_key; NULL when it cannot be found. */
static const char *locate(const loader *L, int at_key)
{
  const char *p = L->json, *e = L->json + L->len;
  int k;
  p = skip_ws(p, e);
  for (k = 0; k < L->depth; k++) {
    const jstep *st = &L->path[k];
    if (p >= e) return NULL;
    if (st->index < 0) {
      if (*p != '{') return NULL;
      p = skip_ws(p + 1, e);
      for (;;) {
        const char *kp = p;
        int eq;
        if (p >= e || *p != '"') return NULL;
        eq = key_eq(p, e, st->key, st->klen);
        p = skip_ws(skip_str(p, e), e);
        if (p >= e || *p != ':') return NULL;
        p = skip_ws(p + 1, e);
        if (eq) {
          if (at_key && k == L->depth - 1) return kp;
          break;
        }
        p = skip_ws(skip_val(p, e), e);
        if (p < e && *p == ',') p = skip_ws(p + 1, e);
      }
    } else {
      long i;
      if (*p != '[') return NULL;
      p = skip_ws(p + 1, e);
      for (i = 0; i < st->index; i++) {
        p = skip_ws(skip_val(p, e), e);
        if (p >= e || *p != ',') return NULL;
        p = skip_ws(p + 1, e);
      }
    }
  }
  return p < e ? p : NULL;
}


static int is_ident(const char *k, size_t kn)
{
  size_t i;
  if (kn == 0 || (k[0] >= '0' && k[0] <= '9')) return 0;
  for (i = 0; i < kn; i++) {
    char c = k[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return 0;
  }
  return 1;
}

static void add_quoted(ts_buf *b, const char *s, size_t n)
{
  size_t i;
  ts_buf_addc(b, '"');
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') { ts_buf_addc(b, '\\'); ts_buf_addc(b, (char)c); }
    else if (c < 0x20) ts_buf_addf(b, "\\u%04x", c);
    else ts_buf_addc(b, (char)c);
  }
  ts_buf_addc(b, '"');
}

/* Refuse the description: "name:line:col" (as ts_error_at's file, line,
** column) and "json.path: what is wrong" as the message. */
static int bad(loader *L, int at_key, const char *fmt, ...) TS_PRINTF(3, 4);
static int bad(loader *L, int at_key, const char *fmt, ...)
{
  ts_buf b = TS_BUF_INIT;
  char msg[512];
  va_list ap;
  int i, line = 0, col = 0;
  const char *pos;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  for (i = 0; i < L->depth; i++) {
    const jstep *st = &L->path[i];
    if (st->index >= 0) { ts_buf_addf(&b, "[%ld]", st->index); continue; }
    if (i > 0) ts_buf_addc(&b, '.');
    if (is_ident(st->key, st->klen)) ts_buf_add(&b, st->key, st->klen);
    else add_quoted(&b, st->key, st->klen > 300 ? 300 : st->klen);
  }
  pos = locate(L, at_key);
  if (pos) ts_json_line_col(L->json, pos, &line, &col);
  if (b.oom) { ts_buf_free(&b); return ts_error_oom(); }
  if (b.len) ts_error_at(TSHOOT_EINVALID, L->name, line, col, "%s: %s", ts_buf_cstr(&b), msg);
  else ts_error_at(TSHOOT_EINVALID, L->name, line, col, "%s", msg);
  ts_buf_free(&b);
  return TSHOOT_EINVALID;
}

/* ===== loading: the sections ===== */

/* Refuse members not in allowed (NULL-terminated), pointing at the first. */
static int check_members(loader *L, json_t *obj, const char *const *allowed, const char *expected)
{
  const char *k = ts_json_unknown_key(obj, allowed);
  int rc;
  if (!k) return TSHOOT_OK;
  push_key(L, k, strlen(k));
  rc = bad(L, 1, "unknown member (expected %s)", expected);
  pop(L);
  return rc;
}

/* The member k of obj, with the path pushed when present. */
static json_t *member(loader *L, json_t *obj, const char *k)
{
  json_t *v = json_object_get(obj, k);
  if (v) push_key(L, k, strlen(k));
  return v;
}

static int load_string(loader *L, json_t *v, char **out)
{
  int has_nul;
  const char *t = ts_json_string(v, &has_nul);
  if (!t) return bad(L, 0, has_nul ? "a NUL character in a string" : "expected a string");
  *out = ts_strndup(t, json_string_length(v));
  return *out ? TSHOOT_OK : ts_error_oom();
}

/* An optional string member; *out stays NULL when absent. */
static int opt_string(loader *L, json_t *obj, const char *k, char **out)
{
  json_t *v = member(L, obj, k);
  int rc;
  if (!v) return TSHOOT_OK;
  rc = load_string(L, v, out);
  if (rc == TSHOOT_OK) pop(L);
  return rc;
}

static int check_string(loader *L, json_t *obj, const char *k)
{
  json_t *v = member(L, obj, k);
  if (!v) return TSHOOT_OK;
  if (!json_is_string(v)) return bad(L, 0, "expected a string");
  pop(L);
  return TSHOOT_OK;
}

static int check_int(loader *L, json_t *obj, const char *k, int nonneg)
{
  json_t *v = member(L, obj, k);
  if (!v) return TSHOOT_OK;
  if (!json_is_integer(v)) return bad(L, 0, "expected an integer");
  if (nonneg && json_integer_value(v) < 0) return bad(L, 0, "expected an integer >= 0");
  pop(L);
  return TSHOOT_OK;
}

static int check_bool(loader *L, json_t *obj, const char *k)
{
  json_t *v = member(L, obj, k);
  if (!v) return TSHOOT_OK;
  if (!json_is_boolean(v)) return bad(L, 0, "expected true or false");
  pop(L);
  return TSHOOT_OK;
}

/* Check system facts (the top-level "system", or a person's "does.system"). */
static int check_system(loader *L, json_t *sys)
{
  static const char *const sys_keys[] = { "os", "arch", "admin", "hostname", "user", NULL };
  static const char *const os_keys[] = { "name", "version", "build", "edition", NULL };
  json_t *os;
  int rc;
  if (!json_is_object(sys)) return bad(L, 0, "expected an object");
  if ((rc = check_members(L, sys, sys_keys, "os, arch, admin, hostname or user")) != TSHOOT_OK) return rc;
  if ((os = member(L, sys, "os")) != NULL) {
    if (!json_is_object(os)) return bad(L, 0, "expected an object");
    if ((rc = check_members(L, os, os_keys, "name, version, build or edition")) != TSHOOT_OK ||
        (rc = check_string(L, os, "name")) != TSHOOT_OK ||
        (rc = check_string(L, os, "version")) != TSHOOT_OK ||
        (rc = check_int(L, os, "build", 1)) != TSHOOT_OK ||
        (rc = check_string(L, os, "edition")) != TSHOOT_OK)
      return rc;
    pop(L);
  }
  if ((rc = check_string(L, sys, "arch")) != TSHOOT_OK ||
      (rc = check_bool(L, sys, "admin")) != TSHOOT_OK ||
      (rc = check_string(L, sys, "hostname")) != TSHOOT_OK ||
      (rc = check_string(L, sys, "user")) != TSHOOT_OK)
    return rc;
  return TSHOOT_OK;
}

static int load_system(loader *L, ts_sim *s, json_t *sys)
{
  int rc = check_system(L, sys);
  if (rc != TSHOOT_OK) return rc;
  s->system = json_incref(sys);
  return TSHOOT_OK;
}

static int load_registry(loader *L, ts_sim *s, json_t *reg)
{
  const char *k, *vn;
  size_t kn, vnn, i, j;
  json_t *kv, *vv;
  const char *why;
  if (!json_is_object(reg)) return bad(L, 0, "expected an object: key -> {value name: value}");
  json_object_foreach(reg, k, kv) {
    reg_key *rk;
    kn = strlen(k);
    push_key(L, k, kn);
    if ((why = key_problem(k, kn, 0)) != NULL) return bad(L, 1, "%s", why);
    if (!json_is_object(kv)) return bad(L, 0, "expected an object of values (strings and integers)");
    if (ts_grow((void **)&s->keys, &s->capkeys, s->nkeys + 1, sizeof *s->keys) < 0) return ts_error_oom();
    rk = &s->keys[s->nkeys];
    memset(rk, 0, sizeof *rk);
    rk->order = s->nkeys;
    rk->path = ts_strndup(k, kn);
    if (!rk->path) return ts_error_oom();
    s->nkeys++;
    json_object_foreach(kv, vn, vv) {
      reg_value *v;
      vnn = strlen(vn);
      push_key(L, vn, vnn);
      if ((why = name_problem(vn, vnn)) != NULL) return bad(L, 1, "%s", why);
      if (!json_is_string(vv) && !json_is_integer(vv))
        return bad(L, 0, "expected a string (REG_SZ) or an integer (REG_DWORD)");
      if (json_is_string(vv) && strlen(json_string_value(vv)) != json_string_length(vv))
        return bad(L, 0, "a NUL character in a string");
      if (ts_grow((void **)&rk->v, &rk->capv, rk->nv + 1, sizeof *rk->v) < 0) return ts_error_oom();
      v = &rk->v[rk->nv];
      memset(v, 0, sizeof *v);
      v->order = rk->nv;
      v->name = ts_strndup(vn, vnn);
      if (!v->name) return ts_error_oom();
      rk->nv++;
      if (json_is_integer(vv)) {
        v->is_int = 1;
        v->i = json_integer_value(vv);
      } else {
        v->s = ts_strndup(json_string_value(vv), json_string_length(vv));
        if (!v->s) return ts_error_oom();
      }
      pop(L);
    }
    if (rk->nv > 1) qsort(rk->v, rk->nv, sizeof *rk->v, cmp_value);
    for (j = 1; j < rk->nv; j++) {
      reg_value *a = &rk->v[j - 1], *b = &rk->v[j];
      if (fcmp(a->name, strlen(a->name), b->name, strlen(b->name), K_NAME) == 0) {
        reg_value *later = a->order > b->order ? a : b, *first = later == a ? b : a;
        push_key(L, later->name, strlen(later->name));
        return bad(L, 1, "the same value as \"%.200s\" (names are compared without regard to case)", first->name);
      }
    }
    pop(L);
  }
  if (s->nkeys > 1) qsort(s->keys, s->nkeys, sizeof *s->keys, cmp_key);
  for (i = 1; i < s->nkeys; i++) {
    reg_key *a = &s->keys[i - 1], *b = &s->keys[i];
    if (fcmp(a->path, strlen(a->path), b->path, strlen(b->path), K_KEY) == 0) {
      reg_key *later = a->order > b->order ? a : b, *first = later == a ? b : a;
      push_key(L, later->path, strlen(later->path));
      return bad(L, 1, "the same key as \"%.200s\" (keys are compared without regard to case)", first->path);
    }
  }
  return TSHOOT_OK;
}

static int load_file(loader *L, sim_file *f, json_t *o)
{
  static const char *const file_keys[] = { "size", "version", "sha256", "signature", "mtime", "comment", NULL };
  static const char *const sig_keys[] = { "signed", "signer", "valid", NULL };
  json_t *v;
  int rc;
  if (!json_is_object(o)) return bad(L, 0, "expected an object (size, version, sha256, signature, mtime)");
  if ((rc = check_members(L, o, file_keys, "size, version, sha256, signature, mtime or comment")) != TSHOOT_OK)
    return rc;
  if ((v = member(L, o, "size")) != NULL) {
    if (!json_is_integer(v) || json_integer_value(v) < 0) return bad(L, 0, "expected an integer >= 0");
    f->has |= F_SIZE;
    f->size = json_integer_value(v);
    pop(L);
  }
  if ((v = member(L, o, "mtime")) != NULL) {
    if (!json_is_integer(v)) return bad(L, 0, "expected an integer");
    f->has |= F_MTIME;
    f->mtime = json_integer_value(v);
    pop(L);
  }
  if ((rc = opt_string(L, o, "version", &f->version)) != TSHOOT_OK) return rc;
  if ((v = member(L, o, "sha256")) != NULL) {
    if ((rc = load_string(L, v, &f->sha256)) != TSHOOT_OK) return rc;
    if (!is_hex64(f->sha256)) return bad(L, 0, "expected 64 hexadecimal digits");
    pop(L);
  }
  if ((v = member(L, o, "signature")) != NULL) {
    json_t *b;
    if (!json_is_object(v)) return bad(L, 0, "expected an object (signed, signer, valid)");
    if ((rc = check_members(L, v, sig_keys, "signed, signer or valid")) != TSHOOT_OK) return rc;
    f->has |= F_SIG;
    if ((b = member(L, v, "signed")) != NULL) {
      if (!json_is_boolean(b)) return bad(L, 0, "expected true or false");
      f->has |= F_SIGNED;
      f->sig_signed = json_is_true(b);
      pop(L);
    }
    if ((b = member(L, v, "valid")) != NULL) {
      if (!json_is_boolean(b)) return bad(L, 0, "expected true or false");
      f->has |= F_VALID;
      f->sig_valid = json_is_true(b);
      pop(L);
    }
    if ((rc = opt_string(L, v, "signer", &f->signer)) != TSHOOT_OK) return rc;
    pop(L);
  }
  return opt_string(L, o, "comment", &f->comment);
}

static int load_files(loader *L, ts_sim *s, json_t *files)
{
  const char *k;
  size_t kn, i;
  json_t *v;
  const char *why;
  int rc;
  if (!json_is_object(files)) return bad(L, 0, "expected an object: path -> {size, version, ...}");
  json_object_foreach(files, k, v) {
    sim_file *f;
    kn = strlen(k);
    push_key(L, k, kn);
    if ((why = path_problem(k, kn)) != NULL) return bad(L, 1, "%s", why);
    if (path_trim(k, kn) != kn) return bad(L, 1, "a file's path cannot end with a separator");
    if (ts_grow((void **)&s->files, &s->capfiles, s->nfiles + 1, sizeof *s->files) < 0) return ts_error_oom();
    f = &s->files[s->nfiles];
    memset(f, 0, sizeof *f);
    f->order = s->nfiles;
    f->path = ts_strndup(k, kn);
    if (!f->path) return ts_error_oom();
    s->nfiles++;
    if ((rc = load_file(L, f, v)) != TSHOOT_OK) return rc;
    pop(L);
  }
  if (s->nfiles > 1) qsort(s->files, s->nfiles, sizeof *s->files, cmp_file);
  for (i = 1; i < s->nfiles; i++) {
    sim_file *a = &s->files[i - 1], *b = &s->files[i];
    size_t an = strlen(a->path);
    if (fcmp(a->path, an, b->path, strlen(b->path), K_PATH) == 0) {
      sim_file *later = a->order > b->order ? a : b, *first = later == a ? b : a;
      push_key(L, later->path, strlen(later->path));
      return bad(L, 1, "the same file as \"%.200s\" (paths are compared without regard to case)", first->path);
    }
    if (under(b->path, a->path, an, K_PATH)) {
      push_key(L, b->path, strlen(b->path));
      return bad(L, 1, "inside \"%.200s\", which is a file", a->path);
    }
  }
  return TSHOOT_OK;
}

static int load_processes(loader *L, ts_sim *s, json_t *procs)
{
  static const char *const proc_keys[] = { "pid", "name", "path", "modules", "comment", NULL };
  size_t i, j;
  int rc;
  if (!json_is_array(procs)) return bad(L, 0, "expected an array of processes");
  for (i = 0; i < json_array_size(procs); i++) {
    json_t *p = json_array_get(procs, i), *mods;
    push_index(L, i);
    if (!json_is_object(p)) return bad(L, 0, "expected an object (pid, name, path, modules)");
    if ((rc = check_members(L, p, proc_keys, "pid, name, path, modules or comment")) != TSHOOT_OK ||
        (rc = check_int(L, p, "pid", 1)) != TSHOOT_OK ||
        (rc = check_string(L, p, "name")) != TSHOOT_OK ||
        (rc = check_string(L, p, "path")) != TSHOOT_OK ||
        (rc = check_string(L, p, "comment")) != TSHOOT_OK)
      return rc;
    if ((mods = member(L, p, "modules")) != NULL) {
      if (!json_is_array(mods)) return bad(L, 0, "expected an array of paths");
      for (j = 0; j < json_array_size(mods); j++) {
        push_index(L, j);
        if (!json_is_string(json_array_get(mods, j))) return bad(L, 0, "expected a string");
        pop(L);
      }
      pop(L);
    }
    pop(L);
  }
  s->processes = json_incref(procs);
  return TSHOOT_OK;
}

/* A service's state (all but its name) from o. */
static int load_service(loader *L, sim_service *sv, json_t *o)
{
  static const char *const svc_keys[] = { "status", "start", "path", "comment", NULL };
  const char *st;
  json_t *v;
  size_t i;
  int rc;
  sv->start = START_NONE;
  if (!json_is_object(o)) return bad(L, 0, "expected an object (status, start, path)");
  if ((rc = check_members(L, o, svc_keys, "status, start, path or comment")) != TSHOOT_OK) return rc;
  v = json_object_get(o, "status");
  if (!v) return bad(L, 0, "a service needs a \"status\": \"running\" or \"stopped\"");
  push_key(L, "status", 6);
  st = json_string_value(v);
  if (!st || (strcmp(st, "running") != 0 && strcmp(st, "stopped") != 0))
    return bad(L, 0, "expected \"running\" or \"stopped\"");
  sv->running = strcmp(st, "running") == 0;
  pop(L);
  if ((v = member(L, o, "start")) != NULL) {
    st = json_string_value(v);
    for (i = 0; st && i < TS_ARRAY_LEN(start_names); i++)
      if (strcmp(st, start_names[i]) == 0) sv->start = (int)i;
    if (sv->start == START_NONE) return bad(L, 0, "expected \"auto\", \"manual\" or \"disabled\"");
    pop(L);
  }
  if ((rc = opt_string(L, o, "path", &sv->path)) != TSHOOT_OK ||
      (rc = opt_string(L, o, "comment", &sv->comment)) != TSHOOT_OK)
    return rc;
  return TSHOOT_OK;
}

static int load_services(loader *L, ts_sim *s, json_t *svcs)
{
  const char *k, *why;
  size_t kn, i;
  json_t *o;
  int rc;
  if (!json_is_object(svcs)) return bad(L, 0, "expected an object: name -> {status, start, path}");
  json_object_foreach(svcs, k, o) {
    sim_service *sv;
    kn = strlen(k);
    push_key(L, k, kn);
    if ((why = service_problem(k, kn)) != NULL) return bad(L, 1, "%s", why);
    if (ts_grow((void **)&s->svcs, &s->capsvcs, s->nsvcs + 1, sizeof *s->svcs) < 0) return ts_error_oom();
    sv = &s->svcs[s->nsvcs];
    memset(sv, 0, sizeof *sv);
    sv->order = s->nsvcs;
    sv->start = START_NONE;
    sv->name = ts_strndup(k, kn);
    if (!sv->name) return ts_error_oom();
    s->nsvcs++;
    if ((rc = load_service(L, sv, o)) != TSHOOT_OK) return rc;
    pop(L);
  }
  if (s->nsvcs > 1) qsort(s->svcs, s->nsvcs, sizeof *s->svcs, cmp_service);
  for (i = 1; i < s->nsvcs; i++) {
    sim_service *a = &s->svcs[i - 1], *b = &s->svcs[i];
    if (fcmp(a->name, strlen(a->name), b->name, strlen(b->name), K_NAME) == 0) {
      sim_service *later = a->order > b->order ? a : b, *first = later == a ? b : a;
      push_key(L, later->name, strlen(later->name));
      return bad(L, 1, "the same service as \"%.200s\" (names are compared without regard to case)", first->name);
    }
  }
  return TSHOOT_OK;
}

static int load_ui(loader *L, ts_sim *s, json_t *ui)
{
  static const char *const ui_keys[] = { "confirm", NULL };
  json_t *v;
  int rc;
  if (!json_is_object(ui)) return bad(L, 0, "expected an object");
  if ((rc = check_members(L, ui, ui_keys, "confirm")) != TSHOOT_OK) return rc;
  if ((v = member(L, ui, "confirm")) != NULL) {
    if (!json_is_boolean(v)) return bad(L, 0, "expected true or false");
    s->confirm = json_is_true(v);
    pop(L);
  }
  return TSHOOT_OK;
}

static int load_faults(loader *L, ts_sim *s, json_t *faults)
{
  static const char *const fault_keys[] = { "ignore_writes", NULL };
  json_t *arr;
  size_t i;
  int rc;
  if (!json_is_object(faults)) return bad(L, 0, "expected an object");
  if ((rc = check_members(L, faults, fault_keys, "ignore_writes")) != TSHOOT_OK) return rc;
  if ((arr = member(L, faults, "ignore_writes")) != NULL) {
    if (!json_is_array(arr)) return bad(L, 0, "expected an array of key or path prefixes");
    s->ignore = ts_calloc(json_array_size(arr) + 1, sizeof *s->ignore);
    if (!s->ignore) return ts_error_oom();
    for (i = 0; i < json_array_size(arr); i++) {
      json_t *v = json_array_get(arr, i);
      push_index(L, i);
      if (!json_is_string(v) || json_string_length(v) == 0) return bad(L, 0, "expected a key or path (a non-empty string)");
      if ((rc = load_string(L, v, &s->ignore[s->nignore])) != TSHOOT_OK) return rc;
      s->nignore++;
      pop(L);
    }
    pop(L);
  }
  return TSHOOT_OK;
}

/* ===== loading: the person ===== */

/* A member of an object, to find names that differ only in case. */
typedef struct dname {
  const char *name;           /* first: see PATH_AT */
  json_t *v;
  size_t order;
} dname;

static int cmp_dname_key(const void *a, const void *b)
{
  return scmp(((const dname *)a)->name, ((const dname *)b)->name, K_KEY);
}
static int cmp_dname_path(const void *a, const void *b)
{
  return scmp(((const dname *)a)->name, ((const dname *)b)->name, K_PATH);
}
static int cmp_dname_name(const void *a, const void *b)
{
  return scmp(((const dname *)a)->name, ((const dname *)b)->name, K_NAME);
}

/* obj's members in the machine's order (ts_free), or NULL when out of memory. */
static dname *members_sorted(json_t *obj, int kind, size_t *n)
{
  size_t cnt = json_object_size(obj), i = 0;
  const char *k;
  json_t *v;
  dname *d = ts_calloc(cnt ? cnt : 1, sizeof *d);
  if (!d) return NULL;
  json_object_foreach(obj, k, v) {
    d[i].name = k;
    d[i].v = v;
    d[i].order = i;
    i++;
  }
  qsort(d, cnt, sizeof *d, kind == K_KEY ? cmp_dname_key : kind == K_PATH ? cmp_dname_path : cmp_dname_name);
  *n = cnt;
  return d;
}

/* Refuse two members of sorted d that are the same `what` (in a kind where
** `plural` are compared without regard to case). */
static int refuse_same(loader *L, const dname *d, size_t n, int kind, const char *what, const char *plural)
{
  size_t i;
  for (i = 1; i < n; i++) {
    const dname *a = &d[i - 1], *b = &d[i];
    if (fcmp(a->name, strlen(a->name), b->name, strlen(b->name), kind) == 0) {
      const dname *later = a->order > b->order ? a : b, *first = later == a ? b : a;
      push_key(L, later->name, strlen(later->name));
      return bad(L, 1, "the same %s as \"%.200s\" (%s are compared without regard to case)", what, first->name, plural);
    }
  }
  return TSHOOT_OK;
}

/* does.registry: key -> {name: value or null} or null. */
static int check_does_registry(loader *L, json_t *reg)
{
  const char *k, *vn, *why;
  json_t *kv, *vv;
  dname *d;
  size_t n;
  int rc;
  if (!json_is_object(reg))
    return bad(L, 0, "expected an object: key -> {value name: value or null}, or null to delete the key");
  json_object_foreach(reg, k, kv) {
    push_key(L, k, strlen(k));
    if ((why = key_problem(k, strlen(k), 0)) != NULL) return bad(L, 1, "%s", why);
    if (!json_is_null(kv)) {
      if (!json_is_object(kv))
        return bad(L, 0, "expected an object of values (strings, integers, null to delete one), or null to delete the key");
      json_object_foreach(kv, vn, vv) {
        push_key(L, vn, strlen(vn));
        if ((why = name_problem(vn, strlen(vn))) != NULL) return bad(L, 1, "%s", why);
        if (!json_is_string(vv) && !json_is_integer(vv) && !json_is_null(vv))
          return bad(L, 0, "expected a string (REG_SZ), an integer (REG_DWORD) or null (to delete the value)");
        if (json_is_string(vv) && strlen(json_string_value(vv)) != json_string_length(vv))
          return bad(L, 0, "a NUL character in a string");
        pop(L);
      }
      if (!(d = members_sorted(kv, K_NAME, &n))) return ts_error_oom();
      rc = refuse_same(L, d, n, K_NAME, "value", "names");
      ts_free(d);
      if (rc != TSHOOT_OK) return rc;
    }
    pop(L);
  }
  if (!(d = members_sorted(reg, K_KEY, &n))) return ts_error_oom();
  rc = refuse_same(L, d, n, K_KEY, "key", "keys");
  ts_free(d);
  return rc;
}

/* does.files: path -> file or null. */
static int check_does_files(loader *L, json_t *files)
{
  const char *k, *why;
  json_t *v;
  dname *d;
  size_t n, i, j;
  int rc;
  if (!json_is_object(files)) return bad(L, 0, "expected an object: path -> {size, version, ...}, or null to remove it");
  json_object_foreach(files, k, v) {
    size_t kn = strlen(k);
    push_key(L, k, kn);
    if ((why = path_problem(k, kn)) != NULL) return bad(L, 1, "%s", why);
    if (path_trim(k, kn) != kn) return bad(L, 1, "a path cannot end with a separator");
    if (!json_is_null(v)) {
      sim_file f;
      if (!json_is_object(v))
        return bad(L, 0, "expected an object (size, version, sha256, signature, mtime), or null to remove the file or folder");
      memset(&f, 0, sizeof f);
      rc = load_file(L, &f, v);
      file_clear(&f);
      if (rc != TSHOOT_OK) return rc;
    }
    pop(L);
  }
  if (!(d = members_sorted(files, K_PATH, &n))) return ts_error_oom();
  rc = refuse_same(L, d, n, K_PATH, "file", "paths");
  /* a file made inside a file made: everything under a path follows it */
  for (i = 0; i < n && rc == TSHOOT_OK; i++) {
    size_t an = strlen(d[i].name);
    if (json_is_null(d[i].v)) continue;
    for (j = i + 1; j < n && under(d[j].name, d[i].name, an, K_PATH); j++) {
      if (json_is_null(d[j].v)) continue;
      push_key(L, d[j].name, strlen(d[j].name));
      rc = bad(L, 1, "inside \"%.200s\", which is a file", d[i].name);
      break;
    }
  }
  ts_free(d);
  return rc;
}

/* does.services: name -> service or null. */
static int check_does_services(loader *L, json_t *svcs)
{
  const char *k, *why;
  json_t *v;
  dname *d;
  size_t n;
  int rc;
  if (!json_is_object(svcs)) return bad(L, 0, "expected an object: name -> {status, start, path}, or null to remove it");
  json_object_foreach(svcs, k, v) {
    push_key(L, k, strlen(k));
    if ((why = service_problem(k, strlen(k))) != NULL) return bad(L, 1, "%s", why);
    if (!json_is_null(v)) {
      sim_service sv;
      if (!json_is_object(v)) return bad(L, 0, "expected an object (status, start, path), or null to remove the service");
      memset(&sv, 0, sizeof sv);
      rc = load_service(L, &sv, v);
      service_clear(&sv);
      if (rc != TSHOOT_OK) return rc;
    }
    pop(L);
  }
  if (!(d = members_sorted(svcs, K_NAME, &n))) return ts_error_oom();
  rc = refuse_same(L, d, n, K_NAME, "service", "names");
  ts_free(d);
  return rc;
}

static int check_does(loader *L, json_t *does)
{
  static const char *const does_keys[] = { "registry", "files", "services", "system", NULL };
  json_t *v;
  int rc;
  if (!json_is_object(does)) return bad(L, 0, "expected an object (registry, files, services, system)");
  if ((rc = check_members(L, does, does_keys, "registry, files, services or system")) != TSHOOT_OK) return rc;
#define PART(name, fn) \
  if ((v = member(L, does, name)) != NULL) { \
    if ((rc = fn(L, v)) != TSHOOT_OK) return rc; \
    pop(L); \
  }
  PART("registry", check_does_registry)
  PART("files", check_does_files)
  PART("services", check_does_services)
  PART("system", check_system)
#undef PART
  return TSHOOT_OK;
}

/* The failure table of w[0..n) (n > 0) for a search without regard to ASCII case. */
static size_t *kmp_table(const char *w, size_t n)
{
  size_t *t = ts_calloc(n, sizeof *t), i, k = 0;
  if (!t) return NULL;
  for (i = 1; i < n; i++) {
    while (k > 0 && fold(w[i], K_NAME) != fold(w[k], K_NAME)) k = t[k - 1];
    if (fold(w[i], K_NAME) == fold(w[k], K_NAME)) k++;
    t[i] = k;
  }
  return t;
}

/* text contains w (ASCII case folded), in time linear in the text. */
static int kmp_find(const char *text, const char *w, const size_t *t)
{
  size_t k = 0, n = strlen(w);
  for (; *text; text++) {
    while (k > 0 && fold(*text, K_NAME) != fold(w[k], K_NAME)) k = t[k - 1];
    if (fold(*text, K_NAME) == fold(w[k], K_NAME) && ++k == n) return 1;
  }
  return 0;
}

static int load_person(loader *L, ts_sim *s, json_t *arr)
{
  static const char *const person_keys[] = { "when", "does", "done", "comment", NULL };
  size_t i, n;
  int rc;
  if (!json_is_array(arr)) return bad(L, 0, "expected an array of actions {\"when\": TEXT, \"does\": {...}}");
  n = json_array_size(arr);
  s->person = ts_calloc(n ? n : 1, sizeof *s->person);
  if (!s->person) return ts_error_oom();
  for (i = 0; i < n; i++) {
    json_t *e = json_array_get(arr, i), *v;
    sim_person *p = &s->person[i];
    push_index(L, i);
    if (!json_is_object(e)) return bad(L, 0, "expected an object (when, does, done, comment)");
    if ((rc = check_members(L, e, person_keys, "when, does, done or comment")) != TSHOOT_OK) return rc;
    s->nperson++;
    if (!(v = json_object_get(e, "when")))
      return bad(L, 0, "an action needs \"when\": a text that the confirmation it answers contains");
    push_key(L, "when", 4);
    if ((rc = load_string(L, v, &p->when)) != TSHOOT_OK) return rc;
    if (!*p->when) return bad(L, 0, "expected a non-empty text");
    if (!(p->kmp = kmp_table(p->when, strlen(p->when)))) return ts_error_oom();
    pop(L);
    if (!(v = json_object_get(e, "does"))) return bad(L, 0, "an action needs \"does\": what the person changes");
    push_key(L, "does", 4);
    if ((rc = check_does(L, v)) != TSHOOT_OK) return rc;
    p->does = json_incref(v);
    pop(L);
    if ((v = member(L, e, "done")) != NULL) {
      if (!json_is_boolean(v)) return bad(L, 0, "expected true or false");
      p->done = json_is_true(v);
      pop(L);
    }
    if ((rc = opt_string(L, e, "comment", &p->comment)) != TSHOOT_OK) return rc;
    pop(L);
  }
  return TSHOOT_OK;
}

static int load_top(loader *L, ts_sim *s, json_t *root)
{
  static const char *const top_keys[] = { "machine", "description", "comment", "system", "registry", "files",
                                          "processes", "services", "ui", "faults", "person", NULL };
  json_t *v;
  int rc;
  if ((rc = check_members(L, root, top_keys, "machine, description, comment, system, registry, files, "
                          "processes, services, ui, faults or person")) != TSHOOT_OK)
    return rc;
  if ((rc = opt_string(L, root, "machine", &s->machine)) != TSHOOT_OK ||
      (rc = opt_string(L, root, "description", &s->description)) != TSHOOT_OK ||
      (rc = opt_string(L, root, "comment", &s->comment)) != TSHOOT_OK)
    return rc;
#define SECTION(name, fn) \
  if ((v = member(L, root, name)) != NULL) { \
    if ((rc = fn(L, s, v)) != TSHOOT_OK) return rc; \
    pop(L); \
  }
  SECTION("system", load_system)
  SECTION("registry", load_registry)
  SECTION("files", load_files)
  SECTION("processes", load_processes)
  SECTION("services", load_services)
  SECTION("ui", load_ui)
  SECTION("faults", load_faults)
  SECTION("person", load_person)
#undef SECTION
  return TSHOOT_OK;
}

int ts_sim_new(ts_sim **out, const char *json, size_t len, const char *name)
{
  json_error_t jerr;
  json_t *root;
  ts_sim *s;
  loader L;
  const char *deep;
  int rc, line, col;

  TS_CHECK_ARG(out && json);
  *out = NULL;
  if (!name) name = "machine";
  if (len > SIM_MAX_INPUT)
    return ts_error_at(TSHOOT_EINVALID, name, 0, 0, "a machine description larger than 16 MiB is refused");
  if ((deep = ts_json_too_deep(json, len, SIM_MAX_DEPTH)) != NULL) {
    ts_json_line_col(json, deep, &line, &col);
    return ts_error_at(TSHOOT_EINVALID, name, line, col, "nested deeper than %d", SIM_MAX_DEPTH);
  }
  root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) return ts_error_at(TSHOOT_EINVALID, name, jerr.line, jerr.column, "not valid JSON: %s", jerr.text);
  memset(&L, 0, sizeof L);
  L.json = json;
  L.len = len;
  L.name = name;
  if (!json_is_object(root)) {
    json_decref(root);
    return bad(&L, 0, "a machine description is a JSON object");
  }
  s = ts_calloc(1, sizeof *s);
  if (!s) { json_decref(root); return ts_error_oom(); }
  s->confirm = 1;
  s->name = ts_strdup(name);
  rc = s->name ? load_top(&L, s, root) : ts_error_oom();
  json_decref(root);
  if (rc != TSHOOT_OK) { ts_sim_free(s); return rc; }
  *out = s;
  return TSHOOT_OK;
}

void ts_sim_set_confirm(ts_sim *sim, int yes)
{
  if (sim) sim->confirm = yes != 0;
}

/* ===== JSON out ===== */

static int dump_cb(const char *buf, size_t size, void *data)
{
  ts_buf *b = data;
  ts_buf_add(b, buf, size);
  return b->oom ? -1 : 0;
}

/* Set o[k] = v (v's reference is taken); non-zero on failure. */
static int jset(json_t *o, const char *k, json_t *v)
{
  if (!o || !v) { if (v) json_decref(v); return 1; }
  return json_object_set_new(o, k, v) != 0;
}

static int jpush(json_t *a, json_t *v)
{
  if (!a || !v) { if (v) json_decref(v); return 1; }
  return json_array_append_new(a, v) != 0;
}

static json_t *file_json(const sim_file *f, int with_comment)
{
  json_t *o = json_object();
  int err = !o;
  if (f->has & F_SIZE) err |= jset(o, "size", json_integer(f->size));
  if (f->version) err |= jset(o, "version", json_string(f->version));
  if (f->sha256) err |= jset(o, "sha256", json_string(f->sha256));
  if (f->has & F_SIG) {
    json_t *sig = json_object();
    err |= !sig;
    if (f->has & F_SIGNED) err |= jset(sig, "signed", json_boolean(f->sig_signed));
    if (f->signer) err |= jset(sig, "signer", json_string(f->signer));
    if (f->has & F_VALID) err |= jset(sig, "valid", json_boolean(f->sig_valid));
    err |= jset(o, "signature", sig);
  }
  if (f->has & F_MTIME) err |= jset(o, "mtime", json_integer(f->mtime));
  if (with_comment && f->comment) err |= jset(o, "comment", json_string(f->comment));
  if (err) { if (o) json_decref(o); return NULL; }
  return o;
}

static json_t *service_json(const sim_service *sv, int with_comment)
{
  json_t *o = json_object();
  int err = !o;
  err |= jset(o, "status", json_string(sv->running ? "running" : "stopped"));
  if (sv->start != START_NONE) err |= jset(o, "start", json_string(start_names[sv->start]));
  if (sv->path) err |= jset(o, "path", json_string(sv->path));
  if (with_comment && sv->comment) err |= jset(o, "comment", json_string(sv->comment));
  if (err) { if (o) json_decref(o); return NULL; }
  return o;
}

static json_t *value_json(const reg_value *v)
{
  return v->is_int ? json_integer(v->i) : json_string(v->s);
}

static json_t *values_json(const reg_key *k)
{
  json_t *o = json_object();
  size_t i;
  int err = !o;
  for (i = 0; k && i < k->nv && !err; i++) err |= jset(o, k->v[i].name, value_json(&k->v[i]));
  if (err) { if (o) json_decref(o); return NULL; }
  return o;
}

int ts_sim_save(char **out, const ts_sim *sim)
{
  json_t *root, *sec;
  ts_buf b = TS_BUF_INIT;
  size_t i;
  int err;

  TS_CHECK_ARG(out && sim);
  *out = NULL;
  root = json_object();
  err = !root;
  if (sim->machine) err |= jset(root, "machine", json_string(sim->machine));
  if (sim->description) err |= jset(root, "description", json_string(sim->description));
  if (sim->comment) err |= jset(root, "comment", json_string(sim->comment));
  if (sim->system && json_object_size(sim->system))
    err |= jset(root, "system", json_deep_copy(sim->system));
  if (sim->nkeys) {
    sec = json_object();
    err |= !sec;
    for (i = 0; i < sim->nkeys && !err; i++) {
      const reg_key *k = &sim->keys[i];
      /* a key without values with keys under it is implied by them */
      if (k->nv == 0 && i + 1 < sim->nkeys && under(sim->keys[i + 1].path, k->path, strlen(k->path), K_KEY))
        continue;
      err |= jset(sec, k->path, values_json(k));
    }
    err |= jset(root, "registry", sec);
  }
  if (sim->nfiles) {
    sec = json_object();
    err |= !sec;
    for (i = 0; i < sim->nfiles && !err; i++) err |= jset(sec, sim->files[i].path, file_json(&sim->files[i], 1));
    err |= jset(root, "files", sec);
  }
  if (sim->processes && json_array_size(sim->processes))
    err |= jset(root, "processes", json_deep_copy(sim->processes));
  if (sim->nsvcs) {
    sec = json_object();
    err |= !sec;
    for (i = 0; i < sim->nsvcs && !err; i++) err |= jset(sec, sim->svcs[i].name, service_json(&sim->svcs[i], 1));
    err |= jset(root, "services", sec);
  }
  if (!sim->confirm) {
    sec = json_object();
    err |= jset(sec, "confirm", json_false());
    err |= jset(root, "ui", sec);
  }
  if (sim->nignore) {
    json_t *arr = json_array();
    sec = json_object();
    for (i = 0; i < sim->nignore; i++) err |= jpush(arr, json_string(sim->ignore[i]));
    err |= jset(sec, "ignore_writes", arr);
    err |= jset(root, "faults", sec);
  }
  if (sim->nperson) {
    json_t *arr = json_array();
    for (i = 0; i < sim->nperson; i++) {
      const sim_person *p = &sim->person[i];
      json_t *o = json_object();
      err |= jset(o, "when", json_string(p->when));
      err |= jset(o, "does", json_deep_copy(p->does));
      if (p->comment) err |= jset(o, "comment", json_string(p->comment));
      if (p->done) err |= jset(o, "done", json_true());
      err |= jpush(arr, o);
    }
    err |= jset(root, "person", arr);
  }
  if (!err) err = json_dump_callback(root, dump_cb, &b, JSON_INDENT(2) | JSON_SORT_KEYS) != 0;
  if (root) json_decref(root);
  ts_buf_addc(&b, '\n');
  if (err || b.oom) { ts_buf_free(&b); return ts_error_oom(); }
  *out = ts_buf_detach(&b);
  return *out ? TSHOOT_OK : ts_error_oom();
}

/* ===== the callbacks ===== */

/* A callback failed: tell the reply (when there is one) and the thread. */
static int fail(tshoot_reply *out, int code, const char *fmt, ...) TS_PRINTF(3, 4);
static int fail(tshoot_reply *out, int code, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (out) tshoot_reply_error(out, msg);
  return ts_error(code, "%s", msg);
}

static int reply_json(tshoot_reply *out, json_t *v, const char *op)
{
  ts_buf b = TS_BUF_INIT;
  int rc;
  if (!v) return fail(out, TSHOOT_ENOMEM, "%s: out of memory", op);
  if (json_dump_callback(v, dump_cb, &b, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) != 0 || !ts_buf_cstr(&b)) {
    json_decref(v);
    ts_buf_free(&b);
    return fail(out, TSHOOT_ENOMEM, "%s: out of memory", op);
  }
  json_decref(v);
  rc = out ? tshoot_reply_json(out, b.p, b.len) : TSHOOT_OK;
  ts_buf_free(&b);
  return rc;
}

static int check_key(tshoot_reply *out, const char *op, const char *key, int allow_hive)
{
  const char *why;
  if (!key) return fail(out, TSHOOT_EINVALID, "%s: no key", op);
  if ((why = key_problem(key, strlen(key), allow_hive)) != NULL)
    return fail(out, TSHOOT_EINVALID, "%s: '%.300s': %s", op, key, why);
  return TSHOOT_OK;
}

static int check_path(tshoot_reply *out, const char *op, const char *path)
{
  const char *why;
  if (!path) return fail(out, TSHOOT_EINVALID, "%s: no path", op);
  if ((why = path_problem(path, strlen(path))) != NULL)
    return fail(out, TSHOOT_EINVALID, "%s: '%.300s': %s", op, path, why);
  return TSHOOT_OK;
}

/* Is a write to s (a key or a path) one that faults.ignore_writes swallows? */
static int ignored(const ts_sim *sim, const char *s, int kind)
{
  size_t i;
  if (sim->acting) return 0;              /* the person's own changes take */
  for (i = 0; i < sim->nignore; i++) {
    const char *p = sim->ignore[i];
    size_t pn = strlen(p);
    while (pn > 0 && is_sep(p[pn - 1], kind)) pn--;
    if (pn && under(s, p, pn, kind)) return 1;
  }
  return 0;
}

/* Something in the table is p or under it (p is a key or a folder). */
static int exists_under(const void *arr, size_t n, size_t size, const char *p, size_t pn, int kind)
{
  size_t i = lbound(arr, n, size, p, pn, kind);
  return i < n && under(PATH_AT(arr, size, i), p, pn, kind);
}

static int key_exists(const ts_sim *s, const char *k, size_t kn)
{
  if (!memchr(k, '\\', kn)) return 1;                    /* a hive: always there */
  return exists_under(s->keys, s->nkeys, sizeof *s->keys, k, kn, K_KEY);
}

/* Give path[0..n) the case of what exists already at its start (the longest
** existing key or folder it is under), as Windows keeps a key's or folder's
** case when something is created in it. */
static void adopt_case(const void *arr, size_t count, size_t size, char *path, size_t n, int kind)
{
  size_t m = n;
  while (m > 0) {
    while (m > 0 && !is_sep(path[m - 1], kind)) m--;
    if (m == 0) return;
    m--;                                   /* path[0..m): a parent */
    if (m > 0) {
      size_t i = lbound(arr, count, size, path, m, kind);
      if (i < count && under(PATH_AT(arr, size, i), path, m, kind)) {
        memcpy(path, PATH_AT(arr, size, i), m);
        return;
      }
    }
  }
}

/* The names right under p: an array of strings, in the machine's order. */
static json_t *children_json(const void *arr, size_t n, size_t size, const char *p, size_t pn, int kind)
{
  json_t *a = json_array();
  const char *last = NULL;
  size_t lastn = 0, i = lbound(arr, n, size, p, pn, kind);
  int err = !a;
  for (; i < n && !err; i++) {
    const char *e = PATH_AT(arr, size, i), *c;
    size_t cn;
    if (!under(e, p, pn, kind)) break;
    if (strlen(e) == pn) continue;                        /* p itself */
    c = e + pn + 1;
    for (cn = 0; c[cn] && !is_sep(c[cn], kind); cn++) {}
    if (last && fcmp(last, lastn, c, cn, kind) == 0) continue;
    err |= jpush(a, json_stringn(c, cn));
    last = c;
    lastn = cn;
  }
  if (err) { if (a) json_decref(a); return NULL; }
  return a;
}

static long value_find(const reg_key *k, const char *name)
{
  return find_exact(k->v, k->nv, sizeof *k->v, name, strlen(name), K_NAME);
}

static int sim_registry_get(void *payload, const char *key, const char *name, tshoot_reply *out)
{
  ts_sim *s = payload;
  long ki, vi;
  int rc;
  if ((rc = check_key(out, "registry.get", key, 1)) != TSHOOT_OK) return rc;
  if (!name) name = "";
  ki = find_exact(s->keys, s->nkeys, sizeof *s->keys, key, strlen(key), K_KEY);
  if (ki < 0) return TSHOOT_OK;
  vi = value_find(&s->keys[ki], name);
  if (vi < 0) return TSHOOT_OK;
  {
    const reg_value *v = &s->keys[ki].v[vi];
    if (!out) return TSHOOT_OK;
    return v->is_int ? tshoot_reply_int(out, v->i) : tshoot_reply_string(out, v->s, strlen(v->s));
  }
}

/* The key, created (empty) when missing; -1 when out of memory. */
static long key_make(ts_sim *s, const char *key)
{
  size_t kn = strlen(key), i;
  long ki = find_exact(s->keys, s->nkeys, sizeof *s->keys, key, kn, K_KEY);
  char *path;
  if (ki >= 0) return ki;
  if (ts_grow((void **)&s->keys, &s->capkeys, s->nkeys + 1, sizeof *s->keys) < 0) return -1;
  path = ts_strndup(key, kn);
  if (!path) return -1;
  adopt_case(s->keys, s->nkeys, sizeof *s->keys, path, kn, K_KEY);
  for (i = 0; path[i] != '\\'; i++) {}
  if (!exists_under(s->keys, s->nkeys, sizeof *s->keys, path, i, K_KEY))
    while (i-- > 0) if (path[i] >= 'a' && path[i] <= 'z') path[i] = (char)(path[i] - ('a' - 'A'));   /* "HKLM" */
  i = lbound(s->keys, s->nkeys, sizeof *s->keys, key, kn, K_KEY);
  memmove(&s->keys[i + 1], &s->keys[i], (s->nkeys - i) * sizeof *s->keys);
  memset(&s->keys[i], 0, sizeof s->keys[i]);
  s->keys[i].path = path;
  s->nkeys++;
  return (long)i;
}

static int sim_registry_set(void *payload, const char *key, const char *name, const tshoot_reg_value *v)
{
  ts_sim *s = payload;
  reg_key *k;
  long ki, vi;
  char *str = NULL, *nm = NULL;
  const char *why;
  int rc;
  if ((rc = check_key(NULL, "registry.set", key, 0)) != TSHOOT_OK) return rc;
  if (name) {
    if ((why = name_problem(name, strlen(name))) != NULL)
      return fail(NULL, TSHOOT_EINVALID, "registry.set: '%.300s': %s", name, why);
    if (!v || (!v->is_int && !v->s))
      return fail(NULL, TSHOOT_EINVALID, "registry.set: %.300s\\%.300s: no value", key, name);
    if (!v->is_int && !utf8_ok(v->s, strlen(v->s)))
      return fail(NULL, TSHOOT_EINVALID, "registry.set: %.300s\\%.300s: the value is not valid UTF-8", key, name);
  }
  if (ignored(s, key, K_KEY)) return TSHOOT_OK;
  /* everything that can fail first, so that a failure changes nothing */
  if (name && !v->is_int && !(str = ts_strdup(v->s))) return ts_error_oom();
  ki = find_exact(s->keys, s->nkeys, sizeof *s->keys, key, strlen(key), K_KEY);
  vi = ki >= 0 && name ? value_find(&s->keys[ki], name) : -1;
  if (name && vi < 0) {
    if (!(nm = ts_strdup(name))) { ts_free(str); return ts_error_oom(); }
    if (ki >= 0 && ts_grow((void **)&s->keys[ki].v, &s->keys[ki].capv, s->keys[ki].nv + 1,
                           sizeof *s->keys[ki].v) < 0) {
      ts_free(str); ts_free(nm); return ts_error_oom();
    }
    if (ki < 0) {
      reg_value *arr = ts_calloc(4, sizeof *arr);
      if (!arr) { ts_free(str); ts_free(nm); return ts_error_oom(); }
      ki = key_make(s, key);
      if (ki < 0) { ts_free(arr); ts_free(str); ts_free(nm); return ts_error_oom(); }
      s->keys[ki].v = arr;
      s->keys[ki].capv = 4;
    }
  } else if (ki < 0) {
    ki = key_make(s, key);
    if (ki < 0) { ts_free(str); return ts_error_oom(); }
  }
  if (!name) return TSHOOT_OK;
  k = &s->keys[ki];
  if (vi < 0) {
    size_t i = lbound(k->v, k->nv, sizeof *k->v, name, strlen(name), K_NAME);
    memmove(&k->v[i + 1], &k->v[i], (k->nv - i) * sizeof *k->v);
    memset(&k->v[i], 0, sizeof k->v[i]);
    k->v[i].name = nm;
    k->nv++;
    vi = (long)i;
  }
  ts_free(k->v[vi].s);
  k->v[vi].s = str;
  k->v[vi].is_int = v->is_int != 0;
  k->v[vi].i = v->is_int ? v->i : 0;
  return TSHOOT_OK;
}

static int sim_registry_delete(void *payload, const char *key, const char *name)
{
  ts_sim *s = payload;
  size_t kn, first, end, i, w, pn;
  char *parent = NULL;
  int rc;
  if ((rc = check_key(NULL, "registry.delete", key, name != NULL)) != TSHOOT_OK) return rc;
  if (ignored(s, key, K_KEY)) return TSHOOT_OK;
  kn = strlen(key);
  if (name) {
    long ki = find_exact(s->keys, s->nkeys, sizeof *s->keys, key, kn, K_KEY), vi;
    reg_key *k;
    if (ki < 0) return TSHOOT_OK;
    k = &s->keys[ki];
    vi = value_find(k, name);
    if (vi < 0) return TSHOOT_OK;
    ts_free(k->v[vi].name);
    ts_free(k->v[vi].s);
    memmove(&k->v[vi], &k->v[vi + 1], (k->nv - (size_t)vi - 1) * sizeof *k->v);
    k->nv--;
    return TSHOOT_OK;
  }
  first = lbound(s->keys, s->nkeys, sizeof *s->keys, key, kn, K_KEY);
  for (end = first; end < s->nkeys && under(s->keys[end].path, key, kn, K_KEY); end++) {}
  if (end == first) return TSHOOT_OK;                      /* no such key */
  /* Its parent stays, as in Windows, even when nothing else holds it up. */
  for (pn = kn; pn > 0 && key[pn - 1] != '\\'; pn--) {}
  if (pn > 0) pn--;
  if (memchr(key, '\\', pn) && !(parent = ts_strndup(s->keys[first].path, pn))) return ts_error_oom();
  for (i = w = first; i < end; i++) {
    if (ignored(s, s->keys[i].path, K_KEY)) { s->keys[w++] = s->keys[i]; continue; }
    key_clear(&s->keys[i]);
  }
  memmove(&s->keys[w], &s->keys[end], (s->nkeys - end) * sizeof *s->keys);
  s->nkeys -= end - w;
  if (parent && !key_exists(s, parent, pn) && w < end) {
    /* a slot was freed above, so this cannot need to grow */
    i = lbound(s->keys, s->nkeys, sizeof *s->keys, parent, pn, K_KEY);
    memmove(&s->keys[i + 1], &s->keys[i], (s->nkeys - i) * sizeof *s->keys);
    memset(&s->keys[i], 0, sizeof s->keys[i]);
    s->keys[i].path = parent;
    s->nkeys++;
    parent = NULL;
  }
  ts_free(parent);
  return TSHOOT_OK;
}

static int sim_registry_list(void *payload, const char *key, tshoot_reply *out)
{
  ts_sim *s = payload;
  size_t kn;
  long ki;
  json_t *o;
  int rc, err;
  if ((rc = check_key(out, "registry.list", key, 1)) != TSHOOT_OK) return rc;
  kn = strlen(key);
  if (!key_exists(s, key, kn)) return TSHOOT_OK;
  ki = find_exact(s->keys, s->nkeys, sizeof *s->keys, key, kn, K_KEY);
  o = json_object();
  err = !o;
  err |= jset(o, "values", values_json(ki >= 0 ? &s->keys[ki] : NULL));
  err |= jset(o, "subkeys", children_json(s->keys, s->nkeys, sizeof *s->keys, key, kn, K_KEY));
  if (err) { if (o) json_decref(o); o = NULL; }
  return reply_json(out, o, "registry.list");
}

static long file_find(const ts_sim *s, const char *p, size_t pn)
{
  return find_exact(s->files, s->nfiles, sizeof *s->files, p, pn, K_PATH);
}

static int folder_exists(const ts_sim *s, const char *p, size_t pn)
{
  size_t i = lbound(s->files, s->nfiles, sizeof *s->files, p, pn, K_PATH);
  if (i < s->nfiles && strlen(s->files[i].path) == pn && under(s->files[i].path, p, pn, K_PATH)) i++;
  return i < s->nfiles && under(s->files[i].path, p, pn, K_PATH);
}

static int sim_file_stat(void *payload, const char *path, tshoot_reply *out)
{
  ts_sim *s = payload;
  size_t pn;
  long fi;
  int rc;
  if ((rc = check_path(out, "file.stat", path)) != TSHOOT_OK) return rc;
  pn = path_trim(path, strlen(path));
  fi = file_find(s, path, pn);
  if (fi >= 0) return reply_json(out, file_json(&s->files[fi], 0), "file.stat");
  if (folder_exists(s, path, pn)) {
    json_t *o = json_object();
    if (jset(o, "folder", json_true())) { if (o) json_decref(o); o = NULL; }
    return reply_json(out, o, "file.stat");
  }
  return TSHOOT_OK;
}

static int sim_file_list(void *payload, const char *path, tshoot_reply *out)
{
  ts_sim *s = payload;
  size_t pn;
  int rc;
  if ((rc = check_path(out, "file.list", path)) != TSHOOT_OK) return rc;
  pn = path_trim(path, strlen(path));
  if (!folder_exists(s, path, pn)) return TSHOOT_OK;
  return reply_json(out, children_json(s->files, s->nfiles, sizeof *s->files, path, pn, K_PATH), "file.list");
}

static int sim_file_move(void *payload, const char *from, const char *to)
{
  ts_sim *s = payload;
  size_t fn, tn, first, end, i, m;
  char **names;
  char *target;
  long fi;
  int rc, same;
  if ((rc = check_path(NULL, "file.move", from)) != TSHOOT_OK) return rc;
  if ((rc = check_path(NULL, "file.move", to)) != TSHOOT_OK) return rc;
  fn = path_trim(from, strlen(from));
  tn = path_trim(to, strlen(to));
  if (fn == 0 || tn == 0) return fail(NULL, TSHOOT_EINVALID, "file.move: cannot move the root folder");
  fi = file_find(s, from, fn);
  if (fi >= 0) {
    first = (size_t)fi;
    end = first + 1;
  } else {
    first = lbound(s->files, s->nfiles, sizeof *s->files, from, fn, K_PATH);
    for (end = first; end < s->nfiles && under(s->files[end].path, from, fn, K_PATH); end++) {}
    if (end == first) return fail(NULL, TSHOOT_ENOTFOUND, "file.move: there is no file or folder '%.300s'", from);
  }
  same = fcmp(from, fn, to, tn, K_PATH) == 0;            /* a change of case */
  if (!same) {
    if (file_find(s, to, tn) >= 0 || folder_exists(s, to, tn))
      return fail(NULL, TSHOOT_ERROR, "file.move: '%.300s' already exists", to);
    if (fi < 0 && tn > fn && fcmp(from, fn, to, fn, K_PATH) == 0 && is_sep(to[fn], K_PATH))
      return fail(NULL, TSHOOT_EINVALID, "file.move: cannot move the folder '%.300s' into itself", from);
    for (m = 1; m < tn; m++)
      if (is_sep(to[m], K_PATH) && file_find(s, to, m) >= 0)
        return fail(NULL, TSHOOT_ERROR, "file.move: '%.*s' is a file, not a folder", (int)(m > 300 ? 300 : m), to);
  }
  if (ignored(s, from, K_PATH) || ignored(s, to, K_PATH)) return TSHOOT_OK;
  target = ts_strndup(to, tn);
  if (!target) return ts_error_oom();
  if (!same) adopt_case(s->files, s->nfiles, sizeof *s->files, target, tn, K_PATH);
  names = ts_calloc(end - first, sizeof *names);
  if (!names) { ts_free(target); return ts_error_oom(); }
  for (i = first; i < end; i++) {
    const char *rest = s->files[i].path + fn;
    size_t rn = strlen(rest);
    names[i - first] = ts_malloc(tn + rn + 1);
    if (!names[i - first]) {
      while (i-- > first) ts_free(names[i - first]);
      ts_free(names);
      ts_free(target);
      return ts_error_oom();
    }
    memcpy(names[i - first], target, tn);
    memcpy(names[i - first] + tn, rest, rn + 1);
  }
  for (i = first; i < end; i++) {
    ts_free(s->files[i].path);
    s->files[i].path = names[i - first];
  }
  ts_free(names);
  ts_free(target);
  qsort(s->files, s->nfiles, sizeof *s->files, cmp_file);
  return TSHOOT_OK;
}

static int sim_process_list(void *payload, tshoot_reply *out)
{
  ts_sim *s = payload;
  return reply_json(out, s->processes ? json_deep_copy(s->processes) : json_array(), "process.list");
}

static long service_find(const ts_sim *s, const char *name)
{
  return find_exact(s->svcs, s->nsvcs, sizeof *s->svcs, name, strlen(name), K_NAME);
}

static int sim_service_get(void *payload, const char *name, tshoot_reply *out)
{
  ts_sim *s = payload;
  long si;
  if (!name) return fail(out, TSHOOT_EINVALID, "service.get: no service name");
  si = service_find(s, name);
  if (si < 0) return TSHOOT_OK;
  return reply_json(out, service_json(&s->svcs[si], 0), "service.get");
}

static int sim_service_control(void *payload, const char *name, const char *action)
{
  ts_sim *s = payload;
  sim_service *sv;
  size_t i;
  long si;
  int start;
  if (!name || !action) return fail(NULL, TSHOOT_EINVALID, "service control: NULL argument");
  if (strcmp(action, "start") != 0 && strcmp(action, "stop") != 0)
    return fail(NULL, TSHOOT_EINVALID, "service control: unknown action '%.50s' (start or stop)", action);
  start = strcmp(action, "start") == 0;
  si = service_find(s, name);
  if (si < 0) return fail(NULL, TSHOOT_ENOTFOUND, "service.%s: there is no service '%.300s'", action, name);
  sv = &s->svcs[si];
  for (i = 0; i < s->nignore; i++)
    if (fcmp(s->ignore[i], strlen(s->ignore[i]), sv->name, strlen(sv->name), K_NAME) == 0) return TSHOOT_OK;
  if (start && !sv->running && sv->start == START_DISABLED)
    return fail(NULL, TSHOOT_ERROR, "service.start: the service '%.300s' is disabled", sv->name);
  sv->running = start;
  return TSHOOT_OK;
}

static int sim_system_info(void *payload, tshoot_reply *out)
{
  ts_sim *s = payload;
  return reply_json(out, s->system ? json_deep_copy(s->system) : json_object(), "system.info");
}

/* ===== the person ===== */

static long service_find(const ts_sim *s, const char *name);

/* Every file or folder at p or under it is removed. */
static void files_remove(ts_sim *s, const char *p)
{
  size_t pn = strlen(p), first, end;
  if (!s->nfiles) return;              /* s->files may be NULL: no pointer arithmetic on it */
  first = lbound(s->files, s->nfiles, sizeof *s->files, p, pn, K_PATH);
  for (end = first; end < s->nfiles && under(s->files[end].path, p, pn, K_PATH); end++) file_clear(&s->files[end]);
  memmove(&s->files[first], &s->files[end], (s->nfiles - end) * sizeof *s->files);
  s->nfiles -= end - first;
}

/* A reader of what was validated at load time: it cannot fail but for memory. */
static void quiet_loader(loader *L)
{
  memset(L, 0, sizeof *L);
  L->json = "";
  L->name = "person";
}

/* The file at path made, or replaced (keeping its name's case, as Windows does). */
static int file_put(ts_sim *s, const char *path, json_t *o)
{
  sim_file nf;
  loader L;
  size_t pn = strlen(path), i;
  long fi;
  int rc;
  quiet_loader(&L);
  memset(&nf, 0, sizeof nf);
  if ((rc = load_file(&L, &nf, o)) != TSHOOT_OK) { file_clear(&nf); return rc; }
  fi = file_find(s, path, pn);
  if (fi >= 0) {
    nf.path = s->files[fi].path;
    s->files[fi].path = NULL;
    file_clear(&s->files[fi]);
    s->files[fi] = nf;
    return TSHOOT_OK;
  }
  if (ts_grow((void **)&s->files, &s->capfiles, s->nfiles + 1, sizeof *s->files) < 0 ||
      !(nf.path = ts_strndup(path, pn))) {
    file_clear(&nf);
    return ts_error_oom();
  }
  adopt_case(s->files, s->nfiles, sizeof *s->files, nf.path, pn, K_PATH);
  i = lbound(s->files, s->nfiles, sizeof *s->files, path, pn, K_PATH);
  memmove(&s->files[i + 1], &s->files[i], (s->nfiles - i) * sizeof *s->files);
  s->files[i] = nf;
  s->nfiles++;
  return TSHOOT_OK;
}

/* The service made, or replaced (keeping its name's case). */
static int service_put(ts_sim *s, const char *name, json_t *o)
{
  sim_service nsv;
  loader L;
  size_t i;
  long si;
  int rc;
  quiet_loader(&L);
  memset(&nsv, 0, sizeof nsv);
  if ((rc = load_service(&L, &nsv, o)) != TSHOOT_OK) { service_clear(&nsv); return rc; }
  si = service_find(s, name);
  if (si >= 0) {
    nsv.name = s->svcs[si].name;
    s->svcs[si].name = NULL;
    service_clear(&s->svcs[si]);
    s->svcs[si] = nsv;
    return TSHOOT_OK;
  }
  if (ts_grow((void **)&s->svcs, &s->capsvcs, s->nsvcs + 1, sizeof *s->svcs) < 0 || !(nsv.name = ts_strdup(name))) {
    service_clear(&nsv);
    return ts_error_oom();
  }
  i = lbound(s->svcs, s->nsvcs, sizeof *s->svcs, name, strlen(name), K_NAME);
  memmove(&s->svcs[i + 1], &s->svcs[i], (s->nsvcs - i) * sizeof *s->svcs);
  s->svcs[i] = nsv;
  s->nsvcs++;
  return TSHOOT_OK;
}

/* Is path removed by a null of does.files? */
static int removed_by(json_t *files, const char *path)
{
  const char *k;
  json_t *v;
  json_object_foreach(files, k, v)
    if (json_is_null(v) && under(path, k, strlen(k), K_PATH)) return 1;
  return 0;
}

/* Can the files of does.files be made once its removals are done? A file
** cannot be made inside a file, nor where a folder is. */
static int person_files_check(ts_sim *s, size_t idx, json_t *files)
{
  const char *k;
  json_t *v;
  json_object_foreach(files, k, v) {
    size_t pn = strlen(k), m, j;
    if (json_is_null(v)) continue;
    for (m = 1; m < pn; m++) {
      long fi = is_sep(k[m], K_PATH) ? file_find(s, k, m) : -1;
      if (fi >= 0 && !removed_by(files, s->files[fi].path))
        return fail(NULL, TSHOOT_ERROR, "ui.confirm: person[%zu] cannot make the file '%.300s': '%.300s' is a file",
                    idx, k, s->files[fi].path);
    }
    j = lbound(s->files, s->nfiles, sizeof *s->files, k, pn, K_PATH);
    for (; j < s->nfiles && under(s->files[j].path, k, pn, K_PATH); j++)
      if (strlen(s->files[j].path) != pn && !removed_by(files, s->files[j].path))
        return fail(NULL, TSHOOT_ERROR, "ui.confirm: person[%zu] cannot make the file '%.300s': it is a folder "
                    "(it holds '%.300s')", idx, k, s->files[j].path);
  }
  return TSHOOT_OK;
}

/* The changes of person[idx], outside any journal and past the faults:
** first every deletion, then every change that makes or replaces, each in
** the machine's order (so that what is made in a new folder or key takes the
** case of the first, whatever order the description was written in). Each
** step can be made again with the same result, so an action that failed for
** memory half-way is finished by acting again. */
static int person_act(ts_sim *s, size_t idx)
{
  sim_person *p = &s->person[idx];
  json_t *reg = json_object_get(p->does, "registry"), *files = json_object_get(p->does, "files");
  json_t *svcs = json_object_get(p->does, "services"), *sys = json_object_get(p->does, "system"), *vv;
  dname *rd = NULL, *fd = NULL, *sd = NULL;
  size_t rn = 0, fn = 0, sn = 0, i;
  const char *k, *vn;
  int rc = TSHOOT_OK;
  if (files && (rc = person_files_check(s, idx, files)) != TSHOOT_OK) return rc;
  if ((reg && !(rd = members_sorted(reg, K_KEY, &rn))) || (files && !(fd = members_sorted(files, K_PATH, &fn))) ||
      (svcs && !(sd = members_sorted(svcs, K_NAME, &sn)))) {
    ts_free(rd); ts_free(fd); ts_free(sd);
    return ts_error_oom();
  }
  s->acting = 1;
  for (i = 0; i < rn && rc == TSHOOT_OK; i++) {
    if (json_is_null(rd[i].v)) {
      rc = sim_registry_delete(s, rd[i].name, NULL);
      continue;
    }
    json_object_foreach(rd[i].v, vn, vv)
      if (rc == TSHOOT_OK && json_is_null(vv)) rc = sim_registry_delete(s, rd[i].name, vn);
  }
  for (i = 0; i < rn && rc == TSHOOT_OK; i++) {
    if (json_is_null(rd[i].v)) continue;
    rc = sim_registry_set(s, rd[i].name, NULL, NULL);
    json_object_foreach(rd[i].v, vn, vv) {
      tshoot_reg_value val;
      if (rc != TSHOOT_OK || json_is_null(vv)) continue;
      memset(&val, 0, sizeof val);
      val.is_int = json_is_integer(vv);
      if (val.is_int) val.i = json_integer_value(vv);
      else val.s = json_string_value(vv);
      rc = sim_registry_set(s, rd[i].name, vn, &val);
    }
  }
  for (i = 0; i < fn && rc == TSHOOT_OK; i++)
    if (json_is_null(fd[i].v)) files_remove(s, fd[i].name);
  for (i = 0; i < fn && rc == TSHOOT_OK; i++)
    if (!json_is_null(fd[i].v)) rc = file_put(s, fd[i].name, fd[i].v);
  for (i = 0; i < sn && rc == TSHOOT_OK; i++) {
    long si = json_is_null(sd[i].v) ? service_find(s, sd[i].name) : -1;
    if (si < 0) continue;
    service_clear(&s->svcs[si]);
    memmove(&s->svcs[si], &s->svcs[si + 1], (s->nsvcs - (size_t)si - 1) * sizeof *s->svcs);
    s->nsvcs--;
  }
  for (i = 0; i < sn && rc == TSHOOT_OK; i++)
    if (!json_is_null(sd[i].v)) rc = service_put(s, sd[i].name, sd[i].v);
  if (sys && rc == TSHOOT_OK) {
    if (!s->system && !(s->system = json_object())) rc = ts_error_oom();
    json_object_foreach(sys, k, vv)
      if (rc == TSHOOT_OK && json_object_set_new(s->system, k, json_deep_copy(vv)) != 0) rc = ts_error_oom();
  }
  s->acting = 0;
  ts_free(rd); ts_free(fd); ts_free(sd);
  if (rc == TSHOOT_OK) p->done = 1;
  return rc;
}

/* The person first does what each action not done yet whose `when` the text
** contains says, then answers as told. */
static int sim_ui_confirm(void *payload, const char *text, tshoot_reply *out)
{
  ts_sim *s = payload;
  size_t i;
  int rc;
  for (i = 0; text && i < s->nperson; i++) {
    if (s->person[i].done || !kmp_find(text, s->person[i].when, s->person[i].kmp)) continue;
    if ((rc = person_act(s, i)) != TSHOOT_OK) {
      if (out) tshoot_reply_error(out, tshoot_error_last()->message);
      return rc;
    }
  }
  return out ? tshoot_reply_bool(out, s->confirm) : TSHOOT_OK;
}

static int sim_ui_progress(void *payload, double fraction, const char *text)
{
  return TSHOOT_OK;
}

static int sim_ui_notify(void *payload, const char *text)
{
  return TSHOOT_OK;
}

void ts_sim_ops(ts_sim *sim, tshoot_host_ops *ops)
{
  memset(ops, 0, sizeof *ops);
  ops->version = TSHOOT_HOST_OPS_VERSION;
  ops->payload = sim;
  ops->registry_get = sim_registry_get;
  ops->registry_set = sim_registry_set;
  ops->registry_delete = sim_registry_delete;
  ops->registry_list = sim_registry_list;
  ops->file_stat = sim_file_stat;
  ops->file_list = sim_file_list;
  ops->file_move = sim_file_move;
  ops->process_list = sim_process_list;
  ops->service_get = sim_service_get;
  ops->service_control = sim_service_control;
  ops->system_info = sim_system_info;
  ops->ui_confirm = sim_ui_confirm;
  ops->ui_progress = sim_ui_progress;
  ops->ui_notify = sim_ui_notify;
  ops->quarantine_dir = SIM_QUARANTINE;
}

/* ===== the simulator as a host (tshoot_host_sim_*, tshoot.h) ===== */

static void sim_impl_free(void *data)
{
  ts_sim_free(data);
}

/* A plan's copy: the machine saved and loaded again. */
static int sim_impl_clone(void *data, tshoot_host **out)
{
  const ts_sim *sim = data;
  char *saved = NULL;
  int rc = ts_sim_save(&saved, sim);
  if (rc == TSHOOT_OK) rc = tshoot_host_sim_load(out, saved, strlen(saved), sim->name);
  ts_free(saved);
  return rc;
}

TSHOOT_API int tshoot_host_sim_load(tshoot_host **out, const char *json, size_t len, const char *name)
{
  ts_sim *sim;
  tshoot_host_ops ops;
  ts_host_impl impl;
  int rc;
  TS_CHECK_ARG(out);
  *out = NULL;
  TS_CHECK_ARG(json);
  rc = ts_sim_new(&sim, json, len, name ? name : "machine");
  if (rc != TSHOOT_OK) return rc;
  ts_sim_ops(sim, &ops);
  impl.data = sim;
  impl.free = sim_impl_free;
  impl.clone = sim_impl_clone;
  return ts_host_new_impl(out, &ops, &impl);
}

TSHOOT_API int tshoot_host_sim_open(tshoot_host **out, const char *path)
{
  char *body = NULL;
  size_t len = 0;
  int rc;
  TS_CHECK_ARG(out);
  *out = NULL;
  TS_CHECK_ARG(path);
  rc = ts_read_file(&body, &len, path, SIM_MAX_INPUT);
  if (rc != TSHOOT_OK) return rc;
  rc = tshoot_host_sim_load(out, body, len, path);
  ts_free(body);
  return rc;
}

TSHOOT_API int tshoot_host_sim_save(char **out, const tshoot_host *h)
{
  ts_sim *sim = ts_host_impl_data(h, sim_impl_free);
  TS_CHECK_ARG(out);
  *out = NULL;
  if (!sim) return ts_error(TSHOOT_EINVALID, "tshoot_host_sim_save: not a simulated host");
  return ts_sim_save(out, sim);
}

TSHOOT_API int tshoot_host_sim_confirm(tshoot_host *h, int yes)
{
  ts_sim *sim = ts_host_impl_data(h, sim_impl_free);
  if (!sim) return ts_error(TSHOOT_EINVALID, "tshoot_host_sim_confirm: not a simulated host");
  ts_sim_set_confirm(sim, yes);
  return TSHOOT_OK;
}
