/*
** records.c: the record types (Result, Ask, Fix, CauseRank, Run, ...), small
** immutable value objects made by one generic implementation: each is a
** recdef (its name, doc and fields), and rec_make_type turns it into a type
** with a readable repr, equality, hashing, pickling and __match_args__.
*/
#include "_tshoot.h"

/* ======================================================================
** Records: small immutable value types, all made by one implementation.
*/

/* --- the record types ---------------------------------------------------- */

static const fielddef result_fields[] = {
  {"article", "the article's id, e.g. 'kofmsp'"},
  {"title", "the article's title"},
  {"snippet", "the best-matching passage, matched words marked"},
  {"score", "relevance: bm25 weighted by column (title, symptoms, ... above "
             "fix text), negated: higher is better, always > 0, comparable "
             "within one search only"},
  {"file", "the source file the article came from"},
  {"line", "its line there"},
  {"passage", "the same passage as plain text, no marks, punctuation kept"},
  {"marks", "the matched words in passage: ((start, end), ...) str indexes, "
            "passage[start:end]"},
};
recdef rec_result = {"tshoot.Result",
  "Result(article, title, snippet, score, file, line, passage, marks)\n--\n\n"
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
recdef rec_info = {"tshoot.KBInfo",
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
recdef rec_symptom = {"tshoot.Symptom",
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
recdef rec_fixinfo = {"tshoot.FixInfo",
  "FixInfo(id, title, steps, verify, script, cost, risk, needs_admin, reversible)\n--\n\n"
  "A fix of a cause, as its author wrote it.", fixinfo_fields, NFIELDS(fixinfo_fields),
  NULL, NULL, 0, NULL, NULL};

static const fielddef causeinfo_fields[] = {
  {"id", "the cause's id"}, {"title", "the cause in a line"},
  {"explanation", "what happens, for a person"},
  {"prior", "the author's prior weight, in (0, 1]"},
  {"fixes", "tuple of FixInfo, in the order to try them"},
};
recdef rec_causeinfo = {"tshoot.CauseInfo",
  "CauseInfo(id, title, explanation, prior, fixes)\n--\n\nA cause of an article.",
  causeinfo_fields, NFIELDS(causeinfo_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef article_fields[] = {
  {"id", "the article's id"}, {"title", "its title"}, {"summary", "or None"},
  {"file", "the source file it was compiled from"}, {"line", "its line there"},
  {"symptoms", "tuple of Symptom"}, {"aliases", "tuple of str"},
  {"causes", "tuple of CauseInfo"},
};
recdef rec_article = {"tshoot.Article",
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
recdef rec_testcase = {"tshoot.TestCase",
  "TestCase(id, description, text, expect_cause, expect_fix, file, line, given)\n--\n\n"
  "A test case the KB's authors wrote (KB.tests).", testcase_fields,
  NFIELDS(testcase_fields), NULL, NULL, 0, NULL, NULL};

recdef rec_step = {"tshoot.Step",
  "The base class of the steps Session.next() returns: Ask, Fix, Conclude and\n"
  "Inconclusive (the last two end a diagnosis).\n\n"
  "Each has a class attribute `kind`: 'ask', 'fix', 'conclude' or 'inconclusive'.",
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
recdef rec_ask = {"tshoot.Ask",
  "Ask(question, prompt, why, type, unit, choices, labels, expected_gain, cost, "
  "questions_asked)\n--\n\n"
  "A step: ask the user a question.", ask_fields, NFIELDS(ask_fields),
  &rec_step, "ask", 0, NULL, NULL};

static const fielddef fix_fields[] = {
  {"fix", "the fix's id: report with Session.fix_result(fix, outcome)"},
  {"cause", "the cause it repairs"}, {"cause_title", "that cause in a line"},
  {"article", "the cause's article id"},
  {"probability", "how likely the cause is now"},
  {"questions_asked", "answers given so far"},
  {"fix_title", "the fix in a line, for people, or None"},
};
recdef rec_fix = {"tshoot.Fix",
  "Fix(fix, cause, cause_title, article, probability, questions_asked, fix_title)\n--\n\n"
  "A step: try a fix (its steps are in KB.article(article)), then report\n"
  "what happened with Session.fix_result(fix, outcome) ('worked',\n"
  "'did_not_work', 'could_not_try' or 'skipped'), or pass the person's reply\n"
  "to Session.input().", fix_fields, NFIELDS(fix_fields),
  &rec_step, "fix", 0, NULL, NULL};

static const fielddef conclude_fields[] = {
  {"cause", "the cause, or 'none' when none of the known causes fits"},
  {"cause_title", "the cause in a line"},
  {"article", "the cause's article id, or None for 'none'"},
  {"probability", "how likely the cause is"},
  {"questions_asked", "answers given"},
  {"fix_title", "the title of the fix that worked, or None"},
};
recdef rec_conclude = {"tshoot.Conclude",
  "Conclude(cause, cause_title, article, probability, questions_asked, fix_title)\n--\n\n"
  "The last step: the diagnosis names its cause (it reached the threshold on\n"
  "evidence, or a fix of it worked).", conclude_fields,
  NFIELDS(conclude_fields), &rec_step, "conclude", 0, NULL, NULL};

static const fielddef inconclusive_fields[] = {
  {"cause", "the best candidate (not a conclusion), or 'none'"},
  {"cause_title", "that candidate in a line"},
  {"article", "its article's id, or None for 'none'"},
  {"probability", "how likely it is"},
  {"escalation", "what to do now, for people (the KB's escalation advice)"},
  {"questions_asked", "answers given"},
};
recdef rec_inconclusive = {"tshoot.Inconclusive",
  "Inconclusive(cause, cause_title, article, probability, escalation, questions_asked)\n--\n\n"
  "The last step when nothing is left to ask or try and no cause has the\n"
  "evidence to be named: `cause` is only the best candidate (see\n"
  "Session.causes()), and `escalation` says what to do now (the candidate\n"
  "article's escalation advice, else the KB's, else a general sentence).", inconclusive_fields,
  NFIELDS(inconclusive_fields), &rec_step, "inconclusive", 0, NULL, NULL};

static const fielddef causerank_fields[] = {
  {"cause", "the cause's id, or 'none'"}, {"title", "the cause in a line"},
  {"article", "its article's id, or None for 'none'"},
  {"probability", "how likely it is now"},
};
recdef rec_causerank = {"tshoot.CauseRank",
  "CauseRank(cause, title, article, probability)\n--\n\n"
  "A cause and how likely it is now (Session.causes).", causerank_fields,
  NFIELDS(causerank_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef answer_fields[] = {
  {"question", "the question's id"},
  {"value", "the answer, or None for 'don't know'"},
  {"source", "'user'; 'probe' when a probe on the session's host answered; "
             "'text' when the person's description did"},
  {"prompt", "the question, for people"},
  {"label", "the answer, for people ('Yes', a choice's label, the value itself, "
            "'I don't know')"},
};
recdef rec_answer = {"tshoot.Answer",
  "Answer(question, value, source, prompt, label)\n--\n\n"
  "An answer given so far (Session.answers).",
  answer_fields, NFIELDS(answer_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef fixreport_fields[] = {
  {"fix", "the fix's id"},
  {"cause", "the cause it repairs"},
  {"worked", "True when it worked (outcome == 'worked')"},
  {"outcome", "'worked', 'did_not_work', 'could_not_try' or 'skipped'"},
  {"title", "the fix in a line, for people, or None"},
};
recdef rec_fixreport = {"tshoot.FixReport",
  "FixReport(fix, cause, worked, outcome, title)\n--\n\n"
  "A fix reported so far (Session.fixes): only 'did_not_work' is evidence\n"
  "(against its cause); 'worked' concludes.",
  fixreport_fields, NFIELDS(fixreport_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef input_fields[] = {
  {"kind", "'answer', 'unknown', 'fix', 'back', 'why', 'how', 'text' or 'unclear'"},
  {"value", "'answer': the choice's value, or the number, version or text; else None"},
  {"outcome", "'fix': 'worked', 'did_not_work', 'could_not_try' or 'skipped'; else None"},
  {"message", "'unclear': why, for the person (what would be understood); else None"},
};
recdef rec_input = {"tshoot.Input",
  "Input(kind, value, outcome, message)\n--\n\n"
  "How a person's reply to the current step reads (Session.read, Session.input).",
  input_fields, NFIELDS(input_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef evidence_fields[] = {
  {"kind", "'prior', 'text', 'symptom', 'answer', 'condition' or 'fix'"},
  {"subject", "the question, symptom or fix id; None for prior and text"},
  {"detail", "for a person: 'office.version = 2016', 'requires ...'"},
  {"factor", "how much it multiplied the cause's weight (1: neutral)"},
};
recdef rec_evidence = {"tshoot.Evidence",
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
recdef rec_explanation = {"tshoot.Explanation",
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
recdef rec_diagnostic = {"tshoot.Diagnostic",
  "Diagnostic(severity, file, line, column, code, message)\n--\n\n"
  "A problem found in KB sources by tshoot.compile(), like a compiler's.",
  diagnostic_fields, NFIELDS(diagnostic_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef stats_fields[] = {
  {"files", "source files read"}, {"articles", "articles"}, {"questions", "questions"},
  {"facts", "facts"}, {"causes", "causes"}, {"fixes", "fixes"}, {"tests", "test cases"},
  {"scripts", "scripts"}, {"errors", "errors reported"}, {"warnings", "warnings reported"},
  {"diagnostics", "tuple of Diagnostic, in source order"},
};
recdef rec_stats = {"tshoot.CompileStats",
  "CompileStats(files, articles, questions, facts, causes, fixes, tests, scripts, "
  "errors, warnings, diagnostics)\n--\n\n"
  "What tshoot.compile() did, with every diagnostic it reported.",
  stats_fields, NFIELDS(stats_fields), NULL, NULL, 0, NULL, NULL};

static const fielddef limits_fields[] = {
  {"memory_kib", "memory a script may use, in KiB (None or 0: 16384)"},
  {"instructions", "Lua VM instructions (None or 0: 10,000,000)"},
  {"time_ms", "wall time in milliseconds (None or 0: 2000)"},
  {"exact_count", "None or True: count instructions exactly (the default, the same on every\n"
                  "machine); False: estimate them from CPU time (faster loops, machine-dependent)"},
};
recdef rec_limits = {"tshoot.Limits",
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
recdef rec_change = {"tshoot.Change",
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
recdef rec_run = {"tshoot.Run",
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
recdef rec_probe = {"tshoot.Probe",
  "Probe(question, script, answer, status, message)\n--\n\n"
  "What a probe did on the session's host (Session.probes).",
  probe_fields, NFIELDS(probe_fields), NULL, NULL, 0, NULL, NULL};

static recdef *const all_records[] = {
  &rec_limits, &rec_change, &rec_run, &rec_probe,
  &rec_diagnostic, &rec_stats, &rec_result, &rec_info, &rec_symptom, &rec_fixinfo,
  &rec_causeinfo, &rec_article,
  &rec_testcase, &rec_step, &rec_ask, &rec_fix, &rec_conclude, &rec_inconclusive, &rec_causerank,
  &rec_answer, &rec_fixreport, &rec_input, &rec_evidence, &rec_explanation,
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

PyObject *rec_make(const recdef *d, PyObject **vals)
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


int rec_make_types(PyObject *module)
{
  for (size_t i = 0; i < sizeof all_records / sizeof all_records[0]; i++)
    if (rec_make_type(all_records[i], module) < 0) return -1;
  return 0;
}
