/*
** _tshoot.h: what the files of the CPython extension behind the `tshoot`
** package share (the extension's private header; nothing outside
** bindings/python/tshoot includes it).
**
** The extension binds the public C API (tshoot.h) and nothing else. Written
** against Python's limited API (the stable ABI, Py_LIMITED_API = 3.10), so one
** build, _tshoot.abi3.so, loads in every CPython >= 3.10.
**
** Files, one job each:
**   convert.c     errors (raise_rc) and the argument converters
**   records.c     the record types (Result, Ask, ...): one generic implementation
**   to_records.c  libtshoot structs to records
**   kb.c          the KB type
**   host.c        the Host and SimHost types and the Python callbacks
**   script.c      script limits, Run records and tshoot.run_script
**   session.c     the Session type
**   module.c      tshoot.compile, the module's functions and PyInit__tshoot
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
**             at a time, with its own lock.
**   records   Result, Ask, Fix, Conclude, CauseRank, Answer, Explanation, ...:
**             small immutable value objects, one generic C implementation
**             (recdef) with readable reprs, equality, pickling and pattern
**             matching (__match_args__).
**   errors    the exception classes and the Results list live in _base.py;
**             every failing C call raises the class of its TSHOOT_E* code with
**             the message, file, line and column of tshoot_error_last().
**
** LOCK ORDER: the session lock, then the host lock. A Session and a Host
** each have a lock (PyThread_type_lock, waited for without the GIL, with the
** owner thread remembered under the GIL). A session call takes its session's
** lock and then the lock of the session's host (sess_enter in session.c takes
** both, sess_leave gives both back); a call on a Host alone (Host.journal,
** SimHost.save, run_script with a host) takes only the host lock. No code here
** takes a session lock while it holds a host lock. The one way to try is a
** host method (it runs inside a script, with the host lock held) that calls
** its own session or host: sess_enter or pyhost_enter refuses it with
** RuntimeError, because the lock's owner is this thread. (While another
** thread holds that session and waits for the host, such a call would wait
** for ever: host methods must not use the sessions of their host.) The KB has
** no lock: it counts its users (pykb_enter, pykb_leave) under the GIL.
**
** The GIL is released around every call into libtshoot that can take time
** (opening a KB, searching, reading articles and tests, compiling, creating,
** describing, stepping, reading replies, answering, explaining, saving and
** loading sessions, running scripts and fixes).
**
** Module state lives in static variables (single-phase init): the module
** does not support sub-interpreters.
**
** Only PyInit__tshoot is exported: meson builds the files with hidden
** visibility, so the names declared here stay inside _tshoot.abi3.so. A
** package built by pip links libtshoot.a into the same module, so these names
** must not be any of libtshoot's internal ones (kb_*, host_*, session_*,
** ts_*, ...): that is why the KB and host locks are pykb_* and pyhost_*.
*/
#ifndef TSHOOT_PY_TSHOOT_H
#define TSHOOT_PY_TSHOOT_H

#define Py_LIMITED_API 0x030A0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stddef.h>
#include <string.h>

#include "tshoot.h"

/* Method tables want PyCFunction; keyword functions have another type. */
#define KWFUNC(f) ((PyCFunction)(void (*)(void))(f))

#define NFIELDS(a) ((int)(sizeof(a) / sizeof((a)[0])))

PyMODINIT_FUNC PyInit__tshoot(void);

/* ======================================================================
** Module-wide references (module.c; set once by PyInit__tshoot)
*/
extern PyObject *g_error_class;   /* _base._error_class(code) -> class */
extern PyObject *g_results_type;  /* _base.Results */
extern PyObject *g_find_default_kb; /* _base._find_default_kb(True) -> str, or raises */
extern PyObject *g_json_dumps;    /* json.dumps */
extern PyTypeObject *KB_Type;
extern PyTypeObject *Session_Type;
extern PyTypeObject *Host_Type;
extern PyTypeObject *SimHost_Type;

/* The specs PyInit__tshoot makes the types from. */
extern PyType_Spec KB_spec;        /* kb.c */
extern PyType_Spec Host_spec;      /* host.c */
extern PyType_Spec SimHost_spec;   /* host.c */
extern PyType_Spec Session_spec;   /* session.c */

/* ======================================================================
** Errors and argument converters (convert.c)
*/

/* Raise the tshoot.Error subclass for `code` with `message` and a place.
** Returns NULL. */
PyObject *raise_error(int code, const char *message, const char *file, int line,
                      int column);

/* Raise for a libtshoot status `rc` that was just returned on this thread.
** Returns NULL. */
PyObject *raise_rc(int rc);

/* Take the pending exception (a new reference, or NULL) / raise it again. */
PyObject *exc_save(void);
void exc_restore(PyObject *value);

/* A str or bytes argument as UTF-8 bytes. Borrowed from `o`. */
int text_arg(PyObject *o, const char **p, Py_ssize_t *len, const char *what);

/* A str argument (an id) as UTF-8 without NUL bytes; NULL for None when
** `none_ok`. */
int id_arg(PyObject *o, const char **p, const char *what, int none_ok);

/* ======================================================================
** Converting C values. Each helper returns a new reference, or NULL with an
** exception set; each returns NULL at once when an exception is already
** pending, so that a record can be filled by a row of calls and checked once.
*/
static inline PyObject *S(const char *s)
{
  if (PyErr_Occurred()) return NULL;
  return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static inline PyObject *SN(const char *s)   /* NULL -> None */
{
  if (PyErr_Occurred()) return NULL;
  if (!s) Py_RETURN_NONE;
  return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static inline PyObject *F(double v)
{
  if (PyErr_Occurred()) return NULL;
  return PyFloat_FromDouble(v);
}

static inline PyObject *I(long long v)
{
  if (PyErr_Occurred()) return NULL;
  return PyLong_FromLongLong(v);
}

static inline PyObject *B(int v)
{
  if (PyErr_Occurred()) return NULL;
  return PyBool_FromLong(v);
}

static inline PyObject *STRS(const char *const *v, size_t n)   /* tuple of str */
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

/* ======================================================================
** Records: small immutable value types, all made by one implementation
** (records.c). A record is PyObject_HEAD, its definition, then one PyObject*
** per field.
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

extern recdef rec_result, rec_info, rec_symptom, rec_fixinfo, rec_causeinfo, rec_article,
    rec_testcase, rec_step, rec_ask, rec_fix, rec_conclude, rec_inconclusive, rec_causerank, rec_answer,
    rec_fixreport, rec_input,
    rec_evidence, rec_explanation, rec_diagnostic, rec_stats, rec_limits, rec_change,
    rec_run, rec_probe;

/* A record of type `d` from `vals` (d->nfields new references, stolen, even on
** failure; a NULL among them means a conversion failed). */
PyObject *rec_make(const recdef *d, PyObject **vals);

/* Make every record type and add it to `module`. */
int rec_make_types(PyObject *module);

/* ======================================================================
** libtshoot structs to records (to_records.c). New references, or NULL with
** an exception set.
*/
PyObject *result_to_py(const tshoot_result *r);
PyObject *article_to_py(const tshoot_article *a);
PyObject *testcase_to_py(const tshoot_test_case *t);
PyObject *step_to_py(const tshoot_step *st);
PyObject *causerank_to_py(const tshoot_cause_rank *c);
PyObject *causeranks_to_tuple(const tshoot_cause_rank *c, size_t n);
PyObject *explanation_to_py(const tshoot_explanation *e);

/* A fix outcome as its str ('worked', 'did_not_work', 'could_not_try',
** 'skipped'). Never NULL. */
const char *outcome_name(tshoot_fix_outcome o);

/* ======================================================================
** KB (kb.c)
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
int pykb_enter(KBObject *k);

/* The call is over (GIL held); the last user closes a KB that close() marked. */
void pykb_leave(KBObject *k);

/* __enter__ of KB and Session: returns the object itself. */
PyObject *KB_enter(PyObject *o, PyObject *unused);

/* ======================================================================
** Hosts (host.c)
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

/* Take the host's lock for this thread (waiting without the GIL) / give it
** back. See LOCK ORDER above. */
int pyhost_enter(HostObject *h);
void pyhost_leave(HostObject *h);

/* `o` as a Host: itself, or a new Host of it. New reference. */
HostObject *as_host(PyObject *o);

/* A tuple of Change records. */
PyObject *changes_to_tuple(const tshoot_change *c, size_t n);

/* ======================================================================
** Scripts (script.c)
*/

/* Script limits from None, a Limits or a dict. */
int limits_arg(PyObject *o, tshoot_limits *out);

/* A Run record. */
PyObject *run_to_py(const tshoot_run *r);

/* tshoot.run_script() */
PyObject *mod_run_script(PyObject *m, PyObject *args, PyObject *kw);

/* ======================================================================
** Session (session.c)
*/

/* A new Session of `type` on the KB `kb` (KB.session() and Session()). */
PyObject *Session_create(PyTypeObject *type, PyObject *kb, PyObject *args, PyObject *kw);

#endif
