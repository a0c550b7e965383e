/*
** convert.c: errors (the tshoot.Error subclasses, raised from libtshoot's status
** codes) and the converters of Python arguments to C values. (C values to
** Python: the inline helpers S, SN, F, I, B and STRS in _tshoot.h.)
*/
#include "_tshoot.h"

/* ======================================================================
** Errors
*/

PyObject *raise_error(int code, const char *message, const char *file, int line,
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
PyObject *raise_rc(int rc)
{
  const tshoot_error *e = tshoot_error_last();
  if (PyErr_Occurred()) return NULL;   /* a callback's exception wins */
  if (e->code == rc && e->message && *e->message)
    return raise_error(rc, e->message, e->file, e->line, e->column);
  return raise_error(rc, tshoot_strerror(rc), NULL, 0, 0);
}

/* Save and restore a pending exception (PyErr_Fetch/Restore: the 3.10 limited
** API has no PyErr_GetRaisedException). */
PyObject *exc_save(void)
{
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (value && tb) PyException_SetTraceback(value, tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  return value;
}

void exc_restore(PyObject *value)
{
  if (!value) return;
  PyErr_SetObject((PyObject *)Py_TYPE(value), value);
  Py_DECREF(value);
}

/* ======================================================================
** Arguments
*/

/* A str or bytes argument as UTF-8 bytes. Borrowed from `o`. */
int text_arg(PyObject *o, const char **p, Py_ssize_t *len, const char *what)
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
int id_arg(PyObject *o, const char **p, const char *what, int none_ok)
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

