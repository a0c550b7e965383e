/*
** kb_read.c: walking one parsed KB source into the in-memory model, with the
** source location of every item so that kb_check.c can point at it.
**
** A source with schema errors is read too, so that one run reports every
** problem: an item without its required id is skipped (nothing can refer to
** it), an article or test with a schema error inside is marked broken (the
** checks that depend on its structure are skipped), and the ids defined or
** named inside any top-level element with a schema error are kept in
** m->maybe_ids, so that a reference to them is not reported as unknown, nor
** they as unused. What the schema already
** reported (an empty text, an element that is not a condition) is not
** reported again.
*/
#include "kb_model.h"
#include "text.h"

#include <libxml/tree.h>
#include <string.h>

typedef struct reader {
  kb_model *m;
  ts_arena *ar;            /* m->ar, or m->aar inside an article */
  size_t src;
  kbxml_source *xs;
} reader;

static int is_el(const xmlNode *n, const char *name)
{
  return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static size_t count_el(const xmlNode *parent, const char *name)
{
  size_t k = 0;
  const xmlNode *n;
  for (n = parent->children; n; n = n->next)
    if (is_el(n, name)) k++;
  return k;
}

static const xmlNode *first_el(const xmlNode *parent, const char *name)
{
  const xmlNode *n;
  for (n = parent->children; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE && (!name || strcmp((const char *)n->name, name) == 0))
      return n;
  return NULL;
}

static m_loc loc_of(reader *r, const xmlNode *n, const char *attr)
{
  m_loc l;
  l.src = (int)r->src;
  kbxml_locate(r->xs, n, attr, &l.line, &l.col);
  return l;
}

/* An attribute's value copied into arena `ar`, or NULL if absent. */
static char *attr_in(reader *r, const xmlNode *n, const char *name, ts_arena *ar)
{
  char *v = kbxml_attr(n, name), *a;
  if (!v) return NULL;
  a = ts_arena_strdup(ar, v);
  ts_free(v);
  return a;
}

static char *attr(reader *r, const xmlNode *n, const char *name)
{
  return attr_in(r, n, name, r->ar);
}

/* An element's text in arena `ar`; blank text is an error (the schema only
** says "non-empty"). */
static char *text_in(reader *r, const xmlNode *n, ts_arena *ar)
{
  char *t;
  if (!n) return NULL;
  t = kbxml_text_in(n, ar);
  if (!t) { r->ar->oom = 1; return NULL; }
  if (!*t && !kbxml_is_bad(r->xs, n)) {
    m_loc l = loc_of(r, n, NULL);
    M_ERROR(r->m, l, "TSH-E003", "<%s> is empty: write the text it should hold", (const char *)n->name);
  }
  return t;
}

static char *text_of(reader *r, const xmlNode *n)
{
  return text_in(r, n, r->ar);
}

/* The text of an article, a cause or a fix: in m->tar, dropped once written
** (kb_read_drop_text). */
static char *art_text(reader *r, const xmlNode *n)
{
  return text_in(r, n, &r->m->tar);
}

static char *child_text(reader *r, const xmlNode *parent, const char *name)
{
  const xmlNode *n = first_el(parent, name);
  return n ? text_of(r, n) : NULL;
}

static char *art_child_text(reader *r, const xmlNode *parent, const char *name)
{
  const xmlNode *n = first_el(parent, name);
  return n ? art_text(r, n) : NULL;
}

/* xsd:decimal, parsed without the C library's locale. */
static int parse_decimal(const char *s, double *out)
{
  double v = 0, scale = 1;
  int neg = 0, digits = 0;
  if (!s) return -1;
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  if (*s == '+' || *s == '-') neg = *s++ == '-';
  for (; *s >= '0' && *s <= '9'; s++, digits++) v = v * 10 + (*s - '0');
  if (*s == '.') {
    for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
      scale /= 10;
      v += (*s - '0') * scale;
    }
  }
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  if (*s || !digits) return -1;
  *out = neg ? -v : v;
  return 0;
}

/* What a number attribute may hold, for the check and its message. */
typedef enum num_kind { NUM_PROB, NUM_COST } num_kind;

/* A number attribute, checked here at the attribute (the schema takes it as
** text, so that one bad value cannot lead the validator astray): p and prior
** are probabilities, decimals from 0 to 1; cost is a decimal above 0. A bad
** value is TSH-E004 and gives `dflt`. */
static double num_attr(reader *r, const xmlNode *n, const char *name, num_kind kind, double dflt)
{
  char *v = kbxml_attr(n, name);
  double d = dflt;
  int ok;
  if (!v) return dflt;
  ok = parse_decimal(v, &d) == 0;
  if (ok) ok = kind == NUM_PROB ? d >= 0 && d <= 1 : d > 0;
  if (!ok) {
    m_loc l = loc_of(r, n, name);
    const char *what = kind == NUM_PROB ? "a probability is a decimal number from 0 to 1"
                                        : "a cost is a decimal number greater than 0";
    if (*v)
      M_ERROR(r->m, l, "TSH-E004", "%s is %.40s%s: %s%s", name, v, strlen(v) > 40 ? "..." : "", what,
              strchr(v, 'e') || strchr(v, 'E') || strchr(v, ',') ? " (write it like 0.25: a dot, no exponent)" : "");
    else
      M_ERROR(r->m, l, "TSH-E004", "%s is empty: %s", name, what);
    d = dflt;
  }
  ts_free(v);
  return d;
}

/* An enumerated attribute: its index in `allowed`, `dflt` if absent, or -1
** (TSH-E006, naming the allowed values) if it is none of them. */
static int enum_attr(reader *r, const xmlNode *n, const char *name, const char *const *allowed,
                     size_t n_allowed, int dflt)
{
  char *v = kbxml_attr(n, name);
  char buf[160];
  ts_buf list = TS_BUF_INIT;
  size_t i;
  if (!v) return dflt;
  for (i = 0; i < n_allowed; i++)
    if (strcmp(v, allowed[i]) == 0) { ts_free(v); return (int)i; }
  for (i = 0; i < n_allowed; i++)
    ts_buf_addf(&list, "%s%s", i == 0 ? "" : i + 1 == n_allowed ? " or " : ", ", allowed[i]);
  {
    m_loc l = loc_of(r, n, name);
    if (*v)
      M_ERROR(r->m, l, "TSH-E006", "%s is '%.40s'%s: use %s%s", name, v, strlen(v) > 40 ? "..." : "",
              list.p ? list.p : "", ts_did_you_mean(buf, sizeof buf, v, allowed, n_allowed));
    else
      M_ERROR(r->m, l, "TSH-E006", "%s is empty: use %s", name, list.p ? list.p : "");
  }
  if (list.oom) r->ar->oom = 1;
  ts_buf_free(&list);
  ts_free(v);
  return -1;
}

static const char *const yesno_names[] = { "yes", "no" };

static int yesno_attr(reader *r, const xmlNode *n, const char *name, int dflt)
{
  int i = enum_attr(r, n, name, yesno_names, 2, dflt ? 0 : 1);
  return i == 0;
}

/* Split a white-space separated list into the arena. */
static char **split_list(reader *r, const char *s, size_t *n_out)
{
  size_t n = 0, i = 0;
  const char *p = s;
  char **out;
  *n_out = 0;
  if (!s) return NULL;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (!*p) break;
    n++;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') p++;
  }
  out = ts_arena_alloc(r->ar, (n ? n : 1) * sizeof *out);
  if (!out) return NULL;
  p = s;
  while (*p && i < n) {
    const char *start;
    char *w;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    start = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') p++;
    w = ts_arena_alloc(r->ar, (size_t)(p - start) + 1);
    if (!w) return NULL;
    memcpy(w, start, (size_t)(p - start));
    out[i++] = w;
  }
  *n_out = n;
  return out;
}

/* ===== conditions ===== */

static const struct { const char *name; m_cond_op op; } cond_names[] = {
  { "and", C_AND }, { "or", C_OR }, { "not", C_NOT }, { "eq", C_EQ }, { "ne", C_NE },
  { "lt", C_LT }, { "le", C_LE }, { "gt", C_GT }, { "ge", C_GE }, { "in", C_IN },
  { "holds", C_HOLDS }, { "known", C_KNOWN },
};

static m_cond *read_cond(reader *r, const xmlNode *n)
{
  m_cond *c;
  size_t i;
  if (!n) return NULL;
  c = ts_arena_alloc(r->ar, sizeof *c);
  if (!c) return NULL;
  c->at = loc_of(r, n, NULL);
  for (i = 0; i < TS_ARRAY_LEN(cond_names); i++)
    if (strcmp((const char *)n->name, cond_names[i].name) == 0) break;
  if (i == TS_ARRAY_LEN(cond_names)) {
    if (!kbxml_has_bad(r->xs, n->parent))   /* else the schema said it */
      M_ERROR(r->m, c->at, "TSH-E005", "<%s> is not a condition", (const char *)n->name);
    return NULL;
  }
  c->op = cond_names[i].op;
  switch (c->op) {
  case C_AND: case C_OR: case C_NOT: {
    const xmlNode *k;
    size_t nk = 0;
    for (k = n->children; k; k = k->next) if (k->type == XML_ELEMENT_NODE) nk++;
    c->kids = ts_arena_alloc(r->ar, (nk ? nk : 1) * sizeof *c->kids);
    if (!c->kids) return NULL;
    for (k = n->children; k; k = k->next)
      if (k->type == XML_ELEMENT_NODE) {
        m_cond *kid = read_cond(r, k);
        if (!kid) return NULL;
        c->kids[c->n_kids++] = kid;
      }
    break;
  }
  case C_HOLDS:
    c->ref = attr(r, n, "fact");
    c->ref_at = loc_of(r, n, "fact");
    break;
  case C_KNOWN:
    c->ref = attr(r, n, "question");
    c->ref_at = loc_of(r, n, "question");
    break;
  case C_IN:
    c->ref = attr(r, n, "question");
    c->ref_at = loc_of(r, n, "question");
    {
      char *vs = kbxml_attr(n, "values");
      c->values = split_list(r, vs, &c->n_values);
      ts_free(vs);
    }
    c->value_at = loc_of(r, n, "values");
    break;
  default:
    c->ref = attr(r, n, "question");
    c->ref_at = loc_of(r, n, "question");
    c->values = ts_arena_alloc(r->ar, sizeof *c->values);
    if (!c->values) return NULL;
    c->values[0] = attr(r, n, "value");
    c->n_values = 1;
    c->value_at = loc_of(r, n, "value");
    break;
  }
  return c;
}

/* ===== items ===== */

#define PUSH(m, list) \
  (ts_grow((void **)&(m)->list, &(m)->cap_##list, (m)->n_##list + 1, sizeof *(m)->list) < 0 \
     ? NULL : memset(&(m)->list[(m)->n_##list++], 0, sizeof *(m)->list))

static int read_question(reader *r, const xmlNode *n)
{
  static const char *const types[] = { "yesno", "choice", "version", "number", "text" };
  m_question *q;
  const xmlNode *k;
  size_t i;
  if (!xmlHasProp(n, (const xmlChar *)"id")) return TSHOOT_OK;   /* the schema said it */
  q = PUSH(r->m, questions);
  if (!q) return ts_error_oom();
  q->at = loc_of(r, n, NULL);
  q->id = attr(r, n, "id");
  /* an unknown type leaves type_name NULL: kb_check.c then skips the checks
  ** that depend on the type, rather than report their consequences */
  i = (size_t)enum_attr(r, n, "type", types, TS_ARRAY_LEN(types), -1);
  if (i < TS_ARRAY_LEN(types)) {
    q->type = (m_qtype)i;
    q->type_name = (char *)types[i];                  /* static: never freed */
  }
  q->cost = num_attr(r, n, "cost", NUM_COST, 1.0);
  q->probe = attr(r, n, "probe");
  if (q->probe) q->probe_at = loc_of(r, n, "probe");
  q->unit = attr(r, n, "unit");
  q->prompt = child_text(r, n, "prompt");
  q->why = child_text(r, n, "why");
  q->choices = ts_arena_alloc(r->ar, (count_el(n, "choice") + 1) * sizeof *q->choices);
  if (!q->choices) return ts_error_oom();
  for (k = n->children; k; k = k->next)
    if (is_el(k, "choice")) {
      m_choice *c = &q->choices[q->n_choices++];
      c->value = attr(r, k, "value");
      c->label = text_of(r, k);
      c->at = loc_of(r, k, "value");
    }
  k = first_el(n, "ask-when");
  if (k) q->ask_when = read_cond(r, first_el(k, NULL));
  q->phrases = ts_arena_alloc(r->ar, (count_el(n, "phrase") + 1) * sizeof *q->phrases);
  if (!q->phrases) return ts_error_oom();
  for (k = n->children; k; k = k->next)
    if (is_el(k, "phrase")) {
      m_phrase *p = &q->phrases[q->n_phrases++];
      p->at = loc_of(r, k, NULL);
      p->value = attr(r, k, "value");
      p->value_at = loc_of(r, k, "value");
      p->text = text_of(r, k);
    }
  return TSHOOT_OK;
}

static int read_fact(reader *r, const xmlNode *n)
{
  m_fact *f;
  const xmlNode *k;
  if (!xmlHasProp(n, (const xmlChar *)"id")) return TSHOOT_OK;
  f = PUSH(r->m, facts);
  if (!f) return ts_error_oom();
  f->at = loc_of(r, n, NULL);
  f->id = attr(r, n, "id");
  f->description = child_text(r, n, "description");
  f->whens = ts_arena_alloc(r->ar, (count_el(n, "when") + 1) * sizeof *f->whens);
  if (!f->whens) return ts_error_oom();
  for (k = n->children; k; k = k->next)
    if (is_el(k, "when")) {
      m_cond *c = read_cond(r, first_el(k, NULL));
      if (c) f->whens[f->n_whens++] = c;
    }
  return TSHOOT_OK;
}

static int read_fix(reader *r, const xmlNode *n, m_fix *f)
{
  static const char *const risks[] = { "low", "medium", "high" };
  const xmlNode *k;
  int risk;
  f->at = loc_of(r, n, NULL);
  f->id = attr(r, n, "id");
  f->cost = num_attr(r, n, "cost", NUM_COST, 1.0);
  /* conservative defaults (docs/format.md): a fix is not reversible and not
  ** low-risk unless its author says so */
  risk = enum_attr(r, n, "risk", risks, TS_ARRAY_LEN(risks), 1);
  f->risk = (char *)risks[risk < 0 ? 1 : risk];      /* static: never freed */
  f->admin = yesno_attr(r, n, "admin", 0);
  f->reversible = yesno_attr(r, n, "reversible", 0);
  f->script = attr(r, n, "script");
  if (f->script) f->script_at = loc_of(r, n, "script");
  {
    char *same = kbxml_attr(n, "same-as");
    if (same) {
      f->same_as = split_list(r, same, &f->n_same_as);
      f->same_at = loc_of(r, n, "same-as");
      ts_free(same);
    }
  }
  f->title = art_child_text(r, n, "title");
  f->verify = art_child_text(r, n, "verify");
  f->steps = ts_arena_alloc(r->ar, count_el(n, "step") * sizeof *f->steps);
  if (!f->steps) return ts_error_oom();
  for (k = n->children; k; k = k->next)
    if (is_el(k, "step")) f->steps[f->n_steps++] = art_text(r, k);
  return TSHOOT_OK;
}

static int read_cause(reader *r, const xmlNode *n, size_t article)
{
  m_cause *c = PUSH(r->m, causes);
  const xmlNode *k, *ev;
  size_t nev = 0;
  if (!c) return ts_error_oom();
  c->broken = r->m->articles[article].broken;
  c->at = loc_of(r, n, NULL);
  c->id = attr(r, n, "id");
  c->article = article;
  c->prior = num_attr(r, n, "prior", NUM_PROB, 0.1);
  c->title = art_child_text(r, n, "title");
  c->explanation = art_child_text(r, n, "explanation");
  ev = first_el(n, "evidence");
  if (ev)
    for (k = ev->children; k; k = k->next) if (k->type == XML_ELEMENT_NODE) nev++;
  c->ev = ts_arena_alloc(r->ar, nev * sizeof *c->ev);
  c->fixes = ts_arena_alloc(r->ar, count_el(n, "fix") * sizeof *c->fixes);
  if (!c->ev || !c->fixes) return ts_error_oom();
  if (ev)
    for (k = ev->children; k; k = k->next) {
      m_evidence *e;
      if (k->type != XML_ELEMENT_NODE) continue;
      e = &c->ev[c->n_ev++];
      e->at = loc_of(r, k, NULL);
      if (is_el(k, "answer")) {
        e->kind = E_ANSWER;
        e->question = attr(r, k, "question");
        e->question_at = loc_of(r, k, "question");
        e->value = attr(r, k, "value");
        e->value_at = loc_of(r, k, "value");
        e->p = num_attr(r, k, "p", NUM_PROB, 0);
      } else if (is_el(k, "expect")) {
        e->kind = E_EXPECT;
        e->p = num_attr(r, k, "p", NUM_PROB, 0);
        e->cond = read_cond(r, first_el(k, NULL));
      } else {
        e->kind = E_REQUIRES;
        e->p = 1.0;
        e->cond = read_cond(r, first_el(k, NULL));
      }
    }
  for (k = n->children; k; k = k->next)
    if (is_el(k, "fix") && xmlHasProp(k, (const xmlChar *)"id")) {
      int rc = read_fix(r, k, &c->fixes[c->n_fixes++]);
      if (rc != TSHOOT_OK) return rc;
    }
  r->m->n_fixes += c->n_fixes;
  c->aliases = ts_arena_alloc(r->ar, count_el(n, "alias") * sizeof *c->aliases);
  if (!c->aliases) return ts_error_oom();
  for (k = n->children; k; k = k->next)
    if (is_el(k, "alias")) c->aliases[c->n_aliases++] = art_text(r, k);
  return TSHOOT_OK;
}

/* A symptom's kind, its element's name: a static string for the usual
** ones (no copy per symptom), else a copy in the arena. */
static char *symptom_kind(reader *r, const xmlNode *k)
{
  static const char *const kinds[] = { "symptom", "error" };
  size_t i;
  for (i = 0; i < TS_ARRAY_LEN(kinds); i++)
    if (strcmp((const char *)k->name, kinds[i]) == 0) return (char *)kinds[i];
  return ts_arena_strdup(r->ar, (const char *)k->name);
}

static int read_article_in(reader *r, const xmlNode *n)
{
  m_article *a;
  size_t ai, ns = 0;
  const xmlNode *k, *syms;
  int rc;
  if (!xmlHasProp(n, (const xmlChar *)"id")) return TSHOOT_OK;
  a = PUSH(r->m, articles);
  if (!a) return ts_error_oom();
  ai = r->m->n_articles - 1;
  a->broken = kbxml_has_bad(r->xs, n);
  a->at = loc_of(r, n, NULL);
  a->id = attr(r, n, "id");
  a->title = art_child_text(r, n, "title");
  a->summary = art_child_text(r, n, "summary");
  a->escalation = art_child_text(r, n, "escalation");
  syms = first_el(n, "symptoms");
  if (syms)
    for (k = syms->children; k; k = k->next) if (k->type == XML_ELEMENT_NODE) ns++;
  a->symptoms = ts_arena_alloc(r->ar, ns * sizeof *a->symptoms);
  a->aliases = ts_arena_alloc(r->ar, count_el(n, "alias") * sizeof *a->aliases);
  if (!a->symptoms || !a->aliases) return ts_error_oom();
  if (syms)
    for (k = syms->children; k; k = k->next) {
      m_symptom *s;
      char *causes;
      if (k->type != XML_ELEMENT_NODE) continue;
      s = &a->symptoms[a->n_symptoms++];
      s->at = loc_of(r, k, NULL);
      s->kind = symptom_kind(r, k);
      s->id = attr(r, k, "id");
      s->code = attr_in(r, k, "code", &r->m->tar);
      s->text = art_text(r, k);
      causes = kbxml_attr(k, "causes");
      if (causes) {
        s->causes = split_list(r, causes, &s->n_causes);
        s->causes_at = loc_of(r, k, "causes");
        ts_free(causes);
      }
    }
  for (k = n->children; k; k = k->next)
    if (is_el(k, "alias")) a->aliases[a->n_aliases++] = art_text(r, k);
  a->first_cause = r->m->n_causes;
  for (k = n->children; k; k = k->next)
    if (is_el(k, "cause") && xmlHasProp(k, (const xmlChar *)"id")) {
      rc = read_cause(r, k, ai);
      if (rc != TSHOOT_OK) return rc;
      r->m->articles[ai].n_causes++;   /* re-fetch: the list may have moved */
    }
  return TSHOOT_OK;
}

/* An article and everything in it go into m->aar (kb_model.h). */
static int read_article(reader *r, const xmlNode *n)
{
  int rc;
  r->ar = &r->m->aar;
  rc = read_article_in(r, n);
  r->ar = &r->m->ar;
  return rc;
}

static int read_test(reader *r, const xmlNode *n)
{
  m_test *t;
  const xmlNode *k;
  if (!xmlHasProp(n, (const xmlChar *)"id")) return TSHOOT_OK;
  t = PUSH(r->m, tests);
  if (!t) return ts_error_oom();
  t->broken = kbxml_has_bad(r->xs, n);
  t->at = loc_of(r, n, NULL);
  t->id = attr(r, n, "id");
  t->expect_cause = attr(r, n, "expect-cause");
  if (t->expect_cause) t->cause_at = loc_of(r, n, "expect-cause");
  t->expect_fix = attr(r, n, "expect-fix");
  if (t->expect_fix) t->fix_at = loc_of(r, n, "expect-fix");
  t->description = child_text(r, n, "description");
  t->text = child_text(r, n, "text");
  t->given = ts_arena_alloc(r->ar, (count_el(n, "given") + 1) * sizeof *t->given);
  if (!t->given) return ts_error_oom();
  for (k = n->children; k; k = k->next)
    if (is_el(k, "given")) {
      m_given *g = &t->given[t->n_given++];
      g->at = loc_of(r, k, NULL);
      g->question = attr(r, k, "question");
      g->question_at = loc_of(r, k, "question");
      g->value = attr(r, k, "value");
      g->value_at = loc_of(r, k, "value");
    }
  return TSHOOT_OK;
}

static int read_synonyms(reader *r, const xmlNode *n)
{
  const xmlNode *g, *t;
  for (g = n->children; g; g = g->next) {
    m_synonyms *s;
    if (!is_el(g, "group")) continue;
    s = PUSH(r->m, synonyms);
    if (!s) return ts_error_oom();
    s->at = loc_of(r, g, NULL);
    s->terms = ts_arena_alloc(r->ar, (count_el(g, "term") + 1) * sizeof *s->terms);
    if (!s->terms) return ts_error_oom();
    for (t = g->children; t; t = t->next)
      if (is_el(t, "term")) s->terms[s->n_terms++] = text_of(r, t);
  }
  return TSHOOT_OK;
}

/* Keep the ids that `n` and everything inside it define or name (id=,
** question=, fact=) in m->maybe_ids. */
static void keep_maybe_ids(reader *r, const xmlNode *n)
{
  static const char *const names[] = { "id", "question", "fact" };
  const xmlNode *k;
  size_t i;
  if (n->type != XML_ELEMENT_NODE) return;
  for (i = 0; i < TS_ARRAY_LEN(names); i++) {
    char *id = attr(r, n, names[i]);
    if (!id) continue;
    if (ts_grow((void **)&r->m->maybe_ids, &r->m->cap_maybe_ids, r->m->n_maybe_ids + 1,
                sizeof *r->m->maybe_ids) == 0)
      r->m->maybe_ids[r->m->n_maybe_ids++] = id;
    else
      r->ar->oom = 1;
  }
  for (k = n->children; k; k = k->next) keep_maybe_ids(r, k);
}

int kb_read_source(kb_model *m, size_t src)
{
  reader r;
  const xmlNode *root, *n;
  int rc = TSHOOT_OK;

  r.m = m;
  r.ar = &m->ar;
  r.src = src;
  r.xs = &m->sources[src].xs;
  root = xmlDocGetRootElement(r.xs->doc);
  if (!root) return TSHOOT_OK;
  m->sources[src].kb_id = attr(&r, root, "id");
  n = first_el(root, "escalation");
  if (n) {
    m->sources[src].escalation = text_of(&r, n);
    m->sources[src].escalation_at = loc_of(&r, n, NULL);
  }
  for (n = root->children; n && rc == TSHOOT_OK; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    if (kbxml_has_bad(r.xs, n)) keep_maybe_ids(&r, n);
    if (is_el(n, "question")) rc = read_question(&r, n);
    else if (is_el(n, "fact")) rc = read_fact(&r, n);
    else if (is_el(n, "article")) rc = read_article(&r, n);
    else if (is_el(n, "test")) rc = read_test(&r, n);
    else if (is_el(n, "synonyms")) rc = read_synonyms(&r, n);
  }
  if (rc == TSHOOT_OK && (m->ar.oom || m->aar.oom || m->tar.oom)) rc = ts_error_oom();
  return rc;
}

void kb_read_drop_text(kb_model *m, size_t first)
{
  size_t i, j, l, s;
  for (i = first; i < m->n_articles; i++) {
    m_article *a = &m->articles[i];
    a->title = a->summary = a->escalation = NULL;
    for (j = 0; j < a->n_symptoms; j++) a->symptoms[j].text = a->symptoms[j].code = NULL;
    for (j = 0; j < a->n_aliases; j++) a->aliases[j] = NULL;
    for (j = 0; j < a->n_causes; j++) {
      m_cause *c = &m->causes[a->first_cause + j];
      c->title = c->explanation = NULL;
      for (l = 0; l < c->n_aliases; l++) c->aliases[l] = NULL;
      for (l = 0; l < c->n_fixes; l++) {
        m_fix *f = &c->fixes[l];
        f->title = f->verify = NULL;
        for (s = 0; s < f->n_steps; s++) f->steps[s] = NULL;
      }
    }
  }
  ts_arena_free(&m->tar);
  m->tar.oom = 0;
}

void kb_read_drop_articles(kb_model *m)
{
  kb_read_drop_text(m, m->n_articles);
  ts_free(m->articles);
  ts_free(m->causes);
  m->articles = NULL;
  m->causes = NULL;
  m->cap_articles = m->cap_causes = 0;
  ts_arena_free(&m->aar);
}
