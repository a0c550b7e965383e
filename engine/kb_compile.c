/*
** kb_compile.c: tshoot_compile(), the whole compile from sources to KB file.
**
**   collect   folders are walked for *.xml, the list is sorted by path
**   read      each file is read (size-capped), digested, parsed safely and
**             validated against the schema (kb_xml.c), then walked into the
**             model (kb_read.c)
**   check     the semantic checks over the whole KB (kb_check.c)
**   write     into a temporary file next to the output (kb_write.c), which is
**             fsynced, renamed over the output, and the folder fsynced
**
** Any error stops before the write, so the previous KB stays untouched; so
** does a failure or cancellation during the write (the temporary file is
** removed). A process killed during the write leaves only a stray
** ".NAME.tmp-XXXXXX" next to the output.
*/
#include "kb_model.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX_FILE_SIZE (16u * 1024 * 1024)
#define MAX_WALK_DEPTH 32

void model_free(kb_model *m)
{
  size_t i;
  for (i = 0; i < m->n_sources; i++) {
    kbxml_source_free(&m->sources[i].xs);
    ts_free(m->sources[i].path);
  }
  for (i = 0; i < m->n_scripts; i++) ts_free(m->scripts[i].body);
  ts_free(m->sources);
  ts_free(m->questions);
  ts_free(m->facts);
  ts_free(m->articles);
  ts_free(m->causes);
  ts_free(m->tests);
  ts_free(m->synonyms);
  ts_free(m->scripts);
  ts_arena_free(&m->ar);
}

/* ===== collecting source files ===== */

typedef struct pathlist { char **p; size_t n, cap; } pathlist;

static int pathlist_add(pathlist *l, const char *path)
{
  if (ts_grow((void **)&l->p, &l->cap, l->n + 1, sizeof *l->p) < 0) return ts_error_oom();
  l->p[l->n] = ts_strdup(path);
  if (!l->p[l->n]) return ts_error_oom();
  l->n++;
  return TSHOOT_OK;
}

static int cmp_path(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int walk_dir(pathlist *l, const char *dir, int depth)
{
  DIR *d;
  struct dirent *e;
  int rc = TSHOOT_OK;
  if (depth > MAX_WALK_DEPTH)
    return ts_error_at(TSHOOT_ELIMIT, dir, 0, 0, "folders nested deeper than %d", MAX_WALK_DEPTH);
  d = opendir(dir);
  if (!d) return ts_error_at(TSHOOT_EIO, dir, 0, 0, "cannot read folder: %s", strerror(errno));
  while (rc == TSHOOT_OK && (e = readdir(d)) != NULL) {
    ts_buf path = TS_BUF_INIT;
    struct stat st;
    if (e->d_name[0] == '.') continue;   /* ., .., hidden files and editors' temp files */
    ts_buf_addf(&path, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", e->d_name);
    if (!path.p) { rc = ts_error_oom(); break; }
    if (stat(path.p, &st) == 0) {
      if (S_ISDIR(st.st_mode)) rc = walk_dir(l, path.p, depth + 1);
      else if (S_ISREG(st.st_mode) && ends_with(e->d_name, ".xml")) rc = pathlist_add(l, path.p);
    }
    ts_buf_free(&path);
  }
  closedir(d);
  return rc;
}

static int collect(pathlist *l, const char *const *sources, size_t n)
{
  size_t i, first, j, k;
  int rc;
  for (i = 0; i < n; i++) {
    struct stat st;
    const char *s = sources[i];
    if (!s) continue;
    while (s[0] == '.' && s[1] == '/' && s[2]) s += 2;
    if (stat(s, &st) < 0)
      return ts_error_at(TSHOOT_ENOTFOUND, s, 0, 0, "no such file or folder");
    first = l->n;
    if (S_ISDIR(st.st_mode)) {
      if ((rc = walk_dir(l, s, 0)) != TSHOOT_OK) return rc;
      if (l->n == first)
        return ts_error_at(TSHOOT_ENOTFOUND, s, 0, 0, "this folder holds no .xml files");
      qsort(l->p + first, l->n - first, sizeof *l->p, cmp_path);
    } else if ((rc = pathlist_add(l, s)) != TSHOOT_OK) {
      return rc;
    }
  }
  /* a file named twice (directly and through its folder) is read once */
  for (i = 0, k = 0; i < l->n; i++) {
    for (j = 0; j < k; j++) if (strcmp(l->p[j], l->p[i]) == 0) break;
    if (j < k) ts_free(l->p[i]);
    else l->p[k++] = l->p[i];
  }
  l->n = k;
  return TSHOOT_OK;
}

/* ===== durable replace ===== */

static int fsync_path(const char *path, int is_dir)
{
  int fd = open(path, (is_dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  int rc = 0;
  if (fd < 0) return -1;
  if (fsync(fd) < 0 && !(is_dir && (errno == EINVAL || errno == EBADF))) rc = -1;
  close(fd);
  return rc;
}

static char *dir_of(const char *path)
{
  const char *slash = strrchr(path, '/');
  if (!slash) return ts_strdup(".");
  if (slash == path) return ts_strdup("/");
  return ts_strndup(path, (size_t)(slash - path));
}

/* ===== tshoot_compile ===== */

static int read_one(kb_model *m, const char *path, size_t max_size)
{
  m_source *s;
  char *buf = NULL;
  size_t len = 0;
  int rc;

  if (ts_grow((void **)&m->sources, &m->cap_sources, m->n_sources + 1, sizeof *m->sources) < 0)
    return ts_error_oom();
  s = &m->sources[m->n_sources];
  memset(s, 0, sizeof *s);
  s->path = ts_strdup(path);
  if (!s->path) return ts_error_oom();
  m->n_sources++;
  rc = ts_read_file(&buf, &len, path, max_size);
  if (rc == TSHOOT_ELIMIT) {
    diag_report(m->diag, TSHOOT_ERRSEV, path, 0, 0, "TSH-E031",
                "%s; split it into several files", tshoot_error_last()->message);
    return TSHOOT_OK;
  }
  if (rc != TSHOOT_OK) {
    diag_report(m->diag, TSHOOT_ERRSEV, path, 0, 0, "TSH-E032", "%s", tshoot_error_last()->message);
    return rc == TSHOOT_ENOMEM ? rc : TSHOOT_OK;
  }
  ts_sha256_hex(buf, len, s->sha256);
  s->size = len;
  rc = kbxml_parse(&s->xs, s->path, buf, len, m->diag);
  if (rc == TSHOOT_ENOMEM) return rc;
  if (rc != TSHOOT_OK || !s->xs.doc) {
    m->schema_failed = 1;
    return TSHOOT_OK;
  }
  if (kbxml_validate(&s->xs, m->diag) != 0) {
    m->schema_failed = 1;
    return TSHOOT_OK;
  }
  s->schema_ok = 1;
  return kb_read_source(m, m->n_sources - 1);
}

TSHOOT_API int tshoot_compile(tshoot_compile_stats *stats, const char *const *sources,
                              size_t n_sources, const char *out_path,
                              const tshoot_compile_options *opts)
{
  tshoot_compile_options o = TSHOOT_COMPILE_OPTIONS_INIT;
  kb_model m;
  diag_sink diag;
  pathlist files = { NULL, 0, 0 };
  char *tmp = NULL, *dir = NULL;
  size_t i;
  int rc = TSHOOT_OK, fd;

  memset(&m, 0, sizeof m);
  memset(&diag, 0, sizeof diag);
  if (stats) memset(stats, 0, sizeof *stats);
  if (opts) {
    if (opts->version < 1 || opts->version > TSHOOT_COMPILE_OPTIONS_VERSION)
      return ts_error(TSHOOT_EINVALID, "tshoot_compile: unknown options version %u", opts->version);
    o = *opts;
  }
  if (!sources || n_sources == 0)
    return ts_error(TSHOOT_EINVALID, "tshoot_compile: no sources given");
  if (!o.max_file_size) o.max_file_size = DEFAULT_MAX_FILE_SIZE;
  diag.cb = o.on_diagnostic;
  diag.payload = o.diagnostic_payload;
  diag.warnings_are_errors = o.warnings_are_errors;
  m.diag = &diag;
  m.script_dirs = o.script_dirs;
  m.n_script_dirs = o.n_script_dirs;
  xmlInitParser();

  if ((rc = collect(&files, sources, n_sources)) != TSHOOT_OK) goto done;
  for (i = 0; i < files.n; i++) {
    if (o.on_progress && o.on_progress("read", i, files.n, o.progress_payload) != 0) {
      rc = ts_error(TSHOOT_EUSER, "compile cancelled");
      goto done;
    }
    if ((rc = read_one(&m, files.p[i], o.max_file_size)) != TSHOOT_OK) goto done;
  }
  if (o.on_progress && o.on_progress("check", 0, 1, o.progress_payload) != 0) {
    rc = ts_error(TSHOOT_EUSER, "compile cancelled");
    goto done;
  }
  if ((rc = kb_check(&m)) != TSHOOT_OK) goto done;
  if (diag_failed(&diag)) {
    rc = ts_error(TSHOOT_ESOURCE, "%zu error%s, %zu warning%s in the KB sources%s", diag.errors,
                  diag.errors == 1 ? "" : "s", diag.warnings, diag.warnings == 1 ? "" : "s",
                  out_path ? "; the KB was not written" : "");
    goto done;
  }
  if (!out_path) goto done;

  /* a temporary file in the output's folder, so that rename() is atomic */
  dir = dir_of(out_path);
  {
    const char *base = strrchr(out_path, '/');
    ts_buf t = TS_BUF_INIT;
    base = base ? base + 1 : out_path;
    ts_buf_addf(&t, "%s/.%s.tmp-XXXXXX", dir ? dir : ".", base);
    tmp = ts_buf_detach(&t);
  }
  if (!dir || !tmp) { rc = ts_error_oom(); goto done; }
  fd = mkstemp(tmp);
  if (fd < 0) {
    rc = ts_error_at(TSHOOT_EIO, out_path, 0, 0, "cannot create a temporary file in %s: %s", dir,
                     strerror(errno));
    ts_free(tmp);
    tmp = NULL;
    goto done;
  }
  close(fd);
  rc = kb_write(&m, tmp, o.on_progress, o.progress_payload);
  if (rc == TSHOOT_OK && fsync_path(tmp, 0) < 0)
    rc = ts_error_at(TSHOOT_EIO, tmp, 0, 0, "cannot flush the new KB to disk: %s", strerror(errno));
  if (rc == TSHOOT_OK && chmod(tmp, 0644) < 0)
    rc = ts_error_at(TSHOOT_EIO, tmp, 0, 0, "cannot set permissions: %s", strerror(errno));
  if (rc == TSHOOT_OK && rename(tmp, out_path) < 0)
    rc = ts_error_at(TSHOOT_EIO, out_path, 0, 0, "cannot move the new KB into place: %s", strerror(errno));
  if (rc == TSHOOT_OK) {
    ts_free(tmp);
    tmp = NULL;
    if (fsync_path(dir, 1) < 0)
      rc = ts_error_at(TSHOOT_EIO, dir, 0, 0, "cannot flush the folder to disk: %s", strerror(errno));
  }

done:
  if (tmp) { unlink(tmp); ts_free(tmp); }
  ts_free(dir);
  if (stats) {
    stats->files = m.n_sources;
    stats->articles = m.n_articles;
    stats->questions = m.n_questions;
    stats->facts = m.n_facts;
    stats->causes = m.n_causes;
    for (i = 0; i < m.n_causes; i++) stats->fixes += m.causes[i].n_fixes;
    stats->tests = m.n_tests;
    stats->scripts = m.n_scripts;
    stats->errors = diag.errors;
    stats->warnings = diag.warnings;
  }
  for (i = 0; i < files.n; i++) ts_free(files.p[i]);
  ts_free(files.p);
  model_free(&m);
  return rc;
}
