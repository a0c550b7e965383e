/*
** bench-peer: tshoot_search() against raw FTS5 and against Xapian, on
** bench-kb's corpus and queries, in one process.
**
**   bench-peer -n 10000 [--queries 1000] [--rounds 1] [--seed S] [--dir DIR]
**   bench-peer --kb FILE [...]        (an existing KB, e.g. one bench-kb --dir kept)
**
** One run generates bench-kb's synthetic corpus (synth.c) and compiles it (or
** takes --kb), builds a Xapian database of the same articles, then times, for
** each query and round, the three engines in a random order (a fixed seed):
**
**  tshoot   tshoot_search(&r, kb, text, len, NULL) + tshoot_results_free(), as
**           bench-kb: the words separated by spaces, a trailing space unless
**           the last word is a prefix.
**  raw      bench-kb's raw FTS5 statement on the KB's own article_fts, on a
**           read-only connection with the same 8 MiB page cache:
**             SELECT rowid, bm25(article_fts, <TS_FTS_WEIGHTS>) FROM article_fts
**             WHERE article_fts MATCH ? ORDER BY 2 LIMIT 10
**           each word double-quoted, implicit AND, the prefix term as "xxx"*.
**  xapian   Xapian, ranked like FTS5: every article's five columns tokenized
**           by FTS5's own tokenizer (TS_FTS_TOKENIZE, found through the
**           fts5_api of the connection), each token added with its column's
**           bm25 weight as wdf increment, FTS5's bm25 formula and constants
**           (peer-xapian.cpp); a query is the AND of its words, each word
**           tokenized by the same tokenizer with FTS5's query flags (a word
**           of several tokens is a phrase; the prefix word's last token a
**           wildcard). Timed: tokenizing the query, building it, the top 10.
**
** The Xapian build (read + tokenize + add, commit, compact) is timed apart and
** never inside the search figures; searches run on the compacted copy.
** Printed per engine: p50/p90/p99/mean over all queries and over the
** comparable ones (raw FTS5 answers and tshoot ran that same AND query: no
** spelling fix, no OR fallback), answered queries, the top-10 overlap of
** tshoot and of Xapian with raw FTS5 (and how often the whole top 10 is the
** same, in order), and the ratios tshoot / Xapian.
**
** Result identity: in the warm-up pass every query also runs through
** tshoot's reference ranking (FTS5's own bm25, the internal flag of
** engine/search_int.h) and must give the same articles, order, scores and
** passages as the postings (ties at the limit aside): "result identity N/Q".
**
** With --smoke the run fails (exit 1) unless it completes, every query's
** two tshoot rankings agree, some query is
** answered by both raw FTS5 and Xapian (so the overlap is computed) and that
** overlap is at least 90% (under it, Xapian's ranking has drifted from
** FTS5's: the figures would compare different work); and some query is
** answered by both raw FTS5 and tshoot.
*/
#include "synth.h"
#include "util.h"
#include "peer-xapian.h"
#include "../engine/kb_schema.h"

#include <tshoot.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

/* ===== small utilities ===== */

/* The temporary folder this run made (not --dir, not --keep), removed at exit. */
static char tmp_dir[4096];

/* Remove path and, if it is a folder, what it holds (the run's own files). */
static void remove_tree(const char *path)
{
  struct stat st;
  DIR *d;
  struct dirent *e;
  char sub[8300];
  if (lstat(path, &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) { unlink(path); return; }
  if ((d = opendir(path))) {
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
      remove_tree(sub);
    }
    closedir(d);
  }
  rmdir(path);
}

static void cleanup_tmp(void)
{
  if (!tmp_dir[0]) return;
  remove_tree(tmp_dir);
  tmp_dir[0] = '\0';
}

static char *xstrdup(const char *s)
{
  size_t n = strlen(s) + 1;
  return memcpy(xmalloc(n), s, n);
}

/* bytes of the files directly in dir (a Xapian database is flat) */
static long long dir_bytes(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[8300];
  long long sum = 0, s;
  if (!d) return -1;
  while ((e = readdir(d))) {
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (e->d_name[0] != '.' && (s = file_size(path)) > 0) sum += s;
  }
  closedir(d);
  return sum;
}

/* "1.23 s", "10.9 ms", "2.34 ms", "457 us" */
static const char *fmt_time(char *buf, size_t n, double s)
{
  if (s >= 1) snprintf(buf, n, "%.2f s", s);
  else if (s >= 10e-3) snprintf(buf, n, "%.1f ms", s * 1e3);
  else if (s >= 1e-3) snprintf(buf, n, "%.2f ms", s * 1e3);
  else snprintf(buf, n, "%.0f us", s * 1e6);
  return buf;
}

static void exec_sql(sqlite3 *db, const char *sql)
{
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) die("%s: %s", sql, err ? err : "?");
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) die("%s: %s", sql, sqlite3_errmsg(db));
  return st;
}

static void load_average(char *buf, size_t n)
{
  FILE *f = fopen("/proc/loadavg", "r");
  snprintf(buf, n, "?");
  if (f) {
    if (!fgets(buf, (int)n, f)) snprintf(buf, n, "?");
    fclose(f);
  }
  buf[strcspn(buf, "\n")] = '\0';
}

/* ===== FTS5's tokenizer, as the KB's article_fts is declared ===== */

typedef struct tokenizer {
  fts5_tokenizer api;
  Fts5Tokenizer *tok;
} tokenizer;

/* The tokenizer TS_FTS_TOKENIZE names ("porter unicode61 ..."), from the
** fts5_api of db. */
static void tokenizer_open(tokenizer *t, sqlite3 *db)
{
  fts5_api *api = NULL;
  sqlite3_stmt *st = prepare(db, "SELECT fts5(?1)");
  char spec[] = TS_FTS_TOKENIZE, *argv[8], *save = NULL, *w;
  int argc = 0;
  void *ctx = NULL;
  sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
  (void)sqlite3_step(st);
  sqlite3_finalize(st);
  if (!api) die("this SQLite has no fts5_api");
  for (w = strtok_r(spec, " ", &save); w && argc < 8; w = strtok_r(NULL, " ", &save)) argv[argc++] = w;
  if (argc == 0) die("empty TS_FTS_TOKENIZE");
  if (api->xFindTokenizer(api, argv[0], &ctx, &t->api) != SQLITE_OK) die("no FTS5 tokenizer %s", argv[0]);
  if (t->api.xCreate(ctx, (const char **)(argv + 1), argc - 1, &t->tok) != SQLITE_OK)
    die("cannot create the FTS5 tokenizer '%s'", TS_FTS_TOKENIZE);
}

static void tokenizer_close(tokenizer *t)
{
  if (t->tok) t->api.xDelete(t->tok);
  t->tok = NULL;
}

/* ===== the Xapian database: the KB's article text, FTS5's tokens ===== */

/* Xapian refuses terms over 245 bytes; FTS5 keeps them whole (none in the
** synthetic corpus) */
#define XAPIAN_MAX_TERM 240
/* the padding term (FTS5's tokenizers lower-case, so no token is this) */
#define XAPIAN_PAD_TERM "#LEN"

typedef struct index_ctx {
  peer_xapian_writer *w;
  unsigned base, weight;
  int pos;          /* FTS5's position of the last token in this column */
  int failed;
} index_ctx;

static int index_token(void *payload, int tflags, const char *tok, int len, int start, int end)
{
  index_ctx *c = payload;
  (void)start; (void)end;
  if (!(tflags & FTS5_TOKEN_COLOCATED) || c->pos < 0) c->pos++;   /* FTS5 counts the column so */
  if (len <= 0) return SQLITE_OK;
  if (len > XAPIAN_MAX_TERM) len = XAPIAN_MAX_TERM;
  if (peer_xapian_writer_add(c->w, tok, (size_t)len, c->base + (unsigned)c->pos, c->weight) != 0) {
    c->failed = 1;
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

typedef struct xbuild {
  double index_s, commit_s, compact_s;
  long long bytes_before, bytes_after;
  size_t docs;
} xbuild;

/* The column weights of TS_FTS_WEIGHTS as whole numbers (Xapian's wdf
** increments are integers). */
static void column_weights(unsigned *w)
{
  const char *s = TS_FTS_WEIGHTS;
  char *end;
  int c;
  for (c = 0; c < TS_FTS_NCOLS; c++) {
    double v = strtod(s, &end);
    if (end == s || v < 1 || v != (double)(unsigned)v)
      die("TS_FTS_WEIGHTS (%s): Xapian needs whole weights >= 1", TS_FTS_WEIGHTS);
    w[c] = (unsigned)v;
    s = end;
    while (*s == ',' || *s == ' ') s++;
  }
}

/* Index every row of article_fts into build_dir (docid = rowid), then compact
** it into dir. Each column's positions start at (column + 1) << 24, so that a
** phrase never spans two columns, as in FTS5. FTS5's bm25 uses a row's token
** count D (unweighted) against the mean; Xapian's length is the sum of the
** wdfs, here sum_c w_c * D_c, so one term without positions adds
** K * D - sum_c w_c * D_c (K the largest weight): every length is then K * D,
** and length / mean is FTS5's D / mean exactly. */
static void xapian_build(xbuild *xb, sqlite3 *db, tokenizer *tk, const char *build_dir,
                         const char *dir)
{
  unsigned weights[TS_FTS_NCOLS];
  sqlite3_stmt *st;
  peer_xapian_writer *w;
  index_ctx c;
  double t0;
  int col, rc;
  unsigned k_max = 0;
  column_weights(weights);
  for (col = 0; col < TS_FTS_NCOLS; col++) if (weights[col] > k_max) k_max = weights[col];
  memset(xb, 0, sizeof *xb);
  t0 = now();
  w = peer_xapian_writer_new(build_dir);
  if (!w) die("%s: %s", build_dir, peer_xapian_error());
  st = prepare(db, "SELECT rowid, title, symptoms, aliases, causes, fixes FROM article_fts");
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    sqlite3_int64 id = sqlite3_column_int64(st, 0);
    unsigned long long tokens = 0, weighted = 0;
    if (id <= 0 || id > 0xffffffffLL) die("article_fts rowid %lld: not a Xapian docid", (long long)id);
    for (col = 0; col < TS_FTS_NCOLS; col++) {
      const char *text = (const char *)sqlite3_column_text(st, col + 1);
      int len = sqlite3_column_bytes(st, col + 1);
      if (!text || len == 0) continue;
      memset(&c, 0, sizeof c);
      c.w = w;
      c.base = (unsigned)(col + 1) << 24;
      c.weight = weights[col];
      c.pos = -1;
      if (tk->api.xTokenize(tk->tok, &c, FTS5_TOKENIZE_DOCUMENT, text, len, index_token) != SQLITE_OK)
        die("article %lld: %s", (long long)id, c.failed ? peer_xapian_error() : "FTS5 tokenizer failed");
      tokens += (unsigned long long)(c.pos + 1);
      weighted += (unsigned long long)(c.pos + 1) * weights[col];
    }
    if (k_max * tokens - weighted > 0xffffffffULL) die("article %lld: too long for Xapian", (long long)id);
    if (peer_xapian_writer_pad(w, XAPIAN_PAD_TERM, (unsigned)(k_max * tokens - weighted)) != 0)
      die("xapian: %s", peer_xapian_error());
    if (peer_xapian_writer_end_doc(w, (unsigned)id) != 0) die("xapian: %s", peer_xapian_error());
    xb->docs++;
  }
  if (rc != SQLITE_DONE) die("reading article_fts: %s", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  xb->index_s = now() - t0;
  t0 = now();
  if (peer_xapian_writer_commit(w) != 0) die("xapian commit: %s", peer_xapian_error());
  xb->commit_s = now() - t0;
  peer_xapian_writer_free(w);
  xb->bytes_before = dir_bytes(build_dir);
  t0 = now();
  if (peer_xapian_compact(build_dir, dir) != 0) die("xapian compact: %s", peer_xapian_error());
  xb->compact_s = now() - t0;
  xb->bytes_after = dir_bytes(dir);
}

/* ===== queries ===== */

typedef struct pq {
  char *tshoot;   /* text for tshoot_search: a trailing space unless prefix */
  char *fts;      /* raw FTS5 MATCH expression */
  char **words;   /* the words, for Xapian */
  int nwords, prefix;
} pq;

static pq *make_queries(synth *sy, uint64_t seed, size_t n)
{
  synth_query *q = synth_queries(sy, seed, n);
  pq *out = xmalloc(n * sizeof *out);
  size_t i;
  if (!q) die("out of memory");
  for (i = 0; i < n; i++) {
    const char *s = q[i].text;
    size_t len = strlen(s), k = 0;
    char *f = xmalloc(len * 3 + 8);
    out[i].tshoot = xmalloc(len + 2);
    sprintf(out[i].tshoot, "%s%s", s, q[i].prefix ? "" : " ");
    out[i].words = xmalloc((len / 2 + 2) * sizeof *out[i].words);
    out[i].nwords = 0;
    while (*s) {
      const char *e = strchr(s, ' ');
      size_t wl = e ? (size_t)(e - s) : strlen(s);
      char *word = xmalloc(wl + 1);
      memcpy(word, s, wl);
      word[wl] = '\0';
      out[i].words[out[i].nwords++] = word;
      if (k) f[k++] = ' ';
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

static void free_queries(pq *qs, size_t n)
{
  size_t i;
  int w;
  for (i = 0; i < n; i++) {
    free(qs[i].tshoot);
    free(qs[i].fts);
    for (w = 0; w < qs[i].nwords; w++) free(qs[i].words[w]);
    free(qs[i].words);
  }
  free(qs);
}

/* ===== the three engines ===== */

enum { E_TSHOOT, E_RAW, E_XAPIAN, NE };
static const char *const engine_name[NE] = { "tshoot_search", "raw FTS5 bm25", "Xapian (FTS5 bm25)" };

#define QTOKS 64
#define QTEXT 1024

typedef struct name_id { const char *name; unsigned id; } name_id;

typedef struct engines {
  tshoot_kb *kb;
  tshoot_kb *kb_ref;    /* the same KB with a 60 s budget: the reference ranking is never cut */
  sqlite3 *db;
  sqlite3_stmt *raw;
  peer_xapian_searcher *xap;
  tokenizer tk;
  /* a query's tokens, for Xapian */
  char text[QTEXT];
  size_t used, ntok;
  const char *tok[QTOKS];
  size_t len[QTOKS];
  peer_xapian_phrase ph[QTOKS];
  /* article name -> id, sorted by name (tshoot's results carry names) */
  name_id *names;
  size_t nnames;
} engines;

static int cmp_name_id(const void *a, const void *b)
{
  return strcmp(((const name_id *)a)->name, ((const name_id *)b)->name);
}

static void load_names(engines *e)
{
  sqlite3_stmt *st = prepare(e->db, "SELECT count(*) FROM article");
  size_t cap = 0;
  if (sqlite3_step(st) == SQLITE_ROW) cap = (size_t)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  e->names = xmalloc((cap + 1) * sizeof *e->names);
  st = prepare(e->db, "SELECT id, name FROM article");
  while (sqlite3_step(st) == SQLITE_ROW && e->nnames < cap) {
    e->names[e->nnames].id = (unsigned)sqlite3_column_int64(st, 0);
    e->names[e->nnames++].name = xstrdup((const char *)sqlite3_column_text(st, 1));
  }
  sqlite3_finalize(st);
  qsort(e->names, e->nnames, sizeof *e->names, cmp_name_id);
}

static unsigned name_to_id(const engines *e, const char *name)
{
  name_id key, *hit;
  key.name = name;
  hit = bsearch(&key, e->names, e->nnames, sizeof *e->names, cmp_name_id);
  return hit ? hit->id : 0;
}

static int query_token(void *payload, int tflags, const char *tok, int len, int start, int end)
{
  engines *e = payload;
  (void)start; (void)end;
  if (len <= 0 || (tflags & FTS5_TOKEN_COLOCATED)) return SQLITE_OK;
  if (e->ntok == QTOKS || e->used + (size_t)len > QTEXT) return SQLITE_NOMEM;
  memcpy(e->text + e->used, tok, (size_t)len);
  e->tok[e->ntok] = e->text + e->used;
  e->len[e->ntok++] = (size_t)len;
  e->used += (size_t)len;
  return SQLITE_OK;
}

/* The Xapian series: tokenize each word as FTS5 tokenizes a quoted query
** string, then the top 10 of the AND of the phrases. */
static int run_xapian(engines *e, const pq *q, unsigned *ids)
{
  unsigned id[10];
  double score[10];
  int w, nph = 0, n;
  e->used = e->ntok = 0;
  for (w = 0; w < q->nwords; w++) {
    size_t first = e->ntok;
    int pre = q->prefix && w == q->nwords - 1;
    int flags = FTS5_TOKENIZE_QUERY | (pre ? FTS5_TOKENIZE_PREFIX : 0);
    if (e->tk.api.xTokenize(e->tk.tok, e, flags, q->words[w], (int)strlen(q->words[w]), query_token) != SQLITE_OK)
      die("query %s: too many tokens", q->fts);
    if (e->ntok == first) continue;      /* no token: FTS5 drops the phrase too */
    e->ph[nph].tok = e->tok + first;
    e->ph[nph].len = e->len + first;
    e->ph[nph].n = (int)(e->ntok - first);
    e->ph[nph++].prefix = pre;
  }
  n = peer_xapian_search(e->xap, e->ph, nph, id, score, 10);
  if (n < 0) die("xapian, query %s: %s", q->fts, peer_xapian_error());
  if (ids) memcpy(ids, id, (size_t)n * sizeof *ids);
  return n;
}

static int run_raw(engines *e, const pq *q, unsigned *ids)
{
  int n = 0, rc;
  sqlite3_bind_text(e->raw, 1, q->fts, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(e->raw)) == SQLITE_ROW) {
    sqlite3_int64 id = sqlite3_column_int64(e->raw, 0);
    (void)sqlite3_column_double(e->raw, 1);
    if (ids && n < 10) ids[n] = (unsigned)id;
    n++;
  }
  if (rc != SQLITE_DONE) die("raw FTS5 query %s: %s", q->fts, sqlite3_errmsg(e->db));
  sqlite3_reset(e->raw);
  return n;
}

/* tshoot's internal flag SEARCH_FLAG_FTS5_RANK (engine/search_int.h): rank
** with FTS5's bm25 only, never the postings: the reference the postings'
** results must equal. */
#define TS_FLAG_FTS5_RANK (1u << 30)

/* Are two tshoot result lists the same: articles in order (ties at the limit
** aside), scores to the bit, passages and snippets? */
static int same_results(const tshoot_results *a, const tshoot_results *b)
{
  size_t n = tshoot_results_count(a), i;
  if (n != tshoot_results_count(b) || strcmp(tshoot_results_query(a), tshoot_results_query(b)))
    return 0;
  for (i = 0; i < n; i++) {
    const tshoot_result *x = tshoot_results_get(a, i), *y = tshoot_results_get(b, i);
    if (x->score != y->score) return 0;
    if (strcmp(x->article, y->article)) {
      if (x->score != tshoot_results_get(a, n - 1)->score) return 0;
      continue;                   /* a tie at the limit */
    }
    if (strcmp(x->snippet, y->snippet) || strcmp(x->passage, y->passage)) return 0;
  }
  return 1;
}

/* The query through tshoot's reference ranking (on a handle whose budget
** never cuts it; the postings' run r must not have been cut either): 1 when
** the results are the same. */
static int tshoot_identical(engines *e, const pq *q, const tshoot_results *r)
{
  tshoot_search_options o = TSHOOT_SEARCH_OPTIONS_INIT;
  tshoot_results *ref = NULL;
  int same;
  o.flags = TS_FLAG_FTS5_RANK;
  if (tshoot_search(&ref, e->kb_ref, q->tshoot, strlen(q->tshoot), &o) != TSHOOT_OK)
    die("tshoot_search(\"%s\"), FTS5 ranking: %s", q->tshoot, tshoot_error_last()->message);
  same = !tshoot_results_truncated(r) && !tshoot_results_truncated(ref) && same_results(r, ref);
  if (!same)
    fprintf(stderr, "bench-peer: \"%s\": the two rankings differ%s\n", q->tshoot,
            tshoot_results_truncated(r) || tshoot_results_truncated(ref) ? " (one was cut by its budget)" : "");
  tshoot_results_free(ref);
  return same;
}

/* tshoot_search; *res kept when asked (the caller frees it) */
static int run_tshoot(engines *e, const pq *q, tshoot_results **res)
{
  tshoot_results *r = NULL;
  int rc = tshoot_search(&r, e->kb, q->tshoot, strlen(q->tshoot), NULL), n;
  if (rc != TSHOOT_OK)
    die("tshoot_search(\"%s\"): %s: %s", q->tshoot, tshoot_strerror(rc), tshoot_error_last()->message);
  n = (int)tshoot_results_count(r);
  if (res) *res = r; else tshoot_results_free(r);
  return n;
}

static int run_engine(engines *e, int which, const pq *q)
{
  if (which == E_TSHOOT) return run_tshoot(e, q, NULL);
  if (which == E_RAW) return run_raw(e, q, NULL);
  return run_xapian(e, q, NULL);
}

/* how many of a[0..na) are in b[0..nb) */
static int common_ids(const unsigned *a, int na, const unsigned *b, int nb)
{
  int i, j, c = 0;
  for (i = 0; i < na; i++)
    for (j = 0; j < nb; j++)
      if (a[i] == b[j]) { c++; break; }
  return c;
}

/* ===== statistics ===== */

#define CL_RAW  1   /* raw FTS5 answers */
#define CL_COMP 2   /* ... and tshoot ran that same AND query */

typedef struct stats { double p50, p90, p99, mean; size_t n; } stats;

static stats class_stats(const double *t, const int *cls, size_t nq, size_t rounds, int want)
{
  double *v = xmalloc(nq * rounds * sizeof *v), sum = 0;
  size_t i, k = 0;
  stats st;
  for (i = 0; i < nq * rounds; i++)
    if ((cls[i % nq] & want) == want) { v[k++] = t[i]; sum += t[i]; }
  qsort(v, k, sizeof *v, cmp_double);
  st.p50 = pct(v, k, 50);
  st.p90 = pct(v, k, 90);
  st.p99 = pct(v, k, 99);
  st.mean = k ? sum / (double)k : 0;
  st.n = k / rounds;
  free(v);
  return st;
}

static void print_class(const char *title, double *const *t, const int *cls, size_t nq,
                        size_t rounds, int want, const size_t *answered)
{
  stats st[NE];
  char b[4][32];
  int s;
  for (s = 0; s < NE; s++) st[s] = class_stats(t[s], cls, nq, rounds, want);
  printf("\n%s: %zu queries x %zu rounds\n", title, st[0].n, rounds);
  printf("  %-20s %9s %9s %9s %9s %10s\n", "", "p50", "p90", "p99", "mean", answered ? "answered" : "");
  for (s = 0; s < NE; s++) {
    printf("  %-20s %9s %9s %9s %9s", engine_name[s], fmt_time(b[0], 32, st[s].p50),
           fmt_time(b[1], 32, st[s].p90), fmt_time(b[2], 32, st[s].p99), fmt_time(b[3], 32, st[s].mean));
    if (answered) printf(" %5zu/%zu", answered[s], nq);
    printf("\n");
  }
  printf("  tshoot / Xapian      %8.2fx %8.2fx %8.2fx %8.2fx\n", st[E_TSHOOT].p50 / st[E_XAPIAN].p50,
         st[E_TSHOOT].p90 / st[E_XAPIAN].p90, st[E_TSHOOT].p99 / st[E_XAPIAN].p99,
         st[E_TSHOOT].mean / st[E_XAPIAN].mean);
  printf("  tshoot / raw FTS5    %8.2fx %8.2fx %8.2fx %8.2fx\n", st[E_TSHOOT].p50 / st[E_RAW].p50,
         st[E_TSHOOT].p90 / st[E_RAW].p90, st[E_TSHOOT].p99 / st[E_RAW].p99,
         st[E_TSHOOT].mean / st[E_RAW].mean);
}

/* ===== main ===== */

static void usage(FILE *f)
{
  fprintf(f,
    "usage: bench-peer [-n N | --kb FILE] [options]\n"
    "  -n N           articles of bench-kb's synthetic corpus (default 1000; 10k, 100k accepted)\n"
    "  --kb FILE      search this compiled KB instead (it is not changed)\n"
    "  --queries Q    bench-kb's fixed queries (default 1000)\n"
    "  --rounds R     timed passes over the queries (default 1)\n"
    "  --seed S       corpus, query and order seed (default %u)\n"
    "  --per-file K   articles per source file (default 100)\n"
    "  --dir DIR      work here (created; kept) instead of a fresh /tmp dir\n"
    "  --smoke        fail unless Xapian's top 10 overlaps raw FTS5's by 90%% or more\n",
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
  size_t n = 1000, nq = 1000, rounds = 1, seed = SYNTH_DEFAULT_SEED, per_file = 100, i, r;
  const char *dir_arg = NULL, *kb_arg = NULL;
  int smoke = 0, failed = 0, a, s;
  char dir[4096], src[4200], kbpath[4200], xbuild_dir[4200], xdir[4200], date[64], load0[128],
       load1[128], tb[4][32];
  time_t tnow = time(NULL);
  synth *sy;
  pq *qs;
  engines e;
  xbuild xb;
  double compile_s = 0, t0, *t[NE];
  int *cls;
  size_t answered[NE] = { 0 }, ncomp = 0, ts_or = 0, ts_cut = 0, identical = 0, ov_n[NE] = { 0 }, ov_q[NE] = { 0 },
         ov_d[NE] = { 0 }, same[NE] = { 0 };
  bench_name = "bench-peer";
  /* SQLite's memory statistics off before anything initialises it, as
  ** docs/api.md advises an application that uses SQLite itself (raw FTS5
  ** runs here on a connection of its own) */
  (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);

  for (a = 1; a < argc; a++) {
    const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
    if (!strcmp(o, "-h") || !strcmp(o, "--help")) { usage(stdout); return 0; }
    if (!strcmp(o, "--smoke")) { smoke = 1; continue; }
    if (!v) { usage(stderr); return 2; }
    if (!strcmp(o, "-n")) { if (parse_size(v, &n) || !n) goto bad; }
    else if (!strcmp(o, "--queries")) { if (parse_size(v, &nq) || !nq) goto bad; }
    else if (!strcmp(o, "--rounds")) { if (parse_size(v, &rounds) || !rounds) goto bad; }
    else if (!strcmp(o, "--seed")) { if (parse_size(v, &seed)) goto bad; }
    else if (!strcmp(o, "--per-file")) { if (parse_size(v, &per_file) || !per_file) goto bad; }
    else if (!strcmp(o, "--dir")) dir_arg = v;
    else if (!strcmp(o, "--kb")) kb_arg = v;
    else { usage(stderr); return 2; }
    a++;
    continue;
  bad:
    fprintf(stderr, "bench-peer: bad value for %s: %s\n", o, v);
    return 2;
  }
  strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&tnow));

  if (dir_arg) {
    snprintf(dir, sizeof dir, "%s", dir_arg);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) die("%s: %s", dir, strerror(errno));
  } else {
    snprintf(dir, sizeof dir, "/tmp/tshoot-peer-XXXXXX");
    if (!mkdtemp(dir)) die("mkdtemp: %s", strerror(errno));
    snprintf(tmp_dir, sizeof tmp_dir, "%s", dir);
    atexit(cleanup_tmp);
  }
  snprintf(src, sizeof src, "%s/src", dir);
  snprintf(xbuild_dir, sizeof xbuild_dir, "%s/xapian-build", dir);
  snprintf(xdir, sizeof xdir, "%s/xapian", dir);
  sy = synth_new();
  if (!sy) die("out of memory");

  /* ---- the KB: bench-kb's corpus, compiled (untimed context), or --kb ---- */
  if (kb_arg) {
    snprintf(kbpath, sizeof kbpath, "%s", kb_arg);
  } else {
    tshoot_compile_stats cs;
    tshoot_compile_options co = TSHOOT_COMPILE_OPTIONS_INIT;
    const char *srcv[1];
    snprintf(kbpath, sizeof kbpath, "%s/kb.db", dir);
    remove_tree(src);
    if (mkdir(src, 0777) != 0) die("%s: %s", src, strerror(errno));
    if (synth_write_corpus(sy, src, seed, n, per_file, NULL, NULL) != 0) die("%s: %s", src, strerror(errno));
    unlink(kbpath);
    memset(&cs, 0, sizeof cs);
    srcv[0] = src;
    t0 = now();
    if (tshoot_compile(&cs, srcv, 1, kbpath, &co) != TSHOOT_OK)
      die("tshoot_compile %s: %s", src, tshoot_error_last()->message);
    compile_s = now() - t0;
    if (cs.articles != n) die("compiled %zu articles, expected %zu", cs.articles, n);
  }

  /* ---- the engines ---- */
  memset(&e, 0, sizeof e);
  /* tshoot first: as in bench-kb, its open sets SQLite up for the process */
  if (tshoot_kb_open(&e.kb, kbpath, NULL) != TSHOOT_OK)
    die("tshoot_kb_open(%s): %s", kbpath, tshoot_error_last()->message);
  {
    tshoot_kb_options ko = TSHOOT_KB_OPTIONS_INIT;
    ko.query_budget_ms = 60000;
    if (tshoot_kb_open(&e.kb_ref, kbpath, &ko) != TSHOOT_OK)
      die("tshoot_kb_open(%s): %s", kbpath, tshoot_error_last()->message);
  }
  if (sqlite3_open_v2(kbpath, &e.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    die("%s: %s", kbpath, sqlite3_errmsg(e.db));
  exec_sql(e.db, "PRAGMA cache_size=-8192");    /* a tshoot_kb's default page cache */
  e.raw = prepare(e.db, "SELECT rowid, bm25(article_fts, " TS_FTS_WEIGHTS ") FROM article_fts"
                        " WHERE article_fts MATCH ? ORDER BY 2 LIMIT 10");
  tokenizer_open(&e.tk, e.db);
  load_names(&e);
  xapian_build(&xb, e.db, &e.tk, xbuild_dir, xdir);
  remove_tree(xbuild_dir);                      /* only the compacted copy is searched */
  e.xap = peer_xapian_searcher_new(xdir);
  if (!e.xap) die("%s: %s", xdir, peer_xapian_error());
  qs = make_queries(sy, seed, nq);

  printf("tshoot bench-peer  %s  libtshoot %s, SQLite %s, Xapian %s\n", date, tshoot_libversion(),
         sqlite3_libversion(), peer_xapian_version());
  printf("KB %s: %zu articles, %.1f MB", kbpath, xb.docs, file_size(kbpath) / 1e6);
  if (compile_s > 0) printf(" (bench-kb's corpus, seed %zu; tshoot_compile %s)", seed, fmt_time(tb[0], 32, compile_s));
  printf("\nXapian build (not in the search times): read + tokenize + add %s, commit %s, compact %s;"
         " %.1f MB (%.1f MB before compact)\n", fmt_time(tb[0], 32, xb.index_s),
         fmt_time(tb[1], 32, xb.commit_s), fmt_time(tb[2], 32, xb.compact_s), xb.bytes_after / 1e6,
         xb.bytes_before / 1e6);
  if (xb.docs == 0) die("the KB has no articles");

  /* ---- warm-up pass: answers, classes, overlaps ---- */
  cls = xmalloc(nq * sizeof *cls);
  for (i = 0; i < nq; i++) {
    unsigned ids[NE][10];
    int cnt[NE], k;
    tshoot_results *res = NULL;
    const char *ran;
    cnt[E_RAW] = run_raw(&e, &qs[i], ids[E_RAW]);
    cnt[E_XAPIAN] = run_xapian(&e, &qs[i], ids[E_XAPIAN]);
    cnt[E_TSHOOT] = run_tshoot(&e, &qs[i], &res);
    identical += tshoot_identical(&e, &qs[i], res);
    for (k = 0; k < cnt[E_TSHOOT] && k < 10; k++)
      ids[E_TSHOOT][k] = name_to_id(&e, tshoot_results_get(res, (size_t)k)->article);
    ran = tshoot_results_query(res);
    cls[i] = 0;
    for (s = 0; s < NE; s++) answered[s] += cnt[s] > 0;
    if (cnt[E_TSHOOT] > 0 && ran && strstr(ran, " OR ")) ts_or++;
    if (tshoot_results_truncated(res)) ts_cut++;
    if (cnt[E_RAW] > 0) {
      int m = cnt[E_RAW] < 10 ? cnt[E_RAW] : 10;
      cls[i] |= CL_RAW;
      if (cnt[E_TSHOOT] > 0 && !tshoot_results_suggestion(res) && !(ran && strstr(ran, " OR "))) {
        cls[i] |= CL_COMP;
        ncomp++;
      }
      for (s = 0; s < NE; s++) {
        if (s == E_RAW || cnt[s] <= 0) continue;
        ov_n[s] += (size_t)common_ids(ids[E_RAW], m, ids[s], cnt[s] < 10 ? cnt[s] : 10);
        same[s] += (cnt[s] < 10 ? cnt[s] : 10) == m && !memcmp(ids[E_RAW], ids[s], (size_t)m * sizeof(unsigned));
        ov_d[s] += (size_t)m;
        ov_q[s]++;
      }
    }
    tshoot_results_free(res);
  }

  /* ---- timed: per query and round, the engines in a random order ---- */
  for (s = 0; s < NE; s++) t[s] = xmalloc(nq * rounds * sizeof(double));
  load_average(load0, sizeof load0);
  t0 = now();
  for (r = 0; r < rounds; r++)
    for (i = 0; i < nq; i++) {
      int order[NE], j;
      synth_rng rng;
      synth_seed(&rng, (uint64_t)seed, (uint64_t)(r * nq + i) + 1);
      for (j = 0; j < NE; j++) order[j] = j;
      for (j = NE - 1; j > 0; j--) {
        int x = (int)(synth_next(&rng) % (uint64_t)(j + 1)), tmp = order[j];
        order[j] = order[x];
        order[x] = tmp;
      }
      for (j = 0; j < NE; j++) {
        double a0 = now();
        (void)run_engine(&e, order[j], &qs[i]);
        t[order[j]][r * nq + i] = now() - a0;
      }
    }
  load_average(load1, sizeof load1);
  printf("%zu queries (seed %zu) x %zu rounds after a warm-up pass, %.1f s; load average %s at start,"
         " %s at end\n", nq, seed, rounds, now() - t0, load0, load1);

  print_class("ALL queries", t, cls, nq, rounds, 0, answered);
  print_class("COMPARABLE (raw FTS5 answers; tshoot ran that AND query)", t, cls, nq, rounds, CL_COMP, NULL);
  printf("\nanswered: tshoot %zu (by its OR fallback %zu; cut by its time budget %zu), raw FTS5 %zu,"
         " Xapian %zu; comparable %zu\n", answered[E_TSHOOT], ts_or, ts_cut, answered[E_RAW],
         answered[E_XAPIAN], ncomp);
  printf("top-10 overlap with raw FTS5 (queries raw FTS5 answers): tshoot %.1f%% (%zu queries),"
         " Xapian %.1f%% (%zu queries)\n", ov_d[E_TSHOOT] ? 100.0 * ov_n[E_TSHOOT] / ov_d[E_TSHOOT] : 0,
         ov_q[E_TSHOOT], ov_d[E_XAPIAN] ? 100.0 * ov_n[E_XAPIAN] / ov_d[E_XAPIAN] : 0, ov_q[E_XAPIAN]);
  printf("the same top 10 as raw FTS5, in the same order: tshoot %zu of %zu, Xapian %zu of %zu\n",
         same[E_TSHOOT], ov_q[E_TSHOOT], same[E_XAPIAN], ov_q[E_XAPIAN]);
  printf("result identity, tshoot over its postings vs its FTS5 ranking (articles, order, scores,"
         " passages): %zu/%zu\n", identical, nq);

  if (smoke) {
    if (ov_d[E_XAPIAN] == 0) {
      fprintf(stderr, "bench-peer: no query answered by both raw FTS5 and Xapian: no overlap to compute\n");
      failed = 1;
    } else if (10 * ov_n[E_XAPIAN] < 9 * ov_d[E_XAPIAN]) {
      fprintf(stderr, "bench-peer: Xapian's top 10 shares under 90%% of raw FTS5's: its ranking drifted\n");
      failed = 1;
    }
    if (ov_d[E_TSHOOT] == 0) {
      fprintf(stderr, "bench-peer: no query answered by both raw FTS5 and tshoot\n");
      failed = 1;
    }
    if (identical != nq) {
      fprintf(stderr, "bench-peer: %zu of %zu queries differ between tshoot's two rankings\n",
              nq - identical, nq);
      failed = 1;
    }
  }

  for (s = 0; s < NE; s++) free(t[s]);
  free(cls);
  free_queries(qs, nq);
  for (i = 0; i < e.nnames; i++) free((char *)e.names[i].name);
  free(e.names);
  peer_xapian_searcher_free(e.xap);
  tokenizer_close(&e.tk);
  sqlite3_finalize(e.raw);
  sqlite3_close(e.db);
  tshoot_kb_close(e.kb);
  tshoot_kb_close(e.kb_ref);
  synth_free(sy);
  return failed;
}
