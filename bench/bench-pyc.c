/*
** bench-pyc: the C side of bench/bench-python.py. It times, through the public
** API only, exactly what the Python benchmark times through the binding, on
** the same KB and texts, and prints the figures as one JSON object.
**
**   bench-pyc --kb KB --queries FILE [--walks FILE] [--rounds R] [--passes P]
**             [--threads 1,2,4] [--seconds S] [--sqlite-no-memstatus]
**
**  search      each round is P passes (default 10) over the queries (one text
**              a line, taken verbatim): tshoot_search (limit 10), every field of every
**              result read (strlen of each string, as a caller that uses
**              them would), tshoot_results_free. Reported: the mean time of a
**              search in each round, in microseconds.
**  next        each round walks every text of --walks: a session
**              (TSHOOT_SESSION_NO_FIXES) described by the text, then
**              tshoot_session_next / tshoot_session_unknown until it concludes
**              (at most 40 steps). Reported per round: the mean time of a
**              tshoot_session_next, and of a whole step (next + unknown).
**  throughput  for each thread count T: T threads share the one tshoot_kb
**              and search the queries in turn for S seconds; searches per
**              second, all threads together.
**  cpu         the control: T threads that only compute (no memory, no
**              locks) for S seconds; what the machine gives T threads right
**              now (on shared machines 2 vCPUs are often not 2x one).
**
** --sqlite-no-memstatus calls sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0)
** before the KB is opened: SQLite's memory statistics take one process-wide
** mutex on every allocation, which is what keeps threads that search one KB
** from running in parallel (BENCHMARKS.md, "Python bindings"). The library
** does not do it (yet); this flag shows what it would change.
*/
#include "tshoot.h"

#include <sqlite3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "bench-pyc: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct lines {
  char **v;
  size_t n;
} lines;

static void read_lines(lines *out, const char *path)
{
  FILE *f = fopen(path, "r");
  char buf[65536];
  size_t cap = 0;
  if (!f) die("cannot open %s", path);
  out->v = NULL;
  out->n = 0;
  while (fgets(buf, sizeof buf, f)) {
    size_t len = strlen(buf);
    if (len && buf[len - 1] == '\n') buf[--len] = '\0';
    if (!len) continue;
    if (out->n == cap) {
      cap = cap ? cap * 2 : 64;
      out->v = realloc(out->v, cap * sizeof *out->v);
      if (!out->v) die("out of memory");
    }
    out->v[out->n] = strdup(buf);
    if (!out->v[out->n]) die("out of memory");
    out->n++;
  }
  fclose(f);
  if (!out->n) die("%s: no lines", path);
}

static void check(int rc, const char *what)
{
  if (rc != TSHOOT_OK) die("%s: %s", what, tshoot_error_last()->message);
}

/* One search and everything a caller reads from it; returns a checksum. */
static size_t one_search(tshoot_kb *kb, const char *text)
{
  tshoot_search_options o = TSHOOT_SEARCH_OPTIONS_INIT;
  tshoot_results *r = NULL;
  size_t sum = 0, n, i;
  const char *sug;
  o.limit = 10;
  check(tshoot_search(&r, kb, text, strlen(text), &o), "search");
  n = tshoot_results_count(r);
  for (i = 0; i < n; i++) {
    const tshoot_result *x = tshoot_results_get(r, i);
    sum += strlen(x->article) + strlen(x->title) + strlen(x->snippet) +
           (x->file ? strlen(x->file) : 0) + (size_t)x->line + (x->score > 0);
  }
  sug = tshoot_results_suggestion(r);
  sum += (sug ? strlen(sug) : 0) + strlen(tshoot_results_query(r)) +
         (size_t)tshoot_results_truncated(r);
  tshoot_results_free(r);
  return sum;
}

/* One diagnosis walk: adds the time of every next and of every step. */
static void one_walk(tshoot_kb *kb, const char *text, double *t_next, double *t_step,
                     size_t *steps)
{
  tshoot_session_options so = TSHOOT_SESSION_OPTIONS_INIT;
  tshoot_session *s = NULL;
  const tshoot_step *st;
  int i;
  so.flags = TSHOOT_SESSION_NO_FIXES;
  check(tshoot_session_new(&s, kb, &so), "session");
  check(tshoot_session_describe(s, text, strlen(text)), "describe");
  for (i = 0; i < 40; i++) {
    double t0 = now(), t1, t2;
    check(tshoot_session_next(&st, s), "next");
    t1 = now();
    if (st->kind == TSHOOT_STEP_CONCLUDE || st->kind == TSHOOT_STEP_INCONCLUSIVE) {
      *t_next += t1 - t0;
      *t_step += t1 - t0;
      ++*steps;
      break;
    }
    if (st->kind != TSHOOT_STEP_ASK) die("a fix step in a NO_FIXES session");
    check(tshoot_session_unknown(s, st->question), "unknown");
    t2 = now();
    *t_next += t1 - t0;
    *t_step += t2 - t0;
    ++*steps;
  }
  tshoot_session_free(s);
}

typedef struct worker {
  tshoot_kb *kb;
  const lines *q;
  size_t start;
  double seconds;
  size_t done;
  size_t sum;
} worker;

static void *cpu_loop(void *p)
{
  worker *w = p;
  double end = now() + w->seconds;
  volatile unsigned long x = 0;
  do {
    for (unsigned long i = 0; i < 100000; i++) x += i;
    w->done++;
  } while (now() < end);
  w->sum += x & 1;
  return NULL;
}

/* T threads running `fn` for `seconds`: operations per second. */
static double run_threads(int t, void *(*fn)(void *), tshoot_kb *kb, const lines *q,
                          double seconds, size_t *sum)
{
  worker *w = calloc((size_t)t, sizeof *w);
  pthread_t *th = calloc((size_t)t, sizeof *th);
  size_t total = 0;
  double t0;
  int k;
  if (!w || !th) die("out of memory");
  t0 = now();
  for (k = 0; k < t; k++) {
    w[k] = (worker){kb, q, (size_t)k * q->n / (size_t)t, seconds, 0, 0};
    if (pthread_create(&th[k], NULL, fn, &w[k])) die("pthread_create");
  }
  for (k = 0; k < t; k++) {
    pthread_join(th[k], NULL);
    total += w[k].done;
    *sum += w[k].sum;
  }
  t0 = (double)total / (now() - t0);
  free(w);
  free(th);
  return t0;
}

static void *search_loop(void *p)
{
  worker *w = p;
  double end = now() + w->seconds;
  size_t i = w->start;
  do {
    for (int k = 0; k < 16; k++) {
      w->sum += one_search(w->kb, w->q->v[i % w->q->n]);
      i++;
      w->done++;
    }
  } while (now() < end);
  return NULL;
}

int main(int argc, char **argv)
{
  const char *kb_path = NULL, *qpath = NULL, *wpath = NULL, *tlist = "1,2,4";
  int rounds = 5, passes = 10;
  double seconds = 2;
  lines q, walks = {NULL, 0};
  tshoot_kb *kb = NULL;
  size_t sum = 0, i;
  int r, a;

  for (a = 1; a < argc; a++) {
    const char *o = argv[a];
    if (!strcmp(o, "--sqlite-no-memstatus")) {
      if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
        die("sqlite3_config(SQLITE_CONFIG_MEMSTATUS) failed: SQLite is already initialized");
      continue;
    }
    if (a + 1 >= argc) die("%s needs a value (see the comment at the top of bench-pyc.c)", o);
    if (!strcmp(o, "--kb")) kb_path = argv[++a];
    else if (!strcmp(o, "--queries")) qpath = argv[++a];
    else if (!strcmp(o, "--walks")) wpath = argv[++a];
    else if (!strcmp(o, "--rounds")) rounds = atoi(argv[++a]);
    else if (!strcmp(o, "--passes")) passes = atoi(argv[++a]);
    else if (!strcmp(o, "--threads")) tlist = argv[++a];
    else if (!strcmp(o, "--seconds")) seconds = atof(argv[++a]);
    else die("unknown option %s", o);
  }
  if (!kb_path || !qpath) die("usage: bench-pyc --kb KB --queries FILE [--walks FILE] "
                              "[--rounds R] [--passes P] [--threads 1,2,4] [--seconds S]");
  if (rounds < 1) rounds = 1;
  if (passes < 1) passes = 1;
  read_lines(&q, qpath);
  if (wpath) read_lines(&walks, wpath);
  check(tshoot_kb_open(&kb, kb_path, NULL), "open");

  /* warm up: the page cache, the connection pool, the model */
  for (i = 0; i < q.n; i++) sum += one_search(kb, q.v[i]);
  if (walks.n) {
    double a0 = 0, a1 = 0;
    size_t n0 = 0;
    one_walk(kb, walks.v[0], &a0, &a1, &n0);
  }

  printf("{\"search_us\": [");
  for (r = 0; r < rounds; r++) {
    double t0 = now();
    for (int p = 0; p < passes; p++)
      for (i = 0; i < q.n; i++) sum += one_search(kb, q.v[i]);
    printf("%s%.3f", r ? ", " : "", (now() - t0) / (double)q.n / passes * 1e6);
  }
  printf("], \"queries\": %zu", q.n);

  if (walks.n) {
    size_t steps = 0;
    printf(", \"next_us\": [");
    for (r = 0; r < rounds; r++) {
      double t_next = 0, t_step = 0;
      steps = 0;
      for (i = 0; i < walks.n; i++) one_walk(kb, walks.v[i], &t_next, &t_step, &steps);
      printf("%s[%.3f, %.3f]", r ? ", " : "", t_next / (double)steps * 1e6,
             t_step / (double)steps * 1e6);
    }
    printf("], \"steps\": %zu", steps);
  }

  {
    char *list = strdup(tlist), *tok, *save = NULL;
    double tp[16], cpu[16];
    int ts[16], nt = 0, k;
    if (!list) die("out of memory");
    for (tok = strtok_r(list, ",", &save); tok && nt < 16; tok = strtok_r(NULL, ",", &save)) {
      int t = atoi(tok);
      if (t < 1) continue;
      ts[nt] = t;
      tp[nt] = run_threads(t, search_loop, kb, &q, seconds, &sum);
      cpu[nt] = run_threads(t, cpu_loop, kb, &q, seconds, &sum);
      nt++;
    }
    free(list);
    printf(", \"throughput\": {");
    for (k = 0; k < nt; k++) printf("%s\"%d\": %.1f", k ? ", " : "", ts[k], tp[k]);
    printf("}, \"cpu\": {");
    for (k = 0; k < nt; k++) printf("%s\"%d\": %.1f", k ? ", " : "", ts[k], cpu[k]);
  }
  printf("}, \"checksum\": %zu}\n", sum);

  tshoot_kb_close(kb);
  for (i = 0; i < q.n; i++) free(q.v[i]);
  free(q.v);
  for (i = 0; i < walks.n; i++) free(walks.v[i]);
  free(walks.v);
  return 0;
}
