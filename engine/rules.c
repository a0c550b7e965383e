/*
** rules.c: loading the reasoning model of a compiled KB (rules.h) and the
** indexes a diagnosis step needs.
*/
#include "rules.h"
#include "text.h"
#include "kb_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rm_derived {
  double key;
  void *obj;
  void (*free_fn)(void *);
  struct rm_derived *next;
};
typedef struct rm_derived rm_derived;

typedef struct loader {
  rules_model *m;
  ts_arena *ar;
  sqlite3 *db;
  int rc;
} loader;

static char *ld_str(loader *l, sqlite3_stmt *st, int col)
{
  const char *s = (const char *)sqlite3_column_text(st, col);
  char *r;
  if (!s) return NULL;
  r = ts_arena_strdup(l->ar, s);
  if (!r && l->rc == TSHOOT_OK) l->rc = ts_error_oom();
  return r;
}

static void *ld_alloc(loader *l, size_t n)
{
  void *p = ts_arena_alloc(l->ar, n ? n : 1);
  if (!p && l->rc == TSHOOT_OK) l->rc = ts_error_oom();
  return p;
}

static sqlite3_stmt *ld_query(loader *l, const char *sql)
{
  sqlite3_stmt *st = NULL;
  int rc;
  if (l->rc != TSHOOT_OK) return NULL;
  rc = sqlite3_prepare_v2(l->db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) {
    l->rc = kb_sqlite_error(l->db, rc, "loading the KB's rules");
    sqlite3_finalize(st);
    return NULL;
  }
  return st;
}

static int ld_step(loader *l, sqlite3_stmt *st)
{
  int rc;
  if (!st || l->rc != TSHOOT_OK) return 0;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return 1;
  if (rc != SQLITE_DONE) l->rc = kb_sqlite_error(l->db, rc, "loading the KB's rules");
  return 0;
}

static size_t ld_count(loader *l, const char *table)
{
  char sql[64];
  sqlite3_stmt *st;
  size_t n = 0;
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
  st = ld_query(l, sql);
  if (ld_step(l, st)) n = (size_t)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

/* ids are 1..n in the file; a row outside that range means damage */
static int ld_index(loader *l, sqlite3_stmt *st, int col, size_t n)
{
  sqlite3_int64 v = sqlite3_column_int64(st, col);
  if (v < 1 || (size_t)v > n) {
    if (l->rc == TSHOOT_OK) l->rc = ts_error(TSHOOT_ECORRUPT, "damaged KB: a reference is out of range");
    return -1;
  }
  return (int)(v - 1);
}

/* ===== name indexes ===== */

static int cmp_name(const void *a, const void *b)
{
  return strcmp(((const rm_name *)a)->name, ((const rm_name *)b)->name);
}

static rm_name *build_names(loader *l, size_t n, const char *(*get)(const rules_model *, size_t))
{
  rm_name *v = ld_alloc(l, n * sizeof *v);
  size_t i;
  if (!v) return NULL;
  for (i = 0; i < n; i++) {
    v[i].name = get(l->m, i);
    v[i].idx = (uint32_t)i;
    if (!v[i].name) { v[i].name = ""; }
  }
  qsort(v, n, sizeof *v, cmp_name);
  return v;
}

static const char *q_name(const rules_model *m, size_t i) { return m->q[i].id; }
static const char *f_name(const rules_model *m, size_t i) { return m->f[i].id; }
static const char *c_name(const rules_model *m, size_t i) { return m->c[i].id; }
static const char *x_name(const rules_model *m, size_t i) { return m->x[i].id; }
static const char *a_name(const rules_model *m, size_t i) { return m->a[i].id; }
static const char *s_name(const rules_model *m, size_t i) { return m->s[i].id; }

static int find_name(const rm_name *v, size_t n, const char *id)
{
  size_t lo = 0, hi = n;
  if (!id || !v) return -1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(v[mid].name, id);
    if (c == 0) return (int)v[mid].idx;
    if (c < 0) lo = mid + 1; else hi = mid;
  }
  return -1;
}

int rules_question(const rules_model *m, const char *id) { return find_name(m->q_by_name, m->nq, id); }
int rules_fact(const rules_model *m, const char *id) { return find_name(m->f_by_name, m->nf, id); }
int rules_cause(const rules_model *m, const char *id) { return find_name(m->c_by_name, m->nc, id); }
int rules_fix(const rules_model *m, const char *id) { return find_name(m->x_by_name, m->nx, id); }
int rules_article(const rules_model *m, const char *id) { return find_name(m->a_by_name, m->na, id); }
int rules_symptom(const rules_model *m, const char *id) { return find_name(m->s_by_name, m->ns, id); }

static const char *name_of(const void *ctx, size_t i) { return ((const rm_name *)ctx)[i].name; }

/* The names of a kind, sorted, or NULL. */
static const rm_name *names_of(const rules_model *m, char kind, size_t *n)
{
  switch (kind) {
  case 'q': *n = m->nq; return m->q_by_name;
  case 'c': *n = m->nc; return m->c_by_name;
  case 'x': *n = m->nx; return m->x_by_name;
  case 's': *n = m->ns; return m->s_by_name;
  default: *n = 0; return NULL;
  }
}

const char *rules_suggest(const rules_model *m, char kind, const char *id)
{
  size_t n;
  const rm_name *v = names_of(m, kind, &n);
  return v ? text_closest_fn(id, n, name_of, v) : NULL;
}

const char *rules_did_you_mean(char *buf, size_t cap, const rules_model *m, char kind,
                               const char *id)
{
  size_t n;
  const rm_name *v = names_of(m, kind, &n);
  return v ? ts_did_you_mean_fn(buf, cap, id, n, name_of, v) : "";
}

/* ===== resolving ids inside conditions ===== */

static int resolve(void *ctx, int is_fact, const char *id)
{
  const rules_model *m = ctx;
  return is_fact ? rules_fact(m, id) : rules_question(m, id);
}

/* ===== dependency sets ===== */

typedef struct uset { uint32_t *v; size_t n, cap; int oom; } uset;

static void uset_add(uset *s, uint32_t x)
{
  size_t i;
  for (i = 0; i < s->n; i++) if (s->v[i] == x) return;
  if (ts_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v) < 0) { s->oom = 1; return; }
  s->v[s->n++] = x;
}

typedef struct dep_ctx { const rules_model *m; uset *s; int depth; } dep_ctx;

static void dep_q(void *ctx, int q) { dep_ctx *d = ctx; if (q >= 0) uset_add(d->s, (uint32_t)q); }
static void dep_f(void *ctx, int f)
{
  dep_ctx *d = ctx;
  size_t i;
  if (f < 0) return;
  if (d->m->f[f].questions) {      /* already computed */
    for (i = 0; i < d->m->f[f].n_questions; i++) uset_add(d->s, d->m->f[f].questions[i]);
    return;
  }
  if (d->depth > 64) return;       /* the compiler refuses cycles; stay safe */
  d->depth++;
  expr_questions(&d->m->f[f].cond, dep_q, d);
  expr_facts(&d->m->f[f].cond, dep_f, d);
  d->depth--;
}

static int cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static uint32_t *uset_to_arena(loader *l, uset *s, size_t *n)
{
  uint32_t *v;
  if (s->oom && l->rc == TSHOOT_OK) l->rc = ts_error_oom();
  if (s->n) qsort(s->v, s->n, sizeof *s->v, cmp_u32);   /* v is NULL when empty */
  v = ld_alloc(l, s->n * sizeof *v);
  if (v && s->n) memcpy(v, s->v, s->n * sizeof *v);
  *n = s->n;
  ts_free(s->v);
  memset(s, 0, sizeof *s);
  return v;
}

/* ===== representative answers of open questions ===== */

typedef struct rep_ctx { loader *l; int q; char ***vals; size_t *n, *cap; } rep_ctx;

static void add_rep(rep_ctx *r, const char *v)
{
  size_t i;
  for (i = 0; i < *r->n; i++) if (strcmp((*r->vals)[i], v) == 0) return;
  if (ts_grow((void **)r->vals, r->cap, *r->n + 1, sizeof **r->vals) < 0) {
    if (r->l->rc == TSHOOT_OK) r->l->rc = ts_error_oom();
    return;
  }
  (*r->vals)[(*r->n)++] = (char *)v;
}

/* Sort values as versions or numbers (few of them: insertion sort, no
** global state, so two KBs may load at once in two threads). */
static void sort_reps(char **v, size_t n, int as_version)
{
  size_t i, j;
  for (i = 1; i < n; i++) {
    char *x = v[i];
    for (j = i; j > 0; j--) {
      int c = as_version ? expr_version_cmp(v[j - 1], x) : expr_number_cmp(v[j - 1], x);
      if (c <= 0) break;
      v[j] = v[j - 1];
    }
    v[j] = x;
  }
}

/* Whether answer `value` to question q satisfies one comparison node. */
static int node_holds(const rules_model *m, const expr *e, const expr_node *nd, const char *value)
{
  size_t v;
  int c;
  if (nd->op == X_EQ || nd->op == X_NE || nd->op == X_IN) {
    int hit = 0;
    for (v = 0; v < nd->n_values; v++) hit |= strcmp(value, e->values[nd->value0 + v]) == 0;
    return nd->op == X_NE ? !hit : hit;
  }
  c = m->q[nd->ref].type == RM_VERSION ? expr_version_cmp(value, e->values[nd->value0])
                                        : expr_number_cmp(value, e->values[nd->value0]);
  switch (nd->op) {
  case X_LT: return c < 0;
  case X_LE: return c <= 0;
  case X_GT: return c > 0;
  default:   return c >= 0;
  }
}

/* Whether two answers to q are told apart by anything in the KB: some
** comparison on q, or some <answer> evidence naming one of them. */
static int reps_differ(const rules_model *m, int q, const char *a, const char *b)
{
  size_t ci, e, k, fi;
  for (ci = 0; ci < m->nc; ci++)
    for (e = 0; e < m->c[ci].n_ev; e++) {
      const rm_evidence *ev = &m->c[ci].ev[e];
      if (ev->kind == RM_ANSWER) {
        if (ev->question == q && (strcmp(ev->value, a) == 0) != (strcmp(ev->value, b) == 0)) return 1;
        continue;
      }
      for (k = 0; k < ev->cond.n_nodes; k++) {
        const expr_node *nd = &ev->cond.nodes[k];
        if (nd->op >= X_EQ && nd->op <= X_IN && nd->ref == q &&
            node_holds(m, &ev->cond, nd, a) != node_holds(m, &ev->cond, nd, b))
          return 1;
      }
    }
  for (fi = 0; fi < m->nf; fi++)
    for (k = 0; k < m->f[fi].cond.n_nodes; k++) {
      const expr_node *nd = &m->f[fi].cond.nodes[k];
      if (nd->op >= X_EQ && nd->op <= X_IN && nd->ref == q &&
          node_holds(m, &m->f[fi].cond, nd, a) != node_holds(m, &m->f[fi].cond, nd, b))
        return 1;
    }
  return 0;
}

/* Keep one representative per class of answers the KB cannot tell apart,
** so that "uniform over the outcomes" counts real outcomes. */
static size_t dedupe_reps(const rules_model *m, int q, char **vals, size_t n)
{
  size_t i, j, k = 0;
  for (i = 0; i < n; i++) {
    for (j = 0; j < k; j++) if (!reps_differ(m, q, vals[i], vals[j])) break;
    if (j == k) vals[k++] = vals[i];
  }
  return k;
}

static void build_reps(loader *l)
{
  rules_model *m = l->m;
  size_t qi, ci, e, k;
  for (qi = 0; qi < m->nq; qi++) {
    rm_question *q = &m->q[qi];
    char **vals = NULL;
    size_t n = 0, cap = 0;
    rep_ctx r = { l, (int)qi, &vals, &n, &cap };
    if (q->type == RM_YESNO || q->type == RM_CHOICE) {
      q->reps = q->choices;
      q->n_reps = q->n_choices;
      continue;
    }
    for (ci = 0; ci < m->nc; ci++)
      for (e = 0; e < m->c[ci].n_ev; e++) {
        rm_evidence *ev = &m->c[ci].ev[e];
        if (ev->kind == RM_ANSWER && ev->question == (int)qi) add_rep(&r, ev->value);
        for (k = 0; k < ev->cond.n_nodes; k++) {
          expr_node *nd = &ev->cond.nodes[k];
          size_t v;
          if (nd->op >= X_EQ && nd->op <= X_IN && nd->ref == (int)qi)
            for (v = 0; v < nd->n_values; v++) add_rep(&r, ev->cond.values[nd->value0 + v]);
        }
      }
    for (ci = 0; ci < m->nf; ci++)
      for (k = 0; k < m->f[ci].cond.n_nodes; k++) {
        expr_node *nd = &m->f[ci].cond.nodes[k];
        size_t v;
        if (nd->op >= X_EQ && nd->op <= X_IN && nd->ref == (int)qi)
          for (v = 0; v < nd->n_values; v++) add_rep(&r, m->f[ci].cond.values[nd->value0 + v]);
      }
    if (q->type == RM_TEXT) {
      add_rep(&r, "\x01other");        /* an answer equal to none of them */
    } else if (n) {
      /* one below and one above every threshold, and the thresholds */
      char *lo, *hi;
      sort_reps(vals, n, q->type == RM_VERSION);
      lo = ts_arena_strdup(l->ar, q->type == RM_VERSION ? "0" : "-1000000000");
      hi = ts_arena_alloc(l->ar, strlen(vals[n - 1]) + 16);
      if (lo && hi) {
        snprintf(hi, strlen(vals[n - 1]) + 16, q->type == RM_VERSION ? "%s.999999" : "%s1", vals[n - 1]);
        if (q->type == RM_NUMBER) snprintf(hi, strlen(vals[n - 1]) + 16, "1000000000");
        add_rep(&r, lo);
        add_rep(&r, hi);
        sort_reps(vals, n, q->type == RM_VERSION);
      }
    }
    n = dedupe_reps(m, (int)qi, vals, n);
    q->reps = ld_alloc(l, n * sizeof *q->reps);
    if (q->reps && n) memcpy(q->reps, vals, n * sizeof *vals);
    q->n_reps = n;
    ts_free(vals);
  }
}

/* ===== how often a condition holds by chance =====
** A condition's evidence is the ratio P(it holds | cause) / P(it holds by
** chance): the second is computed here, by enumerating the outcomes of the
** questions it reads (transitively through facts) when there are few, else
** by sampling them with a fixed seed. */

#define PU_EXACT_MAX 4096
#define PU_SAMPLES 2048

typedef struct pu_env {
  const rules_model *m;
  const uint32_t *qs;     /* the questions involved */
  size_t nq;
  size_t *pick;           /* chosen outcome (index into reps) per involved question */
  int depth;
} pu_env;

static const char *pu_answer(void *ctx, int q)
{
  pu_env *e = ctx;
  size_t i;
  for (i = 0; i < e->nq; i++)
    if ((int)e->qs[i] == q) return e->m->q[q].n_reps ? e->m->q[q].reps[e->pick[i]] : NULL;
  return NULL;
}

static int pu_known(void *ctx, int q) { return pu_answer(ctx, q) ? 1 : -1; }
static int pu_is_version(void *ctx, int q) { return ((pu_env *)ctx)->m->q[q].type == RM_VERSION; }

static tri pu_fact(void *ctx, int f)
{
  pu_env *e = ctx;
  expr_env env;
  tri t;
  if (e->depth > 32) return TRI_UNKNOWN;
  env.answer = pu_answer;
  env.known = pu_known;
  env.fact = pu_fact;
  env.is_version = pu_is_version;
  env.ctx = ctx;
  e->depth++;
  t = expr_eval(&e->m->f[f].cond, &env);
  e->depth--;
  return t;
}

static double chance_of(loader *l, const expr *cond)
{
  const rules_model *m = l->m;
  uset s = { NULL, 0, 0, 0 };
  dep_ctx d;
  pu_env e;
  expr_env env;
  size_t i, combos = 1, holds = 0, total = 0;
  uint64_t rng = 0x2545F4914F6CDD1Dull;
  int exact = 1;

  d.m = m; d.s = &s; d.depth = 0;
  expr_questions(cond, dep_q, &d);
  expr_facts(cond, dep_f, &d);
  if (s.oom) { ts_free(s.v); if (l->rc == TSHOOT_OK) l->rc = ts_error_oom(); return 0.5; }
  memset(&e, 0, sizeof e);
  e.m = m;
  e.qs = s.v;
  e.nq = s.n;
  e.pick = ts_calloc(s.n + 1, sizeof *e.pick);
  if (!e.pick) { ts_free(s.v); if (l->rc == TSHOOT_OK) l->rc = ts_error_oom(); return 0.5; }
  env.answer = pu_answer;
  env.known = pu_known;
  env.fact = pu_fact;
  env.is_version = pu_is_version;
  env.ctx = &e;
  for (i = 0; i < s.n; i++) {
    size_t n = m->q[s.v[i]].n_reps ? m->q[s.v[i]].n_reps : 1;
    if (combos > PU_EXACT_MAX / n) { exact = 0; break; }
    combos *= n;
  }
  if (exact) {
    for (;;) {
      total++;
      if (expr_eval(cond, &env) == TRI_TRUE) holds++;
      for (i = 0; i < s.n; i++) {
        size_t n = m->q[s.v[i]].n_reps ? m->q[s.v[i]].n_reps : 1;
        if (++e.pick[i] < n) break;
        e.pick[i] = 0;
      }
      if (i == s.n) break;
    }
  } else {
    size_t k;
    for (k = 0; k < PU_SAMPLES; k++) {
      for (i = 0; i < s.n; i++) {
        size_t n = m->q[s.v[i]].n_reps ? m->q[s.v[i]].n_reps : 1;
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
        e.pick[i] = (size_t)(rng % n);
      }
      total++;
      if (expr_eval(cond, &env) == TRI_TRUE) holds++;
    }
  }
  ts_free(e.pick);
  ts_free(s.v);
  return total ? (double)holds / (double)total : 0.5;
}

static void build_chances(loader *l)
{
  rules_model *m = l->m;
  size_t ci, e;
  for (ci = 0; ci < m->nc && l->rc == TSHOOT_OK; ci++)
    for (e = 0; e < m->c[ci].n_ev; e++) {
      rm_evidence *ev = &m->c[ci].ev[e];
      double p = ev->kind == RM_ANSWER ? 0 : chance_of(l, &ev->cond);
      /* a condition that (almost) always or never holds by chance still
      ** carries a bounded ratio */
      if (p < 0.001) p = 0.001;
      if (p > 0.999) p = 0.999;
      ev->pu_true = p;
    }
}

/* ===== loading ===== */

static const char *const yesno_vals[] = { "yes", "no" };
static const char *const yesno_labels[] = { "Yes", "No" };

/* Questions and their choices (yes/no questions get theirs built in). */
static void load_questions(loader *l)
{
  rules_model *m = l->m;
  sqlite3_stmt *st;
  size_t i, k;

  st = ld_query(l, "SELECT id, name, type, prompt, why, cost, probe, unit FROM question ORDER BY id");
  while (ld_step(l, st)) {
    int qi = ld_index(l, st, 0, m->nq);
    rm_question *q;
    const char *type;
    if (qi < 0) break;
    q = &m->q[qi];
    q->pos = (size_t)qi;
    q->id = ld_str(l, st, 1);
    q->type_name = ld_str(l, st, 2);
    q->prompt = ld_str(l, st, 3);
    q->why = ld_str(l, st, 4);
    q->cost = sqlite3_column_double(st, 5);
    q->probe = ld_str(l, st, 6);
    q->unit = ld_str(l, st, 7);
    type = q->type_name ? q->type_name : "";
    q->type = strcmp(type, "yesno") == 0 ? RM_YESNO : strcmp(type, "choice") == 0 ? RM_CHOICE
            : strcmp(type, "version") == 0 ? RM_VERSION : strcmp(type, "number") == 0 ? RM_NUMBER
            : RM_TEXT;
    if (!(q->cost > 0)) q->cost = 1;
  }
  sqlite3_finalize(st);
  /* choices: count first, then fill */
  st = ld_query(l, "SELECT question, count(*) FROM choice GROUP BY question");
  while (ld_step(l, st)) {
    int qi = ld_index(l, st, 0, m->nq);
    if (qi < 0) break;
    m->q[qi].n_choices = (size_t)sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  for (i = 0; i < m->nq && l->rc == TSHOOT_OK; i++) {
    rm_question *q = &m->q[i];
    if (q->type == RM_YESNO) {
      q->choices = ld_alloc(l, 2 * sizeof *q->choices);
      q->labels = ld_alloc(l, 2 * sizeof *q->labels);
      if (!q->choices || !q->labels) break;
      for (k = 0; k < 2; k++) {
        q->choices[k] = (char *)yesno_vals[k];
        q->labels[k] = (char *)yesno_labels[k];
      }
      q->n_choices = 2;     /* labels given in the source replace these below */
    } else if (q->n_choices) {
      q->choices = ld_alloc(l, q->n_choices * sizeof *q->choices);
      q->labels = ld_alloc(l, q->n_choices * sizeof *q->labels);
      q->n_choices = 0;
    }
  }
  st = ld_query(l, "SELECT question, pos, value, label FROM choice ORDER BY question, pos");
  while (ld_step(l, st)) {
    int qi = ld_index(l, st, 0, m->nq);
    rm_question *q;
    char *v, *lab;
    if (qi < 0) break;
    q = &m->q[qi];
    v = ld_str(l, st, 2);
    lab = ld_str(l, st, 3);
    if (q->type == RM_YESNO) {
      for (k = 0; k < 2; k++) if (v && strcmp(v, yesno_vals[k]) == 0) q->labels[k] = lab;
    } else if (q->choices) {
      q->choices[q->n_choices] = v;
      q->labels[q->n_choices] = lab;
      q->n_choices++;
    }
  }
  sqlite3_finalize(st);
}

/* Facts, articles, causes and symptoms, each cause and symptom indexed under
** its article. */
static void load_items(loader *l)
{
  rules_model *m = l->m;
  sqlite3_stmt *st;

  st = ld_query(l, "SELECT id, name, description FROM fact ORDER BY id");
  while (ld_step(l, st)) {
    int fi = ld_index(l, st, 0, m->nf);
    if (fi < 0) break;
    m->f[fi].id = ld_str(l, st, 1);
    m->f[fi].description = ld_str(l, st, 2);
  }
  sqlite3_finalize(st);
  st = ld_query(l, "SELECT id, name, title, escalation FROM article ORDER BY id");
  while (ld_step(l, st)) {
    int ai = ld_index(l, st, 0, m->na);
    if (ai < 0) break;
    m->a[ai].id = ld_str(l, st, 1);
    m->a[ai].title = ld_str(l, st, 2);
    m->a[ai].escalation = ld_str(l, st, 3);
  }
  sqlite3_finalize(st);
  st = ld_query(l, "SELECT value FROM meta WHERE key = '" TS_META_ESCALATION "'");
  if (ld_step(l, st)) m->escalation = ld_str(l, st, 0);
  sqlite3_finalize(st);
  st = ld_query(l, "SELECT id, name, article, title, explanation, prior FROM cause ORDER BY id");
  while (ld_step(l, st)) {
    int ci = ld_index(l, st, 0, m->nc), ai = ld_index(l, st, 2, m->na);
    rm_cause *c;
    if (ci < 0 || ai < 0) break;
    c = &m->c[ci];
    c->id = ld_str(l, st, 1);
    c->article = ai;
    c->title = ld_str(l, st, 3);
    c->explanation = ld_str(l, st, 4);
    c->prior = sqlite3_column_double(st, 5);
    if (m->a[ai].n_causes == 0) m->a[ai].first_cause = (uint32_t)ci;
    m->a[ai].n_causes++;
  }
  sqlite3_finalize(st);
  st = ld_query(l, "SELECT id, name, article, kind, code, text, causes FROM symptom ORDER BY id");
  while (ld_step(l, st)) {
    int si = ld_index(l, st, 0, m->ns), ai = ld_index(l, st, 2, m->na);
    rm_symptom *s;
    if (si < 0 || ai < 0) break;
    s = &m->s[si];
    s->id = ld_str(l, st, 1);
    s->article = ai;
    s->kind = ld_str(l, st, 3);
    s->code = ld_str(l, st, 4);
    s->text = ld_str(l, st, 5);
    if (m->a[ai].n_symptoms == 0) m->a[ai].first_symptom = (uint32_t)si;
    m->a[ai].n_symptoms++;
    /* names are resolved once every cause is indexed (resolve_symptoms) */
    if (sqlite3_column_type(st, 6) != SQLITE_NULL) s->causes = ld_alloc(l, 8 * sizeof *s->causes);
  }
  sqlite3_finalize(st);
}

/* Fixes, indexed under their causes, with their steps. */
static void load_fixes(loader *l)
{
  rules_model *m = l->m;
  sqlite3_stmt *st;

  st = ld_query(l, "SELECT id, name, cause, title, cost, risk, admin, reversible, script, verify, same_as FROM fix ORDER BY id");
  while (ld_step(l, st)) {
    int xi = ld_index(l, st, 0, m->nx), ci = ld_index(l, st, 2, m->nc);
    rm_fix *x;
    if (xi < 0 || ci < 0) break;
    x = &m->x[xi];
    x->id = ld_str(l, st, 1);
    x->cause = ci;
    x->title = ld_str(l, st, 3);
    x->cost = sqlite3_column_double(st, 4);
    if (!(x->cost > 0)) x->cost = 1;
    x->risk = ld_str(l, st, 5);
    x->admin = sqlite3_column_int(st, 6);
    x->reversible = sqlite3_column_int(st, 7);
    x->script = ld_str(l, st, 8);
    x->verify = ld_str(l, st, 9);
    x->same_as = ld_str(l, st, 10);
    if (m->c[ci].n_fixes == 0) m->c[ci].first_fix = (uint32_t)xi;
    m->c[ci].n_fixes++;
  }
  sqlite3_finalize(st);
  st = ld_query(l, "SELECT fix, count(*) FROM fix_step GROUP BY fix");
  while (ld_step(l, st)) {
    int xi = ld_index(l, st, 0, m->nx);
    if (xi < 0) break;
    m->x[xi].steps = ld_alloc(l, (size_t)sqlite3_column_int64(st, 1) * sizeof(char *));
  }
  sqlite3_finalize(st);
  st = ld_query(l, "SELECT fix, text FROM fix_step ORDER BY fix, pos");
  while (ld_step(l, st)) {
    int xi = ld_index(l, st, 0, m->nx);
    if (xi < 0) break;
    if (m->x[xi].steps) m->x[xi].steps[m->x[xi].n_steps++] = ld_str(l, st, 1);
  }
  sqlite3_finalize(st);
}

/* Counts and arrays, then each table in turn. */
static void load(loader *l)
{
  rules_model *m = l->m;
  m->nq = ld_count(l, "question");
  m->nf = ld_count(l, "fact");
  m->na = ld_count(l, "article");
  m->nc = ld_count(l, "cause");
  m->nx = ld_count(l, "fix");
  m->ns = ld_count(l, "symptom");
  m->q = ld_alloc(l, m->nq * sizeof *m->q);
  m->f = ld_alloc(l, m->nf * sizeof *m->f);
  m->a = ld_alloc(l, m->na * sizeof *m->a);
  m->c = ld_alloc(l, m->nc * sizeof *m->c);
  m->x = ld_alloc(l, m->nx * sizeof *m->x);
  m->s = ld_alloc(l, m->ns * sizeof *m->s);
  if (l->rc != TSHOOT_OK) return;
  load_questions(l);
  if (l->rc == TSHOOT_OK) load_items(l);
  if (l->rc == TSHOOT_OK) load_fixes(l);
}

/* ===== digests: what a saved session checks on a rebuilt KB =====
** 64-bit FNV-1a over the fields that give an item its meaning (a cheap
** change detector, not a security measure: saved sessions are signed when
** they travel, see session_save.c). */

#define FNV_START 0xcbf29ce484222325ull

static uint64_t fnv(uint64_t h, const char *s)
{
  if (!s) s = "\x01";              /* NULL differs from "" */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return (h ^ 0xff) * 0x100000001b3ull;   /* a field separator */
}

static uint64_t fnv_num(uint64_t h, double x)
{
  char b[32];
  snprintf(b, sizeof b, "%.17g", x);
  return fnv(h, b);
}

static void digest_hex(char out[17], uint64_t h)
{
  snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Questions (id, type, choice values), fixes (cause, script, steps) and
** symptoms (text, causes); causes get theirs in load_conditions. */
static void build_digests(loader *l)
{
  rules_model *m = l->m;
  size_t i, k;
  for (i = 0; i < m->nq; i++) {
    const rm_question *q = &m->q[i];
    uint64_t h = fnv(fnv(FNV_START, q->id), q->type_name);
    for (k = 0; k < q->n_choices; k++) h = fnv(h, q->choices[k]);
    digest_hex(m->q[i].digest, h);
  }
  for (i = 0; i < m->nx; i++) {
    const rm_fix *x = &m->x[i];
    uint64_t h = fnv(fnv(fnv(FNV_START, x->id), m->c[x->cause].id), x->script);
    for (k = 0; k < x->n_steps; k++) h = fnv(h, x->steps[k]);
    digest_hex(m->x[i].digest, h);
  }
  for (i = 0; i < m->ns; i++) {
    const rm_symptom *sy = &m->s[i];
    uint64_t h = fnv(fnv(FNV_START, sy->id), sy->text);
    for (k = 0; k < sy->n_causes; k++) h = fnv(h, m->c[sy->causes[k]].id);
    digest_hex(m->s[i].digest, h);
  }
}

/* Evidence, fact and ask-when conditions need every name resolvable first;
** so do phrases (their values are checked like answers). */
static void load_conditions(loader *l)
{
  rules_model *m = l->m;
  sqlite3_stmt *st;
  uint64_t *ev_hash;               /* per cause: its evidence rows, hashed */
  size_t i;
  st = ld_query(l, "SELECT id, ask_when FROM question WHERE ask_when IS NOT NULL ORDER BY id");
  while (ld_step(l, st)) {
    int qi = ld_index(l, st, 0, m->nq), rc;
    if (qi < 0) break;
    rc = expr_parse(&m->q[qi].ask_when, (const char *)sqlite3_column_text(st, 1), resolve, m);
    if (rc != TSHOOT_OK) { l->rc = rc; break; }
    m->q[qi].has_ask_when = 1;
  }
  sqlite3_finalize(st);
  st = ld_query(l, "SELECT question, count(*) FROM phrase GROUP BY question");
  while (ld_step(l, st)) {
    int qi = ld_index(l, st, 0, m->nq);
    size_t n;
    if (qi < 0) break;
    n = (size_t)sqlite3_column_int64(st, 1);
    m->q[qi].phrase_values = ld_alloc(l, n * sizeof(char *));
    m->q[qi].phrase_texts = ld_alloc(l, n * sizeof(char *));
  }
  sqlite3_finalize(st);
  st = ld_query(l, "SELECT question, value, text FROM phrase ORDER BY question, pos");
  while (ld_step(l, st)) {
    int qi = ld_index(l, st, 0, m->nq);
    rm_question *q;
    if (qi < 0) break;
    q = &m->q[qi];
    if (!q->phrase_values || !q->phrase_texts) { l->rc = ts_error(TSHOOT_ECORRUPT, "damaged KB: bad phrase row"); break; }
    q->phrase_values[q->n_phrases] = ld_str(l, st, 1);
    q->phrase_texts[q->n_phrases] = ld_str(l, st, 2);
    q->n_phrases++;
  }
  sqlite3_finalize(st);
  st = ld_query(l, "SELECT id, cond FROM fact ORDER BY id");
  while (ld_step(l, st)) {
    int fi = ld_index(l, st, 0, m->nf), rc;
    if (fi < 0) break;
    rc = expr_parse(&m->f[fi].cond, (const char *)sqlite3_column_text(st, 1), resolve, m);
    if (rc != TSHOOT_OK) { l->rc = rc; break; }
  }
  sqlite3_finalize(st);
  st = ld_query(l, "SELECT cause, count(*) FROM evidence GROUP BY cause");
  while (ld_step(l, st)) {
    int ci = ld_index(l, st, 0, m->nc);
    if (ci < 0) break;
    m->c[ci].ev = ld_alloc(l, (size_t)sqlite3_column_int64(st, 1) * sizeof *m->c[ci].ev);
  }
  sqlite3_finalize(st);
  ev_hash = ts_malloc((m->nc + 1) * sizeof *ev_hash);
  if (!ev_hash && l->rc == TSHOOT_OK) l->rc = ts_error_oom();
  for (i = 0; ev_hash && i < m->nc; i++) ev_hash[i] = FNV_START;
  st = ld_query(l, "SELECT cause, kind, question, value, p, cond FROM evidence ORDER BY cause, pos");
  while (ev_hash && ld_step(l, st)) {
    int ci = ld_index(l, st, 0, m->nc), col;
    rm_cause *c;
    rm_evidence *e;
    const char *kind = (const char *)sqlite3_column_text(st, 1);
    if (ci < 0) break;
    for (col = 1; col < 6; col++) ev_hash[ci] = fnv(ev_hash[ci], (const char *)sqlite3_column_text(st, col));
    c = &m->c[ci];
    if (!c->ev || !kind) { l->rc = ts_error(TSHOOT_ECORRUPT, "damaged KB: bad evidence row"); break; }
    e = &c->ev[c->n_ev++];
    e->p = sqlite3_column_double(st, 4);
    if (strcmp(kind, "answer") == 0) {
      e->kind = RM_ANSWER;
      e->question = rules_question(m, (const char *)sqlite3_column_text(st, 2));
      e->value = ld_str(l, st, 3);
      if (e->question < 0 || !e->value) { l->rc = ts_error(TSHOOT_ECORRUPT, "damaged KB: evidence names an unknown question"); break; }
    } else {
      int rc;
      e->kind = strcmp(kind, "expect") == 0 ? RM_EXPECT : RM_REQUIRES;
      e->question = -1;
      rc = expr_parse(&e->cond, (const char *)sqlite3_column_text(st, 5), resolve, m);
      if (rc != TSHOOT_OK) { l->rc = rc; break; }
    }
  }
  sqlite3_finalize(st);
  for (i = 0; ev_hash && i < m->nc; i++) {
    const rm_cause *c = &m->c[i];
    uint64_t h = fnv_num(fnv(fnv(ev_hash[i], c->id), m->a[c->article].id), c->prior);
    digest_hex(m->c[i].digest, h);
  }
  ts_free(ev_hash);
}

static void resolve_symptoms(loader *l)
{
  rules_model *m = l->m;
  sqlite3_stmt *st = ld_query(l, "SELECT id, causes FROM symptom WHERE causes IS NOT NULL ORDER BY id");
  while (ld_step(l, st)) {
    int si = ld_index(l, st, 0, m->ns);
    const char *list = (const char *)sqlite3_column_text(st, 1);
    rm_symptom *s;
    size_t pos = 0;
    if (si < 0 || !list) break;
    s = &m->s[si];
    s->n_causes = 0;
    while (list[pos] && s->causes) {
      size_t start;
      char name[128];
      while (list[pos] == ' ') pos++;
      start = pos;
      while (list[pos] && list[pos] != ' ') pos++;
      if (pos > start && pos - start < sizeof name && s->n_causes < 8) {
        int ci;
        memcpy(name, list + start, pos - start);
        name[pos - start] = '\0';
        ci = rules_cause(m, name);
        if (ci >= 0) s->causes[s->n_causes++] = ci;
      }
    }
  }
  sqlite3_finalize(st);
}

/* Which fixes are declared the same: one names the other in same-as=, in
** either direction (pairs, sorted: n log n). Fixes that run the same script
** are the same too; the session compares their script names directly. */
typedef struct fix_pair { uint32_t a, b; } fix_pair;

static int cmp_pair(const void *x, const void *y)
{
  const fix_pair *p = x, *q = y;
  if (p->a != q->a) return p->a < q->a ? -1 : 1;
  return p->b < q->b ? -1 : p->b > q->b;
}

static void resolve_fixes(loader *l)
{
  rules_model *m = l->m;
  fix_pair *pairs = NULL;
  size_t n = 0, cap = 0, i, j, k;
  for (i = 0; i < m->nx && l->rc == TSHOOT_OK; i++) {
    const char *names = m->x[i].same_as;
    size_t pos = 0;
    while (names && names[pos]) {
      size_t start;
      char name[128];
      int xi;
      while (names[pos] == ' ') pos++;
      start = pos;
      while (names[pos] && names[pos] != ' ') pos++;
      if (pos == start || pos - start >= sizeof name) continue;
      memcpy(name, names + start, pos - start);
      name[pos - start] = '\0';
      xi = rules_fix(m, name);
      if (xi < 0 || (size_t)xi == i) continue;
      if (ts_grow((void **)&pairs, &cap, n + 2, sizeof *pairs) < 0) { l->rc = ts_error_oom(); break; }
      pairs[n].a = (uint32_t)i; pairs[n++].b = (uint32_t)xi;
      pairs[n].a = (uint32_t)xi; pairs[n++].b = (uint32_t)i;
    }
  }
  if (l->rc == TSHOOT_OK && n) {
    qsort(pairs, n, sizeof *pairs, cmp_pair);
    for (i = 0; i < n; i = j) {
      rm_fix *x = &m->x[pairs[i].a];
      for (j = i + 1; j < n && pairs[j].a == pairs[i].a; j++) {}
      x->same = ld_alloc(l, (j - i) * sizeof *x->same);
      if (!x->same) break;
      for (k = i; k < j; k++)
        if (k == i || pairs[k].b != pairs[k - 1].b) x->same[x->n_same++] = pairs[k].b;
    }
  }
  ts_free(pairs);
}

static void build_dependencies(loader *l)
{
  rules_model *m = l->m;
  size_t i, e, k;
  uset s = { NULL, 0, 0, 0 };
  size_t *count;
  dep_ctx d;
  for (i = 0; i < m->nf && l->rc == TSHOOT_OK; i++) {
    d.m = m; d.s = &s; d.depth = 0;
    expr_questions(&m->f[i].cond, dep_q, &d);
    expr_facts(&m->f[i].cond, dep_f, &d);
    m->f[i].questions = uset_to_arena(l, &s, &m->f[i].n_questions);
  }
  for (i = 0; i < m->nc && l->rc == TSHOOT_OK; i++) {
    rm_cause *c = &m->c[i];
    d.m = m; d.s = &s; d.depth = 0;
    for (e = 0; e < c->n_ev; e++) {
      rm_evidence *ev = &c->ev[e];
      if (ev->kind == RM_ANSWER) continue;
      expr_questions(&ev->cond, dep_q, &d);
      expr_facts(&ev->cond, dep_f, &d);
      ev->questions = uset_to_arena(l, &s, &ev->n_questions);
    }
    for (e = 0; e < c->n_ev; e++) {
      rm_evidence *ev = &c->ev[e];
      size_t j;
      if (ev->kind == RM_ANSWER) uset_add(&s, (uint32_t)ev->question);
      for (j = 0; j < ev->n_questions; j++) uset_add(&s, ev->questions[j]);
    }
    c->questions = uset_to_arena(l, &s, &c->n_questions);
  }
  if (l->rc != TSHOOT_OK) return;
  count = ts_calloc(m->nq + 1, sizeof *count);
  if (!count) { l->rc = ts_error_oom(); return; }
  for (i = 0; i < m->nc; i++)
    for (k = 0; k < m->c[i].n_questions; k++) count[m->c[i].questions[k]]++;
  for (i = 0; i < m->nq; i++) {
    m->q[i].causes = ld_alloc(l, count[i] * sizeof *m->q[i].causes);
    m->q[i].n_causes = 0;
  }
  for (i = 0; i < m->nc && l->rc == TSHOOT_OK; i++)
    for (k = 0; k < m->c[i].n_questions; k++) {
      rm_question *q = &m->q[m->c[i].questions[k]];
      q->causes[q->n_causes++] = (uint32_t)i;
    }
  ts_free(count);
}

static int load_model(rules_model **out, tshoot_kb *kb)
{
  loader l;
  kb_conn *c = NULL;
  rules_model *m;
  int rc;

  *out = NULL;
  m = ts_calloc(1, sizeof *m);
  if (!m) return ts_error_oom();
  m->arena = ts_calloc(1, sizeof(ts_arena));
  if (!m->arena) { ts_free(m); return ts_error_oom(); }
  if (pthread_mutex_init(&m->derived_mu, NULL) != 0) {
    ts_free(m->arena);
    ts_free(m);
    return ts_error(TSHOOT_ERROR, "rules: cannot make a lock");
  }
  m->derived_mu_ok = 1;
  memset(&l, 0, sizeof l);
  l.m = m;
  l.ar = m->arena;
  rc = kb_conn_acquire(kb, &c);
  if (rc != TSHOOT_OK) { rules_free(m); return rc; }
  l.db = c->db;
  load(&l);
  if (l.rc == TSHOOT_OK) {
    m->q_by_name = build_names(&l, m->nq, q_name);
    m->f_by_name = build_names(&l, m->nf, f_name);
    m->c_by_name = build_names(&l, m->nc, c_name);
    m->x_by_name = build_names(&l, m->nx, x_name);
    m->a_by_name = build_names(&l, m->na, a_name);
    m->s_by_name = build_names(&l, m->ns, s_name);
  }
  load_conditions(&l);
  resolve_symptoms(&l);
  resolve_fixes(&l);
  if (l.rc == TSHOOT_OK) build_digests(&l);
  build_dependencies(&l);
  if (l.rc == TSHOOT_OK) build_reps(&l);
  if (l.rc == TSHOOT_OK) build_chances(&l);
  kb_conn_release(kb, c);
  memcpy(m->digest, kb->digest, sizeof m->digest);
  if (l.rc != TSHOOT_OK) { rules_free(m); return l.rc; }
  *out = m;
  return TSHOOT_OK;
}

void rules_free(rules_model *m)
{
  size_t i, e;
  if (!m) return;
  for (i = 0; i < m->nf && m->f; i++) expr_free(&m->f[i].cond);
  for (i = 0; i < m->nq && m->q; i++) if (m->q[i].has_ask_when) expr_free(&m->q[i].ask_when);
  for (i = 0; i < m->nc && m->c; i++)
    for (e = 0; e < m->c[i].n_ev; e++) expr_free(&m->c[i].ev[e].cond);
  if (m->arena) { ts_arena_free(m->arena); ts_free(m->arena); }
  while (m->derived) {
    rm_derived *d = m->derived;
    m->derived = d->next;
    d->free_fn(d->obj);
    ts_free(d);
  }
  if (m->derived_mu_ok) pthread_mutex_destroy(&m->derived_mu);
  ts_free(m);
}

int rules_derived(const rules_model *cm, double key, int (*make)(const rules_model *m, double key, void **obj),
                  void (*free_fn)(void *), void **out)
{
  /* the model is shared read-only; only this list changes, under its lock */
  rules_model *m = (rules_model *)cm;
  rm_derived *d;
  int rc = TSHOOT_OK;
  *out = NULL;
  pthread_mutex_lock(&m->derived_mu);
  for (d = m->derived; d; d = d->next)
    if (d->key == key) { *out = d->obj; goto done; }
  if (m->n_derived >= RULES_MAX_DERIVED) goto done;
  d = ts_calloc(1, sizeof *d);
  if (!d) { rc = ts_error_oom(); goto done; }
  rc = make(cm, key, &d->obj);
  if (rc != TSHOOT_OK) { ts_free(d); goto done; }
  d->key = key;
  d->free_fn = free_fn;
  d->next = m->derived;
  m->derived = d;
  m->n_derived++;
  *out = d->obj;
done:
  pthread_mutex_unlock(&m->derived_mu);
  return rc;
}

/* kb_cache_get's hooks: the model is one per-KB cache slot. */
static int make_model(tshoot_kb *kb, void **obj)
{
  rules_model *m = NULL;
  int rc = load_model(&m, kb);
  *obj = m;
  return rc;
}

static void free_model(void *m) { rules_free(m); }

int rules_get(const rules_model **out, tshoot_kb *kb)
{
  void *m;
  int rc = kb_cache_get(kb, KB_CACHE_RULES, make_model, free_model, &m);
  *out = m;
  return rc;
}

int rules_answer_ok(const rules_model *m, int q, const char *value, char *buf, size_t n)
{
  const rm_question *qq = &m->q[q];
  size_t i;
  if (!value || !*value) { snprintf(buf, n, "an empty answer"); return 0; }
  switch (qq->type) {
  case RM_YESNO:
  case RM_CHOICE: {
    ts_buf b = TS_BUF_INIT;
    for (i = 0; i < qq->n_choices; i++) if (strcmp(qq->choices[i], value) == 0) return 1;
    for (i = 0; i < qq->n_choices; i++) ts_buf_addf(&b, "%s%s", i ? ", " : "", qq->choices[i]);
    snprintf(buf, n, "'%s' is not an answer to '%s' (answer one of: %s)", value, qq->id, b.p ? b.p : "");
    ts_buf_free(&b);
    return 0;
  }
  case RM_VERSION:
    for (i = 0; value[i]; i++)
      if (!((value[i] >= '0' && value[i] <= '9') || (value[i] == '.' && i > 0))) {
        snprintf(buf, n, "'%s' is not a version (write numbers and dots, like 16.0.4266)", value);
        return 0;
      }
    return 1;
  case RM_NUMBER: {
    int digits = 0;
    i = (value[0] == '-' || value[0] == '+');
    for (; value[i] >= '0' && value[i] <= '9'; i++) digits++;
    if (value[i] == '.') for (i++; value[i] >= '0' && value[i] <= '9'; i++) digits++;
    if (!digits || value[i]) { snprintf(buf, n, "'%s' is not a number", value); return 0; }
    return 1;
  }
  default:
    return 1;
  }
}
