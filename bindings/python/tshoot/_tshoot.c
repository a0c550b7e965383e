/*
** _tshoot.c: the CPython extension behind the `tshoot` package.
**
** It binds the public C API (tshoot.h) and nothing else. Written against
** Python's limited API (the stable ABI, Py_LIMITED_API = 3.10), so one build,
** _tshoot.abi3.so, loads in every CPython >= 3.10.
**
** Objects:
**   KB        a tshoot_kb; immutable, shared by any number of threads. Every
**             call that runs without the GIL counts itself in `users`, so a
**             close() from another thread only marks the KB and the last user
**             closes it.
**   Session   a tshoot_session, its KB (kept alive) and its host. A session is
**             used by one thread at a time: every method takes the session's
**             lock (waiting for it without the GIL), so two threads that share
**             a Session take turns instead of corrupting it.
**   Host      a tshoot_host: the simulated one (SimHost), or one whose callbacks
**             call a Python object's methods (taking the GIL); used by one thread
**             at a time, with a lock that session calls take after the session's.
**   records   Result, Ask, Fix, Conclude, CauseRank, Answer, Explanation, ...:
**             small immutable value objects, one generic C implementation
**             (recdef below) with readable reprs, equality, pickling and
**             pattern matching (__match_args__).
**   errors    the exception classes and the Results list live in _base.py;
**             every failing C call raises the class of its TSHOOT_E* code with
**             the message, file, line and column of tshoot_error_last().
**
** The GIL is released around every call into libtshoot that can take time
** (opening a KB, searching, reading articles and tests, compiling, creating,
** describing, stepping, answering, explaining, saving and loading sessions,
** running scripts and fixes).
**
** Module state lives in static variables (single-phase init): the module
** does not support sub-interpreters.
*/
#define Py_LIMITED_API 0x030A0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stddef.h>
#include <string.h>

#include "tshoot.h"

#ifndef TSHOOT_PY_BUILD_KB
# define TSHOOT_PY_BUILD_KB ""
#endif
#ifndef TSHOOT_PY_INSTALLED_KB
# define TSHOOT_PY_INSTALLED_KB ""
#endif

/* Method tables want PyCFunction; keyword functions have another type. */
#define KWFUNC(f) ((PyCFunction)(void (*)(void))(f))

PyMODINIT_FUNC PyInit__tshoot(void);

/* ======================================================================
** Module-wide references (set once by PyInit__tshoot)
*/
static PyObject *g_error_class;   /* _base._error_class(code) -> class */
static PyObject *g_results_type;  /* _base.Results */
static PyObject *g_default_kb;    /* _base.default_kb() -> str | None */
static PyObject *g_no_default_kb; /* _base._no_default_kb() -> NotFound */
static PyTypeObject *KB_Type;
static PyTypeObject *Session_Type;

/* ======================================================================
** Errors
*/

/* Raise the tshoot.Error subclass for `code` with `message` and a place. */
static PyObject *raise_error(int code, const char *message, const char *file, int line,
                             int column)
{
  PyObject *cls = NULL, *args = NULL, *kw = NULL, *exc = NULL, *tmp;

  cls = PyObject_CallFunction(g_error_class, "i", code);
  if (!cls) goto done;
  args = Py_BuildValue("(N)", PyUnicode_DecodeUTF8(message, (Py_ssize_t)strlen(message),
                                                   "replace"));
  if (!args) goto done;
  if (file)
    tmp = PyUnicode_DecodeFSDefault(file);
  else {
    tmp = Py_None;
    Py_INCREF(tmp);
  }
  kw = Py_BuildValue("{s:i,s:N,s:i,s:i}", "code", code, "file", tmp, "line", line,
                     "column", column);
  if (!kw) goto done;
  exc = PyObject_Call(cls, args, kw);
  if (!exc) goto done;
  PyErr_SetObject(cls, exc);
done:
  Py_XDECREF(exc);
  Py_XDECREF(kw);
  Py_XDECREF(args);
  Py_XDECREF(cls);
  return NULL;
}

/* Raise for a libtshoot status `rc` that was just returned on this thread:
** the detail comes from tshoot_error_last() when it is about this failure. */
static PyObject *raise_rc(int rc)
{
  const tshoot_error *e = tshoot_error_last();
  if (PyErr_Occurred()) return NULL;   /* a callback's exception wins */
  if (e->code == rc && e->message && *e->message)
    return raise_error(rc, e->message, e->file, e->line, e->column);
  return raise_error(rc, tshoot_strerror(rc), NULL, 0, 0);
}

/* Save and restore a pending exception (PyErr_Fetch/Restore: the 3.10 limited
** API has no PyErr_GetRaisedException). */
static PyObject *exc_save(void)
{
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (value && tb) PyException_SetTraceback(value, tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  return value;
}

static void exc_restore(PyObject *value)
{
  if (!value) return;
  PyErr_SetObject((PyObject *)Py_TYPE(value), value);
  Py_DECREF(value);
}

/* ======================================================================
** Converting C values. Each helper returns a new reference, or NULL with an
** exception set; each returns NULL at once when an exception is already
** pending, so that a record can be filled by a row of calls and checked once.
*/
static PyObject *S(const char *s)
{
  if (PyErr_Occurred()) return NULL;
  return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *SN(const char *s)   /* NULL -> None */
{
  if (PyErr_Occurred()) return NULL;
  if (!s) Py_RETURN_NONE;
  return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *F(double v)
{
  if (PyErr_Occurred()) return NULL;
  return PyFloat_FromDouble(v);
}

static PyObject *I(long long v)
{
  if (PyErr_Occurred()) return NULL;
  return PyLong_FromLongLong(v);
}

static PyObject *B(int v)
{
  if (PyErr_Occurred()) return NULL;
  return PyBool_FromLong(v);
}

static PyObject *STRS(const char *const *v, size_t n)   /* tuple of str */
{
  PyObject *t;
  if (PyErr_Occurred()) return NULL;
  t = PyTuple_New((Py_ssize_t)n);
  if (!t) return NULL;
  for (size_t i = 0; i < n; i++) {
    PyObject *s = SN(v[i]);
    if (!s) {
      Py_DECREF(t);
      return NULL;
    }
    PyTuple_SetItem(t, (Py_ssize_t)i, s);
  }
  return t;
}

/* A str or bytes argument as UTF-8 bytes. Borrowed from `o`. */
static int text_arg(PyObject *o, const char **p, Py_ssize_t *len, const char *what)
{
  if (PyUnicode_Check(o)) {
    *p = PyUnicode_AsUTF8AndSize(o, len);
    return *p ? 0 : -1;
  }
  if (PyBytes_Check(o)) {
    char *b;
    if (PyBytes_AsStringAndSize(o, &b, len) < 0) return -1;
    *p = b;
    return 0;
  }
  PyErr_Format(PyExc_TypeError, "%s must be str or bytes, not %R", what,
               (PyObject *)Py_TYPE(o));
  return -1;
}

/* A str argument (an id) as UTF-8 without NUL bytes; NULL for None when
** `none_ok`. */
static int id_arg(PyObject *o, const char **p, const char *what, int none_ok)
{
  Py_ssize_t len;
  if (o == Py_None && none_ok) {
    *p = NULL;
    return 0;
  }
  if (!PyUnicode_Check(o)) {
    PyErr_Format(PyExc_TypeError, "%s must be a str%s", what, none_ok ? " or None" : "");
    return -1;
  }
  *p = PyUnicode_AsUTF8AndSize(o, &len);
  if (!*p) return -1;
  if ((size_t)len != strlen(*p)) {
    PyErr_Format(PyExc_ValueError, "%s contains a NUL character", what);
    return -1;
  }
  return 0;
}

/* ======================================================================
** Records: small immutable value types, all made by one implementation.
** A record is PyObject_HEAD, its definition, then one PyObject* per field.
*/
typedef struct fielddef {
  const char *name, *doc;
} fielddef;

typedef struct recdef recdef;
struct recdef {
  const char *name;           /* "tshoot.Result" */
  const char *doc;
  const fielddef *fields;
  int nfields;
  recdef *base;               /* the record type it derives from, or NULL */
  const char *kind;           /* class attribute `kind`, or NULL */
  int is_base;                /* others derive from it */
  PyTypeObject *type;         /* made by rec_make_type */
  PyMemberDef *members;       /* its member table (kept for the life of the process) */
};

typedef struct Record {
  PyObject_HEAD
  const recdef *def;
  PyObject *f[];
} Record;

#define NFIELDS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* --- the record types ---------------------------------------------------- */

static const fielddef result_fields[] = {
  {"article", "the article's id, e.g. 'kofmsp'"},
  {"title", "the article's title"},
  {"snippet", "the best-matching passage, matched words marked"},
  {"score", "relevance, higher is better"},
  {"file", "the source file the article came from"},
  {"line", "its line there"},
};
static recdef rec_result = {"tshoot.Result",
  "Result(article, title, snippet, score, file, line)\n--\n\n"
  "One search hit (see KB.search).", result_fields, NFIELDS(result_fields),
  NULL, NULL, 0, NULL, NULL};

static const fielddef info_fields[] = {
  {"path", "the KB file"},
  {"format", "its format version (TSHOOT_KB_FORMAT)"},
  {"digest", "SHA-256 over all sources: identifies a KB build"},
  {"tshoot_version", "the library version that compiled it"},
  {"articles", "number of articles"}, {"questions", "number of questions"},
  {"facts", "number of facts"}, {"causes", "number of causes"},
  {"fixes", "number of fixes"}, {"tests", "number of test cases"},
  {"scripts", "number of scripts"}, {"sources", "number of source files"},
};
static recdef rec_info = {"tshoot.KBInfo",
  "KBInfo(path, format, digest, tshoot_version, articles, questions, facts, causes, "
  "fixes, tests, scripts, sources)\n--\n\n"
  "Facts about an open KB (KB.info).", info_fields, NFIELDS(info_fields),
  NULL, NULL, 0, NULL, NULL};

static const fielddef symptom_fields[] = {
  {"id", "stable id (the author's, or '<article>#<n>')"},
  {"kind", "'symptom' (what a person notices) or 'error' (exact text)"},
  {"code", "an error code such as '0x8004010F', or None"},
  {"text", "the symptom's text"},
};
static recdef rec_symptom = {"tshoot.Symptom",
  "Symptom(id, kind, code, text)\n--\n\nA symptom of an article.",
  symptom_fields, NFIELDS(symptom_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef fixinfo_fields[] = {
  {"id", "the fix's id"}, {"title", "what to do, in a line"},
  {"steps", "tuple of steps for a person, in order"},
  {"verify", "how a person checks that it worked, or None"},
  {"script", "the name of its Lua fix script, or None"},
  {"cost", "relative effort, > 0"}, {"risk", "'low', 'medium' or 'high'"},
  {"needs_admin", "True: needs administrator rights"},
  {"reversible", "True: can be undone"},
};
static recdef rec_fixinfo = {"tshoot.FixInfo",
  "FixInfo(id, title, steps, verify, script, cost, risk, needs_admin, reversible)\n--\n\n"
  "A fix of a cause, as its author wrote it.", fixinfo_fields, NFIELDS(fixinfo_fields),
  NULL, NULL, 0, NULL, NULL};

static const fielddef causeinfo_fields[] = {
  {"id", "the cause's id"}, {"title", "the cause in a line"},
  {"explanation", "what happens, for a person"},
  {"prior", "the author's prior weight, in (0, 1]"},
  {"fixes", "tuple of FixInfo, in the order to try them"},
};
static recdef rec_causeinfo = {"tshoot.CauseInfo",
  "CauseInfo(id, title, explanation, prior, fixes)\n--\n\nA cause of an article.",
  causeinfo_fields, NFIELDS(causeinfo_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef article_fields[] = {
  {"id", "the article's id"}, {"title", "its title"}, {"summary", "or None"},
  {"file", "the source file it was compiled from"}, {"line", "its line there"},
  {"symptoms", "tuple of Symptom"}, {"aliases", "tuple of str"},
  {"causes", "tuple of CauseInfo"},
};
static recdef rec_article = {"tshoot.Article",
  "Article(id, title, summary, file, line, symptoms, aliases, causes)\n--\n\n"
  "An article as its author wrote it (KB.article).", article_fields,
  NFIELDS(article_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef testcase_fields[] = {
  {"id", "the test's id"}, {"description", "or None"},
  {"text", "what the user types, or None"},
  {"expect_cause", "the cause the diagnosis must conclude ('none' allowed), or None"},
  {"expect_fix", "the fix it must propose, or None"},
  {"file", "the source file of the <test>, or None"}, {"line", "its line"},
  {"given", "dict question -> value: the answers given up front, in order"},
};
static recdef rec_testcase = {"tshoot.TestCase",
  "TestCase(id, description, text, expect_cause, expect_fix, file, line, given)\n--\n\n"
  "A test case the KB's authors wrote (KB.tests).", testcase_fields,
  NFIELDS(testcase_fields), NULL, NULL, 0, NULL, NULL};

static recdef rec_step = {"tshoot.Step",
  "The base class of the steps Session.next() returns: Ask, Fix and Conclude.\n\n"
  "Each has a class attribute `kind`: 'ask', 'fix' or 'conclude'.",
  NULL, 0, NULL, NULL, 1, NULL, NULL};

static const fielddef ask_fields[] = {
  {"question", "the question's id: answer it with Session.answer(question, value)"},
  {"prompt", "the question for a person"},
  {"why", "the author's 'why we ask', or None"},
  {"type", "'yesno', 'choice', 'version', 'number' or 'text'"},
  {"unit", "for number questions, or None"},
  {"choices", "tuple of the values to answer with (yesno: ('yes', 'no'))"},
  {"labels", "tuple of what to show for each choice"},
  {"expected_gain", "expected reduction of uncertainty, in bits"},
  {"cost", "the question's cost (how much it bothers the user)"},
  {"questions_asked", "answers given so far, 'don't know' included"},
};
static recdef rec_ask = {"tshoot.Ask",
  "Ask(question, prompt, why, type, unit, choices, labels, expected_gain, cost, "
  "questions_asked)\n--\n\n"
  "A step: ask the user a question.", ask_fields, NFIELDS(ask_fields),
  &rec_step, "ask", 0, NULL, NULL};

static const fielddef fix_fields[] = {
  {"fix", "the fix's id: report with Session.fix_result(fix, worked)"},
  {"cause", "the cause it repairs"}, {"cause_title", "that cause in a line"},
  {"article", "the cause's article id"},
  {"probability", "how likely the cause is now"},
  {"questions_asked", "answers given so far"},
};
static recdef rec_fix = {"tshoot.Fix",
  "Fix(fix, cause, cause_title, article, probability, questions_asked)\n--\n\n"
  "A step: try a fix (its steps are in KB.article(article)), then report\n"
  "whether it worked with Session.fix_result().", fix_fields, NFIELDS(fix_fields),
  &rec_step, "fix", 0, NULL, NULL};

static const fielddef conclude_fields[] = {
  {"cause", "the cause, or 'none' when none of the known causes fits"},
  {"cause_title", "the cause in a line"},
  {"article", "the cause's article id, or None for 'none'"},
  {"probability", "how likely the cause is"},
  {"questions_asked", "answers given"},
};
static recdef rec_conclude = {"tshoot.Conclude",
  "Conclude(cause, cause_title, article, probability, questions_asked)\n--\n\n"
  "The last step: the diagnosis names its cause.", conclude_fields,
  NFIELDS(conclude_fields), &rec_step, "conclude", 0, NULL, NULL};

static const fielddef causerank_fields[] = {
  {"cause", "the cause's id, or 'none'"}, {"title", "the cause in a line"},
  {"article", "its article's id, or None for 'none'"},
  {"probability", "how likely it is now"},
};
static recdef rec_causerank = {"tshoot.CauseRank",
  "CauseRank(cause, title, article, probability)\n--\n\n"
  "A cause and how likely it is now (Session.causes).", causerank_fields,
  NFIELDS(causerank_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef answer_fields[] = {
  {"question", "the question's id"},
  {"value", "the answer, or None for 'don't know'"},
  {"source", "'user', or 'probe' when a probe on the session's host answered"},
};
static recdef rec_answer = {"tshoot.Answer",
  "Answer(question, value, source)\n--\n\nAn answer given so far (Session.answers).",
  answer_fields, NFIELDS(answer_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef evidence_fields[] = {
  {"kind", "'prior', 'text', 'symptom', 'answer', 'condition' or 'fix'"},
  {"subject", "the question, symptom or fix id; None for prior and text"},
  {"detail", "for a person: 'office.version = 2016', 'requires ...'"},
  {"factor", "how much it multiplied the cause's weight (1: neutral)"},
};
static recdef rec_evidence = {"tshoot.Evidence",
  "Evidence(kind, subject, detail, factor)\n--\n\nOne piece of evidence in an Explanation.",
  evidence_fields, NFIELDS(evidence_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef explanation_fields[] = {
  {"subject", "the question or cause explained"},
  {"text", "a paragraph for a person"},
  {"items", "how: tuple of Evidence, the evidence trail in order"},
  {"causes", "why: tuple of CauseRank, the causes the question tells apart"},
  {"expected_gain", "why: expected reduction of uncertainty, in bits"},
  {"cost", "why: the question's cost"},
};
static recdef rec_explanation = {"tshoot.Explanation",
  "Explanation(subject, text, items, causes, expected_gain, cost)\n--\n\n"
  "Why a question is asked (Session.why) or why a cause is ranked where it is\n"
  "(Session.how).", explanation_fields, NFIELDS(explanation_fields),
  NULL, NULL, 0, NULL, NULL};

static const fielddef diagnostic_fields[] = {
  {"severity", "'error', 'warning' or 'note' (context for the diagnostic before it)"},
  {"file", "the source file as it was named"},
  {"line", "1-based, or 0 when the whole file is meant"},
  {"column", "1-based, or 0 when unknown"},
  {"code", "a stable id such as 'TSH-E012' (docs/messages.md), or None"},
  {"message", "one line, without file:line:col"},
};
static recdef rec_diagnostic = {"tshoot.Diagnostic",
  "Diagnostic(severity, file, line, column, code, message)\n--\n\n"
  "A problem found in KB sources by tshoot.compile(), like a compiler's.",
  diagnostic_fields, NFIELDS(diagnostic_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef stats_fields[] = {
  {"files", "source files read"}, {"articles", "articles"}, {"questions", "questions"},
  {"facts", "facts"}, {"causes", "causes"}, {"fixes", "fixes"}, {"tests", "test cases"},
  {"scripts", "scripts"}, {"errors", "errors reported"}, {"warnings", "warnings reported"},
  {"diagnostics", "tuple of Diagnostic, in source order"},
};
static recdef rec_stats = {"tshoot.CompileStats",
  "CompileStats(files, articles, questions, facts, causes, fixes, tests, scripts, "
  "errors, warnings, diagnostics)\n--\n\n"
  "What tshoot.compile() did, with every diagnostic it reported.",
  stats_fields, NFIELDS(stats_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef limits_fields[] = {
  {"memory_kib", "memory a script may use, in KiB (None or 0: 16384)"},
  {"instructions", "Lua VM instructions (None or 0: 10,000,000)"},
  {"time_ms", "wall time in milliseconds (None or 0: 2000)"},
  {"exact_count", "True: count instructions exactly with a count hook (slower)"},
};
static recdef rec_limits = {"tshoot.Limits",
  "Limits(memory_kib=None, instructions=None, time_ms=None, exact_count=None)\n--\n\n"
  "Limits of the scripts a session or run_script() runs (docs/scripts.md,\n"
  "'Limits'); a field left None keeps the default.",
  limits_fields, NFIELDS(limits_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef change_fields[] = {
  {"op", "'registry.set', 'registry.delete', 'file.move', 'file.remove', "
         "'service.start' or 'service.stop'"},
  {"target", "key\\name, path or service"},
  {"before", "the state before, as JSON text ('null': absent)"},
  {"after", "the state after, as JSON text"},
  {"script", "the script that made it"},
  {"fix", "the fix it belongs to, or None"},
  {"undone", "True: rolled back"},
};
static recdef rec_change = {"tshoot.Change",
  "Change(op, target, before, after, script, fix, undone)\n--\n\n"
  "One change made through a host, with the state before it (Host.journal,\n"
  "Run.changes).", change_fields, NFIELDS(change_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef run_fields[] = {
  {"status", "0 (TSHOOT_OK), or why it failed: -1 (a script error or a failed verify), "
             "-10 (a limit), -11 (refused)"},
  {"message", "what went wrong, or ''"},
  {"answer", "probe: the answer as text, or None (cannot tell)"},
  {"verified", "apply/verify: the fix's verify said it worked"},
  {"rolled_back", "apply: the changes were undone"},
  {"changes", "plan: what it would do; apply: what it did (tuple of Change)"},
  {"notes", "what the script told the user (ui.notify), in order"},
  {"elapsed_ms", "wall time"}, {"instructions", "Lua instructions run"},
  {"memory_peak", "bytes"},
};
static recdef rec_run = {"tshoot.Run",
  "Run(status, message, answer, verified, rolled_back, changes, notes, elapsed_ms, "
  "instructions, memory_peak)\n--\n\n"
  "What one script run did (Session.run_fix, tshoot.run_script).",
  run_fields, NFIELDS(run_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef probe_fields[] = {
  {"question", "the question it was to answer"}, {"script", "the probe's script"},
  {"answer", "its answer, or None (it could not tell, or failed)"},
  {"status", "0, or why it failed (a negative TSHOOT_E* code)"},
  {"message", "'' or what went wrong"},
};
static recdef rec_probe = {"tshoot.Probe",
  "Probe(question, script, answer, status, message)\n--\n\n"
  "What a probe did on the session's host (Session.probes).",
  probe_fields, NFIELDS(probe_fields), NULL, NULL, 0, NULL, NULL};

static recdef *const all_records[] = {
  &rec_limits, &rec_change, &rec_run, &rec_probe,
  &rec_diagnostic, &rec_stats, &rec_result, &rec_info, &rec_symptom, &rec_fixinfo, &rec_causeinfo, &rec_article,
  &rec_testcase, &rec_step, &rec_ask, &rec_fix, &rec_conclude, &rec_causerank,
  &rec_answer, &rec_evidence, &rec_explanation,
};

/* --- the generic implementation ------------------------------------------ */

static const recdef *rec_def_of(PyTypeObject *t)
{
  for (size_t i = 0; i < sizeof all_records / sizeof all_records[0]; i++)
    if (all_records[i]->type == t) return all_records[i];
  return NULL;
}

static Record *rec_alloc(const recdef *d)
{
  allocfunc alloc = (allocfunc)PyType_GetSlot(d->type, Py_tp_alloc);
  Record *r = (Record *)alloc(d->type, 0);
  if (r) r->def = d;
  return r;
}

/* A record of type `d` from `vals` (d->nfields new references, stolen, even on
** failure; a NULL among them means a conversion failed). */
static PyObject *rec_make(const recdef *d, PyObject **vals)
{
  Record *r = NULL;
  int i, ok = 1;
  for (i = 0; i < d->nfields; i++)
    if (!vals[i]) ok = 0;
  if (ok) r = rec_alloc(d);
  if (!r) {
    for (i = 0; i < d->nfields; i++) Py_XDECREF(vals[i]);
    return NULL;
  }
  for (i = 0; i < d->nfields; i++) r->f[i] = vals[i];
  return (PyObject *)r;
}

static PyObject *rec_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
  const recdef *d = rec_def_of(type);
  Py_ssize_t na, i;
  Record *r;

  if (!d) {
    PyErr_SetString(PyExc_TypeError, "cannot create instances of this type");
    return NULL;
  }
  na = PyTuple_Size(args);
  if (na > d->nfields) {
    PyErr_Format(PyExc_TypeError, "%s takes at most %d arguments (%zd given)", d->name,
                 d->nfields, na);
    return NULL;
  }
  r = rec_alloc(d);
  if (!r) return NULL;
  for (i = 0; i < na; i++) {
    r->f[i] = PyTuple_GetItem(args, i);
    Py_INCREF(r->f[i]);
  }
  if (kw) {
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(kw, &pos, &key, &value)) {
      int j, found = -1;
      for (j = 0; j < d->nfields; j++)
        if (PyUnicode_CompareWithASCIIString(key, d->fields[j].name) == 0) found = j;
      if (found < 0 || r->f[found]) {
        PyErr_Format(PyExc_TypeError, found < 0 ? "%s got an unexpected keyword argument %R"
                                                : "%s got multiple values for argument %R",
                     d->name, key);
        Py_DECREF(r);
        return NULL;
      }
      r->f[found] = value;
      Py_INCREF(value);
    }
  }
  for (i = 0; i < d->nfields; i++)
    if (!r->f[i]) {
      r->f[i] = Py_None;
      Py_INCREF(Py_None);
    }
  return (PyObject *)r;
}

static void rec_dealloc(PyObject *o)
{
  Record *r = (Record *)o;
  PyTypeObject *t = Py_TYPE(o);
  freefunc tp_free = (freefunc)PyType_GetSlot(t, Py_tp_free);
  if (r->def)
    for (int i = 0; i < r->def->nfields; i++) Py_CLEAR(r->f[i]);
  tp_free(o);
  Py_DECREF(t);
}

/* Type(field=value, ...), leaving out fields that are None. */
static PyObject *rec_repr(PyObject *o)
{
  Record *r = (Record *)o;
  const recdef *d = r->def;
  const char *dot = strrchr(d->name, '.');
  PyObject *parts = NULL, *sep = NULL, *body = NULL, *out = NULL;
  int i, rc;

  rc = Py_ReprEnter(o);
  if (rc != 0) return rc > 0 ? PyUnicode_FromString("...") : NULL;
  parts = PyList_New(0);
  if (!parts) goto done;
  for (i = 0; i < d->nfields; i++) {
    PyObject *p;
    if (r->f[i] == Py_None) continue;
    p = PyUnicode_FromFormat("%s=%R", d->fields[i].name, r->f[i]);
    if (!p || PyList_Append(parts, p) < 0) {
      Py_XDECREF(p);
      goto done;
    }
    Py_DECREF(p);
  }
  sep = PyUnicode_FromString(", ");
  if (!sep) goto done;
  body = PyUnicode_Join(sep, parts);
  if (!body) goto done;
  out = PyUnicode_FromFormat("%s(%U)", dot ? dot + 1 : d->name, body);
done:
  Py_XDECREF(body);
  Py_XDECREF(sep);
  Py_XDECREF(parts);
  Py_ReprLeave(o);
  return out;
}

static PyObject *rec_richcompare(PyObject *a, PyObject *b, int op)
{
  Record *x = (Record *)a, *y = (Record *)b;
  int equal = 1;
  if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b)) Py_RETURN_NOTIMPLEMENTED;
  for (int i = 0; i < x->def->nfields && equal; i++) {
    int c = PyObject_RichCompareBool(x->f[i], y->f[i], Py_EQ);
    if (c < 0) return NULL;
    equal = c;
  }
  return PyBool_FromLong(op == Py_EQ ? equal : !equal);
}

static PyObject *rec_as_tuple(Record *r)
{
  PyObject *t = PyTuple_New(r->def->nfields);
  if (!t) return NULL;
  for (int i = 0; i < r->def->nfields; i++) {
    Py_INCREF(r->f[i]);
    PyTuple_SetItem(t, i, r->f[i]);
  }
  return t;
}

static Py_hash_t rec_hash(PyObject *o)
{
  PyObject *t = rec_as_tuple((Record *)o);
  Py_hash_t h;
  if (!t) return -1;
  h = PyObject_Hash(t);
  Py_DECREF(t);
  return h;
}

static PyObject *rec_asdict(PyObject *o, PyObject *unused)
{
  Record *r = (Record *)o;
  PyObject *dict = PyDict_New();
  if (!dict) return NULL;
  for (int i = 0; i < r->def->nfields; i++)
    if (PyDict_SetItemString(dict, r->def->fields[i].name, r->f[i]) < 0) {
      Py_DECREF(dict);
      return NULL;
    }
  return dict;
}

static PyObject *rec_reduce(PyObject *o, PyObject *unused)
{
  PyObject *t = rec_as_tuple((Record *)o);
  if (!t) return NULL;
  return Py_BuildValue("(ON)", (PyObject *)Py_TYPE(o), t);
}

static PyMethodDef rec_methods[] = {
  {"_asdict", rec_asdict, METH_NOARGS,
   "_asdict($self, /)\n--\n\nThe fields as a dict, in order."},
  {"__reduce__", rec_reduce, METH_NOARGS, NULL},
  {NULL, NULL, 0, NULL}
};

static int rec_make_type(recdef *d, PyObject *module)
{
  PyMemberDef *members;
  PyObject *bases = NULL, *type = NULL, *names = NULL, *kind = NULL;
  int i, rc = -1;

  /* Kept for the life of the process: the type points into it. */
  members = PyMem_Calloc((size_t)d->nfields + 1, sizeof *members);
  if (!members) {
    PyErr_NoMemory();
    return -1;
  }
  d->members = members;
  for (i = 0; i < d->nfields; i++) {
    members[i].name = d->fields[i].name;
    members[i].type = T_OBJECT;
    members[i].offset = (Py_ssize_t)(offsetof(Record, f) + (size_t)i * sizeof(PyObject *));
    members[i].flags = READONLY;
    members[i].doc = d->fields[i].doc;
  }
  {
    PyType_Slot slots[] = {
      {Py_tp_doc, (void *)d->doc},
      {Py_tp_new, (void *)rec_new},
      {Py_tp_dealloc, (void *)rec_dealloc},
      {Py_tp_repr, (void *)rec_repr},
      {Py_tp_richcompare, (void *)rec_richcompare},
      {Py_tp_hash, (void *)rec_hash},
      {Py_tp_members, members},
      {Py_tp_methods, rec_methods},
      {0, NULL},
    };
    PyType_Spec spec = {
      d->name, (int)(sizeof(Record) + (size_t)d->nfields * sizeof(PyObject *)), 0,
      Py_TPFLAGS_DEFAULT | (d->is_base ? Py_TPFLAGS_BASETYPE : 0), slots,
    };
    if (d->base) {
      bases = PyTuple_Pack(1, (PyObject *)d->base->type);
      if (!bases) goto done;
    }
    type = PyType_FromSpecWithBases(&spec, bases);
    if (!type) goto done;
  }
  names = PyTuple_New(d->nfields);
  if (!names) goto done;
  for (i = 0; i < d->nfields; i++) {
    PyObject *n = PyUnicode_FromString(d->fields[i].name);
    if (!n) goto done;
    PyTuple_SetItem(names, i, n);
  }
  if (PyObject_SetAttrString(type, "__match_args__", names) < 0) goto done;
  if (d->kind) {
    kind = PyUnicode_FromString(d->kind);
    if (!kind || PyObject_SetAttrString(type, "kind", kind) < 0) goto done;
  }
  d->type = (PyTypeObject *)type;
  Py_INCREF(type);   /* one for d->type, one for the module */
  if (PyModule_AddObject(module, strrchr(d->name, '.') + 1, type) < 0) {
    Py_DECREF(type);
    goto done;
  }
  type = NULL;
  rc = 0;
done:
  Py_XDECREF(kind);
  Py_XDECREF(names);
  Py_XDECREF(type);
  Py_XDECREF(bases);
  return rc;
}

/* ======================================================================
** Converting libtshoot structs to records
*/
static PyObject *result_to_py(const tshoot_result *r)
{
  PyObject *v[] = {S(r->article), S(r->title), S(r->snippet), F(r->score), SN(r->file),
                   I(r->line)};
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

static PyObject *article_to_py(const tshoot_article *a)
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

static PyObject *testcase_to_py(const tshoot_test_case *t)
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

static PyObject *step_to_py(const tshoot_step *st)
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
                     F(st->probability), I((long long)st->questions_asked)};
    return rec_make(&rec_fix, v);
  }
  case TSHOOT_STEP_CONCLUDE: {
    PyObject *v[] = {S(st->cause), SN(st->cause_title), SN(st->article),
                     F(st->probability), I((long long)st->questions_asked)};
    return rec_make(&rec_conclude, v);
  }
  }
  PyErr_Format(PyExc_RuntimeError, "libtshoot returned an unknown step kind %d",
               (int)st->kind);
  return NULL;
}

static PyObject *causerank_to_py(const tshoot_cause_rank *c)
{
  PyObject *v[] = {S(c->cause), SN(c->title), SN(c->article), F(c->probability)};
  return rec_make(&rec_causerank, v);
}

static PyObject *causeranks_to_tuple(const tshoot_cause_rank *c, size_t n)
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

static PyObject *explanation_to_py(const tshoot_explanation *e)
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

/* ======================================================================
** KB
*/
typedef struct KBObject {
  PyObject_HEAD
  tshoot_kb *kb;       /* NULL once closed */
  int users;           /* calls running without the GIL */
  int closing;         /* close() was asked while users > 0 */
  PyObject *path;      /* str */
  PyObject *weakrefs;
} KBObject;

/* Count a call that is about to use k->kb without the GIL (GIL held). */
static int kb_enter(KBObject *k)
{
  if (!k->kb || k->closing) {
    raise_error(TSHOOT_EINVALID, "the KB is closed", NULL, 0, 0);
    return -1;
  }
  k->users++;
  return 0;
}

/* The call is over (GIL held); the last user closes a KB that close() marked. */
static void kb_leave(KBObject *k)
{
  if (--k->users == 0 && k->closing) {
    tshoot_kb_close(k->kb);
    k->kb = NULL;
  }
}

static PyObject *KB_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = {"path", "query_budget_ms", "cache_kib", NULL};
  PyObject *path = Py_None, *fspath = NULL, *pathstr = NULL;
  int budget = 0;
  Py_ssize_t cache = 0;
  KBObject *self = NULL;
  tshoot_kb_options opts = TSHOOT_KB_OPTIONS_INIT;
  tshoot_kb *kb = NULL;
  const char *p;
  int rc;

  if (!PyArg_ParseTupleAndKeywords(args, kw, "|O$in:KB", kwlist, &path, &budget, &cache))
    return NULL;
  if (budget < 0 || cache < 0) {
    PyErr_SetString(PyExc_ValueError, "query_budget_ms and cache_kib must be >= 0");
    return NULL;
  }
  opts.query_budget_ms = budget;
  opts.cache_kib = (size_t)cache;
  if (path == Py_None) {
    path = PyObject_CallNoArgs(g_default_kb);
    if (!path) return NULL;
    if (path == Py_None) {
      PyObject *exc = PyObject_CallNoArgs(g_no_default_kb);
      Py_DECREF(path);
      if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
      }
      return NULL;
    }
  } else {
    Py_INCREF(path);
  }
  if (!PyUnicode_FSConverter(path, &fspath)) goto done;
  pathstr = PyUnicode_DecodeFSDefault(PyBytes_AsString(fspath));
  if (!pathstr) goto done;
  p = PyBytes_AsString(fspath);
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_kb_open(&kb, p, &opts);
  Py_END_ALLOW_THREADS
  if (rc != TSHOOT_OK) {
    raise_rc(rc);
    goto done;
  }
  self = (KBObject *)((allocfunc)PyType_GetSlot(type, Py_tp_alloc))(type, 0);
  if (!self) {
    tshoot_kb_close(kb);
    goto done;
  }
  self->kb = kb;
  self->path = pathstr;
  pathstr = NULL;
done:
  Py_XDECREF(pathstr);
  Py_XDECREF(fspath);
  Py_DECREF(path);
  return (PyObject *)self;
}

static void KB_dealloc(PyObject *o)
{
  KBObject *self = (KBObject *)o;
  PyTypeObject *t = Py_TYPE(o);
  if (self->weakrefs) PyObject_ClearWeakRefs(o);
  tshoot_kb_close(self->kb);
  Py_XDECREF(self->path);
  ((freefunc)PyType_GetSlot(t, Py_tp_free))(o);
  Py_DECREF(t);
}

static PyObject *KB_repr(PyObject *o)
{
  KBObject *self = (KBObject *)o;
  return PyUnicode_FromFormat("<tshoot.KB %R%s>", self->path,
                              (!self->kb || self->closing) ? " (closed)" : "");
}

static PyObject *KB_close(PyObject *o, PyObject *unused)
{
  KBObject *self = (KBObject *)o;
  if (self->kb && !self->closing) {
    if (self->users == 0) {
      tshoot_kb *kb = self->kb;
      self->kb = NULL;
      Py_BEGIN_ALLOW_THREADS
      tshoot_kb_close(kb);
      Py_END_ALLOW_THREADS
    } else {
      self->closing = 1;
    }
  }
  Py_RETURN_NONE;
}

static PyObject *KB_enter(PyObject *o, PyObject *unused)
{
  Py_INCREF(o);
  return o;
}

static PyObject *KB_exit(PyObject *o, PyObject *args)
{
  PyObject *r = KB_close(o, NULL);
  if (!r) return NULL;
  Py_DECREF(r);
  Py_RETURN_FALSE;
}

static PyObject *KB_get_closed(PyObject *o, void *unused)
{
  KBObject *self = (KBObject *)o;
  return PyBool_FromLong(!self->kb || self->closing);
}

static PyObject *KB_get_path(PyObject *o, void *unused)
{
  KBObject *self = (KBObject *)o;
  Py_INCREF(self->path);
  return self->path;
}

static PyObject *KB_get_info(PyObject *o, void *unused)
{
  KBObject *self = (KBObject *)o;
  tshoot_kb_info info;
  int rc;
  if (kb_enter(self) < 0) return NULL;
  rc = tshoot_kb_info_get(&info, self->kb);
  if (rc != TSHOOT_OK) {
    kb_leave(self);
    return raise_rc(rc);
  }
  Py_INCREF(self->path);
  {
    PyObject *v[] = {self->path, I(info.format), SN(info.digest), SN(info.tshoot_version),
                     I((long long)info.articles), I((long long)info.questions),
                     I((long long)info.facts), I((long long)info.causes),
                     I((long long)info.fixes), I((long long)info.tests),
                     I((long long)info.scripts), I((long long)info.sources)};
    PyObject *r = rec_make(&rec_info, v);
    kb_leave(self);
    return r;
  }
}

static PyObject *KB_search(PyObject *o, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = {"text", "limit", "prefix", "spelling", "any_word",
                           "snippet_words", "mark", NULL};
  KBObject *self = (KBObject *)o;
  PyObject *text, *mark = NULL, *list = NULL, *out = NULL;
  int limit = 10, prefix = 1, spelling = 1, any_word = 0, words = 24;
  const char *p, *mo = NULL, *mc = NULL;
  Py_ssize_t len;
  tshoot_search_options opts = TSHOOT_SEARCH_OPTIONS_INIT;
  tshoot_results *res = NULL;
  size_t n, i;
  int rc;

  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|i$pppiO:search", kwlist, &text, &limit,
                                   &prefix, &spelling, &any_word, &words, &mark))
    return NULL;
  if (text_arg(text, &p, &len, "text") < 0) return NULL;
  if (limit < 1 || limit > 1000)
    return raise_error(TSHOOT_EINVALID, "limit must be between 1 and 1000", NULL, 0, 0);
  if (words < 1)
    return raise_error(TSHOOT_EINVALID, "snippet_words must be >= 1", NULL, 0, 0);
  if (mark && mark != Py_None) {
    PyObject *a, *b;
    if (!PyTuple_Check(mark) || PyTuple_Size(mark) != 2) {
      PyErr_SetString(PyExc_TypeError, "mark must be a pair of str: (open, close)");
      return NULL;
    }
    a = PyTuple_GetItem(mark, 0);
    b = PyTuple_GetItem(mark, 1);
    if (id_arg(a, &mo, "mark[0]", 0) < 0 || id_arg(b, &mc, "mark[1]", 0) < 0) return NULL;
  }
  opts.limit = limit;
  opts.snippet_tokens = words;
  opts.mark_open = mo;
  opts.mark_close = mc;
  opts.flags = (prefix ? 0 : TSHOOT_SEARCH_NO_PREFIX) |
               (spelling ? 0 : TSHOOT_SEARCH_NO_SPELLING) |
               (any_word ? TSHOOT_SEARCH_ANY_WORD : 0);

  if (kb_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_search(&res, self->kb, p, (size_t)len, &opts);
  Py_END_ALLOW_THREADS
  kb_leave(self);
  if (rc != TSHOOT_OK) {
    tshoot_results_free(res);
    return raise_rc(rc);
  }
  n = tshoot_results_count(res);
  list = PyList_New((Py_ssize_t)n);
  if (!list) goto done;
  for (i = 0; i < n; i++) {
    PyObject *r = result_to_py(tshoot_results_get(res, i));
    if (!r) goto done;
    PyList_SetItem(list, (Py_ssize_t)i, r);
  }
  out = PyObject_CallFunction(g_results_type, "(ONNN)", list,
                              SN(tshoot_results_suggestion(res)),
                              SN(tshoot_results_query(res)),
                              B(tshoot_results_truncated(res)));
done:
  Py_XDECREF(list);
  tshoot_results_free(res);
  return out;
}

static PyObject *KB_article(PyObject *o, PyObject *arg)
{
  KBObject *self = (KBObject *)o;
  tshoot_article *a = NULL;
  const char *id;
  PyObject *r;
  int rc;

  if (id_arg(arg, &id, "id", 0) < 0) return NULL;
  if (kb_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_article_load(&a, self->kb, id);
  Py_END_ALLOW_THREADS
  kb_leave(self);
  if (rc != TSHOOT_OK) return raise_rc(rc);
  r = article_to_py(a);
  tshoot_article_free(a);
  return r;
}

static PyObject *KB_tests(PyObject *o, PyObject *unused)
{
  KBObject *self = (KBObject *)o;
  tshoot_tests *t = NULL;
  PyObject *list = NULL;
  size_t n;
  int rc;

  if (kb_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_kb_tests(&t, self->kb);
  Py_END_ALLOW_THREADS
  kb_leave(self);
  if (rc != TSHOOT_OK) return raise_rc(rc);
  n = tshoot_tests_count(t);
  list = PyList_New((Py_ssize_t)n);
  if (list)
    for (size_t i = 0; i < n; i++) {
      PyObject *c = testcase_to_py(tshoot_tests_get(t, i));
      if (!c) {
        Py_CLEAR(list);
        break;
      }
      PyList_SetItem(list, (Py_ssize_t)i, c);
    }
  tshoot_tests_free(t);
  return list;
}

static PyObject *KB_script(PyObject *o, PyObject *arg)
{
  KBObject *self = (KBObject *)o;
  const char *name;
  char *body = NULL;
  size_t len = 0;
  PyObject *r;
  int rc;
  if (id_arg(arg, &name, "name", 0) < 0) return NULL;
  if (kb_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_kb_script(&body, &len, self->kb, name);
  Py_END_ALLOW_THREADS
  kb_leave(self);
  if (rc != TSHOOT_OK) return raise_rc(rc);
  r = PyUnicode_DecodeUTF8(body, (Py_ssize_t)len, "replace");
  tshoot_free(body);
  return r;
}

static PyObject *Session_create(PyTypeObject *type, PyObject *kb, PyObject *args,
                                PyObject *kw);

static PyObject *KB_session(PyObject *o, PyObject *args, PyObject *kw)
{
  return Session_create(Session_Type, o, args, kw);
}

static PyMethodDef KB_methods[] = {
  {"search", KWFUNC(KB_search), METH_VARARGS | METH_KEYWORDS,
   "search($self, /, text, limit=10, *, prefix=True, spelling=True, any_word=False, "
   "snippet_words=24, mark=('[', ']'))\n--\n\n"
   "Search the KB for what a person typed; return Results (a list of Result,\n"
   "best first, with .suggestion, .query and .truncated).\n\n"
   "Any text is accepted (str, or bytes taken as UTF-8): it is never query\n"
   "syntax. prefix: match the last word as a prefix too (search-as-you-type)\n"
   "unless the text ends in a space; spelling: replace words the KB has never\n"
   "seen by the closest KB word (then .suggestion is the corrected text);\n"
   "any_word: rank articles that have any of the words, for long descriptions.\n"
   "The GIL is released while the search runs; a KB may be searched by many\n"
   "threads at once."},
  {"article", KB_article, METH_O,
   "article($self, id, /)\n--\n\n"
   "The article `id` with its symptoms, causes and fixes (an Article).\n"
   "Raises NotFound (with a did-you-mean) for an unknown id."},
  {"script", KB_script, METH_O,
   "script($self, name, /)\n--\n\n"
   "The Lua source of script `name` ('kerio/os-version.lua') stored in the KB.\n"
   "Raises NotFound (with a did-you-mean)."},
  {"tests", KB_tests, METH_NOARGS,
   "tests($self, /)\n--\n\nThe KB's test cases, in the order they were compiled "
   "(a list of TestCase)."},
  {"session", KWFUNC(KB_session), METH_VARARGS | METH_KEYWORDS,
   "session($self, /, text=None, host=None, *, conclude_at=0.9, noise=0.01, "
   "fixes=True, written_order=False, limits=None)\n--\n\n"
   "Start a diagnosis session on this KB (a Session); `text`, when given, is\n"
   "the problem in the user's words (Session.describe). Same as\n"
   "Session(kb, text, ...)."},
  {"close", KB_close, METH_NOARGS,
   "close($self, /)\n--\n\n"
   "Close the KB. Sessions made from it keep working; new searches, articles\n"
   "and sessions raise InvalidArgument. A call running in another thread\n"
   "finishes first. Closing twice does nothing."},
  {"__enter__", KB_enter, METH_NOARGS, NULL},
  {"__exit__", KB_exit, METH_VARARGS, NULL},
  {NULL, NULL, 0, NULL}
};

static PyGetSetDef KB_getset[] = {
  {"path", KB_get_path, NULL, "The KB file this object opened.", NULL},
  {"closed", KB_get_closed, NULL, "True once close() was called.", NULL},
  {"info", KB_get_info, NULL, "Facts about the KB: a KBInfo.", NULL},
  {NULL, NULL, NULL, NULL, NULL}
};

static PyMemberDef KB_members[] = {
  {"__weaklistoffset__", T_PYSSIZET, offsetof(KBObject, weakrefs), READONLY, NULL},
  {NULL, 0, 0, 0, NULL}
};

static PyType_Slot KB_slots[] = {
  {Py_tp_doc, (void *)
   "KB(path=None, *, query_budget_ms=0, cache_kib=0)\n--\n\n"
   "A compiled knowledge base, opened read-only.\n\n"
   "path: the KB file (str or os.PathLike); None opens tshoot.default_kb():\n"
   "$TSHOOT_KB, else the KB of the build this module comes from, else the\n"
   "installed one. query_budget_ms: time budget of one search (0: 250 ms);\n"
   "cache_kib: SQLite page cache per connection (0: 8192 KiB).\n\n"
   "A KB is immutable and may be shared by any number of threads and\n"
   "sessions. Use it as a context manager, or call close(); sessions keep\n"
   "the KB they were made from alive.\n\n"
   "Raises NotFound, Corrupt (not a tshoot KB, damaged) or VersionMismatch\n"
   "(another format version: recompile it)."},
  {Py_tp_new, (void *)KB_new},
  {Py_tp_dealloc, (void *)KB_dealloc},
  {Py_tp_repr, (void *)KB_repr},
  {Py_tp_methods, KB_methods},
  {Py_tp_getset, KB_getset},
  {Py_tp_members, KB_members},
  {0, NULL},
};

static PyType_Spec KB_spec = {
  "tshoot.KB", sizeof(KBObject), 0, Py_TPFLAGS_DEFAULT, KB_slots,
};

/* ======================================================================
** Hosts
**
** A Host wraps a tshoot_host: the simulated host (SimHost), or the callbacks
** of a Python object whose methods have the names of tshoot_host_ops'
** members (registry_get, file_stat, ui_confirm, ...). A method the object
** lacks is a NULL callback: a script that needs it gets "this host cannot
** ...". Callbacks run on the thread of the session call that runs the script,
** without the GIL: each takes it (PyGILState_Ensure) for the Python call.
** A host is used by one thread at a time: like a session, it has a lock,
** which session calls take after the session's.
*/
typedef struct HostObject {
  PyObject_HEAD
  tshoot_host *host;
  PyObject *target;      /* the Python object with the methods; NULL for SimHost */
  PyObject *quarantine;  /* bytes: ops.quarantine_dir points into it; or NULL */
  PyObject *last_error;  /* the last exception a method raised, or NULL */
  PyThread_type_lock lock;
  unsigned long owner;   /* thread holding the lock, 0 when none (GIL protects it) */
  PyObject *weakrefs;
} HostObject;

static PyTypeObject *Host_Type;
static PyTypeObject *SimHost_Type;
static PyObject *g_json_dumps;    /* json.dumps */

static int host_enter(HostObject *h)
{
  unsigned long me = PyThread_get_thread_ident();
  if (h->owner == me) {
    PyErr_SetString(PyExc_RuntimeError,
                    "this host is already in use on this thread (a host method cannot use "
                    "its own host or its session)");
    return -1;
  }
  if (!PyThread_acquire_lock(h->lock, NOWAIT_LOCK)) {
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(h->lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
  }
  h->owner = me;
  return 0;
}

static void host_leave(HostObject *h)
{
  h->owner = 0;
  PyThread_release_lock(h->lock);
}

/* A method raised (the exception is pending): keep it, explain it to the
** library. Returns the status for the callback. GIL held. */
static int host_failed(HostObject *h, tshoot_reply *out, const char *method)
{
  PyObject *exc = exc_save(), *str = NULL, *code;
  const char *msg = NULL;
  int rc = TSHOOT_EUSER;

  if (exc) {
    /* a tshoot.Error keeps its status (a host may say NotFound, ...) */
    code = PyObject_GetAttrString(exc, "code");
    if (code && PyLong_Check(code)) {
      long c = PyLong_AsLong(code);
      if (c < 0 && c >= -30) rc = (int)c;
    }
    Py_XDECREF(code);
    PyErr_Clear();
    str = PyUnicode_FromFormat("%s() raised %S: %S", method, (PyObject *)Py_TYPE(exc), exc);
    if (str) msg = PyUnicode_AsUTF8AndSize(str, NULL);
    PyErr_Clear();
  }
  if (out)
    tshoot_reply_error(out, msg ? msg : "a host method raised");
  else
    tshoot_host_error(rc, msg ? msg : "a host method raised");   /* no reply: the thread's error */
  Py_XDECREF(str);
  Py_XDECREF(h->last_error);
  h->last_error = exc;
  return rc;
}

/* Put a method's result into the reply: None (nothing), bool, int, float, str,
** or a dict/list/tuple as JSON. GIL held; steals r. */
static int host_reply(HostObject *h, PyObject *r, tshoot_reply *out, const char *method)
{
  int rc = TSHOOT_OK;
  if (r == Py_None) {
    /* nothing: "not there" */
  } else if (PyBool_Check(r)) {
    rc = tshoot_reply_bool(out, r == Py_True);
  } else if (PyLong_Check(r)) {
    long long v = PyLong_AsLongLong(r);
    if (v == -1 && PyErr_Occurred()) {
      Py_DECREF(r);
      return host_failed(h, out, method);
    }
    rc = tshoot_reply_int(out, v);
  } else if (PyFloat_Check(r)) {
    rc = tshoot_reply_number(out, PyFloat_AsDouble(r));
  } else if (PyUnicode_Check(r)) {
    Py_ssize_t len;
    const char *p = PyUnicode_AsUTF8AndSize(r, &len);
    if (!p) {
      Py_DECREF(r);
      return host_failed(h, out, method);
    }
    rc = tshoot_reply_string(out, p, (size_t)len);
  } else if (PyDict_Check(r) || PyList_Check(r) || PyTuple_Check(r)) {
    PyObject *js = PyObject_CallFunctionObjArgs(g_json_dumps, r, NULL);
    Py_ssize_t len;
    const char *p = js ? PyUnicode_AsUTF8AndSize(js, &len) : NULL;
    if (!p) {
      Py_XDECREF(js);
      Py_DECREF(r);
      return host_failed(h, out, method);
    }
    rc = tshoot_reply_json(out, p, (size_t)len);
    Py_DECREF(js);
  } else {
    PyErr_Format(PyExc_TypeError,
                 "a host method returns None, a bool, an int, a float, a str, or a dict or "
                 "list (as JSON), not %R", (PyObject *)Py_TYPE(r));
    Py_DECREF(r);
    return host_failed(h, out, method);
  }
  Py_DECREF(r);
  if (rc != TSHOOT_OK) tshoot_reply_error(out, tshoot_error_last()->message);
  return rc;
}

/* Call method `method` of the host's object with `args` (stolen; NULL: building
** them failed). GIL held. */
static int host_invoke(HostObject *h, const char *method, tshoot_reply *out, PyObject *args)
{
  PyObject *fn = NULL, *r = NULL;
  if (!args) return host_failed(h, out, method);
  if (!h->target) {
    Py_DECREF(args);
    PyErr_SetString(PyExc_RuntimeError, "the host object is gone");
    return host_failed(h, out, method);
  }
  fn = PyObject_GetAttrString(h->target, method);
  if (fn) r = PyObject_CallObject(fn, args);
  Py_XDECREF(fn);
  Py_DECREF(args);
  if (!r) return host_failed(h, out, method);
  if (!out) {
    Py_DECREF(r);
    return TSHOOT_OK;
  }
  return host_reply(h, r, out, method);
}

#define HOST_CB_BEGIN PyGILState_STATE g_ = PyGILState_Ensure(); int rc_;
#define HOST_CB_END   PyGILState_Release(g_); return rc_;

static int cb_registry_get(void *p, const char *key, const char *name, tshoot_reply *out)
{
  HOST_CB_BEGIN
  rc_ = host_invoke(p, "registry_get", out, Py_BuildValue("(sz)", key, name));
  HOST_CB_END
}

static int cb_registry_set(void *p, const char *key, const char *name,
                           const tshoot_reg_value *v)
{
  HOST_CB_BEGIN
  PyObject *val = !v ? (Py_INCREF(Py_None), Py_None)
                     : v->is_int ? PyLong_FromLongLong(v->i) : PyUnicode_FromString(v->s);
  rc_ = host_invoke(p, "registry_set", NULL,
                    val ? Py_BuildValue("(szN)", key, name, val) : NULL);
  HOST_CB_END
}

static int cb_registry_delete(void *p, const char *key, const char *name)
{
  HOST_CB_BEGIN
  rc_ = host_invoke(p, "registry_delete", NULL, Py_BuildValue("(sz)", key, name));
  HOST_CB_END
}

static int cb_registry_list(void *p, const char *key, tshoot_reply *out)
{
  HOST_CB_BEGIN
  rc_ = host_invoke(p, "registry_list", out, Py_BuildValue("(s)", key));
  HOST_CB_END
}

static int cb_file_stat(void *p, const char *path, tshoot_reply *out)
{
  HOST_CB_BEGIN
  rc_ = host_invoke(p, "file_stat", out, Py_BuildValue("(s)", path));
  HOST_CB_END
}

static int cb_file_list(void *p, const char *path, tshoot_reply *out)
{
  HOST_CB_BEGIN
  rc_ = host_invoke(p, "file_list", out, Py_BuildValue("(s)", path));
  HOST_CB_END
}

static int cb_file_move(void *p, const char *from, const char *to)
{
  HOST_CB_BEGIN
  rc_ = host_invoke(p, "file_move", NULL, Py_BuildValue("(ss)", from, to));
  HOST_CB_END
}

static int cb_process_list(void *p, tshoot_reply *out)
{
  HOST_CB_BEGIN
  rc_ = host_invoke(p, "process_list", out, PyTuple_New(0));
  HOST_CB_END
}

static int cb_service_get(void *p, const char *name, tshoot_reply *out)
{
  HOST_CB_BEGIN
  rc_ = host_invoke(p, "service_get", out, Py_BuildValue("(s)", name));
  HOST_CB_END
}

static int cb_service_control(void *p, const char *name, const char *action)
{
  HOST_CB_BEGIN
  rc_ = host_invoke(p, "service_control", NULL, Py_BuildValue("(ss)", name, action));
  HOST_CB_END
}

static int cb_system_info(void *p, tshoot_reply *out)
{
  HOST_CB_BEGIN
  rc_ = host_invoke(p, "system_info", out, PyTuple_New(0));
  HOST_CB_END
}

static int cb_ui_confirm(void *p, const char *text, tshoot_reply *out)
{
  HostObject *h = p;
  PyObject *args, *fn, *r;
  HOST_CB_BEGIN
  /* any object: its truth is the answer */
  args = Py_BuildValue("(s)", text);
  fn = args && h->target ? PyObject_GetAttrString(h->target, "ui_confirm") : NULL;
  r = fn ? PyObject_CallObject(fn, args) : NULL;
  Py_XDECREF(fn);
  Py_XDECREF(args);
  if (!r) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "the host object is gone");
    rc_ = host_failed(h, out, "ui_confirm");
  } else {
    int yes = PyObject_IsTrue(r);
    Py_DECREF(r);
    rc_ = yes < 0 ? host_failed(h, out, "ui_confirm") : tshoot_reply_bool(out, yes);
  }
  HOST_CB_END
}

static int cb_ui_progress(void *p, double fraction, const char *text)
{
  HOST_CB_BEGIN
  rc_ = host_invoke(p, "ui_progress", NULL, Py_BuildValue("(dz)", fraction, text));
  HOST_CB_END
}

static int cb_ui_notify(void *p, const char *text)
{
  HOST_CB_BEGIN
  rc_ = host_invoke(p, "ui_notify", NULL, Py_BuildValue("(s)", text));
  HOST_CB_END
}

static HostObject *host_alloc(PyTypeObject *type)
{
  HostObject *h = (HostObject *)((allocfunc)PyType_GetSlot(type, Py_tp_alloc))(type, 0);
  if (!h) return NULL;
  h->lock = PyThread_allocate_lock();
  if (!h->lock) {
    Py_DECREF(h);
    PyErr_NoMemory();
    return NULL;
  }
  return h;
}

static int has_method(PyObject *o, const char *name)
{
  PyObject *m = PyObject_GetAttrString(o, name);
  int ok = m && PyCallable_Check(m);
  Py_XDECREF(m);
  PyErr_Clear();
  return ok;
}

/* Host(obj): the callbacks of a Python object. */
static PyObject *Host_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = {"target", NULL};
  PyObject *target, *qd;
  HostObject *h;
  tshoot_host_ops ops;
  int rc;

  if (!PyArg_ParseTupleAndKeywords(args, kw, "O:Host", kwlist, &target)) return NULL;
  if (PyObject_TypeCheck(target, Host_Type)) {
    PyErr_SetString(PyExc_TypeError, "Host(): the argument is already a tshoot.Host");
    return NULL;
  }
  h = host_alloc(type);
  if (!h) return NULL;
  Py_INCREF(target);
  h->target = target;
  memset(&ops, 0, sizeof ops);
  ops.version = TSHOOT_HOST_OPS_VERSION;
  ops.payload = h;
#define OP(name) if (has_method(target, #name)) ops.name = cb_##name
  OP(registry_get); OP(registry_set); OP(registry_delete); OP(registry_list);
  OP(file_stat); OP(file_list); OP(file_move); OP(process_list);
  OP(service_get); OP(service_control); OP(system_info);
  OP(ui_confirm); OP(ui_progress); OP(ui_notify);
#undef OP
  qd = PyObject_GetAttrString(target, "quarantine_dir");
  if (!qd) {
    PyErr_Clear();
  } else if (qd != Py_None) {
    if (!PyUnicode_FSConverter(qd, &h->quarantine)) {
      Py_DECREF(qd);
      Py_DECREF(h);
      return NULL;
    }
    ops.quarantine_dir = PyBytes_AsString(h->quarantine);
  }
  Py_XDECREF(qd);
  rc = tshoot_host_new(&h->host, &ops);
  if (rc != TSHOOT_OK) {
    Py_DECREF(h);
    return raise_rc(rc);
  }
  return (PyObject *)h;
}

/* SimHost(path=None, *, json=None, name=None): the simulated host. */
static PyObject *SimHost_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = {"path", "json", "name", NULL};
  PyObject *path = Py_None, *json = Py_None, *name = Py_None, *fs = NULL;
  HostObject *h = NULL;
  tshoot_host *host = NULL;
  const char *p = NULL, *nm = NULL;
  Py_ssize_t len = 0;
  int rc;

  if (!PyArg_ParseTupleAndKeywords(args, kw, "|O$OO:SimHost", kwlist, &path, &json, &name))
    return NULL;
  if ((path == Py_None) == (json == Py_None)) {
    PyErr_SetString(PyExc_TypeError, "SimHost() takes a path or json=, not both");
    return NULL;
  }
  if (json != Py_None) {
    if (text_arg(json, &p, &len, "json") < 0 || id_arg(name, &nm, "name", 1) < 0)
      return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = tshoot_host_sim_load(&host, p, (size_t)len, nm ? nm : "<json>");
    Py_END_ALLOW_THREADS
  } else {
    if (!PyUnicode_FSConverter(path, &fs)) return NULL;
    p = PyBytes_AsString(fs);
    Py_BEGIN_ALLOW_THREADS
    rc = tshoot_host_sim_open(&host, p);
    Py_END_ALLOW_THREADS
    Py_DECREF(fs);
  }
  if (rc != TSHOOT_OK) return raise_rc(rc);
  h = host_alloc(type);
  if (!h) {
    tshoot_host_free(host);
    return NULL;
  }
  h->host = host;
  return (PyObject *)h;
}

static int Host_traverse(PyObject *o, visitproc visit, void *arg)
{
  HostObject *h = (HostObject *)o;
  Py_VISIT(Py_TYPE(o));
  Py_VISIT(h->target);
  Py_VISIT(h->last_error);
  return 0;
}

static int Host_clear(PyObject *o)
{
  HostObject *h = (HostObject *)o;
  Py_CLEAR(h->target);      /* callbacks then answer "the host object is gone" */
  Py_CLEAR(h->last_error);
  return 0;
}

static void Host_dealloc(PyObject *o)
{
  HostObject *h = (HostObject *)o;
  PyTypeObject *t = Py_TYPE(o);
  PyObject_GC_UnTrack(o);
  if (h->weakrefs) PyObject_ClearWeakRefs(o);
  tshoot_host_free(h->host);
  h->host = NULL;
  Host_clear(o);
  Py_CLEAR(h->quarantine);
  if (h->lock) PyThread_free_lock(h->lock);
  ((freefunc)PyType_GetSlot(t, Py_tp_free))(o);
  Py_DECREF(t);
}

static PyObject *Host_repr(PyObject *o)
{
  HostObject *h = (HostObject *)o;
  if (h->target) return PyUnicode_FromFormat("<tshoot.Host of %R>", h->target);
  return PyUnicode_FromString("<tshoot.SimHost>");
}

static PyObject *change_to_py(const tshoot_change *c)
{
  PyObject *v[] = {SN(c->op), SN(c->target), SN(c->before), SN(c->after), SN(c->script),
                   SN(c->fix), B(c->undone)};
  return rec_make(&rec_change, v);
}

static PyObject *changes_to_tuple(const tshoot_change *c, size_t n)
{
  PyObject *t = PyTuple_New((Py_ssize_t)n);
  if (!t) return NULL;
  for (size_t i = 0; i < n; i++) {
    PyObject *o = change_to_py(&c[i]);
    if (!o) {
      Py_DECREF(t);
      return NULL;
    }
    PyTuple_SetItem(t, (Py_ssize_t)i, o);
  }
  return t;
}

static PyObject *Host_journal(PyObject *o, PyObject *unused)
{
  HostObject *h = (HostObject *)o;
  const tshoot_change *c = NULL;
  size_t n = 0;
  PyObject *r = NULL;
  int rc;
  if (host_enter(h) < 0) return NULL;
  rc = tshoot_host_journal(&c, &n, h->host);
  if (rc != TSHOOT_OK) {
    raise_rc(rc);
  } else {
    PyObject *t = changes_to_tuple(c, n);
    if (t) {
      r = PySequence_List(t);
      Py_DECREF(t);
    }
  }
  host_leave(h);
  return r;
}

static PyObject *Host_journal_json(PyObject *o, PyObject *unused)
{
  HostObject *h = (HostObject *)o;
  char *json = NULL;
  PyObject *r;
  int rc;
  if (host_enter(h) < 0) return NULL;
  rc = tshoot_host_journal_json(&json, h->host);
  host_leave(h);
  if (rc != TSHOOT_OK) return raise_rc(rc);
  r = PyUnicode_FromString(json ? json : "");
  tshoot_free(json);
  return r;
}

static PyObject *SimHost_save(PyObject *o, PyObject *unused)
{
  HostObject *h = (HostObject *)o;
  char *json = NULL;
  PyObject *r;
  int rc;
  if (host_enter(h) < 0) return NULL;
  rc = tshoot_host_sim_save(&json, h->host);
  host_leave(h);
  if (rc != TSHOOT_OK) return raise_rc(rc);
  r = PyUnicode_FromString(json);
  tshoot_free(json);
  return r;
}

static PyObject *SimHost_set_confirm(PyObject *o, PyObject *arg)
{
  HostObject *h = (HostObject *)o;
  int yes = PyObject_IsTrue(arg), rc;
  if (yes < 0) return NULL;
  if (host_enter(h) < 0) return NULL;
  rc = tshoot_host_sim_confirm(h->host, yes);
  host_leave(h);
  if (rc != TSHOOT_OK) return raise_rc(rc);
  Py_RETURN_NONE;
}

static PyObject *Host_get_target(PyObject *o, void *unused)
{
  HostObject *h = (HostObject *)o;
  PyObject *t = h->target ? h->target : Py_None;
  Py_INCREF(t);
  return t;
}

static PyObject *Host_get_last_error(PyObject *o, void *unused)
{
  HostObject *h = (HostObject *)o;
  PyObject *e = h->last_error ? h->last_error : Py_None;
  Py_INCREF(e);
  return e;
}

static PyMethodDef Host_methods[] = {
  {"journal", Host_journal, METH_NOARGS,
   "journal($self, /)\n--\n\n"
   "Every change made through this host, in order, undone ones included (an\n"
   "audit log): a list of Change."},
  {"journal_json", Host_journal_json, METH_NOARGS,
   "journal_json($self, /)\n--\n\nThe journal as JSON lines, one change a line."},
  {NULL, NULL, 0, NULL}
};

static PyGetSetDef Host_getset[] = {
  {"target", Host_get_target, NULL, "The object whose methods answer (None for a SimHost).",
   NULL},
  {"last_error", Host_get_last_error, NULL,
   "The last exception one of the object's methods raised, or None. (The script\n"
   "that called it saw a Lua error with its text.)", NULL},
  {NULL, NULL, NULL, NULL, NULL}
};

static PyMemberDef Host_members[] = {
  {"__weaklistoffset__", T_PYSSIZET, offsetof(HostObject, weakrefs), READONLY, NULL},
  {NULL, 0, 0, 0, NULL}
};

static PyType_Slot Host_slots[] = {
  {Py_tp_doc, (void *)
   "Host(target)\n--\n\n"
   "A machine that probes and fixes reach through `target`, any object with\n"
   "some of these methods (the members of tshoot_host_ops; docs/python.md,\n"
   "'Hosts'):\n\n"
   "    registry_get(key, name) -> str | int | None\n"
   "    registry_set(key, name, value)      name and value None: create the key\n"
   "    registry_delete(key, name)          name None: the key and all under it\n"
   "    registry_list(key) -> {'values': {...}, 'subkeys': [...]} | None\n"
   "    file_stat(path) -> {'size':, 'version':, 'sha256':, 'signature':, 'mtime':} | None\n"
   "    file_list(path) -> [name, ...] | None\n"
   "    file_move(src, dst)\n"
   "    process_list() -> [{'pid':, 'name':, 'path':, 'modules': [...]}, ...]\n"
   "    service_get(name) -> {'status':, 'start':, 'path':} | None\n"
   "    service_control(name, action)       action: 'start' or 'stop'\n"
   "    system_info() -> {'os': {...}, 'arch':, 'admin':, 'hostname':, 'user':}\n"
   "    ui_confirm(text) -> bool\n"
   "    ui_progress(fraction, text)\n"
   "    ui_notify(text)\n\n"
   "and an optional attribute quarantine_dir (where removed files go). A\n"
   "missing method is an error for the script that needs it; an exception in\n"
   "a method is a script error with its text (the exception is kept in\n"
   "last_error). Every change is journaled with the state before it, so a\n"
   "failed fix is rolled back exactly (journal()). The methods are called on\n"
   "the thread of the session call, holding the GIL; a host is used by one\n"
   "thread at a time."},
  {Py_tp_new, (void *)Host_new},
  {Py_tp_dealloc, (void *)Host_dealloc},
  {Py_tp_traverse, (void *)Host_traverse},
  {Py_tp_clear, (void *)Host_clear},
  {Py_tp_repr, (void *)Host_repr},
  {Py_tp_methods, Host_methods},
  {Py_tp_getset, Host_getset},
  {Py_tp_members, Host_members},
  {0, NULL},
};

static PyType_Spec Host_spec = {
  "tshoot.Host", sizeof(HostObject), 0,
  Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE, Host_slots,
};

static PyMethodDef SimHost_methods[] = {
  {"save", SimHost_save, METH_NOARGS,
   "save($self, /)\n--\n\n"
   "The simulated machine, with the changes made to it, as JSON (canonical:\n"
   "a change and its exact undo save to the same text)."},
  {"set_confirm", SimHost_set_confirm, METH_O,
   "set_confirm($self, yes, /)\n--\n\n"
   "Answer every confirmation (ui.confirm) with `yes` (the default is the\n"
   "machine file's ui.confirm, else yes)."},
  {NULL, NULL, 0, NULL}
};

static PyType_Slot SimHost_slots[] = {
  {Py_tp_doc, (void *)
   "SimHost(path=None, *, json=None, name=None)\n--\n\n"
   "The simulated host: a machine described by a JSON file (docs/scripts.md,\n"
   "'Machine descriptions'), or by its text (json=, named `name` in errors),\n"
   "held in memory; changes apply to the memory only. Raises NotFound, or\n"
   "InvalidArgument with file, line and column of what is wrong."},
  {Py_tp_new, (void *)SimHost_new},
  {Py_tp_dealloc, (void *)Host_dealloc},
  {Py_tp_traverse, (void *)Host_traverse},
  {Py_tp_clear, (void *)Host_clear},
  {Py_tp_repr, (void *)Host_repr},
  {Py_tp_methods, SimHost_methods},
  {0, NULL},
};

static PyType_Spec SimHost_spec = {
  "tshoot.SimHost", sizeof(HostObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
  SimHost_slots,
};

/* `o` as a Host: itself, or a new Host of it. New reference. */
static HostObject *as_host(PyObject *o)
{
  PyObject *args, *h;
  if (PyObject_TypeCheck(o, Host_Type)) {
    Py_INCREF(o);
    return (HostObject *)o;
  }
  args = PyTuple_Pack(1, o);
  if (!args) return NULL;
  h = Host_new(Host_Type, args, NULL);
  Py_DECREF(args);
  return (HostObject *)h;
}

/* Script limits from None, a Limits or a dict. */
static int limits_arg(PyObject *o, tshoot_limits *out)
{
  static const char *names[] = {"memory_kib", "instructions", "time_ms", "exact_count"};
  PyObject *v[4] = {NULL, NULL, NULL, NULL};
  int i, rc = -1;
  tshoot_limits init = TSHOOT_LIMITS_INIT;
  *out = init;
  if (o == Py_None) return 0;
  for (i = 0; i < 4; i++) {
    if (PyDict_Check(o)) {
      v[i] = PyDict_GetItemString(o, names[i]);   /* borrowed */
      Py_XINCREF(v[i]);
    } else if (PyObject_TypeCheck(o, rec_limits.type)) {
      v[i] = PyObject_GetAttrString(o, names[i]);
      if (!v[i]) goto done;
    } else {
      PyErr_SetString(PyExc_TypeError, "limits must be a tshoot.Limits, a dict or None");
      goto done;
    }
    if (v[i] == Py_None) Py_CLEAR(v[i]);
  }
  if (PyDict_Check(o)) {
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    while (PyDict_Next(o, &pos, &key, &val)) {
      int known = 0;
      for (i = 0; i < 4; i++)
        if (PyUnicode_CompareWithASCIIString(key, names[i]) == 0) known = 1;
      if (!known) {
        PyErr_Format(PyExc_TypeError, "limits: unknown key %R", key);
        goto done;
      }
    }
  }
  if (v[0]) {
    Py_ssize_t m = PyLong_AsSsize_t(v[0]);
    if (m < 0) goto bad;
    out->memory_kib = (size_t)m;
  }
  if (v[1]) {
    unsigned long long n = PyLong_AsUnsignedLongLong(v[1]);
    if (n == (unsigned long long)-1 && PyErr_Occurred()) goto bad;
    out->instructions = n;
  }
  if (v[2]) {
    long t = PyLong_AsLong(v[2]);
    if (t < 0 || t > 3600000) goto bad;
    out->time_ms = (int)t;
  }
  if (v[3]) {
    int e = PyObject_IsTrue(v[3]);
    if (e < 0) goto done;
    if (e) out->flags |= TSHOOT_LIMITS_EXACT_COUNT;
  }
  rc = 0;
  goto done;
bad:
  PyErr_Clear();
  raise_error(TSHOOT_EINVALID, "limits: memory_kib, instructions and time_ms must be "
              "integers >= 0 (time_ms at most an hour)", NULL, 0, 0);
done:
  for (i = 0; i < 4; i++) Py_XDECREF(v[i]);
  return rc;
}

static PyObject *run_to_py(const tshoot_run *r)
{
  PyObject *v[] = {I(r->status), SN(r->message ? r->message : ""), SN(r->answer),
                   B(r->verified), B(r->rolled_back), changes_to_tuple(r->changes, r->n_changes),
                   STRS(r->notes, r->n_notes), F(r->elapsed_ms),
                   I((long long)r->instructions), I((long long)r->memory_peak)};
  return rec_make(&rec_run, v);
}

/* A FixInfo (or any object with its attributes) as a tshoot_fix_info; the
** strings stay valid while `keep` (a list) lives. */
static int fix_arg(PyObject *o, tshoot_fix_info *f, const char ***steps, PyObject *keep)
{
  static const char *const strs[] = {"id", "title", "verify", "script", "risk"};
  const char **dst[] = {&f->id, &f->title, &f->verify, &f->script, &f->risk};
  PyObject *a;
  size_t i;

  memset(f, 0, sizeof *f);
  for (i = 0; i < 5; i++) {
    a = PyObject_GetAttrString(o, strs[i]);
    if (!a) return -1;
    if (PyList_Append(keep, a) < 0) {
      Py_DECREF(a);
      return -1;
    }
    Py_DECREF(a);
    if (id_arg(a, dst[i], strs[i], i >= 2) < 0) return -1;
  }
  a = PyObject_GetAttrString(o, "cost");
  f->cost = a && a != Py_None ? PyFloat_AsDouble(a) : 1;
  Py_XDECREF(a);
  if (PyErr_Occurred()) return -1;
  a = PyObject_GetAttrString(o, "needs_admin");
  f->needs_admin = a ? PyObject_IsTrue(a) : -1;
  Py_XDECREF(a);
  a = PyObject_GetAttrString(o, "reversible");
  f->reversible = a ? PyObject_IsTrue(a) : -1;
  Py_XDECREF(a);
  if (f->needs_admin < 0 || f->reversible < 0) return -1;
  a = PyObject_GetAttrString(o, "steps");
  if (!a) return -1;
  if (a != Py_None) {
    PyObject *t = PySequence_Tuple(a);
    Py_DECREF(a);
    if (!t || PyList_Append(keep, t) < 0) {
      Py_XDECREF(t);
      return -1;
    }
    Py_DECREF(t);
    f->n_steps = (size_t)PyTuple_Size(t);
    *steps = PyMem_Calloc(f->n_steps + 1, sizeof **steps);
    if (!*steps) {
      PyErr_NoMemory();
      return -1;
    }
    for (i = 0; i < f->n_steps; i++)
      if (id_arg(PyTuple_GetItem(t, (Py_ssize_t)i), &(*steps)[i], "steps[i]", 0) < 0) return -1;
    f->steps = *steps;
  } else {
    Py_DECREF(a);
  }
  return 0;
}

static PyObject *mod_run_script(PyObject *m, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = {"name", "body", "mode", "host", "fix", "limits", NULL};
  static const char *const modes[] = {"probe", "plan", "apply", "verify"};
  PyObject *body, *hosto = Py_None, *fixo = Py_None, *limo = Py_None, *keep = NULL;
  PyObject *result = NULL;
  HostObject *h = NULL;
  const char *name, *mode = "probe", *p, **steps = NULL;
  Py_ssize_t len;
  tshoot_script_mode md = TSHOOT_RUN_PROBE;
  tshoot_limits lim;
  tshoot_fix_info fix;
  tshoot_run *run = NULL;
  int i, rc, have_fix = 0, entered = 0;

  if (!PyArg_ParseTupleAndKeywords(args, kw, "sO|s$OOO:run_script", kwlist, &name, &body,
                                   &mode, &hosto, &fixo, &limo))
    return NULL;
  for (i = 0; i < 4 && strcmp(mode, modes[i]) != 0; i++) {}
  if (i == 4)
    return raise_error(TSHOOT_EINVALID, "mode must be 'probe', 'plan', 'apply' or 'verify'",
                       NULL, 0, 0);
  md = (tshoot_script_mode)(i + 1);
  if (text_arg(body, &p, &len, "body") < 0 || limits_arg(limo, &lim) < 0) return NULL;
  keep = PyList_New(0);
  if (!keep) return NULL;
  if (fixo != Py_None) {
    if (fix_arg(fixo, &fix, &steps, keep) < 0) goto done;
    have_fix = 1;
  }
  if (hosto != Py_None) {
    h = as_host(hosto);
    if (!h || host_enter(h) < 0) goto done;
    entered = 1;
  }
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_script_run(&run, h ? h->host : NULL, name, p, (size_t)len, md,
                         have_fix ? &fix : NULL, &lim);
  Py_END_ALLOW_THREADS
  if (rc != TSHOOT_OK)
    raise_rc(rc);
  else
    result = run_to_py(run);
  tshoot_run_free(run);
done:
  if (entered) host_leave(h);
  Py_XDECREF(h);
  Py_XDECREF(keep);
  PyMem_Free(steps);
  return result;
}

/* ======================================================================
** Session
*/
typedef struct SessionObject {
  PyObject_HEAD
  tshoot_session *s;   /* NULL once closed */
  PyObject *kb;        /* the KB object, kept alive */
  PyObject *host;      /* None, or the HostObject */
  PyThread_type_lock lock;
  unsigned long owner; /* thread holding the lock, 0 when none (GIL protects it) */
  HostObject *locked;  /* the host whose lock this session holds, or NULL */
  PyObject *weakrefs;
} SessionObject;

/* Take the session for this thread: wait for its lock without the GIL. */
static int sess_enter(SessionObject *self)
{
  unsigned long me = PyThread_get_thread_ident();
  if (self->owner == me) {
    PyErr_SetString(PyExc_RuntimeError,
                    "this session is already in use on this thread (a host callback "
                    "cannot use the session that called it)");
    return -1;
  }
  if (!PyThread_acquire_lock(self->lock, NOWAIT_LOCK)) {
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(self->lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
  }
  self->owner = me;
  if (!self->s) {
    self->owner = 0;
    PyThread_release_lock(self->lock);
    raise_error(TSHOOT_EINVALID, "the session is closed", NULL, 0, 0);
    return -1;
  }
  /* the session's scripts use its host: take the host too (always after the
  ** session, so that two locks are never taken in the other order) */
  if (self->host != Py_None) {
    HostObject *h = (HostObject *)self->host;
    if (host_enter(h) < 0) {
      self->owner = 0;
      PyThread_release_lock(self->lock);
      return -1;
    }
    Py_INCREF(h);
    self->locked = h;
  }
  return 0;
}

static void sess_leave(SessionObject *self)
{
  if (self->locked) {
    HostObject *h = self->locked;
    self->locked = NULL;
    host_leave(h);
    Py_DECREF(h);
  }
  self->owner = 0;
  PyThread_release_lock(self->lock);
}

static int session_opts(tshoot_session_options *opts, double conclude_at, double noise,
                        int fixes, int written_order)
{
  if (conclude_at < 0 || conclude_at >= 1 || noise < 0 || noise >= 1) {
    raise_error(TSHOOT_EINVALID, "conclude_at and noise must be in [0, 1)", NULL, 0, 0);
    return -1;
  }
  opts->conclude_at = conclude_at;
  opts->noise = noise;
  opts->flags = (fixes ? 0 : TSHOOT_SESSION_NO_FIXES) |
                (written_order ? TSHOOT_SESSION_WRITTEN_ORDER : 0);
  return 0;
}

static SessionObject *session_wrap(PyTypeObject *type, tshoot_session *s, PyObject *kb)
{
  SessionObject *self;
  self = (SessionObject *)((allocfunc)PyType_GetSlot(type, Py_tp_alloc))(type, 0);
  if (!self) {
    tshoot_session_free(s);
    return NULL;
  }
  self->lock = PyThread_allocate_lock();
  if (!self->lock) {
    tshoot_session_free(s);
    Py_DECREF(self);
    PyErr_NoMemory();
    return NULL;
  }
  self->s = s;
  Py_INCREF(kb);
  self->kb = kb;
  Py_INCREF(Py_None);
  self->host = Py_None;
  return self;
}

/* Give the session `hosto` (None, a Host, or an object to wrap in one) with
** script limits `limo`. The session lock is held, or the session is new. */
static int session_set_host(SessionObject *self, PyObject *hosto, PyObject *limo)
{
  tshoot_limits lim;
  HostObject *h = NULL;
  PyObject *old;
  int rc;
  if (limits_arg(limo, &lim) < 0) return -1;
  if (hosto != Py_None) {
    h = as_host(hosto);
    if (!h) return -1;
  }
  rc = tshoot_session_set_host(self->s, h ? h->host : NULL, &lim);
  if (rc != TSHOOT_OK) {
    Py_XDECREF(h);
    raise_rc(rc);
    return -1;
  }
  old = self->host;
  self->host = h ? (PyObject *)h : (Py_INCREF(Py_None), Py_None);
  Py_XDECREF(old);
  return 0;
}

static PyObject *Session_create(PyTypeObject *type, PyObject *kbo, PyObject *args,
                                PyObject *kw)
{
  static char *kwlist[] = {"text", "host", "conclude_at", "noise", "fixes",
                           "written_order", "limits", NULL};
  KBObject *k = (KBObject *)kbo;
  PyObject *text = Py_None, *host = Py_None, *limo = Py_None;
  SessionObject *self;
  double conclude_at = 0, noise = 0;
  int fixes = 1, written = 0, rc;
  const char *p = NULL;
  Py_ssize_t len = 0;
  tshoot_session_options opts = TSHOOT_SESSION_OPTIONS_INIT;
  tshoot_session *s = NULL;

  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO$ddppO:session", kwlist, &text, &host,
                                   &conclude_at, &noise, &fixes, &written, &limo))
    return NULL;
  if (session_opts(&opts, conclude_at, noise, fixes, written) < 0) return NULL;
  if (text != Py_None && text_arg(text, &p, &len, "text") < 0) return NULL;
  if (kb_enter(k) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_session_new(&s, k->kb, &opts);
  if (rc == TSHOOT_OK && p) {
    rc = tshoot_session_describe(s, p, (size_t)len);
    if (rc != TSHOOT_OK) {
      /* keep the error detail: it is thread-local and free does not touch it */
      tshoot_session_free(s);
      s = NULL;
    }
  }
  Py_END_ALLOW_THREADS
  kb_leave(k);
  if (rc != TSHOOT_OK) return raise_rc(rc);
  self = session_wrap(type, s, kbo);
  if (self && (host != Py_None || limo != Py_None) && session_set_host(self, host, limo) < 0)
    Py_CLEAR(self);
  return (PyObject *)self;
}

static PyObject *Session_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
  PyObject *kb, *rest, *r;
  if (PyTuple_Size(args) < 1) {
    PyErr_SetString(PyExc_TypeError, "Session() needs a KB as its first argument");
    return NULL;
  }
  kb = PyTuple_GetItem(args, 0);
  if (!PyObject_TypeCheck(kb, KB_Type)) {
    PyErr_SetString(PyExc_TypeError, "Session(): the first argument must be a tshoot.KB");
    return NULL;
  }
  rest = PyTuple_GetSlice(args, 1, PyTuple_Size(args));
  if (!rest) return NULL;
  r = Session_create(type, kb, rest, kw);
  Py_DECREF(rest);
  return r;
}

static PyObject *Session_load(PyObject *cls, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = {"kb", "data", "host", "conclude_at", "noise", "fixes",
                           "written_order", "limits", NULL};
  PyObject *kbo, *data, *host = Py_None, *limo = Py_None;
  SessionObject *self;
  double conclude_at = 0, noise = 0;
  int fixes = 1, written = 0, rc, custom;
  const char *p;
  Py_ssize_t len;
  tshoot_session_options opts = TSHOOT_SESSION_OPTIONS_INIT;
  tshoot_session *s = NULL;
  KBObject *k;

  if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O|$OddppO:load", kwlist, KB_Type, &kbo,
                                   &data, &host, &conclude_at, &noise, &fixes, &written, &limo))
    return NULL;
  k = (KBObject *)kbo;
  custom = conclude_at != 0 || noise != 0 || !fixes || written;
  if (session_opts(&opts, conclude_at, noise, fixes, written) < 0) return NULL;
  if (text_arg(data, &p, &len, "data") < 0) return NULL;
  if (kb_enter(k) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_session_load(&s, k->kb, p, (size_t)len, custom ? &opts : NULL);
  Py_END_ALLOW_THREADS
  kb_leave(k);
  if (rc != TSHOOT_OK) return raise_rc(rc);
  self = session_wrap((PyTypeObject *)cls, s, kbo);
  if (self && (host != Py_None || limo != Py_None) && session_set_host(self, host, limo) < 0)
    Py_CLEAR(self);
  return (PyObject *)self;
}

static int Session_traverse(PyObject *o, visitproc visit, void *arg)
{
  SessionObject *self = (SessionObject *)o;
  Py_VISIT(Py_TYPE(o));
  Py_VISIT(self->kb);
  Py_VISIT(self->host);
  return 0;
}

static int Session_clear(PyObject *o)
{
  SessionObject *self = (SessionObject *)o;
  /* the C session borrows the host: detach it before the host may go */
  if (self->s && self->host && self->host != Py_None)
    tshoot_session_set_host(self->s, NULL, NULL);
  Py_CLEAR(self->host);
  Py_CLEAR(self->kb);
  return 0;
}

static void Session_dealloc(PyObject *o)
{
  SessionObject *self = (SessionObject *)o;
  PyTypeObject *t = Py_TYPE(o);
  PyObject_GC_UnTrack(o);
  if (self->weakrefs) PyObject_ClearWeakRefs(o);
  tshoot_session_free(self->s);
  self->s = NULL;
  if (self->lock) PyThread_free_lock(self->lock);
  Session_clear(o);
  ((freefunc)PyType_GetSlot(t, Py_tp_free))(o);
  Py_DECREF(t);
}

static PyObject *Session_repr(PyObject *o)
{
  SessionObject *self = (SessionObject *)o;
  PyObject *path = self->kb ? ((KBObject *)self->kb)->path : Py_None;
  return PyUnicode_FromFormat("<tshoot.Session on %R%s>", path,
                              self->s ? "" : " (closed)");
}

static PyObject *Session_close(PyObject *o, PyObject *unused)
{
  SessionObject *self = (SessionObject *)o;
  tshoot_session *s;
  if (!self->s) Py_RETURN_NONE;
  if (sess_enter(self) < 0) return NULL;
  s = self->s;
  self->s = NULL;
  tshoot_session_free(s);
  sess_leave(self);
  Py_RETURN_NONE;
}

static PyObject *Session_exit(PyObject *o, PyObject *args)
{
  PyObject *r = Session_close(o, NULL);
  if (!r) return NULL;
  Py_DECREF(r);
  Py_RETURN_FALSE;
}

/* Run `call` on the session without the GIL; return None or raise. */
#define SESSION_CALL(self, call)                      \
  do {                                                \
    int rc_;                                          \
    if (sess_enter(self) < 0) return NULL;            \
    Py_BEGIN_ALLOW_THREADS                            \
    rc_ = (call);                                     \
    Py_END_ALLOW_THREADS                              \
    sess_leave(self);                                 \
    if (rc_ != TSHOOT_OK) return raise_rc(rc_);       \
    Py_RETURN_NONE;                                   \
  } while (0)

static PyObject *Session_describe(PyObject *o, PyObject *arg)
{
  SessionObject *self = (SessionObject *)o;
  const char *p;
  Py_ssize_t len;
  if (text_arg(arg, &p, &len, "text") < 0) return NULL;
  SESSION_CALL(self, tshoot_session_describe(self->s, p, (size_t)len));
}

static PyObject *Session_symptom(PyObject *o, PyObject *arg)
{
  SessionObject *self = (SessionObject *)o;
  const char *id;
  if (id_arg(arg, &id, "symptom", 0) < 0) return NULL;
  SESSION_CALL(self, tshoot_session_symptom(self->s, id));
}

static PyObject *Session_next(PyObject *o, PyObject *unused)
{
  SessionObject *self = (SessionObject *)o;
  const tshoot_step *st = NULL;
  PyObject *r;
  int rc;
  if (sess_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_session_next(&st, self->s);
  Py_END_ALLOW_THREADS
  if (rc != TSHOOT_OK)
    r = raise_rc(rc);
  else
    r = step_to_py(st);   /* st is borrowed from the session: convert under the lock */
  sess_leave(self);
  return r;
}

/* An answer value: str as is, bool as yes/no, int and float as their text. */
static PyObject *answer_value(PyObject *v)
{
  if (PyUnicode_Check(v)) {
    Py_INCREF(v);
    return v;
  }
  if (PyBool_Check(v)) return PyUnicode_FromString(v == Py_True ? "yes" : "no");
  if (PyLong_Check(v) || PyFloat_Check(v)) return PyObject_Str(v);
  PyErr_SetString(PyExc_TypeError,
                  "an answer must be a str (one of the question's choices, a version, a "
                  "number or text), a bool (yes/no) or a number");
  return NULL;
}

static PyObject *Session_answer(PyObject *o, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = {"question", "value", NULL};
  SessionObject *self = (SessionObject *)o;
  PyObject *q, *v, *vs;
  const char *qs, *val;
  int rc;

  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:answer", kwlist, &q, &v)) return NULL;
  if (id_arg(q, &qs, "question", 0) < 0) return NULL;
  vs = answer_value(v);
  if (!vs) return NULL;
  if (id_arg(vs, &val, "value", 0) < 0) {
    Py_DECREF(vs);
    return NULL;
  }
  if (sess_enter(self) < 0) {
    Py_DECREF(vs);
    return NULL;
  }
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_session_answer(self->s, qs, val);
  Py_END_ALLOW_THREADS
  sess_leave(self);
  Py_DECREF(vs);
  if (rc != TSHOOT_OK) return raise_rc(rc);
  Py_RETURN_NONE;
}

static PyObject *Session_unknown(PyObject *o, PyObject *arg)
{
  SessionObject *self = (SessionObject *)o;
  const char *q;
  if (id_arg(arg, &q, "question", 0) < 0) return NULL;
  SESSION_CALL(self, tshoot_session_unknown(self->s, q));
}

static PyObject *Session_retract(PyObject *o, PyObject *arg)
{
  SessionObject *self = (SessionObject *)o;
  const char *q;
  if (id_arg(arg, &q, "question", 0) < 0) return NULL;
  SESSION_CALL(self, tshoot_session_retract(self->s, q));
}

static PyObject *Session_undo(PyObject *o, PyObject *unused)
{
  SessionObject *self = (SessionObject *)o;
  SESSION_CALL(self, tshoot_session_undo(self->s));
}

static PyObject *Session_fix_result(PyObject *o, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = {"fix", "worked", NULL};
  SessionObject *self = (SessionObject *)o;
  PyObject *f;
  const char *fix;
  int worked;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "Op:fix_result", kwlist, &f, &worked))
    return NULL;
  if (id_arg(f, &fix, "fix", 0) < 0) return NULL;
  SESSION_CALL(self, tshoot_session_fix_result(self->s, fix, worked));
}

static PyObject *Session_causes(PyObject *o, PyObject *unused)
{
  SessionObject *self = (SessionObject *)o;
  const tshoot_cause_rank *c = NULL;
  size_t n = 0;
  PyObject *list = NULL;
  int rc;
  if (sess_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_session_causes(&c, &n, self->s);
  Py_END_ALLOW_THREADS
  if (rc != TSHOOT_OK) {
    raise_rc(rc);
  } else if ((list = PyList_New((Py_ssize_t)n)) != NULL) {
    for (size_t i = 0; i < n; i++) {
      PyObject *r = causerank_to_py(&c[i]);
      if (!r) {
        Py_CLEAR(list);
        break;
      }
      PyList_SetItem(list, (Py_ssize_t)i, r);
    }
  }
  sess_leave(self);
  return list;
}

static PyObject *Session_answers(PyObject *o, PyObject *unused)
{
  SessionObject *self = (SessionObject *)o;
  const tshoot_answer_info *a = NULL;
  size_t n = 0;
  PyObject *list = NULL;
  int rc;
  if (sess_enter(self) < 0) return NULL;
  rc = tshoot_session_answers(&a, &n, self->s);
  if (rc != TSHOOT_OK) {
    raise_rc(rc);
  } else if ((list = PyList_New((Py_ssize_t)n)) != NULL) {
    for (size_t i = 0; i < n; i++) {
      PyObject *v[] = {S(a[i].question), SN(a[i].value), S(a[i].source ? a[i].source : "user")};
      PyObject *r = rec_make(&rec_answer, v);
      if (!r) {
        Py_CLEAR(list);
        break;
      }
      PyList_SetItem(list, (Py_ssize_t)i, r);
    }
  }
  sess_leave(self);
  return list;
}

static PyObject *explain(PyObject *o, PyObject *args, PyObject *kw, int how)
{
  static char *kw_why[] = {"question", NULL}, *kw_how[] = {"cause", NULL};
  SessionObject *self = (SessionObject *)o;
  PyObject *arg = Py_None, *r;
  const char *id;
  tshoot_explanation *e = NULL;
  int rc;
  if (!PyArg_ParseTupleAndKeywords(args, kw, how ? "|O:how" : "|O:why",
                                   how ? kw_how : kw_why, &arg))
    return NULL;
  if (id_arg(arg, &id, how ? "cause" : "question", 1) < 0) return NULL;
  if (sess_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = how ? tshoot_session_how(&e, self->s, id) : tshoot_session_why(&e, self->s, id);
  Py_END_ALLOW_THREADS
  sess_leave(self);
  if (rc != TSHOOT_OK) {
    tshoot_explanation_free(e);
    return raise_rc(rc);
  }
  r = explanation_to_py(e);
  tshoot_explanation_free(e);
  return r;
}

static PyObject *Session_why(PyObject *o, PyObject *args, PyObject *kw)
{
  return explain(o, args, kw, 0);
}

static PyObject *Session_how(PyObject *o, PyObject *args, PyObject *kw)
{
  return explain(o, args, kw, 1);
}

static PyObject *Session_save(PyObject *o, PyObject *unused)
{
  SessionObject *self = (SessionObject *)o;
  char *json = NULL;
  PyObject *r;
  int rc;
  if (sess_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_session_save(&json, self->s);
  Py_END_ALLOW_THREADS
  sess_leave(self);
  if (rc != TSHOOT_OK) return raise_rc(rc);
  r = PyUnicode_FromString(json);
  tshoot_free(json);
  return r;
}

static PyObject *Session_set_host(PyObject *o, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = {"host", "limits", NULL};
  SessionObject *self = (SessionObject *)o;
  PyObject *host, *limo = Py_None;
  int rc;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:set_host", kwlist, &host, &limo))
    return NULL;
  if (sess_enter(self) < 0) return NULL;
  rc = session_set_host(self, host, limo);
  sess_leave(self);   /* releases the host it took, the old one */
  if (rc < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *Session_probes(PyObject *o, PyObject *unused)
{
  SessionObject *self = (SessionObject *)o;
  const tshoot_probe_info *p = NULL;
  size_t n = 0;
  PyObject *list = NULL;
  int rc;
  if (sess_enter(self) < 0) return NULL;
  rc = tshoot_session_probes(&p, &n, self->s);
  if (rc != TSHOOT_OK) {
    raise_rc(rc);
  } else if ((list = PyList_New((Py_ssize_t)n)) != NULL) {
    for (size_t i = 0; i < n; i++) {
      PyObject *v[] = {S(p[i].question), SN(p[i].script), SN(p[i].answer), I(p[i].status),
                       SN(p[i].message ? p[i].message : "")};
      PyObject *r = rec_make(&rec_probe, v);
      if (!r) {
        Py_CLEAR(list);
        break;
      }
      PyList_SetItem(list, (Py_ssize_t)i, r);
    }
  }
  sess_leave(self);
  return list;
}

static PyObject *Session_run_fix(PyObject *o, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = {"fix", "dry_run", NULL};
  SessionObject *self = (SessionObject *)o;
  PyObject *f, *r;
  const char *fix;
  int dry = 0, rc;
  tshoot_run *run = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p:run_fix", kwlist, &f, &dry)) return NULL;
  if (id_arg(f, &fix, "fix", 0) < 0) return NULL;
  if (sess_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_session_run_fix(&run, self->s, fix, dry);
  Py_END_ALLOW_THREADS
  sess_leave(self);
  if (rc != TSHOOT_OK) {
    tshoot_run_free(run);
    return raise_rc(rc);
  }
  r = run_to_py(run);
  tshoot_run_free(run);
  return r;
}

static PyObject *Session_get_kb(PyObject *o, void *unused)
{
  SessionObject *self = (SessionObject *)o;
  Py_INCREF(self->kb);
  return self->kb;
}

static PyObject *Session_get_host(PyObject *o, void *unused)
{
  SessionObject *self = (SessionObject *)o;
  Py_INCREF(self->host);
  return self->host;
}

static PyObject *Session_get_closed(PyObject *o, void *unused)
{
  return PyBool_FromLong(((SessionObject *)o)->s == NULL);
}

static PyMethodDef Session_methods[] = {
  {"next", Session_next, METH_NOARGS,
   "next($self, /)\n--\n\n"
   "The next step: Ask (a question), Fix (try a fix, then report it with\n"
   "fix_result) or Conclude (the cause). Asking again without answering\n"
   "returns the same step."},
  {"answer", KWFUNC(Session_answer), METH_VARARGS | METH_KEYWORDS,
   "answer($self, /, question, value)\n--\n\n"
   "Answer `question` with `value`: one of its choices, a version, a number or\n"
   "text; True and False mean 'yes' and 'no', numbers are written out. Changes\n"
   "an earlier answer to it. Raises NotFound for an unknown question (with a\n"
   "did-you-mean), InvalidArgument for a value it does not allow (the message\n"
   "lists the allowed ones)."},
  {"change", KWFUNC(Session_answer), METH_VARARGS | METH_KEYWORDS,
   "change($self, /, question, value)\n--\n\n"
   "Change the answer to `question` (the same as answer())."},
  {"unknown", Session_unknown, METH_O,
   "unknown($self, question, /)\n--\n\n"
   "Answer 'I don't know': the question is not asked again and is no evidence."},
  {"retract", Session_retract, METH_O,
   "retract($self, question, /)\n--\n\n"
   "Withdraw the answer to `question`; it may be asked again."},
  {"undo", Session_undo, METH_NOARGS,
   "undo($self, /)\n--\n\n"
   "Withdraw the most recent answer ('go back'). Raises NotFound when there is\n"
   "none."},
  {"fix_result", KWFUNC(Session_fix_result), METH_VARARGS | METH_KEYWORDS,
   "fix_result($self, /, fix, worked)\n--\n\n"
   "Report whether fix `fix` worked. One that did not is evidence against its\n"
   "cause; one that worked concludes the session."},
  {"describe", Session_describe, METH_O,
   "describe($self, text, /)\n--\n\n"
   "Describe the problem in the user's words (replaces an earlier text): the\n"
   "KB is searched and what matches becomes evidence."},
  {"symptom", Session_symptom, METH_O,
   "symptom($self, id, /)\n--\n\nSay that symptom `id` (a symptom's id in the KB) is "
   "present."},
  {"causes", Session_causes, METH_NOARGS,
   "causes($self, /)\n--\n\n"
   "The causes still considered, most likely first, 'none' among them (a list\n"
   "of CauseRank)."},
  {"answers", Session_answers, METH_NOARGS,
   "answers($self, /)\n--\n\n"
   "The answers given so far, in order (a list of Answer; value None is\n"
   "'don't know')."},
  {"why", KWFUNC(Session_why), METH_VARARGS | METH_KEYWORDS,
   "why($self, /, question=None)\n--\n\n"
   "Why ask `question` (None: the question of the current step): an\n"
   "Explanation with the causes it separates, its expected gain and cost."},
  {"how", KWFUNC(Session_how), METH_VARARGS | METH_KEYWORDS,
   "how($self, /, cause=None)\n--\n\n"
   "Why `cause` (None: the most likely) is ranked where it is: an Explanation\n"
   "whose items are its evidence, answer by answer."},
  {"save", Session_save, METH_NOARGS,
   "save($self, /)\n--\n\n"
   "The session as JSON text (its evidence and the KB's digest): store it\n"
   "anywhere and restore it with Session.load(kb, text), in any process."},
  {"load", KWFUNC(Session_load), METH_VARARGS | METH_KEYWORDS | METH_CLASS,
   "load(kb, data, *, host=None, conclude_at=0.9, noise=0.01, fixes=True, "
   "written_order=False, limits=None)\n--\n\n"
   "Restore a session saved by save() (str or bytes). Saved sessions may come\n"
   "from untrusted clients: anything malformed is refused whole with\n"
   "InvalidArgument, and one saved against another KB build with\n"
   "VersionMismatch. Options given here replace the saved ones."},
  {"set_host", KWFUNC(Session_set_host), METH_VARARGS | METH_KEYWORDS,
   "set_host($self, /, host, limits=None)\n--\n\n"
   "Give the session a host (a Host, a SimHost, or an object with the host's\n"
   "methods, wrapped in a Host; None removes it) and the limits of its\n"
   "scripts (a Limits or a dict). From then on, before a question that has a\n"
   "probe is asked, the probe runs on the host and its answer is taken (source\n"
   "'probe'): the person is asked only what no probe can tell."},
  {"probes", Session_probes, METH_NOARGS,
   "probes($self, /)\n--\n\nEvery probe run so far, in order (a list of Probe)."},
  {"run_fix", KWFUNC(Session_run_fix), METH_VARARGS | METH_KEYWORDS,
   "run_fix($self, /, fix, dry_run=False)\n--\n\n"
   "Run fix `fix` (one with a script) on the session's host and return a Run:\n"
   "with dry_run its plan (Run.changes; nothing changes); else confirm (when\n"
   "it needs admin rights or cannot be undone), apply, verify, and roll back\n"
   "if it failed; the outcome is reported to the session as fix_result()\n"
   "(unless the host refused). Raises NotFound (no such fix) or\n"
   "InvalidArgument (no script, no host). The GIL is released."},
  {"close", Session_close, METH_NOARGS,
   "close($self, /)\n--\n\nFree the session now; later calls raise InvalidArgument."},
  {"__enter__", KB_enter, METH_NOARGS, NULL},
  {"__exit__", Session_exit, METH_VARARGS, NULL},
  {NULL, NULL, 0, NULL}
};

static PyGetSetDef Session_getset[] = {
  {"kb", Session_get_kb, NULL, "The KB the session reasons over.", NULL},
  {"host", Session_get_host, NULL, "The session's host (a tshoot.Host), or None.", NULL},
  {"closed", Session_get_closed, NULL, "True once close() was called.", NULL},
  {NULL, NULL, NULL, NULL, NULL}
};

static PyMemberDef Session_members[] = {
  {"__weaklistoffset__", T_PYSSIZET, offsetof(SessionObject, weakrefs), READONLY, NULL},
  {NULL, 0, 0, 0, NULL}
};

static PyType_Slot Session_slots[] = {
  {Py_tp_doc, (void *)
   "Session(kb, text=None, host=None, *, conclude_at=0.9, noise=0.01, fixes=True, "
   "written_order=False, limits=None)\n--\n\n"
   "A diagnosis of one person's problem over a KB (usually made by\n"
   "kb.session()). The caller loops:\n\n"
   "    step = s.next()\n"
   "    while not isinstance(step, tshoot.Conclude):\n"
   "        if isinstance(step, tshoot.Ask): s.answer(step.question, value)\n"
   "        else: s.fix_result(step.fix, worked)\n"
   "        step = s.next()\n\n"
   "conclude_at: conclude when a cause is this likely (0: 0.9); noise: the\n"
   "chance that one answer is wrong (0: 0.01); fixes=False: never propose a\n"
   "fix before concluding; written_order: ask in the written order; host and\n"
   "limits: see set_host().\n\n"
   "A session is used by one thread at a time: its methods take the\n"
   "session's lock, so threads that share one take turns. Any number of\n"
   "sessions may share one KB."},
  {Py_tp_new, (void *)Session_new},
  {Py_tp_dealloc, (void *)Session_dealloc},
  {Py_tp_traverse, (void *)Session_traverse},
  {Py_tp_clear, (void *)Session_clear},
  {Py_tp_repr, (void *)Session_repr},
  {Py_tp_methods, Session_methods},
  {Py_tp_getset, Session_getset},
  {Py_tp_members, Session_members},
  {0, NULL},
};

static PyType_Spec Session_spec = {
  "tshoot.Session", sizeof(SessionObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
  Session_slots,
};

/* ======================================================================
** The module
*/
static PyObject *mod_libversion(PyObject *m, PyObject *unused)
{
  return PyUnicode_FromString(tshoot_libversion());
}

static PyObject *mod_strerror(PyObject *m, PyObject *arg)
{
  long code = PyLong_AsLong(arg);
  if (code == -1 && PyErr_Occurred()) return NULL;
  return PyUnicode_FromString(tshoot_strerror((int)code));
}

/* --- tshoot.compile --------------------------------------------------------- */

typedef struct compile_ctx {
  PyObject *diags;      /* list of Diagnostic */
  PyObject *progress;   /* callable or NULL */
  int failed;           /* a callback raised: its exception is pending (saved) */
  PyObject *exc;        /* the saved exception */
} compile_ctx;

/* Keep the first exception a callback raised; the compile is cancelled. */
static void compile_keep_error(compile_ctx *c)
{
  if (!c->failed) {
    c->failed = 1;
    c->exc = exc_save();
  } else {
    PyErr_Clear();
  }
}

static void compile_on_diag(const tshoot_diagnostic *d, void *payload)
{
  compile_ctx *c = payload;
  PyGILState_STATE g = PyGILState_Ensure();
  static const char *const sev[] = {"note", "warning", "error"};
  if (!c->failed) {
    PyObject *v[] = {S(sev[d->severity >= 0 && d->severity <= 2 ? d->severity : 2]),
                     S(d->file), I(d->line), I(d->column), SN(d->code && *d->code ? d->code : NULL), S(d->message)};
    PyObject *o = rec_make(&rec_diagnostic, v);
    if (!o || PyList_Append(c->diags, o) < 0) compile_keep_error(c);
    Py_XDECREF(o);
  }
  PyGILState_Release(g);
}

static int compile_on_progress(const char *phase, size_t done, size_t total, void *payload)
{
  compile_ctx *c = payload;
  int stop = 0;
  PyGILState_STATE g = PyGILState_Ensure();
  if (c->failed) {
    stop = 1;
  } else {
    PyObject *r = PyObject_CallFunction(c->progress, "snn", phase, (Py_ssize_t)done,
                                        (Py_ssize_t)total);
    if (!r) {
      compile_keep_error(c);
      stop = 1;
    } else {
      stop = PyObject_IsTrue(r);
      Py_DECREF(r);
      if (stop < 0) {
        compile_keep_error(c);
        stop = 1;
      }
    }
  }
  PyGILState_Release(g);
  return stop;
}

/* A sequence of paths as a NULL-terminated array of char*, held by `keep`. */
static const char **path_array(PyObject *seq, PyObject **keep, size_t *n, const char *what)
{
  PyObject *fast = NULL, *list = NULL;
  const char **out = NULL;
  Py_ssize_t i, len;

  if (PyUnicode_Check(seq) || PyBytes_Check(seq) || !PySequence_Check(seq)) {
    /* one path */
    fast = PyTuple_Pack(1, seq);
  } else {
    fast = PySequence_Tuple(seq);
  }
  if (!fast) return NULL;
  len = PyTuple_Size(fast);
  list = PyList_New(0);
  out = PyMem_Calloc((size_t)len + 1, sizeof *out);
  if (!list || !out) {
    if (!out) PyErr_NoMemory();
    goto fail;
  }
  for (i = 0; i < len; i++) {
    PyObject *b = NULL;
    if (!PyUnicode_FSConverter(PyTuple_GetItem(fast, i), &b)) goto fail;
    if (PyList_Append(list, b) < 0) {
      Py_DECREF(b);
      goto fail;
    }
    out[i] = PyBytes_AsString(b);
    Py_DECREF(b);
  }
  Py_DECREF(fast);
  *keep = list;
  *n = (size_t)len;
  return out;
fail:
  (void)what;
  Py_XDECREF(fast);
  Py_XDECREF(list);
  PyMem_Free(out);
  return NULL;
}

static PyObject *mod_compile(PyObject *m, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = {"sources", "output", "script_dirs", "warnings_are_errors",
                           "max_file_size", "on_progress", NULL};
  PyObject *sources, *output = Py_None, *dirs = NULL, *progress = Py_None;
  PyObject *keep_src = NULL, *keep_dirs = NULL, *outb = NULL, *result = NULL;
  const char **src = NULL, **sdirs = NULL;
  size_t n_src = 0, n_dirs = 0;
  int werr = 0, rc;
  Py_ssize_t max_size = 0;
  compile_ctx ctx = {NULL, NULL, 0, NULL};
  tshoot_compile_options opts = TSHOOT_COMPILE_OPTIONS_INIT;
  tshoot_compile_stats st;

  memset(&st, 0, sizeof st);
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$OpnO:compile", kwlist, &sources, &output,
                                   &dirs, &werr, &max_size, &progress))
    return NULL;
  if (max_size < 0) {
    PyErr_SetString(PyExc_ValueError, "max_file_size must be >= 0");
    return NULL;
  }
  if (progress != Py_None && !PyCallable_Check(progress)) {
    PyErr_SetString(PyExc_TypeError, "on_progress must be callable or None");
    return NULL;
  }
  src = path_array(sources, &keep_src, &n_src, "sources");
  if (!src) goto done;
  if (dirs && dirs != Py_None) {
    sdirs = path_array(dirs, &keep_dirs, &n_dirs, "script_dirs");
    if (!sdirs) goto done;
  }
  if (output != Py_None && !PyUnicode_FSConverter(output, &outb)) goto done;
  ctx.diags = PyList_New(0);
  if (!ctx.diags) goto done;
  ctx.progress = progress == Py_None ? NULL : progress;
  opts.script_dirs = sdirs;
  opts.n_script_dirs = n_dirs;
  opts.on_diagnostic = compile_on_diag;
  opts.diagnostic_payload = &ctx;
  opts.on_progress = ctx.progress ? compile_on_progress : NULL;
  opts.progress_payload = &ctx;
  opts.warnings_are_errors = werr;
  opts.max_file_size = (size_t)max_size;

  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_compile(&st, src, n_src, outb ? PyBytes_AsString(outb) : NULL, &opts);
  Py_END_ALLOW_THREADS

  if (ctx.failed) {
    exc_restore(ctx.exc);
    ctx.exc = NULL;
    goto done;
  }
  {
    PyObject *diags = PyList_AsTuple(ctx.diags);
    PyObject *v[] = {I((long long)st.files), I((long long)st.articles),
                     I((long long)st.questions), I((long long)st.facts),
                     I((long long)st.causes), I((long long)st.fixes), I((long long)st.tests),
                     I((long long)st.scripts), I((long long)st.errors),
                     I((long long)st.warnings), diags};
    result = rec_make(&rec_stats, v);
  }
  if (result && rc != TSHOOT_OK) {
    /* the error, with the stats (and so every diagnostic) attached */
    PyObject *type, *value, *tb;
    raise_rc(rc);
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && PyObject_SetAttrString(value, "stats", result) == 0) {
      PyObject *d = PyObject_GetAttrString(result, "diagnostics");
      if (d) {
        PyObject_SetAttrString(value, "diagnostics", d);
        Py_DECREF(d);
      }
    }
    PyErr_Restore(type, value, tb);
    Py_CLEAR(result);
  }
done:
  Py_XDECREF(ctx.exc);
  Py_XDECREF(ctx.diags);
  Py_XDECREF(outb);
  Py_XDECREF(keep_src);
  Py_XDECREF(keep_dirs);
  PyMem_Free(src);
  PyMem_Free(sdirs);
  return result;
}

static PyMethodDef module_methods[] = {
  {"run_script", KWFUNC(mod_run_script), METH_VARARGS | METH_KEYWORDS,
   "run_script(name, body, mode='probe', *, host=None, fix=None, limits=None)\n--\n\n"
   "Run one script (Lua source `body`, called `name` in messages) in the\n"
   "sandbox and return a Run. mode: 'probe' (its answer), 'plan' (a fix's\n"
   "apply against a copy: the changes it would make), 'apply' (for real,\n"
   "journaled, then verify; rolled back on failure) or 'verify'. host: a Host,\n"
   "a SimHost, an object with the host's methods, or None (no callbacks);\n"
   "fix: the FixInfo it belongs to (confirmation, journal); limits: a Limits.\n"
   "A script that fails or breaks a limit is a Run with a status, not an\n"
   "exception. The GIL is released while it runs."},
  {"compile", KWFUNC(mod_compile), METH_VARARGS | METH_KEYWORDS,
   "compile(sources, output=None, *, script_dirs=None, warnings_are_errors=False, "
   "max_file_size=0, on_progress=None)\n--\n\n"
   "Compile KB sources (a path, or a sequence of files and folders of *.xml)\n"
   "into the KB file `output`; output=None only checks them (lint). Returns a\n"
   "CompileStats with every Diagnostic. When the sources have errors, raises\n"
   "SourceError with .diagnostics and .stats; the output is then untouched\n"
   "(it is replaced atomically). on_progress(phase, done, total) is called as\n"
   "the compile goes; a true return value cancels it (CallbackError). The GIL\n"
   "is released while compiling."},
  {"libversion", mod_libversion, METH_NOARGS,
   "libversion()\n--\n\nThe version of the libtshoot this module runs with (\"X.Y.Z\")."},
  {"strerror", mod_strerror, METH_O,
   "strerror(code, /)\n--\n\nA short English name for a TSHOOT_E* status code."},
  {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module_def = {
  PyModuleDef_HEAD_INIT,
  "tshoot._tshoot",
  "The C extension behind the tshoot package: import tshoot instead.",
  -1,
  module_methods,
  NULL, NULL, NULL, NULL,
};

static int add_string(PyObject *m, const char *name, const char *value)
{
  PyObject *s = PyUnicode_FromString(value);
  if (!s) return -1;
  if (PyModule_AddObject(m, name, s) < 0) {
    Py_DECREF(s);
    return -1;
  }
  return 0;
}

PyMODINIT_FUNC PyInit__tshoot(void)
{
  PyObject *m = NULL, *base = NULL, *t;
  size_t i;

  base = PyImport_ImportModule("json");
  if (!base) return NULL;
  g_json_dumps = PyObject_GetAttrString(base, "dumps");
  Py_DECREF(base);
  if (!g_json_dumps) return NULL;
  base = PyImport_ImportModule("tshoot._base");
  if (!base) return NULL;
  g_error_class = PyObject_GetAttrString(base, "_error_class");
  g_results_type = PyObject_GetAttrString(base, "Results");
  g_default_kb = PyObject_GetAttrString(base, "default_kb");
  g_no_default_kb = PyObject_GetAttrString(base, "_no_default_kb");
  Py_DECREF(base);
  if (!g_error_class || !g_results_type || !g_default_kb || !g_no_default_kb) return NULL;

  m = PyModule_Create(&module_def);
  if (!m) return NULL;
  for (i = 0; i < sizeof all_records / sizeof all_records[0]; i++)
    if (rec_make_type(all_records[i], m) < 0) goto fail;

  t = PyType_FromSpec(&KB_spec);
  if (!t) goto fail;
  KB_Type = (PyTypeObject *)t;
  Py_INCREF(t);
  if (PyModule_AddObject(m, "KB", t) < 0) {
    Py_DECREF(t);
    goto fail;
  }
  t = PyType_FromSpec(&Host_spec);
  if (!t) goto fail;
  Host_Type = (PyTypeObject *)t;
  Py_INCREF(t);
  if (PyModule_AddObject(m, "Host", t) < 0) {
    Py_DECREF(t);
    goto fail;
  }
  {
    PyObject *bases = PyTuple_Pack(1, t);
    t = bases ? PyType_FromSpecWithBases(&SimHost_spec, bases) : NULL;
    Py_XDECREF(bases);
  }
  if (!t) goto fail;
  SimHost_Type = (PyTypeObject *)t;
  Py_INCREF(t);
  if (PyModule_AddObject(m, "SimHost", t) < 0) {
    Py_DECREF(t);
    goto fail;
  }
  t = PyType_FromSpec(&Session_spec);
  if (!t) goto fail;
  Session_Type = (PyTypeObject *)t;
  Py_INCREF(t);
  if (PyModule_AddObject(m, "Session", t) < 0) {
    Py_DECREF(t);
    goto fail;
  }

  if (add_string(m, "_BUILD_KB", TSHOOT_PY_BUILD_KB) < 0 ||
      add_string(m, "_INSTALLED_KB", TSHOOT_PY_INSTALLED_KB) < 0 ||
      add_string(m, "VERSION", TSHOOT_VERSION) < 0 ||
      PyModule_AddIntConstant(m, "KB_FORMAT", TSHOOT_KB_FORMAT) < 0)
    goto fail;
  return m;
fail:
  Py_XDECREF(m);
  return NULL;
}
