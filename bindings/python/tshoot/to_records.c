/*
** to_records.c: converting libtshoot's structs (search results, articles, test
** cases, steps, cause ranks, explanations) to records.
*/
#include "_tshoot.h"

#include <string.h>

/* ======================================================================
** Converting libtshoot structs to records
*/
/* The marks of r (UTF-8 byte ranges of r->passage) as str indexes. */
static PyObject *marks_to_py(const tshoot_result *r)
{
  PyObject *t = PyTuple_New((Py_ssize_t)r->n_marks);
  size_t m, at = 0, chars = 0, n = r->passage ? strlen(r->passage) : 0;
  if (!t) return NULL;
  for (m = 0; m < r->n_marks; m++) {
    size_t ends[2] = {r->marks[m].start, r->marks[m].end}, idx[2];
    PyObject *pair;
    int e;
    for (e = 0; e < 2; e++) {
      size_t to = ends[e] < n ? ends[e] : n;
      if (to < at) to = at;
      for (; at < to; at++)
        if (((unsigned char)r->passage[at] & 0xc0) != 0x80) chars++;
      idx[e] = chars;
    }
    pair = Py_BuildValue("(nn)", (Py_ssize_t)idx[0], (Py_ssize_t)idx[1]);
    if (!pair) {
      Py_DECREF(t);
      return NULL;
    }
    PyTuple_SetItem(t, (Py_ssize_t)m, pair);   /* steals pair */
  }
  return t;
}

PyObject *result_to_py(const tshoot_result *r)
{
  PyObject *v[] = {S(r->article), S(r->title), S(r->snippet), F(r->score), SN(r->file),
                   I(r->line), S(r->passage), marks_to_py(r)};
  return rec_make(&rec_result, v);
}

static PyObject *fixinfo_to_py(const tshoot_fix_info *f)
{
  PyObject *v[] = {S(f->id), S(f->title), STRS(f->steps, f->n_steps), SN(f->verify),
                   SN(f->script), F(f->cost), SN(f->risk), B(f->needs_admin),
                   B(f->reversible)};
  return rec_make(&rec_fixinfo, v);
}

static PyObject *causeinfo_to_py(const tshoot_cause_info *c)
{
  PyObject *fixes = PyTuple_New((Py_ssize_t)c->n_fixes);
  if (!fixes) return NULL;
  for (size_t i = 0; i < c->n_fixes; i++) {
    PyObject *f = fixinfo_to_py(&c->fixes[i]);
    if (!f) {
      Py_DECREF(fixes);
      return NULL;
    }
    PyTuple_SetItem(fixes, (Py_ssize_t)i, f);
  }
  {
    PyObject *v[] = {S(c->id), SN(c->title), SN(c->explanation), F(c->prior), fixes};
    return rec_make(&rec_causeinfo, v);
  }
}

PyObject *article_to_py(const tshoot_article *a)
{
  PyObject *symptoms = NULL, *causes = NULL;
  size_t i;

  symptoms = PyTuple_New((Py_ssize_t)a->n_symptoms);
  if (!symptoms) return NULL;
  for (i = 0; i < a->n_symptoms; i++) {
    const tshoot_symptom_info *s = &a->symptoms[i];
    PyObject *v[] = {S(s->id), SN(s->kind), SN(s->code), SN(s->text)};
    PyObject *o = rec_make(&rec_symptom, v);
    if (!o) goto fail;
    PyTuple_SetItem(symptoms, (Py_ssize_t)i, o);
  }
  causes = PyTuple_New((Py_ssize_t)a->n_causes);
  if (!causes) goto fail;
  for (i = 0; i < a->n_causes; i++) {
    PyObject *o = causeinfo_to_py(&a->causes[i]);
    if (!o) goto fail;
    PyTuple_SetItem(causes, (Py_ssize_t)i, o);
  }
  {
    PyObject *v[] = {S(a->id), SN(a->title), SN(a->summary), SN(a->file), I(a->line),
                     symptoms, STRS(a->aliases, a->n_aliases), causes};
    return rec_make(&rec_article, v);
  }
fail:
  Py_XDECREF(symptoms);
  Py_XDECREF(causes);
  return NULL;
}

PyObject *testcase_to_py(const tshoot_test_case *t)
{
  PyObject *given = PyDict_New();
  if (!given) return NULL;
  for (size_t i = 0; i < t->n_given; i++) {
    PyObject *q = S(t->questions[i]), *val = SN(t->values[i]);
    int rc = (q && val) ? PyDict_SetItem(given, q, val) : -1;
    Py_XDECREF(q);
    Py_XDECREF(val);
    if (rc < 0) {
      Py_DECREF(given);
      return NULL;
    }
  }
  {
    PyObject *v[] = {S(t->id), SN(t->description), SN(t->text), SN(t->expect_cause),
                     SN(t->expect_fix), SN(t->file), I(t->line), given};
    return rec_make(&rec_testcase, v);
  }
}

PyObject *step_to_py(const tshoot_step *st)
{
  switch (st->kind) {
  case TSHOOT_STEP_ASK: {
    PyObject *v[] = {S(st->question), SN(st->prompt), SN(st->why), SN(st->type),
                     SN(st->unit), STRS(st->choices, st->n_choices),
                     STRS(st->labels, st->n_choices), F(st->expected_gain), F(st->cost),
                     I((long long)st->questions_asked)};
    return rec_make(&rec_ask, v);
  }
  case TSHOOT_STEP_FIX: {
    PyObject *v[] = {S(st->fix), S(st->cause), SN(st->cause_title), SN(st->article),
                     F(st->probability), I((long long)st->questions_asked),
                     SN(st->fix_title)};
    return rec_make(&rec_fix, v);
  }
  case TSHOOT_STEP_CONCLUDE: {
    PyObject *v[] = {S(st->cause), SN(st->cause_title), SN(st->article),
                     F(st->probability), I((long long)st->questions_asked),
                     SN(st->fix_title)};
    return rec_make(&rec_conclude, v);
  }
  case TSHOOT_STEP_INCONCLUSIVE: {
    PyObject *v[] = {S(st->cause), SN(st->cause_title), SN(st->article),
                     F(st->probability), SN(st->escalation), I((long long)st->questions_asked)};
    return rec_make(&rec_inconclusive, v);
  }
  }
  PyErr_Format(PyExc_RuntimeError, "libtshoot returned an unknown step kind %d",
               (int)st->kind);
  return NULL;
}

const char *outcome_name(tshoot_fix_outcome o)
{
  switch (o) {
  case TSHOOT_FIX_DID_NOT_WORK: return "did_not_work";
  case TSHOOT_FIX_WORKED: return "worked";
  case TSHOOT_FIX_COULD_NOT_TRY: return "could_not_try";
  case TSHOOT_FIX_SKIPPED: return "skipped";
  }
  return "did_not_work";   /* not reached: the library reports only these */
}

PyObject *causerank_to_py(const tshoot_cause_rank *c)
{
  PyObject *v[] = {S(c->cause), SN(c->title), SN(c->article), F(c->probability)};
  return rec_make(&rec_causerank, v);
}

PyObject *causeranks_to_tuple(const tshoot_cause_rank *c, size_t n)
{
  PyObject *t = PyTuple_New((Py_ssize_t)n);
  if (!t) return NULL;
  for (size_t i = 0; i < n; i++) {
    PyObject *o = causerank_to_py(&c[i]);
    if (!o) {
      Py_DECREF(t);
      return NULL;
    }
    PyTuple_SetItem(t, (Py_ssize_t)i, o);
  }
  return t;
}

PyObject *explanation_to_py(const tshoot_explanation *e)
{
  PyObject *items = PyTuple_New((Py_ssize_t)e->n_items);
  if (!items) return NULL;
  for (size_t i = 0; i < e->n_items; i++) {
    const tshoot_explain_item *it = &e->items[i];
    PyObject *v[] = {SN(it->kind), SN(it->subject), SN(it->detail), F(it->factor)};
    PyObject *o = rec_make(&rec_evidence, v);
    if (!o) {
      Py_DECREF(items);
      return NULL;
    }
    PyTuple_SetItem(items, (Py_ssize_t)i, o);
  }
  {
    PyObject *v[] = {SN(e->subject), SN(e->text), items,
                     causeranks_to_tuple(e->causes, e->n_causes), F(e->expected_gain),
                     F(e->cost)};
    return rec_make(&rec_explanation, v);
  }
}

