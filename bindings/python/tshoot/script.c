/*
** script.c: running one script: script limits from Python, Run records, and
** tshoot.run_script().
*/
#include "_tshoot.h"

int limits_arg(PyObject *o, tshoot_limits *out)
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
    /* True (or None) keeps the library's default, exact counting; False asks
    ** for the faster CPU-time estimate */
    if (!e) out->flags |= TSHOOT_LIMITS_ESTIMATE;
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

PyObject *run_to_py(const tshoot_run *r)
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

PyObject *mod_run_script(PyObject *m, PyObject *args, PyObject *kw)
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
    if (!h || pyhost_enter(h) < 0) goto done;
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
  if (entered) pyhost_leave(h);
  Py_XDECREF(h);
  Py_XDECREF(keep);
  PyMem_Free(steps);
  return result;
}

