/*
** kb.c: the KB type: a compiled knowledge base opened read-only, shared by
** any number of threads (its calls count their users; see pykb_enter).
*/
#include "_tshoot.h"

#include <sys/stat.h>

/* ======================================================================
** KB
*/
/* Count a call that is about to use k->kb without the GIL (GIL held). */
int pykb_enter(KBObject *k)
{
  if (!k->kb || k->closing) {
    raise_error(TSHOOT_EINVALID, "the KB is closed", NULL, 0, 0);
    return -1;
  }
  k->users++;
  return 0;
}

/* The call is over (GIL held); the last user closes a KB that close() marked. */
void pykb_leave(KBObject *k)
{
  if (--k->users == 0 && k->closing) {
    tshoot_kb_close(k->kb);
    k->kb = NULL;
  }
}

/* The trust= argument (docs/signing.md): each item a public key's text (a
** str that starts with the key tag), a .pub file, or a trust folder. Fills
** the options' lists; what it allocates goes into `keep` (freed by the caller
** with free_trust). 0, or -1 with an exception set. */
#define PUB_TAG "tshoot-ed25519-public-1"
typedef struct trust_arg {
  char **keys;        /* malloc'd texts */
  char **revoked;     /* malloc'd texts of *.revoked files */
  size_t n_revoked;
  PyObject *dirs_b;   /* a list of bytes objects: the folders */
  const char **dirs;
  size_t n_keys, n_dirs;
} trust_arg;

static void free_trust(trust_arg *t)
{
  size_t i;
  for (i = 0; i < t->n_keys; i++) PyMem_Free(t->keys[i]);
  for (i = 0; i < t->n_revoked; i++) PyMem_Free(t->revoked[i]);
  PyMem_Free(t->keys);
  PyMem_Free(t->revoked);
  PyMem_Free(t->dirs);
  Py_XDECREF(t->dirs_b);
}

static char *read_key_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  size_t n;
  if (!f) {
    PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
    return NULL;
  }
  buf = PyMem_Malloc(4097);
  if (!buf) { fclose(f); PyErr_NoMemory(); return NULL; }
  n = fread(buf, 1, 4097, f);
  fclose(f);
  if (n > 4096) {
    PyMem_Free(buf);
    raise_error(TSHOOT_EINVALID, "trust: this file is too large for a public key", path, 0, 0);
    return NULL;
  }
  buf[n] = '\0';
  return buf;
}

static int parse_trust(trust_arg *t, PyObject *trust)
{
  PyObject *seq, *item;
  Py_ssize_t i, n;
  memset(t, 0, sizeof *t);
  if (trust == Py_None) return 0;
  if (PyUnicode_Check(trust) || PyBytes_Check(trust)) {
    PyErr_SetString(PyExc_TypeError, "trust must be a list of public keys, .pub files or folders, not one string");
    return -1;
  }
  seq = PySequence_List(trust);
  if (!seq) return -1;
  n = PyList_Size(seq);
  t->keys = PyMem_Calloc((size_t)n + 1, sizeof *t->keys);
  t->revoked = PyMem_Calloc((size_t)n + 1, sizeof *t->revoked);
  t->dirs = PyMem_Calloc((size_t)n + 1, sizeof *t->dirs);
  t->dirs_b = PyList_New(0);
  if (!t->keys || !t->revoked || !t->dirs || !t->dirs_b) { Py_DECREF(seq); PyErr_NoMemory(); return -1; }
  for (i = 0; i < n; i++) {
    PyObject *fs = NULL;
    struct stat st;
    const char *p;
    item = PyList_GetItem(seq, i);   /* borrowed */
    if (PyUnicode_Check(item)) {
      const char *u = PyUnicode_AsUTF8AndSize(item, NULL);
      if (!u) goto fail;
      if (strncmp(u, PUB_TAG, sizeof PUB_TAG - 1) == 0 || strstr(u, "\n" PUB_TAG)) {
        size_t len = strlen(u);
        char *k = PyMem_Malloc(len + 1);
        if (!k) { PyErr_NoMemory(); goto fail; }
        memcpy(k, u, len + 1);
        t->keys[t->n_keys++] = k;
        continue;
      }
    }
    if (!PyUnicode_FSConverter(item, &fs)) goto fail;
    p = PyBytes_AsString(fs);
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
      if (PyList_Append(t->dirs_b, fs) < 0) { Py_DECREF(fs); goto fail; }
      t->dirs[t->n_dirs++] = p;   /* kept alive by dirs_b */
    } else {
      size_t pl = strlen(p);
      char *k = read_key_file(p);
      if (!k) { Py_DECREF(fs); goto fail; }
      if (pl > 8 && strcmp(p + pl - 8, ".revoked") == 0) t->revoked[t->n_revoked++] = k;  /* as in a folder */
      else t->keys[t->n_keys++] = k;
    }
    Py_DECREF(fs);
  }
  Py_DECREF(seq);
  return 0;
fail:
  Py_DECREF(seq);
  return -1;
}

static PyObject *KB_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = {"path", "query_budget_ms", "cache_kib", "trust", "default_trust",
                           "require_signature", "allow_unsigned_scripts", NULL};
  PyObject *path = Py_None, *fspath = NULL, *pathstr = NULL, *trust = Py_None;
  int budget = 0, default_trust = 1, require = 0, allow = 0;
  Py_ssize_t cache = 0;
  KBObject *self = NULL;
  tshoot_kb_options opts = TSHOOT_KB_OPTIONS_INIT;
  tshoot_kb *kb = NULL;
  trust_arg ta;
  const char *p;
  int rc;

  if (!PyArg_ParseTupleAndKeywords(args, kw, "|O$inOppp:KB", kwlist, &path, &budget, &cache, &trust,
                                   &default_trust, &require, &allow))
    return NULL;
  if (budget < 0 || cache < 0) {
    PyErr_SetString(PyExc_ValueError, "query_budget_ms and cache_kib must be >= 0");
    return NULL;
  }
  if (parse_trust(&ta, trust) < 0) {
    free_trust(&ta);
    return NULL;
  }
  opts.query_budget_ms = budget;
  opts.cache_kib = (size_t)cache;
  opts.trusted_keys = (const char *const *)ta.keys;
  opts.n_trusted_keys = ta.n_keys;
  opts.trust_dirs = ta.dirs;
  opts.n_trust_dirs = ta.n_dirs;
  opts.revoked_keys = (const char *const *)ta.revoked;
  opts.n_revoked_keys = ta.n_revoked;
  opts.trust_flags = (default_trust ? 0 : TSHOOT_KB_NO_DEFAULT_TRUST) |
                     (require ? TSHOOT_KB_REQUIRE_SIGNATURE : 0) |
                     (allow ? TSHOOT_KB_ALLOW_UNSIGNED_SCRIPTS : 0);
  if (path == Py_None) {
    path = PyObject_CallFunction(g_find_default_kb, "O", Py_True);   /* or raises NotFound */
    if (!path) { free_trust(&ta); return NULL; }
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
  free_trust(&ta);
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

PyObject *KB_enter(PyObject *o, PyObject *unused)
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

static const char *trust_status_name(tshoot_trust_status st)
{
  switch (st) {
  case TSHOOT_TRUST_SIGNED: return "signed";
  case TSHOOT_TRUST_UNSIGNED: return "unsigned";
  case TSHOOT_TRUST_UNKNOWN_SIGNER: return "unknown signer";
  case TSHOOT_TRUST_BAD_SIGNATURE: return "bad signature";
  case TSHOOT_TRUST_REVOKED: return "revoked";
  }
  return "?";
}

static PyObject *KB_get_signer(PyObject *o, void *unused)
{
  KBObject *self = (KBObject *)o;
  const tshoot_kb_trust *t;
  PyObject *r;
  if (pykb_enter(self) < 0) return NULL;
  t = tshoot_kb_trust_get(self->kb);
  r = t && t->signer ? PyUnicode_FromString(t->signer->name) : Py_NewRef(Py_None);
  pykb_leave(self);
  return r;
}

static PyObject *KB_get_trust(PyObject *o, void *unused)
{
  KBObject *self = (KBObject *)o;
  const tshoot_kb_trust *t;
  PyObject *sigs = NULL, *r = NULL;
  size_t i;
  if (pykb_enter(self) < 0) return NULL;
  t = tshoot_kb_trust_get(self->kb);
  if (!t) { pykb_leave(self); Py_RETURN_NONE; }
  sigs = PyList_New(0);
  for (i = 0; sigs && i < t->n_signatures; i++) {
    const tshoot_signer *s = &t->signatures[i];
    PyObject *d = Py_BuildValue("{s:s, s:s, s:O, s:O, s:O}", "name", s->name, "key", s->key,
                                "trusted", s->trusted ? Py_True : Py_False,
                                "revoked", s->revoked ? Py_True : Py_False,
                                "verified", s->verified < 0 ? Py_None : s->verified ? Py_True : Py_False);
    if (!d || PyList_Append(sigs, d) < 0) { Py_XDECREF(d); Py_CLEAR(sigs); break; }
    Py_DECREF(d);
  }
  if (sigs)
    r = Py_BuildValue("{s:s, s:O, s:s, s:z, s:N}", "status", trust_status_name(t->status),
                      "scripts_allowed", t->scripts_allowed ? Py_True : Py_False, "reason", t->reason,
                      "signer", t->signer ? t->signer->name : NULL, "signatures", sigs);
  pykb_leave(self);
  return r;
}

static PyObject *KB_get_info(PyObject *o, void *unused)
{
  KBObject *self = (KBObject *)o;
  tshoot_kb_info info;
  int rc;
  if (pykb_enter(self) < 0) return NULL;
  rc = tshoot_kb_info_get(&info, self->kb);
  if (rc != TSHOOT_OK) {
    pykb_leave(self);
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
    pykb_leave(self);
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

  if (pykb_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_search(&res, self->kb, p, (size_t)len, &opts);
  Py_END_ALLOW_THREADS
  pykb_leave(self);
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
  out = PyObject_CallFunction(g_results_type, "(ONNNN)", list,
                              SN(tshoot_results_suggestion(res)),
                              SN(tshoot_results_query(res)),
                              B(tshoot_results_truncated(res)),
                              S(tshoot_results_text(res)));
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
  if (pykb_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_article_load(&a, self->kb, id);
  Py_END_ALLOW_THREADS
  pykb_leave(self);
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

  if (pykb_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_kb_tests(&t, self->kb);
  Py_END_ALLOW_THREADS
  pykb_leave(self);
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
  if (pykb_enter(self) < 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  rc = tshoot_kb_script(&body, &len, self->kb, name);
  Py_END_ALLOW_THREADS
  pykb_leave(self);
  if (rc != TSHOOT_OK) return raise_rc(rc);
  r = PyUnicode_DecodeUTF8(body, (Py_ssize_t)len, "replace");
  tshoot_free(body);
  return r;
}

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
  {"signer", KB_get_signer, NULL,
   "The name of the trusted key whose signature verified (its scripts run), or\n"
   "None when no trusted key signed the KB (docs/signing.md).", NULL},
  {"trust", KB_get_trust, NULL,
   "What the KB's signatures mean here: a dict {status: 'signed' | 'unsigned' |\n"
   "'unknown signer' | 'bad signature' | 'revoked', scripts_allowed, reason,\n"
   "signer, signatures: [{name, key, trusted, revoked, verified}]}.", NULL},
  {NULL, NULL, NULL, NULL, NULL}
};

static PyMemberDef KB_members[] = {
  {"__weaklistoffset__", T_PYSSIZET, offsetof(KBObject, weakrefs), READONLY, NULL},
  {NULL, 0, 0, 0, NULL}
};

static PyType_Slot KB_slots[] = {
  {Py_tp_doc, (void *)
   "KB(path=None, *, query_budget_ms=0, cache_kib=0, trust=None, default_trust=True,\n"
   "   require_signature=False, allow_unsigned_scripts=False)\n--\n\n"
   "A compiled knowledge base, opened read-only.\n\n"
   "path: the KB file (str or os.PathLike); None opens tshoot.default_kb():\n"
   "$TSHOOT_KB, else the KB of the build this module comes from, else the\n"
   "installed one. query_budget_ms: time budget of one search (0: 250 ms);\n"
   "cache_kib: SQLite page cache per connection (0: 8192 KiB).\n\n"
   "Scripts (probes, fixes) run only from a KB signed by a trusted key\n"
   "(docs/signing.md): trust lists public keys (a key's text, a .pub file, or\n"
   "a folder of them; *.revoked files, there or listed, revoke), besides the machine's\n"
   "trust folder and $TSHOOT_TRUST unless default_trust is False.\n"
   "require_signature: refuse to open a KB no trusted key signed (Untrusted);\n"
   "allow_unsigned_scripts: developers, run an untrusted KB's scripts.\n"
   "kb.signer and kb.trust say what was found.\n\n"
   "A KB is immutable and may be shared by any number of threads and\n"
   "sessions. Use it as a context manager, or call close(); sessions keep\n"
   "the KB they were made from alive.\n\n"
   "Raises NotFound, Corrupt (not a tshoot KB, damaged) or VersionMismatch\n"
   "(another format version: recompile it), InvalidArgument (a trusted key\n"
   "that is not one), Untrusted (require_signature)."},
  {Py_tp_new, (void *)KB_new},
  {Py_tp_dealloc, (void *)KB_dealloc},
  {Py_tp_repr, (void *)KB_repr},
  {Py_tp_methods, KB_methods},
  {Py_tp_getset, KB_getset},
  {Py_tp_members, KB_members},
  {0, NULL},
};

PyType_Spec KB_spec = {
  "tshoot.KB", sizeof(KBObject), 0, Py_TPFLAGS_DEFAULT, KB_slots,
};

