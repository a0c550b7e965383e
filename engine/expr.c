/*
** expr.c: parsing stored conditions and evaluating them in three-valued logic.
*/
#include "expr.h"

#include <stdlib.h>
#include <string.h>

#define EXPR_MAX_DEPTH 64

static const char *const op_names[] = { "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge",
                                        "in", "holds", "known" };

typedef struct parser {
  const char *s;
  expr *e;
  size_t cap_nodes, cap_values;
  expr_resolve_fn resolve;
  void *ctx;
  int rc;
} parser;

static void skip_ws(parser *p)
{
  while (*p->s == ' ' || *p->s == '\n' || *p->s == '\t' || *p->s == '\r') p->s++;
}

static int bad(parser *p)
{
  if (p->rc == TSHOOT_OK) p->rc = ts_error(TSHOOT_ECORRUPT, "damaged KB: a stored condition does not parse");
  return p->rc;
}

/* An atom: a run up to white space or a parenthesis. */
static char *atom(parser *p)
{
  const char *start = p->s;
  char *s;
  while (*p->s && *p->s != ' ' && *p->s != '(' && *p->s != ')' && *p->s != '"' &&
         *p->s != '\n' && *p->s != '\t')
    p->s++;
  if (p->s == start) return NULL;
  s = ts_strndup(start, (size_t)(p->s - start));
  if (!s && p->rc == TSHOOT_OK) p->rc = ts_error_oom();   /* not "damaged": bad() keeps it */
  return s;
}

static char *string_lit(parser *p)
{
  ts_buf b = TS_BUF_INIT;
  char *s;
  if (*p->s != '"') return NULL;
  p->s++;
  while (*p->s && *p->s != '"') {
    if (*p->s == '\\' && p->s[1]) p->s++;
    ts_buf_addc(&b, *p->s++);
  }
  if (*p->s != '"') { ts_buf_free(&b); return NULL; }
  p->s++;
  s = ts_buf_detach(&b);
  if (!s && p->rc == TSHOOT_OK) p->rc = ts_error_oom();
  return s;
}

static int push_value(parser *p, char *v)
{
  if (ts_grow((void **)&p->e->values, &p->cap_values, p->e->n_values + 1, sizeof *p->e->values) < 0) {
    ts_free(v);
    return p->rc = ts_error_oom();
  }
  p->e->values[p->e->n_values++] = v;
  return TSHOOT_OK;
}

static int parse_node(parser *p, int depth)
{
  char *name;
  size_t i, me;
  expr_node *n;
  int op = -1;

  if (depth > EXPR_MAX_DEPTH) return bad(p);
  skip_ws(p);
  if (*p->s != '(') return bad(p);
  p->s++;
  name = atom(p);
  if (!name) return bad(p);
  for (i = 0; i < TS_ARRAY_LEN(op_names); i++)
    if (strcmp(name, op_names[i]) == 0) op = (int)i;
  ts_free(name);
  if (op < 0) return bad(p);
  if (ts_grow((void **)&p->e->nodes, &p->cap_nodes, p->e->n_nodes + 1, sizeof *p->e->nodes) < 0)
    return p->rc = ts_error_oom();
  me = p->e->n_nodes++;
  n = &p->e->nodes[me];
  memset(n, 0, sizeof *n);
  n->op = (uint8_t)op;
  n->ref = -1;
  if (op == X_AND || op == X_OR || op == X_NOT) {
    int kids = 0;
    for (;;) {
      skip_ws(p);
      if (*p->s == ')') break;
      if (parse_node(p, depth + 1) != TSHOOT_OK) return p->rc;
      kids++;
    }
    if (kids == 0 || (op == X_NOT && kids != 1)) return bad(p);
  } else {
    char *id;
    skip_ws(p);
    id = atom(p);
    if (!id) return bad(p);
    p->e->nodes[me].ref = p->resolve(p->ctx, op == X_HOLDS, id);
    ts_free(id);
    if (p->e->nodes[me].ref < 0) return bad(p);
    p->e->nodes[me].value0 = (uint32_t)p->e->n_values;
    for (;;) {
      char *v;
      skip_ws(p);
      if (*p->s == ')') break;
      v = string_lit(p);
      if (!v) return bad(p);
      if (push_value(p, v) != TSHOOT_OK) return p->rc;
      p->e->nodes[me].n_values++;
    }
    if ((op == X_HOLDS || op == X_KNOWN) != (p->e->nodes[me].n_values == 0)) return bad(p);
    if (op != X_IN && op != X_HOLDS && op != X_KNOWN && p->e->nodes[me].n_values != 1) return bad(p);
  }
  p->s++; /* ')' */
  p->e->nodes[me].size = (uint32_t)(p->e->n_nodes - me);
  return TSHOOT_OK;
}

int expr_parse(expr *e, const char *text, expr_resolve_fn resolve, void *ctx)
{
  parser p;
  memset(e, 0, sizeof *e);
  if (!text) return ts_error(TSHOOT_ECORRUPT, "damaged KB: a condition is missing");
  memset(&p, 0, sizeof p);
  p.s = text;
  p.e = e;
  p.resolve = resolve;
  p.ctx = ctx;
  if (parse_node(&p, 0) == TSHOOT_OK) {
    skip_ws(&p);
    if (*p.s) bad(&p);
  }
  if (p.rc != TSHOOT_OK) expr_free(e);
  return p.rc;
}

void expr_free(expr *e)
{
  size_t i;
  for (i = 0; i < e->n_values; i++) ts_free(e->values[i]);
  ts_free(e->values);
  ts_free(e->nodes);
  memset(e, 0, sizeof *e);
}

/* ===== comparing ===== */

/* Versions are read as runs (expr.h): a number, or letters marked as a
** pre-release when a '-' or '~' comes right before them. */
typedef struct vrun {
  const char *p;
  size_t n;                   /* 0: the version has ended */
  int num, pre;
} vrun;

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* The next run of *s, after the separators before it. */
static vrun next_run(const char **s)
{
  const char *p = *s;
  vrun r = { NULL, 0, 0, 0 };
  while (*p && !is_digit(*p) && !is_alpha(*p)) {
    r.pre = *p == '-' || *p == '~';
    p++;
  }
  r.p = p;
  if (is_digit(*p)) {
    r.num = 1;
    r.pre = 0;
    while (*p == '0' && is_digit(p[1])) p++;      /* leading zeros do not count */
    r.p = p;
    while (is_digit(*p)) p++;
  } else {
    while (is_alpha(*p)) p++;
  }
  r.n = (size_t)(p - r.p);
  *s = p;
  return r;
}

static int sign(int x) { return x < 0 ? -1 : x > 0; }

/* Where a run stands among the others: pre-release text, then numbers (the
** end of a version is the number 0), then other text. */
static int run_rank(vrun r)
{
  if (!r.n || r.num) return 1;
  return r.pre ? 0 : 2;
}

/* Two runs, either of which may be the end (n == 0). */
static int run_cmp(vrun x, vrun y)
{
  static const vrun zero = { "0", 1, 1, 0 };
  int rx = run_rank(x), ry = run_rank(y);
  size_t i;
  if (rx != ry) return rx < ry ? -1 : 1;
  if (rx == 1) {
    if (!x.n) x = zero;
    if (!y.n) y = zero;
    if (x.n != y.n) return x.n < y.n ? -1 : 1;
    return sign(memcmp(x.p, y.p, x.n));
  }
  for (i = 0; i < x.n && i < y.n; i++)
    if (lower(x.p[i]) != lower(y.p[i])) return lower(x.p[i]) < lower(y.p[i]) ? -1 : 1;
  return x.n == y.n ? 0 : x.n < y.n ? -1 : 1;
}

int expr_version_cmp(const char *a, const char *b)
{
  for (;;) {
    vrun x = next_run(&a), y = next_run(&b);
    int c;
    if (!x.n && !y.n) return 0;
    c = run_cmp(x, y);
    if (c) return c;
  }
}

static double parse_num(const char *s)
{
  double v = 0, scale = 1;
  int neg = 0;
  if (*s == '-' || *s == '+') neg = *s++ == '-';
  for (; *s >= '0' && *s <= '9'; s++) v = v * 10 + (*s - '0');
  if (*s == '.') for (s++; *s >= '0' && *s <= '9'; s++) { scale /= 10; v += (*s - '0') * scale; }
  return neg ? -v : v;
}

int expr_number_cmp(const char *a, const char *b)
{
  double x = parse_num(a), y = parse_num(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/* ===== evaluating ===== */

static tri eval_node(const expr *e, size_t i, const expr_env *env)
{
  const expr_node *n = &e->nodes[i];
  size_t k, end = i + n->size;
  const char *a;
  int c;
  switch (n->op) {
  case X_AND: {
    tri r = TRI_TRUE;
    for (k = i + 1; k < end; k += e->nodes[k].size) {
      tri t = eval_node(e, k, env);
      if (t == TRI_FALSE) return TRI_FALSE;
      if (t == TRI_UNKNOWN) r = TRI_UNKNOWN;
    }
    return r;
  }
  case X_OR: {
    tri r = TRI_FALSE;
    for (k = i + 1; k < end; k += e->nodes[k].size) {
      tri t = eval_node(e, k, env);
      if (t == TRI_TRUE) return TRI_TRUE;
      if (t == TRI_UNKNOWN) r = TRI_UNKNOWN;
    }
    return r;
  }
  case X_NOT: {
    tri t = eval_node(e, i + 1, env);
    return t == TRI_UNKNOWN ? TRI_UNKNOWN : t == TRI_TRUE ? TRI_FALSE : TRI_TRUE;
  }
  case X_HOLDS:
    return env->fact(env->ctx, n->ref);
  case X_KNOWN:
    c = env->known(env->ctx, n->ref);
    return c > 0 ? TRI_TRUE : c == 0 ? TRI_FALSE : TRI_UNKNOWN;
  default:
    break;
  }
  a = env->answer(env->ctx, n->ref);
  if (!a) return TRI_UNKNOWN;
  if (n->op == X_EQ || n->op == X_NE || n->op == X_IN) {
    int hit = 0;
    for (k = 0; k < n->n_values && !hit; k++) hit = strcmp(a, e->values[n->value0 + k]) == 0;
    return (n->op == X_NE ? !hit : hit) ? TRI_TRUE : TRI_FALSE;
  }
  c = env->is_version(env->ctx, n->ref) ? expr_version_cmp(a, e->values[n->value0])
                                         : expr_number_cmp(a, e->values[n->value0]);
  switch (n->op) {
  case X_LT: return c < 0 ? TRI_TRUE : TRI_FALSE;
  case X_LE: return c <= 0 ? TRI_TRUE : TRI_FALSE;
  case X_GT: return c > 0 ? TRI_TRUE : TRI_FALSE;
  default:   return c >= 0 ? TRI_TRUE : TRI_FALSE;
  }
}

tri expr_eval(const expr *e, const expr_env *env)
{
  if (!e->n_nodes) return TRI_TRUE;
  return eval_node(e, 0, env);
}

void expr_questions(const expr *e, void (*fn)(void *ctx, int q), void *ctx)
{
  size_t i;
  for (i = 0; i < e->n_nodes; i++)
    if (e->nodes[i].op >= X_EQ && e->nodes[i].op != X_HOLDS) fn(ctx, e->nodes[i].ref);
}

void expr_facts(const expr *e, void (*fn)(void *ctx, int f), void *ctx)
{
  size_t i;
  for (i = 0; i < e->n_nodes; i++)
    if (e->nodes[i].op == X_HOLDS) fn(ctx, e->nodes[i].ref);
}

/* ===== rendering ===== */

static const char *const op_text[] = { "and", "or", "not", "=", "is not", "<", "<=", ">", ">=",
                                       "is one of", "holds", "is known" };

typedef struct render_fns {
  const char *(*name)(void *ctx, int is_fact, int idx);
  const char *(*label)(void *ctx, int q, const char *value);   /* NULL: values as written */
  void *ctx;
} render_fns;

/* For people (label set): what the answer to "PROMPT" is, in the answers'
** labels: 'the answer to "Is the light on?" is "No"', '... is below 100'. */
static const char *const op_people[] = { "", "", "", "is", "is not", "is below", "is at most",
                                         "is above", "is at least", "is one of", "", "" };

static void render_node(ts_buf *b, const expr *e, size_t i, const render_fns *f, int parens)
{
  const expr_node *n = &e->nodes[i];
  size_t k, end = i + n->size, v;
  switch (n->op) {
  case X_AND: case X_OR:
    if (parens) ts_buf_addc(b, '(');
    for (k = i + 1; k < end; k += e->nodes[k].size) {
      if (k > i + 1) ts_buf_addf(b, " %s ", op_text[n->op]);
      render_node(b, e, k, f, 1);
    }
    if (parens) ts_buf_addc(b, ')');
    break;
  case X_NOT:
    ts_buf_adds(b, f->label ? "not: " : "not ");
    render_node(b, e, i + 1, f, 1);
    break;
  case X_HOLDS:
    ts_buf_adds(b, f->name(f->ctx, 1, n->ref));
    break;
  case X_KNOWN:
    if (f->label) ts_buf_addf(b, "\"%s\" is answered", f->name(f->ctx, 0, n->ref));
    else ts_buf_addf(b, "%s is known", f->name(f->ctx, 0, n->ref));
    break;
  default:
    if (!f->label) {
      ts_buf_addf(b, "%s %s ", f->name(f->ctx, 0, n->ref), op_text[n->op]);
      for (v = 0; v < n->n_values; v++) ts_buf_addf(b, "%s%s", v ? ", " : "", e->values[n->value0 + v]);
      break;
    }
    ts_buf_addf(b, "the answer to \"%s\" %s ", f->name(f->ctx, 0, n->ref), op_people[n->op]);
    for (v = 0; v < n->n_values; v++)
      ts_buf_addf(b, "%s\"%s\"", v ? (v + 1 == n->n_values ? " or " : ", ") : "",
                  f->label(f->ctx, n->ref, e->values[n->value0 + v]));
    break;
  }
}

char *expr_render(const expr *e, const char *(*name)(void *ctx, int is_fact, int idx), void *ctx)
{
  ts_buf b = TS_BUF_INIT;
  render_fns f;
  f.name = name;
  f.label = NULL;
  f.ctx = ctx;
  if (e->n_nodes) render_node(&b, e, 0, &f, 0);
  return ts_buf_detach(&b);
}

char *expr_render_people(const expr *e, const char *(*name)(void *ctx, int is_fact, int idx),
                         const char *(*label)(void *ctx, int q, const char *value), void *ctx)
{
  ts_buf b = TS_BUF_INIT;
  render_fns f;
  f.name = name;
  f.label = label;
  f.ctx = ctx;
  if (e->n_nodes) render_node(&b, e, 0, &f, 0);
  return ts_buf_detach(&b);
}
