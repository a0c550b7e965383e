/*
** host.c: the Host and SimHost types: a machine that scripts reach, simulated
** or through the methods of a Python object (the callbacks cb_*).
*/
#include "_tshoot.h"

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
int pyhost_enter(HostObject *h)
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

void pyhost_leave(HostObject *h)
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

PyObject *changes_to_tuple(const tshoot_change *c, size_t n)
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
  if (pyhost_enter(h) < 0) return NULL;
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
  pyhost_leave(h);
  return r;
}

static PyObject *Host_journal_json(PyObject *o, PyObject *unused)
{
  HostObject *h = (HostObject *)o;
  char *json = NULL;
  PyObject *r;
  int rc;
  if (pyhost_enter(h) < 0) return NULL;
  rc = tshoot_host_journal_json(&json, h->host);
  pyhost_leave(h);
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
  if (pyhost_enter(h) < 0) return NULL;
  rc = tshoot_host_sim_save(&json, h->host);
  pyhost_leave(h);
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
  if (pyhost_enter(h) < 0) return NULL;
  rc = tshoot_host_sim_confirm(h->host, yes);
  pyhost_leave(h);
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

PyType_Spec Host_spec = {
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

PyType_Spec SimHost_spec = {
  "tshoot.SimHost", sizeof(HostObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
  SimHost_slots,
};

HostObject *as_host(PyObject *o)
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
