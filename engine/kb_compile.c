/*
** kb_compile.c: tshoot_compile(), the whole compile from sources to KB file.
**
**   collect   folders are walked for *.xml, the list is sorted by path
**   read      each file is read (size-capped), digested, parsed safely and
**             validated against the schema (kb_xml.c), then walked into the
**             model (kb_read.c), even with schema errors (what depends on
**             a broken element is skipped); a file that is not well-formed
**             turns off the unknown-id checks for the run. While no error
**             was reported, each file's articles are then written into a
**             temporary file next to the output (kb_write_articles), their
**             index rows handed to the index threads, and their text
**             dropped from the model (kb_read_drop_text): the checks need
**             ids and places only, so a large KB is never all in memory
**   check     the semantic checks over the whole KB (kb_check.c)
**   write     the rest of the KB (kb_write_end); the temporary file is
**             fsynced, renamed over the output, and the folder fsynced
**
** Any error stops before the write, so the previous KB stays untouched; so
** does a failure or cancellation during the write (the temporary file is
** removed). A process killed during the write leaves a stray temporary file
** ".NAME.tmp-PID-XXXXXX" next to the output; the next compile of that output
** removes it (see clean_stale_temps).
*/
#include "kb.h"
#include "kb_model.h"

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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
  ts_arena_free(&m->aar);
  ts_arena_free(&m->tar);
  ts_free(m->sources);
  ts_free(m->questions);
  ts_free(m->facts);
  ts_free(m->articles);
  ts_free(m->causes);
  ts_free(m->tests);
  ts_free(m->synonyms);
  ts_free(m->scripts);
  ts_free(m->maybe_ids);
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

/* A temporary file of an earlier compile of the same output is stale when
** the process that wrote it is gone (its pid, in the name, is not running
** here), or when it has not changed for STALE_TEMP_SECONDS: a compile writes
** its temporary file without pause, and a name without a pid (tshoot 0.1
** wrote ".NAME.tmp-XXXXXX") or with the pid of another machine that shares
** the folder can only be judged by its age. A compile running now keeps its
** file: its pid is alive and it is being written. */
#define STALE_TEMP_SECONDS (15 * 60)

static int temp_is_stale(const char *dir, const char *name, size_t prefix_len, time_t now)
{
  const char *rest = name + prefix_len;
  char *end;
  long pid;
  struct stat st;
  ts_buf path = TS_BUF_INIT;
  int stale = 0;

  ts_buf_addf(&path, "%s/%s", dir, name);
  if (path.oom || !path.p) { ts_buf_free(&path); return 0; }
  if (lstat(path.p, &st) == 0 && S_ISREG(st.st_mode)) {
    errno = 0;
    pid = strtol(rest, &end, 10);
    if (now - st.st_mtime > STALE_TEMP_SECONDS) stale = 1;
    else if (end != rest && *end == '-' && strlen(end + 1) == 6 && pid > 0 && errno == 0 &&
             pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
      stale = 1;
  }
  ts_buf_free(&path);
  return stale;
}

/* Remove the stale ".BASE.tmp-*" files in dir (best effort: a file that
** cannot be judged or removed stays). */
static void clean_stale_temps(const char *dir, const char *base)
{
  ts_buf prefix = TS_BUF_INIT;
  DIR *d;
  struct dirent *e;
  time_t now = time(NULL);

  ts_buf_addf(&prefix, ".%s.tmp-", base);
  if (prefix.oom || !prefix.p || !(d = opendir(dir))) { ts_buf_free(&prefix); return; }
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, prefix.p, prefix.len) != 0) continue;
    if (temp_is_stale(dir, e->d_name, prefix.len, now)) {
      ts_buf path = TS_BUF_INIT;
      ts_buf_addf(&path, "%s/%s", dir, e->d_name);
      if (!path.oom && path.p) unlink(path.p);
      ts_buf_free(&path);
    }
  }
  closedir(d);
  ts_buf_free(&prefix);
}

/* ===== reading sources, in parallel =====
** Files are independent until they are walked into the model, so reading,
** digesting, parsing and validating run on up to READ_THREADS_MAX threads,
** at most READ_AHEAD files ahead of the one this thread walks (so memory
** stays bounded), while this thread walks and writes the files read before.
** Each file's diagnostics are buffered and replayed in source order, and
** the files are walked into the model in order: output is the same as with
** one thread. */

#define READ_THREADS_MAX 4
/* A parsed tree is several times its file: 32 files of 300 KB at a time held
** 17 MB more at the peak (10k articles) than 8, for no gain in time. */
#define READ_AHEAD 8
#define READ_BATCH 8             /* files between two "read" progress calls */

typedef struct saved_diag {
  tshoot_severity sev;
  int line, column;
  char code[16];
  char *message;
} saved_diag;

typedef struct read_slot {
  const char *path;
  char sha256[65];
  size_t size;
  kbxml_source xs;
  int parsed;                    /* well-formed, and every schema error placed */
  int done;                      /* read (under read_job.mu) */
  int fatal;                     /* TSHOOT_ENOMEM while reading */
  saved_diag *diags;
  size_t n_diags, cap_diags;
} read_slot;

static void save_diag(const tshoot_diagnostic *d, void *payload)
{
  read_slot *slot = payload;
  saved_diag *sd;
  if (ts_grow((void **)&slot->diags, &slot->cap_diags, slot->n_diags + 1, sizeof *slot->diags) < 0) {
    slot->fatal = TSHOOT_ENOMEM;
    return;
  }
  sd = &slot->diags[slot->n_diags];
  sd->sev = d->severity;
  sd->line = d->line;
  sd->column = d->column;
  snprintf(sd->code, sizeof sd->code, "%s", d->code);
  sd->message = ts_strdup(d->message);
  if (!sd->message) { slot->fatal = TSHOOT_ENOMEM; return; }
  slot->n_diags++;
}

static void read_slot_run(read_slot *slot, size_t max_size)
{
  diag_sink local;
  char *buf = NULL;
  size_t len = 0;
  int rc;
  memset(&local, 0, sizeof local);
  local.cb = save_diag;
  local.payload = slot;
  rc = ts_read_file(&buf, &len, slot->path, max_size);
  if (rc == TSHOOT_ELIMIT) {
    diag_report(&local, TSHOOT_ERRSEV, slot->path, 0, 0, "TSH-E031", "%s; split it into several files",
                tshoot_error_last()->message);
    return;
  }
  if (rc != TSHOOT_OK) {
    if (rc == TSHOOT_ENOMEM) slot->fatal = rc;
    else diag_report(&local, TSHOOT_ERRSEV, slot->path, 0, 0, "TSH-E032", "%s", tshoot_error_last()->message);
    return;
  }
  ts_sha256_hex(buf, len, slot->sha256);
  slot->size = len;
  rc = kbxml_parse(&slot->xs, slot->path, buf, len, &local);
  if (rc == TSHOOT_ENOMEM) { slot->fatal = rc; return; }
  if (rc != TSHOOT_OK || !slot->xs.doc) return;
  /* a file with schema errors is still read (kb_read.c skips what depends on
  ** a broken element), so that one run reports every problem */
  if (kbxml_validate(&slot->xs, &local) < 0 || slot->xs.bad_unplaced) return;
  slot->parsed = 1;
}

typedef struct read_job {
  read_slot *slots;              /* one per file */
  size_t n;
  size_t max_size;
  pthread_mutex_t mu;
  pthread_cond_t ready;          /* a file was read */
  pthread_cond_t room;           /* a file was walked, or stop */
  size_t next;                   /* under mu: the next file to read */
  size_t walked;                 /* under mu: files [0, walked) are walked */
  int stop;                      /* under mu */
} read_job;

/* Under job->mu: read the next file if it is at most READ_AHEAD ahead of
** the one being walked (mu released meanwhile), and say it is read. 0 when
** there was none to read. */
static int read_one(read_job *job)
{
  size_t i;
  if (job->stop || job->next >= job->n || job->next >= job->walked + READ_AHEAD) return 0;
  i = job->next++;
  pthread_mutex_unlock(&job->mu);
  read_slot_run(&job->slots[i], job->max_size);
  pthread_mutex_lock(&job->mu);
  job->slots[i].done = 1;
  pthread_cond_broadcast(&job->ready);
  return 1;
}

/* Read files in order, at most READ_AHEAD ahead of the one being walked. */
static void *read_worker(void *arg)
{
  read_job *job = arg;
  pthread_mutex_lock(&job->mu);
  while (!job->stop && job->next < job->n)
    if (!read_one(job)) pthread_cond_wait(&job->room, &job->mu);
  pthread_mutex_unlock(&job->mu);
  return NULL;
}

static int read_threads(size_t n_files)
{
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int t = cpus > 0 ? (int)cpus : 1;
  if (t > READ_THREADS_MAX) t = READ_THREADS_MAX;
  if ((size_t)t > n_files) t = (int)n_files;
  return t < 1 ? 1 : t;
}

static void read_slot_free(read_slot *sl)
{
  size_t k;
  for (k = 0; k < sl->n_diags; k++) ts_free(sl->diags[k].message);
  ts_free(sl->diags);
  sl->diags = NULL;
  sl->n_diags = 0;
  kbxml_source_free(&sl->xs);
}

/* Walk a read file into the model (its diagnostics first), write its
** articles, and drop their text and the file's tree. */
static int walk_file(kb_model *m, read_slot *sl, kb_writer **wr, const tshoot_compile_options *o, size_t i,
                     size_t n)
{
  m_source *src;
  size_t k;
  int rc = TSHOOT_OK;
  if (sl->fatal) rc = ts_error_oom();
  for (k = 0; k < sl->n_diags && rc == TSHOOT_OK; k++)
    diag_report(m->diag, sl->diags[k].sev, sl->path, sl->diags[k].line, sl->diags[k].column,
                sl->diags[k].code, "%s", sl->diags[k].message);
  if (rc == TSHOOT_OK &&
      ts_grow((void **)&m->sources, &m->cap_sources, m->n_sources + 1, sizeof *m->sources) < 0)
    rc = ts_error_oom();
  if (rc != TSHOOT_OK) { read_slot_free(sl); return rc; }
  src = &m->sources[m->n_sources];
  memset(src, 0, sizeof *src);
  src->path = ts_strdup(sl->path);
  if (!src->path) { read_slot_free(sl); return ts_error_oom(); }
  memcpy(src->sha256, sl->sha256, sizeof src->sha256);
  src->size = sl->size;
  src->xs = sl->xs;
  memset(&sl->xs, 0, sizeof sl->xs);
  read_slot_free(sl);
  m->n_sources++;
  if (!sl->parsed) {
    m->schema_failed = 1;
  } else {
    size_t first_article = m->n_articles;
    src->schema_ok = src->xs.n_bad == 0;
    rc = kb_read_source(m, m->n_sources - 1);
    /* its articles go into the KB now (while the sources are without
    ** errors: else no KB is written), then their text is dropped */
    if (rc == TSHOOT_OK && *wr && !diag_failed(m->diag))
      rc = kb_write_articles(*wr, o->on_progress, o->progress_payload, i, n);
    kb_read_drop_text(m, first_article);
  }
  if (*wr && diag_failed(m->diag)) {      /* no KB: stop its threads now */
    kb_write_cancel(*wr);
    *wr = NULL;
  }
  /* the model holds every location the checks need: free the tree and the
  ** bytes now, so a large KB is never all in memory at once */
  kbxml_source_free(&src->xs);
  return rc;
}

/* Read every file into the model, in order: read on `threads` threads of
** their own (on this one if none starts), walked and written on this one. */
static int read_all(kb_model *m, char **files, size_t n, size_t max_size, int threads, kb_writer **wr,
                    const tshoot_compile_options *o)
{
  read_job job;
  pthread_t tid[READ_THREADS_MAX];
  int started = 0, t, rc = TSHOOT_OK;
  size_t i;

  memset(&job, 0, sizeof job);
  if (!(job.slots = ts_calloc(n ? n : 1, sizeof *job.slots))) return ts_error_oom();
  for (i = 0; i < n; i++) job.slots[i].path = files[i];
  job.n = n;
  job.max_size = max_size;
  pthread_mutex_init(&job.mu, NULL);
  pthread_cond_init(&job.ready, NULL);
  pthread_cond_init(&job.room, NULL);
  for (t = 0; t < threads; t++)
    if (pthread_create(&tid[started], NULL, read_worker, &job) == 0) started++;
  for (i = 0; i < n && rc == TSHOOT_OK; i++) {
    if (i % READ_BATCH == 0 && o->on_progress && o->on_progress("read", i, n, o->progress_payload) != 0) {
      rc = ts_error(TSHOOT_EUSER, "compile cancelled");
      break;
    }
    if (!started) {
      read_slot_run(&job.slots[i], max_size);
    } else {
      /* while file i is still being read, read the next one here rather
      ** than wait idle */
      pthread_mutex_lock(&job.mu);
      while (!job.slots[i].done)
        if (!read_one(&job)) pthread_cond_wait(&job.ready, &job.mu);
      pthread_mutex_unlock(&job.mu);
    }
    rc = walk_file(m, &job.slots[i], wr, o, i, n);
    pthread_mutex_lock(&job.mu);
    job.walked = i + 1;
    pthread_cond_broadcast(&job.room);
    pthread_mutex_unlock(&job.mu);
  }
  pthread_mutex_lock(&job.mu);
  job.stop = 1;
  pthread_cond_broadcast(&job.room);
  pthread_mutex_unlock(&job.mu);
  for (t = 0; t < started; t++) pthread_join(tid[t], NULL);
  for (; i < n; i++) read_slot_free(&job.slots[i]);   /* after a failure */
  pthread_cond_destroy(&job.room);
  pthread_cond_destroy(&job.ready);
  pthread_mutex_destroy(&job.mu);
  ts_free(job.slots);
  return rc;
}

/* ===== diagnostics in source order =====
** Checks find problems in their own order; authors read them file by file,
** line by line. All diagnostics are kept and delivered sorted at the end,
** each note staying right after the diagnostic it belongs to. */

typedef struct held_diag {
  tshoot_diagnostic d;
  size_t seq, parent;              /* parent: seq of the diagnostic a note follows */
  size_t key_file;                 /* the parent's place: file rank, line, column */
  int key_line, key_col;
  char *file, *code, *message;
} held_diag;

typedef struct diag_hold {
  held_diag *v;
  size_t n, cap;
  char **files;                    /* distinct file names in order of first report */
  size_t nfiles, capfiles;
  int oom;
} diag_hold;

static void hold_diag(const tshoot_diagnostic *d, void *payload)
{
  diag_hold *h = payload;
  held_diag *x;
  size_t f;
  if (h->oom) return;
  for (f = 0; f < h->nfiles; f++) if (strcmp(h->files[f], d->file) == 0) break;
  if (f == h->nfiles) {
    if (ts_grow((void **)&h->files, &h->capfiles, h->nfiles + 1, sizeof *h->files) < 0 ||
        !(h->files[h->nfiles] = ts_strdup(d->file))) { h->oom = 1; return; }
    h->nfiles++;
  }
  if (ts_grow((void **)&h->v, &h->cap, h->n + 1, sizeof *h->v) < 0) { h->oom = 1; return; }
  x = &h->v[h->n];
  x->d = *d;
  x->seq = h->n;
  if (d->severity == TSHOOT_NOTE && h->n > 0) {
    const held_diag *prev = &h->v[h->n - 1];
    x->parent = prev->parent;
    x->key_file = prev->key_file;
    x->key_line = prev->key_line;
    x->key_col = prev->key_col;
  } else {
    x->parent = h->n;
    x->key_file = f;
    x->key_line = d->line;
    x->key_col = d->column;
  }
  x->file = ts_strdup(d->file);
  x->code = ts_strdup(d->code);
  x->message = ts_strdup(d->message);
  if (!x->file || !x->code || !x->message) {
    ts_free(x->file); ts_free(x->code); ts_free(x->message);
    h->oom = 1;
    return;
  }
  h->n++;
}

static int cmp_held(const void *a, const void *b)
{
  const held_diag *x = a, *y = b;
  if (x->key_file != y->key_file) return x->key_file < y->key_file ? -1 : 1;
  if (x->key_line != y->key_line) return x->key_line < y->key_line ? -1 : 1;
  if (x->key_col != y->key_col) return x->key_col < y->key_col ? -1 : 1;
  if (x->parent != y->parent) return x->parent < y->parent ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Deliver the held diagnostics sorted, then free them. */
static void flush_diags(diag_hold *h, tshoot_diagnostic_cb cb, void *payload)
{
  size_t i;
  held_diag *copy = NULL;
  if (h->n && (copy = ts_malloc(h->n * sizeof *copy)) != NULL) {
    memcpy(copy, h->v, h->n * sizeof *copy);
    qsort(copy, h->n, sizeof *copy, cmp_held);
  }
  for (i = 0; i < h->n; i++) {
    held_diag *x = copy ? &copy[i] : &h->v[i];
    x->d.file = x->file;
    x->d.code = x->code;
    x->d.message = x->message;
    if (cb) cb(&x->d, payload);
  }
  for (i = 0; i < h->n; i++) {
    ts_free(h->v[i].file);
    ts_free(h->v[i].code);
    ts_free(h->v[i].message);
  }
  for (i = 0; i < h->nfiles; i++) ts_free(h->files[i]);
  ts_free(copy);
  ts_free(h->v);
  ts_free(h->files);
}

TSHOOT_API int tshoot_compile(tshoot_compile_stats *stats, const char *const *sources,
                              size_t n_sources, const char *out_path,
                              const tshoot_compile_options *opts)
{
  tshoot_compile_options o = TSHOOT_COMPILE_OPTIONS_INIT;
  kb_model m;
  diag_sink diag;
  pathlist files = { NULL, 0, 0 };
  diag_hold hold;
  char *tmp = NULL, *dir = NULL;
  kb_writer *wr = NULL;
  size_t i;
  int rc = TSHOOT_OK, fd, tmp_errno = 0;

  memset(&m, 0, sizeof m);
  memset(&diag, 0, sizeof diag);
  memset(&hold, 0, sizeof hold);
  if (stats) memset(stats, 0, sizeof *stats);
  TS_CHECK_OPTIONS(opts, TSHOOT_COMPILE_OPTIONS_VERSION);
  if (opts) o = *opts;
  if (!sources || n_sources == 0)
    return ts_error(TSHOOT_EINVALID, "tshoot_compile: no sources given");
  kb_sqlite_init();     /* before this compile's threads allocate through SQLite */
  if (!o.max_file_size) o.max_file_size = DEFAULT_MAX_FILE_SIZE;
  diag.cb = o.on_diagnostic ? hold_diag : NULL;
  diag.payload = &hold;
  diag.warnings_are_errors = o.warnings_are_errors;
  m.diag = &diag;
  m.script_dirs = o.script_dirs;
  m.n_script_dirs = o.n_script_dirs;
  xmlInitParser();

  if ((rc = collect(&files, sources, n_sources)) != TSHOOT_OK) goto done;

  /* the KB is written while the sources are read, into a temporary file in
  ** the output's folder, so that rename() is atomic, named with our pid, so
  ** that a later compile can tell when it is stale. One that cannot be made
  ** is reported once the sources are known to be good. */
  if (out_path) {
    const char *base = strrchr(out_path, '/');
    ts_buf t = TS_BUF_INIT;
    dir = dir_of(out_path);
    base = base ? base + 1 : out_path;
    ts_buf_addf(&t, "%s/.%s.tmp-%ld-XXXXXX", dir ? dir : ".", base, (long)getpid());
    tmp = ts_buf_detach(&t);
    if (dir) clean_stale_temps(dir, base);
    if (!dir || !tmp) { rc = ts_error_oom(); goto done; }
    fd = mkstemp(tmp);
    if (fd < 0) {
      tmp_errno = errno;
      ts_free(tmp);
      tmp = NULL;
    } else {
      close(fd);
      uint64_t bytes = 0;
      size_t f;
      struct stat sb;
      for (f = 0; f < files.n; f++)          /* the sources' size: article_fts's buffer */
        if (stat(files.p[f], &sb) == 0 && S_ISREG(sb.st_mode)) bytes += (uint64_t)sb.st_size;
      if ((rc = kb_write_begin(&wr, &m, tmp, bytes)) != TSHOOT_OK) goto done;
    }
  }
  {
    if ((rc = read_all(&m, files.p, files.n, o.max_file_size, read_threads(files.n), &wr, &o)) != TSHOOT_OK)
      goto done;
    if (o.on_progress && o.on_progress("read", files.n, files.n, o.progress_payload) != 0) {
      rc = ts_error(TSHOOT_EUSER, "compile cancelled");
      goto done;
    }
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
  if (!tmp) {
    rc = ts_error_at(TSHOOT_EIO, out_path, 0, 0, "cannot create a temporary file in %s: %s", dir,
                     strerror(tmp_errno));
    goto done;
  }
  if (!wr) { rc = ts_error(TSHOOT_EINVALID, "tshoot_compile: the KB writer stopped"); goto done; }
  /* what is left to write needs no article: the memory goes to the indexes */
  kb_read_drop_articles(&m);
#ifdef __GLIBC__
  /* freed here, the memory would stay with this thread's malloc arena, while
  ** the ranking tables are built on the index's thread: give it back */
  malloc_trim(0);
#endif
  rc = kb_write_end(wr, o.on_progress, o.progress_payload);
  wr = NULL;                                     /* kb_write_end freed it */
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
  kb_write_cancel(wr);                           /* before the model goes */
  flush_diags(&hold, o.on_diagnostic, o.diagnostic_payload);
  if (tmp) { unlink(tmp); ts_free(tmp); }
  ts_free(dir);
  if (stats) {
    stats->files = m.n_sources;
    stats->articles = m.n_articles;
    stats->questions = m.n_questions;
    stats->facts = m.n_facts;
    stats->causes = m.n_causes;
    stats->fixes = m.n_fixes;
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
