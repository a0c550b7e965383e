/*
** bench-kb: compile and search benchmarks of libtshoot against their floors.
**
**   bench-kb -n 10000 [--queries 1000] [--reps 1] [--json] [--dir DIR] [--keep]
**
** One run generates a synthetic KB (synth.c) of N articles, then measures, on
** the same files and in the same run:
**
**  compile  tshoot_compile() against the floor = (a) reading every file and
**           parsing it with xmlReadMemory (warm) + (b) inserting the same
**           article text into a bare FTS5 table (same columns, same
**           tokenizer) in one transaction, 'optimize', commit, into a fresh
**           file. Target: compile within 1.3x of the floor (issue 9;
**           it was 2x).
**  search   tshoot_search() (limit 10, default options) against the same
**           queries sent straight to FTS5 on the same compiled file:
**             SELECT rowid, bm25(article_fts, <TS_FTS_WEIGHTS>) FROM article_fts
**             WHERE article_fts MATCH ? ORDER BY 2 LIMIT 10
**           each word double-quoted, implicit AND, the prefix term as "xxx"*.
**           Target: within 1.5x of raw FTS5 at p50. tshoot gets the words
**           separated by spaces, with a trailing space unless the last word is
**           a prefix (its search-as-you-type rule). Also timed, as a
**           reference: the raw query plus FTS5's snippet() for the 10 rows.
**
** With --smoke the run also fails (exit 1) when tshoot_search finds nothing
** for a query that raw FTS5 answers; errors always fail it.
*/
#include "synth.h"
#include "util.h"
#include "../engine/kb_schema.h"

#include <tshoot.h>

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sqlite3.h>

/* ===== small utilities ===== */

/* The temporary folder this run made (not a --dir, nor --keep): removed at
** exit, also when die() ends the run. Only the two levels the run writes. */
static char tmp_dir[4096];

static void remove_flat(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[8300];
  if (!d) return;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);                      /* a folder stays, and so then does dir */
  }
  closedir(d);
  rmdir(dir);
}

static void cleanup_tmp(void)
{
  char src[4200];
  if (!tmp_dir[0]) return;
  snprintf(src, sizeof src, "%s/src", tmp_dir);
  remove_flat(src);
  remove_flat(tmp_dir);
  tmp_dir[0] = '\0';
}

static void *xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static double median(double *v, size_t n)
{
  qsort(v, n, sizeof *v, cmp_double);
  return pct(v, n, 50);
}

/* "1.23 s", "457 us", "10.9 ms" */
static const char *fmt_time(char *buf, size_t n, double s)
{
  if (s >= 1) snprintf(buf, n, "%.2f s", s);
  else if (s >= 10e-3) snprintf(buf, n, "%.1f ms", s * 1e3);
  else if (s >= 1e-3) snprintf(buf, n, "%.2f ms", s * 1e3);
  else snprintf(buf, n, "%.0f us", s * 1e6);
  return buf;
}

/* ===== the source files ===== */

typedef struct files {
  char **paths;
  size_t n;
  size_t bytes;
} files;

static void list_files(files *fl, const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t cap = 0;
  if (!d) die("%s: %s", dir, strerror(errno));
  memset(fl, 0, sizeof *fl);
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    char *p;
    if (len < 5 || strcmp(e->d_name + len - 4, ".xml") != 0) continue;
    if (fl->n == cap) { cap = cap ? cap * 2 : 256; fl->paths = xrealloc(fl->paths, cap * sizeof *fl->paths); }
    p = xmalloc(strlen(dir) + len + 2);
    sprintf(p, "%s/%s", dir, e->d_name);
    fl->paths[fl->n++] = p;
    fl->bytes += (size_t)file_size(p);
  }
  closedir(d);
  if (fl->n) qsort(fl->paths, fl->n, sizeof *fl->paths, cmp_str);   /* paths is NULL when empty */
}

/* Read a whole file into *buf (grown as needed). Returns its length. */
static size_t read_file(const char *path, char **buf, size_t *cap)
{
  int fd = open(path, O_RDONLY);
  struct stat st;
  size_t len = 0;
  if (fd < 0 || fstat(fd, &st) != 0) die("%s: %s", path, strerror(errno));
  if ((size_t)st.st_size + 1 > *cap) { *cap = (size_t)st.st_size + 1; *buf = xrealloc(*buf, *cap); }
  while (len < (size_t)st.st_size) {
    ssize_t k = read(fd, *buf + len, (size_t)st.st_size - len);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) die("%s: read: %s", path, k < 0 ? strerror(errno) : "short read");
    len += (size_t)k;
  }
  close(fd);
  return len;
}

#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOBLANKS)

/* ===== floor (a): read + xmlReadMemory every file ===== */

static double floor_parse(const files *fl)
{
  char *buf = NULL;
  size_t cap = 0, i;
  double t0 = now();
  for (i = 0; i < fl->n; i++) {
    size_t len = read_file(fl->paths[i], &buf, &cap);
    xmlDocPtr doc = xmlReadMemory(buf, (int)len, fl->paths[i], NULL, PARSE_OPTIONS);
    if (!doc) die("%s: libxml2 cannot parse it", fl->paths[i]);
    xmlFreeDoc(doc);
  }
  t0 = now() - t0;
  free(buf);
  return t0;
}

/* ===== floor (b): the same text into a bare FTS5 table ===== */

/* Article text as the five FTS5 columns, kept in memory (untimed). The text
** lives in one arena, allocated once and large enough (the text of a file is
** shorter than the file), so that keeping it does not fragment the malloc
** heap that the parse floor and tshoot_compile then use: many small live
** blocks there make libxml2 parse 2x slower. */
typedef struct fts_row { const char *col[TS_FTS_NCOLS]; } fts_row;
typedef struct fts_rows {
  fts_row *v;
  size_t n, cap;
  char *arena;
  size_t used, size;
} fts_rows;

static int is_el(xmlNodePtr n, const char *name)
{
  return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Append element n's text to the column being built (which starts at *start
** in the arena), a newline between parts. */
static void append(fts_rows *rows, const char **start, xmlNodePtr n)
{
  xmlChar *s = xmlNodeGetContent(n);
  size_t add = s ? strlen((char *)s) : 0;
  if (rows->used + add + 2 > rows->size) die("text arena too small");
  if (!*start) *start = rows->arena + rows->used;
  else rows->arena[rows->used - 1] = '\n';   /* replaces the previous NUL */
  memcpy(rows->arena + rows->used, s ? (char *)s : "", add + 1);
  rows->used += add + 1;
  xmlFree(s);
}

/* The columns are built one after another, each contiguous: gather the parts
** of one column at a time. */
static void extract_article(fts_rows *rows, xmlNodePtr art)
{
  fts_row *row;
  xmlNodePtr c, d, f;
  int k;
  if (rows->n == rows->cap) die("more articles than expected");
  row = &rows->v[rows->n++];
  memset(row, 0, sizeof *row);
  for (k = 0; k < TS_FTS_NCOLS; k++) {
    for (c = art->children; c; c = c->next) {
      if (k == TS_FTS_TITLE && is_el(c, "title")) append(rows, &row->col[k], c);
      else if (k == TS_FTS_SYMPTOMS && is_el(c, "symptoms")) {
        for (d = c->children; d; d = d->next)
          if (d->type == XML_ELEMENT_NODE) append(rows, &row->col[k], d);
      } else if (k == TS_FTS_ALIASES && is_el(c, "alias")) append(rows, &row->col[k], c);
      else if ((k == TS_FTS_CAUSES || k == TS_FTS_FIXES) && is_el(c, "cause")) {
        for (d = c->children; d; d = d->next) {
          if (k == TS_FTS_CAUSES && (is_el(d, "title") || is_el(d, "explanation")))
            append(rows, &row->col[k], d);
          else if (k == TS_FTS_FIXES && is_el(d, "fix")) {
            for (f = d->children; f; f = f->next)
              if (is_el(f, "title") || is_el(f, "step") || is_el(f, "verify"))
                append(rows, &row->col[k], f);
          }
        }
      }
    }
    if (!row->col[k]) row->col[k] = "";
  }
}

static void extract_all(fts_rows *rows, const files *fl, size_t n_articles)
{
  char *buf = NULL;
  size_t cap = 0, i;
  memset(rows, 0, sizeof *rows);
  rows->cap = n_articles;
  rows->v = xmalloc(n_articles * sizeof *rows->v);
  rows->size = fl->bytes + 16;
  rows->arena = xmalloc(rows->size);
  for (i = 0; i < fl->n; i++) {
    size_t len = read_file(fl->paths[i], &buf, &cap);
    xmlDocPtr doc = xmlReadMemory(buf, (int)len, fl->paths[i], NULL, PARSE_OPTIONS);
    xmlNodePtr n;
    if (!doc) die("%s: libxml2 cannot parse it", fl->paths[i]);
    for (n = xmlDocGetRootElement(doc)->children; n; n = n->next)
      if (is_el(n, "article")) extract_article(rows, n);
    xmlFreeDoc(doc);
  }
  free(buf);
}

static void free_rows(fts_rows *rows)
{
  free(rows->v);
  free(rows->arena);
}

static void exec_sql(sqlite3 *db, const char *sql)
{
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) die("%s: %s", sql, err ? err : "?");
}

static double floor_fts(const fts_rows *rows, const char *path)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  size_t i;
  int k;
  double t0;
  unlink(path);
  t0 = now();
  if (sqlite3_open(path, &db) != SQLITE_OK) die("%s: %s", path, sqlite3_errmsg(db));
  exec_sql(db, "CREATE VIRTUAL TABLE article_fts USING fts5(title, symptoms, aliases, causes,"
               " fixes, tokenize='" TS_FTS_TOKENIZE "')");
  exec_sql(db, "BEGIN");
  if (sqlite3_prepare_v2(db, "INSERT INTO article_fts(rowid, title, symptoms, aliases, causes, fixes)"
                             " VALUES(?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
    die("prepare: %s", sqlite3_errmsg(db));
  for (i = 0; i < rows->n; i++) {
    sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
    for (k = 0; k < TS_FTS_NCOLS; k++)
      sqlite3_bind_text(st, k + 2, rows->v[i].col[k], -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) die("insert: %s", sqlite3_errmsg(db));
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  exec_sql(db, "INSERT INTO article_fts(article_fts) VALUES('optimize')");
  exec_sql(db, "COMMIT");
  sqlite3_close(db);
  return now() - t0;
}

/* ===== tshoot_compile ===== */

#define MAX_PHASES 8
typedef struct compile_run {
  size_t errors, warnings, shown;
  char phase[MAX_PHASES][16];
  double phase_t0[MAX_PHASES];
  int nphases;
} compile_run;

static void on_diag(const tshoot_diagnostic *d, void *payload)
{
  compile_run *cr = payload;
  static const char *const sev[] = { "note", "warning", "error" };
  if (d->severity == TSHOOT_ERRSEV) cr->errors++;
  else if (d->severity == TSHOOT_WARNING) cr->warnings++;
  if (cr->shown++ < 20)
    fprintf(stderr, "  %s:%d:%d: %s %s: %s\n", d->file, d->line, d->column,
            (unsigned)d->severity < 3 ? sev[d->severity] : "?", d->code ? d->code : "",
            d->message);
}

static int on_progress(const char *phase, size_t done, size_t total, void *payload)
{
  compile_run *cr = payload;
  (void)done; (void)total;
  if (cr->nphases == 0 || strcmp(cr->phase[cr->nphases - 1], phase) != 0) {
    if (cr->nphases < MAX_PHASES) {
      snprintf(cr->phase[cr->nphases], sizeof cr->phase[0], "%s", phase);
      cr->phase_t0[cr->nphases++] = now();
    }
  }
  return 0;
}

/* ===== queries ===== */

typedef struct bq {
  char *tshoot;  /* text for tshoot_search: a trailing space unless prefix */
  char *fts;     /* FTS5 MATCH expression */
  int prefix;
} bq;

static bq *make_queries(synth *sy, uint64_t seed, size_t n)
{
  synth_query *q = synth_queries(sy, seed, n);
  bq *out = xmalloc(n * sizeof *out);
  size_t i;
  if (!q) die("out of memory");
  for (i = 0; i < n; i++) {
    const char *s = q[i].text;
    size_t len = strlen(s), k = 0;
    char *f = xmalloc(len * 3 + 8);
    int nt = 0;
    out[i].tshoot = xmalloc(len + 2);
    sprintf(out[i].tshoot, "%s%s", s, q[i].prefix ? "" : " ");
    while (*s) {
      const char *e = strchr(s, ' ');
      size_t wl = e ? (size_t)(e - s) : strlen(s);
      if (nt++) f[k++] = ' ';
      f[k++] = '"';
      memcpy(f + k, s, wl);
      k += wl;
      f[k++] = '"';
      s += wl;
      while (*s == ' ') s++;
    }
    if (q[i].prefix) f[k++] = '*';
    f[k] = '\0';
    out[i].fts = f;
    out[i].prefix = q[i].prefix;
  }
  synth_queries_free(q, n);
  return out;
}

/* ===== search ===== */

typedef struct searcher {
  tshoot_kb *kb;
  sqlite3 *db;
  sqlite3_stmt *raw, *name, *shape;
} searcher;

/* A reference, not a target: the raw query plus FTS5's own snippet() for the
** 10 rows returned (top 10 by bm25 in a subquery, joined back to article_fts
** through a second MATCH on rowid, which snippet() needs, then the article and
** its source). This was the first design of engine/search.c; it shows what
** snippets cost when done the FTS5 way, against which tshoot's own passage
** code (ts_hits) can be judged. */
static const char shape_sql[] =
  "SELECT a.name, a.title, s.path, a.line, t.score,"
  " snippet(article_fts, -1, '[', ']', '...', 24)"
  " FROM (SELECT rowid AS id, -bm25(article_fts, " TS_FTS_WEIGHTS ") AS score"
  "       FROM article_fts WHERE article_fts MATCH ?1"
  "       ORDER BY bm25(article_fts, " TS_FTS_WEIGHTS ") LIMIT 10) AS t"
  " JOIN article_fts ON article_fts.rowid = t.id AND article_fts MATCH ?1"
  " JOIN article AS a ON a.id = t.id"
  " LEFT JOIN source AS s ON s.id = a.source"
  " ORDER BY t.score DESC, t.id";

static int run_shape(searcher *s, const bq *q)
{
  int n = 0, rc, k;
  sqlite3_bind_text(s->shape, 1, q->fts, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(s->shape)) == SQLITE_ROW) {
    for (k = 0; k < 6; k++) (void)sqlite3_column_text(s->shape, k);
    n++;
  }
  if (rc != SQLITE_DONE) die("snippet reference query %s: %s", q->fts, sqlite3_errmsg(s->db));
  sqlite3_reset(s->shape);
  return n;
}

/* One raw FTS5 query; returns the row count, fills ids (up to 10). */
static int run_raw(searcher *s, const bq *q, long long *ids)
{
  int n = 0, rc;
  sqlite3_bind_text(s->raw, 1, q->fts, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(s->raw)) == SQLITE_ROW) {
    long long id = sqlite3_column_int64(s->raw, 0);
    (void)sqlite3_column_double(s->raw, 1);
    if (ids && n < 10) ids[n] = id;
    n++;
  }
  if (rc != SQLITE_DONE) die("raw FTS5 query %s: %s", q->fts, sqlite3_errmsg(s->db));
  sqlite3_reset(s->raw);
  return n;
}

static int search_error;

/* One tshoot_search; returns the count (or -1 on error). Keeps *out if asked. */
static int run_tshoot(searcher *s, const bq *q, tshoot_results **keep, int *truncated)
{
  tshoot_results *r = NULL;
  int rc = tshoot_search(&r, s->kb, q->tshoot, strlen(q->tshoot), NULL);
  int n;
  if (rc != TSHOOT_OK) {
    if (search_error++ < 5)
      fprintf(stderr, "bench-kb: tshoot_search(\"%s\"): %s: %s\n", q->tshoot,
              tshoot_strerror(rc), tshoot_error_last()->message);
    tshoot_results_free(r);
    return -1;
  }
  n = (int)tshoot_results_count(r);
  if (truncated) *truncated = tshoot_results_truncated(r);
  if (keep) *keep = r; else tshoot_results_free(r);
  return n;
}

typedef struct search_stats {
  double *t_ts, *t_raw, *t_shape;   /* per timed call */
  size_t nt;
  double p50_ts, p99_ts, p50_raw, p99_raw, mean_ts, mean_raw;
  /* by class: queries raw FTS5 answers (the same AND query in both), those it
  ** does not (tshoot then also runs its OR fallback), prefix queries */
  double p50_ts_ans, p99_ts_ans, p50_raw_ans, p99_raw_ans, p50_ts_empty, p50_raw_empty;
  double p50_ts_prefix, p50_raw_prefix;
  double p50_shape, p99_shape, p50_shape_ans, p99_shape_ans;
  size_t hit_ts, hit_raw, both, raw_only, ts_only, truncated, errors;
  size_t missing;           /* raw answers, tshoot finds nothing (not truncated) */
  double overlap;           /* mean top-10 overlap where both answer */
  double open_s;
} search_stats;

static double mean_of(const double *v, size_t n)
{
  double s = 0;
  size_t i;
  for (i = 0; i < n; i++) s += v[i];
  return n ? s / (double)n : 0;
}

/* percentile p of the samples of the queries whose class has all bits of want
** and none of unwant */
#define CL_ANSWERED 1  /* raw FTS5 finds rows */
#define CL_PREFIX   2
static double class_pct(const double *t, const int *cls, size_t nq, size_t rounds, int want,
                        int unwant, double p)
{
  double *v = xmalloc(nq * rounds * sizeof *v), r;
  size_t i, k = 0;
  for (i = 0; i < nq * rounds; i++)
    if ((cls[i % nq] & want) == want && !(cls[i % nq] & unwant)) v[k++] = t[i];
  qsort(v, k, sizeof *v, cmp_double);
  r = pct(v, k, p);
  free(v);
  return r;
}

static void search_bench(search_stats *ss, const char *kbpath, const bq *qs, size_t nq,
                         size_t rounds, int verbose_missing, size_t explain)
{
  searcher s;
  size_t i, r, ovl_num = 0, ovl_den = 0;
  double t0;
  int rc;
  char sql[256];
  int *cls = xmalloc(nq * sizeof *cls);

  memset(ss, 0, sizeof *ss);
  t0 = now();
  rc = tshoot_kb_open(&s.kb, kbpath, NULL);
  ss->open_s = now() - t0;
  if (rc != TSHOOT_OK) die("tshoot_kb_open(%s): %s: %s", kbpath, tshoot_strerror(rc),
                           tshoot_error_last()->message);
  if (sqlite3_open_v2(kbpath, &s.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    die("%s: %s", kbpath, sqlite3_errmsg(s.db));
  /* the same page cache as a tshoot_kb by default (8192 KiB) */
  exec_sql(s.db, "PRAGMA cache_size=-8192");
  snprintf(sql, sizeof sql, "SELECT rowid, bm25(article_fts, %s) FROM article_fts"
           " WHERE article_fts MATCH ? ORDER BY 2 LIMIT 10", TS_FTS_WEIGHTS);
  if (sqlite3_prepare_v2(s.db, sql, -1, &s.raw, NULL) != SQLITE_OK)
    die("prepare: %s", sqlite3_errmsg(s.db));
  if (sqlite3_prepare_v2(s.db, "SELECT name FROM article WHERE id=?", -1, &s.name, NULL) != SQLITE_OK)
    die("prepare: %s", sqlite3_errmsg(s.db));
  if (sqlite3_prepare_v2(s.db, shape_sql, -1, &s.shape, NULL) != SQLITE_OK)
    die("prepare: %s", sqlite3_errmsg(s.db));

  /* warm-up pass, which also checks that both do the same work */
  for (i = 0; i < nq; i++) {
    long long ids[10];
    tshoot_results *res = NULL;
    int trunc = 0;
    int nr = run_raw(&s, &qs[i], ids);
    int nt = run_tshoot(&s, &qs[i], &res, &trunc);
    (void)run_shape(&s, &qs[i]);
    cls[i] = (nr > 0 ? CL_ANSWERED : 0) | (qs[i].prefix ? CL_PREFIX : 0);
    if (nt < 0) { ss->errors++; continue; }
    if (trunc) ss->truncated++;
    if (nr > 0) ss->hit_raw++;
    if (nt > 0) ss->hit_ts++;
    if (nr > 0 && nt > 0) ss->both++;
    if (nr > 0 && nt == 0) ss->raw_only++;
    if (nr == 0 && nt > 0) ss->ts_only++;
    if (nr > 0 && nt == 0 && !trunc) {
      if (verbose_missing && ss->missing < 10)
        fprintf(stderr, "bench-kb: raw FTS5 answers %s (%d rows) but tshoot_search(\"%s\") finds"
                " nothing; its FTS5 query: %s\n", qs[i].fts, nr, qs[i].tshoot,
                tshoot_results_query(res));
      ss->missing++;
    }
    if (nr > 0 && nt > 0) {
      /* top-10 overlap, by article name */
      int a, b, m = nr < 10 ? nr : 10, common = 0;
      size_t cnt = tshoot_results_count(res);
      for (a = 0; a < m; a++) {
        const unsigned char *name;
        sqlite3_bind_int64(s.name, 1, ids[a]);
        if (sqlite3_step(s.name) == SQLITE_ROW && (name = sqlite3_column_text(s.name, 0))) {
          for (b = 0; b < (int)cnt && b < 10; b++)
            if (strcmp((const char *)name, tshoot_results_get(res, (size_t)b)->article) == 0) {
              common++;
              break;
            }
        }
        sqlite3_reset(s.name);
      }
      ovl_num += (size_t)common;
      ovl_den += (size_t)m;
    }
    tshoot_results_free(res);
  }
  ss->overlap = ovl_den ? (double)ovl_num / (double)ovl_den : 0;

  /* --explain K: how the first K queries were run */
  for (i = 0; i < explain && i < nq; i++) {
    tshoot_results *res = NULL;
    int nr = run_raw(&s, &qs[i], NULL);
    int nt = run_tshoot(&s, &qs[i], &res, NULL);
    fprintf(stderr, "query %zu: raw %d rows for %s | tshoot %d for \"%s\" as %s%s%s\n", i, nr,
            qs[i].fts, nt, qs[i].tshoot, res ? tshoot_results_query(res) : "?",
            res && tshoot_results_suggestion(res) ? " did you mean: " : "",
            res && tshoot_results_suggestion(res) ? tshoot_results_suggestion(res) : "");
    tshoot_results_free(res);
  }

  /* timed passes, alternating which goes first */
  ss->nt = nq * rounds;
  ss->t_ts = xmalloc(ss->nt * sizeof(double));
  ss->t_raw = xmalloc(ss->nt * sizeof(double));
  ss->t_shape = xmalloc(ss->nt * sizeof(double));
  for (r = 0; r < rounds; r++) {
    int pass;
    for (pass = 0; pass < 3; pass++) {
      int which = (int)((pass + r) % 3);   /* 0 tshoot, 1 raw, 2 shape; rotated */
      double *t = which == 0 ? ss->t_ts : which == 1 ? ss->t_raw : ss->t_shape;
      for (i = 0; i < nq; i++) {
        double a = now();
        if (which == 1) run_raw(&s, &qs[i], NULL);
        else if (which == 2) run_shape(&s, &qs[i]);
        else if (run_tshoot(&s, &qs[i], NULL, NULL) < 0) ss->errors++;
        t[r * nq + i] = now() - a;
      }
    }
  }
  ss->p50_shape_ans = class_pct(ss->t_shape, cls, nq, rounds, CL_ANSWERED, 0, 50);
  ss->p99_shape_ans = class_pct(ss->t_shape, cls, nq, rounds, CL_ANSWERED, 0, 99);
  qsort(ss->t_shape, ss->nt, sizeof(double), cmp_double);
  ss->p50_shape = pct(ss->t_shape, ss->nt, 50);
  ss->p99_shape = pct(ss->t_shape, ss->nt, 99);
  ss->p50_ts_ans = class_pct(ss->t_ts, cls, nq, rounds, CL_ANSWERED, 0, 50);
  ss->p99_ts_ans = class_pct(ss->t_ts, cls, nq, rounds, CL_ANSWERED, 0, 99);
  ss->p50_raw_ans = class_pct(ss->t_raw, cls, nq, rounds, CL_ANSWERED, 0, 50);
  ss->p99_raw_ans = class_pct(ss->t_raw, cls, nq, rounds, CL_ANSWERED, 0, 99);
  ss->p50_ts_empty = class_pct(ss->t_ts, cls, nq, rounds, 0, CL_ANSWERED, 50);
  ss->p50_raw_empty = class_pct(ss->t_raw, cls, nq, rounds, 0, CL_ANSWERED, 50);
  ss->p50_ts_prefix = class_pct(ss->t_ts, cls, nq, rounds, CL_PREFIX, 0, 50);
  ss->p50_raw_prefix = class_pct(ss->t_raw, cls, nq, rounds, CL_PREFIX, 0, 50);
  free(cls);
  ss->mean_ts = mean_of(ss->t_ts, ss->nt);
  ss->mean_raw = mean_of(ss->t_raw, ss->nt);
  qsort(ss->t_ts, ss->nt, sizeof(double), cmp_double);
  qsort(ss->t_raw, ss->nt, sizeof(double), cmp_double);
  ss->p50_ts = pct(ss->t_ts, ss->nt, 50);
  ss->p99_ts = pct(ss->t_ts, ss->nt, 99);
  ss->p50_raw = pct(ss->t_raw, ss->nt, 50);
  ss->p99_raw = pct(ss->t_raw, ss->nt, 99);

  sqlite3_finalize(s.raw);
  sqlite3_finalize(s.shape);
  sqlite3_finalize(s.name);
  sqlite3_close(s.db);
  tshoot_kb_close(s.kb);
  free(ss->t_ts);
  free(ss->t_raw);
  free(ss->t_shape);
}

/* ===== main ===== */

static void usage(FILE *f)
{
  fprintf(f,
    "usage: bench-kb [-n N] [options]\n"
    "  -n N           articles (default 1000; 10k and 100k accepted)\n"
    "  --queries Q    fixed queries (default 1000)\n"
    "  --per-file K   articles per source file (default 100)\n"
    "  --seed S       corpus and query seed (default %u)\n"
    "  --reps R       compile and floor runs, the median is kept (default 1)\n"
    "  --rounds R     timed passes over the queries (default 1)\n"
    "  --dir DIR      work here (created; kept) instead of a fresh /tmp dir\n"
    "  --keep         keep the temporary dir\n"
    "  --json         print one JSON object on stdout (the table goes to stderr)\n"
    "  --explain K    show how the first K queries ran (on stderr)\n"
    "  --smoke        fail when tshoot_search finds nothing where raw FTS5 does\n",
    SYNTH_DEFAULT_SEED);
}

static int parse_size(const char *s, size_t *out)
{
  char *end;
  unsigned long long v;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno || end == s) return -1;
  if (*end == 'k' || *end == 'K') { v *= 1000; end++; }
  if (*end) return -1;
  *out = (size_t)v;
  return 0;
}

int main(int argc, char **argv)
{
  size_t explain = 0, n = 1000, nq = 1000, per_file = 100, seed = SYNTH_DEFAULT_SEED, reps = 1, rounds = 1;
  const char *dir_arg = NULL;
  int json = 0, smoke = 0, keep = 0, i, rc, failed = 0;
  char dir[4096], src[4200], kbpath[4200], floorpath[4200], tb[8][32];
  const char *srcv[1];
  synth *sy;
  files fl;
  fts_rows rows;
  bq *qs;
  size_t nfiles, bytes, r;
  double t_gen, *t_parse, *t_fts, *t_comp, parse_s, fts_s, comp_s, floor_s;
  compile_run cr;
  tshoot_compile_stats cs;
  tshoot_compile_options co = TSHOOT_COMPILE_OPTIONS_INIT;
  search_stats ss;
  long long kb_size, floor_size;
  FILE *out;
  char date[64];
  time_t tnow = time(NULL);
  bench_name = "bench-kb";
  /* An application that initialises SQLite before tshoot does (the floors
  ** below would) turns its memory statistics off first, as docs/api.md
  ** advises: else the compile's threads contend for one allocator mutex.
  ** The floors run under the same setting. */
  (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);

  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
    if (!strcmp(a, "--json")) { json = 1; continue; }
    if (!strcmp(a, "--smoke")) { smoke = 1; continue; }
    if (!strcmp(a, "--keep")) { keep = 1; continue; }
    if (!v) { usage(stderr); return 2; }
    if (!strcmp(a, "-n")) { if (parse_size(v, &n) || !n) goto bad; }
    else if (!strcmp(a, "--queries")) { if (parse_size(v, &nq) || !nq) goto bad; }
    else if (!strcmp(a, "--per-file")) { if (parse_size(v, &per_file) || !per_file) goto bad; }
    else if (!strcmp(a, "--seed")) { if (parse_size(v, &seed)) goto bad; }
    else if (!strcmp(a, "--reps")) { if (parse_size(v, &reps) || !reps) goto bad; }
    else if (!strcmp(a, "--rounds")) { if (parse_size(v, &rounds) || !rounds) goto bad; }
    else if (!strcmp(a, "--explain")) { if (parse_size(v, &explain)) goto bad; }
    else if (!strcmp(a, "--dir")) dir_arg = v;
    else { usage(stderr); return 2; }
    i++;
    continue;
  bad:
    fprintf(stderr, "bench-kb: bad value for %s: %s\n", a, v);
    return 2;
  }
  out = json ? stderr : stdout;
  strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&tnow));

  if (dir_arg) {
    snprintf(dir, sizeof dir, "%s", dir_arg);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) die("%s: %s", dir, strerror(errno));
    keep = 1;
  } else {
    snprintf(dir, sizeof dir, "/tmp/tshoot-bench-XXXXXX");
    if (!mkdtemp(dir)) die("mkdtemp: %s", strerror(errno));
    if (!keep) {
      snprintf(tmp_dir, sizeof tmp_dir, "%s", dir);
      atexit(cleanup_tmp);
    }
  }
  snprintf(src, sizeof src, "%s/src", dir);
  snprintf(kbpath, sizeof kbpath, "%s/kb.db", dir);
  snprintf(floorpath, sizeof floorpath, "%s/floor-fts5.db", dir);
  if (mkdir(src, 0777) != 0 && errno != EEXIST) die("%s: %s", src, strerror(errno));

  xmlInitParser();
  sy = synth_new();
  if (!sy) die("out of memory");

  /* the corpus: remove what a previous run left in --dir, then generate */
  list_files(&fl, src);
  for (r = 0; r < fl.n; r++) { unlink(fl.paths[r]); free(fl.paths[r]); }
  free(fl.paths);
  t_gen = now();
  if (synth_write_corpus(sy, src, seed, n, per_file, &nfiles, &bytes) != 0)
    die("%s: %s", src, strerror(errno));
  t_gen = now() - t_gen;
  list_files(&fl, src);
  qs = make_queries(sy, seed, nq);

  fprintf(out, "tshoot bench-kb  %s  libtshoot %s, SQLite %s, libxml2 %s\n", date,
          tshoot_libversion(), sqlite3_libversion(), xmlParserVersion);
  fprintf(out, "corpus: %zu articles in %zu files (%.1f MB XML, generated in %.2f s), seed %zu,"
          " %zu queries, in %s\n\n", n, fl.n, bytes / 1e6, t_gen, seed, nq, dir);

  /* ---- compile and its floor ---- */
  extract_all(&rows, &fl, n);          /* untimed: the text for floor (b) */
  if (rows.n != n) die("extracted %zu articles, expected %zu", rows.n, n);
  (void)floor_parse(&fl);              /* warm-up: page cache, heap */
  t_parse = xmalloc(reps * sizeof(double));
  t_fts = xmalloc(reps * sizeof(double));
  t_comp = xmalloc(reps * sizeof(double));
  srcv[0] = src;
  co.on_diagnostic = on_diag;
  co.diagnostic_payload = &cr;
  co.on_progress = on_progress;
  co.progress_payload = &cr;
  for (r = 0; r < reps; r++) {
    double t0;
    t_parse[r] = floor_parse(&fl);
    t_fts[r] = floor_fts(&rows, floorpath);
    unlink(kbpath);
    memset(&cr, 0, sizeof cr);
    memset(&cs, 0, sizeof cs);
    t0 = now();
    rc = tshoot_compile(&cs, srcv, 1, kbpath, &co);
    t_comp[r] = now() - t0;
    if (rc != TSHOOT_OK) {
      fprintf(stderr, "bench-kb: tshoot_compile: %s: %s (%zu errors, %zu warnings)\n",
              tshoot_strerror(rc), tshoot_error_last()->message, cr.errors, cr.warnings);
      failed = 1;
      break;
    }
    if (cs.articles != n) {
      fprintf(stderr, "bench-kb: tshoot_compile compiled %zu articles, expected %zu\n",
              cs.articles, n);
      failed = 1;
    }
    if (r + 1 < reps) continue;
    /* phases of the last run */
    if (cr.nphases > 0) {
      int k;
      fprintf(out, "compile phases (last run, from on_progress):");
      for (k = 0; k < cr.nphases; k++) {
        double end = k + 1 < cr.nphases ? cr.phase_t0[k + 1] : t0 + t_comp[r];
        fprintf(out, " %s %s%s", cr.phase[k], fmt_time(tb[0], sizeof tb[0], end - cr.phase_t0[k]),
                k + 1 < cr.nphases ? "," : "");
      }
      fprintf(out, "; before the first callback %s\n",
              fmt_time(tb[0], sizeof tb[0], cr.phase_t0[0] - t0));
    }
  }
  parse_s = median(t_parse, r < reps ? r + 1 : reps);
  fts_s = median(t_fts, r < reps ? r + 1 : reps);
  floor_s = parse_s + fts_s;
  comp_s = failed ? 0 : median(t_comp, reps);
  floor_size = file_size(floorpath);
  kb_size = failed ? -1 : file_size(kbpath);
  free_rows(&rows);

  fprintf(out, "compile (median of %zu)                      time   per article\n", reps);
  fprintf(out, "  (a) read + xmlReadMemory, warm      %10s   %6.1f us\n",
          fmt_time(tb[0], sizeof tb[0], parse_s), parse_s / n * 1e6);
  fprintf(out, "  (b) bare FTS5 insert+optimize+commit%10s   %6.1f us\n",
          fmt_time(tb[0], sizeof tb[0], fts_s), fts_s / n * 1e6);
  fprintf(out, "  floor (a)+(b)                       %10s   %6.1f us\n",
          fmt_time(tb[0], sizeof tb[0], floor_s), floor_s / n * 1e6);
  if (!failed) {
    fprintf(out, "  tshoot_compile                      %10s   %6.1f us   %.2fx floor (target <= 1.3x)\n",
            fmt_time(tb[0], sizeof tb[0], comp_s), comp_s / n * 1e6, comp_s / floor_s);
    fprintf(out, "  KB file %.1f MB (bare FTS5 file %.1f MB); %zu files, %zu articles, %zu causes,"
            " %zu fixes, %zu questions, %zu warnings\n",
            kb_size / 1e6, floor_size / 1e6, cs.files, cs.articles, cs.causes, cs.fixes,
            cs.questions, cs.warnings);
  } else {
    fprintf(out, "  tshoot_compile                      FAILED\n");
  }

  /* ---- search ---- */
  if (!failed) {
    search_bench(&ss, kbpath, qs, nq, rounds, smoke, explain);
    fprintf(out, "\nsearch (limit 10; %zu queries x %zu rounds after a warm-up pass)\n", nq, rounds);
    fprintf(out, "                   all queries                     raw answers (same AND work)"
            "  raw empty   prefix\n");
    fprintf(out, "                   p50      p99     mean   answered   p50      p99"
            "               p50        p50\n");
    fprintf(out, "  raw FTS5 bm25 %8s %8s %8s  %4zu/%-5zu %8s %8s           %8s   %8s\n",
            fmt_time(tb[0], 32, ss.p50_raw), fmt_time(tb[1], 32, ss.p99_raw),
            fmt_time(tb[2], 32, ss.mean_raw), ss.hit_raw, nq, fmt_time(tb[3], 32, ss.p50_raw_ans),
            fmt_time(tb[4], 32, ss.p99_raw_ans), fmt_time(tb[5], 32, ss.p50_raw_empty),
            fmt_time(tb[6], 32, ss.p50_raw_prefix));
    fprintf(out, "  tshoot_search %8s %8s %8s  %4zu/%-5zu %8s %8s           %8s   %8s\n",
            fmt_time(tb[0], 32, ss.p50_ts), fmt_time(tb[1], 32, ss.p99_ts),
            fmt_time(tb[2], 32, ss.mean_ts), ss.hit_ts, nq, fmt_time(tb[3], 32, ss.p50_ts_ans),
            fmt_time(tb[4], 32, ss.p99_ts_ans), fmt_time(tb[5], 32, ss.p50_ts_empty),
            fmt_time(tb[6], 32, ss.p50_ts_prefix));
    fprintf(out, "  ratio at p50: %.2fx (target <= 1.5x); at p99: %.2fx;"
            " on the queries raw FTS5 answers: p50 %.2fx, p99 %.2fx\n",
            ss.p50_ts / ss.p50_raw, ss.p99_ts / ss.p99_raw, ss.p50_ts_ans / ss.p50_raw_ans,
            ss.p99_ts_ans / ss.p99_raw_ans);
    fprintf(out, "  reference, raw + FTS5 snippet() (second MATCH join): p50 %s, p99 %s;"
            " on the queries raw answers: p50 %s, p99 %s\n",
            fmt_time(tb[0], 32, ss.p50_shape), fmt_time(tb[1], 32, ss.p99_shape),
            fmt_time(tb[2], 32, ss.p50_shape_ans), fmt_time(tb[3], 32, ss.p99_shape_ans));
    fprintf(out, "  answered by both %zu, raw only %zu (of which not truncated %zu), tshoot only %zu;"
            " truncated %zu, errors %zu; top-10 overlap %.0f%%; kb_open %s\n",
            ss.both, ss.raw_only, ss.missing, ss.ts_only, ss.truncated, ss.errors,
            ss.overlap * 100, fmt_time(tb[0], 32, ss.open_s));
    if (ss.errors) failed = 1;
    if (smoke && ss.missing) {
      fprintf(stderr, "bench-kb: %zu queries answered by raw FTS5 found nothing with tshoot_search\n",
              ss.missing);
      failed = 1;
    }
    if (smoke && ss.hit_raw == 0) {
      fprintf(stderr, "bench-kb: no query found anything: the smoke test proves nothing\n");
      failed = 1;
    }
  }

  if (json) {
    printf("{\"date\":\"%s\",\"tshoot\":\"%s\",\"sqlite\":\"%s\",\"libxml2\":\"%s\","
           "\"articles\":%zu,\"files\":%zu,\"xml_bytes\":%zu,\"seed\":%zu,\"queries\":%zu,"
           "\"reps\":%zu,\"rounds\":%zu,\"ok\":%s,",
           date, tshoot_libversion(), sqlite3_libversion(), xmlParserVersion, n, fl.n, bytes,
           seed, nq, reps, rounds, failed ? "false" : "true");
    printf("\"compile\":{\"parse_s\":%.6f,\"fts5_s\":%.6f,\"floor_s\":%.6f,\"floor_bytes\":%lld",
           parse_s, fts_s, floor_s, floor_size);
    if (comp_s > 0)
      printf(",\"tshoot_s\":%.6f,\"ratio\":%.4f,\"kb_bytes\":%lld,\"warnings\":%zu",
             comp_s, comp_s / floor_s, kb_size, cs.warnings);
    printf("}");
    if (comp_s > 0)
      printf(",\"search\":{\"raw\":{\"p50_us\":%.1f,\"p99_us\":%.1f,\"mean_us\":%.1f,"
             "\"answered_p50_us\":%.1f,\"answered_p99_us\":%.1f,\"empty_p50_us\":%.1f,"
             "\"prefix_p50_us\":%.1f,\"answered\":%zu},",
             ss.p50_raw * 1e6, ss.p99_raw * 1e6, ss.mean_raw * 1e6, ss.p50_raw_ans * 1e6,
             ss.p99_raw_ans * 1e6, ss.p50_raw_empty * 1e6, ss.p50_raw_prefix * 1e6, ss.hit_raw);
    if (comp_s > 0)
      printf("\"tshoot\":{\"p50_us\":%.1f,\"p99_us\":%.1f,\"mean_us\":%.1f,"
             "\"answered_p50_us\":%.1f,\"answered_p99_us\":%.1f,\"empty_p50_us\":%.1f,"
             "\"prefix_p50_us\":%.1f,\"answered\":%zu,\"truncated\":%zu,\"errors\":%zu},"
             "\"ratio_p50\":%.4f,\"ratio_p99\":%.4f,\"ratio_p50_answered\":%.4f,"
             "\"both\":%zu,\"raw_only\":%zu,\"tshoot_only\":%zu,\"top10_overlap\":%.4f,"
             "\"fts5_snippet_ref\":{\"p50_us\":%.1f,\"p99_us\":%.1f,\"answered_p50_us\":%.1f,"
             "\"answered_p99_us\":%.1f}}",
             ss.p50_ts * 1e6, ss.p99_ts * 1e6, ss.mean_ts * 1e6, ss.p50_ts_ans * 1e6,
             ss.p99_ts_ans * 1e6, ss.p50_ts_empty * 1e6, ss.p50_ts_prefix * 1e6, ss.hit_ts,
             ss.truncated, ss.errors, ss.p50_ts / ss.p50_raw, ss.p99_ts / ss.p99_raw,
             ss.p50_ts_ans / ss.p50_raw_ans, ss.both, ss.raw_only, ss.ts_only, ss.overlap,
             ss.p50_shape * 1e6, ss.p99_shape * 1e6, ss.p50_shape_ans * 1e6,
             ss.p99_shape_ans * 1e6);
    printf("}\n");
  }

  /* clean up what we made */
  for (r = 0; r < fl.n; r++) free(fl.paths[r]);
  free(fl.paths);
  cleanup_tmp();                       /* the temporary folder, unless kept */
  for (r = 0; r < nq; r++) { free(qs[r].tshoot); free(qs[r].fts); }
  free(qs);
  free(t_parse);
  free(t_fts);
  free(t_comp);
  synth_free(sy);
  xmlCleanupParser();
  return failed;
}
