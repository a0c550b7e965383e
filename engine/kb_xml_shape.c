/*
** kb_xml_shape.c: the rules of kb/schema/tshoot-kb.rng as one table, and a
** fast check that proves a document valid (kbxml_shape_ok). See kb_xml.h.
**
** Why: libxml2's RELAX NG validator is slow on <interleave> (18% of a
** compile's instructions, six times the parse, on 2,000 generated articles;
** issue 9). Nearly every source is valid, and for those a walk over the
** tree with this table is enough. The check is sound, not complete: it says
** 1 only when the document certainly matches the schema, and 0 for anything
** it does not reason about (other namespaces, xml:* attributes, CDATA,
** entity references, a DTD, values whose white space the datatypes would
** normalise, comments inside text). On 0 the caller runs libxml2's
** validator, which stays the authority and the source of every message. tests/unit/test-kb-shape.c checks soundness
** against libxml2 on many mutated documents.
**
** The same table gives check_attrs (kb_xml.c) the attributes of each
** element, so the rules live in one place.
*/
#include "tshoot_int.h"
#include "kb_xml.h"

#include <pthread.h>
#include <string.h>

#define KB_NS "urn:tshoot:kb:1"

/* ===== the table =====
** children (content KBXML_ELEMS): the interleave, one group per word, in any
** order: a group is one or more names joined by '|' (a choice), then its
** cardinality: none exactly one, '?' optional, '*' zero or more, '+' one or
** more. The group name "condition" stands for any condition element
** (shape_condition). */

#define R  KBXML_REQUIRED
#define O  KBXML_OPTIONAL
#define E1 KBXML_ONE_OF
#define A(name, type, use) { name, KBXML_A_##type, use }

static const kbxml_rule rules[] = {
  { "kb", KBXML_ELEMS, "synonyms* question* fact* article* test* escalation? note*",
    { A("id", ID, R), A("title", LINE, O), A("lang", LANG, O) } },
  { "escalation", KBXML_TEXT, NULL, { { NULL, 0, 0 } } },
  { "note", KBXML_ANY_TEXT, NULL, { { NULL, 0, 0 } } },
  /* synonyms */
  { "synonyms", KBXML_ELEMS, "group+", { { NULL, 0, 0 } } },
  { "group", KBXML_ELEMS, "term+", { { NULL, 0, 0 } } },
  { "term", KBXML_TEXT, NULL, { { NULL, 0, 0 } } },
  /* questions */
  { "question", KBXML_ELEMS, "prompt why? choice* ask-when? phrase* note*",
    { A("id", ID, R), A("type", TEXT, R), A("cost", TEXT, O), A("probe", SCRIPT, O),
      A("unit", LINE, O) } },
  { "prompt", KBXML_TEXT, NULL, { { NULL, 0, 0 } } },
  { "why", KBXML_TEXT, NULL, { { NULL, 0, 0 } } },
  { "choice", KBXML_TEXT, NULL, { A("value", ID, R) } },
  { "ask-when", KBXML_ELEMS, "condition", { { NULL, 0, 0 } } },
  { "phrase", KBXML_TEXT, NULL, { A("value", LINE, R) } },
  /* facts */
  { "fact", KBXML_ELEMS, "description? when+ note*", { A("id", ID, R) } },
  { "description", KBXML_TEXT, NULL, { { NULL, 0, 0 } } },
  { "when", KBXML_ELEMS, "condition", { { NULL, 0, 0 } } },
  /* conditions */
  { "and", KBXML_ELEMS, "condition+", { { NULL, 0, 0 } } },
  { "or", KBXML_ELEMS, "condition+", { { NULL, 0, 0 } } },
  { "not", KBXML_ELEMS, "condition", { { NULL, 0, 0 } } },
  { "eq", KBXML_EMPTY, NULL, { A("question", ID, R), A("value", LINE, R) } },
  { "ne", KBXML_EMPTY, NULL, { A("question", ID, R), A("value", LINE, R) } },
  { "lt", KBXML_EMPTY, NULL, { A("question", ID, R), A("value", LINE, R) } },
  { "le", KBXML_EMPTY, NULL, { A("question", ID, R), A("value", LINE, R) } },
  { "gt", KBXML_EMPTY, NULL, { A("question", ID, R), A("value", LINE, R) } },
  { "ge", KBXML_EMPTY, NULL, { A("question", ID, R), A("value", LINE, R) } },
  { "in", KBXML_EMPTY, NULL, { A("question", ID, R), A("values", TOKENS, R) } },
  { "holds", KBXML_EMPTY, NULL, { A("fact", ID, R) } },
  { "known", KBXML_EMPTY, NULL, { A("question", ID, R) } },
  /* articles */
  { "article", KBXML_ELEMS, "title summary? symptoms? alias* cause+ escalation? note*",
    { A("id", ID, R) } },
  { "title", KBXML_TEXT, NULL, { { NULL, 0, 0 } } },
  { "summary", KBXML_TEXT, NULL, { { NULL, 0, 0 } } },
  { "symptoms", KBXML_ELEMS, "symptom|error+", { { NULL, 0, 0 } } },
  { "symptom", KBXML_TEXT, NULL, { A("id", ID, O), A("causes", IDLIST, O) } },
  { "error", KBXML_TEXT, NULL, { A("id", ID, O), A("code", LINE, O), A("causes", IDLIST, O) } },
  { "alias", KBXML_TEXT, NULL, { { NULL, 0, 0 } } },
  { "cause", KBXML_ELEMS, "title explanation evidence? fix* alias* note*",
    { A("id", ID, R), A("prior", TEXT, O) } },
  { "explanation", KBXML_TEXT, NULL, { { NULL, 0, 0 } } },
  { "evidence", KBXML_ELEMS, "answer|expect|requires+", { { NULL, 0, 0 } } },
  { "answer", KBXML_EMPTY, NULL,
    { A("question", ID, R), A("value", LINE, R), A("p", TEXT, R) } },
  { "expect", KBXML_ELEMS, "condition", { A("p", TEXT, R) } },
  { "requires", KBXML_ELEMS, "condition", { { NULL, 0, 0 } } },
  { "fix", KBXML_ELEMS, "title step+ verify? note*",
    { A("id", ID, R), A("cost", TEXT, O), A("risk", TEXT, O), A("admin", TEXT, O),
      A("reversible", TEXT, O), A("script", SCRIPT, O), A("same-as", IDLIST, O) } },
  { "step", KBXML_TEXT, NULL, { { NULL, 0, 0 } } },
  { "verify", KBXML_TEXT, NULL, { { NULL, 0, 0 } } },
  /* test cases */
  { "test", KBXML_ELEMS, "description? text? given*",
    { A("id", ID, R), A("expect-cause", ID, E1), A("expect-fix", ID, E1) } },
  { "text", KBXML_TEXT, NULL, { { NULL, 0, 0 } } },
  { "given", KBXML_EMPTY, NULL, { A("question", ID, R), A("value", LINE, R) } },
};

#undef R
#undef O
#undef E1
#undef A

/* The rules sorted by name, for a binary search (built once). */
static const kbxml_rule *sorted[TS_ARRAY_LEN(rules)];
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int shape_cmp_rule(const void *a, const void *b)
{
  return strcmp((*(const kbxml_rule *const *)a)->name, (*(const kbxml_rule *const *)b)->name);
}

static void shape_sort(void)
{
  size_t i;
  for (i = 0; i < TS_ARRAY_LEN(rules); i++) sorted[i] = &rules[i];
  qsort(sorted, TS_ARRAY_LEN(rules), sizeof sorted[0], shape_cmp_rule);
}

const kbxml_rule *kbxml_rule_of(const char *element)
{
  size_t lo = 0, hi = TS_ARRAY_LEN(rules);
  if (!element) return NULL;
  pthread_once(&sorted_once, shape_sort);
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(element, sorted[mid]->name);
    if (c == 0) return sorted[mid];
    if (c < 0) hi = mid; else lo = mid + 1;
  }
  return NULL;
}

const kbxml_rule *kbxml_rule_at(size_t i)
{
  return i < TS_ARRAY_LEN(rules) ? &rules[i] : NULL;
}

const kbxml_attr_rule *kbxml_rule_attr(const kbxml_rule *rule, const char *name)
{
  size_t i;
  for (i = 0; rule && i < KBXML_RULE_ATTRS && rule->attrs[i].name; i++)
    if (strcmp(rule->attrs[i].name, name) == 0) return &rule->attrs[i];
  return NULL;
}

/* ===== values ===== */

static int shape_space(unsigned char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int shape_lower_digit(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int shape_alpha(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* One id, [a-z0-9][a-z0-9._\-]{0,63}, in s[0..n); no white space at all
** (xsd:token would collapse it: not reasoned about here). */
static int shape_id(const char *s, size_t n)
{
  size_t i;
  if (n == 0 || n > 64 || !shape_lower_digit((unsigned char)s[0])) return 0;
  for (i = 1; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!shape_lower_digit(c) && c != '.' && c != '_' && c != '-') return 0;
  }
  return 1;
}

int kbxml_valid_id(const char *s)
{
  return s && shape_id(s, strlen(s));
}

/* A list of one or more items separated by runs of spaces, none leading or
** trailing (other white space: not reasoned about). ids: each item an id;
** else any token. */
static int shape_list(const char *s, int ids)
{
  if (*s == '\0' || *s == ' ') return 0;
  while (*s) {
    size_t n = 0;
    while (s[n] && !shape_space((unsigned char)s[n])) n++;
    if (n == 0 || (ids && !shape_id(s, n))) return 0;
    s += n;
    if (*s && *s != ' ') return 0;       /* a tab or a line break */
    while (*s == ' ') s++;
    if (*s == '\0' && s[-1] == ' ') return 0;
  }
  return 1;
}

/* [A-Za-z0-9_\-][A-Za-z0-9_./\-]*\.lua */
static int shape_script(const char *s)
{
  size_t n = strlen(s), i;
  unsigned char c0 = (unsigned char)s[0];
  if (n < 5 || strcmp(s + n - 4, ".lua") != 0) return 0;
  if (!shape_alpha(c0) && !(c0 >= '0' && c0 <= '9') && c0 != '_' && c0 != '-') return 0;
  for (i = 1; i < n - 4; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!shape_alpha(c) && !(c >= '0' && c <= '9') && c != '_' && c != '.' && c != '/' &&
        c != '-')
      return 0;
  }
  return 1;
}

/* xsd:language's pattern: [a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*, no white space
** (which the datatype would collapse). */
static int shape_lang(const char *s)
{
  size_t n = 0;
  while (shape_alpha((unsigned char)s[n])) n++;
  if (n < 1 || n > 8) return 0;
  for (s += n; *s; s += n) {
    if (*s++ != '-') return 0;
    for (n = 0; shape_alpha((unsigned char)s[n]) || (s[n] >= '0' && s[n] <= '9'); n++) {}
    if (n < 1 || n > 8) return 0;
  }
  return 1;
}

/* Some character that is not white space. */
static int shape_nonblank(const char *s)
{
  for (; *s; s++)
    if (!shape_space((unsigned char)*s)) return 1;
  return 0;
}

static int shape_value(int type, const char *v)
{
  switch (type) {
  case KBXML_A_TEXT: return 1;
  case KBXML_A_LINE: return *v != '\0';    /* xsd:string keeps white space */
  case KBXML_A_ID: return shape_id(v, strlen(v));
  case KBXML_A_IDLIST: return shape_list(v, 1);
  case KBXML_A_TOKENS: return shape_list(v, 0);
  case KBXML_A_SCRIPT: return shape_script(v);
  case KBXML_A_LANG: return shape_lang(v);
  default: return 0;
  }
}

/* ===== elements ===== */

static int shape_in_ns(const xmlNode *n)
{
  return n->ns && n->ns->href && strcmp((const char *)n->ns->href, KB_NS) == 0;
}

static int shape_condition(const char *el)
{
  static const char *const names[] = {
    "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "in", "holds", "known"
  };
  size_t i;
  for (i = 0; i < TS_ARRAY_LEN(names); i++)
    if (strcmp(el, names[i]) == 0) return 1;
  return 0;
}

/* The attributes of n against its rule: each known, unqualified, a single
** text value of its type; every required one present. */
static int shape_attrs(const xmlNode *n, const kbxml_rule *rule)
{
  unsigned seen = 0, i;
  int one_of = 0, has_one_of = 0;
  const xmlAttr *a;

  for (a = n->properties; a; a = a->next) {
    const xmlNode *v = a->children;
    const char *val;
    if (a->ns || a->type != XML_ATTRIBUTE_NODE || !a->name) return 0;
    for (i = 0; i < KBXML_RULE_ATTRS && rule->attrs[i].name; i++)
      if (strcmp(rule->attrs[i].name, (const char *)a->name) == 0) break;
    if (i == KBXML_RULE_ATTRS || !rule->attrs[i].name) return 0;
    if (!v) val = "";
    else if (v->type == XML_TEXT_NODE && !v->next && v->content) val = (const char *)v->content;
    else return 0;                            /* an entity reference */
    if (seen & (1u << i) || !shape_value(rule->attrs[i].type, val)) return 0;
    seen |= 1u << i;
  }
  for (i = 0; i < KBXML_RULE_ATTRS && rule->attrs[i].name; i++) {
    if (rule->attrs[i].use == KBXML_REQUIRED && !(seen & (1u << i))) return 0;
    if (rule->attrs[i].use == KBXML_ONE_OF) {
      has_one_of = 1;
      if (seen & (1u << i)) one_of = 1;
    }
  }
  return !has_one_of || one_of;
}

#define MAX_GROUPS 8

/* The group of `children` that element `el` belongs to, or -1. */
static int shape_group(const char *children, const char *el)
{
  const char *p = children;
  size_t len = strlen(el);
  int g = 0;
  while (*p) {
    for (;;) {
      size_t n = strcspn(p, "|?*+ ");
      if ((n == len && memcmp(p, el, n) == 0) ||
          (n == 9 && memcmp(p, "condition", 9) == 0 && shape_condition(el)))
        return g;
      p += n;
      if (*p != '|') break;
      p++;
    }
    p += strcspn(p, " ");
    while (*p == ' ') p++;
    g++;
  }
  return -1;
}

/* Does every group of `children` have a count its cardinality allows
** (counts saturate at 2)? */
static int shape_counts(const char *children, const unsigned char *count)
{
  const char *p = children;
  int g = 0;
  while (*p) {
    size_t n = strcspn(p, "?*+ ");
    char card = p[n];
    unsigned c = count[g];
    if (card == '?' ? c > 1 : card == '+' ? c < 1 : card == '*' ? 0 : c != 1) return 0;
    p += n;
    if (*p && *p != ' ') p++;
    while (*p == ' ') p++;
    g++;
  }
  return 1;
}

/* Element n itself: namespace, attributes and its children as its content
** allows (the children's own insides are checked when the walk gets there). */
static int shape_element(const xmlNode *n)
{
  const kbxml_rule *rule;
  const xmlNode *k;
  unsigned char count[MAX_GROUPS];
  int text = 0;

  if (!shape_in_ns(n) || !(rule = kbxml_rule_of((const char *)n->name))) return 0;
  if (!shape_attrs(n, rule)) return 0;
  memset(count, 0, sizeof count);
  for (k = n->children; k; k = k->next) {
    switch (k->type) {
    case XML_TEXT_NODE:
      if (!k->content) break;
      if (rule->content == KBXML_TEXT) text |= k->content[0] != '\0';   /* blank counts */
      else if (rule->content != KBXML_ANY_TEXT && shape_nonblank((const char *)k->content))
        return 0;                             /* text in element-only or empty content */
      break;
    case XML_COMMENT_NODE:
    case XML_PI_NODE:
      if (rule->content == KBXML_TEXT) return 0;   /* splits the text: not reasoned about */
      break;
    case XML_ELEMENT_NODE: {
      int g;
      if (rule->content != KBXML_ELEMS || !shape_in_ns(k) || !k->name) return 0;
      g = shape_group(rule->children, (const char *)k->name);
      if (g < 0 || g >= MAX_GROUPS) return 0;
      if (count[g] < 2) count[g]++;
      break;
    }
    default:
      return 0;                               /* CDATA, entity references, ... */
    }
  }
  if (rule->content == KBXML_TEXT) return text;
  if (rule->content == KBXML_ELEMS) return shape_counts(rule->children, count);
  return 1;
}

static const xmlNode *shape_next_element(const xmlNode *n)
{
  for (; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE) return n;
  return NULL;
}

int kbxml_shape_ok(const xmlDoc *doc)
{
  const xmlNode *root = NULL, *n, *k;

  if (!doc || doc->intSubset || doc->extSubset) return 0;
  for (k = doc->children; k; k = k->next) {
    if (k->type == XML_ELEMENT_NODE) {
      if (root) return 0;
      root = k;
    } else if (k->type != XML_COMMENT_NODE && k->type != XML_PI_NODE)
      return 0;
  }
  if (!root || !root->name || strcmp((const char *)root->name, "kb") != 0) return 0;
  /* Document order, without recursion: down to the first child element,
  ** else on to the next sibling element of the nearest ancestor that has one. */
  for (n = root; n; ) {
    if (!shape_element(n)) return 0;
    if ((k = shape_next_element(n->children)) != NULL) { n = k; continue; }
    for (; n != root; n = n->parent)
      if ((k = shape_next_element(n->next)) != NULL) break;
    n = n == root ? NULL : k;
  }
  return 1;
}
