/*
** module.c: the module: tshoot.compile, libversion and strerror, the module's
** references to _base.py, and PyInit__tshoot (the one exported symbol).
*/
#include "_tshoot.h"

PyObject *g_error_class;
PyObject *g_results_type;
PyObject *g_find_default_kb;
PyObject *g_json_dumps;
PyTypeObject *KB_Type;
PyTypeObject *Session_Type;
PyTypeObject *Host_Type;
PyTypeObject *SimHost_Type;

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
                     S(d->file), I(d->line), I(d->column),
                     SN(d->code && *d->code ? d->code : NULL), S(d->message)};
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

  base = PyImport_ImportModule("json");
  if (!base) return NULL;
  g_json_dumps = PyObject_GetAttrString(base, "dumps");
  Py_DECREF(base);
  if (!g_json_dumps) return NULL;
  base = PyImport_ImportModule("tshoot._base");
  if (!base) return NULL;
  g_error_class = PyObject_GetAttrString(base, "_error_class");
  g_results_type = PyObject_GetAttrString(base, "Results");
  g_find_default_kb = PyObject_GetAttrString(base, "_find_default_kb");
  Py_DECREF(base);
  if (!g_error_class || !g_results_type || !g_find_default_kb) return NULL;

  m = PyModule_Create(&module_def);
  if (!m) return NULL;
  if (rec_make_types(m) < 0) goto fail;

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
      /* fix outcomes (Session.fix_result, FixReport.outcome, Input.outcome) */
      add_string(m, "WORKED", outcome_name(TSHOOT_FIX_WORKED)) < 0 ||
      add_string(m, "DID_NOT_WORK", outcome_name(TSHOOT_FIX_DID_NOT_WORK)) < 0 ||
      add_string(m, "COULD_NOT_TRY", outcome_name(TSHOOT_FIX_COULD_NOT_TRY)) < 0 ||
      add_string(m, "SKIPPED", outcome_name(TSHOOT_FIX_SKIPPED)) < 0 ||
      PyModule_AddIntConstant(m, "KB_FORMAT", TSHOOT_KB_FORMAT) < 0)
    goto fail;
  return m;
fail:
  Py_XDECREF(m);
  return NULL;
}
