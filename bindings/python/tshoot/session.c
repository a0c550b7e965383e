/*
** session.c: the Session type: one diagnosis over a KB, used by one thread at
** a time (its lock, then its host's: LOCK ORDER in _tshoot.h).
*/
#include "_tshoot.h"

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
    if (pyhost_enter(h) < 0) {
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
    pyhost_leave(h);
    Py_DECREF(h);
  }
  self->owner = 0;
  PyThread_release_lock(self->lock);
}

/* The session options from Python's arguments, as they are: the library
** decides which values it allows (tshoot_session_new), and its
** InvalidArgument message is what the caller sees. */
static void session_opts(tshoot_session_options *opts, double conclude_at, double noise,
                         int fixes, int written_order)
{
  opts->conclude_at = conclude_at;
  opts->noise = noise;
  opts->flags = (fixes ? 0 : TSHOOT_SESSION_NO_FIXES) |
                (written_order ? TSHOOT_SESSION_WRITTEN_ORDER : 0);
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

PyObject *Session_create(PyTypeObject *type, PyObject *kbo, PyObject *args,
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
  session_opts(&opts, conclude_at, noise, fixes, written);
  if (text != Py_None && text_arg(text, &p, &len, "text") < 0) return NULL;
  if (pykb_enter(k) < 0) return NULL;
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
  pykb_leave(k);
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
  session_opts(&opts, conclude_at, noise, fixes, written);
  if (text_arg(data, &p, &len, "data") < 0) return NULL;
  if (pykb_enter(k) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_session_load(&s, k->kb, p, (size_t)len, custom ? &opts : NULL);
  Py_END_ALLOW_THREADS
  pykb_leave(k);
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

/* An answer value: str as is, bool as yes/no, int and float as their text.
** Only Python types are converted here: which text answers a question (a
** choice in another case, ...) is libtshoot's rule, so a str goes to it
** untouched and its InvalidArgument message is the caller's. */
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

/* A fix outcome from Python: True/False (old callers: worked or not) or one
** of the names. Anything else is a ValueError that names the allowed ones. */
static int outcome_arg(PyObject *o, tshoot_fix_outcome *out)
{
  if (PyBool_Check(o)) {
    *out = o == Py_True ? TSHOOT_FIX_WORKED : TSHOOT_FIX_DID_NOT_WORK;
    return 0;
  }
  if (PyUnicode_Check(o)) {
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(o, &len);
    if (!s) return -1;
    for (int i = TSHOOT_FIX_DID_NOT_WORK; i <= TSHOOT_FIX_SKIPPED; i++) {
      const char *name = outcome_name((tshoot_fix_outcome)i);
      if ((size_t)len == strlen(name) && memcmp(s, name, (size_t)len) == 0) {
        *out = (tshoot_fix_outcome)i;
        return 0;
      }
    }
  }
  PyErr_Format(PyExc_ValueError,
               "a fix outcome is 'worked', 'did_not_work', 'could_not_try' or 'skipped' "
               "(tshoot.WORKED, ...), or True/False for worked/did not work, not %R", o);
  return -1;
}

static PyObject *Session_fix_result(PyObject *o, PyObject *args, PyObject *kw)
{
  /* `worked` is the keyword of old callers: fix_result(fix, worked=False) */
  static char *kwlist[] = {"fix", "outcome", "worked", NULL};
  SessionObject *self = (SessionObject *)o;
  PyObject *f, *out = NULL, *worked = NULL;
  const char *fix;
  tshoot_fix_outcome outcome;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:fix_result", kwlist, &f, &out, &worked))
    return NULL;
  if ((out == NULL) == (worked == NULL)) {
    PyErr_SetString(PyExc_TypeError,
                    "fix_result() takes the fix and its outcome (or the old worked=)");
    return NULL;
  }
  if (id_arg(f, &fix, "fix", 0) < 0) return NULL;
  if (outcome_arg(out ? out : worked, &outcome) < 0) return NULL;
  SESSION_CALL(self, tshoot_session_fix_result(self->s, fix, outcome));
}

static PyObject *Session_add_text(PyObject *o, PyObject *arg)
{
  SessionObject *self = (SessionObject *)o;
  const char *p;
  Py_ssize_t len;
  if (text_arg(arg, &p, &len, "text") < 0) return NULL;
  SESSION_CALL(self, tshoot_session_add_text(self->s, p, (size_t)len));
}

static PyObject *input_to_py(const tshoot_input *in)
{
  static const char *const kinds[] = {"unclear", "answer", "unknown", "fix",
                                      "back", "why", "how", "text"};
  const char *kind = (int)in->kind >= 0 && (int)in->kind < NFIELDS(kinds) ? kinds[in->kind]
                                                                           : "unclear";
  PyObject *v[] = {S(kind), SN(in->kind == TSHOOT_INPUT_ANSWER ? in->value : NULL),
                   SN(in->kind == TSHOOT_INPUT_FIX ? outcome_name(in->outcome) : NULL),
                   SN(in->message)};
  return rec_make(&rec_input, v);
}

/* read() and input(): the reply is read against the step next() returns
** (asking again repeats it, so this is the step the person was shown, also
** in a session just loaded); input() then applies it. */
static PyObject *read_or_input(PyObject *o, PyObject *arg, int apply)
{
  SessionObject *self = (SessionObject *)o;
  const tshoot_step *st = NULL;
  tshoot_input in;
  const char *p;
  Py_ssize_t len;
  PyObject *r;
  int rc;
  if (text_arg(arg, &p, &len, "text") < 0) return NULL;
  memset(&in, 0, sizeof in);
  if (sess_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_session_next(&st, self->s);
  if (rc == TSHOOT_OK)
    rc = apply ? tshoot_session_input(self->s, p, (size_t)len, &in)
               : tshoot_session_read(&in, self->s, p, (size_t)len);
  Py_END_ALLOW_THREADS
  /* in.value and in.message are borrowed from the session: convert under the lock */
  r = rc == TSHOOT_OK ? input_to_py(&in) : raise_rc(rc);
  sess_leave(self);
  return r;
}

static PyObject *Session_read(PyObject *o, PyObject *arg)
{
  return read_or_input(o, arg, 0);
}

static PyObject *Session_input(PyObject *o, PyObject *arg)
{
  return read_or_input(o, arg, 1);
}

static PyObject *Session_fixes(PyObject *o, PyObject *unused)
{
  SessionObject *self = (SessionObject *)o;
  const tshoot_fix_report *f = NULL;
  size_t n = 0;
  PyObject *list = NULL;
  int rc;
  if (sess_enter(self) < 0) return NULL;
  rc = tshoot_session_fixes(&f, &n, self->s);
  if (rc != TSHOOT_OK) {
    raise_rc(rc);
  } else if ((list = PyList_New((Py_ssize_t)n)) != NULL) {
    for (size_t i = 0; i < n; i++) {
      PyObject *v[] = {S(f[i].fix), SN(f[i].cause), B(f[i].outcome == TSHOOT_FIX_WORKED),
                       S(outcome_name(f[i].outcome)), SN(f[i].title)};
      PyObject *r = rec_make(&rec_fixreport, v);
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
      PyObject *v[] = {S(a[i].question), SN(a[i].value), S(a[i].source ? a[i].source : "user"),
                       SN(a[i].prompt), SN(a[i].label)};
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
   "fix_result), or one that ends the diagnosis: Conclude (the cause) or\n"
   "Inconclusive (no cause has the evidence: the best candidate and its\n"
   "escalation advice). Asking again without answering returns the same step."},
  {"read", Session_read, METH_O,
   "read($self, text, /)\n--\n\n"
   "How the person's reply `text` to the current step (the one next()\n"
   "returns) reads, without applying it: an Input whose kind is 'answer'\n"
   "(value: the choice's value, number, version or text; from a value or\n"
   "label in any case, its number on screen '2', an ordinal 'the first one',\n"
   "'yep', 'sixty-four bit', ...), 'unknown' ('no idea', 'skip'), 'fix'\n"
   "(outcome: 'worked', 'did_not_work', 'could_not_try' or 'skipped'),\n"
   "'back', 'why', 'how', 'text' (more description) or 'unclear' (message:\n"
   "what would be understood, for the person). libtshoot's one reader of\n"
   "replies, the same as the tshoot command's."},
  {"input", Session_input, METH_O,
   "input($self, text, /)\n--\n\n"
   "Read the person's reply `text` as read() does and apply it: an answer,\n"
   "'don't know', a fix outcome, 'back' (undo) or more description go to the\n"
   "session; 'why', 'how' and 'unclear' change nothing and are the caller's\n"
   "to show. Returns the Input. Raises NotFound for 'back' with nothing to\n"
   "take back."},
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
   "Withdraw the most recent answer or fix report ('go back'). Raises NotFound\n"
   "when there is none."},
  {"fix_result", KWFUNC(Session_fix_result), METH_VARARGS | METH_KEYWORDS,
   "fix_result($self, /, fix, outcome)\n--\n\n"
   "Report what happened with fix `fix`: outcome 'worked' (tshoot.WORKED)\n"
   "concludes the session on its cause; 'did_not_work' is evidence against\n"
   "its cause, and fixes that do the same are not proposed after it;\n"
   "'could_not_try' (no rights, no time) and 'skipped' are no evidence, and\n"
   "the fix is not proposed again. True and False (and the old keyword\n"
   "worked=) mean 'worked' and 'did_not_work'; anything else raises\n"
   "ValueError. Reporting again replaces the outcome."},
  {"fixes", Session_fixes, METH_NOARGS,
   "fixes($self, /)\n--\n\n"
   "The fixes reported so far, in the order first reported (a list of\n"
   "FixReport with the outcome and the fix's title)."},
  {"add_text", Session_add_text, METH_O,
   "add_text($self, text, /)\n--\n\n"
   "Add more of the person's words (a free-text reply) to the description:\n"
   "evidence as in describe(), without forgetting what was said before."},
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
   "'don't know'; prompt and label are the question and the answer for\n"
   "people; source 'user', 'probe' or 'text')."},
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
   "    while not isinstance(step, (tshoot.Conclude, tshoot.Inconclusive)):\n"
   "        if isinstance(step, tshoot.Ask): s.answer(step.question, value)\n"
   "        else: s.fix_result(step.fix, outcome)   # 'worked', 'did_not_work', ...\n"
   "        step = s.next()\n\n"
   "or hands the person's replies to s.input(text), which reads them.\n\n"
   "conclude_at: conclude when a cause is this likely, in (0, 1] (0: 0.9);\n"
   "noise: the chance that one answer is wrong, in [0, 0.5) (0: 0.01); the\n"
   "library checks both (InvalidArgument); fixes=False: never propose a\n"
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

PyType_Spec Session_spec = {
  "tshoot.Session", sizeof(SessionObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
  Session_slots,
};

