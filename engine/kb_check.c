/*
** kb_check.c: the checks a schema cannot express, over the whole KB at once:
** duplicate and unknown ids (with did-you-mean), answers outside a question's
** choices, comparisons on unordered questions, probabilities that do not add
** up, fact cycles, causes nothing can reach or whose requirements no answers
** can satisfy, and scripts that are missing or do not parse.
**
** Every finding is a diagnostic at the exact attribute it is about; checking
** goes on after an error so that one run reports everything. After schema
** errors the checks still run on everything read; what depends on a broken
** element is skipped (kb_read.c: broken, maybe_ids), so no error is only the
** echo of another.
*/
#include "kb_model.h"
#include "text.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCRIPT_SIZE (1024 * 1024)

/* ===== id indexes: sorted (id, position) pairs ===== */

typedef struct id_entry { const char *id; size_t i; } id_entry;
typedef struct id_index {
  id_entry *e;
  size_t n;
  const char **names;   /* ids in sorted order, for did-you-mean */
} id_index;

static int cmp_entry(const void *a, const void *b)
{
  const id_entry *x = a, *y = b;
  int c = strcmp(x->id, y->id);
  if (c) return c;
  return x->i < y->i ? -1 : x->i > y->i;
}

static int index_build(id_index *x, size_t n)
{
  x->n = 0;
  x->e = ts_malloc((n ? n : 1) * sizeof *x->e);
  x->names = ts_malloc((n ? n : 1) * sizeof *x->names);
  return x->e && x->names ? 0 : -1;
}

static void index_add(id_index *x, const char *id, size_t i)
{
  if (!id) return;
  x->e[x->n].id = id;
  x->e[x->n].i = i;
  x->n++;
}

static void index_sort(id_index *x)
{
  size_t i;
  qsort(x->e, x->n, sizeof *x->e, cmp_entry);
  for (i = 0; i < x->n; i++) x->names[i] = x->e[i].id;
}

static long index_find(const id_index *x, const char *id)
{
  size_t lo = 0, hi = x->n;
  if (!id) return -1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(x->e[mid].id, id);
    if (c == 0) {
      while (mid > 0 && strcmp(x->e[mid - 1].id, id) == 0) mid--;
      return (long)x->e[mid].i;
    }
    if (c < 0) lo = mid + 1; else hi = mid;
  }
  return -1;
}

static void index_free(id_index *x)
{
  ts_free(x->e);
  ts_free(x->names);
  x->e = NULL;
  x->names = NULL;
}

typedef struct checker {
  kb_model *m;
  id_index questions, facts, articles, causes, fixes, tests, symptoms;
} checker;

/* Report duplicates in a sorted index: the later one is the error. */
static void report_duplicates(checker *k, id_index *x, const char *kind,
                              m_loc (*loc_of)(const kb_model *, size_t))
{
  size_t i;
  for (i = 1; i < x->n; i++)
    if (strcmp(x->e[i].id, x->e[i - 1].id) == 0) {
      size_t first = i - 1;
      m_loc l, f;
      while (first > 0 && strcmp(x->e[first - 1].id, x->e[i].id) == 0) first--;
      l = loc_of(k->m, x->e[i].i);
      f = loc_of(k->m, x->e[first].i);
      M_ERROR(k->m, l, "TSH-E010", "%s id '%s' is already used", kind, x->e[i].id);
      M_NOTE(k->m, f, "'%s' was first defined here", x->e[i].id);
    }
}

static m_loc q_loc(const kb_model *m, size_t i) { return m->questions[i].at; }
static m_loc f_loc(const kb_model *m, size_t i) { return m->facts[i].at; }
static m_loc a_loc(const kb_model *m, size_t i) { return m->articles[i].at; }
static m_loc c_loc(const kb_model *m, size_t i) { return m->causes[i].at; }
static m_loc t_loc(const kb_model *m, size_t i) { return m->tests[i].at; }
/* fixes and symptoms are indexed by (cause|article) << 20 | position */
#define PACK(a, b) (((size_t)(a) << 20) | (size_t)(b))
static m_loc x_loc(const kb_model *m, size_t i) { return m->causes[i >> 20].fixes[i & 0xFFFFF].at; }
static m_loc s_loc(const kb_model *m, size_t i) { return m->articles[i >> 20].symptoms[i & 0xFFFFF].at; }

/* ===== values ===== */

static int is_version(const char *v)
{
  int digits = 0;
  if (!v || !*v) return 0;
  for (; *v; v++) {
    if (*v >= '0' && *v <= '9') digits++;
    else if (*v == '.' && digits) digits = 0;
    else return 0;
  }
  return digits > 0;
}

static int is_number(const char *v)
{
  int digits = 0;
  if (!v) return 0;
  if (*v == '-' || *v == '+') v++;
  for (; *v >= '0' && *v <= '9'; v++) digits++;
  if (*v == '.') for (v++; *v >= '0' && *v <= '9'; v++) digits++;
  return digits > 0 && *v == '\0';
}

static const char *const yesno_values[] = { "yes", "no" };

/* Check that `value` is an answer question q allows; report at `at`. */
static int check_value(checker *k, const m_question *q, const char *value, m_loc at)
{
  char buf[160];
  size_t i;
  if (!value) return 0;
  if (!q->type_name) return 1;   /* its type is wrong or missing: reported there */
  switch (q->type) {
  case Q_YESNO:
    if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) return 1;
    M_ERROR(k->m, at, "TSH-E015", "'%s' is not an answer to yes/no question '%s': use yes or no%s",
            value, q->id, ts_did_you_mean(buf, sizeof buf, value, yesno_values, 2));
    return 0;
  case Q_CHOICE: {
    ts_buf list = TS_BUF_INIT;
    const char **cands = ts_malloc((q->n_choices + 1) * sizeof *cands);
    for (i = 0; i < q->n_choices; i++) {
      if (q->choices[i].value && strcmp(q->choices[i].value, value) == 0) {
        ts_free(cands);
        ts_buf_free(&list);
        return 1;
      }
      if (cands) cands[i] = q->choices[i].value;
      ts_buf_addf(&list, "%s%s", i ? ", " : "", q->choices[i].value ? q->choices[i].value : "");
    }
    M_ERROR(k->m, at, "TSH-E015", "'%s' is not one of the choices of question '%s' (%s)%s",
            value, q->id, list.p ? list.p : "",
            ts_did_you_mean(buf, sizeof buf, value, cands, q->n_choices));
    ts_buf_free(&list);
    ts_free(cands);
    return 0;
  }
  case Q_VERSION:
    if (is_version(value)) return 1;
    M_ERROR(k->m, at, "TSH-E015", "'%s' is not a version for question '%s' (write numbers and dots, like 16.0.4266)",
            value, q->id);
    return 0;
  case Q_NUMBER:
    if (is_number(value)) return 1;
    M_ERROR(k->m, at, "TSH-E015", "'%s' is not a number for question '%s'", value, q->id);
    return 0;
  case Q_TEXT:
    return 1;
  }
  return 1;
}

/* May `id` be defined by an element the schema reported (or by a file that
** did not parse)? Then an unknown reference to it is not reported. */
static int maybe_defined(const kb_model *m, const char *id)
{
  size_t i;
  if (m->schema_failed) return 1;
  for (i = 0; id && i < m->n_maybe_ids; i++)
    if (strcmp(m->maybe_ids[i], id) == 0) return 1;
  return 0;
}

static m_question *find_question(checker *k, const char *id, m_loc at)
{
  char buf[160];
  long i = index_find(&k->questions, id);
  if (i >= 0) {
    k->m->questions[i].used = 1;
    return &k->m->questions[i];
  }
  if (id && !maybe_defined(k->m, id))
    M_ERROR(k->m, at, "TSH-E011", "unknown question '%s'%s", id,
            ts_did_you_mean(buf, sizeof buf, id, k->questions.names, k->questions.n));
  return NULL;
}

/* ===== conditions ===== */

static const char *const op_names[] = { "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge",
                                        "in", "holds", "known" };

static void check_cond(checker *k, const m_cond *c)
{
  char buf[160];
  size_t i;
  if (!c) return;
  switch (c->op) {
  case C_AND: case C_OR: case C_NOT:
    for (i = 0; i < c->n_kids; i++) check_cond(k, c->kids[i]);
    break;
  case C_HOLDS: {
    long f = index_find(&k->facts, c->ref);
    if (f >= 0) k->m->facts[f].used = 1;
    else if (c->ref && !maybe_defined(k->m, c->ref))
      M_ERROR(k->m, c->ref_at, "TSH-E012", "unknown fact '%s'%s", c->ref ? c->ref : "",
              ts_did_you_mean(buf, sizeof buf, c->ref, k->facts.names, k->facts.n));
    break;
  }
  case C_KNOWN:
    find_question(k, c->ref, c->ref_at);
    break;
  case C_LT: case C_LE: case C_GT: case C_GE: {
    m_question *q = find_question(k, c->ref, c->ref_at);
    if (!q || !q->type_name) break;
    if (q->type != Q_VERSION && q->type != Q_NUMBER) {
      M_ERROR(k->m, c->at, "TSH-E016", "<%s> compares in order, but question '%s' is of type %s; "
              "use <eq>/<in>, or make it a version or number question",
              op_names[c->op], q->id, q->type_name ? q->type_name : "?");
      break;
    }
    check_value(k, q, c->values[0], c->value_at);
    break;
  }
  default: { /* EQ, NE, IN */
    m_question *q = find_question(k, c->ref, c->ref_at);
    if (!q) break;
    for (i = 0; i < c->n_values; i++) check_value(k, q, c->values[i], c->value_at);
    break;
  }
  }
}

/* Depth-first search over holds -> fact edges; visit: 0 new, 1 on stack, 2 done. */
static int fact_cycle_walk(checker *k, size_t f);

static int cond_cycle_walk(checker *k, const m_cond *c, size_t from)
{
  size_t i;
  if (!c) return 0;
  if (c->op == C_HOLDS) {
    long g = index_find(&k->facts, c->ref);
    if (g < 0) return 0;
    if (k->m->facts[g].visit == 1) {
      M_ERROR(k->m, c->ref_at, "TSH-E019", "fact '%s' depends on itself (through '%s')",
              k->m->facts[g].id, k->m->facts[from].id);
      return 1;
    }
    if (k->m->facts[g].visit == 0) return fact_cycle_walk(k, (size_t)g);
    return 0;
  }
  for (i = 0; i < c->n_kids; i++)
    if (cond_cycle_walk(k, c->kids[i], from)) return 1;
  return 0;
}

static int fact_cycle_walk(checker *k, size_t f)
{
  m_fact *fa = &k->m->facts[f];
  size_t i;
  int cyc = 0;
  fa->visit = 1;
  for (i = 0; i < fa->n_whens && !cyc; i++) cyc = cond_cycle_walk(k, fa->whens[i], f);
  fa->visit = 2;
  return cyc;
}

/* ===== satisfiability of a cause's requirements ===== */

#define SAT_MAX_Q 16
#define SAT_MAX_COMBOS 65536

typedef struct sat_state {
  checker *k;
  long q[SAT_MAX_Q];      /* question indexes involved */
  size_t nq;
  size_t pick[SAT_MAX_Q]; /* current answer index per question */
  int finite;             /* all involved questions have finite answers */
  int depth;
} sat_state;

static void sat_collect(sat_state *s, const m_cond *c)
{
  size_t i;
  if (!c || !s->finite) return;
  if (c->op == C_HOLDS) {
    long f = index_find(&s->k->facts, c->ref);
    if (f < 0 || s->depth > 32) { s->finite = 0; return; }
    s->depth++;
    for (i = 0; i < s->k->m->facts[f].n_whens; i++) sat_collect(s, s->k->m->facts[f].whens[i]);
    s->depth--;
    return;
  }
  if (c->op == C_AND || c->op == C_OR || c->op == C_NOT) {
    for (i = 0; i < c->n_kids; i++) sat_collect(s, c->kids[i]);
    return;
  }
  {
    long q = index_find(&s->k->questions, c->ref);
    const m_question *qq;
    if (q < 0) { s->finite = 0; return; }
    qq = &s->k->m->questions[q];
    if (!qq->type_name || (qq->type != Q_YESNO && qq->type != Q_CHOICE)) { s->finite = 0; return; }
    for (i = 0; i < s->nq; i++) if (s->q[i] == q) return;
    if (s->nq == SAT_MAX_Q) { s->finite = 0; return; }
    s->q[s->nq++] = q;
  }
}

static const char *sat_answer(const sat_state *s, const char *qid)
{
  size_t i;
  long q = index_find(&s->k->questions, qid);
  for (i = 0; i < s->nq; i++)
    if (s->q[i] == q) {
      const m_question *qq = &s->k->m->questions[q];
      return qq->type == Q_YESNO ? yesno_values[s->pick[i]] : qq->choices[s->pick[i]].value;
    }
  return NULL;
}

static int sat_eval(const sat_state *s, const m_cond *c, int depth)
{
  size_t i;
  const char *a;
  if (!c || depth > 64) return 1;
  switch (c->op) {
  case C_AND:
    for (i = 0; i < c->n_kids; i++) if (!sat_eval(s, c->kids[i], depth + 1)) return 0;
    return 1;
  case C_OR:
    for (i = 0; i < c->n_kids; i++) if (sat_eval(s, c->kids[i], depth + 1)) return 1;
    return 0;
  case C_NOT:
    return c->n_kids ? !sat_eval(s, c->kids[0], depth + 1) : 1;
  case C_HOLDS: {
    long f = index_find(&s->k->facts, c->ref);
    if (f < 0) return 1;
    for (i = 0; i < s->k->m->facts[f].n_whens; i++)
      if (sat_eval(s, s->k->m->facts[f].whens[i], depth + 1)) return 1;
    return 0;
  }
  case C_KNOWN:
    return 1;
  case C_EQ: case C_NE: case C_IN: {
    int hit = 0;
    a = sat_answer(s, c->ref);
    if (!a) return 1;
    for (i = 0; i < c->n_values; i++) if (c->values[i] && strcmp(a, c->values[i]) == 0) hit = 1;
    return c->op == C_NE ? !hit : hit;
  }
  default:
    return 1;
  }
}

/* 1 satisfiable, 0 not, -1 cannot tell (open-ended questions or too many). */
static int requires_satisfiable(checker *k, const m_cause *c)
{
  sat_state s;
  size_t i, combos = 1;
  memset(&s, 0, sizeof s);
  s.k = k;
  s.finite = 1;
  for (i = 0; i < c->n_ev; i++)
    if (c->ev[i].kind == E_REQUIRES) sat_collect(&s, c->ev[i].cond);
  if (!s.finite) return -1;
  for (i = 0; i < s.nq; i++) {
    const m_question *q = &k->m->questions[s.q[i]];
    size_t n = q->type == Q_YESNO ? 2 : q->n_choices;
    if (n == 0) return -1;
    combos *= n;
    if (combos > SAT_MAX_COMBOS) return -1;
  }
  for (;;) {
    int ok = 1;
    for (i = 0; i < c->n_ev && ok; i++)
      if (c->ev[i].kind == E_REQUIRES && !sat_eval(&s, c->ev[i].cond, 0)) ok = 0;
    if (ok) return 1;
    /* next combination */
    for (i = 0; i < s.nq; i++) {
      const m_question *q = &k->m->questions[s.q[i]];
      size_t n = q->type == Q_YESNO ? 2 : q->n_choices;
      if (++s.pick[i] < n) break;
      s.pick[i] = 0;
    }
    if (i == s.nq) return 0;
  }
}

/* ===== scripts ===== */

static void *lua_cap_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  size_t *used = ud;
  if (nsize == 0) {
    if (ptr) *used -= osize;
    free(ptr);
    return NULL;
  }
  if (!ptr) osize = 0;
  if (nsize > osize && *used + (nsize - osize) > 64u * 1024 * 1024) return NULL;
  ptr = realloc(ptr, nsize);
  if (ptr) *used += nsize - osize;
  return ptr;
}

/* Find, read and parse script `name` named at `at`; keep it once in the model. */
static void check_script(checker *k, const char *name, m_loc at)
{
  kb_model *m = k->m;
  ts_buf path = TS_BUF_INIT;
  char *body = NULL;
  size_t len = 0, i;
  int rc = TSHOOT_ENOTFOUND;
  const char *src_path = model_src_name(m, &at), *slash;

  if (!name) return;
  for (i = 0; i < m->n_scripts; i++)
    if (strcmp(m->scripts[i].name, name) == 0) return;
  if (name[0] == '/' || strstr(name, "..") || strstr(name, "//")) {
    M_ERROR(m, at, "TSH-E026", "script name '%s' must be a relative path without '..'", name);
    return;
  }
  /* the source's own folder first, then the script folders */
  slash = strrchr(src_path, '/');
  if (slash) ts_buf_add(&path, src_path, (size_t)(slash - src_path + 1));
  ts_buf_adds(&path, name);
  if (path.p) rc = ts_read_file(&body, &len, path.p, MAX_SCRIPT_SIZE);
  for (i = 0; i < m->n_script_dirs && rc == TSHOOT_ENOTFOUND; i++) {
    ts_buf_reset(&path);
    ts_buf_addf(&path, "%s/%s", m->script_dirs[i], name);
    if (path.p) rc = ts_read_file(&body, &len, path.p, MAX_SCRIPT_SIZE);
  }
  if (rc == TSHOOT_ENOTFOUND) {
    ts_buf dirs = TS_BUF_INIT;
    for (i = 0; i < m->n_script_dirs; i++) ts_buf_addf(&dirs, ", %s", m->script_dirs[i]);
    M_ERROR(m, at, "TSH-E024", "script '%s' not found (looked next to the source%s%s)", name,
            m->n_script_dirs ? " and in " : "; pass --scripts DIR to look in a folder",
            dirs.p ? dirs.p + 2 : "");
    ts_buf_free(&dirs);
  } else if (rc != TSHOOT_OK) {
    M_ERROR(m, at, "TSH-E024", "script '%s': %s", name, tshoot_error_last()->message);
  } else {
    size_t used = 0;
    lua_State *L = lua_newstate(lua_cap_alloc, &used);
    char chunk[256];
    snprintf(chunk, sizeof chunk, "=%s", name);
    if (!L) {
      M_ERROR(m, at, "TSH-E025", "script '%s': cannot create a Lua state to check it", name);
    } else if (luaL_loadbufferx(L, body, len, chunk, "t") != LUA_OK) {
      const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "unknown error";
      M_ERROR(m, at, "TSH-E025", "script '%s' does not parse: %s", name, msg);
    } else if (ts_grow((void **)&m->scripts, &m->cap_scripts, m->n_scripts + 1, sizeof *m->scripts) == 0) {
      m_script *s = &m->scripts[m->n_scripts++];
      s->name = ts_arena_strdup(&m->ar, name);
      s->body = body;
      s->len = len;
      ts_sha256_hex(body, len, s->sha256);
      body = NULL;
    } else {
      m->ar.oom = 1;
    }
    if (L) lua_close(L);
  }
  ts_free(body);
  ts_buf_free(&path);
}

/* ===== the checks ===== */

static void check_questions(checker *k)
{
  kb_model *m = k->m;
  size_t i, j, l;
  for (i = 0; i < m->n_questions; i++) {
    m_question *q = &m->questions[i];
    if (q->probe) check_script(k, q->probe, q->probe_at);
    if (!q->type_name) continue;   /* its type is wrong or missing: reported there */
    if (q->type == Q_CHOICE && q->n_choices < 2)
      M_ERROR(m, q->at, "TSH-E023", "choice question '%s' needs at least two <choice> elements", q->id);
    if (q->type == Q_YESNO)
      for (j = 0; j < q->n_choices; j++)
        if (q->choices[j].value && strcmp(q->choices[j].value, "yes") && strcmp(q->choices[j].value, "no"))
          M_ERROR(m, q->choices[j].at, "TSH-E023",
                  "yes/no question '%s' can only label the choices yes and no, not '%s'",
                  q->id, q->choices[j].value);
    if ((q->type == Q_VERSION || q->type == Q_NUMBER || q->type == Q_TEXT) && q->n_choices)
      M_ERROR(m, q->choices[0].at, "TSH-E023",
              "question '%s' is of type %s: <choice> is only for choice and yesno questions",
              q->id, q->type_name);
    for (j = 0; j < q->n_choices; j++)
      for (l = 0; l < j; l++)
        if (q->choices[j].value && q->choices[l].value &&
            strcmp(q->choices[j].value, q->choices[l].value) == 0) {
          M_ERROR(m, q->choices[j].at, "TSH-E010", "question '%s' lists choice '%s' twice",
                  q->id, q->choices[j].value);
          break;
        }
    if (q->ask_when) check_cond(k, q->ask_when);
    for (j = 0; j < q->n_phrases; j++) check_value(k, q, q->phrases[j].value, q->phrases[j].value_at);
  }
}

/* same-as= names fixes; the KB's escalation text is given once. */
static void check_fixes_and_escalation(checker *k)
{
  kb_model *m = k->m;
  size_t i, j, l;
  char buf[160];
  const m_source *first = NULL;
  for (i = 0; i < m->n_causes; i++)
    for (j = 0; j < m->causes[i].n_fixes; j++) {
      const m_fix *f = &m->causes[i].fixes[j];
      for (l = 0; l < f->n_same_as; l++)
        if (index_find(&k->fixes, f->same_as[l]) < 0 && !maybe_defined(m, f->same_as[l]))
          M_ERROR(m, f->same_at, "TSH-E033", "fix '%s' is declared the same as unknown fix '%s'%s", f->id,
                  f->same_as[l], ts_did_you_mean(buf, sizeof buf, f->same_as[l], k->fixes.names, k->fixes.n));
    }
  for (i = 0; i < m->n_sources; i++) {
    const m_source *src = &m->sources[i];
    if (!src->escalation) continue;
    if (!first) { first = src; continue; }
    M_ERROR(m, src->escalation_at, "TSH-E034", "the KB's <escalation> is given a second time (one "
            "KB-wide text; an article may have its own)");
    M_NOTE(m, first->escalation_at, "the first one is here");
  }
}

static void check_cause(checker *k, size_t ci)
{
  kb_model *m = k->m;
  m_cause *c = &m->causes[ci];
  m_article *a = &m->articles[c->article];
  size_t i, j, s;
  int reached = c->n_ev > 0;

  if (c->id && strcmp(c->id, "none") == 0)
    M_ERROR(m, c->at, "TSH-E022", "the cause id 'none' is reserved for \"none of the known causes\"; "
            "choose another id");
  if (c->prior <= 0)
    M_ERROR(m, c->at, "TSH-E018", "cause '%s' has prior 0, so it could never be concluded; "
            "give it a small prior such as 0.01", c->id);
  for (i = 0; i < c->n_ev; i++) {
    m_evidence *e = &c->ev[i];
    if (e->kind == E_ANSWER) {
      m_question *q = find_question(k, e->question, e->question_at);
      double sum = 0;
      if (!q) continue;
      check_value(k, q, e->value, e->value_at);
      for (j = 0; j < c->n_ev; j++) {
        m_evidence *f = &c->ev[j];
        if (f->kind != E_ANSWER || !f->question || strcmp(f->question, e->question)) continue;
        if (j < i && f->value && e->value && strcmp(f->value, e->value) == 0) {
          M_ERROR(m, e->at, "TSH-E029", "cause '%s' gives the likelihood of %s = %s twice",
                  c->id, e->question, e->value);
          break;
        }
        sum += f->p;
      }
      /* report the sum once per question, at its first answer */
      for (j = 0; j < i; j++)
        if (c->ev[j].kind == E_ANSWER && c->ev[j].question && strcmp(c->ev[j].question, e->question) == 0)
          break;
      if (j == i && sum > 1.0 + 1e-9)
        M_ERROR(m, e->at, "TSH-E017", "under cause '%s' the answers to '%s' have likelihoods that add up "
                "to %.3g, more than 1", c->id, e->question, sum);
    } else {
      check_cond(k, e->cond);
    }
  }
  for (s = 0; s < a->n_symptoms && !reached; s++) {
    m_symptom *sy = &a->symptoms[s];
    if (!sy->causes) reached = 1;
    for (j = 0; j < sy->n_causes; j++)
      if (c->id && strcmp(sy->causes[j], c->id) == 0) reached = 1;
  }
  /* a cause in an article with a schema error may have lost its evidence or
  ** symptoms to it: reachability and satisfiability are not judged */
  if (!reached && !c->broken)
    M_ERROR(m, c->at, "TSH-E020", "cause '%s' can never be reached: it has no <evidence> and no symptom "
            "points at it; add evidence, or a <symptom causes=\"%s\">", c->id, c->id);
  if (!c->broken && requires_satisfiable(k, c) == 0)
    M_ERROR(m, c->at, "TSH-E021", "cause '%s' can never be concluded: no answers satisfy all of its "
            "<requires> conditions together", c->id);
  for (i = 0; i < c->n_fixes; i++)
    if (c->fixes[i].script) check_script(k, c->fixes[i].script, c->fixes[i].script_at);
}

static void check_article_symptoms(checker *k, size_t ai)
{
  kb_model *m = k->m;
  m_article *a = &m->articles[ai];
  size_t s, j, c;
  char buf[160];
  const char **cands;
  if (a->broken) return;   /* one of its causes may be the broken element */
  cands = ts_malloc((a->n_causes + 1) * sizeof *cands);
  for (c = 0; c < a->n_causes; c++) if (cands) cands[c] = m->causes[a->first_cause + c].id;
  for (s = 0; s < a->n_symptoms; s++) {
    m_symptom *sy = &a->symptoms[s];
    for (j = 0; j < sy->n_causes; j++) {
      int found = 0;
      for (c = 0; c < a->n_causes; c++)
        if (m->causes[a->first_cause + c].id && strcmp(m->causes[a->first_cause + c].id, sy->causes[j]) == 0)
          found = 1;
      if (!found)
        M_ERROR(m, sy->causes_at, "TSH-E027", "symptom names '%s', which is not a cause of article '%s'%s",
                sy->causes[j], a->id,
                ts_did_you_mean(buf, sizeof buf, sy->causes[j], cands, a->n_causes));
    }
  }
  ts_free(cands);
}

static void check_tests(checker *k)
{
  kb_model *m = k->m;
  size_t i, j, l;
  char buf[160];
  for (i = 0; i < m->n_tests; i++) {
    m_test *t = &m->tests[i];
    long c = -1, f = -1;
    if (t->expect_cause && strcmp(t->expect_cause, "none") != 0) {
      c = index_find(&k->causes, t->expect_cause);
      if (c < 0 && !maybe_defined(m, t->expect_cause))
        M_ERROR(m, t->cause_at, "TSH-E013", "test '%s' expects unknown cause '%s'%s", t->id,
                t->expect_cause, ts_did_you_mean(buf, sizeof buf, t->expect_cause, k->causes.names, k->causes.n));
    }
    if (t->expect_fix) {
      f = index_find(&k->fixes, t->expect_fix);
      if (f < 0 && !maybe_defined(m, t->expect_fix))
        M_ERROR(m, t->fix_at, "TSH-E014", "test '%s' expects unknown fix '%s'%s", t->id,
                t->expect_fix, ts_did_you_mean(buf, sizeof buf, t->expect_fix, k->fixes.names, k->fixes.n));
      else if (f >= 0 && c >= 0 && (size_t)f >> 20 != (size_t)c)
        M_ERROR(m, t->fix_at, "TSH-E028", "test '%s' expects fix '%s', which is not a fix of cause '%s'",
                t->id, t->expect_fix, t->expect_cause);
    }
    if (!t->text && t->n_given == 0 && !t->broken)
      M_ERROR(m, t->at, "TSH-E030", "test '%s' gives neither <text> nor <given> answers", t->id);
    for (j = 0; j < t->n_given; j++) {
      m_given *g = &t->given[j];
      m_question *q = find_question(k, g->question, g->question_at);
      if (q) check_value(k, q, g->value, g->value_at);
      for (l = 0; l < j; l++)
        if (g->question && t->given[l].question && strcmp(g->question, t->given[l].question) == 0) {
          M_ERROR(m, g->at, "TSH-E029", "test '%s' answers question '%s' twice", t->id, g->question);
          break;
        }
    }
  }
}

static void check_synonyms(checker *k)
{
  kb_model *m = k->m;
  size_t i;
  for (i = 0; i < m->n_synonyms; i++)
    if (m->synonyms[i].n_terms < 2)
      M_WARN(m, m->synonyms[i].at, "TSH-W003", "a synonym group needs at least two terms");
}

int kb_check(kb_model *m)
{
  checker k;
  size_t i, j;
  int rc = TSHOOT_OK;
  size_t nfix = 0, nsym = 0;

  memset(&k, 0, sizeof k);
  k.m = m;
  for (i = 0; i < m->n_causes; i++) nfix += m->causes[i].n_fixes;
  for (i = 0; i < m->n_articles; i++) nsym += m->articles[i].n_symptoms;
  if (index_build(&k.questions, m->n_questions) || index_build(&k.facts, m->n_facts) ||
      index_build(&k.articles, m->n_articles) || index_build(&k.causes, m->n_causes) ||
      index_build(&k.fixes, nfix) || index_build(&k.tests, m->n_tests) ||
      index_build(&k.symptoms, nsym)) {
    rc = ts_error_oom();
    goto done;
  }
  for (i = 0; i < m->n_questions; i++) index_add(&k.questions, m->questions[i].id, i);
  for (i = 0; i < m->n_facts; i++) index_add(&k.facts, m->facts[i].id, i);
  for (i = 0; i < m->n_articles; i++) {
    index_add(&k.articles, m->articles[i].id, i);
    for (j = 0; j < m->articles[i].n_symptoms; j++)
      index_add(&k.symptoms, m->articles[i].symptoms[j].id, PACK(i, j));
  }
  for (i = 0; i < m->n_causes; i++) {
    index_add(&k.causes, m->causes[i].id, i);
    for (j = 0; j < m->causes[i].n_fixes; j++) index_add(&k.fixes, m->causes[i].fixes[j].id, PACK(i, j));
  }
  for (i = 0; i < m->n_tests; i++) index_add(&k.tests, m->tests[i].id, i);
  index_sort(&k.questions); index_sort(&k.facts); index_sort(&k.articles); index_sort(&k.causes);
  index_sort(&k.fixes); index_sort(&k.tests); index_sort(&k.symptoms);

  report_duplicates(&k, &k.questions, "question", q_loc);
  report_duplicates(&k, &k.facts, "fact", f_loc);
  report_duplicates(&k, &k.articles, "article", a_loc);
  report_duplicates(&k, &k.causes, "cause", c_loc);
  report_duplicates(&k, &k.fixes, "fix", x_loc);
  report_duplicates(&k, &k.tests, "test", t_loc);
  report_duplicates(&k, &k.symptoms, "symptom", s_loc);

  check_questions(&k);
  for (i = 0; i < m->n_facts; i++)
    for (j = 0; j < m->facts[i].n_whens; j++) check_cond(&k, m->facts[i].whens[j]);
  /* cycles are reported here; the satisfiability walk has its own depth guard */
  for (i = 0; i < m->n_facts; i++)
    if (m->facts[i].visit == 0) fact_cycle_walk(&k, i);
  for (i = 0; i < m->n_articles; i++) check_article_symptoms(&k, i);
  for (i = 0; i < m->n_causes; i++) check_cause(&k, i);
  check_tests(&k);
  check_synonyms(&k);
  check_fixes_and_escalation(&k);
  for (i = 0; i < m->n_questions; i++)
    if (!m->questions[i].used && index_find(&k.questions, m->questions[i].id) == (long)i &&
        !maybe_defined(m, m->questions[i].id))
      M_WARN(m, m->questions[i].at, "TSH-W001", "question '%s' is never used by evidence, a fact or a test",
             m->questions[i].id);
  for (i = 0; i < m->n_facts; i++)
    if (!m->facts[i].used && !maybe_defined(m, m->facts[i].id))
      M_WARN(m, m->facts[i].at, "TSH-W002", "fact '%s' is never used", m->facts[i].id);
  for (i = 0; i < m->n_facts; i++)
    if (!m->facts[i].description && m->facts[i].id)
      M_WARN(m, m->facts[i].at, "TSH-W004", "fact '%s' has no <description>: explanations would show "
             "people its id", m->facts[i].id);
  if (m->ar.oom) rc = ts_error_oom();
done:
  index_free(&k.questions); index_free(&k.facts); index_free(&k.articles); index_free(&k.causes);
  index_free(&k.fixes); index_free(&k.tests); index_free(&k.symptoms);
  return rc;
}
